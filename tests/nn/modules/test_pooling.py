"""Pooling modules against torch: MaxPool (return_indices, ceil_mode, dilation, padding), MaxUnpool (with and without
output_size), AvgPool (ceil_mode, count_include_pad, divisor_override), LPPool, Adaptive max/avg pools (None sizes,
return_indices) and FractionalMaxPool (given `_random_samples`; shapes and window maxima when drawn); outputs,
indices, input gradients, repr and state_dict in train and eval; errors."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import check_module, inputs, lib_path, pair

CASES = [
    ("nn.MaxPool1d", (3,), {}, (2, 3, 10)),
    ("nn.MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "return_indices": True}, (2, 3, 11)),
    ("nn.MaxPool1d", (2,), {"ceil_mode": True, "return_indices": True}, (3, 9)),
    ("nn.MaxPool2d", (2,), {}, (2, 3, 6, 8)),
    ("nn.MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "return_indices": True},
     (2, 2, 7, 8)),
    ("nn.MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}, (3, 8, 8)),
    ("nn.MaxPool3d", (2,), {}, (1, 2, 4, 6, 4)),
    ("nn.MaxPool3d", ((2, 3, 2),), {"stride": (1, 2, 2), "padding": 1, "return_indices": True, "ceil_mode": True},
     (2, 2, 4, 5, 5)),
    ("nn.AvgPool1d", (3,), {}, (2, 3, 10)),
    ("nn.AvgPool1d", (4,), {"stride": 2, "padding": 2, "ceil_mode": True, "count_include_pad": False}, (2, 3, 9)),
    ("nn.AvgPool2d", (2,), {}, (2, 3, 6, 8)),
    ("nn.AvgPool2d", ((3, 2),), {"stride": (2, 1), "padding": 1, "ceil_mode": True}, (2, 2, 7, 7)),
    ("nn.AvgPool2d", (3,), {"padding": 1, "count_include_pad": False, "stride": 2}, (3, 8, 8)),
    ("nn.AvgPool2d", (2,), {"divisor_override": 3}, (1, 2, 6, 6)),
    ("nn.AvgPool3d", (2,), {}, (1, 2, 4, 6, 4)),
    ("nn.AvgPool3d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True},
     (1, 2, 5, 6, 5)),
    ("nn.AvgPool3d", ((1, 2, 2),), {"divisor_override": 2}, (2, 4, 4, 4)),
    ("nn.LPPool1d", (2, 3), {}, (2, 3, 10)),
    ("nn.LPPool1d", (1.5, 2), {"stride": 1, "ceil_mode": True}, (2, 3, 9)),
    ("nn.LPPool2d", (2, 2), {}, (2, 3, 6, 8)),
    ("nn.LPPool2d", (3, (3, 2)), {"stride": (2, 1)}, (3, 7, 6)),
    ("nn.LPPool3d", (2, 2), {}, (1, 2, 4, 4, 4)),
    ("nn.LPPool3d", (1, (2, 1, 2)), {"stride": 2, "ceil_mode": True}, (2, 5, 4, 5)),
    ("nn.AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("nn.AdaptiveAvgPool1d", (3,), {}, (3, 7)),
    ("nn.AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("nn.AdaptiveAvgPool2d", ((None, 2),), {}, (2, 3, 5, 7)),
    ("nn.AdaptiveAvgPool2d", (1,), {}, (2, 4, 5, 5)),
    ("nn.AdaptiveAvgPool3d", ((2, 3, 2),), {}, (1, 2, 5, 6, 3)),
    ("nn.AdaptiveAvgPool3d", ((None, 2, None),), {}, (2, 4, 5, 3)),
    ("nn.AdaptiveMaxPool1d", (4,), {}, (2, 3, 10)),
    ("nn.AdaptiveMaxPool1d", (3,), {"return_indices": True}, (3, 7)),
    ("nn.AdaptiveMaxPool2d", ((3, 4),), {"return_indices": True}, (2, 3, 7, 9)),
    ("nn.AdaptiveMaxPool2d", ((None, 2),), {}, (2, 3, 5, 7)),
    ("nn.AdaptiveMaxPool3d", ((2, 3, 2),), {"return_indices": True}, (1, 2, 5, 6, 3)),
    ("nn.AdaptiveMaxPool3d", (2,), {}, (2, 4, 5, 3)),
]


def _id(c):
    return f"{c[0][3:]}{c[1]}" + ",".join(f"{k}={v}" for k, v in c[2].items())


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shape", CASES, ids=[_id(c) for c in CASES])
def test_matches_torch(path, args, kwargs, shape, train):
    theirs, ours = pair(path, *args, **kwargs)
    check_module(theirs, ours, *inputs(shape), train=train)


def test_lppool_positive_inputs():
    """Odd norm_type and fractional ones on positive inputs (where the power is real)."""
    for nd, p in [(1, 3), (2, 0.5), (2, 1.5)]:
        theirs, ours = pair(f"nn.LPPool{nd}d", p, 2)
        shape = (2, 3) + (6, 4)[:nd]
        x = np.abs(np.random.default_rng(nd).standard_normal(shape)).astype(np.float32) + 0.1
        check_module(theirs, ours, *inputs(x))


@pytest.mark.parametrize("nd,kwargs,shape,output_size", [
    (1, {"kernel_size": 2}, (2, 3, 8), None),
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 9), [9]),
    (2, {"kernel_size": 2}, (2, 3, 6, 8), None),
    (2, {"kernel_size": (2, 3), "stride": (2, 2)}, (2, 3, 7, 8), [2, 3, 7, 8]),
    (2, {"kernel_size": 2}, (3, 4, 6), None),
    (3, {"kernel_size": 2}, (1, 2, 4, 6, 4), None),
    (3, {"kernel_size": 2, "stride": 2}, (1, 2, 5, 5, 5), [5, 5, 5]),
])
def test_max_unpool(nd, kwargs, shape, output_size):
    pool = getattr(torch.nn, f"MaxPool{nd}d")(return_indices=True, **kwargs)
    x = torch.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    pooled, idx = pool(x)
    unpool_args = {k: v for k, v in kwargs.items() if k in ("kernel_size", "stride", "padding")}
    theirs, ours = pair(f"nn.MaxUnpool{nd}d", **unpool_args)
    t_in, m_in = inputs(pooled.numpy(), idx.numpy())
    call = lambda mod, xs: mod(*xs, output_size=output_size)  # noqa: E731
    check_module(theirs, ours, t_in, m_in, call=call)


def test_max_pool_then_unpool_roundtrip_ours():
    """Our MaxPool2d's indices drive our MaxUnpool2d to torch's result."""
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6)).astype(np.float32)
    t_out, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    m_out, m_idx = mc.nn.MaxPool2d(2, return_indices=True)(mc.tensor(x))
    assert_same(m_idx, t_idx)
    assert_same(mc.nn.MaxUnpool2d(2)(m_out, m_idx), torch.nn.MaxUnpool2d(2)(t_out, t_idx))


@pytest.mark.parametrize("nd,kwargs,shape", [
    (2, {"kernel_size": 2, "output_size": (4, 5)}, (2, 3, 9, 10)),
    (2, {"kernel_size": (2, 3), "output_ratio": 0.5, "return_indices": True}, (2, 3, 9, 10)),
    (2, {"kernel_size": 3, "output_size": 3}, (3, 8, 8)),
    (3, {"kernel_size": 2, "output_size": (2, 3, 3)}, (1, 2, 5, 6, 6)),
    (3, {"kernel_size": (1, 2, 2), "output_ratio": (0.5, 0.5, 0.6), "return_indices": True}, (2, 2, 6, 6, 5)),
])
def test_fractional_max_pool_given_samples(nd, kwargs, shape):
    n, c = (shape[0], shape[1]) if len(shape) == nd + 2 else (1, shape[0])
    samples = np.random.default_rng(7).random((n, c, nd)).astype(np.float32)
    theirs = getattr(torch.nn, f"FractionalMaxPool{nd}d")(_random_samples=torch.tensor(samples), **kwargs)
    ours = getattr(mc.nn, f"FractionalMaxPool{nd}d")(_random_samples=mc.tensor(samples), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    check_module(theirs, ours, *inputs(shape))


@pytest.mark.parametrize("nd,shape", [(2, (2, 3, 9, 10)), (3, (1, 2, 6, 7, 6))])
def test_fractional_max_pool_random(nd, shape):
    """Without `_random_samples` the windows are random: same output shape as torch, every output a window maximum
    of the input, and a repr/state_dict (no buffer) like torch's."""
    theirs, ours = pair(f"nn.FractionalMaxPool{nd}d", 2, output_ratio=0.5, return_indices=True)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    t_in, m_in = inputs(shape)
    t_out, t_idx = theirs(*t_in)
    m_out, m_idx = ours(*m_in)
    assert tuple(m_out.shape) == tuple(t_out.shape) and str(m_idx.dtype) == "torch.int64"
    x = m_in[0].detach().numpy().reshape(shape[0], shape[1], -1)
    got = np.take_along_axis(x, m_idx.numpy().reshape(shape[0], shape[1], -1), axis=2)
    np.testing.assert_array_equal(got.reshape(m_out.shape), m_out.detach().numpy())
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("path,args,kwargs", [
    ("nn.FractionalMaxPool2d", (2,), {}),
    ("nn.FractionalMaxPool2d", (2,), {"output_size": 3, "output_ratio": 0.5}),
    ("nn.FractionalMaxPool2d", (2,), {"output_ratio": 1.5}),
    ("nn.FractionalMaxPool3d", (0,), {"output_size": 2}),
    ("nn.FractionalMaxPool3d", (2,), {"output_ratio": (0.5, 0.5, 1.0)}),
])
def test_constructor_errors(path, args, kwargs):
    assert_raises_same(lambda: lib_path(torch, path)(*args, **kwargs), lambda: lib_path(mc, path)(*args, **kwargs))


