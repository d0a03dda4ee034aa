"""Elementwise ops composed from MLX primitives: inverse/hyperbolic trig, the erf family, frac, fmax/fmin,
logaddexp(2), logit, hypot, nan_to_num, the is* predicates, isclose/allclose/equal, logical_and/or/xor, xlogy,
sinc, deg2rad/rad2deg, copysign, heaviside, signbit, float_power, positive, i0, is_same_size/is_nonzero; the
integer ops gcd/lcm; frexp/ldexp; rsub and Tensor.__rdiv__. Exports are listed in __all__ and re-exported by
mlx_compat/__init__.py; Tensor methods (and in-place methods where torch has them) are attached here.

The primitive ones (asin ... atanh; erf, erfc, erfinv, frac, deg2rad, rad2deg, sinc, i0, logit; fmax/fmin,
logaddexp(2), hypot, copysign, xlogy, float_power) are declared in the operator registry (Note [Operator registry] in csrc/dispatch.c): forward, dtype rule, torch's refusals and a
derivative written with the package's ops side by side. Of the rest, derivatives come from `mlx_op` (mx.vjp of
the MLX forward, any order) unless torch's derivative at special points differs from the forward's vjp; those
are hand-written with `record`, using the package's own ops so they differentiate again.

float64 accuracy (Note [MLX float64 precision], _ops/precise.py): MLX's arcsin/arccos/arctan/sinh/cosh/
arcsinh/arccosh/arctanh/log/log1p/expm1/tanh are accurate in float64; its erf and erfinv are not (erf
is float32-accurate and flushes |x| < ~1e-9 to 0; erfinv is float32-accurate) and logaddexp uses a
float32-accurate exp. So erf/erfc are computed here from FreeBSD's s_erf.c rational approximations (via
accurate kernels only), erfinv/ndtri are refined by Newton steps on them, and logaddexp is composed.
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _C, _dtype
from . import cpu_math as _cpu_math, precise as _precise
from .._methods import declare
from .._tensor import Tensor, _new, _mx_item
from ..autograd._mlx_vjp import mlx_op
from ..autograd._derivatives import record
from ..autograd._derivatives import _conj
from .pointwise import BOOL, COMPLEX, DEFAULT, DOUBLE, INTEGRAL, NONE, NUMBER, SCALAR, nary, refusal, unary
from .operators import (_inplace_from, _pow_exponent, _pow_self, _result_type_or_complex, _rule,
                        binary, binary_forward, INT_TO_FLOAT)
from .creation import _out
from ._common import _check_tensor, _torch, _sname, _return_type

__all__ = [
    "asin", "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh",
    "atanh", "arctanh", "erf", "erfc", "erfinv", "frac", "fmax", "fmin", "logaddexp", "logaddexp2", "logit", "hypot",
    "nan_to_num", "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal", "isclose", "allclose", "equal",
    "logical_and", "logical_or", "logical_xor", "xlogy", "sinc", "deg2rad", "rad2deg", "copysign", "heaviside",
    "signbit", "float_power", "positive", "i0", "is_same_size", "is_nonzero",
    "rsub", "gcd", "gcd_", "lcm", "lcm_", "frexp", "ldexp", "ldexp_",
]

_HALF = ("float16", "bfloat16")




def _need_tensor(fname, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _float_dtype(t):
    d = t.dtype if isinstance(t, Tensor) else _C._result_type(t, t)
    return d if (d.is_floating_point or d.is_complex) else _C._get_default_dtype()


def _compute(fn, d):
    """fn applied in dtype d (half types computed in float32, as torch's opmath does)."""
    if d.name in _HALF:
        return lambda *vs: fn(*[v.astype(mx.float32) if isinstance(v, mx.array) else v for v in vs]).astype(d._mx)
    return lambda *vs: fn(*[v.astype(d._mx) if isinstance(v, mx.array) else v for v in vs]).astype(d._mx)


def _check_broadcast(*xs):
    """torch's RuntimeError for shapes that do not broadcast (MLX raises ValueError)."""
    shapes = [tuple(x.shape) for x in xs if isinstance(x, Tensor)]
    if len(shapes) < 2:
        return
    a = shapes[0]
    for b in shapes[1:]:
        n = builtins.max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        for i in builtins.range(n - 1, -1, -1):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                                   f"non-singleton dimension {i}")
        a = tuple(builtins.max(x, y) for x, y in zip(pa, pb))


def _grad_on(*xs):
    return _C.is_grad_enabled() and builtins.any(isinstance(x, Tensor) and x.requires_grad for x in xs)


def _attach(name, fn, inplace=True):
    declare(name, fn)  # Note [Declared Tensor methods]
    if inplace:
        declare(name + "_", _inplace_from(fn))


# ---------------------------------------------------------------- accurate erf / erfc kernels (MLX level)

# FreeBSD msun s_erf.c (via musl): |error| < 1 ulp in double. Evaluated with MLX ops; the tail's
# exp(-x*x) uses an exact two-product for x*x and _precise.exp, so float64 keeps full accuracy.
_ERX = 8.45062911510467529297e-01
_EFX = 1.28379167095512586316e-01
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _poly(z, coeffs):
    r = mx.full(z.shape, coeffs[-1], dtype=z.dtype)
    for c in coeffs[-2::-1]:
        r = r * z + c
    return r


