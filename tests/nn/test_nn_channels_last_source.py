"""N...C source arrays of channels-last tensors (Note [Channels-last source] in csrc/layout.c): where no gradient
is recorded, convolutions, batch norms and channels-last pools record the N...C array behind their NC... result,
and relu, residual adds, scalar ops and the next layers compute from it. Values against torch for chains of such
layers, in-place writes (through the operators that set a new source and through other writes that must drop
it), views, results that later require grad, dtype changes and compiled calls; which tensors carry a source is
checked where it decides the path."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch

src_of = mc._C._channels_last_source


def _data(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _conv_bn(L, x, w, stats, training=False):
    F = L.nn.functional
    return F.batch_norm(F.conv2d(x, w, padding=1), *stats, training=training)


def _stats(L, c, seed=5):
    rng = np.random.default_rng(seed)
    return (L.from_numpy((rng.standard_normal(c) * 0.1).astype(np.float32)),
            L.from_numpy(rng.uniform(0.5, 2.0, c).astype(np.float32)))


def test_which_results_carry_a_source():
    x, w = _data([(2, 4, 6, 5), (4, 4, 3, 3)])
    F = mc.nn.functional
    with mc.no_grad():
        a = F.conv2d(mc.from_numpy(x), mc.from_numpy(w), padding=1)
        b = F.batch_norm(a, *_stats(mc, 4))
        assert src_of(a) is not None and src_of(b) is not None
        assert src_of(b.relu()) is not None and src_of(a + b) is not None and src_of(a * 2) is not None
        assert src_of(2 - a) is not None and src_of(a + mc.tensor(1.0)) is not None
        assert src_of(a[:, :2]) is None and src_of(a.permute(0, 1, 3, 2)) is None
        assert src_of(a + b[:, :1]) is None  # a broadcast operand
        assert src_of(a.double()) is None
        assert src_of(F.max_pool2d(mc.randn(1, 8, 6, 6), 3, 2, 1)) is not None
        c = a.clone()
        assert src_of(c) is None  # not an elementwise operator
        c = a * 1
        c += b
        assert src_of(c) is not None
        c.relu_()
        assert src_of(c) is not None
        c.copy_(a)  # another write: the source goes
        assert src_of(c) is None
        d = a * 1
        d[0] = 0.0
        assert src_of(d) is None
    # where a gradient is recorded, none
    wt = mc.from_numpy(w).requires_grad_()
    assert src_of(F.conv2d(mc.from_numpy(x), wt, padding=1)) is None


@pytest.mark.parametrize("write", ["copy_", "setitem", "view_iadd", "mul_bcast", "fill_", "set_data"])
def test_writes_after_a_source_keep_values(write):
    """A sourced tensor written by something else than the operators that set a new source must be read from
    its new value, not the old source."""
    x, w, w2, s = _data([(2, 4, 6, 5), (4, 4, 3, 3), (4, 4, 3, 3), (2, 4, 6, 5)], seed=1)
    res = []
    for L in (torch, mc):
        F = L.nn.functional
        with L.no_grad():
            a = F.relu(_conv_bn(L, L.from_numpy(x), L.from_numpy(w), _stats(L, 4)))
            sv = L.from_numpy(s)
            if write == "copy_":
                a.copy_(sv)
            elif write == "setitem":
                a[1] = sv[0]
            elif write == "view_iadd":
                a[:, 1:3] += sv[:, 1:3]
            elif write == "mul_bcast":
                a.mul_(L.arange(4.0).reshape(4, 1, 1))
            elif write == "fill_":
                a.fill_(0.25)
            else:
                a.data = sv * 1
            out = F.conv2d(F.batch_norm(a, *_stats(L, 4, 7)).relu() + a, L.from_numpy(w2), padding=1)
            res.append((a, out, F.max_pool2d(a * 2, 3, 2, 1), F.adaptive_avg_pool2d(a - 1, 1)))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(20, 18), (44, 40)])  # the larger one has CPU fusion barriers (_normalization.py)
def test_chain_against_torch_eager_and_compiled(size):
    """stem conv -> bn -> relu_ -> pool -> two residual blocks (in-place add, 1x1 downsample) -> global pool."""
    x = _data([(2, 3) + size], seed=2)[0]
    res = []
    for L in (torch, mc):
        L.manual_seed(0)
        nn = L.nn

        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
                self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
                self.relu = nn.ReLU(inplace=True)
                self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                             if stride != 1 else None)

            def forward(self, x):
                out = self.relu(self.b1(self.c1(x)))
                out = self.b2(self.c2(out))
                out += x if self.down is None else self.down(x)
                return self.relu(out)

        m = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                          nn.MaxPool2d(3, 2, 1), Block(8, 8, 1), Block(8, 16, 2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(16, 5))
        if L is mc:
            m.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in res[0][1].items()})
        else:
            for mod in m.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.2, 0.2)
                    mod.running_var.uniform_(0.5, 1.5)
                    mod.weight.data.uniform_(0.5, 1.5)
        m.eval()
        outs = []
        with L.no_grad():
            outs.append(m(L.from_numpy(x)))
            if L is mc:
                cm = mc.compile(m)
                outs += [cm(L.from_numpy(x)) for _ in range(3)]
            else:
                outs += [outs[0]] * 3
            feats = m[:6](L.from_numpy(x))
        outs.append(feats)
        res.append((outs, m.state_dict()))
    for m_, t in zip(res[1][0], res[0][0]):
        assert_same(m_, t, rtol=1e-5, atol=1e-5)


def test_sourced_results_that_later_require_grad():
    """A tensor computed under no_grad (sourced) used in a recorded computation: values and gradients as torch."""
    x, w = _data([(2, 4, 6, 5), (4, 4, 3, 3)], seed=3)
    res = []
    for L in (torch, mc):
        F = L.nn.functional
        with L.no_grad():
            a = F.relu(_conv_bn(L, L.from_numpy(x), L.from_numpy(w), _stats(L, 4)))
        a.requires_grad_()
        wt = L.from_numpy(w).requires_grad_()
        y = F.conv2d((a * 3).tanh() + a, wt, padding=1)
        g = L.autograd.grad((y * y).sum(), [a, wt])
        res.append((y,) + tuple(g))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["sigmoid", "neg", "abs", "exp", "gt0", "pow2", "div_t0", "sub_inplace_scalar"])
def test_elementwise_ops_of_sourced_tensors(op):
    x, w = _data([(2, 4, 6, 5), (4, 4, 3, 3)], seed=4)
    res = []
    for L in (torch, mc):
        with L.no_grad():
            a = _conv_bn(L, L.from_numpy(x), L.from_numpy(w), _stats(L, 4))
            if op == "gt0":
                r = a > 0
            elif op == "pow2":
                r = a ** 2
            elif op == "div_t0":
                r = a / L.tensor(3.0)
            elif op == "sub_inplace_scalar":
                a -= 0.5
                r = a.relu()
            else:
                r = getattr(a, op)()
            res.append((r, r.float() + a))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_chains(dtype):
    x, w = _data([(2, 8, 6, 5), (8, 8, 3, 3)], seed=6)
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        F = L.nn.functional
        with L.no_grad():
            a = F.relu(F.conv2d(L.from_numpy(x).to(dt), L.from_numpy(w).to(dt), padding=1))
            b = F.max_pool2d(a + a * 0.5, 3, 2, 1)
            res.append((b, F.adaptive_avg_pool2d(b, 1), b.float() + 1))
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("k,s,p,d,ceil", [(3, 2, 1, 1, False), (3, 2, 1, 1, True), (2, 1, 0, 1, False),
                                          ((3, 2), (2, 1), (1, 0), (2, 1), True), (3, 3, 1, 1, True)])
@pytest.mark.parametrize("sourced", [False, True])
def test_channels_last_max_pool_without_grad(k, s, p, d, ceil, sourced):
    """The no-grad channels-last max pool, eager (running maximum) and compiled (one max over as_strided
    windows): NaN and -inf as torch's."""
    x = _data([(2, 8, 9, 7)], seed=8)[0]
    x[0, 1, 2, 3] = np.nan
    x[1, 2, :4, :4] = -np.inf
    w = np.zeros((8, 8, 3, 3), np.float32)
    w[:, :, 1, 1] = np.eye(8)
    pos = np.abs(x)
    pos[0, 1, 2, 3], pos[1, 2, :4, :4] = -1.0, 0.0
    res = []
    for L in (torch, mc):
        F = L.nn.functional

        def f(xt):
            if sourced:  # an exact identity convolution, then log: NaN at -1, -inf at 0
                xt = F.conv2d(xt, L.from_numpy(w), padding=1).log()
                assert L is torch or src_of(xt) is not None
            return F.max_pool2d(xt, k, s, p, d, ceil)

        with L.no_grad():
            xt = L.from_numpy(pos if sourced else x)
            res.append((f(xt), (mc.compile(f) if L is mc else f)(xt)))
    assert src_of(res[1][0]) is not None
    for m, t in zip(res[1], res[0]):
        assert_same(m, t, rtol=1e-6, atol=1e-6, equal_nan=True)
