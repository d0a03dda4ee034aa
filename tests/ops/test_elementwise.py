"""The operators issue's everyday elementwise ops and torch.special functions against PyTorch 2.13:
values, dtypes and shapes over several input dtypes and special values (nan, inf, 0, negatives),
broadcasting, out=, method and in-place variants, torch's error types, and gradients (same numpy
inputs, random cotangent, .grad compared)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "autograd"))

from ag_util import assert_grad, leaves  # noqa: E402
from helpers import assert_raises_same, assert_same, assert_same_outcome, both, mc, src_id, torch  # noqa: E402

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.75, 1e-8, -1e-20, 40.0, -40.0,
           float("nan"), float("inf"), float("-inf")]
UNIT = [0.0, -0.0, 0.25, -0.25, 0.5, -0.75, 0.999, -0.9999, 1.0, -1.0, 1.5, -2.0, 1e-12, float("nan"),
        float("inf")]
PROB = [0.0, 1e-300, 1e-30, 1e-8, 0.01, 0.2, 0.5, 0.7, 0.99, 1 - 1e-9, 1.0, -0.1, 1.5, float("nan")]
INTS = [0, 1, -1, 2, -3, 5, 7]
BOOLS = [True, False, True]

FLOATS = ["float32", "float64"]


def _tensor_pairs(values, dtypes):
    for d in dtypes:
        vals = [v for v in values if d in ("float32", "float64") or np.isfinite(v)]
        if d == "int64":
            vals = INTS
        elif d == "bool":
            vals = BOOLS
        yield d, vals


def _check(tf, mf, data, dtype, **kw):
    tin, min_ = both(data, dtype)
    assert_same_outcome(lambda: tf(tin), lambda: mf(min_), **kw)


# ---------------------------------------------------------------- unary ops: values and dtypes

UNARY = [
    ("asin", UNIT), ("arcsin", UNIT), ("acos", UNIT), ("arccos", UNIT), ("atan", SPECIAL), ("arctan", SPECIAL),
    ("sinh", SPECIAL), ("cosh", SPECIAL), ("asinh", SPECIAL), ("arcsinh", SPECIAL),
    ("acosh", SPECIAL + [1.5, 1e6]), ("arccosh", SPECIAL), ("atanh", UNIT), ("arctanh", UNIT),
    ("erfc", SPECIAL + [3.0, 9.0, -6.0, 26.0]), ("erfinv", UNIT + [0.9999999999, -1 + 1e-15]),
    ("frac", SPECIAL + [-2.5, 7.25]), ("deg2rad", SPECIAL), ("rad2deg", SPECIAL), ("sinc", SPECIAL + [1e-30, 3.0]),
    ("logit", PROB), ("nan_to_num", SPECIAL), ("i0", SPECIAL + [7.9, 8.1, -12.0, 30.0]),
    ("isnan", SPECIAL), ("isinf", SPECIAL), ("isposinf", SPECIAL), ("isneginf", SPECIAL), ("isfinite", SPECIAL),
    ("isreal", SPECIAL), ("signbit", SPECIAL), ("positive", SPECIAL),
]


@pytest.mark.parametrize("name,values", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_unary_values(name, values, dtype):
    tf, mf = getattr(torch, name), getattr(mc, name)
    for d, vals in _tensor_pairs(values, [dtype]):
        _check(tf, mf, vals, d, rtol=1e-13 if d == "float64" else 2e-6, atol=1e-30)
        # method form
        _check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), vals, d, rtol=2e-6, atol=1e-30)


def test_unary_float16_shapes():
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (3, 1, 4))
    for name in ("asin", "atan", "sinh", "erfc", "erfinv", "sinc", "deg2rad", "i0", "logit"):
        _check(getattr(torch, name), getattr(mc, name), x, "float16")
        _check(getattr(torch, name), getattr(mc, name), x, "float32")


SPECIAL_FNS = [
    ("expit", SPECIAL), ("logit", PROB), ("erf", SPECIAL + [1e-10, 0.9, 1.2, 3.0, -5.0]),
    ("erfc", SPECIAL + [3.0, 20.0]), ("erfinv", UNIT), ("exp2", SPECIAL), ("expm1", SPECIAL), ("log1p", UNIT),
    ("sinc", SPECIAL), ("entr", SPECIAL), ("ndtr", SPECIAL + [-3.0, 5.0]),
    ("ndtri", PROB), ("log_ndtr", SPECIAL + [-5.0, -20.0, -100.0, 6.0]), ("i0", SPECIAL), ("round", SPECIAL),
]


@pytest.mark.parametrize("name,values", SPECIAL_FNS, ids=[u[0] for u in SPECIAL_FNS])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_special_values(name, values, dtype):
    tf, mf = getattr(torch.special, name), getattr(mc.special, name)
    for d, vals in _tensor_pairs(values, [dtype]):
        # torch computes ndtr as (1 + erf)/2 (absolute accuracy); ours is accurate in the lower tail too
        atol = (1e-15 if d == "float64" else 1e-7) if name == "ndtr" else 1e-30
        # float32 log_ndtr(6): x / sqrt(2) rounding alone moves the result by ~2e-6 (torch's too)
        rtol = 1e-13 if d == "float64" else (1e-5 if name == "log_ndtr" else 2e-6)
        _check(tf, mf, vals, d, rtol=rtol, atol=atol)


def test_special_softmax_and_round_decimals():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    for dim in (0, 1, -1):
        _check(lambda t: torch.special.softmax(t, dim), lambda t: mc.special.softmax(t, dim), x, None)
        _check(lambda t: torch.special.log_softmax(t, dim), lambda t: mc.special.log_softmax(t, dim), x, None)
    _check(lambda t: torch.special.softmax(t, 0, dtype=torch.float64),
           lambda t: mc.special.softmax(t, 0, dtype=mc.float64), x, None)
    _check(lambda t: torch.special.round(t * 10), lambda t: mc.special.round(t * 10), x, None)


def test_special_float64_accuracy_tails():
    """float64 results hold to ~1e-15 relative where MLX's own kernels are float32-accurate."""
    xs = [1e-12, 0.3, 0.8, 1.0, 1.3, 2.5, 4.0, 10.0, 25.0]
    _check(torch.special.erf, mc.special.erf, xs, "float64", rtol=1e-14, atol=0)
    _check(torch.special.erfc, mc.special.erfc, xs, "float64", rtol=1e-14, atol=0)
    _check(torch.special.erfinv, mc.special.erfinv, [1e-12, 0.1, 0.5, 0.9, 0.999999, 1 - 1e-14], "float64",
           rtol=1e-14, atol=0)
    _check(torch.special.ndtri, mc.special.ndtri, [1e-300, 1e-50, 1e-9, 0.1, 0.5 + 1e-12, 0.9, 1 - 1e-12], "float64",
           rtol=1e-12, atol=0)
    _check(torch.special.log_ndtr, mc.special.log_ndtr, [-1e3, -40.0, -8.0, -1.0, 0.0, 3.0], "float64",
           rtol=1e-13, atol=0)


