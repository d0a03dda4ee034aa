"""torch.* functions outside the other families: *_copy variants, *_scatter, splits,
diff/gradient, cov/corrcoef, gcd/lcm, frexp/ldexp, isin, histograms, trapezoid, ....

Conventions:
- `*_copy` ops take the view op of the same name and copy its value into a fresh contiguous tensor through
  `mlx_op` (Note [MLX vjp fallback]): never a view, differentiable through the view's own recorded node.
- `*_scatter` ops share one helper (Note [scatter through an index view]).
- Compositions of the package's own differentiable ops (diff, gradient, cov, trapezoid, renorm, dist, put,
  ...) need no derivative of their own: the tape records the pieces.
- Integer-only ops whose result is data dependent (gcd/lcm, bincount, histograms, nonzero_static,
  unravel_index checks) evaluate their inputs, as torch's CPU kernels see the values.

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py; Tensor methods are attached at
the bottom, never replacing an attribute that already exists.
"""
from __future__ import annotations

import builtins
import math
import sys

import mlx.core as mx
import numpy as np

from .._device_scope import warn as _warn
from .. import _C, _dtype
from .._tensor import Tensor, _int_arg, _new, _wrap_dim

__all__ = [
    "constant_pad_nd",
    # copies
    "expand_copy", "diagonal_copy", "alias_copy", "view_copy", "permute_copy", "t_copy", "transpose_copy",
    "squeeze_copy", "unsqueeze_copy", "unbind_copy", "unfold_copy", "as_strided_copy", "split_with_sizes_copy",
    "split_copy", "select_copy", "slice_copy", "detach_copy", "view_as_real_copy", "view_as_complex_copy",
    # scatters
    "diagonal_scatter", "select_scatter", "slice_scatter", "as_strided_scatter",
    # splits
    "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk",
    # arithmetic
    "rsub", "gcd", "gcd_", "lcm", "lcm_", "frexp", "ldexp", "ldexp_",
    # numerics
    "diff", "gradient", "cov", "corrcoef", "trapz", "trapezoid", "cumulative_trapezoid", "renorm", "dist",
    # integers / indices
    "isin", "bincount", "histogram", "histogramdd", "unravel_index", "nonzero_static", "put",
    "_unsafe_masked_index", "_unsafe_masked_index_put_accumulate", "_chunk_cat",
    # creation-ish
    "scalar_tensor", "empty_strided", "empty_permuted", "fill", "fill_", "zero_", "resize_as_",
    # conjugate transposes
    "adjoint",
]


def _torch():
    return sys.modules["mlx_compat"]


def _mlx_op(*args, **kwargs):
    from ..autograd._mlx_vjp import mlx_op

    return mlx_op(*args, **kwargs)


def _out(out, r):
    from .creation import _out as put

    return put(out, r)


def _check_tensor(x, fname, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
           "complex64": "ComplexFloat", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def _sname(d):
    return _SCALAR.get(d.name, d.name)


def _device_str(t):
    return "cpu" if t._device_code == 0 else "cuda"


# ---------------------------------------------------------------- *_copy


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


# ---------------------------------------------------------------- *_scatter

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


# ---------------------------------------------------------------- splits


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


# ---------------------------------------------------------------- arithmetic


def rsub(input, other, *, alpha=1, out=None):
    """torch.rsub: other - alpha * input."""
    _check_tensor(input, "rsub")
    return _out(out, _torch().sub(other, input, alpha=alpha))


def _int_binary(fname, input, other, mx_fn):
    _check_tensor(input, fname)
    _check_tensor(other, fname, "other")
    rt = _torch().result_type(input, other)
    if rt.is_floating_point or rt.is_complex or rt is _dtype.bool:
        raise NotImplementedError(f'"{fname}_cpu" not implemented for \'{_sname(rt)}\'')
    a, b = input._mx.astype(rt._mx), other._mx.astype(rt._mx)
    shape = tuple(mx.broadcast_shapes(a.shape, b.shape))
    if math.prod(shape) == 0:
        arr = mx.zeros(shape, dtype=rt._mx)
    else:
        arr = mx_fn(mx.broadcast_to(a, shape), mx.broadcast_to(b, shape))
    return _new(arr, builtins.max(input._device_code, other._device_code), rt)


# Note [gcd by Euclid in fixed rounds]: gcd(a, b) = gcd(b, a mod b) on |a|, |b|, elementwise and lazily: each
# round maps (a, b) to (b, a mod b) where b != 0. The number of rounds Euclid needs is bounded by the dtype (its
# worst case is consecutive Fibonacci numbers), so a fixed count per dtype finishes every element with no
# evaluation in between: the op stays lazy and runs on any device.
_EUCLID_ROUNDS = {"uint8": 13, "int8": 12, "int16": 24, "int32": 47, "int64": 93, "uint16": 25, "uint32": 48,
                  "uint64": 94}


def _tmod(x, y):
    """C's remainder (truncating: the sign of x), which torch's kernels use; MLX's % takes the sign of y."""
    r = x % y
    return mx.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)


