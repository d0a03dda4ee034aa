"""optimizer.step() on a ResNet-18-sized parameter list (its 62 tensor shapes, 11.7M floats, random values and
gradients): mlx_compat.optim vs mlx.optimizers on the same shapes (native MLX arrays, bias correction on for
Adam/AdamW so both do the same arithmetic) vs torch.optim with foreach=True on the CPU. Every step is timed with
its evaluation (ours: inside step(); MLX: mx.eval of parameters and state). Medians of REPEATS steps after warmup.
torch runs with --torch-threads intra-op threads (default 1: MLX's CPU backend runs these elementwise kernels on
one thread, and on a shared 2-core VM torch's OpenMP team of 2 spins against the other load).
MLX_COMPAT_OPTIM_COMPILE=0 runs our update functions without mx.compile (Note [Fused update kernels]).
Usage: python bench/bench_optim.py [--repeats N] [--small] [--torch-threads N]
       (--small: a 1/16-width ResNet-18 with 100 classes, 0.05M floats: the per-parameter overhead)
"""
from __future__ import annotations

import argparse

import mlx.core as mx
import mlx.optimizers as mxopt
import numpy as np

import mlx_compat as mc
from timing import timeit_interleaved  # noqa: E402


def resnet18_shapes(width=64, classes=1000):
    w = width
    shapes = [(w, 3, 7, 7), (w,), (w,)]
    cin = w
    for stage, cout in enumerate([w, 2 * w, 4 * w, 8 * w]):
        for block in range(2):
            first = block == 0 and stage > 0
            shapes += [(cout, cin if block == 0 else cout, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,), (cout,)]
            if first:
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    shapes += [(classes, 8 * w), (classes,)]
    return shapes


CONFIGS = {
    "Adam": (dict(lr=1e-3), lambda: mxopt.Adam(learning_rate=1e-3, bias_correction=True)),
    "AdamW": (dict(lr=1e-3, weight_decay=1e-2), lambda: mxopt.AdamW(learning_rate=1e-3, weight_decay=1e-2,
                                                                      bias_correction=True)),
    "SGD": (dict(lr=1e-2, momentum=0.9), lambda: mxopt.SGD(learning_rate=1e-2, momentum=0.9)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--torch-threads", type=int, default=1)
    args = ap.parse_args()
    shapes = resnet18_shapes(4, 100) if args.small else resnet18_shapes()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in shapes]
    n = sum(v.size for v in values)
    import os

    compiled = os.environ.get("MLX_COMPAT_OPTIM_COMPILE", "1") != "0"
    print(f"{len(shapes)} tensors, {n / 1e6:.2f}M floats; median of {args.repeats} steps (ms); ours "
          f"{'compiled' if compiled else 'eager'}, torch threads {args.torch_threads}")
    try:
        import torch

        torch.set_num_threads(args.torch_threads)
    except ImportError:
        torch = None
    rows = []
    for name, (kwargs, make_mx) in CONFIGS.items():
        # ours
        ps = [mc.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(ps, grads):
            p.grad = mc.tensor(g)
        opt = getattr(mc.optim, name)(ps, **kwargs)
        # mlx.optimizers, native
        params = {f"p{i}": mx.array(v) for i, v in enumerate(values)}
        mgrads = {f"p{i}": mx.array(g) for i, g in enumerate(grads)}
        mopt = make_mx()
        mopt.init(params)

        def native():
            nonlocal params
            params = mopt.apply_gradients(mgrads, params)
            mx.eval(params, mopt.state)

        fns = [opt.step, native]
        # torch foreach
        if torch is not None:
            tp = [torch.tensor(v, requires_grad=True) for v in values]
            for p, g in zip(tp, grads):
                p.grad = torch.tensor(g)
            topt = getattr(torch.optim, name)(tp, foreach=True, **kwargs)
            fns.append(topt.step)
        times = timeit_interleaved(fns, args.repeats)
        ours, mlx_ms = times[:2]
        tch = times[2] if torch is not None else None
        rows.append((name, ours, mlx_ms, tch))
        del ps, opt, params, mopt
    print("| optimizer | mlx_compat | mlx.optimizers | torch foreach | vs mlx.optimizers | vs torch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, ours, mlx_ms, tch in rows:
        t = f"{tch:.2f}" if tch is not None else "-"
        r = f"{ours / tch:.2f}×" if tch is not None else "-"
        print(f"| {name} | {ours:.2f} | {mlx_ms:.2f} | {t} | {ours / mlx_ms:.2f}× | {r} |")


if __name__ == "__main__":
    main()
