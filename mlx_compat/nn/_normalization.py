"""nn.functional group/instance/rms/local_response/batch/layer norm and torch.native_* norms.

Every normalization here is one pure MLX function run through `mlx_op` (Note [MLX vjp fallback]):
statistics, normalization and the affine transform together, so the backward (mx.vjp) differentiates
through the mean and variance exactly as torch's analytic formulas do.

Note [norm statistics outputs]
torch.native_layer_norm / native_batch_norm return (out, mean, rstd). Their derivative formulas use
the gradient of `out` only, and mean and rstd do not require grad: we compute them through
mx.stop_gradient and return them detached. torch's
native_group_norm differs: its mean and rstd outputs are differentiable functions of the input.

Note [norm compute dtype]
torch's CPU kernels accumulate float16/bfloat16 in float32 ("opmath") and cast the result back to the
input dtype; float64 stays float64. `_opmath` picks the compute dtype; outputs are cast back.
The variance is the mean of squared deviations (two passes), not E[x^2] - E[x]^2, for accuracy.

Note [layer norm arithmetic]
layer_norm follows torch's CPU kernels operation for operation: y = (x * rstd + (-mean * rstd)) * w + b,
rstd = 1 / sqrt(var + eps), and the backward (an mx.custom_function vjp) is torch's closed form
    ds = sum(g * w * x), db = sum(g * w), b' = (db * mean - ds) * rstd^3 / N,
    c = -b' * mean - db * rstd / N, dx = rstd * g * w + b' * x + c,
    dw = sum over rows of g * (rstd * x + (-rstd * mean)), db = sum over rows of g.
The textbook composition is the same function, but where the terms cancel (a row of one element: the
gradient is 0 exactly in theory) torch's rounding leaves ~1e-5 of noise on O(300) terms and OpInfo compares
against that. The custom vjp is itself made of MLX ops, so higher-order gradients still work.
The code writes these formulas without their negations (x * rstd - mean * rstd, dx = rstd * g * w + b' * x -
(b' * mean + db * rstd / N), dw's rstd * x - rstd * mean): IEEE negation is exact and p + (-q) == p - q, so the
bits are torch's with one elementwise pass fewer for each; torch's max(var, 0) is dropped for the same reason
(a mean of squared deviations is never negative).

Note [batch norm arithmetic]
batch_norm follows torch's CPU kernel (batch_norm_cpu_transform_input): per channel invstd = 1 / sqrt(var + eps)
(the batch's biased variance in training, running_var in evaluation), alpha = invstd * weight and
beta = bias - mean * alpha, then out = x * alpha + beta: two passes over the input where the textbook
((x - mean) * invstd) * weight + bias takes four, and torch's rounding.

Note [batch norm backward]
In training (float32/float64, nn.functional's form) the gradient is torch's closed form (batch_norm_backward_cpu,
`_batch_norm_train_grads`) from the forward's own mean and invstd, which the node keeps (Note [Training batch norm
path]; fused_op's scheme, Note [fused backward] in nn/_fused.py), instead of mx.vjp re-running the moments: a
ResNet-50 step's graph has 4978 nodes instead of 6409, and the eager ResNet-18 32 px step took 0.87x native MLX's
time instead of 0.99x (ResNet-50: equal). create_graph differentiates the composite as before. An earlier form of
the same backward was reverted because it made the compiled ResNet-50 step slower (2-4x at the time); the slowdown
follows the forward's expression, not the backward: with the textbook forward ((x - mean) * rstd) * w + b beside
this backward the compiled step took 569 ms against 444 ms for the vjp path (interleaved, one process), and with
torch's folded forward above, 443 ms. Both compiled graphs hold the same number of fused kernels of each kind, so
the difference is inside MLX's CPU kernels for those fusions (how far it traced was all the time allowed: MLX's CPU
fused kernels with broadcast operands are several times slower than the unfused ops, e.g. a compiled eval batch norm
+ relu 22.6 ms against 5.1 ms eager on a 2x112x112x64 input, native MLX's own model code).

Note [running statistics]
In training, batch_norm (and instance_norm with use_input_stats) update running_mean / running_var in
place, without autograd: new = (1 - momentum) * old + momentum * batch_stat, where the variance fed to
running_var is the unbiased one (sum of squares / (n - 1)); instance_norm averages the per-instance
statistics over the batch first, as torch does by running batch_norm on a (1, N*C, ...) view.
The update is built from the forward's own (small, per-channel) mean and biased-variance arrays, which the
forward's kernel function hands out through a `stats` dict, never from the input again: MLX drops an evaluated
array's inputs, so once the loss is evaluated the lazily updated buffers hold only per-channel arrays. Recomputing
the moments from the input instead kept every training batch's input alive until the buffers were next read
(a training loop's memory grew with every step).
"""
from __future__ import annotations

import builtins
import functools
import math

import mlx.core as mx

from .. import _C, _device, _dtype
from ..autograd._derivatives import needs_grad
from ..autograd._mlx_vjp import compiled_when_repeated, mlx_op
from ._fused import fused_op
from . import _layout
from ..autograd.grad_mode import no_grad
from .._device_scope import scoped as _scoped
from .._tensor import Tensor, _new
from .._ops._common import _sname

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm"]
# also exported as mlx_compat.<name> (torch has them at top level)
TORCH_EXPORTS = ["layer_norm", "rms_norm", "native_layer_norm", "native_batch_norm",
                 "_native_batch_norm_legit", "native_group_norm"]
# torch.batch_norm / torch.instance_norm take their arguments in another order than the nn.functional
# functions of the same name, and torch.group_norm lacks nn.functional.group_norm's batch-size check:
# mlx_compat/__init__.py should export these as mlx_compat.<key>.
TORCH_VARIANTS = {}


def _opmath(dt):
    return mx.float32 if dt in (mx.float16, mx.bfloat16) else dt


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _float_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"{name}\" not implemented for '{_sname(input.dtype)}'")


def _moments(x, axes):
    """mean, deviation and biased variance over axes (keepdims), Note [norm compute dtype]."""
    mean = mx.mean(x, axis=axes, keepdims=True)
    d = x - mean
    return mean, d, mx.mean(d * d, axis=axes, keepdims=True)


def _affine(y, wb, has_w, has_b, shape=None):
    it = iter(wb)
    if has_w:
        w = next(it)
        y = y * (w if shape is None else w.reshape(shape))
    if has_b:
        b = next(it)
        y = y + (b if shape is None else b.reshape(shape))
    return y


def _inputs(input, weight, bias):
    return [input] + [t for t in (weight, bias) if t is not None]


# ---------------------------------------------------------------- layer norm


def _check_normalized_shape(input, normalized_shape, weight, bias):
    if isinstance(normalized_shape, builtins.int):
        normalized_shape = (normalized_shape,)
    shape = tuple(builtins.int(s) for s in normalized_shape)
    k = len(shape)
    if k < 1:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._mx.shape != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{_shape_str(t.shape)} and normalized_shape = {_shape_str(shape)}")
    ishape = input._mx.shape
    if len(ishape) < k or ishape[len(ishape) - k:] != shape:
        raise RuntimeError(f"Given normalized_shape={_shape_str(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{_shape_str(input.shape)}")
    return shape


