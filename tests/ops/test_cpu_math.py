"""_ops/cpu_math.py (Note [CPU exponential]): the arithmetic float32 exp, logsumexp and gelus that replace MLX's CPU
kernels inside compiled functions, against float64 and torch, and cross entropy's and gelu's use of them."""
import mlx.core as mx
import numpy as np
import pytest

from helpers import assert_same, mc, torch
from mlx_compat._ops import cpu_math


def _ulps(y, x):
    ref = np.exp(x.astype(np.float64))
    return np.abs(y.astype(np.float64) - ref) / np.abs(np.spacing(ref.astype(np.float32))).astype(np.float64)


def test_exp_within_one_unit_in_the_last_place_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-87.3, 88.7, 400_000), -rng.exponential(3.0, 200_000),
                        np.float32(88.72283) - rng.uniform(0, 0.3, 2_000)]).astype(np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(cpu_math.exp)(mx.array(x)))
    assert _ulps(y, x).max() < 1.0
    # torch's own float32 exp, for scale: within one unit too; MLX's CPU kernel is not (up to ~64)
    assert _ulps(torch.exp(torch.from_numpy(x)).numpy(), x).max() < 1.0


def test_exp_special_values_follow_torch():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 88.72283, 88.7229, 100.0, -87.3, -200.0],
                 np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(cpu_math.exp)(mx.array(x)))
    t = torch.exp(torch.from_numpy(x)).numpy()
    assert np.isnan(y[0]) and np.array_equal(y[1:], t[1:])


def test_logsumexp_against_torch_with_infinite_rows():
    x = np.array([[1, 2, 3], [-np.inf] * 3, [np.inf, 1, 2], [np.nan, 1, 2], [-1000, 0, 1000], [-90, -95, -100]],
                 np.float32)
    with mx.stream(mx.cpu):
        y = np.array(mx.compile(lambda a: cpu_math.logsumexp(a, 1))(mx.array(x)))
    t = torch.logsumexp(torch.from_numpy(x), 1, keepdim=True).numpy()
    np.testing.assert_allclose(y, t, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_on_the_cpu_takes_the_arithmetic_exp(dtype, reduction, monkeypatch):
    calls = []
    real = cpu_math.exp
    monkeypatch.setattr(cpu_math, "exp", lambda z: calls.append(1) or real(z))
    mc.nn._loss._ce_functions_cache.clear()  # traced again, with the counting exp
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 600)) * 8).astype(np.float32)  # at least cpu_math.MIN_ELEMENTS logits
    t = rng.integers(0, 600, 64)
    t[3] = -100
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).to(getattr(L, dtype)).requires_grad_()
        loss = L.nn.functional.cross_entropy(xs, L.from_numpy(t), reduction=reduction)
        (g,) = L.autograd.grad(loss.sum(), xs)
        res.append((loss.float(), g.float()))
    mc.nn._loss._ce_functions_cache.clear()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=2e-2, atol=2e-2)
    for m, tt in zip(res[1], res[0]):
        assert_same(m, tt, **tol)
    assert len(calls) >= 2  # the forward's logsumexp and the backward's probabilities


def test_small_cross_entropy_keeps_mlx_exp(monkeypatch):
    """Below cpu_math.MIN_ELEMENTS logits the extra kernels of the arithmetic exp outweigh its time."""
    calls = []
    real = cpu_math.exp
    monkeypatch.setattr(cpu_math, "exp", lambda z: calls.append(1) or real(z))
    mc.nn._loss._ce_functions_cache.clear()
    x = mc.randn(64, 10, requires_grad=True)
    mc.nn.functional.cross_entropy(x, mc.randint(0, 10, (64,))).backward()
    mc.eval(x.grad)
    mc.nn._loss._ce_functions_cache.clear()
    assert not calls


def _ours_and_torch(fwd, bwd, torch_fn, x, g):
    """(fwd(x), bwd(x, g)) on MLX's CPU and (torch_fn(x), its input gradient for g), as numpy arrays. fwd and bwd
    run as the callers run them (their own compiled stages, Note [CPU kernels MLX vectorises]), and once more
    inside one outer mx.compile, which must give the same bits."""
    with mx.stream(mx.cpu):
        y = np.array(fwd(mx.array(x)))
        d = np.array(bwd(mx.array(x), mx.array(g)))
        np.testing.assert_array_equal(np.array(mx.compile(fwd)(mx.array(x))), y)
        np.testing.assert_array_equal(np.array(mx.compile(bwd)(mx.array(x), mx.array(g))), d)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch_fn(tx)
    (td,) = torch.autograd.grad(ty, tx, torch.from_numpy(g))
    return y, d, ty.detach().numpy(), td.numpy()


