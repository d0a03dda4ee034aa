"""torch.masked reductions and normalizations on strided tensors with a boolean `mask`.

Note [masked ops by identity fill]
As torch/masked/_ops.py does for strided inputs, each op replaces masked-out elements by the identity of its
reduction (0 for sum, 1 for prod, -inf / the dtype's minimum for amax and argmax, +inf / maximum for amin and
argmin, nan for median, which then uses nanmedian) and runs the ordinary op; a reduction over only masked-out
elements therefore yields the identity (mean, var and std divide by the count of masked-in elements: nan there).
The mask broadcasts to the input's shape and must not have more dimensions. Everything is composed from the
package's differentiable ops, so gradients flow to masked-in elements only (where() routes zero to the rest).
MaskedTensor inputs are not supported.
"""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _dtype
from ..autograd._derivatives import record
from .._tensor import Tensor, _new

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean", "median", "logsumexp",
           "logaddexp", "norm", "var", "std", "softmax", "log_softmax", "softmin", "normalize"]

_SMALL_INTS = ("uint8", "bool", "int8", "int16", "int32")


def _mc():
    import mlx_compat

    return mlx_compat


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"masked {name}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _canonical_dim(dim, ndim):
    """dim as a sorted tuple of non-negative dims (None or () means all), torch's checks."""
    if dim == () or dim is None:
        return tuple(range(ndim))
    n = builtins.max(ndim, 1)
    dims = []
    for d in ((dim,) if isinstance(dim, int) else dim):
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= n or d < -n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        dims.append(d % n)
    return tuple(sorted(dims))


def _input_mask(input, mask):
    """The mask as a bool tensor of input's shape."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a Tensor, not {type(mask).__name__}")
    if tuple(mask.shape) != tuple(input.shape):
        if mask.dim() > input.dim():
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality higher than of the "
                             "input)")
        mask = _mc().broadcast_to(mask, input.shape)
    return mask.to(_dtype.bool)


def _identity(op, input, ord=None):
    """Identity of `op` on input's dtype (Note [masked ops by identity fill]); None where torch has none."""
    mc = _mc()
    dt = input.dtype
    fl = dt.is_floating_point
    if op in ("sum", "cumsum"):
        return 0
    if op in ("prod", "cumprod"):
        return 1
    if op in ("amax", "argmax", "logaddexp", "logsumexp"):
        if fl or dt.is_complex:
            return float("-inf")
        if dt is not _dtype.bool:
            return mc.iinfo(dt).min
    elif op in ("amin", "argmin"):
        if fl:
            return float("inf")
        if dt is not _dtype.bool:
            return mc.iinfo(dt).max
    elif op == "norm":
        return float("inf") if ord == float("-inf") else 0
    elif op == "median":
        return float("nan")
    raise NotImplementedError(f"identity of {op} on {str(dt).split('.')[-1].capitalize()} input")


def _select(m, input, fill):
    """where(m, input, fill) with a nan-safe backward (Note [masked-out gradients are zero]); a Tensor fill
    gets no gradient."""
    c = m._mx
    f = fill._mx.astype(input.dtype._mx) if isinstance(fill, Tensor) else mx.array(fill, dtype=input.dtype._mx)
    res = _new(mx.where(c, input._mx, f), input._device_code, input.dtype)

    def backward(ctx, grads):
        from ..autograd._mlx_vjp import mlx_op

        return (mlx_op("MaskedCombineBackward", lambda g: mx.where(c, g, mx.zeros_like(g)), [grads[0]]),)

    record("MaskedCombineBackward0", backward, [input], [res])
    return res


def _combine(op, input, mask, ord=None):
    """input with masked-out elements replaced by op's identity.

    Note [masked-out gradients are zero]
    The gradient of a masked-out element is exactly 0 even where the incoming gradient is nan (a fully masked-out
    softmax row): the backward selects with mx.where. (MLX's own vjp of where multiplies by the condition,
    which turns nan into nan, so the package's where is not used here.)"""
    if mask is None:
        return input
    return _select(_input_mask(input, mask), input, _identity(op, input, ord))


