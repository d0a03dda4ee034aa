"""Linear algebra ops: products (mm, bmm, addmm, dot, vdot, inner, outer/ger, mv, einsum, tensordot, kron,
baddbmm, addbmm, addmv, addr), triangles and diagonals (tril, triu, diag, diag_embed, diagflat, trace), cross,
cdist — and the decompositions torch.linalg (mlx_compat/linalg.py) is built on.

Forwards are MLX; derivatives come from Note [MLX vjp fallback] (`mlx_op`) where MLX differentiates the
forward. MLX 0.32 has no vjp for Inverse, Cholesky, QRF, SVD, Eigh, LUF (and solve's vjp fails), so those are
recorded with torch's formulas (FunctionsManual.cpp) written with this package's ops: their backward is itself
differentiable, so higher-order gradients work.

Also here: torch.* aliases of torch.linalg (det, logdet, slogdet, inverse, pinverse, matrix_power, chain_matmul)
and the legacy torch.svd / torch.qr / torch.cholesky.

MLX's linalg kernels run on its CPU stream only, so every mx.linalg call passes stream=mx.cpu. MLX's matmul is
floating-point only: integer products are float64 products of the operands' limbs on the CPU, exact as torch's
(Note [Exact integer products]).
"""
from __future__ import annotations

import builtins
import math
import string

import mlx.core as mx

from .._device_scope import warn as _warn, _DEVICES as _STREAMS
from .. import _C, _dtype
from ..autograd._derivatives import record, _scope_backward, sum_to as _sum_to
from ..autograd._mlx_vjp import mlx_op
from .._methods import declare_methods
from .._tensor import _TORCH_NAME, Tensor, _new, _wrap_dim, _mx_item

_PUBLIC = ["dot", "vdot", "outer", "ger", "inner", "einsum", "tensordot", "baddbmm", "addbmm", "addmv", "addr", "mv",
           "kron", "trace", "tril", "triu", "diag", "diag_embed", "diagflat", "cross", "cdist", "det", "logdet",
           "slogdet", "inverse", "pinverse", "matrix_power", "chain_matmul", "svd", "qr", "cholesky"]

CPU = mx.cpu


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError (torch._C._LinAlgError): a RuntimeError subclass."""


LinAlgError.__module__ = "torch.linalg"


def _out(out, r):
    from .creation import _out as put

    return put(out, r)


def _out_tuple(out, rs):
    if out is None:
        return rs
    if not isinstance(out, (tuple, list)) or len(out) != len(rs):
        raise TypeError(f"argument 'out' must be tuple of {len(rs)} Tensors")
    for o, r in zip(out, rs):
        _out(o, r)
    return type(rs)(*out) if hasattr(rs, "_fields") else tuple(out)


def _tensor(x, fname, name="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _dname(d):
    """torch's scalar type name (Float, Double, Long...)."""
    return _TORCH_NAME.get(str(d).split(".")[-1], str(d))


def _is_int(d):
    return not (d.is_floating_point or d.is_complex)


# Note [Half-type products on the CPU]
# MLX's CPU backend multiplies bfloat16 and float16 matrices with a loop of its own, not the BLAS: a 64 x 784 @ 784 x
# 128 product took 3.4 ms (bfloat16) and 4.1 ms (float16) on this repository's 2-core VM against 0.24 and 0.46 ms
# for the same product cast to float32, multiplied by sgemm and cast back (512^3: 47.3 against 2.9 ms). torch's
# CPU computes a half-type product with float32 accumulation and rounds each result once, which is what the
# float32 product rounded to the half type gives (each element's float32 sum is rounded once), so on the CPU
# products of half-type operands take that route: mm, matmul, addmm and linear through _product, the products
# inside ops' formulas (mv, tensordot, convolutions as products, the CPU attention backward) through _mm, and
# the `@` of csrc/ops.c likewise. The GPUs' half-type products are their own kernels and stay as they are.
_HALF = (mx.bfloat16, mx.float16)


def _product(fn, dev, *arrays, **kw):
    """fn(*arrays, **kw), an MLX product (mx.matmul, mx.addmm), on device code `dev`'s stream, or on the current
    default stream (the device scope's) when dev is None; on the CPU a half-type product in float32, rounded once
    to its dtype (Note [Half-type products on the CPU])."""
    if dev is not None:
        kw["stream"] = _STREAMS[dev]
    dt = arrays[0].dtype
    if dt in _HALF and (_STREAMS[dev] if dev is not None else mx.default_device()) == CPU:
        return fn(*[x.astype(mx.float32) for x in arrays], **kw).astype(dt)
    return fn(*arrays, **kw)


def _mm(a, b):
    """MLX matmul on the current default stream (the device scope's), for products made inside ops' formulas: integer
    operands exactly (Note [Exact integer products]); a half-type one as _product makes it."""
    if mx.issubdtype(a.dtype, mx.inexact):
        return _product(mx.matmul, None, a, b)
    return int_bilinear(mx.matmul, a, b, a.shape[-1])


# Note [Exact integer products]
# torch multiplies integer matrices in their own type: every product and sum wraps modulo 2**bits, so the result is
# the exact one reduced modulo 2**bits. MLX's matmul is floating-point only. A float64 product is exact while each
# output's sum of k products stays below 2**53, which int8/uint8 (and int16 up to k = 2**23) always meet, so
# those take one float64 product on the CPU. Wider types split each operand's two's-complement bits into limbs of
# w bits (unsigned, so every partial product is non-negative), with w chosen from k so that a limb product's sum
# is exact (2w + log2(k+1) <= 53: 16-bit limbs up to k = 2**21). The result is the sum of the limb products
# A_i @ B_j shifted left by w(i + j), in uint64 arithmetic, which wraps modulo 2**64 as the C++ it runs in
# defines; pairs whose shift reaches the type's width vanish modulo 2**bits and are skipped (int32: 3 products,
# int64: 10). The narrowing to the result type is modular too. Each limb product is one float64 BLAS call
# (`fn`: matmul, or any other bilinear map, e.g. einsum of two operands), so a product stays a product and needs
# no value read (it traces under compile). Bool and the unsigned types wider than 8 bits raise torch's
# NotImplementedError (`_check_product_dtype`); on a GPU the products run on MLX's CPU stream (float64).


def int_bilinear(fn, a, b, k):
    """fn(a, b) for integer MLX arrays a and b of one dtype, exactly as torch's integer kernels wrap (Note [Exact
    integer products]); fn is bilinear and sums at most k products per output element; the float64 products
    run on the CPU stream. Returns an array of a's dtype."""
    dt = a.dtype
    bits = dt.size * 8
    room = 53 - max(1, k).bit_length()
    wide = mx.float64
    signed = dt in (mx.int8, mx.int16, mx.int32, mx.int64)
    if bits <= 16 and 2 * bits - (2 if signed else 0) <= room:  # |a_i * b_i| below 2**(2 * bits - 2), or 2 * bits
        r = fn(a.astype(wide, stream=CPU), b.astype(wide, stream=CPU), stream=CPU)
        return r.astype(mx.int64, stream=CPU).astype(dt, stream=CPU)
    w = min(16, room // 2)
    n = -(-bits // w)
    mask = (1 << w) - 1
    u64 = mx.uint64

    def limbs(x):
        u = x.astype(u64, stream=CPU)
        return [mx.bitwise_and(mx.right_shift(u, w * i, stream=CPU) if i else u, mask, stream=CPU)
                .astype(wide, stream=CPU) for i in builtins.range(n)]

    la, lb = limbs(a), limbs(b)
    acc = None
    for i in builtins.range(n):
        for j in builtins.range(n - i):
            if w * (i + j) >= bits:
                continue
            p = fn(la[i], lb[j], stream=CPU).astype(u64, stream=CPU)
            if i + j:
                p = mx.left_shift(p, w * (i + j), stream=CPU)
            acc = p if acc is None else mx.add(acc, p, stream=CPU)
    return acc.astype(dt, stream=CPU)


def _check_product_dtype(dt, kernel):
    """torch's NotImplementedError for products of bool and of unsigned types wider than 8 bits; kernel: the name
    torch's CPU kernel reports (addmm_impl_cpu_, addmv_impl_cpu, bmm, baddbmm, dot, addr_cpu)."""
    if dt in (_dtype.bool, _dtype.uint16, _dtype.uint32, _dtype.uint64):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dname(dt)}\'')


