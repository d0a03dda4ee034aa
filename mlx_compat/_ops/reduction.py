"""Reductions, scans and statistics: max/min (with dim -> (values, indices)), argmax/argmin, amax/amin,
var/std, prod, aminmax, logsumexp, norm, count_nonzero, nansum/nanmean, var_mean/std_mean,
median/nanmedian/mode/quantile/nanquantile, cumsum/cumprod/cummax/cummin/logcumsumexp, cov/corrcoef,
renorm/dist, and the histograms (histc, histogram, histogramdd, bincount). Exports are listed in __all__ and
re-exported by mlx_compat/__init__.py; Tensor methods are attached here (never replacing an existing attribute,
except max/min/argmax/argmin/amax/amin/var/std, which always are).

Differentiation: ops defined by their MLX forward go through `mlx_op` (mx.vjp, any order). max/min are
differentiable through their indices (ties of the full reduction share the gradient evenly, as torch); var/std
are composed from the package's differentiable ops. Selections (median(dim)/mode/cummax/cummin/quantile, and
sorting.py's sort/topk/kthvalue) compute their indices outside the differentiated function and gather with them
inside it, so the gradient flows to the selected index exactly as torch's (value_selecting_reduction_backward);
median()/nanmedian() without dim share the gradient evenly among the elements equal to the result, as torch's
evenly_distribute_backward. Compositions of the package's own differentiable ops (cov, renorm, dist) need no
derivative of their own. bincount and histogram/histogramdd, whose result shapes depend on the values, evaluate
their inputs, as torch's CPU kernels see the values.
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx
import numpy as np

from .. import _C, _argcheck, _dtype, return_types
from . import precise as _precise
from ..autograd._mlx_vjp import mlx_op
from .._methods import declare_methods, inplace_variant
from .._tensor import Tensor, _new, _wrap_dim, _int_arg, _mx_item
from ._common import _check_tensor, _sname, _torch, _device_str, _return_type
from .._device_scope import warn as _warn
from .fast import fast_path

__all__ = [
    "prod", "aminmax", "logsumexp", "norm", "count_nonzero", "cumsum", "cumprod", "cummax", "cummin",
    "logcumsumexp", "median", "nanmedian", "nanmean", "nansum", "mode", "var_mean", "std_mean", "quantile",
    "nanquantile", "histc",
    "cov", "corrcoef", "renorm", "dist", "bincount", "histogram", "histogramdd", "frobenius_norm", "nuclear_norm",
]

# ---------------------------------------------------------------- helpers


def _w(arr, like, dtype=None):
    return _new(arr, like._device_code, dtype if dtype is not None else _dtype.from_mx(arr.dtype))


def _idx(arr, like, int32=False):
    return _w(arr.astype(mx.int32 if int32 else mx.int64), like, _dtype.int32 if int32 else _dtype.int64)


def _axes(dim, nd):
    """MLX axes of a torch dim argument (None, int, tuple/list; () means all); None = all axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    if isinstance(dim, (tuple, list)):
        ds = [_wrap_dim(d, nd) for d in dim]
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    else:
        ds = [_wrap_dim(dim, nd)]
    return None if nd == 0 else ds


def _reduce_shape(shape, axes, keepdim):
    nd = len(shape)
    axes = builtins.range(nd) if axes is None else axes
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _out(out, result):
    from .creation import _out as put

    return put(out, result)


def _out_tuple(out, results, cls=None):
    if out is None:
        return results
    if not isinstance(out, (tuple, list)) or len(out) != len(results):
        raise TypeError(f"out must be a tuple of {len(results)} Tensors")
    for o, r in zip(out, results):
        _out(o, r)
    res = tuple(out)
    return cls(*res) if cls is not None else res


def _acc_dtype(input, dtype):
    """torch's accumulation dtype for sum-like ops: dtype= wins, else integral/bool -> int64."""
    if dtype is not None:
        return input if input.dtype is dtype else input.to(dtype)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        return input.to(_dtype.int64)
    return input


def _sortable(x):
    return x.astype(mx.uint8) if x.dtype == mx.bool_ else x


def _flip(x, axis):
    key = (slice(None),) * axis + (slice(None, None, -1),)
    return x[key]


def _argsort_mx(x, axis, descending=False):
    """Stable argsort along axis, NaN largest; descending keeps equal elements in their original order."""
    x = _sortable(x)
    if not descending:
        return mx.argsort(x, axis=axis).astype(mx.int32)
    n = x.shape[axis]
    i = _flip(mx.argsort(_flip(x, axis), axis=axis), axis).astype(mx.int32)
    return (n - 1) - i


def _keep(idx, d, nd, keepdim):
    """Post-process a keepdim-shaped (along d) array into torch's result shape."""
    if nd == 0:
        return idx.reshape(())
    return idx if keepdim else mx.squeeze(idx, axis=d)


def _select(name, input, idx, d, keepdim, cls):
    """(values, indices) of a value-selecting reduction: idx (keepdim shape, along d) picks the values."""
    nd = input.dim()

    def f(v):
        v = v.reshape(1) if nd == 0 else v
        return _keep(mx.take_along_axis(v, idx, axis=d), d, nd, keepdim)

    values = mlx_op(name, f, [input])
    return cls(values, _idx(_keep(idx, d, nd, keepdim), input))


def _gather_all(name, input, idx, d):
    """Values x gathered by idx along d (same rank, any length along d), differentiable through the index."""
    nd = input.dim()

    def f(v):
        v = v.reshape(1) if nd == 0 else v
        r = mx.take_along_axis(v, idx, axis=d)
        return r.reshape(()) if nd == 0 else r

    return mlx_op(name, f, [input])


def _x1(input):
    """The input's value with 0-dim lifted to 1-dim (ops along a dim treat a scalar as one element)."""
    x = input._mx
    return x.reshape(1) if input.dim() == 0 else x


_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                   "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                   "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>"}


def _scan_inplace_check(name):
    """cumsum_/cumprod_'s own refusals, before the scan (inplace_variant's `before`): torch has no in-place bool
    kernel, and a `dtype=` other than the tensor's is a bad in-place call."""
    def before(self, args, kwargs):
        d = kwargs.get("dtype")
        if d is None and self.dtype is _dtype.bool:
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        if d is not None and d is not self.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_CPP_TYPE_NAMES[self.dtype.name]} and "
                               f"output tensor dtype {_CPP_TYPE_NAMES.get(d.name, d.name)} should match")

    return before


def _bool(v, fname, name):
    """A bool argument as torch's parser takes it: Python/numpy bools only (ints are a TypeError)."""
    if isinstance(v, (builtins.bool, np.bool_)):
        return builtins.bool(v)
    raise TypeError(f"{fname}(): argument '{name}' must be bool, not {type(v).__name__}")


def _int(v, fname, name):
    from .._tensor import _int_arg

    return _int_arg(v, fname, is_dim=True)


