"""Shared pieces of `make bench-peers`: timing statistics, progress lines, the
machine description, the library versions and the atomic JSON write.

Nothing here imports torch at module level: run.py sets the thread and
OpenMP environment before the first `import torch`, because the OpenMP
runtime reads OMP_WAIT_POLICY once, when it starts.
"""

import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

_T0 = time.monotonic()


def progress(msg):
    """One line on stderr with the elapsed time, so a 10-minute run shows where it is."""
    el = time.monotonic() - _T0
    print(f"bench-peers [{int(el) // 60:2d}:{int(el) % 60:02d}] {msg}", file=sys.stderr, flush=True)


def load1():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def summary(sec_list):
    """Median and fastest of the timed runs (seconds), and the runs themselves."""
    return {"seconds_median": statistics.median(sec_list), "seconds_min": min(sec_list),
            "repeats": len(sec_list), "seconds": sec_list}


def _cpuinfo():
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and model == "unknown":
                    model = v.strip()
                elif k == "flags" and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    return model, flags


def _mem_total_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine(threads):
    """What the figures were measured on: they vary with the CPU, not only in the last digit."""
    model, flags = _cpuinfo()
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "memory_bytes": _mem_total_bytes(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "threads": threads,
    }


def versions():
    import torch
    import transformers
    v = {"torch": torch.__version__, "transformers": transformers.__version__}
    try:
        v["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - informative only
        pass
    return v


def pinned_versions(requirements):
    """The `name==version` pins of scripts/requirements.txt (the table's headers name them)."""
    pins = {}
    try:
        with open(requirements) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if "==" in line:
                    k, v = line.split("==", 1)
                    pins[k.strip()] = v.strip()
    except OSError:
        pass
    return pins


def write_json_atomic(path, obj):
    """obj as JSON (or a str as it is) into path through a temporary file and a rename,
    so a reader never sees half a file; an existing file keeps its permissions."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bench-peers-", suffix=".tmp", dir=d)
    try:
        if os.path.exists(path):
            shutil.copymode(path, tmp)
        else:  # mkstemp makes it 0600; a result file is as readable as any other
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w") as f:
            if isinstance(obj, str):
                f.write(obj)
            else:
                json.dump(obj, f, indent=2)
                f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
