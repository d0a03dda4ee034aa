"""torch.autograd.Function: user-defined ops with a hand-written backward, recorded on the same tape."""
from __future__ import annotations

import builtins
import functools

from .. import _C
from .grad_mode import no_grad
from .._tensor import Tensor


class FunctionCtx:
    """The `ctx` of a custom Function: what forward leaves for backward."""

    def __init__(self):
        self._saved = None
        self._released = False
        self.needs_input_grad = ()
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        # snapshotted once forward is done and the node recorded (Function.apply: _save), as torch saves
        self._saved = None
        self.to_save = tensors

    def _save(self, node):
        """Snapshot what save_for_backward named (Note [Saved values are snapshots]); outputs of `node`
        refer to it weakly and the originals are dropped (Note [Autograd ownership] in csrc/autograd.c)."""
        to_save = self.__dict__.pop("to_save", ())
        self._saved = tuple(None if t is None else _C._snapshot(t, node) for t in to_save)

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError("Trying to backward through the graph a second time (or directly access saved "
                               "tensors after they have already been freed). Saved intermediate values of the graph "
                               "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                               "you need to backward through the graph a second time or if you need to access saved "
                               "tensors after calling backward.")
        if self._saved is None:
            self._save(None)
        return self._saved

    saved_variables = saved_tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx):
    pass


class _FunctionNode(_C.Node):
    """Nodes of custom Functions expose their ctx's attributes (saved_tensors, needs_input_grad, ...)."""

    def __getattr__(self, name):
        try:
            ctx = object.__getattribute__(self, "_function_ctx")
        except AttributeError:
            raise AttributeError(name) from None
        return getattr(ctx, name)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_name = name + "Backward"
        node_cls = type(cls._backward_name, (_FunctionNode,), {"__module__": "builtins"})
        _C._register_node_class(cls._backward_name, node_cls)


class Function(metaclass=_FunctionMeta):
    """Subclass with static forward(ctx, *args) and backward(ctx, *grad_outputs); call with .apply()."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = BackwardCFunction()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        uses_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        if uses_setup:
            cls.setup_context(ctx, args, outputs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else tuple(outputs)
        dirty = {id(t) for t in ctx._dirty}
        if _C.is_grad_enabled():
            for t in ctx._dirty:
                if isinstance(t, Tensor) and t.requires_grad and t.is_leaf:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        fixed = []
        for o in outs:
            if isinstance(o, Tensor) and id(o) not in dirty and any(o is a for a in args):
                with no_grad():
                    o = o._alias()  # an input returned as is becomes a view of it, as in torch
            fixed.append(o)
        outs = tuple(fixed)
        meta = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None for o in outs]

        def backward(node_ctx, grads):
            from .._ops.creation import zeros

            grads = list(grads)
            if ctx.materialize_grads:
                for i, g in enumerate(grads):
                    if g is None and meta[i] is not None:
                        grads[i] = zeros(meta[i][0], dtype=meta[i][1], device=meta[i][2])
            result = cls.backward(ctx, *grads)
            if not isinstance(result, tuple):
                result = (result,)
            if len(result) < len(args):
                raise RuntimeError(f"function {cls._backward_name} returned an incorrect number of gradients "
                                   f"(expected {len(args)}, got {len(result)})")
            if len(result) > len(args):
                if any(r is not None for r in result[len(args):]):
                    raise RuntimeError(f"function {cls._backward_name} returned an incorrect number of gradients "
                                       f"(expected {len(args)}, got {len(result)})")
                result = result[: len(args)]
            checked = []
            for i, (a, g) in enumerate(zip(args, result)):
                if g is not None and not (isinstance(a, Tensor) and a.requires_grad):
                    g = None
                if g is not None:
                    try:
                        import numpy as _np

                        ok = tuple(_np.broadcast_shapes(tuple(g.shape), tuple(a.shape))) == tuple(a.shape) or \
                            g.numel() == a.numel()
                    except ValueError:
                        ok = False
                    if not ok:
                        raise RuntimeError(f"Function {cls._backward_name} returned an invalid gradient at index {i} - "
                                           f"got {list(g.shape)} but expected shape compatible with {list(a.shape)}")
                    if tuple(g.shape) != tuple(a.shape):
                        from ._derivatives import sum_to

                        g = sum_to(g, a.shape) if g.numel() != a.numel() else g.reshape(a.shape)
                checked.append(g)
            return tuple(checked)

        from ._derivatives import _scope_backward

        node = _C._record(cls._backward_name, _scope_backward(backward, args), ctx, args, outs,
                          builtins.bool(getattr(ctx, "to_save", ctx._saved)))
        if node is not None:
            node._function_ctx = ctx
            for t in ctx._non_differentiable:
                _C._set_history(t, None, 0)
        ctx._save(node)
        # the ctx lives as long as the node: it keeps no outputs (Note [Autograd ownership])
        ctx._dirty = ctx._non_differentiable = ()
        return outs[0] if single else outs


def once_differentiable(fn):
    """Run a backward without recording it (its result is not differentiable again)."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
