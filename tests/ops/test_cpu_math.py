"""_ops/cpu_math.py (Note [CPU exponential]): the arithmetic float32 exp and logsumexp that replace MLX's CPU
kernels inside compiled functions, against float64 and torch, and cross entropy's use of them."""
import mlx.core as mx
import numpy as np
import pytest

from helpers import assert_same, mc, torch
from mlx_compat._ops import cpu_math


def _ulps(y, x):
    ref = np.exp(x.astype(np.float64))
    return np.abs(y.astype(np.float64) - ref) / np.abs(np.spacing(ref.astype(np.float32))).astype(np.float64)


def test_exp_within_one_unit_in_the_last_place_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-87.3, 88.7, 400_000), -rng.exponential(3.0, 200_000),
                        np.float32(88.72283) - rng.uniform(0, 0.3, 2_000)]).astype(np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(cpu_math.exp)(mx.array(x)))
    assert _ulps(y, x).max() < 1.0
    # torch's own float32 exp, for scale: within one unit too; MLX's CPU kernel is not (up to ~64)
    assert _ulps(torch.exp(torch.from_numpy(x)).numpy(), x).max() < 1.0


def test_exp_special_values_follow_torch():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 88.72283, 88.7229, 100.0, -87.3, -200.0],
                 np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(cpu_math.exp)(mx.array(x)))
    t = torch.exp(torch.from_numpy(x)).numpy()
    assert np.isnan(y[0]) and np.array_equal(y[1:], t[1:])


def test_logsumexp_against_torch_with_infinite_rows():
    x = np.array([[1, 2, 3], [-np.inf] * 3, [np.inf, 1, 2], [np.nan, 1, 2], [-1000, 0, 1000], [-90, -95, -100]],
                 np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(lambda a: cpu_math.logsumexp(a, 1))(mx.array(x)))
    t = torch.logsumexp(torch.from_numpy(x), 1, keepdim=True).numpy()
    np.testing.assert_allclose(y, t, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_on_the_cpu_takes_the_arithmetic_exp(dtype, reduction, monkeypatch):
    calls = []
    real = cpu_math.exp
    monkeypatch.setattr(cpu_math, "exp", lambda z: calls.append(1) or real(z))
    mc.nn._loss._ce_functions_cache.clear()  # traced again, with the counting exp
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 600)) * 8).astype(np.float32)  # at least _CPU_EXP_MIN_ELEMENTS logits
    t = rng.integers(0, 600, 64)
    t[3] = -100
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).to(getattr(L, dtype)).requires_grad_()
        loss = L.nn.functional.cross_entropy(xs, L.from_numpy(t), reduction=reduction)
        (g,) = L.autograd.grad(loss.sum(), xs)
        res.append((loss.float(), g.float()))
    mc.nn._loss._ce_functions_cache.clear()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=2e-2, atol=2e-2)
    for m, tt in zip(res[1], res[0]):
        assert_same(m, tt, **tol)
    assert len(calls) >= 2  # the forward's logsumexp and the backward's probabilities


def test_small_cross_entropy_keeps_mlx_exp(monkeypatch):
    """Below _CPU_EXP_MIN_ELEMENTS logits the extra kernels of the arithmetic exp outweigh its time."""
    calls = []
    real = cpu_math.exp
    monkeypatch.setattr(cpu_math, "exp", lambda z: calls.append(1) or real(z))
    mc.nn._loss._ce_functions_cache.clear()
    x = mc.randn(64, 10, requires_grad=True)
    mc.nn.functional.cross_entropy(x, mc.randint(0, 10, (64,))).backward()
    mc.eval(x.grad)
    mc.nn._loss._ce_functions_cache.clear()
    assert not calls
