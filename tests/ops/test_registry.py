"""The operator registry (csrc/dispatch.c, Note [Operator registry]): every registered operator's function, method,
in-place and out= forms against torch 2.13 (values, dtype, error types), gradients and second derivatives, grad_fn
names, no reference leaks, graphs freed by refcount, __torch_function__ on subclasses, and hostile arguments."""
import gc
import pickle
import warnings
import weakref

import numpy as np
import pytest

from helpers import assert_same, mc, refs_stable, same_outcome, torch

REGISTRY = mc._C._op_registry()
# the ops with torch's function/method/in-place triple; the function-only ones (torch.special's own operators,
# Note [Function-only ops] in csrc/dispatch.c) are tested in test_special_registry.py
UNARY = sorted(n for n, op in REGISTRY.items() if op.kind == mc._C.OP_UNARY and op.method is not None)
BINARY = sorted(n for n, op in REGISTRY.items() if op.kind == mc._C.OP_BINARY and op.method is not None)

# inputs inside every unary op's domain (log, sqrt, rsqrt need positives; tan stays away from its poles)
POS = np.array([[0.25, 0.5, 0.9], [1.1, 1.7, 2.3]], dtype=np.float32)
MIXED = np.array([[-1.3, -0.4, 0.0], [0.3, 0.8, 1.2]], dtype=np.float32)
NEEDS_POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "reciprocal"}
# where we knowingly differ from torch, and why; the test then checks our side of it
NO_COMPLEX_KERNEL = {"sigmoid", "expm1"}  # MLX 0.32 has no complex64 kernel: ours raises NotImplementedError


def data_for(name, dtype=np.float32):
    return (POS if name in NEEDS_POSITIVE else MIXED).astype(dtype)


def both(a, dtype=None):
    t = torch.from_numpy(a.copy())
    m = mc.from_numpy(a.copy())
    if dtype is not None:
        t, m = t.to(getattr(torch, dtype)), m.to(getattr(mc, dtype))
    return t, m


def test_registry_holds_the_declared_families():
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "floor", "square", "sign"):
        assert name in UNARY
        assert getattr(mc, name) is REGISTRY[name]
        assert getattr(mc.Tensor, name) is REGISTRY[name].method
        assert getattr(mc.Tensor, name + "_") is REGISTRY[name].inplace
    for name in ("add", "sub", "mul", "div"):
        assert name in BINARY
        assert getattr(mc, name) is REGISTRY[name]
        assert getattr(mc.Tensor, name) is REGISTRY[name].method
        assert getattr(mc.Tensor, name + "_") is REGISTRY[name].inplace


# ---------------------------------------------------------------- unary forms against torch


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64"])
def test_unary_function_and_method(name, dtype):
    t, m = both(np.abs(data_for(name)) * 2 if dtype in ("uint8", "int64", "int32", "bool") else data_for(name), dtype)
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == "float16" else {}
    if dtype == "complex64" and name in NO_COMPLEX_KERNEL:
        for call in (lambda: getattr(mc, name)(m), lambda: getattr(m, name)(), lambda: getattr(m, name + "_")()):
            with pytest.raises(NotImplementedError, match="ComplexFloat"):
                call()
        return
    same_outcome(lambda: getattr(torch, name)(t), lambda: getattr(mc, name)(m), **tol)
    same_outcome(lambda: getattr(t, name)(), lambda: getattr(m, name)(), **tol)
    same_outcome(lambda: getattr(torch.Tensor, name)(t), lambda: getattr(mc.Tensor, name)(m), **tol)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex64"])
def test_unary_inplace_and_views(name, dtype):
    a = data_for(name)
    if dtype == "complex64" and name in NO_COMPLEX_KERNEL:
        return  # checked in test_unary_function_and_method
    t, m = both(np.abs(a) * 2 if dtype == "int64" else a, dtype)
    r = same_outcome(lambda: getattr(t, name + "_")(), lambda: getattr(m, name + "_")())
    if r is not None:
        assert r is m
        assert_same(m, t)
    # through a view: the base sees the write
    t, m = both(np.abs(a) * 2 if dtype == "int64" else a, dtype)
    tv, mv = t[1], m[1]
    if same_outcome(lambda: getattr(tv, name + "_")(), lambda: getattr(mv, name + "_")()) is not None:
        assert_same(m, t)
        assert_same(mv, tv)
        assert m._version == t._version


