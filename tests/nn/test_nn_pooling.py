"""nn.functional pooling, max_unpool, unfold/fold: values, indices, gradients and error types against torch."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _lib_fn(L, name):
    return getattr(L.nn.functional, name)


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check(name, shape, *args, dtype="float32", grad=True, seed=0, data=None, **kwargs):
    """Run nn.functional.<name> on the same input in torch and mlx_compat; compare every output and, for floating
    inputs, the gradient of a random cotangent (applied to the floating outputs)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 3 if data is None else np.asarray(data)
    if "int" in dtype:
        a = np.round(a)
    a = a.astype(np.float64)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).to(getattr(L, dtype))
        if grad:
            x.requires_grad_()
        out = _flat(_lib_fn(L, name)(x, *args, **kwargs))
        g = None
        if grad:
            floats = [o for o in out if o.dtype.is_floating_point]
            cots = [L.from_numpy(np.random.default_rng(seed + 1 + i).standard_normal(tuple(o.shape)))
                    .to(o.dtype) for i, o in enumerate(floats)]
            g = L.autograd.grad(floats, [x], cots)[0]
        res.append((out, g))
    (t_out, t_g), (m_out, m_g) = res
    assert len(m_out) == len(t_out)
    for mo, to in zip(m_out, t_out):
        assert_same(mo, to)
    if grad:
        assert_same(m_g, t_g, rtol=1e-4)
    return res


def check_error(fn, *args, **kwargs):
    """fn(L, *args) raises the same exception type in both libraries."""
    errs = []
    for L in (torch, mc):
        try:
            fn(L, *args, **kwargs)
            errs.append(None)
        except Exception as e:  # noqa: BLE001
            errs.append(type(e))
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None and issubclass(errs[1], errs[0]), errs


# ---------------------------------------------------------------- avg_pool

AVG_CASES = [
    (1, (2, 3, 9), dict(kernel_size=3)),
    (1, (3, 8), dict(kernel_size=2, stride=3, padding=1)),
    (1, (2, 3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    (1, (2, 3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)),
    (2, (2, 3, 7, 6), dict(kernel_size=3)),
    (2, (3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    (2, (2, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, (2, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (2, (1, 2, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True)),
    (2, (2, 2, 6, 6), dict(kernel_size=3, stride=2, padding=1, divisor_override=4)),
    (2, (2, 2, 6, 6), dict(kernel_size=[2], stride=[1], padding=[1], count_include_pad=False)),
    (3, (2, 2, 5, 6, 4), dict(kernel_size=2)),
    (3, (2, 5, 6, 5), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True)),
    (3, (1, 2, 5, 6, 5), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (3, (1, 2, 5, 6, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=5)),
]


@pytest.mark.parametrize("nd,shape,kw", AVG_CASES)
def test_avg_pool(nd, shape, kw):
    check(f"avg_pool{nd}d", shape, **kw)


@pytest.mark.parametrize("dtype", ["float64", "float16", "int64"])
def test_avg_pool_dtypes(dtype):
    check("avg_pool2d", (2, 2, 6, 7), 3, stride=2, padding=1, dtype=dtype, grad=dtype == "float64")
    check("avg_pool1d", (2, 2, 7), 2, dtype=dtype, grad=False)


def test_avg_pool_negative_integers_truncate():
    data = np.array([[[-5.0, -3.0, 2.0, 4.0, -7.0, 0.0]]])
    check("avg_pool1d", None, 2, data=data, dtype="int64", grad=False)
    check("avg_pool1d", None, 4, stride=1, data=data, dtype="int64", grad=False)


def test_avg_pool_empty_batch():
    check("avg_pool2d", (0, 2, 4, 4), 2, grad=False)
    check("max_pool2d", (0, 2, 4, 4), 2, grad=False)


# ---------------------------------------------------------------- max_pool

MAX_CASES = [
    (1, (2, 3, 9), dict(kernel_size=3)),
    (1, (3, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    (1, (2, 3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    (2, (2, 3, 7, 6), dict(kernel_size=3)),
    (2, (3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    (2, (2, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1), ceil_mode=True)),
    (2, (1, 2, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True)),
    (2, (1, 2, 8, 8), dict(kernel_size=[3], stride=[], padding=[1])),
    (3, (2, 2, 5, 6, 4), dict(kernel_size=2)),
    (3, (2, 5, 6, 5), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True)),
    (3, (1, 2, 7, 6, 7), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
]


@pytest.mark.parametrize("nd,shape,kw", MAX_CASES)
@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool(nd, shape, kw, return_indices):
    check(f"max_pool{nd}d", shape, return_indices=return_indices, **kw)


@pytest.mark.parametrize("nd,shape,kw", MAX_CASES[::3])
def test_max_pool_with_indices(nd, shape, kw):
    res = check(f"max_pool{nd}d_with_indices", shape, **kw)
    assert len(res[1][0]) == 2


def test_max_pool_ties_gradient_to_first_max():
    # many equal values: the gradient goes to the first maximum in window order, as torch
    data = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 3.0, 0.0], [3.0, 3.0, 0.0, 3.0]]]])
    check("max_pool2d", None, 2, data=data, return_indices=True)
    check("max_pool2d", None, 3, stride=1, padding=1, data=data, return_indices=True)
    check("max_pool1d", None, 3, stride=1, data=np.ones((1, 2, 6)), return_indices=True)


def test_max_pool_special_values():
    inf, nan = float("inf"), float("nan")
    data = np.array([[[[-inf, -inf, 1.0, nan], [-inf, -inf, nan, 2.0], [0.0, -inf, 5.0, 5.0],
                       [-inf, 0.0, 5.0, -inf]]]])
    check("max_pool2d", None, 2, data=data, return_indices=True)
    # padding never wins, even over -inf
    check("max_pool2d", None, 3, stride=2, padding=1, data=data, return_indices=True)
    check("adaptive_max_pool2d", None, 3, data=data, return_indices=True)


def test_max_pool_window_missing_the_input():
    # dilated taps that straddle a short input: torch returns -inf and the index of the first tap at or after 0
    # (outside the plane). Forward only: torch's backward writes out of bounds there (it can abort the process).
    check("max_pool2d", (1, 2, 7), (2, 3), (1, 2), 1, 3, grad=False, return_indices=True)
    check("max_pool1d", (2, 1, 2), 2, 1, 1, 3, grad=False, return_indices=True)


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32"])
def test_max_pool_dtypes(dtype):
    check("max_pool2d", (2, 2, 6, 7), 3, stride=2, padding=1, dtype=dtype, grad=dtype == "float64",
          return_indices=True)


def test_max_pool_double_backward():
    a = np.random.default_rng(3).standard_normal((1, 2, 5, 5))
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        y = L.nn.functional.max_pool2d(x, 2, 1)
        (g,) = L.autograd.grad((y ** 2).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad((g ** 2).sum(), x)
        res.append((g, gg))
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1], rtol=1e-4)


def test_top_level_exports():
    a = np.random.default_rng(5).standard_normal((2, 3, 9)).astype(np.float32)
    for name, args in [("max_pool1d", (3, 2)), ("avg_pool1d", (3,)), ("adaptive_avg_pool1d", (4,))]:
        assert_same(getattr(mc, name)(mc.from_numpy(a), *args), getattr(torch, name)(torch.from_numpy(a), *args))
    om, im = mc.max_pool1d_with_indices(mc.from_numpy(a), 3)
    ot, it = torch.max_pool1d_with_indices(torch.from_numpy(a), 3)
    assert_same(om, ot)
    assert_same(im, it)
    b = np.random.default_rng(6).standard_normal((2, 3, 5, 6, 4)).astype(np.float32)
    assert_same(mc.max_pool3d(mc.from_numpy(b), 2), torch.max_pool3d(torch.from_numpy(b), 2))
    assert_same(mc.max_pool2d(mc.from_numpy(b[0]), 2), torch.max_pool2d(torch.from_numpy(b[0]), 2))


POOL_ERRORS = [
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=2)),         # pad > kernel / 2
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=-1)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=3, dilation=2, padding=2)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, stride=0)),
    ("max_pool2d", (1, 1, 2, 2), dict(kernel_size=3)),                    # output too small
    ("max_pool2d", (4, 4), dict(kernel_size=2)),                          # 2-D input
    ("max_pool2d", (1, 0, 4, 4), dict(kernel_size=2)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=(2, 2, 2))),
    ("max_pool1d", (4,), dict(kernel_size=2)),
    ("max_pool1d", (1, 1, 4), dict(kernel_size=0)),
    ("max_pool3d", (1, 4, 4), dict(kernel_size=2)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=2)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, divisor_override=0)),
    ("avg_pool2d", (1, 1, 2, 2), dict(kernel_size=3)),
    ("avg_pool2d", (0, 4, 4), dict(kernel_size=2)),
    ("avg_pool1d", (1, 1, 1, 4), dict(kernel_size=2)),
    ("avg_pool3d", (1, 1, 4, 4, 4), dict(kernel_size=3, padding=2)),
    ("adaptive_avg_pool2d", (2, 0, 3), dict(output_size=2)),
    ("adaptive_avg_pool2d", (3, 3), dict(output_size=(2, 2))),             # ValueError from the wrapper
    ("adaptive_avg_pool2d", (3,), dict(output_size=2)),
    ("adaptive_max_pool3d", (2, 2, 2), dict(output_size=(1, 1, 1))),
    ("adaptive_max_pool1d", (2, 3, 0), dict(output_size=2)),
    ("lp_pool2d", (1, 1, 2, 2), dict(norm_type=2, kernel_size=3)),
]


