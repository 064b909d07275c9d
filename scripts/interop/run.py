#!/usr/bin/env python3
"""Interoperability of seqbench with the real Hugging Face `transformers` (`make interop`).

For every model type seqbench writes in the Hugging Face layout (llama, mamba,
mamba2, recurrent_gemma, jamba), each with non-default options, both directions:

 1. seqbench -> transformers: `seqbench train --steps 20 --save DIR`;
    AutoModelForCausalLM.from_pretrained(DIR) loads it with no missing,
    unexpected or resized tensors; its logits on T = 24 tokens match
    `seqbench logits` in parallel and step mode within 1e-4 relative; greedy
    decoding of 32 tokens (model.generate vs seqbench's step path) gives the
    same tokens.
 2. transformers -> seqbench: a small random model of the library's own class
    (same options, float32, eval mode) is save_pretrained'ed; seqbench loads it
    and its logits match within 1e-4 relative in both modes.

Where the library's PyTorch code is known to differ from the official
mathematics (DESIGN.md section 4), the main comparison uses a configuration on
which the library is right, and a separate "known difference" check measures
the difference and checks that it is exactly the predicted one:
 - RecurrentGemma's local attention: transformers' mask lets position t see
   keys t-W+1..t (W keys; masking_utils.sliding_window_overlay: kv > q - W,
   and its sliding cache keeps W-1 past keys); the official Griffin code sees
   t-W..t (W+1 keys). The main check loads the model with
   attention_window_size = W+1, which makes the library's mask (prefill and
   decode) equal the official one, plus a check at T <= W as written.
 - Mamba-2's gated RMSNorm with n_groups > 1: transformers 5.23's
   MambaRMSNormGated normalises each group of E/G channels (group_size), as
   mamba_ssm does, so the main check runs with n_groups = 2; the known
   difference measures what the ungrouped norm of earlier transformers
   versions would give.
The tolerance is never loosened.

Then tasks_check.py: the task layouts of docs/tasks.md (read from that page
alone) against `seqbench sample`, and tiny models of every task trained by
`seqbench train --save`, loaded here and scored on the page's layout, against
`seqbench eval`.

Then lm_check.py: a Transformer and a Mamba trained on a text (task lm) load
with the byte vocabulary, and their test loss through transformers equals
`seqbench eval`'s within 1e-5 relative.

Output: one line per check, a closing `N passed, N failed` line, and a JSON
summary (versions, per-check max relative error) written atomically.
"""

import argparse
import os
import platform
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from common import (TOL, Report, Seqbench, check_config, check_load, check_logits, copy_checkpoint,  # noqa: E402
                    fresh_dir, hf_greedy, hf_load, hf_logits, one_line, read_config, read_tensors, rel_err,
                    quiet_library, slow_path_status, write_json_atomic)

T = 24          # tokens compared (longer than the recurrent_gemma window)
PROMPT = 8      # greedy decoding: prompt length ...
N_NEW = 32      # ... and new tokens
SEED = 1
V2 = 50         # vocabulary of the transformers-built models


def hf_configs():
    from transformers import JambaConfig, LlamaConfig, Mamba2Config, MambaConfig, RecurrentGemmaConfig
    return {
        # GQA (4 query heads, 2 kv heads), untied head, RoPE base 500000 via rope_parameters
        "llama": LlamaConfig(vocab_size=V2, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                             rope_parameters={"rope_type": "default", "rope_theta": 500000.0}),
        # untied head (MambaConfig ties by default), time_step_rank 8 (auto would be 4)
        "mamba": MambaConfig(vocab_size=V2, hidden_size=64, state_size=16, num_hidden_layers=2, expand=2,
                             conv_kernel=4, time_step_rank=8, tie_word_embeddings=False),
        # two groups of B/C, heads of 16, SSD chunks of 8 (so T = 24 spans three chunks)
        "mamba2": Mamba2Config(vocab_size=V2, hidden_size=64, expand=2, num_heads=8, head_dim=16, n_groups=2,
                               state_size=16, num_hidden_layers=2, conv_kernel=4, chunk_size=8),
        # Griffin: recurrent, recurrent, local MQA with a window of 4 < T
        "recurrent_gemma": RecurrentGemmaConfig(vocab_size=V2, hidden_size=64, intermediate_size=192,
                                                num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1,
                                                lru_width=64, attention_window_size=4),
        # 4 layers: attention at layer 2 (GQA), MoE of 4 experts, top-2, at odd layers
        "jamba": JambaConfig(vocab_size=V2, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                             num_attention_heads=4, num_key_value_heads=2, num_experts=4, num_experts_per_tok=2,
                             attn_layer_period=4, attn_layer_offset=2, expert_layer_period=2,
                             expert_layer_offset=1, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
                             mamba_dt_rank=4),
    }


