"""module_db conformance ratchet: one test per entry of torch 2.13's `module_db` (module_harness.py says what is
compared). A test fails only if its entry is listed in baseline.json and no longer passes: regressions fail CI,
entries that newly pass do not (run update_baseline.py to lock them in). `python module_harness.py` prints every
entry's status and the reason for each miss."""
import json
import os

import pytest

pytest.importorskip("torch")

import module_harness as h  # noqa: E402  (this folder is on sys.path: pytest's prepend import mode)

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline.json")
with open(BASELINE) as f:
    _BASE = json.load(f)


@pytest.mark.parametrize("name", list(h.ENTRIES))
def test_module_db(name):
    rec = h.run_entry(name)
    problems = []
    if name in _BASE["forward"] and rec["forward"] != "pass":
        problems.append(f"no longer passes: {rec['reason']}")
    if name in _BASE["errors"] and rec["errors"] not in ("pass", "n/a"):
        problems.append(f"error inputs no longer pass: {rec['reason']}")
    if problems:
        pytest.fail(f"module_db entry {name} regressed (it is in baseline.json):\n  " + "\n  ".join(problems),
                    pytrace=False)
