"""The rest of torch's linear algebra, composed from the package's differentiable linalg
(lu_factor, solve, solve_triangular, inv, svdvals, matmul) so every derivative follows from theirs:
LU unpacking and solves, Cholesky solves and inverse, triangular_solve, matrix_exp, Householder products
(householder_product, ormqr, geqrf), cond, tensorinv/tensorsolve, vander, diagonal and the *_ex forms.

Top-level names (torch.lu, torch.lu_unpack, torch.lu_solve, torch.cholesky_solve, torch.cholesky_inverse,
torch.triangular_solve, torch.matrix_exp, torch.geqrf, torch.orgqr, torch.ormqr) are in __all__; the
torch.linalg ones are re-exported by linalg.py.

Note [matrix_exp by scaling and squaring]
exp(A) = exp(A / 2^s)^(2^s) with the [13/13] Padé approximant of Higham (2005) on A / 2^s, where s makes
||A / 2^s||_1 <= theta_13 = 5.37. One s serves the whole batch (the largest needed): over-scaling a
small matrix costs a few squarings of rounding, never accuracy beyond float32's. Built of matmul and
solve, so its gradient is the exact derivative of the approximant (torch differentiates its own
approximant likewise).
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _dtype, return_types
from .linalg import (_la_check, _mH, _out, _out_tuple, _permutation, _tensor, inv_, lu_factor_, solve_, tril,
                     triu)
from .._methods import declare_methods
from .._tensor import _new, _mx_item

__all__ = ["lu", "lu_unpack", "lu_solve", "cholesky_solve", "cholesky_inverse", "triangular_solve", "matrix_exp",
           "geqrf", "orgqr", "ormqr", "vander"]

_lu_unpack_t = return_types._make("lu_unpack", ["P", "L", "U"])
_linalg_lu_t = return_types._make("linalg_lu", ["P", "L", "U"])
_lu_factor_ex_t = return_types._make("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_solve_ex_t = return_types._make("linalg_solve_ex", ["result", "info"])
_triangular_solve_t = return_types._make("triangular_solve", ["solution", "cloned_coefficient"])
_geqrf_t = return_types._make("geqrf", ["a", "tau"])


def _eye(n, m, like):
    from .creation import eye

    return eye(n, m, dtype=like.dtype, device=like.device)


def _info(A):
    """torch's int32 `info` of the *_ex forms: zeros (errors raise here instead, as with check_errors=True)."""
    return _new(mx.zeros(tuple(A.shape[:-2]), mx.int32), A._device_code, _dtype.int32)


# ---------------------------------------------------------------- LU


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """P, L, U with A = P L U from linalg.lu_factor's packed LU and LAPACK's 1-based pivots."""
    _tensor(LU_data, "lu_unpack", "LU_data")
    _tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    if LU_data.dim() < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    if LU_pivots.dtype is not _dtype.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
                           "Note: this function is intended to be used with the output produced by torch.linalg.lu_factor")
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = builtins.min(m, n)
    empty = _new(mx.zeros((0,), LU_data.dtype._mx), LU_data._device_code, LU_data.dtype)
    if unpack_data:
        L = tril(LU_data, -1)[..., :, :k] + _eye(m, k, LU_data)
        U = triu(LU_data)[..., :k, :]
    else:
        L = U = empty
    if unpack_pivots:
        P = _permutation(LU_pivots, m, LU_data.dtype) if LU_pivots.numel() else (
            _eye(m, m, LU_data).expand(tuple(LU_data.shape[:-2]) + (m, m)).clone())
    else:
        P = empty
    return _out_tuple(out, _lu_unpack_t(P, L, U))


def linalg_lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    from ..linalg import lu_factor

    LU, piv = lu_factor(A, pivot=pivot)
    return _out_tuple(out, _lu_factor_ex_t(LU, piv, _info(A)))


def linalg_lu(A, *, pivot=True, out=None):
    from ..linalg import lu_factor

    _la_check(A, "linalg.lu", square=False)
    LU, piv = lu_factor(A, pivot=pivot)
    P, L, U = lu_unpack(LU, piv)
    return _out_tuple(out, _linalg_lu_t(P, L, U))


def lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated in torch, kept): (LU, pivots) or (LU, pivots, infos)."""
    from ..linalg import lu_factor

    LU, piv = lu_factor(A, pivot=pivot)
    res = (LU, piv, _info(A)) if get_infos else (LU, piv)
    return _out_tuple(out, res)


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (or X A = B when left=False; A^H when adjoint) for A = P L U given as lu_factor's output."""
    _la_check(LU, "linalg.lu_solve", name="LU")
    _tensor(B, "linalg.lu_solve", "B", 3)
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if LU.dtype is not B.dtype:
        raise RuntimeError("linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{LU.dtype} and B of type {B.dtype} instead")
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return _out(out, _mH(linalg_lu_solve(LU, pivots, _mH(B), left=True, adjoint=not adjoint)))
    from ..linalg import solve_triangular

    P, L, U = lu_unpack(LU, pivots)
    if not adjoint:  # P L U X = B
        Y = solve_triangular(L, _mH(P) @ B, upper=False, unitriangular=True)
        X = solve_triangular(U, Y, upper=True)
    else:  # U^H L^H P^H X = B
        Y = solve_triangular(_mH(U), B, upper=False)
        X = P @ solve_triangular(_mH(L), Y, upper=True, unitriangular=True)
    return _out(out, X)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    return _out(out, linalg_lu_solve(LU_data, LU_pivots, b))


def linalg_solve_ex(A, B, *, left=True, check_errors=False, out=None):
    from ..linalg import solve

    return _out_tuple(out, _solve_ex_t(solve(A, B, left=left), _info(A)))


# ---------------------------------------------------------------- Cholesky and triangular solves


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with A X = B for A = L L^H (or U^H U when upper)."""
    _tensor(B, "cholesky_solve", "input")
    _tensor(L, "cholesky_solve", "input2", 2)
    if B.dim() < 2 or L.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead"
                           if B.dim() < 2 else
                           f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    if B.dtype is not L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {B.dtype} and A of type "
                           f"{L.dtype} instead.")
    _la_check(L, "cholesky_solve", name="A")
    from ..autograd.grad_mode import no_grad

    with no_grad():
        X = _cholesky_solve_values(B, L, upper)
    from ..autograd._derivatives import record

    def bw(ctx, grads):
        L0, X0, _ = ctx
        gB = cholesky_solve(grads[0], L0, upper)
        common = gB @ _mH(X0)
        common = common + _mH(common)
        gL = -(L0 @ common) if upper else -(common @ L0)
        return (_sum_to(gB, tuple(B.shape)), _sum_to(gL, tuple(L.shape)))

    # torch's cholesky_solve_backward: the gradient of L is not masked to its triangle
    record("CholeskySolveBackward0", bw, [B, L], [X], saved=[L, X])
    return _out(out, X)


def _sum_to(g, shape):
    from ..autograd._derivatives import sum_to

    return sum_to(g, shape)


def _cholesky_solve_values(B, L, upper):
    from ..linalg import solve_triangular

    if upper:
        return solve_triangular(L, solve_triangular(_mH(L), B, upper=False), upper=True)
    return solve_triangular(_mH(L), solve_triangular(L, B, upper=False), upper=True)


def cholesky_inverse(L, upper=False, *, out=None):
    _la_check(L, "cholesky_inverse", name="input")
    n = L.shape[-1]
    return _out(out, cholesky_solve(_eye(n, n, L).expand(tuple(L.shape)), L, upper))


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch.triangular_solve (deprecated in torch): (solution of op(A) X = b, a copy of A)."""
    _tensor(b, "triangular_solve", "input")
    _tensor(A, "triangular_solve", "A", 2)
    if b.dim() < 2 or A.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.dim()} "
                           "dimensions instead" if b.dim() < 2 else
                           f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {A.dim()} "
                           "dimensions instead")
    from ..linalg import solve_triangular

    T = _mH(A) if transpose else A
    X = solve_triangular(T, b, upper=(upper != transpose), unitriangular=unitriangular)
    return _out_tuple(out, _triangular_solve_t(X, A.clone()))


