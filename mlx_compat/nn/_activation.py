"""nn.functional activations, dropout variants, softmax family, one_hot, normalize, distances, pixel/channel shuffle.

Pointwise activations are pure MLX functions run through `mlx_op` (Note [MLX vjp fallback]); their derivatives
come from mx.vjp, so each forward is written so that vjp reproduces torch's derivative formula exactly,
including at the kinks and at NaN.

Note [kinks by where]
torch's backward kernels are `cond ? grad * a : grad * b` with a specific comparison (`x <= 0`, `x > 0`,
`x <= min || x >= max`, ...). Writing the forward as `select(cond, branch_a, branch_b)` (mx.where, whose vjp
then selects the cotangent as torch's kernels do, also an inf or nan one: Note [Selecting vjp] in
autograd/_mlx_vjp.py) with the *same* comparison makes vjp route the cotangent exactly as torch does at the
boundary and for NaN (every comparison with NaN is false). A branch whose value must not carry gradient (a
clamped constant) is wrapped in mx.stop_gradient.

Note [double where]
vjp of `where(c, f(x), g(x))` multiplies a zero cotangent by f'(x) on the unselected side; if f'(x) is inf
there (exp overflow, 1/0) the product is NaN. Each branch therefore sees a safe input
(`f(where(c, x, safe))`), so its derivative is finite where the branch is unused.

Note [second derivative at a kink]
torch's double-backward kernels for elu/selu/celu, softplus and prelu use a strict comparison where the first
derivative's kernel does not (elu: `x <= 0` first, `x < 0` second; softplus: `x * beta > threshold` first,
`x * beta < threshold` second), so at the kink itself torch's second derivative is 0 although the first one
takes the curved branch. `_kink_fix` adds a term that is 0 in value and in first derivative but cancels the
branch's curvature exactly at the kink: with d = x - stop_gradient(x) (value 0, derivative 1), -k/2 * d^2 has
second derivative -k, and -d_x * d_w has mixed derivative -1.

Note [MLX empty reductions]
MLX refuses (or hangs on) max/logsumexp/sum over a zero-size axis, where torch returns an empty result or an
empty sum. Softmax, cosine similarity and the distances build such results directly, as zero-valued functions
of their inputs so that backward still yields (empty or zero) gradients of the right shape.

Note [opmath]
torch computes float16/bfloat16 activations in float32 and rounds once; `_pointwise` upcasts those
dtypes around the MLX function, which mx.vjp differentiates through the casts.
"""
from __future__ import annotations

import builtins
import math
import struct
import warnings

import mlx.core as mx
import numpy as np

from .._device_scope import scoped as _scoped, warn as _warn
from .. import _C, _device, _dtype
from .._cuda_source import FIRST_ELEMENT, PACK
from .._ops import cpu_math as _cpu_math, elementwise as _elementwise, precise as _precise
from .._ops.fast import fast_path
from .._ops import random as _random
from ..autograd._derivatives import record as _record
from ..autograd._mlx_vjp import mlx_op, select
from .._tensor import _TORCH_NAME, Tensor, _new, _wrap_dim, _mx_item

__all__ = [
    "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "mish", "softplus",
    "softsign", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "hardshrink", "softshrink", "logsigmoid",
    "tanhshrink", "threshold", "threshold_", "glu", "prelu", "rrelu", "rrelu_", "silu", "gelu",
    "softmax", "log_softmax", "softmin", "gumbel_softmax", "native_dropout", "normalize", "cosine_similarity", "pairwise_distance", "pdist", "one_hot",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
]
TORCH_EXPORTS = [
    "selu", "selu_", "celu", "celu_", "threshold", "threshold_", "hardshrink", "prelu", "rrelu", "rrelu_",
    "softmax", "log_softmax", "cosine_similarity", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "native_channel_shuffle", "dropout", "dropout_", "feature_dropout", "feature_dropout_",
    "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_",
]

_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')
_LOW = (mx.float16, mx.bfloat16)


def _float_only(input, kernel, complex_ok=False):
    if not (input.dtype.is_floating_point or (complex_ok and input.dtype.is_complex)):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")


def _pointwise(name, fn, input, *others, cpu_value=None):
    """mlx_op of fn over (input, *others), computed in float32 for half types (Note [opmath]). cpu_value: a function
    of the input alone giving fn's values by other operations, for large float32 inputs on the CPU (Note [CPU
    activation values]); fn stays what the backward differentiates."""

    def f(*vs):
        dt = vs[0].dtype
        if dt in _LOW:
            return fn(*(v.astype(mx.float32) for v in vs)).astype(dt)
        r = fn(*vs)
        return r.astype(dt) if r.dtype != dt else r

    if cpu_value is None or others or input.dtype is not _dtype.float32:
        return mlx_op(name, f, [input, *others])

    def value(x):
        return cpu_value(x) if _cpu_math.big_float32_on_cpu(x) else f(x)

    return mlx_op(name, f, [input], value=value)


def _direct(node, fwd, input, deriv):
    """Note [direct activations]: the hot activations (gelu, silu, softmax, log_softmax) skip the vjp fallback.
    fwd(x) runs on the input's value (on its device) and keeps its dtype; the node `node` gets torch's derivative
    formula deriv(x, y, g), written with the package's ops (x the input, y the output, both saved), so it
    differentiates again under create_graph. Recording happens only when the input requires grad."""
    r = _scoped(input._device_code, fwd, input._mx)
    res = _new(r, input._device_code, input.dtype)
    if input.requires_grad and _C.is_grad_enabled():
        _record(node, lambda ctx, grads: (None if grads[0] is None else deriv(ctx[0], ctx[1], grads[0]),),
                [input], [res], saved=[input, res])
    return res


def _opmath_fn(fn):
    """fn computed in float32 for half types (Note [opmath]), in the input's dtype otherwise."""
    def f(x):
        dt = x.dtype
        if dt == mx.float16 or dt == mx.bfloat16:
            return fn(x.astype(mx.float32)).astype(dt)
        return fn(x)

    return f


def _finish(input, r, inplace):
    return input._commit(r) if inplace else r


def _delta(v):
    """0 in value, with v's derivative (Note [second derivative at a kink])."""
    return v - mx.stop_gradient(v)


def _kink_fix(at, x, k):
    """0 in value and first derivative; second derivative -k where `at` (Note [second derivative at a kink])."""
    d = _delta(select(at, x, 0))  # Note [double where]: x - x is NaN for NaN and inf
    return select(at, (-0.5 * k) * d * d, mx.zeros_like(x))


def _nan_clamp(x, lo, hi):
    """clamp that keeps NaN (MLX's clip may not), used for values that carry no gradient."""
    if lo is not None:
        x = select(x < lo, lo, x)
    if hi is not None:
        x = select(x > hi, hi, x)
    return x


# ---------------------------------------------------------------- piecewise-linear activations


