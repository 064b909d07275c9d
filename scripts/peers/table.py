"""The side-by-side rows: their ratios and roofline bounds, the Markdown table in
the layout of issue 17's, and its place in docs/benchmarks.md (between two markers).
"""

import re
import statistics
import textwrap

BEGIN, END = "<!-- bench-peers:begin -->", "<!-- bench-peers:end -->"


def fmt(v):
    """Three significant figures, thousands separated, as in the issue's table."""
    if v is None:
        return "—"
    if v >= 1000:
        return f"{round(v, -len(str(int(v))) + 3):,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def speed_ratio(seqbench, peer, unit):
    """How many times as fast seqbench is: throughput over throughput, or time over time."""
    if seqbench is None or peer is None or seqbench <= 0 or peer <= 0:
        return None
    return peer / seqbench if unit == "ms" else seqbench / peer


def bound_fraction(seqbench, bound, unit):
    if seqbench is None or bound is None or seqbench <= 0:
        return None
    return bound / seqbench if unit == "ms" else seqbench / bound


def busy_slowdown(idle, busy, unit):
    """How many times slower seqbench is with one core busy: idle tokens/s over busy
    tokens/s, or busy ms over idle ms (1.0: unaffected)."""
    if idle is None or busy is None or idle <= 0 or busy <= 0:
        return None
    return busy / idle if unit == "ms" else idle / busy


def decode_bound(param_bytes, state_bytes, batch, flops_per_token):
    """roof -> tokens/s no implementation can pass: each step reads every weight once and
    the state (or KV cache) once and writes it once, and does batch x flops_per_token."""
    def bound(roof):
        bw, peak = roof.get("bandwidth_bytes_per_s"), roof.get("peak_flops_per_s")
        if not bw or not peak:
            return None
        return min(batch * bw / (param_bytes + 2 * state_bytes), peak / flops_per_token)
    return bound


def compute_bound_tps(flops_per_token):
    """roof -> tokens/s at the sgemm peak."""
    return lambda roof: roof["peak_flops_per_s"] / flops_per_token if roof.get("peak_flops_per_s") else None


def paired(seqbench, peer, unit):
    """Figures of runs made in alternation (seqbench's i-th run, then the peer's): the
    peer's median, the ratio of each pair, their median and range. A ratio per pair
    rather than a ratio of medians: the two runs of a pair share the machine's state
    of that moment, so their ratio moves less than either figure."""
    ratios = [speed_ratio(s, p, unit) for s, p in zip(seqbench, peer)]
    ok = [r for r in ratios if r]
    return {"value": statistics.median(peer), "values": peer, "seqbench_values": seqbench, "ratios": ratios,
            "ratio": statistics.median(ok) if ok else None, "ratio_min": min(ok, default=None),
            "ratio_max": max(ok, default=None)}


def finish_row(row):
    """Ratios of seqbench to each peer, the fraction of the bound it reaches and its
    slowdown with one core busy."""
    u = row["unit"]
    sb = row.get("seqbench_busy")
    if sb is not None:
        sb["slowdown"] = busy_slowdown(row["seqbench"], sb.get("value"), u)
    for p in row["peers"].values():
        p["ratio"] = speed_ratio(row["seqbench"], p.get("value"), u)
    b = row.get("bound")
    if b is not None:
        b["fraction"] = bound_fraction(row["seqbench"], b.get("value"), u)
    return row


def _cell(row, key):
    p = row["peers"].get(key)
    if not p or p.get("value") is None:
        return "—"
    r = p.get("ratio")
    r = "" if not r else f" (×{r:.2f})" if r < 10 else f" (×{r:.1f})"
    return fmt(p["value"]) + r


def _torch_cell(row):
    if "pytorch_doubling" in row["peers"]:
        return (f"{_cell(row, 'pytorch_doubling')} vectorised doubling scan; "
                f"{_cell(row, 'pytorch_sequential')} sequential reference scan")
    return _cell(row, "pytorch")