def _check_same_dtype(a, b, msg):
    if a.dtype is not b.dtype:
        raise RuntimeError(msg)


def _check_alpha_beta(dt, beta, alpha):
    if _is_int(dt):
        for n, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, builtins.float) or (isinstance(v, Tensor) and v.dtype.is_floating_point):
                raise RuntimeError(f"For integral input tensors, argument {n} must not be a floating point number.")


def _scal(v):
    return v.item() if isinstance(v, Tensor) else v


# ---------------------------------------------------------------- vector / matrix products


def _check_vectors(fname, a, b, b_name):
    """torch's checks for dot/vdot: two 1-D tensors of one dtype and length."""
    _tensor(a, fname), _tensor(b, fname, b_name, 2)
    if a.dim() != 1 or b.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.dim()}D and {b.dim()}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_dname(a.dtype)} and "
                           f"{_dname(b.dtype)}")
    if a.shape[0] != b.shape[0]:
        n, m = a.shape[0], b.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")


def dot(input, tensor, *, out=None):
    _check_vectors("dot", input, tensor, "tensor")
    _check_product_dtype(input.dtype, "dot")
    return _out(out, mlx_op("DotBackward0", lambda a, b: mx.sum(a * b).astype(a.dtype) if _is_int(input.dtype) else
                            mx.inner(a, b), [input, tensor]))


def vdot(input, other, *, out=None):
    _check_vectors("vdot", input, other, "other")
    _check_product_dtype(input.dtype, "dot")
    cplx = input.dtype.is_complex
    return _out(out, mlx_op("VdotBackward0", lambda a, b: mx.sum((mx.conj(a) if cplx else a) * b).astype(a.dtype),
                            [input, other]))


def outer(input, vec2, *, out=None):
    _tensor(input, "outer"), _tensor(vec2, "outer", "vec2", 2)
    if input.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    return _out(out, input.reshape(-1, 1) * vec2)


ger = outer


def inner(input, other, *, out=None):
    _tensor(input, "inner"), _tensor(other, "inner", "other", 2)
    if input.dim() == 0 or other.dim() == 0:
        return _out(out, input * other)
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    _check_product_dtype(input.dtype, "dot" if input.numel() == input.shape[-1] and other.numel() == other.shape[-1]
                         else "addmm_impl_cpu_")  # as tensordot's
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return _out(out, tensordot(input, other, dims=([-1], [-1])))


def mv(input, vec, *, out=None):
    _tensor(input, "mv"), _tensor(vec, "mv", "vec", 2)
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    if input.dtype is not vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_dname(input.dtype)}, "
                           f"{_dname(input.dtype)}, and {_dname(vec.dtype)}")
    _check_product_dtype(input.dtype, "addmv_impl_cpu")
    return _out(out, mlx_op("MvBackward0", lambda a, b: _mm(a, b[:, None])[:, 0], [input, vec]))


def _addprod(name, input, prods, ins, beta, alpha, out, out_shape):
    """beta * input + alpha * prod(mats), input broadcast to out_shape; beta == 0 ignores input (nan too)."""
    _check_alpha_beta(input.dtype, beta, alpha)
    beta, alpha = _scal(beta), _scal(alpha)
    try:
        mx.broadcast_shapes(tuple(input.shape), tuple(out_shape))
        ok = len(input.shape) <= len(out_shape) and mx.broadcast_shapes(tuple(input.shape), tuple(out_shape)) == \
            tuple(out_shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"The expanded size of the tensor ({out_shape[-1]}) must match the existing size "
                           f"({input.shape[-1] if input.dim() else 1}) at non-singleton dimension "
                           f"{len(out_shape) - 1}.  Target sizes: {list(out_shape)}.  Tensor sizes: "
                           f"{list(input.shape)}")

    def f(inp, *mats):
        p = prods(*mats)
        if alpha != 1:
            p = p * alpha
        if beta == 0:
            return mx.broadcast_to(p, tuple(out_shape))
        return mx.broadcast_to((inp if beta == 1 else inp * beta) + p, tuple(out_shape))

    return _out(out, mlx_op(name, f, [input] + ins))


def _same3(fname, a, b, c):
    if not (a.dtype is b.dtype is c.dtype):
        raise RuntimeError(f"{fname} input tensors must have the same dtype, but got {_dname(a.dtype)}, "
                           f"{_dname(b.dtype)}, and {_dname(c.dtype)}")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    for x, n, p in ((input, "input", 1), (mat, "mat", 2), (vec, "vec", 3)):
        _tensor(x, "addmv", n, p)
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or (input.dim() == 1 and input.shape[0] not in (1, mat.shape[0])):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    _same3("addmv", input, mat, vec)
    _check_product_dtype(input.dtype, "addmv_impl_cpu")
    return _addprod("AddmvBackward0", input, lambda a, b: _mm(a, b[:, None])[:, 0], [mat, vec], beta, alpha, out,
                    (mat.shape[0],))


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    for x, n, p in ((input, "input", 1), (vec1, "vec1", 2), (vec2, "vec2", 3)):
        _tensor(x, "addr", n, p)
    if vec1.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    if input.dtype is _dtype.bool:
        beta, alpha = builtins.bool(beta), builtins.bool(alpha)
    else:
        _check_product_dtype(vec1.dtype, "addr_cpu")
    return _addprod("AddrBackward0", input, lambda a, b: a[:, None] * b[None, :], [vec1, vec2], beta, alpha, out,
                    (vec1.shape[0], vec2.shape[0]))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    for x, n, p in ((input, "input", 1), (batch1, "batch1", 2), (batch2, "batch2", 3)):
        _tensor(x, "baddbmm", n, p)
    if batch1.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, n, m = batch1.shape
    if batch2.shape[0] != b or batch2.shape[1] != m:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")
    if not (input.dtype is batch1.dtype is batch2.dtype):
        raise RuntimeError(f"expected scalar type {_dname(input.dtype)} but found "
                           f"{_dname(batch1.dtype if batch1.dtype is not input.dtype else batch2.dtype)}")
    _check_product_dtype(input.dtype, "baddbmm")
    return _addprod("BaddbmmBackward0", input, _mm, [batch1, batch2], beta, alpha, out, (b, n, batch2.shape[2]))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    for x, n, p in ((input, "input", 1), (batch1, "batch1", 2), (batch2, "batch2", 3)):
        _tensor(x, "addbmm", n, p)
    if batch1.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, n, m = batch1.shape
    if batch2.shape[0] != b:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {batch2.shape[0]}")
    if batch2.shape[1] != m:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{m} and {batch2.shape[1]}x{batch2.shape[2]})")
    if not (input.dtype is batch1.dtype is batch2.dtype):
        raise RuntimeError(f"expected scalar type {_dname(input.dtype)} but found "
                           f"{_dname(batch1.dtype if batch1.dtype is not input.dtype else batch2.dtype)}")
    _check_product_dtype(input.dtype, "addmm_impl_cpu_")
    wide = input.dtype is _dtype.float32 and input._device_code == 0

    def prods(a, c):
        # the batch sum of float32 products is accumulated in float64 on the CPU: torch's float32 kernel sums in
        # its own order, and only the exact sum rounded once stays within 1e-5 of it on cancelling entries
        if wide:
            return mx.sum(_mm(a.astype(mx.float64), c.astype(mx.float64)), axis=0).astype(mx.float32)
        return mx.sum(_mm(a, c), axis=0).astype(a.dtype)  # an integer sum keeps the operands' type

    return _addprod("AddbmmBackward0", input, prods, [batch1, batch2], beta, alpha, out, (n, batch2.shape[2]))


