"""Python-level MLX calls run on the tensor's device.

Note [Device scope]
The C core passes `stream=` to every MLX call of a tensor whose device is not MLX's default device. The Python
modules call mlx.core directly (mlx_op forwards and their mx.vjp backwards, compositions, creation), and an MLX
call without `stream=` runs on MLX's default device: the GPU wherever one exists. A CPU tensor's op would then run
on the GPU, and any float64 step in it fails there ("float64 is not supported on the GPU"): gradcheck's float64
on a Mac, the float64 kernels of torch.special, matrix_exp's float64 chain.
So, where a GPU exists, every public Python-level function and Tensor method is wrapped once at import
(`install`): it finds its first tensor argument (or, for creation functions, the `device` argument, torch's
default being the CPU) and, when that device is not MLX's current default, runs the call inside
`mx.stream(device)`. Autograd backward functions recorded by `mlx_op` and `record` are scoped to their inputs'
device the same way (they run later, from the engine). On a machine without a GPU nothing is wrapped.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import types
import warnings

import mlx.core as mx

from . import _C

# MLX_COMPAT_DEVICE_SCOPE=1 installs the wrappers on a machine without a GPU too (the test suite checks that they
# are transparent)
ACTIVE = bool(_C.GPU_AVAILABLE) or os.environ.get("MLX_COMPAT_DEVICE_SCOPE") == "1"
_DEVICES = (mx.cpu, mx.cpu if _C.FAKE_GPU else mx.gpu)


_Tensor = None
_local = threading.local()  # .busy: inside a wrapped call (nested calls inherit its stream)


def device_of(args, kwargs):
    """The device code of the first Tensor among args / kwargs' values, else None."""
    global _Tensor
    if _Tensor is None:
        from ._tensor import Tensor as _T

        _Tensor = _T
    for a in args:
        if isinstance(a, _Tensor):
            return a._device_code
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], _Tensor):
            return a[0]._device_code
    for a in kwargs.values():
        if isinstance(a, _Tensor):
            return a._device_code
    return None


def scoped(code, fn, *args, **kwargs):
    """fn(*args, **kwargs) with MLX's default stream on device `code` (no-op when it already is)."""
    if code is None or not ACTIVE:
        return fn(*args, **kwargs)
    dev = _DEVICES[code]
    if mx.default_device() == dev:
        return fn(*args, **kwargs)
    with mx.stream(dev):
        return fn(*args, **kwargs)


def _outermost(code, fn, args, kwargs):
    """The outermost wrapped call sets the stream; calls nested in it (ops built from ops, metadata methods)
    inherit it without looking again, which keeps the wrappers' cost to one check per user-level call."""
    _local.busy = True
    try:
        return scoped(code, fn, *args, **kwargs)
    finally:
        _local.busy = False


def warn(message, category=UserWarning, stacklevel=1):
    """warnings.warn for the package: `stacklevel` counts the frames of the caller's own chain, the device-scope
    wrappers between them skipped, so a warning still points at the user's line (Note [Device scope])."""
    level, frame, seen = 1, sys._getframe(1), 0
    while frame is not None and seen < stacklevel:
        frame = frame.f_back
        level += 1
        if frame is not None and frame.f_code not in _WRAPPER_CODES:
            seen += 1
    warnings.warn(message, category, stacklevel=level)


def follow_tensors(fn):
    """fn, run on the device of its first tensor argument (Note [Device scope])."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if getattr(_local, "busy", False):
            return fn(*args, **kwargs)
        return _outermost(device_of(args, kwargs), fn, args, kwargs)

    wrapper._device_scoped = True
    return wrapper


def follow_device_arg(fn):
    """A creation function, run on its `device` argument's device (a tensor argument's for the *_like ones)."""
    from . import _device

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        dev = kwargs.get("device")
        try:
            code = _device.to_code(dev) if dev is not None else device_of(args, kwargs)
        except Exception:  # noqa: BLE001 - a bad device: the function itself raises torch's error for it
            return fn(*args, **kwargs)
        return scoped(0 if code is None else code, fn, *args, **kwargs)

    wrapper._device_scoped = True
    return wrapper


_CREATION = {"tensor", "as_tensor", "asarray", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
             "empty_like", "full_like", "arange", "range", "linspace", "logspace", "eye", "rand", "randn", "randint",
             "randperm", "rand_like", "randn_like", "randint_like", "normal", "empty_strided", "empty_permuted",
             "scalar_tensor", "tril_indices", "triu_indices", "hann_window", "hamming_window", "blackman_window",
             "bartlett_window", "kaiser_window", "fftfreq", "rfftfreq", "bartlett", "blackman", "cosine",
             "exponential", "gaussian", "general_cosine", "general_hamming", "hamming", "hann", "kaiser", "nuttall"}


_CREATION_MODULES = {"mlx_compat", "mlx_compat._ops.creation", "mlx_compat._ops.spectral", "mlx_compat._ops.shape",
                     "mlx_compat.fft", "mlx_compat.signal.windows"}


def _wrap(obj, name, memo, creation):
    if not isinstance(obj, types.FunctionType) or getattr(obj, "_device_scoped", False):
        return None
    if not (obj.__module__ or "").startswith("mlx_compat"):
        return None
    if id(obj) not in memo:
        memo[id(obj)] = (follow_device_arg if creation else follow_tensors)(obj)
    return memo[id(obj)]


def install(tensor_type, force=False):
    """Wrap the public functions of every mlx_compat module (and their TORCH_VARIANTS tables) and the Python-level
    Tensor methods, once, when a GPU exists (or `force`). The same function object gets the same wrapper
    everywhere, so identities between namespaces (`mlx_compat.x is mlx_compat._ops.views.x`) hold."""
    import sys

    from . import overrides

    if not (ACTIVE or force):
        overrides.install(tensor_type)  # Note [torch function check]: on every machine
        return
    memo = {}
    modules = [m for n, m in sorted(sys.modules.items())
               if m is not None and (n == "mlx_compat" or n.startswith("mlx_compat.")) and n != __name__]
    for ns in modules:
        for name, obj in list(vars(ns).items()):
            if name.startswith("_") and name not in ("_softmax_backward_data",):
                continue
            w = _wrap(obj, name, memo, name in _CREATION and ns.__name__ in _CREATION_MODULES)
            if w is not None:
                setattr(ns, name, w)
        table = vars(ns).get("TORCH_VARIANTS")
        if isinstance(table, dict):
            for name, obj in list(table.items()):
                w = _wrap(obj, name, memo, False)
                if w is not None:
                    table[name] = w
    for name, obj in list(vars(tensor_type).items()):
        if name.startswith("__") or name in ("_commit", "_write"):
            continue
        w = _wrap(obj, name, memo, False)
        if w is not None:
            setattr(tensor_type, name, w)
    overrides.install(tensor_type)


_WRAPPER_CODES = {scoped.__code__, _outermost.__code__, follow_tensors(len).__code__, follow_device_arg(len).__code__}
