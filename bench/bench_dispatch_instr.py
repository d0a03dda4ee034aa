"""Host instructions per call of bench_dispatch.py's calls (ours and raw mlx.core), counted by callgrind so that the
count does not move with the machine's load. Each call's N repetitions, ours then raw, are bracketed by os.getppid()
calls, at which callgrind dumps its counters:
    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cgd.%p \\
        python bench/bench_dispatch_instr.py [N] [NAME-SUBSTRING ...]
then `python bench/bench_dispatch_instr.py --report /tmp/cgd.PID [N] [NAME-SUBSTRING ...]` prints instructions per
call and ours / raw for each call (give the same N and names as the run). With `--cache-sim=yes` added to the
valgrind line, the report also prints level-1 instruction-cache misses (I1mr) per call, ours and raw: beyond the
instruction count, per-call time follows the code's cache footprint (Note [Cold error paths] in csrc/core.h)."""
from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def selected(names):
    from bench_dispatch import cases
    rows = cases("cpu")
    return [r for r in rows if not names or any(n in r[0] for n in names)]


def run(n, names):
    rows = selected(names)
    for _, ours, raw in rows:  # warm-up: caches, interned names, first-call paths
        for _ in range(20):
            ours(), raw()
    os.getppid()
    for _, ours, raw in rows:
        for f in (ours, raw):
            for _ in range(n):
                f()
            os.getppid()


def dump_events(prefix):
    """Per callgrind dump PREFIX.1, PREFIX.2, ... in order: {event name: count} from its summary line."""
    import glob
    files = sorted(glob.glob(prefix + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
    out = []
    for p in files:
        events = None
        with open(p) as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("summary:") or line.startswith("totals:"):
                    out.append(dict(zip(events, map(int, line.split()[1:]))))
                    break
    return out


def report(prefix, n, names):
    dumps = dump_events(prefix)
    rows = selected(names)
    body = dumps[1:]  # dump 1: start-up and warm-up; then ours, raw per call
    cache = "I1mr" in body[0]
    logs = []
    print(f"{'call':<22}{'ours':>10}{'raw':>10}{'ratio':>8}" + (f"{'I1 miss ours':>14}{'raw':>8}" if cache else "")
          + "   (per call)")
    for i, (name, _, _) in enumerate(rows):
        o, r = body[2 * i]["Ir"] / n, body[2 * i + 1]["Ir"] / n
        logs.append(math.log(o / r))
        extra = (f"{body[2 * i]['I1mr'] / n:>14.1f}{body[2 * i + 1]['I1mr'] / n:>8.1f}" if cache else "")
        print(f"{name:<22}{o:>10.0f}{r:>10.0f}{o / r:>7.3f}x" + extra)
    print(f"{'geometric mean':<42}{math.exp(sum(logs) / len(logs)):>7.3f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        args = sys.argv[3:]
        n = int(args[0]) if args and args[0].isdigit() else 200
        report(sys.argv[2], n, [a for a in args if not a.isdigit()])
    else:
        args = sys.argv[1:]
        n = int(args[0]) if args and args[0].isdigit() else 200
        run(n, [a for a in args if not a.isdigit()])
