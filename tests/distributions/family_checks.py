"""Shared checks for the distribution-family test files: each family test module declares CASES (name -> builder
over a distributions module and parameter tensors, the parameters as numpy arrays, a value in the support) and
BAD (invalid constructions / arguments), and runs these checks against torch.distributions on the same inputs."""
import numpy as np

import mlx_compat.distributions as mcd
from helpers import assert_same, mc, torch

td = torch.distributions
rng = np.random.default_rng(1)


def f32(*shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape).astype(np.float32)


def build(cases, name, grad=False):
    """(torch distribution, mlx_compat distribution, torch params, mlx_compat params) of cases[name]."""
    builder, params, _ = cases[name]
    tp = {k: torch.tensor(v, requires_grad=grad) for k, v in params.items()}
    mp = {k: mc.tensor(v, requires_grad=grad) for k, v in params.items()}
    return builder(td, tp), builder(mcd, mp), tp, mp


def value(cases, name):
    v = cases[name][2]
    return torch.tensor(v), mc.tensor(v)


def outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return None, e


def compare(t_fn, m_fn, rtol=1e-5, atol=1e-6):
    """Both raise the same exception type and message, or give the same tensor."""
    (rt, et), (rm, em) = outcome(t_fn), outcome(m_fn)
    if et is not None:
        assert type(em) is type(et), f"ours: {em!r}; torch raised {et!r}"
        assert str(em).replace("mlx_compat.", "torch.") == str(et)
        return
    assert em is None, f"ours raised {em!r}; torch gave {rt}"
    assert_same(rm, rt, rtol=rtol, atol=atol)


def _unit(v):
    return v.sigmoid() if v.is_floating_point() else v


QUANTITIES = {
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
    "entropy": lambda d, v: d.entropy(),
    "perplexity": lambda d, v: d.perplexity(),
    "log_prob": lambda d, v: d.log_prob(v),
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(_unit(v)),
    "enumerate_support": lambda d, v: d.enumerate_support(),
    "enumerate_support(expand=False)": lambda d, v: d.enumerate_support(expand=False),
}
GRAD_QUANTITIES = ["log_prob", "entropy", "mean", "variance", "mode", "cdf", "icdf"]


def check_values(cases, name, qty):
    dt, dm, _, _ = build(cases, name)
    vt, vm = value(cases, name)
    compare(lambda: QUANTITIES[qty](dt, vt), lambda: QUANTITIES[qty](dm, vm))


def check_gradients(cases, name, qty, rtol=1e-5, atol=1e-6):
    """The gradient of a weighted sum of the quantity w.r.t. every parameter equals torch's (or both raise)."""
    dt, dm, tp, mp = build(cases, name, grad=True)
    vt, vm = value(cases, name)
    rt, et = outcome(lambda: QUANTITIES[qty](dt, vt))
    if et is not None:
        return  # the value test compares the error
    rm = QUANTITIES[qty](dm, vm)
    if not rt.requires_grad:
        assert not rm.requires_grad
        return
    weights = rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    finite = torch.isfinite(rt).numpy()
    wt, wm = torch.tensor(weights * finite), mc.tensor(weights * finite)
    _, terr = outcome(lambda: (torch.where(torch.isfinite(rt), rt, 0.0) * wt).sum().backward())
    _, err = outcome(lambda: (mc.where(mc.isfinite(rm), rm, 0.0) * wm).sum().backward())
    if terr is not None:
        assert type(err) is type(terr) and str(err) == str(terr), (err, terr)
        return
    if err is not None:
        tgrads = [tp[k].grad for k in tp]
        raise AssertionError(f"ours raised {err!r} in backward; torch's gradients {tgrads}")
    for k in tp:
        if tp[k].grad is None:
            assert mp[k].grad is None or not mp[k].grad.abs().sum().item(), k
        else:
            assert mp[k].grad is not None, k
            scale = float(tp[k].grad.abs().max()) if tp[k].grad.numel() else 0.0
            assert_same(mp[k].grad, tp[k].grad, rtol=rtol, atol=max(atol, rtol * scale))  # rtol normwise too


