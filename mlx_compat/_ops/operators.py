"""The binary operators and their kin as functions (torch.add, ...), methods (Tensor.add) and in-place
methods (Tensor.add_), all over the C core's operator path (`Tensor._binary`), so promotion, casting
and write-through are the core's. Declared once in `_BINARY`; the three variants are derived."""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _C, _dtype
from .._tensor import Tensor, _new

_binary = Tensor._binary


def _is_bool(x):
    return isinstance(x, builtins.bool) or (isinstance(x, Tensor) and x.dtype is _dtype.bool)


def _check_alpha(a, b, alpha, op="add"):
    """`alpha * b` in the dtype torch computes `a op alpha*b` in (so alpha never promotes)."""
    if op == "sub" and (_is_bool(a) or _is_bool(b)):
        return b  # the core raises torch's bool-subtraction error
    if alpha is None or (alpha == 1 and not isinstance(alpha, builtins.float)):
        return b
    rt = _C._result_type(a, b)
    if isinstance(alpha, builtins.float) and not (rt.is_floating_point or rt.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, builtins.complex) and not rt.is_complex:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    if rt is _dtype.bool:
        if not isinstance(alpha, builtins.bool) and alpha not in (0, 1) and False:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        if isinstance(b, Tensor):
            return b if alpha else b & False
        return b and builtins.bool(alpha)
    if isinstance(b, Tensor):
        return (b if b.dtype is rt else b.to(rt)) * alpha  # differentiable: records the scaling
    return b * alpha


def _out(out, r):
    if out is None:  # the common case: no import on the per-call path
        return r
    from .creation import _out as put

    return put(out, r)


def add(input, other, *, alpha=1, out=None):
    return _out(out, _binary("add", input, _check_alpha(input, other, alpha)))


def sub(input, other, *, alpha=1, out=None):
    return _out(out, _binary("sub", input, _check_alpha(input, other, alpha, "sub")))


def _rounding(input, other, rounding_mode, inplace):
    if rounding_mode is None:
        return _binary("div", input, other, inplace)
    if rounding_mode == "floor":
        if _result_type_or_complex(input, other)[0].is_complex:
            raise NotImplementedError("\"div_floor_cpu\" not implemented for 'ComplexFloat'")
        return _binary("floor_divide", input, other, inplace)
    if rounding_mode == "trunc":
        rt0, _ = _result_type_or_complex(input, other)
        if rt0.is_complex or rt0 is _dtype.bool:
            raise NotImplementedError(f"\"div_trunc_cpu\" not implemented for '{_SCALAR_NAMES[rt0.name]}'")
        q = _binary("div", input, other)
        rt = _C._result_type(input, other)
        if rt.is_floating_point or rt.is_complex:
            r = _new(mx.trunc(q._mx), q._device_code, q.dtype)
        else:
            r = _new(mx.trunc(q._mx).astype(rt._mx), q._device_code, rt)
        if inplace:
            return input.copy_(r) if _can_cast(r.dtype, input.dtype) else _raise_cast(r.dtype, input.dtype)
        return r
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def _can_cast(a, b):
    return can_cast(a, b)


def _raise_cast(a, b):
    raise RuntimeError(f"result type {_SCALAR_NAMES.get(a.name, a.name)} can't be cast to the desired output type "
                       f"{_SCALAR_NAMES.get(b.name, b.name)}")


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat"}


def div(input, other, *, rounding_mode=None, out=None):
    return _out(out, _rounding(input, other, rounding_mode, False))


divide = div
true_divide = div


def mul(input, other, *, out=None):
    return _out(out, _binary("mul", input, other))


multiply = mul
subtract = sub


# torch's signatures: the comparisons take (Tensor, Tensor or Scalar); maximum/minimum take two Tensors
_TENSOR_FIRST = {"eq", "ne", "lt", "le", "gt", "ge"}
_TENSORS_ONLY = {"maximum", "minimum"}


def _need_tensors(name, input, other, both):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of: (Tensor input, Tensor other)")
    if both and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


