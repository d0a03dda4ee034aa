"""Indexing: every way of reading or writing elements by position.

- Advanced indexing: Tensor.__getitem__/__setitem__ for indices holding tensors, lists, arrays or bools
  (registered with the core at import). The C core handles purely basic indices (ints, slices, None,
  Ellipsis) as views. Here the index is split as torch splits it: basic items (and 0-dim integer tensors,
  which torch treats as ints) are walked by the core as a view; then the advanced items index that view in
  one MLX gather/scatter, which follows numpy's layout rule exactly as torch does once the ints are gone.
- Gathers and scatters: index_select, gather, scatter/scatter_add (and scatter_/scatter_add_), take,
  take_along_dim, the index_* family (index_add/copy/fill/put/reduce), scatter_reduce, masked_select,
  masked_scatter, put/put_, and _unsafe_masked_index(_put_accumulate).
- Positions: nonzero/argwhere/nonzero_static, unravel_index.

Conventions:
- Differentiable ops go through `mlx_op` (Note [MLX vjp fallback]) with index arrays closed over.
  scatter_reduce/index_reduce: sum/mean too; prod through a dense gather + mx.prod (MLX's scatter_prod has
  no derivative); amax/amin through torch's even-split-among-ties formula written in MLX and recorded
  through `mlx_op`, so every mode has higher-order derivatives (see `_reduce_at`).
- Index validation evaluates the index (as torch syncs there); data-dependent shapes (masked_select, nonzero)
  and data-dependent layouts (masked_scatter) evaluate the mask and compute positions with numpy;
  nonzero_static and unravel_index's checks evaluate their inputs too.
- In-place variants compute out of place and `_commit` the result.
- out= must have the result's dtype, as torch requires (shape.py's `_out`).

Tensor methods are attached here (index_select/gather/scatter/scatter_add always; the others never replacing
an attribute that already exists).
"""
from __future__ import annotations

import builtins
import weakref

import mlx.core as mx
import numpy as np

from .. import _C, _dtype
from .._methods import declare_methods
from .._tensor import _TORCH_NAME, Tensor, _int_arg, _wrap_dim, _new, _mx_item, _mx_evaluated, _root
from ._common import _device_str, _torch, _sname, _mlx_op
from .reduction import _from_np, _np_values
from .shape import _check_tensor, _gather_op, _infer_size, _np, _out

_INT_KINDS = ("i", "u")
_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')


def _as_index_array(item):
    """numpy array for an advanced index item, or None if the item is not one."""
    from .._tensor import Tensor

    if isinstance(item, Tensor):
        if not (item.dtype.is_floating_point or item.dtype.is_complex) or False:
            _C._eval(item)  # under the evaluation lock (Note [Threads])
            return np.asarray(item._mx)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(item, (list, np.ndarray, tuple, range)):
        try:
            arr = np.asarray(item)
        except (ValueError, TypeError):
            arr = None
        if not isinstance(item, np.ndarray) and arr is not None and (
                (arr.dtype == np.uint64 and arr.size and arr.max() > 2**63 - 1) or
                (arr.dtype == object and builtins.any(isinstance(v, builtins.int) and not -2**63 <= v < 2**63
                                                      for v in arr.ravel()))):
            raise ValueError("Overflow when unpacking long long")  # torch reads each item as an int64
        if arr is None or arr.dtype.kind not in _INT_KINDS + ("b",):
            if arr is not None and arr.dtype == object:
                # e.g. a list mixing tensors; convert element-wise
                arr = np.asarray([np.asarray(_mx_evaluated(x._mx)) if isinstance(x, Tensor) else x for x in item])
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
    parsed, overflow = [], None
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            parsed.append(("basic", item))
        elif isinstance(item, np.bool_):
            # torch 2.13 does not take numpy's bool scalar as a bool index
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got numpy.bool)")
        elif isinstance(item, builtins.bool):
            parsed.append(("bool", item))
        elif isinstance(item, (builtins.int, np.integer)):
            parsed.append(("basic", builtins.int(item)))
        elif isinstance(item, Tensor) and item.dim() == 0 and item.dtype.name in ("int64", "int32", "int16", "int8", "uint8"):
            parsed.append(("basic", builtins.int(item.item())))
        elif isinstance(item, Tensor) and item.dim() == 0 and item.dtype.name == "bool":
            parsed.append(("bool", builtins.bool(item.item())))
        elif isinstance(item, str):
            raise TypeError("new(): invalid data type 'str'")
        else:
            try:
                arr = _as_index_array(item)
            except ValueError as e:  # an int64 overflow: torch counts the indices against the rank first
                overflow = overflow or e
                parsed.append(("adv", np.zeros(0, dtype=np.int64)))
                continue
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
    if overflow is not None:
        raise overflow
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


