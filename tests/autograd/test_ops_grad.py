"""Forward values and gradients of the tier-1 operators against PyTorch 2.13.

Every case runs `fn(torch, *inputs)` and `fn(mlx_compat, *inputs)` on inputs
built from the same seeded numpy arrays (float inputs require grad), compares
every output (dtype, shape, values, requires_grad), backpropagates the same
random cotangent through every differentiable output and compares every
input's .grad (None where torch has None). Shapes cover broadcasting,
non-contiguous inputs (.t(), transposes, strided slices), keepdim, negative
dims. Forward tolerance rtol=atol=1e-5, gradients rtol=1e-4, atol=1e-5.

Ops: add sub mul div matmul mm bmm addmm pow; relu gelu sigmoid tanh softmax
log_softmax silu; sum mean max min argmax argmin var std; gather scatter
(src, value, reduce) scatter_add index_select where masked_fill; cat stack
split chunk expand repeat flatten unflatten; conv1d/2d/3d embedding linear
dropout layer_norm batch_norm max_pool2d adaptive_avg_pool2d. Dropout and
batch_norm have their own tests (random masks; running statistics). A float64
gradcheck covers a handful of them.
"""
import numpy as np
import pytest

from ag_util import FWD, GRAD, SELFTEST, assert_grad, assert_tensor, both, leaf, randn
from helpers import assert_same, mc, src_id, torch


# ---------------------------------------------------------------- input specs

class Spec:
    def __init__(self, array, grad):
        self.array, self.grad = array, grad


def P(shape, low=0.5, high=2.0):
    """positive float input (requires grad)."""
    return ("uniform", shape, low, high, True)


def C(shape):
    """float input that does not require grad."""
    return ("normal", shape, None, None, False)


def I(values):  # noqa: E743
    """integer (int64) constant."""
    return Spec(np.asarray(values, dtype=np.int64), False)


def B(values):
    """bool constant."""
    return Spec(np.asarray(values, dtype=bool), False)


def A(values, grad=True):
    """explicit float32 values."""
    return Spec(np.asarray(values, dtype=np.float32), grad)


def _materialize(spec, seed):
    if isinstance(spec, Spec):
        return spec.array, spec.grad
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
        kind, shape, lo, hi, grad = spec
        g = np.random.default_rng(seed)
        if kind == "uniform":
            return g.uniform(lo, hi, size=shape).astype(np.float32), grad
        return g.standard_normal(shape).astype(np.float32), grad
    if isinstance(spec, tuple):  # a shape
        return randn(spec, seed), True
    if isinstance(spec, np.ndarray):
        return spec, spec.dtype.kind in "fc"
    raise TypeError(spec)


def _outputs(r):
    if isinstance(r, (tuple, list)):
        return list(r)
    return [r]


def check_op(fn, *specs, grad=True, seed=0, fwd_tol=None, grad_tol=None):
    """Run fn on torch and mlx_compat inputs built from the same arrays; compare outputs and grads."""
    tins, mins = [], []
    for i, s in enumerate(specs):
        arr, rg = _materialize(s, seed + 17 * i)
        t, m = both(arr)
        if rg and grad:
            t.requires_grad_(True)
            m.requires_grad_(True)
        tins.append(t)
        mins.append(m)
    rt = fn(torch, *tins)
    rm = fn(mc, *mins)
    outs_t, outs_m = _outputs(rt), _outputs(rm)
    assert len(outs_m) == len(outs_t), f"{len(outs_m)} outputs, torch {len(outs_t)}"
    for name in ("values", "indices"):
        if isinstance(rt, tuple) and hasattr(rt, name):  # torch.return_types
            assert hasattr(rm, name), f"result lacks .{name}"
            assert_same(getattr(rm, name), getattr(rt, name), **(fwd_tol or FWD))
    ftol = dict(FWD, **(fwd_tol or {}))
    for k, (m, t) in enumerate(zip(outs_m, outs_t)):
        assert isinstance(m, mc.Tensor), f"output {k}: {type(m).__name__}"
        assert_same(m, t, **ftol)
        assert m.requires_grad == t.requires_grad, f"output {k}: requires_grad {m.requires_grad} != {t.requires_grad}"
    if not grad:
        return rt, rm
    diff = [(k, t) for k, t in enumerate(outs_t) if t.requires_grad]
    if diff:
        cots_t, cots_m = [], []
        for k, t in diff:
            ct, cm = both(randn(tuple(t.shape), 1000 + k), t.dtype)
            cots_t.append(ct)
            cots_m.append(cm)
        torch.autograd.backward([t for _, t in diff], cots_t)
        mc.autograd.backward([outs_m[k] for k, _ in diff], cots_m)
    gtol = dict(GRAD, **(grad_tol or {}))
    for i, (m, t) in enumerate(zip(mins, tins)):
        if t.requires_grad:
            try:
                assert_grad(m, t, **gtol)
            except AssertionError as e:
                raise AssertionError(f"grad of input {i}: {e}") from None
    return rt, rm


def _shape_txt(specs):
    out = []
    for s in specs:
        if isinstance(s, Spec):
            out.append(f"{s.array.dtype}{list(s.array.shape)}")
        elif isinstance(s, tuple) and s and isinstance(s[0], str):
            out.append(("P" if s[0] == "uniform" else "C") + str(list(s[1])))
        else:
            out.append(str(list(s)))
    return ",".join(out)


def case(fn, *specs, **kw):
    return pytest.param(fn, specs, kw, id=f"{src_id(fn, 80)}|{_shape_txt(specs)}")


def run_cases(cases):
    return pytest.mark.parametrize("fn,specs,kw", cases)


# ---------------------------------------------------------------- arithmetic

