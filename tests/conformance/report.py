"""Table of the OpInfo entries' status, to pick the next ops to implement (not part of the pytest run).

    .venv/bin/python tests/conformance/report.py                 # every op_db entry
    .venv/bin/python -m tests.conformance.report linalg fft       # entries whose id contains "linalg" or "fft"
    .venv/bin/python tests/conformance/report.py --failing --top 40
    .venv/bin/python tests/conformance/report.py --json /tmp/opinfo.json

Columns: entry id, forward / backward / error-inputs status, the first failure reason. At the end: the most
common failure reasons (missing ops grouped by namespace) and the missing functions, most wanted first
(by the number of entries that need them).
"""
import argparse
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import runner  # noqa: E402


def _strip_where(reason):
    return re.sub(r"^\[[^\]]*\]\s*", "", reason)


def normalize(reason):
    """Group key for a failure reason: variant/sample prefix and numbers dropped, missing ops by namespace."""
    r = _strip_where(reason)
    if r.startswith("missing: "):
        name = r[len("missing: "):]
        if name.startswith("Tensor."):
            return "missing: a Tensor method/attribute (Tensor.*)"
        if name.startswith("ops."):
            return "missing: a torch.ops.aten.* operator"
        ns = name.rsplit(".", 1)[0] if "." in name else ""
        return f"missing: a torch.{ns + '.' if ns else ''}* function"
    if r.startswith("mismatch: "):
        body = r[len("mismatch: "):]
        body = re.sub(r"^(out|self after in-place|grad)(\[\d+\])*: ", "", body)
        if body.startswith("values differ"):
            return "mismatch: values differ"
        if body.startswith("shape"):
            return "mismatch: shape differs"
        m = re.match(r"dtype (\S+) != (\S+)", body)
        if m:
            return f"mismatch: dtype {m.group(1)} != {m.group(2)}"
        body = re.sub(r"\d+", "N", body)
        return "mismatch: " + body[:90]
    if r.startswith(("timeout:", "crash:")):
        return re.sub(r" in .*$", "", r)
    r = re.sub(r"\d+", "N", r)
    return r[:110]


def missing_name(reason):
    r = _strip_where(reason)
    if r.startswith("missing: "):
        return r[len("missing: "):]
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("filters", nargs="*", help="only entries whose id contains one of these")
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--failing", action="store_true", help="only entries that do not pass forward+backward")
    ap.add_argument("--top", type=int, default=30, help="how many failure reasons / missing names to list")
    ap.add_argument("--width", type=int, default=150)
    ap.add_argument("--json", help="also write the records to this file")
    ap.add_argument("--from-json", help="read records from this file instead of running the harness")
    args = ap.parse_args(argv)

    if args.from_json:
        with open(args.from_json) as f:
            recs = json.load(f)
    else:
        ids = None
        if args.filters:
            ids = [i for i in runner.Runner().entry_ids() if any(s in i for s in args.filters)]
        tty = sys.stderr.isatty()
        recs = runner.run_many(ids, jobs=args.jobs, progress=(lambda r, k, n: print(
            f"\r{k}/{n}", end="", file=sys.stderr, flush=True)) if tty else None)
        if tty:
            print(file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(recs, f, indent=0)

    base = runner.load_baseline()
    bf, bb = set(base.get("forward", [])), set(base.get("forward_backward", []))
    shown = [r for r in recs if not (args.failing and runner.passes_forward_backward(r))]
    w_id = max([len(r["id"]) for r in shown] + [5])
    print(f"{'entry':<{w_id}}  {'forward':<8} {'backward':<8} {'errors':<8} B  first failure")
    for r in shown:
        mark = ("*" if r["id"] in bb else "+") if r["id"] in bf else " "
        line = (f"{r['id']:<{w_id}}  {r['forward']:<8} {r['backward']:<8} {r['errors']:<8} {mark}  "
                f"{runner.first_reason(r)}")
        print(line[:args.width])
    print("(B: * in baseline.json forward+backward, + forward only)")
    print()
    print(runner.summary_line(recs))
    err = collections.Counter(r["errors"] for r in recs)
    print(f"error inputs: {err.get('pass', 0)} pass, {err.get('fail', 0)} fail, {err.get('missing', 0)} missing, "
          f"{err.get('n/a', 0)} n/a")

    reasons = collections.Counter()
    missing = collections.Counter()
    for r in recs:
        fr = runner.first_reason(r)
        if fr:
            stage, _, why = fr.partition(": ")
            reasons[normalize(why)] += 1
            name = missing_name(why)
            if name:
                missing[name] += 1
    print(f"\n{args.top} most common first failure reasons (entries):")
    for why, n in reasons.most_common(args.top):
        print(f"  {n:4d}  {why}")
    print(f"\nmissing names, most wanted first (entries blocked):")
    print("  " + ", ".join(f"{k} ({v})" for k, v in missing.most_common(args.top * 3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
