"""mlx_compat.Tensor: the C type from _C, and the Python-level methods declared for it here.

The hot path (operators, indexing, view ops, metadata, sum/mean) is C (csrc/). What lives here
evaluates anyway (conversions to Python/numpy), is rarely hot (dtype/device moves, printing), or
composes the C primitives (the less common view ops). The methods are declared with
`_methods.tensor_method`/`declare` and put on the C type itself by `_methods.install` at the end of package
import (Note [Declared Tensor methods]) rather than on a Python subclass, so results created by C are already
`Tensor` (see BENCHMARKS.md).
"""
from __future__ import annotations

import builtins
import copy
import copyreg

import mlx.core as mx
import numpy as np

from . import _C, _device, _dtype, _tensor_str
from ._methods import declare, tensor_method
from ._size import Size

Tensor = _C.TensorBase

_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
    "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
}
_NAME_TO_DTYPE = {v: k for k, v in _TYPE_NAMES.items()}


def _traced_read_error(name):
    """torch's kind of error (RuntimeError) for reading values in `name`() while MLX traces the function."""
    return RuntimeError(
        f"Could not read a tensor's value in {name}() while MLX traces the function (mx.compile / mx.vmap): this "
        "is a data-dependent operation, which a traced graph cannot contain. Read values outside the traced "
        "function.")


def _reads_values(fn):
    """fn reads the tensor's values: while MLX traces (mx.compile, mx.vmap) that is a data-dependent
    operation, raised as torch raises those under tracing (RuntimeError) instead of MLX's ValueError
    (Note [No evaluation while tracing] in csrc/mxcall.c)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            if "during function transformations" not in str(e):
                raise
            raise _traced_read_error(fn.__name__) from None

    return wrapper


def _new(arr, device_code=0, dtype=None):
    """A new base Tensor over an mx.array."""
    return Tensor._new_on(arr, device_code, -1 if dtype is None else dtype._code)


# ---------------------------------------------------------------- evaluation and conversion


def _evaluated(t):
    """t's value, evaluated under the process-wide evaluation lock (Note [Threads] in csrc/threads.c)."""
    v = t._mx
    _C._eval(v)
    return v


def _mx_evaluated(arr):
    """arr, an mx.array the package computed itself, evaluated under the evaluation lock (Note [Threads]) before
    numpy or Python reads it; while MLX traces it, MLX's own refusal to evaluate."""
    _C._eval(arr)
    return arr


def _mx_item(arr):
    """arr.item() for an mx.array the package computed itself (a bound, a check's verdict), evaluated under the
    evaluation lock (Note [Threads]); while MLX traces it, MLX's own refusal to evaluate, as arr.item() gives."""
    return _mx_evaluated(arr).item()


def _numel_check(t, what):
    n = t.numel()
    if n != 1:
        if what == "item":
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        raise ValueError("only one element tensors can be converted to Python scalars")


@_reads_values
def item(self):
    """Tensor.item()'s reference: its C fast path (Note [Fast paths fall back]) is the Tensor type's own method
    (csrc/mxcall.c, fast_item_method) and comes here for arguments, another element count and errors."""
    _numel_check(self, "item")
    return _evaluated(self).item()


_C._register_fallback("Tensor.item", item)


@tensor_method
@_reads_values
def tolist(self):
    return _evaluated(self).tolist()


@tensor_method
@_reads_values
def numpy(self, *, force=False):
    """A numpy array over the tensor's evaluated buffer (zero-copy on the CPU; read-only, since
    MLX arrays are immutable values: write through the tensor instead)."""
    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self.is_conj() and not force:  # Note [Conjugate views] in csrc/core.h: the value read is resolved
        raise RuntimeError("Can't call numpy() on Tensor that has conjugate bit set. Use tensor.resolve_conj().numpy() "
                           "instead.")
    if self.is_neg() and not force:
        raise RuntimeError("Can't call numpy() on Tensor that has negative bit set. Use tensor.resolve_neg().numpy() "
                           "instead.")
    if self.dtype is _dtype.bfloat16:
        raise TypeError("Got unsupported ScalarType BFloat16")
    a = np.asarray(_evaluated(self))
    if a.flags.writeable:
        a.flags.writeable = False
    return a


@tensor_method
def __array__(self, dtype=None, copy=None):
    if self.dtype is _dtype.bfloat16:
        v = self._mx.astype(mx.float32)
        _C._eval(v)
        a = np.asarray(v)
    else:
        a = np.array(_evaluated(self), copy=True)
    return a if dtype is None else a.astype(dtype)


declare("__array_priority__", 1000)


# Note [Scalar conversions on the item path]
# bool(t), float(t) and int(t) are read in loops right after a step (`if loss < best`, `total += float(loss)`),
# where the step's evaluation has evicted their code from the caches, so each Python layer costs microseconds
# (bench/bench_value_reads.py). Each checks the element count as torch does and reads through Tensor.item's C
# fast path (csrc/mxcall.c) with at most one frame besides its own; a read refused while MLX traces arrives as item()'s
# RuntimeError and is raised again naming the conversion.
_item = Tensor.item  # the C type's own method descriptor (csrc/fastpath.c), there before this module runs


@tensor_method
def __bool__(self):
    n = self.numel()
    if n != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if n == 0 else 'more than one value'} is "
                           "ambiguous")
    try:
        return builtins.bool(_item(self))
    except RuntimeError as e:
        if "while MLX traces" in str(e):
            raise _traced_read_error("__bool__") from None
        raise


def _real_scalar(t, kind):
    """The value of one-element t for float()/int() (`kind`), as torch checks and converts it."""
    if t.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    try:
        v = _item(t)
    except RuntimeError as e:
        if "while MLX traces" in str(e):
            raise _traced_read_error(f"__{kind}__") from None
        raise
    if isinstance(v, complex):
        if v.imag != 0:
            raise RuntimeError("value cannot be converted to type double without overflow")
        v = v.real
    return v


@tensor_method
def __float__(self):
    return builtins.float(_real_scalar(self, "float"))


@tensor_method
def __int__(self):
    return builtins.int(_real_scalar(self, "int"))


@tensor_method
@_reads_values
def __complex__(self):
    _numel_check(self, "complex")
    return builtins.complex(_evaluated(self).item())


