"""Tensor creation: tensor/as_tensor/asarray/from_numpy/from_dlpack, the fill factories (zeros/ones/empty/full
and their *_like forms, scalar_tensor, empty_strided/empty_permuted, Tensor.new_empty_strided), ranges, eye, the
random factories (rand/randn/randint/randperm/normal/bernoulli/multinomial, Tensor.uniform_/normal_), and the
in-place fills (fill/fill_, zero_, resize_as_)."""
from __future__ import annotations

import builtins
import math
import os

import mlx.core as mx
import numpy as np

from .. import _C, _device, _dtype
from . import random as _random
from .._methods import declare_methods
from .._tensor import Tensor, _new, _int_arg
from ._common import _torch, _check_tensor, _device_str, _mlx_op, _sname

_MAX_BYTES = 1 << 46  # 64 TiB: anything larger cannot be allocated here, as torch finds when it tries


def _default_float():
    return _C._get_default_dtype()


def _stream(code):
    return _device.MX_DEVICES[code]


def _check_gpu_dtype(code, d):
    if code == _device.GPU and d is _dtype.float64:
        raise TypeError("Cannot create a float64 tensor on the GPU: MLX's GPU backends don't support float64. "
                        "Please use float32 instead.")


def _check_dtype(dtype, fname):
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"{fname}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")


def _memory_limit():
    """The most bytes one allocation can get: physical memory plus swap (what Linux's default overcommit
    heuristic grants), lowered by an address-space limit (ulimit -v) less what the process maps already."""
    limit = None
    try:
        limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("SwapTotal:"):
                    limit += int(line.split()[1]) * 1024
    except (ValueError, OSError, AttributeError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = min(limit, soft - mapped) if limit is not None else soft - mapped
    except (ImportError, ValueError, OSError):
        pass
    return limit


def _check_count(n, d):
    """A factory computing its values on the host (arange, range, linspace, logspace) refuses, before numpy
    allocates, a length whose float64 values or whose result the process cannot hold (Note [Allocation
    failure]), and a length past MLX's 32-bit dimension limit, with torch's allocator RuntimeError."""
    nbytes = n * builtins.max(8, d.itemsize)
    if nbytes < (1 << 30):
        return
    limit = _memory_limit()
    if n >= 2**31 or (limit is not None and nbytes > limit):
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {n * d.itemsize} "
                           f"bytes. Error code 12 (Cannot allocate memory)")


def _check_alloc(arr):
    """Note [Allocation failure]: MLX allocates when a value is evaluated and crashes the process (SIGSEGV)
    when the allocation fails, so a factory refuses, as torch's allocator does, a tensor larger than the
    memory the process can get, before MLX tries."""
    nbytes = arr.size * arr.itemsize
    if nbytes < (1 << 30):
        return
    limit = _memory_limit()
    if limit is not None and nbytes > limit:
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                           f"Error code 12 (Cannot allocate memory)")


def _finish(arr, dtype, device, requires_grad):
    """Wrap an mx.array as a new tensor on `device`, with torch's dtype/device/requires_grad checks."""
    code = _device.to_code(device)
    _check_dtype(dtype, "tensor")
    d = dtype if dtype is not None else _dtype.from_mx(arr.dtype)
    _check_gpu_dtype(code, d)
    _check_alloc(arr)
    if arr.dtype != d._mx:
        arr = arr.astype(d._mx)
    t = _new(arr, code, d)
    if requires_grad:
        if not (d.is_floating_point or d.is_complex):  # the factories' words (the setter's start lower-case)
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad = True
    return t


