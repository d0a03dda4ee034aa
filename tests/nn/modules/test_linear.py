"""nn.Identity, Linear, Bilinear and LazyLinear against torch: same constructor, torch's weights carried over;
outputs, input and parameter gradients, state_dict and repr in train and eval; initial weights' distribution;
Lazy materialization (from a forward and from a state_dict); constructor errors."""
import math

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import assert_same_init, carry_state, check_module, inputs, lib_path, pair

CASES = [
    ("nn.Identity", (), {}, [(3, 4)]),
    ("nn.Identity", (54,), {"unused_argument1": 0.1}, [(2, 3, 4)]),
    ("nn.Linear", (5, 3), {}, [(4, 5)]),
    ("nn.Linear", (5, 3), {"bias": False}, [(2, 7, 5)]),
    ("nn.Linear", (5, 3), {}, [(5,)]),
    ("nn.Linear", (1, 1), {}, [(6, 1)]),
    ("nn.Bilinear", (4, 3, 2), {}, [(6, 4), (6, 3)]),
    ("nn.Bilinear", (4, 3, 5), {"bias": False}, [(2, 6, 4), (2, 6, 3)]),
    ("nn.Bilinear", (2, 3, 4), {}, [(2,), (3,)]),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shapes", CASES,
                         ids=[f"{c[0][3:]}{c[1]}{c[2] or ''}" for c in CASES])
def test_matches_torch(path, args, kwargs, shapes, train):
    theirs, ours = pair(path, *args, **kwargs)
    t_in, m_in = inputs(*shapes)
    check_module(theirs, ours, t_in, m_in, train=train)


@pytest.mark.parametrize("path,args,shapes", [
    ("nn.Linear", (7, 4), ["weight", "bias"]),
    ("nn.Bilinear", (3, 5, 2), ["weight", "bias"]),
])
def test_parameters(path, args, shapes):
    """Parameter names, order, shapes, dtype and requires_grad as torch's (before any state is carried)."""
    t, m = lib_path(torch, path)(*args), lib_path(mc, path)(*args)
    tp, mp = list(t.named_parameters()), list(m.named_parameters())
    assert [k for k, _ in mp] == [k for k, _ in tp] == shapes
    for (_, a), (_, b) in zip(mp, tp):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        assert a.requires_grad and isinstance(a, mc.nn.Parameter)
    assert repr(m) == repr(t)


def test_bias_false_registers_none():
    t, m = torch.nn.Linear(3, 2, bias=False), mc.nn.Linear(3, 2, bias=False)
    assert m.bias is None and "bias" in m._parameters
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight"]


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_dtype_argument(dtype):
    t = torch.nn.Linear(3, 2, dtype=getattr(torch, dtype))
    m = mc.nn.Linear(3, 2, dtype=getattr(mc, dtype))
    assert str(m.weight.dtype) == str(t.weight.dtype) and str(m.bias.dtype) == str(t.bias.dtype)
    b = mc.nn.Bilinear(2, 3, 4, dtype=getattr(mc, dtype))
    assert str(b.weight.dtype) == str(t.weight.dtype)


def test_linear_float64_forward():
    t = torch.nn.Linear(4, 3, dtype=torch.float64)
    m = mc.nn.Linear(4, 3, dtype=mc.float64)
    carry_state(t, m)
    t_in, m_in = inputs((5, 4), dtype=np.float64)
    check_module(t, m, t_in, m_in, rtol=1e-12, atol=1e-12, grad_rtol=1e-12, grad_atol=1e-12)


@pytest.mark.parametrize("in_f,out_f", [(50, 30), (3, 200)])
def test_linear_init_distribution(in_f, out_f):
    b = 1 / math.sqrt(in_f)
    assert_same_init(lambda lib: lib.nn.Linear(in_f, out_f), bounds={"weight": b, "bias": b})


def test_bilinear_init_distribution():
    b = 1 / math.sqrt(6)
    assert_same_init(lambda lib: lib.nn.Bilinear(6, 4, 5), bounds={"weight": b, "bias": b})


def test_reset_parameters_redraws_in_place():
    m = mc.nn.Linear(8, 8)
    w = m.weight
    before = w.detach().clone()
    m.reset_parameters()
    assert m.weight is w
    assert not np.array_equal(before.numpy(), m.weight.detach().numpy())
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / math.sqrt(8)


def test_errors():
    assert_raises_same(lambda: torch.nn.Bilinear(0, 2, 3), lambda: mc.nn.Bilinear(0, 2, 3))
    t, m = pair("nn.Linear", 4, 3)
    t_in, m_in = inputs((2, 5))
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((2, 3), (2, 5))], ids=["batch", "features"])
def test_bilinear_shape_mismatch_error(shapes):
    t, m = pair("nn.Bilinear", 3, 4, 2)
    t_in, m_in = inputs(*shapes)
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))


# ---- LazyLinear


