"""mlx_compat.distributions against torch.distributions on the same parameters and values: log_prob, entropy,
moments, cdf / icdf and their gradients w.r.t. the parameters; batch / event / sample shapes; expand; repr;
argument and sample validation (type and message); kl_divergence and its dispatch; constraints; and, since the
random streams differ, sampling by shape, dtype, support and the statistics of many draws."""
import math

import numpy as np
import pytest

import mlx_compat.distributions as mcd
from helpers import assert_same, mc, torch

td = torch.distributions
_rng = np.random.default_rng(0)


def _f32(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape).astype(np.float32)


LOC, SCALE = _f32(2, 3), _f32(2, 3, low=0.5, high=2.0)
PROBS, LOGITS = _f32(4, low=0.05, high=0.95), _f32(4, low=-3, high=3)
CAT_PROBS, CAT_LOGITS = _f32(2, 5, low=0.1, high=1.0), _f32(2, 5, low=-2, high=2)
LOW = _f32(3, low=-2, high=0)
_A = _f32(2, 3, 3)
COV = _A @ _A.transpose(0, 2, 1) + np.eye(3, dtype=np.float32)
TRIL = np.tril(_f32(3, 3)) + 2 * np.eye(3, dtype=np.float32)
HIGH = LOW + _f32(3, low=0.5, high=2)

# name -> (builder(D, p) with D the distributions module and p the parameter tensors, parameters, a value in support)
CASES = {
    "Normal": (lambda D, p: D.Normal(p["loc"], p["scale"]), {"loc": LOC, "scale": SCALE},
               _f32(4, 2, 3, low=-3, high=3)),
    "Normal scalar": (lambda D, p: D.Normal(0.5, 2.0), {}, np.float32(0.3)),
    "Normal broadcast": (lambda D, p: D.Normal(p["loc"], 1.5), {"loc": LOC}, _f32(2, 3)),
    "Bernoulli probs": (lambda D, p: D.Bernoulli(probs=p["probs"]), {"probs": PROBS},
                        np.array([0, 1, 1, 0], np.float32)),
    "Bernoulli logits": (lambda D, p: D.Bernoulli(logits=p["logits"]), {"logits": LOGITS},
                         np.array([[0, 1, 1, 0], [1, 1, 0, 0]], np.float32)),
    "Bernoulli scalar": (lambda D, p: D.Bernoulli(0.3), {}, np.float32(1.0)),
    "Categorical probs": (lambda D, p: D.Categorical(probs=p["probs"]), {"probs": CAT_PROBS},
                          np.array([[0, 4], [3, 1], [2, 2]], np.int64)),
    "Categorical logits": (lambda D, p: D.Categorical(logits=p["logits"]), {"logits": CAT_LOGITS},
                           np.array([1, 3], np.int64)),
    "Categorical 1d": (lambda D, p: D.Categorical(logits=p["logits"]), {"logits": CAT_LOGITS[0]},
                       np.array(2, np.int64)),
    "Uniform": (lambda D, p: D.Uniform(p["low"], p["high"]), {"low": LOW, "high": HIGH}, (LOW + HIGH) / 2),
    "Uniform scalar": (lambda D, p: D.Uniform(-1.0, 3.0), {}, np.float32(0.5)),
    "Independent Normal": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1), {"loc": LOC, "scale": SCALE},
                           _f32(5, 2, 3)),
    "Independent Normal 2": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 2),
                             {"loc": LOC, "scale": SCALE}, _f32(2, 3)),
    "Independent Bernoulli": (lambda D, p: D.Independent(D.Bernoulli(logits=p["logits"]), 1), {"logits": LOGITS},
                              np.array([0, 1, 1, 1], np.float32)),
    "Exponential": (lambda D, p: D.Exponential(p["rate"]), {"rate": SCALE}, _f32(2, 3, low=0, high=3)),
    "Exponential scalar": (lambda D, p: D.Exponential(2.0), {}, np.float32(0.7)),
    "Laplace": (lambda D, p: D.Laplace(p["loc"], p["scale"]), {"loc": LOC, "scale": SCALE},
                _f32(3, 2, 3, low=-3, high=3)),
    "MVN covariance": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                       {"loc": LOC, "cov": COV}, _f32(4, 2, 3)),
    "MVN precision": (lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["cov"]),
                      {"loc": LOC[0], "cov": COV}, _f32(3)),
    "MVN scale_tril": (lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["tril"]),
                       {"loc": LOC, "tril": TRIL}, _f32(5, 1, 3)),
    "OneHotCategorical probs": (lambda D, p: D.OneHotCategorical(probs=p["probs"]), {"probs": CAT_PROBS},
                                np.eye(5, dtype=np.float32)[[1, 4]]),
    "OneHotCategorical logits": (lambda D, p: D.OneHotCategorical(logits=p["logits"]), {"logits": CAT_LOGITS},
                                 np.eye(5, dtype=np.float32)[[[0, 2], [3, 3]]]),
}


