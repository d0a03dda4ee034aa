"""Pointwise math beyond the operators (exp, sqrt, floor, sigmoid, lerp, addcmul, ...): functions,
methods and in-place methods, declared once per op in `_UNARY` with torch's result-dtype rule.

Rules: "float" ops compute in the default float dtype for integral/bool inputs (torch's int-to-float
promotion); "same" ops keep the input dtype (rounding ops are identities on integers).
Autograd for these comes with the autograd engine."""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _C, _dtype
from . import precise as _precise
from ..autograd._derivatives import _scope_backward, record as _record
from .creation import _out
from .._tensor import Tensor, _new

_new_on = Tensor._new_on

_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
           "complex64": "ComplexFloat"}


def _float_dtype(t):
    return t.dtype if (t.dtype.is_floating_point or t.dtype.is_complex) else _C._get_default_dtype()


_F64 = _dtype.float64
_FAST = {_precise.exp: mx.exp, _precise.sigmoid: mx.sigmoid, _precise.sin: mx.sin, _precise.cos: mx.cos}


def _unary(name, fn, rule, complex_ok, int_identity, deriv, node):
    """The function form of a declared unary op. Floating inputs (the common case) take the short path: one
    MLX call, the result wrapped with the input's dtype, the node recorded only when the input requires grad."""
    backward = None if deriv is None else (lambda ctx, grads: (deriv(ctx[0], ctx[1], grads[0]),))
    to_float = rule == "float"
    fast = _FAST.get(fn, fn)  # below float64, _precise's functions are MLX's own

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        d = input.dtype
        if d.is_floating_point:  # every declared forward keeps a floating dtype
            r = fn(input._mx) if d is _F64 else fast(input._mx)
        else:
            if d.is_complex and not complex_ok:
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'ComplexFloat'")
            if to_float:
                d = _float_dtype(input)
                r = fn(input._mx.astype(d._mx))
            else:
                r = input._mx if (int_identity and not d.is_complex) else fn(input._mx)
            r = r.astype(d._mx)
        res = _new_on(r, input._device_code, d._code)
        if backward is not None and input.requires_grad and _C.is_grad_enabled():
            # `record` inlined for the hot path: ctx = (input snapshot, result snapshot, extra); snapshots are
            # taken after recording, so the saved result keeps its place in the graph (double backward)
            ctx = [None, None, None]
            n = _C._record(node, _scope_backward(backward, (input,)), ctx, (input,), (res,))
            # the saved result refers to its own node weakly (Note [Autograd ownership] in csrc/autograd.c)
            ctx[0], ctx[1] = _C._snapshot(input, n), _C._snapshot(res, n)
        return res if out is None else _out(out, res)

    op.__name__ = name
    return op


_LN2_F = 0.6931471805599453  # exp2(x) = exp(x ln 2), accurate in float64 (Note [MLX float64 precision])


def _round(x, decimals=0):
    return mx.round(x, decimals)


def _relu(x):
    return mx.maximum(x, 0)  # a Python 0 takes x's dtype (integers stay integers, NaN propagates)


_LN2, _LN10 = 0.6931471805599453, 2.302585092994046
_ZERO = lambda x, y, g: g * 0  # noqa: E731 - piecewise-constant ops

# Each op declared once: name -> (MLX forward, dtype rule, complex ok, identity on integers,
#   derivative g * f(x, y) with x the input and y the result (written with the package's ops, so it
#   differentiates again under create_graph), torch's node name or None for "<Name>Backward0").
_UNARY = {
    "exp": (_precise.exp, "float", True, False, lambda x, y, g: g * y, None),
    "exp2": (lambda x: _precise.exp(x * _LN2_F), "float", True, False, lambda x, y, g: g * y * _LN2, "Exp2Backward0"),
    "expm1": (mx.expm1, "float", False, False, lambda x, y, g: g * (y + 1), "Expm1Backward0"),
    "log": (mx.log, "float", True, False, lambda x, y, g: g / x, None),
    "log2": (mx.log2, "float", True, False, lambda x, y, g: g / (x * _LN2), "Log2Backward0"),
    "log10": (mx.log10, "float", True, False, lambda x, y, g: g / (x * _LN10), "Log10Backward0"),
    "log1p": (mx.log1p, "float", True, False, lambda x, y, g: g / (x + 1), "Log1pBackward0"),
    "sqrt": (mx.sqrt, "float", True, False, lambda x, y, g: g / (2 * y), None),
    "rsqrt": (mx.rsqrt, "float", True, False, lambda x, y, g: -0.5 * g * y * y * y, None),
    "sin": (_precise.sin, "float", True, False, lambda x, y, g: g * x.cos(), None),
    "cos": (_precise.cos, "float", True, False, lambda x, y, g: -g * x.sin(), None),
    "tan": (mx.tan, "float", True, False, lambda x, y, g: g * (1 + y * y), None),
    "tanh": (mx.tanh, "float", True, False, lambda x, y, g: g * (1 - y * y), None),
    "sigmoid": (_precise.sigmoid, "float", True, False, lambda x, y, g: g * y * (1 - y), None),
    "reciprocal": (mx.reciprocal, "float", True, False, lambda x, y, g: -g * y * y, None),
    "floor": (mx.floor, "same", False, True, _ZERO, None),
    "ceil": (mx.ceil, "same", False, True, _ZERO, None),
    "trunc": (mx.trunc, "same", False, True, _ZERO, None),
    "square": (mx.square, "same", True, False, lambda x, y, g: 2 * g * x, "PowBackward0"),
    "sign": (mx.sign, "same", False, False, _ZERO, None),
    "relu": (_relu, "same", False, False, lambda x, y, g: g * (y > 0).to(g.dtype), None),  # relu'(0) = 0
}

