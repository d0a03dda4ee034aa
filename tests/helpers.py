"""Shared helpers for comparing mlx_compat against PyTorch 2.13.

Every test in this directory runs the same operation on a torch tensor and on
an mlx_compat tensor built from the same data, and compares dtype, shape,
values (and, where torch defines them, strides / storage offsets) and the
*type* of any exception raised.
"""
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

# dtype names shared by torch and mlx_compat (mlx has no uint16/32/64 math in
# torch's sense, so the suite sticks to the classic torch dtypes).
DTYPE_NAMES = [
    "bool", "uint8", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "complex64",
]
INT_NAMES = ["uint8", "int8", "int16", "int32", "int64"]
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]


def tdt(name):
    """torch dtype by name."""
    return getattr(torch, name)


def mdt(name_or_dtype):
    """mlx_compat dtype matching a name or a torch dtype."""
    if isinstance(name_or_dtype, torch.dtype):
        name_or_dtype = str(name_or_dtype).split(".")[-1]
    return getattr(mc, name_or_dtype)


def rng(seed=0):
    return np.random.default_rng(seed)


def to_mc(t):
    """mlx_compat tensor with the same values and dtype as torch tensor t."""
    t = t.detach()
    # always copy: the numpy array must not alias the torch tensor
    if t.dtype == torch.bfloat16:
        return mc.from_numpy(np.array(t.float().numpy(), copy=True)).to(mc.bfloat16)
    return mc.from_numpy(np.array(t.numpy(), copy=True))


def both(data, dtype=None):
    """(torch_tensor, mc_tensor) built from the same numpy array / list.

    dtype may be a name ("float32"), a torch dtype or None (torch infers)."""
    if isinstance(dtype, str):
        dtype = tdt(dtype)
    if isinstance(data, np.ndarray):
        t = torch.from_numpy(data.copy())
        if dtype is not None:
            t = t.to(dtype)
    else:
        t = torch.tensor(data, dtype=dtype)
    return t, to_mc(t)


def _np_of(mc_t):
    if getattr(mc_t, "requires_grad", False):
        mc_t = mc_t.detach()
    if mc_t.is_conj() or mc_t.is_neg():  # a conjugate / negative view's values (its numpy() refuses, as torch's)
        mc_t = mc_t.resolve_conj().resolve_neg()
    if str(mc_t.dtype) == "torch.bfloat16":
        return np.asarray(mc_t.float().numpy())
    return np.asarray(mc_t.numpy())


def _np_of_torch(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        return t.float().numpy()
    return t.numpy()


def assert_same(mc_t, torch_t, check_stride=False, rtol=1e-5, atol=1e-5, equal_nan=True):
    """mc_t matches torch_t in dtype, shape, values (and layout if asked)."""
    assert str(mc_t.dtype) == str(torch_t.dtype), f"dtype {mc_t.dtype} != {torch_t.dtype}"
    assert tuple(mc_t.shape) == tuple(torch_t.shape), f"shape {tuple(mc_t.shape)} != {tuple(torch_t.shape)}"
    a = _np_of(mc_t)
    b = _np_of_torch(torch_t)
    assert a.shape == b.shape, f"numpy shape {a.shape} != {b.shape}"
    if torch_t.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64):
        np.testing.assert_array_equal(a, b)
    else:
        if torch_t.dtype == torch.float16:
            rtol, atol = max(rtol, 1e-3), max(atol, 1e-3)
        elif torch_t.dtype == torch.bfloat16:
            rtol, atol = max(rtol, 1e-2), max(atol, 1e-2)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if check_stride:
        assert_layout(mc_t, torch_t)


def assert_layout(mc_t, torch_t):
    assert tuple(mc_t.stride()) == tuple(torch_t.stride()), f"stride {mc_t.stride()} != {torch_t.stride()}"
    assert mc_t.storage_offset() == torch_t.storage_offset(), (
        f"storage_offset {mc_t.storage_offset()} != {torch_t.storage_offset()}")
    assert mc_t.is_contiguous() == torch_t.is_contiguous(), (
        f"is_contiguous {mc_t.is_contiguous()} != {torch_t.is_contiguous()}")


def run_both(fn_torch, fn_mc):
    """Run both callables; return ((torch_result, torch_exc), (mc_result, mc_exc))."""
    rt = et = rm = em = None
    try:
        rt = fn_torch()
    except Exception as e:  # noqa: BLE001
        et = e
    try:
        rm = fn_mc()
    except Exception as e:  # noqa: BLE001
        em = e
    return (rt, et), (rm, em)


def same_exc_type(ours, theirs):
    return type(ours) is type(theirs) or issubclass(type(ours), type(theirs))


