"""shape and indexing ops: flips/rolls/rotations, tiling and repeating, broadcasting,
meshgrid, splitting and stacking families, atleast_*d, take/take_along_dim, the index_* family,
scatter_reduce, masked_scatter/masked_select, combinations/cartesian_prod/block_diag and the triangle
index generators.

Conventions (docs/architecture.md, "Where a new op goes"):
- Views stay views where torch's are (broadcast_to/broadcast_tensors/meshgrid use `expand`,
  tensor_split & co use `narrow`, atleast_*d use view/unsqueeze); everything else is a new tensor.
- Differentiable ops go through `mlx_op` (Note [MLX vjp fallback]) with index arrays closed over.
  scatter_reduce/index_reduce: sum/mean too; prod through a dense gather + mx.prod (MLX's scatter_prod has
  no derivative); amax/amin through torch's even-split-among-ties formula written in MLX and recorded
  through `mlx_op`, so every mode has higher-order derivatives (see `_reduce_at`).
- Index validation evaluates the index (as torch syncs there); data-dependent shapes (masked_select)
  and data-dependent layouts (masked_scatter, repeat_interleave with tensor repeats) evaluate the mask /
  repeats and compute positions with numpy.
- In-place variants compute out of place and `_commit` the result.

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py; Tensor methods are attached here,
never replacing an attribute that already exists.
"""
from __future__ import annotations

import builtins
import itertools
import sys

import mlx.core as mx
import numpy as np

from .._device_scope import warn as _warn
from .. import _C, _dtype
from .._tensor import Tensor, _int_arg, _new, _wrap_dim

__all__ = [
    "fliplr", "flipud", "roll", "rot90", "tile", "repeat_interleave", "broadcast_to", "broadcast_tensors",
    "broadcast_shapes", "meshgrid", "tensor_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
    "column_stack", "row_stack", "atleast_1d", "atleast_2d", "atleast_3d", "take", "take_along_dim", "index_add",
    "index_copy", "index_fill", "index_put", "index_reduce", "scatter_reduce", "masked_scatter", "masked_select",
    "combinations", "cartesian_prod", "block_diag", "tril_indices", "triu_indices", "narrow_copy",
]

_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
           "complex64": "ComplexFloat", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def _sname(d):
    return _SCALAR.get(d.name, d.name)


def _mlx_op(*args, **kwargs):
    from ..autograd._mlx_vjp import mlx_op

    return mlx_op(*args, **kwargs)


def _out(out, r):
    """Write r into out= (torch's structured ops here require out's dtype to be the result's)."""
    from .creation import _out as put

    if out is not None and isinstance(out, Tensor) and out.dtype is not r.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {r.dtype}, but got {out.dtype} instead")
    return put(out, r)


def _int_list(x, fname, is_dim=False):
    """An int or a sequence of ints (torch's IntArrayRef) as a list."""
    if isinstance(x, (list, tuple)):
        return [_int_arg(v, fname, is_dim) for v in x]
    return [_int_arg(x, fname, is_dim)]


def _check_tensor(x, fname, name="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _tensor_seq(tensors, fname):
    from .shape_ops import _tensors

    return _tensors(tensors, fname)


def _np(t):
    """A tensor's evaluated value as numpy (indices and masks: evaluating them is where torch syncs too)."""
    return np.array(t._mx)


def _gather_op(name, f, input, out_shape):
    """mlx_op for a gather f from `input`; when the result is empty its value (and gradient: zeros) is a
    constant, since MLX cannot scatter a gradient into a zero-size array."""
    if 0 in tuple(out_shape) or input.numel() == 0:
        dt = input.dtype._mx
        return _mlx_op(name, lambda v: mx.zeros(tuple(out_shape), dt), [input])
    return _mlx_op(name, f, [input])


def _flip_key(n, dims):
    key = [slice(None)] * n
    for d in dims:
        key[d] = slice(None, None, -1)
    return tuple(key)


def _infer_size(a, b):
    """torch's infer_size: the broadcast of two shapes, with its error."""
    a, b = tuple(a), tuple(b)
    n = builtins.max(len(a), len(b))
    out = []
    for i in builtins.range(n - 1, -1, -1):
        off = n - 1 - i
        sa = a[len(a) - 1 - off] if off < len(a) else 1
        sb = b[len(b) - 1 - off] if off < len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                               f"non-singleton dimension {i}")
        out.append(sa if sb == 1 else sb)
    return tuple(reversed(out))


# ---------------------------------------------------------------- flips, roll, rot90


def fliplr(input):
    _check_tensor(input, "fliplr")
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    key = _flip_key(input.dim(), [1])
    return _mlx_op("FlipBackward0", lambda v: v[key], [input])


def flipud(input):
    _check_tensor(input, "flipud")
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    key = _flip_key(input.dim(), [0])
    return _mlx_op("FlipBackward0", lambda v: v[key], [input])


def roll(input, shifts, dims=None):
    _check_tensor(input, "roll")
    shifts = _int_list(shifts, "roll", True)
    dims = [] if dims is None else _int_list(dims, "roll", True)
    if not shifts:
        raise RuntimeError("`shifts` required")
    n = input.dim()
    shape = tuple(input.shape)
    if not dims and len(shifts) == 1:
        def f(v):
            flat = v.reshape(-1)
            if flat.size == 0:
                return v
            return mx.roll(flat, shifts[0] % flat.size).reshape(shape)

        return _mlx_op("RollBackward0", f, [input])
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if n == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    ds = [_wrap_dim(d, n) for d in dims]

    def f(v):
        for s, d in zip(shifts, ds):
            if shape[d]:
                v = mx.roll(v, s % shape[d], axis=d)
        return v

    return _mlx_op("RollBackward0", f, [input])


