"""Type promotion against PyTorch's table.

Pins: result dtype and values of every binary operator for every pair of
{bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
complex64} across operand kinds (dimensioned tensor, 0-d tensor, Python
bool/int/float/complex scalar, both operand orders i.e. reflected ops), and
that where torch raises, we raise the same exception type; result_type /
promote_types / can_cast for all pairs; set_default_dtype(float64) effects;
integer data -> int64; in-place ops that would need a downcast raise.
Each test loops over the ops and reports all mismatches at once.
"""
import operator

import numpy as np
import pytest

from helpers import DTYPE_NAMES, assert_same, mc, run_both, same_exc_type, to_mc, torch

OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
# which value set the right operand uses
RHS_KIND = {"/": "div", "//": "div", "%": "div", "**": "small", "<<": "small", ">>": "small"}

LHS_INT = [-3, 5, 0, 7, -1, 2]
LHS_FLOAT = [-3.5, 5.25, 0.0, 7.0, -1.5, 2.0]
LHS_BOOL = [True, False, False, True, True, False]
RHS = {
    "any": ([2, -3, 1, 4, -1, 3], [2.5, -3.0, 1.0, 4.5, -1.0, 3.0], [True, False, True, True, False, True]),
    "div": ([2, -3, 1, 4, -1, 3], [2.5, -3.0, 1.0, 4.5, -1.0, 3.0], [True] * 6),
    "small": ([2, 0, 1, 3, 1, 2], [2.0, 0.5, 1.0, 3.0, 1.5, 2.0], [True, False, True, True, False, True]),
}


def make(dtype_name, side, rkind, zero_dim):
    dt = getattr(torch, dtype_name)
    if side == "lhs":
        ints, floats, bools = LHS_INT, LHS_FLOAT, LHS_BOOL
    else:
        ints, floats, bools = RHS[rkind]
    if dtype_name == "bool":
        t = torch.tensor(bools)
    elif dtype_name.startswith(("int", "uint")):
        t = torch.tensor(ints).to(dt)  # uint8 wraps negatives deterministically
    elif dtype_name.startswith("complex"):
        f = torch.tensor(floats, dtype=torch.float64)
        t = torch.complex(f, f.flip(0) * 0.5).to(dt)
    else:
        t = torch.tensor(floats).to(dt)
    if zero_dim:
        t = t[1].clone()
    return t, to_mc(t)


SCALARS = {"bool": True, "int": 3, "negint": -2, "float": 2.5, "complex": (1 - 2j)}
SCALARS_SMALL = {"bool": True, "int": 2, "negint": 2, "float": 0.5, "complex": (1 - 2j)}


def _check(results, fn_t, fn_m, label, tol):
    (rt, et), (rm, em) = run_both(fn_t, fn_m)
    if et is not None and "ComplexHalf" in str(et):
        # torch computes float16 (+) complex in its experimental complex32 and
        # has no kernel for it; mlx has no complex32: accept torch's
        # exception type or a complex result
        if em is None and str(rm.dtype) not in ("torch.complex32", "torch.complex64"):
            results.append(f"{label}: torch raised {type(et).__name__} (ComplexHalf), ours returned {rm.dtype}")
        elif em is not None and not same_exc_type(em, et):
            results.append(f"{label}: torch raised {type(et).__name__}, ours raised {type(em).__name__}: {em}")
        return
    if et is not None:
        if em is None:
            results.append(f"{label}: torch raised {type(et).__name__}, ours returned {getattr(rm, 'dtype', rm)}")
        elif not same_exc_type(em, et):
            results.append(f"{label}: torch raised {type(et).__name__}, ours raised {type(em).__name__}: {em}")
        return
    if rt.dtype == torch.complex128:
        # MLX has no complex128: ours must refuse with TypeError (README, known differences)
        if not isinstance(em, TypeError):
            results.append(f"{label}: torch -> complex128, ours should raise TypeError, got {rm if em is None else em!r}")
        return
    if em is not None:
        results.append(f"{label}: torch -> {rt.dtype}, ours raised {type(em).__name__}: {em}")
        return
    try:
        if rt.dtype == torch.complex32:
            # torch's experimental ComplexHalf (float16 with a complex operand)
            # has no numpy/mlx counterpart: accept complex32 or complex64 with
            # the same values
            assert str(rm.dtype) in ("torch.complex32", "torch.complex64"), f"dtype {rm.dtype} != {rt.dtype}"
            assert_same(rm.to(mc.complex64), rt.to(torch.complex64), rtol=2e-3, atol=2e-3)
        else:
            assert_same(rm, rt, **tol)
    except AssertionError as e:
        msg = " | ".join(ln.strip() for ln in str(e).splitlines() if ln.strip())[:300]
        results.append(f"{label}: {msg}")
    except Exception as e:  # noqa: BLE001
        results.append(f"{label}: comparing raised {type(e).__name__}: {e}")