def _build(name, grad=False):
    """(torch distribution, mlx_compat distribution, torch params, mlx_compat params) of case `name`."""
    builder, params, _ = CASES[name]
    tp = {k: torch.tensor(v, requires_grad=grad) for k, v in params.items()}
    mp = {k: mc.tensor(v, requires_grad=grad) for k, v in params.items()}
    return builder(td, tp), builder(mcd, mp), tp, mp


def _value(name):
    v = CASES[name][2]
    return torch.tensor(v), mc.tensor(v)


def _outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return None, e


def _compare(t_fn, m_fn):
    """Both raise the same exception type and message, or give the same tensor."""
    (rt, et), (rm, em) = _outcome(t_fn), _outcome(m_fn)
    if et is not None:
        assert type(em) is type(et), f"ours: {em!r}; torch raised {et!r}"
        assert str(em).replace("mlx_compat.", "torch.") == str(et)
        return
    assert em is None, f"ours raised {em!r}; torch gave {rt}"
    assert_same(rm, rt, rtol=1e-5, atol=1e-6)


QUANTITIES = {
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
    "entropy": lambda d, v: d.entropy(),
    "perplexity": lambda d, v: d.perplexity(),
    "log_prob": lambda d, v: d.log_prob(v),
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(v.sigmoid() if v.is_floating_point() else v),
    "enumerate_support": lambda d, v: d.enumerate_support(),
    "enumerate_support(expand=False)": lambda d, v: d.enumerate_support(expand=False),
}


@pytest.mark.parametrize("qty", QUANTITIES)
@pytest.mark.parametrize("name", CASES)
def test_values(name, qty):
    dt, dm, _, _ = _build(name)
    vt, vm = _value(name)
    _compare(lambda: QUANTITIES[qty](dt, vt), lambda: QUANTITIES[qty](dm, vm))