# ---------------------------------------------------------------- matrix_exp

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def matrix_exp(A):
    """exp(A) for square (batches of) matrices (Note [matrix_exp by scaling and squaring])."""
    _tensor(A, "matrix_exp", "input")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() >= 2 else 1} by {A.shape[-1] if A.dim() else 1} matrices")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError("linalg.matrix_exp: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype}")
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    if n == 1:
        return A.exp()
    (A,), d = _wide(A)
    norm1 = _mx_item(mx.max(mx.sum(mx.abs(A._mx.astype(mx.float32)), axis=-2)))
    s = builtins.max(0, math.ceil(math.log2(norm1 / _THETA13))) if norm1 > _THETA13 else 0
    X = A / (2 ** s) if s else A
    b = _PADE13
    I = _eye(n, n, A)
    X2 = X @ X
    X4 = X2 @ X2
    X6 = X4 @ X2
    U = X @ (X6 @ (b[13] * X6 + b[11] * X4 + b[9] * X2) + b[7] * X6 + b[5] * X4 + b[3] * X2 + b[1] * I)
    V = X6 @ (b[12] * X6 + b[10] * X4 + b[8] * X2) + b[6] * X6 + b[4] * X4 + b[2] * X2 + b[0] * I
    R = solve_(V - U, V + U)
    for _ in builtins.range(s):
        R = R @ R
    return R.to(d)


# ---------------------------------------------------------------- Householder products


def _wide(*ts):
    """float32 CPU tensors as float64 (and the dtype to return to): the Householder products and matrix_exp's
    Padé/squaring chain lose float32 digits; on the GPU (no float64) they stay float32."""
    d = ts[0].dtype
    if d is _dtype.float32 and ts[0]._device_code == 0:
        return [t.to(_dtype.float64) for t in ts], d
    return list(ts), d


def _householder_q(A, tau, m, cols):
    """Q[..., :, :cols] for Q = H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i = (0.., 1, A[i+1:, i])."""
    from .creation import arange

    (A, tau), d = _wide(A, tau)

    k = tau.shape[-1]
    rows = arange(m, device=A.device).unsqueeze(-1)  # (m, 1)
    Q = _eye(m, m, A).expand(tuple(A.shape[:-2]) + (m, m))
    for i in builtins.range(k):
        col = A[..., :, i:i + 1]  # (*, m, 1)
        v = (col * (rows > i).to(A.dtype)) + (rows == i).to(A.dtype)
        Q = Q - (Q @ v) @ (tau[..., i:i + 1].unsqueeze(-1) * _mH(v))
    return Q[..., :, :cols].to(d)


def householder_product(A, tau, *, out=None):
    """torch.linalg.householder_product (orgqr): the first n columns of H_1 ... H_k."""
    _tensor(A, "linalg.householder_product", "input")
    _tensor(tau, "linalg.householder_product", "tau", 2)
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.householder_product: input must have at least 2 dimensions.")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if tau.shape[-1] > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError("torch.linalg.householder_product: Expected tau to have one dimension less than input, "
                           f"but got tau.ndim equal to {tau.dim()} and input.ndim is equal to {A.dim()}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError("torch.linalg.householder_product: Expected batch dimensions of tau to be equal to "
                           "input.shape[:-2]")
    if A.dtype is not tau.dtype:
        raise RuntimeError(f"torch.linalg.householder_product: tau dtype {tau.dtype} does not match input dtype "
                           f"{A.dtype}")
    return _out(out, _householder_q(A, tau, m, n))


def orgqr(input, tau, *, out=None):
    return householder_product(input, tau, out=out)


def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """op(Q) @ other (left) or other @ op(Q), Q = H_1 ... H_k from geqrf's (input, tau); op = ^H if transpose."""
    for name, x, pos in (("input", input, 1), ("input2", tau, 2), ("input3", other, 3)):
        _tensor(x, "ormqr", name, pos)
    if input.dim() < 2 or other.dim() < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    m = input.shape[-2]
    if (other.shape[-2] if left else other.shape[-1]) != m:
        raise RuntimeError(f"torch.ormqr: other.shape[{-2 if left else -1}] must be equal to input.shape[-2]")
    Q = _householder_q(input, tau, m, m)
    if transpose:
        Q = _mH(Q)
    return _out(out, Q @ other if left else other @ Q)


