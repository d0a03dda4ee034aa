"""MixtureSameFamily, Multinomial, NegativeBinomial and LowRankMultivariateNormal against torch.distributions:
log_prob, entropy, moments, mode, cdf and their gradients; shapes, expand, repr, constraints, validation; and the
sample distributions (KS against torch's cdf, moments, frequencies against torch's pmf)."""
import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import td
from helpers import assert_same, mc, torch

_rng = np.random.default_rng(21)  # this file's own, so its parameters do not depend on which tests ran first


def f32(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape).astype(np.float32)

LOC, SCALE = f32(2, 3), f32(2, 3, low=0.5, high=2.0)
PROBS = f32(2, 3, low=0.05, high=0.95)
MIX_LOGITS = f32(2, 3, low=-2, high=2)


def _mixture_normal(D, p):
    return D.MixtureSameFamily(D.Categorical(logits=p["logits"]), D.Normal(p["loc"], p["scale"]))


def _mixture_independent(D, p):
    comp = D.Independent(D.Normal(p["loc"], p["scale"]), 1)
    return D.MixtureSameFamily(D.Categorical(probs=p["probs"]), comp)


def _mixture_mvn(D, p):
    comp = D.MultivariateNormal(p["loc"], scale_tril=p["tril"])
    return D.MixtureSameFamily(D.Categorical(logits=p["logits"]), comp)


TRIL = np.tril(f32(3, 2, 2, low=-0.5, high=0.5)) + np.eye(2, dtype=np.float32)
COV_FACTOR = f32(2, 3, 2)
CASES = {
    "Mixture normal": (_mixture_normal, {"logits": MIX_LOGITS, "loc": LOC, "scale": SCALE},
                       f32(4, 2, low=-2, high=2)),
    "Mixture unbatched weights": (_mixture_normal, {"logits": MIX_LOGITS[0], "loc": LOC, "scale": SCALE},
                                  f32(2, low=-2, high=2)),
    "Mixture independent": (_mixture_independent, {"probs": PROBS[0], "loc": f32(3, 4), "scale": f32(3, 4, low=0.5)},
                            f32(5, 4)),
    "Mixture mvn": (_mixture_mvn, {"logits": MIX_LOGITS[0], "loc": f32(3, 2), "tril": TRIL}, f32(2, 2)),
    "Mixture poisson": (lambda D, p: D.MixtureSameFamily(D.Categorical(probs=p["probs"]), D.Poisson(p["rate"])),
                        {"probs": PROBS, "rate": SCALE * 3}, np.array([[0.0, 3.0]], np.float32)),
    "Multinomial probs": (lambda D, p: D.Multinomial(6, probs=p["probs"]), {"probs": PROBS},
                          np.array([[1, 2, 3], [6, 0, 0]], np.float32)),
    "Multinomial logits": (lambda D, p: D.Multinomial(4, logits=p["logits"]), {"logits": f32(4, low=-2, high=2)},
                           np.array([[1, 0, 3, 0], [1, 1, 1, 1]], np.float32)),
    "Multinomial zero probs": (lambda D, p: D.Multinomial(3, probs=p["probs"]),
                               {"probs": np.array([0.0, 0.3, 0.7], np.float32)}, np.array([0, 1, 2], np.float32)),
    "Multinomial one trial": (lambda D, p: D.Multinomial(probs=p["probs"]), {"probs": PROBS[0]},
                              np.array([0, 1, 0], np.float32)),
    "NegativeBinomial probs": (lambda D, p: D.NegativeBinomial(p["n"], probs=p["probs"]),
                               {"n": f32(2, 3, low=0.5, high=8), "probs": PROBS},
                               np.array([[0, 3, 10], [5, 1, 2]], np.float32)),
    "NegativeBinomial logits": (lambda D, p: D.NegativeBinomial(4.0, logits=p["logits"]),
                                {"logits": f32(4, low=-3, high=2)}, np.array([0, 3, 7, 2], np.float32)),
    "NegativeBinomial zero count": (lambda D, p: D.NegativeBinomial(p["n"], probs=p["probs"]),
                                    {"n": np.array([0.0, 2.5], np.float32), "probs": np.array([0.3, 0.0], np.float32)},
                                    np.array([0.0, 0.0], np.float32)),
    "NegativeBinomial scalar": (lambda D, p: D.NegativeBinomial(3.0, 0.4), {}, np.float32(2.0)),
    "LowRank": (lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["W"], p["D"]),
                {"loc": LOC, "W": COV_FACTOR, "D": SCALE}, f32(4, 2, 3)),
    "LowRank broadcast": (lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["W"], p["D"]),
                          {"loc": LOC[0], "W": f32(2, 3, 1), "D": SCALE[0]}, f32(3)),
    "LowRank wide": (lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["W"], p["D"]),
                     {"loc": LOC[0], "W": f32(3, 5), "D": SCALE[1]}, f32(2, 3)),
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
@pytest.mark.parametrize("name", [n for n in CASES if n != "Mixture unbatched weights"])  # torch cannot: see BAD
def test_shapes_and_samples(name, sample_shape):
    fc.check_shapes_and_samples(CASES, name, sample_shape)


