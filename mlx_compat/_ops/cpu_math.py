"""float32 elementwise functions for MLX's CPU backend written as plain arithmetic, where MLX's own kernel is slow
and inexact (Note [CPU exponential]): `exp`, and built on it `logsumexp`, silu (Note [CPU silu]), the tanh gelu
(Note [CPU tanh gelu]) and the exact gelu (Note [CPU exact gelu]). `exp` and `logsumexp` are MLX compositions meant
to run inside an mx.compile'd function (one fused kernel each side of a bit cast); silu, the gelus and their
derivatives are called as they are, each a short sequence of its own compiled kernels (Note [CPU kernels MLX
vectorises]). Callers use them only from `MIN_ELEMENTS` elements on. None of them selects with mx.where (Note
[Selects in CPU kernels]).

Note [CPU kernels MLX vectorises]
MLX 0.32.4 compiles a fused CPU kernel as a C++ loop (g++ -O3, SSE2 on x86-64) and the compiler vectorises it or
not. Measured on 2^20 float32 elements, one kernel each: x * 1.5 + 1, abs, integer bit operations, shifts and
integer min/max, and float/int conversions take 0.17-0.25 ms; float minimum/maximum (their NaN test branches), a
comparison (bool), mx.where, floor, round and sqrt take 1.0-1.9 ms, because the loop then runs one element at a
time. MLX's fusion has two more limits. It fuses back from an output only 11 levels deep (a scalar's broadcast is
a level) and 24 arrays wide; past that the rest becomes other kernels with materialised arrays between, and a cut
that falls on a scalar's broadcast makes the next kernel take a broadcast input, so it runs its strided loop, which
is never vectorised. And a node with a consumer outside the chain ends it. In a shapeless trace every binary op
also broadcasts both operands to each other's shape, which doubles the depth and ties each value to more
consumers: the staged exact gelu below compiled shapeless was 14 standalone broadcasts and ~20 kernels, 22 ms
against 1.6 per shape. So silu, the gelus and their derivatives are sequences of small functions, each compiled per
shape and called one after the other (as a whole under an outer mx.compile, which gives the same bits): each is
one kernel of at most ~10 levels with one root (any second output an input of the first), and clamps and sign
tests run on the float's int32 bits, a free `view`: |x| clamped is min(bits & 0x7fffffff, bound's bits), a
signed clamp maps the bits to a key ordered as the floats are and back, x's sign weight is 1 + (bits >> 31), and
2^n is built from n clamped as an integer to [-127, 128] (+0 to +inf, no select). The exponent's argument is then
bounded, so its reduction needs no clamp, and e^r - 1 is summed in seven levels (_exp_m1) so that the finishing
formulas fit; the generic exp, expm1, sigmoid and tanh take the same stages (Note [Per-size CPU transcendentals]).
Inside an mlx_compat.compile trace the stages are inlined into the caller's graph, where MLX would fuse them together
again; there each stage's outputs pass through mx.contiguous, which MLX does not fuse (`_Stage`): a compiled exact
gelu of 197 x 3072 took 6.0 ms without that, 2.1 with it (eager: 1.9).
Cost, one thread, the former graphs, these and torch interleaved in one
process, 2 x 64 x 3072 (GPT-2's MLP) then 197 x 3072 (ViT-B/16's), ms: silu 1.0 -> 0.66 (torch 0.20), 7.7 -> 3.3
(0.39); the tanh gelu 1.05 -> 0.71 (0.71), 7.2 -> 2.9 (1.3), its backward 1.3 -> 0.93 (0.80), 9.3 -> 3.5 (1.5); the
exact gelu 3.8 -> 1.06 (0.34), 25 -> 3.5 (0.61), with its derivative 5.5 -> 1.4 (0.69), 38 -> 7.0 (2.1). Alone, the
larger size's silu and tanh gelu take 1.3-1.4 ms: at 2.4 MB an array the kernels' passes over memory, not their
arithmetic, are the cost.

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
[-87.3, 88.7], 4-6x faster than mx.exp on (128, 8192). The limits come from the clamp of x to [-88, 89] and
need no select: below -87.68 n is -127, whose exponent bits are those of +0, so the result is 0 (torch keeps
subnormals down to -103.97; MLX's exp flushes them to 0 as this does); n = 128 (just below ln of the largest
float) is 2^127 times a doubled e^r, and past that the product overflows to inf exactly where torch's exp does
(checked on a grid of 200,000 points from 88.70 to 89.5); NaN stays NaN. Only float32 on the CPU uses it: MLX's
GPU kernels are fast and accurate, and a half type's exp is computed in float32 by the callers already. Its two
kernels and the bit cast cost more than they save on small arrays (a 64 x 10 batch's cross entropy made the MLP
step ~2 % slower), so the callers take it from `MIN_ELEMENTS` elements on. Compiled per shape, each new shape
costs one trace (about 0.85 ms here, against 0.63 ms for mx.exp of 2^15 elements and 12 ms of 2^20), and MLX keeps
every shape's graph: fine for training's few shapes; a call site that sees a new shape at every call (a decoding
loop's growing attention) keeps MLX's kernels instead.

Note [Selects in CPU kernels]
In MLX 0.32.4's compiled CPU kernels an mx.where whose chosen values are computed in the same kernel costs a
branch per element: on 2 x 65 x 3072 float32, where(x > 0, 2 x, 0) takes 2.1 ms for random signs, 0.26 ms for
sorted ones and 0.23 when the condition is never true, against 0.05 for 2 x + 1 (a compiler may not compute both
sides of a select whose arithmetic could trap, so it branches, and the loop no longer vectorises). So the
functions here select by arithmetic: clamps (min/max; themselves scalar loops, so the staged functions of Note
[CPU kernels MLX vectorises] clamp on the bits) before the computation instead of a select after it, a
product with a comparison's 0/1 where both sides are finite (m a + (1 - m) b is exactly a or b), and a division
by one where infinity must come out. exp's selects, whose conditions are nearly always false, cost it 1.21
against 0.75 ms on that array. MLX's eager CPU select branches too: mx.where(c, x, 0) on 256 x 4096 float32 with a
random condition takes 4.4-5.6 ms (torch: 3.5-3.8). `where_any` selects 4-byte values by their bits instead,
(a & m) | (b & ~m) with m all ones where c holds, one shapeless compiled kernel between two free views: 0.7-0.8 ms,
the same bits (NaN payloads and -0.0 included). torch.where's C fast path (csrc/pointwise.c) takes it for float32
and int32 results on the CPU device from GENERIC_MIN_ELEMENTS elements on; `where` below makes the same choice for
`select` (the composite forwards' where, autograd/_mlx_vjp.py) outside a vjp trace and for relu's backward, and
masked_fill's forward takes it for float32 tensors.

Note [CPU tanh gelu]
torch's tanh gelu is 0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3), and its derivative
0.5 (1 + t) + 0.5 x (1 - t^2) u' with t = tanh(u). MLX's CPU tanh costs 18 ns an element (glibc's tanhf, one
element at a time), twice per training step, which made GPT-2's MLP activation 5x torch's time. Since
1 + tanh(u) = 2 / (1 + e^(-2u)), the forward is x / (1 + E) with E = e^(-2u) from `exp`, and with s = 1 / (1 + E)
the derivative is s (1 + 2 x u' q), where q = E s = 1 - s is computed as 1 / (1 + 1 / E), without cancelling
and without NaN at E = 0 or inf. (torch's 1 - t^2 cancels for |u| of a few units: there its float32
derivative errs by up to 3.8e-6, this one's by 7e-7, against float64, on 2 x 64 x 3072 normal inputs of
deviation 3.) For E beyond float32 (u < -44) the derivative is torch's there: 0, or NaN where x u' overflows;
the forward's x / inf is torch's -0. E is built from x clamped to [-10.5, 10.5] (Note [CPU kernels MLX
vectorises]), where -2u already lies past float32's exponent range on both sides: four kernels forward, five
backward. At 2 x 64 x 3072, one thread: forward 7.5 -> 1.4 -> 1.1 ms, backward 8.2 -> 1.5 -> 1.0 ms (MLX's tanh,
`exp` in one compiled graph, the staged kernels; torch's 1.0 and 1.1). Not for forward-mode traces.

Note [CPU silu]
torch's CPU silu kernel is x / (1 + e^(-x)) and its backward g s (1 + x (1 - s)) with s = 1 / (1 + e^(-x)); MLX's
sigmoid costs 17 ns an element here, and the composed backward evaluates it again. Both are torch's formulas over
e^(-x) (x clamped to [-100, 100], Note [CPU kernels MLX vectorises]), so they differ from torch's only by its
last bit; at x = -inf both give NaN as torch's do.

Note [CPU exact gelu]
torch's gelu is x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)), and its derivative Phi(x) + x phi(x). MLX's CPU erf
costs 28 ns an element. Here, with a = |x| clamped to 13.5 and t = 1 / (1 + 0.3 a), the normal tail is
Q(a) = e^(-a^2 / 2) R(t), R a degree-8 polynomial fitted here in float64 over all of [0, 13.5] (least largest
relative error, 4.7e-8, then rounded to float32; evaluated in five levels, Estrin's scheme), and Phi is 1 - Q for
x >= 0 and Q below, mixed by x's sign weight (Note [CPU kernels MLX vectorises]): one branch, no comparison. The
same e^(-a^2 / 2) gives phi. From a = 13.27 on 2^n is +0, so gelu(-inf) is NaN and gelu of a large negative x is
-0, as torch's; x = +inf gives inf (torch's CPU kernel: NaN). Unlike 1 + erf(z) (torch's formula), Q does not cancel
for negative x: against float64 on 400,000 arguments in [-14, 14], the value's error relative to max(|value|, 1e-3)
is 6.0e-7 here (the former two-branch fit: 1.2e-6) and 1.1e-3 for torch, the derivative's 9.0e-5 (5.3e-5) and
1.3e-4. A forward that records its gradient also returns the derivative (one more output; the backward is then g
times it, as the MLX path saves its erf, Note [gelu saves its erf] in nn/_activation.py). Five kernels for the
value, six with the derivative.
"""
from __future__ import annotations