# Note [CPU activation values]
# The piecewise activations' forwards select (Note [kinks by where]) so that MLX's vjp of them gives torch's
# gradients at the kinks. MLX's CPU select branches per element, and each comparison and select is a pass of its
# own: hardtanh, relu6 and hardswish took 3.7-4.2 ms on 256 x 4096 float32 (torch 0.2-1.7). Their values are torch's
# own clamp formulas, min(max(x, lo), hi) and x * min(max(x + 3, 0), 6) / 6, whose NaN MLX's minimum and maximum
# keep: one shapeless compiled kernel each (mx.compile keys hardtanh's bounds, few per model), 0.5-1.0 ms. So a large
# float32 input on the CPU takes those for its values (mlx_op's `value`), and its backward still
# differentiates the selecting forward. hardsigmoid, min(max(x + 3, 0), 6) / 6, and leaky_relu as
# max(x, 0) + slope * min(x, 0) compiled into kernels that took 6.6-7.4 ms (their selects: 1.2-4.7): MLX's float
# min/max make its compiled loops scalar (Note [CPU kernels MLX vectorises] in _ops/cpu_math.py). Their values
# instead come from x's bits there: leaky_relu is x times 1 or the slope by x's sign bit (one kernel), hardsigmoid
# (x clamped to [-3, 3] on its bits, NaN kept, + 3) / 6 (two kernels); both torch's bits, -0 included. elu, selu
# and celu take x's parts from +0 up and from -0 down by its bits (the other side -0, so a sum gives one of them,
# signs and NaN kept) and expm1 by Note [Per-size CPU transcendentals] (cpu_math.elu_any, eight kernels), within a
# unit or two in the last place of torch's. 256 x 4096, one thread: leaky_relu 1.21 -> 0.37 ms (torch 0.29),
# hardsigmoid 4.9 -> 1.1 (0.43), elu 14.0 -> 4.0 (1.6), selu 14.1 -> 4.0 (1.6), celu 15.2 -> 4.3 (1.8). softplus
# (beta 1, threshold 20 or more, where torch's threshold changes no value) is max(x, 0) + log1p(e^-|x|) and
# logsigmoid min(x, 0) - log1p(e^-|x|), the parts from x's bits and log1p of [0, 1] as 2 atanh(u / (2 + u))
# (cpu_math.softplus_any, logsigmoid_any: six kernels), mish x tanh(softplus(x)) over them and tanh_any: within
# 2.7e-7 of torch's, subnormal exps flushed. 29.3 -> 3.4 ms (torch 1.7), 44.2 -> 3.5 (1.8), 41.4 -> 6.0 (4.2).
_hardtanh_value = mx.compile(lambda x, lo, hi: mx.minimum(mx.maximum(x, lo), hi), shapeless=True)
_hardswish_value = mx.compile(lambda x: x * mx.minimum(mx.maximum(x + 3.0, 0.0), 6.0) / 6.0, shapeless=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype is _dtype.bool:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    lo, hi = min_val, max_val
    if not input.dtype.is_floating_point:
        lo, hi = builtins.int(lo), builtins.int(hi)  # torch casts the bounds to the integer type (truncation)

    def fn(x):
        # torch: grad is zero where x <= min or x >= max, passed through elsewhere (NaN too): Note [kinks by where]
        inside = mx.logical_not((x <= lo) | (x >= hi))
        return select(inside, x, mx.stop_gradient(_nan_clamp(x, lo, hi)))

    return _finish(input, _pointwise("HardtanhBackward0", fn, input,
                                     cpu_value=lambda x: _hardtanh_value(x, builtins.float(lo), builtins.float(hi))),
                   inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _float_only(input, "leaky_relu_cpu")
    slope = builtins.float(negative_slope)
    return _finish(input, _pointwise("LeakyReluBackward0", lambda x: select(x > 0, x, x * negative_slope), input,
                                     cpu_value=lambda x: _cpu_math.leaky_relu_any(x, slope)), inplace)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardshrink(input, lambd=0.5):
    _float_only(input, "hardshrink_cpu")
    return _pointwise("HardshrinkBackward0",
                      lambda x: select((x >= -lambd) & (x <= lambd), mx.zeros_like(x), x), input)


def softshrink(input, lambd=0.5):
    _float_only(input, "softshrink_check")
    if lambd < 0:
        hi = _dtype.finfo(input.dtype).max
        raise RuntimeError(f"lambda must be in range [0, {hi:g}] for input dtype {_SCALAR[input.dtype.name]}, but "
                           f"found {lambd}")

    def fn(x):
        dead = (x >= -lambd) & (x <= lambd)
        moved = select(x > lambd, x - lambd, x + lambd)
        return select(dead, mx.stop_gradient(x * 0), moved)  # x * 0 keeps NaN's NaN

    return _pointwise("SoftshrinkBackward0", fn, input)


def threshold(input, threshold, value, inplace=False):
    if input.dtype.is_complex or input.dtype is _dtype.bool:
        raise NotImplementedError(f"\"threshold_cpu\" not implemented for '{_SCALAR[input.dtype.name]}'")
    if input.dtype.is_floating_point:
        thr, val = threshold, value
    else:
        thr, val = builtins.int(threshold), builtins.int(value)  # torch casts both scalars to the input type
        info = np.iinfo(_dtype.to_numpy_dtype(input.dtype))
        if not info.min <= val <= info.max:
            ctype = {"int32": "int"}.get(input.dtype.name, input.dtype.name + "_t")
            raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")

    def fn(x):
        return select(x <= thr, mx.full(x.shape, val, x.dtype), x)

    return _finish(input, _pointwise("ThresholdBackward0", fn, input), inplace)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, inplace=True)


def hardsigmoid(input, inplace=False):
    _float_only(input, "hardsigmoid_cpu")

    def fn(x):
        inside = (x > -3) & (x < 3)
        return select(inside, x / 6 + 0.5, mx.stop_gradient(_nan_clamp(x / 6 + 0.5, 0.0, 1.0)))

    return _finish(input, _pointwise("HardsigmoidBackward0", fn, input, cpu_value=_cpu_math.hardsigmoid_any), inplace)


def hardswish(input, inplace=False):
    _float_only(input, "hardswish_cpu")

    def fn(x):
        # torch: 0 for x <= -3, x / 3 + 0.5 for -3 < x < 3, 1 otherwise (NaN included)
        inside = (x > -3) & (x < 3)
        xm = select(inside, x, 0)  # Note [double where]: NaN must not reach mid's vjp
        mid = xm * (xm + 3) / 6
        return select(x <= -3, mx.zeros_like(x), select(inside, mid, x))

    return _finish(input, _pointwise("HardswishBackward0", fn, input, cpu_value=_hardswish_value), inplace)


def prelu(input, weight):
    _float_only(input, "prelu_cpu")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    nw = weight.numel()
    if nw != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if nw != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{nw} and channel size = {channels}.")
    nd = input.dim()
    wshape = (nw,) + (1,) * (nd - 2) if nw != 1 and nd >= 2 else ()

    def fn(x, w):
        wb = w.reshape(wshape).astype(x.dtype)
        at = x == 0  # Note [second derivative at a kink]; Note [double where] for the deltas
        fix = select(at, -_delta(select(at, wb, 0)) * _delta(select(at, x, 0)), mx.zeros_like(x))
        return select(x > 0, x, wb * x + fix)

    return _pointwise("PreluKernelBackward0", fn, input, weight)


# ---------------------------------------------------------------- exponential-family activations


def _elu(input, alpha, scale, input_scale, inplace, name):
    _float_only(input, "elu_cpu")

    def fn(x):
        neg = x <= 0  # torch's elu_backward takes the negative branch at 0 and the positive one for NaN
        xn = select(neg, x, 0)  # Note [double where]
        curve = mx.expm1(xn * input_scale) * (alpha * scale)
        curve = curve + _kink_fix(x == 0, x, alpha * scale * input_scale * input_scale)
        return select(neg, curve, x * scale)

    return _finish(input, _pointwise(name, fn, input,
                                     cpu_value=lambda x: _cpu_math.elu_any(x, alpha, scale, input_scale)), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _elu(input, alpha, 1.0, 1.0, inplace, "EluBackward0")


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, "EluBackward0")


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(input, alpha, 1.0, 1.0 / alpha, inplace, "EluBackward0")


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _softplus_mx(x, beta, thr, torch_kink=True):
    xb = x * beta
    big = xb > thr
    safe = select(big, 0, xb)  # Note [double where]
    curve = mx.log1p(_precise.exp(safe)) / beta
    if torch_kink and math.isfinite(thr):
        sg = 1.0 / (1.0 + math.exp(-thr)) if thr > -700 else 0.0
        curve = curve + _kink_fix(xb == thr, x, beta * sg * (1.0 - sg))
    return select(big, x, curve)


def softplus(input, beta=1.0, threshold=20.0):
    _float_only(input, "softplus_cpu")
    # Note [CPU activation values]: torch's values from x's parts and log1p(e^-|x|) where its threshold changes
    # nothing (beta 1, threshold 20 or more: past 17, x + log1p(e^-x) is x)
    cpu = _cpu_math.softplus_any if beta == 1 and threshold >= 20 else None
    return _pointwise("SoftplusBackward0", lambda x: _softplus_mx(x, beta, threshold), input, cpu_value=cpu)


def mish(input, inplace=False):
    _float_only(input, "mish_cpu")
    # softplus's threshold keeps vjp finite where exp overflows (tanh is 1 there anyway); torch's mish has
    # no kink there
    return _finish(input, _pointwise("MishBackward0",
                                     lambda x: x * mx.tanh(_softplus_mx(x, 1.0, 20.0, torch_kink=False)), input,
                                     cpu_value=lambda x: x * _cpu_math.tanh_any(_cpu_math.softplus_any(x))), inplace)


def logsigmoid(input):
    _float_only(input, "log_sigmoid_cpu")

    def fn(x):
        # log sigmoid(x) = x - log1p(e^x) for x < 0, -log1p(e^-x) otherwise: no overflow, and
        # vjp gives sigmoid(-x) everywhere (0.5 at 0), as torch
        neg = x < 0
        xn, xp = select(neg, x, 0), select(neg, 0, x)
        return select(neg, xn - mx.log1p(_precise.exp(xn)), -mx.log1p(_precise.exp(-xp)))

    return _pointwise("LogSigmoidBackward0", fn, input, cpu_value=_cpu_math.logsigmoid_any)


def softsign(input):
    if input.dtype is _dtype.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def _silu_fwd(x):
    return x * _precise.sigmoid(x)


def _silu_deriv(x, y, g):
    s = x.sigmoid()
    return g * (s * (1 + x * (1 - s)))  # torch's silu_backward


_silu_opmath = _opmath_fn(_silu_fwd)


def _silu_bwd_cpu(x, g):
    """Note [CPU silu]'s backward on MLX arrays; half types in float32, rounded once."""
    dt = g.dtype
    if dt == mx.float16 or dt == mx.bfloat16:
        x, g = x.astype(mx.float32), g.astype(mx.float32)
    return _cpu_math.silu_backward(x, g).astype(dt)


_silu_cpu_value = _opmath_fn(_cpu_math.silu)  # its own compiled kernels (Note [CPU kernels MLX vectorises])


def _record_fused(node, input, res, composed, fused):
    """Record `node` for res, computed from input alone, and return res. Its backward is fused(x, g) on the MLX
    arrays of the saved input and the incoming gradient (on input's device; an array of g's dtype), or under
    create_graph composed(x, g), the same derivative in the package's differentiable ops. Nothing is recorded
    where no gradient is."""
    if not (input.requires_grad and _C.is_grad_enabled()):
        return res
    dev = input._device_code

    def backward(ctx, grads):
        g = grads[0]
        if g is None:
            return (None,)
        if _C.is_grad_enabled():
            return (composed(ctx[0], g),)
        return (_new(_scoped(dev, fused, ctx[0]._mx, g._mx), dev, g.dtype),)

    _record(node, backward, [input], [res], saved=[input])
    return res


def _silu_cpu(input):
    """silu on MLX's CPU by Note [CPU silu] (per-shape compiled kernels); create_graph differentiates _silu_deriv (in
    the input's dtype, as torch's infinitely differentiable silu backward)."""
    dev = input._device_code
    r = _new(_scoped(dev, _silu_cpu_value, input._mx), dev, input.dtype)
    return _record_fused("SiluBackward0", input, r, lambda x, g: _silu_deriv(x, None, g), _silu_bwd_cpu)


def silu(input, inplace=False):
    _float_only(input, "silu_cpu", complex_ok=True)
    if input.dtype.is_complex:
        if input.requires_grad and _C.is_grad_enabled():
            raise RuntimeError("silu does not support automatic differentiation for outputs with complex dtype.")
        fn = lambda x: x / (1 + mx.exp(-x))  # noqa: E731  (MLX's sigmoid has no complex kernel)
        return _finish(input, _pointwise("SiluBackward0", fn, input), inplace)
    if not inplace and input.dtype is not _dtype.float64 and _cpu_math.takes(input):  # Note [CPU silu]
        return _silu_cpu(input)
    return _finish(input, _direct("SiluBackward0", _silu_opmath, input, _silu_deriv), inplace)


_SQRT1_2 = 1 / math.sqrt(2)
_GELU_K = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_fwd(x):
    # float64: the accurate erf (MLX's is float32-accurate there, Note [MLX float64 precision])
    e = _elementwise.erf_mx(x * _SQRT1_2) if x.dtype == mx.float64 else mx.erf(x * _SQRT1_2)
    return (0.5 * x * (1 + e)).astype(x.dtype)


def _gelu_tanh_fwd(x):
    return (0.5 * x * (1 + mx.tanh(_GELU_K * (x + 0.044715 * x * x * x)))).astype(x.dtype)


# Note [gelu saves its erf]
# gelu's backward needs the normal cdf 0.5 * (1 + erf(x / sqrt(2))), which the forward has just computed with
# MLX's erf kernel. A backward that runs without create_graph reuses that erf (kept by the node) and evaluates
# torch's formula in plain MLX ops: no second erf, no Tensor-level graph (the package's accurate erf, used by
# the differentiable formula, is a ~50-node composition: a ViT-B/16 layer's MLP gelu took 152 ms forward and
# backward against mlx.nn's 43 ms). Against torch's accurate erf MLX's differs by at most 5e-7 absolute, which
# stays below float32 rounding of the rest of the derivative (at most 2.4e-7 absolute on the derivative).
# create_graph keeps the composed, differentiable formula; float64 keeps it too (MLX's erf is float32-accurate).


def _gelu_deriv(x, y, g):
    cdf = 0.5 * (1 + (x * _SQRT1_2).erf())
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)  # torch's gelu_backward, approximate='none'


