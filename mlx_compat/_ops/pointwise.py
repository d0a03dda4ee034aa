"""Pointwise math beyond the operators (exp, sqrt, floor, sigmoid, sgn, lerp, addcmul, ...): functions, methods and
in-place methods. The primitive unary family and the n-ary lerp, addcmul, addcdiv are declared once each in the
operator registry (`_C.Op`, Note [Operator registry] in csrc/dispatch.c): forward, float64 forward, dtype rule,
operand roles, torch's refusals, derivative and node name side by side; the registry generates torch.<op>,
Tensor.<op> and Tensor.<op>_ and runs all three in C. Also the declaration helpers `unary`, `nary` and `refusal`
the other families use, and the Python-level round, fix, any, all."""
from __future__ import annotations

import builtins
import enum

import mlx.core as mx

from .. import _C, _dtype
from . import cpu_math as _cpu_math, precise as _precise
from .._methods import declare
from .._tensor import _TORCH_NAME, Tensor, _new

_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')


class ELEMENTWISE_TYPE_PROMOTION_KIND(enum.IntEnum):
    """The result-dtype rule of an elementwise op, declared with it (torch._prims_common's names; the one C enum
    of csrc/core.h, which ops.c's operator table uses too). DEFAULT: the operands' promoted dtype; INT_TO_FLOAT:
    integral and bool operands compute in the default float dtype; BOOL_TO_LONG: bool inputs compute in int64;
    ALWAYS_BOOL: a bool result (comparisons); COMPLEX_TO_FLOAT: complex inputs give their real dtype (abs);
    DOUBLE (not in torch's enum: its float_power computes its dtype by hand): float64 whatever the operands,
    complex128 for complex ones (Note [Always-double results] in csrc/dispatch.c)."""
    DEFAULT = _C.PROMOTE_DEFAULT
    INT_TO_FLOAT = _C.PROMOTE_INT_TO_FLOAT
    BOOL_TO_LONG = _C.PROMOTE_BOOL_TO_LONG
    ALWAYS_BOOL = _C.PROMOTE_ALWAYS_BOOL
    COMPLEX_TO_FLOAT = _C.PROMOTE_COMPLEX_TO_FLOAT
    DOUBLE = _C.PROMOTE_DOUBLE


DEFAULT = ELEMENTWISE_TYPE_PROMOTION_KIND.DEFAULT
INT_TO_FLOAT = ELEMENTWISE_TYPE_PROMOTION_KIND.INT_TO_FLOAT
BOOL_TO_LONG = ELEMENTWISE_TYPE_PROMOTION_KIND.BOOL_TO_LONG
COMPLEX_TO_FLOAT = ELEMENTWISE_TYPE_PROMOTION_KIND.COMPLEX_TO_FLOAT
DOUBLE = ELEMENTWISE_TYPE_PROMOTION_KIND.DOUBLE
_SAVES = {"self": _C.SAVE_SELF, "result": _C.SAVE_RESULT}


