"""float32 elementwise functions for MLX's CPU backend written as plain arithmetic, where MLX's own kernel is slow
and inexact (Note [CPU exponential]): `exp`, and `logsumexp` built on it. They are MLX compositions meant to run
inside an mx.compile'd function (one fused kernel each side of a bit cast), so callers use them only there.

Note [CPU exponential]
MLX 0.32.4's Linux CPU build evaluates exp one element at a time (its SIMD code at width 1) and calls glibc's
`fmaf` six times per element: 12 ns an element on this repository's 2-core VM, against 0.5 for numpy's exp. Its
range reduction also loses accuracy as |x| grows: up to 64 units in the last place on [-87, -40] and 61 on
[10, 80] (torch's CPU exp: 0.56 at most). Cross entropy's logsumexp and gradient, over (rows, vocabulary)
logits, spend most of their time there. `exp` here is the textbook method in arithmetic that MLX's compiled CPU
kernels vectorise: n = round(x / ln 2) by adding and subtracting 1.5 * 2^23 (exact for |x / ln 2| < 2^22),
r = x - n ln 2 with ln 2 split in two (the first part's product with n exact), e^r on [-ln 2 / 2, ln 2 / 2] as
1 + r + r^2 P(r) with P of degree 5 fitted here for the least largest relative error (2.7e-9 on P), and 2^n
built as the float's exponent bits (an integer reinterpreted by `view`, where MLX's fusion ends: two kernels).
Measured over 2.5 million arguments against float64: at most 0.94 units in the last place (mean 0.27) on
[-87.3, 88.7], 4-6x faster than mx.exp on (128, 8192). Outside that range the result is torch's limit: 0 below
-87.34 (where float32 results turn subnormal; torch keeps subnormals down to -103.97, MLX's exp flushes them to 0
as this does), inf above 88.72; NaN stays NaN. Only float32 on the CPU uses it: MLX's GPU kernels are fast and
accurate, and a half type's exp is computed in float32 by the callers already. Its two kernels and the bit cast
cost more than they save on small arrays (a 64 x 10 batch's cross entropy made the MLP step ~2 % slower), so
cross entropy takes it from `_CPU_EXP_MIN_ELEMENTS` logits on (nn/_loss.py).
"""
from __future__ import annotations

import mlx.core as mx

# e^r = 1 + r + r^2 * P(r) on [-ln2/2, ln2/2], P's coefficients from the constant term up (fitted in float64 by
# iteratively reweighted least squares for the least largest relative error, then rounded to float32)
_EXP_P = (0.5, 0.1666666716337204, 0.04166646674275398, 0.008333360776305199, 0.0013933597365394235,
          0.0001985778653761372)
_ROUND = 12582912.0  # 1.5 * 2^23: x + _ROUND - _ROUND rounds x to an integer (|x| < 2^22)
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693359375  # ln 2's leading bits: n * _LN2_HI is exact for |n| < 2^15
_LN2_LO = -2.12194440e-4  # ln 2 - _LN2_HI
_LO, _HI = -87.33654, 88.72284  # e^x is a normal float32 (and finite) between them


@mx.custom_function
def exp(x):
    """e^x of a float32 array, Note [CPU exponential]. A custom function, so that MLX's vjp never differentiates
    the bit cast (MLX has no derivative for it): the derivative is the output, as exp's. MLX 0.32 ignores a
    custom jvp here (its jvp reaches the bit cast and raises), so forward mode must not trace this function: the
    callers use it in their compiled forward and backward only, never in the formula torch.func differentiates.
    Nor can MLX trace it shapeless (the bit cast has no shape rule): a shapeless trace that meets it fails and
    _compile's dynamic=True falls back to per-shape graphs (Note [Dynamic shapes])."""
    z = mx.minimum(mx.maximum(x, _LO), _HI)
    n = (z * _LOG2E + _ROUND) - _ROUND
    r = (z - n * _LN2_HI) - n * _LN2_LO
    p = _EXP_P[5]
    for c in _EXP_P[4::-1]:
        p = p * r + c
    e = (r * r) * p + r + 1.0
    # 2^n as float32 bits: the biased exponent n + 127 shifted past the 23 mantissa bits; n reaches 128 just
    # below _HI (the largest floats), where 2^127 times a doubled e^r stays finite
    top = n > 127.0
    scale = ((mx.minimum(n, 127.0).astype(mx.int32) + 127) * 8388608).view(mx.float32)
    y = mx.where(top, e * 2.0, e) * scale
    return mx.where(x < _LO, 0.0, mx.where(x > _HI, float("inf"), y))


@exp.vjp
def _exp_vjp(primals, cotangent, output):
    return (cotangent * output,)


def logsumexp(x, axis):
    """log(sum(exp(x), axis)) with keepdims, shifted by the maximum as torch's logsumexp is (an infinite maximum
    shifts by 0, so rows of -inf give -inf and a +inf gives +inf), exp by Note [CPU exponential]."""
    m = mx.max(x, axis=axis, keepdims=True)
    m = mx.where(mx.abs(m) == float("inf"), 0.0, m)
    return mx.log(mx.sum(exp(x - m), axis=axis, keepdims=True)) + m
