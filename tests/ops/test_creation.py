"""Tensor creation against PyTorch.

Pins: tensor()/as_tensor()/from_numpy() dtype inference and values (nested
lists, scalars, bools, mixed int/float/complex, numpy arrays of each dtype,
dtype=, requires_grad=); zeros/ones/full (fill-value dtype inference)/empty;
*_like; arange (int/float args, negative steps), linspace, logspace, eye;
size given as varargs, tuple, list or Size; new_* methods; random creation
(shape, dtype, ranges, rough statistics only: the RNG stream differs from
torch's) plus seeding reproducibility and Generator objects; mc.Size behaves
like torch.Size.
"""
import numpy as np
import pytest

from helpers import DTYPE_NAMES, assert_raises_same, assert_same, assert_same_outcome, mc, to_mc, torch, src_id


def _dt(lib, name):
    return None if name is None else getattr(lib, name)


TENSOR_DATA = [
    1, 2.5, True, 1 + 2j, -7, 0, [], [[]], [1, 2, 3], [1.0, 2, 3], [True, False], [True, 1], [True, 1.5],
    [1, 2j], [[1, 2], [3, 4]], [[[1.5], [2.5]], [[3.5], [4.5]]], [[1, 2.5], [3, 4]], (1, 2, 3), ((1, 2), (3, 4)),
    [2 ** 40, -(2 ** 40)], [1e30, -1e-30], [float("inf"), float("-inf")], [[True], [False]],
    [np.float32(1.5), np.float32(2.5)], [np.int32(3)], np.float64(2.0),
    list(range(-32, 32)), [2 ** 63 - 1, -(2 ** 63)], [1.0, True], [1, np.int64(2)], (0.5, 1.5),
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=[repr(d)[:40] for d in TENSOR_DATA])
def test_tensor_inference(data):
    assert_same(mc.tensor(data), torch.tensor(data), check_stride=True)


def test_flat_lists_follow_the_default_dtype():
    """A flat list of one Python number type takes a shorter path (_ops/creation.py): floats still follow
    set_default_dtype, ints and bools keep theirs."""
    old = mc.get_default_dtype()
    try:
        mc.set_default_dtype(mc.float64)
        torch.set_default_dtype(torch.float64)
        for data in ([1.5, 2.5], [3, 4], [True, False], (0.25,)):
            assert_same(mc.tensor(data), torch.tensor(data))
    finally:
        mc.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("data, dtype", [
    ([-1], "uint8"), ([-255], "uint8"), ([-256], "uint8"), ([[1, -2], [3, 4]], "uint8"), (-1, "uint8"),
    ([True, -1], "uint8"), ([300], "int8"), ([2 ** 40], "int32"), ([2 ** 62], "int32"), ([-(2 ** 63) - 1], "int32"),
    ([1e40], "int32"), ([float("nan")], "int64"), ([float("inf")], "int32"), ([2.9, -1.5], "int8"), ([-1.0], "uint8"),
    ([2 ** 63], "float32"), (2 ** 63, "float32"), ([2 ** 63], None), (2 ** 63, None), (2 ** 64, None),
    ([[2 ** 63]], None),
], ids=repr)
def test_tensor_out_of_range_values_as_torch(data, dtype):
    """torch.tensor's checked conversion: ints beyond int64 are ValueError, values outside the dtype (NaN and
    infinities for integers) RuntimeError, and an unsigned type wraps ints down to minus its maximum."""
    assert_same_outcome(lambda: torch.tensor(data, dtype=_dt(torch, dtype)),
                        lambda: mc.tensor(data, dtype=_dt(mc, dtype)))


