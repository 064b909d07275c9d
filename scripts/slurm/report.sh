#!/bin/sh
# The last job of scripts/slurm/submit.sh, after every cell (whether it ran or
# failed): REPORT.md from the results, then the plots if gnuplot is there,
# as scripts/reproduce.sh makes them: the pictures go to RESULTS/plots/,
# beside the report that links them.
# SEEDS: the run's seeds when submit.sh had --seeds, else "-".
#   usage: report.sh SEQBENCH EXPERIMENTS PROFILE RESULTS PLOTS(1|0) SEEDS
set -eu
[ $# = 6 ] || { echo "report.sh: usage: report.sh SEQBENCH EXPERIMENTS PROFILE RESULTS PLOTS SEEDS" >&2; exit 2; }
bin=$1 experiments=$2 profile=$3 results=$4 plots=$5 seeds=$6
[ "$seeds" != - ] || seeds=
# the job runs a spooled copy of this script, in the repository (sbatch --chdir)
[ -d plots ] && [ -d experiments ] || {
    echo "report.sh: run from the repository, not $(pwd)" >&2
    exit 2
}
link=plots outdir=$results/plots
status=0
"$bin" report --experiments "$experiments" --results "$results" --profile "$profile" --plots "$link" \
    ${seeds:+--seeds "$seeds"} || status=1
echo "report: $results/REPORT.md"
[ "$plots" = 1 ] || exit $status
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "report.sh: gnuplot not found on $(hostname -s); plots not rendered" >&2
    exit $status
fi
# the plot scripts load plots/lib/ from the repository root and take the
# tables' and the pictures' directories as variables (plots/lib/common.gp)
mkdir -p "$outdir"
for gp in plots/*.gp; do
    gnuplot -e "results='$results'; outdir='$outdir'" "$gp" || status=1
done
echo "plots: $outdir/"
exit $status
