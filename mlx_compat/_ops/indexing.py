"""Advanced indexing: Tensor.__getitem__/__setitem__ for indices holding tensors, lists, arrays or bools.

The C core handles purely basic indices (ints, slices, None, Ellipsis) as views. Here the index is
split as torch splits it: basic items (and 0-dim integer tensors, which torch treats as ints) are
walked by the core as a view; then the advanced items index that view in one MLX gather/scatter,
which follows numpy's layout rule exactly as torch does once the ints are gone.
"""
from __future__ import annotations

import builtins

import mlx.core as mx
import numpy as np

from .. import _C, _dtype
from .._tensor import Tensor, _int_arg, _wrap_dim, _new
from ._common import _device_str, _torch, _check_tensor, _sname, _mlx_op
from .reduction import _from_np, _np_values, _out

_INT_KINDS = ("i", "u")
_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
           "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def _as_index_array(item):
    """numpy array for an advanced index item, or None if the item is not one."""
    from .._tensor import Tensor

    if isinstance(item, Tensor):
        if not (item.dtype.is_floating_point or item.dtype.is_complex) or False:
            return np.asarray(item._mx)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(item, (list, np.ndarray)) or (isinstance(item, tuple)):
        try:
            arr = np.asarray(item)
        except (ValueError, TypeError):
            arr = None
        if arr is None or arr.dtype.kind not in _INT_KINDS + ("b",):
            if arr is not None and arr.dtype == object:
                # e.g. a list mixing tensors; convert element-wise
                arr = np.asarray([np.asarray(x._mx) if isinstance(x, Tensor) else x for x in item])
            if arr is None or arr.dtype.kind not in _INT_KINDS + ("b",):
                if arr is not None and arr.size == 0:
                    return arr.astype(np.int64)
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return arr
    if isinstance(item, np.integer):
        return None
    return None


def _invalid(item):
    return IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
        f"(got {type(item).__name__})")


def _split(t, index):
    """(basic tuple for the C walk, [(result_dim, np int array)], [dims to empty]) for an index."""
    from .._tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    parsed = []
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            parsed.append(("basic", item))
        elif isinstance(item, builtins.bool) or isinstance(item, np.bool_):
            parsed.append(("bool", builtins.bool(item)))
        elif isinstance(item, (builtins.int, np.integer)):
            parsed.append(("basic", builtins.int(item)))
        elif isinstance(item, Tensor) and item.dim() == 0 and item.dtype.name in ("int64", "int32", "int16", "int8", "uint8"):
            parsed.append(("basic", builtins.int(item.item())))
        elif isinstance(item, Tensor) and item.dim() == 0 and item.dtype.name == "bool":
            parsed.append(("bool", builtins.bool(item.item())))
        elif isinstance(item, str):
            raise TypeError("new(): invalid data type 'str'")
        else:
            arr = _as_index_array(item)
            if arr is None:
                raise _invalid(item)
            if arr.dtype.kind == "b" or (isinstance(item, Tensor) and item.dtype.name == "uint8" and False):
                parsed.append(("mask", arr))
            else:
                parsed.append(("adv", arr.astype(np.int64)))
    consumed = 0
    for kind, p in parsed:
        if kind == "basic" and p is not None and p is not Ellipsis:
            consumed += 1
        elif kind == "adv":
            consumed += 1
        elif kind == "mask":
            consumed += p.ndim
    ndim = t.dim()
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv, empty_dims = [], [], []
    rdim = 0  # dim in the result of the basic walk
    sdim = 0  # dim in the source
    for kind, p in parsed:
        if kind == "basic":
            basic.append(p)
            if p is Ellipsis:
                rdim += ndim - consumed
                sdim += ndim - consumed
            elif p is None:
                rdim += 1
            elif isinstance(p, slice):
                rdim += 1
                sdim += 1
            else:
                sdim += 1
        elif kind == "bool":
            # torch: a bool adds a dim, then indexes it with [0] (True) or [] (False): a copy
            basic.append(None)
            adv.append((rdim, np.zeros(1 if p else 0, dtype=np.int64), 1))
            rdim += 1
        elif kind == "adv":
            basic.append(slice(None))
            adv.append((rdim, p, t.shape[sdim]))
            rdim += 1
            sdim += 1
        else:  # mask over p.ndim dims
            for k in range(p.ndim):
                size = t.shape[sdim + k]
                if p.shape[k] != size:
                    raise IndexError(
                        f"The shape of the mask {list(p.shape)} at index {k} does not match the shape of the indexed "
                        f"tensor {list(t.shape)} at index {sdim + k}")
            nz = np.nonzero(p)
            for k in range(p.ndim):
                basic.append(slice(None))
                adv.append((rdim + k, nz[k].astype(np.int64), t.shape[sdim + k]))
            rdim += p.ndim
            sdim += p.ndim
    return tuple(basic), adv, empty_dims