def unary(name, forward, promotion, derivative, *, forward64=None, forward_cpu=None, scalar=None, node=None, complex=False,
          int_identity=False, bool_error=None, out=True, exact_out=False, operator=None, inplace_grad=True, refusals=(),
          module=None, qualname=None):
    """Declare the unary op `name` in the registry (Note [Operator registry] in csrc/dispatch.c) and return its
    function form; Tensor.<name> and Tensor.<name>_ come with it.

    forward(x, [scalar], stream=None) is the MLX call (forward64 the one for float64 inputs, forward_cpu the one for
    large float32 inputs on the CPU: Note [Shapeless CPU transcendentals] in cpu_math.py); `derivative(grad, [self],
    [result])` is written with the package's ops (so it differentiates again under create_graph), its parameter
    names saying which saved values it takes, as in torch's derivatives.yaml; None records nothing. `node` is the
    backward node's name ("<Name>Backward0" by default); `complex` allows complex inputs (else torch's
    NotImplementedError); `int_identity` returns integral inputs unchanged (rounding ops); `bool_error` is the
    (exception type, message) torch raises for bool inputs; out=False: the function form takes no `out=`;
    exact_out: `out=` must have the result's dtype; inplace_grad=False: torch has no derivative for the
    in-place form (its backward raises NotImplementedError). `operator`: the name ops.c's Python operator of the same op
    (`-x` is "neg", `abs(x)` is "abs") records its node by; the derivative is registered under it too. `refusals`:
    refusal(...) tuples, torch's dtype refusals with its exception and message, checked on the input's dtype
    before anything else (Note [Declared refusals]). module / qualname: a function-only op (Note [Function-only
    ops] in csrc/dispatch.c), no Tensor.<name> nor Tensor.<name>_: the module holding its function form
    ("mlx_compat.special") and its attribute name there; `name` is then aten's ("special_entr")."""
    saves = 0
    if derivative is not None:
        params = derivative.__code__.co_varnames[:derivative.__code__.co_argcount]
        if params[:1] != ("grad",) or list(params[1:]) != sorted(params[1:], key=("self", "result").index):
            raise TypeError(f"{name}: a derivative takes (grad, [self], [result]), got {params}")
        for p in params[1:]:
            saves |= _SAVES[p]
    flags = ((_C.OPF_COMPLEX if complex else 0) | (_C.OPF_INT_IDENTITY if int_identity else 0) |
             (_C.OPF_NO_BOOL if bool_error else 0) | (0 if out else _C.OPF_NO_OUT) |
             (_C.OPF_EXACT_OUT if exact_out else 0) | (0 if inplace_grad else _C.OPF_NO_INPLACE_GRAD))
    extra = {} if scalar is None else {"scalar": scalar}
    if operator is not None:  # ops.c's ctx is (self snapshot, extra)
        takes_self = bool(saves & _C.SAVE_SELF)
        _C._register_backward(operator, node or name.capitalize() + "Backward0",
                              lambda ctx, grads: (derivative(grads[0], ctx[0]) if takes_self else derivative(grads[0]),),
                              takes_self)
    if forward_cpu is not None:
        extra["forward_cpu"] = forward_cpu
    return _C.Op(name, forward=forward, forward64=forward64, **extra, promotion=promotion, flags=flags,
                 derivative=derivative, saves=saves, node=node or name.capitalize() + "Backward0",
                 bool_error=bool_error, refusals=tuple(refusals) or None,
                 **_placement(module, qualname, _C.VARIANT_METHOD | _C.VARIANT_INPLACE))


def _placement(module, qualname, variants):
    """The Op keywords that place a declaration's forms: its method variants, or for a function-only op (module
    given) none, and the function's module and name there (Note [Function-only ops] in csrc/dispatch.c)."""
    if module is None:
        return {"variants": variants}
    return {"variants": 0, "module": module, "qualname": qualname}


# What an n-ary op's parameter accepts and its role in the dtype rule (Note [Operands of n-ary ops] in
# csrc/dispatch.c); the dtype classes a refusal names (Note [Declared refusals]).
TENSOR, NUMBER, NONE, FORM, KWONLY = _C.ARG_TENSOR, _C.ARG_NUMBER, _C.ARG_NONE, _C.ARG_FORM, _C.ARG_KWONLY
PROMOTE, SAME, SAME_OR_0DIM, MASK, VALUE, SCALAR = (_C.ROLE_PROMOTE, _C.ROLE_SAME, _C.ROLE_SAME_OR_0DIM, _C.ROLE_MASK,
                                                    _C.ROLE_VALUE, _C.ROLE_SCALAR)
BOOL, INTEGRAL, FLOATING, COMPLEX, HALF = _C.DTM_BOOL, _C.DTM_INTEGRAL, _C.DTM_FLOAT, _C.DTM_COMPLEX, _C.DTM_HALF


def refusal(classes, exception, message, *, form=-1, operands=()):
    """One of torch's dtype refusals for a declaration's `refusals` (Note [Declared refusals] in
    csrc/dispatch.c): raise exception(message) when the result dtype (or the promoted dtype of the tensor
    operands numbered in `operands`, 0 the input) is in `classes`; "{dtype}" in the message is torch's name
    of that dtype ('Long'), "{name}" the form's name. form=0 / 1: only the number / tensor form."""
    bits = 0
    for i in operands:
        bits |= 1 << i
    return (classes, exception, message, form, bits)


