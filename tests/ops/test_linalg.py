"""Linear algebra ops and torch.linalg against PyTorch 2.13.

Each case runs `fn(lib, *inputs)` with lib = torch and lib = mlx_compat on the same seeded numpy inputs,
compares every output (dtype, shape, values) and, for differentiable cases, backpropagates the same random
cotangent through every floating output and compares each input's .grad (rtol 1e-4).

Decompositions whose factors torch does not define uniquely are compared through invariants: eigenvectors and
singular vectors only up to the sign of each column (the test functions square them, or use U diag(S) Vh),
QR after normalising R's diagonal to be positive; full_matrices=True's extra singular vectors (any orthonormal
basis of the complement) by orthogonality and reconstruction. Matrices are well conditioned (A + n*I, or
X X^T + n*I for positive-definite ones).
"""
import math
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, torch

FWD = dict(rtol=1e-5, atol=1e-5)
GRAD = dict(rtol=1e-4, atol=1e-4)


def rnd(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def wc(shape, seed=0, dtype=np.float32):
    """well-conditioned square matrices (batched)."""
    n = shape[-1]
    return (rnd(shape, seed, np.float64) + n * np.eye(n)).astype(dtype)


def _flat(x):
    if isinstance(x, (tuple, list)):
        out = []
        for y in x:
            out += _flat(y)
        return out
    return [x]


def run(fn, *arrays, grad=True, fwd=FWD, gtol=GRAD, seed=7):
    """Compare fn(torch, *ins) with fn(mc, *ins); then the gradients of a random cotangent."""
    tin, min_ = [], []
    for a in arrays:
        a = np.asarray(a)
        g = grad and a.dtype.kind == "f"
        t = torch.tensor(a.copy(), requires_grad=g)
        m = mc.tensor(a.copy(), requires_grad=g)
        tin.append(t)
        min_.append(m)
    tout, mout = _flat(fn(torch, *tin)), _flat(fn(mc, *min_))
    assert len(tout) == len(mout)
    for m, t in zip(mout, tout):
        assert_same(m, t, **fwd)
    if not grad or not any(t.requires_grad for t in tin):
        return tout, mout
    r = np.random.default_rng(seed)
    tl, ml = 0, 0
    for m, t in zip(mout, tout):
        if t.requires_grad and t.dtype.is_floating_point:
            c = r.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1])
            tl = tl + (t * torch.tensor(c)).sum()
            ml = ml + (m * mc.tensor(c)).sum()
    tl.backward()
    ml.backward()
    for m, t in zip(min_, tin):
        if t.grad is None:
            assert m.grad is None
        else:
            assert m.grad is not None
            assert_same(m.grad, t.grad, **gtol)
    return tout, mout


def raises_like(fn, *arrays):
    """fn raises the same exception type in torch and mlx_compat."""
    te = me = None
    try:
        fn(torch, *[torch.tensor(np.asarray(a)) for a in arrays])
    except Exception as e:  # noqa: BLE001
        te = e
    try:
        fn(mc, *[mc.tensor(np.asarray(a)) for a in arrays])
    except Exception as e:  # noqa: BLE001
        me = e
    assert te is not None, "torch did not raise"
    assert me is not None, f"torch raised {type(te).__name__}: {te}; ours did not"
    assert isinstance(me, type(te)) or type(te).__name__ == type(me).__name__ or (
        isinstance(te, RuntimeError) and isinstance(me, RuntimeError)), (type(te), type(me), str(me))
    return te, me


# ---------------------------------------------------------------- products


PRODUCTS = [
    ("dot", lambda L, a, b: L.dot(a, b), [(5,), (5,)]),
    ("dot_method", lambda L, a, b: a.dot(b), [(5,), (5,)]),
    ("vdot", lambda L, a, b: L.vdot(a, b), [(4,), (4,)]),
    ("outer", lambda L, a, b: L.outer(a, b), [(3,), (4,)]),
    ("ger", lambda L, a, b: L.ger(a, b), [(3,), (4,)]),
    ("inner_1d", lambda L, a, b: L.inner(a, b), [(4,), (4,)]),
    ("inner_nd", lambda L, a, b: L.inner(a, b), [(2, 3, 4), (5, 4)]),
    ("mv", lambda L, a, b: L.mv(a, b), [(3, 4), (4,)]),
    ("mv_t", lambda L, a, b: a.t().mv(b), [(4, 3), (4,)]),
    ("tensordot_int", lambda L, a, b: L.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 5)]),
    ("tensordot_pairs", lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])), [(3, 2, 4), (2, 5, 3)]),
    ("tensordot_0", lambda L, a, b: L.tensordot(a, b, dims=0), [(2, 3), (4,)]),
    ("kron_2d", lambda L, a, b: L.kron(a, b), [(2, 3), (3, 2)]),
    ("kron_mixed", lambda L, a, b: L.kron(a, b), [(2, 1, 3), (3, 2)]),
    ("einsum_mm", lambda L, a, b: L.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)]),
    ("einsum_list", lambda L, a, b: L.einsum("ij,jk", [a, b]), [(3, 4), (4, 5)]),
    ("einsum_ellipsis", lambda L, a, b: L.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (4, 5)]),
    ("einsum_bcast", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), [(1, 3, 4), (2, 4, 5)]),
    ("einsum_trace", lambda L, a: L.einsum("ii", a), [(4, 4)]),
    ("einsum_diag", lambda L, a: L.einsum("ii->i", a), [(4, 4)]),
    ("einsum_implicit", lambda L, a, b: L.einsum("ba,ca", a, b), [(3, 4), (2, 4)]),
    ("einsum_sum", lambda L, a: L.einsum("ijk->j", a), [(2, 3, 4)]),
    ("einsum_outer3", lambda L, a, b, c: L.einsum("i,j,k->ijk", a, b, c), [(2,), (3,), (4,)]),
    ("einsum_ell_mid", lambda L, a: L.einsum("i...j->j...i", a), [(2, 3, 4, 5)]),
    ("einsum_spaces", lambda L, a, b: L.einsum("i j , j -> i", a, b), [(3, 4), (4,)]),
    ("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm_ab", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=2.0), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm_method", lambda L, c, a, b: c.baddbmm(a, b, alpha=-1), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("addbmm", lambda L, c, a, b: L.addbmm(c, a, b, beta=2, alpha=0.5), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ("addbmm_bcast", lambda L, c, a, b: L.addbmm(c, a, b), [(5,), (2, 3, 4), (2, 4, 5)]),
    ("addmv", lambda L, c, a, b: L.addmv(c, a, b, beta=0.5, alpha=3), [(3,), (3, 4), (4,)]),
    ("addmv_scalar", lambda L, c, a, b: c.addmv(a, b), [(), (3, 4), (4,)]),
    ("addr", lambda L, c, a, b: L.addr(c, a, b), [(3, 4), (3,), (4,)]),
    ("addr_ab", lambda L, c, a, b: L.addr(c, a, b, beta=-1.5, alpha=0.25), [(1, 4), (3,), (4,)]),
    ("addr_method", lambda L, c, a, b: c.addr(a, b), [(3, 4), (3,), (4,)]),
]