def tensordot(a, b, dims=2, out=None):
    _tensor(a, "tensordot", "a"), _tensor(b, "tensordot", "b", 2)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, builtins.int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(builtins.range(a.dim() - dims, a.dim()))
        db = list(builtins.range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dimensions")
        da, db = dims
        da = [da] if isinstance(da, builtins.int) else list(da)
        db = [db] if isinstance(db, builtins.int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    da = [_wrap_dim(d, builtins.max(a.dim(), 1)) for d in da]
    db = [_wrap_dim(d, builtins.max(b.dim(), 1)) for d in db]
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    # torch's product is a dot where both free sides are one element, else a matrix product
    free_a = math.prod(a.shape[d] for d in builtins.range(a.dim()) if d not in da)
    free_b = math.prod(b.shape[d] for d in builtins.range(b.dim()) if d not in db)
    _check_product_dtype(a.dtype, "dot" if free_a == 1 and free_b == 1 else "addmm_impl_cpu_")
    for x, y in zip(da, db):  # a size-1 contracted dim broadcasts against the other side's (summed there), as torch
        if a.shape[x] == 1 and b.shape[y] != 1:
            b = b.sum(y, keepdim=True)
        elif b.shape[y] == 1 and a.shape[x] != 1:
            a = a.sum(x, keepdim=True)
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    ra = [d for d in builtins.range(a.dim()) if d not in da]
    rb = [d for d in builtins.range(b.dim()) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    oshape = tuple(a.shape[d] for d in ra) + tuple(b.shape[d] for d in rb)

    def f(x, y):
        xm = mx.transpose(x, ra + da).reshape(math.prod(x.shape[d] for d in ra), k)
        ym = mx.transpose(y, db + rb).reshape(k, math.prod(y.shape[d] for d in rb))
        return _mm(xm, ym).reshape(oshape)

    return _out(out, mlx_op("TensordotBackward0", f, [a, b]))


def kron(input, other, *, out=None):
    _tensor(input, "kron"), _tensor(other, "kron", "other", 2)
    n = builtins.max(input.dim(), other.dim())
    a = input.reshape((1,) * (n - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.dim()) + tuple(other.shape))
    # a[i0, None, i1, None, ...] * b[None, j0, None, j1, ...] -> (i0*j0, i1*j1, ...)
    ia, ib = [], []
    for s, t in zip(a.shape, b.shape):
        ia += [s, 1]
        ib += [1, t]
    r = a.reshape(ia) * b.reshape(ib)
    return _out(out, r.reshape(tuple(s * t for s, t in zip(a.shape, b.shape))))


def _parse_einsum(equation, shapes):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(shapes) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for t, s in zip(terms, shapes):
        for c in t.replace("...", ""):
            if not c.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation "
                                   f"string, subscripts must be in [a-zA-Z]")
        if "..." in t:
            ell_n = builtins.max(ell_n, len(s) - (len(t) - 3))
        elif len(t) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                               f"number of dimensions ({len(s)}) for operand {terms.index(t)} and no ellipsis was "
                               f"given")
    ell = "".join(free[:ell_n])
    new_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_n - k:] if k else "")
        new_terms.append(t)
    if rhs is None:
        counts = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if c not in "".join(new_terms):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
    return ",".join(new_terms) + "->" + rhs