def _parse_size(size, fname="zeros"):
    """torch's size argument: ints as varargs or one sequence."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor) and s.dim() == 0 and not s.dtype.is_floating_point:
            s = s.item()
        if isinstance(s, builtins.bool) or not isinstance(s, (builtins.int, np.integer)):
            raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {len(out)}")
        if not -(2**63) <= s < 2**63:
            raise TypeError(f"{fname}(): argument 'size' failed to unpack the object at pos {len(out)} with error "
                            "\"Overflow when unpacking long\"")
        out.append(builtins.int(s))
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    n = math.prod(out)
    if n * 8 > _MAX_BYTES or builtins.any(s >= 2**31 for s in out):
        raise RuntimeError(f"[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: can't allocate memory: you tried "
                           f"to allocate {n * 4} bytes.")
    return tuple(out)


# ---------------------------------------------------------------- from data


def _infer_dtype(np_arr, explicit):
    if explicit is not None:
        return explicit
    k = np_arr.dtype.kind
    if k == "b":
        return _dtype.bool
    if k in "iu":
        return _dtype.int64
    if k == "f":
        return _default_float()
    if k == "c":
        return _dtype.complex64
    raise TypeError(f"new(): invalid data type '{np_arr.dtype.name}'")


def _check_sequence(data, depth=0):
    """torch's checks on nested data: rectangular (ValueError), numeric (TypeError)."""
    if isinstance(data, (list, tuple)):
        if not data:
            return (0,)
        shapes = [_check_sequence(x, depth + 1) for x in data]
        first = shapes[0]
        for s in shapes[1:]:
            if (s == ()) != (first == ()):
                # a number where a sequence was expected (or the reverse), as torch reports it
                raise TypeError("'list' object cannot be interpreted as an integer")
            if s != first:
                raise ValueError(f"expected sequence of length {first[0] if first else 0} at dim {depth + 1} "
                                 f"(got {s[0] if s else 0})")
        return (len(data),) + first
    if isinstance(data, (builtins.bool, builtins.int, builtins.float, builtins.complex, np.number, np.bool_)):
        return ()
    if isinstance(data, Tensor):
        return tuple(data.shape)
    if isinstance(data, np.ndarray):
        return data.shape
    if isinstance(data, str):
        raise ValueError("too many dimensions 'str'")
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


def _scalar_kind_dtype(data):
    """The dtype torch infers from Python data (lists of Python numbers or tensors)."""
    kinds = set()

    def walk(x):
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        elif isinstance(x, Tensor):
            kinds.add(x.dtype)
        elif isinstance(x, np.generic) and not isinstance(x, (np.bool_, np.float64, np.complex128)):
            kinds.add(_dtype.from_numpy_dtype(x.dtype))
        elif isinstance(x, (builtins.bool, np.bool_)):
            kinds.add("b")
        elif isinstance(x, (builtins.int, np.integer)):
            kinds.add("i")
        elif isinstance(x, (builtins.float, np.floating)):
            kinds.add("f")
        elif isinstance(x, (builtins.complex, np.complexfloating)):
            kinds.add("c")

    walk(data)
    if "c" in kinds:
        return _default_complex()
    tensors = [k for k in kinds if isinstance(k, _dtype.dtype)]
    if tensors:
        best = tensors[0]
        for t in tensors[1:]:
            best = _C._promote_types(best, t)
        if "f" in kinds and not (best.is_floating_point or best.is_complex):
            return _default_float()
        return best
    if "f" in kinds:
        return _default_float()
    if "i" in kinds:
        return _dtype.int64
    if "b" in kinds:
        return _dtype.bool
    return _default_float()