SPECS = [
    dict(type="llama", arch="LlamaForCausalLM", train=["--arch", "transformer", "--kv-heads", "2", "--untie"],
         d1="GQA 4/2 heads, untied head", d2="GQA 4/2 heads, untied head, rope_theta 500000"),
    dict(type="mamba", arch="MambaForCausalLM", train=["--arch", "mamba"],
         d1="Mamba-1, tied head", d2="untied head, time_step_rank 8"),
    dict(type="mamba2", arch="Mamba2ForCausalLM", train=["--arch", "mamba2", "--ssm-head-dim", "16", "--n-groups", "2"],
         d1="8 heads of 16, n_groups 2", d2="8 heads of 16, n_groups 2, chunk 8"),
    dict(type="recurrent_gemma", arch="RecurrentGemmaForCausalLM", train=["--arch", "griffin", "--window", "4"],
         d1="Griffin, window 4 < T", d2="Griffin, window 4 < T, MQA"),
    dict(type="jamba", arch="JambaForCausalLM", train=["--arch", "jamba", "--layers", "1", "--experts", "4", "--top-k", "2"],
         d1="l=8 block, MoE 4 experts top-2", d2="4 layers, MoE 4 experts top-2, GQA 4/2"),
]
TYPES = [s["type"] for s in SPECS]


def tokens_for(vocab, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (n,), generator=g).tolist()


def official_window_overrides(cfg):
    """transformers' RecurrentGemma window W gives W keys; the official mask W+1."""
    return {"attention_window_size": int(cfg["attention_window_size"]) + 1}


def coerced_config(model_dir, scratch):
    """A copy of the checkpoint whose config.json has integer values turned into floats where the
    library's config class declares a float (used only after the config check has failed, so that the
    numerical checks still say something)."""
    from transformers import AutoConfig
    cfg = read_config(model_dir)
    cls = type(AutoConfig.for_model(cfg["model_type"]))
    hints = {}
    for k in reversed(cls.__mro__):
        hints.update(getattr(k, "__annotations__", {}))
    fixed = []
    for k, v in list(cfg.items()):
        h = str(hints.get(k, ""))
        if "float" not in h or "int" in h:
            continue
        if isinstance(v, int) and not isinstance(v, bool):
            cfg[k] = float(v)
            fixed.append(k)
        elif isinstance(v, list) and any(isinstance(x, int) and not isinstance(x, bool) for x in v):
            cfg[k] = [float(x) for x in v]
            fixed.append(k)
    d = copy_checkpoint(model_dir, os.path.join(scratch, "coerced-" + os.path.basename(model_dir)), config=cfg)
    return d, fixed


# ---------------------------------------------------------------- direction 1: seqbench -> transformers

def train(sb, out_dir, opts, steps, lr=0.01):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    # lr 0.01 without warmup: at the initialisation the gradients of Mamba-1's A_log, x_proj and dt_proj
    # are ~1e-12 (the state path barely contributes yet; transformers computes the same on these weights),
    # and 20 steps of the default warmup leave them at their initial values to float precision
    sb.run("train", "--task", "copy", *opts, "--steps", steps, "--batch", 8, "--lr", lr, "--warmup", 0,
           "--eval-seqs", 10, "--eval-lengths", 16, "--seed", SEED, "--save", out_dir)


