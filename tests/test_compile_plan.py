"""compile's plan reuse (Note [Plan reuse] in mlx_compat/_compile.py): a compiled training step reuses the last
call's state layout while nothing structural changed, and every kind of structural change between compiled calls
(module attributes, parameter/buffer/submodule dicts written directly, .grad set or rebound, requires_grad,
in-place shape changes, train/eval, optimizer groups, options and state, load_state_dict) still gives exactly the
eager run's losses, parameters and optimizer state."""
import warnings

import numpy as np
import pytest

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F


class _Scaled(nn.Module):
    """A linear layer followed by a buffer scale (a buffer read by the forward)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(10, 16)
        self.register_buffer("scale", torch.ones(16))

    def forward(self, x):
        return self.lin(x) * self.scale


def _step(model, opt):
    """The training step the tests compile: zero_grad, forward, loss, backward, optimizer step."""
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _make():
    model = nn.Sequential(_Scaled(), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return {"model": model, "opt": opt, "step": _step(model, opt)}


def _make_accumulating():
    """A step without zero_grad: gradients accumulate across calls unless the caller resets them."""
    ctx = _make()
    model, opt = ctx["model"], ctx["opt"]

    def step(x, y):
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    ctx["step"] = step
    return ctx


def _run(make, change, compiled, before=3, after=3):
    torch.manual_seed(0)
    ctx = make()
    fn = torch.compile(ctx["step"]) if compiled else ctx["step"]
    torch.manual_seed(1)
    data = [(torch.randn(8, 10), torch.randn(8, 3)) for _ in range(before + after)]
    torch.manual_seed(2)  # dropout masks
    losses, plans = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would hide what is tested
        for i, (x, y) in enumerate(data):
            if i == before:
                change(ctx)
            losses.append(fn(x, y).item())
            if compiled:
                plans.append(fn._compiled.plan_count)
    return ctx, losses, plans


def _np(t):
    return t.detach().numpy()


def _assert_same(make, change, before=3, after=3, cleanup=lambda: None):
    """The compiled run equals the eager run with `change` applied to both between two calls (and `cleanup` after
    each run); returns the compiled run's count of plans built after each call."""
    e, le, _ = _run(make, change, False, before, after)
    cleanup()
    c, lc, plans = _run(make, change, True, before, after)
    cleanup()
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    sd_e, sd_c = e["model"].state_dict(), c["model"].state_dict()
    assert list(sd_e) == list(sd_c)
    for k in sd_e:
        np.testing.assert_allclose(_np(sd_c[k]), _np(sd_e[k]), rtol=1e-6, atol=1e-7)
    for pe, pc in zip(e["model"].parameters(), c["model"].parameters()):
        assert (pe.grad is None) == (pc.grad is None) and pe.requires_grad == pc.requires_grad
        if pe.grad is not None:
            np.testing.assert_allclose(_np(pc.grad), _np(pe.grad), rtol=1e-6, atol=1e-7)
    oe, oc = e["opt"].state_dict(), c["opt"].state_dict()
    assert oe["param_groups"] == oc["param_groups"]
    assert list(oe["state"]) == list(oc["state"])
    for i in oe["state"]:
        assert list(oe["state"][i]) == list(oc["state"][i])
        for k, v in oe["state"][i].items():
            np.testing.assert_allclose(_np(oc["state"][i][k]), _np(v), rtol=1e-6, atol=1e-7)
    return plans


def test_unchanged_state_reuses_the_plan():
    plans = _assert_same(_make, lambda ctx: None, before=3, after=5)
    # call 1 (no .grads, no optimizer state) and call 2 (both created by call 1) build plans; later calls reuse
    assert plans == [1, 2, 2, 2, 2, 2, 2, 2]


def _replan_then_reuse(plans, before=3):
    assert plans[before] == plans[before - 1] + 1  # the change was seen
    # the call after it may plan once more (its write-back creating the .grad or optimizer state of a new
    # parameter is a change too); then the plan is reused
    assert plans[-1] == plans[-2] <= plans[before] + 1


