#!/bin/sh
# Acceptance check: a 2-layer Transformer trained on `copy` with the default
# settings (4000 steps of batch 32, lengths 1..16) learns to copy: string
# accuracy >= 0.95 on 1000 held-out strings of the training length. Then
# `seqbench eval` reloads the saved model, scores it at the training length
# again and at longer lengths.
#
# Why 0.95 and not 0.99: OpenBLAS picks its kernels per CPU, so the training
# trajectory itself differs between machines (losses differ from the first
# logged step, by tenths at step 1000), not only in the last digits. This
# command was run with seeds 1-3, unforced on a Zen 5 (Cooperlake kernels)
# and with OPENBLAS_CORETYPE forced by hand to SkylakeX, Haswell, Zen and
# Sandybridge; string accuracy at length 16 (1000 strings):
#                 seed 1  seed 2  seed 3
#   Cooperlake    0.998   0.995   0.997
#   SkylakeX      0.992   0.987   0.998
#   Haswell, Zen  0.986   1.000   1.000   (identical runs: same kernels)
#   Sandybridge   0.986   0.997   0.989
# Zen is what a Zen 3 gets; there seed 1 gives 0.986, as a real Zen 3 does.
# After SiLU moved to the polynomial exp of core/vexp.h (a last-bit change
# that again moves every trajectory), the same runs gave:
#   Cooperlake    0.992   0.997   0.990
#   SkylakeX      0.998   0.998   0.998
#   Haswell, Zen  0.992   0.998   0.995   (Haswell: seed 1 run, identical to Zen)
#   Sandybridge   1.000   0.999   0.994
# The seeds stand in for the trajectories of CPUs not tried. The worst of
# all 27 runs, 0.986, is 3.6 points (36 strings) above the threshold: its error rate could
# grow 3.5-fold before the test fails. Training that goes wrong falls below:
# the same recipe in 2000 steps reaches 0.905 (seed 1, Cooperlake), a model
# that has not learnt to copy scores ~0.
set -eu
bin=${SEQ_BINARY:-build/seqbench}
threshold=0.95
dir=$(mktemp -d "${TMPDIR:-/tmp}/seqbench-copy-XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() { echo "FAIL: $1"; echo "$2 passed, 1 failed"; exit 1; }

# the defaults of today, spelled out so the runs measured above stay the runs
# this test makes if a default moves
"$bin" train --task copy --arch transformer --layers 2 --d-model 64 --heads 4 --alphabet 26 --min-len 1 --max-len 16 \
    --steps 4000 --batch 32 --lr 0.003 --seed 1 --out "$dir/result.json" --save "$dir/model" >"$dir/train.txt"
cat "$dir/train.txt"
acc=$(awk '$1 == 16 { print $2 }' "$dir/train.txt")
echo "string accuracy at the training length: $acc (threshold $threshold)"
awk -v a="$acc" -v t="$threshold" 'BEGIN { exit !(a != "" && a >= t) }' || fail "below $threshold" 0

# The reloaded checkpoint must score like the trained model on (the first 200
# of) the same held-out strings; a checkpoint that does not reload to the
# trained weights scores ~0, so a loose bound suffices.
"$bin" eval --model "$dir/model" --lengths 16,24,32 --seqs 200 >"$dir/eval.txt"
cat "$dir/eval.txt"
rows=$(awk '$1 ~ /^[0-9]+$/' "$dir/eval.txt" | wc -l)
[ "$rows" -eq 3 ] || fail "eval printed $rows rows" 1
acc=$(awk '$1 == 16 { print $2 }' "$dir/eval.txt")
awk -v a="$acc" 'BEGIN { exit !(a != "" && a >= 0.9) }' || fail "reloaded model scores $acc at length 16" 2
echo "3 passed, 0 failed"
