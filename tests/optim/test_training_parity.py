"""End-to-end training parity: an MLP written with plain leaf tensors (weights from the same numpy arrays) trained
in torch and in mlx_compat on the same batches for 50 steps, through autograd, the optimizer and a OneCycleLR
schedule: the losses agree to 1e-4 relative at every step (issue 12's parity check, without nn.Module)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

STEPS = 50


def _data(seed=0, n=STEPS, batch=32, d_in=20, classes=5):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, d_in)).astype(np.float32) * 0.3  # overlapping: the loss stays O(1)
    xs, ys = [], []
    for _ in range(n):
        y = rng.integers(0, classes, batch)
        xs.append((centers[y] + rng.standard_normal((batch, d_in))).astype(np.float32))
        ys.append(y.astype(np.int64))
    return xs, ys


def _weights(seed=1, d_in=20, hidden=32, classes=5):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((hidden, d_in)) / np.sqrt(d_in)).astype(np.float32), np.zeros(hidden, np.float32),
            (rng.standard_normal((classes, hidden)) / np.sqrt(hidden)).astype(np.float32),
            np.zeros(classes, np.float32)]


def _train(lib, make_opt, make_sched=None):
    params = [lib.tensor(w, requires_grad=True) for w in _weights()]
    opt = make_opt(lib, params)
    sched = make_sched(lib, opt) if make_sched else None
    F = lib.nn.functional
    losses = []
    for x, y in zip(*_data()):
        w1, b1, w2, b2 = params
        h = F.relu(lib.tensor(x) @ w1.t() + b1)
        loss = F.cross_entropy(h @ w2.t() + b2, lib.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in params]


CASES = {
    "SGD_nesterov": (lambda lib, ps: lib.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
                     None),
    "AdamW": (lambda lib, ps: lib.optim.AdamW(ps, lr=3e-3), None),
    "SGD_OneCycleLR": (lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
                       lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=STEPS)),
    "AdamW_OneCycleLR": (lambda lib, ps: lib.optim.AdamW(ps, lr=1e-3),
                         lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1e-2, total_steps=STEPS)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mlp_losses_match_torch_every_step(case):
    make_opt, make_sched = CASES[case]
    t_losses, t_params = _train(torch, make_opt, make_sched)
    m_losses, m_params = _train(mc, make_opt, make_sched)
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    assert np.mean(t_losses[-10:]) < 0.8 * np.mean(t_losses[:10])  # it did train
    for m, t in zip(m_params, t_params):
        np.testing.assert_allclose(m, t, rtol=1e-4, atol=1e-5)
