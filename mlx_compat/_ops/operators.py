"""The binary operators and their kin, declared in the operator registry (Note [Operator registry] in
csrc/dispatch.c) with their derivatives beside them: torch.add/sub/mul/div, pow, floor_divide, remainder, the
comparisons, bitwise ops and maximum/minimum over ops.c's operator table (so `a + b` shares their promotion,
write-through and derivatives), fmod and atan2 with MLX forwards of their own, and the n-ary clamp, clamp_min,
clamp_max (clip) and masked_fill; their function, method and in-place forms come from one declaration each.
where (a C fast path with this module's reference), bitwise_not/logical_not and the in-place fills and copies
(zero_, fill_, copy_) are Python functions here."""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _C, _dtype
from . import cpu_math as _cpu_math
from .._methods import declare
from .._tensor import _TORCH_NAME, Tensor, _new, _mx_evaluated, _root
from ..autograd._derivatives import _conj, grad_for, needs_grad
from .pointwise import (BOOL, COMPLEX, DEFAULT, FORM, INT_TO_FLOAT, MASK, NONE, NUMBER, PROMOTE, TENSOR, VALUE,  # noqa: F401
                        abs, absolute, nary, neg, negative, refusal)  # noqa: A004 - torch's names

_binary = Tensor._binary


def _out(out, r):
    if out is None:  # the common case: no import on the per-call path
        return r
    from .creation import _out as put

    return put(out, r)


def binary(name, operator=None, *, forward=None, forward64=None, promotion=DEFAULT, refuse=0, derivative=None,
           node=None, saves=True, alpha=False, rounding=False, fallback=None, tensor_first=False, tensors_only=False,
           numbers=False, inplace=True, other="other", module=None, qualname=None):
    """Declare the binary op `name` in the registry (Note [Operator registry] in csrc/dispatch.c); returns the
    function form, and Tensor.<name> (and Tensor.<name>_ unless inplace=False) come with it.

    Either over ops.c's operator `operator` (its promotion and in-place write-through; `a + b` is the same
    operator), or with an MLX `forward(x, y, stream=None)` (forward64 for float64) computed under ops.c's operand
    rules (weak Python scalars, torch's promotion) with the dtype rule `promotion` (DEFAULT or INT_TO_FLOAT) and
    torch's dtype refusals `refuse` (_C.REFUSE_*).

    derivative(grad, self, other[, result]) -> (grad_self, grad_other), written with the package's ops (so it
    differentiates again under create_graph); scalar operands arrive as Python numbers and get None. `node` is
    the backward node's name, or torch's names for (Tensor, Tensor), (Tensor, Scalar), (Scalar, Tensor)
    operands. Over an operator, the derivative is registered under the operator's C names
    (`<operator>_tt`/`_ts`/`_st`), which the Python operators record by too; saves=False: it needs no saved
    values (torch allows a second backward). alpha / rounding: torch's `alpha=` / `rounding_mode=` keyword;
    `fallback(input, other, inplace)` computes rounding_mode='trunc'. tensor_first / tensors_only: torch's
    signature takes (Tensor, Tensor or Scalar) / (Tensor, Tensor); numbers: the function form also takes two
    numbers (torch.add(2, 3)); `other`: torch's name of the second argument. module / qualname: a function-only
    op with a forward (Note [Function-only ops] in csrc/dispatch.c): no Tensor methods, its function form living
    in `module` as `qualname`, and `name` aten's ("special_xlog1py")."""
    flags = ((_C.OPF_ALPHA if alpha else 0) | (_C.OPF_ROUNDING if rounding else 0) |
             (_C.OPF_TENSOR_FIRST if tensor_first else 0) | (_C.OPF_TENSORS_ONLY if tensors_only else 0) |
             (_C.OPF_NUMBERS if numbers else 0))
    variants = _C.VARIANT_METHOD | (_C.VARIANT_INPLACE if inplace else 0)
    nodes = (node,) if isinstance(node, str) else tuple(node or ())
    if operator is not None:
        if derivative is not None:
            tt = nodes[0]
            ts, st = (nodes + (None, None))[1:3]

            def backward(ctx, grads):
                return derivative(grads[0], ctx[0], ctx[1])

            _C._register_backward(operator + "_tt", tt, backward, saves)
            _C._register_backward(operator + "_ts", ts or tt, backward, saves)
            # reflected (scalar op tensor): the node's edges are (tensor, scalar), as in torch
            _C._register_backward(operator + "_st", st or tt, lambda ctx, grads: backward(ctx, grads)[::-1], saves)
        return _C.Op(name, kind=_C.OP_BINARY, binary=operator, flags=flags, fallback=fallback, variants=variants,
                     other=other)
    takes_result = derivative is not None and (getattr(derivative, "takes_result", False) or "result" in
                                               derivative.__code__.co_varnames[:derivative.__code__.co_argcount])
    return _C.Op(name, kind=_C.OP_BINARY, forward=forward, forward64=forward64, promotion=promotion, refuse=refuse,
                 flags=flags, derivative=derivative, node=nodes or None, saves=_C.SAVE_RESULT if takes_result else 0,
                 other=other, **({"variants": variants} if module is None else {"module": module, "qualname": qualname}))


