"""Sorting, selection by order and set membership: sort/argsort/msort/topk/kthvalue, unique/unique_consecutive,
searchsorted/bucketize, isin.

Selections (sort/topk/kthvalue) compute their indices outside the differentiated function and gather with them
inside it (reduction.py's `_gather_all`/`_select`), so the gradient flows to the selected index exactly as
torch's. Sorting is stable (MLX's argsort is); NaN sorts as the largest value, as in torch. Descending order is
the ascending stable sort of the reversed input, reversed back (so equal elements keep their original order).

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py."""
from __future__ import annotations

import builtins

import mlx.core as mx
import numpy as np

from .. import _C, _dtype, return_types
from .._tensor import Tensor, _new, _wrap_dim
from ._common import _out, _torch
from .reduction import (_argsort_mx, _bool, _check_no_complex, _gather_all, _idx, _out_tuple, _x1, _int, _select,
                        _from_np, _np_values, _take_range)
from .._methods import declare_methods

__all__ = ["sort", "argsort", "topk", "kthvalue", "msort", "unique", "unique_consecutive", "searchsorted", "bucketize",
           "isin"]


def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """torch.isin: whether each element of `elements` occurs in `test_elements` (either may be a scalar)."""
    T = _torch()
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got (elements and test_elements "
                        "both scalars)")
    ref = elements if isinstance(elements, Tensor) else test_elements
    dev = ref._device_code
    rt = T.result_type(elements, test_elements)
    for v in (elements, test_elements):
        if isinstance(v, Tensor) and v.dtype.is_complex or isinstance(v, builtins.complex):
            raise RuntimeError("Unsupported input type encountered for isin(): ComplexFloat")
        if isinstance(v, Tensor) and v.dtype is _dtype.bool or isinstance(v, builtins.bool):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    e = elements._mx if isinstance(elements, Tensor) else mx.array(elements)
    t = test_elements._mx if isinstance(test_elements, Tensor) else mx.array(test_elements)
    e, t = e.astype(rt._mx), mx.reshape(t.astype(rt._mx), (-1,))
    shape = tuple(e.shape)
    if e.size == 0 or t.size == 0:
        r = mx.full(shape, builtins.bool(invert), dtype=mx.bool_)
    else:
        flat = mx.reshape(e, (-1, 1))
        chunk = builtins.max(1, (1 << 24) // builtins.max(t.size, 1))
        pieces = [mx.any(flat[i:i + chunk] == t[None, :], axis=1) for i in range(0, flat.shape[0], chunk)]
        r = mx.reshape(pieces[0] if len(pieces) == 1 else mx.concatenate(pieces), shape)
        if invert:
            r = mx.logical_not(r)
    return _out(out, _new(r, dev, _dtype.bool))


def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    _bool(descending, "sort", "descending")
    _bool(stable, "sort", "stable")
    _check_no_complex(input, "sort")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    idx = _argsort_mx(_x1(input), d, descending)
    values = _gather_all("SortBackward0", input, idx, d)
    res = return_types.sort(values, _idx(idx.reshape(()) if nd == 0 else idx, input))
    return _out_tuple(out, res, return_types.sort)


def argsort(input, dim=-1, descending=False, *, stable=False):
    _bool(descending, "argsort", "descending")
    _bool(stable, "argsort", "stable")
    _check_no_complex(input, "argsort")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    idx = _argsort_mx(_x1(input), d, descending)
    return _idx(idx.reshape(()) if nd == 0 else idx, input)


def msort(input, *, out=None):
    return _out(out, sort(input, 0).values)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    _bool(largest, "topk", "largest")
    _bool(sorted, "topk", "sorted")
    k = _int(k, "topk", "k")
    _check_no_complex(input, "topk")
    if input.dtype is _dtype.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _take_range(_argsort_mx(x, d, largest), d, 0, k)
    values = _gather_all("TopkBackward0", input, idx, d)
    res = return_types.topk(values, _idx(idx.reshape(()) if nd == 0 else idx, input))
    return _out_tuple(out, res, return_types.topk)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    _bool(keepdim, "kthvalue", "keepdim")
    k = _int(k, "kthvalue", "k")
    _check_no_complex(input, "kthvalue")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.dtype is _dtype.bool:
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    idx = _take_range(_argsort_mx(x, d), d, k - 1, k)
    return _out_tuple(out, _select("KthvalueBackward0", input, idx, d, keepdim, return_types.kthvalue),
                      return_types.kthvalue)


def _unique_result(vals, inv, cnt, like, return_inverse, return_counts):
    out = _from_np(vals, like, like.dtype)
    if not return_inverse and not return_counts:
        return out
    res = [out]
    if return_inverse:
        res.append(_from_np(inv.astype(np.int64), like, _dtype.int64))
    if return_counts:
        res.append(_from_np(cnt.astype(np.int64), like, _dtype.int64))
    return tuple(res)


def _check_unique_dims(shape, d):
    if builtins.any(n == 0 for i, n in enumerate(shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")


def _inverse_flag(v, fname):
    """torch dispatches unique on return_inverse's truth value first (a multi-element tensor: RuntimeError)."""
    if isinstance(v, Tensor):
        builtins.bool(v)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Unique values (always sorted). The output shape depends on the values, which MLX cannot express:
    computed with numpy on the evaluated input. NaNs are all distinct, as in torch."""
    _inverse_flag(return_inverse, "unique")
    for v, n in ((sorted, "sorted"), (return_inverse, "return_inverse"), (return_counts, "return_counts")):
        _bool(v, "unique", n)
    if dim is not None:
        _int(dim, "unique", "dim")
    a = _np_values(input)
    if dim is None:
        flat = a.reshape(-1)
        vals, inv, cnt = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _wrap_dim(dim, input.dim())
        _check_unique_dims(a.shape, d)
        if a.shape[d] == 0:
            vals = a
            inv = np.zeros((0,), np.int64)
            cnt = np.zeros((0,), np.int64)
        else:
            vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d, equal_nan=False)
            inv = inv.reshape(-1)
    return _unique_result(vals, inv, cnt, input, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (numpy on the evaluated input: data-dependent shape)."""
    _inverse_flag(return_inverse, "unique_consecutive")
    _inverse_flag(return_counts, "unique_consecutive")
    for v, n in ((return_inverse, "return_inverse"), (return_counts, "return_counts")):
        _bool(v, "unique_consecutive", n)
    if dim is not None:
        _int(dim, "unique_consecutive", "dim")
    a = _np_values(input)
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1]
        shape_inv = a.shape
        moved = flat
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _wrap_dim(dim, input.dim())
        _check_unique_dims(a.shape, d)
        moved = np.moveaxis(a, d, 0)
        rows = moved.reshape(moved.shape[0], -1)
        change = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else np.zeros(max(rows.shape[0] - 1, 0),
                                                                                     bool)
        shape_inv = (moved.shape[0],)
    n = moved.shape[0]
    keep = np.concatenate([np.ones(builtins.min(n, 1), bool), change])
    starts = np.nonzero(keep)[0]
    vals = moved[keep]
    if dim is not None:
        vals = np.moveaxis(vals, 0, d)
    inv = (np.cumsum(keep) - 1).reshape(shape_inv)
    cnt = np.diff(np.append(starts, n))
    return _unique_result(vals, inv, cnt, input, return_inverse, return_counts)


# Note [searchsorted as torch's binary search]: torch's kernel is a plain binary search per value, whose only
# comparison is `mid >= v` (left) or `mid > v` (right), moving right when it is false. With NaN (a NaN value, or
# the NaNs torch's sort puts last in the boundaries) or unsorted boundaries the answer depends on the path the
# search takes: [1, 2, 3, nan, nan, nan, nan] places 1.5 at 7. `_binary_search` runs the same search for every
# value at once, one gather per halving (bit_length(n) rounds), so it gives torch's index for every input; for
# sorted boundaries without NaN that is the usual insertion point. It is lazy and costs O(m log n), where the
# comparison count of the batched case cost O(m n) memory.
def _binary_search(seq, vals, right):
    """NEW MLX int64 array: torch's searchsorted index of each of `vals` (shape (..., m) matching seq's leading
    dims, or any shape for a 1-D seq) in `seq` (..., n), Note [searchsorted as torch's binary search]."""
    n = seq.shape[-1]
    one_d = seq.ndim == 1
    lo = mx.zeros(vals.shape, mx.int32)
    hi = mx.full(vals.shape, n, mx.int32)
    for _ in builtins.range(builtins.int(n).bit_length()):
        active = lo < hi
        mid = lo + ((hi - lo) >> 1)
        at = mx.minimum(mid, n - 1)
        m = mx.take(seq, at) if one_d else mx.take_along_axis(seq, at, axis=-1)
        go_right = ~(m > vals) if right else ~(m >= vals)
        lo = mx.where(active & go_right, mid + 1, lo)
        hi = mx.where(active & ~go_right, mid, hi)
    return lo.astype(mx.int64)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._mx
    if sorter is not None:
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size")
        idx = sorter._mx
        n = seq.shape[-1] if seq.ndim else 0
        # MLX gathers without bounds (an index far out of range killed the process): torch's error eagerly (while
        # MLX traces, the values cannot be read: Note [No evaluation while tracing]), indices clipped always
        bad = _C._item_or_none(mx.any((idx < 0) | (idx >= n))) if idx.size else False
        if bad:
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = mx.take_along_axis(seq, mx.clip(idx, 0, builtins.max(n - 1, 0)).astype(mx.int32), axis=-1)
    scalar = not isinstance(input, Tensor)
    vals = mx.array(input) if scalar else input._mx
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq.ndim > 1 and (scalar or vals.ndim != seq.ndim or tuple(vals.shape[:-1]) != tuple(seq.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match")
    ct = (mx.zeros((0,), seq.dtype) + mx.zeros((0,), vals.dtype)).dtype  # int64 + float32 -> float32, as torch
    if ct == mx.bool_:
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    r = _binary_search(seq.astype(ct), vals.astype(ct), right)
    like = sorted_sequence
    return _out(out, _idx(r, like, out_int32))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def _unique_method(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    return unique(self, sorted, return_inverse, return_counts, dim)


def _unique_consecutive_method(self, return_inverse=False, return_counts=False, dim=None):
    return unique_consecutive(self, return_inverse, return_counts, dim)


# Tensor methods (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({"sort": sort, "argsort": argsort, "msort": msort, "topk": topk, "kthvalue": kthvalue,
                 "unique": _unique_method, "unique_consecutive": _unique_consecutive_method})
