"""OpInfo conformance harness: PyTorch's OpInfo database (`op_db`) as the yardstick for mlx_compat's operators.

For every `op_db` entry this module runs torch's own sample inputs through torch and through mlx_compat and
compares the results; `run_entry(op)` returns a plain dict (JSON-serialisable) describing the outcome:

    forward   "pass" | "fail" | "missing" | "skip"
        every sample (at most FWD_SAMPLES) gives the same result in every variant torch has: the function
        (`op`), the method (`Tensor.<name>`, when torch's entry has `method_variant`) and the in-place method
        (`inplace_variant`, run on a clone of the input). A variant torch has and we lack is a failure.
        "missing": the function itself is not in mlx_compat. "skip": torch produced no usable sample here.
    backward  "pass" | "fail" | "missing" | "skip" | "n/a"
        for entries with `supports_autograd` (float32): the vector-Jacobian product for a random (seeded)
        cotangent per differentiable output, w.r.t. every input tensor requiring grad, compared with
        torch.autograd.grad. "n/a": torch has no float32 autograd for the entry.
    errors    "pass" | "fail" | "missing" | "n/a"
        for entries with `error_inputs`: ours raises the exception type torch raises (not part of "pass").

An entry "passes forward" when forward == "pass"; it "passes forward and backward" when in addition
backward is "pass", "n/a" (no autograd in torch) or "skip" (no differentiable sample).

How an entry's op is found in mlx_compat:
  * `entry.op` is a torch library function: the same qualified name (`entry.name`: "add",
    "nn.functional.relu", "linalg.norm", ...) looked up under `mlx_compat`; a Tensor dunder/method
    (`__radd__`, `__getitem__`) is looked up on `mlx_compat.Tensor`.
  * `entry.op` is a lambda/helper written in torch's testing modules (e.g. `lambda x: x.T`,
    `lambda x, *a: x.contiguous(*a)`, `lambda w, i: torch.nn.functional.embedding(i, w)`): the same code runs
    with `torch` (and any other torch module it names) rebound to the matching mlx_compat namespace, so the
    lambda calls our functions; a name we lack raises `MissingOp` at the call.
  * method / in-place variants: `mlx_compat.Tensor.<name>` (lambdas translated as above).

Samples are converted recursively: torch tensors -> `mlx_compat.from_torch` (same dtype), torch dtypes ->
mlx_compat dtypes by name, torch.Size -> tuple, torch.device -> `mlx_compat.device`, other values as is.

Entries whose outputs are random or uninitialised (NONDETERMINISTIC: sampling ops, dropout, empty*) are
compared on shape and dtype only: mlx_compat's random streams differ from torch's by design.

Everything runs on the CPU in float32 (entries that do not support float32 use the first of FALLBACK_DTYPES
they support). Samples with more than MAX_NUMEL elements in all are skipped (hang guard).
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import re
import time
import types
import warnings
import zlib

import torch

# Self-test switch: MLX_COMPAT_OPINFO_SELFTEST=1 runs the harness with torch on *both* sides. Every entry must
# then pass (bar the NONDETERMINISTIC ones torch itself cannot repeat): it checks the harness's plumbing
# (sample conversion, lambda translation, comparisons, the VJP), independently of mlx_compat's state.
SELFTEST = os.environ.get("MLX_COMPAT_OPINFO_SELFTEST") == "1"
if SELFTEST:
    mc = torch

    def _from_torch(t):
        return t.detach().clone()

    def _to_torch(t):
        return t.detach()
else:
    import mlx_compat as mc

    _to_torch = mc.to_torch
    # MLX_COMPAT_OPINFO_DEVICE=cuda runs our side on the GPU (with MLX_COMPAT_FAKE_GPU=1 on a machine without
    # one: MLX's CPU under the GPU's device bookkeeping, which finds ops that mix or mislabel devices); float64
    # samples stay on the CPU (MLX's GPU has no float64)
    _DEVICE = os.environ.get("MLX_COMPAT_OPINFO_DEVICE")
    if _DEVICE:
        def _from_torch(t):
            ours = mc.from_torch(t)
            return ours if ours.dtype is mc.float64 else ours.to(_DEVICE)
    else:
        _from_torch = mc.from_torch

# One intra-op thread: torch's OpenMP workers spin against MLX's and against other processes when cores are
# few (CI: 2 cores, `pytest -n 2`), turning millisecond samples into tens of seconds.
torch.set_num_threads(1)

# ---------------------------------------------------------------------------------------------------------
# Knobs. The caps keep the whole op_db run well inside the CI budget (2 cores, at most ~4 minutes for this
# harness with `pytest -n 2`): 702 entries x (function + method + in-place) x samples, plus torch's own sample
# generation. Measured with these caps on a 2-core machine: 10-20 s for `pytest -n 2 tests/conformance` (the
# spread is quarantined entries running into their timeout). Most entries have fewer than 8 samples anyway;
# raise the caps locally for a deeper check (update_baseline.py records them in baseline.json).
FWD_SAMPLES = 8      # samples per entry for the forward check
BWD_SAMPLES = 8      # samples per entry for the backward check (requires_grad=True samples)
ERR_SAMPLES = 8      # error inputs per entry
MAX_NUMEL = 10 ** 6  # skip a sample whose tensors hold more elements than this in all

FWD_TOL = dict(rtol=1e-5, atol=1e-5)
BWD_TOL = dict(rtol=1e-4, atol=1e-5)

# Per-entry tolerances, each with its reason: (forward tol, backward tol, why). Only where torch's own float32
# result is measurably less accurate than ours (checked against torch in float64 by the op's own unit tests).
ENTRY_TOL = {
    "matrix_exp": (dict(rtol=3e-3, atol=1e-3), BWD_TOL,
                   "torch's float32 matrix_exp is off from its float64 result by up to 5e-2 (abs, entries ~1e5) on "
                   "these samples; ours runs the Pade chain in float64 on the CPU and is within 2e-3 of float64 "
                   "(tests/ops/test_linalg_solvers.py checks that against torch float64 at 1e-5)"),
    "fft.hfft2": (dict(rtol=1e-5, atol=5e-5), BWD_TOL,
                  "one element of sample 5 differs by 3.1e-5: torch's float32 result is itself 1.6e-5 from the "
                  "complex128 one and ours 2.0e-5 (float32 rounding of a 2-D transform); torch's own OpInfo allows "
                  "2e-4 here (precisionOverride)"),
    "logcumsumexp": (FWD_TOL, dict(rtol=1e-3, atol=1e-2),
                     "sample 0's gradient (entries up to 5.5) is float32-limited on both sides: torch's is 2.8e-3 "
                     "from its float64 result, ours 4.3e-3 (exp of large differences in the reverse scan)"),
    "linalg.householder_product": (FWD_TOL, dict(rtol=1e-3, atol=1e-5),
                                   "torch's float32 gradient differs from its float64 one by 5e-3 (entries ~600) "
                                   "on sample 7; ours is computed in float64 on the CPU (unit test vs float64)"),
}

DTYPE = torch.float32
FALLBACK_DTYPES = (torch.float32, torch.int64, torch.complex64, torch.bool, torch.int32, torch.float64)

# Outputs that are random draws or uninitialised memory: shape/dtype only.
NONDETERMINISTIC = {
    "bernoulli", "cauchy", "exponential", "geometric", "log_normal", "normal", "uniform", "multinomial",
    "randn", "randn_like", "rand_like", "randint", "randint_like", "empty", "empty_like", "empty_strided",
    "empty_permuted", "new_empty", "new_empty_strided", "nn.functional.dropout", "nn.functional.dropout2d",
    "nn.functional.dropout3d", "nn.functional.alpha_dropout", "nn.functional.feature_alpha_dropout",
    "nn.functional.rrelu", "nn.functional.fractional_max_pool2d", "nn.functional.fractional_max_pool3d",
    "svd_lowrank", "pca_lowrank",
}


# Progress hook: the server (runner.py's child) reports where it is, so a crash or a hang can be pinned to a stage.
PROGRESS = None


def _note(msg):
    if PROGRESS is not None:
        PROGRESS(msg)


# ---------------------------------------------------------------------------------------------------------
# The op database

_OP_DB = None


def op_db():
    """torch's OpInfo list (imported lazily: ~2.5 s)."""
    global _OP_DB
    if _OP_DB is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.testing._internal.common_methods_invocations import op_db as db
        _OP_DB = list(db)
    return _OP_DB