@tensor_method
@_reads_values
def __index__(self):
    if self.dtype.is_floating_point or self.dtype.is_complex or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return builtins.int(_evaluated(self).item())


@tensor_method
def __len__(self):
    if self.dim() == 0:
        raise TypeError("len() of a 0-d tensor")
    return self.shape[0]


@tensor_method
def __iter__(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


@tensor_method
def __contains__(self, element):
    if isinstance(element, (Tensor, builtins.int, builtins.float, builtins.bool, builtins.complex)):
        return builtins.bool((self == element).any().item())
    raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {builtins.type(element)}.")


@tensor_method
def __repr__(self, *, tensor_contents=None):
    return _tensor_str.tensor_repr(self, _C._get_default_dtype().name)


declare("__str__", __repr__)


@tensor_method
def __format__(self, spec):
    if self.dim() == 0:
        return self.item().__format__(spec)
    return object.__format__(self, spec)


@tensor_method
def __reduce_ex__(self, protocol):
    value = self.detach().cpu()
    if value.dtype is _dtype.bfloat16:
        payload, name = np.asarray(_mx_evaluated(value._mx.astype(mx.float32))), "bfloat16"
    else:
        payload, name = np.array(_mx_evaluated(value._mx)), value.dtype.name
    return (_rebuild_tensor, (payload, name, self.requires_grad, str(self.device)))


def _rebuild_tensor(payload, dtype_name, requires_grad, device="cpu"):
    # reachable from any pickle, so only what __reduce_ex__ writes is taken: a numeric numpy array (a
    # crafted nested list would recurse in mx.array until the C stack overflows)
    if not isinstance(payload, np.ndarray) or payload.dtype.kind not in "biufc":
        raise TypeError(f"_rebuild_tensor(): expected a numeric numpy array, got {builtins.type(payload).__name__}")
    if not isinstance(dtype_name, str) or dtype_name not in _dtype.BY_NAME:
        raise TypeError(f"_rebuild_tensor(): unknown dtype {dtype_name!r}")
    if payload.ndim > 64:
        raise RuntimeError("tensors with more than 64 dimensions are not supported")
    d = _dtype.BY_NAME[dtype_name]
    t = _new(mx.array(payload).astype(d._mx), _device.to_code(device) if device != "cpu" else 0, d)
    if requires_grad:
        t.requires_grad = True
    return t


# ---------------------------------------------------------------- the legacy constructor


def _qualified_type_name(o):
    t = builtins.type(o)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _legacy_size_item(a):
    return isinstance(a, (builtins.int, np.integer)) and not isinstance(a, (builtins.bool, np.bool_))


def _legacy_new(cls, dtype, args, kwargs):
    """torch's legacy constructor `Tensor(...)` / `FloatTensor(...)` (tensor_new.cpp's legacy_tensor_ctor):
    no argument is an empty tensor; ints (or one Size) are a size, for an uninitialised tensor (zeros here) with
    torch's negative-size and allocator errors; one sequence or array is data converted to the dtype; one Tensor
    is an alias of it (the generic `Tensor` keeps its dtype, a typed constructor refuses another). Anything else
    is torch's TypeError: a number is not data (`Tensor(2.0)`), `Tensor(True)` is not a size."""
    from ._ops import creation as _creation

    if builtins.any(k != "device" for k in kwargs):
        got = ", ".join(f"{k}={builtins.type(v).__name__}" for k, v in kwargs.items())
        raise TypeError(f"new() received an invalid combination of arguments - got ({got}, )")
    device = kwargs.get("device")
    d = dtype if dtype is not None else _C._get_default_dtype()
    if not args:
        r = _creation.empty(0, dtype=d, device=device)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if dtype is not None and src.dtype is not dtype:
            raise TypeError(f"expected TensorOptions(dtype={dtype}, device=cpu) (got TensorOptions(dtype={src.dtype}, "
                            f"device={src.device}))")
        r = src[...]  # an alias sharing src's storage, as torch's Tensor(tensor)
    elif builtins.all(_legacy_size_item(a) for a in args) or (len(args) == 1 and isinstance(args[0], Size)):
        r = _creation.empty(*args, dtype=d, device=device) if not isinstance(args[0], Size) else \
            _creation.empty(tuple(args[0]), dtype=d, device=device)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if not isinstance(data, (list, tuple, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {_qualified_type_name(data)})")
        if isinstance(data, np.ndarray) and data.dtype.kind == "c" and not d.is_complex:
            import warnings

            warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=3)
            data = data.real
        r = _creation.tensor(data, dtype=d, device=device)
    else:
        for pos, a in builtins.enumerate(args):
            if not _legacy_size_item(a):
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos + 1} with error "
                                f"\"type must be tuple of ints,but got {builtins.type(a).__name__}\"")
        raise AssertionError("unreachable")
    if cls is not Tensor and not isinstance(r, cls):
        r = Tensor._make_subclass(cls, r, False)
    return r


def _tensor_new(cls, *args, **kwargs):
    return _legacy_new(cls, None, args, kwargs)


declare("__new__", staticmethod(_tensor_new), replaces=True)  # the C slot only builds Tensor()


@tensor_method
def __deepcopy__(self, memo):
    """copy.deepcopy as torch's: the storage is copied once per deepcopy call (memoised by its identity), so
    tensors that alias each other (a base and its views, two views of one base) alias each other's copies;
    `.grad` and the instance `__dict__` are deep-copied too; only leaves can be copied."""
    from .autograd.grad_mode import no_grad

    if id(self) in memo:
        return memo[id(self)]
    if self.grad_fn is not None:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
                           "the moment.  If you were attempting to deepcopy a module, this may be because of a "
                           "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
    base = self._storage_base
    with no_grad():
        if base is not None and base.dtype is not self.dtype:
            r = self.detach().clone()  # a view reinterpreting its storage's dtype: a copy of its own
        else:
            # the storage's copy, once per deepcopy: the owner's copy is it, a view's copy a view of it (the
            # memo entry holds the original owner, so its id cannot be reused while the memo lives)
            owner = self if base is None else base
            key = ("mlx_compat.storage", id(owner))
            entry = memo.get(key)
            if entry is None:
                entry = memo[key] = (owner, owner.detach().clone())
            r = entry[1] if base is None else entry[1].as_strided(self.size(), self.stride(), self.storage_offset())
            if self.is_conj():  # torch's: the bits resolved into a tensor of its own (Note [Conjugate views])
                r = r.conj_physical()
            if self.is_neg():
                r = r.neg()
    if builtins.type(self) is not Tensor:
        r = builtins.type(self)._make_subclass(builtins.type(self), r, False) if base is None else r.as_subclass(builtins.type(self))
    if self.requires_grad:
        r.requires_grad = True
    if self.grad is not None:
        r.grad = copy.deepcopy(self.grad, memo)
    state = getattr(self, "__dict__", None)
    if state:
        for k, v in state.items():
            setattr(r, k, copy.deepcopy(v, memo))
    memo[id(self)] = r
    return r