def _gelu_tanh_deriv(x, y, g):
    x_sq = x * x
    t = (_GELU_K * (x + 0.044715 * x_sq * x)).tanh()
    left_d = 0.5 * (1 + t)
    right_d = 0.5 * x * (1 - t * t) * _GELU_K * (1 + 3 * 0.044715 * x_sq)
    return g * (left_d + right_d)  # torch's gelu_backward, approximate='tanh'


def _gelu_erf_fwd(x):
    """(gelu(x), erf(x / sqrt(2))): the forward's erf is kept for the backward, Note [gelu saves its erf]."""
    e = mx.erf(x * _SQRT1_2)
    return (0.5 * x * (1 + e)).astype(x.dtype), e


def _gelu_erf_bwd(x, e, g):
    """torch's gelu_backward (approximate='none') on MLX arrays, the cdf from the forward's erf."""
    return g * (0.5 * (1 + e) + x * (mx.exp(x * x * -0.5) * _INV_SQRT_2PI))


# Note [Backward apart from its forward]
# In a compiled training step an activation's forward and backward are one MLX graph, and mx.compile merges equal
# subexpressions before it fuses elementwise chains into kernels. A backward node equal to one of the forward's
# (for a half input the cast to float32) became one node with consumers in two kernels, which MLX writes to
# memory in full for both to read: in a bfloat16 GPT-2 step, one standalone cast kernel per layer writing the
# tanh gelu's input (8 x 256 x 3072 at T256 b8) as float32, which the forward kernel then read instead of the
# bfloat16 input. The tanh gelu's fused backward therefore starts from its input multiplied by one in its own
# dtype, then cast: a node the forward does not have, so nothing downstream of it is merged; x * 1 is exact, so
# the values are unchanged. The backward itself is still cut into several kernels by MLX's fusion depth (11 ops
# from the output; torch's formula is ~16 deep), which no reordering that keeps torch's rounding avoids.
def _apart(x):
    """x * 1 in x's dtype, cast to float32 for a half dtype: x's value as a node of its own (Note [Backward apart
    from its forward])."""
    y = x * mx.array(1, dtype=x.dtype)
    return y.astype(mx.float32) if x.dtype in (mx.float16, mx.bfloat16) else y


