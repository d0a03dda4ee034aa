"""torch.autograd.Function, gradcheck and torch.autograd.functional against PyTorch 2.13.

Pins: custom Functions (ctx.save_for_backward / saved_tensors,
needs_input_grad, arbitrary ctx attributes, non-tensor arguments,
mark_dirty, mark_non_differentiable, set_materialize_grads, several
outputs, the setup_context style, once_differentiable, double backward
through a differentiable backward), the grad_fn class name torch gives a
Function ("<Name>Backward"), the error for a wrong number of gradients;
gradcheck / gradgradcheck in float64 return True for correct gradients and
raise (GradcheckError, a RuntimeError) or return False with
raise_exception=False for a wrong backward; autograd.functional jacobian
(one and several inputs/outputs), hessian, vjp, jvp, hvp, vhp.
"""
import numpy as np
import pytest

from ag_util import assert_grad, assert_tensor, const, grad_fn_name, leaf, leaves, randn
from helpers import assert_raises_same, assert_same, mc, torch


def _libs(*pairs):
    """[(torch, torch_args...), (mc, mc_args...)] from (torch, mc) pairs."""
    return [(torch,) + tuple(p[0] for p in pairs), (mc,) + tuple(p[1] for p in pairs)]


# ---------------------------------------------------------------- Function classes (built per library)

def make_exp(L):
    class MyExp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return MyExp


def make_scaled_mul(L, record):
    class ScaledMul(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            record.append(("fwd", tuple(ctx.needs_input_grad)))
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            record.append(("bwd", tuple(ctx.needs_input_grad)))
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    return ScaledMul


def make_cube(L):
    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2  # differentiable: double backward works

    return Cube


def test_function_apply_forward_backward_and_name():
    xt, xm = leaf(randn((3, 4)))
    outs = []
    for L, x in _libs((xt, xm)):
        f = make_exp(L)
        y = f.apply(x)
        assert y.requires_grad and not y.is_leaf
        outs.append(y)
        (y * y).sum().backward()
    assert_tensor(outs[1], outs[0])
    assert grad_fn_name(outs[1]) == grad_fn_name(outs[0]) == "MyExpBackward"
    assert_grad(xm, xt)


def test_function_saved_tensors_values():
    xt, xm = leaf(randn((2, 3)))
    saved = []
    for L, x in _libs((xt, xm)):
        f = make_exp(L)
        y = f.apply(x * 2)
        (s,) = y.grad_fn.saved_tensors
        saved.append(s)
    assert_tensor(saved[1], saved[0])


def test_function_needs_input_grad_and_non_tensor_args():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))
    ct, cm = const(randn((3,), 3))
    recs = []
    for L, a, b, c in _libs((at, am), (bt, bm), (ct, cm)):
        rec = []
        f = make_scaled_mul(L, rec)
        f.apply(a, b, 2.5).sum().backward()
        f.apply(a, c, -1.0).sum().backward()  # second input doesn't need grad
        recs.append(rec)
    assert recs[1] == recs[0]
    assert recs[0][-1] == ("bwd", (True, False, False))
    assert_grad(am, at)
    assert_grad(bm, bt)


def test_function_no_input_requires_grad():
    ct, cm = const(randn((3,)))
    for L, c in _libs((ct, cm)):
        y = make_exp(L).apply(c)
        assert not y.requires_grad and y.grad_fn is None


def test_function_under_no_grad():
    xt, xm = leaf(randn((3,)))
    for L, x in _libs((xt, xm)):
        with L.no_grad():
            y = make_exp(L).apply(x)
        assert not y.requires_grad


