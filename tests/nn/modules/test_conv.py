"""nn.Conv1d/2d/3d, ConvTranspose1d/2d/3d and the Lazy convolutions against torch: same constructor, torch's
weights carried over; outputs, input and parameter gradients, state_dict and repr in train and eval, over padding
ints/'same'/'valid', the four padding modes, stride, dilation, groups, bias, unbatched inputs and output_size;
initial weights' distribution; constructor and forward errors."""
import math

import numpy as np
import pytest

from helpers import assert_raises_same, mc, torch
from modtest import assert_same_init, carry_state, check_module, inputs, lib_path, pair

CONV = [
    ("nn.Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("nn.Conv1d", (4, 6, 2), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 11)),
    ("nn.Conv1d", (3, 4, 3), {"padding": "same", "dilation": 2}, (2, 3, 8)),
    ("nn.Conv1d", (3, 4, 4), {"padding": "same"}, (2, 3, 8)),
    ("nn.Conv1d", (3, 4, 3), {"padding": "valid", "bias": False}, (3, 9)),
    ("nn.Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "reflect"}, (2, 2, 7)),
    ("nn.Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "replicate"}, (2, 2, 7)),
    ("nn.Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "circular", "stride": 2}, (2, 2, 7)),
    ("nn.Conv1d", (2, 3, 4), {"padding": "same", "padding_mode": "reflect"}, (2, 2, 7)),
    ("nn.Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("nn.Conv2d", (3, 4, (2, 3)), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2)}, (2, 3, 8, 9)),
    ("nn.Conv2d", (4, 4, 3), {"groups": 4, "bias": False}, (1, 4, 6, 6)),
    ("nn.Conv2d", (4, 8, 3), {"groups": 2, "padding": 1}, (4, 6, 5)),
    ("nn.Conv2d", (3, 2, (3, 4)), {"padding": "same", "dilation": (2, 1)}, (2, 3, 7, 8)),
    ("nn.Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "reflect"}, (2, 2, 5, 6)),
    ("nn.Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "replicate", "stride": 2}, (2, 2, 5, 6)),
    ("nn.Conv2d", (2, 3, 3), {"padding": (2, 1), "padding_mode": "circular"}, (2, 2, 5, 6)),
    ("nn.Conv2d", (2, 3, 3), {"padding": "same", "padding_mode": "circular"}, (2, 2, 5, 6)),
    ("nn.Conv3d", (2, 3, 2), {}, (2, 2, 4, 5, 4)),
    ("nn.Conv3d", (2, 4, (2, 3, 2)), {"stride": (1, 2, 1), "padding": 1, "dilation": (2, 1, 1), "groups": 2},
     (1, 2, 5, 5, 4)),
    ("nn.Conv3d", (2, 3, 3), {"padding": "same", "bias": False}, (2, 4, 4, 4)),
    ("nn.Conv3d", (2, 2, 2), {"padding": 1, "padding_mode": "reflect"}, (1, 2, 3, 4, 3)),
    ("nn.Conv3d", (2, 2, 2), {"padding": 1, "padding_mode": "replicate"}, (1, 2, 3, 4, 3)),
    ("nn.Conv3d", (2, 2, 2), {"padding": (1, 0, 1), "padding_mode": "circular"}, (1, 2, 3, 4, 3)),
    ("nn.ConvTranspose1d", (3, 4, 3), {}, (2, 3, 6)),
    ("nn.ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2,
                                       "dilation": 2}, (2, 4, 5)),
    ("nn.ConvTranspose1d", (3, 2, 2), {"bias": False}, (3, 5)),
    ("nn.ConvTranspose2d", (3, 4, 3), {}, (2, 3, 4, 5)),
    ("nn.ConvTranspose2d", (2, 4, (3, 2)), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
                                            "dilation": (1, 2)}, (2, 2, 4, 3)),
    ("nn.ConvTranspose2d", (4, 4, 3), {"groups": 4, "bias": False, "stride": 2}, (4, 3, 3)),
    ("nn.ConvTranspose3d", (2, 3, 2), {}, (2, 2, 3, 3, 2)),
    ("nn.ConvTranspose3d", (2, 4, (2, 3, 2)), {"stride": 2, "padding": (0, 1, 0), "output_padding": (1, 0, 1),
                                               "groups": 2}, (1, 2, 3, 2, 3)),
]


def _id(c):
    return f"{c[0][3:]}{c[1]}" + ",".join(f"{k}={v}" for k, v in c[2].items())


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shape", CONV, ids=[_id(c) for c in CONV])
def test_matches_torch(path, args, kwargs, shape, train):
    theirs, ours = pair(path, *args, **kwargs)
    check_module(theirs, ours, *inputs(shape), train=train, grad_atol=1e-4)


@pytest.mark.parametrize("nd,output_size", [
    (1, [10]), (1, [2, 4, 9]), (2, [9, 8]), (2, [2, 4, 10, 7]), (3, [10, 7, 6]),
])
def test_conv_transpose_output_size(nd, output_size):
    theirs, ours = pair(f"nn.ConvTranspose{nd}d", 3, 4, 3, stride=2, padding=1)
    shape = (2, 3) + (5, 4, 3)[:nd]
    call = lambda mod, xs: mod(xs[0], output_size=output_size)  # noqa: E731
    check_module(theirs, ours, *inputs(shape), call=call, grad_atol=1e-4)


def test_conv_transpose_output_size_errors():
    theirs, ours = pair("nn.ConvTranspose2d", 3, 4, 3, stride=2, padding=1)
    t_in, m_in = inputs((2, 3, 5, 4))
    for size in ([12, 12], [9], [1, 2, 3, 4, 5]):
        assert_raises_same(lambda: theirs(t_in[0], output_size=size), lambda: ours(m_in[0], output_size=size))


@pytest.mark.parametrize("path,args,kwargs", [
    ("nn.Conv1d", (4, 6, 3), {"groups": 3}),
    ("nn.Conv1d", (4, 6, 3), {"groups": 4}),
    ("nn.Conv2d", (4, 6, 3), {"groups": 0}),
    ("nn.Conv2d", (4, 6, 3), {"padding": "same", "stride": 2}),
    ("nn.Conv2d", (4, 6, 3), {"padding": "full"}),
    ("nn.Conv2d", (4, 6, 3), {"padding_mode": "mirror"}),
    ("nn.ConvTranspose2d", (4, 6, 3), {"padding_mode": "reflect"}),
    ("nn.ConvTranspose1d", (4, 6, 3), {"groups": 4}),
])
def test_constructor_errors(path, args, kwargs):
    assert_raises_same(lambda: lib_path(torch, path)(*args, **kwargs), lambda: lib_path(mc, path)(*args, **kwargs))


@pytest.mark.parametrize("shape", [(2, 4, 6, 6), (2, 3, 6, 6, 6), (2, 3)])
def test_forward_errors(shape):
    theirs, ours = pair("nn.Conv2d", 3, 4, 3)
    t_in, m_in = inputs(shape)
    assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))


def test_forward_error_input_smaller_than_kernel():
    theirs, ours = pair("nn.Conv2d", 3, 4, 3)
    t_in, m_in = inputs((2, 3, 2, 2))
    assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))


@pytest.mark.parametrize("path,args,kwargs", [
    ("nn.Conv2d", (3, 8, 3), {}),
    ("nn.Conv1d", (6, 4, 5), {"groups": 2}),
    ("nn.Conv3d", (2, 3, (1, 2, 3)), {}),
    ("nn.ConvTranspose2d", (4, 6, 3), {}),
    ("nn.ConvTranspose1d", (4, 6, 2), {"groups": 2}),
    ("nn.ConvTranspose3d", (2, 4, 2), {"groups": 2, "bias": False}),
])
def test_init_distribution(path, args, kwargs):
    m = lib_path(torch, path)(*args, **kwargs)
    fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
    b = 1 / math.sqrt(fan_in)
    assert_same_init(lambda lib: lib_path(lib, path)(*args, **kwargs), draws=60, bounds={"weight": b, "bias": b})


def test_attributes_and_repr():
    for path, args, kwargs in [
        ("nn.Conv2d", (3, 4, 3), {"padding": "same", "padding_mode": "reflect", "groups": 1, "bias": False}),
        ("nn.Conv1d", (2, 4, 3), {"padding": "valid", "dilation": 3, "groups": 2}),
        ("nn.ConvTranspose3d", (2, 4, 3), {"output_padding": (0, 1, 0), "stride": 2}),
    ]:
        t, m = lib_path(torch, path)(*args, **kwargs), lib_path(mc, path)(*args, **kwargs)
        assert repr(m) == repr(t)
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed",
                     "output_padding", "groups", "padding_mode"):
            assert getattr(m, name) == getattr(t, name), name
        assert list(m._reversed_padding_repeated_twice) == list(t._reversed_padding_repeated_twice)