def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) -> (equation, operands)."""
    def letters(sub):
        out = ""
        for v in sub:
            if v is Ellipsis:
                out += "..."
            elif isinstance(v, builtins.int) and 0 <= v < 52:
                out += string.ascii_letters[v]
            else:
                raise RuntimeError(f"einsum(): subscript in subscript list is not within the valid range [0, 52)")
        return out

    args = list(args)
    ops, terms = [], []
    while len(args) >= 2:
        ops.append(args.pop(0))
        terms.append(letters(args.pop(0)))
    eq = ",".join(terms)
    if args:
        eq += "->" + letters(args[0])
    return eq, ops


def einsum(*args):
    """torch.einsum(equation, *operands), einsum(equation, [operands]) or the sublist form
    einsum(op0, [0, 1], op1, [1, 2], [0, 2]); ellipsis broadcasts."""
    if args and isinstance(args[0], Tensor):
        equation, ops = _sublist_equation(args)
    elif not args or not isinstance(args[0], str):
        raise TypeError("einsum(): argument 'equation' (position 1) must be str")
    else:
        equation, ops = args[0], list(args[1:])
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = list(ops[0])
    if not ops:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    for i, o in enumerate(ops):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, not {type(o).__name__}")
    eq = _parse_einsum(equation, [tuple(o.shape) for o in ops])
    terms, rhs = eq.split("->")[0].split(","), eq.split("->")[1]
    if builtins.any(o.dtype is not ops[0].dtype for o in ops):
        # torch contracts operand pairs with bmm (same dtype required) and only multiplies (promoting) otherwise
        contracted = builtins.any(builtins.sum(c in t for t in terms) > 1 and c not in rhs for c in set("".join(terms)))
        if contracted:
            other = next(o.dtype for o in ops if o.dtype is not ops[0].dtype)
            raise RuntimeError(f"expected scalar type {_dname(ops[0].dtype)} but found {_dname(other)}")
    rt = ops[0].dtype
    for o in ops[1:]:
        rt = _C._promote_types(rt, o.dtype)
    ops = [o if o.dtype is rt else o.to(rt) for o in ops]
    integer = _is_int(rt)
    summed = set("".join(terms)) - set(rhs)
    if integer and builtins.any(builtins.sum(c in t for t in terms) > 1 for c in summed):
        _check_product_dtype(rt, "bmm")  # torch contracts with bmm
    if integer and len(ops) == 1 and summed:
        ops = [ops[0].long()]  # an integer sum: int64, as torch's
    if integer and len(ops) == 2:  # the products one output element sums, for Note [Exact integer products]
        k = math.prod(builtins.max(o.shape[t.index(c)] if c in t else 1 for t, o in zip(terms, ops)) for c in summed)

    def f(*xs):
        if integer and len(xs) == 2:  # Note [Exact integer products]
            return int_bilinear(lambda x, y, stream: mx.einsum(eq, x, y, stream=stream), xs[0], xs[1], k)
        if integer and len(xs) > 2:  # exact while every sum stays below 2**53
            return mx.einsum(eq, *[x.astype(mx.float64) for x in xs], stream=CPU).astype(xs[0].dtype)
        return mx.einsum(eq, *xs)  # one integer operand: MLX's integer sums and diagonals

    # MLX requires sizes to match exactly; torch broadcasts size-1 dims of the same letter
    sizes = {}
    lhs = eq.split("->")[0].split(",")
    for t, o in zip(lhs, ops):
        for c, s in zip(t, o.shape):
            if s != 1:
                if sizes.get(c, s) != s:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped)")
                sizes[c] = s
    exp = []
    for t, o in zip(lhs, ops):
        tgt = tuple(sizes.get(c, 1) for c in t)
        exp.append(o if tuple(o.shape) == tgt else o.expand(tgt))
    return mlx_op("EinsumBackward0", f, exp)


# ---------------------------------------------------------------- triangles, diagonals, trace


def _tri(name, input, diagonal, out, upper):
    _tensor(input, name)
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    k = builtins.int(diagonal)
    if not -(2 ** 63) <= k < 2 ** 63:  # torch reads the offset as an int64
        raise ValueError("Overflow when unpacking long long")

    def f(x):
        n, m = x.shape[-2], x.shape[-1]
        # a diagonal past either side keeps all or nothing (MLX's tri takes a C int: 2**40 raised its TypeError)
        kk = builtins.max(builtins.min(k - 1 if upper else k, m), -n - 1)
        mask = mx.tri(n, m, kk, dtype=mx.bool_)
        if upper:
            mask = mx.logical_not(mask)
        return mx.where(mask, x, mx.zeros((), dtype=x.dtype))

    return _out(out, mlx_op("TriuBackward0" if upper else "TrilBackward0", f, [input]))


def tril(input, diagonal=0, *, out=None):
    return _tri("tril", input, diagonal, out, False)


def triu(input, diagonal=0, *, out=None):
    return _tri("triu", input, diagonal, out, True)


def _method_fill_diagonal_(self, fill_value, wrap=False):
    """Tensor.fill_diagonal_ as torch's: the main diagonal (every index equal) is a strided view of the storage,
    filled in place; with wrap, a tall matrix's diagonal restarts every width + 1 rows."""
    if type(wrap) is not bool:
        raise TypeError(f"fill_diagonal_(): argument 'wrap' (position 2) must be bool, not {type(wrap).__name__}")
    nd = self.dim()
    if nd < 2:
        raise RuntimeError("dimensions must larger than 1")
    height, width = self.shape[0], self.shape[1]
    if nd > 2 and builtins.any(n != height for n in self.shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    size = builtins.min(height, width)
    stride = builtins.sum(self.stride())
    offset = self.storage_offset()
    self.as_strided((size,), (stride,), offset).fill_(fill_value)
    if wrap and nd == 2 and height > width + 1:
        step = width + 1
        rest = (self.numel() + step - 1) // step - size
        self.as_strided((rest,), (stride,), offset + self.stride(0) * step).fill_(fill_value)
    return self


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    _tensor(input, "diag_embed")
    n = input.dim() + 1
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = input.shape[-1] + builtins.abs(offset) if input.dim() else 1 + builtins.abs(offset)

    def f(x):
        if x.ndim == 0:
            x = x.reshape(1)
        m = x.shape[-1]
        i = mx.arange(size)
        # result[..., r, c] = x[..., r] if c == r + offset (for offset >= 0)
        rows = i[:, None]
        cols = i[None, :]
        src = mx.where(offset >= 0, rows, cols)
        hit = (cols - rows) == offset
        if x.size == 0:  # MLX's take/scatter vjp fails on empty arrays
            r = mx.zeros(x.shape[:-1] + (size, size), dtype=x.dtype)
        else:
            src = mx.clip(src, 0, m - 1)
            vals = mx.take(x, src.reshape(-1), axis=-1).reshape(x.shape[:-1] + (size, size))
            r = mx.where(hit, vals, mx.zeros((), dtype=x.dtype))
        # r has the diagonal in the last two dims: move them to (d1, d2)
        nd = r.ndim
        rest = [a for a in builtins.range(nd - 2)]
        perm = [None] * nd
        others = iter(rest)
        for p in builtins.range(nd):
            if p == d1:
                perm[p] = nd - 2
            elif p == d2:
                perm[p] = nd - 1
            else:
                perm[p] = next(others)
        return mx.transpose(r, perm)

    return mlx_op("DiagEmbedBackward0", f, [input])


def diag(input, diagonal=0, *, out=None):
    _tensor(input, "diag")
    if input.dim() == 1:
        return _out(out, diag_embed(input, diagonal))
    if input.dim() == 2:
        k = builtins.int(diagonal)
        return _out(out, mlx_op("DiagonalBackward0", lambda x: mx.diagonal(x, k, 0, 1), [input]))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def diagflat(input, offset=0):
    _tensor(input, "diagflat")
    return diag_embed(input.reshape(-1), offset)


def trace(input):
    _tensor(input, "trace")
    if input.dim() != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.dim()))
    if input.dtype is _dtype.bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    rt = _dtype.int64 if _is_int(input.dtype) else input.dtype
    if input.numel() == 0:  # MLX's trace vjp fails on empty matrices
        return mlx_op("TraceBackward0", lambda x: (mx.sum(x) * 0).astype(rt._mx), [input])
    return mlx_op("TraceBackward0", lambda x: mx.trace(x).astype(rt._mx), [input])


# ---------------------------------------------------------------- cross, cdist


def _cross_impl(input, other, d):
    def f(a, b):
        a0, a1, a2 = (mx.take(a, mx.array([i]), axis=d) for i in builtins.range(3))
        b0, b1, b2 = (mx.take(b, mx.array([i]), axis=d) for i in builtins.range(3))
        return mx.concatenate([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=d)

    return mlx_op("LinalgCrossBackward0", f, [input, other])


def _cross_common(input, other, dim, fname):
    _tensor(input, fname), _tensor(other, fname, "other", 2)
    if input.dim() != other.dim():
        raise RuntimeError(f"{fname}: inputs must have the same number of dimensions.")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {_dname(input.dtype)} but found {_dname(other.dtype)}")
    try:
        shape = mx.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at non-singleton dimension")
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = _wrap_dim(dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{fname}: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    a = input if tuple(input.shape) == shape else input.expand(shape)
    b = other if tuple(other.shape) == shape else other.expand(shape)
    return _cross_impl(a, b, d)


def cross(input, other, dim=None, *, out=None):
    if dim is None:

        _warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
              "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
              "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
    return _out(out, _cross_common(input, other, dim, "linalg.cross"))


def _pnorm_last(d, p):
    """p-norm over the last axis, MLX, with zero (sub)gradient where the norm is 0 (as torch)."""
    if p == 0:
        return mx.sum((d != 0).astype(d.dtype), axis=-1)
    if p == math.inf:
        return mx.max(mx.abs(d), axis=-1)
    if p == -math.inf:
        return mx.min(mx.abs(d), axis=-1)
    if p == 1:
        return mx.sum(mx.abs(d), axis=-1)
    if p == 2:
        s = mx.sum(d * d, axis=-1)
        pos = s > 0
        return mx.where(pos, mx.sqrt(mx.where(pos, s, 1)), 0)
    a = mx.abs(d)
    nz = a > 0
    s = mx.sum(mx.where(nz, mx.power(mx.where(nz, a, 1), p), 0), axis=-1)
    pos = s > 0
    return mx.where(pos, mx.power(mx.where(pos, s, 1), 1.0 / p), 0)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    _tensor(x1, "cdist", "x1"), _tensor(x2, "cdist", "x2", 2)
    if x1.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    if not x1.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_dname(x1.dtype)}")
    if not x2.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {_dname(x2.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_dname(x1.dtype)} but found {_dname(x2.dtype)}")
    if x1.dtype in (_dtype.float16, _dtype.bfloat16) and x1._device_code == 0:
        raise NotImplementedError(f"\"cdist\" not implemented for '{_dname(x1.dtype)}'")  # as torch's CPU kernel
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes and compute_mode is not None:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    try:
        batch = mx.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise RuntimeError("The size of tensor a must match the size of tensor b at non-singleton dimension")
    r1, r2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode in (None, modes[0]) and (r1 > 25 or r2 > 25)))

    def f(a, b):
        a = mx.broadcast_to(a, batch + tuple(a.shape[-2:]))
        b = mx.broadcast_to(b, batch + tuple(b.shape[-2:]))
        if use_mm:
            # torch's matrix-product path: |a|^2 + |b|^2 - 2 a.b, clamped at 0
            s = (mx.sum(a * a, axis=-1)[..., :, None] + mx.sum(b * b, axis=-1)[..., None, :]
                 - 2 * mx.matmul(a, mx.swapaxes(b, -1, -2)))
            s = mx.maximum(s, 0)
            pos = s > 0
            return mx.where(pos, mx.sqrt(mx.where(pos, s, 1)), 0)
        return _pnorm_last(a[..., :, None, :] - b[..., None, :, :], p)

    return mlx_op("CdistBackward0", f, [x1, x2])