def test_lazy_linear_materializes_on_first_call():
    t, m = torch.nn.LazyLinear(3), mc.nn.LazyLinear(3)
    assert repr(m) == repr(t)
    assert isinstance(m.weight, mc.nn.UninitializedParameter) and isinstance(m.bias, mc.nn.UninitializedParameter)
    assert m.has_uninitialized_params()
    t_in, m_in = inputs((2, 5))
    t(*t_in), m(*m_in)
    assert type(m) is mc.nn.Linear and type(t) is torch.nn.Linear
    assert m.in_features == t.in_features == 5
    assert tuple(m.weight.shape) == (3, 5) and tuple(m.bias.shape) == (3,)
    assert not isinstance(m.weight, mc.nn.UninitializedParameter)
    bound = 1 / math.sqrt(5)
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    carry_state(t, m)
    check_module(t, m, *inputs((4, 5)))


def test_lazy_linear_init_distribution():
    def make(lib):
        m = lib.nn.LazyLinear(30)
        m(lib.zeros(2, 12))
        return m
    b = 1 / math.sqrt(12)
    assert_same_init(make, bounds={"weight": b, "bias": b})


def test_lazy_linear_no_bias():
    t, m = torch.nn.LazyLinear(3, bias=False), mc.nn.LazyLinear(3, bias=False)
    assert m.bias is None
    t(torch.zeros(2, 4)), m(mc.zeros(2, 4))
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight"]
    carry_state(t, m)
    check_module(t, m, *inputs((1, 4)))


def test_lazy_linear_loads_state_dict_before_forward():
    t = torch.nn.Linear(6, 2)
    m = mc.nn.LazyLinear(2)
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})
    assert tuple(m.weight.shape) == (2, 6)
    t_in, m_in = inputs((3, 6))
    assert_same(m(*m_in), t(*t_in))
    assert type(m) is mc.nn.Linear


def test_init_check_detects_a_wrong_scheme():
    """The distribution check fails for Linear drawn with kaiming_uniform_'s default a=0 (bounds sqrt(6/fan_in))."""
    def make(lib):
        m = lib.nn.Linear(20, 30)
        if lib is mc:
            mc.nn.init.kaiming_uniform_(m.weight)
        return m
    with pytest.raises(AssertionError):
        assert_same_init(make, bounds={"weight": 1 / math.sqrt(20)})
    with pytest.raises(AssertionError):
        assert_same_init(make)


def test_lazy_linear_state_dict_before_materializing():
    """An uninitialized LazyLinear's state_dict holds its UninitializedParameters under torch's keys."""
    t, m = torch.nn.LazyLinear(4), mc.nn.LazyLinear(4)
    st, sm = t.state_dict(), m.state_dict()
    assert list(sm) == list(st) == ["weight", "bias"]
    assert all(isinstance(v, mc.nn.UninitializedParameter) for v in sm.values())
    assert repr(m) == repr(t)


# ---------------------------------------------------------------- Note [parameter reads in forward]

def _replace(L, m, how):
    """One way torch lets a user swap what Linear.forward reads."""
    g = np.random.default_rng(11)
    new = lambda *s: L.from_numpy(g.standard_normal(s).astype(np.float32))  # noqa: E731
    if how == "new-parameter":
        m.weight = L.nn.Parameter(new(3, 5))
    elif how == "bias-none":
        m.bias = None
    elif how == "parametrize":
        class Double(L.nn.Module):
            def forward(self, w):
                return w * 2
        L.nn.utils.parametrize.register_parametrization(m, "weight", Double())
    elif how == "weight-norm":
        L.nn.utils.weight_norm(m)
    elif how == "deleted-then-plain-tensor":
        del m.weight
        m.weight = new(3, 5)
    elif how == "functional-call":
        return lambda x: L.func.functional_call(m, {"weight": new(3, 5), "bias": new(3)}, (x,))
    elif how == "load-state-dict-assign":
        m.load_state_dict({"weight": new(3, 5), "bias": new(3)}, assign=True)
    return m


@pytest.mark.parametrize("how", ["new-parameter", "bias-none", "parametrize", "weight-norm",
                                 "deleted-then-plain-tensor", "functional-call", "load-state-dict-assign"])
def test_linear_forward_sees_replaced_parameters(how):
    """Linear.forward reads its dicts directly (Note [parameter reads in forward]): every replacement torch
    allows is still what the forward uses, output and gradients equal to torch's."""
    theirs, ours = pair("nn.Linear", 5, 3)
    x = np.random.default_rng(2).standard_normal((4, 5)).astype(np.float32)
    outs = []
    for L, m in ((torch, theirs), (mc, ours)):
        f = _replace(L, m, how)
        xin = L.from_numpy(x.copy()).requires_grad_()
        out = f(xin)
        (g,) = L.autograd.grad(out.sum(), [xin])
        outs.append((out, g))
    assert_same(outs[1][0].detach(), outs[0][0].detach())
    assert_same(outs[1][1], outs[0][1])