def test_parameter_rebound_by_attribute():
    def change(ctx):
        lin = ctx["model"][3]
        lin.weight = nn.Parameter(lin.weight.detach() * 0.5)  # not in the optimizer: its grad only accumulates

    _replan_then_reuse(_assert_same(_make, change))


def test_parameter_written_into_the_dict_directly():
    def change(ctx):
        lin = ctx["model"][3]
        lin._parameters["bias"] = nn.Parameter(torch.full((3,), 0.25))

    _replan_then_reuse(_assert_same(_make, change))


def test_parameter_deleted():
    def change(ctx):
        ctx["model"][3].bias = None

    _replan_then_reuse(_assert_same(_make, change))


def test_buffer_written_into_the_dict_directly():
    def change(ctx):
        ctx["model"][0]._buffers["scale"] = torch.full((16,), 2.0)

    _replan_then_reuse(_assert_same(_make, change))


def test_buffer_shape_changed_in_place():
    def change(ctx):
        ctx["model"][0].scale.data = torch.tensor(3.0)  # the same tensor object, now 0-d (Note [Meta epoch])

    _replan_then_reuse(_assert_same(_make, change))


def test_buffer_reshaped_by_an_in_place_view_op():
    def change(ctx):
        ctx["model"][0].scale.unsqueeze_(0)  # (16,) -> (1, 16): broadcasts the same, a different graph

    _replan_then_reuse(_assert_same(_make, change))


def test_submodule_replaced():
    def change(ctx):
        ctx["model"][1] = nn.Tanh()

    _replan_then_reuse(_assert_same(_make, change))


def test_submodule_written_into_the_dict_directly():
    def change(ctx):
        ctx["model"]._modules["2"] = nn.Identity()  # the dropout gone

    _replan_then_reuse(_assert_same(_make, change))


def test_eval_then_train():
    def change(ctx):
        ctx["model"].eval()

    _replan_then_reuse(_assert_same(_make, change))


def test_requires_grad_turned_off():
    def change(ctx):
        ctx["model"][0].lin.weight.requires_grad_(False)  # frozen: no grad, the optimizer skips it

    _replan_then_reuse(_assert_same(_make, change))


def test_grad_set_to_none_between_calls():
    def change(ctx):
        ctx["opt"].zero_grad()

    _replan_then_reuse(_assert_same(_make_accumulating, change))


def test_grad_rebound_to_another_tensor():
    def change(ctx):
        for p in ctx["model"].parameters():
            p.grad = torch.full_like(p, 0.01)

    # a rebound grad is another tensor object: the plan's slots still read through the parameter, so the
    # identity check must see it (a shape-equal tensor would give the same graph, and it is re-planned anyway)
    plans = _assert_same(_make_accumulating, change)
    _replan_then_reuse(plans)


def test_grad_accumulated_by_an_eager_backward_between_calls():
    def change(ctx):
        F.mse_loss(ctx["model"](torch.ones(2, 10)), torch.zeros(2, 3)).backward()

    _assert_same(_make_accumulating, change)


def test_optimizer_option_changed():
    def change(ctx):
        ctx["opt"].param_groups[0]["weight_decay"] = 0.1

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_betas_changed_is_a_host_value_not_a_replan():
    def change(ctx):
        ctx["opt"].param_groups[0]["betas"] = (0.8, 0.99)

    plans = _assert_same(_make, change)
    assert plans[-1] == plans[2]  # betas are host sources (Note [Host scalars]): no new plan


def test_optimizer_state_written_directly():
    def change(ctx):
        p = ctx["model"][3].weight
        ctx["opt"].state[p]["exp_avg"] = torch.zeros_like(p)

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_param_group_added():
    def change(ctx):
        extra = nn.Parameter(torch.ones(3))
        ctx["opt"].add_param_group({"params": [extra], "lr": 0.1})

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_param_appended_to_a_group_list():
    def change(ctx):
        ctx["opt"].param_groups[0]["params"].append(nn.Parameter(torch.ones(3)))

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_state_cleared():
    def change(ctx):
        ctx["opt"].state.clear()

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_load_state_dict():
    def change(ctx):
        opt = ctx["opt"]
        sd = opt.state_dict()
        opt.load_state_dict({"state": {k: {n: v.clone() * 0.5 for n, v in s.items()} for k, s in sd["state"].items()},
                             "param_groups": sd["param_groups"]})

    _replan_then_reuse(_assert_same(_make, change))