@pytest.mark.parametrize("qty", ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"])
@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][1]])
def test_gradients(name, qty):
    dt, dm, tp, mp = _build(name, grad=True)
    vt, vm = _value(name)
    try:
        rt = QUANTITIES[qty](dt, vt)
    except NotImplementedError:
        pytest.skip(f"torch's {name} has no {qty}")
    rm = QUANTITIES[qty](dm, vm)
    if not rt.requires_grad:
        assert not rm.requires_grad
        return
    weights = _rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    rt = rt.nan_to_num(0.0)
    rm = rm.nan_to_num(0.0)
    (rt * torch.tensor(weights)).sum().backward()
    (rm * mc.tensor(weights)).sum().backward()
    for k in tp:
        if tp[k].grad is None:
            assert mp[k].grad is None or not mp[k].grad.abs().sum().item()
        else:
            assert_same(mp[k].grad, tp[k].grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("sample_shape", [(), (1,), (3,), (2, 4)])
@pytest.mark.parametrize("name", CASES)
def test_shapes_and_samples(name, sample_shape):
    dt, dm, _, _ = _build(name)
    assert dm.batch_shape == dt.batch_shape and dm.event_shape == dt.event_shape
    assert isinstance(dm.batch_shape, mc.Size) and isinstance(dm.event_shape, mc.Size)
    assert dm.has_rsample == dt.has_rsample and dm.has_enumerate_support == dt.has_enumerate_support
    assert dm._extended_shape(sample_shape) == dt._extended_shape(sample_shape)
    st = dt.sample(sample_shape)
    sm = dm.sample(sample_shape)
    assert tuple(sm.shape) == tuple(st.shape) and str(sm.dtype) == str(st.dtype)
    assert not sm.requires_grad
    assert bool(dm.support.check(sm).all())
    if dt.has_rsample:
        rm = dm.rsample(sample_shape)
        assert tuple(rm.shape) == tuple(dt.rsample(sample_shape).shape)
        assert bool(dm.support.check(rm).all())


@pytest.mark.parametrize("name", CASES)
def test_expand(name):
    dt, dm, _, _ = _build(name)
    shape = (2,) + tuple(dt.batch_shape)
    et, em = dt.expand(shape), dm.expand(mc.Size(shape))
    assert type(em) is type(dm)
    assert em.batch_shape == et.batch_shape and em.event_shape == et.event_shape
    assert tuple(em.sample().shape) == tuple(et.sample().shape)
    vt, vm = _value(name)
    _compare(lambda: et.log_prob(vt), lambda: em.log_prob(vm))
    _compare(lambda: et.entropy(), lambda: em.entropy())


@pytest.mark.parametrize("name", CASES)
def test_repr(name):
    dt, dm, _, _ = _build(name)
    assert repr(dm) == repr(dt)
    dt.mean, dm.mean  # noqa: B018 - may build the lazily derived parameter, which repr then shows
    assert repr(dm) == repr(dt)


def test_support_and_arg_constraints_repr():
    for name in CASES:
        dt, dm, _, _ = _build(name)
        assert repr(dm.support) == repr(dt.support), name
        ours, theirs = dm.arg_constraints, dt.arg_constraints
        assert {k: repr(c) for k, c in ours.items()} == {k: repr(c) for k, c in theirs.items()}


BAD = {
    "Normal negative scale": lambda D, L: D.Normal(L.tensor([0.0, 1.0]), L.tensor([1.0, -1.0])),
    "Normal nan loc": lambda D, L: D.Normal(L.tensor([math.nan]), L.tensor([1.0])),
    "Bernoulli probs > 1": lambda D, L: D.Bernoulli(probs=L.tensor([0.2, 1.5])),
    "Bernoulli both": lambda D, L: D.Bernoulli(probs=L.tensor([0.2]), logits=L.tensor([0.1])),
    "Bernoulli neither": lambda D, L: D.Bernoulli(),
    "Categorical negative": lambda D, L: D.Categorical(probs=L.tensor([0.5, -0.1, 0.6])),
    "Categorical 0-d": lambda D, L: D.Categorical(probs=L.tensor(1.0)),
    "Categorical 0-d logits": lambda D, L: D.Categorical(logits=L.tensor(1.0)),
    "Categorical both": lambda D, L: D.Categorical(probs=L.tensor([1.0]), logits=L.tensor([1.0])),
    "Uniform low > high": lambda D, L: D.Uniform(L.tensor([0.0, 2.0]), L.tensor([1.0, 1.0])),
    "Independent too many": lambda D, L: D.Independent(D.Normal(L.zeros(3), L.ones(3)), 2),
    "Normal log_prob not tensor": lambda D, L: D.Normal(L.zeros(3), L.ones(3)).log_prob(1.0),
    "Normal log_prob bad shape": lambda D, L: D.Normal(L.zeros(3), L.ones(3)).log_prob(L.zeros(2)),
    "Normal log_prob nan": lambda D, L: D.Normal(L.zeros(2), L.ones(2)).log_prob(L.tensor([0.0, math.nan])),
    "Bernoulli log_prob 0.5": lambda D, L: D.Bernoulli(L.tensor([0.3, 0.6])).log_prob(L.tensor([0.5, 1.0])),
    "Categorical log_prob 5": lambda D, L: D.Categorical(logits=L.zeros(2, 5)).log_prob(L.tensor([1, 5])),
    "Uniform log_prob outside": lambda D, L: D.Uniform(0.0, 1.0).log_prob(L.tensor(2.0)),
    "Uniform cdf outside": lambda D, L: D.Uniform(0.0, 1.0).cdf(L.tensor(-1.0)),
    "OneHot log_prob not one-hot": lambda D, L: D.OneHotCategorical(L.ones(3)).log_prob(L.tensor([1.0, 1.0, 0.0])),
    "OneHot event shape": lambda D, L: D.OneHotCategorical(L.ones(3)).log_prob(L.tensor([1.0, 0.0])),
    "Independent log_prob nan": lambda D, L: D.Independent(D.Normal(L.zeros(2), L.ones(2)), 1).log_prob(
        L.tensor([0.0, math.nan])),
    "Independent support enumerate": lambda D, L: D.Independent(D.Bernoulli(L.ones(2) / 2), 1).enumerate_support(),
    "mode not implemented": lambda D, L: D.Distribution(validate_args=False).mode,
    "Exponential negative rate": lambda D, L: D.Exponential(L.tensor([-1.0])),
    "Exponential log_prob < 0": lambda D, L: D.Exponential(L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "MVN two matrices": lambda D, L: D.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2)),
    "MVN 0-d loc": lambda D, L: D.MultivariateNormal(L.tensor(0.0), L.eye(2)),
    "MVN 1-d matrix": lambda D, L: D.MultivariateNormal(L.zeros(2), scale_tril=L.ones(2)),
    "MVN 1-d precision": lambda D, L: D.MultivariateNormal(L.zeros(2), precision_matrix=L.ones(2)),
    "MVN not positive definite": lambda D, L: D.MultivariateNormal(L.zeros(2), L.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "MVN scale_tril not lower": lambda D, L: D.MultivariateNormal(L.zeros(2), scale_tril=L.ones(2, 2)),
    "set_default_validate_args": lambda D, L: D.Distribution.set_default_validate_args(1.5),
}


@pytest.mark.parametrize("name", BAD)
def test_errors(name):
    _compare(lambda: BAD[name](td, torch), lambda: BAD[name](mcd, mc))


@pytest.mark.parametrize("name", BAD)
def test_validation_off(name):
    """validate_args=False (per instance, and by the class default) skips the checks as torch's does."""
    mcd.Distribution.set_default_validate_args(False)
    td.Distribution.set_default_validate_args(False)
    try:
        (rt, et), (rm, em) = _outcome(lambda: BAD[name](td, torch)), _outcome(lambda: BAD[name](mcd, mc))
    finally:
        mcd.Distribution.set_default_validate_args(True)
        td.Distribution.set_default_validate_args(True)
    assert (et is None) == (em is None), (et, em)
    if et is not None:
        assert type(em).__name__.strip("_") == type(et).__name__.strip("_")  # mlx_compat's LinAlgError is its own
        assert str(em).replace("mlx_compat.", "torch.") == str(et)
    assert mcd.Normal(0.0, 1.0)._validate_args and not mcd.Normal(0.0, -1.0, validate_args=False)._validate_args


KL_PAIRS = {
    "Normal": (lambda D, p: D.Normal(p["a"], p["b"]), lambda D, p: D.Normal(p["c"], p["d"])),
    "Normal scalar q": (lambda D, p: D.Normal(p["a"], p["b"]), lambda D, p: D.Normal(0.0, 1.0)),
    "Bernoulli": (lambda D, p: D.Bernoulli(logits=p["a"]), lambda D, p: D.Bernoulli(probs=p["b"].sigmoid())),
    "Bernoulli edge": (lambda D, p: D.Bernoulli(probs=D.Bernoulli(0.5).probs.new_tensor([0.0, 1.0, 0.3, 0.2])),
                       lambda D, p: D.Bernoulli(probs=D.Bernoulli(0.5).probs.new_tensor([0.5, 0.5, 0.0, 1.0]))),
    "Categorical": (lambda D, p: D.Categorical(logits=p["a"]), lambda D, p: D.Categorical(probs=p["b"].exp())),
    "Categorical zeros": (lambda D, p: D.Categorical(probs=p["a"].exp() * (p["c"] > 0)),
                          lambda D, p: D.Categorical(probs=p["b"].exp() * (p["d"] > 1))),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(logits=p["a"]),
                          lambda D, p: D.OneHotCategorical(logits=p["b"])),
    "Uniform": (lambda D, p: D.Uniform(p["a"], p["a"] + p["b"]), lambda D, p: D.Uniform(p["c"] - 2, p["c"] + 2)),
    "Exponential": (lambda D, p: D.Exponential(p["b"]), lambda D, p: D.Exponential(p["d"])),
    "Laplace": (lambda D, p: D.Laplace(p["a"], p["b"]), lambda D, p: D.Laplace(p["c"], p["d"])),
    "MultivariateNormal": (lambda D, p: D.MultivariateNormal(p["a"][:, :3], scale_tril=p["b"][:, :3].diag_embed()),
                           lambda D, p: D.MultivariateNormal(p["c"][0, :3], covariance_matrix=p["d"][0, :3].diag())),
    "Independent": (lambda D, p: D.Independent(D.Normal(p["a"], p["b"]), 1),
                    lambda D, p: D.Independent(D.Normal(p["c"], p["d"]), 1)),
    "Independent Bernoulli 2": (lambda D, p: D.Independent(D.Bernoulli(logits=p["a"]), 2),
                                lambda D, p: D.Independent(D.Bernoulli(logits=p["c"]), 2)),
}
KL_PARAMS = {"a": _f32(3, 4), "b": _f32(3, 4, low=0.5, high=1.5), "c": _f32(3, 4), "d": _f32(3, 4, low=0.5, high=1.5)}


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_divergence(name):
    make_p, make_q = KL_PAIRS[name]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in KL_PARAMS.items()}
    mp = {k: mc.tensor(v, requires_grad=True) for k, v in KL_PARAMS.items()}
    rt = td.kl_divergence(make_p(td, tp), make_q(td, tp))
    rm = mcd.kl_divergence(make_p(mcd, mp), make_q(mcd, mp))
    assert_same(rm, rt, rtol=1e-5, atol=1e-6)
    if not rt.requires_grad:
        assert not rm.requires_grad
        return
    weights = _rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    finite_t = torch.where(rt.isinf(), 0.0, rt)
    finite_m = mc.where(rm.isinf(), 0.0, rm)
    (finite_t * torch.tensor(weights)).sum().backward()
    (finite_m * mc.tensor(weights)).sum().backward()
    for k in tp:
        if tp[k].grad is None:
            assert mp[k].grad is None or not mp[k].grad.abs().sum().item(), k
        else:
            assert_same(mp[k].grad, tp[k].grad, rtol=1e-4, atol=1e-5)


