"""The elementwise primitives declared in the operator registry beside the first families (csrc/dispatch.c, Note
[Operator registry]): erf, sinc, i0 (_ops/elementwise.py), digamma, lgamma, nextafter (_ops/special.py). Their
forms, dtypes and first and second derivatives run through tests/ops/test_registry.py's generic tests over every
registered unary op; here: that they are the declarations (one object for torch.<op>, torch.special.<op> and the
Tensor methods), and against torch 2.13 what the generic tests do not reach: torch's refusal messages, complex
sinc with its derivative, nextafter's forms, dtypes and derivative at equal operands."""
import numpy as np
import pytest

from helpers import assert_same, assert_same_grads, mc, raised, same_outcome, torch

REGISTRY = mc._C._op_registry()
UNARY_MOVED = ["erf", "sinc", "i0", "digamma", "lgamma"]


@pytest.mark.parametrize("name", UNARY_MOVED + ["nextafter"])
def test_declared(name):
    op = REGISTRY[name]
    assert getattr(mc, name) is op
    assert getattr(mc.Tensor, name) is op.method and getattr(mc.Tensor, name + "_") is op.inplace
    assert op.derivative is not None
    if hasattr(mc.special, name):
        assert getattr(mc.special, name) is op
    assert mc.special.psi is mc.digamma and mc.special.gammaln is mc.lgamma



@pytest.mark.parametrize("name", ["erf", "i0", "digamma", "lgamma"])
def test_complex_refusals_are_torchs(name):
    for call in (lambda lib: getattr(lib, name)(lib.tensor([1 + 1j])), lambda lib: lib.tensor([1 + 1j]).__getattribute__(name)(),
                 lambda lib: getattr(lib.tensor([1 + 1j]), name + "_")()):
        et, em = raised(lambda: call(torch)), raised(lambda: call(mc))
        assert type(em) is type(et) and str(em) == str(et), (em, et)


def test_sinc_complex():
    a = np.array([0.5 + 0.3j, -1.3 - 0.4j, 0j, 1.2 + 0.1j], dtype=np.complex64)
    res = {}
    for lib in (torch, mc):
        x = lib.tensor(a).requires_grad_()
        r = lib.sinc(x)
        (g,) = lib.autograd.grad((r * r.conj()).real.sum(), x)
        res[lib] = (r, g)
    assert_same(res[mc][0], res[torch][0])
    assert_same(res[mc][1], res[torch][1], rtol=1e-4)
    same_outcome(lambda: torch.tensor(a).sinc_(), lambda: mc.tensor(a).sinc_())


NX_A = np.array([[0.5, -1.0, 0.0, np.nan], [1.0, 1e-45, 3.0, -0.0]], dtype=np.float32)
NX_B = np.array([[0.5, 1.0, 0.0, 1.0], [np.nan, 0.0, -np.inf, 0.0]], dtype=np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "bool", "complex64"])
def test_nextafter_forms_and_dtypes(dtype):
    def both(a):
        return torch.from_numpy(a.copy()).to(getattr(torch, dtype)), mc.from_numpy(a.copy()).to(getattr(mc, dtype))

    (ta, ma), (tb, mb) = both(NX_A), both(NX_B)
    for f in (lambda lib, a, b: lib.nextafter(a, b), lambda lib, a, b: a.nextafter(b),
              lambda lib, a, b: a.clone().nextafter_(b), lambda lib, a, b: lib.nextafter(a, b[0]),
              lambda lib, a, b: lib.nextafter(a, 2.0), lambda lib, a, b: lib.nextafter(2.0, b),
              lambda lib, a, b: lib.nextafter(a, b.double()),
              lambda lib, a, b: lib.nextafter(a, b, out=lib.zeros(2, 4, dtype=a.dtype))):
        same_outcome(lambda: f(torch, ta, tb), lambda: f(mc, ma, mb), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nextafter_grad(dtype):
    res = {}
    for lib in (torch, mc):
        a = lib.from_numpy(NX_A.astype(dtype)).requires_grad_()
        b = lib.from_numpy(NX_B.astype(dtype)).requires_grad_()
        r = lib.nextafter(a, b)
        w = lib.from_numpy(np.linspace(0.5, 1.5, 8).reshape(2, 4).astype(dtype))
        gs = lib.autograd.grad((r * w).sum(), (a, b), create_graph=True)
        res[lib] = (r, gs, (), type(r.grad_fn).__name__)
    assert_same_grads(res[mc], res[torch])
    for lib in (torch, mc):  # broadcast operands: the gradient is reduced to each operand's shape
        a = lib.from_numpy(NX_A[:1].astype(dtype)).requires_grad_()
        b = lib.from_numpy(NX_B.astype(dtype)).requires_grad_()
        lib.nextafter(a, b).sum().backward()
        res[lib] = (a.grad, b.grad)
    assert_same(res[mc][0], res[torch][0])
    assert_same(res[mc][1], res[torch][1])


LOGIT = np.array([[0.2, 0.5, 1.2], [-0.1, 0.9, np.nan]], dtype=np.float32)


def test_logit_declared():
    op = REGISTRY["logit"]
    assert op.kind == mc._C.OP_NARY and mc.logit is op and mc.special.logit is op
    assert mc.Tensor.logit is op.method and mc.Tensor.logit_ is op.inplace
    et, em = raised(lambda: torch.logit(torch.tensor([1 + 1j]))), raised(lambda: mc.logit(mc.tensor([1 + 1j])))
    assert type(em) is type(et) and str(em) == str(et)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "bool"])
