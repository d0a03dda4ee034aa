"""torch.linalg.

Decompositions run on MLX's CPU stream (its only linalg backend); their derivatives are torch's formulas
(see _ops/linalg.py). Decompositions whose factors torch does not define uniquely (signs of svd/qr/eigh
vectors) use LAPACK's conventions through MLX, as torch does on the CPU, but only the invariants are promised.
Complex inputs are refused (MLX's linalg is real).
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from . import _dtype, return_types
from .autograd._mlx_vjp import mlx_op
from ._ops.linalg import (LinAlgError, _la_check, _out, _out_tuple, _tensor, _dname, _cross_common, _prim, cholesky_,
                          det_, eigh_, inv_, lu_factor_, pinv_record, qr_, slogdet_, solve_, svd_)
from ._tensor import Tensor, _wrap_dim

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet", "solve", "cholesky",
           "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_power", "matrix_rank",
           "lstsq", "lu_factor", "cross", "multi_dot", "matmul", "vecdot", "solve_triangular", "LinAlgError",
           "lu", "lu_factor_ex", "lu_solve", "solve_ex", "householder_product", "diagonal", "vander", "cond",
           "tensorinv", "tensorsolve", "matrix_exp"]


def matmul(input, other, *, out=None):
    from ._ops.operators import matmul as mm

    return mm(input, other, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    """sum over dim of conj(x) * y, broadcasting."""
    _tensor(x, "linalg.vecdot", "x"), _tensor(y, "linalg.vecdot", "y", 2)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_dname(x.dtype)} and y of type {_dname(y.dtype)} instead")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got "
                           f"{_dname(x.dtype)}")
    xc = x.conj() if x.dtype.is_complex else x
    return _out(out, (xc * y).sum(dim))


# ---------------------------------------------------------------- norms


def _dims(dim, n):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):  # torch: dim=() reduces everything
        return tuple(builtins.range(n))
    if isinstance(dim, builtins.int):
        dim = (dim,)
    ds = tuple(_wrap_dim(d, builtins.max(n, 1)) for d in dim)
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    return ds


def _float_input(x, fname, dtype):
    if dtype is not None:
        if not (dtype.is_floating_point or dtype.is_complex):
            raise RuntimeError(f"{fname}: dtype should be floating point or complex. Got {_dname(dtype)}")
        x = x.to(dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {_dname(x.dtype)}")
    return x


def _vnorm_mx(x, ord, axes, keepdim):
    a = mx.abs(x)
    if ord == math.inf:
        return mx.max(a, axis=axes, keepdims=keepdim)
    if ord == -math.inf:
        return mx.min(a, axis=axes, keepdims=keepdim)
    if ord == 0:
        return mx.sum((a != 0).astype(a.dtype), axis=axes, keepdims=keepdim)
    if ord == 1:
        return mx.sum(a, axis=axes, keepdims=keepdim)
    # the guards below keep zero's gradient 0 (as torch); a NaN must still reach the result, so they test
    # "!= 0" (true for NaN) and pass the non-positive sum (0 or NaN) through as it is
    if ord == 2:
        s = mx.sum(a * a, axis=axes, keepdims=keepdim)
        pos = s > 0
        return mx.where(pos, mx.sqrt(mx.where(pos, s, 1)), s)
    if ord < 0:  # a zero entry contributes inf, making the norm 0 (and, as torch, its gradient 0, not nan)
        nz = a != 0
        dead = mx.any(~nz, axis=axes, keepdims=keepdim)
        s = mx.sum(mx.power(mx.where(nz, a, 1), ord), axis=axes, keepdims=keepdim)
        return mx.where(dead, 0, mx.power(s, 1.0 / ord))
    nz = a != 0
    s = mx.sum(mx.where(nz, mx.power(mx.where(nz, a, 1), ord), 0), axis=axes, keepdims=keepdim)
    pos = s > 0
    return mx.where(pos, mx.power(mx.where(pos, s, 1), 1.0 / ord), s)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    _tensor(x, "linalg.vector_norm", "x")
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not str")
    x = _float_input(x, "linalg.vector_norm", dtype)
    ord = builtins.float(ord)
    axes = _dims(dim, x.dim())
    if x.dim() == 0:
        axes = ()
    if x.numel() == 0 and ord < 0 or (x.numel() == 0 and ord == math.inf):
        if builtins.any(x.shape[d] == 0 for d in axes) or dim is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                               f"operation does not have an identity")
    rt = _dtype.float32 if x.dtype is _dtype.complex64 else x.dtype

    def f(v):
        if not axes:
            return _vnorm_mx(v, ord, None, False).reshape(()) if v.ndim == 0 else mx.abs(v) if ord != 0 else \
                (v != 0).astype(mx.abs(v).dtype)
        return _vnorm_mx(v, ord, list(axes), keepdim)

    if ord == 0:  # torch's derivative of the 0-"norm" is undefined (no gradient flows)
        return _out(out, _prim("LinalgVectorNormBackward0", f, [x], lambda ins, outs, grads: (None,),
                               out_dtypes=[rt]))
    return _out(out, mlx_op("LinalgVectorNormBackward0", f, [x], out_dtypes=[rt]))


def _move_to_end(A, d0, d1):
    return A.movedim((d0, d1), (-2, -1))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    _tensor(A, "linalg.matrix_norm", "A")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    A = _float_input(A, "linalg.matrix_norm", dtype)
    if isinstance(dim, builtins.int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = _wrap_dim(dim[0], A.dim()), _wrap_dim(dim[1], A.dim())
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return _out(out, vector_norm(A, 2, (d0, d1), keepdim))
    if ord in ("nuc", 2, -2):
        S = svdvals(_move_to_end(A, d0, d1))
        r = S.sum(-1) if ord == "nuc" else S.amax(-1) if ord == 2 else S.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return _out(out, r)
    # 1/-1: max/min over columns of the column sums of |A|; inf/-inf: over rows of the row sums
    red, pick = (d0, d1) if ord in (1, -1) else (d1, d0)
    big = ord > 0
    rt = _dtype.float32 if A.dtype is _dtype.complex64 else A.dtype

    def f(v):
        s = mx.sum(mx.abs(v), axis=red, keepdims=True)
        r = mx.max(s, axis=pick, keepdims=True) if big else mx.min(s, axis=pick, keepdims=True)
        return r if keepdim else mx.squeeze(r, axis=[d0, d1])

    return _out(out, mlx_op("LinalgMatrixNormBackward0", f, [A], out_dtypes=[rt]))


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    _tensor(A, "linalg.norm", "A")
    if dim is not None:
        ds = (dim,) if isinstance(dim, builtins.int) else tuple(dim)
        if len(ds) == 1:
            return vector_norm(A, 2 if ord is None else ord, ds, keepdim, dtype=dtype, out=out)
        if len(ds) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, ds, keepdim, dtype=dtype, out=out)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(ds)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A.dim() == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    if A.dim() == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                       f"{A.dim()}D.")


# ---------------------------------------------------------------- inverses, determinants, solves


def inv(A, *, out=None):
    _la_check(A, "linalg.inv")
    return _out(out, inv_(A))


def inv_ex(A, *, check_errors=False, out=None):
    _la_check(A, "linalg.inv_ex")
    r = inv_(A)
    from ._ops.creation import zeros

    return _out_tuple(out, return_types.linalg_inv_ex(r, zeros(tuple(A.shape[:-2]), dtype=_dtype.int32, device=A.device)))


def det(A, *, out=None):
    _la_check(A, "linalg.det")
    return _out(out, det_(A))


def slogdet(A, *, out=None):
    _la_check(A, "linalg.slogdet")
    s, l = slogdet_(A)
    return _out_tuple(out, return_types.linalg_slogdet(s, l))


def solve(A, B, *, left=True, out=None):
    _la_check(A, "linalg.solve")
    _tensor(B, "linalg.solve", "B", 2)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dname(A.dtype)} and B of type {_dname(B.dtype)} instead")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not supported for "
                               "left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)")
        A, Bm = A.mT, Bm.mT
    n = A.shape[-1]
    if Bm.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{Bm.shape[-2]}x{Bm.shape[-1]})")
    try:
        mx.broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    except ValueError:
        raise RuntimeError("The size of tensor a must match the size of tensor b at non-singleton dimension")
    X = solve_(A, Bm)
    if not left:
        X = X.mT
    return _out(out, X.squeeze(-1) if vector else X)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Only A's triangle (without its diagonal when unitriangular) is read, so the gradient of A is masked to
    it, as torch's. Solved through the LU solver on the masked matrix."""
    _la_check(A, "linalg.solve_triangular")
    _tensor(B, "linalg.solve_triangular", "B", 2)
    if B.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of "
                           f"type {_dname(A.dtype)} and B of type {_dname(B.dtype)} instead")
    from ._ops.linalg import tril, triu

    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if unitriangular:
        from ._ops.creation import eye

        T = (triu(A, 1) if upper else tril(A, -1)) + eye(n, dtype=A.dtype, device=A.device)
    else:
        T = triu(A) if upper else tril(A)
    X = solve_(T, B) if left else solve_(T.mT, B.mT).mT
    return _out(out, X)