def _gcd_mx(a, b):
    """torch's calc_gcd, elementwise: a, b = |a|, |b|; while a: a, b = b % a, a; gcd = b (|int min| stays
    negative, as in C, and the remainders then follow C's signs)."""
    a, b = mx.abs(a), mx.abs(b)
    for _ in builtins.range(_EUCLID_ROUNDS.get(str(a.dtype).split(".")[-1], 93)):
        nz = a != 0
        a, b = mx.where(nz, _tmod(b, mx.where(nz, a, 1)), a), mx.where(nz, a, b)
    return b


def _lcm_mx(a, b):
    """|a / gcd * b|; for 8- and 16-bit types the product and its abs are taken in int32 and narrowed after (C's
    integer promotion in torch's kernel), so overflowing results wrap as torch's do."""
    g = _gcd_mx(a, b)
    dt = a.dtype
    wide = dt in (mx.int8, mx.int16, mx.uint8, mx.uint16)
    if wide:
        a, b, g = a.astype(mx.int32), b.astype(mx.int32), g.astype(mx.int32)
    r = mx.abs(mx.where(g == 0, 0, (a // mx.where(g == 0, 1, g)) * b))
    return r.astype(dt) if wide else r


def gcd(input, other, *, out=None):
    """torch.gcd: elementwise greatest common divisor of integer tensors (non-negative)."""
    return _out(out, _int_binary("gcd", input, other, _gcd_mx))


def lcm(input, other, *, out=None):
    """torch.lcm: elementwise least common multiple of integer tensors (non-negative)."""
    return _out(out, _int_binary("lcm", input, other, _lcm_mx))


def gcd_(input, other):
    return input.copy_(gcd(input, other))


def lcm_(input, other):
    return input.copy_(lcm(input, other))


def _return_type(name):
    """torch.return_types.<name>."""
    from .. import return_types

    return getattr(return_types, name)


def _np_values(t):
    """t's values as numpy (float16/bfloat16 through float32, which holds them exactly)."""
    a = t._mx
    if a.dtype == mx.bfloat16:
        a = a.astype(mx.float32)
    return np.array(a)


def _pow2(k, dt):
    """2.0 ** k exactly, for integer arrays k within the normal exponent range of dt (float32 or float64): the
    exponent bits assembled and reinterpreted."""
    if dt == mx.float64:
        return mx.view((k.astype(mx.int64) + 1023) << 52, mx.float64)
    return mx.view((k.astype(mx.int32) + 127) << 23, mx.float32)


def _frexp_mx(x):
    """(mantissa, exponent) with x = m * 2**e, 0.5 <= |m| < 1 (m = x, e = 0 for 0, inf, nan), subnormals included.
    e is estimated from log2 and corrected by one step either way; x is scaled by 2**-e in two exact halves."""
    dt = x.dtype
    w = x if dt in (mx.float32, mx.float64) else x.astype(mx.float32)
    special = (w == 0) | mx.isinf(w) | mx.isnan(w)
    ax = mx.where(special, 1, mx.abs(w))
    e = (mx.floor(mx.log2(ax)) + 1).astype(mx.int32)
    for _ in builtins.range(2):  # |m| in [0.5, 1): fix an estimate off by one
        h = -e // 2
        m = ax * _pow2(h, w.dtype) * _pow2(-e - h, w.dtype)
        e = mx.where(m >= 1, e + 1, mx.where(m < 0.5, e - 1, e))
    h = -e // 2
    m = w * _pow2(h, w.dtype) * _pow2(-e - h, w.dtype)
    m = mx.where(special, w, m)
    e = mx.where(special, 0, e)
    return m.astype(dt), e


def frexp(input, *, out=None):
    """torch.frexp: input = mantissa * 2**exponent, |mantissa| in [0.5, 1); exponent int32. Computed with MLX ops
    (exact: powers of two from exponent bits), lazily; the mantissa's derivative is torch's grad / 2**exponent,
    recorded with package ops so it is differentiable again."""
    _check_tensor(input, "frexp")
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    dev = input._device_code
    if input.numel() == 0:
        mant_mx, exp_mx = mx.zeros(input.shape, dtype=input.dtype._mx), mx.zeros(input.shape, dtype=mx.int32)
    else:
        mant_mx, exp_mx = _frexp_mx(input._mx)
    mantissa = _new(mant_mx, dev, input.dtype)
    exponent = _new(exp_mx, dev, _dtype.int32)
    from ..autograd._derivatives import record

    compute = input.dtype if input.dtype.itemsize >= 4 else _dtype.float32

    def backward(ctx, grads):
        g = grads[0]
        return ((g.to(compute) / exponent.to(compute).exp2()).to(input.dtype),)

    record("FrexpBackward0", backward, [input], [mantissa])
    res = _return_type("frexp")(mantissa, exponent)
    if out is not None:
        _out(out[0], res.mantissa)
        _out(out[1], res.exponent)
        return _return_type("frexp_out")(out[0], out[1])
    return res


def ldexp(input, other, *, out=None):
    """torch.ldexp: input * 2**other, in the operands' promoted type (the default float type for integers)."""
    _check_tensor(input, "ldexp")
    _check_tensor(other, "ldexp", "other")
    T = _torch()
    rt = T.result_type(input, other)
    if not (rt.is_floating_point or rt.is_complex):
        rt = _C._get_default_dtype()
    return _out(out, T.mul(input.to(rt), T.pow(2.0, other.to(rt))))


def ldexp_(input, other):
    T = _torch()
    return input.mul_(T.pow(2.0, other))


# ---------------------------------------------------------------- numerics


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """torch.diff: the n-th forward difference along dim (logical xor for bool), after prepend/append."""
    _check_tensor(input, "diff")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = _int_arg(n, "diff")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.dim())
    T = _torch()
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
            if extra.dim() != input.dim():
                raise RuntimeError(f"diff expects {name} or append to be the same dimension as input")
    x = input
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [input] + ([append] if append is not None else [])
        x = T.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = T.logical_xor(hi, lo) if x.dtype is _dtype.bool else hi - lo
    if n == 0:
        x = x.clone()
    return _out(out, x)


def _gradient_dims(input, dim):
    nd = input.dim()
    if dim is None:
        return list(range(nd))
    if isinstance(dim, (list, tuple)):
        dims = [_wrap_dim(_int_arg(x, "gradient", is_dim=True), nd) for x in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("dim " + str(dims[0]) + " appears multiple times in the list of dims")
        return dims
    return [_wrap_dim(_int_arg(dim, "gradient", is_dim=True), nd)]


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """torch.gradient: central differences inside, one-sided (edge_order 1 or 2) at the ends; spacing a
    scalar, a list of scalars (one per dim) or a list of coordinate tensors. Returns a tuple."""
    _check_tensor(input, "gradient")
    if input.dtype is _dtype.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if input.dtype is _dtype.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _gradient_dims(input, dim)
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (list, tuple)):
        spacing = list(spacing)
        tensors = [isinstance(h, Tensor) for h in spacing]
        if builtins.any(tensors) and not builtins.all(tensors):
            raise TypeError(f"expected Tensor as element {tensors.index(False)} in argument 1, but got "
                            f"{type(spacing[tensors.index(False)]).__name__}")
        if builtins.any(tensors) and builtins.any(h.dim() != 1 for h in spacing):
            bad = next(h.dim() for h in spacing if h.dim() != 1)
            raise RuntimeError(f"torch.gradient expected each element of spacing to have one dimension, but got an "
                               f"element with {bad} dimensions!")
        if len(spacing) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments "
                f"to have the same length, but got a spacing argument of length {len(spacing)} and a dim "
                f"argument of length {len(dims)}.")
    else:
        if isinstance(spacing, Tensor) and spacing.dim() != 0:
            raise TypeError("gradient() received an invalid combination of arguments - got (Tensor, spacing=Tensor): "
                            "spacing must be a number, a 0-d tensor or a list")
        spacing = [spacing] * len(dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    out = []
    for d, h in zip(dims, spacing):
        if isinstance(h, Tensor) and h.dim() == 1:
            out.append(_gradient_coords(input, h, d, edge_order))
        else:
            if isinstance(h, Tensor):
                h = h.item()
            out.append(_gradient_uniform(input, h, d, edge_order))
    return tuple(out)


def _as_float(x):
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(_C._get_default_dtype())


def _gradient_uniform(f, h, d, edge_order):
    T = _torch()
    f = _as_float(f)
    n = f.shape[d]
    nar = f.narrow
    interior = (nar(d, 2, n - 2) - nar(d, 0, n - 2)) / (2.0 * h)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / h
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / h
    else:
        first = (nar(d, 0, 1) * -1.5 + nar(d, 1, 1) * 2.0 - nar(d, 2, 1) * 0.5) / h
        last = (nar(d, n - 3, 1) * 0.5 - nar(d, n - 2, 1) * 2.0 + nar(d, n - 1, 1) * 1.5) / h
    return T.cat([first, interior, last], d)


def _gradient_coords(f, x, d, edge_order):
    T = _torch()
    f = _as_float(f)
    n = f.shape[d]
    shape = [1] * f.dim()
    shape[d] = -1
    dx = (x[1:] - x[:-1])
    dx = _as_float(dx)
    dx1, dx2 = dx[:-1].reshape(shape), dx[1:].reshape(shape)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    nar = f.narrow
    interior = a * nar(d, 0, n - 2) + b * nar(d, 1, n - 2) + c * nar(d, 2, n - 2)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / dx[0]
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / dx[-1]
    else:
        p, q = dx[0], dx[1]
        first = (nar(d, 0, 1) * (-(2.0 * p + q) / (p * (p + q))) + nar(d, 1, 1) * ((p + q) / (p * q))
                 + nar(d, 2, 1) * (-p / (q * (p + q))))
        p, q = dx[-2], dx[-1]
        last = (nar(d, n - 3, 1) * (q / (p * (p + q))) + nar(d, n - 2, 1) * (-(p + q) / (p * q))
                + nar(d, n - 1, 1) * ((2.0 * q + p) / (q * (p + q))))
    return T.cat([first, interior, last], d)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """torch.cov: covariance of the rows (variables) over the columns (observations), with frequency and
    observation weights, as ATen's Correlation.cpp."""
    _check_tensor(input, "cov")
    T = _torch()
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    num_obs = x.shape[1]
    if fweights is not None:
        if fweights.dim() > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got fweights with "
                               f"{fweights.dim()} dimensions")
        if fweights.dtype.is_floating_point or fweights.dtype.is_complex:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_sname(fweights.dtype)} dtype")
        if fweights.numel() != num_obs:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are observations in the "
                               f"input but got {fweights.numel()} != {num_obs}")
        if num_obs > 0 and builtins.bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
    if aweights is not None:
        if aweights.dim() > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got aweights with "
                               f"{aweights.dim()} dimensions")
        if not aweights.dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_sname(aweights.dtype)} dtype")
        if aweights.numel() != num_obs:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are observations in the "
                               f"input but got {aweights.numel()} != {num_obs}")
        if num_obs > 0 and builtins.bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
    w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = T.tensor(num_obs, dtype=_dtype.int64)
        avg = T.true_divide(x.sum(1), num_obs) if num_obs else T.true_divide(x.sum(1), 0.0)
    else:
        w_sum = w.sum()
        avg = T.true_divide((x * w).sum(1), w_sum)
    if w is not None and correction != 0:
        if aweights is not None:
            norm_factor = w_sum - T.true_divide(correction * (w * aweights).sum(), w_sum)
        else:
            norm_factor = w_sum - correction
    else:
        norm_factor = w_sum - correction
    if builtins.bool(norm_factor <= 0):
        _warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
              "observations.")
        norm_factor = T.zeros_like(norm_factor)
    x = x - avg.unsqueeze(1)
    xw = x * w if w is not None else x
    c = T.mm(x, xw.t().conj())
    return T.true_divide(c, norm_factor).squeeze()