@pytest.mark.parametrize("rebind", ["global", "closure"])
def test_model_rebound_in_the_function_s_scope(rebind):
    """The reach walk's own check (Note [Reach reuse]) sees a rebound name: a new plan over the new model."""
    if rebind == "closure":
        def change(ctx):
            ctx["model"][3] = nn.Linear(16, 3)

        _replan_then_reuse(_assert_same(_make, change))
        return
    torch.manual_seed(0)
    g = {"torch": torch, "F": F}
    exec("def step(x, y):\n    return F.mse_loss(model(x), y)\n", g)  # noqa: S102 — a function with real globals
    g["model"] = nn.Linear(10, 3)
    fn = torch.compile(g["step"])
    x, y = torch.randn(8, 10), torch.randn(8, 3)
    with torch.no_grad():
        fn(x, y), fn(x, y)
        g["model"] = other = nn.Linear(10, 3)
        np.testing.assert_allclose(_np(fn(x, y)), _np(F.mse_loss(other(x), y)), rtol=1e-6)


def test_module_configuration_changed():
    def change(ctx):
        ctx["model"][2].p = 0.5  # baked into the traced graph: a new key, a new graph

    _replan_then_reuse(_assert_same(_make, change))


def test_forward_hook_added():
    def change(ctx):
        ctx["model"][3].register_forward_hook(lambda mod, args, out: out * 2)

    _replan_then_reuse(_assert_same(_make, change))


def test_global_forward_hook_added():
    handles = []

    def change(ctx):
        handles.append(nn.modules.module.register_module_forward_hook(
            lambda mod, args, out: out * 0.5 if isinstance(mod, nn.Linear) else None))

    try:
        _replan_then_reuse(_assert_same(_make, change, cleanup=lambda: [h.remove() for h in handles]))
    finally:
        for h in handles:
            h.remove()


def test_module_dict_written_directly_is_seen_by_the_fast_check():
    # a write into a module's __dict__ that bypasses Module.__setattr__: the dicts' version tags change (Note [Dict
    # version tags] in csrc/compile.c), so the plan is re-checked and the new configuration re-traced
    def change(ctx):
        ctx["model"][2].__dict__["p"] = 0.0

    _replan_then_reuse(_assert_same(_make, change))


def test_optimizer_group_lr_rebound_every_call_keeps_the_plan():
    # the param groups are outside the version-tagged dicts: an lr rebound every step (a scheduler's write) is a
    # host value, neither a re-plan nor a retrace
    def run(compiled):
        torch.manual_seed(0)
        ctx = _make()
        fn = torch.compile(ctx["step"]) if compiled else ctx["step"]
        torch.manual_seed(1)
        losses = []
        for i in range(6):
            ctx["opt"].param_groups[0]["lr"] = 1e-2 / (i + 1)
            losses.append(fn(torch.randn(8, 10), torch.randn(8, 3)).item())
        return ctx, fn, losses

    _, _, le = run(False)
    c, fn, lc = run(True)
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    assert fn._compiled.plan_count == 2 and fn._compiled.compile_count == 2


def _make_view_parameter():
    """The last layer's weight is a Parameter over rows 2..4 of a larger tensor (it shares that tensor's storage,
    as torch's Parameter(t) does): the compiled write-back must go through to the larger tensor."""
    ctx = _make()
    big = torch.randn(6, 16)
    ctx["big"] = big
    ctx["model"][3].weight = nn.Parameter(big[2:5])
    ctx["opt"] = opt = torch.optim.Adam(ctx["model"].parameters(), lr=1e-2)
    ctx["step"] = _step(ctx["model"], opt)
    return ctx


