"""Weibull, Kumaraswamy, ContinuousBernoulli, FisherSnedecor, InverseGamma, VonMises, GeneralizedPareto, LKJCholesky
and Wishart against torch.distributions: log_prob, entropy, moments, mode, cdf / icdf and their gradients; shapes,
expand, repr, constraints, validation; sample distributions (KS against torch's cdf or a numerical one, moments) and
rsample gradients (against torch's icdf gradient at the same quantile, or the closed-form reparameterisation)."""
import math

import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import td
from helpers import assert_same, mc, torch

_rng = np.random.default_rng(23)  # this file's own, so its parameters do not depend on which tests ran first


def f32(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape).astype(np.float32)

POS = f32(2, 3, low=0.5, high=3.0)
POS2 = np.array([[0.7, 1.0, 2.5], [4.0, 0.3, 1.5]], np.float32)


def _corr_cholesky(n, dim, seed):
    """n lower Cholesky factors of random correlation matrices."""
    a = np.random.default_rng(seed).standard_normal((n, dim, dim + 1))
    c = a @ a.transpose(0, 2, 1)
    d = 1 / np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    return np.linalg.cholesky(c * d[:, :, None] * d[:, None, :]).astype(np.float32)


def _spd(shape, dim, seed, jitter=0.5):
    a = np.random.default_rng(seed).standard_normal(tuple(shape) + (dim, dim))
    return (a @ np.swapaxes(a, -1, -2) / dim + jitter * np.eye(dim)).astype(np.float32)