def _rule(self_formula, other_formula):
    """A binary derivative from one formula per input, as derivatives.yaml's `self:` / `other:` lines:
    formula(grad, self, other[, result]) runs only when that input needs a gradient; the result is reduced to the
    input's shape and dtype (grad_for). A formula of None: the input's gradient is zero."""
    def derivative(grad, self, other, *result):
        gs = go = None
        if isinstance(self, Tensor) and self.requires_grad:
            gs = grad_for(self, self_formula(grad, self, other, *result) if self_formula
                          else grad.new_zeros(()).expand(self.shape))
        if isinstance(other, Tensor) and other.requires_grad:
            go = grad_for(other, other_formula(grad, self, other, *result) if other_formula
                          else grad.new_zeros(()).expand(other.shape))
        return gs, go

    derivative.takes_result = any(f is not None and f.__code__.co_argcount == 4 for f in (self_formula, other_formula))
    return derivative


_HALF = (mx.float16, mx.bfloat16)


def binary_forward(fn):
    """fn(x, y), a composition of MLX calls over two arrays of one dtype, as a registry forward: a weak Python
    scalar operand becomes an array of the other's dtype (the registry has cast the tensors to the result's
    compute dtype), half types compute in float32 and round once (torch's opmath), and it runs under `stream`
    when the registry passes one (a tensor on a device other than MLX's default)."""
    def run(x, y):
        dt = x.dtype if isinstance(x, mx.array) else y.dtype
        x = x if isinstance(x, mx.array) else mx.array(x, dtype=dt)
        y = y if isinstance(y, mx.array) else mx.array(y, dtype=dt)
        if dt in _HALF:
            return fn(x.astype(mx.float32), y.astype(mx.float32)).astype(dt)
        return fn(x, y).astype(dt)

    def forward(x, y, stream=None):
        if stream is None:
            return run(x, y)
        with mx.stream(stream):
            return run(x, y)

    forward.__name__ = fn.__name__
    return forward


def _div_trunc(input, other, inplace):
    """div(input, other, rounding_mode='trunc') (and div_): the true quotient rounded toward zero, in torch's
    result dtype; no gradient flows through the rounding (torch's derivative there is zero)."""
    rt0, _ = _result_type_or_complex(input, other)
    if rt0.is_complex or rt0 is _dtype.bool:
        raise NotImplementedError(f"\"div_trunc_cpu\" not implemented for '{_SCALAR_NAMES[rt0.name]}'")
    rt = _C._result_type(input, other)
    if not (rt.is_floating_point or rt.is_complex):
        # torch raises on integer division by zero; while MLX traces, the check is skipped (Note [No
        # evaluation while tracing] in csrc/mxcall.c)
        if _C._item_or_none((other == 0).any()._mx) if isinstance(other, Tensor) else other == 0:
            raise RuntimeError("ZeroDivisionError")
    if rt.is_floating_point or rt.is_complex:
        q = _binary("div", input, other)
        r = _new(mx.trunc(q._mx, stream=_stream(q)), q._device_code, q.dtype)
    else:
        # integers: the floor quotient (exact, and safe: Note [Integer division traps] in csrc/ops.c) moved up by
        # one where a remainder is left and the signs differ (a float quotient would round past 2**53)
        fl = input // other
        s = _stream(fl)
        x, y = (v._mx.astype(rt._mx, stream=s) if isinstance(v, Tensor) else mx.array(v, rt._mx) for v in (input, other))
        rem = mx.subtract(x, mx.multiply(fl._mx, y, stream=s), stream=s)
        up = mx.logical_and(mx.not_equal(rem, 0, stream=s),
                            mx.not_equal(mx.less(x, 0, stream=s), mx.less(y, 0, stream=s), stream=s), stream=s)
        r = _new(mx.add(fl._mx, up.astype(rt._mx, stream=s), stream=s), fl._device_code, rt)
    if inplace:
        return input.copy_(r) if _can_cast(r.dtype, input.dtype) else _raise_cast(r.dtype, input.dtype)
    return r