def _mx_index(view_ndim, adv):
    """The MLX index tuple: int arrays at advanced dims (bounds-checked, negatives wrapped)."""
    key = [slice(None)] * view_ndim
    for dim, arr, size in adv:
        if arr.size and (arr.max() >= size or arr.min() < -size):
            bad = arr.max() if arr.max() >= size else arr.min()
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        arr = np.where(arr < 0, arr + size, arr)
        key[dim] = mx.array(arr.astype(np.int32 if size < 2**31 else np.int64))
    last = max(d for d, _, _ in adv)
    return tuple(key[: last + 1])


def _check_broadcastable(arrs):
    try:
        np.broadcast_shapes(*[a.shape for _, a, _ in arrs])
    except ValueError:
        shapes = ", ".join(f"[{', '.join(map(str, a.shape))}]" for _, a, _ in arrs)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") from None


def _kinds(index):
    from .._tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor) and item.dtype.name == "bool":
            out.append("mask")
        elif isinstance(item, (builtins.bool, np.bool_)):
            out.append("mask")
        elif isinstance(item, (np.ndarray, list)) and np.asarray(item).dtype == np.bool_ and np.ndim(item) > 0:
            out.append("mask")
        elif item is None or item is Ellipsis or (isinstance(item, slice) and item == slice(None)):
            continue
        else:
            out.append("other")
    return out


def getitem(t, index):
    basic, adv, empty_dims = _split(t, index)
    v = t._basic_getitem(basic)
    for d in empty_dims:
        v = v.narrow(d, 0, 0)
    if not adv:
        return v
    _check_broadcastable(adv)
    key = _mx_index(v.dim(), adv)
    if v.requires_grad:
        from ..autograd._mlx_vjp import mlx_op

        return mlx_op("IndexBackward0", lambda x: x[key], [v])
    return v._new_on(v._mx[key], v._device_code)


def setitem(t, index, value):
    from .._tensor import Tensor

    basic, adv, empty_dims = _split(t, index)
    v = t._basic_getitem(basic)
    for d in empty_dims:
        v = v.narrow(d, 0, 0)
    if not adv:
        v._assign(value)
        return
    _check_broadcastable(adv)
    key = _mx_index(v.dim(), adv)
    only_mask = builtins.all(kind == "mask" for kind in _kinds(index))
    if isinstance(value, Tensor) and value.dim() == 0 and only_mask:
        value = value.item()  # torch: a 0-dim value under a mask is a masked_fill (any dtype)
    if isinstance(value, Tensor):
        if value.dtype is not v.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_SCALAR[v.dtype.name]} for the destination and {_SCALAR[value.dtype.name]} for the source.")
        val = value._mx
    elif isinstance(value, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
        val = mx.array(value, dtype=v.dtype._mx)
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a {v.dtype} tensor")
    if v.numel() == 0:
        # nothing to write (torch's index_put is a no-op), and MLX's scatter into a zero-size array
        # divides by zero (SIGFPE): check the value's shape as torch does, then stop
        res_shape = v._mx[key].shape
        try:
            mx.broadcast_shapes(tuple(val.shape), tuple(res_shape))
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(val.shape)} cannot be broadcast to "
                               f"indexing result of shape {list(res_shape)}") from None
        return
    owner = v._base if v._base is not None else v
    if _C.is_grad_enabled() and (owner.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        # differentiable index_put: computed out of place, then committed (Note [In-place history])
        from ..autograd._mlx_vjp import mlx_op

        def put(cur, *vals):
            new = mx.array(cur)
            new[key] = vals[0] if vals else val
            return new

        try:
            src = mlx_op("IndexPutBackward0", put, [v] + ([value] if isinstance(value, Tensor) else []))
        except ValueError as e:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(val.shape)} cannot be broadcast to "
                               f"indexing result ({e})") from None
        v._commit(src)
        return
    cur = v._mx
    new = mx.reshape(cur, cur.shape)  # a fresh array object: MLX's __setitem__ rebinds it in place
    try:
        new[key] = val
    except ValueError as e:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(val.shape)} cannot be broadcast to indexing "
                           f"result ({e})") from None
    v._write(new)