import collections
import contextlib
import sys

import mlx.core as mx
import numpy as np

from .. import _C
from .._device_scope import _DEVICES

# e^r = 1 + r + r^2 * P(r) on [-ln2/2, ln2/2], P's coefficients from the constant term up (fitted in float64 by
# iteratively reweighted least squares for the least largest relative error, then rounded to float32)
_EXP_P = (0.5, 0.1666666716337204, 0.04166646674275398, 0.008333360776305199, 0.0013933597365394235,
          0.0001985778653761372)
_ROUND = 12582912.0  # 1.5 * 2^23: x + _ROUND - _ROUND rounds x to an integer (|x| < 2^22)
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693359375  # ln 2's leading bits: n * _LN2_HI is exact for |n| < 2^15
_LN2_LO = -2.12194440e-4  # ln 2 - _LN2_HI
_LO, _HI = -88.0, 89.0  # x's clamp (Note [CPU exponential]): 0 below, inf above, no select
MIN_ELEMENTS = 1 << 15  # below this many elements the extra kernels outweigh the saving: callers keep MLX's


def takes(t):
    """Whether Tensor t's elementwise work goes through this module's functions: on MLX's CPU stream (the fake
    GPU's too) with at least MIN_ELEMENTS elements."""
    return _DEVICES[t._device_code] == mx.cpu and t.numel() >= MIN_ELEMENTS


_GELU_K = 0.7978845608028654  # sqrt(2 / pi)
_GELU_C = 0.044715


def _horner(coefs, v):
    p = coefs[-1]
    for c in coefs[-2::-1]:
        p = p * v + c
    return p


@mx.custom_function
def exp(x):
    """e^x of a float32 array, Note [CPU exponential]. A custom function, so that MLX's vjp never differentiates
    the bit cast (MLX has no derivative for it): the derivative is the output, as exp's. MLX 0.32 ignores a
    custom jvp here (its jvp reaches the bit cast and raises), so forward mode must not trace this function: the
    callers use it in their compiled forward and backward only, never in the formula torch.func differentiates.
    Nor can MLX trace it shapeless (the bit cast has no shape rule): a shapeless trace that meets it fails and
    _compile's dynamic=True falls back to per-shape graphs (Note [Dynamic shapes])."""
    e, bits = _exp_parts(x)
    return e * bits.view(mx.float32)


def _exp_reduced(x):
    """(n, e^r - 1) of Note [CPU exponential] for a float32 array: x clamped to [-88, 89] is n ln 2 + r, with n an
    integer (as a float) and |r| <= ln 2 / 2."""
    z = mx.minimum(mx.maximum(x, _LO), _HI)
    n = (z * _LOG2E + _ROUND) - _ROUND
    r = (z - n * _LN2_HI) - n * _LN2_LO
    return n, (r * r) * _horner(_EXP_P, r) + r


def _exp_bits(n):
    """(the float32 bits of 2^m as int32, 1 + (n - m)) for m = min(n, 127): 2^n is their product. The biased
    exponent n + 127 is shifted past the 23 mantissa bits (n = -127: +0); n reaches 128 just below ln of the largest
    float, where 2^127 times a doubled e^r stays finite, and overflows past it."""
    m = mx.minimum(n, 127.0)
    return (m.astype(mx.int32) + 127) * 8388608, 1.0 + (n - m)