_MX_DEVICES = (mx.cpu, mx.cpu if _C.FAKE_GPU else mx.gpu)  # Note [Fake GPU] (csrc/module.c)


def _stream(t):
    """The stream= argument the C core passes for tensor t's device: None on MLX's default device."""
    return None if t._device_code == _C.DEFAULT_MX_DEVICE else _MX_DEVICES[t._device_code]


def _can_cast(a, b):
    return can_cast(a, b)


def _raise_cast(a, b):
    raise RuntimeError(f"result type {_SCALAR_NAMES.get(a.name, a.name)} can't be cast to the desired output type "
                       f"{_SCALAR_NAMES.get(b.name, b.name)}")


_SCALAR_NAMES = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')

# The declared binary family: torch.<op>, Tensor.<op> and Tensor.<op>_ from one declaration each, its derivative
# beside it. (a, b are the operands: snapshots of tensors, Python numbers as given.)


def _pow_self(grad, a, b):
    if isinstance(b, Tensor):
        d = b * a ** (b - 1)
        d = d.masked_fill(b == 0, 0.0) if d.dtype.is_floating_point else d
    else:
        d = (a * 0.0) if b == 0 else b * a ** (b - 1)
    return grad * _conj(d)


def _pow_exponent(grad, a, b):
    r = a ** b
    if isinstance(a, Tensor):
        d = r * a.log()
        if d.dtype.is_floating_point:
            d = d.masked_fill((a == 0) & (b >= 0), 0.0)
    else:
        d = r * math.log(a) if a > 0 else (r * 0.0 if a == 0 else r * float("nan"))
    return grad * _conj(d)


def _minmax(greater):
    def derivative(grad, a, b):
        # torch's formulas: ties split the gradient evenly; the losing operand's gradient is selected away (an inf
        # or nan cotangent gives it 0, where a product with a 0/1 mask gives nan), and with a NaN operand both
        # get the gradient
        shared = where(a == b, grad / 2, grad)
        ga = shared.masked_fill((a < b) if greater else (a > b), 0) if needs_grad(a) else None
        gb = shared.masked_fill((a > b) if greater else (a < b), 0) if needs_grad(b) else None
        return None if ga is None else grad_for(a, ga), None if gb is None else grad_for(b, gb)

    return derivative


add = binary("add", "add", alpha=True, numbers=True, node="AddBackward0", saves=False,
             derivative=lambda grad, a, b: (grad_for(a, grad), grad_for(b, grad)))
sub = binary("sub", "sub", alpha=True, numbers=True, node=("SubBackward0", "SubBackward0", "RsubBackward1"),
             saves=False, derivative=_rule(lambda grad, a, b: grad, lambda grad, a, b: -grad))
mul = binary("mul", "mul", numbers=True, node="MulBackward0",
             derivative=_rule(lambda grad, a, b: grad * _conj(b), lambda grad, a, b: grad * _conj(a)))
div = binary("div", "div", rounding=True, fallback=_div_trunc, numbers=True,
             node=("DivBackward0", "DivBackward0", "MulBackward0"),
             derivative=_rule(lambda grad, a, b: grad / _conj(b), lambda grad, a, b: -grad * _conj(a) / _conj(b * b)))
pow = binary("pow", "pow", other="exponent", node=("PowBackward1", "PowBackward0", "PowBackward2"),  # noqa: A001
             derivative=_rule(_pow_self, _pow_exponent))
divide = true_divide = div
multiply = mul
subtract = sub


def _need_tensors(name, input, other, both):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of: (Tensor input, Tensor other)")
    if both and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


# The rest of the operator table: the comparisons take (Tensor, Tensor or Scalar), maximum/minimum two Tensors.
floor_divide = binary("floor_divide", "floor_divide", numbers=True, node="FloorDivideBackward0",
                      derivative=_rule(lambda grad, a, b: grad * 0, lambda grad, a, b: grad * 0))