def nary(name, forward, params, derivative, *, node, forward64=None, promotion=DEFAULT, refusals=(),
         same_kind=False, need_one=False, out=True, exact_out=False, inplace=True):
    """Declare the n-ary op `name` (clamp, masked_fill, lerp, addcmul: operands beyond two, optional or
    keyword ones) in the registry (Note [Operands of n-ary ops] in csrc/dispatch.c) and return its function
    form; Tensor.<name> and (unless inplace=False) Tensor.<name>_ come with it.

    params: (name, accepts, role[, default]) per parameter after `input`, accepts from TENSOR | NUMBER | NONE
    (| FORM: a tensor here is torch's tensor overload; | KWONLY), role one of PROMOTE, SAME, SAME_OR_0DIM,
    MASK, VALUE, SCALAR. forward(x, *params, stream=None) is the MLX call on the operands in the result dtype.
    derivative(grad, input, *params[, result]) -> one gradient (or None) per operand, written with the
    package's ops. node: torch's names for the number form and the tensor form (one name: both). refusals:
    refusal(...) tuples. same_kind: the FORM arguments are all tensors or all numbers; need_one: not all the
    optional ones may be None; out=False: no `out=`; exact_out: `out=` must have the result's dtype in the
    number form (torch's structured clamp(Tensor, Scalar) kernels)."""
    params = tuple(params)
    takes_result = "result" in derivative.__code__.co_varnames[:derivative.__code__.co_argcount]
    flags = ((_C.OPF_SAME_KIND if same_kind else 0) | (_C.OPF_NEED_ONE if need_one else 0) |
             (0 if out else _C.OPF_NO_OUT) | (_C.OPF_EXACT_OUT_NUMBERS if exact_out else 0))
    return _C.Op(name, kind=_C.OP_NARY, forward=forward, forward64=forward64, promotion=promotion, flags=flags,
                 params=params, derivative=derivative, saves=_C.SAVE_RESULT if takes_result else 0,
                 node=(node,) if isinstance(node, str) else tuple(node), refusals=tuple(refusals) or None,
                 variants=_C.VARIANT_METHOD | (_C.VARIANT_INPLACE if inplace else 0))


def _on_stream(fn):
    """fn(x), a composition of MLX calls without `stream=`, as a registry forward: run under `stream` when the
    registry passes one (a tensor on a device other than MLX's default)."""
    def forward(x, stream=None):
        if stream is None:
            return fn(x)
        with mx.stream(stream):
            return fn(x)

    forward.__name__ = fn.__name__
    return forward


_LN2, _LN10 = 0.6931471805599453, 2.302585092994046


def _exp2(x, stream=None):
    return mx.exp(mx.multiply(x, _LN2, stream=stream), stream=stream)  # exp(x ln 2): accurate in float64 below


def _no_bool(name):
    return NotImplementedError, f"\"{name}_vml_cpu\" not implemented for 'Bool'"


def _zero(grad):
    return grad.new_zeros(grad.shape)  # piecewise-constant ops: torch's zeros_like(grad), never nan from inf * 0


# The declared unary family: one line per op, forward and derivative together.
exp = unary("exp", mx.exp, INT_TO_FLOAT, lambda grad, result: grad * result,
            forward64=_on_stream(_precise.exp), forward_cpu=_cpu_math.exp_any, complex=True)
exp2 = unary("exp2", _exp2, INT_TO_FLOAT, lambda grad, result: grad * result * _LN2,
             forward64=_on_stream(lambda x: _precise.exp(x * _LN2)), complex=True)
expm1 = unary("expm1", mx.expm1, INT_TO_FLOAT, lambda grad, result: grad * (result + 1),
              forward_cpu=_cpu_math.expm1_any)
log = unary("log", mx.log, INT_TO_FLOAT, lambda grad, self: grad / self, complex=True)
log2 = unary("log2", mx.log2, INT_TO_FLOAT, lambda grad, self: grad / (self * _LN2), complex=True)
log10 = unary("log10", mx.log10, INT_TO_FLOAT, lambda grad, self: grad / (self * _LN10), complex=True)
log1p = unary("log1p", mx.log1p, INT_TO_FLOAT, lambda grad, self: grad / (self + 1), node="Log1PBackward0",
              complex=True)
