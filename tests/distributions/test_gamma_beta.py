"""Gamma, Chi2, Beta, Dirichlet and StudentT against torch.distributions: log_prob, entropy, moments, mode, cdf and
their gradients; shapes, expand, repr, validation; the gamma sampler's distribution (Kolmogorov-Smirnov against
torch's gamma cdf); and the reparameterised gradients of rsample against torch's `_standard_gamma_grad` /
`_Dirichlet_backward` on the same sample values, and against finite differences of the exact gamma cdf."""
import math

import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import f32, td
from helpers import assert_same, mc, torch

CONC = f32(2, 3, low=0.2, high=4.0)
RATE = f32(2, 3, low=0.5, high=2.0)
CONC_VEC = f32(2, 4, low=0.3, high=3.0)
DF = np.array([0.7, 1.5, 3.0, 8.0], np.float32)

CASES = {
    "Gamma": (lambda D, p: D.Gamma(p["a"], p["r"]), {"a": CONC, "r": RATE}, f32(3, 2, 3, low=0.05, high=4.0)),
    "Gamma scalar": (lambda D, p: D.Gamma(2.5, 0.5), {}, np.float32(1.7)),
    "Gamma broadcast": (lambda D, p: D.Gamma(p["a"], 2.0), {"a": CONC[0]}, f32(3, low=0.1, high=3)),
    "Chi2": (lambda D, p: D.Chi2(p["df"]), {"df": DF}, f32(2, 4, low=0.1, high=6)),
    "Beta": (lambda D, p: D.Beta(p["a"], p["b"]), {"a": CONC, "b": RATE}, f32(2, 3, low=0.02, high=0.98)),
    "Beta scalar": (lambda D, p: D.Beta(0.5, 2.0), {}, np.float32(0.3)),
    "Beta small": (lambda D, p: D.Beta(p["a"], p["b"]),
                   {"a": f32(4, low=0.1, high=0.9), "b": f32(4, low=0.1, high=0.9)}, f32(4, low=0.05, high=0.95)),
    "Dirichlet": (lambda D, p: D.Dirichlet(p["c"]), {"c": CONC_VEC},
                  np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]], np.float32)),
    "Dirichlet 1-d": (lambda D, p: D.Dirichlet(p["c"]), {"c": np.array([2.0, 3.0, 1.5], np.float32)},
                      np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], np.float32)),
    "Dirichlet all < 1": (lambda D, p: D.Dirichlet(p["c"]), {"c": np.array([[0.5, 0.9, 0.3], [1.5, 0.5, 2.0]],
                                                                             np.float32)},
                          np.array([0.2, 0.5, 0.3], np.float32)),
    "StudentT": (lambda D, p: D.StudentT(p["df"], p["loc"], p["scale"]),
                 {"df": DF, "loc": f32(4), "scale": f32(4, low=0.5, high=2)}, f32(3, 4, low=-3, high=3)),
    "StudentT df only": (lambda D, p: D.StudentT(p["df"]), {"df": DF}, f32(4, low=-3, high=3)),
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


def test_derived_parameters():
    for make in (lambda D, L: D.Chi2(L.tensor(DF)), lambda D, L: D.Beta(L.tensor(CONC), L.tensor(RATE))):
        dt, dm = make(td, torch), make(mcd, mc)
        for name in ("df", "concentration", "rate", "concentration1", "concentration0"):
            if hasattr(dt, name):
                assert_same(getattr(dm, name), getattr(dt, name))
    assert_same(mcd.Beta(0.5, 2.0).concentration1, td.Beta(0.5, 2.0).concentration1)
    assert isinstance(mcd.Chi2(2.0), mcd.Gamma) and isinstance(mcd.Beta(1.0, 1.0), mcd.ExponentialFamily)


