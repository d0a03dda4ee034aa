"""Ops defined through a view: the `*_copy` variants (the view's value in a fresh tensor), the `*_scatter`
ops (src embedded into a view of a copy of input), and the split/chunk variants built on views (split_with_sizes,
unsafe_split, unsafe_chunk, _chunk_cat).

Conventions:
- `*_copy` ops take the view op of the same name and copy its value into a fresh contiguous tensor through
  `mlx_op` (Note [MLX vjp fallback]): never a view, differentiable through the view's own recorded node.
- `*_scatter` ops share one helper (Note [scatter through an index view]).

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py; Tensor methods are attached at the
bottom, never replacing an attribute that already exists."""
from __future__ import annotations

import builtins

import mlx.core as mx
import numpy as np

from .._methods import declare_methods
from .._tensor import _wrap_dim, Tensor, _int_arg
from ._common import _mlx_op, _check_tensor, _out, _torch, _device_str

__all__ = ["expand_copy", "diagonal_copy", "alias_copy", "view_copy", "permute_copy", "t_copy", "transpose_copy",
           "squeeze_copy", "unsqueeze_copy", "unbind_copy", "unfold_copy", "as_strided_copy", "split_with_sizes_copy",
           "split_copy", "select_copy", "slice_copy", "detach_copy", "view_as_real_copy", "view_as_complex_copy",
           "diagonal_scatter", "select_scatter", "slice_scatter", "as_strided_scatter", "split_with_sizes",
           "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk", "_chunk_cat"]


def _copy_of(view, name):
    """A fresh contiguous tensor holding `view`'s value; gradients flow back through the view's node.
    The node is named as torch's (the view's backward with a `_copy` suffix, e.g. ExpandBackward0_copy)."""
    return _mlx_op(name, lambda v: mx.array(v), [view])


def _copy_op(name, view_fn, node):
    def fn(input, *args, out=None, **kwargs):
        _check_tensor(input, name)
        return _out(out, _copy_of(view_fn(input, *args, **kwargs), node + "_copy"))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: the result of the view op, as a fresh tensor (never a view)."
    return fn


def _expand(input, size, *, implicit=False):
    return input.expand(size)


def _view(input, size):
    """view_copy(input, size) or view_copy(input, dtype): one argument, unlike Tensor.view's varargs."""
    if isinstance(size, builtins.int):
        raise TypeError("view_copy() received an invalid combination of arguments - got (Tensor, int): size must "
                        "be a tuple of ints or a dtype")
    return input.view(size)


def _squeeze(input, dim=None):
    return input.squeeze() if dim is None else input.squeeze(dim)


def _as_strided(input, size, stride, storage_offset=None):
    return input.as_strided(size, stride, storage_offset)


expand_copy = _copy_op("expand_copy", _expand, "ExpandBackward0")


diagonal_copy = _copy_op("diagonal_copy", lambda x, offset=0, dim1=0, dim2=1: x.diagonal(offset, dim1, dim2),
                         "DiagonalBackward0")


alias_copy = _copy_op("alias_copy", lambda x: x, "AliasBackward0")


detach_copy = _copy_op("detach_copy", lambda x: x.detach(), "DetachBackward0")


view_copy = _copy_op("view_copy", _view, "ViewBackward0")


permute_copy = _copy_op("permute_copy", lambda x, dims: x.permute(dims), "PermuteBackward0")


t_copy = _copy_op("t_copy", lambda x: x.t(), "TBackward0")


transpose_copy = _copy_op("transpose_copy", lambda x, dim0, dim1: x.transpose(dim0, dim1), "TransposeBackward0")


squeeze_copy = _copy_op("squeeze_copy", _squeeze, "SqueezeBackward0")


unsqueeze_copy = _copy_op("unsqueeze_copy", lambda x, dim: x.unsqueeze(dim), "UnsqueezeBackward0")


unfold_copy = _copy_op("unfold_copy", lambda x, dimension, size, step: x.unfold(dimension, size, step),
                       "UnfoldBackward0")


