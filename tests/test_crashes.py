"""The crash corpus: inputs that once killed the interpreter (a signal, an abort, a SystemError from C code
running with an exception pending). Each runs in a fresh subprocess with a timeout and must end cleanly,
the way torch ends on the same input: the same result, or the same exception type. Where torch itself
crashes on an input, the expected outcome (a clean exception of a sensible type) is written beside it."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The snippet's body runs inside a function; what it returns is printed (repr), an exception prints its type.
_WRAPPER = """
import sys
import {mod} as torch
def case():
{body}
try:
    r = case()
    print("RESULT", repr(r))
except Exception as e:
    print("EXC", type(e).__name__)
"""


def outcome(mod, body, timeout=60, env=None):
    """Run `body` with `torch` bound to `mod` in a subprocess: ('RESULT', repr) / ('EXC', type name);
    a crash (signal, abort, SystemError) or a hang fails the test."""
    code = _WRAPPER.format(mod=mod, body=textwrap.indent(textwrap.dedent(body), "    "))
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                           env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{mod}: timed out after {timeout}s")
    assert r.returncode == 0, f"{mod}: exit {r.returncode}\n{r.stderr[-2000:]}"
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("RESULT", "EXC"))]
    assert lines, r.stdout + r.stderr
    kind, _, rest = lines[-1].partition(" ")
    assert rest != "SystemError", f"{mod}: SystemError (C code ran with an exception pending)\n{r.stderr[-2000:]}"
    return kind, rest


def same_as_torch(body):
    got = outcome("mlx_compat", body)
    want = outcome("torch", body)
    assert got == want


# ---- 1. empty advanced assignment (MLX scattered into a zero-size array: SIGFPE); torch: a no-op ----
@pytest.mark.parametrize("body", [
    "x = torch.ones(2, 3); x[[0, 1], 1:1] = 1.0; return x.tolist()",
    "x = torch.ones(2, 3); x[:, 3:][[0, 1]] = 1.0; return x.tolist()",
    "x = torch.ones(2, 3); x[torch.tensor([True, False]), 1:1] = 1.0; return x.tolist()",
    "x = torch.ones(2, 3); x[[0, 1], 1:1] = torch.ones(2, 0); return x.tolist()",
    "x = torch.ones(2, 3); x[torch.tensor([], dtype=torch.int64)] = 5.0; return x.tolist()",
    "x = torch.ones(2, 3); x[[0, 1], 1:1] += 1.0; return x.tolist()",
    "x = torch.ones(2, 0); x[[0, 1]] = torch.ones(3)",
    "x = torch.ones(2, 0); x[[0, 1]] = torch.ones(2, 0); return x.shape",
])
def test_empty_advanced_assignment(body):
    same_as_torch(body)


# ---- 2. more than 64 dims: the metadata holds 64 (torch supports more; we raise cleanly) ----
@pytest.mark.parametrize("body", [
    "return torch.zeros([1] * 64).unsqueeze(0).storage_offset()",
    "y = torch.zeros(1).as_strided([1] * 64, [1] * 63 + [10**9]).unsqueeze(0); y.fill_(1)",
    "x = torch.zeros([1] * 64); x[None] = 2.0; return x.sum().item()",
    "return torch.zeros(1)[(None,) * 65].shape",
    "return torch.zeros(1).reshape([1] * 65).shape",
    "return torch.zeros(1).expand([1] * 65).shape",
])
def test_rank_over_64_raises(body):
    assert outcome("mlx_compat", body) == ("EXC", "RuntimeError")


def test_rank_64_works():
    same_as_torch("y = torch.zeros([1] * 63).unsqueeze(0); return (y.shape, y.stride(), y.storage_offset())")


# ---- 3. re-entrancy: an argument's __index__ runs Python that replaces x's storage or empties the list ----
_SWAP = """
x = torch.zeros(2000, 2000)
class I:
    def __index__(self):
        x.data = torch.zeros(1)
        return 1
