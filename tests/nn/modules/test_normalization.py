"""nn normalization modules against torch: BatchNorm1d/2d/3d (+Lazy), SyncBatchNorm (single process),
InstanceNorm1d/2d/3d (+Lazy), LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm and CrossMapLRN2d.

Same constructor, torch's state carried over; outputs, input and parameter gradients, buffers after training
forwards (running stats, num_batches_tracked, momentum=None's cumulative average), state_dict and repr, in train
and eval; initial values; checkpoint upgrades; constructor and input errors."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import assert_same_state, check_module, inputs, lib_path, pair

BN = [
    ("nn.BatchNorm1d", (3,), {}, (4, 3)),
    ("nn.BatchNorm1d", (3,), {}, (4, 3, 5)),
    ("nn.BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("nn.BatchNorm1d", (3,), {"affine": False}, (4, 3)),
    ("nn.BatchNorm1d", (3,), {"track_running_stats": False}, (4, 3, 2)),
    ("nn.BatchNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("nn.BatchNorm2d", (3,), {"eps": 1e-3, "momentum": 0.3}, (2, 3, 4, 5)),
    ("nn.BatchNorm2d", (3,), {"momentum": None, "affine": False}, (2, 3, 2, 2)),
    ("nn.BatchNorm2d", (3,), {"bias": False}, (2, 3, 4, 5)),
    ("nn.BatchNorm2d", (3,), {"affine": False, "track_running_stats": False}, (2, 3, 2, 3)),
    ("nn.BatchNorm3d", (2,), {}, (2, 2, 3, 2, 4)),
    ("nn.BatchNorm3d", (2,), {"momentum": None, "track_running_stats": True}, (2, 2, 2, 2, 2)),
    ("nn.SyncBatchNorm", (3,), {}, (4, 3)),
    ("nn.SyncBatchNorm", (3,), {"momentum": None}, (2, 3, 4, 5)),
    ("nn.SyncBatchNorm", (2,), {"affine": False, "track_running_stats": False}, (2, 2, 3, 2, 2)),
]


def _ids(cases):
    return [f"{c[0][3:]}{c[1]}{c[2] or ''}{c[3]}" for c in cases]


@pytest.mark.parametrize("path,args,kwargs,shape", BN, ids=_ids(BN))
def test_batchnorm_training_then_eval(path, args, kwargs, shape):
    """Three training forwards (running stats and num_batches_tracked after each, momentum=None's cumulative
    average included), then eval forwards that use the running stats (or batch stats without them)."""
    theirs, ours = pair(path, *args, **kwargs)
    for step in range(3):
        t_in, m_in = inputs(shape, seed=step)
        check_module(theirs, ours, t_in, m_in, train=True, seed=step)
    t_in, m_in = inputs(shape, seed=7)
    check_module(theirs, ours, t_in, m_in, train=False)
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 3


@pytest.mark.parametrize("path,args,kwargs,shape", BN, ids=_ids(BN))
def test_batchnorm_eval_with_loaded_stats(path, args, kwargs, shape):
    """Eval straight after loading non-trivial running stats and affine parameters from torch."""
    theirs, ours = pair(path, *args, **kwargs)
    with torch.no_grad():
        for name, b in list(theirs.named_buffers()) + list(theirs.named_parameters()):
            if b.dtype.is_floating_point:
                b.copy_(torch.rand(b.shape) + 0.5)
    sd = {k: to_mc(v) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)
    t_in, m_in = inputs(shape, seed=3)
    check_module(theirs, ours, t_in, m_in, train=False)


def test_batchnorm_float64():
    t = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    m = mc.nn.BatchNorm2d(3, dtype=mc.float64)
    assert str(m.weight.dtype) == "torch.float64" and str(m.running_mean.dtype) == "torch.float64"
    assert str(m.num_batches_tracked.dtype) == str(t.num_batches_tracked.dtype) == "torch.int64"
    t_in, m_in = inputs((2, 3, 2, 2), dtype=np.float64)
    check_module(t, m, t_in, m_in, train=True)


@pytest.mark.parametrize("path", ["nn.BatchNorm1d", "nn.BatchNorm2d", "nn.BatchNorm3d", "nn.SyncBatchNorm",
                                  "nn.InstanceNorm1d", "nn.InstanceNorm2d", "nn.InstanceNorm3d"])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"track_running_stats": False},
                                    {"affine": True, "track_running_stats": True}, {"bias": False}])
def test_norm_initial_state(path, kwargs):
    """Parameters, buffers, their order/dtypes/values and the repr before any state is carried over."""
    t, m = lib_path(torch, path)(4, **kwargs), lib_path(mc, path)(4, **kwargs)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in m.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert list(m._buffers) == list(t._buffers) and list(m._parameters) == list(t._parameters)
    assert_same_state(m, t)
    assert repr(m) == repr(t)
    for k, p in m.named_parameters():
        assert isinstance(p, mc.nn.Parameter) and p.requires_grad


def test_reset_running_stats_and_parameters():
    t, m = pair("nn.BatchNorm1d", 3)
    x_t, x_m = inputs((5, 3))
    t(x_t[0])
    m(x_m[0])
    with torch.no_grad():
        t.weight.fill_(2.0)
    with mc.no_grad():
        m.weight.fill_(2.0)
    t.reset_running_stats()
    m.reset_running_stats()
    assert_same_state(m, t)
    t.reset_parameters()
    m.reset_parameters()
    assert_same_state(m, t)


def test_batchnorm_state_dict_without_num_batches_tracked():
    """A checkpoint from before num_batches_tracked existed (metadata version < 2) loads, keeping the counter."""
    t, m = pair("nn.BatchNorm2d", 3)
    sd_t = t.state_dict()
    del sd_t["num_batches_tracked"]
    sd_t._metadata[""]["version"] = 1
    t.load_state_dict(sd_t)
    sd_m = {k: to_mc(v) for k, v in sd_t.items()}
    from collections import OrderedDict

    sd_m = OrderedDict(sd_m)
    sd_m._metadata = OrderedDict({"": {"version": 1}})
    res = m.load_state_dict(sd_m)
    assert not res.missing_keys and not res.unexpected_keys
    assert_same_state(m, t)
    # a current checkpoint (no version metadata says otherwise) missing the key is an error, as in torch
    sd_t = t.state_dict()
    del sd_t["num_batches_tracked"]
    sd_new = OrderedDict((k, to_mc(v)) for k, v in sd_t.items())
    sd_new._metadata = sd_t._metadata
    assert_raises_same(lambda: t.load_state_dict(sd_t), lambda: m.load_state_dict(sd_new))


@pytest.mark.parametrize("path,shape", [("nn.BatchNorm1d", (2, 3, 4, 5)), ("nn.BatchNorm1d", (3,)),
                                        ("nn.BatchNorm2d", (2, 3, 4)), ("nn.BatchNorm3d", (2, 3, 4, 5)),
                                        ("nn.SyncBatchNorm", (3,)), ("nn.InstanceNorm1d", (2, 3, 4, 5)),
                                        ("nn.InstanceNorm2d", (3, 4)), ("nn.InstanceNorm3d", (2, 3, 4))])
def test_wrong_rank_raises(path, shape):
    t, m = pair(path, 3)
    t_in, m_in = inputs(shape)
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))


def test_syncbatchnorm_zero_channels_raises():
    t, m = torch.nn.SyncBatchNorm(0), mc.nn.SyncBatchNorm(0)
    assert_raises_same(lambda: t(torch.zeros(2, 0, 3)), lambda: m(mc.zeros(2, 0, 3)))


def test_convert_sync_batchnorm():
    """Every BatchNorm*d in a tree becomes a SyncBatchNorm sharing its parameters and buffers; names kept."""
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.LayerNorm(4), lib.nn.BatchNorm1d(4, momentum=None),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False)))

    t = build(torch)
    m = build(mc)
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})
    m.eval()
    t.eval()
    bn = m[1]
    ct, cm = torch.nn.SyncBatchNorm.convert_sync_batchnorm(t), mc.nn.SyncBatchNorm.convert_sync_batchnorm(m)
    assert [type(x).__name__ for x in cm.modules()] == [type(x).__name__ for x in ct.modules()]
    assert type(cm[1]) is mc.nn.SyncBatchNorm and type(cm[2][0]) is mc.nn.SyncBatchNorm
    assert cm[1].weight is bn.weight and cm[1].running_mean is bn.running_mean
    assert cm[1].training is False
    assert repr(cm) == repr(ct)
    assert_same_state(cm, ct)
    cm.train()
    ct.train()
    t_in, m_in = inputs((5, 4))
    check_module(ct, cm, t_in, m_in, train=True)


LAZY = [("nn.LazyBatchNorm1d", {}, (4, 3)), ("nn.LazyBatchNorm1d", {"affine": False}, (4, 3, 2)),
        ("nn.LazyBatchNorm2d", {"momentum": None}, (2, 3, 4, 4)), ("nn.LazyBatchNorm3d", {}, (2, 2, 2, 3, 2)),
        ("nn.LazyBatchNorm2d", {"track_running_stats": False}, (2, 3, 2, 2)),
        ("nn.LazyInstanceNorm1d", {}, (2, 3, 5)), ("nn.LazyInstanceNorm2d", {"affine": False}, (2, 3, 4, 4)),
        ("nn.LazyInstanceNorm3d", {"track_running_stats": False}, (2, 2, 3, 3, 2))]


@pytest.mark.parametrize("path,kwargs,shape", LAZY, ids=[f"{c[0][3:]}{c[1]}" for c in LAZY])
def test_lazy(path, kwargs, shape):
    """Lazy norms take num_features from the first input, become their concrete class and then match torch."""
    t, m = lib_path(torch, path)(**kwargs), lib_path(mc, path)(**kwargs)
    assert repr(m) == repr(t)
    assert m.has_uninitialized_params()
    t_in, m_in = inputs(shape)
    check_module(t, m, t_in, m_in, train=True, check_repr=False)
    assert type(m).__name__ == type(t).__name__ == path[7:]
    assert repr(m) == repr(t)
    t_in, m_in = inputs(shape, seed=4)
    check_module(t, m, t_in, m_in, train=False)


def test_lazy_from_state_dict():
    t = torch.nn.BatchNorm2d(5)
    with torch.no_grad():
        t.weight.uniform_()
        t.running_var.uniform_(1, 2)
    m = mc.nn.LazyBatchNorm2d()
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})
    assert tuple(m.weight.shape) == (5,)
    t_in, m_in = inputs((2, 5, 3, 3))
    check_module(t, m, t_in, m_in, train=False, check_repr=False)


IN = [
    ("nn.InstanceNorm1d", (3,), {}, (2, 3, 6)),
    ("nn.InstanceNorm1d", (3,), {}, (3, 6)),
    ("nn.InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("nn.InstanceNorm1d", (3,), {"track_running_stats": True}, (2, 3, 6)),
    ("nn.InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True, "momentum": 0.3}, (3, 6)),
    ("nn.InstanceNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("nn.InstanceNorm2d", (3,), {"affine": True, "bias": False}, (3, 4, 5)),
    ("nn.InstanceNorm2d", (3,), {"track_running_stats": True, "eps": 1e-3}, (2, 3, 4, 5)),
    ("nn.InstanceNorm3d", (2,), {"affine": True, "track_running_stats": True}, (2, 2, 3, 2, 4)),
    ("nn.InstanceNorm3d", (2,), {}, (2, 3, 2, 4)),
]


@pytest.mark.parametrize("path,args,kwargs,shape", IN, ids=_ids(IN))
def test_instancenorm(path, args, kwargs, shape):
    theirs, ours = pair(path, *args, **kwargs)
    for step in range(2):
        t_in, m_in = inputs(shape, seed=step)
        check_module(theirs, ours, t_in, m_in, train=True, seed=step)
    t_in, m_in = inputs(shape, seed=5)
    check_module(theirs, ours, t_in, m_in, train=False)


def test_instancenorm_num_features_mismatch():
    """affine: a channel-count mismatch is a ValueError; without affine only a warning."""
    t, m = pair("nn.InstanceNorm1d", 4, affine=True)
    t_in, m_in = inputs((2, 3, 5))
    assert_raises_same(lambda: t(*t_in), lambda: m(*m_in))
    t, m = pair("nn.InstanceNorm1d", 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = m(*m_in)
        expected = t(*t_in)
    assert any("does not match num_features" in str(x.message) for x in w)
    assert_same(out, expected)


def test_instancenorm_old_checkpoint_running_stats():
    """Pre-0.4 checkpoints with running stats for a track_running_stats=False module: torch's error message."""
    from collections import OrderedDict

    m = mc.nn.InstanceNorm1d(3)
    sd = OrderedDict(running_mean=mc.zeros(3), running_var=mc.ones(3))
    sd._metadata = OrderedDict({"": {}})
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        m.load_state_dict(sd)


