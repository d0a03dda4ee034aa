"""Forward+backward cost: a 1000-op elementwise chain and an MLP (784-128-10) training step, through
mlx_compat's tape vs the same computation with mx.value_and_grad vs torch on the CPU, in one run.
Times include evaluation (mx.eval of loss and grads). Medians of REPEATS runs.
Usage: python bench/bench_autograd.py [--repeats N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import mlx.core as mx
import numpy as np

import mlx_compat as mc


def timeit(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def chain_cases(n_ops=1000, size=256):
    x0 = np.random.default_rng(0).standard_normal(size).astype(np.float32)

    def ours():
        x = mc.from_numpy(x0).requires_grad_()
        y = x
        for i in range(n_ops // 2):
            y = y * 0.999 + 0.001
        y.sum().backward()
        mx.eval(x.grad._mx)

    def f(x):
        y = x
        for i in range(n_ops // 2):
            y = y * 0.999 + 0.001
        return y.sum()

    vg = mx.value_and_grad(f)
    xm = mx.array(x0)

    def raw():
        v, g = vg(xm)
        mx.eval(v, g)

    cases = [("1000-op chain", ours, raw)]
    try:
        import torch

        xt0 = torch.from_numpy(x0)

        def tch():
            x = xt0.clone().requires_grad_()
            y = x
            for i in range(n_ops // 2):
                y = y * 0.999 + 0.001
            y.sum().backward()

        cases[0] = cases[0] + (tch,)
    except ImportError:
        cases[0] = cases[0] + (None,)
    return cases


def mlp_cases(batch=64):
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((128, 784)) * 0.05).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((10, 128)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    xb = rng.standard_normal((batch, 784)).astype(np.float32)
    yb = rng.integers(0, 10, batch)
    F = mc.nn.functional
    P = [mc.from_numpy(a.copy()).requires_grad_() for a in (w1, b1, w2, b2)]
    X, Y = mc.from_numpy(xb), mc.from_numpy(yb)

    def ours():
        h = F.relu(F.linear(X, P[0], P[1]))
        loss = F.cross_entropy(F.linear(h, P[2], P[3]), Y)
        loss.backward()
        with mc.no_grad():
            for p in P:
                p -= 0.1 * p.grad
                p.grad = None
        mc.eval(*P, loss)

    params = [mx.array(a) for a in (w1, b1, w2, b2)]
    xm, ym = mx.array(xb), mx.array(yb)

    def loss_fn(ps):
        h = mx.maximum(xm @ ps[0].T + ps[1], 0)
        logits = h @ ps[2].T + ps[3]
        lp = logits - mx.logsumexp(logits, axis=1, keepdims=True)
        return -mx.mean(mx.take_along_axis(lp, ym.reshape(-1, 1), axis=1))

    vg = mx.value_and_grad(loss_fn)

    def raw():
        nonlocal params
        loss, g = vg(params)
        params = [p - 0.1 * gi for p, gi in zip(params, g)]
        mx.eval(params, loss)

    tch = None
    try:
        import torch
        import torch.nn.functional as TF

        TP = [torch.from_numpy(a.copy()).requires_grad_() for a in (w1, b1, w2, b2)]
        TX, TY = torch.from_numpy(xb), torch.from_numpy(yb)

        def tch():
            h = TF.relu(TF.linear(TX, TP[0], TP[1]))
            loss = TF.cross_entropy(TF.linear(h, TP[2], TP[3]), TY)
            loss.backward()
            with torch.no_grad():
                for p in TP:
                    p -= 0.1 * p.grad
                    p.grad = None
    except ImportError:
        pass
    return [("MLP 784-128-10 step (batch 64)", ours, raw, tch)]


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    print(f"mlx {mx.__version__}, device {mx.default_device()}, python {sys.version.split()[0]}")
    print(f"median of {args.repeats} runs, milliseconds (forward + backward + evaluation)")
    print(f"{'case':<34}{'mlx_compat':>11}{'mx.value_and_grad':>19}{'torch cpu':>11}{'vs mlx':>8}{'vs torch':>10}")
    for name, ours, raw, tch in chain_cases() + mlp_cases():
        o = timeit(ours, args.repeats)
        r = timeit(raw, args.repeats)
        t = timeit(tch, args.repeats) if tch else float("nan")
        print(f"{name:<34}{o:>11.2f}{r:>19.2f}{t:>11.2f}{o / r:>7.2f}x{o / t:>9.2f}x")


if __name__ == "__main__":
    main()
