"""OpInfo conformance ratchet: one test per entry of torch's `op_db` (id: name[.variant_test_name]).

Each test runs its entry through opinfo_harness.py (in a child process: see runner.py) and fails only if the
entry is listed in baseline.json and no longer passes: regressions fail CI, entries that newly pass do not
(run update_baseline.py to lock them in). The end-of-run counts are printed by conftest.py.
"""
import atexit
import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("mlx_compat")

import runner  # noqa: E402  (tests/conformance is on sys.path: conftest.py)

_RUNNER = runner.Runner()
atexit.register(_RUNNER.close)
IDS = _RUNNER.entry_ids()  # op_db order; also starts the child while the rest of the suite is collected

_BASE = runner.load_baseline()
_FWD = set(_BASE.get("forward", []))
_FWD_BWD = set(_BASE.get("forward_backward", []))
_QUARANTINE = runner.quarantine()

# MLX_COMPAT_OPINFO_SELFTEST=1: the harness runs torch on both sides (see opinfo_harness.py), and every entry
# must pass or be skipped (no CPU sample): a check of the harness itself, e.g. after a torch upgrade.
SELFTEST = os.environ.get("MLX_COMPAT_OPINFO_SELFTEST") == "1"


@pytest.mark.parametrize("eid", IDS)
def test_opinfo(eid, opinfo_record):
    quarantined = eid in _QUARANTINE
    rec = _RUNNER.run(eid, timeout=runner.QUARANTINE_TIMEOUT if quarantined else None)
    rec["_total"] = len(IDS)
    opinfo_record(rec)
    if SELFTEST:
        assert rec["forward"] in ("pass", "skip") and rec["backward"] in ("pass", "n/a", "skip") \
            and rec["errors"] in ("pass", "n/a"), f"harness self-test: {runner.first_reason(rec) or rec}"
        return
    if quarantined:
        return  # see baseline.json's "quarantine" for why this entry is not asserted
    problems = []
    if eid in _FWD and not runner.passes_forward(rec):
        problems.append(f"forward no longer passes: {rec['forward']}: {rec['forward_reason']}")
    if eid in _FWD_BWD and not runner.passes_forward_backward(rec):
        if runner.passes_forward(rec):
            problems.append(f"backward no longer passes: {rec['backward']}: {rec['backward_reason']}")
        elif eid not in _FWD:
            problems.append(f"forward+backward no longer passes: {runner.first_reason(rec)}")
    if problems:
        pytest.fail(f"OpInfo entry {eid} regressed (it is in baseline.json):\n  " + "\n  ".join(problems),
                    pytrace=False)