@pytest.mark.parametrize("name", CASES)
def test_expand(name):
    fc.check_expand(CASES, name)


@pytest.mark.parametrize("name", CASES)
def test_repr_and_constraints(name):
    fc.check_repr_and_constraints(CASES, name)


@pytest.mark.parametrize("name", ["LowRank", "LowRank broadcast", "LowRank wide"])
def test_lowrank_matrices(name):
    """scale_tril, covariance_matrix, precision_matrix (and their gradients) equal torch's."""
    for attr in ("scale_tril", "covariance_matrix", "precision_matrix", "variance"):
        dt, dm, tp, mp = fc.build(CASES, name, grad=True)
        rt, rm = getattr(dt, attr), getattr(dm, attr)
        assert_same(rm, rt, rtol=1e-5, atol=1e-5)
        w = fc.rng.standard_normal(tuple(rt.shape)).astype(np.float32)
        (rt * torch.tensor(w)).sum().backward()
        (rm * mc.tensor(w)).sum().backward()
        for k in tp:
            if tp[k].grad is None:
                assert mp[k].grad is None, (attr, k)
            else:
                assert_same(mp[k].grad, tp[k].grad, rtol=1e-4, atol=1e-5)


def test_parameters():
    for make in (lambda D, L: D.Multinomial(3, logits=L.tensor([0.3, -1.0, 0.2])),
                 lambda D, L: D.NegativeBinomial(2.0, logits=L.tensor([0.3, -1.0])),
                 lambda D, L: D.NegativeBinomial(L.tensor([2.0, 1.0]), probs=L.tensor([0.3, 0.9]))):
        dt, dm = make(td, torch), make(mcd, mc)
        fc.compare(lambda: dt.probs, lambda: dm.probs)
        fc.compare(lambda: dt.logits, lambda: dm.logits)
        assert dm.param_shape == dt.param_shape and repr(dm) == repr(dt)
    dt, dm, _, _ = fc.build(CASES, "Mixture independent")
    assert type(dm.mixture_distribution).__name__ == "Categorical"
    assert dm.component_distribution.batch_shape == dt.component_distribution.batch_shape
    assert repr(dm.support) == repr(dt.support) == "MixtureSameFamilyConstraint(IndependentConstraint(Real(), 1))"
    v = np.array([[0.5, 0.1, 0.2, 0.3], [0.5, 0.1, 0.2, np.inf]], np.float32)
    assert_same(dm.support.check(mc.tensor(v)), dt.support.check(torch.tensor(v)))
    m = mcd.constraints.multinomial(4)
    v = np.array([[1, 2, 1], [1, 2, 2], [-1, 2, 1]], np.float32)
    assert_same(m.check(mc.tensor(v)), td.constraints.multinomial(4).check(torch.tensor(v)))


