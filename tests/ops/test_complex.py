"""Complex helpers against torch: angle, polar, complex, conj_physical(_), resolve_conj, resolve_neg, is_conj,
is_neg — values, dtypes, gradients (torch's conventions at zero / negative magnitudes), errors, out=."""
import math

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch

SPECIAL = [0j, complex(-0.0, 0.0), complex(0.0, -0.0), complex(-0.0, -0.0), 1 + 1j, -2 + 0j, -2 - 0.0j, 3j, -1.5j,
           complex(math.inf, 1), complex(1, -math.inf), complex(math.nan, 0), 0.3 - 2.2j]


def _c(values):
    return torch.tensor(values, dtype=torch.complex64)


def _vjp(fn_t, fn_m, inputs, seed=0):
    """Forward + gradient of every input for a random cotangent, torch vs ours."""
    ts = [x.clone().requires_grad_() for x in inputs]
    ms = [to_mc(x).requires_grad_() for x in inputs]
    yt, ym = fn_t(*ts), fn_m(*ms)
    assert_same(ym, yt)
    cot = torch.randn(yt.shape, dtype=yt.dtype, generator=torch.Generator().manual_seed(seed))
    gt = torch.autograd.grad(yt, ts, cot)
    gm = mc.autograd.grad(ym, ms, to_mc(cot))
    for a, b in zip(gm, gt):
        assert_same(a, b.resolve_conj(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- angle


def test_angle_complex_special_values():
    z = _c(SPECIAL)
    assert_same(mc.angle(to_mc(z)), torch.angle(z))
    assert_same(to_mc(z).angle(), z.angle())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"])
def test_angle_real(dtype):
    x = torch.tensor([-2.0, -0.0, 0.0, 3.0, math.nan, -math.inf, math.inf])
    if dtype in ("int64", "int32", "uint8", "bool"):
        x = torch.tensor([-2, 0, 3, 1]) if dtype != "uint8" else torch.tensor([0, 3, 200])
    x = x.to(getattr(torch, dtype))
    assert_same(mc.angle(to_mc(x)), torch.angle(x))


def test_angle_gradients():
    z = _c([1 + 1j, 0j, -2 + 0.5j, 3j, complex(-0.0, 0.0)])
    _vjp(torch.angle, mc.angle, [z])
    x = torch.tensor([-1.0, 0.0, 2.0, -0.0])
    _vjp(torch.angle, mc.angle, [x])
    z = torch.randn(3, 4, dtype=torch.complex64)
    _vjp(torch.angle, mc.angle, [z], seed=2)


def test_angle_double_backward():
    a = (np.random.default_rng(0).standard_normal((5,)) + 1j * np.random.default_rng(1).standard_normal((5,)))
    res = []
    for L in (torch, mc):
        z = L.from_numpy(a.astype(np.complex64)).requires_grad_()
        (g,) = L.autograd.grad(L.angle(z).sum(), z, create_graph=True)
        (gg,) = L.autograd.grad((g.real * g.imag).sum(), z)
        res.append((g, gg))
    assert_same(res[1][0], res[0][0], rtol=1e-4)
    assert_same(res[1][1], res[0][1], rtol=1e-4, atol=1e-4)


def test_angle_out_and_grad_fn():
    z = torch.randn(4, dtype=torch.complex64)
    ot, om = torch.empty(4), mc.empty(4)
    torch.angle(z, out=ot)
    assert mc.angle(to_mc(z), out=om) is om
    assert_same(om, ot)
    yt, ym = torch.angle(z.requires_grad_()), mc.angle(to_mc(z.detach()).requires_grad_())
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__


# ---------------------------------------------------------------- complex


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2,)), ((0, 2), (2,))])
def test_complex(shapes):
    g = torch.Generator().manual_seed(3)
    re, im = torch.randn(shapes[0], generator=g), torch.randn(shapes[1], generator=g)
    _vjp(torch.complex, mc.complex, [re, im])