# ---------------------------------------------------------------- Note [CPU tanh gelu]
def _gelu_tanh_f64(x, g):
    """(gelu(x, 'tanh'), g * its derivative) in float64, torch's formulas."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    k = np.sqrt(2 / np.pi)
    t = np.tanh(k * (x + 0.044715 * x ** 3))
    return 0.5 * x * (1 + t), g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))


def test_gelu_tanh_no_less_accurate_than_torch():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(300_000) * 3, rng.uniform(-12, 12, 100_000)]).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y, d, ty, td = _ours_and_torch(cpu_math.gelu_tanh, cpu_math.gelu_tanh_backward,
                                   lambda t: torch.nn.functional.gelu(t, approximate="tanh"), x, g)
    y64, d64 = _gelu_tanh_f64(x, g)
    # the forward, relative to values above 1e-3: torch's 1 + tanh(u) cancels for negative u (1.5e-4 here), x / (1 + E)
    # does not; absolute errors alike (~5e-7 at values near 12)
    rel = lambda v: np.max(np.abs(v - y64) / np.maximum(np.abs(y64), 1e-3))  # noqa: E731
    assert rel(y) < 2e-6 < 1e-4 < rel(ty)
    assert np.max(np.abs(y - y64)) < 1e-6
    # the derivative: torch's 1 - tanh^2 cancels (errors to ~4e-6 here), this formula does not
    err, torch_err = np.max(np.abs(d - d64)), np.max(np.abs(td - d64))
    assert err < 1e-6 < torch_err
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d, td, rtol=1e-5, atol=1e-5)


def test_gelu_tanh_special_values_follow_torch():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 9.0, -9.0, 30.0, -30.0, -50.0, 1e10, -1e10,
                  1e20, -1e20, 3e38, -3e38, -0.7517916, 0.0, 0.0], np.float32)
    g = np.ones_like(x)
    g[-2:] = [np.inf, np.nan]
    y, d, ty, td = _ours_and_torch(cpu_math.gelu_tanh, cpu_math.gelu_tanh_backward,
                                   lambda t: torch.nn.functional.gelu(t, approximate="tanh"), x, g)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-20, equal_nan=True)  # -9: -1.3e-28, torch -0
    np.testing.assert_array_equal(np.signbit(y[~np.isnan(y)]), np.signbit(ty[~np.isnan(y)]))
    np.testing.assert_allclose(d, td, rtol=1e-6, atol=1e-6, equal_nan=True)


def _counting(monkeypatch, A, names):
    calls = []
    for name in names:
        real = getattr(A, name)
        monkeypatch.setattr(A, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    return calls


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_gelu_on_the_cpu_takes_the_arithmetic_formulas(dtype, approximate, monkeypatch):
    from mlx_compat.nn import _activation as A

    names = (["_gelu_tanh_cpu", "_gelu_tanh_bwd_cpu"] if approximate == "tanh" else
             ["_gelu_erf_d_cpu", "_times_derivative"])
    calls = _counting(monkeypatch, A, names)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 64, 160)) * 3).astype(np.float32)  # cpu_math.MIN_ELEMENTS elements and more
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).to(getattr(L, dtype)).requires_grad_()
        y = L.nn.functional.gelu(xs, approximate=approximate)
        (g,) = L.autograd.grad(y, xs, L.from_numpy(cot).to(y.dtype))
        res.append((y, g))
    assert calls == names
    for m, t in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype)
        if dtype == "float32":
            assert_same(m, t, rtol=1e-5, atol=1e-5)
        else:  # float32 arithmetic rounded once on both sides: one unit apart, and near 0 torch's float32
            # cancellation (1 + tanh(u) or 1 + erf(z) for negative x: 0 where the value is -1e-6, for one) apart
            eps = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10
            np.testing.assert_allclose(m.float().detach().numpy(), t.float().detach().numpy(), rtol=eps, atol=1e-5)


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_small_gelu_keeps_mlx_kernels(approximate, monkeypatch):
    from mlx_compat.nn import _activation as A

    calls = _counting(monkeypatch, A, ["_gelu_tanh_cpu", "_gelu_tanh_bwd_cpu", "_gelu_erf_cpu",
                                       "_gelu_erf_d_cpu", "_times_derivative"])
    x = mc.randn(64, 100, requires_grad=True)
    mc.nn.functional.gelu(x, approximate=approximate).sum().backward()
    with mc.no_grad():
        mc.nn.functional.gelu(x, approximate=approximate)
    mc.eval(x.grad)
    assert not calls


def test_large_gelu_without_a_gradient_takes_the_arithmetic_forward(monkeypatch):
    from mlx_compat.nn import _activation as A

    calls = _counting(monkeypatch, A, ["_gelu_erf_cpu", "_gelu_tanh_cpu"])
    x = (np.random.default_rng(4).standard_normal((64, 600)) * 3).astype(np.float32)
    for approximate in ("none", "tanh"):
        with mc.no_grad():
            y = mc.nn.functional.gelu(mc.from_numpy(x), approximate=approximate)
        assert_same(y, torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate), rtol=1e-5, atol=1e-5)
    assert calls == ["_gelu_erf_cpu", "_gelu_tanh_cpu"]


# ---------------------------------------------------------------- Note [CPU exact gelu]
def _gelu_f64(x, g):
    """(gelu(x), g * its derivative) in float64."""
    import math

    x, g = x.astype(np.float64), g.astype(np.float64)
    phi = 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))
    return x * phi, g * (phi + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def _gelu_erf_grad(x, g):
    return g * cpu_math.gelu_erf_with_derivative(x)[1]


def test_exact_gelu_no_less_accurate_than_torch():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(200_000) * 3, rng.uniform(-14, 14, 100_000)]).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y, d, ty, td = _ours_and_torch(lambda a: cpu_math.gelu_erf_with_derivative(a)[0], _gelu_erf_grad,
                                   torch.nn.functional.gelu, x, g)
    with mx.stream(mx.cpu):
        y_alone = np.array(cpu_math.gelu_erf(mx.array(x)))
    y64, d64 = _gelu_f64(x, g)
    rel = lambda v, ref: np.max(np.abs(v - ref) / np.maximum(np.abs(ref), 1e-3))  # noqa: E731
    # torch's 1 + erf(z) cancels for negative x (1e-3 relative here); erfc / 2 does not
    assert rel(y, y64) < 1e-6 < 1e-4 < rel(ty, y64)
    assert rel(d, d64) <= rel(td, d64)
    assert np.max(np.abs(y - y64)) < 1e-6 and np.max(np.abs(d - d64)) < 1e-6
    np.testing.assert_array_equal(y_alone, y)
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(d, td, rtol=1e-5, atol=1e-5)


def test_exact_gelu_special_values_follow_torch():
    # +inf (torch's CPU kernel: NaN, here inf as 0.5 x (1 + erf) gives) and 3e38 (torch overflows x (1 + erf))
    # are left out
    x = np.array([np.nan, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1.0, -1.0, 1.4142135, -1.4142135, 5.0, -5.0, 13.0,
                  -13.0, 1e10, -1e10, 1e20, -1e20, -3e38], np.float32)
    y, d, ty, td = _ours_and_torch(cpu_math.gelu_erf, _gelu_erf_grad, torch.nn.functional.gelu, x, np.ones_like(x))
    # atol: at -5 torch's 1 + erf cancels (-1.19e-6; the value is -1.43e-6)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=3e-7, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(y[~np.isnan(y)]), np.signbit(ty[~np.isnan(y)]))
    np.testing.assert_allclose(d, td, rtol=2e-6, atol=3e-7, equal_nan=True)


# ---------------------------------------------------------------- Note [CPU kernels MLX vectorises]
def _graph_labels(outputs):
    """The primitive names of the unevaluated graph behind outputs (mx.export_to_dot's node labels)."""
    import io
    import re

    f = io.StringIO()
    mx.export_to_dot(f, outputs)
    return re.findall(r'label ?= ?"([^" ]*)', f.getvalue())


@pytest.mark.parametrize("name, kernels", [("silu", 4), ("silu_backward", 5), ("gelu_tanh", 4),
                                           ("gelu_tanh_backward", 5), ("gelu_erf", 5), ("gelu_erf_with_derivative", 6),
                                           ("exp_any", 4), ("sigmoid_any", 4), ("tanh_any", 5), ("expm1_any", 5),
                                           ("leaky_relu_any", 1), ("hardsigmoid_any", 2), ("elu_any", 8),
                                           ("erf_any", 5), ("softplus_any", 6), ("logsigmoid_any", 6)])
def test_arithmetic_activations_run_as_their_planned_kernels(name, kernels):
    # each stage one fused kernel: nothing MLX's fusion depth cut off (a stray broadcast would make the next kernel
    # its strided, unvectorised loop), no op left unfused; the views between stages are free, and so is the
    # generic functions' flattening (Note [Per-size CPU transcendentals])
    rng = np.random.default_rng(11)
    x, g = (mx.array(rng.standard_normal((64, 600)).astype(np.float32)) for _ in range(2))
    with mx.stream(mx.cpu):
        args = {"leaky_relu_any": (x, 0.01), "elu_any": (x, 1.0, 1.0, 1.0)}.get(name)
        out = getattr(cpu_math, name)(*(args or ((x, g) if name.endswith("backward") else (x,))))
    labels = _graph_labels(list(out) if isinstance(out, tuple) else out)
    compiled = [label for label in labels if label.startswith("Compiled")]
    assert len(compiled) == kernels
    assert set(labels) - set(compiled) == ({"View", "Reshape"} if name.endswith("_any") else {"View"})


# ---------------------------------------------------------------- Note [CPU silu]
def test_silu_special_values_and_accuracy_follow_torch():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal(100_000) * 8, [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.0, -88.0, 100.0,
                                                          -100.0, 1e30, -1e30]]).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y, d, ty, td = _ours_and_torch(cpu_math.silu, cpu_math.silu_backward, torch.nn.functional.silu, x, g)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-30, equal_nan=True)
    np.testing.assert_allclose(d, td, rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_silu_on_the_cpu_takes_the_arithmetic_formulas(dtype, create_graph, monkeypatch):
    from mlx_compat.nn import _activation as A

    calls = _counting(monkeypatch, A, ["_silu_cpu_value", "_silu_bwd_cpu"])
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((64, 600)) * 4).astype(np.float32)
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).to(getattr(L, dtype)).requires_grad_()
        y = L.nn.functional.silu(xs)
        (g,) = L.autograd.grad(y, xs, L.from_numpy(cot).to(y.dtype), create_graph=create_graph)
        res.append((y, g))
    assert calls == ["_silu_cpu_value"] + ([] if create_graph else ["_silu_bwd_cpu"])
    # bfloat16 with create_graph: both sides round after every op of the composed formula, in different orders,
    # and 1 + x (1 - s) cancels near x = -1.28 (absolute errors of a unit of 1 there)
    tol = (dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else
           dict(rtol=2.0 ** -5, atol=2.0 ** -6) if create_graph else dict(rtol=2.0 ** -7, atol=1e-6))
    for m, t in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype)
        np.testing.assert_allclose(m.float().detach().numpy(), t.float().detach().numpy(), **tol)
    if create_graph:  # the composed derivative differentiates again
        xs = mc.from_numpy(x).requires_grad_()
        (g,) = mc.autograd.grad(mc.nn.functional.silu(xs).sum(), xs, create_graph=True)
        (h,) = mc.autograd.grad(g.sum(), xs)
        tx = torch.from_numpy(x).requires_grad_()
        (tg,) = torch.autograd.grad(torch.nn.functional.silu(tx).sum(), tx, create_graph=True)
        (th,) = torch.autograd.grad(tg.sum(), tx)
        assert_same(h, th, rtol=1e-4, atol=1e-5)