def cholesky(A, *, upper=False, out=None):
    _la_check(A, "linalg.cholesky")
    return _out(out, cholesky_(A, upper))


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _la_check(A, "linalg.cholesky_ex")
    from ._ops.creation import zeros

    try:
        L = cholesky_(A, upper, "linalg.cholesky_ex")
    except LinAlgError:
        if check_errors:
            raise
        L, info = _cholesky_partial(A, upper)
        return _out_tuple(out, return_types.linalg_cholesky_ex(L, info))
    return _out_tuple(out, return_types.linalg_cholesky_ex(L, zeros(tuple(A.shape[:-2]), dtype=_dtype.int32,
                                                                    device=A.device)))


def _cholesky_partial(A, upper):
    """cholesky_ex of a batch with a matrix that is not positive-definite, as LAPACK's unblocked potf2 leaves it
    (torch's CPU kernel): columns up to the failing pivot factored, that pivot holding its non-positive value, the
    rest of the lower triangle A's; info the order of the failing leading minor (0 where it factored)."""
    import numpy as np

    from ._ops.creation import tensor

    a = np.array(A.detach().to("cpu").numpy())
    batch = a.reshape((-1,) + a.shape[-2:])
    if upper:
        batch = np.conj(np.swapaxes(batch, -1, -2))
    out = np.tril(batch).copy()
    info = np.zeros(batch.shape[0], np.int32)
    for b in range(batch.shape[0]):
        m = out[b]
        for j in range(m.shape[0]):
            ajj = m[j, j] - np.dot(m[j, :j], np.conj(m[j, :j]))
            if not (ajj.real > 0):  # a non-positive or NaN pivot stops the factorization
                m[j, j] = ajj
                info[b] = j + 1
                break
            m[j, j] = np.sqrt(ajj.real)
            m[j + 1:, j] = (m[j + 1:, j] - m[j + 1:, :j] @ np.conj(m[j, :j])) / m[j, j]
    if upper:
        out = np.conj(np.swapaxes(out, -1, -2))
    L = tensor(out.reshape(a.shape), dtype=A.dtype, device=A.device)
    return L, tensor(info.reshape(a.shape[:-2]), dtype=_dtype.int32, device=A.device)