def _int64_if_small(input, dtype):
    if dtype is not None:
        return dtype
    return _dtype.int64 if input.dtype.name in _SMALL_INTS else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A001 - torch's name
    _check_input("sum", input)
    dtype = _int64_if_small(input, dtype)
    dims = _canonical_dim(dim, input.dim())
    x = _combine("sum", input, mask)
    if not dims:
        return x.to(dtype)
    return _mc().sum(x, dims, builtins.bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    _check_input("prod", input)
    dtype = _int64_if_small(input, dtype)
    dims = _canonical_dim(dim, input.dim())
    r = _combine("prod", input, mask).to(dtype)
    for d in reversed(dims):
        r = r.prod(dim=d, keepdim=builtins.bool(keepdim))
    return r


def cumsum(input, dim, *, dtype=None, mask=None):
    _check_input("cumsum", input)
    dtype = input.dtype if dtype is None else dtype
    if dtype is _dtype.bool:
        raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
    d = _canonical_dim(dim, input.dim())[0]
    return _mc().cumsum(_combine("sum", input, mask), d, dtype=dtype).to(dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    _check_input("cumprod", input)
    dtype = input.dtype if dtype is None else dtype
    if dtype is _dtype.bool:
        raise NotImplementedError("\"cumprod_out_cpu\" not implemented for 'Bool'")
    d = _canonical_dim(dim, input.dim())[0]
    return _mc().cumprod(_combine("prod", input, mask), d, dtype=dtype).to(dtype)


def _minmax(name):
    def op(input, dim=None, *, keepdim=False, dtype=None, mask=None):
        _check_input(name, input)
        dtype = input.dtype if dtype is None else dtype
        x = _combine(name, input, mask)
        dims = _canonical_dim(dim, x.dim())
        return getattr(_mc(), name)(x, dims, builtins.bool(keepdim)).to(dtype)

    op.__name__ = name
    return op


amax = _minmax("amax")
amin = _minmax("amin")


def _argminmax(name):
    def op(input, dim=None, *, keepdim=False, dtype=None, mask=None):
        _check_input(name, input)
        dtype = input.dtype if dtype is None else dtype
        x = _combine(name, input, mask)
        return getattr(_mc(), name)(x, dim, builtins.bool(keepdim)).to(dtype)

    op.__name__ = name
    return op


argmax = _argminmax("argmax")
argmin = _argminmax("argmin")


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    _check_input("mean", input)
    source = "Optional"
    if dtype is None:
        dtype = input.dtype
        source = "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either a floating point or "
                         f"complex dtype. Got: {dtype}")
    mc = _mc()
    if mask is None:
        count = sum(mc.ones(input.shape, dtype=_dtype.int64, device=input.device), dim, keepdim=keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype)
    else:
        m = _input_mask(input, mask)
        dims = _canonical_dim(dim, input.dim())
        count = m.sum(dim=dims, keepdim=builtins.bool(keepdim)) if dims else m.to(_dtype.int64)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=m)
    return total / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    _check_input("median", input)
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(_dtype.float32)
    x = _combine("median", input, mask)
    out = _mc().nanmedian(x, d, keepdim).values
    if is_float:
        return out
    if builtins.bool(out.isnan().any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return out.to(dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    _check_input("logsumexp", input)
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.dim())
    x = _combine("logsumexp", input, mask)
    return _mc().logsumexp(x, dims, keepdim=keepdim).to(dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    _check_input("logaddexp", input)
    dtype = input.dtype if dtype is None else dtype
    a = _combine("logaddexp", input, input_mask)
    b = _combine("logaddexp", other, other_mask)
    return _mc().logaddexp(a, b).to(dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    _check_input("norm", input)
    dtype = input.dtype if dtype is None else dtype
    x = _combine("norm", input, mask, ord)
    dims = _canonical_dim(dim, input.dim())
    return _mc().linalg.vector_norm(x, ord, dims, builtins.bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, correction_opt, keepdim, dtype, mask, take_sqrt):
    mc = _mc()
    if unbiased is not None and correction_opt is not None:
        raise AssertionError("Only one of unbiased and correction may be given")  # torch's type
    correction = 1.0
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    if correction_opt is not None:
        correction = builtins.float(correction_opt)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = _dtype.float32
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else _dtype.float32
    dims = _canonical_dim(dim, input.dim())
    if mask is None:
        count = sum(mc.ones(input.shape, dtype=_dtype.int64, device=input.device), dim, keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype)
        m = None
    else:
        m = _input_mask(input, mask)
        count = m.sum(dim=dims, keepdim=True) if dims else m.to(_dtype.int64)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype, mask=m)
    x = input - sample_total / count
    sq = x * x.conj() if x.dtype.is_complex else x * x
    total = sum(sq, dim, keepdim=keepdim, dtype=compute, mask=m)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        real = _dtype.float32 if compute is _dtype.complex64 else compute
        count = count.to(real) - correction
        count = mc.maximum(count, mc.zeros((), dtype=count.dtype, device=count.device))
    out = (total / count).to(dtype)
    return out.sqrt() if take_sqrt else out


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    _check_input("var", input)
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    _check_input("std", input)
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def _normalization(name, fill_op):
    def op(input, dim, *, dtype=None, mask=None):
        _check_input(name, input)
        dtype = input.dtype if dtype is None else dtype
        d = _canonical_dim(dim, input.dim())[0]
        if mask is not None and (dtype is _dtype.float64 or input.dtype is _dtype.float64) and \
                input.dtype.is_floating_point:
            return _normalization_f64(name, fill_op, input, d, dtype, _input_mask(input, mask))
        x = _combine(fill_op, input, mask)
        return getattr(_mc().nn.functional, name)(x, d, dtype=dtype)

    op.__name__ = name
    return op


def _normalization_f64(name, fill_op, input, d, dtype, m):
    """Note [float64 masked softmax]: the float64 softmax is built on _precise.exp, whose MLX vjp is nan for
    arguments below about -709 (exp(x) = 1 / (expm1(-x) + 1) and expm1 overflows), so a -inf identity fill gives
    nan gradients to masked-in elements. In float64 we fill masked-out places with the masked-in extreme -/+ 700
    instead (their exp is ~1e-304, nothing next to the masked-in terms), then add constants that give torch's
    outputs there: 0 for softmax/softmin (a product with the mask), -inf for log_softmax, nan in slices with
    nothing masked in. Adding constants keeps the cotangent of every output flowing as in torch (log_softmax's
    gradient sums the cotangents of masked-out outputs too)."""
    mc = _mc()
    big = fill_op == "amin"
    with mc.no_grad():
        ext = (mc.amin if big else mc.amax)(_select(m, input, float("inf") if big else float("-inf")), d,
                                            keepdim=True)
        ext = mc.where(mc.isfinite(ext), ext, mc.zeros_like(ext))
        fill = (ext + 700.0 if big else ext - 700.0).expand(*input.shape)
    x = _select(m, input, fill)
    r = getattr(mc.nn.functional, name)(x, d, dtype=dtype)
    zero = mc.zeros((), dtype=r.dtype, device=r.device)
    if name == "log_softmax":
        r = r + mc.where(m, zero, mc.full((), float("-inf"), dtype=r.dtype, device=r.device))
    else:
        r = r * m.to(r.dtype)
    any_in = m.any(dim=d, keepdim=True)
    return r + mc.where(any_in, zero, mc.full((), float("nan"), dtype=r.dtype, device=r.device))


softmax = _normalization("softmax", "amax")
log_softmax = _normalization("log_softmax", "amax")
softmin = _normalization("softmin", "amin")


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    _check_input("normalize", input)
    dtype = input.dtype if dtype is None else dtype
    x = _combine("sum", input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    denom = _mc().maximum(nrm, _mc().full((), eps, dtype=nrm.dtype, device=nrm.device))
    return x / denom