@tensor_method
def __dlpack__(self, stream=None, **kwargs):
    if self._device_code != 0:
        raise RuntimeError("__dlpack__ is supported for CPU tensors only")
    if self.is_conj():
        raise BufferError("Can't export tensors with the conjugate bit set")
    return self._mx.__dlpack__()


@tensor_method
def __dlpack_device__(self):
    return (1, 0)  # kDLCPU


# ---------------------------------------------------------------- dtype and device moves


def _check_device_dtype(code, d):
    if code == _device.GPU and d is _dtype.float64:
        raise TypeError("Cannot convert a GPU Tensor to float64 dtype as MLX's GPU backends don't support float64. "
                        "Please use float32 instead.")


def _parse_to(args, kwargs):
    for a in args:
        if not isinstance(a, (_dtype.dtype, Tensor, str, _device.device, builtins.int, builtins.type(None))):
            raise TypeError(f"to() received an invalid combination of arguments - got ({builtins.type(a).__name__})")
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"to() received an invalid combination of arguments - got (dtype={builtins.type(dtype).__name__}, )")
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _device.device, builtins.int)) and not isinstance(a, builtins.bool):
            device = a
        elif isinstance(a, builtins.bool):
            copy = a if device is not None or dtype is not None else copy
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({builtins.type(a).__name__})")
    return dtype, device, copy


# `x.to(device)` of a tensor already on that device is x itself, as torch's; the common call (each batch of a data
# loop, run right after a step's evaluation) is answered before the argument parsing (bench/bench_value_reads.py)
# ("cpu:0" is left to the parsing: torch's answer for it is a copy)
_DEVICE_STRINGS = {"cpu": _device.CPU, **{s: _device.GPU for s in ("cuda", "cuda:0", "mps", "mps:0", "gpu", "gpu:0")}}


@tensor_method
def to(self, *args, **kwargs):
    if not kwargs and len(args) == 1:
        a = args[0]
        if builtins.type(a) is str:
            if _DEVICE_STRINGS.get(a, -1) == self._device_code:
                return self
        elif builtins.type(a) is _device.device and (a.index is None or (a.index == 0 and a.type != "cpu")):
            if _DEVICE_STRINGS.get(a.type, -1) == self._device_code:
                return self
    if kwargs.get("memory_format") is not None and \
            _memory_format_name(kwargs["memory_format"], "to") in _LAST_ORDER:  # Note [Memory formats]
        rest = {k: v for k, v in kwargs.items() if k != "memory_format"}
        return _contiguous_format(self.to(*args, **rest), kwargs["memory_format"])
    dtype, device, copy = _parse_to(args, dict(kwargs))
    code = self._device_code if device is None else _device.to_code(device)
    if (code == _device.CPU and builtins.type(device) in (str, _device.device)
            and _device.device(device).index is not None):
        copy = True  # torch: 'cpu:0' is not a CPU tensor's device ('cpu'), so the result is a copy
    d = self.dtype if dtype is None else dtype
    _check_device_dtype(code, d)
    if code == self._device_code and d is self.dtype:
        return self.clone() if copy else self
    return _cast(self, d, code)


def _cast(self, d, code=None):
    """self as dtype d on device `code` (its own when None), a recorded copy: to()'s work after its argument
    parsing, which autocast's casts call directly (Note [Autocast as a function mode])."""
    code = self._device_code if code is None else code
    arr = self._mx if d is self.dtype else self._mx.astype(d._mx, stream=_device.MX_DEVICES[code])
    r = _new(arr, code, d)
    if _C._is_channels_last(self):  # a cast keeps MLX's memory order (Note [Channels-last hint] in csrc/layout.c)
        _C._set_channels_last(r, True, None)
    if self.requires_grad and (d.is_floating_point or d.is_complex):
        from .autograd._derivatives import record

        src_dtype, src_dev = self.dtype, self.device
        record("ToCopyBackward0", lambda ctx, grads: (grads[0].to(src_dtype).to(src_dev),), [self], [r])
    return r


@tensor_method
def cpu(self, *, memory_format=None):
    # a tensor already there is itself, as torch's (`loss.detach().cpu().item()` in a loop; to()'s parsing is most
    # of this call's cost otherwise)
    return self if self._device_code == 0 else self.to("cpu")


@tensor_method
def cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None and self._device_code == 1:
        return self
    return self.to(_device.GPU_TYPE if device is None else device)


@tensor_method
def mps(self, device=None):
    return self.to(_device.GPU_TYPE)


def _caster(name, d):
    def cast(self, *, memory_format=None):
        return self.to(d)

    cast.__name__ = name
    declare(name, cast)


for _name, _d in (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
                  ("bfloat16", _dtype.bfloat16), ("long", _dtype.int64), ("int", _dtype.int32),
                  ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool),
                  ("cfloat", _dtype.complex64)):
    _caster(_name, _d)


@tensor_method
def type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        prefix = "torch.cuda." if self.is_cuda else "torch."
        return prefix + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        if name not in _NAME_TO_DTYPE:
            raise ValueError(f"invalid type: '{dtype}'")
        t = self.to(_dtype.BY_NAME[_NAME_TO_DTYPE[name]])
        return t.cuda() if ".cuda." in dtype else t
    legacy = getattr(builtins.type(dtype), "__instancecheck__", None) is not None and \
        isinstance(getattr(dtype, "dtype", None), _dtype.dtype)  # torch.LongTensor and its kin: a CPU dtype
    if legacy:
        return self.to("cpu", dtype.dtype)
    return self.to(dtype)


