"""nn.functional.conv1d/2d/3d: values and gradients against torch over padding modes, strides, dilation and
groups; torch's errors (with messages) for inputs smaller than the (dilated) kernel and the other shape checks."""
import numpy as np
import pytest

from helpers import assert_same, fake_gpu_json, mc, torch


def _run(nd, x_shape, w_shape, bias=True, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)] + \
        ([rng.standard_normal(w_shape[0])] if bias else [])
    res = []
    for L in (torch, mc):
        xs = [L.from_numpy(d.copy()).to(L.float32).requires_grad_() for d in data]
        out = getattr(L.nn.functional, f"conv{nd}d")(*xs, **kwargs)
        cot = L.from_numpy(np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))).to(L.float32)
        res.append((out, L.autograd.grad(out, xs, cot), type(out.grad_fn).__name__))
    (t_out, t_g, t_n), (m_out, m_g, m_n) = res
    assert m_n == t_n
    assert_same(m_out, t_out, rtol=1e-4, atol=1e-4)
    for m, t in zip(m_g, t_g):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("nd,x_shape,w_shape,kwargs", [
    (1, (2, 4, 9), (6, 4, 3), dict(padding=1)),
    (1, (4, 9), (6, 2, 3), dict(groups=2, stride=2)),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), dict(padding="same", dilation=2)),
    (2, (1, 3, 3, 3), (4, 3, 3, 3), {}),                     # input exactly the kernel's size
    (2, (1, 3, 2, 2), (4, 3, 3, 3), dict(padding=1)),        # smaller than the kernel, padding makes it fit
    (2, (1, 3, 2, 2), (4, 3, 3, 3), dict(padding="same")),
    (3, (1, 2, 4, 5, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1))),
])
def test_conv(nd, x_shape, w_shape, kwargs):
    _run(nd, x_shape, w_shape, **kwargs)


@pytest.mark.parametrize("nd,x_shape,w_shape,kwargs", [
    (2, (1, 2, 2, 2), (3, 2, 3, 3), {}),
    (2, (2, 2, 2), (3, 2, 3, 3), {}),                        # unbatched
    (1, (1, 2, 2), (3, 2, 3), {}),
    (2, (1, 2, 4, 4), (3, 2, 3, 3), dict(dilation=2)),       # the dilated kernel is what counts
    (3, (1, 2, 2, 5, 5), (3, 2, 3, 3, 3), {}),
    (2, (1, 2, 0, 2), (3, 2, 3, 3), {}),
    (2, (1, 2, 2, 2), (3, 2, 3, 3), dict(dtype="float64")),  # the size check comes before the dtype check
    (2, (1, 3, 2, 2), (3, 2, 3, 3), {}),                     # channels are checked first
    (2, (2, 3, 5, 5), (0, 3, 3, 3), dict(padding=1)),        # no output channels
    (2, (2, 4, 5, 5), (1, 2, 3, 3), dict(groups=2)),         # fewer output channels than groups
    (2, (2, 4, 5, 5), (3, 2, 3, 3), dict(groups=2)),         # output channels not divisible by groups
])
def test_conv_input_smaller_than_kernel(nd, x_shape, w_shape, kwargs):
    kwargs = dict(kwargs)
    w_dtype = kwargs.pop("dtype", "float32")
    errs = []
    for L in (torch, mc):
        with pytest.raises(Exception) as e:
            getattr(L.nn.functional, f"conv{nd}d")(L.zeros(*x_shape), L.zeros(*w_shape).to(getattr(L, w_dtype)),
                                                   **kwargs)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0]), errs