def rot90(input, k=1, dims=(0, 1)):
    _check_tensor(input, "rot90")
    k = _int_arg(k, "rot90")
    dims = _int_list(dims, "rot90")
    n = input.dim()
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    if builtins.abs(dims[0] - dims[1]) in (0, n):
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    d0, d1 = _wrap_dim(dims[0], n), _wrap_dim(dims[1], n)
    k %= 4

    def f(v):
        if k == 1:
            return mx.swapaxes(v[_flip_key(n, [d1])], d0, d1)
        if k == 2:
            return v[_flip_key(n, [d0, d1])]
        if k == 3:
            return mx.swapaxes(v[_flip_key(n, [d0])], d0, d1)
        return v

    # torch returns a transposed (non-contiguous) layout for odd k; ours is contiguous (README: results of
    # non-view ops are contiguous)
    return _mlx_op("RotBackward0" if k else "CloneBackward0", f, [input])


# ---------------------------------------------------------------- tile, repeat_interleave


def tile(input, dims):
    _check_tensor(input, "tile")
    if not isinstance(dims, (list, tuple)):
        raise TypeError(f"tile(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    if dims and isinstance(dims[0], builtins.bool):
        raise TypeError("tile(): argument 'dims' (position 1) must be tuple of ints, but found element of type bool "
                        "at pos 0")
    # torch's int-list parser takes bools as ints after the first element
    dims = [builtins.int(v) if isinstance(v, builtins.bool) else _int_arg(v, "tile") for v in dims]
    if len(dims) < input.dim():
        dims = [1] * (input.dim() - len(dims)) + dims
    shape = [1] * (len(dims) - input.dim()) + list(input.shape)
    out_shape = [a * b for a, b in zip(shape, dims)]
    if builtins.any(d < 0 for d in dims):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(out_shape)}: {out_shape}")
    if builtins.any(d > 2**31 - 1 for d in out_shape):
        # MLX shapes are int32: even an empty result (torch's x.tile(0, 2**40)) cannot be represented
        raise RuntimeError(f"tile: result shape {out_shape} exceeds MLX's int32 dimension limit")
    return input.repeat(dims)


def _tile_method(self, *dims):
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return tile(self, list(dims))


def _repeat_counts(repeats):
    """numpy int64 counts from a repeats tensor, with torch's checks."""
    if repeats.dim() > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.dtype.is_floating_point or repeats.dtype.is_complex or repeats.dtype is _dtype.bool:
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_sname(repeats.dtype)}'")
    return _np(repeats).reshape(-1).astype(np.int64)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    _check_tensor(input, "repeat_interleave")
    if repeats is None:
        # torch.repeat_interleave(repeats): each index i repeated repeats[i] times
        if input.dim() != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = _repeat_counts(input)
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        r = np.repeat(np.arange(counts.size), counts)
        if output_size is not None and output_size != r.size:
            raise RuntimeError("allocated size does not match required size")
        return _new(mx.array(r).astype(input.dtype._mx), input._device_code, input.dtype)
    if isinstance(repeats, Tensor):
        counts = _repeat_counts(repeats)
    else:
        rep = _int_arg(repeats, "repeat_interleave")
        if rep < 0:
            raise RuntimeError("Repeats must be non-negative")
        counts = np.array([rep], dtype=np.int64)
    if dim is None:
        src = input.reshape(-1)
        d = 0
    else:
        if input.dim() == 0:
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        src = input
        d = _wrap_dim(dim, input.dim())
    size = src.shape[d]
    if counts.size == 1:
        counts = np.full(size, counts[0], dtype=np.int64)
    elif counts.size != size:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.size} and input.size({d}) = {size}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    idx = np.repeat(np.arange(size), counts)
    if output_size is not None and _int_arg(output_size, "repeat_interleave") != idx.size:
        raise RuntimeError("allocated size does not match required size")
    midx = mx.array(idx.astype(np.int64))
    out_shape = list(src.shape)
    out_shape[d] = idx.size
    return _gather_op("IndexSelectBackward0", lambda v: mx.take(v, midx, axis=d), src, out_shape)


# ---------------------------------------------------------------- broadcasting, meshgrid


def broadcast_to(input, size):
    _check_tensor(input, "broadcast_to")
    return input.expand(size)