def _check_no_complex(input, name):
    if input.dtype.is_complex:
        raise RuntimeError(f"{name}(): does not support complex input")


# ---------------------------------------------------------------- reductions


def _empty_guard(f, x, axes, keepdim, fill):
    """f, or for an empty input a constant fill of the reduced shape. Note [Empty reductions]: MLX 0.32's CPU
    backend can hang evaluating an elementwise op on the result of a reduction over a zero-size axis
    (mx.sum(zeros((0, 3)), axis=[0]) - inf spins intermittently), so empty reductions never reach MLX."""
    if x.numel() != 0:
        return f
    shape = _reduce_shape(tuple(x.shape), axes, keepdim)
    return lambda v: mx.full(shape, fill, v.dtype)


_NODIM = object()


def prod(input, dim=_NODIM, keepdim=False, *, dtype=None, out=None):
    """Product; integral/bool inputs give int64 (as torch). dim is a single int, as in torch."""
    _bool(keepdim, "prod", "keepdim")
    if dim is _NODIM:
        dim = None
    elif dim is None or isinstance(dim, (tuple, list)):
        raise TypeError("prod() received an invalid combination of arguments - got (Tensor, tuple), but expected "
                        "one of: (Tensor input, *, torch.dtype dtype), (Tensor input, int dim, bool keepdim, ...)")
    x = _acc_dtype(input, dtype)
    if dim is None:
        # MLX multiplies bool and 8/16-bit integers into int32: the asked type wraps as torch's
        r = mlx_op("ProdBackward0", _empty_guard(lambda v: mx.prod(v).astype(v.dtype), x, None, False, 1), [x])
    else:
        axes = _axes(dim, x.dim())
        f = (lambda v: mx.prod(v, axis=axes, keepdims=keepdim).astype(v.dtype)) if axes else (lambda v: v * 1)
        r = mlx_op("ProdBackward1", _empty_guard(f, x, axes, keepdim, 1), [x])
    return _out(out, r)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    _bool(keepdim, "aminmax", "keepdim")
    _check_no_complex(input, "aminmax")
    nd = input.dim()
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        axes = None
    else:
        axes = _axes(dim, nd)
        if axes is not None and input.shape[axes[0]] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {axes[0]} to have non-zero size.")

    def f(v):
        if nd == 0:  # MLX returns a 0-d input itself from min/max: two outputs would be one node to mx.vjp
            return mx.min(v.reshape(1), axis=0), mx.max(v.reshape(1), axis=0)
        lo, hi = mx.min(v, axis=axes, keepdims=keepdim), mx.max(v, axis=axes, keepdims=keepdim)
        if dim is None and keepdim:
            lo, hi = lo.reshape((1,) * nd), hi.reshape((1,) * nd)
        return lo, hi

    lo, hi = mlx_op("AminmaxBackward0", f, [input])
    return _out_tuple(out, return_types.aminmax(lo, hi), return_types.aminmax)


def logsumexp(input, dim, keepdim=False, *, out=None):
    _bool(keepdim, "logsumexp", "keepdim")
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    x = input if (input.dtype.is_floating_point or input.dtype.is_complex) else input.to(_C._get_default_dtype())
    axes = _axes(dim, x.dim())
    if axes is None:
        if x.dim() != 0:
            axes = list(builtins.range(x.dim()))
        else:
            return _out(out, mlx_op("LogsumexpBackward0", lambda v: v * 1, [x]))
    if x.numel() == 0:  # MLX refuses empty input; torch gives -inf (the empty sum's log)
        return _out(out, mlx_op("LogsumexpBackward0", _empty_guard(None, x, axes, keepdim, -math.inf), [x]))
    res = _new(_C._scoped(x._device_code, lambda v: _precise.logsumexp(v, axes, keepdims=keepdim), x._mx),
               x._device_code, x.dtype)
    from ..autograd._derivatives import record

    def backward(ctx, grads):
        # torch's formula grad * exp(x - result): with a +inf element only that one is NaN (exp(1 - inf) is 0),
        # where the vjp of the max-shifted forward made every element NaN
        xs, r = ctx[0], ctx[1]
        g = grads[0]
        if not keepdim:
            for a in sorted(axes):
                g, r = g.unsqueeze(a), r.unsqueeze(a)
        return (g * (xs - r).exp(),)

    record("LogsumexpBackward0", backward, [x], [res], saved=(x, res))
    return _out(out, res)


def _safe_root(s, p):
    """s ** (1/p) with a zero gradient where s == 0 (torch's norm backward masks norm == 0)."""
    z = s == 0
    safe = mx.where(z, mx.ones_like(s), s)
    r = mx.sqrt(safe) if p == 2 else mx.power(safe, 1.0 / p)
    return mx.where(z, mx.zeros_like(s), r)


def _vector_norm_mx(v, p, axes, keepdim, nd):
    a = mx.abs(v)
    if p == math.inf:
        r = mx.max(a, axis=axes, keepdims=keepdim)
    elif p == -math.inf:
        r = mx.min(a, axis=axes, keepdims=keepdim)
    elif p == 0:
        r = mx.sum((v != 0).astype(a.dtype), axis=axes, keepdims=keepdim)
    elif p == 1:
        r = mx.sum(a, axis=axes, keepdims=keepdim)
    elif p == 2:
        r = _safe_root(mx.sum(a * a if v.dtype == mx.complex64 else v * v, axis=axes, keepdims=keepdim), 2)
    else:
        r = _safe_root(mx.sum(mx.power(a, p), axis=axes, keepdims=keepdim), p)
    if axes is None and keepdim:
        r = r.reshape((1,) * nd)
    return r


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: numeric p -> vector norm over dim (all elements if None); 'fro' -> 2-norm over <= 2 dims;
    'nuc' -> nuclear norm over 2 dims (singular values on MLX's CPU stream)."""
    _bool(keepdim, "norm", "keepdim")
    if isinstance(p, Tensor) and p.dim() == 0 and not p.dtype.is_complex:
        p = p.item()
    if isinstance(p, builtins.complex):
        raise RuntimeError("norm(): p must be a real number")
    if not (p is None or isinstance(p, (str, builtins.int, builtins.float))):
        raise TypeError(f"norm(): argument 'p' must be Number or str, not {type(p).__name__}")
    if isinstance(p, builtins.int) and not -(2 ** 63) <= p < 2 ** 63:
        raise OverflowError("norm(): p overflows")
    if dim is not None:
        try:
            for d in (dim if isinstance(dim, (tuple, list)) else (dim,)):
                _int(d, "norm", "dim")
        except ValueError as e:
            raise TypeError(str(e)) from None
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_sname(input.dtype)}")
    x = input.to(dtype) if dtype is not None and dtype is not input.dtype else input
    nd = x.dim()
    if isinstance(dim, builtins.int) and not isinstance(dim, builtins.bool):
        dim = (dim,)
    if isinstance(p, str):
        if p == "fro" and (dim is None or len(dim) <= 2):
            p = 2
        elif p == "nuc":
            return _out(out, _nuclear(x, dim, keepdim))
        else:
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    if p is None:
        p = 2
    axes = _axes(dim, nd)
    if nd == 0:
        axes = None
    red = builtins.range(nd) if axes is None else axes
    if x.numel() == 0 and p in (math.inf, -math.inf) and builtins.any(x.shape[a] == 0 for a in red):
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor because the operation "
                           "does not have an identity")
    p = float(p)
    f = _empty_guard(lambda v: _vector_norm_mx(v, p, axes, keepdim, nd), x, axes, keepdim, 0)
    return _out(out, mlx_op("NormBackward1", f, [x]))


