"""weight_norm and spectral_norm (hook-based), and conv/linear + batch-norm fusion, against torch: parameter
names and order, state_dict keys, forward outputs and gradients from the same weights, removal, and the
errors torch raises."""
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch
from modtest import carry_state, pair


def x_pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(a, requires_grad=True), mc.tensor(a, requires_grad=True)


def fwd_bwd(t, m, xt, xm, tol=1e-5):
    yt, ym = t(xt), m(xm)
    assert_same(ym, yt, rtol=tol, atol=tol)
    c = np.random.default_rng(5).standard_normal(tuple(yt.shape)).astype(np.float32)
    (yt * torch.tensor(c)).sum().backward()
    (ym * mc.tensor(c)).sum().backward()
    assert_same(xm.grad, xt.grad, rtol=1e-4, atol=1e-5)
    tp, mp = dict(t.named_parameters()), dict(m.named_parameters())
    assert list(mp) == list(tp)
    for k in tp:
        assert_same(mp[k].grad, tp[k].grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,args,dim,shape", [
    ("nn.Linear", (4, 3), 0, (2, 4)), ("nn.Linear", (4, 3), 1, (2, 4)), ("nn.Linear", (4, 3), None, (2, 4)),
    ("nn.Conv2d", (2, 3, 3), 0, (1, 2, 5, 5)), ("nn.Conv1d", (2, 3, 3), -1, (1, 2, 6)),
])
def test_weight_norm_hook(cls, args, dim, shape):
    t, m = pair(cls, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(t, dim=dim)
        mc.nn.utils.weight_norm(m, dim=dim)
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert_same(m.state_dict()[k], v, rtol=1e-6, atol=1e-6)
    xt, xm = x_pair(*shape)
    fwd_bwd(t, m, xt, xm)
    torch.nn.utils.remove_weight_norm(t)
    mc.nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == list(t.state_dict())
    assert_same(m.weight, t.weight, rtol=1e-6, atol=1e-6)
    assert isinstance(m.weight, mc.nn.Parameter)


def test_weight_norm_errors():
    t, m = pair("nn.Linear", 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(t)
        mc.nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError) as et:
            torch.nn.utils.weight_norm(t)
        with pytest.raises(RuntimeError) as em:
            mc.nn.utils.weight_norm(m)
    assert str(em.value) == str(et.value)
    with pytest.raises(ValueError) as et:
        torch.nn.utils.remove_weight_norm(t, "bias")
    with pytest.raises(ValueError) as em:
        mc.nn.utils.remove_weight_norm(m, "bias")
    assert str(em.value) == str(et.value)


def _carry_sn(t, m):
    """torch's u/v (random at registration) into ours."""
    sd = {k: to_mc(v) for k, v in t.state_dict().items()}
    m.load_state_dict(sd)


@pytest.mark.parametrize("cls,args,shape,kw", [
    ("nn.Linear", (5, 4), (3, 5), {}), ("nn.Conv2d", (2, 4, 3), (1, 2, 5, 5), dict(n_power_iterations=3)),
    ("nn.ConvTranspose2d", (3, 2, 2), (1, 3, 4, 4), {}),
])
def test_spectral_norm_hook(cls, args, shape, kw):
    t, m = pair(cls, *args)
    torch.nn.utils.spectral_norm(t, **kw)
    mc.nn.utils.spectral_norm(m, **kw)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert m.state_dict()._metadata[""]["spectral_norm"] == t.state_dict()._metadata[""]["spectral_norm"]
    _carry_sn(t, m)
    for train in (True, False, True):
        t.train(train)
        m.train(train)
        xt, xm = x_pair(*shape, seed=int(train))
        fwd_bwd(t, m, xt, xm, tol=1e-4)
        for k, v in t.state_dict().items():  # the power iteration updated u and v alike
            assert_same(m.state_dict()[k], v, rtol=1e-4, atol=1e-5)
        for p in list(t.parameters()) + list(m.parameters()):
            p.grad = None
    torch.nn.utils.remove_spectral_norm(t)
    mc.nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == list(t.state_dict())
    assert_same(m.weight, t.weight, rtol=1e-4, atol=1e-5)


def test_spectral_norm_errors():
    for lib in (torch, mc):
        with pytest.raises(ValueError):
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
    t, m = pair("nn.Linear", 2, 2)
    with pytest.raises(ValueError) as et:
        torch.nn.utils.remove_spectral_norm(t)
    with pytest.raises(ValueError) as em:
        mc.nn.utils.remove_spectral_norm(m)
    assert str(em.value) == str(et.value)


@pytest.mark.parametrize("conv,args,bn,shape", [
    ("nn.Conv2d", (3, 4, 3), "nn.BatchNorm2d", (2, 3, 6, 6)),
    ("nn.Conv1d", (3, 4, 3), "nn.BatchNorm1d", (2, 3, 7)),
    ("nn.Conv2d", (3, 4, 1), "nn.BatchNorm2d", (1, 3, 4, 4)),
])
def test_fuse_conv_bn_eval(conv, args, bn, shape):
    tc, mc_ = pair(conv, *args)
    tb, mb = pair(bn, args[1])
    r = np.random.default_rng(3)
    with torch.no_grad():
        tb.running_mean.copy_(torch.tensor(r.standard_normal(args[1]).astype(np.float32)))
        tb.running_var.copy_(torch.tensor(r.uniform(0.5, 2.0, args[1]).astype(np.float32)))
        tb.weight.copy_(torch.tensor(r.standard_normal(args[1]).astype(np.float32)))
        tb.bias.copy_(torch.tensor(r.standard_normal(args[1]).astype(np.float32)))
    carry_state(tb, mb)
    for mod in (tc, mc_, tb, mb):
        mod.eval()
    ft = torch.nn.utils.fuse_conv_bn_eval(tc, tb)
    fm = mc.nn.utils.fuse_conv_bn_eval(mc_, mb)
    assert fm is not mc_ and type(fm) is type(mc_) and isinstance(fm.weight, mc.nn.Parameter)
    for k, v in ft.state_dict().items():
        assert_same(fm.state_dict()[k], v, rtol=1e-5, atol=1e-6)
    xt, xm = x_pair(*shape)
    assert_same(fm(xm), mb(mc_(xm)), rtol=1e-4, atol=1e-5)
    assert_same(fm(xm), ft(xt), rtol=1e-5, atol=1e-5)


def test_fuse_conv_transpose_and_linear_bn():
    tc, mc_ = pair("nn.ConvTranspose2d", 3, 4, 2)
    tb, mb = pair("nn.BatchNorm2d", 4)
    for mod in (tc, mc_, tb, mb):
        mod.eval()
    ft = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=True)
    fm = mc.nn.utils.fuse_conv_bn_eval(mc_, mb, transpose=True)
    for k, v in ft.state_dict().items():
        assert_same(fm.state_dict()[k], v)
    tl, ml = pair("nn.Linear", 5, 4, bias=False)
    tb, mb = pair("nn.BatchNorm1d", 4)
    with torch.no_grad():
        tb.running_var.fill_(2.0)
    carry_state(tb, mb)
    for mod in (tl, ml, tb, mb):
        mod.eval()
    ft, fm = torch.nn.utils.fuse_linear_bn_eval(tl, tb), mc.nn.utils.fuse_linear_bn_eval(ml, mb)
    assert list(fm.state_dict()) == list(ft.state_dict())
    for k, v in ft.state_dict().items():
        assert_same(fm.state_dict()[k], v)


