"""mlx_compat.testing against torch.testing: assert_close / assert_allclose give the same verdict and the same
exception type and message (byte for byte) on the same inputs, and make_tensor builds tensors of torch's dtypes,
shapes, value ranges and layout flags, with torch's errors."""
import math
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

from helpers import mc, run_fake_gpu, to_mc, torch

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------------- helpers


class T:
    """A tensor leaf of a test input: built as a torch tensor and as the mlx_compat tensor of the same values."""

    def __init__(self, data, dtype=None):
        self.data, self.dtype = data, dtype

    def __repr__(self):
        return f"T({np.asarray(self.data).tolist()!r}, {self.dtype})"

    def build(self, lib):
        data = self.data
        t = torch.from_numpy(data.copy()) if isinstance(data, np.ndarray) else torch.tensor(data)
        if self.dtype:
            t = t.to(getattr(torch, self.dtype))
        return t if lib is torch else to_mc(t)


def build(spec, lib):
    """The input described by spec for torch or for mlx_compat (T leaves become tensors, containers recurse)."""
    if isinstance(spec, T):
        return spec.build(lib)
    if isinstance(spec, list):
        return [build(s, lib) for s in spec]
    if isinstance(spec, tuple):
        return tuple(build(s, lib) for s in spec)
    if isinstance(spec, dict):
        return {k: build(v, lib) for k, v in spec.items()}
    return spec


