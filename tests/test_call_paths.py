"""The C core's shortened per-call paths, each against torch on the same inputs: views and reshapes through the
reused shape tuples (Note [Reused shape tuples], csrc/mxcall.c), the registry's binary forms going straight to
the operator path (binary_op_checked, csrc/ops.c), recorded operators through the per-operator derivative
entries (Note [Backward entry cache], csrc/autograd.c), and cat/stack handing MLX a tuple, with the wrapper's
check of list and tuple arguments (Note [torch function check], csrc/overrides.c); and that none of them
leaks references."""
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import mc, torch


def _pair(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(a), mc.tensor(a)


def _same(t, m):
    assert tuple(m.shape) == tuple(t.shape)
    assert str(m.dtype) == str(t.dtype)
    np.testing.assert_allclose(np.asarray(m.detach().numpy()), t.detach().numpy(), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ views and reshapes: reused shape tuples

SHAPES = [(24,), (2, 12), (4, -1), (2, 3, 4), (1, 2, 3, 4), (2, 1, 3, 1, 4), (1, 1, 2, 1, 3, 1, 4, 1), (6, 4)]


def test_view_and_reshape_of_every_rank_interleaved():
    t, m = _pair((4, 6))
    # every length of reused tuple (and longer ones) one after the other, twice: a refilled tuple must never
    # carry the previous call's sizes
    for _ in range(2):
        for s in SHAPES:
            _same(t.view(*s), m.view(*s))
            _same(t.reshape(s), m.reshape(s))
            _same(t.view(s), m.view(s))
    tt, mt = t.t(), m.t()  # non-contiguous: reshape copies, view refuses
    for s in SHAPES:
        _same(tt.reshape(s), mt.reshape(s))
    with pytest.raises(RuntimeError):
        tt.view(24)
    with pytest.raises(RuntimeError):
        mt.view(24)


def test_views_kept_alive_keep_their_shapes():
    t, m = _pair((4, 6))
    kept = [(t.view(*s), m.view(*s)) for s in SHAPES * 3]
    for a, b in kept:
        _same(a, b)


def test_view_inside_compile_and_grad():
    t, m = _pair((4, 6))
    t.requires_grad_()
    m.requires_grad_()
    (t.view(2, 12) * 3).view(24).sum().backward()
    (m.view(2, 12) * 3).view(24).sum().backward()
    _same(t.grad, m.grad)
    f = mc.compile(lambda x: x.view(3, 8).sum(1) + x.reshape(8, 3).sum())
    x = m.detach()
    expect = t.detach().view(3, 8).sum(1) + t.detach().reshape(8, 3).sum()
    for _ in range(2):
        _same(expect, f(x))


def test_view_errors_match_torch():
    t, m = _pair((4, 6))
    for args in [(5,), (-1, -1), (7, -1), (2, -3)]:
        with pytest.raises(RuntimeError):
            t.view(*args)
        with pytest.raises(RuntimeError):
            m.view(*args)


# ------------------------------------------------------------------ the registry's binary forms


class Logged(mc.Tensor):
    calls = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


class TLogged(torch.Tensor):
    calls = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


@pytest.mark.parametrize("form", ["add", "sub", "mul", "div", "add_alpha", "add_", "mul_", "sub_alpha_"])
def test_registry_binary_forms_match_torch(form):
    def run(lib, a, b):
        if form == "add_alpha":
            return lib.add(a, b, alpha=2)
        if form.endswith("_"):
            c = a.clone()
            if form == "sub_alpha_":
                return c.sub_(b, alpha=3)
            return getattr(c, form)(b)
        return getattr(lib, form)(a, b)

    (ta, ma), (tb, mb) = _pair((3, 4), 1), _pair((3, 4), 2)
    _same(run(torch, ta, tb), run(mc, ma, mb))
    _same(run(torch, ta, 2.5), run(mc, ma, 2.5))
    if not form.endswith("_"):
        _same(run(torch, 3, tb), run(mc, 3, mb))


def test_registry_binary_honours_torch_function_once():
    (ta, ma), (tb, mb) = _pair((2, 3), 1), _pair((2, 3), 2)
    Logged.calls.clear()
    TLogged.calls.clear()
    rt = torch.add(ta.as_subclass(TLogged), tb)
    rm = mc.add(ma.as_subclass(Logged), mb)
    assert type(rm) is Logged and type(rt) is TLogged
    assert len(Logged.calls) == len(TLogged.calls) == 1
    _same(rt.as_subclass(torch.Tensor), rm.as_subclass(mc.Tensor))
    Logged.calls.clear()
    TLogged.calls.clear()
    rt = ta.as_subclass(TLogged).clone().add_(tb)
    rm = ma.as_subclass(Logged).clone().add_(mb)
    assert type(rm) is Logged and type(rt) is TLogged
    assert len(Logged.calls) == len(TLogged.calls)


def test_registry_binary_errors_match_torch():
    (ta, ma) = _pair((2, 3))
    for lib, a in ((torch, ta), (mc, ma)):
        with pytest.raises(TypeError):
            lib.add(a, "x")
        with pytest.raises(RuntimeError):
            lib.add(a, lib.ones(4))
        with pytest.raises(RuntimeError):
            lib.ones(2, dtype=lib.int64).add_(lib.ones(2) * 0.5)


# ------------------------------------------------------------------ recorded operators: cached derivative entries


@pytest.mark.parametrize("expr", ["w * b", "b * w", "w - 2", "2 - w", "w / b", "w + b", "b ** 2 * w"])
def test_recorded_operators_match_torch(expr):
    (tw, mw), (tb, mb) = _pair((3, 3), 3), _pair((3, 3), 4)
    tw.requires_grad_()
    mw.requires_grad_()
    for _ in range(2):  # the second time through the cached entries
        rt = eval(expr, {"w": tw, "b": tb})
        rm = eval(expr, {"w": mw, "b": mb})
        assert type(rm.grad_fn).__name__ == type(rt.grad_fn).__name__
        rt.sum().backward()
        rm.sum().backward()
        _same(tw.grad, mw.grad)


def test_recorded_inplace_operator_matches_torch():
    (tw, mw), (tb, mb) = _pair((3, 3), 5), _pair((3, 3), 6)
    tw.requires_grad_()
    mw.requires_grad_()
    for _ in range(2):
        rt, rm = tw * 1, mw * 1
        rt.mul_(tb)
        rm.mul_(mb)
        assert type(rm.grad_fn).__name__ == type(rt.grad_fn).__name__
        rt.sum().backward()
        rm.sum().backward()
        _same(tw.grad, mw.grad)


def test_reregistered_derivative_replaces_cached_entry():
    # a registration flushes the per-operator entries (Note [Backward entry cache]); run in a child process,
    # since the replaced derivative cannot be put back from Python
    code = """
import mlx_compat as mc
w = mc.ones(2, requires_grad=True)
b = mc.full((2,), 3.0)
(w * b).sum().backward()  # fills the cached entry of mul_tt
assert w.grad.tolist() == [3.0, 3.0], w.grad.tolist()
mc._C._register_backward("mul_tt", "MulBackward0", lambda ctx, grads: (grads[0] * 100, None), False)
w.grad = None
(w * b).sum().backward()
print(w.grad.tolist())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[100.0, 100.0]"


# ------------------------------------------------------------------ cat / stack


@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_cat_stack_match_torch(kind):
    seq = list if kind == "list" else tuple
    (ta, ma), (tb, mb) = _pair((2, 3), 7), _pair((2, 3), 8)
    _same(torch.cat(seq([ta, tb])), mc.cat(seq([ma, mb])))
    _same(torch.cat(seq([ta, tb]), 1), mc.cat(seq([ma, mb]), 1))
    _same(torch.stack(seq([ta, tb]), 2), mc.stack(seq([ma, mb]), 2))
    ta.requires_grad_()
    ma.requires_grad_()
    torch.cat(seq([ta, tb, ta]), 1).pow(2).sum().backward()
    mc.cat(seq([ma, mb, ma]), 1).pow(2).sum().backward()
    _same(ta.grad, ma.grad)


def test_cat_with_subclass_item_dispatches():
    (ta, ma), (tb, mb) = _pair((2, 3), 7), _pair((2, 3), 8)
    Logged.calls.clear()
    TLogged.calls.clear()
    rt = torch.cat([ta, tb.as_subclass(TLogged)])
    rm = mc.cat([ma, mb.as_subclass(Logged)])
    assert type(rm) is Logged and type(rt) is TLogged
    assert len(Logged.calls) == len(TLogged.calls) == 1


def test_cat_bad_items_raise_as_torch():
    (ta, ma) = _pair((2, 3))
    for lib, a in ((torch, ta), (mc, ma)):
        with pytest.raises(TypeError):
            lib.cat([a, 1])
        with pytest.raises(RuntimeError):
            lib.cat([a, lib.ones(3, 4)])


# ------------------------------------------------------------------ references


PATHS = [
    ("view", lambda x, y: x.view(12)),
    ("view4", lambda x, y: x.view(1, 3, 2, 2)),
    ("view5", lambda x, y: x.view(1, 3, 1, 2, 2)),
    ("reshape_copy", lambda x, y: x.t().reshape(12)),
    ("torch.add", lambda x, y: mc.add(x, y)),
    ("torch.add_alpha", lambda x, y: mc.add(x, y, alpha=2)),
    ("add_", lambda x, y: x.clone().add_(y)),
    ("cat_list", lambda x, y: mc.cat([x, y])),
    ("cat_tuple", lambda x, y: mc.cat((x, y), 1)),
    ("stack", lambda x, y: mc.stack([x, y])),
    ("recorded_mul", lambda x, y: x.detach().requires_grad_() * y),
    ("recorded_rsub", lambda x, y: 2 - x.detach().requires_grad_()),
    ("error_view", lambda x, y: x.view(5)),
    ("error_add", lambda x, y: mc.add(x, mc.ones(7))),
]


@pytest.mark.parametrize("name,op", PATHS, ids=[p[0] for p in PATHS])
def test_paths_release_their_references(name, op):
    x = mc.arange(12.0).reshape(3, 4)
    y = mc.ones(3, 4)
    if name.startswith("error"):
        with pytest.raises(RuntimeError):
            op(x, y)
    else:
        op(x, y)
    for _ in range(5):
        try:
            op(x, y)
        except RuntimeError:
            pass
    rx, ry = sys.getrefcount(x), sys.getrefcount(y)
    for _ in range(500):
        try:
            r = op(x, y)
            del r
        except RuntimeError:
            pass
    assert sys.getrefcount(x) == rx and sys.getrefcount(y) == ry


# ------------------------------------------------------------------ Note [Row-major view fast path]

def _same_meta(t, m):
    _same(t, m)
    assert tuple(m.stride()) == tuple(t.stride())
    assert m.storage_offset() == t.storage_offset()


@pytest.mark.parametrize("make", [
    lambda x: x,                       # a base
    lambda x: x[1:],                   # a row-major view with an offset
    lambda x: x[:, 0:1],               # "contiguous", but its size-1 dim keeps stride 6: the general path
    lambda x: x[:, 2:3],
    lambda x: x.unsqueeze(1),          # a size-1 dim of row-major stride
    lambda x: x.t(),                   # not row-major: view refuses, reshape copies
    lambda x: x[0],
    lambda x: x[:0],                   # empty: computeStride's numel == 0 rule
], ids=["base", "offset", "col0", "col2", "unsqueeze", "t", "row", "empty"])
def test_view_strides_match_torch(make):
    t, m = _pair((4, 6))
    t, m = make(t), make(m)
    n = t.numel()
    shapes = [(n,), (-1,), (1, n), (n, 1), (1, -1, 1), (1, 1, 1, n), (1, 1, 1, 1, n)]
    if n % 2 == 0 and n:
        shapes += [(2, -1), (-1, 2, 1)]
    for s in shapes:
        for name in ("view", "reshape"):
            try:
                rt = getattr(t, name)(*s)
            except RuntimeError:
                with pytest.raises(RuntimeError):
                    getattr(m, name)(*s)
                continue
            _same_meta(rt, getattr(m, name)(*s))
            _same_meta(getattr(t, name)(s), getattr(m, name)(s))


def test_view_of_view_writes_through_and_grads():
    t, m = _pair((4, 6))
    t.requires_grad_()
    m.requires_grad_()
    (t.view(2, 12).view(24) * 2).sum().backward()
    (m.view(2, 12).view(24) * 2).sum().backward()
    _same(t.grad, m.grad)
    bt, bm = torch.zeros(4, 6), mc.zeros(4, 6)
    bt.view(24)[3] = 5.0
    bm.view(24)[3] = 5.0
    bt[1:].view(-1)[0] = 7.0
    bm[1:].view(-1)[0] = 7.0
    _same(bt, bm)


# ------------------------------------------------------------------ Note [Small int arguments]

@pytest.mark.parametrize("args", [(2 ** 63,), (-2,), (True, 24), (np.int64(24),), (24.0,), (None,), ("a",)],
                         ids=["huge", "neg", "bool", "npint", "float", "none", "str"])
def test_view_reshape_odd_int_arguments_raise_like_torch(args):
    t, m = _pair((4, 6))
    for name in ("view", "reshape"):
        try:
            want = getattr(t, name)(*args)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                getattr(m, name)(*args)
        else:
            _same_meta(want, getattr(m, name)(*args))


@pytest.mark.parametrize("shape", [(4,), (1,), ()])
def test_view_and_reshape_without_a_size_raise_type_error(shape):
    t, m = torch.ones(*shape) if shape else torch.tensor(1.0), mc.ones(*shape) if shape else mc.tensor(1.0)
    for name in ("view", "reshape"):
        with pytest.raises(TypeError) as te:
            getattr(t, name)()
        with pytest.raises(TypeError) as me:
            getattr(m, name)()
        assert str(me.value) == str(te.value)


# ------------------------------------------------------------------ Note [NumPy scalar operands]

NP_SCALARS = [np.int64(3), np.int32(-2), np.uint8(5), np.int8(-3), np.float64(2.5), np.float32(1.5),
              np.float16(0.5), np.bool_(True), np.complex128(1 + 2j)]
OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b, "pow": lambda a, b: a ** b,
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
}


def _outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return e


def _same_outcome(want, got):
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"torch raised {want!r}, we returned {got!r}"
        assert type(got) is type(want) or isinstance(got, type(want)), (want, got)
        return
    assert isinstance(got, mc.Tensor), f"a {type(got).__name__}, not a Tensor"
    _same(want, got)


@pytest.mark.parametrize("s", NP_SCALARS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_numpy_scalar_operands_both_sides(s, dtype):
    base = np.array([1, 2, 3, 4])
    t, m = torch.tensor(base).to(getattr(torch, dtype)), mc.tensor(base).to(getattr(mc, dtype))
    for name, op in OPS.items():
        _same_outcome(_outcome(lambda: op(t, s)), _outcome(lambda: op(m, s)))
        _same_outcome(_outcome(lambda: op(s, t)), _outcome(lambda: op(s, m)))


@pytest.mark.parametrize("s", [np.int64(2), np.float32(1.5), np.bool_(True)], ids=lambda s: type(s).__name__)
def test_numpy_scalar_in_place_functions_and_grad(s):
    t, m = torch.tensor([1.0, 2.0, 3.0]), mc.tensor([1.0, 2.0, 3.0])
    t += s
    m += s
    _same(t, m)
    t.mul_(s)
    m.mul_(s)
    _same(t, m)
    _same(torch.add(t, s), mc.add(m, s))
    _same(torch.mul(t, s), mc.mul(m, s))
    _same(t.sub(s), m.sub(s))
    ti, mi = torch.tensor([1, 2], dtype=torch.int32), mc.tensor([1, 2], dtype=mc.int32)
    ti += np.int64(3)
    mi += np.int64(3)
    _same(ti, mi)
    tw, mw = torch.ones(3, requires_grad=True), mc.ones(3, requires_grad=True)
    (tw * s * 2).sum().backward()
    (mw * s * 2).sum().backward()
    _same(tw.grad, mw.grad)


def test_numpy_complex64_is_read_as_a_float_like_torch():
    s = np.complex64(1 + 2j)
    t, m = torch.ones(2), mc.ones(2)
    with pytest.warns(np.exceptions.ComplexWarning if hasattr(np, "exceptions") else np.ComplexWarning):
        want = t + s
    with pytest.warns(np.exceptions.ComplexWarning if hasattr(np, "exceptions") else np.ComplexWarning):
        got = m + s
    _same(want, got)


def test_numpy_operands_do_not_leak():
    m = mc.ones(4)
    s = np.int64(2)
    import gc
    import weakref
    for _ in range(3):
        m * s, s * m, m + np.float32(1.0)
    gc.collect()
    before = sys.getrefcount(s)
    for _ in range(100):
        m * s, s - m
    assert sys.getrefcount(s) == before
    r = weakref.ref(m * s)
    assert r() is None


def test_reused_shape_tuples_with_sizes_past_the_small_int_cache():
    # mx_shape_arg keeps an item that equals the new size and replaces the others: alternate shapes whose
    # items sometimes repeat, sometimes change, all past CPython's cached ints
    t, m = _pair((4, 768))
    seq = [(3072,), (3072,), (4, 768), (768, 4), (768, 4), (1536, 2), (3072, 1), (1, 3072), (1, 3072), (4, 768)]
    kept = []
    for _ in range(3):
        for s in seq:
            _same_meta(t.view(*s), m.view(*s))
            kept.append((t.reshape(s), m.reshape(s)))
    for a, b in kept:
        _same_meta(a, b)
