"""mlx_compat: PyTorch's API on Apple's MLX. `import mlx_compat as torch`.

The Tensor type and its per-op path are C (mlx_compat._C); this package is the Python-facing API
laid out as torch's: creation, dtypes, devices, the op families (mlx_compat/_ops/) and namespaces.
"""
from __future__ import annotations

from ._blas import install as _install_blas
_install_blas()  # Linux CPU: MLX's BLAS/LAPACK -> OpenBLAS (mlx_compat/_blas), before any MLX work
from ._blas import set_num_threads, get_num_threads, set_num_interop_threads, get_num_interop_threads  # noqa: E402

import builtins as _builtins
import math as _math

import mlx.core as _mx

from . import _C
from . import _dtype as _dtype_mod
from ._device import device
from ._size import Size
from ._dtype import (dtype, float32, float64, float16, bfloat16, complex64, int8, int16, int32, int64, uint8,
                     uint16, uint32, uint64, float, double, half, cfloat, short, int, long, bool, finfo, iinfo)
from ._tensor import Tensor, view_as_real, view_as_complex
from ._ops import indexing as _indexing  # noqa: F401  (registers the advanced-indexing path with the core)
from ._ops.random import Generator, manual_seed, seed, initial_seed, default_generator
from ._ops.creation import (tensor, as_tensor, asarray, from_numpy, from_dlpack, zeros, ones, empty, full, zeros_like,
                            ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand, randn, randint,
                            randperm, rand_like, randn_like, randint_like, normal)
from ._ops.creation import range  # noqa: A004 - torch's deprecated torch.range
from ._ops.operators import (add, sub, subtract, mul, multiply, div, divide, true_divide, floor_divide, remainder,
                             pow, neg, negative, abs, absolute, bitwise_not, logical_not, eq, ne, lt, le, gt, ge,
                             greater, greater_equal, less, less_equal, not_equal, bitwise_and, bitwise_or,
                             bitwise_xor, bitwise_left_shift, bitwise_right_shift, maximum, minimum, clamp, clip,
                             clamp_min, clamp_max, masked_fill, where, result_type, promote_types, can_cast, sum,
                             mean, matmul, fmod, atan2, arctan2)
from ._ops.pointwise import (exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, sin, cos, tan, tanh, sigmoid,
                             reciprocal, floor, ceil, trunc, square, sign, relu, round, fix, lerp, addcmul, addcdiv,
                             any, all)
from ._ops.shape import cat, concat, concatenate, stack
from ._ops.linalg import mm, bmm
from ._ops.indexing import index_select, gather
from ._ops.creation import bernoulli, multinomial
from ._ops.samplers import poisson, binomial, _standard_gamma, _sample_dirichlet, _standard_gamma_grad, _dirichlet_grad
from ._ops.random import get_rng_state, set_rng_state
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled)
from ._interop import from_torch, to_torch
from ._tensor_str import set_printoptions, get_printoptions
from . import cuda, backends, cpu, mps, accelerator, amp, random, testing, distributions  # noqa: F401
from ._switches import (set_float32_matmul_precision, get_float32_matmul_precision, use_deterministic_algorithms,
                        are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled,
                        set_deterministic_debug_mode, get_deterministic_debug_mode, set_warn_always,
                        is_warn_always_enabled, set_flush_denormal, is_autocast_enabled, get_autocast_dtype,
                        set_autocast_dtype, is_autocast_cache_enabled, set_autocast_cache_enabled,
                        clear_autocast_cache, get_autocast_gpu_dtype, get_autocast_cpu_dtype, is_autocast_cpu_enabled)
from .amp import autocast  # noqa: F401
from ._device import set_default_device, get_default_device  # noqa: F401
from .nn.modules.rnn import lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell  # noqa: F401,E402
from .nn.functional import bilinear, native_dropout  # noqa: F401,E402
from .autograd.anomaly_mode import (set_anomaly_enabled, is_anomaly_enabled,  # noqa: F401,E402
                                    is_anomaly_check_nan_enabled)
from . import nn, return_types  # noqa: F401
from .nn.functional import softmax, log_softmax, dropout, layer_norm, batch_norm, embedding, conv1d, conv2d, conv3d
from .nn.functional import relu_
from ._ops.reduction import max, min, argmax, argmin, amax, amin, var, std
from ._ops.pointwise import sgn
from ._ops.indexing import scatter, scatter_add
from ._ops.linalg import addmm
from .autograd import _derivatives  # noqa: F401  (registers the C ops' derivatives)
from . import autograd  # noqa: F401

# the op families star-exported (each module lists its exports in __all__)
from ._ops.elementwise import *  # noqa: F401,F403,E402
from ._ops.reduction import *  # noqa: F401,F403,E402
from ._ops.linalg import *  # noqa: F401,F403,E402
from ._ops.shape import *  # noqa: F401,F403,E402
from ._ops.views import *  # noqa: F401,F403,E402
from ._ops.calculus import *  # noqa: F401,F403,E402
from ._ops.sorting import *  # noqa: F401,F403,E402
from ._ops.indexing import (take, take_along_dim, index_add, index_copy, index_fill, index_put,  # noqa: E402
                            index_reduce, scatter_reduce, masked_scatter, masked_select, nonzero, argwhere,
                            unravel_index, nonzero_static, put, _unsafe_masked_index,
                            _unsafe_masked_index_put_accumulate)
from ._ops.creation import scalar_tensor, empty_strided, empty_permuted, fill, fill_, zero_, resize_as_  # noqa: E402
from ._ops.creation import frombuffer  # noqa: E402
from ._ops.special import *  # noqa: F401,F403,E402
from ._ops.complex import *  # noqa: F401,F403,E402
from ._ops.spectral import *  # noqa: F401,F403,E402
from ._ops.linalg_solvers import *  # noqa: F401,F403,E402
from . import linalg, special, fft, signal, masked, ops  # noqa: F401,E402
from . import optim  # noqa: F401,E402
from . import distributed  # noqa: F401,E402
from .ops import _softmax_backward_data  # noqa: E402 (torch._softmax_backward_data)

