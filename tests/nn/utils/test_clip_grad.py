"""clip_grad_norm_ / clip_grad_value_ / get_total_norm / clip_grads_with_norm_ against torch on the same
gradients: returned norms, clipped gradients, dtypes, the non-finite error and its message."""
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, torch


def params(seed=0, scale=1.0, shapes=((3, 4), (5,), (2, 2, 2)), dtype=np.float32, no_grad_last=False):
    r = np.random.default_rng(seed)
    tp, mp = [], []
    for i, s in enumerate(shapes):
        a = r.standard_normal(s).astype(dtype)
        g = (r.standard_normal(s) * scale).astype(dtype)
        t, m = torch.nn.Parameter(torch.tensor(a)), mc.nn.Parameter(mc.tensor(a))
        if not (no_grad_last and i == len(shapes) - 1):
            t.grad, m.grad = torch.tensor(g), mc.tensor(g)
        tp.append(t)
        mp.append(m)
    return tp, mp


def assert_grads(mp, tp, **tol):
    for m, t in zip(mp, tp):
        assert (m.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_same(m.grad, t.grad, **tol)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm(norm_type, max_norm, foreach):
    tp, mp = params(scale=2.0, no_grad_last=True)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type, foreach=foreach)
    mn = mc.nn.utils.clip_grad_norm_(mp, max_norm, norm_type=norm_type, foreach=foreach)
    assert isinstance(mn, mc.Tensor) and mn.dim() == 0 and mn.dtype is mc.float32
    assert_same(mn, tn, rtol=1e-5, atol=1e-6)
    assert_grads(mp, tp, rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_single_tensor_generator_and_float64():
    tp, mp = params(dtype=np.float64)
    tn = torch.nn.utils.clip_grad_norm_(tp[0], 0.5)
    mn = mc.nn.utils.clip_grad_norm_(mp[0], 0.5)
    assert mn.dtype is mc.float64
    assert_same(mn, tn)
    assert_grads(mp, tp)
    tn = torch.nn.utils.clip_grad_norm_((p for p in tp), 0.1)
    mn = mc.nn.utils.clip_grad_norm_((p for p in mp), 0.1)
    assert_same(mn, tn)
    assert_grads(mp, tp)


def test_clip_grad_norm_empty():
    with pytest.warns(UserWarning):
        r = mc.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert float(r) == 0.0 and r.dtype is mc.float32
    m = mc.nn.Parameter(mc.ones(2))
    assert float(mc.nn.utils.clip_grad_norm_([m], 1.0)) == float(torch.nn.utils.clip_grad_norm_(
        [torch.nn.Parameter(torch.ones(2))], 1.0))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_nonfinite(bad):
    tp, mp = params()
    tp[0].grad[0, 0] = bad
    mp[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError) as et:
        torch.nn.utils.clip_grad_norm_(tp, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as em:
        mc.nn.utils.clip_grad_norm_(mp, 1.0, error_if_nonfinite=True)
    assert str(em.value) == str(et.value)
    # without the flag the non-finite norm scales the gradients, as torch does
    tn = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    mn = mc.nn.utils.clip_grad_norm_(mp, 1.0)
    assert_same(mn, tn)
    assert_grads(mp, tp)


@pytest.mark.parametrize("clip", [0.1, 1, 5.0])
def test_clip_grad_value(clip):
    tp, mp = params(scale=2.0, no_grad_last=True)
    assert torch.nn.utils.clip_grad_value_(tp, clip) is None
    assert mc.nn.utils.clip_grad_value_(mp, clip) is None
    assert_grads(mp, tp)
    tp, mp = params(scale=2.0)
    torch.nn.utils.clip_grad_value_(tp[1], clip, foreach=True)
    mc.nn.utils.clip_grad_value_(mp[1], clip, foreach=True)
    assert_grads(mp, tp)


def test_total_norm_and_clip_with_norm_split():
    tp, mp = params(scale=3.0)
    tn = torch.nn.utils.get_total_norm([p.grad for p in tp], norm_type=3.0)
    mn = mc.nn.utils.get_total_norm([p.grad for p in mp], norm_type=3.0)
    assert_same(mn, tn)
    torch.nn.utils.clip_grads_with_norm_(tp, 0.7, tn)
    mc.nn.utils.clip_grads_with_norm_(mp, 0.7, mn)
    assert_grads(mp, tp)


def test_clip_grad_norm_deprecated_alias():
    tp, mp = params()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        mn = mc.nn.utils.clip_grad_norm(mp, 0.3)
    assert any(issubclass(x.category, FutureWarning) for x in w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tn = torch.nn.utils.clip_grad_norm(tp, 0.3)
    assert_same(mn, tn)
    assert_grads(mp, tp)


def test_clip_after_backward_in_training_step():
    from modtest import pair

    t, m = pair("nn.Linear", 4, 3)
    x = np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32)
    (t(torch.tensor(x)) ** 2).sum().backward()
    (m(mc.tensor(x)) ** 2).sum().backward()
    assert_same(mc.nn.utils.clip_grad_norm_(m.parameters(), 0.5), torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5))
    assert_grads(list(m.parameters()), list(t.parameters()))