@pytest.mark.parametrize("name,fn,shapes", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products(name, fn, shapes):
    run(fn, *[rnd(s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name,fn,shapes", [p for p in PRODUCTS if not p[0].startswith(("addbmm", "baddbmm"))][:12],
                         ids=[p[0] for p in PRODUCTS if not p[0].startswith(("addbmm", "baddbmm"))][:12])
def test_products_float64(name, fn, shapes):
    run(fn, *[rnd(s, seed=i, dtype=np.float64) for i, s in enumerate(shapes)], gtol=dict(rtol=1e-7, atol=1e-9),
        fwd=dict(rtol=1e-10, atol=1e-10))


@pytest.mark.parametrize("case", [
    lambda L, a, b: L.dot(a, b), lambda L, a, b: L.einsum("i,i->", a, b), lambda L, a, b: L.outer(a, b),
    lambda L, a, b: L.kron(a, b), lambda L, a, b: L.inner(a, b), lambda L, a, b: L.tensordot(a, b, 1),
    lambda L, a, b: L.mv(a.reshape(1, 3).expand(2, 3), b),
])
def test_integer_products(case):
    run(case, np.array([1, 2, 3]), np.array([4, -5, 6]), grad=False)


def test_product_dtypes_promotion():
    # outer/kron promote (they are elementwise products); dot/mv/tensordot demand equal dtypes
    run(lambda L, a, b: L.outer(a, b), np.array([1, 2]), rnd(3), grad=False)
    run(lambda L, a, b: L.kron(a, b), np.array([1, 2]), rnd(3, dtype=np.float64), grad=False)
    for fn in (lambda L, a, b: L.dot(a, b), lambda L, a, b: L.vdot(a, b), lambda L, a, b: L.inner(a, b),
               lambda L, a, b: L.tensordot(a, b, 1), lambda L, a, b: L.mv(a.reshape(1, 3), b)):
        raises_like(fn, rnd(3), rnd(3, dtype=np.float64))


def test_beta_zero_ignores_nan_and_int_rules():
    c = np.full((3,), np.nan, dtype=np.float32)
    run(lambda L, c, a, b: L.addmv(c, a, b, beta=0), c, rnd((3, 4)), rnd(4))
    run(lambda L, c, a, b: L.addr(c, a, b, beta=0), np.full((3, 4), np.nan, np.float32), rnd(3), rnd(4))
    run(lambda L, c, a, b: L.addr(c, a, b, beta=2, alpha=3), np.ones((2, 2), np.int64), np.array([1, 2]),
        np.array([3, 4]), grad=False)
    raises_like(lambda L, c, a, b: L.addr(c, a, b, alpha=0.5), np.ones((2, 2), np.int64), np.array([1, 2]),
                np.array([3, 4]))


def test_product_inplace_and_out():
    for L in (torch, mc):
        pass
    tc, mc_c = torch.tensor(rnd((3, 5))), mc.tensor(rnd((3, 5)))
    a, b = rnd((2, 3, 4), 1), rnd((2, 4, 5), 2)
    r1 = tc.addbmm_(torch.tensor(a), torch.tensor(b), alpha=2)
    r2 = mc_c.addbmm_(mc.tensor(a), mc.tensor(b), alpha=2)
    assert r2 is mc_c
    assert_same(mc_c, tc, **FWD)
    tv, mv = torch.tensor(rnd(3)), mc.tensor(rnd(3))
    tv.addmv_(torch.tensor(rnd((3, 4), 3)), torch.tensor(rnd(4, 4)))
    mv.addmv_(mc.tensor(rnd((3, 4), 3)), mc.tensor(rnd(4, 4)))
    assert_same(mv, tv, **FWD)
    tm, mm = torch.tensor(rnd((3, 4))), mc.tensor(rnd((3, 4)))
    tm.addr_(torch.tensor(rnd(3, 1)), torch.tensor(rnd(4, 2)))
    mm.addr_(mc.tensor(rnd(3, 1)), mc.tensor(rnd(4, 2)))
    assert_same(mm, tm, **FWD)
    tb, mb = torch.tensor(rnd((2, 3, 5))), mc.tensor(rnd((2, 3, 5)))
    tb.baddbmm_(torch.tensor(a), torch.tensor(b), beta=0.5)
    mb.baddbmm_(mc.tensor(a), mc.tensor(b), beta=0.5)
    assert_same(mb, tb, **FWD)
    o_t, o_m = torch.empty(0), mc.empty(0)
    torch.mv(torch.tensor(rnd((3, 4))), torch.tensor(rnd(4)), out=o_t)
    r = mc.mv(mc.tensor(rnd((3, 4))), mc.tensor(rnd(4)), out=o_m)
    assert r is o_m
    assert_same(o_m, o_t, **FWD)
    o_t, o_m = torch.empty(0), mc.empty(0)
    torch.dot(torch.tensor(rnd(3)), torch.tensor(rnd(3, 1)), out=o_t)
    mc.dot(mc.tensor(rnd(3)), mc.tensor(rnd(3, 1)), out=o_m)
    assert_same(o_m, o_t, **FWD)


@pytest.mark.parametrize("fn,arrays", [
    (lambda L, a, b: L.dot(a, b), [rnd((2, 3)), rnd((2, 3))]),
    (lambda L, a, b: L.dot(a, b), [rnd(3), rnd(2)]),
    (lambda L, a, b: L.mv(a, b), [rnd((2, 3)), rnd(2)]),
    (lambda L, a, b: L.mv(a, b), [rnd(3), rnd(3)]),
    (lambda L, a, b: L.outer(a, b), [rnd((2, 3)), rnd(3)]),
    (lambda L, a, b: L.tensordot(a, b, 3), [rnd((2, 3)), rnd((3, 2))]),
    (lambda L, a, b: L.tensordot(a, b, ([0], [0])), [rnd((2, 3)), rnd((3, 2))]),
    (lambda L, a, b: L.einsum("ij,jk->ik", a, b), [rnd((2, 3)), rnd((4, 2))]),
    (lambda L, a, b: L.einsum("ij,jk->ik", a), [rnd((2, 3)), rnd((4, 2))]),
    (lambda L, a, b: L.einsum("ij->ik", a), [rnd((2, 3)), rnd((4, 2))]),
    (lambda L, a, b: L.einsum("ijk->i", a), [rnd((2, 3)), rnd((4, 2))]),
    (lambda L, c, a, b: L.baddbmm(c, a, b), [rnd((2, 3, 5)), rnd((2, 3, 4)), rnd((2, 3, 5))]),
    (lambda L, c, a, b: L.baddbmm(c, a, b), [rnd((2, 3, 4)), rnd((2, 3, 4)), rnd((2, 4, 5))]),
    (lambda L, c, a, b: L.addbmm(c, a, b), [rnd((3, 5)), rnd((3, 4)), rnd((2, 4, 5))]),
    (lambda L, c, a, b: L.addmv(c, a, b), [rnd(2), rnd((3, 4)), rnd(4)]),
    (lambda L, c, a, b: L.addr(c, a, b), [rnd((3, 3)), rnd(3), rnd(4)]),
    (lambda L, c, a, b: L.addr(c, a, b), [rnd((3, 4)), rnd((3, 1)), rnd(4)]),
])
def test_product_errors(fn, arrays):
    raises_like(fn, *arrays)


# ---------------------------------------------------------------- triangles, diagonals, trace


SHAPING = [
    ("tril", lambda L, a: L.tril(a), (4, 5)),
    ("tril_k", lambda L, a: L.tril(a, diagonal=-1), (2, 4, 3)),
    ("tril_kpos", lambda L, a: a.tril(2), (4, 4)),
    ("triu", lambda L, a: L.triu(a), (4, 5)),
    ("triu_k", lambda L, a: L.triu(a, 1), (2, 3, 4)),
    ("triu_kneg", lambda L, a: a.triu(diagonal=-2), (5, 3)),
    ("triu_t", lambda L, a: a.t().triu(), (3, 4)),
    ("diag_1d", lambda L, a: L.diag(a), (4,)),
    ("diag_1d_k", lambda L, a: L.diag(a, 2), (3,)),
    ("diag_1d_kneg", lambda L, a: a.diag(-1), (3,)),
    ("diag_2d", lambda L, a: L.diag(a), (3, 4)),
    ("diag_2d_k", lambda L, a: L.diag(a, 1), (3, 4)),
    ("diag_2d_kneg", lambda L, a: L.diag(a, diagonal=-2), (4, 3)),
    ("diag_embed", lambda L, a: L.diag_embed(a), (2, 3)),
    ("diag_embed_off", lambda L, a: L.diag_embed(a, offset=1, dim1=0, dim2=2), (2, 3)),
    ("diag_embed_neg", lambda L, a: a.diag_embed(-2, 2, 0), (2, 3)),
    ("diagflat", lambda L, a: L.diagflat(a), (2, 2)),
    ("diagflat_off", lambda L, a: L.diagflat(a, -1), (3,)),
    ("trace", lambda L, a: L.trace(a), (3, 4)),
    ("trace_method", lambda L, a: a.trace(), (4, 4)),
]


@pytest.mark.parametrize("name,fn,shape", SHAPING, ids=[s[0] for s in SHAPING])
def test_tri_diag(name, fn, shape):
    run(fn, rnd(shape))


def test_tri_diag_integer_and_float64():
    x = np.arange(12).reshape(3, 4)
    for fn in (lambda L, a: L.tril(a), lambda L, a: L.triu(a, 1), lambda L, a: L.diag(a), lambda L, a: L.trace(a),
               lambda L, a: L.diagflat(a), lambda L, a: L.diag_embed(a)):
        run(fn, x, grad=False)
        run(fn, x.astype(np.int32), grad=False)
        run(fn, x.astype(np.float64))
    run(lambda L, a: L.tril(a), x.astype(bool), grad=False)


def test_tri_inplace_and_errors():
    for name in ("tril_", "triu_"):
        t, m = torch.tensor(rnd((3, 3))), mc.tensor(rnd((3, 3)))
        getattr(t, name)(-1)
        r = getattr(m, name)(-1)
        assert r is m
        assert_same(m, t)
    raises_like(lambda L, a: L.tril(a), rnd(3))
    raises_like(lambda L, a: L.triu(a), rnd(()))
    raises_like(lambda L, a: L.diag(a), rnd((2, 2, 2)))
    raises_like(lambda L, a: L.trace(a), rnd(3))
    raises_like(lambda L, a: L.diag_embed(a, 0, 1, 1), rnd((2, 3)))


# ---------------------------------------------------------------- cross, cdist


def test_cross():
    run(lambda L, a, b: L.cross(a, b, dim=1), rnd((4, 3)), rnd((4, 3), 1))
    run(lambda L, a, b: L.linalg.cross(a, b), rnd((2, 4, 3)), rnd((1, 4, 3), 1))
    raises_like(lambda L, a, b: L.linalg.cross(a, b), rnd((2, 4, 3)), rnd((4, 3), 1))
    run(lambda L, a, b: L.linalg.cross(a, b, dim=0), rnd((3, 2)), rnd((3, 1), 1))
    run(lambda L, a, b: a.cross(b, dim=-1), rnd((3,)), rnd((3,), 1))
    run(lambda L, a, b: L.linalg.cross(a, b), np.array([1, 2, 3]), np.array([4, 5, -6]), grad=False)
    run(lambda L, a, b: L.linalg.cross(a, b), rnd((2, 3), dtype=np.float64), rnd((2, 3), 1, dtype=np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(lambda L, a, b: L.cross(a, b), rnd((2, 3, 3)), rnd((2, 3, 3), 1))
    raises_like(lambda L, a, b: L.linalg.cross(a, b), rnd((2,)), rnd((2,)))
    raises_like(lambda L, a, b: L.linalg.cross(a, b), rnd((3,)), rnd((3,), dtype=np.float64))
    raises_like(lambda L, a, b: L.cross(a, b, dim=0), rnd((2, 3)), rnd((2, 3)))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 0.5, math.inf])
def test_cdist(p):
    grad = p != 0.0
    run(lambda L, a, b: L.cdist(a, b, p=p), rnd((4, 3)), rnd((5, 3), 1), grad=grad)
    run(lambda L, a, b: L.cdist(a, b, p=p), rnd((2, 4, 3)), rnd((1, 5, 3), 1), grad=grad)


def test_cdist_modes():
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist", "use_mm_for_euclid_dist_if_necessary"):
        run(lambda L, a, b: L.cdist(a, b, compute_mode=mode), rnd((30, 3)), rnd((6, 3), 1),
            gtol=dict(rtol=1e-3, atol=1e-4), fwd=dict(rtol=1e-4, atol=1e-4))
    run(lambda L, a, b: L.cdist(a, b), rnd((3, 4), dtype=np.float64), rnd((2, 4), 1, dtype=np.float64))
    raises_like(lambda L, a, b: L.cdist(a, b), np.ones((2, 3), np.int64), np.ones((2, 3), np.int64))
    raises_like(lambda L, a, b: L.cdist(a, b), rnd((2, 3)), rnd((2, 4)))
    raises_like(lambda L, a, b: L.cdist(a, b), rnd(3), rnd((2, 3)))
    raises_like(lambda L, a, b: L.cdist(a, b, p=-1), rnd((2, 3)), rnd((2, 3)))
    raises_like(lambda L, a, b: L.cdist(a, b), rnd((2, 3), dtype=np.float16), rnd((2, 3), dtype=np.float16))


# ---------------------------------------------------------------- torch.linalg: norms


NORMS = [
    ("vector_2", lambda L, a: L.linalg.vector_norm(a), (3, 4)),
    ("vector_1_dim", lambda L, a: L.linalg.vector_norm(a, 1, dim=1), (3, 4)),
    ("vector_inf", lambda L, a: L.linalg.vector_norm(a, math.inf, dim=(0, 2), keepdim=True), (2, 3, 4)),
    ("vector_ninf", lambda L, a: L.linalg.vector_norm(a, -math.inf, dim=-1), (3, 4)),
    ("vector_3", lambda L, a: L.linalg.vector_norm(a, 3, dim=0), (3, 4)),
    ("vector_0", lambda L, a: L.linalg.vector_norm(a, 0), (3, 4)),
    ("vector_half", lambda L, a: L.linalg.vector_norm(a, 0.5, dim=-1, keepdim=True), (3, 4)),
    ("vector_neg", lambda L, a: L.linalg.vector_norm(a, -2, dim=1), (3, 4)),
    ("vector_dtype", lambda L, a: L.linalg.vector_norm(a, dtype=L.float64), (3, 4)),
    ("matrix_fro", lambda L, a: L.linalg.matrix_norm(a), (2, 3, 4)),
    ("matrix_nuc", lambda L, a: L.linalg.matrix_norm(a, "nuc"), (2, 3, 4)),
    ("matrix_inf", lambda L, a: L.linalg.matrix_norm(a, math.inf), (2, 3, 4)),
    ("matrix_ninf", lambda L, a: L.linalg.matrix_norm(a, -math.inf, keepdim=True), (2, 3, 4)),
    ("matrix_1", lambda L, a: L.linalg.matrix_norm(a, 1, dim=(0, 2)), (3, 2, 4)),
    ("matrix_n1", lambda L, a: L.linalg.matrix_norm(a, -1), (3, 4)),
    ("matrix_2", lambda L, a: L.linalg.matrix_norm(a, 2), (2, 3, 4)),
    ("matrix_n2", lambda L, a: L.linalg.matrix_norm(a, -2, dim=(2, 0), keepdim=True), (4, 2, 3)),
    ("norm_none", lambda L, a: L.linalg.norm(a), (2, 3, 4)),
    ("norm_vec_ord", lambda L, a: L.linalg.norm(a, 3), (5,)),
    ("norm_mat_ord", lambda L, a: L.linalg.norm(a, "nuc"), (3, 4)),
    ("norm_dim1", lambda L, a: L.linalg.norm(a, dim=1), (3, 4)),
    ("norm_dim2", lambda L, a: L.linalg.norm(a, 1, dim=(0, 1), keepdim=True), (3, 4, 2)),
]


@pytest.mark.parametrize("name,fn,shape", NORMS, ids=[n[0] for n in NORMS])
def test_norms(name, fn, shape):
    run(fn, rnd(shape), grad=name != "vector_0")


def test_norms_float64_zero_and_errors():
    run(lambda L, a: L.linalg.vector_norm(a), rnd((3, 4), dtype=np.float64), gtol=dict(rtol=1e-8, atol=1e-10))
    run(lambda L, a: L.linalg.matrix_norm(a, "nuc"), rnd((3, 4), dtype=np.float64), gtol=dict(rtol=1e-8, atol=1e-9))
    run(lambda L, a: L.linalg.vector_norm(a), np.zeros(3, np.float32))  # zero subgradient at 0
    raises_like(lambda L, a: L.linalg.vector_norm(a), np.ones(3, np.int64))
    raises_like(lambda L, a: L.linalg.matrix_norm(a, 3), rnd((2, 2)))
    raises_like(lambda L, a: L.linalg.matrix_norm(a), rnd(2))
    raises_like(lambda L, a: L.linalg.norm(a, 2), rnd((2, 2, 2)))


# ---------------------------------------------------------------- torch.linalg: inverses, determinants, solves


def test_inv_det_slogdet():
    run(lambda L, a: L.linalg.inv(a), wc((4, 4)))
    run(lambda L, a: L.linalg.inv(a), wc((2, 3, 3)))
    run(lambda L, a: L.linalg.det(a), wc((2, 3, 3)), gtol=dict(rtol=1e-4, atol=1e-3))
    run(lambda L, a: L.linalg.det(a.mT), wc((3, 3)), gtol=dict(rtol=1e-4, atol=1e-3))
    run(lambda L, a: L.linalg.slogdet(a), wc((2, 3, 3)) * np.array([1, -1], np.float32)[:, None, None])
    run(lambda L, a: L.linalg.inv(a), wc((3, 3), dtype=np.float64), gtol=dict(rtol=1e-9, atol=1e-12))
    run(lambda L, a: L.linalg.det(a), wc((3, 3), dtype=np.float64), gtol=dict(rtol=1e-9, atol=1e-9))
    t, m = run(lambda L, a: L.linalg.slogdet(a), wc((3, 3)))
    r = mc.linalg.slogdet(mc.tensor(wc((3, 3))))
    assert type(r).__name__ == "linalg_slogdet" and r.sign is r[0] and r.logabsdet is r[1]


def test_inv_higher_order():
    a = wc((3, 3), dtype=np.float64)
    ta = torch.tensor(a, requires_grad=True)
    ma = mc.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.linalg.inv(ta).sum(), ta, create_graph=True)
    (gm,) = mc.autograd.grad(mc.linalg.inv(ma).sum(), ma, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), ta)
    (ggm,) = mc.autograd.grad((gm * gm).sum(), ma)
    assert_same(ggm, ggt, rtol=1e-8, atol=1e-10)


def test_solve():
    run(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3)), rnd((3, 2), 1))
    run(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3)), rnd(3, 1))  # vector rhs
    run(lambda L, a, b: L.linalg.solve(a, b), wc((2, 3, 3)), rnd((2, 3), 1))  # batched vector rhs
    run(lambda L, a, b: L.linalg.solve(a, b), wc((2, 3, 3)), rnd((3, 4), 1))  # broadcast B
    run(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3)), rnd((2, 3, 1), 1))  # broadcast A
    run(lambda L, a, b: L.linalg.solve(a, b, left=False), wc((3, 3)), rnd((2, 3), 1))
    run(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3), dtype=np.float64), rnd((3, 2), 1, np.float64),
        gtol=dict(rtol=1e-9, atol=1e-12))
    raises_like(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3)), rnd((2, 1)))
    raises_like(lambda L, a, b: L.linalg.solve(a, b), wc((3, 3)), rnd((3, 1), dtype=np.float64))
    te, me = raises_like(lambda L, a, b: L.linalg.solve(a, b), np.zeros((2, 2), np.float32), rnd((2, 1)))
    assert isinstance(me, mc.linalg.LinAlgError)