def corrcoef(input):
    """torch.corrcoef: Pearson correlation coefficients, clipped to [-1, 1]."""
    _check_tensor(input, "corrcoef")
    T = _torch()
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    stddev = T.sqrt(T.real(d) if d.dtype.is_complex else d)
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    if c.dtype.is_complex:
        return T.complex(T.real(c).clip(-1, 1), T.imag(c).clip(-1, 1))
    return c.clip(-1, 1)


def _zeros_except(y, d):
    shape = [s for i, s in enumerate(y.shape) if i != d]
    return _torch().zeros(shape, dtype=y.dtype, device=_device_str(y))


def _trapz_x_dx(y, x, d):
    if x.dtype is _dtype.bool or y.dtype is _dtype.bool:
        raise RuntimeError("trapezoid: received a bool input for `x` or `y`, but bool is not supported")
    if x.dim() == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[d] = x.shape[0]
        xv = x.reshape(shape)
    elif x.dim() < y.dim():
        xv = x.reshape([1] * (y.dim() - x.dim()) + list(x.shape))
    else:
        xv = x
    m = xv.shape[d]
    return xv.narrow(d, 1, m - 1) - xv.narrow(d, 0, m - 1)


def _check_dx(dx):
    """dx as a Python number (a 0-d tensor converts, as torch's Number arguments do)."""
    if isinstance(dx, Tensor):
        if dx.dim() != 0:
            raise TypeError("trapezoid(): argument 'dx' must be Number, not Tensor")
        dx = dx.item()
    if isinstance(dx, (builtins.bool, builtins.complex)):
        raise RuntimeError("trapezoid: Currently, we only support dx as a real number.")
    return dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.trapezoid: the trapezoid rule along dim, with sample points x or a constant spacing dx."""
    _check_tensor(y, "trapezoid", "y")
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got both x and dx")
    d = _wrap_dim(dim, y.dim()) if y.dim() else _wrap_dim(dim, 1)
    if y.dim() == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    if isinstance(x, Tensor):
        if y.shape[d] == 0:
            return _zeros_except(y, d)
        step = _trapz_x_dx(y, x, d)
        n = y.shape[d]
        return ((step * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))) / 2.0).sum(d)
    if x is not None:
        raise TypeError(f"trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a Tensor (or use dx=)")
    dx = _check_dx(1 if dx is None else dx)
    if y.shape[d] == 0:
        return _zeros_except(y, d)
    if y.dtype is _dtype.bool:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    n = y.shape[d]
    return (y.sum(d) - (y.select(d, 0) + y.select(d, n - 1)) * 0.5) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    """torch.trapz: trapezoid's older name (trapz(y, x, *, dim) or trapz(y, *, dx=1, dim))."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.cumulative_trapezoid: the running trapezoid rule along dim (one fewer element)."""
    _check_tensor(y, "cumulative_trapezoid", "y")
    if y.dim() == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    d = _wrap_dim(dim, y.dim())
    n = y.shape[d]
    if isinstance(x, Tensor):
        step = _trapz_x_dx(y, x, d)
        if n == 0:
            return y.narrow(d, 0, 0).clone()
        return (step / 2.0 * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).cumsum(d)
    if x is not None:
        raise TypeError(f"cumulative_trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a Tensor (or use dx=)")
    dx = _check_dx(1 if dx is None else dx)
    if y.dtype is _dtype.bool:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    if n == 0:
        return y.narrow(d, 0, 0).clone()
    return (dx / 2.0 * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).cumsum(d)


