"""nn.Parameter, nn.Buffer and their uninitialized forms against torch: type, requires_grad, repr, aliasing,
copying, pickling, and what an uninitialized tensor allows."""
import copy
import pickle

import numpy as np
import pytest

from helpers import mc, torch


def test_parameter_basics():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch.nn.Parameter(torch.tensor(a))
    m = mc.nn.Parameter(mc.tensor(a))
    assert isinstance(m, mc.Tensor) and type(m) is mc.nn.Parameter
    assert m.requires_grad and m.is_leaf and m.grad_fn is None
    assert repr(m) == repr(t)
    assert str(m) == str(t)
    assert repr(mc.nn.Parameter(mc.tensor(a), requires_grad=False)) == repr(torch.nn.Parameter(torch.tensor(a), False))
    assert repr(mc.nn.Parameter()) == repr(torch.nn.Parameter())
    # arithmetic gives plain tensors, as in torch
    assert type(m + 1) is mc.Tensor and type(t + 1) is torch.Tensor
    assert type(m.detach()) is mc.Tensor


def test_parameter_shares_storage_with_its_source():
    for lib in (mc, torch):
        base = lib.zeros(2, 3)
        p = lib.nn.Parameter(base)
        with lib.no_grad():
            p.add_(1)
        assert base.tolist() == [[1.0] * 3] * 2
        base.mul_(5)  # and the other way round
        assert p.tolist() == [[5.0] * 3] * 2
        assert p.is_leaf and p.grad_fn is None and p.requires_grad and not base.requires_grad
        opt = lib.optim.SGD([p], lr=0.5)
        (p * 2).sum().backward()
        opt.step()
        assert base.tolist() == [[4.0] * 3] * 2
        with pytest.raises(RuntimeError):
            p.add_(1)  # a leaf that requires grad, under grad mode
        # a Parameter over a view writes into the view's base
        big = lib.zeros(4)
        q = lib.nn.Parameter(big[1:3])
        with lib.no_grad():
            q.fill_(7)
        assert big.tolist() == [0.0, 7.0, 7.0, 0.0]


def test_parameter_under_no_grad():
    base = mc.zeros(3)
    with mc.no_grad():
        p = mc.nn.Parameter(base)
    assert p.requires_grad and p.is_leaf
    with mc.no_grad():
        p.add_(1)
    assert p.tolist() == [1.0, 1.0, 1.0] and p.requires_grad


def test_parameter_integer_requires_grad_error():
    with pytest.raises(RuntimeError) as et:
        torch.nn.Parameter(torch.ones(2, dtype=torch.long))
    with pytest.raises(RuntimeError) as em:
        mc.nn.Parameter(mc.ones(2, dtype=mc.long))
    assert str(em.value) == str(et.value)
    p = mc.nn.Parameter(mc.ones(2, dtype=mc.long), requires_grad=False)
    assert type(p) is mc.nn.Parameter and p.dtype is mc.int64


def test_parameter_deepcopy_and_pickle():
    p = mc.nn.Parameter(mc.arange(4.0))
    p.extra = "kept"
    c = copy.deepcopy(p)
    assert type(c) is mc.nn.Parameter and c.requires_grad and c.tolist() == p.tolist()
    with mc.no_grad():
        c.zero_()
    assert p.tolist() == [0.0, 1.0, 2.0, 3.0]
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is mc.nn.Parameter and r.requires_grad and r.tolist() == p.tolist() and r.extra == "kept"
    q = pickle.loads(pickle.dumps(mc.nn.Parameter(mc.ones(2), requires_grad=False)))
    assert not q.requires_grad


def test_buffer():
    t = torch.nn.Buffer(torch.ones(2), persistent=False)
    m = mc.nn.Buffer(mc.ones(2), persistent=False)
    assert isinstance(m, mc.nn.Buffer) and isinstance(t, torch.nn.Buffer)
    assert type(m) is mc.Tensor and type(t) is torch.Tensor
    assert m.persistent is False and not isinstance(mc.ones(1), mc.nn.Buffer)
    assert not isinstance(mc.nn.Parameter(mc.ones(1)), mc.nn.Buffer)
    g = mc.ones(2, requires_grad=True)
    assert mc.nn.Buffer(g).requires_grad and mc.nn.Buffer(g).grad_fn is None


def test_uninitialized_parameter():
    t, m = torch.nn.UninitializedParameter(), mc.nn.UninitializedParameter()
    assert repr(m) == repr(t) == "<UninitializedParameter>"
    assert str(m) == str(t)
    assert isinstance(m, mc.nn.Parameter) and mc.nn.parameter.is_lazy(m)
    with pytest.raises(RuntimeError) as et:
        t.shape
    with pytest.raises(RuntimeError) as em:
        m.shape
    assert str(em.value) == str(et.value)
    with pytest.raises(ValueError):
        m + 1
    with pytest.raises(ValueError):
        t + 1
    m.materialize((2, 3))
    assert type(m) is mc.nn.Parameter and tuple(m.shape) == (2, 3) and m.requires_grad
    assert not mc.nn.parameter.is_lazy(m)
    d = mc.nn.UninitializedParameter(dtype=mc.float64)
    d.materialize((1,))
    assert d.dtype is mc.float64
    c = copy.deepcopy(mc.nn.UninitializedParameter(requires_grad=False))
    assert type(c) is mc.nn.UninitializedParameter and not c.requires_grad
    r = pickle.loads(pickle.dumps(mc.nn.UninitializedParameter()))
    assert type(r) is mc.nn.UninitializedParameter


def test_uninitialized_buffer():
    m = mc.nn.UninitializedBuffer(persistent=False)
    assert repr(m) == repr(torch.nn.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert m.persistent is False and isinstance(m, mc.nn.Buffer)
    m.materialize((4,), dtype=mc.float64)
    assert type(m) is mc.Tensor and tuple(m.shape) == (4,) and m.dtype is mc.float64


def test_uninitialized_parameter_in_module_state_dict_and_conversion():
    mod = mc.nn.Module()
    mod.w = mc.nn.UninitializedParameter()
    assert "w" in mod._parameters
    mod.double()
    assert mc.nn.parameter.is_lazy(mod.w)
