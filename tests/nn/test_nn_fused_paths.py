"""The faster paths of nn.functional against torch: convolutions as products (1x1 kernels, patch embeddings;
Note [convolutions as products]), ops whose forward hands its backward what it computed (attention, layer norm:
Note [fused backward]) and gelu's saved erf (Note [gelu saves its erf]). Values and first derivatives against
torch; with create_graph, first derivatives equal to the fast path's and second derivatives against torch
(attention: finite, since torch's fused CPU attention has no double backward)."""
import os
import tempfile

import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _grads(L, fn, arrays, cot, create_graph=False):
    """(leaf tensors, output, gradients of <output, cot>) in library L."""
    xs = [L.from_numpy(a.copy()).requires_grad_() for a in arrays]
    out = fn(L, *xs)
    gs = L.autograd.grad(out, xs, L.from_numpy(cot.copy()), create_graph=create_graph)
    return xs, out, gs


def _compare(fn, arrays, rtol=1e-5, atol=1e-5, second=True, same_atol=1e-7):
    """fn(L, *tensors) -> one tensor: value and gradients against torch; the create_graph gradients equal the
    plain ones; second derivatives against torch (second=True) or only finite (second='finite')."""
    with torch.no_grad():
        shape = tuple(fn(torch, *[torch.from_numpy(a.copy()) for a in arrays]).shape)
    cot = np.random.default_rng(1).standard_normal(shape).astype(arrays[0].dtype)
    t_x, t_out, t_g = _grads(torch, fn, arrays, cot, create_graph=second is True)
    _, m_out, m_g = _grads(mc, fn, arrays, cot)
    assert_same(m_out, t_out, rtol=rtol, atol=atol)
    for m, t in zip(m_g, t_g):
        assert_same(m, t, rtol=rtol, atol=atol)
    if not second:
        return
    c_x, _, c_g = _grads(mc, fn, arrays, cot, create_graph=True)
    for m, c in zip(m_g, c_g):  # the fast backward and the differentiable one give the same first derivative
        np.testing.assert_allclose(c.detach().numpy(), m.numpy(), rtol=1e-6, atol=same_atol)
    c_h = mc.autograd.grad(sum((g * g).sum() for g in c_g), c_x, allow_unused=True, materialize_grads=True)
    if second == "finite":
        assert all(np.isfinite(h.numpy()).all() for h in c_h)
        return
    t_h = torch.autograd.grad(sum((g * g).sum() for g in t_g), t_x, allow_unused=True, materialize_grads=True)
    for m, t in zip(c_h, t_h):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


def _rand(*shapes, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes]


# ---------------------------------------------------------------- convolutions as products