def _two_square(x):
    """(hi, lo) with hi + lo == x*x exactly (Dekker's split)."""
    split = 134217729.0 if x.dtype == mx.float64 else 4097.0
    c = x * split
    xh = c - (c - x)
    xl = x - xh
    hi = x * x
    lo = ((xh * xh - hi) + 2 * xh * xl) + xl * xl
    return hi, lo


def _tail_parts(ax):
    """For ax >= 1.25: (a, b) with erfc(ax) = exp(a) * exp(b) / ax, a = -ax^2 rounded (exact), b small."""
    safe = mx.maximum(ax, 1.25)
    s = 1 / (safe * safe)
    lo_band = safe < 1 / 0.35
    r = mx.where(lo_band, _poly(s, _RA), _poly(s, _RB))
    q = mx.where(lo_band, _poly(s, _SA), _poly(s, _SB))
    hi, lo = _two_square(safe)
    lo = mx.where(mx.isfinite(lo), lo, 0)
    return -hi, (-0.5625 - lo) + r / q, safe


def _erf_small(ax):
    z = ax * ax
    return ax * (_poly(z, _PP) / _poly(z, _QQ))  # erf = ax + this


def _erf_mid(ax):
    s = ax - 1
    return _poly(s, _PA) / _poly(s, _QA)  # erf = erx + this


def erf_mx(x):
    """Accurate erf of a float32/float64 mx.array."""
    ax = mx.abs(x)
    small = ax + _erf_small(ax)
    mid = _ERX + _erf_mid(ax)
    a, b, safe = _tail_parts(ax)
    tail = 1 - _precise.exp(a) * _precise.exp(b) / safe
    r = mx.where(ax < 0.84375, small, mx.where(ax < 1.25, mid, mx.where(ax < 6, tail, 1.0)))
    r = mx.where(x < 0, -r, r)
    return mx.where(mx.isnan(x), x, r).astype(x.dtype)


def erfc_mx(x):
    """Accurate erfc of a float32/float64 mx.array (relative accuracy in the tails)."""
    ax = mx.abs(x)
    y = _erf_small(ax)
    # (for |x| < 0.84375: erf(x) = x + x*p(x^2); y above is |x|*p, so x*p = sign(x)*y)
    xy = mx.where(x < 0, -y, y)
    small = mx.where(x < 0.25, 1 - (x + xy), 0.5 - (x - 0.5 + xy))
    mid_pos = (1 - _ERX) - _erf_mid(ax)  # erfc(|x|) on [0.84375, 1.25)
    a, b, safe = _tail_parts(ax)
    tail_pos = _precise.exp(a) * _precise.exp(b) / safe
    cutoff = 28.0 if x.dtype == mx.float64 else 10.06  # erfc underflows beyond
    tail_pos = mx.where(ax < cutoff, tail_pos, 0.0)
    pos = mx.where(ax < 1.25, mid_pos, tail_pos)
    big = mx.where(x < 0, 2 - pos, pos)
    r = mx.where(ax < 0.84375, small, big)
    return mx.where(mx.isnan(x), x, r).astype(x.dtype)


def log_erfc_mx(x):
    """log(erfc(x)), finite for large positive x (no underflow)."""
    a, b, safe = _tail_parts(mx.abs(x))
    tail = a + b - mx.log(safe)
    direct = mx.log(erfc_mx(x))
    return mx.where(x >= 1.25, tail, direct).astype(x.dtype)


_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2 * math.pi)
_LOG_HALF = math.log(0.5)


def _ndtr_mx(x):
    return 0.5 * erfc_mx(-x / _SQRT2)


def _log_ndtr_mx(x):
    lower = _LOG_HALF + log_erfc_mx(-x / _SQRT2)
    upper = mx.log1p(-0.5 * erfc_mx(x / _SQRT2))
    return mx.where(x < -1, lower, upper).astype(x.dtype)


def _ndtri_mx(p):
    """Inverse of ndtr: Abramowitz-Stegun 26.2.23 start, Newton steps on log(ndtr) (relative accuracy in
    the lower tail; the upper half by symmetry with 1 - p, exact there)."""
    upper = p > 0.5
    q = mx.where(upper, 1 - p, p)
    qs = mx.where((q > 0) & (q <= 0.5), q, 0.25)
    t = mx.sqrt(-2 * mx.log(qs))
    y = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
          (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t))
    logq = mx.log(qs)
    for _ in range(4 if p.dtype == mx.float64 else 3):
        lp = _log_ndtr_mx(y)
        step = (lp - logq) * mx.exp(mx.minimum(lp + 0.5 * y * y, 700.0 if p.dtype == mx.float64 else 80.0)) * _SQRT_2PI
        # central region: Newton on erf, whose relative accuracy near 0 keeps small results accurate
        cstep = (0.5 * erf_mx(y / _SQRT2) - (qs - 0.5)) * _precise.exp(0.5 * y * y) * _SQRT_2PI
        y = y - mx.where(qs > 0.25, cstep, step)
    r = mx.where(upper, -y, y)
    r = mx.where(p == 0.5, 0, r)
    r = mx.where(p == 0, -mx.inf, mx.where(p == 1, mx.inf, r))
    r = mx.where((p < 0) | (p > 1) | mx.isnan(p), mx.nan, r)
    return r.astype(p.dtype)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2