def _tol(a, b):
    names = {a, b}
    if "bfloat16" in names:
        return dict(rtol=2e-2, atol=2e-2)
    if "float16" in names:
        return dict(rtol=2e-3, atol=2e-3)
    return {}


@pytest.mark.parametrize("rhs", DTYPE_NAMES)
@pytest.mark.parametrize("lhs", DTYPE_NAMES)
def test_binary_tensor_tensor(lhs, rhs):
    failures = []
    for opname, op in OPS.items():
        rk = RHS_KIND.get(opname, "any")
        for lz, rz in ((False, False), (False, True), (True, False), (True, True)):
            at, am = make(lhs, "lhs", rk, lz)
            bt, bm = make(rhs, "rhs", rk, rz)
            label = f"{lhs}{'(0d)' if lz else ''} {opname} {rhs}{'(0d)' if rz else ''}"
            _check(failures, lambda: op(at, bt), lambda: op(am, bm), label, _tol(lhs, rhs))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("scalar", list(SCALARS))
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_binary_tensor_scalar(dtype, scalar):
    failures = []
    for opname, op in OPS.items():
        rk = RHS_KIND.get(opname, "any")
        s = (SCALARS_SMALL if rk == "small" else SCALARS)[scalar]
        for z in (False, True):
            at, am = make(dtype, "lhs", rk, z)
            _check(failures, lambda: op(at, s), lambda: op(am, s),
                   f"{dtype}{'(0d)' if z else ''} {opname} {s!r}", _tol(dtype, dtype))
            # reflected: scalar on the left, tensor uses the right-hand value set
            bt, bm = make(dtype, "rhs", rk, z)
            sl = SCALARS[scalar]
            _check(failures, lambda: op(sl, bt), lambda: op(sl, bm),
                   f"{sl!r} {opname} {dtype}{'(0d)' if z else ''}", _tol(dtype, dtype))
    assert not failures, "\n".join(failures)


FUNCS = {
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=2),
    "sub_alpha": lambda L, a, b: L.sub(a, b, alpha=2),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "true_divide": lambda L, a, b: L.true_divide(a, b),
    "div_floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "remainder": lambda L, a, b: L.remainder(a, b),
    "fmod": lambda L, a, b: L.fmod(a, b),
    "atan2": lambda L, a, b: L.atan2(a, b),
    "where": lambda L, a, b: L.where(L.tensor([True, False, True, False, True, False]), a, b),
}


@pytest.mark.parametrize("rhs", DTYPE_NAMES)
@pytest.mark.parametrize("lhs", DTYPE_NAMES)
def test_binary_functions(lhs, rhs):
    failures = []
    for fname, f in FUNCS.items():
        at, am = make(lhs, "lhs", "div", False)
        bt, bm = make(rhs, "rhs", "div", fname == "where")
        _check(failures, lambda: f(torch, at, bt), lambda: f(mc, am, bm), f"{fname}({lhs}, {rhs})", _tol(lhs, rhs))
    assert not failures, "\n".join(failures)


def test_promote_types_all_pairs():
    failures = []
    for a in DTYPE_NAMES:
        for b in DTYPE_NAMES:
            (rt, et), (rm, em) = run_both(lambda: torch.promote_types(getattr(torch, a), getattr(torch, b)),
                                          lambda: mc.promote_types(getattr(mc, a), getattr(mc, b)))
            if et is None and rt == torch.complex128:
                # MLX has no complex128: ours must refuse with TypeError (README, known differences)
                if not isinstance(em, TypeError):
                    failures.append(f"promote_types({a},{b}): torch complex128, ours should raise TypeError")
            elif et is None and (em is not None or str(rm) != str(rt)):
                failures.append(f"promote_types({a},{b}): torch {rt}, ours {rm if em is None else em!r}")
    assert not failures, "\n".join(failures)