# nn.functional's modules name the functions torch also has at top level (torch.celu, torch.pixel_shuffle, ...)
# and TORCH_VARIANTS the top-level functions whose torch signature differs from nn.functional's (torch.kl_div's
# integer reduction, torch.batch_norm's argument order, torch.adaptive_max_pool1d's (values, indices), ...)
_n = None
for _m in nn.functional.MODULES:
    for _n in _m.TORCH_EXPORTS:
        globals()[_n] = getattr(_m, _n)
    globals().update(getattr(_m, "TORCH_VARIANTS", {}))
del _m, _n

_C._register(_dtype_mod.BY_CODE, (_device.CPU_DEVICE, _device.GPU_DEVICE), Size)

__version__ = "0.1.0"


def get_default_dtype():
    return _C._get_default_dtype()


def set_default_dtype(d):
    """Set the default floating dtype (float32, float64, float16 or bfloat16), as torch does."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type")
    _C._set_default_dtype(d)


def is_tensor(obj):
    return isinstance(obj, Tensor)


# torch's constants (Python floats, and None for indexing)
e, pi, inf, nan, newaxis = _math.e, _math.pi, _math.inf, _math.nan, None
strided = "torch.strided"  # the one layout: what Tensor.layout answers


def typename(obj):
    """torch.typename: a tensor's type() string ('torch.FloatTensor'), else the object's (or, for an instance,
    its class's) module-qualified name, without the module for builtins."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return input.dtype.is_complex


def get_device(input):
    return input.get_device()


def is_signed(input):
    return input.is_signed()


def is_inference(input):
    return input.is_inference()


def numel(input):
    return input.numel()


# eval(*tensors): mx.eval's counterpart, C (csrc/threads.c, under the evaluation lock of Note [Threads])
eval = _C.eval  # noqa: A001 - mirrors mx.eval


def synchronize(device=None):
    """Compute every live tensor's value and wait for all queued MLX work (Note [Live tensors], csrc/tensor.c)."""
    _C._eval_live()
    _mx.synchronize()


# functions mirrored from the Tensor methods (torch.reshape(x, shape), ...)
def _fn_from_method(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__qualname__ = name
    return fn


for _name in ("reshape", "flatten", "unflatten", "transpose", "swapaxes", "swapdims", "t", "permute", "movedim",
              "moveaxis", "squeeze", "unsqueeze", "narrow", "select", "unbind", "split", "chunk", "diagonal",
              "as_strided", "ravel", "detach", "clone", "real", "imag"):
    globals()[_name] = _fn_from_method(_name)

# torch's in-place function forms (torch.sigmoid_(x), torch.clamp_(x, 0, 1), ...): the Tensor methods
for _name in ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
              "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
              "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_",
              "expm1_", "fix_", "floor_", "frac_", "i0_", "index_put_", "log10_", "log1p_", "log2_", "log_",
              "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "round_", "rsqrt_",
              "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_"):
    globals()[_name] = _fn_from_method(_name)


def flip(input, dims):
    if isinstance(dims, _builtins.int):  # the method takes varargs dims; torch's function form a sequence only
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    return input.flip(dims)


def real(input):
    return input.real


def imag(input):
    return input.imag


del _name


# Note [Declared Tensor methods]: the Python-level Tensor methods every module above declared, put on the type
# once, before the wrapping below
from . import _methods  # noqa: E402

_methods.install(Tensor)

# Note [Device scope]: where a GPU exists, Python-level ops run on their tensors' device (installed last)
from . import _device_scope  # noqa: E402

_device_scope.install(Tensor)
from . import _argcheck  # noqa: E402
_C._set_arg_error_hook(_argcheck.arg_error_hook)  # Note [Argument error hook]

# torch.utils (data loading, safetensors)
from . import utils  # noqa: E402,F401
from .serialization import save, load  # noqa: E402,F401
from . import serialization  # noqa: E402,F401
from ._alias import install, uninstall  # noqa: E402,F401  (the torch import alias: mlx_compat/_alias.py)
from ._compile import compile  # noqa: E402,F401,A004  (torch.compile: mlx_compat/_compile.py)
from . import compiler, _dynamo  # noqa: E402,F401
from . import func  # noqa: E402,F401  (torch.func: mlx_compat/func)
from .func import vmap  # noqa: E402,F401  (torch.vmap is torch.func.vmap)


# Note [No module __getattr__]
# torch's names kept in the import alias's table (mlx_compat/_alias.py `_torch_extras`: the memory formats
# `contiguous_format`/`preserve_format`/`channels_last`(`_3d`), `memory_format`, the legacy typed tensors
# `FloatTensor`...) are bound here, so `import mlx_compat as torch` finds them as `import torch`
# under the alias does. They are bound eagerly rather than through a module-level `__getattr__`: CPython 3.11 and 3.12
# do not specialise attribute loads on a module whose namespace holds `__getattr__` (LOAD_ATTR_MODULE), so every
# `torch.exp(...)` paid a generic attribute lookup: callgrind, bench/bench_dispatch_instr.py, torch.exp(a) 4,965 ->
# 4,699 instructions per call (raw mx.exp 4,405), the same 266 fewer for every `torch.<name>` call. The same holds
# for every module that hot code reads attributes of (mlx_compat._compile); tests/test_percall_paths.py checks both.
from ._alias import _torch_extras  # noqa: E402

globals().update(_torch_extras())
del _torch_extras