BAD = {
    "Mixture not categorical": lambda D, L: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(L.zeros(2), 1.0)),
    "Mixture component not a distribution": lambda D, L: D.MixtureSameFamily(D.Categorical(L.ones(2)), L.zeros(2)),
    "Mixture batch mismatch": lambda D, L: D.MixtureSameFamily(D.Categorical(L.ones(3, 2)),
                                                               D.Normal(L.zeros(4, 2), 1.0)),
    "Mixture k mismatch": lambda D, L: D.MixtureSameFamily(D.Categorical(L.ones(3)), D.Normal(L.zeros(2), 1.0)),
    "Mixture log_prob outside": lambda D, L: D.MixtureSameFamily(
        D.Categorical(L.ones(2)), D.Exponential(L.ones(2))).log_prob(L.tensor(-1.0)),
    "Mixture unbatched weights sample": lambda D, L: D.MixtureSameFamily(
        D.Categorical(L.ones(3)), D.Normal(L.zeros(2, 3), 1.0)).sample(),
    "Mixture entropy": lambda D, L: D.MixtureSameFamily(D.Categorical(L.ones(2)), D.Normal(L.zeros(2), 1.0)).entropy(),
    "Multinomial tensor count": lambda D, L: D.Multinomial(L.tensor(3), probs=L.ones(2)),
    "Multinomial negative probs": lambda D, L: D.Multinomial(3, probs=L.tensor([-0.1, 1.1])),
    "Multinomial neither": lambda D, L: D.Multinomial(3),
    "Multinomial log_prob negative": lambda D, L: D.Multinomial(3, probs=L.ones(2)).log_prob(L.tensor([-1.0, 4.0])),
    "Multinomial log_prob too many": lambda D, L: D.Multinomial(3, probs=L.ones(2)).log_prob(L.tensor([2.0, 2.0])),
    "Multinomial log_prob wrong event": lambda D, L: D.Multinomial(3, probs=L.ones(2)).log_prob(L.ones(3)),
    "NegativeBinomial probs one": lambda D, L: D.NegativeBinomial(2.0, probs=L.tensor([1.0])),
    "NegativeBinomial negative count": lambda D, L: D.NegativeBinomial(L.tensor([-1.0]), probs=L.tensor([0.5])),
    "NegativeBinomial both": lambda D, L: D.NegativeBinomial(2.0, probs=L.tensor([0.5]), logits=L.tensor([0.0])),
    "NegativeBinomial log_prob fraction": lambda D, L: D.NegativeBinomial(2.0, L.tensor([0.5])).log_prob(
        L.tensor([0.5])),
    "LowRank scalar loc": lambda D, L: D.LowRankMultivariateNormal(L.tensor(0.0), L.ones(1, 1), L.ones(1)),
    "LowRank vector factor": lambda D, L: D.LowRankMultivariateNormal(L.zeros(2), L.ones(2), L.ones(2)),
    "LowRank factor rows": lambda D, L: D.LowRankMultivariateNormal(L.zeros(2), L.ones(3, 1), L.ones(2)),
    "LowRank diag size": lambda D, L: D.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.ones(3)),
    "LowRank batch mismatch": lambda D, L: D.LowRankMultivariateNormal(L.zeros(3, 2), L.ones(4, 2, 1), L.ones(2)),
    "LowRank negative diag": lambda D, L: D.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.tensor([1.0, -1.0])),
}


def test_lowrank_not_factorisable():
    """The capacitance matrix's Cholesky factorisation fails (before validation) as torch's does."""
    def make(D, L):
        return D.LowRankMultivariateNormal(L.zeros(2), L.full((2, 1), float("nan")), L.ones(2))
    (_, et), (_, em) = fc.outcome(lambda: make(td, torch)), fc.outcome(lambda: make(mcd, mc))
    assert isinstance(et, torch.linalg.LinAlgError) and isinstance(em, mc.linalg.LinAlgError)
    assert str(em) == str(et)


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


