"""Reductions, scans and statistics (mlx_compat/_ops/reduction.py) and sorting (mlx_compat/_ops/sorting.py) against
torch 2.13 on the same inputs: values, dtypes, shapes, indices, named tuples, errors and gradients."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, both, mc, torch

NAN = float("nan")
INF = float("inf")


def _cmp(m, t, rtol=1e-5, atol=1e-5, check_type=True):
    """Results match: tensors by dtype/shape/values, tuples element-wise (named tuples by type name)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(m, mc.Tensor), f"ours {type(m)}"
        assert_same(m, t, rtol=rtol, atol=atol)
    elif isinstance(t, tuple):
        assert isinstance(m, tuple) and len(m) == len(t), f"ours {m!r}"
        if check_type and hasattr(t, "_fields"):
            assert type(m).__name__ == type(t).__name__ and m._fields == t._fields
            assert repr(m).startswith(f"torch.return_types.{type(t).__name__}(")
        for a, b in zip(m, t):
            _cmp(a, b, rtol, atol)
    else:
        assert m == t


def run(fn, data, dtype=None, rtol=1e-5, atol=1e-5):
    t, m = both(np.asarray(data) if not isinstance(data, np.ndarray) else data, dtype)
    _cmp(fn(m, mc), fn(t, torch), rtol, atol)


def randn(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def ints(shape, lo=0, hi=4, seed=0):
    return np.random.default_rng(seed).integers(lo, hi, size=shape)


def grad_check(fn, *arrays, dtype="float32", rtol=1e-4, atol=1e-5, seed=1):
    """Same inputs, fn on both, backward with one random cotangent per output; compare the .grad."""
    ts, ms = [], []
    for a in arrays:
        t, m = both(np.asarray(a), dtype)
        t.requires_grad_(True)
        m.requires_grad_(True)
        ts.append(t)
        ms.append(m)
    rt, rm = fn(torch, *ts), fn(mc, *ms)
    rt = [rt] if isinstance(rt, torch.Tensor) else [r for r in rt if r.dtype.is_floating_point]
    rm = [rm] if isinstance(rm, mc.Tensor) else [r for r in rm if r.dtype.is_floating_point]
    rng = np.random.default_rng(seed)
    lt, lm = 0, 0
    for a, b in zip(rt, rm):
        _cmp(b, a, rtol, atol)
        c = rng.standard_normal(tuple(a.shape)).astype(np.float32)
        ct, cm = both(c, dtype)
        lt = lt + (a * ct).sum()
        lm = lm + (b * cm).sum()
    lt.backward()
    lm.backward()
    for a, b in zip(ts, ms):
        assert b.grad is not None
        assert_same(b.grad, a.grad, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- reductions

@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32", "float64"])
def test_prod(dtype):
    a = ints((3, 4), 0, 3) if dtype != "float32" else randn((3, 4))
    run(lambda x, T: T.prod(x), a, dtype)
    run(lambda x, T: x.prod(), a, dtype)
    for d in (0, -1):
        for k in (False, True):
            run(lambda x, T: T.prod(x, d, keepdim=k), a, dtype)
    run(lambda x, T: T.prod(x, 1, dtype=T.float64), a, dtype)
    run(lambda x, T: T.prod(x[0, 0]), a, dtype)
    run(lambda x, T: T.prod(x[0, 0], 0, True), a, dtype)
    run(lambda x, T: T.prod(x[:0], 0), a, dtype)
    run(lambda x, T: T.prod(x[:0]), a, dtype)


def test_prod_errors_and_out():
    t, m = both(randn((2, 3)))
    assert_raises_same(lambda: torch.prod(t, (0, 1)), lambda: mc.prod(m, (0, 1)))
    to, mo = torch.empty(0), mc.empty(0)
    torch.prod(t, 1, out=to)
    mc.prod(m, 1, out=mo)
    assert_same(mo, to)


@pytest.mark.parametrize("dtype", ["int32", "float32", "bool"])
def test_aminmax(dtype):
    a = ints((3, 4), -3, 3) if dtype != "float32" else randn((3, 4))
    run(lambda x, T: T.aminmax(x), a, dtype)
    run(lambda x, T: x.aminmax(dim=0), a, dtype)
    run(lambda x, T: T.aminmax(x, dim=-1, keepdim=True), a, dtype)
    run(lambda x, T: T.aminmax(x, keepdim=True), a, dtype)
    run(lambda x, T: T.aminmax(x[0, 0], dim=0), a, dtype)
    t, m = both(a[:0], dtype)
    assert_raises_same(lambda: torch.aminmax(t), lambda: mc.aminmax(m))


def test_logsumexp():
    a = randn((3, 4, 2)) * 3
    for d in (0, -1, (0, 2), [1]):
        for k in (False, True):
            run(lambda x, T: T.logsumexp(x, d, keepdim=k), a)
    run(lambda x, T: T.logsumexp(x, 1), a, "float64")
    run(lambda x, T: x.logsumexp(1), ints((3, 4)), "int64")
    run(lambda x, T: T.logsumexp(x, 0), np.array([[-INF, 1.0], [-INF, INF]], np.float32))
    run(lambda x, T: T.logsumexp(x[0, 0, 0], 0), a)
    run(lambda x, T: T.logsumexp(x[:, :0], 1), a)


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, 0, INF, -INF, None])
def test_norm(p):
    a = randn((3, 4, 2))
    a[0, 1] = 0
    run(lambda x, T: T.norm(x, p) if p is not None else T.norm(x, p=None), a)
    run(lambda x, T: x.norm(p, dim=1), a)
    run(lambda x, T: T.norm(x, p, dim=(0, 2), keepdim=True), a)
    run(lambda x, T: T.norm(x, p, -1, False, dtype=T.float64), a)
    run(lambda x, T: x.norm(p, -1, True, T.float64), a)
    run(lambda x, T: T.norm(x, p, keepdim=True), a)
    run(lambda x, T: T.norm(x[0, 0, 0], p), a)


