"""Compiled calls with derived inputs through the C call program (Note [Derived inputs in C] in csrc/compile.c):
a compiled convolutional model's inference calls run the program, equal eager and PyTorch, and every write to a
weight or buffer between calls (in place, through .data, load_state_dict, an optimizer step) reaches the next
call; the derived values are recomputed only when a source array changed, and the program keeps no old array
alive."""
import gc
import sys
import warnings
import weakref

import numpy as np
import pytest
import torch as T

import mlx_compat as torch
import mlx_compat.nn as nn
from mlx_compat import _C
from mlx_compat import _compile
from test_compile_program import python_calls  # noqa: F401  (the fixture: calls that took the Python path)


@pytest.fixture(autouse=True)
def _fresh():
    torch._dynamo.reset()
    yield


def _layers(mod):
    return [mod.Conv2d(3, 8, 3, padding=1), mod.BatchNorm2d(8), mod.ReLU(), mod.MaxPool2d(2),
            mod.Conv2d(8, 4, 3, stride=2), mod.ReLU(), mod.Flatten(), mod.Linear(36, 5)]


def _pair():
    """The same eval-mode CNN in mlx_compat and in PyTorch (the oracle), with nontrivial running statistics."""
    torch.manual_seed(0)
    m = nn.Sequential(*_layers(nn)).eval()
    with torch.no_grad():
        m[1].running_mean.copy_(torch.randn(8) * 0.1)
        m[1].running_var.copy_(torch.rand(8) + 0.5)
    ref = T.nn.Sequential(*_layers(T.nn)).eval()
    _sync(m, ref)
    return m, ref


def _sync(m, ref):
    ref.load_state_dict({k: T.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})


def _close(a, b, tol=1e-5):
    b = b.detach().numpy() if isinstance(b, (T.Tensor, torch.Tensor)) else b
    assert a.dtype == torch.float32 and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=tol, atol=tol)


def _check(cm, m, ref, x):
    """The compiled call equals eager mlx_compat and PyTorch on x (under no_grad)."""
    out = cm(x)
    _close(out, m(x), 1e-6)
    _close(out, ref(T.tensor(x.numpy())))
    return out


def _warm(m, calls=3):
    cm = torch.compile(m)
    x = torch.randn(2, 3, 16, 16)
    for _ in range(calls):
        cm(x)
    return cm, x


def test_inference_with_derived_inputs_runs_the_program(python_calls):
    m, ref = _pair()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        cm, x = _warm(m)
        compiled = cm.forward._compiled
        entry = compiled._plan._entries[0]
        assert entry.derived and compiled._prog is not None
        before = python_calls[0]
        for _ in range(5):
            _check(cm, m, ref, x)
        assert python_calls[0] == before  # every call ran the program
        assert compiled.compile_count == 1


def _weight_data_mul(m, ref):
    m[0].weight.data.mul_(2)


def _weight_inplace(m, ref):
    m[4].weight.mul_(0.5)


def _bias_and_buffer(m, ref):
    m[0].bias.add_(1)
    m[1].running_mean.add_(0.25)
    m[1].running_var.mul_(2)


def _load_state_dict(m, ref):
    m.load_state_dict({k: v * 0.9 if v.is_floating_point() else v for k, v in m.state_dict().items()})


def _optimizer_step(m, ref):
    with torch.enable_grad():
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        m(torch.randn(2, 3, 16, 16)).square().mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


@pytest.mark.parametrize("change", [_weight_data_mul, _weight_inplace, _bias_and_buffer, _load_state_dict,
                                    _optimizer_step])
def test_writes_between_calls_reach_the_next_call(change, python_calls):
    m, ref = _pair()
    with torch.no_grad():
        cm, x = _warm(m)
        old = _check(cm, m, ref, x)
        n = python_calls[0]
        change(m, ref)
        _sync(m, ref)
        new = _check(cm, m, ref, x)
        assert not np.allclose(old.numpy(), new.numpy())
        _check(cm, m, ref, x)
        # a write to a value (not to a dict or a .grad) leaves the program in place
        if change in (_weight_data_mul, _weight_inplace, _bias_and_buffer):
            assert python_calls[0] == n
    assert cm.forward._compiled.compile_count == 1