COV = _spd((2,), 3, 1)
CASES = {
    "Weibull": (lambda D, p: D.Weibull(p["scale"], p["c"]), {"scale": POS, "c": POS2}, f32(4, 2, 3, low=0.1, high=4)),
    "Weibull scalar": (lambda D, p: D.Weibull(1.5, 0.8), {}, np.float32(0.7)),
    "Kumaraswamy": (lambda D, p: D.Kumaraswamy(p["a"], p["b"]), {"a": POS2, "b": POS},
                    f32(2, 3, low=0.05, high=0.95)),
    "Kumaraswamy scalar": (lambda D, p: D.Kumaraswamy(2.0, 3.0), {}, np.float32(0.3)),
    "ContinuousBernoulli probs": (lambda D, p: D.ContinuousBernoulli(probs=p["probs"]),
                                  {"probs": np.array([[0.1, 0.4995, 0.5], [0.501, 0.7, 0.98]], np.float32)},
                                  f32(2, 3, low=0.0, high=1.0)),
    "ContinuousBernoulli logits": (lambda D, p: D.ContinuousBernoulli(logits=p["logits"]),
                                   {"logits": np.array([-3.0, -0.001, 0.0, 0.5, 4.0], np.float32)},
                                   f32(3, 5, low=0.0, high=1.0)),
    "ContinuousBernoulli scalar": (lambda D, p: D.ContinuousBernoulli(0.3), {}, np.float32(0.6)),
    "ContinuousBernoulli lims": (lambda D, p: D.ContinuousBernoulli(probs=p["probs"], lims=(0.4, 0.6)),
                                 {"probs": np.array([0.3, 0.45, 0.55, 0.6], np.float32)}, f32(4, low=0.0, high=1.0)),
    "FisherSnedecor": (lambda D, p: D.FisherSnedecor(p["d1"], p["d2"]),
                       {"d1": np.array([[1.0, 2.0, 3.0], [5.0, 10.0, 0.5]], np.float32),
                        "d2": np.array([[1.5, 3.0, 4.0], [5.0, 12.0, 2.0]], np.float32)}, f32(2, 3, low=0.1, high=4)),
    "FisherSnedecor scalar": (lambda D, p: D.FisherSnedecor(4.0, 9.0), {}, np.float32(1.2)),
    "InverseGamma": (lambda D, p: D.InverseGamma(p["a"], p["rate"]),
                     {"a": np.array([[0.5, 1.2, 1.5], [2.0, 2.5, 6.0]], np.float32), "rate": POS},
                     f32(3, 2, 3, low=0.1, high=4)),
    "InverseGamma scalar": (lambda D, p: D.InverseGamma(3.0, 2.0), {}, np.float32(0.8)),
    "VonMises": (lambda D, p: D.VonMises(p["loc"], p["k"]),
                 {"loc": f32(2, 3, low=-3, high=3), "k": np.array([[0.01, 1.0, 3.7], [3.8, 10.0, 80.0]], np.float32)},
                 f32(4, 2, 3, low=-7, high=7)),
    "VonMises scalar": (lambda D, p: D.VonMises(mc.tensor(0.5) if D is mcd else torch.tensor(0.5), 2.0), {},
                        np.float32(0.3)),
    "GeneralizedPareto": (lambda D, p: D.GeneralizedPareto(p["loc"], p["scale"], p["xi"]),
                          {"loc": f32(2, 3), "scale": POS, "xi": np.array([[0.0, 0.3, 1.2], [0.5, 2.0, 1e-9]],
                                                                         np.float32)},
                          f32(2, 3, low=1.0, high=2)),  # icdf(sigmoid(v)) is ill-conditioned near 1
    "GeneralizedPareto negative xi": (lambda D, p: D.GeneralizedPareto(p["loc"], p["scale"], p["xi"]),
                                      {"loc": np.zeros(3, np.float32), "scale": np.ones(3, np.float32),
                                       "xi": np.array([-0.2, -0.5, -1.0], np.float32)},
                                      np.array([0.5, 1.0, 0.9], np.float32)),
    "GeneralizedPareto scalar": (lambda D, p: D.GeneralizedPareto(0.0, 2.0, 0.1), {}, np.float32(0.5)),
    "LKJCholesky": (lambda D, p: D.LKJCholesky(3, p["eta"]), {"eta": np.array([0.5, 1.0, 4.0], np.float32)},
                    _corr_cholesky(3, 3, 0)),
    "LKJCholesky scalar": (lambda D, p: D.LKJCholesky(4, 2.0), {}, _corr_cholesky(2, 4, 1)),
    "LKJCholesky dim 2": (lambda D, p: D.LKJCholesky(2, p["eta"]), {"eta": np.array(1.5, np.float32)},
                          _corr_cholesky(1, 2, 2)[0]),
    "Wishart covariance": (lambda D, p: D.Wishart(p["df"], covariance_matrix=p["cov"]),
                           {"df": np.array([4.0, 7.5], np.float32), "cov": COV}, _spd((2,), 3, 2)),
    "Wishart scale_tril": (lambda D, p: D.Wishart(p["df"], scale_tril=p["tril"]),
                           {"df": np.array(3.5, np.float32), "tril": np.linalg.cholesky(COV[0])},
                           _spd((2,), 3, 3)),
    "Wishart precision": (lambda D, p: D.Wishart(p["df"], precision_matrix=p["prec"]),
                          {"df": np.array([[5.0], [2.5]], np.float32), "prec": COV}, _spd((2,), 3, 4)),
    "Wishart scalar df": (lambda D, p: D.Wishart(6.0, covariance_matrix=p["cov"]), {"cov": COV[1]}, _spd((), 3, 5)),
}


@pytest.mark.parametrize("qty", fc.QUANTITIES)
@pytest.mark.parametrize("name", CASES)
def test_values(name, qty):
    fc.check_values(CASES, name, qty)


def _ill_conditioned(name, qty):
    """Quantities whose float32 formulas cancel digits (ContinuousBernoulli's closed forms near p = 1/2, variances
    as E[X^2] - E[X]^2): their gradients are compared against torch's float64 ones."""
    return name.startswith("ContinuousBernoulli") or (name.startswith("Kumaraswamy") and qty == "variance")