_C._register_indexing(getitem, setitem)


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


# Tensor methods of the functions above (never replacing one another module attached first)
_METHODS = {
    "nonzero_static": nonzero_static, "put": put, "put_": _put_,
}

for _name, _fn in _METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
del _name, _fn


def nonzero(input, *, as_tuple=False, out=None):
    """Indices of the non-zero elements (data-dependent shape: numpy on the evaluated values)."""
    a = _np_values(input)
    if a.ndim == 0:
        k = 1 if a != 0 else 0
        if as_tuple:
            return (_from_np(np.zeros((k,), np.int64), input, _dtype.int64),)
        return _out(out, _from_np(np.zeros((k, 0), np.int64), input, _dtype.int64))
    nz = np.nonzero(a)
    if as_tuple:
        return tuple(_from_np(i.astype(np.int64), input, _dtype.int64) for i in nz)
    r = np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64)
    return _out(out, _from_np(r, input, _dtype.int64))


def argwhere(input):
    return nonzero(input)


for _name in ("nonzero", "argwhere"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
del _name


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
    # one sync for torch's eager bounds check, skipped while MLX traces (Note [No evaluation while tracing])
    if idx.size and _C._item_or_none(mx.any((idx < -size) | (idx >= size))):
        raise IndexError("index out of range in self")
    idx = mx.where(idx < 0, idx + size, idx)
    scalar = input.dim() == 0
    from ..autograd._mlx_vjp import mlx_op

    def f(v):
        r = mx.take(v.reshape(1) if scalar else v, idx, axis=d)
        return r.reshape(()) if scalar else r

    return _out(out, mlx_op("IndexSelectBackward0", f, [input]))


def gather(input, dim, index, *, sparse_grad=False, out=None):
    if not isinstance(index, Tensor):
        raise TypeError(f"gather(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32) and index.numel():  # torch checks non-empty indices only
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    d = _wrap_dim(dim, input.dim())
    from ..autograd._mlx_vjp import mlx_op

    if index.numel() == 0:  # torch checks nothing more for an empty index; the result has its shape
        return _out(out, mlx_op("GatherBackward0", lambda x: mx.zeros(tuple(index.shape), x.dtype), [input]))
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in builtins.range(index.dim()):
        if k != d and index.shape[k] > input.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(index.shape)} to be no "
                               f"larger than self {list(input.shape)} apart from dimension {d}")
    size = input.shape[d] if input.dim() else 1
    idx = index._mx
    if idx.size:
        lo, hi = _C._item_or_none(mx.min(idx)), _C._item_or_none(mx.max(idx))  # None while traced
        if lo is not None and (lo < 0 or hi >= size):  # gather takes no negative indices (unlike indexing)
            bad = hi if hi >= size else lo
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    else:
        idx = idx.astype(mx.int64)
    widx = idx
    key = tuple(slice(0, index.shape[k]) if k != d else slice(None) for k in builtins.range(index.dim()))
    from ..autograd._mlx_vjp import mlx_op

    if input.dim() == 0 or index.dim() == 0:  # 0-d/1-d mixes: a flat take over at most one element per index
        def f(x):
            return mx.take(x.reshape(-1), widx.reshape(-1)).reshape(tuple(index.shape))

        return _out(out, mlx_op("GatherBackward0", f, [input]))

    def f(x):
        # take_along_axis needs matching non-gather dims: slice the input down to the index's extent
        return mx.take_along_axis(x[key], widx, axis=d)

    return _out(out, mlx_op("GatherBackward0", f, [input]))


