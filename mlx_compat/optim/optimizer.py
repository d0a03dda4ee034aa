"""torch.optim.Optimizer: parameter groups with per-group options, per-parameter state, state_dict/load_state_dict
in torch's layout, zero_grad, step hooks (per optimizer and global), and the batched update (`_Update`) that every
algorithm's step() writes its new parameter and state values through.

Note [One batched update per step]
An algorithm's step() reads the raw `mx.array`s of each parameter, its gradient and its state, builds every new
value lazily with MLX ops on those arrays (torch's single-tensor arithmetic, op for op, so float32 results agree),
and hands (tensor, new array) pairs to `_Update`. `commit()` writes them all through the Tensor in-place primitive
`_write` (version counters and write-through for views stay right; no autograd recording, the step runs under
no_grad as torch's does) and then evaluates every new array with ONE `mx.eval`, so graphs never grow across steps
and the whole step is one MLX computation; the roots of the backward passes since the last step (the loss) are
evaluated in that same call (Note [Loss evaluated with the step] in autograd/__init__.py). Scalar state that torch
keeps as 0-d float32 tensors ('step', NAdam's 'mu_product', ASGD's 'eta'/'mu') is read back as a Python float
(Note [Host copies of scalar state]; `.item()` when the step did not write it) and rewritten from Python floats,
as torch's `_get_value` does on the CPU.

Note [Complex parameters]
As torch's single-tensor paths do with `view_as_real`, a complex64 parameter is updated as float32 pairs: its
arrays are reinterpreted (`mx.view`) as float32 for the arithmetic and reinterpreted back when written.
"""
from __future__ import annotations

import functools
import os
import threading
import warnings
import weakref
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import mlx.core as mx
import numpy as np

from .. import _C, _device_scope
from ..nn import _layout
from .. import autograd as _autograd
from .._tensor import Tensor
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]