@pytest.mark.parametrize("name", ["Mixture normal"])
def test_mixture_samples(name):
    """Our draws put through torch's mixture cdf are uniform (KS at p = 0.001)."""
    mc.manual_seed(4)
    n = 20000
    dt, dm, _, _ = fc.build(CASES, name)
    x = dm.sample((n,))
    assert tuple(x.shape) == (n, 2)
    u = dt.cdf(torch.tensor(x.numpy())).numpy()
    for j in range(2):
        assert fc.ks_statistic(u[:, j]) < fc.ks_bound(n), j


def test_mixture_event_samples():
    """Components with events: the draws' mean and variance are the mixture's (torch's mean / variance)."""
    mc.manual_seed(5)
    dt, dm, _, _ = fc.build(CASES, "Mixture independent")
    x = dm.sample((40000,)).numpy()
    fc.check_moments(x, dt.mean.numpy(), dt.variance.numpy())
    dt, dm, _, _ = fc.build(CASES, "Mixture poisson")
    x = dm.sample((40000,)).numpy()
    assert np.all(x % 1 == 0)
    fc.check_moments(x, dt.mean.numpy(), dt.variance.numpy())


def test_multinomial_samples():
    mc.manual_seed(6)
    n = 20000
    probs = np.array([[0.1, 0.6, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]], np.float32)
    x = mcd.Multinomial(10, probs=mc.tensor(probs)).sample((n,))
    assert x.dtype == mc.float32 and tuple(x.shape) == (n, 2, 4)
    x = x.numpy()
    assert np.all(x.sum(-1) == 10) and np.all(x[..., 3][:, 0] == 0)
    t = td.Multinomial(10, probs=torch.tensor(probs))
    keep = t.variance.numpy() > 0
    fc.check_moments(x[:, keep], t.mean.numpy()[keep], t.variance.numpy()[keep])
    # the covariance between classes: -n p_i p_j
    cov = np.cov(x[:, 1, 0], x[:, 1, 1])[0, 1]
    assert abs(cov - (-10 * 0.25 * 0.25)) < 0.05


def test_negative_binomial_samples():
    mc.manual_seed(7)
    n = 40000
    count, probs = np.array([1.0, 3.5, 20.0], np.float32), np.array([0.3, 0.6, 0.1], np.float32)
    x = mcd.NegativeBinomial(mc.tensor(count), probs=mc.tensor(probs)).sample((n,))
    assert x.dtype == mc.float32 and bool((x % 1 == 0).all()) and bool((x >= 0).all())
    t = td.NegativeBinomial(torch.tensor(count), probs=torch.tensor(probs))
    fc.check_moments(x.numpy(), t.mean.numpy(), t.variance.numpy())
    x = x.numpy()
    for k in range(6):
        expected = t.log_prob(torch.tensor(float(k))).exp().numpy()
        assert np.allclose((x == k).mean(0), expected, atol=0.01), k


def test_lowrank_samples_and_rsample_gradient():
    mc.manual_seed(8)
    n = 40000
    dt, dm, _, _ = fc.build(CASES, "LowRank wide")
    x = dm.sample((n,)).numpy()
    assert x.shape == (n, 3)
    np.testing.assert_allclose(x.mean(0), dt.mean.numpy(), atol=5 * np.sqrt(dt.variance.numpy().max() / n))
    np.testing.assert_allclose(np.cov(x.T), dt.covariance_matrix.numpy(), rtol=0.05, atol=0.05)
    loc, W, D = (mc.tensor(v, requires_grad=True) for v in (LOC[0], COV_FACTOR[0], SCALE[0]))
    y = mcd.LowRankMultivariateNormal(loc, W, D).rsample((5,))
    y.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.full(3, 5.0))
    assert W.grad is not None and D.grad is not None
