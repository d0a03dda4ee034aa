"""The exception-parity fuzz corpus: several thousand junk calls over the public surface, built deterministically.

A case is (receiver, code): `receiver` is an expression building the tensor bound to `x`, `code` an expression
(or, for assignments, a statement) run with `torch` bound to the library under test and `np` to numpy. Its id
is a hash of both strings, so ids stay stable while the corpus grows. Families:

- indexing: `x[i]` and `x[i] = v` over hostile indices (huge ints, np.bool_, [Ellipsis], empty slices in
  advanced indices, out-of-range lists, floats) and values (complex into real, None, strings, wrong shapes);
- dunders called with the wrong number or kind of arguments;
- Tensor methods and torch.* functions (the names both libraries define) with junk arguments: None, bools,
  huge and negative ints, out-of-range dims, empty shapes, nested lists, strings, tensors of another shape.

Calls with effects beyond their arguments (global RNG/seeds, default dtype/device, threads, files, hooks into
the interpreter) are left out, and so is anything whose cost grows with an argument (sizes stay below 2**8
unless they are meant to be refused).
"""
import hashlib
import random

RECEIVERS = {
    "f23": "torch.arange(6.).reshape(2, 3)",
    "f0": "torch.zeros(0)",
    "s": "torch.tensor(1.5)",
    "i6": "torch.arange(6)",
    "e03": "torch.zeros(0, 3)",
    "b2": "torch.tensor([True, False])",
}

INDICES = [
    "2**63", "-2**63-1", "2**62", "5", "-5", "0", "-1", "[Ellipsis]", "[...]", "(Ellipsis, Ellipsis)",
    "np.bool_(True)", "np.bool_(False)", "True", "False", "None", "[True]", "[[True]]", "[0, 1]", "[[0], [1]]",
    "[2**63]", "[-10]", "[0, 5]", "torch.tensor([0, 5])", "torch.tensor(True)", "torch.tensor(0.)",
    "torch.tensor([], dtype=torch.int64)", "torch.tensor(1)", "slice(None, None, -1)", "slice(None, None, 0)",
    "slice(2**70)", "slice(1, 1)", "(0, 0, 0)", "(None,) * 70", "'a'", "1.5", "[1.5]", "[[]]", "[]", "()",
    "(slice(None), [0, 1])", "([0, 1], [0])", "([0, 1], slice(1, 1))", "(slice(1, 1), [0, 1])",
    "np.array([0, 1])", "np.array([True, False])", "[None]", "[0, None]", "{0}", "range(2)",
    "torch.zeros(2, 3, dtype=torch.bool)", "torch.zeros(2, dtype=torch.bool)", "np.int64(1)", "np.int64(2**62)",
    "(np.bool_(True), 0)", "(..., None)", "(0, ...)", "[[0, 1], [0, 1]]", "torch.tensor([[0], [1]])",
]

VALUES = [
    "1.0", "1j", "'a'", "None", "torch.ones(5)", "torch.ones(1)", "2**70", "[1.0]", "torch.tensor(1, dtype=torch.int64)",
    "np.float32(1)", "torch.zeros(2, 3)", "True", "torch.tensor(1j)", "float('nan')",
]

DUNDERS = [
    "__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__", "__rpow__", "__radd__",
    "__rsub__", "__matmul__", "__rmatmul__", "__and__", "__or__", "__xor__", "__lshift__", "__rshift__", "__eq__",
    "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__iadd__", "__imul__", "__isub__", "__neg__", "__pos__",
    "__abs__", "__invert__", "__getitem__", "__setitem__", "__len__", "__bool__", "__index__", "__int__",
    "__float__", "__complex__", "__contains__", "__iter__", "__reversed__", "__repr__", "__format__", "__hash__",
    "__array__", "__deepcopy__", "__reduce_ex__", "__dlpack__", "__dlpack_device__", "__setstate__",
]
DUNDER_ARGS = ["", "1", "1, 2", "1, 2, 3", "None", "'a'", "x", "torch.ones(7)", "[1, 2]"]