@pytest.mark.parametrize("name", UNARY)
def test_unary_out(name):
    t, m = both(data_for(name))
    if REGISTRY[name].flags & mc._C.OPF_NO_OUT:  # torch.relu has no out=
        same_outcome(lambda: getattr(torch, name)(t, out=torch.zeros(2, 3)),
                     lambda: getattr(mc, name)(m, out=mc.zeros(2, 3)))
        return
    for out_dtype in ("float32", "float64", "int64"):
        ot = torch.zeros(2, 3, dtype=getattr(torch, out_dtype))
        om = mc.zeros(2, 3, dtype=getattr(mc, out_dtype))
        r = same_outcome(lambda: getattr(torch, name)(t, out=ot), lambda: getattr(mc, name)(m, out=om))
        if r is not None:
            assert r is om
            assert_same(om, ot)
    # a wrong-shaped out is resized, with torch's warning
    ot, om = torch.zeros(2), mc.zeros(2)
    with pytest.warns(UserWarning, match="resized"):
        getattr(mc, name)(m, out=om)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch, name)(t, out=ot)
    assert_same(om, ot)
    # out= with an argument requiring grad: torch's RuntimeError
    tg, mg = t.clone().requires_grad_(), m.clone().requires_grad_()
    if REGISTRY[name].derivative is not None:
        same_outcome(lambda: getattr(torch, name)(tg, out=torch.zeros(2, 3)),
                     lambda: getattr(mc, name)(mg, out=mc.zeros(2, 3)))


# ---------------------------------------------------------------- autograd


DIFFERENTIABLE = [n for n in UNARY if REGISTRY[n].derivative is not None]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_grad_and_double_grad(name, dtype):
    a = data_for(name, np.float64 if dtype == "float64" else np.float32)
    a = a + 0.05  # keep relu away from its kink at 0
    grads = {}
    for lib in (torch, mc):
        x = lib.from_numpy(a.copy()).requires_grad_()
        y = getattr(lib, name)(x)
        assert type(y.grad_fn).__name__ == type(getattr(torch, name)(torch.from_numpy(a.copy()).requires_grad_())
                                                .grad_fn).__name__
        w = lib.from_numpy(np.linspace(0.5, 1.5, a.size).reshape(a.shape).astype(a.dtype))
        (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        if lib is torch and g._is_zerotensor():  # sgn of real inputs: torch's symbolic zero
            g = torch.zeros(g.shape, dtype=g.dtype)
        # piecewise-constant ops: the first derivative is a constant zero without history in both
        gg = lib.autograd.grad((g * g).sum(), x, allow_unused=True)[0] if g.requires_grad else None
        if lib is torch and gg is not None and gg._is_zerotensor():  # abs: torch's symbolic zero
            gg = None
        grads[lib] = (g, gg)
    assert_same(grads[mc][0], grads[torch][0], rtol=1e-4, atol=1e-5)
    if grads[torch][1] is None or grads[mc][1] is None:  # a zero second derivative, with or without history
        for gg in grads[mc][1], grads[torch][1]:
            assert gg is None or not gg.abs().sum().item()
    else:
        assert_same(grads[mc][1], grads[torch][1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_unary_inplace_grad(name):
    a = data_for(name) + 0.05
    grads = {}
    if REGISTRY[name].flags & mc._C.OPF_NO_INPLACE_GRAD:  # torch records the op; its backward raises
        for lib in (torch, mc):
            x = lib.from_numpy(a.copy() * 0.5).requires_grad_()
            y = x * 1.5
            getattr(y[0], name + "_")()
            with pytest.raises(NotImplementedError, match=f"inplace version of {name}"):
                y.sum().backward()
        return
    for lib in (torch, mc):
        x = lib.from_numpy(a.copy()).requires_grad_()
        y = x * 1.5
        getattr(y[0], name + "_")()  # through a view: the base's history gets the op
        y.sum().backward()
        grads[lib] = x.grad
        assert type(y.grad_fn).__name__ == "CopySlices"
    assert_same(grads[mc], grads[torch], rtol=1e-4, atol=1e-5)


def test_inplace_on_leaf_requiring_grad_raises():
    for lib in (torch, mc):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            x.exp_()
        with lib.no_grad():
            x.exp_()
        assert abs(x[0].item() - np.e) < 1e-6


def test_no_record_without_grad_mode():
    x = mc.ones(3, requires_grad=True)
    with mc.no_grad():
        assert mc.exp(x).grad_fn is None and not mc.exp(x).requires_grad
    assert mc.exp(mc.ones(3)).grad_fn is None


# ---------------------------------------------------------------- binary forms


ALPHAS = [None, 2, 0.5, True, -1]


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "int64"), ("int64", "float32"),
                                    ("bool", "bool"), ("float64", "int32")])
