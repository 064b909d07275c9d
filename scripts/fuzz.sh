#!/bin/sh
# Runs libFuzzer targets built by `make fuzz`:
#   scripts/fuzz.sh BUILD_DIR SECONDS TARGET...
# Each target fuzzes for SECONDS on a scratch copy of tests/fuzz/corpus/<target>
# (the committed corpus grows only when a crashing input is added on purpose),
# FUZZ_JOBS targets at a time (default 1). Logs, the grown corpora and any
# crash/leak/timeout/oom inputs go to BUILD_DIR/fuzz/. Prints one line per
# target and exits 1 if any target found a crash.
set -eu

build=$1 seconds=$2
shift 2
jobs=${FUZZ_JOBS:-1}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$build/fuzz
mkdir -p "$out"

# Writes the fuzzer's exit status and wall-clock seconds to $out/$t/status.
run_one() {
    t=$1
    rm -rf "${out:?}/$t"
    mkdir -p "$out/$t/corpus" "$out/$t/artifacts"
    cp "$src/tests/fuzz/corpus/$t/"* "$out/$t/corpus/"
    dict=""
    [ -f "$src/tests/fuzz/$t.dict" ] && dict="-dict=$src/tests/fuzz/$t.dict"
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2086
    "$build/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/$t/artifacts/" $dict "$out/$t/corpus" >"$out/$t/log" 2>&1
    echo "$? $(($(date +%s) - start))" >"$out/$t/status"
}

# One line per target; false if it crashed (or leaked, timed out, ran out of memory).
summary() {
    t=$1 log=$out/$1/log
    read -r rc secs <"$out/$t/status"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    crashes=$(find "$out/$t/artifacts" -type f | wc -l)
    corpus=$(find "$out/$t/corpus" -type f | wc -l)
    seeds=$(find "$src/tests/fuzz/corpus/$t" -type f | wc -l)
    status=""
    [ "$rc" = 0 ] && [ "$crashes" = 0 ] || status="  FAILED (exit $rc): $(find "$out/$t/artifacts" -type f | head -n 1), log $log"
    printf '%-17s %5ss %11s execs %7s exec/s  corpus %3s -> %-5s crashes %s%s\n' "$t" "$secs" "${execs:-?}" \
        "${rate:-?}" "$seeds" "$corpus" "$crashes" "$status"
    [ -z "$status" ]
}

failed=0
while [ $# -gt 0 ]; do
    batch=""
    while [ $# -gt 0 ] && [ "$(echo $batch | wc -w)" -lt "$jobs" ]; do
        batch="$batch $1"
        shift
    done
    for t in $batch; do run_one "$t" & done
    wait
    for t in $batch; do summary "$t" || failed=1; done
done
[ "$failed" = 0 ] || echo "fuzz: crashes found; reproduce with $build/<target> <input>, then add the input to tests/fuzz/corpus/<target>/" >&2
exit "$failed"