def test_singular_inv_raises_linalg_error():
    te, me = raises_like(lambda L, a: L.linalg.inv(a), np.array([[1.0, 2.0], [2.0, 4.0]], np.float32))
    assert isinstance(me, mc.linalg.LinAlgError) and isinstance(me, RuntimeError)


@pytest.mark.parametrize("fn", [
    lambda L, a: L.linalg.inv(a), lambda L, a: L.linalg.det(a), lambda L, a: L.linalg.slogdet(a),
    lambda L, a: L.linalg.cholesky(a), lambda L, a: L.linalg.eigh(a), lambda L, a: L.linalg.matrix_power(a, 2),
])
@pytest.mark.parametrize("arr", [rnd((2, 3)), rnd(3), np.eye(3, dtype=np.int64)], ids=["nonsquare", "1d", "int"])
def test_square_input_errors(fn, arr):
    if arr.dtype == np.int64 and fn.__code__.co_consts and 2 in fn.__code__.co_consts:
        return  # matrix_power accepts integer matrices
    raises_like(fn, arr)


# ---------------------------------------------------------------- torch.linalg: decompositions


def _spd(L, x):
    n = x.shape[-1]
    return x @ x.mT + n * L.eye(n, dtype=x.dtype)


def test_cholesky():
    run(lambda L, x: L.linalg.cholesky(_spd(L, x)), rnd((3, 3)))
    run(lambda L, x: L.linalg.cholesky(_spd(L, x), upper=True), rnd((2, 4, 4)))
    run(lambda L, x: L.linalg.cholesky(_spd(L, x)), rnd((3, 3), dtype=np.float64), gtol=dict(rtol=1e-9, atol=1e-12))
    run(lambda L, x: L.linalg.cholesky_ex(_spd(L, x)), rnd((3, 3)))
    te, me = raises_like(lambda L, a: L.linalg.cholesky(a), np.array([[1.0, 2.0], [2.0, 1.0]], np.float32))
    assert str(me) == str(te) and isinstance(me, mc.linalg.LinAlgError)
    bad = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]).astype(np.float32)
    te, me = raises_like(lambda L, a: L.linalg.cholesky(a), bad)
    assert str(me) == str(te)