BAD = {
    "Gamma negative concentration": lambda D, L: D.Gamma(L.tensor([1.0, -1.0]), L.tensor([1.0, 1.0])),
    "Gamma zero rate": lambda D, L: D.Gamma(L.tensor([1.0]), L.tensor([0.0])),
    "Gamma log_prob negative": lambda D, L: D.Gamma(L.tensor([1.0]), L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "Gamma cdf negative": lambda D, L: D.Gamma(L.tensor([1.0]), L.tensor([1.0])).cdf(L.tensor([-1.0])),
    "Gamma icdf": lambda D, L: D.Gamma(L.tensor([1.0]), L.tensor([1.0])).icdf(L.tensor([0.5])),
    "Chi2 negative df": lambda D, L: D.Chi2(L.tensor([-2.0])),
    "Beta zero": lambda D, L: D.Beta(L.tensor([0.0]), L.tensor([1.0])),
    "Beta log_prob outside": lambda D, L: D.Beta(L.tensor([2.0]), L.tensor([2.0])).log_prob(L.tensor([1.5])),
    "Beta cdf": lambda D, L: D.Beta(L.tensor([2.0]), L.tensor([2.0])).cdf(L.tensor([0.5])),
    "Dirichlet 0-d": lambda D, L: D.Dirichlet(L.tensor(1.0)),
    "Dirichlet negative": lambda D, L: D.Dirichlet(L.tensor([1.0, -0.5])),
    "Dirichlet not simplex": lambda D, L: D.Dirichlet(L.tensor([1.0, 2.0])).log_prob(L.tensor([0.5, 0.6])),
    "Dirichlet event shape": lambda D, L: D.Dirichlet(L.tensor([1.0, 2.0])).log_prob(L.tensor([0.2, 0.3, 0.5])),
    "StudentT negative df": lambda D, L: D.StudentT(L.tensor([-1.0])),
    "StudentT negative scale": lambda D, L: D.StudentT(L.tensor([1.0]), 0.0, L.tensor([-1.0])),
    "StudentT cdf": lambda D, L: D.StudentT(L.tensor([3.0])).cdf(L.tensor([0.5])),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    fc.check_error(BAD, name)


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    fc.check_validation_off(BAD, name)


# --- the sampler ---

@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0, 2.5, 12.0, 200.0])
def test_gamma_sampler_distribution(alpha):
    """Draws of Gamma(alpha, rate) put through torch's exact gamma cdf are uniform (KS distance at p = 0.001)."""
    mc.manual_seed(int(alpha * 100))
    n = 20000
    rate = 1.7
    x = mcd.Gamma(mc.full((n,), alpha), mc.full((n,), rate)).sample()
    assert x.dtype == mc.float32 and bool((x > 0).all())
    u = torch.special.gammainc(torch.tensor(alpha, dtype=torch.float64), torch.tensor(x.numpy(), dtype=torch.float64)
                               * rate)
    assert fc.ks_statistic(u.numpy()) < fc.ks_bound(n)


def test_gamma_sampler_float64_and_zero():
    mc.manual_seed(0)
    x = mcd.Gamma(mc.tensor([0.5, 3.0], dtype=mc.float64), 1.0).sample((5000,))
    assert x.dtype == mc.float64
    fc.check_moments(x.numpy(), [0.5, 3.0], [0.5, 3.0])
    from mlx_compat.distributions._standard_gamma import sample_standard_gamma
    assert sample_standard_gamma(mc.tensor([0.0, 1.0]))[0].item() == 0.0  # torch's _standard_gamma(0) is 0


def test_sample_statistics():
    mc.manual_seed(1)
    n = 40000
    a, b = np.array([0.4, 2.0, 7.0], np.float32), np.array([1.5, 0.6, 3.0], np.float32)
    x = mcd.Beta(mc.tensor(a), mc.tensor(b)).sample((n,)).numpy()
    t = td.Beta(torch.tensor(a), torch.tensor(b))
    fc.check_moments(x, t.mean.numpy(), t.variance.numpy())
    c = np.array([0.3, 1.0, 4.0], np.float32)
    x = mcd.Dirichlet(mc.tensor(c)).rsample((n,)).numpy()
    assert np.allclose(x.sum(-1), 1, atol=1e-5)
    t = td.Dirichlet(torch.tensor(c))
    fc.check_moments(x, t.mean.numpy(), t.variance.numpy())
    df = np.array([5.0, 30.0], np.float32)
    x = mcd.StudentT(mc.tensor(df), mc.tensor([1.0, -2.0]), mc.tensor([2.0, 0.5])).rsample((n,)).numpy()
    t = td.StudentT(torch.tensor(df), torch.tensor([1.0, -2.0]), torch.tensor([2.0, 0.5]))
    fc.check_moments(x, t.mean.numpy(), t.variance.numpy())
    x = mcd.Chi2(mc.tensor([1.0, 4.0])).sample((n,)).numpy()
    fc.check_moments(x, [1.0, 4.0], [2.0, 8.0])