@tensor_method
def type_as(self, other):
    return self.to(other.dtype)


@tensor_method
def get_device(self):
    return -1 if self._device_code == 0 else 0


@tensor_method
def is_floating_point(self):
    return self.dtype.is_floating_point


@tensor_method
def is_complex(self):
    return self.dtype.is_complex


@tensor_method
def is_signed(self):
    return self.dtype.is_signed


declare("itemsize", property(lambda self: self.dtype.itemsize))
declare("is_cpu", property(lambda self: self._device_code == 0))
declare("nbytes", property(lambda self: self.dtype.itemsize * self.numel()))
declare("is_sparse", False)
declare("is_quantized", False)
declare("is_meta", False)
declare("layout", "torch.strided")


# ---------------------------------------------------------------- storage identity


class UntypedStorage:
    """What `untyped_storage()` gives: identifies the storage a tensor and its views share."""

    __slots__ = ("_owner", "_nbytes")

    def __init__(self, owner_id, nbytes):
        self._owner = owner_id
        self._nbytes = nbytes

    def data_ptr(self):
        return self._owner

    def nbytes(self):
        return self._nbytes

    def size(self):
        return self._nbytes

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and other._owner == self._owner

    def __hash__(self):
        return hash(self._owner)


def _root(t):
    b = t._storage_base
    return t if b is None else b


@tensor_method
def untyped_storage(self):
    root = _root(self)
    return UntypedStorage(self._storage_id() * 64, root.numel() * root.dtype.itemsize)


@tensor_method
def data_ptr(self):
    """A stable pseudo-address: the storage's id plus this tensor's byte offset, so views relate as in torch."""
    return self._storage_id() * 64 + self.storage_offset() * self.dtype.itemsize


# ---------------------------------------------------------------- autograd-facing basics


def _no_grad_alias(t):
    return t._detached_alias()


@tensor_method
def detach(self):
    """A new tensor sharing storage, outside the autograd graph."""
    return _no_grad_alias(self)


@tensor_method
def detach_(self):
    if self._base is not None:
        raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                           "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, "
                           "gradients are views of DDP buckets, and hence detach_() cannot be called on these "
                           "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
                           "torch/optim/optimizer.py as the solution.")
    self._grad_fn = None
    self.requires_grad = False
    return self



@tensor_method
def requires_grad_(self, requires_grad=True):
    if requires_grad is True and not (self.dtype.is_floating_point or self.dtype.is_complex):
        raise RuntimeError("only Tensors of floating point dtype can require gradients")  # torch's words here
    self.requires_grad = requires_grad
    return self


def _get_data(self):
    return self._detached_alias(True)  # .data: its own version counter, as in torch


def _set_data(self, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {builtins.type(value).__name__}")
    self._set_data(value._mx)
    shape = tuple(value.shape)
    if not value.is_contiguous() and self._base is None and _dense_strides(shape, value.stride()) == \
            list(value.stride()):
        # a dense permuted layout (a channels_last Module.to) is adopted with the value, as torch's set_data does
        self._restride(value._mx, shape, list(value.stride()), 0, False)


declare("data", property(_get_data, _set_data))


def _dense_permutation(shape, strides):
    """The input's dim order by decreasing stride (outermost first): torch's preserve_format copies are laid
    out in this order (exactly the input's strides when it is dense; the same order otherwise).
    Size-1 dims keep their place; None when there is nothing to preserve (0-d or size-0 tensors)."""
    n = len(shape)
    if n == 0 or 0 in shape:
        return None
    movable = [d for d in builtins.range(n) if shape[d] != 1]
    ordered = iter(sorted(movable, key=lambda d: (-strides[d], d)))
    return [next(ordered) if shape[d] != 1 else d for d in builtins.range(n)]


def _dense_strides(shape, strides):
    """The strides of a dense copy in the dim order of `strides` (torch's preserve_format layout), or None when
    that order is the row-major one or there is nothing to preserve."""
    perm = _dense_permutation(shape, strides)
    if perm is None or perm == list(builtins.range(len(shape))):
        return None
    new_strides = [0] * len(shape)
    step = 1
    for d in reversed(perm):  # contiguous in storage order (Note [Base storage order])
        new_strides[d] = step
        step *= shape[d]
    return new_strides


def _new_like_layout(arr, shape, strides, device_code, dtype):
    """A new tensor holding `arr` with torch's preserved strides: for a dense permuted layout, a base in
    that physical order viewed back through the inverse permutation (so stride() matches torch)."""
    t = _new(arr, device_code, dtype)
    new_strides = _dense_strides(shape, strides)
    if new_strides is not None:
        t._restride(arr, tuple(shape), new_strides, 0, False)
    return t


# Note [Memory formats]
# channels_last (rank 4, NHWC order) and channels_last_3d (rank 5, NDHWC) are layouts, as in torch: a tensor made
# contiguous in one keeps torch's strides (a base in that physical order viewed back, as _new_like_layout lays
# out), `is_contiguous(memory_format=)` reads torch's rule off the strides, `clone`/`to`/`Module.to` take the
# format. The C `contiguous()`/`is_contiguous()` handle the keyword-free forms and hand any keyword here. Results
# of other ops stay row-major (README's known differences), whatever their inputs' layout.
_LAST_ORDER = {"channels_last": (1, 3, 2, 0), "channels_last_3d": (1, 4, 3, 2, 0)}


def _memory_format_name(memory_format, fname):
    """torch.memory_format's name (None for none given); torch's TypeError for anything else."""
    if memory_format is None:
        return None
    name = getattr(memory_format, "name", None)
    if builtins.type(memory_format).__name__ != "memory_format" or name is None:
        raise TypeError(f"{fname}(): argument 'memory_format' must be torch.memory_format, not "
                        f"{builtins.type(memory_format).__name__}")
    return name


def _is_contiguous_as(t, name):
    """torch's test: t's strides are those of `name`'s layout (size-1 dims ignored)."""
    if name not in _LAST_ORDER:
        return t.is_contiguous()
    if t.dim() != len(_LAST_ORDER[name]):
        return False
    sizes, strides, expected = t.shape, t.stride(), 1
    for d in _LAST_ORDER[name]:
        if sizes[d] != 1:
            if strides[d] != expected:
                return False
            expected *= sizes[d]
    return True


def _is_contiguous_format(self, memory_format=None):
    return _is_contiguous_as(self, _memory_format_name(memory_format, "is_contiguous"))


def _contiguous_format(self, memory_format=None):
    """Tensor.contiguous(memory_format=...): self when already so laid out, else a copy in that layout."""
    name = _memory_format_name(memory_format, "contiguous")
    if name not in _LAST_ORDER:
        return self.contiguous()
    rank = len(_LAST_ORDER[name])
    if self.dim() != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {name} format")
    if _is_contiguous_as(self, name):
        return self
    shape, strides, step = tuple(self.shape), [0] * rank, 1
    for d in _LAST_ORDER[name]:
        strides[d] = step
        step *= shape[d]
    r = _new_like_layout(self._mx, shape, strides, self._device_code, self.dtype)
    if self.requires_grad:
        from .autograd._derivatives import record

        record("CloneBackward0", lambda ctx, grads: (grads[0],), [self], [r])
    return r


_C._register_fallback("Tensor.contiguous", _contiguous_format)
_C._register_fallback("Tensor.is_contiguous", _is_contiguous_format)


@tensor_method
def clone(self, *, memory_format=None):
    """A copy; like torch's preserve_format, a dense non-contiguous layout keeps its strides; channels_last(_3d)
    copies into that layout."""
    fmt = _memory_format_name(memory_format, "clone")
    src = _contiguous_format(self, memory_format) if fmt in _LAST_ORDER else self
    if fmt in (None, "preserve_format", "channels_last", "channels_last_3d") and not src.is_contiguous():
        r = _new_like_layout(src._mx, tuple(src.shape), src.stride(), src._device_code, src.dtype)
    else:
        r = _new(self._mx, self._device_code, self.dtype)
    if self.requires_grad:
        from .autograd._derivatives import record

        record("CloneBackward0", lambda ctx, grads: (grads[0],), [self], [r])
    return r


# ---------------------------------------------------------------- view ops composed in Python


@tensor_method
def view_as(self, other):
    return self.view(_tensor_arg(other, "view_as").shape)


@tensor_method
def reshape_as(self, other):
    return self.reshape(_tensor_arg(other, "reshape_as").shape)


@tensor_method
def expand_as(self, other):
    return self.expand(_tensor_arg(other, "expand_as").shape)


@tensor_method
def flatten(self, start_dim=0, end_dim=-1):
    n = self.dim()
    if n == 0:
        return self.reshape(1)
    s = _wrap_dim(start_dim, n)
    e = _wrap_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return self._alias() if n else self
    shape = list(self.shape)
    mid = 1
    for x in shape[s : e + 1]:
        mid *= x
    return self.reshape(shape[:s] + [mid] + shape[e + 1 :])


@tensor_method
def ravel(self):
    return self.reshape(-1)


@tensor_method
def unflatten(self, dim, sizes):
    n = self.dim()
    d = _wrap_dim(dim, n)
    if not isinstance(sizes, (list, tuple)):
        raise TypeError(f"unflatten(): argument 'sizes' must be tuple of ints, not {builtins.type(sizes).__name__}")
    sizes = [_int_arg(s, "unflatten") for s in sizes]
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shape = list(self.shape)
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in sizes:
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if known == 0 or shape[d] % known:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
                               f"({shape[d]}) in the input tensor")
        sizes[sizes.index(-1)] = shape[d] // known
    prod = 1
    for s in sizes:
        prod *= s
    if prod != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor")
    return self.view(shape[:d] + sizes + shape[d + 1 :])