def test_eigh():
    # eigenvector signs are not unique: compare eigenvalues and V*V (column signs squared away)
    f = lambda L, x: (lambda r: (r.eigenvalues, r.eigenvectors * r.eigenvectors))(L.linalg.eigh(x + x.mT))  # noqa
    run(f, rnd((4, 4)))
    run(f, rnd((2, 3, 3)))
    run(f, rnd((3, 3), dtype=np.float64), gtol=dict(rtol=1e-8, atol=1e-10))
    run(lambda L, x: L.linalg.eigh(x + x.mT, UPLO="U").eigenvalues, rnd((3, 3)))
    run(lambda L, x: L.linalg.eigvalsh(x, UPLO="U"), rnd((3, 3)))  # reads one triangle only
    run(lambda L, x: L.linalg.eigvalsh(x), rnd((2, 3, 3)))
    m = mc.linalg.eigh(mc.tensor(rnd((4, 4)) + rnd((4, 4)).T))
    w, V = m
    assert_same(V.mT @ V, torch.eye(4), atol=1e-5)
    raises_like(lambda L, x: L.linalg.eigh(x, UPLO="X"), rnd((2, 2)))


def _svd_inv(L, x, full):
    U, S, Vh = L.linalg.svd(x, full_matrices=full)
    k = S.shape[-1]
    return S, (U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :], U[..., :k] * U[..., :k], Vh[..., :k, :] ** 2


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_svd(shape):
    run(lambda L, x: _svd_inv(L, x, False), rnd(shape), gtol=dict(rtol=1e-3, atol=1e-4))
    run(lambda L, x: L.linalg.svdvals(x), rnd(shape))
    # full matrices: U and Vh orthogonal, reconstruction, shapes; the complement's basis is not unique
    U, S, Vh = mc.linalg.svd(mc.tensor(rnd(shape)))
    tU, tS, tVh = torch.linalg.svd(torch.tensor(rnd(shape)))
    assert U.shape == tU.shape and Vh.shape == tVh.shape and S.shape == tS.shape
    m, n = shape[-2], shape[-1]
    assert_same(U.mT @ U, torch.eye(m).expand(tU.shape), atol=1e-5)
    assert_same(Vh @ Vh.mT, torch.eye(n).expand(tVh.shape), atol=1e-5)
    k = min(m, n)
    rec = (U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]
    assert_same(rec, torch.tensor(rnd(shape)), atol=1e-5)


def test_svd_float64_and_named():
    run(lambda L, x: _svd_inv(L, x, False), rnd((4, 3), dtype=np.float64), gtol=dict(rtol=1e-8, atol=1e-10))
    r = mc.linalg.svd(mc.tensor(rnd((3, 2))))
    assert type(r).__name__ == "linalg_svd" and r.U is r[0] and r.S is r[1] and r.Vh is r[2]


