"""Runs opinfo_harness.py's entries in a child process, so that a crash (a signal inside MLX) or a hang in one
op costs that entry only, never the pytest worker or the script driving it.

Runner: one long-lived child (`python opinfo_harness.py --serve`) answering one entry at a time; it is
restarted after a crash or a timeout. run_many(): several Runners in parallel (scripts). This module imports
neither torch nor mlx_compat: the child does.
"""
from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "opinfo_harness.py")
BASELINE = os.path.join(HERE, "baseline.json")

# Seconds one entry may take before its child is killed and the entry recorded as a timeout. A quiet machine
# runs the slowest entry in ~1 s; CI machines are slower and share their cores. Override with the env var.
ENTRY_TIMEOUT = float(os.environ.get("MLX_COMPAT_OPINFO_TIMEOUT", "30"))
QUARANTINE_TIMEOUT = 10.0  # quarantined entries (baseline.json) are not asserted: give up on them sooner
STARTUP_TIMEOUT = 180.0  # importing torch, mlx_compat and op_db

STAGES = ("forward", "backward", "errors")


def _child_env(extra=None):
    env = dict(os.environ)
    env.update(extra or {})
    spec = importlib.util.find_spec("mlx_compat")
    if spec is not None and spec.origin:
        root = os.path.dirname(os.path.dirname(spec.origin))  # the folder holding mlx_compat/
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def _signame(rc):
    if rc is None:
        return "killed"
    if rc < 0:
        try:
            return f"{signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit code {rc}"


class Runner:
    """One harness child process. Not thread-safe: one Runner per thread."""

    def __init__(self, timeout=ENTRY_TIMEOUT, env=None):
        self.timeout = timeout
        self.env = env  # extra environment for the child (e.g. the fake-GPU run)
        self.proc = None
        self.ids = None
        self._buf = b""
        self._err = None

    # -- process management
    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        self._err = tempfile.TemporaryFile()
        self._buf = b""
        self.proc = subprocess.Popen([sys.executable, "-u", HARNESS, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, env=_child_env(self.env), cwd=HERE)
        msg = self._read(STARTUP_TIMEOUT)
        if msg is None or not msg.get("ready"):
            tail = self._stderr_tail()
            self.close()
            raise RuntimeError(f"opinfo harness child did not start: {tail}")
        self.ids = msg["ids"]

    def close(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            if p.poll() is None:
                p.stdin.close()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        except OSError:
            p.kill()
            p.wait()
        finally:
            for f in (p.stdout, self._err):
                try:
                    f.close()
                except Exception:  # noqa: BLE001
                    pass

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def _stderr_tail(self, n=600):
        try:
            self._err.seek(0)
            data = self._err.read().decode(errors="replace")
            return data[-n:].strip()
        except Exception:  # noqa: BLE001
            return ""

    def _read(self, timeout):
        """Next protocol message, or None on EOF/timeout."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    # -- running entries
    def entry_ids(self):
        self.start()
        return list(self.ids)

    def run(self, eid, timeout=None):
        """The record for entry eid (see opinfo_harness.run_entry); crashes and timeouts become failures."""
        timeout = self.timeout if timeout is None else timeout
        for attempt in (0, 1):
            self.start()
            try:
                self.proc.stdin.write((json.dumps({"run": eid}) + "\n").encode())
                self.proc.stdin.flush()
                break
            except OSError:  # the child died between entries: start a fresh one
                self.close()
                if attempt:
                    raise
        rec = {"id": eid, "forward": None, "forward_reason": "", "backward": None, "backward_reason": "",
               "errors": None, "errors_reason": "", "samples": 0, "seconds": 0.0}
        where = "start"
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            msg = self._read(max(0.0, deadline - time.monotonic()))
            if msg is None:
                break
            if "progress" in msg:
                where = msg["progress"]
            elif "partial" in msg:
                rec.update(msg["partial"])
            elif "result" in msg:
                return msg["result"]
        # crash or timeout: the stage in progress fails, later ones are not run
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            why = f"timeout: over {timeout:g} s in {where}"
        else:
            why = f"crash: {_signame(self.proc.returncode)} in {where}"
        self.close()
        failed = False
        for st in STAGES:
            if rec.get(st) is None:
                rec[st] = "fail"
                rec[st + "_reason"] = why if not failed else "not run (the child died earlier)"
                failed = True
        rec["seconds"] = round(time.monotonic() - t0, 3)
        return rec


def run_many(ids=None, jobs=2, progress=None, timeout=ENTRY_TIMEOUT, env=None):
    """Records for the given entry ids (default: all of op_db), `jobs` children in parallel, in op_db order."""
    quarantined = quarantine()
    first = Runner(timeout, env)
    all_ids = first.entry_ids()
    todo = list(all_ids) if ids is None else [i for i in all_ids if i in set(ids)]
    results = {}
    lock = threading.Lock()
    queue = list(reversed(todo))

    def work(runner):
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    eid = queue.pop()
                rec = runner.run(eid, min(timeout, QUARANTINE_TIMEOUT) if eid in quarantined else None)
                with lock:
                    results[eid] = rec
                    if progress:
                        progress(rec, len(results), len(todo))
        finally:
            runner.close()

    runners = [first] + [Runner(timeout, env) for _ in range(max(1, jobs) - 1)]
    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[i] for i in todo if i in results]


# ---------------------------------------------------------------------------------------------------------
# Verdicts and the baseline

def passes_forward(rec):
    return rec["forward"] == "pass"


def passes_forward_backward(rec):
    # "n/a": torch has no float32 autograd for the entry; "skip": no sample had a differentiable output
    return rec["forward"] == "pass" and rec["backward"] in ("pass", "n/a", "skip")


def summary_line(records):
    n = len(records)
    f = sum(passes_forward(r) for r in records)
    b = sum(passes_forward_backward(r) for r in records)
    return f"op_db entries: {n} total; forward pass: {f}; forward+backward pass: {b}"


def load_baseline(path=BASELINE):
    if not os.path.exists(path):
        return {"forward": [], "forward_backward": []}
    with open(path) as f:
        return json.load(f)


def quarantine(path=BASELINE):
    """{id: why} of entries the tests do not assert (they hang or crash intermittently outside our control)."""
    return dict(load_baseline(path).get("quarantine", {}))


def first_reason(rec):
    for st in STAGES[:2]:
        if rec[st] not in ("pass", "n/a", "skip"):
            return f"{st}: {rec[st + '_reason']}"
    return ""
