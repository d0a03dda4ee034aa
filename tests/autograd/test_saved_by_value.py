"""Saved inputs of recorded C ops (Note [Saved inputs by value] in csrc/autograd.c): a binary op saves its inputs
as bare mx.arrays and makes the snapshot tensors only when a backward (or `_ctx`) reads them. Each case builds a
graph whose nodes save leaves, non-leaves, the same tensor twice or a scalar, and compares first and second
order gradients, and the saved values' graph positions, against torch on the same data."""
import numpy as np
import pytest

from tests.helpers import mc, torch

DATA = {
    "x": np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=np.float32),
    "y": np.array([[1.0, 2.0, -3.0], [0.25, -0.5, 4.0]], dtype=np.float32),
}


def _leaves(lib):
    return {k: lib.tensor(v, requires_grad=True) for k, v in DATA.items()}


def _graph_leaf_times_leaf(lib, t):
    return (t["x"] * t["y"]).sum()


def _graph_same_input_twice(lib, t):
    return (t["x"] * t["x"]).sum()


def _graph_non_leaf_inputs(lib, t):
    a = t["x"] * 2.0
    b = t["y"] - t["x"]
    return (a * b / (b * b + 1.0)).sum()


def _graph_scalar_operand(lib, t):
    return (3.0 / (t["x"] * t["x"] + 1.0) - t["y"] ** 2).sum()


def _graph_matmul(lib, t):
    return (t["x"] @ t["y"].mT).tanh().sum()


def _graph_input_without_grad(lib, t):
    c = lib.tensor(DATA["y"] + 1.0)  # saved by the mul, outside the graph
    return (t["x"] * c * t["x"]).sum()


def _graph_other_tensor_modified(lib, t):
    a = t["x"] * 1.0
    z = a * t["y"]
    a.add_(1.0)  # `a` is saved by value before the write: the gradient is the recorded computation's
    return z.sum()


def _ref_other_tensor_modified(lib, t):
    return (t["x"] * t["y"]).sum()


GRAPHS = [_graph_leaf_times_leaf, _graph_same_input_twice, _graph_non_leaf_inputs, _graph_scalar_operand,
          _graph_matmul, _graph_input_without_grad]


def _grads(lib, build, create_graph):
    t = _leaves(lib)
    out = build(lib, t)
    gs = lib.autograd.grad(out, [t["x"], t["y"]], create_graph=create_graph, allow_unused=True)
    if not create_graph:
        return [None if g is None else g.detach().numpy() for g in gs]
    # second order: the gradient of the gradients' sum, through the saved values' graph positions
    s = sum(g.sum() for g in gs if g is not None and g.requires_grad)
    gg = lib.autograd.grad(s, [t["x"], t["y"]], allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in gg]


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__[7:])
@pytest.mark.parametrize("create_graph", [False, True], ids=["first", "second"])
def test_gradients_match_torch(build, create_graph):
    ours, theirs = _grads(mc, build, create_graph), _grads(torch, build, create_graph)
    for o, r in zip(ours, theirs):
        assert (o is None) == (r is None)
        if o is not None:
            np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-6)


def test_saved_input_modified_later_keeps_recorded_value():
    # torch raises "modified by an inplace operation" here; ours computes the gradient of the recorded values
    # (Note [Saved values are snapshots]), which is torch's for the same computation without the write
    t = _leaves(mc)
    _graph_other_tensor_modified(mc, t).backward()
    r = _leaves(torch)
    _ref_other_tensor_modified(torch, r).backward()
    np.testing.assert_allclose(t["x"].grad.numpy(), r["x"].grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(t["y"].grad.numpy(), r["y"].grad.numpy(), rtol=1e-6)


def test_retain_graph_backward_twice_matches_torch():
    def run(lib):
        t = _leaves(lib)
        out = _graph_non_leaf_inputs(lib, t)
        out.backward(retain_graph=True)
        out.backward()
        return t["x"].grad.numpy(), t["y"].grad.numpy()

    for o, r in zip(run(mc), run(torch)):
        np.testing.assert_allclose(o, r, rtol=1e-5)


def test_saved_values_keep_graph_positions():
    # what a snapshot of each saved input carries: the leaf's AccumulateGrad, the non-leaf's grad_fn
    x, y = _leaves(mc).values()
    a = x * 2.0
    z = a * y
    saved_a, saved_y, extra = z.grad_fn._ctx
    assert extra is None
    assert saved_a.grad_fn is a.grad_fn and saved_a._version == 0
    assert saved_y.grad_fn is None and saved_y.requires_grad
    assert saved_y.dtype == y.dtype and saved_y.shape == y.shape and saved_a.shape == a.shape
    np.testing.assert_array_equal(saved_a.detach().numpy(), a.detach().numpy())
    assert z.grad_fn._ctx[0] is saved_a  # made once
    # the leaf's snapshot leads to the same AccumulateGrad as the node's edge
    (g,) = mc.autograd.grad(saved_y.sum(), [y])
    np.testing.assert_array_equal(g.numpy(), np.ones_like(DATA["y"]))
