"""__getitem__ / __setitem__ against PyTorch.

Pins: result values/shape/dtype for basic indexing (ints, negative ints,
slices with positive steps, None, Ellipsis, 0-d tensors), advanced indexing
(int tensors / lists, broadcasting index tensors, separated advanced indices
and torch's result-dimension placement, bool masks, bool scalars); whether the
result aliases the base (views for basic indexing, copies for advanced) and
strides for basic indexing; setitem with scalars, 0-d and broadcasting
tensors, dtype conversion of the value, `x[idx] += v`, writes through views;
and the exception types for negative steps, out-of-range ints / index tensors,
bad index types.
"""
import re

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, assert_same_outcome, mc, run_both, same_exc_type, torch, src_id

SHAPE = (5, 6, 7)


def base_pair(shape=SHAPE, dtype=torch.float32):
    n = int(np.prod(shape))
    xt = torch.arange(n).reshape(shape).to(dtype).clone()
    xm = mc.from_numpy(np.array(xt.numpy(), copy=True)) if dtype != torch.bfloat16 else None
    return xt, xm


def idx_id(v):
    """Stable test id (no memory addresses: xdist workers must agree)."""
    r = repr(v)
    return re.sub(r" at 0x[0-9a-f]+", "", r)[:50]


class T:
    """Index-tensor spec: built as torch / mc tensor from the same numpy array."""

    def __init__(self, data, dtype=None):
        self.arr = np.array(data, dtype=dtype)

    def __repr__(self):
        return f"T({self.arr.tolist()!r}, {self.arr.dtype})"


def conv(idx, lib):
    if isinstance(idx, tuple):
        return tuple(conv(i, lib) for i in idx)
    if isinstance(idx, T):
        return lib.from_numpy(idx.arr.copy())
    return idx