def _gelu_tanh_bwd(x, g):
    """torch's gelu_backward (approximate='tanh') on MLX arrays, _gelu_tanh_deriv's operations in its order; half
    types in float32, rounded once."""
    dt = g.dtype
    if dt == mx.float16 or dt == mx.bfloat16:
        g = g.astype(mx.float32)
    x = _apart(x)  # Note [Backward apart from its forward]
    x_sq = x * x
    t = mx.tanh(_GELU_K * (x + 0.044715 * x_sq * x))
    left_d = 0.5 * (1 + t)
    right_d = 0.5 * x * (1 - t * t) * _GELU_K * (1 + 3 * 0.044715 * x_sq)
    return (g * (left_d + right_d)).astype(dt)


# Note [fused tanh gelu]
# GPT-2's activation (the MLP's 4d-wide hidden layer: 8 x 256 x 3072 per layer for GPT-2-small at T256 b8) is
# a chain of ~10 elementwise ops forward and ~15 backward. As for the exact gelu (Note [fused exact gelu]) each
# chain is compiled into one node, one kernel: float32 keeps the eager chain's ops in order, so the same bits
# (the backward mirrors _gelu_tanh_deriv, which create_graph still runs); half types compute in float32 and
# round once, as torch's CPU gelu and gelu_backward do, where the eager chain rounded after every op in the
# half type. Only the input is saved (the output was kept for nothing). float64 keeps the composed path.
# On MLX's CPU, from cpu_math.MIN_ELEMENTS elements on, both sides are Note [CPU tanh gelu]'s exp-based formulas
# instead (each a few per-shape compiled kernels of its own, Note [CPU kernels MLX vectorises]), and differ from
# the composed ones by rounding.
_gelu_tanh_fused = mx.compile(_opmath_fn(_gelu_tanh_fwd), shapeless=True)
_gelu_tanh_bwd_fused = mx.compile(_gelu_tanh_bwd, shapeless=True)


def _gelu_tanh_bwd_cpu(x, g):
    """Note [CPU tanh gelu]'s backward on MLX arrays; half types in float32, rounded once."""
    dt = g.dtype
    if dt == mx.float16 or dt == mx.bfloat16:
        g = g.astype(mx.float32)
    return _cpu_math.gelu_tanh_backward(_apart(x), g).astype(dt)


_gelu_tanh_cpu = _opmath_fn(_cpu_math.gelu_tanh)  # its own compiled kernels (Note [CPU kernels MLX vectorises])


# Note [tanh gelu backward on CUDA]
# In a compiled bfloat16 GPT-2 step MLX's fuser cut _gelu_tanh_bwd's float32 chain (Note [Backward apart from its
# forward]) into four kernels per layer that wrote and re-read float32 copies of the activation: on an H100, 114 us
# per layer for the step's 8 x 256 x 3072 activation (1.37 ms per step), where native MLX's bfloat16 derivative took
# 48 us. On MLX's CUDA backend the backward (float32 and half types) is instead one kernel of ours: it reads x and
# the incoming gradient in their dtype, evaluates _gelu_tanh_bwd's formula in float32 in its order (the constants
# rounded to float32 as MLX rounds its Python scalars) and, for a half type, rounds once, as torch's CUDA kernel
# does. The arithmetic is CUDA's float32 (Note [GPU arithmetic]): nvcc may contract a product and a sum into one
# fused multiply-add, as in torch's kernel, whose formula also groups two products differently; either differs
# from the CPU's in the last float32 bits of left_d and right_d at most, which for float32 (not rounded after)
# is a large relative change only where the two cancel (x near -0.75): bench/gpu_check.py measures it against
# the gradient's scale, as its torch cases do (1.5e-7 against torch's CUDA float32). Measured on an H100, the
# 8 x 256 x 3072 backward alone: float32 87 against 225 us composed, bfloat16 72 against 203; a compiled
# float32 GPT-2-small AdamW step 36.7/36.4 -> 35.1/35.2 ms (native MLX's 39.5-40.9, same runs). Elsewhere (the
# CPU, Metal, the fake GPU, float64, create_graph) the composed paths run as before.
def _f32_literal(v):
    """v rounded to float32, as a CUDA float literal that reads back to the same float."""
    return f"{struct.unpack('f', struct.pack('f', v))[0]:.9g}f"


