"""Gradients through empty tensors: an empty batch, an index or mask selecting nothing, an empty reduction result
(Note [Empty cotangents] in autograd/_mlx_vjp.py and the ops' empty paths) against torch: the result's shape,
dtype and node, and the inputs' (zero or empty) gradients."""
import pytest

from helpers import assert_same, mc, torch


def _cases(L):
    F = L.nn.functional
    return {
        "index_select of no rows": (lambda x: x.index_select(0, L.zeros(0, dtype=L.int64)), (0, 6)),
        "index_select of none": (lambda x: x.index_select(0, L.zeros(0, dtype=L.int64)), (5, 6)),
        "advanced index of no rows": (lambda x: x[L.zeros(0, dtype=L.int64)], (0, 6)),
        "mask selecting nothing": (lambda x: x[x > 2], (5, 6)),
        "mask of an empty tensor": (lambda x: x[x > 0], (0, 6)),
        "gather of nothing": (lambda x: L.gather(x, 0, L.zeros(0, 6, dtype=L.int64)), (3, 6)),
        "amax over a non-empty dim": (lambda x: x.amax(1), (0, 6)),
        "amin keepdim": (lambda x: x.amin(1, keepdim=True), (0, 6)),
        "grid_sample of an empty batch": (
            lambda x: F.grid_sample(x.reshape(0, 1, 2, 3), L.zeros(0, 3, 3, 2), align_corners=False), (0, 6)),
        "cross_entropy of an empty batch": (lambda x: F.cross_entropy(x, L.zeros(0, dtype=L.int64)), (0, 6)),
        "linear of an empty batch": (lambda x: F.linear(x, L.ones(4, 6)), (0, 6)),
    }


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_empty_gradients(name):
    res = []
    for L in (torch, mc):
        f, shape = _cases(L)[name]
        x = L.ones(*shape, requires_grad=True)
        y = f(x)
        (g,) = L.autograd.grad(y.sum(), x)
        res.append((y, g, y.grad_fn.name()))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])
