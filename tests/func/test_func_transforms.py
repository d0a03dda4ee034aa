"""mlx_compat.func against torch.func on the same inputs: values, structure, nesting, composition with ordinary
autograd, and the error types of bad arguments."""
import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat import func as mf

RNG = np.random.default_rng(0)


def _pair(*shape):
    a = RNG.standard_normal(shape).astype(np.float32)
    return mc.tensor(a), torch.tensor(a)


def _close(ours, theirs, tol=1e-5):
    fo, so = mc.utils._pytree.tree_flatten(ours)
    ft, st = torch.utils._pytree.tree_flatten(theirs)
    assert len(fo) == len(ft)
    for o, t in zip(fo, ft):
        if isinstance(t, torch.Tensor):
            assert isinstance(o, mc.Tensor)
            assert tuple(o.shape) == tuple(t.shape)
            assert str(o.dtype) == str(t.dtype)
            assert o.requires_grad == t.requires_grad
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)
        else:
            assert o == t


def _both(fn_builder, *arrays):
    """Run the same transform expression in both libraries."""
    return fn_builder(mc, mf)(*[mc.tensor(a) for a in arrays]), fn_builder(torch, torch.func)(
        *[torch.tensor(a) for a in arrays])


_TWO_ARGS = []


def _two(case):
    _TWO_ARGS.append(case)
    return case


A = RNG.standard_normal((3,)).astype(np.float32)
M = RNG.standard_normal((4, 3)).astype(np.float32)


@pytest.mark.parametrize("case", [
    lambda T, F: F.grad(lambda x: (x.sin() * x).sum()),
    lambda T, F: F.grad(lambda x: F.grad(lambda y: (y ** 3 * y.sin()).sum())(x).sum()),
    _two(lambda T, F: F.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))),
    lambda T, F: (lambda x: F.grad_and_value(lambda x: (x.exp()).sum())(x)),
    lambda T, F: (lambda x: F.grad(lambda x: ((x ** 2).sum(), x.cos()), has_aux=True)(x)),
    lambda T, F: (lambda x: F.grad(lambda d: (d["a"] * d["b"][0]).sum())({"a": x, "b": [x * 2]})),
    lambda T, F: F.jacrev(lambda x: x.sin() * x.sum()),
    lambda T, F: F.jacfwd(lambda x: x.tanh()),
    lambda T, F: F.hessian(lambda x: (x.sin() * x).sum()),
    _two(lambda T, F: F.jacrev(lambda x, y: (x * y, x + y), argnums=(0, 1))),
    lambda T, F: (lambda x: F.jvp(lambda x: x.sin() * 2, (x,), (T.ones_like(x),))),
    lambda T, F: (lambda x: F.jvp(lambda x: (x.exp(), x.sum()), (x,), (x * 0.5,))),
], ids=["grad", "grad-grad", "argnums", "grad_and_value", "has_aux", "pytree", "jacrev", "jacfwd", "hessian",
        "jacrev-multi", "jvp", "jvp-tuple"])
def test_transform_values(case):
    nargs = 2 if case in _TWO_ARGS else 1
    arrays = (A, (A * 0.5 + 1).astype(np.float32))[:nargs]
    ours, theirs = _both(case, *arrays)
    _close(ours, theirs)


def test_vjp_and_linearize():
    xo, xt = _pair(3)
    oo, fo = mf.vjp(lambda x: x.exp() * 2, xo)
    ot, ft = torch.func.vjp(lambda x: x.exp() * 2, xt)
    _close(oo, ot)
    _close(fo(mc.ones(3)), ft(torch.ones(3)))
    oo, jo = mf.linearize(lambda x: x.sin(), xo)
    ot, jt = torch.func.linearize(lambda x: x.sin(), xt)
    _close(oo, ot)
    _close(jo(mc.ones(3)), jt(torch.ones(3)))
    with pytest.raises(RuntimeError):
        fo(mc.ones(4))


@pytest.mark.parametrize("in_dims,out_dims", [(0, 0), (1, 0), ((0, None), 1), ((None, 0), -1)])
def test_vmap(in_dims, out_dims):
    a = RNG.standard_normal((4, 4)).astype(np.float32)
    b = RNG.standard_normal((4, 4)).astype(np.float32)

    def f(T):
        return lambda x, y: (x * y).sum(-1, keepdim=True) + x.mean()
    ours = mf.vmap(f(mc), in_dims, out_dims)(mc.tensor(a), mc.tensor(b))
    theirs = torch.func.vmap(f(torch), in_dims, out_dims)(torch.tensor(a), torch.tensor(b))
    _close(ours, theirs)


def test_vmap_nested_and_grad():
    xo, xt = _pair(5, 3)
    wo, wt = _pair(3)
    per_ex = lambda F: F.vmap(F.grad(lambda w, x: ((x * w).sum() ** 2)), in_dims=(None, 0))  # noqa: E731
    _close(per_ex(mf)(wo, xo), per_ex(torch.func)(wt, xt))
    outer = lambda F: F.vmap(F.vmap(lambda a, b: a * b, (0, None)), (None, 0))  # noqa: E731
    _close(outer(mf)(xo[0], xo[:, 0]), outer(torch.func)(xt[0], xt[:, 0]))


