"""The optimizer update alone on the GPU: GPT-2-small's bfloat16 AdamW step, mlx_compat (its CUDA update kernel at
several consecutive elements per thread, the composed update, a compiled `step()`) against native MLX (eager and
compiled).

Gradients come from one forward and backward; then each variant repeats only the update, evaluated. Per variant:
median wall ms (host-bound and noisy for 148 small launches) and, from torch's profiler (CUPTI sees MLX's kernels),
kernels and summed kernel µs per step, which is what the kernel itself costs the GPU. MLX's CUDA graphs run
independent kernels concurrently, so inside a whole training step these updates overlap other kernels and their
summed times are not additive (BENCHMARKS.md, session of 2026-12-06).

Usage (on a CUDA machine): python bench/profile_adam_gpu.py [--repeats 10] [--size full|smoke]
"""
import argparse
import collections
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mlx.core as mx  # noqa: E402
import mlx.nn as mnn  # noqa: E402

import bench_suite as S  # noqa: E402
from suite_models import build  # noqa: E402


def timed(f, n):
    for _ in range(3):
        f()
    mx.synchronize()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        mx.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def kernels(f, steps=3):
    """(kernels per call, summed kernel µs per call, top three names) from torch's CUPTI trace, or None."""
    try:
        import torch
        from torch.profiler import ProfilerActivity, profile
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    mx.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            f()
        mx.synchronize()
    ev = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    tot = collections.Counter()
    for e in ev:
        tot[e.name] += e.device_time
    return len(ev) / steps, sum(tot.values()) / steps, [k[:60] for k, _ in tot.most_common(3)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--size", choices=("full", "smoke"), default="full")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    import mlx_compat as mc
    from mlx_compat.optim import _gpu_kernels as GK

    w = [x for x in S.training_workloads(args.size) if x.kind == "gpt2" and x.dtype == "bfloat16"][0]
    dev = S.Dev(args.device)
    _, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    F = mc.nn.functional
    ids = mc.from_numpy(b["ids"]).to(dev.name)
    opt = S._torch_opt(mc, "adamw", om.parameters())
    logits = om(ids)["logits"]
    F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).backward()
    mc.eval([q.grad for q in om.parameters()])

    def step():
        opt.step()

    rows = []
    shipped = GK.VEC
    variants = [(f"ours, CUDA kernel, {e} per thread" + (" (shipped)" if e == shipped else ""), e, None)
                for e in (1, 2, 4, 8)] + [("ours, composed update", shipped, False)]
    for label, vec, kernel in variants:
        GK.VEC, mc._device._CUDA_KERNELS = vec, kernel
        GK._updates.clear()
        rows.append((label, timed(step, args.repeats), kernels(step)))
    GK.VEC, mc._device._CUDA_KERNELS = shipped, None
    GK._updates.clear()
    cstep = mc.compile(step)
    rows.append(("ours, compiled step()", timed(cstep, args.repeats), kernels(cstep)))

    nopt = S._native_opt("adamw")

    def n_loss(m, x):
        lg = m(x)[0]
        return mnn.losses.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1), reduction="mean")

    _, grads = mnn.value_and_grad(nm, n_loss)(nm, mx.array(b["ids"]))
    mx.eval(grads)

    def nstep():
        nopt.update(nm, grads)
        mx.eval(nm.state, nopt.state)

    rows.append(("native MLX, eager update", timed(nstep, args.repeats), kernels(nstep)))
    state = [nm.state, nopt.state]
    cu = mx.compile(lambda g: nopt.update(nm, g), inputs=state, outputs=state)

    def ncstep():
        cu(grads)
        mx.eval(state)

    rows.append(("native MLX, compiled update", timed(ncstep, args.repeats), kernels(ncstep)))
    print(f"{w.name} {w.dtype} AdamW update alone, {args.device}; median of {args.repeats}")
    print("| update | wall ms | kernels per step | kernel µs per step |\n|---|---|---|---|")
    for label, ms, k in rows:
        ks = f"{k[0]:.0f} | {k[1]:,.0f}" if k else "n/a | n/a"
        print(f"| {label} | {ms:.2f} | {ks} |")


if __name__ == "__main__":
    main()