ARITH = [
    case(lambda L, a, b: a + b, (3, 4), (3, 4)),
    case(lambda L, a, b: a + b, (3, 1, 4), (5, 4)),
    case(lambda L, a, b: a + b, (), (2, 3)),
    case(lambda L, a, b: L.add(a, b, alpha=2), (3, 4), (4,)),
    case(lambda L, a: a + 2.5, (3, 4)),
    case(lambda L, a: 2.5 + a, (3, 4)),
    case(lambda L, a, b: a.t() + b, (4, 3), (3, 4)),
    case(lambda L, a, b: a[:, ::2] + b, (3, 8), (3, 4)),
    case(lambda L, a, b: a.add(b), (2, 3), C((2, 3))),
    case(lambda L, a, b: a - b, (3, 4), (3, 4)),
    case(lambda L, a, b: a - b, (3, 1, 4), (5, 4)),
    case(lambda L, a, b: L.sub(a, b, alpha=0.5), (2, 3), (3,)),
    case(lambda L, a: 1 - a, (3, 4)),
    case(lambda L, a, b: a.t() - b[1:], (4, 3), (4, 4)),
    case(lambda L, a, b: a * b, (3, 4), (3, 4)),
    case(lambda L, a, b: a * b, (2, 1, 4), (3, 1)),
    case(lambda L, a: a * 3, (3, 4)),
    case(lambda L, a: a * a, (3, 4)),
    case(lambda L, a, b: L.mul(a.t(), b.t()), (4, 3), (4, 3)),
    case(lambda L, a, b: a / b, (3, 4), P((3, 4))),
    case(lambda L, a, b: a / b, (2, 3, 4), P((4,))),
    case(lambda L, a: a / 2, (3, 4)),
    case(lambda L, b: 2 / b, P((3, 4))),
    case(lambda L, a, b: L.div(a, b), (3, 4), P((3, 1))),
    case(lambda L, a, b: a.t() / b, (4, 3), P((3, 4))),
    case(lambda L, a, b: L.div(a, b, rounding_mode="floor"), (3, 4), P((3, 4)), grad=False),
    case(lambda L, a, b: L.div(a, b, rounding_mode="trunc"), (3, 4), P((3, 4)), grad=False),
    case(lambda L, a, b: a @ b, (3, 4), (4, 5)),
    case(lambda L, a, b: a @ b, (4,), (4,)),
    case(lambda L, a, b: a @ b, (4,), (4, 5)),
    case(lambda L, a, b: a @ b, (3, 4), (4,)),
    case(lambda L, a, b: a @ b, (2, 3, 4), (4, 5)),
    case(lambda L, a, b: a @ b, (2, 1, 3, 4), (5, 4, 2)),
    case(lambda L, a, b: L.matmul(a.t(), b), (4, 3), (4, 2)),
    # a matrix broadcast over the other's batch: its gradient is one folded product (Note [matmul folds
    # broadcast operands]), here through a transposed batch as multi-head attention's in-projection has it
    case(lambda L, a, b: a.transpose(0, 1) @ b, (2, 5, 4), (4, 3)),
    case(lambda L, a, b: a @ b, (3, 4), (2, 4, 5)),
    case(lambda L, a, b: a @ b, (3, 4), (2, 1, 4, 5)),
    case(lambda L, a, w, c: L.nn.functional.linear(a.transpose(0, 1), w, c), (2, 5, 4), (3, 4), (3,)),
    case(lambda L, a, b: L.mm(a, b), (3, 4), (4, 5)),
    case(lambda L, a, b: L.mm(a.t(), b.t()), (4, 3), (5, 4)),
    case(lambda L, a, b: a.mm(b), (1, 4), (4, 1)),
    case(lambda L, a, b: L.bmm(a, b), (2, 3, 4), (2, 4, 5)),
    case(lambda L, a, b: L.bmm(a.transpose(1, 2), b), (2, 4, 3), (2, 4, 5)),
    case(lambda L, a, b: a.bmm(b[:, :, 1:]), (3, 2, 4), (3, 4, 3)),
    case(lambda L, c, a, b: L.addmm(c, a, b), (5,), (3, 4), (4, 5)),
    case(lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2), (3, 5), (3, 4), (4, 5)),
    case(lambda L, c, a, b: c.addmm(a.t(), b), (3, 1), (4, 3), (4, 5)),
    case(lambda L, a: a ** 2, (3, 4)),
    case(lambda L, a: a ** 3.0, (3, 4)),
    case(lambda L, a: a ** 0.5, P((3, 4))),
    case(lambda L, a: a ** -1, P((3, 4))),
    case(lambda L, a: a ** 0, (3, 4)),
    case(lambda L, a: a.pow(2), (3, 4)),
    case(lambda L, a: 2 ** a, (3, 4)),
    case(lambda L, a: 0.5 ** a, (3, 4)),
    case(lambda L, a: L.pow(2.0, a), (3, 4)),
    case(lambda L, a, b: a ** b, P((3, 4)), (3, 4)),
    case(lambda L, a, b: L.pow(a, b), P((3, 4)), (4,)),
    case(lambda L, a, b: a.t() ** b, P((4, 3)), (3, 1)),
]


@run_cases(ARITH)
def test_arithmetic(fn, specs, kw):
    check_op(fn, *specs, **kw)


# ---------------------------------------------------------------- activations

RELU_ZEROS = A([[0.0, 1.0, -1.0, 0.0], [2.0, 0.0, -3.0, 0.5]])

