"""The llama.cpp side of `make bench-peers`: llama.cpp as built from source by the
pinned llama-cpp-python, driven through its C API (llama_decode on a batch), on
GGUFs written from the same checkpoints (gguf_write.py).

It runs as its own process, as the seqbench binary does: `python llamacpp_side.py
logits|time ...` writes a JSON (and, for logits, a .npy) and exits. That keeps
llama.cpp's OpenMP runtime apart from PyTorch's, lets each run start from a
fresh process like seqbench's, and turns an abort inside llama.cpp into a failed
run instead of the end of the whole benchmark.

Measurements, with seqbench's definitions (bench/bench.c):
 - decode: the context's tokens in one batch (untimed), then `steps` batch-1
   llama_decode calls, each feeding back the argmax of the last logits (greedy);
 - prefill: one llama_decode of `length` tokens at batch 1, logits kept at every
   position, since seqbench's and transformers' prefill compute them all (a
   llama-bench pp run keeps only the last one: a third less work at this
   vocabulary).
Each run starts from an empty memory; one warm-up run precedes the timed ones.
The f32 file runs with an f32 KV cache and without flash attention, the other
peers' arithmetic: llama.cpp's CPU flash attention rounds through f16 (the 2-layer
llama's logits moved by 1.3e-3 of their largest with it, 7e-7 without). The f16
and bf16 files run with llama.cpp's defaults, as its users run them: an f16 cache
and flash attention where it applies.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# The llama.cpp commit each llama-cpp-python release vendors, from that release's
# CHANGELOG: the bindings do not report it at run time (their sdist has no .git,
# so llama.cpp's own build info says "unknown").
VENDORED = {"0.3.36": "0c1e57098"}


class LlamaCppError(RuntimeError):
    pass


# ---------------------------------------------------------------- the parent's side

def run(python, mode, gguf, args, out_json, env, timeout=1800):
    """`python llamacpp_side.py MODE --gguf GGUF ARGS --out out_json` in env; its JSON."""
    if os.path.exists(out_json):
        os.unlink(out_json)
    cmd = [python, os.path.join(HERE, "llamacpp_side.py"), mode, "--gguf", gguf, *map(str, args), "--out", out_json]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0 or not os.path.exists(out_json):
        lines = [x for x in (r.stderr.strip() or r.stdout.strip()).splitlines() if x.strip()]
        raise LlamaCppError(f"llama.cpp {mode} {os.path.basename(gguf)} exited {r.returncode}: "
                            f"{lines[-1] if lines else '(no output)'}")
    with open(out_json) as f:
        return json.load(f)


def version():
    """The bindings' version and the llama.cpp commit they vendor; None when not installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version as pkg_version
        v = pkg_version("llama_cpp_python")
    except PackageNotFoundError:
        return None
    return {"llama_cpp_python": v, "llama_cpp_commit": VENDORED.get(v, "unknown")}


def label(v):
    """'llama.cpp 0c1e57098 (llama-cpp-python 0.3.36)', as the table's header names it."""
    return f"llama.cpp {v['llama_cpp_commit']} (llama-cpp-python {v['llama_cpp_python']})"


# ---------------------------------------------------------------- the worker

class Runner:
    """One model and one context of llama.cpp, fed token ids in batches."""

    def __init__(self, gguf, threads, n_ctx, n_batch, exact):
        import llama_cpp as L
        self.L = L
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(gguf.encode(), mp)
        if not self.model:
            raise LlamaCppError(f"llama_model_load_from_file({gguf!r}) failed")
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        cp = L.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch, cp.n_seq_max = n_ctx, n_batch, n_batch, 1
        cp.n_outputs_max, cp.n_outputs_max_per_seq = 0, 0  # logits at every position of a batch
        cp.n_threads = cp.n_threads_batch = threads
        cp.no_perf = True
        if exact:  # see the module's docstring
            cp.type_k = cp.type_v = L.GGML_TYPE_F32
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise LlamaCppError("llama_init_from_model failed")
        self.mem = L.llama_get_memory(self.ctx)
        self.batch = L.llama_batch_init(n_batch, 0, 1)
        self.n_batch = n_batch

    def reset(self):
        self.L.llama_memory_clear(self.mem, True)

    def decode(self, tokens, pos0, all_logits):
        """tokens at positions pos0.. in one llama_decode; logits at every position or the last."""
        b, n = self.batch, len(tokens)
        if n > self.n_batch:
            raise LlamaCppError(f"{n} tokens in one batch (n_batch {self.n_batch})")
        for i, t in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i], b.seq_id[i][0] = int(t), pos0 + i, 1, 0
            b.logits[i] = 1 if all_logits or i == n - 1 else 0
        b.n_tokens = n
        rc = self.L.llama_decode(self.ctx, b)
        if rc != 0:
            raise LlamaCppError(f"llama_decode of {n} tokens at position {pos0} returned {rc}")

    def logits(self, i):
        """The i-th kept row of logits (-1: the last) as a numpy view."""
        return np.ctypeslib.as_array(self.L.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,))

    def free(self):
        self.L.llama_batch_free(self.batch)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def summary(sec, tokens):
    """common.summary's fields and the tokens/s of the median and the fastest run."""
    from common import summary as timing
    r = timing(sec)
    return {**r, "tokens_per_s_median": tokens / r["seconds_median"], "tokens_per_s_best": tokens / r["seconds_min"]}