# ---------------------------------------------------------------- binary ops

BIN_VALUES = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 0.5, float("nan"), float("inf"), float("-inf")]


def _grid():
    a = np.array(BIN_VALUES)
    return np.repeat(a, len(a)), np.tile(a, len(a))


BINARY = ["fmax", "fmin", "logaddexp", "logaddexp2", "hypot", "xlogy", "copysign", "heaviside", "float_power",
          "logical_and", "logical_or", "logical_xor", "isclose"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dta,dtb", [("float32", "float32"), ("float64", "float64"), ("float32", "float64"),
                                     ("int64", "int64"), ("int64", "float32"), ("bool", "bool"), ("bool", "int64")])
def test_binary_values(name, dta, dtb):
    a, b = _grid()
    if dta in ("int64", "bool"):
        a = np.nan_to_num(a, posinf=3, neginf=-3).astype(dta)
    if dtb in ("int64", "bool"):
        b = np.nan_to_num(b, posinf=3, neginf=-3).astype(dtb)
    ta, ma = both(a, dta)
    tb, mb = both(b, dtb)
    tf, mf = getattr(torch, name), getattr(mc, name)
    # torch's float32 logaddexp2(-1, -1) is -1e-8, ours exactly 0
    tol = dict(rtol=2e-6, atol=1e-7 if "float32" in (dta, dtb) else 1e-15)
    assert_same_outcome(lambda: tf(ta, tb), lambda: mf(ma, mb), **tol)
    # broadcasting: (n, 1) with (n,)
    n = 4
    assert_same_outcome(lambda: tf(ta[:n].reshape(n, 1), tb[:n]), lambda: mf(ma[:n].reshape(n, 1), mb[:n]), **tol)
    assert_same_outcome(lambda: getattr(ta, name)(tb), lambda: getattr(ma, name)(mb), **tol)


@pytest.mark.parametrize("name", ["xlogy", "copysign", "float_power", "fmax", "hypot", "logical_and", "logaddexp"])
def test_binary_scalars(name):
    ta, ma = both([0.0, 1.5, -2.0, float("nan")], "float32")
    tf, mf = getattr(torch, name), getattr(mc, name)
    for s in (2, -1.5, 0.0):
        assert_same_outcome(lambda: tf(ta, s), lambda: mf(ma, s), rtol=2e-6)
        assert_same_outcome(lambda: tf(s, ta), lambda: mf(s, ma), rtol=2e-6)


def test_xlog1py_special():
    a, b = _grid()
    for d in ("float32", "float64", "int64"):
        aa = a if d != "int64" else np.nan_to_num(a, posinf=3, neginf=-3).astype(d)
        ta, ma = both(aa, d)
        tb, mb = both(b, "float32")
        assert_same_outcome(lambda: torch.special.xlog1py(ta, tb), lambda: mc.special.xlog1py(ma, mb), rtol=2e-6)
        assert_same_outcome(lambda: torch.special.xlogy(ta, 3), lambda: mc.special.xlogy(ma, 3), rtol=2e-6)


def test_heaviside_errors_and_values():
    ta, ma = both([-1.0, 0.0, 2.0, float("nan")], "float32")
    tv, mv = both([0.5], "float32")
    assert_same(mc.heaviside(ma, mv), torch.heaviside(ta, tv))
    ti, mi = both([1, 2], "int64")
    assert_raises_same(lambda: torch.heaviside(ta, ti), lambda: mc.heaviside(ma, mi))
    tg = ta.clone().requires_grad_(True)
    mg = ma.clone().requires_grad_(True)
    assert_raises_same(lambda: torch.heaviside(tg, tv).sum().backward(), lambda: mc.heaviside(mg, mv).sum().backward())


