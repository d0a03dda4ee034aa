"""torch.signal.windows against torch: values for symmetric and periodic windows of many lengths, window
parameters, dtypes, requires_grad, and the ValueError / TypeError cases."""
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

SIMPLE = ["bartlett", "blackman", "cosine", "hamming", "hann", "nuttall", "gaussian", "exponential", "kaiser"]
LENGTHS = [0, 1, 2, 3, 4, 7, 10, 31]


def _both(name, *args, **kw):
    mkw = {k: (getattr(mc, str(v).split(".")[-1]) if isinstance(v, torch.dtype) else v) for k, v in kw.items()}
    return getattr(torch.signal.windows, name)(*args, **kw), getattr(mc.signal.windows, name)(*args, **mkw)


@pytest.mark.parametrize("name", SIMPLE)
@pytest.mark.parametrize("M", LENGTHS)
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.float64])
def test_windows(name, M, sym, dtype):
    kw = {"sym": sym}
    if dtype is not None:
        kw["dtype"] = dtype
    rt, rm = _both(name, M, **kw)
    tol = 1e-12 if dtype is torch.float64 else 1e-6
    assert_same(rm, rt, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kw", [
    ("gaussian", {"std": 0.3}), ("gaussian", {"std": 4.0}),
    ("exponential", {"tau": 0.5}), ("exponential", {"tau": 3.0, "sym": False, "center": 1.5}),
    ("exponential", {"sym": False, "center": 0.0}),
    ("kaiser", {"beta": 0.0}), ("kaiser", {"beta": 5.0}), ("kaiser", {"beta": 30.0, "sym": False}),
    ("general_cosine", {"a": [0.46, 0.23, 0.31]}), ("general_cosine", {"a": (1.0,)}),
    ("general_cosine", {"a": [0.5, 0.5], "sym": False}),
    ("general_hamming", {"alpha": 0.7}), ("general_hamming", {}), ("general_hamming", {"alpha": 0.5, "sym": False}),
])
@pytest.mark.parametrize("M", [1, 5, 12])
def test_window_parameters(name, kw, M):
    rt, rm = _both(name, M, **kw)
    assert_same(rm, rt, rtol=1e-6, atol=1e-6)
    rt, rm = _both(name, M, dtype=torch.float64, **kw)
    assert_same(rm, rt, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", SIMPLE + ["general_hamming"])
def test_requires_grad(name):
    rt, rm = _both(name, 6, requires_grad=True)
    assert rm.requires_grad == rt.requires_grad
    rt, rm = _both(name, 0, requires_grad=True)
    assert rm.requires_grad == rt.requires_grad
    assert tuple(rm.shape) == (0,)


def test_general_cosine_requires_grad():
    rt, rm = _both("general_cosine", 5, a=[0.5, 0.5], requires_grad=True)
    assert rm.requires_grad and rt.requires_grad
    assert_same(rm.detach(), rt.detach())


ERRORS = [
    lambda W, L: W.hann(-1),
    lambda W, L: W.kaiser(-3),
    lambda W, L: W.hann(4, dtype=L.int64),
    lambda W, L: W.bartlett(4, dtype=L.float16),
    lambda W, L: W.cosine(4, dtype=L.complex64),
    lambda W, L: W.gaussian(4, std=0.0),
    lambda W, L: W.gaussian(4, std=-1.0),
    lambda W, L: W.exponential(4, tau=0.0),
    lambda W, L: W.exponential(4, center=1.0),
    lambda W, L: W.kaiser(4, beta=-1.0),
    lambda W, L: W.general_cosine(4, a=[]),
    lambda W, L: W.general_cosine(4, a=3.0),
    lambda W, L: W.blackman(-2),
    lambda W, L: W.nuttall(3, dtype=L.bfloat16),
]


@pytest.mark.parametrize("fn", ERRORS, ids=range(len(ERRORS)))
def test_errors(fn):
    assert_raises_same(lambda: fn(torch.signal.windows, torch), lambda: fn(mc.signal.windows, mc))


def test_layout_strided_accepted():
    rt = torch.signal.windows.hann(5, layout=torch.strided)
    rm = mc.signal.windows.hann(5, layout=torch.strided)
    assert_same(rm, rt)
    with pytest.raises(ValueError):
        mc.signal.windows.hann(5, layout="torch.sparse_coo")


def test_default_dtype_float64():
    torch.set_default_dtype(torch.float64)
    mc.set_default_dtype(mc.float64)
    rt, rm = _both("kaiser", 9)
    assert_same(rm, rt, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- torch.*_window (mlx_compat/_ops/spectral.py)

TOP = [("hann_window", ()), ("hamming_window", ()), ("hamming_window", (0.6,)), ("hamming_window", (0.6, 0.3)),
       ("blackman_window", ()), ("bartlett_window", ()), ("kaiser_window", ()), ("kaiser_window", (3.5,))]


@pytest.mark.parametrize("name,extra", TOP, ids=str)
@pytest.mark.parametrize("M", LENGTHS)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "float16", "bfloat16"])
def test_top_level_windows(name, extra, M, periodic, dtype):
    kt = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    km = {} if dtype is None else {"dtype": getattr(mc, dtype)}
    rt = getattr(torch, name)(M, periodic, *extra, **kt)
    rm = getattr(mc, name)(M, periodic, *extra, **km)
    tol = 1e-12 if dtype == "float64" else 1e-6
    assert_same(rm, rt, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted({n for n, _ in TOP}))
def test_top_level_windows_defaults_and_requires_grad(name):
    assert_same(getattr(mc, name)(9), getattr(torch, name)(9))
    rt, rm = getattr(torch, name)(6, requires_grad=True), getattr(mc, name)(6, requires_grad=True)
    assert rm.requires_grad == rt.requires_grad and rm.is_leaf == rt.is_leaf
    assert_same(rm.detach(), rt.detach())


TOP_ERRORS = [
    lambda L: L.hann_window(-1),
    lambda L: L.hamming_window(4, dtype=L.int64),
    lambda L: L.kaiser_window(4, dtype=L.complex64),
    lambda L: L.blackman_window(3.0),
    lambda L: L.bartlett_window(-2, False),
    lambda L: L.hann_window(4, periodic=1.5),
]


@pytest.mark.parametrize("fn", TOP_ERRORS, ids=range(len(TOP_ERRORS)))
def test_top_level_window_errors(fn):
    assert_raises_same(lambda: fn(torch), lambda: fn(mc))
