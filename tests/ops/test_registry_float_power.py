"""float_power in the operator registry (csrc/dispatch.c, Note [Operator registry]) with its declared dtype rule
PROMOTE_DOUBLE (Note [Always-double results]): computed and returned in float64 whatever the operands, torch's
(Tensor, Tensor), (Tensor, Scalar) and (Scalar, Tensor) overloads, the in-place form and out= that must already
be float64 (torch's RuntimeErrors, checked before computing), pow's node names and derivative evaluated in
float64, and the refusals where MLX cannot hold the result (complex128; float64 on a GPU device). Against torch
2.13: values, dtypes, errors and their messages, first and second derivatives, reference counts."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from helpers import assert_same, assert_same_grads, mc, raised, refs_stable, same_outcome, torch

A = np.array([[0.3, 1.7, 2.2], [0.05, 1.0, 3.9]], dtype=np.float64)
B = np.array([[0.7, -1.5, 2.0], [-1.1, 0.0, 0.1]], dtype=np.float64)
DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "uint8", "int8", "bool", "uint64"]
TIGHT = dict(rtol=1e-12, atol=1e-300)  # float64 results: a float32 input's value is exact in float64


def both(a, dtype):
    t, m = torch.from_numpy(np.array(a)), mc.from_numpy(np.array(a))
    return t.to(getattr(torch, dtype)), m.to(getattr(mc, dtype))


def operands(dtype):
    if dtype in ("uint8", "bool", "uint64"):
        return np.abs(A) * 3, np.abs(B) * 2
    if dtype in ("int64", "int32", "int8"):
        return A * 3 - 4, B * 2  # negative bases with integral exponents: exact in float64
    return A, B



def same_error(f_torch, f_mc):
    """Both raise the same exception type with the same message."""
    et, em = raised(f_torch), raised(f_mc)
    assert type(em) is type(et) and str(em) == str(et), f"ours {type(em).__name__}: {em}; torch {type(et).__name__}: {et}"


def test_declared_in_the_registry():
    op = mc._C._op_registry()["float_power"]
    assert mc.float_power is op and op.kind == mc._C.OP_BINARY
    assert op.promotion == mc._C.PROMOTE_DOUBLE
    assert mc.Tensor.float_power is op.method and mc.Tensor.float_power_ is op.inplace
    import inspect

    assert str(inspect.signature(mc.float_power)) == "(input, exponent, *, out=None)"
    assert str(inspect.signature(mc.Tensor.float_power_)) == "(self, exponent, /)"


def test_the_double_rule_is_refused_where_it_cannot_hold():
    # PROMOTE_DOUBLE belongs to binary ops with a forward of their own: not unary ops, not ops.c's operators
    with pytest.raises(ValueError, match="promotion"):
        mc._C.Op("fp_unary_test", forward=lambda x: x, promotion=mc._C.PROMOTE_DOUBLE)
    with pytest.raises(ValueError, match="promotion"):
        mc._C.Op("fp_table_test", kind=mc._C.OP_BINARY, binary="add", promotion=mc._C.PROMOTE_DOUBLE)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("other_dtype", ["same", "float32", "int64", "float64"])
def test_tensor_tensor(dtype, other_dtype):
    a, b = operands(dtype)
    ta, ma = both(a, dtype)
    tb, mb = both(b, dtype if other_dtype == "same" else other_dtype)
    tol = TIGHT
    r = same_outcome(lambda: torch.float_power(ta, tb), lambda: mc.float_power(ma, mb), **tol)
    assert r.dtype is mc.float64
    same_outcome(lambda: ta.float_power(tb), lambda: ma.float_power(mb), **tol)
    same_outcome(lambda: torch.Tensor.float_power(ta, tb), lambda: mc.Tensor.float_power(ma, mb), **tol)
    same_outcome(lambda: torch.float_power(input=ta, exponent=tb), lambda: mc.float_power(input=ma, exponent=mb),
                 **tol)
    # broadcasting, and torch's error where shapes do not broadcast
    same_outcome(lambda: torch.float_power(ta[:, :1], tb[0]), lambda: mc.float_power(ma[:, :1], mb[0]), **tol)
    same_outcome(lambda: torch.float_power(ta, tb[:, :2]), lambda: mc.float_power(ma, mb[:, :2]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_python_scalars(dtype):
    a, _ = operands(dtype)
    ta, ma = both(a, dtype)
    # no weak-scalar promotion: every form is float64, the scalar taken at double precision (0.1 is not
    # float32's 0.1), True as 1.0
    for s in (2, -1, 0, 0.1, 2.5, -0.5, True, False, 2 ** 63, 2 ** 64 - 1):
        r = same_outcome(lambda: torch.float_power(ta, s), lambda: mc.float_power(ma, s), **TIGHT)
        assert r.dtype is mc.float64
        same_outcome(lambda: ta.float_power(s), lambda: ma.float_power(s), **TIGHT)
        same_outcome(lambda: torch.float_power(s, ta), lambda: mc.float_power(s, ma), **TIGHT)
    # Python ints past uint64 (or below int64): torch's OverflowError
    for s in (10 ** 20, -2 ** 63 - 1):
        same_error(lambda: torch.float_power(ta, s), lambda: mc.float_power(ma, s))
        same_error(lambda: torch.float_power(s, ta), lambda: mc.float_power(s, ma))
    # 0-dim tensors are tensors here (no promotion either way)
    same_outcome(lambda: torch.float_power(ta, torch.tensor(0.1)), lambda: mc.float_power(ma, mc.tensor(0.1)),
                 **TIGHT)


def test_argument_errors():
    ta, ma = both(A, "float32")
    for args in ((2, 3), (2.0, 0.5), (ta, "x"), ("x", ta), (ta, None)):
        targs = tuple(ta if a is ta else a for a in args)
        margs = tuple(ma if a is ta else a for a in args)
        same_outcome(lambda: torch.float_power(*targs), lambda: mc.float_power(*margs))
    same_outcome(lambda: torch.float_power(ta, other=2), lambda: mc.float_power(ma, other=2))
    same_outcome(lambda: torch.float_power(ta), lambda: mc.float_power(ma))
    same_outcome(lambda: ta.float_power(2, 3), lambda: ma.float_power(2, 3))


def test_out():
    ta, ma = both(A, "float32")
    tb, mb = both(B, "float32")
    ot, om = torch.zeros(2, 3, dtype=torch.float64), mc.zeros(2, 3, dtype=mc.float64)
    assert mc.float_power(ma, mb, out=om) is om
    torch.float_power(ta, tb, out=ot)
    assert_same(om, ot, **TIGHT)
    # out= must be float64 already: torch's message, whatever the operands' dtypes
    for out_dtype in ("float32", "float16", "int64", "complex64", "bool"):
        for x, y in ((0, 1), (0, 2.5), (2, 1)):
            targs = [(ta, tb, 3)[i] for i in (x, y)] if y != 2.5 else [ta, 2.5]
            margs = [(ma, mb, 3)[i] for i in (x, y)] if y != 2.5 else [ma, 2.5]
            same_error(lambda: torch.float_power(*targs, out=torch.zeros(2, 3, dtype=getattr(torch, out_dtype))),
                       lambda: mc.float_power(*margs, out=mc.zeros(2, 3, dtype=getattr(mc, out_dtype))))
    # the dtype check comes before the autograd one, as torch's composite does
    tg, mg = ta.clone().requires_grad_(), ma.clone().requires_grad_()
    same_error(lambda: torch.float_power(tg, 2, out=torch.zeros(2, 3)),
               lambda: mc.float_power(mg, 2, out=mc.zeros(2, 3)))
    # a wrong-shaped out is resized, with torch's warning
    ot, om = torch.zeros(2, dtype=torch.float64), mc.zeros(2, dtype=mc.float64)
    with pytest.warns(UserWarning, match="resized"):
        mc.float_power(ma, mb, out=om)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.float_power(ta, tb, out=ot)
    assert_same(om, ot, **TIGHT)
    # a view as out: the base sees the write
    bt, bm = torch.zeros(3, 3, dtype=torch.float64), mc.zeros(3, 3, dtype=mc.float64)
    torch.float_power(ta[0], 2, out=bt[1])
    mc.float_power(ma[0], 2, out=bm[1])
    assert_same(bm, bt, **TIGHT)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_inplace_needs_a_double_base(dtype):
    a, b = operands(dtype)
    ta, ma = both(a, dtype)
    for other in (2, 0.5, "tensor"):
        to, mo = both(b, "float64") if other == "tensor" else (other, other)
        same_error(lambda: ta.clone().float_power_(to), lambda: ma.clone().float_power_(mo))
    # before the leaf check, as torch's composite checks
    leaf_t, leaf_m = torch.ones(3, requires_grad=True), mc.ones(3, requires_grad=True)
    same_error(lambda: leaf_t.float_power_(2), lambda: leaf_m.float_power_(2))


def test_inplace_on_doubles_and_views():
    for other in ("float32", "int64", "float64", 2, 0.1, True):
        ta, ma = both(A, "float64")
        to, mo = both(B, other) if isinstance(other, str) else (other, other)
        r = ma.float_power_(mo)
        ta.float_power_(to)
        assert r is ma and ma._version == ta._version
        assert_same(ma, ta, **TIGHT)
        # through a view: the base sees the write
        ta, ma = both(A, "float64")
        tv, mv = ta[1], ma[1]
        tv.float_power_(to[1] if isinstance(other, str) else to)
        mv.float_power_(mo[1] if isinstance(other, str) else mo)
        assert_same(ma, ta, **TIGHT)
        assert_same(mv, tv, **TIGHT)
    # a result that does not broadcast to self's shape
    ta, ma = both(A[:1], "float64")
    tb, mb = both(B, "float64")
    same_outcome(lambda: ta.float_power_(tb), lambda: ma.float_power_(mb))  # the message's shapes: tuples here
    leaf_t, leaf_m = torch.ones(3, dtype=torch.float64, requires_grad=True), mc.ones(3, dtype=mc.float64,
                                                                                   requires_grad=True)
    same_error(lambda: leaf_t.float_power_(2), lambda: leaf_m.float_power_(2))


def test_complex_operands():
    """torch computes complex operands in complex128, which MLX lacks: ours refuses with a TypeError (the README's
    complex128 rule); where torch refuses first (out=, the in-place base) the errors are torch's."""
    tz, mz = torch.tensor([1 + 1j, 2 - 1j]), mc.tensor([1 + 1j, 2 - 1j])
    tx, mx_ = both(A[0, :2], "float32")
    assert torch.float_power(tz, 2).dtype is torch.complex128
    for f in (lambda lib, z, x: lib.float_power(z, 2), lambda lib, z, x: lib.float_power(x, 1j),
              lambda lib, z, x: lib.float_power(x, z), lambda lib, z, x: lib.float_power(2, z),
              lambda lib, z, x: z.float_power(x)):
        f(torch, tz, tx)
        with pytest.raises(TypeError, match="complex128 is not supported by MLX"):
            f(mc, mz, mx_)
    same_error(lambda: torch.float_power(tx, tz, out=torch.zeros(2, dtype=torch.complex64)),
               lambda: mc.float_power(mx_, mz, out=mc.zeros(2, dtype=mc.complex64)))
    same_error(lambda: torch.float_power(tx, 1j, out=torch.zeros(2, dtype=torch.float64)),
               lambda: mc.float_power(mx_, 1j, out=mc.zeros(2, dtype=mc.float64)))
    td, md = both(A[0, :2], "float64")
    same_error(lambda: td.float_power_(tz), lambda: md.float_power_(mz))
    same_error(lambda: td.float_power_(1j), lambda: md.float_power_(1j))


