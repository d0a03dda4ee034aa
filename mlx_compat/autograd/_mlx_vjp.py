"""Differentiable ops defined by their MLX forward alone.

Note [MLX vjp fallback]
`mlx_op(name, f, tensors)` applies a pure MLX function `f` to the tensors' values and records a node
whose backward is `mx.vjp(f)` — itself applied through `mlx_op`, so the backward is recorded too and
gradients of any order work (create_graph=True). This is the one mechanism for the long tail: an op
needs only its forward; hot ops get hand-written formulas in autograd/_derivatives.py instead.
Arguments that are not differentiated (indices, masks, shapes) are closed over by `f`.
"""
from __future__ import annotations

import builtins
import threading

import mlx.core as mx

from .. import _C, _dtype
from ._derivatives import needs_grad
from .._device_scope import scoped
from .._ops import cpu_math as _cpu_math
from .._tensor import Tensor, _new


# Note [Selecting vjp]
# MLX's vjp of `mx.where(c, a, b)` (and of mx.maximum) multiplies the cotangent by a 0/1 mask, so an inf or nan
# cotangent gives nan on the side not taken; torch's backward kernels select (`cond ? grad * a' : grad * b'`), so
# leaky_relu, elu, hardswish, ... pass an inf gradient through where it is taken and give 0 where it is not.
# Forwards written for the vjp fallback call `select` instead of mx.where: a plain mx.where when run forward,
# and, while `vjp` (below) traces them, a custom function whose vjp is a select of the cotangent (each side's
# cotangent summed back to its operand's shape). The flag is per thread, so the forward keeps mx.where's cost.
class _Tracing(threading.local):
    depth = 0  # a class default: every thread reads 0 until it traces, without a missing-attribute lookup


_tracing = _Tracing()


@mx.custom_function
def _selecting_where(c, a, b):
    return mx.where(c, a, b)


def _fit(g, like):
    """Cotangent g summed back to the shape of `like` (an array operand of a broadcasting op), in its dtype."""
    extra = g.ndim - like.ndim
    if extra > 0:
        g = mx.sum(g, axis=tuple(builtins.range(extra)))
    axes = tuple(i for i, (n, m) in enumerate(zip(g.shape, like.shape)) if m == 1 and n != 1)
    if axes:
        g = mx.sum(g, axis=axes, keepdims=True)
    return g if g.dtype == like.dtype else g.astype(like.dtype)


@_selecting_where.vjp
def _selecting_where_vjp(primals, cotangent, output):
    # one cotangent per array argument: MLX passes Python scalars through as they are and expects none for them
    c, a, b = primals
    zero = mx.zeros((), dtype=cotangent.dtype)
    out = [mx.zeros_like(c)] if isinstance(c, mx.array) else []
    if isinstance(a, mx.array):
        out.append(_fit(mx.where(c, cotangent, zero), a))
    if isinstance(b, mx.array):
        out.append(_fit(mx.where(c, zero, cotangent), b))
    return tuple(out)


def select(c, a, b):
    """mx.where(c, a, b) for forwards differentiated by the vjp fallback (Note [Selecting vjp]); outside a trace, a
    large 4-byte select on the CPU by its bits (Note [Selects in CPU kernels] in _ops/cpu_math.py: the same values)."""
    if _tracing.depth:
        return _selecting_where(c, a, b)
    return _cpu_math.where(c, a, b)


def vjp(fn, primals, cotangents):
    """mx.vjp(fn, primals, cotangents) with fn's `select` calls selecting their cotangents (Note [Selecting
    vjp]); Note [Empty cotangents]."""
    _tracing.depth += 1
    try:
        return mx.vjp(fn, primals, cotangents)
    except ValueError:
        if not all(c.size == 0 for c in cotangents):
            raise
        # Note [Empty cotangents]
        # A vjp is linear in its cotangents, so empty ones give every primal a zero gradient. MLX's own vjps of
        # some ops refuse them instead: a gather's scatter into an empty array (x[idx] or index_select of a
        # tensor with no rows, a mask selecting nothing) raises "[scatter] Updates ... are too large".
        return fn(*primals), [mx.zeros_like(p) for p in primals]
    finally:
        _tracing.depth -= 1


# Note [Compiled when repeated]
# A backward whose MLX graph depends only on a static plan and its inputs' shapes (a convolution's vjp, Note
# [Recorded convolution path] in nn/functional.py; a max pool's scatter, Note [Compiled max-pool backward] in
# nn/_pooling.py; an `mlx_op` given a `key`, such as the GPU's fused layer norm, Note [fused layer_norm] in
# nn/_normalization.py) can be mx.compile'd once per plan: a call then replays the traced tape instead of running
# the Python that builds it again (for mlx_op, instead of mx.vjp tracing its function again at every backward).
# Tracing costs milliseconds, so a shape reaches the compiled function only from its second backward on: a stream
# of new shapes (variable-length sequences, say) keeps the plain function and stays out of MLX's cache. Both
# tables are bounded.
_COMPILED = {}  # key -> the compiled function
_SEEN = set()  # (key, shape): seen in a backward
_COMPILED_MAX = 4096