def test_small_and_in_place_silu_keep_mlx_kernels(monkeypatch):
    from mlx_compat.nn import _activation as A

    calls = _counting(monkeypatch, A, ["_silu_cpu_value", "_silu_bwd_cpu"])
    x = mc.randn(64, 100, requires_grad=True)
    mc.nn.functional.silu(x).sum().backward()
    big = mc.randn(64, 600)
    mc.nn.functional.silu(big, inplace=True)
    mc.eval(x.grad, big)
    assert not calls


# ---------------------------------------------------------------- Note [Shapeless CPU transcendentals]
_GENERIC_PARTS = {"exp": ["_stages_for"], "expm1": ["_stages_for"],
                  "sigmoid": ["_stages_for"], "tanh": ["_stages_for"], "erf": ["_stages_for"]}
_ULPS = {"erf": 4.0}  # its inner polynomial, evaluated in float32: up to ~3.1 units (torch's: 0.7); the rest 3
_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-30, -1e-7, 1e-4, 88.72283, 88.7229, 100.0, -87.3,
             -88.0, -100.0, -200.0, 0.3465, -0.3466, 20.0, -9.5]


def _generic_input(rng, scale):
    x = (rng.standard_normal((3, 150, 128)) * scale).astype(np.float32)  # cpu_math.GENERIC_MIN_ELEMENTS and more
    x.reshape(-1)[:len(_SPECIALS)] = _SPECIALS
    return x


