"""Shared pieces of the interoperability check (`make interop`).

seqbench (the C binary) and the real Hugging Face `transformers` library are
compared on the same checkpoint directory (config.json + model.safetensors):
loading, logits (parallel and step) and greedy decoding.  Everything here runs
on the CPU through the library's PyTorch path.

Relative error is always max|a - b| / max|b| with b the transformers side.
"""

import json
import os
import shutil
import subprocess
import tempfile

import torch
from safetensors.torch import load_file, save_file

TOL = 1e-4  # relative; never loosened to absorb a known difference


class Report:
    """One line per check, a closing `N passed, N failed` line, and a JSON record."""

    def __init__(self, quiet=False):
        self.checks = []
        self.quiet = quiet

    def add(self, name, ok, detail="", rel=None, **extra):
        rec = {"name": name, "passed": bool(ok), "detail": detail}
        if rel is not None:
            rec["max_rel_err"] = float(rel)
        rec.update(extra)
        self.checks.append(rec)
        if self.quiet:
            return ok
        status = "PASS" if ok else "FAIL"
        err = f"  max rel err {rel:.2e}" if rel is not None else ""
        print(f"{status}  {name}{err}{'  ' + detail if detail else ''}", flush=True)
        return ok

    def counts(self):
        p = sum(c["passed"] for c in self.checks)
        return p, len(self.checks) - p

    def finish(self, seconds):
        """The closing lines of a check run on its own, and its exit status (1 when any check failed)."""
        passed, failed = self.counts()
        print(f"({seconds:.0f} s)")
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0


def quiet_library():
    """transformers without its warnings, logging and progress bars: the checks print their own lines."""
    import warnings
    import transformers
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def fresh_dir(path):
    """path, emptied: a work folder from an earlier run never feeds this one."""
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def rel_err(a, b):
    """max|a - b| / max|b| (b: the transformers side)."""
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: seqbench {tuple(a.shape)} vs transformers {tuple(b.shape)}")
    den = b.abs().max().item()
    num = (a - b).abs().max().item()
    return num / den if den > 0 else (0.0 if num == 0 else float("inf"))


def write_json_atomic(path, obj):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".interop-", suffix=".json", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class SeqbenchError(RuntimeError):
    pass


class Seqbench:
    def __init__(self, binary, workdir):
        self.binary = os.path.abspath(binary)
        self.workdir = workdir
        self._n = 0

    def run(self, *args, timeout=900):
        r = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            msg = (r.stderr.strip() or r.stdout.strip()).splitlines()
            raise SeqbenchError(f"seqbench {args[0]} exited {r.returncode}: {msg[-1] if msg else '(no output)'}")
        return r.stdout

    def version(self):
        try:
            v = self.run("--version").strip()
            return v[len("seqbench "):] if v.startswith("seqbench ") else v
        except Exception as e:  # noqa: BLE001 - recorded, not fatal
            return f"unknown ({e})"

    def logits(self, model_dir, tokens, mode="parallel"):
        self._n += 1
        path = os.path.join(self.workdir, f"tokens-{os.getpid()}-{self._n}.json")
        with open(path, "w") as f:
            json.dump([int(t) for t in tokens], f)
        try:
            out = self.run("logits", "--model", model_dir, "--tokens", path, "--mode", mode)
        finally:
            os.unlink(path)
        return torch.tensor(json.loads(out)["logits"], dtype=torch.float64)

    def greedy(self, model_dir, prompt, n_new):
        """Greedy decoding through seqbench's step path: argmax of the last row, n_new times.
        Returns the new tokens and the last-row logits of every step."""
        toks, rows = list(prompt), []
        for _ in range(n_new):
            lg = self.logits(model_dir, toks, mode="step")
            rows.append(lg[-1])
            toks.append(int(torch.argmax(lg[-1]).item()))
        return toks[len(prompt):], torch.stack(rows)


# ---------------------------------------------------------------- transformers side

def slow_path_status():
    """The Mamba/Jamba mixers take the library's PyTorch reference path when neither the
    CUDA kernel packages nor the Hub `kernels` package can be imported (and we run on CPU)."""
    import importlib.util
    present = [m for m in ("mamba_ssm", "causal_conv1d", "kernels") if importlib.util.find_spec(m) is not None]
    return present


