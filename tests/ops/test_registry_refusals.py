"""The registry's unary operators declared with torch's dtype refusals (csrc/dispatch.c, Note [Declared refusals]):
frac, deg2rad, rad2deg, erfc, erfinv and sgn. Every form against torch 2.13 for every dtype: values and dtypes, the
refusals' exception types and messages (function, method and in-place forms), out=, in-place on views and on
leaves requiring grad; gradients, second derivatives and grad_fn names; reference counts."""
import sys

import numpy as np
import pytest

from helpers import assert_same, mc, same_outcome, torch

NAMES = ["frac", "deg2rad", "rad2deg", "erfc", "erfinv", "sgn"]
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool", "complex64"]
A = np.array([[-0.93, -0.4, 0.0], [0.3, 0.8, 0.55]], dtype=np.float32)


def both(a, dtype):
    t, m = torch.from_numpy(np.array(a, dtype=np.float32)), mc.from_numpy(np.array(a, dtype=np.float32))
    if dtype == "complex64":
        t, m = t + 0.5j * t.flip(-1), m + 0.5j * m.flip(-1)
    return t.to(getattr(torch, dtype)), m.to(getattr(mc, dtype))


def data(dtype):
    return A * 4 if dtype in ("int64", "int32") else np.abs(A) * 3 if dtype in ("uint8", "bool") else A


def tol_for(dtype):
    return dict(rtol=1e-2, atol=1e-2) if dtype in ("float16", "bfloat16") else dict(rtol=1e-5, atol=1e-6)


def test_declared_in_the_registry():
    reg = mc._C._op_registry()
    for name in NAMES:
        op = reg[name]
        assert op.kind == mc._C.OP_UNARY and getattr(mc, name) is op
        assert getattr(mc.Tensor, name) is op.method and getattr(mc.Tensor, name + "_") is op.inplace


def _message(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return type(e), str(e).split("\n")[0]
    return None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forms_dtypes_and_refusals(name, dtype):
    ta, ma = both(data(dtype), dtype)
    tol = tol_for(dtype)
    for tf, mf in ((lambda: getattr(torch, name)(ta), lambda: getattr(mc, name)(ma)),
                   (lambda: getattr(ta, name)(), lambda: getattr(ma, name)()),
                   (lambda: getattr(ta.clone(), name + "_")(), lambda: getattr(ma.clone(), name + "_")())):
        same_outcome(tf, mf, **tol)
        # a refusal is torch's exception with torch's message
        assert _message(mf) == _message(tf)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_inplace_views_and_out(name, dtype):
    ta, ma = both(data(dtype), dtype)
    r = same_outcome(lambda: getattr(ta, name + "_")(), lambda: getattr(ma, name + "_")())
    if r is not None:
        assert r is ma and ma._version == ta._version
        assert_same(ma, ta)
    ta, ma = both(data(dtype), dtype)
    tv, mv = ta[1], ma[1]
    if same_outcome(lambda: getattr(tv, name + "_")(), lambda: getattr(mv, name + "_")()) is not None:
        assert_same(ma, ta)
        assert_same(mv, tv)
    for out_dtype in ("float32", "float64", "int64"):
        ta, ma = both(data(dtype), dtype)
        ot, om = torch.zeros(2, 3, dtype=getattr(torch, out_dtype)), mc.zeros(2, 3, dtype=getattr(mc, out_dtype))
        r = same_outcome(lambda: getattr(torch, name)(ta, out=ot), lambda: getattr(mc, name)(ma, out=om))
        if r is not None:
            assert r is om
            assert_same(om, ot)
    for lib in (torch, mc):
        leaf = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(leaf, name + "_")()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_grad_and_double_grad(name, dtype):
    if dtype == "complex64" and name != "sgn":
        return  # refused for complex inputs (test_forms_dtypes_and_refusals)
    res = {}
    for lib in (torch, mc):
        x = both(A, dtype)[lib is mc].detach().requires_grad_()
        r = getattr(lib, name)(x)
        w = both(np.linspace(0.5, 1.5, 6).reshape(2, 3), dtype)[lib is mc]
        loss = (r * r * w).sum()
        (g,) = lib.autograd.grad(loss.real if loss.dtype.is_complex else loss, x, create_graph=True)
        if lib is torch and g._is_zerotensor():  # torch's symbolic zero (sgn of real inputs)
            g = torch.zeros(g.shape, dtype=g.dtype)
        gg = None
        if g.requires_grad:
            s = (g * g.conj()).real.sum() if g.dtype.is_complex else (g * g).sum()
            (gg,) = lib.autograd.grad(s, x, allow_unused=True)
            if gg is not None and lib is torch and gg._is_zerotensor():
                gg = None
        res[lib] = (r, g, gg, type(r.grad_fn).__name__)
    assert res[mc][3] == res[torch][3]
    for i in range(2):
        assert_same(res[mc][i], res[torch][i], rtol=1e-4, atol=1e-5)
    ours, theirs = res[mc][2], res[torch][2]
    if ours is None or theirs is None:
        for gg in (ours, theirs):
            assert gg is None or not gg.abs().sum().item()
    else:
        assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_inplace_grad_through_views(name):
    grads = {}
    for lib in (torch, mc):
        x = lib.from_numpy(A.copy()).requires_grad_()
        y = x * 0.5
        getattr(y[0], name + "_")()
        assert type(y.grad_fn).__name__ == "CopySlices"
        (y * y).sum().backward()
        grads[lib] = x.grad
    assert_same(grads[mc], grads[torch], rtol=1e-4, atol=1e-5)


def test_no_reference_leaks():
    a, out, i = mc.ones(3) * 0.5, mc.zeros(3), mc.ones(3, dtype=mc.int64)
    w = mc.ones(3, requires_grad=True)
    for name in NAMES:
        fn = getattr(mc, name)
        for f in (lambda: fn(a), lambda: fn(a, out=out), lambda: (fn(w) * 1).sum().backward(),
                  lambda: getattr(a.clone(), name + "_")(), lambda: _message(lambda: fn(i + 0j)),
                  lambda: _message(lambda: getattr(i, name + "_")())):
            f()
            before = [sys.getrefcount(o) for o in (a, out, i, w, fn)]
            for _ in range(200):
                f()
            assert [sys.getrefcount(o) for o in (a, out, i, w, fn)] == before, name
