#!/bin/sh
# make reproduce: runs every experiments/*.json at PROFILE (quick by default),
# gathers results/REPORT.md, renders plots/*.png and *.svg with gnuplot.
# Finished cells are skipped, so an interrupted run resumes where it stopped;
# delete results/<experiment>/ to rerun one.
set -eu
bin=${1:-build/seqbench}
# waiting OpenMP threads sleep instead of spinning: a busy machine otherwise
# slows training ~10x (README, Threads)
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
profile=${PROFILE:-quick}
# cells side by side, one per core: the models are too small for a second
# thread to pay (README, experiment --jobs)
jobs=${REPRODUCE_JOBS:-$(nproc 2>/dev/null || echo 1)}
cd "$(dirname "$0")/.."
status=0
for spec in experiments/*.json; do
    "$bin" experiment --spec "$spec" --profile "$profile" --results results --jobs "$jobs" || status=1
done
"$bin" report --experiments experiments --results results --profile "$profile"
if command -v gnuplot >/dev/null 2>&1; then
    for gp in plots/*.gp; do gnuplot "$gp" || status=1; done
else
    echo "seqbench: gnuplot not found; plots not rendered (scripts/install-deps.sh installs it)" >&2
fi
echo "report: results/REPORT.md" >&2
exit $status
