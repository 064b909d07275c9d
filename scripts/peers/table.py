"""The side-by-side rows: their ratios and roofline bounds, the Markdown table in
the layout of issue 17's, and its place in docs/benchmarks.md (between two markers).
"""

import re
import textwrap

# llama.cpp is not a dependency: its figures are those of issue 17 (llama-bench on
# f32 GGUFs of the same shapes, a 2-core AMD EPYC Zen 3, 2 threads), kept as measured.
LLAMA_CPP = {"mamba_decode_b1": 26.9, "llama_decode_b1": 32.3, "mamba_prefill": 164, "llama_prefill": 341}
LLAMA_CPP_NOTE = "issue 17: llama-bench on f32 GGUFs of the same shapes, measured by hand on a 2-core Zen 3, not rerun"

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


def markdown(rows, torch_v, transformers_v):
    """The table; the column of seqbench with one core busy only when some row has it."""
    busy = any(r.get("seqbench_busy") for r in rows)
    lines = ["| measure | seqbench | " + ("seqbench, one core busy (÷ slowdown) | " if busy else "")
             + "llama.cpp (measured by hand, not rerun) | "
             f"PyTorch {torch_v} | HF transformers {transformers_v} | roofline bound |",
             "|---|---:|" + ("---:|" if busy else "") + "---:|---:|---:|---:|"]
    for r in rows:
        b = r.get("bound") or {}
        bound = "—"
        if b.get("value") is not None:
            bound = fmt(b["value"])
            if b.get("fraction") is not None:
                bound += f" ({100 * b['fraction']:.0f}%)"
        lc = r.get("llama_cpp")
        lines.append(f"| {r['measure']} | {fmt(r['seqbench'])} | " + (f"{_busy_cell(r)} | " if busy else "")
                     + f"{fmt(lc) if lc is not None else '—'} | "
                     f"{_torch_cell(r)} | {_cell(r, 'transformers')} | {bound} |")
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
        tail = "Roofline bound: not measured (this seqbench has no `bench roofline`), so that column is empty."
    return f"{textwrap.fill(head, 76)}\n\n{md}\n\n{textwrap.fill(tail, 76)}"