def _to_numpy_tree(data):
    if isinstance(data, (list, tuple)):
        return [_to_numpy_tree(x) for x in data]
    if isinstance(data, Tensor):
        return np.asarray(data.detach().cpu()).tolist() if data.dim() else data.item()
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """torch.tensor: always copies `data`; infers int64 for integers and the default dtype for floats."""
    _check_dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        arr = data._mx
        return _finish(arr, dtype if dtype is not None else data.dtype, device, requires_grad)
    if isinstance(data, (np.ndarray, np.generic)):
        data = np.asarray(data)
        d = dtype if dtype is not None else _dtype.from_numpy_dtype(data.dtype)
        if data.ndim > 1 and not data.flags.c_contiguous and device is None:
            t = from_numpy(data)  # keeps numpy's dense layout, as torch.tensor does
            t = t if d is t.dtype else t.to(d)
            if requires_grad:
                t.requires_grad = True
            return t
        return _finish(_np_to_mx(data, d), d, device, requires_grad)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if data is None or not isinstance(
            data, (list, tuple, builtins.bool, builtins.int, builtins.float, builtins.complex, np.number, np.bool_)):
        if hasattr(data, "__array__"):
            return tensor(np.asarray(data), dtype=dtype, device=device, requires_grad=requires_grad)
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    # a flat list of Python numbers of one type (a batch's indices or labels, `torch.tensor([...])` in a loop): its
    # shape and dtype without the per-element walks below, which cost ~0.8 us an element (53 us for 64 ints)
    t0 = builtins.type(data[0]) if builtins.type(data) in (list, tuple) and data else None
    if t0 in _FLAT_KINDS and builtins.all(builtins.type(x) is t0 for x in data):
        shape = (len(data),)
        d = dtype if dtype is not None else (_default_float() if t0 is builtins.float else _FLAT_KINDS[t0])
    else:
        shape = _check_sequence(data)
        d = dtype if dtype is not None else _scalar_kind_dtype(data)
    if isinstance(data, (list, tuple)) and builtins.any(isinstance(x, Tensor) for x in _flat_first(data)):
        data = _to_numpy_tree(data)
    try:
        np_arr = np.array(data, dtype=_np_compute_dtype(d))
    except (OverflowError, ValueError) as e:
        np_arr = _checked_integral(data, d, e)
    np_arr = np_arr.reshape(shape)
    return _finish(_np_to_mx(np_arr, d), d, device, requires_grad)


def _checked_integral(data, d, error):
    """Python numbers numpy refused to put in dtype d (`error`), converted as torch converts them (c10's
    checked_convert): an int beyond int64 is ValueError (torch reads every int as an int64); a value outside d's
    range, NaN or an infinity, RuntimeError; an unsigned type takes ints down to minus its maximum, wrapped as C
    wraps them (torch.tensor([-1], dtype=torch.uint8) is 255). Returns a numpy array of d's type."""
    flat = np.array(data, dtype=object).ravel()
    if builtins.any(builtins.isinstance(v, builtins.int) and not -(2 ** 63) <= v < 2 ** 63 for v in flat):
        raise ValueError("Overflow when unpacking long long") from None
    if d.is_floating_point or d.is_complex or d is _dtype.bool:
        raise error
    info = np.iinfo(d._np)
    lo = info.min if d.is_signed else -info.max
    for v in flat:
        if builtins.isinstance(v, (builtins.float, np.floating)):
            ok = info.min <= v <= info.max  # False for NaN
        else:
            ok = lo <= v <= info.max
        if not ok:
            raise RuntimeError(f"value cannot be converted to type {_CTYPE.get(d.name, d.name)} without overflow") \
                from None
    return np.array([builtins.int(v) for v in flat], dtype=np.int64).astype(d._np)


_FLAT_KINDS = {builtins.int: _dtype.int64, builtins.bool: _dtype.bool, builtins.float: None}


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        if builtins.any(isinstance(x, Tensor) for x in data):
            return data
        data = data[0]
    return ()


def _np_compute_dtype(d):
    return np.float32 if d is _dtype.bfloat16 else d._np


def _np_to_mx(np_arr, d):
    if np_arr.size == 0:
        # MLX 0.32 can hang evaluating reductions of empty arrays built from numpy buffers (never for
        # arrays from mx.zeros): empty data never goes through the buffer path
        return mx.zeros(np_arr.shape, dtype=d._mx)
    if d is _dtype.bfloat16:
        return mx.array(np.asarray(np_arr, dtype=np.float32), dtype=mx.float32).astype(mx.bfloat16)
    if np_arr.dtype != d._np:
        np_arr = np_arr.astype(d._np)
    return mx.array(np_arr, dtype=d._mx)  # explicit: MLX would narrow float64 to float32


