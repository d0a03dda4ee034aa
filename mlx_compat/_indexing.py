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

from . import _C

_INT_KINDS = ("i", "u")
_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
           "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def _as_index_array(item):
    """numpy array for an advanced index item, or None if the item is not one."""
    from ._tensor import Tensor

    if isinstance(item, Tensor):
        if not (item.dtype.is_floating_point or item.dtype.is_complex) or False:
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
    from ._tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    parsed = []
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
    from ._tensor import Tensor

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
        from ._autograd_ops import mlx_op

        return mlx_op("IndexBackward0", lambda x: x[key], [v])
    return v._new_on(v._mx[key], v._device_code)


def setitem(t, index, value):
    from ._tensor import Tensor

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
    # every mask a 0-dim bool tensor: torch's index_put (the value's dtype must match), else a masked_fill
    zero_dim_masks = builtins.all(isinstance(i, Tensor) and i.dim() == 0 for i in items
                                  if i is not None and i is not Ellipsis and not isinstance(i, slice))
    if isinstance(value, Tensor) and value.dim() == 0 and only_mask and not zero_dim_masks:
        # torch: a 0-dim value under a mask is a masked_fill with the value's number, converted with the
        # range check (Note [Scalar assignment check] in csrc/indexing.c)
        value = t._scalar_for_assign(value.item())
    # torch's order: the value's dtype and shape are checked before the indices' bounds
    key = _mx_index(v.dim(), adv, check=False)
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
    owner = v._base if v._base is not None else v
    if _C.is_grad_enabled() and (owner.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        # differentiable index_put: computed out of place, then committed (Note [In-place history])
        from ._autograd_ops import mlx_op

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