def outcome(fn, *args, **kwargs):
    """None if fn(*args, **kwargs) returns, else (exception type name, message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the exception is the result compared
        return type(e).__name__, str(e)
    return None


def check_same(actual, expected, **kw):
    """assert_close of the specs under torch and under mlx_compat: same pass/fail, same exception and message."""
    theirs = outcome(torch.testing.assert_close, build(actual, torch), build(expected, torch), **kw)
    ours = outcome(mc.testing.assert_close, build(actual, mc), build(expected, mc), **kw)
    assert ours == theirs
    return ours


def ids(cases):
    # no object addresses in ids (a callable msg's repr): pytest-xdist's workers must collect the same names
    return [re.sub(r" at 0x[0-9a-f]+", "", f"{i}-{c[0]!r}-{c[1]!r}-{c[2]}")[:100] for i, c in enumerate(cases)]


# ---------------------------------------------------------------------------------------------------- assert_close

CASES = [
    # default tolerances per dtype: inside and outside
    (T([1.0, 2.0, 3.0]), T([1.0, 2.0, 3.0]), {}),
    (T([1.0, 2.0, 3.0]), T([1.0, 2.000001, 3.0]), {}),
    (T([1.0, 2.0, 3.0]), T([1.0, 2.1, 3.0]), {}),
    (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), {}),
    (T([1.0, 2.0, 3.0]), T([0.0, 0.0, 3.0]), {}),
    (T([1.0, 2.0, 3.0], "float16"), T([1.0, 2.001, 3.0], "float16"), {}),
    (T([1.0, 2.0, 3.0], "float16"), T([1.0, 2.01, 3.0], "float16"), {}),
    (T([100.0, 2.0], "float16"), T([100.1, 2.0], "float16"), {}),
    (T([1.0, 2.0, 3.0], "bfloat16"), T([1.0, 2.02, 3.0], "bfloat16"), {}),
    (T([1.0, 2.0, 3.0], "bfloat16"), T([1.0, 2.1, 3.0], "bfloat16"), {}),
    (T([1.0, 2.0], "float64"), T([1.0, 2.0000001], "float64"), {}),
    (T([1.0, 2.0], "float64"), T([1.0, 2.000001], "float64"), {}),
    (T([1.0 + 1j, 2 + 2j]), T([1.0 + 1j, 2 + 2.1j]), {}),
    (T([1.0 + 1j, 2 + 2j]), T([1.0 + 1j, 2 + 2.000001j]), {}),
    # integers and bool compare exactly by default
    (T([1, 2, 3]), T([1, 2, 3]), {}),
    (T([1, 2, 3]), T([1, 2, 4]), {}),
    (T([1, 2, 3]), T([1, 5, 6]), {}),
    (T([1, 2, 3], "uint8"), T([1, 5, 4], "uint8"), {}),
    (T([1, 2, 3], "int8"), T([-128, 2, 3], "int8"), {}),
    (T([1, 2, 3], "int16"), T([1, 2, 0], "int16"), {}),
    (T([1, 2, 3], "int32"), T([1, 2, 4], "int32"), {}),
    (T([True, False]), T([True, False]), {}),
    (T([True, False]), T([False, False]), {}),
    (T([True, False]), T([True, True]), {}),
    # explicit tolerances (integers compare in the default float dtype: no uint8 wrap-around)
    (T([1.0, 2.0, 3.0]), T([1.0, 2.1, 3.0]), dict(rtol=0.1, atol=0.0)),
    (T([1.0, 2.0, 3.0]), T([1.0, 2.5, 3.0]), dict(rtol=0.1, atol=0.0)),
    (T([1.0, 2.0, 3.0]), T([1.0, 2.5, 3.0]), dict(rtol=0, atol=0)),
    (T([1.0, 2.0, 3.0]), T([1.0, 2.0, 3.0]), dict(rtol=0, atol=0)),
    (T([[1.0, 2.0], [3.0, 4.0]]), T([[1.0, 2.0], [3.0, 5.0]]), dict(rtol=0.1, atol=0.0)),
    (T([1, 2, 3], "uint8"), T([3, 5, 4], "uint8"), dict(rtol=0, atol=5)),
    (T([1, 2, 3], "uint8"), T([255, 2, 3], "uint8"), dict(rtol=0, atol=5)),
    (T([1, 2, 3]), T([1, 2, 6]), dict(rtol=0.1, atol=0.1)),
    (T([True, False]), T([False, False]), dict(rtol=0.5, atol=0.5)),
    (T([True, False]), T([False, False]), dict(rtol=0.5, atol=1.0)),
    (T([1.0], "float16"), T([1.1], "float16"), dict(rtol=0.0, atol=0.1)),
    (T([1.0, 2.0]), T([1.0, 2.0]), dict(rtol=1e-3)),
    (T([1.0, 2.0]), T([1.0, 2.0]), dict(atol=1e-3)),
    # NaN and infinities
    (T([[1.0, NAN], [3.0, 4.0]]), T([[1.0, NAN], [3.0, 4.0]]), {}),
    (T([[1.0, NAN], [3.0, 4.0]]), T([[1.0, NAN], [3.0, 4.0]]), dict(equal_nan=True)),
    (T([1.0, NAN]), T([1.0, 2.0]), dict(equal_nan=True)),
    (T([NAN, 1.0, NAN]), T([0.0, 1.0, 1.0]), {}),
    (T([1.0, INF]), T([1.0, INF]), {}),
    (T([1.0, INF]), T([1.0, -INF]), {}),
    (T([1.0, INF]), T([1.0, 1e38]), {}),
    (T([1.0, 2.0]), T([1.0, INF]), {}),
    (T([1 + 1j, complex(NAN, 0)]), T([1 + 1j, complex(NAN, 0)]), {}),
    (T([1 + 1j, complex(NAN, 0)]), T([1 + 1j, complex(NAN, 0)]), dict(equal_nan=True)),
    (T(NAN), T(NAN), {}),
    (T(NAN), T(NAN), dict(equal_nan=True)),
    # attribute mismatches
    (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
    (T([[1.0, 2.0]]), T([1.0, 2.0]), {}),
    (T([1.0, 2.0]), T([1.0, 2.0], "float64"), {}),
    (T([1, 2]), T([1.0, 2.0]), {}),
    (T([1.0, 2.0], "bfloat16"), T([1.0, 2.0], "float16"), {}),
    (T([1.0, 2.0]), T([1.0, 2.0]), dict(check_dtype=True, msg="ignored when equal")),
    # check_dtype=False: promotion to a common dtype, tolerances of the looser dtype
    (T([1.0, 2.0]), T([1.0, 2.0], "float64"), dict(check_dtype=False)),
    (T([1.0, 2.0]), T([1.0, 2.5], "float64"), dict(check_dtype=False)),
    (T([1, 2]), T([1.0, 2.5], "float16"), dict(check_dtype=False)),
    (T([1, 2]), T([1.0, 2.0], "float16"), dict(check_dtype=False)),
    (T([1, 2], "uint8"), T([1, 3], "int8"), dict(check_dtype=False)),
    (T([True, False]), T([1, 0], "int32"), dict(check_dtype=False)),
    (T([1.0, 2.0], "bfloat16"), T([1.0, 2.01], "float16"), dict(check_dtype=False)),
    (T([1.0, 2.0]), T([1 + 0j, 2 + 1j]), dict(check_dtype=False)),
    (T(1.0), T(1.1, "float64"), dict(check_dtype=False)),
    # 0-d tensors report as scalars
    (T(1.5), T(1.5), {}),
    (T(1.5), T(1.6), {}),
    (T(1.0, "bfloat16"), T(1.1, "bfloat16"), {}),
    (T(1.0, "float16"), T(1.1, "float16"), {}),
    (T(3), T(4), {}),
    (T(3), T(0), {}),
    (T(True), T(False), {}),
    (T(1 + 2j), T(1 + 3j), {}),
    # empty tensors
    (T(np.zeros((0, 3), np.float32)), T(np.zeros((0, 3), np.float32)), {}),
    (T(np.zeros((0,), np.int64)), T(np.zeros((0,), np.int64)), {}),
    (T(np.zeros((0, 3), np.float32)), T(np.zeros((3, 0), np.float32)), {}),
    # several dimensions: indices, ties (first index), percentages
    (T(np.arange(12.0).reshape(3, 4)), T(np.arange(12.0).reshape(3, 4) * 1.01), {}),
    (T(np.arange(24.0).reshape(2, 3, 4)), T(np.where(np.arange(24) % 7 == 3, 0.0, np.arange(24.0)).reshape(2, 3, 4)),
     {}),
    (T([1.0, 3.0, 3.0]), T([0.0, 1.0, 1.0]), {}),
    (T(np.ones(7)), T(np.r_[np.ones(6), 2.0]), {}),
    # Python and NumPy scalars
    (1.0, 1.0, {}),
    (1.0, 1.0 + 1e-9, {}),
    (1.0, 1.1, {}),
    (1, 2, {}),
    (1, 1, {}),
    (1, 1.0, {}),
    (1, 1.0, dict(check_dtype=False)),
    (1.0, 2, dict(check_dtype=False)),
    (1e-9, 1e-10, dict(rtol=0, atol=0)),
    (0.0, 1e-9, {}),
    (1.0, 0.0, {}),
    (1 + 2j, 1 + 2.1j, {}),
    (1 + 2j, 1 + 2j, {}),
    (NAN, NAN, {}),
    (NAN, NAN, dict(equal_nan=True)),
    (INF, INF, {}),
    (INF, -INF, {}),
    (1.0, INF, {}),
    (1.0, 1.5, dict(atol=1e-3)),
    (np.float32(1.0), np.float32(1.5), {}),
    (np.float32(1.0), 1.0, {}),
    (np.int64(3), 3, {}),
    (np.float64(1.0), 1.0, {}),
    (True, True, {}),
    (True, False, {}),
    (np.bool_(True), False, {}),
    (None, None, {}),
    (None, 1, {}),
    (1, None, {}),
    # NumPy arrays are tensor-likes
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    (np.array([1.0, 2.0]), np.array([1.0, 2.5]), {}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5]), {}),
    (np.array([1, 2]), np.array([1, 3]), {}),
    (np.array(1.0), np.array(2.0), {}),
    # complex128 NumPy arrays (beyond MLX) still compare, as torch's complex128 tensors
    (np.array([1 + 1j]), np.array([1 + 1.1j]), {}),
    (np.array([1 + 1j]), np.array([1 + 1j]), {}),
    (np.array([1 + 1j, 2]), np.array([1 + 1j]), {}),
    (np.array([1 + 1j]), np.array([1.0]), {}),
    (np.array([1 + 1j]), np.array([1.0]), dict(check_dtype=False)),
    (np.array([1 + 1j]), np.array([1 + 1j], np.complex64), {}),
    (np.array([1 + 1j]), np.array([1 + 1.000001j], np.complex64), dict(check_dtype=False)),
    (np.array(1 + 1j), np.array(1 + 2j), {}),
    (np.fft.fft(np.arange(4.0)), np.fft.fft(np.arange(4.0)) + 1e-3, {}),
    (np.ones((3, 4), complex).T, np.ones((4, 3), complex), dict(check_stride=True)),
    (np.array([1j]), np.array([complex(NAN, 0)]), dict(equal_nan=True)),
    # sequences and mappings
    ([T([1.0]), 2.0], [T([1.0]), 2.0], {}),
    ([T([1.0]), 2.0], (T([1.0]), 2.0), {}),
    ([T([1.0]), 2.0], [T([1.0]), 2.5], {}),
    ([T([1.0]), 2.0], [T([1.5]), 2.0], {}),
    ([1, 2], [1], {}),
    ([[1, 2], [3, 4]], [[1, 2], [3, 5]], {}),
    ({"a": T([1.0]), "b": [T([2.0]), 3]}, {"a": T([1.0]), "b": [T([2.0]), 3]}, {}),
    ({"a": T([1.0]), "b": [T([2.0]), 3]}, {"a": T([1.0]), "b": [T([2.0]), 4]}, {}),
    ({"a": T([1.0]), "b": [T([2.0]), 3]}, {"b": [T([2.0]), 3], "a": T([1.0, 2.0])}, {}),
    ({"a": 1, "c": 2}, {"b": 1, "c": 2}, {}),
    ({1: 1.0, "x": 2.0}, {1: 1.0, "x": 2.5}, {}),
    ({"a": [1, 2]}, {"a": [1, 2, 3]}, {}),
    ([], [], {}),
    ({}, {}, {}),
    # messages: string, callable, callable with an item path; structural errors keep their own message
    (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), dict(msg="Argh, the tensors are not close!")),
    (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), dict(msg="")),
    (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), dict(msg=lambda m: f"Header\n\n{m}\n\nFooter")),
    ([T([1.0, 2.0, 3.0])], [T([1.0, 4.0, 5.0])], dict(msg=lambda m: f"Header\n\n{m}\n\nFooter")),
    ({"k": 1.0}, {"k": 2.0}, dict(msg=str.upper)),
    (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), dict(msg="custom")),
    ([1, 2], [1], dict(msg="custom")),
    (T([1.0, 2.0]), T([1.0, 2.0]), dict(msg="custom")),
    (1.0, 2.0, dict(msg=lambda m: "callable: " + m)),
    # unsupported inputs
    (T([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    (np.array([1.0, 2.0]), T([1.0, 2.0]), {}),
    (T([1.0]), 1.0, {}),
    (1.0, T([1.0]), {}),
    ("a", "a", {}),
    ("a", "b", {}),
    ({1, 2}, {1, 2}, {}),
    (np.array(["a"]), np.array(["a"]), {}),
    ([T([1.0])], [np.array([1.0])], {}),
]


@pytest.mark.parametrize("actual, expected, kw", CASES, ids=ids(CASES))
def test_assert_close_matches_torch(actual, expected, kw):
    check_same(actual, expected, **kw)


def test_assert_close_passes_and_fails():
    """Sanity of the verdicts themselves, independent of torch."""
    mc.testing.assert_close(mc.tensor([1.0, 2.0]), mc.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
        mc.testing.assert_close(mc.tensor([1.0, 2.0]), mc.tensor([1.0, 2.1]))
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        mc.testing.assert_close(mc.tensor([1.0]), mc.tensor([1.0]), rtol=0.1)


def test_message_example_from_the_brief():
    with pytest.raises(AssertionError) as info:
        mc.testing.assert_close(mc.tensor([1.0, 2.0, 3.0]), mc.tensor([1.0, 2.5, 3.0]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)")
    with pytest.raises(AssertionError) as info:
        mc.testing.assert_close(mc.tensor([1.0, 2.0]), mc.tensor([1.0, 2.0], dtype=mc.float64))
    assert str(info.value) == "The values for attribute 'dtype' do not match: torch.float32 != torch.float64."


# a sample of random inputs: dtypes, shapes, tolerances, NaN / inf, mixed dtypes

_FUZZ_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
                "complex64"]


def _fuzz_case(r):
    d1 = _FUZZ_DTYPES[r.integers(len(_FUZZ_DTYPES))]
    d2 = d1 if r.random() < 0.6 else _FUZZ_DTYPES[r.integers(len(_FUZZ_DTYPES))]
    if {d1, d2} == {"complex64", "float64"}:  # complex128 is beyond MLX
        d2 = d1
    shape = tuple(int(s) for s in r.integers(1, 4, size=r.integers(0, 3)))
    base = r.standard_normal(shape) * 10.0 ** r.integers(-3, 4)
    if r.random() < 0.3:
        base = np.round(base)
    noise = r.standard_normal(shape) * 10.0 ** r.integers(-8, -1)
    jump = (r.random(shape) < 0.2) * r.standard_normal(shape) * 10.0 ** r.integers(-7, 0)
    pert = base * (1 + noise) + jump
    if r.random() < 0.2:
        holes = r.random(shape) < 0.3
        pert = np.where(holes, np.nan, pert)
        if r.random() < 0.5:
            base = np.where(holes, np.nan, base)
    if r.random() < 0.1:
        pert = np.where(r.random(shape) < 0.3, np.inf, pert)

    def leaf(x, d):
        x = np.array(x)
        if d == "complex64":
            x = x + 1j * (x[::-1] if x.ndim else 0.5)
        elif d == "bool" or "int" in d:
            x = np.clip(np.nan_to_num(x, nan=0, posinf=0, neginf=0), -100, 100)
            if d.startswith("uint"):
                x = np.abs(x)
        return T(x, d)

    kw = {}
    if r.random() < 0.4:
        kw = dict(rtol=float(10.0 ** r.integers(-7, 0)), atol=float(10.0 ** r.integers(-7, 0)))
    if r.random() < 0.3:
        kw["equal_nan"] = True
    if d1 != d2:
        kw["check_dtype"] = False
    return leaf(pert, d1), leaf(base, d2), kw


@pytest.mark.parametrize("seed", range(4))
def test_assert_close_random_inputs_match_torch(seed):
    r = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        cases = [_fuzz_case(r) for _ in range(150)]
    for actual, expected, kw in cases:
        check_same(actual, expected, **kw)


def test_check_stride():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, m = torch.from_numpy(x.copy()), mc.from_numpy(x.copy())
    for kw in ({}, dict(check_stride=True)):
        theirs = outcome(torch.testing.assert_close, t.t().contiguous(), t.t(), **kw)
        ours = outcome(mc.testing.assert_close, m.t().contiguous(), m.t(), **kw)
        assert ours == theirs
    assert ours == ("AssertionError", "The values for attribute 'stride()' do not match: (2, 1) != (1, 3).")


def test_subclasses():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    t, m = torch.from_numpy(x.copy()), mc.from_numpy(x.copy())
    for kw in ({}, dict(allow_subclasses=False)):
        theirs = outcome(torch.testing.assert_close, torch.nn.Parameter(t), t, **kw)
        ours = outcome(mc.testing.assert_close, mc.nn.Parameter(m), m, **kw)
        assert ours == theirs
    assert ours[1] == ("No comparison pair was able to handle inputs of type "
                       "<class 'torch.nn.parameter.Parameter'> and <class 'torch.Tensor'>.")


def test_requires_grad_and_conjugate_views():
    t = torch.tensor([1 + 2j, 3 - 1j])
    m = to_mc(t)
    assert outcome(mc.testing.assert_close, m.conj(), m) == outcome(torch.testing.assert_close, t.conj(), t)
    tg = torch.tensor([1.0, 2.0], requires_grad=True)
    mg = mc.tensor([1.0, 2.0], requires_grad=True)
    assert outcome(mc.testing.assert_close, mg * 2, mg.detach()) == outcome(torch.testing.assert_close, tg * 2,
                                                                            tg.detach())
    mc.testing.assert_close(mg * 1, mg)


def test_user_classes():
    class Thing:
        pass

    a = Thing()
    assert outcome(mc.testing.assert_close, a, a) == outcome(torch.testing.assert_close, a, a)


def test_unexpected_errors_are_runtime_errors():
    """A bool against a number and a negative tolerance are internal errors in torch (a RuntimeError chained to
    the cause); ours say the same up to torch's request to file an issue."""
    for args, kw in (((True, 1), {}), ((T([1.0]), T([2.0])), dict(rtol=-1.0, atol=0.0)),
                     ((T([1.0]), T([1.0])), dict(rtol=0.0, atol=-1.0))):
        theirs = outcome(torch.testing.assert_close, *(build(a, torch) for a in args), **kw)
        ours = outcome(mc.testing.assert_close, *(build(a, mc) for a in args), **kw)
        assert ours[0] == theirs[0] == "RuntimeError"
        assert theirs[1].startswith(ours[1])
        with pytest.raises(RuntimeError) as info:
            mc.testing.assert_close(*(build(a, mc) for a in args), **kw)
        assert info.value.__cause__ is not None