# ---------------------------------------------------------------- decompositions (used by linalg.py)


def _la_check(A, fname, square=True, floating=True, name="A"):
    _tensor(A, fname, name)
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if floating and not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {_dname(A.dtype)}")
    if A.dtype in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {_dname(A.dtype)}")
    if A.dtype.is_complex:
        raise NotImplementedError(f"mlx_compat: {fname} of complex tensors is not supported (MLX's linalg is real)")


def _evaluated(arrs, fname, msg):
    """Evaluate MLX linalg results now so their failures surface as torch's LinAlgError (torch syncs too)."""
    try:
        _C._eval(*arrs)  # under the evaluation lock (Note [Threads])
    except (ValueError, RuntimeError) as e:
        raise LinAlgError(msg) from e
    return arrs


def _prim(name, fwd, inputs, backward, nsaved_out=None, out_dtypes=None):
    """Outputs of fwd(*mx values) as tensors with a recorded node `name`; backward(saved, grads) gets the
    snapshots (inputs..., outputs...) and computes input grads with this package's ops (so it is differentiable)."""
    dev = inputs[0]._device_code
    outs = fwd(*[t._mx for t in inputs])
    multi = isinstance(outs, (tuple, list))
    outs = list(outs) if multi else [outs]
    res = [_new(o, dev, (out_dtypes[i] if out_dtypes else None) or _dtype.from_mx(o.dtype)) for i, o in
           enumerate(outs)]
    n = len(inputs)

    def bw(ctx, grads):
        saved = ctx[:-1]
        return tuple(backward(saved[:n], saved[n:], grads))

    if backward is not None:
        record(name, bw, inputs, [r for r in res], saved=list(inputs) + res)
    return tuple(res) if multi else res[0]


def _mH(x):
    return x.mT


def _batch_eye_like(x, n):
    from .creation import eye

    return eye(n, dtype=x.dtype, device=x.device)


def inv_(A):
    def fwd(a):
        if a.size == 0:  # MLX's kernels crash on empty matrices
            return a
        return _evaluated([mx.linalg.inv(a, stream=CPU)], "linalg.inv",
                          "linalg.inv: The diagonal element 1 is zero, the inversion could not be completed because "
                          "the input matrix is singular.")[0]

    def bw(ins, outs, grads):
        Ai = outs[0]
        g = grads[0]
        return (-(_mH(Ai) @ g @ _mH(Ai)),)

    return _prim("LinalgInvExBackward0", fwd, [A], bw)


