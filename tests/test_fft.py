"""torch.fft against torch: values, dtypes, shapes, gradients (complex cotangents, Hermitian transforms'
half-spectrum conventions, n/s padding and truncation), errors, out=, shifts and frequency helpers."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
REAL_IN = {"rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn"}
NORMS = [None, "backward", "ortho", "forward"]


def _input(name, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    if name in REAL_IN:
        return torch.randn(shape, generator=g)
    return torch.randn(shape, dtype=torch.complex64, generator=g)


def _check(name, x, kwargs, rtol=1e-5, atol=1e-5, grad=True):
    """Forward and VJP (random cotangent of the output's dtype) of torch.fft.<name> vs ours."""
    tf, mf = getattr(torch.fft, name), getattr(mc.fft, name)
    xt = x.clone().requires_grad_(grad)
    yt = tf(xt, **kwargs).resolve_conj()
    xm = to_mc(x).requires_grad_(grad)
    ym = mf(xm, **kwargs)
    scale = max(1.0, float(yt.detach().abs().max()))
    assert_same(ym, yt, rtol=rtol, atol=atol * scale)
    if not grad:
        return
    cot = torch.randn(yt.shape, dtype=yt.dtype, generator=torch.Generator().manual_seed(1))
    (gt,) = torch.autograd.grad(yt, xt, cot)
    gt = gt.resolve_conj()
    (gm,) = mc.autograd.grad(ym, xm, to_mc(cot))
    gscale = max(1.0, float(gt.abs().max()))
    assert_same(gm, gt, rtol=1e-4, atol=1e-5 * gscale)


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("n", [None, 1, 4, 5, 7, 12])
@pytest.mark.parametrize("norm", NORMS)
def test_one_dim(name, n, norm):
    _check(name, _input(name, (3, 6)), dict(n=n, norm=norm))


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("dim", [0, 1, -2])
def test_one_dim_dim(name, dim):
    _check(name, _input(name, (5, 4, 3), seed=2), dict(dim=dim))


@pytest.mark.parametrize("name", ["irfft", "hfft"])
@pytest.mark.parametrize("length,n", [(4, None), (5, None), (4, 7), (4, 6), (6, 5), (3, 2), (2, 1)])
def test_half_spectrum_gradients(name, length, n):
    # DC / Nyquist imaginary parts are ignored by the forward and get zero gradient; other bins doubled
    _check(name, _input(name, (2, length), seed=3), dict(n=n))


KW_2D = [{}, {"norm": "ortho"}, {"norm": "forward"}, {"s": (3, 10)}, {"s": (6, 8), "dim": (0, 2)},
         {"dim": (0, -1)}, {"s": (-1, 5)}, {"dim": (2, 0)}]
KW_ND = KW_2D + [{"dim": (-3, -2, -1)}, {"dim": 1}, {"s": 4, "dim": 2}, {"s": (4, 3, 9)}, {"dim": (1,)}]


@pytest.mark.parametrize("name", [n for n in N_D if n.endswith("2")])
@pytest.mark.parametrize("kw", KW_2D, ids=str)
def test_two_dim(name, kw):
    _check(name, _input(name, (5, 6, 7), seed=4), kw, atol=3e-5)


@pytest.mark.parametrize("name", [n for n in N_D if n.endswith("n")])
@pytest.mark.parametrize("kw", KW_ND, ids=str)
def test_n_dim(name, kw):
    _check(name, _input(name, (5, 6, 7), seed=4), kw, atol=3e-5)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"])
def test_n_dim_defaults(name):
    _check(name, _input(name, (4, 3, 6), seed=5), {}, atol=3e-5)


@pytest.mark.parametrize("name", ["fft", "ifft", "fftn", "fft2", "hfft", "irfft", "irfftn"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "int32"])
def test_real_and_integer_inputs_promote(name, dtype):
    x = torch.tensor(np.random.default_rng(6).integers(-3, 4, (3, 4)).astype(np.float32)).to(getattr(torch, dtype))
    _check(name, x, {}, grad=dtype == "float32")


@pytest.mark.parametrize("name", ["rfft", "ihfft", "rfftn", "ihfftn", "rfft2"])
def test_real_transforms_of_integers(name):
    x = torch.arange(12).reshape(3, 4)
    _check(name, x, {}, grad=False)


def test_fftn_no_dims_and_zero_dim():
    x = torch.tensor(2.5)
    assert_same(mc.fft.fftn(to_mc(x)), torch.fft.fftn(x))
    y = torch.randn(3, 2)
    assert_same(mc.fft.fftn(to_mc(y), dim=()), torch.fft.fftn(y, dim=()))


def test_empty_batch():
    # (torch's own MKL path rejects some zero-size batches; the shapes and dtypes here are torch's rules)
    for name, kw in [("rfft", {}), ("irfft", {"n": 6})]:
        xi = torch.zeros(0, 4) if name == "rfft" else torch.zeros(0, 4, dtype=torch.complex64)
        ym = getattr(mc.fft, name)(to_mc(xi), **kw)
        assert tuple(ym.shape) == (0, 3 if name == "rfft" else 6)
        assert str(ym.dtype) == ("torch.complex64" if name == "rfft" else "torch.float32")


def test_double_backward():
    a = np.random.default_rng(7).standard_normal(6).astype(np.float32)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        y = L.fft.rfft(x)
        e = (y.real * y.real + y.imag * y.imag).sum()
        (g,) = L.autograd.grad(e, x, create_graph=True)
        (gg,) = L.autograd.grad((g * g).sum(), x)
        res.append((g, gg))
    assert_same(res[1][0], res[0][0], rtol=1e-4, atol=1e-4)
    assert_same(res[1][1], res[0][1], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ONE_D + N_D)
@pytest.mark.parametrize("real", [False, True])
def test_grad_fn_names(name, real):
    x = torch.randn(3, 4) if (real or name in REAL_IN) else torch.randn(3, 4, dtype=torch.complex64)
    for kw in ({}, {"dim": (1,)} if name.endswith("n") else {}):
        yt = getattr(torch.fft, name)(x.clone().requires_grad_(), **kw)
        ym = getattr(mc.fft, name)(to_mc(x).requires_grad_(), **kw)
        assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__, kw


def test_out():
    x = torch.randn(2, 5)
    ot, om = torch.empty(2, 5, dtype=torch.complex64), mc.empty(2, 5, dtype=mc.complex64)
    rt, rm = torch.fft.fft(x, out=ot), mc.fft.fft(to_mc(x), out=om)
    assert rm is om
    assert_same(om, ot)
    ot, om = torch.empty(2, 8), mc.empty(2, 8)
    xc = torch.fft.rfft(x)
    torch.fft.irfft(xc, n=8, out=ot)
    mc.fft.irfft(to_mc(xc), n=8, out=om)
    assert_same(om, ot)
    ot, om = torch.empty(2, 3, dtype=torch.complex64), mc.empty(2, 3, dtype=mc.complex64)
    torch.fft.rfft2(x, out=ot)
    mc.fft.rfft2(to_mc(x), out=om)
    assert_same(om, ot)
    assert_raises_same(lambda: torch.fft.fft(x, out=torch.empty(2, 5)), lambda: mc.fft.fft(to_mc(x), out=mc.empty(2, 5)))
    assert_raises_same(lambda: torch.fft.irfft(xc, out=torch.empty(2, 8, dtype=torch.complex64)),
                       lambda: mc.fft.irfft(to_mc(xc), out=mc.empty(2, 8, dtype=mc.complex64)))


ERRORS = [
    lambda L, x, c: L.fft.fft(L.tensor(1.0)),
    lambda L, x, c: L.fft.fftn(L.tensor(1.0), dim=(0,)),
    lambda L, x, c: L.fft.fft(x, n=0),
    lambda L, x, c: L.fft.fft(x, n=-2),
    lambda L, x, c: L.fft.irfft(L.zeros(1, dtype=L.complex64)),
    lambda L, x, c: L.fft.irfft(c, n=0),
    lambda L, x, c: L.fft.fft(x, dim=3),
    lambda L, x, c: L.fft.fft(x, norm="bad"),
    lambda L, x, c: L.fft.fftn(x, dim=(0, 0)),
    lambda L, x, c: L.fft.fftn(x, dim=(0, -2)),
    lambda L, x, c: L.fft.fftn(x, s=(2, 2, 2)),
    lambda L, x, c: L.fft.fftn(x, s=(2, 2), dim=(0,)),
    lambda L, x, c: L.fft.fftn(x, s=(0, 2)),
    lambda L, x, c: L.fft.irfftn(x, dim=()),
    lambda L, x, c: L.fft.hfftn(x, dim=()),
    lambda L, x, c: L.fft.ihfftn(x, dim=()),
    lambda L, x, c: L.fft.rfftn(x, dim=()),
    lambda L, x, c: L.fft.rfft(c),
    lambda L, x, c: L.fft.ihfft(c),
    lambda L, x, c: L.fft.rfftn(c),
    lambda L, x, c: L.fft.rfft2(c),
    lambda L, x, c: L.fft.fft(x.half()),
    lambda L, x, c: L.fft.rfft(x.bfloat16()),
    lambda L, x, c: L.fft.fft(x, n=2.0),
    lambda L, x, c: L.fft.fft(x, dim=(0,)),
    lambda L, x, c: L.fft.fft2(L.zeros(3)),
    lambda L, x, c: L.fft.fft([1.0, 2.0]),
    lambda L, x, c: L.fft.fftshift(L.tensor(1.0)),
    lambda L, x, c: L.fft.fftfreq(4, dtype=L.int64),
    lambda L, x, c: L.fft.fftfreq(4, dtype=L.complex64),
    lambda L, x, c: L.fft.fftfreq(-1),
    lambda L, x, c: L.fft.rfftfreq(4.0),
]


@pytest.mark.parametrize("fn", ERRORS, ids=range(len(ERRORS)))
def test_errors(fn):
    x = torch.randn(3, 4)
    c = torch.randn(3, 4, dtype=torch.complex64)
    assert_raises_same(lambda: fn(torch, x, c), lambda: fn(mc, to_mc(x), to_mc(c)))


@pytest.mark.parametrize("name", ONE_D + N_D)
def test_float64_raises_type_error(name):
    # torch computes float64 in complex128, which MLX lacks: a clear TypeError, never a silent float32 result
    x = mc.zeros(4, 4, dtype=mc.float64)
    with pytest.raises(TypeError, match="complex128"):
        getattr(mc.fft, name)(x)


def test_default_float64_integer_input_raises_type_error():
    mc.set_default_dtype(mc.float64)
    with pytest.raises(TypeError, match="complex128"):
        mc.fft.fft(mc.arange(4))


@pytest.mark.parametrize("fname", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("shape,dim", [((9, 10), None), ((50,), 0), ((5, 11), (1,)), ((5, 6), (0, 1)),
                                       ((5, 6, 2), (0, 2)), ((7, 3), -1), ((4, 5), [0])])
def test_shifts(fname, shape, dim):
    x = torch.randn(shape)
    kw = {} if dim is None else {"dim": dim}
    xt = x.clone().requires_grad_()
    xm = to_mc(x).requires_grad_()
    yt, ym = getattr(torch.fft, fname)(xt, **kw), getattr(mc.fft, fname)(xm, **kw)
    assert_same(ym, yt)
    cot = torch.randn(yt.shape)
    assert_same(mc.autograd.grad(ym, xm, to_mc(cot))[0], torch.autograd.grad(yt, xt, cot)[0])


def test_shift_complex():
    x = torch.randn(4, 5, dtype=torch.complex64)
    assert_same(mc.fft.fftshift(to_mc(x)), torch.fft.fftshift(x))
    assert_same(mc.fft.ifftshift(to_mc(x), dim=1), torch.fft.ifftshift(x, dim=1))


@pytest.mark.parametrize("fname", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n,d", [(1, 1.0), (2, 1.0), (5, 1.0), (8, 0.1), (9, 2.5), (0, 1.0), (7, 3)])
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_freqs(fname, n, d, dtype):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    mkw = {} if dtype is None else {"dtype": getattr(mc, dtype)}
    rt = getattr(torch.fft, fname)(n, d, **kw)
    rm = getattr(mc.fft, fname)(n, d, **mkw)
    assert_same(rm, rt, rtol=1e-7, atol=0)


def test_freqs_kwargs():
    rt = torch.fft.fftfreq(6, d=0.5, requires_grad=True)
    rm = mc.fft.fftfreq(6, d=0.5, requires_grad=True)
    assert rm.requires_grad == rt.requires_grad
    assert_same(rm, rt)
    ot, om = torch.empty(4), mc.empty(4)
    torch.fft.rfftfreq(6, out=ot)
    mc.fft.rfftfreq(6, out=om)
    assert_same(om, ot)
    mc.set_default_dtype(mc.float64)
    torch.set_default_dtype(torch.float64)
    assert_same(mc.fft.fftfreq(5), torch.fft.fftfreq(5))


def test_roundtrips():
    x = torch.randn(3, 8)
    xm = to_mc(x)
    assert_same(mc.fft.irfft(mc.fft.rfft(xm), n=8), x, atol=1e-5)
    assert_same(mc.fft.ifft(mc.fft.fft(xm)).real, x, atol=1e-5)
    assert_same(mc.fft.ihfft(mc.fft.hfft(mc.fft.ihfft(xm), n=8)), torch.fft.ihfft(x).resolve_conj(), atol=1e-5)


# ---------------------------------------------------------------- stft / istft (mlx_compat/_ops/spectral.py)


def _vjp_multi(fn_t, fn_m, inputs, rtol=1e-4):
    ts = [x.clone().requires_grad_() for x in inputs]
    ms = [to_mc(x).requires_grad_() for x in inputs]
    yt, ym = fn_t(*ts), fn_m(*ms)
    scale = max(1.0, float(yt.detach().abs().max()))
    assert_same(ym, yt, rtol=1e-5, atol=2e-6 * scale)
    cot = torch.randn(yt.shape, dtype=yt.dtype, generator=torch.Generator().manual_seed(5))
    gt = torch.autograd.grad(yt, ts, cot)
    gm = mc.autograd.grad(ym, ms, to_mc(cot))
    for a, b in zip(gm, gt):
        assert_same(a, b.resolve_conj(), rtol=rtol, atol=1e-5 * max(1.0, float(b.abs().max())))


STFT_CASES = [
    dict(n_fft=10, return_complex=True),
    dict(n_fft=10, return_complex=False),
    dict(n_fft=7, center=False, return_complex=True),
    dict(n_fft=16, hop_length=4, return_complex=True),
    dict(n_fft=16, hop_length=5, win_length=12, return_complex=True),
    dict(n_fft=16, hop_length=3, win_length=9, center=False, return_complex=True),
    dict(n_fft=16, hop_length=3, win_length=9, center=False, align_to_window=True, return_complex=True),
    dict(n_fft=8, normalized=True, return_complex=True),
    dict(n_fft=8, onesided=False, return_complex=True),
    dict(n_fft=8, pad_mode="constant", return_complex=True),
    dict(n_fft=8, pad_mode="replicate", return_complex=True),
    dict(n_fft=8, pad_mode="circular", return_complex=True),
]


@pytest.mark.parametrize("kw", STFT_CASES, ids=str)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("with_window", [False, True])
def test_stft(kw, batched, with_window):
    g = torch.Generator().manual_seed(8)
    x = torch.randn((3, 50) if batched else (50,), generator=g)
    if with_window:
        w = torch.rand(kw.get("win_length", kw["n_fft"]), generator=g) + 0.5
        _vjp_multi(lambda a, b: torch.stft(a, window=b, **kw), lambda a, b: mc.stft(a, window=b, **kw), [x, w])
    else:
        _vjp_multi(lambda a: torch.stft(a, **kw), lambda a: mc.stft(a, **kw), [x])


@pytest.mark.parametrize("complex_window", [False, True])
def test_stft_complex(complex_window):
    g = torch.Generator().manual_seed(9)
    x = torch.randn(2, 40, dtype=torch.complex64, generator=g)
    w = torch.randn(12, dtype=torch.complex64 if complex_window else torch.float32, generator=g)
    _vjp_multi(lambda a, b: torch.stft(a, 12, window=b), lambda a, b: mc.stft(a, 12, window=b), [x, w])
    xr = torch.randn(40, generator=g)
    if complex_window:
        _vjp_multi(lambda a, b: torch.stft(a, 12, window=b, return_complex=True),
                   lambda a, b: mc.stft(a, 12, window=b, return_complex=True), [xr, w])


def test_stft_method():
    x = torch.randn(30)
    assert_same(to_mc(x).stft(8, return_complex=True), x.stft(8, return_complex=True))


ISTFT_CASES = [
    dict(n_fft=10), dict(n_fft=10, center=False), dict(n_fft=16, hop_length=4), dict(n_fft=16, hop_length=4,
                                                                                       center=False),
    dict(n_fft=10, normalized=True), dict(n_fft=10, length=30), dict(n_fft=10, length=60),
    dict(n_fft=10, length=45, center=False), dict(n_fft=12, win_length=8, hop_length=2),
]


@pytest.mark.parametrize("kw", ISTFT_CASES, ids=str)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("with_window", [False, True])
def test_istft(kw, batched, with_window):
    g = torch.Generator().manual_seed(10)
    n_fft = kw["n_fft"]
    win = kw.get("win_length", n_fft)
    sig = torch.randn((2, 48) if batched else (48,), generator=g)
    w = torch.rand(win, generator=g) + 0.5 if with_window else None
    skw = {k: v for k, v in kw.items() if k != "length"}
    spec = torch.stft(sig, window=w, return_complex=True, **skw)
    spec = spec + 0.05 * torch.randn(spec.shape, dtype=spec.dtype, generator=g)  # not an exact stft
    if with_window:
        _vjp_multi(lambda a, b: torch.istft(a, window=b, **kw), lambda a, b: mc.istft(a, window=b, **kw), [spec, w])
    else:
        _vjp_multi(lambda a: torch.istft(a, **kw), lambda a: mc.istft(a, **kw), [spec])


@pytest.mark.parametrize("return_complex", [False, True])
def test_istft_twosided(return_complex):
    g = torch.Generator().manual_seed(11)
    spec = torch.randn(2, 8, 7, dtype=torch.complex64, generator=g)
    w = torch.rand(8, generator=g) + 0.5
    kw = dict(n_fft=8, onesided=False, return_complex=return_complex)
    _vjp_multi(lambda a, b: torch.istft(a, window=b, **kw), lambda a, b: mc.istft(a, window=b, **kw), [spec, w])


def test_stft_istft_roundtrip():
    x = torch.randn(64)
    w = torch.hann_window(16)
    xm, wm = to_mc(x), to_mc(w)
    r = mc.istft(mc.stft(xm, 16, hop_length=4, window=wm, return_complex=True), 16, hop_length=4, window=wm,
                 length=64)
    assert_same(r, x, atol=1e-5)


SPECTRAL_ERRORS = [
    lambda L, x, c: L.stft(x, 8),
    lambda L, x, c: L.stft(x, 0, return_complex=True),
    lambda L, x, c: L.stft(x, 100, center=False, return_complex=True),
    lambda L, x, c: L.stft(x, 8, hop_length=0, return_complex=True),
    lambda L, x, c: L.stft(x, 8, win_length=9, return_complex=True),
    lambda L, x, c: L.stft(x, 8, window=L.ones(7), return_complex=True),
    lambda L, x, c: L.stft(x, 8, align_to_window=True, return_complex=True),
    lambda L, x, c: L.stft(x.reshape(1, 2, 20), 8, return_complex=True),
    lambda L, x, c: L.stft(c.reshape(-1), 8, onesided=True),
    lambda L, x, c: L.istft(x.reshape(5, 8), 8),
    lambda L, x, c: L.istft(c, 8),
    lambda L, x, c: L.istft(c, 6, hop_length=0),
    lambda L, x, c: L.istft(c, 6, win_length=7),
    lambda L, x, c: L.istft(c, 6, window=L.ones(5)),
    lambda L, x, c: L.istft(c, 4, onesided=True),
    lambda L, x, c: L.istft(c, 4, onesided=True, return_complex=True),
    lambda L, x, c: L.istft(c, 8, window=L.zeros(8), onesided=False),
    lambda L, x, c: L.istft(c.reshape(1, 1, 4, 5), 6),
    lambda L, x, c: L.istft(L.zeros(4, 0, dtype=L.complex64), 6),
]


@pytest.mark.parametrize("fn", SPECTRAL_ERRORS, ids=range(len(SPECTRAL_ERRORS)))
def test_spectral_errors(fn):
    x = torch.randn(40)
    c = torch.randn(4, 5, dtype=torch.complex64)
    assert_raises_same(lambda: fn(torch, x, c), lambda: fn(mc, to_mc(x), to_mc(c)))