ACTIVATIONS = [
    case(lambda L, a: L.nn.functional.relu(a), (3, 4)),
    case(lambda L, a: L.relu(a), (2, 3, 4)),
    case(lambda L, a: a.relu(), (3, 4)),
    case(lambda L, a: L.nn.functional.relu(a), RELU_ZEROS),
    case(lambda L, a: L.nn.functional.relu(a.t()), (4, 3)),
    case(lambda L, a: L.nn.functional.gelu(a), (3, 4)),
    case(lambda L, a: L.nn.functional.gelu(a, approximate="none"), (2, 3, 4)),
    case(lambda L, a: L.nn.functional.gelu(a, approximate="tanh"), (3, 4)),
    case(lambda L, a: L.nn.functional.gelu(a * 4, approximate="tanh"), (3, 4)),
    case(lambda L, a: L.sigmoid(a), (3, 4)),
    case(lambda L, a: L.nn.functional.sigmoid(a * 5), (3, 4)),
    case(lambda L, a: a.sigmoid(), (3, 4)),
    case(lambda L, a: L.tanh(a), (3, 4)),
    case(lambda L, a: L.nn.functional.tanh(a.t()), (4, 3)),
    case(lambda L, a: a.tanh(), (3, 4)),
    case(lambda L, a: L.nn.functional.softmax(a, dim=-1), (3, 4)),
    case(lambda L, a: L.nn.functional.softmax(a, dim=0), (3, 4)),
    case(lambda L, a: L.nn.functional.softmax(a, dim=1), (2, 3, 4)),
    case(lambda L, a: L.nn.functional.softmax(a.t(), dim=0), (4, 3)),
    case(lambda L, a: L.nn.functional.softmax(a * 50, dim=-1), (3, 4)),
    case(lambda L, a: L.softmax(a, -1), (3, 4)),
    case(lambda L, a: a.softmax(1), (2, 3, 4)),
    case(lambda L, a: L.nn.functional.softmax(a, dim=-1, dtype=L.float64), (3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a, dim=-1), (3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a, dim=0), (3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a, dim=-2), (2, 3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a * 50, dim=-1), (3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a.t(), dim=1), (4, 3)),
    case(lambda L, a: L.log_softmax(a, 1), (3, 4)),
    case(lambda L, a: a.log_softmax(-1), (3, 4)),
    case(lambda L, a: L.nn.functional.log_softmax(a, dim=1, dtype=L.float64), (3, 4)),
    case(lambda L, a: L.nn.functional.silu(a), (3, 4)),
    case(lambda L, a: L.nn.functional.silu(a[:, 1:]), (2, 3, 5)),
]


@run_cases(ACTIVATIONS)
def test_activations(fn, specs, kw):
    check_op(fn, *specs, **kw)


# ---------------------------------------------------------------- reductions

TIES = A([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, -5.0], [-1.0, -1.0, -1.0, 4.0]])

REDUCTIONS = [
    case(lambda L, a: a.sum(), (3, 4)),
    case(lambda L, a: a.sum(0), (3, 4)),
    case(lambda L, a: a.sum(-1, keepdim=True), (3, 4)),
    case(lambda L, a: a.sum((0, 2)), (2, 3, 4)),
    case(lambda L, a: a.sum(dim=(-1, -2), keepdim=True), (2, 3, 4)),
    case(lambda L, a: L.sum(a, dim=1), (2, 3, 4)),
    case(lambda L, a: a.t().sum(0), (4, 3)),
    case(lambda L, a: a.sum(dtype=L.float64), (3, 4)),
    case(lambda L, a: a.sum(), ()),
    case(lambda L, a: a.mean(), (3, 4)),
    case(lambda L, a: a.mean(1), (3, 4)),
    case(lambda L, a: a.mean(-2, keepdim=True), (2, 3, 4)),
    case(lambda L, a: a.mean((0, -1)), (2, 3, 4)),
    case(lambda L, a: L.mean(a[:, ::2], dim=0), (3, 8)),
    case(lambda L, a: a.max(), (3, 4)),
    case(lambda L, a: a.max(dim=1), (3, 4)),
    case(lambda L, a: a.max(1, keepdim=True), (3, 4)),
    case(lambda L, a: L.max(a, -1), (2, 3, 4)),
    case(lambda L, a: a.max(dim=0).values, (3, 4)),
    case(lambda L, a: a.t().max(-2), (4, 3)),
    case(lambda L, a, b: L.max(a, b), (3, 4), (4,)),
    case(lambda L, a: a.min(), (3, 4)),
    case(lambda L, a: a.min(dim=0), (3, 4)),
    case(lambda L, a: a.min(-1, keepdim=True), (2, 3, 4)),
    case(lambda L, a: L.min(a, 1).indices, (3, 4)),
    case(lambda L, a, b: L.min(a, b), (3, 4), (3, 1)),
    case(lambda L, a: a.max(), TIES),  # torch spreads the gradient evenly over ties
    case(lambda L, a: a.min(), TIES),
    case(lambda L, a: a.max(dim=1), TIES),
    case(lambda L, a: a.min(dim=0), TIES),
    case(lambda L, a: a.argmax(), (3, 4)),
    case(lambda L, a: a.argmax(dim=1), (3, 4)),
    case(lambda L, a: a.argmax(1, keepdim=True), (3, 4)),
    case(lambda L, a: L.argmax(a, 0), (2, 3, 4)),
    case(lambda L, a: a.argmin(), (3, 4)),
    case(lambda L, a: a.argmin(-1), (2, 3, 4)),
    case(lambda L, a: L.argmin(a, dim=0, keepdim=True), (3, 4)),
    case(lambda L, a: a.argmax(1), TIES),
    case(lambda L, a: a.argmin(0), TIES),
    case(lambda L, a: a.var(), (3, 4)),
    case(lambda L, a: a.var(0), (3, 4)),
    case(lambda L, a: a.var(1, keepdim=True), (3, 4)),
    case(lambda L, a: a.var(unbiased=False), (3, 4)),
    case(lambda L, a: a.var(1, False), (3, 4)),
    case(lambda L, a: a.var(dim=1, correction=0), (3, 4)),
    case(lambda L, a: a.var(-1, correction=2), (2, 3, 5)),
    case(lambda L, a: L.var(a, dim=(0, 1)), (2, 3, 4)),
    case(lambda L, a: a.t().var(0), (4, 3)),
    case(lambda L, a: a.std(), (3, 4)),
    case(lambda L, a: a.std(0), (3, 4)),
    case(lambda L, a: a.std(-1, keepdim=True), (2, 3, 4)),
    case(lambda L, a: a.std(unbiased=False), (3, 4)),
    case(lambda L, a: a.std(dim=0, correction=0), (3, 4)),
    case(lambda L, a: L.std(a, dim=(0, 2), keepdim=True), (2, 3, 4)),
]


@run_cases(REDUCTIONS)
def test_reductions(fn, specs, kw):
    check_op(fn, *specs, **kw)


