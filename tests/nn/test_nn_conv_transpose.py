"""conv_transpose1d/2d/3d (nn.functional and top level): values and gradients w.r.t. input, weight and bias,
batched and unbatched, float32 and float64, and error types against torch."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

CASES = [
    (1, (1, 3, 4), (3, 3, 3), (3,), dict(stride=2, padding=2, output_padding=1)),
    (1, (2, 2, 4), (2, 2, 4), (4,), dict(stride=3, padding=1, output_padding=2, groups=2, dilation=4)),
    (1, (1, 1, 4), (1, 2, 3), None, dict(stride=2, padding=1, output_padding=1)),
    (1, (1, 4, 5), (4, 8, 3), None, {}),
    (1, (2, 2, 3), (2, 3, 2), (3,), dict(stride=4, padding=3)),  # padding beyond d*(k-1): the result is cropped
    (2, (1, 3, 4, 4), (3, 3, 3, 3), (3,), dict(stride=(2, 2), padding=2, output_padding=(1, 1))),
    (2, (2, 2, 4, 4), (2, 2, 4, 5), (4,),
     dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 3), groups=2, dilation=(4, 4))),
    (2, (1, 1, 4, 5), (1, 1, 4, 3), (1,), dict(stride=2, padding=1, output_padding=1, dilation=(2, 3))),
    (2, (2, 4, 4, 4), (4, 1, 3, 3), None, dict(groups=4)),
    (2, (1, 2, 5, 5), (2, 4, 3, 3), None, {}),
    (2, (1, 6, 3, 2), (6, 2, 2, 3), (6,), dict(stride=(1, 3), padding=(0, 1), groups=3, output_padding=(0, 2))),
    (3, (1, 3, 4, 4, 4), (3, 3, 3, 3, 3), (3,), dict(stride=(2, 2, 2), padding=2, output_padding=(1, 1, 1))),
    (3, (2, 2, 4, 4, 4), (2, 2, 4, 5, 6), (4,),
     dict(stride=(3, 2, 1), padding=(1, 2, 3), output_padding=(2, 3, 1), groups=2, dilation=(4, 4, 4))),
    (3, (1, 1, 4, 5, 2), (1, 1, 4, 3, 1), (1,), dict(stride=2, padding=1, output_padding=1, dilation=(2, 3, 2))),
    (3, (1, 4, 3, 3, 3), (4, 8, 3, 3, 3), None, {}),
]


def _run(nd, xs, ws, bs, kw, dtype, batched, top_level=False):
    r = np.random.default_rng(len(xs) + sum(ws))
    a = r.standard_normal(xs if batched else xs[1:])
    w = r.standard_normal(ws)
    b = None if bs is None else r.standard_normal(bs)
    cot = None
    res = []
    for L in (torch, mc):
        ts = [None if v is None else L.tensor(v, dtype=getattr(L, dtype), requires_grad=True) for v in (a, w, b)]
        fn = getattr(L if top_level else L.nn.functional, f"conv_transpose{nd}d")
        y = fn(*ts, **kw)
        if cot is None:
            cot = r.standard_normal(tuple(y.shape))
        (y * L.tensor(cot, dtype=y.dtype)).sum().backward()
        res.append((y, [t.grad for t in ts if t is not None]))
    (yt, gt), (ym, gm) = res
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_same(ym, yt, rtol=tol, atol=tol)
    for m, t in zip(gm, gt):
        assert_same(m, t, rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}d-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose(case, dtype, batched):
    _run(*case, dtype=dtype, batched=batched)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_top_level_and_positional(nd):
    case = next(c for c in CASES if c[0] == nd and c[3] is not None)
    _run(*case, dtype="float32", batched=True, top_level=True)
    # positional (input, weight, bias, stride, padding, output_padding, groups, dilation), as torch
    r = np.random.default_rng(nd)
    x = r.standard_normal((2, 4) + (3,) * nd)
    w = r.standard_normal((4, 3) + (2,) * nd)
    b = r.standard_normal(6)
    out = [getattr(L, f"conv_transpose{nd}d")(L.tensor(x), L.tensor(w), L.tensor(b), 2, 1, 1, 2, 1)
           for L in (torch, mc)]
    assert_same(out[1], out[0])


@pytest.mark.parametrize("case", [c for c in CASES if "dilation" not in c[4] and "stride" in c[4]],
                         ids=lambda c: f"{c[0]}d-stride{c[4]['stride']}")
def test_conv_transpose_by_phases(case, monkeypatch):
    """Note [Transposed convolution by phases]: a strided transposed convolution of dilation 1 on the CPU is
    computed phase by phase (no inserted zeros), with torch's values and gradients."""
    from mlx_compat.nn import _conv_transpose
    calls = []
    real = _conv_transpose.transposed_conv
    monkeypatch.setattr(_conv_transpose, "transposed_conv", lambda *a: calls.append(1) or real(*a))
    _run(*case, dtype="float32", batched=True)
    assert calls


