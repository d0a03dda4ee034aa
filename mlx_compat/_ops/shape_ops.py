"""Joining, repeating and gathering ops (cat, stack, repeat, index_select, gather) and the matrix
products mm/bmm, with torch's checks and error types. Autograd for them comes with the engine."""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _C, _dtype
from ..autograd._derivatives import _scope_backward, register as _register, sum_to as _sum_to
from .creation import _out as _put
from .fast import fast_path
from .._device_scope import _DEVICES as _STREAMS
from .._tensor import Tensor, _new, _wrap_dim


def _tensors(tensors, fname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _common(tensors):
    d = tensors[0].dtype
    for t in tensors[1:]:
        d = _C._promote_types(d, t.dtype)
    return d


def cat(tensors, dim=0, *, out=None):
    ts = _tensors(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # torch skips legacy empty 1-D tensors of size 0
    real = [t for t in ts if not (t.dim() == 1 and t.shape[0] == 0)] or ts[:1]
    ref = real[0]
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.dim())
    for i, t in enumerate(real):
        if t.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
        for k in builtins.range(ref.dim()):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {t.shape[k]} for tensor number {i} in the list.")
    for t in real:
        if t._device_code != ref._device_code:  # torch's check (cat does not move tensors between devices)
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{ref.device} and {t.device}!")
    rt = _common(ts)
    from ..autograd._mlx_vjp import mlx_op

    ins = [t if t.dtype is rt else t.to(rt) for t in real]
    return _out(out, mlx_op("CatBackward0", lambda *xs: mx.concatenate(list(xs), axis=d), ins, ref._device_code))


@_register("cat", "CatBackward0", saves=False)
def _cat_backward(ctx, grads):
    """The C fast path's derivative (csrc/shape.c): each input's slice of the gradient along dim."""
    dim, sizes = ctx[-1]
    g = grads[0]
    return (None,) * len(sizes) if g is None else tuple(g.split(list(sizes), dim))


# Note [Fast paths fall back] (csrc/fastpath.c): torch.cat is the C fast path; the function above is its
# reference, run for every other argument form and error
cat = fast_path("cat", cat)
concat = cat
concatenate = cat


def stack(tensors, dim=0, *, out=None):
    ts = _tensors(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if tuple(t.shape) != tuple(ts[0].shape):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {i}")
    d = _wrap_dim(dim, ts[0].dim() + 1)
    rt = _common(ts)
    from ..autograd._mlx_vjp import mlx_op

    ins = [t if t.dtype is rt else t.to(rt) for t in ts]
    return _out(out, mlx_op("StackBackward0", lambda *xs: mx.stack(list(xs), axis=d), ins, ts[0]._device_code))


@_register("stack", "StackBackward0", saves=False)
def _stack_backward(ctx, grads):
    """The C fast path's derivative (csrc/shape.c): the gradient unbound along dim."""
    dim, _ = ctx[-1]
    return grads[0].unbind(dim)


stack = fast_path("stack", stack)  # Note [Fast paths fall back]


def _out(out, r):
    return r if out is None else _put(out, r)


def mm(input, mat2, *, out=None):
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _out(out, input.matmul(mat2))


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


def repeat(self, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    from .._tensor import _int_arg

    sizes = tuple(_int_arg(s, "repeat") for s in sizes)
    if len(sizes) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    lead = (1,) * (len(sizes) - self.dim()) + tuple(self.shape)
    from ..autograd._mlx_vjp import mlx_op

    def f(v):
        x = v.reshape(lead)
        if builtins.all(s > 0 for s in sizes):
            return mx.tile(x, sizes)
        return mx.zeros(tuple(a * b for a, b in zip(x.shape, sizes)), dtype=x.dtype)

    return mlx_op("RepeatBackward0", f, [self])


def _check_index(index, fname, allow_int32=True):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fname}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{fname}(): Expected dtype int32 or int64 for index")


def index_select(input, dim, index, *, out=None):
    _check_index(index, "index_select")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d] if input.dim() else 1
    idx = index._mx.reshape(-1)
    # one sync for torch's eager bounds check, skipped while MLX traces (Note [No evaluation while tracing])
    if idx.size and _C._item_or_none(mx.any((idx < -size) | (idx >= size))):
        raise IndexError("index out of range in self")
    idx = mx.where(idx < 0, idx + size, idx)
    scalar = input.dim() == 0
    from ..autograd._mlx_vjp import mlx_op

    def f(v):
        r = mx.take(v.reshape(1) if scalar else v, idx, axis=d)
        return r.reshape(()) if scalar else r

    return _out(out, mlx_op("IndexSelectBackward0", f, [input]))


def gather(input, dim, index, *, sparse_grad=False, out=None):
    if not isinstance(index, Tensor):
        raise TypeError(f"gather(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32) and index.numel():  # torch checks non-empty indices only
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    d = _wrap_dim(dim, input.dim())
    from ..autograd._mlx_vjp import mlx_op

    if index.numel() == 0:  # torch checks nothing more for an empty index; the result has its shape
        return _out(out, mlx_op("GatherBackward0", lambda x: mx.zeros(tuple(index.shape), x.dtype), [input]))
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in builtins.range(index.dim()):
        if k != d and index.shape[k] > input.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(index.shape)} to be no "
                               f"larger than self {list(input.shape)} apart from dimension {d}")
    size = input.shape[d] if input.dim() else 1
    idx = index._mx
    if idx.size:
        lo, hi = _C._item_or_none(mx.min(idx)), _C._item_or_none(mx.max(idx))  # None while traced
        if lo is not None and (lo < 0 or hi >= size):  # gather takes no negative indices (unlike indexing)
            bad = hi if hi >= size else lo
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    else:
        idx = idx.astype(mx.int64)
    widx = idx
    key = tuple(slice(0, index.shape[k]) if k != d else slice(None) for k in builtins.range(index.dim()))
    from ..autograd._mlx_vjp import mlx_op

    if input.dim() == 0 or index.dim() == 0:  # 0-d/1-d mixes: a flat take over at most one element per index
        def f(x):
            return mx.take(x.reshape(-1), widx.reshape(-1)).reshape(tuple(index.shape))

        return _out(out, mlx_op("GatherBackward0", f, [input]))

    def f(x):
        # take_along_axis needs matching non-gather dims: slice the input down to the index's extent
        return mx.take_along_axis(x[key], widx, axis=d)

    return _out(out, mlx_op("GatherBackward0", f, [input]))