def _broadcast_to_method(self, *size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    return broadcast_to(self, tuple(size))


def broadcast_shapes(*shapes):
    from .._size import Size

    dims = []
    for s in shapes:
        if isinstance(s, (list, tuple)):
            s = [_int_arg(x, "broadcast_shapes") for x in s]
        else:
            s = [_int_arg(s, "broadcast_shapes")]
        if builtins.any(x < 0 for x in s):
            raise ValueError("Attempting to broadcast a dimension with negative length!")
        dims.append(s)
    result = []
    for s in dims:
        if len(s) > len(result):
            result = [1] * (len(s) - len(result)) + result
        for i in builtins.range(1, len(s) + 1):
            a, b = result[-i], s[-i]
            if b == 1 or a == b:
                continue
            if a == 1:
                result[-i] = b
                continue
            raise RuntimeError(f"Attempting to broadcast a dimension of length {b} at {-i}! Mismatching argument "
                               f"at index {dims.index(s)} had {tuple(s)}; but expected shape should be broadcastable "
                               f"to {result}")
    return Size(result)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = _tensor_seq(list(tensors), "broadcast_tensors")
    shape = ()
    for t in ts:
        shape = _infer_size(shape, t.shape)
    return tuple(t.expand(shape) for t in ts)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = _tensor_seq(list(tensors), "meshgrid")
    if indexing is None:
        _warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
              UserWarning, stacklevel=2)
        indexing = "ij"
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    for t in ts[1:]:
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != ts[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    # as aten: for 'xy' swap the first two inputs, build the 'ij' grids, swap the first two outputs back
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[i] = -1
        grids.append(t.view(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ---------------------------------------------------------------- splitting


def _slice_bounds(a, b, size):
    """at::slice's normalization of [a, b) on a dimension of `size`."""
    a = a + size if a < 0 else a
    b = b + size if b < 0 else b
    a = builtins.min(builtins.max(a, 0), size)
    b = builtins.min(builtins.max(b, 0), size)
    return a, builtins.max(b, a)


_MAX_SECTIONS = 2**28  # torch's vector of results would be 2 GiB: far beyond any real use, and each result costs more here


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    _check_tensor(input, "tensor_split")
    arg = next((a for a in (indices_or_sections, sections, indices, tensor_indices_or_sections) if a is not None),
               None)
    if arg is None:
        raise TypeError("tensor_split() missing required argument 'indices_or_sections'")
    if input.dim() == 0:
        raise RuntimeError(f"tensor_split expected at least a 1-dimensional tensor, but got a tensor with "
                           f"{input.dim()} dims")
    if isinstance(arg, Tensor):
        if arg.dtype is not _dtype.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_sname(arg.dtype)}")
        if arg.dim() == 0:
            arg = arg.item()
        elif arg.dim() == 1:
            arg = arg.tolist()
        else:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {arg.dim()} dims")
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d]
    if isinstance(arg, (list, tuple)):
        idx = [_int_arg(i, "tensor_split") for i in arg]
        out, start = [], 0
        for i in idx + [size]:
            a, b = _slice_bounds(start, i, size)
            out.append(input.narrow(d, a, b - a))
            start = i
        return tuple(out)
    n = _int_arg(arg, "tensor_split")
    if n <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {n}")
    if n > _MAX_SECTIONS:
        # Note [Argument-bounded loops] (_ops/special.py): torch allocates its vector of n results first
        raise RuntimeError("cannot create std::vector larger than max_size()" if n > 2**60 else "std::bad_alloc")
    base, extra = divmod(size, n)
    out, start = [], 0
    for i in builtins.range(n):
        length = base + (1 if i < extra else 0)
        out.append(input.narrow(d, start, length))
        start += length
    return tuple(out)


def _dir_split(fname, min_dims, dim_of):
    def split(input, indices_or_sections):
        _check_tensor(input, fname)
        n = input.dim()
        if n < min_dims:
            raise RuntimeError(f"torch.{fname} requires a tensor with at least {min_dims} dimension, but got a "
                               f"tensor with {n} dimensions!")
        d = dim_of(n)
        if isinstance(indices_or_sections, (list, tuple)):
            return tensor_split(input, list(indices_or_sections), d)
        s = _int_arg(indices_or_sections, fname)
        size = input.shape[d]
        if s == 0 or size % s:
            raise RuntimeError(f"torch.{fname} attempted to split along dimension {d}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {s}!")
        return tensor_split(input, s, d)

    def method(self, *indices_or_sections):
        if len(indices_or_sections) == 1:
            return split(self, indices_or_sections[0])
        return split(self, list(indices_or_sections))

    split.__name__ = split.__qualname__ = fname
    method.__name__ = method.__qualname__ = fname
    return split, method


hsplit, _hsplit_method = _dir_split("hsplit", 1, lambda n: 1 if n > 1 else 0)
vsplit, _vsplit_method = _dir_split("vsplit", 2, lambda n: 0)
dsplit, _dsplit_method = _dir_split("dsplit", 3, lambda n: 2)


# ---------------------------------------------------------------- atleast_*d and the stacking family


def _atleast(fname, fn):
    def op(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(fn(t) for t in _tensor_seq(tensors[0], fname))
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                                f"({type(t).__name__}), but expected one of: (Tensor input)")
        if len(tensors) == 1:
            return fn(tensors[0])
        return tuple(fn(t) for t in tensors)

    op.__name__ = op.__qualname__ = fname
    return op


def _a1(t):
    return t.reshape(1) if t.dim() == 0 else t


def _a2(t):
    if t.dim() == 0:
        return t.reshape(1, 1)
    return t.unsqueeze(0) if t.dim() == 1 else t


def _a3(t):
    if t.dim() == 0:
        return t.reshape(1, 1, 1)
    if t.dim() == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if t.dim() == 2 else t


atleast_1d = _atleast("atleast_1d", _a1)
atleast_2d = _atleast("atleast_2d", _a2)
atleast_3d = _atleast("atleast_3d", _a3)


def _stack_inputs(tensors, fname):
    ts = _tensor_seq(tensors, fname)
    if not ts:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return ts


def hstack(tensors, *, out=None):
    from .shape_ops import cat

    ts = [_a1(t) for t in _stack_inputs(tensors, "hstack")]
    return cat(ts, 0 if ts[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    from .shape_ops import cat

    return cat([_a2(t) for t in _stack_inputs(tensors, "vstack")], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    from .shape_ops import cat

    return cat([_a3(t) for t in _stack_inputs(tensors, "dstack")], 2, out=out)


def column_stack(tensors, *, out=None):
    ts = _stack_inputs(tensors, "column_stack")
    return hstack([t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in ts], out=out)


# ---------------------------------------------------------------- take, take_along_dim


def take(input, index, *, out=None):
    _check_tensor(input, "take")
    _check_tensor(index, "take", "index", 2)
    if index.dtype is not _dtype.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_sname(index.dtype)}")
    n = input.numel()
    idx = _np(index).astype(np.int64)
    if idx.size:
        if n == 0:
            raise IndexError("take(): tried to take from an empty tensor")
        bad = idx[(idx < -n) | (idx >= n)]
        if bad.size:
            raise IndexError(f"out of range: tried to access index {bad[0]} on a tensor of {n} elements.")
    midx = mx.array(np.where(idx < 0, idx + n, idx))
    shape = tuple(index.shape)
    return _out(out, _gather_op("TakeBackward0", lambda v: mx.take(v.reshape(-1), midx.reshape(-1)).reshape(shape),
                                input, shape))


def take_along_dim(input, indices, dim=None, *, out=None):
    _check_tensor(input, "take_along_dim")
    _check_tensor(indices, "take_along_dim", "indices", 2)
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_sname(indices.dtype)}")
    from .shape_ops import gather

    if dim is None:
        return _out(out, gather(input.view(-1), 0, indices.view(-1)))  # view, as torch: non-contiguous raises
    if input.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    d = _wrap_dim(dim, input.dim())
    self_sizes = list(input.shape)
    if input.dim():
        self_sizes[d] = indices.shape[d]
    idx_b = indices.expand(_infer_size(self_sizes, indices.shape))
    idx_sizes = list(indices.shape)
    if input.dim():
        idx_sizes[d] = input.shape[d]
    inp_b = input.expand(_infer_size(idx_sizes, input.shape))
    if input.dim():  # with a dim, torch wraps negative indices once (the dim=None form does not)
        from .operators import where

        idx_b = where(idx_b < 0, idx_b + input.shape[d], idx_b)
    return _out(out, gather(inp_b, d, idx_b))


# ---------------------------------------------------------------- the index_* family


def _index_vector(index, fname, dtypes, dtype_exc, dtype_msg, vec_exc, vec_msg):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fname}(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}")
    if index.dtype not in dtypes:
        raise dtype_exc(dtype_msg)
    if index.dim() > 1:
        raise vec_exc(vec_msg)
    return _np(index).reshape(-1).astype(np.int64)


def _check_source(self, source, d, nidx, fname, same_dtype_msg, count_exc, count_msg):
    if not isinstance(source, Tensor):
        raise TypeError(f"{fname}(): argument 'source' (position 4) must be Tensor, not {type(source).__name__}")
    if source.dtype is not self.dtype:
        raise RuntimeError(same_dtype_msg)
    ss = list(source.shape) if source.dim() else [1]
    xs = list(self.shape) if self.dim() else [1]
    if source.dim() != self.dim() or builtins.any(a != b for k, (a, b) in enumerate(zip(ss, xs)) if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(self.shape)} source.shape = {list(source.shape)}")
    if ss[d] != nidx:
        raise count_exc(count_msg)


def _index_and_source(fname, input, dim, index, source):
    """(flat int64 index, wrapped dim) for index_add / index_reduce, after torch's checks of index and source
    (int32/int64 vector; source like input but along dim, one slice per index)."""
    name = fname + "_"
    idx = _index_vector(index, fname, (_dtype.int64, _dtype.int32), RuntimeError,
                        f"{name}(): Expected dtype int32/int64 for index but got: "
                        f"{_sname(index.dtype) if isinstance(index, Tensor) else ''}", IndexError,
                        f"{name}(): Index is supposed to be a vector, but got dim: "
                        f"{index.dim() if isinstance(index, Tensor) else 0} with type: "
                        f"{_sname(index.dtype) if isinstance(index, Tensor) else ''} and size: "
                        f"{list(index.shape) if isinstance(index, Tensor) else []}")
    d = _wrap_dim(dim, input.dim())
    _check_source(input, source, d, idx.size, fname,
                  f"{name}(): self ({_sname(input.dtype)}) and source ({_sname(source.dtype)}) must have "
                  f"the same scalar type" if isinstance(source, Tensor) else "", RuntimeError,
                  f"{name}(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                  f"({(source.shape[d] if source.dim() else 1) if isinstance(source, Tensor) else 0}), for dim: {d}")
    return idx, d


def _along(d, shape, idx, f):
    """g(x, s): apply f(xt, idx, st) with dim d moved to the front (x of `shape`, or 0-d as 1-d)."""
    n = len(shape)

    def g(x, s):
        if x.size == 0:  # nothing to write (and MLX cannot scatter into a zero-size array)
            return mx.array(x)
        xt = mx.moveaxis(x.reshape(shape), d, 0) if n else x.reshape(1)
        st = mx.moveaxis(s.reshape(tuple(idx.size if k == d else shape[k] for k in range(n))), d, 0) if n else \
            s.reshape(-1)
        r = f(xt, idx, st)
        return mx.moveaxis(r, 0, d).reshape(x.shape) if n else r.reshape(x.shape)

    return g


def index_add(input, dim, index, source, *, alpha=1, out=None):
    _check_tensor(input, "index_add")
    idx, d = _index_and_source("index_add", input, dim, index, source)
    size = input.shape[d] if input.dim() else 1
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        if alpha == 1:
            raise RuntimeError(f"index {bad[0]} is out of bounds for dimension {d} with size {size}")
        raise IndexError("index out of range in self")
    midx = mx.array(idx)
    g = _along(d, tuple(input.shape), midx, lambda xt, i, st: xt.at[i].add(st if alpha == 1 else st * alpha))
    return _out(out, _mlx_op("IndexAddBackward0", g, [input, source]))


def _set_rows(xt, i, st):
    y = mx.array(xt)
    y[i] = st
    return y


def index_copy(input, dim, index, source, *, out=None):
    _check_tensor(input, "index_copy")
    idx = _index_vector(index, "index_copy", (_dtype.int64,), RuntimeError,
                        f"index_copy_(): Expected a long tensor for index, but got "
                        f"{_sname(index.dtype) if isinstance(index, Tensor) else ''}", IndexError,
                        f"index_copy_(): Index should have dimension 1 or 0 (got "
                        f"{index.dim() if isinstance(index, Tensor) else 0})")
    d = _wrap_dim(dim, input.dim())
    if not isinstance(source, Tensor):
        raise TypeError(f"index_copy(): argument 'source' (position 4) must be Tensor, not {type(source).__name__}")
    ss = list(source.shape) if source.dim() else [1]
    xs = list(input.shape) if input.dim() else [1]
    if len(ss) != len(xs) or builtins.any(a != b for k, (a, b) in enumerate(zip(ss, xs)) if k != d):
        k = next((k for k, (a, b) in enumerate(zip(ss, xs)) if k != d and a != b), 0)
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                           f"slice shape: {xs[k] if k < len(xs) else 1} at dimension {k} and source slice shape: "
                           f"{ss[k] if k < len(ss) else 1} at dimension {k}.")
    if ss[d] != idx.size:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({ss[d]})")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_sname(input.dtype)} and (source) {_sname(source.dtype)}")
    size = xs[d]
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise IndexError(f"index_copy_(): index {bad[0]} is out of bounds for dimension {d} with size {size}")
    g = _along(d, tuple(input.shape), mx.array(idx), _set_rows)
    return _out(out, _mlx_op("IndexCopyBackward0", g, [input, source]))