def solve_(A, B):
    """X with A X = B, A (*, n, n), B (*, n, k) broadcast over batch dims."""
    batch = tuple(mx.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    A = A if tuple(A.shape[:-2]) == batch else A.expand(batch + tuple(A.shape[-2:]))
    B = B if tuple(B.shape[:-2]) == batch else B.expand(batch + tuple(B.shape[-2:]))

    def fwd(a, b):
        if a.size == 0 or b.size == 0:
            return mx.zeros(b.shape, dtype=b.dtype)
        return _evaluated([mx.linalg.solve(a, b, stream=CPU)], "linalg.solve",
                          "torch.linalg.solve: The solver failed because the input matrix is singular.")[0]

    def bw(ins, outs, grads):
        a, _ = ins
        X = outs[0]
        g = grads[0]
        gB = solve_(_mH(a), g)
        gA = -(gB @ _mH(X))
        return gA, gB

    return _prim("LinalgSolveExBackward0", fwd, [A, B], bw)


def slogdet_(A):
    def fwd(a):
        if a.size == 0:
            return [mx.ones(a.shape[:-2], dtype=a.dtype), mx.zeros(a.shape[:-2], dtype=a.dtype)]
        s, l = mx.linalg.slogdet(a, stream=CPU)
        return [s, l]

    def bw(ins, outs, grads):
        g = grads[1]
        if g is None:
            return (None,)
        return (g[..., None, None] * _mH(inv_(ins[0])),)

    return _prim("LinalgSlogdetBackward0", fwd, [A], bw)


def det_(A):
    def fwd(a):
        if a.size == 0:
            return mx.ones(a.shape[:-2], dtype=a.dtype)
        return mx.linalg.det(a, stream=CPU)

    def bw(ins, outs, grads):
        g = grads[0]
        try:
            return ((g * outs[0])[..., None, None] * _mH(inv_(ins[0])),)
        except LinAlgError:
            # singular A: the cofactors from the SVD, as torch's create_graph path. torch's first-order path
            # solves det * I through LU, whose answer there is det's rounding residue times A^-T (zeros on one
            # CPU's LAPACK, cofactor-sized on another); the cofactors are the derivative itself.
            return (_det_backward_svd(g, ins[0]),)

    return _prim("LinalgDetBackward0", fwd, [A], bw)


def _det_backward_svd(g, A):
    """d det(A) / dA for singular A (torch's fallback): the cofactor matrix from the SVD,
    det(U) det(Vh) U diag(prod_{j != i} S_j) Vh."""
    U, S, Vh = svd_(A, False)
    n = S.shape[-1]

    def others(s):
        eye = mx.eye(n, dtype=mx.bool_)
        return mx.prod(mx.where(eye, mx.ones((), dtype=s.dtype), s[..., None, :]), axis=-1)

    P = mlx_op("ProdBackward0", others, [S])
    sgn = (det_(U.detach()) * det_(Vh.detach()))[..., None, None]
    return (g[..., None, None] * sgn) * ((U * P[..., None, :]) @ Vh)


def cholesky_(A, upper=False, fname="linalg.cholesky"):
    def fwd(a):
        if a.size == 0:
            return a
        L = mx.linalg.cholesky(a, upper=upper, stream=CPU)
        d = mx.diagonal(L, axis1=-2, axis2=-1)
        bad = mx.logical_not(d > 0)
        if bad.size and _mx_item(mx.any(bad)):
            import numpy as np

            b = np.array(bad).reshape(-1, bad.shape[-1])
            row = builtins.int(np.argmax(b.any(axis=1)))
            k = builtins.int(np.argmax(b[row])) + 1
            pre = f"(Batch element {row}): " if a.ndim > 2 else ""
            raise LinAlgError(f"{fname}: {pre}The factorization could not be completed because the input is not "
                              f"positive-definite (the leading minor of order {k} is not positive-definite).")
        return L

    def bw(ins, outs, grads):
        L = outs[0]
        gL = grads[0]
        if upper:
            L, gL = _mH(L), _mH(gL)
        phi = tril(_mH(L) @ gL)
        phi = 0.5 * (phi + _mH(tril(phi, -1)))
        Li = inv_(L)
        gA = _mH(Li) @ phi @ Li
        return (gA,)

    return _prim("LinalgCholeskyExBackward0", fwd, [A], bw)


def eigh_(A, UPLO="L"):
    def fwd(a):
        if a.size == 0:
            return [mx.zeros(a.shape[:-1], dtype=a.dtype), a]
        w, v = mx.linalg.eigh(a, UPLO=UPLO, stream=CPU)
        return [w, v]

    def bw(ins, outs, grads):
        L, V = outs
        gL, gV = grads
        if gV is None:
            return ((V * gL[..., None, :]) @ _mH(V),)
        VhgV = _mH(V) @ gV
        VhgV = 0.5 * (VhgV - _mH(VhgV))
        from .creation import eye

        n = L.shape[-1]
        I = eye(n, dtype=L.dtype, device=L.device)
        E = L[..., None, :] - L[..., :, None]
        E = E + I  # diagonal of E is 0: fill with 1 (VhgV's diagonal is 0)
        gA = VhgV / E
        if gL is not None:
            gA = gA + I * gL[..., None, :]
        return (V @ gA @ _mH(V),)

    return _prim("LinalgEighBackward0", fwd, [A], bw)


def _skew(x):
    return x - _mH(x)


def svd_(A, full_matrices=True):
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)

    def fwd(a):
        if a.size == 0:
            bs = a.shape[:-2]
            U = mx.broadcast_to(mx.eye(m, dtype=a.dtype), bs + (m, m))
            Vh = mx.broadcast_to(mx.eye(n, dtype=a.dtype), bs + (n, n))
            S = mx.zeros(bs + (0,), dtype=a.dtype)
        else:
            U, S, Vh = mx.linalg.svd(a, stream=CPU)
        if not full_matrices:
            U, Vh = U[..., :, :k], Vh[..., :k, :]
        return [U, S, Vh]

    def bw(ins, outs, grads):
        U, S, Vh = outs
        gU, gS, gVh = grads
        if full_matrices:
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :, :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        return (_svd_backward(gU, gS, gVh, U, S, Vh),)

    return _prim("LinalgSvdBackward0", fwd, [A], bw)


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """torch's svd_backward (FunctionsManual.cpp), real case, reduced factors."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        return (U * gS[..., None, :]) @ Vh
    from .creation import eye

    k = S.shape[-1]
    I = eye(k, dtype=S.dtype, device=S.device)
    S2 = S * S
    E = S2[..., None, :] - S2[..., :, None] + I
    Ssub = S[..., None, :]
    Scol = S[..., :, None]
    if gU is not None:
        UhgU = _skew(_mH(U) @ gU)
    if gVh is not None:
        V, gV = _mH(Vh), _mH(gVh)
        VhgV = _skew(_mH(V) @ gV)
    if gU is not None and gVh is not None:
        ret = (UhgU * Ssub + Scol * VhgV) / E
    elif gU is not None:
        ret = (UhgU / E) * Ssub
    else:
        ret = Scol * (VhgV / E)
    if gS is not None:
        ret = ret + I * gS[..., None, :]
    if m > k and gU is not None:
        gA = U @ ret
        gUSinv = gU / Ssub
        gA = gA + gUSinv - U @ (_mH(U) @ gUSinv)
        return gA @ Vh
    if n > k and gVh is not None:
        gA = ret @ Vh
        SinvgVh = gVh / Scol
        gA = gA + SinvgVh - (SinvgVh @ _mH(Vh)) @ Vh
        return U @ gA
    return U @ ret @ Vh


def qr_(A, mode="reduced"):
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)

    def fwd(a):
        if a.size == 0:
            bs = a.shape[:-2]
            qk = m if mode == "complete" else k
            Q = mx.broadcast_to(mx.eye(m, qk, dtype=a.dtype), bs + (m, qk))
            return [Q, mx.zeros(bs + (qk, n), dtype=a.dtype)]
        if mode == "complete" and m > n:
            # Householder QR works column by column: the QR of [A | I] has A's Q as its first columns and the
            # orthogonal complement after them (LAPACK's sign convention kept)
            eye = mx.broadcast_to(mx.eye(m, dtype=a.dtype), a.shape[:-2] + (m, m))
            Q, R = mx.linalg.qr(mx.concatenate([a, eye], axis=-1), stream=CPU)
            return [Q, R[..., :, :n]]
        Q, R = mx.linalg.qr(a, stream=CPU)
        return [Q[..., :, :k], R[..., :k, :]]

    def bw(ins, outs, grads):
        Q, R = outs
        gQ, gR = grads
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        return (_qr_backward(gQ, gR, Q, R),)

    return _prim("LinalgQrBackward0", fwd, [A], bw)


def _copyltu(M):
    """The symmetric matrix whose lower triangle (diagonal included) is M's."""
    lo = tril(M, -1)
    return lo + _mH(lo) + (M * _batch_eye_like(M, M.shape[-1]))


def _qr_backward(gQ, gR, Q, R):
    """Reduced QR derivative (Walter & Lehmann; as TensorFlow's), real case. m >= n: A = QR with R square;
    m < n: A = Q [U | V], the square part U gets the m >= n formula, V's gradient is Q gV."""
    m, n = Q.shape[-2], R.shape[-1]
    if gQ is None:
        gQ = Q * 0
    if gR is None:
        gR = R * 0
    if m >= n:
        M = R @ _mH(gR) - _mH(gQ) @ Q
        b = gQ + Q @ _copyltu(M)
        return _mH(solve_(R, _mH(b)))
    U, gU = R[..., :, :m], gR[..., :, :m]
    gV = gR[..., :, m:]
    Y = Q @ R[..., :, m:]
    gQp = gQ + Y @ _mH(gV)
    M = U @ _mH(gU) - _mH(gQp) @ Q
    b = gQp + Q @ _copyltu(M)
    gX = _mH(solve_(U, _mH(b)))
    gY = Q @ gV
    from .shape import cat

    return cat([gX, gY], -1)


def pinv_record(A, P):
    """Give P = pinv(A) (computed without grad) torch's LinalgPinvBackward0 node (FunctionsManual's
    pinv_backward, which stays finite for rank-deficient A, unlike differentiating through the SVD)."""
    m, n = A.shape[-2], A.shape[-1]

    def bw(ctx, grads):
        a, pA, _ = ctx
        g = grads[0]
        pAh, gh = _mH(pA), _mH(g)
        if m <= n:
            K = gh @ pA
            KpAh = K @ pAh
            return (-_mH(pA @ K) + KpAh - (a @ pA) @ KpAh + (pAh @ pA) @ (gh - K @ a),)
        K = pA @ gh
        pAhK = pAh @ K
        return (-_mH(K @ pA) + (gh - a @ K) @ pA @ pAh + pAhK - pAhK @ pA @ a,)

    record("LinalgPinvBackward0", bw, [A], [P], saved=[A, P])
    return P


