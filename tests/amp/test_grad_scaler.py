"""torch.amp.GradScaler (mlx_compat/amp/grad_scaler.py) against torch's on the CPU: the same scales, growth
tracker, skipped steps and parameters over a training loop with injected inf/NaN gradients; the stage errors, the
disabled scaler, state_dict round trips and the deprecated torch.cuda.amp spelling."""
import pickle
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _setup(L, seed=0):
    rng = np.random.default_rng(seed)
    w = L.nn.Parameter(L.tensor(rng.standard_normal((4, 3)).astype(np.float32)))
    b = L.nn.Parameter(L.tensor(rng.standard_normal(3).astype(np.float32)))
    x = L.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    return [w, b], x


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_training_loop_as_torch(opt_name):
    runs = []
    for L in (torch, mc):
        params, x = _setup(L)
        opt = getattr(L.optim, opt_name)(params, lr=0.01)
        scaler = L.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
        trace = []
        for it in range(12):
            opt.zero_grad()
            loss = ((x @ params[0] + params[1]) ** 2).mean()
            scaled = scaler.scale(loss)
            scaled.backward()
            if it in (2, 7):  # a step whose gradients overflowed
                params[0].grad.view(-1)[1] = float("inf") if it == 2 else float("nan")
            if it % 4 == 1:
                scaler.unscale_(opt)  # unscaling early (as for clipping) must not unscale twice
            ret = scaler.step(opt)
            scaler.update()
            trace.append((scaler.get_scale(), scaler._get_growth_tracker(), ret, float(scaled.item())))
        runs.append((trace, [p.detach().numpy().copy() for p in params], scaler.state_dict()))
    (tt, tp, ts), (mt, mp, ms) = runs
    assert [r[:3] for r in mt] == [r[:3] for r in tt]  # scales, trackers, skipped steps
    np.testing.assert_allclose([r[3] for r in mt], [r[3] for r in tt], rtol=1e-5)  # the scaled losses
    for a, b in zip(mp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert ms == ts


@pytest.mark.parametrize("call", [
    lambda L, s, o: (s.scale(L.ones(())), s.unscale_(o), s.unscale_(o)),
    lambda L, s, o: (s.scale(L.ones(())).backward(), s.step(o), s.unscale_(o)),
    lambda L, s, o: (s.scale(L.ones(())).backward(), s.step(o), s.step(o)),
    lambda L, s, o: s.step(o),
    lambda L, s, o: s.update(),
    lambda L, s, o: (s.scale(L.ones(())), s.update()),
    lambda L, s, o: (s.scale(L.ones(())), s.step(o, closure=lambda: 0)),
    lambda L, s, o: s.scale("loss"),
    lambda L, s, o: (s.scale(L.ones(())), s.update(L.ones(2))),
    lambda L, s, o: L.amp.GradScaler("cpu", growth_factor=1.0),
    lambda L, s, o: L.amp.GradScaler("cpu", backoff_factor=1.0),
    lambda L, s, o: s.load_state_dict({}),
])
def test_errors_as_torch(call):
    outcomes = []
    for L in (torch, mc):
        params, _ = _setup(L)
        params[0].grad = L.ones(4, 3)
        opt = L.optim.SGD(params, lr=0.1)
        s = L.amp.GradScaler("cpu")
        try:
            call(L, s, opt)
            outcomes.append(None)
        except Exception as e:  # noqa: BLE001
            outcomes.append((type(e).__name__, str(e)))
    assert outcomes[1] == outcomes[0]


def test_scale_nested_and_state_round_trip():
    for L in (torch, mc):
        s = L.amp.GradScaler("cpu", init_scale=8.0)
        out = s.scale([L.ones(2), (L.full((1,), 2.0), L.ones(()))])
        assert isinstance(out, list) and isinstance(out[1], tuple)
        assert out[1][0].item() == 16.0
    ours, theirs = mc.amp.GradScaler("cpu", init_scale=4.0), torch.amp.GradScaler("cpu", init_scale=4.0)
    assert ours.state_dict() == theirs.state_dict()
    ours.scale(mc.ones(()))
    ours.update(2.0)
    assert ours.get_scale() == 2.0
    fresh = mc.amp.GradScaler("cpu")
    fresh.load_state_dict(ours.state_dict())
    assert fresh.state_dict() == ours.state_dict()
    assert pickle.loads(pickle.dumps(ours)).state_dict() == ours.state_dict()
    assert_same(ours.scale(mc.ones(3)), torch.full((3,), 2.0))


def test_disabled_and_cuda_spelling():
    for L in (torch, mc):
        s = L.amp.GradScaler("cpu", enabled=False)
        assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
        x = L.ones(2)
        assert s.scale(x) is x
    if not mc.cuda.is_available():  # as torch's CPU build: the CUDA scaler disables itself with a warning
        msgs = []
        for L in (torch, mc):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                s = L.amp.GradScaler()
                old = L.cuda.amp.GradScaler()
            assert not s.is_enabled() and not old.is_enabled()
            msgs.append(sorted((x.category.__name__, str(x.message)) for x in w))
        assert msgs[1] == msgs[0]
