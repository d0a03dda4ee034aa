"""Complex-number helpers: angle, polar, complex, conj_physical(_), resolve_conj, resolve_neg, is_conj, is_neg;
the conjugate transposes (adjoint, Tensor.H, Tensor.mH, Tensor.adjoint) and the refused complex casts
(Tensor.cdouble, Tensor.chalf: MLX has complex64 only).

MLX's one complex dtype is complex64, so complex results come only from float32 parts; float64 parts
(torch: complex128) and float16 parts (torch: complex32) raise TypeError rather than change precision.

conj / _conj make torch's lazy conjugate view and _neg_view its negative view: C views whose bit relates
their value to the base's storage (Note [Conjugate views] in csrc/core.h). resolve_conj / resolve_neg copy a
view with the bit into a tensor without it (torch's CloneBackward0) and return any other input itself.

Note [Exact complex construction]
`re + 1j * im` is not exact in floating point: 1j * inf is nan + inf j. complex() and polar() build
their result by placing the two float32 parts side by side and reinterpreting them as complex64
(an mx.custom_function whose vjp is (real(g), imag(g)), torch's ComplexBackward0).

view_as_real / view_as_complex are true views made by the C core (Note [Reinterpreted views] in
csrc/core.h); they live in _tensor.py.
"""
from __future__ import annotations

import math

import mlx.core as mx

from .. import _C, _dtype
from ..autograd._mlx_vjp import mlx_op
from .creation import _out
from .._methods import declare_methods, inplace_variant
from .._tensor import Tensor
from ._common import _check_tensor, _sname

__all__ = ["angle", "polar", "complex", "conj", "conj_physical", "conj_physical_", "resolve_conj", "resolve_neg",
           "is_conj", "is_neg", "adjoint", "_conj", "_conj_physical", "_neg_view"]

# the bits of csrc/core.h's Note [Conjugate views]
_VIEW_CONJ, _VIEW_NEG = 1, 2




def _need_tensor(fname, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


# ---------------------------------------------------------------- exact complex construction


@mx.custom_function
def _from_parts(re, im):
    """complex64 with real part re and imaginary part im (same shape, float32), exactly."""
    return mx.stack([re, im], axis=-1).view(mx.complex64).squeeze(-1)


@_from_parts.vjp
def _from_parts_vjp(primals, cotangent, output):
    return mx.real(cotangent), mx.imag(cotangent)


def _parts(re, im):
    re, im = mx.broadcast_arrays(re.astype(mx.float32), im.astype(mx.float32))
    if re.size == 0:
        return mx.zeros(re.shape, dtype=mx.complex64)
    return _from_parts(re, im)


_COMPLEX_OF = {"float32": "ComplexFloat", "float64": "ComplexDouble", "float16": "ComplexHalf"}


def _complex_args(fname, a, b, names, out=None):
    _need_tensor(fname, a, names[0], 1)
    _need_tensor(fname, b, names[1], 2)
    if not (a.dtype.is_floating_point and b.dtype.is_floating_point):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_sname(a.dtype)} and {_sname(b.dtype)}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_sname(a.dtype)} but got scalar type "
                           f"{_sname(b.dtype)} for second argument")
    if out is not None and isinstance(out, Tensor) and (out.dtype is not _dtype.complex64 or a.dtype.name != "float32"):
        raise RuntimeError(f"Expected object of scalar type {_COMPLEX_OF.get(a.dtype.name, a.dtype.name)} but got "
                           f"scalar type {_sname(out.dtype)} for argument 'out'")
    if a.dtype.name == "bfloat16":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got BFloat16 and BFloat16")
    if a.dtype is _dtype.float64:
        raise TypeError(f"{fname}: float64 parts make a complex128 tensor, which MLX does not have "
                        f"(mlx_compat's complex dtype is complex64); use float32 parts")
    if a.dtype.name == "float16":
        if fname == "polar":
            raise NotImplementedError("\"polar_cpu\" not implemented for 'Half'")
        raise TypeError(f"{fname}: float16 parts make a complex32 tensor, which mlx_compat does not have; "
                        f"use float32 parts")
    try:
        shape = tuple(mx.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at a non-singleton dimension "
                           f"(shapes {list(a.shape)} and {list(b.shape)})") from None
    return shape


def complex(real, imag, *, out=None):  # noqa: A001 - torch.complex
    """real + imag * 1j as complex64 (broadcast); differentiable in both parts."""
    _complex_args("complex", real, imag, ("real", "imag"), out)
    return _out(out, mlx_op("ComplexBackward0", _parts, [real, imag]))


@mx.custom_function
def _polar_mx(r, theta):
    return _parts(r * mx.cos(theta), r * mx.sin(theta))


@_polar_mx.vjp
def _polar_vjp(primals, cotangent, output):
    # torch's polar_backward: grad_abs = Re(conj(g) sgn(result)), grad_angle = Re(conj(g) i result); at
    # abs == 0 sgn(result) is 0, and for abs < 0 it is -e^{i angle} (torch's formula, not the plain derivative)
    r, theta = primals
    res = _parts(r * mx.cos(theta), r * mx.sin(theta))
    mag = mx.abs(res)
    sgn = mx.where(mag == 0, mx.zeros_like(res), res / mx.where(mag == 0, 1, mag).astype(mx.complex64))
    gc = mx.conj(cotangent)
    g_abs = mx.real(gc * sgn)
    g_angle = mx.real(gc * res * 1j)
    return _unbroadcast(g_abs, r.shape), _unbroadcast(g_angle, theta.shape)


def _unbroadcast(g, shape):
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def polar(abs, angle, *, out=None):  # noqa: A002 - torch's argument names
    """abs * (cos(angle) + i sin(angle)) as complex64 (broadcast)."""
    _complex_args("polar", abs, angle, ("abs", "angle"), out)
    return _out(out, mlx_op("PolarBackward0", _polar_mx, [abs, angle]))