def test_function_mark_dirty():
    xt, xm = leaf(randn((3, 4)))
    res = []
    for L, x in _libs((xt, xm)):
        class InplaceDouble(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                a.mul_(2)
                ctx.mark_dirty(a)
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 2

        y = x * 3
        z = InplaceDouble.apply(y)
        assert z is y
        res.append((z, grad_fn_name(z)))
        (z * z).sum().backward()
    assert_tensor(res[1][0], res[0][0])
    assert res[1][1] == res[0][1]
    assert_grad(xm, xt)


def test_function_mark_dirty_on_leaf_raises():
    xt, xm = leaf(randn((3,)))

    def run(L, x):
        class InplaceDouble(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                a.mul_(2)
                ctx.mark_dirty(a)
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return InplaceDouble.apply(x)

    assert_raises_same(lambda: run(torch, xt), lambda: run(mc, xm))


def test_function_mark_non_differentiable_and_multiple_outputs():
    xt, xm = leaf(randn((6,)))
    res = []
    for L, x in _libs((xt, xm)):
        class MaxWithIndex(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                idx = a.argmax()
                val = a.max()
                mask = a > 0
                ctx.mark_non_differentiable(idx, mask)
                ctx.save_for_backward(a, idx)
                return val, idx, mask

            @staticmethod
            def backward(ctx, gval, gidx, gmask):
                a, idx = ctx.saved_tensors
                g = L.zeros_like(a)
                g[idx] = gval
                return g

        val, idx, mask = MaxWithIndex.apply(x)
        assert val.requires_grad
        assert not idx.requires_grad and not mask.requires_grad
        (val * 3).backward()
        res.append((val, idx, mask))
    for m, t in zip(res[1], res[0]):
        assert_tensor(m, t)
    assert_grad(xm, xt)


@pytest.mark.parametrize("materialize", [True, False])
def test_function_set_materialize_grads(materialize):
    xt, xm = leaf(randn((3,)))
    seen = {}
    for L, x in _libs((xt, xm)):
        got = []

        class Two(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.set_materialize_grads(materialize)
                return a * 2, a * 3

            @staticmethod
            def backward(ctx, g1, g2):
                got.append((g1 is None, g2 is None))
                total = 0
                if g1 is not None:
                    total = total + g1 * 2
                if g2 is not None:
                    total = total + g2 * 3
                return total

        y1, y2 = Two.apply(x)
        y1.sum().backward()  # y2 unused: its gradient is None or zeros
        seen[L] = got
    assert seen[mc] == seen[torch]
    assert_grad(xm, xt)


def test_function_setup_context_style():
    xt, xm = leaf(randn((4,)))
    for L, x in _libs((xt, xm)):
        class Sin(L.autograd.Function):
            @staticmethod
            def forward(a, k):
                return (a * k).sin()

            @staticmethod
            def setup_context(ctx, inputs, output):
                a, k = inputs
                ctx.save_for_backward(a)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return g * (a * ctx.k).cos() * ctx.k, None

        Sin.apply(x, 1.5).sum().backward()
    assert_grad(xm, xt)


def test_function_once_differentiable():
    xt, xm = leaf(randn((4,)))
    for L, x in _libs((xt, xm)):
        class Sq(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            @L.autograd.function.once_differentiable
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return 2 * a * g

        Sq.apply(x).sum().backward()
    assert_grad(xm, xt)

    def twice(L, x):
        class Sq(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            @L.autograd.function.once_differentiable
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return 2 * a * g

        (g,) = L.autograd.grad(Sq.apply(x).sum(), x, create_graph=True)
        g.sum().backward()

    assert_raises_same(lambda: twice(torch, xt), lambda: twice(mc, xm))


def test_function_double_backward():
    xt, xm = leaf(randn((5,)))
    res = []
    for L, x in _libs((xt, xm)):
        y = make_cube(L).apply(x)
        (g1,) = L.autograd.grad(y.sum(), x, create_graph=True)
        (g2,) = L.autograd.grad(g1.sum(), x)
        res.append((g1, g2))
    assert_tensor(res[1][0], res[0][0], grad=True)
    assert_tensor(res[1][1], res[0][1], grad=True)


def test_function_wrong_number_of_grads_raises():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))

    def run(L, a, b):
        class Bad(L.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a + b

            @staticmethod
            def backward(ctx, g):
                return g  # should be two gradients

        Bad.apply(a, b).sum().backward()

    assert_raises_same(lambda: run(torch, at, bt), lambda: run(mc, am, bm))


def test_function_wrong_grad_shape_raises():
    xt, xm = leaf(randn((3,)))

    def run(L, x):
        class Bad(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return L.ones(4)

        Bad.apply(x).sum().backward()

    assert_raises_same(lambda: run(torch, xt), lambda: run(mc, xm))


def test_function_in_larger_graph():
    (at, am), (bt, bm) = leaves(randn((3, 4), 1), randn((4, 2), 2))
    for L, a, b in _libs((at, am), (bt, bm)):
        h = make_exp(L).apply(a @ b * 0.1)
        out = make_cube(L).apply(h.tanh()).mean()
        out.backward()
    assert_grad(am, at)
    assert_grad(bm, bt)


# ---------------------------------------------------------------- gradcheck

def _f64(shape, seed):
    return randn(shape, seed, np.float64)


GRADCHECK_FNS = [
    ("mul_sum", lambda L, x: (x * x).sum(), [(3, 4)]),
    ("tanh", lambda L, x: x.tanh(), [(5,)]),
    ("sigmoid_exp", lambda L, x: x.sigmoid() * x.exp(), [(2, 3)]),
    ("matmul", lambda L, x, y: x @ y, [(3, 4), (4, 2)]),
    ("div_broadcast", lambda L, x, y: x / (y * y + 1), [(3, 4), (4,)]),
    ("softmax", lambda L, x: L.nn.functional.softmax(x, dim=-1), [(3, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECK_FNS, ids=[c[0] for c in GRADCHECK_FNS])
def test_gradcheck_and_gradgradcheck_true(name, fn, shapes):
    pairs = leaves(*[_f64(s, i) for i, s in enumerate(shapes)], dtype="float64")
    for L, *xs in _libs(*pairs):
        assert L.autograd.gradcheck(lambda *a: fn(L, *a), tuple(xs)) is True
        assert L.autograd.gradgradcheck(lambda *a: fn(L, *a), tuple(xs)) is True


def test_gradcheck_custom_function_true():
    xt, xm = leaf(_f64((4,), 0), dtype="float64")
    for L, x in _libs((xt, xm)):
        assert L.autograd.gradcheck(make_exp(L).apply, (x,)) is True
        assert L.autograd.gradcheck(make_cube(L).apply, (x,)) is True
        assert L.autograd.gradgradcheck(make_cube(L).apply, (x,)) is True


def _wrong_exp(L):
    class WrongExp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * 1.5  # wrong

    return WrongExp


def test_gradcheck_wrong_backward_raises_or_returns_false():
    xt, xm = leaf(_f64((4,), 0), dtype="float64")
    for L, x in _libs((xt, xm)):
        f = _wrong_exp(L)
        with pytest.raises(RuntimeError) as ei:
            L.autograd.gradcheck(f.apply, (x,))
        assert type(ei.value).__name__ == "GradcheckError"
        assert L.autograd.gradcheck(f.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_wrong_double_backward_fails():
    xt, xm = leaf(_f64((4,), 0), dtype="float64")
    for L, x in _libs((xt, xm)):
        class BadCube(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a ** 3

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                # right first derivative, wrong second (detach drops the a-dependence)
                return g * 3 * a.detach() ** 2

        assert L.autograd.gradcheck(BadCube.apply, (x,)) is True
        assert L.autograd.gradgradcheck(BadCube.apply, (x,), raise_exception=False) is False


# ---------------------------------------------------------------- autograd.functional

def _fn_vec(L, x):
    return (x * x).tanh() * x.sum()


def _fn_scalar(L, x):
    return (x.sin() * x.exp()).sum() + (x * x).sum() * x.sum()


def _fn_two_in(L, x, y):
    return x.exp() * y.sum() + y[:3] * 2


def _fn_two_out(L, x):
    return x * x, x.sigmoid().sum()


def test_jacobian_single():
    xt, xm = const(randn((4,), 1))
    jt = torch.autograd.functional.jacobian(lambda x: _fn_vec(torch, x), xt)
    jm = mc.autograd.functional.jacobian(lambda x: _fn_vec(mc, x), xm)
    assert_tensor(jm, jt, grad=True)
    assert not jm.requires_grad


def test_jacobian_multiple_inputs_and_outputs():
    (xt, xm), (yt, ym) = const(randn((3,), 1)), const(randn((5,), 2))
    jt = torch.autograd.functional.jacobian(lambda x, y: _fn_two_in(torch, x, y), (xt, yt))
    jm = mc.autograd.functional.jacobian(lambda x, y: _fn_two_in(mc, x, y), (xm, ym))
    assert isinstance(jm, tuple) and len(jm) == len(jt) == 2
    for m, t in zip(jm, jt):
        assert_tensor(m, t, grad=True)
    jt = torch.autograd.functional.jacobian(lambda x: _fn_two_out(torch, x), xt)
    jm = mc.autograd.functional.jacobian(lambda x: _fn_two_out(mc, x), xm)
    assert isinstance(jm, tuple) and len(jm) == 2
    for m, t in zip(jm, jt):
        assert_tensor(m, t, grad=True)


def test_jacobian_create_graph():
    xt, xm = leaf(randn((3,), 1))
    res = []
    for L, x in _libs((xt, xm)):
        j = L.autograd.functional.jacobian(lambda a: _fn_vec(L, a), x, create_graph=True)
        assert j.requires_grad
        j.sum().backward()
        res.append(j)
    assert_tensor(res[1], res[0], grad=True)
    assert_grad(xm, xt)


def test_hessian():
    xt, xm = const(randn((4,), 1))
    ht = torch.autograd.functional.hessian(lambda x: _fn_scalar(torch, x), xt)
    hm = mc.autograd.functional.hessian(lambda x: _fn_scalar(mc, x), xm)
    assert_tensor(hm, ht, grad=True)


def test_hessian_two_inputs():
    (xt, xm), (yt, ym) = const(randn((2,), 1)), const(randn((3,), 2))

    def f(L, x, y):
        return (x.exp().sum() * (y * y).sum()) + (x * x).sum()

    ht = torch.autograd.functional.hessian(lambda x, y: f(torch, x, y), (xt, yt))
    hm = mc.autograd.functional.hessian(lambda x, y: f(mc, x, y), (xm, ym))
    for rm, rt in zip(hm, ht):
        for m, t in zip(rm, rt):
            assert_tensor(m, t, grad=True)


def test_vjp_jvp():
    (xt, xm), (vt, vm), (ut, um) = const(randn((4,), 1)), const(randn((4,), 2)), const(randn((4,), 3))
    ot, gt = torch.autograd.functional.vjp(lambda x: _fn_vec(torch, x), xt, vt)
    om, gm = mc.autograd.functional.vjp(lambda x: _fn_vec(mc, x), xm, vm)
    assert_tensor(om, ot)
    assert_tensor(gm, gt, grad=True)
    ot, jt = torch.autograd.functional.jvp(lambda x: _fn_vec(torch, x), xt, ut)
    om, jm = mc.autograd.functional.jvp(lambda x: _fn_vec(mc, x), xm, um)
    assert_tensor(om, ot)
    assert_tensor(jm, jt, grad=True)
    # scalar output: v may be omitted
    ot, gt = torch.autograd.functional.vjp(lambda x: _fn_scalar(torch, x), xt)
    om, gm = mc.autograd.functional.vjp(lambda x: _fn_scalar(mc, x), xm)
    assert_tensor(om, ot)
    assert_tensor(gm, gt, grad=True)


def test_hvp_vhp():
    (xt, xm), (vt, vm) = const(randn((4,), 1)), const(randn((4,), 2))
    for name in ("hvp", "vhp"):
        ot, rt = getattr(torch.autograd.functional, name)(lambda x: _fn_scalar(torch, x), xt, vt)
        om, rm = getattr(mc.autograd.functional, name)(lambda x: _fn_scalar(mc, x), xm, vm)
        assert_tensor(om, ot)
        assert_tensor(rm, rt, grad=True)
        assert not rm.requires_grad


def test_functional_nonscalar_hessian_raises():
    xt, xm = const(randn((4,), 1))
    assert_raises_same(lambda: torch.autograd.functional.hessian(lambda x: x * 2, xt),
                       lambda: mc.autograd.functional.hessian(lambda x: x * 2, xm))
