"""Note [Loss evaluated with the step]: backward() records its roots weakly and the optimizer step evaluates them
in its one mx.eval, together with the new parameters and state; the values are torch's."""
import gc

import mlx.core as mx
import numpy as np
import pytest

from optim_helpers import mc, torch


def _models(seed=0):
    rng = np.random.default_rng(seed)
    w1, b1 = rng.standard_normal((6, 5)).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    w2, b2 = rng.standard_normal((3, 6)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = np.array([0, 2, 1, 2], dtype=np.int64)
    out = []
    for lib in (torch, mc):
        m = lib.nn.Sequential(lib.nn.Linear(5, 6), lib.nn.ReLU(), lib.nn.Linear(6, 3))
        with lib.no_grad():
            for p, a in zip(m.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(a))
        out.append((m, lib.tensor(x), lib.tensor(y)))
    return out


class _EvalSpy:
    """Records the ids of the arrays each mx.eval call gets (the optimizer calls mlx.core.eval by attribute)."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = mx.eval

        def spy(*args):
            flat = []

            def walk(a):
                if isinstance(a, (list, tuple)):
                    for b in a:
                        walk(b)
                else:
                    flat.append(id(a))
            walk(args)
            self.calls.append(flat)
            return real(*args)

        monkeypatch.setattr(mx, "eval", spy)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW"])
def test_loss_evaluated_in_the_step(monkeypatch, opt):
    (tm, tx, ty), (om, ox, oy) = _models()
    topt = getattr(torch.optim, opt)(tm.parameters(), lr=0.1)
    oopt = getattr(mc.optim, opt)(om.parameters(), lr=0.1)
    for _ in range(3):
        tl = torch.nn.functional.cross_entropy(tm(tx), ty)
        topt.zero_grad()
        tl.backward()
        topt.step()
        ol = mc.nn.functional.cross_entropy(om(ox), oy)
        oopt.zero_grad()
        ol.backward()
        spy = _EvalSpy(monkeypatch)
        oopt.step()
        monkeypatch.undo()
        assert len(spy.calls) == 1 and id(ol._mx) in spy.calls[0]  # one evaluation per step
        assert ol.item() == pytest.approx(tl.item(), rel=1e-6)
    for p, q in zip(om.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dropped_loss_is_not_evaluated(monkeypatch):
    (_, _, _), (om, ox, oy) = _models()
    opt = mc.optim.SGD(om.parameters(), lr=0.1)
    loss = mc.nn.functional.cross_entropy(om(ox), oy)
    loss.backward()
    arr_id = id(loss._mx)
    del loss
    gc.collect()
    spy = _EvalSpy(monkeypatch)
    opt.step()
    assert len(spy.calls) == 1 and arr_id not in spy.calls[0]


def test_roots_are_consumed_and_bounded():
    from mlx_compat import autograd

    w = mc.ones(3, requires_grad=True)
    losses = [(w * float(i)).sum() for i in range(20)]
    for loss in losses:
        loss.backward()
    assert len(autograd._step_roots) == autograd._MAX_STEP_ROOTS
    opt = mc.optim.SGD([w], lr=0.01)
    opt.step()
    assert autograd._step_roots == []
    assert [loss.item() for loss in losses] == [3.0 * i for i in range(20)]


def test_gradient_accumulation_losses_match_torch():
    (tm, tx, ty), (om, ox, oy) = _models(1)
    topt, oopt = torch.optim.Adam(tm.parameters(), lr=0.01), mc.optim.Adam(om.parameters(), lr=0.01)
    for _ in range(2):
        tls, ols = [], []
        for k in range(3):
            tl = torch.nn.functional.cross_entropy(tm(tx[k:k + 2]), ty[k:k + 2]) / 3
            tl.backward()
            tls.append(tl)
            ol = mc.nn.functional.cross_entropy(om(ox[k:k + 2]), oy[k:k + 2]) / 3
            ol.backward()
            ols.append(ol)
        topt.step(), oopt.step()
        topt.zero_grad(), oopt.zero_grad()
        np.testing.assert_allclose([t.item() for t in ols], [t.item() for t in tls], rtol=1e-6)


def test_compiled_step_records_nothing():
    from mlx_compat import autograd

    (_, _, _), (om, ox, oy) = _models(2)
    opt = mc.optim.Adam(om.parameters(), lr=0.01)

    def grads_only(x, y):
        loss = mc.nn.functional.cross_entropy(om(x), y)
        loss.backward()
        return loss

    def step(x, y):
        opt.zero_grad()
        loss = mc.nn.functional.cross_entropy(om(x), y)
        loss.backward()
        opt.step()
        return loss

    autograd._step_roots.clear()
    f = mc.compile(step)
    for _ in range(3):
        f(ox, oy)
    assert autograd._step_roots == []
    g = mc.compile(grads_only)
    g(ox, oy).item()
    assert autograd._step_roots == []  # the traced backward recorded no tracer
    opt.step()  # an eager step after a traced backward: only eager roots are evaluated


def test_scalar_state_read_back_after_outside_writes():
    """Note [Host copies of scalar state]: a step count changed by anything but the step is read again."""
    w = mc.ones(3, requires_grad=True)
    tw = torch.ones(3, requires_grad=True)
    opt, topt = mc.optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)
    for k in range(4):
        w.grad, tw.grad = mc.full((3,), 0.5 + k), torch.full((3,), 0.5 + k)
        opt.step(), topt.step()
        if k == 1:
            opt.state[w]["step"].fill_(10.0)
            topt.state[tw]["step"].fill_(10.0)
        if k == 2:
            sd = topt.state_dict()
            opt.load_state_dict({"state": {0: {n: mc.tensor(v.numpy()) for n, v in sd["state"][0].items()}},
                                 "param_groups": sd["param_groups"]})
    assert opt.state[w]["step"].item() == topt.state[tw]["step"].item() == 12.0
    np.testing.assert_array_equal(w.detach().numpy(), tw.detach().numpy())