def renorm(input, p, dim, maxnorm, *, out=None):
    """torch.renorm: each slice along dim whose p-norm exceeds maxnorm scaled to norm maxnorm."""
    _check_tensor(input, "renorm")
    T = _torch()
    if isinstance(p, builtins.complex):
        raise RuntimeError("renorm: p must be real-valued")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if isinstance(maxnorm, builtins.complex):
        raise RuntimeError("renorm: maxnorm must be real-valued")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f'"renorm_out" not implemented for \'{_sname(input.dtype)}\'')
    d = _wrap_dim(dim, input.dim())
    reduce_dims = [i for i in range(input.dim()) if i != d]
    acc = input.dtype if input.dtype.itemsize >= 4 or input.dtype.is_complex else _dtype.float32
    norm = T.linalg.vector_norm(input.to(acc) if acc is not input.dtype else input, p, reduce_dims, keepdim=True)
    factor = T.where(norm > maxnorm, maxnorm / (norm + 1e-7), T.ones_like(norm))
    if factor.dtype is not input.dtype and not input.dtype.is_complex:
        factor = factor.to(input.dtype)
    return _out(out, input * factor)


def renorm_(input, p, dim, maxnorm):
    return input.copy_(renorm(input, p, dim, maxnorm))


def dist(input, other, p=2):
    """torch.dist: the p-norm of input - other (broadcast)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist", "other")
    T = _torch()
    diff_ = input - other
    if not (diff_.dtype.is_floating_point or diff_.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_sname(diff_.dtype)}")
    return T.linalg.vector_norm(diff_, p)


# ---------------------------------------------------------------- integers and indices


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


def bincount(input, weights=None, minlength=0):
    """torch.bincount: counts (or summed weights) of each non-negative integer in a 1-D tensor."""
    _check_tensor(input, "bincount")
    minlength = _int_arg(minlength, "bincount")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is _dtype.bool:
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_sname(input.dtype)}\'')
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is None:
        out_dtype = _dtype.int64
    elif weights.dtype in (_dtype.float32, _dtype.float64):
        out_dtype = weights.dtype
    else:
        out_dtype = _dtype.float64
    n = input.shape[0]
    T = _torch()
    if n == 0:
        return T.zeros(minlength, dtype=out_dtype, device=_device_str(input))
    idx = input._mx.astype(mx.int64)
    lo, hi = mx.min(idx).item(), mx.max(idx).item()
    if lo < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = builtins.max(hi + 1, minlength)
    vals = mx.ones((n,), dtype=out_dtype._mx) if weights is None else weights._mx.astype(out_dtype._mx)
    r = mx.zeros((size,), dtype=out_dtype._mx).at[idx].add(vals)
    return _new(r, input._device_code, out_dtype)


def _hist_edges_np(t):
    return np.asarray(_np_values(t)).reshape(-1)


def _histogramdd_impl(fname, points, bins, range_, weight, density):
    """points: (N, D) Tensor. Returns (hist Tensor, [edge Tensors]) as torch's histogramdd kernel:
    bin i holds edges[i] <= x < edges[i+1], the last bin also its right edge; points outside are dropped."""
    T = _torch()
    dt = points.dtype
    if dt not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f'"histogramdd" not implemented for \'{_sname(dt)}\'')
    n_pts, D = points.shape
    dev = _device_str(points)
    pts = _np_values(points).reshape(n_pts, D)
    if weight is not None:
        if tuple(weight.shape) != (n_pts,) and weight.numel() != n_pts:
            raise RuntimeError(f"torch.{fname}: if weight tensor is provided it should have the same shape as "
                               f"the input tensor excluding its innermost dimension")
        if weight.dtype is not dt:
            raise RuntimeError(f"torch.{fname}: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype")
        w = _np_values(weight).reshape(-1).astype(np.float64)
    else:
        w = None
    edges = []
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor) or isinstance(bins, Tensor):
        seq = [bins] if isinstance(bins, Tensor) else list(bins)
        if len(seq) != D:
            raise RuntimeError(f"torch.{fname}: expected {D} sequences of bin edges for each of the {D} input "
                               f"dimensions, but got {len(seq)} bin edge sequences.")
        for e in seq:
            if e.dim() != 1:
                raise RuntimeError(f"torch.{fname}: bins tensor should have one dimension, but got {e.dim()} "
                                   f"dimensions in the bins tensor")
            if e.numel() < 1:
                raise RuntimeError(f"torch.{fname}: bins tensor should have at least 1 element, but got "
                                   f"{e.numel()} elements")
            if e.numel() < 2:
                raise RuntimeError(f"torch.{fname}(): bins must be > 0, but got 0 for dimension {len(edges)}")
            if e.dtype is not dt:
                raise RuntimeError(f"torch.{fname}: input tensor and bins tensors should have the same dtype, but "
                                   f"got input {_sname(dt)} and bins {_sname(e.dtype)}")
            edges.append(e.clone())
        if range_ is not None:
            raise RuntimeError(f"torch.{fname}: range cannot be specified when bin edges are given")
    else:
        counts = [bins] * D if not isinstance(bins, (list, tuple)) else list(bins)
        if len(counts) != D:
            raise RuntimeError(f"torch.{fname}: expected {D} sequences of bin edges for each of the {D} input "
                               f"dimensions, but got {len(counts)} bin edge sequences.")
        counts = [_int_arg(c, fname) for c in counts]
        for c in counts:
            if c <= 0:
                raise RuntimeError(f"torch.{fname}(): bins must be > 0, but got {c} for dimension 0")
        if range_ is not None:
            range_ = [builtins.float(r) for r in range_]
            if len(range_) != 2 * D:
                raise RuntimeError(f"torch.{fname}: for a {D}-dimensional histogram range should have {2 * D} "
                                   f"elements, but got {len(range_)}")
        for d in range(D):
            if range_ is not None:
                lo, hi = range_[2 * d], range_[2 * d + 1]
            elif n_pts:
                col = pts[:, d]
                lo, hi = builtins.float(col.min()), builtins.float(col.max())
            else:
                lo, hi = 0.0, 1.0
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo}, {hi}] is not finite")
            if lo > hi:
                raise RuntimeError(f"torch.{fname}: min should not exceed max, but got min {lo} max {hi}")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges.append(T.linspace(lo, hi, counts[d] + 1, dtype=dt, device=dev))
    e_np = [_hist_edges_np(e) for e in edges]
    nbins = [len(e) - 1 for e in e_np]
    keep = np.ones(n_pts, dtype=bool)
    flat = np.zeros(n_pts, dtype=np.int64)
    for d in range(D):
        col, e = pts[:, d].astype(e_np[d].dtype), e_np[d]
        pos = np.searchsorted(e, col, side="right") - 1
        pos = np.where(col == e[-1], nbins[d] - 1, pos)
        keep &= (col >= e[0]) & (col <= e[-1]) & (pos >= 0) & (pos < builtins.max(nbins[d], 0))
        flat = flat * builtins.max(nbins[d], 1) + np.clip(pos, 0, builtins.max(nbins[d] - 1, 0))
    total = builtins.int(np.prod(nbins)) if nbins else 1
    hist = np.zeros(total, dtype=np.float64)
    if keep.any() and total:
        np.add.at(hist, flat[keep], 1.0 if w is None else w[keep])
    hist = hist.reshape(nbins)
    if density:
        s = hist.sum()
        widths = [np.diff(e.astype(np.float64)) for e in e_np]
        vol = np.ones(nbins)
        for d in range(D):
            shape = [1] * D
            shape[d] = nbins[d]
            vol = vol * widths[d].reshape(shape)
        with np.errstate(all="ignore"):
            hist = hist / s / vol
    h = T.zeros(nbins, dtype=dt, device=dev) if hist.size == 0 else _new(
        mx.array(hist.astype(np.float32) if dt is not _dtype.float64 else hist).astype(dt._mx),
        points._device_code, dt)
    return h, edges


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):  # noqa: A002 - torch's name
    """torch.histogram: (hist, bin_edges) of the flattened input; bins a count or a 1-D tensor of edges."""
    _check_tensor(input, "histogram")
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram() received an invalid combination of arguments - got (range with a bins tensor)")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError("torch.histogram: if weight tensor is provided it should have the same shape as the "
                           "input tensor")
    pts = input.reshape(-1, 1)
    h, edges = _histogramdd_impl("histogram", pts, bins, range, None if weight is None else weight.reshape(-1),
                                 density)
    res = _return_type("histogram")(h, edges[0])
    if out is not None:
        _out(out[0], res.hist)
        _out(out[1], res.bin_edges)
        return _return_type("histogram_out")(out[0], out[1])
    return res


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):  # noqa: A002 - torch's name
    """torch.histogramdd: the D-dimensional histogram of input's innermost-dim points (hist, [bin_edges])."""
    _check_tensor(input, "histogramdd")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions, but got "
                           f"{input.dim()}")
    D = input.shape[-1]
    pts = input.reshape(-1, D)
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                           "input tensor excluding its innermost dimension")
    h, edges = _histogramdd_impl("histogramdd", pts, bins, range,
                                 None if weight is None else weight.reshape(-1), density)
    return _return_type("histogramdd")(h, tuple(edges))