def matrix_power(A, n, *, out=None):
    _la_check(A, "linalg.matrix_power", floating=False)
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if n == 0:
        k = A.shape[-1]
        return _out(out, mlx_op("LinalgMatrixPowerBackward0",
                                lambda x: mx.broadcast_to(mx.eye(k, dtype=x.dtype), x.shape), [A]))
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(out, result if result is not A else A.clone())


def multi_dot(tensors, *, out=None):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"linalg_multi_dot(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        _tensor(t, "linalg.multi_dot", "tensors")
    if ts[0].dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {ts[0].dim()}D")
    if ts[-1].dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {ts[-1].dim()}D")
    for i in builtins.range(1, len(ts) - 1):
        if ts[i].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ts[i].dim()}D")
    for t in ts[1:]:
        if t.dtype is not ts[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_dname(ts[0].dtype)} and tensor {ts.index(t)} {_dname(t.dtype)}")
    first_vec, last_vec = ts[0].dim() == 1, ts[-1].dim() == 1
    mats = [ts[0].unsqueeze(0) if first_vec else ts[0]] + ts[1:-1] + [ts[-1].unsqueeze(-1) if last_vec else ts[-1]]
    for i in builtins.range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(mats[i].shape)} and "
                               f"{list(mats[i + 1].shape)} cannot be multiplied")
    r = mats[0]
    for m in mats[1:]:
        r = r @ m
    if first_vec and last_vec:
        r = r.reshape(())
    elif first_vec:
        r = r.squeeze(0)
    elif last_vec:
        r = r.squeeze(-1)
    return _out(out, r)