@pytest.mark.parametrize("name,shape,kw", POOL_ERRORS)
def test_pool_errors(name, shape, kw):
    check_error(lambda L: _lib_fn(L, name)(L.zeros(*shape), **kw))


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.max_pool2d(L.zeros(1, 1, 4, 4), 2.0),
    lambda L: L.nn.functional.max_pool2d(L.zeros(1, 1, 4, 4), (2, 2.0)),
    lambda L: L.nn.functional.max_pool1d(L.zeros(1, 4), True),
    lambda L: L.nn.functional.avg_pool2d(L.zeros(1, 1, 4, 4), 2, stride=1.0),
    lambda L: L.nn.functional.adaptive_max_pool2d(L.zeros(1, 1, 4, 4), (2, 2.5)),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 4, 4), 2.0),
    lambda L: L.nn.functional.fold(L.zeros(1, 4, 9), (4.0, 4), 2),
    lambda L: L.nn.functional.lp_pool2d(L.zeros(1, 1, 4, 4), 2, 2.0),
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 1, 4, 4), 2.0, output_size=2),
])
def test_non_integer_sizes(case):
    check_error(case)


def test_pool_dtype_errors():
    check_error(lambda L: L.nn.functional.max_pool2d(L.zeros(1, 1, 4, 4, dtype=L.bool), 2))
    check_error(lambda L: L.nn.functional.avg_pool2d(L.zeros(1, 1, 4, 4, dtype=L.bool), 2))
    check_error(lambda L: L.nn.functional.avg_pool2d(L.zeros(1, 1, 4, 4, dtype=L.int32), 2))
    check_error(lambda L: L.nn.functional.avg_pool2d(L.zeros(1, 1, 4, 4, dtype=L.uint8), 2))
    check_error(lambda L: L.nn.functional.max_pool1d(L.zeros(1, 1, 4, dtype=L.int64), 2))
    check_error(lambda L: L.nn.functional.adaptive_avg_pool1d(L.zeros(1, 1, 4, dtype=L.int64), 2))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_max_pool_integer_types(dtype):
    check("max_pool2d", (1, 2, 5, 6), 2, dtype=dtype, grad=False)
    check("max_pool1d", (2, 6), 2, dtype=dtype, grad=False, return_indices=True)
    check("max_pool3d", (1, 2, 4, 5, 6), 2, dtype=dtype, grad=False)


