"""Conversions to/from Python, numpy, DLPack and torch, against PyTorch.

Pins: item()/tolist()/numpy()/np.asarray (values, Python types, dtypes);
DLPack export/import round trips; len/iter; bool/float/int/complex/__index__
(values and torch's exception types for multi-element / 0-d / non-integer
cases); hash by identity; .to(dtype | tensor | device) incl. identity when
nothing changes; .float()/.double()/.half()/.bfloat16()/.long()/.int()/
.bool()/... and .type(); mc.from_torch / mc.to_torch round trips; mc.eval /
mc.synchronize exist and work.
"""
import numpy as np
import pytest

from helpers import DTYPE_NAMES, assert_raises_same, assert_same, assert_same_outcome, mc, to_mc, torch


def sample(dtype, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 4
    if dtype == "complex64":
        t = torch.from_numpy((a + 1j * a[::-1]).astype(np.complex64))
    else:
        t = torch.from_numpy(a).to(getattr(torch, dtype))
    return t, to_mc(t)


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_item_tolist(dtype):
    t, m = sample(dtype)
    assert m.tolist() == t.tolist()
    assert [type(v) for v in m.tolist()[0]] == [type(v) for v in t.tolist()[0]]
    t0, m0 = t[1, 2], m[1, 2]
    assert m0.item() == t0.item() and type(m0.item()) is type(t0.item())
    assert m0.tolist() == t0.tolist() and type(m0.tolist()) is type(t0.tolist())
    t1, m1 = t[1:2, 2:3], m[1:2, 2:3]
    assert m1.item() == t1.item()
    assert m.t().tolist() == t.t().tolist()
    assert_raises_same(lambda: t.item(), lambda: m.item())


@pytest.mark.parametrize("dtype", [d for d in DTYPE_NAMES if d != "bfloat16"])
def test_numpy_and_array(dtype):
    t, m = sample(dtype)
    a = m.numpy()
    assert isinstance(a, np.ndarray)
    assert a.dtype == t.numpy().dtype
    np.testing.assert_array_equal(a, t.numpy())
    b = np.asarray(m)
    assert b.dtype == t.numpy().dtype
    np.testing.assert_array_equal(b, t.numpy())
    c = np.asarray(m, dtype=np.float64) if dtype != "complex64" else np.asarray(m, dtype=np.complex128)
    np.testing.assert_array_equal(c, np.asarray(t, dtype=c.dtype))
    np.testing.assert_array_equal(np.asarray(m.t()), t.t().numpy())
    np.testing.assert_array_equal(np.asarray(m[:, ::2]), t[:, ::2].numpy())
    np.testing.assert_array_equal(m[0, 1].numpy(), t[0, 1].numpy())
    assert m[0, 1].numpy().shape == ()


def test_bfloat16_numpy_raises_like_torch():
    t, m = sample("bfloat16")
    assert_raises_same(lambda: t.numpy(), lambda: m.numpy())


def test_numpy_requires_grad_raises():
    t = torch.ones(2, requires_grad=True)
    m = mc.ones(2, requires_grad=True)
    assert_raises_same(lambda: t.numpy(), lambda: m.numpy())
    np.testing.assert_array_equal(m.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool", "float16", "int16", "complex64"])
def test_dlpack_roundtrip(dtype):
    t, m = sample(dtype)
    dev = m.__dlpack_device__()
    assert tuple(int(v) for v in dev) == tuple(int(v) for v in t.__dlpack_device__())
    a = np.from_dlpack(m)
    np.testing.assert_array_equal(a, t.numpy())
    assert a.dtype == t.numpy().dtype
    back = mc.from_dlpack(t.numpy())
    assert_same(back, t)
    tt = torch.from_dlpack(m)
    assert_same(to_mc(tt), t)
    assert str(tt.dtype) == str(t.dtype)
    mm = mc.from_dlpack(t)
    assert_same(mm, t)
    # non-contiguous source
    np.testing.assert_array_equal(np.from_dlpack(m.t()), t.t().numpy())


def test_len_iter():
    t, m = sample("float32", (3, 2))
    assert len(m) == len(t)
    rows_m, rows_t = list(m), list(t)
    assert len(rows_m) == len(rows_t)
    for a, b in zip(rows_m, rows_t):
        assert_same(a, b, check_stride=True)
    assert [x.item() for x in mc.tensor([1, 2, 3])] == [x.item() for x in torch.tensor([1, 2, 3])]
    assert_raises_same(lambda: len(torch.tensor(1.0)), lambda: len(mc.tensor(1.0)))
    assert_raises_same(lambda: iter(torch.tensor(1.0)), lambda: iter(mc.tensor(1.0)))
    assert len(mc.zeros(0, 3)) == 0 and list(mc.zeros(0)) == []
    a, b = mc.tensor([5, 6])
    assert (a.item(), b.item()) == (5, 6)


SCALAR_CONV = [
    ("bool_1", lambda L: bool(L.tensor([3.0]))), ("bool_0", lambda L: bool(L.tensor(0))),
    ("bool_multi", lambda L: bool(L.tensor([1, 2]))), ("bool_empty", lambda L: bool(L.tensor([]))),
    ("bool_nan", lambda L: bool(L.tensor(float("nan")))), ("bool_cplx", lambda L: bool(L.tensor(1j))),
    ("float", lambda L: float(L.tensor([2.5]))), ("float_int", lambda L: float(L.tensor(3))),
    ("float_multi", lambda L: float(L.tensor([1.0, 2.0]))), ("float_cplx", lambda L: float(L.tensor(1 + 2j))),
    ("int", lambda L: int(L.tensor([[2.7]]))), ("int_neg", lambda L: int(L.tensor(-2.7))),
    ("int_multi", lambda L: int(L.tensor([1, 2]))), ("int_bool", lambda L: int(L.tensor(True))),
    ("complex", lambda L: complex(L.tensor(1 + 2j))), ("complex_real", lambda L: complex(L.tensor(2.0))),
    ("range", lambda L: list(range(L.tensor(3)))), ("list_idx", lambda L: [1, 2, 3][L.tensor(1)]),
    ("list_idx_1elt", lambda L: [1, 2, 3][L.tensor([2])]), ("list_idx_bool", lambda L: [1, 2, 3][L.tensor(True)]),
    ("index_float", lambda L: [1, 2, 3][L.tensor(1.0)]), ("index_multi", lambda L: [1, 2, 3][L.tensor([0, 1])]),
    ("range_float", lambda L: range(L.tensor(2.0))), ("operator_index", lambda L: __import__("operator").index(L.tensor(5))),
    ("hex", lambda L: hex(L.tensor(255))), ("slice_idx", lambda L: [0, 1, 2, 3, 4][L.tensor(1):L.tensor(4)]),
    ("round", lambda L: round(float(L.tensor(2.567)), 2)), ("int_of_int32", lambda L: int(L.tensor(7, dtype=L.int32))),
    ("float_f16", lambda L: float(L.tensor(0.1, dtype=L.float16))), ("float_bf16", lambda L: float(L.tensor(0.1, dtype=L.bfloat16))),
]


@pytest.mark.parametrize("name,fn", SCALAR_CONV, ids=[c[0] for c in SCALAR_CONV])
def test_python_scalar_conversions(name, fn):
    (rt, rm) = assert_same_outcome(lambda: fn(torch), lambda: fn(mc))
    if rt is not None:
        assert type(rm) is type(rt)


def test_hash_identity():
    m = mc.tensor([1.0, 2.0])
    assert hash(m) == hash(m)
    assert hash(m) == id(m)  # torch: Tensor.__hash__ is id()
    m2 = mc.tensor([1.0, 2.0])
    assert hash(m) != hash(m2)
    d = {m: 1, m2: 2}
    assert d[m] == 1 and d[m2] == 2
    assert m in {m} and m2 not in {m}


@pytest.mark.parametrize("src", DTYPE_NAMES)
@pytest.mark.parametrize("dst", DTYPE_NAMES)
def test_to_dtype(src, dst):
    t, m = sample(src)
    rt, rm = t.to(getattr(torch, dst)), m.to(getattr(mc, dst))
    assert_same(rm, rt, check_stride=True)
    if src == dst:
        assert (rm is m) == (rt is t)


CASTS = ["float", "double", "half", "bfloat16", "long", "int", "short", "char", "byte", "bool", "cfloat"]


@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool", "float16", "uint8", "complex64"])
def test_cast_methods(src):
    t, m = sample(src)
    for c in CASTS:
        rt, rm = getattr(t, c)(), getattr(m, c)()
        assert_same(rm, rt)
        assert (rm is m) == (rt is t), c


def test_to_variants():
    t, m = sample("float32")
    assert m.to(mc.float32) is m
    assert m.to("cpu") is m
    assert (m.cpu() is m) == (t.cpu() is t) and (m.detach().cpu().cpu() is not m)
    for d in ("cpu", "cpu:0", "device cpu", "device cpu:0"):  # an explicit index is a copy in torch
        dm = mc.device(d.split()[-1]) if d.startswith("device") else d
        dt = torch.device(d.split()[-1]) if d.startswith("device") else d
        assert (m.to(dm) is m) == (t.to(dt) is t), d
    c0, t0 = m.to("cpu:0"), t.to("cpu:0")
    c0.add_(1), t0.add_(1)
    assert_same(m, t)
    assert m.to(mc.float32, copy=True) is not m
    assert_same(m.to(mc.zeros(1, dtype=mc.int8)), t.to(torch.zeros(1, dtype=torch.int8)))
    assert_same(m.to("cpu", mc.int32), t.to("cpu", torch.int32))
    assert_same(m.to(dtype=mc.int16), t.to(dtype=torch.int16))
    assert_same(m.to(device="cpu", dtype=mc.float64), t.to(device="cpu", dtype=torch.float64))
    assert_same(m.to(mc.device("cpu")), t.to(torch.device("cpu")))
    c = m.to(mc.float32, copy=True)
    c.add_(1)
    assert_same(m, t)
    assert_raises_same(lambda: t.to("float32"), lambda: m.to("float32"))
    assert_raises_same(lambda: t.to(object()), lambda: m.to(object()))


@pytest.mark.parametrize("src", ["float32", "int64", "bool", "float16", "bfloat16", "uint8", "int8", "int16", "int32",
                                 "float64", "complex64"])
def test_type_strings(src):
    t, m = sample(src)
    assert m.type() == t.type()
    for d in ("int32", "float64", "bool"):
        assert_same(m.type(getattr(mc, d)), t.type(getattr(torch, d)))
    assert_same(m.type("torch.DoubleTensor"), t.type("torch.DoubleTensor"))
    assert_same(m.type("torch.IntTensor"), t.type("torch.IntTensor"))
    assert (m.type(m.dtype) is m) == (t.type(t.dtype) is t)


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_from_torch_to_torch_roundtrip(dtype):
    t, _ = sample(dtype, (3, 4))
    m = mc.from_torch(t)
    assert_same(m, t)
    back = mc.to_torch(m)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == t.dtype and back.shape == t.shape
    assert torch.equal(back, t)
    # non-contiguous and 0-d inputs
    assert_same(mc.from_torch(t.t()), t.t())
    assert torch.equal(mc.to_torch(mc.from_torch(t.t())), t.t())
    assert_same(mc.from_torch(t[0, 0]), t[0, 0])
    assert torch.equal(mc.to_torch(to_mc(t)[1:, ::2]), t[1:, ::2])


def test_eval_synchronize():
    a = mc.ones(3) + 1
    b = a * 2
    r = mc.eval(a, b)
    assert r is None
    mc.eval()
    mc.eval(a)
    mc.synchronize()
    assert_same(b, (torch.ones(3) + 1) * 2)


def test_eval_takes_lists_and_tuples_of_tensors_and_arrays():
    """mc.eval (the C _eval, csrc/threads.c): a list or tuple argument's tensors stand for their values, beside
    tensors and mx.arrays given directly; more operands than its stack buffer holds; every one is evaluated."""
    import mlx.core as mx

    xs = [mc.ones(2) * i for i in range(12)]
    arr = mx.ones(3) * 5
    assert mc.eval(xs[0], [xs[1], xs[2]], (xs[3],), arr, *xs[4:]) is None
    assert mc.eval([]) is None
    for i, x in enumerate(xs):
        assert_same(x, torch.ones(2) * i)
    np.testing.assert_array_equal(np.array(arr), np.full(3, 5.0, dtype=np.float32))


@pytest.mark.parametrize("case", ["transposed", "conj", "neg", "expanded", "int view", "grad"])
def test_item_of_views_and_flags(case):
    """Tensor.item()'s C fast path (csrc/mxcall.c) reads the value a view or a conjugate/negative flag resolves
    to, as the reference does; values and Python types are torch's."""
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3) + 1j * torch.arange(6, dtype=torch.float32).reshape(2, 3)
    m = to_mc(t)
    pick = {
        "transposed": lambda L, x: x.real.t()[2, 1],
        "conj": lambda L, x: x.conj()[1, 2],
        "neg": lambda L, x: x.conj().imag[1, 1],
        "expanded": lambda L, x: x.real[1:2, 2:3].expand(1, 1),
        "int view": lambda L, x: x.real.to(L.int32).view(L.float32)[0, 1],
        "grad": lambda L, x: (x.real.clone().requires_grad_() * 2)[1, 0],
    }[case]
    tv, mv = pick(torch, t).item(), pick(mc, m).item()
    assert type(mv) is type(tv)
    assert mv == tv


def test_item_arguments_and_counts_raise_as_torch():
    t, m = sample("float32")
    assert_raises_same(lambda: t[0, 0].item(1), lambda: m[0, 0].item(1))
    assert_raises_same(lambda: t[0, 0].item(x=1), lambda: m[0, 0].item(x=1))
    assert_raises_same(lambda: t[:0].item(), lambda: m[:0].item())
    assert_raises_same(lambda: t[0].item(), lambda: m[0].item())


def test_item_honours_torch_function_on_subclasses():
    """item is a self-checking C method (Note [Self-checking C entries]): a subclass's __torch_function__ sees the
    call with the Tensor type's own method as func, as torch's does with Tensor.item."""
    seen = []

    class Logged(mc.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    s = mc.full((1,), 2.5).as_subclass(Logged)
    assert s.item() == 2.5
    assert seen == [mc.Tensor.item]