def test_tensor_nan():
    assert_same(mc.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("data", [[1, 0, 3], [[1.5, -2.25], [0.0, 7.0]], 5, [True, False]],
                         ids=["ints", "floats2d", "scalar", "bools"])
def test_tensor_with_dtype(data, dtype):
    assert_same_outcome(lambda: torch.tensor(data, dtype=getattr(torch, dtype)),
                        lambda: mc.tensor(data, dtype=getattr(mc, dtype)), check_stride=True)


@pytest.mark.parametrize("npdtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                     np.float16, np.float32, np.float64, np.complex64])
def test_tensor_from_numpy_arrays(npdtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4)) * 10).astype(npdtype)
    assert_same(mc.tensor(a), torch.tensor(a), check_stride=True)
    assert_same(mc.as_tensor(a), torch.as_tensor(a), check_stride=True)
    assert_same(mc.from_numpy(a.copy()), torch.from_numpy(a.copy()), check_stride=True)
    assert_same(mc.tensor(a, dtype=mc.float64), torch.tensor(a, dtype=torch.float64))
    # 0-d and empty arrays
    assert_same(mc.from_numpy(a[:1, :1].reshape(()).copy()), torch.from_numpy(a[:1, :1].reshape(()).copy()))
    assert_same(mc.tensor(a[:0]), torch.tensor(a[:0]))


def test_from_numpy_noncontiguous():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2].T
    assert_same(mc.from_numpy(a), torch.from_numpy(a))
    assert_same(mc.tensor(a), torch.tensor(a), check_stride=True)


def test_tensor_from_tensor_and_requires_grad():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad == xt.requires_grad
    assert x.is_leaf == xt.is_leaf
    assert_raises_same(lambda: torch.tensor([1, 2], requires_grad=True),
                       lambda: mc.tensor([1, 2], requires_grad=True))
    y = mc.as_tensor(x)
    assert y is x  # as_tensor returns the same tensor when no conversion is needed
    z = mc.as_tensor(x, dtype=mc.float64)
    assert str(z.dtype) == "torch.float64"
    assert_same(mc.tensor(mc.tensor([3, 4])), torch.tensor(torch.tensor([3, 4])))


def test_tensor_copies_input():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = mc.tensor(a)
    a[0] = 100
    assert t.numpy()[0] == 1.0


@pytest.mark.parametrize("fn", [
    lambda L: L.zeros(2, 3), lambda L: L.zeros((2, 3)), lambda L: L.zeros([2, 3]), lambda L: L.zeros(L.Size([2, 3])),
    lambda L: L.zeros(()), lambda L: L.zeros(0, 3), lambda L: L.zeros(4, dtype=L.int32), lambda L: L.zeros(2, dtype=L.bool),
    lambda L: L.ones(3), lambda L: L.ones(2, 1, 2, dtype=L.float16), lambda L: L.ones((2,), dtype=L.complex64),
    lambda L: L.ones(2, 2, dtype=L.bfloat16),
    lambda L: L.full((2, 3), 7), lambda L: L.full((2,), 1.5), lambda L: L.full((2,), True), lambda L: L.full((2,), 1j),
    lambda L: L.full([3], 2, dtype=L.float64), lambda L: L.full((), -1), lambda L: L.full((2,), L.tensor(3.0).item()),
    lambda L: L.zeros_like(L.ones(2, 3, dtype=L.int16)), lambda L: L.ones_like(L.zeros(2, dtype=L.float64)),
    lambda L: L.full_like(L.zeros(2, dtype=L.int32), 3.7), lambda L: L.full_like(L.zeros(2), 2, dtype=L.int64),
    lambda L: L.zeros_like(L.ones(3, 4).t()),
    lambda L: L.ones_like(L.ones(2, 3), dtype=L.bool),
    lambda L: L.arange(5), lambda L: L.arange(2, 7), lambda L: L.arange(0, 10, 3), lambda L: L.arange(5, 0, -1),
    lambda L: L.arange(1.0, 2.5, 0.5), lambda L: L.arange(0, 1, 0.1), lambda L: L.arange(5.0),
    lambda L: L.arange(10, 0, -2.5), lambda L: L.arange(3, dtype=L.float64), lambda L: L.arange(0, 5, 2, dtype=L.int32),
    lambda L: L.arange(-3, 3), lambda L: L.arange(0), lambda L: L.arange(L.tensor(4)),
    lambda L: L.linspace(0, 1, 5), lambda L: L.linspace(-2, 2, 1), lambda L: L.linspace(0, 10, 5, dtype=L.int64),
    lambda L: L.linspace(1, 0, 4), lambda L: L.linspace(0, 1, 0), lambda L: L.linspace(0, 1, steps=3, dtype=L.float64),
    lambda L: L.logspace(0, 2, 3), lambda L: L.logspace(0, 3, 4, base=2), lambda L: L.logspace(-1, 1, 5, dtype=L.float64),
    lambda L: L.eye(3), lambda L: L.eye(2, 4), lambda L: L.eye(4, 2, dtype=L.int32), lambda L: L.eye(0),
    lambda L: L.eye(3, dtype=L.bool),
], ids=src_id)
def test_factories(fn):
    assert_same(fn(mc), fn(torch), check_stride=True)