def test_logit_forms_and_eps(dtype):
    a = np.abs(np.nan_to_num(LOGIT)) * 2 if dtype in ("int64", "bool") else LOGIT
    t, m = torch.from_numpy(a.copy()).to(getattr(torch, dtype)), mc.from_numpy(a.copy()).to(getattr(mc, dtype))
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == "float16" else {}
    for eps in (None, 0.25, 0.7, 1, 0):  # torch's kernel: below eps -> eps, else above 1 - eps -> 1 - eps
        same_outcome(lambda: torch.logit(t, eps), lambda: mc.logit(m, eps), **tol)
        same_outcome(lambda: t.logit(eps=eps), lambda: m.logit(eps=eps), **tol)
        same_outcome(lambda: t.clone().logit_(eps), lambda: m.clone().logit_(eps), **tol)
        for od in ("float32", "float64", "int64"):
            same_outcome(lambda: torch.logit(t, eps, out=torch.zeros(2, 3, dtype=getattr(torch, od))),
                         lambda: mc.logit(m, eps, out=mc.zeros(2, 3, dtype=getattr(mc, od))), **tol)
    same_outcome(lambda: torch.logit(t, "a"), lambda: mc.logit(m, "a"))


@pytest.mark.parametrize("eps", [None, 0.25])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit_grad_and_double_grad(eps, dtype):
    res = {}
    for lib in (torch, mc):
        x = lib.from_numpy(LOGIT.astype(dtype)).requires_grad_()
        r = lib.logit(x, eps)
        w = lib.from_numpy(np.linspace(0.5, 1.5, 6).reshape(2, 3).astype(dtype))
        gs = lib.autograd.grad((r * w).sum(), (x,), create_graph=True)
        ggs = lib.autograd.grad((gs[0] * gs[0]).nansum(), (x,))
        res[lib] = (r, gs, ggs, type(r.grad_fn).__name__)
    assert_same_grads(res[mc], res[torch])


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_family(name):
    op = REGISTRY[name]
    assert getattr(mc, name) is op and mc.Tensor.__dict__[name] is op.method and mc.Tensor.__dict__[name + "_"] is op.inplace
    assert (mc.special.gammainc if name == "igamma" else mc.special.gammaincc) is op
    a = np.array([[0.5, 2.0, 3.0], [1.5, 0.25, 7.0]], dtype=np.float32)
    x = np.array([[1.0, 0.5, 4.0], [0.0, 2.5, 6.0]], dtype=np.float32)
    for da, dx in (("float32", "float32"), ("float64", "float32"), ("int64", "float32"), ("float16", "float16"),
                   ("int64", "int64"), ("bool", "bool"), ("complex64", "complex64")):
        ta, ma = torch.from_numpy(a).to(getattr(torch, da)), mc.from_numpy(a).to(getattr(mc, da))
        tx, mx_ = torch.from_numpy(x).to(getattr(torch, dx)), mc.from_numpy(x).to(getattr(mc, dx))
        tol = dict(rtol=1e-2, atol=1e-3) if "float16" in (da, dx) else {}
        for f in (lambda lib, p, q: getattr(lib, name)(p, q), lambda lib, p, q: getattr(p, name)(q[0]),
                  lambda lib, p, q: getattr(p.clone(), name + "_")(q), lambda lib, p, q: getattr(lib, name)(p, 2.0)):
            same_outcome(lambda: f(torch, ta, tx), lambda: f(mc, ma, mx_), **tol)
    res = {}
    for lib in (torch, mc):
        ta = lib.from_numpy(a).requires_grad_()
        tx = lib.from_numpy(x[:, :] + 0.5).requires_grad_()
        r = getattr(lib, name)(ta.detach(), tx)
        gs = lib.autograd.grad(r.sum(), (tx,), create_graph=True)
        ggs = lib.autograd.grad((gs[0] * gs[0]).sum(), (tx,))
        res[lib] = (r, gs, ggs, type(r.grad_fn).__name__)
        # torch has no derivative for `input`: reaching it raises
        et = raised(lambda: getattr(lib, name)(ta, tx).sum().backward())
        assert type(et) is NotImplementedError and str(et) == f"the derivative for '{name}: input' is not implemented."
    assert_same_grads(res[mc], res[torch])