@pytest.mark.parametrize("nd,x_shape,w_shape,kwargs", [
    (2, (2, 64, 9, 9), (32, 64, 1, 1), dict(stride=1)),
    (2, (2, 64, 9, 9), (32, 64, 1, 1), dict(stride=2)),
    (2, (2, 16, 9, 8), (8, 16, 1, 1), dict(stride=(2, 3), dilation=2)),   # dilation of a 1x1 kernel: no effect
    (1, (2, 16, 9), (8, 16, 1), dict(stride=2)),
    (3, (2, 8, 5, 5, 5), (4, 8, 1, 1, 1), dict(stride=2)),
    (2, (1, 3, 64, 64), (48, 3, 16, 16), dict(stride=16)),                 # ViT's patch embedding
    (2, (2, 3, 37, 35), (24, 3, 4, 4), dict(stride=4)),                    # a remainder the stride drops
    (2, (3, 37, 35), (24, 3, 4, 4), dict(stride=4)),                       # unbatched
    (2, (2, 3, 8, 8), (5, 3, 2, 2), dict(stride=2, padding="valid")),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_as_product(nd, x_shape, w_shape, kwargs, bias):
    arrays = _rand(x_shape, w_shape, (w_shape[0],), scale=0.5)
    if not bias:
        arrays = arrays[:2]

    def fn(L, *t):
        return getattr(L.nn.functional, f"conv{nd}d")(*t, **kwargs)

    _compare(fn, arrays, rtol=1e-4, atol=1e-4, second=False)


# ---------------------------------------------------------------- attention


def _mask(kind, L, S):
    rng = np.random.default_rng(3)
    if kind == "bool":
        m = rng.random((L, S)) > 0.4
        m[1] = False  # a fully masked row
        return m
    if kind == "float":
        m = np.where(rng.random((L, S)) > 0.3, 0.0, -np.inf).astype(np.float32)
        m[2] = -np.inf
        return m
    return None


@pytest.mark.parametrize("mask", [None, "causal", "bool", "float"])
def test_sdpa_training_path(mask):
    q, k, v = _rand((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 8), scale=2.0)
    m = _mask(mask, 6, 6)

    def fn(L, q, k, v):
        am = None if m is None else L.from_numpy(m.copy())
        return L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=am, is_causal=mask == "causal")

    _compare(fn, [q, k, v], second="finite")


# ---------------------------------------------------------------- layer norm and gelu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_training_path(dtype, affine):
    x, w, b = _rand((4, 6, 10), (10,), (10,), scale=3.0)
    arrays = [a.astype(dtype) for a in ((x, w, b) if affine else (x,))]
    tol = 1e-5 if dtype == np.float32 else 1e-10

    def fn(L, x, *wb):
        return L.nn.functional.layer_norm(x, (10,), *wb)

    _compare(fn, arrays, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_saved_erf(dtype):
    x = (np.linspace(-8, 8, 801) + 0.001).astype(dtype)
    # float64: gelu's forward uses MLX's erf, float32-accurate (Note [MLX float64 precision]); float32: the fast
    # backward's MLX erf and the differentiable formula's accurate one differ by up to 2.4e-7 absolute
    _compare(lambda L, x: L.nn.functional.gelu(x), [x], rtol=1e-5, atol=1e-6, same_atol=3e-7)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(801,), (3, 5, 7), (2, 0, 4)])