def test_norm_nuc_and_errors():
    a = randn((3, 4, 2))
    run(lambda x, T: T.norm(x[0], "nuc"), a, rtol=1e-4)
    run(lambda x, T: T.norm(x, "nuc", dim=(0, 1), keepdim=True), a, rtol=1e-4)
    run(lambda x, T: T.norm(x, "fro", dim=(0, 1)), a)
    t, m = both(ints((3,)))
    assert_raises_same(lambda: torch.norm(t), lambda: mc.norm(m))


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32"])
def test_count_nonzero(dtype):
    a = ints((3, 4, 2), 0, 2) if dtype != "float32" else (ints((3, 4, 2), 0, 2) * randn((3, 4, 2)))
    run(lambda x, T: T.count_nonzero(x), a, dtype)
    run(lambda x, T: x.count_nonzero(1), a, dtype)
    run(lambda x, T: T.count_nonzero(x, (0, -1)), a, dtype)
    run(lambda x, T: T.count_nonzero(x[0, 0, 0]), a, dtype)


def test_nansum_nanmean():
    a = randn((3, 4))
    a[0, 1] = a[2, 2] = NAN
    a[1] = NAN
    for fn in ("nansum", "nanmean"):
        run(lambda x, T: getattr(T, fn)(x), a)
        run(lambda x, T: getattr(x, fn)(1), a)
        run(lambda x, T: getattr(T, fn)(x, (0, 1), keepdim=True), a)
        run(lambda x, T: getattr(T, fn)(x, 0, dtype=T.float64), a)
        run(lambda x, T: getattr(T, fn)(x[0, 1]), a)
    run(lambda x, T: T.nansum(x, 0), ints((3, 4)), "int8")
    run(lambda x, T: T.nansum(x), ints((3, 4)), "bool")
    t, m = both(ints((3,)))
    assert_raises_same(lambda: torch.nanmean(t), lambda: mc.nanmean(m))


def test_var_mean_std_mean():
    a = randn((3, 4))
    for fn in ("var_mean", "std_mean"):
        run(lambda x, T: getattr(T, fn)(x), a)
        run(lambda x, T: getattr(T, fn)(x, 1), a)
        run(lambda x, T: getattr(T, fn)(x, (0, 1), keepdim=True), a)
        run(lambda x, T: getattr(T, fn)(x, 0, correction=0), a)
        run(lambda x, T: getattr(T, fn)(x, False), a)
        run(lambda x, T: getattr(T, fn)(x, [1], True, True), a)
        run(lambda x, T: getattr(T, fn)(x, keepdim=True), a)


# ---------------------------------------------------------------- scans

@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32", "float64"])
def test_cumsum_cumprod(dtype):
    a = ints((3, 4), 0, 3) if dtype not in ("float32",) else randn((3, 4))
    for fn in ("cumsum", "cumprod"):
        for d in (0, 1, -1):
            run(lambda x, T: getattr(T, fn)(x, d), a, dtype)
            run(lambda x, T: getattr(x, fn)(dim=d), a, dtype)
        run(lambda x, T: getattr(T, fn)(x, 0, dtype=T.float32), a, dtype)
        run(lambda x, T: getattr(T, fn)(x[0, 0], 0), a, dtype)
        run(lambda x, T: getattr(T, fn)(x[:0], 0), a, dtype)


def test_cumsum_inplace_and_out():
    a = randn((3, 4))
    t, m = both(a)
    t.cumsum_(1)
    m.cumsum_(1)
    assert_same(m, t)
    t, m = both(ints((3, 4)))
    tv, mv = t[:, 1], m[:, 1]
    tv.cumprod_(0)
    mv.cumprod_(0)
    assert_same(m, t)
    t, m = both(a)
    to, mo = torch.empty(3, 4), mc.empty(3, 4)
    torch.cumsum(t, 0, out=to)
    mc.cumsum(m, 0, out=mo)
    assert_same(mo, to)


@pytest.mark.parametrize("dtype", ["bool", "int32", "float32", "float64"])
def test_cummax_cummin(dtype):
    a = ints((4, 6), 0, 3, seed=3)  # many ties
    if dtype.startswith("float"):
        a = a.astype(np.float32)
        a[1, 2] = a[1, 4] = a[3, 0] = NAN
    for fn in ("cummax", "cummin"):
        for d in (0, 1, -1):
            run(lambda x, T: getattr(T, fn)(x, d), a, dtype)
        run(lambda x, T: getattr(x, fn)(0), a, dtype)
        run(lambda x, T: getattr(T, fn)(x[0, 0], 0), a, dtype)
        run(lambda x, T: getattr(T, fn)(x[:0], 0), a, dtype)


def test_logcumsumexp():
    a = randn((3, 4)) * 3
    a[0, 0] = -INF
    for d in (0, 1, -1):
        run(lambda x, T: T.logcumsumexp(x, d), a, rtol=1e-5)
        run(lambda x, T: x.logcumsumexp(d), a, "float64")
    run(lambda x, T: T.logcumsumexp(x[1, 1], 0), a)
    t, m = both(ints((3,)))
    assert_raises_same(lambda: torch.logcumsumexp(t, 0), lambda: mc.logcumsumexp(m, 0))


# ---------------------------------------------------------------- sorting and selection

def _check_indices_select(m_res, x_np, dim, keepdim=False):
    """Indices (ties may differ from torch's) select the returned values."""
    v, i = m_res
    x = np.asarray(x_np)
    idx = i.numpy()
    if not keepdim and x.ndim:
        idx = np.expand_dims(idx, dim)
    g = np.take_along_axis(x, idx, axis=dim) if x.ndim else x
    vals = v.numpy() if keepdim or not x.ndim else np.expand_dims(v.numpy(), dim)
    np.testing.assert_array_equal(g.reshape(vals.shape), vals)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int16", "int64", "float16", "float32", "float64"])