_GELU_TANH_BWD_SOURCE = "\n" + FIRST_ELEMENT + """  using P = mlxc_pack<T, VEC>;
  if (first + VEC <= n && (reinterpret_cast<size_t>(x) | reinterpret_cast<size_t>(g) |
                           reinterpret_cast<size_t>(out)) % sizeof(P) == 0) {
    const P xp = *reinterpret_cast<const P*>(x + first);
    const P gp = *reinterpret_cast<const P*>(g + first);
    P op;
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      op.v[k] = mlxc_gelu_tanh_bwd<T>(xp.v[k], gp.v[k]);
    }
    *reinterpret_cast<P*>(out + first) = op;
  } else {
    for (size_t i = first; i < n && i < first + VEC; ++i) {
      out[i] = mlxc_gelu_tanh_bwd<T>(x[i], g[i]);
    }
  }
"""
_GELU_TANH_BWD_HEADER = "\n" + PACK + f"""
// torch's gelu_backward (approximate='tanh') of one element, in float32
template <typename T>
__device__ __forceinline__ T mlxc_gelu_tanh_bwd(T xh, T gh) {{
  const float x = static_cast<float>(xh);
  const float x_sq = x * x;
  const float t = tanhf({_f32_literal(_GELU_K)} * (x + {_f32_literal(0.044715)} * x_sq * x));
  const float left_d = 0.5f * (1.0f + t);
  const float right_d =
      0.5f * x * (1.0f - t * t) * {_f32_literal(_GELU_K)} * (1.0f + {_f32_literal(3 * 0.044715)} * x_sq);
  return static_cast<T>(static_cast<float>(gh) * (left_d + right_d));
}}
"""
_GELU_TANH_BWD_VEC = {mx.bfloat16: 8, mx.float16: 8, mx.float32: 4}  # elements per thread: 16-byte accesses
_gelu_tanh_bwd_kernel = None


def _gelu_tanh_bwd_cuda(x, g):
    """_gelu_tanh_bwd of x and g (one dtype, a key of _GELU_TANH_BWD_VEC) as one CUDA kernel (Note [tanh gelu
    backward on CUDA])."""
    global _gelu_tanh_bwd_kernel
    if _gelu_tanh_bwd_kernel is None:
        _gelu_tanh_bwd_kernel = mx.fast.cuda_kernel(
            name="mlx_compat_gelu_tanh_backward", input_names=["x", "g"], output_names=["out"],
            source=_GELU_TANH_BWD_SOURCE, header=_GELU_TANH_BWD_HEADER)
    shape, n = x.shape, x.size
    if n == 0:
        return mx.zeros(shape, dtype=x.dtype)
    flat = not 1 <= len(shape) <= 4  # MLX passes no shape for 0-d, and a fixed-size one (as the Adam kernel)
    if flat:
        x, g = x.reshape(n), g.reshape(n)
    vec = _GELU_TANH_BWD_VEC[x.dtype]
    (out,) = _gelu_tanh_bwd_kernel(
        inputs=[x, g], template=[("T", x.dtype), ("VEC", vec)], grid=(-(-n // vec), 1, 1), threadgroup=(256, 1, 1),
        output_shapes=[x.shape], output_dtypes=[x.dtype])
    return out.reshape(shape) if flat else out


# Note [fused exact gelu]
# The float32 / half exact gelu is a chain of elementwise MLX ops (scale, erf, add, two products; its backward
# eight more): eagerly each is a graph node and, on a GPU, a kernel reading and writing the whole activation
# (ViT-B/16's MLP: 16 x 197 x 3072 per layer). mx.compile fuses each chain into one node, one kernel; the ops and
# their order are unchanged, so the values are bit for bit the eager chain's (tests/nn/test_nn_activation.py
# compares both). shapeless=True: one trace serves every shape of a dtype. Without a gradient to record the
# forward leaves out the erf it would keep (Note [gelu saves its erf]): a second output is a second write.
_gelu_erf_fused = mx.compile(_gelu_fwd, shapeless=True)
_gelu_erf_fwd_fused = mx.compile(_gelu_erf_fwd, shapeless=True)
_gelu_erf_bwd_fused = mx.compile(_gelu_erf_bwd, shapeless=True)


# On MLX's CPU, from cpu_math.MIN_ELEMENTS elements on, Note [CPU exact gelu]'s arithmetic forward instead (its own
# per-shape compiled kernels, so not compiled here); recording, it also returns the float32 derivative, which the
# backward multiplies by.
def _gelu_erf_d_cpu(x):
    """(gelu(x) in x's dtype, its float32 derivative), half types computed in float32 (Note [CPU exact gelu])."""
    dt = x.dtype
    y, d = _cpu_math.gelu_erf_with_derivative(x if dt == mx.float32 else x.astype(mx.float32))
    return y.astype(dt), d


def _times_derivative(g, d):
    """g * d in float32, rounded once to g's dtype (torch's half-type gelu_backward)."""
    return g * d if g.dtype == mx.float32 else (g.astype(mx.float32) * d).astype(g.dtype)


_gelu_erf_cpu = _opmath_fn(_cpu_math.gelu_erf)


def gelu(input, approximate="none"):
    _float_only(input, "GeluKernelImpl")
    if approximate == "none":
        if input.dtype is _dtype.float64:  # Note [gelu saves its erf]: float64 keeps the accurate erf's derivative
            return _direct("GeluBackward0", _gelu_fwd, input, _gelu_deriv)
        dev = input._device_code
        cpu = _cpu_math.takes(input)  # Note [CPU exact gelu]
        if not (input.requires_grad and _C.is_grad_enabled()):  # Note [fused exact gelu]
            return _new(_scoped(dev, _gelu_erf_cpu if cpu else _gelu_erf_fused, input._mx), dev, input.dtype)
        r, e = _scoped(dev, _gelu_erf_d_cpu if cpu else _gelu_erf_fwd_fused, input._mx)  # e: derivative if cpu

        def fused(xm, gm):
            return _times_derivative(gm, e) if cpu else _gelu_erf_bwd_fused(xm, e, gm).astype(gm.dtype)

        return _record_fused("GeluBackward0", input, _new(r, dev, input.dtype), lambda x, g: _gelu_deriv(x, None, g),
                             fused)
    if approximate == "tanh":
        if input.dtype is _dtype.float64:
            return _direct("GeluBackward0", _gelu_tanh_fwd, input, _gelu_tanh_deriv)
        dev = input._device_code
        cpu = _cpu_math.takes(input)  # Note [CPU tanh gelu]
        fwd = _gelu_tanh_cpu if cpu else _gelu_tanh_fused
        r = _new(_scoped(dev, fwd, input._mx), dev, input.dtype)  # Note [fused tanh gelu]

        def composed(x, g):  # half types in float32, as torch's gelu_backward
            if x.dtype is _dtype.float32:
                return _gelu_tanh_deriv(x, None, g)
            return _gelu_tanh_deriv(x.float(), None, g.float()).to(x.dtype)

        def fused(xm, gm):
            if xm.dtype == gm.dtype and xm.dtype in _GELU_TANH_BWD_VEC and _device.cuda_kernels(dev):
                return _gelu_tanh_bwd_cuda(xm, gm)  # Note [tanh gelu backward on CUDA]
            return (_gelu_tanh_bwd_cpu if cpu else _gelu_tanh_bwd_fused)(xm, gm)

        return _record_fused("GeluBackward0", input, r, composed, fused)
    raise RuntimeError("approximate argument must be either none or tanh.")


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.dim())
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    _float_only(input, "glu_cpu")
    h = n // 2

    def fn(x):
        a, b = mx.split(x, [h], axis=d)
        return a * _precise.sigmoid(b)

    return _pointwise("GluBackward0", fn, input)


# ---------------------------------------------------------------- rrelu


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, generator=None):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        _float_only(input, "leaky_relu_cpu")
        return leaky_relu(input, (lower + upper) / 2, inplace)
    _float_only(input, "rrelu_with_noise_out_cpu")
    # Note [rrelu noise]: one slope per element drawn once; x <= 0 gets x * slope and backward is grad * slope
    # (torch's rrelu_with_noise_backward in training mode), so the draw is a constant closed over by f.
    r = mx.random.uniform(lower, upper, tuple(input.shape), key=_random.key_for(generator))
    noise = mx.where(input._mx <= 0, r, 1.0)

    def fn(x):
        return x * noise.astype(x.dtype)

    return _finish(input, _pointwise("RreluWithNoiseBackward0", fn, input), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, *, generator=None):
    return rrelu(input, lower, upper, training, inplace=True, generator=generator)


