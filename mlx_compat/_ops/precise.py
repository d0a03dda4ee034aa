"""float64 versions of MLX functions whose CPU kernels are only float32-accurate.

Note [MLX float64 precision]
MLX 0.32's CPU backend evaluates exp, sin, cos, sigmoid (and so softmax/logsumexp) for float64
inputs with float32-accurate approximations (relative error ~1e-8), while expm1, tan, log, tanh
are accurate to ~1e-16. torch users rely on float64 being exact (gradcheck's central differences
need it), so for float64 we compose the accurate ones:
  exp(x)  = expm1(x) + 1 for x >= 0, 1 / (expm1(-x) + 1) otherwise (no cancellation either way)
  sin, cos from t = tan(x/2) (or u = 1/t where |t| > 1): sin = 2t/(1+t^2), cos = (1-t^2)/(1+t^2)
These are MLX compositions, so mx.vjp differentiates them too. Other dtypes use MLX's kernels.
erf has no such composition here and stays float32-accurate in float64.
"""
import math

import mlx.core as mx


def _is64(x):
    return isinstance(x, mx.array) and x.dtype == mx.float64


def exp(x):
    if not _is64(x):
        return mx.exp(x)
    # expm1 overflows past 709: above, MLX's exp gives inf (and an inf gradient, as torch); below -709 the
    # result is exp(x + 64) * exp(-64), which keeps the subnormals MLX's exp flushes. The composed branch never
    # sees an overflowing argument, so a discarded inf * 0 cannot turn a gradient into nan (e.g. softmax over a
    # row holding -inf).
    pos = x >= 0
    ax = mx.where(pos, x, -x)
    over = pos & (ax > 709)
    under = (~pos) & (ax > 709)
    a = mx.where(over, 0, mx.where(under, mx.minimum(ax - 64, 709), ax))
    e = mx.expm1(a) + 1
    r = mx.where(pos, e, 1 / e)
    r = mx.where(under, r * _EXP_M64, r)
    return mx.where(over, mx.exp(x), r)


_EXP_M64 = math.exp(-64)


def sigmoid(x):
    if not _is64(x):
        return mx.sigmoid(x)
    e = exp(-mx.abs(x))  # in (0, 1]
    return mx.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _half_tan(x):
    t = mx.tan(x / 2)
    big = mx.abs(t) > 1
    u = mx.where(big, 1 / mx.where(big, t, 1), t)  # |u| <= 1
    return big, u


def sin(x):
    if not _is64(x):
        return mx.sin(x)
    big, u = _half_tan(x)
    return 2 * u / (1 + u * u)  # same formula for t and for 1/t


def cos(x):
    if not _is64(x):
        return mx.cos(x)
    big, u = _half_tan(x)
    c = (1 - u * u) / (1 + u * u)
    return mx.where(big, -c, c)


def logsumexp(x, axis, keepdims=False):
    if x.size == 0:  # MLX's logsumexp refuses any empty array; torch's: -inf over an empty axis, else empty
        shape = [1 if d == axis % x.ndim else n for d, n in enumerate(x.shape)]
        out = mx.full(shape, -float("inf"), x.dtype)
        return out if keepdims else mx.squeeze(out, axis=axis)
    if not _is64(x):
        return mx.logsumexp(x, axis=axis, keepdims=keepdims)
    m = mx.stop_gradient(mx.max(x, axis=axis, keepdims=True))
    m = mx.where(mx.isinf(m), 0, m)
    s = mx.log(mx.sum(exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else mx.squeeze(s, axis=axis)


def softmax(x, axis):
    if not _is64(x):
        return mx.softmax(x, axis=axis, precise=True)
    return exp(x - logsumexp(x, axis, keepdims=True))