def _qr_canon(L, x, mode="reduced"):
    # R's diagonal normalised to be positive (the factorization is unique up to those signs)
    Q, R = L.linalg.qr(x, mode=mode)
    k = min(x.shape[-2], x.shape[-1])
    s = L.sign(L.diagonal(R[..., :k, :k], 0, -2, -1)).detach()
    Q = Q.clone()
    Qk = Q[..., :k] * s.unsqueeze(-2)
    Rk = R[..., :k, :] * s.unsqueeze(-1)
    return Qk, Rk


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)])
def test_qr(shape):
    run(lambda L, x: _qr_canon(L, x), rnd(shape), gtol=dict(rtol=1e-3, atol=1e-4))


def test_qr_modes():
    run(lambda L, x: _qr_canon(L, x, "complete"), rnd((3, 5)))
    run(lambda L, x: _qr_canon(L, x), rnd((4, 3), dtype=np.float64), gtol=dict(rtol=1e-8, atol=1e-10))
    x = rnd((5, 3))
    Q, R = mc.linalg.qr(mc.tensor(x), mode="complete")
    assert tuple(Q.shape) == (5, 5) and tuple(R.shape) == (5, 3)
    assert_same(Q.mT @ Q, torch.eye(5), atol=1e-5)
    assert_same(Q @ R, torch.tensor(x), atol=1e-5)
    assert_same(mc.triu(R), torch.tensor(R.numpy()))
    tq, tr = torch.linalg.qr(torch.tensor(x), mode="r")
    mq, mr = mc.linalg.qr(mc.tensor(x), mode="r")
    assert_same(mq, tq)
    assert_same(mr.abs(), tr.abs(), atol=1e-5)
    raises_like(lambda L, x: L.linalg.qr(x, mode="x"), rnd((2, 2)))


def test_lu_factor():
    x = rnd((2, 4, 4))
    t, m = run(lambda L, a: L.linalg.lu_factor(a), x)
    run(lambda L, a: L.linalg.lu_factor(a), rnd((3, 3), 2, np.float64), gtol=dict(rtol=1e-8, atol=1e-10))
    run(lambda L, a: L.linalg.lu_factor(a), rnd((3, 5)), grad=False)  # rectangular
    run(lambda L, a: L.linalg.lu_factor(a), rnd((2, 5, 3)), grad=False)
    assert m[1].dtype is mc.int32
    r = mc.linalg.lu_factor(mc.tensor(x))
    assert type(r).__name__ == "linalg_lu_factor" and r.LU is r[0] and r.pivots is r[1]


# ---------------------------------------------------------------- torch.linalg: pinv, rank, lstsq, powers


def test_pinv():
    run(lambda L, a: L.linalg.pinv(a), rnd((4, 3)), gtol=dict(rtol=1e-3, atol=1e-4))
    run(lambda L, a: L.linalg.pinv(a), rnd((2, 3, 5)), gtol=dict(rtol=1e-3, atol=1e-4))
    run(lambda L, x: L.linalg.pinv(x + x.mT, hermitian=True), rnd((3, 3)), gtol=dict(rtol=1e-3, atol=1e-4))
    low = (rnd((4, 2)) @ rnd((2, 3), 1)).astype(np.float32)  # rank 2
    run(lambda L, a: L.linalg.pinv(a), low, grad=False, fwd=dict(rtol=1e-4, atol=1e-4))
    run(lambda L, a: L.linalg.pinv(a, atol=0.5, rtol=0.1), rnd((4, 3)), grad=False)


def test_matrix_rank():
    low = (rnd((2, 5, 2)) @ rnd((2, 2, 4), 1)).astype(np.float32)
    run(lambda L, a: L.linalg.matrix_rank(a), low, grad=False)
    run(lambda L, a: L.linalg.matrix_rank(a), rnd((3, 4)), grad=False)
    run(lambda L, a: L.linalg.matrix_rank(a, atol=1.0, rtol=0.0), rnd((4, 4)), grad=False)
    run(lambda L, a: L.linalg.matrix_rank(a + a.mT, hermitian=True), rnd((4, 4)), grad=False)
    run(lambda L, a: L.linalg.matrix_rank(a), low.astype(np.float64), grad=False)


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss", "gels"])
def test_lstsq(driver):
    run(lambda L, a, b: L.linalg.lstsq(a, b, driver=driver), rnd((5, 3)), rnd((5, 2), 1),
        gtol=dict(rtol=1e-3, atol=1e-4), fwd=dict(rtol=1e-4, atol=1e-4))
    run(lambda L, a, b: L.linalg.lstsq(a, b, driver=driver).solution, rnd((2, 4, 4)) + 4 * np.eye(4, dtype=np.float32),
        rnd((2, 4, 1), 1), gtol=dict(rtol=1e-3, atol=1e-4), fwd=dict(rtol=1e-4, atol=1e-4))
    r = mc.linalg.lstsq(mc.tensor(rnd((5, 3))), mc.tensor(rnd((5, 2))))
    assert type(r).__name__ == "linalg_lstsq" and r.solution is r[0]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n):
    run(lambda L, a: L.linalg.matrix_power(a, n), wc((3, 3)) / 3, gtol=dict(rtol=1e-4, atol=1e-4))
    run(lambda L, a: L.linalg.matrix_power(a, n), wc((2, 3, 3)) / 3, gtol=dict(rtol=1e-4, atol=1e-4))


def test_matrix_power_int():
    run(lambda L, a: L.linalg.matrix_power(a, 3), np.array([[1, 2], [3, 4]]), grad=False)
    run(lambda L, a: L.linalg.matrix_power(a, 0), np.array([[1, 2], [3, 4]]), grad=False)


def test_multi_dot():
    run(lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), rnd((2, 3)), rnd((3, 4), 1), rnd((4, 2), 2))
    run(lambda L, a, b, c: L.linalg.multi_dot((a, b, c)), rnd(3), rnd((3, 4), 1), rnd(4, 2))
    run(lambda L, a, b: L.linalg.multi_dot([a, b]), rnd(3), rnd(3, 1))
    run(lambda L, a, b: L.linalg.multi_dot([a, b]), rnd((2, 3)), rnd(3, 1))
    raises_like(lambda L, a: L.linalg.multi_dot([a]), rnd((2, 2)))
    raises_like(lambda L, a, b: L.linalg.multi_dot([a, b]), rnd((2, 2, 2)), rnd((2, 2)))
    raises_like(lambda L, a, b: L.linalg.multi_dot([a, b]), rnd((2, 3)), rnd((2, 2)))


def test_linalg_out_and_namespace():
    for name in ("norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve", "cholesky", "qr", "svd",
                 "svdvals", "eigh", "eigvalsh", "pinv", "matrix_power", "matrix_rank", "lstsq", "lu_factor",
                 "cross", "multi_dot"):
        assert callable(getattr(mc.linalg, name)), name
    a = wc((3, 3))
    o_t, o_m = torch.empty(0), mc.empty(0)
    torch.linalg.inv(torch.tensor(a), out=o_t)
    r = mc.linalg.inv(mc.tensor(a), out=o_m)
    assert r is o_m
    assert_same(o_m, o_t)
    s_t, l_t = torch.empty(0), torch.empty(0)
    s_m, l_m = mc.empty(0), mc.empty(0)
    torch.linalg.slogdet(torch.tensor(a), out=(s_t, l_t))
    mc.linalg.slogdet(mc.tensor(a), out=(s_m, l_m))
    assert_same(s_m, s_t)
    assert_same(l_m, l_t)


def test_einsum_integer_and_errors():
    run(lambda L, a, b: L.einsum("ij,jk->ik", a, b), np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4),
        grad=False)
    raises_like(lambda L, a: L.einsum("ij->ji"), rnd((2, 2)))
    raises_like(lambda L, a, b: L.einsum("i,i->", a, b), np.arange(3), rnd(3))
    run(lambda L, a, b: L.einsum("i,j->ij", a, b), np.arange(3), rnd(2), grad=False)  # no contraction: promotes
    raises_like(lambda L, a: L.einsum("i$->i", a), rnd((2, 2)))


# ---------------------------------------------------------------- higher order, singular det, torch.* aliases