def _exp_parts(x):
    """(a, bits): e^x is a times the int32 `bits` viewed as float32 (Note [CPU exponential])."""
    n, q = _exp_reduced(x)
    bits, twice = _exp_bits(n)
    return (q + 1.0) * twice, bits


@exp.vjp
def _exp_vjp(primals, cotangent, output):
    return (cotangent * output,)


def logsumexp(x, axis):
    """log(sum(exp(x), axis)) with keepdims, shifted by the maximum as torch's logsumexp is (an infinite maximum
    shifts by 0, so rows of -inf give -inf and a +inf gives +inf), exp by Note [CPU exponential]."""
    m = mx.max(x, axis=axis, keepdims=True)
    m = mx.where(mx.abs(m) == float("inf"), 0.0, m)
    return mx.log(mx.sum(exp(x - m), axis=axis, keepdims=True)) + m


# Note [CPU kernels MLX vectorises] stages shared by silu, the tanh gelu and the exact gelu
def _bits_key(xi):
    """The float bits xi as an int32 key ordered as the floats are (negative floats' magnitude bits flipped; -0 is
    -1, +0 is 0; NaNs beyond the infinities)."""
    return mx.bitwise_xor(xi, mx.bitwise_and(mx.right_shift(xi, 31), 0x7FFFFFFF))


def _key_bits(key):
    """_bits_key's inverse (the same map)."""
    return mx.bitwise_xor(key, mx.bitwise_and(mx.right_shift(key, 31), 0x7FFFFFFF))


def _sign_weight(xi):
    """1.0 where x's sign bit is clear, 0.0 where set (-0.0 and NaNs of either sign included), from x's bits."""
    return (1 + mx.right_shift(xi, 31)).astype(mx.float32)


def _sign_of(xi):
    """1.0 or -1.0 by x's sign bit (-0.0: -1.0), from x's bits."""
    return (1 + 2 * mx.right_shift(xi, 31)).astype(mx.float32)


def _abs_clamped_bits(xi, bound_bits):
    """The int32 bits of min(|x|, b) from x's bits and b's (NaN: b)."""
    return mx.minimum(mx.bitwise_and(xi, 0x7FFFFFFF), bound_bits)


def _clamped_bits(xi, bound_bits, low_bits=None):
    """The int32 bits of x clamped to [-b, b] (or [-l, b]) from x's bits and b's (and l's; b, l > 0), exactly x
    inside: the bits as a key ordered as the floats are (negative floats' magnitude bits flipped: -l's key is
    -1 - l's bits), clamped, mapped back. A NaN comes out as a bound; callers that must keep it keep x itself for
    the result, or make 2^n a NaN (_pow2_nan_bits)."""
    key = mx.minimum(mx.maximum(_bits_key(xi), -1 - (bound_bits if low_bits is None else low_bits)), bound_bits)
    return _key_bits(key)


_LN2_HI_LOW = 0.693145751953125  # ln 2's leading 15 bits, below ln 2: n * _LN2_HI_LOW is exact for |n| < 2^9
_LN2_LO_POS = 1.4286067653302356e-06  # ln 2 - _LN2_HI_LOW, positive: at y = -0, r = -0 - (+0) - (+0) stays -0


def _exp_reduction(y):
    """(n, r) with y = n ln 2 + r, n an integer (as a float), |r| <= ln 2 / 2, for |y| < 2^22 (Note [CPU
    exponential]'s reduction without its clamp: the callers bound y; ln 2 split with a positive low part, so the
    sign of a zero y survives into r)."""
    n = (y * _LOG2E + _ROUND) - _ROUND
    return n, (y - n * _LN2_HI_LOW) - n * _LN2_LO_POS


def _pow2_bits(n):
    """The int32 bits of 2^n for integral float n: +0 from n <= -127 on, +inf from n >= 128 on."""
    return mx.left_shift(mx.minimum(mx.maximum(n.astype(mx.int32), -127), 128) + 127, 23)


def _exp_m1(r):
    """e^r - 1 = r + r^2 P(r) for |r| <= ln 2 / 2 (Note [CPU exponential]'s P) in seven levels, the deepest MLX
    fuses with room for the finishing formulas below (Note [CPU kernels MLX vectorises]): the correction r^2 (P0 +
    P1 r) + r^4 (P2 + P3 r) + r^6 (P4 + P5 r) is summed first and added to r once. Written r - ((0 - a) - b), the
    same value, so that r = -0 gives -0 (expm1(-0) = -0) where -0 + (+0) would be +0."""
    r2 = r * r
    r4 = r2 * r2
    a = r2 * (_EXP_P[0] + _EXP_P[1] * r)
    b = r4 * (_EXP_P[2] + _EXP_P[3] * r) + (r4 * r2) * (_EXP_P[4] + _EXP_P[5] * r)
    return r - ((0.0 - a) - b)


def _exp_small(r):
    """e^r for |r| <= ln 2 / 2: 1 + (e^r - 1), the rounding near 1 last."""
    return 1.0 + _exp_m1(r)


def _one_plus_exp(r, p2):
    """1 + e^r 2^n (never NaN: e^r > 0, so 2^n = inf gives inf)."""
    return 1.0 + p2 * _exp_small(r)


def _over_one_plus_exp(x, r, p2):
    return x / _one_plus_exp(r, p2)


def _exp_of_parts(r, p2):
    return _exp_small(r) * p2


def _logistic_of_parts(r, p2):
    return 1.0 / _one_plus_exp(r, p2)


_SILU_BOUND_BITS = 0x42C80000  # 100.0: e^100 is past float32's range, so -x is bounded without changing a value
_GELU_Y1, _GELU_Y3 = -2.0 * _GELU_K, -2.0 * _GELU_K * _GELU_C  # -2u = x (_GELU_Y1 + _GELU_Y3 x^2)
_GELU_TANH_BOUND_BITS = 0x41280000  # 10.5: -2u(10.5) = -99.4 and 2u(-10.5) = 99.4, both past float32's exp range
def _tracing_compile():
    """Whether mlx_compat.compile is tracing a function now (its module sets _TRACE for the trace's duration)."""
    mod = sys.modules.get("mlx_compat._compile")
    return mod is not None and mod._TRACE is not None