def test_gelu_fused_forward_backward(dtype, shape):
    """Note [fused exact gelu]: the compiled forward (with and without a gradient to record) and backward give
    the eager MLX chain's values bit for bit, for every shape one shapeless trace serves; against torch too."""
    import mlx.core as mx
    from mlx_compat.nn import _activation as A

    a = (np.random.default_rng(3).standard_normal(shape) * 4).astype(np.float32)
    g = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    x = mc.from_numpy(a).to(getattr(mc, dtype))
    with mc.no_grad():
        plain = mc.nn.functional.gelu(x)
    xg = x.detach().requires_grad_()
    y = mc.nn.functional.gelu(xg)
    (gx,) = mc.autograd.grad(y, [xg], mc.from_numpy(g).to(x.dtype))
    xm, gm = x._mx, mc.from_numpy(g).to(x.dtype)._mx
    want, e = A._gelu_erf_fwd(xm)
    assert mx.array_equal(plain._mx, want).item() and mx.array_equal(y._mx, want).item()
    assert mx.array_equal(gx._mx, A._gelu_erf_bwd(xm, e, gm).astype(gm.dtype)).item()
    assert plain.dtype is x.dtype and gx.dtype is x.dtype
    tx = torch.from_numpy(a).to(getattr(torch, dtype))
    tol = 1e-5 if dtype == "float32" else 1e-2
    assert_same(plain, torch.nn.functional.gelu(tx), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_tanh_gelu_backward_shares_no_cast_with_its_forward(dtype):
    """Note [Backward apart from its forward]: traced together, as in a compiled training step, the half tanh
    gelu's forward and backward kernels share no node, so no standalone cast of the input to float32 is written
    to memory for both to read; and the backward's values stay those of torch's formula computed in float32 (the
    input's cast, as the eager chain _gelu_tanh_deriv on float32 tensors computes it)."""
    import re
    import mlx.core as mx
    from mlx_compat.nn import _activation as A

    a = (np.random.default_rng(5).standard_normal((16, 96)) * 3).astype(np.float32)
    g = np.random.default_rng(6).standard_normal((16, 96)).astype(np.float32)
    x, gm = mx.array(a).astype(getattr(mx, dtype)), mx.array(g).astype(getattr(mx, dtype))
    mx.eval(x, gm)
    outs = mx.compile(lambda x, g: (A._gelu_tanh_fused(x), A._gelu_tanh_bwd_fused(x, g)))(x, gm)
    path = os.path.join(tempfile.mkdtemp(), "graph.dot")
    mx.export_to_dot(path, *outs)
    labels = re.findall(r'label ="?([A-Za-z_]+)', open(path).read())
    assert "AsType" not in labels, labels  # a cast outside the fused kernels
    xf = mc.from_numpy(np.array(x.astype(mx.float32)))
    want = A._gelu_tanh_deriv(xf, None, mc.from_numpy(np.array(gm.astype(mx.float32))))
    assert mx.array_equal(outs[1], want._mx.astype(x.dtype)).item()



@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_tanh_gelu_backward_takes_the_cuda_kernel_where_it_serves(monkeypatch, dtype, create_graph):
    """Note [tanh gelu backward on CUDA]: where custom CUDA kernels run (made to seem so here, the kernel's stand-in
    computing the composed backward), a backward without create_graph is the kernel's call on the input and
    incoming gradient as they are; create_graph keeps the differentiable formula. The gradient is torch's either
    way. The kernel's own values are checked on a CUDA machine (bench/gpu_check.py)."""
    import mlx.core as mx
    import mlx_compat._device as D
    from mlx_compat.nn import _activation as A

    calls = []

    def stand_in(x, g):
        calls.append((x.dtype, g.dtype, x.shape))
        return A._gelu_tanh_bwd_fused(x, g)

    monkeypatch.setattr(D, "cuda_kernels", lambda code: True)
    monkeypatch.setattr(A, "_gelu_tanh_bwd_cuda", stand_in)
    a = (np.random.default_rng(7).standard_normal((3, 5, 8)) * 2).astype(np.float32)
    cot = np.random.default_rng(8).standard_normal((3, 5, 8)).astype(np.float32)
    grads = []
    for L in (mc, torch):
        x = L.from_numpy(a.copy()).to(getattr(L, dtype)).requires_grad_()
        y = L.nn.functional.gelu(x, approximate="tanh")
        grads.append(L.autograd.grad(y, [x], L.from_numpy(cot.copy()).to(getattr(L, dtype)),
                                     create_graph=create_graph)[0])
    want = [(getattr(mx, dtype), getattr(mx, dtype), (3, 5, 8))]
    assert calls == ([] if create_graph else want)
    tol = 1e-5 if dtype == "float32" else 1e-2
    assert_same(grads[0], grads[1], rtol=tol, atol=tol)


# ---------------------------------------------------------------- half types through the fused paths


def _half_grads(L, fn, arrays, cot, dtype, create_graph=False):
    d = getattr(L, dtype)
    xs = [L.from_numpy(a.copy()).to(d).requires_grad_() for a in arrays]
    out = fn(L, *xs)
    gs = L.autograd.grad(out, xs, L.from_numpy(cot.copy()).to(d), create_graph=create_graph)
    return out, gs


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("op", ["layer_norm", "sdpa", "sdpa_causal"])
def test_half_training_path(op, dtype):
    """Half types take the fused paths too. Layer norm computes in float32 and rounds once (Note [opmath]); attention
    rounds where torch's fused CPU kernel does (Note [half-type attention]). The output and gradients are torch's
    within one rounding of the half type, and equal the differentiable formula's (the one create_graph runs)
    exactly."""
    if op == "layer_norm":
        arrays = _rand((4, 6, 10), (10,), (10,), scale=3.0)

        def fn(L, x, w, b):
            return L.nn.functional.layer_norm(x, (10,), w, b)
    else:
        arrays = _rand((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 8), scale=2.0)

        def fn(L, q, k, v):
            return L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=op == "sdpa_causal")
    cot = _rand((4, 6, 10) if op == "layer_norm" else (2, 3, 6, 8), seed=1)[0]
    t_out, t_g = _half_grads(torch, fn, arrays, cot, dtype)
    m_out, m_g = _half_grads(mc, fn, arrays, cot, dtype)
    _, c_g = _half_grads(mc, fn, arrays, cot, dtype, create_graph=True)
    eps = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10
    assert m_out.dtype == getattr(mc, dtype) and str(m_out.dtype) == str(t_out.dtype)
    f_out, f_g = _half_grads(torch, fn, arrays, cot, "float32")  # the float32 computation, rounded once below
    for m, t, f in zip([m_out, *m_g], [t_out, *t_g], [f_out, *f_g]):
        a, b = m.detach().float().numpy(), t.detach().float().numpy()
        exact = f.detach().to(getattr(torch, dtype)).float().numpy()
        if op == "layer_norm":
            # float32 arithmetic rounded once: within two roundings of the largest entry of the rounded result
            np.testing.assert_allclose(a, exact, rtol=2 * eps, atol=2 * eps * np.abs(exact).max())
            np.testing.assert_allclose(a, b, rtol=4 * eps, atol=4 * eps * np.abs(b).max())
        else:
            # torch's roundings of the probabilities and the score gradient, so torch's numbers up to the order
            # of float32 sums: within one rounding (torch itself is up to ~6 roundings from `exact` here)
            np.testing.assert_allclose(a, b, rtol=eps, atol=eps * np.abs(b).max())
    for m, c in zip(m_g, c_g):
        assert m.dtype == c.dtype
        np.testing.assert_array_equal(m.float().numpy(), c.detach().float().numpy())