@pytest.mark.parametrize("dtype", ["float64"])
def test_conv_float64(dtype):
    t = torch.nn.Conv2d(2, 3, 3, padding=1, dtype=torch.float64)
    m = mc.nn.Conv2d(2, 3, 3, padding=1, dtype=mc.float64)
    assert str(m.weight.dtype) == str(t.weight.dtype)
    carry_state(t, m)
    check_module(t, m, *inputs((2, 2, 5, 5), dtype=np.float64), rtol=1e-10, atol=1e-10, grad_rtol=1e-10,
                 grad_atol=1e-10)


# ---- Lazy convolutions

LAZY = [
    ("LazyConv1d", (4, 3), {}, (2, 3, 8), 1),
    ("LazyConv2d", (4, 3), {"padding": 1, "groups": 2, "bias": False}, (2, 6, 5, 5), 1),
    ("LazyConv3d", (2, 2), {}, (3, 4, 4, 4), 0),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5), 1),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (2, 4, 3, 3), 1),
    ("LazyConvTranspose3d", (2, 2), {"output_padding": 1, "stride": 2}, (1, 3, 2, 2, 2), 1),
]


@pytest.mark.parametrize("name,args,kwargs,shape,cdim", LAZY, ids=[c[0] for c in LAZY])
def test_lazy_conv(name, args, kwargs, shape, cdim):
    t, m = getattr(torch.nn, name)(*args, **kwargs), getattr(mc.nn, name)(*args, **kwargs)
    assert repr(m) == repr(t)
    assert m.has_uninitialized_params()
    t_in, m_in = inputs(shape)
    t(*t_in), m(*m_in)
    assert type(m).__name__ == type(t).__name__ == name.replace("Lazy", "")
    assert m.in_channels == t.in_channels == shape[cdim]
    assert [(k, tuple(v.shape)) for k, v in m.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in t.named_parameters()]
    fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    carry_state(t, m)
    check_module(t, m, *inputs(shape, seed=3), grad_atol=1e-4)