def test_binary_alpha(name, alpha, dtypes):
    kw = {} if alpha is None else {"alpha": alpha}
    a, b = MIXED * 3, POS * 2
    ta, ma = both(a, dtypes[0])
    tb, mb = both(b, dtypes[1])
    same_outcome(lambda: getattr(torch, name)(ta, tb, **kw), lambda: getattr(mc, name)(ma, mb, **kw))
    same_outcome(lambda: getattr(ta, name)(tb, **kw), lambda: getattr(ma, name)(mb, **kw))
    same_outcome(lambda: getattr(torch, name)(ta, 3, **kw), lambda: getattr(mc, name)(ma, 3, **kw))
    ta2, ma2 = ta.clone(), ma.clone()
    if same_outcome(lambda: getattr(ta2, name + "_")(tb, **kw), lambda: getattr(ma2, name + "_")(mb, **kw)) is not None:
        assert_same(ma2, ta2)


@pytest.mark.parametrize("mode", [None, "floor", "trunc"])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "int64"), ("int64", "float32"),
                                    ("bool", "bool"), ("complex64", "complex64")])
def test_div_rounding_modes(mode, dtypes):
    a, b = MIXED * 7, POS * 3
    ta, ma = both(a, dtypes[0])
    tb, mb = both(b, dtypes[1])
    same_outcome(lambda: torch.div(ta, tb, rounding_mode=mode), lambda: mc.div(ma, mb, rounding_mode=mode))
    same_outcome(lambda: ta.div(tb, rounding_mode=mode), lambda: ma.div(mb, rounding_mode=mode))
    same_outcome(lambda: torch.div(ta, 2, rounding_mode=mode), lambda: mc.div(ma, 2, rounding_mode=mode))
    ta2, ma2 = ta.clone(), ma.clone()
    if same_outcome(lambda: ta2.div_(tb, rounding_mode=mode), lambda: ma2.div_(mb, rounding_mode=mode)) is not None:
        assert_same(ma2, ta2)


SIMPLE = ["floor_divide", "remainder", "eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or",
          "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "maximum", "minimum", "mul", "add", "sub", "div"]


@pytest.mark.parametrize("name", SIMPLE)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "int64"), ("int32", "float64"),
                                    ("bool", "bool"), ("uint8", "int8"), ("complex64", "complex64")])
def test_binary_forms(name, dtypes):
    a, b = MIXED * 5, POS * 3 + 1
    ta, ma = both(a, dtypes[0])
    tb, mb = both(b, dtypes[1])
    same_outcome(lambda: getattr(torch, name)(ta, tb), lambda: getattr(mc, name)(ma, mb))
    same_outcome(lambda: getattr(ta, name)(tb), lambda: getattr(ma, name)(mb))
    same_outcome(lambda: getattr(torch, name)(ta, 2), lambda: getattr(mc, name)(ma, 2))
    same_outcome(lambda: getattr(torch, name)(3, tb), lambda: getattr(mc, name)(3, mb))
    same_outcome(lambda: getattr(torch, name)(3, 2), lambda: getattr(mc, name)(3, 2))
    same_outcome(lambda: getattr(torch, name)(ta, "x"), lambda: getattr(mc, name)(ma, "x"))
    for out_dtype in ("float32", "int64", "bool"):
        ot, om = torch.zeros(2, 3, dtype=getattr(torch, out_dtype)), mc.zeros(2, 3, dtype=getattr(mc, out_dtype))
        if same_outcome(lambda: getattr(torch, name)(ta, tb, out=ot), lambda: getattr(mc, name)(ma, mb, out=om)) \
                is not None:
            assert_same(om, ot)
    if hasattr(torch.Tensor, name + "_"):
        ta2, ma2 = ta.clone(), ma.clone()
        if same_outcome(lambda: getattr(ta2, name + "_")(tb), lambda: getattr(ma2, name + "_")(mb)) is not None:
            assert_same(ma2, ta2)
            assert ma2._version == ta2._version
    else:
        assert not hasattr(mc.Tensor, name + "_")


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_binary_out_and_grads(name):
    ta, ma = both(MIXED)
    tb, mb = both(POS)
    ot, om = torch.zeros(2, 3), mc.zeros(2, 3)
    assert getattr(mc, name)(ma, mb, out=om) is om
    getattr(torch, name)(ta, tb, out=ot)
    assert_same(om, ot)
    same_outcome(lambda: getattr(torch, name)(ta, tb, out=torch.zeros(2, 3, dtype=torch.int64)),
                 lambda: getattr(mc, name)(ma, mb, out=mc.zeros(2, 3, dtype=mc.int64)))
    kw = {"alpha": 3} if name in ("add", "sub") else {}
    grads = {}
    for lib, a, b in ((torch, MIXED, POS), (mc, MIXED, POS)):
        x = lib.from_numpy(a.copy()).requires_grad_()
        y = lib.from_numpy(b.copy()).requires_grad_()
        r = getattr(lib, name)(x, y, **kw)
        names = type(r.grad_fn).__name__
        (gx, gy) = lib.autograd.grad((r * r).sum(), (x, y), create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gy).sum(), x)
        grads[lib] = (gx, gy, ggx, names)
    for ours, theirs in zip(grads[mc][:3], grads[torch][:3]):
        assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert grads[mc][3] == grads[torch][3]