def entry_id(op):
    """Stable id: name, plus '.' + variant_test_name when the entry has one."""
    return op.name + ("." + op.variant_test_name if op.variant_test_name else "")


def entries():
    """[(id, OpInfo)] in op_db order; ids are unique."""
    out, seen = [], set()
    for op in op_db():
        eid = entry_id(op)
        assert eid not in seen, f"duplicate OpInfo id {eid}"
        seen.add(eid)
        out.append((eid, op))
    return out


def entry_by_id(eid):
    for i, op in entries():
        if i == eid:
            return op
    raise KeyError(eid)


# ---------------------------------------------------------------------------------------------------------
# Resolving torch's callables in mlx_compat

class MissingOp(AttributeError):
    """The op (or a name it needs) does not exist in mlx_compat."""

    def __init__(self, name):
        super().__init__(f"mlx_compat has no {name}")
        self.op_name = name


def _resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


class _Namespace:
    """Stands for torch module `path` inside translated testing lambdas: attribute look-ups go to the matching
    mlx_compat object (`torch.nn.functional.x` -> `mlx_compat.nn.functional.x`), MissingOp where there is none."""

    def __init__(self, path):
        self._path = path  # a torch dotted path: "torch", "torch.nn.functional", ...

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        full = f"{self._path}.{name}"
        obj = _resolve(mc, full[len("torch."):])
        if obj is None:
            raise MissingOp(full[len("torch."):])
        if isinstance(obj, types.ModuleType):
            return _Namespace(full)
        return obj

    def __repr__(self):
        return f"<mlx_compat namespace for {self._path}>"