def geqrf(input, *, out=None):
    """LAPACK's geqrf: R in the upper triangle, the Householder vectors below it, and their scales tau (dlarfg's
    conventions: beta = -sign(alpha) * ||x||, tau = (beta - alpha) / beta, v = x[1:] / (alpha - beta)).
    Not differentiable, as in torch."""
    _tensor(input, "geqrf", "input")
    if input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"torch.geqrf: Expected a floating point or complex tensor as input. Got {input.dtype}")
    if input.dtype.is_complex:
        raise NotImplementedError("mlx_compat: geqrf of complex tensors is not supported (MLX's linalg is real)")
    a = input._mx
    m, n = a.shape[-2], a.shape[-1]
    k = builtins.min(m, n)
    taus = []
    rows = mx.arange(m).reshape(m, 1)
    for i in builtins.range(k):
        x = a[..., :, i]  # (*, m)
        alpha = x[..., i]
        below = mx.where(mx.arange(m) > i, x, 0)
        xnorm = mx.sqrt(mx.sum(below * below, axis=-1))
        zero = xnorm == 0
        beta = -mx.where(alpha >= 0, 1, -1).astype(a.dtype) * mx.sqrt(alpha * alpha + xnorm * xnorm)
        beta = mx.where(zero, alpha, beta)
        safe = mx.where(zero, 1, beta)
        tau = mx.where(zero, 0, (beta - alpha) / safe)
        scale = mx.where(zero, 0, 1 / mx.where(zero, 1, alpha - beta))
        v = mx.where(mx.arange(m) > i, x * scale[..., None], 0) + (mx.arange(m) == i).astype(a.dtype)
        # apply H = I - tau v v^T to the trailing columns, then store beta and v below the diagonal
        trail = mx.arange(n) > i
        w = mx.sum(v[..., :, None] * a, axis=-2)  # v^T a, (*, n)
        upd = a - tau[..., None, None] * v[..., :, None] * w[..., None, :]
        a = mx.where(trail, upd, a)
        newcol = mx.where(rows[:, 0] == i, beta[..., None], mx.where(rows[:, 0] > i, v, x))
        a = mx.where(mx.arange(n) == i, newcol[..., :, None], a)
        taus.append(tau)
    tau = mx.stack(taus, axis=-1) if taus else mx.zeros(tuple(a.shape[:-2]) + (0,), a.dtype)
    dev = input._device_code
    res = _geqrf_t(_new(a, dev, input.dtype), _new(tau, dev, input.dtype))
    return _out_tuple(out, res)


# ---------------------------------------------------------------- the rest of torch.linalg


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    _tensor(A, "linalg.diagonal", "A")
    return A.diagonal(offset, dim1, dim2)


def linalg_vander(x, *, N=None):
    """torch.linalg.vander: columns x^0, x^1, ..., x^(N-1) (increasing powers), by a cumulative product."""
    _tensor(x, "linalg.vander", "x")
    if x.dtype is _dtype.bool:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    if x.dim() == 0:
        x = x.reshape(1)
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .shape import cat
    from .reduction import cumprod

    ones_col = x.unsqueeze(-1).new_ones(tuple(x.shape) + (1,))
    return cumprod(cat([ones_col, x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,))], -1), -1)


def vander(x, N=None, increasing=False):
    """torch.vander: powers of a 1-D x in N columns, decreasing unless `increasing`; integral inputs give int64
    (the cumulative product's type)."""
    _tensor(x, "vander", "x")
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from .shape import cat
    from .reduction import cumprod

    d = x.dtype if x.dtype.is_floating_point or x.dtype.is_complex else _dtype.int64
    if n == 0:
        return x.new_empty((x.shape[0], 0), dtype=d)
    cols = [x.new_ones((x.shape[0], 1), dtype=d)]
    if n > 1:
        cols.append(cumprod(x.to(d).unsqueeze(1).expand(x.shape[0], n - 1), 1))
    r = cat(cols, 1)
    return r if increasing else r.flip(1)