sqrt = unary("sqrt", mx.sqrt, INT_TO_FLOAT, lambda grad, result: grad / (2 * result), complex=True)
rsqrt = unary("rsqrt", mx.rsqrt, INT_TO_FLOAT, lambda grad, result: -0.5 * grad * result * result * result,
              complex=True)
sin = unary("sin", mx.sin, INT_TO_FLOAT, lambda grad, self: grad * self.cos(), forward64=_on_stream(_precise.sin),
            complex=True)
cos = unary("cos", mx.cos, INT_TO_FLOAT, lambda grad, self: -grad * self.sin(), forward64=_on_stream(_precise.cos),
            complex=True)
tan = unary("tan", mx.tan, INT_TO_FLOAT, lambda grad, result: grad * (1 + result * result), complex=True)
tanh = unary("tanh", mx.tanh, INT_TO_FLOAT, lambda grad, result: grad * (1 - result * result),
             forward_cpu=_cpu_math.tanh_any, complex=True)
sigmoid = unary("sigmoid", mx.sigmoid, INT_TO_FLOAT, lambda grad, result: grad * result * (1 - result),
                forward64=_on_stream(_precise.sigmoid), forward_cpu=_cpu_math.sigmoid_any)
reciprocal = unary("reciprocal", mx.reciprocal, INT_TO_FLOAT, lambda grad, result: -grad * result * result,
                   complex=True)
floor = unary("floor", mx.floor, DEFAULT, _zero, int_identity=True, bool_error=_no_bool("floor"),
              exact_out=True)
ceil = unary("ceil", mx.ceil, DEFAULT, _zero, int_identity=True, bool_error=_no_bool("ceil"),
             exact_out=True)
trunc = unary("trunc", mx.trunc, DEFAULT, _zero, int_identity=True, bool_error=_no_bool("trunc"),
              exact_out=True)
square = unary("square", mx.square, BOOL_TO_LONG, lambda grad, self: 2 * grad * self, node="PowBackward0",
               complex=True)
sign = unary("sign", mx.sign, DEFAULT, _zero, exact_out=True)
neg = unary("neg", mx.negative, DEFAULT, lambda grad: -grad, complex=True, exact_out=True, operator="neg",
            bool_error=(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                      "trying to invert a mask, use the `~` or `logical_not()` operator instead."))
negative = neg
abs = unary("abs", mx.abs, COMPLEX_TO_FLOAT, lambda grad, self: grad * self.sgn(), complex=True, exact_out=True,  # noqa: A001
            operator="abs", bool_error=_no_bool("abs")[:1] + ("\"abs_cpu\" not implemented for 'Bool'",))
absolute = abs
def _relu_backward(grad, result):
    """torch's threshold_backward(grad, result, 0): grad where the result is positive (or NaN), 0 elsewhere, even
    where grad is inf or NaN, which a product with a 0/1 mask would turn into NaN (relu'(0) = 0). With create_graph
    it is masked_fill, differentiable again; otherwise one MLX select, in N...C space when both operands carry the
    channels-last hint (Note [Channels-last gradients] in nn/_layout.py: MLX reads two permuted operands of a
    select out of order)."""
    if _C.is_grad_enabled():
        return grad.masked_fill(result <= 0, 0)
    g, r = grad._mx, result._mx
    nd = g.ndim
    last = nd >= 3 and r.shape == g.shape and _C._is_channels_last(grad) and _C._is_channels_last(result)
    out = _C._scoped(grad._device_code, _relu_backward_mx, g, r, nd if last else 0)
    t = _new(out, grad._device_code, grad.dtype)
    return _C._set_channels_last(t, True, None) if last else t


