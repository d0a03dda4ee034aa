"""nn.functional interpolate / upsample* / grid_sample / affine_grid and torch.grid_sampler*: values,
gradients (input and grid), dtypes, warnings and error types against torch."""
import itertools
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

F = {torch: torch.nn.functional, mc: mc.nn.functional}


def _run(fn, arrays, dtype="float32", cot_seed=1):
    """fn(L, *tensors) on both libraries; returns [(out, grads)] for torch then mc (grads of a random VJP)."""
    res = []
    cot = None
    for L in (torch, mc):
        ts = [L.tensor(a, dtype=getattr(L, dtype), requires_grad=True) for a in arrays]
        y = fn(L, *ts)
        if cot is None:
            cot = np.random.default_rng(cot_seed).standard_normal(tuple(y.shape))
        (y * L.tensor(cot, dtype=y.dtype)).sum().backward()
        res.append((y, [t.grad for t in ts]))
    return res


def _check(res, rtol=1e-5, grad_rtol=1e-4):
    (yt, gt), (ym, gm) = res
    assert_same(ym, yt, rtol=rtol, atol=rtol)
    for a, b in zip(gm, gt):
        assert_same(a, b, rtol=grad_rtol, atol=grad_rtol)


# ---------------------------------------------------------------- interpolate

MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 1),
         ("area", 2), ("area", 3)]
SIZE_ARGS = [dict(size=3), dict(size=7), dict(size=8), dict(scale_factor=1.7), dict(scale_factor=0.6),
             dict(scale_factor=2), dict(scale_factor=1.7, recompute_scale_factor=True),
             dict(scale_factor=0.3, recompute_scale_factor=False)]


@pytest.mark.parametrize("mode,rank", MODES, ids=[f"{m}-{r}d" for m, r in MODES])
@pytest.mark.parametrize("kw", SIZE_ARGS, ids=[str(sorted(k.items())) for k in SIZE_ARGS])
def test_interpolate(mode, rank, kw):
    aligns = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    for ac in aligns:
        a = np.random.default_rng(rank).standard_normal((2, 3) + (4,) * rank)
        _check(_run(lambda L, x: F[L].interpolate(x, mode=mode, align_corners=ac, **kw), [a]))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [dict(size=(3, 5)), dict(size=(2, 9)), dict(scale_factor=0.35), dict(size=(1, 1)),
                                dict(scale_factor=(0.5, 1.5))])
@pytest.mark.parametrize("ac", [False, True])
def test_interpolate_antialias(mode, kw, ac):
    a = np.random.default_rng(0).standard_normal((1, 2, 11, 7))
    _check(_run(lambda L, x: F[L].interpolate(x, mode=mode, align_corners=ac, antialias=True, **kw), [a]))


@pytest.mark.parametrize("mode", ["nearest", "linear", "area"])
def test_interpolate_float64_and_uneven(mode):
    a = np.random.default_rng(3).standard_normal((2, 2, 13))
    _check(_run(lambda L, x: F[L].interpolate(x, size=5, mode=mode), [a], dtype="float64"), 1e-12, 1e-12)
    _check(_run(lambda L, x: F[L].interpolate(x, size=29, mode=mode), [a], dtype="float64"), 1e-12, 1e-12)


def test_interpolate_mixed_sizes_bicubic_uneven():
    a = np.random.default_rng(4).standard_normal((1, 3, 5, 9)) * 100
    for ac in (False, True):
        _check(_run(lambda L, x: F[L].interpolate(x, size=(7, 4), mode="bicubic", align_corners=ac), [a]), 1e-4)
        _check(_run(lambda L, x: F[L].interpolate(x, scale_factor=(1.3, 0.7), mode="bilinear", align_corners=ac),
                    [a]), 1e-4)


def test_interpolate_nearest_uint8():
    a = np.random.default_rng(5).integers(0, 200, (1, 2, 4, 5))
    for mode in ("nearest", "nearest-exact"):
        yt = torch.nn.functional.interpolate(torch.tensor(a, dtype=torch.uint8), size=(7, 3), mode=mode)
        ym = mc.nn.functional.interpolate(mc.tensor(a, dtype=mc.uint8), size=(7, 3), mode=mode)
        assert_same(ym, yt)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