# --- reparameterised gradients ---

def test_gamma_rsample_gradient_matches_torch():
    """d sample / d (concentration, rate) equals torch's derivative of _standard_gamma(conc) / rate at the same
    standard-gamma values: _standard_gamma_grad(conc, x / ...) for conc, -sample / rate for rate."""
    mc.manual_seed(2)
    conc = np.array([0.05, 0.3, 0.9, 1.0, 3.0, 7.9, 8.5, 30.0, 150.0], np.float32)
    rate = np.full_like(conc, 1.3)
    a, r = mc.tensor(conc, requires_grad=True), mc.tensor(rate, requires_grad=True)
    x = mcd.Gamma(a, r).rsample((200,))
    w = fc.rng.standard_normal(tuple(x.shape)).astype(np.float32)
    (x * mc.tensor(w)).sum().backward()
    std = torch.tensor(x.detach().numpy() * rate)  # the standard gamma draws
    ta = torch.tensor(conc).expand_as(std)
    expected_a = (torch.tensor(w) * torch._standard_gamma_grad(ta, std) / torch.tensor(rate)).sum(0)
    expected_r = (torch.tensor(w) * -torch.tensor(x.detach().numpy()) / torch.tensor(rate)).sum(0)
    assert_same(a.grad, expected_a, rtol=1e-4, atol=1e-5)
    assert_same(r.grad, expected_r, rtol=1e-5, atol=1e-5)


def test_standard_gamma_grad_matches_torch_pointwise():
    """The gradient kernel equals torch's _standard_gamma_grad over a grid covering all of its branches."""
    from mlx_compat.distributions._standard_gamma import standard_gamma_grad
    alpha = np.geomspace(0.02, 500, 40).astype(np.float32)
    quantiles = np.array([1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999])
    x = torch.special.gammaincinv if hasattr(torch.special, "gammaincinv") else None
    grid_a, grid_x = [], []
    for al in alpha:  # x at gamma quantiles, found by bisection on torch's cdf in float64
        lo = torch.zeros(len(quantiles), dtype=torch.float64)
        hi = torch.full((len(quantiles),), float(al) * 10 + 50, dtype=torch.float64)
        for _ in range(200):
            mid = (lo + hi) / 2
            below = torch.special.gammainc(torch.tensor(float(al), dtype=torch.float64), mid) < torch.tensor(quantiles)
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        grid_a.append(np.full(len(quantiles), al))
        grid_x.append(((lo + hi) / 2).numpy())
    del x
    ga = np.concatenate(grid_a).astype(np.float32)
    gx = np.maximum(np.concatenate(grid_x), 1e-30).astype(np.float32)
    ours = standard_gamma_grad(mc.tensor(ga), mc.tensor(gx))
    theirs = torch._standard_gamma_grad(torch.tensor(ga), torch.tensor(gx))
    assert_same(ours, theirs, rtol=1e-4, atol=1e-6)


def test_gamma_rsample_gradient_is_the_implicit_derivative():
    """Independently of torch's approximations: d x / d alpha = -(dF/d alpha) / f, F the gamma cdf, from central
    differences of torch's float64 gammainc; torch's own approximation is good to about 1e-3 here."""
    mc.manual_seed(3)
    alpha = np.array([0.5, 2.0, 6.0, 20.0], np.float64)
    a = mc.tensor(alpha.astype(np.float32), requires_grad=True)
    x = mcd.Gamma(a, 1.0).rsample((50,))
    x.sum().backward()
    xs = torch.tensor(x.detach().numpy(), dtype=torch.float64)
    at = torch.tensor(alpha).expand_as(xs)
    h = 1e-6
    dF = (torch.special.gammainc(at + h, xs) - torch.special.gammainc(at - h, xs)) / (2 * h)
    pdf = torch.exp((at - 1) * xs.log() - xs - torch.lgamma(at))
    exact = (-dF / pdf).sum(0).numpy()
    np.testing.assert_allclose(a.grad.numpy(), exact, rtol=5e-3)


