"""torch.masked reductions and normalizations on strided tensors with a bool mask, against PyTorch 2.13: values,
dtypes and shapes for every dim/keepdim/dtype option, broadcast masks, fully masked-out slices (identity values /
nan), integer inputs, gradients (masked-out elements get zero, even under a nan upstream gradient) and errors."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, assert_same_outcome, both, mc, to_mc, torch


def _inputs(shape=(3, 4, 5), dtype="float32", seed=0, full_row=True):
    r = np.random.default_rng(seed)
    x = r.standard_normal(shape) * 3
    m = r.random(shape) > 0.4
    if full_row:
        m[0, 1, :] = False  # a slice with nothing masked in
    tx, mx_ = both(x, dtype)
    tm, mm = both(m)
    return tx, mx_, tm, mm


REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "logsumexp", "norm", "var", "std"]
DIMS = [None, 0, 1, -1, (0, 2), (), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name, dim, keepdim):
    tx, mx_, tm, mm = _inputs()
    for mask in (True, False):
        kw_t = dict(keepdim=keepdim, mask=tm if mask else None)
        kw_m = dict(keepdim=keepdim, mask=mm if mask else None)
        assert_same_outcome(lambda: getattr(torch.masked, name)(tx, dim, **kw_t),
                            lambda: getattr(mc.masked, name)(mx_, dim, **kw_m), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 2, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argminmax(name, dim, keepdim):
    tx, mx_, tm, mm = _inputs()
    assert_same(getattr(mc.masked, name)(mx_, dim, keepdim=keepdim, mask=mm),
                getattr(torch.masked, name)(tx, dim, keepdim=keepdim, mask=tm))
    assert_same(getattr(mc.masked, name)(mx_, dim, keepdim=keepdim, mask=mm, dtype=mc.int64),
                getattr(torch.masked, name)(tx, dim, keepdim=keepdim, mask=tm, dtype=torch.int64))


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalizations(name, dim):
    tx, mx_, tm, mm = _inputs()
    assert_same(getattr(mc.masked, name)(mx_, dim, mask=mm), getattr(torch.masked, name)(tx, dim, mask=tm),
                rtol=1e-5, atol=1e-5)
    assert_same(getattr(mc.masked, name)(mx_, dim), getattr(torch.masked, name)(tx, dim), rtol=1e-5, atol=1e-5)
    assert_same(getattr(mc.masked, name)(mx_, dim, mask=mm, dtype=mc.float64),
                getattr(torch.masked, name)(tx, dim, mask=tm, dtype=torch.float64), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("ord", [1, 2, 3.5, float("inf"), float("-inf"), 0])
def test_norm_and_normalize(ord):
    tx, mx_, tm, mm = _inputs()
    assert_same(mc.masked.norm(mx_, ord, 1, mask=mm), torch.masked.norm(tx, ord, 1, mask=tm), rtol=1e-5)
    assert_same(mc.masked.norm(mx_, ord, (0, 2), keepdim=True, mask=mm),
                torch.masked.norm(tx, ord, (0, 2), keepdim=True, mask=tm), rtol=1e-5)
    if ord != 0:
        assert_same(mc.masked.normalize(mx_, ord, 2, mask=mm), torch.masked.normalize(tx, ord, 2, mask=tm),
                    rtol=1e-5, atol=1e-6)
        assert_same(mc.masked.normalize(mx_, ord, 0, mask=mm, eps=10.0),
                    torch.masked.normalize(tx, ord, 0, mask=tm, eps=10.0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("unbiased,correction", [(None, None), (False, None), (True, None), (None, 0), (None, 2)])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_options(name, unbiased, correction):
    tx, mx_, tm, mm = _inputs()
    kw = {}
    if unbiased is not None:
        kw["unbiased"] = unbiased
    if correction is not None:
        kw["correction"] = correction
    assert_same(getattr(mc.masked, name)(mx_, 2, mask=mm, **kw), getattr(torch.masked, name)(tx, 2, mask=tm, **kw),
                rtol=1e-5, atol=1e-6)
    assert_same(getattr(mc.masked, name)(mx_, None, mask=mm, keepdim=True, **kw),
                getattr(torch.masked, name)(tx, None, mask=tm, keepdim=True, **kw), rtol=1e-5, atol=1e-6)


def test_median():
    tx, mx_, tm, mm = _inputs()
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            assert_same(mc.masked.median(mx_, dim, keepdim=keepdim, mask=mm),
                        torch.masked.median(tx, dim, keepdim=keepdim, mask=tm))
    assert_same(mc.masked.median(mx_, mask=mm), torch.masked.median(tx, mask=tm))
    # integer input: float computation, result cast back; a fully masked-out row is an error there
    ti, mi = both(np.arange(20).reshape(4, 5) % 7)
    tmask, mmask = both(np.arange(20).reshape(4, 5) % 3 != 0)
    assert_same(mc.masked.median(mi, 1, mask=mmask), torch.masked.median(ti, 1, mask=tmask))
    tz, mz = both(np.zeros((4, 5), dtype=bool))
    assert_raises_same(lambda: torch.masked.median(ti, 1, mask=tz), lambda: mc.masked.median(mi, 1, mask=mz))


def test_logaddexp():
    tx, mx_, tm, mm = _inputs()
    ty, my, tn, mn = _inputs(seed=1)
    assert_same(mc.masked.logaddexp(mx_, my, input_mask=mm, other_mask=mn),
                torch.masked.logaddexp(tx, ty, input_mask=tm, other_mask=tn))
    assert_same(mc.masked.logaddexp(mx_, my, input_mask=mm), torch.masked.logaddexp(tx, ty, input_mask=tm))
    assert_same(mc.masked.logaddexp(mx_, my, dtype=mc.float64), torch.masked.logaddexp(tx, ty, dtype=torch.float64),
                rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float64", "float16"])
@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "cumsum", "mean", "var"])
def test_dtypes(name, dtype):
    r = np.random.default_rng(3)
    x = r.integers(0, 4, (3, 4)) if dtype != "bool" else r.random((3, 4)) > 0.5
    tx, mx_ = both(x, dtype)
    tm, mm = both(r.random((3, 4)) > 0.3)
    dim = 1
    assert_same_outcome(lambda: getattr(torch.masked, name)(tx, dim, mask=tm),
                        lambda: getattr(mc.masked, name)(mx_, dim, mask=mm))
    if name in ("sum", "prod", "mean"):
        assert_same_outcome(lambda: getattr(torch.masked, name)(tx, dim, mask=tm, dtype=torch.float32),
                            lambda: getattr(mc.masked, name)(mx_, dim, mask=mm, dtype=mc.float32))


def test_broadcast_mask_and_errors():
    tx, mx_, _, _ = _inputs()
    tb, mb = both(np.array([True, False, True, True, False]))
    assert_same(mc.masked.sum(mx_, 1, mask=mb), torch.masked.sum(tx, 1, mask=tb))
    assert_same(mc.masked.softmax(mx_, 2, mask=mb), torch.masked.softmax(tx, 2, mask=tb))
    tbig, mbig = both(np.ones((2, 3, 4, 5), dtype=bool))
    assert_raises_same(lambda: torch.masked.sum(tx, 1, mask=tbig), lambda: mc.masked.sum(mx_, 1, mask=mbig))
    assert_raises_same(lambda: torch.masked.sum(tx, 3), lambda: mc.masked.sum(mx_, 3))
    assert_raises_same(lambda: torch.masked.sum(tx, (1, 1)), lambda: mc.masked.sum(mx_, (1, 1)))
    ti, mi = both(np.arange(6).reshape(2, 3))
    assert_raises_same(lambda: torch.masked.mean(ti, 1), lambda: mc.masked.mean(mi, 1))
    assert_raises_same(lambda: torch.masked.var(tx, 1, True, correction=1), lambda: mc.masked.var(mx_, 1, True,
                                                                                                 correction=1))


def test_errors():
    tx, mx_, tm, mm = _inputs()
    assert_raises_same(lambda: torch.masked.softmax(tx, 5, mask=tm), lambda: mc.masked.softmax(mx_, 5, mask=mm))
    assert_raises_same(lambda: torch.masked.cumsum(tx, -4), lambda: mc.masked.cumsum(mx_, -4))
    tb, mb = both(np.array([[True, False]]))
    assert_raises_same(lambda: torch.masked.cumsum(tb, 1, mask=tb), lambda: mc.masked.cumsum(mb, 1, mask=mb))
    assert_raises_same(lambda: torch.masked.cumprod(tb, 1), lambda: mc.masked.cumprod(mb, 1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normalization_float64_and_fully_masked(name, dtype):
    tx, mx_, tm, mm = _inputs(dtype=dtype)
    assert_same(getattr(mc.masked, name)(mx_, 2, mask=mm), getattr(torch.masked, name)(tx, 2, mask=tm))
    assert_same(getattr(mc.masked, name)(mx_, 1, mask=mm, dtype=mc.float64),
                getattr(torch.masked, name)(tx, 1, mask=tm, dtype=torch.float64))


@pytest.mark.parametrize("name,args", [("sum", (1,)), ("prod", (1,)), ("amax", (2,)), ("amin", (0,)), ("mean", (1,)),
                                       ("norm", (2.0, 1)), ("var", (1,)), ("std", (2,)), ("logsumexp", (1,)),
                                       ("softmax", (2,)), ("log_softmax", (2,)), ("softmin", (1,)),
                                       ("cumsum", (1,)), ("cumprod", (2,)), ("normalize", (2.0, 1)),
                                       ("median", (1,))])
def test_gradients(name, args):
    r = np.random.default_rng(5)
    x = r.standard_normal((3, 4, 5))
    m = r.random((3, 4, 5)) > 0.4
    m[0, 1, :] = False
    m[1, :, 2] = False
    grads = []
    for L in (torch, mc):
        t = (torch.tensor(x, dtype=torch.float64) if L is torch else mc.tensor(x, dtype=mc.float64)).requires_grad_()
        mask = torch.tensor(m) if L is torch else mc.tensor(m)
        y = getattr(L.masked, name)(t, *args, mask=mask)
        cot = np.random.default_rng(6).standard_normal(tuple(y.shape))
        c = torch.tensor(cot) if L is torch else mc.tensor(cot)
        grads.append(L.autograd.grad(y, t, c)[0])
    assert_same(grads[1], grads[0], rtol=1e-7, atol=1e-9)


def test_fully_masked_softmax_gradient_is_zero():
    x = np.random.default_rng(7).standard_normal((3, 4))
    m = np.ones((3, 4), dtype=bool)
    m[1] = False
    grads = []
    for L in (torch, mc):
        t = L.tensor(x.tolist(), requires_grad=True)
        y = L.masked.softmax(t, 1, mask=L.tensor(m.tolist()))
        (y * L.ones_like(y)).sum().backward()
        grads.append(t.grad)
    assert_same(grads[1], grads[0])
    assert not np.isnan(grads[1].numpy()).any()


def test_logaddexp_gradient():
    r = np.random.default_rng(8)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    ma, mb = r.random((3, 4)) > 0.5, r.random((3, 4)) > 0.5
    ma[0] = mb[0] = False
    out = []
    for L in (torch, mc):
        ta = L.tensor(a.tolist(), requires_grad=True)
        tb = L.tensor(b.tolist(), requires_grad=True)
        y = L.masked.logaddexp(ta, tb, input_mask=L.tensor(ma.tolist()), other_mask=L.tensor(mb.tolist()))
        g = L.autograd.grad(y, (ta, tb), L.ones_like(y))
        out.append(g)
    for gm, gt in zip(out[1], out[0]):
        assert_same(gm, gt)


def test_no_mask_matches_plain_ops():
    tx, mx_, _, _ = _inputs()
    assert_same(mc.masked.sum(mx_), torch.masked.sum(tx))
    assert_same(mc.masked.amax(mx_, 1), torch.masked.amax(tx, 1))
    assert_same(to_mc(torch.masked.mean(tx, (0, 1))), torch.masked.mean(tx, (0, 1)))
    assert_same(mc.masked.mean(mx_, (0, 1)), torch.masked.mean(tx, (0, 1)))
