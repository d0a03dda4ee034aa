"""Main-thread CPU per compiled MLP step (workloads.py's 784-128-10 b64 Adam step, sizes 'cpu'): ours with the call
program's host scalar work in C (Note [Host scalars in C] in csrc/compile.c), ours with it left to the Python
callbacks (the program built without P_HOST), and native mx.compile, interleaved in one run; medians.

    OMP_NUM_THREADS=1 python bench/bench_compile_host.py [--repeats 300] [--workload mlp]
"""
import argparse
import os
import statistics
import sys
import time
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

import workloads as W  # noqa: E402
from mlx_compat import _compile  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--workload", default="mlp", choices=W.NAMES)
    args = ap.parse_args()
    w = W.get(args.workload, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c_host = W.ours_step(w, True)
        for _ in range(10):
            c_host()
        orig = _compile._host_program
        _compile._host_program = lambda *a: None  # the programs built now keep the Python callbacks
        try:
            py_host = W.ours_step(w, True)
            for _ in range(10):
                py_host()
        finally:
            _compile._host_program = orig
        native = W.native_step(w, True)
        for _ in range(10):
            native()
    variants = [("ours, host scalars in C", c_host), ("ours, host scalars in Python", py_host),
                ("MLX compiled", native)]
    ts = [[] for _ in variants]
    for _ in range(args.repeats):
        for i, (_, fn) in enumerate(variants):
            t0 = time.thread_time()
            fn()
            ts[i].append(time.thread_time() - t0)
    med = [statistics.median(t) * 1e3 for t in ts]
    print(f"{w.name}: main-thread CPU ms per step (median of {args.repeats}, interleaved)")
    for (name, _), m in zip(variants, med):
        print(f"  {name:32s} {m:.4f} ms  ({m / med[-1]:.3f}x MLX compiled)")


if __name__ == "__main__":
    main()