class _Stage:
    """One stage of Note [CPU kernels MLX vectorises]: fn compiled per shape. Called while mlx_compat.compile traces
    a function, the stage's graph is inlined into that trace, where MLX would fuse the stages together again past
    its depth; so its outputs then pass through mx.contiguous, a primitive MLX does not fuse and that copies
    nothing for a contiguous array, and each stage stays one kernel there too (ViT-B/16's compiled inference:
    47.9 ms without, eager 42.8)."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = mx.compile(fn)

    def __call__(self, *args):
        out = self.fn(*args)
        if not _tracing_compile():
            return out
        return tuple(mx.contiguous(o) for o in out) if isinstance(out, tuple) else mx.contiguous(out)


_silu_clamp_c = _Stage(lambda xi: _clamped_bits(xi, _SILU_BOUND_BITS))
_gelu_tanh_clamp_c = _Stage(lambda xi: _clamped_bits(xi, _GELU_TANH_BOUND_BITS))
_silu_reduction_c = _Stage(lambda xc: _exp_reduction(-xc))
_gelu_tanh_reduction_c = _Stage(lambda xc: _exp_reduction(xc * (_GELU_Y1 + _GELU_Y3 * (xc * xc))))  # -2u
_pow2_bits_c = _Stage(_pow2_bits)
_over_one_plus_exp_c = _Stage(_over_one_plus_exp)
_exp_of_parts_c = _Stage(_exp_of_parts)
_logistic_of_parts_c = _Stage(_logistic_of_parts)


def _saturated_exp_parts(x, clamp, reduction):
    """(r, 2^n) with e^y(x) = e^r 2^n for y(x) = reduction's argument of x clamped (Note [CPU kernels MLX
    vectorises]): three kernels."""
    n, r = reduction(clamp(x.view(mx.int32)).view(mx.float32))
    return r, _pow2_bits_c(n).view(mx.float32)


def silu(x):
    """torch's silu(x) of a float32 array, x / (1 + e^-x), Note [CPU silu]: four kernels."""
    return _over_one_plus_exp_c(x, *_saturated_exp_parts(x, _silu_clamp_c, _silu_reduction_c))


def _silu_backward_finish(x, g, s):
    return g * (s * (1.0 + x * (1.0 - s)))


_silu_backward_finish_c = _Stage(_silu_backward_finish)


def silu_backward(x, g):
    """g times the derivative of silu at x (float32 arrays), torch's formula, Note [CPU silu]: five kernels."""
    s = _logistic_of_parts_c(*_saturated_exp_parts(x, _silu_clamp_c, _silu_reduction_c))
    return _silu_backward_finish_c(x, g, s)


def gelu_tanh(x):
    """torch's gelu(x, approximate='tanh') of a float32 array, Note [CPU tanh gelu]: four kernels."""
    return _over_one_plus_exp_c(x, *_saturated_exp_parts(x, _gelu_tanh_clamp_c, _gelu_tanh_reduction_c))


def _gelu_tanh_backward_finish(x, g, e):
    s = 1.0 / (1.0 + e)
    q = 1.0 / (1.0 + 1.0 / e)  # e s, also at e = 0 and inf (Note [Selects in CPU kernels])
    du = _GELU_K * (1.0 + 3.0 * _GELU_C * (x * x))
    return g * (s * (1.0 + 2.0 * x * du * q))


_gelu_tanh_backward_finish_c = _Stage(_gelu_tanh_backward_finish)


def gelu_tanh_backward(x, g):
    """g times the derivative of gelu_tanh at x (float32 arrays), Note [CPU tanh gelu]: five kernels."""
    e = _exp_of_parts_c(*_saturated_exp_parts(x, _gelu_tanh_clamp_c, _gelu_tanh_reduction_c))
    return _gelu_tanh_backward_finish_c(x, g, e)


# Q(a) e^(a^2 / 2) = R(t) with t = 1 / (1 + _GAUSS_P a), for a in [0, _GAUSS_CLAMP]: R's coefficients from the
# constant term up (fitted in float64 by iteratively reweighted least squares for the least largest relative error,
# 4.7e-8, then rounded to float32; Note [CPU exact gelu])
_GAUSS_R = (-4.462637662072666e-06, 0.11967536807060242, 0.12064223736524582, 0.09948551654815674,
            0.1316339671611786, -0.061167046427726746, 0.21557073295116425, -0.1629607230424881, 0.037124425172805786)
_GAUSS_P = 0.3
_GAUSS_CLAMP = 13.5  # |x| beyond it: e^(-x^2 / 2) is below 2^-127, built as +0 (Note [CPU exact gelu])
_GAUSS_CLAMP_BITS = 0x41580000  # 13.5's float32 bits
_INV_SQRT_2PI = 0.3989422804014327


def _estrin(c, t):
    """c[0] + c[1] t + ... + c[8] t^8 in five levels (Horner's sixteen would exceed MLX's fusion depth)."""
    t2 = t * t
    t4 = t2 * t2
    low = (c[0] + c[1] * t) + (c[2] + c[3] * t) * t2
    high = (c[4] + c[5] * t) + (c[6] + c[7] * t) * t2
    return (low + high * t4) + c[8] * (t4 * t4)


def _gauss_and_tail(a, r, p2):
    """(e^(-a^2 / 2), Q(a)) from _exp_reduction's r and 2^n: the first is an input of the second, so both are one
    kernel's outputs."""
    e = _exp_of_parts(r, p2)
    return e, _estrin(_GAUSS_R, 1.0 / (1.0 + _GAUSS_P * a)) * e


def _tail(a, r, p2):
    return _gauss_and_tail(a, r, p2)[1]


def _gelu_from_tail(x, xi, q):
    w = _sign_weight(xi)
    return x * (w + q * (1.0 - 2.0 * w))  # x Phi(x): Phi is 1 - Q(|x|) for x >= 0 and Q(|x|) below


def _gelu_derivative_from_tail(x, xi, q, e):
    w = _sign_weight(xi)
    return (w + q * (1.0 - 2.0 * w)) + x * (e * _INV_SQRT_2PI)


_abs_clamped_bits_c = _Stage(lambda xi: _abs_clamped_bits(xi, _GAUSS_CLAMP_BITS))
_gauss_reduction_c = _Stage(lambda a: _exp_reduction((a * a) * -0.5))  # a <= _GAUSS_CLAMP bounds it
_tail_c = _Stage(_tail)
_gauss_and_tail_c = _Stage(_gauss_and_tail)
_gelu_from_tail_c = _Stage(_gelu_from_tail)
_gelu_derivative_from_tail_c = _Stage(_gelu_derivative_from_tail)


def _gauss_parts(x):
    """(|x| clamped, r, 2^n) of Note [CPU exact gelu]'s first three kernels."""
    a = _abs_clamped_bits_c(x.view(mx.int32)).view(mx.float32)
    n, r = _gauss_reduction_c(a)
    return a, r, _pow2_bits_c(n).view(mx.float32)


def gelu_erf(x):
    """torch's gelu(x) (approximate='none') of a float32 array, Note [CPU exact gelu]: five kernels."""
    return _gelu_from_tail_c(x, x.view(mx.int32), _tail_c(*_gauss_parts(x)))


def gelu_erf_with_derivative(x):
    """(gelu(x), its derivative at x) of a float32 array, Note [CPU exact gelu]: six kernels."""
    e, q = _gauss_and_tail_c(*_gauss_parts(x))
    xi = x.view(mx.int32)
    return _gelu_from_tail_c(x, xi, q), _gelu_derivative_from_tail_c(x, xi, q, e)


