"""torch's argument-type errors for the public functions and Tensor methods, decided after the fact.

torch parses every call of a native function against its signatures (_signatures.py) before running it, and
an argument of a kind no overload accepts raises TypeError ("argument 'dim' (position 2) must be int, not
str", "received an invalid combination of arguments"). Our functions parse as they go, so the same junk fails
later with another exception type. `arg_error_hook` runs only on that failure path (Note [Argument error
hook]): it matches the call's arguments against the public name's overloads by the parser's rules and, when
none accepts them, raises torch's TypeError instead, chained from the original error. A call some overload
accepts keeps its original exception, so a correct call is never affected and successful calls pay nothing.

Note [Argument error hook]
The C wrapper every public function and method gets (TorchFunctionWrapper, csrc/overrides.c) calls the hook
registered with _C._set_arg_error_hook when the wrapped function raises an Exception other than TypeError.
The hook sees the wrapper, the arguments and the exception; it returns None to keep the exception, or raises
the replacement. It acts only on calls made from outside the package: a public function the package itself
calls with arguments it derived (an implementation detail) keeps its own error, and the outermost call decides.
Kinds the table does not know accept anything, so the check errs towards keeping our exception.
"""
import os
import sys

import numpy as np

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# torch lets plain numbers stand for Tensor arguments of these (python_arg_parser's allow_numbers_as_tensors)
_NUMBERS_AS_TENSORS = frozenset("""add add_ div div_ divide divide_ mul mul_ multiply multiply_ sub sub_ subtract
subtract_ true_divide true_divide_ to copy_ floor_divide floor_divide_""".split())

_KIND_NAMES = {"T": "Tensor", "i": "int", "f": "float", "S": "Number", "b": "bool", "I": "tuple of ints",
               "TL": "tuple of Tensors", "TLo": "tuple of Tensors", "SL": "tuple of Scalars", "FL": "tuple of floats",
               "dt": "torch.dtype", "ly": "torch.layout", "dv": "torch.device", "mf": "torch.memory_format",
               "g": "torch.Generator", "s": "str", "*": "object"}

_state = {"names": None}


def _tensor_type():
    from ._tensor import Tensor

    return Tensor


def _is_np_int(o):
    return isinstance(o, np.integer)


def _is_np_scalar(o):
    return isinstance(o, (np.integer, np.floating, np.complexfloating, np.bool_))


def _integral(dt):
    from ._dtype import bool as bool_

    return not (dt.is_floating_point or dt.is_complex) and dt is not bool_


def _is_int(o, T):
    if isinstance(o, int):
        return not isinstance(o, bool)
    if _is_np_int(o):
        return True
    if isinstance(o, T):
        return o.dim() == 0 and not o.requires_grad and _integral(o.dtype)
    return False


def _is_float(o, T):
    if isinstance(o, (int, float)) or _is_np_scalar(o):
        return True
    if isinstance(o, T):
        return o.dim() == 0 and not o.requires_grad
    return False


def _is_int_list(o, T):
    if not isinstance(o, (list, tuple)):
        return False
    for item in o:
        if _is_int(item, T):
            continue
        if isinstance(item, T) and item.numel() == 1 and _integral(item.dtype):
            continue
        return False
    return True


def _accepts(kind, o, T, numbers_as_tensors):
    """Whether torch's parser accepts `o` (not None) for a parameter of `kind`; unknown kinds accept anything."""
    if kind == "T":
        return isinstance(o, T) or (numbers_as_tensors and (isinstance(o, (int, float, complex)) or _is_np_scalar(o)))
    if kind == "i":
        return _is_int(o, T)
    if kind == "f":
        return _is_float(o, T)
    if kind == "S":
        return isinstance(o, complex) or _is_float(o, T)
    if kind == "b":
        return isinstance(o, bool)
    if kind == "I":
        return _is_int_list(o, T)
    if kind in ("TL", "TLo"):
        return isinstance(o, (list, tuple)) and all(isinstance(v, T) or (kind == "TLo" and v is None) for v in o)
    if kind == "SL":
        return isinstance(o, (list, tuple)) and all(isinstance(v, complex) or _is_float(v, T) for v in o)
    if kind == "FL":
        return isinstance(o, (list, tuple)) and all(_is_float(v, T) for v in o)
    if kind == "s":
        return isinstance(o, str)
    if kind == "dt":
        from ._dtype import dtype

        return isinstance(o, dtype) or o in (int, float, bool, complex)
    if kind == "dv":
        from ._device import device

        return isinstance(o, (str, device)) or _is_int(o, T)
    if kind == "g":
        from ._ops.random import Generator

        return isinstance(o, Generator)
    if kind in ("ly", "mf"):
        # layouts and memory formats: anything that is not plainly some other kind of value
        return not isinstance(o, (bool, int, float, complex, str, list, tuple, T)) and not _is_np_scalar(o)
    return True


def _param_accepts(param, o, T, nat):
    _, kinds, flags, _ = param
    if o is None:  # the parser also lets None stand for an int list's default
        return "o" in flags or kinds == "*" or (param[3] is not None and "I" in kinds.split("|"))
    return any(_accepts(k, o, T, nat) for k in kinds.split("|"))