def test_max_dim_returns_named_tuple():
    xt, xm = leaf(randn((3, 4)))
    for fn in (lambda x: x.max(1), lambda x: x.min(dim=0), lambda x: x.max(-1, keepdim=True)):
        rt, rm = fn(xt), fn(xm)
        assert type(rm).__name__ == type(rt).__name__
        assert len(rm) == 2
        v, i = rm
        assert_same(v, rt.values)
        assert_same(i, rt.indices)
        assert_same(rm[0], rt[0])
        assert_same(rm.indices, rt[1])
        assert rm.values.requires_grad and not rm.indices.requires_grad


# ---------------------------------------------------------------- indexing

IDX_ROWS = I([[0, 2], [3, 1], [1, 1]])            # (3, 2), duplicates in the last row
IDX_PERM = I([[0, 2], [3, 1], [1, 0]])            # (3, 2), distinct per row
IDX_COLS = I([[0, 1, 2, 0], [2, 2, 0, 1]])        # (2, 4) for dim 0 of a (3, 4)
MASK = B([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
MASK_ROW = B([True, False, False, True])

INDEXING = [
    case(lambda L, a, i: L.gather(a, 1, i), (3, 4), IDX_ROWS),
    case(lambda L, a, i: a.gather(0, i), (3, 4), IDX_COLS),
    case(lambda L, a, i: a.gather(-1, i), (3, 4), I([[3, 3, 3], [0, 0, 1], [2, 1, 0]])),
    case(lambda L, a, i: a.t().gather(1, i), (3, 4), I([[0], [2], [1], [2]])),
    case(lambda L, a, i: L.gather(a, 2, i), (2, 3, 4), I(np.zeros((2, 3, 2), np.int64) + [1, 3])),
    case(lambda L, a, i, s: a.scatter(1, i, s), (3, 4), IDX_PERM, (3, 2)),
    case(lambda L, a, i, s: L.scatter(a, 0, i, s), (3, 4), I([[0, 1, 2, 0]]), (1, 4)),
    # src larger than index: forward only (torch 2.13's ScatterBackward0 itself rejects the src gradient shape)
    case(lambda L, a, i, s: L.scatter(a, 1, i, s), (3, 4), IDX_PERM, (3, 3), grad=False),
    case(lambda L, a, i, s: a.scatter(0, i, s), (3, 4), I([[0, 1, 2, 0]]), (2, 4), grad=False),
    case(lambda L, a, i: a.scatter(1, i, 2.5), (3, 4), IDX_PERM),
    case(lambda L, a, i: L.scatter(a, -1, i, -1.0), (3, 4), IDX_ROWS),
    case(lambda L, a, i, s: a.scatter(1, i, s, reduce="add"), (3, 4), IDX_ROWS, (3, 2), grad=False),
    case(lambda L, a, i, s: a.scatter(1, i, s, reduce="multiply"), (3, 4), IDX_ROWS, (3, 2), grad=False),
    case(lambda L, a, i: a.scatter(1, i, 2.0, reduce="add"), (3, 4), IDX_ROWS, grad=False),
    case(lambda L, a, i: a.scatter(1, i, 2.0, reduce="multiply"), (3, 4), IDX_ROWS, grad=False),
    case(lambda L, a, i, s: a.scatter_add(1, i, s), (3, 4), IDX_ROWS, (3, 2)),
    case(lambda L, a, i, s: L.scatter_add(a, 0, i, s), (3, 4), IDX_COLS, (2, 4)),
    case(lambda L, a, i: a.index_select(0, i), (3, 4), I([2, 0, 2])),
    case(lambda L, a, i: L.index_select(a, 1, i), (3, 4), I([3, 1])),
    case(lambda L, a, i: a.index_select(-1, i), (2, 3, 4), I([0, 0, 3, 1, 3])),
    case(lambda L, a, i: a.t().index_select(0, i), (4, 3), I([1])),
    case(lambda L, c, a, b: L.where(c, a, b), MASK, (3, 4), (3, 4)),
    case(lambda L, c, a, b: L.where(c, a, b), MASK_ROW, (3, 4), (4,)),
    case(lambda L, c, a: L.where(c, a, 0.0), MASK, (3, 4)),
    case(lambda L, c, a: L.where(c, 1.5, a), MASK, (3, 4)),
    case(lambda L, c, a, b: a.where(c, b), MASK, (3, 4), (3, 1)),
    case(lambda L, a, b: L.where(a > 0, a, b), (3, 4), (3, 4)),
    case(lambda L, a, m: a.masked_fill(m, 0.0), (3, 4), MASK),
    case(lambda L, a, m: a.masked_fill(m, -1.5), (2, 3, 4), MASK_ROW),
    case(lambda L, a, m: L.masked_fill(a, m, 2), (3, 4), MASK),
    case(lambda L, a, m, v: a.masked_fill(m, v), (3, 4), MASK, A(2.0)),  # 0-d value requiring grad
    case(lambda L, a, m: a.t().masked_fill(m, 1.0), (4, 3), MASK),
]


@run_cases(INDEXING)
def test_indexing_ops(fn, specs, kw):
    check_op(fn, *specs, **kw)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_arg_backward_outcome(reduce):
    # scatter(..., reduce=) : whatever torch does on backward (a gradient or an error), ours does too
    (at, am), (st, sm) = leaf(randn((3, 4), 1)), leaf(randn((3, 2), 2))
    it, im = both(np.array([[0, 2], [3, 1], [1, 1]], np.int64))
    et = em = None
    try:
        at.scatter(1, it, st, reduce=reduce).sum().backward()
    except Exception as e:  # noqa: BLE001
        et = e
    try:
        am.scatter(1, im, sm, reduce=reduce).sum().backward()
    except Exception as e:  # noqa: BLE001
        em = e
    if et is not None:
        assert em is not None and isinstance(em, type(et)), f"torch raised {et!r}; ours {em!r}"
    else:
        assert em is None, f"torch succeeded; ours raised {em!r}"
        assert_grad(am, at)
        assert_grad(sm, st)


# ---------------------------------------------------------------- shapes

SHAPES = [
    case(lambda L, a, b: L.cat([a, b]), (2, 3), (4, 3)),
    case(lambda L, a, b: L.cat([a, b], 1), (3, 2), (3, 4)),
    case(lambda L, a, b, c: L.cat([a, b, c], -1), (2, 1), (2, 3), (2, 2)),
    case(lambda L, a, b: L.cat((a.t(), b), dim=0), (3, 2), (1, 3)),
    case(lambda L, a, b: L.cat([a, b], 0), (3, 4), C((2, 4))),
    case(lambda L, a, b: L.stack([a, b]), (3, 4), (3, 4)),
    case(lambda L, a, b: L.stack([a, b], 1), (3, 4), (3, 4)),
    case(lambda L, a, b, c: L.stack((a, b, c), dim=-1), (2, 3), (2, 3), (2, 3)),
    case(lambda L, a, b: L.stack([a.t(), b[:, ::2]]), (4, 3), (3, 8)),
    case(lambda L, a: a.split(2), (5, 3)),
    case(lambda L, a: a.split([1, 3], dim=1), (2, 4)),
    case(lambda L, a: L.split(a, 2, -1), (2, 3, 5)),
    case(lambda L, a: a.split(2)[1], (5, 3)),
    case(lambda L, a: a.t().split([2, 1, 1]), (3, 4)),
    case(lambda L, a: a.chunk(3), (5, 3)),
    case(lambda L, a: a.chunk(2, -1), (3, 4)),
    case(lambda L, a: L.chunk(a, 2, 1)[0], (2, 5)),
    case(lambda L, a: a.expand(3, 4), (3, 1)),
    case(lambda L, a: a.expand(2, 3, 4), (4,)),
    case(lambda L, a: a.expand(-1, 4), (3, 1)),
    case(lambda L, a, b: a.expand_as(b), (1, 4), C((3, 4))),
    case(lambda L, a: a.t().expand(2, 4, 3), (3, 4)),
    case(lambda L, a: a.repeat(2, 3), (3, 4)),
    case(lambda L, a: a.repeat(2, 1, 1), (3, 4)),
    case(lambda L, a: a.repeat(3), (4,)),
    case(lambda L, a: a.t().repeat(1, 2), (3, 4)),
    case(lambda L, a: a.flatten(), (2, 3, 4)),
    case(lambda L, a: a.flatten(1), (2, 3, 4)),
    case(lambda L, a: L.flatten(a, 0, 1), (2, 3, 4)),
    case(lambda L, a: a.t().flatten(), (3, 4)),
    case(lambda L, a: a.flatten(-2, -1), (2, 3, 4)),
    case(lambda L, a: a.unflatten(1, (2, 3)), (4, 6)),
    case(lambda L, a: a.unflatten(-1, (2, -1)), (3, 4)),
    case(lambda L, a: L.unflatten(a, 0, (2, 2)), (4, 3)),
    case(lambda L, a: a.t().unflatten(0, (2, 2)), (3, 4)),
]


@run_cases(SHAPES)
def test_shape_ops(fn, specs, kw):
    check_op(fn, *specs, **kw)


# ---------------------------------------------------------------- nn.functional

NN = [
    case(lambda L, x, w, b: L.nn.functional.conv1d(x, w, b), (2, 3, 10), (4, 3, 3), (4,)),
    case(lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, stride=2), (2, 3, 10), (4, 3, 3), (4,)),
    case(lambda L, x, w: L.nn.functional.conv1d(x, w, padding=1), (2, 3, 10), (4, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv1d(x, w, padding="same"), (2, 3, 9), (4, 3, 4)),
    case(lambda L, x, w: L.nn.functional.conv1d(x, w, padding="valid"), (2, 3, 9), (4, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv1d(x, w, dilation=2, padding=2), (2, 3, 10), (4, 3, 3)),
    case(lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, groups=2), (2, 4, 10), (6, 2, 3), (6,)),
    case(lambda L, x, w: L.nn.functional.conv1d(x.transpose(1, 2), w), (2, 10, 3), (4, 3, 3)),
    case(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b), (2, 3, 7, 7), (4, 3, 3, 3), (4,)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, stride=2), (2, 3, 7, 7), (4, 3, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, stride=(2, 1), padding=(1, 2)), (1, 3, 6, 5), (2, 3, 3, 3)),
    case(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1), (2, 3, 5, 5), (4, 3, 3, 3), (4,)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, padding="same"), (2, 3, 6, 6), (4, 3, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, padding="same"), (1, 2, 6, 5), (3, 2, 2, 4)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, padding="same", dilation=2), (1, 2, 7, 7), (3, 2, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, padding="valid"), (2, 3, 6, 6), (4, 3, 2, 2)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, dilation=2), (1, 3, 8, 8), (2, 3, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, dilation=(1, 2), padding=(0, 1)), (1, 3, 6, 8), (2, 3, 3, 3)),
    case(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, groups=3, padding=1), (2, 3, 6, 6), (6, 1, 3, 3), (6,)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w, groups=2, stride=2), (1, 4, 7, 7), (4, 2, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x.transpose(2, 3), w), (2, 3, 6, 5), (4, 3, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv2d(x, w), (3, 6, 6), (2, 3, 3, 3)),  # unbatched CHW
    case(lambda L, x, w, b: L.nn.functional.conv3d(x, w, b), (1, 2, 5, 5, 5), (3, 2, 3, 3, 3), (3,)),
    case(lambda L, x, w: L.nn.functional.conv3d(x, w, stride=2, padding=1), (2, 2, 5, 5, 5), (3, 2, 3, 3, 3)),
    case(lambda L, x, w: L.nn.functional.conv3d(x, w, padding="same"), (1, 2, 4, 5, 4), (2, 2, 3, 2, 3)),
    case(lambda L, x, w: L.nn.functional.conv3d(x, w, groups=2), (1, 4, 4, 4, 4), (4, 2, 2, 2, 2)),
    case(lambda L, x, w: L.nn.functional.conv3d(x, w, dilation=2), (1, 2, 6, 6, 6), (2, 2, 2, 2, 2)),
    case(lambda L, i, w: L.nn.functional.embedding(i, w), I([[1, 2, 4], [4, 3, 9]]), (10, 4)),
    case(lambda L, i, w: L.nn.functional.embedding(i, w), I([0, 5, 5, 5, 2]), (6, 3)),
    case(lambda L, i, w: L.nn.functional.embedding(i, w, padding_idx=0), I([[0, 2, 0], [1, 0, 2]]), (3, 5)),
    case(lambda L, i, w: L.nn.functional.embedding(i, w.t()), I([[1], [3]]), (2, 4)),
    case(lambda L, x, w, b: L.nn.functional.linear(x, w, b), (3, 4), (5, 4), (5,)),
    case(lambda L, x, w: L.nn.functional.linear(x, w), (3, 4), (5, 4)),
    case(lambda L, x, w, b: L.nn.functional.linear(x, w, b), (2, 3, 4), (5, 4), (5,)),
    case(lambda L, x, w, b: L.nn.functional.linear(x, w.t(), b), (3, 4), (4, 2), (2,)),
    case(lambda L, x, w, b: L.nn.functional.linear(x, w, b), (4,), (3, 4), (3,)),
    case(lambda L, x: L.nn.functional.dropout(x, 0.3, training=False), (3, 4)),
    case(lambda L, x: L.nn.functional.dropout(x, 0.0, training=True), (3, 4)),
    case(lambda L, x, w, b: L.nn.functional.layer_norm(x, (5,), w, b), (3, 4, 5), (5,), (5,)),
    case(lambda L, x, w, b: L.nn.functional.layer_norm(x, (4, 5), w, b), (2, 4, 5), (4, 5), (4, 5)),
    case(lambda L, x: L.nn.functional.layer_norm(x, [4]), (3, 4)),
    case(lambda L, x, w: L.nn.functional.layer_norm(x, (4,), w, eps=1e-3), (3, 4), (4,)),
    case(lambda L, x, w, b: L.nn.functional.layer_norm(x.t(), (3,), w, b), (3, 4), (3,), (3,)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 2), (2, 3, 8, 8)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 3, stride=2, padding=1), (2, 2, 7, 7)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 2, stride=1, dilation=2), (1, 2, 6, 6)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 2, stride=2, ceil_mode=True), (1, 2, 7, 7)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 1, 8, 8)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, (2, 3), stride=(1, 2)), (1, 2, 5, 7)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True), (2, 2, 6, 6)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True, ceil_mode=True), (1, 2, 6, 6)),
    case(lambda L, x: L.nn.functional.max_pool2d(x, 2), (3, 6, 6)),  # unbatched
    case(lambda L, x: L.nn.functional.max_pool2d(x.transpose(2, 3), 2), (1, 2, 6, 4)),
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1), (2, 3, 8, 8)),
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 3)), (2, 3, 8, 9)),
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (3, 3)), (1, 2, 7, 7)),  # overlapping windows
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (4, 4)), (1, 2, 8, 8)),
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (None, 2)), (1, 2, 5, 6)),
    case(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 3), (2, 5, 5)),  # unbatched
]