def test_complex_special_parts_exact():
    re = torch.tensor([1.0, math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-40])
    im = torch.tensor([math.inf, 2.0, math.nan, 0.0, -0.0, -math.inf, -1e-40])
    rm = mc.complex(to_mc(re), to_mc(im))
    rt = torch.complex(re, im)
    assert_same(rm, rt)
    np.testing.assert_array_equal(np.signbit(rm.real.numpy()), np.signbit(rt.real.numpy()))
    np.testing.assert_array_equal(np.signbit(rm.imag.numpy()), np.signbit(rt.imag.numpy()))


def test_complex_out():
    re, im = torch.randn(3), torch.randn(3)
    ot, om = torch.empty(3, dtype=torch.complex64), mc.empty(3, dtype=mc.complex64)
    torch.complex(re, im, out=ot)
    assert mc.complex(to_mc(re), to_mc(im), out=om) is om
    assert_same(om, ot)


COMPLEX_ERRORS = [
    lambda L: L.complex(L.ones(2), L.ones(2, dtype=L.int32)),
    lambda L: L.complex(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
    lambda L: L.complex(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L: L.complex(L.ones(2, dtype=L.float64), L.ones(2)),
    lambda L: L.complex(L.ones(2), L.ones(2), out=L.empty(2)),
    lambda L: L.complex(L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64), out=L.empty(2, dtype=L.complex64)),
    lambda L: L.complex(L.ones(2), 1.0),
    lambda L: L.complex(L.ones(2), L.ones(3)),
    lambda L: L.complex(L.ones(2, dtype=L.bfloat16), L.ones(2, dtype=L.bfloat16)),
    lambda L: L.polar(L.ones(2), L.ones(2, dtype=L.int32)),
    lambda L: L.polar(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L: L.polar(L.ones(2, dtype=L.float16), L.ones(2, dtype=L.float16)),
    lambda L: L.polar(L.ones(2), L.ones(2), out=L.empty(2)),
    lambda L: L.polar(L.ones(2), L.ones(3)),
    lambda L: L.angle([1.0]),
    lambda L: L.conj_physical(3.0),
]


@pytest.mark.parametrize("fn", COMPLEX_ERRORS, ids=range(len(COMPLEX_ERRORS)))
def test_errors(fn):
    assert_raises_same(lambda: fn(torch), lambda: fn(mc))


@pytest.mark.parametrize("fn", [lambda L: L.complex(L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64)),
                                lambda L: L.polar(L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64)),
                                lambda L: L.complex(L.ones(2, dtype=L.float16), L.ones(2, dtype=L.float16))])
def test_complex128_and_complex32_results_raise_type_error(fn):
    fn(torch)  # torch builds complex128 / complex32, which mlx_compat does not have
    with pytest.raises(TypeError, match="complex"):
        fn(mc)


# ---------------------------------------------------------------- polar


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2,))])
def test_polar(shapes):
    g = torch.Generator().manual_seed(4)
    r, th = torch.rand(shapes[0], generator=g) + 0.1, torch.randn(shapes[1], generator=g) * 3
    _vjp(torch.polar, mc.polar, [r, th])


def test_polar_zero_and_negative_magnitudes():
    # torch's gradient uses sgn(result): 0 at abs == 0 and the sign flipped for abs < 0
    r = torch.tensor([0.0, -1.5, 2.0, -0.0, 0.0])
    th = torch.tensor([0.3, 1.0, -2.0, 0.5, 0.0])
    _vjp(torch.polar, mc.polar, [r, th])


def test_polar_double_backward():
    a, b = np.array([0.5, 1.2, 2.0], np.float32), np.array([0.1, -1.0, 2.5], np.float32)
    res = []
    for L in (torch, mc):
        r, th = L.from_numpy(a.copy()).requires_grad_(), L.from_numpy(b.copy()).requires_grad_()
        z = L.polar(r, th)
        gr, gth = L.autograd.grad((z.real * z.imag).sum(), [r, th], create_graph=True)
        res.append(L.autograd.grad((gr * gth).sum(), [r, th]))
    for a_, b_ in zip(res[1], res[0]):
        assert_same(a_, b_, rtol=1e-4, atol=1e-5)