def test_sort_argsort(dtype):
    a = ints((4, 7), 0, 3, seed=5)  # ties: torch's stable sort order is compared
    if dtype.startswith("float"):
        a = a.astype(np.float32) + 0.5
        a[0, 3] = a[2, 0] = NAN
        a[1, 1] = -INF
    for d in (0, 1, -1):
        for desc in (False, True):
            run(lambda x, T: T.sort(x, dim=d, descending=desc, stable=True), a, dtype)
            run(lambda x, T: x.sort(dim=d, descending=desc, stable=True), a, dtype)
            run(lambda x, T: T.argsort(x, dim=d, descending=desc, stable=True), a, dtype)
            run(lambda x, T: x.argsort(dim=d, descending=desc, stable=True), a, dtype)
    run(lambda x, T: T.sort(x, stable=True, dim=0, descending=True), a, dtype)
    run(lambda x, T: T.msort(x), a, dtype)
    run(lambda x, T: x.msort(), a, dtype)
    run(lambda x, T: T.sort(x[0, 0]), a, dtype)
    run(lambda x, T: T.argsort(x[0, 0]), a, dtype)
    run(lambda x, T: T.sort(x[:, :0]), a, dtype)


def test_sort_unstable_distinct_and_out():
    a = randn((5, 9))
    run(lambda x, T: T.sort(x), a)
    run(lambda x, T: T.sort(x, 0, True), a)
    run(lambda x, T: T.argsort(x, 0, True), a)
    t, m = both(a)
    tv, ti = torch.empty(0), torch.empty(0, dtype=torch.long)
    mv, mi = mc.empty(0), mc.empty(0, dtype=mc.long)
    rt = torch.sort(t, 1, out=(tv, ti))
    rm = mc.sort(m, 1, out=(mv, mi))
    _cmp(rm, rt)
    assert_same(mv, tv)
    assert_same(mi, ti)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_topk(dtype):
    a = (np.random.default_rng(0).permutation(40).reshape(5, 8) * 3 - 7).astype(np.float32)  # distinct
    for k in (1, 3, 5):
        for largest in (True, False):
            run(lambda x, T: T.topk(x, k, dim=0, largest=largest), a, dtype)
            run(lambda x, T: x.topk(k, largest=largest), a, dtype)
            run(lambda x, T: T.topk(x, k, -1, largest, True), a, dtype)
    run(lambda x, T: T.topk(x, 0), a, dtype)
    run(lambda x, T: T.topk(x[0, 0], 1), a, dtype)
    t, m = both(a, dtype)
    assert_raises_same(lambda: torch.topk(t, 9), lambda: mc.topk(m, 9))
    # unsorted: the same set of values
    vt, _ = torch.topk(t, 3, sorted=False)
    vm, im = mc.topk(m, 3, sorted=False)
    np.testing.assert_array_equal(np.sort(vm.numpy(), 1), np.sort(vt.numpy(), 1))
    # nan counts as the largest
    b = randn((2, 5))
    b[0, 2] = NAN
    run(lambda x, T: T.topk(x, 2), b)
    run(lambda x, T: T.topk(x, 2, largest=False), b)


def test_topk_ties_values():
    a = ints((4, 9), 0, 3, seed=2)
    t, m = both(a)
    for largest in (True, False):
        rt, rm = torch.topk(t, 4, largest=largest), mc.topk(m, 4, largest=largest)
        assert_same(rm.values, rt.values)
        _check_indices_select(rm, a, 1, keepdim=True)


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_kthvalue(dtype):
    a = np.argsort(randn((4, 6)), axis=1).astype(np.float64) * 1.5 - 2  # distinct along dim 1
    b = np.argsort(randn((6, 4)), axis=0).astype(np.float64) - 2  # distinct along dim 0
    if dtype == "int64":
        a, b = a.round(), b.round()
    for k in (1, 3, 6):
        run(lambda x, T: T.kthvalue(x, k), a, dtype)
        run(lambda x, T: x.kthvalue(k, 1, True), a, dtype)
        run(lambda x, T: T.kthvalue(x, k, 0, keepdim=False), b, dtype)
    run(lambda x, T: T.kthvalue(x[0, 0], 1), a, dtype)
    t, m = both(a, dtype)
    assert_raises_same(lambda: torch.kthvalue(t, 7), lambda: mc.kthvalue(m, 7))
    assert_raises_same(lambda: torch.kthvalue(t, 0), lambda: mc.kthvalue(m, 0))
    # ties: values match, indices select them
    c = ints((3, 7), 0, 3)
    t, m = both(c)
    rt, rm = torch.kthvalue(t, 4), mc.kthvalue(m, 4)
    assert_same(rm.values, rt.values)
    _check_indices_select(rm, c, 1)
    # nan is the largest
    f = randn((2, 5))
    f[1, 3] = NAN
    run(lambda x, T: T.kthvalue(x, 5), f)
    run(lambda x, T: T.kthvalue(x, 2), f)


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_median(fn, dtype):
    a = np.argsort(randn((5, 6)), axis=1) * 2.0 - 3  # distinct along dim 1, even and odd counts
    b = np.argsort(randn((5, 7)), axis=1) * 2.0 - 3
    for arr in (a, b):
        run(lambda x, T: getattr(T, fn)(x), arr, dtype)
        run(lambda x, T: getattr(x, fn)(), arr, dtype)
        run(lambda x, T: getattr(T, fn)(x, 1), arr, dtype)
        run(lambda x, T: getattr(T, fn)(x, -1, keepdim=True), arr, dtype)
    run(lambda x, T: getattr(T, fn)(x[0, 0]), a, dtype)
    run(lambda x, T: getattr(T, fn)(x[0, 0], 0), a, dtype)
    c = ints((4, 7), 0, 3)
    t, m = both(c, dtype)
    rt, rm = getattr(torch, fn)(t, 1), getattr(mc, fn)(m, 1)
    assert_same(rm.values, rt.values)
    _check_indices_select(rm, c, 1)
    if dtype != "int64":
        f = randn((4, 5))
        f[0, 2] = f[0, 4] = NAN
        f[2, 0] = NAN
        run(lambda x, T: getattr(T, fn)(x, 1), f, dtype)
        f[1, :] = NAN  # an all-NaN row: torch's index there comes from nth_element's internals
        t, m = both(f, dtype)
        rt, rm = getattr(torch, fn)(t, 1), getattr(mc, fn)(m, 1)
        assert_same(rm.values, rt.values)
        assert_same(rm.indices[[0, 2, 3]], rt.indices[[0, 2, 3]])
        run(lambda x, T: getattr(T, fn)(x), f, dtype)
        run(lambda x, T: getattr(T, fn)(x[3]), f, dtype)
        run(lambda x, T: getattr(T, fn)(x[:0]), f, dtype)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32"])
