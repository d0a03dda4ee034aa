"""The registry's binary operators beyond add/sub/mul/div (csrc/dispatch.c, Note [Operator registry]): pow over
ops.c's operator table, and fmod, atan2, hypot, copysign, logaddexp, logaddexp2, xlogy, fmax, fmin with MLX
forwards of their own; also neg/abs (unary declarations shared with the `-x` / `abs(x)` operators). Every form
against torch 2.13: function, method, in-place (on views, on leaves requiring grad), out=; dtypes and torch's
Python-scalar rules; gradients, second derivatives and grad_fn names per operand kind; reference counts."""
import warnings

import numpy as np
import pytest

from helpers import assert_same, assert_same_grads, mc, refs_stable, same_outcome, torch

REGISTRY = mc._C._op_registry()
# torch's operand forms: (Tensor, Tensor) always; which also take (Tensor, Scalar) / (Scalar, Tensor)
FORMS = {
    "pow": ("ts", "st"), "fmod": ("ts",), "copysign": ("ts",), "xlogy": ("ts", "st"), "atan2": (), "hypot": (),
    "logaddexp": (), "logaddexp2": (), "fmax": (), "fmin": (),
}
NAMES = sorted(FORMS)
DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64"]

A = np.array([[-1.3, -0.4, 0.0], [0.3, 0.8, 2.2]], dtype=np.float32)
B = np.array([[0.7, 1.5, 2.0], [-1.1, 0.0, 1.9]], dtype=np.float32)


def both(a, dtype):
    t, m = torch.from_numpy(a.copy()), mc.from_numpy(a.copy())
    return t.to(getattr(torch, dtype)), m.to(getattr(mc, dtype))


def data(dtype):
    if dtype in ("uint8", "bool"):
        return np.abs(A) * 3, np.abs(B) * 2 + 1
    if dtype in ("int64", "int32"):
        return A * 3, B * 2 + np.sign(B) + (B == 0)  # no zero divisors (fmod's ZeroDivisionError is tested apart)
    return A, B


def tol_for(dtype):
    return dict(rtol=1e-2, atol=1e-2) if dtype == "float16" else dict(rtol=1e-5, atol=1e-6)


