"""clamp with tensor bounds sends gradients to the bounds where they are the result, as torch."""
import numpy as np
import pytest

from ag_util import GRAD, leaves, randn
from helpers import assert_same, mc, torch


@pytest.mark.parametrize("which", ["min", "max", "both", "both_crossed"])
def test_clamp_tensor_bound_grads(which):
    x = randn((3, 4), 1)
    lo = randn((4,), 2) - 0.5
    hi = randn((3, 1), 3) + (-2.0 if which == "both_crossed" else 0.5)
    (xt, xm), (lt, lm), (ht, hm) = leaves(x, lo, hi)
    outs = []
    for L, a, b, c in ((torch, xt, lt, ht), (mc, xm, lm, hm)):
        kw = {"min": b} if which == "min" else {"max": c} if which == "max" else {"min": b, "max": c}
        y = L.clamp(a, **kw)
        (y * y).sum().backward()
        outs.append(y)
    assert_same(outs[1], outs[0])
    assert_same(xm.grad, xt.grad, **GRAD)
    if which != "max":
        assert_same(lm.grad, lt.grad, **GRAD)
    if which != "min":
        assert_same(hm.grad, ht.grad, **GRAD)
