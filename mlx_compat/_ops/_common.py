"""Argument checks and result plumbing the op families share: the package handle (`_torch`), the lazy
`mlx_op` (Note [MLX vjp fallback]), `out=` writing, the Tensor-argument check, torch's scalar-type names
for messages, device names, numpy views of values and torch.return_types lookups."""
from __future__ import annotations

import sys

import mlx.core as mx
import numpy as np

from .._tensor import _TORCH_NAME, Tensor


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


def _sname(d):
    """torch's scalar type name of dtype d in kernel messages ('Long')."""
    return _TORCH_NAME.get(d.name, d.name)


def _device_str(t):
    return "cpu" if t._device_code == 0 else "cuda"


def _np_values(t):
    """t's values as numpy (float16/bfloat16 through float32, which holds them exactly)."""
    a = t._mx
    if a.dtype == mx.bfloat16:
        a = a.astype(mx.float32)
    return np.array(a)


def _return_type(name):
    """torch.return_types.<name>."""
    from .. import return_types

    return getattr(return_types, name)