# ---------------------------------------------------------------- adaptive pools

ADAPTIVE_CASES = [
    (1, (2, 3, 10), 4),
    (1, (3, 7), (3,)),
    (1, (2, 3, 5), 7),
    (2, (2, 3, 7, 9), (3, 4)),
    (2, (3, 8, 8), 4),
    (2, (2, 3, 7, 9), (None, 5)),
    (2, (2, 3, 5, 6), 1),
    (3, (2, 2, 5, 7, 6), (2, 3, 4)),
    (3, (2, 5, 4, 7), (3, None, 2)),
    (3, (1, 2, 4, 4, 4), 2),
]


@pytest.mark.parametrize("nd,shape,osz", ADAPTIVE_CASES)
def test_adaptive_avg_pool(nd, shape, osz):
    check(f"adaptive_avg_pool{nd}d", shape, osz)


@pytest.mark.parametrize("nd,shape,osz", ADAPTIVE_CASES)
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pool(nd, shape, osz, return_indices):
    check(f"adaptive_max_pool{nd}d", shape, osz, return_indices=return_indices)


def test_adaptive_with_indices_and_dtypes():
    check("adaptive_max_pool2d_with_indices", (2, 3, 7, 9), (3, 4))
    check("adaptive_max_pool1d_with_indices", (2, 3, 7), 3)
    check("adaptive_max_pool3d_with_indices", (2, 3, 4, 5, 3), 2)
    check("adaptive_avg_pool2d", (2, 3, 7, 9), (3, 4), dtype="float64")
    check_error(lambda L: L.nn.functional.adaptive_max_pool2d(L.zeros(2, 3, 4, dtype=L.int64), 2))
    check_error(lambda L: L.nn.functional.adaptive_avg_pool2d(L.zeros(2, 3, 4, dtype=L.int64), 2))


def test_adaptive_zero_output():
    check("adaptive_avg_pool1d", (2, 3, 4), 0, grad=False)
    check("adaptive_avg_pool2d", (2, 3, 4, 4), (0, 2), grad=False)


# ---------------------------------------------------------------- lp_pool

LP_CASES = [
    (1, (2, 3, 9), 2, 3, None, False),
    (1, (3, 10), 3.0, 2, 3, True),
    (2, (2, 3, 7, 6), 2, 3, 2, False),
    (2, (2, 3, 7, 6), 1.5, (3, 2), (2, 1), True),
    (2, (3, 6, 6), float("inf"), 2, None, False),
    (2, (3, 6, 6), -float("inf"), 3, 1, False),
    (3, (2, 2, 5, 6, 4), 2, 2, None, False),
    (3, (2, 5, 6, 5), 3, (3, 2, 3), (2, 1, 2), True),
]


@pytest.mark.parametrize("nd,shape,p,k,s,ceil", LP_CASES)
def test_lp_pool(nd, shape, p, k, s, ceil):
    # positive inputs: fractional powers of negative numbers are NaN in both
    rng = np.random.default_rng(nd)
    data = rng.uniform(0.5, 2.0, shape)
    check(f"lp_pool{nd}d", None, p, k, s, ceil, data=data)


def test_lp_pool_signed_inputs_and_zero_sums():
    data = np.array([[[1.0, -2.0, 0.0, 0.0, 3.0, -1.0, 2.0, 2.0]]])
    check("lp_pool1d", None, 3, 2, data=data)
    check("lp_pool1d", None, 2, 2, data=data)


# ---------------------------------------------------------------- max_unpool


def _pool_then_unpool(nd, shape, pool_kw, unpool_kw, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy())
        y, idx = getattr(L.nn.functional, f"max_pool{nd}d")(x, return_indices=True, **pool_kw)
        y = y.detach().requires_grad_()
        out = getattr(L.nn.functional, f"max_unpool{nd}d")(y, idx, **unpool_kw)
        cot = L.from_numpy(np.random.default_rng(seed + 1).standard_normal(tuple(out.shape)))
        (g,) = L.autograd.grad(out, y, cot)
        res.append((out, g))
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])


UNPOOL_CASES = [
    (1, (2, 3, 8), dict(kernel_size=2), dict(kernel_size=2)),
    (1, (3, 9), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1)),
    (1, (2, 3, 9), dict(kernel_size=2), dict(kernel_size=2, output_size=(9,))),
    (2, (2, 3, 6, 8), dict(kernel_size=2), dict(kernel_size=2)),
    (2, (3, 7, 7), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 3, 7, 7), dict(kernel_size=2), dict(kernel_size=2, output_size=(2, 3, 7, 7))),
    (2, (1, 1, 6, 6), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=1)),   # repeated indices
    (3, (2, 2, 4, 4, 6), dict(kernel_size=2), dict(kernel_size=2)),
    (3, (2, 5, 5, 5), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1,
                                                                     output_size=(5, 5, 5))),
]


@pytest.mark.parametrize("nd,shape,pool_kw,unpool_kw", UNPOOL_CASES)
def test_max_unpool(nd, shape, pool_kw, unpool_kw):
    _pool_then_unpool(nd, shape, pool_kw, unpool_kw)