LN = [
    ("nn.LayerNorm", (5,), {}, (3, 5)),
    ("nn.LayerNorm", ([4, 5],), {}, (2, 3, 4, 5)),
    ("nn.LayerNorm", ((4, 5),), {"elementwise_affine": False}, (2, 4, 5)),
    ("nn.LayerNorm", (5,), {"bias": False, "eps": 1e-3}, (2, 3, 5)),
    ("nn.GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("nn.GroupNorm", (1, 6), {"eps": 1e-3}, (2, 6, 3, 3)),
    ("nn.GroupNorm", (3, 3), {"affine": False}, (2, 3, 4)),
    ("nn.GroupNorm", (2, 4), {"bias": False}, (2, 4, 2, 2, 2)),
    ("nn.RMSNorm", (5,), {}, (3, 5)),
    ("nn.RMSNorm", ([3, 5],), {"eps": 1e-3}, (2, 3, 5)),
    ("nn.RMSNorm", (5,), {"elementwise_affine": False}, (2, 5)),
    ("nn.LocalResponseNorm", (2,), {}, (2, 4, 5)),
    ("nn.LocalResponseNorm", (3,), {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 5, 3, 3)),
    ("nn.LocalResponseNorm", (4,), {"alpha": 0.5}, (2, 6, 2, 2, 2)),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shape", LN, ids=_ids(LN))
def test_stateless_norms(path, args, kwargs, shape, train):
    theirs, ours = pair(path, *args, **kwargs)
    # non-trivial affine parameters, so their gradients and use are tested
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.rand(p.shape) + 0.5)
    ours.load_state_dict({k: to_mc(v) for k, v in theirs.state_dict().items()})
    t_in, m_in = inputs(shape)
    check_module(theirs, ours, t_in, m_in, train=train)


def test_layernorm_shape_attrs():
    for arg in (5, [4, 5], (4, 5), torch.Size([4, 5])):
        t = torch.nn.LayerNorm(arg)
        m = mc.nn.LayerNorm(arg if not isinstance(arg, torch.Size) else mc.Size(arg))
        assert m.normalized_shape == t.normalized_shape and type(m.normalized_shape) is tuple
        assert repr(m) == repr(t)
        assert tuple(m.weight.shape) == tuple(t.weight.shape)


def test_groupnorm_divisibility():
    assert_raises_same(lambda: torch.nn.GroupNorm(3, 4), lambda: mc.nn.GroupNorm(3, 4))


@pytest.mark.parametrize("size,channels", [(3, 3), (3, 2), (3, 8), (4, 9), (5, 6), (1, 4), (2, 7)])
def test_cross_map_lrn2d_forward(size, channels):
    """torch's legacy running-window forward (Note [CrossMapLRN2d window]) for every window/channel relation."""
    theirs, ours = pair("nn.CrossMapLRN2d", size, alpha=0.5, beta=0.75, k=2)
    t_in, m_in = inputs((2, channels, 3, 2))
    with torch.no_grad():
        out_t = theirs(t_in[0])
    assert_same(ours(m_in[0]).detach(), out_t)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("size,channels", [(3, 3), (5, 3), (3, 6), (4, 5), (1, 4)])
def test_cross_map_lrn2d_gradient(size, channels):
    """The gradient is the exact derivative of torch's forward (gradcheck in float64, and against torch's forward
    differentiated numerically). torch's own legacy backward is not: it fails torch.autograd.gradcheck (its
    window is offset by one channel) and raises for size=1, so it cannot serve as the reference."""
    x = np.random.default_rng(0).standard_normal((1, channels, 2, 2))
    m = mc.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=2)
    xm = mc.tensor(x, requires_grad=True)
    assert mc.autograd.gradcheck(lambda v: m(v), (xm,))
    # central differences of torch's forward, against our gradient of sum(out * c)
    c = np.random.default_rng(1).standard_normal(x.shape)
    t = torch.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=2)

    def f(v):
        with torch.no_grad():
            return float((t(torch.tensor(v)) * torch.tensor(c)).sum())

    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1e-6
        num[i] = (f(x + e) - f(x - e)) / 2e-6
    (m(xm) * mc.tensor(c)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), num, rtol=1e-5, atol=1e-7)


