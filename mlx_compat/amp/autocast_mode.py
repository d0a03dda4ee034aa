"""torch.autocast (torch.amp.autocast, torch.cuda.amp.autocast, torch.cpu.amp.autocast): mixed precision by op.

Note [Autocast as a function mode]
torch's autocast is a dispatch key: inside the region every listed op casts its floating inputs first (to the
region's lower precision type for the products and convolutions, to float32 for the ops that lose accuracy in
half types, to the widest input type for the few that mix inputs). Here the region is a TorchFunctionMode
(overrides.py), which every public function, Tensor method and operator already consults, so nothing outside an
autocast region pays anything. The mode picks the op's policy by its name from the device type's table (torch
2.13's lists: ATen/autocast_mode.h for CUDA, MPS and the other GPU backends, autocast_mode.cpp's CPU list),
casts the eligible tensors (floating, not float64, on the region's device) with recorded `to` copies, so
gradients flow back in the inputs' dtypes as torch's do, and calls the op with the mode popped. A Python-level
composite that is in no list (multi_head_attention_forward, an LSTM) runs with the mode still active, so the ops
it is made of are cast as torch casts them; a listed one runs as one op, as torch's listed ATen op does. torch's
cast cache only saves time and is not kept. The cost inside a region is one Python-level call per op: about
1.1-1.4 us over the op on this CPU (`x + x` 0.67 -> 2.07 us), casts included: F.linear 0.83 -> 6.35 us."""
from __future__ import annotations

import functools
import threading
import warnings

from .. import _device, _dtype, _tensor
from .._tensor import Tensor as _Tensor
from ..overrides import TorchFunctionMode

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

_LOWER, _FP32, _SET_OPT_DTYPE, _PROMOTE, _BANNED = "lower", "fp32", "set_opt_dtype", "promote", "banned"

_MATMULS = ("matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm", "baddbmm", "addbmm", "linear", "vecdot")
_CONVS = ("conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
          "prelu", "scaled_dot_product_attention")
_LOSSES = ("nll_loss", "cross_entropy", "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss", "huber_loss",
           "mse_loss", "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss",
           "multi_margin_loss", "binary_cross_entropy_with_logits", "poisson_nll_loss", "cosine_embedding_loss")


def _interpolate_policy(args, kwargs):
    """GPU tables list the upsampling kernels (float32), not adaptive pooling (mode='area')."""
    mode = kwargs.get("mode", args[3] if len(args) > 3 else "nearest")
    return None if mode == "area" else _FP32


def _pad_policy(args, kwargs):
    """The CPU table lists the reflection and replication pads (float32)."""
    mode = kwargs.get("mode", args[2] if len(args) > 2 else "constant")
    return _FP32 if mode in ("reflect", "replicate") else None


def _table(lower, fp32, set_opt=(), promote=(), banned=(), special=None):
    t = {}
    for names, kind in ((lower, _LOWER), (fp32, _FP32), (set_opt, _SET_OPT_DTYPE), (promote, _PROMOTE),
                        (banned, _BANNED)):
        for n in names:
            t[n] = kind
    t.update(special or {})
    return t


# CUDA, MPS (ATen/autocast_mode.h's AT_FORALL_* lists, as our functions are named; cross_entropy is torch's
# log_softmax + nll_loss, both float32 there)
_GPU = _table(
    lower=_MATMULS + _CONVS + ("addmv", "addr", "einsum", "mv", "chain_matmul", "multi_dot", "lstm_cell", "gru_cell",
                               "rnn_tanh_cell", "rnn_relu_cell"),
    fp32=_LOSSES + ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
                    "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__", "softplus", "layer_norm", "rms_norm",
                    "group_norm", "norm", "nuclear_norm", "cosine_similarity", "dist", "pdist", "cdist", "renorm",
                    "logsumexp"),
    set_opt=("prod", "softmax", "log_softmax", "cumprod", "cumsum", "vector_norm", "matrix_norm", "sum"),
    promote=("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sample", "index_put",
             "index_put_", "tensordot", "scatter_add"),
    banned=("binary_cross_entropy",),
    special={"interpolate": _interpolate_policy, "upsample": _interpolate_policy})