def index_fill(input, dim, index, value):
    _check_tensor(input, "index_fill")
    idx = _index_vector(index, "index_fill", (_dtype.int64,), IndexError,
                        "index_fill_(): Expected dtype int64 for index.", RuntimeError,
                        "Index has to be a vector/scalar")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
    elif not isinstance(value, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
        raise TypeError(f"index_fill(): argument 'value' must be Number, not {type(value).__name__}")
    if not input.dtype.is_complex and (isinstance(value, builtins.complex) or
                                       (isinstance(value, Tensor) and value.dtype.is_complex)):
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d] if input.dim() else 1
    bad = idx[(idx < -size) | (idx >= size)]
    if bad.size:
        raise IndexError(f"index {bad[0]} is out of bounds for dimension {d} with size {size}")
    hit = np.zeros(size, dtype=bool)
    hit[np.where(idx < 0, idx + size, idx)] = True
    mshape = [1] * input.dim()
    if input.dim():
        mshape[d] = size
    mask = mx.array(hit.reshape(mshape))
    dt = input.dtype._mx
    if isinstance(value, Tensor):
        return _mlx_op("IndexFillBackward1", lambda x, v: mx.where(mask, v.astype(dt), x), [input, value])
    fill = mx.array(value).astype(dt)
    return _mlx_op("IndexFillBackward0", lambda x: mx.where(mask, fill, x), [input])