def _check_gradients_against_float64(name, qty):
    """Our float32 gradient is within 1e-5 (relative to the largest entry) of torch's float32 one, or no further from
    torch's float64 gradient than torch's float32 gradient is (plus 1e-5)."""
    builder, params, v = CASES[name]
    _, err = fc.outcome(lambda: fc.QUANTITIES[qty](builder(td, {k: torch.tensor(a) for k, a in params.items()}),
                                                   torch.tensor(v)))
    if err is not None:
        return  # the value test compares the error
    grads = {}
    for lib, D, dtype in ((mc, mcd, None), (torch, td, torch.float32), (torch, td, torch.float64)):
        p = {k: lib.tensor(a, requires_grad=True, dtype=dtype) for k, a in params.items()}
        out = fc.QUANTITIES[qty](builder(D, p), lib.tensor(v, dtype=dtype))
        if not out.requires_grad:
            grads[dtype] = None
            continue
        w = np.random.default_rng(len(name)).standard_normal(tuple(out.shape))
        (lib.where(lib.isfinite(out), out, 0.0) * lib.tensor(w, dtype=out.dtype)).sum().backward()
        grads[dtype] = {k: None if t.grad is None else np.asarray(t.grad.detach().numpy(), np.float64)
                        for k, t in p.items()}
    if grads[torch.float32] is None:
        assert grads[None] is None
        return
    for k, g32 in grads[torch.float32].items():
        ours, g64 = grads[None][k], grads[torch.float64][k]
        if g32 is None:
            assert ours is None or not np.abs(ours).sum(), k
            continue
        scale = max(np.abs(g32).max(), 1e-6)
        if np.abs(ours - g32).max() > 1e-5 * scale:
            assert np.abs(ours - g64).max() <= np.abs(g32 - g64).max() + 1e-5 * scale, (k, ours, g32, g64)


@pytest.mark.parametrize("qty", fc.GRAD_QUANTITIES)
@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][1]])
def test_gradients(name, qty):
    if _ill_conditioned(name, qty):
        _check_gradients_against_float64(name, qty)
    else:
        fc.check_gradients(CASES, name, qty)


def test_continuous_bernoulli_variance_precision():
    """The variance's gradient at logits 0.5 (float32) is within 1e-5 of torch's float64 value; torch's own float32
    gradient is 7e-4 off there (cancellation in 1 / (log1p(-p) - log p)^2), so we compare with the float64 one."""
    logits = np.array([-3.0, -0.001, 0.5, 4.0], np.float32)
    t = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    m = mc.tensor(logits, requires_grad=True)
    td.ContinuousBernoulli(logits=t).variance.sum().backward()
    mcd.ContinuousBernoulli(logits=m).variance.sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_gamma_log_prob_gradient_at_concentration_one():
    """Gamma / InverseGamma log_prob at concentration exactly 1 use xlogy(concentration - 1, x)."""
    for L, D in ((torch, td), (mc, mcd)):
        a = L.tensor([1.0], requires_grad=True)
        D.InverseGamma(a, L.tensor([2.0])).log_prob(L.tensor([0.5])).sum().backward()
        if L is torch:
            expected = a.grad.numpy()
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-5)


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


def test_other_quantities():
    """ContinuousBernoulli's natural-parameter normaliser, GeneralizedPareto's log cdf / survival function, Wishart's
    matrices and natural parameters, InverseGamma's parameters: equal torch's."""
    for name, fns in [("ContinuousBernoulli probs", [lambda d, v: d._log_normalizer(d.logits), lambda d, v: d.stddev,
                                                     lambda d, v: d._natural_params[0]]),
                      ("GeneralizedPareto", [lambda d, v: d.log_cdf(v), lambda d, v: d.log_survival_function(v),
                                             lambda d, v: d.support.upper_bound]),
                      ("Wishart covariance", [lambda d, v: d.scale_tril, lambda d, v: d.precision_matrix,
                                              lambda d, v: d._natural_params[0], lambda d, v: d._natural_params[1]]),
                      ("Wishart precision", [lambda d, v: d.covariance_matrix, lambda d, v: d.scale_tril]),
                      ("InverseGamma", [lambda d, v: d.concentration, lambda d, v: d.rate])]:
        dt, dm, _, _ = fc.build(CASES, name)
        vt, vm = fc.value(CASES, name)
        for fn in fns:
            fc.compare(lambda: fn(dt, vt), lambda: fn(dm, vm), atol=1e-5)


def _wishart_low_df(D, L):
    return D.Wishart(L.tensor(2.5), covariance_matrix=L.eye(3))


