"""torch.special's own operators as function-only registry declarations (Note [Function-only ops] in
csrc/dispatch.c, Note [torch.special primitives] in _ops/special.py) against torch: no torch.<name> and no Tensor
method, names/modules/pickling, values and dtypes (integral and bool inputs promote to float), torch's refusals with
its messages, out=, Python numbers on either side of the binary ones, and gradients (torch's nodes, values against
torch's, second order) or none where torch records none; ndtr as torch's composite."""
import pickle
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, same_outcome, to_mc, torch

REGISTRY = mc._C._op_registry()
FUNCTION_ONLY = sorted(n for n, op in REGISTRY.items() if op.method is None and op.inplace is None)
UNARY = [n for n in FUNCTION_ONLY if REGISTRY[n].kind == mc._C.OP_UNARY]
BINARY = [n for n in FUNCTION_ONLY if REGISTRY[n].kind == mc._C.OP_BINARY]
DIFFERENTIABLE = {"entr", "erfcx", "ndtri", "log_ndtr", "i0e", "i1", "i1e"}
NEEDS_UNIT = {"ndtri"}  # its domain is [0, 1]
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool", "complex64"]


def _attr(name):
    return name[len("special_"):]


def _torch_fn(name):
    return getattr(torch.special, _attr(name))


def _mc_fn(name):
    return getattr(mc.special, _attr(name))


def _data(name, rng_seed=0):
    r = np.random.default_rng(rng_seed)
    if _attr(name) in NEEDS_UNIT:
        return r.uniform(0.02, 0.98, (2, 5)).astype(np.float32)
    return r.uniform(-3, 3, (2, 5)).astype(np.float32)


def _pair(a, dtype):
    t = torch.from_numpy(a.copy())
    if dtype in ("int64", "int32", "uint8"):
        t = (t.abs() * 2).round()
    t = t.to(getattr(torch, dtype)) if dtype != "bool" else t > 0
    return t, to_mc(t)


def test_torch_special_own_operators_are_all_declared():
    ours = {_attr(n) for n in FUNCTION_ONLY}
    expected = {"entr", "erfcx", "ndtri", "log_ndtr", "i0e", "i1", "i1e", "bessel_j0", "bessel_j1", "bessel_y0",
                "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
                "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai",
                "xlog1py", "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"}
    assert expected <= ours
    # every one of them is special-only in torch too: no torch.<name>, no Tensor method
    for attr in ours:
        assert hasattr(torch.special, attr), attr
        assert hasattr(torch, attr) == hasattr(mc, attr) == False, attr  # noqa: E712
        assert hasattr(torch.Tensor, attr) == hasattr(mc.Tensor, attr) == False, attr  # noqa: E712
        assert not hasattr(mc.Tensor, attr + "_")


@pytest.mark.parametrize("name", FUNCTION_ONLY)
def test_names_module_and_pickling(name):
    op = REGISTRY[name]
    assert _mc_fn(name) is op
    assert op.__name__ == _torch_fn(name).__name__ == name  # aten's name, as torch's builtin reports
    assert op.__module__ == "mlx_compat.special" and op.__qualname__ == _attr(name)
    assert pickle.loads(pickle.dumps(op)) is op


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_values_dtypes_and_refusals(name, dtype):
    t, m = _pair(_data(name), dtype)
    tol = dict(rtol=1e-2, atol=1e-2) if dtype in ("float16", "bfloat16") else dict(rtol=1e-5, atol=1e-5)
    # torch's bessel_j0/j1/y0/y1 and airy_ai are ~3e-6 off in float32 (tests/ops/test_special.py checks mpmath)
    r = same_outcome(lambda: _torch_fn(name)(t), lambda: _mc_fn(name)(m), **tol)
    if r is None:  # both raised: torch's message too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _torch_fn(name)(t)
            except Exception as e:  # noqa: BLE001 - compared below
                theirs = str(e)
        with pytest.raises(Exception) as ours:
            _mc_fn(name)(m)
        assert str(ours.value) == theirs


