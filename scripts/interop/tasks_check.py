#!/usr/bin/env python3
"""The task layouts of docs/tasks.md against seqbench, and saved models scored outside seqbench.

Issue 16, acceptance 5: a model trained by `seqbench train --task T --save DIR`
loads in Hugging Face `transformers`, and the documented layout is enough to
score it there. The layouts are read from docs/tasks.md alone (the README's
"Tasks" section until issue 27; readme_tasks.py, written without looking at
tasks/*.c); two kinds of checks:

 (a) layout: `seqbench sample` dumps the instances seqbench trains and tests
     on; every rule of the page is checked on every one of them (ids, positions,
     scored positions and answers, vocabulary, lengths) and the "uniform" /
     "proportional" rules over all of them; the page's table's defaults are
     checked against the settings seqbench resolves.
 (b) scoring: a tiny model per task (`train --save`, Transformer = llama, and a
     Mamba) is loaded with AutoModelForCausalLM and scored by argmax at the
     scored positions
       - on seqbench's own test instances (`sample --split test`): the same
         accuracy as `seqbench eval` on them, position by position up to
         near-ties of the logits;
       - on instances Python draws by the page's rules: the same accuracy as
         `seqbench eval` within sampling error (4 sigma, counted over
         instances, which bounds token accuracy too).
     One model (selective_copy, Transformer) is trained until it is far above
     chance, so that the comparison says something; the others only need to
     load and agree.

Runs from run.py (`make interop`) or alone:
    build/interop-venv/bin/python scripts/interop/tasks_check.py --seqbench build/seqbench
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import readme_tasks as rt  # noqa: E402

SEED = 1
N_SAMPLE = 2000   # instances per layout check
N_SCORE = 1000    # instances per accuracy
EVAL_SEED = 11    # seqbench eval's seed (its test stream)
PY_SEED = 12345   # Python's own instances

# The table of docs/tasks.md: defaults, and max-len's when none is given.
DOC_DEFAULTS = {
    "copy": {"alphabet": 26, "min-len": 1, "max-len": 16},
    "selective_copy": {"task-vocab": 16, "n-data": 16, "max-len": 4096, "min-len": 4096},
    "induction": {"task-vocab": 16, "max-len": 256, "min-len": 256},
    "mqar": {"task-vocab": 8192, "n-pairs": 64 // 16, "power-a": 0.01, "max-len": 64, "min-len": 64},
    "needle": {"task-vocab": 64, "key-len": 2, "value-len": 2, "depth": -1, "max-len": 256, "min-len": 256},
}

# Defaults that depend on another option: (task, options, settings the page gives).
DOC_DERIVED = [
    ("mqar", ["--max-len", "256"], {"n-pairs": 16}),   # max-len / 16
    ("mqar", ["--max-len", "8"], {"n-pairs": 1}),      # ... at least 1
    ("copy", ["--max-len", "5"], {"min-len": 1}),      # min-len defaults to max-len except for copy
    ("needle", ["--max-len", "40"], {"min-len": 40}),
]

# Layout checks: (task, options, length) at the defaults and at corners (short lengths, tiny vocabularies).
LAYOUTS = [
    ("copy", [], 16), ("copy", ["--alphabet", "5"], 3),
    ("selective_copy", [], 64), ("selective_copy", ["--n-data", "8"], 200),
    ("selective_copy", ["--task-vocab", "4", "--n-data", "3"], 20),
    ("induction", [], 256), ("induction", [], 4), ("induction", ["--task-vocab", "5"], 64),
    ("mqar", [], 64), ("mqar", [], 256), ("mqar", ["--task-vocab", "64", "--n-pairs", "8"], 128),
    ("mqar", ["--task-vocab", "16", "--n-pairs", "7", "--power-a", "1"], 28),
    ("needle", [], 256), ("needle", ["--key-len", "1", "--value-len", "3"], 9),
    ("needle", ["--depth", "0.5"], 50), ("needle", ["--depth", "1"], 37), ("needle", ["--depth", "0"], 37),
    ("needle", ["--depth", "0.3", "--task-vocab", "5", "--key-len", "3", "--value-len", "1"], 41),
]

# Models scored outside seqbench: (label, task, task options, length, arch options, steps, far above chance?)
MODELS = [
    ("selective_copy", ["--max-len", "16", "--n-data", "4"], 16, ["--arch", "transformer"], 400, True),
    ("selective_copy", ["--max-len", "16", "--n-data", "4"], 16, ["--arch", "mamba", "--layers", "2"], 60, False),
    ("copy", ["--max-len", "8", "--min-len", "8"], 8, ["--arch", "transformer"], 60, False),
    ("induction", ["--max-len", "32"], 32, ["--arch", "transformer"], 800, True),
    ("mqar", ["--max-len", "32", "--task-vocab", "32", "--n-pairs", "4"], 32, ["--arch", "transformer"], 60, False),
    ("needle", ["--max-len", "24", "--task-vocab", "16"], 24, ["--arch", "transformer"], 60, False),
]


def load_sample(sb, task, opts, n, seqs, seed, split):
    out = sb.run("sample", "--task", task, *opts, "--length", n, "--seqs", seqs, "--seed", seed, "--split", split)
    j = json.loads(out)
    insts = [dict(tokens=i["tokens"], scored=i["scored"], answers=i["targets"]) for i in j["instances"]]
    return j, insts


# ---------------------------------------------------------------- (a) layouts

def check_defaults(rep, sb):
    for task, want in DOC_DEFAULTS.items():
        name = f"tasks [docs/tasks.md table]: {task} defaults"
        try:
            j, _ = load_sample(sb, task, [], 0, 1, SEED, "test")
        except Exception as e:  # noqa: BLE001
            rep.add(name, False, one_line(e))
            continue
        s = j["settings"]
        diff = [f"{k} {s.get(k)} (docs/tasks.md {v})" for k, v in want.items() if s.get(k) != v]
        if j["length"] != want["max-len"]:
            diff.append(f"length {j['length']} (docs/tasks.md max-len {want['max-len']})")
        if j["vocab_size"] != rt.vocab_size(task, {**s, **want}):
            diff.append(f"vocab_size {j['vocab_size']}")
        rep.add(name, not diff, "; ".join(diff) or ", ".join(f"{k} {v}" for k, v in want.items()))
    for task, opts, want in DOC_DERIVED:
        name = f"tasks [docs/tasks.md table]: {task} {' '.join(opts)} gives {want}"
        try:
            s = load_sample(sb, task, opts, 0, 1, SEED, "test")[0]["settings"]
        except Exception as e:  # noqa: BLE001
            rep.add(name, False, one_line(e))
            continue
        diff = [f"{k} {s.get(k)}" for k, v in want.items() if s.get(k) != v]
        rep.add(name, not diff, "; ".join(diff))


def check_layouts(rep, sb):
    for task, opts, n in LAYOUTS:
        for split in ("test", "train"):
            name = f"tasks [docs/tasks.md layout]: {task} {' '.join(opts)} n={n}, {split} split".replace("  ", " ")
            try:
                j, insts = load_sample(sb, task, opts, n, N_SAMPLE, SEED, split)
            except Exception as e:  # noqa: BLE001
                rep.add(name, False, one_line(e))
                continue
            s = j["settings"]
            R = rt.validate(task, s, n, insts)
            R.rule("vocab_size as docs/tasks.md gives it", j["vocab_size"] == rt.vocab_size(task, s), str(j["vocab_size"]))
            R.rule("T as docs/tasks.md gives it", j["T"] == rt.seq_len(task, s, n), f"T {j['T']}")
            broken = [f"{r} ({c} instance(s); {ex})" for r, (c, ex) in R.broken.items()]
            rep.add(name, not broken, "; ".join(broken) or f"{len(insts)} instances, {len(R.checked)} rules hold",
                    rules=sorted(R.checked))


def check_needle_depths(rep, sb):
    """docs/tasks.md: "The same seed gives the same filler at every depth" (and so the same key and value)."""
    n, s = 40, {"key-len": 2, "value-len": 2}
    K, W, h, _ = rt.needle_geometry(s, n)
    runs = [load_sample(sb, "needle", ["--depth", d], n, 200, SEED, "test")[1] for d in ("0", "0.5", "1")]
    bad = 0
    for a, b in ((0, 1), (0, 2)):
        for x, y in zip(runs[a], runs[b]):
            tx, ty = x["tokens"], y["tokens"]
            dx, dy = tx.index(1), ty.index(1)
            cover = set(range(dx, dx + K + W + 1)) | set(range(dy, dy + K + W + 1))
            bad += any(tx[t] != ty[t] for t in range(h) if t not in cover) or x["answers"] != y["answers"]
    rep.add("tasks [docs/tasks.md layout]: needle: the same seed gives the same filler, key and value at depths 0, 0.5, 1",
            bad == 0, f"{bad} of 400 instance pairs differ" if bad else "200 instances per depth, n=40")


def check_rules_catch(rep, sb):
    """The rules are not vacuous: each broken copy of seqbench's instances must break at least one."""
    def shift_scored(x, V):
        return {**x, "scored": [t + 1 for t in x["scored"]]}

    def wrong_answer(x, V):
        return {**x, "answers": [(a + 1) % V for a in x["answers"]]}

    def last_token(x, V):
        return {**x, "tokens": x["tokens"][:-1] + [(x["tokens"][-1] + 1) % V]}

    def first_token(x, V):
        return {**x, "tokens": [(x["tokens"][0] + 1) % V] + x["tokens"][1:]}

    for task, opts, n in [("copy", [], 16), ("selective_copy", [], 64), ("induction", [], 64), ("mqar", [], 64),
                          ("needle", [], 64)]:
        j, insts = load_sample(sb, task, opts, n, 200, SEED, "test")
        V = j["vocab_size"]
        missed = [f.__name__ for f in (shift_scored, wrong_answer, last_token, first_token)
                  if not rt.validate(task, j["settings"], n, [f(x, V) for x in insts]).broken]
        rep.add(f"tasks [docs/tasks.md layout]: {task}: broken instances are caught (scored positions shifted, answers "
                "changed, first or last token changed)", not missed, f"not caught: {missed}" if missed else "")


