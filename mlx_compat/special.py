"""torch.special (operators issue).

erf/erfc/erfinv/ndtr/ndtri/log_ndtr are built on the accurate erf/erfc kernels of _ops_elementwise
(FreeBSD s_erf.c), so they hold to float64 accuracy; derivatives are hand-written (torch's formulas)."""
from __future__ import annotations

import math

import mlx.core as mx

from . import _pointwise
from ._autograd_formulas import record
from ._creation import _out
from ._ops_elementwise import (_compute, _erf_accurate, _float_dtype, _grad_on, _need_tensor, _new, erfc, erfc_mx,
                               erfinv, i0, log_erfc_mx, logit, sinc, xlog1py, xlogy)

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "sinc", "xlogy", "xlog1py", "entr",
           "ndtr", "ndtri", "log_ndtr", "i0", "round", "softmax", "log_softmax"]

erf = _erf_accurate
exp2 = _pointwise.exp2
expm1 = _pointwise.expm1
log1p = _pointwise.log1p

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2 * math.pi)
_LOG_HALF = math.log(0.5)


def expit(input, *, out=None):
    return _pointwise.sigmoid(input, out=out)


def round(input, *, decimals=0, out=None):  # noqa: A001 - torch's name
    _need_tensor("round", input)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        from ._ops import _SCALAR_NAMES

        raise NotImplementedError(f"\"round_vml_cpu\" not implemented for '{_SCALAR_NAMES[input.dtype.name]}'")
    return _pointwise.round(input, decimals=decimals, out=out)


def softmax(input, dim, *, dtype=None):
    from .nn import functional as F

    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    from .nn import functional as F

    return F.log_softmax(input, dim, dtype=dtype)


def _unary(name, node, fwd, deriv):
    """float-valued unary op: forward fwd (MLX), derivative deriv(x, y, g) in the package's ops."""

    def op(input, *, out=None):
        _need_tensor(name, input)
        if input.dtype.is_complex:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'ComplexFloat'")
        d = _float_dtype(input)
        res = _new(_compute(fwd, d)(input._mx), input._device_code, d)
        if _grad_on(input):
            record(node, lambda ctx, grads: (deriv(ctx[0], ctx[1], grads[0]),), [input], [res],
                   saved=[input, res])
        return _out(out, res)

    op.__name__ = name
    return op


def _entr_mx(x):
    pos = x > 0
    safe = mx.where(pos, x, 1)
    r = mx.where(pos, -x * mx.log(safe), mx.where(x == 0, 0, -mx.inf))
    return mx.where(mx.isnan(x), x, r).astype(x.dtype)


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
        y = y - step
    r = mx.where(upper, -y, y)
    r = mx.where(p == 0, -mx.inf, mx.where(p == 1, mx.inf, r))
    r = mx.where((p < 0) | (p > 1) | mx.isnan(p), mx.nan, r)
    return r.astype(p.dtype)


entr = _unary("entr", "SpecialEntrBackward0", _entr_mx, lambda x, y, g: g * -(1 + x.log()))
ndtr = _unary("ndtr", "SpecialNdtrBackward0", _ndtr_mx,
              lambda x, y, g: g * (x * x * -0.5).exp() / _SQRT_2PI)
log_ndtr = _unary("log_ndtr", "SpecialLogNdtrBackward0", _log_ndtr_mx,
                  lambda x, y, g: g * (x * x * -0.5 - y).exp() / _SQRT_2PI)
ndtri = _unary("ndtri", "SpecialNdtriBackward0", _ndtri_mx,
               lambda x, y, g: g * (y * y * 0.5).exp() * _SQRT_2PI)