def _int_arg(x, fname="", is_dim=False):
    """An int argument as torch's parser takes it: bools, floats and None are TypeError; a 0-dim integer
    tensor counts as its value; beyond int64 is ValueError for dims and TypeError otherwise."""
    if isinstance(x, Tensor):
        if x.dim() == 0 and not (x.dtype.is_floating_point or x.dtype.is_complex or x.dtype is _dtype.bool):
            x = x.item()
        else:
            raise TypeError(f"{fname}(): argument must be int, not Tensor")
    if isinstance(x, builtins.bool) or not hasattr(x, "__index__"):
        raise TypeError(f"{fname}(): argument must be int, not {builtins.type(x).__name__}")
    x = x.__index__()
    if not -(2**63) <= x < 2**63:
        raise (ValueError if is_dim else TypeError)(f"{fname}(): argument overflows int64")
    return x


def _tensor_arg(x, fname, name="other"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' must be Tensor, not {builtins.type(x).__name__}")
    return x


def _wrap_dim(d, n, fname="dim"):
    m = n if n > 0 else 1
    d = _int_arg(d, fname, is_dim=True)
    if d < -m or d >= m:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], but got {d})")
    return d + m if d < 0 else d


@tensor_method
def movedim(self, source, destination):
    n = self.dim()
    src = list(source) if isinstance(source, (list, tuple)) else [source]
    dst = list(destination) if isinstance(destination, (list, tuple)) else [destination]
    if isinstance(source, (list, tuple)) != isinstance(destination, (list, tuple)):
        raise TypeError("movedim(): source and destination must both be ints or both sequences of ints")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
                           f"number of dims as destination ({dst} dims)")
    src = [_wrap_dim(d, n) for d in src]
    dst = [_wrap_dim(d, n) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return self.permute(order)


declare("moveaxis", movedim)


def _multi_view(self, name, make_pieces, backward):
    """Views of self made by `make_pieces()` recorded as ONE node with many outputs (torch's SplitBackward0,
    UnbindBackward0): backward(grads) assembles the input's gradient, zeros standing in for missing ones."""
    if not (self.requires_grad and _C.is_grad_enabled()):
        return make_pieces()
    prev = _C.is_grad_enabled()
    _C._set_grad_enabled(False)
    try:
        pieces = make_pieces()
    finally:
        _C._set_grad_enabled(prev)
    from .autograd._derivatives import record

    shapes = [tuple(p.shape) for p in pieces]

    def bw(ctx, grads):
        from ._ops.creation import zeros

        gs = [g if g is not None else zeros(s, dtype=self.dtype, device=self.device) for g, s in zip(grads, shapes)]
        return (backward(gs),)

    record(name, bw, [self], pieces)
    return pieces


@tensor_method
def unbind(self, dim=0):
    n = self.dim()
    if n == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, n)
    from ._ops.shape import stack

    return _multi_view(self, "UnbindBackward0", lambda: tuple(self.select(d, i) for i in builtins.range(self.shape[d])),
                       lambda gs: stack(gs, d))


