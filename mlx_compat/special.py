"""torch.special.

torch.special's own operators (entr, erfcx, ndtri, log_ndtr, i0e/i1/i1e, the Bessel and Airy functions,
xlog1py, zeta, the orthogonal polynomials) are function-only declarations of the operator registry in
_ops/special.py (Note [torch.special primitives]); ndtr is torch's composite there. The rest of this namespace
are torch's aliases of top-level operators (expit is sigmoid, gammaln lgamma, psi digamma, gammainc(c)
igamma(c), multigammaln mvlgamma, ...), bound to the same objects or thin wrappers for torch's signatures."""
from __future__ import annotations

from ._ops import pointwise as _pointwise
from ._ops.elementwise import _erf_accurate, _need_tensor, erfc, erfinv, i0, logit, sinc, xlogy

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

# gamma family, Bessel functions, orthogonal polynomials and torch.special's own operators: _ops/special.py
from ._ops.special import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t,  # noqa: E402
                           chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w, digamma, entr,
                           erfcx, hermite_polynomial_h, hermite_polynomial_he, i0e, i1, i1e, igamma as gammainc,
                           igammac as gammaincc, laguerre_polynomial_l, legendre_polynomial_p, lgamma as gammaln,
                           modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1,
                           mvlgamma as multigammaln, polygamma, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                           shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
                           shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w, spherical_bessel_j0, zeta,
                           log_ndtr, ndtr, ndtri, xlog1py)

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
