"""Normalization functionals and torch.native_* norms: values, gradients, running statistics and error types
against torch."""
import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch


def _rand(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(a, grad=True):
    t = torch.from_numpy(a.copy()).requires_grad_(grad)
    m = mc.from_numpy(a.copy()).requires_grad_(grad)
    return t, m


def _run(fn, arrays, grad=True, seed=1, rtol=1e-5, gtol=1e-4, atol=1e-5):
    """fn(L, *tensors) on both libraries; compares outputs and the gradients of sum(out * cot)."""
    res = []
    for L in (torch, mc):
        ts = [None if a is None else L.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
        out = fn(L, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        grads = None
        if grad:
            cot = [L.from_numpy(_rand(tuple(o.shape), seed + i)) for i, o in enumerate(outs[:1])]
            req = [t for t in ts if t is not None]
            grads = L.autograd.grad([outs[0]], req, cot, allow_unused=True)
        res.append((outs, grads))
    (t_outs, t_grads), (m_outs, m_grads) = res
    assert len(t_outs) == len(m_outs)
    for m, t in zip(m_outs, t_outs):
        assert_same(m, t, rtol=rtol, atol=atol)
    if grad:
        for m, t in zip(m_grads, t_grads):
            if t is None:
                assert m is None or not bool((m != 0).any())
            else:
                assert_same(m, t, rtol=gtol, atol=gtol)


# ---------------------------------------------------------------- layer_norm / native_layer_norm


@pytest.mark.parametrize("shape,norm,affine,eps", [((2, 3, 4), (4,), "wb", 1e-5), ((2, 3, 4), (3, 4), "w", 1e-3),
                                                   ((5, 6), (6,), "b", 1e-5), ((3, 4), (4,), "", 0.5)])
def test_layer_norm(shape, norm, affine, eps):
    x, w, b = _rand(shape), _rand(norm, 1) if "w" in affine else None, _rand(norm, 2) if "b" in affine else None
    _run(lambda L, x, w, b: L.nn.functional.layer_norm(x, norm, w, b, eps), [x, w, b])
    _run(lambda L, x, w, b: L.layer_norm(x, list(norm), w, b, eps), [x, w, b])


def test_native_layer_norm_outputs():
    x, w, b = _rand((2, 3, 4)), _rand((3, 4), 1), _rand((3, 4), 2)
    _run(lambda L, x, w, b: L.native_layer_norm(x, [3, 4], w, b, 1e-5), [x, w, b])
    # mean and rstd do not require grad in torch
    for L in (torch, mc):
        t = L.from_numpy(x.copy()).requires_grad_()
        out, mean, rstd = L.native_layer_norm(t, [4], None, None, 1e-5)
        assert tuple(mean.shape) == (2, 3, 1) and tuple(rstd.shape) == (2, 3, 1)
        assert [o.requires_grad for o in (out, mean, rstd)] == [True, False, False]


def test_layer_norm_double_and_half():
    a = _rand((3, 5))
    for name in ("float64", "bfloat16"):
        t = torch.from_numpy(a.copy()).to(getattr(torch, name))
        m = to_mc(t)
        assert_same(mc.nn.functional.layer_norm(m, (5,)), torch.nn.functional.layer_norm(t, (5,)),
                    rtol=1e-2 if name == "bfloat16" else 1e-7, atol=1e-2 if name == "bfloat16" else 1e-7)


def test_layer_norm_errors():
    for L in (torch, mc):
        with pytest.raises(RuntimeError):
            L.nn.functional.layer_norm(L.zeros(2, 3), (4,))
        with pytest.raises(RuntimeError):
            L.nn.functional.layer_norm(L.zeros(2, 3), (3,), L.zeros(2))
        with pytest.raises(RuntimeError):
            L.nn.functional.layer_norm(L.zeros(2, 3), ())


def test_layer_norm_empty():
    for L in (torch, mc):
        out = L.nn.functional.layer_norm(L.zeros(0, 3), (3,))
        assert tuple(out.shape) == (0, 3)


# ---------------------------------------------------------------- rms_norm


@pytest.mark.parametrize("norm,weight,eps", [((4,), True, None), ((3, 4), False, 1e-3), ((4,), False, 0.5)])
def test_rms_norm(norm, weight, eps):
    x, w = _rand((2, 3, 4)), _rand(norm, 1) if weight else None
    _run(lambda L, x, w: L.nn.functional.rms_norm(x, norm, w, eps), [x, w])
    _run(lambda L, x, w: L.rms_norm(x, list(norm), w, eps), [x, w])


def test_rms_norm_default_eps_small_input():
    # eps=None: torch uses float32's machine epsilon, visible on tiny inputs
    x = (_rand((2, 4)) * 1e-4).astype(np.float32)
    _run(lambda L, x: L.nn.functional.rms_norm(x, (4,)), [x])
    t = torch.from_numpy(x.astype(np.float64))
    assert_same(mc.nn.functional.rms_norm(to_mc(t), (4,)), torch.nn.functional.rms_norm(t, (4,)), rtol=1e-10)


def test_rms_norm_errors():
    for L in (torch, mc):
        with pytest.raises(RuntimeError):
            L.nn.functional.rms_norm(L.zeros(2, 3), (2,))
        with pytest.raises(RuntimeError):
            L.nn.functional.rms_norm(L.zeros(2, 3), (3,), L.zeros(2))


# ---------------------------------------------------------------- group_norm / native_group_norm


@pytest.mark.parametrize("shape,groups,affine", [((2, 6, 5), 3, True), ((3, 4, 2, 3), 2, False), ((2, 4), 4, True),
                                                 ((2, 6, 3), 1, True)])
def test_group_norm(shape, groups, affine):
    C = shape[1]
    x = _rand(shape)
    w, b = (_rand((C,), 1), _rand((C,), 2)) if affine else (None, None)
    _run(lambda L, x, w, b: L.nn.functional.group_norm(x, groups, w, b, eps=1e-4), [x, w, b])


def test_native_group_norm_outputs_are_differentiable():
    x, w, b = _rand((2, 6, 3)), _rand((6,), 1), _rand((6,), 2)
    res = []
    for L in (torch, mc):
        ts = [L.from_numpy(a.copy()).requires_grad_() for a in (x, w, b)]
        out, mean, rstd = L.native_group_norm(ts[0], ts[1], ts[2], 2, 6, 3, 3, 1e-5)
        loss = (out * L.from_numpy(_rand((2, 6, 3), 5))).sum() + (mean * 2).sum() + (rstd * 3).sum()
        res.append((out, mean, rstd) + L.autograd.grad([loss], ts))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-5)


def test_group_norm_errors():
    for L in (torch, mc):
        with pytest.raises(RuntimeError):
            L.nn.functional.group_norm(L.zeros(2, 5, 3), 2)
        with pytest.raises(RuntimeError):
            L.nn.functional.group_norm(L.zeros(4), 2)
        with pytest.raises(ValueError):
            L.nn.functional.group_norm(L.zeros(1, 2), 2)
        with pytest.raises(RuntimeError):
            L.nn.functional.group_norm(L.zeros(2, 4, 3), 2, L.zeros(3))


# ---------------------------------------------------------------- batch_norm


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5, -1.0])
def test_batch_norm(shape, training, momentum):
    C = shape[1]
    x, w, b = _rand(shape), _rand((C,), 1), _rand((C,), 2)
    rm, rv = _rand((C,), 3), np.abs(_rand((C,), 4)) + 0.5
    stats = []

    def fn(L, x, w, b):
        m, v = L.from_numpy(rm.copy()), L.from_numpy(rv.copy())
        stats.append((m, v))
        return L.nn.functional.batch_norm(x, m, v, w, b, training=training, momentum=momentum, eps=1e-3)

    _run(fn, [x, w, b])
    (tm, tv), (mm, mv) = stats
    assert_same(mm, tm)
    assert_same(mv, tv)


