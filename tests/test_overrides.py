"""torch.overrides and the __torch_function__ protocol against torch: subclasses with their own
__torch_function__, tensor-like foreign objects, the helpers (has_torch_function, handle_torch_function,
is_tensor_like, get_ignored_functions), DisableTorchFunctionSubclass and TorchFunctionMode."""
import numpy as np
import pytest

from helpers import mc, torch


def _logging_subclass(L, log):
    class Logged(L.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    return Logged


CALLS = {
    "s.sum()": lambda L, s: s.sum(),
    "torch.exp(s)": lambda L, s: L.exp(s),
    "s + 1": lambda L, s: s + 1,
    "1 - s": lambda L, s: 1 - s,
    "s * s": lambda L, s: s * s,
    "-s": lambda L, s: -s,
    "s[0]": lambda L, s: s[0],
    "s.view(4)": lambda L, s: s.view(4),
    "F.relu(s)": lambda L, s: L.nn.functional.relu(s),
    "torch.cat([s, s])": lambda L, s: L.cat([s, s]),
    "torch.add(t, s)": lambda L, s: L.add(L.ones(2, 2), s),
    "s.add_(1)": lambda L, s: s.add_(1),
    "s @ s": lambda L, s: s @ s,
    "1 + s": lambda L, s: 1 + s,
    "2 * s": lambda L, s: 2 * s,
    "s / 2": lambda L, s: s / 2,
    "s // 2": lambda L, s: s // 2,
    "2 // s": lambda L, s: 2 // s,
    "s % 2": lambda L, s: s % 2,
    "2 % s": lambda L, s: 2 % s,
    "s ** 2": lambda L, s: s ** 2,
    "2 ** s": lambda L, s: 2 ** s,
    "s < 1": lambda L, s: s < 1,
    "1 < s": lambda L, s: 1 < s,
    "s == 1": lambda L, s: s == 1,
    "s != 1": lambda L, s: s != 1,
    "+s": lambda L, s: +s,
    "abs(s)": lambda L, s: abs(s),
    "s += 1": lambda L, s: s.__iadd__(1),
    "s *= 2": lambda L, s: s.__imul__(2),
    "s[0] = 1": lambda L, s: s.__setitem__(0, 1.0),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_subclass_torch_function_sees_the_public_call(call):
    seen = {}
    for L in (torch, mc):
        log = []
        s = L.ones(2, 2).as_subclass(_logging_subclass(L, log))
        log.clear()
        r = CALLS[call](L, s)
        seen[L] = (log[:1], type(r).__name__ if r is not None else None)
    assert seen[mc] == seen[torch]


def test_reflected_division_hands_over_rdiv():
    """`2 / s` reaches __torch_function__ as Tensor.__rdiv__ (torch's choice; our function object is shared
    with __rtruediv__'s module and named `_rdiv`, so compared by identity here)."""
    for L in (torch, mc):
        got = []

        class S(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                got.append(func)
                return super().__torch_function__(func, types, args, kwargs or {})

        r = 2 / L.ones(2).as_subclass(S)
        assert got[0] is L.Tensor.__rdiv__ and type(r) is S and r.tolist() == [2.0, 2.0]


class _Foreign:
    """A tensor-like object that is no Tensor: it answers every call with a record of what it got."""

    def __init__(self, lib):
        self.lib = lib

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ("handled", func.__name__, [t.__name__ for t in types], len(args), sorted(kwargs or {}))


@pytest.mark.parametrize("call", [
    lambda L, f: L.add(f, 1),
    lambda L, f: L.add(L.ones(2), f, alpha=2),
    lambda L, f: L.ones(2) + f,
    lambda L, f: L.ones(2) * f,
    lambda L, f: L.exp(f),
    lambda L, f: L.cat([L.ones(2), f]),
    lambda L, f: L.nn.functional.relu(f, inplace=False),
    lambda L, f: L.Tensor.add(L.ones(2), f),
    lambda L, f: L.ones(2)[f],
], ids=["add(f,1)", "add(t,f,alpha)", "t+f", "t*f", "exp(f)", "cat", "relu", "Tensor.add", "t[f]"])
def test_foreign_object_torch_function(call):
    assert call(mc, _Foreign(mc)) == call(torch, _Foreign(torch))


def test_all_not_implemented_raises_type_error():
    class Nope:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    for L in (torch, mc):
        with pytest.raises(TypeError):
            L.exp(Nope())


def test_subclass_priority_over_superclass():
    order = {}
    for L in (torch, mc):
        got = []

        class A(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                got.append("A")
                return NotImplemented

        class B(A):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                got.append("B")
                return NotImplemented

        a, b = L.ones(2).as_subclass(A), L.ones(2).as_subclass(B)
        with pytest.raises(TypeError):
            L.add(a, b)
        order[L] = got
    assert order[mc] == order[torch]


def test_helpers():
    for L in (torch, mc):
        ov = L.overrides
        t = L.ones(2)

        class S(L.Tensor):
            pass

        s = t.as_subclass(S)
        f = _Foreign(L)
        assert (ov.has_torch_function((t,)), ov.has_torch_function((s,)), ov.has_torch_function((1, f))) == \
            (False, True, True)
        assert ov.has_torch_function_unary(s) and not ov.has_torch_function_unary(t)
        assert ov.has_torch_function_variadic(t, s) and not ov.has_torch_function_variadic(t, 1)
        assert (ov.is_tensor_like(t), ov.is_tensor_like(s), ov.is_tensor_like(f), ov.is_tensor_like(1)) == \
            (True, True, True, False)
        assert L.tensor in ov.get_ignored_functions() and L.exp not in ov.get_ignored_functions()


def test_user_function_with_handle_torch_function():
    got = {}
    for L in (torch, mc):
        ov = L.overrides

        def my_func(x, k=1):
            if ov.has_torch_function_unary(x):
                return ov.handle_torch_function(my_func, (x,), x, k=k)
            return x + k

        got[L] = (my_func(L.ones(2)).tolist(), my_func(_Foreign(L), k=3)[:2])
    assert got[mc] == got[torch]


def test_disable_torch_function_subclass():
    got = {}
    for L in (torch, mc):
        log = []
        s = L.ones(2).as_subclass(_logging_subclass(L, log))
        log.clear()
        with L._C.DisableTorchFunctionSubclass():
            r = s + 1
        got[L] = (log, type(r).__name__)
    assert got[mc] == got[torch]


def test_torch_function_mode():
    got = {}
    for L in (torch, mc):
        log = []

        class Mode(L.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                log.append(func.__name__)
                return func(*args, **(kwargs or {}))  # the mode is popped while it runs: no recursion

        a = L.ones(2)
        with Mode():
            r = L.add(a, 1).mul(2)
            r = r + 1
        r2 = a * 3  # outside: not seen
        got[L] = (log, r.tolist(), r2.tolist())
    assert got[mc] == got[torch]


def test_plain_tensor_results_unchanged():
    """Plain Tensors never take the protocol's path: results are exact Tensors and values torch's."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, m = torch.tensor(a), mc.tensor(a)
    for f in (lambda L, x: L.exp(x), lambda L, x: x.sum(1), lambda L, x: x[1] * 2):
        r = f(mc, m)
        assert type(r) is mc.Tensor
        np.testing.assert_allclose(r.numpy(), f(torch, t).numpy(), rtol=1e-6)


def test_creation_functions_as_torch_lists_them():
    """zeros/tensor are ignored by the protocol in both (no dispatch on a subclass argument); zeros_like is
    overridable in both. The package's wrappers say which they are (Note [Device scope]: one C wrapper may also
    carry a device scope, the check is its own flag)."""
    got = {}
    for L in (torch, mc):
        log = []
        s = L.ones(2).as_subclass(_logging_subclass(L, log))
        log.clear()
        r1, r2 = L.zeros_like(s), L.zeros(2)
        overridable = {f for fs in L.overrides.get_overridable_functions().values() for f in fs}
        got[L] = (log, type(r1).__name__, type(r2).__name__, L.zeros_like in overridable,
                  L.zeros in L.overrides.get_ignored_functions(), L.zeros in overridable)
    assert got[mc] == got[torch]
    # the self-checking C entries (Note [Self-checking C entries]) are bare builtins and method descriptors
    own = mc.overrides._self_checking_ids()
    for fns in mc.overrides.get_overridable_functions().values():
        assert all(id(f) in own or f._checks_torch_function for f in fns)


def test_wrapper_without_the_check_passes_subclasses_through():
    """_C._tf_wrap(fn, scope, check=False) (a scope-only wrapper) leaves __torch_function__ alone; with the
    check it dispatches as every public function does."""
    log = []
    s = mc.ones(2).as_subclass(_logging_subclass(mc, log))
    log.clear()

    def kind(x):
        return type(x).__name__

    plain, checked = mc._C._tf_wrap(kind, 1, False), mc._C._tf_wrap(kind)
    assert plain(s) == "Logged" and log == []
    assert checked(s) == "Logged" and log == ["kind"]
    assert (plain._checks_torch_function, plain._device_scope, checked._checks_torch_function,
            checked._device_scope) == (False, 1, True, 0)
    assert plain.__wrapped__ is kind and plain.__name__ == "kind"
    for bad, exc in (((kind, 3), ValueError), ((kind, "x"), TypeError), ((1,), TypeError), ((), TypeError)):
        with pytest.raises(exc):
            mc._C._tf_wrap(*bad)


# Note [Foreign dispatch of our tensors]
@pytest.mark.parametrize("call", [
    lambda T, m: T.nn.functional.linear(m.ones(2, 3), m.ones(4, 3)),
    lambda T, m: T.add(m.ones(2, 3), 1),
    lambda T, m: T.add(T.ones(2, 3), m.ones(2, 3)),
], ids=["F.linear", "add", "mixed add"])
def test_a_foreign_librarys_function_on_our_tensors_raises_its_type_error(call):
    """Real torch's functions given our Tensors dispatch to our default __torch_function__, which must not run
    torch's function again (that recursed without end): torch's TypeError for objects it does not handle, as
    for any foreign object with __torch_function__."""
    import torch as real

    class Foreign:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    with pytest.raises(TypeError) as ours:
        call(real, mc)
    with pytest.raises(TypeError) as theirs:
        real.add(Foreign(), 1)
    assert "__torch_function__" in str(ours.value) and "__torch_function__" in str(theirs.value)
    # our own functions through the same default are unaffected, subclasses included
    class Sub(mc.Tensor):
        pass
    s = mc.ones(2, 3).as_subclass(Sub)
    assert type(mc.add(s, 1)) is Sub and type(mc.nn.functional.linear(s, mc.ones(4, 3))) is Sub