def hf_load(model_dir, **overrides):
    """from_pretrained with the loading report; raises on failure (message kept)."""
    from transformers import AutoModelForCausalLM
    # ignore_mismatched_sizes: a wrong shape is then listed in the report (by name) instead of
    # raising an error that only points at a log
    model, info = AutoModelForCausalLM.from_pretrained(
        model_dir, output_loading_info=True, dtype=torch.float32, ignore_mismatched_sizes=True, **overrides)
    model.eval()
    return model, info


def loading_problems(info):
    """Every non-empty list of the loading report, as text naming the tensors."""
    probs = []
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        v = info.get(key)
        if v:
            items = sorted(str(x) for x in v)
            probs.append(f"{key}: {', '.join(items)}")
    return probs


@torch.no_grad()
def hf_logits(model, tokens):
    ids = torch.tensor([list(tokens)], dtype=torch.long)
    return model(ids, use_cache=False).logits[0].to(torch.float64)


@torch.no_grad()
def hf_greedy(model, prompt, n_new):
    """model.generate (the library's cached decode path), greedy, exactly n_new tokens;
    returns the new tokens and the logits of every step."""
    from transformers import GenerationConfig
    gc = GenerationConfig(max_new_tokens=n_new, do_sample=False, num_beams=1, eos_token_id=None,
                          pad_token_id=0, bos_token_id=None, output_scores=True, output_logits=True,
                          return_dict_in_generate=True)
    ids = torch.tensor([list(prompt)], dtype=torch.long)
    out = model.generate(ids, generation_config=gc)
    new = out.sequences[0, len(prompt):].tolist()
    logits = torch.stack([s[0] for s in out.logits]).to(torch.float64)
    return new, logits


# ---------------------------------------------------------------- checkpoints

def copy_checkpoint(src, dst, tensors=None, config=None):
    """Copy a checkpoint directory, optionally with replaced tensors (a dict) or config (a dict)."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    if config is None:
        shutil.copy(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    else:
        with open(os.path.join(dst, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
    if tensors is None:
        shutil.copy(os.path.join(src, "model.safetensors"), os.path.join(dst, "model.safetensors"))
    else:
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(dst, "model.safetensors"),
                  metadata={"format": "pt"})
    return dst


def read_config(d):
    with open(os.path.join(d, "config.json")) as f:
        return json.load(f)


def read_tensors(d):
    return load_file(os.path.join(d, "model.safetensors"))


def constant_like(t):
    """A layout-free stand-in for a tensor: every element the same value (its mean, or its
    RMS when the mean is ~0). Any transposition, permutation or reshape of it is itself."""
    t64 = t.to(torch.float64)
    m = t64.mean().item()
    rms = t64.pow(2).mean().sqrt().item()
    v = m if abs(m) > 1e-3 * rms else rms
    return torch.full_like(t, v)


def symmetrised(t):
    """(W + W^T)/2 over the last two (equal) dimensions: the same tensor read either way round."""
    return (t + t.transpose(-1, -2)) / 2


def _agree_with(sb, sb_dir, hf_dir, name, value, tokens, scratch, hf_overrides, tol):
    """Do both sides agree once tensor `name` is replaced by `value` in what each reads?"""
    sb_t, hf_t = read_tensors(sb_dir), read_tensors(hf_dir)
    a = copy_checkpoint(sb_dir, os.path.join(scratch, "loc-sb"), tensors={**sb_t, name: value},
                        config=read_config(sb_dir))
    b = copy_checkpoint(hf_dir, os.path.join(scratch, "loc-hf"), tensors={**hf_t, name: value},
                        config=read_config(hf_dir))
    try:
        lsb = sb.logits(a, tokens)
        model, _ = hf_load(b, **(hf_overrides or {}))
        return rel_err(lsb, hf_logits(model, tokens)) <= tol
    except Exception:  # noqa: BLE001 - an ablation that fails to run says nothing
        return False


def localize(sb, sb_dir, hf_dir, tokens, scratch, hf_overrides=None, tol=TOL):
    """Find the tensor on which the two sides disagree, when the logits differ.

    1. Orientation: for each tensor whose last two dimensions are equal (the transpositions a
       shape check cannot see), both sides get it symmetrised, (W + W^T)/2, which leaves the
       model working but makes the orientation irrelevant. If they then agree, that tensor is
       read the other way round by one side.
    2. Otherwise, any layout: each tensor in turn is made a constant (no layout left in it).
       Every tensor whose replacement makes the sides agree is named: the difference is in it
       or in the computation it feeds.
    sb_dir and hf_dir are the directories each side reads (the same one in the real checks).
    Returns (names, text)."""
    sb_t, hf_t = read_tensors(sb_dir), read_tensors(hf_dir)
    names = [n for n in hf_t if n in sb_t and hf_t[n].shape == sb_t[n].shape]
    try:
        square = [n for n in names if hf_t[n].dim() >= 2 and hf_t[n].shape[-1] == hf_t[n].shape[-2]]
        found = [n for n in square
                 if _agree_with(sb, sb_dir, hf_dir, n, symmetrised(hf_t[n]), tokens, scratch, hf_overrides, tol)]
        if found:
            return found, ("the sides read " + ", ".join(found) + " the other way round (transposed): "
                           "symmetrised, (W + W^T)/2, they agree")
        found = [n for n in names if not torch.all(hf_t[n] == hf_t[n].flatten()[0])
                 and _agree_with(sb, sb_dir, hf_dir, n, constant_like(hf_t[n]), tokens, scratch, hf_overrides, tol)]
    finally:
        for d in ("loc-sb", "loc-hf"):
            shutil.rmtree(os.path.join(scratch, d), ignore_errors=True)
    if found:
        return found, ("the sides disagree on " + ", ".join(found) + " or on the computation it feeds "
                       "(made constant, no layout left in it, they agree)")
    return [], ("no single tensor explains it: the difference is in the mathematics, "
                "not in one tensor's layout")


# ---------------------------------------------------------------- the checks themselves

def one_line(e):
    return " ".join(str(e).split())


def check_config(report, name, model_dir):
    """The library's config class (strict dataclass validation in transformers 5) accepts config.json."""
    from transformers import AutoConfig
    try:
        AutoConfig.from_pretrained(model_dir)
    except Exception as e:  # noqa: BLE001
        return report.add(name, False, f"config.json rejected by transformers: {one_line(e)}")
    return report.add(name, True, "config.json accepted (strict field types)")


