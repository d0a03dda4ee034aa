"""Tensor subclasses against torch: every operator and method works on a subclass with or without its own
dunders, results follow torch's propagation rules (Tensor.__torch_function__'s default gives results the
subclass's type, through an alias view; a subclass that disables the protocol, as nn.Parameter does, gets
plain Tensors), and autograd flows through them."""
import numpy as np
import pytest

from helpers import mc, torch

DATA = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)


def _classes(L):
    class Plain(L.Tensor):
        pass

    class WithDunders(L.Tensor):
        def __add__(self, other):
            return super().__add__(other)

        def __mul__(self, other):
            return super().__mul__(other)

        def __getitem__(self, idx):
            return super().__getitem__(idx)

    class Disabled(L.Tensor):
        __torch_function__ = L._C._disabled_torch_function_impl

    return {"plain": Plain, "dunders": WithDunders, "disabled": Disabled}


def _make(L, kind, requires_grad=False):
    base = L.tensor(DATA, requires_grad=requires_grad)
    cls = _classes(L)[kind]
    if kind == "disabled":
        return L.Tensor._make_subclass(cls, base.detach(), requires_grad)
    return base.as_subclass(cls)


OPS = {
    "s + 1": lambda L, s: s + 1,
    "1 + s": lambda L, s: 1 + s,
    "s - 1": lambda L, s: s - 1,
    "2 - s": lambda L, s: 2 - s,
    "s * 2": lambda L, s: s * 2,
    "2 * s": lambda L, s: 2 * s,
    "s / 2": lambda L, s: s / 2,
    "s // 2": lambda L, s: s // 2,
    "s % 2": lambda L, s: s % 2,
    "s ** 2": lambda L, s: s ** 2,
    "s + s": lambda L, s: s + s,
    "s @ s.T": lambda L, s: s @ s.T,
    "-s": lambda L, s: -s,
    "abs(s)": lambda L, s: abs(s),
    "s < 1": lambda L, s: s < 1,
    "s == s": lambda L, s: s == s,
    "s[0]": lambda L, s: s[0],
    "s[:, 1:]": lambda L, s: s[:, 1:],
    "s.exp()": lambda L, s: s.exp(),
    "torch.exp(s)": lambda L, s: L.exp(s),
    "torch.add(s, 1)": lambda L, s: L.add(s, 1),
    "s.sum()": lambda L, s: s.sum(),
    "s.sum(1)": lambda L, s: s.sum(1),
    "s.mean()": lambda L, s: s.mean(),
    "s.view(6)": lambda L, s: s.view(6),
    "s.reshape(3, 2)": lambda L, s: s.reshape(3, 2),
    "s.t()": lambda L, s: s.t(),
    "s.unsqueeze(0)": lambda L, s: s.unsqueeze(0),
    "s.clone()": lambda L, s: s.clone(),
    "s.relu()": lambda L, s: s.relu(),
    "F.softmax(s, -1)": lambda L, s: L.nn.functional.softmax(s, -1),
    "torch.cat([s, s])": lambda L, s: L.cat([s, s]),
    "torch.where(s > 0, s, 0.)": lambda L, s: L.where(s > 0, s, 0.0),
    "s.max(dim=1).values": lambda L, s: s.max(dim=1).values,
    "s.to(float64)": lambda L, s: s.to(L.float64),
    "s.float()": lambda L, s: s.float(),
    "s.T": lambda L, s: s.T,
    "s.mT": lambda L, s: s.mT,
    "s.real": lambda L, s: s.real,
    "s.data": lambda L, s: s.data,
}


def _describe(r):
    if isinstance(r, (tuple, list)):
        return [_describe(x) for x in r]
    return type(r).__name__, tuple(r.shape), str(r.dtype).split(".")[-1], np.asarray(r.detach().tolist())


@pytest.mark.parametrize("kind", ["plain", "dunders", "disabled"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_op_result_type_and_value(kind, op):
    t = OPS[op](torch, _make(torch, kind))
    m = OPS[op](mc, _make(mc, kind))
    dt, dm = _describe(t), _describe(m)
    assert dm[:3] == dt[:3]
    np.testing.assert_allclose(dm[3], dt[3], rtol=1e-6)


@pytest.mark.parametrize("kind", ["plain", "dunders", "disabled"])
def test_in_place_keeps_subclass(kind):
    got = {}
    for L in (torch, mc):
        s = _make(L, kind)
        r1 = s.add_(1)
        s += 2
        s.mul_(s)
        s[0] = 1.0
        got[L] = (r1 is s, type(s).__name__, s.tolist())
    assert got[mc] == got[torch]


def test_as_subclass_is_an_alias_view():
    got = {}
    for L in (torch, mc):
        x = L.tensor(DATA, requires_grad=True)
        s = x.as_subclass(_classes(L)["plain"])
        r = s * 2
        got[L] = (type(s).__name__, s._base is not None, s._base is x, type(s.grad_fn).__name__, s.is_leaf,
                  s.requires_grad, r._base is not None, type(r.grad_fn).__name__, type(r._base).__name__)
    assert got[mc] == got[torch]


@pytest.mark.parametrize("kind", ["plain", "dunders"])
def test_autograd_through_subclass(kind):
    grads = {}
    for L in (torch, mc):
        x = L.tensor(DATA, requires_grad=True)
        s = x.as_subclass(_classes(L)[kind])
        loss = ((s * 2 + 1).exp() * s).sum() + (s @ s.T).sum()
        loss.backward()
        grads[L] = (type(loss).__name__, x.grad.tolist())
    assert grads[mc][0] == grads[torch][0]
    np.testing.assert_allclose(grads[mc][1], grads[torch][1], rtol=1e-5)


def test_disabled_subclass_leaf_like_parameter():
    """A Parameter-like subclass (protocol disabled, made with _make_subclass) is a leaf requiring grad whose
    op results are plain Tensors, and its .grad is filled."""
    got = {}
    for L in (torch, mc):
        p = _make(L, "disabled", requires_grad=True)
        y = (p * 3).sum()
        y.backward()
        got[L] = (type(p).__name__, p.is_leaf, type(y).__name__, p.grad.tolist())
    assert got[mc] == got[torch]


def test_subclass_attributes_survive_and_results_are_new_objects():
    for L in (torch, mc):
        s = _make(L, "plain")
        s.tag = "mine"
        r = s + 0
        assert s.tag == "mine"
        assert type(r) is type(s) and r is not s and not hasattr(r, "tag")


def test_subclass_with_slots_layout():
    """A subclass adding __slots__ cannot share a Tensor's layout; creating it with _make_subclass works."""
    class Slotted(mc.Tensor):
        __slots__ = ("extra",)

    s = mc.Tensor._make_subclass(Slotted, mc.tensor(DATA))
    s.extra = 3
    assert s.extra == 3 and type(s) is Slotted