def _relu_backward_mx(g, r, nd):
    """The select of _relu_backward; nd > 0: g and r are NC... views of N...C memory, selected in N...C order."""
    # a large float32 select on the CPU by its bits (Note [Selects in CPU kernels]: MLX's branches per element)
    if not nd:
        return _cpu_math.where(r <= 0, 0.0, g)
    to_last = (0,) + tuple(builtins.range(2, nd)) + (1,)
    from_last = (0, nd - 1) + tuple(builtins.range(1, nd - 1))
    return mx.transpose(_cpu_math.where(mx.transpose(r, to_last) <= 0, 0.0, mx.transpose(g, to_last)), from_last)


relu = unary("relu", mx.maximum, DEFAULT, _relu_backward,
             scalar=0,  # mx.maximum(x, 0): a Python 0 takes x's dtype, NaN propagates
             bool_error=(RuntimeError, "Boolean inputs not supported for relu"), out=False)


class _DefaultDecimals(int):
    """round's `decimals` default: 0, yet told apart from an explicit `decimals=0`, since torch's two overloads
    name their nodes apart (RoundBackward0 without decimals, RoundBackward1 with any)."""

    def __repr__(self):
        return "0"


_NO_DECIMALS = _DefaultDecimals(0)


def _round_decimals(x, decimals, d):
    """torch's kernel: nearbyint(x * 10^k) / 10^k (k = decimals > 0) or nearbyint(x / 10^k) * 10^k (k = -decimals),
    in the op math type (float32 for the half types), 10^k rounded to it; MLX's round multiplies back by 10^-k,
    which differs in the last bit (2.675 to 2 decimals gave 2.6799998, torch 2.68)."""
    if decimals == 0:
        return mx.round(x)
    work = mx.float64 if d is _dtype.float64 else mx.float32
    p = mx.array(10.0 ** builtins.abs(decimals), work)
    w = x.astype(work)
    r = mx.round(w * p) / p if decimals > 0 else mx.round(w / p) * p
    return r.astype(x.dtype)


def round(input, *, decimals=_NO_DECIMALS, out=None):  # noqa: A001 - torch's name
    if input.dtype.is_complex:
        raise NotImplementedError("\"round_cpu\" not implemented for 'ComplexFloat'")
    d = input.dtype
    if not d.is_floating_point and (d is _dtype.bool or decimals is not _NO_DECIMALS):
        # torch: integers round to themselves only without `decimals`; bool never (an explicit 0 is the vml kernel)
        from .operators import _SCALAR_NAMES

        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR_NAMES[d.name]}'")
    r = input._mx if not d.is_floating_point else _round_decimals(input._mx, int(decimals), d)
    res = _new(r.astype(d._mx), input._device_code, d)
    if input.requires_grad:
        from ..autograd._derivatives import record

        record("RoundBackward0" if decimals is _NO_DECIMALS else "RoundBackward1", lambda ctx, grads: (grads[0] * 0,), [input],
               [res])
    if out is not None:
        from .creation import _out

        return _out(out, res)
    return res


def fix(input, *, out=None):
    return trunc(input, out=out)  # noqa: F821 - defined from _UNARY


def _lerp_mx(a, b, w, stream=None):
    # torch's two-sided formula: exact at both ends
    diff = mx.subtract(b, a, stream=stream)
    if not isinstance(w, mx.array):  # a Python weight (weak: keeps a's dtype) picks its side once
        if builtins.abs(w) < 0.5:
            return mx.add(a, mx.multiply(w, diff, stream=stream), stream=stream)
        return mx.subtract(b, mx.multiply(diff, 1 - w, stream=stream), stream=stream)
    small = mx.less(mx.abs(w, stream=stream), 0.5, stream=stream)
    lo = mx.add(a, mx.multiply(w, diff, stream=stream), stream=stream)
    hi = mx.subtract(b, mx.multiply(diff, mx.subtract(1, w, stream=stream), stream=stream), stream=stream)
    return mx.where(small, lo, hi, stream=stream)


def _addcmul_mx(x, t1, t2, value, stream=None):
    """x + value * t1 * t2 in torch's order of rounding."""
    p = t1 if type(value) is builtins.int and value == 1 else mx.multiply(value, t1, stream=stream)
    return mx.add(x, mx.multiply(p, t2, stream=stream), stream=stream)