@pytest.mark.parametrize("affine", ["wb", "w", "b", ""])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("needs", ["all", "input", "params"])
def test_batch_norm_training_closed_form_backward(affine, dtype, needs):
    """Training batch norm's closed-form backward (Note [batch norm backward]): each affine form, both dtypes it
    serves, and gradients wanted for only some operands; a second derivative through it."""
    x = _rand((3, 4, 5, 2), dtype=dtype)
    w, b = _rand((4,), 1, dtype) if "w" in affine else None, _rand((4,), 2, dtype) if "b" in affine else None
    res = []
    for L in (torch, mc):
        tx = L.from_numpy(x.copy()).requires_grad_(needs != "params")
        tw, tb = [None if a is None else L.from_numpy(a.copy()).requires_grad_(needs != "input") for a in (w, b)]
        rm, rv = L.zeros(4, dtype=getattr(L, dtype)), L.ones(4, dtype=getattr(L, dtype))
        out = L.nn.functional.batch_norm(tx, rm, rv, tw, tb, training=True, eps=1e-4)
        ins = [t for t in (tx, tw, tb) if t is not None and t.requires_grad]
        if not ins:
            res.append((out, rm, rv))
            continue
        cot = L.from_numpy(_rand(tuple(out.shape), 5, dtype))
        gs = L.autograd.grad(out, ins, cot, create_graph=True)
        second = ()
        if affine != "b":  # torch 2.13's batch-norm double backward raises for a bias without a weight
            second = L.autograd.grad(sum((g * g).sum() for g in gs), ins, allow_unused=True)
        res.append((out, rm, rv) + tuple(gs) + tuple(second))
    tol = 1e-10 if dtype == "float64" else 1e-4
    assert len(res[0]) == len(res[1])
    for m, t in zip(res[1], res[0]):
        if t is None:
            assert m is None or not bool((m != 0).any())
        else:
            assert_same(m, t, rtol=tol, atol=tol)


