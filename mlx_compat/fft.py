"""torch.fft on MLX's mx.fft (complex64 only).

Every transform is one pure MLX function (resize the input along the transformed dims, then one mx.fft
call with MLX's own `norm`) run through `mlx_op`, so its backward is mx.vjp of that function. MLX's vjp
follows torch's conjugate-Wirtinger convention for complex values, including the c2r transforms'
Hermitian half-spectrum gradient (Note [Zero-size FFTs]
MLX kernels are not run on zero-size arrays (they can hang or crash): a transform whose input or result
has a zero-size dim returns zeros of the result's shape directly (its vjp is zero as well).

Note [Half-spectrum gradients]).

Note [FFT dtypes]
MLX has one complex dtype, complex64. Real and complex64 inputs work as in torch (integers and bool go
through the default float dtype first). torch computes float64 input in complex128 and returns a
complex128 (or, for irfft/hfft, a float64 built from complex128 arithmetic); MLX has no complex128, so
such an input raises TypeError instead of silently computing at single precision. float16/bfloat16
raise torch's CPU error ("Unsupported dtype Half").

Note [Hermitian transforms by duality]
hfftn(x, norm) == irfftn(conj(x), norm=dual(norm)) and ihfftn(x, norm) == conj(rfftn(x, norm=dual(norm))),
where dual swaps "backward" and "forward": a forward transform of a Hermitian signal is the conjugate of
an inverse one, and only the scale convention moves. This holds in n dimensions because torch's hfftn
(c2c over the leading dims, then c2r over the last) is the conjugate of irfftn's (inverse c2c, then c2r).

Note [Zero-size FFTs]
MLX kernels are not run on zero-size arrays (they can hang or crash): a transform whose input or result
has a zero-size dim returns zeros of the result's shape directly (its vjp is zero as well).

Note [Half-spectrum gradients]
torch's gradient of irfft/hfft treats the input as the half spectrum: the vjp is an rfft of the
cotangent with the bins whose mirror image is outside the half doubled (and the imaginary parts of the
DC / Nyquist bins, which the forward ignores, get zero). MLX's vjp of mx.fft.irfftn is the same
formula; the tests compare both against torch.autograd on odd and even lengths, with n/s padding and
truncation.
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence

import mlx.core as mx

from . import _C, _dtype
from .autograd._mlx_vjp import mlx_op
from ._ops.creation import _out
from ._ops._common import _sname
from ._tensor import Tensor, _new, _wrap_dim

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
]

_NORMS = (None, "backward", "ortho", "forward")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


_INT32_MAX = 2**31 - 1




def _check_norm(norm):
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return "backward" if norm is None else norm


def _work_dtype(fname, t, complex_result):
    """The dtype the transform computes in (Note [FFT dtypes])."""
    d = t.dtype
    if d.is_complex:
        return d
    if not d.is_floating_point:
        d = _C._get_default_dtype()
    if d.name in ("float16", "bfloat16"):
        raise RuntimeError(f"Unsupported dtype {_sname(d)}")
    if d is _dtype.float64:
        raise TypeError(f"torch.fft.{fname}: a float64 input computes in complex128, which MLX does not have "
                        f"(mlx_compat's FFTs are complex64 only); convert the input to float32 or complex64")
    return _dtype.complex64 if complex_result else d


def _need_tensor(fname, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{fname}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def _int_or_none(fname, name, v):
    if v is None:
        return None
    if isinstance(v, builtins.bool) or not isinstance(v, (builtins.int, Tensor)):
        raise TypeError(f"fft_{fname}(): argument '{name}' must be int, not {type(v).__name__}")
    return builtins.int(v)


def _int_seq(fname, name, v):
    if v is None:
        return None
    if isinstance(v, (builtins.int, Tensor)) and not isinstance(v, builtins.bool):
        return (builtins.int(v),)
    if not isinstance(v, Sequence) or isinstance(v, str):
        raise TypeError(f"fft_{fname}(): argument '{name}' must be tuple of ints, not {type(v).__name__}")
    out = []
    for x in v:
        if isinstance(x, builtins.bool) or not isinstance(x, (builtins.int, Tensor)):
            raise TypeError(f"fft_{fname}(): argument '{name}' must be tuple of ints, but found element of type "
                            f"{type(x).__name__}")
        out.append(builtins.int(x))
    return tuple(out)


def _wrap(d, ndim):
    if ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    return _wrap_dim(d, ndim)


def _shape_and_dims(input, s, dim):
    """torch's canonical (sizes, dims) for the n-dimensional transforms (-1 in s: the input's size)."""
    ndim, sizes = input.dim(), tuple(input.shape)
    dims = None
    if dim is not None:
        dims = tuple(_wrap(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        if dim is not None and len(dim) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        if dims is None:
            dims = tuple(builtins.range(ndim - len(s), ndim))
        shape = tuple(n if n != -1 else sizes[d] for n, d in zip(s, dims))
    elif dims is None:
        dims, shape = tuple(builtins.range(ndim)), sizes
    else:
        shape = tuple(sizes[d] for d in dims)
    for n in shape:
        if n <= 0:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return shape, dims


def _resize(v, dims, sizes):
    """v with size sizes[i] along dims[i]: truncated from the start or zero-padded at the end."""
    pads = [(0, 0)] * v.ndim
    padded = False
    for d, n in zip(dims, sizes):
        cur = v.shape[d]
        if cur > n:
            idx = [builtins.slice(None)] * v.ndim
            idx[d] = builtins.slice(0, n)
            v = v[tuple(idx)]
        elif cur < n:
            pads[d] = (0, n - cur)
            padded = True
    return mx.pad(v, pads) if padded else v


def _transform(fname, node, input, kind, sizes, dims, norm, out, last_size=None):
    """Run one transform kind over dims (sizes: the input's sizes there after resizing).

    kind: "c2c" / "ic2c" (forward / inverse complex), "r2c" (rfftn), "ir2c" (ihfftn), "c2r" (irfftn),
    "hc2r" (hfftn); last_size: the real output's length along dims[-1] for the c2r kinds."""
    norm = _check_norm(norm)
    for n in list(sizes) + ([last_size] if last_size is not None else []):
        # MLX takes lengths as int32; a larger Python int escapes its bindings as an abort (SIGABRT)
        if n > _INT32_MAX:
            raise RuntimeError(f"Invalid number of data points ({n}) specified: FFT lengths over {_INT32_MAX} "
                               f"are not supported")
    complex_in = kind in ("c2c", "ic2c", "c2r", "hc2r")
    wd = _work_dtype(fname, input, complex_in)
    real_out = kind in ("c2r", "hc2r")
    res_dtype = _dtype.float32 if real_out else _dtype.complex64
    dims, sizes = list(dims), list(sizes)
    out_shape = list(input.shape)
    for d, n in zip(dims, sizes):
        out_shape[d] = n
    if kind in ("r2c", "ir2c") and dims:
        out_shape[dims[-1]] = sizes[-1] // 2 + 1
    if real_out:
        out_shape[dims[-1]] = last_size
    empty = builtins.any(n == 0 for n in out_shape) or builtins.any(n == 0 for n in input.shape)

    def f(v):
        v = v.astype(wd._mx)
        if empty:  # Note [Zero-size FFTs]
            return mx.zeros(out_shape, dtype=res_dtype._mx)
        if not dims:  # fftn(dim=()): no transform, only the dtype promotion
            return v
        v = _resize(v, dims, sizes)
        if kind == "c2c":
            return mx.fft.fftn(v, axes=dims, norm=norm)
        if kind == "ic2c":
            return mx.fft.ifftn(v, axes=dims, norm=norm)
        if kind == "r2c":
            return mx.fft.rfftn(v, axes=dims, norm=norm)
        if kind == "ir2c":  # Note [Hermitian transforms by duality]
            return mx.conj(mx.fft.rfftn(v, axes=dims, norm=_DUAL[norm]))
        s = [v.shape[d] for d in dims]
        s[-1] = last_size
        if kind == "c2r":
            return mx.fft.irfftn(v, s=s, axes=dims, norm=norm)
        return mx.fft.irfftn(mx.conj(v), s=s, axes=dims, norm=_DUAL[norm])  # hc2r

    res = mlx_op(node, f, [input], out_dtypes=[res_dtype])
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"fft_{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if real_out and out.dtype.is_complex:
            raise RuntimeError(f"{fname} expects a floating point output tensor, but got {_sname(out.dtype)}")
        if not real_out and not out.dtype.is_complex:
            raise RuntimeError(f"{fname} expects a complex output tensor, but got {_sname(out.dtype)}")
        return _out(out, res)
    return res


# ---------------------------------------------------------------- one-dimensional


def _one_dim(fname, input, n, dim):
    _need_tensor(fname, input)
    n = _int_or_none(fname, "n", n)
    dim = _int_or_none(fname, "dim", dim)
    d = _wrap(dim, input.dim())
    size = n if n is not None else input.shape[d]
    return d, size


def _c2c_1d(fname, forward):
    def op(input, n=None, dim=-1, norm=None, *, out=None):
        d, size = _one_dim(fname, input, n, dim)
        if size < 1:
            raise RuntimeError(f"Invalid number of data points ({size}) specified")
        # torch's node: a real input goes through a one-sided r2c (conjugated lazily for ifft)
        node = "FftC2CBackward0" if input.dtype.is_complex else ("FftR2CBackward0" if forward else "ConjBackward0")
        return _transform(fname, node, input, "c2c" if forward else "ic2c", [size], [d], norm, out)

    op.__name__ = op.__qualname__ = fname
    return op


def _r2c_1d(fname, kind):
    def op(input, n=None, dim=-1, norm=None, *, out=None):
        _need_tensor(fname, input)
        if input.dtype.is_complex:
            raise RuntimeError(f"{fname} expects a real input tensor, but got {_sname(input.dtype)}")
        d, size = _one_dim(fname, input, n, dim)
        if size < 1:
            raise RuntimeError(f"Invalid number of data points ({size}) specified")
        node = "FftR2CBackward0" if kind == "r2c" else "ConjBackward0"
        return _transform(fname, node, input, kind, [size], [d], norm, out)

    op.__name__ = op.__qualname__ = fname
    return op


def _c2r_1d(fname, kind):
    def op(input, n=None, dim=-1, norm=None, *, out=None):
        d, _ = _one_dim(fname, input, n, dim)
        n = _int_or_none(fname, "n", n)
        last = n if n is not None else 2 * (input.shape[d] - 1)
        if last < 1:
            raise RuntimeError(f"Invalid number of data points ({last}) specified")
        half = last // 2 + 1 if n is not None else input.shape[d]
        return _transform(fname, "FftC2RBackward0", input, kind, [half], [d], norm, out, last_size=last)

    op.__name__ = op.__qualname__ = fname
    return op


fft = _c2c_1d("fft", True)
ifft = _c2c_1d("ifft", False)
rfft = _r2c_1d("rfft", "r2c")
ihfft = _r2c_1d("ihfft", "ir2c")
irfft = _c2r_1d("irfft", "c2r")
hfft = _c2r_1d("hfft", "hc2r")


# ---------------------------------------------------------------- n-dimensional


def _nd_args(fname, input, s, dim):
    _need_tensor(fname, input)
    s = _int_seq(fname, "s", s)
    dim = _int_seq(fname, "dim", dim)
    return s, dim


def _c2c_nd(fname, forward, default_dim=None):
    def op(input, s=None, dim=default_dim, norm=None, *, out=None):
        s, dim = _nd_args(fname, input, s, dim)
        shape, dims = _shape_and_dims(input, s, dim)
        return _transform(fname, "FftC2CBackward0", input, "c2c" if forward else "ic2c", shape, dims, norm, out)

    op.__name__ = op.__qualname__ = fname
    return op


def _r2c_nd(fname, kind, default_dim=None):
    base = "rfftn" if kind == "r2c" else "ihfftn"

    def op(input, s=None, dim=default_dim, norm=None, *, out=None):
        s, dim = _nd_args(fname, input, s, dim)
        if input.dtype.is_complex:
            raise RuntimeError(f"{base} expects a real-valued input tensor, but got {_sname(input.dtype)}")
        shape, dims = _shape_and_dims(input, s, dim)
        if not dims:
            raise RuntimeError(f"{base} must transform at least one axis")
        node = "FftR2CBackward0" if kind == "r2c" else ("ConjBackward0" if len(dims) == 1 else "FftC2CBackward0")
        return _transform(fname, node, input, kind, shape, dims, norm, out)

    op.__name__ = op.__qualname__ = fname
    return op


def _c2r_nd(fname, kind, default_dim=None):
    base = "irfftn" if kind == "c2r" else "hfftn"

    def op(input, s=None, dim=default_dim, norm=None, *, out=None):
        s, dim = _nd_args(fname, input, s, dim)
        shape, dims = _shape_and_dims(input, s, dim)
        if not dims:
            raise RuntimeError(f"{base} must transform at least one axis")
        last = 2 * (input.shape[dims[-1]] - 1) if (s is None or s[-1] == -1) else shape[-1]
        if last < 1:
            raise RuntimeError(f"Invalid number of data points ({last}) specified")
        shape = tuple(shape[:-1]) + (last // 2 + 1,)
        return _transform(fname, "FftC2RBackward0", input, kind, shape, dims, norm, out, last_size=last)

    op.__name__ = op.__qualname__ = fname
    return op


fftn = _c2c_nd("fftn", True)
ifftn = _c2c_nd("ifftn", False)
rfftn = _r2c_nd("rfftn", "r2c")
ihfftn = _r2c_nd("ihfftn", "ir2c")
irfftn = _c2r_nd("irfftn", "c2r")
hfftn = _c2r_nd("hfftn", "hc2r")
fft2 = _c2c_nd("fft2", True, (-2, -1))
ifft2 = _c2c_nd("ifft2", False, (-2, -1))
rfft2 = _r2c_nd("rfft2", "r2c", (-2, -1))
ihfft2 = _r2c_nd("ihfft2", "ir2c", (-2, -1))
irfft2 = _c2r_nd("irfft2", "c2r", (-2, -1))
hfft2 = _c2r_nd("hfft2", "hc2r", (-2, -1))


# ---------------------------------------------------------------- helpers


def _shift(fname, input, dim, up):
    _need_tensor(fname, input)
    if dim is None:
        dims = list(builtins.range(input.dim()))
    else:
        dims = list(_int_seq(fname, "dim", dim))
    if not dims:
        raise RuntimeError("`shifts` required")
    shifts = [(input.shape[_wrap(d, input.dim())] + (1 if up else 0)) // 2 for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """The zero-frequency bin moved to the centre (torch.roll by size // 2 over dim, all dims by default)."""
    return _shift("fftshift", input, dim, False)


def ifftshift(input, dim=None):
    """The inverse of fftshift (torch.roll by (size + 1) // 2)."""
    return _shift("ifftshift", input, dim, True)


def _freq(fname, count, n, d, out, dtype, device, requires_grad, half):
    from ._ops.creation import arange

    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int):
        raise TypeError(f"{fname}(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if isinstance(d, builtins.bool) or not isinstance(d, (builtins.int, builtins.float)):
        raise TypeError(f"{fname}(): argument 'd' (position 2) must be float, not {type(d).__name__}")
    if dtype is None:
        dtype = out.dtype if out is not None else _C._get_default_dtype()
    if dtype.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_sname(dtype)}'")
    if not dtype.is_floating_point:
        raise RuntimeError(f"{fname} requires a floating point or complex dtype")
    if count < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {count}: [{count}]")
    r = arange(count, dtype=dtype, device=device)
    if not half and count > 0:
        # [0, 1, ..., (n-1)//2, -(n//2), ..., -1], as torch: the upper part shifted down by n
        v = r._mx
        v = mx.where(mx.arange(count) >= (n + 1) // 2, v - n, v)
        r = _new(v.astype(dtype._mx), r._device_code, dtype)
    if count > 0:
        denom = n * d
        r = r * (1.0 / denom if denom != 0 else float("inf"))  # n == 0 (rfftfreq) or d == 0: inf, as torch
    r = _new(r._mx.astype(dtype._mx), r._device_code, dtype)
    if requires_grad:
        r.requires_grad_(True)
    return _out(out, r)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Sample frequencies of an n-point fft with sample spacing d."""
    return _freq("fftfreq", n, n, d, out, dtype, device, requires_grad, False)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Sample frequencies of an n-point rfft (the n // 2 + 1 non-negative ones)."""
    count = n // 2 + 1 if isinstance(n, builtins.int) and not isinstance(n, builtins.bool) else n
    return _freq("rfftfreq", count, n, d, out, dtype, device, requires_grad, True)
