"""pytest plumbing for the OpInfo conformance tests (test_opinfo_conformance.py).

Every per-entry test appends its record to a JSON-lines file (one per process) in a results folder; at the end
the counts are printed:

    op_db entries: N total; forward pass: F; forward+backward pass: B

Without xdist the folder is private to the session and the line goes into pytest's terminal summary. Under
pytest-xdist the controller process never loads this conftest (it does not collect), so the workers share a
folder named after xdist's run id, and the last worker to finish writes the line to stderr, which xdist
workers share with the terminal.
"""
import fcntl
import json
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import runner  # noqa: E402

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_STATE = {"dir": None, "file": None, "count": 0}


def _results_dir():
    if _STATE["dir"] is None:
        uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        if _WORKER and uid:
            d = os.path.join(tempfile.gettempdir(), f"mlx_compat_opinfo_{uid}")
            os.makedirs(d, exist_ok=True)
        else:
            d = tempfile.mkdtemp(prefix="mlx_compat_opinfo_")
        _STATE["dir"] = d
    return _STATE["dir"]


@pytest.fixture(scope="session")
def opinfo_record():
    """record(rec): keep one entry's record for the end-of-run summary."""

    def record(rec):
        if _STATE["file"] is None:
            path = os.path.join(_results_dir(), f"{_WORKER or 'main'}.jsonl")
            _STATE["file"] = open(path, "a")
        _STATE["file"].write(json.dumps(rec) + "\n")
        _STATE["file"].flush()
        _STATE["count"] += 1

    return record


def _read_records(d):
    recs = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".jsonl"):
            with open(os.path.join(d, name)) as f:
                for line in f:
                    if line.strip():
                        r = json.loads(line)
                        recs[r["id"]] = r
    return list(recs.values())


def summary_lines(records):
    if not records:
        return []
    total = records[0].get("_total", len(records))
    line = runner.summary_line(records)
    if len(records) < total:
        line = line.replace(" total;", f" run (of {total} in op_db);", 1)
    lines = [line]
    if os.environ.get("MLX_COMPAT_OPINFO_SELFTEST") == "1":
        return lines + ["(harness self-test: torch on both sides; baseline.json not consulted)"]
    base = runner.load_baseline()
    bf, bb = set(base.get("forward", [])), set(base.get("forward_backward", []))
    q = set(base.get("quarantine", {}))
    new_f = sorted(r["id"] for r in records if runner.passes_forward(r) and r["id"] not in bf | q)
    new_b = sorted(r["id"] for r in records if runner.passes_forward_backward(r) and r["id"] not in bb | q)
    lines.append(f"baseline.json: {len(bf)} forward, {len(bb)} forward+backward; passing now but not in it: "
                 f"{len(new_f)} forward, {len(new_b)} forward+backward"
                 + (" (run tests/conformance/update_baseline.py)" if new_f or new_b else ""))
    died = [r["id"] + (" (quarantined)" if r["id"] in q else "") for r in records
            if "timeout:" in runner.first_reason(r) or "crash:" in runner.first_reason(r)]
    if died:
        lines.append(f"timed out or crashed: {', '.join(died)}")
    return lines


def _close_file():
    if _STATE["file"] is not None:
        _STATE["file"].close()
        _STATE["file"] = None


def pytest_sessionfinish(session, exitstatus):
    _close_file()
    if not _WORKER or not os.environ.get("PYTEST_XDIST_TESTRUNUID"):
        return
    d = _results_dir()  # every worker marks itself done, even one that ran no conformance test
    n_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    with open(os.path.join(tempfile.gettempdir(), f"mlx_compat_opinfo_{os.path.basename(d)}.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        open(os.path.join(d, f"{_WORKER}.done"), "w").close()
        done = [n for n in os.listdir(d) if n.endswith(".done")]
        if len(done) >= n_workers:
            lines = summary_lines(_read_records(d))
            if lines:
                sys.__stderr__.write("\n" + "\n".join("[opinfo] " + ln for ln in lines) + "\n")
                sys.__stderr__.flush()
            shutil.rmtree(d, ignore_errors=True)
            try:
                os.unlink(lk.name)
            except OSError:
                pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _WORKER or _STATE["dir"] is None:
        return
    d = _STATE["dir"]
    lines = summary_lines(_read_records(d))
    if lines:
        terminalreporter.section("OpInfo conformance", sep="-")
        for ln in lines:
            terminalreporter.write_line(ln)
    shutil.rmtree(d, ignore_errors=True)