def _grad_operands(lib, kind, dtype):
    """(x, y, inputs requiring grad) for the operand kind "tt", "ts", "st", "ti" (an int64 exponent tensor)."""
    npd = np.float64 if dtype == "float64" else np.float32
    a = lib.from_numpy((A + 0.3).astype(npd)).requires_grad_()  # positive bases: log in range
    b = lib.from_numpy(B.astype(npd)).requires_grad_()
    if kind == "tt":
        return a, b, (a, b)
    if kind == "ts":
        return a, 1.7, (a,)
    if kind == "ti":
        return a, lib.tensor([[2, -1, 0], [3, 1, 2]]), (a,)
    return 1.7, b, (b,)


@pytest.mark.parametrize("kind", ["tt", "ts", "st", "ti"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_and_double_grad(kind, dtype):
    res = {}
    for lib in (torch, mc):
        x, y, ins = _grad_operands(lib, kind, dtype)
        r = lib.float_power(x, y)
        node = type(r.grad_fn).__name__
        w = lib.from_numpy(np.linspace(0.5, 1.5, 6).reshape(2, 3))
        gs = lib.autograd.grad((r * w).sum(), ins, create_graph=True)
        for g, i in zip(gs, ins):
            assert g.dtype == i.dtype  # the gradient comes back in its input's dtype (torch's ToCopyBackward0)
        live = [g for g in gs if g.requires_grad]
        ggs = lib.autograd.grad(sum((g * g).sum() for g in live), ins, allow_unused=True) if live else ()
        ggs = [None if gg is None or (lib is torch and gg._is_zerotensor()) else gg for gg in ggs]
        res[lib] = (r, gs, ggs, node)
    assert_same_grads(res[mc], res[torch])
    assert res[mc][3] == {"tt": "PowBackward1", "ts": "PowBackward0", "st": "PowBackward2", "ti": "PowBackward1"}[kind]


def test_grad_at_special_points():
    """pow's derivative at a zero base and a zero exponent (torch's masked values), in float64."""
    grads = {}
    for lib in (torch, mc):
        x = lib.tensor([0.0, 0.0, 2.0, 0.0], requires_grad=True)
        y = lib.tensor([0.0, 2.0, 0.0, -1.0], requires_grad=True)
        lib.float_power(x, y).sum().backward()
        z = lib.tensor([0.0, 1.0], requires_grad=True)
        lib.float_power(z, 0).sum().backward()
        grads[lib] = (x.grad, y.grad, z.grad)
    for ours, theirs in zip(grads[mc], grads[torch]):
        assert_same(ours, theirs, **TIGHT)


def test_inplace_grad_through_views():
    grads = {}
    for lib in (torch, mc):
        x = lib.from_numpy(A + 0.3).requires_grad_()
        o = lib.from_numpy(B).requires_grad_()
        y = x * 1.5
        y[0].float_power_(o[0])
        assert type(y.grad_fn).__name__ == "CopySlices"
        y.sum().backward()
        grads[lib] = (x.grad, o.grad)
    for ours, theirs in zip(grads[mc], grads[torch]):
        assert_same(ours, theirs, **TIGHT)


GPU = """
import mlx_compat as torch
x = torch.tensor([1.0, 2.0], device="cuda")
for f in (lambda: torch.float_power(x, 2), lambda: torch.float_power(2, x), lambda: x.float_power(x),
          lambda: torch.float_power(x, torch.tensor(2.0))):
    try:
        f()
    except TypeError as e:
        assert "float64" in str(e) and "GPU" in str(e), e
    else:
        raise AssertionError("float_power computed float64 on the GPU")
# the CPU is unaffected
assert torch.float_power(torch.tensor([1.5]), 2).dtype is torch.float64
print("ok")
"""


def test_float64_on_a_gpu_is_refused(tmp_path):
    """Design rule 4: MLX's GPU backends have no float64, so float_power on a GPU tensor is a clear TypeError
    (Note [Fake GPU]: device 'cuda' runs on MLX's CPU in this subprocess, the refusal is the device rule's)."""
    script = tmp_path / "fp_gpu.py"
    script.write_text(textwrap.dedent(GPU))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""), root] if p)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stdout[-3000:] + proc.stderr[-3000:]



def test_no_reference_leaks():
    a, b = mc.ones(3), mc.ones(3) * 2
    d, out, bad_out = mc.ones(3, dtype=mc.float64), mc.zeros(3, dtype=mc.float64), mc.zeros(3)
    w = mc.ones(3, requires_grad=True)
    fp = mc.float_power
    assert refs_stable(lambda: fp(a, b), a, b, fp)
    assert refs_stable(lambda: fp(2, b), b)
    assert refs_stable(lambda: fp(a, b, out=out), a, b, out)
    assert refs_stable(lambda: fp(w, b).sum().backward(), w, b)
    assert refs_stable(lambda: d.float_power_(b), d, b)
    assert refs_stable(lambda: pytest.raises(RuntimeError, lambda: a.float_power_(b)), a, b)
    assert refs_stable(lambda: pytest.raises(RuntimeError, lambda: fp(a, b, out=bad_out)), a, b, bad_out)
    assert refs_stable(lambda: pytest.raises(TypeError, lambda: fp(a, 1j)), a)
    assert refs_stable(lambda: pytest.raises(TypeError, lambda: fp(a, "x")), a)