KL_MISSING = {
    "Normal-Categorical": lambda D, L: D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(L.ones(2))),
    "Normal-Bernoulli (exponential families)": lambda D, L: D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5)),
    "MVN event shapes differ": lambda D, L: D.kl_divergence(D.MultivariateNormal(L.zeros(2), L.eye(2)),
                                                            D.MultivariateNormal(L.zeros(3), L.eye(3))),
    "Independent ndims differ": lambda D, L: D.kl_divergence(D.Independent(D.Normal(L.zeros(2, 2), L.ones(2, 2)), 1),
                                                             D.Independent(D.Normal(L.zeros(2, 2), L.ones(2, 2)), 2)),
}


@pytest.mark.parametrize("name", KL_MISSING)
def test_kl_missing(name):
    _compare(lambda: KL_MISSING[name](td, torch), lambda: KL_MISSING[name](mcd, mc))


def test_register_kl_dispatch():
    class MyNormal(mcd.Normal):
        pass

    p, q = MyNormal(mc.tensor([0.0]), mc.tensor([1.0])), mcd.Normal(mc.tensor([1.0]), mc.tensor([2.0]))
    assert_same(mcd.kl_divergence(p, q), td.kl_divergence(td.Normal(torch.tensor([0.0]), torch.tensor([1.0])),
                                                          td.Normal(torch.tensor([1.0]), torch.tensor([2.0]))))

    @mcd.register_kl(MyNormal, mcd.Normal)
    def _kl_mine(p, q):
        return mc.zeros(p.batch_shape)

    try:
        assert mcd.kl_divergence(p, q).tolist() == [0.0]
        assert mcd.kl_divergence(q, p).tolist() != [0.0]
    finally:
        from mlx_compat.distributions import kl
        del kl._KL_REGISTRY[MyNormal, mcd.Normal]
        kl._KL_MEMOIZE.clear()


