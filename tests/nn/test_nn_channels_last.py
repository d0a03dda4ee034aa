"""Convolution -> batch norm -> relu -> max pool chains, whose activations stay channels-last in MLX's memory
between layers (Note [channels-last activations] in nn/_layout.py): values, gradients, second derivatives and
running statistics against torch, in training and evaluation, for every convolution kind (MLX's convolution,
the 1x1 and patch products, with and without bias), odd sizes, non-contiguous inputs, outputs written in place
or viewed before the batch norm, and weights updated in place between calls."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _data(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _params(L, arrays):
    return [L.from_numpy(a.copy()).requires_grad_() for a in arrays]


def _chain(L, nd, x, w, cb, bw, bb, rm, rv, training, conv_kw, pool):
    F = L.nn.functional
    y = getattr(F, f"conv{nd}d")(x, w, cb, **conv_kw)
    y = F.batch_norm(y, rm, rv, bw, bb, training=training, momentum=0.3, eps=1e-3)
    y = F.relu(y)
    if pool:
        y = getattr(F, f"max_pool{nd}d")(y, 3, 2, 1)
    return y


CASES = [  # nd, input shape, weight shape, conv kwargs, bias, pool
    (2, (2, 3, 9, 7), (8, 3, 3, 3), dict(padding=1), False, True),        # MLX convolution, odd sizes
    (2, (2, 5, 8, 8), (12, 5, 1, 1), dict(stride=2), False, False),       # 1x1 product, strided
    (2, (2, 5, 7, 9), (9, 5, 1, 1), {}, True, True),                      # 1x1 product with bias
    (2, (2, 3, 8, 8), (8, 3, 2, 2), dict(stride=2), True, False),         # patch product
    (2, (1, 4, 11, 6), (10, 4, 3, 3), dict(padding=2, dilation=2), True, True),
    (1, (3, 4, 13), (9, 4, 3), dict(padding=1), False, True),
    (3, (1, 2, 5, 6, 4), (8, 2, 3, 3, 3), dict(padding=1), True, True),
]


@pytest.mark.parametrize("record", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("nd,xs,ws,kw,bias,pool", CASES)
def test_chain_against_torch(nd, xs, ws, kw, bias, pool, training, record):
    """record=False: no gradient recorded, the batch norm normalises channels-last (with batch statistics in
    training); record=True: the row-major path and the gradients."""
    c = ws[0]
    x, w, cb, bw, bb, cot_seed = *_data([xs, ws, (c,), (c,), (c,)]), 7
    rm0 = np.random.default_rng(3).standard_normal(c).astype(np.float32) * 0.1
    rv0 = np.random.default_rng(4).uniform(0.5, 2.0, c).astype(np.float32)
    res = []
    for L in (torch, mc):
        ps = _params(L, [x, w] + ([cb] if bias else []) + [bw, bb])
        tx, tw = ps[0], ps[1]
        tcb = ps[2] if bias else None
        tbw, tbb = ps[-2], ps[-1]
        rm, rv = L.from_numpy(rm0.copy()), L.from_numpy(rv0.copy())
        with L.set_grad_enabled(record):
            out = _chain(L, nd, tx, tw, tcb, tbw, tbb, rm, rv, training, kw, pool)
        cot = L.from_numpy(np.random.default_rng(cot_seed).standard_normal(tuple(out.shape)).astype(np.float32))
        grads = L.autograd.grad(out, ps, cot) if record else ()
        res.append((out, grads, rm, rv))
    (t_out, t_g, t_rm, t_rv), (m_out, m_g, m_rm, m_rv) = res
    assert_same(m_out, t_out, rtol=1e-4, atol=1e-4)
    for m, t in zip(m_g, t_g):
        assert_same(m, t, rtol=1e-3, atol=1e-3)
    assert_same(m_rm, t_rm, rtol=1e-5, atol=1e-6)
    assert_same(m_rv, t_rv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_chain_second_derivatives(training):
    """create_graph through convolution, batch norm and relu: the gradient of the input gradient's square sum."""
    x, w, bw, bb = _data([(2, 3, 6, 5), (6, 3, 3, 3), (6,), (6,)], seed=2)
    res = []
    for L in (torch, mc):
        tx, tw, tbw, tbb = ps = _params(L, [x, w, bw, bb])
        rm, rv = L.zeros(6), L.ones(6)
        y = _chain(L, 2, tx, tw, None, tbw, tbb, rm, rv, training, dict(padding=1), False)
        y = L.nn.functional.conv2d(y, tw.permute(1, 0, 2, 3), padding=1)
        (gx,) = L.autograd.grad((y * y).sum(), [tx], create_graph=True)
        res.append(L.autograd.grad((gx * gx).sum(), [tw, tbw, tbb]))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=2e-3, atol=2e-3)


