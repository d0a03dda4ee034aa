"""Node classes and the leaf's AccumulateGrad (Note [Node types and free list], Note [Leaf accumulator] in
csrc/autograd.c): the per-name node classes are C types whose dead nodes are reused, and a leaf caches its
AccumulateGrad through a pointer the node resets. What a user sees must stay torch's: class names, modules and
reprs, `name()`, `next_functions`, a leaf's one AccumulateGrad while a graph holds it, gradients; and graphs of
any depth are freed without the cyclic GC."""
import gc
import weakref

import numpy as np
import pytest

from tests.helpers import mc, torch

X = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=np.float32)


def _graph(lib):
    w = lib.tensor(X, requires_grad=True)
    b = lib.tensor(X[::-1].copy())
    y = ((w * b).exp() + w).sum()
    return w, y


def _walk(fn):
    """Every node reachable from fn, depth first, in next_functions order (None edges skipped)."""
    out, stack = [], [fn]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed([f for f, _ in n.next_functions if f is not None]))
    return out


def test_node_classes_read_like_torch():
    _, ty = _graph(torch)
    _, my = _graph(mc)
    t_nodes, m_nodes = _walk(ty.grad_fn), _walk(my.grad_fn)
    assert [type(n).__name__ for n in m_nodes] == [type(n).__name__ for n in t_nodes]
    assert [n.name() for n in m_nodes] == [n.name() for n in t_nodes]
    for t, m in zip(t_nodes, m_nodes):
        assert type(m).__qualname__ == type(m).__name__
        assert type(m).__module__ == "builtins"
        # torch's repr: <MulBackward0 object at 0x...>
        assert repr(m).split(" object at ")[0] == repr(t).split(" object at ")[0]
        assert isinstance(m, mc._C.Node)
    assert [[nr for _, nr in n.next_functions] for n in m_nodes] == \
           [[nr for _, nr in n.next_functions] for n in t_nodes]


def test_node_class_is_one_per_name():
    w = mc.ones(2, requires_grad=True)
    assert type((w * 2).grad_fn) is type((w * 3).grad_fn)
    assert type((w * 2).grad_fn) is not type((w + 2).grad_fn)


def test_reused_nodes_start_clean():
    """Nodes come back from the free list: hooks, metadata and saved values of a dead node never reappear."""
    w = mc.ones(3, requires_grad=True)
    seen = []
    for i in range(300):  # more than the free list holds, so nodes are both reused and freshly made
        y = w * float(i)
        assert y.grad_fn.metadata == {}
        assert y.grad_fn._post_hooks == [] and y.grad_fn._pre_hooks == []
        y.grad_fn.metadata["i"] = i
        y.grad_fn.register_hook(lambda gi, go: seen.append(1))
        del y
    y = (w * 2.0).sum()
    y.backward()
    assert seen == []
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_gradients_through_reused_nodes_match_torch():
    for _ in range(3):  # the second and third rounds run on recycled nodes
        tw, ty = _graph(torch)
        mw, my = _graph(mc)
        ty.backward()
        my.backward()
        np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_accumulate_grad_outlives_its_leaf_reference():
    """The graph holds the AccumulateGrad and the AccumulateGrad holds the leaf (torch: the same), so dropping
    the user's name for the leaf keeps backward accumulating into it."""
    for lib in (torch, mc):
        w = lib.ones(2, requires_grad=True)
        y = (w * 3).sum()
        acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
        wref = weakref.ref(w)
        del w
        assert wref() is not None
        y.backward()
        assert acc.variable.grad.tolist() == [3.0, 3.0]
        del acc, y
        assert wref() is None


def test_new_accumulate_grad_after_every_graph_is_gone():
    w = mc.ones(2, requires_grad=True)
    a1 = (w * 2).grad_fn.next_functions[0][0]
    r1 = weakref.ref(a1)
    y = w * 2
    assert y.grad_fn.next_functions[0][0] is a1  # alive: the same node
    del a1, y
    assert r1() is None
    a2 = (w * 2).grad_fn.next_functions[0][0]
    assert a2.variable is w and type(a2).__name__ == "AccumulateGrad"
    assert a2.name() == "torch::autograd::AccumulateGrad"  # torch's name() of its C++ node


def test_leaf_in_a_cycle_collected_with_its_graph():
    """A leaf and its graph inside a reference cycle (the cyclic GC clears either first) are freed."""
    gc.collect()
    for _ in range(3):
        holder = {}
        w = mc.ones(2, requires_grad=True)
        y = w * 2
        holder["self"] = holder
        holder["w"], holder["y"] = w, y
        w.cycle = holder  # w -> holder -> w
        refs = [weakref.ref(w), weakref.ref(y), weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
        del holder, w, y
        gc.collect()
        assert [r() for r in refs] == [None] * 4
    w = mc.ones(2, requires_grad=True)
    (w * 5).sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_deep_graph_freed_without_recursion():
    """A 200,000-node chain frees through the trashcan (no C stack overflow), by refcount alone."""
    gc.disable()
    try:
        w = mc.ones(2, requires_grad=True)
        x = w
        for _ in range(200_000):
            x = x * 1.0
        first = weakref.ref(x.grad_fn)
        del x
        assert first() is None
    finally:
        gc.enable()
    (w * 1.0).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_custom_function_nodes_stay_python_subclasses():
    class Double(mc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    for _ in range(200):  # Python-subclass nodes are freed by CPython, never kept on the C free list
        w = mc.ones(2, requires_grad=True)
        y = Double.apply(w)
        assert type(y.grad_fn).__name__ == "DoubleBackward"
        y.sum().backward()
        assert w.grad.tolist() == [2.0, 2.0]