# ---------------------------------------------------------------- __torch_function__


class Logged(mc.Tensor):
    calls = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(func)
        return super().__torch_function__(func, types, args, kwargs or {})


@pytest.mark.parametrize("name", ["exp", "relu", "add", "div"])
def test_torch_function_sees_each_form(name):
    x = mc.ones(3).as_subclass(Logged)
    args = (x,) if name in UNARY else (x, 2)
    Logged.calls.clear()
    r = getattr(mc, name)(*args)
    assert Logged.calls[0] is getattr(mc, name)
    assert type(r) is Logged
    Logged.calls.clear()
    r = getattr(x, name)(*args[1:])
    assert Logged.calls[0] is getattr(mc.Tensor, name)
    assert type(r) is Logged
    Logged.calls.clear()
    getattr(x, name + "_")(*args[1:])
    assert Logged.calls[0] is getattr(mc.Tensor, name + "_")


def test_torch_function_on_a_foreign_object():
    class Foreign:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("handled", func.__name__)

    assert mc.exp(Foreign()) == ("handled", "exp")
    assert mc.add(mc.ones(2), Foreign()) == ("handled", "add")


def test_plain_subclass_without_torch_function_override():
    class Plain(mc.Tensor):
        pass

    p = mc.ones(2).as_subclass(Plain)
    assert type(mc.exp(p)) is Plain and type(p.sigmoid()) is Plain
    assert_same(mc.exp(p).as_subclass(mc.Tensor), torch.exp(torch.ones(2)))


# ---------------------------------------------------------------- reference counts and memory



@pytest.mark.parametrize("name", ["exp", "relu", "floor", "sigmoid"])
def test_no_reference_leaks_unary(name):
    x = mc.ones(3)
    w = mc.ones(3, requires_grad=True)
    out = mc.zeros(3)
    fn, meth = getattr(mc, name), getattr(mc.Tensor, name)
    assert refs_stable(lambda: fn(x), x, fn, meth)
    assert refs_stable(lambda: x.__getattribute__(name)(), x, fn, meth)
    if not REGISTRY[name].flags & mc._C.OPF_NO_OUT:
        assert refs_stable(lambda: fn(x, out=out), x, out)
    assert refs_stable(lambda: fn(w), w)
    assert refs_stable(lambda: fn(w).sum().backward(), w)
    y = mc.ones(3)
    assert refs_stable(lambda: getattr(y, name + "_")(), y)
    for bad in (lambda: fn(3), lambda: fn(x, 1), lambda: fn(x, out=3), lambda: fn(x, foo=1)):
        assert refs_stable(lambda: pytest.raises(Exception, bad), x)


def test_no_reference_leaks_binary():
    a, b, out = mc.ones(3), mc.ones(3), mc.zeros(3)
    w = mc.ones(3, requires_grad=True)
    assert refs_stable(lambda: mc.add(a, b, alpha=2), a, b)
    assert refs_stable(lambda: mc.sub(w, b, alpha=0.5).sum().backward(), w, b)
    assert refs_stable(lambda: mc.div(a, b, rounding_mode="trunc"), a, b)
    assert refs_stable(lambda: mc.div(a, b, rounding_mode="floor", out=out), a, b, out)
    assert refs_stable(lambda: a.mul_(b), a, b)
    assert refs_stable(lambda: pytest.raises(TypeError, lambda: mc.add(a, "x")), a)