def _nuclear(x, dim, keepdim):
    from ..autograd._derivatives import record

    nd = x.dim()
    if dim is None:
        dim = (0, 1) if nd == 2 else None
    if dim is None or len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got " + str(dim))
    d0, d1 = [_wrap_dim(d, nd) for d in dim]
    rest = [i for i in builtins.range(nd) if i not in (d0, d1)]
    perm = rest + [d0, d1]
    m = mx.transpose(x._mx, perm)
    u, s, vt = mx.linalg.svd(m, compute_uv=True, stream=mx.cpu)
    k = builtins.min(m.shape[-2], m.shape[-1])
    u, s, vt = u[..., :, :k], s, vt[..., :k, :]
    r = mx.sum(s, axis=-1)
    out_shape = _reduce_shape(tuple(x.shape), [d0, d1], keepdim)
    res = _w(r.reshape(out_shape).astype(x._mx.dtype), x)
    uvt = _w(mx.transpose(u @ vt, _inverse(perm)).astype(x._mx.dtype), x)

    def bw(ctx, grads):
        g = grads[0]
        if not keepdim:
            g = g.reshape(_reduce_shape(tuple(x.shape), [d0, d1], True))
        return (g * uvt,)

    record("LinalgMatrixNormBackward0", bw, [x], [res])
    return res


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def count_nonzero(input, dim=None):
    axes = _axes(dim, input.dim())
    if input.numel() == 0:  # Note [Empty reductions]
        return _idx(mx.zeros(_reduce_shape(tuple(input.shape), axes, False), mx.int64), input)
    r = mx.sum((input._mx != 0).astype(mx.int64), axis=axes)
    return _idx(r, input)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    _bool(keepdim, "nansum", "keepdim")
    if input.dtype.is_complex:
        raise RuntimeError("nansum does not support complex inputs")
    x = _acc_dtype(input, dtype)
    axes = _axes(dim, x.dim())
    if not x.dtype.is_floating_point:
        f = _empty_guard(lambda v: mx.sum(v, axis=axes, keepdims=keepdim).astype(v.dtype), x, axes, keepdim, 0)
        return _out(out, _w(f(x._mx), x))

    def f(v):
        return mx.sum(mx.where(mx.isnan(v), mx.zeros_like(v), v), axis=axes, keepdims=keepdim)

    return _out(out, mlx_op("NansumBackward0", _empty_guard(f, x, axes, keepdim, 0), [x]))


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    _bool(keepdim, "nanmean", "keepdim")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{str(input.dtype).split('.')[-1].capitalize()}")
    x = input.to(dtype) if dtype is not None and dtype is not input.dtype else input
    axes = _axes(dim, x.dim())

    def f(v):
        ok = mx.logical_not(mx.isnan(v))
        s = mx.sum(mx.where(ok, v, mx.zeros_like(v)), axis=axes, keepdims=keepdim)
        return s / mx.sum(ok, axis=axes, keepdims=keepdim).astype(v.dtype)

    return _out(out, mlx_op("NanmeanBackward0", _empty_guard(f, x, axes, keepdim, math.nan), [x]))


def _var_mean_args(dim, unbiased, keepdim, correction):
    if isinstance(dim, builtins.bool):
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None else (1 if unbiased else 0)
    return dim, correction


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    dim, c = _var_mean_args(dim, unbiased, keepdim, correction)
    v = var(input, dim, keepdim=keepdim, correction=c)
    m = input.mean(_axes_arg(dim), keepdim)
    return _out_tuple(out, (v, m))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    dim, c = _var_mean_args(dim, unbiased, keepdim, correction)
    s = std(input, dim, keepdim=keepdim, correction=c)
    m = input.mean(_axes_arg(dim), keepdim)
    return _out_tuple(out, (s, m))


def _axes_arg(dim):
    if isinstance(dim, list):
        return tuple(dim)
    return dim


# ---------------------------------------------------------------- scans


def _scan_dim(input, dim):
    return _wrap_dim(dim, input.dim())


def _scan(name, mxfn, input, dim):
    nd = input.dim()
    d = _scan_dim(input, dim)
    # torch accumulates a half-type scan in float32 (its acc_type), rounding each output once: a float16 cumsum of
    # 3,000 ones ends at 3000, where one in float16 stalls at 2048
    half = input.dtype in (_dtype.float16, _dtype.bfloat16)

    def f(v):
        w = v.astype(mx.float32) if half else v
        r = mxfn(w.reshape(1), axis=0).reshape(()) if nd == 0 else mxfn(w, axis=d)
        return r.astype(v.dtype) if half else r

    return mlx_op(name, f, [input])


def cumsum(input, dim, *, dtype=None, out=None):
    if dtype is _dtype.bool:  # torch has no bool scan kernel (a bool input without dtype= scans in int64)
        raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
    return _out(out, _scan("CumsumBackward0", mx.cumsum, _acc_dtype(input, dtype), dim))


def cumprod(input, dim, *, dtype=None, out=None):
    if dtype is _dtype.bool:  # torch has no bool scan kernel (a bool input without dtype= scans in int64)
        raise NotImplementedError("\"cumprod_out_cpu\" not implemented for 'Bool'")
    return _out(out, _scan("CumprodBackward0", mx.cumprod, _acc_dtype(input, dtype), dim))


def logcumsumexp(input, dim, *, out=None):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{_sname(input.dtype)}'")
    return _out(out, _scan("LogcumsumexpBackward0", mx.logcumsumexp, input, dim))