def test_fuse_errors():
    tc, mc_ = pair("nn.Conv2d", 3, 4, 3)
    tb, mb = pair("nn.BatchNorm2d", 4)
    with pytest.raises(AssertionError) as et:
        torch.nn.utils.fuse_conv_bn_eval(tc, tb)
    with pytest.raises(AssertionError) as em:
        mc.nn.utils.fuse_conv_bn_eval(mc_, mb)
    assert str(em.value) == str(et.value)
    tl, ml = pair("nn.Linear", 3, 5)
    tb, mb = pair("nn.BatchNorm1d", 4)
    for mod in (tl, ml, tb, mb):
        mod.eval()
    with pytest.raises(AssertionError) as et:
        torch.nn.utils.fuse_linear_bn_eval(tl, tb)
    with pytest.raises(AssertionError) as em:
        mc.nn.utils.fuse_linear_bn_eval(ml, mb)
    assert str(em.value) == str(et.value)


def test_skip_init():
    m = mc.nn.utils.skip_init(mc.nn.Linear, 4, 3)
    assert type(m) is mc.nn.Linear and tuple(m.weight.shape) == (3, 4)
    with pytest.raises(RuntimeError) as et:
        torch.nn.utils.skip_init(int)
    with pytest.raises(RuntimeError) as em:
        mc.nn.utils.skip_init(int)
    assert str(em.value) == str(et.value)