def test_conv_transpose_double_backward():
    r = np.random.default_rng(11)
    x, w = r.standard_normal((1, 2, 4, 3)), r.standard_normal((2, 3, 2, 2))
    out = []
    for L in (torch, mc):
        xt, wt = L.tensor(x, requires_grad=True), L.tensor(w, requires_grad=True)
        y = L.nn.functional.conv_transpose2d(xt, wt, stride=2, padding=1)
        gx, gw = L.autograd.grad((y ** 2).sum(), (xt, wt), create_graph=True)
        (h,) = L.autograd.grad((gx * gw.sum()).sum(), wt)
        out.append((gx, gw, h))
    for m, t in zip(out[1], out[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


ERRORS = [
    (2, (1, 2, 3, 3), (3, 2, 2, 2), None, {}),  # weight's dim 0 must be the input channels
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(output_padding=1)),  # output_padding >= stride and dilation
    (2, (2, 3), (2, 2, 2, 2), None, {}),  # 2-D input to conv_transpose2d
    (1, (1, 2, 3, 3), (2, 2, 2), None, {}),  # 4-D input to conv_transpose1d
    (2, (1, 2, 2, 2), (2, 2, 3, 3), None, dict(padding=4)),  # output too small
    (2, (1, 3, 3, 3), (3, 2, 2, 2), None, dict(groups=2)),  # channels not divisible by groups
    (2, (1, 1, 3, 3), (1, 2, 2, 2), None, dict(groups=2)),  # fewer weight rows than groups
    (2, (2, 0, 3, 3), (0, 2, 2, 2), None, {}),  # no input channels: the weight has no rows
    (2, (1, 2, 3, 3), (2, 2, 2, 2), (3,), {}),  # bias of the wrong length
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(stride=(1, 2, 3))),  # stride of the wrong length
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(padding="same")),  # no string padding for transposed convs
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(stride=1.5)),
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(dilation=0)),
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(groups=0)),
    (2, (1, 2, 3, 3), (2, 2, 2, 2), None, dict(padding=-1)),
]


@pytest.mark.parametrize("nd,xs,ws,bs,kw", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_conv_transpose_errors(nd, xs, ws, bs, kw):
    def call(L):
        b = None if bs is None else L.zeros(bs)
        return getattr(L.nn.functional, f"conv_transpose{nd}d")(L.zeros(xs), L.zeros(ws), b, **kw)
    assert_raises_same(lambda: call(torch), lambda: call(mc))


def test_conv_transpose_dtype_mismatch():
    assert_raises_same(
        lambda: torch.conv_transpose2d(torch.zeros(1, 2, 3, 3), torch.zeros(2, 2, 2, 2, dtype=torch.float64)),
        lambda: mc.conv_transpose2d(mc.zeros(1, 2, 3, 3), mc.zeros(2, 2, 2, 2, dtype=mc.float64)))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_complex(nd):
    r = np.random.default_rng(20 + nd)

    def c(shape):
        return (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(np.complex64)
    x, w, b = c((2, 4) + (3,) * nd), c((4, 3) + (2,) * nd), c(6)
    cot = None
    res = []
    for L in (torch, mc):
        ts = [L.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = getattr(L.nn.functional, f"conv_transpose{nd}d")(*ts, stride=2, padding=1, groups=2, output_padding=1)
        if cot is None:
            cot = c(tuple(y.shape))
        y.backward(L.tensor(cot))
        res.append([y] + [t.grad for t in ts])
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)
