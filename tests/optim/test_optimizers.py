"""Every optimizer against torch.optim on the same parameters and the same deterministic gradient sequence:
parameters and state after 100 steps agree to 1e-6 relative; param groups, state_dict round trips both ways
(tensors converted through numpy), closures, LBFGS with strong Wolfe, maximize, complex and float64 parameters,
hooks, zero_grad, and torch's exception types for bad arguments."""
import warnings

import numpy as np
import pytest

from optim_helpers import (assert_close, assert_params_close, assert_state_close, convert_state_dict, initial, mc, pair,
                    run_both, set_grads, to_np, torch)

CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
            dict(lr=0.05, momentum=0.9, dampening=0.3, maximize=True), dict(lr=0.02, weight_decay=0.1)],
    "Adam": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.1), dict(lr=0.02, betas=(0.8, 0.99),
             eps=1e-6, maximize=True), dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True),
             dict(lr=0.01, betas=(0.3, 0.9))],  # lerp weight 0.7: torch's other lerp branch
    "AdamW": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, maximize=True), dict(lr=0.005, weight_decay=0.3)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1),
                dict(lr=0.005, alpha=0.9, momentum=0.5, maximize=True), dict(lr=0.01, centered=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
                dict(lr=0.1, weight_decay=0.1, maximize=True, eps=1e-6)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, weight_decay=0.1), dict(lr=2.0, eps=1e-4, maximize=True)],
    "Adamax": [dict(), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, betas=(0.7, 0.9), maximize=True)],
    "NAdam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01), dict(lr=0.02, maximize=True)],
    "RAdam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.9)), dict(lr=0.01, maximize=True)],
    "ASGD": [dict(lr=0.01), dict(lr=0.01, t0=20, lambd=0.01, weight_decay=0.1), dict(lr=0.05, alpha=0.5,
             t0=5, maximize=True)],
    "Rprop": [dict(), dict(lr=0.001, etas=(0.3, 1.5), step_sizes=(1e-4, 0.01), maximize=True)],
    "Adafactor": [dict(), dict(lr=0.05, weight_decay=0.1, d=2.0),
                  dict(lr=0.01, eps=(1e-20, 1e-2), beta2_decay=-0.5, maximize=True)],
}
CASES = [(name, i) for name in CONFIGS for i in range(len(CONFIGS[name]))]


@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_100_steps_match_torch(name, i):
    topt, mopt, tp, mp = run_both(name, CONFIGS[name][i], check_every=25)
    assert_params_close(mp, tp)
    assert_state_close(mopt, topt, mp, tp)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam", "Adagrad"])
def test_param_groups_with_different_options(name):
    groups = {
        "SGD": [([0, 2], dict(lr=0.05, momentum=0.9, nesterov=True)), ([1, 3], dict(weight_decay=0.1))],
        "Adam": [([0], dict(lr=0.02, amsgrad=True)), ([1, 2, 3], dict(betas=(0.5, 0.9), weight_decay=0.01))],
        "RMSprop": [([0, 1], dict(centered=True)), ([2], dict(momentum=0.8, lr=0.001)), ([3], dict())],
        "NAdam": [([3, 0], dict(decoupled_weight_decay=True, weight_decay=0.2)), ([1, 2], dict(lr=0.004))],
        "Adagrad": [([0, 1], dict(lr_decay=0.1)), ([2, 3], dict(lr=0.3))],
    }[name]
    kwargs = {"SGD": dict(lr=0.1), "Adam": dict(lr=0.01), "RMSprop": dict(lr=0.01), "NAdam": dict(lr=0.01),
              "Adagrad": dict(lr=0.1)}[name]
    topt, mopt, tp, mp = run_both(name, kwargs, groups=groups)
    assert_params_close(mp, tp)
    assert_state_close(mopt, topt, mp, tp)
    for mg, tg in zip(mopt.param_groups, topt.param_groups):
        assert {k: v for k, v in mg.items() if k != "params"} == {k: v for k, v in tg.items() if k != "params"}


