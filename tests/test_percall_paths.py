"""The per-call fast paths keep torch's behaviour: the operator entry's common case (Note [Operator fast entry] in
csrc/dispatch.c), the empty __dict__ a Tensor keeps through the free list (Note [Kept instance dicts] in
csrc/tensor.c) and the shallow node deallocation (Note [Shallow node deallocation] in csrc/autograd.c)."""
import gc

import pytest
import torch

import mlx_compat as mc


def test_result_dict_starts_empty_and_attributes_do_not_survive_reuse():
    a = mc.ones(3)
    for i in range(300):  # more than the free list holds, so objects are reused and made anew
        b = a * 2
        assert b.__dict__ == {} and vars(b) == {}
        b.tag = i
        assert b.tag == i and b.__dict__ == {"tag": i}
        del b
    c = a * 3
    assert not hasattr(c, "tag") and c.__dict__ == {}


def test_live_tensors_never_share_a_dict():
    a = mc.ones(3)
    xs = [a + i for i in range(200)]
    dicts = [x.__dict__ for x in xs]
    assert len({id(d) for d in dicts}) == len(xs)
    xs[0].name = "first"
    assert all(not hasattr(x, "name") for x in xs[1:])


def test_a_dict_held_elsewhere_is_not_reused():
    a = mc.ones(3)
    b = a * 2
    held = b.__dict__
    del b
    others = [a * 3 for _ in range(200)]
    assert all(o.__dict__ is not held for o in others)
    held["x"] = 1  # still an ordinary dict of its own
    assert all(not hasattr(o, "x") for o in others)


def test_subclass_instances_keep_their_own_dicts():
    class Sub(mc.Tensor):
        pass

    s = mc.ones(2).as_subclass(Sub)
    s.extra = 5
    r = s * 2
    assert type(r) is Sub and not hasattr(r, "extra")


@pytest.mark.parametrize("name,nargs", [("exp", 0), ("exp", 2), ("sigmoid", 2), ("add", 0), ("add", 1), ("mul", 1)])
def test_operator_entry_argument_counts_raise_as_torch(name, nargs):
    """Tensors only, the wrong count: the fast entry must hand these to the general path's errors."""
    for L in (torch, mc):
        with pytest.raises(TypeError):
            getattr(L, name)(*[L.ones(2)] * nargs)


def test_operator_entry_mixed_operands_take_the_general_path():
    a, t = mc.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert mc.add(a, 2).tolist() == torch.add(t, 2).tolist()
    assert mc.add(a, a, alpha=2).tolist() == torch.add(t, t, alpha=2).tolist()
    assert mc.exp(input=a).tolist() == pytest.approx(torch.exp(input=t).tolist())
    out = mc.empty(2)
    assert mc.exp(a, out=out) is out


def test_graph_of_a_few_nodes_frees_by_refcount():
    gc.disable()
    try:
        x = mc.ones(2, requires_grad=True)
        y = (x * 2).exp() * 3
        node = y.grad_fn
        import weakref

        ref = weakref.ref(node)
        del node, y
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("modname", ["mlx_compat", "mlx_compat._compile", "mlx_compat.nn.functional"])
def test_hot_modules_have_no_module_getattr(modname):
    """Note [No module __getattr__] (mlx_compat/__init__.py): CPython does not specialise attribute loads on a module
    whose namespace holds `__getattr__`, so `torch.exp(...)` would pay a generic lookup on every call. The names it
    served are bound eagerly, with torch's objects' behaviour (tests/alias checks them under the alias too)."""
    import importlib

    mod = importlib.import_module(modname)
    assert "__getattr__" not in vars(mod)


def test_alias_extras_are_bound_on_the_package():
    x = mc.ones(2, 3, 4, 5)
    t = torch.ones(2, 3, 4, 5)
    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
        assert repr(getattr(mc, name)) == repr(getattr(torch, name))
        assert isinstance(getattr(mc, name), mc.memory_format)
    y = x.contiguous(memory_format=mc.channels_last)
    assert tuple(y.shape) == tuple(t.contiguous(memory_format=torch.channels_last).shape)
    assert mc.FloatTensor.__name__ == torch.FloatTensor.__name__ == "FloatTensor"
    assert str(mc.get_default_device()) == str(torch.get_default_device())
    with pytest.raises(AttributeError):
        mc.no_such_name_in_torch