# Note [Convolution plans]
def test_planned_geometry_matches_torch_on_repeated_and_list_arguments():
    """A convolution planned once answers like torch on every later call: the same geometry with tuple and list
    arguments, another dtype of the same shapes, and a failing geometry raising torch's error every time."""
    from mlx_compat.nn import functional as MF

    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((5, 3, 3, 3))
    for kw in (dict(stride=(2, 1), padding=(1, 0)), dict(stride=[2, 1], padding=[1, 0]),
               dict(stride=(2, 1), padding=(1, 0))):
        for dt in ("float32", "float64"):
            want = torch.nn.functional.conv2d(torch.from_numpy(x).to(getattr(torch, dt)),
                                              torch.from_numpy(w).to(getattr(torch, dt)), **kw)
            got = mc.nn.functional.conv2d(mc.from_numpy(x).to(getattr(mc, dt)), mc.from_numpy(w).to(getattr(mc, dt)),
                                          **kw)
            assert got.dtype == getattr(mc, dt)
            assert_same(got, want, rtol=1e-5, atol=1e-5)
    n = len(MF._CONV_PLANS)
    mc.nn.functional.conv2d(mc.from_numpy(x).float(), mc.from_numpy(w).float(), stride=(2, 1), padding=(1, 0))
    assert len(MF._CONV_PLANS) == n  # the tuple geometry was planned already
    small = rng.standard_normal((1, 3, 2, 2))
    for _ in range(2):
        with pytest.raises(RuntimeError) as t_err:
            torch.nn.functional.conv2d(torch.from_numpy(small).float(), torch.from_numpy(w).float())
        with pytest.raises(RuntimeError) as m_err:
            mc.nn.functional.conv2d(mc.from_numpy(small).float(), mc.from_numpy(w).float())
        assert str(m_err.value) == str(t_err.value)


# Note [Inference convolution path]
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, dilation=2, padding=(2, 1)), dict(padding="same")])
def test_inference_path_matches_torch(dtype, kw):
    """No-gradient convolutions (the inference path) of a plain input and of a convolution's channels-last output,
    with and without bias, against torch; with a gradient recorded the same call records its node."""
    rng = np.random.default_rng(4)
    x, w1, w2, b = (rng.standard_normal(s) for s in ((2, 3, 9, 8), (6, 3, 3, 3), (5, 6, 3, 3), (5,)))
    tol = 1e-5 if dtype == "float32" else 3e-2
    res = []
    for L in (torch, mc):
        F, dt = L.nn.functional, getattr(L, dtype)
        t = [L.from_numpy(a).to(dt) for a in (x, w1, w2, b)]
        with L.no_grad():
            h = F.conv2d(t[0], t[1], **kw)
            res.append((h, F.conv2d(h, t[2], t[3], **kw), F.conv2d(h, t[2], **kw)))
        assert res[-1][1].grad_fn is None
        wg = t[2].clone().requires_grad_()
        rec = F.conv2d(h, wg, t[3], **kw)
        assert type(rec.grad_fn).__name__ == "ConvolutionBackward0"
    for m, tt in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype) and m.shape == tt.shape
        assert_same(m.float(), tt.float(), rtol=tol, atol=tol)


