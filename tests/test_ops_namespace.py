"""mlx_compat.ops.aten: the operators torch exposes only as torch.ops.aten.*, against torch's."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_packet_and_overload_objects():
    assert mc.ops.aten.slice.overloads() == ["Tensor"]
    assert callable(mc.ops.aten._safe_softmax.default)
    with pytest.raises(AttributeError):
        mc.ops.aten.no_such_op_xyz
    with pytest.raises(AttributeError):
        torch.ops.aten.no_such_op_xyz
    with pytest.raises(AttributeError):
        mc.ops.aten.slice.no_such_overload


def test_softmax_backward_data_and_safe_softmax():
    x = _arr(3, 4)
    x[1] = -np.inf
    g = _arr(3, 4, seed=1)
    out = []
    for L in (torch, mc):
        xt = L.from_numpy(x.copy()).requires_grad_()
        y = L.ops.aten._safe_softmax.default(xt, -1)
        gx = L.autograd.grad((y * L.from_numpy(g.copy())).sum(), xt)[0]
        sm = L.softmax(L.from_numpy(g.copy()), -1)
        bd = L.ops.aten._softmax_backward_data(L.from_numpy(x.clip(-3, 3)), sm, 1, L.float32)
        out.append((y, gx, bd, L._softmax_backward_data(L.from_numpy(x.clip(-3, 3)), sm, 1, L.float32)))
    for o, t in zip(out[1], out[0]):
        assert_same(o, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dim,start,end,step", [(0, 1, 3, 1), (1, None, None, 2), (-1, -3, None, 1), (0, 5, 9, 1)])
def test_slice_is_a_view(dim, start, end, step):
    out = []
    for L in (torch, mc):
        x = L.arange(24.0).reshape(4, 6)
        v = L.ops.aten.slice.Tensor(x, dim, start, end, step)
        meta = (tuple(v.shape), v.stride(), v.storage_offset())
        if v.numel():
            v.fill_(-1)
        out.append((meta, x))
    assert out[0][0] == out[1][0]
    assert_same(out[1][1], out[0][1])


def test_native_dropout_backward_and_batch_norm_with_update():
    g, x = _arr(4, 3), _arr(4, 3, seed=2)
    mask = np.random.default_rng(3).random((4, 3)) > 0.5
    res = []
    for L in (torch, mc):
        r = [L.ops.aten.native_dropout_backward.default(L.from_numpy(g.copy()), L.from_numpy(mask.copy()), 2.0)]
        rm, rv = L.zeros(3), L.ones(3)
        outs = L.ops.aten._batch_norm_with_update(L.from_numpy(x.copy()), L.ones(3), L.zeros(3), rm, rv, 0.1, 1e-5)
        r += list(outs[:3]) + [rm, rv, outs[3].shape]
        res.append(r)
    for o, t in zip(res[1], res[0]):
        if isinstance(t, torch.Tensor):
            assert_same(o, t, rtol=1e-5, atol=1e-6)
        else:
            assert tuple(o) == tuple(t)


def test_upsample_aa_overloads():
    x = _arr(1, 2, 8, 8)
    for name in ("_upsample_bilinear2d_aa", "_upsample_bicubic2d_aa"):
        t1 = getattr(torch.ops.aten, name).default(torch.from_numpy(x), [3, 5], False)
        t2 = getattr(torch.ops.aten, name).vec(torch.from_numpy(x), None, True, [0.5, 0.75])
        m1 = getattr(mc.ops.aten, name).default(mc.from_numpy(x.copy()), [3, 5], False)
        m2 = getattr(mc.ops.aten, name).vec(mc.from_numpy(x.copy()), None, True, [0.5, 0.75])
        m3 = getattr(mc.ops.aten, name)(mc.from_numpy(x.copy()), [3, 5], False)
        assert_same(m1, t1, rtol=1e-5, atol=1e-6)
        assert_same(m2, t2, rtol=1e-5, atol=1e-6)
        assert_same(m3, t1, rtol=1e-5, atol=1e-6)