def compiled_when_repeated(key, shape, make):
    """make() -> a pure MLX function of the plan `key` (hashable); that function, or from the second call with the
    same (key, shape) on, its mx.compile'd form, made once per key (Note [Compiled when repeated])."""
    if (key, shape) not in _SEEN:
        if len(_SEEN) < _COMPILED_MAX:
            _SEEN.add((key, shape))
        return make()
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = mx.compile(make())
    return fn


def _wrap(arr, device_code, dtype=None):
    return _new(arr, device_code, dtype if dtype is not None else _dtype.from_mx(arr.dtype))


def _any_requires_grad(tensors):
    for t in tensors:
        if t.requires_grad:
            return True
    return False


def mlx_op(name, f, tensors, device_code=None, out_dtypes=None, grad_last=(), forward=None, value=None, key=None,
           aux=()):
    """Outputs of f(*values) as tensors (a tuple if f returns a tuple/list), differentiable via mx.vjp.
    grad_last: indices of inputs whose gradients are the NC... views of N...C arrays on a GPU (a convolution's
    input), which the backward marks so (Note [Channels-last gradients] in nn/_layout.py).
    forward: computes the outputs instead of f when a gradient is recorded (the same values, f's graph as MLX
    builds it while differentiating: Note [Attention forward traced for its backward] in nn/_attention.py).
    value: computes the outputs instead of f (the same values by other operations, f staying what the backward
    differentiates: Note [CPU activation values] in nn/_activation.py); `forward` takes precedence when recording.
    key: a hashable value that, with the inputs' shapes and dtypes, fixes f's graph (f reads no array it is not
    given): the backward's vjp is then compiled once its shapes repeat (Note [Compiled when repeated]).
    aux: MLX arrays f takes after the tensors' values (an embedding's indices): no edge of the graph, no gradient."""
    tensors = list(tensors)
    values = [t._mx for t in tensors] + list(aux)
    if device_code is None:
        # the GPU wins over CPU operands (torch lets 0-d CPU tensors join GPU ones as scalars)
        dev = 0
        for t in tensors:
            if t._device_code > dev:
                dev = t._device_code
    else:
        dev = device_code
    record = _C.is_grad_enabled() and _any_requires_grad(tensors)
    # Note [Device scope]: on the tensors' device whatever MLX's default
    if forward is None or not record:
        forward = value if value is not None else f
    out = scoped(dev, forward, *values)
    multi = isinstance(out, (tuple, list))
    if not multi and out_dtypes is None:
        results = [_new(out, dev, _dtype.from_mx(out.dtype))]
    else:
        outs = list(out) if multi else [out]
        results = [_wrap(o, dev, None if out_dtypes is None else out_dtypes[i]) for i, o in enumerate(outs)]
    if record:
        n = len(tensors)
        meta = [(tuple(r.shape), r.dtype) for r in results]
        diff = [i for i, t in enumerate(tensors) if t.dtype.is_floating_point or t.dtype.is_complex]

        def backward(ctx, grads):
            snaps = list(ctx[:n])
            extra = [_wrap(a, dev) for a in aux]  # the backward's inputs too (a create_graph backward records them)
            cots = []
            for g, (shape, dt) in zip(grads, meta):
                if g is None:
                    from .._ops.creation import zeros

                    g = zeros(shape, dtype=dt, device="cpu" if dev == 0 else "cuda")
                cots.append(g)

            def vjp_fn(*args):
                prim, cot = list(args[:n + len(extra)]), list(args[n + len(extra):])

                def fd(*dp):
                    full = list(prim)
                    for k, i in enumerate(diff):
                        full[i] = dp[k]
                    r = f(*full)
                    return list(r) if isinstance(r, (tuple, list)) else [r]

                _, vjps = vjp(fd, [prim[i] for i in diff], cot)
                return list(vjps)

            fn = vjp_fn
            if key is not None and not _C.is_grad_enabled():  # no create_graph: Note [Compiled when repeated]
                shapes = tuple(a._mx.shape for a in snaps + extra + cots)
                fn = compiled_when_repeated(("mlx_op", key, n, len(extra), tuple(diff), dev), shapes, lambda: vjp_fn)
            g_diff = mlx_op(name + "Backward", fn, snaps + extra + cots, dev)
            g_diff = g_diff if isinstance(g_diff, tuple) else (g_diff,)
            result = [None] * n
            for k, i in enumerate(diff):
                if needs_grad(tensors[i]) or needs_grad(snaps[i]):
                    gi = g_diff[k]
                    result[i] = gi if gi.dtype is snaps[i].dtype else gi.to(snaps[i].dtype)
                    if i in grad_last:  # Note [Channels-last gradients] (nn/_layout.py)
                        _C._set_channels_last(result[i], True, None)
            return tuple(result)

        ctx = tuple(_C._snapshot(t) for t in tensors) + (None,)
        _C._record(name, backward, ctx, tuple(tensors), tuple(results))
    return tuple(results) if multi else results[0]
