"""reductions, scans, sorting and selection: prod, aminmax, logsumexp, norm, count_nonzero,
nansum/nanmean, var_mean/std_mean, median/nanmedian/mode/quantile/nanquantile/histc, cumsum/cumprod/cummax/
cummin/logcumsumexp, sort/argsort/msort/topk/kthvalue, unique/unique_consecutive, searchsorted/bucketize,
nonzero/argwhere. Exports are listed in __all__ and re-exported by mlx_compat/__init__.py; Tensor methods are
attached here (never replacing an existing attribute).

Differentiation: ops defined by their MLX forward go through `mlx_op` (mx.vjp, any order). Selections
(sort/topk/kthvalue/median(dim)/mode/cummax/cummin/quantile) compute their indices outside the differentiated
function and gather with them inside it, so the gradient flows to the selected index exactly as torch's
(value_selecting_reduction_backward); median()/nanmedian() without dim share the gradient evenly among the
elements equal to the result, as torch's evenly_distribute_backward.

Sorting is stable (MLX's argsort is); NaN sorts as the largest value, as in torch. Descending order is the
ascending stable sort of the reversed input, reversed back (so equal elements keep their original order).
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx
import numpy as np

from .. import _C, _dtype, return_types
from . import precise as _precise
from ..autograd._mlx_vjp import mlx_op
from .._tensor import Tensor, _new, _wrap_dim

__all__ = [
    "prod", "aminmax", "logsumexp", "norm", "count_nonzero", "cumsum", "cumprod", "cummax", "cummin",
    "logcumsumexp", "median", "nanmedian", "nanmean", "nansum", "mode", "var_mean", "std_mean", "quantile",
    "nanquantile", "histc", "sort", "argsort", "topk", "kthvalue", "msort", "unique", "unique_consecutive",
    "searchsorted", "bucketize", "nonzero", "argwhere",
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


def _method(name, fn):
    if not hasattr(Tensor, name):
        setattr(Tensor, name, fn)


def _inplace(fn):
    def method(self, *args, **kwargs):
        if self.dtype is _dtype.bool and kwargs.get("dtype") is None:
            raise NotImplementedError(f"\"{fn.__name__}_out_cpu\" not implemented for 'Bool'")
        r = fn(self, *args, **kwargs)
        if r.dtype is not self.dtype:
            r = r.to(self.dtype)
        return self._commit(r)

    return method


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
        r = mlx_op("ProdBackward0", _empty_guard(lambda v: mx.prod(v), x, None, False, 1), [x])
    else:
        axes = _axes(dim, x.dim())
        f = (lambda v: mx.prod(v, axis=axes, keepdims=keepdim)) if axes else (lambda v: v * 1)
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
    return _out(out, mlx_op("LogsumexpBackward0", lambda v: _precise.logsumexp(v, axes, keepdims=keepdim), [x]))


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
                           f"{str(input.dtype).split('.')[-1].capitalize()}")
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
        f = _empty_guard(lambda v: mx.sum(v, axis=axes, keepdims=keepdim), x, axes, keepdim, 0)
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
    from .reduction import var

    dim, c = _var_mean_args(dim, unbiased, keepdim, correction)
    v = var(input, dim, keepdim=keepdim, correction=c)
    m = input.mean(_axes_arg(dim), keepdim)
    return _out_tuple(out, (v, m))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    from .reduction import std

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

    def f(v):
        if nd == 0:
            return mxfn(v.reshape(1), axis=0).reshape(())
        return mxfn(v, axis=d)

    return mlx_op(name, f, [input])


def cumsum(input, dim, *, dtype=None, out=None):
    return _out(out, _scan("CumsumBackward0", mx.cumsum, _acc_dtype(input, dtype), dim))


def cumprod(input, dim, *, dtype=None, out=None):
    return _out(out, _scan("CumprodBackward0", mx.cumprod, _acc_dtype(input, dtype), dim))


def logcumsumexp(input, dim, *, out=None):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{_SCALAR_NAMES.get(input.dtype.name, input.dtype.name)}'")
    return _out(out, _scan("LogcumsumexpBackward0", mx.logcumsumexp, input, dim))


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _cum_extreme(input, dim, largest, out):
    _check_no_complex(input, "cummax" if largest else "cummin")
    nd = input.dim()
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


# ---------------------------------------------------------------- sorting and selection


def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    _bool(descending, "sort", "descending")
    _bool(stable, "sort", "stable")
    _check_no_complex(input, "sort")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    idx = _argsort_mx(_x1(input), d, descending)
    values = _gather_all("SortBackward0", input, idx, d)
    res = return_types.sort(values, _idx(idx.reshape(()) if nd == 0 else idx, input))
    return _out_tuple(out, res, return_types.sort)


def argsort(input, dim=-1, descending=False, *, stable=False):
    _bool(descending, "argsort", "descending")
    _bool(stable, "argsort", "stable")
    _check_no_complex(input, "argsort")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    idx = _argsort_mx(_x1(input), d, descending)
    return _idx(idx.reshape(()) if nd == 0 else idx, input)


def msort(input, *, out=None):
    return _out(out, sort(input, 0).values)


def _take_range(a, d, start, stop):
    key = (slice(None),) * d + (slice(start, stop),)
    return a[key]


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    _bool(largest, "topk", "largest")
    _bool(sorted, "topk", "sorted")
    k = _int(k, "topk", "k")
    _check_no_complex(input, "topk")
    if input.dtype is _dtype.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _take_range(_argsort_mx(x, d, largest), d, 0, k)
    values = _gather_all("TopkBackward0", input, idx, d)
    res = return_types.topk(values, _idx(idx.reshape(()) if nd == 0 else idx, input))
    return _out_tuple(out, res, return_types.topk)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    _bool(keepdim, "kthvalue", "keepdim")
    k = _int(k, "kthvalue", "k")
    _check_no_complex(input, "kthvalue")
    nd = input.dim()
    d = _wrap_dim(dim, nd)
    x = _x1(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    idx = _take_range(_argsort_mx(x, d), d, k - 1, k)
    return _out_tuple(out, _select("KthvalueBackward0", input, idx, d, keepdim, return_types.kthvalue),
                      return_types.kthvalue)


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
        raise NotImplementedError(f"\"{'nanmedian' if ignore_nan else 'median'}_cpu\" not implemented for 'Bool'")
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
                           f"'{_SCALAR_NAMES.get(input.dtype.name, input.dtype.name)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    x = input._mx.reshape(-1)
    cdt = x.dtype
    lo, hi = float(min), float(max)
    if lo == hi and x.size > 0:  # the data's range (NaN propagates into torch's "not finite" error)
        lo, hi = mx.min(x).item(), mx.max(x).item()
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


def _unique_result(vals, inv, cnt, like, return_inverse, return_counts):
    out = _from_np(vals, like, like.dtype)
    if not return_inverse and not return_counts:
        return out
    res = [out]
    if return_inverse:
        res.append(_from_np(inv.astype(np.int64), like, _dtype.int64))
    if return_counts:
        res.append(_from_np(cnt.astype(np.int64), like, _dtype.int64))
    return tuple(res)


def _check_unique_dims(shape, d):
    if builtins.any(n == 0 for i, n in enumerate(shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")


def _inverse_flag(v, fname):
    """torch dispatches unique on return_inverse's truth value first (a multi-element tensor: RuntimeError)."""
    if isinstance(v, Tensor):
        builtins.bool(v)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Unique values (always sorted). The output shape depends on the values, which MLX cannot express:
    computed with numpy on the evaluated input. NaNs are all distinct, as in torch."""
    _inverse_flag(return_inverse, "unique")
    for v, n in ((sorted, "sorted"), (return_inverse, "return_inverse"), (return_counts, "return_counts")):
        _bool(v, "unique", n)
    if dim is not None:
        _int(dim, "unique", "dim")
    a = _np_values(input)
    if dim is None:
        flat = a.reshape(-1)
        vals, inv, cnt = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _wrap_dim(dim, input.dim())
        _check_unique_dims(a.shape, d)
        if a.shape[d] == 0:
            vals = a
            inv = np.zeros((0,), np.int64)
            cnt = np.zeros((0,), np.int64)
        else:
            vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d, equal_nan=False)
            inv = inv.reshape(-1)
    return _unique_result(vals, inv, cnt, input, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (numpy on the evaluated input: data-dependent shape)."""
    _inverse_flag(return_inverse, "unique_consecutive")
    _inverse_flag(return_counts, "unique_consecutive")
    for v, n in ((return_inverse, "return_inverse"), (return_counts, "return_counts")):
        _bool(v, "unique_consecutive", n)
    if dim is not None:
        _int(dim, "unique_consecutive", "dim")
    a = _np_values(input)
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1]
        shape_inv = a.shape
        moved = flat
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _wrap_dim(dim, input.dim())
        _check_unique_dims(a.shape, d)
        moved = np.moveaxis(a, d, 0)
        rows = moved.reshape(moved.shape[0], -1)
        change = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else np.zeros(max(rows.shape[0] - 1, 0),
                                                                                     bool)
        shape_inv = (moved.shape[0],)
    n = moved.shape[0]
    keep = np.concatenate([np.ones(builtins.min(n, 1), bool), change])
    starts = np.nonzero(keep)[0]
    vals = moved[keep]
    if dim is not None:
        vals = np.moveaxis(vals, 0, d)
    inv = (np.cumsum(keep) - 1).reshape(shape_inv)
    cnt = np.diff(np.append(starts, n))
    return _unique_result(vals, inv, cnt, input, return_inverse, return_counts)