@pytest.mark.parametrize("conc", [[0.3, 0.5], [2.0, 3.0, 0.7], [8.0, 9.0, 10.0], [1.0, 50.0], [0.05, 0.1, 20.0]])
def test_dirichlet_rsample_gradient_matches_torch(conc):
    """Dirichlet.rsample's backward equals torch's _Dirichlet_backward on the same draws."""
    mc.manual_seed(4)
    c = np.array(conc, np.float32)
    cm = mc.tensor(c, requires_grad=True)
    x = mcd.Dirichlet(cm).rsample((300,))
    w = fc.rng.standard_normal(tuple(x.shape)).astype(np.float32)
    (x * mc.tensor(w)).sum().backward()
    from torch.distributions.dirichlet import _Dirichlet_backward
    xt = torch.tensor(x.detach().numpy())
    expected = _Dirichlet_backward(xt, torch.tensor(c).expand_as(xt), torch.tensor(w)).sum(0)
    assert_same(cm.grad, expected, rtol=1e-4, atol=1e-4)


def test_beta_rsample_gradient_matches_torch():
    mc.manual_seed(5)
    a, b = np.array([0.5, 2.0, 9.0], np.float32), np.array([3.0, 0.4, 12.0], np.float32)
    am, bm = mc.tensor(a, requires_grad=True), mc.tensor(b, requires_grad=True)
    x = mcd.Beta(am, bm).rsample((400,))
    x.sum().backward()
    xt = torch.tensor(x.detach().numpy())
    from torch.distributions.dirichlet import _Dirichlet_backward
    both = torch.stack([xt, 1 - xt], -1)
    conc = torch.stack([torch.tensor(a), torch.tensor(b)], -1).expand_as(both)
    g = torch.stack([torch.ones_like(xt), torch.zeros_like(xt)], -1)
    expected = _Dirichlet_backward(both, conc, g).sum(0)
    assert_same(am.grad, expected[:, 0], rtol=1e-4, atol=1e-4)
    assert_same(bm.grad, expected[:, 1], rtol=1e-4, atol=1e-4)


def test_studentt_rsample_gradient_in_loc_and_scale():
    mc.manual_seed(6)
    loc, scale = mc.tensor([0.5, -1.0], requires_grad=True), mc.tensor([2.0, 0.5], requires_grad=True)
    df = mc.tensor([4.0, 10.0], requires_grad=True)
    x = mcd.StudentT(df, loc, scale).rsample((100,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [100, 100], rtol=1e-6)
    standard = ((x.detach() - loc.detach()) / scale.detach()).sum(0).numpy()
    np.testing.assert_allclose(scale.grad.numpy(), standard, rtol=1e-4, atol=1e-4)
    assert df.grad is not None and bool(mc.isfinite(df.grad).all())


def test_sample_has_no_grad_and_rsample_does():
    a = mc.tensor([1.5, 2.0], requires_grad=True)
    for d in (mcd.Gamma(a, 1.0), mcd.Beta(a, a), mcd.Dirichlet(a), mcd.Chi2(a), mcd.StudentT(a)):
        assert not d.sample().requires_grad
        assert d.rsample().requires_grad


def test_gamma_rsample_clamped_to_tiny():
    """torch clamps rsample draws to the dtype's smallest normal number (tiny concentrations underflow)."""
    mc.manual_seed(7)
    x = mcd.Gamma(mc.full((2000,), 0.01), 1.0).rsample()
    assert float(x.min()) >= mc.finfo(mc.float32).tiny
    assert math.isfinite(float(mcd.Gamma(0.01, 1.0).log_prob(x).sum()))
