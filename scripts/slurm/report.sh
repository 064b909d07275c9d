#!/bin/sh
# The last job of scripts/slurm/submit.sh, after every cell (whether it ran or
# failed): REPORT.md from the results, and the plots if gnuplot is there.
#   usage: report.sh SEQBENCH PROFILE RESULTS PLOTS(1|0)
set -eu
[ $# = 4 ] || { echo "report.sh: usage: report.sh SEQBENCH PROFILE RESULTS PLOTS" >&2; exit 2; }
bin=$1 profile=$2 results=$3 plots=$4
"$bin" report --experiments experiments --results "$results" --profile "$profile"
echo "report: $results/REPORT.md"
