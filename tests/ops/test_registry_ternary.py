"""The registry's n-ary operators (csrc/dispatch.c, Note [Operands of n-ary ops]): clamp, clamp_min, clamp_max (and
clip), masked_fill, lerp, addcmul, addcdiv, declared once with their operands' kinds and dtype roles, refusals,
forward and derivative. Every form against torch 2.13: function, method, in-place (on views, on leaves requiring
grad), out=; dtypes, torch's Python-scalar and overload rules, errors (type and message); gradients, second
derivatives and grad_fn names per overload; reference counts."""
import inspect
import warnings

import numpy as np
import pytest

from helpers import assert_same, assert_same_grads, mc, refs_stable, same_outcome, torch

REGISTRY = mc._C._op_registry()
NAMES = ["clamp", "clamp_min", "clamp_max", "masked_fill", "lerp", "addcmul", "addcdiv"]
DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64"]

A = np.array([[-1.3, -0.4, 0.0], [0.3, 0.8, 2.2]], dtype=np.float32)
B = np.array([[0.7, 1.5, 2.0], [-1.1, 0.5, 1.9]], dtype=np.float32)
C = np.array([[1.2, -0.6, 0.9], [2.5, -1.5, 0.4]], dtype=np.float32)
MASK = np.array([[True, False, True], [False, False, True]])


def both(a, dtype):
    t, m = torch.from_numpy(np.array(a)), mc.from_numpy(np.array(a))
    return t.to(getattr(torch, dtype)), m.to(getattr(mc, dtype))


def tol_for(dtype):
    return dict(rtol=1e-2, atol=1e-2) if dtype == "float16" else dict(rtol=1e-5, atol=1e-6)


def lib_of(t):
    return torch if isinstance(t, torch.Tensor) else mc


# Each case: (name, extra positional args builder, keyword args) where the builder maps (lib, x-like tensors
# a, b, c of one dtype) to the arguments after `input`; keyword args may be built the same way.
def _cases(dtype):
    return [
        ("clamp", lambda L, a, b, c: (-0.5, 1.0), {}),
        ("clamp", lambda L, a, b, c: (0, 2), {}),
        ("clamp", lambda L, a, b, c: (None, 0.5), {}),
        ("clamp", lambda L, a, b, c: (b,), {}),
        ("clamp", lambda L, a, b, c: (b, c), {}),
        ("clamp", lambda L, a, b, c: (), lambda L, a, b, c: {"max": c}),
        ("clamp", lambda L, a, b, c: (True, False), {}),
        ("clamp_min", lambda L, a, b, c: (0.5,), {}),
        ("clamp_min", lambda L, a, b, c: (b,), {}),
        ("clamp_max", lambda L, a, b, c: (1,), {}),
        ("clamp_max", lambda L, a, b, c: (c,), {}),
        ("masked_fill", lambda L, a, b, c: (L.from_numpy(MASK), 2.5), {}),
        ("masked_fill", lambda L, a, b, c: (L.from_numpy(MASK), -3), {}),
        ("masked_fill", lambda L, a, b, c: (L.from_numpy(MASK), b[0, 0]), {}),
        ("masked_fill", lambda L, a, b, c: (L.from_numpy(MASK[:1]), True), {}),
        ("lerp", lambda L, a, b, c: (b, 0.3), {}),
        ("lerp", lambda L, a, b, c: (b, 0.8), {}),
        ("lerp", lambda L, a, b, c: (b, c), {}),
        ("lerp", lambda L, a, b, c: (b, 2), {}),
        ("addcmul", lambda L, a, b, c: (b, c), {}),
        ("addcmul", lambda L, a, b, c: (b, c), {"value": 2}),
        ("addcmul", lambda L, a, b, c: (b, c), {"value": -0.5}),
        ("addcdiv", lambda L, a, b, c: (b, c), {}),
        ("addcdiv", lambda L, a, b, c: (b, c), {"value": 0.25}),
    ]


def _data(dtype):
    if dtype in ("uint8", "bool"):
        return np.abs(A) * 3, np.abs(B) * 2, np.abs(C) + 1
    if dtype in ("int64", "int32"):
        return A * 3, B * 2, C * 2 + 3
    return A, B, C


