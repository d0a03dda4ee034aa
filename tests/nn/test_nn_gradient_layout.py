"""Training steps whose activations and gradients stay channels-last in MLX's memory on a GPU (Note [Channels-last
gradients] in nn/_layout.py): torchvision's residual blocks trained on the GPU device against torch's CPU
results (outputs, every gradient, running statistics), and the hints that route the backward: a convolution's
input gradient, relu's backward product and a batch norm's backward carry the channels-last hint. There is no
GPU here: the cases run in one subprocess under the package's fake GPU (Note [Fake GPU]: 'cuda' is MLX's CPU
with the GPU's bookkeeping), which also reports which batch-norm backward ran. On the CPU device the same blocks
are tests/nn/test_nn_residual_layout.py's; the hint a cast keeps is checked here directly (a saved value's is what
routes relu's backward above)."""
import json

import numpy as np
import pytest

from helpers import assert_same, fake_gpu_json, mc, torch

# The computations both sides run, as source: the subprocess runs them with mlx_compat on 'cuda', the test with torch
# on its CPU; `hint` (mlx_compat's side only) records the channels-last hints that decide the backward's path.
_BLOCKS = r"""
import numpy as np


def block(L, case, dev, hint=None):
    # torchvision's BasicBlock, training, functionally; with a stem the block's input is a convolution's output
    # (channels-last), so a downsampling 1x1 convolution takes the rows product
    F = L.nn.functional
    c, co, stride = case["c"], case["co"], case["stride"]
    rng = np.random.default_rng(case["seed"])
    arr = lambda *s: L.from_numpy(rng.standard_normal(s).astype(np.float32)).to(dev)
    x0 = arr(2, c, 9, 8).requires_grad_()
    w1, w2, wd = arr(co, c, 3, 3), arr(co, co, 3, 3), arr(co, c, 1, 1)
    g1, b1, g2, b2, gd, bd = (arr(co) for _ in range(6))
    w0 = arr(c, c, 3, 3)
    params = [w1, w2, g1, b1, g2, b2] + ([wd, gd, bd] if stride != 1 else []) + ([w0] if case["stem"] else [])
    for p in params:
        p.requires_grad_()
    stats = [(L.zeros(co, device=dev), L.ones(co, device=dev)) for _ in range(3)]
    seen = {}
    x = F.conv2d(x0, w0, padding=1) if case["stem"] else x0
    h = F.conv2d(x, w1, padding=1, stride=stride)
    if hint:
        seen["conv output"] = hint(h)
        h.register_hook(lambda g: seen.__setitem__("cotangent of the first batch norm", hint(g)))
    o = F.relu(F.batch_norm(h, *stats[0], g1, b1, training=True), inplace=True)
    if hint:
        o.register_hook(lambda g: seen.__setitem__("second convolution's input gradient", hint(g)))
    o = F.batch_norm(F.conv2d(o, w2, padding=1), *stats[1], g2, b2, training=True)
    ident = x if stride == 1 else F.batch_norm(F.conv2d(x, wd, stride=stride), *stats[2], gd, bd, training=True)
    o = o.add_(ident) if case["inplace"] else o + ident
    o = F.relu(o)
    grads = L.autograd.grad(o, [x0] + params, arr(*o.shape))
    return o, grads, stats[:2 if stride == 1 else 3], seen


def double(L, dev):
    # second derivatives through a strided 1x1 convolution of a convolution's output (on a GPU: the rows product,
    # whose written-out backward is itself differentiable)
    F = L.nn.functional
    rng = np.random.default_rng(7)
    arr = lambda *s: L.from_numpy(rng.standard_normal(s).astype(np.float32)).to(dev).requires_grad_()
    x0, w0, wd = arr(2, 4, 7, 6), arr(4, 4, 3, 3), arr(5, 4, 1, 1)
    y = F.conv2d(F.conv2d(x0, w0, padding=1), wd, stride=2)
    gx, gw = L.autograd.grad((y * y).sum(), [x0, wd], create_graph=True)
    return (y, gx, gw) + L.autograd.grad(gx.pow(2).sum() + gw.pow(2).sum(), [x0, w0, wd])
"""