def test_derived_values_are_recomputed_only_when_a_source_changes(monkeypatch):
    from mlx_compat.nn import _layout
    calls = []
    orig = _layout._weight_last

    def counting(w, perm):
        calls.append(id(w))
        return orig(w, perm)

    monkeypatch.setattr(_layout, "_weight_last", counting)
    m, ref = _pair()
    with torch.no_grad():
        cm, x = _warm(m)
        calls.clear()
        outs = [cm(x) for _ in range(4)]
        assert calls == []  # the program's weak references gave both convolutions' copies
        for out in outs:
            _close(out, ref(T.tensor(x.numpy())))
        m[4].weight.data.mul_(2)
        _sync(m, ref)
        outs = [cm(x) for _ in range(3)]
        assert calls == [id(m[4].weight._mx)]  # once, for the weight written
        for out in outs:
            _close(out, ref(T.tensor(x.numpy())))


def test_the_program_keeps_no_old_array_alive():
    m, ref = _pair()
    with torch.no_grad():
        cm, x = _warm(m)
        cm(x)
        old_w = weakref.ref(m[0].weight._mx)
        old_mean = weakref.ref(m[1].running_mean._mx)
        m[0].weight.mul_(2)
        m[1].running_mean.add_(1)
        gc.collect()
        assert old_w() is None and old_mean() is None
        _sync(m, ref)
        _check(cm, m, ref, x)


def _doubling(arr):
    return arr * 2


class _Derived(nn.Module):
    """A module asking for a derived input whose value nothing caches (a fresh array per computation)."""

    def __init__(self, fn):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 3))
        self.fn = fn

    def forward(self, x):
        w2 = _compile.derived_input((self.w._mx,), "double", self.fn)
        return x @ torch.Tensor._new_on(w2, x._device_code).T


def test_an_uncached_derived_value_is_computed_at_every_call(python_calls):
    calls = []

    def fn(a):
        calls.append(1)
        return _doubling(a)

    torch.manual_seed(0)
    m = _Derived(fn)
    x = torch.randn(2, 3)
    expected = T.tensor(x.numpy()) @ (2 * T.tensor(m.w.detach().numpy())).T
    with torch.no_grad():
        cm = torch.compile(m)
        for _ in range(3):
            cm(x)
        assert cm.forward._compiled._prog is not None
        n, calls[:] = python_calls[0], []
        for _ in range(4):
            _close(cm(x), expected)
        assert python_calls[0] == n and len(calls) == 4  # the value died after each call: fn ran again
        m.w.mul_(-1)
        _close(cm(x), -expected)


def test_malformed_derived_program_items_raise_or_decline():
    m, ref = _pair()
    with torch.no_grad():
        cm, x = _warm(m)
        prog = cm.forward._compiled._prog
        derived, cache = prog[-3], prog[-2]  # P_DERIVED, P_DCACHE (P_ARGCHECK last, Note [Argument facts])
        assert isinstance(derived, tuple) and isinstance(cache, list)
        # junk in the cache's entries is a miss, never a wrong value
        cache[:] = [(1, 2)] * len(cache)
        _close(_C._compile_call(prog, (x,)), m(x), 1e-6)
        cache[:] = [tuple(weakref.ref(_compile._PLACEHOLDER) for _ in range(6))] * len(cache)
        _close(_C._compile_call(prog, (x,)), m(x), 1e-6)
        # (a junk request list can make MLX retrace the graph, which the next call's checks then refuse)
        bad_items = [None, 7, (), [None] * len(cache), (((0,), None),), ((None, None),), (((10 ** 6,), abs),),
                     (((0,) * 9, abs),), ((("x",), abs),)]
        for i in (len(prog) - 3, len(prog) - 2):
            for junk in bad_items:
                bad = prog[:i] + (junk,) + prog[i + 1:]
                try:
                    r = _C._compile_call(bad, (x,))
                except (TypeError, ValueError, RuntimeError, IndexError):
                    continue
                assert r is NotImplemented or isinstance(r, torch.Tensor)
        _close(cm(x), m(x), 1e-6)


def test_no_reference_leaks_over_a_thousand_calls():
    m, ref = _pair()
    with torch.no_grad():
        cm, x = _warm(m, 5)
        assert cm.forward._compiled._prog is not None
        objs = [x, m, cm, *m.parameters(), *m.buffers(), *[p._mx for p in m.parameters()]]
        gc.collect()
        before = [sys.getrefcount(t) for t in objs]
        n_objects = len(gc.get_objects())
        for _ in range(1000):
            cm(x)
        after = [sys.getrefcount(t) for t in objs]
        assert before == after
        gc.collect()
        assert len(gc.get_objects()) - n_objects < 50