HIGHER = [
    ("det", lambda L, a: L.linalg.det(a), lambda: [wc((3, 3), dtype=np.float64)]),
    ("slogdet", lambda L, a: L.linalg.slogdet(a).logabsdet, lambda: [wc((3, 3), dtype=np.float64)]),
    ("solve", lambda L, a, b: L.linalg.solve(a, b), lambda: [wc((3, 3), dtype=np.float64), rnd((3, 2), 1, np.float64)]),
    ("cholesky", lambda L, a: L.linalg.cholesky(_spd(L, a)), lambda: [rnd((3, 3), dtype=np.float64)]),
    ("qr", lambda L, a: _qr_canon(L, a), lambda: [rnd((4, 3), dtype=np.float64)]),
    ("svd", lambda L, a: _svd_inv(L, a, False), lambda: [rnd((4, 3), dtype=np.float64)]),
    ("eigh", lambda L, a: (lambda r: (r[0], r[1] * r[1]))(L.linalg.eigh(a + a.mT)),
     lambda: [rnd((3, 3), dtype=np.float64)]),
    ("pinv", lambda L, a: L.linalg.pinv(a), lambda: [rnd((4, 3), dtype=np.float64)]),
    ("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), lambda: [rnd((2, 3), dtype=np.float64),
                                                                   rnd((3, 2), 1, np.float64)]),
]


@pytest.mark.parametrize("name,fn,make", HIGHER, ids=[h[0] for h in HIGHER])
def test_double_backward(name, fn, make):
    arrays = make()
    res = []
    for L in (torch, mc):
        ins = [L.tensor(a, requires_grad=True) for a in arrays]
        outs = _flat(fn(L, *ins))
        loss = sum((o * L.tensor(rnd(tuple(o.shape), 5, np.float64))).sum() for o in outs)
        gs = L.autograd.grad(loss, ins, create_graph=True)
        ggs = L.autograd.grad(sum((g * g).sum() for g in gs), ins)
        res.append(list(gs) + list(ggs))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-7, atol=1e-9)


def test_det_singular_gradient():
    # torch's first-order gradient here is its LU rounding residue of det times A^-T, which depends on the
    # CPU's LAPACK kernel; its create_graph path gives the cofactors (the derivative), which both of ours give.
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    ta = torch.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.linalg.det(ta), ta, create_graph=True)  # SVD path: the cofactors
    for create_graph in (True, False):
        ma = mc.tensor(a, requires_grad=True)
        (gm,) = mc.autograd.grad(mc.linalg.det(ma), ma, create_graph=create_graph)
        assert_same(gm, gt.detach(), rtol=1e-7, atol=1e-9)


def test_torch_aliases():
    a = wc((2, 3, 3))
    run(lambda L, x: L.det(x), a, gtol=dict(rtol=1e-4, atol=1e-3))
    run(lambda L, x: x.det(), a, gtol=dict(rtol=1e-4, atol=1e-3))
    run(lambda L, x: L.logdet(x), a * np.array([1, -1], np.float32)[:, None, None])
    run(lambda L, x: x.logdet(), a)
    run(lambda L, x: L.slogdet(x), a)
    run(lambda L, x: x.inverse(), a)
    run(lambda L, x: L.inverse(x), a)
    run(lambda L, x: L.pinverse(x), rnd((4, 3)), gtol=dict(rtol=1e-3, atol=1e-4))
    run(lambda L, x: x.matrix_power(3), a / 3)
    run(lambda L, x: L.matrix_power(x, -1), a)
    with pytest.warns(UserWarning):
        mc.chain_matmul(mc.tensor(rnd((2, 3))), mc.tensor(rnd((3, 2))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(lambda L, x, y, z: L.chain_matmul(x, y, z), rnd((2, 3)), rnd((3, 4), 1), rnd((4, 2), 2))
    r = mc.slogdet(mc.tensor(a))
    assert type(r).__name__ == "slogdet" and r.sign is r[0]
    run(lambda L, x: L.linalg.pinv(x, 1e-3), rnd((4, 3)), grad=False)


def test_einsum_sublist():
    run(lambda L, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]), rnd((2, 3)), rnd((3, 4), 1))
    run(lambda L, a, b: L.einsum(a, [Ellipsis, 1], b, [1, 2]), rnd((5, 2, 3)), rnd((3, 4), 1))
    run(lambda L, a: L.einsum(a, [0, 0]), rnd((3, 3)))


def test_low_precision_refused():
    for fn in (lambda L, x: L.linalg.inv(x), lambda L, x: L.linalg.cholesky(x)):
        raises_like(fn, np.eye(2, dtype=np.float16))


# ---------------------------------------------------------------- edge cases


@pytest.mark.parametrize("fn,shape", [
    (lambda L, x: L.linalg.inv(x), (0, 0)),
    (lambda L, x: L.linalg.det(x), (2, 0, 0)),
    (lambda L, x: L.linalg.slogdet(x), (0, 0)),
    (lambda L, x: L.linalg.cholesky(x), (0, 3, 3)),
    (lambda L, x: L.linalg.eigvalsh(x), (0, 0)),
    (lambda L, x: L.linalg.svdvals(x), (0, 3)),
    (lambda L, x: L.linalg.vector_norm(x), (0, 3)),
    (lambda L, x: L.linalg.vector_norm(x, dim=1), (0, 3)),
    (lambda L, x: L.trace(x), (0, 3)),
    (lambda L, x: L.tril(x), (0, 3)),
    (lambda L, x: L.diag(x), (0,)),
], ids=["inv", "det", "slogdet", "cholesky", "eigvalsh", "svdvals", "vnorm", "vnorm_dim", "trace", "tril", "diag"])
def test_empty(fn, shape):
    run(fn, np.zeros(shape, np.float32))


def test_norm_edges():
    run(lambda L, x: L.linalg.vector_norm(x, 2.0, dim=()), np.array([[3.0, -4.0]], np.float32))
    run(lambda L, x: L.linalg.vector_norm(x, 0.0, dim=0), np.array([0.0, 1.0, 2.0], np.float32))  # no gradient
    run(lambda L, x: L.linalg.vector_norm(x, math.inf), np.array([1.0, -1.0, 0.5], np.float32))  # ties share
    run(lambda L, x: L.linalg.vector_norm(x), np.array(3.0, np.float32))
    run(lambda L, x: L.linalg.vector_norm(x, -1.5, dim=1), np.array([[0.0, 1.0], [2.0, 3.0]], np.float32), grad=False)
    run(lambda L, x, y: L.cdist(x, y), np.array([[1.0, 2.0]], np.float32), np.array([[1.0, 2.0]], np.float32))


def test_rank_deficient_pinv_lstsq_gradients():
    # pinv/lstsq use torch's pinv_backward: finite for rank-deficient A, unlike differentiating the SVD
    run(lambda L, x: L.linalg.pinv(x), np.zeros((3, 2), np.float32))
    low = (rnd((4, 2), dtype=np.float64) @ rnd((2, 3), 1, np.float64))
    run(lambda L, x: L.linalg.pinv(x), low, gtol=dict(rtol=1e-6, atol=1e-8), fwd=dict(rtol=1e-7, atol=1e-9))
    run(lambda L, a, b: L.linalg.lstsq(a, b).solution, low, rnd((4, 2), 2, np.float64),
        gtol=dict(rtol=1e-6, atol=1e-8), fwd=dict(rtol=1e-7, atol=1e-9))


def test_vecdot_matmul():
    run(lambda L, x, y: L.linalg.vecdot(x, y), rnd((2, 3)), rnd(3, 1))
    run(lambda L, x, y: L.linalg.vecdot(x, y, dim=0), rnd((3, 2)), rnd((3, 1), 1))
    raises_like(lambda L, x, y: L.linalg.vecdot(x, y), np.arange(3), np.arange(3))
    raises_like(lambda L, x, y: L.linalg.vecdot(x, y), rnd(3), rnd(3, dtype=np.float64))
    run(lambda L, x, y: L.linalg.matmul(x, y), rnd((2, 3)), rnd((3, 4), 1))


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper, left, unit):
    a = wc((2, 3, 3))
    b = rnd((2, 3, 4) if left else (2, 4, 3), 1)
    run(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit), a, b)


def test_solve_triangular_errors():
    raises_like(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True), wc((3, 3)), rnd(3))
    raises_like(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True), wc((3, 3)), rnd((2, 2)))


