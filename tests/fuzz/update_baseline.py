"""Regenerate parity_baseline.json (the exception-parity ratchet) from the current package: every case whose
outcome matches torch's is listed, with the match rate.

    .venv/bin/python tests/fuzz/update_baseline.py [--allow-regressions] [--show N]

It refuses to drop a case the current baseline lists unless --allow-regressions is given; --show prints the N
most common mismatch classes (family, torch's outcome, ours)."""
import collections
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(os.path.dirname(HERE)))

import corpus  # noqa: E402
import parity  # noqa: E402


def main():
    res = parity.run_both()
    ok = parity.matching(res)
    total = len(res["torch"])
    rate = len(ok) / total
    print(f"exception parity: {len(ok)} of {total} cases match torch ({100 * rate:.2f} %); "
          f"{len(res['crashes'])} crashes")
    for idx, rc, err in res["crashes"]:
        print(f"  crash at case {idx} (exit {rc}): {err[-300:]}")
    if "--show" in sys.argv:
        import mlx_compat
        import torch

        n = int(sys.argv[sys.argv.index("--show") + 1])
        cases = {c[0]: c for c in corpus.build(torch, mlx_compat)}
        okset, classes, examples = set(ok), collections.Counter(), {}
        for cid, want in res["torch"].items():
            if cid in okset:
                continue
            _, rkey, code, stmt = cases[cid]
            fam = "setitem" if stmt else "getitem" if code.startswith("x[") else "dunder" if code.startswith(
                "x.__") else "method" if code.startswith("x.") else "function"
            key = (fam, json.dumps(want), json.dumps(res["mlx_compat"].get(cid)))
            classes[key] += 1
            examples.setdefault(key, f"x = {corpus.RECEIVERS[rkey]}; {code}")
        for key, count in classes.most_common(n):
            print(f"{count:5d} {key[0]:8s} torch {key[1][:50]:50s} ours {key[2][:50]:50s} e.g. {examples[key][:120]}")
    old = parity.load_baseline() if os.path.exists(parity.BASELINE) else {"matching": []}
    dropped = sorted(set(old["matching"]) - set(ok))
    if res["crashes"]:
        print("parity_baseline.json NOT written: the corpus crashed mlx_compat")
        return 1
    if dropped and "--allow-regressions" not in sys.argv:
        print(f"parity_baseline.json NOT written: {len(dropped)} cases no longer match, e.g. {dropped[:10]}")
        return 1
    with open(parity.BASELINE, "w") as f:
        # the rate rounded down, so the recorded run itself passes the ratchet
        json.dump({"cases": total, "rate": math.floor(rate * 1e4) / 1e4, "matching": ok}, f, indent=0)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