def direction1(rep, sb, spec, work, summary):
    t = spec["type"]
    tag = f"{t} [seqbench -> transformers; {spec['d1']}]"
    d = os.path.join(work, f"sb-{t}")
    d0 = os.path.join(work, f"sb-{t}-init")
    try:
        train(sb, d, spec["train"], 20)
        # the same seed at a learning rate of 1e-9 for one step: the initial weights, to within ~1e-9
        train(sb, d0, spec["train"], 1, lr=1e-9)
    except Exception as e:  # noqa: BLE001
        rep.add(f"{tag}: train --steps 20 --save", False, one_line(e))
        return None
    a, b = read_tensors(d), read_tensors(d0)
    still = [k for k in a if rel_err(a[k], b[k]) <= 1e-6]
    rep.add(f"{tag}: trained 20 steps (lr 0.01), every tensor moved from its initial value", not still,
            f"{len(a)} tensors" + (f"; unchanged: {', '.join(still)}" if still else ""))

    cfg_ok = check_config(rep, f"{tag}: config.json", d)
    dd, note = d, ""
    if not cfg_ok:
        dd, fixed = coerced_config(d, work)
        note = (f" (on a copy whose config.json has {', '.join(fixed)} as float)" if fixed
                else " (config.json as written: nothing to coerce)")
    overrides = official_window_overrides(read_config(d)) if t == "recurrent_gemma" else {}
    model = check_load(rep, f"{tag}: from_pretrained{note}", dd, spec["arch"])
    if model is None:
        return d
    vocab = read_config(d)["vocab_size"]
    toks = tokens_for(vocab, T, SEED)
    if overrides:
        # as written: the sequence no longer than the window, where the library's mask is right
        W = read_config(d)["attention_window_size"]
        short = toks[:W]
        ref = hf_logits(model, short)
        for mode in ("parallel", "step"):
            check_logits(rep, f"{tag}: logits {mode}, T={W} <= window, config as written{note}", sb, d, short,
                         ref, mode, work, hf_dir=dd)
        model, _ = hf_load(dd, **overrides)
        note += f" (transformers with attention_window_size {overrides['attention_window_size']} = official mask)"
    ref = hf_logits(model, toks)
    par = check_logits(rep, f"{tag}: logits parallel, T={T}{note}", sb, d, toks, ref, "parallel", work,
                       hf_dir=dd, hf_overrides=overrides)
    check_logits(rep, f"{tag}: logits step, T={T}{note}", sb, d, toks, ref, "step", work,
                 parallel_ok=par is not None and par <= TOL)

    # greedy decoding: transformers' generate (its cached decode path) vs seqbench's step path
    prompt = toks[:PROMPT]
    name = f"{tag}: greedy {N_NEW} tokens{note}"
    try:
        hf_new, hf_steps = hf_greedy(model, prompt, N_NEW)
        sb_new, sb_steps = sb.greedy(d, prompt, N_NEW)
    except Exception as e:  # noqa: BLE001
        rep.add(name, False, one_line(e))
    else:
        same = hf_new == sb_new
        top2 = torch.topk(sb_steps, 2, dim=-1).values
        margin = (top2[:, 0] - top2[:, 1]).min().item()
        if same:
            rel = rel_err(sb_steps, hf_steps)
            rep.add(name, rel <= TOL, f"same {N_NEW} tokens; logits of every decode step compared; "
                    f"smallest top-1/top-2 gap {margin:.3g}", rel=rel, tokens=sb_new)
        else:
            k = next(i for i in range(N_NEW) if hf_new[i] != sb_new[i])
            rep.add(name, False, f"tokens differ from step {k}: transformers {hf_new} vs seqbench {sb_new}")
    if t == "recurrent_gemma":
        known_window(rep, sb, tag, d, dd, toks, work, summary)
    if t == "mamba2":
        known_mamba2_norm(rep, sb, tag, d, dd, toks, work, summary)
    return d


# ---------------------------------------------------------------- direction 2: transformers -> seqbench

def build_hf(t, d, seed):
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(hf_configs()[t], dtype=torch.float32).eval()
    with torch.no_grad():
        # the library's own initialisation leaves norms at 1, biases at 0, D at 1, A_log at log(1..N):
        # perturb every tensor so that none has a value a misread layout could hide behind
        for p in model.parameters():
            p.add_(torch.randn_like(p) * (0.1 if p.dim() == 1 else 0.02))
    if os.path.exists(d):
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True)
    return model