def test_batch_norm_no_running_stats_training():
    x = _rand((5, 3, 2))
    _run(lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True), [x])


def test_batch_norm_one_d_and_errors():
    for L in (torch, mc):
        out = L.nn.functional.batch_norm(L.zeros(0), L.zeros(0), L.ones(0), training=True)
        assert tuple(out.shape) == (0,)
        with pytest.raises(RuntimeError):
            L.nn.functional.batch_norm(L.zeros(3), L.zeros(3), L.ones(3))
        with pytest.raises(IndexError):
            L.nn.functional.batch_norm(L.zeros(3), L.zeros(0), L.ones(0))
        with pytest.raises(ValueError):
            L.nn.functional.batch_norm(L.zeros(1, 3), L.zeros(3), L.ones(3), training=True)
        with pytest.raises(RuntimeError):
            L.nn.functional.batch_norm(L.zeros(2, 3), None, None, training=False)
        with pytest.raises(RuntimeError):
            L.nn.functional.batch_norm(L.zeros(2, 3), L.zeros(2), L.ones(2))
        with pytest.raises(ValueError):
            L.nn.functional.batch_norm(L.zeros(2, 3), L.zeros(3), L.ones(3), training=True, eps=0.0)


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(training):
    x, w, b = _rand((4, 3, 2)), _rand((3,), 1), _rand((3,), 2)
    rm, rv = _rand((3,), 3), np.abs(_rand((3,), 4)) + 0.5
    stats = []

    def fn(L, x, w, b):
        m, v = L.from_numpy(rm.copy()), L.from_numpy(rv.copy())
        stats.append((m, v))
        return L.native_batch_norm(x, w, b, m, v, training, 0.2, 1e-5)

    _run(fn, [x, w, b])
    assert_same(stats[1][0], stats[0][0])
    assert_same(stats[1][1], stats[0][1])
    _run(lambda L, x, w, b: L._native_batch_norm_legit(x, w, b, True, 0.1, 1e-5), [x, w, b])


# ---------------------------------------------------------------- instance_norm


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 2, 3)])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm(shape, use_input_stats):
    C = shape[1]
    x, w, b = _rand(shape), _rand((C,), 1), _rand((C,), 2)
    rm, rv = _rand((C,), 3), np.abs(_rand((C,), 4)) + 0.5
    stats = []

    def fn(L, x, w, b):
        m, v = L.from_numpy(rm.copy()), L.from_numpy(rv.copy())
        stats.append((m, v))
        return L.nn.functional.instance_norm(x, m, v, w, b, use_input_stats=use_input_stats, momentum=0.3, eps=1e-4)

    _run(fn, [x, w, b])
    assert_same(stats[1][0], stats[0][0])
    assert_same(stats[1][1], stats[0][1])


def test_instance_norm_plain_and_errors():
    _run(lambda L, x: L.nn.functional.instance_norm(x), [_rand((2, 3, 4))])
    for L in (torch, mc):
        with pytest.raises(ValueError):
            L.nn.functional.instance_norm(L.zeros(2, 3, 1))
        with pytest.raises(RuntimeError):
            L.nn.functional.instance_norm(L.zeros(2, 3, 4), use_input_stats=False)