def as_tensor(data, *, dtype=None, device=None):
    """torch.as_tensor: returns `data` itself when it is already a tensor of that dtype/device (dtype and device
    keyword-only, as torch's parser takes them)."""
    if isinstance(data, Tensor):
        if device is None and _device.to_code(None) != data._device_code:  # a default device set: torch moves it
            device = _device.get_default_device()
        return data.to(dtype=dtype, device=device) if (dtype or device) else data
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """torch.frombuffer: a 1-D tensor of `count` elements of `dtype` read from a buffer-protocol object at byte
    `offset` (count -1: the rest). A copy, as from_numpy's: MLX cannot adopt outside memory."""
    n = len(memoryview(buffer).cast("B"))
    size = dtype.itemsize
    if n == 0 and count in (-1, 0):
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({n} "
                         f"bytes) minus 1")
    if count == -1:
        if (n - offset) % size:
            raise ValueError(f"buffer length ({n - offset} bytes) after offset ({offset} bytes) must be a multiple "
                             f"of element size ({size})")
        count = (n - offset) // size
    elif count <= 0 or offset + count * size > n:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({n} bytes)")
    arr = np.frombuffer(buffer, dtype=dtype._np, count=count, offset=offset).copy()
    return _finish(_np_to_mx(arr, dtype), dtype, "cpu", requires_grad)


def from_numpy(arr):
    """torch.from_numpy. MLX copies the buffer into its own array (it cannot adopt numpy memory), so
    later writes to `arr` are not seen by the tensor — unlike torch, which shares it."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    from .._tensor import _new_like_layout

    d = _dtype.from_numpy_dtype(arr.dtype)
    strides = tuple(s // arr.itemsize for s in arr.strides) if arr.itemsize else ()
    if arr.ndim and not arr.flags.c_contiguous and builtins.all(s >= 0 for s in strides):
        # keep numpy's layout, as torch.from_numpy does (its strides are numpy's)
        return _new_like_layout(_np_to_mx(np.require(arr, requirements="C"), d), arr.shape, strides, 0, d)
    return _finish(_np_to_mx(np.require(arr, requirements="C"), d), d, "cpu", False)  # never the default device


def from_dlpack(ext):
    """torch.from_dlpack for CPU producers (numpy, torch, mlx): values are copied into MLX."""
    if isinstance(ext, Tensor):
        return ext
    arr = np.from_dlpack(ext)
    return from_numpy(arr)


# ---------------------------------------------------------------- fills


def _fill(size, value, dtype, device, requires_grad, fname):
    _check_dtype(dtype, fname)
    shape = _parse_size(size, fname)
    d = dtype if dtype is not None else _default_float()
    code = _device.to_code(device)
    _check_gpu_dtype(code, d)
    arr = mx.full(shape, value, dtype=d._mx, stream=_stream(code)) if shape else mx.array(value, dtype=d._mx)
    return _finish(arr, d, device, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _out(out, _fill(size, 0, dtype, device, requires_grad, "zeros"))


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _out(out, _fill(size, 1, dtype, device, requires_grad, "ones"))


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """torch.empty: MLX has no uninitialised memory, so the values are zeros."""
    return _out(out, _fill(size, 0, dtype, device, requires_grad, "empty"))


def _default_complex():
    """torch's default complex dtype: complex64, or complex128 (which MLX lacks) under a float64 default."""
    if _default_float() is _dtype.float64:
        raise TypeError("complex128 is not supported by MLX (the default complex dtype under a float64 default)")
    return _dtype.complex64


