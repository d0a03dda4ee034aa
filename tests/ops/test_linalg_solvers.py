"""LU/Cholesky/triangular solvers, matrix_exp, Householder products and the rest of torch.linalg
(mlx_compat/_ops/linalg_solvers.py): values, gradients and errors against torch."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch


def _pair(*shapes, seed=0, spd=False):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return arrs


def _run(fn, arrays, grad=True, tol=1e-4):
    """fn(L, *tensors) under torch and mlx_compat; compares outputs and the gradient of sum(out * w)."""
    res = []
    for L in (torch, mc):
        xs = [L.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
        out = fn(L, *xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        grads = None
        if grad:
            diff = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
            loss = sum(((o * (1 + L.arange(o.numel(), dtype=o.dtype).reshape(o.shape) / 7)).sum() for o in diff))
            grads = L.autograd.grad(loss, xs, allow_unused=True, materialize_grads=True)
        res.append((outs, grads))
    for o, t in zip(res[1][0], res[0][0]):
        assert_same(o, t, rtol=tol, atol=tol)
    if grad:
        for o, t in zip(res[1][1], res[0][1]):
            assert_same(o, t, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 3, 3), (2, 4, 2)])
def test_linalg_lu_and_unpack(shape):
    (a,) = _pair(shape)
    _run(lambda L, x: L.linalg.lu(x), [a])
    _run(lambda L, x: L.lu_unpack(*L.linalg.lu_factor(x)), [a])
    _run(lambda L, x: L.linalg.lu_factor_ex(x), [a])
    _run(lambda L, x: L.lu(x, get_infos=True), [a])


@pytest.mark.parametrize("left,adjoint", [(True, False), (True, True), (False, False), (False, True)])
def test_lu_solve(left, adjoint):
    a, b = _pair((2, 4, 4), (2, 4, 3) if left else (2, 3, 4), seed=1)
    a = a + 4 * np.eye(4, dtype=np.float32)
    _run(lambda L, x, y: L.linalg.lu_solve(*L.linalg.lu_factor(x), y, left=left, adjoint=adjoint), [a, b])
    if left and not adjoint:
        _run(lambda L, x, y: L.lu_solve(y, *L.linalg.lu_factor(x)), [a, b])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    m, b = _pair((3, 3), (3, 2), seed=2)
    spd = m @ m.T + 3 * np.eye(3, dtype=np.float32)
    ch = np.linalg.cholesky(spd.astype(np.float64)).astype(np.float32)
    fac = ch.T.copy() if upper else ch
    # the full factor is differentiated (torch's gradient is not masked to the triangle)
    _run(lambda L, x, y: L.cholesky_solve(y, x, upper=upper), [fac, b])
    _run(lambda L, x: L.cholesky_inverse(x, upper=upper), [fac])


@pytest.mark.parametrize("upper,transpose,unit", [(True, False, False), (False, True, False), (True, True, True)])
def test_triangular_solve(upper, transpose, unit):
    a, b = _pair((3, 3), (3, 2), seed=3)
    a = a + 3 * np.eye(3, dtype=np.float32)
    _run(lambda L, x, y: L.triangular_solve(y, x, upper=upper, transpose=transpose, unitriangular=unit), [a, b])


@pytest.mark.parametrize("scale", [0.1, 1.0, 6.0])
def test_matrix_exp_vs_torch_float64(scale):
    (a,) = _pair((3, 4, 4), seed=4)
    a = a * scale
    ours = mc.to_torch(mc.matrix_exp(mc.from_numpy(a.copy()))).double()
    ref = torch.matrix_exp(torch.from_numpy(a).double())
    assert torch.allclose(ours, ref, rtol=1e-5, atol=1e-5 * float(ref.abs().max()))
    _run(lambda L, x: L.linalg.matrix_exp(x), [a], tol=2e-3)


def test_householder_product_ormqr_geqrf():
    (a,) = _pair((5, 3), seed=5)
    ta, tm = torch.geqrf(torch.from_numpy(a))
    ma, mm = mc.geqrf(mc.from_numpy(a.copy()))
    assert_same(ma, ta, rtol=1e-4, atol=1e-5)
    assert_same(mm, tm, rtol=1e-4, atol=1e-5)
    h, tau = ta.numpy(), tm.numpy()
    _run(lambda L, x, t: L.linalg.householder_product(x, t), [h, tau])
    (c,) = _pair((5, 2), seed=6)
    for left, tr in ((True, False), (True, True)):
        _run(lambda L, x, t, y: L.ormqr(x, t, y, left=left, transpose=tr), [h, tau, c])
    # against float64: ours keeps float64 accuracy on the CPU
    ours = mc.to_torch(mc.linalg.householder_product(mc.from_numpy(h.copy()), mc.from_numpy(tau.copy()))).double()
    ref = torch.linalg.householder_product(torch.from_numpy(h).double(), torch.from_numpy(tau).double())
    assert torch.allclose(ours, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf")])
def test_cond(p):
    (a,) = _pair((2, 3, 3), seed=7)
    # torch 2.13 cannot differentiate cond for the norm-based p (its inv output is modified in place)
    _run(lambda L, x: L.linalg.cond(x, p), [a], grad=p in (None, 2, -2), tol=1e-3)


def test_tensorinv_tensorsolve_vander_diagonal_solve_ex():
    (a,) = _pair((4, 2, 8), seed=8)
    a = a.reshape(8, 8) + 4 * np.eye(8, dtype=np.float32)
    _run(lambda L, x: L.linalg.tensorinv(x.reshape(4, 2, 8), ind=2), [a], tol=1e-3)
    (b,) = _pair((4, 2), seed=9)
    _run(lambda L, x, y: L.linalg.tensorsolve(x.reshape(4, 2, 2, 4), y), [a, b], tol=1e-3)
    (v,) = _pair((2, 4), seed=10)
    _run(lambda L, x: L.linalg.vander(x), [v])
    _run(lambda L, x: L.linalg.vander(x, N=6), [v])
    _run(lambda L, x: L.linalg.diagonal(x, offset=1), [a])
    _run(lambda L, x, y: L.linalg.solve_ex(x, y), [a, a[:, :3].copy()])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int64", "float32", "float64", "complex64"])
def test_torch_vander(dtype):
    """torch.vander (not linalg's): decreasing powers unless `increasing`, N columns, integral inputs in int64."""
    data = [1, 0, 3, 2] if dtype != "complex64" else [1 + 2j, 3j, -1]
    for N in (None, 0, 1, 2, 5):
        for inc in (False, True):
            ours = mc.vander(mc.tensor(data, dtype=getattr(mc, dtype)), N=N, increasing=inc)
            theirs = torch.vander(torch.tensor(data, dtype=getattr(torch, dtype)), N=N, increasing=inc)
            assert_same(ours, theirs)
    # the gradient (torch's own vander backward fails on an in-place cumprod; linalg.vander flipped is the same
    # function)
    x = np.array([1.5, -2.0, 0.5], np.float32)
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    tx = torch.tensor(x, requires_grad=True)
    (torch.linalg.vander(tx, N=4).flip(1) * torch.tensor(w)).sum().backward()
    mx_ = mc.tensor(x, requires_grad=True)
    (mc.vander(mx_, 4) * mc.tensor(w)).sum().backward()
    assert_same(mx_.grad, tx.grad)


@pytest.mark.parametrize("call", [
    lambda L: L.linalg.vander(L.tensor([True, False])),
    lambda L: L.linalg.vander(L.ones(3), N=1),
    lambda L: L.linalg.householder_product(L.ones(2, 3), L.ones(2)),
    lambda L: L.linalg.lu_solve(L.eye(3), L.ones(3, dtype=L.int32), L.ones(2, 1)),
    lambda L: L.linalg.tensorinv(L.ones(2, 3), ind=1),
    lambda L: L.cholesky_solve(L.ones(3), L.eye(3)),
    lambda L: L.matrix_exp(L.ones(2, 3)),
])
def test_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


@pytest.mark.parametrize("shape", [(20, 8), (8, 20), (2, 15, 10)])
def test_svd_pca_lowrank_exact_on_low_rank_input(shape):
    """On a rank-3 matrix a rank-3 randomized SVD is exact: same singular values as torch's, same reconstruction."""
    rng = np.random.default_rng(11)
    lead, (m, n) = shape[:-2], shape[-2:]
    a = (rng.standard_normal(lead + (m, 3)) @ rng.standard_normal(lead + (3, n))).astype(np.float32)
    tU, tS, tV = torch.svd_lowrank(torch.from_numpy(a), q=3)
    U, S, V = mc.svd_lowrank(mc.from_numpy(a.copy()), q=3)
    assert tuple(U.shape) == tuple(tU.shape) and tuple(V.shape) == tuple(tV.shape)
    assert_same(S, tS, rtol=1e-4, atol=1e-4)
    rec = mc.to_torch(U @ mc.diag_embed(S) @ V.mT)
    assert torch.allclose(rec, torch.from_numpy(a), rtol=1e-4, atol=1e-4)
    tp = torch.pca_lowrank(torch.from_numpy(a), q=3)
    mp = mc.pca_lowrank(mc.from_numpy(a.copy()), q=3)
    assert_same(mp[1], tp[1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("call", [lambda L: L.pca_lowrank(L.ones(3, 4), q=5), lambda L: L.pca_lowrank(L.ones(3, 4), q=-1),
                                  lambda L: L.svd_lowrank(L.ones(3, 4), q=-1)])
def test_lowrank_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


def test_svd_lowrank_q_beyond_rank_flows_like_torch():
    assert tuple(mc.svd_lowrank(mc.ones(3, 4), q=10)[1].shape) == tuple(torch.svd_lowrank(torch.ones(3, 4), q=10)[1].shape)