def test_cross_map_lrn2d_rank():
    t, m = torch.nn.CrossMapLRN2d(3), mc.nn.CrossMapLRN2d(3)
    assert_raises_same(lambda: t(torch.zeros(2, 3, 4)), lambda: m(mc.zeros(2, 3, 4)))


@pytest.mark.parametrize("path,args,kwargs", [
    ("nn.LayerNorm", ([3, 4],), {}), ("nn.LayerNorm", (4,), {"bias": False}),
    ("nn.LayerNorm", (4,), {"elementwise_affine": False}), ("nn.GroupNorm", (2, 4), {}),
    ("nn.GroupNorm", (2, 4), {"affine": False}), ("nn.GroupNorm", (2, 4), {"bias": False}),
    ("nn.RMSNorm", (4,), {}), ("nn.RMSNorm", ([2, 4],), {"eps": 1e-6}), ("nn.RMSNorm", (4,), {"elementwise_affine": False}),
    ("nn.LocalResponseNorm", (3,), {}), ("nn.CrossMapLRN2d", (5,), {"k": 2.0})])
def test_stateless_norm_initial_state(path, args, kwargs):
    """Initial parameters (ones / zeros), their registration order, dtype option, and the repr."""
    t, m = lib_path(torch, path)(*args, **kwargs), lib_path(mc, path)(*args, **kwargs)
    assert list(m._parameters) == list(t._parameters)
    assert_same_state(m, t)
    assert repr(m) == repr(t)
    if "affine" not in str(kwargs) and path not in ("nn.LocalResponseNorm", "nn.CrossMapLRN2d"):
        t64 = lib_path(torch, path)(*args, dtype=torch.float64, **kwargs)
        m64 = lib_path(mc, path)(*args, dtype=mc.float64, **kwargs)
        assert [str(p.dtype) for p in m64.parameters()] == [str(p.dtype) for p in t64.parameters()]