def _unpool(L, nd, x_shape, idx, **kw):
    x = L.ones(*x_shape)
    return getattr(L.nn.functional, f"max_unpool{nd}d")(x, L.tensor(idx) if isinstance(idx, list) else idx, **kw)


@pytest.mark.parametrize("case", [
    lambda L: _unpool(L, 2, (1, 1, 2, 2), [[[[0, 1], [2, 99]]]], kernel_size=2),        # index out of range
    lambda L: _unpool(L, 2, (1, 1, 2, 2), [[[[0, 1], [2, -1]]]], kernel_size=2),
    lambda L: _unpool(L, 2, (1, 1, 2, 2), L.zeros(1, 1, 2, 2, dtype=L.int32), kernel_size=2),
    lambda L: _unpool(L, 2, (1, 1, 2, 2), L.zeros(1, 1, 2, 1, dtype=L.int64), kernel_size=2),
    lambda L: _unpool(L, 2, (1, 1, 2, 2), L.zeros(1, 1, 2, 2, dtype=L.int64), kernel_size=2, output_size=(9, 9)),
    lambda L: _unpool(L, 2, (1, 1, 2, 2), L.zeros(1, 1, 2, 2, dtype=L.int64), kernel_size=2, output_size=(4,)),
    lambda L: _unpool(L, 1, (1, 1, 2), [[[0, 9]]], kernel_size=2),
    lambda L: _unpool(L, 3, (1, 1, 1, 1, 2), [[[[[0, 99]]]]], kernel_size=2),
    lambda L: _unpool(L, 2, (2, 2), L.zeros(2, 2, dtype=L.int64), kernel_size=2),
    lambda L: _unpool(L, 2, (3,), L.zeros(3, dtype=L.int64), kernel_size=2),
    lambda L: _unpool(L, 1, (3,), L.zeros(3, dtype=L.int64), kernel_size=2),
])
def test_max_unpool_errors(case):
    check_error(case)


# ---------------------------------------------------------------- fractional_max_pool


@pytest.mark.parametrize("nd,shape,k,osz,ratio", [
    (2, (2, 3, 9, 8), 2, (4, 5), None),
    (2, (3, 10, 7), (3, 2), 4, None),
    (2, (2, 3, 9, 8), 3, None, (0.5, 0.6)),
    (2, (1, 2, 7, 7), 2, (1, 6), None),
    (2, (1, 2, 5, 5), 1, 5, None),  # out + pool - 1 == in is allowed in 2-d
    (3, (2, 2, 6, 7, 8), 2, (3, 4, 5), None),
    (3, (2, 8, 7, 6), (3, 2, 2), 3, None),
    (3, (1, 2, 9, 6, 7), 2, None, [0.5, 0.4, 0.6]),
])
@pytest.mark.parametrize("return_indices", [False, True])
def test_fractional_max_pool(nd, shape, k, osz, ratio, return_indices):
    planes = shape[-nd - 1]
    n_batch = shape[0] if len(shape) == nd + 2 else 1
    u = np.random.default_rng(11).uniform(0, 1, (n_batch, planes, nd))
    samples = {L: L.from_numpy(u.copy()).to(L.float32) for L in (torch, mc)}
    a = np.random.default_rng(12).standard_normal(shape)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).to(L.float32).requires_grad_()
        out = _flat(getattr(L.nn.functional, f"fractional_max_pool{nd}d")(
            x, k, output_size=osz, output_ratio=ratio, return_indices=return_indices, _random_samples=samples[L]))
        cot = L.from_numpy(np.random.default_rng(13).standard_normal(tuple(out[0].shape))).to(L.float32)
        res.append((out, L.autograd.grad(out[0], x, cot)[0]))
    for mo, to in zip(res[1][0], res[0][0]):
        assert_same(mo, to)
    assert_same(res[1][1], res[0][1])


def test_fractional_max_pool_random_samples_drawn():
    # no _random_samples: windows are random, so only the shapes, dtypes and the pooled values' origin can agree
    x = mc.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32))
    out, idx = mc.nn.functional.fractional_max_pool2d(x, 2, output_size=4, return_indices=True)
    ref = torch.nn.functional.fractional_max_pool2d(torch.zeros(2, 3, 9, 9), 2, output_size=4, return_indices=True)
    assert tuple(out.shape) == tuple(ref[0].shape) and str(idx.dtype) == str(ref[1].dtype)
    picked = np.take_along_axis(x.numpy().reshape(2, 3, -1), idx.numpy().reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(out.shape), out.numpy())
    out3 = mc.nn.functional.fractional_max_pool3d(mc.zeros(3, 5, 5, 5), 2, output_ratio=(0.5, 0.5, 0.5))
    assert tuple(out3.shape) == (3, 2, 2, 2)


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5), 3),                      # no size
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5), 3, output_size=4),       # pool too big
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5), 2, output_ratio=(0.5, 0.5, 0.5)),
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5), 2, output_size=2,
                                                    _random_samples=L.zeros(1, 3, 2)),
    lambda L: L.nn.functional.fractional_max_pool3d(L.zeros(1, 2, 5, 5, 5), 3, output_size=4),
    lambda L: L.nn.functional.fractional_max_pool3d(L.zeros(1, 2, 5, 5, 5), 1, output_size=(4, 4, 5)),  # strict
    # torch's wrapper takes len() of output_ratio: a bare number is a TypeError, a 1-element list an IndexError
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5), 2, output_ratio=0.5),
    lambda L: L.nn.functional.fractional_max_pool3d(L.zeros(1, 2, 5, 5, 5), 2, output_ratio=[0.5]),
    lambda L: L.nn.functional.fractional_max_pool2d(L.zeros(1, 2, 5, 5, dtype=L.int64), 2, output_size=2),
])
def test_fractional_errors(case):
    check_error(case)