"""


@pytest.mark.parametrize("call", [
    "x.select(0, I())", "x.select(I(), 0)", "x.narrow(0, I(), 1)", "x.narrow(I(), 0, 1)", "x.size(I())",
    "x.stride(I())", "x.squeeze(I())", "x.unsqueeze(I())", "x.transpose(0, I())", "x.permute(I(), 0)",
    "x.sum(I())",
])
def test_index_replacing_storage(call):
    # torch rejects some of these arguments (TypeError) or reads sizes after parsing; either way: no crash,
    # and a result is consistent with the storage in place after the call
    kind, rest = outcome("mlx_compat", _SWAP + f"r = {call}\nreturn r.shape if isinstance(r, torch.Tensor) else r")
    assert kind in ("RESULT", "EXC")
    if kind == "RESULT":
        assert "2000" not in rest


_EMPTY = """
x = torch.zeros({shape})
L = []
class I:
    def __index__(self):
        L.clear()
        return {first}
L[:] = [I(), {second}]
"""


@pytest.mark.parametrize("shape,first,second,call", [
    ("6", 2, 3, "x.reshape(L)"), ("6", 2, 3, "x.view(L)"), ("1, 3", 2, 3, "x.expand(L)"),
    ("2, 3", 1, 0, "x.permute(L)"), ("2, 1", 1, 0, "x.squeeze(L)"), ("2, 3", 1, 0, "x.sum(L)"),
])
def test_index_emptying_shape_list(shape, first, second, call):
    # torch 2.13 itself crashes on some of these (it reads the list after __index__ freed its items);
    # the package parses a snapshot of the list, so the call sees the list as it was passed
    kind, rest = outcome("mlx_compat", _EMPTY.format(shape=shape, first=first, second=second) + f"return tuple({call}.shape)")
    assert (kind, rest) != ("EXC", "SystemError")
    assert kind in ("RESULT", "EXC")


# ---- 9. SystemError: C code calling into Python/MLX with an exception pending ----
@pytest.mark.parametrize("body", [
    "torch.ones(2, 3) * (torch.ones(7) + 1)",
    "torch.ones(2, 3) + torch.ones(7)",
    "torch.zeros(0).sum([2**63])",
    "torch.zeros(3).sum([2**63])",
    "torch.zeros(3).sum(2**63)",
    "torch.zeros(3).mean([2**63])",
])
def test_no_system_error(body):
    same_as_torch(body)


# ---- 4. setters without type checks; hooks returning the wrong type ----
@pytest.mark.parametrize("body", [
    "x = torch.ones(2, requires_grad=True) * 2; x._grad_fn = 5",
    "x = torch.ones(2, requires_grad=True) * 2; x._grad_fn = None; return x.grad_fn is None",
    """
import collections
x = torch.ones(2, requires_grad=True)
x._backward_hooks = collections.OrderedDict()
h = x.register_hook(lambda g: g * 2)
(x * 1).sum().backward()
h.remove()
(x * 1).sum().backward()
return x.grad.tolist()""",
    """
x = torch.ones(2, requires_grad=True); y = x * 2; y.retain_grad()
y.grad_fn.register_hook(lambda gi, go: 1.5)
y.sum().backward()""",
    """
x = torch.ones(2, requires_grad=True); y = x * 2; z = y * 3; y.retain_grad()
z.grad_fn.register_hook(lambda gi, go: 1.5)
z.sum().backward()""",
    """
x = torch.ones(2, requires_grad=True)
hs = []
hs.append(x.register_hook(lambda g: hs[0].remove()))
x.register_hook(lambda g: g * 3)
(x * 1).sum().backward()
return x.grad.tolist()""",
])
def test_setters_and_hooks(body):
    same_as_torch(body)


def test_backward_hooks_of_wrong_type():
    # torch 2.13 accepts any object here and crashes in backward (SIGSEGV); the package refuses it
    assert outcome("mlx_compat", "x = torch.ones(2, requires_grad=True); x._backward_hooks = 5; x.sum().backward()") == (
        "EXC", "TypeError")


# ---- 5. allocation failure: MLX crashes (SIGSEGV) when it cannot allocate; torch raises RuntimeError ----
@pytest.mark.parametrize("body", [
    "return torch.ones(2**18, 2**18).sum()",
    "return torch.randn(2**20, 2**15).sum()",
    "return torch.eye(2**18).sum()",
    "return torch.zeros(2**19, 2**18, dtype=torch.float64).sum()",
])
def test_allocation_failure_raises(body):
    # each asks for >= 256 GiB: more than this machine's memory and swap
    same_as_torch(body)


def test_allocation_under_address_space_limit():
    # under `ulimit -v`, what the process can map is the limit less what it maps already
    body = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))
return torch.zeros(2**32).sum()"""
    same_as_torch(body)