@pytest.mark.parametrize("name", UNARY)
def test_unary_out_and_argument_errors(name):
    t, m = _pair(_data(name), "float32")
    for out_dtype in ("float32", "float64", "int64"):
        ot = torch.zeros(2, 5, dtype=getattr(torch, out_dtype))
        om = mc.zeros(2, 5, dtype=getattr(mc, out_dtype))
        if same_outcome(lambda: _torch_fn(name)(t, out=ot), lambda: _mc_fn(name)(m, out=om)) is not None:
            assert_same(om, ot)
    for bad in (lambda L, f: f(2.0), lambda L, f: f([1.0]), lambda L, f: f(L.ones(2), L.ones(2)),
                lambda L, f: f(L.ones(2), foo=1)):
        try:
            bad(torch, _torch_fn(name))
        except Exception as e:  # noqa: BLE001 - compared below
            theirs = e
        with pytest.raises(type(theirs)):
            bad(mc, _mc_fn(name))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_values_dtypes_scalars_and_refusals(name, dtype):
    x, xm = _pair(_data(name), dtype)
    n, nm = _pair(np.array([[0, 1, 2, 3, 4], [5, 6, 2, 1, 7]], dtype=np.float32), "int64")
    tol = dict(rtol=1e-2, atol=1e-2) if dtype in ("float16", "bfloat16") else dict(rtol=1e-5, atol=1e-5)
    ft, fm = _torch_fn(name), _mc_fn(name)
    same_outcome(lambda: ft(x, n), lambda: fm(xm, nm), **tol)
    same_outcome(lambda: ft(x, 3), lambda: fm(xm, 3), **tol)
    same_outcome(lambda: ft(1.5, x), lambda: fm(1.5, xm), **tol)
    same_outcome(lambda: ft(x, x), lambda: fm(xm, xm), **tol)
    same_outcome(lambda: ft(x, n.double()), lambda: fm(xm, nm.double()), **tol)


@pytest.mark.parametrize("name", BINARY)
def test_binary_errors_and_out(name):
    ft, fm = _torch_fn(name), _mc_fn(name)
    for bad in (lambda L, f: f(1.5, 2), lambda L, f: f(L.ones(2), L.ones(3)), lambda L, f: f(L.ones(2), "a"),
                lambda L, f: f(L.ones(2, dtype=L.complex64), 1.0), lambda L, f: f(L.ones(2, dtype=L.float16), 2)):
        try:
            bad(torch, ft)
            theirs = None
        except Exception as e:  # noqa: BLE001 - compared below
            theirs = e
        if theirs is None:
            bad(mc, fm)
            continue
        with pytest.raises(type(theirs)) as ours:
            bad(mc, fm)
        if isinstance(theirs, NotImplementedError):
            assert str(ours.value) == str(theirs)
    x, xm = _pair(_data(name), "float32")
    for out_dtype in ("float64", "int64"):
        ot = torch.zeros(2, 5, dtype=getattr(torch, out_dtype))
        om = mc.zeros(2, 5, dtype=getattr(mc, out_dtype))
        if same_outcome(lambda: ft(x, 2, out=ot), lambda: fm(xm, 2, out=om)) is not None:
            assert_same(om, ot)


# ---------------------------------------------------------------- autograd


def _grads(ft, fm, args_t, args_m, create_graph=False):
    leaves_t = [a for a in args_t if isinstance(a, torch.Tensor) and a.requires_grad]
    leaves_m = [a for a in args_m if isinstance(a, mc.Tensor) and a.requires_grad]
    yt, ym = ft(*args_t), fm(*args_m)
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__
    cot = torch.linspace(-1, 1, yt.numel()).reshape(yt.shape).to(yt.dtype)
    gt = torch.autograd.grad(yt, leaves_t, cot, create_graph=create_graph)
    gm = mc.autograd.grad(ym, leaves_m, to_mc(cot), create_graph=create_graph)
    for a, b in zip(gm, gt):
        assert_same(a, b, rtol=1e-4, atol=1e-5)
    return gt, gm, leaves_t, leaves_m