def test_can_cast_all_pairs():
    failures = []
    for a in DTYPE_NAMES:
        for b in DTYPE_NAMES:
            rt = torch.can_cast(getattr(torch, a), getattr(torch, b))
            try:
                rm = mc.can_cast(getattr(mc, a), getattr(mc, b))
            except Exception as e:  # noqa: BLE001
                rm = e
            if rm is not rt and rm != rt:
                failures.append(f"can_cast({a},{b}): torch {rt}, ours {rm!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["dim_dim", "dim_0d", "0d_dim", "dim_scalar", "0d_scalar", "scalar_0d"])
def test_result_type_all_pairs(kind):
    failures = []
    for a in DTYPE_NAMES:
        for b in (DTYPE_NAMES if "scalar" not in kind else list(SCALARS)):
            at, am = make(a, "lhs", "any", kind.startswith("0d"))
            if "scalar" in kind:
                bt = bm = SCALARS[b]
            else:
                bt, bm = make(b, "rhs", "any", kind.endswith("0d"))
            if kind == "scalar_0d":
                args_t, args_m = (bt, at), (bm, am)
            else:
                args_t, args_m = (at, bt), (am, bm)
            (rt, et), (rm, em) = run_both(lambda: torch.result_type(*args_t), lambda: mc.result_type(*args_m))
            if et is not None:
                if em is None or not same_exc_type(em, et):
                    failures.append(f"result_type({a},{b}) [{kind}]: torch raised {type(et).__name__}, ours {rm if em is None else em!r}")
            elif rt == torch.complex128:
                # MLX has no complex128: ours must refuse with TypeError (README, known differences)
                if not isinstance(em, TypeError):
                    failures.append(f"result_type({a},{b}) [{kind}]: torch complex128, ours should raise TypeError")
            elif em is not None or (str(rm) != str(rt) and not (rt == torch.complex32 and str(rm) == "torch.complex64")):
                # (torch's experimental complex32 has no mlx counterpart: complex64 accepted)
                failures.append(f"result_type({a},{b}) [{kind}]: torch {rt}, ours {rm if em is None else em!r}")
    assert not failures, "\n".join(failures)


def test_integer_data_is_int64():
    assert str(mc.tensor([1, 2]).dtype) == str(torch.tensor([1, 2]).dtype)
    assert str(mc.tensor(3).dtype) == str(torch.tensor(3).dtype)
    assert str(mc.tensor([True, False]).dtype) == str(torch.tensor([True, False]).dtype)
    assert str(mc.tensor([1, 2.0]).dtype) == str(torch.tensor([1, 2.0]).dtype)
    assert str(mc.tensor([1, 2j]).dtype) == str(torch.tensor([1, 2j]).dtype)
    assert str(mc.tensor([True, 2]).dtype) == str(torch.tensor([True, 2]).dtype)


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_default_dtype_affects_promotion(default):
    torch.set_default_dtype(getattr(torch, default))
    mc.set_default_dtype(getattr(mc, default))
    assert str(mc.get_default_dtype()) == str(torch.get_default_dtype())
    cases = [
        lambda L: L.tensor([1, 2]) + 2.5,
        lambda L: 2.5 * L.tensor([1, 2]),
        lambda L: L.tensor([1, 2]) / L.tensor([2, 4]),
        lambda L: L.tensor([True, False]) + 0.5,
        lambda L: L.tensor([1.5, 2.0]),
        lambda L: L.tensor(1.5),
        lambda L: L.tensor([1, 2]) + (1 + 1j),
        lambda L: L.tensor([1.0], dtype=L.float32) + 2.5,
        lambda L: L.tensor([1.0], dtype=L.float16) + L.tensor(2.5),
        lambda L: L.tensor([1, 2]) * L.tensor(2.5),
        lambda L: L.arange(3.0),
        lambda L: L.zeros(2),
        lambda L: L.ones(2) + L.tensor([1, 2]),
        lambda L: L.full((2,), 1.5),
        lambda L: L.linspace(0, 1, 3),
        lambda L: L.tensor([1, 2]).float() + L.tensor(1, dtype=L.float64),
    ]
    for i, f in enumerate(cases):
        rt = f(torch)
        if rt.dtype == torch.complex128:
            # MLX has no complex128: ours must refuse with TypeError (README, known differences)
            with pytest.raises(TypeError):
                f(mc)
            continue
        assert_same(f(mc), rt), i


def test_set_default_dtype_rejects_non_float():
    from helpers import assert_raises_same
    assert_raises_same(lambda: torch.set_default_dtype(torch.int64), lambda: mc.set_default_dtype(mc.int64))
    assert str(mc.get_default_dtype()) == "torch.float32"


INPLACE = {
    "add_": lambda a, b: a.add_(b), "sub_": lambda a, b: a.sub_(b), "mul_": lambda a, b: a.mul_(b),
    "div_": lambda a, b: a.div_(b), "+=": lambda a, b: operator.iadd(a, b), "*=": lambda a, b: operator.imul(a, b),
    "/=": lambda a, b: operator.itruediv(a, b), "//=": lambda a, b: operator.ifloordiv(a, b),
    "pow_": lambda a, b: a.pow_(b), "&=": lambda a, b: operator.iand(a, b),
}


@pytest.mark.parametrize("self_dtype", DTYPE_NAMES)
def test_inplace_promotion_and_downcast(self_dtype):
    """x.op_(other): result dtype stays x's; raises RuntimeError where torch says
    "result type X can't be cast to the desired output type Y"."""
    failures = []
    others = [(n, False) for n in DTYPE_NAMES] + [(n, True) for n in DTYPE_NAMES] + [(s, None) for s in SCALARS]
    for opname, op in INPLACE.items():
        rk = "small" if opname == "pow_" else "div"
        for other, zero_dim in others:
            at, am = make(self_dtype, "lhs", rk, False)
            if zero_dim is None:
                bt = bm = (SCALARS_SMALL if rk == "small" else SCALARS)[other]
            else:
                bt, bm = make(other, "rhs", rk, zero_dim)
            (rt, et), (rm, em) = run_both(lambda: op(at, bt), lambda: op(am, bm))
            label = f"{self_dtype} {opname} {other}{'(0d)' if zero_dim else ''}"
            if et is not None:
                if em is None:
                    failures.append(f"{label}: torch raised {type(et).__name__}, ours did not (-> {am.dtype})")
                elif not same_exc_type(em, et):
                    failures.append(f"{label}: torch raised {type(et).__name__}, ours {type(em).__name__}: {em}")
                continue
            if em is not None:
                failures.append(f"{label}: ours raised {type(em).__name__}: {em}")
                continue
            if rm is not am:
                failures.append(f"{label}: in-place op did not return self")
            try:
                assert_same(am, at, **_tol(self_dtype, self_dtype))
            except AssertionError as e:
                failures.append(f"{label}: {str(e).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def test_int_tensor_iadd_float_raises():
    from helpers import assert_raises_same
    xt, xm = torch.tensor([1, 2]), mc.tensor([1, 2])

    def f(x):
        x += 1.5
    assert_raises_same(lambda: f(xt), lambda: f(xm))
    (_, et), (_, em) = run_both(lambda: f(xt), lambda: f(xm))
    assert isinstance(et, RuntimeError) and isinstance(em, RuntimeError)
    # unchanged after the failed op
    np.testing.assert_array_equal(xm.numpy(), xt.numpy())


def test_integer_division_by_zero():
    # torch raises RuntimeError("ZeroDivisionError") for integer // and %
    from helpers import assert_raises_same
    for op in (operator.floordiv, operator.mod):
        assert_raises_same(lambda: op(torch.tensor([5, 3]), torch.tensor([0, 1])),
                           lambda: op(mc.tensor([5, 3]), mc.tensor([0, 1])))
    # true division of ints by zero is float inf/nan
    assert_same(mc.tensor([5, 0]) / mc.tensor([0, 0]), torch.tensor([5, 0]) / torch.tensor([0, 0]))
