"""RelaxedBernoulli / LogitRelaxedBernoulli and RelaxedOneHotCategorical / ExpRelaxedCategorical against
torch.distributions: log_prob and its gradients (w.r.t. the temperature too), shapes, expand, repr, constraints,
validation; the sample distributions (KS against the closed-form cdf) and rsample gradients."""
import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import td
from helpers import mc, torch

_rng = np.random.default_rng(22)  # this file's own, so its parameters do not depend on which tests ran first


def f32(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape).astype(np.float32)

TEMP = np.array(0.7, np.float32)
PROBS = f32(2, 3, low=0.05, high=0.95)


def _logit_rb(D, p, **kw):
    return D.relaxed_bernoulli.LogitRelaxedBernoulli(p["t"], **kw)


CASES = {
    "RelaxedBernoulli probs": (lambda D, p: D.RelaxedBernoulli(p["t"], probs=p["probs"]), {"t": TEMP, "probs": PROBS},
                               f32(2, 3, low=0.02, high=0.98)),
    "RelaxedBernoulli logits": (lambda D, p: D.RelaxedBernoulli(p["t"], logits=p["logits"]),
                                {"t": np.array([0.3, 2.0, 1.0], np.float32), "logits": f32(3, low=-3, high=3)},
                                f32(4, 3, low=0.02, high=0.98)),
    "RelaxedBernoulli scalar": (lambda D, p: D.RelaxedBernoulli(p["t"], 0.3), {"t": TEMP}, np.float32(0.4)),
    "LogitRelaxedBernoulli": (lambda D, p: _logit_rb(D, p, logits=p["logits"]), {"t": TEMP, "logits": f32(2, 3)},
                              f32(2, 3, low=-4, high=4)),
    "LogitRelaxedBernoulli probs": (lambda D, p: _logit_rb(D, p, probs=p["probs"]), {"t": TEMP, "probs": PROBS},
                                    f32(5, 2, 3, low=-4, high=4)),
    "RelaxedOneHotCategorical probs": (lambda D, p: D.RelaxedOneHotCategorical(p["t"], probs=p["probs"]),
                                       {"t": TEMP, "probs": PROBS},
                                       np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], np.float32)),
    "RelaxedOneHotCategorical logits": (lambda D, p: D.RelaxedOneHotCategorical(p["t"], logits=p["logits"]),
                                        {"t": np.array(1.5, np.float32), "logits": f32(4)},
                                        np.array([0.1, 0.2, 0.3, 0.4], np.float32)),
    "ExpRelaxedCategorical": (lambda D, p: D.relaxed_categorical.ExpRelaxedCategorical(p["t"], logits=p["logits"]),
                              {"t": TEMP, "logits": f32(2, 3)},
                              np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], np.float32))),
}


@pytest.mark.parametrize("qty", fc.QUANTITIES)
@pytest.mark.parametrize("name", CASES)
def test_values(name, qty):
    fc.check_values(CASES, name, qty)


@pytest.mark.parametrize("qty", fc.GRAD_QUANTITIES)
@pytest.mark.parametrize("name", CASES)
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


def test_parameters():
    for name in CASES:
        dt, dm, _, _ = fc.build(CASES, name)
        fc.compare(lambda: dt.probs, lambda: dm.probs)
        fc.compare(lambda: dt.logits, lambda: dm.logits)
        fc.compare(lambda: dt.temperature, lambda: dm.temperature)
        assert dm.param_shape == dt.param_shape if hasattr(dt, "param_shape") else True
    assert not hasattr(mcd, "LogitRelaxedBernoulli") and not hasattr(mcd, "ExpRelaxedCategorical")  # as torch


