"""Residual blocks whose operands are channels-last in MLX's memory: binary operators of two hinted tensors run in
N...C space (Note [Channels-last hint] in csrc/layout.c) and a 1x1 convolution of a channels-last input under
no_grad takes the rows product (Note [convolutions as products]). Values, gradients and second derivatives
against torch for in-place and out-of-place residual adds, sub/mul/div/comparisons, views of hinted tensors
written in place, hints left stale by other writes, and compiled calls; the hint's propagation itself is checked
where it decides which path runs."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _data(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _params(L, arrays, grad=True):
    return [L.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]


def _block(L, x, w1, w2, wd, bn, training, inplace, op):
    """torchvision's BasicBlock written functionally: conv-bn-relu-conv-bn, `out op= identity`, relu."""
    F = L.nn.functional
    (g1, b1, g2, b2, gd, bd), stats = bn
    out = F.relu(F.batch_norm(F.conv2d(x, w1, padding=1, stride=2 if wd is not None else 1), *stats[0], g1, b1,
                              training=training), inplace=True)
    out = F.batch_norm(F.conv2d(out, w2, padding=1), *stats[1], g2, b2, training=training)
    identity = x if wd is None else F.batch_norm(F.conv2d(x, wd, stride=2), *stats[2], gd, bd, training=training)
    if inplace:
        out = {"add": out.__iadd__, "sub": out.__isub__, "mul": out.__imul__}[op](identity)
    else:
        out = {"add": out.__add__, "sub": out.__sub__, "mul": out.__mul__}[op](identity)
    return F.relu(out, inplace=True)


def _bn_stats(L, c, n):
    rng = np.random.default_rng(5)
    return [(L.from_numpy((rng.standard_normal(c) * 0.1).astype(np.float32)),
             L.from_numpy(rng.uniform(0.5, 2.0, c).astype(np.float32))) for _ in range(n)]


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("inplace", [True, False])
@pytest.mark.parametrize("downsample", [False, True])
@pytest.mark.parametrize("training,record", [(False, False), (False, True), (True, False), (True, True)])
def test_block_against_torch(op, inplace, downsample, training, record):
    c, co = 6, (10 if downsample else 6)
    x, w1, w2, wd = _data([(2, c, 9, 8), (co, c, 3, 3), (co, co, 3, 3), (co, c, 1, 1)])
    affine = _data([(co,)] * 6, seed=1)
    res = []
    for L in (torch, mc):
        # the block's input as a max pool's output, channels-last like a ResNet stem's
        xin = L.nn.functional.max_pool2d(L.from_numpy(np.repeat(x, 2, axis=3)), (1, 2), (1, 2))
        xin.requires_grad_(record)
        ps = _params(L, [w1, w2] + ([wd] if downsample else []) + affine, grad=record)
        tw1, tw2 = ps[:2]
        twd = ps[2] if downsample else None
        stats = _bn_stats(L, co, 3)
        with L.set_grad_enabled(record):
            out = _block(L, xin, tw1, tw2, twd, (ps[-6:], stats), training, inplace, op)
        cot = L.from_numpy(np.random.default_rng(9).standard_normal(tuple(out.shape)).astype(np.float32))
        used = [xin] + (ps if downsample else ps[:-2])  # gd, bd belong to the downsampling branch
        grads = L.autograd.grad(out, used, cot) if record else ()
        res.append((out, grads, stats))
    (t_out, t_g, t_st), (m_out, m_g, m_st) = res
    assert_same(m_out, t_out, rtol=1e-4, atol=1e-4)
    for m, t in zip(m_g, t_g):
        assert_same(m, t, rtol=1e-3, atol=1e-3)
    for (mm, mv), (tm, tv) in zip(m_st, t_st):
        assert_same(mm, tm, rtol=1e-5, atol=1e-6)
        assert_same(mv, tv, rtol=1e-5, atol=1e-6)


def _hinted(L, seed=0, shape=(2, 4, 5, 6)):
    """Two convolution outputs (channels-last in our memory) and their inputs' numpy data."""
    x1, x2, w = _data([shape, shape, (shape[1], shape[1], 3, 3)], seed=seed)
    F = L.nn.functional
    return (F.conv2d(L.from_numpy(x1), L.from_numpy(w), padding=1),
            F.conv2d(L.from_numpy(x2), L.from_numpy(w), padding=1))


