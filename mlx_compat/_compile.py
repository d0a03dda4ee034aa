"""torch.compile over mx.compile: `compile()`, the OptimizedModule wrapper, and the machinery that turns a Python
function reading and writing program state (parameters, buffers, .grad, optimizer state, RNG keys) into one pure
MLX function traced by mx.compile.

Note [Explicit state]
A compiled call first walks what the function can reach (its arguments, `__self__` of a bound method, its closure
cells and the globals its code names, one level into lists/tuples/dicts): modules (parameters, buffers and their
.grad), optimizers (their parameters, .grad and state tensors), LR schedulers (their optimizer) and generators (the
default generator always). Their `mx.array`s, with the argument tensors', are the inputs of the function mx.compile
traces; inside it every such Tensor is rebound (`_set_data`) to its tracer, the user function runs, and the arrays
every slot holds at its end (or None: `.grad` set to None) are the outputs, together with the user's outputs. The
real tensors are restored before the trace returns, and after every call the outputs are written back (`_write`
under no_grad, as an optimizer's step writes), so a compiled call leaves the program as the eager call would.
What decides the traced graph without being an input is part of the cache key: argument shapes/dtypes and
non-tensor values, which `.grad`s exist, the optimizer state's keys/shapes, every group's options except the
host-sourced lr/momentum/betas (Note [Host scalars]), each module's identity, scalar attributes (training, Dropout's
p, ...) and hook ids, the owner each input slot reads, and scalar closure/global values. The walk that builds the
slots and the key is reused across calls while nothing structural changed (Note [Plan reuse], on _Plan).

Note [Host scalars]
Optimizers compute per-step scalars in Python (torch's `_get_value`: bias corrections from the float32 'step', the
group's lr). While tracing, each scalar state tensor (`_scalar_state_keys`) is replaced in the optimizer's state by
a proxy whose `.item()` is a `_Sym` (a Python expression over host sources: the state tensor's value, a group's
'lr'), and every group's 'lr' is such a `_Sym`, as are its 'momentum' and 'betas' when they are plain numbers
(CyclicLR and OneCycleLR change them every step: in the cache key they would retrace every call). Scalar state the
traced step creates (`_scalar_tensor`: a first step's 'step', ASGD's 'eta' from lr) is such a proxy too
(`_NewScalarState`), made on the host after the call from its last written value. A write to a proxy changes what
its later `.item()`s give within the trace (a function stepping twice reads the first step's count), always as
`f32(...)`: the float32 rounding a 0-d float32 tensor applies (the optimizers' `_f32` builds the same expression
where torch rounds through float32 arithmetic, NAdam's mu_product, ASGD's eta and mu). Arithmetic on them builds
Python source over the sources' values (constants inline as literals, nesting deeper than _MAX_DEPTH hoisted into
shared temporaries); at the end of the trace the expressions of each kind (the graph's scalars, the guards, the host
writes) become one generated function each, so a call evaluates them in a few bytecodes instead of walking a tree of
closures. Where one reaches the graph (`_Update.scalars`), it becomes a 0-d input of the dtype the graph reads it
in, computed on the host in Python doubles at every call exactly as the eager step computes it and rounded to that
dtype when the array is built (the same rounding as eager's `mx.array(value, dtype)`); equal nonzero values of one
dtype share one array (Adam's per-parameter bias corrections are usually equal), and a value unchanged since the
previous call keeps that call's array (betas, eps, an unscheduled lr). A 0-d input adds no node to the
graph (an input vector read through slices cost a Slice and a Reshape node per scalar, ~4 us each on the CPU), and
there is no float64 (which MLX's GPU backends lack) unless the parameters are float64 or the device is the CPU
(Note [Scalar division as a float64 product] in optim/adam.py). A write to the scalar state
(`_Update.scalar`) becomes a host write after the call. Comparisons and float()/int() of a `_Sym` are guards: the
traced graph is reused only while they give the same answers. The host keeps the value of each scalar state tensor a
call writes, so the next call reads its sources (Adam's step counts: one per parameter) without a device-to-host
copy each. An LR scheduler's step() inside the function is recorded while tracing and run for real on the host after
each call (it only does host arithmetic on the groups' lr); a scheduler step that precedes the optimizer's read of
lr in the function is not supported and falls back to eager.

Note [Shared host scalars]
An optimizer's per-parameter scalar state usually holds one value for every parameter (Adam's step counts all
advance together), and every expression over it (bias corrections, step sizes) is then the same for every
parameter. While tracing, the scalar state of one optimizer and key whose value equals an earlier one's (exactly:
same type, equal, zeros of one sign) is read through the earlier one's source, under a guard that the two are
still the same at each call (a differing value fails the guard and traces an entry with its own source, Note
[Host scalars]); and a host expression the graph already reads in one dtype is one input however often it is
read. So the graph takes one set of scalar inputs for all parameters instead of one per parameter (the MLP Adam
step: 20 host scalar inputs become 5), and each call computes and builds fewer of them. The host writes give
equal values one float object (`_write_host`, and host_post in csrc/compile.c), so those guards are answered
by `is` before `same` compares values, and an expression written for every parameter is computed once.

Note [Dynamic shapes]
torch's dynamic=True asks for graphs that serve every size without recompiling. MLX's shapeless compile
(mx.compile(shapeless=True)) reuses one traced graph for inputs of any shape of the same ranks and dtypes, but it
only re-infers its nodes' shapes: what Python computed from a size while tracing is baked in (reshape sizes, a
mean's 1/N, slice bounds, an expanded bias), so at another size the graph either fails or silently computes
something else (MLX 0.32's own shapeless AddMM does, for a linear layer with bias). The rule: with dynamic=True
the key holds each argument tensor's rank instead of its shape; the first call at a key traces a shapeless
graph. The first call at other shapes also traces the ordinary graph for its shapes and runs both on the call's
state: if every output (results, new state, RNG keys) is identical bit for bit, the key is shape-independent
and the shapeless graph serves every later shape with no tracing; otherwise, or if MLX refuses to trace or run
the graph shapeless, the key gets per-shape graphs from then on, as dynamic=None (the shapeless graph still serves
the shapes it was traced at). Limits, stated: the check compares two sizes, so a Python branch on a size that
both take the same way (`if x.shape[0] > 1000`) is not seen (torch guards on it); and a mean-reduced loss makes a
training step shape-dependent (1/N), so training steps use per-shape graphs.

Note [View state]
A tensor the function reaches through its globals or closure may be a view (`row = table[1]`). Its slot is its
base's (one slot however many views share it), and rebinding that base to its tracer with `_set_data` would leave
the views reading their old arrays (MLX then refuses the trace: "uncaptured inputs", and the function ran eagerly).
So such a base is rebound to its tracer by a write (`_C._compile_write`: same shape and dtype, its version
bumped), which its views see as they see any write, and back the same way when the trace ends: the views' reads
and in-place writes inside the function go through the base, whose value the call writes back. The cost: the base
counts two more versions per trace than in an eager run. Views held as module parameters, buffers or optimizer
state are not treated so (every Parameter is a whole-storage view of its source tensor, and their slots are the
leaves autograd differentiates): the trace's `_set_data` makes such a view a base of its own, so a Parameter over
part of another tensor stops aliasing it after the first call (a known defect, tests/test_compile_plan.py).

Note [Fallback]
Anything the trace cannot represent — reading a tensor's value (item, bool, printing, data-dependent indexing: the
core's RuntimeError, Note [No evaluation while tracing]), `print`/`open`, or any other error while tracing — makes
the compiled function run eagerly from then on, with one warning naming the cause (torch's graph break); with
fullgraph=True the error is raised instead. State touched by the failed trace is restored first.

Note [Derived inputs]
Some functions want a state array in another form that eager code computes once per array and caches (a
convolution's weight transposed to MLX's O...I layout and copied row-major, Note [cached channels-last weights] in
nn/_layout.py). Inside a trace the state arrays are tracers, so such a form would be recomputed by the graph at
every call (one copy kernel per convolution). `derived_input(arrays, key, fn)` lets them ask instead: when every
one of `arrays` is a state slot's tracer, the first trace records (slots, key, fn) and is redone with one more
input per such request, the list of fn(slots' arrays) computed outside the graph at every call (`_inputs`, the
graph's last argument), which the retraced graph reads in place of fn(tracer). fn must be a pure function of
the array (it is called with the slot's current array at each call, so a write to the parameter is always seen)
and may cache per array object as weight_last does, which makes the per-call cost a lookup. The requests are part
of the entry, decided by the first trace like the scalar layout (Note [Host scalars]). Under mx.vjp (an
inference call whose outputs require grad, _vjp_parts) the derived inputs are rebuilt from the values
differentiated, so gradients reach the weights through them. A call program (Note [Compiled call program] in
csrc/compile.c) computes them in C and calls fn only when a source array is not the one of its last computation
(Note [Derived inputs in C]).

Note [Argument facts]
Eager code may read an argument's values on the host and take a cheaper path (cross entropy without its ignore
mask once the targets are seen to hold no ignore_index, Note [Target bounds on the host] in nn/_loss.py); inside
a trace the argument is a tracer, so the traced graph kept the general path at every call. `argument_fact(arr,
key, fn)` lets such code ask instead: when `arr` is an argument tensor's tracer, the trace computes fn(the call's
real array) and records (argument index, key, fn, value) in the entry, and the graph may assume the value. Each
later call takes the entry only while fn(its argument's array) gives the same value (`_lookup`, and the call
program's P_ARGCHECK in csrc/compile.c, before any side effect); otherwise the Python path finds or traces an
entry for the new value. fn must be a pure function of the array's values, cheap for an array seen before (the
targets' memo makes it a lookup); it may evaluate the array, as the eager check does. A re-run of the trace by MLX
(Note [Re-traced by MLX]) takes the first run's facts, so the graph it rebuilds is the one the entry describes.
An array computed from an argument inside the function (`y[1:]`, `y * 1`) is no argument: no fact, the
general path.
"""
from __future__ import annotations

import builtins
import functools
import itertools
import math
import operator
import struct
import types
import warnings
import weakref

import mlx.core as mx

from . import _C
from ._dtype import float32 as _F32
from ._tensor import Tensor, _root

__all__ = ["compile", "OptimizedModule", "disable", "reset"]

_all_compiled = weakref.WeakSet()  # every live compiled function, for reset()
_TRACE = None  # the _TraceContext while a compiled function is being traced


_MODE_STACKS = []  # overrides.py's per-thread mode stack holder, bound on first use (overrides imports this module)


def _function_modes():
    """Whether a TorchFunctionMode is active on this thread (overrides.py's stack; autocast is one)."""
    if not _MODE_STACKS:
        from .overrides import _modes

        _MODE_STACKS.append(_modes)
    return bool(getattr(_MODE_STACKS[0], "stack", None))


# Note [Compiled under autocast]
# An autocast region is a TorchFunctionMode (Note [Autocast as a function mode]) that casts each listed op's
# inputs. A compiled function called inside one is traced with the region active, so its casts are recorded
# into the graph like any op, and its traces are keyed by the region's state (_mode_key: each active autocast
# mode's device code and dtype) besides the plan key: a call outside the region, or in one of another dtype,
# finds its own trace, never one recorded under other casts. The plan reused across calls (Note [Plan reuse])
# is kept per state too. The C call program (Note [Compiled call program] in csrc/compile.c) refuses whenever
# a mode is active, and one is only made for a call outside every mode, so it never replays a region's trace.
# Any other TorchFunctionMode may do anything with the ops it sees, so under one the function runs eagerly, as
# it does with dynamic=True inside a region. A 20-block Linear/GELU/LayerNorm model at batch 4 on this CPU:
# 4,044 us a call eager under bfloat16 autocast, 1,036 us compiled (727 us compiled without autocast).
def _mode_key():
    """Note [Compiled under autocast]: () outside every TorchFunctionMode; the active autocast regions' (device
    code, dtype) pairs where only autocast modes are active; None under any other mode (the call runs eagerly)."""
    if not _function_modes():
        return ()
    from .amp.autocast_mode import _AutocastMode

    key = []
    for m in _MODE_STACKS[0].stack:
        if type(m) is not _AutocastMode:
            return None
        key.append((m.code, m.dtype))
    return tuple(key)