def unravel_index(indices, shape):
    """torch.unravel_index: flat indices as a tuple of coordinate tensors for `shape`."""
    T = _torch()
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): argument 'indices' must be Tensor, not {type(indices).__name__}")
    if indices.dtype.is_complex or indices.dtype.is_floating_point or indices.dtype is _dtype.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, builtins.bool) or not isinstance(shape, (builtins.int, list, tuple)):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if isinstance(shape, builtins.int):
        shape = [shape]
    for s in shape:
        if not isinstance(s, builtins.int) or isinstance(s, builtins.bool):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(s)}")
    shape = list(shape)
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    coefs = []
    acc = 1
    for s in reversed(shape[1:] + [1]):
        acc *= s
        coefs.append(acc)
    coefs = list(reversed(coefs))
    dev = _device_str(indices)
    coef_t = T.tensor(coefs, dtype=_dtype.int64, device=dev)
    shape_t = T.tensor(shape, dtype=_dtype.int64, device=dev)
    return (indices.unsqueeze(-1).floor_divide(coef_t) % shape_t).unbind(-1)


def nonzero_static(input, *, size, fill_value=-1):
    """torch.nonzero_static: nonzero's (n, ndim) indices truncated or padded with fill_value to `size` rows."""
    _check_tensor(input, "nonzero_static")
    size = _int_arg(size, "nonzero_static")
    if isinstance(fill_value, builtins.float):
        raise TypeError("nonzero_static(): argument 'fill_value' must be int, not float")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got {size}")
    T = _torch()
    nz = input.nonzero()
    k = nz.shape[0]
    if k >= size:
        return nz[:size].clone()
    pad = T.full((size - k, nz.shape[1]), fill_value, dtype=_dtype.int64, device=_device_str(input))
    return T.cat([nz, pad], 0)