def _scalar_dtype(value):
    if isinstance(value, Tensor):
        return value.dtype
    if isinstance(value, builtins.bool):
        return _dtype.bool
    if isinstance(value, builtins.int):
        return _dtype.int64
    if isinstance(value, builtins.complex):
        return _default_complex()
    return _default_float()


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (builtins.bool, builtins.int, builtins.float, builtins.complex, np.number)):
        raise TypeError(f"full(): argument 'fill_value' must be Number, not {type(fill_value).__name__}")
    d = dtype if dtype is not None else _scalar_dtype(fill_value)
    if isinstance(size, (builtins.int, np.integer)):  # torch's full takes no varargs size (zeros does)
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if (d.is_floating_point or d.is_complex) and type(fill_value) is builtins.int and not -2 ** 63 <= fill_value < 2 ** 63:
        # torch's scalar parsing takes an int up to uint64's range (MLX raised std::bad_cast past int64)
        if not 0 < fill_value < 2 ** 64:
            raise OverflowError("int too big to convert" if fill_value > 0 else "can't convert negative int to unsigned")
        fill_value = builtins.float(fill_value)
    if not (d.is_floating_point or d.is_complex or d is _dtype.bool or isinstance(fill_value, builtins.complex)):
        # an integer fill converts as torch's checked_convert: in range (an unsigned type wraps a negative down to
        # minus its maximum), else torch's error; MLX refused -1 for uint8 and wrapped nothing else
        try:
            fill_value = builtins.int(_checked_integral([fill_value], d, None)[0])
        except ValueError:  # an int past int64 (torch.tensor's ValueError): torch's scalar parsing takes up to uint64
            if not -(2 ** 63) <= fill_value < 2 ** 64:
                raise OverflowError("int too big to convert" if fill_value > 0 else
                                    "can't convert negative int to unsigned") from None
            raise RuntimeError(f"value cannot be converted to type {_CTYPE[d.name]} without overflow") from None
    return _out(out, _fill((tuple(size),), fill_value, d, device, requires_grad, "full"))


def _like(t, dtype, device):
    if not isinstance(t, Tensor):
        raise TypeError(f"argument 'input' must be Tensor, not {type(t).__name__}")
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def _keep_layout(t, r):
    """torch's *_like keep a dense input's strides (preserve_format)."""
    if t.is_contiguous() or t.dim() < 2:
        return r
    from .._tensor import _new_like_layout

    return _new_like_layout(r._mx, tuple(t.shape), t.stride(), r._device_code, r.dtype)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _keep_layout(input, zeros(input.shape, dtype=d, device=dev, requires_grad=requires_grad))


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _keep_layout(input, ones(input.shape, dtype=d, device=dev, requires_grad=requires_grad))


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _keep_layout(input, empty(input.shape, dtype=d, device=dev, requires_grad=requires_grad))


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _keep_layout(input, full(input.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad))


def _out(out, result):
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape):
        out._set_data(result._mx.astype(out.dtype._mx))
    else:
        out.copy_(result)
    return out


# ---------------------------------------------------------------- ranges


def _is_float_arg(x):
    return isinstance(x, builtins.float) or (isinstance(x, Tensor) and x.dtype.is_floating_point)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if not isinstance(v, (builtins.int, builtins.float, Tensor, np.number)) or isinstance(v, builtins.complex):
            raise TypeError(f"arange(): argument '{name}' must be Number, not {type(v).__name__}")
    floaty = builtins.any(_is_float_arg(v) for v in (start, end, step))
    _no_bool_range(dtype, "arange_cpu")
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    d = dtype if dtype is not None else (_default_float() if floaty else _dtype.int64)
    if floaty and not (d.is_floating_point or d.is_complex):
        return _out(out, _finish(_np_to_mx(_integer_arange(start, end, step, d), d), d, device, requires_grad))
    n = builtins.int(math.ceil((end - start) / step))
    if n * 8 > _MAX_BYTES:
        raise RuntimeError(f"invalid size, possible overflow?")
    _check_count(n, d)
    if d.is_floating_point or d.is_complex or floaty:
        vals = start + np.arange(n, dtype=np.float64) * step
    else:
        vals = start + np.arange(n, dtype=np.int64) * step
    return _out(out, _finish(_np_to_mx(vals, d), d, device, requires_grad))