def test_declared_in_the_registry():
    for name in NAMES:
        op = REGISTRY[name]
        assert op.kind == mc._C.OP_NARY and getattr(mc, name) is op
        assert getattr(mc.Tensor, name) is op.method and getattr(mc.Tensor, name + "_") is op.inplace
    assert mc.clip is mc.clamp and mc.Tensor.clip is mc.clamp.method and mc.Tensor.clip_ is mc.clamp.inplace
    assert REGISTRY["lerp"].node == "LerpBackward0"
    # the Python forms these replaced are gone: every form is the registry's C object
    for name in NAMES:
        for form in (getattr(mc, name), getattr(mc.Tensor, name), getattr(mc.Tensor, name + "_")):
            assert type(form).__module__ == "mlx_compat._C" or type(form).__name__ in ("Op", "OpMethod")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(_cases("float32"))))
def test_forms_and_dtypes(case, dtype):
    name, extra, kw = _cases(dtype)[case]
    (ta, ma), (tb, mb), (tc, mc_) = (both(x, dtype) for x in _data(dtype))
    tol = tol_for(dtype)
    kwf = kw if callable(kw) else (lambda *_: kw)
    targs, margs = extra(torch, ta, tb, tc), extra(mc, ma, mb, mc_)
    tkw, mkw = kwf(torch, ta, tb, tc), kwf(mc, ma, mb, mc_)
    same_outcome(lambda: getattr(torch, name)(ta, *targs, **tkw), lambda: getattr(mc, name)(ma, *margs, **mkw), **tol)
    same_outcome(lambda: getattr(ta, name)(*targs, **tkw), lambda: getattr(ma, name)(*margs, **mkw), **tol)
    same_outcome(lambda: getattr(torch.Tensor, name)(ta, *targs, **tkw),
                 lambda: getattr(mc.Tensor, name)(ma, *margs, **mkw), **tol)
    # the other operands in another dtype: torch's promotion (or its refusal)
    other = "float64" if dtype != "complex64" else "float32"
    (tb2, mb2), (tc2, mc2) = both(_data(other)[1], other), both(_data(other)[2], other)
    targs, margs = extra(torch, ta, tb2, tc2), extra(mc, ma, mb2, mc2)
    tkw, mkw = kwf(torch, ta, tb2, tc2), kwf(mc, ma, mb2, mc2)
    same_outcome(lambda: getattr(torch, name)(ta, *targs, **tkw), lambda: getattr(mc, name)(ma, *margs, **mkw), **tol)


