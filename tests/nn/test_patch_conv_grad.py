"""The patch-embedding convolution (kernel == stride, no padding; Note [convolutions as products]) with its
hand-written backward: values and gradients equal torch's conv2d, the weight gradient row-major in the weight's
own layout (Note [Gradient layout of a product])."""
import mlx.core as mx
import numpy as np
import pytest
import torch as pt

import mlx_compat as torch
import mlx_compat.nn.functional as F


def _row_major(t):
    a = t._mx
    mx.eval(a)
    want, acc = [], a.itemsize
    for n in reversed(a.shape):
        want.append(acc)
        acc *= n
    return all(s == w for s, w, n in zip(memoryview(a).strides, reversed(want), a.shape) if n != 1)


CASES = [
    ((1, 3, 32, 32), (16, 3, 16, 16), True),
    ((2, 3, 32, 32), (8, 3, 8, 8), True),
    ((2, 4, 35, 37), (6, 4, 8, 8), False),     # rows and columns no patch covers
    ((3, 2, 12, 18), (5, 2, 4, 6), True),      # rectangular kernel
    ((2, 12, 12), (4, 2, 4, 4), True),         # unbatched
]


@pytest.mark.parametrize("xs,ws,bias", CASES)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_patch_conv_matches_torch(xs, ws, bias, dtype):
    rng = np.random.default_rng(0)
    xn = rng.standard_normal(xs).astype(np.float32)
    wn = rng.standard_normal(ws).astype(np.float32) * 0.1
    bn = rng.standard_normal(ws[0]).astype(np.float32)
    ours = [torch.tensor(a).to(getattr(torch, dtype)).requires_grad_() for a in (xn, wn, bn)]
    ref = [pt.tensor(a).to(getattr(pt, dtype)).requires_grad_() for a in (xn, wn, bn)]
    k = ws[2:]
    y = F.conv2d(ours[0], ours[1], ours[2] if bias else None, stride=k)
    yt = pt.nn.functional.conv2d(ref[0], ref[1], ref[2] if bias else None, stride=k)
    assert y.shape == yt.shape and y.dtype == getattr(torch, dtype)
    assert type(y.grad_fn).__name__ == type(yt.grad_fn).__name__
    tol = 1e-4 if dtype == "float32" else 5e-2
    np.testing.assert_allclose(y.detach().float().numpy(), yt.detach().float().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    y.backward(torch.tensor(g).to(y.dtype))
    yt.backward(pt.tensor(g).to(yt.dtype))
    for o, r in zip(ours[:3 if bias else 2], ref):
        assert o.grad.dtype == o.dtype and o.grad.shape == r.grad.shape
        np.testing.assert_allclose(o.grad.float().numpy(), r.grad.float().numpy(), rtol=tol * 4, atol=tol * 4)
    assert _row_major(ours[1].grad)


def test_patch_conv_input_only_and_double_backward():
    rng = np.random.default_rng(1)
    xn = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    wn = rng.standard_normal((4, 3, 4, 4)).astype(np.float32)
    x, w = torch.tensor(xn, requires_grad=True), torch.tensor(wn, requires_grad=True)
    xt, wt = pt.tensor(xn, requires_grad=True), pt.tensor(wn, requires_grad=True)
    y, yt = F.conv2d(x, w, stride=4), pt.nn.functional.conv2d(xt, wt, stride=4)
    gx, = torch.autograd.grad((y * y).sum(), x, create_graph=True)
    gxt, = pt.autograd.grad((yt * yt).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), gxt.detach().numpy(), rtol=1e-4, atol=1e-4)
    gw, = torch.autograd.grad(gx.sum(), w)
    gwt, = pt.autograd.grad(gxt.sum(), wt)
    np.testing.assert_allclose(gw.numpy(), gwt.numpy(), rtol=1e-4, atol=1e-4)
