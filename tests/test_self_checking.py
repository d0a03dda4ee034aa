"""The C entries that check __torch_function__ themselves, unwrapped (Note [Self-checking C entries] in
csrc/overrides.c): they dispatch to subclasses and modes with the public object as `func`, as torch does, and
their argument errors are torch's."""
import pytest
import torch

import mlx_compat as mc
from mlx_compat import _C

METHODS = ["view", "reshape", "softmax", "log_softmax", "max", "min", "amax", "amin", "argmax", "argmin", "item"]
FUNCTIONS = ["cat", "stack", "where", "softmax", "log_softmax", "max", "min", "amax", "amin", "argmax", "argmin",
             "linear"]

CALLS = {  # name -> (is_method, call(L, x) on a 4x4 tensor x)
    "view": (True, lambda L, x: x.view(16)),
    "reshape": (True, lambda L, x: x.reshape(2, 8)),
    "m.softmax": (True, lambda L, x: x.softmax(-1)),
    "m.log_softmax": (True, lambda L, x: x.log_softmax(-1)),
    "m.max": (True, lambda L, x: x.max(dim=1)),
    "m.min": (True, lambda L, x: x.min(1)),
    "m.amax": (True, lambda L, x: x.amax(1)),
    "m.amin": (True, lambda L, x: x.amin(1)),
    "m.argmax": (True, lambda L, x: x.argmax(1)),
    "m.argmin": (True, lambda L, x: x.argmin(1)),
    "cat": (False, lambda L, x: L.cat([x, x])),
    "stack": (False, lambda L, x: L.stack((x, x), 1)),
    "where": (False, lambda L, x: L.where(x > 0, x, x)),
    "softmax": (False, lambda L, x: L.nn.functional.softmax(x, -1)),
    "log_softmax": (False, lambda L, x: L.log_softmax(x, 1)),
    "max": (False, lambda L, x: L.max(x, 1)),
    "min": (False, lambda L, x: L.min(x, dim=0)),
    "amax": (False, lambda L, x: L.amax(x, 1)),
    "amin": (False, lambda L, x: L.amin(x, 1)),
    "argmax": (False, lambda L, x: L.argmax(x, 1)),
    "argmin": (False, lambda L, x: L.argmin(x)),
    "linear": (False, lambda L, x: L.nn.functional.linear(x, x, x[0])),
}


def test_entries_are_unwrapped_and_listed():
    own = _C._self_checking()
    assert len(own) == len(METHODS) + len(FUNCTIONS)
    for name in METHODS:
        f = vars(mc.Tensor)[name]
        assert type(f).__name__ == "method_descriptor" and any(f is o for o in own), name
    for name in FUNCTIONS:
        f = getattr(_C, name)
        assert type(f).__name__ == "builtin_function_or_method" and any(f is o for o in own), name
    assert mc.cat is _C.cat and mc.nn.functional.softmax is _C.softmax and mc.Tensor.view is vars(mc.Tensor)["view"]
    assert mc.nn.functional.linear is _C.linear
    over = {id(f) for fs in mc.overrides.get_overridable_functions().values() for f in fs}
    assert all(id(o) in over for o in own)


def _public(L, key, is_method):
    name = key.split(".")[-1]
    return getattr(L.Tensor, name) if is_method else None


@pytest.mark.parametrize("key", sorted(CALLS))
def test_subclass_dispatch_as_torch(key):
    is_method, call = CALLS[key]
    got = {}
    for L in (torch, mc):
        seen = []

        class Logged(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(func)
                return super().__torch_function__(func, types, args, kwargs or {})

        x = L.arange(16.0).reshape(4, 4).as_subclass(Logged)
        seen.clear()
        r = call(L, x)
        first = r[0] if isinstance(r, tuple) else r
        got[L] = (type(first).__name__, len(seen) >= 1, first.shape)
        if is_method:
            assert any(f is _public(L, key, True) for f in seen), (seen, key)
        elif L is mc:
            assert any(f is getattr(_C, key) for f in seen), (seen, key)
    assert got[torch][:2] == got[mc][:2]
    assert tuple(got[torch][2]) == tuple(got[mc][2])


@pytest.mark.parametrize("key", sorted(CALLS))
def test_mode_sees_the_call(key):
    is_method, call = CALLS[key]
    seen = []

    class Mode(mc.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    x = mc.arange(16.0).reshape(4, 4)
    with Mode():
        r = call(mc, x)
    plain = call(mc, x)
    r, plain = (r[0], plain[0]) if isinstance(r, tuple) else (r, plain)
    expected = _public(mc, key, True) if is_method else getattr(_C, key)
    assert any(f is expected for f in seen), seen
    assert r.tolist() == plain.tolist()


@pytest.mark.parametrize("call", [
    lambda L, x: x.view("x"),
    lambda L, x: x.reshape(3, 3),
    lambda L, x: L.cat(3),
    lambda L, x: L.softmax(x, "x"),
    lambda L, x: x.max(dim="q"),
    lambda L, x: L.stack([x, L.ones(2)]),
    lambda L, x: L.argmax(x, 5),
    lambda L, x: L.nn.functional.linear(x, L.ones(3, 3)),
    lambda L, x: L.nn.functional.linear(x, x, L.ones(3)),
    lambda L, x: L.nn.functional.linear(x, x.long()),
])
def test_errors_as_torch(call):
    kinds = []
    for L in (torch, mc):
        x = L.ones(4, 4)
        with pytest.raises(Exception) as e:
            call(L, x)
        kinds.append(type(e.value))
    assert kinds[0] is kinds[1]