def test_exponential_family_entropy_and_kl():
    """The Bregman-divergence entropy / KL (autograd of the log normalizer) agree with the closed forms."""
    loc, scale = mc.tensor(LOC), mc.tensor(SCALE)
    p, q = mcd.Normal(loc, scale), mcd.Normal(loc * 2, scale + 1)
    assert_same(mcd.ExponentialFamily.entropy(p), p.entropy(), rtol=1e-4, atol=1e-5)
    from mlx_compat.distributions import kl
    assert_same(kl._kl_expfamily_expfamily(p, q), mcd.kl_divergence(p, q), rtol=1e-4, atol=1e-5)
    b = mcd.Bernoulli(logits=mc.tensor(LOGITS))
    assert_same(mcd.ExponentialFamily.entropy(b), b.entropy(), rtol=1e-4, atol=1e-5)


CONSTRAINTS = {
    "real": (lambda C: C.real, [0.0, math.inf, math.nan]),
    "positive": (lambda C: C.positive, [0.0, 1.0, -1.0]),
    "nonnegative": (lambda C: C.nonnegative, [0.0, 1.0, -1.0]),
    "unit_interval": (lambda C: C.unit_interval, [0.0, 1.0, 1.5, -0.1]),
    "boolean": (lambda C: C.boolean, [0.0, 1.0, 0.5]),
    "integer_interval": (lambda C: C.integer_interval(0, 3), [0.0, 3.0, 4.0, 1.5]),
    "nonnegative_integer": (lambda C: C.nonnegative_integer, [0.0, 3.0, -1.0, 1.5]),
    "greater_than": (lambda C: C.greater_than(2.0), [2.0, 3.0]),
    "greater_than_eq": (lambda C: C.greater_than_eq(2.0), [2.0, 1.0]),
    "less_than": (lambda C: C.less_than(2.0), [2.0, 1.0]),
    "interval": (lambda C: C.interval(-1.0, 1.0), [-1.0, 1.0, 2.0]),
    "half_open_interval": (lambda C: C.half_open_interval(-1.0, 1.0), [-1.0, 1.0, 0.0]),
    "simplex": (lambda C: C.simplex, [[0.5, 0.5], [0.2, 0.9], [1.5, -0.5]]),
    "one_hot": (lambda C: C.one_hot, [[0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]),
    "real_vector": (lambda C: C.real_vector, [[0.0, 1.0], [0.0, math.nan]]),
    "independent": (lambda C: C.independent(C.positive, 1), [[1.0, 1.0], [1.0, -1.0]]),
    "lower_triangular": (lambda C: C.lower_triangular, [[[1.0, 0.0], [2.0, -1.0]], [[1.0, 2.0], [0.0, 1.0]]]),
    "lower_cholesky": (lambda C: C.lower_cholesky, [[[1.0, 0.0], [2.0, -1.0]], [[1.0, 0.0], [2.0, 3.0]]]),
    "square": (lambda C: C.square, [[[1.0, 0.0], [2.0, -1.0]]]),
    "symmetric": (lambda C: C.symmetric, [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [2.0, 1.0]]]),
    "positive_definite": (lambda C: C.positive_definite, [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]]),
}


