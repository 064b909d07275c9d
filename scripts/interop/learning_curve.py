#!/usr/bin/env python3
"""seqbench's training against PyTorch's on the same start and data (`make learning-curve`, issue 29).

A slow learner must never be a silent bug: seqbench's Transformer and the real
`transformers.LlamaForCausalLM` are trained side by side on the same task and
their learning curves compared.  Everything that decides a trajectory is the same:

 - the initial weights: `seqbench train --steps 0 --save DIR` writes the model as
   initialised by the seed (Hugging Face layout), and from_pretrained(DIR) loads it;
 - the batches, in order: `seqbench sample --split train` writes the instances
   train draws from its training stream, one after the other; step k's batch is
   instances k*B .. k*B+B-1 (tasks/train.c draws B instances per step from one
   stream, whose instances do not depend on the batching: tasks/sample.c).  This
   needs instances of one length, so the task is trained with min-len = max-len;
 - the loss: cross-entropy averaged over the scored positions of the batch only
   (the task's mask; models/layers/cross_entropy.h);
 - AdamW (tasks/train.c adamw_update): betas, eps 1e-8, bias correction, weight
   decay decoupled and only on matrices (every tensor of rank >= 2: the tied
   embedding and the projections; not the RMSNorm weights);
 - the learning rate (tasks/train.c lr_at): step s (from 0) gets lr (s+1)/warmup
   during warmup, then cosine from lr to lr x min-lr-ratio over the remaining steps;
 - the clipping: the gradients are scaled by clip / |g| when the global norm |g| > clip.

The only differences are the order of floating-point operations (OpenBLAS and
seqbench's kernels against PyTorch's).  Those are far below the loss's scale at the
first steps, and grow where training is chaotic, so the verdict reads:

 1. the first FIRST steps, step by step: |seqbench - PyTorch| / PyTorch <= FIRST_TOL;
    (the whole curve's largest relative difference is printed and recorded too);
 2. the plateau (steps FIRST+1 .. 2/3 of the earlier step that leaves it): the
    two mean losses within PLATEAU_TOL (relative);
 3. leaving the plateau: the first step at which each curve (seqbench's loss_curve
    windows, the same windows of PyTorch's losses) is below half the plateau,
    within LEAVE_TOL of each other (relative to the earlier);
 4. the end: both last windows below END_LOSS, and both models exact on at least
    END_ACC of the validation strings at the last check.

Prints the curves side by side and a verdict line; writes a JSON summary
atomically; exits 0 when they agree, 1 when not.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import Seqbench, fresh_dir, quiet_library, write_json_atomic  # noqa: E402

# Tolerances.  FIRST_TOL: same weights, same batches, float order only.  Measured
# (copy 16, seed 1): at most 8e-8 over the first 20 steps (1e-5 over all 400 windows),
# so 1e-5 leaves a hundredfold for other BLAS kernels, while an error in the recipe
# shows from step 2: a warmup one step late (lr s/warmup instead of (s+1)/warmup)
# gives 1.2e-4 at step 2 and 2.2e-3 at step 15.  PLATEAU_TOL: the plateau is near the
# symbols' entropy (ln 26 = 3.26 on copy); 2% of it is 0.065, a tenth of the way
# from the plateau to the loss where the drop is judged.  LEAVE_TOL: the drop is
# where small differences are amplified (tests/train_copy.sh: other BLAS kernels alone
# move copy's losses by tenths at step 1000); 25%, as issue 29 asks.  END_LOSS and
# END_ACC: a model that has learnt to copy (the plateau is ~3.2).
FIRST = 20
FIRST_TOL = 1e-5
PLATEAU_TOL = 0.02
LEAVE_TOL = 0.25
END_LOSS = 0.05
END_ACC = 0.95


def lr_at(step, a):
    """tasks/train.c lr_at."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    span = a.steps - a.warmup
    progress = (step - a.warmup) / span if span > 0 else 1
    floor = a.lr * a.min_lr_ratio
    return floor + (a.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def task_args(a):
    return ["--task", "copy", "--alphabet", a.alphabet, "--min-len", a.length, "--max-len", a.length]


def train_args(a, steps, warmup=None):
    return ["train", "--arch", "transformer", "--layers", a.layers, "--d-model", a.d_model, *task_args(a),
            "--steps", steps, "--batch", a.batch, "--lr", a.lr, "--warmup", a.warmup if warmup is None else warmup,
            "--schedule", "cosine", "--min-lr-ratio", a.min_lr_ratio, "--weight-decay", a.weight_decay,
            "--beta1", a.beta1, "--beta2", a.beta2, "--clip", a.clip, "--seed", a.seed, "--threads", 1]


def read_instances(path):
    with open(path) as f:
        s = json.load(f)
    T = s["T"]
    toks = torch.tensor([i["tokens"] for i in s["instances"]], dtype=torch.long)
    tgt = torch.full((len(s["instances"]), T), -100, dtype=torch.long)
    for n, i in enumerate(s["instances"]):
        tgt[n, i["scored"]] = torch.tensor(i["targets"], dtype=torch.long)
    return toks, tgt


def windows(losses, steps):
    """seqbench's loss_curve: the mean of each window of steps // 200 steps (at least 1), ending at its step."""
    every = max(1, steps // 200)
    out, acc = [], []
    for s, v in enumerate(losses):
        acc.append(v)
        if (s + 1) % every == 0 or s + 1 == steps:
            out.append({"step": s + 1, "loss": sum(acc) / len(acc)})
            acc = []
    return out


@torch.no_grad()
def validate(model, toks, tgt):
    """tasks/eval.c: mean cross-entropy over the scored tokens; a string is right when every scored argmax is."""
    model.eval()
    logits = model(input_ids=toks, use_cache=False).logits.double()
    model.train()
    m = tgt != -100
    loss = F.cross_entropy(logits[m], tgt[m], reduction="mean").item()
    right = (logits.argmax(-1) == tgt) | ~m
    return loss, right.all(dim=1).double().mean().item()


def train_torch(a, init_dir, toks, tgt, vtoks, vtgt, val_every):
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM.from_pretrained(init_dir, dtype=torch.float32)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]  # the tied embedding once
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": a.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=1e-8, foreach=False)
    B, losses, val, norms = a.batch, [], [], []
    for step in range(a.steps):
        ids, y = toks[step * B:(step + 1) * B], tgt[step * B:(step + 1) * B]
        logits = model(input_ids=ids, use_cache=False).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = math.sqrt(sum(p.grad.double().pow(2).sum().item() for p in params))
        if a.clip > 0 and gn > a.clip:
            for p in params:
                p.grad.mul_(a.clip / gn)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        opt.step()
        losses.append(loss.item())
        norms.append(gn)
        if val_every and ((step + 1) % val_every == 0 or step + 1 == a.steps):
            vl, acc = validate(model, vtoks, vtgt)
            val.append({"step": step + 1, "loss": vl, "string_acc": acc})
    return losses, val, norms


def first_below(curve, level):
    return next((p["step"] for p in curve if p["loss"] < level), None)


def mean_over(curve, lo, hi):
    v = [p["loss"] for p in curve if lo < p["step"] <= hi]
    return sum(v) / len(v) if v else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqbench", default="build/seqbench")
    ap.add_argument("--work", default="build/learning-curve-work", help="scratch directory (recreated)")
    ap.add_argument("--out", default="results/learning-curve.json")
    ap.add_argument("--length", type=int, default=16, help="copy: string length (min-len = max-len)")
    ap.add_argument("--alphabet", type=int, default=26)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--val-seqs", type=int, default=64)
    ap.add_argument("--val-every", type=int, default=20)
    a = ap.parse_args(argv)
    if a.steps < 3 * FIRST:
        ap.error(f"--steps must be at least {3 * FIRST}")

    quiet_library()
    import transformers  # its version goes into the summary
    torch.set_num_threads(1)
    t0 = time.time()
    fresh_dir(a.work)
    sb = Seqbench(a.seqbench, a.work)
    w = lambda name: os.path.join(a.work, name)  # noqa: E731

    # the start, the data, and seqbench's own run
    sb.run(*train_args(a, 0), "--val-seqs", 0, "--eval-seqs", 1, "--eval-lengths", a.length, "--save", w("init"))
    sb.run("sample", *task_args(a), "--length", a.length, "--split", "train", "--seqs", a.steps * a.batch,
           "--seed", a.seed, "--out", w("train.json"))
    sb.run("sample", *task_args(a), "--length", a.length, "--split", "val", "--seqs", a.val_seqs,
           "--seed", a.seed, "--out", w("val.json"))
    t1 = time.time()
    sb.run(*train_args(a, a.steps), "--val-seqs", a.val_seqs, "--val-every", a.val_every,
           "--eval-seqs", 100, "--eval-lengths", a.length, "--out", w("seqbench.json"))
    sb_seconds = time.time() - t1
    with open(w("seqbench.json")) as f:
        res = json.load(f)
    sb_curve = res["loss_curve"]
    sb_val = res["metrics"]["validation"]["curve"]
    # the first steps one by one: loss_curve holds windows of steps // 200 steps, so when they are longer than
    # one step a run of FIRST steps gives them (the same steps: its warmup lr does not depend on --steps)
    if a.steps // 200 <= 1:
        sb_first = [p["loss"] for p in sb_curve[:FIRST]]
    elif a.warmup >= FIRST:
        sb.run(*train_args(a, FIRST), "--val-seqs", 0, "--eval-seqs", 1, "--eval-lengths", a.length,
               "--out", w("seqbench-first.json"))
        with open(w("seqbench-first.json")) as f:
            sb_first = [p["loss"] for p in json.load(f)["loss_curve"]]
    else:
        sys.exit(f"learning_curve: with --steps {a.steps} and --warmup {a.warmup} < {FIRST} the first steps "
                 "cannot be read one by one")

    # PyTorch on the same start and batches
    toks, tgt = read_instances(w("train.json"))
    vtoks, vtgt = read_instances(w("val.json"))
    t1 = time.time()
    pt_losses, pt_val, pt_norms = train_torch(a, w("init"), toks, tgt, vtoks, vtgt, a.val_every)
    pt_seconds = time.time() - t1
    pt_curve = windows(pt_losses, a.steps)

    # 1. the first steps
    first = [{"step": i + 1, "seqbench": s, "pytorch": p, "rel": abs(s - p) / abs(p)}
             for i, (s, p) in enumerate(zip(sb_first, pt_losses[:FIRST]))]
    first_max = max(r["rel"] for r in first)
    ok_first = len(first) == FIRST and first_max <= FIRST_TOL
    # 3. leaving the plateau (before 2, which ends where the earlier curve leaves)
    plateau0 = math.log(a.alphabet)  # the symbols' entropy: what a model that does not copy yet scores
    level = plateau0 / 2
    leave_sb, leave_pt = first_below(sb_curve, level), first_below(pt_curve, level)
    ok_leave = leave_sb is not None and leave_pt is not None and \
        abs(leave_sb - leave_pt) <= LEAVE_TOL * min(leave_sb, leave_pt)
    # 2. the plateau
    hi = (2 * min(x for x in (leave_sb, leave_pt, a.steps) if x is not None)) // 3
    plat_sb, plat_pt = mean_over(sb_curve, FIRST, hi), mean_over(pt_curve, FIRST, hi)
    ok_plat = hi > FIRST and abs(plat_sb - plat_pt) <= PLATEAU_TOL * plat_pt
    # 4. the end
    end_sb, end_pt = sb_curve[-1]["loss"], pt_curve[-1]["loss"]
    acc_sb, acc_pt = sb_val[-1]["string_acc"], pt_val[-1]["string_acc"]
    ok_end = end_sb < END_LOSS and end_pt < END_LOSS and acc_sb >= END_ACC and acc_pt >= END_ACC
    # not judged: how far apart the two curves are anywhere, and how often clipping acted
    whole = max(abs(s["loss"] - p["loss"]) / abs(p["loss"]) for s, p in zip(sb_curve, pt_curve))
    whole_val = max(abs(s["loss"] - p["loss"]) / abs(p["loss"]) for s, p in zip(sb_val, pt_val))
    clipped = sum(n > a.clip for n in pt_norms) if a.clip > 0 else 0

    # the table
    print(f"copy, length {a.length} (T = {toks.shape[1]}), alphabet {a.alphabet}; {a.layers}-layer llama, "
          f"d_model {a.d_model}; {a.steps} steps of batch {a.batch}, lr {a.lr} (warmup {a.warmup}, cosine to "
          f"x{a.min_lr_ratio}), AdamW {a.beta1}/{a.beta2} wd {a.weight_decay}, clip {a.clip}; seed {a.seed}")
    print(f"{'step':>5} {'seqbench':>10} {'PyTorch':>10} {'rel diff':>9}")
    for r in first:
        if r["step"] in (1, 2, 3, 4, 5, 10, 15, 20):
            print(f"{r['step']:>5} {r['seqbench']:>10.6f} {r['pytorch']:>10.6f} {r['rel']:>9.1e}")
    print(f"{'':>5} (above: single steps; below: loss_curve windows of {max(1, a.steps // 200)} step(s))")
    show = set(range(0, a.steps + 1, max(1, a.steps // 20))) | {leave_sb, leave_pt, a.steps}
    for s, p in zip(sb_curve, pt_curve):
        if s["step"] in show and s["step"] > FIRST:
            print(f"{s['step']:>5} {s['loss']:>10.4f} {p['loss']:>10.4f} "
                  f"{abs(s['loss'] - p['loss']) / abs(p['loss']):>9.1e}")
    print(f"validation (the same {a.val_seqs} held-out strings):")
    print(f"{'step':>5} {'sb loss':>9} {'PT loss':>9} {'sb acc':>7} {'PT acc':>7}")
    for s, p in zip(sb_val, pt_val):
        print(f"{s['step']:>5} {s['loss']:>9.4f} {p['loss']:>9.4f} {s['string_acc']:>7.3f} {p['string_acc']:>7.3f}")
    checks = [
        ("first", ok_first, f"first {FIRST} steps: max rel diff {first_max:.1e} (<= {FIRST_TOL:g})"),
        ("plateau", ok_plat, f"plateau (steps {FIRST + 1}-{hi}): {plat_sb:.4f} vs {plat_pt:.4f} "
                             f"(within {PLATEAU_TOL:.0%}; ln {a.alphabet} = {plateau0:.4f})"),
        ("leave", ok_leave, f"below {level:.3f} (half ln {a.alphabet}) from step {leave_sb} vs {leave_pt} "
                            f"(within {LEAVE_TOL:.0%})"),
        ("end", ok_end, f"end: loss {end_sb:.4f} vs {end_pt:.4f} (< {END_LOSS}), validation string accuracy "
                        f"{acc_sb:.3f} vs {acc_pt:.3f} (>= {END_ACC})"),
    ]
    agree = all(c[1] for c in checks)
    print(f"info  whole run: max rel diff {whole:.1e} over the {len(sb_curve)} loss_curve windows, {whole_val:.1e} "
          f"over the {len(sb_val)} validation losses; gradient clipped at {clipped} of {a.steps} steps")
    for name, ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(f"verdict: {'AGREE' if agree else 'DISAGREE'} - seqbench and PyTorch's LlamaForCausalLM "
          f"{'learn alike' if agree else 'do not learn alike'} on the same start and batches "
          f"({sum(c[1] for c in checks)}/{len(checks)} checks)")

    summary = {
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "seqbench": sb.version()},
        "task": {"task": "copy", "length": a.length, "alphabet": a.alphabet, "T": int(toks.shape[1])},
        "settings": {k: v for k, v in vars(a).items() if k not in ("seqbench", "work", "out")},
        "tolerances": {"first_steps": FIRST, "first_rel": FIRST_TOL, "plateau_rel": PLATEAU_TOL,
                       "leave_rel": LEAVE_TOL, "leave_level": level, "end_loss": END_LOSS, "end_acc": END_ACC},
        "checks": [{"name": n, "passed": bool(ok), "detail": t} for n, ok, t in checks],
        "agree": agree,
        "first_steps": first,
        "plateau": {"steps": [FIRST + 1, hi], "seqbench": plat_sb, "pytorch": plat_pt},
        "leave_step": {"seqbench": leave_sb, "pytorch": leave_pt},
        "end": {"seqbench_loss": end_sb, "pytorch_loss": end_pt, "seqbench_string_acc": acc_sb,
                "pytorch_string_acc": acc_pt},
        "loss_curve": [{"step": s["step"], "seqbench": s["loss"], "pytorch": p["loss"]}
                       for s, p in zip(sb_curve, pt_curve)],
        "validation": [{"step": s["step"], "seqbench_loss": s["loss"], "pytorch_loss": p["loss"],
                        "seqbench_string_acc": s["string_acc"], "pytorch_string_acc": p["string_acc"]}
                       for s, p in zip(sb_val, pt_val)],
        "max_rel_diff": {"loss_curve": whole, "validation_loss": whole_val},
        "pytorch_grad_norm_first": pt_norms[:FIRST],
        "clipped_steps": clipped,
        "seconds": {"seqbench_train": round(sb_seconds, 1), "pytorch_train": round(pt_seconds, 1),
                    "wall": round(time.time() - t0, 1)},
    }
    write_json_atomic(a.out, summary)
    print(f"wrote {a.out} ({summary['seconds']['wall']} s)")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