# ---------------------------------------------------------------- softmax family


def _softmax_dim(dim, ndim, name):
    if dim is None:
        _warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
              "as an argument.", stacklevel=4)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, builtins.max(ndim, 1))


def _dtype_arg(_stacklevel, dtype):
    # torch.softmax(input, dim, dtype) shares this function with F.softmax(input, dim, _stacklevel, dtype)
    dtype = _stacklevel if isinstance(_stacklevel, _dtype.dtype) else dtype
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"softmax(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
    return dtype


def _softmax_common(x, dim, name, node, kernel, fn, scalar_fn, deriv):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    _float_only(x, kernel)
    nd = x.dim()
    d = _softmax_dim(dim, nd, name)
    if nd == 0:
        return mlx_op(node, scalar_fn, [x])
    v = x._mx
    if v.size == 0:
        # the result is just as empty (Note [MLX empty reductions])
        return mlx_op(node, lambda v: mx.zeros_like(v) + v, [x])
    if x.dtype is _dtype.float64:  # MLX's own vjp matches torch's float64 rounding to the last bit
        return mlx_op(node, lambda v: fn(v, d), [x])
    # Note [direct activations]: torch's _softmax_backward_data / _log_softmax_backward_data formulas
    return _direct(node, lambda v: fn(v, d), x, lambda a, y, g: deriv(y, g, d))


def _softmax_deriv(y, g, d):
    return y * (g - (g * y).sum(d, keepdim=True))


def _log_softmax_deriv(y, g, d):
    return g - y.exp() * g.sum(d, keepdim=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    dtype = _dtype_arg(_stacklevel, dtype)
    x = input.to(dtype) if dtype is not None and isinstance(input, Tensor) else input
    return _softmax_common(x, dim, "softmax", "SoftmaxBackward0", "softmax_lastdim_kernel_impl",
                           _precise.softmax, mx.ones_like, _softmax_deriv)


def _log_softmax_fwd(v, d):
    if v.dtype in (mx.float16, mx.bfloat16):  # torch computes half types in float32 and rounds once
        w = v.astype(mx.float32)
        return (w - mx.logsumexp(w, axis=d, keepdims=True)).astype(v.dtype)
    return v - _precise.logsumexp(v, d, keepdims=True)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    dtype = _dtype_arg(_stacklevel, dtype)
    x = input.to(dtype) if dtype is not None and isinstance(input, Tensor) else input
    return _softmax_common(x, dim, "log_softmax", "LogSoftmaxBackward0", "log_softmax_lastdim_kernel_impl",
                           _log_softmax_fwd, mx.zeros_like, _log_softmax_deriv)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    dtype = _dtype_arg(_stacklevel, dtype)
    if dim is None:
        dim = _softmax_dim(None, input.dim(), "softmin")
    return softmax(-input, dim, dtype=dtype)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution over `dim`: softmax((logits + g) / tau) with g ~ Gumbel(0, 1)
    (minus the log of an exponential draw, as torch's); `hard`: the one-hot of the argmax in the forward, the soft
    sample's gradient in the backward (straight-through). `eps` is deprecated and unused, as in torch."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.new_empty(tuple(logits.shape)).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(tuple(logits.shape)).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def _method_softmax(self, dim, dtype=None):
    if dim is None or isinstance(dim, builtins.bool):
        raise TypeError("softmax(): argument 'dim' must be int")
    return softmax(self, dim, dtype=dtype)


def _method_log_softmax(self, dim, dtype=None):
    if dim is None or isinstance(dim, builtins.bool):
        raise TypeError("log_softmax(): argument 'dim' must be int")
    return log_softmax(self, dim, dtype=dtype)


def _softmax_backward(ctx, grads):
    """softmax's derivative for the C fast path (csrc/reduce.c): ctx = [output, dim]."""
    y, d = ctx
    return (_softmax_deriv(y, grads[0], d),)


def _log_softmax_backward(ctx, grads):
    """log_softmax's derivative for the C fast path (csrc/reduce.c): ctx = [output, dim]."""
    y, d = ctx
    return (_log_softmax_deriv(y, grads[0], d),)


_C._register_backward("softmax", "SoftmaxBackward0", _softmax_backward, True)
_C._register_backward("log_softmax", "LogSoftmaxBackward0", _log_softmax_backward, True)
# Note [Fast paths fall back] (csrc/fastpath.c): F.softmax/log_softmax (also torch.softmax/log_softmax) and the
# Tensor methods are the C fast paths; the functions above are their reference for every other argument form
softmax = fast_path("softmax", softmax)
log_softmax = fast_path("log_softmax", log_softmax)
_method_softmax = fast_path("Tensor.softmax", _method_softmax)  # the Tensor type's own method (csrc/fastpath.c)
_method_log_softmax = fast_path("Tensor.log_softmax", _method_log_softmax)


# ---------------------------------------------------------------- norms and distances


def _pnorm(x, p, axis, keepdims, split_ties=True):
    """p-norm of x over `axis` with torch's norm_backward derivative (Note [norm derivative]).

    Note [norm derivative]
    torch's gradient of a p-norm is 0 where the norm is 0 (p >= 1), 0 at zero entries for p < 1, sgn(x) for
    p = 1, and for p = +-inf the cotangent goes to the entries that attain the extreme: shared evenly among
    ties by norm/vector_norm (split_ties), in full to each for pdist. NaN-free vjp needs safe inputs
    (Note [double where])."""
    a = mx.abs(x)
    if p == 0:
        return mx.stop_gradient(mx.sum((x != 0).astype(a.dtype), axis=axis, keepdims=keepdims))
    if p == 1:
        return mx.sum(a, axis=axis, keepdims=keepdims)
    if math.isinf(p):
        ext = mx.stop_gradient(mx.max(a, axis=axis, keepdims=True) if p > 0 else mx.min(a, axis=axis, keepdims=True))
        hit = (a == ext) | mx.isnan(a)
        if split_ties:
            cnt = mx.sum(hit.astype(a.dtype), axis=axis, keepdims=True)
        else:
            cnt = mx.ones_like(ext)
        # value is exactly ext; the zero-valued sum routes the cotangent to the extreme entries
        r = ext + mx.sum(mx.where(hit, a - mx.stop_gradient(a), 0), axis=axis, keepdims=True) / cnt
        return r if keepdims else mx.squeeze(r, axis=axis)
    if p == 2:
        s = mx.sum(x * x, axis=axis, keepdims=keepdims) if not mx.issubdtype(x.dtype, mx.complexfloating) \
            else mx.sum(a * a, axis=axis, keepdims=keepdims)
        pos = s > 0
        return mx.where(pos, mx.sqrt(mx.where(pos, s, 1)), 0)
    zero = a == 0
    asafe = mx.where(zero, 1, a)
    terms = mx.where(zero, 0 if p > 0 else math.inf, mx.power(asafe, p))
    s = mx.sum(terms, axis=axis, keepdims=keepdims)
    ok = (s > 0) & mx.logical_not(mx.isinf(s))
    ssafe = mx.where(ok, s, 1)
    return mx.where(ok, mx.power(ssafe, 1.0 / p), mx.power(mx.stop_gradient(s), 1.0 / p))


def _check_norm_input(x):
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_SCALAR.get(x.dtype.name, x.dtype.name)}")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    _check_norm_input(input)
    if out is not None and input.requires_grad and _C.is_grad_enabled():
        raise RuntimeError("div(): functions with out=... arguments don't support automatic differentiation, but one "
                           "of the arguments requires grad.")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    pf = float(p)

    if input.numel() == 0:
        r = mlx_op("DivBackward0", lambda x: mx.zeros_like(x), [input])  # Note [MLX empty reductions]
    else:
        def fn(x):
            n = _pnorm(x, pf, d if nd else None, keepdims=True)
            return x / mx.where(n >= eps, n, eps)  # clamp_min: the gradient passes where n >= eps

        r = mlx_op("DivBackward0", fn, [input])
    if out is not None:
        return out._commit(r) if tuple(out.shape) == tuple(r.shape) else _resize_out(out, r)
    return r


def _resize_out(out, r):
    out._set_data(r._mx.astype(out.dtype._mx))
    return out


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    from .._ops.operators import result_type

    common = result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_SCALAR.get(common.name, common.name)}")
    a = x1 if x1.dtype is common else x1.to(common)
    b = x2 if x2.dtype is common else x2.to(common)
    shape = _broadcast(tuple(a.shape), tuple(b.shape))
    nd = len(shape)
    d = _wrap_dim(dim, nd)
    if builtins.any(s == 0 for s in shape):
        # MLX cannot reduce over empty axes (Note [MLX empty reductions]): an empty sum is 0
        out_shape = shape[:d] + shape[d + 1:] if nd else ()
        return _pointwise("SumBackward1", lambda u, v: mx.zeros(out_shape, u.dtype), a, b)

    def fn(u, v):
        u, v = mx.broadcast_to(u, shape), mx.broadcast_to(v, shape)
        ax = d if nd else None
        # torch normalises each input first; the eps clamp changes values but not the gradient path
        nu, nv = _pnorm(u, 2.0, ax, True), _pnorm(v, 2.0, ax, True)
        nu = nu + mx.stop_gradient(mx.maximum(nu, eps) - nu)
        nv = nv + mx.stop_gradient(mx.maximum(nv, eps) - nv)
        return mx.sum((u / nu) * (v / nv), axis=ax)

    return _pointwise("SumBackward1", fn, a, b)


