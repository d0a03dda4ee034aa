"""functional_call against torch: replaced parameters and buffers used for the call and restored after,
gradients flowing to the given tensors, tied weights, strict key checks and their messages."""
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch
from modtest import pair


def call(lib, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return lib.nn.utils.stateless.functional_call(*args, **kwargs)


def test_functional_call_replaces_and_restores():
    t, m = pair("nn.Linear", 3, 2)
    a = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    wt, wm = torch.tensor(a, requires_grad=True), mc.tensor(a, requires_grad=True)
    x = np.ones((4, 3), np.float32)
    yt = call(torch, t, {"weight": wt}, (torch.tensor(x),))
    ym = call(mc, m, {"weight": wm}, (mc.tensor(x),))
    assert_same(ym, yt)
    yt.sum().backward()
    ym.sum().backward()
    assert_same(wm.grad, wt.grad)
    assert m.weight.grad is None and isinstance(m.weight, mc.nn.Parameter)
    assert_same(m.weight, t.weight)
    assert_same(m(mc.tensor(x)), t(torch.tensor(x)))


def test_func_functional_call_dicts_and_kwargs():
    f = mc.nn.utils.stateless.func_functional_call
    m = mc.nn.Linear(2, 2)
    w, b = mc.zeros(2, 2), mc.ones(2)
    y = f(m, ({"weight": w}, {"bias": b}), mc.ones(1, 2))
    assert y.tolist() == [[1.0, 1.0]]
    y = f(m, {"weight": w, "bias": b}, kwargs={"input": mc.ones(1, 2)})
    assert y.tolist() == [[1.0, 1.0]]
    with pytest.raises(ValueError) as em:
        f(m, ({"weight": w}, {"weight": w}), mc.ones(1, 2))
    with pytest.raises(ValueError) as et:
        torch.func.functional_call(torch.nn.Linear(2, 2), ({"weight": torch.zeros(2, 2)},
                                                         {"weight": torch.zeros(2, 2)}), torch.ones(1, 2))
    assert str(em.value) == str(et.value)


def test_buffers_and_nested_names():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    mm = mc.nn.Sequential(mc.nn.Linear(2, 2), mc.nn.BatchNorm1d(2))
    mm.load_state_dict({k: to_mc(v) for k, v in tm.state_dict().items()})

    def run(lib, m):
        m.eval()
        y = call(lib, m, {"1.running_mean": lib.full((2,), 5.0), "0.bias": lib.zeros(2)}, lib.ones(3, 2))
        return np.round(y.detach().numpy(), 5).tolist(), m[1].running_mean.tolist(), m[0].bias.tolist()

    assert run(mc, mm) == run(torch, tm)


def test_tied_weights():
    def run(lib, tie):
        m = lib.nn.Module()
        m.a = lib.nn.Linear(2, 2, bias=False)
        m.b = m.a  # the same module under two names
        m.forward = lambda x: m.b(m.a(x))
        with lib.no_grad():
            m.a.weight.fill_(1.0)
        return call(lib, m, {"a.weight": lib.eye(2)}, lib.ones(1, 2), tie_weights=tie).tolist()

    for tie in (True, False):
        assert run(mc, tie) == run(torch, tie)


@pytest.mark.parametrize("given", [{"weight": 1}, {"weight": 1, "bias": 1, "extra": 1}, {"nope": 1}])
def test_strict_errors(given):
    t, m = pair("nn.Linear", 2, 2)

    def mk(lib):
        return {k: lib.zeros(2, 2) if k == "weight" else lib.zeros(2) for k in given}

    try:
        rt = call(torch, t, mk(torch), torch.ones(1, 2), strict=True).tolist()
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as em:
            call(mc, m, mk(mc), mc.ones(1, 2), strict=True)
        assert str(em.value) == str(e)
        return
    assert call(mc, m, mk(mc), mc.ones(1, 2), strict=True).tolist() == rt


def test_restored_after_exception():
    m = mc.nn.Linear(2, 2)
    w = m.weight
    with pytest.raises(RuntimeError):
        call(mc, m, {"weight": mc.zeros(3, 3)}, mc.ones(1, 2))
    assert m.weight is w