def _layer_norm_stats(x, axes, eps):
    mean, _, var = _moments(x, axes)
    # torch: 1 / sqrt(max(var, 0) + eps), not rsqrt; the variance here is a mean of squares, never negative, so
    # torch's max(var, 0) (there for its one-pass variance) would be one more pass for nothing
    return mean, 1 / mx.sqrt(var + eps)


def _layer_norm_grads(x, w, g, mean, a, axes, block, scale=None):
    """(dx, dw, db): torch's CPU layer norm backward, Note [layer norm arithmetic]; a = rstd; scale: 1 / block
    given as a 0-d array of the compute dtype (Note [compiled layer norm]), the same value."""
    if scale is None:
        scale = 1.0 / block
    gw = g * w
    ds = mx.sum(gw * x, axis=axes, keepdims=True)
    db = mx.sum(gw, axis=axes, keepdims=True)
    bb = (db * mean - ds) * a * a * a * scale
    # torch's c = -bb * mean - db * a * scale and dx = a * g * w + bb * x + c, its dw = g * (a * x + (-a * mean)):
    # written without the negations, which IEEE arithmetic makes exact (p + (-q) == p - q, -u - r == -(u + r)),
    # so the results are the same bits in fewer passes (Note [layer norm arithmetic])
    dx = (a * g * w + bb * x) - (bb * mean + db * a * scale)
    lead = tuple(builtins.range(x.ndim - len(axes)))
    dw = g * (a * x - a * mean)
    return dx, mx.sum(dw, axis=lead) if lead else dw, mx.sum(g, axis=lead) if lead else g


def _layer_norm_apply(x, w, b, mean, rstd):
    """torch's (x * rstd + (-mean * rstd)) * w + b, as x * rstd - mean * rstd: the same bits (negation is exact
    and p + (-q) == p - q), one pass fewer."""
    return (x * rstd - mean * rstd) * w + b


@functools.lru_cache(maxsize=256)
def _layer_norm_core(axes, eps, block):
    """y = (x * rstd + (-mean * rstd)) * w + b with torch's CPU backward formula, Note [layer norm arithmetic].
    Built once per (axes, eps, block): a pure function of its arguments, and an mx.custom_function costs
    microseconds to make."""

    @mx.custom_function
    def core(x, w, b):
        return _layer_norm_apply(x, w, b, *_layer_norm_stats(x, axes, eps))

    @core.vjp
    def core_vjp(primals, g, out):
        x, w, b = primals
        mean, a = _layer_norm_stats(x, axes, eps)
        return _layer_norm_grads(x, w, g, mean, a, axes, block)

    return core


@functools.lru_cache(maxsize=64)
def _layer_norm_compiled(k, eps):
    """Note [compiled layer norm]: (forward, backward) compiled for the last k axes and one eps, with weight and
    bias. forward(x, w, b) -> (y in x's dtype, float32 mean, rstd); backward(x, w, g, mean, rstd, scale) ->
    (dx, dw, db) in the compute dtype, scale = 1 / block as a 0-d array."""
    axes = tuple(builtins.range(-k, 0))

    def forward(x, w, b):
        ct = _opmath(x.dtype)
        xc = x.astype(ct)
        mean, rstd = _layer_norm_stats(xc, axes, eps)
        return _layer_norm_apply(xc, w.astype(ct), b.astype(ct), mean, rstd).astype(x.dtype), mean, rstd

    def backward(x, w, g, mean, rstd, scale):
        ct = mean.dtype
        return _layer_norm_grads(x.astype(ct), w.astype(ct), g.astype(ct), mean, rstd, axes, None, scale)

    return mx.compile(forward), mx.compile(backward)


# Note [compiled layer norm]
# GPT-2-small runs 25 layer norms per step, each ~25 elementwise nodes forward and ~40 backward around its four
# reductions (67 in bfloat16 with the casts): on a GPU each node of an eager step is a kernel. With a weight and a
# bias (nn.LayerNorm's case) the fused path's forward and backward are each one compiled function: MLX fuses the
# elementwise runs between the reductions, and keeps the ops and their order, so the values are the uncompiled
# formulas' bits (tests/nn/test_nn_fused_paths.py compares both). Traced once per input shape, not shapeless:
# MLX 0.32's shapeless CPU kernels for these graphs corrupt the heap when a dimension is 1 (a (1, 4) or (3, 1)
# input aborted the interpreter with "malloc(): unaligned fastbin chunk detected"); a training step's shapes are
# fixed, so the trace is paid once per shape.


def _layer_norm_fused(input, weight, bias, axes, eps, block):
    """layer_norm of a floating input recording a gradient: the statistics of the forward serve the backward
    (Note [fused backward] in nn/_fused.py); the same arithmetic as `_layer_norm_core`, bit for bit. Half types
    compute in float32 and round once, as the composed path and torch do (Note [opmath]); the saved statistics
    stay float32, and the gradients are rounded once to their inputs' dtypes."""
    has_w, has_b = weight is not None, bias is not None
    shape = tuple(input._mx.shape[len(input._mx.shape) - len(axes):])
    core = _layer_norm_core(axes, builtins.float(eps), block)

    def wb(x, rest):
        ct = _opmath(x.dtype)
        it = iter(rest)
        w = next(it).astype(ct) if has_w else mx.ones(shape, dtype=ct)
        b = next(it).astype(ct) if has_b else mx.zeros(shape, dtype=ct)
        return w, b

    def f(x, *rest):
        return core(x.astype(_opmath(x.dtype)), *wb(x, rest)).astype(x.dtype)

    def fwd(x, *rest):
        w, b = wb(x, rest)
        xc = x.astype(_opmath(x.dtype))
        mean, rstd = _layer_norm_stats(xc, axes, eps)
        # float32/float64: the compute-dtype input and weight are the arrays themselves and ride along for free;
        # half types keep only the statistics and cast x and w again in the backward (exact casts, the same
        # bits), rather than hold a float32 copy of every normalized activation from forward to backward
        half = xc is not x and xc.dtype != x.dtype
        return _layer_norm_apply(xc, w, b, mean, rstd).astype(x.dtype), (mean, rstd, None if half else xc,
                                                                          None if half else w)

    if has_w and has_b and input._mx.ndim > len(axes):  # Note [compiled layer norm]
        cfwd, cbwd = _layer_norm_compiled(len(axes), builtins.float(eps))
        scale = mx.array(1.0 / block, dtype=_opmath(input._mx.dtype))

        def cfwd_res(x, w, b):
            y, mean, rstd = cfwd(x, w, b)
            return y, (mean, rstd)

        def cbwd_grads(values, res, out, g):
            x, w = values[0], values[1]
            dx, dw, db = cbwd(x, w, g, *res, scale)
            return [dx.astype(x.dtype), dw.astype(w.dtype), db.astype(values[2].dtype)]

        return fused_op("NativeLayerNormBackward0", f, _inputs(input, weight, bias), cfwd_res, cbwd_grads)

    def bwd(values, res, out, g):
        mean, rstd, xc, w = res
        if xc is None:
            xc = values[0].astype(mean.dtype)
            w = wb(values[0], values[1:])[0]
        dx, dw, db = _layer_norm_grads(xc, w, g.astype(xc.dtype), mean, rstd, axes, block)
        dts = [v.dtype for v in values]
        return [dx.astype(dts[0])] + ([dw.astype(dts[1])] if has_w else []) + ([db.astype(dts[-1])] if has_b else [])

    return fused_op("NativeLayerNormBackward0", f, _inputs(input, weight, bias), fwd, bwd)