def test_polar_values_and_out():
    r, th = torch.tensor([1.0, 2.0, math.inf]), torch.tensor([0.0, math.pi / 2, 0.0])
    assert_same(mc.polar(to_mc(r), to_mc(th)), torch.polar(r, th))
    ot, om = torch.empty(3, dtype=torch.complex64), mc.empty(3, dtype=mc.complex64)
    torch.polar(r, th, out=ot)
    assert mc.polar(to_mc(r), to_mc(th), out=om) is om
    assert_same(om, ot)


# ---------------------------------------------------------------- conjugation helpers


def test_conj_physical():
    z = _c(SPECIAL[:9])
    _vjp(torch.conj_physical, mc.conj_physical, [z])
    _vjp(lambda t: t.conj_physical(), lambda t: t.conj_physical(), [torch.randn(2, 3, dtype=torch.complex64)])
    yt = torch.conj_physical(z.clone().requires_grad_())
    ym = mc.conj_physical(to_mc(z).requires_grad_())
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64"])
def test_conj_physical_real_is_identity(dtype):
    x = torch.tensor([1, 0, 2]).to(getattr(torch, dtype))
    xm = to_mc(x)
    assert (torch.conj_physical(x) is x) == (mc.conj_physical(xm) is xm)
    assert_same(mc.conj_physical(xm), torch.conj_physical(x))
    assert xm.conj_physical_() is xm


def test_conj_physical_out():
    z = torch.randn(3, dtype=torch.complex64)
    ot, om = torch.empty(3, dtype=torch.complex64), mc.empty(3, dtype=mc.complex64)
    torch.conj_physical(z, out=ot)
    assert mc.conj_physical(to_mc(z), out=om) is om
    assert_same(om, ot)


def test_conj_physical_inplace_values_views_and_grad():
    z = torch.randn(2, 3, dtype=torch.complex64)
    res = []
    for L, v in ((torch, z.clone()), (mc, to_mc(z))):
        leaf = v.clone().requires_grad_()
        y = leaf * 2
        view = y[0]
        r = view.conj_physical_()
        assert r is view
        (g,) = L.autograd.grad((y.real * y.imag + y.real).sum(), leaf)
        res.append((y.detach(), g))
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1], rtol=1e-4)


def test_resolve_and_bits():
    for dt in ("float32", "complex64", "int64"):
        x = torch.ones(3).to(getattr(torch, dt))
        xm = to_mc(x)
        assert mc.resolve_conj(xm) is xm and xm.resolve_conj() is xm
        assert mc.resolve_neg(xm) is xm and xm.resolve_neg() is xm
        assert mc.is_conj(xm) is torch.is_conj(x) is False
        assert mc.is_neg(xm) is torch.is_neg(x) is False
        assert xm.is_conj() is False and xm.is_neg() is False
    zc = torch.randn(3, dtype=torch.complex64)
    assert_same(mc.resolve_conj(mc.conj(to_mc(zc))), torch.resolve_conj(torch.conj(zc)))
    assert_same(mc.resolve_neg(-to_mc(zc)), torch.resolve_neg(-zc))
    # gradients flow through the identities
    _vjp(torch.resolve_conj, mc.resolve_conj, [torch.randn(3)])
    _vjp(torch.resolve_neg, mc.resolve_neg, [zc])


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_conj_physical_inplace_on_leaf_requiring_grad(dtype):
    assert_raises_same(lambda: torch.ones(2, dtype=getattr(torch, dtype), requires_grad=True).conj_physical_(),
                       lambda: mc.ones(2, dtype=getattr(mc, dtype), requires_grad=True).conj_physical_())