def test_declared_in_the_registry():
    for name in NAMES:
        op = REGISTRY[name]
        assert op.kind == mc._C.OP_BINARY and getattr(mc, name) is op
        assert getattr(mc.Tensor, name) is op.method
        assert (op.inplace is not None) == hasattr(torch.Tensor, name + "_")
        if op.inplace is not None:
            assert getattr(mc.Tensor, name + "_") is op.inplace
        else:
            assert not hasattr(mc.Tensor, name + "_")
    assert mc.arctan2 is mc.atan2 and mc.Tensor.arctan2_ is mc.atan2.inplace
    for name in ("neg", "abs"):
        assert REGISTRY[name].kind == mc._C.OP_UNARY
    assert mc.negative is mc.neg and mc.absolute is mc.abs and mc.Tensor.negative_ is mc.neg.inplace


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forms_and_dtypes(name, dtype):
    a, b = data(dtype)
    ta, ma = both(a, dtype)
    tb, mb = both(b, dtype)
    tol = tol_for(dtype)
    same_outcome(lambda: getattr(torch, name)(ta, tb), lambda: getattr(mc, name)(ma, mb), **tol)
    same_outcome(lambda: getattr(ta, name)(tb), lambda: getattr(ma, name)(mb), **tol)
    same_outcome(lambda: getattr(torch.Tensor, name)(ta, tb), lambda: getattr(mc.Tensor, name)(ma, mb), **tol)
    # Python scalars are weak: int tensors with 2.5 compute in float, 2 keeps the tensor's dtype
    for s in (2, 2.5, -1, True):
        same_outcome(lambda: getattr(torch, name)(ta, s), lambda: getattr(mc, name)(ma, s), **tol)
        same_outcome(lambda: getattr(torch, name)(s, tb), lambda: getattr(mc, name)(s, mb), **tol)
        same_outcome(lambda: getattr(ta, name)(s), lambda: getattr(ma, name)(s), **tol)
    same_outcome(lambda: getattr(torch, name)(2, 3), lambda: getattr(mc, name)(2, 3))
    same_outcome(lambda: getattr(torch, name)(ta, "x"), lambda: getattr(mc, name)(ma, "x"))
    # mixed dtypes: torch's promotion (complex64 with float64 is complex128, which MLX lacks: ours raises a
    # TypeError there, tested in tests/ops/test_promotion.py)
    tf, mf = both(b, "float32" if dtype == "complex64" else "float64")
    same_outcome(lambda: getattr(torch, name)(ta, tf), lambda: getattr(mc, name)(ma, mf), **tol)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_inplace_and_views(name, dtype):
    a, b = data(dtype)
    for s in (None, 2, 2.5):
        ta, ma = both(a, dtype)
        tb, mb = (both(b, dtype) if s is None else (s, s))
        if not hasattr(torch.Tensor, name + "_"):
            assert not hasattr(mc.Tensor, name + "_")
            return
        r = same_outcome(lambda: getattr(ta, name + "_")(tb), lambda: getattr(ma, name + "_")(mb))
        if r is not None:
            assert r is ma
            assert_same(ma, ta)
            assert ma._version == ta._version
        # through a view: the base sees the write
        ta, ma = both(a, dtype)
        tv, mv = ta[1], ma[1]
        ov = (tb[1], mb[1]) if s is None else (s, s)
        if same_outcome(lambda: getattr(tv, name + "_")(ov[0]), lambda: getattr(mv, name + "_")(ov[1])) is not None:
            assert_same(ma, ta)
            assert_same(mv, tv)
    # a result that does not broadcast to self's shape
    ta, ma = both(a[:1], "float32")
    tb, mb = both(b, "float32")
    same_outcome(lambda: getattr(ta, name + "_")(tb), lambda: getattr(ma, name + "_")(mb))


@pytest.mark.parametrize("name", NAMES)
def test_out(name):
    ta, ma = both(A, "float32")
    tb, mb = both(B, "float32")
    for out_dtype in ("float32", "float64", "int64", "complex64"):
        ot = torch.zeros(2, 3, dtype=getattr(torch, out_dtype))
        om = mc.zeros(2, 3, dtype=getattr(mc, out_dtype))
        r = same_outcome(lambda: getattr(torch, name)(ta, tb, out=ot), lambda: getattr(mc, name)(ma, mb, out=om))
        if r is not None:
            assert r is om
            assert_same(om, ot)
    # a wrong-shaped out is resized, with torch's warning
    ot, om = torch.zeros(2), mc.zeros(2)
    with pytest.warns(UserWarning, match="resized"):
        getattr(mc, name)(ma, mb, out=om)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch, name)(ta, tb, out=ot)
    assert_same(om, ot)
    tg, mg = ta.clone().requires_grad_(), ma.clone().requires_grad_()
    same_outcome(lambda: getattr(torch, name)(tg, tb, out=torch.zeros(2, 3)),
                 lambda: getattr(mc, name)(mg, mb, out=mc.zeros(2, 3)))