@pytest.mark.parametrize("nd,shape,rows", [
    (3, (4, 5, 5, 5), 2),   # module_db's FractionalMaxPool3d 'ratio_no_batch_dim': (2, C, 3) samples, unbatched input
    (3, (4, 5, 5, 5), 3),
    (2, (3, 5, 7), 2),
    (3, (2, 4, 5, 5, 5), 3),  # more rows than the batch: the first ones are used
    (2, (2, 3, 7, 6), 4),
])
def test_fractional_extra_sample_rows(nd, shape, rows):
    """torch accepts any number of sample rows not below the batch size (an unbatched input counts as 1)
    and reads row i for batch element i."""
    u = np.random.default_rng(5).uniform(0, 1, (rows, shape[-nd - 1], nd))
    a = np.random.default_rng(6).standard_normal(shape)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        out = getattr(L.nn.functional, f"fractional_max_pool{nd}d")(
            x, 2, output_ratio=(0.5,) * nd, return_indices=True, _random_samples=L.from_numpy(u.copy()))
        res.append((out, L.autograd.grad(out[0].sum(), x)[0]))
    for mo, to in zip(res[1][0], res[0][0]):
        assert_same(mo, to)
    assert_same(res[1][1], res[0][1])


def _frac(L, nd, shape, samples_shape, dtype="float64", samples_dtype="float64", k=2, osz=2):
    x = L.zeros(*shape, dtype=getattr(L, dtype))
    s = L.rand(*samples_shape).to(getattr(L, samples_dtype)) if samples_shape is not None else [0.5]
    return getattr(L.nn.functional, f"fractional_max_pool{nd}d")(x, k, output_size=osz, _random_samples=s)


@pytest.mark.parametrize("args", [
    (3, (4, 5, 5, 5), (0, 4, 3)),                 # fewer rows than the batch
    (3, (2, 4, 5, 5, 5), (1, 4, 3)),
    (3, (4, 5, 5, 5), (2, 5, 3)),                 # planes
    (3, (4, 5, 5, 5), (1, 4, 2)),                 # values per plane
    (3, (4, 5, 5, 5), (4, 3)),                    # rank
    (3, (4, 5, 5, 5), (1, 4, 3), "float32"),      # dtype
    (3, (4, 5, 5, 5), None),                      # not a tensor
    (2, (3, 5, 7), (0, 3, 2)),
    (2, (3, 5, 7), (1, 2, 2)),
    (2, (3, 5, 7), (3, 2)),
    (2, (1, 3, 5, 7), (1, 3, 2), "float32"),
    (2, (1, 3, 5, 7), (1, 3, 2), "int64", "int64"),
])
def test_fractional_random_samples_errors(args):
    """Bad _random_samples: torch's exception type and message."""
    errs = []
    for L in (torch, mc):
        with pytest.raises(Exception) as e:
            _frac(L, *args)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), errs
    assert str(errs[1]) == str(errs[0]), errs


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_check_order(nd):
    """torch checks the pool size before the samples' dtype."""
    shape = (1, 4) + (5,) * nd
    errs = []
    for L in (torch, mc):
        with pytest.raises(RuntimeError) as e:
            _frac(L, nd, shape, (1, 4, nd), dtype="float32", k=4, osz=3)
        errs.append(str(e.value))
    assert errs[1] == errs[0]


# ---------------------------------------------------------------- unfold / fold

UNFOLD_CASES = [
    ((2, 3, 6, 7), dict(kernel_size=2)),
    ((3, 6, 7), dict(kernel_size=(3, 2), stride=(2, 1))),
    ((2, 2, 7, 7), dict(kernel_size=3, dilation=2, padding=1, stride=2)),
    ((1, 2, 5, 6), dict(kernel_size=(2, 3), dilation=(1, 2), padding=(2, 0), stride=(1, 3))),
]


@pytest.mark.parametrize("shape,kw", UNFOLD_CASES)
def test_unfold(shape, kw):
    check("unfold", shape, **kw)
    check("unfold", shape, dtype="float64", **kw)


@pytest.mark.parametrize("shape,kw", UNFOLD_CASES)
def test_fold_round_trip_shapes(shape, kw):
    # fold's input is unfold's output: (N, C * kH * kW, L) -> (N, C, H, W), overlaps summed
    t_cols = torch.nn.functional.unfold(torch.zeros(shape), **kw)
    check("fold", tuple(t_cols.shape), shape[-2:], **kw)


def test_fold_unbatched_and_dtypes():
    check("fold", (12, 4), (3, 3), 2, dtype="float64")
    check_error(lambda L: L.nn.functional.fold(L.zeros(12, 4, dtype=L.int64), (3, 3), 2))
    check_error(lambda L: L.nn.functional.unfold(L.zeros(1, 3, 4, dtype=L.int64), 2))
    check("fold", (2, 8, 9), (4, 4), (2, 2), stride=1, dilation=1, padding=0)


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.unfold(L.zeros(2, 3), 2),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 2, 3, 3), 2),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 2, 2), 3),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 4, 4), 2, stride=0),
    lambda L: L.nn.functional.fold(L.zeros(1, 5, 4), (3, 3), 2),
    lambda L: L.nn.functional.fold(L.zeros(1, 4, 5), (3, 3), 2),
    lambda L: L.nn.functional.fold(L.zeros(4, 4, 5, 5), (3, 3), 2),
    lambda L: L.nn.functional.fold(L.zeros(1, 4, 4), (3, 3), 2, padding=-1),
])
def test_unfold_fold_errors(case):
    check_error(case)


# ---------------------------------------------------------------- aten max_pool2d_with_indices_backward


@pytest.mark.parametrize("shape,kw", [((2, 3, 7, 7), dict(kernel_size=3, stride=1, padding=1)),
                                      ((3, 6, 5), dict(kernel_size=2, stride=2, ceil_mode=True))])
