"""nn.init against torch.nn.init: the same distributions (moments and bounds over many draws, compared with
torch's draws and with the formula), deterministic initializers value for value, in place through views and
under no_grad, calculate_gain and the fan computation, and torch's errors."""
import math
import warnings

import numpy as np
import pytest

from helpers import mc, torch

SHAPE = (300, 200)  # 60,000 draws


def draws(name, shape=SHAPE, **kw):
    """(ours, torch's) numpy draws of init `name` on a fresh float32 tensor of `shape`."""
    m = mc.empty(*shape)
    t = torch.empty(*shape)
    getattr(mc.nn.init, name)(m, **kw)
    getattr(torch.nn.init, name)(t, **kw)
    return m.numpy().astype(np.float64), t.numpy().astype(np.float64)


def check_moments(ours, theirs, mean, std, lo=None, hi=None):
    n = ours.size
    se = std / math.sqrt(n)
    assert abs(ours.mean() - mean) < 6 * se + 1e-12
    assert abs(ours.std() - std) < 6 * std / math.sqrt(2 * n) + 1e-12
    assert abs(ours.mean() - theirs.mean()) < 8 * se + 1e-12
    assert abs(ours.std() - theirs.std()) < 8 * std / math.sqrt(2 * n) + 1e-12
    if lo is not None:
        assert ours.min() >= lo and ours.max() <= hi
        # the bounds are reached: the extremes sit near them, as torch's do
        width = hi - lo
        assert ours.min() - lo < 1e-3 * width and hi - ours.max() < 1e-3 * width


def uniform_std(a, b):
    return (b - a) / math.sqrt(12)


def test_uniform_and_normal():
    o, t = draws("uniform_", a=-0.5, b=2.0)
    check_moments(o, t, 0.75, uniform_std(-0.5, 2.0), -0.5, 2.0)
    o, t = draws("normal_", mean=1.0, std=0.3)
    check_moments(o, t, 1.0, 0.3)
    o, t = draws("uniform_")
    check_moments(o, t, 0.5, uniform_std(0, 1), 0, 1)


@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_xavier(gain):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    a = math.sqrt(3.0) * std
    o, t = draws("xavier_uniform_", gain=gain)
    check_moments(o, t, 0.0, std, -a, a)
    o, t = draws("xavier_normal_", gain=gain)
    check_moments(o, t, 0.0, std)


@pytest.mark.parametrize("shape", [(64, 16, 3, 3), (300, 200)])
@pytest.mark.parametrize("kw", [dict(), dict(a=math.sqrt(5)), dict(mode="fan_out", nonlinearity="relu"),
                                dict(nonlinearity="tanh"), dict(mode="FAN_IN", nonlinearity="selu")])
def test_kaiming(shape, kw):
    rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan = (shape[0] if kw.get("mode", "fan_in").lower() == "fan_out" else shape[1]) * rf
    gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    o, t = draws("kaiming_uniform_", shape=shape, **kw)
    check_moments(o, t, 0.0, std, -bound, bound)
    o, t = draws("kaiming_normal_", shape=shape, **kw)
    check_moments(o, t, 0.0, std)


def truncnorm_moments(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(be) - cdf(al)
    m = mean + std * (pdf(al) - pdf(be)) / z
    var = std**2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("kw", [dict(), dict(mean=0.0, std=0.02), dict(mean=1.0, std=2.0, a=-1.0, b=1.5),
                                dict(mean=0.0, std=1.0, a=2.0, b=3.0), dict(mean=0.0, std=1.0, a=-0.2, b=0.2)])
def test_trunc_normal(kw):
    full = dict(mean=0.0, std=1.0, a=-2.0, b=2.0)
    full.update(kw)
    m_, s_ = truncnorm_moments(full["mean"], full["std"], full["a"], full["b"])
    o, t = draws("trunc_normal_", **kw)
    check_moments(o, t, m_, s_, max(full["a"], o.min()), min(full["b"], o.max()))
    assert o.min() >= full["a"] and o.max() <= full["b"]
    # with a window much wider than std the bounds are not approached (mean/std dominate)
    if full["b"] - full["a"] < 8 * full["std"]:
        assert o.min() - full["a"] < 0.01 * (full["b"] - full["a"])


def test_trunc_normal_warns_far_mean():
    with pytest.warns(UserWarning):
        mc.nn.init.trunc_normal_(mc.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 5), (8, 8)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    m = mc.empty(*shape)
    assert mc.nn.init.orthogonal_(m, gain=gain) is m
    w = m.numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5 * gain**2)


def test_orthogonal_is_haar_distributed():
    # the sign correction makes entries of a random orthogonal n x n matrix symmetric, mean 0, variance 1/n
    n, reps = 8, 300
    vals = np.stack([mc.nn.init.orthogonal_(mc.empty(n, n)).numpy() for _ in range(reps)])
    assert abs(vals.mean()) < 6 / math.sqrt(n * n * reps) * math.sqrt(1 / n)
    assert abs(vals.var() - 1 / n) < 0.01
    diag = vals[:, np.arange(n), np.arange(n)]
    assert abs(diag.mean()) < 6 * math.sqrt(1 / n / (n * reps))