# ---------------------------------------------------------------- local_response_norm


@pytest.mark.parametrize("shape,size,kw", [((2, 6, 3), 2, {}),
                                           ((1, 5, 3, 4), 3, {"alpha": 1e-2, "beta": 0.5, "k": 2.0}),
                                           ((2, 4, 2, 2, 2), 4, {"alpha": 0.1}), ((1, 3, 4), 5, {"k": 1.5})])
def test_local_response_norm(shape, size, kw):
    _run(lambda L, x: L.nn.functional.local_response_norm(x, size, **kw), [_rand(shape)])


def test_local_response_norm_errors():
    for L in (torch, mc):
        with pytest.raises(ValueError):
            L.nn.functional.local_response_norm(L.zeros(2, 3), 2)


def test_layer_norm_single_element_rows_gradient():
    # a row of one element: the gradient is 0 in theory; torch's closed form leaves rounding noise we match
    _run(lambda L, x, w, b: L.nn.functional.layer_norm(x, (1,), w, b), [_rand((3, 1)), _rand((1,), 1),
                                                                         _rand((1,), 2)], gtol=1e-5)


def test_layer_norm_double_backward():
    a = np.random.default_rng(0).standard_normal((3, 4))
    wv = np.random.default_rng(1).standard_normal(4)
    res = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        w = L.from_numpy(wv.copy()).requires_grad_()
        y = L.nn.functional.layer_norm(x, (4,), w, None)
        (g,) = L.autograd.grad((y * y * y).sum(), [x], create_graph=True)
        res.append(L.autograd.grad((g * g).sum(), [x, w]))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_dtypes(dtype):
    a = _rand((2, 4, 3))
    w, b = _rand((4,), 1), _rand((4,), 2)
    outs = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        x, wt, bt = (L.from_numpy(v.copy()).to(dt) for v in (a, w, b))
        F = L.nn.functional
        outs.append((F.group_norm(x, 2, wt, bt), F.batch_norm(x, None, None, wt, bt, training=True),
                     F.instance_norm(x, weight=wt, bias=bt), F.rms_norm(x, (3,)), F.layer_norm(x, (3,)),
                     F.local_response_norm(x, 2)))
    for m, t in zip(outs[1], outs[0]):
        assert str(m.dtype) == str(t.dtype)
        assert_same(m.float(), t.float(), rtol=2e-2, atol=2e-2)


def test_integer_input_errors():
    for L in (torch, mc):
        x = L.ones(2, 3, 4, dtype=L.int64)
        with pytest.raises(RuntimeError):
            L.nn.functional.layer_norm(x, (4,))
        with pytest.raises(RuntimeError):
            L.nn.functional.group_norm(x, 3)


def test_top_level_variants():
    # torch.batch_norm / instance_norm / group_norm (weight first, cudnn flag): mlx_compat's versions live in
    # nn._normalization.TORCH_VARIANTS until mlx_compat/__init__.py exports them
    from mlx_compat.nn._normalization import TORCH_VARIANTS as V

    x, w, b = _rand((4, 3, 2)), _rand((3,), 1), _rand((3,), 2)
    rm, rv = _rand((3,), 3), np.abs(_rand((3,), 4)) + 0.5

    def run(L, name, x, w, b):
        fn = getattr(L, name) if L is torch else V[name]
        if name == "group_norm":
            return fn(x, 3, w, b, 1e-5, False)
        m, v = L.from_numpy(rm.copy()), L.from_numpy(rv.copy())
        return fn(x, w, b, m, v, True, 0.1, 1e-5, False)

    for name in ("batch_norm", "instance_norm", "group_norm"):
        _run(lambda L, x, w, b: run(L, name, x, w, b), [x, w, b])
    # torch.group_norm has no "more than 1 value per channel" check
    assert_same(V["group_norm"](mc.ones(1, 2), 2), torch.group_norm(torch.ones(1, 2), 2))