def test_forward_errors():
    for path, args, shape in [("nn.MaxPool2d", (5,), (1, 2, 3, 3)), ("nn.AvgPool2d", (2, 2, 2), (1, 2, 4, 4)),
                              ("nn.AdaptiveAvgPool2d", ((2, 2, 2),), (1, 2, 4, 4)),
                              ("nn.MaxPool1d", (2, 2, 2), (1, 2, 8)),
                              ("nn.AdaptiveMaxPool2d", ((2, 2, 2),), (1, 2, 4, 4)),
                              ("nn.LPPool2d", (2, 5), (1, 2, 3, 3))]:
        theirs, ours = pair(path, *args)
        t_in, m_in = inputs(shape)
        assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))


def test_attributes_as_torch_keeps_them():
    """Which arguments are normalised to tuples (MaxUnpool, AvgPool1d) and which are kept as given."""
    for path, args, kwargs in [("nn.MaxPool2d", (3,), {}), ("nn.MaxPool1d", (3, 1), {}),
                               ("nn.AvgPool1d", (3,), {}), ("nn.AvgPool2d", (3,), {"stride": 1}),
                               ("nn.MaxUnpool3d", (2,), {}), ("nn.LPPool2d", (2, 3), {}),
                               ("nn.FractionalMaxPool2d", (3,), {"output_size": 4})]:
        t, m = lib_path(torch, path)(*args, **kwargs), lib_path(mc, path)(*args, **kwargs)
        for name in ("kernel_size", "stride", "padding", "dilation", "output_size", "output_ratio"):
            if hasattr(t, name):
                assert getattr(m, name) == getattr(t, name), (path, name)
        assert repr(m) == repr(t)


def test_max_pool_indices_to_float_input_dtype():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    t, m = pair("nn.MaxPool2d", 2, return_indices=True)
    (to, ti), (mo, mi) = t(torch.tensor(x)), m(to_mc(torch.tensor(x)))
    assert_same(mo, to)
    assert_same(mi, ti)