BAD = {
    "Weibull negative scale": lambda D, L: D.Weibull(L.tensor([-1.0]), L.tensor([1.0])),
    "Weibull log_prob negative": lambda D, L: D.Weibull(L.tensor([1.0]), L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "Kumaraswamy zero concentration": lambda D, L: D.Kumaraswamy(L.tensor([0.0]), L.tensor([1.0])),
    "Kumaraswamy log_prob outside": lambda D, L: D.Kumaraswamy(L.tensor([1.0]), L.tensor([1.0])).log_prob(
        L.tensor([1.5])),
    "ContinuousBernoulli both": lambda D, L: D.ContinuousBernoulli(L.tensor([0.2]), L.tensor([0.2])),
    "ContinuousBernoulli probs > 1": lambda D, L: D.ContinuousBernoulli(L.tensor([1.2])).probs,  # clamped first
    "ContinuousBernoulli probs > 1 unvalidated": lambda D, L: D.ContinuousBernoulli(L.tensor([1.2]),
                                                                                    validate_args=False),
    "ContinuousBernoulli log_prob outside": lambda D, L: D.ContinuousBernoulli(L.tensor([0.2])).log_prob(
        L.tensor([1.2])),
    "FisherSnedecor negative df": lambda D, L: D.FisherSnedecor(L.tensor([1.0]), L.tensor([-1.0])),
    "FisherSnedecor log_prob negative": lambda D, L: D.FisherSnedecor(L.tensor([1.0]), L.tensor([1.0])).log_prob(
        L.tensor([-1.0])),
    "InverseGamma negative rate": lambda D, L: D.InverseGamma(L.tensor([1.0]), L.tensor([-1.0])),
    "InverseGamma log_prob zero": lambda D, L: D.InverseGamma(L.tensor([1.0]), L.tensor([1.0])).log_prob(
        L.tensor([0.0])),
    "VonMises zero concentration": lambda D, L: D.VonMises(L.tensor([0.0]), L.tensor([0.0])),
    "VonMises nan loc": lambda D, L: D.VonMises(L.tensor([math.nan]), L.tensor([1.0])),
    "VonMises log_prob nan": lambda D, L: D.VonMises(L.tensor([0.0]), L.tensor([1.0])).log_prob(
        L.tensor([math.nan])),
    "GeneralizedPareto zero scale": lambda D, L: D.GeneralizedPareto(L.tensor([0.0]), L.tensor([0.0]),
                                                                     L.tensor([0.1])),
    "GeneralizedPareto log_prob below loc": lambda D, L: D.GeneralizedPareto(
        L.tensor([1.0]), L.tensor([1.0]), L.tensor([0.1])).log_prob(L.tensor([0.5])),
    "GeneralizedPareto log_prob above bound": lambda D, L: D.GeneralizedPareto(
        L.tensor([0.0]), L.tensor([1.0]), L.tensor([-0.5])).log_prob(L.tensor([2.5])),
    "LKJCholesky dim 1": lambda D, L: D.LKJCholesky(1, 1.0),
    "LKJCholesky negative concentration": lambda D, L: D.LKJCholesky(3, L.tensor([-1.0])),
    "LKJCholesky log_prob not corr": lambda D, L: D.LKJCholesky(2, 1.0).log_prob(L.tensor([[1.0, 0.0], [0.5, 2.0]])),
    "Wishart two matrices": lambda D, L: D.Wishart(L.tensor(4.0), covariance_matrix=L.eye(2), scale_tril=L.eye(2)),
    "Wishart no matrix": lambda D, L: D.Wishart(L.tensor(4.0)),
    "Wishart vector": lambda D, L: D.Wishart(L.tensor(4.0), covariance_matrix=L.ones(2)),
    "Wishart df too small": lambda D, L: D.Wishart(L.tensor(1.5), covariance_matrix=L.eye(3)),
    "Wishart not pd": lambda D, L: D.Wishart(L.tensor(4.0), covariance_matrix=L.tensor([[1.0, 2.0], [2.0, 1.0]]),
                                             validate_args=True),
    "Wishart not tril": lambda D, L: D.Wishart(L.tensor(4.0), scale_tril=L.tensor([[1.0, 2.0], [0.0, 1.0]])),
    "Wishart log_prob not pd": lambda D, L: D.Wishart(L.tensor(4.0), covariance_matrix=L.eye(2)).log_prob(
        L.tensor([[1.0, 2.0], [2.0, 1.0]])),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", [n for n in BAD if n != "Wishart not pd"])
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


def test_wishart_not_factorisable_unvalidated():
    """Without validation the Cholesky factorisation of a covariance that is not positive definite fails as
    torch's does (torch's LinAlgError and ours are different classes of the same name)."""
    def make(D, L):
        return D.Wishart(L.tensor(4.0), covariance_matrix=L.tensor([[1.0, 2.0], [2.0, 1.0]]), validate_args=False)
    (_, et), (_, em) = fc.outcome(lambda: make(td, torch)), fc.outcome(lambda: make(mcd, mc))
    assert isinstance(et, torch.linalg.LinAlgError) and isinstance(em, mc.linalg.LinAlgError)
    assert str(em) == str(et)


def test_wishart_low_df_warns():
    with pytest.warns(UserWarning, match="Low df values detected"):
        _wishart_low_df(mcd, mc)
    with pytest.warns(UserWarning, match="Low df values detected"):
        _wishart_low_df(td, torch)


def _ks(name, x, cdf):
    n = x.shape[0]
    u = cdf(torch.tensor(x.numpy(), dtype=torch.float32)).numpy().reshape(n, -1)
    for j in range(u.shape[1]):
        assert fc.ks_statistic(u[:, j]) < fc.ks_bound(n), (name, j)


@pytest.mark.parametrize("name", ["Weibull", "Kumaraswamy", "ContinuousBernoulli probs", "ContinuousBernoulli lims",
                                  "InverseGamma", "GeneralizedPareto", "GeneralizedPareto negative xi"])
def test_sample_distribution(name):
    """Our draws (sample and rsample) put through torch's cdf of the same distribution are uniform (KS at
    p = 0.001)."""
    mc.manual_seed(len(name))
    n = 20000
    dt, dm, _, _ = fc.build(CASES, name)
    _ks(name, dm.sample((n,)), dt.cdf)
    _ks(name, dm.rsample((n,)).detach(), dt.cdf)


def test_fisher_snedecor_samples():
    """d1 F / (d1 F + d2) ~ Beta(d1 / 2, d2 / 2): its sample moments."""
    mc.manual_seed(11)
    n = 40000
    d1, d2 = np.array([1.0, 4.0, 10.0], np.float32), np.array([3.0, 2.5, 12.0], np.float32)
    x = mcd.FisherSnedecor(mc.tensor(d1), mc.tensor(d2)).sample((n,)).numpy().astype(np.float64)
    assert x.dtype == np.float64 and np.all(x > 0)
    y = d1 * x / (d1 * x + d2)
    a, b = d1 / 2, d2 / 2
    fc.check_moments(y, a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1)))