def test_graph_freed_by_refcount():
    gc.disable()
    try:
        x = mc.ones(1000, requires_grad=True)
        y = mc.exp(x)
        node = weakref.ref(y.grad_fn)
        saved = weakref.ref(y)
        del y
        assert saved() is None and node() is None
        y = mc.sigmoid(x).relu()
        node = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert node() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------- hostile arguments


HOSTILE = [
    lambda op: op(),
    lambda op: op(None),
    lambda op: op("x"),
    lambda op: op([1.0, 2.0]),
    lambda op: op(mc.ones(2), mc.ones(2), mc.ones(2)),
    lambda op: op(mc.ones(2), bogus=1),
    lambda op: op(mc.ones(2), out="x"),
    lambda op: op(input=mc.ones(2), out=mc.ones(2), bogus=3),
    lambda op: op(mc.ones(2), input=mc.ones(2)),
    lambda op: op(mc.ones(2), alpha=object()),
    lambda op: op(mc.ones(2), mc.ones(2), alpha="a"),
    lambda op: op(mc.ones(2), mc.ones(2), rounding_mode=3),
    lambda op: op(mc.ones(2), mc.ones(3)),
    lambda op: op(mc.ones(2), mc.ones(2), out=mc.ones(2, dtype=mc.bool)),
]


@pytest.mark.parametrize("name", UNARY + BINARY)
@pytest.mark.parametrize("form", ["function", "method", "inplace"])
def test_hostile_arguments_raise(name, form):
    op = REGISTRY[name]
    op = {"function": op, "method": op.method, "inplace": op.inplace}[form]
    for call in HOSTILE:
        try:
            r = call(op)
        except (TypeError, RuntimeError, NotImplementedError, ValueError):
            continue
        assert isinstance(r, mc.Tensor)  # a well-formed call that happens to be valid


def test_hostile_arguments_match_torch_types():
    x = torch.ones(2), mc.ones(2)
    for f in (lambda lib, t: lib.exp(t, 1), lambda lib, t: lib.exp(t, foo=1), lambda lib, t: lib.exp(3),
              lambda lib, t: lib.exp(t, out=lib.zeros(2, dtype=lib.int64)), lambda lib, t: t.exp(out=t),
              lambda lib, t: lib.Tensor.exp(3), lambda lib, t: lib.add(t, t, alpha="a"),
              lambda lib, t: lib.add(t, "a"), lambda lib, t: lib.add(t, t, 2),
              lambda lib, t: lib.div(t, t, rounding_mode="x"), lambda lib, t: lib.relu(lib.ones(2, dtype=lib.bool)),
              lambda lib, t: lib.add(t, t, alpha=0.5, out=lib.zeros(2, dtype=lib.int64)),
              lambda lib, t: lib.add(t.long(), t.long(), alpha=0.5),
              lambda lib, t: lib.ones(2, dtype=lib.int64).exp_(), lambda lib, t: lib.exp(input=t)):
        same_outcome(lambda: f(torch, x[0]), lambda: f(mc, x[1]))


def test_names_signatures_and_pickling():
    assert mc.exp.__name__ == "exp" and mc.Tensor.exp_.__name__ == "exp_"
    assert repr(mc.exp) == "<built-in function exp>"
    assert "Tensor" in repr(mc.Tensor.exp)
    import inspect

    assert str(inspect.signature(mc.exp)) == "(input, *, out=None)"
    assert str(inspect.signature(mc.add)) == "(input, other, *, alpha=1, out=None)"
    assert pickle.loads(pickle.dumps(mc.exp)) is mc.exp
    assert pickle.loads(pickle.dumps(mc.Tensor.sigmoid_)) is mc.Tensor.sigmoid_
    assert mc.Tensor.exp.__get__(mc.ones(1))().item() == pytest.approx(np.e)


