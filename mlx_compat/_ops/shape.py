"""Shape ops: joining (cat/concat/concatenate, stack, hstack/vstack/dstack/column_stack/row_stack), splitting
(tensor_split, hsplit/vsplit/dsplit), repeating and tiling (repeat, tile, repeat_interleave), flips, rolls and
rotations, broadcasting (broadcast_to/broadcast_tensors/broadcast_shapes), meshgrid, atleast_*d, padding
(constant_pad_nd), combinations/cartesian_prod/block_diag, narrow_copy and the triangle index generators.

Conventions (docs/architecture.md, "Where a new op goes"):
- Views stay views where torch's are (broadcast_to/broadcast_tensors/meshgrid use `expand`,
  tensor_split & co use `narrow`, atleast_*d use view/unsqueeze); everything else is a new tensor.
- Differentiable ops go through `mlx_op` (Note [MLX vjp fallback]) with index arrays closed over.
- Data-dependent layouts (repeat_interleave with tensor repeats) evaluate the repeats and compute positions
  with numpy.
- out= must have the result's dtype (`_out`), except for cat/stack, which write into out= of any dtype as
  torch.cat does (`_put`).

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py; Tensor methods are attached here,
never replacing an attribute that already exists (repeat always is).
"""
from __future__ import annotations

import builtins
import itertools
import sys

import mlx.core as mx
import numpy as np

from .._device_scope import warn as _warn
from .. import _C, _device, _dtype
from .._methods import declare, declare_methods
from .._tensor import Tensor, _int_arg, _new, _wrap_dim, _mx_evaluated
from ._common import _sname
from .creation import _out as _put  # cat/stack write out= in any dtype, as torch.cat does
from ..autograd._derivatives import register as _register
from .fast import fast_path

__all__ = [
    "fliplr", "flipud", "roll", "rot90", "tile", "repeat_interleave", "broadcast_to", "broadcast_tensors",
    "broadcast_shapes", "meshgrid", "tensor_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
    "column_stack", "row_stack", "atleast_1d", "atleast_2d", "atleast_3d", "combinations", "cartesian_prod", "block_diag", "tril_indices", "triu_indices", "narrow_copy",
    "constant_pad_nd",
]

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
    return _tensors(tensors, fname)


def _np(t):
    """A tensor's evaluated value as numpy (indices and masks: evaluating them is where torch syncs too)."""
    return np.array(_mx_evaluated(t._mx))


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
    ts = [_a1(t) for t in _stack_inputs(tensors, "hstack")]
    return cat(ts, 0 if ts[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat([_a2(t) for t in _stack_inputs(tensors, "vstack")], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    return cat([_a3(t) for t in _stack_inputs(tensors, "dstack")], 2, out=out)


def column_stack(tensors, *, out=None):
    ts = _stack_inputs(tensors, "column_stack")
    return hstack([t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in ts], out=out)


# ---------------------------------------------------------------- take, take_along_dim


# ---------------------------------------------------------------- the index_* family


# ---------------------------------------------------------------- scatter_reduce / index_reduce


# ---------------------------------------------------------------- masked_scatter, masked_select


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


def _reversed_method(self):
    """Tensor.__reversed__ (what reversed(t) returns): the tensor flipped along dim 0; a 0-dim tensor itself."""
    return self if self.dim() == 0 else self.flip(0)


_reversed_method.__name__, _reversed_method.__qualname__ = "__reversed__", "Tensor.__reversed__"

declare_methods({
    "__reversed__": _reversed_method, "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90, "tile": _tile_method,
    "repeat_interleave": repeat_interleave, "broadcast_to": _broadcast_to_method, "tensor_split": tensor_split,
    "hsplit": _hsplit_method, "vsplit": _vsplit_method, "dsplit": _dsplit_method, "narrow_copy": narrow_copy,
})

# never shadow a function the package already has (families are star-imported into one namespace)
_pkg = sys.modules.get(__package__)
if _pkg is not None:
    __all__ = [n for n in __all__ if n not in vars(_pkg)]
del _pkg


def constant_pad_nd(input, pad, value=0):
    """torch.constant_pad_nd: nn.functional.pad's constant mode (negative amounts crop)."""
    from ..nn.functional import pad as _pad

    return _pad(input, pad, "constant", value)


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
    _device.check_same_device(ref, *real)  # torch's check (cat does not move tensors between devices)
    rt = _common(ts)
    from ..autograd._mlx_vjp import mlx_op

    ins = [t if t.dtype is rt else t.to(rt) for t in real]
    return _put(out, mlx_op("CatBackward0", lambda *xs: mx.concatenate(list(xs), axis=d), ins, ref._device_code))


@_register("cat", "CatBackward0", saves=False)
def _cat_backward(ctx, grads):
    """The C fast path's derivative (csrc/shape.c): each input's slice of the gradient along dim."""
    dim, sizes = ctx[-1]
    g = grads[0]
    return (None,) * len(sizes) if g is None else tuple(g.split(list(sizes), dim))


# Note [Fast paths fall back] (csrc/fastpath.c): torch.cat is the C fast path; the function above is its
# reference, run for every other argument form and error
cat = fast_path("cat", cat)
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
    from ..autograd._mlx_vjp import mlx_op

    ins = [t if t.dtype is rt else t.to(rt) for t in ts]
    return _put(out, mlx_op("StackBackward0", lambda *xs: mx.stack(list(xs), axis=d), ins, ts[0]._device_code))


@_register("stack", "StackBackward0", saves=False)
def _stack_backward(ctx, grads):
    """The C fast path's derivative (csrc/shape.c): the gradient unbound along dim."""
    dim, _ = ctx[-1]
    return grads[0].unbind(dim)


stack = fast_path("stack", stack)  # Note [Fast paths fall back]


def repeat(self, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    from .._tensor import _int_arg

    sizes = tuple(_int_arg(s, "repeat") for s in sizes)
    if len(sizes) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    lead = (1,) * (len(sizes) - self.dim()) + tuple(self.shape)
    shape = [a * b for a, b in zip(lead, sizes)]
    if builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(s for s in shape if s < 0)}: "
                           f"{shape}")
    from ..autograd._mlx_vjp import mlx_op

    def f(v):
        x = v.reshape(lead)
        if builtins.all(s > 0 for s in sizes):
            return mx.tile(x, sizes)
        return mx.zeros(tuple(a * b for a, b in zip(x.shape, sizes)), dtype=x.dtype)

    return mlx_op("RepeatBackward0", f, [self])


declare("repeat", repeat)