def _scatter_coords(index, dim):
    """Full coordinate arrays addressing self[..., index[i][j], ...] for every element of index."""
    coords = []
    for k in builtins.range(index.dim()):
        if k == dim:
            coords.append(index._mx)
        else:
            shape = [1] * index.dim()
            shape[k] = index.shape[k]
            coords.append(mx.broadcast_to(mx.arange(index.shape[k]).reshape(shape), tuple(index.shape)))
    return tuple(coords)


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None, _add_differentiable=False):
    """torch.scatter (src tensor or value; reduce None/'add'/'multiply'). As in torch, the reduce forms
    have no derivative (scatter_add, which shares this code, has one)."""
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if isinstance(src, (builtins.int, builtins.float, builtins.bool)):
        value, src = src, None
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("scatter(): Expected dtype int64 for index")
    d = _wrap_dim(dim, builtins.max(input.dim(), 1))
    if input.dim() == 0 and index.dim() == 0:  # 0-d: the one-element case, through 1-d views
        one = (lambda t: t.reshape(1) if isinstance(t, Tensor) and t.dim() == 0 else t)
        r = scatter(one(input), 0, one(index), one(src), value=value, reduce=reduce,
                    _add_differentiable=_add_differentiable)
        return _out(out, r.reshape(()))
    if index.dim() != input.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    size = input.shape[d]
    if index.numel():
        lo, hi = _C._item_or_none(mx.min(index._mx)), _C._item_or_none(mx.max(index._mx))  # None while traced
        if lo is not None and (lo < -size or hi >= size):
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {d} with size {size}")
    coords = _scatter_coords(index, d)
    from ..autograd._mlx_vjp import mlx_op

    def put(x, v):
        """x with v written (or reduced) at coords."""
        if reduce == "add":
            return x.at[coords].add(v)
        if reduce == "multiply":
            return x.at[coords].multiply(v)
        y = mx.array(x)
        y[coords] = v
        return y

    if src is not None:
        if src.dtype is not input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
        skey = tuple(slice(0, s) for s in index.shape)
        f, ins, name = (lambda x, s: put(x, s[skey])), [input, src], "ScatterBackward0"
    else:
        f, ins, name = (lambda x: put(x, mx.full(tuple(index.shape), value, dtype=x.dtype))), [input], "ScatterBackward1"
    if reduce is not None and not _add_differentiable and builtins.any(t.requires_grad for t in ins):
        return _out(out, _not_differentiable("scatter", f, ins))
    return _out(out, mlx_op(name, f, ins))


def _not_differentiable(op, f, tensors):
    """Forward of `f`, with a node whose backward raises torch's 'not implemented' error."""
    from ..autograd._derivatives import record

    out = _new(f(*[t._mx for t in tensors]), tensors[0]._device_code, tensors[0].dtype)

    def backward(ctx, grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    record("NotImplemented", backward, tensors, [out])
    return out


def scatter_add(input, dim, index, src, *, out=None):
    return scatter(input, dim, index, src, reduce="add", out=out, _add_differentiable=True)


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return self._commit(scatter(self, dim, index, src, value=value, reduce=reduce))


Tensor.scatter_ = _scatter_


Tensor.scatter_add_ = lambda self, dim, index, src: self._commit(scatter_add(self, dim, index, src))


for _name, _fn in (("index_select", index_select), ("gather", gather), ("scatter", scatter),
                   ("scatter_add", scatter_add)):
    setattr(Tensor, _name, _fn)
del _name, _fn
