"""nn.functional.linear and bilinear: values, gradients (first and second order) and grad_fn names against
torch over input ranks and bias; bilinear's shape and dtype errors with torch's types and messages."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _run(fn, shapes, seed=0, dtype="float32", double_backward=False, check_name=True):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s) for s in shapes]
    res = []
    for L in (torch, mc):
        xs = [L.from_numpy(d.copy()).to(getattr(L, dtype)).requires_grad_() for d in data]
        out = fn(L, *xs)
        cot = L.from_numpy(np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))).to(out.dtype)
        grads = L.autograd.grad(out, xs, cot, create_graph=double_backward)
        second = None
        if double_backward:
            second = L.autograd.grad(sum((g * g).sum() for g in grads), xs, allow_unused=True)
        res.append((out, grads, second, type(out.grad_fn).__name__))
    (t_out, t_g, t_s, t_name), (m_out, m_g, m_s, m_name) = res
    assert m_name == t_name or not check_name
    assert_same(m_out, t_out)
    for m, t in zip(m_g, t_g):
        assert_same(m, t)
    if double_backward:
        for m, t in zip(m_s, t_s):
            assert (m is None) == (t is None)
            if t is not None:
                assert_same(m, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("x_shape", [(4, 5), (1, 5), (5,), (2, 3, 5), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    shapes = [x_shape, (3, 5)] + ([(3,)] if bias else [])
    # without a bias torch's matmul names its nodes by the route it took (SqueezeBackward4 over MmBackward0
    # for a vector), ours by the matmul kind (MvBackward0): the C core's naming, not linear's
    _run(lambda L, x, w, *b: L.nn.functional.linear(x, w, *b), shapes, check_name=bias or len(x_shape) == 2)


def test_linear_non_contiguous_input():
    _run(lambda L, x, w, b: L.nn.functional.linear(x.transpose(0, 1), w, b), [(5, 2, 4), (3, 4), (3,)])


@pytest.mark.parametrize("bias", [True, False])
def test_linear_double_backward(bias):
    shapes = [(4, 5), (3, 5)] + ([(3,)] if bias else [])
    _run(lambda L, x, w, *b: L.nn.functional.linear(x, w, *b), shapes, double_backward=True)


def test_linear_float64():
    _run(lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(4, 5), (3, 5), (3,)], dtype="float64")


def test_linear_grad_fn_chain():
    """The 2-D case with bias is one AddmmBackward0 node over the bias, the input and weight.t(), as in torch."""
    names = []
    for L in (torch, mc):
        x, w, b = L.ones(2, 3, requires_grad=True), L.ones(4, 3, requires_grad=True), L.ones(4, requires_grad=True)
        fn = L.nn.functional.linear(x, w, b).grad_fn
        names.append([type(fn).__name__] + [type(n).__name__ if n is not None else None
                                            for n, _ in fn.next_functions])
    assert names[1] == names[0]


@pytest.mark.parametrize("beta,alpha,c_shape", [(1, 1, (3,)), (0.5, 2, (4, 3)), (0, 1, (1, 3)), (2, 0.5, (4, 1))])
def test_addmm(beta, alpha, c_shape):
    _run(lambda L, c, a, b: L.addmm(c, a, b, beta=beta, alpha=alpha), [c_shape, (4, 5), (5, 3)], double_backward=True)


@pytest.mark.parametrize("shapes", [[(4, 3), (4, 2), (6, 3, 2), (6,)], [(3,), (2,), (6, 3, 2), None],
                                    [(2, 4, 3), (2, 4, 2), (6, 3, 2), (6,)], [(0, 3), (0, 2), (6, 3, 2), (6,)]])
def test_bilinear(shapes):
    # torch composes bilinear from _trilinear, sum and views (node names by route); ours is one BilinearBackward0
    _run(lambda L, a, b, w, *bb: L.nn.functional.bilinear(a, b, w, *bb), [s for s in shapes if s is not None],
         check_name=False)


@pytest.mark.parametrize("shapes,dtypes", [
    (((4, 3), (5, 2), (6, 3, 2), None), None),               # batch sizes
    (((2, 4, 3), (3, 4, 2), (6, 3, 2), None), None),         # leading batch dim
    (((2, 4, 3), (4, 2), (6, 3, 2), None), None),            # ranks
    (((4, 3), (4, 2), (6, 4, 2), None), None),               # input1 features
    (((4, 3), (4, 2), (6, 3, 5), None), None),               # input2 features
    (((4, 3), (4, 2), (6, 3, 2), (5,)), None),               # bias size
    (((4, 3), (4, 2), (6, 3, 2), (2, 6)), None),
    (((4, 3), (4, 2), (6, 3, 2, 1)), None),                  # weight rank
    (((4, 3), (5, 2), (6, 3, 2), None), ("float32", "float64", "float32")),  # dtype before shapes
    (((4, 3), (4, 2), (6, 3, 2), (6,)), ("float32", "float32", "float32", "float64")),
])
def test_bilinear_errors(shapes, dtypes):
    errs = []
    for L in (torch, mc):
        ts = [L.zeros(*s) for s in shapes if s is not None]
        if dtypes:
            ts = [t.to(getattr(L, d)) for t, d in zip(ts, dtypes)]
        with pytest.raises(Exception) as e:
            L.nn.functional.bilinear(*ts)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0]), errs