as_strided_copy = _copy_op("as_strided_copy", _as_strided, "AsStridedBackward0")


select_copy = _copy_op("select_copy", lambda x, dim, index: x.select(dim, index), "SelectBackward0")


view_as_real_copy = _copy_op("view_as_real_copy", lambda x: _torch().view_as_real(x), "ViewAsRealBackward0")


view_as_complex_copy = _copy_op("view_as_complex_copy", lambda x: _torch().view_as_complex(x),
                                "ViewAsComplexBackward0")


def _slice(x, dim=0, start=None, end=None, step=1):
    d = _wrap_dim(dim, x.dim())
    idx = [builtins.slice(None)] * d + [builtins.slice(start, end, step)]
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return x[tuple(idx)]


slice_copy = _copy_op("slice_copy", _slice, "SliceBackward0")


def _copies_out(pieces, out, name):
    res = tuple(_copy_of(p, name + "_copy") for p in pieces)
    if out is None:
        return res
    if len(out) != len(res):
        raise RuntimeError(f"{name}: expected out to have {len(res)} tensors, but got {len(out)}")
    for o, r in zip(out, res):
        _out(o, r)
    return None


def unbind_copy(input, dim=0, *, out=None):
    """torch.unbind_copy: unbind's pieces as fresh tensors (a tuple; with out=, written there)."""
    _check_tensor(input, "unbind_copy")
    return _copies_out(input.unbind(dim), out, "UnbindBackward0")


def split_with_sizes_copy(input, split_sizes, dim=0, *, out=None):
    """torch.split_with_sizes_copy: split_with_sizes' pieces as fresh tensors (a list)."""
    _check_tensor(input, "split_with_sizes_copy")
    return _copies_out(input.split_with_sizes(split_sizes, dim), out, "SplitWithSizesBackward0")


def split_copy(input, split_size, dim=0, *, out=None):
    """torch.split_copy: split's pieces as fresh tensors (a list)."""
    _check_tensor(input, "split_copy")
    return _copies_out(input.split(split_size, dim), out, "SplitBackward0")


# Note [scatter through an index view]
# torch's x_scatter(input, src, ...) is `input.clone().x(...).copy_(src)` out of place. We apply the same
# view op to a tensor of flat positions (arange(numel).reshape(input.shape)): its values say where each
# element of src lands, with the view op's own argument checks and errors. numpy inverts that map once
# (position -> src element, and a mask of written positions); the result is then one MLX
# `where(mask, take(src, inverse), input)`, whose vjp sends the gradient to both inputs (the written
# positions' gradient to src, the rest to input). Overlapping as_strided positions: the last write wins.


def _scatter_via(input, src, fname, view_of, node):
    _check_tensor(input, fname)
    if not isinstance(src, Tensor):
        raise TypeError(f"{fname}(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    shape = tuple(input.shape)
    n = builtins.int(np.prod(shape)) if shape else 1
    from .creation import arange

    positions = view_of(arange(n).reshape(shape))
    if tuple(positions.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(positions.shape)}")
    pos = np.asarray(positions.numpy(), dtype=np.int64).reshape(-1)
    if src.dtype is not input.dtype:
        src = src.to(input.dtype)
    if pos.size == 0 or n == 0:
        return _copy_of(input, node)
    inverse = np.zeros(n, dtype=np.int64)
    inverse[pos] = np.arange(pos.size, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[pos] = True
    inv_mx, mask_mx = mx.array(inverse.astype(np.int32)), mx.array(mask)

    def f(x, s):
        flat = mx.where(mask_mx, mx.take(mx.reshape(s, (-1,)), inv_mx), mx.reshape(x, (-1,)))
        return mx.reshape(flat, shape)

    return _mlx_op(node, f, [input, src])


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1, *, out=None):
    """torch.diagonal_scatter: input with its diagonal (offset, dim1, dim2) replaced by src."""
    return _out(out, _scatter_via(input, src, "diagonal_scatter", lambda p: p.diagonal(offset, dim1, dim2),
                                  "DiagonalScatterBackward0"))


def select_scatter(input, src, dim, index, *, out=None):
    """torch.select_scatter: input with input.select(dim, index) replaced by src."""
    return _out(out, _scatter_via(input, src, "select_scatter", lambda p: p.select(dim, index),
                                  "SelectScatterBackward0"))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1, *, out=None):
    """torch.slice_scatter: input with the slice start:end:step of dim replaced by src."""
    return _out(out, _scatter_via(input, src, "slice_scatter", lambda p: _slice(p, dim, start, end, step),
                                  "SliceScatterBackward0"))


