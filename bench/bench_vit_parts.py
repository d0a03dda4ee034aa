"""ViT-B/16 encoder pieces, forward+backward, mlx_compat eager against native MLX (mx.value_and_grad), timed
interleaved (bench/timing.py): the patch-embedding convolution, a biased linear (the MLP's 768 -> 3072 and back)
and a bias-free one, at batch 1 and 197 tokens, so the step's remaining gap can be placed by part.

Usage: OMP_NUM_THREADS=1 python bench/bench_vit_parts.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import os
import sys

import mlx.core as mx
import mlx.nn as mnn
import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
from timing import timeit_interleaved  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args(argv)
    import mlx_compat as mc
    F = mc.nn.functional
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.05
    xi, wc, bc = r(1, 3, 224, 224), r(768, 3, 16, 16), r(768)
    t, w1, b1, w2, b2 = r(1, 197, 768), r(3072, 768), r(3072), r(768, 3072), r(768)
    P = lambda v: mc.tensor(v, requires_grad=True)
    o = dict(x=mc.tensor(xi), wc=P(wc), bc=P(bc), t=P(t), w1=P(w1), b1=P(b1), w2=P(w2), b2=P(b2))
    n = {k: mx.array(v) for k, v in dict(x=xi.transpose(0, 2, 3, 1), wc=wc.transpose(0, 2, 3, 1), bc=bc, t=t, w1=w1,
                                          b1=b1, w2=w2, b2=b2).items()}

    def ours(fn, names):
        def run():
            for k in names:
                o[k].grad = None
            fn().sum().backward()
            mx.eval(*[o[k].grad._mx for k in names])
        return run

    def native(fn, names):
        g = mx.value_and_grad(lambda *ps: fn(*ps).sum(), argnums=tuple(range(len(names))))

        def run():
            mx.eval(g(*[n[k] for k in names]))
        return run

    cases = {
        "patch conv 3x224x224 -> 768": (
            ours(lambda: F.conv2d(o["x"], o["wc"], o["bc"], stride=16), ["wc", "bc"]),
            native(lambda wc, bc: mx.conv2d(n["x"], wc, stride=16) + bc, ["wc", "bc"])),
        "linear 197x768 -> 3072 (bias)": (
            ours(lambda: F.linear(o["t"], o["w1"], o["b1"]), ["t", "w1", "b1"]),
            native(lambda t, w, b: mx.addmm(b, t.reshape(-1, 768), w.T), ["t", "w1", "b1"])),
        "linear 197x3072 -> 768 (no bias)": (
            ours(lambda: F.linear(F.gelu(F.linear(o["t"], o["w1"], o["b1"])), o["w2"]), ["t", "w1", "b1", "w2"]),
            native(lambda t, w, b, w2: mnn.gelu(mx.addmm(b, t.reshape(-1, 768), w.T)) @ w2.T,
                   ["t", "w1", "b1", "w2"])),
    }
    for name, (fo, fn) in cases.items():
        to, tn = timeit_interleaved([fo, fn], repeats=a.repeats)
        print(f"{name:36s} ours {to:7.2f} ms  native {tn:7.2f} ms  ratio {to / tn:.2f}")


if __name__ == "__main__":
    main()
