"""float32 elementwise functions for MLX's CPU backend written as plain arithmetic, where MLX's own kernel is slow
and inexact (Note [CPU exponential]): `exp`, and `logsumexp` and the tanh gelu (Note [CPU tanh gelu]) built on it.
They are MLX compositions meant to run inside an mx.compile'd function (one fused kernel each side of a bit cast),
so callers use them only there, and only from `MIN_ELEMENTS` elements on.

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
the callers take it from `MIN_ELEMENTS` elements on.

Note [CPU tanh gelu]
torch's tanh gelu is 0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3), and its derivative
0.5 (1 + t) + 0.5 x (1 - t^2) u' with t = tanh(u). MLX's CPU tanh costs 18 ns an element (glibc's tanhf, one
element at a time), twice per training step, which made GPT-2's MLP activation 5x torch's time. Since
1 + tanh(u) = 2 / (1 + e^(-2u)), the forward is x / (1 + E) with E = e^(-2u) from `exp`, and with s = 1 / (1 + E)
the derivative is s (1 + 2 x u' E s), where E s = 1 - s is computed without cancelling. (torch's 1 - t^2
cancels for |u| of a few units: there its float32 derivative errs by up to 3.8e-6, this one's by 7e-7, against
float64, on 2 x 64 x 3072 normal inputs of deviation 3.) For e^(-2u) beyond float32 (u < -44) the derivative is
torch's there: 0, or NaN where x u' overflows; the forward's x / inf is torch's -0. At 2 x 64 x 3072, one
thread: forward 7.5 -> 1.4 ms, backward 8.2 -> 1.5 ms (torch's both: 1.4). The same kernel count rule as for
`exp` holds, and the same limits (no shapeless trace, no forward-mode trace).
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
MIN_ELEMENTS = 1 << 15  # below this many elements the extra kernels outweigh the saving: callers keep MLX's
_GELU_K = 0.7978845608028654  # sqrt(2 / pi)
_GELU_C = 0.044715


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


def gelu_tanh(x):
    """torch's gelu(x, approximate='tanh') of a float32 array, Note [CPU tanh gelu]."""
    u = _GELU_K * (x + _GELU_C * x * x * x)
    return x / (1.0 + exp(-2.0 * u))


def gelu_tanh_backward(x, g):
    """g times the derivative of gelu_tanh at x (float32 arrays), Note [CPU tanh gelu]."""
    x_sq = x * x
    u = _GELU_K * (x + _GELU_C * x_sq * x)
    e = exp(-2.0 * u)
    s = 1.0 / (1.0 + e)
    du = _GELU_K * (1.0 + 3.0 * _GELU_C * x_sq)
    d = s * (1.0 + 2.0 * x * du * (e * s))
    # e = inf: torch's t is -1 there, so its derivative is 0 * x * u' (NaN only where that overflows)
    return g * mx.where(e == float("inf"), x * du * 0.0, d)
