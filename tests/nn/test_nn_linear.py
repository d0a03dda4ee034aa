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


@pytest.mark.parametrize("shapes", [((2, 3), (4, 3), (5,)), ((2, 3), (4, 3), (2, 5)), ((2, 3), (4, 3), (1, 2, 4))],
                         ids=["bias-size", "bias-2d", "bias-3d"])
@pytest.mark.parametrize("grad", [False, True])
def test_linear_bias_shape_errors(shapes, grad):
    """A bias that does not expand to the output: torch's RuntimeError and message, recorded or not."""
    errs = []
    for L in (torch, mc):
        x, w, b = (L.zeros(*s, requires_grad=grad) for s in shapes)
        with pytest.raises(Exception) as e:
            L.nn.functional.linear(x, w, b)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0]), errs


def test_addmm_input_shape_error():
    errs = []
    for L in (torch, mc):
        with pytest.raises(Exception) as e:
            L.addmm(L.ones(3, 4), L.ones(2, 3), L.ones(3, 4))
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0]), errs


# ---------------------------------------------------------------- Note [linear fast path]

_FAST_CASES = {"2d": ((4, 5), False), "3d": ((2, 3, 5), False), "4d": ((2, 1, 3, 5), False),
               "3d-noncontig": ((3, 2, 5), True), "zero-rows": ((0, 5), False)}


@pytest.mark.parametrize("case", list(_FAST_CASES))
@pytest.mark.parametrize("mode", ["no_grad", "no-requires-grad", "weight-only", "input-only"])
def test_linear_fast_path_values_views_and_nodes(case, mode):
    """Every recording state of the fast path against torch: values, whether the N-D output is a view (torch's
    _flatten_nd_linear returns one), grad_fn and its next functions, and the gradients that reach the leaves."""
    shape, transposed = _FAST_CASES[case]
    rng = np.random.default_rng(3)
    data = [rng.standard_normal(s).astype(np.float32) for s in (shape, (4, 5), (4,))]
    seen = []
    for L in (torch, mc):
        x, w, b = (L.from_numpy(d.copy()) for d in data)
        if mode == "weight-only":
            w.requires_grad_()
        elif mode == "input-only":
            x.requires_grad_()
        elif mode == "no_grad":
            w.requires_grad_(), b.requires_grad_()
        xin = x.transpose(0, 1) if transposed else x
        if mode == "no_grad":
            with L.no_grad():
                out = L.nn.functional.linear(xin, w, b)
        else:
            out = L.nn.functional.linear(xin, w, b)
        fn = out.grad_fn
        chain = None if fn is None else [type(fn).__name__] + [
            type(n).__name__ if n is not None else None for n, _ in fn.next_functions]
        grads = None
        if out.requires_grad:
            leaves = [t for t in (x, w, b) if t.requires_grad]
            grads = L.autograd.grad(out, leaves, L.ones_like(out))
        seen.append((out, out._base is not None, chain, out.requires_grad, grads))
    (t_out, t_view, t_chain, t_rg, t_g), (m_out, m_view, m_chain, m_rg, m_g) = seen
    assert_same(m_out, t_out)
    assert (m_view, m_chain, m_rg) == (t_view, t_chain, t_rg)
    if t_g is not None:
        for m, t in zip(m_g, t_g):
            assert_same(m, t)


def test_linear_fast_path_output_writes_do_not_reach_the_operands():
    """The product is a fresh value: writing into it (and into the 2-D base of an N-D output) leaves input,
    weight and bias untouched, as in torch."""
    for L in (torch, mc):
        x, w, b = L.ones(2, 3, 4), L.ones(5, 4), L.zeros(5)
        out = L.nn.functional.linear(x, w, b)
        out.add_(1)
        out._base.mul_(2) if out._base is not None else None
        assert float(out.sum()) == 30 * (4 + 1) * 2 and float(x.sum()) == 24 and float(w.sum()) == 20
        assert float(b.sum()) == 0


@pytest.mark.parametrize("what", ["weight-dtype", "bias-dtype", "inner-size", "int-input", "bias-0d", "bias-2d"])
@pytest.mark.parametrize("grad", [False, True])
def test_linear_fast_path_declines_what_it_cannot_check(what, grad):
    """Operands the fast path does not take reach the checked path: torch's exception type and message, or
    torch's values (a 0-d bias broadcasts in torch's addmm)."""
    def build(L):
        x, w, b = L.ones(2, 3, 4), L.ones(5, 4), L.ones(5)
        if what == "weight-dtype":
            w = w.double()
        elif what == "bias-dtype":
            b = b.double()
        elif what == "inner-size":
            w = L.ones(5, 3)
        elif what == "int-input":
            x, w, b = x.long(), w.long(), b.long()
        elif what == "bias-0d":
            b = L.tensor(2.0)
        elif what == "bias-2d":
            b = L.ones(3, 5)
        if grad and what != "int-input":
            w.requires_grad_()
        return L.nn.functional.linear(x, w, b)

    outcome = []
    for L in (torch, mc):
        try:
            outcome.append(build(L))
        except Exception as e:  # noqa: BLE001 - the exception itself is compared
            outcome.append(e)
    t, m = outcome
    if isinstance(t, Exception):
        assert type(m) is type(t) and str(m) == str(t), (m, t)
    else:
        assert_same(m.detach(), t.detach())


# ---------------------------------------------------------------- Note [linear in C] (csrc/ops.c)

@pytest.fixture
def no_reference(monkeypatch):
    """The C entry's Python reference replaced by one that fails the test (restored after)."""
    from mlx_compat import _C
    from mlx_compat._ops.fast import fast_path
    from mlx_compat.nn import functional as F

    def boom(*a, **k):
        raise AssertionError("the Python reference of linear ran")

    _C._register_fallback("linear", boom)
    yield
    fast_path("linear", F._linear_reference)  # registered again as at import


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (2, 1, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16", "float64"])
def test_linear_in_c_takes_inference_calls(no_reference, shape, bias, dtype):
    """Calls that record nothing never reach the Python reference, and give torch's values (half types as
    float32 products rounded once), view-ness and dtype, through nn.Linear's Parameters too."""
    rng = np.random.default_rng(5)
    data = [rng.standard_normal(s).astype(np.float32) for s in (shape, (3, 5), (3,))]
    got = []
    for L in (torch, mc):
        lin = L.nn.Linear(5, 3, bias=bias).to(getattr(L, dtype))
        with L.no_grad():
            lin.weight.copy_(L.from_numpy(data[1]))
            if bias:
                lin.bias.copy_(L.from_numpy(data[2]))
            out = lin(L.from_numpy(data[0]).to(getattr(L, dtype)))
        got.append((out, out._base is not None, out.requires_grad, out.grad_fn))
    (t, t_view, t_rg, t_fn), (m, m_view, m_rg, m_fn) = got
    assert m.dtype == getattr(mc, dtype) and tuple(m.shape) == tuple(t.shape)
    assert (m_view, m_rg, m_fn) == (t_view, t_rg, t_fn) == (bias and len(shape) > 2, False, None)
    if dtype == "float32":
        assert_same(m, t)
    else:  # half types: one rounding of the float32 product, as torch's CPU; float64: the same sums
        np.testing.assert_allclose(m.double().numpy(), t.double().numpy(), rtol=1e-12 if dtype == "float64" else 0)