def test_max_pool2d_with_indices_backward(shape, kw):
    from mlx_compat.nn._pooling import max_pool2d_with_indices_backward

    a = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    k, s, p = [kw["kernel_size"]] * 2, [kw["stride"]] * 2, [kw.get("padding", 0)] * 2
    ceil = kw.get("ceil_mode", False)
    res = []
    for L, fn in ((torch, torch.ops.aten.max_pool2d_with_indices_backward.default),
                  (mc, max_pool2d_with_indices_backward)):
        x = L.from_numpy(a.copy())
        out, idx = L.nn.functional.max_pool2d(x, return_indices=True, **kw)
        g = L.from_numpy(np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32))
        g.requires_grad_()
        r = fn(g, x, k, s, p, [1, 1], ceil, idx)
        cot = L.from_numpy(np.random.default_rng(6).standard_normal(shape).astype(np.float32))
        res.append((r, L.autograd.grad(r, g, cot)[0]))
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])


def test_torch_adaptive_max_pool1d_returns_values_and_indices():
    x = np.random.default_rng(3).standard_normal((1, 2, 7)).astype(np.float32)
    t = torch.adaptive_max_pool1d(torch.from_numpy(x), 3)
    m = mc.adaptive_max_pool1d(mc.from_numpy(x.copy()), 3)
    assert_same(m[0], t[0])
    assert_same(m[1], t[1])


# ---------------------------------------------------------------- cached window tables


@pytest.mark.parametrize("name,kwargs", [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool2d", dict(output_size=(3, 2))),
    ("adaptive_avg_pool2d", dict(output_size=1)),
    ("adaptive_max_pool2d", dict(output_size=3, return_indices=True)),
])
def test_pool_tables_reused_across_calls(name, kwargs):
    """Window tables are built once per geometry (Note [pooling tables]): repeated calls on other data, ties and
    NaN included, still give torch's values, indices and gradients."""
    base = np.random.default_rng(3).standard_normal((2, 3, 7, 6))
    ties = np.round(base)  # many equal maxima: the first one must win
    ties[0, 0, 1, 1] = np.nan
    for data in (base, ties, base * -1):
        check(name, (2, 3, 7, 6), data=data, **kwargs)


@pytest.mark.parametrize("shape,kw", [((2, 16, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
                                      ((2, 3, 9, 8), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0),
                                                          dilation=(2, 1))),
                                      ((3, 11), dict(kernel_size=3, stride=2, padding=1))],
                         ids=["channels-last stem pool", "dilated", "unbatched 1-d"])
def test_max_pool_repeated_backward_matches_torch(shape, kw):
    """Note [Compiled max-pool backward]: from the second backward with the same shape on, the gradient is the
    compiled function's; each step (new values with NaN, -inf and ties; a second shape between) matches torch."""
    rng = np.random.default_rng(9)
    name = "max_pool1d" if len(shape) == 2 else "max_pool2d"
    for step, shp in enumerate([shape, shape, shape[:-1] + (shape[-1] + 3,), shape]):
        a = np.round(rng.standard_normal(shp) * 2)  # ties
        flat = a.reshape(-1)
        flat[rng.integers(0, flat.size, 3)] = np.nan
        flat[rng.integers(0, flat.size, 3)] = -np.inf
        check(name, None, data=a, seed=step, **kw)



def test_max_pool_recorded_repeats_compiled():
    """Note [Compiled max-pool backward]: from a shape's second recorded call on, the strided max pool's forward
    (its running maximum) and backward run compiled. Three recorded steps of one shape no other test uses, with a
    NaN and ties in the input: outputs and input gradients against torch."""
    rng = np.random.default_rng(5)
    inputs = [np.round(rng.standard_normal((2, 3, 9, 7)), 1).astype(np.float32) for _ in range(3)]
    inputs[1][0, 1, 2, 3] = np.nan
    res = []
    for L in (torch, mc):
        outs = []
        for a in inputs:
            x = L.from_numpy(a.copy()).requires_grad_()
            y = L.nn.functional.max_pool2d(x, 3, 2, 1)
            cot = L.from_numpy(np.arange(y.numel(), dtype=np.float32).reshape(tuple(y.shape)))
            outs += [y] + list(L.autograd.grad((y * cot).sum(), [x]))
        res.append(outs)
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=0, atol=0, equal_nan=True)