def test_bad_declarations_raise():
    Op = mc._C.Op
    bad = [
        lambda: Op(),
        lambda: Op(3),
        lambda: Op("x", kind=7, forward=abs),
        lambda: Op("x", forward=None),
        lambda: Op("x", forward=abs, promotion=99),
        lambda: Op("x", forward=abs, forward64=3),
        lambda: Op("x", forward=abs, derivative=lambda grad: grad),  # no node name
        lambda: Op("x", forward=abs, flags=mc._C.OPF_NO_BOOL, bool_error="just a message"),
        lambda: Op("x", forward=abs, saves=8),
        lambda: Op("x", kind=mc._C.OP_BINARY, binary="no_such_operator"),
        lambda: Op("x", kind=mc._C.OP_BINARY),
        lambda: Op("x", forward=abs, bogus=1),
        lambda: mc._C.OpMethod(),
    ]
    for make in bad:
        with pytest.raises((TypeError, ValueError)):
            make()
    assert "x" not in mc._C._op_registry()


def test_declaring_an_op_sets_its_forms():
    import mlx.core as mx

    op = mc._C.Op("_registry_test_cube", forward=lambda x, stream=None: mx.power(x, 3, stream=stream),
                  derivative=lambda grad, self: 3 * grad * self * self, saves=mc._C.SAVE_SELF,
                  node="PowBackward0", variants=mc._C.VARIANT_METHOD | mc._C.VARIANT_INPLACE)
    try:
        assert mc._C._op_registry()["_registry_test_cube"] is op
        x = mc.tensor([1.0, 2.0], requires_grad=True)
        y = x._registry_test_cube()
        assert y.tolist() == [1.0, 8.0] and type(y.grad_fn).__name__ == "PowBackward0"
        y.sum().backward()
        assert x.grad.tolist() == [3.0, 12.0]
        z = mc.tensor([2.0])
        assert z._registry_test_cube_() is z and z.tolist() == [8.0]
    finally:
        del mc.Tensor._registry_test_cube, mc.Tensor._registry_test_cube_


def test_python_forwards_take_the_stream():
    """Declared Python-level forwards get `stream=` where the C path passes one (a tensor off MLX's default
    device: CPU float64 tensors on a machine with a GPU); here they are called with it directly."""
    import mlx.core as mx

    from mlx_compat._ops import pointwise

    x = mx.array([0.5, -2.0], dtype=mx.float64)
    for name in ("exp", "exp2", "sin", "cos", "sigmoid"):
        op = REGISTRY[name]
        want = torch.from_numpy(np.array(x)).__getattribute__(name)().numpy()
        for f in {op.forward, op.forward64}:
            if f.__module__ == pointwise.__name__:
                got = np.array(f(x, stream=mx.cpu))
                np.testing.assert_allclose(got, want, rtol=1e-6 if f is op.forward else 1e-14)


NUMPY_SCALARS = [np.int64(2), np.int32(-1), np.float32(0.25), np.float64(1.5), np.bool_(True), np.bool_(False)]


@pytest.mark.parametrize("v", NUMPY_SCALARS, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("call", [
    "add(x, v)", "x.add(v)", "mul(x, v)", "x.sub(v, alpha=2)", "float_power(x, v)", "x.float_power(v)", "x.logit(v)",
    "clamp(x, v)", "x.clamp(max=v)", "lerp(x, x * 2, v)", "atan2(x, v)", "hypot(x, v)", "x.float_power_(v)",
    "x.masked_fill(x > 1, v)", "(x > 1).add(v)", "x.int().mul(v)",
])
def test_numpy_scalars_are_numbers(call, v):
    """Note [numpy scalars as Numbers]: where torch takes a Number it takes numpy's scalar types; where it wants a
    Tensor (atan2, hypot) it refuses them with the same exception type."""
    data = np.array([0.5, 1.5, 3.0], dtype=np.float32)

    def run(lib):
        x = lib.tensor(data)
        return eval(call, {"x": x, "v": v, **{k: getattr(lib, k) for k in ("add", "mul", "float_power", "clamp",
                                                                             "lerp", "atan2", "hypot")}})

    same_outcome(lambda: run(torch), lambda: run(mc))


@pytest.mark.parametrize("v", [-2**63 - 1, 2**64])
def test_int_numbers_past_uint64_overflow_first(v):
    """torch's parser refuses an int that fits neither int64 nor uint64 before the op checks anything else
    (float_power_'s float64 target included)."""
    same_outcome(lambda: torch.arange(6.).float_power_(v), lambda: mc.arange(6.).float_power_(v))
    same_outcome(lambda: torch.float_power(torch.arange(6.), v), lambda: mc.float_power(mc.arange(6.), v))