# Note [Recorded convolution path]
@pytest.mark.parametrize("wants", ["x", "w", "xb", "xwb"])
@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, dilation=2, padding=(2, 1))])
def test_recorded_path_gradients_of_the_wanted_operands(wants, kw):
    """A recorded convolution differentiates only the operands that require grad (the first layer's image wants
    none, a frozen weight none), with torch's values; create_graph gives the second derivative torch gives."""
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 9, 8), (4, 3, 3, 3), (4,)))
    res = []
    for L in (torch, mc):
        t = [L.from_numpy(a).to(L.float32).requires_grad_(k in wants) for a, k in zip((x, w, b), "xwb")]
        out = L.nn.functional.conv2d(*t, **kw)
        ins = [v for v in t if v.requires_grad]
        cot = L.from_numpy(rng.standard_normal(tuple(out.shape)) if L is torch else res[0][-1]).to(L.float32)
        gs = L.autograd.grad(out, ins, cot, create_graph=True)
        second = L.autograd.grad(sum((g * g).sum() for g in gs), ins, allow_unused=True)
        res.append((out,) + gs + second + ((cot.numpy(),) if L is torch else ()))
    for m, t in zip(res[1], res[0][:-1]):
        if t is None:
            assert m is None or not bool((m != 0).any())
        else:
            assert_same(m, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("wants", ["w", "xwb"])
@pytest.mark.parametrize("k,kw", [(3, dict(stride=2, dilation=(1, 2), padding=(1, 2))), (1, dict(stride=2)),
                                  (1, {}), (3, dict(stride=2, padding=1))],
                         ids=["3x3", "1x1 stride 2", "1x1", "3x3 stride 2 by phases"])
def test_recorded_path_repeated_backward_matches_torch(wants, k, kw):
    """Note [Recorded convolution path]: from the second backward with the same shapes on, the vjp is the compiled
    one (the 1x1 product's too); every step's gradients (new values each step, two shapes alternating, a third
    seen once) are torch's."""
    rng = np.random.default_rng(6)
    for step, hw in enumerate([(9, 8), (9, 8), (7, 10), (9, 8), (7, 10), (5, 12)]):
        x, w, b = (rng.standard_normal(s) for s in ((2, 3) + hw, (4, 3, k, k), (4,)))
        res = []
        for L in (torch, mc):
            t = [L.from_numpy(a).to(L.float32).requires_grad_(k in wants) for a, k in zip((x, w, b), "xwb")]
            out = L.nn.functional.conv2d(*t, **kw)
            cot = L.from_numpy(np.cos(np.arange(out.numel()).reshape(tuple(out.shape)))).to(L.float32)
            res.append(L.autograd.grad(out, [v for v in t if v.requires_grad], cot))
        for m, t in zip(res[1], res[0]):
            assert_same(m, t, rtol=1e-4, atol=1e-4)


# Note [convolutions as products]: an unrecorded 1x1 convolution on a GPU is MLX's convolution; on the CPU the
# product. Both against torch's CPU values, in a subprocess under the fake GPU (Note [Fake GPU]), which counts the
# calls into mx.conv_general and mx.matmul to tell the paths apart.
_ONE_BY_ONE = r'''
import json
import numpy as np
import mlx.core as mx
import torch
import mlx_compat as mc

calls = {"conv_general": 0, "matmul": 0}
for name in calls:
    def spy(*a, _f=getattr(mx, name), _n=name, **k):
        calls[_n] += 1
        return _f(*a, **k)
    setattr(mx, name, spy)
rng = np.random.default_rng(0)
out = {}
for dev in ("cuda", "cpu"):
    for stride in (1, 2):
        for bias in (True, False):
            for stem in (False, True):  # with a stem the input is a convolution's (channels-last) output
                x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
                w0 = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
                w = rng.standard_normal((5, 4, 1, 1)).astype(np.float32)
                b = rng.standard_normal(5).astype(np.float32) if bias else None
                res = []
                for L, d in ((mc, dev), (torch, "cpu")):
                    t = lambda a: None if a is None else L.from_numpy(a).to(d)
                    with L.no_grad():
                        xin = L.nn.functional.conv2d(t(x), t(w0), padding=1) if stem else t(x)
                        before = dict(calls)
                        y = L.nn.functional.conv2d(xin, t(w), t(b), stride=stride)
                        used = {k: calls[k] - before[k] for k in calls}
                    res.append((y, used))
                (y, used), (ref, _) = res
                out[f"{dev} {stride} {bias} {stem}"] = dict(
                    err=float(np.abs(y.cpu().numpy() - ref.numpy()).max()), device=str(y.device),
                    shape=[list(y.shape), list(ref.shape)], calls=used)
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def one_by_one_results():
    return fake_gpu_json(_ONE_BY_ONE)


@pytest.mark.parametrize("dev", ["cuda", "cpu"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("stem", [False, True])
def test_unrecorded_1x1_convolution_path_by_device(one_by_one_results, dev, stride, bias, stem):
    r = one_by_one_results[f"{dev} {stride} {bias} {stem}"]
    assert r["device"] == ("cuda:0" if dev == "cuda" else "cpu")
    assert r["shape"][0] == r["shape"][1]
    assert r["err"] <= 1e-4, r
    if dev == "cuda":
        assert r["calls"] == {"conv_general": 1, "matmul": 0}, r["calls"]
    else:
        assert r["calls"] == {"conv_general": 0, "matmul": 1}, r["calls"]


# Note [Half-type products on the CPU]: the products of Note [convolutions as products] (1x1 and patch
# convolutions, recorded or not, channels-last or not) multiply half types in float32 on the CPU, through OpenBLAS
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", ["1x1", "1x1_strided", "1x1_channels_last", "patch"])
@pytest.mark.parametrize("grad", [False, True])
def test_half_type_conv_products_on_the_cpu(dtype, case, grad):
    from mlx_compat import _blas
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    w = rng.standard_normal((12, 16) + ((2, 2) if case == "patch" else (1, 1))).astype(np.float32)
    b = rng.standard_normal(12).astype(np.float32)
    kw = {"stride": 2} if case in ("1x1_strided", "patch") else {}
    cot = rng.standard_normal((2, 12, 4, 4) if kw else (2, 12, 8, 8)).astype(np.float32)

    def run(L):
        dt = getattr(L, dtype)
        X = L.from_numpy(x).to(dt)
        if case == "1x1_channels_last":
            X = X.contiguous(memory_format=L.channels_last)
        xs = [X.requires_grad_(grad), L.from_numpy(w).to(dt).requires_grad_(grad), L.from_numpy(b).to(dt)]
        out = L.nn.functional.conv2d(*xs, **kw)
        return out, (L.autograd.grad(out, xs[:2], L.from_numpy(cot).to(dt)) if grad else ())

    before = _blas.calls("cblas_sgemm") if _blas.status()["active"] else None
    ours, ours_g = run(mc)
    ours.detach().float().numpy()
    for g in ours_g:
        g.float().numpy()
    if before is not None:  # the products ran on OpenBLAS (MLX's half-type loop calls no BLAS routine)
        assert _blas.calls("cblas_sgemm") > before
    ref, ref_g = run(torch)
    tol = dict(rtol=2e-2, atol=6e-2) if dtype == "bfloat16" else dict(rtol=2e-3, atol=8e-3)
    assert_same(ours, ref, **tol)
    for o, r in zip(ours_g, ref_g):
        assert_same(o, r, **tol)


# Note [Transposed convolution by phases] (nn/_conv_transpose.py): on the CPU a strided convolution's input gradient
# is the transposed convolution computed phase by phase, not MLX's input-dilated convolution
_PHASE_CASES = [
    (2, (2, 3, 9, 8), (4, 3, 3, 3), dict(stride=2, padding=1), "xwb"),          # ResNet's downsampling 3x3
    (2, (2, 3, 11, 10), (4, 3, 7, 7), dict(stride=2, padding=3), "xw"),        # the stem's 7x7
    (2, (1, 2, 9, 7), (3, 2, 2, 3), dict(stride=(3, 2), padding=(0, 1)), "xwb"),  # kernel narrower than a stride
    (2, (2, 2, 8, 8), (3, 2, 1, 1), dict(stride=3), "x"),                      # 1x1 product, gradient wanted
    (2, (2, 4, 9, 9), (6, 2, 3, 3), dict(stride=2, padding=2, groups=2), "xwb"),  # grouped: the general path
    (2, (2, 4, 8, 8), (4, 1, 3, 3), dict(stride=2, padding=1, groups=4), "xw"),   # depthwise
    (1, (2, 3, 13), (5, 3, 4), dict(stride=3, padding=2), "xwb"),
    (3, (1, 2, 5, 6, 7), (3, 2, 3, 2, 3), dict(stride=(2, 1, 3), padding=(1, 0, 1)), "xwb"),
    (2, (1, 3, 4, 4), (2, 3, 5, 5), dict(stride=4, padding=2), "x"),           # input positions no window reads
]


@pytest.mark.parametrize("nd,xs,ws,kw,wants", _PHASE_CASES)
def test_strided_convolution_input_gradient_by_phases(nd, xs, ws, kw, wants, monkeypatch):
    from mlx_compat.nn import _conv_transpose
    calls = []
    real = _conv_transpose.transposed_conv
    monkeypatch.setattr(_conv_transpose, "transposed_conv", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    cot = None
    res = []
    for L in (torch, mc):
        t = [L.from_numpy(a).to(L.float32).requires_grad_(k in wants) for a, k in zip((x, w, b), "xwb")]
        out = getattr(L.nn.functional, f"conv{nd}d")(*t, **kw)
        if cot is None:
            cot = rng.standard_normal(tuple(out.shape))
        ins = [v for v in t if v.requires_grad]
        gs = L.autograd.grad(out, ins, L.from_numpy(cot).to(L.float32), create_graph=True)
        second = L.autograd.grad(sum((g * g).sum() for g in gs), ins, allow_unused=True)
        res.append((out,) + gs + second)
    for m, t in zip(res[1], res[0]):
        if t is None:
            assert m is None or not bool((m != 0).any())
        else:
            assert_same(m, t, rtol=1e-4, atol=1e-4)
    if "x" in wants and ws[2] > 1:  # a 1x1 kernel is a product (Note [convolutions as products])
        assert calls, "the input gradient did not take the transposed convolution by phases"


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_strided_convolution_input_gradient_half_types(dtype):
    rng = np.random.default_rng(3)
    x, w, cot = rng.standard_normal((2, 8, 10, 10)), rng.standard_normal((6, 8, 3, 3)), rng.standard_normal((2, 6, 5, 5))
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        t = [L.from_numpy(a).to(dt).requires_grad_() for a in (x, w)]
        out = L.nn.functional.conv2d(*t, stride=2, padding=1)
        res.append(L.autograd.grad(out, t, L.from_numpy(cot).to(dt)))
    for m, t in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype)
        assert_same(m.float(), t.float(), rtol=2e-2, atol=8e-2 if dtype == "bfloat16" else 1e-2)


# Note [Taps that read only padding]: the recorded convolution drops the kernel taps that read only padding
_TRIM_CASES = [
    (2, (2, 6, 1, 1), (5, 6, 3, 3), dict(padding=1), True),                   # ResNet's last stage at 32 px
    (2, (2, 4, 2, 2), (5, 4, 3, 3), dict(stride=2, padding=1), True),         # one output: stride 1, two taps
    (2, (1, 3, 2, 3), (4, 3, 5, 5), dict(padding=2), True),
    (2, (1, 3, 1, 4), (4, 3, 3, 3), dict(padding=(1, 2), dilation=(1, 2)), True),
    (2, (1, 3, 2, 2), (4, 3, 3, 3), dict(padding="same"), False),              # every tap reads the input
    (1, (2, 3, 2), (4, 3, 7), dict(padding=3, stride=2), True),
    (3, (1, 2, 1, 3, 2), (3, 2, 3, 3, 3), dict(padding=1), True),
]


@pytest.mark.parametrize("nd,xs,ws,kw,trimmed", _TRIM_CASES)
def test_convolution_taps_that_read_only_padding(nd, xs, ws, kw, trimmed):
    from mlx_compat.nn import functional as F
    rng = np.random.default_rng(sum(xs) * 7 + sum(ws))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    cot = None
    res = []
    for L in (torch, mc):
        t = [L.from_numpy(a).to(L.float32).requires_grad_() for a in (x, w, b)]
        out = getattr(L.nn.functional, f"conv{nd}d")(*t, **kw)
        if cot is None:
            cot = rng.standard_normal(tuple(out.shape))
        gs = L.autograd.grad(out, t, L.from_numpy(cot).to(L.float32), create_graph=True)
        second = L.autograd.grad(sum((g * g).sum() for g in gs), t[:2])
        with L.no_grad():
            inference = getattr(L.nn.functional, f"conv{nd}d")(*t, **kw)
        res.append((out, inference) + gs + second)
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)
    kw = dict(kw)
    padding = kw.pop("padding", 0)
    plan = F._conv_plan(xs, ws, kw.get("stride", 1), padding, kw.get("dilation", 1), 1, nd, mc.float32)
    assert (plan[7][0] is F._conv_trimmed_fn) == trimmed


# Note [Convolution rows kept for the weight]
_ROWS_CASES = [
    (2, (4, 3, 10, 9), (5, 3, 3, 3), dict(padding=1), "xwb"),
    (2, (2, 4, 11, 12), (6, 4, 3, 2), dict(stride=2, padding=(1, 0)), "xw"),   # strided: input gradient by phases
    (2, (2, 4, 11, 12), (6, 4, 3, 3), dict(dilation=2, padding=2), "wb"),
    (2, (2, 5, 8, 8), (7, 5, 4, 4), dict(padding="same"), "xwb"),              # uneven padding
    (2, (8, 1, 12, 12), (16, 1, 3, 3), dict(padding=1), "wb"),                 # a first layer: one channel
    (2, (2, 3, 7, 6), (4, 3, 3, 3), {}, "xwb"),                                  # no padding: the windows of a
    (2, (2, 5, 9, 9), (4, 5, 3, 2), dict(stride=2), "wb"),                      # transposed (strided) N...C view
    (2, (2, 4, 9, 9), (3, 4, 3, 3), dict(padding=1), "xb"),                    # weight frozen: MLX's path
    (1, (3, 2, 9), (4, 2, 3), dict(padding=1), "xwb"),
    (3, (2, 2, 5, 6, 7), (3, 2, 3, 3, 3), dict(padding=1, stride=(1, 2, 1)), "xwb"),
]


@pytest.mark.parametrize("nd,xs,ws,kw,wants", _ROWS_CASES)
def test_convolution_rows_kept_for_the_weight(nd, xs, ws, kw, wants, monkeypatch):
    """A recorded float32 CPU convolution whose weight wants a gradient unfolds its input once and takes the
    weight's gradient from those rows: torch's values, the same values as MLX's convolution and vjp (bit for bit
    without dilation), over two steps; a frozen weight keeps MLX's path, and so does create_graph's backward."""
    from mlx_compat.nn import functional as F
    kept = []
    real = F._conv_rows
    monkeypatch.setattr(F, "_conv_rows", lambda *a: kept.append(real(*a)) or kept[-1])
    rng = np.random.default_rng(sum(xs) * 3 + sum(ws))
    res = {}
    for name, L, paths in (("torch", torch, None), ("rows", mc, F._ROWS_CONV), ("mlx", mc, ())):
        monkeypatch.setattr(F, "_ROWS_CONV", paths if paths is not None else F._ROWS_CONV)
        rng = np.random.default_rng(sum(xs) * 3 + sum(ws))
        steps = []
        for _ in range(2):
            x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
            t = [L.from_numpy(a).to(L.float32).requires_grad_(k in wants) for a, k in zip((x, w, b), "xwb")]
            out = getattr(L.nn.functional, f"conv{nd}d")(*t, **kw)
            cot = L.from_numpy(rng.standard_normal(tuple(out.shape))).to(L.float32)
            steps.append((out,) + L.autograd.grad(out, [v for v in t if v.requires_grad], cot))
        res[name] = steps
    assert len(kept) == (2 if "w" in wants else 0) and all(k is not None for k in kept)
    for step_t, step_r, step_m in zip(res["torch"], res["rows"], res["mlx"]):
        for t, r, m in zip(step_t, step_r, step_m):
            assert_same(r, t, rtol=1e-4, atol=1e-4)
            if "dilation" in kw:  # MLX's dilated convolution sums in another order
                assert_same(r, m, rtol=1e-5, atol=1e-5)
            else:
                assert np.array_equal(r.detach().numpy(), m.detach().numpy())


def test_convolution_rows_beyond_the_bound_and_under_create_graph(monkeypatch):
    """Rows larger than _ROWS_KEPT_MAX are not kept (MLX's convolution, torch's values); create_graph's backward
    differentiates MLX's convolution, torch's second derivatives."""
    from mlx_compat.nn import functional as F
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for bound, kept in ((2 * 72 * 27 * 4, True), (2 * 72 * 27 * 4 - 1, False)):
        monkeypatch.setattr(F, "_ROWS_KEPT_MAX", bound)
        assert (F._conv_rows(mc.from_numpy(x).float()._mx, w.shape, F._conv_plan(
            x.shape, w.shape, 1, 1, 1, 1, 2, mc.float32)[7]) is not None) == kept
        res = []
        for L in (torch, mc):
            t = [L.from_numpy(a).to(L.float32).requires_grad_() for a in (x, w, b)]
            out = L.nn.functional.conv2d(*t, padding=1)
            gs = L.autograd.grad(out, t, L.from_numpy(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
                                 .to(L.float32), create_graph=True)
            second = L.autograd.grad(sum((g * g).sum() for g in gs), t[:2])
            res.append((out,) + gs + second)
        for m, t in zip(res[1], res[0]):
            assert_same(m, t, rtol=1e-4, atol=1e-4)


# Note [Empty convolutions]
@pytest.mark.parametrize("xs,ws,kw", [
    ((0, 3, 5, 5), (4, 3, 3, 3), dict(padding=1)),             # an empty batch
    ((0, 3, 5, 5), (4, 3, 1, 1), {}),                          # ... by a 1x1 kernel (the product path)
    ((0, 4, 7, 7), (4, 2, 3, 3), dict(groups=2)),
    ((2, 0, 5, 5), (4, 0, 3, 3), dict(padding=1)),             # no input channels: torch's (N, 0, *out)
    ((3, 0, 7, 7), (4, 0, 3, 3), dict(stride=2, dilation=2)),
    ((0, 5, 5), (4, 0, 3, 3), dict(padding=1)),                # unbatched, no channels
    ((0, 3, 9), (5, 3, 3), dict(padding="same")),
    ((0, 2, 4, 5, 6), (3, 2, 3, 3, 3), dict(padding=1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_empty_convolutions(xs, ws, kw, dtype):
    """torch's shapes, dtype and node, and zero gradients for every operand, with or without a gradient recorded
    (MLX's vjp of an empty convolution fails, or returns uninitialised memory for the bias)."""
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        t = [L.ones(*s, dtype=dt).requires_grad_() for s in (xs, ws, ws[:1])]
        conv = getattr(L.nn.functional, f"conv{len(ws) - 2}d")
        with L.no_grad():
            plain = conv(*t, **kw)
        y = conv(*t, **kw)
        gs = L.autograd.grad(y, t, L.ones_like(y))
        res.append((plain, y, type(y.grad_fn).__name__) + gs)
    for m, r in zip(res[1], res[0]):
        if isinstance(r, str):
            assert m == r
        else:
            assert_same(m, r)