@run_cases(NN)
def test_nn_functional(fn, specs, kw):
    check_op(fn, *specs, **kw)


# ---------------------------------------------------------------- dropout (random masks differ: check properties)

@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_train_scaling_mask_and_grad(p):
    x_np = np.random.default_rng(0).uniform(0.5, 1.5, size=(100, 100)).astype(np.float32)  # no zeros
    for L in (torch, mc):
        x = L.from_numpy(x_np.copy()).requires_grad_()
        out = L.nn.functional.dropout(x, p, training=True)
        assert out.shape == x.shape and str(out.dtype) == "torch.float32" and out.requires_grad
        o = out.detach().numpy()
        kept = o != 0
        np.testing.assert_allclose(o[kept], x_np[kept] / (1 - p), rtol=1e-5, atol=1e-6)
        frac = 1 - kept.mean()
        assert abs(frac - p) < 0.03, f"{L.__name__}: dropped fraction {frac} for p={p}"
        g = np.random.default_rng(1).standard_normal((100, 100)).astype(np.float32)
        out.backward(L.from_numpy(g.copy()))
        np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / (1 - p), 0), rtol=1e-5, atol=1e-6)


def test_dropout_eval_is_identity_and_p_one_zeros():
    xt, xm = leaf(randn((4, 5)))
    for L, x in ((torch, xt), (mc, xm)):
        assert_same(L.nn.functional.dropout(x, 0.5, training=False).detach(), xt.detach())
        out = L.nn.functional.dropout(x, 1.0, training=True)
        assert float(out.detach().abs().sum()) == 0.0
        out.sum().backward()
        assert float(x.grad.abs().sum()) == 0.0