# ---------------------------------------------------------------- attention rows that cannot die


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", [(2, 3, 6, 8), (1, 2, 4, 8)])
def test_sdpa_causal_equals_its_mask(dtype, shape):
    """Note [attention rows that cannot die]: is_causal skips the dead-row search, the explicit causal mask does
    not; the outputs and gradients are the same bits."""
    arrays = _rand(shape, shape, shape, scale=2.0)
    cot = _rand(shape, seed=1)[0]
    tril = np.tril(np.ones((shape[2], shape[2]), dtype=bool))
    res = []
    for causal in (True, False):
        xs = [mc.from_numpy(a.copy()).to(getattr(mc, dtype)).requires_grad_() for a in arrays]
        am = None if causal else mc.from_numpy(tril.copy())
        out = mc.nn.functional.scaled_dot_product_attention(*xs, attn_mask=am, is_causal=causal)
        gs = mc.autograd.grad(out, xs, mc.from_numpy(cot.copy()).to(getattr(mc, dtype)))
        res.append([t.detach().float().numpy() for t in (out, *gs)])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- cross entropy


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignored", ["none", "some", "all"])
def test_cross_entropy_fused(reduction, ignored):
    """Note [fused cross entropy]: values, gradients and (create_graph) second derivatives against torch, with
    ignore_index hitting no target, some, or every one (torch: a NaN mean with a zero gradient)."""
    x = _rand((7, 11), scale=3.0)[0]
    t = np.random.default_rng(2).integers(0, 11, 7)
    if ignored == "some":
        t[[1, 4]] = -100
    elif ignored == "all":
        t[:] = -100
    t_x = torch.from_numpy(x.copy()).requires_grad_()
    m_x = mc.from_numpy(x.copy()).requires_grad_()
    t_out = torch.nn.functional.cross_entropy(t_x, torch.from_numpy(t.copy()), reduction=reduction)
    m_out = mc.nn.functional.cross_entropy(m_x, mc.from_numpy(t.copy()), reduction=reduction)
    assert_same(m_out, t_out, rtol=1e-5, atol=1e-6)
    assert type(m_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    cot = np.random.default_rng(3).standard_normal(tuple(t_out.shape)).astype(np.float32)
    t_g, = torch.autograd.grad(t_out, t_x, torch.from_numpy(cot.copy()), create_graph=True)
    m_g, = mc.autograd.grad(m_out, m_x, mc.from_numpy(cot.copy()), retain_graph=True)
    assert_same(m_g, t_g.detach(), rtol=1e-5, atol=1e-6)
    c_g, = mc.autograd.grad(m_out, m_x, mc.from_numpy(cot.copy()), create_graph=True)
    np.testing.assert_allclose(c_g.detach().numpy(), m_g.numpy(), rtol=1e-6, atol=1e-7)
    if ignored != "all":
        t_h, = torch.autograd.grad((t_g * t_g).sum(), t_x)
        m_h, = mc.autograd.grad((c_g * c_g).sum(), m_x)
        assert_same(m_h, t_h, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cross_entropy_fused_half(dtype):
    """Half logits: torch's loss and gradient within a few roundings of the half type, the dtype kept."""
    x = _rand((9, 13), scale=3.0)[0]
    t = np.random.default_rng(4).integers(0, 13, 9)
    t[2] = -100
    vals = []
    for L in (torch, mc):
        xs = L.from_numpy(x.copy()).to(getattr(L, dtype)).requires_grad_()
        out = L.nn.functional.cross_entropy(xs, L.from_numpy(t.copy()))
        g, = L.autograd.grad(out, xs)
        assert str(out.dtype) == str(g.dtype) == f"torch.{dtype}"
        vals.append([out.detach().float().numpy(), g.float().numpy()])
    eps = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10
    for a, b in zip(*vals):
        np.testing.assert_allclose(a, b, rtol=4 * eps, atol=4 * eps * np.abs(b).max())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("mask", [None, "causal", "bool", "float"])
@pytest.mark.parametrize("E", [8, 16])  # scale 1/sqrt(8) and 1/4: the backward's two product forms
def test_sdpa_half_types_follow_torch(dtype, mask, E):
    """Note [half-type attention]: outputs and gradients within one half-type rounding of torch's (its fused CPU
    kernel's roundings; a fully masked row included), the no-grad forward the same bits as the training one,
    and create_graph's first derivatives the same bits as the plain backward's, with finite second ones."""
    shape = (2, 3, 7, E)
    arrays = _rand(shape, shape, shape, scale=2.0)
    cot = _rand(shape, seed=1)[0]
    m = _mask(mask, 7, 7)

    def fn(L, q, k, v):
        am = None if m is None else L.from_numpy(m.copy())
        if am is not None and mask == "float":
            am = am.to(q.dtype)
        return L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=am, is_causal=mask == "causal")

    t_out, t_g = _half_grads(torch, fn, arrays, cot, dtype)
    m_out, m_g = _half_grads(mc, fn, arrays, cot, dtype)
    eps = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10
    for a, b in zip([m_out, *m_g], [t_out, *t_g]):
        assert str(a.dtype) == str(b.dtype)
        a, b = a.detach().float().numpy(), b.detach().float().numpy()
        np.testing.assert_allclose(a, b, rtol=eps, atol=eps * np.abs(b).max())
    with mc.no_grad():
        plain = fn(mc, *[mc.from_numpy(a.copy()).to(getattr(mc, dtype)) for a in arrays])
    np.testing.assert_array_equal(plain.float().numpy(), m_out.detach().float().numpy())
    d = getattr(mc, dtype)
    xs = [mc.from_numpy(a.copy()).to(d).requires_grad_() for a in arrays]
    c_g = mc.autograd.grad(fn(mc, *xs), xs, mc.from_numpy(cot.copy()).to(d), create_graph=True)
    for a, c in zip(m_g, c_g):
        np.testing.assert_array_equal(a.float().numpy(), c.detach().float().numpy())
    h = mc.autograd.grad(sum((g.float() * g.float()).sum() for g in c_g), xs)
    assert all(np.isfinite(x.float().numpy()).all() for x in h)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_gelu_tanh_fused(dtype):
    """Note [fused tanh gelu]: values and gradients against torch (half types within one rounding: float32
    arithmetic rounded once, as torch's), create_graph's first derivative the same bits as the fused backward's,
    and second derivatives against torch."""
    x = (np.random.default_rng(5).standard_normal((6, 300)) * 3).astype(np.float32)
    x[0, :5] = [0.0, -0.0, 1e-3, -7.5, 7.5]
    if dtype == "float32":
        _compare(lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [x], rtol=1e-5, atol=1e-5)
        return
    cot = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)
    fn = lambda L, x: L.nn.functional.gelu(x, approximate="tanh")  # noqa: E731
    t_out, t_g = _half_grads(torch, fn, [x], cot, dtype)
    m_out, m_g = _half_grads(mc, fn, [x], cot, dtype)
    _, c_g = _half_grads(mc, fn, [x], cot, dtype, create_graph=True)
    eps = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10  # one unit in the last place
    for a, b in ((m_out, t_out), (m_g[0], t_g[0])):
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.detach().float().numpy(), b.detach().float().numpy(), rtol=eps, atol=1e-6)
    np.testing.assert_array_equal(c_g[0].detach().float().numpy(), m_g[0].float().numpy())
    with mc.no_grad():
        plain = fn(mc, mc.from_numpy(x.copy()).to(getattr(mc, dtype)))
    np.testing.assert_array_equal(plain.float().numpy(), m_out.detach().float().numpy())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape,k", [((4, 6, 10), 1), ((1, 4), 1), ((3, 1), 1), ((2, 3, 1), 1), ((2, 3, 4), 2)])