def _operands(lib, kind, dtype):
    """(x, y, inputs requiring grad) for the operand kind "tt", "ts", "st"."""
    npd = np.float64 if dtype == "float64" else np.float32
    a = lib.from_numpy((np.abs(A) + 0.3).astype(npd)).requires_grad_()  # positive: pow, xlogy, log in range
    b = lib.from_numpy((B + 0.05).astype(npd)).requires_grad_()
    if kind == "tt":
        return a, b, (a, b)
    if kind == "ts":
        return a, 1.7, (a,)
    return 1.7, b, (b,)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["tt", "ts", "st"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_and_double_grad(name, kind, dtype):
    if kind != "tt" and kind not in FORMS[name]:
        x, y, _ = _operands(mc, kind, dtype)
        tx, ty, _ = _operands(torch, kind, dtype)
        same_outcome(lambda: getattr(torch, name)(tx, ty), lambda: getattr(mc, name)(x, y))
        return
    res = {}
    for lib in (torch, mc):
        x, y, ins = _operands(lib, kind, dtype)
        r = getattr(lib, name)(x, y)
        node = type(r.grad_fn).__name__
        w = lib.from_numpy(np.linspace(0.5, 1.5, 6).reshape(2, 3).astype(r.detach().numpy().dtype))
        gs = lib.autograd.grad((r * w).sum(), ins, create_graph=True)
        live = [g for g in gs if g.requires_grad]
        ggs = lib.autograd.grad(sum((g * g).sum() for g in live), ins, allow_unused=True) if live else ()
        ggs = [None if gg is None or (lib is torch and gg._is_zerotensor()) else gg for gg in ggs]
        res[lib] = (r, gs, ggs, node)
    assert_same_grads(res[mc], res[torch])


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(torch.Tensor, n + "_")])
def test_inplace_grad_through_views_and_leaves(name):
    grads = {}
    for lib in (torch, mc):
        x = lib.from_numpy(np.abs(A) + 0.3).requires_grad_()
        o = lib.from_numpy(B + 0.05).requires_grad_()
        y = x * 1.5
        getattr(y[0], name + "_")(o[0])  # through a view: the base's history gets the op
        assert type(y.grad_fn).__name__ == "CopySlices"
        y.sum().backward()
        grads[lib] = (x.grad, o.grad)
        leaf = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(leaf, name + "_")(lib.ones(3))
    for ours, theirs in zip(grads[mc], grads[torch]):
        assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- op-specific rules


def test_pow_scalar_rules():
    cases = [
        lambda lib: lib.tensor([1, 2, 3]).pow(2.5),                       # int tensor, float exponent: float32
        lambda lib: lib.pow(2, lib.tensor([1, 2, 3])),                    # scalar base: int64
        lambda lib: lib.pow(2.5, lib.tensor([1, 2, 3])),                  # float scalar base: float32
        lambda lib: lib.tensor([1, 2, 3]).pow(-1),                        # integers to negative powers
        lambda lib: lib.tensor([True, False]).pow(1),                     # bool ** 1 is a copy
        lambda lib: lib.tensor([True, False]).pow(2),
        lambda lib: lib.tensor([1.0, 4.0], dtype=lib.float64).pow(0.5),
        lambda lib: lib.tensor([2, 3], dtype=lib.uint8).pow(lib.tensor([1.5, 2.0])),
        lambda lib: lib.pow(lib.tensor([1.0, 2.0]), exponent=3),
        lambda lib: lib.tensor([1.0, 2.0]).pow(exponent=2),
        lambda lib: lib.pow(lib.tensor([1.0, 2.0]), other=3),             # torch's keyword is `exponent`
        lambda lib: lib.tensor([1, 2]).pow_(0.5),                         # float result into an int tensor
        lambda lib: lib.pow(lib.tensor([1 + 1j]), 2),
    ]
    for f in cases:
        same_outcome(lambda: f(torch), lambda: f(mc))