def _no_bool_range(d, kernel):
    """torch's range factories have no bool kernel."""
    if d is _dtype.bool:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _integer_arange(start, end, step, d):
    """arange of float arguments into integer dtype d as torch's kernel: start and step truncated to integers (for
    int64 the end too, and the length counted in integers; for the other types the length from the float
    arguments), so arange(0, 3, 1.5, dtype=int64) is [0, 1, 2]."""
    xs, xst = builtins.int(start), builtins.int(step)
    if d is _dtype.int64:
        xe = builtins.int(end)
        if xst == 0:
            raise ValueError("step must be nonzero")
        sgn = 1 if xst > 0 else -1
        n = builtins.max(-((-(xe - xs + xst - sgn)) // xst), 0)
    else:
        n = builtins.int(math.ceil((end - start) / step))
    _check_count(n, d)
    return xs + np.arange(n, dtype=np.int64) * xst


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001 - torch's name
    """Deprecated torch.range: includes `end`; float by default."""
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    _no_bool_range(dtype, "range_cpu")
    n = builtins.int(math.floor((end - start) / step)) + 1
    d = dtype if dtype is not None else _default_float()
    _check_count(builtins.max(n, 0), d)
    vals = start + np.arange(n, dtype=np.float64) * step
    return _finish(_np_to_mx(vals, d), d, device, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if not isinstance(steps, (builtins.int, np.integer)) or isinstance(steps, builtins.bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    start, end = _num(start), _num(end)
    d = dtype if dtype is not None else (_dtype.complex64 if isinstance(start, complex) or isinstance(end, complex)
                                         else _default_float())
    if steps:
        _no_bool_range(d, "linspace_cpu")
    _check_count(steps, d)
    vals = _linspace_values(start, end, steps, d)
    return _out(out, _finish(_np_to_mx(vals, d), d, device, requires_grad))


def _linspace_values(start, end, steps, d):
    """torch's linspace: the first half counts up from start, the second half down from end."""
    if steps == 0:
        return np.zeros(0)
    if steps == 1:
        return np.array([start], dtype=np.float64 if not isinstance(start, complex) else np.complex128)
    if not (d.is_floating_point or d.is_complex):
        step = (end - start) / (steps - 1)
        idx = np.arange(steps, dtype=np.float64)
        return np.trunc(start + idx * step).astype(np.int64) if True else None
    work = np.float64 if d is _dtype.float64 else (np.complex64 if d.is_complex else np.float32)
    step = work((end - start) / (steps - 1)) if not d.is_complex else np.complex64((end - start) / (steps - 1))
    idx = np.arange(steps)
    half = steps // 2
    vals = np.where(idx < half, work(start) + step * idx.astype(work), work(end) - step * (steps - 1 - idx).astype(work))
    return vals


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(steps, (builtins.int, np.integer)) and not isinstance(steps, builtins.bool) and steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = dtype if dtype is not None else _default_float()
    if steps:
        _no_bool_range(d, "logspace_cpu")
    _check_count(builtins.int(steps), d)
    lin = _linspace_values(_num(start), _num(end), steps, _dtype.float64).astype(np.float64)
    vals = np.power(base, lin)
    return _out(out, _finish(_np_to_mx(vals, d), d, device, requires_grad))


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if m is None:
        m = n
    for name, v in (("n", n), ("m", m)):
        if not isinstance(v, (builtins.int, np.integer)) or isinstance(v, builtins.bool):
            raise TypeError(f"eye(): argument '{name}' must be int, not {type(v).__name__}")
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    d = dtype if dtype is not None else _default_float()
    arr = mx.eye(n, m, dtype=d._mx) if n and m else mx.zeros((n, m), dtype=d._mx)
    return _out(out, _finish(arr, d, device, requires_grad))


# ---------------------------------------------------------------- random factories


def _float_dtype(dtype, fname):
    d = dtype if dtype is not None else _default_float()
    if not (d.is_floating_point or d.is_complex):
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_sname(d)}'")
    return d


def _uniform01(shape, d, key):
    """U[0, 1) draws for dtype d. MLX draws float32 only, so float64 values would have float32's 24 bits: they are
    made, as numpy's doubles, from 26 + 27 random bits of two integer draws (53 bits, every multiple of 2**-53
    equally likely). float64 lives on the CPU, so they are drawn there."""
    if d is not _dtype.float64:
        return mx.random.uniform(shape=shape, key=key)
    k1, k2 = mx.random.split(key)
    hi = mx.random.randint(0, 1 << 26, shape=shape, key=k1, stream=mx.cpu).astype(mx.float64)
    lo = mx.random.randint(0, 1 << 27, shape=shape, key=k2, stream=mx.cpu).astype(mx.float64)
    return (hi * float(1 << 27) + lo) * 2.0 ** -53


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    shape = _parse_size(size, "rand")
    d = _float_dtype(dtype, "check_uniform_bounds")
    arr = _uniform01(shape, d, _random.key_for(generator))
    return _out(out, _finish(arr.astype(d._mx), d, device, requires_grad))


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    shape = _parse_size(size, "randn")
    d = _float_dtype(dtype, "normal_kernel_cpu")
    key = _random.key_for(generator)
    if d.is_complex:
        re = mx.random.normal(shape=shape, key=key) * math.sqrt(0.5)
        im = mx.random.normal(shape=shape, key=_random.key_for(generator)) * math.sqrt(0.5)
        arr = re + 1j * im
    elif d is _dtype.float64:  # MLX draws float64 normals itself (on the CPU, where float64 lives)
        arr = mx.random.normal(shape=shape, dtype=mx.float64, key=key, stream=mx.cpu)
    else:
        arr = mx.random.normal(shape=shape, key=key)
    return _out(out, _finish(arr.astype(d._mx), d, device, requires_grad))


# the C type names of torch's random_ bound errors
_RANDOM_CTYPE = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int", "int64": "long",
                 "uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int", "bool": "bool"}


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    shape = _parse_size((tuple(size),), "randint")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = dtype if dtype is not None else _dtype.int64
    if not (d.is_floating_point or d.is_complex):  # torch's random_ bounds: the range must fit the dtype
        lo, hi = (0, 1) if d is _dtype.bool else (np.iinfo(d._np).min, np.iinfo(d._np).max)
        name = _RANDOM_CTYPE.get(d.name, d.name)
        if low < lo:
            raise RuntimeError(f"from is out of bounds for {name}")
        if high - 1 > hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    arr = mx.random.randint(low, high, shape=shape, dtype=mx.int64 if not d.is_floating_point else mx.int32,
                            key=_random.key_for(generator))
    return _out(out, _finish(arr.astype(d._mx), d, device, requires_grad))


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    if not isinstance(n, (builtins.int, np.integer)) or n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    d = dtype if dtype is not None else _dtype.int64
    if d is _dtype.bool:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if not (d.is_floating_point or d.is_complex) and n - 1 > np.iinfo(d._np).max:
        raise RuntimeError(f"value cannot be converted to type {_CTYPE[d.name]} without overflow")
    if n == 0:
        arr = mx.zeros((0,), dtype=d._mx)
    else:
        arr = mx.random.permutation(builtins.int(n), key=_random.key_for(generator))
    return _out(out, _finish(arr.astype(d._mx), d, device, requires_grad))


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return rand(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return randn(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    d, dev = _like(input, dtype, device)
    return randint(low, high, tuple(input.shape), dtype=d, device=dev, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """torch.normal: (Tensor, Tensor), (Tensor, float), (float, Tensor) or (float, float, size)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        if isinstance(std, Tensor) and builtins.bool((std < 0).any().item()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if isinstance(std, (builtins.int, builtins.float)) and std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = ref.shape if not (isinstance(mean, Tensor) and isinstance(std, Tensor)) else \
            tuple(np.broadcast_shapes(tuple(mean.shape), tuple(std.shape)))
        z = randn(tuple(shape), generator=generator, dtype=ref.dtype, device=ref.device)
        return _out(out, z * std + mean)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - expected size for float mean/std")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = randn(size, generator=generator, dtype=dtype, device=device)
    r = z * std + mean
    if requires_grad:
        r.requires_grad = True
    return _out(out, r)


# ---------------------------------------------------------------- in-place samplers and draws


def _sample_into(self, arr):
    return self._write(arr.astype(self.dtype._mx))


def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    if not (self.dtype.is_floating_point or self.dtype.is_complex):
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{_sname(self.dtype)}'")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    if self.dtype is _dtype.float64:
        arr = from_ + (to - from_) * _uniform01(tuple(self.shape), self.dtype, _random.key_for(generator))
    else:
        arr = mx.random.uniform(from_, to, shape=tuple(self.shape), key=_random.key_for(generator))
    return _sample_into(self, arr)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if not (self.dtype.is_floating_point or self.dtype.is_complex):
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_sname(self.dtype)}'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    key = _random.key_for(generator)
    z = mx.random.normal(shape=tuple(self.shape), dtype=mx.float64, key=key, stream=mx.cpu) \
        if self.dtype is _dtype.float64 else mx.random.normal(shape=tuple(self.shape), key=key)
    return _sample_into(self, z * std + mean)


def bernoulli(input, p=None, *, generator=None, out=None):
    if isinstance(p, (builtins.int, builtins.float)) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    probs = input._mx if p is None else (p._mx if isinstance(p, Tensor) else p)
    # torch's eager check of the probabilities (a value read; skipped while MLX traces: Note [No evaluation while
    # tracing])
    if not isinstance(probs, (builtins.int, builtins.float)) and probs.size and \
            _C._item_or_none(mx.any(~((probs >= 0) & (probs <= 1)))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    r = mx.random.bernoulli(probs, shape=tuple(input.shape), key=_random.key_for(generator))
    return _out(out, _new(r.astype(input.dtype._mx), input._device_code, input.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_sname(input.dtype)}")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n_cat = input.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    p = input._mx.astype(mx.float32)
    # torch's eager checks of the distribution, one value read (skipped while MLX traces: Note [No evaluation while
    # tracing]): a negative, infinite or NaN weight, then a row without weight
    if p.size:
        bad = _C._item_or_none(mx.where(mx.any(~((p >= 0) & (p < float("inf")))), 1,
                                        mx.where(mx.any(mx.sum(p, axis=-1) <= 0), 2, 0)))
        if bad == 1:
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bad == 2:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    logits = mx.log(p)
    key = _random.key_for(generator)
    if replacement:
        r = mx.random.categorical(logits, axis=-1, num_samples=num_samples, key=key)
    else:
        # Gumbel top-k: sampling without replacement in proportion to the weights
        g = -mx.log(-mx.log(mx.random.uniform(shape=p.shape, key=key)))
        r = mx.argsort(-(logits + g), axis=-1)[..., :num_samples]
    return _out(out, _new(r.astype(mx.int64), input._device_code, _dtype.int64))


declare_methods({"uniform_": uniform_, "normal_": normal_, "bernoulli": bernoulli, "multinomial": multinomial})


# the C++ type names in torch's "value cannot be converted to type ..." messages
_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool",
          "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t"}


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
    if sorted(perm) != list(builtins.range(len(size))):  # creation.py defines torch.range
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


# Tensor methods of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({
    "new_empty_strided": _new_empty_strided,
})
