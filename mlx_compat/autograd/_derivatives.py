"""Derivatives of the ops whose forward is in the C core and that have no registry declaration (matmul,
sum/mean, views, in-place writes through views), the shared helpers (sum_to, grad_for), and the recording
helper Python-level ops use. Each backward is written with the package's own ops, so running
it with grad mode on (create_graph=True) records a differentiable graph: higher-order gradients for free.

A backward is called as fn(ctx, grads) -> one gradient (or None) per recorded input. For C ops, ctx is
(snapshots of the saved inputs..., extra) — see autograd_record_named in csrc/autograd.c.
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _C, _device_scope, _dtype
from .._tensor import Tensor, _new

# ---------------------------------------------------------------- shared helpers


def needs_grad(x):
    return isinstance(x, Tensor) and x.requires_grad


def sum_to(g, shape):
    """Reduce a broadcast gradient back to `shape` (the one shared unbroadcast helper)."""
    shape = tuple(shape)
    gs = g._mx.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    dims = list(builtins.range(lead))
    dims += [lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1]
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape)


def grad_for(x, g):
    """g as the gradient of input x: unbroadcast to x's shape and cast to x's dtype; None if x needs none."""
    if g is None or not (isinstance(x, Tensor) and x.requires_grad):
        return None
    shape = x._mx.shape
    if g._mx.shape != shape:
        g = sum_to(g, shape)
    if g.dtype is not x.dtype:
        g = g.to(x.dtype)
    return g


def _scope_backward(backward, inputs):
    """backward, run on its inputs' device when the engine calls it (Note [Device scope])."""
    if not _device_scope.ACTIVE:
        return backward
    code = _device_scope.device_of(inputs, {})
    return lambda ctx, grads: _device_scope.scoped(code, backward, ctx, grads)


def record(name, backward, inputs, outputs, saved=(), extra=None):
    """Record a Python-level op: a node `name` whose backward(ctx, grads) sees ctx = (snapshots of saved...,
    extra). Does nothing unless grad mode is on and an input requires grad."""
    if not _C.is_grad_enabled():
        return None
    for i in inputs:
        if isinstance(i, Tensor) and i.requires_grad:
            break
    else:
        return None
    ctx = [None] * len(saved) + [extra]
    backward = _scope_backward(backward, inputs)
    node = _C._record(name, backward, ctx, tuple(inputs), tuple(outputs), builtins.bool(saved))
    # snapshots after recording, so a saved output keeps its place in the graph (double backward); an
    # output refers to its own node weakly (Note [Autograd ownership] in csrc/autograd.c)
    ctx[: len(saved)] = [_C._snapshot(s, node) for s in saved]
    return node


def register(c_name, node_name=None, saves=True):
    """Decorator: the derivative of C op `c_name`, shown as node `node_name`. saves=False: the backward
    needs no saved values, so (as in torch) a second backward through it is allowed."""
    def deco(fn):
        _C._register_backward(c_name, node_name or c_name, fn, saves)
        return fn

    return deco


def zeros_scatter(g, shape, key):
    """A tensor of zeros of `shape` with g written at `key` (basic index): the backward of g = x[key].
    Differentiable: its own backward is indexing again. A basic index reaches each element at most once, so g
    is written, not added, as torch's slice_backward copies it into zeros (a -0.0 stays -0.0): a plain slice
    update, where a scatter-add also reads the zeros (MLX's accumulating slice update; on the H200 it was 611 us
    of a bfloat16 GPT-2 step, the backward of `logits[:, :-1]`)."""
    z = mx.zeros(tuple(shape), dtype=g.dtype._mx)
    z[key] = g._mx
    out = _new(z, g._device_code, g.dtype)
    record("IndexBackward0", lambda ctx, grads: (grads[0][key] if grads[0] is not None else None,), [g], [out])
    return out


# ---------------------------------------------------------------- operators (csrc/ops.c)
# The binary operators' derivatives (add, mul, pow, ...) and neg's and abs's are declared beside their
# registry declarations (_ops/operators.py, _ops/pointwise.py), which register them under ops.c's names too.


def _conj(x):
    if isinstance(x, Tensor):
        return x.conj() if x.dtype.is_complex else x
    if isinstance(x, builtins.complex):  # a Python complex operand (z * (1 - 2j)) is conjugated too
        return x.conjugate()
    return x


@register("clone", "CloneBackward0", saves=False)
def _clone(ctx, grads):
    return (grads[0],)


