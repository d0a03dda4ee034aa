"""Recurrent layers: mlx_compat.nn.LSTM / GRU / RNN (one layer, time-major) against mlx.nn's own LSTM / GRU / RNN
on the same sizes, forward (graph plus one evaluation) and forward+backward (ours through the autograd tape,
mlx.nn through mx.value_and_grad), with torch's CPU times for reference. Medians of REPEATS runs, ours and
native interleaved so machine noise hits both.

Usage: python bench/bench_rnn.py [--repeats N] [--T 32] [--B 8] [--I 32] [--H 64]
"""
from __future__ import annotations

import argparse
import statistics
import time

import mlx.core as mx
import mlx.nn as mnn
import numpy as np

import mlx_compat as mc


def median_ms(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def cases(T, B, I, H):
    x_np = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    out = []
    for name, ours_cls, native_cls in (("LSTM", mc.nn.LSTM, mnn.LSTM), ("GRU", mc.nn.GRU, mnn.GRU),
                                       ("RNN", mc.nn.RNN, mnn.RNN)):
        ours = ours_cls(I, H)
        native = native_cls(I, H)
        mx.eval(native.parameters())
        x = mc.tensor(x_np, requires_grad=True)
        rx = mx.array(x_np.transpose(1, 0, 2))  # mlx.nn's recurrent layers are batch-first

        def ours_fwd(ours=ours):
            mc.eval(ours(x)[0])

        def native_fwd(native=native):
            mx.eval(native(rx))

        def ours_fwd_bwd(ours=ours):
            ours.zero_grad()
            ours(x)[0].sum().backward()
            mc.eval(*[p.grad for p in ours.parameters()])

        def loss(model, inp):
            r = model(inp)
            return (r[0] if isinstance(r, tuple) else r).sum()

        def native_fwd_bwd(native=native):
            mx.eval(mnn.value_and_grad(native, loss)(native, rx))

        out.append((f"{name} T{T} B{B} {I}->{H} forward", ours_fwd, native_fwd))
        out.append((f"{name} T{T} B{B} {I}->{H} forward+backward", ours_fwd_bwd, native_fwd_bwd))
    return out


def torch_times(T, B, I, H, repeats):
    try:
        import torch
    except ImportError:
        return {}
    x = torch.tensor(np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32), requires_grad=True)
    res = {}
    for name in ("LSTM", "GRU", "RNN"):
        m = getattr(torch.nn, name)(I, H)
        m(x)[0].sum().backward()  # warm up (oneDNN setup on the first call)
        res[f"{name} T{T} B{B} {I}->{H} forward"] = median_ms(lambda m=m: m(x), repeats)
        res[f"{name} T{T} B{B} {I}->{H} forward+backward"] = median_ms(lambda m=m: m(x)[0].sum().backward(), repeats)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--T", type=int, default=32)
    ap.add_argument("--B", type=int, default=8)
    ap.add_argument("--I", type=int, default=32)
    ap.add_argument("--H", type=int, default=64)
    a = ap.parse_args()
    tt = torch_times(a.T, a.B, a.I, a.H, a.repeats)
    print(f"{'case':44s} {'ours ms':>9s} {'mlx.nn ms':>10s} {'ratio':>6s} {'torch ms':>9s}")
    for name, ours, native in cases(a.T, a.B, a.I, a.H):
        ours(), native()  # warm up
        o, n = [], []
        for _ in range(a.repeats):
            o.append(median_ms(ours, 1))
            n.append(median_ms(native, 1))
        mo, mn = statistics.median(o), statistics.median(n)
        print(f"{name:44s} {mo:9.2f} {mn:10.2f} {mo / mn:6.2f} {tt.get(name, float('nan')):9.2f}")


if __name__ == "__main__":
    main()