@tensor_method
def split(self, split_size_or_sections, dim=0):
    n = self.dim()
    if n == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, n)
    size = self.shape[d]
    if not isinstance(split_size_or_sections, (list, tuple)):
        split_size_or_sections = _int_arg(split_size_or_sections, "split", is_dim=True)
    from ._ops.shape import cat

    name = "SplitBackward0" if isinstance(split_size_or_sections, builtins.int) else "SplitWithSizesBackward0"
    return _multi_view(self, name, lambda: _split_pieces(self, split_size_or_sections, d, size), lambda gs: cat(gs, d))


def _split_pieces(self, split_size_or_sections, d, size):
    if isinstance(split_size_or_sections, builtins.int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0:
            if size != 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
            return (self.narrow(d, 0, 0),)
        return tuple(self.narrow(d, s, builtins.min(step, size - s)) for s in range(0, builtins.max(size, 1), step)
                     if s < size or size == 0)
    sections = [_int_arg(s, "split_with_sizes") for s in split_size_or_sections]
    if builtins.sum(sections) != size or builtins.any(s < 0 for s in sections):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={sections}")
    out, start = [], 0
    for s in sections:
        out.append(self.narrow(d, start, s))
        start += s
    return tuple(out)


@tensor_method
def split_with_sizes(self, split_sizes, dim=0):
    return self.split(list(split_sizes), dim)


@tensor_method
def chunk(self, chunks, dim=0):
    chunks = _int_arg(chunks, "chunk", is_dim=True)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = self.dim()
    if n == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, n)
    size = self.shape[d]
    step = (size + chunks - 1) // chunks
    if step == 0:
        return tuple(self.narrow(d, 0, 0) for _ in range(builtins.min(chunks, 1) if size else chunks))
    return self.split(step, d)


@tensor_method
def as_strided(self, size, stride, storage_offset=None):
    """A view with explicit (size, stride, offset) over this tensor's storage."""
    size, stride = [builtins.int(s) for s in size], [builtins.int(s) for s in stride]
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {stride}")
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(size)}: {size}")
    off = self.storage_offset() if storage_offset is None else builtins.int(storage_offset)
    root = _root(self)
    need = off + builtins.sum((s - 1) * st for s, st in zip(size, stride)) + 1 if builtins.all(size) else 0
    if need > root.numel():
        raise RuntimeError(f"setStorage: sizes {size}, strides {stride}, storage offset {off}, and itemsize "
                           f"{self.dtype.itemsize} requiring a storage size of {need * self.dtype.itemsize} are out of "
                           f"bounds for storage of size {root.numel() * self.dtype.itemsize}")
    arr = mx.as_strided(self._storage_value(), size, stride, off)
    # its derivative treats the input as the storage it indexes (exact for a contiguous input at offset 0)
    base_off = self.storage_offset()
    return _record_view(self, self._make_view(arr, size, stride, off), "AsStridedBackward0",
                        lambda x: mx.as_strided(x, size, stride, off - base_off))


@tensor_method
def diagonal(self, offset=0, dim1=0, dim2=1):
    n = self.dim()
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape, strides = list(self.shape), list(self.stride())
    off = self.storage_offset()
    if offset >= 0:
        length = builtins.max(builtins.min(shape[d1], shape[d2] - offset), 0)
        if length:
            off += offset * strides[d2]
    else:
        length = builtins.max(builtins.min(shape[d1] + offset, shape[d2]), 0)
        if length:
            off -= offset * strides[d1]
    new_shape = [s for i, s in enumerate(shape) if i not in (d1, d2)] + [length]
    new_strides = [s for i, s in enumerate(strides) if i not in (d1, d2)] + [strides[d1] + strides[d2]]
    # an offset past either side gives the empty diagonal (MLX takes a C int: 2**40 raised its TypeError)
    offset = builtins.max(builtins.min(offset, shape[d2]), -shape[d1])
    arr = mx.diagonal(self._mx, offset, d1, d2)
    return _record_view(self, self._make_view(arr, new_shape, new_strides, off), "DiagonalBackward0",
                        lambda x: mx.diagonal(x, offset, d1, d2))


@tensor_method
def unfold(self, dimension, size, step):
    n = self.dim()
    d = _wrap_dim(dimension, n) if n else 0
    dim_size = self.shape[d] if n else 1
    if size > dim_size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {dim_size} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (dim_size - size) // step + 1
    shape, strides = list(self.shape), list(self.stride())
    if n == 0:
        new_shape, new_strides = [size], [1]
    else:
        new_shape = shape[:d] + [count] + shape[d + 1 :] + [size]
        new_strides = strides[:d] + [strides[d] * step] + strides[d + 1 :] + [strides[d]]
    arr = mx.as_strided(self._storage_value(), new_shape, new_strides, self.storage_offset())
    # the same windows over the input's own row-major layout, for the derivative
    logical = [1] * n
    for i in builtins.range(n - 2, -1, -1):
        logical[i] = logical[i + 1] * builtins.max(shape[i + 1], 1)
    if n == 0:
        rel_strides = [1]
    else:
        rel_strides = logical[:d] + [logical[d] * step] + logical[d + 1:] + [logical[d]]
    return _record_view(self, self._make_view(arr, new_shape, new_strides, self.storage_offset()), "UnfoldBackward0",
                        lambda x: mx.as_strided(x, new_shape, rel_strides, 0))


def _record_view(self, out, name, view_fn):
    """Record a view op computed in Python: `view_fn` maps the input's value to the view's value (a
    linear map), so the input's gradient is its transpose, obtained with mx.vjp and itself recorded
    through mlx_op (differentiable again)."""
    if not (self.requires_grad and _C.is_grad_enabled()):
        return out
    from .autograd._derivatives import record
    from .autograd._mlx_vjp import mlx_op

    shape, mdt = tuple(self.shape), self.dtype._mx

    def transpose(gv):
        _, (r,) = mx.vjp(lambda x: view_fn(x), [mx.zeros(shape, dtype=mdt)], [gv])
        return r

    record(name, lambda ctx, grads: (mlx_op(name + "Backward", transpose, [grads[0]]),), [self], [out])
    return out