def lu_factor_(A):
    def fwd(a):
        if a.size == 0:
            k = builtins.min(a.shape[-2], a.shape[-1])
            return [a, mx.broadcast_to(mx.arange(1, k + 1, dtype=mx.int32), a.shape[:-2] + (k,))]
        LU, piv = mx.linalg.lu_factor(a, stream=CPU)
        return [LU, (piv.astype(mx.int32) + 1)]

    def bw(ins, outs, grads):
        LU, piv = outs
        gLU = grads[0]
        m, n = LU.shape[-2], LU.shape[-1]
        from .creation import eye
        from ..linalg import solve_triangular

        k = builtins.min(m, n)
        L = tril(LU, -1)[..., :, :k] + eye(m, k, dtype=LU.dtype, device=LU.device)
        U = triu(LU)[..., :k, :]
        gL, gU = tril(gLU, -1)[..., :, :k], triu(gLU)[..., :k, :]
        P = _permutation(piv, m, LU.dtype)
        if m == n:
            # torch's linalg_lu_backward (square): A = P L U,
            # gA = P L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}
            phi = tril(_mH(L) @ gL, -1) + triu(gU @ _mH(U))
            Y = _mH(inv_(L)) @ phi @ _mH(inv_(U))
            return (P @ Y,)
        if m < n:  # wide: A = P L [U1 U2]
            G = solve_triangular(_mH(U[..., :, :m]), tril(_mH(L) @ gL - gU @ _mH(U), -1), upper=False, left=False)
            G = _cat_last(G + gU[..., :, :m], gU[..., :, m:], -1)
            return (P @ solve_triangular(_mH(L), G, upper=True, unitriangular=True),)
        # tall: A = P [L1; L2] U
        G = solve_triangular(_mH(L[..., :n, :]), triu(gU @ _mH(U) - _mH(L) @ gL), upper=True, unitriangular=True)
        G = _cat_last(G + gL[..., :n, :], gL[..., n:, :], -2)
        return (P @ solve_triangular(_mH(U), G, upper=False, left=False),)

    return _prim("LinalgLuFactorExBackward0", fwd, [A], bw, out_dtypes=[None, _dtype.int32])


def _cat_last(a, b, dim):
    from .shape import cat

    return cat([a, b], dim)


def _permutation(piv, n, dtype):
    """P with A = P L U from LAPACK's 1-based sequential row swaps (a constant tensor)."""
    import numpy as np

    p = np.asarray(piv.numpy()).reshape(-1, piv.shape[-1]) - 1
    Ps = np.zeros((p.shape[0], n, n))
    for b in builtins.range(p.shape[0]):
        perm = np.arange(n)
        for i, j in enumerate(p[b]):
            perm[i], perm[j] = perm[j], perm[i]
        Ps[b, perm, np.arange(n)] = 1.0  # (P^T A)[i] = A[perm[i]]
    return _new(mx.array(Ps.reshape(tuple(piv.shape[:-1]) + (n, n))).astype(dtype._mx), piv._device_code, dtype)


# ---------------------------------------------------------------- torch.* aliases of torch.linalg


def det(input):
    from .. import linalg

    return linalg.det(input)


def slogdet(input):
    from .. import linalg, return_types

    _la_check(input, "linalg.slogdet")
    s, l = slogdet_(input)
    return return_types.slogdet(s, l)


def logdet(input):
    """log(det(A)): nan for a negative determinant, -inf for a zero one."""
    _la_check(input, "logdet")
    s, l = slogdet_(input)
    from .operators import where

    return where(s < 0, math.nan, l)


def inverse(input, *, out=None):
    from .. import linalg

    return linalg.inv(input, out=out)


def pinverse(input, rcond=1e-15):
    from .. import linalg

    return linalg.pinv(input, rtol=rcond)


def matrix_power(input, n):
    from .. import linalg

    return linalg.matrix_power(input, n)


def chain_matmul(*matrices, out=None):
    from .. import linalg

    _warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
          "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
          "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        return _out(out, matrices[0].clone())
    for m in matrices:
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    return linalg.multi_dot(list(matrices), out=out)


def _check_bool(fname, **flags):
    """torch's parser takes only a bool for a bool parameter (not 0/1, not numpy.bool_)."""
    for name, v in flags.items():
        if type(v) is not bool:
            raise TypeError(f"{fname}(): argument '{name}' must be bool, not {type(v).__name__}")


def svd(input, some=True, compute_uv=True, *, out=None):
    """Legacy torch.svd: (U, S, V) with V = Vh^H; compute_uv=False gives zero-filled full U and V."""
    from .. import linalg, return_types
    from .creation import zeros

    _check_bool("svd", some=some, compute_uv=compute_uv)
    _la_check(input, "linalg.svd", square=False)
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        S = linalg.svdvals(input)
        bs = tuple(input.shape[:-2])
        kw = dict(dtype=input.dtype, device=input.device)
        r = return_types.svd(zeros(bs + (m, m), **kw), S, zeros(bs + (n, n), **kw))
    else:
        U, S, Vh = svd_(input, not some)
        r = return_types.svd(U, S, Vh.mT)
    return _out_tuple(out, r)


def qr(input, some=True, *, out=None):
    """Legacy torch.qr (deprecated in torch, with its warning)."""
    from .. import linalg, return_types

    _check_bool("qr", some=some)
    _warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
          "release.", UserWarning, stacklevel=2)
    Q, R = linalg.qr(input, "reduced" if some else "complete")
    return _out_tuple(out, return_types.qr(Q, R))


def cholesky(input, upper=False, *, out=None):
    """Legacy torch.cholesky (deprecated in torch, with its warning)."""
    from .. import linalg

    _warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
          "PyTorch release.", UserWarning, stacklevel=2)
    return linalg.cholesky(input, upper=upper, out=out)


def mm(input, mat2, *, out=None):
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _out(out, _mm_layout(input, mat2))


def _mm_layout(mat1, mat2, weight=None):
    """mat1 @ mat2 of two matrices as torch.mm: one MmBackward0 node whose gradients take Note [Gradient layout
    of a product]. Real floating operands of one dtype and device whose inner sizes agree; anything else is
    matmul's (which raises torch's errors or takes its general path). weight: given when mat2 is weight.t()
    (nn.functional.linear without a bias), as _record_addmm's."""
    dt = mat1.dtype
    a, b = mat1._mx, mat2._mx
    dev = mat1._device_code
    if (not dt.is_floating_point or dt is _dtype.float64 or mat2.dtype is not dt or a.shape[1] != b.shape[0]
            or mat2._device_code != dev):
        return mat1.matmul(mat2)
    res = _new(_product(mx.matmul, dev, a, b), dev, dt)  # Note [Half-type products on the CPU]
    if _C.is_grad_enabled() and (mat1.requires_grad or mat2.requires_grad):
        ins = (mat1, mat2)
        ctx = [None, None, (_colmajor(mat1), _colmajor(mat2), weight is not None)]
        _C._record("MmBackward0", _scope_backward(_mm_backward, ins), ctx, ins, (res,))
        ctx[0], ctx[1] = _C._snapshot(mat1), _C._snapshot(mat2 if weight is None else weight)
    return res


def _mm_backward(ctx, grads):
    m1, m2, layout = ctx
    return _mm_grads(grads[0], m1, m2, layout)