@pytest.mark.parametrize("name", ["exp", "expm1", "sigmoid", "tanh", "erf"])
@pytest.mark.parametrize("form", ["function", "method", "in-place", "out"])
def test_large_cpu_exp_expm1_sigmoid_tanh_take_the_arithmetic_and_follow_torch(name, form, monkeypatch):
    assert getattr(mc, name).forward_cpu is getattr(cpu_math, name + "_any")
    calls = _counting(monkeypatch, cpu_math, _GENERIC_PARTS[name])
    rng = np.random.default_rng(11)
    for scale in (1.0, 8.0, 40.0):
        x = _generic_input(rng, scale)
        t = getattr(torch, name)(torch.from_numpy(x))
        ref = getattr(torch, name)(torch.from_numpy(x).double())
        xs = mc.from_numpy(x)
        if form == "function":
            y = getattr(mc, name)(xs)
        elif form == "method":
            y = getattr(xs, name)()
        elif form == "in-place":
            y = getattr(xs, name + "_")()
            assert y is xs
        else:
            y = mc.empty(0)
            assert getattr(mc, name)(xs, out=y) is y
        assert_same(y, t, rtol=1e-6, atol=1e-37)
        # within a few units in the last place of float64's value wherever that is a normal float32
        yv, rv = y.numpy().astype(np.float64), ref.numpy()
        normal = np.isfinite(rv) & (np.abs(rv) > 1.2e-38) & (np.abs(rv) < 3.4e38)
        ulp = np.spacing(np.abs(rv[normal]).astype(np.float32)).astype(np.float64)
        assert np.max(np.abs(yv[normal] - rv[normal]) / ulp) <= _ULPS.get(name, 3.0)
    assert calls == _GENERIC_PARTS[name] * 3