def cross(input, other, *, dim=-1, out=None):
    return _out(out, _cross_common(input, other, dim, "linalg.cross"))


# ---------------------------------------------------------------- decompositions


def qr(A, mode="reduced", *, out=None):
    _la_check(A, "linalg.qr", square=False)
    if mode not in ("reduced", "r", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    Q, R = qr_(A, mode)
    if mode == "r":
        from ._ops.creation import empty

        Q = empty((0,), dtype=A.dtype, device=A.device)
    return _out_tuple(out, return_types.linalg_qr(Q, R))


def svd(A, full_matrices=True, *, driver=None, out=None):
    _la_check(A, "linalg.svd", square=False)
    U, S, Vh = svd_(A, full_matrices)
    return _out_tuple(out, return_types.linalg_svd(U, S, Vh))


def svdvals(A, *, driver=None, out=None):
    _la_check(A, "linalg.svdvals", square=False)
    return _out(out, svd_(A, False)[1])


def eigh(A, UPLO="L", *, out=None):
    _la_check(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, v = eigh_(A, UPLO)
    return _out_tuple(out, return_types.linalg_eigh(w, v))


def eigvalsh(A, UPLO="L", *, out=None):
    _la_check(A, "linalg.eigvalsh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _out(out, eigh_(A, UPLO)[0])


def _tol(S, A, atol, rtol, fname):
    """torch's tolerance max(atol, rtol * sigma_max), rtol defaulting to eps * max(m, n) when atol is None."""
    m, n = A.shape[-2], A.shape[-1]
    eps = _dtype.finfo(A.dtype).eps
    if rtol is None:
        rtol = eps * builtins.max(m, n) if (atol is None or (isinstance(atol, (builtins.int, builtins.float))
                                                                and atol <= 0)) else 0.0
    atol = 0.0 if atol is None else atol
    smax = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    if isinstance(atol, Tensor):
        atol = atol.unsqueeze(-1)
    if isinstance(rtol, Tensor):
        rtol = rtol.unsqueeze(-1)
    from ._ops.operators import maximum

    r = smax.detach() * rtol
    if isinstance(atol, Tensor) and isinstance(r, Tensor):
        return maximum(r, atol)
    if isinstance(r, Tensor):
        return r.clamp_min(atol)
    if isinstance(atol, Tensor):
        return atol.clamp_min(r)
    return builtins.max(r, atol)


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """torch.linalg.pinv; the legacy positional `rcond` is rtol."""
    _la_check(A, "linalg.pinv", square=hermitian)
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.pinv(): rcond cannot be combined with atol/rtol")
        rtol = rcond
    from ._ops.operators import where
    from .autograd.grad_mode import no_grad

    with no_grad():
        if A.numel() == 0:  # empty batch or matrix: MLX's SVD is never asked (Note [Empty reductions])
            from ._ops.creation import zeros

            P = zeros(tuple(A.shape[:-2]) + (A.shape[-1], A.shape[-2]), dtype=A.dtype, device=A.device)
        elif hermitian:
            w, V = eigh_(A)
            aw = w.abs()
            tol = _tol(aw, A, atol, rtol, "linalg.pinv")
            keep = aw > tol
            winv = where(keep, 1 / where(keep, w, 1.0), 0.0)
            P = (V * winv.unsqueeze(-2)) @ V.mT
        else:
            U, S, Vh = svd_(A, False)
            tol = _tol(S, A, atol, rtol, "linalg.pinv")
            keep = S > tol
            sinv = where(keep, 1 / where(keep, S, 1.0), 0.0)
            P = (Vh.mT * sinv.unsqueeze(-2)) @ U.mT
    return _out(out, pinv_record(A, P))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _la_check(A, "linalg.matrix_rank", square=hermitian)
    from .autograd.grad_mode import no_grad

    with no_grad():
        S = eigh_(A)[0].abs() if hermitian else svd_(A, False)[1]
        tol = _tol(S, A, atol, rtol, "linalg.matrix_rank")
        r = (S > tol).sum(-1)
    return _out(out, r)


def lstsq(A, B, rcond=None, *, driver=None):
    _la_check(A, "linalg.lstsq", square=False)
    _tensor(B, "linalg.lstsq", "B", 2)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    driver = driver or "gelsy"
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if Bm.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    eps = _dtype.finfo(A.dtype).eps
    rc = eps * builtins.max(m, n) if rcond is None or rcond < 0 else rcond
    from ._ops.creation import empty

    # the solution is pinv(A) B with gelsy's rcond; its gradient is then torch's (LinalgLstsqBackward0 is
    # pinv_backward(gX B^H) for A and pinv(A)^H gX for B)
    X = pinv(A, rtol=rc) @ Bm
    if driver == "gels":
        rank = empty((0,), dtype=_dtype.int64, device=A.device)
        sv = empty((0,), dtype=A.dtype, device=A.device)
    else:
        from .autograd.grad_mode import no_grad

        with no_grad():
            S = svd_(A, False)[1]
            tol = S.amax(-1, keepdim=True) * rc if S.shape[-1] else 0.0
            rank = (S > tol).sum(-1)
        sv = S if driver in ("gelsd", "gelss") else empty((0,), dtype=A.dtype, device=A.device)
    residuals = empty((0,), dtype=A.dtype, device=A.device)
    if m > n and driver != "gelsy":
        full = builtins.bool((rank == n).all().item()) if rank.numel() else True
        if full:
            R = A @ X - Bm
            residuals = (R * R).sum(-2)
            if vector:
                residuals = residuals.squeeze(-1)
    if vector:
        X = X.squeeze(-1)
    return return_types.linalg_lstsq(X, residuals, rank, sv)


def lu_factor(A, *, pivot=True, out=None):
    _la_check(A, "linalg.lu_factor", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv = lu_factor_(A)
    return _out_tuple(out, return_types.linalg_lu_factor(LU, piv))


from ._ops.linalg_solvers import (linalg_lu as lu, linalg_lu_factor_ex as lu_factor_ex,  # noqa: E402
                                  linalg_lu_solve as lu_solve, linalg_solve_ex as solve_ex, householder_product,
                                  diagonal, linalg_vander as vander, cond, tensorinv, tensorsolve, matrix_exp)