def test_scalar_and_overload_rules():
    cases = [
        lambda L: L.clamp(L.tensor([1, 2, 3]), 0.5),                          # int tensor, float bound: float32
        lambda L: L.clamp(L.tensor([1, 5]), 0, L.tensor(2.5)),                # a 0-dim tensor joins numbers
        lambda L: L.clamp(L.tensor([1, 5], dtype=L.int32), L.tensor(0.5, dtype=L.float64)),
        lambda L: L.clamp(L.tensor([1.0, 2.0]), L.tensor([1.5, 1.5]), 2.0),   # mixed overloads: TypeError
        lambda L: L.clamp(L.tensor([1.0, 2.0])),
        lambda L: L.clamp(L.tensor([1.0, 2.0]), None, None),
        lambda L: L.clamp(L.tensor([True]), True),
        lambda L: L.clamp(L.tensor([True]), L.tensor([False])),
        lambda L: L.clamp(L.tensor([1.0]), 1j),
        lambda L: L.clamp(L.tensor([1j]), 1),
        lambda L: L.clamp_min(L.tensor([1.0]), None),
        lambda L: L.clamp_min(L.tensor([1.0]), 1j),
        lambda L: L.clamp(L.tensor([float("nan"), 1.0]), 0.0, 0.5),           # NaN propagates
        lambda L: L.clamp(L.tensor([0.3, 1.0]), 2.0, 1.0),                    # min > max: max
        lambda L: L.clamp(L.tensor([0.3, 1.0]), L.tensor([[0.0], [2.0]])),    # broadcasts to the bound's shape
        lambda L: L.clamp(L.ones(2), 2 ** 63),
        lambda L: L.clamp(L.ones(2), 2 ** 64),
        lambda L: L.clamp(L.ones(2), -2 ** 63 - 1),
        lambda L: L.clip(L.ones(2), min=0, max=0.5),
        lambda L: L.ones(2).clamp(min=L.zeros(2), max=None),
        lambda L: L.masked_fill(L.ones(2), L.tensor([1.0, 0.0]), 2.0),         # mask must be bool
        lambda L: L.masked_fill(L.ones(2), L.tensor([True, False]), L.tensor([2.0])),
        lambda L: L.masked_fill(L.ones(2), L.tensor([True, False]), "a"),
        lambda L: L.masked_fill(L.ones(2), [True, False], 2.0),
        lambda L: L.masked_fill(L.tensor([1, 2]), L.tensor([True, False]), 1.5),
        lambda L: L.masked_fill(L.tensor([1, 2]), L.tensor([True, False]), 1j),
        lambda L: L.masked_fill(L.tensor([1, 2]), L.tensor([True, False]), L.tensor(1.5)),
        lambda L: L.masked_fill(L.tensor([1], dtype=L.uint8), L.tensor([True]), -1),   # wraps, as torch's
        lambda L: L.masked_fill(L.tensor([1.0]), L.tensor([True]), float("inf")),
        lambda L: L.masked_fill(L.tensor([1]), L.tensor([True]), float("nan")),
        lambda L: L.clamp(L.ones(1), 0, 1, out=L.empty(1, dtype=L.float64)),          # exact in the number form
        lambda L: L.clamp(L.ones(1), L.zeros(1), out=L.empty(1, dtype=L.float64)),    # not in the tensor form
        lambda L: L.masked_fill(L.ones(2), L.tensor([[True], [False]]), 3.0),  # the mask broadcasts input
        lambda L: L.masked_fill(L.ones(2), mask=L.tensor([True, False]), value=4),
        lambda L: L.ones(2).masked_fill_(L.tensor([[True, False]]), 3.0),
        lambda L: L.ones(2).masked_fill(L.tensor([True, False]), 1, out=L.ones(2)),
        lambda L: L.lerp(L.ones(2), 1.0, 0.5),
        lambda L: L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5),
        lambda L: L.lerp(L.ones(2), L.tensor(1.0, dtype=L.float64), 0.5),
        lambda L: L.lerp(L.ones(2), L.ones(2), L.ones(2, dtype=L.float64)),
        lambda L: L.lerp(L.ones(2), L.ones(2), L.tensor(0.5, dtype=L.float64)),  # a 0-dim weight is cast
        lambda L: L.lerp(L.ones(2), L.ones(2), L.tensor(1)),
        lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), 0.5),
        lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), L.tensor([1, 2])),
        lambda L: L.lerp(L.ones(3), L.ones(2), 0.5),
        lambda L: L.lerp(L.ones(2), L.ones(2), 1 + 2j),
        lambda L: L.lerp(L.ones(2), L.ones(2), True),
        lambda L: L.lerp(L.ones(2), end=L.zeros(2), weight=0.25),
        lambda L: L.addcmul(L.tensor([1, 2]), L.tensor([1, 2]), L.tensor([1, 2]), value=1.5),  # value cast to int
        lambda L: L.addcmul(L.ones(2), L.ones(2), 2.0),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), 2),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), value=L.ones(2)),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), value=1j),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), value=True),
        lambda L: L.addcmul(L.tensor([True]), L.tensor([True]), L.tensor([True])),
        lambda L: L.addcmul(L.tensor([1]), L.tensor([1.5]), L.tensor([2])),
        lambda L: L.addcmul(L.ones(2), tensor1=L.ones(2), tensor2=L.ones(2), value=3),
        lambda L: L.addcdiv(L.ones(2), L.tensor([1, 2]), L.tensor([1, 2])),
        lambda L: L.addcdiv(L.tensor([1, 2]), L.tensor([1.0, 2]), L.tensor([3, 2])),
        lambda L: L.addcdiv(L.ones(2), L.ones(2), L.zeros(2)),
        lambda L: L.addcdiv(L.ones(2), L.ones(3), L.ones(2)),
        lambda L: L.addcdiv(L.ones(2), L.ones(2), L.ones(2), valu=1),
        lambda L: L.clamp(input=L.ones(2), min=0.5),
        lambda L: L.clamp(L.ones(2), 0, 1, 2),
        lambda L: L.Tensor.clamp(3, 0, 1),
    ]
    for f in cases:
        same_outcome(lambda: f(torch), lambda: f(mc))