@register("matmul_bmm3", "BmmBackward0")
@register("matmul_bmm", "UnsafeViewBackward0")
@register("matmul_mv", "MvBackward0")
@register("matmul_mm", "MmBackward0")
@register("matmul_dot", "DotBackward0")
def _matmul(ctx, grads):
    a, b, layout = ctx  # layout: matmul_mm's column-major operands (bit 0: a, bit 1: b); None for the others
    g = grads[0]
    ga = gb = None
    if layout:
        # Note [Gradient layout of a product] (_ops/linalg.py): a column-major operand (x @ w.t()) gets its
        # gradient as the transposed product, so TBackward0 hands the weight a row-major gradient, as torch's
        # mm_mat1_backward / mm_mat2_backward do
        if needs_grad(a):
            ga = (_conj(b) @ g.mT).mT if layout & 1 else g @ _conj(b).mT
        if needs_grad(b):
            gb = (g.mT @ _conj(a)).mT if layout & 2 else _conj(a).mT @ g
        return ga, gb
    if a.dim() == 1 and b.dim() == 1:
        ga = g * _conj(b) if needs_grad(a) else None
        gb = g * _conj(a) if needs_grad(b) else None
    elif a.dim() == 1:
        if needs_grad(a):
            ga = sum_to((g.unsqueeze(-2) @ _conj(b).mT).squeeze(-2), a.shape)
        if needs_grad(b):
            gb = sum_to(_conj(a).unsqueeze(-1) * g.unsqueeze(-2), b.shape)
    elif b.dim() == 1:
        if needs_grad(a):
            ga = sum_to(g.unsqueeze(-1) * _conj(b), a.shape)
        if needs_grad(b):
            gb = sum_to((_conj(a).mT @ g.unsqueeze(-1)).squeeze(-1), b.shape)
    else:
        # Note [matmul folds broadcast operands]: a matrix operand broadcast over the other's batch gets its
        # gradient from one product over the folded batch, as torch's matmul folds it in the forward (and so in
        # its backward): a per-batch product summed afterwards materialises (batch, k, n) first, 1.4 GB for the
        # in-projection of ViT-B/16's (197, 2, 768) attention input, and rounds differently from torch.
        if needs_grad(a):
            if a.dim() == 2 and b.dim() > 2:
                m, k = a.shape
                bb = _conj(b).expand(*g.shape[:-2], *b.shape[-2:])
                rows = math.prod(g.shape[:-2]) * g.shape[-1]  # explicit: a zero-size -1 is ambiguous
                ga = g.movedim(-2, 0).reshape(m, rows) @ bb.mT.reshape(rows, k)
            else:
                ga = sum_to(g @ _conj(b).mT, a.shape)
        if needs_grad(b):
            if b.dim() == 2 and a.dim() > 2:
                rows = math.prod(a.shape[:-1])  # explicit: a zero-size -1 is ambiguous
                gb = _conj(a).reshape(rows, a.shape[-1]).mT @ g.reshape(rows, g.shape[-1])
            else:
                gb = sum_to(_conj(a).mT @ g, b.shape)
    return ga, gb


# ---------------------------------------------------------------- reductions


def _expand_reduced(g, dims, keepdim, shape):
    """Broadcast a reduction's gradient back over the reduced dims."""
    n = len(shape)
    if dims is None:
        return g.expand(shape)  # a full reduction's gradient is 0-d or all ones: torch's grad.expand(sizes)
    if isinstance(dims, builtins.int):
        dims = [dims]
    if not keepdim and n:
        for d in sorted(d % n for d in dims):
            g = g.unsqueeze(d)
    return g.expand(shape)


@register("sum_dim", "SumBackward1", saves=False)
@register("sum", "SumBackward0", saves=False)
def _sum(ctx, grads):
    dims, keepdim, shape, dtype = ctx[-1]
    g = _expand_reduced(grads[0], dims, keepdim, shape)
    return (g if g.dtype is dtype else g.to(dtype),)


@register("mean_dim", "MeanBackward1", saves=False)
@register("mean", "MeanBackward0", saves=False)
def _mean(ctx, grads):
    dims, keepdim, shape, dtype = ctx[-1]
    n = len(shape)
    if dims is None:
        count = math.prod(shape)
    else:
        ds = [dims] if isinstance(dims, builtins.int) else dims
        count = math.prod(shape[d % n] for d in ds) if n else 1
    g = _expand_reduced(grads[0], dims, keepdim, shape) / count
    return (g if g.dtype is dtype else g.to(dtype),)


# ---------------------------------------------------------------- views (csrc/views.c)


for _n in ("ViewBackward0", "UnsafeViewBackward0"):
    register(_n, saves=False)(lambda ctx, grads: (grads[0].reshape(ctx[-1]),))
for _n in ("SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2"):
    register(_n, saves=False)(lambda ctx, grads: (grads[0].reshape(ctx[-1][0]),))
register("ExpandBackward0", saves=False)(lambda ctx, grads: (sum_to(grads[0], ctx[-1][0]),))
register("AliasBackward0", saves=False)(lambda ctx, grads: (grads[0],))
# the bit views (Note [Conjugate views] in csrc/core.h): conj and negation are their own adjoints
register("ConjBackward0", saves=False)(lambda ctx, grads: (grads[0].conj(),))
register("NegViewBackward0", saves=False)(lambda ctx, grads: (grads[0].neg(),))
register("UnsqueezeBackward0", saves=False)(lambda ctx, grads: (grads[0].squeeze(ctx[-1][0]),))


_INVERSES = {}


def _inverse(perm):
    """The permutation undoing `perm` (memoised: a model's few distinct permutations recur every backward)."""
    key = perm if isinstance(perm, tuple) else None
    inv = _INVERSES.get(key) if key is not None else None
    if inv is None:
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        inv = tuple(inv)
        if key is not None and len(_INVERSES) < 4096:
            _INVERSES[key] = inv
    return inv