def test_default_dtype_float64_integers():
    """Integer tolerances are applied in the default float dtype, as torch's isclose does."""
    big = [2 ** 30 + 1, 5]
    for d in ("float32", "float64"):
        torch.set_default_dtype(getattr(torch, d))
        mc.set_default_dtype(getattr(mc, d))
        check_same(T(big), T([2 ** 30, 5]), rtol=0.0, atol=0.5)
        check_same(T(big), T([2 ** 30, 7]), rtol=0.0, atol=0.5)


def test_device_mismatch_on_the_fake_gpu():
    script = (
        "import mlx_compat as mc, mlx_compat.testing\n"
        "a, b = mc.tensor([1.0, 2.0]).cuda(), mc.tensor([1.0, 2.0])\n"
        "try:\n    mc.testing.assert_close(a, b)\nexcept AssertionError as e:\n    print(repr(str(e)))\n"
        "mc.testing.assert_close(a, b, check_device=False)\n"
        "mc.testing.assert_close(a, a.clone())\n"
        "try:\n    mc.testing.assert_close(a, b + 1, check_device=False)\nexcept AssertionError as e:\n"
        "    print(repr(str(e)))\n"
    )
    lines = run_fake_gpu(script).strip().splitlines()
    # torch on a CUDA machine prints the same (str(torch.device('cuda:0')) == 'cuda:0')
    assert lines[-2] == repr("The values for attribute 'device' do not match: cuda:0 != cpu.")
    assert lines[-1] == repr("Tensor-likes are not close!\n\nMismatched elements: 2 / 2 (100.0%)\n"
                             "Greatest absolute difference: 1.0 at index (0,) (up to 1e-05 allowed)\n"
                             "Greatest relative difference: 0.5 at index (0,) (up to 1.3e-06 allowed)")


