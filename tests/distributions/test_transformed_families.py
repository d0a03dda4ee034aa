"""TransformedDistribution and the families built on it (LogNormal, HalfNormal, HalfCauchy, Gumbel,
LogisticNormal, Pareto) against torch.distributions: log_prob, entropy, moments, cdf / icdf and their gradients,
shapes, expand, repr, validation, sample distributions (KS against torch's cdf) and rsample gradients."""
import math

import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import f32, td
from helpers import assert_same, mc, torch

LOC, SCALE = f32(2, 3), f32(2, 3, low=0.5, high=2.0)
T = "transforms"

CASES = {
    "LogNormal": (lambda D, p: D.LogNormal(p["loc"], p["scale"]), {"loc": LOC, "scale": SCALE},
                  f32(4, 2, 3, low=0.1, high=5)),
    "LogNormal scalar": (lambda D, p: D.LogNormal(0.5, 0.8), {}, np.float32(1.3)),
    "HalfNormal": (lambda D, p: D.HalfNormal(p["scale"]), {"scale": SCALE}, f32(2, 3, low=0, high=3)),
    "HalfCauchy": (lambda D, p: D.HalfCauchy(p["scale"]), {"scale": SCALE}, f32(5, 2, 3, low=0, high=3)),
    "Gumbel": (lambda D, p: D.Gumbel(p["loc"], p["scale"]), {"loc": LOC, "scale": SCALE},
               f32(3, 2, 3, low=-1, high=4)),  # cdf of far-left values underflows to 0, outside the base's support
    "Gumbel scalar": (lambda D, p: D.Gumbel(1.0, 2.0), {}, np.float32(0.4)),
    "LogisticNormal": (lambda D, p: D.LogisticNormal(p["loc"], p["scale"]), {"loc": LOC, "scale": SCALE},
                       np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]], np.float32)),
    "LogisticNormal scalar": (lambda D, p: D.LogisticNormal(0.0, 1.0), {}, np.array([0.3, 0.7], np.float32)),
    "Pareto": (lambda D, p: D.Pareto(p["scale"], p["alpha"]), {"scale": SCALE, "alpha": f32(2, 3, low=0.5, high=4)},
               f32(2, 3, low=2.0, high=6)),
    "Pareto scalar": (lambda D, p: D.Pareto(1.0, 3.0), {}, np.float32(1.5)),
    "Transformed affine-exp": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.AffineTransform(1.0, p["scale"]), D.ExpTransform()]),
        {"loc": LOC, "scale": SCALE}, f32(2, 3, low=0.2, high=4)),
    "Transformed decreasing": (lambda D, p: D.TransformedDistribution(
        D.Uniform(p["low"], p["low"] + 1), [D.AffineTransform(0.5, -2.0), D.SigmoidTransform()]),
        {"low": f32(3)}, np.array([0.3, 0.5, 0.7], np.float32)),
    "Transformed tanh": (lambda D, p: D.TransformedDistribution(D.Normal(p["loc"], p["scale"]), D.TanhTransform()),
                         {"loc": LOC, "scale": SCALE}, f32(2, 3, low=-0.9, high=0.9)),
    "Transformed event dim": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), D.AffineTransform(0.0, p["scale"], event_dim=1)),
        {"loc": LOC, "scale": SCALE}, f32(2, 3)),
    "Transformed broadcasting transform": (lambda D, p: D.TransformedDistribution(
        D.Normal(0.0, 1.0), D.AffineTransform(p["loc"], p["scale"])), {"loc": LOC, "scale": SCALE}, f32(2, 3)),
    "Transformed power": (lambda D, p: D.TransformedDistribution(
        D.Exponential(p["rate"]), D.PowerTransform(p["e"])), {"rate": SCALE, "e": f32(2, 3, low=0.5, high=2)},
        f32(2, 3, low=0.1, high=2)),
    "Transformed stick-breaking": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), D.StickBreakingTransform()), {"loc": LOC, "scale": SCALE},
        np.array([0.1, 0.2, 0.3, 0.4], np.float32)),
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


def test_parameters_and_base():
    for name in ("LogNormal", "HalfNormal", "Gumbel", "LogisticNormal", "Pareto"):
        dt, dm, _, _ = fc.build(CASES, name)
        for attr in ("loc", "scale", "alpha"):
            if hasattr(dt, attr):
                assert_same(getattr(dm, attr), getattr(dt, attr))
        assert type(dm.base_dist).__name__ == type(dt.base_dist).__name__
        assert dm.base_dist.batch_shape == dt.base_dist.batch_shape
        assert [type(t).__name__ for t in dm.transforms] == [type(t).__name__ for t in dt.transforms]