def _addcdiv_mx(x, t1, t2, value, stream=None):
    """x + value * t1 / t2 in torch's order of rounding."""
    p = t1 if type(value) is builtins.int and value == 1 else mx.multiply(value, t1, stream=stream)
    return mx.add(x, mx.divide(p, t2, stream=stream), stream=stream)


def _conj(x):
    if isinstance(x, builtins.complex):
        return x.conjugate()
    return x.conj() if isinstance(x, Tensor) and x.dtype.is_complex else x


def _grads(operands, grads):
    """Each gradient as its operand's (unbroadcast, cast; None where the operand needs none)."""
    from ..autograd._derivatives import grad_for

    return tuple(grad_for(x, g) if isinstance(x, Tensor) and g is not None else None
                 for x, g in zip(operands, grads))


def _lerp_derivative(grad, self, end, weight):
    needs = isinstance(weight, Tensor) and weight.requires_grad
    return _grads((self, end, weight), (grad * _conj(1 - weight), grad * _conj(weight),
                                        grad * _conj(end - self) if needs else None))


def _addcmul_derivative(grad, self, tensor1, tensor2, value):
    return _grads((self, tensor1, tensor2, None),
                  (grad, grad * _conj(tensor2 * value) if tensor1.requires_grad else None,
                   grad * _conj(tensor1 * value) if tensor2.requires_grad else None, None))


def _addcdiv_derivative(grad, self, tensor1, tensor2, value):
    return _grads((self, tensor1, tensor2, None),
                  (grad, grad * _conj(value / tensor2) if tensor1.requires_grad else None,
                   -grad * _conj(value * tensor1 / (tensor2 * tensor2)) if tensor2.requires_grad else None, None))


_ADDCDIV_INT = ("Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a "
                "true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + "
                "value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * "
                "tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: "
                "(input + value * tensor1 / tensor2), for all dtypes.")
# The declared n-ary family: the operands' kinds and roles, the refusals, forward and derivative together.
lerp = nary("lerp", _lerp_mx,
            (("end", TENSOR, SAME), ("weight", TENSOR | NUMBER | FORM, SAME_OR_0DIM)), _lerp_derivative,
            node=("LerpBackward0", "LerpBackward1"),
            refusals=(refusal(BOOL | INTEGRAL, NotImplementedError,
                              "\"lerp_kernel_scalar\" not implemented for '{dtype}'", form=0),
                      refusal(BOOL | INTEGRAL, NotImplementedError,
                              "\"lerp_kernel_tensor\" not implemented for '{dtype}'", form=1)))
addcmul = nary("addcmul", _addcmul_mx,
               (("tensor1", TENSOR, PROMOTE), ("tensor2", TENSOR, PROMOTE), ("value", NUMBER | KWONLY, SCALAR, 1)),
               _addcmul_derivative, node="AddcmulBackward0",
               refusals=(refusal(BOOL, NotImplementedError, "\"addcmul_cpu_out\" not implemented for '{dtype}'"),))
addcdiv = nary("addcdiv", _addcdiv_mx,
               (("tensor1", TENSOR, PROMOTE), ("tensor2", TENSOR, PROMOTE), ("value", NUMBER | KWONLY, SCALAR, 1)),
               _addcdiv_derivative, node="AddcdivBackward0",
               refusals=(refusal(BOOL | INTEGRAL, RuntimeError, _ADDCDIV_INT, operands=(1, 2)),))


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

_ns = globals()
_FUNCS = ["round", "fix", "any", "all"]
for _name in _FUNCS:
    declare(_name, _ns[_name])


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


for _name in ["round", "fix"]:
    declare(_name + "_", _inplace(_ns[_name]))


def _sgn_derivative(grad, self, result):
    if not self.dtype.is_complex:
        return _zero(grad)
    # torch's sgn_backward: the part of grad orthogonal to sgn, over |self|; 0 where self is 0
    a = self.abs()
    return ((grad - result * (grad * result.conj()).real) / a).masked_fill(a == 0, 0)


sgn = unary("sgn", mx.sign, DEFAULT, _sgn_derivative, complex=True, exact_out=True)  # MLX's sign is z/|z| for complex