def check_load(report, name, model_dir, expect_arch, overrides=None):
    """from_pretrained with output_loading_info: no missing, unexpected or resized tensors.
    Returns the model, or None when it could not be loaded at all."""
    try:
        model, info = hf_load(model_dir, **(overrides or {}))
    except Exception as e:  # noqa: BLE001
        report.add(name, False, f"from_pretrained failed: {one_line(e)}")
        return None
    probs = loading_problems(info)
    arch = type(model).__name__
    if arch != expect_arch:
        probs.append(f"loaded as {arch}, expected {expect_arch}")
    dtypes = {str(p.dtype) for p in model.parameters()}
    if dtypes != {"torch.float32"}:
        probs.append(f"parameter dtypes {sorted(dtypes)}")
    n = len(read_tensors(model_dir))
    if probs:
        report.add(name, False, "; ".join(probs))
    else:
        report.add(name, True, f"{arch}, {n} tensors: no missing, unexpected or mismatched keys")
    return model


def check_logits(report, name, sb, sb_dir, tokens, hf_ref, mode, scratch, hf_dir=None, hf_overrides=None,
                 parallel_ok=None):
    """seqbench's logits (mode parallel or step) against the transformers logits hf_ref.
    On a parallel mismatch, names the tensor the sides disagree on (see localize).
    Returns the relative error, or None when seqbench could not run."""
    try:
        lsb = sb.logits(sb_dir, tokens, mode)
    except SeqbenchError as e:
        report.add(name, False, one_line(e))
        return None
    try:
        rel = rel_err(lsb, hf_ref)
    except ValueError as e:
        report.add(name, False, one_line(e))
        return None
    detail = ""
    if rel > TOL:
        if mode == "parallel":
            _, detail = localize(sb, sb_dir, hf_dir or sb_dir, tokens, scratch, hf_overrides)
        elif parallel_ok:
            detail = "the parallel logits agree: the step (decode) path differs"
    report.add(name, rel <= TOL, detail, rel=rel, mode=mode, T=len(tokens))
    return rel