def _layout(sd):
    """A state_dict's structure: param_groups without tensors, state keys and each entry's kind/shape/dtype."""
    state = {i: {k: (str(v.dtype).replace("torch.", ""), tuple(v.shape)) if hasattr(v, "dtype") else v
                 for k, v in s.items()} for i, s in sd["state"].items()}
    return sd["param_groups"], state


@pytest.mark.parametrize("name,i", [("SGD", 1), ("Adam", 1), ("AdamW", 0), ("RMSprop", 1), ("Adagrad", 1),
                                    ("Adadelta", 0), ("Adamax", 0), ("NAdam", 0), ("RAdam", 0), ("ASGD", 1),
                                    ("Rprop", 0)])
def test_state_dict_round_trips_both_ways(name, i):
    kwargs = CONFIGS[name][i]
    topt, mopt, tp, mp = run_both(name, kwargs, steps=30)
    t_sd, m_sd = topt.state_dict(), mopt.state_dict()
    assert _layout(m_sd) == _layout(t_sd)  # torch's exact layout: integer ids, 0-d float32 'step', same keys
    # ours -> torch and torch -> ours, each continued 30 more steps against the uninterrupted other side
    tp2, mp2 = pair([to_np(m) for m in mp])
    topt2 = getattr(torch.optim, name)(tp2, **kwargs)
    topt2.load_state_dict(convert_state_dict(m_sd, "torch"))
    mopt2 = getattr(mc.optim, name)(mp2, **kwargs)
    mopt2.load_state_dict(convert_state_dict(t_sd, "mc"))
    assert _layout(mopt2.state_dict()) == _layout(t_sd)
    for s in range(30, 60):
        set_grads(tp, mp, s)
        set_grads(tp2, mp2, s)
        for o in (topt, mopt, topt2, mopt2):
            o.step()
    assert_params_close(mp2, tp, what="torch->ours param")
    assert_params_close(tp2, mp, what="ours->torch param")
    assert_state_close(mopt2, topt, mp2, tp)


def test_state_dict_is_torch_layout_and_shares_state():
    p = mc.tensor([1.0, 2.0], requires_grad=True)
    q = mc.tensor([3.0], requires_grad=True)
    opt = mc.optim.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}])
    p.grad = mc.tensor([0.1, 0.2])
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    step = sd["state"][0]["step"]
    assert isinstance(step, mc.Tensor) and step.dtype == mc.float32 and step.shape == () and float(step) == 1.0
    assert sd["state"][0]["exp_avg"] is opt.state[p]["exp_avg"]  # references, as torch's


