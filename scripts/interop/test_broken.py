#!/usr/bin/env python3
"""Deliberately broken checkpoints must make the interoperability check fail, naming the tensor.

Each case runs the same check functions as run.py on a damaged copy of a good
checkpoint and passes when those checks fail *and* their message names the
damaged tensor:

 - renamed tensor (seqbench -> transformers): the loading report lists it as
   missing, and seqbench refuses the checkpoint naming it;
 - transposed non-square matrix: the loading report lists it as mismatched
   (shape), and seqbench refuses it naming it;
 - transposed square matrix written by "seqbench" (the file transformers reads
   has W^T where seqbench computes with W): loading succeeds, the logits
   differ, and the localizer names the tensor;
 - transposed RG-LRU gate blocks read by "seqbench" (transformers -> seqbench:
   seqbench reads [heads, out, in] where the file holds [heads, in, out]): the
   logits differ and the localizer names the tensor.

Run by `make interop` (through run.py); also runs alone:
    python scripts/interop/test_broken.py --seqbench build/seqbench
"""

import argparse
import os
import shutil
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import (Report, Seqbench, check_load, check_logits, copy_checkpoint, hf_load, hf_logits,  # noqa: E402
                    read_config, read_tensors)


def _case(rep, name, target, sub):
    """Passes when at least one check of `sub` failed and every failed one names `target`."""
    failed = [c for c in sub.checks if not c["passed"]]
    named = [c for c in failed if target in c["detail"]]
    ok = bool(failed) and len(named) == len(failed)
    if not failed:
        detail = "NOT DETECTED: every check passed"
    elif not ok:
        detail = "detected but not named: " + " | ".join(c["detail"] for c in failed if target not in c["detail"])
    else:
        detail = "detected and named: " + " | ".join(f"{c['name']}: {c['detail']}" for c in failed)
    return rep.add(f"broken checkpoint, {name}: the check fails naming {target}", ok, detail)


def run(rep, sb, work, llama_dir=None, rg_dir=None):
    import torch
    scratch = os.path.join(work, "broken")
    os.makedirs(scratch, exist_ok=True)
    if llama_dir is None or not os.path.exists(os.path.join(llama_dir, "model.safetensors")):
        import run as interop
        llama_dir = os.path.join(scratch, "sb-llama")
        interop.train(sb, llama_dir, ["--arch", "transformer", "--kv-heads", "2", "--untie"], 20)
    if rg_dir is None or not os.path.exists(os.path.join(rg_dir, "model.safetensors")):
        import run as interop
        rg_dir = os.path.join(scratch, "hf-recurrent_gemma")
        interop.build_hf("recurrent_gemma", rg_dir, 1)

    good = read_tensors(llama_dir)
    vocab = read_config(llama_dir)["vocab_size"]
    g = torch.Generator().manual_seed(7)
    toks = torch.randint(0, vocab, (24,), generator=g).tolist()

    # 1. renamed tensor
    target = "model.layers.1.mlp.up_proj.weight"
    t = dict(good)
    t["model.layers.1.mlp.up_weight"] = t.pop(target)
    d = copy_checkpoint(llama_dir, os.path.join(scratch, "renamed"), tensors=t)
    sub = Report(quiet=True)
    model = check_load(sub, "from_pretrained", d, "LlamaForCausalLM")
    if model is not None:
        check_logits(sub, "logits", sb, d, toks, hf_logits(model, toks), "parallel", scratch)
    _case(rep, "renamed tensor (up_proj -> up_weight)", target, sub)

    # 2. transposed non-square matrix: the shapes no longer fit
    target = "model.layers.0.mlp.down_proj.weight"
    t = dict(good)
    t[target] = t[target].T.contiguous()
    d = copy_checkpoint(llama_dir, os.path.join(scratch, "transposed-nonsquare"), tensors=t)
    sub = Report(quiet=True)
    model = check_load(sub, "from_pretrained", d, "LlamaForCausalLM")
    if model is not None:
        check_logits(sub, "logits", sb, d, toks, hf_logits(model, toks), "parallel", scratch)
    _case(rep, f"transposed {tuple(good[target].shape)} matrix", target, sub)

    # 3. transposed square matrix in the file transformers reads, seqbench computing with the original
    #    (what a seqbench writer that stored W^T would produce): the loading report cannot see it
    target = "model.layers.0.self_attn.q_proj.weight"
    t = dict(good)
    t[target] = t[target].T.contiguous()
    d = copy_checkpoint(llama_dir, os.path.join(scratch, "transposed-square"), tensors=t)
    sub = Report(quiet=True)
    model = check_load(sub, "from_pretrained", d, "LlamaForCausalLM")
    if model is not None:
        check_logits(sub, "logits", sb, llama_dir, toks, hf_logits(model, toks), "parallel", scratch, hf_dir=d)
    _case(rep, f"transposed square {tuple(good[target].shape)} matrix written by seqbench", target, sub)

    # 4. transformers -> seqbench: seqbench reading the RG-LRU gate blocks the wrong way round
    target = "model.layers.0.temporal_block.rg_lru.input_gate_weight"
    rg = read_tensors(rg_dir)
    t = dict(rg)
    t[target] = t[target].transpose(1, 2).contiguous()
    d = copy_checkpoint(rg_dir, os.path.join(scratch, "rglru-gate-transposed"), tensors=t)
    cfg = read_config(rg_dir)
    over = {"attention_window_size": int(cfg["attention_window_size"]) + 1}  # official mask, see run.py
    rtoks = torch.randint(0, cfg["vocab_size"], (24,), generator=g).tolist()
    sub = Report(quiet=True)
    model, _ = hf_load(rg_dir, **over)
    check_logits(sub, "logits", sb, d, rtoks, hf_logits(model, rtoks), "parallel", scratch, hf_dir=rg_dir,
                 hf_overrides=over)
    _case(rep, f"RG-LRU gate {tuple(rg[target].shape)} blocks transposed on reading", target, sub)

    shutil.rmtree(scratch, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="broken-checkpoint tests of the interoperability check")
    ap.add_argument("--seqbench", default="build/seqbench")
    ap.add_argument("--work", default="build/interop-work-broken")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if os.path.exists(args.work):
        shutil.rmtree(args.work)
    os.makedirs(args.work)
    rep = Report()
    run(rep, Seqbench(args.seqbench, args.work), args.work)
    p, f = rep.counts()
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