def _busy_cell(row):
    b = row.get("seqbench_busy")
    if not b or b.get("value") is None:
        return "—"
    s = b.get("slowdown")
    return fmt(b["value"]) + (f" (÷{s:.2f})" if s else "")


def _lc_value(p):
    """'48.1 (×1.06, 0.98–1.10)': the peer's median over the pairs, the median ratio
    and the range of the ratios."""
    if not p or p.get("value") is None:
        return "—"
    r, lo, hi = p.get("ratio"), p.get("ratio_min"), p.get("ratio_max")
    if not r:
        return fmt(p["value"])
    spread = f", {lo:.2f}–{hi:.2f}" if len(p.get("values", ())) > 1 and lo is not None else ""
    return f"{fmt(p['value'])} (×{r:.2f}{spread})"


def _lc_cells(row, dtypes):
    """The llama.cpp f32 cell and the half-precision one (every other dtype, named)."""
    lc = row.get("llama_cpp") or {}
    half = [d for d in dtypes if d != "f32"]
    cells = [_lc_value(lc.get("f32"))] if "f32" in dtypes else []
    if half:
        got = [f"{d} {_lc_value(lc[d])}" for d in half if lc.get(d)]
        cells.append("; ".join(got) if got else "—")
    return cells


def markdown(rows, torch_v, transformers_v, lc_label=None, lc_dtypes=()):
    """The table; the column of seqbench with one core busy only when some row has it,
    the llama.cpp columns when it ran (lc_label names its version)."""
    busy = any(r.get("seqbench_busy") for r in rows)
    lc_head = []
    if lc_label:
        lc_head = ([f"{lc_label}, f32"] if "f32" in lc_dtypes else []) + \
                  ([f"llama.cpp, {' / '.join(d for d in lc_dtypes if d != 'f32')}"]
                   if any(d != "f32" for d in lc_dtypes) else [])
    head = ["measure", "seqbench"] + (["seqbench, one core busy (÷ slowdown)"] if busy else []) + lc_head + \
           [f"PyTorch {torch_v}", f"HF transformers {transformers_v}", "roofline bound"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        b = r.get("bound") or {}
        bound = "—"
        if b.get("value") is not None:
            bound = fmt(b["value"])
            if b.get("fraction") is not None:
                bound += f" ({100 * b['fraction']:.0f}%)"
        cells = [r["measure"], fmt(r["seqbench"])] + ([_busy_cell(r)] if busy else []) + \
                (_lc_cells(r, lc_dtypes) if lc_label else []) + [_torch_cell(r), _cell(r, "transformers"), bound]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(text, block):
    """text with the part between the markers replaced by block; ValueError without them."""
    pat = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pat.search(text):
        raise ValueError(f"no {BEGIN} ... {END} block")
    return pat.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text, count=1)


def _busy_sentence(out):
    b = out.get("busy") or {}
    if not b.get("measured"):
        return ""
    shares = [r["cpu_share"] for r in b.get("runs", []) if r.get("cpu_share") is not None]
    held = f" (it held {100 * min(shares):.0f}–{100 * max(shares):.0f}% of a core)" if shares else ""
    return (" One core busy: each seqbench figure measured again, right after its idle run with the same "
            "settings (OMP_WAIT_POLICY " + (b.get("omp_wait_policy") or "unset") + "), while another process "
            f"spins in a tight loop{held}; (÷s): s times slower than idle.")


def _check_phrase(checks):
    """'f32 2.5e-04 at 24 layers (transformers' own fp32 4.6e-04), f16 6.3e-03 at 2 layers, ...'
    for one model's checks, in the order they ran."""
    parts, lib = [], None
    for c in checks:
        if c["dtype"] == "transformers fp32":
            lib = f" (transformers' own fp32 {c['max_rel_err']:.1e})"
            continue
        parts.append(f"{c['dtype']} {c['max_rel_err']:.1e} at {c['layers']} layers" + (lib or ""))
        lib = None
    return ", ".join(parts)