def test_mode(dtype):
    a = ints((5, 9), 0, 4, seed=7)
    run(lambda x, T: T.mode(x), a, dtype)
    run(lambda x, T: x.mode(0), a, dtype)
    run(lambda x, T: T.mode(x, -1, True), a, dtype)
    run(lambda x, T: T.mode(x[0, 0]), a, dtype)
    run(lambda x, T: T.mode(x[0]), np.array([[3, 1, 3, 1, 2, 2, 5, 5]]), dtype)


@pytest.mark.parametrize("interp", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quantile(interp, dtype):
    a = randn((4, 7))
    f = a.copy()
    f[0, 1] = f[2, 5] = NAN
    f[3] = NAN
    for fn in ("quantile", "nanquantile"):
        for arr in (a, f):
            run(lambda x, T: getattr(T, fn)(x, 0.3, interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(x, fn)(0.5, dim=1, interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x, 0.625, 0, True, interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x, T.tensor([0.0, 0.25, 0.5, 1.0], dtype=x.dtype), 1,
                                            interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x, T.tensor([0.1, 0.9], dtype=x.dtype), None, True,
                                            interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x, T.tensor([0.1, 0.9], dtype=x.dtype), -1, True,
                                            interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x[0, 0], 0.5, interpolation=interp), arr, dtype)
            run(lambda x, T: getattr(T, fn)(x, T.tensor(0.75, dtype=x.dtype), 0, interpolation=interp), arr, dtype)


def test_quantile_errors():
    t, m = both(randn((3, 4)))
    ti, mi = both(ints((3, 4)))
    assert_raises_same(lambda: torch.quantile(ti, 0.5), lambda: mc.quantile(mi, 0.5))
    assert_raises_same(lambda: torch.quantile(t, 1.5), lambda: mc.quantile(m, 1.5))
    assert_raises_same(lambda: torch.quantile(t, 0.5, interpolation="x"), lambda: mc.quantile(m, 0.5, interpolation="x"))
    assert_raises_same(lambda: torch.quantile(t, torch.tensor([0.5], dtype=torch.float64)),
                       lambda: mc.quantile(m, mc.tensor([0.5], dtype=mc.float64)))
    assert_raises_same(lambda: torch.quantile(t[:0], 0.5), lambda: mc.quantile(m[:0], 0.5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc(dtype):
    a = randn((50,)) * 3
    run(lambda x, T: T.histc(x), a, dtype)
    run(lambda x, T: x.histc(bins=7), a, dtype)
    run(lambda x, T: T.histc(x, 5, min=-1, max=2), a, dtype)
    run(lambda x, T: T.histc(x, 4, -2, 2), np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], np.float32), dtype)
    run(lambda x, T: T.histc(x, 3), np.full((4,), 2.0, np.float32), dtype)
    run(lambda x, T: T.histc(x, 3), np.zeros((0,), np.float32), dtype)
    run(lambda x, T: T.histc(x[0], 3), a, dtype)
    t, m = both(a, dtype)
    assert_raises_same(lambda: torch.histc(t, 3, 2, 1), lambda: mc.histc(m, 3, 2, 1))
    a[3] = NAN  # ignored within an explicit range; the data's range is NaN otherwise (torch's error)
    run(lambda x, T: T.histc(x, 6, -2, 2), a, dtype)
    t, m = both(a, dtype)
    assert_raises_same(lambda: torch.histc(t), lambda: mc.histc(m))


# ---------------------------------------------------------------- data-dependent shapes

@pytest.mark.parametrize("dtype", ["bool", "uint8", "int64", "float32", "bfloat16"])
def test_unique(dtype):
    a = ints((4, 5), 0, 3, seed=1)
    for s in (True, False):
        for inv in (False, True):
            for cnt in (False, True):
                run(lambda x, T: T.unique(x, sorted=s, return_inverse=inv, return_counts=cnt), a, dtype)
    run(lambda x, T: x.unique(return_inverse=True, return_counts=True), a, dtype)
    b = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1], [1, 1, 1]])
    for d in (0, 1, -1):
        run(lambda x, T: T.unique(x, return_inverse=True, return_counts=True, dim=d), b, dtype)
        run(lambda x, T: x.unique(dim=d), b, dtype)
    run(lambda x, T: T.unique(x[0, 0], return_inverse=True, return_counts=True), a, dtype)
    run(lambda x, T: T.unique(x[:0], return_inverse=True, return_counts=True), a, dtype)


def test_unique_nan():
    run(lambda x, T: T.unique(x, return_inverse=True, return_counts=True), np.array([1.0, NAN, NAN, 1.0, 0.0]))


