"""torch.autograd: backward, grad, Function, gradcheck and the functional API over the C engine
(csrc/engine.c, Note [Backward by dependency counts])."""
from __future__ import annotations

import sys as _sys
import threading
import weakref as _weakref

import mlx.core as _mx

from .. import _C
from .._device_scope import _DEVICES as _STREAMS
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: F401
from .._tensor import Tensor, _new
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from . import anomaly_mode as _anomaly  # noqa: E402
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401,E402
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from . import functional, graph  # noqa: F401

Variable = Tensor


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grad_outputs, is_grads_batched=False):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out.requires_grad:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
                # torch's ones_like(out): one MLX fill on out's device (a one-element tensor has no layout to keep)
                v = out._mx
                dev = out._device_code
                g = _new(_mx.ones(v.shape, v.dtype, stream=_STREAMS[dev]), dev, out.dtype)
            grads.append(g)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            grads.append(g)
    return grads


def _root_edges(outputs):
    edges = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(out).__name__}")
        node, nr = _C._edge(out)
        if node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append((node, nr))
    return edges


# Note [Loss evaluated with the step]
# On MLX every evaluation is a synchronisation with the device stream (tens of microseconds on the CPU, more on a
# GPU), so a training step should be ONE evaluation (design.md §3). backward() evaluates nothing; it records its
# roots (the loss) weakly here, and the next optimizer step (`_Update.commit`, optim/optimizer.py) evaluates the
# live ones together with the new parameters and state in its single mx.eval, so the usual `loss.item()` after
# `optimizer.step()` reads an evaluated value. The record is weak (a dropped loss is never evaluated) and holds
# the latest `_MAX_STEP_ROOTS` roots (gradient accumulation over micro-batches). While compile() traces a step
# (optim's `_tracing`) nothing is recorded: a traced loss holds tracers that must never be evaluated eagerly.
_MAX_STEP_ROOTS = 8
_step_roots = []


def _record_step_roots(tensors):
    """Remember the backward roots `tensors` weakly for the next optimizer step's evaluation (Note [Loss evaluated
    with the step])."""
    opt = _sys.modules.get("mlx_compat.optim.optimizer")
    if opt is None or opt._tracing:
        return
    roots = _step_roots
    for t in tensors:
        roots.append(_weakref.ref(t))
    if len(roots) > _MAX_STEP_ROOTS:
        del roots[:-_MAX_STEP_ROOTS]


def _take_step_roots():
    """The MLX arrays of the recorded roots still alive (Note [Loss evaluated with the step]); clears the record."""
    if not _step_roots:
        return []
    refs = _step_roots[:]
    _step_roots.clear()
    out = []
    for r in refs:
        t = r()
        if t is not None:
            out.append(t._mx)
    return out


# The kinds of the backward passes running on this thread, innermost last: True for a pass that only computes
# the gradients of given inputs (autograd.grad, backward(inputs=...)), False for a plain backward. torch's reentrant
# checkpoint refuses the former (_is_checkpoint_valid), since its nested backward would write .grad.
_passes = threading.local()


def _run_pass(partial, *args):
    """NEW: _C._run_backward(*args), with the pass's kind on this thread's stack while it runs."""
    stack = _passes.__dict__.setdefault("stack", [])
    stack.append(partial)
    try:
        return _C._run_backward(*args, _anomaly.engine_check())
    finally:
        stack.pop()


def _is_checkpoint_valid():
    """Whether the running backward pass is a plain one (torch.autograd._is_checkpoint_valid)."""
    stack = getattr(_passes, "stack", None)
    return not stack or not stack[-1]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """torch.autograd.backward: accumulate d(tensors)/d(leaves) into the leaves' .grad."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad_tensors should have the same length as tensors ({len(grad_tensors)} vs {len(tensors)})")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    edges = _root_edges(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        captures = tuple(_C._edge(t) for t in inputs)
        got = _run_pass(True, tuple(edges), tuple(grads), bool(retain_graph), bool(create_graph), captures, False)
        for t, g in zip(inputs, got):
            if g is None:
                continue
            if not create_graph:
                g = g.detach()
            if t.grad is None:
                t.grad = g if create_graph else g.clone()
            else:
                t.grad = t.grad + g if create_graph else t.grad.add_(g)
        _record_step_roots(tensors)
        return
    _run_pass(False, tuple(edges), tuple(grads), bool(retain_graph), bool(create_graph), None, True)
    _record_step_roots(tensors)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs w.r.t. inputs, without touching .grad."""
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output ({len(grad_outputs)} vs {len(outputs)})")
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs_t):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs)
    edges = _root_edges(outputs)
    captures = tuple(_C._edge(t) for t in inputs_t)
    got = _run_pass(True, tuple(edges), tuple(grads), bool(retain_graph), bool(create_graph), captures, False)
    result = []
    for i, (t, g) in enumerate(zip(inputs_t, got)):
        if g is None:
            if materialize_grads:
                from .._ops.creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
