"""mlx_compat._tensor_str must print tensors exactly like torch.

Every case builds a real torch tensor, formats its numpy values with
``_tensor_str.format_tensor`` and asserts character-for-character equality
with ``repr(torch_tensor)``.  All random data is seeded.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mlx_compat import _tensor_str  # noqa: E402

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _reset_print_state():
    """Every test starts and ends with default options and default dtype."""
    _reset_all()
    yield
    _reset_all()


def _reset_all():
    torch.set_printoptions(profile="default")
    _tensor_str.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def _set_both(**opts):
    """Apply the same print options to torch and to our module."""
    torch.set_printoptions(**opts)
    _tensor_str.set_printoptions(**opts)


def _name(dtype):
    return str(dtype).split(".")[-1]


def _numpy_values(t):
    """Values as the mlx_compat caller passes them (half types widened)."""
    t = t.detach()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return t.numpy()


def _ours(t, **kwargs):
    """Our repr of torch tensor ``t`` through format_tensor."""
    grad_fn = t.grad_fn
    return _tensor_str.format_tensor(
        _numpy_values(t),
        dtype_name=_name(t.dtype),
        default_float_name=_name(torch.get_default_dtype()),
        requires_grad=t.requires_grad,
        grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        **kwargs,
    )


def _check(t):
    assert _ours(t) == repr(t)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(shape, seed, dtype=torch.float32, scale=1.0):
    return (torch.randn(shape, generator=_gen(seed), dtype=torch.float64) * scale).to(dtype)


def _randint(shape, seed, low=-100, high=100, dtype=torch.int64):
    return torch.randint(low, high, shape, generator=_gen(seed), dtype=dtype)


def _randbool(shape, seed):
    return torch.rand(shape, generator=_gen(seed)) > 0.5


def _randc(shape, seed, dtype=torch.complex64, scale=1.0):
    real = _randn(shape, seed, torch.float64, scale)
    imag = _randn(shape, seed + 1000, torch.float64, scale)
    return torch.complex(real, imag).to(dtype)


def _t(data, dtype=None):
    return lambda: torch.tensor(data, dtype=dtype)


# ---------------------------------------------------------------------------
# Gallery of tensors (id -> zero-argument builder)
# ---------------------------------------------------------------------------

FLOAT_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 2, 3, 2)]


def _dtype_shape_cases():
    """Random tensors of every dtype in 0-d .. 4-d."""
    cases = {}
    for seed, shape in enumerate(SHAPES):
        tag = "x".join(map(str, shape)) or "0d"
        for dt in FLOAT_DTYPES:
            cases[f"{_name(dt)}-{tag}"] = lambda s=shape, i=seed, d=dt: _randn(s, i, d)
            cases[f"{_name(dt)}-{tag}-int-valued"] = (
                lambda s=shape, i=seed, d=dt: _randint(s, i, -50, 50).to(d)
            )
        for dt in INT_DTYPES:
            low = 0 if dt == torch.uint8 else -100
            cases[f"{_name(dt)}-{tag}"] = (
                lambda s=shape, i=seed, d=dt, lo=low: _randint(s, i, lo, 100, d)
            )
        cases[f"bool-{tag}"] = lambda s=shape, i=seed: _randbool(s, i)
        cases[f"complex64-{tag}"] = lambda s=shape, i=seed: _randc(s, i)
    return cases


SPECIAL_FLOATS = {
    "integral": _t([1.0, 2.0]),
    "integral-neg": _t([-1.0, 2.0, 300.0]),
    "mixed": _t([1.5, 2.0]),
    "neg-zero": _t([-0.0, 0.0]),
    "neg-zero-only": _t([-0.0]),
    "neg-zero-mixed": _t([-0.0, 1.5]),
    "neg-zero-int": _t([-0.0, 3.0]),
    "zeros": _t([0.0, 0.0, 0.0]),
    "nan-inf": _t([math.nan, math.inf, -math.inf]),
    "nan-int": _t([math.nan, 1.0]),
    "nan-frac": _t([math.nan, 1.25, -2.5]),
    "inf-frac": _t([math.inf, 1.5, -math.inf]),
    "nan-sci": _t([math.nan, 1e-8, 1.0]),
    "inf-sci": _t([-math.inf, 1e9, 2.0]),
    "all-nan": _t([math.nan, math.nan]),
    "tiny": _t([1e-5, 1.0]),
    "tiny-only": _t([1e-5]),
    "threshold-1e-4": _t([1e-4]),
    "huge": _t([1e8, 1.0]),
    "huge-1e9": _t([1e9]),
    "exactly-1e8": _t([1e8]),
    "huge-integral": _t([123456789.0]),
    "wide-range": _t([1e10, 1e-10]),
    "ratio-1000": _t([1000.0, 1.0]),
    "ratio-1001": _t([1001.0, 1.0]),
    "ratio-frac": _t([0.1, 100.0]),
    "ratio-frac-over": _t([0.1, 100.5]),
    "big-ints-float": _t([1e7, 2e7, -3e7]),
    "scaled-1e5": lambda: _randn((6,), 11, scale=1e5),
    "scaled-1e-5": lambda: _randn((6,), 12, scale=1e-5),
    "scaled-1e-3": lambda: _randn((2, 3), 13, scale=1e-3),
    "rounding": _t([0.99995, 9.99995, -0.00004]),
    "float16-max": _t([65504.0, -65504.0, 1.0], torch.float16),
    "float16-tiny": _t([6e-8, 1.0], torch.float16),
    "float16-frac": _t([0.1, 0.2, 0.3333], torch.float16),
    "bfloat16-huge": _t([1e38, -3.0], torch.bfloat16),
    "bfloat16-frac": _t([0.1, 1.0 / 3.0, 255.0], torch.bfloat16),
    "bfloat16-nan": _t([math.nan, -0.0, 2.0], torch.bfloat16),
    "float32-subnormal": _t([1e-40, 1.0]),
    "float64-extreme": _t([1e-300, 1e300], torch.float64),
    "float64-precise": _t([1.0 / 3.0, 2.0 / 3.0], torch.float64),
    "float64-integral": _t([1.0, -7.0], torch.float64),
    "float64-nan": _t([math.nan], torch.float64),
}

SPECIAL_INTS = {
    "int64-extremes": _t([2**62, -(2**63), 0]),
    "int64-neg": _t([-1, -22, 333]),
    "int32-extremes": _t([2**31 - 1, -(2**31)], torch.int32),
    "int16-extremes": _t([32767, -32768], torch.int16),
    "int8-extremes": _t([-128, 127, 0], torch.int8),
    "uint8-extremes": _t([0, 255, 7], torch.uint8),
    "int-zero": _t([0]),
    "bool-mixed": _t([True, False, True]),
    "bool-2d": _t([[True], [False]]),
}

SPECIAL_COMPLEX = {
    "complex-basic": _t([1 + 2j, -3.5 - 4j], torch.complex64),
    "complex-integral": _t([1 + 1j, 2 - 3j], torch.complex64),
    "complex-neg-zero-imag": lambda: torch.complex(torch.tensor([1.0, 2.0]), torch.tensor([-0.0, 0.0])),
    "complex-zero": _t([0j, 0j], torch.complex64),
    "complex-nan": lambda: torch.complex(torch.tensor([math.nan, 1.0]), torch.tensor([2.0, math.inf])),
    "complex-sci-real": _t([1e9 + 1j, 1 + 2j], torch.complex64),
    "complex-sci-imag": _t([1 + 1e-7j, 2 + 3j], torch.complex64),
    "complex-2d": lambda: _randc((3, 3), 21),
    "complex-wide": lambda: _randc((25,), 22, scale=100.0),
    "complex128": lambda: _randc((4,), 23, torch.complex128),
    "complex-0d": _t(3 - 4.25j, torch.complex64),
    "complex-0d-neg-imag": _t(-1 - 0.5j, torch.complex64),
}

SCALARS = {
    "0d-float": _t(3.5),
    "0d-float-int": _t(3.0),
    "0d-int": _t(3),
    "0d-neg-int": _t(-42),
    "0d-bool": _t(True),
    "0d-neg-zero": _t(-0.0),
    "0d-nan": _t(math.nan),
    "0d-inf": _t(-math.inf),
    "0d-tiny": _t(1e-8),
    "0d-huge": _t(1e20),
    "0d-bf16": _t(1.2345, torch.bfloat16),
    "0d-f16": _t(-7.0, torch.float16),
    "0d-f64": _t(2.0 / 3.0, torch.float64),
    "0d-uint8": _t(200, torch.uint8),
}

EMPTY = {}
for _dt in [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
            torch.int32, torch.uint8, torch.bool, torch.complex64]:
    for _shape in [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0), (1, 0, 1, 2)]:
        EMPTY[f"empty-{_name(_dt)}-{'x'.join(map(str, _shape))}"] = (
            lambda s=_shape, d=_dt: torch.empty(s, dtype=d)
        )

SUMMARIZED = {
    "arange-2000": lambda: torch.arange(2000),
    "arange-2000-float": lambda: torch.arange(2000.0),
    "randn-100x100": lambda: _randn((100, 100), 31),
    "randn-10x10x20": lambda: _randn((10, 10, 20), 32),
    "randn-2x3x20x20": lambda: _randn((2, 3, 20, 20), 33),
    "randint-50x50": lambda: _randint((50, 50), 34, -1000, 1000),
    "bool-40x40": lambda: _randbool((40, 40), 35),
    "complex-1001": lambda: _randc((1001,), 36),
    "exactly-1000": lambda: _randn((1000,), 37),
    "exactly-1001": lambda: _randn((1001,), 38),
    "3x400": lambda: _randn((3, 400), 39),
    "400x3": lambda: _randn((400, 3), 40),
    "7x7x30": lambda: _randn((7, 7, 30), 41),
    "summary-sci-hidden-middle": lambda: torch.cat([torch.ones(10), torch.full((1000,), 1e-9), torch.ones(10)]),
    "summary-ints-float-large": lambda: _randint((60, 60), 42, -10**6, 10**6).double(),
    "summary-float16": lambda: _randn((1200,), 43, torch.float16),
    "summary-bfloat16-2d": lambda: _randn((40, 40), 44, torch.bfloat16),
    "summary-uint8": lambda: _randint((1500,), 45, 0, 256, torch.uint8),
}

WIDE = {
    "wide-randn-30": lambda: _randn((30,), 51, scale=10.0),
    "wide-arange-sci": lambda: torch.arange(100.0) * 1e6,
    "wide-3x40": lambda: _randn((3, 40), 52),
    "wide-int64": lambda: _randint((30,), 53, -(10**12), 10**12),
    "wide-bool": lambda: _randbool((50,), 54),
    "wide-3d": lambda: _randn((2, 2, 25), 55, torch.float64),
    "wide-4d": lambda: _randint((2, 2, 2, 40), 56),
}

GALLERY = {
    **_dtype_shape_cases(),
    **SPECIAL_FLOATS,
    **SPECIAL_INTS,
    **SPECIAL_COMPLEX,
    **SCALARS,
    **EMPTY,
    **SUMMARIZED,
    **WIDE,
}


@pytest.mark.parametrize("case", list(GALLERY), ids=list(GALLERY))
def test_gallery_default_options(case):
    _check(GALLERY[case]())


# ---------------------------------------------------------------------------
# Print option variants crossed with a representative subset of the gallery
# ---------------------------------------------------------------------------

OPTION_VARIANTS = {
    "precision2": dict(precision=2),
    "precision0": dict(precision=0),
    "precision8": dict(precision=8),
    "threshold5": dict(threshold=5),
    "threshold0": dict(threshold=0),
    "edgeitems1": dict(edgeitems=1),
    "edgeitems0": dict(edgeitems=0),
    "edgeitems5": dict(edgeitems=5),
    "threshold10-edge0": dict(threshold=10, edgeitems=0),
    "linewidth40": dict(linewidth=40),
    "linewidth200": dict(linewidth=200),
    "linewidth10": dict(linewidth=10),
    "sci-true": dict(sci_mode=True),
    "sci-false": dict(sci_mode=False),
    "sci-true-precision1": dict(sci_mode=True, precision=1),
    "profile-short": dict(profile="short"),
    "profile-full": dict(profile="full"),
    "profile-default": dict(profile="default"),
    "profile-short-precision6": dict(profile="short", precision=6),
    "profile-full-linewidth60": dict(profile="full", linewidth=60),
    "combo": dict(threshold=10, edgeitems=2, linewidth=50, precision=3),
}

OPTION_CASES = [
    "float32-5", "float32-3x4", "float32-2x3x4", "float32-2x2x3x2", "float32-0d",
    "float64-3x4-int-valued", "bfloat16-2x3x4", "float16-5", "int64-3x4", "uint8-2x3x4",
    "bool-3x4", "complex64-3x4", "complex64-0d", "integral", "neg-zero-mixed", "nan-frac",
    "zeros", "tiny", "huge", "wide-range", "scaled-1e5", "empty-float32-0x3",
    "empty-int64-0", "arange-2000", "randn-100x100", "randn-2x3x20x20", "complex-1001",
    "wide-randn-30", "wide-int64", "wide-3d", "complex-wide", "0d-int",
]


@pytest.mark.parametrize("variant", list(OPTION_VARIANTS))
@pytest.mark.parametrize("case", OPTION_CASES)
def test_gallery_print_options(case, variant):
    _set_both(**OPTION_VARIANTS[variant])
    assert _tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    _check(GALLERY[case]())


# ---------------------------------------------------------------------------
# Autograd suffixes
# ---------------------------------------------------------------------------


def _leaf(shape, seed, dtype=torch.float32, scale=1.0):
    return _randn(shape, seed, dtype, scale).requires_grad_()


AUTOGRAD = {
    "leaf-1d": lambda: _leaf((4,), 61),
    "leaf-0d": lambda: _leaf((), 62),
    "leaf-2d": lambda: _leaf((3, 3), 63),
    "leaf-empty": lambda: torch.empty((0, 2)).requires_grad_(),
    "leaf-float64": lambda: _leaf((3,), 64, torch.float64),
    "leaf-float64-wrap": lambda: _leaf((8,), 65, torch.float64, 1000.0),
    "leaf-wide": lambda: _leaf((20,), 66),
    "leaf-summarized": lambda: _leaf((50, 50), 67),
    "mul": lambda: _leaf((4,), 68) * 2,
    "add": lambda: _leaf((2, 3), 69) + 1,
    "sum": lambda: _leaf((5,), 70).sum(),
    "view": lambda: _leaf((2, 3), 71).view(3, 2),
    "float16-mul": lambda: _leaf((6,), 72, torch.float16) * 3,
    "complex-mul": lambda: _randc((3,), 73).requires_grad_() * 2,
    "grad-wrap": lambda: _leaf((9,), 74, torch.float64, 1e4) * 1.5,
    "grad-empty": lambda: torch.empty((0,), dtype=torch.float64).requires_grad_() * 2,
}


@pytest.mark.parametrize("case", list(AUTOGRAD))
def test_autograd_suffixes(case):
    _check(AUTOGRAD[case]())


@pytest.mark.parametrize("linewidth", [20, 40, 60, 80])
def test_autograd_suffix_wrapping(linewidth):
    _set_both(linewidth=linewidth)
    _check(_leaf((6,), 75, torch.float64) * 2)


# ---------------------------------------------------------------------------
# Non-default default dtype
# ---------------------------------------------------------------------------

DEFAULT_DTYPE_CASES = {
    "float32": lambda: _randn((3,), 81, torch.float32),
    "float64": lambda: _randn((3,), 82, torch.float64),
    "float16": lambda: _randn((3,), 83, torch.float16),
    "bfloat16": lambda: _randn((3,), 84, torch.bfloat16),
    "complex64": lambda: _randc((2,), 85, torch.complex64),
    "complex128": lambda: _randc((2,), 86, torch.complex128),
    "int64": lambda: _randint((3,), 87),
    "int32": lambda: _randint((3,), 88, dtype=torch.int32),
    "bool": lambda: _randbool((3,), 89),
    "empty-float32": lambda: torch.empty((0,), dtype=torch.float32),
    "empty-float64": lambda: torch.empty((0, 2), dtype=torch.float64),
    "empty-int64": lambda: torch.empty((0,), dtype=torch.int64),
}


@pytest.mark.parametrize("default", [torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", list(DEFAULT_DTYPE_CASES))
def test_non_default_default_dtype(case, default):
    torch.set_default_dtype(default)
    _check(DEFAULT_DTYPE_CASES[case]())


# ---------------------------------------------------------------------------
# tensor_repr (torch tensors expose the same attributes as mlx_compat ones)
# ---------------------------------------------------------------------------

REPR_CASES = [
    "float32-3x4", "bfloat16-2x3x4", "float16-5", "int8-2x2x3x2", "bool-5", "complex64-3x4",
    "empty-float16-0x3", "randn-100x100", "0d-bf16",
]


@pytest.mark.parametrize("case", REPR_CASES)
def test_tensor_repr_plain(case):
    t = GALLERY[case]()
    assert _tensor_str.tensor_repr(t) == repr(t)


@pytest.mark.parametrize("case", list(AUTOGRAD))
def test_tensor_repr_autograd(case):
    t = AUTOGRAD[case]()
    assert _tensor_str.tensor_repr(t) == repr(t)


@pytest.mark.parametrize("case", ["float32", "float64", "complex128", "empty-float32"])
def test_tensor_repr_default_dtype_callable(case):
    torch.set_default_dtype(torch.float64)
    t = DEFAULT_DTYPE_CASES[case]()
    assert _tensor_str.tensor_repr(t, torch.get_default_dtype) == repr(t)
    assert _tensor_str.tensor_repr(t, "float64") == repr(t)


def test_tensor_repr_parameter():
    p = torch.nn.Parameter(_randn((2, 3), 91))
    assert "Parameter containing:\n" + _tensor_str.tensor_repr(p) == repr(p)


# ---------------------------------------------------------------------------
# Other entry points: tensor_contents, prefix, device, options API
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("contents", ["[...]", "[1, 2,\n 3]", "x" * 90])
def test_tensor_contents(contents):
    t = _randn((3,), 92, torch.float64).requires_grad_()
    assert _ours(t, tensor_contents=contents) == t.__repr__(tensor_contents=contents)


class _MyTensor(torch.Tensor):
    pass


@pytest.mark.parametrize("case", ["float32-3x4", "int64-5", "empty-float32-0x3"])
def test_subclass_prefix(case):
    t = GALLERY[case]().as_subclass(_MyTensor)
    assert _ours(t, prefix="_MyTensor(") == repr(t)


def test_device_suffix():
    values = np.array([1.0, 2.0], dtype=np.float32)
    fmt = _tensor_str.format_tensor
    assert fmt(values, dtype_name="float32", device="cuda:0") == "tensor([1., 2.], device='cuda:0')"
    assert fmt(values, dtype_name="float32", device=None) == "tensor([1., 2.])"
    assert fmt(values, dtype_name="float32", device="cpu") == "tensor([1., 2.])"
    assert (
        fmt(values, dtype_name="float16", device="cuda:1", requires_grad=True)
        == "tensor([1., 2.], device='cuda:1', dtype=torch.float16, requires_grad=True)"
    )
    assert (
        fmt(np.zeros((0, 2), np.int64), dtype_name="int64", device="mps:0")
        == "tensor([], device='mps:0', size=(0, 2), dtype=torch.int64)"
    )
    # Suffixes that would pass linewidth go onto a new line, aligned with the
    # body (torch counts the last line as its length + 2).
    wide = np.arange(20, dtype=np.float32) + 0.5
    text = fmt(wide, dtype_name="float32", device="cuda:0", grad_fn_name="AddBackward0")
    assert text == (
        "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
        "         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000,\n"
        "        16.5000, 17.5000, 18.5000, 19.5000], device='cuda:0',\n"
        "       grad_fn=<AddBackward0>)"
    )


def test_mps_statistics_in_float32():
    # torch reduces min/max in float32 on MPS, so float32(1e-4) is not < 1e-4
    # there, while on CPU (float64 comparison) it is and sci mode kicks in.
    values = np.array([1e-4], dtype=np.float32)
    fmt = _tensor_str.format_tensor
    assert fmt(values, dtype_name="float32") == "tensor([1.0000e-04])"
    assert fmt(values, dtype_name="float32", device="mps:0") == "tensor([0.0001], device='mps:0')"


def test_tensor_repr_fake_mlx_tensor():
    """tensor_repr only relies on the documented duck-typed attributes."""

    class Device:
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    class GradFn:
        pass

    class Fake:
        dtype = "torch.float16"
        device = Device()
        requires_grad = True
        grad_fn = GradFn()
        is_leaf = False

        def detach(self):
            return self

        def cpu(self):
            return self

        def float(self):
            return self

        def numpy(self):
            return np.array([0.5, 1.5], dtype=np.float32)

    assert (
        _tensor_str.tensor_repr(Fake())
        == "tensor([0.5000, 1.5000], device='cuda:0', dtype=torch.float16,\n       grad_fn=<GradFn>)"
    )


def test_set_and_get_printoptions_match_torch():
    assert _tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    for opts in OPTION_VARIANTS.values():
        _set_both(**opts)
        assert _tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    # sci_mode is reset whenever it is not passed, as in torch.
    _set_both(sci_mode=True)
    _set_both(precision=3)
    assert _tensor_str.get_printoptions()["sci_mode"] is None
    # Unknown profiles are ignored, as in torch.
    _set_both(profile="nonsense")
    assert _tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_manager():
    t = _randn((50, 50), 93)
    before = _tensor_str.get_printoptions()
    with _tensor_str.printoptions(precision=2, edgeitems=1, sci_mode=True), torch._tensor_str.printoptions(
        precision=2, edgeitems=1, sci_mode=True
    ):
        assert _tensor_str.get_printoptions()["precision"] == 2
        _check(t)
    assert _tensor_str.get_printoptions() == before
    _check(t)


def test_printoptions_restores_on_error():
    before = _tensor_str.get_printoptions()
    with pytest.raises(RuntimeError):
        with _tensor_str.printoptions(linewidth=5):
            raise RuntimeError("boom")
    assert _tensor_str.get_printoptions() == before


# ---------------------------------------------------------------------------
# Seeded random sweep: random dtype/shape/values/options, compared to torch
# ---------------------------------------------------------------------------

_FUZZ_DTYPES = FLOAT_DTYPES + INT_DTYPES + [torch.int16, torch.bool, torch.complex64]
_FUZZ_SPECIALS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, 0.5, 1e-5, 1e9, -3.0]
_FUZZ_OPTIONS = {
    "precision": [0, 1, 2, 6],
    "threshold": [0, 3, 10, 50],
    "edgeitems": [0, 1, 2, 4],
    "linewidth": [5, 30, 150],
    "sci_mode": [True, False],
    "profile": ["short", "full"],
}


def _fuzz_values(rng, n):
    """Float64 values of one random flavour: normal, integral, wide, special."""
    flavour = rng.integers(4)
    if flavour == 0:
        return rng.standard_normal(n)
    if flavour == 1:
        return rng.integers(-300, 300, n).astype(np.float64)
    if flavour == 2:
        return rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, n)
    return rng.choice(_FUZZ_SPECIALS, n)


def _fuzz_tensor(rng):
    shape = tuple(int(rng.choice([0, 1, 2, 3, 5, 12, 40])) for _ in range(rng.integers(0, 4)))
    dtype = _FUZZ_DTYPES[rng.integers(len(_FUZZ_DTYPES))]
    values = _fuzz_values(rng, int(np.prod(shape, dtype=np.int64))).reshape(shape)
    if dtype == torch.complex64:
        values = values + 1j * rng.choice([0.0, -0.0, 1.0, -2.5, 1e-7, math.nan], values.shape)
    elif dtype == torch.bool:
        values = values > 0
    elif not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        values = np.clip(np.round(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)), info.min, info.max)
        values = values.astype(np.int64)
    t = torch.tensor(values).to(dtype)
    if dtype.is_floating_point and rng.random() < 0.3:
        t = t.requires_grad_() * 2 if rng.random() < 0.5 else t.requires_grad_()
    return t


def _fuzz_options(rng):
    return {k: v[rng.integers(len(v))] for k, v in _FUZZ_OPTIONS.items() if rng.random() < 0.3}


@pytest.mark.parametrize("seed", range(200))
def test_random_sweep(seed):
    rng = np.random.default_rng(seed)
    _set_both(**_fuzz_options(rng))
    if rng.random() < 0.2:
        torch.set_default_dtype(torch.float64)
    t = _fuzz_tensor(rng)
    assert _ours(t) == repr(t)
