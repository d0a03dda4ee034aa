"""Python-level calls run on their tensors' device (Note [Device scope] in csrc/overrides.c).

`install` decides, once at import, which public function and Tensor method gets which scope kind: where a GPU
exists (or MLX_COMPAT_DEVICE_SCOPE=1 forces it), every public Python function of the package follows its first
tensor argument's device, and creation functions their `device` argument (torch's default being the CPU). The
scope is kept by the same C TorchFunctionWrapper that makes the __torch_function__ check (overrides.install), so
a call pays one C wrapper and no Python frame. Also here: `scoped` and `device_of` for code that runs MLX calls
itself (recorded backwards, mlx_op, the optimizer), `follow_tensors` for a single function, and `warn`.
"""
from __future__ import annotations

import types
import warnings

import mlx.core as mx

from . import _C

# Where a GPU exists, or MLX_COMPAT_DEVICE_SCOPE=1 (the test suite checks the machinery on a machine without one):
# decided by the C core at load time (Note [Device scope])
ACTIVE = bool(_C.DEVICE_SCOPE)
_DEVICES = (mx.cpu, mx.cpu if _C.FAKE_GPU else mx.gpu)

SCOPE_NONE, SCOPE_TENSORS, SCOPE_DEVICE_ARG = 0, 1, 2

# scoped(code, fn, *args, **kwargs): fn's call on MLX's stream of device `code` (None: as is) when it is not
# the current device and device scope is active (Note [Device scope]); a C function
scoped = _C._scoped


def device_of(args, kwargs):
    """The device code of the first Tensor among args (or first items of list/tuple args), then kwargs' values;
    None when there is none."""
    return _C._device_of(args, kwargs)


def warn(message, category=UserWarning, stacklevel=1):
    """warnings.warn for the package: `stacklevel` counts the frames of the caller's own chain, so a warning
    points at the user's line (the device-scope and __torch_function__ wrappers are C: they add no frame)."""
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def follow_tensors(fn):
    """fn, run on the device of its first tensor argument (Note [Device scope]; no __torch_function__ check)."""
    return _C._tf_wrap(fn, SCOPE_TENSORS, False)


def follow_device_arg(fn):
    """A creation function, run on its `device` argument's device (a tensor argument's for the *_like ones, else
    the CPU), no __torch_function__ check."""
    return _C._tf_wrap(fn, SCOPE_DEVICE_ARG, False)


_CREATION = {"tensor", "as_tensor", "asarray", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
             "empty_like", "full_like", "arange", "range", "linspace", "logspace", "eye", "rand", "randn", "randint",
             "randperm", "rand_like", "randn_like", "randint_like", "normal", "empty_strided", "empty_permuted",
             "scalar_tensor", "tril_indices", "triu_indices", "hann_window", "hamming_window", "blackman_window",
             "bartlett_window", "kaiser_window", "fftfreq", "rfftfreq", "bartlett", "blackman", "cosine",
             "exponential", "gaussian", "general_cosine", "general_hamming", "hamming", "hann", "kaiser", "nuttall"}


_CREATION_MODULES = {"mlx_compat", "mlx_compat._ops.creation", "mlx_compat._ops.spectral", "mlx_compat._ops.shape",
                     "mlx_compat.fft", "mlx_compat.signal.windows"}


# modules whose public functions hold no tensor and run no MLX op, so need no scope: the BLAS bridge's thread
# controls (wrapped, `set_num_threads(1.5)` raised the argument hook's TypeError where torch raises RuntimeError)
_UNSCOPED_MODULES = frozenset({"mlx_compat._blas"})


def _scopable(obj):
    return (isinstance(obj, types.FunctionType) and (obj.__module__ or "").startswith("mlx_compat")
            and obj.__module__ not in _UNSCOPED_MODULES)


def scope_kinds(tensor_type):
    """{id(function): (function, kind)} for every public Python function of the loaded mlx_compat modules (and
    their TORCH_VARIANTS tables) and every Python-level Tensor method: creation functions follow their device
    argument, the others their tensors. The first name a function is met under decides its kind (modules in
    sorted order). Empty where device scope is inactive."""
    import sys

    kinds = {}
    if not ACTIVE:
        return kinds

    def note(obj, kind):
        if _scopable(obj) and id(obj) not in kinds:
            kinds[id(obj)] = (obj, kind)

    # the protocol's own functions (handle_torch_function...) only route calls: each routed call gets its
    # scope from its own wrapper, so a subclass's __torch_function__ runs outside any
    skip = {__name__, "mlx_compat.overrides"}
    modules = [m for n, m in sorted(sys.modules.items())
               if m is not None and (n == "mlx_compat" or n.startswith("mlx_compat.")) and n not in skip]
    for ns in modules:
        for name, obj in list(vars(ns).items()):
            if name.startswith("_") and name != "_softmax_backward_data":
                continue
            creation = name in _CREATION and ns.__name__ in _CREATION_MODULES
            note(obj, SCOPE_DEVICE_ARG if creation else SCOPE_TENSORS)
        table = vars(ns).get("TORCH_VARIANTS")
        if isinstance(table, dict):
            for obj in list(table.values()):
                note(obj, SCOPE_TENSORS)
    for name, obj in list(vars(tensor_type).items()):
        if not name.startswith("__") and name not in ("_commit", "_write"):
            note(obj, SCOPE_TENSORS)
    return kinds


def install(tensor_type):
    """Wrap the package's public functions and Tensor methods once (overrides.install): each in one C wrapper
    that makes the __torch_function__ check where torch does and, where device scope is active, runs the call on
    its device (Note [Device scope]). The same function object gets the same wrapper everywhere, so identities
    between namespaces (`mlx_compat.x is mlx_compat._ops.views.x`) hold."""
    from . import _device, overrides

    _C._register_device_scope(_device.to_code)
    overrides.install(tensor_type, scope_kinds(tensor_type))
