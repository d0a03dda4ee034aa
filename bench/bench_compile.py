"""Training steps (and one inference batch) four ways, for the workloads of bench/workloads.py: mlx_compat eager,
the same Python step under mlx_compat.compile, native MLX eager (mlx.nn + nn.value_and_grad + mlx.optimizers) and
native MLX under mx.compile (model and optimizer state as the compiled function's inputs/outputs, MLX's
documented pattern). Same shapes, dtypes (float32) and work on both sides; each step is timed with its evaluation;
medians over the repeats, the four variants interleaved within every repeat so load drift hits them alike.
Prints a markdown table (milliseconds per step and the ratios) with the machine, versions and sizes.

    python bench/bench_compile.py                     # CPU, the smaller "cpu" sizes
    python bench/bench_compile.py --device cuda       # MLX's CUDA backend, issue 15's full sizes
    python bench/bench_compile.py --quick --only mlp gpt2
    python bench/bench_compile.py --only mlp --cpu-time --baseline /tmp/base.py   # A/B against another _compile.py

Needs only mlx and mlx_compat (no torch). On a fresh GPU machine the first step of each compiled variant spends
seconds to a minute JIT-compiling kernels (reported apart, in brackets); the full run took ~2.5 minutes on a warm
H200.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import traceback
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]  # bench/'s helpers, and this checkout's mlx_compat

import mlx.core as mx  # noqa: E402

import workloads as W  # noqa: E402
from timing import timeit_interleaved  # noqa: E402




def _variants(w, device):
    ours_dev = "cuda" if device == "cuda" else None
    return [lambda: W.ours_step(w, False, ours_dev), lambda: W.ours_step(w, True, ours_dev),
            lambda: W.native_step(w, False), lambda: W.native_step(w, True)]


def bench(w, device, repeats, warmup):
    """Median ms per step of the four variants (None where one failed, with the error printed)."""
    fns, first = [], []
    for make in _variants(w, device):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a compile falling back to eager would make its number meaningless
                fn = make()
                t0 = time.perf_counter()
                fn()  # the first step: tracing and kernel compilation, reported apart
                first.append((time.perf_counter() - t0) * 1e3)
            fns.append(fn)
        except Exception:  # noqa: BLE001 — report the failure, keep benchmarking the others
            traceback.print_exc(file=sys.stdout)
            fns.append(None)
            first.append(None)
    live = [f for f in fns if f is not None]
    times = iter(timeit_interleaved(live, repeats, warmup=warmup)) if live else iter(())
    return [next(times) if f is not None else None for f in fns], first


def _fmt(v, spec=".2f"):
    return "—" if v is None else format(v, spec)


def _ratio(a, b):
    return None if a is None or b is None else a / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--size", choices=("cpu", "full"), default=None,
                    help="workload sizes (default: full on cuda, cpu on the CPU)")
    ap.add_argument("--only", nargs="+", choices=W.NAMES, default=list(W.NAMES))
    ap.add_argument("--repeats", type=int, default=None, help="timed steps per variant (default 30, quick 7)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and warm-up steps")
    ap.add_argument("--cpu-time", action="store_true",
                    help="only ours compiled against MLX compiled, timed as main-thread CPU (time.thread_time: the "
                         "host work per step, which a loaded machine moves far less than wall time)")
    ap.add_argument("--plan-reuse-ab", action="store_true",
                    help="with --cpu-time: also ours compiled with plan reuse switched off (Note [Plan reuse] in "
                         "mlx_compat/_compile.py), in the same process, interleaved")
    ap.add_argument("--baseline", metavar="PATH",
                    help="with --cpu-time: also ours compiled through another copy of mlx_compat/_compile.py (e.g. "
                         "`git show main:mlx_compat/_compile.py > /tmp/base.py`), loaded aside in the same process "
                         "and interleaved step by step; prints main-thread CPU and wall medians of every variant")
    args = ap.parse_args()
    size = args.size or ("full" if args.device == "cuda" else "cpu")
    repeats = args.repeats or (7 if args.quick else 30)
    warmup = 2 if args.quick else 5
    if args.device == "cuda":
        if not mx.cuda.is_available():
            sys.exit("--device cuda: MLX has no CUDA backend here (pip install mlx-cuda-13)")
        mx.set_default_device(mx.gpu)
    else:
        mx.set_default_device(mx.cpu)
    import mlx_compat

    print(f"# compile benchmark — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"device: {args.device} ({mx.default_device()}); {platform.machine()} {os.cpu_count()} CPUs; "
          f"python {platform.python_version()}; mlx {mx.__version__}; mlx_compat {mlx_compat.__version__}; "
          f"sizes '{size}'; median of {repeats} steps after {warmup} warm-up steps, the four variants interleaved; "
          "float32 everywhere; each step timed with its evaluation\n")
    descriptions = [W.get(name, size) for name in args.only]
    if args.cpu_time:
        if args.baseline:
            return baseline_table(descriptions, repeats, warmup, args.baseline)
        return cpu_time_table(descriptions, repeats, warmup, args.plan_reuse_ab)
    for w in descriptions:
        print(f"- **{w.name}**: {w.description}")
    print("\nMilliseconds per step (median); in brackets the first step's (tracing and kernel compilation).\n")
    print("| workload | ours eager | ours compiled | MLX eager | MLX compiled | ours eager / compiled "
          "| ours compiled / MLX compiled | ours eager / MLX eager |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for w in descriptions:  # a row as soon as it is measured: a run cut short keeps what it finished
        (oe, oc, ne, nc), first = bench(w, args.device, repeats, warmup)
        cells = " | ".join(f"{_fmt(v, '.3f')} ({_fmt(f, '.0f')})" for v, f in zip((oe, oc, ne, nc), first))
        print(f"| {w.name} | {cells} | {_fmt(_ratio(oe, oc))}× | {_fmt(_ratio(oc, nc))}× "
              f"| {_fmt(_ratio(oe, ne))}× |", flush=True)

def cpu_time_table(descriptions, repeats, warmup, plan_ab=False):
    """--cpu-time: ours compiled and MLX compiled (and with --plan-reuse-ab ours without plan reuse), interleaved,
    main-thread CPU ms per step (medians)."""
    from mlx_compat import _compile

    reuse = _compile._Plan.reuse
    print("Main-thread CPU ms per step (time.thread_time, median; MLX's CPU kernels run on its stream thread, so "
          "this is the host's Python and the MLX calls it makes).\n")
    if plan_ab:
        print("| workload | ours compiled | ours, plan reuse off | MLX compiled | ours / MLX | reuse off / MLX |")
        print("| --- | --- | --- | --- | --- | --- |", flush=True)
    else:
        print("| workload | ours compiled | MLX compiled | ours / MLX |")
        print("| --- | --- | --- | --- |", flush=True)
    for w in descriptions:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours, native = W.ours_step(w, True), W.native_step(w, True)
            variants = [(ours, reuse), (native, reuse)] + ([(ours, lambda *a: None)] if plan_ab else [])
            for _ in range(warmup):
                for fn, _r in variants:
                    fn()
        ts = [[] for _ in variants]
        try:
            for _ in range(repeats):
                for i, (fn, r) in enumerate(variants):
                    _compile._Plan.reuse = r
                    t0 = time.thread_time()
                    fn()
                    ts[i].append(time.thread_time() - t0)
        finally:
            _compile._Plan.reuse = reuse
        med = [statistics.median(t) * 1e3 for t in ts]
        if plan_ab:
            print(f"| {w.name} | {med[0]:.3f} | {med[2]:.3f} | {med[1]:.3f} | {med[0] / med[1]:.2f}× "
                  f"| {med[2] / med[1]:.2f}× |", flush=True)
        else:
            print(f"| {w.name} | {med[0]:.3f} | {med[1]:.3f} | {med[0] / med[1]:.2f}× |", flush=True)


def _load_baseline(path):
    """The _compile.py at `path` as a module of the mlx_compat package (its own caches and trace state)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mlx_compat._compile_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def baseline_table(descriptions, repeats, warmup, path):
    """--cpu-time --baseline PATH: ours compiled through the baseline _compile.py, through this checkout's and
    native mx.compile, interleaved step by step; medians of main-thread CPU and wall ms per step."""
    import mlx_compat
    from mlx_compat import _compile

    base = _load_baseline(path)

    def swapped(fn):
        # the optimizers and layers reach the compile machinery as `mlx_compat._compile` (host scalars, tracing
        # flags): while a baseline variant runs, that name is the baseline module
        def run():
            sys.modules["mlx_compat._compile"] = base
            try:
                fn()
            finally:
                sys.modules["mlx_compat._compile"] = _compile
        return run

    print(f"Baseline `_compile.py`: {path}. Medians of {repeats} interleaved steps after {warmup} warm-up steps.\n")
    print("| workload | CPU: baseline | CPU: this checkout | CPU: MLX compiled | CPU ratios to MLX (baseline, this) "
          "| wall: baseline | wall: this checkout | wall: MLX compiled | wall ratios to MLX (baseline, this) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for w in descriptions:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            mlx_compat.compile = base.compile
            try:
                old = swapped(W.ours_step(w, True))
            finally:
                mlx_compat.compile = _compile.compile
            variants = [old, W.ours_step(w, True), W.native_step(w, True)]
            for _ in range(warmup):
                for fn in variants:
                    fn()
            cpu, wall = [[] for _ in variants], [[] for _ in variants]
            for _ in range(repeats):
                for i, fn in enumerate(variants):
                    t0, w0 = time.thread_time(), time.perf_counter()
                    fn()
                    cpu[i].append(time.thread_time() - t0)
                    wall[i].append(time.perf_counter() - w0)
        c = [statistics.median(t) * 1e3 for t in cpu]
        wl = [statistics.median(t) * 1e3 for t in wall]
        print(f"| {w.name} | {c[0]:.3f} | {c[1]:.3f} | {c[2]:.3f} | {c[0] / c[2]:.2f}×, {c[1] / c[2]:.2f}× "
              f"| {wl[0]:.3f} | {wl[1]:.3f} | {wl[2]:.3f} | {wl[0] / wl[2]:.2f}×, {wl[1] / wl[2]:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
