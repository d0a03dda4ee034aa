"""gamma-family and special functions: digamma, lgamma, polygamma, mvlgamma, igamma(c), nextafter (exported at top
level) and torch.special's own operators (entr, erfcx, ndtri, log_ndtr, ndtr, i0e/i1/i1e, the Bessel and Airy
functions, xlog1py, zeta, the orthogonal polynomials). digamma, lgamma, nextafter, igamma/igammac and the
torch.special primitives are declared in the operator registry (Note [Operator registry] in csrc/dispatch.c; the
special ones function-only: Note [torch.special primitives]); polygamma, mvlgamma and ndtr are Python functions.

MLX has none of these kernels, so each is composed from MLX ops (the mathematics is in each kernel's comment).

Note [special functions computed in float64]
Every kernel here evaluates in float64 on the CPU stream whatever the input's float dtype, then rounds to the
result dtype: series with alternating terms, recurrence shifts and argument reductions keep full float32 accuracy
that way (torch's float32 kernels are within a few ulps of the true value, so we match them to ~1e-7), and float64
inputs get float64-accurate results. exp/sin/cos come from _ops/precise.py (MLX's float64 versions are float32-accurate).
Two exceptions reproduce torch's own float32 rounding where it exceeds 1e-5 relative: the orthogonal polynomials
(Note [orthogonal polynomial evaluation]) and float32 trigamma (Note [torch's float32 trigamma]); float32 I0/I1
also overflow where torch's do (Note [float32 I0/I1 overflow]).

Note [special function derivatives]
Derivatives are torch's formulas written with this module's own differentiable ops (digamma' = polygamma(1),
lgamma' = digamma, polygamma(n)' = polygamma(n + 1), ...), so higher orders work. Where torch has no derivative
at all (Bessel functions J/Y/K, Airy, the polynomials) the result does not require grad, as torch's; where it has
none for one argument (zeta w.r.t. x, igamma/igammac w.r.t. a) backward raises NotImplementedError as torch's
does, instead of returning a gradient of our approximation.
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _C, _dtype
from . import precise as _precise
from ..autograd._derivatives import record
from .creation import _out
from .._methods import declare_methods
from .elementwise import (_float_dtype, _grad_on, _i0e_core, _log_ndtr_mx, _ndtri_mx, _need_tensor, _opmath, _poly,
                          _RA, _RB, _SA, _SB, erfc_mx)
from .._tensor import Tensor, _new, _mx_item
from .operators import _rule, binary, binary_forward
from .pointwise import COMPLEX, HALF, INT_TO_FLOAT, refusal, unary

__all__ = ["digamma", "lgamma", "polygamma", "mvlgamma", "igamma", "igammac", "nextafter"]

_F64 = mx.float64
_EULER = 0.57721566490153286061
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_MACHEP = 1.11022302462515654042e-16


# ---------------------------------------------------------------- helpers


def _in64(fn):
    """fn (float64 kernels) applied to float arrays of any float dtype, result in the first array's dtype
    (Note [special functions computed in float64])."""

    def run(*vs):
        with mx.stream(mx.cpu):
            out_dt = vs[0].dtype
            r = fn(*[v.astype(_F64) for v in vs])
            return r.astype(out_dt)

    return run


def _sinpi(x):
    """sin(pi x) with exact argument reduction (zero at the integers)."""
    r = x - 2 * mx.round(x / 2)  # in [-1, 1]
    s = _precise.sin(math.pi * r)
    return mx.where(x == mx.floor(x), 0.0, s)


def _tanpi(x):
    r = x - mx.round(x)  # tan has period pi
    return mx.tan(math.pi * r)


def _cotpi(x):
    """cot(pi x) with exact reduction: 1 / tan(pi r) for |r| <= 1/4, tan(pi (1/2 - |r|)) (exact argument by
    Sterbenz's lemma) beyond, so cot is exactly 0 at the half-integers."""
    r = x - mx.round(x)
    ar = mx.abs(r)
    near = ar <= 0.25
    t = mx.tan(math.pi * mx.where(near, r, 0.25))
    c_near = 1 / mx.where(t == 0, 1.0, t)
    c_far = mx.tan(math.pi * (0.5 - mx.where(near, 0.5, ar)))
    c_far = mx.where(r < 0, -c_far, c_far)
    return mx.where(near, c_near, c_far)


def _pos_fill(x, ok):
    """x where ok, else 1 (a harmless argument for branches whose result is discarded)."""
    return mx.where(ok, x, 1.0)


# ---------------------------------------------------------------- lgamma / digamma kernels

# Stirling series coefficients B_2k / (2k (2k-1)) for lgamma, and B_2k / (2k) for digamma
_LG_C = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)
_DG_C = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
_SHIFT = 10.0


def _lgamma_pos(z):
    """lgamma for z > 0: recurrence lgamma(z) = lgamma(z + n) - log(z (z+1) ... (z+n-1)) up to z + n >= 10,
    then Stirling's series (error < 1e-17 there)."""
    prod = mx.ones_like(z)
    for _ in range(int(_SHIFT)):
        m = z < _SHIFT
        prod = mx.where(m, prod * z, prod)
        z = mx.where(m, z + 1, z)
    zs = _pos_fill(z, mx.isfinite(z))
    w = 1 / (zs * zs)
    ser = _poly(w, _LG_C) / zs
    r = (zs - 0.5) * mx.log(zs) - zs + _HALF_LOG_2PI + ser - mx.log(prod)
    return mx.where(mx.isinf(z), mx.inf, r)


def _zeta_int(k):
    """Riemann zeta(k), k >= 2, in double: 2000 terms plus the Euler-Maclaurin tail."""
    n = 2000
    head = math.fsum(j ** -k for j in range(1, n))
    return head + n ** (1 - k) / (k - 1) + 0.5 * n ** -k + k * n ** (-k - 1) / 12


# lgamma(1 + e) = -gamma e + sum_{k>=2} (-1)^k zeta(k) e^k / k  (|e| <= 1/2: 56 terms reach 1e-19)
_LG1_C = [0.0, -_EULER] + [(-1) ** k * _zeta_int(k) / k for k in range(2, 58)]


def _lgamma_near_zeros(x):
    """lgamma on [1/2, 5/2] with relative accuracy at its zeros x = 1, 2 (Taylor series about 1 on [1/2, 3/2];
    lgamma(2 + e) = lgamma(1 + e) + log1p(e) beyond). Elsewhere lgamma is at least 0.12 in magnitude."""
    near2 = x > 1.5
    e = mx.where(near2, x - 2, x - 1)
    r = _poly(e, _LG1_C)
    return mx.where(near2, r + mx.log1p(e), r)


def _lgamma64(x):
    neg = x < 0.5
    xp = mx.where(neg, 1 - x, x)
    lp = _lgamma_pos(xp)
    # reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x)
    s = mx.abs(_sinpi(x))
    refl = _LOG_PI - mx.log(s) - lp
    r = mx.where(neg, refl, lp)
    win = (x >= 0.5) & (x <= 2.5)
    r = mx.where(win, _lgamma_near_zeros(mx.where(win, x, 1.0)), r)
    r = mx.where((x <= 0) & (x == mx.floor(x)), mx.inf, r)  # poles (and -inf)
    return mx.where(mx.isnan(x), x, r)