def test_vmap_errors():
    f = lambda x: x  # noqa: E731
    for lib, F in ((mc, mf), (torch, torch.func)):
        with pytest.raises(ValueError):
            F.vmap(f)(lib.ones(2), lib.ones(3)) if False else F.vmap(lambda a, b: a)(lib.ones(2), lib.ones(3))
        with pytest.raises(ValueError):
            F.vmap(f, in_dims=2)(lib.ones(2))
        with pytest.raises(ValueError):
            F.vmap(f)()
        with pytest.raises(ValueError):
            F.vmap(lambda x: 1.0)(lib.ones(2))
        with pytest.raises(RuntimeError):
            F.vmap(lambda x: x + lib.rand(()))(lib.ones(2))
        with pytest.raises(ValueError):
            F.vmap(f, in_dims="a")(lib.ones(2))


def test_vmap_randomness():
    for lib, F in ((mc, mf), (torch, torch.func)):
        lib.manual_seed(0)
        same = F.vmap(lambda x: x + lib.rand(()), randomness="same")(lib.zeros(3))
        assert float(same[0]) == float(same[1]) == float(same[2])
        diff = F.vmap(lambda x: x + lib.rand(()), randomness="different")(lib.zeros(3))
        assert len({float(v) for v in diff}) == 3


def test_grad_errors():
    for lib, F in ((mc, mf), (torch, torch.func)):
        with pytest.raises(RuntimeError, match="scalar"):
            F.grad(lambda x: x * 2)(lib.ones(3))
        with pytest.raises(RuntimeError, match="Tensor"):
            F.grad(lambda x: 1.0)(lib.ones(3))
        with pytest.raises(RuntimeError, match="argnum"):
            F.grad(lambda x: x.sum(), argnums=1)(lib.ones(3))
        with pytest.raises(RuntimeError):
            F.grad(lambda x: x.sum(), has_aux=True)(lib.ones(3))
        with pytest.raises(RuntimeError):
            F.vjp(lambda x: x * 2, lib.ones(3), has_aux=True)
        with pytest.raises(RuntimeError):
            F.jvp(lambda x: (x, x, x), (lib.ones(3),), (lib.ones(3),), has_aux=True)
        with pytest.raises(RuntimeError):
            F.jacrev(lambda x: x * 2, has_aux=True)(lib.ones(3))
        with pytest.raises(RuntimeError):
            F.jvp(lambda x: x, [lib.ones(3)], [lib.ones(3)])
        with pytest.raises(RuntimeError):
            F.jvp(lambda x: x, (lib.ones(3),), (lib.ones(2),))


def test_results_detached_unless_outside_requires_grad():
    x = mc.ones(3)
    g = mf.grad(lambda x: (x ** 3).sum())(x)
    assert not g.requires_grad and g.grad_fn is None
    # a closed-over weight that requires grad stays differentiable (ordinary autograd around the transform)
    for lib, F in ((mc, mf), (torch, torch.func)):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        g = F.grad(lambda x: (w * x ** 2).sum())(lib.tensor([1.0, 1.0, 2.0]))
        g.sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0, 4.0])
    # inputs that require grad: the gradient is differentiable w.r.t. them
    for lib, F in ((mc, mf), (torch, torch.func)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        g = F.grad(lambda x: (x ** 3).sum())(x)
        assert g.requires_grad
        (gx,) = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(gx.numpy(), [6.0, 12.0])


def _models(lib):
    lib.manual_seed(0)
    return [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)) for _ in range(3)]


def test_functional_call_and_stack_module_state():
    mo, mt = _models(mc), _models(torch)
    for a, b in zip(mo, mt):
        a.load_state_dict({k: mc.tensor(v.numpy()) for k, v in b.state_dict().items()})
    po, bo = mf.stack_module_state(mo)
    pt, bt = torch.func.stack_module_state(mt)
    assert list(po) == list(pt) and list(bo) == list(bt)
    _close(po, pt)
    _close(bo, bt)
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    base_o, base_t = mo[0], mt[0]
    base_o.eval(), base_t.eval()
    one_o = {k: v[1] for k, v in po.items()}
    one_t = {k: v[1] for k, v in pt.items()}
    _close(mf.functional_call(base_o, (one_o, {k: v[1] for k, v in bo.items()}), (mc.tensor(x),)),
           torch.func.functional_call(base_t, (one_t, {k: v[1] for k, v in bt.items()}), (torch.tensor(x),)))
    # ensembling: vmap over the stacked weights
    ens = lambda F, base, p, b, xx: F.vmap(lambda pp, bb: F.functional_call(base, (pp, bb), (xx,)))(p, b)  # noqa
    _close(ens(mf, base_o, po, bo, mc.tensor(x)), ens(torch.func, base_t, pt, bt, torch.tensor(x)))
    for lib, F, ms, p in ((mc, mf, mo, po), (torch, torch.func, mt, pt)):
        with pytest.raises(ValueError):
            F.functional_call(ms[0], (p, p), (lib.ones(2, 3),))
        with pytest.raises(RuntimeError):
            F.stack_module_state([])


def test_replace_all_batch_norm_modules():
    for lib, F in ((mc, mf), (torch, torch.func)):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        F.replace_all_batch_norm_modules_(m)
        assert m[1].running_mean is None and m[1].track_running_stats is False