# Note [Inference batch norm path]
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_inference_path_matches_torch(dtype, affine):
    """Eval-mode BatchNorm1d/2d with nothing recorded (the inference path) on (N, C), (N, C, L), a plain NCHW input
    and a convolution's channels-last output, against torch; with a gradient recorded the call records its node."""
    tol = 1e-5 if dtype == "float32" else 3e-2
    inputs = [(1, _rand((4, 6), 1)), (1, _rand((3, 6, 5), 2)), (2, _rand((2, 6, 5, 4), 3))]
    w = _rand((6, 6, 3, 3), 4)
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        bns = {k: getattr(L.nn, f"BatchNorm{k}d")(6, affine=affine).to(dt).eval() for k in (1, 2)}
        for k, bn in bns.items():
            with L.no_grad():
                bn.running_mean.copy_(L.arange(6, dtype=dt) * 0.1)
                bn.running_var.copy_(L.arange(6, dtype=dt) * 0.2 + 0.5)
                if affine:
                    bn.weight.copy_(L.arange(6, dtype=dt) * -0.3 + 1)
                    bn.bias.copy_(L.arange(6, dtype=dt) * 0.05)
        outs = []
        with L.no_grad():
            for k, x in inputs:
                outs.append(bns[k](L.from_numpy(x).to(dt)))
            h = L.nn.functional.conv2d(L.from_numpy(inputs[2][1]).to(dt), L.from_numpy(w).to(dt), padding=1)
            outs.append(bns[2](h))
            outs.append(L.relu(bns[2](h)) + h)
        assert all(o.grad_fn is None for o in outs)
        if affine:
            assert type(bns[2](h).grad_fn).__name__ == "NativeBatchNormBackward0"
        res.append(outs)
    for m, t in zip(res[1], res[0]):
        assert m.dtype == getattr(mc, dtype) and m.shape == t.shape
        assert_same(m.float(), t.float(), rtol=tol, atol=tol)


def test_batch_norm_training_running_stats_through_views_and_cumulative_average():
    """Note [Training batch norm path]: running statistics that are strided views of larger storage are written
    through to it; a module with momentum=None keeps the cumulative average over several recorded steps (a new
    factor at every step); values and gradients against torch."""
    res = []
    for L in (torch, mc):
        base_m, base_v = L.zeros(8, dtype=L.float32), L.ones(8, dtype=L.float32)
        rm, rv = base_m[::2], base_v[1::2]
        x = L.from_numpy(_rand((3, 4, 5), 7)).requires_grad_()
        out = L.nn.functional.batch_norm(x, rm, rv, None, None, training=True, momentum=0.3)
        (gx,) = L.autograd.grad(out, [x], L.from_numpy(_rand((3, 4, 5), 8)))
        bn = L.nn.BatchNorm2d(4, momentum=None)
        outs = []
        for step in range(3):
            xi = L.from_numpy(_rand((2, 4, 3, 3), 20 + step)).requires_grad_()
            y = bn(xi)
            (g,) = L.autograd.grad((y * y).sum(), [xi])
            outs += [y, g]
        res.append([out, gx, base_m, base_v] + outs + [bn.running_mean, bn.running_var, bn.num_batches_tracked])
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("momentum,affine,shape", [(0.1, True, (4, 3, 5, 7)), (None, True, (3, 3, 5, 7)),
                                                   (0.3, False, (6, 11)), (None, False, (2, 13, 4))])
def test_batch_norm_training_compiled_after_a_repeat(momentum, affine, shape):
    """Note [Compiled training batch norm]: from the second call of a shape on, a training batch norm's forward and
    gradients run compiled. A module's one step (shapes no other test uses), then a second module of the same shape
    and plan for three: its first step is the compiled functions' trace (momentum=None then passes the factor 1.0,
    which must not be an array the traced function also captures), the others replay it. Outputs, gradients and
    running statistics against torch."""
    cls = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d"}[len(shape)]
    res = []
    for L in (torch, mc):
        outs = []
        for steps in (1, 3):
            bn = getattr(L.nn, cls)(shape[1], eps=1e-3, momentum=momentum, affine=affine)
            for step in range(steps):
                x = L.from_numpy(_rand(shape, 30 + step)).requires_grad_()
                y = bn(x)
                want = [x] + list(bn.parameters())
                outs += [y] + list(L.autograd.grad((y * L.from_numpy(_rand(shape, 40 + step))).sum(), want))
            outs += [bn.running_mean, bn.running_var]
        res.append(outs)
    assert len(res[0]) == len(res[1])
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-5)