def test_batchnorm_state_dict_version_and_copies():
    """_version 2 in the state_dict metadata; deepcopy and pickling keep parameters, buffers and class."""
    import copy
    import pickle

    t, m = pair("nn.BatchNorm2d", 3, momentum=None)
    assert m.state_dict()._metadata[""]["version"] == t.state_dict()._metadata[""]["version"] == 2
    t_in, m_in = inputs((2, 3, 2, 2))
    m(m_in[0])
    t(t_in[0])
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(clone) is mc.nn.BatchNorm2d and repr(clone) == repr(m)
        assert_same_state(clone, t)
        assert clone.running_mean is not m.running_mean


@pytest.mark.parametrize("make", [lambda: mc.nn.BatchNorm2d(8), lambda: mc.nn.BatchNorm2d(8, momentum=None),
                                  lambda: mc.nn.InstanceNorm2d(8, track_running_stats=True),
                                  lambda: mc.nn.SyncBatchNorm(8)], ids=["bn", "bn-cma", "in", "sync"])
def test_running_stats_do_not_keep_inputs_alive(make):
    """A training loop that never reads the running stats must not accumulate memory: the lazily updated
    buffers may reference only per-channel arrays, not each step's input (Note [running statistics])."""
    import gc

    import mlx.core as mx

    m = make()
    x = mc.randn(32, 8, 32, 32)  # 1 MiB
    m(x).sum().item()
    del x
    gc.collect()
    base = mx.get_active_memory()
    for _ in range(12):
        x = mc.randn(32, 8, 32, 32)
        m(x).sum().item()
    del x
    gc.collect()
    growth = mx.get_active_memory() - base
    assert growth < 3 * 2 ** 20, f"{growth / 2 ** 20:.1f} MiB still held after 12 steps"
    assert np.isfinite(m.running_var.numpy()).all()