def _put_args(input, index, source, fname="put_"):
    _check_tensor(input, fname)
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        raise TypeError(f"{fname}(): argument 'index' and 'source' must be Tensor")
    if index.dtype is not _dtype.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_sname(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_sname(input.dtype)} and source.dtype = {_sname(source.dtype)}")
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = input.numel()
    if index.numel():
        lo, hi = builtins.int(mx.min(index._mx).item()), builtins.int(mx.max(index._mx).item())
        for v in (lo, hi):
            if v >= n or v < -n:
                raise IndexError(f"out of range: tried to access index {v} on a tensor of {n} elements.")


def put(input, index, source, accumulate=False):
    """torch.put: input (as flat) with source written (or added) at index; gradients to input and source."""
    _put_args(input, index, source)
    if index.numel() == 0:
        return _mlx_op("PutBackward0", lambda x, s: mx.array(x), [input, source])
    T = _torch()
    flat = input.reshape(-1)
    return T.index_put(flat, (index.reshape(-1),), source.reshape(-1), accumulate).reshape(input.shape)


def _put_(self, index, source, accumulate=False):
    return self.copy_(put(self, index, source, accumulate))


def _masked_index_checks(indices, mask):
    for index in indices:
        if index is not None and index.dtype not in (_dtype.int64, _dtype.int32):
            raise IndexError("tensors used as indices must be long or int tensors")
    if mask.dtype is not _dtype.bool:
        raise IndexError("tensors used as masks must be bool tensors")


