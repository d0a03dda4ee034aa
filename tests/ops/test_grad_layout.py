"""Note [Gradient layout of a product] (_ops/linalg.py): the weight gradient of addmm/mm/linear is a row-major
array in the weight's own layout, with torch's values and graph; checked through the gradient arrays' buffer
strides (memoryview of the evaluated mx.array)."""
import mlx.core as mx
import numpy as np
import pytest
import torch as pt

import mlx_compat as torch
import mlx_compat.nn.functional as F


def _row_major(t):
    a = t._mx
    mx.eval(a)
    st = memoryview(a).strides
    item = a.itemsize
    want = []
    acc = item
    for n in reversed(a.shape):
        want.append(acc)
        acc *= n
    return all(s == w for s, w, n in zip(st, reversed(want), a.shape) if n != 1)


def _pair(shape, seed, grad=True):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(x, requires_grad=grad), pt.tensor(x, requires_grad=grad)


def _close(ours, theirs, tol=1e-5):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4), (2, 3, 5, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_weight_grad_row_major(shape, bias):
    x, xt = _pair(shape, 0)
    w, wt = _pair((3, 4), 1)
    b, bt = _pair((3,), 2) if bias else (None, None)
    y, yt = F.linear(x, w, b), pt.nn.functional.linear(xt, wt, bt)
    assert type(y.grad_fn).__name__ == type(yt.grad_fn).__name__
    assert y.shape == yt.shape and y.dtype == torch.float32
    _close(y, yt)
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape)).astype(np.float32)
    y.backward(torch.tensor(g))
    yt.backward(pt.tensor(g))
    _close(w.grad, wt.grad)
    _close(x.grad, xt.grad)
    if bias:
        _close(b.grad, bt.grad)
    assert _row_major(w.grad) and _row_major(x.grad)


def test_linear_nobias_graph_matches_torch():
    x, xt = _pair((2, 5, 4), 0)
    w, wt = _pair((3, 4), 1)
    y, yt = F.linear(x, w), pt.nn.functional.linear(xt, wt)
    names = lambda n: (type(n).__name__, [names(f) for f, _ in n.next_functions if f is not None])
    assert names(y.grad_fn) == names(yt.grad_fn)


@pytest.mark.parametrize("t1,t2", [(False, False), (False, True), (True, False), (True, True)])
def test_mm_addmm_grads_layout(t1, t2):
    a, at = _pair((4, 5) if t1 else (5, 4), 0)
    m, mt = _pair((3, 4) if t2 else (4, 3), 1)
    c, ct = _pair((3,), 2)
    A, At = (a.t(), at.t()) if t1 else (a, at)
    M, Mt = (m.t(), mt.t()) if t2 else (m, mt)
    for f, ft in ((lambda: torch.mm(A, M), lambda: pt.mm(At, Mt)),
                  (lambda: torch.addmm(c, A, M, beta=0.5, alpha=2.0), lambda: pt.addmm(ct, At, Mt, beta=0.5, alpha=2.0))):
        for t in (a, at, m, mt, c, ct):
            t.grad = None
        y, yt = f(), ft()
        assert type(y.grad_fn).__name__ == type(yt.grad_fn).__name__
        _close(y, yt)
        (y * y).sum().backward()
        (yt * yt).sum().backward()
        _close(a.grad, at.grad, 1e-4)
        _close(m.grad, mt.grad, 1e-4)
        assert _row_major(a.grad) and _row_major(m.grad)


def test_mm_double_backward():
    a, at = _pair((5, 4), 0)
    m, mt = _pair((3, 4), 1)
    y, yt = torch.mm(a, m.t()), pt.mm(at, mt.t())
    ga, = torch.autograd.grad(y.sum(), a, create_graph=True)
    gat, = pt.autograd.grad(yt.sum(), at, create_graph=True)
    gm, = torch.autograd.grad((ga * ga).sum(), m)
    gmt, = pt.autograd.grad((gat * gat).sum(), mt)
    _close(gm, gmt, 1e-4)


