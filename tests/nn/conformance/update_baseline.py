"""Regenerate baseline.json (the module_db ratchet) from the current package: every entry that passes is listed.

    .venv/bin/python tests/nn/conformance/update_baseline.py [--allow-regressions]

It refuses to drop an entry the current baseline lists unless --allow-regressions is given."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import module_harness as h  # noqa: E402

BASELINE = os.path.join(HERE, "baseline.json")


def main():
    recs = [h.run_entry(n) for n in h.ENTRIES]
    fwd = sorted(r["id"] for r in recs if r["forward"] == "pass")
    err = sorted(r["id"] for r in recs if r["errors"] == "pass")
    old = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {"forward": [], "errors": []}
    dropped = sorted((set(old["forward"]) - set(fwd)) | (set(old["errors"]) - set(err)))
    for r in recs:
        if r["forward"] != "pass":
            print(f"{r['id']:36s} {r['forward']:8s} {r['reason'][:200]}")
    print(f"module_db: {len(recs)} entries; {len(fwd)} pass; error inputs pass for {len(err)}")
    if dropped and "--allow-regressions" not in sys.argv:
        print(f"baseline.json NOT written: no longer passing: {dropped}")
        return 1
    with open(BASELINE, "w") as f:
        json.dump({"forward": fwd, "errors": err}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