@pytest.mark.parametrize("fn", [
    lambda L: L.empty(2, 3), lambda L: L.empty((4,), dtype=L.int64), lambda L: L.empty(0),
    lambda L: L.empty_like(L.ones(2, 2, dtype=L.float16)), lambda L: L.empty(L.Size([1, 2, 3]), dtype=L.bool),
    lambda L: L.zeros(3).new_empty(2, 5), lambda L: L.empty_like(L.ones(3, 4).t()),
], ids=src_id)
def test_empty_shape_dtype(fn):
    a, b = fn(mc), fn(torch)
    assert str(a.dtype) == str(b.dtype)
    assert tuple(a.shape) == tuple(b.shape)
    assert tuple(a.stride()) == tuple(b.stride())


@pytest.mark.parametrize("fn", [
    lambda L: L.arange(0, 5, 0), lambda L: L.arange(5, 0), lambda L: L.arange(0, 5, -1),
    lambda L: L.linspace(0, 1, -1), lambda L: L.eye(-1), lambda L: L.zeros(-1), lambda L: L.ones(2, -3),
    lambda L: L.full((2,), "a"), lambda L: L.zeros(2.5), lambda L: L.empty(-2),
    lambda L: L.arange(0, float("inf")),
], ids=src_id)
def test_factory_errors(fn):
    assert_raises_same(lambda: fn(torch), lambda: fn(mc))


NEW_METHODS = [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((4,)), lambda x: x.new_ones(3, dtype=x.dtype),
    lambda x: x.new_full((2,), 5), lambda x: x.new_full((2, 2), 1.5),
    lambda x: x.new_tensor([1, 2]), lambda x: x.new_tensor([[1.5]]), lambda x: x.new_tensor(3),
    lambda x: x.new_ones(2, 2).t(), lambda x: x.new_zeros([]),
]


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "float64", "int8"])
@pytest.mark.parametrize("i", range(len(NEW_METHODS)))
def test_new_methods(i, dtype):
    f = NEW_METHODS[i]
    xt = torch.ones(2, dtype=getattr(torch, dtype))
    xm = to_mc(xt)
    assert_same(f(xm), f(xt), check_stride=True)


def test_new_methods_dtype_override():
    xt, xm = torch.ones(2, dtype=torch.int32), mc.ones(2, dtype=mc.int32)
    assert_same(xm.new_zeros(3, dtype=mc.float64), xt.new_zeros(3, dtype=torch.float64))
    assert_same(xm.new_full((2,), 2.5, dtype=mc.float32), xt.new_full((2,), 2.5, dtype=torch.float32))
    assert_same(xm.new_tensor([1.5], dtype=mc.float16), xt.new_tensor([1.5], dtype=torch.float16))
    e = xm.new_empty((2, 3), dtype=mc.bool)
    assert str(e.dtype) == "torch.bool" and tuple(e.shape) == (2, 3)