def test_hint_decides_the_path():
    """The hints that decide which path runs: convolutions and channels-last pools set them, results of two
    hinted operands and of unary or scalar ops keep them, a broadcast operand or a view does not."""
    hint = mc._C._is_channels_last
    a, b = _hinted(mc)
    assert hint(a) and hint(b)
    assert hint(a + b) and hint(a * 2) and hint(3 - a) and hint(a.relu()) and hint(a > b)
    assert not hint(a[:, :2]) and not hint(a + b[:, :1]) and not hint(a.permute(0, 1, 3, 2))
    c = a.clone()
    c += mc.ones(4, 1, 1)  # a broadcast (C, 1, 1) operand: MLX writes row-major memory
    assert not hint(c)
    d = a.clone()
    d.relu_()
    d *= 2
    assert hint(d) == hint(a.clone())
    assert hint(mc.nn.functional.max_pool2d(mc.randn(1, 8, 6, 6), 3, 2, 1))  # the stem pool


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "gt", "eq", "pow", "atan2"])
def test_binary_ops_of_hinted_tensors(name):
    res = []
    for L in (torch, mc):
        a, b = _hinted(L, seed=3)
        if name in ("div", "pow"):  # operands kept well away from where the convolutions' rounding is amplified
            a, b = a.abs() + 1, (b * 0.1 if name == "pow" else b.abs() + 1)
        res.append(getattr(L, name)(a, b))
    assert_same(res[1], res[0], rtol=1e-5, atol=1e-5, equal_nan=True)


def test_inplace_residual_on_views_of_hinted_tensors():
    res = []
    for L in (torch, mc):
        a, b = _hinted(L, seed=4)
        a[:, :2] += b[:, :2]          # a view of a hinted base, written through
        v = a[:, 1:]
        v += b[:, 1:]                 # an overlapping view
        a += b                        # the whole base
        out = a + b
        a.relu_()
        res.append((a, b, out, a * b))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("write", ["copy_", "fill_", "setitem", "mul_bcast", "transpose_copy"])
def test_stale_hints_keep_values(write):
    """A hinted tensor later written by something else than a binary operator keeps its hint (stale: its memory
    may now be row-major); the N...C-space op is the same op, so values are torch's."""
    src = _data([(2, 4, 5, 6)], seed=8)[0]
    res = []
    for L in (torch, mc):
        a, b = _hinted(L, seed=5)
        s = L.from_numpy(src)
        if write == "copy_":
            a.copy_(s)
        elif write == "fill_":
            a.fill_(1.5)
        elif write == "setitem":
            a[0] = s[1]
        elif write == "mul_bcast":
            a.mul_(L.arange(4.0).reshape(4, 1, 1))
        else:
            a.copy_(s.transpose(2, 3).contiguous().transpose(2, 3))
        res.append((a + b, a - b, L.maximum(a, b), a * b + 1))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