class _RequiredParameter:
    """Singleton marking an option a param group must give (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


_global_optimizer_pre_hooks: "OrderedDict[int, object]" = OrderedDict()
_global_optimizer_post_hooks: "OrderedDict[int, object]" = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register hook(optimizer, args, kwargs) -> None | (args, kwargs) run before every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register hook(optimizer, args, kwargs) run after every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj):
    if isinstance(obj, Tensor):
        return "torch.FloatTensor" if obj.dtype.is_floating_point else type(obj).__name__
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def _with_hooks(step):
    """Wrap a class's step() with the step pre/post hooks (torch's profile_hook_step)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
        out = step(self, *args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


def _use_grad_for_differentiable(step):
    """Run step() with grad mode set to the optimizer's `differentiable` default (off, normally), as torch does."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(bool(self.defaults.get("differentiable", False)))
        try:
            return step(self, *args, **kwargs)
        finally:
            _C._set_grad_enabled(prev)

    return wrapper


def _to_scalar(x):
    """A Python number from a number or a one-element tensor (torch's _to_scalar / _get_value)."""
    if isinstance(x, Tensor):
        return x.item()
    return x


# Note [Host copies of scalar state]
# Scalar state ('step', NAdam's 'mu_product', ...) is a 0-d float32 tensor, as torch's; the next step needs its
# value on the host. Reading it with .item() is an evaluation call per parameter per step (already materialised,
# but still a trip through mx.eval and the evaluation lock). So commit() remembers, for every scalar it wrote, the
# array the tensor then holds and the float32 value written; `_scalar_value` returns that value while the tensor
# still holds that very array (held here, so its identity cannot be reused), and reads .item() otherwise: after
# any other write (fill_, load_state_dict, a compiled step's write-back), after a bounded-graph rebinding, or while
# compile traces (Note [Step inside compile]). Entries leave with their tensor (a weakref callback).
_host_scalars = {}


def _drop_host_scalar(key, _ref=None):
    _host_scalars.pop(key, None)


def _remember_scalar(t, value):
    """Record that scalar state `t` now holds the float32 value `value` (Note [Host copies of scalar state])."""
    key = id(t)
    e = _host_scalars.get(key)
    if e is not None and e[0]() is t:
        e[1], e[2] = t._mx, value
    else:
        _host_scalars[key] = [weakref.ref(t, functools.partial(_drop_host_scalar, key)), t._mx, value]


def _scalar_value(t):
    """The Python value of 0-d scalar state tensor `t` (Note [Host copies of scalar state])."""
    if not _tracing:
        e = _host_scalars.get(id(t))
        if e is not None and e[1] is t._mx:
            return e[2]
    return t.item()


def _closure_loss(closure):
    """torch's `with torch.enable_grad(): loss = closure()`."""
    if closure is None:
        return None
    prev = _C.is_grad_enabled()
    _C._set_grad_enabled(True)
    try:
        return closure()
    finally:
        _C._set_grad_enabled(prev)


def _host_expr(value):
    """Whether `value` is a host scalar expression of a step being traced by compile (Note [Step inside compile])."""
    return _tracing and getattr(value, "_host_expr", False)


def _scalar_tensor(value, device=None):
    """A 0-d float32 tensor (torch's scalar state: `torch.tensor(value, dtype=_get_scalar_dtype())`); while
    tracing, compile's stand-in that the host makes after the call (Note [Step inside compile]): the step may write
    host expressions into it."""
    if _tracing:
        from .._compile import new_scalar_state

        return new_scalar_state(value)
    t = Tensor._new_on(mx.array(value, dtype=mx.float32), 0 if device is None else device)
    _remember_scalar(t, float(np.float32(value)))
    return t


def _f32(value):
    """float(np.float32(value)): a Python number rounded as a 0-d float32 tensor stores it (torch's in-place
    arithmetic on float32 scalar state); a host expression while tracing stays one (Note [Step inside compile])."""
    if _host_expr(value):
        from .._compile import host_f32

        return host_f32(value)
    from .._compile import _f32 as f32

    return f32(value)


def _real(arr):
    """The float view of a complex64 array (Note [Complex parameters]); other arrays unchanged."""
    if arr.dtype == mx.complex64:
        return mx.view(arr, mx.float32)
    return arr


# Note [Fused update kernels]
# Each algorithm's per-parameter arithmetic is one pure function of arrays (the parameter, its gradient and state,
# and the step's scalars as 0-d arrays of the parameter's compute dtype, so a changing lr or bias correction never
# retraces), built once per static configuration (`_kernel`) and compiled with mx.compile traced per input shape
# (MLX keeps one trace per shape and dtype). The rule: a float32 (or float64) update of Adam, AdamW or SGD is ONE
# fused kernel per parameter, and a reduced-precision one at most two (Note [Reduced-precision Adam]); the
# operation order inside is torch's, unchanged. Not shapeless: a shapeless trace must keep the 0-d scalars'
# Broadcast nodes, at which MLX's fuser splits the chain (a float32 AdamW update became three kernels and two
# broadcasts, and ran ~10 % slower on the CPU); a model has few distinct parameter shapes, so the traces are few.
# tests/optim/test_update_kernels.py counts the kernels. MLX_COMPAT_OPTIM_COMPILE=0 runs the same functions
# eagerly.
_COMPILE = os.environ.get("MLX_COMPAT_OPTIM_COMPILE", "1") != "0"
_kernel_cache = {}

# Note [Step inside compile]: while compile() traces a function that steps an optimizer (mlx_compat._compile,
# Note [Host scalars]), `_tracing` is non-zero: commit() leaves evaluation to the compiled call, and Python
# scalars computed from host state (step counts, lr) arrive as expressions (`_host_expr`) that become graph inputs
# and host writes instead of constants. Host arithmetic on them must stay on such expressions: round to float32
# with `_f32` (never np.float32, whose float() would be a guard on the value), create scalar state from them with
# `_scalar_tensor` and fill state tensors from them with `_full_like` (never mx.array/mx.full of the value).
_tracing = 0


def _kernel(key, make):
    """The (compiled) update function for static configuration `key`, built by make() on first use."""
    fn = _kernel_cache.get(key)
    if fn is None:
        fn = _in_opmath(make())
        if _COMPILE:
            fn = mx.compile(fn)  # per shape (Note [Fused update kernels])
        _kernel_cache[key] = fn
    return fn


# Note [Reduced-precision parameters]: torch's CPU kernels compute float16/bfloat16 tensors in float32
# ("opmath") with float32 scalars and round each op's result to the tensor's dtype. The update functions get
# float32 copies of such arrays and float32 scalars, and round with `_rounder(low)` wherever torch's single-tensor
# code stores an op's result (an in-place op, or an out-of-place op's new tensor); for float32/float64 the rounder
# is the identity and is never traced. The casts to float32 and back are made inside the update function
# (`_in_opmath`), so a compiled update is one fused kernel per parameter rather than a kernel plus a standalone
# cast per input and per output. Casting back is exact (every output was rounded to the reduced dtype already),
# and every output is the parameter or a full-size state tensor, which has the parameter's dtype (torch's
# zeros_like/full_like; load_state_dict casts state to it).
_REDUCED = (mx.float16, mx.bfloat16)


def _opmath(dtype):
    return mx.float32 if dtype in _REDUCED else dtype


def _low(arr):
    """The reduced dtype an update works in (part of a kernel's static configuration), or None."""
    return arr.dtype if arr.dtype in _REDUCED else None


# The reduced-dtype arrays `_rounder` made while an update function runs, by id of the float32 value returned
# (Note [Reduced-precision parameters]: `_in_opmath` returns these instead of casting the outputs again).
_rounded = threading.local()


def _rounder(low):
    """Round a float32 value to the reduced dtype `low` (and back to float32); identity when low is None."""
    if low is None:
        return lambda a: a

    def r(a):
        lo = a.astype(low)
        f = lo.astype(mx.float32)
        memo = getattr(_rounded, "memo", None)
        if memo is not None:
            memo[id(f)] = (f, lo)
        return f

    return r


def _in_opmath(update):
    """`update` taking and returning arrays in the parameter's dtype (the first argument's): reduced-precision
    arguments go in as float32 and float32 results come back in the reduced dtype (Note [Reduced-precision
    parameters])."""

    def run(*args):
        low = args[0].dtype
        if low not in _REDUCED:
            return update(*args)
        memo = _rounded.memo = {}
        try:
            out = update(*(a.astype(mx.float32) if a.dtype in _REDUCED else a for a in args))
        finally:
            _rounded.memo = None
        if not isinstance(out, tuple):
            out = (out,)
        return tuple(_low_of(o, low, memo) for o in out)

    return run


def _low_of(o, low, memo):
    """Output `o` of an update in the reduced dtype `low`: the array its last rounding made, if it is one (then
    the output is a value the update's own arithmetic reads too, and MLX's compile fuses the update into one
    kernel, as native MLX's optimizers are), else a cast."""
    hit = memo.get(id(o))
    if hit is not None and hit[0] is o:
        return hit[1]
    return o.astype(low) if o.dtype == mx.float32 else o


# Note [Parameters in their gradients' memory order]
# MLX's convolution takes O...I weights, and its weight gradient is a product reshaped to them: on a GPU a
# convolution's weight gradient is the OI... view of O...I memory, and the recorded convolution marks it with the
# channels-last hint (nn/functional.py's _conv_backward; the leaf's .grad keeps it, csrc/engine.c). An update
# that reads it beside a row-major parameter and state reads it out of order (uncoalesced loads on a GPU), and
# every forward copies the row-major weight to O...I again before convolving. So `_call` runs the update of a 3- to
# 8-dim real parameter on a GPU in that O...I space when its gradient carries the hint: the full-size arrays
# transposed there (row-contiguous views where their memory is O...I already), the results transposed back (OI...
# views of O...I memory, as a convolution's activations are NC... views of N...C memory). The parameter cannot
# carry the hint itself (a Parameter is a view of the tensor it was made from, and views never do), so the
# gradient's decides at every step. The first step reads the row-major parameter and state once out of order;
# from then on every array of the update is contiguous, and the forward's transpose of the weight is
# row-contiguous, which the convolution reads without a copy. The values are the update's own, elementwise: the
# hint is about memory order, never about values (Note [Channels-last hint] in csrc/layout.c). The CPU's
# convolutions keep row-major weights (Note [Channels-last gradients] in nn/_layout.py). On an H100, ResNet-18 32px
# b128's eager SGD step went from 0.864-0.868x native MLX's time to 0.824-0.825x (ResNet-50 224 b32: 0.851-0.854x
# either way). Eager steps only: in a compiled step (Note [Step inside compile]) the transposes back are graph
# nodes outside the fused update, which MLX's fuser then splits in two (the new state has a consumer outside the
# kernel): ResNet-18's compiled graph had 89 nodes more, 17 of them kernels, and its step took 0.88x -> 0.91-0.92x
# native's. So a traced update keeps the row-major form, whatever memory order its arrays later have.
_ordered_kernels = {}  # (update function, rank) -> the function run in O...I space


def _last_rank(p):
    """The rank of p's update in O...I space (Note [Parameters in their gradients' memory order]), or 0."""
    if p._device_code == 0 or _tracing:
        return 0
    g = p.grad
    if g is None or not _C._is_channels_last(g):
        return 0
    nd = p._mx.ndim
    return nd if 3 <= nd <= 8 and not p.dtype.is_complex else 0


def _ordered(fn, nd):
    """fn run on its rank-`nd` arrays transposed to O...I space, its rank-`nd` results transposed back."""
    run = _ordered_kernels.get((fn, nd))
    if run is None:
        to, back = _layout.to_last(nd - 2), _layout.from_last(nd - 2)

        def run(*args):
            out = fn(*[mx.transpose(a, to) if a.ndim == nd else a for a in args])
            return tuple(mx.transpose(o, back) if o.ndim == nd else o for o in out)
        _ordered_kernels[(fn, nd)] = run
    return run


def _call(p, fn, *args):
    """fn(*args) (a `_kernel`) on parameter p's device (Note [Device scope]: raw MLX calls otherwise go to MLX's
    default device, the GPU wherever one exists), in the memory order of Note [Parameters in their gradients'
    memory order]."""
    nd = _last_rank(p)
    if nd:
        fn = _ordered(fn, nd)
    if not _device_scope.ACTIVE:
        return fn(*args)
    return _device_scope.scoped(p._device_code, fn, *args)


class _Update:
    """The new values of one step (Note [One batched update per step]): `put(tensor, array)` records a write,
    `scalar(tensor, value)` a 0-d float32 scalar state value, `commit()` writes everything in place and evaluates
    it with one mx.eval."""

    __slots__ = ("targets", "values", "extra", "_consts", "_scalars", "_known")

    def __init__(self):
        self.targets = []
        self.values = []
        self.extra = []  # arrays of state tensors created this step (nothing to write, only to evaluate)
        self._consts = {}
        self._scalars = {}
        self._known = []  # (scalar state tensor, its float32 value) written this step

    # Note [Step constants per group]
    # A step's Python-float constants (lr, 1 - beta, bias corrections, eps ...) depend on the group's options and
    # the step count only, and the parameters of a group share their step count in all but unusual cases (a
    # parameter that joined late or was loaded apart). So step() computes them, picks the update function and
    # builds their 0-d arrays once per (group, step count, parameter dtype), and every parameter with that key
    # reuses them (`consts` in Adam.step / SGD.step); `scalars` also shares one array per (value, dtype) across
    # groups. While compile traces, the constants are host expressions per parameter (Note [Step inside
    # compile]) and are not shared here.
    def scalars(self, dtype, *values):
        """The Python numbers `values` as 0-d arrays of `dtype` (torch casts a Scalar to the tensor's type), one
        shared array per (value, dtype) within the step."""
        cache = self._scalars
        dtype = _opmath(dtype)
        out = []
        for v in values:
            if _host_expr(v):
                from .._compile import scalar_input

                out.append(scalar_input(v, dtype))
                continue
            key = (v, dtype)
            a = cache.get(key)
            if a is None:
                a = cache[key] = mx.array(v, dtype=dtype)
            out.append(a)
        return out

    def put(self, tensor, arr):
        if tensor.dtype.is_complex and arr.dtype != mx.complex64:
            arr = mx.view(arr, mx.complex64)
        self.targets.append(tensor)
        self.values.append(arr)

    def new(self, arr, like):
        """A new state tensor holding `arr` on `like`'s device, in its dtype, evaluated at commit."""
        if like.dtype.is_complex and arr.dtype != mx.complex64:
            arr = mx.view(arr, mx.complex64)
        elif arr.dtype in _REDUCED or arr.dtype != like._mx.dtype:
            arr = arr.astype(like._mx.dtype)
        self.extra.append(arr)
        return Tensor._new_on(arr, like._device_code)

    def scalar(self, tensor, value):
        """Write the Python float `value` into a 0-d float32 state tensor (one shared constant per value); while
        tracing, a host expression or a write into compile's stand-in for scalar state is a host write."""
        if _tracing and (getattr(value, "_host_expr", False) or not isinstance(tensor, Tensor)):
            from .._compile import host_write

            host_write(tensor, value)
            return
        c = self._consts.get(value)
        if c is None:
            c = self._consts[value] = (mx.array(value, dtype=mx.float32), float(np.float32(value)))
        self.targets.append(tensor)
        self.values.append(c[0])
        self._known.append((tensor, c[1]))

    def commit(self):
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            roots = self.extra
            for t, a in zip(self.targets, self.values):
                t._write(a)
                # what the tensor now holds (for a view: its base's new storage value) is what gets evaluated
                roots.append(t._storage_base._mx if t._is_storage_view else t._mx)
            if _tracing:
                _autograd._step_roots.clear()
            else:
                losses = _autograd._take_step_roots()  # Note [Loss evaluated with the step]
                roots += losses
                _C._eval_lock_acquire()  # Note [Threads]
                try:
                    mx.eval(roots)
                finally:
                    _C._eval_lock_release()
                if losses:  # a later mlx_compat.eval(loss) need not evaluate again (Note [Known evaluated values])
                    _C._note_evaluated(losses)
                for t, v in self._known:  # Note [Host copies of scalar state]
                    _remember_scalar(t, v)
        finally:
            _C._set_grad_enabled(prev)


class Optimizer:
    """Base class of all optimizers (torch.optim.Optimizer).

    Subclasses pass their `defaults` (every option with its default value) and implement step().
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _typename(params)
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling and printing ------------------------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        # torch's __setstate__ turns scalar state saved as Python numbers into 0-d float32 tensors
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for key in self._scalar_state_keys:
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_tensor(float(p_state[key]))

    _scalar_state_keys = ("step",)

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        s += ")"
        return s

    # -- hooks ----------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    @staticmethod
    def _register(hooks, hook, prepend):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state_dict -----------------------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {int id: {name: value}}, 'param_groups': [{options..., 'params': [int ids]}]} as torch."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                if id(p) not in param_mappings:
                    param_mappings[id(p)] = i
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        # 'step' keeps its dtype and device; other floating state follows the parameter's dtype and device
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=_float32(), device=param.device)
            return value
        if param.is_floating_point() or param.is_complex():
            if value.is_floating_point() or value.is_complex():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        """Load a state_dict made by state_dict() (ours or torch's, its tensors converted)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- gradients ------------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    # -- groups ---------------------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (the others from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        param_set = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                current = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current} to the optimizer"
                )
        if not param_set.isdisjoint(id(p) for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)


def _float32():
    from .. import float32

    return float32


def _check_sparse(grad, name):
    if getattr(grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients")


def _check_fused(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_differentiable(differentiable):
    if differentiable:
        raise NotImplementedError(
            "differentiable=True (autograd through the optimizer step) is not supported: the update runs on raw "
            "MLX arrays outside the autograd tape"
        )


def _zeros_like(p):
    """A zero state tensor like parameter p (its shape, dtype and device)."""
    return Tensor._new_on(mx.zeros(p.shape, dtype=p._mx.dtype), p._device_code)


def _full_like(p, value, complex_pair=False):
    """A state tensor like parameter p filled with value (value + value·j for a complex p with complex_pair); a
    host expression while tracing is a graph input rounded to p's dtype as mx.full rounds it (Note [Step inside
    compile])."""
    dtype = p._mx.dtype
    if _host_expr(value):
        from .._compile import scalar_input

        v = scalar_input(value, mx.float32 if dtype == mx.complex64 else dtype)
        if dtype == mx.complex64:
            v = v.astype(mx.complex64) * mx.array(1 + 1j if complex_pair else 1, dtype=mx.complex64)
        return Tensor._new_on(mx.full(p.shape, v, dtype=dtype), p._device_code)
    if complex_pair and dtype == mx.complex64:
        value = complex(value, value)
    return Tensor._new_on(mx.full(p.shape, value, dtype=dtype), p._device_code)
