"""torch.testing.make_tensor: random test tensors with torch's value ranges, checks and flags.

The values come from mlx_compat's own random generator; the dtype, shape, the interval they are drawn from and the
layout flags (noncontiguous, memory_format, requires_grad, exclude_zero) follow torch.
"""
from __future__ import annotations

import collections.abc
import math
import warnings

import mlx_compat as _mc

__all__ = ["make_tensor"]

_BOOL_INT_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64")
_FLOAT_COMPLEX_NAMES = ("float16", "bfloat16", "float32", "float64", "complex32", "complex64", "complex128")


def _dtype_name(dtype):
    return dtype.name if isinstance(dtype, _mc.dtype) else None


def _fill_uniform_(t, low, high):
    """t.uniform_(low, high), for ranges wider than the dtype's largest value too (drawn at half scale, doubled)."""
    if t.dtype == _mc.float64 and max(abs(low), abs(high)) > _mc.finfo(_mc.float32).max:
        # uniform_ samples in float32: a float64 range past float32's is drawn as a fraction of the span instead
        t.uniform_(0.0, 1.0)
        return t.mul_(high / 2 - low / 2).add_(low / 2).mul_(2)
    if high - low >= _mc.finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    r"""A tensor of `shape`, `dtype` and `device` filled with values drawn uniformly from ``[low, high)``, as
    `torch.testing.make_tensor`.

    `shape` is given as integers or as one sequence. When omitted, `low` / `high` default by dtype: bool 0 / 2,
    unsigned integers 0 / 10, signed integers -9 / 10, floating and complex -9 / 9 (real and imaginary parts alike);
    given bounds outside the dtype's finite range are clamped to it, and integer bounds are rounded up.

    `noncontiguous=True` returns a strided view (every second element of a tensor twice as long in the last
    dimension) when the tensor has more than one element; `memory_format` returns a clone in that format (the two
    exclude each other). `exclude_zero=True` replaces zeros with 1 (bool, integers) or the dtype's smallest normal
    number. `requires_grad` is for floating and complex dtypes only.

    Raises:
        ValueError: `low >= high`, a NaN bound, an interval outside the dtype's range, `requires_grad` for a bool or
            integer dtype, or both `noncontiguous` and `memory_format`.
        TypeError: a dtype this function does not support.
    """
    name = _dtype_name(dtype)

    def bounds(low, high, *, lowest, highest, default_low, default_high):
        low = default_low if low is None else low
        high = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
        if low == high and name in _FLOAT_COMPLEX_NAMES:
            warnings.warn(
                "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types "
                "is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                FutureWarning, stacklevel=3,
            )
        elif low >= high:
            raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
        elif high < lowest or low >= highest:
            raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                             f"but {dtype} only supports [{lowest}, {highest})")
        low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
        if name in _BOOL_INT_NAMES:  # randint's upper bound is exclusive: both ends round up
            return math.ceil(low), math.ceil(high)
        return low, high

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)

    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got {noncontiguous=} and {memory_format=}")
    if requires_grad and name in _BOOL_INT_NAMES:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got {dtype=}")

    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice the last dimension, then every second element from the second on
        shape = (*shape[:-1], 2 * shape[-1])

    if name == "bool":
        low, high = bounds(low, high, lowest=0, highest=2, default_low=0, default_high=2)
        result = _mc.randint(low, high, shape, device=device, dtype=dtype)
    elif name in _BOOL_INT_NAMES:
        info = _mc.iinfo(dtype)
        # randint cannot draw int64's largest value: its exclusive bound would not fit in int64
        low, high = bounds(low, high, lowest=info.min, highest=info.max + (1 if name != "int64" else 0),
                           default_low=-9, default_high=10)
        result = _mc.randint(low, high, shape, device=device, dtype=dtype)
    elif name in _FLOAT_COMPLEX_NAMES:
        info = _mc.finfo(dtype)
        low, high = bounds(low, high, lowest=info.min, highest=info.max, default_low=-9, default_high=9)
        result = _mc.empty(shape, device=device, dtype=dtype)
        _fill_uniform_(_mc.view_as_real(result) if dtype.is_complex else result, low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor().")

    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)

    if exclude_zero:
        result[result == 0] = 1 if name in _BOOL_INT_NAMES else _mc.finfo(dtype).tiny

    if name in _FLOAT_COMPLEX_NAMES:
        result.requires_grad = requires_grad
    return result