def _make_simple(name, opname):
    first, both = name in _TENSOR_FIRST, name in _TENSORS_ONLY

    def fn(input, other, *, out=None):
        if first or both:
            _need_tensors(name, input, other, both)
        return _out(out, _binary(opname, input, other))

    fn.__name__ = name
    return fn


floor_divide = _make_simple("floor_divide", "floor_divide")
remainder = _make_simple("remainder", "remainder")
eq = _make_simple("eq", "eq")
ne = _make_simple("ne", "ne")
lt = _make_simple("lt", "lt")
le = _make_simple("le", "le")
gt = _make_simple("gt", "gt")
ge = _make_simple("ge", "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
bitwise_and = _make_simple("bitwise_and", "bitwise_and")
bitwise_or = _make_simple("bitwise_or", "bitwise_or")
bitwise_xor = _make_simple("bitwise_xor", "bitwise_xor")
bitwise_left_shift = _make_simple("bitwise_left_shift", "bitwise_left_shift")
bitwise_right_shift = _make_simple("bitwise_right_shift", "bitwise_right_shift")
maximum = _make_simple("maximum", "maximum")
minimum = _make_simple("minimum", "minimum")


def pow(input, exponent, *, out=None):  # noqa: A001 - torch's name
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow() received an invalid combination of arguments")
        return _out(out, _binary("pow", input, exponent))
    return _out(out, _binary("pow", input, exponent))


def neg(input, *, out=None):
    return _out(out, -input)


negative = neg


def abs(input, *, out=None):  # noqa: A001
    return _out(out, builtins.abs(input))


absolute = abs


def bitwise_not(input, *, out=None):
    return _out(out, ~input)


def logical_not(input, *, out=None):
    return _out(out, _new(mx.logical_not(input._mx), input._device_code, _dtype.bool))


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    operands = [input] + [b for b in (min, max) if b is not None]
    rt = _C._result_type(*operands)
    if input.dtype is _dtype.bool and rt is _dtype.bool:
        raise RuntimeError("\"clamp_cpu\" not implemented for 'Bool'")
    if rt.is_complex:
        raise RuntimeError("clamp is not supported for complex types")
    lo = min._mx.astype(rt._mx) if isinstance(min, Tensor) else min
    hi = max._mx.astype(rt._mx) if isinstance(max, Tensor) else max

    def f(xin):
        # one mx.clip: it propagates NaN inputs as torch does (max(x, lo) first, then min(., hi): lo > hi gives hi)
        return mx.clip(xin.astype(rt._mx), lo, hi).astype(rt._mx)

    bounds = [b for b in (min, max) if isinstance(b, Tensor)]
    if input.requires_grad or builtins.any(b.requires_grad for b in bounds):
        # torch's derivative: to x where lo <= x <= hi (bounds included); to a tensor bound where it is the
        # result (max(x, lo) picks lo where x < lo; min(., hi) picks hi where max(x, lo) > hi)
        from ..autograd._derivatives import grad_for, record

        res = _new(f(input._mx), input._device_code, rt)
        x0 = input._mx.astype(rt._mx)
        dev = input._device_code

        def mask(m):
            return _new(m, dev, _dtype.bool)

        def bw(ctx, grads):
            g = grads[0]
            below = (x0 < lo) if lo is not None else mx.zeros(x0.shape, dtype=mx.bool_)
            above = (mx.maximum(x0, lo) if lo is not None else x0) > hi if hi is not None else \
                mx.zeros(x0.shape, dtype=mx.bool_)
            g_x = g * mask(mx.logical_not(below | above)).to(g.dtype)
            g_lo = g * mask(below & mx.logical_not(above)).to(g.dtype)
            g_hi = g * mask(above).to(g.dtype)
            return (grad_for(input, g_x), grad_for(min, g_lo) if isinstance(min, Tensor) else None,
                    grad_for(max, g_hi) if isinstance(max, Tensor) else None)

        name = "ClampBackward0" if bounds else "ClampBackward1"
        record(name, bw, [input, min, max], [res])
        return _out(out, res)
    return _out(out, _new(f(input._mx), input._device_code, rt))


clip = clamp


def clamp_min(input, min):  # noqa: A002
    _need_tensors("clamp_min", input, min, False)
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    _need_tensors("clamp_max", input, max, False)
    return clamp(input, max=max)


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        if value.requires_grad:
            from ..autograd._mlx_vjp import mlx_op

            m = mask._mx
            vt = value if value.dtype is input.dtype else value.to(input.dtype)
            return mlx_op("MaskedFillBackward1", lambda x, v: mx.where(m, v, x).astype(x.dtype), [input, vt])
        v = value._mx.astype(input.dtype._mx)
    elif isinstance(value, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
        v = mx.array(value, dtype=input.dtype._mx)
    else:
        raise TypeError(f"masked_fill() received an invalid combination of arguments - got value of type "
                        f"{type(value).__name__}")
    from ..autograd._mlx_vjp import mlx_op

    m = mask._mx
    return mlx_op("MaskedFillBackward0", lambda x: mx.where(m, v, x).astype(x.dtype), [input])


def _common_device(*xs):
    """The device of an op over tensors xs, as torch: a GPU tensor's, where the CPU ones are 0-d (they join
    GPU tensors as scalars); a CPU tensor of one or more dims beside a GPU one is torch's RuntimeError."""
    ts = [x for x in xs if isinstance(x, Tensor)]
    gpu = [t for t in ts if t._device_code != 0]
    if not gpu:
        return 0
    if builtins.any(t._device_code == 0 and t.dim() > 0 for t in ts):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"cpu and {gpu[0].device}!")
    return gpu[0]._device_code


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .creation import tensor as _t

        import numpy as np

        return tuple(_t(i, dtype=_dtype.int64) for i in np.nonzero(np.asarray(condition._mx)))
    rt = _C._result_type(input, other)
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_SCALAR_NAMES.get(condition.dtype.name)}")
    from ..autograd._mlx_vjp import mlx_op

    c = condition._mx
    ts = [x.to(rt) if x.dtype is not rt else x for x in (input, other) if isinstance(x, Tensor)]
    a_is_t, b_is_t = isinstance(input, Tensor), isinstance(other, Tensor)

    def f(*vals):
        it = iter(vals)
        a = next(it) if a_is_t else input
        b = next(it) if b_is_t else other
        return mx.where(c, a, b).astype(rt._mx)

    dev = _common_device(condition, input, other)
    res = _new(f(*[t._mx for t in ts]), dev, rt)
    if ts and _C.is_grad_enabled() and builtins.any(t.requires_grad for t in ts):
        from ..autograd._derivatives import record, sum_to

        cond = condition.detach()
        shapes = [tuple(t.shape) for t in ts]

        def bw(ctx, grads):
            # torch selects the gradient (0 where the other branch was taken): an inf or nan there stays out,
            # where mx.where's own vjp multiplies by the mask and turns it into nan
            g = grads[0]
            zero = g.new_zeros(())
            parts = []
            if a_is_t:
                parts.append(sum_to(where(cond, g, zero), shapes[len(parts)]))
            if b_is_t:
                parts.append(sum_to(where(cond, zero, g), shapes[len(parts)]))
            return tuple(parts)

        record("WhereBackward0", bw, ts, [res])
    return _out(out, res)


