"""Autograd frees memory by reference counting (Note [Autograd ownership] in csrc/autograd.c).

With the cyclic garbage collector disabled, every graph (tensors, nodes, saved values, hooks, retained
gradients, views, create_graph graphs, custom Functions' contexts) must die the moment its last reference
goes: each scenario builds a graph, drops its references and checks weakrefs to its tensors and nodes.
torch runs the same scenario and its tensors must die too (the oracle: where torch frees, we free).
A training loop of 1,000 forward+backward+update steps keeps RSS, MLX's memory and the number of live
Tensors flat, and the two 200 MB examples of issue 9 hold nothing once their loop is done.
"""
import gc
import os
import weakref

import pytest

from helpers import mc, torch

try:
    import mlx.core as mx
except ImportError:  # pragma: no cover
    mx = None


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _live_tensors(lib):
    return sum(1 for o in gc.get_objects() if issubclass(type(o), lib.Tensor))


def _rss_kb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:  # pragma: no cover
        return 0


def _active_bytes():
    if mx is None:  # pragma: no cover
        return 0
    return mx.get_active_memory()


def _cyclic_garbage():
    """Objects that only the cyclic GC would free (it is disabled while a scenario runs)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
    return found


# ---------------------------------------------------------------- scenarios: (tensor refs, node refs)


def _plain(L):
    w = L.ones(3, 3, requires_grad=True)
    y = (w * 2).exp().sum()
    refs = [weakref.ref(w), weakref.ref(y)]
    return refs, [y.grad_fn, y.grad_fn.next_functions[0][0]]


def _after_backward(L):
    w = L.ones(3, 3, requires_grad=True)
    b = L.zeros(3, requires_grad=True)
    y = (w @ L.ones(3) + b).sigmoid().sum()
    y.backward()
    return [weakref.ref(w), weakref.ref(b), weakref.ref(y), weakref.ref(w.grad)], [y.grad_fn]


def _saved_output(L):
    x = L.ones(4, requires_grad=True)
    y = x.exp()  # saves its own output
    z = y.tanh()
    return [weakref.ref(x), weakref.ref(y), weakref.ref(z)], [y.grad_fn, z.grad_fn]


def _hooks(L):
    x = L.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: g + 1)
    z = y.sum()
    z.backward(retain_graph=True)
    return [weakref.ref(x), weakref.ref(y), weakref.ref(z)], [y.grad_fn]


def _retained(L):
    x = L.ones(3, requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.sum().backward()
    assert y.grad is not None
    return [weakref.ref(x), weakref.ref(y), weakref.ref(y.grad)], [y.grad_fn]


def _views(L):
    x = L.ones(3, 4, requires_grad=True)
    y = x * 1
    v = y[0]
    v.mul_(2)
    t = y.t()
    s = t.reshape(12).sum()
    s.backward()
    return [weakref.ref(x), weakref.ref(y), weakref.ref(v), weakref.ref(t)], [y.grad_fn, v.grad_fn, s.grad_fn]


def _create_graph(L):
    x = L.ones(3, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = L.autograd.grad(y, x, create_graph=True)
    (h,) = L.autograd.grad(g.sum(), x)
    return [weakref.ref(x), weakref.ref(y), weakref.ref(g), weakref.ref(h)], [y.grad_fn, g.grad_fn]


def _fallback_op(L):
    x = L.ones(2, 3, requires_grad=True)
    y = L.flip(x, [0]).cumsum(1).sum()
    y.backward()
    return [weakref.ref(x), weakref.ref(y)], [y.grad_fn]


def _function(L, save_output):
    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            r = a.exp()
            ctx.save_for_backward(r if save_output else a)
            return r

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return g * (s if save_output else s.exp())

    x = L.ones(3, requires_grad=True)
    y = Exp.apply(x)
    z = y.sum()
    z.backward(retain_graph=True)
    refs = [weakref.ref(x), weakref.ref(y), weakref.ref(z)]
    # the class itself is a cycle (as every Python class); drop it from the check by returning it
    return refs, [y.grad_fn], Exp


SCENARIOS = {
    "plain": _plain,
    "after_backward": _after_backward,
    "saved_output": _saved_output,
    "hooks": _hooks,
    "retained_grad": _retained,
    "views_inplace": _views,
    "create_graph": _create_graph,
    "mlx_vjp_fallback": _fallback_op,
    "function_saves_input": lambda L: _function(L, False),
    "function_saves_output": lambda L: _function(L, True),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_graph_freed_by_refcount(name, no_gc):
    # torch (the oracle) frees every tensor of the scenario by refcount
    r = SCENARIOS[name](torch)
    t_refs = r[0]
    del r
    assert [ref() is None for ref in t_refs] == [True] * len(t_refs)

    r = SCENARIOS[name](mc)
    refs, nodes = r[0], r[1]
    fired = []  # weakref callbacks on the nodes fire the moment the graph goes
    node_refs = [weakref.ref(n, lambda _: fired.append(1)) for n in nodes]
    del r, nodes
    assert [ref() is None for ref in refs] == [True] * len(refs)
    assert len(fired) == len(node_refs)
    garbage = [t for t in _cyclic_garbage() if t in ("Tensor", "array") or t.endswith("Backward0")
               or t in ("AccumulateGrad", "CopySlices")]
    assert garbage == []


def test_accumulate_grad_shared_while_graph_lives(no_gc):
    """A leaf's AccumulateGrad is one node while any graph holds it (torch: the same object), and a new one
    once every graph is gone; the leaf does not keep it alive."""
    for L in (torch, mc):
        w = L.ones(2, requires_grad=True)
        y1, y2 = w * 2, w * 3
        a1, a2 = y1.grad_fn.next_functions[0][0], y2.grad_fn.next_functions[0][0]
        assert a1 is a2 or L is torch  # torch's Python wrappers of one C++ node may differ
        assert a1.variable is w
        (y1 + y2).sum().backward()
        assert w.grad.tolist() == [5.0, 5.0]
    ref = weakref.ref(a1)
    del y1, y2, a1, a2
    assert ref() is None
    assert w._grad_fn is None and w.is_leaf


def test_saved_output_keeps_graph_position_for_double_backward(no_gc):
    """An output saved by its own node refers to it weakly, yet create_graph still differentiates through it."""
    for L in (torch, mc):
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x.exp()
        (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        if L is torch:
            expect = h.tolist()
        else:
            assert h.tolist() == pytest.approx(expect, rel=1e-6)


def _train_step(L, params, x, t):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).relu()
    out = (h @ w2 + b2).log_softmax(-1)
    loss = -(out * t).sum(-1).mean()
    # a value computed with grad on and never backpropagated (a metric): its graph must go with it
    monitor = h.sigmoid().sum() * out.exp().sum()
    loss.backward()
    del monitor
    with L.no_grad():
        for p in params:
            p.sub_(0.01 * p.grad)
            p.grad = None
    return loss


def test_training_loop_memory_flat_without_gc(no_gc):
    L = mc
    L.manual_seed(0)
    params = [L.randn(16, 32, requires_grad=True), L.zeros(32, requires_grad=True),
              L.randn(32, 4, requires_grad=True), L.zeros(4, requires_grad=True)]
    x = L.randn(8, 16)
    t = L.nn.functional.one_hot(L.arange(8) % 4, 4).float()
    for _ in range(50):  # warm-up: allocator pools, caches
        _train_step(L, params, x, t)
    L.eval(*params)
    n0, rss0, mem0 = _live_tensors(L), _rss_kb(), _active_bytes()
    for i in range(1000):
        loss = _train_step(L, params, x, t)
        if i % 100 == 0:
            L.eval(*params)
    L.eval(*params)
    del loss
    n1, rss1, mem1 = _live_tensors(L), _rss_kb(), _active_bytes()
    assert n1 == n0
    assert mem1 <= mem0 + 64 * 1024
    assert rss1 - rss0 < 20 * 1024  # KB; the leaking version grew without bound (every graph kept)
    assert _cyclic_garbage().count("Tensor") == 0


@pytest.mark.parametrize("case", ["leaf_mul_sum", "exp"])
def test_issue_examples_200mb_freed(case, no_gc):
    """issue 9: 50 iterations that each build a 4 MB graph held 200 MB until the cyclic GC ran."""
    L = mc
    L.eval(L.zeros(1))
    mem0 = _active_bytes()
    n0 = _live_tensors(L)
    x = L.ones(1000, 1000, requires_grad=True) if case == "exp" else None
    for _ in range(50):
        if case == "leaf_mul_sum":
            w = L.ones(1000, 1000, requires_grad=True)
            r = (w * 2).sum()
        else:
            r = x.exp()
        L.eval(r)
    del r
    if case == "exp":
        del x
    else:
        del w
    assert _live_tensors(L) == n0
    assert _active_bytes() - mem0 < 8 * 1024 * 1024  # one 4 MB graph at most in flight, none kept