remainder = binary("remainder", "remainder", node=("RemainderBackward1", "RemainderBackward0"),
                   derivative=_rule(lambda grad, a, b: grad, lambda grad, a, b: -grad * (a / b).floor()))
eq = binary("eq", "eq", tensor_first=True)
ne = binary("ne", "ne", tensor_first=True)
lt = binary("lt", "lt", tensor_first=True)
le = binary("le", "le", tensor_first=True)
gt = binary("gt", "gt", tensor_first=True)
ge = binary("ge", "ge", tensor_first=True)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
bitwise_and = binary("bitwise_and", "bitwise_and")
bitwise_or = binary("bitwise_or", "bitwise_or")
bitwise_xor = binary("bitwise_xor", "bitwise_xor")
bitwise_left_shift = binary("bitwise_left_shift", "bitwise_left_shift")
bitwise_right_shift = binary("bitwise_right_shift", "bitwise_right_shift")
maximum = binary("maximum", "maximum", tensors_only=True, inplace=False, node="MaximumBackward0",
                 derivative=_minmax(True))
minimum = binary("minimum", "minimum", tensors_only=True, inplace=False, node="MinimumBackward0",
                 derivative=_minmax(False))


def bitwise_not(input, *, out=None):
    return _out(out, ~input)


def logical_not(input, *, out=None):
    return _out(out, _new(mx.logical_not(input._mx), input._device_code, _dtype.bool))


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


def _check_broadcast(shapes):
    """torch's RuntimeError for operand shapes that do not broadcast together."""
    acc = ()
    for shape in shapes:
        n = builtins.max(len(acc), len(shape))
        a, b = (1,) * (n - len(acc)) + acc, (1,) * (n - len(shape)) + shape
        for k in builtins.range(n):
            if a[k] != b[k] and a[k] != 1 and b[k] != 1:
                raise RuntimeError(f"The size of tensor a ({a[k]}) must match the size of tensor b ({b[k]}) at "
                                   f"non-singleton dimension {k}")
        acc = tuple(builtins.max(x, y) if x != 1 else y for x, y in zip(a, b))


def _scalar_as(x, rt):
    """x (a Tensor: itself) as a Python number for dtype rt, converted as torch's checked_convert (Note [Scalar
    assignment check] in csrc/indexing.c): out of range is torch's RuntimeError, and a negative int wraps into an
    unsigned type (where(c, uint8_tensor, -1) holds 255, where MLX refuses -1)."""
    if isinstance(x, Tensor):
        return x
    v = _new(mx.zeros((0,), rt._mx), 0, rt)._scalar_for_assign(x)
    if type(v) is builtins.int and not rt.is_signed and rt is not _dtype.bool:
        v %= 1 << (8 * rt.itemsize)
    return v


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .creation import tensor as _t

        import numpy as np

        return tuple(_t(i, dtype=_dtype.int64) for i in np.nonzero(np.asarray(_mx_evaluated(condition._mx))))
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' (position 1) must be Tensor, not {type(condition).__name__}")
    for v in (input, other):
        if type(v) is int and not -(1 << 63) <= v < (1 << 63):
            raise OverflowError("int too big to convert")
    rt = _C._result_type(input, other)
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_SCALAR_NAMES.get(condition.dtype.name)}")
    from ..autograd._mlx_vjp import mlx_op

    input, other = _scalar_as(input, rt), _scalar_as(other, rt)
    c = condition._mx
    ts = [x.to(rt) if x.dtype is not rt else x for x in (input, other) if isinstance(x, Tensor)]
    a_is_t, b_is_t = isinstance(input, Tensor), isinstance(other, Tensor)

    def f(*vals):
        it = iter(vals)
        a = next(it) if a_is_t else input
        b = next(it) if b_is_t else other
        return mx.where(c, a, b).astype(rt._mx)

    dev = _common_device(condition, input, other)
    _check_broadcast([tuple(x.shape) for x in (condition, input, other) if isinstance(x, Tensor)])
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


def _where_backward(ctx, grads):
    """The C fast path's derivative (csrc/pointwise.c): the gradient selected where each operand was taken
    (0 elsewhere, so an inf or nan in the other branch stays out), reduced to the operand's shape and cast
    back to its dtype. ctx = [condition, ((shape, dtype) or None for input and other)]."""
    from ..autograd._derivatives import sum_to

    cond, targets = ctx[0], ctx[-1]
    g = grads[0]
    zero = g.new_zeros(())
    out = []
    for i, target in enumerate(targets):
        if target is None:
            out.append(None)
            continue
        gi = sum_to(where(cond, g, zero) if i == 0 else where(cond, zero, g), target[0])
        out.append(gi if gi.dtype is target[1] else gi.to(target[1]))
    return tuple(out)