def test_isclose_allclose_equal():
    ta, ma = both([1.0, 1.0 + 1e-6, 2.0, float("nan"), float("inf"), float("-inf")], "float32")
    tb, mb = both([1.0, 1.0, 2.1, float("nan"), float("inf"), float("inf")], "float32")
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0}):
        assert_same(mc.isclose(ma, mb, **kw), torch.isclose(ta, tb, **kw))
        assert mc.allclose(ma, mb, **kw) == torch.allclose(ta, tb, **kw)
        assert mc.allclose(ma[:3], mb[:3], **kw) == torch.allclose(ta[:3], tb[:3], **kw)
        assert ma.isclose(mb, **kw).tolist() == ta.isclose(tb, **kw).tolist()
        assert ma.allclose(mb, **kw) == ta.allclose(tb, **kw)
    ti, mi = both([1, 2, 3], "int64")
    tj, mj = both([1, 2, 4], "int64")
    assert_same(mc.isclose(mi, mj, atol=1), torch.isclose(ti, tj, atol=1))
    assert_same(mc.isclose(mi, mj), torch.isclose(ti, tj))
    assert_raises_same(lambda: torch.isclose(ta[:3], ti), lambda: mc.isclose(ma[:3], mi))
    assert_raises_same(lambda: torch.isclose(ta, tb, rtol=-1), lambda: mc.isclose(ma, mb, rtol=-1))
    assert_raises_same(lambda: torch.allclose(ta[:3], ti), lambda: mc.allclose(ma[:3], mi))
    for x, y in ((ti, tj), (ti, ti), (ta, ta), (ta[:3], ti)):
        assert mc.equal(mc.from_torch(x), mc.from_torch(y)) == torch.equal(x, y)
    assert mc.equal(mi, mc.tensor([1.0, 2.0, 3.0])) == torch.equal(ti, torch.tensor([1.0, 2.0, 3.0]))
    assert mc.equal(mi, mi[:2]) is False and mi.equal(mi) is True
    assert_raises_same(lambda: torch.equal(ti, 2), lambda: mc.equal(mi, 2))


def test_nan_to_num_args():
    ta, ma = both([float("nan"), float("inf"), float("-inf"), 1.5], "float32")
    for kw in ({}, {"nan": 1.0}, {"posinf": 7.0}, {"neginf": -7.0}, {"nan": 2.0, "posinf": 3.0, "neginf": -4.0}):
        assert_same(mc.nan_to_num(ma, **kw), torch.nan_to_num(ta, **kw))
        assert_same(ma.nan_to_num(**kw), ta.nan_to_num(**kw))
    for d in ("float16", "float64"):
        t, m = both([float("nan"), float("inf"), float("-inf")], d)
        assert_same(mc.nan_to_num(m), torch.nan_to_num(t))
    t, m = both([1, 2], "int64")
    assert_same(mc.nan_to_num(m, nan=3.0), torch.nan_to_num(t, nan=3.0))


def test_logit_eps():
    t, m = both(PROB, "float32")
    for eps in (None, 0.0, 0.1, 1e-6):
        assert_same(mc.logit(m, eps), torch.logit(t, eps), rtol=2e-6)
        assert_same(mc.logit(m, eps=eps), torch.logit(t, eps=eps), rtol=2e-6)
        assert_same(mc.special.logit(m, eps=eps), torch.special.logit(t, eps=eps), rtol=2e-6)


def test_float_power_dtype_and_errors():
    t, m = both([1.0, 2.0, 3.0], "float32")
    r = mc.float_power(m, 2)
    assert r.dtype is mc.float64
    assert_same(r, torch.float_power(t, 2))
    assert_same(mc.float_power(2, m), torch.float_power(2, t))
    assert_raises_same(lambda: t.clone().float_power_(2), lambda: m.clone().float_power_(2))
    assert_raises_same(lambda: torch.float_power(t, 2, out=torch.empty(3)),
                       lambda: mc.float_power(m, 2, out=mc.empty(3)))
    td, md = both([1.0, 2.0, 3.0], "float64")
    assert_same(md.clone().float_power_(0.5), td.clone().float_power_(0.5))


# ---------------------------------------------------------------- errors of torch's type

ERRORS = [
    lambda M, x, i, b, c: M.frac(i),
    lambda M, x, i, b, c: M.frac(b),
    lambda M, x, i, b, c: M.logaddexp(i, i),
    lambda M, x, i, b, c: M.hypot(i, i),
    lambda M, x, i, b, c: M.fmax(x, 2.0),
    lambda M, x, i, b, c: M.hypot(x, 2.0),
    lambda M, x, i, b, c: M.logical_xor(x, 2),
    lambda M, x, i, b, c: M.positive(b),
    lambda M, x, i, b, c: M.special.round(i),
    lambda M, x, i, b, c: M.asin([1.0]),
    lambda M, x, i, b, c: M.fmax(c, x),
    lambda M, x, i, b, c: M.signbit(c),
    lambda M, x, i, b, c: M.isposinf(c),
    lambda M, x, i, b, c: M.rad2deg(c),
    lambda M, x, i, b, c: M.erfc(c),
    lambda M, x, i, b, c: M.i0(c),
    lambda M, x, i, b, c: i.asin_(),
    lambda M, x, i, b, c: i.logit_(),
    lambda M, x, i, b, c: x.hypot_(x.reshape(3, 1)),
    lambda M, x, i, b, c: M.logical_and(x, M.ones(7)),
    lambda M, x, i, b, c: M.fmax(x, M.ones(2, 2)),
    lambda M, x, i, b, c: M.xlogy(x, M.ones(4)),
    lambda M, x, i, b, c: M.isclose(x, M.ones(2)),
    lambda M, x, i, b, c: M.heaviside(x, M.ones(2)),
    lambda M, x, i, b, c: M.copysign(x.reshape(3, 1), M.ones(2, 2)),
]


