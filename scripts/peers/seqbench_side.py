"""The seqbench side: run the binary (`seqbench bench ... --out F.json`), read its
JSON, and the machine's roofline from `seqbench bench roofline` when the binary
has that subcommand.

Every read of a `seqbench bench` result goes through bench_figures() and every
read of a roofline result through roofline_figures(): when the JSON layout
changes, those two functions are all that changes.
"""

import json
import os
import subprocess


class SeqbenchError(RuntimeError):
    pass


def _run(binary, args, env, timeout=1800):
    r = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        lines = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise SeqbenchError(f"seqbench {' '.join(map(str, args[:2]))} exited {r.returncode}: "
                            f"{lines[-1] if lines else '(no output)'}")
    return r


def version(binary, env):
    try:
        v = _run(binary, ["--version"], env).stdout.strip()
        return v[len("seqbench "):] if v.startswith("seqbench ") else v
    except (SeqbenchError, OSError) as e:
        return f"unknown ({e})"


def bench(binary, args, out_json, env):
    """`seqbench bench ARGS --out out_json`; returns the parsed result."""
    if os.path.exists(out_json):
        os.unlink(out_json)
    _run(binary, ["bench", *args, "--out", out_json], env)
    with open(out_json) as f:
        return json.load(f)


def bench_figures(res):
    """The figures this comparison uses from one `seqbench bench` result (field names
    of cli/cmd_bench.c): prefill and decode rows keyed by (length) and (batch, context)."""
    m = res["metrics"]
    pick = ("tokens_per_s_median", "tokens_per_s_best", "flops_per_token")
    prefill = {p["length"]: {k: p[k] for k in pick} for p in m.get("prefill", [])}
    decode = {(d["batch"], d["context"]): {**{k: d[k] for k in pick}, "state_bytes": d["state_bytes"]}
              for d in m.get("decode", [])}
    ts = m.get("train_step")
    train = None if ts is None else {"ms_median": 1e3 * ts["seconds_median"], "ms_best": 1e3 * ts["seconds_min"],
                                     "batch": ts["batch"], "length": ts["length"],
                                     "flops_per_token": ts["flops_per_token"]}
    return {"prefill": prefill, "decode": decode, "train_step": train,
            "param_bytes": m["memory"]["param_bytes"],
            "n_params": res["model"]["params"]["total"],
            "model_config": res["model"].get("config"),
            "machine": {k: res.get(k) for k in ("cpu", "threads", "blas_threading", "compiler", "compiler_flags",
                                               "machine") if k in res}}


def sweep_point(res, **match):
    """tokens/s (median) of the first point of a `seqbench bench decode|prefill` result
    (models[0].points, bench/decode.c and bench/prefill.c) whose fields equal match."""
    for p in res["models"][0]["points"]:
        if all(p.get(k) == v for k, v in match.items()):
            return p["tokens_per_s_median"]
    raise SeqbenchError(f"seqbench {res.get('command')}: no point with {match}")


def has_roofline(binary, env):
    """True when this binary has `seqbench bench roofline` (the suite's other half adds it)."""
    try:
        r = subprocess.run([binary, "bench", "roofline", "--help"], capture_output=True, text=True, timeout=60,
                           env=env)
    except OSError:
        return False
    return r.returncode == 0 and "roofline" in (r.stdout + r.stderr).lower()


def _numbers(obj, path=""):
    """(dotted key path, value) of every number in a JSON tree."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path.lower(), float(obj)


def roofline_figures(res):
    """Sustained memory bandwidth (bytes/s) and compute peak (FLOP/s) from a
    `seqbench bench roofline` result: its "roofline" object's bandwidth_gbs (the
    triad) and compute_gflops (seqbench's FMA peak or the sgemm's, the larger;
    sgemm_gflops from a binary before the FMA peak); failing those, any key naming the triad (else a
    bandwidth) in GB/s and the sgemm (else a peak) in GFLOP/s."""
    r = res.get("roofline") if isinstance(res.get("roofline"), dict) else {}
    bw = r.get("bandwidth_gbs")
    fk = "roofline.compute_gflops" if r.get("compute_gflops") else "roofline.sgemm_gflops"
    fl, bk = r.get(fk.split(".")[1]), "roofline.bandwidth_gbs"
    nums = list(_numbers(res))

    def pick(prefs, unit):
        for pref in prefs:
            for k, v in nums:
                if pref in k and unit in k and v > 0:
                    return k, v
        return None, None

    if not bw:
        bk, bw = pick(("triad", "bandwidth", "stream"), "gb")
    if not fl:
        fk, fl = pick(("sgemm", "gemm", "peak"), "gflop")
    return {"bandwidth_bytes_per_s": bw * 1e9 if bw else None, "bandwidth_key": bk,
            "peak_flops_per_s": fl * 1e9 if fl else None, "peak_key": fk}


def roofline(binary, threads, out_json, env):
    if os.path.exists(out_json):
        os.unlink(out_json)
    _run(binary, ["bench", "roofline", "--threads", threads, "--out", out_json], env)
    with open(out_json) as f:
        res = json.load(f)
    return res, roofline_figures(res)