def test_legacy_svd_qr_cholesky():
    def svd_inv(L, x, some):
        U, S, V = L.svd(x, some=some)
        k = S.shape[-1]
        return S, (U[..., :k] * S.unsqueeze(-2)) @ V[..., :k].mT, U[..., :k] ** 2, V[..., :k] ** 2

    run(lambda L, x: svd_inv(L, x, True), rnd((4, 3)), gtol=dict(rtol=1e-3, atol=1e-4))
    t, m = run(lambda L, x: x.svd(compute_uv=False), rnd((2, 4, 3)))
    U, S, V = mc.svd(mc.tensor(rnd((4, 3))), some=False)
    assert tuple(U.shape) == (4, 4) and tuple(V.shape) == (3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(lambda L, x: _qr_canon_legacy(L, x), rnd((4, 3)), gtol=dict(rtol=1e-3, atol=1e-4))
        run(lambda L, x: L.cholesky(_spd(L, x), upper=True), rnd((3, 3)))
        run(lambda L, x: _spd(L, x).cholesky(), rnd((3, 3)))
    with pytest.warns(UserWarning):
        mc.qr(mc.tensor(rnd((3, 3))))
    assert type(mc.svd(mc.tensor(rnd((3, 3))))).__name__ == "svd"


def _qr_canon_legacy(L, x):
    Q, R = x.qr()
    s = L.sign(L.diagonal(R, 0, -2, -1)).detach()
    return Q * s.unsqueeze(-2), R * s.unsqueeze(-1)


def test_tensordot_broadcasts_size_one_contracted_dims():
    a = np.random.default_rng(0).standard_normal((1, 1, 1)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((2, 1, 2)).astype(np.float32)
    out = []
    for L in (torch, mc):
        x, y = L.from_numpy(a.copy()).requires_grad_(), L.from_numpy(b.copy()).requires_grad_()
        r = L.tensordot(x, y, dims=([0, 1], [2, 0]))
        out.append((r,) + L.autograd.grad(r.sum(), (x, y)))
    for o, t in zip(out[1], out[0]):
        assert_same(o, t, rtol=1e-5)


@pytest.mark.parametrize("shape", [(0, 5, 5), (0, 0, 0), (3, 0), (2, 4, 0)])
def test_pinv_empty(shape):
    assert_same(mc.linalg.pinv(mc.zeros(shape)), torch.linalg.pinv(torch.zeros(shape)))
    assert_same(mc.pinverse(mc.zeros(shape)), torch.pinverse(torch.zeros(shape)))


@pytest.mark.parametrize("ord", [-0.5, -1, -2, -3.5])
def test_vector_norm_negative_ord_subgradient_at_zero(ord):
    a = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]], np.float32)
    out = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        y = L.linalg.vector_norm(x, ord, dim=1)
        out.append((y, L.autograd.grad(y.sum(), x)[0]))
    assert_same(out[1][0], out[0][0], rtol=1e-5)
    assert_same(out[1][1], out[0][1], rtol=1e-4)


# Note [Half-type products on the CPU]: a bfloat16/float16 product on the CPU is the float32 product rounded once
# to the half type (as torch's float32 accumulation gives), whichever entry makes it; values within one rounding
# of torch's, gradients too
_HALF_PRODUCTS = {
    "@": lambda L, a, w, b: a @ w.t(),
    "matmul": lambda L, a, w, b: L.matmul(a, w.t()),
    "mm": lambda L, a, w, b: L.mm(a, w.t()),
    "addmm": lambda L, a, w, b: L.addmm(b, a, w.t()),
    "addmm_scaled": lambda L, a, w, b: L.addmm(b, a, w.t(), beta=0.5, alpha=2.0),
    "addmm_beta0": lambda L, a, w, b: L.addmm(b, a, w.t(), beta=0),
    "linear": lambda L, a, w, b: L.nn.functional.linear(a, w, b),
    "linear_nd": lambda L, a, w, b: L.nn.functional.linear(a.reshape(4, 16, 40), w, b),
    "linear_nobias": lambda L, a, w, b: L.nn.functional.linear(a, w),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(_HALF_PRODUCTS))
@pytest.mark.parametrize("grad", [False, True])
def test_half_type_cpu_products_are_float32_rounded_once(dtype, name, grad):
    fn = _HALF_PRODUCTS[name]
    a, w, b = rnd((64, 40), 1), rnd((24, 40), 2), rnd((24,), 3)
    g = rnd((4, 16, 24) if name == "linear_nd" else (64, 24), 4)

    def run(L, dt, via=None):
        xs = [L.from_numpy(v).to(getattr(L, via or dt)).to(getattr(L, dt)).requires_grad_(grad) for v in (a, w, b)]
        out = fn(L, *xs)
        grads = L.autograd.grad(out, xs[:2], L.from_numpy(g).to(out.dtype)) if grad else ()
        return out, grads

    from mlx_compat import _blas
    blas = ("cblas_sgemm", "cblas_sgemv")
    before = sum(_blas.calls(r) for r in blas) if _blas.status()["active"] else None
    ours, ours_g = run(mc, dtype)
    ours.detach().float().numpy()
    if before is not None:  # Linux CPU: the float32 product is OpenBLAS's (MLX's half-type loop calls no BLAS)
        assert sum(_blas.calls(r) for r in blas) > before
    f32, _ = run(mc, "float32", via=dtype)  # the same half-type values, multiplied in float32
    assert ours.dtype == getattr(mc, dtype)
    np.testing.assert_array_equal(ours.detach().float().numpy(), f32.detach().to(getattr(mc, dtype)).float().numpy())
    ref, ref_g = run(torch, dtype)
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == "bfloat16" else dict(rtol=2e-3, atol=2e-3)
    assert_same(ours, ref, **tol)
    for o, r in zip(ours_g, ref_g):
        assert_same(o, r, rtol=2e-2, atol=5e-2)


# ---------------------------------------------------------------- Note [Exact integer products] (_ops/linalg.py)

_INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
_PRODUCT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)), ((4, 2, 3), (3, 2)),
                   ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((2, 3), (4, 3, 2)), ((4, 2, 3), (4, 3, 2)),
                   ((5, 1, 2, 3), (4, 3, 2))]


def _full_range(shape, dtype, seed):
    """Integers over the dtype's whole range (products and sums wrap in torch's kernels)."""
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", _INT_DTYPES)
@pytest.mark.parametrize("shapes", _PRODUCT_SHAPES, ids=str)
def test_integer_matmul_wraps_as_torch(dtype, shapes):
    # full-range values: every product overflows the type, and float64 products would round (int32/int64)
    a, b = _full_range(shapes[0], dtype, 1), _full_range(shapes[1], dtype, 2)
    assert_same(mc.from_numpy(a) @ mc.from_numpy(b), torch.from_numpy(a) @ torch.from_numpy(b))


@pytest.mark.parametrize("dtype", ("int32", "int64"))
def test_integer_matmul_long_inner_size(dtype):
    # an inner size past 2**21 makes the limbs narrower than 16 bits (the sums must stay below 2**53)
    k = (1 << 21) + 3
    a, b = _full_range((1, k), dtype, 3), _full_range((k, 2), dtype, 4)
    assert_same(mc.from_numpy(a) @ mc.from_numpy(b), torch.from_numpy(a) @ torch.from_numpy(b))