def test_dropout_default_is_training_and_masks_vary():
    for L in (torch, mc):
        x = L.ones(1000)
        a = L.nn.functional.dropout(x)  # training=True, p=0.5 by default
        b = L.nn.functional.dropout(x)
        assert 0.4 < float((a == 0).float().mean()) < 0.6
        assert not bool((a == b).all())


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p_raises(p):
    from helpers import assert_raises_same
    xt, xm = leaf(randn((3,)))
    assert_raises_same(lambda: torch.nn.functional.dropout(xt, p), lambda: mc.nn.functional.dropout(xm, p))


# ---------------------------------------------------------------- batch_norm (running statistics)

def _bn_inputs(shape, seed=0):
    c = shape[1]
    g = np.random.default_rng(seed)
    x = g.standard_normal(shape).astype(np.float32) * 2 + 0.5
    w = g.uniform(0.5, 1.5, c).astype(np.float32)
    b = g.standard_normal(c).astype(np.float32)
    rm = g.standard_normal(c).astype(np.float32) * 0.1
    rv = g.uniform(0.5, 2.0, c).astype(np.float32)
    return x, w, b, rm, rv


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4), (2, 2, 2, 3, 3)], ids=str)
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_training_updates_running_stats(shape, momentum):
    x, w, b, rm, rv = _bn_inputs(shape)
    (xt, xm), (wt, wm), (bt, bm) = leaf(x), leaf(w), leaf(b)
    (rmt, rmm), (rvt, rvm) = both(rm), both(rv)
    g = randn(shape, 9)
    outs = []
    for L, xx, ww, bb, m_, v_ in ((torch, xt, wt, bt, rmt, rvt), (mc, xm, wm, bm, rmm, rvm)):
        out = L.nn.functional.batch_norm(xx, m_, v_, ww, bb, training=True, momentum=momentum, eps=1e-5)
        out.backward(L.from_numpy(g.copy()))
        outs.append(out)
    assert_tensor(outs[1], outs[0])
    assert_same(rmm, rmt)  # updated in place: mean with momentum
    assert_same(rvm, rvt)  # ... and the unbiased batch variance
    for m, t in ((xm, xt), (wm, wt), (bm, bt)):
        assert_grad(m, t)