def is_basic(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    for i in items:
        if isinstance(i, (list, bool)):
            return False
        if isinstance(i, T) and not (i.arr.ndim == 0 and i.arr.dtype != np.bool_):
            return False
    return True


GET_INDICES = [
    0, -1, 4, -5, (1, 2), (1, -2, 3), (-1, -1, -1),
    slice(None), slice(1, 4), slice(None, None, 2), slice(1, None, 3), slice(-3, None), slice(-100, 100),
    slice(4, 1), slice(3, 3), (slice(None), 2), (slice(None), slice(1, 5, 2), slice(None, None, 3)),
    (Ellipsis, 1), (1, Ellipsis), (Ellipsis, slice(2, 5)), (0, Ellipsis, 0), (Ellipsis,),
    None, (None, 1), (slice(None), None, slice(None), None), (None, Ellipsis, None), (1, None, 2, None),
    (Ellipsis, None), (None, None, 0, slice(1, 3)),
    T(2, np.int64), (T(1, np.int64), slice(1, 4)), (slice(None), T(-1, np.int64)),
    # advanced: int lists / tensors
    [0, 2, 4], [-1, 0], T([[0, 1], [2, 3]], np.int64), T([0, 3, 1], np.int64), T([1, 2], np.int32),
    T([[0], [4]], np.int64), ([0, 1], [1, 2]), ([0, 1], slice(None), [2, 3]),
    (slice(None), [0, 1], [2, 3]), (slice(None), [0, 5]), (Ellipsis, [0, 6, -1]),
    (T([[0], [1]], np.int64), slice(None), T([0, 1, 2], np.int64)),  # broadcast + separated
    (1, slice(None), [0, 1]),  # int separates an advanced index -> torch moves dims first
    ([0, 1], 2, [3, 4]), (slice(1, 3), [0, 1], slice(None, None, 2)), (None, [0, 1], None, [2, 3]),
    (T([0, 1], np.int64), T([[2], [3]], np.int64)), (T(1, np.int64), [0, 2]),
    ([True, False, True, False, True],),
    # boolean masks
    T([True, False, True, True, False], np.bool_), (slice(None), T([False] * 6, np.bool_)),
    T(np.arange(30).reshape(5, 6) % 3 == 0), T(np.arange(210).reshape(5, 6, 7) % 5 == 1),
    (1, T(np.arange(42).reshape(6, 7) % 4 == 0)), (T([True, True, False, False, True]), slice(2, 4)),
    (Ellipsis, T([True, False] * 3 + [True])),
    # bool scalars
    True, False, (True, 1), (1, True, slice(1, 3)), (None, False), T(True, np.bool_), T(False, np.bool_),
]


@pytest.mark.parametrize("idx", GET_INDICES, ids=[idx_id(i) for i in GET_INDICES])
def test_getitem(idx):
    xt, xm = base_pair()
    rt, rm = assert_same_outcome(lambda: xt[conv(idx, torch)], lambda: xm[conv(idx, mc)])
    assert rt is not None, "test bug: torch rejected this index"
    shares_t = rt.untyped_storage().data_ptr() == xt.untyped_storage().data_ptr() and rt.numel() > 0
    shares_m = rm.untyped_storage().data_ptr() == xm.untyped_storage().data_ptr() and rm.numel() > 0
    assert shares_m == shares_t, "view-vs-copy differs from torch"
    if is_basic(idx):
        assert_same(rm, rt, check_stride=True)
    # mutating the result affects the base exactly as in torch
    rt.fill_(-1)
    rm.fill_(-1)
    assert_same(xm, xt)


def _rand_index(rng, shape):
    items = []
    used_ellipsis = False
    dim = 0
    nd = len(shape)
    while dim < nd and len(items) < 5:
        k = rng.integers(10)
        n = shape[dim]
        if k == 0 and not used_ellipsis:
            items.append(Ellipsis)
            used_ellipsis = True
            # Ellipsis consumes the rest minus what's left to add; stop here sometimes
            dim = nd - int(rng.integers(0, nd - dim + 1))
            continue
        if k == 1:
            items.append(None)
            continue
        if k in (2, 3):
            items.append(int(rng.integers(-n, n)))
        elif k in (4, 5, 6):
            a = rng.integers(-n - 2, n + 2) if rng.random() < 0.7 else None
            b = rng.integers(-n - 2, n + 2) if rng.random() < 0.7 else None
            s = int(rng.integers(1, 4)) if rng.random() < 0.6 else None
            items.append(slice(None if a is None else int(a), None if b is None else int(b), s))
        elif k == 7:
            m = int(rng.integers(1, 4))
            items.append([int(v) for v in rng.integers(-n, n, size=m)])
        elif k == 8:
            m = int(rng.integers(1, 4))
            items.append(T(rng.integers(-n, n, size=m), np.int64))
        else:
            items.append(T(rng.random(n) < 0.5, np.bool_))
        dim += 1
    return tuple(items)


@pytest.mark.parametrize("seed", range(60))
def test_getitem_random(seed):
    rng = np.random.default_rng(seed)
    idx = _rand_index(rng, SHAPE)
    xt, xm = base_pair()
    rt, rm = assert_same_outcome(lambda: xt[conv(idx, torch)], lambda: xm[conv(idx, mc)])
    if rt is not None and is_basic(idx):
        assert_same(rm, rt, check_stride=True)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "float64", "complex64"])
def test_getitem_dtypes(dtype):
    xt = (torch.arange(24).reshape(4, 6) % 3).to(getattr(torch, dtype))
    xm = mc.from_numpy(xt.numpy().copy())
    for idx in [1, (slice(None), 2), (T([0, 2], np.int64), slice(1, 3)), T(np.arange(24).reshape(4, 6) % 2 == 0)]:
        assert_same(xm[conv(idx, mc)], xt[conv(idx, torch)])


def test_getitem_numpy_index():
    xt, xm = base_pair()
    assert_same(xm[np.array([0, 3])], xt[np.array([0, 3])])
    assert_same(xm[np.int64(2), 1], xt[np.int64(2), 1])


@pytest.mark.parametrize("idx", [
    slice(None, None, -1), (slice(None), slice(None, None, -2)), slice(5, 0, -1), slice(None, None, 0),
], ids=["neg1", "neg2_dim1", "rev_range", "zero_step"])
def test_negative_or_zero_step_raises(idx):
    xt, xm = base_pair()
    assert_raises_same(lambda: xt[idx], lambda: xm[idx])


