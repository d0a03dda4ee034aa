"""Gradients through the view ops composed in Python (diagonal, unfold, as_strided, real/imag) match torch,
including second derivatives; these views once dropped their gradients silently."""
import numpy as np
import pytest

from ag_util import GRAD, leaf, randn
from helpers import assert_same, mc, torch

CASES = [
    ("diagonal", lambda L, x: (x.diagonal() * 3).sum(), (4, 4)),
    ("diagonal_offset", lambda L, x: (x.diagonal(1, 0, 1) ** 2).sum(), (3, 5)),
    ("diagonal_neg_3d", lambda L, x: (x.diagonal(-1, 2, 0) ** 2).sum(), (3, 2, 4)),
    ("unfold", lambda L, x: (x.unfold(1, 2, 1) ** 2).sum(), (3, 5)),
    ("unfold_step", lambda L, x: (x.unfold(0, 2, 2) * x.unfold(0, 2, 2)).sum(), (6, 2)),
    ("as_strided", lambda L, x: (x.as_strided((2, 2), (4, 1), 1) ** 2).sum(), (3, 4)),
    ("as_strided_overlap", lambda L, x: (x.as_strided((3, 2), (1, 1)) ** 2).sum(), (8,)),
]


@pytest.mark.parametrize("name,fn,shape", CASES, ids=[c[0] for c in CASES])
def test_view_grad(name, fn, shape):
    xt, xm = leaf(randn(shape, 3))
    fn(torch, xt).backward()
    fn(mc, xm).backward()
    assert_same(xm.grad, xt.grad, **GRAD)


@pytest.mark.parametrize("name,fn,shape", CASES[1:5], ids=[c[0] for c in CASES[1:5]])  # nonlinear ones
def test_view_double_backward(name, fn, shape):
    grads = []
    for L in (torch, mc):
        x = L.from_numpy(randn(shape, 4).astype(np.float64)).requires_grad_()
        (g,) = L.autograd.grad(fn(L, x), x, create_graph=True)
        (g2,) = L.autograd.grad((g * g).sum(), x)
        grads.append(g2)
    assert_same(grads[1], grads[0], **GRAD)


def test_complex_parts_grad():
    z = np.array([1 + 2j, 3 - 1j, -0.5 + 0.25j], dtype=np.complex64)
    out = []
    for L in (torch, mc):
        t = L.from_numpy(z.copy()).requires_grad_()
        (t.real * 2 + t.imag * t.imag).sum().backward()
        out.append(t.grad)
    assert_same(out[1], out[0], **GRAD)


@pytest.mark.parametrize("key", [(slice(None), slice(0, 3)), (slice(None), slice(1, 5, 2)), (slice(None), 2),
                                 (Ellipsis, slice(2, None))], ids=["slice", "step", "select", "ellipsis"])
def test_slice_and_select_backward_write_the_gradient(key):
    """torch's slice/select backward copies the gradient into zeros: a -0.0 gradient stays -0.0 (added to zeros
    it would become +0.0), and the rest of the gradient is zero."""
    g = randn((4, 5, 6), 5)
    x = randn((4, 5, 6), 6)
    grads = []
    for L in (torch, mc):
        xl = L.from_numpy(x).requires_grad_()
        y = xl[key]
        gl = L.from_numpy(np.ascontiguousarray(g[key]))
        gl.view(-1)[0] = -0.0
        y.backward(gl)
        grads.append(xl.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(np.signbit(grads[1]), np.signbit(grads[0]))