def test_linear_bf16():
    x, xt = _pair((2, 5, 8), 0)
    w, wt = _pair((3, 8), 1)
    xb, wb = x.detach().bfloat16().requires_grad_(), w.detach().bfloat16().requires_grad_()
    xbt, wbt = xt.detach().bfloat16().requires_grad_(), wt.detach().bfloat16().requires_grad_()
    y, yt = F.linear(xb, wb), pt.nn.functional.linear(xbt, wbt)
    assert y.dtype == torch.bfloat16
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(wb.grad.float().numpy(), wbt.grad.float().numpy(), rtol=2e-2, atol=2e-2)
    assert _row_major(wb.grad)


def test_mm_errors_unchanged():
    with pytest.raises(RuntimeError):
        torch.mm(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(RuntimeError):
        F.linear(torch.ones(2, 3), torch.ones(4, 5))


@pytest.mark.parametrize("input_t", [False, True])
@pytest.mark.parametrize("weight_t", [False, True])
def test_matmul_operator_grad_layout(input_t, weight_t):
    """`x @ w.t()` through the C operator (MmBackward0 of matmul): a column-major operand's gradient is the
    transposed product, so the leaf's .grad is row-major; values equal torch's."""
    x, xt = _pair((4, 5) if input_t else (5, 4), 10)
    w, wt = _pair((3, 4) if weight_t else (4, 3), 11)

    def fwd(a, b):
        return (a.t() if input_t else a) @ (b.t() if weight_t else b)

    (fwd(x, w) ** 2).sum().backward()
    (fwd(xt, wt) ** 2).sum().backward()
    _close(x.grad, xt.grad)
    _close(w.grad, wt.grad)
    assert _row_major(x.grad) and _row_major(w.grad)


def _graph_labels(arr, tmp_path):
    path = tmp_path / "g.dot"
    mx.export_to_dot(str(path), arr)
    import re
    return re.findall(r'label ="?([A-Za-z]+)', path.read_text())


# linear's paths: the fast path (2-D and N-D input), the checked addmm path (a bias that broadcasts), no bias
LINEAR_PATHS = [((5, 4), (3,)), ((2, 5, 4), (3,)), ((5, 4), (1,)), ((5, 4), None), ((2, 5, 4), None)]


@pytest.mark.parametrize("xshape,bshape", LINEAR_PATHS)
def test_linear_double_backward(xshape, bshape):
    """linear saves the weight rather than weight.t() (Note [Gradient layout of a product]): first and second
    derivatives through input and weight equal torch's."""
    x, xt = _pair(xshape, 0)
    w, wt = _pair((3, 4), 1)
    b, bt = _pair(bshape, 2) if bshape else (None, None)
    y, yt = F.linear(x, w, b), pt.nn.functional.linear(xt, wt, bt)
    assert type(y.grad_fn).__name__ == type(yt.grad_fn).__name__
    gx, gw = torch.autograd.grad((y * y).sum(), (x, w), create_graph=True)
    gxt, gwt = pt.autograd.grad((yt * yt).sum(), (xt, wt), create_graph=True)
    _close(gx, gxt, 1e-4)
    _close(gw, gwt, 1e-4)
    hw, hx = torch.autograd.grad((gx * gx).sum() + gw.sum(), (w, x))
    hwt, hxt = pt.autograd.grad((gxt * gxt).sum() + gwt.sum(), (wt, xt))
    _close(hw, hwt, 1e-3)
    _close(hx, hxt, 1e-3)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_has_no_transpose_pairs(bias, tmp_path):
    """A linear layer's input and weight gradients are single products: no Transpose of a Transpose in their MLX
    graphs (Note [Views that are their base], tensor.c; the saved weight of Note [Gradient layout of a product])."""
    x, _ = _pair((5, 4), 0)
    w, _ = _pair((3, 4), 1)
    b, _ = _pair((3,), 2) if bias else (None, None)
    F.linear(x, w, b).sum().backward()
    assert _graph_labels(w.grad._mx, tmp_path).count("Transpose") <= 1  # gᵀ as the product's operand
    assert "Transpose" not in _graph_labels(x.grad._mx, tmp_path)
    assert _row_major(w.grad) and _row_major(x.grad)