@pytest.mark.parametrize("idx", [
    5, -6, (0, 6), (0, 0, 7), (0, 0, -8), (1, 2, 3, 4), T([5], np.int64), T([0, -6], np.int64),
    [0, 9], (slice(None), T([6], np.int64)), (slice(None), slice(None), [7]),
    T([True, False], np.bool_), T(np.ones((5, 5), dtype=np.bool_)),
    1.0, (0, 1.5), "a", (slice(None), None, 2.0), object(), T([0.0, 1.0], np.float32),
], ids=idx_id)
def test_bad_index_raises(idx):
    xt, xm = base_pair()
    assert_raises_same(lambda: xt[conv(idx, torch)], lambda: xm[conv(idx, mc)])


def test_out_of_range_exception_types():
    # pin the exact types torch uses on CPU
    xt, xm = base_pair()
    for idx in (5, T([5], np.int64), (0, T([-9], np.int64))):
        (_, et), (_, em) = run_both(lambda: xt[conv(idx, torch)], lambda: xm[conv(idx, mc)])
        assert isinstance(et, IndexError)
        assert isinstance(em, IndexError), repr(em)


def test_zero_dim_indexing():
    xt, xm = torch.tensor(3.5), mc.tensor(3.5)
    for idx in [(), Ellipsis, None, (None, None), True, (Ellipsis, None)]:
        assert_same(xm[idx], xt[idx])
    assert_raises_same(lambda: xt[0], lambda: xm[0])


# ---------------------------------------------------------------------------
# setitem
# ---------------------------------------------------------------------------

SET_INDICES = [
    0, -1, (1, 2), (1, -2, 3), slice(1, 4), slice(None, None, 2), (slice(None), slice(1, 5, 2)),
    (Ellipsis, 1), (None, 1), (0, Ellipsis, slice(None, None, 3)), T(2, np.int64),
    [0, 2, 4], T([3, 1], np.int64), ([0, 1], slice(None), [2, 3]), (slice(None), [0, 1], [2, 3]),
    (1, slice(None), [0, 4]), T(np.arange(30).reshape(5, 6) % 3 == 0), T([True, False, True, True, False]),
    T(np.arange(210).reshape(5, 6, 7) % 5 == 1), True, (slice(None), T([False] * 6)),
]
SET_IDS = [idx_id(i) for i in SET_INDICES]


@pytest.mark.parametrize("value", [7, -2.5, True, "t0d", "t0d_int"], ids=["int", "float", "bool", "t0d", "t0d_int"])
@pytest.mark.parametrize("idx", SET_INDICES, ids=SET_IDS)
def test_setitem_scalar(idx, value):
    xt, xm = base_pair()
    if value == "t0d":
        vt, vm = torch.tensor(9.25), mc.tensor(9.25)
    elif value == "t0d_int":
        vt, vm = torch.tensor(4), mc.tensor(4)
    else:
        vt = vm = value
    # torch rejects e.g. an int64 0-d tensor value with advanced indices
    # ("Index put requires the source and destination dtypes match"): match it
    assert_same_outcome(lambda: xt.__setitem__(conv(idx, torch), vt),
                        lambda: xm.__setitem__(conv(idx, mc), vm))
    assert_same(xm, xt)


@pytest.mark.parametrize("idx", SET_INDICES, ids=SET_IDS)
def test_setitem_tensor_broadcast(idx):
    xt, xm = base_pair()
    tgt_shape = xt[conv(idx, torch)].shape
    rng = np.random.default_rng(7)
    # full shape, then trailing-dims broadcast shapes
    shapes = [tuple(tgt_shape)] + [tuple(tgt_shape[k:]) for k in range(1, len(tgt_shape) + 1)]
    shapes += [tuple(1 for _ in tgt_shape)]
    for shp in shapes:
        v = rng.standard_normal(shp).astype(np.float32)
        xt[conv(idx, torch)] = torch.from_numpy(v.copy())
        xm[conv(idx, mc)] = mc.from_numpy(v.copy())
        assert_same(xm, xt)