def _digamma_pos(z):
    acc = mx.zeros_like(z)
    for _ in range(int(_SHIFT)):
        m = z < _SHIFT
        acc = mx.where(m, acc + 1 / z, acc)
        z = mx.where(m, z + 1, z)
    zs = _pos_fill(z, mx.isfinite(z))
    w = 1 / (zs * zs)
    r = mx.log(zs) - 0.5 / zs - w * _poly(w, _DG_C) - acc
    return mx.where(mx.isinf(z), mx.inf, r)


def _digamma64(x):
    neg = x < 0.5
    xp = mx.where(neg, 1 - x, x)
    dp = _digamma_pos(xp)
    # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
    t = _tanpi(x)
    refl = dp - math.pi / mx.where(t == 0, 1.0, t)
    r = mx.where(neg, refl, dp)
    r = mx.where((x < 0) & (x == mx.floor(x)), mx.nan, r)  # negative integers and -inf
    r = mx.where(x == 0, mx.where(mx.signbit(x) if hasattr(mx, "signbit") else (1 / x < 0), mx.inf, -mx.inf), r)
    return mx.where(mx.isnan(x), x, r)


# ---------------------------------------------------------------- Hurwitz zeta (Euler-Maclaurin, as Cephes)

# (2k)! / B_2k
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15, 1.8152105401943546773e17,
           -7.1661652561756670113e18)