def _complex_part(self, imag):
    if not self.dtype.is_complex:
        if imag:
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return self
    part = self._part(imag)  # a float view aliasing the complex storage (Note [Reinterpreted views])
    return _record_view(self, part, "ImagBackward0" if imag else "RealBackward0", mx.imag if imag else mx.real)


declare("real", property(lambda self: _complex_part(self, False)))
declare("imag", property(lambda self: _complex_part(self, True)))


_TORCH_NAME = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "complex64": "ComplexFloat", "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool"}


@tensor_method
def _view_dtype(self, dtype):
    """self.view(dtype): the same storage reinterpreted (Note [Reinterpreted views] in core.h). With a
    different element size the last dim (stride 1) scales by the size ratio, as torch."""
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"view() received an invalid combination of arguments - got ({builtins.type(dtype).__name__}), "
                        "but expected one of: (torch.dtype dtype), (tuple of ints size)")
    if self.is_conj():
        raise RuntimeError("torch.Tensor.view is not supported for conjugate view tensors when converting to a "
                           "different dtype.")
    if dtype is self.dtype:
        return self._alias()
    old, new = self.dtype.itemsize, dtype.itemsize
    shape, strides, off = list(self.shape), list(self.stride()), self.storage_offset()
    if old != new:
        what = f"to view {_TORCH_NAME[self.dtype.name]} as {_TORCH_NAME[dtype.name]} (different element sizes)"
        if not shape:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if strides[-1] != 1 and shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {strides[-1]}")
        if new > old:
            k = new // old
            if shape[-1] % k:
                raise RuntimeError(f"self.size(-1) must be divisible by {k} {what}, but got {shape[-1]}")
            if off % k:
                raise RuntimeError(f"self.storage_offset() must be divisible by {k} {what}, but got {off}")
            for i, st in enumerate(strides[:-1]):
                if st % k:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {k} {what}, but got {st}")
            shape[-1] //= k
            strides = [st // k for st in strides[:-1]] + [1]
            off //= k
        else:
            k = old // new
            shape[-1] *= k
            strides = [st * k for st in strides[:-1]] + [1]
            off *= k
    return self._reinterpret(dtype._code, tuple(shape), tuple(strides), off)


def view_as_real(input):
    """A float view (..., 2) of a complex tensor's storage: strides doubled, then 1 (aliasing both ways)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_real(): argument 'input' (position 1) must be Tensor, not "
                        f"{builtins.type(input).__name__}")
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if input.is_conj():
        raise RuntimeError("view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate "
                           "tensor so you can view it as real, use self.resolve_conj(); however, be warned that the "
                           "resulting tensor will NOT alias the original.")
    shape = tuple(input.shape) + (2,)
    strides = tuple(2 * st for st in input.stride()) + (1,)
    out = input._reinterpret(_dtype.float32._code, shape, strides, 2 * input.storage_offset())
    return _record_view(input, out, "ViewAsRealBackward0", lambda x: mx.stack([mx.real(x), mx.imag(x)], axis=-1))


def view_as_complex(input):
    """A complex view of a float tensor whose last dim is (real, imag) pairs, as torch's conditions allow."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_complex(): argument 'input' (position 1) must be Tensor, not "
                        f"{builtins.type(input).__name__}")
    if input.dtype is not _dtype.float32:
        if input.dtype in (_dtype.float64, _dtype.float16):
            raise TypeError(f"mlx_compat: view_as_complex of {input.dtype} would be "
                            f"{'complex128' if input.dtype is _dtype.float64 else 'complex32'}, which MLX does not "
                            "have (complex64 only)")
        raise RuntimeError("view_as_complex is only supported for floating point tensors, but got a tensor of "
                           f"scalar type: {_TORCH_NAME.get(input.dtype.name, input.dtype.name)}")
    if input.dim() == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if builtins.any(st % 2 for st in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    out = input._reinterpret(_dtype.complex64._code, tuple(input.shape[:-1]), tuple(st // 2 for st in strides[:-1]),
                             input.storage_offset() // 2)
    return _record_view(input, out, "ViewAsComplexBackward0", lambda x: x[..., 0] + 1j * x[..., 1])


# ---------------------------------------------------------------- new_* constructors


def _new_kwargs(self, dtype, device):
    return dict(dtype=self.dtype if dtype is None else dtype, device=self.device if device is None else device)


@tensor_method
def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from ._ops.creation import tensor

    return tensor(data, requires_grad=requires_grad, **_new_kwargs(self, dtype, device))


@tensor_method
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    from ._ops.creation import zeros

    return zeros(*size, requires_grad=requires_grad, **_new_kwargs(self, dtype, device))


@tensor_method
def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    from ._ops.creation import ones

    return ones(*size, requires_grad=requires_grad, **_new_kwargs(self, dtype, device))


@tensor_method
def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    from ._ops.creation import empty

    return empty(*size, requires_grad=requires_grad, **_new_kwargs(self, dtype, device))


@tensor_method
def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from ._ops.creation import full

    if isinstance(size, int):
        raise TypeError("new_full(): argument 'size' (position 1) must be tuple of ints, not int")
    return full(size, fill_value, requires_grad=requires_grad, **_new_kwargs(self, dtype, device))


@tensor_method
def new(self, *args, device=None):
    """The legacy constructor on a tensor: new() / new(*sizes) an uninitialised tensor of self's dtype, new(data)
    one holding data, new(tensor) that tensor itself (same dtype), as torch's."""
    from ._ops.creation import empty, tensor

    kw = {"dtype": self.dtype, "device": self.device if device is None else device}
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype is not self.dtype:
            raise TypeError(f"expected {self.type()} (got {args[0].type()})")
        return args[0]
    if len(args) == 1 and not isinstance(args[0], (builtins.int, Size)):
        data = args[0]
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if not hasattr(data, "__len__") or isinstance(data, dict):
            raise TypeError(f"new(): data must be a sequence (got {builtins.type(data).__name__})")
        return tensor(data, **kw)
    if len(args) == 1 and isinstance(args[0], Size):  # a Size is the shape itself, torch.Size([]) a 0-d tensor
        return empty(tuple(args[0]), **kw)
    return empty(tuple(args) if args else (0,), **kw)


@tensor_method
def pin_memory(self, device=None):
    """Page-locked host memory is a transfer detail MLX manages itself (one memory on Apple silicon): the tensor
    as it is where a GPU exists; torch's error where none does."""
    if not _device.GPU_AVAILABLE:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self


@tensor_method
def is_pinned(self, device=None):
    if device is not None:  # torch's deprecated argument, checked as torch checks it
        if isinstance(device, builtins.int) and not isinstance(device, builtins.bool):
            if not _device.GPU_AVAILABLE:
                raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(device, (str, _device.device)):
            raise TypeError(f"is_pinned(): argument 'device' (position 1) must be torch.device, not "
                            f"{builtins.type(device).__name__}")
        else:
            _device.device(device)
    return False


@tensor_method
def share_memory_(self):
    """torch moves the storage into shared memory for worker processes; here tensors reach other processes by
    pickling (DataLoader workers), so this is the tensor itself, as torch's answer for one already shared."""
    return self


@tensor_method
def is_shared(self):
    return False


@tensor_method
def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost by stride (ties keep dim order), as torch's."""
    strides = self.stride()
    return tuple(sorted(builtins.range(self.dim()), key=lambda d: -strides[d]))


@tensor_method
def apply_(self, callable):
    """Each element replaced by callable(element), in place (CPU tensors only, as torch's)."""
    if self._device_code != _device.CPU:
        raise TypeError("apply_ is only implemented on CPU tensors")
    import numpy as np

    flat = [callable(v) for v in self.reshape(-1).tolist()]
    from ._ops.creation import tensor

    return self.copy_(tensor(np.asarray(flat).reshape(tuple(self.shape)) if flat else self, dtype=self.dtype))


copyreg.pickle(Size, Size.__reduce__)


# ---------------------------------------------------------------- in-place view ops


def _restride_like(self, v):
    """Make self take view `v`'s metadata (v was computed from self)."""
    if self.requires_grad and self.is_leaf and _C.is_grad_enabled() and False:
        pass
    return self._restride(v._mx, tuple(v.shape), v.stride(), v.storage_offset())


def _inplace_view(name):
    def method(self, *args, **kwargs):
        return _restride_like(self, getattr(self, name)(*args, **kwargs))

    method.__name__ = name + "_"
    declare(name + "_", method)


for _name in ("unsqueeze", "squeeze", "t", "transpose", "swapaxes", "swapdims", "as_strided"):
    _inplace_view(_name)


@tensor_method
def resize_as_(self, other, memory_format=None):
    return self.resize_(other.shape)


@tensor_method
def resize_(self, *sizes, memory_format=None):
    """Same element count: a reshape in place; otherwise new storage (values kept where they fit, as torch)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(builtins.int(s) for s in sizes)
    if sizes == tuple(self.shape):
        return self
    n = 1
    for s in sizes:
        n *= s
    if n == self.numel() and self.is_contiguous():
        return _restride_like(self, self.view(sizes))
    if self._storage_base is not None:
        raise RuntimeError("mlx_compat: resize_ of a view to a different number of elements is not supported")
    flat = mx.reshape(self._mx, (-1,))
    if n <= flat.size:
        flat = flat[:n]
    else:
        flat = mx.concatenate([flat, mx.zeros((n - flat.size,), dtype=flat.dtype)])
    self._set_data(mx.reshape(flat, sizes))
    return self


@tensor_method
def flip(self, *dims, **kwargs):
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    n = self.dim()
    ds = [_wrap_dim(d, n) for d in dims]
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    key = [slice(None)] * n
    for d in ds if n else ():  # a 0-d tensor's dim 0 (or -1) flips nothing, as torch's
        key[d] = slice(None, None, -1)
    key = tuple(key)
    from .autograd._mlx_vjp import mlx_op

    return mlx_op("FlipBackward0", lambda v: v[key] if n else v, [self])


# ---------------------------------------------------------------- autograd entry points


@tensor_method
def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaves) into the leaves' .grad (torch.Tensor.backward)."""
    from .autograd import backward as run

    run(self, gradient, retain_graph, create_graph, inputs=inputs)


@tensor_method
def register_hook(self, hook):
    """hook(grad) -> new grad or None, run when this tensor's gradient is computed."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    handle = _RemovableHandle()
    if self.grad_fn is None:
        hooks = self._backward_hooks
        if hooks is None:
            hooks = []
            self._backward_hooks = hooks
        if isinstance(hooks, dict):  # torch's idiom: _backward_hooks = OrderedDict()
            key = id(handle)
            hooks[key] = hook
            handle._remove = lambda: hooks.pop(key, None)
        else:
            hooks.append(hook)
            handle._remove = lambda: hooks.remove(hook) if hook in hooks else None
    else:
        # run before retain_grad's capture and the node's own pre-hooks (Note [Hook order] in csrc/engine.c)
        entry = (self.output_nr, hook)
        pres = self.grad_fn._tensor_pre_hooks
        pres.append(entry)
        handle._remove = lambda: pres.remove(entry) if entry in pres else None
    return handle


@tensor_method
def register_post_accumulate_grad_hook(self, hook):
    """hook(tensor), run after a backward has accumulated this leaf's .grad (the engine reads them from
    `_post_accumulate_grad_hooks`, csrc/engine.c post_accumulate_hooks); its return value must be None."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = self.__dict__.setdefault("_post_accumulate_grad_hooks", {})
    handle = _RemovableHandle()
    key = id(handle)
    hooks[key] = hook
    handle._remove = lambda: hooks.pop(key, None)
    return handle


@tensor_method
def retain_grad(self):
    """Keep this non-leaf tensor's gradient in .grad after backward."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or self._retains_grad:
        return
    import weakref

    self.grad_fn._retained.append((self.output_nr, weakref.ref(self)))
    self._retains_grad = True


class _RemovableHandle:
    """What register_hook returns: .remove() unregisters."""

    def __init__(self):
        self._remove = lambda: None

    def remove(self):
        self._remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


from . import overrides as _overrides  # noqa: E402,F401  (Tensor.__torch_function__, torch.overrides)