# Note [fused layer_norm]
# On the GPU device layer_norm is MLX's mx.fast.layer_norm: one kernel forward and, differentiated by mx.vjp (mlx_op),
# MLX's fused backward, instead of the float32 composition with torch's CPU rounding (Note [layer norm arithmetic])
# that the CPU keeps bit for bit. GPU values then differ from the CPU's in the last bits (Note [GPU arithmetic] in
# nn/_attention.py). With a gradient recorded it serves rows of at least 128 elements whose width is a multiple of 8
# only: on an H200, MLX 0.32.4's CUDA layer_norm vjp (a probe, one process per width, 64 rows) gave a wrong
# gradient with respect to x for widths 6, 127 and 130 (float32, up to 45 % of its scale; bfloat16 widths 100, 132
# and 257 off by several bfloat16 ulps) and an illegal memory access, which ends the process, for widths 257, 770 and
# 1030, while every multiple of 8 tried (8 to 4096, GPT-2's 768 included) matched the composition to 2e-7 (float32).
# Other rows with a gradient take the composed fused path below. bench/gpu_check.py checks the 768-wide cases.
# Inference (nothing records a gradient, e.g. a Parameter weight under no_grad) takes the kernel at any width.
# Half types: the kernel reads bfloat16/float16, accumulates in float32 and rounds once, as the composition does.
_FAST_LN_MIN_GRAD_BLOCK = 128
_FAST_LN_GRAD_MULTIPLE = 8
_FAST_LN_DTYPES = (_dtype.float32, _dtype.bfloat16, _dtype.float16)


def native_layer_norm(input, normalized_shape, weight, bias, eps, _stats=True):
    """(out, mean, rstd); layer_norm passes _stats=False and gets out alone (no statistics outputs computed)."""
    _float_input(input, "LayerNormKernelImpl")
    shape = _check_normalized_shape(input, normalized_shape, weight, bias)
    _device.check_same_device(input, weight, bias)
    n, k = input.dim(), len(shape)
    axes = tuple(builtins.range(n - k, n))
    stat_shape = tuple(input._mx.shape[:n - k]) + (1,) * k
    has_w, has_b = weight is not None, bias is not None
    empty = input.numel() == 0
    block = math.prod(shape)
    # Note [fused layer_norm]: on the GPU (with a gradient recorded: rows of >= 128 elements, a multiple of 8) the
    # whole op is MLX's mx.fast.layer_norm, forward and backward (its vjp, through mlx_op)
    grad = _C.is_grad_enabled() and builtins.any(needs_grad(t) for t in (input, weight, bias) if t is not None)
    wide = _FAST_LN_MIN_GRAD_BLOCK <= block and block % _FAST_LN_GRAD_MULTIPLE == 0
    fused = (input._device_code == 1 and not _stats and (not grad or wide)
             and input.dtype in _FAST_LN_DTYPES
             and builtins.all(t.dtype is input.dtype for t in (weight, bias) if t is not None))

    if (not _stats and not empty and not fused and input.is_floating_point() and grad
            and builtins.all(t.dtype is input.dtype for t in (weight, bias) if t is not None)):
        return _layer_norm_fused(input, weight, bias, axes, eps, block)

    def f(x, *wb):
        ct = _opmath(x.dtype)
        if empty:  # no MLX reduction over zero-size axes; torch: mean 0, rstd nan for an empty block
            mean = mx.zeros(stat_shape, dtype=x.dtype)
            rstd = mx.full(stat_shape, 0.0 if block else math.nan, dtype=x.dtype)
            return _affine(x * 1, wb, has_w, has_b), mean, rstd
        if fused:  # MLX's fused kernel on the GPU (torch's CPU rounding is a CPU matter), Note [fused layer_norm]
            it = iter(wb)
            w = next(it).reshape(block) if has_w else None
            b = next(it).reshape(block) if has_b else None
            lead = x.shape[:n - k]
            return mx.fast.layer_norm(x.reshape(lead + (block,)), w, b, eps).reshape(x.shape)
        xc = x.astype(ct)
        it = iter(wb)
        w = next(it).astype(ct) if has_w else mx.ones(shape, dtype=ct)
        b = next(it).astype(ct) if has_b else mx.zeros(shape, dtype=ct)
        if grad:
            y = _layer_norm_core(axes, builtins.float(eps), block)(xc, w, b)
        else:  # the core's forward without its custom_function (nothing will differentiate it): the same ops
            y = _layer_norm_apply(xc, w, b, *_layer_norm_stats(xc, axes, eps))
        if not _stats:
            return y.astype(x.dtype)
        mean, rstd = _layer_norm_stats(mx.stop_gradient(xc), axes, eps)
        return y.astype(x.dtype), mean.astype(x.dtype), rstd.astype(x.dtype)

    if not _stats:
        if empty:
            return mlx_op("NativeLayerNormBackward0", lambda *v: f(*v)[0], _inputs(input, weight, bias))
        # the fused kernel's graph is fixed by these and the shapes: its vjp compiled once they repeat (Note
        # [Compiled when repeated] in autograd/_mlx_vjp.py)
        key = ("fast layer_norm", n, k, block, builtins.float(eps), has_w, has_b) if fused else None
        return mlx_op("NativeLayerNormBackward0", f, _inputs(input, weight, bias), key=key)
    out, mean, rstd = mlx_op("NativeLayerNormBackward0", f, _inputs(input, weight, bias))
    return out, mean.detach(), rstd.detach()  # Note [norm statistics outputs]