_PLACEHOLDER = mx.array(0.0)  # the input standing for a slot that holds None (a missing .grad)
_MISSING = object()
# id(scalar state tensor) -> (weak ref to it, the array a compiled call wrote into it, that value as a float); keyed
# by id, not weakly by the tensor, since a Tensor's == is elementwise
_host_values = {}
_UNCHANGED = object()  # a slot's output kind when the function leaves its array as it came in
_META_EPOCH = Tensor._meta_epoch  # the C core's count of in-place shape/dtype changes (Note [Meta epoch])


# ------------------------------------------------------------------------------------------ host scalars
# Python source of each operator a _Sym supports; the names an expression may call (Note [Host scalars])
_BINARY_SRC = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**"}
_COMPARE_SRC = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _f32(x):
    """Python number x rounded to float32 and back, as a 0-d float32 tensor stores it (float(np.float32(x)):
    overflow gives an infinity)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _same_value(a, b):
    """Whether host values a and b give the same result in every expression: equal, of one type, and zeros of
    the same sign (Note [Shared host scalars])."""
    return type(a) is type(b) and a == b and (a != 0 or math.copysign(1.0, a) == math.copysign(1.0, b))


_EVAL_NAMES = {"__builtins__": {}, "abs": abs, "float": float, "int": int, "bool": bool, "index": operator.index,
               "f32": _f32, "same": _same_value}


def _evaluator(srcs, consts, temps):
    """One Python function (v: the sources' values) -> tuple of the expressions `srcs` over `v`, the constants
    `consts` (c[i]) and the shared subexpressions `temps` (t0, t1, ... computed first, in order). An expression
    given more than once (each parameter's step count written) is computed once."""
    body = "".join(f"    t{j} = {t}\n" for j, t in enumerate(temps))
    repeated = {}
    for s in srcs:
        repeated[s] = s in repeated
    names = {s: f"r{j}" for j, s in enumerate(s for s, again in repeated.items() if again)}
    body += "".join(f"    {name} = {s}\n" for s, name in names.items())
    code = f"def _f(v, c=c):\n{body}    return ({''.join(names.get(s, s) + ', ' for s in srcs)})\n"
    names = dict(_EVAL_NAMES, c=consts)
    exec(code, names)  # noqa: S102 — source built here from operator symbols, literals and indices only
    return names["_f"]


_MAX_DEPTH = 32  # deeper expressions become shared subexpressions (Python's parser limits nesting)


class _Sym:
    """A host scalar known as an expression over the call's host sources (Note [Host scalars]): `_src` is its
    Python source over `v` (the sources' values) and `c` (the trace's constants)."""

    __slots__ = ("_src", "_ctx", "_depth")

    def __init__(self, src, ctx, depth=0):
        if depth > _MAX_DEPTH:
            src, depth = ctx.temp(src), 0
        self._src = src
        self._ctx = ctx
        self._depth = depth

    _host_expr = True

    def _now(self):
        return self._ctx.value_of(self._src)

    def _guard(self, fn_name):
        src = f"{fn_name}({self._src})"
        return self._ctx.guard(src)

    def __float__(self):
        return self._guard("float")

    def __int__(self):
        return self._guard("int")

    def __index__(self):
        return self._guard("index")

    def __bool__(self):
        return self._guard("bool")

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"_Sym({self._now()!r})"

    def __neg__(self):
        return _Sym(f"(-{self._src})", self._ctx, self._depth + 1)

    def __pos__(self):
        return self

    def __abs__(self):
        return _Sym(f"abs({self._src})", self._ctx, self._depth + 1)


def _src_of(x, ctx):
    """The source of x within ctx's expressions: a _Sym's own, a constant's reference into the constants."""
    if isinstance(x, _Sym):
        return x._src
    return ctx.const(x)


def _binary(symbol, reflected=False):
    def method(self, other):
        if isinstance(other, Tensor) or not isinstance(other, (int, float, _Sym)):
            return NotImplemented
        ctx = self._ctx
        a, b = self._src, _src_of(other, ctx)
        if reflected:
            a, b = b, a
        depth = max(self._depth, other._depth if isinstance(other, _Sym) else 0) + 1
        return _Sym(f"({a} {symbol} {b})", ctx, depth)

    return method


def _compare(symbol):
    def method(self, other):
        if not isinstance(other, (int, float, _Sym)):
            return NotImplemented
        ctx = self._ctx
        return ctx.guard(f"({self._src} {symbol} {_src_of(other, ctx)})")

    return method


for _name, _symbol in _BINARY_SRC.items():
    setattr(_Sym, f"__{_name}__", _binary(_symbol))
    setattr(_Sym, f"__r{_name}__", _binary(_symbol, reflected=True))
for _name, _symbol in _COMPARE_SRC.items():
    setattr(_Sym, f"__{_name}__", _compare(_symbol))


class _ScalarStateProxy:
    """Stands for a 0-d scalar state tensor of an optimizer while tracing (Note [Host scalars])."""

    __slots__ = ("real", "sym", "final")

    def __init__(self, real, sym):
        self.real = real  # the state tensor; None for one the traced step creates (_NewScalarState)
        self.sym = sym

    def item(self):
        return self.sym

    def __float__(self):
        return float(self.sym)

    def __getattr__(self, name):
        raise RuntimeError(f"optimizer scalar state used as a tensor ({name}) while tracing")


class _NewScalarState(_ScalarStateProxy):
    """A 0-d float32 scalar state tensor that the traced step creates (a first step's 'step', ASGD's 'eta' from
    lr): it is made on the host after each call from its last written value (`final`), like a host write
    (Note [Host scalars])."""

    __slots__ = ()


def new_scalar_state(value):
    """The stand-in for `_scalar_tensor(value)` (value a _Sym or a number) created while tracing: its .item() is
    value rounded to float32, as the eager tensor's is."""
    ctx = _TRACE
    src = _src_of(value, ctx)
    proxy = _NewScalarState(None, _Sym(f"f32({src})", ctx, getattr(value, "_depth", 0) + 1))
    proxy.final = src
    return proxy


def host_f32(value):
    """float(np.float32(value)) for a _Sym: the expression rounding it to float32 (Note [Host scalars])."""
    return _Sym(f"f32({value._src})", value._ctx, value._depth + 1)


def scalar_input(value, dtype):
    """The graph value of host scalar `value` (a _Sym) as a 0-d array of `dtype` (called by _Update.scalars)."""
    return _TRACE.scalar_input(value, dtype)


def host_write(tensor, value):
    """Record that scalar state `tensor` (a proxy) gets the host value `value` (a _Sym or a number) after the
    call; later reads in the same trace see it, as they would see the eager tensor's new value."""
    ctx = _TRACE
    if not isinstance(tensor, _ScalarStateProxy):
        # a plain tensor here was created by this trace: its value leaves as a graph output, not a host write
        raise _Unsupported("an optimizer wrote a host scalar into state it created as a tensor while tracing")
    src = _src_of(value, ctx)
    if isinstance(tensor, _NewScalarState):
        tensor.final = src
    else:
        ctx.host_writes.append((tensor.real, src))
    tensor.sym = _Sym(f"f32({src})", ctx, (value._depth if isinstance(value, _Sym) else 0) + 1)


# ------------------------------------------------------------------------------------------ state discovery
@functools.lru_cache(maxsize=None)
def _state_classes():
    """(Module, Optimizer, LRScheduler, Generator), imported once (the nn and optim packages import this one)."""
    from ._ops.random import Generator
    from .nn.modules.module import Module
    from .optim.lr_scheduler import LRScheduler
    from .optim.optimizer import Optimizer

    return Module, Optimizer, LRScheduler, Generator


def _is_module(obj):
    return isinstance(obj, _state_classes()[0])


def _code_names_into(code, out):
    out.update(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _code_names_into(c, out)


@functools.lru_cache(maxsize=1024)
def _code_names(code):
    """The global names `code` and its nested code objects read, sorted (code objects are immutable)."""
    names = set()
    _code_names_into(code, names)
    return tuple(sorted(names))


class _Reach:
    """What a function can reach (Note [Explicit state]).

    Note [Reach reuse]: the walk from the function (its globals, closure cells, defaults, and the functions,
    schedulers and bound methods found there) records every read it makes in `checks`; a later call whose reads
    all give the identical objects would find the same modules, optimizers, schedulers, generators and scalars,
    so it starts from a copy of the earlier walk instead of walking again (what those objects hold is read
    afresh by _Plan at every call). A walk that entered a list or a dict (whose contents can change without
    any recorded read changing) is never reused."""

    def __init__(self):
        from ._ops import random as _random

        self.modules, self.optimizers, self.schedulers, self.tensors = [], [], [], []
        self.generators = [_random.default_generator]
        self.scalars = []  # (owner description, value) of scalar globals/closure values, for the key
        self._seen = set()
        self._classes = _state_classes()
        # (0, dict, key, value) / (1, closure cell, None, value) / (2, object, attribute, value): Note [Reach reuse]
        self.checks = [(0, _random.__dict__, "default_generator", _random.default_generator)]
        self.reusable = True

    def copy(self):
        r = object.__new__(_Reach)
        r.modules, r.optimizers, r.schedulers = self.modules[:], self.optimizers[:], self.schedulers[:]
        r.tensors, r.generators, r.scalars = self.tensors[:], self.generators[:], self.scalars[:]
        r._seen = set(self._seen)
        r._classes = self._classes
        r.checks = self.checks
        r.reusable = self.reusable
        return r

    def still_valid(self):
        """Whether every read of the walk gives the same object now (Note [Reach reuse])."""
        for kind, owner, name, value in self.checks:
            if kind == 0:
                if owner.get(name, _MISSING) is not value:
                    return False
            elif kind == 1:
                try:
                    if owner.cell_contents is not value:
                        return False
                except ValueError:
                    return False
            elif getattr(owner, name, _MISSING) is not value:
                return False
        return True

    def add(self, obj, depth=0):
        if id(obj) in self._seen:
            return
        Module, Optimizer, LRScheduler, Generator = self._classes
        if isinstance(obj, Tensor):
            self._seen.add(id(obj))
            self.tensors.append(obj)
        elif isinstance(obj, Module):
            self._seen.add(id(obj))
            self.modules.append(obj)
        elif isinstance(obj, Optimizer):
            self._seen.add(id(obj))
            self.optimizers.append(obj)
        elif isinstance(obj, LRScheduler):
            self._seen.add(id(obj))
            self.schedulers.append(obj)
            self.checks.append((2, obj, "optimizer", obj.optimizer))
            self.add(obj.optimizer)
        elif isinstance(obj, Generator):
            self._seen.add(id(obj))
            self.generators.append(obj)
        elif isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
            self._seen.add(id(obj))
            self.add_function(obj, depth + 1)
        elif depth < 2 and isinstance(obj, (list, tuple)):
            self._seen.add(id(obj))
            if type(obj) is not tuple:
                self.reusable = False
            for v in obj:
                self.add(v, depth + 1)
        elif depth < 2 and isinstance(obj, dict):
            self._seen.add(id(obj))
            self.reusable = False
            for v in obj.values():
                self.add(v, depth + 1)

    def add_function(self, fn, depth=0):
        if depth > 3:
            return
        if isinstance(fn, functools.partial):
            if fn.keywords:
                self.reusable = False  # a dict its owner may change (Note [Reach reuse])
            self.add(fn.func, depth)
            for a in fn.args:
                self.add(a, depth)
            for a in fn.keywords.values():
                self.add(a, depth)
            return
        if isinstance(fn, types.MethodType):
            self.add(fn.__self__, depth)
            fn = fn.__func__
        if not isinstance(fn, types.FunctionType):
            return
        if fn.__module__ and fn.__module__.startswith("mlx_compat"):
            return  # the package's own functions hold no user state
        g = fn.__globals__
        checks = self.checks
        for attr in ("__code__", "__closure__", "__defaults__", "__kwdefaults__"):
            checks.append((2, fn, attr, getattr(fn, attr)))
        for n in _code_names(fn.__code__):
            v = g.get(n, _MISSING)
            checks.append((0, g, n, v))
            if v is not _MISSING:
                if isinstance(v, (bool, int, float, str)) and not isinstance(v, type):
                    self.scalars.append((n, v))
                else:
                    self.add(v, depth)
        for cell in fn.__closure__ or ():
            try:
                v = cell.cell_contents
            except ValueError:
                self.reusable = False  # a cell filled later
                continue
            checks.append((1, cell, None, v))
            if isinstance(v, (bool, int, float, str)):
                self.scalars.append(("<closure>", v))
            else:
                self.add(v, depth)
        for v in fn.__defaults__ or ():
            self.add(v, depth)
        for v in (fn.__kwdefaults__ or {}).values():  # def step(*a, model=model, opt=opt)
            self.add(v, depth)


class _TraceContext:
    def __init__(self, source_values, layout, scalar_vecs):
        self.source_values = source_values
        self.consts = []  # the constants the expressions' sources name as c[i]
        self.guards = []  # (source, its value while tracing)
        self.guarded = {}  # source -> its value while tracing, for the guards already made
        self.host_writes = []  # (scalar state tensor, source of the value it gets)
        self.scalar_exprs = {}  # dtype -> sources of the scalars the graph reads in that dtype (Note [Host scalars])
        self.scalar_vecs = {dt: (n, vec) for (dt, n), vec in zip(layout, scalar_vecs)}
        self.sources = []  # callables reading each source at call time
        self.sched_steps = []
        self.temps = []  # shared subexpressions (t0, t1, ...), each over v, c and earlier ones
        self._evaluators = {}
        self.slot_of = {}  # Note [Derived inputs]: id(state tracer) -> its slot index
        self.derived_have = {}  # (slot indices, key) -> the derived input's tracer
        self.derived_new = []  # (slot indices, key, fn) asked for while tracing and not yet an input
        self.shared = {}  # Note [Shared host scalars]: group -> [(_Sym, its value while tracing)]
        self.scalar_index = {}  # (dtype, source) -> index of the graph input already reading it
        self.arg_of = {}  # Note [Argument facts]: id(argument tracer) -> its argument index
        self.real_args = []  # the traced call's argument arrays
        self.first_facts = None  # a re-run by MLX: the first run's facts, (index, key) -> value
        self.facts = {}  # (index, key) -> the value this run assumes
        self.arg_guards = []  # (index, key, fn, value), in the order asked

    def source(self, reader):
        """A _Sym over a new host source read by reader() at every call."""
        k = len(self.sources)
        self.sources.append(reader)
        self.source_values.append(reader())
        return _Sym(f"v[{k}]", self)

    def shared_source(self, group, reader):
        """A _Sym over the host source read by reader() (Note [Shared host scalars]): the earlier source of
        `group` that has the same value now, under a guard that the two stay the same, else a new source."""
        value = reader()
        for sym, v in self.shared.get(group, ()):
            if _same_value(v, value):
                mine = self.source(reader)
                # one float object when the host wrote both (Note [Shared host scalars]): `is` answers first
                self.guard(f"({mine._src} is {sym._src} or same({mine._src}, {sym._src}))")
                return sym
        sym = self.source(reader)
        self.shared.setdefault(group, []).append((sym, value))
        return sym

    def const(self, x):
        """The source naming constant x."""
        if type(x) is int or (type(x) is float and math.isfinite(x)):
            return f"({x!r})"  # a literal: Python folds constant subexpressions when it compiles the evaluator
        self.consts.append(x)
        return f"c[{len(self.consts) - 1}]"

    def temp(self, src):
        """The name of a new shared subexpression computing `src`."""
        self.temps.append(src)
        return f"t{len(self.temps) - 1}"

    def value_of(self, src):
        """The value of expression `src` at this trace's source values."""
        key = (src, len(self.temps))
        fn = self._evaluators.get(key)
        if fn is None:
            fn = self._evaluators[key] = _evaluator([src], self.consts, self.temps)
        return fn(self.source_values)[0]

    def evaluator(self, srcs):
        """The call-time function computing the expressions `srcs` (a tuple) from the sources' values."""
        return _evaluator(srcs, list(self.consts), list(self.temps))

    def guard(self, src):
        """The value of expression `src` now, which the traced graph assumes (Note [Host scalars]); an expression
        already guarded is checked once (every parameter's optimizer step asks the same of shared sources, Note
        [Shared host scalars])."""
        result = self.guarded.get(src, _MISSING)
        if result is _MISSING:
            result = self.guarded[src] = self.value_of(src)
            self.guards.append((src, result))
        return result

    def scalar_input(self, value, dtype):
        srcs = self.scalar_exprs.setdefault(dtype, [])
        k = self.scalar_index.get((dtype, value._src))
        if k is None:  # an expression the graph already reads in this dtype is one input (Note [Shared host scalars])
            k = self.scalar_index[(dtype, value._src)] = len(srcs)
            srcs.append(value._src)
        n, vec = self.scalar_vecs.get(dtype, (0, None))
        if k >= n:
            return mx.array(0.0, dtype=dtype)  # too few inputs: the trace is redone with enough
        return vec[k]  # a 0-d input of the graph: no slice, gather or cast node (Note [Host scalars])

    def layout(self):
        return tuple((dt, len(srcs)) for dt, srcs in self.scalar_exprs.items())


class _RetraceDerived(Exception):
    """The trace asked for derived inputs it was not given (Note [Derived inputs]); args[0]: all it needs."""


def derived_input(arrays, key, fn):
    """fn(*arrays): a value computed from state arrays (parameters', buffers') that the graph being traced takes
    as an input computed outside it at every call, when every one of `arrays` is such an array (Note [Derived
    inputs]); `key` (hashable) names fn's kind among those of the same arrays. Outside a trace, or when any array
    is not state, fn(*arrays)."""
    ctx = _TRACE
    if ctx is None:
        return fn(*arrays)
    slots = tuple(ctx.slot_of.get(id(a)) for a in arrays)
    if not slots or None in slots:
        return fn(*arrays)
    got = ctx.derived_have.get((slots, key))
    if got is not None:
        return got
    if all((j, kk) != (slots, key) for j, kk, _ in ctx.derived_new):
        ctx.derived_new.append((slots, key, fn))
    return fn(*arrays)


def argument_fact(arr, key, fn):
    """fn(the real array) when `arr` is the tracer of the traced call's argument: a value the graph may assume,
    checked at every call (Note [Argument facts]); `key` (hashable) names fn's question about that argument. None
    outside a trace and for any other array."""
    ctx = _TRACE
    if ctx is None:
        return None
    k = ctx.arg_of.get(id(arr))
    if k is None:
        return None
    fk = (k, key)
    if fk in ctx.facts:
        return ctx.facts[fk]
    v = ctx.first_facts.get(fk) if ctx.first_facts is not None else fn(ctx.real_args[k])
    ctx.facts[fk] = v
    ctx.arg_guards.append((k, key, fn, v))
    return v


def _facts_hold(arg_guards, tensors):
    """Whether every fact of an entry (Note [Argument facts]) holds for the call's argument tensors (the plan's,
    or a call program's positional arguments: P_ARGCHECK in csrc/compile.c)."""
    for k, _key, fn, v in arg_guards:
        if fn(tensors[k]._mx) != v:
            return False
    return True


def _facts_conflict(a, b):
    """Whether two entries' facts give one question two answers (no call can satisfy both)."""
    mine = {(k, key): v for k, key, _, v in a}
    return any(mine.get((k, key), v) != v for k, key, _, v in b)


class _RetraceScalars(Exception):
    pass


class _FallBack(Exception):
    """The compiled function has just fallen back to eager (Note [Fallback])."""


class _ShapelessRefused(Exception):
    """A shapeless trace failed (Note [Dynamic shapes])."""


class _Unsupported(RuntimeError):
    pass


def _no_print(*args, **kwargs):
    raise _Unsupported("print() inside a compiled function (output would appear only while tracing)")


def _no_open(*args, **kwargs):
    raise _Unsupported("open() (I/O) inside a compiled function")


def _tensor_value(t):
    return t._storage_base._mx if t._is_storage_view else t._mx


def _spec(t):
    return (t._mx.shape, t.dtype, t.requires_grad, t._device_code)


def _flatten(obj, leaves):
    """The structure of obj with Tensors replaced by their index in `leaves`."""
    if isinstance(obj, Tensor):
        leaves.append(obj)
        return ("T", len(leaves) - 1)
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return (type(obj), [_flatten(o, leaves) for o in obj])
    if isinstance(obj, dict) and type(obj) is dict:
        return (dict, [(k, _flatten(v, leaves)) for k, v in obj.items()])
    if isinstance(obj, _Sym):
        raise _Unsupported("a host scalar computed from optimizer state returned from a compiled function")
    return ("C", obj)


# Note [Keyword calls in C]
# Models are called with keywords (`model(ids, attention_mask=mask)`, `model(x, use_cache=False)`), and the C
# call program (Note [Compiled call program] in csrc/compile.c) takes a flat tuple of tensors. A plan made for
# positional tensors and keywords that are tensors or plain constants (bool, int, float, str, None) records its
# keyword form: the names in order, those holding tensors, and the constants (which are in the plan key, so the
# trace is specialised to them). The program then takes the call's leaves in plan.arg_tensors' order (positional
# tensors, then keyword tensors), and the compiled function's wrapper hands a keyword call to it only when the
# call has the same names in the same order and equal constants of the same types (_kw_leaves); a call without
# keywords never takes a keyword program, nor the reverse. Anything else takes the Python path, which plans the
# call anew. GPT-2-small's compiled forward called as `m(ids, use_cache=False)`: the Python path's `_run` cost
# about 0.3 ms a call on this CPU.
_KW_CONSTANTS = (bool, int, float, str, type(None))


def _kw_form(args, kwargs, leaves):
    """Note [Keyword calls in C]: (keyword names in order, the names holding tensors, (name, value) of the others)
    for a call of positional tensors and keywords that are tensors or plain constants, else None."""
    if not all(isinstance(a, Tensor) for a in args):
        return None
    tensors, consts = [], []
    for k, v in kwargs.items():
        if isinstance(v, Tensor):
            tensors.append(k)
        elif type(v) in _KW_CONSTANTS:
            consts.append((k, v))
        else:
            return None
    if len(leaves) != len(args) + len(tensors):
        return None
    return tuple(kwargs), tuple(tensors), tuple(consts)


def _kw_leaves(form, args, kwargs):
    """Note [Keyword calls in C]: the call's leaves (positional tensors, then keyword tensors) when its keywords
    are the form's (the same names in the same order, the same constants), else None."""
    names, tensors, consts = form
    if tuple(kwargs) != names:
        return None
    for k, c in consts:
        v = kwargs[k]
        if type(v) is not type(c) or not (v == c):
            return None
    return args + tuple([kwargs[k] for k in tensors])


def _unflatten(spec, leaves):
    kind, v = spec
    if kind == "T":
        return leaves[v]
    if kind in (list, tuple):
        return kind(_unflatten(s, leaves) for s in v)
    if kind is dict:
        return {k: _unflatten(s, leaves) for k, s in v}
    return v


def _arg_key(obj, dynamic=False):
    """What about an argument decides the traced graph: a tensor's spec (with dynamic=True its rank in place of its
    shape, Note [Dynamic shapes]), a hashable value itself, anything else its identity."""
    if isinstance(obj, Tensor):
        if dynamic:
            return ("T", len(obj._mx.shape), obj.dtype, obj.requires_grad, obj._device_code)
        return ("T",) + _spec(obj)
    if isinstance(obj, (list, tuple)):
        return (type(obj),) + tuple(_arg_key(o, dynamic) for o in obj)
    if isinstance(obj, dict):
        return (dict,) + tuple((k, _arg_key(v, dynamic)) for k, v in obj.items())
    try:
        hash(obj)
        return ("V", type(obj), obj)
    except TypeError:
        return ("I", id(obj))


def _is_number(v):
    return type(v) is int or type(v) is float


def _sourced(k, v):
    """Whether param group option k, holding v, is read through host sources while tracing rather than being part
    of the cache key (Note [Host scalars]): lr, and the momentum and betas that CyclicLR/OneCycleLR change every
    step when they are plain numbers."""
    if k == "lr":
        return True
    if k == "momentum":
        return _is_number(v)
    if k == "betas":
        return type(v) in (tuple, list) and all(_is_number(b) for b in v)
    return False


def _group_key(group):
    out = []
    for k, v in group.items():
        if k in ("params", "initial_lr", "param_names") or _sourced(k, v):
            continue
        if isinstance(v, Tensor):
            v = ("T", float(v.item()))
        elif isinstance(v, list):
            v = tuple(v)
        out.append((k, v))
    return tuple(out)


def _walk_modules(roots):
    """Every module under `roots` once, each before its children in registration order (Module.modules()'s
    order), as a list."""
    out, seen = [], set()
    stack = list(reversed(roots))
    while stack:
        mod = stack.pop()
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        out.append(mod)
        children = [c for c in mod._modules.values() if c is not None]
        children.reverse()
        stack.extend(children)
    return out


_CONFIG_TYPES = frozenset((bool, int, float, str, type(None)))  # module attributes a trace may bake in
# a module's hooks that its call runs (the with_kwargs/always_called dicts only qualify _forward_hooks' entries)
_HOOK_ATTRS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


@functools.lru_cache(maxsize=1)
def _global_hook_dicts():
    """The nn.Module global hook dicts (every module's forward and backward runs them)."""
    from .nn.modules import module as m

    return tuple(getattr(m, n) for n in sorted(vars(m)) if n.startswith("_global_") and n.endswith("hooks")
                 and isinstance(getattr(m, n), dict))
_OPT_ATTRS = operator.attrgetter("state", "param_groups")


def _one_item(keys):
    k = keys[0]
    return lambda d: (d[k],)
_GRAD = operator.attrgetter("grad")
_REQUIRES_GRAD = operator.attrgetter("requires_grad")


_chain = itertools.chain.from_iterable
_dict_values = dict.values


def _group_checks(group):
    """For Note [Plan reuse]: the keys whose values `group` must hold as the identical objects, and the checks
    that identity cannot make: (key, kind, expected) with kind "sourced" (a host-sourced option must still be one),
    "version" (a Tensor option's version counter) or "items" (a list option's items)."""
    fixed, checks = [], []
    for k, v in group.items():
        if k in ("initial_lr", "param_names"):
            continue
        if _sourced(k, v):
            if k != "lr":
                checks.append((k, "sourced", None))
            continue
        fixed.append(k)
        if isinstance(v, Tensor):
            checks.append((k, "version", v._version))
        elif isinstance(v, list) and k != "params":  # (the params list is one of the plan's lists)
            checks.append((k, "items", tuple(v)))
    return tuple(fixed), checks


def _group_checks_hold(group, checks):
    for k, kind, expected in checks:
        v = group[k]
        if kind == "sourced":
            if not _sourced(k, v):
                return False
        elif kind == "version":
            if v._version != expected:
                return False
        elif len(v) != len(expected) or not all(map(operator.is_, v, expected)):
            return False
    return True


def _snapshots(dicts):
    """Per dict of `dicts`, the tuple of its items flattened (key, value, ...): what a call program compares where
    CPython has no dict version tags (Note [Dict snapshots] in csrc/compile.c)."""
    return tuple(tuple(itertools.chain.from_iterable(d.items())) for d in dicts)


class _Plan:
    """One call's state layout: the slots whose arrays go in, and the key that selects a traced graph.

    Note [Plan reuse]: building a plan walks every module, parameter, buffer, .grad and optimizer state tensor
    (O(tensors) Python per call, ~0.13 ms of a 0.45 ms MLP Adam step). The last plan is reused for a call whose
    argument key is equal when nothing it read has changed, which `reuse` checks in a few C-level passes over
    objects by identity, without re-reading any tensor's shape:
    - every module's attributes (`vars(mod)`: its _parameters/_buffers/_modules dicts, training flag and
      configuration such as Dropout's p) are the identical objects, and those dicts and the module's (and the
      global) hook dicts hold the same keys and objects in the same order;
    - every optimizer's state and param_groups (load_state_dict replaces both), the groups list, every group's
      params list and options (the host-sourced lr, momentum and betas only as still host-sourced, Note [Host
      scalars]; a Tensor option also by its version counter, a list option by its items), the state dict and
      every per-parameter state dict;
    - every parameter's .grad is the identical object or still None (a backward creating or rebinding one, p.grad
      = ..., zero_grad), every tensor whose spec is in the key has the same requires_grad (a grad_fn gained in
      place counts), and no tensor anywhere changed its shape or dtype in place: the C core's Note [Meta epoch]
      count (`.data =`, resize_, in-place view ops; also the requires_grad setter) is unchanged. A trace rebinds
      state tensors to tracers and back, so the count is re-read after it.
    Identity holds strong references, so a freed object's id reused by a new one cannot pass; each change costs
    one re-plan (two when the call's write-back then creates state for a new parameter). Plans are reused only
    while the reach walk is (Note [Reach reuse]) and when no argument is itself a state tensor. The key itself
    holds each module's identity, scalar configuration and hook ids, and which owner each input slot reads, so
    a module swapped for another (ReLU for Tanh), a changed Dropout p, a new hook or a parameter moved out of a
    module never reuses a graph traced for the old structure.
    The dict part of the check is one comparison of the dicts' version tags where CPython has them (Note [Dict
    version tags] in csrc/compile.c; the param groups tagged apart, since a scheduler rebinds lr every step), the
    identity pass running only when a tag moved; a reused plan is a _CallPlan holding the call's arguments over
    the shared plan, whose `_slot_tensors` (what each slot held when it was built) stay right while it is reused."""

    def __init__(self, reach, args, kwargs, dynamic=False):
        self.reach = reach
        self.dynamic = dynamic
        self.meta_epoch = _META_EPOCH()
        leaves = []
        self.arg_spec = _flatten((args, kwargs), leaves)
        self.arg_tensors = leaves
        # owners of tensor values: (kind, owner, name)
        slots = []
        key = [_arg_key((args, kwargs), dynamic), tuple(reach.scalars), _C.is_grad_enabled()]
        kadd, sadd = key.append, slots.append
        params = {}  # id -> parameter, in first-seen order
        held = {id(t) for t in leaves}  # tensors whose value is already an input
        # what Note [Plan reuse] checks: module attributes, dicts, lists and groups read, tensors whose spec is keyed
        mods = _walk_modules(reach.modules)
        dicts, groups, spec_tensors = [], [], []
        dadd, tadd = dicts.append, spec_tensors.append

        hook_dicts = []  # every hook dict a call runs (Note [Plan reuse] checks their lengths, and non-empty ones)
        for mod in mods:
            # the module object itself (the trace ran its forward; the entry's plan keeps it alive, so its id is
            # not reused), its configuration (Dropout's p, eps, ...: baked into the trace) and its hooks
            config = [id(mod)]
            for k, v in vars(mod).items():
                if type(v) in _CONFIG_TYPES:
                    config.append((k, v))
            for k in _HOOK_ATTRS:
                d = getattr(mod, k, None)
                if d is not None:
                    hook_dicts.append(d)
                    if d:
                        config.append((k, tuple(d)))
                        dadd(d)
            kadd(tuple(config))
            d = mod._parameters
            dadd(d)
            dadd(mod._modules)
            for name, t in d.items():
                if t is not None:
                    i = id(t)
                    if i not in held:
                        held.add(i)
                        sadd(("attr", d, name))
                    params.setdefault(i, t)
            d = mod._buffers
            dadd(d)
            for name, t in d.items():
                if t is not None:
                    i = id(t)
                    if i not in held:
                        held.add(i)
                        sadd(("attr", d, name))
                    kadd(_spec(t))
                    tadd(t)
        for opt in reach.optimizers:
            kadd(id(opt))  # the graph's host sources and writes are bound to these objects
            scalar_keys = opt._scalar_state_keys
            state = opt.state
            dadd(state)
            for group in opt.param_groups:
                kadd((id(group), _group_key(group)))
                groups.append(group)
                for p in group["params"]:
                    params.setdefault(id(p), p)
                    st = state.get(p)
                    if not st:
                        kadd(None)
                        continue
                    dadd(st)
                    skeys = []
                    for k, v in st.items():
                        if isinstance(v, Tensor):
                            if k in scalar_keys and v.dim() == 0:
                                skeys.append((k, "scalar", id(v)))
                                continue
                            i = id(v)
                            if i not in held:
                                held.add(i)
                                sadd(("attr", st, k))
                            skeys.append((k, _spec(v)))
                            tadd(v)
                        else:
                            skeys.append((k, "V", v if isinstance(v, (int, float, bool, str, type(None))) else id(v)))
                    kadd(tuple(skeys))
        params = list(params.values())
        grads = []
        for p in params:
            i = id(p)
            if i not in held:  # a parameter outside every module
                held.add(i)
                sadd(("tensor", p, None))
            kadd(_spec(p))
            tadd(p)
            g = p.grad
            grads.append(g)
            kadd(None if g is None else _spec(g))
            if g is not None:
                tadd(g)
            sadd(("grad", p, None))
        view_bases = set()  # ids of slot tensors that views in the reach read through (Note [View state])
        for t in reach.tensors:
            if id(t) not in held:
                b = _root(t)
                if b is not t:
                    view_bases.add(id(b))
                if id(b) not in held:
                    held.add(id(b))
                    sadd(("tensor", b, None))
                kadd(_spec(t))
                tadd(t)
        for s in reach.schedulers:
            key.append(id(s))
        key.append(tuple((kind, name) for kind, _, name in slots))  # which owner each input comes from
        key.append(tuple(tuple(d) for d in _global_hook_dicts()))
        dicts.extend(_global_hook_dicts())
        self.params = params
        self.slots = slots
        self._view_bases = view_bases
        self.key = tuple(key)
        # Note [Plan reuse]: what reuse() compares, flattened so that it runs as a few C-level passes
        optims = reach.optimizers
        lists = [opt.param_groups for opt in optims] + [g["params"] for g in groups]
        checks = [_group_checks(g) for g in groups]
        self._mods, self._optims, self._dicts, self._lists, self._groups = mods, optims, dicts, lists, groups
        self._fixed = [(operator.itemgetter(*f) if len(f) > 1 else _one_item(f), g)
                       for (f, _), g in zip(checks, groups) if f]
        self._checks = [(g, c) for (_, c), g in zip(checks, groups) if c]
        self._spec_tensors = spec_tensors
        self._hook_dicts = hook_dicts
        self._lens = self._sizes()
        self._objs = tuple(self._objects())
        # Note [Plan reuse]'s fast check: the version tags of every dict the plan read, the param groups apart (a
        # scheduler rebinds their lr every step: then only the groups are checked by identity), and what no dict tag
        # covers (lists, .grads, requires_grad flags); of the group checks only those identity cannot make
        self._vdicts = tuple(itertools.chain(map(vars, mods), map(vars, optims), dicts, hook_dicts))
        self._versions = _C._compile_dict_versions(self._vdicts)
        # where CPython has no tags, what the call program compares instead (Note [Dict snapshots] in csrc/compile.c)
        self._snapshot = None if self._versions is not None else _snapshots(self._vdicts)
        self._gdicts = tuple(groups)
        self._gversions = _C._compile_dict_versions(self._gdicts)
        self._gsnapshot = None if self._gversions is not None else _snapshots(self._gdicts)
        self._lens_fast = tuple(map(len, self._lists))
        self._objs_fast = tuple(self._objects_fast())
        self._glens = tuple(map(len, groups))
        self._gobjs = tuple(self._group_objects())
        self._checks_fast = [(g, c) for g, c in ((g, [x for x in c if x[1] != "sourced"]) for g, c in self._checks)
                             if c]
        # the tensor each slot holds (the identity checks keep it so while the plan is reused)
        self._slot_tensors = [self.slot_get(s) for s in slots]
        self._writes = {}  # id(entry) -> its write-back program for these slots (_Compiled._write_program)
        self._entries = None  # the cache's entries under self.key (set by _Compiled.__call__)
        self._state_ids = held.difference(id(t) for t in leaves)
        self.reusable = len(self._state_ids) + len(leaves) == len(held)  # no argument is a state tensor
        # positional tensor arguments only (a training step's (x, y)): reuse() builds their key directly
        self._flat_n = len(args) if (not dynamic and not kwargs and len(leaves) == len(args)
                                     and all(isinstance(a, Tensor) for a in args)) else -1
        self._kw_form = _kw_form(args, kwargs, leaves) if not dynamic and kwargs else None

    def _sizes(self):
        return (tuple(map(len, self._dicts)), tuple(map(len, self._lists)), tuple(map(len, self._groups)),
                tuple(map(len, map(vars, self._mods))), tuple(map(len, self._hook_dicts)))

    def _objects(self):
        """Every object the plan read, in a fixed order (valid to compare only while _sizes() is unchanged)."""
        return itertools.chain(
            _chain(map(_dict_values, map(vars, self._mods))), _chain(map(_OPT_ATTRS, self._optims)),
            _chain(self._dicts), _chain(map(_dict_values, self._dicts)), _chain(self._lists),
            _chain(self._groups), _chain([get(g) for get, g in self._fixed]),
            map(_GRAD, self.params), map(_REQUIRES_GRAD, self._spec_tensors))

    def _objects_fast(self):
        """What _objects holds that no dict version tag covers (the groups apart, _group_objects)."""
        return itertools.chain(_chain(self._lists), map(_GRAD, self.params), map(_REQUIRES_GRAD, self._spec_tensors))

    def _group_objects(self):
        return itertools.chain(_chain(self._groups), _chain([get(g) for get, g in self._fixed]))

    def _groups_unchanged(self):
        return (tuple(map(len, self._groups)) == self._glens
                and all(map(operator.is_, self._group_objects(), self._gobjs))
                and all(_group_checks_hold(g, c) for g, c in self._checks))

    def _unchanged(self):
        """Whether everything the plan read is the identical object and its group checks hold (Note [Plan
        reuse]): by the dicts' version tags and a short identity pass where no dict read changed (Note [Dict
        version tags] in csrc/compile.c), else by the full identity pass, after which the tags are taken afresh."""
        v = self._versions
        if v is None or v != _C._compile_dict_versions(self._vdicts):
            if self._sizes() != self._lens or not all(map(operator.is_, self._objects(), self._objs)):
                return False
            if not all(_group_checks_hold(g, c) for g, c in self._checks):
                return False
            if v is not None:
                self._versions = _C._compile_dict_versions(self._vdicts)
                self._gversions = _C._compile_dict_versions(self._gdicts)
            return True
        if tuple(map(len, self._lists)) != self._lens_fast or not all(map(operator.is_, self._objects_fast(),
                                                                          self._objs_fast)):
            return False
        gv = _C._compile_dict_versions(self._gdicts)
        if gv != self._gversions:  # a group's entry rebound (a scheduler's lr): the groups by identity
            if not self._groups_unchanged():
                return False
            self._gversions = gv
            return True
        return all(_group_checks_hold(g, c) for g, c in self._checks_fast)

    def reuse(self, args, kwargs):
        """This plan for a call with `args`/`kwargs` (a copy holding them), or None if anything it read may
        have changed (Note [Plan reuse])."""
        if self.meta_epoch != _META_EPOCH():
            return None
        key = self.key
        if _C.is_grad_enabled() is not key[2]:
            return None
        if self._flat_n == len(args) and not kwargs and all(isinstance(a, Tensor) for a in args):
            # what _flatten and _arg_key give for a flat tuple of tensors
            leaves, arg_spec = list(args), self.arg_spec
            akey = (tuple, (tuple,) + tuple([("T", t._mx.shape, t.dtype, t.requires_grad, t._device_code)
                                             for t in args]), (dict,))
        else:
            leaves = []
            arg_spec = _flatten((args, kwargs), leaves)
            akey = _arg_key((args, kwargs), self.dynamic)
        if akey != key[0]:
            return None
        ids = self._state_ids
        for t in leaves:
            if id(t) in ids:
                return None
        if not self._unchanged():
            return None
        return _CallPlan(self, arg_spec, leaves)

    def slot_get(self, slot):
        kind, owner, name = slot
        if kind == "attr":
            return owner.get(name)
        if kind == "grad":
            return owner.grad
        return owner


class _CallPlan:
    """A reused _Plan for one call: that call's arguments, everything else read from the shared plan (copying
    the plan's ~35 attributes per call cost more than all of its checks)."""

    __slots__ = ("_plan", "arg_spec", "arg_tensors")

    def __init__(self, plan, arg_spec, arg_tensors):
        self._plan = plan
        self.arg_spec = arg_spec
        self.arg_tensors = arg_tensors

    def __getattr__(self, name):
        return getattr(self._plan, name)

    def slot_get(self, slot):
        return self._plan.slot_get(slot)


class _Entry:
    __slots__ = ("fn", "guard_fn", "guard_results", "sources", "scalar_layout", "scalar_fn", "host_writes",
                 "host_write_fn", "host_exact", "sched_steps", "out_spec",
                 "out_kinds", "out_exact", "out_devs", "derived", "needs_autograd", "_first", "shapes",
                 "shapeless", "_made", "arg_guards")

    def __init__(self):
        self.arg_guards = ()  # Note [Argument facts]: (argument index, key, fn, value) the graph assumes
        self.shapes = None  # dynamic=True: the argument shapes a shapeless entry was traced at
        self._made = None  # the last call's host-scalar arrays, per dtype of the layout by value (_scalar_vecs)


class _Compiled:
    """A compiled function: a cache of traced graphs keyed by the call's _Plan key (Note [Explicit state])."""

    def __init__(self, fn, fullgraph=False, dynamic=None, mode=None, options=None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.cache = {}  # plan key -> traced entries (their guards pick one)
        self.shapeless = {}  # dynamic=True: rank-only plan key -> _Shapeless (Note [Dynamic shapes])
        self.fallback_reason = None
        self.compile_count = 0
        self.plan_count = 0  # plans built (the others reused, Note [Plan reuse])
        self._reach = None  # the last walk from the function, while reusable (Note [Reach reuse])
        self._plan = None  # the last call's plan, while reusable (Note [Plan reuse])
        self._mode_plans = {}  # autocast state -> the last plan made under it (Note [Compiled under autocast])
        self._prog = None  # the program repeating the last call (Note [Compiled call program] in csrc/compile.c)
        self._prog_kw = None  # the keyword form of the call _prog repeats, or None (Note [Keyword calls in C])
        _all_compiled.add(self)

    def reset(self):
        self._prog = None
        self._reach = None
        self._plan = None
        self._mode_plans.clear()
        self.cache.clear()
        self.shapeless.clear()
        self.fallback_reason = None

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        self._prog = None
        modes = _mode_key()  # Note [Compiled under autocast]
        if (self.fallback_reason is not None or _TRACE is not None or modes is None
                or (modes and self.dynamic is True)):
            return self.fn(*args, **kwargs)
        base = self._reach
        plan = None
        last = self._mode_plans.get(modes) if modes else self._plan
        if base is not None and base.still_valid():
            if last is not None:
                plan = last.reuse(args, kwargs)  # Note [Plan reuse]
            if plan is None:
                reach = base.copy()
        else:
            reach = _Reach()
            reach.add_function(self.fn)
            self._reach = reach.copy() if reach.reusable else None  # Note [Reach reuse]
        if plan is None:
            for a in args:
                reach.add(a)
            for a in kwargs.values():
                reach.add(a)
            plan = _Plan(reach, args, kwargs, dynamic=self.dynamic is True)
            # the key's hash walks every nested tuple: once per plan, not per call
            plan._entries = (self.cache.setdefault((plan.key, modes) if modes else plan.key, [])
                             if self.dynamic is not True else None)
            self.plan_count += 1
            keep = plan if self._reach is not None and plan.reusable else None
            if modes:
                self._mode_plans[modes] = keep
            else:
                self._plan = keep
        try:
            if self.dynamic is True:
                return self._call_dynamic(plan, args, kwargs)
            entry, source_values = self._entry(plan._entries, plan, args, kwargs)
        except _FallBack:
            return self.fn(*args, **kwargs)
        out = self._run(entry, plan, source_values)
        if not modes:  # a program repeats a call outside every mode (its C check)
            prog = self._program(entry, plan, args, kwargs)  # Note [Compiled call program] in csrc/compile.c
            self._prog_kw = (plan._plan if isinstance(plan, _CallPlan) else plan)._kw_form if kwargs else None
            self._prog = prog
        return out

    @staticmethod
    def _lookup(entries, arg_tensors):
        """The entry of `entries` whose guards hold now (for the call's `arg_tensors`, Note [Argument facts]),
        with the host sources' values, or (None, None)."""
        for e in entries:
            if e.arg_guards and not _facts_hold(e.arg_guards, arg_tensors):
                continue
            vals = [r() for r in e.sources]
            if e.guard_fn is None or e.guard_fn(vals) == e.guard_results:
                return e, vals
        return None, None

    def _entry(self, entries, plan, args, kwargs, shapeless=False):
        """The traced entry for this call from `entries` (tracing and appending one if none fits), with the
        host sources' values; raises _FallBack once the function has fallen back to eager (Note [Fallback])."""
        entry, source_values = self._lookup(entries, plan.arg_tensors)
        if entry is not None:
            return entry, source_values
        layout, derived = (), ()
        for _ in range(4):
            try:
                entry = self._trace(plan, args, kwargs, layout, shapeless, derived)
                break
            except _RetraceScalars as e:
                layout = e.args[0]
            except _RetraceDerived as e:
                derived = e.args[0]
            except Exception as e:  # noqa: BLE001 — every failure of a trace is a graph break
                if shapeless:
                    raise _ShapelessRefused from e  # the caller tries a per-shape graph (Note [Dynamic shapes])
                if self.fullgraph:
                    raise
                self._fall_back(e)
                raise _FallBack from None
        source_values = [r() for r in entry.sources]
        if entry.needs_autograd:
            try:
                self._probe_vjp(entry, plan, source_values)
            except Exception as e:  # noqa: BLE001 — MLX cannot differentiate the graph: eager keeps autograd
                if self.fullgraph:
                    raise
                self._fall_back(e)
                raise _FallBack from None
        entries.append(entry)
        kept = plan._plan if isinstance(plan, _CallPlan) else plan
        if kept is self._plan or kept in self._mode_plans.values():
            # the trace rebinds every state tensor to its tracer and back (_set_data, bumping Note [Meta epoch]);
            # what it restored is what the plan read at the start of this call (Note [Plan reuse])
            kept.meta_epoch = _META_EPOCH()
        return entry, source_values

    def _call_dynamic(self, plan, args, kwargs):
        """dynamic=True: one shapeless graph per rank-only key while it is shape-independent, else per-shape
        graphs (Note [Dynamic shapes])."""
        shapes = tuple(t._mx.shape for t in plan.arg_tensors)
        sl = self.shapeless.get(plan.key)
        if sl is None:
            sl = self.shapeless[plan.key] = _Shapeless()
        if sl.valid is not False:
            try:
                entry, source_values = self._entry(sl.entries, plan, args, kwargs, shapeless=True)
            except _ShapelessRefused:  # MLX cannot trace it shapeless (or it cannot be traced at all)
                sl.valid = False
            else:
                if entry.shapes is None:
                    entry.shapes = shapes
                if sl.valid or shapes == entry.shapes:
                    return self._run(entry, plan, source_values)
        else:  # shape-dependent: a shapeless graph still serves the shapes it was traced at
            entry, source_values = self._lookup([e for e in sl.entries if e.shapes == shapes], plan.arg_tensors)
            if entry is not None:
                return self._run(entry, plan, source_values)
        # a shape the shapeless graph has not been checked at, or a shape-dependent function: a per-shape graph
        static, source_values = self._entry(self.cache.setdefault((plan.key, shapes), []), plan, args, kwargs)
        if sl.valid is None:
            vecs = self._scalar_vecs(static, source_values) if static.scalar_layout else []
            outs = static.fn(*self._inputs(plan, vecs, static.derived))
            sl.valid = _same_results(entry, static, plan, outs)
            return self._run(static, plan, source_values, outs)
        return self._run(static, plan, source_values)

    def _fall_back(self, err):
        self._prog = None
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        self.fallback_reason = f"{type(err).__name__}: {err}"
        warnings.warn(f"mlx_compat.compile: {name} runs eagerly (cannot be traced into one graph: "
                      f"{self.fallback_reason})", UserWarning, stacklevel=3)

    # -- tracing ---------------------------------------------------------------------------------------------
    def _trace(self, plan, args, kwargs, layout, shapeless=False, derived=()):
        from .optim import optimizer as _optim

        entry = _Entry()
        user_fn = self.fn
        reach = plan.reach
        gens = reach.generators

        # Note [Re-traced by MLX]: mx.compile runs pure() again whenever it retraces, which it does under every
        # mx.vjp of the compiled function (the autograd path, _vjp_parts) and for a shapeless graph's new ranks.
        # By then the live state may differ from the first trace's (a backward has created the .grads that
        # were None), so a re-run takes the first trace's structure (which .grads are None) instead of the live
        # one, and only the first run describes the graph in `entry`.
        none_at_trace = [plan.slot_get(s) is None for s in plan.slots]
        traced = []
        first_facts = {}  # Note [Argument facts]: the first run's, for MLX's re-runs

        def pure(arg_arrays, slot_arrays, gen_keys, scalar_vecs, derived_arrays):
            global _TRACE
            ctx = _TraceContext([], layout, scalar_vecs)
            # Note [Argument facts]: the call's argument arrays, and a re-run's first facts
            ctx.arg_of = {id(a): i for i, a in enumerate(arg_arrays)}
            ctx.real_args = [t._mx for t in plan.arg_tensors]
            ctx.first_facts = first_facts if traced else None
            saved = []  # (restore callable)
            # Note [Derived inputs]: the state arrays' derived forms this graph takes as inputs
            ctx.slot_of = {id(a): i for i, a in enumerate(slot_arrays) if a is not _PLACEHOLDER}
            ctx.derived_have = {(slots, key): a for (slots, key, _), a in zip(derived, derived_arrays)}
            prev_trace = _TRACE
            _TRACE = ctx
            _optim._tracing += 1
            prev_print, prev_open = builtins.print, builtins.open
            try:
                # rebind every state tensor to its tracer, remembering how to restore it
                # arguments: fresh tensors over the tracers (an in-place write to one is refused below)
                fresh = []
                for t, a in zip(plan.arg_tensors, arg_arrays):
                    f = Tensor._new_on(a, t._device_code)
                    if t.requires_grad:
                        f.requires_grad_(True)
                    fresh.append(f)
                versions = [f._version for f in fresh]
                # Note [Argument tensors are restored]: the caller's argument tensors stay outside the graph (the
                # fresh tensors above stand for them), but one may also be reachable as state (a parameter passed
                # as an argument) and be written through that path while tracing; its storage is put back when
                # the trace ends, and such a write makes the function fall back (Note [Fallback])
                arg_bases = {id(b): (b, b._mx) for b in map(_root, plan.arg_tensors)}
                saved.append(functools.partial(_restore_arg_bases, arg_bases.values()))
                grad_inputs = []
                originals = []
                for slot, a, was_none in zip(plan.slots, slot_arrays, none_at_trace):
                    kind, owner, name = slot
                    t = plan.slot_get(slot)
                    if kind == "grad" and (t is None) != was_none:  # a re-run (Note [Re-traced by MLX])
                        saved.append(functools.partial(_set_grad, owner, t))
                        t = None if was_none else Tensor._new_on(a, owner._device_code)
                        owner.grad = t
                    originals.append(t)
                    if kind == "grad":
                        grad_inputs.append((slot, t, a))
                        if t is None:
                            continue
                    if id(t) in plan._view_bases:  # Note [View state]: a write, which its views see
                        saved.append(functools.partial(_rebind_base, t, t._mx))
                        _rebind_base(t, a)
                        continue
                    saved.append(functools.partial(t._set_data, t._mx))
                    t._set_data(a)
                for gen, k in zip(gens, gen_keys):
                    saved.append(functools.partial(setattr, gen, "_key", gen._key))
                    gen._key = k
                # optimizer state dicts and groups: shallow copies to restore; scalar state and lr as host sources
                for opt in reach.optimizers:
                    for p, st in list(opt.state.items()):
                        saved.append(functools.partial(_restore_dict, st, dict(st)))
                        for k in opt._scalar_state_keys:
                            v = st.get(k)
                            if isinstance(v, Tensor) and v.dim() == 0:
                                sym = ctx.shared_source((id(opt), k), functools.partial(_item, v))
                                st[k] = _ScalarStateProxy(v, sym)
                    saved.append(functools.partial(_restore_state, opt, dict(opt.state)))
                    for group in opt.param_groups:
                        saved.append(functools.partial(_restore_dict, group, dict(group)))
                        if isinstance(group.get("lr"), (int, float, Tensor)):
                            group["lr"] = ctx.source(functools.partial(_group_lr, group))
                        v = group.get("momentum")
                        if _sourced("momentum", v):
                            group["momentum"] = ctx.source(functools.partial(operator.getitem, group, "momentum"))
                        v = group.get("betas")
                        if _sourced("betas", v):
                            group["betas"] = tuple(ctx.source(functools.partial(_group_beta, group, i))
                                                   for i in range(len(v)))
                for s in reach.schedulers:
                    saved.append(functools.partial(_restore_attr, s, "step", s.__dict__.get("step")))
                    s.step = functools.partial(_record_sched_step, ctx, s)
                for p in plan.params:
                    saved.append(functools.partial(_set_grad, p, p.grad))
                builtins.print, builtins.open = _no_print, _no_open

                call_args, call_kwargs = _unflatten(plan.arg_spec, fresh)
                out = user_fn(*call_args, **call_kwargs)
                if any(f._version != v for f, v in zip(fresh, versions)) or any(
                        b._mx is not a for b, a in arg_bases.values()):
                    raise _Unsupported("an in-place write to an argument tensor inside a compiled function")
                if any(f.grad is not None for f in fresh):
                    raise _Unsupported("backward() into an argument tensor inside a compiled function (its .grad "
                                       "would not reach the caller's tensor)")

                builtins.print, builtins.open = prev_print, prev_open
                leaves = []
                out_spec = _flatten(out, leaves)
                # outputs carry autograd history as eager ones would, unless the function ran its own backward
                # (a training step: its .grads changed), whose returned loss needs none
                ran_backward = any(plan.slot_get(s) is not g0 or (g0 is not None and g0._mx is not a)
                                   for s, g0, a in grad_inputs)
                needs_autograd = (_C.is_grad_enabled() and not ran_backward
                                  and any(t.requires_grad for t in leaves))
                # a returned view is its own value (its shape and elements), not its base's
                outs = [t._mx for t in leaves]
                kinds = []  # per slot: None (it holds None), _UNCHANGED (no output) or the dtype of its output
                exact = []  # per slot: whether its output has the slot tensor's shape and dtype (Note [Exact write-back])
                for slot, t0, a in zip(plan.slots, originals, slot_arrays):
                    t = plan.slot_get(slot)
                    if t is None:
                        kinds.append(None)
                        exact.append(False)
                        continue
                    v = _tensor_value(t)
                    if t is t0 and v is a:
                        kinds.append(_UNCHANGED)
                        exact.append(False)
                    else:
                        kinds.append(t.dtype)
                        exact.append(t0 is not None and not t._is_storage_view and t.dtype is t0.dtype and t.shape == t0.shape)
                        outs.append(v)
                # optimizer state created during the trace (first step): new tensors to install
                # (scalar state created from a host value: made on the host after the call, Note [Host scalars])
                new_state = []
                new_host = []  # sources of the new host scalar states' values
                for opt in reach.optimizers:
                    for p, st in opt.state.items():
                        for k, v in st.items():
                            if isinstance(v, _NewScalarState):
                                # on the CPU, where the eager step makes it (`_scalar_tensor`, torch's too)
                                new_state.append((opt, p, k, None, 0))
                                new_host.append(v.final)
                            elif isinstance(v, Tensor) and not _slot_in(plan, st, k):
                                new_state.append((opt, p, k, v.dtype, v._device_code))
                                outs.append(_tensor_value(v))
                for gen in gens:
                    outs.append(gen._key)
                if traced:  # a re-run by MLX: the first run's description of the graph stands
                    return outs
                if ctx.layout() != layout:
                    raise _RetraceScalars(ctx.layout())
                if ctx.derived_new:
                    raise _RetraceDerived(tuple(derived) + tuple(ctx.derived_new))
                traced.append(True)
                first_facts.update(ctx.facts)
                entry.arg_guards = tuple(ctx.arg_guards)
                entry.out_spec = out_spec
                entry.needs_autograd = needs_autograd
                entry.out_kinds = (len(leaves), kinds, new_state)
                entry.out_exact = exact
                entry.out_devs = tuple(t._device_code for t in leaves)  # the devices a call's results take
                entry.guard_fn = ctx.evaluator(tuple(g for g, _ in ctx.guards)) if ctx.guards else None
                entry.guard_results = tuple(r for _, r in ctx.guards)
                entry.sources = ctx.sources
                entry.scalar_layout = ctx.layout()
                entry.scalar_fn = ctx.evaluator(tuple(e for srcs in ctx.scalar_exprs.values() for e in srcs))
                entry.host_writes = [t for t, _ in ctx.host_writes]
                # written with 0-d float32 arrays (_host_array): exactly their shape and dtype?
                entry.host_exact = all(t.dtype is _F32 and t.dim() == 0 and not t._is_storage_view for t in entry.host_writes)
                # the host writes' values, then the new host scalar states'
                write_srcs = tuple(e for _, e in ctx.host_writes) + tuple(new_host)
                entry.host_write_fn = ctx.evaluator(write_srcs) if write_srcs else None
                entry.sched_steps = ctx.sched_steps
                return outs
            finally:
                builtins.print, builtins.open = prev_print, prev_open
                for r in reversed(saved):
                    r()
                _optim._tracing -= 1
                _TRACE = prev_trace

        compiled = mx.compile(pure, shapeless=shapeless)
        entry.shapeless = shapeless
        entry.fn = compiled
        entry.derived = derived
        # the first call traces (inside pure) and runs; its result is kept for this call
        vecs = [[mx.array(0.0, dtype=dt)] * n for dt, n in layout]
        entry._first = compiled(*self._inputs(plan, vecs, derived))
        self.compile_count += 1
        return entry

    # -- running ---------------------------------------------------------------------------------------------
    @staticmethod
    def _inputs(plan, vecs, derived=()):
        """The compiled function's inputs: argument arrays, slot arrays (a placeholder where a slot holds None,
        so positions match plan.slots), generator keys, the host scalar vectors `vecs` and the derived inputs
        `derived` asks for (Note [Derived inputs])."""
        slot_arrays = [_PLACEHOLDER if t is None else t._mx for t in plan._slot_tensors]
        extra = [fn(*[slot_arrays[i] for i in slots]) for slots, _key, fn in derived] if derived else []
        return [t._mx for t in plan.arg_tensors], slot_arrays, [g._key for g in plan.reach.generators], vecs, extra

    @staticmethod
    def _scalar_vecs(entry, source_values):
        """Per dtype of the graph's host scalars, their values at this call as 0-d arrays, rounded from Python
        doubles to the dtype as eager's mx.array(value, dtype) rounds (Note [Host scalars]); equal nonzero values
        of one dtype share one array (Adam's per-parameter bias corrections: one per distinct step count), also
        with the previous call (arrays are immutable: betas, eps and an unscheduled lr are not rebuilt per call)."""
        vals = entry.scalar_fn(source_values)
        out, i, made_all, prev = [], 0, [], entry._made
        for k, (dt, n) in enumerate(entry.scalar_layout):
            made, last = {}, prev[k] if prev else {}
            arrays = []
            for x in vals[i:i + n]:
                a = made.get(x)  # zeros are never in `made` (0.0 == -0.0): a fresh array each
                if a is None:
                    if x:
                        a = last.get(x)
                        if a is None:
                            a = mx.array(float(x), dtype=dt)
                        made[x] = a
                    else:
                        a = mx.array(float(x), dtype=dt)
                arrays.append(a)
            out.append(arrays)
            made_all.append(made)
            i += n
        entry._made = made_all
        return out

    def _run(self, entry, plan, source_values, outs=None):
        """Run `entry` on the call's state (or take its outputs `outs`), write the state back, evaluate once."""
        first = entry._first
        entry._first = None
        vecs = self._scalar_vecs(entry, source_values) if entry.scalar_layout else []
        if outs is not None:
            pass
        elif first is not None and not entry.scalar_layout:
            outs = first
        else:
            outs = entry.fn(*self._inputs(plan, vecs, entry.derived))
        n_out, kinds, new_state = entry.out_kinds
        if entry.needs_autograd:  # before the write-back: the recorded inputs are the call's
            results = self._differentiable(entry, plan, vecs, n_out)
        else:
            results = [Tensor._new_on(a, d) for a, d in zip(outs[:n_out], entry.out_devs)]
        exact, others = plan._writes.get(id(entry)) or self._write_program(entry, plan)
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            _C._compile_write(exact, outs, n_out)  # Note [Exact write-back]
            for kind, owner, name, i in others:
                if i < 0:  # the call left .grad None
                    owner.grad = None
                    continue
                t = owner.get(name) if kind == "attr" else owner.grad if kind == "grad" else owner
                if t is None:  # a .grad created by the call
                    owner.grad = Tensor._new_on(outs[i], owner._device_code)
                else:
                    t._write(outs[i])
            pos = n_out + len(exact)
            host_vals = entry.host_write_fn(source_values) if entry.host_write_fn is not None else ()
            made = {}  # equal host values share one array, as _Update.scalar's constants do
            n_writes = len(entry.host_writes)
            for opt, p, k, dt, d in new_state:
                if dt is None:  # scalar state created from a host value (Note [Host scalars])
                    a, f32 = _host_array(host_vals[n_writes], made)
                    t = Tensor._new_on(a, d)
                    n_writes += 1
                    _remember_host_value(t, f32)
                else:
                    t = Tensor._new_on(outs[pos], d)
                    pos += 1
                opt.state[p][k] = t
            for gen in plan.reach.generators:
                gen._key = outs[pos]
                pos += 1
            if entry.host_writes:
                _write_host(entry, host_vals, made)
        finally:
            _C._set_grad_enabled(prev)
        for s, a, kw in entry.sched_steps:
            type(s).step(s, *a, **kw)
        # one evaluation per call, as an eager optimizer step evaluates (graphs never grow across calls)
        values = [r._mx for r in results]
        _C._eval(outs[n_out:] + values)  # under the evaluation lock (Note [Threads])
        _C._note_evaluated(values)  # the caller may read them (Note [Known evaluated values] in csrc/threads.c)
        return _unflatten(entry.out_spec, results)

    def _program(self, entry, plan, args, kwargs):
        """The call program that repeats this call (Note [Compiled call program] in csrc/compile.c), or None where
        the call is not one it can repeat."""
        n_out, kinds, new_state = entry.out_kinds
        plan = plan._plan if isinstance(plan, _CallPlan) else plan
        flat = plan._flat_n == len(args) if not kwargs else plan._kw_form is not None  # Note [Keyword calls in C]
        if (self.dynamic is True or plan is not self._plan or self._reach is None or not flat
                or entry.needs_autograd or new_state or _out_dev(entry, plan) is None
                or _has_not_implemented(entry.out_spec)
                or any(not 1 <= len(slots) <= 8 for slots, _, _ in entry.derived)):  # Note [Derived inputs in C]
            return None
        exact, others = plan._writes.get(id(entry)) or self._write_program(entry, plan)
        if others:
            # a .grad the call leaves None that was None at planning is no write: the program's check of every
            # parameter's .grad (P_GRADS) finds it None still (an inference call's parameters)
            was_none = {id(s[1]) for s, t in zip(plan.slots, plan._slot_tensors) if s[0] == "grad" and t is None}
            if any(i >= 0 or kind != "grad" or id(owner) not in was_none for kind, owner, _, i in others):
                return None
        entries = plan._entries

        def pre():  # _lookup's choice, for this entry only: (source values, host scalar arrays) or None
            for e in entries:
                # the program's P_ARGCHECK found this entry's facts hold: an entry answering otherwise cannot
                if e is not entry and e.arg_guards and _facts_conflict(entry.arg_guards, e.arg_guards):
                    continue
                vals = [r() for r in e.sources]
                if e.guard_fn is None or e.guard_fn(vals) == e.guard_results:
                    if e is not entry:
                        return None
                    return vals, (self._scalar_vecs(entry, vals) if entry.scalar_layout else [])
            return None

        post = None
        if entry.host_writes or entry.host_write_fn is not None or entry.sched_steps:
            post = functools.partial(_host_post, entry)
        groups_extra = None
        if plan._checks_fast:
            checks = plan._checks_fast
            groups_extra = lambda: all(_group_checks_hold(g, c) for g, c in checks)  # noqa: E731
        nl, np_ = sum(plan._lens_fast), len(plan.params)
        objs = plan._objs_fast
        arg_keys = plan.key[0][1][1:]
        if kwargs:  # the keyword tensors follow the positional ones, as in plan.arg_tensors
            kw_keys = dict(plan.key[0][2][1:])
            arg_keys = arg_keys + tuple(kw_keys[k] for k in plan._kw_form[1])
        specs = tuple((dt, rg, dev, tuple(shape)) for _, shape, dt, rg, dev in arg_keys)
        return (globals(), tuple(self._reach.checks), _META_EPOCH, plan.meta_epoch, plan.key[2], specs,
                frozenset(plan._state_ids), plan._vdicts,
                plan._versions if plan._versions is not None else plan._snapshot, plan._gdicts,
                bytearray(plan._gversions) if plan._gversions is not None else [plan._gsnapshot],
                plan._groups_unchanged, tuple(plan._lists), plan._lens_fast,
                objs[:nl], tuple(plan.params), objs[nl:nl + np_], tuple(plan._spec_tensors), objs[nl + np_:],
                groups_extra, pre, entry.fn, tuple(plan._slot_tensors), _PLACEHOLDER,
                tuple(plan.reach.generators), n_out, exact, _out_dev(entry, plan), post,
                None if entry.out_spec == ("T", 0) else functools.partial(_unflatten, entry.out_spec),
                "_key", "_TRACE", _MISSING, _host_program(entry, entries, post),
                tuple((slots, fn) for slots, _, fn in entry.derived) if entry.derived else None,
                [None] * len(entry.derived),  # Note [Derived inputs in C] in csrc/compile.c
                functools.partial(_facts_hold, entry.arg_guards) if entry.arg_guards else None)

    @staticmethod
    def _write_program(entry, plan):
        """How `_run` writes `entry`'s slot outputs into `plan`'s tensors, kept in the plan per entry: the tensors
        that take the outputs in order through `_C._compile_write` (None where the Python path writes), and the
        Python path's (kind, owner, name, output index or -1 for a .grad set to None) (Note [Exact write-back])."""
        n_out, kinds, _ = entry.out_kinds
        exact, others = [], []
        for slot, dt, ex, t in zip(plan.slots, kinds, entry.out_exact, plan._slot_tensors):
            if dt is _UNCHANGED:
                continue
            if dt is None:
                if slot[0] == "grad":
                    others.append(slot + (-1,))
                continue
            if ex and t is not None:
                exact.append(t)
            else:
                exact.append(None)
                others.append(slot + (n_out + len(exact) - 1,))
        prog = plan._writes[id(entry)] = (tuple(exact), tuple(others))
        return prog

    def _probe_vjp(self, entry, plan, source_values):
        """Build (not evaluate) mx.vjp of the graph's differentiable outputs, so a graph MLX cannot differentiate
        (e.g. a gather whose indices come from the inputs) is found before any output relies on it."""
        f, tensors = self._vjp_parts(entry, plan, self._scalar_vecs(entry, source_values), entry.out_kinds[0])
        vals = [t._mx for t in tensors]
        diff = [i for i, t in enumerate(tensors) if t.dtype.is_floating_point or t.dtype.is_complex]

        def fd(*dp):
            full = list(vals)
            for k, i in enumerate(diff):
                full[i] = dp[k]
            return f(*full)

        outs = f(*vals)
        mx.vjp(fd, [vals[i] for i in diff], [mx.ones_like(o) for o in outs])

    def _differentiable(self, entry, plan, vecs, n_out):
        from .autograd._mlx_vjp import mlx_op

        f, tensors = self._vjp_parts(entry, plan, vecs, n_out)
        dev = _out_dev(entry, plan)
        out = mlx_op("CompiledFunction", f, tensors, device_code=_dev_of(plan) if dev is None else dev)
        return list(out) if isinstance(out, tuple) else [out]

    def _vjp_parts(self, entry, plan, vecs, n_out):
        """The graph's user outputs as a function of the argument and slot tensors (for mx.vjp: outputs that
        carry autograd history into the parameters and arguments, when eager outputs would require grad)."""
        n_args = len(plan.arg_tensors)
        slot_tensors = [plan.slot_get(s) for s in plan.slots]
        present = [i for i, t in enumerate(slot_tensors) if t is not None]
        gen_keys = [g._key for g in plan.reach.generators]
        fn = entry.fn
        derived = entry.derived
        n_slots = len(plan.slots)

        def f(*vals):
            arg_arrays = list(vals[:n_args])
            full = [_PLACEHOLDER] * n_slots
            for j, i in enumerate(present):
                full[i] = vals[n_args + j]
            # derived inputs from the values differentiated, so gradients flow through them (Note [Derived inputs])
            extra = [make(*[full[i] for i in slots]) for slots, _key, make in derived]
            return list(fn(arg_arrays, full, gen_keys, vecs, extra)[:n_out])

        # values as they are at the call (before the write-back): the recorded computation's inputs
        return f, list(plan.arg_tensors) + [slot_tensors[i] for i in present]


class _Shapeless:
    """dynamic=True's state for one rank-only key (Note [Dynamic shapes]): the shapeless entries (each knows the
    argument shapes it was traced at) and whether they proved shape-independent (None: not checked yet)."""

    __slots__ = ("entries", "valid")

    def __init__(self):
        self.entries = []
        self.valid = None


def _same_results(shapeless, static, plan, static_outs):
    """Whether the shapeless entry, run on this call's state (of shapes it was not traced at), gives exactly
    what the entry traced for those shapes gives (Note [Dynamic shapes]); evaluates both."""
    if (shapeless.out_kinds != static.out_kinds or shapeless.out_spec != static.out_spec
            or [dt for dt, _ in shapeless.scalar_layout] != [dt for dt, _ in static.scalar_layout]):
        return False
    try:
        source_values = [r() for r in shapeless.sources]
        vecs = _Compiled._scalar_vecs(shapeless, source_values) if shapeless.scalar_layout else []
        outs = shapeless.fn(*_Compiled._inputs(plan, vecs, shapeless.derived))
        if len(outs) != len(static_outs) or any(a.shape != b.shape or a.dtype != b.dtype
                                                for a, b in zip(outs, static_outs)):
            return False
        same = [mx.array_equal(a, b, equal_nan=True) for a, b in zip(outs, static_outs)]
        _C._eval(same + list(static_outs))  # under the evaluation lock (Note [Threads])
    except Exception:  # noqa: BLE001 — MLX refused the shapeless graph at these shapes (e.g. a baked reshape)
        return False
    return all(v.item() for v in same)


def _write_host(entry, host_vals, made):
    """Write the host scalar state values `host_vals` (the first len(entry.host_writes)) into entry's host-written
    tensors and keep them on the host (Note [Host scalars]); under no_grad."""
    arrays, by_value = [], {}  # Adam's step counts: one value for every parameter, rounded once
    for v in host_vals[:len(entry.host_writes)]:
        r = by_value.get(v) if v else None  # (0.0 == -0.0: zeros are never shared)
        if r is None:
            r = _host_array(v, made)
            if v:
                by_value[v] = r
        arrays.append(r)
    if entry.host_exact:
        _C._compile_write(entry.host_writes, [a for a, _ in arrays], 0)  # Note [Exact write-back]
    else:
        for t, (a, _) in zip(entry.host_writes, arrays):
            t._write(a)
    for t, (_, f32) in zip(entry.host_writes, arrays):
        _remember_host_value(t, f32)


def _host_post(entry, source_values):
    """What a call program leaves to Python after the write-back (Note [Compiled call program] in csrc/compile.c):
    the host writes of an entry that creates no state, then its scheduler steps, as _run does them."""
    if entry.host_writes:
        host_vals = entry.host_write_fn(source_values)
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            _write_host(entry, host_vals, {})
        finally:
            _C._set_grad_enabled(prev)
    for s, a, kw in entry.sched_steps:
        type(s).step(s, *a, **kw)


_KWNAMES = ("dtype",)


def _host_program(entry, entries, post):
    """The C part of a call program's host scalar work (Note [Host scalars in C] in csrc/compile.c), or None
    where a source is not one the C part reads (P_PRE and P_POST then do it all)."""
    if not entry.scalar_layout and entry.guard_fn is None and not entry.host_writes:
        return None
    sources = []
    for r in entry.sources:
        kind = _SOURCE_KINDS.get(getattr(r, "func", None)) if isinstance(r, functools.partial) else None
        if kind is None or r.keywords:
            return None
        if kind == 0 and len(r.args) == 1:
            sources.append((0, r.args[0], None))
        elif kind == 1 and len(r.args) == 1:
            sources.append((1, r.args[0], "lr"))
        elif kind == 2 and len(r.args) == 2:
            sources.append((2, r.args[0], r.args[1]))
        elif kind == 3 and len(r.args) == 2:
            sources.append((3, r.args[0], ("betas", r.args[1])))
        else:
            return None
    n_exprs = sum(n for _, n in entry.scalar_layout)
    # the host writes in C only when they are all of post's work (no scheduler steps) and exact
    write_fn = (entry.host_write_fn if post is not None and entry.host_writes and entry.host_exact
                and not entry.sched_steps else None)
    return (entries, entry, tuple(sources), _host_values, entry.guard_fn, entry.guard_results, entry.scalar_fn,
            tuple(entry.scalar_layout), [None] * n_exprs, write_fn, tuple(entry.host_writes), mx.float32, _KWNAMES,
            _remember_host_value, [])


def _has_not_implemented(spec):
    """Whether an output structure holds NotImplemented (_compile_call's answer for "not applicable")."""
    kind, v = spec
    if kind == "C":
        return v is NotImplemented
    if kind in (list, tuple):
        return any(map(_has_not_implemented, v))
    if kind is dict:
        return any(_has_not_implemented(s) for _, s in v)
    return False


def _out_dev(entry, plan):
    """The device code of every output of the entry's calls (_dev_of(plan) when there is none), or None when they
    are on several devices."""
    devs = set(entry.out_devs)
    return devs.pop() if len(devs) == 1 else None if devs else _dev_of(plan)


def _dev_of(plan):
    for t in plan.arg_tensors:
        return t._device_code
    for p in plan.params:
        return p._device_code
    return 0


def _slot_in(plan, st, k):
    for kind, owner, name in plan.slots:
        if kind == "attr" and owner is st and name == k:
            return True
    return False


def _item(t):
    """The value of scalar state tensor t: the host's copy while t still holds what a compiled call wrote
    (Note [Host scalars]), else read from the array (on a GPU: a synchronizing device-to-host copy)."""
    hv = _host_values.get(id(t))
    if hv is not None and hv[0]() is t and hv[1] is t._mx:
        return hv[2]
    return t.item()


def _host_array(v, made):
    """Host value v as the 0-d float32 array eager's `mx.array(v, dtype=float32)` makes, with that value as a
    Python float (None if v has none); equal nonzero values share one array through `made`."""
    f32 = _as_float32(v)
    a = made.get(f32) if f32 else None
    if a is None:
        a = mx.array(v, dtype=mx.float32)
        if f32:
            made[f32] = a
    return a, f32


def _remember_host_value(t, f32):
    """Keep f32, the value just written into scalar state tensor t, on the host (Note [Host scalars])."""
    if f32 is None:
        return
    k = id(t)
    hv = _host_values.get(k)
    ref = hv[0] if hv is not None and hv[0]() is t else weakref.ref(t, functools.partial(_forget_host_value, k))
    _host_values[k] = (ref, t._mx, f32)


def _forget_host_value(k, ref):
    _host_values.pop(k, None)


def _as_float32(v):
    """Python number v rounded to float32 as mx.array(v, dtype=float32) rounds it (None if it cannot be)."""
    try:
        return struct.unpack("f", struct.pack("f", v))[0]
    except (OverflowError, struct.error, TypeError):
        return None


def _group_lr(group):
    v = group["lr"]
    return v.item() if isinstance(v, Tensor) else v


def _group_beta(group, i):
    return group["betas"][i]


# the host sources the C part reads (Note [Host scalars in C] in csrc/compile.c), by their function
_SOURCE_KINDS = {_item: 0, _group_lr: 1, operator.getitem: 2, _group_beta: 3}


def _restore_dict(d, copy):
    d.clear()
    d.update(copy)


def _restore_state(opt, copy):
    opt.state.clear()
    opt.state.update(copy)


def _restore_attr(obj, name, value):
    if value is None:
        obj.__dict__.pop(name, None)
    else:
        obj.__dict__[name] = value


def _set_grad(p, g):
    p.grad = g


def _rebind_base(t, arr):
    """Base tensor t takes arr (of its shape and dtype) as its value by a write, so that its views read it
    (Note [View state])."""
    prev = _C.is_grad_enabled()
    _C._set_grad_enabled(False)
    try:
        _C._compile_write((t,), (arr,), 0)
    finally:
        _C._set_grad_enabled(prev)


def _restore_arg_bases(bases):
    """Put back the storage of argument tensors written while tracing (Note [Argument tensors are restored]):
    by a write, so that their views re-derive."""
    for b, a in bases:
        if b._mx is not a:
            _rebind_base(b, a)


def _record_sched_step(ctx, sched, *args, **kwargs):
    if any(isinstance(a, (Tensor, _Sym)) for a in (*args, *kwargs.values())):
        raise _Unsupported(f"{type(sched).__name__}.step() with a value computed in the compiled function "
                           "(its host logic would read a traced value)")
    ctx.sched_steps.append((sched, args, kwargs))
    # after the scheduler's step the group's lr (and a cycled momentum) differs from the value the graph reads:
    # poison later reads
    cycles = _cycles_momentum(sched)
    for group in sched.optimizer.param_groups:
        group["lr"] = _PoisonedLR()
        if cycles and "momentum" in group:
            group["momentum"] = _PoisonedLR()
        if cycles and "betas" in group:
            group["betas"] = (_PoisonedLR(), _PoisonedLR())


def _cycles_momentum(sched):
    """Whether scheduler `sched` (or one it steps) changes its groups' momentum or betas (CyclicLR, OneCycleLR)."""
    return getattr(sched, "cycle_momentum", False) or any(
        _cycles_momentum(c) for c in getattr(sched, "_schedulers", ()))


class _PoisonedLR:
    def _fail(self, *a, **k):
        raise _Unsupported("an optimizer read its lr (or a cycled momentum) after lr_scheduler.step() inside the "
                           "compiled function (call scheduler.step() after optimizer.step())")

    __float__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __sub__ = __rsub__ = _fail
    __neg__ = __bool__ = __eq__ = __lt__ = __gt__ = __le__ = __ge__ = __pow__ = __rpow__ = _fail
    __hash__ = object.__hash__



# ------------------------------------------------------------------------------------------ public interface
def _make_optimized_module_class():
    from .nn.modules.module import Module

    class OptimizedModule(Module):
        """What compile(module) returns (torch._dynamo.eval_frame.OptimizedModule): a Module holding the original
        as `_orig_mod` (so state_dict keys carry the `_orig_mod.` prefix) whose calls run compiled; every other
        attribute is the original's."""

        _torchdynamo_orig_callable = None

        def __init__(self, mod, compiled):
            object.__setattr__(self, "_orig_mod", mod)  # for attribute forwarding while Module.__init__ runs
            super().__init__()
            del self.__dict__["_orig_mod"]
            self._orig_mod = mod  # registers the submodule
            self.__dict__["_compiled_forward"] = compiled
            self.__dict__["forward"] = compiled  # as torch's: forward is the compiled callable
            self.training = mod.training

        def forward(self, *args, **kwargs):
            return self.__dict__["_compiled_forward"](*args, **kwargs)

        def __getattr__(self, name):
            if name == "_orig_mod":
                return self._modules["_orig_mod"]
            return getattr(self._modules["_orig_mod"], name)

        def __len__(self):
            try:
                return len(self._orig_mod)
            except TypeError:
                raise TypeError(f"{type(self._orig_mod).__name__} does not support len()") from None

        def __reduce__(self):
            return (compile, (self._orig_mod,))  # traced graphs are not saved: a fresh wrapper retraces

    return OptimizedModule


_OptimizedModule = None


def _optimized_module_class():
    """The OptimizedModule class, made on first use (torch._dynamo.OptimizedModule); this module has no
    `__getattr__` for it (Note [No module __getattr__] in mlx_compat/__init__.py)."""
    global _OptimizedModule
    if _OptimizedModule is None:
        _OptimizedModule = _make_optimized_module_class()
    return _OptimizedModule


_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs", "mlx")
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile: `fn` (or a Module's calls) traced into one mx.compile graph (Note [Explicit state]).

    Usable as `compile(fn)`, `@compile` and `@compile(fullgraph=True, ...)`. A Module gives an OptimizedModule.
    backend/mode/options are accepted for torch's interface (MLX has one compiler); backend='eager' and
    disable=True run the function as it is. dynamic=True uses MLX's shapeless graphs where they prove
    shape-independent (Note [Dynamic shapes]); dynamic=None/False trace a graph per input shape."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(m for m in _MODES if m)}")
    if not (callable(backend) or backend in _BACKENDS):
        raise RuntimeError(f"invalid backend {backend!r}: expected one of {_BACKENDS} or a callable")
    if model is None:
        def decorator(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           disable=disable)

        return decorator
    if not callable(model):
        raise RuntimeError("compile: the model should be a callable (a function or a Module)")
    if _is_module(model):
        return _optimized_module_class()(model, compile(model.__call__, fullgraph=fullgraph, dynamic=dynamic,
                                                        backend=backend, mode=mode, options=options,
                                                        disable=disable))
    if disable or backend == "eager":
        return model
    compiled = _Compiled(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode, options=options)
    call_program = _C._compile_call

    @functools.wraps(model)
    def compiled_fn(*args, **kwargs):
        prog = compiled._prog
        if prog is not None:  # Note [Compiled call program] in csrc/compile.c
            form = compiled._prog_kw
            if not kwargs:
                leaves = args if form is None else None
            else:  # Note [Keyword calls in C]
                leaves = None if form is None else _kw_leaves(form, args, kwargs)
            if leaves is not None:
                out = call_program(prog, leaves)
                if out is not NotImplemented:
                    return out
        return compiled(*args, **kwargs)

    compiled_fn._compiled = compiled
    compiled_fn._torchdynamo_orig_callable = model
    return compiled_fn


def disable(fn=None, recursive=True, *, reason=None):
    """torch.compiler.disable: fn always runs eagerly; called from a compiled function, that function falls back
    to eager (it cannot be part of the traced graph)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)

    @functools.wraps(fn)
    def eager(*args, **kwargs):
        if _TRACE is not None:
            raise _Unsupported(f"{getattr(fn, '__qualname__', fn)} is marked with compiler.disable"
                               + (f" ({reason})" if reason else ""))
        return fn(*args, **kwargs)

    eager._torchdynamo_disable = True
    return eager


def reset():
    """torch._dynamo.reset / torch.compiler.reset: forget every traced graph and fallback decision."""
    for c in _all_compiled:
        c.reset()


def is_compiling():
    """torch.compiler.is_compiling: True while a function is being traced."""
    return _TRACE is not None


def is_dynamo_compiling():
    """torch.compiler.is_dynamo_compiling: the same question (the only tracer here is compile's)."""
    return _TRACE is not None


def is_exporting():
    """torch.compiler.is_exporting: False (there is no torch.export)."""
    return False


def allow_in_graph(fn):
    """torch.compiler.allow_in_graph: every function is traced through here, so the function itself."""
    return fn


def assume_constant_result(fn):
    """torch.compiler.assume_constant_result: the function itself; its Python result is traced into the graph
    as the value seen while tracing, which is what the hint asks for."""
    return fn


def mark_static_address(t, guard=True):
    """torch._dynamo.mark_static_address: a hint for CUDA graphs; nothing to do here."""


def mark_dynamic(t, index, **kwargs):
    """torch._dynamo.mark_dynamic: a hint; graphs here are traced per shape (compile's dynamic=None)."""