BAD = {
    "RelaxedBernoulli both": lambda D, L: D.RelaxedBernoulli(L.tensor(1.0), probs=L.tensor([0.5]),
                                                             logits=L.tensor([0.0])),
    "RelaxedBernoulli probs > 1": lambda D, L: D.RelaxedBernoulli(L.tensor(1.0), probs=L.tensor([1.5])),
    "RelaxedBernoulli log_prob outside": lambda D, L: D.RelaxedBernoulli(L.tensor(1.0), probs=L.tensor([0.5])).log_prob(
        L.tensor([1.5])),
    "RelaxedOneHot not simplex": lambda D, L: D.RelaxedOneHotCategorical(L.tensor(1.0), probs=L.tensor([-0.5, 1.0])),
    "RelaxedOneHot neither": lambda D, L: D.RelaxedOneHotCategorical(L.tensor(1.0)),
    "RelaxedOneHot log_prob outside": lambda D, L: D.RelaxedOneHotCategorical(
        L.tensor(1.0), probs=L.tensor([0.5, 0.5])).log_prob(L.tensor([0.5, 0.6])),
    "RelaxedOneHot log_prob wrong event": lambda D, L: D.RelaxedOneHotCategorical(
        L.tensor(1.0), probs=L.tensor([0.5, 0.5])).log_prob(L.tensor([0.5, 0.3, 0.2])),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


def test_relaxed_bernoulli_samples():
    """logit(X) = (logit(U) + logits) / t, so P(X <= x) = sigmoid(t logit(x) - logits): KS on that transform."""
    mc.manual_seed(9)
    n = 20000
    t, logits = 0.6, np.array([-1.0, 0.5, 2.0], np.float32)
    x = mcd.RelaxedBernoulli(mc.tensor(t), logits=mc.tensor(logits)).sample((n,))
    assert x.dtype == mc.float32 and bool(((x > 0) & (x < 1)).all())
    xt = torch.tensor(x.numpy(), dtype=torch.float64)
    u = torch.sigmoid(t * torch.logit(xt) - torch.tensor(logits, dtype=torch.float64)).numpy()
    for j in range(3):
        assert fc.ks_statistic(u[:, j]) < fc.ks_bound(n), j


def test_relaxed_one_hot_samples():
    """Concrete draws: argmax is Categorical(probs); log(x_i / x_K) * t - (logits_i - logits_K) is the difference
    of two standard Gumbels, i.e. standard logistic (KS on its cdf)."""
    mc.manual_seed(10)
    n = 20000
    t, probs = 0.5, np.array([0.2, 0.5, 0.3], np.float32)
    x = mcd.RelaxedOneHotCategorical(mc.tensor(t), probs=mc.tensor(probs)).sample((n,)).numpy().astype(np.float64)
    assert np.allclose(x.sum(-1), 1, atol=1e-5)
    freq = np.bincount(x.argmax(-1), minlength=3) / n
    assert np.allclose(freq, probs, atol=0.015), freq
    logistic = t * (np.log(x[:, 0]) - np.log(x[:, 2])) - (np.log(probs[0]) - np.log(probs[2]))
    assert fc.ks_statistic(1 / (1 + np.exp(-logistic))) < fc.ks_bound(n)


def test_rsample_gradients():
    """d rsample / d logits: 1 / t for LogitRelaxedBernoulli; the Concrete draw's Jacobian (diag(x) - x x^T) / t."""
    t = mc.tensor(0.8, requires_grad=True)
    logits = mc.tensor([0.3, -1.0], requires_grad=True)
    y = mcd.relaxed_bernoulli.LogitRelaxedBernoulli(t, logits=logits).rsample((6,))
    y.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [6 / 0.8, 6 / 0.8], rtol=1e-5)
    np.testing.assert_allclose(t.grad.item(), -(y.detach().numpy().sum()) / 0.8, rtol=1e-4, atol=1e-4)
    logits = mc.tensor([0.3, -1.0, 0.5], requires_grad=True)
    x = mcd.RelaxedOneHotCategorical(mc.tensor(0.8), logits=logits).rsample()
    x[0].backward()
    xd = x.detach().numpy()
    np.testing.assert_allclose(logits.grad.numpy(), (np.eye(3)[0] * xd[0] - xd[0] * xd) / 0.8, rtol=1e-4, atol=1e-6)
