"""`fused_op`: a differentiable op whose forward also hands its backward the intermediate values it will need
(Note [fused backward]), for the hot ops that the generic vjp fallback (Note [MLX vjp fallback]) makes recompute
their forward: attention, layer norm.

Note [fused backward]
`mlx_op(name, f, tensors)` records a node whose backward is `mx.vjp(f)`: MLX re-traces f from the saved inputs,
so every intermediate of the forward (attention's score matrix and softmax, layer norm's statistics) is computed
again in the backward, on top of what the op's own custom vjp recomputes. `fused_op` takes, beside the pure `f`,
`forward(*values) -> (output, residuals)` (the same output, plus the arrays the backward reuses) and
`backward(values, residuals, output, cotangent) -> gradients`, a plain-MLX evaluation of the same formula as f's
vjp. A backward without create_graph runs `backward`; with create_graph (grad mode on inside the backward) it
differentiates `f` exactly as `mlx_op` does, so higher orders see the same differentiable formula as before.
The residuals are MLX arrays held by the node, freed with it.
"""
from __future__ import annotations

import builtins

import mlx.core as mx

from .. import _C, _dtype
from . import _layout
from .._device_scope import scoped
from .._tensor import _new
from ..autograd._derivatives import needs_grad, record
from ..autograd._mlx_vjp import mlx_op

__all__ = ["fused_op"]


def fused_op(name, f, tensors, forward, backward, last_backward=None, grad_last=()):
    """f(*values) -> one array; see Note [fused backward] for forward and backward. tensors: floating Tensors.
    last_backward: `backward`'s form for a cotangent carrying the channels-last hint, whose gradients at the
    indices `grad_last` are NC... views of N...C arrays and marked so (Note [Channels-last gradients] in
    nn/_layout.py)."""
    tensors = list(tensors)
    n = len(tensors)
    dev = builtins.max(t._device_code for t in tensors)
    out, res = scoped(dev, forward, *[t._mx for t in tensors])
    result = _new(out, dev, _dtype.from_mx(out.dtype))
    if not (_C.is_grad_enabled() and builtins.any(needs_grad(t) for t in tensors)):
        return result
    wanted = [needs_grad(t) for t in tensors]

    def bw(ctx, grads):
        g = grads[0]
        if g is None:
            return (None,) * n
        snaps = ctx[:n]
        if _C.is_grad_enabled():  # create_graph: differentiate f, as mlx_op's backward does
            def vjp_fn(*args):
                _, vjps = mx.vjp(lambda *p: [f(*p)], list(args[:n]), [args[n]])
                return list(vjps)

            gs = mlx_op(name + "Backward", vjp_fn, list(snaps) + [g], dev)
            gs = gs if isinstance(gs, tuple) else (gs,)
        else:
            last = last_backward is not None and _C._is_channels_last(g)  # Note [Channels-last gradients]
            gs = [None if gi is None else _new(gi, dev, _dtype.from_mx(gi.dtype))
                  for gi in (last_backward if last else backward)([s._mx for s in snaps], res, out, g._mx)]
            for i in grad_last if last else ():
                if gs[i] is not None:
                    _layout.mark_tensor(gs[i])
        return tuple(None if not w or gi is None else gi if gi.dtype is s.dtype else gi.to(s.dtype)
                     for w, gi, s in zip(wanted, gs, snaps))

    record(name, bw, tensors, [result], saved=tensors)
    return result
