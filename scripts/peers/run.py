#!/usr/bin/env python3
"""seqbench side by side with PyTorch, Hugging Face transformers and llama.cpp (`make bench-peers`).

In one run, on this machine, with the same shapes, fp32, random weights and the
same thread count:
 - Mamba-130M (configs/paper/mamba-130m.json) and a 124M Llama (configs/paper/llama-124m.json)
   are made at random with transformers and saved with save_pretrained; seqbench
   benchmarks that same checkpoint (`seqbench bench --model DIR`), transformers
   runs `generate` (decode, batch 1, 16 and 64) and one forward (prefill 512), and
   a plain PyTorch loop (torch_decode.py) decodes with the same weights;
 - the training step of the 2-layer d_model 64 Mamba and Transformer (vocab 16)
   at batch 8 x length 256: seqbench's `bench`, and eager PyTorch on the model
   seqbench describes in its result (torch_train.py: the Mamba with the
   sequential reference scan and with a doubling scan; the Transformer as
   LlamaForCausalLM);
 - llama.cpp (the pinned llama-cpp-python's build) on GGUFs of the same two checkpoints,
   f32, f16 and bf16 (gguf_write.py, llamacpp_side.py): batch-1 decode and prefill, in
   rounds with seqbench's run of the same measurements (seqbench, then llama.cpp on
   each file), the ratio taken per round;
 - the roofline from `seqbench bench roofline` when the binary has it;
 - every seqbench figure again while another process keeps one core busy
   (busy.py), right after its idle run and with the same settings, unless --no-busy.
Before any timing, each PyTorch path is checked against the library's forward
(relative error <= 1e-4), and each GGUF's llama.cpp logits against its float64
forward (see lc_tol): a fast wrong peer would make every ratio meaningless.

Writes the JSON (ratios per row, machine, versions) atomically, a Markdown table
in the layout of issue 17's beside it, prints the table, and with --doc FILE
replaces the table between FILE's bench-peers markers (`make bench-peers`:
docs/benchmarks.md).
"""

import argparse
import copy
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

TOL = 1e-4
# llama.cpp's logits check: this many tokens, the first LC_CHECK_BATCHED in one batch
LC_CHECK_TOKENS, LC_CHECK_BATCHED = 40, 24
# decode batches of the big models, on every side (issue 18 sets targets at 16 and 64)
BATCHES = (1, 16, 64)


def die(msg, code=2):
    print(f"seqbench: bench-peers: {msg}", file=sys.stderr)
    sys.exit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, as every seqbench error
        die(message)