def _broadcast(s1, s2):
    n = builtins.max(len(s1), len(s2))
    a, b = (1,) * (n - len(s1)) + s1, (1,) * (n - len(s2)) + s2
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(f"The size of tensor a ({p}) must match the size of tensor b ({q}) at non-singleton "
                               f"dimension {i}")
        out.append(q if p == 1 else p)
    return tuple(out)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    nd = builtins.max(x1.dim(), x2.dim())
    diff = x1 - x2 + eps
    if diff.dtype.is_complex or not diff.dtype.is_floating_point:
        _check_norm_input(diff)
    pf = float(p)
    if nd == 0:
        return mlx_op("NormBackward1", lambda v: _pnorm(v, pf, None, False), [diff])
    if diff.shape[-1] == 0:
        if pf < 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {pf:g} norm on the dimension {nd - 1}because "
                               "this dimension is empty and the operation does not have an identity")
        out_shape = tuple(diff.shape[:-1]) + ((1,) if keepdim else ())
        fill = 0.0 if pf > 0 else math.inf
        return mlx_op("NormBackward1", lambda v: mx.full(out_shape, fill, v.dtype), [diff])
    return _pointwise("NormBackward1", lambda v: _pnorm(v, pf, nd - 1, keepdim), diff)


def pdist(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input.dtype in (_dtype.float16, _dtype.bfloat16):
        raise NotImplementedError(f"\"pdist\" not implemented for '{_SCALAR[input.dtype.name]}'")
    n, m = input.shape
    i, j = np.triu_indices(n, 1)
    k = len(i)
    pf = float(p)
    if k == 0 or m == 0:
        return mlx_op("PdistBackward0", lambda v: mx.zeros((k,), v.dtype), [input])
    ii, jj = mx.array(i.astype(np.int32)), mx.array(j.astype(np.int32))

    def fn(v):
        diff = mx.take(v, ii, axis=0) - mx.take(v, jj, axis=0)
        return _pnorm(diff, pf, 1, False, split_ties=False)

    return _pointwise("PdistBackward0", fn, input)


# ---------------------------------------------------------------- one_hot, pixel and channel shuffles


def one_hot(tensor, num_classes=-1):
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    v = tensor._mx
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return _new(mx.zeros(tuple(tensor.shape) + (num_classes,), dtype=mx.int64), tensor._device_code, _dtype.int64)
    lo, hi = _mx_item(mx.min(v)), _mx_item(mx.max(v))
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    r = (mx.expand_dims(v, -1) == mx.arange(num_classes)).astype(mx.int64)
    return _new(r, tensor._device_code, _dtype.int64)


def pixel_shuffle(input, upscale_factor):
    nd = input.dim()
    r = upscale_factor
    if nd < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           f"dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    batch = tuple(input.shape[:-3])
    oc = c // (r * r)
    b = len(batch)

    def fn(x):
        x = x.reshape(batch + (oc, r, r, h, w))
        x = mx.transpose(x, tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2))
        return x.reshape(batch + (oc, h * r, w * r))

    return mlx_op("PixelShuffleBackward0", fn, [input])