@pytest.mark.parametrize("xdtype,vdtype", [
    ("float32", "float64"), ("float32", "int64"), ("int64", "float32"), ("int32", "float64"),
    ("uint8", "int64"), ("bool", "float32"), ("float16", "float32"), ("float64", "bool"),
    ("complex64", "float32"), ("int16", "bool"),
], ids=src_id)
def test_setitem_value_dtype_conversion(xdtype, vdtype):
    xt = (torch.arange(20).reshape(4, 5) % 4).to(getattr(torch, xdtype))
    xm = mc.from_numpy(xt.numpy().copy())
    v = np.array([[1.75, -0.5, 3.0, 0.0, 2.9]]) if vdtype != "bool" else np.array([[True, False, True, True, False]])
    vt = torch.from_numpy(v.copy()).to(getattr(torch, vdtype))
    vm = mc.from_numpy(vt.numpy().copy())
    if xdtype.startswith(("uint", "int")) or xdtype == "bool":
        vt = vt.abs() if vt.dtype != torch.bool else vt
        vm = vm.abs() if str(vm.dtype) != "torch.bool" else vm
    xt[1:3] = vt
    xm[1:3] = vm
    assert_same(xm, xt)
    xt[0] = 2.7
    xm[0] = 2.7
    assert_same(xm, xt)


@pytest.mark.parametrize("idx", [0, (1, 2), slice(1, 4), (slice(None), 3), [0, 2], T([1, 3], np.int64),
                                 T(np.arange(30).reshape(5, 6) % 4 == 0), (Ellipsis, slice(None, None, 2))],
                         ids=idx_id)
@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_setitem_augmented(idx, op):
    xt, xm = base_pair()
    vt, vm = torch.tensor(2.5), mc.tensor(2.5)
    for x, v, lib in ((xt, vt, torch), (xm, vm, mc)):
        i = conv(idx, lib)
        if op == "+=":
            x[i] += v
        elif op == "-=":
            x[i] -= 3
        elif op == "*=":
            x[i] *= v
        else:
            x[i] /= 4
    assert_same(xm, xt)


def test_setitem_through_view_writes_base():
    xt, xm = base_pair()
    vt, vm = xt[1:, ::2].transpose(0, 2), xm[1:, ::2].transpose(0, 2)
    vt[0] = -1
    vm[0] = -1
    vt[1:3, [0, 2]] = 5.5
    vm[1:3, [0, 2]] = 5.5
    vt[vt > 100] = 0
    vm[vm > 100] = 0
    vt[..., 1] += 1000
    vm[..., 1] += 1000
    assert_same(xm, xt)
    assert_same(vm, vt, check_stride=True)


def test_setitem_shape_mismatch_raises():
    xt, xm = base_pair()
    assert_raises_same(lambda: xt.__setitem__(0, torch.zeros(5)), lambda: xm.__setitem__(0, mc.zeros(5)))
    assert_raises_same(lambda: xt.__setitem__(slice(0, 2), torch.zeros(3, 6, 7)),
                       lambda: xm.__setitem__(slice(0, 2), mc.zeros(3, 6, 7)))
    assert_raises_same(lambda: xt.__setitem__(7, 1.0), lambda: xm.__setitem__(7, 1.0))
    assert_raises_same(lambda: xt.__setitem__(torch.tensor([9]), 1.0),
                       lambda: xm.__setitem__(mc.tensor([9]), 1.0))


def test_setitem_int_tensor_float_value_truncates():
    xt = torch.zeros(5, dtype=torch.int64)
    xm = mc.zeros(5, dtype=mc.int64)
    xt[1] = 2.9
    xm[1] = 2.9
    xt[2] = -2.9
    xm[2] = -2.9
    xt[3:] = torch.tensor([7.7, -1.2])
    xm[3:] = mc.tensor([7.7, -1.2])
    assert_same(xm, xt)


def test_getitem_error_types_match_exactly():
    xt, xm = base_pair()
    for idx in (slice(None, None, -1), 10, 1.0):
        (_, et), (_, em) = run_both(lambda: xt[idx], lambda: xm[idx])
        assert et is not None and em is not None and same_exc_type(em, et), (idx, et, em)