def test_assert_close_is_keyword_only():
    with pytest.raises(TypeError):
        mc.testing.assert_close(mc.tensor(1.0), mc.tensor(1.0), True)


def test_no_torch_import():
    """mlx_compat.testing does not import torch."""
    code = ("import sys, mlx_compat.testing as t, mlx_compat as mc\n"
            "t.assert_close(mc.tensor([1.0]), mc.tensor([1.0])); t.make_tensor(2, dtype=mc.float32, device='cpu')\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


# ---------------------------------------------------------------------------------------------------- assert_allclose

ALLCLOSE_CASES = [
    (T([1.0, 2.0]), T([1.0, 2.0]), {}),
    (T([1.0, 2.0]), T([1.0, 2.0001]), {}),
    (T([1.0, 2.0]), T([1.0, 2.01]), {}),
    (T([1.0, 2.0], "float64"), T([1.0, 2.00001]), {}),
    (T([1.0, 2.0], "float64"), T([1.0, 2.0000001], "float64"), {}),
    (T([1.0, 2.0], "float16"), T([1.0, 2.002], "float16"), {}),
    (T([1.0, 2.0], "bfloat16"), T([1.0, 2.01], "bfloat16"), {}),
    (T([1.0, NAN]), T([1.0, NAN]), {}),
    (T([1.0, NAN]), T([1.0, NAN]), dict(equal_nan=False)),
    (T([1, 2]), T([1, 3]), {}),
    ([1.0, 2.0], [1.0, 2.5], {}),
    ([1, 2], [1, 3], {}),
    (1.0, 1.0001, {}),
    (T([1.0, 2.0]), [1.0, 2.1], {}),
    (T([1.0, 2.0]), T([1.0, 2.5]), dict(rtol=0.1, atol=0.1)),
    (T([1.0, 2.0]), T([1.0, 2.5]), dict(rtol=0.1)),
    (T([1.0, 2.0]), T([1.0, 2.5]), dict(msg="m")),
    (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
]


@pytest.mark.parametrize("actual, expected, kw", ALLCLOSE_CASES, ids=ids(ALLCLOSE_CASES))
def test_assert_allclose_matches_torch(actual, expected, kw):
    theirs = outcome(torch.testing.assert_allclose, build(actual, torch), build(expected, torch), **kw)
    ours = outcome(mc.testing.assert_allclose, build(actual, mc), build(expected, mc), **kw)
    assert ours == theirs


def test_assert_allclose_warns_as_torch():
    with pytest.warns(FutureWarning) as theirs:
        torch.testing.assert_allclose(1.0, 1.0)
    with pytest.warns(FutureWarning) as ours:
        mc.testing.assert_allclose(1.0, 1.0)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert ours[0].filename == __file__  # attributed to the caller


# ---------------------------------------------------------------------------------------------------- make_tensor

MAKE_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16",
               "bfloat16", "float32", "float64", "complex64"]


def _values(t):
    t = t.detach()
    if t.dtype == mc.bfloat16:
        t = t.float()
    return np.asarray(t.numpy())


@pytest.mark.parametrize("name", MAKE_DTYPES)
def test_make_tensor_dtype_shape_and_default_range(name):
    dtype = getattr(mc, name)
    t = mc.testing.make_tensor(40, 50, dtype=dtype, device="cpu")
    ref = torch.testing.make_tensor(40, 50, dtype=getattr(torch, name), device="cpu")
    assert str(t.dtype) == str(ref.dtype)
    assert tuple(t.shape) == tuple(ref.shape) == (40, 50)
    assert t.device.type == "cpu" and t.is_contiguous() and not t.requires_grad
    v = _values(t)
    if name == "bool":
        assert set(np.unique(v).tolist()) == {False, True}
    elif name.startswith("uint"):
        assert v.min() >= 0 and v.max() <= 9 and len(np.unique(v)) == 10
    elif "int" in name:
        assert v.min() >= -9 and v.max() <= 9 and len(np.unique(v)) == 19
    else:
        parts = [v.real, v.imag] if name == "complex64" else [v]
        for p in parts:
            # half types round to the bound itself now and then, in torch too
            assert p.min() >= -9 and (p.max() <= 9 if name in ("float16", "bfloat16") else p.max() < 9)
            assert p.min() < -8 and p.max() > 8  # spread over the range


@pytest.mark.parametrize("shape, expected", [
    ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([2, 3],), (2, 3)), ((0, 3), (0, 3)),
    (("size",), (4, 5)),
])
def test_make_tensor_shapes(shape, expected):
    if shape == ("size",):
        shape = (mc.Size([4, 5]),)
    t = mc.testing.make_tensor(*shape, dtype=mc.float32, device="cpu")
    assert tuple(t.shape) == expected
    tshape = tuple(torch.Size(s) if isinstance(s, mc.Size) else s for s in shape)
    assert tuple(torch.testing.make_tensor(*tshape, dtype=torch.float32, device="cpu").shape) == expected