def _gpu_inference_layer_norm(input, normalized_shape, weight, bias, eps):
    """Note [fused layer_norm]'s kernel for the common inference call (GPU, nothing recording a gradient, one
    normalized dimension, weight and bias of it in the input's dtype) straight from the arguments, or None for
    every other call: the general path's checks and the op wrapper are most of a ViT layer norm's host time
    (on this CPU's fake GPU 13 us a call where the kernel's own graph takes 5.5)."""
    if not (isinstance(input, Tensor) and input._device_code == 1 and isinstance(weight, Tensor)
            and isinstance(bias, Tensor) and weight._device_code == 1 and bias._device_code == 1):
        return None  # (a weight on another device: the general path raises torch's error)
    if _C.is_grad_enabled() and (input.requires_grad or weight.requires_grad or bias.requires_grad):
        return None
    dt = input.dtype
    if dt not in _FAST_LN_DTYPES or weight.dtype is not dt or bias.dtype is not dt:
        return None
    shape = input._mx.shape
    if not shape or not input._mx.size:
        return None
    d = shape[-1]
    if normalized_shape != d and normalized_shape != (d,) and normalized_shape != [d]:
        return None
    if weight._mx.shape != (d,) or bias._mx.shape != (d,):
        return None
    return _new(_scoped(1, mx.fast.layer_norm, input._mx, weight._mx, bias._mx, builtins.float(eps)), 1, dt)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    # cudnn_enable: torch.layer_norm's extra (ignored) argument; nn.functional.layer_norm has no such argument
    out = _gpu_inference_layer_norm(input, normalized_shape, weight, bias, eps)
    if out is not None:
        return out
    return native_layer_norm(input, normalized_shape, weight, bias, eps, _stats=False)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    _float_input(input, "rms_norm")
    shape = _check_normalized_shape(input, normalized_shape, weight, None)
    k = len(shape)
    n = input.dim()
    axes = tuple(builtins.range(n - k, n))
    if eps is None:  # torch: machine epsilon of the compute dtype
        eps = 2.220446049250313e-16 if input.dtype is _dtype.float64 else 1.1920928955078125e-07
    empty = input.numel() == 0
    has_w = weight is not None
    out_dt = input.dtype

    def f(x, *w):
        if empty:
            return x * 1
        ct = _opmath(x.dtype)
        xc = x.astype(ct)
        y = xc * mx.rsqrt(mx.mean(xc * xc, axis=axes, keepdims=True) + eps)
        if has_w:
            y = y * w[0]
        return y.astype(out_dt._mx)

    return mlx_op("RmsNormBackward", f, [input] + ([weight] if has_w else []))