def index_put(input, indices, values, accumulate=False):
    _check_tensor(input, "index_put")
    if isinstance(indices, Tensor) or not isinstance(indices, (list, tuple)):
        raise TypeError(f"index_put(): argument 'indices' (position 2) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    _check_tensor(values, "index_put", "values", 3)
    if values.dtype is not input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_sname(input.dtype)} for the destination and {_sname(values.dtype)} for the source.")
    # flat positions of the selected elements: index an arange of self's shape with the same indices, so
    # bool masks, broadcasting, negative indices, bounds errors and the result layout are the indexing path's
    n = input.numel()
    positions = _new(mx.arange(n, dtype=mx.int64).reshape(tuple(input.shape)), input._device_code, _dtype.int64)
    pos = positions[tuple(indices)]
    pshape = tuple(pos.shape)
    vshape = tuple(values.shape)
    ok = len(vshape) <= len(pshape) and builtins.all(v in (1, p) for v, p in zip(reversed(vshape), reversed(pshape)))
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to indexing "
                           f"result of shape {list(pshape)}")
    p = pos._mx.reshape(-1)

    def f(x, v):
        if x.size == 0:  # no positions (an index would have failed the bounds check); MLX cannot scatter here
            return mx.array(x)
        flat = x.reshape(-1)
        vb = mx.broadcast_to(v, pshape).reshape(-1)
        if accumulate:
            return flat.at[p].add(vb).reshape(x.shape)
        y = mx.array(flat)
        y[p] = vb
        return y.reshape(x.shape)

    return _mlx_op("IndexPutBackward0", f, [input, values])


