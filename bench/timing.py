"""Timing helpers shared by the benchmark scripts (bench/*.py run as scripts, so this folder is on sys.path)."""
import glob
import statistics
import time


def timeit_interleaved(fns, repeats, warmup=2):
    """Median ms of each function, the functions run in turn within every repeat (so load drift on a shared
    machine hits them alike)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    ts = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            ts[i].append(time.perf_counter() - t0)
    return [statistics.median(t) * 1e3 for t in ts]


def callgrind_dump_totals(prefix):
    """Instructions in each of callgrind's numbered dumps PREFIX.1, PREFIX.2, ... (`--dump-before=...`), in dump
    order: the scripts bracket each measured phase with a call that dumps the counters."""
    files = sorted(glob.glob(prefix + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
    totals = []
    for p in files:
        with open(p) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    totals.append(int(line.split()[1]))
                    break
    return totals