def _unsafe_masked_index(x, mask, indices, fill):
    """aten._unsafe_masked_index: x[indices] (each clamped into range) where mask, else fill."""
    _masked_index_checks(indices, mask)
    indices = list(indices)
    T = _torch()
    if x.numel() == 0:
        shape = T.broadcast_shapes(*[i.shape for i in indices if i is not None])
        return x.new_full(tuple(shape) + tuple(x.shape[len(indices):]), fill)
    clamped = tuple(builtins.slice(None) if i is None else i.clamp(-x.shape[k], x.shape[k] - 1)
                    for k, i in enumerate(indices))
    return x[clamped].masked_fill(~mask, fill)


def _unsafe_masked_index_put_accumulate(x, mask, indices, values):
    """aten._unsafe_masked_index_put_accumulate: x with values (zero where ~mask) added at clamped indices."""
    _masked_index_checks(indices, mask)
    if x.numel() == 0:
        return x.clone()
    T = _torch()
    clamped = tuple(None if i is None else i.clamp(-x.shape[k], x.shape[k] - 1) for k, i in enumerate(indices))
    return T.index_put(x, clamped, values.masked_fill(~mask, 0), True)


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


# ---------------------------------------------------------------- creation-ish


# the C++ type names in torch's "value cannot be converted to type ..." messages
_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool"}


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """torch.scalar_tensor: a 0-d tensor holding s (default dtype: the default float dtype)."""
    T = _torch()
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, (builtins.int, builtins.float, builtins.complex, builtins.bool, np.number)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    dtype = dtype or _C._get_default_dtype()
    if isinstance(s, builtins.complex) and not dtype.is_complex:
        raise RuntimeError(f"value cannot be converted to type {_CTYPE.get(dtype.name, dtype.name)} without overflow")
    return T.tensor(s, dtype=dtype, device=device, requires_grad=requires_grad)


def _strided_empty(size, stride, dtype, device, requires_grad, fname):
    """A zero tensor (MLX has no uninitialised memory) with exactly torch's strides.

    Note [empty_strided layouts]
    A dense layout (a permutation of the dims) is a fresh tensor restrided like torch's preserve_format
    copies; any other layout (gaps, zero or overlapping strides) is a strided view over a zero storage of
    the size torch would allocate, so stride() is the one asked for either way."""
    from .._tensor import _new_like_layout

    T = _torch()
    size = [_int_arg(s, fname) for s in size]
    stride = [_int_arg(s, fname) for s in stride]
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(size)}: {size}")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={size} and strides={stride}")
    t = T.empty(size, dtype=dtype, device=device)
    if len(size) and builtins.all(size):
        t = _new_like_layout(t._mx, tuple(size), stride, t._device_code, t.dtype)
        if tuple(t.stride()) != tuple(stride):
            need = 1 + builtins.sum((n - 1) * st for n, st in zip(size, stride))
            t = T.zeros(need, dtype=t.dtype, device=device).as_strided(size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """torch.empty_strided: an uninitialised (here zero) tensor with the given strides (Note [empty_strided
    layouts])."""
    return _strided_empty(size, stride, dtype, device, requires_grad, "empty_strided")


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """torch.empty_permuted: an empty tensor of logical `size` laid out in memory in `physical_layout` order."""
    size = [_int_arg(s, "empty_permuted") for s in size]
    perm = [_int_arg(p, "empty_permuted") for p in physical_layout]
    if len(perm) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(perm)}")
    if sorted(perm) != list(range(len(size))):
        raise RuntimeError(f"Dimension {perm} is not a permutation of the dimensions of the input")
    strides = [0] * len(size)
    step = 1
    for d in reversed(perm):
        strides[d] = step
        step *= builtins.max(size[d], 1)
    return _strided_empty(size, strides, dtype, device, requires_grad, "empty_permuted")


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                       pin_memory=False):
    return _strided_empty(size, stride, dtype or self.dtype, device or self.device, requires_grad,
                          "new_empty_strided")


