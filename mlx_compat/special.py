"""torch.special.

erf/erfc/erfinv/ndtr/ndtri/log_ndtr are built on the accurate erf/erfc kernels of _ops/elementwise.py
(FreeBSD s_erf.c), so they hold to float64 accuracy; derivatives are hand-written (torch's formulas)."""
from __future__ import annotations

import math

import mlx.core as mx

from ._ops import pointwise as _pointwise
from .autograd._derivatives import record
from ._ops.creation import _out
from ._ops.elementwise import (_compute, _erf_accurate, _float_dtype, _grad_on, _need_tensor, _new, _log_ndtr_mx,
                               _ndtr_mx, _ndtri_mx, erfc, erfinv, i0, logit, sinc, xlog1py, xlogy)

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "sinc", "xlogy", "xlog1py", "entr",
           "ndtr", "ndtri", "log_ndtr", "i0", "round", "softmax", "log_softmax",
           "gammaln", "digamma", "psi", "polygamma", "multigammaln", "gammainc", "gammaincc", "i0e", "i1", "i1e",
           "erfcx", "zeta", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p", "logsumexp"]

erf = _erf_accurate
exp2 = _pointwise.exp2
expm1 = _pointwise.expm1
log1p = _pointwise.log1p

_SQRT_2PI = math.sqrt(2 * math.pi)

# gamma family, Bessel functions and orthogonal polynomials live in _ops/special.py (float64 kernels)
from ._ops.special import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t,  # noqa: E402
                           chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w, digamma, erfcx,
                           hermite_polynomial_h, hermite_polynomial_he, i0e, i1, i1e, igamma as gammainc,
                           igammac as gammaincc, laguerre_polynomial_l, legendre_polynomial_p, lgamma as gammaln,
                           modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1,
                           mvlgamma as multigammaln, polygamma, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                           shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
                           shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w, spherical_bessel_j0, zeta)

psi = digamma


def expit(input, *, out=None):
    return _pointwise.sigmoid(input, out=out)


def round(input, *, decimals=0, out=None):  # noqa: A001 - torch's name
    _need_tensor("round", input)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        from ._ops.operators import _SCALAR_NAMES

        raise NotImplementedError(f"\"round_vml_cpu\" not implemented for '{_SCALAR_NAMES[input.dtype.name]}'")
    return _pointwise.round(input, decimals=decimals, out=out)


def softmax(input, dim, *, dtype=None):
    from .nn import functional as F

    return F.softmax(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False, *, out=None):
    from ._ops.reduction import logsumexp as _lse

    return _lse(input, dim, keepdim, out=out)


def log_softmax(input, dim, *, dtype=None):
    from .nn import functional as F

    return F.log_softmax(input, dim, dtype=dtype)


def _unary(name, node, fwd, deriv):
    """float-valued unary op with a hand-written derivative: _ops/elementwise.py's declaration helper."""
    from ._ops.elementwise import _unary_custom

    return _unary_custom(name, node, fwd, deriv, f"\"{name}_cpu\" not implemented for 'ComplexFloat'")


def _entr_mx(x):
    pos = x > 0
    safe = mx.where(pos, x, 1)
    r = mx.where(pos, -x * mx.log(safe), mx.where(x == 0, 0, -mx.inf))
    return mx.where(mx.isnan(x), x, r).astype(x.dtype)


entr = _unary("entr", "SpecialEntrBackward0", _entr_mx, lambda x, y, g: g * -(1 + x.log()))
ndtr = _unary("ndtr", "SpecialNdtrBackward0", _ndtr_mx,
              lambda x, y, g: g * (x * x * -0.5).exp() / _SQRT_2PI)
log_ndtr = _unary("log_ndtr", "SpecialLogNdtrBackward0", _log_ndtr_mx,
                  lambda x, y, g: g * (x * x * -0.5 - y).exp() / _SQRT_2PI)
ndtri = _unary("ndtri", "SpecialNdtriBackward0", _ndtri_mx,
               lambda x, y, g: g * (y * y * 0.5).exp() * _SQRT_2PI)