@pytest.mark.parametrize("name", CONSTRAINTS)
def test_constraints(name):
    make, value = CONSTRAINTS[name]
    ct, cm = make(td.constraints), make(mcd.constraints)
    assert repr(cm) == repr(ct)
    assert cm.is_discrete == ct.is_discrete and cm.event_dim == ct.event_dim
    assert_same(cm.check(mc.tensor(value)), ct.check(torch.tensor(value)))


def test_dependent_constraints():
    C, TC = mcd.constraints, td.constraints
    assert C.is_dependent(C.dependent) and C.is_dependent(mcd.Uniform.support) and not C.is_dependent(C.real)
    assert mcd.Categorical.support.is_discrete and mcd.Categorical.support.event_dim == 0
    for attr in ("is_discrete", "event_dim"):
        _compare(lambda: getattr(TC.dependent, attr), lambda: getattr(C.dependent, attr))
    assert C.dependent(is_discrete=True, event_dim=1).event_dim == 1
    _compare(lambda: TC.dependent.check(torch.zeros(1)), lambda: C.dependent.check(mc.zeros(1)))


# --- sampling: shapes above; here statistics, support and the reparameterised gradient ---

def _stats(x):
    return x.float().mean(0), x.float().var(0)


def test_sample_statistics():
    mc.manual_seed(0)
    n = 20000
    loc, scale = mc.tensor([0.0, 3.0]), mc.tensor([1.0, 0.5])
    m, v = _stats(mcd.Normal(loc, scale).sample((n,)))
    assert np.allclose(m.numpy(), [0.0, 3.0], atol=0.05) and np.allclose(v.numpy(), [1.0, 0.25], rtol=0.05)
    m, v = _stats(mcd.Normal(loc, scale).rsample((n,)))
    assert np.allclose(m.numpy(), [0.0, 3.0], atol=0.05) and np.allclose(v.numpy(), [1.0, 0.25], rtol=0.05)
    m, _ = _stats(mcd.Bernoulli(logits=mc.tensor([-1.0, 2.0])).sample((n,)))
    assert np.allclose(m.numpy(), 1 / (1 + np.exp([1.0, -2.0])), atol=0.02)
    m, v = _stats(mcd.Uniform(mc.tensor([-1.0]), mc.tensor([3.0])).sample((n,)))
    assert np.allclose(m.numpy(), [1.0], atol=0.05) and np.allclose(v.numpy(), [16 / 12], rtol=0.05)
    m, v = _stats(mcd.Exponential(mc.tensor([0.5, 2.0])).rsample((n,)))
    assert np.allclose(m.numpy(), [2.0, 0.5], rtol=0.05) and np.allclose(v.numpy(), [4.0, 0.25], rtol=0.1)
    m, v = _stats(mcd.Laplace(loc, scale).rsample((n,)))
    assert np.allclose(m.numpy(), [0.0, 3.0], atol=0.05) and np.allclose(v.numpy(), [2.0, 0.5], rtol=0.1)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]], np.float32)
    x = mcd.MultivariateNormal(mc.tensor([1.0, -1.0]), mc.tensor(cov)).sample((n,)).numpy()
    assert np.allclose(x.mean(0), [1.0, -1.0], atol=0.05) and np.allclose(np.cov(x.T), cov, atol=0.1)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32)
    draws = mcd.Categorical(probs=mc.tensor(probs)).sample((n,))
    assert draws.dtype == mc.int64 and tuple(draws.shape) == (n, 2)
    freq = np.stack([(draws.numpy() == k).mean(0) for k in range(3)], -1)
    assert np.allclose(freq, probs, atol=0.02)
    onehot = mcd.OneHotCategorical(probs=mc.tensor(probs)).sample((n,))
    assert np.allclose(onehot.mean(0).numpy(), probs, atol=0.02)


