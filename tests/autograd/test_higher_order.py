"""Higher-order gradients against PyTorch 2.13.

Pins: a Hessian-vector product (grad with create_graph=True, then grad of
<g, v>) and a gradient penalty (grad of the output w.r.t. the input with
create_graph=True, a penalty on its norm, then backward into the
parameters) for a small MLP with tanh / sigmoid / softmax; backward with
create_graph=True followed by autograd.grad; second derivatives of single
ops (double backward formulas) via grad-of-grad.
"""
import numpy as np
import pytest

from ag_util import assert_grad, assert_tensor, both, leaf, leaves, randn, uniform
from helpers import mc, src_id, torch

# second-order values are sums of products of first-order terms: a little looser than GRAD
HO = dict(rtol=2e-4, atol=2e-5)


def _params(seed=0):
    g = np.random.default_rng(seed)
    shapes = [(8, 4), (8,), (6, 8), (6,), (3, 6), (3,)]
    return [(g.standard_normal(s) * 0.5).astype(np.float32) for s in shapes]


def _mlp(L, x, p):
    w1, b1, w2, b2, w3, b3 = p
    F = L.nn.functional
    h = (x @ w1.t() + b1).tanh()
    h = F.sigmoid(h @ w2.t() + b2)
    return F.softmax(h @ w3.t() + b3, dim=-1)


def _loss(L, x, p, target):
    probs = _mlp(L, x, p)
    return -(probs.log() * target).sum(-1).mean() + (probs * probs).sum() * 0.1


def _setup(seed=0):
    ps = leaves(*_params(seed))
    xt, xm = both(randn((5, 4), 10))
    tgt = np.eye(3, dtype=np.float32)[np.random.default_rng(11).integers(0, 3, 5)]
    tt, tm = both(tgt)
    return ps, (xt, xm), (tt, tm)


def test_mlp_hessian_vector_product():
    ps, (xt, xm), (tt, tm) = _setup()
    vs = [both(randn(p.shape, 100 + i)) for i, p in enumerate(_params())]
    res = []
    for k, (L, x, tgt) in enumerate(((torch, xt, tt), (mc, xm, tm))):
        p = [pp[k] for pp in ps]
        v = [vv[k] for vv in vs]
        loss = _loss(L, x, p, tgt)
        g = L.autograd.grad(loss, p, create_graph=True)
        assert all(gi.requires_grad for gi in g)
        gv = sum((gi * vi).sum() for gi, vi in zip(g, v))
        hv = L.autograd.grad(gv, p)
        res.append((loss, g, hv))
    assert_tensor(res[1][0], res[0][0])
    for m, t in zip(res[1][1], res[0][1]):
        assert_tensor(m, t, grad=True)
    for m, t in zip(res[1][2], res[0][2]):
        assert_tensor(m, t, grad=True, **HO)


def test_mlp_gradient_penalty():
    ps, (xt0, xm0), (tt, tm) = _setup(1)
    xt, xm = xt0.clone().requires_grad_(), xm0.clone().requires_grad_()
    for k, (L, x, tgt) in enumerate(((torch, xt, tt), (mc, xm, tm))):
        p = [pp[k] for pp in ps]
        out = _mlp(L, x, p)
        (gx,) = L.autograd.grad((out * tgt).sum(), x, create_graph=True)
        gnorm = ((gx * gx).sum(1) + 1e-12).sqrt()
        penalty = ((gnorm - 1) ** 2).mean()
        loss = _loss(L, x, p, tgt) + 10 * penalty
        loss.backward()
    for pt_, pm_ in ps:
        assert_grad(pm_, pt_, **HO)
    assert_grad(xm, xt, **HO)


def test_backward_create_graph_then_grad_of_grads():
    ps, (xt, xm), (tt, tm) = _setup(2)
    res = []
    for k, (L, x, tgt) in enumerate(((torch, xt, tt), (mc, xm, tm))):
        p = [pp[k] for pp in ps]
        _loss(L, x, p, tgt).backward(create_graph=True)
        gsq = sum((q.grad * q.grad).sum() for q in p)
        res.append(L.autograd.grad(gsq, p))
        for q in p:
            q.grad = None  # break the param <-> grad cycle, as torch recommends
    for m, t in zip(res[1], res[0]):
        assert_tensor(m, t, grad=True, **HO)


SECOND_ORDER = [
    lambda L, x, y: x.tanh(),
    lambda L, x, y: x.sigmoid(),
    lambda L, x, y: x.exp(),
    lambda L, x, y: (x * x + 1).log(),
    lambda L, x, y: (x * x + 1).sqrt(),
    lambda L, x, y: x.sin() * x.cos(),
    lambda L, x, y: x * y,
    lambda L, x, y: x / (y * y + 1),
    lambda L, x, y: x ** 3,
    lambda L, x, y: (x * x + 0.5) ** y,
    lambda L, x, y: 2 ** x,
    lambda L, x, y: x @ y.t(),
    lambda L, x, y: L.mm(x, y.t()).tanh(),
    lambda L, x, y: x.mean(1) * x.sum(0)[:3],
    lambda L, x, y: x.var(1),
    lambda L, x, y: x.std(0),
    lambda L, x, y: x.max(1).values ** 2,
    lambda L, x, y: L.where(x > 0, x * x, y * x),
    lambda L, x, y: x.relu() * x,
    lambda L, x, y: L.nn.functional.softmax(x, -1),
    lambda L, x, y: L.nn.functional.log_softmax(x * y, 0),
    lambda L, x, y: L.nn.functional.gelu(x),
    lambda L, x, y: L.nn.functional.gelu(x, approximate="tanh"),
    lambda L, x, y: L.nn.functional.silu(x),
    lambda L, x, y: L.nn.functional.layer_norm(x, (4,), y[0], y[1]),
    lambda L, x, y: L.nn.functional.linear(x, y, y[:, 0]).sigmoid(),
    lambda L, x, y: x.gather(1, L.tensor([[0, 1], [2, 2], [3, 0]])) ** 2,
    lambda L, x, y: L.cat([x, y]).t().reshape(-1) ** 2,
    lambda L, x, y: x.masked_fill(y > 0, 0.5) ** 2,
    lambda L, x, y: x.expand(2, 3, 4).sum(0) * x,
]


@pytest.mark.parametrize("fn", SECOND_ORDER, ids=src_id)
def test_second_derivative(fn):
    (xt, xm), (yt, ym) = leaves(randn((3, 4), 1), randn((3, 4), 2))
    res = []
    for L, x, y in ((torch, xt, yt), (mc, xm, ym)):
        out = fn(L, x, y)
        w = L.from_numpy(randn(tuple(out.shape), 3))
        g1 = L.autograd.grad((out * w).sum(), [x, y], create_graph=True, allow_unused=True)
        s = sum((gi * gi).sum() for gi in g1 if gi is not None)
        g2 = L.autograd.grad(s, [x, y], allow_unused=True)
        res.append((g1, g2))
    for m, t in zip(res[1][0] + res[1][1], res[0][0] + res[0][1]):
        if t is None:
            assert m is None
        else:
            assert_tensor(m, t, grad=True, **HO)


def test_third_order_scalar_function():
    xt, xm = leaf(uniform((4,), 0.5, 1.5, 1))
    res = []
    for L, x in ((torch, xt), (mc, xm)):
        y = (x.sin() * x.exp()).sum()
        gs = []
        for _ in range(3):
            (y,) = L.autograd.grad(y.sum(), x, create_graph=True)
            gs.append(y)
        res.append(gs)
    for m, t in zip(res[1], res[0]):
        assert_tensor(m, t, grad=True, **HO)