def test_sparse():
    m = mc.empty(40, 30)
    mc.nn.init.sparse_(m, sparsity=0.25, std=0.5)
    w = m.numpy()
    assert ((w == 0).sum(0) == math.ceil(0.25 * 40)).all()
    nz = w[w != 0].astype(np.float64)
    assert abs(nz.std() - 0.5) < 0.05 and abs(nz.mean()) < 0.05


@pytest.mark.parametrize("name,shape,kw", [
    ("constant_", (3, 4), dict(val=0.7)), ("ones_", (5,), {}), ("zeros_", (2, 2, 2), {}),
    ("eye_", (3, 5), {}), ("eye_", (4, 2), {}),
    ("dirac_", (4, 2, 3), {}), ("dirac_", (6, 4, 3, 3), dict(groups=2)), ("dirac_", (2, 3, 3, 3, 3), {}),
    ("dirac_", (4, 4, 2, 2), dict(groups=4)),
])
def test_deterministic_inits_match_torch_exactly(name, shape, kw):
    m = mc.full(shape, 9.0)
    t = torch.full(shape, 9.0)
    assert getattr(mc.nn.init, name)(m, **kw) is m
    getattr(torch.nn.init, name)(t, **kw)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


@pytest.mark.parametrize("name,args", [
    ("eye_", ((3,),)), ("dirac_", ((3, 3),)), ("dirac_", ((3, 2, 2), 2)), ("orthogonal_", ((3,),)),
    ("sparse_", ((3, 3, 3), 0.1)), ("xavier_uniform_", ((3,),)), ("kaiming_uniform_", ((3, 3), 0, "fan_mid")),
    ("kaiming_normal_", ((3, 3), 0, "fan_in", "softmax")), ("kaiming_uniform_", ((3, 3), "x")),
])
def test_errors_match_torch(name, args):
    shape, rest = args[0], args[1:]
    with pytest.raises(Exception) as et:
        getattr(torch.nn.init, name)(torch.empty(*shape), *rest)
    with pytest.raises(Exception) as em:
        getattr(mc.nn.init, name)(mc.empty(*shape), *rest)
    assert type(em.value) is type(et.value) and str(em.value) == str(et.value)


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("conv_transpose3d", None),
                                      ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                                      ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain(nl, param):
    assert mc.nn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)


@pytest.mark.parametrize("nl,param", [("leaky_relu", True), ("leaky_relu", "x"), ("gelu", None)])
def test_calculate_gain_errors(nl, param):
    with pytest.raises(ValueError) as et:
        torch.nn.init.calculate_gain(nl, param)
    with pytest.raises(ValueError) as em:
        mc.nn.init.calculate_gain(nl, param)
    assert str(em.value) == str(et.value)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 4, 3, 3), (2, 3, 1, 2, 2), (0, 3)])
def test_fan_in_and_fan_out(shape):
    assert mc.nn.init._calculate_fan_in_and_fan_out(mc.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_in_place_through_views_and_on_parameters():
    base = mc.zeros(4, 6)
    mc.nn.init.ones_(base[1:3, ::2])
    t = torch.zeros(4, 6)
    torch.nn.init.ones_(t[1:3, ::2])
    np.testing.assert_array_equal(base.numpy(), t.numpy())
    v = base[:, :3]
    mc.nn.init.normal_(v, 5.0, 0.01)
    assert abs(float(base[:, :3].mean()) - 5.0) < 0.1 and float(base[:, 3:].sum()) == 2.0
    p = mc.nn.Parameter(mc.zeros(3, 4))
    for name in ("uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "orthogonal_", "trunc_normal_",
                 "eye_", "zeros_"):
        r = getattr(mc.nn.init, name)(p)
        assert r is p and p.is_leaf and p.grad_fn is None and p.requires_grad and type(p) is mc.nn.Parameter
    q = mc.nn.Parameter(mc.zeros(3, 4, 2))
    mc.nn.init.dirac_(q)
    assert q.is_leaf and float(q.sum()) == 3.0


def test_zero_element_warns():
    with pytest.warns(UserWarning):
        mc.nn.init.kaiming_uniform_(mc.empty(0, 3))
    with pytest.warns(UserWarning):
        mc.nn.init.kaiming_normal_(mc.empty(0, 3))


def test_generator_reproducible():
    g1, g2 = mc.Generator().manual_seed(3), mc.Generator().manual_seed(3)
    a = mc.nn.init.kaiming_uniform_(mc.empty(4, 4), generator=g1)
    b = mc.nn.init.kaiming_uniform_(mc.empty(4, 4), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_deprecated_aliases_warn():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        mc.nn.init.uniform(mc.empty(2))
        mc.nn.init.xavier_normal(mc.empty(2, 2))
    assert [str(x.message) for x in w] == ["`nn.init.uniform` is now deprecated in favor of `nn.init.uniform_`.",
                                           "`nn.init.xavier_normal` is now deprecated in favor of "
                                           "`nn.init.xavier_normal_`."]
    assert sorted(mc.nn.init.__all__) == sorted(torch.nn.init.__all__)