@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_unique_consecutive(dtype):
    a = np.array([[1, 1, 2, 2, 3, 1, 1, 2], [0, 0, 0, 1, 1, 0, 2, 2]])
    for inv in (False, True):
        for cnt in (False, True):
            run(lambda x, T: T.unique_consecutive(x, return_inverse=inv, return_counts=cnt), a, dtype)
            run(lambda x, T: x.unique_consecutive(return_inverse=inv, return_counts=cnt, dim=1), a, dtype)
    b = np.array([[1, 0], [1, 0], [0, 1], [1, 0], [1, 0]])
    run(lambda x, T: T.unique_consecutive(x, return_inverse=True, return_counts=True, dim=0), b, dtype)
    run(lambda x, T: T.unique_consecutive(x[0, 0], return_inverse=True, return_counts=True), a, dtype)
    run(lambda x, T: T.unique_consecutive(x[:0], return_inverse=True, return_counts=True), a, dtype)


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32", "complex64"])
def test_nonzero_argwhere(dtype):
    a = ints((3, 4, 2), 0, 2, seed=4)
    run(lambda x, T: T.nonzero(x), a, dtype)
    run(lambda x, T: x.nonzero(), a, dtype)
    run(lambda x, T: T.nonzero(x, as_tuple=True), a, dtype)
    run(lambda x, T: T.argwhere(x), a, dtype)
    run(lambda x, T: x.argwhere(), a, dtype)
    run(lambda x, T: T.nonzero(x[0, 0, 1]), np.ones((1, 1, 2)), dtype)
    run(lambda x, T: T.nonzero(x[0, 0, 0]), np.zeros((1, 1, 2)), dtype)
    run(lambda x, T: T.nonzero(x[0, 0, 1], as_tuple=True), np.ones((1, 1, 2)), dtype)
    run(lambda x, T: T.nonzero(x[:0]), a, dtype)
    run(lambda x, T: T.nonzero(x[:0], as_tuple=True), a, dtype)


# ---------------------------------------------------------------- searchsorted / bucketize

@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_searchsorted(dtype):
    seq = np.array([1, 2, 2, 4, 7, 9])
    vals = np.array([[0, 2, 3], [9, 10, 4]])
    ts, ms = both(seq, dtype)
    tv, mv = both(vals, dtype)
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        _cmp(mc.searchsorted(ms, mv, **kw), torch.searchsorted(ts, tv, **kw))
        _cmp(mc.bucketize(mv, ms, **{k: v for k, v in kw.items() if k != "side"}),
             torch.bucketize(tv, ts, **{k: v for k, v in kw.items() if k != "side"}))
    _cmp(mc.searchsorted(ms, 3), torch.searchsorted(ts, 3))
    _cmp(mc.bucketize(3, ms, right=True), torch.bucketize(3, ts, right=True))
    _cmp(mc.searchsorted(ms, mv[0, 1]), torch.searchsorted(ts, tv[0, 1]))
    # N-d boundaries: leading dims match
    seq2 = np.sort(ints((2, 5), 0, 10, seed=3), axis=1)
    ts2, ms2 = both(seq2, dtype)
    for r in (False, True):
        _cmp(mc.searchsorted(ms2, mv, right=r), torch.searchsorted(ts2, tv, right=r))
    # sorter
    unsorted = np.array([4, 1, 9, 2, 7, 2])
    tu, mu = both(unsorted, dtype)
    _cmp(mc.searchsorted(mu, mv, sorter=mc.argsort(mu)), torch.searchsorted(tu, tv, sorter=torch.argsort(tu)))
    assert_raises_same(lambda: torch.searchsorted(ts, tv, side="left", right=True),
                       lambda: mc.searchsorted(ms, mv, side="left", right=True))
    assert_raises_same(lambda: torch.bucketize(tv, ts2), lambda: mc.bucketize(mv, ms2))


def test_searchsorted_nan():
    seq = np.array([1.0, 2.0, 3.0], np.float32)
    vals = np.array([NAN, 2.0, -INF, INF], np.float32)
    ts, ms = both(seq)
    tv, mv = both(vals)
    for r in (False, True):
        _cmp(mc.searchsorted(ms, mv, right=r), torch.searchsorted(ts, tv, right=r))


def test_searchsorted_nan_and_unsorted_boundaries():
    # Note [searchsorted as torch's binary search]: with NaN boundaries (torch's sort puts them last) or unsorted
    # ones, torch's index depends on its search path: [1, 2, 3, nan x4] places 1.5 at 7
    rng = np.random.default_rng(0)
    pool = np.array([NAN, 1.0, 2.0, 3.0, -1.0, 0.0, INF], np.float32)
    cases = [(np.array([1, 2, 3, NAN, NAN, NAN, NAN], np.float32), np.array([1.5, NAN, 5, 0], np.float32))]
    for trial in range(60):
        b = rng.choice(pool, int(rng.integers(0, 12)))
        if trial % 2:
            b = np.concatenate([np.sort(b[~np.isnan(b)]), b[np.isnan(b)]])
        cases.append((b, rng.choice(pool, 5)))
    for b, v in cases:
        ts, ms = both(b)
        tv, mv = both(v)
        for r in (False, True):
            _cmp(mc.searchsorted(ms, mv, right=r), torch.searchsorted(ts, tv, right=r))
            if b.size:
                ts2, ms2 = both(np.stack([b, b[::-1]]))
                tv2, mv2 = both(np.stack([v, v]))
                _cmp(mc.searchsorted(ms2, mv2, right=r), torch.searchsorted(ts2, tv2, right=r))
    # bool: torch has no kernel where both sides are bool; a bool side promotes with an integer one
    tb, mb = both(np.array([False, True]))
    assert_raises_same(lambda: torch.searchsorted(tb, tb), lambda: mc.searchsorted(mb, mb))
    assert_raises_same(lambda: torch.searchsorted(tb, True), lambda: mc.searchsorted(mb, True))
    _cmp(mc.searchsorted(mb, mc.tensor([1])), torch.searchsorted(tb, torch.tensor([1])))
    _cmp(mc.searchsorted(mc.tensor([1, 2]), mb), torch.searchsorted(torch.tensor([1, 2]), tb))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_scans_accumulate_in_float32(dtype):
    """torch's half-type scans accumulate in float32 and round each output once: bit for bit, values and
    gradients (a float16 cumsum of 3,000 ones is 3000, not float16's stall at 2048)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 700)).astype(np.float32)
    for name, data in (("cumsum", x), ("cumprod", 1 + 0.01 * x), ("logcumsumexp", x)):
        tt = torch.tensor(data).to(getattr(torch, dtype)).requires_grad_()
        mt = mc.tensor(data).to(getattr(mc, dtype)).requires_grad_()
        tr, mr = getattr(torch, name)(tt, 1), getattr(mc, name)(mt, 1)
        np.testing.assert_array_equal(mr.detach().float().numpy(), tr.detach().float().numpy())
        if name == "cumsum":
            tr.backward(torch.ones_like(tr))
            mr.backward(mc.ones_like(mr))
            np.testing.assert_array_equal(mt.grad.float().numpy(), tt.grad.float().numpy())
    assert_same(mc.full((3000,), 1.0, dtype=getattr(mc, dtype)).cumsum(0),
                torch.full((3000,), 1.0, dtype=getattr(torch, dtype)).cumsum(0))


def test_logsumexp_gradient_with_infinities():
    """torch's grad * exp(x - result): a +inf element's gradient is NaN and the others' 0; all -inf gives NaN."""
    for data in ([INF, 1.0, 2.0], [INF, INF, 2.0], [-INF, -INF], [NAN, 1.0], [1.0, 2.0, 3.0]):
        grads = []
        for L in (torch, mc):
            x = L.tensor(data, requires_grad=True)
            L.logsumexp(x, 0).backward()
            grads.append(x.grad)
        assert_same(grads[1], grads[0])