def test_lazy_conv_init_distribution():
    """Materialized by a forward, a LazyConv2d's weights have Conv2d's distribution."""
    def make(lib):
        m = lib.nn.LazyConv2d(6, 3, groups=2)
        m(lib.zeros(1, 4, 5, 5))
        return m
    b = 1 / math.sqrt(2 * 9)
    assert_same_init(make, draws=60, bounds={"weight": b, "bias": b})


def test_lazy_conv_wrong_rank():
    t, m = torch.nn.LazyConv2d(4, 3), mc.nn.LazyConv2d(4, 3)
    t_in, m_in = inputs((2, 3, 4, 4, 4))
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))


@pytest.mark.parametrize("path,args,kwargs,shape", [
    ("nn.Conv2d", (3, 4, 3), {"padding": "same", "padding_mode": "reflect"}, (2, 3, 5, 5)),
    ("nn.ConvTranspose1d", (3, 2, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
])
def test_deepcopy_and_pickle(path, args, kwargs, shape):
    import copy
    import pickle
    theirs, ours = pair(path, *args, **kwargs)
    for clone in (copy.deepcopy(ours), pickle.loads(pickle.dumps(ours))):
        assert clone.weight is not ours.weight and repr(clone) == repr(theirs)
        theirs.zero_grad()
        check_module(theirs, clone, *inputs(shape))