def test_error_messages_are_torchs():
    cases = [
        lambda L: L.clamp(L.ones(2)),
        lambda L: L.clamp(L.tensor([1j]), 1),
        lambda L: L.clamp(L.tensor([True]), True, False),
        lambda L: L.clamp_min(L.tensor([True]), True),
        lambda L: L.clamp(L.ones(2), 1j),
        lambda L: L.masked_fill(L.ones(2), L.tensor([1.0, 0.0]), 2.0),
        lambda L: L.masked_fill(L.ones(2), L.tensor([True, False]), L.tensor([2.0])),
        lambda L: L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5),
        lambda L: L.lerp(L.ones(2), L.ones(2), L.ones(2, dtype=L.float64)),
        lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), 0.5),
        lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), L.tensor([1, 2])),
        lambda L: L.addcmul(L.tensor([True]), L.tensor([True]), L.tensor([True])),
        lambda L: L.addcdiv(L.ones(2), L.tensor([1, 2]), L.tensor([1, 2])),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), value=1j),
        lambda L: L.addcmul(*[L.tensor([1], dtype=L.int8)] * 3, value=300),
        lambda L: L.addcmul(*[L.tensor([1], dtype=L.int32)] * 3, value=1j),
        lambda L: L.addcmul(*[L.tensor([1], dtype=L.uint8)] * 3, value=-0.5),
        lambda L: L.masked_fill(L.tensor([1], dtype=L.uint8), L.tensor([True]), 256),
        lambda L: L.masked_fill(L.tensor([1], dtype=L.float16), L.tensor([True]), 1e10),
        lambda L: L.masked_fill(L.tensor([1.0]), L.tensor([True]), 1e300),
        lambda L: L.lerp(L.ones(3), L.ones(2), 0.5),
        lambda L: L.addcmul(L.ones(2), L.ones(2), 2.0),
        lambda L: L.addcmul(L.ones(2), L.ones(2), L.ones(2), 2),
        lambda L: L.ones(2).masked_fill_(L.tensor([[True, False]]), 3.0),
        lambda L: L.tensor([1, 2]).clamp_(0.5),
        lambda L: L.clamp(L.ones(2), 2 ** 64),
        lambda L: L.clamp(L.ones(2), -2 ** 63 - 1),
    ]
    for f in cases:
        msgs = []
        for lib in (torch, mc):
            with pytest.raises(Exception) as info:
                f(lib)
            msgs.append((type(info.value), str(info.value).split("\n")[0]))
        assert msgs[1][0] is msgs[0][0] and msgs[1][1] == msgs[0][1], msgs


def _inplace_cases():
    return [
        ("clamp_", lambda L, b, c: (-0.5, 1.0)),
        ("clamp_", lambda L, b, c: (b, c)),
        ("clip_", lambda L, b, c: (None, 0.5)),
        ("clamp_min_", lambda L, b, c: (b,)),
        ("clamp_max_", lambda L, b, c: (0,)),
        ("masked_fill_", lambda L, b, c: (L.from_numpy(MASK), 7.0)),
        ("lerp_", lambda L, b, c: (b, 0.25)),
        ("lerp_", lambda L, b, c: (b, c)),
        ("addcmul_", lambda L, b, c: (b, c)),
        ("addcdiv_", lambda L, b, c: (b, c)),
    ]


@pytest.mark.parametrize("case", range(len(_inplace_cases())))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_inplace_and_views(case, dtype):
    name, extra = _inplace_cases()[case]
    (ta, ma), (tb, mb), (tc, mc_) = (both(x, dtype) for x in _data(dtype))
    r = same_outcome(lambda: getattr(ta, name)(*extra(torch, tb, tc)), lambda: getattr(ma, name)(*extra(mc, mb, mc_)))
    if r is not None:
        assert r is ma
        assert_same(ma, ta)
        assert ma._version == ta._version
    # through a view: the base sees the write
    (ta, ma), (tb, mb), (tc, mc_) = (both(x, dtype) for x in _data(dtype))
    tv, mv = ta[1], ma[1]
    targs = [x[1] if isinstance(x, torch.Tensor) else x for x in extra(torch, tb, tc)]
    margs = [x[1] if isinstance(x, mc.Tensor) else x for x in extra(mc, mb, mc_)]
    if same_outcome(lambda: getattr(tv, name)(*targs), lambda: getattr(mv, name)(*margs)) is not None:
        assert_same(ma, ta)
        assert_same(mv, tv)
    # leaves requiring grad refuse in-place writes
    for lib, b, c in ((torch, tb, tc), (mc, mb, mc_)):
        leaf = lib.ones(2, 3, requires_grad=True)
        args = [x.float() if isinstance(x, lib.Tensor) and x.dtype is not lib.bool else x for x in extra(lib, b, c)]
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(leaf, name)(*args)