@pytest.mark.parametrize("name, low, high, lo, hi", [
    ("int8", -1000, 1000, -128, 127),
    ("uint8", -5, 3, 0, 2),
    ("int64", 0.5, 3.5, 1, 3),
    ("int16", -3.5, -1.2, -3, -2),
    ("bool", 1, 2, 1, 1),
    ("float32", 0.25, 0.5, 0.25, 0.5),
    ("float64", -1e-3, 1e-3, -1e-3, 1e-3),
    ("float16", 100.0, 1e6, 100.0, 65504.0),
    ("float32", -1e39, -1e38, -3.4028234663852886e38, -1e38),
    ("complex64", 1.0, 2.0, 1.0, 2.0),
])
def test_make_tensor_bounds(name, low, high, lo, hi):
    t = mc.testing.make_tensor(20000, dtype=getattr(mc, name), device="cpu", low=low, high=high)
    v = _values(t)
    for p in ([v.real, v.imag] if name == "complex64" else [v]):
        p = p.astype(np.float64)
        assert p.min() >= lo - abs(lo) * 1e-6 and p.max() <= hi + abs(hi) * 1e-6
        if not name.startswith("float") and name != "complex64":
            assert p.min() == lo and p.max() == hi  # every integer of the range shows up in 20000 draws


