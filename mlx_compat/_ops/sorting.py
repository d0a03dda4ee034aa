"""Sorting and set membership: isin.

Exports are listed in __all__ and re-exported by mlx_compat/__init__.py."""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _dtype
from .._tensor import Tensor, _new
from ._common import _out, _torch

__all__ = ["isin"]


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