def test_rsample_gradient():
    """Normal's rsample is loc + eps * scale: its gradient is 1 for loc and eps = (x - loc) / scale for scale, as
    torch's gradient of the same expression with the same noise."""
    loc, scale = mc.tensor(LOC, requires_grad=True), mc.tensor(SCALE, requires_grad=True)
    x = mcd.Normal(loc, scale).rsample((5,))
    assert x.requires_grad
    w = _rng.standard_normal(tuple(x.shape)).astype(np.float32)
    (x * mc.tensor(w)).sum().backward()
    eps = ((x.detach() - loc.detach()) / scale.detach()).numpy()
    tl, ts = torch.tensor(LOC, requires_grad=True), torch.tensor(SCALE, requires_grad=True)
    ((tl + torch.tensor(eps) * ts) * torch.tensor(w)).sum().backward()
    assert_same(loc.grad, tl.grad, rtol=1e-4, atol=1e-5)
    assert_same(scale.grad, ts.grad, rtol=1e-4, atol=1e-4)
    low, high = mc.tensor(LOW, requires_grad=True), mc.tensor(HIGH, requires_grad=True)
    u = mcd.Uniform(low, high).rsample((7,))
    u.sum().backward()
    frac = ((u.detach() - low.detach()) / (high.detach() - low.detach())).sum(0).numpy()
    np.testing.assert_allclose(high.grad.numpy(), frac, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(low.grad.numpy(), 7 - frac, rtol=1e-4, atol=1e-4)
    probs, tprobs = mc.tensor(CAT_PROBS, requires_grad=True), torch.tensor(CAT_PROBS, requires_grad=True)
    st = mcd.OneHotCategoricalStraightThrough(probs=probs).rsample((3,))
    tst = td.OneHotCategoricalStraightThrough(probs=tprobs).rsample((3,))
    assert st.requires_grad and tuple(st.shape) == tuple(tst.shape)
    (st * mc.tensor(np.arange(5, dtype=np.float32))).sum().backward()
    (tst * torch.arange(5.0)).sum().backward()
    assert_same(probs.grad, tprobs.grad, rtol=1e-4, atol=1e-5)  # the samples themselves carry no gradient


def test_sample_no_grad_and_dtype():
    loc = mc.tensor([0.0, 1.0], dtype=mc.float64, requires_grad=True)
    d = mcd.Normal(loc, 1.0)
    assert d.scale.dtype == mc.float64
    assert d.sample((2,)).dtype == mc.float64 and not d.sample().requires_grad
    assert d.rsample().requires_grad
    assert mcd.Bernoulli(0.5).sample().dtype == mc.float32
    assert mcd.Normal(0.0, 1.0).sample().shape == mc.Size([])


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matrices(kind):
    """Each parametrisation derives the other two lazily, as torch's; rsample's gradient reaches the matrix."""
    m = {"covariance_matrix": COV, "precision_matrix": COV, "scale_tril": TRIL}[kind]
    tm, mm = torch.tensor(m, requires_grad=True), mc.tensor(m, requires_grad=True)
    dt = td.MultivariateNormal(torch.tensor(LOC), **{kind: tm})
    dm = mcd.MultivariateNormal(mc.tensor(LOC), **{kind: mm})
    for name in ("covariance_matrix", "precision_matrix", "scale_tril", "variance"):
        assert_same(getattr(dm, name), getattr(dt, name), rtol=1e-4, atol=1e-5)
    x = dm.rsample((4,))
    assert tuple(x.shape) == (4, 2, 3) and x.requires_grad
    x.sum().backward()
    assert mm.grad is not None and tuple(mm.grad.shape) == tuple(mm.shape)


def test_categorical_normalises_parameters():
    for kw in ("probs", "logits"):
        t = td.Categorical(**{kw: torch.tensor(CAT_PROBS)})
        m = mcd.Categorical(**{kw: mc.tensor(CAT_PROBS)})
        assert_same(m.probs, t.probs)
        assert_same(m.logits, t.logits)
        assert m.param_shape == t.param_shape


def test_lazy_parameters_derived_with_grad():
    logits = mc.tensor(LOGITS, requires_grad=True)
    d = mcd.Bernoulli(logits=logits)
    with mc.no_grad():
        probs = d.probs
    assert probs.requires_grad  # built under enable_grad, as torch's lazy_property
    assert "probs" in d.__dict__ and d.probs is probs