def test_global_average_pool_backward_replays_a_compiled_vjp(monkeypatch):
    """adaptive_avg_pool2d to 1x1 (a ResNet's head): from a shape's second backward on its vjp is a compiled
    function (Note [Compiled when repeated]), mx.vjp is not called again, and the gradients stay torch's."""
    import mlx.core as mx

    calls = []
    real = mx.vjp
    monkeypatch.setattr(mx, "vjp", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(4)
    counts = []
    for step in range(4):
        x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
        grads = []
        for L in (torch, mc):
            xt = L.from_numpy(x).requires_grad_()
            out = L.nn.functional.adaptive_avg_pool2d(xt, 1)
            (out * L.arange(1.0, 7.0).reshape(2, 3, 1, 1)).sum().backward()
            grads.append(xt.grad)
        assert_same(grads[1], grads[0], rtol=1e-6, atol=1e-7)
        counts.append(len(calls))
    assert counts[-1] == counts[-2] == counts[-3], counts


def _scan_geometries():
    # (shape, kwargs): the strided path's geometries (Note [max-pool strided windows]): overlapping windows,
    # padding, dilation, strides larger than the kernel (stride phases no offset lands in), ceil_mode, 1-3 spatial
    # dims, few channels (NC... windows) and many (channels-last windows)
    rng = np.random.default_rng(21)
    cases = []
    for nd in (1, 2, 3):
        for _ in range(8 if nd < 3 else 4):
            k = tuple(int(v) for v in rng.integers(1, 4, nd))
            s = tuple(int(v) for v in rng.integers(1, 4, nd))
            d = tuple(int(v) for v in rng.integers(1, 3, nd))
            p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
            if s == k and not any(p) and d == (1,) * nd:
                s = tuple(v + 1 for v in s)  # that geometry takes the block path
            size = tuple(int(v) for v in rng.integers(6, 11 if nd < 3 else 7, nd))
            c = int(rng.choice([3, 9]))
            cases.append(((2, c) + size, dict(kernel_size=k, stride=s, padding=p, dilation=d,
                                             ceil_mode=bool(rng.integers(0, 2))), False))
    # non-overlapping blocks (Note [max-pool blocks]), sizes the blocks do not divide included, of plain inputs and
    # of inputs carrying the channels-last hint (pooled in N...C space)
    blocks = [((2, 3, 9), dict(kernel_size=2)), ((2, 9, 8, 7), dict(kernel_size=2)),
              ((2, 3, 9, 8), dict(kernel_size=(3, 2))), ((1, 2, 6, 5, 4), dict(kernel_size=2))]
    return cases + [(shape, kw, hinted) for shape, kw in blocks for hinted in (False, True)]


@pytest.mark.parametrize("shape,kw,hinted", _scan_geometries())
def test_max_pool_scan_backward_bits(shape, kw, hinted):
    """Note [max-pool scan backward] (and Note [max-pool blocks]): per window the element torch's scan picks (first
    maximum, last NaN, the first in-bounds element of an all -inf window) and the gradient sums in torch's order
    give torch's bits, for the first (traced) and the repeated (compiled) backward of a shape."""
    rng = np.random.default_rng(sum(shape))
    nd = len(shape) - 2
    name = f"max_pool{nd}d"
    for step in range(3):
        a = np.round(rng.standard_normal(shape) * 1.5).astype(np.float32)  # ties
        flat = a.reshape(-1)
        flat[rng.integers(0, flat.size, 4)] = np.nan
        flat[rng.integers(0, flat.size, 6)] = -np.inf
        a[0, 0] = -np.inf  # whole planes of -inf: windows keep their first in-bounds element
        res, cot = [], None
        for L in (torch, mc):
            x = L.from_numpy(a.copy()).requires_grad_()
            if hinted and L is mc:  # the hint is about memory order: any values take the N...C path correctly
                mc._C._set_channels_last(x, True, None)
            y = getattr(L.nn.functional, name)(x, **kw)
            if cot is None:
                cot = rng.standard_normal(tuple(y.shape)).astype(np.float32)
            (gx,) = L.autograd.grad(y, [x], L.from_numpy(cot.copy()))
            res.append((y.detach().numpy(), gx.numpy()))
        np.testing.assert_array_equal(res[1][0], res[0][0])
        np.testing.assert_array_equal(res[1][1], res[0][1])


def test_max_pool_blocks_of_a_channels_last_input_stay_channels_last():
    """Note [max-pool blocks]: a 2x2 pool of a convolution's output (channels-last in memory, hinted) is pooled in
    N...C space: the result carries the hint and holds N...C memory; values, gradients and second derivatives are
    torch's."""
    import mlx.core as mx
    a = np.random.default_rng(4).standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = np.random.default_rng(5).standard_normal((9, 3, 3, 3)).astype(np.float32)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        h = L.nn.functional.conv2d(x, L.from_numpy(w.copy()), padding=1)
        y = L.nn.functional.max_pool2d(h, 2)
        if L is mc:
            assert mc._C._is_channels_last(h) and mc._C._is_channels_last(y)
            mx.eval(y._mx)
            st = memoryview(y._mx).strides
            assert st[1] < st[3], st  # channels innermost in memory
        (g,) = L.autograd.grad((y ** 2).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad((g ** 2).sum(), x)
        res.append((y, g, gg))
    assert_same(res[1][0], res[0][0], rtol=1e-5, atol=1e-5)
    for m, t in zip(res[1][1:], res[0][1:]):  # through the convolution's float32 sums (values up to ~1e4)
        assert_same(m, t, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("pool", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool_gradient_of_a_channels_last_input_is_channels_last_on_the_cpu(pool):
    """Note [Channels-last gradients]: on the CPU too, the gradient of a pool of a hinted input (conv -> relu ->
    pool, the Fashion-MNIST example's blocks) is the hinted NC... view of N...C memory, so relu's backward selects in
    N...C space; the gradients are torch's."""
    import mlx.core as mx
    from mlx_compat._ops import pointwise
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 3, 12, 10)).astype(np.float32)
    w = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    seen, hints, real = [], [], pointwise._relu_backward_mx

    def spy(g, r, nd):
        seen.append(nd)
        return real(g, r, nd)

    res = []
    for L in (torch, mc):
        x, wt, bt = (L.from_numpy(v.copy()).requires_grad_() for v in (a, w, b))
        h = L.relu(L.nn.functional.conv2d(x, wt, bt, padding=1))
        y = L.nn.functional.max_pool2d(h, **pool)
        cot = L.from_numpy(np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(np.float32))
        if L is mc:
            def hook(g):
                mx.eval(g._mx)
                hints.append((mc._C._is_channels_last(g), memoryview(g._mx).strides))
            h.register_hook(hook)
            pointwise._relu_backward_mx = spy
        try:
            y.backward(cot)
        finally:
            pointwise._relu_backward_mx = real
        res.append((x.grad, wt.grad, bt.grad))
    (hinted, st), = hints
    assert hinted and st[1] < st[3], st  # the pool's gradient: hinted, channels innermost in memory
    assert seen == [4]  # relu's select in N...C space
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,kw", [(shape, kw) for shape, kw, hinted in _scan_geometries() if not hinted])
def test_max_pool_scan_indices_bits(shape, kw):
    """return_indices from torch's scan (_max_pool_scan_indices): values, indices and gradients bit for bit, with
    NaN, -inf planes and ties."""
    rng = np.random.default_rng(sum(shape) + 1)
    name = f"max_pool{len(shape) - 2}d"
    a = np.round(rng.standard_normal(shape) * 1.5).astype(np.float32)
    flat = a.reshape(-1)
    flat[rng.integers(0, flat.size, 4)] = np.nan
    flat[rng.integers(0, flat.size, 6)] = -np.inf
    a[0, 0] = -np.inf
    res, cot = [], None
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        y, i = getattr(L.nn.functional, name)(x, return_indices=True, **kw)
        if cot is None:
            cot = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        (gx,) = L.autograd.grad(y, [x], L.from_numpy(cot.copy()))
        res.append((y.detach().numpy(), i.numpy(), gx.numpy()))
    assert res[1][1].dtype == np.int64
    for m, t in zip(res[1], res[0]):
        np.testing.assert_array_equal(m, t)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=2, stride=3),
                                dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=1, padding=1)])