def test_von_mises_samples():
    """KS against the cdf integrated numerically from torch's density, for small, medium and large concentrations;
    draws lie in [-pi, pi)."""
    mc.manual_seed(12)
    n = 20000
    loc, k = np.array([2.5, -1.0, 0.3, 0.0], np.float32), np.array([0.05, 1.0, 8.0, 300.0], np.float32)
    x = mcd.VonMises(mc.tensor(loc), mc.tensor(k)).sample((n,))
    assert x.dtype == mc.float32 and tuple(x.shape) == (n, 4)
    x = x.numpy().astype(np.float64)
    assert np.all(x >= -math.pi) and np.all(x <= math.pi)
    grid = np.linspace(-math.pi, math.pi, 200001)
    density = td.VonMises(torch.tensor(loc, dtype=torch.float64), torch.tensor(k, dtype=torch.float64)).log_prob(
        torch.tensor(grid)[:, None]).exp().numpy()
    cdf = np.concatenate([np.zeros((1, 4)), np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid)[:, None], 0)])
    cdf /= cdf[-1]
    for j in range(4):
        assert fc.ks_statistic(np.interp(x[:, j], grid, cdf[:, j])) < fc.ks_bound(n), j


def _correlations(L):
    L = np.asarray(L, dtype=np.float64)
    i, j = np.tril_indices(L.shape[-1], -1)
    return (L @ np.swapaxes(L, -1, -2))[:, i, j]


