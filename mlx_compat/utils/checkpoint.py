"""torch.utils.checkpoint: activation checkpointing. `checkpoint(function, *args, use_reentrant=...)` runs `function`
without keeping the values its backward would need, and the backward runs it again (from the forward's RNG state,
so dropout draws the same masks) to differentiate that recomputation; `checkpoint_sequential` does it segment by
segment over a sequence of modules. Also `CheckpointFunction` (the reentrant variant), `CheckpointError`,
`noop_context_fn`, `set_checkpoint_debug_enabled`, `DefaultDeviceType`, `detach_variable` and
`check_backward_validity`.

The reentrant variant (`use_reentrant=True`, what an omitted `use_reentrant` means, with torch's warning) is torch's
design: an autograd.Function whose forward runs under no_grad and whose backward re-runs the function and calls
`autograd.backward` on the result, so the parameters it uses get their `.grad` from that nested pass; inside
`autograd.grad` or `backward(inputs=...)` it raises torch's error (autograd._is_checkpoint_valid). The
non-reentrant variant (`use_reentrant=False`) is built differently: Note [Non-reentrant checkpoint on the tape].
"""
from __future__ import annotations

import contextlib
import warnings
import weakref

from .. import _C, accelerator
from .._tensor import Tensor
from ..autograd import Function, _is_checkpoint_valid, backward as _backward, grad as _grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..random import fork_rng, get_rng_state, set_rng_state
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "noop_context_fn", "DefaultDeviceType", "set_checkpoint_debug_enabled"]

_DEFAULT_DETERMINISM_MODE = "default"
_DETERMINISM_CHECKS = ("default", "none")

_checkpoint_debug_enabled: bool | None = None


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """Within it, `enabled` overrides the `debug` argument of every non-reentrant checkpoint (None: defer to it)."""
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


class CheckpointError(RuntimeError):
    """The recomputation of a non-reentrant checkpoint did not reproduce the forward."""


class DefaultDeviceType:
    """The device type whose RNG state checkpointing saves when no argument is on an accelerator. MLX has a single
    RNG state for every device, so this only records the choice."""

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            acc = accelerator.current_accelerator(True)
            DefaultDeviceType._default_device_type = acc.type if acc is not None else "cpu"
        return DefaultDeviceType._default_device_type


def noop_context_fn():
    """The default `context_fn`: no context around the forward nor around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """A tuple like `inputs` whose tensors are detached, each requiring grad as its original does."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def check_backward_validity(inputs) -> None:
    """Warn, as torch does, when no tensor among `inputs` requires grad."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


class CheckpointFunction(Function):
    """The reentrant checkpoint: forward(run_function, preserve_rng_state, *args) keeps the arguments (and the RNG
    state) only; backward re-runs the function with grad on detached arguments and back-propagates through it."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        # Function.apply runs this under no_grad: the function records nothing
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = get_rng_state()
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_indices))
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        if not _is_checkpoint_valid():
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing "
                               "an `inputs` parameter to .backward(). To resolve this error, you can either set "
                               "use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                set_rng_state(ctx.fwd_cpu_state)
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None for t in detached)


# Note [Non-reentrant checkpoint on the tape]
# torch's non-reentrant checkpoint records the function's ordinary graph and swaps the values its nodes save for
# handles that the backward fills by recomputation (saved-tensor hooks). Our nodes hold their saved values
# themselves, so the graph is cut instead:
#   - the forward runs with grad on; its graph is read (next_functions) from the outputs down to where it reaches
#     the function's arguments (the tensors anywhere in args and kwargs) and the leaves that require grad (the
#     parameters it closes over);
#   - the outputs with that history are replaced by copies whose one node, `_CheckpointWithoutReentrantBackward`,
#     has edges to those arguments and leaves, and the recorded graph, with every value it saved, is dropped;
#   - that node's backward re-runs the function on detached arguments and takes autograd.grad of the recomputation
#     with respect to them and to the leaves. So `autograd.grad` and `backward(inputs=...)` reach parameters and
#     arguments, as in torch. Under create_graph the recomputation runs on the arguments themselves, so the
#     gradients it returns are differentiable with respect to them too (that pass then counts its way through the
#     caller's graph below them, running none of it).
# The recomputation's pass captures the gradient at the arguments' own edges as well (a function may reach an
# argument through its closure too), with a pre-hook on those nodes that stops the pass there, so the caller's
# graph below them is left to the outer pass.
# A cut is only right if the graph below the outputs dies with them: what outlives them (checked through weak
# references once the outputs are replaced) was made before the call (a tensor with history the function closes
# over, not passed as an argument) or kept by the function (an intermediate it stored). Gradients through such a
# node could be lost or counted twice, so then the function runs once more from the same RNG state and its
# ordinary graph is returned: the results are torch's, the memory is not saved. The same holds for outputs that
# tree_flatten cannot open (custom containers): they keep their graph.