# ---- 6. FFT lengths beyond MLX's int32 (an exception escaping MLX's bindings: SIGABRT) ----
@pytest.mark.parametrize("body", [
    "return torch.fft.irfft(torch.ones(3), 2**40)",
    "return torch.fft.fft(torch.ones(3), 2**40)",
    "return torch.fft.ihfft(torch.ones(3), 2**40)",
])
def test_fft_length_over_int32(body):
    # lengths torch cannot allocate (so it answers at once): the same RuntimeError
    same_as_torch(body)


@pytest.mark.parametrize("body", [
    "return torch.fft.irfft(torch.ones(3), 2**31)",
    "return torch.fft.rfftn(torch.ones(3, 3), s=(2**31, 3))",
])
def test_fft_length_just_over_int32(body):
    # torch may allocate these (16 GiB and more, so it is not run here); MLX cannot: a clean RuntimeError
    assert outcome("mlx_compat", body) == ("EXC", "RuntimeError")


# ---- 7. unpickling a crafted payload: the rebuild function takes only what pickling writes ----
def test_crafted_pickle_payload():
    body = r"""
import pickle, struct
n = 100000  # a list nested n deep, built by the (iterative) unpickler from MARK ... LIST opcodes
payload = (b"\x80\x02cmlx_compat._tensor\n_rebuild_tensor\n(" + b"(" * n + b"K\x01" + b"l" * n
           + b"X" + struct.pack("<I", 7) + b"float32\x89tR.")
return pickle.loads(payload)"""
    # torch's own rebuild functions take storages, not lists; torch.tensor on this list raises ValueError;
    # the package's rebuild function refuses anything but a numeric numpy array
    assert outcome("mlx_compat", body) == ("EXC", "TypeError")


def test_pickle_round_trip_still_works():
    body = """
import pickle
x = torch.arange(6.0).reshape(2, 3)[:, 1:]
y = pickle.loads(pickle.dumps(x))
return (y.tolist(), str(y.dtype), y.requires_grad)"""
    same_as_torch(body)


# ---- 8. private constructors reachable from Python validate their arguments ----
@pytest.mark.parametrize("body,exc", [
    ("torch.Tensor._new_on(5, 0)", "TypeError"),
    ("import mlx.core as mx\ntorch.Tensor._new_on(mx.zeros(2), 0, 40)", "ValueError"),
    ("import mlx.core as mx\nx = torch.zeros(4)\nv = x._make_view(mx.zeros(2), [2], [1], 10**9)\nv.fill_(1)",
     "RuntimeError"),
    ("import mlx.core as mx\nx = torch.zeros(4)\nv = x._make_view(mx.zeros(2), [2], [2], 2)\nv.fill_(1)", "RuntimeError"),
    ("import mlx.core as mx\nx = torch.zeros(4)\nv = x._make_view(mx.zeros(2), [2], [-1], 1)\nv.fill_(1)", "RuntimeError"),
    ("x = torch.zeros(4)\nv = x._make_view([0, 0], [2], [1], 0)\nv.fill_(1)", "TypeError"),
])
def test_private_constructors_validate(body, exc):
    # no torch counterpart (private to the package): a clean exception instead of a crash or an out-of-bounds write
    assert outcome("mlx_compat", body) == ("EXC", exc)


@pytest.mark.parametrize("body", ["return torch.tensor(1.5).size(-1)", "return torch.tensor(1.5).size(0)",
                                  "return torch.tensor(1.5).stride(0)", "return torch.zeros(()).size(dim=1)"])
def test_dim_of_zero_dim_tensor(body):
    """size(d)/stride(d) of a 0-dim tensor read past its (empty) metadata: SIGSEGV; torch's IndexError now."""
    same_as_torch(body)