@pytest.mark.parametrize("fn", ERRORS, ids=[src_id(f) for f in ERRORS])
def test_errors(fn):
    tx, mx_ = both([0.5, -1.0, 2.0], "float32")
    ti, mi = both([1, 2, 3], "int64")
    tb, mb = both([True, False, True], "bool")
    tc, mcx = tx.to(torch.complex64), mx_.to(mc.complex64)
    assert_raises_same(lambda: fn(torch, tx, ti, tb, tc), lambda: fn(mc, mx_, mi, mb, mcx))


# ---------------------------------------------------------------- out= and in-place

OUT_CASES = [
    ("asin", lambda M, x, y, **k: M.asin(x, **k)), ("sinh", lambda M, x, y, **k: M.sinh(x, **k)),
    ("erfc", lambda M, x, y, **k: M.erfc(x, **k)), ("erfinv", lambda M, x, y, **k: M.erfinv(x, **k)),
    ("frac", lambda M, x, y, **k: M.frac(x, **k)), ("logit", lambda M, x, y, **k: M.logit(x, 0.1, **k)),
    ("fmax", lambda M, x, y, **k: M.fmax(x, y, **k)), ("fmin", lambda M, x, y, **k: M.fmin(x, y, **k)),
    ("logaddexp", lambda M, x, y, **k: M.logaddexp(x, y, **k)), ("hypot", lambda M, x, y, **k: M.hypot(x, y, **k)),
    ("xlogy", lambda M, x, y, **k: M.xlogy(x, y, **k)), ("copysign", lambda M, x, y, **k: M.copysign(x, y, **k)),
    ("nan_to_num", lambda M, x, y, **k: M.nan_to_num(x, **k)), ("sinc", lambda M, x, y, **k: M.sinc(x, **k)),
    ("deg2rad", lambda M, x, y, **k: M.deg2rad(x, **k)), ("i0", lambda M, x, y, **k: M.i0(x, **k)),
    ("logical_and", lambda M, x, y, **k: M.logical_and(x, y, **k)),
    ("heaviside", lambda M, x, y, **k: M.heaviside(x, y, **k)),
    ("signbit", lambda M, x, y, **k: M.signbit(x, **k)),
    ("ndtr", lambda M, x, y, **k: M.special.ndtr(x, **k)), ("entr", lambda M, x, y, **k: M.special.entr(x, **k)),
    ("xlog1py", lambda M, x, y, **k: M.special.xlog1py(x, y, **k)),
]