@pytest.mark.parametrize("name", ["exp", "expm1", "sigmoid", "tanh", "erf"])
def test_large_cpu_exp_expm1_sigmoid_tanh_gradients_follow_torch(name):
    x = np.ascontiguousarray(_generic_input(np.random.default_rng(12), 3.0)[:, :, :100])
    x.reshape(-1)[:len(_SPECIALS)] = np.clip(_SPECIALS, -50, 50)  # finite values: torch's gradients there
    cot = np.random.default_rng(13).standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).requires_grad_()
        y = getattr(L, name)(xs)
        (g,) = L.autograd.grad(y, xs, L.from_numpy(cot))
        res.append((y, g, type(y.grad_fn).__name__))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0], rtol=1e-6, atol=1e-37)
    # tanh's 1 - y^2 cancels where |y| nears 1 (on both sides: one unit of y apart is 1e-6 of the cotangent there)
    assert_same(res[1][1], res[0][1], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1, 1])
@pytest.mark.parametrize("form", ["function", "method", "functional"])
def test_large_cpu_softmax_takes_the_arithmetic_and_follows_torch(name, dim, form, monkeypatch):
    calls = _counting(monkeypatch, cpu_math, ["_stages_for"])
    rng = np.random.default_rng(14)
    x = (rng.standard_normal((40, 30, 64)) * 6).astype(np.float32)
    x[0, 0, :5] = -np.inf  # masked positions
    x[1, 1, :] = -np.inf  # a whole masked row: NaN in torch, along the last dim
    x[2, 2, 3] = np.inf
    x[3, 3, :4] = [-1000.0, 1000.0, 88.0, -88.0]
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        xs = L.from_numpy(x).requires_grad_()
        if form == "function":
            y = getattr(L, name)(xs, dim)
        elif form == "method":
            y = getattr(xs, name)(dim)
        else:
            y = getattr(L.nn.functional, name)(xs, dim=dim)
        (g,) = L.autograd.grad(y, xs, L.from_numpy(cot))
        res.append((y, g, type(y.grad_fn).__name__))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0], rtol=1e-5, atol=1e-6)
    assert_same(res[1][1], res[0][1], rtol=1e-4, atol=1e-5)
    # the forward's exp of x minus the row maximum; log_softmax's backward takes exp of its output the same way
    assert calls == ["_stages_for"] * (2 if name == "log_softmax" else 1)


@pytest.mark.parametrize("name", ["exp", "expm1", "sigmoid", "tanh", "erf"])
def test_large_cpu_exp_expm1_sigmoid_tanh_signs_and_strided_inputs_follow_torch(name):
    # Note [Per-size CPU transcendentals]: the sign of zero (tanh(-0) = expm1(-0) = -0), NaN through the clamps, and a
    # transposed input (copied to one flat dimension first) against torch, bit for bit where torch is exact
    rng = np.random.default_rng(13)
    x = _generic_input(rng, 30.0)
    t = getattr(torch, name)(torch.from_numpy(x))
    y = getattr(mc, name)(mc.from_numpy(x))
    keep = ~np.isnan(t.numpy())  # a NaN's sign bit is not a value
    np.testing.assert_array_equal(np.isnan(y.numpy()), ~keep)
    np.testing.assert_array_equal(np.signbit(y.numpy()[keep]), np.signbit(t.numpy()[keep]))
    xt = mc.from_numpy(x).transpose(0, 2)
    assert not xt.is_contiguous()
    assert_same(getattr(mc, name)(xt), getattr(torch, name)(torch.from_numpy(x).transpose(0, 2)), rtol=1e-6,
                atol=1e-37)


