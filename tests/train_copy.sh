#!/bin/sh
# Acceptance check: a 2-layer Transformer trained on `copy` with the default
# settings reaches >= 99% string accuracy on held-out strings at the training
# length; then `seqbench eval` on the saved model reports longer lengths too.
set -eu
bin=${SEQ_BINARY:-build/seqbench}
dir=$(mktemp -d "${TMPDIR:-/tmp}/seqbench-copy-XXXXXX")
trap 'rm -rf "$dir"' EXIT

"$bin" train --task copy --arch transformer --max-len 16 --out "$dir/result.json" --save "$dir/model" >"$dir/train.txt"
cat "$dir/train.txt"
acc=$(awk '$1 == 16 { print $2 }' "$dir/train.txt")
echo "string accuracy at the training length: $acc"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.99) }' || { echo "FAIL: below 0.99"; echo "0 passed, 1 failed"; exit 1; }

"$bin" eval --model "$dir/model" --lengths 16,24,32 --seqs 200 >"$dir/eval.txt"
cat "$dir/eval.txt"
rows=$(awk '$1 ~ /^[0-9]+$/' "$dir/eval.txt" | wc -l)
[ "$rows" -eq 3 ] || { echo "FAIL: eval printed $rows rows"; echo "1 passed, 1 failed"; exit 1; }
echo "2 passed, 0 failed"
