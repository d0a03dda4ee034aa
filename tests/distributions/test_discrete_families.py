"""Poisson, Binomial, Geometric and Cauchy against torch.distributions: log_prob, entropy, moments, mode,
cdf / icdf, enumerate_support and their gradients; shapes, expand, repr, validation; and the sample frequencies
against torch's probability mass functions."""
import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import f32, td
from helpers import mc, torch

RATE = f32(2, 3, low=0.2, high=6.0)
PROBS = f32(2, 3, low=0.05, high=0.95)
COUNT = np.array([[3.0], [10.0]], np.float32)

CASES = {
    "Poisson": (lambda D, p: D.Poisson(p["rate"]), {"rate": RATE}, np.array([[0, 1, 5], [2, 7, 3]], np.float32)),
    "Poisson scalar": (lambda D, p: D.Poisson(3.5), {}, np.float32(2.0)),
    "Poisson zero rate": (lambda D, p: D.Poisson(p["rate"]), {"rate": np.array([0.0, 1.0], np.float32)},
                          np.array([0.0, 2.0], np.float32)),
    "Binomial probs": (lambda D, p: D.Binomial(10, probs=p["probs"]), {"probs": PROBS},
                       np.array([[0, 3, 10], [5, 7, 1]], np.float32)),
    "Binomial logits": (lambda D, p: D.Binomial(7, logits=p["logits"]), {"logits": f32(4, low=-3, high=3)},
                        np.array([0, 3, 7, 2], np.float32)),
    "Binomial tensor count": (lambda D, p: D.Binomial(p["n"], probs=p["probs"]), {"n": COUNT, "probs": PROBS[0]},
                              np.array([[0, 3, 1], [5, 10, 9]], np.float32)),
    "Binomial edge probs": (lambda D, p: D.Binomial(4, probs=p["probs"]), {"probs": np.array([0.0, 1.0, 0.5],
                                                                                             np.float32)},
                            np.array([0, 4, 2], np.float32)),
    "Geometric probs": (lambda D, p: D.Geometric(probs=p["probs"]), {"probs": PROBS},
                        np.array([[0, 1, 4], [2, 9, 0]], np.float32)),
    "Geometric logits": (lambda D, p: D.Geometric(logits=p["logits"]), {"logits": f32(3, low=-3, high=3)},
                         np.array([0, 3, 1], np.float32)),
    "Geometric scalar": (lambda D, p: D.Geometric(0.3), {}, np.float32(2.0)),
    "Geometric probs one": (lambda D, p: D.Geometric(probs=p["probs"]), {"probs": np.array([1.0, 0.5], np.float32)},
                            np.array([0, 2], np.float32)),
    "Cauchy": (lambda D, p: D.Cauchy(p["loc"], p["scale"]), {"loc": f32(2, 3), "scale": RATE},
               f32(4, 2, 3, low=-5, high=5)),
    "Cauchy scalar": (lambda D, p: D.Cauchy(0.5, 2.0), {}, np.float32(1.5)),
}


@pytest.mark.parametrize("qty", fc.QUANTITIES)
@pytest.mark.parametrize("name", CASES)
def test_values(name, qty):
    fc.check_values(CASES, name, qty)


@pytest.mark.parametrize("qty", fc.GRAD_QUANTITIES)
@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][1]])
def test_gradients(name, qty):
    fc.check_gradients(CASES, name, qty)


@pytest.mark.parametrize("sample_shape", [(), (1,), (3,), (2, 4)])
@pytest.mark.parametrize("name", CASES)
def test_shapes_and_samples(name, sample_shape):
    fc.check_shapes_and_samples(CASES, name, sample_shape)


@pytest.mark.parametrize("name", CASES)
def test_expand(name):
    fc.check_expand(CASES, name)


@pytest.mark.parametrize("name", CASES)
def test_repr_and_constraints(name):
    fc.check_repr_and_constraints(CASES, name)


def test_lazy_parameters():
    for make in (lambda D, L: D.Binomial(5, logits=L.tensor([0.3, -1.0])),
                 lambda D, L: D.Geometric(logits=L.tensor([0.3, -1.0])),
                 lambda D, L: D.Binomial(5, probs=L.tensor([0.3, 0.9]))):
        dt, dm = make(td, torch), make(mcd, mc)
        fc.compare(lambda: dt.probs, lambda: dm.probs)
        fc.compare(lambda: dt.logits, lambda: dm.logits)
        assert repr(dm) == repr(dt)
    b = mcd.Binomial(mc.tensor([[2.0], [3.0]]), probs=mc.tensor([0.1, 0.2]))
    assert b.param_shape == td.Binomial(torch.tensor([[2.0], [3.0]]), probs=torch.tensor([0.1, 0.2])).param_shape