def as_strided_scatter(input, src, size, stride, storage_offset=None, *, out=None):
    """torch.as_strided_scatter: input (as its contiguous storage) with the strided window replaced by src."""
    return _out(out, _scatter_via(input, src, "as_strided_scatter",
                                  lambda p: p.as_strided(size, stride, storage_offset), "AsStridedScatterBackward0"))


def split_with_sizes(input, split_sizes, dim=0):
    """torch.split_with_sizes: views of input of the given sizes along dim."""
    _check_tensor(input, "split_with_sizes")
    return input.split_with_sizes(split_sizes, dim)


def unsafe_split(tensor, split_size_or_sections, dim=0):
    """torch.unsafe_split: split without autograd's in-place checks (the same pieces here)."""
    _check_tensor(tensor, "unsafe_split", "tensor")
    if isinstance(split_size_or_sections, (list, tuple)):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size_or_sections).__name__}")
    return tensor.split(split_size_or_sections, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    _check_tensor(input, "unsafe_split_with_sizes")
    return input.split_with_sizes(split_sizes, dim)


def unsafe_chunk(input, chunks, dim=0):
    """torch.unsafe_chunk: chunk without autograd's in-place checks (the same pieces here)."""
    _check_tensor(input, "unsafe_chunk")
    return input.chunk(chunks, dim)


def _chunk_cat(tensors, dim, num_chunks, *, out=None):
    """aten._chunk_cat: each tensor zero-padded along dim to a multiple of num_chunks, viewed as
    (leading dims, num_chunks, -1), and the views concatenated along dim + 1."""
    T = _torch()
    tensors = list(tensors)
    num_chunks = _int_arg(num_chunks, "_chunk_cat")
    if num_chunks < 1:
        raise RuntimeError("_chunk_cat expects positive num_chunks")
    if not tensors:
        raise RuntimeError("_chunk_cat expects a non-empty input tensor list")
    for t in tensors:
        if t.numel() == 0:
            raise RuntimeError("_chunk_cat expects non-empty tensor")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("_chunk_cat expects all input tensors with the same dtype")
    if len({t.dim() for t in tensors}) == 1:
        dim = _wrap_dim(dim, tensors[0].dim())
    else:
        if dim < 0:
            raise RuntimeError("_chunk_cat expects non-negative dim when input tensors have different ndims")
        if builtins.any(dim >= t.dim() for t in tensors):
            raise RuntimeError("_chunk_cat expects dim < ndim for all input tensors")
    lead = tuple(tensors[0].shape[:dim])
    pieces = []
    for t in tensors:
        if tuple(t.shape[:dim]) != lead:
            raise RuntimeError("_chunk_cat expects same sizes of 0,...,dim-1 dimensions for all tensors")
        size = t.shape[dim]
        padded = (size + num_chunks - 1) // num_chunks * num_chunks
        if padded != size:
            shape = list(t.shape)
            shape[dim] = padded - size
            t = T.cat([t, T.zeros(shape, dtype=t.dtype, device=_device_str(t))], dim)
        pieces.append(t.reshape(lead + (num_chunks, -1)))
    return _out(out, T.cat(pieces, dim + 1))


# Tensor methods of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({
    "unsafe_split": unsafe_split, "unsafe_split_with_sizes": unsafe_split_with_sizes, "unsafe_chunk": unsafe_chunk,
    "diagonal_scatter": diagonal_scatter, "select_scatter": select_scatter, "slice_scatter": slice_scatter,
    "as_strided_scatter": as_strided_scatter,
})