def test_per_size_transcendental_stages_are_bounded(monkeypatch):
    # Note [Per-size CPU transcendentals]: one set of compiled stages per flat size, the most recent
    # _PER_SIZE_LIMIT kept, and a size met again after its set was dropped is compiled afresh, same values
    monkeypatch.setattr(cpu_math, "_per_size", __import__("collections").OrderedDict())
    monkeypatch.setattr(cpu_math, "_PER_SIZE_LIMIT", 3)
    rng = np.random.default_rng(14)
    xs = [rng.standard_normal((cpu_math.GENERIC_MIN_ELEMENTS // 64 + k, 64)).astype(np.float32) for k in range(5)]
    first = mc.exp(mc.from_numpy(xs[0])).numpy()
    for x in xs[1:]:
        assert_same(mc.sigmoid(mc.from_numpy(x)), torch.sigmoid(torch.from_numpy(x)), rtol=1e-6, atol=1e-37)
    assert list(cpu_math._per_size) == [x.size for x in xs[2:]]
    np.testing.assert_array_equal(mc.exp(mc.from_numpy(xs[0])).numpy(), first)
    assert list(cpu_math._per_size) == [x.size for x in xs[3:]] + [xs[0].size]
    mc.tanh(mc.from_numpy(xs[3]))  # a hit moves its size to the newest end
    assert list(cpu_math._per_size) == [xs[4].size, xs[0].size, xs[3].size]


def test_small_and_half_cpu_transcendentals_keep_mlx_kernels(monkeypatch):
    calls = _counting(monkeypatch, cpu_math, ["_stages_for"])
    small = mc.randn(cpu_math.GENERIC_MIN_ELEMENTS // 128 - 1, 128)
    half = mc.randn(64, 600).to(mc.bfloat16)
    for x in (small, half):
        for y in (mc.exp(x), mc.expm1(x), mc.sigmoid(x), mc.tanh(x), mc.softmax(x, -1), mc.log_softmax(x, -1)):
            mc.eval(y)
        # MLX's own kernel, bit for bit
        with mx.stream(mx.cpu):
            np.testing.assert_array_equal(mc.exp(x).float().numpy(), np.array(mx.exp(x._mx).astype(mx.float32)))
    assert not calls
    mc.exp(mc.randn(cpu_math.GENERIC_MIN_ELEMENTS // 128, 128))
    assert calls == ["_stages_for"]


@pytest.mark.parametrize("dynamic", [False, True])
def test_large_cpu_transcendentals_under_compile(dynamic):
    """Inside a compiled function too (one trace per shape; dynamic=True: the bit cast has no shapeless trace and
    the call falls back to per-shape graphs, Note [Dynamic shapes])."""
    def f(x):
        return (mc.exp(x * 0.5).sum() + mc.sigmoid(x).mean() + mc.tanh(x).sum() + mc.softmax(x, -1)[:, 0].sum() +
                mc.expm1(x).mean() + mc.where(x > 0, x, 0.0).sum() + x.masked_fill(x < -1, 0.5).sum())

    def tf(x):
        return (torch.exp(x * 0.5).sum() + torch.sigmoid(x).mean() + torch.tanh(x).sum() +
                torch.softmax(x, -1)[:, 0].sum() + torch.expm1(x).mean() + torch.where(x > 0, x, 0.0).sum() +
                x.masked_fill(x < -1, 0.5).sum())

    g = mc.compile(f, dynamic=dynamic)
    for n in (64, 80):
        x = np.random.default_rng(n).standard_normal((n, 700)).astype(np.float32)
        assert_same(g(mc.from_numpy(x)), tf(torch.from_numpy(x)), rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- Note [Selects in CPU kernels]: torch.where
@pytest.fixture
def where_calls():
    calls = []

    def where_any(*a, **k):
        calls.append(1)
        return cpu_math.where_any(*a, **k)

    mc._C._register_cpu_math(cpu_math.GENERIC_MIN_ELEMENTS, cpu_math.softmax_any, cpu_math.log_softmax_any, where_any,
                             cpu_math.sum_all)
    yield calls
    mc._C._register_cpu_math(cpu_math.GENERIC_MIN_ELEMENTS, cpu_math.softmax_any, cpu_math.log_softmax_any,
                             cpu_math.where_any, cpu_math.sum_all)


@pytest.mark.parametrize("case", ["tensors", "scalar", "scalar first", "broadcast", "int32", "int32 scalar",
                                  "nan and inf", "promoted"])
def test_large_cpu_where_selects_by_bits_as_torch(case, where_calls):
    rng = np.random.default_rng(21)
    x = rng.standard_normal((96, 128)).astype(np.float32)
    y = rng.standard_normal((96, 128)).astype(np.float32)
    c = rng.standard_normal((96, 128)) < 0
    i, j = (rng.integers(-1000, 1000, (2, 96, 128))).astype(np.int32)
    x[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    args = {"tensors": (c, x, y), "scalar": (c, x, 0.5), "scalar first": (c, -2.0, y),
            "broadcast": (c[:, :1], x, y[:1]), "int32": (c, i, j), "int32 scalar": (c, i, 7),
            "nan and inf": (c, x, float("nan")), "promoted": (c, i, 0.25)}[case]
    res = []
    for L in (torch, mc):
        conv = [L.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        res.append(L.where(*conv))
    assert_same(res[1], res[0], rtol=0, atol=0)
    np.testing.assert_array_equal(np.signbit(res[1].numpy()), np.signbit(res[0].numpy()))  # -0.0 kept
    assert where_calls == [1]


def test_large_cpu_where_gradients_follow_torch(where_calls):
    rng = np.random.default_rng(22)
    x = rng.standard_normal((96, 128)).astype(np.float32)
    y = rng.standard_normal((1, 128)).astype(np.float32)
    c = rng.standard_normal((96, 128)) < 0
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        xs, ys = L.from_numpy(x).requires_grad_(), L.from_numpy(y).requires_grad_()
        out = L.where(L.from_numpy(c), xs, ys)
        res.append((out,) + L.autograd.grad(out, (xs, ys), L.from_numpy(cot)))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-6, atol=1e-6)
    assert where_calls == [1, 1, 1]  # the forward, and WhereBackward0's select of each gradient


def test_small_and_eight_byte_where_keep_mlx(where_calls):
    c = mc.randn(10, 100) < 0
    mc.eval(mc.where(c, mc.randn(10, 100), 0.0))
    big = mc.randn(100, 100) < 0
    r = mc.where(big, mc.randn(100, 100, dtype=mc.float64), 1.0)  # float64: MLX's select
    assert r.dtype == mc.float64
    assert where_calls == []


@pytest.mark.parametrize("value", ["-inf", "scalar", "tensor", "nan"])
def test_large_cpu_masked_fill_selects_by_bits_as_torch(value, monkeypatch):
    calls = _counting(monkeypatch, cpu_math, ["where_any"])
    rng = np.random.default_rng(23)
    x = rng.standard_normal((4, 12, 32, 32)).astype(np.float32)
    mask = np.triu(np.ones((32, 32), bool), 1)  # broadcast over the leading dims, as an attention mask
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        v = {"-inf": float("-inf"), "scalar": 2.5, "tensor": L.tensor(-3.0), "nan": float("nan")}[value]
        xs = L.from_numpy(x).requires_grad_()
        y = xs.masked_fill(L.from_numpy(mask), v)
        res.append((y, L.autograd.grad(y, xs, L.from_numpy(cot))[0]))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=0, atol=0)
    assert calls and calls[0] == "where_any"


def test_integer_and_small_masked_fill_keep_mlx(monkeypatch):
    calls = _counting(monkeypatch, cpu_math, ["where_any"])
    x = np.arange(4 * 12 * 32 * 32, dtype=np.int64).reshape(4, 12, 32, 32)
    mask = np.triu(np.ones((32, 32), bool), 1)
    assert_same(mc.from_numpy(x).masked_fill(mc.from_numpy(mask), 7),
                torch.from_numpy(x).masked_fill(torch.from_numpy(mask), 7), rtol=0, atol=0)
    mc.eval(mc.randn(10, 32).masked_fill(mc.randn(10, 32) > 0, 1.0))
    assert not calls


# ---------------------------------------------------------------- Note [Whole sums on the CPU]
@pytest.fixture
def sum_calls():
    calls = []

    def sum_all(*a, **k):
        r = cpu_math.sum_all(*a, **k)
        calls.append(r is not None)  # whether it computed the reduction
        return r

    mc._C._register_cpu_math(cpu_math.GENERIC_MIN_ELEMENTS, cpu_math.softmax_any, cpu_math.log_softmax_any,
                             cpu_math.where_any, sum_all)
    yield calls
    mc._C._register_cpu_math(cpu_math.GENERIC_MIN_ELEMENTS, cpu_math.softmax_any, cpu_math.log_softmax_any,
                             cpu_math.where_any, cpu_math.sum_all)


@pytest.mark.parametrize("shape", [(1 << 20,), (256, 4096), (3, 100, 301), (64, 3, 64, 64)])
@pytest.mark.parametrize("op", ["sum", "mean", "sum keepdim", "mean keepdim", "torch.sum", "transposed", "sum -1",
                                "mean -1 keepdim", "sum last"])
def test_whole_cpu_sums_in_columns_are_closer_to_float64(shape, op, sum_calls):
    x = (np.random.default_rng(41).standard_normal(shape) + 0.3).astype(np.float32)
    ref = torch.from_numpy(x).double()
    res = []
    for L in (torch, mc):
        t = L.from_numpy(x).requires_grad_()
        dims = {"sum -1": -1, "mean -1 keepdim": -1, "sum last": len(shape) - 1}.get(op)
        if op == "transposed":
            t2 = t.transpose(0, -1) if t.dim() > 1 else t
            y = t2.sum()
        elif op == "torch.sum":
            y = L.sum(t)
        elif dims is not None:
            y = getattr(t, op.split()[0])(dims, keepdim="keepdim" in op)
        else:
            y = getattr(t, op.split()[0])(**({"dim": None, "keepdim": True} if "keepdim" in op else {}))
        forward_calls = list(sum_calls)  # the op's own (its gradient's sum below adds more)
        (g,) = L.autograd.grad(y.sum(), t, L.ones_like(y.sum()))
        res.append((y, g))
    last = {"sum -1", "mean -1 keepdim", "sum last"}
    if op in last:
        want = ref.mean(-1, keepdim=True) if op.startswith("mean") else ref.sum(-1)
        scale = torch.from_numpy(np.abs(x.astype(np.float64))).sum(-1) / (shape[-1] if op.startswith("mean") else 1)
        for y in (res[0][0], res[1][0]):
            err = np.abs(y.detach().double().numpy().reshape(want.shape) - want.numpy())
            assert np.all(err <= 1e-6 * scale.reshape(want.shape).numpy())
    else:
        want = ref.mean() if op.startswith("mean") else ref.sum()
        # torch's cascade sum and ours, both against float64: within 1e-6 of the size of the sum of magnitudes
        scale = np.abs(x.astype(np.float64)).sum() / (x.size if op.startswith("mean") else 1)
        for y in (res[0][0], res[1][0]):
            assert abs(float(y.detach().double().sum()) - float(want)) <= 1e-6 * scale
    assert tuple(res[1][0].shape) == tuple(res[0][0].shape) and str(res[1][0].dtype) == str(res[0][0].dtype)
    assert type(res[1][0].grad_fn).__name__ == type(res[0][0].grad_fn).__name__
    assert_same(res[1][1], res[0][1], rtol=1e-6, atol=1e-9)
    # rows of 301 elements (not a multiple of 16) and of one element keep MLX's row sum
    assert forward_calls == [op not in last or shape[-1] % 16 == 0 and shape[-1] >= 256]


def test_small_half_and_dim_sums_keep_mlx(sum_calls):
    x = mc.randn(64, 100)
    mc.eval(x.sum(), x.mean(), mc.randn(100, 100).to(mc.bfloat16).sum(), mc.randn(100, 100).sum(0),
            mc.randn(100, 100, dtype=mc.float64).sum(), mc.randn(40, 300).sum(-1), mc.randn(100, 100).sum((0, 1)))
    assert True not in sum_calls


def test_stages_stay_apart_inside_a_compiled_function(monkeypatch):
    # Note [CPU kernels MLX vectorises]: traced by mlx_compat.compile, each stage's outputs pass through
    # mx.contiguous (MLX fuses nothing across it), so the stages are not re-fused past MLX's depth; eagerly they
    # do not (the stage's own compiled graph ends there). The values are the eager ones, bit for bit.
    calls = []
    real = mx.contiguous
    monkeypatch.setattr(mx, "contiguous", lambda a, *k: calls.append(1) or real(a, *k))
    x = mc.from_numpy((np.random.default_rng(15).standard_normal((64, 600)) * 3).astype(np.float32))

    def f(t):
        return mc.nn.functional.gelu(t) + mc.sigmoid(t) + mc.nn.functional.silu(t)

    with mc.no_grad():
        eager = f(x).numpy()
        assert not calls
        g = mc.compile(f)
        np.testing.assert_array_equal(g(x).numpy(), eager)
        assert calls  # the trace took them
        np.testing.assert_array_equal(g(x).numpy(), eager)


@pytest.mark.parametrize("hinted", [False, True])
def test_relu_backward_selects_by_bits(hinted, monkeypatch):
    """relu's backward (torch's threshold_backward) of a large float32 tensor on the CPU is where_any's select by
    the bits (Note [Selects in CPU kernels]), in N...C space behind a pool of a hinted input too: bit for bit
    torch's gradient, NaN and infinite cotangents kept where the result is positive or NaN and zeroed where not."""
    from mlx_compat._ops import pointwise
    rng = np.random.default_rng(11)
    a = rng.standard_normal((4, 8, 64, 40)).astype(np.float32)  # 81,920 elements
    a.reshape(-1)[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-45]
    g = rng.standard_normal((4, 8, 32, 20)).astype(np.float32)
    g.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, np.nan, np.inf, -0.0]
    calls, paths = [], []
    real, real_mx = cpu_math.where_any, pointwise._relu_backward_mx
    monkeypatch.setattr(cpu_math, "where_any", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    monkeypatch.setattr(pointwise, "_relu_backward_mx", lambda g, r, nd: paths.append(nd) or real_mx(g, r, nd))
    delta = np.zeros((8, 8, 3, 3), dtype=np.float32)
    delta[np.arange(8), np.arange(8), 1, 1] = 1.0  # each output its input's value, exactly, for finite inputs
    if hinted:
        a = np.nan_to_num(a, posinf=3.0, neginf=-3.0)
    res = []
    for L in (torch, mc):
        w = L.from_numpy(delta.copy()).requires_grad_()
        h = L.from_numpy(a.copy()).requires_grad_()
        if hinted:  # a convolution's output: on mlx_compat an N...C array's NC... view, hinted
            h = L.nn.functional.conv2d(h, w, padding=1)
        grads = []
        h.register_hook(grads.append)
        y = L.nn.functional.max_pool2d(L.relu(h), 2)  # a pool of a hinted input returns a hinted gradient
        y.backward(L.from_numpy(g.copy()))
        res.append(grads[0])
    assert calls and paths == [4 if hinted else 0]
    np.testing.assert_array_equal(res[1].numpy().view(np.int32), res[0].numpy().view(np.int32))