# Note [Shapeless CPU transcendentals]
# torch.exp, expm1, sigmoid, tanh, softmax and log_softmax of a float32 tensor on the CPU, from GENERIC_MIN_ELEMENTS
# elements on, run on Note [CPU exponential]'s arithmetic instead of MLX's per-element libm calls (on 256 x 4096, one
# thread: mx.exp 16.7 ms, sigmoid 19.3, tanh 22.3, softmax 18.5 against torch's 1.5, 0.55, 3.5, 0.93). Unlike the
# training activations above (compiled per shape inside their callers' graphs), a generic op sees any shape, so these
# were compiled shapeless: one trace per rank and dtype, none per shape. exp, expm1, sigmoid and tanh have since moved
# to per-size stages (Note [Per-size CPU transcendentals]: a shapeless trace broadcasts every operand and fragments the
# kernels, Note [CPU kernels MLX vectorises]), and softmax and log_softmax take their exp (of x minus the row maximum,
# MLX's broadcasting subtract); what follows describes the first design. The bit cast that builds 2^n has no shape rule,
# so it stays outside the traces: the part before it and the part after it are each one shapeless compiled function (one
# fused kernel each), and the view between them is MLX's (no copy). The C core calls them for its registry's exp, expm1,
# sigmoid and tanh (an Op's forward_cpu, csrc/dispatch.c) and its softmax/log_softmax fast path (csrc/reduce.c), with
# the stream of the tensor's device, and only for float32 inputs on the CPU device. sigmoid is torch's 1 / (1 + e^-x);
# tanh is -expm1(-2|x|) / (2 + expm1(-2|x|)) with x's sign, expm1(y) = 2^n (e^r - 1) + (2^n - 1) from the same reduction
# (exact where torch's 1 - t^2-style formulas cancel: near 0 it is e^r - 1 itself; torch.expm1 takes that expm1);
# softmax and log_softmax shift by the row maximum as torch's kernels do (a row holding inf or only -inf gives NaN
# there, as in torch). Under an outer shapeless trace (compile(dynamic=True)) the bit cast fails that trace and _compile
# falls back to per-shape graphs (Note [Dynamic shapes]). The threshold is lower than MIN_ELEMENTS (whose callers add
# the arithmetic to graphs that are compiled per shape anyway): one evaluation of an op alone, MLX's against these, was
# 43 / 62 us at 512 elements (exp), 115 / 100 at 4,096, 143 / 83 at 8,192 and 258 / 130 at 16,384 (sigmoid and tanh
# alike, softmax breaking even later).
GENERIC_MIN_ELEMENTS = 1 << 13


def _expm1_small(q, p):
    """expm1(n ln 2 + r) = 2^n (e^r - 1) + (2^n - 1) from q = e^r - 1 and p = 2^n: both parts exact for |n| <= 24,
    so only the sum rounds, and it does not cancel near 0 (n = 0: q itself, -0 included: q - (+0) keeps its sign
    where q + (+0) would not)."""
    return q * p - (1.0 - p)


def _log_softmax_finish(x, m, log_total):
    return (x - m) - log_total


_log_softmax_finish_any = mx.compile(_log_softmax_finish, shapeless=True)


def _on(stream):
    return mx.stream(stream) if stream is not None else contextlib.nullcontext()


# Note [Per-size CPU transcendentals]
# exp, expm1, sigmoid, tanh and erf of a float32 tensor of any shape (the registry's forward_cpu) run as Note [CPU
# kernels MLX vectorises]' stages instead of the two shapeless halves of Note [Shapeless CPU transcendentals] (whose
# traces broadcast every operand, and whose float clamps keep the loops scalar): four or five kernels, on the tensor
# flattened to one dimension (a view where it is contiguous; a transposed one is copied first). A stage compiled per
# shape keeps one graph per shape it meets, so each flat size gets its own set of compiled functions (fresh closures, so
# fresh MLX cache keys), the last _PER_SIZE_LIMIT sizes kept; a dropped set's compiled functions release MLX's cache
# entries with them (MLX erases a compiled function's graphs when the function is freed). A size met for the first time
# costs its traces (about 1 ms); the kernels themselves are compiled once (their names carry no size). x is clamped on
# its bits to [-100, 100] for exp and sigmoid (e^100 is past float32's range), to [-100, 89] for expm1 (so 2^n stays
# finite and its two formulas can be mixed) and |x| to 10 for tanh (tanh(9.1) is 1 in float32), so the reduction needs
# no clamp; 2^n is built from n as an integer: n = 128 (just below ln of the largest float) as 2^127 times 2, which the
# last kernel multiplies back, and past it +inf (sigmoid: +inf from 128 on, where torch's value is below 6e-39); from n
# = -127 down +0; a NaN x gives a NaN 2^n, so the result is NaN whatever the clamp made of x. tanh is sign(x)
# -expm1(-2|x|) / (2 + expm1(-2|x|)) as before, its sign from x's sign bit; expm1's small and large formulas are mixed
# by a 0/1 weight from n as an integer. Zeros keep their sign (tanh(-0) = expm1(-0) = -0: e^r - 1 is summed as r - ((0 -
# a) - b), ln 2's low part is positive). Against float64 on 1M normal values times 1, 8 and 40, largest error in units
# in the last place (the shapeless version, torch): exp 0.84-0.94 (0.86-0.94, 0.55), expm1 1.40-1.49 (1.40-1.41,
# 0.52-1.00), sigmoid 1.98-2.33 (1.98-2.42, 1.98-2.33), tanh 2.47-2.50 (the same, 0.50). One thread, ms, the shapeless
# version and these interleaved: 256 x 4096 exp 3.6 -> 2.5 (torch 1.0), sigmoid 3.9 -> 2.3 (0.73), tanh 4.2 -> 2.9
# (3.8); 8 x 128 x 512 1.26-1.52x; at 38,400 and 16,384 elements even (0.95-1.21x). A new size's first call costs ~0.7
# ms more (its traces). erf (it had only MLX's per-element erf and an accurate composition with selects) is z A(z^2)
# below |z| = 1 and 1 - erfc(|z|) above, erfc from Note [CPU exact gelu]'s tail, mixed by a weight from |z|'s bits, |z|
# clamped to 4 (erf is 1 there in float32): five kernels, within 3.1 units in the last place (the inner polynomial in
# float32; torch 0.7), 256 x 4096 148 -> 5.3 ms (MLX's erf 46, torch 1.6).
_PER_SIZE_LIMIT = 32
_NAN_BITS = 0x7FC00000


def _nan_mask(xi):
    """1 where the float bits xi are a NaN's, else 0 (int32, from integer min/max: no comparison)."""
    return mx.minimum(mx.maximum(mx.bitwise_and(xi, 0x7FFFFFFF) - 0x7F800000, 0), 1)