@pytest.mark.parametrize("name", [n for n in UNARY if _attr(n) in DIFFERENTIABLE])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_gradients_and_second_order(name, dtype):
    t, _ = _pair(_data(name), dtype)
    if _attr(name) == "entr":
        t = t.abs() + 0.1  # entr' = -(1 + log x): defined for x > 0
    t.requires_grad_()
    m = to_mc(t).requires_grad_()
    gt, gm, _, _ = _grads(_torch_fn(name), _mc_fn(name), [t], [m], create_graph=True)
    ggt = torch.autograd.grad(gt[0].sum(), t)[0]
    ggm = mc.autograd.grad(gm[0].sum(), m)[0]
    assert_same(ggm, ggt, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in FUNCTION_ONLY if _attr(n) not in DIFFERENTIABLE | {"xlog1py", "zeta"}])
def test_no_derivative_like_torch(name):
    t = torch.tensor([0.5, 1.5], requires_grad=True)
    m = to_mc(t).requires_grad_()
    args = (2,) if REGISTRY[name].kind == mc._C.OP_BINARY else ()
    rt, rm = _torch_fn(name)(t, *args), _mc_fn(name)(m, *args)
    assert rt.requires_grad is rm.requires_grad is False and rm.grad_fn is None


def test_xlog1py_gradients_all_forms():
    a = torch.tensor([0.0, 0.5, -0.3, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([-1.0, 0.2, 3.0, -0.5, 1.0], dtype=torch.float64, requires_grad=True)
    am, bm = to_mc(a).requires_grad_(), to_mc(b).requires_grad_()
    f, g = torch.special.xlog1py, mc.special.xlog1py
    _grads(f, g, [a, b], [am, bm])
    _grads(f, g, [a, -1.0], [am, -1.0])
    _grads(f, g, [a, 0.5], [am, 0.5])
    _grads(f, g, [2.0, b], [2.0, bm])
    _grads(f, g, [a, b], [am, bm], create_graph=True)


def test_zeta_gradient_for_q_only():
    x = torch.tensor([2.0, 3.5, 4.0], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([1.0, 2.5, 0.7], dtype=torch.float64, requires_grad=True)
    xm, qm = to_mc(x).requires_grad_(), to_mc(q).requires_grad_()
    f, g = torch.special.zeta, mc.special.zeta
    _grads(f, g, [x.detach(), q], [xm.detach(), qm])
    _grads(f, g, [3.0, q], [3.0, qm])
    yt, ym = f(x, q), g(xm, qm)
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__ == "SpecialZetaBackward0"
    assert type(g(xm, 2.0).grad_fn).__name__ == type(f(x, 2.0).grad_fn).__name__
    for y, L in ((yt, torch), (ym, mc)):
        with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented."):
            L.autograd.grad(y.sum(), [x if L is torch else xm])


# ---------------------------------------------------------------- ndtr: torch's composite


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "bool"])
def test_ndtr_is_torch_composite(dtype):
    t = torch.tensor([-6.0, -5.0, -3.0, -0.5, 0.0, 0.7, 4.0, 9.0])
    t = t.to(getattr(torch, dtype)) if dtype != "bool" else t > 0
    m = to_mc(t)
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == "float16" else dict(rtol=1e-6, atol=1e-7)
    assert_same(mc.special.ndtr(m), torch.special.ndtr(t), **tol)  # float32's lower tail rounds as torch's
    if dtype in ("float32", "float64"):
        tg, mg = t.clone().requires_grad_(), m.clone().requires_grad_()
        _grads(torch.special.ndtr, mc.special.ndtr, [tg], [mg])
    same_outcome(lambda: torch.special.ndtr(t, out=torch.zeros(8, dtype=torch.int64)),
                 lambda: mc.special.ndtr(m, out=mc.zeros(8, dtype=mc.int64)))
    same_outcome(lambda: torch.special.ndtr(t.to(torch.complex64)), lambda: mc.special.ndtr(m.to(mc.complex64)))


def test_torch_function_subclasses_reach_function_only_ops():
    seen = []

    class Sub(mc.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    x = mc.tensor([0.5, 1.0]).as_subclass(Sub)
    r = mc.special.entr(x)
    assert type(r) is Sub and seen and seen[0] is mc.special.entr
    r = mc.special.xlog1py(2.0, x)
    assert type(r) is Sub and seen[-1] is mc.special.xlog1py