def test_make_tensor_full_float_ranges():
    for name in ("float32", "float64", "bfloat16", "float16"):
        t = mc.testing.make_tensor(1000, dtype=getattr(mc, name), device="cpu", low=-INF, high=INF)
        v = _values(t)
        assert np.isfinite(v).all(), name
        big = float(mc.finfo(getattr(mc, name)).max)
        assert (v < -big / 4).any() and (v > big / 4).any(), name


@pytest.mark.parametrize("name", MAKE_DTYPES)
def test_make_tensor_exclude_zero(name):
    dtype = getattr(mc, name)
    low, high = (0, 2) if name == "bool" else (0, 2) if name.startswith("uint") else (-1, 2)
    if dtype.is_floating_point or dtype.is_complex:
        t = mc.testing.make_tensor(200, dtype=dtype, device="cpu", exclude_zero=True)
        assert (_values(t) != 0).all()
        return
    t = mc.testing.make_tensor(500, dtype=dtype, device="cpu", low=low, high=high, exclude_zero=True)
    v = _values(t)
    assert (v != 0).all()
    assert set(np.unique(v).tolist()) <= ({True} if name == "bool" else {-1, 1})


def test_make_tensor_exclude_zero_replacement_value():
    """Zeros become finfo.tiny for floating types: force them with a range below the dtype's resolution."""
    for name in ("float32", "float64", "float16", "bfloat16", "complex64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # low == high
            t = mc.testing.make_tensor(50, dtype=getattr(mc, name), device="cpu", low=0, high=0, exclude_zero=True)
            ref = torch.testing.make_tensor(50, dtype=getattr(torch, name), device="cpu", low=0, high=0,
                                            exclude_zero=True)
        assert np.array_equal(_values(t), ref.float().numpy() if name == "bfloat16" else ref.numpy())
        assert (_values(t) == float(mc.finfo(getattr(mc, name)).tiny)).all()


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64"])
def test_make_tensor_requires_grad(name):
    t = mc.testing.make_tensor(3, 4, dtype=getattr(mc, name), device="cpu", requires_grad=True)
    assert t.requires_grad and t.is_leaf
    t = mc.testing.make_tensor(3, 4, dtype=getattr(mc, name), device="cpu", requires_grad=True, noncontiguous=True)
    assert t.requires_grad and not t.is_contiguous()


@pytest.mark.parametrize("name", MAKE_DTYPES)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1), (1,), (), (0, 4), (4, 1)])
def test_make_tensor_noncontiguous(name, shape):
    t = mc.testing.make_tensor(shape, dtype=getattr(mc, name), device="cpu", noncontiguous=True)
    ref = torch.testing.make_tensor(shape, dtype=getattr(torch, name), device="cpu", noncontiguous=True)
    assert tuple(t.shape) == shape
    assert t.is_contiguous() == ref.is_contiguous() == (math.prod(shape) <= 1)
    assert tuple(t.stride()) == tuple(ref.stride())
    assert t.storage_offset() == ref.storage_offset()


