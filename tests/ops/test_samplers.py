"""In-place samplers and torch.poisson: dtype/shape/write-through like torch, sample statistics against the
distribution's (and torch's own draws'), and torch's exception types for bad parameters. Seeded: deterministic."""
import math

import numpy as np
import pytest

from helpers import assert_raises_same, mc, torch

N = 100_000

CASES = [
    ("exponential_", (2.0,)),
    ("geometric_", (0.3,)),
    ("log_normal_", (0.1, 0.5)),
    ("cauchy_", (1.0, 2.0)),
    ("random_", (3, 9)),
    ("random_", (7,)),
    ("bernoulli_", (0.25,)),
]


def _stats(v, name):
    if name == "cauchy_":  # no moments: median and interquartile range
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        return np.array([med, q3 - q1])
    return np.array([v.mean(), v.std()])


@pytest.mark.parametrize("name,args", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_sampler_statistics_match_torch(name, args):
    mc.manual_seed(0)
    torch.manual_seed(0)
    t = getattr(torch.empty(N), name)(*args)
    m = mc.empty(N)
    r = getattr(m, name)(*args)
    assert r is m and m.dtype is mc.float32 and tuple(m.shape) == (N,)
    tv, mv = t.numpy().astype(np.float64), m.numpy().astype(np.float64)
    # both are samples of the same law: their statistics agree to a few standard errors
    assert np.allclose(_stats(mv, name), _stats(tv, name), rtol=0.03, atol=0.02), (_stats(mv, name), _stats(tv, name))
    if name in ("geometric_", "random_", "bernoulli_"):
        assert set(np.unique(mv)) <= set(np.unique(tv)) | set(range(0, 10))


@pytest.mark.parametrize("name,args", [c for c in CASES if c[0] in ("exponential_", "log_normal_", "cauchy_")],
                         ids=lambda c: str(c))
def test_float64_samplers_draw_float64_values(name, args):
    """float64 tensors get float64 draws (they raised MLX's "[uniform] Unsupported type", and log_normal_'s exp was
    float32-accurate): not float32 values widened, with the same law as torch's float64 draws."""
    mc.manual_seed(1)
    torch.manual_seed(1)
    m = getattr(mc.empty(N, dtype=mc.float64), name)(*args)
    t = getattr(torch.empty(N, dtype=torch.float64), name)(*args)
    mv, tv = m.numpy(), t.numpy()
    assert m.dtype is mc.float64
    assert np.mean(mv.astype(np.float32).astype(np.float64) == mv) < 0.01
    assert np.allclose(_stats(mv, name), _stats(tv, name), rtol=0.03, atol=0.02)
    p = mc.poisson(mc.full((20000,), 3.5, dtype=mc.float64))
    assert p.dtype is mc.float64 and abs(p.numpy().mean() - 3.5) < 0.05


def test_random_bounds_and_dtypes():
    mc.manual_seed(1)
    v = mc.empty(50_000, dtype=mc.int64).random_(-3, 4).numpy()
    assert v.min() == -3 and v.max() == 3
    u = mc.empty(10_000, dtype=mc.uint8).random_().numpy()
    assert u.dtype == np.uint8 and u.max() > 200
    f = mc.empty(10_000).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2 ** 24 and np.all(f == np.round(f))
    big = mc.empty(1000, dtype=mc.int64).random_().numpy()
    assert big.min() >= 0 and big.max() > 2 ** 60


def test_sampler_writes_through_views():
    base = mc.zeros(4, 5)
    base[1].exponential_()
    assert (base[1] > 0).all().item() and (base[0] == 0).all().item()


@pytest.mark.parametrize("call", [
    lambda L: L.empty(3).exponential_(0),
    lambda L: L.empty(3).geometric_(1),
    lambda L: L.empty(3).log_normal_(1, 0),
    lambda L: L.empty(3).cauchy_(0, 0),
    lambda L: L.empty(3, dtype=L.int64).exponential_(),
    lambda L: L.empty(3, dtype=L.int64).log_normal_(),
    lambda L: L.empty(3).random_(5, 2),
    lambda L: L.empty(3, dtype=L.uint8).random_(-1, 3),
    lambda L: L.empty(3, dtype=L.uint8).random_(0, 300),
    lambda L: L.empty(2, dtype=L.bool).random_(0, 5),
    lambda L: L.poisson(L.tensor([-1.0])),
])
def test_sampler_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


@pytest.mark.parametrize("rate", [0.0, 0.7, 4.0, 40.0, 300.0])
def test_poisson_statistics(rate):
    mc.manual_seed(2)
    r = mc.poisson(mc.full((N,), rate))
    assert r.dtype is mc.float32
    v = r.numpy().astype(np.float64)
    assert np.all(v == np.round(v)) and v.min() >= 0
    se = math.sqrt(max(rate, 1e-3) / N)
    assert abs(v.mean() - rate) < 5 * se + 1e-9
    assert abs(v.var() - rate) < 0.05 * rate + 1e-9


def test_poisson_generator_reproducible_and_gradient_zero():
    g1, g2 = mc.Generator().manual_seed(5), mc.Generator().manual_seed(5)
    x = mc.full((100,), 3.0, requires_grad=True)
    a, b = mc.poisson(x, g1), mc.poisson(x.detach(), g2)
    assert a.tolist() == b.tolist()
    tx = torch.full((100,), 3.0, requires_grad=True)
    assert mc.autograd.grad(a.sum(), x)[0].tolist() == torch.autograd.grad(torch.poisson(tx).sum(), tx)[0].tolist()


@pytest.mark.parametrize("count,prob", [(10.0, 0.3), (1000.0, 0.02), (37.0, 0.9), (5.0, 0.0), (5.0, 1.0)])
def test_binomial_statistics(count, prob):
    """torch.binomial: draws' mean and variance against the distribution's and torch's own draws; dtype and
    shape as torch's."""
    c, p = np.full(N // 4, count, np.float32), np.full(N // 4, prob, np.float32)
    ours = mc.binomial(mc.tensor(c), mc.tensor(p), generator=mc.Generator().manual_seed(0))
    theirs = torch.binomial(torch.tensor(c), torch.tensor(p))
    assert ours.dtype == mc.float32 and tuple(ours.shape) == tuple(theirs.shape)
    o, t = ours.numpy(), theirs.numpy()
    assert (o == np.round(o)).all() and o.min() >= 0 and o.max() <= count
    mean, var = count * prob, count * prob * (1 - prob)
    se = math.sqrt(var / len(o)) + 1e-9
    assert abs(o.mean() - mean) < 5 * se and abs(t.mean() - mean) < 5 * se
    assert abs(o.var() - var) < 0.05 * var + 1e-9


def test_standard_gamma_and_dirichlet_functions():
    """torch._standard_gamma (StandardGammaBackward0: torch's implicit gradient on the same draws),
    torch._sample_dirichlet (on the simplex, its mean), torch._standard_gamma_grad / _dirichlet_grad values."""
    alpha = np.array([0.3, 1.0, 2.5, 40.0], np.float32)
    a = mc.tensor(np.repeat(alpha, 20000), requires_grad=True)
    x = mc._standard_gamma(a)
    assert x.grad_fn.name() == "StandardGammaBackward0"
    xs = x.detach().numpy().reshape(4, -1)
    np.testing.assert_allclose(xs.mean(1), alpha, rtol=0.05)
    x.sum().backward()
    ref = torch._standard_gamma_grad(torch.tensor(np.repeat(alpha, 20000)), torch.tensor(x.detach().numpy()))
    np.testing.assert_allclose(a.grad.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    d = mc._sample_dirichlet(mc.tensor(np.tile([1.0, 2.0, 3.0], (20000, 1)).astype(np.float32))).numpy()
    np.testing.assert_allclose(d.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(d.mean(0), [1 / 6, 2 / 6, 3 / 6], atol=0.01)
    xv, av, tv = np.array([0.1, 0.3, 0.7], np.float32), np.array([0.5, 2.0, 7.0], np.float32), np.float32(9.0)
    np.testing.assert_allclose(mc._dirichlet_grad(mc.tensor(xv), mc.tensor(av), mc.tensor(np.full(3, tv))).numpy(),
                               torch._dirichlet_grad(torch.tensor(xv), torch.tensor(av),
                                                     torch.tensor(np.full(3, tv))).numpy(), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda L: L.binomial(L.tensor([10]), L.tensor([0.5])),
    lambda L: L.binomial(L.tensor([10.0]), L.tensor([0.5], dtype=L.float64)),
    lambda L: L._standard_gamma(L.tensor([1, 2])),
    lambda L: L._sample_dirichlet(L.tensor([1, 2])),
])
def test_gamma_family_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))