def test_std_gradient_of_a_constant_slice_is_zero():
    """torch's std backward masks std == 0 to a zero gradient (sqrt's derivative there is inf); also under
    create_graph and through std_mean."""
    data = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], np.float32)
    outs = []
    for L in (torch, mc):
        x = L.tensor(data, requires_grad=True)
        (g,) = L.autograd.grad(x.std(1).sum(), x, create_graph=True)
        y = L.tensor(data[0], requires_grad=True)
        L.std_mean(y)[0].backward()
        outs.append((g.detach(), y.grad))
    assert_same(outs[1][0], outs[0][0])
    assert_same(outs[1][1], outs[0][1])


# ---------------------------------------------------------------- gradients

def test_grad_reductions():
    a = randn((3, 4))
    z = a.copy()
    z[0, 1] = 0
    z[1, 2] = z[1, 3] = 0
    grad_check(lambda T, x: T.prod(x), z[2:])
    grad_check(lambda T, x: T.prod(x, 1), z)
    grad_check(lambda T, x: x.prod(0, keepdim=True), z)
    grad_check(lambda T, x: T.logsumexp(x, (0, 1)), a)
    grad_check(lambda T, x: T.logsumexp(x, 1, keepdim=True), a, dtype="float64")
    grad_check(lambda T, x: T.aminmax(x, dim=1), a)
    grad_check(lambda T, x: T.aminmax(x), np.array([[1.0, 3.0], [3.0, 1.0]], np.float32))
    n = a.copy()
    n[0, 1] = n[2, 2] = NAN
    n[1] = NAN
    grad_check(lambda T, x: T.nansum(x, 1), n)
    grad_check(lambda T, x: T.nanmean(x, 0), n)
    grad_check(lambda T, x: T.var_mean(x, 1), a)
    grad_check(lambda T, x: T.std_mean(x), a)


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, INF, -INF])
def test_grad_norm(p):
    a = randn((3, 4))
    a[1] = 0
    a[2, 1] = -a[2].max() if p == INF else a[2, 1]
    grad_check(lambda T, x: T.norm(x, p, dim=1), a)
    grad_check(lambda T, x: T.norm(x, p), a[:1])
    grad_check(lambda T, x: T.norm(x, p, dim=1, keepdim=True), a, dtype="float64")


def test_grad_norm_nuc_inf_ties():
    grad_check(lambda T, x: T.norm(x, "nuc"), randn((3, 4)))
    grad_check(lambda T, x: T.norm(x, INF, dim=1), np.array([[1.0, -3.0, 3.0], [2.0, 2.0, 2.0]], np.float32))


def test_grad_scans():
    a = randn((3, 5))
    z = a.copy()
    z[0, 2] = 0
    z[1, 1] = z[1, 3] = 0
    grad_check(lambda T, x: T.cumsum(x, 1), a)
    grad_check(lambda T, x: x.cumsum(0), a, dtype="float64")
    grad_check(lambda T, x: T.cumprod(x, 1), z)
    grad_check(lambda T, x: T.cumprod(x, 0), z)
    grad_check(lambda T, x: T.logcumsumexp(x, 1), a)
    t = ints((3, 6), 0, 3, seed=9).astype(np.float32)
    grad_check(lambda T, x: T.cummax(x, 1), t)
    grad_check(lambda T, x: T.cummin(x, 0), t)
    grad_check(lambda T, x: T.cummax(x, 0), t, dtype="float64")


def test_grad_selection():
    a = randn((4, 6))
    t = ints((4, 6), 0, 3, seed=2).astype(np.float32)  # ties
    grad_check(lambda T, x: T.sort(x, 1), a)
    grad_check(lambda T, x: T.sort(x, dim=0, descending=True, stable=True), t)
    grad_check(lambda T, x: T.sort(x, dim=1, stable=True), t)
    grad_check(lambda T, x: T.topk(x, 3), a)
    grad_check(lambda T, x: T.topk(x, 2, dim=0, largest=False), a)
    grad_check(lambda T, x: T.kthvalue(x, 2, 1), a)
    grad_check(lambda T, x: T.median(x, 1), a)
    grad_check(lambda T, x: T.nanmedian(x, 0, keepdim=True), a)
    grad_check(lambda T, x: T.median(x), a)
    grad_check(lambda T, x: T.median(x), t)  # ties share the gradient evenly
    grad_check(lambda T, x: T.nanmedian(x), np.array([1.0, NAN, 2.0, 1.0, 3.0], np.float32))
    grad_check(lambda T, x: T.median(x), np.array([1.0, NAN, 2.0, NAN], np.float32))
    grad_check(lambda T, x: T.mode(x, 1), t)
    grad_check(lambda T, x: T.msort(x), a)
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        grad_check(lambda T, x: T.quantile(x, T.tensor([0.2, 0.5], dtype=x.dtype), 1, interpolation=interp), a)
    grad_check(lambda T, x: T.quantile(x, 0.3), a)
    n = a.copy()
    n[0, 2] = NAN
    grad_check(lambda T, x: T.nanquantile(x, 0.4, 1, True), n)