@pytest.mark.parametrize("name", ["clamp", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv"])
def test_out(name):
    args = {"clamp": lambda L: (0.0, 1.0), "clamp_min": lambda L: (0.5,), "clamp_max": lambda L: (L.ones(2, 3),),
            "lerp": lambda L: (L.zeros(2, 3), 0.5), "addcmul": lambda L: (L.ones(2, 3), L.ones(2, 3)),
            "addcdiv": lambda L: (L.ones(2, 3), L.ones(2, 3))}[name]
    ta, ma = both(A, "float32")
    for out_dtype in ("float32", "float64", "int64"):
        ot = torch.zeros(2, 3, dtype=getattr(torch, out_dtype))
        om = mc.zeros(2, 3, dtype=getattr(mc, out_dtype))
        r = same_outcome(lambda: getattr(torch, name)(ta, *args(torch), out=ot),
                         lambda: getattr(mc, name)(ma, *args(mc), out=om))
        if r is not None:
            assert r is om
            assert_same(om, ot)
    ot, om = torch.zeros(2), mc.zeros(2)  # a wrong-shaped out is resized, with torch's warning
    with pytest.warns(UserWarning, match="resized"):
        getattr(mc, name)(ma, *args(mc), out=om)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch, name)(ta, *args(torch), out=ot)
    assert_same(om, ot)
    tg, mg = ta.clone().requires_grad_(), ma.clone().requires_grad_()
    same_outcome(lambda: getattr(torch, name)(tg, *args(torch), out=torch.zeros(2, 3)),
                 lambda: getattr(mc, name)(mg, *args(mc), out=mc.zeros(2, 3)))
    # masked_fill has no out=
    same_outcome(lambda: torch.masked_fill(ta, ta > 0, 1.0, out=torch.zeros(2, 3)),
                 lambda: mc.masked_fill(ma, ma > 0, 1.0, out=mc.zeros(2, 3)))


# (name, builder(lib, x, y, z) -> (args, kwargs)); x is the input, y and z operands; those in `grads` require grad
GRAD_CASES = [
    ("clamp", lambda L, x, y, z: ((-0.5, 1.0), {}), "x"),
    ("clamp", lambda L, x, y, z: ((None, 0.9), {}), "x"),
    ("clamp", lambda L, x, y, z: ((y, z), {}), "xyz"),
    ("clamp", lambda L, x, y, z: ((z, y), {}), "xyz"),  # min > max in places
    ("clamp", lambda L, x, y, z: ((y,), {}), "xy"),
    ("clamp", lambda L, x, y, z: ((), {"max": z}), "xz"),
    ("clamp_min", lambda L, x, y, z: ((0.1,), {}), "x"),
    ("clamp_min", lambda L, x, y, z: ((y,), {}), "xy"),
    ("clamp_max", lambda L, x, y, z: ((0.1,), {}), "x"),
    ("clamp_max", lambda L, x, y, z: ((z,), {}), "xz"),
    ("masked_fill", lambda L, x, y, z: ((L.from_numpy(MASK), 2.0), {}), "x"),
    ("masked_fill", lambda L, x, y, z: ((L.from_numpy(MASK), y[0, 1]), {}), "xy"),
    ("masked_fill", lambda L, x, y, z: ((L.from_numpy(MASK[:1]), y[0, 1]), {}), "xy"),
    ("lerp", lambda L, x, y, z: ((y, 0.3), {}), "xy"),
    ("lerp", lambda L, x, y, z: ((y, z), {}), "xyz"),
    ("lerp", lambda L, x, y, z: ((y, z[0]), {}), "xyz"),
    ("addcmul", lambda L, x, y, z: ((y, z), {"value": 0.5}), "xyz"),
    ("addcmul", lambda L, x, y, z: ((y, z[1]), {}), "yz"),
    ("addcdiv", lambda L, x, y, z: ((y, z), {"value": -2}), "xyz"),
    ("addcdiv", lambda L, x, y, z: ((y[0], z), {}), "xyz"),
]


@pytest.mark.parametrize("case", range(len(GRAD_CASES)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_and_double_grad(case, dtype):
    name, build, grads = GRAD_CASES[case]
    npd = np.float64 if dtype == "float64" else np.float32
    res = {}
    for lib in (torch, mc):
        ops = {k: lib.from_numpy(v.astype(npd)) for k, v in (("x", A), ("y", B), ("z", C))}
        for k in grads:
            ops[k].requires_grad_()
        ins = [ops[k] for k in grads]
        args, kw = build(lib, ops["x"], ops["y"], ops["z"])
        r = getattr(lib, name)(ops["x"], *args, **kw)
        node = type(r.grad_fn).__name__
        w = lib.from_numpy(np.linspace(0.5, 1.5, r.numel()).reshape(tuple(r.shape)).astype(npd))
        gs = lib.autograd.grad((r * r * w).sum(), ins, create_graph=True)
        live = [g for g in gs if g.requires_grad]
        ggs = lib.autograd.grad(sum((g * g).sum() for g in live), ins, allow_unused=True) if live else ()
        ggs = [None if gg is None or (lib is torch and gg._is_zerotensor()) else gg for gg in ggs]
        res[lib] = (r, gs, ggs, node)
    assert_same_grads(res[mc], res[torch])


@pytest.mark.parametrize("case", range(len(_inplace_cases())))
def test_inplace_grad_through_views(case):
    name, extra = _inplace_cases()[case]
    grads = {}
    for lib in (torch, mc):
        x = lib.from_numpy(A.copy()).requires_grad_()
        b = lib.from_numpy(B.copy()).requires_grad_()
        c = lib.from_numpy(C.copy()).requires_grad_()
        y = x * 1.5
        args = [a[0] if isinstance(a, lib.Tensor) else a for a in extra(lib, b, c)]
        getattr(y[0], name)(*args)  # through a view: the base's history gets the op
        assert type(y.grad_fn).__name__ == "CopySlices"
        (y * y).sum().backward()
        grads[lib] = (x.grad, b.grad, c.grad)
    for ours, theirs in zip(grads[mc], grads[torch]):
        if theirs is None:
            assert ours is None or not ours.abs().sum().item()
        else:
            assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


def test_signatures():
    assert str(inspect.signature(mc.clamp)) == "(input, min=None, max=None, *, out=None)"
    assert str(inspect.signature(mc.Tensor.clamp)) == "(self, /, min=None, max=None)"
    assert str(inspect.signature(mc.addcmul)) == "(input, tensor1, tensor2, *, value=1, out=None)"
    assert str(inspect.signature(mc.Tensor.addcdiv_)) == "(self, /, tensor1, tensor2, *, value=1)"
    assert str(inspect.signature(mc.masked_fill)) == "(input, mask, value)"
    assert str(inspect.signature(mc.lerp)) == "(input, end, weight, *, out=None)"



def test_no_reference_leaks():
    a, b, c, out = mc.ones(3), mc.ones(3) * 2, mc.ones(3) * 3, mc.zeros(3)
    m = a > 0
    w = mc.ones(3, requires_grad=True)
    for fn in (lambda: mc.clamp(a, 0.5, 1.5), lambda: mc.clamp(a, b, c), lambda: a.clamp_min_(b),
               lambda: mc.lerp(a, b, 0.5, out=out), lambda: mc.addcmul(a, b, c, value=2), lambda: a.masked_fill(m, 1.0),
               lambda: mc.lerp(w, b, c).sum().backward(), lambda: mc.clamp(w, b).sum().backward(),
               lambda: pytest.raises(TypeError, lambda: mc.clamp(a, b, 1.0)),
               lambda: pytest.raises(RuntimeError, lambda: mc.lerp(a, mc.ones(2), 0.5)),
               lambda: pytest.raises(RuntimeError, lambda: mc.masked_fill(a, b, 0.5))):
        assert refs_stable(fn, a, b, c, out, m, w, mc.clamp)