def _unary_custom(name, node, fwd, deriv, complex_msg=None):
    """A float-valued unary op with a hand-written derivative deriv(x, y, g) in the package's ops."""

    def op(input, *, out=None):
        _need_tensor(name, input)
        if input.dtype.is_complex:
            raise NotImplementedError(complex_msg or f"\"{name}_vml_cpu\" not implemented for 'ComplexFloat'")
        d = _float_dtype(input)
        res = _new(_compute(fwd, d)(input._mx), input._device_code, d)
        if _grad_on(input):
            record(node, lambda ctx, grads: (deriv(ctx[0], ctx[1], grads[0]),), [input], [res],
                   saved=[input, res])
        return _out(out, res)

    op.__name__ = name
    return op


def _erfinv_fwd(x):
    """erfinv: MLX's kernel refined by Newton steps on the accurate erf/erfc (float64 only)."""
    y0 = mx.erfinv(x)
    if x.dtype != mx.float64:
        return y0
    ax = mx.abs(x)
    y = mx.where(mx.isfinite(y0), mx.abs(y0), 1.0)
    for _ in builtins.range(2):  # Newton on erf(y) = ax, accurate for ax <= 0.5
        y = y - (erf_mx(y) - ax) / (_TWO_OVER_SQRT_PI * _precise.exp(-y * y))
    # |x| > 0.5: erfinv(ax) = -ndtri((1 - ax) / 2) / sqrt(2), with 1 - ax exact there
    tail = -_ndtri_mx((1 - ax) / 2) / _SQRT2
    y = mx.where(ax > 0.5, tail, y)
    y = mx.where(x < 0, -y, y)
    y = mx.where(ax == 1, y0, y)
    return mx.where(mx.isnan(x) | (ax > 1), mx.nan, y)


def _erfinv_deriv(x, y, g):
    return g * (y * y).exp() * _SQRT_PI_OVER_2


def _opmath(fn):
    """fn(x) over MLX arrays as a registry forward: half types computed in float32 and rounded once (torch's
    opmath), under `stream` when the registry passes one."""
    def run(x):
        if x.dtype in (mx.float16, mx.bfloat16):
            return fn(x.astype(mx.float32)).astype(x.dtype)
        return fn(x)

    def forward(x, stream=None):
        if stream is None:
            return run(x)
        with mx.stream(stream):
            return run(x)

    forward.__name__ = fn.__name__
    return forward


def _refuse_complex(kernel, exception=NotImplementedError):
    return (refusal(COMPLEX, exception, f"\"{kernel}\" not implemented for '{{dtype}}'"),)


# The erf family and frac, deg2rad, rad2deg: declared in the registry with torch's dtype refusals (Note
# [Declared refusals] in csrc/dispatch.c), forward and derivative together.
erfc = unary("erfc", _opmath(erfc_mx), INT_TO_FLOAT, lambda grad, self: -grad * (-(self * self)).exp() *
             _TWO_OVER_SQRT_PI, refusals=_refuse_complex("erfc_vml_cpu"))
erfinv = unary("erfinv", _opmath(_erfinv_fwd), INT_TO_FLOAT,
               lambda grad, result: grad * (result * result).exp() * _SQRT_PI_OVER_2,
               refusals=_refuse_complex("erfinv_vml_cpu"))
erf = unary("erf", _opmath(erf_mx), INT_TO_FLOAT, lambda grad, self: grad * (-(self * self)).exp() * _TWO_OVER_SQRT_PI,
            forward_cpu=_cpu_math.erf_any, refusals=_refuse_complex("erf_vml_cpu"))
_erf_accurate = erf  # torch.special.erf (mlx_compat/special.py)


# The inverse trigonometric and hyperbolic family, declared in the operator registry (Note [Operator registry]
# in csrc/dispatch.c) as _ops/pointwise.py's unary family: forward, dtype rule and derivative together (torch's
# derivatives.yaml formulas, conjugated for complex inputs).
asin = unary("asin", mx.arcsin, INT_TO_FLOAT, lambda grad, self: grad * (1 - self * self).rsqrt().conj(), complex=True)
acos = unary("acos", mx.arccos, INT_TO_FLOAT, lambda grad, self: -grad * (1 - self * self).rsqrt().conj(),
             complex=True)
atan = unary("atan", mx.arctan, INT_TO_FLOAT, lambda grad, self: grad / (self * self + 1).conj(), complex=True)
sinh = unary("sinh", mx.sinh, INT_TO_FLOAT, lambda grad, self: grad * self.cosh().conj(), complex=True)
cosh = unary("cosh", mx.cosh, INT_TO_FLOAT, lambda grad, self: grad * self.sinh().conj(), complex=True)
asinh = unary("asinh", mx.arcsinh, INT_TO_FLOAT, lambda grad, self: grad * (self * self + 1).rsqrt().conj(),
              complex=True, inplace_grad=False)
acosh = unary("acosh", mx.arccosh, INT_TO_FLOAT, lambda grad, self: grad * (self * self - 1).rsqrt().conj(),
              complex=True, inplace_grad=False)
atanh = unary("atanh", mx.arctanh, INT_TO_FLOAT, lambda grad, self: grad / (1 - self * self).conj(), complex=True,
              inplace_grad=False)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _op, _alias in ((asin, "arcsin"), (acos, "arccos"), (atan, "arctan"), (asinh, "arcsinh"), (acosh, "arccosh"),
                    (atanh, "arctanh")):
    declare(_alias, _op.method)  # torch's aliases: the registered forms themselves
    declare(_alias + "_", _op.inplace)
frac = unary("frac", _opmath(lambda v: v - mx.trunc(v)), DEFAULT, lambda grad: grad,  # exact: v - trunc(v)
             exact_out=True, refusals=(refusal(BOOL | INTEGRAL | COMPLEX, NotImplementedError,
                               "\"frac_cpu\" not implemented for '{dtype}'"),))