def test_view_parameter_compiled_equals_eager():
    e, le, _ = _run(_make_view_parameter, lambda ctx: None, False)
    c, lc, _ = _run(_make_view_parameter, lambda ctx: None, True)
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    we, wc = e["model"][3].weight, c["model"][3].weight
    np.testing.assert_allclose(_np(wc), _np(we), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(wc.grad), _np(we.grad), rtol=1e-6, atol=1e-7)


@pytest.mark.xfail(strict=True, reason="known defect: the trace rebinds every state tensor with _set_data, which "
                   "makes a view a base tensor of its own, so a Parameter over part of another tensor stops aliasing "
                   "it after the first compiled call (the parameter's own values stay right, see the test above)")
def test_view_parameter_keeps_aliasing_its_base():
    e, _, _ = _run(_make_view_parameter, lambda ctx: None, False)
    c, _, _ = _run(_make_view_parameter, lambda ctx: None, True)
    assert c["model"][3].weight._is_storage_view  # a Parameter over part of `big`: its storage
    np.testing.assert_allclose(_np(c["big"]), _np(e["big"]), rtol=1e-6, atol=1e-7)


def test_global_view_read_and_written_by_a_compiled_function():
    # a view reached as a global (its base too): reads see the base's value at each call, in-place writes inside
    # the function reach the base, as eagerly
    def run(compiled):
        base = torch.arange(12.0).reshape(3, 4)
        view = base[1]
        g = {"base": base, "view": view}

        def f(x):
            y = (g["view"] * x).sum()
            g["view"].add_(x)
            return y

        fn = torch.compile(f) if compiled else f
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for i in range(4):
                out.append(fn(torch.full((4,), float(i))).item())
                base[0].add_(1.0)  # a write between calls, through another view of the same base
        return out, base, view

    le, be, ve = run(False)
    lc, bc, vc = run(True)
    assert lc == le
    np.testing.assert_array_equal(_np(bc), _np(be))
    assert vc._is_view() and vc._base is bc._base
    np.testing.assert_array_equal(_np(vc), _np(ve))


def test_compile_write_matches_tensor_write():
    from mlx_compat import _C
    import mlx.core as mx

    for make_target in (lambda: torch.zeros(4, 3), lambda: torch.zeros(5, 3)[1:5], lambda: torch.zeros(3, 4).t()):
        a, b = make_target(), make_target()
        value = mx.arange(12, dtype=mx.float32).reshape(4, 3)
        va, vb = a._version, b._version
        with torch.no_grad():
            a._write(value)
            _C._compile_write([b, None], [mx.zeros(1), value, mx.zeros(1)], 1)
        np.testing.assert_array_equal(_np(b), _np(a))
        assert b._version - vb == a._version - va == 1
        base_a, base_b = (a._storage_base, b._storage_base) if a._is_storage_view else (a, b)
        np.testing.assert_array_equal(_np(base_b), _np(base_a))
    with pytest.raises(TypeError):
        _C._compile_write([object()], [mx.zeros(1)], 0)
    with pytest.raises(TypeError):
        _C._compile_write([torch.zeros(1)], [1.0], 0)
    with pytest.raises(IndexError):
        _C._compile_write([torch.zeros(1)], [mx.zeros(1)], 1)
    with torch.no_grad(), pytest.raises(RuntimeError):  # the in-place checks of Tensor._write still hold
        _C._compile_write([torch.zeros(3).expand(2, 3)], [mx.zeros((2, 3))], 0)


def test_tensor_option_changed_in_place_between_calls():
    # a Tensor group option (not a host source) is in the cache key by value: an in-place change leaves every
    # dict's version tag as it was, so the fast check still compares its version counter
    def make():
        ctx = _make()
        ctx["opt"] = opt = torch.optim.SGD(ctx["model"].parameters(), lr=0.05, momentum=torch.tensor(0.9))
        ctx["step"] = _step(ctx["model"], opt)
        return ctx

    def change(ctx):
        ctx["opt"].param_groups[0]["momentum"].fill_(0.5)

    _replan_then_reuse(_assert_same(make, change))