def assert_same_grads(ours, theirs):
    """Compare (result, first derivatives, second derivatives, grad_fn name) of one op in mlx_compat and torch.
    A second derivative that is None on one side (no history, or torch's symbolic zero) must be zero on the other."""
    assert ours[3] == theirs[3]
    assert_same(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        assert_same(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours[2], theirs[2]):
        if a is None or b is None:
            for gg in (a, b):
                assert gg is None or not gg.abs().sum().item()
        else:
            assert_same(a, b, rtol=1e-4, atol=1e-5)


def same_outcome(f_torch, f_mc, **tol):
    """Both raise the same exception type, or give the same tensor (NaNs in the same places); warnings silenced.
    Returns ours, or None when both raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rt, et), (rm, em) = run_both(f_torch, f_mc)
    if et is not None:
        assert em is not None, f"ours returned {rm}; torch raised {type(et).__name__}: {et}"
        assert same_exc_type(em, et), f"ours raised {type(em).__name__}: {em}; torch {type(et).__name__}: {et}"
        return None
    assert em is None, f"ours raised {type(em).__name__}: {em}; torch returned {rt}"
    assert_same(rm, rt, **tol)
    return rm


def assert_raises_same(fn_torch, fn_mc):
    """torch raises; ours raises an exception of the same (or a sub-) type."""
    try:
        fn_torch()
    except Exception as e:  # noqa: BLE001
        theirs = e
    else:
        raise AssertionError("test bug: torch did not raise")
    try:
        fn_mc()
    except Exception as e:  # noqa: BLE001
        ours = e
    else:
        raise AssertionError(f"mlx_compat did not raise; torch raised {type(theirs).__name__}: {theirs}")
    assert same_exc_type(ours, theirs), (
        f"mlx_compat raised {type(ours).__name__}: {ours}; torch raised {type(theirs).__name__}: {theirs}")


def assert_same_outcome(fn_torch, fn_mc, check_stride=False, **kw):
    """Either both raise the same exception type, or both return matching tensors/values."""
    (rt, et), (rm, em) = run_both(fn_torch, fn_mc)
    if et is not None:
        assert em is not None, f"mlx_compat returned {rm!r}; torch raised {type(et).__name__}: {et}"
        assert same_exc_type(em, et), (
            f"mlx_compat raised {type(em).__name__}: {em}; torch raised {type(et).__name__}: {et}")
        return None, None
    if em is not None:
        raise AssertionError(f"mlx_compat raised {type(em).__name__}: {em}; torch returned a result") from em
    if isinstance(rt, torch.Tensor):
        assert_same(rm, rt, check_stride=check_stride, **kw)
    else:
        assert rm == rt
    return rt, rm


def src_id(fn, maxlen=60):
    """Readable, stable pytest id for a lambda: the source text of its body."""
    import linecache
    if not callable(fn) or not hasattr(fn, "__code__"):
        return None
    try:
        # skip RESUME & co (columns 0..0); what remains spans the lambda body
        pos = [p for p in fn.__code__.co_positions() if None not in p and p[3] > p[2]]
        if not pos:
            raise ValueError
        l0 = min(p[0] for p in pos)
        l1 = max(p[1] for p in pos)
        c0 = min(p[2] for p in pos if p[0] == l0)
        c1 = max(p[3] for p in pos if p[1] == l1)
        fname = fn.__code__.co_filename
        lines = [linecache.getline(fname, i) for i in range(l0, l1 + 1)]
        if len(lines) == 1:
            text = lines[0][c0:c1]
        else:
            text = lines[0][c0:] + "".join(lines[1:-1]) + lines[-1][:c1]
        text = " ".join(text.split())
    except Exception:  # noqa: BLE001
        text = getattr(fn, "__name__", "fn")
    return text[:maxlen] if text else "fn"


def refs_stable(fn, *objs, n=300):
    """Whether n more calls of fn() leave every object's reference count as one warm-up call left it."""
    fn()
    before = [sys.getrefcount(o) for o in objs]
    for _ in range(n):
        fn()
    return [sys.getrefcount(o) for o in objs] == before


def raised(fn):
    """The exception fn() raises (an AssertionError if it raises none)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return e
    raise AssertionError("no exception")


def run_fake_gpu(script, *argv, timeout=300):
    """Run the Python source `script` (with argv) in a subprocess under the package's fake GPU (Note [Fake GPU]:
    'cuda' is MLX's CPU with the GPU's bookkeeping), assert that it exited cleanly, and return its stdout."""
    import os
    import subprocess

    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1")
    r = subprocess.run([sys.executable, "-c", script, *argv], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr[-4000:]
    return r.stdout


def fake_gpu_json(script, *argv, timeout=300):
    """run_fake_gpu's stdout's last line, a JSON document the script printed."""
    import json

    return json.loads(run_fake_gpu(script, *argv, timeout=timeout).strip().splitlines()[-1])