def test_layer_norm_compiled_same_bits(dtype, shape, k):
    """Note [compiled layer norm]: the compiled forward and backward give the uncompiled formulas' bits (size-1
    dimensions included, which MLX's shapeless kernels mishandled), and torch's values."""
    import mlx.core as mx
    from mlx_compat.nn import _normalization as N

    x, w, b = _rand(shape, shape[-k:], shape[-k:], scale=3.0)
    cot = _rand(shape, seed=1)[0]
    d = getattr(mc, dtype)
    xs = [mc.from_numpy(a.copy()).to(d).requires_grad_() for a in (x, w, b)]
    y = mc.nn.functional.layer_norm(xs[0], shape[-k:], xs[1], xs[2])
    gs = mc.autograd.grad(y, xs, mc.from_numpy(cot.copy()).to(d))
    axes = tuple(range(len(shape) - k, len(shape)))
    xm, wm, bm, gm = (t.detach()._mx for t in (*xs, mc.from_numpy(cot.copy()).to(d)))
    xc, wc, bc = (a.astype(mx.float32) for a in (xm, wm, bm))
    mean, rstd = N._layer_norm_stats(xc, axes, 1e-5)
    want_y = N._layer_norm_apply(xc, wc, bc, mean, rstd).astype(xm.dtype)
    want_g = N._layer_norm_grads(xc, wc, gm.astype(mx.float32), mean, rstd, axes, int(np.prod(shape[-k:])))
    assert mx.array_equal(y._mx, want_y).item()
    for got, want in zip(gs, want_g):
        assert mx.array_equal(got._mx, want.astype(xm.dtype)).item()
    t_xs = [torch.from_numpy(a.copy()).to(getattr(torch, dtype)).requires_grad_() for a in (x, w, b)]
    t_y = torch.nn.functional.layer_norm(t_xs[0], shape[-k:], t_xs[1], t_xs[2])
    tol = 1e-5 if dtype == "float32" else 2 * 2.0 ** -7
    np.testing.assert_allclose(y.detach().float().numpy(), t_y.detach().float().numpy(), rtol=tol, atol=tol)