def time_decode(r, prompt, steps, repeats):
    def once(n):
        r.reset()
        r.decode(prompt, 0, False)
        tok, pos = int(r.logits(-1).argmax()), len(prompt)
        t0 = time.perf_counter()
        for _ in range(n):
            r.decode([tok], pos, False)
            tok, pos = int(r.logits(-1).argmax()), pos + 1
        return time.perf_counter() - t0

    once(2)  # warm-up: pages the weights in, sizes llama.cpp's buffers
    return summary([once(steps) for _ in range(repeats)], steps)


def time_prefill(r, tokens, repeats):
    sec = []
    for i in range(repeats + 1):  # i = 0: warm-up
        r.reset()
        t0 = time.perf_counter()
        r.decode(tokens, 0, True)
        r.L.llama_synchronize(r.ctx)
        if i:
            sec.append(time.perf_counter() - t0)
    return summary(sec, len(tokens))


def logits_of(r, tokens, batched):
    """Logits at every position: the first `batched` tokens in one batch (the prefill
    path), the rest one at a time (the decode path)."""
    r.reset()
    r.decode(tokens[:batched], 0, True)
    rows = [r.logits(i).copy() for i in range(batched)]
    for p in range(batched, len(tokens)):
        r.decode(tokens[p:p + 1], p, False)
        rows.append(r.logits(-1).copy())
    return np.stack(rows)


def _worker_args():
    ap = argparse.ArgumentParser(description="one llama.cpp run of `make bench-peers`")
    ap.add_argument("mode", choices=("logits", "time"))
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--exact", action="store_true",
                    help="an f32 KV cache and no flash attention (for the f32 file); default: llama.cpp's defaults")
    ap.add_argument("--tokens", default="", help="logits: comma-separated token ids")
    ap.add_argument("--batched", type=int, default=1, help="logits: how many of --tokens go in the first batch")
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def worker():
    a = _worker_args()
    import llama_cpp as L
    tokens = [int(t) for t in a.tokens.split(",") if t] if a.mode == "logits" else []
    n = max(len(tokens), a.prefill, a.context + a.steps + 4) if a.mode == "time" else len(tokens)
    r = Runner(a.gguf, a.threads, n_ctx=n, n_batch=n, exact=a.exact)
    res = {"gguf": a.gguf, "threads": a.threads, "kv_cache": "f32" if a.exact else "f16",
           "flash_attn": "disabled" if a.exact else "auto", "n_vocab": r.n_vocab,
           "n_params": L.llama_model_n_params(r.model),
           "system_info": L.llama_print_system_info().decode(errors="replace").strip(),
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), **(version() or {})}
    if a.mode == "logits":
        npy = os.path.splitext(a.out)[0] + ".npy"
        np.save(npy, logits_of(r, tokens, a.batched))
        res["logits_npy"] = npy
    else:
        rng = np.random.default_rng(a.seed)
        prompt = rng.integers(3, r.n_vocab, a.context).tolist()
        res["decode"] = {"batch": 1, "context": a.context, "steps": a.steps,
                         **time_decode(r, prompt, a.steps, a.repeats)}
        res["prefill"] = {"batch": 1, "length": a.prefill, "logits": "every position",
                          **time_prefill(r, rng.integers(3, r.n_vocab, a.prefill).tolist(), a.repeats)}
    r.free()
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    try:
        worker()
    except LlamaCppError as e:
        print(f"llamacpp_side: {e}", file=sys.stderr)
        sys.exit(2)