def parse_args():
    ap = _Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seqbench", default=os.path.join(ROOT, "build", "seqbench"), help="the seqbench binary")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "peers-work"),
                    help="scratch folder for the checkpoints and seqbench's result files (emptied first)")
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "bench-peers.json"))
    ap.add_argument("--md", default=None, help="the Markdown table (default: --out with .md)")
    # --readme: the flag's name while the table lived in the README; kept so older commands still work
    ap.add_argument("--doc", "--readme", dest="doc", default=None,
                    help="replace the table between the bench-peers markers of this file (docs/benchmarks.md)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per figure after a warm-up")
    ap.add_argument("--context", type=int, default=32, help="decode: prompt / context tokens before the timed steps")
    ap.add_argument("--steps", type=int, default=16, help="decode: timed steps per run")
    ap.add_argument("--prefill", type=int, default=512, help="prefill length, batch 1")
    ap.add_argument("--long-context", type=int, default=1024,
                    help="the seqbench-only row: 124M llama decode at this context, batch 1 (0 = skip)")
    ap.add_argument("--mamba-config", default=os.path.join(ROOT, "configs", "paper", "mamba-130m.json"))
    ap.add_argument("--llama-config", default=os.path.join(ROOT, "configs", "paper", "llama-124m.json"))
    ap.add_argument("--figure", choices=("median", "best"), default="median",
                    help="which of the repeats each figure is, on both sides (best: the fastest run, "
                         "steadier on a busy machine)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seqbench-env", choices=("same", "inherit"), default="same",
                    help="same: seqbench runs with the Python side's OMP_WAIT_POLICY and OMP_NUM_THREADS "
                         "(equal settings); inherit: with the caller's environment")
    ap.add_argument("--no-busy", dest="busy", action="store_false",
                    help="skip the second measurement of every seqbench figure with one core kept busy")
    ap.add_argument("--quick", action="store_true",
                    help="plumbing check: 2-layer versions of the two big models, short runs; never goes into --doc")
    ap.add_argument("--llamacpp-rounds", type=int, default=3,
                    help="llama.cpp rows: rounds of seqbench's run then llama.cpp's, per model")
    ap.add_argument("--llamacpp-dtypes", default="f32,f16,bf16",
                    help="the GGUF types llama.cpp runs (comma-separated; f32, f16, bf16)")
    ap.add_argument("--no-llamacpp", dest="llamacpp", action="store_false",
                    help="skip llama.cpp (an interop environment made before it was pinned has no llama-cpp-python)")
    ap.add_argument("--only-llamacpp", action="store_true",
                    help="the checks and the llama.cpp rows alone (the other peers, the small models, the busy "
                         "reruns and the roofline skipped); never goes into --doc")
    a = ap.parse_args()
    # every input checked before the first model is made
    for name in ("threads", "repeats", "context", "steps", "prefill"):
        v = getattr(a, name)
        if not 1 <= v <= 1 << 20:
            die(f"--{name} {v} is out of range [1, 1048576]")
    if not 1 <= a.llamacpp_rounds <= 100:
        die(f"--llamacpp-rounds {a.llamacpp_rounds} is out of range [1, 100]")
    a.llamacpp_dtypes = [d for d in a.llamacpp_dtypes.split(",") if d]
    bad = [d for d in a.llamacpp_dtypes if d not in ("f32", "f16", "bf16")]
    if bad or not a.llamacpp_dtypes or len(set(a.llamacpp_dtypes)) != len(a.llamacpp_dtypes):
        die(f"--llamacpp-dtypes {','.join(a.llamacpp_dtypes)!r}: want distinct f32, f16, bf16")
    if a.only_llamacpp and not a.llamacpp:
        die("--only-llamacpp with --no-llamacpp: nothing to measure")
    if a.only_llamacpp:
        a.busy = False
    if a.llamacpp:
        import llamacpp_side as LC
        if LC.version() is None:
            die(f"llama-cpp-python is not installed in {sys.prefix} (pinned in scripts/requirements.txt: "
                "`make build/interop-venv/.installed` adds it, or PEERS_FLAGS=--no-llamacpp)")
    if not 0 <= a.long_context <= 1 << 20:
        die(f"--long-context {a.long_context} is out of range [0, 1048576]")
    if not (os.path.isfile(a.seqbench) and os.access(a.seqbench, os.X_OK)):
        die(f"--seqbench {a.seqbench!r} is not an executable file (build it with `make`)")
    if not os.path.isfile(a.mamba_config):
        die(f"--mamba-config {a.mamba_config!r} does not exist")
    a.md = a.md or os.path.splitext(a.out)[0] + ".md"
    for opt, path in (("--out", a.out), ("--md", a.md)):
        d = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(d) or not os.access(d, os.W_OK):
            die(f"{opt} {path!r}: folder {d!r} does not exist or is not writable")
    if a.doc:
        if a.quick or a.only_llamacpp:
            die(f"--doc with {'--quick' if a.quick else '--only-llamacpp'}: that run's table is not the page's")
        try:
            with open(a.doc) as f:
                text = f.read()
        except OSError as e:
            die(f"--doc {a.doc!r}: {e.strerror}")
        from table import BEGIN, END
        if BEGIN not in text or END not in text:
            die(f"--doc {a.doc!r} has no {BEGIN} ... {END} block to replace")
    return a