def _cum_extreme(input, dim, largest, out):
    _check_no_complex(input, "cummax" if largest else "cummin")
    nd = input.dim()
    if nd == 0:  # torch's checks, which the 0-dim path below would otherwise skip
        name = "cummax" if largest else "cummin"
        if not _argcheck.is_int(dim):
            raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
        if int(dim) not in (-1, 0):
            raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {int(dim)}")
    d = _scan_dim(input, dim) if nd else 0
    x = _sortable(_x1(input))
    n = x.shape[d]
    shape = [1] * x.ndim
    shape[d] = n
    ar = mx.arange(n, dtype=mx.int32).reshape(shape)
    cm = mx.cummax(x, axis=d) if largest else mx.cummin(x, axis=d)
    hit = (x >= cm) if largest else (x <= cm)
    idx = mx.cummax(mx.where(hit, ar, mx.zeros_like(ar)), axis=d)
    if mx.issubdtype(x.dtype, mx.floating):
        nan_at = mx.cummax(mx.where(mx.isnan(x), ar, mx.full(ar.shape, -1, mx.int32)), axis=d)
        idx = mx.where(nan_at >= 0, nan_at, idx)
    name = "CummaxBackward0" if largest else "CumminBackward0"
    values = _gather_all(name, input, idx, d)
    indices = _idx(idx.reshape(()) if nd == 0 else idx, input)
    cls = return_types.cummax if largest else return_types.cummin
    return _out_tuple(out, cls(values, indices), cls)


def cummax(input, dim, *, out=None):
    return _cum_extreme(input, dim, True, out)


def cummin(input, dim, *, out=None):
    return _cum_extreme(input, dim, False, out)


# ---------------------------------------------------------------- selection by order


def _take_range(a, d, start, stop):
    key = (slice(None),) * d + (slice(start, stop),)
    return a[key]


