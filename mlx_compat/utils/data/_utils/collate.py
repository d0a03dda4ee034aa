"""Turning a list of samples into a batch (`default_collate`, `collate` with a per-type table) and numpy data into
tensors without batching (`default_convert`), with torch.utils.data's rules: tensors stack along a new first
dimension, numpy arrays and numbers become tensors (floats as float64, ints as int64), strings stay lists,
mappings/namedtuples/sequences collate field by field."""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ...._tensor import Tensor

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                                  "dicts or lists; found {}")


def _torch():
    import mlx_compat
    return mlx_compat


def _is_numpy_type(t):
    return t.__module__ == "numpy" and t.__name__ not in ("str_", "string_", "bytes_")


def default_convert(data):
    """numpy arrays and numpy scalars become tensors, recursively through mappings, namedtuples and sequences;
    everything else (tensors included) is returned as it is."""
    torch = _torch()
    elem_type = type(data)
    if isinstance(data, torch.Tensor):
        return data
    if _is_numpy_type(elem_type):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return torch.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate `batch` (a list of samples of one structure): a type found in `collate_fn_map` (exactly, then by
    isinstance in the table's order) uses its function; containers recurse into their fields."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _gather_rows(batch):
    """Note [Collating rows of one tensor]: a TensorDataset's samples are views `t[i]` of one storage; stacking
    them makes one MLX slice node per sample (7-13 ms for 128 MNIST images here), where one gather over the
    storage is ~0.2 ms. When every sample is a contiguous view of the same root, with one shape and dtype, and
    none needs a gradient, the batch is that gather: the same values as torch.stack, as a new tensor."""
    first = batch[0]
    root = first._storage_base
    if root is None or len(batch) < 2 or first.dtype is not root.dtype or not first.is_contiguous():
        return None
    shape, device = first.shape, first.device
    offsets = []
    for t in batch:
        if type(t) is not Tensor or t._storage_base is not root or t.shape != shape or t.requires_grad or \
                not t.is_contiguous() or t.is_conj() or t.is_neg():  # bit views: Note [Conjugate views]
            return None
        offsets.append(t.storage_offset())
    if first.requires_grad or device != root.device:
        return None
    from ...._tensor import _new
    from ...._device import MX_DEVICES, to_code
    import mlx.core as mx

    n = first.numel()
    stream = MX_DEVICES[to_code(device)]  # the tensors' MLX device (the CPU under Note [Fake GPU])
    index = mx.add(mx.array(offsets, dtype=mx.int64)[:, None], mx.arange(n, dtype=mx.int64, stream=stream)[None, :],
                   stream=stream)
    values = mx.reshape(mx.take(root._storage_value(), index, stream=stream), (len(batch), *shape), stream=stream)
    return _new(values, to_code(device), first.dtype)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    gathered = _gather_rows(batch)
    if gathered is not None:
        return gathered
    return _torch().stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    torch = _torch()
    return collate([torch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _torch().as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    torch = _torch()
    return torch.tensor(batch, dtype=torch.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return _torch().tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    np.memmap: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """torch.utils.data.default_collate: stack tensors (a new first dimension), numpy arrays/scalars and Python
    numbers into tensors (float -> float64, int -> int64), keep strings as lists, and collate mappings,
    namedtuples and sequences field by field (a tuple's fields come back as a list, as in torch)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