# CPU (autocast_mode.cpp's CPU registrations, as our functions are named)
_CPU = _table(
    # einsum, tensordot, inner, chain_matmul and multi_dot are composites of mm in torch, so lower there too
    lower=_MATMULS + _CONVS + ("einsum", "tensordot", "inner", "chain_matmul", "multi_dot"),
    fp32=_LOSSES + ("ctc_loss", "avg_pool3d", "binary_cross_entropy", "grid_sample", "polar", "prod", "quantile",
                    "nanquantile", "stft", "cdist", "trace", "view_as_complex", "cholesky", "cholesky_inverse",
                    "cholesky_solve", "inverse", "lu_solve", "orgqr", "ormqr", "pinverse", "max_pool3d",
                    "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
                    "fractional_max_pool2d", "fractional_max_pool3d", "geqrf", "qr", "svd", "triangular_solve",
                    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
                    "irfftn", "hfft", "ihfft", "cond", "matrix_rank", "solve", "cholesky_ex", "inv", "inv_ex",
                    "svdvals", "eig", "eigvals", "eigh", "eigvalsh", "householder_product", "tensorinv",
                    "tensorsolve", "lstsq", "matrix_power", "slogdet", "det"),
    promote=("stack", "cat", "index_copy"),
    special={"pad": _pad_policy})

_BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")

_DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16", "mps": "float16", "xpu": "bfloat16"}
_state = threading.local()  # per thread, as torch's: {device type: (enabled, dtype)}, the cache switch


def _states():
    s = getattr(_state, "by_type", None)
    if s is None:
        s = _state.by_type = {}
    return s


def _gpu_type():
    return _device.GPU_TYPE if _device.GPU_AVAILABLE else None


def is_autocast_available(device_type: str) -> bool:
    return device_type == "cpu" or device_type == _gpu_type()


def is_autocast_enabled(device_type: str | None = None) -> bool:
    return _states().get("cuda" if device_type is None else device_type, (False, None))[0]


def get_autocast_dtype(device_type: str):
    got = _states().get(device_type)
    if got is not None and got[1] is not None:
        return got[1]
    return getattr(_dtype, _DEFAULT_DTYPE.get(device_type, "float16"))


def set_autocast_dtype(device_type: str, dtype) -> None:
    enabled = _states().get(device_type, (False, None))[0]
    _states()[device_type] = (enabled, dtype)


def is_autocast_cache_enabled() -> bool:
    return getattr(_state, "cache", True)


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache = bool(enabled)


def clear_autocast_cache() -> None:
    """No cast cache is kept (Note [Autocast as a function mode])."""


# device code -> {function: (its table entry, its __wrapped__)}: the per-op lookups, made once per function (the
# tables never change)
_MEMO = {_device.CPU: {}, _device.GPU: {}}
_MEMO_MAX = 4096


class _AutocastMode(TorchFunctionMode):
    """The op-by-op casting of one autocast region (Note [Autocast as a function mode])."""

    def __init__(self, device_type, dtype):
        self.code = _device.CPU if device_type == "cpu" else _device.GPU
        self.dtype = dtype
        self.table = _CPU if device_type == "cpu" else _GPU
        self.memo = _MEMO[self.code]

    def _eligible(self, t):
        return isinstance(t, _Tensor) and t.dtype.is_floating_point and t.dtype is not _dtype.float64 and \
            t._device_code == self.code

    def _cast(self, v, dtype):
        if self._eligible(v):
            return v if v.dtype is dtype else _tensor._cast(v, dtype)
        if isinstance(v, (list, tuple)) and any(self._eligible(x) for x in v):
            return type(v)(self._cast(x, dtype) for x in v)
        return v

    def _widest(self, values):
        from .. import promote_types

        widest = None
        for v in values:
            for t in (v if isinstance(v, (list, tuple)) else (v,)):
                if self._eligible(t):
                    widest = t.dtype if widest is None else promote_types(widest, t.dtype)
        return widest

    def __torch_function__(self, func, types, args=(), kwargs=None):
        try:
            kind, inner = self.memo[func]
        except (KeyError, TypeError):  # TypeError: an unhashable callable, looked up each time
            kind, inner = self.table.get(getattr(func, "__name__", None)), getattr(func, "__wrapped__", None)
            if len(self.memo) >= _MEMO_MAX:  # functions made on the fly would otherwise be kept forever
                self.memo.clear()
            try:
                self.memo[func] = kind, inner
            except TypeError:
                pass
        if kind is None:
            if inner is None:  # a C op: nothing inside it to cast
                return func(*args, **kwargs) if kwargs else func(*args)
            with self:  # a Python composite: the ops it is made of see the region
                return inner(*args, **(kwargs or {}))
        kwargs = dict(kwargs or {})
        if callable(kind):
            kind = kind(args, kwargs)
            if kind is None:
                if inner is None:
                    return func(*args, **kwargs)
                with self:
                    return inner(*args, **kwargs)
        if kind == _BANNED:
            raise RuntimeError(_BANNED_MESSAGE)
        if kind == _SET_OPT_DTYPE:
            given = "dtype" in kwargs or any(isinstance(a, _dtype.dtype) for a in args)
            first = args[0] if args else kwargs.get("input")
            if not given and self._eligible(first) and first.dtype is not _dtype.float32:
                kwargs["dtype"] = _dtype.float32
            return func(*args, **kwargs)
        target = self.dtype if kind == _LOWER else _dtype.float32 if kind == _FP32 else \
            self._widest(list(args) + list(kwargs.values()))
        if target is None:
            return func(*args, **kwargs)
        args = tuple(self._cast(a, target) for a in args)
        kwargs = {k: self._cast(v, target) for k, v in kwargs.items()}
        return func(*args, **kwargs)


