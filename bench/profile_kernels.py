"""Where a step's GPU time goes, kernel by kernel: mlx_compat (eager, compiled) against native MLX and torch.

Each variant of a bench_suite row (the same models, inputs and steps as `bench_suite.py`) runs a few warm steps, then
N steps under torch's profiler with its CUDA activity on. The profiler's CUPTI tracing is process-wide, so it records
the kernels MLX's CUDA backend launches as well as torch's. Per variant: wall ms per step (timed apart, without the
profiler), kernels per step, kernel time per step (the sum of kernel durations: below the wall time means the GPU
waits for the host; above it, that kernels ran concurrently, as MLX's CUDA graphs run independent ones such as the
optimizer's per-parameter updates, so their durations overlap and are not additive: time such a kernel alone,
bench/profile_adam_gpu.py), and the kernels that take the most time, grouped by name.

Usage (on a CUDA machine): python bench/profile_kernels.py --only gpt2 --rows train --dtype bfloat16 [--steps 5]
"""
import argparse
import collections
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_suite  # noqa: E402
from timing import timeit_interleaved  # noqa: E402


def _kernel_events(prof):
    """[(name, start µs, end µs)] of every GPU kernel (and memcpy/memset) the profiler recorded."""
    from torch.autograd import DeviceType
    out = []
    for e in prof.events():
        if e.device_type != DeviceType.CUDA:
            continue
        out.append((e.name, e.time_range.start, e.time_range.end))
    return out


def _busy_us(ev):
    """µs during which at least one kernel ran (kernels on several streams overlap, so their durations' sum can
    exceed the wall time)."""
    busy, end = 0.0, None
    for _, s, e in sorted(ev, key=lambda t: t[1]):
        if end is None or s > end:
            busy += e - s
            end = e
        elif e > end:
            busy += e - end
            end = e
    return busy


def _short(name, n=90):
    name = re.sub(r"\s+", " ", name)
    return name if len(name) <= n else name[: n - 1] + "…"


def profile_variant(label, run, steps, top, width):
    import torch
    from torch.profiler import ProfilerActivity, profile

    (wall,) = timeit_interleaved([run], steps)
    cuda = torch.cuda.is_available()  # without CUDA (a fake-GPU smoke run) no kernels are recorded
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    sync()
    with profile(activities=[ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            run()
        sync()
    ev = _kernel_events(prof)
    by = collections.defaultdict(lambda: [0, 0.0])
    for name, s, e in ev:
        by[name][0] += 1
        by[name][1] += e - s
    total = sum(e - s for _, s, e in ev)
    lines = [f"#### {label}", "",
             f"wall {wall:.2f} ms/step (median of {steps}); kernels {len(ev) / steps:.0f}/step; "
             f"kernel time {total / steps / 1e3:.2f} ms/step; GPU busy {_busy_us(ev) / steps / 1e3:.2f} ms/step; "
             f"distinct kernels {len(by)}", "",
             "| kernel | per step | µs per step | share |", "|---|---|---|---|"]
    for name, (c, us) in sorted(by.items(), key=lambda kv: -kv[1][1])[:top]:
        lines.append(f"| `{_short(name, width)}` | {c / steps:.1f} | {us / steps:.0f} | {100 * us / max(total, 1e-9):.1f} % |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", required=True, choices=("mlp", "resnet18", "resnet50", "vit", "gpt2"))
    p.add_argument("--rows", choices=("train", "infer"), default="train")
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default=None)
    p.add_argument("--size", choices=("full", "quick", "smoke"), default="full")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--width", type=int, default=90, help="characters of each kernel name shown")
    p.add_argument("--variants", default=None,
                   help="comma-separated pieces of the labels to keep, '+' for a space (e.g. 'compile' keeps every "
                        "compiled variant, 'torch+compile' only torch.compile's)")
    p.add_argument("--torch-compile", action="store_true", help="include torch.compile's variant (minutes to compile)")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    dev = bench_suite.Dev("cuda")
    ws = (bench_suite.training_workloads(args.size) if args.rows == "train"
          else bench_suite.inference_workloads(args.size))
    keep = args.variants.replace("+", " ").split(",") if args.variants else None
    tc = True if args.torch_compile else "off"

    def emit(lines):
        print("\n".join(lines), flush=True)  # as each variant ends: a timed-out run keeps what it measured

    for w in ws:
        if w.kind not in args.only or (args.dtype is not None and w.dtype != args.dtype):
            continue
        vs = (bench_suite.train_variants(w, dev, tc) if args.rows == "train"
              else bench_suite.infer_variants(w, dev, tc))
        emit(["", f"### {args.rows}: {w.name} ({w.shapes()})", ""])
        for v in vs:
            label, run = v[0], v[1]
            if run is None or (keep and not any(k in label for k in keep)):
                continue
            try:
                emit(profile_variant(label, run, args.steps, args.top, args.width) + [""])
            except Exception as e:  # noqa: BLE001 - one variant's failure is reported, the rest still run
                emit([f"#### {label}: failed: {type(e).__name__}: {str(e)[:200]}", ""])
            print(f"{w.name}: {label} done", file=sys.stderr, flush=True)
        del vs


if __name__ == "__main__":
    main()