BAD = {
    "Poisson negative": lambda D, L: D.Poisson(L.tensor([-1.0])),
    "Poisson log_prob fraction": lambda D, L: D.Poisson(L.tensor([1.0])).log_prob(L.tensor([0.5])),
    "Poisson log_prob negative": lambda D, L: D.Poisson(L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "Binomial both": lambda D, L: D.Binomial(3, probs=L.tensor([0.2]), logits=L.tensor([0.2])),
    "Binomial neither": lambda D, L: D.Binomial(3),
    "Binomial fractional count": lambda D, L: D.Binomial(L.tensor([2.5]), probs=L.tensor([0.2])),
    "Binomial probs > 1": lambda D, L: D.Binomial(3, probs=L.tensor([1.2])),
    "Binomial log_prob above count": lambda D, L: D.Binomial(3, probs=L.tensor([0.2])).log_prob(L.tensor([4.0])),
    "Binomial entropy inhomogeneous": lambda D, L: D.Binomial(L.tensor([2.0, 3.0]), probs=L.tensor([0.2])).entropy(),
    "Binomial enumerate inhomogeneous": lambda D, L: D.Binomial(L.tensor([2.0, 3.0]),
                                                                probs=L.tensor([0.2])).enumerate_support(),
    "Geometric zero probs": lambda D, L: D.Geometric(probs=L.tensor([0.5, 0.0])),
    "Geometric both": lambda D, L: D.Geometric(probs=L.tensor([0.5]), logits=L.tensor([0.0])),
    "Geometric log_prob negative": lambda D, L: D.Geometric(L.tensor([0.5])).log_prob(L.tensor([-1.0])),
    "Cauchy negative scale": lambda D, L: D.Cauchy(L.tensor([0.0]), L.tensor([-1.0])),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


def _frequencies_match(draws, pmf_dist, support, atol):
    draws = draws.numpy()
    for k in support:
        freq = (draws == k).mean(0)
        expected = pmf_dist.log_prob(torch.tensor(float(k))).exp().numpy()
        assert np.allclose(freq, expected, atol=atol), (k, freq, expected)


def test_poisson_samples():
    mc.manual_seed(0)
    n = 40000
    rate = np.array([0.3, 4.0, 120.0], np.float32)
    x = mcd.Poisson(mc.tensor(rate)).sample((n,))
    assert x.dtype == mc.float32
    fc.check_moments(x.numpy(), rate, rate)
    _frequencies_match(x[:, :2], td.Poisson(torch.tensor(rate[:2])), range(10), atol=0.01)


@pytest.mark.parametrize("count,probs", [(10.0, [0.3, 0.0, 1.0, 0.95]), (1000.0, [0.6, 0.01, 0.5, 0.999]),
                                         (37.0, [0.9, 0.5, 0.2, 0.05])])
def test_binomial_samples(count, probs):
    """Draws (also through the Beta splitting used above 16 trials) have torch's mean, variance and mass function."""
    mc.manual_seed(int(count))
    n = 40000
    p = np.array(probs, np.float32)
    x = mcd.Binomial(count, probs=mc.tensor(p)).sample((n,))
    assert x.dtype == mc.float32 and bool((x >= 0).all()) and bool((x <= count).all())
    assert bool((x % 1 == 0).all())
    t = td.Binomial(count, probs=torch.tensor(p))
    mean, var = t.mean.numpy(), t.variance.numpy()
    degenerate = var == 0
    assert np.all(x.numpy()[:, degenerate] == mean[degenerate])
    fc.check_moments(x.numpy()[:, ~degenerate], mean[~degenerate], var[~degenerate])
    centre = int(count * p[0])
    _frequencies_match(x[:, :1], td.Binomial(count, probs=torch.tensor(p[:1])), range(max(0, centre - 5), centre + 5),
                       atol=0.01)


def test_binomial_tensor_counts_sample():
    mc.manual_seed(1)
    counts = np.array([[0.0], [5.0], [300.0]], np.float32)
    x = mcd.Binomial(mc.tensor(counts), probs=mc.tensor([0.2, 0.7])).sample((20000,)).numpy()
    assert x.shape == (20000, 3, 2)
    t = td.Binomial(torch.tensor(counts), probs=torch.tensor([0.2, 0.7]))
    assert np.all(x[:, 0] == 0)
    fc.check_moments(x[:, 1:].reshape(20000, -1), t.mean[1:].reshape(-1).numpy(), t.variance[1:].reshape(-1).numpy())


def test_geometric_and_cauchy_samples():
    mc.manual_seed(2)
    n = 40000
    p = np.array([0.2, 0.7, 1.0], np.float32)
    x = mcd.Geometric(mc.tensor(p)).sample((n,))
    t = td.Geometric(torch.tensor(p))
    fc.check_moments(x.numpy()[:, :2], t.mean.numpy()[:2], t.variance.numpy()[:2])
    assert bool((x[:, 2] == 0).all())
    _frequencies_match(x[:, :2], td.Geometric(torch.tensor(p[:2])), range(6), atol=0.01)
    loc, scale = np.array([1.0, -3.0], np.float32), np.array([0.5, 2.0], np.float32)
    x = mcd.Cauchy(mc.tensor(loc), mc.tensor(scale)).sample((n,))
    u = td.Cauchy(torch.tensor(loc), torch.tensor(scale)).cdf(torch.tensor(x.numpy())).numpy()
    for j in range(2):
        assert fc.ks_statistic(u[:, j]) < fc.ks_bound(n)


def test_cauchy_rsample_gradient():
    loc, scale = mc.tensor([0.5, -1.0], requires_grad=True), mc.tensor([2.0, 0.5], requires_grad=True)
    x = mcd.Cauchy(loc, scale).rsample((50,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [50, 50])
    standard = ((x.detach() - loc.detach()) / scale.detach()).sum(0).numpy()
    np.testing.assert_allclose(scale.grad.numpy(), standard, rtol=1e-4, atol=1e-3)