def _int_product_cases():
    def ones(L, dt, *shape):  # 37s (trues for bool): products and sums past the 8-bit ranges
        t = L.ones(*shape, dtype=getattr(L, dt))
        return t if dt == "bool" else t * 37

    return {
        "mm": lambda L, d: L.mm(ones(L, d, 2, 3), ones(L, d, 3, 2)),
        "bmm": lambda L, d: L.bmm(ones(L, d, 2, 2, 3), ones(L, d, 2, 3, 2)),
        "mv": lambda L, d: L.mv(ones(L, d, 2, 3), ones(L, d, 3)),
        "dot": lambda L, d: L.dot(ones(L, d, 3), ones(L, d, 3)),
        "vdot": lambda L, d: L.vdot(ones(L, d, 3), ones(L, d, 3)),
        "addmm": lambda L, d: L.addmm(ones(L, d, 2, 2), ones(L, d, 2, 3), ones(L, d, 3, 2)),
        "addmv": lambda L, d: L.addmv(ones(L, d, 2), ones(L, d, 2, 3), ones(L, d, 3)),
        "baddbmm": lambda L, d: L.baddbmm(ones(L, d, 1, 2, 2), ones(L, d, 1, 2, 3), ones(L, d, 1, 3, 2)),
        "addbmm": lambda L, d: L.addbmm(ones(L, d, 2, 2), ones(L, d, 2, 2, 3), ones(L, d, 2, 3, 2)),
        "tensordot": lambda L, d: L.tensordot(ones(L, d, 2, 3), ones(L, d, 3, 2), 1),
        "inner": lambda L, d: L.inner(ones(L, d, 2, 3), ones(L, d, 2, 3)),
        "einsum-contract": lambda L, d: L.einsum("ij,jk->ik", ones(L, d, 2, 3), ones(L, d, 3, 2)),
        "einsum-outer": lambda L, d: L.einsum("i,j->ij", ones(L, d, 2), ones(L, d, 3)),
        "einsum-sum": lambda L, d: L.einsum("ij->", ones(L, d, 2, 3)),
        "einsum-rows": lambda L, d: L.einsum("ij->i", ones(L, d, 3, 3)),
        "einsum-diagonal": lambda L, d: L.einsum("ii->i", ones(L, d, 3, 3)),
        "addr": lambda L, d: L.addr(ones(L, d, 2, 2), ones(L, d, 2), ones(L, d, 2)),
        "multi_dot": lambda L, d: L.linalg.multi_dot([ones(L, d, 2, 3), ones(L, d, 3, 2), ones(L, d, 2, 2)]),
        "linear-3d-bias": lambda L, d: L.nn.functional.linear(ones(L, d, 2, 3, 4), ones(L, d, 5, 4), ones(L, d, 5)),
        "linear": lambda L, d: L.nn.functional.linear(ones(L, d, 2, 4), ones(L, d, 5, 4)),
        "matmul-out": lambda L, d: L.matmul(ones(L, d, 2, 3), ones(L, d, 3, 2), out=L.empty(2, 2, dtype=getattr(L, d))),
    }


@pytest.mark.parametrize("dtype", ("bool",) + _INT_DTYPES + ("uint16", "uint32", "uint64"))
@pytest.mark.parametrize("case", list(_int_product_cases()))
def test_integer_and_bool_products_as_torch(case, dtype):
    """Every product op over integer and bool operands: torch's values and result dtype (a sum of small integers
    keeps their type, einsum's plain sum is int64), or torch's NotImplementedError for bool and the unsigned types
    wider than 8 bits (with the name of torch's kernel)."""
    f = _int_product_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expect = f(torch, dtype)
        except NotImplementedError as e:
            with pytest.raises(NotImplementedError) as got:
                f(mc, dtype)
            assert str(got.value) == str(e)
            return
    assert_same(f(mc, dtype), expect)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)),
                                    ((4, 2, 3), (3, 2)), ((4, 2, 3), (3,)), ((2, 3), (4, 3, 2)),
                                    ((4, 2, 3), (4, 3, 2))], ids=str)
def test_bool_matmul_raises_torch_kernel_name(shapes):
    a, b = np.ones(shapes[0], bool), np.ones(shapes[1], bool)
    with pytest.raises(NotImplementedError) as theirs:
        torch.from_numpy(a) @ torch.from_numpy(b)
    with pytest.raises(NotImplementedError) as ours:
        mc.from_numpy(a) @ mc.from_numpy(b)
    assert str(ours.value) == str(theirs.value)


def test_integer_matmul_traces_without_reading_values():
    # the limb products need no value read, so a compiled function can multiply integer tensors
    a, b = _full_range((3, 4), "int64", 5), _full_range((4, 2), "int64", 6)
    f = mc.compile(lambda x, y: (x @ y) + 1)
    for _ in range(2):
        assert_same(f(mc.from_numpy(a), mc.from_numpy(b)), torch.from_numpy(a) @ torch.from_numpy(b) + 1)


@pytest.mark.parametrize("dtypes", [("float32", "float32", "float64"), ("float32", "float64", "float32"),
                                    ("float64", "float64", "float32"), ("int64", "int32", "int64"),
                                    ("int64", "int64", "int32")], ids=str)
def test_addmm_dtype_mismatch_message(dtypes):
    def f(L):
        i, m1, m2 = (getattr(L, d) for d in dtypes)
        return L.addmm(L.ones(2, 2, dtype=i), L.ones(2, 3, dtype=m1), L.ones(3, 2, dtype=m2))

    with pytest.raises(RuntimeError) as theirs:
        f(torch)
    with pytest.raises(RuntimeError) as ours:
        f(mc)
    assert str(ours.value) == str(theirs.value)


def test_fill_diagonal_as_torch():
    # Tensor.fill_diagonal_: the strided diagonal filled in place, wrap for tall matrices, through views, with
    # torch's errors and a gradient through the write
    def run(L):
        out = []
        for shape, wrap in [((5, 3), False), ((7, 3), True), ((3, 5), True), ((3, 3, 3), False), ((8, 3), True),
                            ((4, 3), True), ((2, 2), False), ((0, 3), False)]:
            x = L.zeros(*shape)
            out.append((x.fill_diagonal_(7, wrap=wrap) is x, x.tolist()))
        base = L.zeros(6, 6)
        base[1:, 1:].fill_diagonal_(3)
        t = L.zeros(4, 4).t()
        t.fill_diagonal_(2)
        i = L.zeros(3, 3, dtype=L.int64)
        i.fill_diagonal_(5)
        out += [base.tolist(), t.tolist(), (str(i.dtype).split(".")[-1], i.tolist())]
        for bad in (lambda: L.zeros(3, 4, 3).fill_diagonal_(1), lambda: L.zeros(3).fill_diagonal_(1)):
            with pytest.raises(RuntimeError) as e:
                bad()
            out.append(str(e.value))
        w = L.ones(3, 3, requires_grad=True)
        y = w * 2
        y.fill_diagonal_(0)
        y.sum().backward()
        out.append(w.grad.tolist())
        return out

    assert run(mc) == run(torch)


@pytest.mark.parametrize("case", [
    lambda x: x.tril(2**40), lambda x: x.triu(-2**40), lambda x: x.tril(-2**40), lambda x: x.triu(2**40),
    lambda x: x.tril(-4), lambda x: x.triu(-4), lambda x: x.tril(3), lambda x: x.triu(4),
    lambda x: x.diagonal(2**40), lambda x: x.diagonal(-2**40), lambda x: x.diagonal(2**40, 1, 0),
    lambda x: x.diagonal(4), lambda x: x.diagonal(-3), lambda x: x.diagonal(3), lambda x: x.diagonal(-2),
], ids=range(15))
def test_diagonals_past_the_matrix(case):
    # offsets beyond either side keep everything or nothing (MLX takes a C int: 2**40 raised its TypeError)
    assert_same(case(mc.arange(12).reshape(3, 4)), case(torch.arange(12).reshape(3, 4)))


def test_cholesky_ex_reports_instead_of_raising():
    """torch's cholesky_ex (check_errors=False) returns LAPACK's partial factor and the failing minor's order
    instead of raising; with check_errors=True it raises LinAlgError."""
    rng = np.random.default_rng(0)
    mats = [np.array([[1.0, 2.0], [2.0, 1.0]]), np.eye(2), rng.standard_normal((2, 2)),
            np.array([[1.0, 0.0], [0.0, -1.0]])]
    batch = np.stack(mats).astype(np.float32)
    for upper in (False, True):
        theirs = torch.linalg.cholesky_ex(torch.tensor(batch), upper=upper)
        ours = mc.linalg.cholesky_ex(mc.tensor(batch), upper=upper)
        assert_same(ours.info, theirs.info)
        assert_same(ours.L, theirs.L, rtol=1e-5, atol=1e-6)
    with pytest.raises(mc.linalg.LinAlgError):
        mc.linalg.cholesky_ex(mc.tensor(mats[0]), check_errors=True)
