#!/bin/sh
# One task of a job array from scripts/slurm/submit.sh: runs the cell on line
# $SLURM_ARRAY_TASK_ID (from 0) of the list, with --threads THREADS, or with
# every CPU Slurm gave the job when THREADS is "node" (the timing cells).
# SEEDS: the run's seeds when submit.sh had --seeds (4,5,6), else "-".
#   usage: cell.sh LIST SEQBENCH PROFILE RESULTS THREADS SEEDS
set -eu
[ $# = 6 ] || { echo "cell.sh: usage: cell.sh LIST SEQBENCH PROFILE RESULTS THREADS SEEDS" >&2; exit 2; }
list=$1 bin=$2 profile=$3 results=$4 threads=$5 seeds=$6
[ "$seeds" != - ] || seeds=
i=${SLURM_ARRAY_TASK_ID:?cell.sh: not a task of a job array (no SLURM_ARRAY_TASK_ID)}
line=$(sed -n "$((i + 1))p" "$list")
[ -n "$line" ] || { echo "cell.sh: no line $i in $list" >&2; exit 2; }
tab=$(printf '\t')
IFS=$tab read -r spec experiment cell seed result est _ <<LINE
$line
LINE
if [ "$threads" = node ]; then
    threads=${SLURM_CPUS_ON_NODE:-${SLURM_CPUS_PER_TASK:-1}}
fi
# waiting OpenMP threads sleep rather than spin, as in make reproduce
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
echo "cell.sh: $experiment/$cell seed $seed on $(hostname -s), $threads threads (estimate ${est}s) -> $result"
exec "$bin" experiment --spec "$spec" --profile "$profile" --results "$results" \
    --threads "$threads" --cell "$cell" --seed "$seed" ${seeds:+--seeds "$seeds"}