def _median_index(x, d, ignore_nan):
    """Index (keepdim along d) of the lower median: NaN propagates (first NaN) unless ignored."""
    n = x.shape[d]
    si = _argsort_mx(x, d)
    if mx.issubdtype(x.dtype, mx.floating):
        nn = mx.sum(mx.isnan(x), axis=d, keepdims=True).astype(mx.int32)
        if ignore_nan:
            k = mx.maximum((n - nn - 1) // 2, 0)
        else:
            k = mx.where(nn > 0, n - nn, (n - 1) // 2)
    else:
        shape = list(x.shape)
        shape[d] = 1
        k = mx.full(shape, (n - 1) // 2, mx.int32)
    return mx.take_along_axis(si, k, axis=d)


def _median(input, dim, keepdim, ignore_nan, out):
    fname = "nanmedian" if ignore_nan else "median"
    _bool(keepdim, fname, "keepdim")
    if dim is None:
        raise TypeError(f"{fname}(): argument 'dim' must be int, not NoneType")
    if dim is _NODIM:
        dim = None
    _check_no_complex(input, "median")
    if input.dtype is _dtype.bool:
        raise NotImplementedError(f"\"median_{'cpu' if dim is None else 'out'}\" not implemented for 'Bool'")
    name = "nanmedian" if ignore_nan else "median"
    cls = return_types.nanmedian if ignore_nan else return_types.median
    nd = input.dim()
    if dim is None:
        if input.numel() == 0:
            from .creation import full

            return _out(out, full((), float("nan"), dtype=input.dtype, device=input.device))
        x = input._mx.reshape(-1)
        i = _median_index(x, 0, ignore_nan)
        r = _w(mx.take_along_axis(x, i, axis=0).reshape(()), input, input.dtype)
        if input.requires_grad and _C.is_grad_enabled():
            from ..autograd._derivatives import record

            x0, r0 = input._mx, r._mx

            def bw(ctx, grads):
                mask = (x0 == r0)
                if mx.issubdtype(x0.dtype, mx.floating):
                    mask = mask | (mx.isnan(x0) & mx.isnan(r0))
                m = _w(mask, input, _dtype.bool).to(grads[0].dtype)
                return (grads[0] * m / m.sum(),)

            record("NanmedianBackward0" if ignore_nan else "MedianBackward0", bw, [input], [r])
        return _out(out, r)
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    if x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    i = _median_index(x, d, ignore_nan)
    bname = "NanmedianBackward1" if ignore_nan else "MedianBackward1"
    return _out_tuple(out, _select(bname, input, i, d, keepdim, cls), cls)


def median(input, dim=_NODIM, keepdim=False, *, out=None):
    """The lower median (as torch); NaN propagates (its index is the first NaN's)."""
    return _median(input, dim, keepdim, False, out)


def nanmedian(input, dim=_NODIM, keepdim=False, *, out=None):
    return _median(input, dim, keepdim, True, out)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """Most frequent value (the smallest among equally frequent ones) and the index of its last occurrence."""
    _bool(keepdim, "mode", "keepdim")
    _check_no_complex(input, "mode")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    if input.numel() == 0:  # other dims empty: an empty result (MLX's argmax refuses zero-size arrays)
        idx = mx.zeros(_reduce_shape(tuple(x.shape), [d], True), mx.int32)
        return _out_tuple(out, _select("ModeBackward0", input, idx, d, keepdim, return_types.mode),
                          return_types.mode)
    si = _argsort_mx(x, d)
    s = mx.take_along_axis(_sortable(x), si, axis=d)
    shape = [1] * x.ndim
    shape[d] = n
    ar = mx.arange(n, dtype=mx.int32).reshape(shape)
    first = mx.full(_take_range(s, d, 0, 1).shape, True, mx.bool_)
    start = mx.concatenate([first, _take_range(s, d, 1, None) != _take_range(s, d, 0, n - 1)], axis=d)
    end = mx.concatenate([_take_range(s, d, 1, None) != _take_range(s, d, 0, n - 1), first], axis=d)
    run_start = mx.cummax(mx.where(start, ar, mx.zeros_like(ar)), axis=d)
    score = mx.where(end, ar - run_start + 1, mx.zeros_like(ar))
    pos = mx.argmax(score, axis=d, keepdims=True)
    idx = mx.take_along_axis(si, pos.astype(mx.int32), axis=d)
    return _out_tuple(out, _select("ModeBackward0", input, idx, d, keepdim, return_types.mode), return_types.mode)


_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, out, name):
    _bool(keepdim, name, "keepdim")
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    mdt = input.dtype._mx
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        scalar_q = q.dim() == 0
        qs = q._mx.reshape(-1)
        qn = np.asarray(qs.astype(mx.float64) if mdt == mx.float64 else qs)  # torch checks q's range (a sync)
        if qn.size and not ((qn >= 0) & (qn <= 1)).all():
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        scalar_q = True
        qs = mx.array([q], dtype=mdt)
    nd = input.dim()
    if dim is None:
        d = None
        perm = None
    else:
        d = _wrap_dim(dim, nd)
        perm = [i for i in builtins.range(nd) if i != d] + [d] if nd else None

    def lay(v):  # (..., n)
        if d is None or nd == 0:
            return v.reshape(-1)
        return mx.transpose(v, perm)

    x = lay(input._mx)
    n = x.shape[-1]
    si = _argsort_mx(x, x.ndim - 1)
    srt = mx.take_along_axis(x, si, axis=-1)
    isn = mx.isnan(srt)
    Q = qs.shape[0]
    if ignore_nan:
        cnt = mx.sum(mx.logical_not(isn), axis=-1, keepdims=True).astype(mdt)
        ranks = qs * (cnt - 1)
        ranks = mx.where(ranks < 0, mx.zeros_like(ranks), ranks)
    else:
        anyn = mx.any(isn, axis=-1, keepdims=True)
        ranks = mx.where(anyn, mx.array(n - 1, dtype=mdt), qs * (n - 1))
    ranks = mx.broadcast_to(ranks, x.shape[:-1] + (Q,))
    if interpolation == "lower":
        ranks = mx.floor(ranks)
    elif interpolation == "higher":
        ranks = mx.ceil(ranks)
    elif interpolation == "nearest":
        ranks = mx.round(ranks)
    below = ranks.astype(mx.int32)
    ib = mx.take_along_axis(si, below, axis=-1)
    lerp = interpolation in ("linear", "midpoint")
    if lerp:
        w = mx.full(ranks.shape, 0.5, mdt) if interpolation == "midpoint" else ranks - below.astype(mdt)
        ia = mx.take_along_axis(si, mx.ceil(ranks).astype(mx.int32), axis=-1)

    def f(v):
        xv = lay(v)
        lo = mx.take_along_axis(xv, ib, axis=-1)
        if lerp:
            hi = mx.take_along_axis(xv, ia, axis=-1)
            r = mx.where(w < 0.5, lo + w * (hi - lo), hi - (hi - lo) * (1 - w))
        else:
            r = lo
        r = mx.moveaxis(r, -1, 0)  # (Q, ...)
        if keepdim:
            if d is None:
                r = r.reshape((Q,) + (1,) * nd)
            elif nd:
                r = mx.expand_dims(r, d + 1)
        if scalar_q:
            r = r.reshape(r.shape[1:])
        return r

    return _out(out, mlx_op("QuantileBackward0" if not ignore_nan else "NanquantileBackward0", f, [input]))


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, False, out, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, True, out, "nanquantile")


def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002
    """Histogram of equal-width bins over [min, max] (the data's range when min == max); values outside and
    NaN are ignored, max falls in the last bin. The data range is read (a sync, as torch does)."""
    bins = _int(bins, "histc", "bins")
    for v in (min, max):
        if isinstance(v, Tensor) and v.dim() == 0:
            v = v.item()
        if isinstance(v, builtins.complex):
            raise RuntimeError("histc(): min and max must be real numbers")
        if not isinstance(v, (builtins.int, builtins.float)):
            raise TypeError(f"histc(): argument 'min'/'max' must be Number, not {type(v).__name__}")
        if isinstance(v, builtins.int) and not -(2 ** 63) <= v < 2 ** 63:
            raise OverflowError("histc(): value cannot be converted to type double without overflow")
    min = min.item() if isinstance(min, Tensor) else min  # noqa: A001
    max = max.item() if isinstance(max, Tensor) else max  # noqa: A001
    if bins >= 2 ** 31:
        raise RuntimeError(f"histc(): {bins} bins cannot be allocated")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                           f"'{_sname(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    x = input._mx.reshape(-1)
    cdt = x.dtype
    lo, hi = float(min), float(max)
    if lo == hi and x.size > 0:  # the data's range (NaN propagates into torch's "not finite" error)
        lo, hi = _mx_item(mx.min(x)), _mx_item(mx.max(x))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if math.isinf(lo) or math.isinf(hi) or math.isnan(lo) or math.isnan(hi):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if x.size == 0:  # Note [Empty reductions]
        return _out(out, _w(mx.zeros((bins,), dtype=cdt), input, input.dtype))
    lo_a, hi_a = mx.array(lo, cdt), mx.array(hi, cdt)
    valid = (x >= lo_a) & (x <= hi_a)
    pos = ((x - lo_a) / (hi_a - lo_a) * bins).astype(mx.int32)
    pos = mx.clip(pos, 0, bins - 1)
    counts = mx.zeros((bins,), dtype=cdt).at[pos].add(valid.astype(cdt))
    return _out(out, _w(counts, input, input.dtype))


# ---------------------------------------------------------------- data-dependent shapes (numpy on the values)


def _np_values(t):
    """Evaluated values as numpy (bfloat16 via float32)."""
    a = t._mx
    if a.dtype == mx.bfloat16:
        a = a.astype(mx.float32)
    return np.array(a)


def _from_np(a, like, dtype):
    arr = mx.array(np.array(a, order="C"))
    if arr.dtype != dtype._mx:
        arr = arr.astype(dtype._mx)
    return _w(arr, like, dtype)


# ---------------------------------------------------------------- searchsorted / bucketize




def _check_real(input, name):
    if input.dtype.is_complex:
        raise RuntimeError(f"{name}(): does not support complex input")


def _dims(dim, n):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        ds = [_wrap_dim(d, builtins.max(n, 1)) for d in dim]
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
        return ds
    return [_wrap_dim(dim, builtins.max(n, 1))]


def _extreme(input, dim, keepdim, largest, name):
    _check_real(input, name)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        red = mx.max if largest else mx.min
        res = _new(red(input._mx), input._device_code, input.dtype)
        if input.requires_grad:
            from ..autograd._derivatives import record

            x0, r0 = input._mx, res._mx

            def bw(ctx, grads):
                mask = _new((x0 == r0), input._device_code, _dtype.bool).to(grads[0].dtype)
                return (grads[0] * mask / mask.sum(),)

            record("MaxBackward1" if largest else "MinBackward1", bw, [input], [res])
        return res
    if not isinstance(keepdim, builtins.bool):
        raise TypeError(f"{name}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")
    n = input.dim()
    d = _wrap_dim(dim, n)
    x = input._mx if n else input._mx.reshape(1)
    if n and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input.numel() == 0:  # an empty result (MLX refuses arg-reductions of empty arrays)
        shape = [1 if i == d else s for i, s in enumerate(input.shape) if keepdim or i != d]
        values = _new(mx.zeros(shape, input.dtype._mx), input._device_code, input.dtype)
        if input.requires_grad:
            from ..autograd._derivatives import record

            record("MaxBackward0" if largest else "MinBackward0",
                   lambda ctx, grads: (input.new_zeros(input.shape),), [input], [values])
        indices = _new(mx.zeros(shape, mx.int64), input._device_code, _dtype.int64)
        return (return_types.max if largest else return_types.min)(values, indices)
    arg = (mx.argmax if largest else mx.argmin)(x, axis=d, keepdims=True)
    from ..autograd._mlx_vjp import mlx_op

    def f(v):
        v = v if n else v.reshape(1)
        r = mx.take_along_axis(v, arg, axis=d)
        if not n:
            return r.reshape(())
        return r if keepdim else mx.squeeze(r, axis=d)

    values = mlx_op("MaxBackward0" if largest else "MinBackward0", f, [input])
    idx = arg if keepdim and n else (mx.squeeze(arg, axis=d) if n else arg.reshape(()))
    indices = _new(idx.astype(mx.int64), input._device_code, _dtype.int64)
    return (return_types.max if largest else return_types.min)(values, indices)


def max(input, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if isinstance(dim, Tensor):  # max(input, other): elementwise
        from .operators import maximum

        return maximum(input, dim)
    return _extreme(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if isinstance(dim, Tensor):  # min(input, other): elementwise
        from .operators import minimum

        return minimum(input, dim)
    return _extreme(input, dim, keepdim, False, "min")


def _arg(input, dim, keepdim, largest, name):
    _check_real(input, name)
    if input.dtype is _dtype.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    fn = mx.argmax if largest else mx.argmin
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = fn(input._mx.reshape(-1))
        if keepdim:
            r = r.reshape((1,) * input.dim())
    else:
        d = _wrap_dim(dim, builtins.max(input.dim(), 1))
        x = input._mx if input.dim() else input._mx.reshape(1)
        if input.dim() and input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if input.numel() == 0:  # an empty result (MLX refuses arg-reductions of empty arrays)
            shape = [1 if i == d else s for i, s in enumerate(input.shape) if keepdim or i != d]
            return _new(mx.zeros(shape, mx.int64), input._device_code, _dtype.int64)
        r = fn(x, axis=d, keepdims=keepdim)
        if input.dim() == 0:
            r = r.reshape(())
    return _new(r.astype(mx.int64), input._device_code, _dtype.int64)


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, True, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, False, "argmin")


def _amax_amin(input, dim, keepdim, largest):
    """amax/amin: the gradient is shared evenly between tied extremes (mx.vjp of mx.max/min does this, as torch).
    Zero-size reductions are refused as torch refuses them; empty results never reach MLX (Note [Empty reductions])."""
    from ..autograd._mlx_vjp import mlx_op

    name = "amax" if largest else "amin"
    n = input.dim()
    full = dim in ((), [], None)
    axes = None if full else _dims(dim, n)
    if n == 0:
        axes = None
    if input.numel() == 0:
        if full:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        for d in axes:
            if input.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        shape = [1 if i in axes else s for i, s in enumerate(input.shape) if keepdim or i not in axes]
        # an empty result, recorded as torch records it (its gradient is the empty input's zeros)
        return mlx_op("AmaxBackward0" if largest else "AminBackward0", lambda v: mx.zeros(shape, v.dtype), [input])
    red = mx.max if largest else mx.min

    def f(v):
        r = red(v, axis=axes, keepdims=keepdim)
        return r.reshape((1,) * n) if keepdim and axes is None and n else r

    return mlx_op("AmaxBackward0" if largest else "AminBackward0", f, [input])


def amax(input, dim=(), keepdim=False, *, out=None):
    return _amax_amin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False, *, out=None):
    return _amax_amin(input, dim, keepdim, False)


def _check_var_args(unbiased, keepdim, name):
    if unbiased is not None and not isinstance(unbiased, builtins.bool):
        raise TypeError(f"{name}(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
    if not isinstance(keepdim, builtins.bool):
        raise TypeError(f"{name}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance with torch's correction (default 1): composed of differentiable ops."""
    if isinstance(dim, builtins.bool):  # var(unbiased) overload
        unbiased, dim = dim, None
    _check_var_args(unbiased, keepdim, "var")
    c = _correction(unbiased, correction)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    return _var_op(input, dim, c, keepdim, "VarBackward0", False)


def _var_op(input, dim, c, keepdim, name, take_sqrt):
    from ..autograd._mlx_vjp import mlx_op

    if input.dtype.is_complex:
        raise NotImplementedError("mlx_compat: var/std of complex tensors is not supported yet")
    dims = _dims(dim, input.dim())
    axes = None if dims is None or input.dim() == 0 else dims
    n = input.numel() if dims is None else _count(input, dims)

    def f(x):
        mean = mx.mean(x, axis=axes, keepdims=True)
        d = x - mean
        v = mx.sum(d * d, axis=axes, keepdims=keepdim) / builtins.max(n - c, 0)
        if keepdim and axes is None and x.ndim:
            v = v.reshape((1,) * x.ndim)
        if not take_sqrt:
            return v
        # torch's std backward gives 0 where std is 0 (a constant slice), where sqrt's derivative there is inf and
        # the vjp's inf * 0 is NaN: the zero is selected away from a safe input (Note [double where] in
        # nn/_activation.py)
        zero = v == 0
        return mx.where(zero, mx.zeros_like(v), mx.sqrt(mx.where(zero, mx.ones_like(v), v)))

    return mlx_op(name, f, [input])


def _count(input, dims):
    n = 1
    for d in dims:
        n *= input.shape[d] if input.dim() else 1
    return n


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if isinstance(dim, builtins.bool):
        unbiased, dim = dim, None
    _check_var_args(unbiased, keepdim, "std")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    return _var_op(input, dim, _correction(unbiased, correction), keepdim, "StdBackward0", True)


# ---------------------------------------------------------------- C fast paths and their derivatives


def _value_selecting_backward(ctx, grads):
    """max/min(dim)'s derivative (csrc/reduce.c): the gradient scattered to the selected index along dim.
    ctx = [indices, (dim, keepdim, input shape)]."""
    idx, (d, keepdim, shape) = ctx[0], ctx[-1]
    g = grads[0]
    if not keepdim:
        g, idx = g.unsqueeze(d), idx.unsqueeze(d)
    return (g.new_zeros(shape).scatter(d, idx, g),)


def _amax_amin_backward(ctx, grads):
    """amax/amin's derivative (csrc/reduce.c): the gradient shared evenly between the tied extremes, as
    torch's. ctx = [input, result, (dims, keepdim)]."""
    x, y, (dims, keepdim) = ctx
    g = grads[0]
    if not keepdim:
        for d in sorted(dims):
            g, y = g.unsqueeze(d), y.unsqueeze(d)
    mask = (x == y).to(g.dtype)
    return (g * mask / mask.sum(list(dims), keepdim=True),)


_C._register_backward("max_dim", "MaxBackward0", _value_selecting_backward, True)
_C._register_backward("min_dim", "MinBackward0", _value_selecting_backward, True)
_C._register_backward("amax", "AmaxBackward0", _amax_amin_backward, True)
_C._register_backward("amin", "AminBackward0", _amax_amin_backward, True)
_C._register_return_types(return_types.max, return_types.min)
# Note [Fast paths fall back] (csrc/fastpath.c): the public max/min/argmax/argmin/amax/amin (functions and
# methods) are the C fast paths; the functions above are their reference, run for every other argument form
# (the methods are the Tensor type's own descriptors, from csrc/fastpath.c)
for _name in ("max", "min", "argmax", "argmin", "amax", "amin"):
    globals()[_name] = fast_path(_name, globals()[_name])


# ---------------------------------------------------------------- methods (Note [Declared Tensor methods])

declare_methods({_name: globals()[_name] for _name in (
    "var", "std", "prod", "aminmax", "logsumexp", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "median",
    "nanmedian", "nanmean", "nansum", "mode", "quantile", "nanquantile", "histc")})


def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


def _count_nonzero_method(self, *dim, **kwargs):
    d = kwargs.pop("dim", None)
    if kwargs:
        raise TypeError(f"count_nonzero() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if dim:
        d = dim[0] if len(dim) == 1 else tuple(dim)
    return count_nonzero(self, d)


declare_methods({
    "norm": _norm_method, "count_nonzero": _count_nonzero_method,
    "cumsum_": inplace_variant(cumsum, before=_scan_inplace_check("cumsum")),
    "cumprod_": inplace_variant(cumprod, before=_scan_inplace_check("cumprod")),
})

# export only the names no other module defined first
try:
    import sys as _sys

    _pkg = _sys.modules.get(__name__.rsplit(".", 1)[0])
    __all__ = [n for n in __all__ if _pkg is None or not hasattr(_pkg, n)]
except Exception:  # noqa: BLE001
    pass


def cov(input, *, correction=1, fweights=None, aweights=None):
    """torch.cov: covariance of the rows (variables) over the columns (observations), with frequency and
    observation weights, as ATen's Correlation.cpp."""
    _check_tensor(input, "cov")
    T = _torch()
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    num_obs = x.shape[1]
    if fweights is not None:
        if fweights.dim() > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got fweights with "
                               f"{fweights.dim()} dimensions")
        if fweights.dtype.is_floating_point or fweights.dtype.is_complex:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_sname(fweights.dtype)} dtype")
        if fweights.numel() != num_obs:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are observations in the "
                               f"input but got {fweights.numel()} != {num_obs}")
        if num_obs > 0 and builtins.bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
    if aweights is not None:
        if aweights.dim() > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got aweights with "
                               f"{aweights.dim()} dimensions")
        if not aweights.dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_sname(aweights.dtype)} dtype")
        if aweights.numel() != num_obs:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are observations in the "
                               f"input but got {aweights.numel()} != {num_obs}")
        if num_obs > 0 and builtins.bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
    w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = T.tensor(num_obs, dtype=_dtype.int64)
        avg = T.true_divide(x.sum(1), num_obs) if num_obs else T.true_divide(x.sum(1), 0.0)
    else:
        w_sum = w.sum()
        avg = T.true_divide((x * w).sum(1), w_sum)
    if w is not None and correction != 0:
        if aweights is not None:
            norm_factor = w_sum - T.true_divide(correction * (w * aweights).sum(), w_sum)
        else:
            norm_factor = w_sum - correction
    else:
        norm_factor = w_sum - correction
    if builtins.bool(norm_factor <= 0):
        _warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
              "observations.")
        norm_factor = T.zeros_like(norm_factor)
    x = x - avg.unsqueeze(1)
    xw = x * w if w is not None else x
    c = T.mm(x, xw.t().conj())
    return T.true_divide(c, norm_factor).squeeze()