_DEG = math.pi / 180
deg2rad = unary("deg2rad", _opmath(lambda v: v * _DEG), INT_TO_FLOAT, lambda grad: grad * _DEG,
                node="Deg2RadBackward0",
                refusals=(refusal(COMPLEX, RuntimeError, "deg2rad is not supported for complex tensors."),))
rad2deg = unary("rad2deg", _opmath(lambda v: v * (1 / _DEG)), INT_TO_FLOAT, lambda grad: grad * (1 / _DEG),
                node="Rad2DegBackward0",
                refusals=(refusal(COMPLEX, RuntimeError, "rad2deg is not supported for complex tensors."),))


def _sinc_mx(v):
    z = v == 0
    safe = mx.where(z, 1, v) * math.pi
    s = _precise.sin(safe) if v.dtype == mx.float64 else mx.sin(safe)
    return mx.where(z, 1, s / safe).astype(v.dtype)


def _sinc_deriv(grad, self):
    # torch's formula: (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at x == 0
    px = self * math.pi
    return grad * ((px * px.cos() - px.sin()) / (px * self)).masked_fill(self == 0, 0.0).conj()


sinc = unary("sinc", _opmath(_sinc_mx), INT_TO_FLOAT, _sinc_deriv, complex=True)

# i0: Cephes' Chebyshev expansions (as torch's calc_i0); derivative by vjp of the expansion.
_I0_A = (-4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
         1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
         -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
         9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
         -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
         1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
         -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
         1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
         -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
         1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1)
_I0_B = (-7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
         3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
         1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
         -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
         7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
         -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10,
         3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
         2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
         8.04490411014108831608E-1)


