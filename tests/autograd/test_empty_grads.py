"""Gradients through empty tensors: an empty batch, an index or mask selecting nothing, an empty reduction result
(Note [Empty cotangents] in autograd/_mlx_vjp.py and the ops' empty paths) against torch: the result's shape,
dtype and node, and the inputs' (zero or empty) gradients."""
import pytest

from helpers import assert_same, mc, torch


def _cases(L):
    F = L.nn.functional
    return {
        "index_select of no rows": (lambda x: x.index_select(0, L.zeros(0, dtype=L.int64)), (0, 6)),
        "index_select of none": (lambda x: x.index_select(0, L.zeros(0, dtype=L.int64)), (5, 6)),
        "advanced index of no rows": (lambda x: x[L.zeros(0, dtype=L.int64)], (0, 6)),
        "mask selecting nothing": (lambda x: x[x > 2], (5, 6)),
        "mask of an empty tensor": (lambda x: x[x > 0], (0, 6)),
        "gather of nothing": (lambda x: L.gather(x, 0, L.zeros(0, 6, dtype=L.int64)), (3, 6)),
        "amax over a non-empty dim": (lambda x: x.amax(1), (0, 6)),
        "amin keepdim": (lambda x: x.amin(1, keepdim=True), (0, 6)),
        "grid_sample of an empty batch": (
            lambda x: F.grid_sample(x.reshape(0, 1, 2, 3), L.zeros(0, 3, 3, 2), align_corners=False), (0, 6)),
        "cross_entropy of an empty batch": (lambda x: F.cross_entropy(x, L.zeros(0, dtype=L.int64)), (0, 6)),
        "linear of an empty batch": (lambda x: F.linear(x, L.ones(4, 6)), (0, 6)),
    }


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_empty_gradients(name):
    res = []
    for L in (torch, mc):
        f, shape = _cases(L)[name]
        x = L.ones(*shape, requires_grad=True)
        y = f(x)
        (g,) = L.autograd.grad(y.sum(), x)
        res.append((y, g, y.grad_fn.name()))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])


_FAKE_GPU = r'''
import json
import mlx_compat as mc
F = mc.nn.functional
out = {}
for red in ("mean", "sum", "none"):
    x = mc.ones(0, 6).to("cuda").requires_grad_()
    y = F.cross_entropy(x, mc.zeros(0, dtype=mc.int64).to("cuda"), reduction=red)
    (g,) = mc.autograd.grad(y.sum(), x)
    out[red] = [y.tolist(), list(y.shape), y.grad_fn.name(), list(g.shape), str(y.device)]
print(json.dumps(out))
'''


def test_cross_entropy_of_an_empty_batch_on_the_gpu_path():
    """The GPU's fused cross entropy (mx.fast.cross_entropy refuses an empty batch) under the fake GPU (Note [Fake
    GPU]), against torch's CPU values."""
    from helpers import fake_gpu_json
    import math
    got = fake_gpu_json(_FAKE_GPU)
    for red in ("mean", "sum", "none"):
        x = torch.ones(0, 6, requires_grad=True)
        y = torch.nn.functional.cross_entropy(x, torch.zeros(0, dtype=torch.int64), reduction=red)
        (g,) = torch.autograd.grad(y.sum(), x)
        v, shape, name, gshape, dev = got[red]
        assert (math.isnan(v) and math.isnan(y.item())) if red == "mean" else v == y.tolist()
        assert shape == list(y.shape) and name == y.grad_fn.name() and gshape == list(g.shape)
        assert dev.startswith("cuda")