def set_threads(threads):
    """Before torch is imported: OpenMP reads these once, at start. PASSIVE: idle
    threads sleep instead of spinning against whatever else holds a core."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))


def main():
    a = parse_args()
    caller_env = dict(os.environ)
    set_threads(a.threads)
    # With the default (active) wait, OpenMP threads spin for a core another process
    # holds: at load 10 on 2 cores seqbench's Mamba-130M decode fell from 10 to 2
    # tokens/s. Equal settings on both sides unless asked otherwise.
    seqbench_env = dict(os.environ) if a.seqbench_env == "same" else caller_env

    import torch
    import transformers
    torch.set_num_threads(a.threads)
    transformers.logging.set_verbosity_error()  # the "falling back to PyTorch" notes: the fallback is the point
    transformers.logging.disable_progress_bar()

    import numpy as np

    import busy as B
    import common as C
    import gguf_write as GW
    import llamacpp_side as LC
    import hf_side as H
    import seqbench_side as S
    import table as TB
    import torch_decode as TD
    import torch_train as TT

    t_start = time.time()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    sb = os.path.abspath(a.seqbench)
    threads = ["--threads", a.threads]
    rep = ["--repeats", a.repeats]
    out = {"command": "bench-peers", "argv": sys.argv, "quick": a.quick,
           "started_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "load_average_1m_at_start": C.load1(), "machine": C.machine(a.threads),
           "versions": {**C.versions(), "seqbench": S.version(sb, seqbench_env),
                        **({"llama_cpp": LC.version()} if a.llamacpp else {})},
           "settings": {k: getattr(a, k) for k in ("threads", "repeats", "context", "steps", "prefill",
                                                  "long_context", "seed", "seqbench_env", "figure", "busy")},
           "omp_wait_policy": {"python": os.environ.get("OMP_WAIT_POLICY"),
                               "seqbench": seqbench_env.get("OMP_WAIT_POLICY")},
           "checks": [], "peers_measured": {}, "seqbench_measured": {},
           "busy": {"measured": a.busy, **(B.describe() if a.busy else {}),
                    "omp_wait_policy": seqbench_env.get("OMP_WAIT_POLICY") if a.busy else None,
                    "runs": []},
           "seqbench_measured_busy": {}}
    if (out["load_average_1m_at_start"] or 0) > 0.5:
        C.progress(f"warning: load average {out['load_average_1m_at_start']} before starting; other processes "
                   "will skew the timings (both sides, not necessarily alike)")
    pins = C.pinned_versions(os.path.join(ROOT, "scripts", "requirements.txt"))
    for k in ("torch", "transformers"):
        if pins.get(k) and not out["versions"][k].startswith(pins[k]):
            C.progress(f"warning: {k} {out['versions'][k]} is not the pinned {pins[k]}")
    if a.llamacpp and pins.get("llama-cpp-python") != out["versions"]["llama_cpp"]["llama_cpp_python"]:
        C.progress(f"warning: llama-cpp-python {out['versions']['llama_cpp']['llama_cpp_python']} is not the "
                   f"pinned {pins.get('llama-cpp-python')}")

    def check(name, rel, tol=TOL):
        ok = rel <= tol
        out["checks"].append({"name": name, "max_rel_err": rel, "tolerance": tol, "passed": ok})
        C.progress(f"check {'PASS' if ok else 'FAIL'} {name}: max rel err {rel:.2e}")
        if not ok:
            die(f"check {name} failed (max rel err {rel:.2e} > {tol}): its timings would mean nothing", 1)

    # a run of a tiny model first (milliseconds): a binary that fails, or refuses
    # --threads, fails here rather than after minutes of measurements
    try:
        S.bench(sb, ["--arch", "mamba", "--layers", 1, "--d-model", 8, "--vocab", 4, "--lengths", 2, "--batches", 1,
                     "--contexts", 1, "--decode-steps", 1, "--repeats", 1, "--train-batch", 1, "--train-len", 2,
                     *threads], os.path.join(a.work, "preflight.json"), seqbench_env)
    except S.SeqbenchError as e:
        die(str(e))

    def sb_bench(tag, args):
        """seqbench bench ARGS (result in tag.json); with the busy column, at once again
        with the same arguments and environment while another process spins on one
        core (tag-busy.json). Returns (figures, busy figures or None)."""
        f = S.bench_figures(S.bench(sb, args, os.path.join(a.work, f"{tag}.json"), seqbench_env))
        if not a.busy:
            return f, None
        C.progress(f"  again with one core busy ({tag})")
        rep_ = {"tag": tag}
        try:
            with B.busy_core(rep_):
                fb = S.bench_figures(S.bench(sb, args, os.path.join(a.work, f"{tag}-busy.json"), seqbench_env))
        except RuntimeError as e:  # the spinner died: that figure would be an idle one
            die(f"{tag}: {e}", 1)
        out["busy"]["runs"].append(rep_)
        if rep_.get("cpu_share") is not None and rep_["cpu_share"] < 0.5:
            C.progress(f"warning: the busy-core process had {100 * rep_['cpu_share']:.0f}% of a core during "
                       f"{tag}: the machine is busier than one extra process")
        return f, fb

    # ---------------------------------------------------------------- checks (seconds)
    from transformers import AutoModelForCausalLM, LlamaConfig, MambaConfig
    torch.manual_seed(a.seed)
    small = {"mamba": MambaConfig(vocab_size=50, hidden_size=64, num_hidden_layers=2, state_size=16,
                                  time_step_rank=4),
             "llama": LlamaConfig(vocab_size=50, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=4, num_key_value_heads=2)}
    for name, cfg in small.items():
        m = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
        check(f"plain PyTorch decode loop == transformers forward ({name})", TD.check_logits(m, list(range(3, 40))))
        if name == "mamba":
            for scan, rel in TT.check_scans(m).items():
                check(f"training Mamba, {scan} scan == transformers forward", rel)

    # ---------------------------------------------------------------- roofline
    # measured at the start and again at the end, the best of each figure kept: another
    # process on the cores lowers a roofline, and a bound is what the machine allows
    roofs = []
    has_roof = not a.only_llamacpp and S.has_roofline(sb, seqbench_env)

    def measure_roofline(when):
        C.progress(f"seqbench bench roofline ({when})")
        res, fig = S.roofline(sb, a.threads, os.path.join(a.work, f"roofline-{when}.json"), seqbench_env)
        roofs.append({"when": when, "result": res, **fig})
        if not fig["bandwidth_bytes_per_s"] or not fig["peak_flops_per_s"]:
            C.progress("warning: the roofline result has no recognisable bandwidth or sgemm field "
                       "(seqbench_side.roofline_figures); the bound column stays empty")

    if has_roof:
        measure_roofline("start")
    elif not a.only_llamacpp:
        C.progress("this seqbench has no `bench roofline`: the bound column stays empty")

    rows = []

    def tps(r):
        return r[f"tokens_per_s_{a.figure}"]

    def ms(r):
        return r[f"ms_{a.figure}"]

    def row(rid, measure, unit, seqbench, peers, bound=None, busy=None, llama_cpp=None):
        """bound(roof) -> the row's roofline bound, evaluated once the run's roofline is known;
        busy: seqbench's figure with one core busy (None: not measured); llama_cpp: the paired
        figures by GGUF type (TB.paired)."""
        rows.append({"id": rid, "measure": measure, "unit": unit, "seqbench": seqbench, "peers": peers,
                     "llama_cpp": llama_cpp, "_bound": bound,
                     **({"seqbench_busy": {"value": busy}} if busy is not None else {})})

    # ---------------------------------------------------------------- the small models' training step
    # A step of these takes 15-50 ms (seqbench, PyTorch's llama and doubling scan): a median of 2 or 3
    # moved by a third between runs on a noisy host, so both sides take the median of at least 10.
    # PyTorch's sequential scan (~2 s a step) keeps at least 3.
    def small_models():
        """The training-step rows (and the 2-layer Mamba's decode); returns seqbench's figures,
        idle and with one core busy, by arch."""
        small_rep = max(10, a.repeats)
        small_args = ["--layers", 2, "--d-model", 64, "--vocab", 16, "--train-batch", 8, "--train-len", 256,
                      "--lengths", 256, *threads]
        tiny, tiny_busy = {}, {}
        for arch in ("mamba", "transformer"):
            C.progress(f"seqbench bench: 2-layer d_model 64 {arch}, training step 8 x 256"
                       + (", decode batch 1" if arch == "mamba" else ""))
            dec = ["--batches", 1, "--contexts", a.context, "--decode-steps", 4096] if arch == "mamba" else \
                  ["--batches", 1, "--contexts", 1, "--decode-steps", 1]
            tiny[arch], tiny_busy[arch] = sb_bench(f"small-{arch}",
                                                   ["--arch", arch, *small_args, *dec, "--repeats", small_rep])
            out["seqbench_measured"][f"small_{arch}"] = tiny[arch]["train_step"]
            C.progress(f"  seqbench: {ms(tiny[arch]['train_step']):.1f} ms a step")
            if tiny_busy[arch]:
                out["seqbench_measured_busy"][f"small_{arch}"] = tiny_busy[arch]["train_step"]
                C.progress(f"  seqbench, one core busy: {ms(tiny_busy[arch]['train_step']):.1f} ms a step")

        def hf_from_seqbench(cfg):
            """The transformers model seqbench's result describes (its HF config), at random."""
            from transformers import AutoConfig
            c = {k: v for k, v in cfg.items() if k not in H.NOT_CONFIG}
            torch.manual_seed(a.seed)
            return AutoModelForCausalLM.from_config(AutoConfig.for_model(cfg["model_type"], **c), dtype=torch.float32)

        m = hf_from_seqbench(tiny["mamba"]["model_config"])
        if H.n_params(m) != tiny["mamba"]["n_params"]:
            die(f"the PyTorch Mamba has {H.n_params(m)} parameters, seqbench's {tiny['mamba']['n_params']}", 1)
        torch_train = {}
        for scan in ("doubling", "sequential"):
            C.progress(f"PyTorch: 2-layer d_model 64 Mamba training step, {scan} scan")
            torch_train[scan] = TT.mamba_step(m, scan, 8, 256, small_rep if scan == "doubling" else max(3, a.repeats),
                                              a.seed)
            C.progress(f"  {ms(torch_train[scan]):.0f} ms a step")
        ts = tiny["mamba"]["train_step"]
        def roof_ms(f, ts):
            return lambda roof: (1e3 * f * ts["batch"] * ts["length"] / roof["peak_flops_per_s"]
                                 if roof.get("peak_flops_per_s") else None)
        row("train_mamba", "training step, 2-layer d_model 64 Mamba, B 8 × T 256 (ms)", "ms", ms(ts),
            {"pytorch_doubling": {"value": ms(torch_train["doubling"]), "what": "eager, doubling scan"},
             "pytorch_sequential": {"value": ms(torch_train["sequential"]),
                                    "what": "eager, sequential reference scan (selective_scan_ref)"}},
            roof_ms(ts["flops_per_token"], ts), tiny_busy["mamba"] and ms(tiny_busy["mamba"]["train_step"]))
        out["peers_measured"]["train_mamba"] = torch_train

        m = hf_from_seqbench(tiny["transformer"]["model_config"])
        if H.n_params(m) != tiny["transformer"]["n_params"]:
            die(f"the PyTorch Transformer has {H.n_params(m)} parameters, seqbench's "
                f"{tiny['transformer']['n_params']}", 1)
        C.progress("PyTorch: 2-layer d_model 64 Transformer (LlamaForCausalLM) training step")
        tt = TT.llama_step(m, 8, 256, small_rep, a.seed)
        C.progress(f"  {ms(tt):.1f} ms a step")
        ts = tiny["transformer"]["train_step"]
        row("train_transformer", "same, Transformer (ms)", "ms", ms(ts),
            {"pytorch": {"value": ms(tt), "what": "LlamaForCausalLM, eager"}}, roof_ms(ts["flops_per_token"], ts),
            tiny_busy["transformer"] and ms(tiny_busy["transformer"]["train_step"]))
        out["peers_measured"]["train_transformer"] = tt
        del m
        return tiny, tiny_busy

    # ---------------------------------------------------------------- the two 130M-class models
    big = {"mamba": H.mamba_config_from_paper(a.mamba_config), "llama": H.llama_config_from_paper(a.llama_config)}
    label = {"mamba": "Mamba-130M", "llama": "124M llama"}
    if a.quick:
        for c in big.values():
            c.num_hidden_layers = 2
        label = {k: v + " (quick: 2 layers)" for k, v in label.items()}
        a.long_context = min(a.long_context, 64)
    def other_peers(name, d, model):
        """seqbench (idle and with one core busy), transformers and the plain PyTorch loop on
        one of the two big models: decode at every batch, prefill, and the llama at a long context."""
        vocab = model.config.vocab_size
        C.progress(f"seqbench bench --model: {label[name]}, prefill {a.prefill}, decode batch "
                   f"{', '.join(map(str, BATCHES))}")
        f, fb = sb_bench(name, ["--model", d, "--lengths", a.prefill, "--batches", ",".join(map(str, BATCHES)),
                                "--contexts", a.context, "--decode-steps", a.steps, "--train-batch", 1,
                                "--train-len", 1, *rep, *threads])
        if f["n_params"] != H.n_params(model):
            die(f"seqbench read {f['n_params']} parameters from {d}, transformers has {H.n_params(model)}", 1)
        for key, fig in (("seqbench_measured", f), ("seqbench_measured_busy", fb)):
            if fig:
                out[key][name] = {"prefill": list(fig["prefill"].values()),
                                  "decode": [{"batch": b, "context": c, **v} for (b, c), v in fig["decode"].items()],
                                  "param_bytes": fig["param_bytes"], "n_params": fig["n_params"],
                                  "machine": fig["machine"]}
        peer = out["peers_measured"].setdefault(name, {})
        C.progress(f"transformers: {label[name]} prefill {a.prefill}")
        peer["hf_prefill"] = H.prefill(model, a.prefill, a.repeats, vocab, a.seed)
        for b in BATCHES:
            C.progress(f"transformers generate: {label[name]} decode batch {b}")
            peer[f"hf_decode_b{b}"] = H.generate_decode(model, b, a.context, a.steps, a.repeats, vocab, a.seed)
            C.progress(f"  {tps(peer[f'hf_decode_b{b}']):.1f} tok/s")
            C.progress(f"plain PyTorch loop: {label[name]} decode batch {b}")
            peer[f"torch_decode_b{b}"] = TD.decode(model, b, a.context, a.steps, a.repeats, vocab, a.seed)
            C.progress(f"  {tps(peer[f'torch_decode_b{b}']):.1f} tok/s")
        for b in BATCHES:
            sd = f["decode"][(b, a.context)]
            row(f"{name}_decode_b{b}", f"{label[name]} decode, batch {b} (tok/s)", "tok/s", tps(sd),
                {"pytorch": {"value": tps(peer[f"torch_decode_b{b}"]),
                             "what": "plain PyTorch decode loop (torch_decode.py)"},
                 "transformers": {"value": tps(peer[f"hf_decode_b{b}"]),
                                  "what": "generate, greedy"}},
                TB.decode_bound(f["param_bytes"], sd["state_bytes"], b, sd["flops_per_token"]),
                fb and tps(fb["decode"][(b, a.context)]))
            if name == "llama" and b == 1 and a.long_context:
                C.progress(f"seqbench bench --model: {label[name]} decode batch 1 at context {a.long_context}")
                lf, lfb = sb_bench(f"{name}-long", ["--model", d, "--lengths", 1, "--batches", 1, "--contexts",
                                                    a.long_context, "--decode-steps", a.steps, "--train-batch", 1,
                                                    "--train-len", 1, *rep, *threads])
                ld = lf["decode"][(1, a.long_context)]
                ldb = lfb and lfb["decode"][(1, a.long_context)]
                out["seqbench_measured"]["llama_long_context"] = {"batch": 1, "context": a.long_context, **ld}
                if ldb:
                    out["seqbench_measured_busy"]["llama_long_context"] = {"batch": 1, "context": a.long_context,
                                                                           **ldb}
                row("llama_decode_b1_long", f"{label[name]} decode, batch 1, context {a.long_context} (tok/s)",
                    "tok/s", tps(ld), {},
                    TB.decode_bound(lf["param_bytes"], ld["state_bytes"], 1, ld["flops_per_token"]),
                    ldb and tps(ldb))
        sp = f["prefill"][a.prefill]
        row(f"{name}_prefill", f"{label[name]} prefill {a.prefill} (tok/s)", "tok/s", tps(sp),
            {"transformers": {"value": tps(peer["hf_prefill"]), "what": "one forward, batch 1"}},
            TB.compute_bound_tps(sp["flops_per_token"]), fb and tps(fb["prefill"][a.prefill]))

    # ---------------------------------------------------------------- llama.cpp
    # Its logits are held against transformers' forward in float64, the exact answer up to
    # 1e-15: at full depth fp32 itself is not within 1e-4 of it (the random 24-layer Mamba-130M's
    # fp32 forward in transformers is 4.6e-4 away: these random weights amplify a rounding
    # ~8000 times), so the timed f32 file must be within TOL or twice transformers' own fp32
    # distance, whichever is larger. At that amplification f16 and bf16 (11 and 8 significant
    # bits, weights and activations) are noise at full depth (the Mamba's f16 file: 0.46, argmax
    # agreeing at 55% of positions), so their writer and llama.cpp's half-precision graphs are
    # checked on a 2-layer model of the same widths, vocabulary and heads, with fixed bounds.
    lc_tol = {"f16": 2e-2, "bf16": 1e-1}
    lc_out = out["llama_cpp"] = ({"label": LC.label(out["versions"]["llama_cpp"]), "dtypes": a.llamacpp_dtypes,
                                  "rounds": a.llamacpp_rounds, "tolerance": lc_tol, "checks": [], "runs": {}}
                                 if a.llamacpp else None)

    def lc_run(mode, gguf, dtype, args, tag):
        """One llama.cpp process (llamacpp_side.py) in seqbench's environment: the same
        threads and OpenMP wait policy."""
        exact = ["--exact"] if dtype == "f32" else []
        try:
            return LC.run(sys.executable, mode, gguf, ["--threads", a.threads, *exact, *args],
                          os.path.join(a.work, f"{tag}.json"), seqbench_env)
        except (LC.LlamaCppError, subprocess.TimeoutExpired) as e:
            die(str(e).splitlines()[0], 1)

    def lc_check(name, model, ggufs):
        """Every GGUF's logits against transformers' float64 forward on the same tokens: the
        first ones in one batch (the prefill path), the rest one at a time (the decode path)."""
        g = torch.Generator().manual_seed(a.seed + 1)
        toks = torch.randint(3, model.config.vocab_size, (LC_CHECK_TOKENS,), generator=g)
        with torch.inference_mode():
            ref32 = model(toks[None], use_cache=False).logits[0].numpy()
            ref = model.double()(toks[None], use_cache=False).logits[0].numpy()
            model.float()  # f32 -> f64 -> f32 gives back the same weights
        lib = float(np.abs(ref32 - ref).max() / np.abs(ref).max())
        tol = dict(lc_tol, f32=max(TOL, 2 * lib))
        lc_out["checks"].append({"model": name, "label": label[name], "layers": model.config.num_hidden_layers,
                                 "dtype": "transformers fp32", "max_rel_err": lib})
        C.progress(f"  transformers' own fp32 forward: max rel err {lib:.2e} from its float64 forward")
        for dtype, path in ggufs.items():
            res = lc_run("logits", path, dtype, ["--tokens", ",".join(map(str, toks.tolist())),
                                                 "--batched", LC_CHECK_BATCHED], f"{name}-{dtype}-logits")
            got = np.load(res["logits_npy"])
            if got.shape != ref.shape:
                die(f"llama.cpp {dtype} {label[name]}: logits of shape {got.shape}, transformers {ref.shape}", 1)
            rel = float(np.abs(got - ref).max() / np.abs(ref).max())
            agree = float((got.argmax(1) == ref.argmax(1)).mean())
            layers = model.config.num_hidden_layers
            lc_out["checks"].append({"model": name, "label": label[name], "layers": layers, "dtype": dtype,
                                     "max_rel_err": rel,
                                     "tolerance": tol[dtype], "argmax_agreement": agree})
            check(f"llama.cpp {dtype} GGUF == transformers float64 forward ({label[name]}, {layers} layers; argmax "
                  f"agrees at {100 * agree:.0f}% of positions)", rel, tol[dtype])

    def lc_write(name, d, dtypes):
        """{dtype: path} of the GGUFs of the checkpoint in d."""
        ggufs = {}
        for dt in dtypes:
            ggufs[dt] = os.path.join(a.work, f"{os.path.basename(d)}-{dt}.gguf")
            try:
                GW.write(d, ggufs[dt], dt)
            except GW.GGUFError as e:
                die(f"writing the {dt} GGUF of {label[name]}: {e}", 1)
        return ggufs

    def sb_sweeps(name, d, i, dtype):
        """seqbench's batch-1 decode and prefill at --dtype dtype through the sweeps'
        instruments (`bench` itself also trains, and training is fp32 only): bf16 and its
        fp32 yardstick measured the same way."""
        dec = S.bench(sb, ["decode", "--model", d, "--dtype", dtype, "--batches", 1, "--context", a.context,
                           "--contexts", a.context, "--steps", a.steps, *rep, *threads],
                      os.path.join(a.work, f"{name}-{dtype}-decode-round{i}.json"), seqbench_env)
        pre = S.bench(sb, ["prefill", "--model", d, "--dtype", dtype, "--lengths", a.prefill, *rep, *threads],
                      os.path.join(a.work, f"{name}-{dtype}-prefill-round{i}.json"), seqbench_env)
        return {"decode": S.sweep_point(dec, batch=1, context=a.context, sweep="batch"),
                "prefill": S.sweep_point(pre, length=a.prefill)}

    def lc_rounds(name, d, ggufs):
        """Rounds of seqbench's decode-1 and prefill run (fp32, and bf16 when llama.cpp runs
        a half-precision GGUF), then llama.cpp's on each GGUF: each side's figures per round,
        by measure."""
        sbv = {"decode": [], "prefill": []}
        half = any(dt != "f32" for dt in ggufs)
        sbh = {"decode": [], "prefill": [], "fp32_decode": [], "fp32_prefill": []}
        lcv = {dt: {"decode": [], "prefill": []} for dt in ggufs}
        runs = lc_out["runs"][name] = []
        for i in range(a.llamacpp_rounds):
            C.progress(f"round {i + 1}/{a.llamacpp_rounds}: seqbench, then llama.cpp {', '.join(ggufs)}: "
                       f"{label[name]} decode batch 1, prefill {a.prefill}")
            try:
                f = S.bench_figures(S.bench(sb, ["--model", d, "--lengths", a.prefill, "--batches", 1, "--contexts",
                                                 a.context, "--decode-steps", a.steps, "--train-batch", 1,
                                                 "--train-len", 1, *rep, *threads],
                                            os.path.join(a.work, f"{name}-round{i}.json"), seqbench_env))
            except S.SeqbenchError as e:
                die(str(e), 1)
            sbv["decode"].append(tps(f["decode"][(1, a.context)]))
            sbv["prefill"].append(tps(f["prefill"][a.prefill]))
            run = {"seqbench": {"decode": sbv["decode"][-1], "prefill": sbv["prefill"][-1]}}
            if half:
                try:
                    h, h32 = sb_sweeps(name, d, i, "bf16"), sb_sweeps(name, d, i, "fp32")
                except S.SeqbenchError as e:
                    die(str(e), 1)
                for m in ("decode", "prefill"):
                    sbh[m].append(h[m])
                    sbh[f"fp32_{m}"].append(h32[m])
                run["seqbench_bf16"], run["seqbench_fp32_sweeps"] = h, h32
            for dt, path in ggufs.items():
                r = lc_run("time", path, dt, ["--context", a.context, "--steps", a.steps, "--prefill", a.prefill,
                                              "--repeats", a.repeats, "--seed", a.seed], f"{name}-{dt}-round{i}")
                for m in ("decode", "prefill"):
                    lcv[dt][m].append(tps(r[m]))
                run[dt] = r
            C.progress("  tok/s decode " + ", ".join(f"{k} {v['decode']:.1f}" if k.startswith("seqbench") else
                                                      f"{k} {tps(v['decode']):.1f}" for k, v in run.items()))
            runs.append(run)
        return sbv, lcv, sbh

    def llamacpp_rows(name, d, model):
        """llama.cpp on GGUFs of the checkpoint in d, checked, then timed in rounds with seqbench."""
        ggufs = lc_write(name, d, a.llamacpp_dtypes)
        C.progress(f"{label[name]}: GGUF {', '.join(ggufs)} written; checking their logits")
        half = [dt for dt in ggufs if dt != "f32"]
        if "f32" in ggufs:
            lc_check(name, model, {"f32": ggufs["f32"]})
        if half and model.config.num_hidden_layers > 2:
            cfg2 = copy.deepcopy(model.config)
            cfg2.num_hidden_layers = 2
            small = H.make_checkpoint(cfg2, f"{d}-2layers", a.seed)
            lc_check(name, small, lc_write(name, f"{d}-2layers", half))
            del small
        elif half:
            lc_check(name, model, {dt: ggufs[dt] for dt in half})
        sbv, lcv, sbh = lc_rounds(name, d, ggufs)
        for m, measure in (("decode", "decode, batch 1"), ("prefill", f"prefill {a.prefill}")):
            row(f"{name}_{m}_llamacpp", f"{label[name]} {measure}, in rounds with llama.cpp (tok/s)", "tok/s",
                statistics.median(sbv[m]), {}, llama_cpp={dt: TB.paired(sbv[m], lcv[dt][m], "tok/s")
                                                         for dt in ggufs})
            if sbh[m]:  # seqbench --dtype bf16 beside llama.cpp's half-precision GGUFs (and its own fp32)
                own = statistics.median(h / f for h, f in zip(sbh[m], sbh[f"fp32_{m}"]))
                row(f"{name}_{m}_llamacpp_bf16", f"{label[name]} {measure}, seqbench --dtype bf16, in rounds "
                    f"with llama.cpp (tok/s; {own:.2f}x its fp32 in the same instrument)",
                    "tok/s", statistics.median(sbh[m]), {},
                    llama_cpp={dt: TB.paired(sbh[m], lcv[dt][m], "tok/s") for dt in ggufs if dt != "f32"})

    tiny, tiny_busy = small_models() if not a.only_llamacpp else (None, None)
    for name, cfg in big.items():
        d = os.path.join(a.work, name)
        C.progress(f"{label[name]}: random fp32 weights, save_pretrained")
        model = H.make_checkpoint(cfg, d, a.seed)
        if not a.only_llamacpp:
            other_peers(name, d, model)
        if a.llamacpp:
            llamacpp_rows(name, d, model)
        del model

    if tiny:
        sd = tiny["mamba"]["decode"][(1, a.context)]
        row("small_mamba_decode_b1", "decode, 2-layer d_model 64 Mamba, batch 1 (tok/s)", "tok/s", tps(sd), {},
            busy=tiny_busy["mamba"] and tps(tiny_busy["mamba"]["decode"][(1, a.context)]))

    # ---------------------------------------------------------------- bounds and the table
    roof = {}
    if has_roof:
        measure_roofline("end")
        for k in ("bandwidth_bytes_per_s", "peak_flops_per_s"):
            vals = [r[k] for r in roofs if r.get(k)]
            roof[k] = max(vals) if vals else None
    out["roofline"] = {**roof, "runs": roofs} if has_roof else None
    for r in rows:
        fn = r.pop("_bound")
        v = fn(roof) if fn and roof else None
        r["bound"] = {"value": v} if v else None
        TB.finish_row(r)
    order = ["mamba_decode_b1", "mamba_decode_llamacpp", "mamba_decode_llamacpp_bf16", "mamba_decode_b16",
             "mamba_decode_b64", "llama_decode_b1", "llama_decode_llamacpp", "llama_decode_llamacpp_bf16",
             "llama_decode_b1_long", "llama_decode_b16", "llama_decode_b64", "mamba_prefill",
             "mamba_prefill_llamacpp", "mamba_prefill_llamacpp_bf16", "llama_prefill", "llama_prefill_llamacpp",
             "llama_prefill_llamacpp_bf16", "train_mamba", "train_transformer", "small_mamba_decode_b1"]
    rows.sort(key=lambda r: order.index(r["id"]))
    v = out["versions"]
    tv, hv = v["torch"].split("+")[0], v["transformers"]
    md = TB.markdown(rows, tv, hv, lc_out and lc_out["label"], a.llamacpp_dtypes if lc_out else ())
    wall = time.time() - t_start
    out.update(rows=rows, ratio_meaning="ratio = how many times as fast seqbench is as the peer "
               "(its tokens/s over the peer's, or the peer's ms over its ms); bound.fraction = seqbench's share "
               "of the roofline bound; seqbench_busy.slowdown = how many times slower seqbench is with one core busy "
               "(idle tokens/s over busy, or busy ms over idle); llama_cpp: by GGUF type, its median over the rounds "
               "(value) and each round's figure beside seqbench's of the same round, the ratio per round and their "
               "median",
               load_average_1m_at_end=C.load1(), wall_time_s=wall)
    # seqbench's own description of the machine (OpenBLAS core and version), when it gives one
    for r in [x["result"] for x in roofs] + [x for x in out["seqbench_measured"].values() if isinstance(x, dict)]:
        sm = r.get("machine")
        if isinstance(sm, dict) and isinstance(sm.get("machine"), dict):
            sm = sm["machine"]
        if isinstance(sm, dict) and sm.get("openblas_core"):
            out["machine"]["seqbench"] = sm
            break
    text = TB.report_text(out, md, roof, a)
    out["table_markdown"] = md
    C.write_json_atomic(a.out, out)
    C.write_json_atomic(a.md, text + "\n")
    print(text)
    if a.doc:
        with open(a.doc) as fh:
            doc = fh.read()
        C.write_json_atomic(a.doc, TB.replace_block(doc, text))
        C.progress(f"table written into {a.doc}")
    C.progress(f"wrote {a.out} and {a.md}")


if __name__ == "__main__":
    main()