def _scatter_coords(index, dim):
    """Full coordinate arrays addressing self[..., index[i][j], ...] for every element of index."""
    coords = []
    for k in builtins.range(index.dim()):
        if k == dim:
            coords.append(index._mx)
        else:
            shape = [1] * index.dim()
            shape[k] = index.shape[k]
            coords.append(mx.broadcast_to(mx.arange(index.shape[k]).reshape(shape), tuple(index.shape)))
    return tuple(coords)


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None, _add_differentiable=False):
    """torch.scatter (src tensor or value; reduce None/'add'/'multiply'). As in torch, the reduce forms
    have no derivative (scatter_add, which shares this code, has one)."""
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if isinstance(src, (builtins.int, builtins.float, builtins.bool)):
        value, src = src, None
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("scatter(): Expected dtype int64 for index")
    d = _wrap_dim(dim, builtins.max(input.dim(), 1))
    if input.dim() == 0 and index.dim() == 0:  # 0-d: the one-element case, through 1-d views
        one = (lambda t: t.reshape(1) if isinstance(t, Tensor) and t.dim() == 0 else t)
        r = scatter(one(input), 0, one(index), one(src), value=value, reduce=reduce,
                    _add_differentiable=_add_differentiable)
        return _out(out, r.reshape(()))
    if index.dim() != input.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    size = input.shape[d]
    if index.numel():
        lo, hi = _C._item_or_none(mx.min(index._mx)), _C._item_or_none(mx.max(index._mx))  # None while traced
        if lo is not None and (lo < -size or hi >= size):
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {d} with size {size}")
    coords = _scatter_coords(index, d)
    from ..autograd._mlx_vjp import mlx_op

    def put(x, v):
        """x with v written (or reduced) at coords."""
        if reduce == "add":
            return x.at[coords].add(v)
        if reduce == "multiply":
            return x.at[coords].multiply(v)
        y = mx.array(x)
        y[coords] = v
        return y

    if src is not None:
        if src.dtype is not input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
        skey = tuple(slice(0, s) for s in index.shape)
        f, ins, name = (lambda x, s: put(x, s[skey])), [input, src], "ScatterBackward0"
    else:
        f, ins, name = (lambda x: put(x, mx.full(tuple(index.shape), value, dtype=x.dtype))), [input], "ScatterBackward1"
    if reduce is not None and not _add_differentiable and builtins.any(t.requires_grad for t in ins):
        return _out(out, _not_differentiable("scatter", f, ins))
    return _out(out, mlx_op(name, f, ins))