def _keep_nan(bits, xi):
    """bits made a NaN's where x's bits xi are a NaN's (bits | the quiet NaN's: exponent all ones, mantissa not 0)."""
    return mx.bitwise_or(bits, _nan_mask(xi) * _NAN_BITS)


def _leaky_factor(xi, slope):
    """1 where x's sign bit is clear, slope where set (Note [CPU activation values])."""
    w = _sign_weight(xi)
    return w + (1.0 - w) * slope


def _pow2_nan_bits(n, xi):
    """The int32 bits of 2^(n - s), s = 1 where n = 128 else 0 (+0 from n <= -127, +inf from n >= 129), NaN where
    x's bits xi are a NaN's (Note [Per-size CPU transcendentals])."""
    ni = n.astype(mx.int32)
    e = ni - mx.minimum(mx.maximum(ni - 127, 0), 1)
    return _keep_nan(mx.left_shift(mx.minimum(mx.maximum(e, -127), 128) + 127, 23), xi)


def _pow2_nan_bits_saturating(n, xi):
    """The int32 bits of 2^n (+0 from n <= -127, +inf from n >= 128 on: where a logistic no longer needs the value),
    NaN where x's bits xi are a NaN's."""
    return _keep_nan(_pow2_bits(n), xi)


def _twice(n):
    """1 + s of _pow2_nan_bits: 2.0 where n = 128, else 1.0."""
    return (1 + mx.minimum(mx.maximum(n.astype(mx.int32) - 127, 0), 1)).astype(mx.float32)


def _exp_finish(r, n, p2):
    return (_exp_small(r) * _twice(n)) * p2


def _sigmoid_finish(r, p2):
    return _logistic_of_parts(r, p2)  # p2 = +inf from n = 128 on: 0, where torch's is below 6e-39


def _expm1_negative(r, p2):
    """expm1(n ln 2 + r) for n <= 0 from r and 2^n (_expm1_small)."""
    return _expm1_small(_exp_m1(r), p2)


def _expm1_finish(q, n, p2):
    # up to n = 24 _expm1_small (exact parts, one rounding); from 25 on e^x - 1 rounds as e^x does: e^x, then minus
    # 1. Mixed by a 0/1 weight from n as an integer (Note [Selects in CPU kernels]); x is clamped to [-100, 89], so
    # 2^(n - s) is finite (s: _pow2_nan_bits) and each side is finite where the other is chosen.
    # (1 - big) S - (0 - big B): S or B exactly, and -0 (x = -0) kept, where adding big B = +0 would lose it
    big = mx.minimum(mx.maximum(n.astype(mx.int32) - 24, 0), 1).astype(mx.float32)
    return (1.0 - big) * _expm1_small(q, p2) - (0.0 - big * ((q + 1.0) * p2 * _twice(n) - 1.0))


def _tanh_finish(em1, xi):
    return _sign_of(xi) * (-em1 / (2.0 + em1) + 0.0)  # em1 = expm1(-2|x|); + 0.0: -0 becomes +0, so only x's sign shows


_GENERIC_STAGES = {
    "clamp": lambda xi: _clamped_bits(xi, _SILU_BOUND_BITS),
    "clamp_expm1": lambda xi: _clamped_bits(xi, 0x42B20000, _SILU_BOUND_BITS),  # [-100, 89]
    "abs_clamp": lambda xi: _abs_clamped_bits(xi, 0x41200000),  # min(|x|, 10)
    "reduce": _exp_reduction,
    "reduce_neg": lambda xc: _exp_reduction(-xc),
    "reduce_tanh": lambda a: _exp_reduction(-2.0 * a),
    "pow2": _pow2_nan_bits,
    "pow2_saturating": _pow2_nan_bits_saturating,
    "exp": _exp_finish,
    "sigmoid": _sigmoid_finish,
    "expm1_negative": _expm1_negative,
    "expm1_parts": _exp_m1,
    "expm1": _expm1_finish,
    "tanh": _tanh_finish,
    "leaky_relu": lambda x, xi, slope: x * _leaky_factor(xi, slope),
    "clamp3": lambda xi: _keep_nan(_clamped_bits(xi, 0x40400000), xi),  # [-3, 3], NaN kept
    "hardsigmoid": lambda xc: (xc + 3.0) / 6.0,
    "nonnegative_part": lambda xi: _key_bits(mx.maximum(_bits_key(xi), -1)),  # x from +0 up, else -0
    "nonpositive_part": lambda xi: _key_bits(mx.minimum(_bits_key(xi), -1)),  # x from -0 down, else -0
    "times": lambda v, c: v * c,
    "elu": lambda pos, em1, scale, negcoef: pos * scale + negcoef * em1,
    "erf_abs": lambda xi: _keep_nan(_abs_clamped_bits(xi, 0x40800000), xi),  # min(|x|, 4), NaN kept
    "reduce_erfc": lambda a: _exp_reduction(-(a * a)),
    "erfc_tail": lambda a, r, p2: 2.0 * (_estrin(_GAUSS_R, 1.0 / (1.0 + (_GAUSS_P * _SQRT2) * a)) *
                                         _exp_of_parts(r, p2)),
    "erf": lambda a, ai, erfc, xi: _erf_finish(a, ai, erfc, xi),
    "abs100": lambda xi: _keep_nan(_abs_clamped_bits(xi, _SILU_BOUND_BITS), xi),  # min(|x|, 100), NaN kept
    "exp_of_parts": _exp_of_parts,
    "min0": lambda xi: _key_bits(mx.minimum(_bits_key(xi), 0)),  # x up to -0, +0 from +0 up (logsigmoid(inf) = +0)
    "plus_log1p": lambda part, u: part + _log1p_unit(u),
    "minus_log1p": lambda part, u: part - _log1p_unit(u),
}
_per_size = collections.OrderedDict()


def _stages_for(size):
    """The compiled stages for flat arrays of `size` elements (Note [Per-size CPU transcendentals])."""
    st = _per_size.get(size)
    if st is None:
        st = {k: _Stage(lambda *a, _f=f: _f(*a)) for k, f in _GENERIC_STAGES.items()}
        _per_size[size] = st
        if len(_per_size) > _PER_SIZE_LIMIT:
            _per_size.popitem(last=False)
    else:
        _per_size.move_to_end(size)
    return st


def _exp_stages(x, clamp, reduce, pow2):
    """(stages, x's bits flat, n, r, 2^n) of Note [Per-size CPU transcendentals]: three kernels."""
    flat = x.reshape(-1)
    xi = flat.view(mx.int32)
    st = _stages_for(flat.size)
    n, r = st[reduce](st[clamp](xi).view(mx.float32))
    return st, xi, n, r, st[pow2](n, xi).view(mx.float32)


