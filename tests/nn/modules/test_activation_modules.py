"""nn activation modules against torch: every activation over representative constructor arguments (outputs,
input gradients, PReLU's weight gradient, state_dict and repr, train and eval); inplace=True writing into its
input; RReLU's random slopes by statistics; PReLU's init; constructor errors and deprecations."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch
from modtest import check_module, inputs, lib_path, pair

S = (3, 4, 5)
CASES = [
    ("nn.ReLU", (), {}, S), ("nn.ReLU6", (), {}, S), ("nn.LeakyReLU", (), {}, S),
    ("nn.LeakyReLU", (0.2,), {}, S), ("nn.PReLU", (), {}, S), ("nn.PReLU", (4,), {}, S),
    ("nn.PReLU", (), {"init": 0.1}, (7,)), ("nn.PReLU", (4,), {"init": -0.3}, (2, 4, 3, 2)),
    ("nn.ELU", (), {}, S), ("nn.ELU", (0.5,), {}, S), ("nn.SELU", (), {}, S), ("nn.CELU", (), {}, S),
    ("nn.CELU", (2.0,), {}, S), ("nn.GELU", (), {}, S), ("nn.GELU", ("tanh",), {}, S),
    ("nn.GELU", (), {"approximate": "none"}, S), ("nn.SiLU", (), {}, S), ("nn.Mish", (), {}, S),
    ("nn.Sigmoid", (), {}, S), ("nn.Tanh", (), {}, S), ("nn.Softplus", (), {}, S),
    ("nn.Softplus", (2.0, 1.0), {}, S), ("nn.Softsign", (), {}, S), ("nn.Hardtanh", (), {}, S),
    ("nn.Hardtanh", (-0.5, 2.0), {}, S), ("nn.Hardsigmoid", (), {}, S), ("nn.Hardswish", (), {}, S),
    ("nn.Hardshrink", (), {}, S), ("nn.Hardshrink", (0.3,), {}, S), ("nn.Softshrink", (), {}, S),
    ("nn.Softshrink", (0.8,), {}, S), ("nn.LogSigmoid", (), {}, S), ("nn.Softmax", (1,), {}, S),
    ("nn.Softmax", (), {"dim": -1}, S), ("nn.Softmin", (0,), {}, S), ("nn.LogSoftmax", (2,), {}, S),
    ("nn.LogSoftmax", (), {"dim": 1}, (4, 6)), ("nn.Softmax2d", (), {}, (2, 3, 4, 5)), ("nn.Softmax2d", (), {}, S),
    ("nn.GLU", (), {}, (3, 4, 6)), ("nn.GLU", (1,), {}, (3, 4, 5)), ("nn.Threshold", (0.1, 20.0), {}, S),
    ("nn.Threshold", (-0.5, -2), {}, S), ("nn.Tanhshrink", (), {}, S), ("nn.RReLU", (), {}, S),
    ("nn.RReLU", (0.1, 0.3), {}, S),
]


def _id(c):
    return f"{c[0][3:]}{c[1]}{c[2] or ''}{c[3]}"


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shape", CASES, ids=[_id(c) for c in CASES])
def test_matches_torch(path, args, kwargs, shape, train):
    if path == "nn.RReLU" and train:
        pytest.skip("RReLU draws random slopes in training: compared by statistics in test_rrelu_training")
    theirs, ours = pair(path, *args, **kwargs)
    t_in, m_in = inputs(shape)
    check_module(theirs, ours, t_in, m_in, train=train)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
@pytest.mark.parametrize("path,args", [("nn.GELU", ("tanh",)), ("nn.SiLU", ()), ("nn.ELU", ()),
                                       ("nn.Softmax", (-1,)), ("nn.Hardswish", ())])
def test_other_float_dtypes(path, args, dtype):
    theirs, ours = pair(path, *args)
    t_in, m_in = inputs(S, dtype=getattr(np, dtype))
    check_module(theirs, ours, t_in, m_in, train=True, rtol=1e-3 if dtype == "float16" else 1e-7,
                 atol=1e-3 if dtype == "float16" else 1e-7)


INPLACE = [("nn.ReLU", (), {"inplace": True}), ("nn.ReLU6", (True,), {}), ("nn.LeakyReLU", (0.1, True), {}),
           ("nn.ELU", (1.0, True), {}), ("nn.SELU", (True,), {}), ("nn.CELU", (), {"alpha": 1.5, "inplace": True}),
           ("nn.SiLU", (True,), {}), ("nn.Mish", (True,), {}), ("nn.Hardtanh", (-1.0, 1.0, True), {}),
           ("nn.Hardsigmoid", (True,), {}), ("nn.Hardswish", (True,), {}), ("nn.Threshold", (0.0, -1.0, True), {}),
           ("nn.RReLU", (0.1, 0.3, True), {})]


@pytest.mark.parametrize("path,args,kwargs", INPLACE, ids=[f"{c[0][3:]}{c[1]}{c[2] or ''}" for c in INPLACE])
def test_inplace(path, args, kwargs):
    """inplace=True writes the result into the input (a non-leaf), shows in the repr, and still backpropagates."""
    theirs, ours = pair(path, *args, **kwargs)
    theirs.eval()
    ours.eval()
    assert repr(ours) == repr(theirs)
    (tl,), (ml,) = inputs(S)
    tx, mx_ = tl * 1, ml * 1
    ty, my = theirs(tx), ours(mx_)
    assert_same(my, ty)
    assert_same(mx_, tx)  # the input now holds the result
    ty.sum().backward()
    my.sum().backward()
    assert_same(ml.grad, tl.grad, rtol=1e-4)


@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.1, 0.5), (0.2, 0.2)])
def test_rrelu_training(lower, upper):
    """In training each negative element gets its own slope from U(lower, upper); positives pass through; the
    gradient is the slope used."""
    m = mc.nn.RReLU(lower, upper)
    x = mc.tensor(-np.abs(np.random.default_rng(0).standard_normal(100_000)).astype(np.float32) - 0.1,
                  requires_grad=True)
    y = m(x)
    slope = (y / x).detach().numpy()
    assert slope.min() >= lower - 1e-6 and slope.max() <= upper + 1e-6
    if upper > lower:
        assert abs(slope.mean() - (lower + upper) / 2) < 0.01 * (upper - lower)
        assert abs(slope.std() - (upper - lower) / np.sqrt(12)) < 0.02 * (upper - lower)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slope, rtol=1e-5)
    pos = mc.tensor(np.linspace(0.1, 3, 50).astype(np.float32))
    assert_same(m(pos), torch.tensor(np.linspace(0.1, 3, 50).astype(np.float32)))


def test_prelu_parameters_and_init():
    for n, init in ((1, 0.25), (5, 0.1), (3, -1.0)):
        t, m = torch.nn.PReLU(n, init), mc.nn.PReLU(n, init)
        assert [k for k, _ in m.named_parameters()] == ["weight"]
        assert_same(m.weight, t.weight)
        assert repr(m) == repr(t) and m.init == t.init
        with mc.no_grad():
            m.weight.fill_(3.0)
        m.reset_parameters()
        assert_same(m.weight, t.weight)


@pytest.mark.parametrize("path", ["nn.Softmax", "nn.Softmin", "nn.LogSoftmax"])
def test_softmax_implicit_dim_warns(path):
    theirs, ours = pair(path)
    assert repr(ours) == repr(theirs)
    t_in, m_in = inputs((3, 4))
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        out_t = theirs(*t_in)
    with warnings.catch_warnings(record=True) as wm:
        warnings.simplefilter("always")
        out_m = ours(*m_in)
    assert [str(w.message) for w in wm] == [str(w.message) for w in wt]
    assert_same(out_m, out_t)


def test_softmax2d_rank():
    t, m = torch.nn.Softmax2d(), mc.nn.Softmax2d()
    assert_raises_same(lambda: t(torch.zeros(2, 3)), lambda: m(mc.zeros(2, 3)))
    assert_raises_same(lambda: t(torch.zeros(1, 2, 3, 4, 5)), lambda: m(mc.zeros(1, 2, 3, 4, 5)))


def test_hardtanh_arguments():
    assert_raises_same(lambda: torch.nn.Hardtanh(1.0, 1.0), lambda: mc.nn.Hardtanh(1.0, 1.0))
    assert_raises_same(lambda: torch.nn.Hardtanh(2.0, 1.0), lambda: mc.nn.Hardtanh(2.0, 1.0))
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        t = torch.nn.Hardtanh(min_value=-2.0, max_value=3.0)
    with warnings.catch_warnings(record=True) as wm:
        warnings.simplefilter("always")
        m = mc.nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert [(w.category, str(w.message)) for w in wm] == [(w.category, str(w.message)) for w in wt]
    assert repr(m) == repr(t) and (m.min_val, m.max_val) == (t.min_val, t.max_val)


@pytest.mark.parametrize("path", sorted({c[0] for c in CASES}))
def test_default_repr_and_attributes(path):
    args = {"nn.Threshold": (0.5, 1.0)}.get(path, ())
    t, m = lib_path(torch, path)(*args), lib_path(mc, path)(*args)
    assert repr(m) == repr(t)
    for name in getattr(t, "__constants__", []):
        assert getattr(m, name) == getattr(t, name), name
    assert list(m.state_dict()) == list(t.state_dict())


def test_glu_odd_dim_raises():
    t, m = pair("nn.GLU")
    t_in, m_in = inputs((3, 5))
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))


@pytest.mark.parametrize("path", ["nn.Softmax", "nn.Softmin", "nn.LogSoftmax"])
def test_softmax_old_pickle_without_dim(path):
    """Modules pickled before `dim` existed get dim=None on unpickling, as torch's __setstate__ does."""
    m = lib_path(mc, path)(1)
    state = dict(m.__dict__)
    del state["dim"]
    fresh = lib_path(mc, path).__new__(lib_path(mc, path))
    fresh.__setstate__(state)
    assert fresh.dim is None


@pytest.mark.parametrize("make", [lambda lib: lib.nn.PReLU(3), lambda lib: lib.nn.GELU("tanh"),
                                  lambda lib: lib.nn.MultiheadAttention(8, 2, kdim=3, add_bias_kv=True),
                                  lambda lib: lib.nn.Softmax(dim=1)])
def test_deepcopy_and_pickle(make):
    import copy
    import pickle

    t, m = make(torch), make(mc)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(clone) is type(m) and repr(clone) == repr(t)
        assert [k for k, _ in clone.named_parameters()] == [k for k, _ in t.named_parameters()]
        for (_, a), (_, b) in zip(clone.named_parameters(), m.named_parameters()):
            assert a is not b and np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_multihead_attention_old_pickle_state():
    """MultiheadAttention pickled before kdim/vdim existed: _qkv_same_embed_dim defaults to True."""
    m = mc.nn.MultiheadAttention(8, 2)
    state = dict(m.__dict__)
    del state["_qkv_same_embed_dim"]
    fresh = mc.nn.MultiheadAttention.__new__(mc.nn.MultiheadAttention)
    fresh.__setstate__(state)
    assert fresh._qkv_same_embed_dim is True
