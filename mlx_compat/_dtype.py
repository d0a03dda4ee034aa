"""torch's dtype objects (torch.float32, ...), finfo/iinfo and default-dtype handling.

Each dtype carries its MLX twin (`_mx`) and its code (MLX's enum value), which the C core uses.
"""
from __future__ import annotations

import mlx.core as mx
import numpy as np


class dtype:
    """A tensor element type, printed and compared as torch's (``torch.float32``)."""

    __slots__ = ("name", "_code", "_mx", "itemsize", "is_floating_point", "is_complex", "is_signed", "_np")

    def __init__(self, name, mx_dtype, np_dtype, itemsize, is_float, is_complex, is_signed):
        self.name = name
        self._mx = mx_dtype
        self._code = hash(mx_dtype)
        self._np = np_dtype
        self.itemsize = itemsize
        self.is_floating_point = is_float
        self.is_complex = is_complex
        self.is_signed = is_signed

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return self.name  # pickles as the module attribute of that name

    def to_real(self):
        return float32 if self is complex64 else self

    def to_complex(self):
        """complex64 for float32/float16/bfloat16 (torch gives complex32 for float16: MLX lacks it, and
        complex64 holds the same values); float64 would be complex128, which MLX lacks."""
        if self is float64:
            raise TypeError("complex128 is not supported by MLX (float64.to_complex())")
        if not (self.is_floating_point or self.is_complex):
            raise RuntimeError(f"Unknown Complex ScalarType for {self.name.capitalize()}")
        return complex64

    @property
    def is_quantized(self):
        return False


float32 = dtype("float32", mx.float32, np.float32, 4, True, False, True)
float64 = dtype("float64", mx.float64, np.float64, 8, True, False, True)
float16 = dtype("float16", mx.float16, np.float16, 2, True, False, True)
bfloat16 = dtype("bfloat16", mx.bfloat16, None, 2, True, False, True)
complex64 = dtype("complex64", mx.complex64, np.complex64, 8, False, True, True)
int8 = dtype("int8", mx.int8, np.int8, 1, False, False, True)
int16 = dtype("int16", mx.int16, np.int16, 2, False, False, True)
int32 = dtype("int32", mx.int32, np.int32, 4, False, False, True)
int64 = dtype("int64", mx.int64, np.int64, 8, False, False, True)
uint8 = dtype("uint8", mx.uint8, np.uint8, 1, False, False, False)
uint16 = dtype("uint16", mx.uint16, np.uint16, 2, False, False, False)
uint32 = dtype("uint32", mx.uint32, np.uint32, 4, False, False, False)
uint64 = dtype("uint64", mx.uint64, np.uint64, 8, False, False, False)
bool = dtype("bool", mx.bool_, np.bool_, 1, False, False, False)  # noqa: A001 - torch's name

# torch's aliases
float = float32  # noqa: A001
double = float64
half = float16
cfloat = complex64
short = int16
int = int32  # noqa: A001
long = int64

ALL = (float32, float64, float16, bfloat16, complex64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool)
BY_CODE = [None] * 14
for _d in ALL:
    BY_CODE[_d._code] = _d
BY_NAME = {d.name: d for d in ALL}
_NP_TO_DTYPE = {np.dtype(d._np): d for d in ALL if d._np is not None}


def from_mx(mx_dtype) -> dtype:
    return BY_CODE[hash(mx_dtype)]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _NP_TO_DTYPE[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
        ) from None


def to_numpy_dtype(d: dtype):
    if d is bfloat16:
        raise TypeError("Got unsupported ScalarType BFloat16")
    return d._np


class finfo:
    """Machine limits of a floating dtype, as torch.finfo."""

    def __init__(self, type=None):  # noqa: A002 - torch's keyword
        from . import _C

        type = _C._get_default_dtype() if type is None else type
        if not isinstance(type, dtype) or not (type.is_floating_point or type.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'")
        base = float32 if type is complex64 else type
        if base is bfloat16:
            self.bits, self.eps, self.max, self.min = 16, 0.0078125, 3.3895313892515355e38, -3.3895313892515355e38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            self.resolution = 0.01
        else:
            info = np.finfo(base._np)
            self.bits = info.bits
            self.eps = builtins_float(info.eps)
            self.max = builtins_float(info.max)
            self.min = builtins_float(info.min)
            self.tiny = self.smallest_normal = builtins_float(info.smallest_normal)
            self.resolution = 10.0 ** -builtins_int(info.precision)
        self.dtype = base.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as torch.iinfo."""

    def __init__(self, type):  # noqa: A002
        if not isinstance(type, dtype) or type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        if type is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        info = np.iinfo(type._np)
        self.bits = info.bits
        self.max = builtins_int(info.max)
        self.min = builtins_int(info.min)
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


import builtins as _builtins  # noqa: E402

builtins_float = _builtins.float
builtins_int = _builtins.int
