"""nn.functional activations, softmax family, norms/distances, one_hot, shuffles and the dropout family against
torch: values, dtypes, first and second derivatives (including at the kinks and at NaN), in-place variants,
top-level/Tensor-method aliases and exception types."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

KINKS = [-6.0, -3.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 3.0, 6.0, 20.0, 30.0, -30.0, float("nan")]


def _pair(a, dtype="float32", grad=True):
    t = torch.tensor(np.asarray(a), dtype=getattr(torch, dtype))
    m = mc.from_torch(t)
    if grad:
        t.requires_grad_()
        m.requires_grad_()
    return t, m


def _grads(L, y, xs, seed=0):
    """VJP with a fixed random cotangent, and the second-order gradient of its sum."""
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(np.float32)
    cot = L.from_numpy(g).to(y.dtype)
    first = L.autograd.grad(y, xs, cot, create_graph=True)
    return first


def check(fn_name, args_t, args_m, kwargs=None, second=True, rtol=1e-5, atol=1e-5, getter=None):
    kwargs = kwargs or {}
    get = getter or (lambda L: getattr(L.nn.functional, fn_name))
    yt, ym = get(torch)(*args_t, **kwargs), get(mc)(*args_m, **kwargs)
    assert_same(ym, yt, rtol=rtol, atol=atol)
    xt = [a for a in args_t if isinstance(a, torch.Tensor) and a.requires_grad]
    xm = [a for a in args_m if isinstance(a, mc.Tensor) and a.requires_grad]
    if not xt:
        return
    gt, gm = _grads(torch, yt, xt), _grads(mc, ym, xm)
    for a, b in zip(gm, gt):
        assert_same(a, b, rtol=1e-4, atol=1e-5)
    if second and all(g.requires_grad for g in gt) and all(g.requires_grad for g in gm):
        sgt = torch.autograd.grad(sum((g * g).sum() for g in gt), xt, allow_unused=True)
        sgm = mc.autograd.grad(sum((g * g).sum() for g in gm), xm, allow_unused=True)
        for a, b in zip(sgm, sgt):
            if b is None:
                assert a is None or not a.detach().numpy().any()
                continue
            if b._is_zerotensor():
                b = torch.zeros_like(b)
            assert_same(a, b, rtol=1e-4, atol=1e-4)


POINTWISE = [
    ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("elu", {"alpha": 2.0}),
    ("elu", {"alpha": -0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 0.5}), ("mish", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 6.0}), ("softplus", {"beta": 0.5}), ("softplus", {"threshold": 3.0}), ("softsign", {}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 3.0}), ("hardsigmoid", {}), ("hardswish", {}), ("hardshrink", {}),
    ("hardshrink", {"lambd": 1.0}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}), ("logsigmoid", {}),
    ("tanhshrink", {}), ("silu", {}), ("rrelu", {}), ("rrelu", {"lower": 0.1, "upper": 0.5}),
]


@pytest.mark.parametrize("name,kw", POINTWISE, ids=[f"{n}-{k}" for n, k in POINTWISE])
def test_pointwise_kinks_and_nan(name, kw):
    """Values and derivatives at the kinks, far out in both tails and at NaN, as torch defines them."""
    t, m = _pair(KINKS)
    # second order too: torch's double-backward kernels pick their own side at the kink (elu's uses x < 0 where
    # its backward uses x <= 0); hardsigmoid and rrelu (random) have none to compare
    check(name, [t], [m], kw, second=name not in ("hardsigmoid", "rrelu"))


# Where the cotangent is inf or nan, torch's backward kernels select (`cond ? grad * a' : grad * b'`): the branch
# not taken contributes nothing (Note [Selecting vjp] in autograd/_mlx_vjp.py). Left out: the points where our
# derivative is itself a sum of terms (hardswish's x * (x + 3) / 6 in its middle, logsigmoid's x - log1p(e^x);
# the elu family's and softplus' second-derivative term at the kink, Note [second derivative at a kink]), where
# inf - inf or inf * 0 gives nan however the branches are chosen; torch computes those derivatives in one
# expression.
_INF_POINTS = [-6.0, -3.0, -1.5, -0.75, 0.75, 1.5, 3.0, 6.0, 30.0, float("nan")]


@pytest.mark.parametrize("name,kw", [p for p in POINTWISE if p[0] not in ("hardswish", "mish", "silu", "tanhshrink",
                                                                          "softsign", "rrelu", "logsigmoid")],
                         ids=lambda v: str(v))
def test_pointwise_inf_and_nan_cotangents(name, kw):
    """Cotangents of inf, -inf and nan at every point: each reaches only the branch its point takes."""
    vals = [float("inf"), float("nan"), float("-inf")]
    # not softplus' kink (x * beta == threshold)
    points = [v for v in _INF_POINTS if v * kw.get("beta", 1.0) != kw.get("threshold", 20.0)]
    out = []
    for L in (torch, mc):
        x = L.tensor(points, requires_grad=True)
        y = getattr(L.nn.functional, name)(x, **kw)
        cot = L.tensor([vals[i % 3] for i in range(len(points))])
        out.append(L.autograd.grad(y, x, cot)[0])
    assert_same(out[1], out[0])


@pytest.mark.parametrize("name,kw", POINTWISE, ids=[f"{n}-{k}" for n, k in POINTWISE])
def test_pointwise_second_order(name, kw):
    if name == "hardsigmoid":
        pytest.skip("torch has no double backward for hardsigmoid (derivative for hardsigmoid_backward "
                    "is not implemented), so there is nothing to compare against")
    a = np.random.default_rng(25).standard_normal((4, 5)) * 4
    t, m = _pair(a)
    check(name, [t], [m], kw, second=True)


@pytest.mark.parametrize("name,kw", POINTWISE, ids=[f"{n}-{k}" for n, k in POINTWISE])
@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_pointwise_dtypes(name, kw, dtype):
    a = np.random.default_rng(1).standard_normal((3, 5)) * 4
    t, m = _pair(a, dtype, grad=dtype == "float64")
    check(name, [t], [m], kw, second=False, rtol=1e-7 if dtype == "float64" else 1e-5,
          atol=1e-9 if dtype == "float64" else 1e-5)


def test_threshold():
    t, m = _pair(KINKS)
    check("threshold", [t, 1.0, 5.0], [m, 1.0, 5.0])
    check("threshold", [t, -0.5, -7.0], [m, -0.5, -7.0])
    ti, mi = _pair([-2, 0, 3, 7], "int64", grad=False)
    check("threshold", [ti, 1, 5], [mi, 1, 5])
    check("threshold", [ti, 0.5, 2.5], [mi, 0.5, 2.5])


def test_integer_inputs():
    """relu6/hardtanh keep integer dtypes, softsign/tanhshrink promote, the rest raise NotImplementedError."""
    ti, mi = _pair([-7, -1, 0, 2, 9], "int64", grad=False)
    for name in ("relu6", "hardtanh", "softsign", "tanhshrink"):
        check(name, [ti], [mi])
    check("hardtanh", [ti, -2.5, 3.5], [mi, -2.5, 3.5])
    for name in ("leaky_relu", "elu", "selu", "celu", "mish", "softplus", "hardsigmoid", "hardswish", "hardshrink",
                 "softshrink", "logsigmoid", "silu", "rrelu"):
        assert_raises_same(lambda: getattr(torch.nn.functional, name)(ti),
                           lambda: getattr(mc.nn.functional, name)(mi))
    assert_raises_same(lambda: torch.nn.functional.rrelu(ti, training=True),
                       lambda: mc.nn.functional.rrelu(mi, training=True))


def test_activation_errors():
    t, m = _pair([1.0, -2.0], grad=False)
    F, G = torch.nn.functional, mc.nn.functional
    assert_raises_same(lambda: F.celu(t, alpha=0.0), lambda: G.celu(m, alpha=0.0))
    assert_raises_same(lambda: F.softshrink(t, -0.5), lambda: G.softshrink(m, -0.5))
    assert_raises_same(lambda: F.hardtanh(t, 1.0, -1.0), lambda: G.hardtanh(m, 1.0, -1.0))
    assert_raises_same(lambda: F.rrelu(t, 0.5, 0.1), lambda: G.rrelu(m, 0.5, 0.1))
    assert_raises_same(lambda: F.rrelu(t, 0.5, 0.1, True), lambda: G.rrelu(m, 0.5, 0.1, True))
    # hardshrink accepts a negative lambda (nothing is inside [-l, l])
    check("hardshrink", [t], [m], {"lambd": -0.5})


INPLACE = [("relu6", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 1.5}), ("selu", {}),
           ("celu", {"alpha": 2.0}), ("hardtanh", {}), ("hardsigmoid", {}), ("hardswish", {}), ("mish", {}),
           ("silu", {}), ("threshold", {"threshold": 0.2, "value": -3.0}), ("rrelu", {})]


@pytest.mark.parametrize("name,kw", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_flag(name, kw):
    a = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    out = []
    for L in (torch, mc):
        leaf = L.from_numpy(a.copy()).requires_grad_()
        x = leaf * 1.0
        y = getattr(L.nn.functional, name)(x, inplace=True, **kw)
        assert y is x
        (y * y).sum().backward()
        out.append((x.detach(), leaf.grad))
    assert_same(out[1][0], out[0][0])
    assert_same(out[1][1], out[0][1], rtol=1e-4)


UNDERSCORE = [("elu_", {}), ("leaky_relu_", {}), ("hardtanh_", {"min_val": -0.3, "max_val": 0.4}), ("selu_", {}),
              ("celu_", {"alpha": 0.5}), ("threshold_", {"threshold": 0.0, "value": 2.0}), ("rrelu_", {})]


@pytest.mark.parametrize("name,kw", UNDERSCORE, ids=[n for n, _ in UNDERSCORE])
def test_underscore_functions(name, kw):
    a = np.random.default_rng(3).standard_normal((5,)).astype(np.float32)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy())
        y = getattr(L.nn.functional, name)(x, **kw)
        assert y is x
        res.append(x)
    assert_same(res[1], res[0])


def test_top_level_and_methods():
    a = np.random.default_rng(4).standard_normal((2, 3, 4)).astype(np.float32)
    t, m = torch.from_numpy(a.copy()), mc.from_numpy(a.copy())
    for name, args in [("selu", ()), ("celu", (0.7,)), ("threshold", (0.1, 9.0)), ("hardshrink", (0.3,)),
                       ("rrelu", ()), ("pixel_shuffle", (1,)), ("channel_shuffle", (3,)),
                       ("native_channel_shuffle", (3,)), ("dropout", (0.3, False)), ("alpha_dropout", (0.3, False)),
                       ("feature_alpha_dropout", (0.3, False)), ("feature_dropout", (0.3, False)),
                       ("softmax", (1,)), ("log_softmax", (2,)), ("pdist", ())]:
        x_t, x_m = (t[0], m[0]) if name == "pdist" else (t, m)
        assert_same(getattr(mc, name)(x_m, *args), getattr(torch, name)(x_t, *args))
    assert_same(mc.softmax(m, 1, mc.float64), torch.softmax(t, 1, torch.float64))
    assert_same(mc.dropout(m, 0.5, train=False), torch.dropout(t, 0.5, train=False))
    assert_same(mc.prelu(m, mc.tensor([0.2, 0.3, 0.4])), torch.prelu(t, torch.tensor([0.2, 0.3, 0.4])))
    assert_same(m.prelu(mc.tensor([0.2, 0.3, 0.4])), t.prelu(torch.tensor([0.2, 0.3, 0.4])))
    assert_same(m.hardshrink(0.2), t.hardshrink(0.2))
    assert_same(m.softmax(0), t.softmax(0))
    assert_same(m.log_softmax(-1, dtype=mc.float64), t.log_softmax(-1, dtype=torch.float64))
    assert_same(mc.cosine_similarity(m, m * 2 - 1), torch.cosine_similarity(t, t * 2 - 1))
    assert_same(mc.pairwise_distance(m, m * 0.5), torch.pairwise_distance(t, t * 0.5))
    for name, args in [("selu_", ()), ("celu_", (0.5,)), ("threshold_", (0.0, -1.0)), ("rrelu_", ())]:
        xt, xm = t.clone(), m.clone()
        assert getattr(mc, name)(xm, *args) is xm
        getattr(torch, name)(xt, *args)
        assert_same(xm, xt)


# ---------------------------------------------------------------- glu, prelu


@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((2,), 0)])
def test_glu(shape, dim):
    t, m = _pair(np.random.default_rng(5).standard_normal(shape))
    check("glu", [t], [m], {"dim": dim})


def test_glu_errors():
    F, G = torch.nn.functional, mc.nn.functional
    assert_raises_same(lambda: F.glu(torch.tensor(1.0)), lambda: G.glu(mc.tensor(1.0)))
    assert_raises_same(lambda: F.glu(torch.zeros(3, 5)), lambda: G.glu(mc.zeros(3, 5)))
    assert_raises_same(lambda: F.glu(torch.zeros(3, 4), 2), lambda: G.glu(mc.zeros(3, 4), 2))


@pytest.mark.parametrize("xshape,wshape", [((2, 3, 4), (3,)), ((2, 3, 4), (1,)), ((2, 3, 4), ()), ((5,), (1,)),
                                           ((3, 4), (4,)), ((), ()), ((2, 2, 2, 2, 2), (2,))])
def test_prelu(xshape, wshape):
    rng = np.random.default_rng(6)
    a = rng.standard_normal(xshape)
    if a.size:
        a.flat[0] = 0.0  # derivative at the kink: torch takes the weight's branch
    t, m = _pair(a)
    wt, wm = _pair(rng.uniform(-0.5, 0.5, wshape))
    check("prelu", [t, wt], [m, wm])  # torch's double backward picks its own side at x == 0
    t2, m2 = _pair(rng.standard_normal(xshape))
    check("prelu", [t2, wt], [m2, wm])


def test_prelu_errors():
    F, G = torch.nn.functional, mc.nn.functional
    for xs, ws in [((), (2,)), ((2, 3), (2,)), ((2, 3), (3, 1)), ((3,), (3,))]:
        assert_raises_same(lambda: F.prelu(torch.zeros(xs), torch.zeros(ws)),
                           lambda: G.prelu(mc.zeros(xs), mc.zeros(ws)))


# ---------------------------------------------------------------- rrelu (random slopes)


def test_rrelu_training():
    a = np.linspace(-4, 4, 41).astype(np.float32)
    x = mc.from_numpy(a.copy()).requires_grad_()
    y = mc.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    yv, gv = y.detach().numpy(), x.grad.numpy()
    pos = a > 0
    np.testing.assert_array_equal(yv[pos], a[pos])
    np.testing.assert_array_equal(gv[pos], 1.0)
    slope = gv[~pos]
    assert np.all((slope >= 0.1) & (slope <= 0.3)) and len(np.unique(slope)) > 1
    np.testing.assert_allclose(yv[~pos], a[~pos] * slope, rtol=1e-6)


# ---------------------------------------------------------------- softmax family


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((5,), 0), ((), 0), ((0, 3), 1),
                                       ((3, 0), 1), ((2, 0, 3), 0)])
def test_softmax_family(name, shape, dim):
    t, m = _pair(np.random.default_rng(7).standard_normal(shape) * 3)
    check(name, [t, dim], [m, dim])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype(name):
    a = np.random.default_rng(8).standard_normal((3, 4))
    t, m = _pair(a)
    yt = getattr(torch.nn.functional, name)(t, 1, dtype=torch.float64)
    ym = getattr(mc.nn.functional, name)(m, 1, dtype=mc.float64)
    assert_same(ym, yt)
    gt, = torch.autograd.grad(yt[0, 1], t)
    gm, = mc.autograd.grad(ym[0, 1], m)
    assert_same(gm, gt)
    ti, mi = _pair([[1, 2], [3, 4]], "int64", grad=False)
    assert_same(getattr(mc.nn.functional, name)(mi, 0, dtype=mc.float32),
                getattr(torch.nn.functional, name)(ti, 0, dtype=torch.float32))
    assert_raises_same(lambda: getattr(torch.nn.functional, name)(ti, 0),
                       lambda: getattr(mc.nn.functional, name)(mi, 0))
    assert_raises_same(lambda: getattr(torch.nn.functional, name)(t, 2),
                       lambda: getattr(mc.nn.functional, name)(m, 2))


def test_softmax_implicit_dim_warns():
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        a = np.random.default_rng(9).standard_normal(shape).astype(np.float32)
        for name in ("softmax", "log_softmax", "softmin"):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                ym = getattr(mc.nn.functional, name)(mc.from_numpy(a.copy()))
            assert any("Implicit dimension" in str(x.message) for x in w)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yt = getattr(torch.nn.functional, name)(torch.from_numpy(a.copy()))
            assert_same(ym, yt)


def test_softmax_method_requires_dim():
    with pytest.raises(TypeError):
        mc.zeros(3).softmax()
    with pytest.raises(TypeError):
        mc.zeros(3).log_softmax()


# ---------------------------------------------------------------- norms and distances


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), -float("inf"), 0.0])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize(p, dim):
    a = np.random.default_rng(10).standard_normal((3, 4))
    a[1] = 0.0  # a zero row/column: the eps clamp and torch's zero-norm gradient
    a[2, 1] = a[2, 2] = 2.0  # ties for the inf norms
    t, m = _pair(a)
    # first order only here: with a zero row the second derivative scales like 1/eps^3 and overflows float32
    check("normalize", [t], [m], {"p": p, "dim": dim}, second=False)
    t2, m2 = _pair(np.random.default_rng(26).standard_normal((3, 4)))
    check("normalize", [t2], [m2], {"p": p, "dim": dim}, second=p not in (0.5,))


def test_normalize_options():
    a = np.random.default_rng(11).standard_normal((2, 3, 4))
    t, m = _pair(a)
    check("normalize", [t], [m], {"eps": 1.5})
    t64, m64 = _pair(a, "float64")
    check("normalize", [t64], [m64], {"dim": 2})
    t0, m0 = _pair(1.5)
    check("normalize", [t0], [m0], {"dim": 0})
    te, me = _pair(np.zeros((0, 3)))
    check("normalize", [te], [me])
    assert_raises_same(lambda: torch.nn.functional.normalize(torch.tensor([1, 2])),
                       lambda: mc.nn.functional.normalize(mc.tensor([1, 2])))
    assert_raises_same(lambda: torch.nn.functional.normalize(torch.zeros(2, 3), dim=3),
                       lambda: mc.nn.functional.normalize(mc.zeros(2, 3), dim=3))
    for oshape in [(2, 3, 4), (0,)]:  # a wrongly shaped out is resized
        ot, om = torch.empty(oshape), mc.empty(oshape)
        assert torch.nn.functional.normalize(t.detach(), out=ot) is ot
        assert mc.nn.functional.normalize(m.detach(), out=om) is om
        assert_same(om, ot)
    assert_raises_same(lambda: torch.nn.functional.normalize(t, out=torch.empty(2, 3, 4)),
                       lambda: mc.nn.functional.normalize(m, out=mc.empty(2, 3, 4)))


@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((2, 1, 3), (4, 3), -1), ((3,), (3,), 0),
                                       ((5, 3), (1, 3), 0), ((), (), 0)])
def test_cosine_similarity(s1, s2, dim):
    rng = np.random.default_rng(12)
    t1, m1 = _pair(rng.standard_normal(s1))
    t2, m2 = _pair(rng.standard_normal(s2))
    check("cosine_similarity", [t1, t2], [m1, m2], {"dim": dim})


def test_cosine_similarity_edge():
    F, G = torch.nn.functional, mc.nn.functional
    a = np.random.default_rng(13).standard_normal((3, 4))
    a[0] = 0.0  # zero vector: eps clamp, gradient as torch
    t1, m1 = _pair(a)
    t2, m2 = _pair(a[::-1].copy())
    # second order not compared: torch's is NaN at the zero vector (0/0 in its norm double backward)
    check("cosine_similarity", [t1, t2], [m1, m2], {"eps": 1e-3}, second=False)
    ti, mi = _pair([1, 2, 3], "int64", grad=False)
    tf, mf = _pair([1.0, 0.5, 2.0], grad=False)
    assert_same(G.cosine_similarity(mi, mf, 0), F.cosine_similarity(ti, tf, 0))
    assert_raises_same(lambda: F.cosine_similarity(ti, ti, 0), lambda: G.cosine_similarity(mi, mi, 0))
    assert_raises_same(lambda: F.cosine_similarity(torch.zeros(2, 3), torch.zeros(4, 3)),
                       lambda: G.cosine_similarity(mc.zeros(2, 3), mc.zeros(4, 3)))
    assert_same(G.cosine_similarity(mc.zeros(0, 3), mc.zeros(0, 3)), F.cosine_similarity(torch.zeros(0, 3),
                                                                                         torch.zeros(0, 3)))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), -float("inf"), 0.0, -1.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    rng = np.random.default_rng(14)
    t1, m1 = _pair(rng.standard_normal((4, 5)))
    t2, m2 = _pair(rng.standard_normal((4, 5)))
    if p == 0:  # a count of nonzeros: torch's result does not reach the inputs in its graph
        t1.requires_grad_(False)
        y = mc.nn.functional.pairwise_distance(m1, m2, p=p, keepdim=keepdim)
        g, = mc.autograd.grad(y.sum(), m1)
        assert not g.numpy().any()
        m1 = m1.detach()
        t2.requires_grad_(False)
        m2 = m2.detach()
    check("pairwise_distance", [t1, t2], [m1, m2], {"p": p, "keepdim": keepdim}, second=p != 0.5)


def test_pairwise_distance_shapes():
    rng = np.random.default_rng(15)
    for s1, s2 in [((3,), ()), ((), ()), ((2, 1, 4), (3, 4)), ((4,), (2, 4))]:
        t1, m1 = _pair(rng.standard_normal(s1))
        t2, m2 = _pair(rng.standard_normal(s2))
        check("pairwise_distance", [t1, t2], [m1, m2], {"eps": 1e-3})
    ti, mi = _pair([1, 2, 3], "int64", grad=False)
    assert_same(mc.nn.functional.pairwise_distance(mi, mi), torch.nn.functional.pairwise_distance(ti, ti))
    te, me = _pair(np.zeros((2, 0)))
    check("pairwise_distance", [te, te], [me, me], {"keepdim": True})
    for p in (-1.0, -float("inf")):
        assert_raises_same(lambda: torch.nn.functional.pairwise_distance(te, te, p),
                           lambda: mc.nn.functional.pairwise_distance(me, me, p))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
def test_pdist(p):
    a = np.random.default_rng(16).standard_normal((5, 3))
    a[3] = a[1]  # a zero distance: torch's pdist gradient is 0 there
    a[4] = a[0] + np.array([1.0, -1.0, 0.5])  # a tie for p = inf
    t, m = _pair(a)
    check("pdist", [t], [m], {"p": p}, second=False)  # torch has no double backward for pdist


def test_pdist_edge():
    F, G = torch.nn.functional, mc.nn.functional
    for shape in [(1, 3), (3, 0), (0, 2)]:
        t, m = _pair(np.zeros(shape))
        assert_same(G.pdist(m), F.pdist(t))
    t64, m64 = _pair(np.random.default_rng(17).standard_normal((4, 3)), "float64")
    check("pdist", [t64], [m64], rtol=1e-7, atol=1e-9, second=False)
    assert_raises_same(lambda: F.pdist(torch.zeros(3)), lambda: G.pdist(mc.zeros(3)))
    assert_raises_same(lambda: F.pdist(torch.zeros(3, 2, dtype=torch.long)),
                       lambda: G.pdist(mc.zeros(3, 2, dtype=mc.long)))
    assert_raises_same(lambda: F.pdist(torch.zeros(3, 2), -1), lambda: G.pdist(mc.zeros(3, 2), -1))
    for dt in ("float16", "bfloat16"):
        assert_raises_same(lambda: F.pdist(torch.zeros(3, 2, dtype=getattr(torch, dt))),
                           lambda: G.pdist(mc.zeros(3, 2, dtype=getattr(mc, dt))))


# ---------------------------------------------------------------- one_hot, shuffles


def test_one_hot():
    F, G = torch.nn.functional, mc.nn.functional
    for data, nc in [([0, 2, 1], -1), ([[0, 3], [2, 1]], 5), (2, 4), ([], 3)]:
        t, m = torch.tensor(data, dtype=torch.long), mc.tensor(data, dtype=mc.long)
        assert_same(G.one_hot(m, nc), F.one_hot(t, nc))
    for data, nc, dt in [([1.0], -1, "float32"), ([1], -1, "int32"), ([-1, 2], -1, "int64"), ([1, 2], 2, "int64"),
                         ([], -1, "int64"), ([1], -2, "int64")]:
        assert_raises_same(lambda: F.one_hot(torch.tensor(data, dtype=getattr(torch, dt)), nc),
                           lambda: G.one_hot(mc.tensor(data, dtype=getattr(mc, dt)), nc))


@pytest.mark.parametrize("shape,r", [((1, 8, 2, 3), 2), ((2, 3, 9, 2, 2), 3), ((4, 2, 2), 2), ((1, 5, 2, 2), 1)])
def test_pixel_shuffle(shape, r):
    t, m = _pair(np.random.default_rng(18).standard_normal(shape))
    check("pixel_shuffle", [t, r], [m, r])
    y = torch.nn.functional.pixel_shuffle(t, r).detach()
    ty, my = _pair(y.numpy())
    check("pixel_unshuffle", [ty, r], [my, r])
    ti = torch.arange(int(np.prod(shape))).reshape(shape)
    assert_same(mc.nn.functional.pixel_shuffle(mc.from_torch(ti), r), torch.nn.functional.pixel_shuffle(ti, r))


def test_shuffle_errors():
    F, G = torch.nn.functional, mc.nn.functional
    cases = [("pixel_shuffle", (4, 2), 2), ("pixel_shuffle", (4, 2, 2), 0), ("pixel_shuffle", (3, 2, 2), 2),
             ("pixel_unshuffle", (1, 3, 2), 2), ("pixel_unshuffle", (1, 2, 3), 2), ("pixel_unshuffle", (2, 2), 2),
             ("pixel_unshuffle", (1, 2, 2), 0), ("channel_shuffle", (4, 2), 2), ("channel_shuffle", (1, 4, 2), 0),
             ("channel_shuffle", (1, 5, 2), 2)]
    for name, shape, r in cases:
        assert_raises_same(lambda: getattr(F, name)(torch.zeros(shape), r), lambda: getattr(G, name)(mc.zeros(shape), r))


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((2, 6, 1, 2, 1), 6)])
def test_channel_shuffle(shape, g):
    t, m = _pair(np.random.default_rng(19).standard_normal(shape))
    check("channel_shuffle", [t, g], [m, g])


# ---------------------------------------------------------------- dropout family


def _train(name, x, p, **kw):
    return getattr(mc.nn.functional, name)(x, p, training=True, **kw)


def test_dropout_eval_and_p0_identity():
    """Which calls hand back the input object itself (unbatched dropout1d/3d return a squeezed copy, as torch)."""
    a = np.random.default_rng(27).standard_normal((2, 3, 4)).astype(np.float32)
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        for p, training, inplace in [(0.5, False, False), (0.0, True, False), (0.5, False, True)]:
            res = []
            for L in (torch, mc):
                x = L.from_numpy(a.copy())
                xx = x[0] if name == "dropout1d" else x.unsqueeze(0) if name == "dropout3d" else x
                y = getattr(L.nn.functional, name)(xx, p, training=training, inplace=inplace)
                res.append((y is xx, y))
            assert res[0][0] == res[1][0], (name, p, training, inplace)
            assert_same(res[1][1], res[0][1])


def test_dropout_values_and_grad():
    a = np.random.default_rng(20).standard_normal((50, 40)).astype(np.float32) + 3.0
    x = mc.from_numpy(a.copy()).requires_grad_()
    y = _train("dropout", x, 0.3)
    y.sum().backward()
    yv, gv = y.detach().numpy(), x.grad.numpy()
    kept = yv != 0
    np.testing.assert_allclose(yv[kept], a[kept] / 0.7, rtol=1e-6)
    np.testing.assert_allclose(gv, kept / 0.7, rtol=1e-6)
    assert 0.6 < kept.mean() < 0.8


@pytest.mark.parametrize("name,shape", [("dropout1d", (6, 40, 5)), ("dropout1d", (40, 5)), ("dropout2d", (6, 40, 3, 3)),
                                        ("dropout2d", (40, 3, 3)), ("dropout3d", (6, 40, 2, 2, 2)),
                                        ("dropout3d", (40, 2, 2, 2))])
def test_feature_dropout_channels(name, shape):
    a = np.random.default_rng(21).uniform(1, 2, shape).astype(np.float32)
    x = mc.from_numpy(a.copy()).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = _train(name, x, 0.5)
    y.sum().backward()
    yv, gv = y.detach().numpy(), x.grad.numpy()
    assert yv.shape == a.shape
    spatial = {"dropout1d": 1, "dropout2d": 2, "dropout3d": 3}[name]
    if name == "dropout2d" and len(shape) == 3:
        spatial = 1  # torch treats a 3D input to dropout2d as (N, C, L)
    flat = yv.reshape(yv.shape[:yv.ndim - spatial] + (-1,))
    kept = flat[..., 0] != 0
    assert np.all((flat != 0) == kept[..., None])  # whole channels dropped
    np.testing.assert_allclose(yv, np.where((yv != 0), a * 2.0, 0.0), rtol=1e-6)
    np.testing.assert_allclose(gv, (yv != 0) * 2.0, rtol=1e-6)


def test_alpha_dropout_values():
    al = 1.7580993408473766
    p = 0.25
    a_ = 1.0 / np.sqrt((al * al * p + 1) * (1 - p))
    a = np.random.default_rng(22).standard_normal((30, 20, 4)).astype(np.float32)
    for name in ("alpha_dropout", "feature_alpha_dropout"):
        x = mc.from_numpy(a.copy()).requires_grad_()
        y = _train(name, x, p)
        y.sum().backward()
        yv, gv = y.detach().numpy(), x.grad.numpy()
        dropped = np.isclose(gv, 0.0)
        np.testing.assert_allclose(yv[~dropped], a[~dropped] * a_ + al * a_ * p, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(yv[dropped], al * a_ * (p - 1), rtol=1e-5)
        np.testing.assert_allclose(gv[~dropped], a_, rtol=1e-6)
        if name == "feature_alpha_dropout":
            assert np.all(dropped == dropped[..., :1])
        assert 0.15 < dropped.mean() < 0.35


def test_dropout_p1_and_inplace():
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout", "dropout2d"):
        t, m = torch.randn(2, 3, 4), mc.randn(2, 3, 4)
        assert_same(_train(name, m, 1.0), getattr(torch.nn.functional, name)(t, 1.0, training=True))
    x = mc.randn(3, 4, 5)
    assert mc.nn.functional.dropout(x, 0.5, True, inplace=True) is x
    assert mc.nn.functional.dropout2d(x, 0.5, True, inplace=True) is x
    y = mc.randn(4, 5)
    assert mc.nn.functional.dropout1d(y, 0.5, True, inplace=True) is y
    assert mc.nn.functional.dropout1d(y, 1.0, True, inplace=True) is y
    assert not y.numpy().any()  # written through the unbatched view
    assert mc.dropout_(y, 0.5, True) is y
    assert mc.feature_dropout_(x, 0.5, True) is x
    assert mc.alpha_dropout_(x, 0.5, True) is x
    assert mc.feature_alpha_dropout_(x, 0.5, True) is x


def test_dropout_errors_and_warnings():
    F, G = torch.nn.functional, mc.nn.functional
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        for p in (-0.1, 1.5):
            assert_raises_same(lambda: getattr(F, name)(torch.zeros(2, 3, 4), p),
                               lambda: getattr(G, name)(mc.zeros(2, 3, 4), p))
    assert_raises_same(lambda: F.dropout1d(torch.zeros(1, 2, 3, 4)), lambda: G.dropout1d(mc.zeros(1, 2, 3, 4)))
    # the native top-level ops raise RuntimeError for a bad p (even when not training), F.* ValueError
    for name in ("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout", "alpha_dropout_",
                 "feature_alpha_dropout", "feature_alpha_dropout_"):
        for p, train in [(1.5, True), (-0.5, False)]:
            assert_raises_same(lambda: getattr(torch, name)(torch.ones(2, 3, 4), p, train),
                               lambda: getattr(mc, name)(mc.ones(2, 3, 4), p, train))
    assert_raises_same(lambda: F.feature_alpha_dropout(torch.zeros(3), 0.5, True),
                       lambda: G.feature_alpha_dropout(mc.zeros(3), 0.5, True))
    assert_raises_same(lambda: torch.feature_dropout(torch.zeros(3), 0.5, True),
                       lambda: mc.feature_dropout(mc.zeros(3), 0.5, True))
    ti, mi = torch.ones(2, 3, dtype=torch.long), mc.ones(2, 3, dtype=mc.long)
    assert_raises_same(lambda: F.dropout(ti, 0.5, True), lambda: G.dropout(mi, 0.5, True))
    assert_raises_same(lambda: F.alpha_dropout(ti, 0.5, True), lambda: G.alpha_dropout(mi, 0.5, True))
    assert G.dropout(mi, 0.5, False) is mi
    for name, shape in [("dropout2d", (2, 3)), ("dropout2d", (1, 2, 3)), ("dropout3d", (2, 3, 4))]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(G, name)(mc.zeros(shape), 0.5)
        assert w, name


# ---------------------------------------------------------------- silu on complex


def test_silu_complex():
    a = (np.random.default_rng(23).standard_normal(6) + 1j * np.random.default_rng(24).standard_normal(6))
    t = torch.tensor(a.astype(np.complex64))
    assert_same(mc.nn.functional.silu(mc.from_torch(t)), torch.nn.functional.silu(t))
    tg, mg = t.clone().requires_grad_(), mc.from_torch(t).requires_grad_()
    assert_raises_same(lambda: torch.nn.functional.silu(tg), lambda: mc.nn.functional.silu(mg))


def test_integer_and_bool_edges():
    """Bounds/values cast to the integer type by truncation, overflow and Bool errors as torch."""
    F, G = torch.nn.functional, mc.nn.functional
    ti, mi = _pair([0, 1, 2, 5, -3], "int64", grad=False)
    for lo, hi in [(1.5, 3.7), (-2.7, -1.2)]:
        assert_same(G.hardtanh(mi, lo, hi), F.hardtanh(ti, lo, hi))
    tu, mu = _pair([0, 7, 200], "uint8", grad=False)
    assert_same(G.relu6(mu), F.relu6(tu))
    assert_raises_same(lambda: F.threshold(tu, 4, 300), lambda: G.threshold(mu, 4, 300))
    t32, m32 = _pair([1, 5], "int32", grad=False)
    assert_raises_same(lambda: F.threshold(t32, 4, -3e9), lambda: G.threshold(m32, 4, -3e9))
    tb, mb = _pair([True, False], "bool", grad=False)
    for fn in (lambda L, x: L.nn.functional.relu6(x), lambda L, x: L.nn.functional.threshold(x, 0, 1),
               lambda L, x: L.nn.functional.softsign(x), lambda L, x: L.nn.functional.hardtanh(x)):
        assert_raises_same(lambda: fn(torch, tb), lambda: fn(mc, mb))


def test_inplace_on_leaf_requiring_grad_raises():
    for name in ("elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "threshold_"):
        args = (0.0, 1.0) if name == "threshold_" else ()
        assert_raises_same(lambda: getattr(torch.nn.functional, name)(torch.ones(3, requires_grad=True), *args),
                           lambda: getattr(mc.nn.functional, name)(mc.ones(3, requires_grad=True), *args))


@pytest.mark.parametrize("name,args,kw", [("softmax", (1,), {}), ("log_softmax", (0,), {}), ("softmin", (1,), {}),
                                          ("normalize", (), {"p": 3.0}), ("glu", (), {"dim": 0}),
                                          ("pairwise_distance", ("other",), {}),
                                          ("cosine_similarity", ("other",), {})])
def test_float64_accuracy(name, args, kw):
    rng = np.random.default_rng(28)
    t, m = _pair(rng.standard_normal((4, 6)) * 5, "float64")
    o_t, o_m = _pair(rng.standard_normal((4, 6)), "float64")
    at = [o_t if a == "other" else a for a in args]
    am = [o_m if a == "other" else a for a in args]
    check(name, [t, *at], [m, *am], kw, rtol=1e-10, atol=1e-12)


# Note [CPU activation values] (nn/_activation.py): large float32 CPU inputs take torch's clamp formulas for their
# values (leaky_relu and hardsigmoid by x's bits, cpu_math's leaky_relu_any and hardsigmoid_any); the gradients
# still come from the selecting forward
@pytest.mark.parametrize("name,kw,value_fn", [("hardtanh", {}, "_hardtanh_value"), ("relu6", {}, "_hardtanh_value"),
                                              ("hardtanh", {"min_val": -2.0, "max_val": 0.5}, "_hardtanh_value"),
                                              ("hardswish", {}, "_hardswish_value"),
                                              ("leaky_relu", {}, "cpu_math.leaky_relu_any"),
                                              ("leaky_relu", {"negative_slope": 0.2}, "cpu_math.leaky_relu_any"),
                                              ("hardsigmoid", {}, "cpu_math.hardsigmoid_any")])
@pytest.mark.parametrize("grad", [False, True])
def test_large_cpu_clamp_activations_take_torch_formulas(name, kw, value_fn, grad, monkeypatch):
    from mlx_compat._ops import cpu_math
    from mlx_compat.nn import _activation as A

    calls = []
    module, attr = (cpu_math, value_fn.split(".")[1]) if value_fn.startswith("cpu_math.") else (A, value_fn)
    real = getattr(module, attr)
    monkeypatch.setattr(module, attr, lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(51)
    x = (rng.standard_normal((3, 64, 128)) * 4).astype(np.float32)
    x.reshape(-1)[:10] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -3.0, 3.0, 6.0, -1.0, 1.0]
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        t = L.from_numpy(x).requires_grad_(grad)
        y = getattr(L.nn.functional, name)(t, **kw)
        res.append((y, L.autograd.grad(y, t, L.from_numpy(cot))[0] if grad else None))
    np.testing.assert_array_equal(res[1][0].detach().numpy(), res[0][0].detach().numpy())  # torch's bits
    if grad:
        finite = np.isfinite(x)  # (the gradient at NaN and the infinities is the selecting forward's, as before)
        np.testing.assert_allclose(res[1][1].numpy()[finite], res[0][1].numpy()[finite], rtol=1e-5, atol=1e-6)
    assert calls == [1]


def _staged_values_against_torch(name, kw, value_fn, scale, specials, grad, monkeypatch, seed):
    """(ours, torch's) values and input gradients of F.<name>(x, **kw) for a large float32 CPU x holding `specials`,
    with the number of calls cpu_math.<value_fn> took."""
    from mlx_compat._ops import cpu_math

    calls = []
    real = getattr(cpu_math, value_fn)
    monkeypatch.setattr(cpu_math, value_fn, lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((3, 64, 128)) * scale).astype(np.float32)
    x.reshape(-1)[:len(specials)] = specials
    cot = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for L in (torch, mc):
        t = L.from_numpy(x).requires_grad_(grad)
        y = getattr(L.nn.functional, name)(t, **kw)
        res.append((y.detach().numpy(), L.autograd.grad(y, t, L.from_numpy(cot))[0].numpy() if grad else None))
    (ty, tg), (y, g) = res
    keep = ~np.isnan(ty)
    np.testing.assert_array_equal(np.isnan(y), ~keep)
    np.testing.assert_array_equal(np.signbit(y[keep]), np.signbit(ty[keep]))
    if grad:
        finite = np.isfinite(x)
        np.testing.assert_allclose(g[finite], tg[finite], rtol=1e-5, atol=1e-6)
    assert calls == [1]
    return y, ty


# Note [CPU activation values]: elu, selu and celu of large float32 CPU inputs take their values from x's two parts
# (by its bits) and the per-size expm1 (cpu_math.elu_any): within a unit or two in the last place of torch's (its
# own expm1 rounds differently), exact at the special values, signed zeros and NaN included
@pytest.mark.parametrize("name,kw", [("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0})])
@pytest.mark.parametrize("grad", [False, True])
def test_large_cpu_elu_family_values_follow_torch(name, kw, grad, monkeypatch):
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-45, 1e-45, -1e-7, -100.0, -1e30, 1e30, 89.0, -89.0]
    y, ty = _staged_values_against_torch(name, kw, "elu_any", 4, specials, grad, monkeypatch, 52)
    np.testing.assert_allclose(y, ty, rtol=3e-7, atol=0, equal_nan=True)
    np.testing.assert_array_equal(y.reshape(-1)[:len(specials)], ty.reshape(-1)[:len(specials)])


# Note [CPU activation values]: softplus (beta 1, threshold 20 or more), logsigmoid and mish of large float32 CPU
# inputs take their values from x's parts (by its bits) and log1p(e^-|x|) in vectorised stages (cpu_math's
# softplus_any, logsigmoid_any): within a few units in the last place of torch's, subnormal exps flushed (mish(-88):
# -5e-37 against 0), signs, infinities and NaN as torch's
@pytest.mark.parametrize("name,kw,value_fn", [("softplus", {}, "softplus_any"),
                                              ("softplus", {"threshold": 30.0}, "softplus_any"),
                                              ("logsigmoid", {}, "logsigmoid_any"), ("mish", {}, "softplus_any")])
@pytest.mark.parametrize("grad", [False, True])
def test_large_cpu_softplus_family_values_follow_torch(name, kw, value_fn, grad, monkeypatch):
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-45, 1e-45, -1e-7, 1e-7, 16.9, 17.0, 20.0, 20.5, -20.0, -88.0,
                -104.0, 1e30, -1e30]
    y, ty = _staged_values_against_torch(name, kw, value_fn, 6, specials, grad, monkeypatch, 53)
    np.testing.assert_allclose(y, ty, rtol=4e-7, atol=1e-36, equal_nan=True)


def test_softplus_with_its_threshold_in_reach_keeps_the_selecting_forward(monkeypatch):
    from mlx_compat._ops import cpu_math

    calls = []
    real = cpu_math.softplus_any
    monkeypatch.setattr(cpu_math, "softplus_any", lambda *a: calls.append(1) or real(*a))
    x = (np.random.default_rng(54).standard_normal((3, 64, 128)) * 6).astype(np.float32)
    for kw in ({"beta": 2.0}, {"threshold": 1.0}):  # torch's threshold changes values there: its own formula
        assert_same(mc.nn.functional.softplus(mc.from_numpy(x), **kw),
                    torch.nn.functional.softplus(torch.from_numpy(x), **kw), rtol=1e-6, atol=1e-7)
    assert not calls


def test_gumbel_softmax():
    """Samples differ from torch's (other RNG streams); what is checked is torch's contract: soft samples are
    distributions over `dim`, hard ones one-hot with the soft sample's gradient (straight-through), the argmax
    frequencies follow softmax(logits), and the deprecated `eps` warns as torch's."""
    F = mc.nn.functional
    logits = mc.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], requires_grad=True)
    mc.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert soft.shape == (2, 3) and soft.dtype == mc.float32
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-6)
    mc.manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(hard.detach().numpy().ravel().tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(hard.detach().argmax(-1).numpy(), soft.detach().argmax(-1).numpy())
    w = mc.tensor([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    (hard * w).sum().backward()
    g_hard = logits.grad.clone()
    logits.grad = None
    (soft * w).sum().backward()
    np.testing.assert_allclose(g_hard.numpy(), logits.grad.numpy(), rtol=1e-5, atol=1e-7)
    mc.manual_seed(1)
    draws = F.gumbel_softmax(mc.tensor([0.0, 1.0, 2.0]).expand(20000, 3), dim=1, hard=True).sum(0) / 20000
    np.testing.assert_allclose(draws.numpy(), torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0).numpy(), atol=0.015)
    for L in (torch, mc):
        with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
            L.nn.functional.gumbel_softmax(L.zeros(2, 3), eps=1e-5)


def test_float64_activations_are_float64_accurate():
    """float64 activations agree with torch's to 1e-12 (gelu's forward used MLX's erf, float32-accurate in float64:
    6e-5 off, Note [MLX float64 precision])."""
    x = np.random.default_rng(0).uniform(-3, 3, 2000)
    for name in ("gelu", "softplus", "elu", "selu", "celu", "silu", "mish", "logsigmoid", "softsign", "hardswish"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
        ours = getattr(mc.nn.functional, name)(mc.tensor(x, dtype=mc.float64)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300, err_msg=name)
