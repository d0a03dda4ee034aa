"""GPU check and benchmark on MLX's CUDA (or Metal) backend, against torch on the same GPU.

Checks that devices tell the truth ('cuda'/'mps' tensors live on MLX's GPU, cuda.is_available()),
that float64 on the GPU is a clear TypeError, that ops and autograd run on the GPU stream, and times
per-op overhead vs raw mlx.core on the GPU plus an MLP training step vs torch CUDA.
Usage: python bench/bench_gpu.py
"""
from __future__ import annotations

import statistics
import time
import timeit

import mlx.core as mx
import numpy as np

import mlx_compat as mc


def check():
    print("mlx", mx.__version__, "default device", mx.default_device())
    print("mc.cuda.is_available():", mc.cuda.is_available(), "| mps:", mc.backends.mps.is_available())
    x = mc.arange(6.0).view(2, 3).to("cuda")
    y = (x @ x.t()).relu().sum()
    print("tensor on", x.device, "is_cuda", x.is_cuda, "| (x @ x.T).relu().sum() =", y.item())
    try:
        mc.ones(2, dtype=mc.float64, device="cuda")
        print("float64 on GPU: no error (unexpected)")
    except TypeError as e:
        print("float64 on GPU -> TypeError:", str(e)[:80])
    w = mc.randn(3, 3, device="cuda", requires_grad=True)
    (w.sin() * w).sum().backward()
    expect = (np.sin(np.array(w.detach().cpu().tolist())) + np.array(w.detach().cpu().tolist()) *
              np.cos(np.array(w.detach().cpu().tolist())))
    print("autograd on GPU matches numpy:", np.allclose(np.array(w.grad.cpu().tolist()), expect, atol=1e-5),
          "| grad device", w.grad.device)


def per_op(number=20000, repeats=9):
    a, b = mc.ones(4, device="cuda"), mc.ones(4, device="cuda")
    m = mc.ones(2, 3, device="cuda")
    with mx.stream(mx.gpu):
        ra, rb, rm = mx.ones(4), mx.ones(4), mx.ones((2, 3))
    cases = [("a + b", lambda: a + b, lambda: mx.add(ra, rb, stream=mx.gpu)),
             ("a * 2", lambda: a * 2, lambda: mx.multiply(ra, 2, stream=mx.gpu)),
             ("a[0]", lambda: m[0], lambda: rm[0]),
             ("a.view(-1)", lambda: m.view(-1), lambda: mx.reshape(rm, (-1,), stream=mx.gpu)),
             ("a.sum()", lambda: a.sum(), lambda: mx.sum(ra, stream=mx.gpu))]
    print(f"\nper-op graph building on the GPU stream (median of {repeats} x {number}), microseconds")
    for name, ours, raw in cases:
        o = statistics.median(timeit.repeat(ours, number=number, repeat=repeats)) / number * 1e6
        r = statistics.median(timeit.repeat(raw, number=number, repeat=repeats)) / number * 1e6
        print(f"  {name:<12} ours {o:7.3f}  raw {r:7.3f}  ratio {o / r:5.2f}x")


def mlp(batch=512, steps=30):
    import torch
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal((1024, 784)) * 0.03).astype(np.float32), np.zeros(1024, np.float32),
              (rng.standard_normal((10, 1024)) * 0.03).astype(np.float32), np.zeros(10, np.float32)]
    xb = rng.standard_normal((batch, 784)).astype(np.float32)
    yb = rng.integers(0, 10, batch)
    F = mc.nn.functional
    P = [mc.from_numpy(a.copy()).to("cuda").requires_grad_() for a in arrays]
    X, Y = mc.from_numpy(xb).to("cuda"), mc.from_numpy(yb).to("cuda")
    TP = [torch.from_numpy(a.copy()).cuda().requires_grad_() for a in arrays]
    TX, TY = torch.from_numpy(xb).cuda(), torch.from_numpy(yb).cuda()

    def ours():
        loss = F.cross_entropy(F.linear(F.relu(F.linear(X, P[0], P[1])), P[2], P[3]), Y)
        loss.backward()
        with mc.no_grad():
            for p in P:
                p -= 0.05 * p.grad
                p.grad = None
        mc.eval(*P, loss)
        return loss

    def theirs():
        loss = TF.cross_entropy(TF.linear(TF.relu(TF.linear(TX, TP[0], TP[1])), TP[2], TP[3]), TY)
        loss.backward()
        with torch.no_grad():
            for p in TP:
                p -= 0.05 * p.grad
                p.grad = None
        torch.cuda.synchronize()
        return loss

    def med(fn):
        for _ in range(5):
            fn()
        ts = []
        for _ in range(steps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts) * 1e3

    o, t = med(ours), med(theirs)
    print(f"\nMLP 784-1024-10 SGD step, batch {batch}: mlx_compat {o:.3f} ms, torch CUDA {t:.3f} ms, "
          f"ratio {o / t:.2f}x (same GPU)")


if __name__ == "__main__":
    check()
    per_op()
    mlp()