def result_type(tensor1, tensor2):
    return _C._result_type(tensor1, tensor2)


def promote_types(type1, type2):
    return _C._promote_types(type1, type2)


def can_cast(from_, to):
    if not isinstance(from_, _dtype.dtype) or not isinstance(to, _dtype.dtype):
        raise TypeError("can_cast(): argument 'from_' and 'to' must be torch.dtype")
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and not (to.is_floating_point or to.is_complex):
        return False
    if from_ is not _dtype.bool and to is _dtype.bool:
        return False
    return True


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A001
    return _out(out, input.sum(dim, keepdim, dtype=dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    return _out(out, input.mean(dim, keepdim, dtype=dtype))


def matmul(input, other, *, out=None):
    return _out(out, input.matmul(other))


# ---------------------------------------------------------------- methods


def _method(name, fn):
    setattr(Tensor, name, fn)


for _name in ("add", "sub", "mul", "div", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt", "ge",
              "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "maximum",
              "minimum", "pow", "neg", "abs", "bitwise_not", "logical_not", "clamp", "clamp_min", "clamp_max",
              "masked_fill", "true_divide", "multiply", "subtract", "divide", "greater", "greater_equal", "less",
              "less_equal", "not_equal", "negative", "absolute", "clip"):
    _method(_name, globals()[_name])

Tensor.where = lambda self, condition, other: where(condition, self, other)


# ---------------------------------------------------------------- in-place methods


def _inplace_from(fn):
    """t.op_(...) = compute op out of place, then copy back with torch's cast rule and write-through."""

    def method(self, *args, **kwargs):
        r = fn(self, *args, **kwargs)
        if not can_cast(r.dtype, self.dtype):
            _raise_cast(r.dtype, self.dtype)
        if tuple(r.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
        return self._commit(r)

    return method


def add_(self, other, *, alpha=1):
    return _binary("add", self, _check_alpha(self, other, alpha), True)


def sub_(self, other, *, alpha=1):
    return _binary("sub", self, _check_alpha(self, other, alpha, "sub"), True)


def mul_(self, other):
    return _binary("mul", self, other, True)


def div_(self, other, *, rounding_mode=None):
    return _rounding(self, other, rounding_mode, True)


def pow_(self, exponent):
    return _binary("pow", self, exponent, True)


def _autograd_relevant(self, value=None):
    owner = self._base if self._base is not None else self
    return _C.is_grad_enabled() and (owner.requires_grad or self.requires_grad or
                                     (isinstance(value, Tensor) and value.requires_grad))


def zero_(self):
    if _autograd_relevant(self):
        from .creation import zeros

        return self._commit(zeros(self.shape, dtype=self.dtype, device=self.device))
    return self._fill(0)


def fill_(self, value):
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions.")
    if not isinstance(value, (Tensor, builtins.bool, builtins.int, builtins.float, builtins.complex)):
        raise TypeError(f"fill_() received an invalid combination of arguments - got ({type(value).__name__})")
    if _autograd_relevant(self, value):
        src = value.to(self.dtype).expand(self.shape) if isinstance(value, Tensor) else None
        if src is None:
            from .creation import full

            src = full(tuple(self.shape), value, dtype=self.dtype, device=self.device)
        return self._commit(src)
    return self._fill(value)


def copy_(self, src, non_blocking=False):
    if isinstance(src, (builtins.bool, builtins.int, builtins.float, builtins.complex)) and \
            not isinstance(non_blocking, Tensor):
        return fill_(self, src)  # torch's copy_ accepts a Number (a fill)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    _check_expandable(tuple(src.shape), tuple(self.shape))
    if _autograd_relevant(self, src):
        s2 = src.to(self.dtype) if src.dtype is not self.dtype else src
        if tuple(s2.shape) != tuple(self.shape):
            s2 = s2.expand(self.shape)
        elif s2.requires_grad and s2.grad_fn is None:
            s2 = s2.view_as(s2)  # a leaf source: route its gradient through a node
        return self._commit(s2)
    return self._assign(src)


def _check_expandable(src, dst):
    """torch's error when `src` cannot be expanded to `dst` (copy_ semantics)."""
    if len(src) > len(dst):
        raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape {list(src)}")
    for i in builtins.range(1, len(src) + 1):
        if src[-i] != dst[-i] and src[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({dst[-i]}) must match the size of tensor b ({src[-i]}) at "
                               f"non-singleton dimension {len(dst) - i}")


def masked_fill_(self, mask, value):
    r = masked_fill(self, mask, value)
    if tuple(r.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(r.shape)}")
    return self._commit(r)


for _name, _fn in (("add_", add_), ("sub_", sub_), ("mul_", mul_), ("div_", div_), ("pow_", pow_),
                   ("zero_", zero_), ("fill_", fill_), ("copy_", copy_), ("masked_fill_", masked_fill_),
                   ("true_divide_", div_), ("multiply_", mul_), ("subtract_", sub_), ("divide_", div_)):
    _method(_name, _fn)

for _name in ("floor_divide", "remainder", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
              "bitwise_right_shift", "eq", "ne", "lt", "le", "gt", "ge"):
    _method(_name + "_", (lambda op: lambda self, other: _binary(op, self, other, True))(_name))

for _name in ("clamp", "clamp_min", "clamp_max", "neg", "abs", "bitwise_not", "logical_not", "clip", "negative",
              "absolute"):
    _method(_name + "_", _inplace_from(globals()[_name]))


def _result_type_or_complex(a, b):
    """torch's result type; complex64 standing in for complex128 (which MLX lacks) so that ops refusing
    complex inputs raise torch's error before the complex128 TypeError."""
    try:
        return _C._result_type(a, b), False
    except TypeError:
        return _dtype.complex64, True


def _promoted(a, b, float_result=False, name=None):
    """(a, b as mx values in torch's common dtype, that dtype, device code)."""
    rt, wide = _result_type_or_complex(a, b)
    if wide and name:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'ComplexDouble'")
    rt = _C._result_type(a, b)
    if float_result and not (rt.is_floating_point or rt.is_complex):
        rt = _C._get_default_dtype()
    dev = a._device_code if isinstance(a, Tensor) else b._device_code
    va = a._mx.astype(rt._mx) if isinstance(a, Tensor) else a
    vb = b._mx.astype(rt._mx) if isinstance(b, Tensor) else b
    return va, vb, rt, dev


def _binary_mlx_op(name, f, a, b, va, vb, rt, dev):
    """f over two operands (tensors or scalars) in dtype rt, differentiable through mlx_op for tensors."""
    from ..autograd._mlx_vjp import mlx_op

    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ((ta and a.requires_grad) or (tb and b.requires_grad)):
        return _new(f(va, vb), dev, rt)
    ins = [x if x.dtype is rt else x.to(rt) for x in (a, b) if isinstance(x, Tensor)]

    def g(*vals):
        it = iter(vals)
        return f(next(it) if ta else va, next(it) if tb else vb)

    return mlx_op(name, g, ins, dev)


def fmod(input, other, *, out=None):
    """C-style remainder: the result has the sign of the dividend."""
    _need_tensors("fmod", input, other, False)
    va, vb, rt, dev = _promoted(input, other, name="fmod")
    if rt.is_complex or rt is _dtype.bool:
        raise NotImplementedError(f"\"fmod_cpu\" not implemented for '{_SCALAR_NAMES[rt.name]}'")
    if not rt.is_floating_point and not isinstance(other, Tensor) and other == 0:
        raise RuntimeError("ZeroDivisionError")
    if rt in (_dtype.float16, _dtype.bfloat16):  # compute half types in float32, as torch's opmath does
        va = va.astype(mx.float32) if isinstance(va, mx.array) else va
        vb = vb.astype(mx.float32) if isinstance(vb, mx.array) else vb
    def f(va, vb):
        r = mx.remainder(va, vb)
        a_full = mx.broadcast_to(mx.array(va, dtype=rt._mx) if not isinstance(va, mx.array) else va, r.shape)
        b_full = mx.broadcast_to(mx.array(vb, dtype=rt._mx) if not isinstance(vb, mx.array) else vb, r.shape)
        a_full, b_full = a_full.astype(r.dtype), b_full.astype(r.dtype)
        fix = (r != 0) & ((r < 0) != (a_full < 0))
        r = mx.where(fix, r - b_full, r)
        if rt.is_floating_point:
            r = mx.where(mx.isinf(b_full) & mx.isfinite(a_full), a_full, r)
        return r.astype(rt._mx)

    return _out(out, _binary_mlx_op("FmodBackward0", f, input, other, va, vb, rt, dev))


def atan2(input, other, *, out=None):
    _need_tensors("atan2", input, other, True)
    va, vb, rt, dev = _promoted(input, other, float_result=True, name="atan2")
    if rt.is_complex:
        raise NotImplementedError("\"atan2_cpu\" not implemented for 'ComplexFloat'")
    return _out(out, _binary_mlx_op("Atan2Backward0", lambda a, b: mx.arctan2(a, b).astype(rt._mx), input, other,
                                     va, vb, rt, dev))


arctan2 = atan2
for _name in ("fmod", "atan2", "arctan2"):
    _method(_name, globals()[_name])
_method("fmod_", _inplace_from(fmod))
_method("atan2_", _inplace_from(atan2))
