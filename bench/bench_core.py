"""Per-op overhead of mlx_compat over raw mlx.core on tiny tensors (graph building only, no eval).

Each case is timed as the median of REPEATS runs of NUMBER calls, interleaving ours and raw MLX
so machine noise hits both alike; the ratio is ours / raw from the same run.
Usage: python bench/bench_core.py [--repeats N] [--number N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import timeit

import mlx.core as mx

import mlx_compat as torch


def cases():
    a = torch.ones(4)
    b = torch.ones(4)
    m = torch.ones(2, 3)
    ra, rb, rm = mx.ones(4), mx.ones(4), mx.ones((2, 3))
    return [
        ("a + b", lambda: a + b, lambda: ra + rb),
        ("a * 2", lambda: a * 2, lambda: ra * 2),
        ("a[0]", lambda: m[0], lambda: rm[0]),
        ("a.view(-1)", lambda: m.view(-1), lambda: rm.reshape(-1)),
        ("a.sum()", lambda: a.sum(), lambda: ra.sum()),
        ("a.t()", lambda: m.t(), lambda: rm.T),
        ("a += b (in place)", None, None),
    ]


def inplace_pair():
    a = torch.ones(4)
    b = torch.ones(4)
    ra, rb = mx.ones(4), mx.ones(4)

    def ours():
        nonlocal a
        a += b

    def raw():
        nonlocal ra
        ra = ra + rb

    return ours, raw


def median_us(fn, number, repeats):
    times = timeit.repeat(fn, number=number, repeat=repeats)
    return statistics.median(times) / number * 1e6


def result_type_choice(number, repeats):
    """Cost of creating results as the C type itself vs as a Python subclass (the design choice)."""
    arr = mx.ones(4)
    code = torch.float32._code

    class Sub(torch.Tensor):
        pass

    base = torch.Tensor._new_on(arr, 0, code)
    c_type = median_us(lambda: torch.Tensor._new_on(arr, 0, code), number, repeats)
    sub = median_us(lambda: torch.Tensor._make_subclass(Sub, base), number, repeats)
    c_same = median_us(lambda: torch.Tensor._make_subclass(torch.Tensor, base), number, repeats)
    return c_type, sub, c_same


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--number", type=int, default=20000)
    args = p.parse_args(argv)
    print(f"mlx {mx.__version__}, device {mx.default_device()}, python {sys.version.split()[0]}")
    print(f"median of {args.repeats} x {args.number} calls, microseconds per call")
    print(f"{'op':<20}{'mlx_compat':>12}{'raw mlx':>10}{'ratio':>8}")
    rows = []
    for name, ours, raw in cases():
        if ours is None:
            ours, raw = inplace_pair()
        o, r = [], []
        for _ in range(args.repeats):  # interleave so drift hits both
            o.append(timeit.timeit(ours, number=args.number) / args.number * 1e6)
            r.append(timeit.timeit(raw, number=args.number) / args.number * 1e6)
        mo, mr = statistics.median(o), statistics.median(r)
        rows.append((name, mo, mr))
        print(f"{name:<20}{mo:>12.3f}{mr:>10.3f}{mo / mr:>7.2f}x")
    c_type, sub, c_same = result_type_choice(args.number, args.repeats)
    print("\nresult objects: C Tensor type vs a Python subclass (same C allocation path)")
    print(f"  as the C type: {c_same:.3f} us   as a Python subclass: {sub:.3f} us   ratio {sub / c_same:.2f}x")
    return rows


if __name__ == "__main__":
    main()