def bmm(input, mat2, *, out=None):
    if input.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    b, n, m = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != m:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return _out(out, input.matmul(mat2))


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2), with torch's checks; one AddmmBackward0 node.
    Real floating operands take one mx.addmm and a hand-written derivative (nn.functional.linear's path);
    other dtypes go through the composition and the vjp fallback."""
    return _addmm(input, mat1, mat2, beta, alpha, out)


def _addmm(input, mat1, mat2, beta=1, alpha=1, out=None, weight=None):
    """addmm; weight: given when mat2 is weight.t() (nn.functional.linear, _record_addmm)."""
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("mat1 must be a matrix" if mat1.dim() != 2 else "mat2 must be a matrix")
    a, b = mat1._mx, mat2._mx
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    dt = mat1.dtype
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dname(input.dtype)} and "
                           f"{_dname(mat2.dtype)}")
    if dt is not mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dname(dt)} and {_dname(mat2.dtype)}")
    _check_product_dtype(dt, "addmm_impl_cpu_")
    _check_expand(input._mx.shape, (a.shape[0], b.shape[1]))
    if dt.is_floating_point:
        c = input._mx
        dev = mat1._device_code
        # Note [Half-type products on the CPU]
        if beta != 0:
            r = _product(mx.addmm, dev, c, a, b, alpha=alpha, beta=beta)
        else:
            r = _product(mx.matmul, dev, a, b)
            r = r if alpha == 1 else r * alpha
        res = _new(r, dev, dt)
        if _C.is_grad_enabled() and (input.requires_grad or mat1.requires_grad or mat2.requires_grad):
            _record_addmm(input, mat1, mat2, res, beta, alpha, weight)
        return res if out is None else _out(out, res)
    from ..autograd._mlx_vjp import mlx_op

    def f(inp, a, b):
        prod = _mm(a, b)
        prod = prod if alpha == 1 else prod * alpha
        if beta == 0:
            return mx.broadcast_to(prod, prod.shape)
        return (inp if beta == 1 else inp * beta) + prod

    return _out(out, mlx_op("AddmmBackward0", f, [input, mat1, mat2]))


def _check_expand(shape, target):
    """torch's expand check of addmm's input against the product's (n, p) shape (MLX would raise ValueError)."""
    if len(shape) > len(target):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(target)}): the number of sizes "
                           f"provided ({len(target)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shape)})")
    for i in builtins.range(1, len(shape) + 1):
        if shape[-i] != 1 and shape[-i] != target[-i]:
            raise RuntimeError(f"The expanded size of the tensor ({target[-i]}) must match the existing size "
                               f"({shape[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                               f"{list(target)}.  Tensor sizes: {list(shape)}")


def _linear_addmm(bias, input, weight):
    """nn.functional.linear's 2-D case with a bias: addmm(bias, input, weight.t()). The weight.t() view (torch's
    TBackward0 node) is made only when a graph is recorded; otherwise one mx.addmm over weight's transpose,
    with addmm's checks."""
    if _C.is_grad_enabled() and (bias.requires_grad or input.requires_grad or weight.requires_grad):
        return _addmm(bias, input, weight.t(), weight=weight)
    a, w = input._mx, weight._mx
    dt = input.dtype
    if not dt.is_floating_point or a.shape[1] != w.shape[1] or bias.dtype is not dt or weight.dtype is not dt:
        return addmm(bias, input, weight.t())  # addmm raises torch's errors (or takes its general path)
    c = bias._mx
    if c.shape != (w.shape[0],):
        _check_expand(c.shape, (a.shape[0], w.shape[0]))
    dev = input._device_code
    return _new(_product(mx.addmm, dev, c, a, w.T), dev, dt)  # Note [Half-type products on the CPU]


# Note [Gradient layout of a product]
# The gradient of a product's operand is itself a product, and which of two equal products is computed decides
# the memory order of the gradient MLX returns: mat1ᵀ @ grad is row-major, its transpose (grad ᵀ @ mat1)ᵀ is a
# transposed (column-major) array. A weight reaches addmm/mm as weight.t() (nn.functional.linear), a
# column-major view of a row-major parameter, so the row-major mat1ᵀ @ grad becomes, through TBackward0, a
# transposed array as the weight's .grad: the optimizer's update then reads it against row-major parameters and
# state through MLX's general strided loops, and every later op on it copies. As torch's mm_mat1_backward /
# mm_mat2_backward (FunctionsManual.cpp) do, an operand whose strides are column-major (stride (1, rows)) gets
# its gradient as the transposed product instead, (grad ᵀ @ mat1)ᵀ for mat2 and (mat2 @ gradᵀ)ᵀ for mat1,
# which TBackward0 turns back into a row-major array in the parameter's own layout (and, the transposed view
# of a transposed product being its whole base, into the product's own array: Note [Views that are their base] in
# csrc/tensor.c); the values are torch's (the same products in the same order). nn.functional.linear's node saves
# the weight rather than weight.t() (the `weight` argument of _record_addmm / _mm_layout), so grad @ mat2ᵀ is
# grad @ weight, a product of two row-major arrays, where mat2.t() of a saved weight.t() was a transpose of a
# transpose in MLX's graph. tests/ops/test_grad_layout.py checks the layouts through the
# arrays' buffer strides.


def _colmajor(t):
    """True when t is a 2-D tensor whose strides are column-major (torch's test: stride (1, size(0)))."""
    s = t.stride()
    return s[0] == 1 and s[1] == t.shape[0]


def _record_addmm(input, mat1, mat2, res, beta, alpha, weight=None):
    """AddmmBackward0 for addmm's real floating path: the snapshots of mat1/mat2 are saved after recording
    (as `record` does), the formula is torch's (grad·beta summed to input's shape, grad @ mat2ᵀ · alpha,
    mat1ᵀ @ grad · alpha, each in the layout of Note [Gradient layout of a product]) in the package's own ops,
    so create_graph works. weight: given when mat2 is weight.t() (nn.functional.linear); the node then saves
    the weight, whose own array is mat2ᵀ (Note [Gradient layout of a product])."""
    ins = (input, mat1, mat2)
    layout = (_colmajor(mat1), _colmajor(mat2), weight is not None)
    ctx = [None, None, (beta, alpha, tuple(input._mx.shape), layout)]
    _C._record("AddmmBackward0", _scope_backward(_addmm_backward, ins), ctx, ins, (res,))
    ctx[0], ctx[1] = _C._snapshot(mat1), _C._snapshot(mat2 if weight is None else weight)


def _mm_grads(g, m1, m2, layout, alpha=1):
    """The gradients of mat1 @ mat2 (None where not required), Note [Gradient layout of a product]. layout:
    (mat1 column-major, mat2 column-major, m2 holds mat2ᵀ (linear's weight) rather than mat2)."""
    g1 = g2 = None
    m2t = layout[2]
    if m1.requires_grad:
        if layout[0]:
            g1 = (m2.t() if m2t else m2).matmul(g.t()).t()
        else:
            g1 = g.matmul(m2 if m2t else m2.t())
        g1 = g1 if alpha == 1 else g1 * alpha
    if m2.requires_grad:
        g2 = g.t().matmul(m1).t() if layout[1] else m1.t().matmul(g)
        g2 = g2 if alpha == 1 else g2 * alpha
    return g1, g2


def _addmm_backward(ctx, grads):
    m1, m2, (beta, alpha, ishape, layout) = ctx
    g = grads[0]
    g1, g2 = _mm_grads(g, m1, m2, layout, alpha)
    return _sum_to(g if beta == 1 else g * beta, ishape), g1, g2


# ---------------------------------------------------------------- methods


def _method_cross(self, other, dim=None):
    return cross(self, other, dim)


# Tensor methods (Note [Declared Tensor methods] in mlx_compat/_methods.py); the in-place forms from inplace_variant
declare_methods({_name: globals()[_name] for _name in (
    "dot", "vdot", "outer", "ger", "inner", "mv", "kron", "trace", "tril", "triu", "diag", "diag_embed", "diagflat",
    "addmv", "addr", "baddbmm", "addbmm", "det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "svd",
    "qr", "cholesky", "mm", "bmm", "addmm")} | {"cross": _method_cross, "fill_diagonal_": _method_fill_diagonal_},
    inplace=("tril", "triu", "addmv", "addr", "baddbmm", "addbmm", "addmm"))


_C._register_fallback("matmul.integer", lambda a, b, k: int_bilinear(mx.matmul, a, b, k))  # csrc/ops.c's matmul

# never replace what another module already exports: only names mlx_compat lacks so far are star-exported
_pkg = __import__("sys").modules.get(__name__.rpartition(".")[0])
__all__ = [n for n in _PUBLIC if _pkg is None or not hasattr(_pkg, n)]
del _pkg