def direction2(rep, sb, spec, work, summary):
    t = spec["type"]
    tag = f"{t} [transformers -> seqbench; {spec['d2']}]"
    d = os.path.join(work, f"hf-{t}")
    try:
        model = build_hf(t, d, SEED)
    except Exception as e:  # noqa: BLE001
        rep.add(f"{tag}: build and save_pretrained", False, one_line(e))
        return None
    if not os.path.exists(os.path.join(d, "model.safetensors")):
        rep.add(f"{tag}: save_pretrained wrote model.safetensors", False, str(os.listdir(d)))
        return d
    toks = tokens_for(V2, T, SEED + 1)
    note, overrides = "", {}
    if t == "recurrent_gemma":
        W = read_config(d)["attention_window_size"]
        short = toks[:W]
        ref = hf_logits(model, short)
        for mode in ("parallel", "step"):
            check_logits(rep, f"{tag}: logits {mode}, T={W} <= window, as saved", sb, d, short, ref, mode, work)
        overrides = official_window_overrides(read_config(d))
        model, _ = hf_load(d, **overrides)
        note = f" (transformers with attention_window_size {overrides['attention_window_size']} = official mask)"
    ref = hf_logits(model, toks)
    par = check_logits(rep, f"{tag}: logits parallel, T={T}{note}", sb, d, toks, ref, "parallel", work,
                       hf_overrides=overrides)
    check_logits(rep, f"{tag}: logits step, T={T}{note}", sb, d, toks, ref, "step", work,
                 parallel_ok=par is not None and par <= TOL)
    if t == "recurrent_gemma":
        known_window(rep, sb, tag, d, d, toks, work, summary)
    if t == "mamba2":
        known_mamba2_norm(rep, sb, tag, d, d, toks, work, summary)
    return d


# ---------------------------------------------------------------- known differences

def known_window(rep, sb, tag, sb_dir, hf_dir, toks, work, summary):
    """transformers as written (W keys) against seqbench (official: W+1 keys) at T > W: the rows
    t < W must agree, the later ones differ; and seqbench given window W-1 (so W keys) must agree with
    transformers everywhere, which shows the whole difference is that one key."""
    cfg = read_config(sb_dir)
    W = int(cfg["attention_window_size"])
    name = f"{tag}: known difference, transformers' window (t-{W - 1}..t) vs official (t-{W}..t), T={T}"
    try:
        model, _ = hf_load(hf_dir)
        ref = hf_logits(model, toks)
        lsb = sb.logits(sb_dir, toks)
        d1 = copy_checkpoint(sb_dir, os.path.join(work, "window-minus-1"),
                             config={**cfg, "attention_window_size": W - 1})
        lsb1 = sb.logits(d1, toks)
    except Exception as e:  # noqa: BLE001
        rep.add(name, False, one_line(e))
        return
    rel = rel_err(lsb, ref)
    rel_in = rel_err(lsb[:W], ref[:W])
    rel_one = rel_err(lsb1, ref)
    ok = rel > TOL and rel_in <= TOL and rel_one <= TOL
    rep.add(name, ok, f"rows t<{W}: {rel_in:.1e}; rows t>={W} differ; seqbench with window {W - 1} "
            f"(= transformers' {W} keys): {rel_one:.1e}", rel=rel, known_difference=True)
    summary.setdefault("known_differences", []).append(
        {"check": name, "max_rel_err": rel, "rows_before_window_max_rel_err": rel_in,
         "seqbench_window_minus_1_max_rel_err": rel_one})