BAD = {
    "LogNormal negative scale": lambda D, L: D.LogNormal(L.tensor([0.0]), L.tensor([-1.0])),
    "LogNormal log_prob negative": lambda D, L: D.LogNormal(0.0, 1.0).log_prob(L.tensor([-1.0])),
    "HalfNormal negative scale": lambda D, L: D.HalfNormal(L.tensor([-1.0])),
    "HalfNormal log_prob negative": lambda D, L: D.HalfNormal(L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "Gumbel zero scale": lambda D, L: D.Gumbel(L.tensor([0.0]), L.tensor([0.0])),
    "Pareto below scale": lambda D, L: D.Pareto(L.tensor([2.0]), L.tensor([1.0])).log_prob(L.tensor([1.0])),
    "Pareto negative alpha": lambda D, L: D.Pareto(L.tensor([2.0]), L.tensor([-1.0])),
    "LogisticNormal not simplex": lambda D, L: D.LogisticNormal(L.zeros(2), L.ones(2)).log_prob(L.ones(3)),
    "Transformed not a transform": lambda D, L: D.TransformedDistribution(D.Normal(0.0, 1.0), [1]),
    "Transformed not a list": lambda D, L: D.TransformedDistribution(D.Normal(0.0, 1.0), (D.ExpTransform(),)),
    "Transformed base too small": lambda D, L: D.TransformedDistribution(D.Normal(0.0, 1.0), D.SoftmaxTransform()),
    "Transformed cdf outside": lambda D, L: D.TransformedDistribution(
        D.Uniform(0.0, 1.0), D.ExpTransform()).cdf(L.tensor(5.0)),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


@pytest.mark.parametrize("name", ["LogNormal", "HalfNormal", "HalfCauchy", "Gumbel", "Pareto"])
def test_sample_distribution(name):
    """Our draws put through torch's cdf of the same distribution are uniform (KS distance at p = 0.001)."""
    mc.manual_seed(len(name))
    n = 20000
    dt, dm, _, _ = fc.build(CASES, name)
    x = dm.sample((n,))
    cdf = dt.cdf if name != "Gumbel" else (lambda v: torch.exp(-torch.exp(-(v - dt.loc) / dt.scale)))
    u = cdf(torch.tensor(x.numpy(), dtype=torch.float32)).numpy().reshape(n, -1)
    for j in range(u.shape[1]):
        assert fc.ks_statistic(u[:, j]) < fc.ks_bound(n), j


def test_logistic_normal_samples():
    mc.manual_seed(3)
    loc, scale = np.array([0.5, -0.3], np.float32), np.array([0.7, 1.2], np.float32)
    x = mcd.LogisticNormal(mc.tensor(loc), mc.tensor(scale)).sample((20000,))
    assert tuple(x.shape) == (20000, 3) and np.allclose(x.sum(-1).numpy(), 1, atol=1e-5)
    back = td.StickBreakingTransform().inv(torch.tensor(x.numpy())).numpy()
    fc.check_moments(back, loc, scale ** 2)


def test_rsample_gradients_through_transforms():
    """rsample = f(base rsample): LogNormal's draw is exp(loc + scale * eps), so d/dloc = x, d/dscale = x * eps."""
    loc, scale = mc.tensor(LOC, requires_grad=True), mc.tensor(SCALE, requires_grad=True)
    x = mcd.LogNormal(loc, scale).rsample((4,))
    x.sum().backward()
    xd = x.detach().numpy()
    eps = (np.log(xd) - LOC) / SCALE
    np.testing.assert_allclose(loc.grad.numpy(), xd.sum(0), rtol=1e-4)
    np.testing.assert_allclose(scale.grad.numpy(), (xd * eps).sum(0), rtol=1e-3, atol=1e-4)
    s = mc.tensor(SCALE, requires_grad=True)
    h = mcd.HalfNormal(s).rsample((3,))
    h.sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), (h.detach().numpy() / SCALE).sum(0), rtol=1e-4)
    assert mcd.Gumbel(0.0, 1.0).has_rsample == td.Gumbel(0.0, 1.0).has_rsample  # True: the base Uniform has it


def test_cached_transform_returns_the_same_object():
    """With cache_size=1 the inverse of a value the transform produced is the original input object (torch's)."""
    t = mcd.ExpTransform().with_cache(1)
    x = mc.tensor([0.5, -1.0])
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    d = mcd.TransformedDistribution(mcd.Normal(0.0, 1.0), [mcd.ExpTransform().with_cache(1)])
    s = d.rsample((3,))
    assert_same(d.log_prob(s), td.TransformedDistribution(td.Normal(0.0, 1.0), [td.ExpTransform()]).log_prob(
        torch.tensor(s.numpy())), rtol=1e-5, atol=1e-5)
    assert math.isfinite(float(d.log_prob(s).sum()))