# ---------------------------------------------------------------- group norm


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    _float_input(input, "GroupNormKernelImpl")
    N, C, HxW, group = builtins.int(N), builtins.int(C), builtins.int(HxW), builtins.int(group)
    if group <= 0 or C % group:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {_shape_str(input.shape)} and num_groups={group}")
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"Expected input to have {N * C * HxW} elements, got {input.numel()}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {_shape_str(t.shape)} and input of shape "
                               f"{_shape_str(input.shape)}")
    in_shape = tuple(input.shape)
    cshape = (1, C) + (1,) * builtins.max(input.dim() - 2, 0)
    has_w, has_b = weight is not None, bias is not None
    empty = input.numel() == 0

    def f(x, *wb):
        if empty:
            block = (C // group) * HxW
            mean = mx.zeros((N, group), dtype=x.dtype)
            rstd = mx.full((N, group), 0.0 if block else math.nan, dtype=x.dtype)
            return _affine(x * 1, wb, has_w, has_b, cshape), mean, rstd
        ct = _opmath(x.dtype)
        xg = x.astype(ct).reshape(N, group, -1)
        mean, d, var = _moments(xg, (2,))
        rstd = mx.rsqrt(var + eps)
        y = (d * rstd).reshape(in_shape)
        y = _affine(y, [t.astype(ct) for t in wb], has_w, has_b, cshape)
        # unlike layer/batch norm, torch differentiates native_group_norm's mean and rstd outputs
        return y.astype(x.dtype), mean.reshape(N, group).astype(x.dtype), rstd.reshape(N, group).astype(x.dtype)

    return mlx_op("NativeGroupNormBackward0", f, _inputs(input, weight, bias))


def _torch_group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    N, C = input.shape[0], input.shape[1]
    return native_group_norm(input, weight, bias, N, C, math.prod(input.shape[2:]), num_groups, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    size = [input.shape[0] * input.shape[1] // num_groups, num_groups] + list(input.shape[2:])
    if math.prod([size[0]] + size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    return _torch_group_norm(input, num_groups, weight, bias, eps)


# ---------------------------------------------------------------- batch norm


def _check_channels(input, tensors):
    """torch's check that weight/bias/running stats have one element per channel (input.size(1))."""
    nd = input.dim()
    c = input.size(1) if nd > 1 else 0
    for name, t in tensors:
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if nd < 2 and input.numel():
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    return c


def _update_running(running_mean, running_var, mean, var_unbiased, momentum):
    """Note [running statistics]: in place, outside autograd."""
    with no_grad():
        if running_mean is not None:
            running_mean._write(_running_update(running_mean._mx, mean, momentum))
        if running_var is not None:
            running_var._write(_running_update(running_var._mx, var_unbiased, momentum))


def _batch_norm_train_grads(x, w, g, mean, invstd, axes, n, has_w, has_b):
    """[dx, dw?, db?] of training-mode batch norm, torch's CPU closed form (batch_norm_backward_cpu):
    dx = (g - sum(g) / N - (x - mean) * dotp * invstd^2 / N) * invstd * w, dw = dotp * invstd, db = sum(g),
    with dotp = sum((x - mean) * g) over every axis but the channels; n: N as a 0-d array of g's dtype (the
    count as MLX would convert it, Note [Training batch norm path])."""
    d = x - mean
    gsum = mx.sum(g, axis=axes, keepdims=True)
    dotp = mx.sum(d * g, axis=axes, keepdims=True)
    k = dotp * invstd * invstd / n
    scale = invstd * w if w is not None else invstd
    dx = (g - gsum / n - d * k) * scale
    out = [dx]
    if has_w:
        out.append((dotp * invstd).reshape(-1))
    if has_b:
        out.append(gsum.reshape(-1))
    return out


# Note [folded eval batch norm]
# An evaluation-mode batch norm with no gradient recorded is `x * alpha + beta` with alpha = invstd * weight and
# beta = bias - running_mean * alpha (Note [batch norm arithmetic]): six small per-channel ops (var + eps, sqrt,
# 1 / ., two products, a difference) before the two over the input, each a kernel launch of its own on a GPU
# (120 of them in an eager ResNet-18 forward). alpha and beta depend only on the running statistics and affine
# arrays, which are immutable MLX arrays: `_layout.cached_form` keeps them per tuple of arrays, so a write to any
# (load_state_dict, a training step's running-statistics update, `weight.mul_`) gives new arrays and new entries,
# and under compile they are inputs computed outside the graph (Note [Derived inputs]). The values are the
# unfolded path's: the same operations in the same order, computed once.


# Note [CPU fusion barrier after batch norm]
# On a channels-last source (Note [Channels-last source] in csrc/layout.c) mx.compile fuses a batch norm's
# `x * alpha + beta` with the relu and residual add after it into one kernel, as native MLX's graph does. On the
# GPU that is the point; MLX 0.32's CPU backend, though, runs a fused kernel with a broadcast operand (alpha, beta:
# (C,)) as a scalar strided loop, and its Maximum there is a branch per element (NaN check, then x > y), taken at
# random on a batch norm's output: a compiled conv -> batch norm -> relu at 4x28x28x64 took 5.1 ms of process time
# against 3.9 ms for conv -> batch norm (and 3.7 with `t * (t > 0)` as the relu: the branch is the cost). Native
# MLX pays it too (its compiled ResNet-18 4x3x112x112 inference: 93 ms against 63 ms eager). So on the CPU a
# large enough batch-norm result ends its kernel with mx.contiguous (a no-op on the row-contiguous result, but
# not fusable): the relu or residual add + relu after it runs on row-contiguous operands only, MLX's vectorised
# loops. Below _CPU_BARRIER_MIN elements the graph node (a few us of host time per compiled call) costs more than
# the branches.
_CPU_BARRIER_MIN = 4096


def _folded_affine(mean, var, wb, eps, shape, has_w, has_b, ct=None):
    """(invstd, alpha, beta) of Note [batch norm arithmetic]: invstd = 1 / sqrt(var + eps), alpha = invstd *
    weight, beta = bias - mean * alpha; wb: the weight and bias present, cast to ct (when given) and reshaped to
    `shape`. eps: a Python float, or a 0-d array inside a traced function (Note [Compiled training batch norm]).
    The 1 is a Python number: a traced function may not capture a (cached 0-d) array it also takes as an input,
    as momentum 1 - 1 / num_batches_tracked = 1.0 would pass."""
    invstd = 1.0 / mx.sqrt(var + eps)
    it = iter(wb)
    if has_w:
        w = next(it)
        alpha = invstd * (w if ct is None else w.astype(ct)).reshape(shape)
    else:
        alpha = invstd
    if has_b:
        b = next(it)
        beta = (b if ct is None else b.astype(ct)).reshape(shape) - mean * alpha
    else:
        beta = -mean * alpha
    return invstd, alpha, beta


def _eval_affine(rm, rv, *wb, eps, ct, pshape, has_w, has_b):
    """(alpha, beta) of an evaluation-mode batch norm (Note [folded eval batch norm])."""
    mean, var = rm.astype(ct).reshape(pshape), rv.astype(ct).reshape(pshape)
    return _folded_affine(mean, var, wb, eps, pshape, has_w, has_b, ct)[1:]


def _eval_fold(xc, rm, rv, wb, eps, ct, pshape, has_w, has_b):
    """xc * alpha + beta, the evaluation-mode batch norm of xc (computed in ct) with its folded per-channel scale
    and shift (Note [folded eval batch norm]), made once per set of statistics and affine arrays."""
    key = ("batch_norm_eval", eps, ct, pshape, has_w, has_b)
    fn = _eval_affine_fns.get(key)
    if fn is None:
        fn = _eval_affine_fns[key] = functools.partial(_eval_affine, eps=eps, ct=ct, pshape=pshape, has_w=has_w,
                                                       has_b=has_b)
    alpha, beta = _layout.cached_form((rm, rv, *wb), key, fn, n=2)
    return xc * alpha + beta


_eval_affine_fns = {}  # _eval_fold's key -> the partial of _eval_affine it computes a missing entry with


# Note [Inference batch norm path]
# nn.BatchNorm's evaluation-mode forward with nothing recorded (every batch norm of an inference network) is
# `_batch_norm_inference`: after `_batch_norm_impl`'s checks, the folded affine map of the input (or of its
# channels-last source, returning the NC... view of an N...C result marked with it), under the operands'
# device scope, which is what `_batch_norm_impl`'s general function computes for it, without its closures,
# statistics bookkeeping and mlx_op. Eager ResNet-18 forwards build most of their graph in these calls.
def _batch_norm_inference(input, weight, bias, running_mean, running_var, eps, c, n):
    dev = input._device_code
    wb = ()
    if weight is not None:
        dev, wb = builtins.max(dev, weight._device_code), (weight._mx,)
    if bias is not None:
        dev, wb = builtins.max(dev, bias._device_code), wb + (bias._mx,)
    last = n > 2 and _C._is_channels_last(input)  # _layout.is_channels_last_tensor
    src = _C._channels_last_source(input) if last else None  # _layout.source
    barrier = last and input._device_code == 0 and input.numel() >= _CPU_BARRIER_MIN
    res = _scoped(dev, _batch_norm_inference_mx, input._mx if src is None else src, last, last and src is None,
                  running_mean._mx, running_var._mx, wb, eps, c, n, weight is not None, bias is not None, barrier)
    if not last:
        return _new(res, dev, input.dtype)
    return _C._set_channels_last(_new(res[1], dev, input.dtype), True, res[0])  # _layout.mark_tensor


def _batch_norm_inference_mx(x, last, transpose, rm, rv, wb, eps, c, n, has_w, has_b, barrier):
    """The MLX side of _batch_norm_inference: y, or (the N...C y, its NC... view) when `last`."""
    dt = x.dtype
    ct = _opmath(dt)
    xc = x if ct == dt else x.astype(ct)
    if transpose:
        xc = mx.transpose(xc, _TO_LAST[n])
    y = _eval_fold(xc, rm, rv, wb, eps, ct, (c,) if last else (1, c) + _ONES[n], has_w, has_b)
    if ct != dt:
        y = y.astype(dt)
    if not last:
        return y
    if barrier:  # Note [CPU fusion barrier after batch norm]
        y = mx.contiguous(y)
    return y, mx.transpose(y, _FROM_LAST[n])


# the layout permutations and trailing broadcast dims of an n-dim input, n up to 8 (batch norms take 2 to 5)
_TO_LAST = {n: _layout.to_last(n - 2) for n in builtins.range(3, 9)}
_FROM_LAST = {n: _layout.from_last(n - 2) for n in builtins.range(3, 9)}
_ONES = {n: (1,) * (n - 2) for n in builtins.range(2, 9)}


# Note [Training batch norm path]
# A training-mode batch norm that records a gradient (every batch norm of a training network: float32 or float64,
# weight and bias of the input's dtype, nn.functional's form) is `_batch_norm_train`. After `_batch_norm_impl`'s
# checks, one MLX function (under the operands' device scope) computes the output, the mean and invstd that
# torch's closed-form backward reuses (Note [batch norm backward]) and the running statistics' new values (Note
# [running statistics]); the node's backward is the module-level `_batch_norm_train_backward`, which finds the
# layout, the statistics and what each input wants in the ctx's extra. That is `_batch_norm_impl`'s general
# function with fused_op, without the five closures, the stats dict and the no_grad block made per call, and
# with the per-channel arithmetic's Python scalars given as 0-d arrays made once (an MLX op with a Python
# scalar converts it at every call: ~0.4 us): the same operations in the same order (then compiled: Note [Compiled
# training batch norm]). On a GPU a channels-last input is normalised in N...C space both ways (Note
# [Channels-last gradients] in nn/_layout.py).
# This CPU, 2x64x8x8: ~32 -> ~25 us per F.batch_norm call (native MLX's whole BatchNorm module: 29 us).
_TRAIN_DTYPES = (_dtype.float32, _dtype.float64)
_TRAIN_PLANS = {}  # (n, c, last) -> (axes of the statistics, their keepdims shape, NC... axes, NC... shape)
_SCALARS = {}  # (value, MLX dtype) -> 0-d array
_SCALARS_MAX = 256  # momentum=None (a cumulative average) makes a new factor at every step


def _scalar(v, dt):
    """The 0-d MLX array of Python float v in dtype dt, which an MLX op combines with an array of dtype dt as it
    would v itself (Note [Training batch norm path])."""
    a = _SCALARS.get((v, dt))
    if a is None:
        a = mx.array(v, dtype=dt)
        if len(_SCALARS) < _SCALARS_MAX:
            _SCALARS[(v, dt)] = a
    return a


def _batch_norm_train_plan(n, c, last):
    plan = _TRAIN_PLANS.get((n, c, last))
    if plan is None:
        axes = tuple(d for d in builtins.range(n) if d != 1)
        bshape = (1, c) + (1,) * (n - 2)
        plan = _TRAIN_PLANS[(n, c, last)] = ((tuple(builtins.range(n - 1)), (c,)) if last else (axes, bshape)) + (
            axes, bshape)
    return plan


def _running_update(r, stat, momentum):
    """(r * (1 - momentum) + stat * momentum) in r's dtype: the running-statistics update (Note [running
    statistics]); the scalars as 0-d arrays of r's dtype give the Python scalars' bits."""
    dt = r.dtype
    return _running_update_by(r, stat, _scalar(1 - momentum, dt), _scalar(momentum, dt))


def _running_update_by(r, stat, keep, take):
    """_running_update with its factors 1 - momentum and momentum given as 0-d arrays of r's dtype."""
    dt = r.dtype
    if stat.dtype != dt:
        stat = stat.astype(dt)
    out = r * keep + stat * take
    return out if out.dtype == dt else out.astype(dt)


def _batch_norm_train_mx(x, wb, rm, rv, red, pshape, eps, has_w, has_b, n, last, momentum, count, dev):
    """(y, mean, invstd, new running mean or None, new running var or None) of a training batch norm (Note
    [Training batch norm path]); mean and invstd keep the reduced dims (of N...C space when `last`). One
    mx.compile'd function per plan and device once x's shape repeats (Note [Compiled training batch norm])."""
    dt = x.dtype
    has_rm, has_rv = rm is not None, rv is not None
    # the scalars as inputs, never constants of the trace (Note [Compiled training batch norm])
    args = [x, *wb, _scalar(eps, dt), _scalar(count / (count - 1) if count > 1 else math.inf, dt)]
    for r in (rm, rv):
        if r is not None:
            args += (r, _scalar(1 - momentum, r.dtype), _scalar(momentum, r.dtype))
    plan = (red, pshape, has_w, has_b, has_rm, has_rv, n, last)
    fn = compiled_when_repeated(("bn forward", plan, dev), x.shape, lambda: _batch_norm_train_fn(*plan))
    out = fn(*args)
    return out[0], out[1], out[2], out[3] if has_rm else None, out[-1] if has_rv else None


def _batch_norm_train_fn(red, pshape, has_w, has_b, has_rm, has_rv, n, last):
    """The function of `_batch_norm_train_mx`'s array arguments for one plan."""
    return functools.partial(_batch_norm_train_arrays, red=red, pshape=pshape, has_w=has_w, has_b=has_b,
                             has_rm=has_rm, has_rv=has_rv, n=n, last=last)


def _batch_norm_train_arrays(x, *args, red, pshape, has_w, has_b, has_rm, has_rv, n, last):
    """[y, mean, invstd, new running mean?, new running var?] of a training batch norm from x and args: weight?,
    bias?, eps, the Bessel factor count / (count - 1) (inf for one value: the variance's 0 / 0), then for each
    running statistic present its array, 1 - momentum and momentum (0-d arrays of its dtype)."""
    k = has_w + has_b
    wb, (eps, bessel), rest = args[:k], args[k:k + 2], args[k + 2:]
    if last:
        x = mx.transpose(x, _TO_LAST[n])
    mean, _, var = _moments(x, red)
    invstd, alpha, beta = _folded_affine(mean, var, wb, eps, pshape, has_w, has_b)
    y = x * alpha + beta
    if last:
        y = mx.transpose(y, _FROM_LAST[n])
    out = [y, mean, invstd]
    c = pshape[-1] if last else pshape[1]
    if has_rm:
        out.append(_running_update_by(rest[0], mean.reshape(c), rest[1], rest[2]))
        rest = rest[3:]
    if has_rv:
        out.append(_running_update_by(rest[0], var.reshape(c) * bessel, rest[1], rest[2]))
    return out


def _batch_norm_train(input, weight, bias, running_mean, running_var, momentum, eps, c, n):
    """The output of a training batch norm that records a gradient, the running statistics updated (Note
    [Training batch norm path])."""
    tensors = [input]
    dev = input._device_code
    wb = ()
    if weight is not None:
        tensors.append(weight)
        dev, wb = builtins.max(dev, weight._device_code), (weight._mx,)
    if bias is not None:
        tensors.append(bias)
        dev, wb = builtins.max(dev, bias._device_code), wb + (bias._mx,)
    last = n > 2 and input._device_code != 0 and _C._is_channels_last(input)  # _layout.is_channels_last_tensor
    red, pshape, axes, bshape = _batch_norm_train_plan(n, c, last)
    count = input.numel() // c
    y, mean, invstd, new_rm, new_rv = _scoped(
        dev, _batch_norm_train_mx, input._mx, wb, None if running_mean is None else running_mean._mx,
        None if running_var is None else running_var._mx, red, pshape, eps, weight is not None, bias is not None, n,
        last, momentum, count, dev)
    out = _new(y, dev, input.dtype)
    if last:
        _C._set_channels_last(out, True, None)  # _layout.mark_tensor
    snap = _C._snapshot
    ctx = [snap(t) for t in tensors]
    ctx.append((mean, invstd, dev, n, last, axes, bshape, red, count, eps, weight is not None, bias is not None,
                [t.requires_grad for t in tensors]))
    _C._record("NativeBatchNormBackward0", _batch_norm_train_backward, tuple(ctx), tensors, (out,))
    if new_rm is not None or new_rv is not None:
        grad = (running_mean is not None and (running_mean.requires_grad or running_mean._is_storage_view)) or (
            running_var is not None and (running_var.requires_grad or running_var._is_storage_view))
        if grad:  # a write into (a view of) a leaf that requires grad is allowed outside grad mode only
            with no_grad():
                _write_running(running_mean, new_rm, running_var, new_rv)
        else:
            _write_running(running_mean, new_rm, running_var, new_rv)
    return out


def _write_running(running_mean, new_rm, running_var, new_rv):
    if new_rm is not None:
        running_mean._write(new_rm)
    if new_rv is not None:
        running_var._write(new_rv)


def _batch_norm_train_backward(ctx, grads):
    """The backward of `_batch_norm_train`'s node: torch's closed form (Note [batch norm backward]), in N...C space
    for a channels-last cotangent of a channels-last input on a GPU; with create_graph, the vjp of the composite
    (as fused_op's backward)."""
    mean, invstd, dev, n, last, axes, bshape, red, count, eps, has_w, has_b, wanted = ctx[-1]
    snaps = ctx[:-1]
    g = grads[0]
    if g is None:
        return (None,) * len(snaps)
    if _C.is_grad_enabled():  # create_graph: differentiate the composite, as mlx_op's backward does
        k = len(snaps)
        f = functools.partial(_batch_norm_train_composite, axes=axes, bshape=bshape, eps=eps, has_w=has_w,
                              has_b=has_b)

        def vjp_fn(*args):
            _, vjps = mx.vjp(lambda *p: [f(*p)], list(args[:k]), [args[k]])
            return list(vjps)

        gs = mlx_op("NativeBatchNormBackward0Backward", vjp_fn, list(snaps) + [g], dev)
        gs = gs if isinstance(gs, tuple) else (gs,)
    else:
        hinted = last and _C._is_channels_last(g)  # Note [Channels-last gradients] (nn/_layout.py)
        x = snaps[0]._mx
        plan = (hinted, n, last, axes, bshape, red, has_w, has_b)
        # Note [Compiled training batch norm]
        fn = compiled_when_repeated(("bn backward", plan, dev), x.shape, lambda: _batch_norm_grads_fn(*plan))
        gm = g._mx
        cnt = _scalar(float(count), gm.dtype)
        gs = (_scoped(dev, fn, x, snaps[1]._mx, gm, mean, invstd, cnt) if has_w else
              _scoped(dev, fn, x, gm, mean, invstd, cnt))
        gs = [_new(gi, dev, _dtype.from_mx(gi.dtype)) for gi in gs]
        if hinted:
            _C._set_channels_last(gs[0], True, None)  # _layout.mark_tensor
    return tuple(None if not w or gi is None else gi if gi.dtype is s.dtype else gi.to(s.dtype)
                 for w, gi, s in zip(wanted, gs, snaps))


# Note [Compiled training batch norm]
# A training batch norm's forward (`_batch_norm_train_mx`: the moments, invstd, the folded affine, the output and
# the running statistics' update) and, without create_graph, its backward's gradients (`_batch_norm_train_grads`:
# two reductions and a dozen elementwise ops) are each one mx.compile'd function per plan and device, used once
# an input shape repeats (Note [Compiled when repeated] in autograd/_mlx_vjp.py). MLX fuses the elementwise ops
# around the reductions, and a call replays the traced tape in C++ instead of building it op by op in Python.
# The eager ResNet-18 32px b8 training graph (forward, backward and running statistics) went from 2761 to 1451
# primitives, 1399 to 724 of them running kernels (each a launch and its host work on a GPU; 1396 -> 721 under the
# fake GPU), and this CPU's b2 graph building from 0.89-1.01 to 0.69-0.72 ms (forward) and 1.96-2.25 to 1.56-1.66
# ms (forward + backward). CPU step times: b8 -5%, b32 and 224 px unchanged (MLX's CPU fused kernels with
# broadcast operands run scalar loops, Note [CPU fusion barrier after batch norm], but the convolutions dominate).
# Every scalar that can vary between layers or steps is an input (a 0-d array of the dtype MLX would convert the
# Python scalar to): eps, the count and Bessel factor, momentum (a cumulative average changes it at every step).
# A constant of the trace would be written into the fused kernel's source: one kernel build per layer size, and a
# new trace per step. The fused kernels may contract a product and a sum into one rounding (FMA), so values can
# differ from the unfused ops' in the last bits (both are torch's formulas).
def _batch_norm_grads_fn(hinted, n, last, axes, bshape, red, has_w, has_b):
    """The function (x[, w], g, mean, invstd, count) -> [dx, dw?, db?] of `_batch_norm_train_backward` without
    create_graph, for one plan (Note [Compiled training batch norm]); w only when the batch norm has a weight."""
    if has_w:
        return functools.partial(_batch_norm_train_grads_of, hinted=hinted, n=n, last=last, axes=axes,
                                 bshape=bshape, red=red, has_w=has_w, has_b=has_b)
    return lambda x, g, mean, invstd, count: _batch_norm_train_grads_of(
        x, None, g, mean, invstd, count, hinted=hinted, n=n, last=last, axes=axes, bshape=bshape, red=red,
        has_w=has_w, has_b=has_b)


def _batch_norm_train_grads_of(x, w, g, mean, invstd, count, *, hinted, n, last, axes, bshape, red, has_w, has_b):
    """_batch_norm_train_backward's gradients without create_graph: in N...C space for a hinted cotangent (its
    input gradient the NC... view), else in NC... space (a channels-last node's statistics reshaped to it);
    count: the 0-d array of N."""
    if hinted:
        tl = _TO_LAST[n]
        gs = _batch_norm_train_grads(mx.transpose(x, tl), w, mx.transpose(g, tl), mean, invstd, red, count, has_w,
                                     has_b)
        gs[0] = mx.transpose(gs[0], _FROM_LAST[n])
        return gs
    if last:
        mean, invstd = mean.reshape(bshape), invstd.reshape(bshape)
    return _batch_norm_train_grads(x, None if w is None else w.reshape(bshape), g, mean, invstd, axes, count,
                                   has_w, has_b)


def _batch_norm_train_composite(x, *wb, axes, bshape, eps, has_w, has_b):
    """The training batch norm's output as one differentiable MLX function of (x, weight?, bias?), in NC...
    space: what create_graph differentiates."""
    mean, _, var = _moments(x, axes)
    _, alpha, beta = _folded_affine(mean, var, wb, eps, bshape, has_w, has_b)
    return x * alpha + beta


def _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, empty_stats,
                     want_stats=True):
    """(out, save_mean, save_invstd) as torch.native_batch_norm; empty_stats: eval mode saves (0,) tensors.
    want_stats=False (nn.functional.batch_norm, which returns the output alone): (out,), with no statistics
    outputs built."""
    _float_input(input, "batch_norm")
    c = _check_channels(input, (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                                ("running_var", running_var)))
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean must be defined in evaluation mode")
    n = input.dim()
    recording = _C.is_grad_enabled() and (input.requires_grad or (weight is not None and weight.requires_grad)
                                          or (bias is not None and bias.requires_grad))
    if not training and not want_stats and not recording and input.numel():  # Note [Inference batch norm path]
        return (_batch_norm_inference(input, weight, bias, running_mean, running_var, eps, c, n),)
    if (training and recording and not want_stats and input.numel() and input.dtype in _TRAIN_DTYPES
            and (weight is None or weight.dtype is input.dtype) and (bias is None or bias.dtype is input.dtype)):
        # Note [Training batch norm path]
        return (_batch_norm_train(input, weight, bias, running_mean, running_var, momentum, eps, c, n),)
    axes = tuple(d for d in builtins.range(n) if d != 1)
    bshape = (1, c) + (1,) * builtins.max(n - 2, 0)
    has_w, has_b = weight is not None, bias is not None
    count = input.numel() // c if c else 0
    empty = input.numel() == 0
    stat_len = c if training or not empty_stats else 0

    if not training:
        rm, rv = running_mean._mx, running_var._mx
    stats = {}
    # Note [channels-last activations]: a convolution's output is normalised in N...C space and returned as the
    # NC... view of an N...C result, unless a gradient is recorded; anything else in NC... space
    last = n > 2 and not recording and _layout.is_channels_last_tensor(input)
    # Note [Channels-last source] (csrc/layout.c): the input's N...C array, and the output's (with its view)
    src = _layout.source(input) if last else None
    out_last = [] if last else None
    barrier = last and input._device_code == 0 and input.numel() >= _CPU_BARRIER_MIN
    red, pshape = (tuple(builtins.range(n - 1)), (c,)) if last else (axes, bshape)
    # Note [folded eval batch norm]: alpha and beta made once per set of statistics and affine arrays
    fold = not training and not empty and (not want_stats or empty_stats) and not recording

    def f(x, *wb):
        ct = _opmath(x.dtype)
        if empty:
            z = mx.zeros((stat_len,), dtype=x.dtype)
            y = _affine(x * 1, wb, has_w, has_b, bshape if n > 1 else None)
            return (y, z, z) if want_stats else y
        xc = x.astype(ct) if src is None else src.astype(ct)
        if last and src is None:
            xc = mx.transpose(xc, _layout.to_last(n - 2))
        if training:
            mean, _, var = _moments(xc, red)
            stats["mean"], stats["var"] = mean, var  # Note [running statistics]
        elif fold:
            y = _eval_fold(xc, rm, rv, wb, eps, ct, pshape, has_w, has_b).astype(x.dtype)
        else:
            mean, var = rm.astype(ct).reshape(pshape), rv.astype(ct).reshape(pshape)
        if not fold:
            invstd, alpha, beta = _folded_affine(mean, var, wb, eps, pshape, has_w, has_b, ct)
            y = (xc * alpha + beta).astype(x.dtype)
        if last:
            if barrier:  # Note [CPU fusion barrier after batch norm]
                y = mx.contiguous(y)
            yl, y = y, mx.transpose(y, _layout.from_last(n - 2))
            out_last[:] = (yl, y)
        if not want_stats:
            return y
        if training or not empty_stats:
            return (y, mx.stop_gradient(mean).reshape(c).astype(x.dtype),
                    mx.stop_gradient(invstd).reshape(c).astype(x.dtype))
        z = mx.zeros((0,), dtype=x.dtype)
        return y, z, z

    if want_stats:
        out, mean_out, rstd_out = mlx_op("NativeBatchNormBackward0", f, _inputs(input, weight, bias))
        out = (out, mean_out.detach(), rstd_out.detach())  # Note [norm statistics outputs]
    else:
        out = (mlx_op("NativeBatchNormBackward0", f, _inputs(input, weight, bias)),)
    if last:
        _layout.mark_tensor(out[0], out_last[0] if out_last and out[0]._mx is out_last[1] else None)
    if training and not empty and (running_mean is not None or running_var is not None):
        var = stats["var"].reshape(c)
        _update_running(running_mean, running_var, stats["mean"].reshape(c),
                        var * (count / (count - 1)) if count > 1 else var / 0.0, momentum)
    return out


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    return _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, True)


def _native_batch_norm_legit(input, weight, bias, *args):
    """(input, weight, bias, running_mean, running_var, training, momentum, eps) or, without running
    statistics, (input, weight, bias, training, momentum, eps)."""
    if len(args) == 5:
        running_mean, running_var, training, momentum, eps = args
    elif len(args) == 3:
        (training, momentum, eps), running_mean, running_var = args, None, None
    else:
        raise TypeError("_native_batch_norm_legit() received an invalid combination of arguments")
    return _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, True)


def _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """torch.batch_norm (top level: weight and bias before the running statistics)."""
    if momentum is None or eps is None:
        raise TypeError(f"batch_norm(): argument '{'momentum' if momentum is None else 'eps'}' must be float, "
                        "not NoneType")
    return _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, True,
                            want_stats=False)[0]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training:
        size = list(input.shape)
        if size and math.prod([size[0]] + size[2:]) == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None:  # _torch_batch_norm's TypeError
        return _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, True)
    return _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, True,
                            want_stats=False)[0]