def _zeta64(x, q):
    """zeta(x, q) = sum_k (q + k)^-x: N terms summed directly (until q + N > 9), the rest by Euler-Maclaurin."""
    x, q = mx.broadcast_arrays(x, q)
    if q.size == 0:
        return mx.zeros(q.shape, _F64)
    qmin = _mx_item(mx.min(mx.where(mx.isnan(q), 9.0, q)))
    n_terms = builtins.max(9, int(math.floor(9 - qmin)) + 1 if math.isfinite(qmin) else 9)
    xs = _pos_fill(x, x > 1)
    s = mx.power(q, -xs)
    # the direct terms (q + k)^-x, k = 1 .. n_terms, in chunks of at most ~2e7 values
    chunk = builtins.max(1, builtins.min(n_terms, 20_000_000 // builtins.max(q.size, 1)))
    qe, xe = q[..., None], xs[..., None]
    for start in range(1, n_terms + 1, chunk):
        k = mx.arange(start, builtins.min(n_terms, start + chunk - 1) + 1, dtype=_F64)
        s = s + mx.sum(mx.power(qe + k, -xe), axis=-1)
    a = q + n_terms
    b = mx.power(a, -xs)
    w = a
    s = s + b * w / (xs - 1) - 0.5 * b
    fac = mx.ones_like(q)
    k = 0.0
    done = mx.zeros(q.shape, dtype=mx.bool_)
    for i in range(12):
        fac = fac * (xs + k)
        b = b / w
        t = fac * b / _ZETA_A[i]
        s = mx.where(done, s, s + t)
        done = done | (mx.abs(t / s) < _MACHEP)
        k += 1
        fac = fac * (xs + k)
        b = b / w
        k += 1
    q_int = q == mx.floor(q)
    r = mx.where((q <= 0) & q_int, mx.inf, s)
    r = mx.where((q <= 0) & ~q_int & (x != mx.floor(x)), mx.nan, r)
    r = mx.where(x < 1, mx.nan, mx.where(x == 1, mx.inf, r))
    return mx.where(mx.isnan(x) | mx.isnan(q), mx.nan, r)


def _cot_derivative_poly(n):
    """Coefficients (ascending) of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)):
    P_0 = c, P_{k+1} = -(1 + c^2) P_k'."""
    p = [0, 1]
    for _ in range(n):
        d = [i * p[i] for i in range(1, len(p))] or [0]
        q = [0] * (len(d) + 2)
        for i, c in enumerate(d):
            q[i] -= c
            q[i + 2] -= c
        p = q
    return [float(c) if abs(c) < 2**1023 else (math.inf if c > 0 else -math.inf) for c in p]  # float64 range


def _polygamma64(n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1; for x < 0 the reflection
    psi^(n)(1 - x) + (-1)^(n+1) psi^(n)(x) = (-1)^n pi d^n/dx^n cot(pi x), which avoids the cancelling direct sum
    over negative arguments."""
    if n == 0:
        return _digamma64(x)
    sign = 1.0 if n % 2 == 1 else -1.0
    refl = (x < 0) & (x != mx.floor(x))
    xr = mx.where(refl, 1 - x, x)
    z = sign * math.factorial(n) * _zeta64(mx.array(float(n + 1), _F64), xr)
    c = _cotpi(mx.where(refl, x, 0.5))
    pn = _poly(c, _cot_derivative_poly(n))
    mirrored = sign * ((-1.0) ** n * math.pi ** (n + 1) * pn - z)
    return mx.where(refl, mirrored, z)


# ---------------------------------------------------------------- regularized incomplete gamma (Cephes igam/igamc)

_BIG = 4.503599627370496e15
_BIGINV = 2.22044604925031308085e-16


def _igam_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a+1)...(a+k))."""
    ax = a * mx.log(x) - x - _lgamma64(a + 1)
    r, c, s = a, mx.ones_like(a), mx.ones_like(a)
    for it in range(1, 100001):
        r = r + 1
        c = c * x / r
        s = s + c
        if it % 32 == 0 and not _mx_item(mx.any(c > s * _MACHEP)):
            break
    return _precise.exp(ax) * s


def _igamc_cf(a, x):
    """Q(a, x) = x^a e^-x / Gamma(a) * (continued fraction) for x > a, x > 1."""
    ax = a * mx.log(x) - x - _lgamma64(a)
    y = 1 - a
    z = x + y + 1
    c = mx.zeros_like(a)
    pkm2, qkm2 = mx.ones_like(a), x
    pkm1, qkm1 = x + 1, z * x
    ans = pkm1 / qkm1
    done = mx.zeros(a.shape, dtype=mx.bool_)
    for it in range(1, 100001):
        c = c + 1
        y = y + 1
        z = z + 2
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        nz = qk != 0
        rr = pk / mx.where(nz, qk, 1.0)
        t = mx.where(nz, mx.abs((ans - rr) / mx.where(rr == 0, 1.0, rr)), 1.0)
        ans = mx.where(nz & ~done, rr, ans)
        done = done | (t <= _MACHEP)  # Note: converged elements are frozen (later iterations only add rounding)
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        big = mx.abs(pk) > _BIG
        pkm2, pkm1 = mx.where(big, pkm2 * _BIGINV, pkm2), mx.where(big, pkm1 * _BIGINV, pkm1)
        qkm2, qkm1 = mx.where(big, qkm2 * _BIGINV, qkm2), mx.where(big, qkm1 * _BIGINV, qkm1)
        if it % 32 == 0 and _mx_item(mx.all(done)):
            break
    return ans * _precise.exp(ax)


def _igamma_pair(a, x, upper):
    a, x = mx.broadcast_arrays(a, x)
    if a.size == 0:
        return mx.zeros(a.shape, _F64)
    valid = (a > 0) & (x > 0) & mx.isfinite(a) & mx.isfinite(x)
    use_cf = valid & (x > 1) & (x > a)
    use_ser = valid & ~use_cf
    p = mx.zeros(a.shape, _F64)
    q = mx.zeros(a.shape, _F64)
    if _mx_item(mx.any(use_ser)):
        aa, xx = mx.where(use_ser, a, 1.0), mx.where(use_ser, x, 0.5)
        p = mx.where(use_ser, _igam_series(aa, xx), p)
    if _mx_item(mx.any(use_cf)):
        aa, xx = mx.where(use_cf, a, 1.0), mx.where(use_cf, x, 2.0)
        q = mx.where(use_cf, _igamc_cf(aa, xx), q)
    r = mx.where(use_cf, q, 1 - p) if upper else mx.where(use_cf, 1 - q, p)
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
    # edge cases as torch: x == 0 -> P = 0; a == 0 (x > 0) -> P = 1; x == inf -> P = 1; a == inf -> P = 0
    r = mx.where((x == 0) & (a > 0), lo, r)
    r = mx.where((a == 0) & (x > 0), hi, r)
    r = mx.where(mx.isinf(x) & (x > 0) & (a >= 0) & mx.isfinite(a), hi, r)
    r = mx.where(mx.isinf(a) & (a > 0) & mx.isfinite(x) & (x >= 0), lo, r)
    bad = (a < 0) | (x < 0) | ((a == 0) & (x == 0)) | (mx.isinf(a) & mx.isinf(x)) | mx.isnan(a) | mx.isnan(x)
    return mx.where(bad, mx.nan, r)


# ---------------------------------------------------------------- Bessel functions (float64 kernels)

# Note [Bessel kernels]
# J0, J1 and the Neumann sums, 0 < x < 25: Miller's backward recurrence J_{n-1} = (2n / x) J_n - J_{n+1} from
#   n = 72 (J_72(x) is below 1e-20 of J_0 there) with a tiny start, normalised by J0 + 2 sum_k J_2k = 1. It needs
#   no transcendental function (72 multiply-adds an element: ~8x faster than the trapezoid rule on the integral
#   representation it replaced, to which it agrees within 2e-15), and the recurrence's growth from n = 72 down
#   to 0 stays inside float64's range for x >= 1 (at most ~1e121 times the start).
# Y0, Y1, 1 < x < 25: Neumann's series Y0 = (2/pi)(ln(x/2) + gamma) J0 - (4/pi) sum_k (-1)^k J_2k / k, and its
#   derivative for Y1 = -Y0' (J_2k' = (J_2k-1 - J_2k+1) / 2), from the same recurrence (all its terms, k <= 36).
# |x| <= 1: the power series; |x| >= 25: Hankel's asymptotic expansion (error ~ exp(-2|x|)).
# I0, I1: torch's Cephes expansion for I0 (from _ops/elementwise.py); I1 by its power series (positive terms) below
#   30 and the asymptotic expansion e^x / sqrt(2 pi x) sum_k (-1)^k a_k(1) / x^k above.
# K_nu, x > 2: the trapezoid rule on e^x K_nu(x) = int_0^inf exp(-x (cosh t - 1)) cosh(nu t) dt (an even analytic
#   integrand decaying double-exponentially: geometric convergence), step min(0.25, 0.5/sqrt(x)) for the peak's
#   width; x <= 2: the logarithmic power series.

_MILLER_START = 72
_SMALL_START = 24
_J_SWITCH = 25.0


def _jn_functionals(x, neumann=True):
    """(J0, J1, S0, S1) at float64 x (0 < x <= 25; other elements give finite values the callers discard),
    S0 = sum_k (-1)^k J_2k / k, S1 = sum_k (-1)^k (J_2k-1 - J_2k+1) / k (only J0, J1 when not neumann)."""
    # below 1 the recurrence starts at n = 24 (J_24(1) < 1e-30) so its growth, ~(2/x)^n n!, stays in range; x is
    # held at >= 1e-8 there, where the Neumann sums' terms (~x^2, ~x) are below float64's resolution of the
    # callers' ln(x) and 1/x terms
    x = mx.maximum(x, 1e-8)
    small = x < 1
    inv = 2.0 / x
    b_next = mx.zeros_like(x)  # b_{n+1}
    b = mx.where(small, 0.0, mx.full(x.shape, 1e-280, x.dtype))  # b_n, n = _MILLER_START
    norm = mx.zeros_like(x)
    s0 = mx.zeros_like(x)
    s1 = mx.zeros_like(x)
    for n in builtins.range(_MILLER_START, 0, -1):
        if n == _SMALL_START:
            b = mx.where(small, 1e-280, b)
        b_prev = n * inv * b - b_next  # b_{n-1}
        m = n - 1
        if m >= 2 and m % 2 == 0:
            norm = norm + 2 * b_prev
            if neumann:
                s0 = s0 + ((-1) ** (m // 2) / (m // 2)) * b_prev
        elif m % 2 == 1 and neumann:  # b_m enters S1 as J_2k-1 (k = (m+1)/2) and as J_2k+1 (k = (m-1)/2)
            k1, k2 = (m + 1) // 2, (m - 1) // 2
            c = (-1) ** k1 / k1 - ((-1) ** k2 / k2 if k2 >= 1 else 0.0)
            s1 = s1 + c * b_prev
        b_next, b = b, b_prev
    norm = norm + b  # b = b_0, b_next = b_1
    if not neumann:
        return [b / norm, b_next / norm]
    return [b / norm, b_next / norm, s0 / norm, s1 / norm]


def _j_series(x, nu):
    """sum_k (-1)^k (x/2)^(2k+nu) / (k! (k+nu)!) (nu = 0, 1), for |x| <= 1."""
    h = x / 2
    z = -h * h
    term = h if nu == 1 else mx.ones_like(x)
    s = term
    for k in range(1, 14):
        term = term * z / (k * (k + nu))
        s = s + term
    return s


def _hankel(x, nu):
    """(P, Q) of Hankel's expansion for x >= 25."""
    mu = 4.0 * nu * nu
    xs = _pos_fill(x, x >= _J_SWITCH)
    p = mx.ones_like(x)
    q = mx.zeros_like(x)
    a = mx.ones_like(x)
    for k in range(1, 41):
        a = a * (mu - (2 * k - 1) ** 2) / (k * 8.0 * xs)
        if k % 2 == 1:
            q = q + (a if (k // 2) % 2 == 0 else -a)
        else:
            p = p + (a if (k // 2) % 2 == 0 else -a)
    chi = xs - (nu / 2 + 0.25) * math.pi
    amp = mx.sqrt(2 / (math.pi * xs))
    return p, q, _precise.cos(chi) * amp, _precise.sin(chi) * amp


def _bessel_j64(x, nu):
    ax = mx.abs(x)
    small = ax <= 1
    big = ax >= _J_SWITCH
    mid_x = mx.where(small | big, 2.0, ax)
    js = _jn_functionals(mid_x, neumann=False)[nu]
    if nu == 1:  # J1 is odd (the recurrence takes |x|)
        js = mx.where(x < 0, -js, js)
    ser = _j_series(mx.where(small, x, 0.0), nu)
    p, q, c, s_ = _hankel(mx.where(big, ax, _J_SWITCH), nu)
    asym = p * c - q * s_
    if nu == 1:
        asym = mx.where(x < 0, -asym, asym)
    r = mx.where(small, ser, mx.where(big, asym, js))
    r = mx.where(mx.isinf(x), mx.nan, r)  # torch: the phase of cos(inf) is undefined
    return mx.where(mx.isnan(x), x, r)


def _bessel_y64(x, nu):
    big = x >= _J_SWITCH
    xm = mx.where((x > 0) & ~big, x, 1.0)
    j0, j1, s0, s1 = _jn_functionals(xm)
    lg = mx.log(xm / 2) + _EULER
    if nu == 0:
        mid = (2 / math.pi) * lg * j0 - (4 / math.pi) * s0
    else:
        mid = (2 / math.pi) * (lg * j1 - j0 / xm) + (2 / math.pi) * s1
    p, q, c, s_ = _hankel(mx.where(big, x, _J_SWITCH), nu)
    asym = p * s_ + q * c
    r = mx.where(big, asym, mid)
    r = mx.where(x == 0, -mx.inf, mx.where(x < 0, mx.nan, r))
    r = mx.where(mx.isinf(x), mx.nan, r)  # as torch
    return mx.where(mx.isnan(x), x, r)


def _i0e64(x):
    r = _i0e_core(mx.abs(x))
    r = mx.where(mx.isinf(x), 0.0, r)
    return mx.where(mx.isnan(x), x, r)


_I_SWITCH = 30.0


def _i1e64(x):
    """e^-|x| I1(x)."""
    ax = mx.abs(x)
    big = ax >= _I_SWITCH
    xs = mx.where(big, 1.0, ax)
    h = xs / 2
    z = h * h
    term = h
    s = term
    for k in range(1, 90):
        term = term * z / (k * (k + 1))
        s = s + term
    ser = s * _precise.exp(-xs)
    xl = _pos_fill(mx.where(big, ax, _I_SWITCH), mx.isfinite(ax))
    a = mx.ones_like(x)
    acc = mx.ones_like(x)
    for k in range(1, 45):
        a = a * -(4.0 - (2 * k - 1) ** 2) / (k * 8.0 * xl)
        acc = acc + a
    asym = acc / mx.sqrt(2 * math.pi * xl)
    r = mx.where(big, asym, ser)
    r = mx.where(mx.isinf(ax), 0.0, r)
    r = mx.where(x < 0, -r, r)
    return mx.where(mx.isnan(x), x, r)


def _i0_64(x):
    return _i0e64(x) * _precise.exp(mx.abs(x))


def _i1_64(x):
    return _i1e64(x) * _precise.exp(mx.abs(x))


_K_POINTS = 28


def _k_scaled_quad(x, nu):
    """e^x K_nu(x) for x > 2 by the trapezoid rule (Note [Bessel kernels])."""
    h = mx.minimum(0.25, 0.5 / mx.sqrt(x))
    t = h[..., None] * mx.arange(_K_POINTS, dtype=_F64)
    f = _precise.exp(-x[..., None] * (mx.cosh(t) - 1))
    if nu != 0:
        f = f * mx.cosh(nu * t)
    w = mx.where(mx.arange(_K_POINTS) == 0, 0.5, 1.0).astype(_F64)
    return h * mx.sum(f * w, axis=-1)


def _k_series(x, nu):
    """K0, K1 for 0 < x <= 2 (A&S 9.6.13 and 9.6.11)."""
    h = x / 2
    z = h * h
    lg = mx.log(h)
    if nu == 0:
        term = mx.ones_like(x)
        i0 = term
        acc = mx.zeros_like(x)
        hk = 0.0
        for k in range(1, 30):
            term = term * z / (k * k)
            hk += 1.0 / k
            i0 = i0 + term
            acc = acc + hk * term
        return -(lg + _EULER) * i0 + acc
    term = mx.ones_like(x)  # (z)^k / (k! (k+1)!)
    psi_k1 = -_EULER  # psi(k + 1)
    psi_k2 = 1 - _EULER  # psi(k + 2)
    i1 = term
    acc = term * (psi_k1 + psi_k2)
    for k in range(1, 30):
        term = term * z / (k * (k + 1))
        psi_k1 += 1.0 / k
        psi_k2 += 1.0 / (k + 1)
        i1 = i1 + term
        acc = acc + term * (psi_k1 + psi_k2)
    return 1 / x + lg * (h * i1) - 0.5 * h * acc


def _bessel_k64(x, nu, scaled):
    small = x <= 2
    xs = mx.where(small & (x > 0), x, 1.0)
    xl = _pos_fill(mx.where(small, 3.0, x), mx.isfinite(x))
    ser = _k_series(xs, nu)
    if scaled:
        ser = ser * _precise.exp(xs)
    quad = _k_scaled_quad(xl, nu)
    if not scaled:
        quad = quad * _precise.exp(-xl)
    r = mx.where(small, ser, quad)
    r = mx.where(x == 0, mx.inf, mx.where(x < 0, mx.nan, r))
    r = mx.where(mx.isinf(x) & (x > 0), 0.0, r)
    return mx.where(mx.isnan(x), x, r)


def _spherical_j0_64(x):
    small = mx.abs(x) < 0.5
    xs = mx.where(small | mx.isinf(x), 1.0, x)
    direct = _precise.sin(xs) / xs
    z = x * x
    ser = 1 - z / 6 * (1 - z / 20 * (1 - z / 42 * (1 - z / 72 * (1 - z / 110 * (1 - z / 156)))))
    r = mx.where(small, ser, direct)
    r = mx.where(mx.isinf(x), 0.0, r)
    return mx.where(mx.isnan(x), x, r)


# Airy Ai: Maclaurin series for -8 <= x <= 1; x > 1: Ai = sqrt(x / 3) / pi * K_1/3(zeta), zeta = 2/3 x^1.5;
# x < -8: the oscillatory asymptotic expansion (A&S 10.4.60).
_AI_C1 = 0.355028053887817239260
_AI_C2 = 0.258819403792806798405


def _airy_ai64(x):
    ser_ok = (x >= -8) & (x <= 1)
    xs = mx.where(ser_ok, x, 0.0)
    x3 = xs * xs * xs
    f = mx.ones_like(x)
    g = xs
    tf, tg = f, g
    for k in range(1, 60):
        tf = tf * x3 / ((3 * k - 1) * (3 * k))
        tg = tg * x3 / ((3 * k) * (3 * k + 1))
        f = f + tf
        g = g + tg
    ser = _AI_C1 * f - _AI_C2 * g
    pos = x > 1
    xp = mx.where(pos & mx.isfinite(x), x, 2.0)
    zeta = 2.0 / 3.0 * xp * mx.sqrt(xp)
    kq = _k_scaled_quad(mx.maximum(zeta, 0.5), 1.0 / 3.0) * _precise.exp(-zeta)
    kpos = mx.sqrt(xp / 3) / math.pi * kq
    neg = x < -8
    z = mx.where(neg & mx.isfinite(x), -x, 9.0)
    zeta = 2.0 / 3.0 * z * mx.sqrt(z)
    u = 1.0
    ps = mx.ones_like(x)
    qs = mx.zeros_like(x)
    for k in range(1, 30):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k)
        term = u / mx.power(zeta, k)
        if k % 2 == 1:
            qs = qs + (term if (k // 2) % 2 == 0 else -term)
        else:
            ps = ps + (term if (k // 2) % 2 == 0 else -term)
    th = zeta + math.pi / 4
    aneg = (_precise.sin(th) * ps - _precise.cos(th) * qs) / (math.sqrt(math.pi) * mx.power(z, 0.25))
    r = mx.where(ser_ok, ser, mx.where(pos, kpos, aneg))
    r = mx.where(mx.isinf(x), mx.nan, r)  # as torch
    return mx.where(mx.isnan(x), x, r)


def _erfcx64(x):
    """exp(x^2) erfc(x): x < 1.25 directly; above, FreeBSD's tail erfc(x) = exp(-x^2 - 0.5625 + R/S(1/x^2)) / x
    gives erfcx = exp(-0.5625 + R/S) / x without forming exp(x^2)."""
    tail = x >= 1.25
    xt = mx.where(tail & mx.isfinite(x), x, 2.0)
    s = 1 / (xt * xt)
    lo_band = xt < 1 / 0.35
    rs = mx.where(lo_band, _poly(s, _RA), _poly(s, _RB)) / mx.where(lo_band, _poly(s, _SA), _poly(s, _SB))
    t = _precise.exp(-0.5625 + rs) / xt
    xd = mx.where(tail, 0.0, x)
    d = _precise.exp(xd * xd) * erfc_mx(xd)
    r = mx.where(tail, t, d)
    r = mx.where(mx.isinf(x) & (x > 0), 0.0, r)
    return mx.where(mx.isnan(x), x, r)


# ---------------------------------------------------------------- orthogonal polynomials

# Note [orthogonal polynomial evaluation]
# torch truncates n to an integer, returns 0 for n < 0, special-cases |x| == 1, uses the trigonometric form for
# large n with |x| < 1 (Chebyshev) and the three-term recurrence otherwise; we do the same, elementwise, running the
# recurrence up to the largest n present (elements stop at their own n). Unlike the other kernels these run in the
# input's dtype: torch's float32 recurrence rounds at every step (for large n its result differs from the exact
# value by more than 1e-5 relative), and running the same steps in float32 reproduces its results.


def _fma(a, b, c):
    """a * b + c rounded once (torch's CPU kernels are compiled with FMA contraction: in float32 the product
    is exact in float64, so one rounding of the float64 sum reproduces the fused result)."""
    if a.dtype == mx.float32 and mx.default_device() == mx.cpu:  # (on the GPU: no float64, plain a * b + c)
        return (a.astype(_F64) * b.astype(_F64) + c.astype(_F64)).astype(mx.float32)
    return a * b + c


def _recurrence(x, n, p0, p1, step, need=None):
    """p_n by p_{k+1} = step(k, x, p_k, p_{k-1}) from p0, p1; elements with n < 2 take p0/p1.

    Note [Argument-bounded loops]: the number of steps is an argument (n), so the loop stops as soon as no
    element needs more: every element still running (and in `need`, those whose result is taken from the
    recurrence) has left the finite range, where the recurrence stays inf/nan."""
    nmax = int(_mx_item(mx.max(mx.where(n >= 0, n, 0)))) if n.size else 0
    p, q = p0, p1
    for k in range(1, nmax):
        r = step(k, x, q, p)
        active = n > k
        p, q = mx.where(active, q, p), mx.where(active, r, q)
        if k % 64 == 0:
            live = active & (mx.isfinite(q) | mx.isfinite(p))
            if need is not None:
                live = live & need
            if not _mx_item(mx.any(live)):
                break
    return mx.where(n == 0, p0, mx.where(n == 1, p1, q))


def _cheb_step(k, x, q, p):
    return _fma(x + x, q, -p)


def _cheb_t(x, n):
    res = _recurrence(x, n, mx.ones_like(x), x, _cheb_step, (n <= 6) | (mx.abs(x) > 1))
    trig = _precise.cos(n * mx.arccos(mx.clip(x, -1, 1)))
    res = mx.where((n > 6) & (mx.abs(x) < 1), trig, res)
    odd = mx.remainder(n, 2) == 1
    res = mx.where(mx.abs(x) == 1, mx.where((x > 0) | ~odd, 1.0, -1.0), res)
    return res


def _cheb_u(x, n, big_n=8):
    res = _recurrence(x, n, mx.ones_like(x), x + x, _cheb_step, (n <= big_n) | (mx.abs(x) > 1))
    th = mx.arccos(mx.clip(x, -1, 1))
    st = _precise.sin(th)
    trig = mx.where(st != 0, _precise.sin((n + 1) * th) / mx.where(st != 0, st, 1.0),
                    (n + 1) * _precise.cos((n + 1) * th) / mx.where(x != 0, x, 1.0))
    res = mx.where((n > big_n) & (mx.abs(x) < 1), trig, res)
    odd = mx.remainder(n, 2) == 1
    res = mx.where(mx.abs(x) == 1, mx.where((x > 0) | ~odd, n + 1, -(n + 1)), res)
    return res


def _cheb_v(x, n, big_n=8):
    res = _recurrence(x, n, mx.ones_like(x), x + x - 1, _cheb_step, (n <= big_n) | (mx.abs(x) > 1))
    th = mx.arccos(mx.clip(x, -1, 1))
    c2 = _precise.cos(th / 2)
    odd = mx.remainder(n, 2) == 1
    trig = _precise.cos((n + 0.5) * th) / mx.where(c2 != 0, c2, 1.0)
    trig = mx.where(_precise.sin(th / 2) != 1, trig, mx.where(odd, -(n + n + 1), n + n + 1))
    res = mx.where((n > big_n) & (mx.abs(x) < 1), trig, res)
    res = mx.where(mx.abs(x) == 1, mx.where(x > 0, 1.0, mx.where(odd, -(n + n + 1), n + n + 1)), res)
    return res


def _cheb_w(x, n, big_n=8):
    res = _recurrence(x, n, mx.ones_like(x), x + x + 1, _cheb_step, (n <= big_n) | (mx.abs(x) > 1))
    th = mx.arccos(mx.clip(x, -1, 1))
    s2 = _precise.sin(th / 2)
    odd = mx.remainder(n, 2) == 1
    trig = _precise.sin((n + 0.5) * th) / mx.where(s2 != 0, s2, 1.0)
    trig = mx.where(_precise.cos(th / 2) != 1, trig,
                    mx.where(x > 0, n + n + 1, mx.where(odd, -1.0, 1.0)))
    res = mx.where((n > big_n) & (mx.abs(x) < 1), trig, res)
    res = mx.where(mx.abs(x) == 1, mx.where(x > 0, n + n + 1, mx.where(odd, -1.0, 1.0)), res)
    return res


def _hermite_limit(x, n):
    """torch's Hermite kernels return nan past an order limit (128 in float32, 512 in float64) without
    iterating: the same n is clamped here so the recurrence stops there (Note [Argument-bounded loops])."""
    lim = 128 if x.dtype != mx.float64 else 512
    return lim, mx.minimum(n, lim + 1)


def _hermite_h(x, n):
    lim, m = _hermite_limit(x, n)
    r = _recurrence(x, m, mx.ones_like(x), x + x, lambda k, x, q, p: _fma(x + x, q, -((2 * k) * p)))
    return mx.where(n > lim, mx.nan, r)


def _hermite_he(x, n):
    lim, m = _hermite_limit(x, n)
    r = _recurrence(x, m, mx.ones_like(x), x, lambda k, x, q, p: _fma(x, q, -(k * p)))
    return mx.where(n > lim, mx.nan, r)


def _laguerre_l(x, n):
    res = _recurrence(x, n, mx.ones_like(x), 1 - x, lambda k, x, q, p: _fma((k + k) + (1 - x), q, -(k * p)) / (k + 1),
                      x != 0)
    return mx.where(x == 0, 1.0, res)


def _legendre_p(x, n):
    res = _recurrence(x, n, mx.ones_like(x), x, lambda k, x, q, p: _fma((k + k + 1) * x, q, -(k * p)) / (k + 1),
                      mx.abs(x) != 1)
    odd = mx.remainder(n, 2) == 1
    return mx.where(mx.abs(x) == 1, mx.where((x > 0) | ~odd, 1.0, -1.0), res)


def _poly_kernel(fn, shifted=False, big_n=None):
    """torch's shifted U, V use the trigonometric form from n > 6 and shifted W from n > 4 (8 unshifted)."""
    def k(x, n):
        x, n = mx.broadcast_arrays(x, n)
        n = mx.where(mx.isnan(n), 0.0, mx.trunc(n)).astype(x.dtype)
        xx = x + x - 1 if shifted else x
        r = fn(xx, n) if big_n is None else fn(xx, n, big_n)
        r = mx.where(n < 0, 0.0, r)
        return mx.where(mx.isnan(x), x, r)

    return k


# ---------------------------------------------------------------- op builders


_LOG_FLT_MAX = 88.72283905206835


def _exp_overflow_f32(kernel):
    """Note [float32 I0/I1 overflow]: torch forms exp(|x|) in float32 for I0/I1, so its float32 results are
    +-inf from |x| > log(FLT_MAX) although the true value is still finite up to ~90.6; we match that."""

    def k(x):
        r = kernel(x)
        return mx.where(mx.abs(x) > _LOG_FLT_MAX, r * mx.inf, r)

    return k


# ---------------------------------------------------------------- gamma family


def _kernel_forward(kernel):
    """A float64 kernel as a registry forward: computed in float64 on the CPU stream whatever the tensor's
    device (Note [special functions computed in float64]), so the registry's `stream=` is not used."""
    run = _in64(kernel)

    def forward(x, stream=None):
        return run(x)

    forward.__name__ = kernel.__name__
    return forward


# digamma and lgamma: declared in the operator registry (Note [Operator registry] in csrc/dispatch.c), forward,
# dtype rule, torch's complex refusal and derivative together.
digamma = unary("digamma", _kernel_forward(_digamma64), INT_TO_FLOAT, lambda grad, self: grad * polygamma(1, self),
                refusals=(refusal(COMPLEX, NotImplementedError, "\"digamma\" not implemented for '{dtype}'"),))
lgamma = unary("lgamma", _kernel_forward(_lgamma64), INT_TO_FLOAT, lambda grad, self: grad * digamma(self),
               refusals=(refusal(COMPLEX, NotImplementedError, "\"lgamma_vml_cpu\" not implemented for '{dtype}'"),))


_POLYGAMMA_DIRECT_MAX = 170  # 171! overflows float64


def polygamma(n, input, *, out=None):
    if isinstance(n, Tensor) or not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    _need_tensor("polygamma", input, "input", 2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input, out=out)
    if input.dtype.is_complex:
        raise NotImplementedError("\"polygamma_cpu\" not implemented for 'ComplexFloat'")
    d = _float_dtype(input)
    v = input._mx.astype(d._mx)
    if n > _POLYGAMMA_DIRECT_MAX:
        # Note [Argument-bounded loops]: n! and the cot-derivative polynomial cost O(n) and O(n^2) in n, an
        # argument; past float64's factorial range torch's formula sign * exp(lgamma(n + 1)) * zeta(n + 1, x)
        # is inf times zeta (zeta taken in the input's precision, as torch's kernel computes it)
        z = _in64(lambda v: _zeta64(mx.array(float(n + 1), _F64), v))(v).astype(d._mx)
        res = _new((1.0 if n % 2 == 1 else -1.0) * math.inf * z, input._device_code, d)
    elif n == 1 and d is not _dtype.float64:
        res = _new(_trigamma_f32(v.astype(mx.float32)).astype(d._mx), input._device_code, d)
    else:
        res = _new(_in64(lambda v: _polygamma64(n, v))(v), input._device_code, d)
    if _grad_on(input):
        record("PolygammaBackward0", lambda ctx, grads: (grads[0] * polygamma(n + 1, ctx[0]),), [input], [res],
               saved=[input])
    return _out(out, res)


def _trigamma_f32(x):
    """Note [torch's float32 trigamma]: torch evaluates polygamma(1, x) for float32 x < 0.5 by reflection with
    sin(pi * x) formed in float32, whose rounding (the product pi * x) is amplified near the poles: 2e-5 relative
    at x = -7.95. We form that sine the same way (the rest exactly) so float32 results agree with torch's."""
    with mx.stream(mx.cpu):
        refl = x < 0.5
        s = mx.sin(mx.array(math.pi, mx.float32) * x).astype(_F64)
        x1 = mx.where(refl, 1 - x, x).astype(_F64)
        t = _polygamma64(1, x1)
        r = mx.where(refl, -(-(math.pi * math.pi) / (s * s) + t), t)
        return mx.where(mx.isnan(x), mx.nan, r).astype(x.dtype)  # leaves the CPU stream as float32


def mvlgamma(input, p, *, out=None):
    """log of the multivariate gamma function: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
    _need_tensor("mvlgamma", input)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input.dtype.is_complex:
        raise NotImplementedError("\"mvlgamma\" not implemented for 'ComplexFloat'")
    if not input.dtype.is_floating_point:
        input = input.to(_C._get_default_dtype())
    from .creation import arange

    offs = arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=input.dtype, device=input.device)
    res = lgamma(input.unsqueeze(-1) + offs).sum(-1) + p * (p - 1) / 4 * _LOG_PI
    return _out(out, res)


def _igamma_declared(name, complement):
    """igamma / igammac in the operator registry: the float64 kernel (computed on the CPU stream), tensors only,
    torch's refusals of integral and complex operands; the derivative for `other` only, torch's NotImplementedError
    for `input` (a backward that reaches it raises, as torch's)."""
    run = _in64(lambda a, x: _igamma_pair(a, x, complement))

    def forward(a, x, stream=None):
        return run(*mx.broadcast_arrays(a, x))

    def input_grad(grad, a, x):
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")

    def other_grad(grad, a, x):
        import mlx_compat as _m

        return grad * (-1.0 if complement else 1.0) * _m.exp((a - 1) * _m.log(x) - x - lgamma(a))

    return binary(name, forward=forward, tensors_only=True, refuse=_C.REFUSE_INTEGRAL | _C.REFUSE_COMPLEX,
                  node=name.capitalize() + "Backward0", derivative=_rule(input_grad, other_grad))


igamma = _igamma_declared("igamma", False)
igammac = _igamma_declared("igammac", True)


# ---------------------------------------------------------------- nextafter


def _nextafter_mx(x, y):
    if x.dtype == mx.float64:
        it, tiny = mx.int64, 5e-324
    elif x.dtype == mx.float32:
        it, tiny = mx.int32, 1.401298464324817e-45
    elif x.dtype == mx.float16:
        it, tiny = mx.int16, 5.960464477539063e-08
    else:  # bfloat16
        it, tiny = mx.int16, 9.183549615799121e-41
    bits = x.view(it)
    up = (y > x) == (x > 0)
    nb = mx.where(up, bits + 1, bits - 1).view(x.dtype)
    t = mx.array(tiny, dtype=x.dtype)  # (a Python float would round to float32 first: 5e-324 -> 0)
    r = mx.where(x == 0, mx.where(y > 0, t, -t), nb)
    r = mx.where(x == y, y, r)
    return mx.where(mx.isnan(x) | mx.isnan(y), mx.nan, r).astype(x.dtype)


def _nextafter_forward(x, y, stream=None):
    """nextafter over two arrays of the result dtype, in that dtype (its bits are stepped: no opmath)."""
    if stream is None:
        return _nextafter_mx(*mx.broadcast_arrays(x, y))
    with mx.stream(stream):
        return _nextafter_mx(*mx.broadcast_arrays(x, y))


# torch's derivative: the incoming gradient for self, except where self == other (the result is other itself
# there); none for other
nextafter = binary("nextafter", forward=_nextafter_forward, tensors_only=True, node="NextafterBackward0",
                   refuse=_C.REFUSE_INTEGRAL | _C.REFUSE_COMPLEX,
                   derivative=_rule(lambda grad, a, b: grad.masked_fill(a == b, 0), None))


# ---------------------------------------------------------------- torch.special's own operators
# Note [torch.special primitives]
# The operators torch has only in torch.special (no torch.<name>, no Tensor method) that are primitives in torch
# (their own kernel, and where differentiable their own Special*Backward0 node) are declared in the operator
# registry as function-only ops (Note [Function-only ops] in csrc/dispatch.c): aten's name ("special_entr") for
# messages and the registry, torch's INT_TO_FLOAT dtype rule (integral and bool inputs compute in the default
# float dtype), torch's refusals (complex everywhere; float16/bfloat16 where torch's kernel has no half form) and
# the derivative beside the forward, or none where torch records none (the Bessel functions, Airy, the
# polynomials: their results do not require grad). The binary ones (xlog1py, zeta, the polynomials) take a
# Python number on either side, as torch's three overloads do. torch.special's composites stay Python
# compositions of these: ndtr (torch's (1 + erf(x / sqrt 2)) / 2, so its float32 rounding and MulBackward1 are
# torch's), and the aliases (expit, gammaln, psi, gammainc(c), multigammaln, ...) in mlx_compat/special.py.

_SPECIAL = "mlx_compat.special"


def _cpu_refusals(attr, half=True):
    """torch's refusals of a special kernel `attr`: complex (and float16/bfloat16 where it has no half form)."""
    classes = COMPLEX if half else COMPLEX | HALF
    return (refusal(classes, NotImplementedError, f"\"{attr}_cpu\" not implemented for '{{dtype}}'"),)


def _special_forward(kernel, kernel32=None):
    """A float64 kernel (Note [special functions computed in float64]) as a registry forward, kernel32 for the
    non-float64 dtypes where torch's float32 arithmetic differs (Note [float32 I0/I1 overflow])."""
    run, run32 = _in64(kernel), _in64(kernel32 or kernel)

    def forward(x, stream=None):
        return run(x) if x.dtype == _F64 else run32(x)

    forward.__name__ = kernel.__name__
    return forward


def _special_node(attr):
    """torch's node name of special op `attr`: SpecialLogNdtrBackward0 for log_ndtr."""
    return "Special" + "".join(p.capitalize() for p in attr.split("_")) + "Backward0"


def _special_unary(attr, forward, derivative=None, half=True, node=None):
    return unary("special_" + attr, forward, INT_TO_FLOAT, derivative, node=node or _special_node(attr),
                 refusals=_cpu_refusals(attr, half), module=_SPECIAL, qualname=attr)


def _no_half(attr, forward):
    """A binary forward that raises torch's NotImplementedError for half operands (torch's kernel has none; the
    binary declarations' `refuse` flags have no half class)."""
    names = {mx.float16: "Half", mx.bfloat16: "BFloat16"}

    def run(x, y, stream=None):
        dt = x.dtype if isinstance(x, mx.array) else y.dtype
        if dt in names:
            raise NotImplementedError(f"\"{attr}_cpu\" not implemented for '{names[dt]}'")
        return forward(x, y, stream=stream)

    run.__name__ = getattr(forward, "__name__", attr)
    return run


def _special_binary(attr, forward, derivative=None, node=None, other="other", half=False):
    return binary("special_" + attr, forward=forward if half else _no_half(attr, forward), promotion=INT_TO_FLOAT,
                  refuse=_C.REFUSE_COMPLEX, derivative=derivative, node=node, other=other, module=_SPECIAL,
                  qualname=attr)


def _sgn(x):
    import mlx_compat as _m

    return _m.sign(x)


def _entr_mx(x):
    pos = x > 0
    safe = mx.where(pos, x, 1)
    r = mx.where(pos, -x * mx.log(safe), mx.where(x == 0, 0, -mx.inf))
    return mx.where(mx.isnan(x), x, r).astype(x.dtype)


def _i1_derivative(grad, self, result):
    import mlx_compat as _m

    safe = _m.where(self == 0, _m.ones_like(self), self)
    return grad * _m.where(self == 0, _m.full_like(self, 0.5), _m.i0(self) - result / safe)  # torch.i0: the registry's


def _i1e_derivative(grad, self, result):
    import mlx_compat as _m

    safe = _m.where(self == 0, _m.ones_like(self), self)
    return grad * _m.where(self == 0, _m.full_like(self, 0.5), i0e(self) - result * (_sgn(self) + 1 / safe))


_SQRT_2PI = math.sqrt(2 * math.pi)

entr = _special_unary("entr", _opmath(_entr_mx), lambda grad, self: grad * -(1 + self.log()))
ndtri = _special_unary("ndtri", _opmath(_ndtri_mx), lambda grad, result: grad * (result * result * 0.5).exp() * _SQRT_2PI,
                       half=False)
log_ndtr = _special_unary("log_ndtr", _opmath(_log_ndtr_mx),
                          lambda grad, self, result: grad * (self * self * -0.5 - result).exp() / _SQRT_2PI, half=False)
i0e = _special_unary("i0e", _special_forward(_i0e64), lambda grad, self, result: grad * (i1e(self) - _sgn(self) * result),
                     node="SpecialI0EBackward0")
i1 = _special_unary("i1", _special_forward(_i1_64, _exp_overflow_f32(_i1_64)), _i1_derivative)
i1e = _special_unary("i1e", _special_forward(_i1e64), _i1e_derivative, node="SpecialI1EBackward0")
erfcx = _special_unary("erfcx", _special_forward(_erfcx64),
                       lambda grad, self, result: grad * (2 * self * result - 2 / math.sqrt(math.pi)), half=False)
# no derivative in torch: the results do not require grad
bessel_j0 = _special_unary("bessel_j0", _special_forward(lambda x: _bessel_j64(x, 0)), half=False)
bessel_j1 = _special_unary("bessel_j1", _special_forward(lambda x: _bessel_j64(x, 1)), half=False)
bessel_y0 = _special_unary("bessel_y0", _special_forward(lambda x: _bessel_y64(x, 0)), half=False)
bessel_y1 = _special_unary("bessel_y1", _special_forward(lambda x: _bessel_y64(x, 1)), half=False)
modified_bessel_i0 = _special_unary("modified_bessel_i0", _special_forward(_i0_64, _exp_overflow_f32(_i0_64)),
                                    half=False)
modified_bessel_i1 = _special_unary("modified_bessel_i1", _special_forward(_i1_64, _exp_overflow_f32(_i1_64)),
                                    half=False)
modified_bessel_k0 = _special_unary("modified_bessel_k0", _special_forward(lambda x: _bessel_k64(x, 0, False)),
                                    half=False)
modified_bessel_k1 = _special_unary("modified_bessel_k1", _special_forward(lambda x: _bessel_k64(x, 1, False)),
                                    half=False)
scaled_modified_bessel_k0 = _special_unary("scaled_modified_bessel_k0",
                                           _special_forward(lambda x: _bessel_k64(x, 0, True)), half=False)
scaled_modified_bessel_k1 = _special_unary("scaled_modified_bessel_k1",
                                           _special_forward(lambda x: _bessel_k64(x, 1, True)), half=False)
spherical_bessel_j0 = _special_unary("spherical_bessel_j0", _special_forward(_spherical_j0_64), half=False)
airy_ai = _special_unary("airy_ai", _special_forward(_airy_ai64), half=False)


def _xlog1py_mx(a, b):
    r = mx.where(a == 0, 0, a * mx.log1p(b))
    return mx.where(mx.isnan(b), b, r)


def _xlog1py_self(grad, a, b):
    # torch: xlog1py(grad, other) (0 where grad is 0), zero where self == 0 and other <= -1
    g = xlog1py(grad, b)
    if isinstance(b, Tensor):
        return g.masked_fill((a == 0) & (b <= -1), 0.0)
    return g.masked_fill(a == 0, 0.0) if b <= -1 else g


def _zeta_self(grad, x, q):
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


xlog1py = _special_binary("xlog1py", binary_forward(_xlog1py_mx),
                          _rule(_xlog1py_self, lambda grad, a, b: grad * a / (b + 1)),
                          node=("SpecialXlog1PyBackward0", "SpecialXlog1PyBackward2", "SpecialXlog1PyBackward1"),
                          half=True)


def _zeta_forward(x, q, stream=None):
    return _in64(_zeta64)(*mx.broadcast_arrays(x, q))


zeta = _special_binary("zeta", binary_forward(lambda x, q: _zeta_forward(x, q)),
                       _rule(_zeta_self, lambda grad, x, q: grad * -x * zeta(x + 1.0, q)),
                       node=("SpecialZetaBackward0", "SpecialZetaBackward2", "SpecialZetaBackward1"))


def _polynomial(attr, kernel):
    """An orthogonal polynomial p_n(x): computed in the operands' dtype as torch's kernel (Note [orthogonal
    polynomial evaluation]); no derivative in torch."""
    def forward(x, n):
        return kernel(*mx.broadcast_arrays(x, n))

    forward.__name__ = attr
    return _special_binary(attr, binary_forward(forward), other="n")


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _poly_kernel(_cheb_t))
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _poly_kernel(_cheb_u))
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _poly_kernel(_cheb_v))
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _poly_kernel(_cheb_w))
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", _poly_kernel(_cheb_t, True))
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", _poly_kernel(_cheb_u, True, 6))
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", _poly_kernel(_cheb_v, True, 6))
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", _poly_kernel(_cheb_w, True, 4))
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _poly_kernel(_hermite_h))
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _poly_kernel(_hermite_he))
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _poly_kernel(_laguerre_l))
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _poly_kernel(_legendre_p))


def ndtr(input, *, out=None):
    """torch.special.ndtr, a composite in torch: (1 + erf(x / sqrt 2)) / 2 with torch's per-op rounding (so its
    float32 lower tail is torch's, not the accurate 0.5 * erfc(-x / sqrt 2)) and torch's nodes."""
    if not isinstance(input, Tensor):
        raise TypeError(f"special_ndtr(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    from .elementwise import erf
    from .._methods import _check_cast

    u = 1 + erf(input * _SQRT1_2)
    r = _new(mx.multiply(u._mx, mx.array(0.5, u._mx.dtype)), u._device_code, u.dtype)
    if _grad_on(u):  # torch's mul.Scalar node
        record("MulBackward1", lambda ctx, grads: (grads[0] * 0.5,), [u], [r])
    if out is not None and isinstance(out, Tensor) and r.dtype is not out.dtype:
        _check_cast(r.dtype, out.dtype)  # torch's out= cast rule (its special_ndtr_out)
    return _out(out, r)


_SQRT1_2 = math.sqrt(0.5)


# ---------------------------------------------------------------- methods


def _polygamma_method(self, n):
    return polygamma(n, self)


def _mvlgamma_method(self, p):
    return mvlgamma(self, p)


_METHODS = {"polygamma": _polygamma_method, "mvlgamma": _mvlgamma_method}
declare_methods(_METHODS, inplace=_METHODS)  # each with its in-place form (inplace_variant)
