"""One core kept busy by another process while seqbench is measured again
(issue 18: "no figure falls more than 2x when another process occupies one core").

busy_core() starts a child that spins in a tight loop, gives it a moment to be
scheduled, and kills it on the way out, whatever the way out is: an exception,
Ctrl-C (KeyboardInterrupt), SIGTERM or SIGHUP (turned into SystemExit for the
duration, so the `finally` runs). Should this process be killed outright
(SIGKILL), the child dies with it: it asks the kernel for that itself
(PR_SET_PDEATHSIG) right after it starts, and exits at once when its parent is
already gone. It runs in its own session, so a Ctrl-C at the terminal reaches
this process (which then kills it) rather than printing the child's traceback.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

# The child's whole program. prctl(PR_SET_PDEATHSIG = 1, SIGKILL): the kernel kills
# it when its parent dies; done from inside the child because a preexec_fn would run
# between fork and exec in a process that has OpenMP threads (unsafe there).
_SPIN = ("import ctypes, os, sys\n"
         "try:\n"
         "    ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)\n"
         "except Exception:\n"
         "    pass\n"
         "if os.getppid() != int(sys.argv[1]):\n"
         "    sys.exit(0)\n"
         "while True:\n"
         "    pass\n")

# the spinner is given this long to be running before a measurement starts
_SETTLE_S = 0.3


def _cpu_seconds(pid):
    """utime + stime of a process from /proc (None where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def describe():
    """What the JSON records about the busy process."""
    return {"command": [os.path.basename(sys.executable), "-c", "<tight loop: while True: pass>"],
            "processes": 1, "started": "before each busy measurement, killed after it"}


@contextlib.contextmanager
def busy_core(report):
    """Runs the body while a child process spins on one core. Fills `report` with the
    child's CPU share over the body (CPU seconds / wall seconds: close to 1 when it
    held a core throughout) and raises RuntimeError when it stopped before the end."""
    old = {s: signal.signal(s, _raise_exit) for s in (signal.SIGTERM, signal.SIGHUP)}
    child = None
    try:
        child = subprocess.Popen([sys.executable, "-S", "-c", _SPIN, str(os.getpid())],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(_SETTLE_S)
        if child.poll() is not None:
            raise RuntimeError(f"the busy-core process exited with status {child.returncode} before "
                               "the measurement")
        cpu0, t0 = _cpu_seconds(child.pid), time.monotonic()
        yield child
        cpu1, t1 = _cpu_seconds(child.pid), time.monotonic()
        if child.poll() is not None:
            raise RuntimeError(f"the busy-core process exited with status {child.returncode} during "
                               "the measurement")
        report["wall_s"] = t1 - t0
        report["cpu_share"] = (cpu1 - cpu0) / (t1 - t0) if cpu0 is not None and cpu1 is not None \
            and t1 > t0 else None
    finally:
        if child is not None and child.poll() is None:
            child.kill()
        if child is not None:
            child.wait()
        for s, h in old.items():
            signal.signal(s, h)