def test_grad_higher_order():
    a = randn((3, 4))
    for fn in (lambda T, x: T.logsumexp(x, 1), lambda T, x: T.cumprod(x, 1), lambda T, x: T.sort(x, 1)[0] ** 2):
        t, m = both(a)
        t.requires_grad_(True)
        m.requires_grad_(True)
        gt, = torch.autograd.grad((fn(torch, t) ** 3).sum(), t, create_graph=True)
        gm, = mc.autograd.grad((fn(mc, m) ** 3).sum(), m, create_graph=True)
        assert_same(gm, gt, rtol=1e-4)
        ht, = torch.autograd.grad(gt.sum(), t)
        hm, = mc.autograd.grad(gm.sum(), m)
        assert_same(hm, ht, rtol=1e-4, atol=1e-4)


def test_grad_cumsum_inplace():
    a = randn((3, 4))
    t, m = both(a)
    t.requires_grad_(True)
    m.requires_grad_(True)
    tt, mm = t * 2, m * 2
    tt.cumsum_(1)
    mm.cumsum_(1)
    (tt * tt).sum().backward()
    (mm * mm).sum().backward()
    assert_same(m.grad, t.grad, rtol=1e-4)


def test_no_grad_for_indices_and_names():
    t, m = both(randn((3, 4)))
    m.requires_grad_(True)
    r = mc.sort(m, 1)
    assert r.values.requires_grad and not r.indices.requires_grad
    assert r.indices.dtype is mc.int64
    assert type(r.values.grad_fn).__name__ == "SortBackward0"
    assert type(mc.cumsum(m, 0).grad_fn).__name__ == "CumsumBackward0"
    assert type(mc.prod(m).grad_fn).__name__ == "ProdBackward0"
    assert not mc.argsort(m).requires_grad


def test_dtype_errors():
    tb, mb = both(np.array([True, False, True]))
    ti, mi = both(np.array([1, 2, 3]))
    tz, mz = both(np.array(5))
    tc, mcx = both(np.array([1 + 1j, 2]), "complex64")
    for fn in (lambda T, x: T.median(x), lambda T, x: T.nanmedian(x, 0), lambda T, x: T.topk(x, 1),
               lambda T, x: x.cumsum_(0)):
        assert_raises_same(lambda: fn(torch, tb), lambda: fn(mc, mb))
    assert_raises_same(lambda: torch.histc(ti), lambda: mc.histc(mi))
    assert_raises_same(lambda: torch.unique(tz, dim=0), lambda: mc.unique(mz, dim=0))
    assert_raises_same(lambda: torch.unique_consecutive(tz, dim=0), lambda: mc.unique_consecutive(mz, dim=0))
    assert_raises_same(lambda: torch.sort(tc), lambda: mc.sort(mcx))
    assert_raises_same(lambda: torch.cumsum(ti, 2), lambda: mc.cumsum(mi, 2))
    assert_raises_same(lambda: torch.median(ti[:0], 0), lambda: mc.median(mi[:0], 0))


def test_mixed_dtypes_and_complex():
    run(lambda x, T: T.searchsorted(x, T.tensor([1.5, 2.0, 3.5])), np.array([1, 2, 3]))
    run(lambda x, T: T.bucketize(T.tensor([1, 2, 5]), x), np.array([1.0, 2.5, 3.0]))
    run(lambda x, T: T.norm(x), np.array([1 + 1j, 2, -3j]), "complex64")
    run(lambda x, T: T.norm(x, 1), np.array([1 + 1j, 2, -3j]), "complex64")
    run(lambda x, T: T.logsumexp(x, 0), np.array([1 + 1j, 2]), "complex64")
    run(lambda x, T: T.prod(x, 0), np.array([1 + 1j, 2, -3j]), "complex64")
    run(lambda x, T: T.cumsum(x, 0), np.array([1 + 1j, 2, -3j]), "complex64")
    run(lambda x, T: T.count_nonzero(x, 0), np.zeros((0, 3)))
    run(lambda x, T: T.nanmean(x), np.zeros((0,)))


EMPTY_CASES = [
    lambda T, x: T.norm(x), lambda T, x: T.norm(x, INF), lambda T, x: T.norm(x, 2, 0), lambda T, x: T.norm(x, INF, 1),
    lambda T, x: T.norm(x, INF, 0), lambda T, x: T.norm(x, "nuc"), lambda T, x: T.cummax(x, 0),
    lambda T, x: T.nanmean(x, 0), lambda T, x: T.var_mean(x, 1), lambda T, x: T.sort(x, 0),
    lambda T, x: T.topk(x, 0, 0), lambda T, x: T.kthvalue(x, 1, 0), lambda T, x: T.kthvalue(x, 1, 1),
    lambda T, x: T.mode(x, 0), lambda T, x: T.mode(x, 1), lambda T, x: T.median(x, 1), lambda T, x: T.median(x, 0),
    lambda T, x: T.nanmedian(x), lambda T, x: T.logcumsumexp(x, 1), lambda T, x: T.cumprod(x, 1),
    lambda T, x: T.quantile(x, 0.5, 1), lambda T, x: T.searchsorted(T.tensor([1.0, 2.0]), x),
    lambda T, x: T.bucketize(x, T.tensor([1.0, 2.0])), lambda T, x: T.aminmax(x, dim=1),
    lambda T, x: T.aminmax(x, dim=0), lambda T, x: T.logsumexp(x, 0), lambda T, x: T.prod(x, 0),
    lambda T, x: T.argsort(x, 0), lambda T, x: T.msort(x), lambda T, x: T.unique_consecutive(x, dim=1),
    lambda T, x: T.unique(x, dim=1), lambda T, x: T.unique(x, return_counts=True, dim=0),
    lambda T, x: T.count_nonzero(x, 1), lambda T, x: T.nansum(x), lambda T, x: T.cumsum(x, 0),
]