_ns = globals()
for _name, (_fn, _rule, _cok, _ident, _deriv, _node) in _UNARY.items():
    _ns[_name] = _unary(_name, _fn, _rule, _cok, _ident, _deriv, _node or _name.capitalize() + "Backward0")


def round(input, *, decimals=0, out=None):  # noqa: A001 - torch's name
    if input.dtype.is_complex:
        raise NotImplementedError("\"round_cpu\" not implemented for 'ComplexFloat'")
    d = input.dtype
    r = input._mx if not (d.is_floating_point) else mx.round(input._mx, decimals)
    res = _new(r.astype(d._mx), input._device_code, d)
    if input.requires_grad:
        from ..autograd._derivatives import record

        record("RoundBackward0" if decimals == 0 else "RoundBackward1", lambda ctx, grads: (grads[0] * 0,), [input],
               [res])
    if out is not None:
        from .creation import _out

        return _out(out, res)
    return res


def fix(input, *, out=None):
    return trunc(input, out=out)  # noqa: F821 - defined from _UNARY


def lerp(input, end, weight, *, out=None):
    if not isinstance(end, Tensor) or end.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype "
                           f"{end.dtype if isinstance(end, Tensor) else type(end).__name__}")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{_SCALAR[input.dtype.name]}'")
    a, b = input._mx, end._mx
    w = weight._mx.astype(input.dtype._mx) if isinstance(weight, Tensor) else weight
    from ..autograd._mlx_vjp import mlx_op

    def f(a, b, *wt):
        w_ = wt[0] if wt else w
        diff = b - a
        # torch's two-sided formula: exact at both ends
        small = mx.abs(w_) < 0.5 if isinstance(w_, mx.array) else builtins.abs(w_) < 0.5
        return mx.where(small, a + w_ * diff, b - diff * (1 - w_)).astype(a.dtype)

    ins = [input, end] + ([weight.to(input.dtype)] if isinstance(weight, Tensor) else [])
    res = mlx_op("LerpBackward0" if isinstance(weight, Tensor) else "LerpBackward1", f, ins)
    if out is not None:
        from .creation import _out

        return _out(out, res)
    return res


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    return (input + value * (tensor1 * tensor2)) if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not (tensor1.dtype.is_floating_point or tensor1.dtype.is_complex) and \
            not (tensor2.dtype.is_floating_point or tensor2.dtype.is_complex):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    return input + value * (tensor1 / tensor2)


def _reduce_bool(name, fn):
    def op(input, dim=None, keepdim=False, *, out=None):
        x = input._mx
        axis = None if dim is None else (list(dim) if isinstance(dim, (tuple, list)) else dim)
        if isinstance(axis, builtins.int):
            n = builtins.max(input.dim(), 1)
            if not -n <= axis < n:
                raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {axis})")
        if input.dim() == 0:
            axis = None
        r = fn(x, axis=axis, keepdims=keepdim)
        d = _dtype.uint8 if input.dtype is _dtype.uint8 else _dtype.bool
        res = _new(r.astype(d._mx), input._device_code, d)
        if out is not None:
            from .creation import _out

            return _out(out, res)
        return res

    op.__name__ = name
    return op


any = _reduce_bool("any", mx.any)  # noqa: A001
all = _reduce_bool("all", mx.all)  # noqa: A001

_FUNCS = list(_UNARY) + ["round", "fix", "lerp", "addcmul", "addcdiv", "any", "all"]
for _name in _FUNCS:
    setattr(Tensor, _name, _ns[_name])


def _inplace(fn):
    def method(self, *args, **kwargs):
        r = fn(self, *args, **kwargs)
        if r.dtype is not self.dtype and not (r.dtype.is_floating_point and self.dtype.is_floating_point):
            if not (self.dtype.is_floating_point or self.dtype.is_complex):
                raise RuntimeError(f"result type {_SCALAR[r.dtype.name]} can't be cast to the desired output type "
                                   f"{_SCALAR[self.dtype.name]}")
        if tuple(r.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
        return self._commit(r)

    return method


for _name in list(_UNARY) + ["round", "fix", "lerp", "addcmul", "addcdiv"]:
    setattr(Tensor, _name + "_", _inplace(_ns[_name]))


def conj(input):
    """Complex conjugate (the tensor itself for real dtypes, as torch's lazy conj appears)."""
    if not input.dtype.is_complex:
        return input
    from ..autograd._mlx_vjp import mlx_op

    return mlx_op("ConjBackward0", mx.conj, [input])


def sgn(input):
    if not input.dtype.is_complex:
        return sign(input)  # noqa: F821 - from _UNARY
    from ..autograd._mlx_vjp import mlx_op

    return mlx_op("SgnBackward0", lambda z: mx.where(mx.abs(z) == 0, 0, z / mx.abs(z).astype(z.dtype)), [input])


def erf(input):
    """The accurate erf of _ops/elementwise.py (MLX's is float32-accurate even in float64)."""
    from .elementwise import _erf_accurate

    return _erf_accurate(input)


for _name in ("conj", "sgn", "erf"):
    setattr(Tensor, _name, _ns[_name])