def exp_any(x, stream=None):
    """e^x of a float32 array of any shape (Note [Per-size CPU transcendentals]): four kernels."""
    with _on(stream):
        st, _, n, r, p2 = _exp_stages(x, "clamp", "reduce", "pow2")
        return st["exp"](r, n, p2).reshape(x.shape)


def sigmoid_any(x, stream=None):
    """torch's sigmoid, 1 / (1 + e^-x), of a float32 array of any shape (Note [Per-size CPU transcendentals]): four
    kernels."""
    with _on(stream):
        st, _, _, r, p2 = _exp_stages(x, "clamp", "reduce_neg", "pow2_saturating")
        return st["sigmoid"](r, p2).reshape(x.shape)


def tanh_any(x, stream=None):
    """tanh of a float32 array of any shape (Note [Per-size CPU transcendentals]): five kernels."""
    with _on(stream):
        st, xi, _, r, p2 = _exp_stages(x, "abs_clamp", "reduce_tanh", "pow2_saturating")
        return st["tanh"](st["expm1_negative"](r, p2), xi).reshape(x.shape)


# erf(z) = z A(z^2) for |z| < 1 (A fitted in float64 for the least largest relative error, 1.2e-9, rounded to
# float32), and 1 - erfc(|z|) with erfc(a) = 2 Q(a sqrt 2) from Note [CPU exact gelu]'s tail beyond
_ERF_A = (1.1283791065216064, -0.3761262595653534, 0.1128358542919159, -0.026853814721107483, 0.005188335198909044,
          -0.0008010261808522046, 7.854100840631872e-05)
_SQRT2 = 1.4142135623730951


def _erf_finish(a, ai, erfc, xi):
    """erf from |z| (clamped to 4, where erf is 1 in float32; NaN kept), its bits, erfc(|z|) and z's bits: the two
    formulas mixed by a 0/1 weight from |z|'s bits (|z| < 1), the sign from z's sign bit (erf(-0) = -0)."""
    s = a * a
    s2 = s * s
    correction = (((_ERF_A[1] + _ERF_A[2] * s) + (_ERF_A[3] + _ERF_A[4] * s) * s2) +
                  (_ERF_A[5] + _ERF_A[6] * s) * (s2 * s2))
    inner = a * _ERF_A[0] + (a * s) * correction  # the leading term alone, the small rest added once
    m = mx.minimum(mx.maximum(0x3F800000 - ai, 0), 1).astype(mx.float32)  # 1 where |z| < 1
    return _sign_of(xi) * (m * inner + (1.0 - m) * (1.0 - erfc))


def erf_any(x, stream=None):
    """erf of a float32 array of any shape (Note [Per-size CPU transcendentals]): five kernels, against MLX's
    per-element erf and the accurate composition's selects."""
    with _on(stream):
        flat = x.reshape(-1)
        xi = flat.view(mx.int32)
        st = _stages_for(flat.size)
        ai = st["erf_abs"](xi)
        a = ai.view(mx.float32)
        n, r = st["reduce_erfc"](a)
        p2 = st["pow2"](n, xi).view(mx.float32)
        return st["erf"](a, ai, st["erfc_tail"](a, r, p2), xi).reshape(x.shape)


# log1p(u) for u in [0, 1] as 2 atanh(w), w = u / (2 + u) in [0, 1/3]: 2 w (1 + v/3 + v^2/5 + ... + v^7/15), v = w^2
# (Taylor's, truncated where the next term is below 1.5e-9 of the sum)
_ATANH_S = (1.0, 1.0 / 3.0, 0.2, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0, 1.0 / 13.0, 1.0 / 15.0)


def _log1p_unit(u):
    """log1p(u) for u in [0, 1] (NaN kept)."""
    w = u / (2.0 + u)
    v = w * w
    v2 = v * v
    s = (((_ATANH_S[0] + _ATANH_S[1] * v) + (_ATANH_S[2] + _ATANH_S[3] * v) * v2) +
         ((_ATANH_S[4] + _ATANH_S[5] * v) + (_ATANH_S[6] + _ATANH_S[7] * v) * v2) * (v2 * v2))
    return (2.0 * w) * s


def _log1p_parts(x):
    """(stages, x's bits flat, e^-|x|) for softplus and logsigmoid: |x| clamped to 100 (e^-100 is +0; NaN kept)."""
    st, xi, _, r, p2 = _exp_stages(x, "abs100", "reduce_neg", "pow2_saturating")
    return st, xi, st["exp_of_parts"](r, p2)


def softplus_any(x):
    """torch's softplus values (beta 1, threshold 20) of a float32 array of any shape on the current stream, as
    max(x, 0) + log1p(e^-|x|) (Note [CPU activation values]): six kernels. From x = 17 on the second term is below
    half a unit of x, so x itself comes out, as torch's threshold gives it."""
    st, xi, u = _log1p_parts(x)
    return st["plus_log1p"](st["nonnegative_part"](xi).view(mx.float32), u).reshape(x.shape)


def logsigmoid_any(x):
    """torch's logsigmoid values of a float32 array of any shape on the current stream, min(x, 0) - log1p(e^-|x|)
    (Note [CPU activation values]): six kernels."""
    st, xi, u = _log1p_parts(x)
    return st["minus_log1p"](st["min0"](xi).view(mx.float32), u).reshape(x.shape)


def leaky_relu_any(x, slope):
    """torch's leaky_relu values, x * (1 or slope by x's sign bit), of a float32 array of any shape on the current
    stream (Note [CPU activation values]): one kernel, torch's bits."""
    flat = x.reshape(-1)
    return _stages_for(flat.size)["leaky_relu"](flat, flat.view(mx.int32), slope).reshape(x.shape)


def hardsigmoid_any(x):
    """torch's hardsigmoid values, min(max(x + 3, 0), 6) / 6 as (x clamped to [-3, 3] on its bits + 3) / 6 (the
    same bits; NaN kept), of a float32 array of any shape on the current stream (Note [CPU activation values]): two
    kernels."""
    flat = x.reshape(-1)
    st = _stages_for(flat.size)
    return st["hardsigmoid"](st["clamp3"](flat.view(mx.int32)).view(mx.float32)).reshape(x.shape)


def elu_any(x, alpha, scale, input_scale):
    """torch's elu values (selu and celu too: x scale from +0 up, alpha scale expm1(x input_scale) from -0 down) of
    a float32 array of any shape on the current stream (Note [CPU activation values]): x's two parts from its bits
    (each exact, the other side -0, so their sum is one of them, -0 and NaN included) and expm1 of the negative one
    by Note [Per-size CPU transcendentals]; the coefficients rounded to float32 as torch's kernel takes them."""
    flat = x.reshape(-1)
    xi = flat.view(mx.int32)
    st = _stages_for(flat.size)
    negative = st["nonpositive_part"](xi).view(mx.float32)
    is32 = float(np.float32(input_scale))
    _, _, n, r, p2 = _exp_stages(negative if is32 == 1.0 else st["times"](negative, is32), "clamp_expm1",
                                   "reduce", "pow2")
    em1 = st["expm1"](st["expm1_parts"](r), n, p2)
    negcoef = float(np.float32(alpha) * np.float32(scale))
    return st["elu"](st["nonnegative_part"](xi).view(mx.float32), em1, float(np.float32(scale)),
                     negcoef).reshape(x.shape)