# ---------------------------------------------------------------- angle


def _angle_complex(z):
    # the derivative of atan2(imag, real) is g * i z / |z|^2 except at z == 0, where torch's is 0: the
    # differentiable branch sees a safe z there, the exact value comes from a stop_gradient branch
    zero = z == 0
    safe = mx.where(zero, mx.ones_like(z), z)
    exact = mx.stop_gradient(mx.arctan2(mx.imag(z), mx.real(z)))
    return mx.where(zero, exact, mx.arctan2(mx.imag(safe), mx.real(safe)))


def angle(input, *, out=None):
    """The argument of each element: atan2(imag, real) for complex, 0 or pi (nan for nan) for real.
    Real inputs get a zero gradient, as in torch."""
    _need_tensor("angle", input)
    d = input.dtype
    if d.is_complex:
        res = mlx_op("AngleBackward0", _angle_complex, [input], out_dtypes=[_dtype.float32])
        return _out(out, res)
    rd = d if d.is_floating_point else _C._get_default_dtype()
    pi = math.pi

    def f(x):
        x = x.astype(rd._mx)
        return mx.stop_gradient(mx.where(mx.isnan(x), x, mx.where(x < 0, mx.array(pi, dtype=rd._mx),
                                                                   mx.zeros_like(x))))

    return _out(out, mlx_op("AngleBackward0", f, [input], out_dtypes=[rd]))


# ---------------------------------------------------------------- conjugation helpers


def conj(input):
    """The complex conjugate: for complex tensors a lazy view sharing the input's storage (`is_conj()`; writes
    through it reach the input conjugated), for other dtypes the input itself (Note [Conjugate views])."""
    _need_tensor("conj", input)
    return input._bit_view(_VIEW_CONJ) if input.dtype.is_complex else input


def _conj(input):
    """torch._conj: the conjugate view of a complex tensor (torch asserts on other dtypes)."""
    _need_tensor("_conj", input)
    if not input.dtype.is_complex:
        raise RuntimeError(f"_conj: expected a complex tensor, got {input.dtype}")
    return input._bit_view(_VIEW_CONJ)


def _neg_view(input):
    """torch._neg_view: a view whose value is the input's negation (`is_neg()`), NegViewBackward0."""
    _need_tensor("_neg_view", input)
    return input._bit_view(_VIEW_NEG)


def conj_physical(input, *, out=None):
    """The conjugate, computed now into a new tensor; real inputs come back as is."""
    _need_tensor("conj_physical", input)
    if not input.dtype.is_complex:
        return input if out is None else _out(out, input)
    return _out(out, mlx_op("ConjPhysicalBackward0", mx.conj, [input]))


def _conj_physical(input):
    """torch._conj_physical: conj_physical that always makes a new tensor (a copy for real dtypes)."""
    _need_tensor("_conj_physical", input)
    if not input.dtype.is_complex:
        return input.clone()
    return mlx_op("ConjPhysicalBackward0", mx.conj, [input])


_conj_physical_inplace = inplace_variant(conj_physical)


def conj_physical_(input):
    """In-place conj_physical (a no-op for real tensors)."""
    _need_tensor("conj_physical_", input)
    if not input.dtype.is_complex:
        if _C.is_grad_enabled() and input.requires_grad and input.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return input
    return _conj_physical_inplace(input)


def resolve_conj(input):
    """A conjugate view's values in a new tensor without the bit (CloneBackward0); any other input itself."""
    _need_tensor("resolve_conj", input)
    return input.clone() if input.is_conj() else input


def resolve_neg(input):
    """A negative view's values in a new tensor without the bit (CloneBackward0); any other input itself."""
    _need_tensor("resolve_neg", input)
    return input.clone() if input.is_neg() else input


def is_conj(input):
    """Whether input is a conjugate view (Note [Conjugate views] in csrc/core.h)."""
    _need_tensor("is_conj", input)
    return input.is_conj()


def is_neg(input):
    """Whether input is a negative view (Note [Conjugate views] in csrc/core.h)."""
    _need_tensor("is_neg", input)
    return input.is_neg()


declare_methods({_name: globals()[_name] for _name in (
    "angle", "conj", "conj_physical", "conj_physical_", "resolve_conj", "resolve_neg", "_conj", "_conj_physical",
    "_neg_view")})


def _no_complex_dtype(name, dtype_name):
    """Tensor.cdouble / Tensor.chalf: MLX has complex64 only, and the package refuses the other complex
    dtypes with TypeError (README, "refused with a TypeError") rather than quietly giving complex64."""
    def method(self, memory_format=None):
        raise TypeError(f"{name}: {dtype_name} is not supported by MLX (mlx_compat has complex64 only)")

    method.__name__ = name
    return method


def _mH(self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.dim()}-D "
                           f"tensor.")
    t = self.transpose(-2, -1)
    return t.conj() if self.dtype.is_complex else t


def _H(self):
    if self.dim() == 0:
        return self.conj() if self.dtype.is_complex else self
    if self.dim() != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
    return _mH(self)


def adjoint(input):
    """torch.adjoint: the conjugate transpose of the last two dims (a view for real dtypes)."""
    _check_tensor(input, "adjoint")
    return _mH(input)


# Tensor methods and properties of the functions above (Note [Declared Tensor methods] in mlx_compat/_methods.py)
declare_methods({
    "cdouble": _no_complex_dtype("cdouble", "complex128"), "chalf": _no_complex_dtype("chalf", "complex32"),
    "adjoint": _mH, "H": property(_H), "mH": property(_mH),
})