@pytest.mark.parametrize("hinted", [False, True])
def test_max_pool_backward_of_negative_zero_cotangents(kw, hinted):
    """torch's max-pool backward adds each gradient into zeros, so a -0.0 cotangent arrives as +0.0: bit for bit
    on the block, strided-window and channels-last paths."""
    rng = np.random.default_rng(12)
    a = rng.standard_normal((2, 4, 10, 10)).astype(np.float32)
    delta = np.zeros((4, 4, 3, 3), dtype=np.float32)
    delta[np.arange(4), np.arange(4), 1, 1] = 1.0  # a convolution that gives its input exactly
    res, g = [], None
    for L in (torch, mc):
        h = L.from_numpy(a.copy()).requires_grad_()
        if hinted:  # a convolution's output: on mlx_compat the NC... view of N...C memory, hinted
            h = L.nn.functional.conv2d(h, L.from_numpy(delta.copy()).requires_grad_(), padding=1)
        grads = []
        h.register_hook(grads.append)
        y = L.nn.functional.max_pool2d(h, **kw)
        if g is None:
            g = np.where(rng.standard_normal(tuple(y.shape)) > 0, -0.0, 1.5).astype(np.float32)
        y.backward(L.from_numpy(g.copy()))
        res.append(grads[0].numpy().view(np.int32))
    np.testing.assert_array_equal(res[1], res[0])


@pytest.mark.parametrize("hinted", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("channels,kw", [(4, dict(kernel_size=2)), (4, dict(kernel_size=3, stride=2, padding=1)),
                                         (9, dict(kernel_size=3, stride=2, padding=1))])
def test_max_pool_backward_after_an_in_place_change_of_the_output(hinted, create_graph, channels, kw):
    """Note [max-pool picks from the maximum]: the backward finds its picks from the forward's maxima as they were,
    so an in-place change of the pool's output (torch saves the input and indices, not the output) leaves the
    gradient torch's, ties, NaN and planes of -inf included, through the first (traced) and the repeated
    (compiled) backward: blocks (row-major and channels-last) and strided windows (NC... and channels-last)."""
    rng = np.random.default_rng(31)
    for step in range(3):
        a = np.maximum(np.round(rng.standard_normal((2, channels, 6, 8)) * 1.5), 0).astype(np.float32)  # ties
        a.reshape(-1)[rng.integers(0, a.size, 3)] = np.nan
        a[1, 1] = -np.inf  # windows whose maximum is the padding's value: the first element in bounds
        res = []
        for L in (torch, mc):
            x = L.from_numpy(a.copy()).requires_grad_()
            if hinted and L is mc:
                mc._C._set_channels_last(x, True, None)
            y = L.nn.functional.max_pool2d(x, **kw)
            y.mul_(3.0).sub_(1.0)
            (gx,) = L.autograd.grad((y * y).sum(), x, create_graph=create_graph)
            res.append(gx.detach().numpy())
        np.testing.assert_array_equal(res[1], res[0])


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("shape,kw", [((2, 3, 6, 8), dict(kernel_size=2)), ((2, 3, 7, 9), dict(kernel_size=(3, 2))),
                                      ((2, 3, 9), dict(kernel_size=2)), ((1, 2, 4, 6, 5), dict(kernel_size=2))])
def test_max_pool_blocks_gradient_pairs_bits(dt, shape, kw):
    """Note [max-pool gradient pairs]: row-major blocks whose last kernel size is 2 write their gradient as one
    integer per pair of elements on the CPU: torch's bits in every floating dtype (NaN picks, ties, -0.0
    cotangents, cropped edges), for the first (traced) and the repeated (compiled) backward."""
    rng = np.random.default_rng(len(shape) + len(dt))
    a = np.round(rng.standard_normal(shape) * 2).astype(np.float32)
    a.reshape(-1)[rng.integers(0, a.size, 2)] = np.nan
    name = f"max_pool{len(shape) - 2}d"
    cot = None
    for step in range(3):
        res = []
        for L in (torch, mc):
            x = L.from_numpy(a.copy()).to(getattr(L, dt)).requires_grad_()
            y = getattr(L.nn.functional, name)(x, **kw)
            if cot is None:
                cot = np.where(rng.standard_normal(tuple(y.shape)) > 0, -0.0, 1.25).astype(np.float32)
            (gx,) = L.autograd.grad(y, x, L.from_numpy(cot.copy()).to(getattr(L, dt)))
            res.append(gx.to(L.float64).numpy())
        np.testing.assert_array_equal(res[1].view(np.int64), res[0].view(np.int64))