def test_batch_norm_after_in_place_write_and_views():
    """A convolution's output written in place, or viewed, before the batch norm: the normalisation is of the
    values the tensor holds, whatever its memory order."""
    x, w = _data([(2, 4, 7, 7), (8, 4, 3, 3)], seed=5)
    outs = []
    for L in (torch, mc):
        F = L.nn.functional
        y = F.conv2d(L.from_numpy(x.copy()), L.from_numpy(w.copy()), padding=1)
        y.mul_(3.0)
        y[:, 1] += 1.0
        a = F.batch_norm(y, None, None, training=True)
        b = F.batch_norm(y[:, :, 1:, :5], None, None, training=True)
        c = F.batch_norm(y.transpose(2, 3), L.zeros(8), L.ones(8) * 2, training=False)
        d = F.batch_norm(F.conv2d(L.from_numpy(x.copy()), L.from_numpy(w.copy()), padding=1)[1:], None, None,
                         training=True)
        outs.append((a, b, c, d))
    for m, t in zip(outs[1], outs[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


def test_non_contiguous_inputs():
    """channels_last-strided and sliced inputs to the convolution, the batch norm and the pool."""
    x, w = _data([(2, 9, 9, 4), (8, 4, 3, 3)], seed=6)
    outs = []
    for L in (torch, mc):
        F = L.nn.functional
        tx = L.from_numpy(x.copy()).permute(0, 3, 1, 2).requires_grad_()  # NHWC memory, NCHW view
        tw = L.from_numpy(w.copy()).requires_grad_()
        y = F.conv2d(tx[:, :, ::2, 1:], tw, padding=1)
        y = F.relu(F.batch_norm(y, None, None, training=True))
        y = F.max_pool2d(y, 3, 2, 1)
        y2 = F.max_pool2d(tx.permute(0, 1, 3, 2) * 1.0, 3, 2, 1)
        g = L.autograd.grad(y.sum() + (y2 * y2).sum(), [tx, tw])
        outs.append((y, y2) + tuple(g))
    for m, t in zip(outs[1], outs[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


def test_weights_updated_in_place_between_calls():
    """A module's weights written in place (an optimizer step, load_state_dict) between two calls, in evaluation
    and in training."""
    x = _data([(2, 3, 8, 8)], seed=8)[0]
    results = []
    for L in (torch, mc):
        L.manual_seed(0)
        conv, bn = L.nn.Conv2d(3, 8, 3, padding=1), L.nn.BatchNorm2d(8)
        sd = {k: L.from_numpy(np.random.default_rng(i).standard_normal(tuple(v.shape)).astype(np.float32))
              for i, (k, v) in enumerate(list(conv.state_dict().items()))}
        conv.load_state_dict(sd)
        m = L.nn.Sequential(conv, bn, L.nn.ReLU()).eval()
        tx = L.from_numpy(x.copy())
        out = []
        with L.no_grad():
            out.append(m(tx))
            conv.weight.mul_(0.5)
            bn.running_var.fill_(4.0)
            bn.weight.add_(1.0)
            out.append(m(tx))
        m.train()
        out.append(m(tx))
        with L.no_grad():
            conv.weight[0].zero_()
        out.append(m(tx))
        out.append(bn.running_mean.clone())
        results.append(out)
    for m, t in zip(results[1], results[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape,kw", [
    ((2, 16, 9, 11), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 8, 6, 6), dict(kernel_size=2, stride=1, padding=1, dilation=2)),
    ((2, 12, 7, 5), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True)),
    ((8, 7, 7), dict(kernel_size=3, stride=2, padding=1)),                 # unbatched: 8 planes, not channels
])
def test_max_pool_many_channels_special_values(shape, kw):
    """The channels-last strided max pool: torch's choice among ties, NaN and -inf, in the values and in the
    gradient."""
    a = np.round(np.random.default_rng(9).standard_normal(shape) * 2).astype(np.float32)  # many ties
    a.reshape(-1)[::7] = np.nan
    a.reshape(-1)[3::11] = -np.inf
    res = []
    for L in (torch, mc):
        t = L.from_numpy(a.copy()).requires_grad_()
        y = L.nn.functional.max_pool2d(t, **kw)
        cot = L.from_numpy(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32))
        (g,) = L.autograd.grad(y, [t], cot)
        res.append((y, g))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-6, atol=0, equal_nan=True)


