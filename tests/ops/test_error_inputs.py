"""Argument errors torch raises in its Python bindings (OpInfo's error_inputs found these): the same exception
type from ours. Plus integer convolution, which torch has on the CPU."""
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

CASES = [
    lambda L: L.eq(1, L.ones(2)), lambda L: L.lt(1, L.ones(2)), lambda L: L.ge(1.5, L.ones(2)),
    lambda L: L.maximum(L.ones(2), 1), lambda L: L.minimum(1, L.ones(2)), lambda L: L.atan2(L.ones(2), 1),
    lambda L: L.fmod(1, L.ones(2)), lambda L: L.clamp_min(2, L.ones(2)), lambda L: L.clamp_max(2, L.ones(2)),
    lambda L: L.logspace(0, 3, -1), lambda L: L.multinomial(L.ones(1, 2, dtype=L.int64), 2),
    lambda L: L.nn.functional.embedding(L.tensor([1]), L.tensor(1.0)),
    lambda L: L.nn.functional.conv1d(L.ones(1, 1, 4, dtype=L.int64), L.ones(1, 1, 2, dtype=L.int64),
                                     L.ones(1, dtype=L.float64)),
    lambda L: L.nn.functional.conv1d(L.ones(1, 1, 4), L.ones(1, 1, 2, dtype=L.float64)),
]


@pytest.mark.parametrize("call", CASES)
def test_binding_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


@pytest.mark.parametrize("nd", [1, 2])
def test_integer_convolution(nd):
    shape = (1, 2) + (5,) * nd
    out = []
    for L in (torch, mc):
        x = L.arange(2 * 5 ** nd).reshape(shape)
        w = L.arange(3 * 2 * 2 ** nd).reshape((3, 2) + (2,) * nd) - 4
        f = L.nn.functional.conv1d if nd == 1 else L.nn.functional.conv2d
        out.append(f(x, w, L.tensor([1, -2, 3]), stride=2, padding=1))
    assert_same(out[1], out[0])
