#!/bin/sh
# The last job of scripts/slurm/submit.sh, after every cell (whether it ran or
# failed): REPORT.md from the results, then the plots if gnuplot is there.
#   usage: report.sh SEQBENCH EXPERIMENTS PROFILE RESULTS PLOTS(1|0)
set -eu
[ $# = 5 ] || { echo "report.sh: usage: report.sh SEQBENCH EXPERIMENTS PROFILE RESULTS PLOTS" >&2; exit 2; }
bin=$1 experiments=$2 profile=$3 results=$4 plots=$5
# the job runs a spooled copy of this script, in the repository (sbatch --chdir)
[ -d plots ] && [ -d experiments ] || {
    echo "report.sh: run from the repository, not $(pwd)" >&2
    exit 2
}
status=0
"$bin" report --experiments "$experiments" --results "$results" --profile "$profile" || status=1
echo "report: $results/REPORT.md"
[ "$plots" = 1 ] || exit $status
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "report.sh: gnuplot not found on $(hostname -s); plots not rendered" >&2
    exit $status
fi
# The plot scripts read results/ and write plots/, from the repository root.
# For another results directory they run, as in scripts/reproduce.sh, in a
# stage whose results/ is it, and the images go to RESULTS/plots/.
if [ "$results" = "$(pwd)/results" ]; then
    for gp in plots/*.gp; do gnuplot "$gp" || status=1; done
else
    top=$(pwd)
    stage=$results/.slurm/plots-run
    rm -rf "$stage"
    mkdir -p "$stage/plots" "$results/plots"
    ln -s "$results" "$stage/results"
    for f in plots/*; do ln -s "$top/$f" "$stage/$f"; done
    for gp in plots/*.gp; do (cd "$stage" && gnuplot "$gp") || status=1; done
    for f in "$stage"/plots/*; do [ -L "$f" ] || mv "$f" "$results/plots/"; done
    rm -rf "$stage"
    echo "plots: $results/plots/"
fi
exit $status