def _mx_index(view_ndim, adv, check=True):
    """The MLX index tuple: int arrays at advanced dims (bounds-checked unless check=False, negatives wrapped)."""
    key = [slice(None)] * view_ndim
    for dim, arr, size in adv:
        if check and arr.size and (arr.max() >= size or arr.min() < -size):
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


def _bool_setitem(t, index, value):
    """t[True] = value / t[False] = value, which torch does not treat as advanced indexing: True copies into
    t[None] (casting the value, as copy_ does), False writes nothing and checks nothing."""
    from .._tensor import Tensor

    if index is False:
        return
    v = t._basic_getitem((None,))
    owner = _root(v)
    if _C.is_grad_enabled() and (owner.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        v.copy_(value) if isinstance(value, Tensor) else v.fill_(value)
    else:
        v._assign(value)


def setitem(t, index, value):
    from .._tensor import Tensor

    if index is True or index is False:
        return _bool_setitem(t, index, value)
    basic, adv, empty_dims = _split(t, index)
    v = t._basic_getitem(basic)
    for d in empty_dims:
        v = v.narrow(d, 0, 0)
    if not adv:
        v._assign(value)
        return
    _check_broadcastable(adv)
    items = index if isinstance(index, tuple) else (index,)
    only_mask = builtins.all(kind == "mask" for kind in _kinds(index))
    # a 0-dim mask (a 0-dim bool tensor, a Python bool in a tuple): torch's index_put (the value's dtype must
    # match); masks with dims: a masked_fill
    zero_dim_masks = builtins.any((isinstance(i, Tensor) and i.dim() == 0) or isinstance(i, builtins.bool)
                                  for i in items)
    if isinstance(value, Tensor) and value.dim() == 0 and only_mask and not zero_dim_masks:
        # torch: a 0-dim value under a mask is a masked_fill with the value's number, converted with the
        # range check (Note [Scalar assignment check] in csrc/indexing.c)
        value = t._scalar_for_assign(value.item())
    # torch's order: the value's dtype and shape are checked before the indices' bounds, except that an
    # index into a zero-size tensor is out of bounds first
    key = _mx_index(v.dim(), adv, check=v.numel() == 0)
    if isinstance(value, Tensor):
        if value.dtype is not v.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_SCALAR[v.dtype.name]} for the destination and {_SCALAR[value.dtype.name]} for the source.")
        val = value._mx
    elif isinstance(value, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
        val = mx.array(value, dtype=v.dtype._mx)
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a {v.dtype} tensor")
    try:
        res_shape = v._mx[key].shape  # shape inference only: nothing is evaluated
    except ValueError:  # MLX refuses a non-empty gather from a zero-size array: out of bounds, as torch says
        _mx_index(v.dim(), adv)
        raise
    try:
        mx.broadcast_shapes(tuple(val.shape), tuple(res_shape))
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(val.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(res_shape)}") from None
    key = _mx_index(v.dim(), adv)
    if v.numel() == 0:
        # nothing to write (torch's index_put is a no-op), and MLX's scatter into a zero-size array
        # divides by zero (SIGFPE)
        return
    owner = _root(v)
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
        lo, hi = builtins.int(_mx_item(mx.min(index._mx))), builtins.int(_mx_item(mx.max(index._mx)))
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


# Tensor methods of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({"nonzero_static": nonzero_static, "put": put, "put_": _put_})


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


declare_methods({"nonzero": nonzero, "argwhere": argwhere})


# Eager index bounds checks on the host (Note [Target bounds on the host] in nn/_loss.py): cross entropy's
# targets, F.embedding's and index_select's indices. `_checked`: id(array) -> (weak reference, key) of arrays found
# in bounds for `key` while they live.
_checked = {}


def remember_checked(tv, key):
    """Remember index array `tv` as found in bounds for `key` while it lives (Note [Target bounds on the host])."""
    k = id(tv)
    _checked[k] = (weakref.ref(tv, lambda _r, k=k, memo=_checked: memo.pop(k, None)), key)


def _host_values(tv):
    """The index array's values as a numpy array (evaluated under the evaluation lock, Note [Threads]), or None
    while MLX traces it."""
    try:
        _C._eval(tv)
    except ValueError as e:
        if "during function transformations" in str(e):
            return None
        raise
    return np.asarray(tv)


def checked_key(tv):
    """The key under which index array `tv` was found in bounds (remember_checked), or None."""
    seen = _checked.get(id(tv))
    return seen[1] if seen is not None and seen[0]() is tv else None


def check_indices_in_range(tv, key, low, high, error=None):
    """torch's eager check of index array `tv` against [low, high) (IndexError "index out of range in self", or
    `error(first bad index)`'s exception): a host read once per array, remembered under `key` while it lives
    (remember_checked); nothing to read for an empty array or one MLX traces (Note [Target bounds on the host],
    Note [No evaluation while tracing])."""
    if checked_key(tv) == key:
        return
    host = host_indices(tv)
    if host is not None:
        if host.min() < low or host.max() >= high:
            if error is not None:
                flat = host.reshape(-1)
                raise error(builtins.int(flat[(flat < low) | (flat >= high)][0]))
            raise IndexError("index out of range in self")
        remember_checked(tv, key)


def host_indices(tv):
    """The values of index array `tv` as a numpy array, or None for an empty array or one MLX traces."""
    return _host_values(tv) if tv.size else None


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
    # torch's eager bounds check, a host read once per index array (Note [Target bounds on the host]); skipped
    # while MLX traces (Note [No evaluation while tracing]). torch takes no negative index here (unlike indexing)
    # (torch's kernel for dim 1 of a matrix or more says it otherwise)
    dim1 = None if d != 1 or input.dim() < 2 else \
        (lambda i: RuntimeError(f"INDICES element is out of DATA bounds, id={i} axis_dim={size}"))
    check_indices_in_range(index._mx, ("index_select", size), 0, size, dim1)
    idx = index._mx.reshape(-1)
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
        if lo is not None and (lo < 0 or hi >= size):  # no negative index either, as torch's
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


def _scatter_add_(self, dim, index, src):
    return self._commit(scatter_add(self, dim, index, src))


declare_methods({"index_select": index_select, "gather": gather, "scatter": scatter, "scatter_": _scatter_,
                 "scatter_add": scatter_add, "scatter_add_": _scatter_add_})


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
        if alpha == 1 and input.dim() > 1 and d in (0, input.dim() - 1):  # torch's index_put path says it so
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


declare_methods({
    "take": take, "take_along_dim": take_along_dim, "index_add": index_add, "index_add_": _index_add_,
    "index_copy": index_copy, "index_copy_": _index_copy_, "index_fill": index_fill, "index_fill_": _index_fill_,
    "index_put": index_put, "index_put_": _index_put_, "index_reduce": index_reduce, "index_reduce_": _index_reduce_,
    "scatter_reduce": scatter_reduce, "scatter_reduce_": _scatter_reduce_, "masked_scatter": masked_scatter,
    "masked_scatter_": _masked_scatter_, "masked_select": masked_select,
})