def test_batch_norm_running_stats_are_updated_in_place():
    x, w, b, rm, rv = _bn_inputs((4, 3))
    for L in (torch, mc):
        m_, v_ = L.from_numpy(rm.copy()), L.from_numpy(rv.copy())
        m_id, v_id = id(m_), id(v_)
        L.nn.functional.batch_norm(L.from_numpy(x.copy()), m_, v_, training=True)
        assert id(m_) == m_id and id(v_) == v_id
        assert not np.allclose(m_.numpy(), rm) and not np.allclose(v_.numpy(), rv)


def test_batch_norm_eval_uses_running_stats():
    shape = (4, 3, 2, 2)
    x, w, b, rm, rv = _bn_inputs(shape)
    (xt, xm), (wt, wm), (bt, bm) = leaf(x), leaf(w), leaf(b)
    (rmt, rmm), (rvt, rvm) = both(rm), both(rv)
    g = randn(shape, 9)
    outs = []
    for L, xx, ww, bb, m_, v_ in ((torch, xt, wt, bt, rmt, rvt), (mc, xm, wm, bm, rmm, rvm)):
        out = L.nn.functional.batch_norm(xx, m_, v_, ww, bb, training=False, eps=1e-3)
        out.backward(L.from_numpy(g.copy()))
        outs.append(out)
    assert_tensor(outs[1], outs[0])
    np.testing.assert_array_equal(rmm.numpy(), rm)
    np.testing.assert_array_equal(rvm.numpy(), rv)
    for m, t in ((xm, xt), (wm, wt), (bm, bt)):
        assert_grad(m, t)


def test_batch_norm_training_without_running_stats_or_affine():
    shape = (5, 3, 4)
    x = _bn_inputs(shape)[0]
    xt, xm = leaf(x)
    g = randn(shape, 9)
    outs = []
    for L, xx in ((torch, xt), (mc, xm)):
        out = L.nn.functional.batch_norm(xx, None, None, training=True)
        out.backward(L.from_numpy(g.copy()))
        outs.append(out)
    assert_tensor(outs[1], outs[0])
    assert_grad(xm, xt)


# ---------------------------------------------------------------- float64 gradcheck

