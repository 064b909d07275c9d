#!/bin/sh
# make reproduce's progress lines (scripts/reproduce.sh cell): cells that
# finish at the same moment, as make -j runs them, each advance the "k of n
# done" counter exactly once and the lines count up in order; a failed cell
# counts too. Counting the result files that existed made two cells ending
# together both print "2 of 79" and none "1 of 79" (issue 28).
#
# A stand-in for seqbench plays each cell: it waits until every cell has
# started, then all write their results at once, so the cells' progress
# lines race as closely as they can.
# usage: reproduce_progress.sh SOURCE_DIR
set -u
src=$(cd "${1:-.}" && pwd) || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seq_progress-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
n=8
mkdir -p "$tmp/gen" "$tmp/results" "$tmp/started"
cat >"$tmp/fake" <<'EOF'
#!/bin/sh
# fake seqbench experiment ... --results R --cell C ...: the runner's line, then the result, after the barrier
while [ $# -gt 0 ]; do
    case $1 in --results) results=$2; shift ;; --cell) cell=$2; shift ;; esac
    shift
done
: >"$results/../started/$cell"
i=0
while [ "$(ls "$results/../started" | wc -l)" -lt "$N_CELLS" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo "[1/1] probe/$cell seed 1: ok in 0 s; 1 of 1 done"
echo '{}' >"$results/$cell.json"
[ "$cell" != c3 ] || { echo "seqbench: the stand-in fails this cell"; exit 3; }
exit 0
EOF
chmod +x "$tmp/fake"
date +%s.%N >"$tmp/gen/start"
: >"$tmp/gen/done.tsv"
: >"$tmp/gen/todo.tsv"
for i in $(seq 1 $n); do printf '%s\t1\t0\n' "$tmp/results/c$i.json" >>"$tmp/gen/todo.tsv"; done
for i in $(seq 1 $n); do
    N_CELLS=$n sh "$src/scripts/reproduce.sh" cell "$tmp/fake" "$tmp/gen" smoke "$tmp/results" 2 spec.json probe \
        "c$i" 1 1 "$tmp/results/c$i.json" 2>>"$tmp/err" &
done
wait
pass=0
fail=0
check() { # condition-status message
    if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi
}
counts=$(sed -n 's/^reproduce: .*; \([0-9]*\) of '"$n"' done, ETA .*/\1/p' "$tmp/err" | paste -sd' ' -)
check "$([ "$counts" = "$(seq 1 $n | paste -sd' ' -)" ]; echo $?)" \
    "progress counts \"$counts\", expected 1 to $n once each in order; stderr:
$(cat "$tmp/err")"
grep -q "^reproduce: probe/c3 seed 1: failed (status 3" "$tmp/err"
check $? "the failed cell's line does not say it failed: $(cat "$tmp/err")"
grep -q "^reproduce: probe/c1 seed 1: ok in 0 s; " "$tmp/err"
check $? "a cell's line lacks the runner's outcome: $(cat "$tmp/err")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