def _stop_here(grads):
    """A node pre-hook that lets no gradient past its node (Note [Non-reentrant checkpoint on the tape])."""
    return (None,) * len(grads)


def _metadata(x):
    return {"shape": x.shape, "dtype": x.dtype, "device": x.device} if isinstance(x, Tensor) else None


class _Frame:
    """What a non-reentrant checkpoint keeps for its backward: the function, its arguments' structure with the
    non-tensor values, the RNG state of the forward, the outputs' metadata and the leaves the function closes over
    (the tensor arguments themselves are saved by the node)."""

    def __init__(self, function, rng_state, recompute_context, determinism_check, args, kwargs):
        self.function = function
        self.rng_state = rng_state
        self.recompute_context = recompute_context
        self.determinism_check = determinism_check
        flat, self.arg_spec = tree_flatten((args, kwargs))
        self.arg_slots = [i for i, a in enumerate(flat) if isinstance(a, Tensor)]
        self.tensors = [flat[i] for i in self.arg_slots]  # handed to the node, which saves them
        self.arg_values = [None if isinstance(a, Tensor) else a for a in flat]
        self.leaves = []
        self.outputs = None  # the outputs' copies, until the node takes them
        self.placements = []  # (position in the flat outputs, index among the node's outputs)
        self.out_positions = []  # the first position of each of the node's outputs
        self.meta = []

    def cut(self, flat):
        """Replace in `flat` (the flat outputs) those with history made by the function by copies without it, having
        read their graph down to the arguments and the leaves. Returns weak references to the nodes read (None when
        no output had such history)."""
        self.meta = [_metadata(o) for o in flat]
        arg_ids = {id(t) for t in self.tensors}
        arg_edges = {(id(t.grad_fn), t.output_nr) for t in self.tensors if t.grad_fn is not None}
        originals, index = [], {}
        for i, o in enumerate(flat):
            if isinstance(o, Tensor) and o.grad_fn is not None and (id(o.grad_fn), o.output_nr) not in arg_edges:
                if id(o) not in index:
                    index[id(o)] = len(originals)
                    originals.append(o)
                    self.out_positions.append(i)
                self.placements.append((i, index[id(o)]))
        if not originals:
            return None
        stack = [o.grad_fn for o in originals]
        seen = {id(n) for n in stack}
        refs = [weakref.ref(n) for n in stack]
        leaves = {}
        while stack:
            for child, nr in stack.pop().next_functions:
                if child is None or (id(child), nr) in arg_edges:
                    continue
                if type(child).__name__ == "AccumulateGrad":
                    leaf = child.variable
                    if id(leaf) not in arg_ids:
                        leaves.setdefault(id(leaf), leaf)
                elif id(child) not in seen:
                    seen.add(id(child))
                    refs.append(weakref.ref(child))
                    stack.append(child)
        self.leaves = list(leaves.values())
        with no_grad():
            self.outputs = tuple(o.clone() for o in originals)
        for i, k in self.placements:
            flat[i] = self.outputs[k]
        return refs

    def _check(self, outs):
        if self.determinism_check == "none":
            return
        if len(outs) != len(self.meta):
            raise CheckpointError("torch.utils.checkpoint: the recomputation returned a different number of values "
                                  f"than the original forward.\nForward: {len(self.meta)}\nRecomputation: {len(outs)}")
        bad = [(i, a, _metadata(o)) for i, (a, o) in enumerate(zip(self.meta, outs)) if a != _metadata(o)]
        if bad:
            lines = "".join(f"tensor at position {i}:\nsaved metadata: {a}\nrecomputed metadata: {b}\n"
                            for i, a, b in bad)
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                  f"different metadata than during the forward pass.\n{lines}")

    def backward(self, saved, grad_outputs):
        """The gradients for the node's inputs (the tensor arguments, then the leaves) from a recomputation."""
        create = _C.is_grad_enabled()  # the engine runs a backward with grad on exactly under create_graph
        inputs = list(saved) if create else [t.detach().requires_grad_(t.requires_grad) for t in saved]
        flat = list(self.arg_values)
        for slot, t in zip(self.arg_slots, inputs):
            flat[slot] = t
        args, kwargs = tree_unflatten(flat, self.arg_spec)
        with fork_rng(enabled=self.rng_state is not None):
            if self.rng_state is not None:
                set_rng_state(self.rng_state)
            with enable_grad(), self.recompute_context:
                outs, _ = tree_flatten(self.function(*args, **kwargs))
        self._check(outs)
        roots, root_grads = [], []
        for pos, g in zip(self.out_positions, grad_outputs):
            o = outs[pos] if pos < len(outs) else None
            if g is not None and isinstance(o, Tensor) and o.requires_grad:
                roots.append(o)
                root_grads.append(g)
        grads = [None] * (len(saved) + len(self.leaves))
        if not roots:
            return tuple(grads)
        wanted, slots, edges = [], [], set()

        def want(slot, t):
            node, nr = _C._edge(t)
            if (id(node), nr) not in edges:
                edges.add((id(node), nr))
                wanted.append(t)
                slots.append(slot)

        for i, (t, r) in enumerate(zip(saved, inputs)):
            if t.requires_grad:
                if r is not t:
                    wanted.append(r)
                    slots.append(i)
                want(i, t)
        for j, leaf in enumerate(self.leaves):
            want(len(saved) + j, leaf)
        stops = {id(t.grad_fn): t.grad_fn for t in wanted if t.grad_fn is not None}
        handles = [node.register_prehook(_stop_here) for node in stops.values()]
        try:
            got = _grad(roots, wanted, root_grads, retain_graph=True, create_graph=create, allow_unused=True)
        finally:
            for h in handles:
                h.remove()
        for slot, g in zip(slots, got):
            if g is not None:
                grads[slot] = g if grads[slot] is None else grads[slot] + g
        return tuple(grads)