def test_fmod_and_abs_neg_rules():
    cases = [
        lambda lib: lib.fmod(lib.tensor([5, -3]), 0),
        lambda lib: lib.fmod(lib.tensor([5, -3]), lib.tensor([0, 1])),
        lambda lib: lib.fmod(lib.tensor([5.0, -3.0]), 0.0),
        lambda lib: lib.fmod(lib.tensor([5.0, -3.0]), float("inf")),
        lambda lib: lib.fmod(lib.tensor([-7, 7], dtype=lib.int32), 3),
        lambda lib: lib.fmod(lib.tensor([True]), lib.tensor([True])),
        lambda lib: lib.abs(lib.tensor([True])),
        lambda lib: lib.tensor([1 + 1j]).abs_(),
        lambda lib: lib.abs(lib.tensor([3 + 4j])),
        lambda lib: lib.abs(lib.tensor([-3, 4], dtype=lib.int8)),
        lambda lib: lib.neg(lib.tensor([True])),
        lambda lib: -lib.tensor([True]),
        lambda lib: lib.neg(lib.tensor([1, 2], dtype=lib.uint8)),
        lambda lib: lib.negative(lib.tensor([1 + 2j])),
        lambda lib: lib.abs(lib.tensor([-1.0]), out=lib.zeros(1, dtype=lib.float64)),
        lambda lib: lib.fmax(lib.tensor([1 + 1j]), lib.tensor([1 + 1j])),
        lambda lib: lib.hypot(lib.tensor([1, 2]), lib.tensor([1, 2])),
        lambda lib: lib.hypot(lib.tensor([1e30, 3.0]), lib.tensor([1e30, float("inf")])),
        lambda lib: lib.logaddexp(lib.tensor([-float("inf"), 1000.0]), lib.tensor([-float("inf"), 1000.0])),
        lambda lib: lib.copysign(lib.tensor([1.0, 2.0]), lib.tensor([-0.0, 0.0])),
        lambda lib: lib.xlogy(lib.tensor([0.0, 0.0, 1.0]), lib.tensor([0.0, float("nan"), 0.0])),
        lambda lib: lib.fmax(lib.tensor([float("nan"), 1.0]), lib.tensor([2.0, float("nan")])),
        lambda lib: lib.atan2(lib.tensor([1, -1]), lib.tensor([0, 0])),
    ]
    for f in cases:
        same_outcome(lambda: f(torch), lambda: f(mc))


def test_operators_share_the_declared_derivatives():
    """`-x`, `abs(x)`, `x ** y` record the same nodes as torch.neg / torch.abs / torch.pow."""
    for lib in (torch, mc):
        x = lib.tensor([0.5, -2.0], requires_grad=True)
        assert type((-x).grad_fn).__name__ == "NegBackward0"
        assert type(abs(x).grad_fn).__name__ == "AbsBackward0"
        assert type((x ** 2).grad_fn).__name__ == "PowBackward0"
        assert type((2 ** x).grad_fn).__name__ == "PowBackward2"
    x = mc.tensor([0.5, -2.0], requires_grad=True)
    (g,) = mc.autograd.grad((abs(x) * (-x) + x ** 3).sum(), x)
    assert g.tolist() == pytest.approx([-1.0 + 0.75, -4.0 + 12.0])


def test_signatures():
    import inspect

    assert str(inspect.signature(mc.pow)) == "(input, exponent, *, out=None)"
    assert str(inspect.signature(mc.Tensor.pow)) == "(self, exponent, /)"
    assert str(inspect.signature(mc.fmod)) == "(input, other, *, out=None)"
    assert str(inspect.signature(mc.Tensor.add)) == "(self, other, /, *, alpha=1)"


# ---------------------------------------------------------------- reference counts



@pytest.mark.parametrize("name", ["fmod", "hypot", "xlogy", "pow", "copysign"])
def test_no_reference_leaks(name):
    fn = getattr(mc, name)
    a, b, out = mc.ones(3), mc.ones(3) * 2, mc.zeros(3)
    w = mc.ones(3, requires_grad=True)
    assert refs_stable(lambda: fn(a, b), a, b, fn)
    assert refs_stable(lambda: fn(a, b, out=out), a, b, out)
    assert refs_stable(lambda: fn(w, b).sum().backward(), w, b)
    assert refs_stable(lambda: getattr(a, name + "_")(b), a, b)
    assert refs_stable(lambda: pytest.raises(TypeError, lambda: fn(a, "x")), a)
    assert refs_stable(lambda: pytest.raises(Exception, lambda: fn(a, mc.ones(2))), a)