def _is_torch_module(v):
    return isinstance(v, types.ModuleType) and (v.__name__ == "torch" or v.__name__.startswith("torch."))


_GLOBALS_CACHE = {}


def _translated_globals(g):
    key = id(g)
    hit = _GLOBALS_CACHE.get(key)
    if hit is not None and hit[0] is g:
        return hit[1]
    new = dict(g)
    for k, v in g.items():
        if _is_torch_module(v):
            new[k] = _Namespace(v.__name__)
    _GLOBALS_CACHE[key] = (g, new)
    return new


def _is_testing_function(f):
    return isinstance(f, types.FunctionType) and (getattr(f, "__module__", "") or "").startswith("torch.testing")


def translate(f):
    """A copy of testing function f whose `torch` (and other torch modules) names mlx_compat."""
    cells = None
    if f.__closure__:
        cells = []
        for c in f.__closure__:
            try:
                v = c.cell_contents
            except ValueError:  # empty cell
                cells.append(c)
                continue
            if _is_testing_function(v):
                v = translate(v)
            elif _is_torch_module(v):
                v = _Namespace(v.__name__)
            cells.append(types.CellType(v))
        cells = tuple(cells)
    g = types.FunctionType(f.__code__, _translated_globals(f.__globals__), f.__name__, f.__defaults__, cells)
    g.__kwdefaults__ = f.__kwdefaults__
    return g


def _tensor_attr(name):
    obj = getattr(mc.Tensor, name, None)
    if obj is None:
        raise MissingOp(f"Tensor.{name}")
    return obj


def _is_tensor_method(f):
    name = getattr(f, "__name__", None)
    if not name:
        return False
    if getattr(torch.Tensor, name, None) is f:
        return True
    qual = getattr(f, "__qualname__", "") or ""
    return qual.startswith(("Tensor.", "TensorBase.", "_TensorBase."))


# torch's private binding modules -> the public namespace their functions belong to
_PRIVATE_NS = {"torch._C._nn": "nn.functional", "torch._C._linalg": "linalg", "torch._C._special": "special",
               "torch._C._fft": "fft", "torch._C._nested": "nested", "torch._C._sparse": "sparse",
               "torch._C._VariableFunctions": "", "torch.functional": "", "torch._tensor": "", "torch": ""}


def _lookup(path):
    obj = _resolve(mc, path)
    if obj is None or isinstance(obj, types.ModuleType) or not callable(obj):
        raise MissingOp(path)
    return obj