def _chbevl(x, coeffs):
    b0 = mx.zeros_like(x) + coeffs[0]
    b1 = mx.zeros_like(x)
    b2 = b1
    for c in coeffs[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _i0e_core(ax):
    """e^-x I0(x) for x = |input| >= 0: Cephes' Chebyshev expansions on [0, 8] and on (8, inf) (0 at inf)."""
    small = ax <= 8
    xs = mx.where(small, ax, 8.0)
    xl = mx.where(small, 9.0, ax)
    return mx.where(small, _chbevl(xs / 2 - 2, _I0_A), _chbevl(32 / xl - 2, _I0_B) / mx.sqrt(xl))


def _i0_mx(v):
    ax = mx.abs(v)
    return (_precise.exp(ax) * _i0e_core(ax)).astype(v.dtype)


def _i0_deriv(grad, self):
    from .special import i1  # (_ops/special.py builds on this module)

    return grad * i1(self)


i0 = unary("i0", _opmath(_i0_mx), INT_TO_FLOAT, _i0_deriv, node="I0Backward0", refusals=_refuse_complex("i0_vml_cpu"))


def positive(input):
    _need_tensor("positive", input)
    if input.dtype is _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _logit_mx(x, eps, stream=None):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given as torch's kernel does (below eps:
    eps, else above 1 - eps: 1 - eps, so eps > 0.5 and NaN behave as torch's); half types in float32."""
    def run(v):
        if eps is not None:
            v = mx.where(v < eps, eps, mx.where(v > 1 - eps, 1 - eps, v)).astype(v.dtype)
        return mx.log(v / (1 - v))

    return _opmath(run)(x, stream=stream)


def _logit_derivative(grad, self, eps):
    # torch's: NaN outside [0, 1] without eps; with it, zero but inside [eps, 1 - eps] (a NaN input included)
    r = grad / (self * (1 - self))
    if eps is None:
        return r.masked_fill((self < 0) | (self > 1), float("nan")), None
    return r.masked_fill(~((self >= eps) & (self <= 1 - eps)), 0.0), None


# logit: an n-ary declaration for its optional `eps` number (Note [Operands of n-ary ops] in csrc/dispatch.c)
logit = nary("logit", _logit_mx, (("eps", NUMBER | NONE, SCALAR, None),), _logit_derivative, node="LogitBackward0",
             promotion=INT_TO_FLOAT, refusals=_refuse_complex("logit_cpu"))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    _need_tensor("nan_to_num", input)
    d = input.dtype
    if not (d.is_floating_point or d.is_complex):
        return _out(out, input.clone())
    real = {"complex64": _dtype.float32}.get(d.name, d)
    fi = _dtype.finfo(real)
    hi = fi.max if posinf is None else posinf
    lo = fi.min if neginf is None else neginf
    nv = 0.0 if nan is None else nan

    def fix(v):
        r = mx.where(mx.isnan(v), nv, v)
        r = mx.where(mx.isposinf(v), hi, r)
        r = mx.where(mx.isneginf(v), lo, r)
        return r.astype(v.dtype)

    def f(v):
        if v.dtype == mx.complex64:
            re, im = fix(mx.real(v)), fix(mx.imag(v))
            return (re + 1j * im).astype(mx.complex64)
        return fix(v)

    return _out(out, mlx_op("NanToNumBackward0", f, [input]))


# ---------------------------------------------------------------- predicates (bool results)


def _pred(name, fn, complex_err=None, int_value=None):
    def op(input):
        _need_tensor(name, input)
        if complex_err is not None and input.dtype.is_complex:
            raise RuntimeError(complex_err)
        if int_value is not None and not (input.dtype.is_floating_point or input.dtype.is_complex):
            r = mx.full(tuple(input.shape), int_value, dtype=mx.bool_)
        else:
            r = fn(input._mx)
        return _new(r.astype(mx.bool_), input._device_code, _dtype.bool)

    op.__name__ = name
    return op


def _cplx(fn, combine):
    def g(v):
        if v.dtype == mx.complex64:
            return combine(fn(mx.real(v)), fn(mx.imag(v)))
        return fn(v)

    return g


isnan = _pred("isnan", _cplx(mx.isnan, mx.logical_or), int_value=False)
isinf = _pred("isinf", _cplx(mx.isinf, mx.logical_or), int_value=False)
isfinite = _pred("isfinite", _cplx(mx.isfinite, mx.logical_and), int_value=True)
isposinf = _pred("isposinf", mx.isposinf, complex_err="isposinf does not support complex inputs.", int_value=False)
isneginf = _pred("isneginf", mx.isneginf, complex_err="isneginf does not support complex inputs.", int_value=False)


def _isreal_mx(v):
    if v.dtype == mx.complex64:
        return mx.imag(v) == 0
    return mx.ones(v.shape, dtype=mx.bool_)


isreal = _pred("isreal", _isreal_mx)


def _signbit_mx(v):
    if v.dtype == mx.bool_:
        return mx.zeros(v.shape, dtype=mx.bool_)
    if v.dtype in (mx.float32, mx.float16, mx.bfloat16, mx.float64):
        f = v.astype(mx.float32) if v.dtype != mx.float64 else v
        bits = f.view(mx.uint32 if f.dtype == mx.float32 else mx.uint64)
        shift = 31 if f.dtype == mx.float32 else 63
        return mx.right_shift(bits, shift).astype(mx.bool_)
    return v < 0


_signbit_pred = _pred("signbit", _signbit_mx)


def signbit(input, *, out=None):
    _need_tensor("signbit", input)
    if input.dtype.is_complex:
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return _out(out, _signbit_pred(input))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _need_tensor("isclose", input)
    _need_tensor("isclose", other, "other", 2)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_sname(input.dtype)} did not match {_sname(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    _check_broadcast(input, other)
    if equal_nan and input.dtype.is_complex:
        raise RuntimeError("isclose with equal_nan=True is not supported for complex inputs.")
    a, b = input._mx, other._mx
    d = input.dtype
    if d is _dtype.bool:
        r = mx.equal(a, b)
    else:
        wd = mx.float64 if d is _dtype.float64 else (mx.complex64 if d.is_complex else
                                                       (mx.float32 if d.is_floating_point else mx.float64))
        if not d.is_floating_point and not d.is_complex and input._device_code != 0:
            wd = mx.float32
        af, bf = a.astype(wd), b.astype(wd)
        close = mx.equal(a, b)
        if rtol != 0 or atol != 0:  # without tolerances torch compares for equality only (exact past 2**53)
            diff = mx.abs(af - bf)
            tol = atol + rtol * mx.abs(bf)
            fin = mx.isfinite(diff) if (d.is_floating_point or d.is_complex) else mx.ones(diff.shape, dtype=mx.bool_)
            close = close | (fin & (diff <= tol))
        if equal_nan and d.is_floating_point:
            close = close | (mx.isnan(a) & mx.isnan(b))
        r = close
    return _new(r.astype(mx.bool_), input._device_code, _dtype.bool)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(_mx_item(mx.all(isclose(input, other, rtol, atol, equal_nan)._mx)))


def equal(input, other):
    _need_tensor("equal", input)
    _need_tensor("equal", other, "other", 2)
    if tuple(input.shape) != tuple(other.shape):
        return False
    rt, _ = _result_type_or_complex(input, other)
    a, b = input._mx, other._mx
    if not rt.is_complex:
        a, b = a.astype(rt._mx), b.astype(rt._mx)
    return builtins.bool(_mx_item(mx.all(mx.equal(a, b))))


def is_same_size(input, other):
    _need_tensor("is_same_size", input)
    _need_tensor("is_same_size", other, "other", 2)
    return input._mx.shape == other._mx.shape


def is_nonzero(input):
    """torch.is_nonzero: the truth of a one-element tensor (NaN is nonzero); any other size is ambiguous."""
    _need_tensor("is_nonzero", input)
    n = input._mx.size
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0 else
                           "Boolean value of Tensor with more than one value is ambiguous")
    return _mx_item(input._mx) != 0


# ---------------------------------------------------------------- logical binary ops


def _logical(name, fn):
    def op(input, other, *, out=None):
        _need_tensor(name, input)
        _need_tensor(name, other, "other", 2)
        _check_broadcast(input, other)
        a = input._mx if input.dtype is _dtype.bool else (input._mx != 0)
        b = other._mx if other.dtype is _dtype.bool else (other._mx != 0)
        res = _new(fn(a, b).astype(mx.bool_), input._device_code, _dtype.bool)
        return _out(out, res)

    def inplace(self, other):
        r = op(self, other)
        if tuple(r.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
        return self._commit(r.to(self.dtype))

    op.__name__ = name
    return op, inplace


logical_and, _logical_and_ = _logical("logical_and", mx.logical_and)
logical_or, _logical_or_ = _logical("logical_or", mx.logical_or)
logical_xor, _logical_xor_ = _logical("logical_xor", mx.not_equal)


# ---------------------------------------------------------------- binary float-valued ops


def _binary_prep(name, a, b, float_result, scalars_ok=True, ints_ok=True, complex_ok=False):
    """(tensors to differentiate, f(*values) -> mx, dtype, device). Python scalars are closed over."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(a).__name__}, {type(b).__name__})")
    if not scalars_ok:
        _need_tensor(name, a)
        _need_tensor(name, b, "other", 2)
    _check_broadcast(a, b)
    rt, wide = _result_type_or_complex(a, b)
    if rt.is_complex and not complex_ok:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{'ComplexDouble' if wide else 'ComplexFloat'}'")
    if not ints_ok and not (rt.is_floating_point or rt.is_complex):
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_sname(rt)}'")
    if float_result and not (rt.is_floating_point or rt.is_complex):
        rt = _C._get_default_dtype()
    dev = a._device_code if isinstance(a, Tensor) else b._device_code
    tensors = [x for x in (a, b) if isinstance(x, Tensor)]
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    cd = mx.float32 if rt.name in _HALF else rt._mx

    def values(*vals):
        it = iter(vals)
        va = next(it).astype(cd) if a_t else mx.array(a, dtype=cd)
        vb = next(it).astype(cd) if b_t else mx.array(b, dtype=cd)
        return va, vb

    return tensors, values, rt, dev


# fmax/fmin, logaddexp/logaddexp2, hypot, copysign and xlogy: declared in the operator registry (Note [Operator
# registry] in csrc/dispatch.c) with their MLX forward, dtype rule, torch's refusals and derivative together.


def _fmax_mx(a, b):
    if not mx.issubdtype(a.dtype, mx.inexact):
        return mx.maximum(a, b)
    return mx.where((a >= b) | mx.isnan(b), a, b)  # a NaN operand loses


def _fmin_mx(a, b):
    if not mx.issubdtype(a.dtype, mx.inexact):
        return mx.minimum(a, b)
    return mx.where((a <= b) | mx.isnan(b), a, b)


def _fm_derivative(wins):
    """fmax/fmin: the gradient goes to self where it was taken (wins, or other is NaN), else to other."""
    def taken(a, b):
        return wins(a, b) | b.isnan()

    return _rule(lambda grad, a, b: grad.masked_fill(taken(a, b).logical_not(), 0),
                 lambda grad, a, b: grad.masked_fill(taken(a, b), 0))


fmax = binary("fmax", forward=binary_forward(_fmax_mx), tensors_only=True, inplace=False, node="FmaxBackward0",
              refuse=_C.REFUSE_COMPLEX_RUNTIME, derivative=_fm_derivative(lambda a, b: a >= b))
fmin = binary("fmin", forward=binary_forward(_fmin_mx), tensors_only=True, inplace=False, node="FminBackward0",
              refuse=_C.REFUSE_COMPLEX_RUNTIME, derivative=_fm_derivative(lambda a, b: a <= b))


def _logaddexp_mx(a, b):
    if mx.issubdtype(a.dtype, mx.complexfloating):
        return mx.logaddexp(a, b)
    m = mx.maximum(a, b)
    r = m + mx.log1p(_precise.exp(-mx.abs(a - b)))
    return mx.where(mx.isinf(a) & (a == b), a, r)  # both -inf (or both +inf): no inf - inf


def _logaddexp2_mx(a, b):
    m = mx.maximum(a, b)
    r = m + mx.log1p(_precise.exp(-mx.abs(a - b) * math.log(2))) / math.log(2)
    return mx.where(mx.isinf(a) & (a == b), a, r)


logaddexp = binary("logaddexp", forward=binary_forward(_logaddexp_mx), tensors_only=True, inplace=False,
                   node="LogaddexpBackward0", refuse=_C.REFUSE_INTEGRAL,
                   derivative=_rule(lambda grad, a, b: grad / _conj(1 + (b - a).exp()),
                                    lambda grad, a, b: grad / _conj(1 + (a - b).exp())))
logaddexp2 = binary("logaddexp2", forward=binary_forward(_logaddexp2_mx), tensors_only=True, inplace=False,
                    node="Logaddexp2Backward0", refuse=_C.REFUSE_INTEGRAL | _C.REFUSE_COMPLEX,
                    derivative=_rule(lambda grad, a, b: grad / (1 + (b - a).exp2()),
                                     lambda grad, a, b: grad / (1 + (a - b).exp2())))


def _hypot_mx(a, b):
    aa, ab = mx.abs(a), mx.abs(b)
    m = mx.maximum(aa, ab)
    n = mx.minimum(aa, ab)
    q = n / mx.where(m == 0, 1, m)
    r = mx.where(m == 0, 0, m * mx.sqrt(1 + q * q))  # scaled: no overflow of a*a + b*b
    return mx.where(mx.isinf(aa) | mx.isinf(ab), mx.inf, r)


hypot = binary("hypot", forward=binary_forward(_hypot_mx), tensors_only=True, node="HypotBackward0",
               refuse=_C.REFUSE_INTEGRAL | _C.REFUSE_COMPLEX,
               derivative=_rule(lambda grad, a, b, result: grad * a / result,
                                lambda grad, a, b, result: grad * b / result))


def _copysign_mx(a, b):
    return mx.where(_signbit_mx(b), -mx.abs(a), mx.abs(a))


copysign = binary("copysign", forward=binary_forward(_copysign_mx), promotion=INT_TO_FLOAT, tensor_first=True,
                  node=("CopysignBackward0", "CopysignBackward1"), refuse=_C.REFUSE_COMPLEX,
                  derivative=_rule(lambda grad, a, b, result: grad * (result / a).masked_fill(a == 0, 0.0), None))


def _xlogy_mx(a, b):
    r = mx.where(a == 0, 0, a * mx.log(b))
    return mx.where(mx.isnan(b), b, r)


def _xlogy_self(grad, a, b):
    # torch: xlogy(grad, other), zero where self == 0 and other <= 0 (so log(other) where self is 0 and other > 0:
    # the derivative of x log y at x = 0 is log y)
    g = xlogy(grad, b)
    if isinstance(b, Tensor):
        return g.masked_fill((a == 0) & (b <= 0), 0.0)
    return g.masked_fill(a == 0, 0.0) if b <= 0 else g


xlogy = binary("xlogy", forward=binary_forward(_xlogy_mx), promotion=INT_TO_FLOAT,
               node=("XlogyBackward0", "XlogyBackward2", "XlogyBackward1"), refuse=_C.REFUSE_COMPLEX,
               derivative=_rule(_xlogy_self, lambda grad, a, b: grad * a / b))


def heaviside(input, values, *, out=None):
    _need_tensor("heaviside", input)
    _need_tensor("heaviside", values, "values", 2)
    if input.dtype.is_complex or values.dtype.is_complex:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    _check_broadcast(input, values)
    a, v = input._mx, values._mx
    zero = mx.array(0, dtype=a.dtype)
    r = mx.where(a == zero, v, (a > zero).astype(a.dtype))
    res = _new(r.astype(a.dtype), input._device_code, input.dtype)
    if _grad_on(input, values):
        def bw(ctx, grads):
            raise RuntimeError("derivative for aten::heaviside is not implemented")

        record("HeavisideBackward0", bw, [input, values], [res])
    return _out(out, res)


def _on_doubles(formula):
    """A pow derivative formula run on the operands as float_power computes them: float64 (Note [Always-double
    results] in csrc/dispatch.c); _rule casts each gradient back to its operand's dtype, as torch's
    ToCopyBackward0 does."""
    def run(grad, a, b):
        return formula(grad, *[x.double() if isinstance(x, Tensor) else builtins.float(x) for x in (a, b)])

    return run


# float_power: torch.pow in float64 whatever the operands (complex128 for complex ones, which MLX lacks: a
# TypeError), the in-place form and out= needing float64 already; pow's node names and derivative.
float_power = binary("float_power", forward=mx.power, promotion=DOUBLE, other="exponent",
                     node=("PowBackward1", "PowBackward0", "PowBackward2"),
                     derivative=_rule(_on_doubles(_pow_self), _on_doubles(_pow_exponent)))


# ---------------------------------------------------------------- methods

for _n in ("nan_to_num",):
    _attach(_n, globals()[_n])
for _n in ("isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal",
           "isclose", "allclose", "equal", "signbit", "positive", "is_same_size", "is_nonzero"):
    _attach(_n, globals()[_n], inplace=False)
_attach("heaviside", heaviside)
for _n, _f, _fi in (("logical_and", logical_and, _logical_and_), ("logical_or", logical_or, _logical_or_),
                    ("logical_xor", logical_xor, _logical_xor_)):
    _attach(_n, _f, inplace=False)
    declare(_n + "_", _fi)
del _n


def rsub(input, other, *, alpha=1, out=None):
    """torch.rsub: other - alpha * input."""
    _check_tensor(input, "rsub")
    return _out(out, _torch().sub(other, input, alpha=alpha))


def _int_binary(fname, input, other, mx_fn):
    _check_tensor(input, fname)
    _check_tensor(other, fname, "other")
    rt = _torch().result_type(input, other)
    if rt.is_floating_point or rt.is_complex or rt is _dtype.bool:
        raise NotImplementedError(f'"{fname}_cpu" not implemented for \'{_sname(rt)}\'')
    a, b = input._mx.astype(rt._mx), other._mx.astype(rt._mx)
    shape = tuple(mx.broadcast_shapes(a.shape, b.shape))
    if math.prod(shape) == 0:
        arr = mx.zeros(shape, dtype=rt._mx)
    else:
        arr = mx_fn(mx.broadcast_to(a, shape), mx.broadcast_to(b, shape))
    return _new(arr, builtins.max(input._device_code, other._device_code), rt)


# Note [gcd by Euclid in fixed rounds]: gcd(a, b) = gcd(b, a mod b) on |a|, |b|, elementwise and lazily: each
# round maps (a, b) to (b, a mod b) where b != 0. The number of rounds Euclid needs is bounded by the dtype (its
# worst case is consecutive Fibonacci numbers), so a fixed count per dtype finishes every element with no
# evaluation in between: the op stays lazy and runs on any device.
_EUCLID_ROUNDS = {"uint8": 13, "int8": 12, "int16": 24, "int32": 47, "int64": 93, "uint16": 25, "uint32": 48,
                  "uint64": 94}


def _tmod(x, y):
    """C's remainder (truncating: the sign of x), which torch's kernels use; MLX's % takes the sign of y."""
    r = x % y
    return mx.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)


def _gcd_mx(a, b):
    """torch's calc_gcd, elementwise: a, b = |a|, |b|; while a: a, b = b % a, a; gcd = b (|int min| stays
    negative, as in C, and the remainders then follow C's signs)."""
    a, b = mx.abs(a), mx.abs(b)
    for _ in builtins.range(_EUCLID_ROUNDS.get(str(a.dtype).split(".")[-1], 93)):
        nz = a != 0
        a, b = mx.where(nz, _tmod(b, mx.where(nz, a, 1)), a), mx.where(nz, a, b)
    return b


def _lcm_mx(a, b):
    """|a / gcd * b|; for 8- and 16-bit types the product and its abs are taken in int32 and narrowed after (C's
    integer promotion in torch's kernel), so overflowing results wrap as torch's do."""
    g = _gcd_mx(a, b)
    dt = a.dtype
    wide = dt in (mx.int8, mx.int16, mx.uint8, mx.uint16)
    if wide:
        a, b, g = a.astype(mx.int32), b.astype(mx.int32), g.astype(mx.int32)
    r = mx.abs(mx.where(g == 0, 0, (a // mx.where(g == 0, 1, g)) * b))
    return r.astype(dt) if wide else r


def gcd(input, other, *, out=None):
    """torch.gcd: elementwise greatest common divisor of integer tensors (non-negative)."""
    return _out(out, _int_binary("gcd", input, other, _gcd_mx))


def lcm(input, other, *, out=None):
    """torch.lcm: elementwise least common multiple of integer tensors (non-negative)."""
    return _out(out, _int_binary("lcm", input, other, _lcm_mx))


def gcd_(input, other):
    return input.copy_(gcd(input, other))


def lcm_(input, other):
    return input.copy_(lcm(input, other))


def _pow2(k, dt):
    """2.0 ** k exactly, for integer arrays k within the normal exponent range of dt (float32 or float64): the
    exponent bits assembled and reinterpreted."""
    if dt == mx.float64:
        return mx.view((k.astype(mx.int64) + 1023) << 52, mx.float64)
    return mx.view((k.astype(mx.int32) + 127) << 23, mx.float32)


def _frexp_mx(x):
    """(mantissa, exponent) with x = m * 2**e, 0.5 <= |m| < 1 (m = x, e = 0 for 0, inf, nan), subnormals included.
    e is estimated from log2 and corrected by one step either way; x is scaled by 2**-e in two exact halves."""
    dt = x.dtype
    w = x if dt in (mx.float32, mx.float64) else x.astype(mx.float32)
    special = (w == 0) | mx.isinf(w) | mx.isnan(w)
    ax = mx.where(special, 1, mx.abs(w))
    e = (mx.floor(mx.log2(ax)) + 1).astype(mx.int32)
    for _ in builtins.range(2):  # |m| in [0.5, 1): fix an estimate off by one
        h = -e // 2
        m = ax * _pow2(h, w.dtype) * _pow2(-e - h, w.dtype)
        e = mx.where(m >= 1, e + 1, mx.where(m < 0.5, e - 1, e))
    h = -e // 2
    m = w * _pow2(h, w.dtype) * _pow2(-e - h, w.dtype)
    m = mx.where(special, w, m)
    e = mx.where(special, 0, e)
    return m.astype(dt), e


def frexp(input, *, out=None):
    """torch.frexp: input = mantissa * 2**exponent, |mantissa| in [0.5, 1); exponent int32. Computed with MLX ops
    (exact: powers of two from exponent bits), lazily; the mantissa's derivative is torch's grad / 2**exponent,
    recorded with package ops so it is differentiable again."""
    _check_tensor(input, "frexp")
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    dev = input._device_code
    if input.numel() == 0:
        mant_mx, exp_mx = mx.zeros(input.shape, dtype=input.dtype._mx), mx.zeros(input.shape, dtype=mx.int32)
    else:
        mant_mx, exp_mx = _frexp_mx(input._mx)
    mantissa = _new(mant_mx, dev, input.dtype)
    exponent = _new(exp_mx, dev, _dtype.int32)
    from ..autograd._derivatives import record

    compute = input.dtype if input.dtype.itemsize >= 4 else _dtype.float32

    def backward(ctx, grads):
        g = grads[0]
        return ((g.to(compute) / exponent.to(compute).exp2()).to(input.dtype),)

    record("FrexpBackward0", backward, [input], [mantissa])
    res = _return_type("frexp")(mantissa, exponent)
    if out is not None:
        _out(out[0], res.mantissa)
        _out(out[1], res.exponent)
        return _return_type("frexp_out")(out[0], out[1])
    return res


def ldexp(input, other, *, out=None):
    """torch.ldexp: input * 2**other, in the operands' promoted type (the default float type for integers)."""
    _check_tensor(input, "ldexp")
    _check_tensor(other, "ldexp", "other")
    T = _torch()
    rt = T.result_type(input, other)
    if not (rt.is_floating_point or rt.is_complex):
        rt = _C._get_default_dtype()
    return _out(out, T.mul(input.to(rt), T.pow(2.0, other.to(rt))))


def ldexp_(input, other):
    T = _torch()
    return input.mul_(T.pow(2.0, other))


def _rdiv(self, other):
    """Tensor.__rdiv__ (Python 2's name): other / self, as __rtruediv__."""
    if not isinstance(self, Tensor):  # torch's __rdiv__ starts with self.reciprocal()
        raise AttributeError(f"'{type(self).__name__}' object has no attribute 'reciprocal'")
    return Tensor.__rtruediv__(self, other)


# Tensor methods of the functions above (never replacing one another module attached first)
_METHODS = {
    "gcd": gcd, "gcd_": gcd_, "lcm": lcm, "lcm_": lcm_, "frexp": frexp, "ldexp": ldexp, "ldexp_": ldexp_,
    "__rdiv__": _rdiv,
}

for _name, _fn in _METHODS.items():
    declare(_name, _fn)
del _name, _fn