# ---------------------------------------------------------------- (b) scoring a saved model

def hf_argmax(model, insts, chunk=100):
    """Argmax of the logits at each scored position, and the top-1 / top-2 gap there."""
    import torch
    preds, gaps = [], []
    with torch.no_grad():
        for i in range(0, len(insts), chunk):
            part = insts[i:i + chunk]
            ids = torch.tensor([x["tokens"] for x in part], dtype=torch.long)
            logits = model(ids, use_cache=False).logits.to(torch.float64)
            for b, x in enumerate(part):
                z = logits[b, x["scored"]]
                top = torch.topk(z, 2, dim=-1).values
                preds.append(z.argmax(-1).tolist())
                gaps.append((top[:, 0] - top[:, 1]).tolist())
    return preds, gaps


def accuracy(insts, preds):
    right = sum(p == a for x, ps in zip(insts, preds) for p, a in zip(ps, x["answers"]))
    total = sum(len(x["answers"]) for x in insts)
    strings = sum(all(p == a for p, a in zip(ps, x["answers"])) for x, ps in zip(insts, preds))
    return right / total, strings / len(insts), right, total


def chance(task, s):
    """Accuracy of a uniform guess among the answers the page allows."""
    V = rt.vocab_size(task, s)
    return {"copy": 1 / max(1, V - 3), "selective_copy": 1 / max(1, V - 2), "induction": 1 / max(1, V - 2),
            "mqar": 1 / max(1, V - V // 2), "needle": 1 / max(1, V - 3)}[task]


def seqbench_eval(sb, d, n, work, tag):
    out = os.path.join(work, f"eval-{tag}.json")
    sb.run("eval", "--model", d, "--lengths", n, "--seqs", N_SCORE, "--seed", EVAL_SEED, "--out", out)
    with open(out) as f:
        return json.load(f)["metrics"]["eval"][0]


def score_model(rep, sb, work, task, topts, n, aopts, steps, learn):
    from common import check_load, read_config
    arch = aopts[1]
    tag = f"{task} [{arch}, {steps} steps, n={n}]"
    d = os.path.join(work, f"task-{task}-{arch}")
    if os.path.exists(d):
        shutil.rmtree(d)
    try:
        sb.run("train", "--task", task, *topts, *aopts, "--steps", steps, "--seed", SEED, "--eval-lengths", n,
               "--eval-seqs", 10, "--save", d)
    except Exception as e:  # noqa: BLE001
        rep.add(f"tasks [score elsewhere]: {tag}: train --save", False, one_line(e))
        return
    expect = {"transformer": "LlamaForCausalLM", "mamba": "MambaForCausalLM"}[arch]
    model = check_load(rep, f"tasks [score elsewhere]: {tag}: from_pretrained", d, expect)
    if model is None:
        return
    V = read_config(d)["vocab_size"]
    ev = seqbench_eval(sb, d, n, work, f"{task}-{arch}")
    sb_tok = ev["token_acc"]

    # 1. seqbench's own test instances: eval's accuracy, position by position up to near-ties
    j, own = load_sample(sb, task, topts, n, N_SCORE, EVAL_SEED, "test")
    s = j["settings"]
    preds, gaps = hf_argmax(model, own)
    tok, st, right, total = accuracy(own, preds)
    ties = sum(g < 1e-4 for gs in gaps for g in gs)
    diff = abs(round(tok * total) - round(sb_tok * total))
    rep.add(f"tasks [score elsewhere]: {tag}: transformers on `seqbench sample` instances = `seqbench eval`",
            diff <= ties, f"token accuracy transformers {tok:.4f} vs seqbench eval {sb_tok:.4f} over {total} scored "
            f"positions ({diff} differ; {ties} near-ties); string {st:.4f} vs {ev['string_acc']:.4f}",
            transformers_token_acc=tok, seqbench_token_acc=sb_tok, scored=total, near_ties=ties)

    # 2. instances Python draws from the page's rules: the same accuracy within sampling error
    rng = random.Random(PY_SEED)
    mine = [rt.generate(task, s, n, rng) for _ in range(N_SCORE)]
    R = rt.validate(task, s, n, mine)  # the generator obeys its own reading (guards this script)
    big = [x for x in mine if max(x["tokens"]) >= V]
    preds, _ = hf_argmax(model, mine)
    tok2, st2, _, total2 = accuracy(mine, preds)
    p = (tok2 + sb_tok) / 2
    sigma = math.sqrt(max(p * (1 - p), 1e-4) * 2 / N_SCORE)  # over instances: bounds token accuracy's spread
    c = chance(task, s)
    ok = abs(tok2 - sb_tok) <= 4 * sigma + 1e-9 and not R.broken and not big
    detail = (f"token accuracy on docs/tasks.md instances (transformers) {tok2:.4f} vs seqbench eval {sb_tok:.4f}: "
              f"|diff| {abs(tok2 - sb_tok):.4f} <= 4 sigma {4 * sigma:.4f}; string {st2:.4f} vs "
              f"{ev['string_acc']:.4f}; chance {c:.4f}")
    if R.broken or big:
        detail += f"; generator broke {sorted(R.broken)}, {len(big)} instances beyond the model's vocabulary"
    rep.add(f"tasks [score elsewhere]: {tag}: transformers on instances drawn by docs/tasks.md ~ `seqbench eval`", ok,
            detail, transformers_token_acc=tok2, seqbench_token_acc=sb_tok, chance=c, scored=total2)
    if learn:
        above = sb_tok - c > 10 * math.sqrt(c * (1 - c) / N_SCORE) and tok2 - c > 10 * math.sqrt(c * (1 - c) / N_SCORE)
        rep.add(f"tasks [score elsewhere]: {tag}: trained far above chance, so the comparison is informative", above,
                f"seqbench {sb_tok:.4f}, transformers {tok2:.4f}, chance {c:.4f}")


def one_line(e):
    return " ".join(str(e).split())


def run(rep, sb, work, layouts=True, models=True):
    if layouts:
        check_defaults(rep, sb)
        check_layouts(rep, sb)
        check_needle_depths(rep, sb)
        check_rules_catch(rep, sb)
    if models:
        for task, topts, n, aopts, steps, learn in MODELS:
            try:
                score_model(rep, sb, work, task, topts, n, aopts, steps, learn)
            except Exception as e:  # noqa: BLE001 - recorded; the other tasks still run
                rep.add(f"tasks [score elsewhere]: {task} [{aopts[1]}]: ran to the end", False,
                        f"{type(e).__name__}: {one_line(e)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqbench", default="build/seqbench")
    ap.add_argument("--work", default="build/interop-work/tasks", help="scratch directory (recreated)")
    ap.add_argument("--layouts-only", action="store_true", help="only part (a): no model is trained")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if os.path.exists(args.work):
        shutil.rmtree(args.work)
    os.makedirs(args.work)
    from common import Report, Seqbench
    sb = Seqbench(args.seqbench, args.work)
    rep = Report()
    t0 = time.time()
    run(rep, sb, args.work, models=not args.layouts_only)
    return rep.finish(time.time() - t0)


if __name__ == "__main__":
    sys.exit(main())