@pytest.mark.parametrize("case", range(len(EMPTY_CASES)))
def test_empty_inputs(case):
    fn = EMPTY_CASES[case]
    t, m = both(np.zeros((0, 3), np.float32))
    try:
        fn(torch, t)
    except Exception:  # noqa: BLE001
        assert_raises_same(lambda: fn(torch, t), lambda: fn(mc, m))
        return
    _cmp(fn(mc, m), fn(torch, t))


def test_exports_and_methods():
    from mlx_compat._ops import reduction, sorting

    for module in (reduction, sorting):
        for name in module.__all__:
            assert getattr(mc, name) is getattr(module, name)
    for name in ("prod", "aminmax", "logsumexp", "norm", "count_nonzero", "cumsum", "cumsum_", "cumprod", "cumprod_",
                 "cummax", "cummin", "logcumsumexp", "median", "nanmedian", "nanmean", "nansum", "mode", "quantile",
                 "nanquantile", "histc", "sort", "argsort", "msort", "topk", "kthvalue", "unique",
                 "unique_consecutive", "nonzero", "argwhere"):
        assert hasattr(torch.Tensor, name) and hasattr(mc.Tensor, name), name
    run(lambda x, T: x.count_nonzero(0, 1), ints((2, 3, 2)))


@pytest.mark.parametrize("fn", ["amax", "amin"])
@pytest.mark.parametrize("case", [((), {"dim": 0}), ((), {"dim": -1, "keepdim": True}), ((0, 3), {"dim": 1}),
                                  ((2, 0, 3), {"dim": (0, 2), "keepdim": True}), ((3, 4), {"dim": (0, 1)})])
def test_amax_amin_edges(fn, case):
    """0-d inputs with a dim, and empty results (never reduced by MLX), against torch; gradients too."""
    shape, kw = case
    a = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    out = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        y = getattr(L, fn)(x, **kw)
        g = L.autograd.grad(y.sum(), x)[0] if x.numel() else None
        out.append((y, g))
    assert_same(out[1][0], out[0][0])
    if out[0][1] is not None:
        assert_same(out[1][1], out[0][1])


@pytest.mark.parametrize("fn", ["amax", "amin"])
def test_amax_amin_empty_errors(fn):
    for kw in ({}, {"dim": 1}):
        assert_raises_same(lambda: getattr(torch, fn)(torch.zeros(2, 0, 3), **kw),
                           lambda: getattr(mc, fn)(mc.zeros(2, 0, 3), **kw))


def test_aminmax_0d_gradient_reaches_both_outputs():
    out = []
    for L in (torch, mc):
        x = L.tensor(-1.5, requires_grad=True)
        lo, hi = L.aminmax(x, dim=0)
        out.append(L.autograd.grad(lo * 2 + hi * 5, x)[0])
    assert_same(out[1], out[0])


@pytest.mark.parametrize("largest", [True, False])
def test_max_min_0d_keepdim(largest):
    for L_kw in ({"dim": 0, "keepdim": True}, {"dim": -1}):
        t = getattr(torch, "max" if largest else "min")(torch.tensor(2.5), **L_kw)
        m = getattr(mc, "max" if largest else "min")(mc.tensor(2.5), **L_kw)
        assert_same(m.values, t.values)
        assert_same(m.indices, t.indices)


def test_sum_and_mean_record_torch_overloads_node():
    """dim=None given (even positionally) is torch's dim overload (SumBackward1 / MeanBackward1); none given, or
    only dtype=, the overload without dim (SumBackward0 / MeanBackward0)."""
    names = []
    for L in (torch, mc):
        x = L.randn(3, 4, requires_grad=True)
        calls = (lambda: x.sum(), lambda: x.sum(dim=None), lambda: x.sum(None), lambda: x.mean(dim=None, keepdim=True),
                 lambda: x.sum(dtype=L.float64), lambda: x.mean(), lambda: x.sum(0), lambda: L.mean(x),
                 lambda: L.sum(x), lambda: L.sum(x, None, True), lambda: x.mean(None))
        names.append([type(f().grad_fn).__name__ for f in calls])
    assert names[1] == names[0]


# ---------------------------------------------------------------- sums and products asked in a narrow type

@pytest.mark.parametrize("case", [
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).sum(dtype=L.int8),
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).reshape(2, 2).sum(1, dtype=L.int8),
    lambda L: L.tensor([100, 200, 127, 3, 0, 50], dtype=L.uint8).sum(dtype=L.uint8),
    lambda L: L.tensor([300, 300], dtype=L.int16).sum(dtype=L.int16) * 200,
    lambda L: L.tensor([1, 1, 0, 1], dtype=L.bool).sum(dtype=L.bool),
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).prod(dtype=L.int8),
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).prod(0, dtype=L.uint8),
    lambda L: L.tensor([100, 200], dtype=L.int16).prod(dtype=L.int16),
    lambda L: L.tensor([1, 1, 0, 1], dtype=L.bool).prod(dtype=L.bool),
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).nansum(dtype=L.int8),
    lambda L: L.tensor([120, 100, 3, 5], dtype=L.int8).float().sum(dtype=L.int8),
], ids=range(11))
def test_narrow_integer_sums_wrap(case):
    # MLX sums and multiplies bool and 8/16-bit integers into 32-bit ones; the asked type wraps as torch's
    assert_same(case(mc), case(torch))