def test_make_tensor_memory_format():
    t = mc.testing.make_tensor(2, 3, 4, 5, dtype=mc.float32, device="cpu", memory_format=mc.contiguous_format)
    assert tuple(t.shape) == (2, 3, 4, 5) and t.is_contiguous()
    t = mc.testing.make_tensor(2, 3, 4, 5, dtype=mc.float32, device="cpu", memory_format=mc.channels_last)
    assert tuple(t.shape) == (2, 3, 4, 5) and t.dtype == mc.float32


def test_make_tensor_uses_the_package_rng():
    mc.manual_seed(123)
    a = mc.testing.make_tensor(10, dtype=mc.float32, device="cpu")
    b = mc.testing.make_tensor(10, dtype=mc.float32, device="cpu")
    mc.manual_seed(123)
    c = mc.testing.make_tensor(10, dtype=mc.float32, device="cpu")
    assert np.array_equal(_values(a), _values(c)) and not np.array_equal(_values(a), _values(b))


def test_make_tensor_low_equals_high_warns():
    with pytest.warns(FutureWarning) as theirs:
        torch.testing.make_tensor(3, dtype=torch.float32, device="cpu", low=2, high=2)
    with pytest.warns(FutureWarning) as ours:
        t = mc.testing.make_tensor(3, dtype=mc.float32, device="cpu", low=2, high=2)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert ours[0].filename == __file__
    assert (_values(t) == 2).all()