# ---------------------------------------------------------------------------
# random
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda L: L.rand(2, 3), lambda L: L.rand((4,), dtype=L.float64), lambda L: L.randn(3, 2),
    lambda L: L.randn(2, dtype=L.float16), lambda L: L.randint(0, 10, (3, 4)), lambda L: L.randint(5, (6,)),
    lambda L: L.randint(-3, 3, (2,), dtype=L.int32), lambda L: L.randperm(7), lambda L: L.randperm(4, dtype=L.int32),
    lambda L: L.normal(0.0, 1.0, (3,)), lambda L: L.normal(L.zeros(4), 1.0), lambda L: L.normal(L.zeros(2, 2), L.ones(2, 2)),
    lambda L: L.rand_like(L.zeros(2, 5)), lambda L: L.randn_like(L.zeros(3, dtype=L.float64)),
    lambda L: L.randint_like(L.zeros(3, 3), 10), lambda L: L.randint_like(L.zeros(2, dtype=L.int64), 2, 8),
    lambda L: L.rand(0), lambda L: L.rand(()), lambda L: L.empty(3).uniform_(), lambda L: L.empty(3).normal_(),
    lambda L: L.bernoulli(L.full((5,), 0.5)), lambda L: L.multinomial(L.tensor([0.2, 0.8]), 3, replacement=True),
], ids=src_id)
def test_random_shape_dtype(fn):
    a, b = fn(mc), fn(torch)
    assert str(a.dtype) == str(b.dtype)
    assert tuple(a.shape) == tuple(b.shape)


def test_random_errors():
    for f in (lambda L: L.randint(5, 5, (2,)), lambda L: L.randperm(-1), lambda L: L.rand(-1),
              lambda L: L.rand_like(L.tensor([1, 2])), lambda L: L.randint(0, 5, 3)):
        assert_raises_same(lambda: f(torch), lambda: f(mc))


def test_random_value_ranges_and_stats():
    mc.manual_seed(1234)
    u = mc.rand(200000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - np.sqrt(1 / 12)) < 0.01
    n = mc.randn(200000).numpy().astype(np.float64)
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1.0) < 0.02
    r = mc.randint(-3, 7, (100000,)).numpy()
    assert r.min() == -3 and r.max() == 6
    counts = np.bincount(r + 3)
    assert counts.min() > 8000  # roughly uniform over 10 values
    p = mc.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))
    nm = mc.normal(5.0, 2.0, (100000,)).numpy().astype(np.float64)
    assert abs(nm.mean() - 5.0) < 0.05 and abs(nm.std() - 2.0) < 0.05
    nt = mc.normal(mc.full((50000,), -3.0), mc.full((50000,), 0.5)).numpy()
    assert abs(nt.mean() + 3.0) < 0.02 and abs(nt.std() - 0.5) < 0.02
    b = mc.bernoulli(mc.full((100000,), 0.3)).numpy()
    assert set(np.unique(b).tolist()) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    h = mc.rand(1000, dtype=mc.float16).float().numpy()
    assert h.min() >= 0.0 and h.max() <= 1.0