def expm1_any(x, stream=None):
    """e^x - 1 of a float32 array of any shape, from the same reduction without cancelling near 0 (Note [Per-size
    CPU transcendentals]): five kernels."""
    with _on(stream):
        st, _, n, r, p2 = _exp_stages(x, "clamp_expm1", "reduce", "pow2")
        return st["expm1"](st["expm1_parts"](r), n, p2).reshape(x.shape)


def _blend(c, a, b):
    mask = -(c.astype(mx.int32))  # all bits set where c holds
    return (a & mask) | (b & ~mask)


_blend_any = mx.compile(_blend, shapeless=True)
_WHERE_DTYPES = (mx.float32, mx.int32, mx.uint32)


def where_any(c, a, b, stream=None):
    """mx.where(c, a, b) of 4-byte arrays (a Python number for one of them takes the other's dtype) by their bits,
    Note [Selects in CPU kernels]: MLX's CPU select branches per element (256 x 4096 with a random condition:
    5 ms, against 0.8 for this). None when the operands are not such arrays (the caller then selects itself)."""
    dt = a.dtype if isinstance(a, mx.array) else b.dtype if isinstance(b, mx.array) else None
    if dt not in _WHERE_DTYPES or c.dtype != mx.bool_:
        return None
    with _on(stream):
        a = a if isinstance(a, mx.array) else mx.array(a, dtype=dt)
        b = b if isinstance(b, mx.array) else mx.array(b, dtype=dt)
        if a.dtype != dt or b.dtype != dt:
            return None
        if dt != mx.int32:
            a, b = a.view(mx.int32), b.view(mx.int32)
        r = _blend_any(c, a, b)
        return r if dt == mx.int32 else r.view(dt)


def where(c, a, b):
    """mx.where(c, a, b) on the current default device; a large 4-byte one on the CPU by its bits (where_any, Note
    [Selects in CPU kernels]: the same values)."""
    if getattr(c, "size", 0) >= GENERIC_MIN_ELEMENTS and mx.default_device() == mx.cpu:
        r = where_any(c, a, b)
        if r is not None:
            return r
    return mx.where(c, a, b)


# Note [Whole sums on the CPU]
# MLX's CPU sum over a contiguous run adds one element at a time into one float accumulator: 1M float32 values
# take 0.93-0.96 ms (torch: 0.05), and the sum of 1M values of mean 0.3 and variance 1 was off by 0.68 (torch's
# cascade sum by 0.009; here by 0.04). Summed down the columns of a (rows, 4096) view instead, MLX's kernel adds 4096
# independent accumulators, which vectorises (0.22-0.33 ms), and the 4096 column sums are added the same way as a
# (64, 64) block, then the elements past the last whole row. A sum along the last dim likewise: each row of L
# elements as (L / 16, 16), down its 16 columns, then across them (256 x 4096: 0.94 -> 0.37-0.40 ms; 64 x 50240:
# 2.80 -> 1.04-1.11), for rows of a multiple of 16 elements from 256 on. A float32 sum or mean of a CPU tensor from
# GENERIC_MIN_ELEMENTS elements on, whole (dim=None) or along its last dim, takes these (csrc/ops.c's reduce_impl);
# other reductions keep MLX's. The mean divides the sum by the count, as torch's does.
_SUM_COLUMNS = 4096
_ROW_LANES = 16


def sum_all(x, axis, keepdims, mean, stream=None):
    """sum (or mean) of float32 array x over all of it (axis None) or its last dim (axis x.ndim - 1, of a multiple of
    16 elements from 256 on), in columns (Note [Whole sums on the CPU]); None for other reductions (MLX's own)."""
    n = x.size
    if axis is None:
        with _on(stream):
            flat = x.reshape(-1)
            rows = n // _SUM_COLUMNS
            cols = mx.sum(flat[:rows * _SUM_COLUMNS].reshape(rows, _SUM_COLUMNS), axis=0)
            s = mx.sum(mx.sum(cols.reshape(64, _SUM_COLUMNS // 64), axis=0))  # the column sums in columns too
            if rows * _SUM_COLUMNS < n:
                s = s + mx.sum(flat[rows * _SUM_COLUMNS:])
            if mean:
                s = s / n
            return s.reshape((1,) * x.ndim) if keepdims else s
    length = x.shape[-1] if x.ndim else 0
    if not isinstance(axis, int) or axis != x.ndim - 1 or length < 256 or length % _ROW_LANES:
        return None
    with _on(stream):
        lanes = mx.sum(x.reshape(*x.shape[:-1], length // _ROW_LANES, _ROW_LANES), axis=-2)
        s = mx.sum(lanes, axis=-1, keepdims=keepdims)
        return s / length if mean else s


def big_float32_on_cpu(x):
    """Whether MLX array x, in a forward running on the current default device, is float32 on MLX's CPU with at
    least GENERIC_MIN_ELEMENTS elements."""
    return x.dtype == mx.float32 and x.size >= GENERIC_MIN_ELEMENTS and mx.default_device() == mx.cpu


def on_cpu(stream):
    """Whether a forward called with `stream=` (a device or stream, None for the default device) runs on MLX's CPU."""
    return (mx.default_device() if stream is None else getattr(stream, "device", stream)) == mx.cpu


def _row_exp(x, axis):
    """(row max m, e^(x - m)): x - m by MLX's broadcasting subtract, its exp by Note [Per-size CPU transcendentals]
    (the shapeless halves of x - m and its exp were slower: 10.1 against 7.2 ms for a 256 x 4096 softmax)."""
    m = mx.max(x, axis=axis, keepdims=True)
    return m, exp_any(x - m)


def softmax_any(x, axis, stream=None):
    """softmax of a float32 array along `axis` (Note [Shapeless CPU transcendentals])."""
    with _on(stream):
        _, e = _row_exp(x, axis)
        return e / mx.sum(e, axis=axis, keepdims=True)


def log_softmax_any(x, axis, stream=None):
    """log_softmax of a float32 array along `axis` (Note [Shapeless CPU transcendentals])."""
    with _on(stream):
        m, e = _row_exp(x, axis)
        # the log of each row's sum outside the fused kernel, which would take it once per element
        return _log_softmax_finish_any(x, m, mx.log(mx.sum(e, axis=axis, keepdims=True)))


_C._register_cpu_math(GENERIC_MIN_ELEMENTS, softmax_any, log_softmax_any, where_any, sum_all)