def _llamacpp_paragraph(out):
    lc = out.get("llama_cpp")
    if not lc:
        return ""
    by_model = {}
    for c in lc["checks"]:
        by_model.setdefault(c["label"], []).append(c)
    errs = "; ".join(f"{m}: {_check_phrase(v)}" for m, v in by_model.items())
    order = ", ".join(lc["dtypes"])
    return (f"{lc['label']}: built from source by pip for this CPU, run through its C API in its own process, "
            "with seqbench's threads and OMP_WAIT_POLICY, on GGUFs written from the same checkpoints: f32 with an "
            "f32 KV cache and no flash attention (its f16 rounding moves the logits by 1e-3); f16 and bf16 with "
            "llama.cpp's defaults (f16 cache, flash attention). Before any timing, the logits at every position "
            "of a prefill and of decode steps are checked against transformers' float64 forward, the f32 files "
            "at full depth, f16 and bf16 on 2-layer models of the same widths (these random weights amplify a "
            f"rounding some 8000 times over 24 layers); max relative error: {errs}. Its rows alternate "
            f"{lc['rounds']} rounds of seqbench, then llama.cpp {order}, each run as above (a prefill keeps the "
            "logits of every position, as seqbench's does); figure: median over the rounds; (×r, a–b): the "
            "median and the range of the ratios of the rounds' pairs.")


def report_text(out, md, roof, a):
    """The paragraph above the table (how, where, under what load), the table, and the
    roofline paragraph below it, wrapped as the docs are."""
    mach, v, wp = out["machine"], out["versions"], out["omp_wait_policy"]
    cpu = mach["cpu"] + (", AVX-512" if mach["avx512f"] else ", AVX2" if mach["avx2"] else "")
    sm = mach.get("seqbench") or {}
    blas = (f", OpenBLAS {sm.get('openblas_version', '')} with its {sm['openblas_core']} kernels"
            if sm.get("openblas_core") else "")
    head = (f"Measured by `make bench-peers` ({out['started_at'][:10]}, seqbench {v['seqbench']}) on {cpu}"
            f"{blas}, {mach['logical_cpus']} logical CPUs, {a.threads} threads, fp32, random weights; load "
            f"average {out['load_average_1m_at_start']} at the start and {out['load_average_1m_at_end']} at the "
            f"end; {out['wall_time_s'] / 60:.1f} minutes. {'Median' if a.figure == 'median' else 'Fastest'} of "
            f"{a.repeats} runs after a warm-up (training steps: {max(10, a.repeats)}, PyTorch's sequential scan "
            f"{max(3, a.repeats)}); decode after a {a.context}-token context, {a.steps} timed steps; "
            f"OMP_WAIT_POLICY {wp['python']} for PyTorch and transformers, {wp['seqbench'] or 'unset'} for "
            "seqbench. (×r): seqbench is r times as fast as that peer." + _busy_sentence(out))
    if roof.get("bandwidth_bytes_per_s") and roof.get("peak_flops_per_s"):
        tail = (f"Roofline of this machine ({a.threads} threads, `seqbench bench roofline` at the start and "
                "the end of this run, the better of each): "
                f"{roof['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s, sgemm {roof['peak_flops_per_s'] / 1e9:.0f} "
                "GFLOP/s. Decode bound = min(batch × bandwidth / (weight bytes + 2 × state bytes), peak / FLOPs "
                "per token); prefill and training bound = peak / FLOPs; in brackets the share seqbench reaches.")
    else:
        why = "an --only-llamacpp run" if a.only_llamacpp else "this seqbench has no `bench roofline`"
        tail = f"Roofline bound: not measured ({why}), so that column is empty."
    lc = _llamacpp_paragraph(out)
    lc = f"{textwrap.fill(lc, 76)}\n\n" if lc else ""
    return f"{textwrap.fill(head, 76)}\n\n{md}\n\n{lc}{textwrap.fill(tail, 76)}"