def cond(A, p=None, *, out=None):
    """torch.linalg.cond: sigma_max / sigma_min for p in (None, 2, -2), else norm(A, p) * norm(inv(A), p)."""
    from .. import linalg

    _la_check(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = linalg.svdvals(A)
        if A.numel() == 0:
            return _out(out, S.new_zeros(tuple(A.shape[:-2])))
        r = S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
        return _out(out, r)
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.numel() == 0:
        return _out(out, A.new_zeros(tuple(A.shape[:-2])))
    return _out(out, linalg.matrix_norm(A, p) * linalg.matrix_norm(linalg.inv(A), p))


def tensorinv(A, ind=2, *, out=None):
    from .. import linalg

    _tensor(A, "linalg.tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape = tuple(A.shape[ind:]) + tuple(A.shape[:ind])
    rows = math.prod(A.shape[:ind])
    if rows != math.prod(A.shape[ind:]):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(A.shape[ind:])} != {rows}")
    return _out(out, linalg.inv(A.reshape(rows, rows)).reshape(out_shape))


def tensorsolve(A, B, dims=None, *, out=None):
    from .. import linalg

    _tensor(A, "linalg.tensorsolve", "A")
    _tensor(B, "linalg.tensorsolve", "B", 2)
    if dims is not None:
        nd = A.dim()
        dims = [d % nd for d in dims]
        rest = [d for d in builtins.range(nd) if d not in dims]
        A = A.permute(rest + list(dims))
    res_shape = tuple(A.shape[B.dim():])
    rows = B.numel()
    cols = math.prod(res_shape)
    if rows != cols or math.prod(A.shape[:B.dim()]) != rows:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {math.prod(A.shape[:B.dim()])}")
    return _out(out, linalg.solve(A.reshape(rows, cols), B.reshape(rows)).reshape(res_shape))


declare_methods({_name: globals()[_name] for _name in (
    "lu", "lu_solve", "cholesky_solve", "cholesky_inverse", "triangular_solve", "matrix_exp", "geqrf", "orgqr",
    "ormqr")})


# ---------------------------------------------------------------- randomized low-rank factorizations


def _approximate_basis(A, q, niter, generator=None):
    """Orthonormal Q (*, m, q) whose range approximates A's (Halko, Martinsson & Tropp, alg. 4.4: a Gaussian
    sketch refined by `niter` subspace iterations, re-orthonormalised each time)."""
    from .. import linalg
    from .creation import randn

    R = randn(tuple(A.shape[:-2]) + (A.shape[-1], q), dtype=A.dtype, device=A.device, generator=generator)
    Q = linalg.qr(A @ R).Q
    for _ in builtins.range(niter):
        Q = linalg.qr(_mH(A) @ Q).Q
        Q = linalg.qr(A @ Q).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """U, S, V with A - M ~= U diag(S) V^H of rank q, by a randomized range finder (differentiable through
    matmul, qr and svd)."""
    from .. import linalg

    _tensor(A, "svd_lowrank", "A")
    if A.dim() < 2:
        raise RuntimeError("svd_lowrank: input must have at least 2 dimensions")
    q = 6 if q is None else q
    m, n = A.shape[-2], A.shape[-1]
    if q < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {q}: [{builtins.min(m, n)}, {q}]")
    X = A if M is None else A - M
    if m < n:  # work on the tall side
        V, S, U = svd_lowrank(_mH(X), q, niter)
        return U, S, V
    Q = _approximate_basis(X, q, niter)
    U, S, Vh = linalg.svd(_mH(Q) @ X, full_matrices=False)
    return Q @ U, S, _mH(Vh)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of A's rows: svd_lowrank of A minus its column means (when center)."""
    _tensor(A, "pca_lowrank", "A")
    if A.dim() < 2:
        raise RuntimeError("pca_lowrank: input must have at least 2 dimensions")
    m, n = A.shape[-2], A.shape[-1]
    q = builtins.min(6, m, n) if q is None else q
    if not 0 <= q <= builtins.min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={builtins.min(m, n)}")
    X = A - A.mean(-2, keepdim=True) if center else A
    return svd_lowrank(X, q, niter)


__all__ += ["svd_lowrank", "pca_lowrank"]
