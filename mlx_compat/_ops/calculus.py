"""Finite differences and numerical integration: diff, gradient, trapezoid/trapz, cumulative_trapezoid.

Each is a composition of the package's own differentiable ops, so it needs no derivative of its own: the
tape records the pieces. Exports are listed in __all__ and re-exported by mlx_compat/__init__.py."""
from __future__ import annotations

import builtins

from .. import _dtype, _C
from .._methods import declare_methods
from .._tensor import Tensor, _int_arg, _wrap_dim
from ._common import _check_tensor, _out, _torch, _device_str

__all__ = ["diff", "gradient", "trapz", "trapezoid", "cumulative_trapezoid"]


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """torch.diff: the n-th forward difference along dim (logical xor for bool), after prepend/append."""
    _check_tensor(input, "diff")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = _int_arg(n, "diff")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.dim())
    T = _torch()
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
            if extra.dim() != input.dim():
                raise RuntimeError(f"diff expects {name} or append to be the same dimension as input")
    x = input
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [input] + ([append] if append is not None else [])
        x = T.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = T.logical_xor(hi, lo) if x.dtype is _dtype.bool else hi - lo
    if n == 0:
        x = x.clone()
    return _out(out, x)


def _gradient_dims(input, dim):
    nd = input.dim()
    if dim is None:
        return list(range(nd))
    if isinstance(dim, (list, tuple)):
        dims = [_wrap_dim(_int_arg(x, "gradient", is_dim=True), nd) for x in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("dim " + str(dims[0]) + " appears multiple times in the list of dims")
        return dims
    return [_wrap_dim(_int_arg(dim, "gradient", is_dim=True), nd)]


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """torch.gradient: central differences inside, one-sided (edge_order 1 or 2) at the ends; spacing a
    scalar, a list of scalars (one per dim) or a list of coordinate tensors. Returns a tuple."""
    _check_tensor(input, "gradient")
    if input.dtype is _dtype.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if input.dtype is _dtype.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _gradient_dims(input, dim)
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (list, tuple)):
        spacing = list(spacing)
        tensors = [isinstance(h, Tensor) for h in spacing]
        if builtins.any(tensors) and not builtins.all(tensors):
            raise TypeError(f"expected Tensor as element {tensors.index(False)} in argument 1, but got "
                            f"{type(spacing[tensors.index(False)]).__name__}")
        if builtins.any(tensors) and builtins.any(h.dim() != 1 for h in spacing):
            bad = next(h.dim() for h in spacing if h.dim() != 1)
            raise RuntimeError(f"torch.gradient expected each element of spacing to have one dimension, but got an "
                               f"element with {bad} dimensions!")
        if len(spacing) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments "
                f"to have the same length, but got a spacing argument of length {len(spacing)} and a dim "
                f"argument of length {len(dims)}.")
    else:
        if isinstance(spacing, Tensor) and spacing.dim() != 0:
            raise TypeError("gradient() received an invalid combination of arguments - got (Tensor, spacing=Tensor): "
                            "spacing must be a number, a 0-d tensor or a list")
        spacing = [spacing] * len(dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    out = []
    for d, h in zip(dims, spacing):
        if isinstance(h, Tensor) and h.dim() == 1:
            out.append(_gradient_coords(input, h, d, edge_order))
        else:
            if isinstance(h, Tensor):
                h = h.item()
            out.append(_gradient_uniform(input, h, d, edge_order))
    return tuple(out)


def _as_float(x):
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(_C._get_default_dtype())


def _gradient_uniform(f, h, d, edge_order):
    T = _torch()
    f = _as_float(f)
    n = f.shape[d]
    nar = f.narrow
    interior = (nar(d, 2, n - 2) - nar(d, 0, n - 2)) / (2.0 * h)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / h
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / h
    else:
        first = (nar(d, 0, 1) * -1.5 + nar(d, 1, 1) * 2.0 - nar(d, 2, 1) * 0.5) / h
        last = (nar(d, n - 3, 1) * 0.5 - nar(d, n - 2, 1) * 2.0 + nar(d, n - 1, 1) * 1.5) / h
    return T.cat([first, interior, last], d)


def _gradient_coords(f, x, d, edge_order):
    T = _torch()
    f = _as_float(f)
    n = f.shape[d]
    shape = [1] * f.dim()
    shape[d] = -1
    dx = (x[1:] - x[:-1])
    dx = _as_float(dx)
    dx1, dx2 = dx[:-1].reshape(shape), dx[1:].reshape(shape)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    nar = f.narrow
    interior = a * nar(d, 0, n - 2) + b * nar(d, 1, n - 2) + c * nar(d, 2, n - 2)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / dx[0]
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / dx[-1]
    else:
        p, q = dx[0], dx[1]
        first = (nar(d, 0, 1) * (-(2.0 * p + q) / (p * (p + q))) + nar(d, 1, 1) * ((p + q) / (p * q))
                 + nar(d, 2, 1) * (-p / (q * (p + q))))
        p, q = dx[-2], dx[-1]
        last = (nar(d, n - 3, 1) * (q / (p * (p + q))) + nar(d, n - 2, 1) * (-(p + q) / (p * q))
                + nar(d, n - 1, 1) * ((2.0 * q + p) / (q * (p + q))))
    return T.cat([first, interior, last], d)


def _zeros_except(y, d):
    shape = [s for i, s in enumerate(y.shape) if i != d]
    return _torch().zeros(shape, dtype=y.dtype, device=_device_str(y))


def _trapz_x_dx(y, x, d):
    if x.dtype is _dtype.bool or y.dtype is _dtype.bool:
        raise RuntimeError("trapezoid: received a bool input for `x` or `y`, but bool is not supported")
    if x.dim() == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[d] = x.shape[0]
        xv = x.reshape(shape)
    elif x.dim() < y.dim():
        xv = x.reshape([1] * (y.dim() - x.dim()) + list(x.shape))
    else:
        xv = x
    m = xv.shape[d]
    return xv.narrow(d, 1, m - 1) - xv.narrow(d, 0, m - 1)


def _check_dx(dx):
    """dx as a Python number (a 0-d tensor converts, as torch's Number arguments do)."""
    if isinstance(dx, Tensor):
        if dx.dim() != 0:
            raise TypeError("trapezoid(): argument 'dx' must be Number, not Tensor")
        dx = dx.item()
    if isinstance(dx, (builtins.bool, builtins.complex)):
        raise RuntimeError("trapezoid: Currently, we only support dx as a real number.")
    return dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.trapezoid: the trapezoid rule along dim, with sample points x or a constant spacing dx."""
    _check_tensor(y, "trapezoid", "y")
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got both x and dx")
    d = _wrap_dim(dim, y.dim()) if y.dim() else _wrap_dim(dim, 1)
    if y.dim() == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    if isinstance(x, Tensor):
        if y.shape[d] == 0:
            return _zeros_except(y, d)
        step = _trapz_x_dx(y, x, d)
        n = y.shape[d]
        return ((step * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))) / 2.0).sum(d)
    if x is not None:
        raise TypeError(f"trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a Tensor (or use dx=)")
    dx = _check_dx(1 if dx is None else dx)
    if y.shape[d] == 0:
        return _zeros_except(y, d)
    if y.dtype is _dtype.bool:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    n = y.shape[d]
    return (y.sum(d) - (y.select(d, 0) + y.select(d, n - 1)) * 0.5) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    """torch.trapz: trapezoid's older name (trapz(y, x, *, dim) or trapz(y, *, dx=1, dim))."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.cumulative_trapezoid: the running trapezoid rule along dim (one fewer element)."""
    _check_tensor(y, "cumulative_trapezoid", "y")
    if y.dim() == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    d = _wrap_dim(dim, y.dim())
    n = y.shape[d]
    if isinstance(x, Tensor):
        step = _trapz_x_dx(y, x, d)
        if n == 0:
            return y.narrow(d, 0, 0).clone()
        return (step / 2.0 * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).cumsum(d)
    if x is not None:
        raise TypeError(f"cumulative_trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a Tensor (or use dx=)")
    dx = _check_dx(1 if dx is None else dx)
    if y.dtype is _dtype.bool:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    if n == 0:
        return y.narrow(d, 0, 0).clone()
    return (dx / 2.0 * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).cumsum(d)


# Tensor methods of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({
    "diff": diff,
})
