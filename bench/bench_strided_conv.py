"""Strided and transposed convolutions with their gradients on the CPU (Note [Transposed convolution by phases],
nn/_conv_transpose.py): mlx_compat against the routes it replaced and against torch, interleaved in one process
(bench/timing.py), median ms of the forward and backward together.

- a stride-2 convolution (ResNet's downsampling 3x3): MLX's own vjp (the input gradient an input-dilated
  convolution) against mlx_compat's F.conv2d + autograd.grad against torch;
- conv_transpose2d stride 2 (a decoder's upsampling layer): mlx_compat with the zeros inserted (the earlier
  route, selected by emptying the phase path's dtype list) against by phases against torch.

Usage: OMP_NUM_THREADS=1 python bench/bench_strided_conv.py [--repeats 7]
"""
import argparse
import os
import sys

import mlx.core as mx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timeit_interleaved  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args(argv)
    import torch
    import mlx_compat as mc
    from mlx_compat.nn import _conv_transpose as CT
    torch.set_num_threads(1)
    mc.set_num_threads(1)
    rng = np.random.default_rng(0)
    print("| case | MLX's vjp / zeros inserted | mlx_compat | torch | earlier ÷ ours | ours ÷ torch |")
    print("|---|---|---|---|---|---|")
    for n, c, h, o, k, s, pad in [(8, 64, 32, 128, 3, 2, 1), (8, 128, 16, 256, 3, 2, 1), (32, 64, 56, 128, 3, 2, 1),
                                  (8, 64, 32, 64, 5, 2, 2)]:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((o, c, k, k)) * 0.05).astype(np.float32)
        mxx, mw = mx.array(x.transpose(0, 2, 3, 1)), mx.array(w.transpose(0, 2, 3, 1))
        f = lambda xx, ww: mx.conv2d(xx, ww, stride=s, padding=pad)  # noqa: E731
        cot = mx.random.normal(f(mxx, mw).shape)
        ox, ow = mc.from_numpy(x).requires_grad_(), mc.from_numpy(w).requires_grad_()
        oc = mc.from_numpy(np.array(cot).transpose(0, 3, 1, 2).copy())
        tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
        tc = torch.from_numpy(oc.numpy().copy())

        def native():
            mx.eval(mx.vjp(f, [mxx, mw], [cot]))

        def ours():
            y = mc.nn.functional.conv2d(ox, ow, stride=s, padding=pad)
            mc.eval(y, *mc.autograd.grad(y, (ox, ow), oc))

        def theirs():
            torch.autograd.grad(torch.nn.functional.conv2d(tx, tw, stride=s, padding=pad), (tx, tw), tc)

        t = timeit_interleaved([native, ours, theirs], a.repeats, warmup=1)
        print(f"| conv2d {n}x{c}x{h}x{h} -> {o}, {k}x{k} stride {s} | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | "
              f"{t[0] / t[1]:.1f}× | {t[1] / t[2]:.2f}× |")
    for n, c, h, o, k in [(8, 128, 16, 64, 4), (8, 256, 8, 128, 4), (4, 64, 32, 32, 3)]:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((c, o, k, k)) * 0.05).astype(np.float32)
        kw = dict(stride=2, padding=1, output_padding=1 if k % 2 else 0)
        ox, ow = mc.from_numpy(x).requires_grad_(), mc.from_numpy(w).requires_grad_()
        tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()

        def ours_step():
            y = mc.nn.functional.conv_transpose2d(ox, ow, **kw)
            mc.eval(y, *mc.autograd.grad(y.sum(), (ox, ow)))

        def zeros():
            keep = CT._PHASE_DTYPES
            CT._PHASE_DTYPES = ()
            try:
                ours_step()
            finally:
                CT._PHASE_DTYPES = keep

        def theirs():
            y = torch.nn.functional.conv_transpose2d(tx, tw, **kw)
            torch.autograd.grad(y.sum(), (tx, tw))

        t = timeit_interleaved([zeros, ours_step, theirs], a.repeats, warmup=1)
        print(f"| conv_transpose2d {n}x{c}x{h}x{h} -> {o}, {k}x{k} stride 2 | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | "
              f"{t[0] / t[1]:.1f}× | {t[1] / t[2]:.2f}× |")


if __name__ == "__main__":
    main()