def corrcoef(input):
    """torch.corrcoef: Pearson correlation coefficients, clipped to [-1, 1]."""
    _check_tensor(input, "corrcoef")
    T = _torch()
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    stddev = T.sqrt(T.real(d) if d.dtype.is_complex else d)
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    if c.dtype.is_complex:
        return T.complex(T.real(c).clip(-1, 1), T.imag(c).clip(-1, 1))
    return c.clip(-1, 1)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """torch.frobenius_norm: the 2-norm over at most two dims."""
    dims = (dim,) if isinstance(dim, builtins.int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    return _out(out, _torch().linalg.vector_norm(input, 2, dims, keepdim))


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """torch.nuclear_norm(input, keepdim=False) / (input, dim, keepdim=False): the sum of singular values."""
    if isinstance(dim, builtins.bool):  # the (input, keepdim) overload
        dim, keepdim = None, dim
    return _out(out, _torch().linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim))


def renorm(input, p, dim, maxnorm, *, out=None):
    """torch.renorm: each slice along dim whose p-norm exceeds maxnorm scaled to norm maxnorm."""
    _check_tensor(input, "renorm")
    T = _torch()
    if isinstance(p, builtins.complex):
        raise RuntimeError("renorm: p must be real-valued")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if isinstance(maxnorm, builtins.complex):
        raise RuntimeError("renorm: maxnorm must be real-valued")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_sname(input.dtype)}")
    d = _wrap_dim(dim, input.dim())
    reduce_dims = [i for i in range(input.dim()) if i != d]
    acc = input.dtype if input.dtype.itemsize >= 4 or input.dtype.is_complex else _dtype.float32
    norm = T.linalg.vector_norm(input.to(acc) if acc is not input.dtype else input, p, reduce_dims, keepdim=True)
    factor = T.where(norm > maxnorm, maxnorm / (norm + 1e-7), T.ones_like(norm))
    if factor.dtype is not input.dtype and not input.dtype.is_complex:
        factor = factor.to(input.dtype)
    return _out(out, input * factor)