def test_interpreter_exit_with_kept_tensor_objects_under_the_debug_allocator():
    """Note [Tensor free list]: dead Tensor objects kept for reuse are freed while the module still holds the
    Tensor type. Freed after it, PyObject_GC_Del read the dead type and freed the wrong address, which the debug
    allocator turns into an abort at exit. The exit code is checked by `outcome`; the values against torch's."""
    body = """
    xs = [torch.ones(3) + i for i in range(300)]
    del xs[::2]
    y = sum(x.sum() for x in xs)
    return float(y)
    """
    env = dict(os.environ, PYTHONMALLOC="debug", PYTHONIOENCODING="utf-8")
    assert outcome("mlx_compat", body, env=env) == outcome("torch", body)


# ---- integer division of the most negative value by -1, and a zero divisor while MLX traces (SIGFPE in MLX's
# integer division; Note [Integer division traps] in csrc/ops.c). torch wraps INT_MIN // -1 to INT_MIN and gives
# 0 for % and fmod by -1; its own div(rounding_mode='trunc') traps there, so that case's expectation is written out
@pytest.mark.parametrize("body", [
    "return (torch.tensor([-2**63, 7, -7]) // -1).tolist()",
    "return (torch.tensor([-2**63, 7, -7]) // torch.tensor([-1, 2, -1])).tolist()",
    "return (torch.tensor([-2**31, 5], dtype=torch.int32) // torch.tensor([-1, -2], dtype=torch.int32)).tolist()",
    "return (torch.tensor([-128, 5], dtype=torch.int8) // torch.tensor([-1, 2], dtype=torch.int8)).tolist()",
    "return (torch.tensor([-2**15], dtype=torch.int16) // -1).tolist()",
    "return (torch.tensor([-2**63, 5]) % torch.tensor([-1, 3])).tolist()",
    "return (torch.tensor([-2**63]) % -1).tolist()",
    "return torch.fmod(torch.tensor([-2**63, -5]), torch.tensor([-1, 3])).tolist()",
    "return torch.remainder(torch.tensor([-2**63]), -1).tolist()",
    "return torch.floor_divide(torch.tensor([-2**63]), torch.tensor([-1])).tolist()",
    "return torch.div(torch.tensor([-2**63]), -1, rounding_mode='floor').tolist()",
    "x = torch.tensor([-2**63, 9]); x //= -1; return x.tolist()",
    "x = torch.tensor([-2**63, 9]); x.remainder_(torch.tensor([-1, 4])); return x.tolist()",
    "return (-2**63 // torch.tensor([-1, 1])).tolist()",
    "return (torch.tensor([5]) // torch.tensor([0])).tolist()",
    "return (torch.tensor([5]) % 0).tolist()",
])
def test_integer_division_traps(body):
    same_as_torch(body)


@pytest.mark.parametrize("body, expect", [
    # torch's own kernel traps here (SIGFPE); ours wraps as its floor division does
    ("return torch.div(torch.tensor([-2**63, 7]), torch.tensor([-1, -2]), rounding_mode='trunc').tolist()",
     ("RESULT", repr([-2**63, -3]))),
    # while MLX traces, the divisor's values are not read, so a zero divisor cannot raise: x // 1, not a dead process
    ("f = torch.compile(lambda x, y: (x // y, x % y, torch.fmod(x, y)))\n"
     "return [t.tolist() for t in f(torch.tensor([5, -2**63]), torch.tensor([0, -1]))]",
     ("RESULT", repr([[5, -2**63], [0, 0], [0, 0]]))),
])
def test_integer_division_traps_where_torch_has_no_answer(body, expect):
    assert outcome("mlx_compat", body) == expect


# ---- searchsorted's sorter gathered without bounds (a far index: SIGSEGV); torch raises RuntimeError ----
@pytest.mark.parametrize("body", [
    "return torch.searchsorted(torch.tensor([5, 3, 1]), torch.tensor([3]), sorter=torch.tensor([10**6, 1, 0]))",
    "return torch.searchsorted(torch.tensor([5, 3, 1]), torch.tensor([3]), sorter=torch.tensor([3, 1, 0]))",
    "return torch.searchsorted(torch.tensor([5, 3, 1]), torch.tensor([3]), sorter=torch.tensor([-5, 1, 0]))",
    "return torch.searchsorted(torch.tensor([5, 3, 1]), torch.tensor([3]), sorter=torch.tensor([2, 1, 0])).tolist()",
])
def test_searchsorted_sorter_bounds(body):
    same_as_torch(body)