# ---------------------------------------------------------------- scatter_reduce / index_reduce


def _extreme(dt, reduce):
    """The identity of amax/amin for an MLX dtype."""
    if dt == mx.bool_:
        return reduce == "amin"
    if mx.issubdtype(dt, mx.integer):
        info = mx.iinfo(dt)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


def _reduce_dtype_check(input, reduce, include_self, index_form):
    """The dtype/mode pairs torch's CPU kernels do not implement (NotImplementedError there too)."""
    d = input.dtype
    bad = (d is _dtype.bool and reduce == "mean") or (d.is_complex and reduce in ("amax", "amin"))
    if index_form:
        bad = bad or ((d is _dtype.bool or d.is_complex) and not include_self)
    if bad:
        kernel = "index_reduce_func_exclude_input_init" if index_form and not include_self else \
            f"scatter_gather_tensor_cpu_reduce_{reduce}"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_sname(d)}'")


class _Segments:
    """Where each flattened source element goes: positions p (M,) into the flat self (N,), with the per-position
    count, the hit mask, and (for prod) the hit positions with an (H, K) table of their sources' indices,
    padded with M (an appended one). Built with numpy from the evaluated index."""

    def __init__(self, p_np, nflat, dense):
        p_np = p_np.astype(np.int64).reshape(-1)
        counts = np.bincount(p_np, minlength=nflat) if p_np.size else np.zeros(nflat, np.int64)
        self.p = mx.array(p_np)
        self.counts = mx.array(counts.astype(np.int64))
        self.hit = mx.array(counts > 0)
        self.hitpos = self.groups = None
        if dense and p_np.size:
            m = p_np.size
            order = np.argsort(p_np, kind="stable")
            hitpos, first, cnt = np.unique(p_np[order], return_index=True, return_counts=True)
            groups = np.full((hitpos.size, int(cnt.max())), m, dtype=np.int64)
            groups[np.repeat(np.arange(hitpos.size), cnt), np.arange(m) - np.repeat(first, cnt)] = order
            self.hitpos, self.groups = mx.array(hitpos.astype(np.int64)), mx.array(groups)


def _reduce_flat(xf, sf, seg, reduce, include_self):
    """The scatter-reduce of source values sf (M,) into xf (N,) along seg."""
    dt = xf.dtype
    p, hit = seg.p, seg.hit
    if reduce in ("sum", "mean"):
        base = xf if include_self else mx.where(hit, mx.array(0, dt), xf)
        total = base.at[p].add(sf)
        if reduce == "sum":
            return total
        cnt = mx.maximum(seg.counts + (1 if include_self else 0), 1).astype(dt)
        if mx.issubdtype(dt, mx.inexact):
            return total / cnt
        return mx.floor_divide(total, cnt).astype(dt)
    if reduce == "prod":
        # MLX's scatter_prod has no derivative: multiply each hit position's sources as a dense (H, K) gather
        # reduced by mx.prod, whose derivative is exact with zeros and of any order
        if seg.hitpos is None:
            return xf
        prods = mx.prod(mx.take(mx.concatenate([sf, mx.ones((1,), dt)]), seg.groups), axis=1)
        vals = mx.take(xf, seg.hitpos) * prods if include_self else prods
        return mx.where(hit, mx.zeros(xf.shape, dt).at[seg.hitpos].add(vals), xf)
    fill = mx.array(_extreme(dt, reduce)).astype(dt)
    base = xf if include_self else mx.where(hit, fill, xf)
    return base.at[p].maximum(sf) if reduce == "amax" else base.at[p].minimum(sf)


def _extremum_backward_flat(xf, sf, gf, seg, reduce, include_self):
    """torch's amax/amin scatter_reduce_backward / index_reduce_backward (FunctionsManual.cpp): the gradient
    is shared evenly among the self and source elements equal to the result."""
    dt = xf.dtype
    result = mx.stop_gradient(_reduce_flat(xf, sf, seg, reduce, include_self))
    self_is = (xf == result).astype(dt)
    src_is = (sf == result[seg.p]).astype(dt)
    dist = gf / self_is.at[seg.p].add(src_is)
    gx = self_is * dist
    if not include_self:
        gx = mx.where(seg.hit, mx.array(0, dt), gx)
    return gx, src_is * dist[seg.p]


