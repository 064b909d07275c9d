#!/usr/bin/env python3
"""A model trained on text by seqbench, scored by Hugging Face `transformers` (issue 31).

`seqbench train --task lm --save DIR` on a small text (the GPL-3 that
Debian's base-files keeps in /usr/share/common-licenses, copied into the work
directory), a 2-layer d_model 64 Transformer (llama) and a Mamba on bytes,
and the Transformer on a 320-token BPE vocabulary train learns from the
training split, a few hundred steps on one thread. Then for each:
  - `seqbench eval --model DIR` scores the test split: mean loss in nats per
    token (= per byte) and bits per byte;
  - `seqbench sample --split test` gives the same test windows (the same
    token ids: sample learns the same merges from the same text and seed),
    which the checkpoint loaded with AutoModelForCausalLM (256 byte ids, or
    the BPE's 320) scores at every position;
  - the two mean losses must agree within LOSS_TOL relative. Both sides run
    float32 models; the loss is averaged in float64 on this side, so what is
    left is the float32 rounding of two implementations, averaged over 12,800
    positions: 6e-10 (llama) and 1.5e-9 (mamba) relative when first run.

Runs from run.py (`make interop`) or alone:
    build/interop-venv/bin/python scripts/interop/lm_check.py --seqbench build/seqbench
"""

import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TEXT = "/usr/share/common-licenses/GPL-3"   # base-files: on every Debian system; 35 KB, 5 blocks of 8 KiB
SEED = 1
N = 64            # window length (max-len)
WINDOWS = 200     # test windows scored on both sides (12,800 positions)
LOSS_TOL = 1e-5   # relative, on the mean loss
MODELS = [        # (label, arch options, tokenizer options, steps, expected transformers class)
    ("transformer", ["--arch", "transformer", "--layers", "2", "--d-model", "64"], [], 300, "LlamaForCausalLM"),
    ("mamba", ["--arch", "mamba", "--layers", "2", "--d-model", "64"], [], 300, "MambaForCausalLM"),
    # a BPE vocabulary learnt by train from the training split: sample gives the same ids from the same text and seed
    ("transformer-bpe", ["--arch", "transformer", "--layers", "2", "--d-model", "64"], ["--bpe", 320], 300,
     "LlamaForCausalLM"),
]


def hf_mean_loss(model, insts, chunk=50):
    """Mean cross-entropy (nats) at the scored positions, summed in float64."""
    import torch
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(insts), chunk):
            part = insts[i:i + chunk]
            ids = torch.tensor([x["tokens"] for x in part], dtype=torch.long)
            logp = torch.log_softmax(model(ids, use_cache=False).logits.to(torch.float64), dim=-1)
            for b, x in enumerate(part):
                total -= logp[b, x["scored"], x["targets"]].sum().item()
                count += len(x["scored"])
    return total / count, count


def check_model(rep, sb, work, text, label, aopts, tokopts, steps, expect):
    from common import check_load, one_line
    tag = f"lm [{label}, {steps} steps, n={N}]"
    d = os.path.join(work, f"lm-{label}")
    topts = ["--task", "lm", "--data", text, "--max-len", N, *tokopts]
    try:
        sb.run("train", *topts, *aopts, "--steps", steps, "--batch", 16, "--seed", SEED, "--threads", 1,
               "--val-seqs", 0, "--eval-seqs", 10, "--save", d)
    except Exception as e:  # noqa: BLE001
        return rep.add(f"{tag}: train --save", False, one_line(e))
    model = check_load(rep, f"{tag}: from_pretrained", d, expect)
    if model is None:
        return
    out = os.path.join(work, f"lm-eval-{label}.json")
    sb.run("eval", "--model", d, "--lengths", N, "--seqs", WINDOWS, "--seed", SEED, "--threads", 1, "--out", out)
    with open(out) as f:
        ev = json.load(f)["metrics"]["eval"][0]
    j = json.loads(sb.run("sample", *topts, "--length", N, "--seqs", WINDOWS, "--seed", SEED, "--split", "test"))
    hf_loss, count = hf_mean_loss(model, j["instances"])
    rel = abs(hf_loss - ev["loss"]) / abs(ev["loss"])
    rep.add(f"{tag}: test loss through transformers = `seqbench eval`", rel <= LOSS_TOL,
            f"{WINDOWS} test windows, {count} positions: {hf_loss:.7f} vs {ev['loss']:.7f} nats/token "
            f"(rel {rel:.1e} <= {LOSS_TOL:g}; seqbench {ev['bits_per_byte']:.5f} bits/byte)",
            rel=rel, transformers_loss=hf_loss, seqbench_loss=ev["loss"], seqbench_bits_per_byte=ev["bits_per_byte"],
            vocab_size=j["vocab_size"], positions=count)


def run(rep, sb, work):
    if not os.path.isfile(TEXT):
        print(f"lm: skipped: {TEXT} is missing (Debian's base-files keeps it)")
        return
    text = os.path.join(work, "gpl-3.txt")  # a copy: the run names a file of its own, as a user would
    shutil.copyfile(TEXT, text)
    for label, aopts, tokopts, steps, expect in MODELS:
        try:
            check_model(rep, sb, work, text, label, aopts, tokopts, steps, expect)
        except Exception as e:  # noqa: BLE001 - recorded; the other model still runs
            from common import one_line
            rep.add(f"lm [{label}]: ran to the end", False, f"{type(e).__name__}: {one_line(e)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqbench", default="build/seqbench")
    ap.add_argument("--work", default="build/interop-work/lm", help="scratch directory (recreated)")
    args = ap.parse_args(argv)
    from common import Report, Seqbench, fresh_dir, quiet_library
    quiet_library()
    fresh_dir(args.work)
    rep = Report()
    t0 = time.time()
    run(rep, Seqbench(args.seqbench, args.work), args.work)
    return rep.finish(time.time() - t0)


if __name__ == "__main__":
    sys.exit(main())