def test_lkj_samples():
    """The off-diagonal correlations of our draws have the mean and variance of torch's draws (two-sample, 5
    standard errors); every draw is a valid correlation Cholesky factor. In dim 2 they are 2 Beta(eta, eta) - 1, the
    LKJ marginal. (Beyond row 1 torch's onion sampler gives row k Beta(k - 1/2, .) instead of Beta(k / 2, .), so its
    draws' correlations are wider than LKJ's, variance 0.30 instead of 0.25 for dim 3, eta 1; ours follow torch's.)"""
    mc.manual_seed(13)
    torch.manual_seed(13)
    n = 20000
    for dim, eta in [(2, 0.7), (3, 1.0), (4, 3.0)]:
        L = mcd.LKJCholesky(dim, eta).sample((n,))
        assert bool(mcd.constraints.corr_cholesky.check(L).all())
        ours, theirs = _correlations(L.numpy()), _correlations(td.LKJCholesky(dim, eta).sample((n,)).numpy())
        se_mean = np.sqrt(ours.var(0) / n + theirs.var(0) / n)
        assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * se_mean)
        m4 = lambda r: ((r - r.mean(0)) ** 4).mean(0)  # noqa: E731
        se_var = np.sqrt((m4(ours) - ours.var(0) ** 2) / n + (m4(theirs) - theirs.var(0) ** 2) / n)
        assert np.all(np.abs(ours.var(0) - theirs.var(0)) < 5 * se_var), (dim, ours.var(0), theirs.var(0))
        if dim == 2:
            fc.check_moments(ours, np.zeros(1), np.full(1, 1 / (2 * eta + 1)))


def test_wishart_samples():
    mc.manual_seed(14)
    n = 20000
    dt, dm, _, _ = fc.build(CASES, "Wishart covariance")
    x = dm.sample((n,))
    assert bool(dm.support.check(x).all())
    fc.check_moments(x.numpy().reshape(n, -1), dt.mean.numpy().reshape(-1), dt.variance.numpy().reshape(-1))


@pytest.mark.parametrize("name", ["Weibull", "Kumaraswamy", "ContinuousBernoulli probs", "ContinuousBernoulli logits",
                                  "GeneralizedPareto", "GeneralizedPareto negative xi"])
def test_rsample_gradients_by_inverse_cdf(name):
    """Our rsample's gradient w.r.t. the parameters equals torch's icdf gradient at the same quantile u = cdf(x)."""
    mc.manual_seed(15)
    dt, dm, tp, mp = fc.build(CASES, name, grad=True)
    x = dm.rsample((3,))
    w = fc.rng.standard_normal(tuple(x.shape)).astype(np.float32)
    (x * mc.tensor(w)).sum().backward()
    with torch.no_grad():
        u = dt.cdf(torch.tensor(x.detach().numpy()))
    xt = dt.icdf(u)
    assert_same(x.detach(), xt.detach(), rtol=1e-3, atol=1e-4)
    (xt * torch.tensor(w)).sum().backward()
    for k in tp:
        scale = float(tp[k].grad.abs().max())
        assert_same(mp[k].grad, tp[k].grad, rtol=1e-2, atol=1e-3 * max(scale, 1.0))


def test_rsample_gradients_gamma_based():
    """InverseGamma: x = rate / G, so d x / d rate = x / rate; FisherSnedecor: x = (G1 / d1) / (G2 / d2) so the
    gradient w.r.t. df is that of the gamma draws' implicit reparameterisation (finite, and matching torch's formula
    for the ratio's direct dependence)."""
    mc.manual_seed(16)
    a, rate = mc.tensor([1.5, 4.0], requires_grad=True), mc.tensor([0.5, 2.0], requires_grad=True)
    x = mcd.InverseGamma(a, rate).rsample((5,))
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), (x.detach() / rate.detach()).sum(0).numpy(), rtol=1e-5)
    assert a.grad is not None and bool((a.grad < 0).all())  # larger shape, smaller inverse draws
    d1, d2 = mc.tensor([3.0, 8.0], requires_grad=True), mc.tensor([5.0, 9.0], requires_grad=True)
    y = mcd.FisherSnedecor(d1, d2).rsample((4,))
    y.sum().backward()
    assert bool(mc.isfinite(d1.grad).all()) and bool(mc.isfinite(d2.grad).all())
    W = mcd.Wishart(mc.tensor(5.0), scale_tril=mc.eye(2).requires_grad_())
    z = W.rsample((3,))
    z.sum().backward()
    assert W._unbroadcasted_scale_tril.grad is not None


def test_von_mises_and_lkj_have_no_rsample():
    assert not mcd.VonMises(mc.tensor(0.0), mc.tensor(1.0)).has_rsample
    assert not mcd.LKJCholesky(3).has_rsample
    for make in (lambda D, L: D.VonMises(L.tensor(0.0), L.tensor(1.0)).rsample(),
                 lambda D, L: D.LKJCholesky(3).rsample()):
        fc.check_error({"x": make}, "x")