def check_shapes_and_samples(cases, name, sample_shape):
    dt, dm, _, _ = build(cases, name)
    assert dm.batch_shape == dt.batch_shape and dm.event_shape == dt.event_shape
    assert isinstance(dm.batch_shape, mc.Size) and isinstance(dm.event_shape, mc.Size)
    assert dm.has_rsample == dt.has_rsample and dm.has_enumerate_support == dt.has_enumerate_support
    assert dm._extended_shape(sample_shape) == dt._extended_shape(sample_shape)
    st, sm = dt.sample(sample_shape), dm.sample(sample_shape)
    assert tuple(sm.shape) == tuple(st.shape) and str(sm.dtype) == str(st.dtype)
    assert not sm.requires_grad
    assert bool(dm.support.check(sm).all())
    if dt.has_rsample:
        rm = dm.rsample(sample_shape)
        assert tuple(rm.shape) == tuple(dt.rsample(sample_shape).shape) and str(rm.dtype) == str(st.dtype)
        assert bool(dm.support.check(rm).all())


def check_expand(cases, name):
    dt, dm, _, _ = build(cases, name)
    shape = (2,) + tuple(dt.batch_shape)
    et, em = dt.expand(shape), dm.expand(mc.Size(shape))
    assert type(em) is type(dm)
    assert em.batch_shape == et.batch_shape and em.event_shape == et.event_shape
    assert tuple(em.sample().shape) == tuple(et.sample().shape)
    vt, vm = value(cases, name)
    compare(lambda: et.log_prob(vt), lambda: em.log_prob(vm))
    compare(lambda: et.entropy(), lambda: em.entropy())
    compare(lambda: et.mean, lambda: em.mean)


def check_repr_and_constraints(cases, name):
    dt, dm, _, _ = build(cases, name)
    assert repr(dm) == repr(dt)
    assert repr(dm.support) == repr(dt.support)
    assert {k: repr(c) for k, c in dm.arg_constraints.items()} == {k: repr(c) for k, c in dt.arg_constraints.items()}
    assert dm.support.is_discrete == dt.support.is_discrete and dm.support.event_dim == dt.support.event_dim


def check_error(bad, name):
    compare(lambda: bad[name](td, torch), lambda: bad[name](mcd, mc))


def check_validation_off(bad, name):
    """validate_args off by the class default: the same constructions succeed or fail as torch's."""
    mcd.Distribution.set_default_validate_args(False)
    td.Distribution.set_default_validate_args(False)
    try:
        (rt, et), (rm, em) = outcome(lambda: bad[name](td, torch)), outcome(lambda: bad[name](mcd, mc))
    finally:
        mcd.Distribution.set_default_validate_args(True)
        td.Distribution.set_default_validate_args(True)
    assert (et is None) == (em is None), (et, em)
    if et is not None:
        assert type(em) is type(et) and str(em).replace("mlx_compat.", "torch.") == str(et)


def ks_statistic(u):
    """The Kolmogorov-Smirnov distance of the values u (probability integral transforms) from Uniform(0, 1)."""
    u = np.sort(np.asarray(u, dtype=np.float64).ravel())
    n = len(u)
    grid = np.arange(1, n + 1) / n
    return max(np.max(grid - u), np.max(u - (grid - 1 / n)))


def ks_bound(n):
    """The KS distance Uniform samples of size n stay under with probability 0.999."""
    return 1.95 / np.sqrt(n)


def check_moments(x, mean, var, axis=0, k=5.0):
    """The sample mean and variance of x along axis lie within k standard errors of mean and var (standard errors
    from the sample's own fourth central moment)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    m = x.mean(axis)
    v = x.var(axis, ddof=1)
    m4 = ((x - m) ** 4).mean(axis)
    se_mean = np.sqrt(np.asarray(var) / n)
    se_var = np.sqrt(np.maximum(m4 - v ** 2, 1e-30) / n)
    assert np.all(np.abs(m - mean) <= k * se_mean), (m, mean, se_mean)
    assert np.all(np.abs(v - var) <= k * se_var), (v, var, se_var)