@pytest.mark.parametrize("path,kwargs", [("nn.BatchNorm1d", {"momentum": None}), ("nn.BatchNorm1d", {}),
                                         ("nn.InstanceNorm1d", {"track_running_stats": True})])
def test_many_training_steps(path, kwargs):
    """Past the periodic evaluation of the running-stat graphs (Note [running-stat graphs]) the buffers still
    match torch's, and the graphs no longer grow with the number of steps."""
    import gc

    import mlx.core as mx

    from mlx_compat.nn.modules.batchnorm import _FLUSH_EVERY

    theirs, ours = pair(path, 256, **kwargs)
    r = np.random.default_rng(0)
    xs = [r.standard_normal((4, 256, 3)).astype(np.float32) for _ in range(5)]
    steps = 2 * _FLUSH_EVERY + 5
    ours(mc.tensor(xs[0]))
    theirs(torch.tensor(xs[0]))
    gc.collect()
    base = mx.get_active_memory()
    for i in range(1, steps):
        with torch.no_grad():
            theirs(torch.tensor(xs[i % 5]))
        with mc.no_grad():
            ours(mc.tensor(xs[i % 5])).sum().item()  # a step evaluates its output, never the buffers
    gc.collect()
    # unevaluated, each step's update holds its 256-channel statistics (about 2 KiB; ~270 KiB over these steps);
    # the periodic evaluation keeps that to one flush interval's worth
    assert mx.get_active_memory() - base < 64 * 1024
    assert_same_state(ours, theirs, rtol=1e-4, atol=1e-5)