def nonzero(input, *, as_tuple=False, out=None):
    """Indices of the non-zero elements (data-dependent shape: numpy on the evaluated values)."""
    a = _np_values(input)
    if a.ndim == 0:
        k = 1 if a != 0 else 0
        if as_tuple:
            return (_from_np(np.zeros((k,), np.int64), input, _dtype.int64),)
        return _out(out, _from_np(np.zeros((k, 0), np.int64), input, _dtype.int64))
    nz = np.nonzero(a)
    if as_tuple:
        return tuple(_from_np(i.astype(np.int64), input, _dtype.int64) for i in nz)
    r = np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64)
    return _out(out, _from_np(r, input, _dtype.int64))


def argwhere(input):
    return nonzero(input)


# ---------------------------------------------------------------- searchsorted / bucketize


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._mx
    if sorter is not None:
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size")
        seq = mx.take_along_axis(seq, sorter._mx.astype(mx.int32), axis=-1)
    scalar = not isinstance(input, Tensor)
    vals = mx.array(input) if scalar else input._mx
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq.ndim > 1 and (scalar or vals.ndim != seq.ndim or tuple(vals.shape[:-1]) != tuple(seq.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match")
    ct = (mx.zeros((0,), seq.dtype) + mx.zeros((0,), vals.dtype)).dtype  # int64 + float32 -> float32, as torch
    seq, vals = seq.astype(ct), vals.astype(ct)
    if seq.ndim == 1:
        if seq.shape[0] == 0:
            r = mx.zeros(vals.shape, mx.int64)
        else:
            r = mx.searchsorted(seq, vals, side="right" if right else "left")
    else:
        cmp = (seq[..., None, :] <= vals[..., :, None]) if right else (seq[..., None, :] < vals[..., :, None])
        r = mx.sum(cmp, axis=-1)
    like = sorted_sequence
    return _out(out, _idx(r, like, out_int32))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# ---------------------------------------------------------------- methods

for _name in ("prod", "aminmax", "logsumexp", "cumsum", "cumprod", "cummax", "cummin",
              "logcumsumexp", "median", "nanmedian", "nanmean", "nansum", "mode", "quantile", "nanquantile", "histc",
              "sort", "argsort", "msort", "topk", "kthvalue", "nonzero", "argwhere"):
    _method(_name, globals()[_name])


def _unique_method(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    return unique(self, sorted, return_inverse, return_counts, dim)


def _unique_consecutive_method(self, return_inverse=False, return_counts=False, dim=None):
    return unique_consecutive(self, return_inverse, return_counts, dim)


def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


def _count_nonzero_method(self, *dim, **kwargs):
    d = kwargs.pop("dim", None)
    if kwargs:
        raise TypeError(f"count_nonzero() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if dim:
        d = dim[0] if len(dim) == 1 else tuple(dim)
    return count_nonzero(self, d)


_method("norm", _norm_method)
_method("count_nonzero", _count_nonzero_method)
_method("unique", _unique_method)
_method("unique_consecutive", _unique_consecutive_method)
_method("cumsum_", _inplace(cumsum))
_method("cumprod_", _inplace(cumprod))

# export only the names no other module defined first
try:
    import sys as _sys

    _pkg = _sys.modules.get(__name__.rsplit(".", 1)[0])
    __all__ = [n for n in __all__ if _pkg is None or not hasattr(_pkg, n)]
except Exception:  # noqa: BLE001
    pass