# ---------------------------------------------------------------- instance norm


def _torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                         cudnn_enabled):
    """torch.instance_norm: per-sample, per-channel statistics over the spatial dims."""
    _float_input(input, "instance_norm")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    N, C = input.shape[0], input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {N * C} elements not {t.numel() * N}")
    n = input.dim()
    axes = tuple(builtins.range(2, n))
    cshape = (1, C) + (1,) * (n - 2)
    has_w, has_b = weight is not None, bias is not None
    empty = input.numel() == 0
    if not use_input_stats:
        rm, rv = running_mean._mx, running_var._mx
    stats = {}

    def f(x, *wb):
        if empty:
            return _affine(x * 1, wb, has_w, has_b, cshape)
        ct = _opmath(x.dtype)
        xc = x.astype(ct)
        if use_input_stats:
            if axes:
                mean, d, var = _moments(xc, axes)
                stats["mean"], stats["var"] = mean, var  # Note [running statistics]
            else:  # a single spatial element: zero deviation, zero variance
                d, var = xc - xc, mx.zeros_like(xc)
            rstd = mx.rsqrt(var + eps)
        else:
            d = xc - rm.astype(ct).reshape(cshape)
            rstd = mx.rsqrt(rv.astype(ct).reshape(cshape) + eps)
        return _affine(d * rstd, [t.astype(ct) for t in wb], has_w, has_b, cshape).astype(x.dtype)

    out = mlx_op("NativeBatchNormBackward0", f, _inputs(input, weight, bias))
    if use_input_stats and not empty and axes and (running_mean is not None or running_var is not None):
        count = math.prod(input.shape[2:])
        var = stats["var"]
        var_u = var * (count / (count - 1)) if count > 1 else var / 0.0
        _update_running(running_mean, running_var, mx.mean(stats["mean"].reshape(N, C), axis=0),
                        mx.mean(var_u.reshape(N, C), axis=0), momentum)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(input.shape)}")
    return _torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, True)


TORCH_VARIANTS.update(batch_norm=_torch_batch_norm, instance_norm=_torch_instance_norm, group_norm=_torch_group_norm)


# ---------------------------------------------------------------- local response norm


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of x^2 over a window of `size` channels, zero-padded)^beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    _float_input(input, "avg_pool2d")
    C = input.shape[1]
    lo, hi = size // 2, (size - 1) // 2

    def f(x):
        sq = x * x
        widths = [(0, 0)] * x.ndim
        widths[1] = (lo, hi)
        p = mx.pad(sq, widths)
        acc = p[:, 0:C]
        for j in builtins.range(1, size):
            acc = acc + p[:, j:j + C]
        div = mx.power(acc * (alpha / size) + k, beta)
        return (x / div).astype(x.dtype)

    return mlx_op("LocalResponseNormBackward", f, [input])
