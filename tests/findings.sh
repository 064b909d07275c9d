#!/bin/sh
# The README's findings block is what scripts/findings.sh makes from the
# shipped results/REPORT.md (so no finding a reader meets first is typed by
# hand), and every figure in it is in that report.
#   sh tests/findings.sh [SOURCE_DIR]
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2
fails=0
fail() { echo "FAIL $*" >&2; fails=$((fails + 1)); }
[ -s results/REPORT.md ] || { echo "FAIL no shipped results/REPORT.md" >&2; exit 1; }
sh scripts/findings.sh --check README.md results/REPORT.md || fail "README.md's findings block is stale (make findings)"
# each row's figures column, as the report's summary has it
block=$(sed -n '/^<!-- findings:/,/^<!-- \/findings -->/p' README.md)
rows=$(printf '%s\n' "$block" | grep -c '^| [^e-]' || true)
[ "$rows" -gt 0 ] || fail "the findings block has no claim rows"
printf '%s\n' "$block" | grep '^| ' | grep -v '^| experiment |' | awk -F ' \\| ' '{ print $4 }' | while IFS= read -r figs; do
    [ "$figs" = "–" ] && continue
    grep -qF -- "$figs" results/REPORT.md || { echo "FAIL figures not in results/REPORT.md: $figs" >&2; exit 1; }
done || fails=$((fails + 1))
# a smoke report must never be shipped: its verdicts test the pipeline
grep -q "Smoke profile" results/REPORT.md && fail "results/REPORT.md is a smoke run's"
[ "$fails" = 0 ] && echo "findings: README's block matches results/REPORT.md ($rows rows)"
exit $((fails > 0))