def _reduce_at(name, input, src_t, src_key, p_np, reduce, include_self):
    """A scatter-reduce of src_t[src_key] (flattened) into input's flat positions p_np (numpy). sum/mean/prod
    are MLX-differentiable (mlx_op); amax/amin get torch's even split among ties, written in MLX and recorded
    through mlx_op, so their higher orders work too."""
    from ..autograd._derivatives import needs_grad, record

    shape = tuple(input.shape)
    if input.numel() == 0:  # nothing to reduce into (and MLX cannot scatter into a zero-size array)
        return _mlx_op(name, lambda x, s: mx.array(x), [input, src_t])
    seg = _Segments(p_np, input.numel(), reduce == "prod")

    def fwd(x, s):
        sf = (s[src_key] if src_key is not None else s).reshape(-1)
        return _reduce_flat(x.reshape(-1), sf, seg, reduce, include_self).reshape(shape)

    if reduce in ("sum", "mean", "prod"):
        return _mlx_op(name, fwd, [input, src_t])
    out = _new(fwd(input._mx, src_t._mx), input._device_code, input.dtype)
    if not input.dtype.is_floating_point:
        return out
    src_shape = tuple(src_t.shape)

    def bw_mlx(x, s, g):
        sf = (s[src_key] if src_key is not None else s).reshape(-1)
        gx, gs = _extremum_backward_flat(x.reshape(-1), sf, g.reshape(-1), seg, reduce, include_self)
        if src_key is None:
            return gx.reshape(shape), gs.reshape(src_shape)
        gsrc = mx.zeros(src_shape, s.dtype)
        return gx.reshape(shape), gsrc.at[src_key].add(gs.reshape(gsrc[src_key].shape))

    def backward(ctx, grads):
        gx, gs = _mlx_op(name + "Backward", bw_mlx, [ctx[0], ctx[1], grads[0]])
        return (gx if needs_grad(input) else None, gs if needs_grad(src_t) else None)

    record(name, backward, [input, src_t], [out], saved=[input, src_t])
    return out


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    _check_tensor(input, "scatter_reduce")
    if not isinstance(index, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}")
    _check_tensor(src, "scatter_reduce", "src", 4)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    n = input.dim()
    d = _wrap_dim(dim, n)
    if index.dim() != n and not (index.dim() <= 1 and n <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src.dim() != index.dim() and not (index.dim() <= 1 and src.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ishape = list(index.shape) if index.dim() else [1]
    xshape = list(input.shape) if n else [1]
    sshape = list(src.shape) if src.dim() else [1]
    if index.numel() and builtins.any((k != d and i > x) or i > s
                                      for k, (i, x, s) in enumerate(zip(ishape, xshape, sshape))):
        raise RuntimeError(f"Expected index {ishape} to be no larger than self {xshape} apart from dimension {d} "
                           f"and to be no larger size than src {sshape}")
    _reduce_dtype_check(input, reduce, include_self, False)
    idx = _np(index).astype(np.int64).reshape(ishape)
    size = xshape[d]
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise RuntimeError(f"index {bad.reshape(-1)[0]} is out of bounds for dimension {d} with size {size}")
    grids = list(np.indices(ishape, dtype=np.int64))
    grids[d] = idx
    p_np = np.ravel_multi_index(tuple(grids), xshape) if idx.size else np.zeros(0, np.int64)
    src_view = src if src.dim() else src.reshape(1)
    key = tuple(slice(0, s) for s in ishape)
    r = _reduce_at("ScatterReduceBackward0", input, src_view, key, p_np, reduce, include_self)
    return _out(out, r)


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    _check_tensor(input, "index_reduce")
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    idx, d = _index_and_source("index_reduce", input, dim, index, source)
    _reduce_dtype_check(input, reduce, include_self, True)
    xshape = list(input.shape) if input.dim() else [1]
    size = xshape[d]
    if ((idx < 0) | (idx >= size)).any():
        raise IndexError("index out of range in self")
    sshape = list(source.shape) if source.dim() else [1]
    grids = list(np.indices(sshape, dtype=np.int64))
    grids[d] = idx[grids[d]]
    p_np = np.ravel_multi_index(tuple(grids), xshape) if idx.size and builtins.all(sshape) else \
        np.zeros(0, np.int64)
    src_view = source if source.dim() else source.reshape(1)
    r = _reduce_at("IndexReduceBackward0", input, src_view, None, p_np, reduce, include_self)
    return _out(out, r)


# ---------------------------------------------------------------- masked_scatter, masked_select


def _check_mask(mask, msg):
    if not isinstance(mask, Tensor):
        raise TypeError(f"argument 'mask' (position 2) must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(msg)


def masked_select(input, mask, *, out=None):
    _check_tensor(input, "masked_select")
    _check_mask(mask, "masked_select: expected BoolTensor for mask")
    shape = _infer_size(input.shape, mask.shape)
    # a data-dependent shape: evaluate the mask and take the positions numpy finds
    m = np.broadcast_to(_np(mask), shape).reshape(-1)
    idx = mx.array(np.nonzero(m)[0].astype(np.int64))
    r = _gather_op("MaskedSelectBackward0", lambda v: mx.take(mx.broadcast_to(v, shape).reshape(-1), idx), input,
                   (idx.size,))
    return _out(out, r)


def masked_scatter(input, mask, source):
    return _masked_scatter(input, mask, source, False)


def _masked_scatter(input, mask, source, inplace):
    _check_tensor(input, "masked_scatter")
    _check_mask(mask, f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                      f"{_sname(mask.dtype) if isinstance(mask, Tensor) else ''}")
    _check_tensor(source, "masked_scatter", "source", 3)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_sname(input.dtype)} and {_sname(source.dtype)}")
    if inplace:
        mask = mask.expand(input.shape)
        shape = tuple(input.shape)
    else:
        shape = _infer_size(input.shape, mask.shape)
    # source elements fill the True positions in order: each position's source slot is the mask's running
    # count (evaluated with numpy, as torch syncs to check the count)
    m = np.broadcast_to(_np(mask), shape).reshape(-1)
    count = int(m.sum())
    ns = source.numel()
    if count > ns:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    mm = mx.array(m)
    slot = mx.array(np.clip(np.cumsum(m) - 1, 0, builtins.max(ns - 1, 0)).astype(np.int64))

    def f(x, s):
        if 0 in shape:
            return mx.zeros(shape, x.dtype)
        xb = mx.broadcast_to(x, shape).reshape(-1)
        if count == 0:
            return mx.broadcast_to(x, shape) + mx.zeros(shape, x.dtype)
        return mx.where(mm, mx.take(s.reshape(-1), slot), xb).reshape(shape)

    return _mlx_op("MaskedScatterBackward0", f, [input, source])


# ---------------------------------------------------------------- combinations, cartesian_prod, block_diag


def combinations(input, r=2, with_replacement=False):
    _check_tensor(input, "combinations")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    r = _int_arg(r, "combinations")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _new(mx.zeros((0,), input.dtype._mx), input._device_code, input.dtype)
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    combos = np.array(list(gen(builtins.range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    k = combos.shape[0]
    idx = mx.array(combos.reshape(-1))
    return _gather_op("IndexBackward0", lambda v: mx.take(v, idx).reshape(k, r), input, (k, r))


def cartesian_prod(*tensors):
    ts = _tensor_seq(list(tensors), "cartesian_prod")
    for t in ts:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    from .shape_ops import stack

    grids = meshgrid(ts, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


def block_diag(*tensors):
    ts = _tensor_seq(list(tensors), "block_diag")
    for i, t in enumerate(ts):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
    if not ts:
        from .creation import zeros

        return zeros(1, 0)
    rt = ts[0].dtype
    for t in ts[1:]:
        rt = _C._promote_types(rt, t.dtype)
    shapes = [(1, 1) if t.dim() == 0 else (1, t.shape[0]) if t.dim() == 1 else tuple(t.shape) for t in ts]
    cols = builtins.sum(s[1] for s in shapes)
    ins = [t if t.dtype is rt else t.to(rt) for t in ts]

    def f(*vals):
        rows, off = [], 0
        for v, (a, b) in zip(vals, shapes):
            rows.append(mx.pad(v.reshape(a, b), [(0, 0), (off, cols - off - b)]))
            off += b
        return mx.concatenate(rows, axis=0)

    return _mlx_op("BlockDiagBackward0", f, ins)


# ---------------------------------------------------------------- tril_indices / triu_indices


def _tri_indices(fname, lower, row, col, offset, dtype, device):
    row, col, offset = _int_arg(row, fname), _int_arg(col, fname), _int_arg(offset, fname)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = _dtype.int64 if dtype is None else dtype
    if dtype.is_floating_point or dtype.is_complex or dtype is _dtype.bool:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_sname(dtype)}'")
    rr, cc = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    from .creation import tensor

    return tensor(np.stack([rr, cc]).astype(np.int64).reshape(2, -1), dtype=dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False):
    return _tri_indices("tril_indices", True, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False):
    return _tri_indices("triu_indices", False, row, col, offset, dtype, device)


# ---------------------------------------------------------------- narrow_copy


def narrow_copy(input, dim, start, length, *, out=None):
    _check_tensor(input, "narrow_copy")
    view = input.narrow(dim, start, length)
    return _out(out, _mlx_op("NarrowCopyBackward0", lambda v: mx.array(v), [view]))


# ---------------------------------------------------------------- methods and in-place variants

def _index_add_(self, dim, index, source, *, alpha=1):
    return self._commit(index_add(self, dim, index, source, alpha=alpha))


def _index_copy_(self, dim, index, source):
    return self._commit(index_copy(self, dim, index, source))


def _index_fill_(self, dim, index, value):
    return self._commit(index_fill(self, dim, index, value))


def _index_put_(self, indices, values, accumulate=False):
    return self._commit(index_put(self, indices, values, accumulate))


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return self._commit(index_reduce(self, dim, index, source, reduce, include_self=include_self))


def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return self._commit(scatter_reduce(self, dim, index, src, reduce, include_self=include_self))


def _masked_scatter_(self, mask, source):
    return self._commit(_masked_scatter(self, mask, source, True))


_METHODS = {
    "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90, "tile": _tile_method,
    "repeat_interleave": repeat_interleave, "broadcast_to": _broadcast_to_method, "tensor_split": tensor_split,
    "hsplit": _hsplit_method, "vsplit": _vsplit_method, "dsplit": _dsplit_method, "take": take,
    "take_along_dim": take_along_dim, "index_add": index_add, "index_add_": _index_add_, "index_copy": index_copy,
    "index_copy_": _index_copy_, "index_fill": index_fill, "index_fill_": _index_fill_, "index_put": index_put,
    "index_put_": _index_put_, "index_reduce": index_reduce, "index_reduce_": _index_reduce_,
    "scatter_reduce": scatter_reduce, "scatter_reduce_": _scatter_reduce_,
    "masked_scatter": masked_scatter, "masked_scatter_": _masked_scatter_, "masked_select": masked_select,
    "narrow_copy": narrow_copy,
}

for _name, _fn in _METHODS.items():
    if not hasattr(Tensor, _name):  # never replace a method another module already attached
        setattr(Tensor, _name, _fn)

# never shadow a function the package already has (families are star-imported into one namespace)
_pkg = sys.modules.get(__package__)
if _pkg is not None:
    __all__ = [n for n in __all__ if n not in vars(_pkg)]
del _name, _fn, _pkg