def test_interpolate_nearest_other_integers_raise(dtype):
    # torch's CPU nearest kernels exist for uint8 and floating types only
    assert_raises_same(
        lambda: torch.nn.functional.interpolate(torch.zeros(1, 1, 3, dtype=getattr(torch, dtype)), size=5),
        lambda: mc.nn.functional.interpolate(mc.zeros(1, 1, 3, dtype=getattr(mc, dtype)), size=5))


def test_interpolate_float16():
    a = np.random.default_rng(6).standard_normal((1, 2, 5, 6))
    for mode in ("bilinear", "nearest"):
        yt = torch.nn.functional.interpolate(torch.tensor(a, dtype=torch.float16), size=(3, 8), mode=mode)
        ym = mc.nn.functional.interpolate(mc.tensor(a, dtype=mc.float16), size=(3, 8), mode=mode)
        assert_same(ym, yt)


def test_upsample_wrappers():
    a = np.random.default_rng(7).standard_normal((1, 2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(_run(lambda L, x: F[L].upsample_bilinear(x, scale_factor=2), [a]))
        _check(_run(lambda L, x: F[L].upsample_bilinear(x, size=(5, 2)), [a]))
        _check(_run(lambda L, x: F[L].upsample_nearest(x, size=(5, 7)), [a]))
        _check(_run(lambda L, x: F[L].upsample(x, scale_factor=1.5, mode="bicubic"), [a]))
    for name in ("upsample_bilinear", "upsample_nearest", "upsample"):
        with pytest.warns(UserWarning, match="deprecated"):
            getattr(mc.nn.functional, name)(mc.zeros(1, 1, 2, 2), scale_factor=2)


def test_interpolate_double_backward():
    a = np.random.default_rng(8).standard_normal((1, 1, 3, 4))
    gs = []
    for L in (torch, mc):
        x = L.tensor(a, requires_grad=True)
        y = F[L].interpolate(x, size=(5, 5), mode="bicubic", align_corners=False)
        (g,) = L.autograd.grad((y ** 2).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad((g ** 2).sum(), x)
        gs.append((g, gg))
    assert_same(gs[1][0], gs[0][0], rtol=1e-4, atol=1e-4)
    assert_same(gs[1][1], gs[0][1], rtol=1e-4, atol=1e-4)


ERRORS = [
    ((1, 2, 4), dict(size=3, mode="nearest", align_corners=True)),
    ((1, 2, 4), dict(size=3, scale_factor=2.0)),
    ((1, 2, 4), dict()),
    ((1, 2, 4), dict(size=(3, 3))),
    ((1, 2, 4, 4), dict(scale_factor=(2.0,))),
    ((1, 2, 4), dict(size=(3.5,))),
    ((1, 2, 4), dict(size=3, recompute_scale_factor=True)),
    ((1, 2, 4), dict(size=3, mode="bilinear")),
    ((1, 2, 4, 4), dict(size=3, mode="linear")),
    ((1, 2, 4, 4), dict(size=3, mode="trilinear")),
    ((1, 2, 4, 4, 4), dict(size=3, mode="bicubic")),
    ((1, 2, 4, 4), dict(size=3, mode="nearest", antialias=True)),
    ((1, 2, 4), dict(size=3, mode="linear", antialias=True)),
    ((2, 4), dict(size=3, mode="nearest")),
    ((1, 2, 4), dict(size=3, mode="cubic")),
    ((1, 2, 4, 4), dict(size=0, mode="bilinear")),
    ((1, 2, 4, 4), dict(size=(-1, 2), mode="area")),
]


@pytest.mark.parametrize("shape,kw", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_interpolate_errors(shape, kw):
    assert_raises_same(lambda: torch.nn.functional.interpolate(torch.zeros(shape), **kw),
                       lambda: mc.nn.functional.interpolate(mc.zeros(shape), **kw))


def test_interpolate_area_empty_output():
    for size in (0, (0, 2)):
        out = [F[L].interpolate(L.ones(1, 2, 3, 3), size=size, mode="area") for L in (torch, mc)]
        assert_same(out[1], out[0])


def test_interpolate_integer_linear_raises():
    assert_raises_same(lambda: torch.nn.functional.interpolate(torch.zeros(1, 1, 3, dtype=torch.int64), size=5,
                                                               mode="linear"),
                       lambda: mc.nn.functional.interpolate(mc.zeros(1, 1, 3, dtype=mc.int64), size=5, mode="linear"))


# ---------------------------------------------------------------- grid_sample

GRID_CASES = [(nd, m, p, ac) for nd in (2, 3) for m, p, ac in
              itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True))
              if not (nd == 3 and m == "bicubic")]


@pytest.mark.parametrize("nd,mode,padding,ac", GRID_CASES, ids=["-".join(map(str, c)) for c in GRID_CASES])
def test_grid_sample(nd, mode, padding, ac):
    r = np.random.default_rng(nd)
    a = r.uniform(-2, 2, (2, 3) + (5, 4, 6)[3 - nd:])
    g = r.uniform(-2.5, 2.5, (2,) + (3, 4, 2)[3 - nd:] + (nd,))
    _check(_run(lambda L, x, gr: F[L].grid_sample(x, gr, mode=mode, padding_mode=padding, align_corners=ac), [a, g]))


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_grid_sampler_2d_float64(mode, padding):
    r = np.random.default_rng(mode * 3 + padding)
    a = r.uniform(-2, 2, (2, 3, 4, 7))
    g = r.uniform(-3, 3, (2, 5, 2, 2))
    _check(_run(lambda L, x, gr: L.grid_sampler_2d(x, gr, mode, padding, True), [a, g], dtype="float64"),
           1e-10, 1e-10)
    _check(_run(lambda L, x, gr: L.grid_sampler(x, gr, mode, padding, False), [a, g], dtype="float64"),
           1e-10, 1e-10)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_grid_sampler_3d(padding):
    r = np.random.default_rng(padding)
    a = r.uniform(-1, 1, (2, 2, 3, 4, 5))
    g = r.uniform(-4, 4, (2, 3, 2, 4, 3))
    for ac in (False, True):
        _check(_run(lambda L, x, gr: L.grid_sampler_3d(x, gr, 0, padding, ac), [a, g]))


def test_grid_sample_large_values_and_affine_grid():
    # an image-sized input with a rotated affine grid, as in torch's reference inputs
    a = np.arange(2 * 3 * 17 * 23).reshape(2, 3, 17, 23) % 256
    th = np.array([[[0.7, 0.6, 0.1], [-0.5, 0.8, -0.2]]] * 2)
    for mode in ("bilinear", "bicubic", "nearest"):
        res = []
        for L in (torch, mc):
            x = L.tensor(a, dtype=L.float32)
            grid = F[L].affine_grid(L.tensor(th, dtype=L.float32), (2, 3, 17, 23), align_corners=False)
            res.append(F[L].grid_sample(x, grid, mode=mode, padding_mode="reflection", align_corners=False))
        assert_same(res[1], res[0], rtol=1e-4, atol=1e-3)


def test_grid_sample_warns_and_double_backward():
    with pytest.warns(UserWarning, match="align_corners"):
        mc.nn.functional.grid_sample(mc.zeros(1, 1, 2, 2), mc.zeros(1, 1, 1, 2))
    r = np.random.default_rng(10)
    a, g = r.standard_normal((1, 2, 3, 3)), r.uniform(-1, 1, (1, 2, 2, 2))
    out = []
    for L in (torch, mc):
        x, gr = L.tensor(a, requires_grad=True), L.tensor(g, requires_grad=True)
        y = F[L].grid_sample(x, gr, mode="bilinear", align_corners=False)
        gx, gg = L.autograd.grad((y ** 2).sum(), (x, gr), create_graph=True)
        (h,) = L.autograd.grad((gx ** 2).sum() + (gg ** 2).sum(), x)
        out.append((gx, gg, h))
    for m, t in zip(out[1], out[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


GRID_ERRORS = [
    ((1, 1, 3, 3), (1, 2, 2, 2), dict(mode="linear")),
    ((1, 1, 3, 3), (1, 2, 2, 2), dict(padding_mode="circular")),
    ((1, 1, 3, 3, 3), (1, 2, 2, 2, 3), dict(mode="bicubic")),
    ((1, 1, 3, 3), (1, 2, 2, 3), dict()),
    ((1, 1, 3, 3), (1, 2, 2, 2, 2), dict()),
    ((1, 1, 3, 3), (2, 2, 2, 2), dict()),
    ((1, 3, 3), (1, 2, 2), dict()),
]


@pytest.mark.parametrize("xs,gs,kw", GRID_ERRORS, ids=[str(i) for i in range(len(GRID_ERRORS))])
def test_grid_sample_errors(xs, gs, kw):
    assert_raises_same(lambda: torch.nn.functional.grid_sample(torch.zeros(xs), torch.zeros(gs), align_corners=False,
                                                               **kw),
                       lambda: mc.nn.functional.grid_sample(mc.zeros(xs), mc.zeros(gs), align_corners=False, **kw))


def test_grid_sample_dtype_mismatch():
    assert_raises_same(
        lambda: torch.grid_sampler_2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 2, 2, 2, dtype=torch.float64), 0, 0,
                                      False),
        lambda: mc.grid_sampler_2d(mc.zeros(1, 1, 3, 3), mc.zeros(1, 2, 2, 2, dtype=mc.float64), 0, 0, False))


# ---------------------------------------------------------------- affine_grid


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 6), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_affine_grid(size, ac, dtype):
    nd = len(size) - 2
    th = np.random.default_rng(nd).standard_normal((2, nd, nd + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(_run(lambda L, t: F[L].affine_grid(t, size, align_corners=ac), [th], dtype=dtype))
        _check(_run(lambda L, t: L.affine_grid_generator(t, size, ac), [th], dtype=dtype))


AFFINE_ERRORS = [
    ((2, 2, 3), (2, 3, 4), ),
    ((2, 3, 3), (2, 3, 4, 5)),
    ((2, 2, 3), (2, 3, 4, 5, 6)),
    ((2, 2, 3), (2, 3, 0, 5)),
]


@pytest.mark.parametrize("ts,size", AFFINE_ERRORS, ids=[str(i) for i in range(len(AFFINE_ERRORS))])
def test_affine_grid_errors(ts, size):
    assert_raises_same(lambda: torch.nn.functional.affine_grid(torch.zeros(ts), size, align_corners=False),
                       lambda: mc.nn.functional.affine_grid(mc.zeros(ts), size, align_corners=False))
    with pytest.warns(UserWarning, match="align_corners"):  # align_corners=None warns before checking theta
        assert_raises_same(lambda: torch.nn.functional.affine_grid(torch.zeros(ts, dtype=torch.int64), size),
                           lambda: mc.nn.functional.affine_grid(mc.zeros(ts, dtype=mc.int64), size))


# ---------------------------------------------------------------- aten::_upsample_{bilinear,bicubic}2d_aa

AA_KW = [dict(output_size=[3, 3], align_corners=False, scale_factors=None),
         dict(output_size=None, align_corners=False, scale_factors=[1.7, 0.9]),
         dict(output_size=None, align_corners=True, scale_factors=[0.8, 1.0]),
         dict(output_size=[3, 3], align_corners=False, scales_h=1.7, scales_w=0.9),
         dict(output_size=[3, 4], align_corners=True, scales_h=1.7, scales_w=0.9)]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("kw", AA_KW, ids=[str(i) for i in range(len(AA_KW))])
def test_upsample_aa_aten(mode, kw):
    from mlx_compat.nn import _sampling
    ours = getattr(_sampling, f"_upsample_{mode}2d_aa")
    theirs = getattr(torch.ops.aten, f"_upsample_{mode}2d_aa")
    a = np.random.default_rng(12).standard_normal((2, 3, 10, 20))
    _check(_run(lambda L, x: (theirs if L is torch else ours)(x, **kw), [a]))


@pytest.mark.parametrize("nd", [2, 3])
def test_grid_sample_non_finite_grid(nd):
    # NaN / inf coordinates follow torch's CPU kernels (Note [grid_sample NaN coordinates])
    g = np.array([np.nan, 0.2, 0.1, 0.1, np.inf, 0.3, -np.inf, 0.3, 0.2, 0.5, 0.5, np.nan] * 2)[: 4 * nd]
    g = g.reshape((1, 2, 2) + (1,) * (nd - 2) + (nd,)).astype(np.float32)
    a = np.arange(3 ** nd, dtype=np.float32).reshape((1, 1) + (3,) * nd)
    modes = ("bilinear", "nearest", "bicubic") if nd == 2 else ("bilinear", "nearest")
    for mode in modes:
        for padding in ("zeros", "border", "reflection"):
            out = [F[L].grid_sample(L.tensor(a), L.tensor(g), mode=mode, padding_mode=padding, align_corners=False)
                   for L in (torch, mc)]
            assert_same(out[1], out[0])


UINT8_CASES = [("bilinear", False), ("bilinear", True), ("bicubic", True)]


@pytest.mark.parametrize("mode,aa", UINT8_CASES, ids=[f"{m}-aa{a}" for m, a in UINT8_CASES])
@pytest.mark.parametrize("kw", [dict(size=(130, 130)), dict(size=(4, 13)), dict(size=(27, 5)),
                                dict(scale_factor=(0.45, 1.6))], ids=["up", "mixed", "same-h", "scale"])
@pytest.mark.parametrize("ac", [False, True])
def test_interpolate_uint8_images(mode, aa, kw, ac):
    # torch's fixed-point uint8 resize, bit for bit (Note [uint8 resize])
    a = np.random.default_rng(13).integers(0, 256, (2, 3, 27, 31))
    out = [F[L].interpolate(L.tensor(a, dtype=L.uint8), mode=mode, antialias=aa, align_corners=ac, **kw)
           for L in (torch, mc)]
    assert_same(out[1], out[0])


def test_interpolate_uint8_bicubic_plain_raises():
    with pytest.raises(NotImplementedError):
        mc.nn.functional.interpolate(mc.zeros(1, 1, 4, 4, dtype=mc.uint8), size=(3, 3), mode="bicubic")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_half(dtype, mode):
    # torch computes half-precision grid sampling in the input's own type: the same pixels and weights
    r = np.random.default_rng(14)
    a, g = r.standard_normal((2, 3, 5, 6)), r.uniform(-1.2, 1.2, (2, 4, 3, 2))
    out = [F[L].grid_sample(L.tensor(a, dtype=getattr(L, dtype)), L.tensor(g, dtype=getattr(L, dtype)), mode=mode,
                            padding_mode="reflection", align_corners=False) for L in (torch, mc)]
    assert_same(out[1], out[0])


@pytest.mark.parametrize("kw", [dict(size=(4, 13)), dict(size=(30, 30)), dict(scale_factor=0.37),
                                dict(size=(11, 2))], ids=["mixed", "up", "down", "same-h"])
def test_interpolate_lanczos(kw):
    a = np.random.default_rng(15).standard_normal((2, 3, 11, 9))
    _check(_run(lambda L, x: F[L].interpolate(x, mode="lanczos", antialias=True, **kw), [a]))
    u = np.random.default_rng(16).integers(0, 256, (1, 3, 27, 31))
    out = [F[L].interpolate(L.tensor(u, dtype=L.uint8), mode="lanczos", antialias=True, **kw) for L in (torch, mc)]
    assert_same(out[1], out[0])


@pytest.mark.parametrize("shape,kw", [((1, 1, 4, 4), dict(antialias=False)),
                                      ((1, 1, 4, 4), dict(antialias=True, align_corners=True)),
                                      ((1, 1, 4), dict())])
def test_interpolate_lanczos_errors(shape, kw):
    assert_raises_same(lambda: torch.nn.functional.interpolate(torch.zeros(shape), size=2, mode="lanczos", **kw),
                       lambda: mc.nn.functional.interpolate(mc.zeros(shape), size=2, mode="lanczos", **kw))


@pytest.mark.parametrize("shape", [(1, 2, 4), (1, 2, 4, 4), (1, 2, 4, 4, 4), (0, 2, 4, 4), (0, 3, 5)])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "area", "linear"])
def test_interpolate_node_names_and_empty_batches(shape, mode):
    """torch's node names (UpsampleNearest2DBackward0, AdaptiveAvgPool3DBackward0, ...) and, for an empty batch,
    torch's shape, a recorded node and zero gradients; zero channels raise torch's error where torch raises."""
    mode = {3: "linear", 4: "bilinear", 5: "trilinear"}[len(shape)] if mode == "linear" else mode
    if mode == "area" and len(shape) == 3:
        pytest.skip("torch records a 1-D area resize as a squeeze of its 2-D pool (SqueezeBackward1); ours names "
                    "one node")
    res = []
    for L in (torch, mc):
        x = L.ones(*shape, requires_grad=True)
        y = L.nn.functional.interpolate(x, scale_factor=2, mode=mode)
        (g,) = L.autograd.grad(y, x, L.ones_like(y))
        res.append((y, g, y.grad_fn.name()))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_without_channels_raises_as_torch(mode):
    errs = []
    for L in (torch, mc):
        with pytest.raises(RuntimeError) as e:
            L.nn.functional.interpolate(L.ones(2, 0, 4, 4), size=(5, 5), mode=mode)
        errs.append(str(e.value))
    assert errs[1] == errs[0]