def test_manual_seed_reproducible():
    mc.manual_seed(42)
    a = [mc.rand(5).numpy(), mc.randn(3).numpy(), mc.randint(0, 100, (4,)).numpy(), mc.randperm(10).numpy()]
    mc.manual_seed(42)
    b = [mc.rand(5).numpy(), mc.randn(3).numpy(), mc.randint(0, 100, (4,)).numpy(), mc.randperm(10).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    mc.manual_seed(43)
    c = mc.rand(5).numpy()
    assert not np.array_equal(a[0], c)
    # consecutive draws differ
    assert not np.array_equal(mc.rand(5).numpy(), mc.rand(5).numpy())


def test_initial_seed():
    mc.manual_seed(7)
    torch.manual_seed(7)
    assert mc.initial_seed() == torch.initial_seed() == 7
    r = mc.manual_seed(8)
    assert r is not None  # torch returns the default Generator
    assert mc.initial_seed() == 8


def test_generator():
    g = mc.Generator()
    r = g.manual_seed(0)
    assert r is g  # torch's manual_seed returns the generator itself
    assert g.initial_seed() == torch.Generator().manual_seed(0).initial_seed()
    a = mc.rand(4, generator=g).numpy()
    g2 = mc.Generator().manual_seed(0)
    b = mc.rand(4, generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    # a generator's stream is independent of the global seed
    g3 = mc.Generator().manual_seed(0)
    mc.manual_seed(999)
    c = mc.rand(4, generator=g3).numpy()
    np.testing.assert_array_equal(a, c)
    g4 = mc.Generator().manual_seed(0)
    np.testing.assert_array_equal(mc.randn(3, generator=g4).numpy(),
                                  mc.randn(3, generator=mc.Generator().manual_seed(0)).numpy())
    s = mc.Generator().manual_seed(0)
    p1 = mc.randperm(20, generator=s).numpy()
    p2 = mc.randperm(20, generator=mc.Generator().manual_seed(0)).numpy()
    np.testing.assert_array_equal(p1, p2)
    st = g.get_state()
    x1 = mc.rand(3, generator=g).numpy()
    g.set_state(st)
    x2 = mc.rand(3, generator=g).numpy()
    np.testing.assert_array_equal(x1, x2)


def test_global_rng_state_roundtrip():
    mc.manual_seed(3)
    st = mc.get_rng_state()
    a = mc.rand(4).numpy()
    mc.set_rng_state(st)
    b = mc.rand(4).numpy()
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Size
# ---------------------------------------------------------------------------

def test_size_behaves_like_torch_size():
    s, st = mc.Size([2, 3]), torch.Size([2, 3])
    assert isinstance(s, tuple)
    assert repr(s) == repr(st) == "torch.Size([2, 3])"
    assert str(s) == str(st)
    assert s == (2, 3) and s == st
    assert s.numel() == st.numel()
    assert type(s[1:]) is type(s) and s[1:] == (3,)
    assert s[0] == 2 and len(s) == 2
    assert repr(mc.Size([])) == repr(torch.Size([]))
    assert mc.Size([]).numel() == 1
    x = mc.zeros(2, 3, 4)
    assert type(x.shape) is mc.Size and type(x.size()) is mc.Size
    assert x.size() == torch.zeros(2, 3, 4).size()
    assert x.size(1) == 3 and x.size(-1) == 4
    assert x.shape + (5,) == (2, 3, 4, 5)
    assert repr(x.shape) == repr(torch.zeros(2, 3, 4).shape)
    assert hash(s) == hash((2, 3))
    assert_raises_same(lambda: torch.Size([2, "a"]), lambda: mc.Size([2, "a"]))
    assert_raises_same(lambda: torch.zeros(2).size(1), lambda: mc.zeros(2).size(1))


@pytest.mark.parametrize("case", [
    lambda L: L.full((2,), -1, dtype=L.uint8),
    lambda L: L.full((2,), -255, dtype=L.uint8),
    lambda L: L.full((2,), 2.7, dtype=L.int64),
    lambda L: L.full((2,), -2**63, dtype=L.int64),
    lambda L: L.full((2,), True, dtype=L.int8),
    lambda L: L.tensor([1], dtype=L.int8).new_full((2,), -128),
    lambda L: L.where(L.tensor([True, False]), L.tensor([1], dtype=L.uint8), -1),
    lambda L: L.where(L.tensor([True, False]), L.tensor([1], dtype=L.uint8), True),
    lambda L: L.where(L.tensor([True, False]), L.tensor([1], dtype=L.int8), 2.5),
], ids=range(9))
def test_integer_scalars_convert_as_torch(case):
    # torch's checked_convert: a negative int wraps into an unsigned type down to minus its maximum (MLX refused
    # -1 for uint8), a float truncates into an integer type
    assert_same(case(mc), case(torch))


@pytest.mark.parametrize("case", [
    lambda L: L.arange(0, 1, 0.3, dtype=L.int64), lambda L: L.arange(0, 3, 1.5, dtype=L.int64),
    lambda L: L.arange(-0.5, 3, dtype=L.int64), lambda L: L.arange(0.7, 4.5, 1.9, dtype=L.int64),
    lambda L: L.arange(0.7, 4.5, 1.9, dtype=L.int32), lambda L: L.arange(5, 0.5, -1.5, dtype=L.int64),
    lambda L: L.arange(0, 1, 0.3, dtype=L.int32), lambda L: L.arange(-3.7, -0.2, 1.1, dtype=L.int16),
], ids=range(8))
def test_arange_of_floats_into_integers(case):
    # torch truncates start and step (int64: the end too, and counts in integers) before it counts and fills
    assert_same_outcome(lambda: case(torch), lambda: case(mc))


@pytest.mark.parametrize("case", [
    lambda L: L.randint(0, 300, (5,), dtype=L.uint8), lambda L: L.randint(-1, 5, (5,), dtype=L.uint8),
    lambda L: L.randint(0, 5, (3,), dtype=L.bool), lambda L: L.randint(-129, 5, (2,), dtype=L.int8),
    lambda L: L.randint(0, 2**31 + 1, (2,), dtype=L.int32), lambda L: L.randint(0, 2**16 + 1, (2,), dtype=L.uint16),
    lambda L: L.randperm(300, dtype=L.uint8), lambda L: L.randperm(129, dtype=L.int8),
], ids=range(8))
def test_random_integer_bounds(case):
    # a range the dtype cannot hold is torch's RuntimeError (values past it were wrapped)
    with pytest.raises(RuntimeError) as theirs:
        case(torch)
    with pytest.raises(RuntimeError) as ours:
        case(mc)
    assert str(ours.value) == str(theirs.value)


def test_random_integer_bounds_at_the_edge():
    for L in (torch, mc):
        assert L.randint(0, 256, (50,), dtype=L.uint8).dtype == L.uint8
        assert sorted(L.randperm(256, dtype=L.uint8).tolist()) == list(range(256))
        assert L.randint(0, 2, (4,), dtype=L.bool).dtype == L.bool


def test_full_ints_past_int64_into_floating_types():
    """torch reads an int up to uint64's range as a number (MLX raised std::bad_cast past int64); past it,
    torch's OverflowError."""
    for v in (2 ** 63 + 5, 2 ** 64 - 1, -2 ** 63):
        for d in ("float32", "float64", "complex64"):
            assert_same(mc.full((2,), v, dtype=getattr(mc, d)), torch.full((2,), v, dtype=getattr(torch, d)))
    for v in (2 ** 64, 2 ** 200, -2 ** 63 - 1):
        assert_raises_same(lambda: torch.full((1,), v, dtype=torch.float64),
                           lambda: mc.full((1,), v, dtype=mc.float64))


def test_float64_draws_have_float64_precision():
    """MLX draws float32 uniforms only; float64 rand/uniform_ build theirs from 53 random bits and randn/normal_
    draw float64 normals, so the values are not float32 values widened (torch's float64 draws are 53-bit)."""
    draws = {"rand": mc.rand(50000, dtype=mc.float64), "randn": mc.randn(50000, dtype=mc.float64),
             "uniform_": mc.zeros(50000, dtype=mc.float64).uniform_(-3, 5),
             "normal_": mc.zeros(50000, dtype=mc.float64).normal_(2, 3)}
    for name, t in draws.items():
        a = t.numpy()
        assert t.dtype == mc.float64
        assert np.mean(a.astype(np.float32).astype(np.float64) == a) < 0.01, name
    u = draws["rand"].numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    v = draws["uniform_"].numpy()
    assert -3 <= v.min() and v.max() < 5 and abs(v.mean() - 1) < 0.05
    assert abs(draws["normal_"].numpy().mean() - 2) < 0.05 and abs(draws["normal_"].numpy().std() - 3) < 0.05
    mc.manual_seed(5)
    first = mc.rand(4, dtype=mc.float64)
    mc.manual_seed(5)
    assert_same(mc.rand(4, dtype=mc.float64), first)
