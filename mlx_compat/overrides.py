"""torch.overrides: the __torch_function__ protocol for Tensor subclasses and tensor-like objects.

Public functions (torch.*, torch.nn.functional.*, torch.linalg.*, torch.fft.*, torch.special.*) and Tensor
methods are wrapped once at import (`install`) in a C TorchFunctionWrapper, and the C operators and indexing
make the same check (Note [torch function check] in csrc/overrides.c): plain Tensors pay a type comparison per
argument; an argument of another type with a __torch_function__ (a subclass, a tensor-like object) or an active
TorchFunctionMode sends the call here, to `handle_torch_function`, as in torch.

Tensor.__torch_function__ (the default every subclass inherits) runs the op with subclass dispatch disabled and
converts Tensor results to the subclass (`as_subclass`, an alias view as in torch); a subclass that sets
`__torch_function__ = torch._C._disabled_torch_function_impl` (nn.Parameter does) gets plain Tensors.
"""
from __future__ import annotations

import functools
import threading
import types
import warnings

from . import _C
from ._tensor import Tensor

__all__ = [
    "get_ignored_functions", "get_overridable_functions", "get_testing_overrides", "handle_torch_function",
    "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic", "is_tensor_like",
    "is_tensor_method_or_property", "wrap_torch_function", "TorchFunctionMode", "enable_reentrant_dispatch",
]

_disabled_torch_function_impl = _C._disabled_torch_function_impl


# ---------------------------------------------------------------- switches (thread-local, kept in C)


class DisableTorchFunctionSubclass:
    """Within it, subclasses' __torch_function__ are not consulted (modes still are)."""

    def __enter__(self):
        self._prev = _C._torch_function_state(1, -1, -1)

    def __exit__(self, *exc):
        _C._torch_function_state(self._prev[0], -1, -1)


class DisableTorchFunction:
    """Within it, neither subclasses' __torch_function__ nor TorchFunctionModes are consulted."""

    def __enter__(self):
        self._prev = _C._torch_function_state(1, 1, -1)

    def __exit__(self, *exc):
        _C._torch_function_state(self._prev[0], self._prev[1], -1)


def _is_torch_function_enabled():
    sub, all_, _ = _C._torch_function_state()
    return not (sub or all_)


_C.DisableTorchFunctionSubclass = DisableTorchFunctionSubclass
_C.DisableTorchFunction = DisableTorchFunction
_C._is_torch_function_enabled = _is_torch_function_enabled


# ---------------------------------------------------------------- modes


_modes = threading.local()


def _mode_stack():
    stack = getattr(_modes, "stack", None)
    if stack is None:
        stack = _modes.stack = []
    return stack


def _set_modes_active(stack):
    _C._torch_function_state(-1, -1, 1 if stack else 0)


