"""Reductions beyond sum/mean: max/min (with dim -> (values, indices)), argmax/argmin, amax/amin,
var/std. Differentiable: max/min through their indices (ties of the full reduction share the gradient
evenly, as torch); var/std are composed from the package's differentiable ops."""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _C, _dtype, return_types
from .._tensor import Tensor, _new, _wrap_dim
from .fast import fast_path

_SCALAR = {"bool": "Bool", "complex64": "ComplexFloat"}


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
    fn = mx.argmax if largest else mx.argmin
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
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
        return _new(mx.zeros(shape, input.dtype._mx), input._device_code, input.dtype)
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
        return mx.sqrt(v) if take_sqrt else v

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
for _name in ("max", "min", "argmax", "argmin", "amax", "amin"):
    globals()[_name] = fast_path(_name, globals()[_name])
    setattr(Tensor, _name, _C._tf_wrap(globals()[_name]))
for _name in ("var", "std"):
    setattr(Tensor, _name, globals()[_name])
