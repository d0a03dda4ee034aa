"""torch's argument errors for the public functions and Tensor methods, decided after the fact.

torch parses every call of a native function against its signatures (_signatures.py) before running it: an
argument of a kind no overload accepts raises TypeError ("argument 'dim' (position 2) must be int, not str",
"received an invalid combination of arguments"), and an integer its C type cannot hold raises while it is
unpacked (ValueError for an int, TypeError inside an int list, OverflowError for a Scalar). Our functions parse
as they go, so the same junk fails later with another exception type. `arg_error_hook` runs only on that
failure path (Note [Argument error hook]) and raises torch's exception instead, chained from ours. A call that
some overload accepts, with integers that fit, keeps its own exception (MLX's broadcast ValueError aside, which
becomes torch's RuntimeError), so a correct call is never affected and successful calls pay nothing.

Note [Argument error hook]
The C wrapper every public function and method gets (TorchFunctionWrapper, csrc/overrides.c) calls the hook
registered with _C._set_arg_error_hook when the wrapped function raises an Exception. The hook sees the
wrapper, the arguments and the exception; it returns None to keep the exception, or raises the replacement
(never by accident: a failure inside the check keeps the original). Rules:
- it acts only on calls made from outside the package: a public function the package itself calls with
  arguments it derived (an implementation detail) keeps its own error, and the outermost call decides;
- a wrapper is judged by the torch.<name>/Tensor.<name> signatures of the names it is installed under, and a
  call must be refused by all of them; a wrapper also installed as an nn.functional function is not judged
  unless torch's two take the same arguments (_signatures.SHARED), since its callers use either signature;
- kinds the table does not know accept anything, so the check errs towards keeping our exception.
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
    T = _state.get("Tensor")
    if T is None:  # imported late: the package's op modules import this one while the package loads
        from ._dtype import bool as bool_
        from ._tensor import Tensor

        from . import _signatures

        T = _state["Tensor"] = Tensor
        _state["bool"], _state["signatures"] = bool_, _signatures
    return T


def _table():
    _tensor_type()
    return _state["signatures"]


def _is_np_int(o):
    return isinstance(o, np.integer)


def _is_np_scalar(o):
    return isinstance(o, (np.integer, np.floating, np.complexfloating, np.bool_))


def _integral(dt):
    return not (dt.is_floating_point or dt.is_complex) and dt is not _state["bool"]


def _is_int(o, T):
    if isinstance(o, int):
        return not isinstance(o, bool)
    if _is_np_int(o):
        return True
    if isinstance(o, T):
        return o.dim() == 0 and not o.requires_grad and _integral(o.dtype)
    return False


def is_int(o):
    """Whether torch's parser takes `o` for an int parameter (a Python int but not a bool, a numpy integer,
    or a 0-dim integral tensor that does not require grad)."""
    return _is_int(o, _tensor_type())


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
        if (not args and varargs[0][1] != "T") or positional:  # a tensor list may be empty
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
    for p in overload:  # arity before types, as torch's parser decides which overloads are plausible
        if "v" not in p[2] and p[0] not in bound and p[3] is None and "o" not in p[2]:
            return ("missing", p[0])
    for p in overload:
        if "v" in p[2] or p[0] not in bound:
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


def _hidden(overload):
    return bool(overload) and "h" in overload[0][2]


def _arity_fits(overload, n):
    if any("v" in p[2] for p in overload):
        return n >= 1
    required = sum(1 for p in overload if p[3] is None and "o" not in p[2])
    return required <= n <= len(overload)


def _message(name, overloads, failures, args, kwargs, offset):
    # like torch's parser: when a single listed overload takes this many arguments, its own complaint is the
    # message
    n = len(args) - offset + len(kwargs)
    plausible = [f for ov, f in zip(overloads, failures) if not _hidden(ov) and _arity_fits(ov, n)]
    if len(overloads) == 1 or len(plausible) == 1:
        reason, detail = failures[0] if len(overloads) == 1 else plausible[0]
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
    overloads = [ov for ov in overloads if not _hidden(ov)]
    got = [_type_name(a) for a in args[offset:]] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    sigs = "\n".join(f" * {_render(ov)}" for ov in overloads)
    return f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), but expected one " \
           f"of:\n{sigs}\n"


def _names():
    """{id(wrapper): [(public name, is_method)]} over the torch namespace and the Tensor class (a wrapper: a
    TorchFunctionWrapper, or a C entry that checks itself, Note [Self-checking C entries] in csrc/overrides.c)."""
    if _state["names"] is None:
        from . import _C
        from .overrides import _self_checking_ids

        own = _self_checking_ids()

        def wrapper(obj):
            return isinstance(obj, _C.TorchFunctionWrapper) or id(obj) in own

        _signatures = _table()
        pkg = sys.modules[__package__]
        # a function the package shares between torch.<name> and nn.functional.<other> is called with either
        # signature; unless torch's two take the same arguments, its calls cannot be judged by torch.<name>'s
        shared = set()
        for ns, same in _signatures.SHARED.items():
            mod = sys.modules.get(f"{__package__}.{ns}")
            for n, obj in (vars(mod).items() if mod is not None else ()):
                if n.startswith("_"):
                    continue  # the module's internal names, not its public ones
                if wrapper(obj) and (n not in same or getattr(pkg, n, None) is not obj):
                    shared.add(id(obj))
        names = {}
        for n, obj in vars(pkg).items():
            if wrapper(obj) and n in _signatures.FUNCTIONS and id(obj) not in shared:
                names.setdefault(id(obj), []).append((n, False))
        for n, obj in vars(_tensor_type()).items():
            if wrapper(obj) and n in _signatures.METHODS and id(obj) not in shared:
                names.setdefault(id(obj), []).append((n, True))
        _state["names"] = names
    return _state["names"]


def _overloads(name, is_method, args):
    """(overloads, offset) for the public `name`, or None when it has none or is a method reached without a
    tensor (returned as a message string)."""
    _signatures = _table()
    overloads = (_signatures.METHODS if is_method else _signatures.FUNCTIONS).get(name)
    if not overloads:
        return None
    if is_method and (not args or not isinstance(args[0], _tensor_type())):
        # reached as Tensor.<name>(junk, ...): bound methods always pass a tensor
        what = type(args[0]).__name__ if args else "nothing"
        return f"descriptor '{name}' for 'Tensor' objects doesn't apply to a '{what}' object"
    return overloads, 1 if is_method else 0


def check(name, is_method, args, kwargs):
    """torch's TypeError message when no overload of the public `name` accepts the call, else None. For a
    method, args[0] is the tensor it is called on."""
    found = _overloads(name, is_method, args)
    if found is None or isinstance(found, str):
        return found
    overloads, offset = found
    T, nat = _tensor_type(), name in _NUMBERS_AS_TENSORS
    failures = []
    for ov in overloads:
        f = _fit(ov, list(args[offset:]), kwargs, T, nat)
        if f is None:
            return None
        failures.append(f)
    return _message(name, overloads, failures, list(args), kwargs, offset)


_INT64 = (-2 ** 63, 2 ** 63 - 1)


def _big(v):
    return isinstance(v, int) and not isinstance(v, bool) and not _INT64[0] <= v <= _INT64[1]


def overflow(name, is_method, args, kwargs):
    """The exception torch's parser raises while unpacking an accepted call whose integers do not fit their
    C types (int64 for int and int-list parameters, int64/uint64 for Scalars), else None."""
    found = _overloads(name, is_method, args)
    if found is None or isinstance(found, str):
        return None
    overloads, offset = found
    T, nat = _tensor_type(), name in _NUMBERS_AS_TENSORS
    rest = list(args[offset:])
    for ov in overloads:
        if _fit(ov, rest, kwargs, T, nat) is not None:
            continue
        # the first overload that accepts the call is the one torch unpacks
        positional = [p for p in ov if "k" not in p[2] and "v" not in p[2]]
        bound = list(zip(positional, rest)) + [(next(p for p in ov if p[0] == k), v) for k, v in kwargs.items()]
        if any("v" in p[2] for p in ov):
            bound = [(next(p for p in ov if "v" in p[2]), tuple(rest))] + bound
        for p, v in bound:
            kinds = p[1].split("|")
            if "v" in p[2] or isinstance(v, (list, tuple)):
                if "I" in kinds or "v" in p[2]:
                    for k, item in enumerate(v if isinstance(v, (list, tuple)) else (v,)):
                        if _big(item):
                            return TypeError(f"{name}(): argument '{p[0]}' failed to unpack the object at pos "
                                             f"{k + 1} with error \"Overflow when unpacking long long\"")
            elif _big(v):
                if "S" in kinds or ("T" in kinds and nat):  # a Scalar: int64 or uint64
                    if not 0 <= v < 2 ** 64:
                        return OverflowError("int too big to convert" if v > 0 else
                                             "can't convert negative int to unsigned")
                elif "i" in kinds:
                    return ValueError("Overflow when unpacking long long")
        return None
    return None


def _broadcast_error(exc):
    """torch's RuntimeError for MLX's ValueError about shapes that do not broadcast, else None."""
    import re

    m = re.match(r"\[broadcast_shapes\] Shapes \(([\d, ]*)\) and \(([\d, ]*)\) cannot be broadcast", str(exc))
    if m is None:
        return None
    a, b = ([int(v) for v in g.replace(" ", "").split(",") if v] for g in m.groups())
    for k in range(1, min(len(a), len(b)) + 1):
        if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
            return RuntimeError(f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) at "
                                f"non-singleton dimension {max(len(a), len(b)) - k}")
    return None


def _replacement(wrapper, args, kwargs, exc):
    if sys._getframe(2).f_code.co_filename.startswith(_PKG_DIR):
        return None  # called by the package itself
    entries = _names().get(id(wrapper), ())
    msgs = [check(name, is_method, args, kwargs) for name, is_method in entries]
    if entries and all(m is not None for m in msgs):
        return None if isinstance(exc, TypeError) else TypeError(msgs[0])
    for (name, is_method), m in zip(entries, msgs):
        if m is None:  # the signatures that accept the call decide how torch unpacks it
            err = overflow(name, is_method, args, kwargs)
            if err is not None:
                return err
            break
    if isinstance(exc, ValueError):
        return _broadcast_error(exc)
    return None


def arg_error_hook(wrapper, args, kwargs, exc):
    """Note [Argument error hook]: raise the exception torch raises for this failed call; None keeps `exc`."""
    try:
        err = _replacement(wrapper, args, kwargs, exc)
    except Exception:  # noqa: BLE001 - the check must never hide the call's own error
        return None
    if err is None:
        return None
    raise err from exc