for _n in ("TransposeBackward0", "TBackward0", "PermuteBackward0"):
    register(_n, saves=False)(lambda ctx, grads: (grads[0].permute(_inverse(ctx[-1])),))


@register("SelectBackward0", saves=False)
def _select(ctx, grads):
    shape, dim, index = ctx[-1]
    return (zeros_scatter(grads[0], shape, (slice(None),) * dim + (index,)),)


@register("SliceBackward0", saves=False)
def _slice(ctx, grads):
    shape, dim, start, stop, step = ctx[-1]
    return (zeros_scatter(grads[0], shape, (slice(None),) * dim + (slice(start, stop, step),)),)


# ---------------------------------------------------------------- in-place through views (CopySlices)


def _storage_positions(view):
    """Flat positions (in the base's logical, row-major order) of each element of `view`."""
    base = view._storage_base
    if not base.is_contiguous():
        raise NotImplementedError("mlx_compat: autograd through an in-place write to a view of a tensor with a "
                                  "permuted layout is not supported")
    n = base.numel()
    pos = mx.as_strided(mx.arange(n, dtype=mx.int32 if n < 2**31 else mx.int64), tuple(view.shape), view.stride(),
                        view.storage_offset())
    return pos, n


def view_commit(view, src, base_snapshot):
    """After `view` was written in place with `src`: the base gets a CopySlices node (its old history
    outside the view's region, src inside) and the view becomes a strided view of the new base."""
    base = view._storage_base
    pos, n = _storage_positions(view)
    flat_pos = mx.reshape(pos, (-1,))
    base_shape = tuple(base.shape)
    mask = _new(mx.ones((n,), dtype=base.dtype._mx).at[flat_pos].multiply(0).reshape(base_shape), base._device_code,
                base.dtype)
    view_shape = tuple(view.shape)  # not the view itself: it will own this node (Note [Autograd ownership])
    # a conjugate / negative view's storage holds its value with the bits applied (Note [Conjugate views] in
    # csrc/core.h): the gradient crosses between the view's values and the storage through the same bits
    conj, neg = view.is_conj(), view.is_neg()

    def bits(g):
        g = g.conj() if conj else g
        return g.neg() if neg else g

    def copy_slices_backward(ctx, grads):
        g = grads[0]
        g_base = g * mask if needs_grad(base_snapshot) else None
        g_src = None
        if needs_grad(src):
            g_src = bits(gather_flat(g, flat_pos, view_shape))
            g_src = grad_for(src, g_src)
        return g_base, g_src

    node = _C._record("CopySlices", _scope_backward(copy_slices_backward, (base,)), None, (base_snapshot, src),
                      (base,))
    if node is None:
        return

    def as_strided_backward(ctx, grads):
        return (scatter_flat(bits(grads[0]), flat_pos, base_shape),)

    _C._record("AsStridedBackward0", _scope_backward(as_strided_backward, (base,)), None, (base,), (view,))


def gather_flat(g, flat_pos, shape):
    """g.flatten()[flat_pos].reshape(shape), differentiable (backward: scatter_flat)."""
    out = _new(mx.reshape(mx.reshape(g._mx, (-1,))[flat_pos], shape), g._device_code, g.dtype)
    gshape = tuple(g.shape)
    record("GatherBackward0", lambda ctx, grads: (scatter_flat(grads[0], flat_pos, gshape),), [g], [out])
    return out


def scatter_flat(g, flat_pos, shape):
    """zeros(shape).flatten().at[flat_pos].add(g.flatten()), differentiable (backward: gather_flat)."""
    n = math.prod(shape)
    z = mx.zeros((n,), dtype=g.dtype._mx).at[flat_pos].add(mx.reshape(g._mx, (-1,)))
    out = _new(mx.reshape(z, shape), g._device_code, g.dtype)
    gshape = tuple(g.shape)
    record("ScatterAddBackward0", lambda ctx, grads: (gather_flat(grads[0], flat_pos, gshape),), [g], [out])
    return out


_C._register_view_commit(view_commit)


register("fill_constant", "FillBackward0", saves=False)(lambda ctx, grads: (grads[0] * 0,))


# ---------------------------------------------------------------- Node hooks (torch.autograd.graph.Node)


class _Handle:
    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        if self._item in self._lst:
            self._lst.remove(self._item)


def _node_register_hook(self, fn):
    """fn(grad_inputs, grad_outputs) -> new grad_inputs or None, after the node runs."""
    hooks = self._post_hooks
    hooks.append(fn)
    return _Handle(hooks, fn)


def _node_register_prehook(self, fn):
    """fn(grad_outputs) -> new grad_outputs or None, before the node runs."""
    hooks = self._pre_hooks
    hooks.append(fn)
    return _Handle(hooks, fn)


_C.Node.register_hook = _node_register_hook
_C.Node.register_prehook = _node_register_prehook
_C.Node.metadata = property(lambda self: self.__dict__.setdefault("_metadata", {}))
