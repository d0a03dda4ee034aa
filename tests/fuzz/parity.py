"""Running the exception-parity corpus (corpus.py) against both libraries and comparing the outcomes.

A case matches when both libraries succeed with the same result summary (a tensor's dtype and shape, a
sequence's items, a scalar's type) or both raise the same exception type. Each library runs in its own
subprocess (runner.py); if mlx_compat's dies (a signal, an abort), the case it was running is recorded as a
crash and the run resumes from the next case.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASELINE = os.path.join(HERE, "parity_baseline.json")


def _start(lib, start, env):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "runner.py"), lib, str(start)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _collect(proc, lib, outcomes, crashes, env, timeout):
    """Read a runner's lines into outcomes; restart after a crash. Returns when the corpus is done."""
    while True:
        out, err = proc.communicate(timeout=timeout)
        last_start, done = None, False
        for line in out.splitlines():
            rec = json.loads(line)
            if rec[0] == "start":
                last_start = rec[1]
            elif rec[0] == "done":
                done = True
            else:
                outcomes[rec[0]] = rec[1]
        if done and proc.returncode == 0:
            return
        if last_start is None:
            raise RuntimeError(f"{lib} runner failed before its first case:\n{err[-3000:]}")
        crashes.append((last_start, proc.returncode, err[-2000:]))
        proc = _start(lib, last_start + 1, env)


def run_both(timeout=600, debug_malloc=False):
    """{'torch': {id: outcome}, 'mlx_compat': {id: outcome}, 'crashes': [(case index, returncode, stderr)]}.
    The two runners work at the same time (one per core)."""
    env = dict(os.environ)
    if debug_malloc:
        env["PYTHONMALLOC"] = "debug"
    res = {"torch": {}, "mlx_compat": {}, "crashes": []}
    procs = {lib: _start(lib, 0, env) for lib in ("torch", "mlx_compat")}
    torch_crashes = []
    _collect(procs["torch"], "torch", res["torch"], torch_crashes, env, timeout)
    _collect(procs["mlx_compat"], "mlx_compat", res["mlx_compat"], res["crashes"], env, timeout)
    return res


def matching(res):
    """Sorted ids of the cases whose outcomes agree."""
    t, m = res["torch"], res["mlx_compat"]
    return sorted(k for k, v in t.items() if v != ["timeout"] and m.get(k) == v)


def load_baseline():
    with open(BASELINE) as f:
        return json.load(f)