def renorm_(input, p, dim, maxnorm):
    return input.copy_(renorm(input, p, dim, maxnorm))


def dist(input, other, p=2):
    """torch.dist: the p-norm of input - other (broadcast)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist", "other")
    T = _torch()
    diff_ = input - other
    if not (diff_.dtype.is_floating_point or diff_.dtype.is_complex):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_sname(diff_.dtype)} instead.")
    return T.linalg.vector_norm(diff_, p)


def bincount(input, weights=None, minlength=0):
    """torch.bincount: counts (or summed weights) of each non-negative integer in a 1-D tensor."""
    _check_tensor(input, "bincount")
    minlength = _int_arg(minlength, "bincount")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is _dtype.bool:
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_sname(input.dtype)}\'')
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is None:
        out_dtype = _dtype.int64
    elif weights.dtype in (_dtype.float32, _dtype.float64):
        out_dtype = weights.dtype
    else:
        out_dtype = _dtype.float64
    n = input.shape[0]
    T = _torch()
    if n == 0:
        return T.zeros(minlength, dtype=out_dtype, device=_device_str(input))
    idx = input._mx.astype(mx.int64)
    lo, hi = _mx_item(mx.min(idx)), _mx_item(mx.max(idx))
    if lo < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = builtins.max(hi + 1, minlength)
    vals = mx.ones((n,), dtype=out_dtype._mx) if weights is None else weights._mx.astype(out_dtype._mx)
    r = mx.zeros((size,), dtype=out_dtype._mx).at[idx].add(vals)
    return _new(r, input._device_code, out_dtype)


def _hist_edges_np(t):
    return np.asarray(_np_values(t)).reshape(-1)


def _histogramdd_impl(fname, points, bins, range_, weight, density):
    """points: (N, D) Tensor. Returns (hist Tensor, [edge Tensors]) as torch's histogramdd kernel:
    bin i holds edges[i] <= x < edges[i+1], the last bin also its right edge; points outside are dropped."""
    T = _torch()
    dt = points.dtype
    if dt not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f'"histogramdd" not implemented for \'{_sname(dt)}\'')
    n_pts, D = points.shape
    dev = _device_str(points)
    pts = _np_values(points).reshape(n_pts, D)
    if weight is not None:
        if tuple(weight.shape) != (n_pts,) and weight.numel() != n_pts:
            raise RuntimeError(f"torch.{fname}: if weight tensor is provided it should have the same shape as "
                               f"the input tensor excluding its innermost dimension")
        if weight.dtype is not dt:
            raise RuntimeError(f"torch.{fname}: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype")
        w = _np_values(weight).reshape(-1).astype(np.float64)
    else:
        w = None
    edges = []
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor) or isinstance(bins, Tensor):
        seq = [bins] if isinstance(bins, Tensor) else list(bins)
        if len(seq) != D:
            raise RuntimeError(f"torch.{fname}: expected {D} sequences of bin edges for each of the {D} input "
                               f"dimensions, but got {len(seq)} bin edge sequences.")
        for e in seq:
            if e.dim() != 1:
                raise RuntimeError(f"torch.{fname}: bins tensor should have one dimension, but got {e.dim()} "
                                   f"dimensions in the bins tensor")
            if e.numel() < 1:
                raise RuntimeError(f"torch.{fname}: bins tensor should have at least 1 element, but got "
                                   f"{e.numel()} elements")
            if e.numel() < 2:
                raise RuntimeError(f"torch.{fname}(): bins must be > 0, but got 0 for dimension {len(edges)}")
            if e.dtype is not dt:
                raise RuntimeError(f"torch.{fname}: input tensor and bins tensors should have the same dtype, but "
                                   f"got input {_sname(dt)} and bins {_sname(e.dtype)}")
            edges.append(e.clone())
        if range_ is not None:
            raise RuntimeError(f"torch.{fname}: range cannot be specified when bin edges are given")
    else:
        counts = [bins] * D if not isinstance(bins, (list, tuple)) else list(bins)
        if len(counts) != D:
            raise RuntimeError(f"torch.{fname}: expected {D} sequences of bin edges for each of the {D} input "
                               f"dimensions, but got {len(counts)} bin edge sequences.")
        counts = [_int_arg(c, fname) for c in counts]
        for c in counts:
            if c <= 0:
                raise RuntimeError(f"torch.{fname}(): bins must be > 0, but got {c} for dimension 0")
        if range_ is not None:
            range_ = [builtins.float(r) for r in range_]
            if len(range_) != 2 * D:
                raise RuntimeError(f"torch.{fname}: for a {D}-dimensional histogram range should have {2 * D} "
                                   f"elements, but got {len(range_)}")
        for d in range(D):
            if range_ is not None:
                lo, hi = range_[2 * d], range_[2 * d + 1]
            elif n_pts:
                col = pts[:, d]
                lo, hi = builtins.float(col.min()), builtins.float(col.max())
            else:
                lo, hi = 0.0, 1.0
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo}, {hi}] is not finite")
            if lo > hi:
                raise RuntimeError(f"torch.{fname}: min should not exceed max, but got min {lo} max {hi}")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges.append(T.linspace(lo, hi, counts[d] + 1, dtype=dt, device=dev))
    e_np = [_hist_edges_np(e) for e in edges]
    nbins = [len(e) - 1 for e in e_np]
    keep = np.ones(n_pts, dtype=bool)
    flat = np.zeros(n_pts, dtype=np.int64)
    for d in range(D):
        col, e = pts[:, d].astype(e_np[d].dtype), e_np[d]
        pos = np.searchsorted(e, col, side="right") - 1
        pos = np.where(col == e[-1], nbins[d] - 1, pos)
        keep &= (col >= e[0]) & (col <= e[-1]) & (pos >= 0) & (pos < builtins.max(nbins[d], 0))
        flat = flat * builtins.max(nbins[d], 1) + np.clip(pos, 0, builtins.max(nbins[d] - 1, 0))
    total = builtins.int(np.prod(nbins)) if nbins else 1
    hist = np.zeros(total, dtype=np.float64)
    if keep.any() and total:
        np.add.at(hist, flat[keep], 1.0 if w is None else w[keep])
    hist = hist.reshape(nbins)
    if density:
        s = hist.sum()
        widths = [np.diff(e.astype(np.float64)) for e in e_np]
        vol = np.ones(nbins)
        for d in range(D):
            shape = [1] * D
            shape[d] = nbins[d]
            vol = vol * widths[d].reshape(shape)
        with np.errstate(all="ignore"):
            hist = hist / s / vol
    h = T.zeros(nbins, dtype=dt, device=dev) if hist.size == 0 else _new(
        mx.array(hist.astype(np.float32) if dt is not _dtype.float64 else hist).astype(dt._mx),
        points._device_code, dt)
    return h, edges


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002 - torch's name
    """torch.histogram: (hist, bin_edges) of the flattened input; bins a count or a 1-D tensor of edges."""
    _check_tensor(input, "histogram")
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram() received an invalid combination of arguments - got (range with a bins tensor)")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError("torch.histogram: if weight tensor is provided it should have the same shape as the "
                           "input tensor")
    pts = input.reshape(-1, 1)
    h, edges = _histogramdd_impl("histogram", pts, bins, range, None if weight is None else weight.reshape(-1),
                                 density)
    res = _return_type("histogram")(h, edges[0])
    if out is not None:
        _out(out[0], res.hist)
        _out(out[1], res.bin_edges)
        return _return_type("histogram_out")(out[0], out[1])
    return res


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):  # noqa: A002 - torch's name
    """torch.histogramdd: the D-dimensional histogram of input's innermost-dim points (hist, [bin_edges])."""
    _check_tensor(input, "histogramdd")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions, but got "
                           f"{input.dim()}")
    D = input.shape[-1]
    pts = input.reshape(-1, D)
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                           "input tensor excluding its innermost dimension")
    h, edges = _histogramdd_impl("histogramdd", pts, bins, range,
                                 None if weight is None else weight.reshape(-1), density)
    return _return_type("histogramdd")(h, tuple(edges))


def _sum_to_size(self, *size):
    """Tensor.sum_to_size: self summed over broadcast dims down to `size` (self itself when equal)."""
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    size = tuple(_int_arg(s, "sum_to_size") for s in size)
    shape = tuple(self.shape)
    ok = len(size) <= len(shape) and builtins.all(
        s == d or s == 1 for s, d in zip(reversed(size), reversed(shape)))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if size == shape:
        return self
    from ..autograd._derivatives import sum_to

    return sum_to(self, size)


# Tensor methods of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({
    "cov": cov, "corrcoef": corrcoef, "renorm": renorm, "renorm_": renorm_, "dist": dist, "bincount": bincount,
    "histogram": histogram, "sum_to_size": _sum_to_size,
})