MAKE_ERRORS = [
    dict(dtype="int64", requires_grad=True),
    dict(dtype="bool", requires_grad=True),
    dict(dtype="float32", low=3, high=2),
    dict(dtype="int32", low=3, high=3),
    dict(dtype="float32", low=NAN),
    dict(dtype="float32", high=NAN),
    dict(dtype="uint8", low=300, high=400),
    dict(dtype="uint8", low=-300, high=-200),
    dict(dtype="bool", low=2, high=3),
    dict(dtype="float16", low=1e5, high=1e6),
    dict(dtype="float32", noncontiguous=True, memory_format="channels_last"),
]


@pytest.mark.parametrize("kw", MAKE_ERRORS, ids=[str(k) for k in MAKE_ERRORS])
def test_make_tensor_errors_match_torch(kw):
    def args(lib):
        out = dict(kw, dtype=getattr(lib, kw["dtype"]))
        if "memory_format" in kw:
            out["memory_format"] = getattr(lib, kw["memory_format"])
        return out

    theirs = outcome(torch.testing.make_tensor, 2, 3, device="cpu", **args(torch))
    ours = outcome(mc.testing.make_tensor, 2, 3, device="cpu", **args(mc))
    assert theirs is not None
    assert ours == theirs


def test_make_tensor_unsupported_dtype():
    theirs = outcome(torch.testing.make_tensor, 2, dtype=None, device="cpu")
    ours = outcome(mc.testing.make_tensor, 2, dtype=None, device="cpu")
    assert ours[0] == theirs[0] == "TypeError"
    assert theirs[1].startswith(ours[1])  # torch adds where to file an issue
    with pytest.raises(TypeError):
        mc.testing.make_tensor(2, dtype=mc.float32)  # device is required


def test_make_tensor_on_the_fake_gpu():
    script = ("import mlx_compat as mc, mlx_compat.testing\n"
              "t = mc.testing.make_tensor(2, 3, dtype=mc.float32, device='cuda', noncontiguous=True)\n"
              "print(t.device, t.is_contiguous())\n")
    assert run_fake_gpu(script).strip().splitlines()[-1] == "cuda:0 False"