_SCRIPT = _BLOCKS + r"""
import json, sys
import mlx_compat as torch
from mlx_compat import _C
import mlx_compat.nn._normalization as N

BACKWARDS = {"last": 0, "rows": 0, "forwards in N...C": 0}
_train_mx, _train_grads = N._batch_norm_train_mx, N._batch_norm_train_grads


def train_mx(*a):  # Note [Training batch norm path]: (x, wb, rm, rv, red, pshape, eps, has_w, has_b, n, last, ...)
    BACKWARDS["forwards in N...C"] += bool(a[10])
    return _train_mx(*a)


def train_grads(x, w, g, mean, invstd, axes, *rest):  # N...C statistics reduce the leading axes, NC... ones skip 1
    BACKWARDS["last" if tuple(axes) == tuple(range(len(axes))) else "rows"] += 1
    return _train_grads(x, w, g, mean, invstd, axes, *rest)


N._batch_norm_train_mx, N._batch_norm_train_grads = train_mx, train_grads
# every backward through the Python function, so that each is counted (a compiled one replays its trace: Note
# [Compiled training batch norm])
N.compiled_when_repeated = lambda key, shape, make: make()
lists = lambda ts: [t.detach().cpu().numpy().tolist() for t in ts]
out = {}
for case in json.loads(sys.argv[1]):
    BACKWARDS.update({k: 0 for k in BACKWARDS})
    o, grads, stats, seen = block(torch, case, "cuda", _C._is_channels_last)
    out[case["name"]] = {"out": lists([o])[0], "grads": lists(grads), "stats": [lists(st) for st in stats],
                         "backwards": dict(BACKWARDS), "hints": seen}
out["double"] = lists(double(torch, "cuda"))
print(json.dumps(out))
"""
_TORCH_SIDE = {}
exec(_BLOCKS, _TORCH_SIDE)  # noqa: S102 — the test's own source above

_CASES = [
    {"name": "basic", "c": 6, "co": 6, "stride": 1, "inplace": False, "seed": 0, "stem": False},
    {"name": "basic in-place add", "c": 6, "co": 6, "stride": 1, "inplace": True, "seed": 1, "stem": False},
    {"name": "downsample", "c": 6, "co": 10, "stride": 2, "inplace": False, "seed": 2, "stem": False},
    {"name": "downsample after a stem", "c": 6, "co": 10, "stride": 2, "inplace": True, "seed": 3, "stem": True},
]


@pytest.fixture(scope="module")
def fake_gpu_results():
    return fake_gpu_json(_SCRIPT, json.dumps(_CASES), timeout=600)


@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_gpu_training_block_against_torch(fake_gpu_results, case):
    r = fake_gpu_results[case["name"]]
    t_out, t_grads, t_stats, _ = _TORCH_SIDE["block"](torch, case, "cpu")
    np.testing.assert_allclose(np.array(r["out"], dtype=np.float32), t_out.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert len(r["grads"]) == len(t_grads)
    for m, t in zip(r["grads"], t_grads):
        np.testing.assert_allclose(np.array(m, dtype=np.float32), t.numpy(), rtol=1e-3, atol=1e-3)
    for (mm, mv), (tm, tv) in zip(r["stats"], t_stats):
        np.testing.assert_allclose(np.array(mm, dtype=np.float32), tm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.array(mv, dtype=np.float32), tv.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_gpu_training_gradients_stay_channels_last(fake_gpu_results, case):
    r = fake_gpu_results[case["name"]]
    assert r["hints"] == {"conv output": True, "second convolution's input gradient": True,
                          "cotangent of the first batch norm": True}
    # every batch norm's cotangent came through a relu's backward from a convolution's or the block's output:
    # all of them took the N...C backward but the last one, whose cotangent is the block's (row-major) one
    # through the final relu and the add
    n_bn = 3 if case["stride"] != 1 else 2
    assert r["backwards"]["last"] + r["backwards"]["rows"] == n_bn
    assert r["backwards"]["last"] >= 1
    # every batch norm's input is a convolution's channels-last output, but the downsampling one's when the
    # block's input is not (a 1x1 convolution of row-major memory returns row-major memory)
    assert r["backwards"]["forwards in N...C"] == (n_bn - 1 if case["stride"] != 1 and not case["stem"] else n_bn)


def test_cast_keeps_the_hint():
    """`Tensor.to(dtype)` keeps MLX's memory order, so it keeps the hint (relu's backward casts its mask)."""
    x = mc.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32))
    w = mc.from_numpy(np.random.default_rng(1).standard_normal((3, 3, 3, 3)).astype(np.float32))
    y = mc.nn.functional.conv2d(x, w, padding=1)
    assert mc._C._is_channels_last(y)
    m = (y > 0).to(mc.float32)
    assert mc._C._is_channels_last(m)
    assert not mc._C._is_channels_last((y.sum(1, keepdim=True) > 0).to(mc.float32))
    ty = torch.nn.functional.conv2d(torch.from_numpy(x.numpy().copy()), torch.from_numpy(w.numpy().copy()), padding=1)
    assert_same(m, (ty > 0).to(torch.float32))


def test_gpu_second_derivatives_through_the_rows_product(fake_gpu_results):
    for m, t in zip(fake_gpu_results["double"], _TORCH_SIDE["double"](torch, "cpu")):
        t = t.detach().numpy()
        np.testing.assert_allclose(np.array(m, dtype=np.float32), t, rtol=1e-3, atol=1e-3 * np.abs(t).max())