GRADCHECK = [
    ("mm", lambda L, a, b: L.mm(a, b), [(3, 4), (4, 2)]),
    ("tanh_sigmoid", lambda L, a: a.tanh() * a.sigmoid(), [(3, 4)]),
    ("softmax", lambda L, a: L.nn.functional.softmax(a, -1), [(3, 4)]),
    ("log_softmax", lambda L, a: L.nn.functional.log_softmax(a, 0), [(3, 4)]),
    ("gelu_tanh", lambda L, a: L.nn.functional.gelu(a, approximate="tanh"), [(5,)]),
    ("var", lambda L, a: a.var(1), [(3, 4)]),
    ("conv2d", lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1, stride=2), [(1, 2, 5, 5), (2, 2, 3, 3)]),
    ("layer_norm", lambda L, x, w, b: L.nn.functional.layer_norm(x, (4,), w, b), [(2, 4), (4,), (4,)]),
    ("max_pool2d", lambda L, x: L.nn.functional.max_pool2d(x, 2), [(1, 1, 4, 4)]),
    ("gather", lambda L, a: a.gather(1, L.tensor([[0, 0], [2, 1]])), [(2, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck_float64(name, fn, shapes):
    arrays = [randn(s, i, np.float64) for i, s in enumerate(shapes)]
    for L in (torch, mc):
        xs = tuple(L.from_numpy(a.copy()).requires_grad_() for a in arrays)
        assert L.autograd.gradcheck(lambda *a: fn(L, *a), xs, eps=1e-6, atol=1e-5, rtol=1e-3) is True


def test_abs_of_complex_is_differentiable():
    """|z| of a complex tensor records AbsBackward0 (grad * sgn(z), 0 at z = 0) as torch."""
    out = []
    for L in (torch, mc):
        z = L.tensor([1 + 2j, 3 - 1j, 0j], requires_grad=True)
        y = z.abs()
        assert y.requires_grad and type(y.grad_fn).__name__ == "AbsBackward0"
        out.append(L.autograd.grad((y * L.tensor([1.0, 2.0, 3.0])).sum(), z)[0])
    assert_same(out[1], out[0])


def test_contiguous_of_a_view_keeps_autograd():
    out = []
    for L in (torch, mc):
        x = L.arange(6.0).reshape(2, 3).requires_grad_()
        y = x.t().contiguous()
        assert y.requires_grad and type(y.grad_fn).__name__ == "CloneBackward0"
        out.append(L.autograd.grad((y * L.arange(6.0).reshape(3, 2)).sum(), x)[0])
    assert_same(out[1], out[0])


def test_where_gradient_selects_rather_than_multiplies():
    """An inf cotangent on the branch not taken must not become nan (torch selects the gradient)."""
    out = []
    for L in (torch, mc):
        x = L.tensor([0.0, 1.0, 4.0], requires_grad=True)
        y = L.where(x > 0, x, L.ones(3))
        z = (1 / (y - 1).abs().clamp_min(0) ** 0.5)  # inf cotangent at the masked-out position 0... and at x=1
        out.append(L.autograd.grad(z.sum(), x)[0])
    assert_same(out[1], out[0])


@pytest.mark.parametrize("form", ["relu", "relu_", "F.relu inplace", "channels-last"])
def test_relu_gradient_selects_rather_than_multiplies(form):
    """torch's threshold_backward: an inf or nan cotangent where relu is inactive (or at 0) gives 0, not nan; a nan
    input passes its cotangent; the same with create_graph, and a second derivative through it."""
    out = []
    for L in (torch, mc):
        base = L.tensor([[-1.0, 2.0, 0.0, float("nan")], [3.0, -0.5, 1.0, 0.0]])
        x = (base.reshape(1, 2, 2, 2) if form == "channels-last" else base).requires_grad_()
        if form == "relu":
            y = L.relu(x)
        elif form == "relu_":
            y = (x * 1).relu_()
        elif form == "F.relu inplace":
            y = L.nn.functional.relu(x * 1, inplace=True)
        else:  # between two convolutions (on a GPU, where relu's result and cotangent carry the channels-last hint,
            # the select runs in N...C order: tests/nn/test_nn_gradient_layout.py's blocks take that path)
            w = L.tensor([[1.0, -1.0], [0.5, 2.0]]).reshape(2, 2, 1, 1)
            y = L.nn.functional.conv2d(L.relu(L.nn.functional.conv2d(x, w, padding=1)), w)[..., 1:3, 1:3]
        cot = L.tensor([float("nan"), float("inf"), float("-inf"), 3.0, 1.0, float("nan"), 2.0, float("inf")])
        # without create_graph (mlx_compat: one select) and with it (a differentiable masked_fill)
        plain = L.autograd.grad(y, x, cot.reshape(y.shape), retain_graph=True)[0]
        graph = L.autograd.grad(y, x, cot.reshape(y.shape), create_graph=True)[0]
        # a second derivative through relu's backward: d/dx sum(relu(x)^2)' = 2 * (x > 0)
        xf = x.nan_to_num()
        g2 = L.autograd.grad(L.relu(xf).pow(2).sum(), xf, create_graph=True)[0]
        out.append((plain, graph, g2, L.autograd.grad(g2.sum(), xf)[0]))
    for ours, theirs in zip(out[1], out[0]):
        assert_same(ours, theirs)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_gradients_select(op):
    """torch's maximum/minimum backward: ties split the gradient, the losing operand's share is selected away (an
    inf or nan cotangent gives it 0, not nan), a NaN operand sends the gradient to both; broadcast operands."""
    out = []
    for L in (torch, mc):
        a = L.tensor([1.0, 2.0, 3.0, float("nan"), 5.0], requires_grad=True)
        b = L.tensor([[2.0, 2.0, 1.0, 0.0, float("nan")]], requires_grad=True)
        cot = L.tensor([[float("inf"), 4.0, float("nan"), 1.0, 2.0], [1.0, -float("inf"), 3.0, 2.0, 1.0]])
        out.append(L.autograd.grad(getattr(L, op)(a, b.expand(2, 5)), (a, b), cot))
    for ours, theirs in zip(out[1], out[0]):
        assert_same(ours, theirs)


@pytest.mark.parametrize("op", ["mul", "rmul", "div", "rdiv", "add", "sub"])
def test_complex_python_scalar_operand_gradients(op):
    out = []
    for L in (torch, mc):
        z = L.tensor([1 + 1j, -2 + 0.5j], requires_grad=True)
        c = 1 - 2j
        y = {"mul": lambda: z * c, "rmul": lambda: c * z, "div": lambda: z / c, "rdiv": lambda: c / z,
             "add": lambda: z + c, "sub": lambda: c - z}[op]()
        out.append(L.autograd.grad(y, z, L.tensor([2 + 3j, -1j]))[0])
    assert_same(out[1], out[0], rtol=1e-5)


def test_float64_exp_extremes_and_softmax_with_minus_inf():
    """float64 exp keeps subnormals and inf, and its gradient stays finite where a softmax row holds -inf."""
    out = []
    for L in (torch, mc):
        z = L.tensor([-720.0, 710.0, -1e4, 3.0, -744.4, -700.0, -709.5], dtype=L.float64, requires_grad=True)
        e = z.exp()
        ge = L.autograd.grad(e.sum(), z)[0]
        x = L.tensor([[1.0, 2.0, -float("inf")], [800.0, 0.0, -1000.0]], dtype=L.float64, requires_grad=True)
        y = L.softmax(x, 1)
        gx = L.autograd.grad((y * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum(), x)[0]
        out.append((e, ge, y, gx))
    for o, t in zip(out[1], out[0]):
        assert_same(o, t, rtol=1e-15, atol=0)


def test_matmul_broadcast_matrix_gradient_is_one_folded_product():
    """Note [matmul folds broadcast operands]: the gradient of a matrix broadcast over a (256, 4) batch is one
    (64 x 1024) @ (1024 x 512) product; a per-batch product summed afterwards would first hold 256 x 64 x 512
    floats (32 MiB). Equal to torch's, and MLX's peak memory stays far below that intermediate."""
    import mlx.core as mx

    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 256, 64)).astype(np.float32)  # transposed below to a (256, 4) batch
    B = rng.standard_normal((64, 512)).astype(np.float32)
    grads = []
    for L in (torch, mc):
        a, b = L.from_numpy(A.copy()), L.from_numpy(B.copy()).requires_grad_()
        if L is mc:
            mc.eval(a, b)
            mx.reset_peak_memory()
        (gb,) = L.autograd.grad((a.transpose(0, 1) @ b).sum(), (b,))
        if L is mc:
            mc.eval(gb)
            peak = mx.get_peak_memory()
        grads.append(gb)
    assert_same(grads[1], grads[0], rtol=1e-5, atol=1e-4)
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"