def known_mamba2_norm(rep, sb, tag, sb_dir, hf_dir, toks, work, summary):
    """The ungrouped gated RMSNorm of earlier transformers versions (all E channels normalised together),
    simulated on the 5.23 model by setting group_size = E, against seqbench's grouped norm."""
    from transformers.models.mamba2.modeling_mamba2 import MambaRMSNormGated
    G = read_config(sb_dir)["n_groups"]
    name = f"{tag}: known difference, ungrouped gated RMSNorm (earlier transformers) vs grouped (n_groups {G}), T={T}"
    try:
        model, _ = hf_load(hf_dir)
        norms = [m for m in model.modules() if isinstance(m, MambaRMSNormGated)]
        groups = {m.weight.numel() // m.group_size for m in norms}
        for m in norms:
            m.group_size = m.weight.numel()
        ref = hf_logits(model, toks)
        lsb = sb.logits(sb_dir, toks)
    except Exception as e:  # noqa: BLE001
        rep.add(name, False, one_line(e))
        return
    rel = rel_err(lsb, ref)
    ok = groups == {G} and (rel > TOL) == (G > 1)
    rep.add(name, ok, f"transformers 5.23 normalises {sorted(groups)} group(s) per mixer (grouped, as mamba_ssm); "
            "the ungrouped norm would differ by the error shown", rel=rel, known_difference=True)
    summary.setdefault("known_differences", []).append({"check": name, "max_rel_err": rel})


# ---------------------------------------------------------------- main

def versions(sb):
    import safetensors
    import transformers
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "safetensors": safetensors.__version__,
            "seqbench": sb.version()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqbench", default="build/seqbench")
    ap.add_argument("--work", default="build/interop-work", help="scratch directory (recreated)")
    ap.add_argument("--out", default="results/interop.json")
    ap.add_argument("--types", default=",".join(TYPES), help="comma-separated subset of " + ",".join(TYPES))
    ap.add_argument("--no-broken", action="store_true", help="skip the broken-checkpoint tests")
    ap.add_argument("--no-tasks", action="store_true", help="skip the task-layout and scoring checks (tasks_check.py)")
    ap.add_argument("--no-lm", action="store_true", help="skip the text model checks (lm_check.py)")
    args = ap.parse_args(argv)

    quiet_library()
    import transformers  # its version goes into the summary
    torch.manual_seed(0)
    t0 = time.time()
    fresh_dir(args.work)
    sb = Seqbench(args.seqbench, args.work)
    rep = Report()
    summary = {"versions": versions(sb), "tolerance": TOL, "relative_error": "max|seqbench - transformers| / "
               "max|transformers|", "T": T, "greedy": {"prompt": PROMPT, "new_tokens": N_NEW}}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()), flush=True)

    present = slow_path_status()
    rep.add("environment: transformers' PyTorch reference path for Mamba/Jamba (no mamba_ssm, causal_conv1d "
            "or kernels package; models on the CPU)", not present,
            f"importable kernel packages: {present}" if present else "")
    summary["device"] = "cpu"

    wanted = [s for s in SPECS if s["type"] in args.types.split(",")]
    dirs = {}
    for spec in wanted:
        for key, fn in (("d1", direction1), ("d2", direction2)):
            try:
                dirs[(key, spec["type"])] = fn(rep, sb, spec, args.work, summary)
            except Exception as e:  # noqa: BLE001 - recorded as a failure; the other types still run
                rep.add(f"{spec['type']} [{key}]: ran to the end", False, f"{type(e).__name__}: {one_line(e)}")

    if not args.no_broken:
        import test_broken
        try:
            test_broken.run(rep, sb, args.work, llama_dir=dirs.get(("d1", "llama")),
                            rg_dir=dirs.get(("d2", "recurrent_gemma")))
        except Exception as e:  # noqa: BLE001
            rep.add("broken checkpoints: ran to the end", False, f"{type(e).__name__}: {one_line(e)}")

    # the checks that train with seqbench, each in its own work folder; one that breaks is one failed check
    for name, skip, module in (("tasks", args.no_tasks, "tasks_check"), ("lm", args.no_lm, "lm_check")):
        if skip:
            continue
        work = os.path.join(args.work, name)
        os.makedirs(work)
        try:
            __import__(module).run(rep, sb, work)
        except Exception as e:  # noqa: BLE001
            rep.add(f"{name}: ran to the end", False, f"{type(e).__name__}: {one_line(e)}")

    passed, failed = rep.counts()
    summary.update({"checks": rep.checks, "passed": passed, "failed": failed,
                    "wall_seconds": round(time.time() - t0, 1)})
    write_json_atomic(args.out, summary)
    print(f"wrote {args.out} ({summary['wall_seconds']} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