_C._register_backward("where", "WhereBackward0", _where_backward, True)
# Note [Fast paths fall back] (csrc/fastpath.c): torch.where is the C fast path; the function above is its
# reference, run for every other argument form and error
from .fast import fast_path  # noqa: E402

where = fast_path("where", where)


# The declared n-ary family (Note [Operands of n-ary ops] in csrc/dispatch.c): clamp's optional bounds (numbers
# or tensors, never mixed: torch's two overloads), masked_fill's mask and 0-dim value; their derivatives beside
# them, written with where so that an inf or nan in the unselected branch stays out (torch's masked selects).


def _clamp_derivative(grad, self, min, max):  # noqa: A002
    zero = grad.new_zeros(())
    lo, hi = isinstance(min, Tensor), isinstance(max, Tensor)
    if not (lo or hi):  # ClampBackward1: the bounds are numbers (or None); both ends included
        keep = (self >= min) if min is not None else None
        if max is not None:
            keep = (self <= max) if keep is None else keep & (self <= max)
        return grad_for(self, where(keep, grad, zero)), None, None
    if lo and hi:  # ClampBackward0: the result is min where self < min < max, max where self > max or max < min
        g_self = where((self >= min) & (self <= max), grad, zero) if needs_grad(self) else None
        g_min = where((self < min) & (min < max), grad, zero) if needs_grad(min) else None
        g_max = where((self > max) | (max < min), grad, zero) if needs_grad(max) else None
    elif lo:
        g_self, g_min, g_max = where(self >= min, grad, zero), where(self < min, grad, zero), None
    else:
        g_self, g_min, g_max = where(self <= max, grad, zero), None, where(self > max, grad, zero)
    return grad_for(self, g_self), grad_for(min, g_min) if lo else None, grad_for(max, g_max) if hi else None


def _clamp_one_derivative(greater):
    def derivative(grad, self, bound):
        zero = grad.new_zeros(())
        kept = (self >= bound) if greater else (self <= bound)
        g_bound = where(kept, zero, grad) if needs_grad(bound) else None
        return grad_for(self, where(kept, grad, zero)), grad_for(bound, g_bound) if g_bound is not None else None

    return derivative


def _masked_fill_derivative(grad, self, mask, value):
    zero = grad.new_zeros(())
    g_value = where(mask, grad, zero).sum() if needs_grad(value) else None
    return grad_for(self, grad.masked_fill(mask, 0)), None, grad_for(value, g_value) if g_value is not None else None


def _clamp_refusals(kernel):
    complex_bound = (refusal(COMPLEX, RuntimeError, "value cannot be converted to type double without overflow",
                             form=0),) if kernel == "clamp" else ()  # a complex Python bound of a real input
    return (refusal(COMPLEX, NotImplementedError, "clamp is not supported for complex types", operands=(0,)),
            *complex_bound, refusal(COMPLEX, NotImplementedError, "clamp is not supported for complex types"),
            refusal(BOOL, NotImplementedError, f"\"{kernel}_scalar_cpu\" not implemented for '{{dtype}}'", form=0),
            # two tensor bounds: torch's clamp kernel (one bound is clamp_min / clamp_max, which take bool)
            refusal(BOOL, NotImplementedError, "\"clamp_cpu\" not implemented for '{dtype}'", operands=(0, 1, 2)))


_BOUND = TENSOR | NUMBER | FORM
clamp = nary("clamp", mx.clip, (("min", _BOUND | NONE, PROMOTE, None), ("max", _BOUND | NONE, PROMOTE, None)),
             _clamp_derivative, node=("ClampBackward1", "ClampBackward0"), same_kind=True, need_one=True, exact_out=True,
             refusals=_clamp_refusals("clamp"))
clamp_min = nary("clamp_min", mx.maximum, (("min", _BOUND, PROMOTE),), _clamp_one_derivative(True),
                 node=("ClampMinBackward0", "ClampMinBackward1"), exact_out=True, refusals=_clamp_refusals("clamp_min"))