ARGS = [
    "", "None", "-1", "0", "1", "2", "-100", "100", "2**63", "-2**63-1", "2**62", "1.5", "float('nan')", "True",
    "'a'", "[0]", "[[0, 1]]", "()", "[]", "np.bool_(True)", "np.int64(1)", "...", "slice(None)", "torch.zeros(2)",
    "torch.ones(2, 3)", "torch.tensor(1)", "torch.tensor([1, 0])", "1j", "{}", "object()", "1, 2", "0, 0",
    "-1, 1", "None, None", "dim=5", "dim=-3", "dim='a'", "keepdim=1", "dtype=torch.int64", "dtype=1", "x",
    "0, 2**63", "[2**63]", "(1, -1)", "(-1, -1)", "[[1], [2, 3]]", "torch.zeros(0, 3)",
]

# names whose effects reach beyond their arguments (global RNG and defaults, threads, files, printing, the
# interpreter), which are not tensor operations, or whose result is a view of host memory
_SKIP_PARTS = ("seed", "rng", "set_", "default", "thread", "save", "load", "file", "compile", "cuda", "mps", "xpu",
               "print", "deterministic", "grad_enabled", "inference", "anomaly", "hook", "share_memory", "pin_memory",
               "storage", "script", "trace_", "vmap", "export", "library", "register", "sym_", "typename", "warn",
               "manual", "fork", "dlpack", "from_numpy", "frombuffer", "backward", "apply_", "map_", "Generator",
               "numpy", "data_ptr", "mkldnn", "quantize", "quantized", "sparse", "nested", "align", "rename",
               "refine_names", "q_", "int_repr", "dequantize", "is_nonzero", "use_", "are_", "is_warn", "can_cast",
               "promote_types", "result_type", "get_", "autocast", "enable", "disable", "vitals", "wait", "jit",
               "fake", "functional", "unsafe", "_assert", "cond", "while_loop", "classes", "empty_strided")


def _skip(name):
    return name.startswith("_") or any(p in name for p in _SKIP_PARTS)


def case_id(receiver, code):
    return hashlib.sha1(f"{receiver}\x00{code}".encode()).hexdigest()[:12]


def _public_names(torch, mc):
    """(method names, function names) both libraries define, sorted."""
    import inspect

    methods = sorted(n for n in dir(torch.Tensor) if not _skip(n) and hasattr(mc.Tensor, n)
                     and callable(getattr(torch.Tensor, n, None)))
    funcs = []
    for n in sorted(dir(torch)):
        if _skip(n) or not hasattr(mc, n):
            continue
        f, g = getattr(torch, n, None), getattr(mc, n, None)
        if inspect.isclass(f) or inspect.ismodule(f) or not callable(f) or not callable(g) or inspect.isclass(g):
            continue
        funcs.append(n)
    return methods, funcs


def build(torch, mc, size=None):
    """The corpus as a list of (id, receiver key, code, is_statement), deterministic for given libraries."""
    cases = []

    def add(rkey, code, stmt=False):
        cases.append((case_id(RECEIVERS[rkey], code), rkey, code, stmt))

    for rkey in ("f23", "f0", "s", "i6", "e03", "b2"):
        for i in INDICES:
            add(rkey, f"x[{i}]")
    for rkey in ("f23", "f0", "s", "i6"):
        for i in INDICES:
            for v in VALUES:
                add(rkey, f"x[{i}] = {v}", stmt=True)
    for rkey in ("f23", "s"):
        for d in DUNDERS:
            for a in DUNDER_ARGS:
                add(rkey, f"x.{d}({a})")
    methods, funcs = _public_names(torch, mc)
    # each name draws from its own stream, so a name added to either library adds its cases and moves no other's
    for m in methods:
        rnd = random.Random(f"20261203 method {m}")
        for rkey in ("f23", "f0", "s"):
            for a in rnd.sample(ARGS, 6):
                add(rkey, f"x.{m}({a})")
    for f in funcs:
        rnd = random.Random(f"20261203 function {f}")
        for rkey in ("f23", "s"):
            for a in rnd.sample(ARGS, 5):
                add(rkey, f"torch.{f}(x, {a})" if a else f"torch.{f}(x)")
        for a in rnd.sample(ARGS, 3):
            add("f23", f"torch.{f}({a})")
    seen, out = set(), []
    for c in cases:  # a code string can repeat (two ARGS spellings): keep the first
        if c[0] not in seen:
            seen.add(c[0])
            out.append(c)
    return out[:size] if size else out