def lower_precision_args(*values):
    """values with their eligible tensors (one level of lists/tuples deep) in the active region's lower precision
    type, for Python-level kernels torch registers whole in its lower-precision list but that are not functions the
    mode sees (the RNN layers' `_rnn_impl`: torch's cuDNN/mkldnn RNN); values unchanged outside a region."""
    from ..overrides import _mode_stack

    for mode in reversed(_mode_stack()):
        if isinstance(mode, _AutocastMode):
            first = next((v for v in values if mode._eligible(v)), None)
            if first is not None:
                return tuple(mode._cast(v, mode.dtype) for v in values)
    return values


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context manager (or decorator)
    in which the listed ops run in mixed precision, Note [Autocast as a function mode]."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        known = ("cpu", "cuda", "mps", "xpu", "hpu", "mtia", "maia", "xla", "ipu", "meta", "privateuseone")
        if device_type not in known:
            raise RuntimeError(f"Expected one of {', '.join(known)} device type at start of device string: "
                               f"{device_type}")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        self._enabled = enabled
        if not enabled:
            return
        if device_type == "cpu":
            if self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                              "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              stacklevel=2)
                self._enabled = False
        elif device_type == "cuda" and _gpu_type() != "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif device_type == "mps" and _gpu_type() != "mps":
            warnings.warn("MPS Autocast is not available on this machine. Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif device_type not in ("cuda", "mps"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
            warnings.warn(f"In {device_type} autocast, but the target dtype is not supported. Disabling autocast.",
                          stacklevel=2)
            self._enabled = False

    def __enter__(self):
        states = _states()
        self._prev = states.get(self.device)
        self._prev_cache = is_autocast_cache_enabled()
        states[self.device] = (self._enabled, self.fast_dtype)
        set_autocast_cache_enabled(self._cache_enabled)
        # the region replaces an enclosing one of its device type, as torch's state does: that one's mode steps
        # aside (and comes back on exit); a disabled region only does that
        self._suspend = _Suspend(self.device)
        self._suspend.__enter__()
        self._mode = _AutocastMode(self.device, self.fast_dtype) if self._enabled else None
        if self._mode is not None:
            self._mode.__enter__()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self._mode is not None:
            self._mode.__exit__(exc_type, exc_val, exc_tb)
        self._suspend.__exit__(exc_type, exc_val, exc_tb)
        states = _states()
        if self._prev is None:
            states.pop(self.device, None)
        else:
            states[self.device] = self._prev
        set_autocast_cache_enabled(self._prev_cache)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, dtype=self.fast_dtype, enabled=self._enabled,
                          cache_enabled=self._cache_enabled):
                return func(*args, **kwargs)
        return decorated


class _Suspend:
    """autocast(enabled=False) inside a region: the enclosing regions of the device type are popped for the block."""

    def __init__(self, device_type):
        self.code = _device.CPU if device_type == "cpu" else _device.GPU

    def __enter__(self):
        from ..overrides import _mode_stack, _set_modes_active

        stack = _mode_stack()
        self.removed = [(i, m) for i, m in enumerate(stack) if isinstance(m, _AutocastMode) and m.code == self.code]
        for _, m in reversed(self.removed):
            stack.remove(m)
        _set_modes_active(stack)

    def __exit__(self, *exc):
        from ..overrides import _mode_stack, _set_modes_active

        stack = _mode_stack()
        for i, m in self.removed:
            stack.insert(i, m)
        _set_modes_active(stack)


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """torch.amp.custom_fwd: a custom Function's forward; with cast_inputs, inside an enabled region its floating
    tensor inputs are cast to it and it runs with autocast off; the region's state is kept for custom_bwd."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        from .. import Tensor

        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if not autocast_context:
            return fwd(*args, **kwargs)

        def cast(v):
            if isinstance(v, Tensor) and v.dtype.is_floating_point and v.dtype is not _dtype.float64:
                return v.to(cast_inputs)
            return v
        with autocast(device_type=device_type, enabled=False):
            return fwd(*[cast(a) for a in args], **{k: cast(v) for k, v in kwargs.items()})
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """torch.amp.custom_bwd: a custom Function's backward runs with the autocast state its forward had."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
