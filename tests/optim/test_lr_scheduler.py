"""Every lr scheduler against torch.optim.lr_scheduler: the learning rates (and cycled momentum/betas) after each
of 100 epochs are identical, get_last_lr agrees, state_dict round trips resume identically, and bad arguments
raise torch's exception types; the call-order warning is torch's."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

EPOCHS = 100


def _optimizer(lib, kind="SGD", groups=2):
    ps = [lib.tensor(np.ones(3, np.float32), requires_grad=True) for _ in range(groups)]
    if kind == "SGD":
        return lib.optim.SGD([{"params": [ps[0]]}] + [{"params": [p], "lr": 0.05 * (i + 2)} for i, p in
                                                       enumerate(ps[1:])], lr=0.1, momentum=0.9)
    return lib.optim.Adam([{"params": [ps[0]]}] + [{"params": [p], "lr": 0.02 * (i + 2)} for i, p in
                                                    enumerate(ps[1:])], lr=0.01)


def _group_view(opt):
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


CASES = {
    "LambdaLR": (lambda S, o: S.LambdaLR(o, lambda e: 0.95**e), "SGD"),
    "LambdaLR_per_group": (lambda S, o: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9**e]), "SGD"),
    "MultiplicativeLR": (lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97), "SGD"),
    "StepLR": (lambda S, o: S.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda S, o: S.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.3), "SGD"),
    "ConstantLR": (lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=12), "SGD"),
    "LinearLR": (lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40), "SGD"),
    "ExponentialLR": (lambda S, o: S.ExponentialLR(o, gamma=0.93), "SGD"),
    "PolynomialLR": (lambda S, o: S.PolynomialLR(o, total_iters=60, power=2.0), "SGD"),
    "CosineAnnealingLR": (lambda S, o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001), "SGD"),
    "CosineAnnealingWarmRestarts": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-4),
                                    "SGD"),
    "CosineAnnealingWarmRestarts_T1": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7), "SGD"),
    "CyclicLR_triangular": (lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=9), "SGD"),
    "CyclicLR_triangular2": (lambda S, o: S.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=5, step_size_down=11,
                                                     mode="triangular2"), "SGD"),
    "CyclicLR_exp_range": (lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="exp_range", gamma=0.97),
                           "SGD"),
    "CyclicLR_scale_fn_iterations": (lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=8,
                                                             scale_fn=lambda x: 1 / (1 + 0.01 * x),
                                                             scale_mode="iterations"), "SGD"),
    "CyclicLR_adam_beta1": (lambda S, o: S.CyclicLR(o, 0.001, 0.01, step_size_up=10), "Adam"),
    "OneCycleLR_cos": (lambda S, o: S.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=EPOCHS + 1), "SGD"),
    "OneCycleLR_linear": (lambda S, o: S.OneCycleLR(o, max_lr=0.3, epochs=EPOCHS + 1, steps_per_epoch=1,
                                                    anneal_strategy="linear", pct_start=0.25), "SGD"),
    "OneCycleLR_three_phase": (lambda S, o: S.OneCycleLR(o, max_lr=0.4, total_steps=EPOCHS + 1, three_phase=True,
                                                         div_factor=10.0, final_div_factor=100.0), "SGD"),
    "OneCycleLR_adam": (lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=EPOCHS + 1), "Adam"),
    "SequentialLR": (lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=10),
                                                     S.ExponentialLR(o, gamma=0.95),
                                                     S.CosineAnnealingLR(o, T_max=20)], milestones=[10, 45]), "SGD"),
    "ChainedScheduler": (lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=8),
                                                          S.ExponentialLR(o, gamma=0.97),
                                                          S.StepLR(o, step_size=20, gamma=0.5)]), "SGD"),
}


def _run(lib, case, epochs=EPOCHS, start=0, state=None):
    factory, kind = CASES[case]
    opt = _optimizer(lib, kind)
    sched = factory(lib.optim.lr_scheduler, opt)
    if state is not None:
        opt_sd, sched_sd = state
        opt.load_state_dict(opt_sd)
        sched.load_state_dict(sched_sd)
    trace = [_group_view(opt)]
    lasts = [list(sched.get_last_lr())]
    for _ in range(start, epochs):
        opt.step()
        sched.step()
        trace.append(_group_view(opt))
        lasts.append(list(sched.get_last_lr()))
    return opt, sched, trace, lasts


@pytest.mark.parametrize("case", sorted(CASES))
def test_lrs_identical_to_torch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, t_trace, t_last = _run(torch, case)
        _, _, m_trace, m_last = _run(mc, case)
    assert m_trace == t_trace  # exact: the same floating-point expressions
    assert m_last == t_last


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")])
def test_reduce_lr_on_plateau(mode, threshold_mode):
    metrics = [1.0 / (1 + 0.3 * min(e, 15)) + 0.01 * math.sin(e) + (0.2 if e % 23 == 0 else 0) for e in range(EPOCHS)]
    if mode == "max":
        metrics = [-m for m in metrics]
    out = {}
    for lib in (torch, mc):
        opt = _optimizer(lib)
        S = lib.optim.lr_scheduler
        sched = S.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=3, threshold=1e-2,
                                    threshold_mode=threshold_mode, cooldown=2, min_lr=[1e-4, 1e-3])
        trace = []
        for m in metrics:
            opt.step()
            sched.step(m)
            trace.append((_group_view(opt), list(sched.get_last_lr()), sched.num_bad_epochs, sched.best,
                          sched.cooldown_counter))
        out[lib] = trace
    assert out[mc] == out[torch]
    assert out[mc][-1][0] != out[mc][0][0]  # the lr did drop


@pytest.mark.parametrize("case", ["StepLR", "CosineAnnealingLR", "OneCycleLR_three_phase", "CyclicLR_triangular2",
                                  "SequentialLR", "ChainedScheduler", "CosineAnnealingWarmRestarts", "LambdaLR"])
def test_state_dict_round_trip(case):
    """Stop halfway, save optimizer and scheduler state, resume in a fresh pair: the rest of the schedule is
    torch's uninterrupted one; the scheduler state_dict holds the same keys and values as torch's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, t_trace, _ = _run(torch, case)
        opt, sched, _, _ = _run(mc, case, epochs=EPOCHS // 2)
        t_opt, t_sched, _, _ = _run(torch, case, epochs=EPOCHS // 2)
        m_sd, t_sd = sched.state_dict(), t_sched.state_dict()
        assert _plain(m_sd) == _plain(t_sd)
        _, _, m_trace, _ = _run(mc, case, start=EPOCHS // 2, state=(opt.state_dict(), m_sd))
    assert m_trace[1:] == t_trace[EPOCHS // 2 + 1:]


def _plain(sd):
    """Scheduler state with the entries that cannot compare across libraries (bound methods, functions) dropped."""
    out = {}
    for k, v in sd.items():
        if callable(v) and not isinstance(v, type):
            continue
        if k == "_schedulers":
            v = [_plain(s) for s in v]
        out[k] = v
    return out


def test_torch_state_dict_loads_into_ours():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_opt, t_sched, _, _ = _run(torch, "OneCycleLR_cos", epochs=30)
        _, _, t_trace, _ = _run(torch, "OneCycleLR_cos")
        _, _, m_trace, _ = _run(mc, "OneCycleLR_cos", start=30, state=(
            _to_mc(t_opt.state_dict()), t_sched.state_dict()))
    assert m_trace[1:] == t_trace[31:]


def _to_mc(sd):
    from optest import convert_state_dict

    return convert_state_dict(sd, "mc")


def test_warning_scheduler_step_before_optimizer_step():
    for lib in (torch, mc):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()
    for lib in (torch, mc):  # the right order: no warning
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()
            sched.step()


def test_warning_get_lr_outside_step_and_epoch_argument():
    for lib in (torch, mc):
        sched = lib.optim.lr_scheduler.ExponentialLR(_optimizer(lib), 0.9)
        with pytest.warns(UserWarning, match="get_last_lr"):
            sched.get_lr()
        sched.optimizer.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(5)
    t = torch.optim.lr_scheduler.ExponentialLR(_optimizer(torch), 0.9)
    m = mc.optim.lr_scheduler.ExponentialLR(_optimizer(mc), 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.step(7)
        m.step(7)
    assert m.get_last_lr() == t.get_last_lr()  # closed form


ERRORS = [
    lambda S, o: S.ConstantLR(o, factor=1.5),
    lambda S, o: S.LinearLR(o, start_factor=0),
    lambda S, o: S.LinearLR(o, end_factor=2.0),
    lambda S, o: S.LambdaLR(o, [lambda e: 1.0]),
    lambda S, o: S.MultiplicativeLR(o, [1.0, 2.0]),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0),
    lambda S, o: S.CyclicLR(o, 0.1, 1.0, mode="bogus"),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="x"),
    lambda S, o: S.OneCycleLR(o, max_lr=[0.1], total_steps=10),
    lambda S, o: S.ReduceLROnPlateau(o, factor=1.0),
    lambda S, o: S.ReduceLROnPlateau(o, mode="middle"),
    lambda S, o: S.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda S, o: S.StepLR(object(), 3),
    lambda S, o: S.StepLR(o, 3, last_epoch=4),
    lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]),
    lambda S, o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], milestones=[]),
    lambda S, o: S.ChainedScheduler([]),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_bad_arguments_raise_torch_types(i):
    outcomes = []
    for lib in (torch, mc):
        try:
            ERRORS[i](lib.optim.lr_scheduler, _optimizer(lib))
            outcomes.append(None)
        except Exception as e:  # noqa: BLE001
            outcomes.append(type(e))
    assert outcomes[0] is not None
    assert outcomes[1] is outcomes[0]


def test_one_cycle_past_total_steps_raises():
    for lib in (torch, mc):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(3):  # epochs 1, 2, 3: the last one allowed is total_steps
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()


def test_tensor_lr_is_filled_in_place():
    """A tensor lr in the group is updated in place (fill_), as torch does."""
    outs = []
    for lib in (torch, mc):
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([lib.tensor([1.0], requires_grad=True)], lr=lr)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step()
        sched.step()
        assert opt.param_groups[0]["lr"] is lr
        outs.append(float(lr))
    assert outs[0] == outs[1]