def resolve_callable(f):
    """Our counterpart of a torch callable (an OpInfo variant); raises MissingOp."""
    if _is_testing_function(f):
        return translate(f)
    if isinstance(f, functools.partial):
        return functools.partial(resolve_callable(f.func), *f.args, **f.keywords)
    name = getattr(f, "__name__", None)
    if isinstance(f, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
        packet = f.overloadpacket if isinstance(f, torch._ops.OpOverload) else f
        path = f"ops.aten.{packet.__name__}"
        if isinstance(f, torch._ops.OpOverload):
            path += f".{f._overloadname}"
        return _lookup(path)
    if _is_tensor_method(f):
        return _tensor_attr(name)
    mod = getattr(f, "__module__", None) or "torch"
    if mod in _PRIVATE_NS:
        ns = _PRIVATE_NS[mod]
    elif mod.startswith("torch."):
        ns = mod[len("torch."):]
    else:
        ns = ""
    return _lookup(f"{ns}.{name}" if ns else name)


def resolve_op(op):
    """Our function variant for OpInfo `op`: the entry's qualified name under mlx_compat first; raises MissingOp."""
    f = op.op
    if _is_testing_function(f) or isinstance(f, functools.partial):
        return resolve_callable(f)
    if _is_tensor_method(f) and _resolve(torch, op.name) is not f:
        return _tensor_attr(f.__name__)
    name = op.name[len("torch."):] if op.name.startswith("torch.") else op.name  # "torch._scaled_mm", ...
    try:
        return _lookup(name)
    except MissingOp:
        if _resolve(torch, name) is not None:
            raise
    return resolve_callable(f)  # an op with no public torch name (torch.ops.aten.*, private bindings)


def resolve_method(op):
    f = op.method_variant
    if _is_testing_function(f):
        return translate(f)
    return _tensor_attr(getattr(f, "__name__", op.name.split(".")[-1]))


def resolve_inplace(op):
    f = op.inplace_variant
    name = getattr(f, "__name__", None)
    if not _is_testing_function(f) and name and hasattr(torch.Tensor, name):
        return _tensor_attr(name)
    return resolve_callable(f)


# ---------------------------------------------------------------------------------------------------------
# Converting samples

def _dtype_ours(dt):
    name = str(dt).split(".")[-1]
    d = getattr(mc, name, None)
    if not isinstance(d, mc.dtype):
        raise TypeError(f"mlx_compat has no dtype {name}")
    return d


def to_ours(obj, memo, grad_ids=frozenset()):
    """torch sample value -> mlx_compat value. memo maps id(torch tensor) -> ours, so a tensor passed twice stays
    one tensor. Tensors whose id is in grad_ids become leaves requiring grad."""
    if isinstance(obj, torch.Tensor):
        hit = memo.get(id(obj))
        if hit is not None:
            return hit[1]
        t = obj.detach()
        if t.is_conj():
            t = t.resolve_conj()
        if t.is_neg():
            t = t.resolve_neg()
        ours = _from_torch(t)
        if id(obj) in grad_ids:
            ours.requires_grad_(True)
        memo[id(obj)] = (obj, ours)  # keep obj alive so its id is not reused
        return ours
    if isinstance(obj, torch.dtype):
        return _dtype_ours(obj)
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, torch.device):
        return mc.device(str(obj))
    if isinstance(obj, (torch.memory_format, torch.layout)):
        ours = getattr(mc, str(obj).split(".")[-1], None)
        return obj if ours is None else ours
    if isinstance(obj, list):
        return [to_ours(v, memo, grad_ids) for v in obj]
    if isinstance(obj, tuple):
        vals = [to_ours(v, memo, grad_ids) for v in obj]
        return type(obj)(*vals) if hasattr(obj, "_fields") else tuple(vals)
    if isinstance(obj, dict):
        return {k: to_ours(v, memo, grad_ids) for k, v in obj.items()}
    if isinstance(obj, torch.nn.PairwiseDistance):  # a torch module as an argument: its functional form, ours
        return functools.partial(mc.nn.functional.pairwise_distance, p=obj.norm, eps=obj.eps, keepdim=obj.keepdim)
    if callable(obj) and getattr(obj, "__module__", "").startswith("torch") and not isinstance(obj, type):
        return resolve_callable(obj)
    return obj