class _CheckpointWithoutReentrant(Function):
    """The node of a non-reentrant checkpoint (Note [Non-reentrant checkpoint on the tape]): apply(frame, *tensor
    arguments, *leaves) gives the copies of the outputs that `frame.cut` made."""

    @staticmethod
    def forward(ctx, frame, *tensors):
        ctx.frame = frame
        ctx.save_for_backward(*tensors[: len(frame.tensors)])
        ctx.set_materialize_grads(False)
        outputs, frame.outputs, frame.tensors = frame.outputs, None, ()
        return outputs

    @staticmethod
    def backward(ctx, *grad_outputs):
        return (None,) + ctx.frame.backward(ctx.saved_tensors, grad_outputs)


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug, args, kwargs):
    if (_checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug) and \
            context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
                         f"but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not _C.is_grad_enabled():
        return function(*args, **kwargs)
    rng_state = get_rng_state() if preserve_rng_state else None
    with forward_context:
        result = function(*args, **kwargs)
    flat, spec = tree_flatten(result)
    del result
    frame = _Frame(function, rng_state, recompute_context, determinism_check, args, kwargs)
    refs = frame.cut(flat)
    if refs is None:
        return tree_unflatten(flat, spec)
    if any(r() is not None for r in refs):  # part of the graph outlives the outputs: run again and keep the graph
        if rng_state is not None:
            set_rng_state(rng_state)
        with context_fn()[0]:
            return function(*args, **kwargs)
    outs = _CheckpointWithoutReentrant.apply(frame, *frame.tensors, *frame.leaves)
    for pos, k in frame.placements:
        flat[pos] = outs[k]
    return tree_unflatten(flat, spec)


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=noop_context_fn,
               determinism_check: str = _DEFAULT_DETERMINISM_MODE, debug: bool = False, early_stop: bool = True,
               preserve_rng_state: bool = True, **kwargs):
    """torch.utils.checkpoint.checkpoint: `function(*args, **kwargs)`, recomputed in the backward instead of keeping
    its intermediate values. `early_stop` is accepted and has no effect (the recomputation always runs whole); `debug`
    adds no operator trace to the errors."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", stacklevel=2)
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug, args,
                                         kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """torch.utils.checkpoint.checkpoint_sequential: run `functions` (an nn.Sequential or a list of callables) on
    `input` in `segments` chunks, checkpointing every chunk but the last."""
    from .. import nn  # here: nn imports this package while it loads

    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    if isinstance(functions, nn.Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1)(input)