def test_load_state_dict_errors_and_casts():
    tp, mp = pair(initial())
    m = mc.optim.SGD(mp, lr=0.1, momentum=0.9)
    t = torch.optim.SGD(tp[:2], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size"):
        m.load_state_dict(convert_state_dict(t.state_dict(), "mc"))
    t2 = torch.optim.SGD([{"params": tp[:2]}, {"params": tp[2:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        m.load_state_dict(convert_state_dict(t2.state_dict(), "mc"))
    # float state follows the parameter's dtype; step keeps float32
    p64 = mc.tensor(np.ones(3), requires_grad=True)
    opt = mc.optim.Adam([p64])
    sd = {"state": {0: {"step": mc.tensor(2.0), "exp_avg": mc.ones(3), "exp_avg_sq": mc.ones(3)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    assert opt.state[p64]["exp_avg"].dtype == mc.float64
    assert opt.state[p64]["step"].dtype == mc.float32


def test_closure_runs_with_grad_and_returns_loss():
    for lib in (torch, mc):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([x], lr=0.1)
        seen = []

        def closure():
            seen.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = (x * x).sum()
            loss.backward()
            return loss

        with lib.no_grad():
            loss = opt.step(closure)
        assert seen == [True]
        assert float(loss.detach()) == 5.0
        assert np.allclose(to_np(x), [0.8, -1.6])


def _quartic(lib, x, A, b):
    return 0.5 * (x * (A @ x)).sum() - (b * x).sum() + 0.1 * (x**4).sum()


# strong Wolfe's line search decides by comparing losses and directional derivatives that in float32 differ by
# their rounding noise (its zoom phase, its curvature test); the matrix-vector product A @ x rounds as the BLAS
# kernel sums, which differs between torch's BLAS and ours (Note [Matrix-vector products as gemv] in
# _blas/bridge.c), so in float32 the two can take a different number of evaluations along the same path. In
# float64 that noise is far below every decision, and the test checks the algorithm: the same iterations,
# evaluations and curvature pairs.
@pytest.mark.parametrize("line_search_fn,dtype", [(None, np.float32), ("strong_wolfe", np.float64)])
def test_lbfgs_matches_torch(line_search_fn, dtype):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 6)).astype(dtype)
    A = (M @ M.T / 6 + np.eye(6)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    results = []
    for lib in (torch, mc):
        x = lib.tensor(np.full(6, 0.5, dtype), requires_grad=True)
        At, bt = lib.tensor(A), lib.tensor(b)
        # three steps of four iterations: still converging, so no stopping test sits at float32 noise level
        opt = lib.optim.LBFGS([x], lr=1 if line_search_fn else 0.5, max_iter=4, history_size=3,
                              line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = _quartic(lib, x, At, bt)
            loss.backward()
            return loss

        xs, losses = [], []
        for _ in range(3):
            losses.append(float(opt.step(closure).detach()))
            xs.append(to_np(x).copy())
        st = opt.state[x]
        results.append((np.array(xs), losses, st["func_evals"], st["n_iter"], len(st["old_dirs"])))
    (tx, tl, *tcounts), (mx_, ml, *mcounts) = results
    assert mcounts == tcounts  # the same iterations, evaluations and curvature pairs
    np.testing.assert_allclose(mx_, tx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ml, tl, rtol=1e-5)


def test_lbfgs_errors():
    x = mc.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        mc.optim.LBFGS([{"params": [x]}, {"params": [mc.tensor([1.0], requires_grad=True)]}])
    opt = mc.optim.LBFGS([x], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)


def test_complex_parameters_match_torch():
    rng = np.random.default_rng(3)
    z0 = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
    for name, kwargs in [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                         ("RMSprop", dict(lr=0.01, centered=True)), ("Adagrad", dict(lr=0.1))]:
        t = torch.tensor(z0, requires_grad=True)
        m = mc.tensor(z0, requires_grad=True)
        topt = getattr(torch.optim, name)([t], **kwargs)
        mopt = getattr(mc.optim, name)([m], **kwargs)
        for s in range(30):
            g = (np.sin(0.3 * s + np.arange(6)).reshape(2, 3) + 1j * np.cos(0.2 * s + np.arange(6)).reshape(2, 3))
            t.grad = torch.tensor(g.astype(np.complex64))
            m.grad = mc.tensor(g.astype(np.complex64))
            topt.step()
            mopt.step()
        assert_close(m, t, what=name)
        assert_state_close(mopt, topt, [m], [t])


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam"])
def test_float64_parameters_match_torch(name):
    kwargs = CONFIGS[name][1]
    topt, mopt, tp, mp = run_both(name, kwargs, steps=50, dtype=np.float64)
    for k, (m, t) in enumerate(zip(mp, tp)):
        assert m.dtype == mc.float64
        assert_close(m, t, rtol=1e-12, what=f"param {k}")


def test_params_without_grad_are_skipped_and_versions_bump():
    for lib in (torch, mc):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        opt = lib.optim.Adam([a, b], lr=0.1)
        a.grad = lib.tensor([1.0, 1.0])
        v0 = a._version
        opt.step()
        assert len(opt.state[b]) == 0 and b.grad is None
        assert to_np(b).tolist() == [3.0]
        assert a._version > v0
        assert np.allclose(to_np(a), [0.9, 1.9])


def test_tensor_subclass_parameters():
    """Any Tensor subclass is a parameter (nn.Parameter is one): it is updated in place and keeps its type."""

    class MyParam(mc.Tensor):
        pass

    sub = mc.Tensor._make_subclass(MyParam, mc.tensor([1.0, 2.0]), True)
    assert type(sub) is MyParam and sub.is_leaf
    opt = mc.optim.Adam([sub], lr=0.5)
    for _ in range(2):
        sub.grad = mc.tensor([1.0, -1.0])
        opt.step()
    assert type(sub) is MyParam
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    topt = torch.optim.Adam([t], lr=0.5)
    for _ in range(2):
        t.grad = torch.tensor([1.0, -1.0])
        topt.step()
    assert_close(sub, t)
    assert type(opt.state[sub]["exp_avg"]) is mc.Tensor  # state is plain tensors, as torch's


def test_zero_grad():
    for lib in (torch, mc):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([x], lr=0.1)
        (x * x).sum().backward()
        opt.zero_grad(set_to_none=False)
        assert x.grad is not None and to_np(x.grad).tolist() == [0.0, 0.0]
        opt.zero_grad()
        assert x.grad is None


def test_step_hooks_and_state_dict_hooks():
    calls = []
    x = mc.tensor([1.0], requires_grad=True)
    opt = mc.optim.SGD([x], lr=0.1)
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    g1 = mc.optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("gpre",)))
    g2 = mc.optim.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("gpost",)))
    x.grad = mc.tensor([1.0])
    opt.step()
    assert calls == [("gpre",), ("pre", True), ("post", True), ("gpost",)]
    for h in (h1, h2, g1, g2):
        h.remove()
    calls.clear()
    opt.step()
    assert calls == []
    # a pre hook may replace the arguments; anything else but None or (args, kwargs) is an error
    h = opt.register_step_pre_hook(lambda o, a, k: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    h.remove()
    opt.register_state_dict_pre_hook(lambda o: calls.append("sd_pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append("load_pre"))
    opt.register_load_state_dict_post_hook(lambda o: calls.append("load_post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1 and calls == ["sd_pre"]
    opt.load_state_dict(sd)
    assert calls == ["sd_pre", "load_pre", "load_post"]


@pytest.mark.parametrize("name", sorted(CONFIGS) + ["LBFGS"])
def test_repr_and_defaults_match_torch(name):
    tp, mp = pair(initial()[:2])
    t = getattr(torch.optim, name)(tp)
    m = getattr(mc.optim, name)(mp)
    assert repr(m) == repr(t)
    assert m.defaults == t.defaults


BAD = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(lr=0.1, momentum=-1)), ("SGD", dict(lr=0.1, weight_decay=-1)),
    ("SGD", dict(lr=0.1, nesterov=True)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, fused=True, foreach=True)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(weight_decay=-1)), ("Adam", dict(betas=(0.9, 1))), ("AdamW", dict(lr=-1)),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(alpha=-1)), ("RMSprop", dict(momentum=-1)), ("RMSprop", dict(eps=-1)),
    ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(lr=-1)), ("Adamax", dict(betas=(0.9, 1.0))),
    ("NAdam", dict(momentum_decay=-1)), ("RAdam", dict(weight_decay=-1)), ("ASGD", dict(lr=-1)),
    ("Rprop", dict(etas=(1.2, 0.5))), ("Rprop", dict(lr=-1)), ("LBFGS", dict(lr=-1)),
]


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{n}-{k}" for n, k in BAD])
def test_bad_arguments_raise_torch_types(name, kwargs):
    outcomes = []
    for lib in (torch, mc):
        try:
            getattr(lib.optim, name)([lib.tensor([1.0], requires_grad=True)], **kwargs)
            outcomes.append(None)
        except Exception as e:  # noqa: BLE001
            outcomes.append((type(e), str(e)))
    assert outcomes[0] is not None
    assert outcomes[1] == outcomes[0]


PARAM_ERRORS = [
    lambda lib: lib.optim.SGD(lib.tensor([1.0], requires_grad=True), lr=0.1),
    lambda lib: lib.optim.SGD([], lr=0.1),
    lambda lib: lib.optim.SGD([{"params": {lib.tensor([1.0], requires_grad=True)}}], lr=0.1),
    lambda lib: lib.optim.SGD([1.0], lr=0.1),
    lambda lib: lib.optim.SGD([lib.tensor([1.0], requires_grad=True) * 2], lr=0.1),
    lambda lib: _two_groups_sharing(lib),
    lambda lib: lib.optim.SGD([{"params": [lib.tensor([1.0], requires_grad=True)]}]).add_param_group([]),
    lambda lib: lib.optim.SGD([("w", lib.tensor([1.0], requires_grad=True)), lib.tensor([1.0], requires_grad=True)]),
]


def _two_groups_sharing(lib):
    p = lib.tensor([1.0], requires_grad=True)
    return lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("i", range(len(PARAM_ERRORS)))
def test_bad_params_raise_torch_types(i):
    outcomes = []
    for lib in (torch, mc):
        try:
            PARAM_ERRORS[i](lib)
            outcomes.append(None)
        except Exception as e:  # noqa: BLE001
            outcomes.append(type(e))
    assert outcomes[0] is not None
    assert outcomes[1] is outcomes[0]


def test_named_params_and_duplicate_warning():
    for lib in (torch, mc):
        w = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.Adam([("w", w)], lr=0.1)
        assert opt.param_groups[0]["param_names"] == ["w"]
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([w, w], lr=0.1)


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable"):
        mc.optim.Adam([mc.tensor([1.0], requires_grad=True)], differentiable=True)


def test_add_param_group_and_required_lr():
    a = mc.tensor([1.0], requires_grad=True)
    b = mc.tensor([2.0], requires_grad=True)
    opt = mc.optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    from mlx_compat.optim.optimizer import required

    class Needs(mc.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": required})

    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Needs([mc.tensor([1.0], requires_grad=True)])


def test_step_is_one_evaluation_of_every_new_value(monkeypatch):
    """step() evaluates once (Note [One batched update per step]), and that evaluation covers every parameter
    and state array it wrote, so no lazy graph survives the step."""
    import mlx.core as mx

    from mlx_compat.optim import optimizer as optmod

    evals = []

    class CountingMX:
        def __getattr__(self, name):
            return getattr(mx, name)

        @staticmethod
        def eval(*args):
            evals.append([a for arg in args for a in (arg if isinstance(arg, list) else [arg])])
            return mx.eval(*args)

    monkeypatch.setattr(optmod, "mx", CountingMX())
    tp, mp = pair(initial())
    for name, kwargs in [("Adam", dict(lr=0.1, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                         ("NAdam", dict()), ("Rprop", dict())]:
        opt = getattr(mc.optim, name)(mp, **kwargs)
        for s in range(3):
            evals.clear()
            set_grads(tp, mp, s)
            opt.step()
            assert len(evals) == 1
            roots = {id(a) for a in evals[0]}
            for p in mp:
                assert id(p._mx) in roots
                for k, v in opt.state[p].items():
                    if isinstance(v, mc.Tensor) and v.dim() > 0:
                        assert id(v._mx) in roots, (name, k)


def test_parameter_that_is_a_view_writes_through_its_base():
    outs = []
    for lib in (torch, mc):
        base = lib.zeros(6)
        p = base[1:4]
        p.requires_grad_()
        opt = lib.optim.Adam([p], lr=0.1)
        p.grad = lib.tensor([1.0, -1.0, 2.0])
        opt.step()
        outs.append((to_np(base).copy(), to_np(p).copy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-6)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-6)


@pytest.mark.parametrize("name,i", [("Adam", 1), ("SGD", 2), ("RMSprop", 1), ("Rprop", 1), ("RAdam", 0)])
def test_eager_kernels_match_compiled(name, i, monkeypatch):
    """Note [Fused update kernels]: the same update functions run without mx.compile give the same numbers."""
    from mlx_compat.optim import optimizer as optmod

    _, compiled_opt, _, compiled = run_both(name, CONFIGS[name][i], steps=20)
    monkeypatch.setattr(optmod, "_COMPILE", False)
    monkeypatch.setattr(optmod, "_kernel_cache", {})
    topt, eager_opt, tp, eager = run_both(name, CONFIGS[name][i], steps=20)
    assert_params_close(eager, tp)
    for e, c in zip(eager, compiled):
        assert_close(e, c, rtol=1e-6, floor=1.0)


def test_gpu_tensors_under_fake_gpu():
    """Note [Device scope] under Note [Fake GPU]: parameters on 'cuda' are updated on their device (state follows
    the parameter, 'step' stays on the CPU as torch's), with the CPU's numbers."""
    from helpers import run_fake_gpu

    script = '''
import numpy as np, mlx_compat as mc
for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                 ("RMSprop", dict(lr=0.01, centered=True))]:
    outs = []
    for dev in ("cpu", "cuda"):
        p = mc.tensor([1.0, -2.0, 3.0], device=dev, requires_grad=True)
        opt = getattr(mc.optim, name)([p], **kw)
        for s in range(3):
            p.grad = mc.tensor([0.5, -0.25, 1.0 + s], device=dev)
            opt.step()
        assert p.device.type == dev, (name, dev)
        for k, v in opt.state[p].items():
            assert v.device.type == (dev if v.dim() else "cpu"), (name, dev, k)
        outs.append(p.detach().cpu().numpy())
    assert np.array_equal(outs[0], outs[1]), (name, outs)
print("ok")
'''
    assert run_fake_gpu(script).strip() == "ok"


REDUCED = [("Adam", dict(lr=0.01, eps=1e-3)), ("AdamW", dict(lr=0.01, amsgrad=True)), ("RMSprop", dict(lr=0.01)),
           ("NAdam", dict()), ("Adagrad", dict(lr=0.1)), ("Adadelta", dict()), ("Adamax", dict()),
           ("Rprop", dict(etas=(0.3, 1.2))), ("SGD", dict(lr=0.1, momentum=0.9)),
           ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1))]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,kwargs", REDUCED, ids=[f"{n}-{k}" for n, k in REDUCED])
def test_reduced_precision_parameters(name, kwargs, dtype):
    """Note [Reduced-precision parameters]: float32 arithmetic rounded where torch rounds gives torch's bits;
    SGD stays within a few units in the last place (torch's vectorised add-with-alpha is a fused multiply-add,
    which MLX has no op for)."""
    x0 = np.linspace(-1, 1, 16).astype(np.float32)
    t = torch.tensor(x0, dtype=getattr(torch, dtype), requires_grad=True)
    m = mc.tensor(x0, dtype=getattr(mc, dtype), requires_grad=True)
    topt = getattr(torch.optim, name)([t], **kwargs)
    mopt = getattr(mc.optim, name)([m], **kwargs)
    for s in range(30):
        g = np.sin(0.3 * s + np.arange(16) + 0.1).astype(np.float32)
        t.grad = torch.tensor(g, dtype=getattr(torch, dtype))
        m.grad = mc.tensor(g, dtype=getattr(mc, dtype))
        topt.step()
        mopt.step()
    assert m.dtype == getattr(mc, dtype)
    for k, v in mopt.state[m].items():
        assert v.dtype == (mc.float32 if v.dim() == 0 else m.dtype), k
    a, b = to_np(m.float()), t.detach().float().numpy()
    ulp = 2.0**-7 if dtype == "bfloat16" else 2.0**-10  # at magnitude 1
    if name == "SGD":
        assert np.max(np.abs(a - b)) <= 8 * ulp
    else:
        np.testing.assert_array_equal(a, b)