def test_max_pool_double_backward_many_channels():
    a = np.random.default_rng(11).standard_normal((2, 8, 7, 7)).astype(np.float32)
    res = []
    for L in (torch, mc):
        t = L.from_numpy(a.copy()).requires_grad_()
        y = L.nn.functional.max_pool2d(t * t, 3, 2, 1)
        (g,) = L.autograd.grad((y * y).sum(), [t], create_graph=True)
        res.append(L.autograd.grad((g * g).sum(), [t])[0])
    assert_same(res[1], res[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_chain_other_dtypes(dtype):
    x, w, bw, bb = _data([(2, 3, 6, 6), (8, 3, 3, 3), (8,), (8,)], seed=12)
    tol = 1e-10 if dtype == "float64" else 2e-2
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        ps = [L.from_numpy(a.copy()).to(dt).requires_grad_() for a in (x, w, bw, bb)]
        rm, rv = L.zeros(8, dtype=dt), L.ones(8, dtype=dt)
        out = _chain(L, 2, ps[0], ps[1], None, ps[2], ps[3], rm, rv, True, dict(padding=1), True)
        grads = L.autograd.grad(out.float().sum(), ps)
        res.append((out,) + tuple(grads) + (rm, rv))
    for m, t in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype)
        assert_same(m, t, rtol=tol, atol=tol * 10)


def test_compiled_chain_equals_eager():
    """mlx_compat.compile of a conv -> batch norm -> relu -> pool model, training steps and evaluation, against
    the same model run eagerly."""
    x = mc.from_numpy(_data([(2, 3, 10, 10)], seed=13)[0])

    def make():
        mc.manual_seed(0)
        return mc.nn.Sequential(mc.nn.Conv2d(3, 16, 3, padding=1, bias=False), mc.nn.BatchNorm2d(16), mc.nn.ReLU(),
                                mc.nn.MaxPool2d(3, 2, 1), mc.nn.Conv2d(16, 8, 1), mc.nn.BatchNorm2d(8),
                                mc.nn.Flatten(), mc.nn.Linear(8 * 25, 4))

    runs = []
    for compiled in (False, True):
        m = make()
        opt = mc.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step():
            opt.zero_grad()
            loss = m(x).square().mean()
            loss.backward()
            opt.step()
            return loss

        fn = mc.compile(step, fullgraph=True) if compiled else step
        losses = [fn() for _ in range(3)]
        m.eval()
        with mc.no_grad():
            out = (mc.compile(m, fullgraph=True) if compiled else m)(x)
        runs.append(losses + [out] + list(m.state_dict().values()))
    for a, b in zip(*runs):
        np.testing.assert_allclose(np.asarray(a.detach().numpy(), dtype=np.float64),
                                   np.asarray(b.detach().numpy(), dtype=np.float64), rtol=1e-5, atol=1e-6)


def _memory_strides(t):
    """The element strides of the MLX array behind t, as MLX laid it out in memory."""
    a = t._mx
    mc.eval(t)
    return tuple(s // a.itemsize for s in memoryview(a).strides)


def test_activations_stay_channels_last_in_memory():
    """The layout itself: a convolution, the batch norm after it and the pool return NC... tensors (torch's
    strides) over N...C memory, hinted so (Note [channels-last activations]); the hint follows in-place writes
    to what the new value holds, and a batch norm of another producer's output stays on the row-major path."""
    from mlx_compat.nn import _layout
    F = mc.nn.functional
    hinted = _layout.is_channels_last_tensor
    x = mc.from_numpy(_data([(2, 3, 8, 6)], seed=14)[0])
    y = F.conv2d(x, mc.ones(16, 3, 3, 3), padding=1)
    assert y.stride() == (768, 48, 6, 1) and y.is_contiguous()
    assert hinted(y) and _memory_strides(y) == (768, 1, 96, 16)
    z = F.batch_norm(y, None, None, training=True)
    assert hinted(z) and _memory_strides(z) == (768, 1, 96, 16)
    zg = F.batch_norm(y, None, None, mc.ones(16, requires_grad=True), training=True)  # a gradient is recorded
    assert not hinted(zg) and _memory_strides(zg) == (768, 48, 6, 1)
    r = F.relu(z)
    assert hinted(r) and _memory_strides(r) == (768, 1, 96, 16)  # MLX keeps a dense permuted layout
    p = F.max_pool2d(r, 3, 2, 1)
    assert hinted(p) and _memory_strides(p) == (192, 1, 48, 16)
    for t in (F.conv2d(x, mc.ones(16, 3, 2, 2), stride=2), F.conv2d(x, mc.ones(16, 3, 3, 3), mc.ones(16))):
        assert hinted(t) and _memory_strides(t)[1] == 1
    one = F.conv2d(x, mc.ones(16, 3, 1, 1), mc.ones(16))  # the 1x1 product is row-major (Note [convolutions as
    assert not hinted(one) and _memory_strides(one) == (768, 48, 6, 1)  # products])
    y.mul_(2)  # against a scalar MLX keeps the layout, and the hint stays
    assert hinted(y) and _memory_strides(y) == (768, 1, 96, 16)
    y.add_(mc.ones(2, 16, 8, 6))  # against a row-major operand the value is row-major, and the hint goes
    assert not hinted(y) and _memory_strides(y) == (768, 48, 6, 1)
    w = F.batch_norm(x * 2, None, None, training=True)
    assert not hinted(w) and _memory_strides(w) == (144, 48, 6, 1)
    v = F.batch_norm(y, None, None, training=True)  # the row-major value of an unhinted tensor: NC... space
    assert not hinted(v) and _memory_strides(v) == (768, 48, 6, 1)


def test_cached_weights_follow_writes_and_are_freed():
    """Note [cached channels-last weights]: inference reuses one O...I copy per weight array; a write to the weight,
    also through a view of a larger tensor, is seen at the next call, and the copy goes with its array."""
    import gc
    from mlx_compat.nn import _layout
    x, big = _data([(2, 3, 7, 7), (12, 3, 3, 3)], seed=15)
    outs = []
    for L in (torch, mc):
        F = L.nn.functional
        tx, tb = L.from_numpy(x.copy()), L.from_numpy(big.copy())
        w = tb[2:10]
        with L.no_grad():
            a = F.conv2d(tx, w, padding=1)
            b = F.conv2d(tx, w, padding=1)
            tb.mul_(-2.0)
            c = F.conv2d(tx, w, padding=1)
            w[3].fill_(0.5)
            d = F.conv2d(tx, w, padding=1)
        e = F.conv2d(tx, w.clone().requires_grad_(), padding=1)  # recording: no cache
        outs.append((a, b, c, d, e))
    for m, t in zip(outs[1], outs[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)
    arr = mc.from_numpy(big.copy())._mx
    perm = (0, 2, 3, 1)
    first = _layout.weight_last(arr, perm)
    assert _layout.weight_last(arr, perm) is first
    gc.collect()  # entries of arrays earlier tests left in reference cycles go first, so only this one goes below
    n = len(_layout._weights)
    del arr, first
    gc.collect()
    assert len(_layout._weights) == n - 1