class TorchFunctionMode:
    """A context manager whose __torch_function__(func, types, args, kwargs) sees every overridable call made
    inside it (torch.overrides.TorchFunctionMode). While it handles a call it is popped, so the calls it makes
    go to the next mode or to the operator itself."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        stack = _mode_stack()
        stack.append(self)
        _set_modes_active(stack)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        stack = _mode_stack()
        if stack and stack[-1] is self:
            stack.pop()
        elif self in stack:
            stack.remove(self)
        _set_modes_active(stack)

    @classmethod
    def push(cls, *args, **kwargs):
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`")
        return cls(*args, **kwargs)


def _get_current_function_mode():
    stack = _mode_stack()
    return stack[-1] if stack else None


def _get_current_function_mode_stack():
    return list(_mode_stack())


def _len_torch_function_stack():
    return len(_mode_stack())


@functools.lru_cache(None)
def _no_mode():
    return None


# ---------------------------------------------------------------- the protocol


def _wants(arg_type):
    f = getattr(arg_type, "__torch_function__", None)
    return f is not None and f is not _disabled_torch_function_impl and \
        getattr(f, "__func__", None) is not _disabled_torch_function_impl


def _get_overloaded_args(relevant_args, get_type_fn=type):
    """The arguments whose type overrides __torch_function__, subclasses before their superclasses, otherwise
    left to right (exact Tensors are not overloaded: their default needs no call)."""
    overloaded_types, overloaded_args = [], []
    for arg in relevant_args:
        arg_type = get_type_fn(arg)
        if arg_type is Tensor or arg_type in overloaded_types or not _wants(arg_type):
            continue
        overloaded_types.append(arg_type)
        index = len(overloaded_args)
        for i, old in enumerate(overloaded_args):
            if issubclass(arg_type, get_type_fn(old)):
                index = i
                break
        overloaded_args.insert(index, arg)
    return overloaded_args


def _func_name(public_api):
    return getattr(public_api, "__qualname__", None) or getattr(public_api, "__name__", repr(public_api))


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the __torch_function__ of the active mode (if any) and of the overloaded arguments, in torch's
    order, until one does not return NotImplemented."""
    overloaded_args = _get_overloaded_args(relevant_args)
    types_ = tuple(type(a) for a in overloaded_args)
    stack = _mode_stack()
    if stack and _C._torch_function_state()[1] == 0:
        result = _call_top_mode(stack, public_api, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded_args:
        method = arg.__torch_function__
        if getattr(method, "__self__", None) is arg:
            warnings.warn("Defining your `__torch_function__` as a plain method is deprecated and will be an error "
                          "in future, please define it as a classmethod.", DeprecationWarning)
        result = method(public_api, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    _no_implementation(public_api, overloaded_args)


def _call_top_mode(stack, public_api, types_, args, kwargs):
    """The innermost mode's __torch_function__, with that mode popped while it runs (its own calls go past it)."""
    mode = stack.pop()
    _set_modes_active(stack)
    try:
        return mode.__torch_function__(public_api, types_, args, kwargs)
    finally:
        stack.append(mode)
        _set_modes_active(stack)


def _no_implementation(public_api, overloaded_args):
    raise TypeError(f"no implementation found for '{_func_name(public_api)}' on types that implement "
                    f"__torch_function__: {[type(a) for a in overloaded_args]}")


def _flatten_relevant(args, kwargs):
    out = []
    for a in args:
        if type(a) in (tuple, list):
            out.extend(a)
        else:
            out.append(a)
    for a in kwargs.values():
        if type(a) in (tuple, list):
            out.extend(a)
        else:
            out.append(a)
    return out


_PLAIN = (Tensor, int, float, bool, type(None))  # argument types that never override __torch_function__


def _dispatch(public_api, args, kwargs):
    """What the C check (Note [torch function check]) calls when an argument or a mode asks for the protocol.
    A call of plain Tensors and numbers under a mode (an autocast region's every op) goes straight to the mode."""
    stack = getattr(_modes, "stack", None)
    if stack and not kwargs and _C._torch_function_state()[1] == 0:
        for a in args:
            if type(a) not in _PLAIN:
                break
        else:
            result = _call_top_mode(stack, public_api, (), args, {})
            if result is not NotImplemented:
                return result
            _no_implementation(public_api, [])
    return handle_torch_function(public_api, _flatten_relevant(args, kwargs), *args, **kwargs)


_C._register_torch_function(_dispatch)


def has_torch_function(relevant_args):
    """Whether any of the arguments (or an active mode) asks for __torch_function__ dispatch."""
    return _C._has_torch_function(tuple(relevant_args))


def has_torch_function_unary(arg):
    return _C._has_torch_function((arg,))


def has_torch_function_variadic(*args):
    return _C._has_torch_function(args)


def is_tensor_like(inp):
    """A Tensor (or subclass), or an object whose type defines __torch_function__."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def is_tensor_method_or_property(func):
    """Whether func is a Tensor method or property (so the first argument is `self`)."""
    for name, attr in vars(Tensor).items():
        if attr is func or getattr(attr, "__get__", None) is func:
            return True
    return getattr(func, "__name__", None) in vars(Tensor) and not isinstance(func, types.ModuleType)


@functools.lru_cache(None)
def get_ignored_functions():
    """Public functions that cannot be overridden by __torch_function__ (no tensor arguments to dispatch on)."""
    import mlx_compat as torch

    return {getattr(torch, n) for n in _IGNORED if hasattr(torch, n)}


def get_default_nowrap_functions():
    """Functions whose results Tensor.__torch_function__ returns unconverted."""
    return set()


def _self_checking_ids():
    """ids of the C functions and methods that check __torch_function__ themselves, unwrapped (Note
    [Self-checking C entries] in csrc/overrides.c)."""
    if _SELF_CHECKING is None:
        globals()["_SELF_CHECKING"] = frozenset(id(o) for o in _C._self_checking())
    return _SELF_CHECKING


_SELF_CHECKING = None


def _overridable(obj):
    # the operator registry's forms and the self-checking C entries check __torch_function__ themselves (Note
    # [torch function check])
    return (isinstance(obj, _C.TorchFunctionWrapper) and obj._checks_torch_function) or \
        isinstance(obj, (_C.Op, _C.OpMethod)) or id(obj) in _self_checking_ids()


@functools.lru_cache(None)
def get_overridable_functions():
    """{namespace: [functions]} for the public namespaces whose functions honour __torch_function__."""
    out = {}
    for ns in _namespaces():
        out[ns] = [v for n, v in sorted(vars(ns).items()) if _overridable(v)]
    out[Tensor] = [v for n, v in sorted(vars(Tensor).items()) if _overridable(v)]
    return out


def get_testing_overrides():
    """{function: a dummy with the same signature that returns -1}, as torch's helper for tests."""
    import inspect

    result = {}
    for fns in get_overridable_functions().values():
        for f in fns:
            try:
                sig = inspect.signature(f)
            except (TypeError, ValueError):
                result[f] = lambda *args, **kwargs: -1
                continue
            result[f] = _returns_minus_one(sig)
    return result


def _returns_minus_one(sig):
    def dummy(*args, **kwargs):
        return -1

    dummy.__signature__ = sig
    return dummy


def wrap_torch_function(dispatcher):
    """Decorator for a function of Tensors: it honours __torch_function__ on what dispatcher(*args, **kwargs)
    returns as the relevant arguments."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return inner


def enable_reentrant_dispatch():
    import contextlib

    return contextlib.nullcontext()


# ---------------------------------------------------------------- Tensor's default


def _convert(ret, cls):
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if type(ret) in (tuple, list):
        return type(ret)(_convert(r, cls) for r in ret)
    if isinstance(ret, tuple) and hasattr(ret, "_fields"):  # named tuples (torch.return_types)
        return type(ret)(*(_convert(r, cls) for r in ret))
    return ret


# Note [Foreign dispatch of our tensors]
# Another library's __torch_function__ protocol (real torch's, when both are imported) hands our Tensors to
# Tensor.__torch_function__ with *its* function: torch.nn.functional.linear(our_tensor, ...). Running it with our
# subclass dispatch off does not turn torch's off, so torch asked us again, forever (a RecursionError). A function
# this default is already running on this thread that comes back to it was dispatched again by its own library:
# NotImplemented then lets that library raise its TypeError for types it does not know, as torch does for any
# foreign object. Our own functions never come back (our dispatch is off inside), so they are unaffected.
_running = threading.local()


def _tensor_torch_function(cls, func, types, args=(), kwargs=None):
    """Tensor.__torch_function__: run func with subclass dispatch off, then give Tensor results type cls."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    stack = getattr(_running, "funcs", None)
    if stack is None:
        stack = _running.funcs = []
    if any(f is func for f in stack):  # Note [Foreign dispatch of our tensors]
        return NotImplemented
    stack.append(func)
    try:
        with DisableTorchFunctionSubclass():
            ret = func(*args, **kwargs)
            if func in get_default_nowrap_functions():
                return ret
            return _convert(ret, cls)
    finally:
        stack.pop()


Tensor.__torch_function__ = classmethod(_tensor_torch_function)


# ---------------------------------------------------------------- installing the wrappers


# torch.overrides.get_ignored_functions' public names that exist here: no tensor to dispatch on
_IGNORED = frozenset("""
typename is_tensor is_storage set_default_tensor_type set_default_dtype get_default_dtype set_rng_state get_rng_state
manual_seed initial_seed seed save load set_printoptions compile tensor as_tensor asarray from_numpy frombuffer
from_file zeros ones empty full arange range linspace logspace eye rand randn randint randperm empty_strided
empty_permuted scalar_tensor tril_indices triu_indices hann_window hamming_window blackman_window bartlett_window
kaiser_window can_cast promote_types is_grad_enabled set_grad_enabled is_inference_mode_enabled
use_deterministic_algorithms are_deterministic_algorithms_enabled get_num_threads set_num_threads
get_num_interop_threads set_num_interop_threads is_anomaly_enabled set_anomaly_enabled synchronize eval
get_default_device set_default_device iinfo finfo vmap from_dlpack from_torch to_torch
""".split())

# Tensor methods kept off the protocol: internals the protocol itself or the autograd engine call
_TENSOR_SKIP = frozenset({"_commit", "_write", "as_subclass", "_make_subclass", "_alias", "_detached_alias",
                          "_binary", "backward", "register_hook", "retain_grad", "requires_grad_",
                          "__torch_function__"})
_TENSOR_PROPERTIES = ("H", "mH", "real", "imag", "data")
# Python-level dunders that torch routes through the protocol (the C ones check in C)
_TENSOR_DUNDERS = frozenset({"__rsub__", "__rpow__", "__rtruediv__", "__rdiv__", "__rfloordiv__", "__rmod__",
                             "__rmatmul__", "__rand__", "__ror__", "__rxor__", "__rlshift__", "__rrshift__",
                             "__len__", "__iter__", "__reversed__", "__contains__", "__format__", "__array__",
                             "__float__", "__int__", "__index__", "__complex__", "__bool__"})


def _namespaces():
    import sys

    names = ("mlx_compat", "mlx_compat.nn.functional", "mlx_compat.linalg", "mlx_compat.fft", "mlx_compat.special")
    return [sys.modules[n] for n in names if n in sys.modules]


def _wrappable(obj):
    return isinstance(obj, (types.FunctionType, types.MethodDescriptorType, types.BuiltinFunctionType)) and \
        not isinstance(obj, _C.TorchFunctionWrapper) and id(obj) not in _self_checking_ids()


def install(tensor_type=Tensor, scope=None):
    """Wrap the public functions of torch's namespaces and the Tensor methods once, so each honours
    __torch_function__ (Note [torch function check]); `scope` ({id: (function, kind)}, from
    _device_scope.scope_kinds) gives functions a device scope in the same wrapper (Note [Device scope]), and
    those outside torch's namespaces a wrapper of their own without the check. Every module attribute that held
    a wrapped function gets the same wrapper, so identities between namespaces hold."""
    import sys

    scope = scope or {}
    memo = {}

    def kind(obj):
        k = scope.get(id(obj))
        return k[1] if k is not None and k[0] is obj else 0

    def wrap(obj, check=True):
        w = memo.get(id(obj))
        if w is None:
            w = memo[id(obj)] = (obj, _C._tf_wrap(obj, kind(obj), check))
        return w[1]

    for ns in _namespaces():
        for name, obj in list(vars(ns).items()):
            if name.startswith("_") or name in _IGNORED or not _wrappable(obj):
                continue
            if isinstance(obj, types.BuiltinFunctionType) and getattr(obj, "__self__", None) is not _C:
                continue  # only our own C functions
            if isinstance(obj, types.FunctionType) and not (obj.__module__ or "").startswith("mlx_compat"):
                continue
            setattr(ns, name, wrap(obj))
    for name in _TENSOR_PROPERTIES:  # Python-level properties returning tensors (T and mT check in C)
        prop = vars(tensor_type).get(name)
        if isinstance(prop, property) and prop.fget is not None and _wrappable(prop.fget):
            setattr(tensor_type, name, property(wrap(prop.fget), prop.fset, prop.fdel, prop.__doc__))
    for name, obj in list(vars(tensor_type).items()):
        if name in _TENSOR_SKIP or (name.startswith("__") and name not in _TENSOR_DUNDERS):
            continue
        if not _wrappable(obj) or isinstance(obj, types.BuiltinFunctionType):
            continue
        setattr(tensor_type, name, wrap(obj))
    # functions with a device scope but outside the protocol (creation functions, internal modules' public
    # functions, Tensor methods kept off it): a wrapper without the check; the pass below puts it in place
    for obj, _ in scope.values():
        wrap(obj, check=False)
    for name, obj in list(vars(tensor_type).items()):
        w = memo.get(id(obj))
        if w is not None and w[0] is obj and not name.startswith("__"):
            setattr(tensor_type, name, w[1])
    # the same function objects held elsewhere get the same wrapper, so identity checks hold (`activation is
    # F.relu`): module attributes, module-level dicts (TORCH_VARIANTS tables...), and the default arguments of
    # the package's functions and of its classes' methods, bound when they were defined
    def swapped(obj):
        w = memo.get(id(obj))
        return w[1] if w is not None and w[0] is obj else None

    def fix_defaults(fn):
        fn = getattr(fn, "__func__", fn)
        if not isinstance(fn, types.FunctionType):
            return
        if fn.__defaults__ and any(swapped(d) is not None for d in fn.__defaults__):
            fn.__defaults__ = tuple(swapped(d) or d for d in fn.__defaults__)
        if fn.__kwdefaults__:
            for k, d in list(fn.__kwdefaults__.items()):
                if swapped(d) is not None:
                    fn.__kwdefaults__[k] = swapped(d)

    for modname, mod in list(sys.modules.items()):
        if mod is None or not (modname == "mlx_compat" or modname.startswith("mlx_compat.")):
            continue
        for name, obj in list(vars(mod).items()):
            w = swapped(obj)
            if w is not None:
                setattr(mod, name, w)
                obj = w.__wrapped__
            if isinstance(obj, types.FunctionType):
                fix_defaults(obj)
            elif isinstance(obj, type) and str(vars(obj).get("__module__", "")).startswith("mlx_compat"):
                for attr in vars(obj).values():
                    fix_defaults(attr)
            elif type(obj) is dict:
                for k, v in list(obj.items()):
                    w = swapped(v)
                    if w is not None:
                        obj[k] = w