def _tensors_in(obj, out=None):
    """torch tensors in a nested structure, in order, unique by identity."""
    if out is None:
        out = []
    if isinstance(obj, torch.Tensor):
        if not any(obj is t for t in out):
            out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _tensors_in(v, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _tensors_in(v, out)
    return out


def _numel(sample):
    return sum(t.numel() for t in _tensors_in([sample.input, sample.args, sample.kwargs]))


# ---------------------------------------------------------------------------------------------------------
# Comparing results

class Mismatch(AssertionError):
    pass


def _first_line(s, n=160):
    s = str(s).strip().splitlines()
    s = s[0] if s else ""
    return s[:n]


def compare(ours, theirs, tol, loose=False, where="out"):
    """Raise Mismatch unless ours matches torch's result `theirs` (recursively)."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, mc.Tensor):
            raise Mismatch(f"{where}: expected a Tensor, got {type(ours).__name__}")
        if str(ours.dtype) != str(theirs.dtype):
            raise Mismatch(f"{where}: dtype {ours.dtype} != {theirs.dtype}")
        if tuple(ours.shape) != tuple(theirs.shape):
            raise Mismatch(f"{where}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}")
        if loose:
            return
        a = _to_torch(ours)
        b = theirs.detach()
        if b.is_conj():
            b = b.resolve_conj()
        if b.is_neg():
            b = b.resolve_neg()
        try:
            torch.testing.assert_close(a, b, equal_nan=True, check_device=False, **tol)
        except AssertionError as e:
            msg = " ".join(str(e).split())
            raise Mismatch(f"{where}: values differ ({msg[:200]})") from None
        return
    if isinstance(theirs, torch.Size):
        if tuple(ours) != tuple(theirs):
            raise Mismatch(f"{where}: {tuple(ours)} != {tuple(theirs)}")
        return
    if isinstance(theirs, (tuple, list)):
        if not isinstance(ours, (tuple, list)):
            raise Mismatch(f"{where}: expected a {type(theirs).__name__}, got {type(ours).__name__}")
        if len(ours) != len(theirs):
            raise Mismatch(f"{where}: length {len(ours)} != {len(theirs)}")
        for i, (o, t) in enumerate(zip(ours, theirs)):
            compare(o, t, tol, loose, f"{where}[{i}]")
        return
    if isinstance(theirs, torch.dtype):
        if str(ours) != str(theirs):
            raise Mismatch(f"{where}: {ours} != {theirs}")
        return
    if isinstance(theirs, float) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        if loose or (math.isnan(theirs) and math.isnan(ours)):
            return
        if not math.isclose(ours, theirs, rel_tol=tol["rtol"], abs_tol=tol["atol"]):
            raise Mismatch(f"{where}: {ours!r} != {theirs!r}")
        return
    if isinstance(ours, mc.Tensor):
        raise Mismatch(f"{where}: expected {type(theirs).__name__}, got a Tensor")
    if loose:
        return
    if ours != theirs:
        raise Mismatch(f"{where}: {ours!r} != {theirs!r}")


def _flat_tensors(out):
    """Tensors of a (nested) result, in order; non-tensors as None (keeps positions aligned)."""
    if isinstance(out, (torch.Tensor, mc.Tensor)):
        return [out]
    if isinstance(out, (tuple, list)):
        res = []
        for v in out:
            res.extend(_flat_tensors(v))
        return res
    return [None]


# ---------------------------------------------------------------------------------------------------------
# Failure bookkeeping

_MISSING_ATTR = re.compile(r"(?:type object '(?:mlx_compat\.)?(Tensor)'|'(?:mlx_compat\.)?(Tensor)' object|"
                           r"module '(mlx_compat[\w.]*)') has no attribute '(\w+)'")


def describe(exc):
    """Short, stable reason string for an exception raised on our side."""
    if isinstance(exc, MissingOp):
        return f"missing: {exc.op_name}"
    if isinstance(exc, AttributeError):
        m = _MISSING_ATTR.search(str(exc))
        if m:
            if m.group(1) or m.group(2):
                owner = "Tensor."
            else:
                mod = m.group(3)[len("mlx_compat"):].lstrip(".")
                owner = mod + "." if mod else ""
            return f"missing: {owner}{m.group(4)}"
    if isinstance(exc, Mismatch):
        return f"mismatch: {_first_line(exc, 240)}"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _status_of(reason):
    return "missing" if reason.startswith("missing:") else "fail"


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _seed_for(eid, salt=0):
    return (zlib.crc32(eid.encode()) + salt) % (2 ** 31)


def pick_dtype(op, backward=False):
    """float32 when the entry supports it (on the CPU), else the first fallback it supports; None if none."""
    supported = op.supported_backward_dtypes("cpu") if backward else op.supported_dtypes("cpu")
    if backward:
        return DTYPE if DTYPE in supported else None
    for d in FALLBACK_DTYPES:
        if d in supported:
            return d
    return None


def _samples(op, dtype, requires_grad, cap, seed):
    torch.manual_seed(seed)
    it = op.sample_inputs("cpu", dtype, requires_grad=requires_grad)
    return list(itertools.islice(it, cap))


# ---------------------------------------------------------------------------------------------------------
# Forward

def _draws_dropout(eid, sample):
    """Samples of the attention entries that apply dropout: their values depend on a random mask torch's stream
    draws, which ours cannot reproduce, so (like NONDETERMINISTIC entries) they are compared on shape and dtype;
    the entries' other samples are compared in full."""
    if eid == "nn.functional.scaled_dot_product_attention":
        return sample.kwargs.get("dropout_p", 0.0) > 0
    if eid == "nn.functional.multi_head_attention_forward":
        return sample.kwargs.get("training", True) and len(sample.args) > 9 and sample.args[9] > 0
    return False


def _check_variant(ours_fn, torch_fn, sample, loose, inplace=False, tol=FWD_TOL):
    """One sample through one variant; raises (on our side) or returns. Our inputs are converted before torch
    runs (an in-place torch op mutates its input; some ops mutate arguments)."""
    t_inp = sample.input.detach().clone() if inplace else sample.input
    memo = {}
    inp = to_ours(t_inp, memo)
    args = to_ours(list(sample.args), memo)
    kwargs = to_ours(dict(sample.kwargs), memo)
    try:
        t_out = torch_fn(t_inp, *sample.args, **sample.kwargs)
        t_exc = None
    except Exception as e:  # noqa: BLE001
        t_exc = e
    if t_exc is not None:
        try:
            ours_fn(inp, *args, **kwargs)
        except Exception as e:  # noqa: BLE001
            if isinstance(e, type(t_exc)):
                return
            raise
        raise Mismatch(f"torch raised {type(t_exc).__name__} ({_first_line(t_exc, 80)}), ours returned")
    out = ours_fn(inp, *args, **kwargs)
    compare(out, t_out, tol, loose)
    if inplace:
        compare(inp, t_inp, tol, loose, where="self after in-place")


def _storage_dependent(op, sample):
    """as_strided & co. read the input's *storage*, which a converted (compact) copy does not reproduce."""
    if not op.name.startswith("as_strided") or not isinstance(sample.input, torch.Tensor):
        return False
    t = sample.input
    return t.storage_offset() != 0 or t.untyped_storage().nbytes() != t.numel() * t.element_size()


def forward_status(op, eid):
    """(status, reason, n_samples)."""
    dtype = pick_dtype(op)
    if dtype is None:
        return "skip", "no supported dtype on the CPU", 0
    try:
        with _quiet():
            samples = _samples(op, dtype, False, FWD_SAMPLES, _seed_for(eid))
    except Exception as e:  # noqa: BLE001
        return "skip", f"torch sample_inputs failed: {type(e).__name__}: {_first_line(e)}", 0
    usable = []
    for i, sample in enumerate(samples):
        if _numel(sample) > MAX_NUMEL or _storage_dependent(op, sample):
            continue
        try:  # a sample torch's own function rejects (a CUDA-only op, ...) tells us nothing
            with _quiet():
                torch.manual_seed(_seed_for(eid, i))
                op.op(sample.input, *sample.args, **sample.kwargs)
        except Exception:  # noqa: BLE001
            continue
        usable.append((i, sample))
    if not usable:
        return "skip", "torch accepted no sample", len(samples)
    loose = op.name in NONDETERMINISTIC
    # variants: (label, torch callable, resolver, in-place)
    variants = [("function", op.op, resolve_op, False)]
    if op.method_variant is not None:
        variants.append(("method", op.method_variant, resolve_method, False))
    if op.inplace_variant is not None:
        variants.append(("inplace", op.inplace_variant, resolve_inplace, True))
    ours = {}
    for label, _, resolver, _ in variants:
        try:
            ours[label] = resolver(op)
        except Exception as e:  # noqa: BLE001
            ours[label] = e
    if isinstance(ours["function"], Exception):
        return _status_of(describe(ours["function"])), describe(ours["function"]), len(samples)
    for i, sample in usable:
        for label, torch_fn, _, inplace in variants:
            if inplace and (sample.broadcasts_input or not isinstance(sample.input, torch.Tensor)):
                continue
            fn = ours[label]
            _note(f"forward {label} #{i}")
            try:
                if isinstance(fn, Exception):
                    raise fn
                with _quiet():
                    torch.manual_seed(_seed_for(eid, i))
                    mc.manual_seed(_seed_for(eid, i))
                    _check_variant(fn, torch_fn, sample, loose or _draws_dropout(eid, sample), inplace,
                                   ENTRY_TOL.get(eid, (FWD_TOL,))[0])
            except Exception as e:  # noqa: BLE001
                reason = describe(e)
                status = "missing" if (label == "function" and reason.startswith("missing:")) else "fail"
                return status, f"[{label} #{i}] {reason}", len(samples)
    return "pass", "", len(samples)


# ---------------------------------------------------------------------------------------------------------
# Backward

def _check_backward(op, ours_fn, sample, loose, seed):
    """Returns "skip" when the sample has nothing to differentiate in torch, else raises or returns "pass"."""
    t_inputs = [t for t in _tensors_in([sample.input, sample.args, sample.kwargs]) if t.requires_grad]
    if not t_inputs:
        return "skip"
    proc = sample.output_process_fn_grad
    try:
        torch.manual_seed(seed)
        t_out = proc(op.op(sample.input, *sample.args, **sample.kwargs))
        flat_t = _flat_tensors(t_out)
        idx = [k for k, o in enumerate(flat_t)
               if isinstance(o, torch.Tensor) and o.requires_grad and (o.is_floating_point() or o.is_complex())]
        if not idx:
            return "skip"
        g = torch.Generator().manual_seed(seed)
        cots = [torch.randn(flat_t[k].shape, dtype=flat_t[k].dtype, generator=g) for k in idx]
        t_grads = torch.autograd.grad([flat_t[k] for k in idx], t_inputs, cots, allow_unused=True,
                                      retain_graph=True)
    except Exception:  # noqa: BLE001
        return "skip"
    # ours
    memo = {}
    grad_ids = frozenset(id(t) for t in t_inputs)
    inp = to_ours(sample.input, memo, grad_ids)
    args = to_ours(list(sample.args), memo, grad_ids)
    kwargs = to_ours(dict(sample.kwargs), memo, grad_ids)
    o_inputs = [memo[id(t)][1] for t in t_inputs]
    o_proc = translate(proc) if _is_testing_function(proc) else proc
    mc.manual_seed(seed)
    o_out = o_proc(ours_fn(inp, *args, **kwargs))
    flat_o = _flat_tensors(o_out)
    if len(flat_o) != len(flat_t):
        raise Mismatch(f"{len(flat_o)} outputs, torch has {len(flat_t)}")
    for k in idx:
        if not isinstance(flat_o[k], mc.Tensor):
            raise Mismatch(f"output {k} is not a Tensor")
    tracked = [j for j, k in enumerate(idx) if flat_o[idx[j]].requires_grad]
    if len(tracked) < len(idx):
        # An output we don't track is fine only where torch's gradient through it is zero (trunc division,
        # bernoulli, lstsq's empty residuals...): torch's VJP over the tracked outputs alone must match the full one.
        untracked = [idx[j] for j in range(len(idx)) if j not in tracked]
        if tracked:
            sub = torch.autograd.grad([flat_t[idx[j]] for j in tracked], t_inputs, [cots[j] for j in tracked],
                                      allow_unused=True, retain_graph=True)
        else:
            sub = [None] * len(t_inputs)
        for full, part in zip(t_grads, sub):
            full = torch.zeros(()) if full is None else full
            part = torch.zeros(()) if part is None else part
            if not torch.allclose(full, part, rtol=BWD_TOL["rtol"], atol=BWD_TOL["atol"], equal_nan=True):
                raise Mismatch(f"output {untracked[0]} does not require grad")
        if not tracked:
            return "pass"
        t_grads = sub
    outs = [flat_o[idx[j]] for j in tracked]
    o_cots = [_from_torch(cots[j]) for j in tracked]
    o_grads = mc.autograd.grad(outs, o_inputs, o_cots, allow_unused=True)
    if len(o_grads) != len(t_grads):
        raise Mismatch(f"{len(o_grads)} grads, torch has {len(t_grads)}")
    for k, (og, tg) in enumerate(zip(o_grads, t_grads)):
        if tg is None:
            if og is not None and bool((_to_torch(og) != 0).any()):
                raise Mismatch(f"grad[{k}]: torch has none (unused input), ours is nonzero")
            continue
        if og is None:
            if bool((tg != 0).any()):
                raise Mismatch(f"grad[{k}]: ours is None, torch's is nonzero")
            continue
        compare(og, tg, ENTRY_TOL.get(entry_id(op), (None, BWD_TOL))[1], loose, where=f"grad[{k}]")
    return "pass"


def backward_status(op, eid):
    if not op.supports_autograd:
        return "n/a", "no autograd in torch"
    dtype = pick_dtype(op, backward=True)
    if dtype is None:
        return "n/a", "no float32 autograd in torch on the CPU"
    resolved = {}

    def ours_fn(*a, **k):  # resolved on first use: an entry torch can't differentiate here is "skip", not "missing"
        if "fn" not in resolved:
            resolved["fn"] = resolve_op(op)
        return resolved["fn"](*a, **k)

    try:
        with _quiet():
            samples = _samples(op, dtype, True, BWD_SAMPLES, _seed_for(eid, 1000))
    except Exception as e:  # noqa: BLE001
        return "skip", f"torch sample_inputs failed: {type(e).__name__}: {_first_line(e)}"
    loose = op.name in NONDETERMINISTIC
    checked = 0
    for i, sample in enumerate(samples):
        if _numel(sample) > MAX_NUMEL or _storage_dependent(op, sample):
            continue
        _note(f"backward #{i}")
        try:
            with _quiet():
                r = _check_backward(op, ours_fn, sample, loose or _draws_dropout(eid, sample), _seed_for(eid, 2000 + i))
        except Exception as e:  # noqa: BLE001
            reason = describe(e)
            return _status_of(reason), f"[#{i}] {reason}"
        if r == "pass":
            checked += 1
    if checked == 0:
        return "skip", "no differentiable sample"
    return "pass", ""


# ---------------------------------------------------------------------------------------------------------
# Error inputs

def _aliased(sample):
    """Tensors overlapping themselves (expanded) or each other: errors about memory overlap (`out=` aliasing an
    input, ...) cannot be reproduced on converted copies."""
    ts = _tensors_in([sample.input, sample.args, sample.kwargs])
    ptrs = set()
    for t in ts:
        if t.numel() == 0:
            continue
        if torch._debug_has_internal_overlap(t) != 0:
            return True
        p = t.untyped_storage().data_ptr()
        if p in ptrs:
            return True
        ptrs.add(p)
    return False


def errors_status(op, eid, forward="pass"):
    if op.error_inputs_func is None:
        return "n/a", ""
    if forward == "skip":
        return "n/a", "no forward sample runs on the CPU"
    ours_fn = None
    try:
        with _quiet():
            torch.manual_seed(_seed_for(eid, 3000))
            errs = list(itertools.islice(op.error_inputs("cpu"), ERR_SAMPLES))
    except Exception as e:  # noqa: BLE001
        return "n/a", f"torch error_inputs failed: {type(e).__name__}"
    checked = 0
    for i, ei in enumerate(errs):
        s = ei.sample_input
        try:
            if _numel(s) > MAX_NUMEL or _aliased(s):
                continue
        except Exception:  # noqa: BLE001
            continue
        _note(f"errors #{i}")
        try:  # torch must raise the advertised type here, else the input tells us nothing
            with _quiet():
                op.op(s.input, *s.args, **s.kwargs)
            continue
        except Exception as e:  # noqa: BLE001
            if not isinstance(e, ei.error_type):
                continue
            t_exc = e
        try:
            if ours_fn is None:
                ours_fn = resolve_op(op)
            memo = {}
            inp = to_ours(s.input, memo)
            args = to_ours(list(s.args), memo)
            kwargs = to_ours(dict(s.kwargs), memo)
            with _quiet():
                ours_fn(inp, *args, **kwargs)
        except Exception as e:  # noqa: BLE001
            if isinstance(e, (MissingOp,)):
                return "missing", f"[#{i}] {describe(e)}"
            if isinstance(e, type(t_exc)):
                checked += 1
                continue
            return "fail", (f"[#{i}] raised {type(e).__name__} ({_first_line(e, 80)}), torch raises "
                            f"{type(t_exc).__name__}")
        return "fail", f"[#{i}] did not raise; torch raises {type(t_exc).__name__} ({_first_line(t_exc, 80)})"
    return ("pass", "") if checked else ("n/a", "torch raised on no error input")


# ---------------------------------------------------------------------------------------------------------
# One entry

def run_entry(op, eid=None, partial=None):
    """The whole check for one OpInfo entry, as a JSON-friendly dict. partial(rec) is called after each stage
    with what is known so far (the runner keeps it in case a later stage crashes or hangs)."""
    eid = eid or entry_id(op)
    rec = {"id": eid, "forward": None, "forward_reason": "", "backward": None, "backward_reason": "",
           "errors": None, "errors_reason": "", "samples": 0, "seconds": 0.0}
    t0 = time.perf_counter()
    _note("forward")
    rec["forward"], rec["forward_reason"], rec["samples"] = forward_status(op, eid)
    if partial:
        partial(dict(rec))
    _note("backward")
    rec["backward"], rec["backward_reason"] = backward_status(op, eid)
    if partial:
        partial(dict(rec))
    _note("errors")
    rec["errors"], rec["errors_reason"] = errors_status(op, eid, rec["forward"])
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    return rec


# ---------------------------------------------------------------------------------------------------------
# Server mode (`python opinfo_harness.py --serve`): what runner.py talks to. One JSON object per line:
#   -> {"ready": true, "ids": [...]}                      once started
#   <- {"run": "<id>"}                                     one entry
#   -> {"progress": "forward method #3"} ... {"partial": {...}} ... {"result": {...}}
# The child can crash (a signal in MLX) or hang without taking the caller (a pytest worker) down.

def serve():
    import faulthandler
    import json
    import os
    import sys

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from ops go to stderr, never into the protocol
    sys.stdout = sys.stderr
    faulthandler.enable()

    def send(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    global PROGRESS
    PROGRESS = lambda msg: send({"progress": msg})  # noqa: E731
    by_id = dict(entries())
    send({"ready": True, "ids": list(by_id)})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        eid = req["run"]
        op = by_id.get(eid)
        if op is None:
            send({"result": {"id": eid, "forward": "skip", "forward_reason": "unknown entry", "backward": "n/a",
                             "backward_reason": "", "errors": "n/a", "errors_reason": "", "samples": 0,
                             "seconds": 0.0}})
            continue
        rec = run_entry(op, eid, partial=lambda r: send({"partial": r}))
        send({"result": rec})


if __name__ == "__main__":
    import sys as _sys

    if "--serve" in _sys.argv:
        serve()
    else:
        print(__doc__)