def pixel_unshuffle(input, downscale_factor):
    nd = input.dim()
    r = downscale_factor
    if nd < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           f"dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    batch = tuple(input.shape[:-3])
    b = len(batch)

    def fn(x):
        x = x.reshape(batch + (c, h // r, r, w // r, r))
        x = mx.transpose(x, tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3))
        return x.reshape(batch + (c * r * r, h // r, w // r))

    return mlx_op("PixelUnshuffleBackward0", fn, [input])


def channel_shuffle(input, groups):
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    shape = tuple(input.shape)
    c = shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")

    def fn(x):
        x = x.reshape((shape[0], groups, c // groups) + shape[2:])
        return mx.swapaxes(x, 1, 2).reshape(shape)

    return mlx_op("NativeChannelShuffleBackward0", fn, [input])


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------- dropout family


class _DropoutProbabilityError(ValueError, RuntimeError):
    """Note [dropout p check]: torch.nn.functional.dropout raises ValueError for p outside [0, 1], torch.dropout
    (the native op) RuntimeError. Both names are one function here (TORCH_EXPORTS shares the object), so the
    shared functions raise an error that is both."""


def _check_p(p, native=False):
    if p < 0.0 or p > 1.0:
        err = RuntimeError if native else _DropoutProbabilityError
        raise err(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_impl(input, p, train, inplace, feature, alpha):
    """torch's _dropout_impl: plain/feature (one draw per (N, C) channel) x plain/alpha."""
    _check_p(p, native=True)
    if p == 0 or not train or input.numel() == 0:
        return input
    if not input.dtype.is_floating_point and not input.dtype.is_complex:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_SCALAR.get(input.dtype.name, input.dtype.name)}")
    if p == 1:
        return _finish(input, mlx_op("MulBackward0", lambda x: x * mx.zeros((), x.dtype), [input]), inplace)
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = input._mx.shape
    noise_shape = shape[:2] + (1,) * (len(shape) - 2) if feature else shape
    keep = mx.random.bernoulli(1.0 - p, noise_shape, key=_random.key_for(None)).astype(mx.float32)
    if alpha:
        # Note [alpha dropout]: kept entries a*x + a*alpha*p, dropped ones a*alpha*(p - 1), which keeps a
        # SELU network's mean and variance (torch's constants)
        al = 1.7580993408473766
        a = 1.0 / math.sqrt((al * al * p + 1) * (1 - p))
        mul = keep * a
        add = (keep - 1) * (al * a) + al * a * p

        def fn(x):
            return (x * mul.astype(x.dtype) + add.astype(x.dtype)).astype(x.dtype)
    else:
        dt = input.dtype
        mul = (keep / (1 - p)).astype(dt._mx)
        # Note [direct activations]: x * mask, whose derivative is g * mask (the mask a constant of the node)
        mask = _new(mul, input._device_code, dt)
        return _finish(input, _direct("MulBackward0", lambda x: x * mul, input, lambda x, y, g: g * mask), inplace)

    return _finish(input, mlx_op("AddBackward0", fn, [input]), inplace)


def native_dropout(input, p, train):
    """torch.native_dropout: (output, keep mask); train None or True drops with probability p, False keeps all."""
    from .. import ones_like, rand_like

    if train is False:
        return input.clone(), ones_like(input, dtype=_dtype.bool)
    keep = rand_like(input) >= p
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    return input * keep * scale, keep


def dropout(input, p=0.5, training=True, inplace=False, *, train=None):
    # also torch.dropout(input, p, train): same positions, its keyword `train` accepted (Note [dropout p check])
    _check_p(p)
    return _dropout_impl(input, p, training if train is None else train, inplace, False, False)


def dropout_(input, p, train):
    return _dropout_impl(input, p, train, True, False, False)


def feature_dropout(input, p, train):
    return _dropout_impl(input, p, train, False, True, False)


def feature_dropout_(input, p, train):
    return _dropout_impl(input, p, train, True, True, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, train=None):
    _check_p(p)
    return _dropout_impl(input, p, training if train is None else train, inplace, False, True)


def alpha_dropout_(input, p, train):
    return _dropout_impl(input, p, train, True, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, train=None):
    _check_p(p)
    return _dropout_impl(input, p, training if train is None else train, inplace, True, True)


def feature_alpha_dropout_(input, p, train):
    return _dropout_impl(input, p, train, True, True, True)


def _unbatched_feature(input, p, training, inplace, unbatched):
    if unbatched:
        x = input.unsqueeze(0)
        r = _dropout_impl(x, p, training, inplace, True, False)
        r = r.squeeze(0)
        return input if inplace and r is not input else r
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched_feature(input, p, training, inplace, nd == 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        _warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
              "error in a future release. To retain the behavior and silence this warning, please use "
              "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
              "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
              "inputs).", stacklevel=2)
    if nd == 3:
        _warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
              "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
              "This behavior will change in a future release to interpret the input as one without a batch "
              "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
              "switch to using dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (4, 5):
        _warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
              "error in a future release. To retain the behavior and silence this warning, please use "
              "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
              "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
              "inputs).", stacklevel=2)
    return _unbatched_feature(input, p, training, inplace, nd == 4)


# ---------------------------------------------------------------- Tensor methods (Note [Declared Tensor methods])

from .._methods import declare_methods  # noqa: E402

declare_methods({"hardshrink": hardshrink, "prelu": prelu})


# torch's top-level dropout family, selu, celu and embedding have the native signatures (train required and a
# bool, p out of [0, 1] the native op's RuntimeError, no inplace flag; embedding's weight first), not
# nn.functional's; mlx_compat/__init__.py exports these
def _native_dropout(name, inplace, feature, alpha):
    def op(input, p, train):
        if type(train) is not bool:
            raise TypeError(f"{name}(): argument 'train' (position 3) must be bool, not {type(train).__name__}")
        _check_p(p, native=True)
        return _dropout_impl(input, p, train, inplace, feature, alpha)

    op.__name__ = op.__qualname__ = name
    return op


def _top_selu(input):
    return selu(input)


def _top_celu(input, alpha=1.0):
    return celu(input, alpha)


TORCH_VARIANTS = {name: _native_dropout(name, name.endswith("_"), "feature" in name, "alpha" in name)
                  for name in ("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout",
                               "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_")}
def _top_embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    from .. import _argcheck
    from .functional import embedding as F_embedding  # noqa: N812

    if not _argcheck.is_int(padding_idx):
        raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not {type(padding_idx).__name__}")
    # the native op's padding_idx -1 is "none"; its other negatives name no row either
    return F_embedding(indices, weight, int(padding_idx) if padding_idx >= 0 else None,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def _top_rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    return rrelu(input, lower, upper, training, generator=generator)


_top_embedding.__name__ = _top_embedding.__qualname__ = "embedding"
_top_rrelu.__name__ = _top_rrelu.__qualname__ = "rrelu"
TORCH_VARIANTS.update(selu=_top_selu, celu=_top_celu, embedding=_top_embedding, rrelu=_top_rrelu)
_top_selu.__name__ = _top_selu.__qualname__ = "selu"
_top_celu.__name__ = _top_celu.__qualname__ = "celu"
