"""Joining, repeating and gathering ops (cat, stack, repeat, index_select, gather) and the matrix
products mm/bmm, with torch's checks and error types. Autograd for them comes with the engine."""
from __future__ import annotations

import builtins

import mlx.core as mx

from . import _C, _dtype
from ._tensor import Tensor, _new, _wrap_dim


def _tensors(tensors, fname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _common(tensors):
    d = tensors[0].dtype
    for t in tensors[1:]:
        d = _C._promote_types(d, t.dtype)
    return d


def cat(tensors, dim=0, *, out=None):
    ts = _tensors(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # torch skips legacy empty 1-D tensors of size 0
    real = [t for t in ts if not (t.dim() == 1 and t.shape[0] == 0)] or ts[:1]
    ref = real[0]
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.dim())
    for i, t in enumerate(real):
        if t.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
        for k in builtins.range(ref.dim()):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {t.shape[k]} for tensor number {i} in the list.")
    rt = _common(ts)
    r = mx.concatenate([t._mx.astype(rt._mx) for t in real], axis=d)
    return _out(out, _new(r, ref._device_code, rt))


concat = cat
concatenate = cat


def stack(tensors, dim=0, *, out=None):
    ts = _tensors(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if tuple(t.shape) != tuple(ts[0].shape):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {i}")
    d = _wrap_dim(dim, ts[0].dim() + 1)
    rt = _common(ts)
    r = mx.stack([t._mx.astype(rt._mx) for t in ts], axis=d)
    return _out(out, _new(r, ts[0]._device_code, rt))


def _out(out, r):
    from ._creation import _out as put

    return put(out, r)


def mm(input, mat2, *, out=None):
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _out(out, input.matmul(mat2))


def bmm(input, mat2, *, out=None):
    if input.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    b, n, m = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != m:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return _out(out, input.matmul(mat2))


def repeat(self, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    x = self._mx.reshape((1,) * (len(sizes) - self.dim()) + tuple(self.shape))
    r = mx.tile(x, sizes) if builtins.all(s > 0 for s in sizes) else mx.zeros(
        tuple(a * b for a, b in zip(x.shape, sizes)), dtype=x.dtype)
    return _new(r, self._device_code, self.dtype)


def _check_index(index, fname, allow_int32=True):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fname}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{fname}(): Expected dtype int32 or int64 for index")


def index_select(input, dim, index, *, out=None):
    _check_index(index, "index_select")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d] if input.dim() else 1
    idx = index._mx.reshape(-1)
    if idx.size:
        lo, hi = mx.min(idx).item(), mx.max(idx).item()
        if lo < -size or hi >= size:
            bad = hi if hi >= size else lo
            raise IndexError(f"index out of range in self")
    idx = mx.where(idx < 0, idx + size, idx)
    x = input._mx if input.dim() else input._mx.reshape(1)
    r = mx.take(x, idx, axis=d)
    if input.dim() == 0:
        r = r.reshape(())
    return _out(out, _new(r, input._device_code, input.dtype))


def gather(input, dim, index, *, sparse_grad=False, out=None):
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    d = _wrap_dim(dim, input.dim())
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in builtins.range(index.dim()):
        if k != d and index.shape[k] > input.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(index.shape)} to be no "
                               f"larger than self {list(input.shape)} apart from dimension {d}")
    size = input.shape[d] if input.dim() else 1
    idx = index._mx
    if idx.size:
        lo, hi = mx.min(idx).item(), mx.max(idx).item()
        if lo < -size or hi >= size:
            bad = hi if hi >= size else lo
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    x = input._mx
    if index.dim():
        # take_along_axis needs matching non-gather dims: slice the input down to the index's extent
        key = tuple(slice(0, index.shape[k]) if k != d else slice(None) for k in builtins.range(index.dim()))
        x = x[key]
    r = mx.take_along_axis(x, mx.where(idx < 0, idx + size, idx), axis=d) if index.dim() else x
    return _out(out, _new(r, input._device_code, input.dtype))


for _name, _fn in (("repeat", repeat), ("index_select", index_select), ("gather", gather), ("mm", mm), ("bmm", bmm)):
    setattr(Tensor, _name, _fn)