clamp_max = nary("clamp_max", mx.minimum, (("max", _BOUND, PROMOTE),), _clamp_one_derivative(False),
                 node=("ClampMaxBackward0", "ClampMaxBackward1"), exact_out=True, refusals=_clamp_refusals("clamp_max"))
clip = clamp
def _masked_fill_forward(x, mask, value, stream=None):
    if x.dtype == mx.float32 and x.size >= _cpu_math.GENERIC_MIN_ELEMENTS and _cpu_math.on_cpu(stream):
        r = _cpu_math.where_any(mask, value, x, stream=stream)  # Note [Selects in CPU kernels]: by the bits
        if r is not None:
            return r
    return mx.where(mask, value, x, stream=stream)


masked_fill = nary("masked_fill", _masked_fill_forward,
                   (("mask", TENSOR, MASK), ("value", TENSOR | NUMBER | FORM, VALUE)), _masked_fill_derivative,
                   node=("MaskedFillBackward0", "MaskedFillBackward1"), out=False)


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
    # no dim: torch's overload without one (SumBackward0); the method records the dim overload for dim=None
    return _out(out, input.sum(dtype=dtype) if dim is None and not keepdim else input.sum(dim, keepdim, dtype=dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    return _out(out, input.mean(dtype=dtype) if dim is None and not keepdim else input.mean(dim, keepdim, dtype=dtype))


def matmul(input, other, *, out=None):
    return _out(out, input.matmul(other))


# ---------------------------------------------------------------- methods


def _method(name, fn):
    declare(name, fn, module=__name__)  # Note [Declared Tensor methods]


for _name in ("bitwise_not", "logical_not"):
    _method(_name, globals()[_name])

_method("where", lambda self, condition, other: where(condition, self, other))
for _alias, _op in (("true_divide", div), ("divide", div), ("multiply", mul), ("subtract", sub), ("greater", gt),
                    ("greater_equal", ge), ("less", lt), ("less_equal", le), ("not_equal", ne),
                    ("negative", neg), ("absolute", abs), ("clip", clamp)):
    _method(_alias, _op.method)  # torch's aliases: the registered forms themselves
    _method(_alias + "_", _op.inplace)


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


def _autograd_relevant(self, value=None):
    owner = _root(self)
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


for _name, _fn in (("zero_", zero_), ("fill_", fill_), ("copy_", copy_)):
    _method(_name, _fn)

for _name in ("bitwise_not", "logical_not"):
    _method(_name + "_", _inplace_from(globals()[_name]))


def _result_type_or_complex(a, b):
    """torch's result type; complex64 standing in for complex128 (which MLX lacks) so that ops refusing
    complex inputs raise torch's error before the complex128 TypeError."""
    try:
        return _C._result_type(a, b), False
    except TypeError:
        return _dtype.complex64, True


def _fmod_mx(a, b):
    """C's fmod: the remainder with the sign of the dividend (MLX's remainder has the divisor's)."""
    r = mx.remainder(a, b)
    r = mx.where((r != 0) & ((r < 0) != (a < 0)), r - b, r)
    if mx.issubdtype(r.dtype, mx.floating):
        r = mx.where(mx.isinf(b) & mx.isfinite(a), a, r)  # fmod(x, ±inf) = x
    return r


fmod = binary("fmod", forward=binary_forward(_fmod_mx), tensor_first=True, node=("FmodBackward1", "FmodBackward0"),
              refuse=_C.REFUSE_BOOL | _C.REFUSE_COMPLEX | _C.REFUSE_INT_ZERO_DIV,
              derivative=_rule(lambda grad, a, b: grad,
                               lambda grad, a, b: -grad * a.div(b, rounding_mode="trunc")))
def _atan2_recip(a, b):
    """1 / (a^2 + b^2), 0 where that is 0 (torch's atan2 backward: the gradient at (0, 0), or where the squares
    underflow, is 0, not 0 * inf)."""
    denom = a * a + b * b
    return denom.reciprocal().masked_fill(denom == 0, 0)


atan2 = binary("atan2", forward=mx.arctan2, promotion=INT_TO_FLOAT, tensors_only=True, node="Atan2Backward0",
               refuse=_C.REFUSE_COMPLEX,
               derivative=_rule(lambda grad, a, b: grad * b * _atan2_recip(a, b),
                                lambda grad, a, b: grad * -a * _atan2_recip(a, b)))
arctan2 = atan2
for _name in ("arctan2",):
    _method(_name, atan2.method)
    _method(_name + "_", atan2.inplace)