def test_double_backward_through_hinted_products():
    x1, x2, w = _data([(2, 3, 5, 4), (2, 3, 5, 4), (4, 3, 3, 3)], seed=6)
    res = []
    for L in (torch, mc):
        F = L.nn.functional
        tx1, tx2, tw = _params(L, [x1, x2, w])
        a, b = F.conv2d(tx1, tw, padding=1), F.conv2d(tx2, tw, padding=1)
        y = (a * b + a - b).tanh().sum()
        g = L.autograd.grad(y, [tx1, tw], create_graph=True)
        gg = L.autograd.grad(sum((t * t).sum() for t in g), [tx1, tx2, tw])
        res.append(g + gg)
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("bias", [False, True])
def test_1x1_rows_product_on_channels_last_input(stride, bias):
    """Under no_grad a 1x1 convolution of a channels-last input is the product of its rows and returns a
    channels-last (hinted) result; a row-major input keeps the (O, C) @ (C, N * positions) product."""
    x, w, b, w3 = _data([(2, 6, 9, 7), (5, 6, 1, 1), (5,), (6, 6, 3, 3)], seed=7)
    res = []
    for L in (torch, mc):
        F = L.nn.functional
        with L.no_grad():
            h = F.conv2d(L.from_numpy(x), L.from_numpy(w3), padding=1)  # channels-last
            y = F.conv2d(h, L.from_numpy(w), L.from_numpy(b) if bias else None, stride=stride)
            y2 = F.conv2d(L.from_numpy(x), L.from_numpy(w), L.from_numpy(b) if bias else None, stride=stride)
        res.append((y, y2))
    assert mc._C._is_channels_last(res[1][0]) and not mc._C._is_channels_last(res[1][1])
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_resnet_blocks_eval_compiled_and_eager(arch):
    """A torchvision BasicBlock / Bottleneck stack under no_grad, eager and compiled, against torch with the
    same weights (every residual add of the inference network combines two channels-last operands)."""
    from mlx_compat.vision.models import resnet as mres
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parents[1] / "vision" / "vision_reference.py"
    spec = importlib.util.spec_from_file_location("vision_reference", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    try:
        tv = ref.import_torchvision().models.resnet
    except ImportError:
        pytest.skip("torchvision (a test-only dependency) gives the reference blocks and is not installed")
    block = "BasicBlock" if arch == "resnet18" else "Bottleneck"
    exp = getattr(mres, block).expansion

    def stack(mod, L):
        ds = L.nn.Sequential(L.nn.Conv2d(8, 16 * exp, 1, stride=2, bias=False), L.nn.BatchNorm2d(16 * exp))
        B = getattr(mod, block)
        return L.nn.Sequential(L.nn.MaxPool2d(3, 2, 1), B(8, 16, stride=2, downsample=ds), B(16 * exp, 16))

    torch.manual_seed(0)
    t = stack(tv, torch).eval()
    for m in t.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    m = stack(mres, mc).eval()
    m.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 8, 20, 18)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x))
    cm = mc.compile(m)
    with mc.no_grad():
        got = m(mc.from_numpy(x))
        got_c = cm(mc.from_numpy(x))
    assert mc._C._is_channels_last(got)
    assert_same(got, want, rtol=1e-4, atol=1e-4)
    assert_same(got_c, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("write", ["mul_", "load_state_dict", "none"])
def test_compiled_inference_reads_weight_copies_made_outside_the_graph(write):
    """Under compile, no_grad convolutions take each weight's O...I copy as an input computed outside the graph
    (Note [Derived inputs]); a write to a weight between calls (in place, or by load_state_dict) is seen."""
    x = _data([(2, 3, 10, 9)], seed=11)[0]
    res = []
    for L in (torch, mc):
        L.manual_seed(0)
        m = L.nn.Sequential(L.nn.Conv2d(3, 8, 3, padding=1), L.nn.BatchNorm2d(8), L.nn.ReLU(inplace=True),
                            L.nn.Conv2d(8, 8, 3, padding=1, bias=False), L.nn.Conv2d(8, 4, 1)).eval()
        if L is mc:
            m.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in res[0][1].items()})
        sd = {k: v.clone() for k, v in m.state_dict().items()}
        f = L.compile(m) if L is mc else m
        outs = []
        with L.no_grad():
            outs.append(f(L.from_numpy(x)))
            if write == "mul_":
                m[3].weight.mul_(-0.5)
            elif write == "load_state_dict":
                w2 = np.random.default_rng(2).standard_normal((8, 8, 3, 3)).astype(np.float32)
                m.load_state_dict(dict(m.state_dict(), **{"3.weight": L.from_numpy(w2)}))
            outs.append(f(L.from_numpy(x)))
            outs.append(f(L.from_numpy(x)))
        res.append((outs, sd))
    for m, t in zip(res[1][0], res[0][0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


def test_derived_inputs_outside_a_trace_and_for_other_arrays():
    """derived_input is fn(*arrays) outside a trace, and inside one when an array is not state (an intermediate)."""
    import mlx.core as mx
    from mlx_compat import _compile
    a = mx.arange(6.0).reshape(2, 3)
    assert _compile.derived_input((a,), "k", lambda v: v * 2).tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]
    m = mc.nn.Linear(3, 2)
    seen = []

    def f(x):
        y = x * 1  # an intermediate array: not a slot, so computed in the graph
        seen.append(_compile.derived_input((m.weight._mx, y._mx), "k", lambda w, v: v + 1) is not None)
        return m(x)

    cf = mc.compile(f)
    with mc.no_grad():
        out = cf(mc.ones(2, 3))
        assert_same(out, torch.from_numpy(m(mc.ones(2, 3)).numpy().copy()))
    assert seen and all(seen)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_folded_eval_batch_norm_follows_writes(compiled, affine):
    """Note [folded eval batch norm]: alpha and beta are kept per set of statistics and affine arrays; writes to
    the running statistics (in place, or by a training-mode call) and to the weight are seen by the next call."""
    x = _data([(3, 4, 5, 6)], seed=12)[0]
    res = []
    for L in (torch, mc):
        bn = L.nn.BatchNorm2d(4, affine=affine)
        with L.no_grad():
            bn.running_mean.copy_(L.arange(4.0) * 0.1)
            bn.running_var.copy_(L.arange(4.0) + 0.5)
        f = L.compile(bn) if (compiled and L is mc) else bn
        xt = L.from_numpy(x)
        outs = []
        with L.no_grad():
            bn.eval()
            outs.append(f(xt))
            bn.running_mean.add_(0.5)
            outs.append(f(xt))
            if affine:
                bn.weight.mul_(-2.0)
                bn.bias.add_(1.0)
            outs.append(f(xt))
            bn.train()
            outs.append(f(xt * 2))  # batch statistics, and a running-statistics update
            bn.eval()
            outs.append(f(xt))
        outs.append(bn(xt))  # recording (affine parameters require grad): the unfolded path
        res.append(outs)
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("nd", [1, 3])
def test_1x1_rows_product_other_ranks(nd):
    """The rows product of a channels-last input in 1-D and 3-D, strided, with bias."""
    sp = {1: (11,), 3: (5, 4, 6)}[nd]
    x, w, b, w3 = _data([(2, 3) + sp, (4, 3) + (1,) * nd, (4,), (3, 3) + (3,) * nd], seed=13)
    res = []
    for L in (torch, mc):
        conv = getattr(L.nn.functional, f"conv{nd}d")
        with L.no_grad():
            h = conv(L.from_numpy(x), L.from_numpy(w3), padding=1)
            res.append((conv(h, L.from_numpy(w), L.from_numpy(b), stride=2), conv(h, L.from_numpy(w))))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)