@pytest.mark.parametrize("name,fn", OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_out(name, fn):
    tx, mx_ = both([0.25, -0.5, 0.0, 0.75], "float32")
    ty, my = both([0.5, 2.0, -1.0, 0.0], "float32")
    expected = fn(torch, tx, ty)
    tout = torch.empty(4, dtype=expected.dtype)
    mout = mc.empty(4, dtype=mc.from_torch(expected).dtype)
    r_t = fn(torch, tx, ty, out=tout)
    r_m = fn(mc, mx_, my, out=mout)
    assert r_m is mout and r_t is tout
    assert_same(mout, tout, rtol=2e-6)


INPLACE = ["asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "arcsin", "erfc", "erfinv", "frac",
           "deg2rad", "rad2deg", "sinc", "logit", "nan_to_num", "i0", "sgn", "erf"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_unary(name):
    base_t, base_m = both(np.array([[0.25, -0.5, 0.0], [0.75, 0.1, -0.9]]), "float32")
    # through a view: write-through to the base, version bump
    vt, vm = base_t[:, 1], base_m[:, 1]
    v0 = base_m._version
    rt, rm = getattr(vt, name + "_")(), getattr(vm, name + "_")()
    assert rm is vm
    assert base_m._version > v0
    assert_same(base_m, base_t, rtol=2e-6)
    assert_same(rm, rt, rtol=2e-6)


@pytest.mark.parametrize("name", ["hypot", "xlogy", "copysign", "logical_and", "logical_or", "logical_xor",
                                  "heaviside"])
def test_inplace_binary(name):
    tx, mx_ = both([[0.25, -0.5, 0.0], [0.75, 1.0, -0.9]], "float32")
    ty, my = both([0.5, -2.0, 0.0], "float32")
    rt = getattr(tx, name + "_")(ty)
    rm = getattr(mx_, name + "_")(my)
    assert rm is mx_
    assert_same(mx_, tx, rtol=2e-6)
    assert_same(rm, rt, rtol=2e-6)


def test_complex_inputs():
    z = np.array([0.5 + 0.5j, -1 + 2j, 2 - 0.3j, 0j, complex(np.nan, 1), complex(np.inf, 0), complex(1, -np.inf)],
                 dtype=np.complex64)
    tz, mz = both(z)
    for name in ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh"):
        assert_same(getattr(mc, name)(mz[:4]), getattr(torch, name)(tz[:4]))
    for name in ("isnan", "isinf", "isfinite", "isreal", "nan_to_num"):
        assert_same(getattr(mc, name)(mz), getattr(torch, name)(tz))
    assert_same(mc.nan_to_num(mz, nan=1.0, posinf=2.0), torch.nan_to_num(tz, nan=1.0, posinf=2.0))


def test_positive_and_mixed_half_dtypes():
    t, m = both([1.0, -2.0], "float32")
    assert mc.positive(m) is m and m.positive() is m
    ti, mi = both([1, 2], "int32")
    assert_same(mc.sinh(mi), torch.sinh(ti))
    th, mh = both([1.0, 2.0], "float16")
    tb, mb = both([1.0, 3.0], "bfloat16")
    assert_same(mc.logaddexp(mh, mb), torch.logaddexp(th, tb))
    assert_same(mc.hypot(mh, mh), torch.hypot(th, th))


def test_new_names_exported():
    from mlx_compat._ops import elementwise as E

    for n in E.__all__:
        assert hasattr(mc, n), n
        assert hasattr(torch, n), n
    for n in mc.special.__all__:
        assert hasattr(torch.special, n), n


# ---------------------------------------------------------------- gradients


def _grad_case(fn, arrays, seed=0, rtol=1e-4, atol=1e-5, dtype="float32"):
    pairs = leaves(*arrays, dtype=dtype)
    ts, ms = [p[0] for p in pairs], [p[1] for p in pairs]
    out_t, out_m = fn(torch, *ts), fn(mc, *ms)
    assert_same(out_m, out_t, rtol=max(rtol, 1e-5), atol=atol)
    cot = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    ct, cm = both(cot, out_t.dtype)
    out_t.backward(ct)
    out_m.backward(cm)
    for t, m in zip(ts, ms):
        assert_grad(m, t, rtol=rtol, atol=atol)


def _u(shape, lo, hi, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


GRADS = [
    (lambda M, x: M.asin(x), [_u((3, 4), -0.9, 0.9)]),
    (lambda M, x: M.acos(x), [_u((3, 4), -0.9, 0.9)]),
    (lambda M, x: M.atan(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.sinh(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.cosh(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.asinh(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.acosh(x), [_u((3, 4), 1.1, 4)]),
    (lambda M, x: M.atanh(x), [_u((3, 4), -0.9, 0.9)]),
    (lambda M, x: M.erfc(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.erfinv(x), [_u((3, 4), -0.95, 0.95)]),
    (lambda M, x: M.frac(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.deg2rad(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.rad2deg(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.sinc(x), [np.array([0.0, 0.3, -1.5, 2.0, 1e-3])]),
    (lambda M, x: M.i0(x), [_u((3, 4), -10, 10)]),
    (lambda M, x: M.logit(x), [np.array([0.0, 0.2, 0.5, 0.9, 1.0, -0.5, 1.5])]),
    (lambda M, x: M.logit(x, eps=0.1), [np.array([0.0, 0.1, 0.5, 0.9, 1.0, -0.5, 0.95])]),
    (lambda M, x: M.nan_to_num(x / 0.0), [np.array([0.0, 1.0, -2.0])]),
    (lambda M, x: M.nan_to_num(M.log(x), neginf=-5.0), [np.array([0.0, 1.0, 2.0])]),
    (lambda M, x, y: M.fmax(x, y), [np.array([1.0, 2.0, 3.0, np.nan, 1.0]), np.array([1.0, 3.0, np.nan, 1.0, 0.0])]),
    (lambda M, x, y: M.fmin(x, y), [np.array([1.0, 2.0, 3.0, np.nan, 1.0]), np.array([1.0, 3.0, np.nan, 1.0, 0.0])]),
    (lambda M, x, y: M.logaddexp(x, y), [_u((3, 4), -5, 5), _u((4,), -5, 5, 1)]),
    (lambda M, x, y: M.logaddexp2(x, y), [_u((3, 4), -5, 5), _u((3, 1), -5, 5, 1)]),
    (lambda M, x, y: M.hypot(x, y), [_u((3, 4), -5, 5), _u((4,), -5, 5, 1)]),
    (lambda M, x, y: M.xlogy(x, y), [np.array([0.0, 0.0, 1.0, 2.0, 0.5, 0.0]),
                                     np.array([0.0, -1.0, 2.0, 0.5, 3.0, 1.0])]),
    (lambda M, x, y: M.special.xlog1py(x, y), [np.array([0.0, 0.0, 1.0, 2.0]), np.array([-1.0, -2.0, 2.0, 0.5])]),
    (lambda M, x: M.xlogy(x, 2.0), [_u((3,), 0.1, 2)]),
    (lambda M, y: M.xlogy(2.0, y), [_u((3,), 0.1, 2)]),
    (lambda M, x, y: M.copysign(x, y), [np.array([0.0, 1.0, -2.0, 3.0]), np.array([-1.0, 1.0, 2.0, -0.0])]),
    (lambda M, x: M.copysign(x, -1.0), [np.array([0.0, 1.0, -2.0])]),
    (lambda M, x, y: M.float_power(x, y), [_u((3, 4), 0.5, 2), _u((4,), -2, 2, 1)]),
    (lambda M, x: M.special.entr(x), [np.array([0.0, 0.5, 1.0, 2.0, -1.0])]),
    (lambda M, x: M.special.ndtr(x), [_u((3, 4), -4, 4)]),
    (lambda M, x: M.special.log_ndtr(x), [np.array([-30.0, -5.0, -1.0, 0.0, 2.0])]),
    (lambda M, x: M.special.ndtri(x), [_u((3, 4), 0.01, 0.99)]),
    (lambda M, x: M.special.erf(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.special.expit(x), [_u((3, 4), -3, 3)]),
    (lambda M, x: M.special.i0(x), [_u((3, 4), -3, 3)]),
]


@pytest.mark.parametrize("fn,arrays", GRADS, ids=[src_id(g[0]) for g in GRADS])
def test_grad(fn, arrays):
    _grad_case(fn, arrays)


@pytest.mark.parametrize("fn,arrays", GRADS[:16] + GRADS[21:26] + GRADS[31:36],
                         ids=[src_id(g[0]) for g in GRADS[:16] + GRADS[21:26] + GRADS[31:36]])
def test_grad_float64(fn, arrays):
    _grad_case(fn, arrays, rtol=1e-10, atol=1e-12, dtype="float64")


def test_double_backward():
    for f in (lambda M, x: M.erfc(x), lambda M, x: M.special.ndtri(x), lambda M, x: M.asin(x),
              lambda M, x: M.hypot(x, x * 2), lambda M, x: M.special.log_ndtr(x)):
        (tx, mx_), = leaves(_u((5,), 0.1, 0.9), dtype="float64")
        gt, = torch.autograd.grad(f(torch, tx).sum(), tx, create_graph=True)
        gm, = mc.autograd.grad(f(mc, mx_).sum(), mx_, create_graph=True)
        assert_same(gm, gt, rtol=1e-10)
        ggt, = torch.autograd.grad(gt.sum(), tx)
        ggm, = mc.autograd.grad(gm.sum(), mx_)
        assert_same(ggm, ggt, rtol=1e-8)


def test_inplace_grad():
    (tx, mx_), = leaves(_u((4,), -0.9, 0.9))
    yt, ym = tx * 1, mx_ * 1
    yt.asin_()
    ym.asin_()
    yt.sum().backward()
    ym.sum().backward()
    assert_grad(mx_, tx)


@pytest.mark.parametrize("call", ["torch.round(x)", "torch.round(x, decimals=0)", "torch.round(x, decimals=2)",
                                  "x.round()", "x.round(decimals=0)", "x.round(decimals=-1)"])
def test_round_node_names_follow_torch_overloads(call):
    """torch.round's two overloads: without `decimals` its node is RoundBackward0, with any (0 included) it is
    RoundBackward1; the values and the zero gradient are the same either way."""
    data = np.array([0.126, -2.5, 13.75], dtype=np.float32)
    tx = torch.tensor(data, requires_grad=True)
    mx_ = mc.tensor(data, requires_grad=True)
    ty, my = eval(call, {"torch": torch, "x": tx}), eval(call, {"torch": mc, "x": mx_})
    assert my.grad_fn.name() == ty.grad_fn.name()
    assert_same(my, ty)
    ty.sum().backward(), my.sum().backward()
    assert_same(mx_.grad, tx.grad)


# Note [Powers by small exponents] (csrc/ops.c): torch's products and reciprocal for these exponents, bit for bit.
# (A half type's cube and inverse square keep MLX's power, rounded once like torch's float32 chain but by powf: not
# bit for bit, so not here; the OpInfo tests check them to tolerance.)
_SMALL_POWERS = [(e, dt) for dt in ("float32", "float64", "bfloat16", "float16")
                 for e in (2, 2.0, 3, 3.0, -2, -2.0, -1, -1.0) if dt in ("float32", "float64") or e in (2, -1)]


@pytest.mark.parametrize("exponent,dtype", _SMALL_POWERS)
@pytest.mark.parametrize("form", ["operator", "function", "method", "in-place"])
def test_pow_by_small_exponents_is_torch_bit_for_bit(exponent, dtype, form):
    rng = np.random.default_rng(31)
    x = (rng.standard_normal(4000) * 3).astype(np.float32)
    x[:len(SPECIAL)] = SPECIAL
    res = []
    for L in (torch, mc):
        t = L.from_numpy(x).to(getattr(L, dtype))
        if form == "operator":
            y = t ** exponent
        elif form == "function":
            y = L.pow(t, exponent)
        elif form == "method":
            y = t.pow(exponent)
        else:
            y = t.clone()
            y.pow_(exponent)
        res.append(y)
    assert str(res[1].dtype) == str(res[0].dtype)
    np.testing.assert_array_equal(res[1].float().numpy(), res[0].float().numpy())


@pytest.mark.parametrize("exponent", [2, 3, -2, -1])
def test_pow_by_small_exponents_gradients(exponent):
    x = np.random.default_rng(32).uniform(0.5, 3.0, 1000).astype(np.float32) * np.where(np.arange(1000) % 2, 1, -1)
    res = []
    for L in (torch, mc):
        t = L.from_numpy(x.copy()).requires_grad_()
        y = t ** exponent
        (g,) = L.autograd.grad(y.sum(), t, create_graph=True)
        (gg,) = L.autograd.grad(g.sum(), t)
        res.append((y, g, gg, type(y.grad_fn).__name__))
    assert res[1][3] == res[0][3]
    for m, t in zip(res[1][:3], res[0][:3]):
        assert_same(m, t, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- integer div(rounding_mode='trunc')

@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_integer_trunc_division_is_exact(dtype):
    # int64 quotients past 2**53 came back rounded through a float quotient; every sign pairing, a remainder
    # and none, a tensor divisor and a Python one (INT_MIN by -1 is left out: torch's own kernel traps there,
    # tests/test_crashes.py)
    info = np.iinfo(dtype)
    xs = np.array([v for v in (info.max, info.max - 5, info.min + 1, info.min + 7, 7, -7, 6, -6, 0, 1)
                   if v >= info.min], dtype=dtype)
    for d in (7, -7, 3, -3, 1, -1, 2, info.max, info.min):
        if d == 0 or (d < 0 and info.min == 0):  # uint8's min; no negative uint8
            continue
        ys = np.full_like(xs, d)
        for a, b in ((mc.from_numpy(xs), mc.from_numpy(ys)), (mc.from_numpy(xs), int(d))):
            ta, tb = torch.from_numpy(xs), torch.from_numpy(ys) if not isinstance(b, int) else int(d)
            assert_same(mc.div(a, b, rounding_mode="trunc"), torch.div(ta, tb, rounding_mode="trunc"))


# ---------------------------------------------------------------- Note [Shifts past the width] (csrc/ops.c)

@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("op", ["<<", ">>"])
def test_shift_counts_outside_the_width(dtype, op):
    # negative counts and counts of the width or more: 0, or the sign's fill, as torch's kernels define them
    vals = [1, -8, 5, 127, -128, 0] if dtype != "uint8" else [1, 8, 5, 127, 128, 255]
    counts = [-70, -1, 0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 200]
    for c in counts:
        for form in ("scalar", "tensor"):
            def f(L):
                x = L.tensor(vals).to(getattr(L, dtype))
                cc = c if form == "scalar" else L.tensor([c] * len(vals)).to(getattr(L, dtype) if -128 <= c < 128
                                                                               and dtype != "uint8" else L.int64)
                return x << cc if op == "<<" else x >> cc
            assert_same_outcome(lambda: f(torch), lambda: f(mc))


@pytest.mark.parametrize("case", [
    lambda L: L.isclose(L.tensor([2**53]), L.tensor([2**53 + 1]), rtol=0, atol=0),
    lambda L: L.isclose(L.tensor([2**62, 5]), L.tensor([2**62 + 1, 5]), rtol=0, atol=0),
    lambda L: L.tensor(L.allclose(L.tensor([2**53]), L.tensor([2**53 + 1]), rtol=0, atol=0)),
    lambda L: L.isclose(L.tensor([2**62]), L.tensor([2**62 + 3]), rtol=0, atol=2),
    lambda L: L.isclose(L.tensor([1.0, float("nan")]), L.tensor([1.0, float("nan")]), rtol=0, atol=0, equal_nan=True),
    lambda L: L.isclose(L.tensor([200], dtype=L.uint8), L.tensor([10], dtype=L.uint8), atol=60),
], ids=range(6))
def test_isclose_without_tolerances_is_equality(case):
    # with rtol = atol = 0 torch compares for equality: int64 values past 2**53 stay apart
    assert_same(case(mc), case(torch))


# ---------------------------------------------------------------- Note [Floating floor division] (csrc/ops.c)

@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_floating_floor_division_as_torch(dtype):
    # torch rounds (a - fmod(a, b)) / b, not floor(a / b): 7.0 // 0.1 is 69; zeros keep a / b's sign, a zero
    # divisor gives a / b, an infinite one -1 or a signed zero; the forms //, floor_divide, div(rounding_mode='floor')
    # and a Python dividend
    specials = [0.0, -0.0, 0.1, -0.1, 7.0, -7.0, 1.0, 3.0, -3.0, float("inf"), -float("inf"), float("nan"), 1e-30,
                1e30, 2.5, 5.0, 0.3]
    rng = np.random.default_rng(5)
    a = np.array([x for x in specials for _ in specials] + list(rng.standard_normal(500) * 100))
    b = np.array([y for _ in specials for y in specials] + list(rng.standard_normal(500) * 3))
    for f in (lambda L, x, y: x // y, lambda L, x, y: L.floor_divide(x, y),
              lambda L, x, y: L.div(x, y, rounding_mode="floor"), lambda L, x, y: 7.0 // y, lambda L, x, y: x // 0.1):
        ours, theirs = (f(L, L.from_numpy(a).to(getattr(L, dtype)), L.from_numpy(b).to(getattr(L, dtype)))
                        for L in (mc, torch))
        # half types: both sides round to the type, but in other steps (torch's fmod, MLX's remainder), so a large
        # quotient can land a spacing or two of the type away (42 of 2,324 bfloat16 cases; floor(a / b) missed 312)
        half = dtype in ("bfloat16", "float16")
        assert_same(ours, theirs, rtol=1e-2 if half else 0, atol=1 if half else 0)
        if not half:  # the zeros' signs too (a NaN's sign is not torch's concern)
            o, t = np.array(ours.tolist()), theirs.numpy()
            assert ((np.signbit(o) == np.signbit(t)) | np.isnan(t)).all()


def test_pow_scalar_exponents_that_fit_and_round_of_integers():
    """The kernel-type checks of pow(Tensor, Scalar) refuse only what does not fit (tests/test_errors.py
    REFUSAL_CASES): these compute as torch's."""
    cases = [lambda L: L.tensor([1.0]) ** 1e300, lambda L: L.tensor([True]) ** 300,
             lambda L: L.tensor([2], dtype=L.int32) ** 1e40, lambda L: L.tensor([2], dtype=L.int32) ** L.tensor(2 ** 40),
             lambda L: L.pow(2 ** 40, L.tensor([2], dtype=L.int32)), lambda L: L.tensor([3], dtype=L.int8) ** 127,
             lambda L: L.tensor([1.0], dtype=L.half) ** 65504, lambda L: L.round(L.tensor([15, -25])),
             lambda L: L.tensor([3], dtype=L.uint8).round()]
    for f in cases:
        assert_same(f(mc), f(torch))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_round_decimals_bitwise(dtype):
    """torch's nearbyint(x * 10^k) / 10^k in the op math type: bit for bit (MLX's own multiplies back by 10^-k)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(4000) * 10 ** rng.uniform(-3, 6, 4000),
                        [2.675, 1.005, 0.125, -2.5, 1e30, np.nan, np.inf, -0.0]])
    for dec in (-3, -1, 0, 1, 2, 5):
        theirs = torch.round(torch.tensor(x).to(getattr(torch, dtype)), decimals=dec)
        ours = mc.round(mc.tensor(x).to(getattr(mc, dtype)), decimals=dec)
        assert ours.dtype == getattr(mc, dtype)
        np.testing.assert_array_equal(ours.double().numpy(), theirs.double().numpy())


def test_atan2_gradient_where_the_squares_vanish():
    """torch's atan2 backward is 0 where a^2 + b^2 is 0 (at the origin, or when the squares underflow)."""
    a_data, b_data = [0.0, 1e-30, 0.0, 1e-20, 0.5], [0.0, 0.0, 1e-30, 1e-20, -2.0]
    grads = []
    for L in (torch, mc):
        a, b = L.tensor(a_data, requires_grad=True), L.tensor(b_data, requires_grad=True)
        L.atan2(a, b).sum().backward()
        grads.append((a.grad, b.grad))
    assert_same(grads[1][0], grads[0][0])
    assert_same(grads[1][1], grads[0][1])


@pytest.mark.parametrize("fn", ["xlogy", "special.xlog1py"])
@pytest.mark.parametrize("other", ["tensor", 2.0, -1.0, 0.0])
def test_xlogy_gradients_at_zero(fn, other):
    """d/dx x log y at x = 0 is log y, as torch's (0 only where y <= 0, -1 for xlog1py); the other's gradient, and
    NaN / inf arguments, as torch's."""
    xs = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 2.0, float("nan"), 0.0]
    ys = [0.0, -1.0, 2.0, 0.0, -1.0, float("nan"), float("nan"), 1.0, float("inf")]
    grads = []
    for L in (torch, mc):
        f = L.xlogy if fn == "xlogy" else L.special.xlog1py
        x, y = L.tensor(xs, requires_grad=True), L.tensor(ys, requires_grad=True)
        f(x, y if other == "tensor" else other).sum().backward()
        grads.append((x.grad, y.grad if other == "tensor" else None))
    assert_same(grads[1][0], grads[0][0])
    if other == "tensor":
        assert_same(grads[1][1], grads[0][1])


@pytest.mark.parametrize("name", ["abs_", "acos_", "acosh_", "asin_", "atan_", "atanh_", "ceil_", "cos_", "cosh_",
                                  "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_",
                                  "i0_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
                                  "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_",
                                  "sqrt_", "square_", "tan_", "tanh_", "trunc_"])
def test_inplace_function_forms(name):
    """torch.<op>_(x): the in-place method, returning x itself; torch's TypeError for a non-tensor."""
    results = []
    for L in (torch, mc):
        x = L.tensor([0.3, 0.7, 1.5, -0.2])
        r = getattr(L, name)(x)
        assert r is x
        results.append(x)
    assert_same(results[1], results[0])
    assert_raises_same(lambda: getattr(torch, name)([1.0]), lambda: getattr(mc, name)([1.0]))


def test_inplace_function_forms_with_arguments():
    cases = [lambda L: L.clamp_(L.tensor([5., -5]), min=-1, max=1), lambda L: L.clamp_max_(L.tensor([5., -5]), 1),
             lambda L: L.clamp_min_(L.tensor([5., -5]), 1), lambda L: L.clip_(L.tensor([5., -5]), -1, 1),
             lambda L: L.index_put_(L.zeros(3), (L.tensor([1]),), L.tensor(2.)),
             lambda L: L.xlogy_(L.tensor([0., 2.]), L.tensor([3., 4.])),
             lambda L: L.addmv_(L.zeros(2), L.ones(2, 3), L.ones(3)),
             lambda L: L.as_strided_(L.arange(6.), (2, 2), (1, 2))]
    for f in cases:
        assert_same(f(mc), f(torch))
    assert not mc.detach_(mc.ones(2, requires_grad=True) * 2).requires_grad