def fill(input, value):
    """torch.fill: a new tensor of input's shape and dtype filled with value (a number or 0-d tensor);
    the gradient reaches a tensor value as the sum, and input as zeros."""
    _check_tensor(input, "fill")
    T = _torch()
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               f"dimensions.")
        v = value
    else:
        if isinstance(value, builtins.complex) and not input.dtype.is_complex:
            raise RuntimeError(f"value cannot be converted to type {_CTYPE.get(input.dtype.name, input.dtype.name)} "
                               f"without overflow")
        v = T.tensor(value, device=_device_str(input))
    shape, mdt = tuple(input.shape), input.dtype._mx
    return _mlx_op("FillBackward0", lambda x, s: mx.broadcast_to(s.astype(mdt), shape) + mx.zeros(shape, mdt),
                   [input, v])


def fill_(input, value):
    return input.fill_(value)


def zero_(input):
    """torch.zero_: input filled with zeros in place."""
    _check_tensor(input, "zero_")
    return input.zero_()


def resize_as_(input, the_template, *, memory_format=None):
    """torch.resize_as_: input resized in place to the_template's shape."""
    _check_tensor(input, "resize_as_")
    return input.resize_as_(the_template)


# ---------------------------------------------------------------- Tensor attributes and methods


def _sum_to_size(self, *size):
    """Tensor.sum_to_size: self summed over broadcast dims down to `size` (self itself when equal)."""
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    size = tuple(_int_arg(s, "sum_to_size") for s in size)
    shape = tuple(self.shape)
    ok = len(size) <= len(shape) and builtins.all(
        s == d or s == 1 for s, d in zip(reversed(size), reversed(shape)))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if size == shape:
        return self
    from ..autograd._derivatives import sum_to

    return sum_to(self, size)


def _mH(self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.dim()}-D "
                           f"tensor.")
    t = self.transpose(-2, -1)
    return t.conj() if self.dtype.is_complex else t


def _H(self):
    if self.dim() == 0:
        return self.conj() if self.dtype.is_complex else self
    if self.dim() != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
    return _mH(self)


def adjoint(input):
    """torch.adjoint: the conjugate transpose of the last two dims (a view for real dtypes)."""
    _check_tensor(input, "adjoint")
    return _mH(input)


def _no_complex_dtype(name, dtype_name):
    """Tensor.cdouble / Tensor.chalf: MLX has complex64 only, and the package refuses the other complex
    dtypes with TypeError (README, "refused with a TypeError") rather than quietly giving complex64."""
    def method(self, memory_format=None):
        raise TypeError(f"{name}: {dtype_name} is not supported by MLX (mlx_compat has complex64 only)")

    method.__name__ = name
    return method


def _rdiv(self, other):
    """Tensor.__rdiv__ (Python 2's name): other / self, as __rtruediv__."""
    if not isinstance(self, Tensor):  # torch's __rdiv__ starts with self.reciprocal()
        raise AttributeError(f"'{type(self).__name__}' object has no attribute 'reciprocal'")
    return Tensor.__rtruediv__(self, other)


_METHODS = {
    "unsafe_split": unsafe_split,
    "unsafe_split_with_sizes": unsafe_split_with_sizes,
    "unsafe_chunk": unsafe_chunk,
    "diagonal_scatter": diagonal_scatter,
    "select_scatter": select_scatter,
    "slice_scatter": slice_scatter,
    "as_strided_scatter": as_strided_scatter,
    "gcd": gcd, "gcd_": gcd_, "lcm": lcm, "lcm_": lcm_,
    "frexp": frexp, "ldexp": ldexp, "ldexp_": ldexp_,
    "diff": diff, "cov": cov, "corrcoef": corrcoef, "renorm": renorm, "renorm_": renorm_, "dist": dist,
    "bincount": bincount, "histogram": histogram, "nonzero_static": nonzero_static,
    "put": put, "put_": _put_,
    "new_empty_strided": _new_empty_strided,
    "sum_to_size": _sum_to_size,
    "adjoint": _mH,
    "cdouble": _no_complex_dtype("cdouble", "complex128"),
    "chalf": _no_complex_dtype("chalf", "complex32"),
    "__rdiv__": _rdiv,
}

for _name, _fn in _METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)

for _name, _fn in (("H", _H), ("mH", _mH)):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, property(_fn))
del _name, _fn


def constant_pad_nd(input, pad, value=0):
    """torch.constant_pad_nd: nn.functional.pad's constant mode (negative amounts crop)."""
    from ..nn.functional import pad as _pad

    return _pad(input, pad, "constant", value)