def _not_differentiable(op, f, tensors):
    """Forward of `f`, with a node whose backward raises torch's 'not implemented' error."""
    from ..autograd._derivatives import record

    out = _new(f(*[t._mx for t in tensors]), tensors[0]._device_code, tensors[0].dtype)

    def backward(ctx, grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    record("NotImplemented", backward, tensors, [out])
    return out


def scatter_add(input, dim, index, src, *, out=None):
    return scatter(input, dim, index, src, reduce="add", out=out, _add_differentiable=True)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2), with torch's checks; one AddmmBackward0 node.
    Real floating operands take one mx.addmm and a hand-written derivative (nn.functional.linear's path);
    other dtypes go through the composition and the vjp fallback."""
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("mat1 must be a matrix" if mat1.dim() != 2 else "mat2 must be a matrix")
    a, b = mat1._mx, mat2._mx
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    dt = mat1.dtype
    if input.dtype is not dt or mat2.dtype is not dt:
        raise RuntimeError("expected m1 and m2 to have the same dtype")
    _check_expand(input._mx.shape, (a.shape[0], b.shape[1]))
    if dt.is_floating_point:
        c = input._mx
        dev = mat1._device_code
        r = mx.addmm(c, a, b, alpha=alpha, beta=beta, stream=_STREAMS[dev]) if beta != 0 else \
            (a @ b if alpha == 1 else (a @ b) * alpha)
        res = _new(r, dev, dt)
        if _C.is_grad_enabled() and (input.requires_grad or mat1.requires_grad or mat2.requires_grad):
            _record_addmm(input, mat1, mat2, res, beta, alpha)
        return res if out is None else _out(out, res)
    from ..autograd._mlx_vjp import mlx_op

    def f(inp, a, b):
        prod = a @ b
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
        return addmm(bias, input, weight.t())
    a, w = input._mx, weight._mx
    dt = input.dtype
    if not dt.is_floating_point or a.shape[1] != w.shape[1] or bias.dtype is not dt or weight.dtype is not dt:
        return addmm(bias, input, weight.t())  # addmm raises torch's errors (or takes its general path)
    c = bias._mx
    if c.shape != (w.shape[0],):
        _check_expand(c.shape, (a.shape[0], w.shape[0]))
    dev = input._device_code
    return _new(mx.addmm(c, a, w.T, stream=_STREAMS[dev]), dev, dt)


def _record_addmm(input, mat1, mat2, res, beta, alpha):
    """AddmmBackward0 for addmm's real floating path: the snapshots of mat1/mat2 are saved after recording
    (as `record` does), the formula is torch's (grad·beta summed to input's shape, grad @ mat2ᵀ · alpha,
    mat1ᵀ @ grad · alpha) in the package's own ops, so create_graph works."""
    ins = (input, mat1, mat2)
    ctx = [None, None, (beta, alpha, tuple(input._mx.shape))]
    _C._record("AddmmBackward0", _scope_backward(_addmm_backward, ins), ctx, ins, (res,))
    ctx[0], ctx[1] = _C._snapshot(mat1), _C._snapshot(mat2)


def _addmm_backward(ctx, grads):
    m1, m2, (beta, alpha, ishape) = ctx
    g = grads[0]
    gi = g1 = g2 = None
    if m1.requires_grad:
        g1 = g.matmul(m2.t())
        g1 = g1 if alpha == 1 else g1 * alpha
    if m2.requires_grad:
        g2 = m1.t().matmul(g)
        g2 = g2 if alpha == 1 else g2 * alpha
    gi = _sum_to(g if beta == 1 else g * beta, ishape)
    return gi, g1, g2


for _name, _fn in (("repeat", repeat), ("index_select", index_select), ("gather", gather), ("mm", mm), ("bmm", bmm),
                   ("scatter", scatter), ("scatter_add", scatter_add), ("addmm", addmm)):
    setattr(Tensor, _name, _fn)


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return self._commit(scatter(self, dim, index, src, value=value, reduce=reduce))


Tensor.scatter_ = _scatter_
Tensor.scatter_add_ = lambda self, dim, index, src: self._commit(scatter_add(self, dim, index, src))


def _addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    from .operators import _inplace_from

    return _inplace_from(addmm)(self, mat1, mat2, beta=beta, alpha=alpha)


Tensor.addmm_ = _addmm_