def _fit(overload, args, kwargs, T, nat):
    """None when the overload accepts the call, else (reason, detail) for the message."""
    positional = [p for p in overload if "k" not in p[2] and "v" not in p[2]]
    varargs = [p for p in overload if "v" in p[2]]
    byname = {p[0]: p for p in overload}
    for k in kwargs:
        if k not in byname or "v" in byname[k][2]:
            return ("unexpected", k)
    if varargs:
        if not args or positional:
            return ("missing", varargs[0][0])
        for i, a in enumerate(args):
            if a is None or not _param_accepts(varargs[0], a, T, nat):
                return ("type", (varargs[0], a, i))
        bound = {}
    else:
        if len(args) > len(positional):
            return ("count", len(positional))
        bound = {}
        for i, (p, a) in enumerate(zip(positional, args)):
            if p[0] in kwargs:
                return ("multiple", p[0])
            bound[p[0]] = (a, i)
    for k, v in kwargs.items():
        bound[k] = (v, None)
    for p in overload:
        if "v" in p[2]:
            continue
        if p[0] not in bound:
            if p[3] is None and "o" not in p[2]:
                return ("missing", p[0])
            continue
        a, i = bound[p[0]]
        if not _param_accepts(p, a, T, nat):
            return ("type", (p, a, i))
    return None


def _type_name(o):
    tp = type(o)
    if tp.__module__ in ("builtins", None):
        return tp.__name__
    if tp.__module__ == "numpy":
        return "numpy." + tp.__name__
    if isinstance(o, _tensor_type()):
        return "Tensor"
    return tp.__module__.split(".")[0] + "." + tp.__name__


def _render(overload):
    parts, star = [], False
    for name, kinds, flags, default in overload:
        if "k" in flags and not star:
            parts.append("*")
            star = True
        kind = _KIND_NAMES.get(kinds.split("|")[-1] if kinds.startswith("i|") else kinds.split("|")[0], "object")
        text = f"{kind} {'*' if 'v' in flags else ''}{name}"
        parts.append(text + (f" = {default}" if default is not None else ""))
    return "(" + ", ".join(parts) + ")"


def _message(name, overloads, failures, args, kwargs, offset):
    if len(overloads) == 1:
        reason, detail = failures[0]
        if reason == "unexpected":
            return f"{name}() got an unexpected keyword argument '{detail}'"
        if reason == "multiple":
            return f"{name}() got multiple values for argument '{detail}'"
        if reason == "missing":
            return f'{name}() missing 1 required positional arguments: "{detail}"'
        if reason == "count":
            return f"{name}() takes {detail} positional argument{'s' if detail != 1 else ''} but " \
                   f"{len(args) - offset} were given"
        p, a, i = detail
        kinds = p[1].split("|")
        kind = _KIND_NAMES.get("I" if "I" in kinds else kinds[0], "object")
        where = f" (position {i + 1})" if i is not None else ""
        return f"{name}(): argument '{p[0]}'{where} must be {kind}, not {_type_name(a)}"
    got = [_type_name(a) for a in args[offset:]] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    sigs = "\n".join(f" * {_render(ov)}" for ov in overloads)
    return f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), but expected one " \
           f"of:\n{sigs}\n"


def _names():
    """{id(wrapper): [(public name, is_method)]} over the torch namespace and the Tensor class."""
    if _state["names"] is None:
        from . import _C, _signatures

        pkg = sys.modules[__package__]
        names = {}
        for n, obj in vars(pkg).items():
            if isinstance(obj, _C.TorchFunctionWrapper) and n in _signatures.FUNCTIONS:
                names.setdefault(id(obj), []).append((n, False))
        for n, obj in vars(_tensor_type()).items():
            if isinstance(obj, _C.TorchFunctionWrapper) and n in _signatures.METHODS:
                names.setdefault(id(obj), []).append((n, True))
        _state["names"] = names
    return _state["names"]


def check(name, is_method, args, kwargs):
    """torch's TypeError message when no overload of the public `name` accepts the call, else None. For a
    method, args[0] is the tensor it is called on."""
    from . import _signatures

    T = _tensor_type()
    overloads = (_signatures.METHODS if is_method else _signatures.FUNCTIONS).get(name)
    if not overloads:
        return None
    offset = 0
    if is_method:
        if not args or not isinstance(args[0], T):
            return None
        offset = 1
    nat = name in _NUMBERS_AS_TENSORS
    failures = []
    for ov in overloads:
        f = _fit(ov, list(args[offset:]), kwargs, T, nat)
        if f is None:
            return None
        failures.append(f)
    return _message(name, overloads, failures, list(args), kwargs, offset)


def arg_error_hook(wrapper, args, kwargs, exc):
    """Note [Argument error hook]: raise torch's TypeError for a call no overload accepts; None keeps `exc`."""
    if isinstance(exc, TypeError) or not isinstance(exc, Exception):
        return None
    frame = sys._getframe(1)
    if frame.f_code.co_filename.startswith(_PKG_DIR):
        return None  # called by the package itself
    entries = _names().get(id(wrapper))
    if not entries:
        return None
    msg = None
    for name, is_method in entries:
        m = check(name, is_method, args, kwargs)
        if m is None:
            return None
        msg = msg or m
    raise TypeError(msg) from exc
