"""mlx_compat.compile (torch.compile's interface over mx.compile): the decorator forms and the OptimizedModule
wrapper against torch's, compiled inference and whole compiled training steps against the eager run of the same
code (values, optimizer state, RNG-driven dropout, BatchNorm statistics), recompilation, and the eager fallback."""
import warnings

import numpy as np
import pytest
import torch as T

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F


def _np(t):
    return t.detach().numpy()


def _close(a, b, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(_np(a) if hasattr(a, "detach") else a, _np(b) if hasattr(b, "detach") else b,
                               rtol=rtol, atol=atol)


def _count(fn):
    return fn._compiled.compile_count


@pytest.fixture(autouse=True)
def _no_warnings_leak():
    torch._dynamo.reset()
    yield


# ------------------------------------------------------------------------------------------ interface
def test_decorator_forms():
    def f(x, y):
        return torch.sin(x) * y + 1

    x, y = torch.randn(3, 4), torch.randn(3, 4)
    expected = f(x, y)

    @torch.compile
    def g1(x, y):
        return torch.sin(x) * y + 1

    @torch.compile()
    def g2(x, y):
        return torch.sin(x) * y + 1

    @torch.compile(fullgraph=True, dynamic=False, backend="inductor", mode="max-autotune")
    def g3(x, y):
        return torch.sin(x) * y + 1

    for g in (g1, g2, g3, torch.compile(f)):
        out = g(x, y)
        assert type(out) is torch.Tensor and out.dtype == expected.dtype and out.shape == expected.shape
        _close(out, expected)
    assert g1.__name__ == "g1" and g3._torchdynamo_orig_callable is not None
    assert torch.compile(f, disable=True) is f
    assert torch.compile(f, backend="eager") is f


def test_interface_errors_match_torch():
    def f(x):
        return x

    with pytest.raises(RuntimeError):
        T.compile(lambda x: x, mode="default", options={})
    with pytest.raises(RuntimeError):
        torch.compile(f, mode="default", options={})
    with pytest.raises(RuntimeError):
        torch.compile(f, mode="not-a-mode")


def test_optimized_module_wrapper_matches_torch():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    tm = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.ReLU(), T.nn.Linear(8, 2))
    cm, tcm = torch.compile(m), T.compile(tm)
    assert type(cm).__name__ == type(tcm).__name__ == "OptimizedModule"
    assert isinstance(cm, nn.Module)
    assert cm._orig_mod is m
    assert list(cm.state_dict().keys()) == list(tcm.state_dict().keys())
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tcm.named_parameters()]
    assert len(cm) == len(m) == len(tcm)
    lin = nn.Linear(2, 3)
    clin = torch.compile(lin)
    assert clin.weight is lin.weight and clin.in_features == 2  # attributes forward to the module
    cm.eval()
    assert not m.training and not cm.training
    cm.train()
    assert m.training
    assert torch._dynamo.OptimizedModule is type(cm)
    # loading torch's checkpoint of a compiled model into ours (same keys)
    sd = {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in tcm.state_dict().items()}
    cm.load_state_dict(sd)
    _close(m[0].weight, tm[0].weight.detach().numpy())


def test_module_compile_method():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    x = torch.randn(4, 5)
    expected = m(x)
    assert m.compile() is None  # torch's Module.compile compiles in place
    out = m(x)
    _close(out, expected)
    assert list(m.state_dict().keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    out.sum().backward()  # the compiled call is differentiable
    expected_grads = [p.grad.clone() for p in m.parameters()]
    for p in m.parameters():
        p.grad = None
    m._compiled_call_impl = None
    m(x).sum().backward()
    for g, p in zip(expected_grads, m.parameters()):
        _close(g, p.grad)


# ------------------------------------------------------------------------------------------ inference
class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2)
        self.fc = nn.Linear(8 * 3 * 3, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class _Decoder(nn.Module):
    """A GPT-style decoder block stack: token+position embeddings, causal self-attention, MLP, layer norm."""

    def __init__(self, vocab=32, d=16, heads=2, layers=2, ctx=8):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, 32, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t))
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        for b in self.blocks:
            x = b(x, src_mask=mask)
        return self.head(self.ln(x))


@pytest.mark.parametrize("kind", ["mlp", "cnn", "decoder", "resnet18"])
def test_inference_equals_eager(kind):
    torch.manual_seed(0)
    if kind == "resnet18":
        from mlx_compat.vision.models import resnet18

        m, x = resnet18(num_classes=10), torch.randn(2, 3, 32, 32)
    elif kind == "mlp":
        m, x = nn.Sequential(nn.Linear(20, 32), nn.GELU(), nn.Linear(32, 5)), torch.randn(6, 20)
    elif kind == "cnn":
        m, x = _CNN(), torch.randn(2, 3, 16, 16)
    else:
        m, x = _Decoder(), torch.randint(0, 32, (3, 8))
    m.eval()
    cm = torch.compile(m)
    with torch.no_grad():
        expected = m(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = cm(x)
            out2 = cm(x)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    _close(out, expected, rtol=1e-5, atol=1e-6)
    _close(out2, expected, rtol=1e-5, atol=1e-6)
    assert _count(cm.forward) == 1


def test_compiled_forward_backward_grads_equal_eager():
    torch.manual_seed(0)
    m = _CNN().eval()
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    m(x).square().mean().backward()
    expected = [p.grad.clone() for p in m.parameters()] + [x.grad.clone()]
    m.zero_grad()
    x.grad = None
    cm = torch.compile(m)
    out = cm(x)
    assert out.requires_grad and out.grad_fn is not None
    out.square().mean().backward()
    for e, g in zip(expected, [p.grad for p in m.parameters()] + [x.grad]):
        _close(g, e, rtol=1e-5, atol=1e-6)


def _cnn_pair():
    """The _CNN in eval mode in mlx_compat and the same weights in torch (the oracle)."""
    torch.manual_seed(0)
    m = _CNN().eval()
    sd = {k: T.tensor(v.detach().numpy()) for k, v in m.state_dict().items()}
    return m, sd


def _torch_cnn(sd, x):
    tx = T.tensor(x.numpy())
    y = T.nn.functional.conv2d(tx, sd["conv1.weight"], sd["conv1.bias"], padding=1)
    y = T.nn.functional.batch_norm(y, sd["bn.running_mean"], sd["bn.running_var"], sd["bn.weight"], sd["bn.bias"])
    y = T.nn.functional.max_pool2d(T.relu(y), 2)
    y = T.relu(T.nn.functional.conv2d(y, sd["conv2.weight"], sd["conv2.bias"], stride=2))
    return T.nn.functional.linear(y.flatten(1), sd["fc.weight"], sd["fc.bias"])


def test_inference_reads_channels_last_weights_as_inputs_and_follows_weight_writes():
    # Note [Derived inputs]: the convolutions' channels-last weight copies are graph inputs made outside the graph;
    # a write into a weight between calls (in place, or load_state_dict) must reach the next call, with no retrace
    m, sd = _cnn_pair()
    cm = torch.compile(m)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        _close(cm(x), _torch_cnn(sd, x).numpy(), rtol=1e-5, atol=1e-5)
        entry = next(iter(cm.forward._compiled.cache.values()))[0]
        # conv1 and conv2's weights (the eval batch norm's folded scale and shift are derived inputs too)
        assert sum(key[0] == "weight_last" for _slots, key, _fn in entry.derived) == 2
        m.conv1.weight.mul_(0.5)
        sd["conv1.weight"] = sd["conv1.weight"] * 0.5
        _close(cm(x), _torch_cnn(sd, x).numpy(), rtol=1e-5, atol=1e-5)
        _close(cm(x), m(x), rtol=1e-6, atol=1e-6)
        new = {k: v * 0.9 if k.endswith("weight") else v for k, v in m.state_dict().items()}
        m.load_state_dict(new)
        sd = {k: T.tensor(v.numpy()) for k, v in new.items()}
        _close(cm(x), _torch_cnn(sd, x).numpy(), rtol=1e-5, atol=1e-5)
    assert _count(cm.forward) == 1


def test_frozen_convolutions_under_grad_mode_give_the_head_eager_gradients():
    # frozen convolution weights with a trainable head, called with grad on: the convolutions read derived inputs
    # and the compiled output carries autograd history through mx.vjp (_vjp_parts rebuilds the copies there)
    m, _ = _cnn_pair()
    for mod in (m.conv1, m.conv2, m.bn):
        for p in mod.parameters():
            p.requires_grad_(False)
    x = torch.randn(2, 3, 16, 16)
    m(x).square().mean().backward()
    expected = [m.fc.weight.grad.clone(), m.fc.bias.grad.clone()]
    m.zero_grad()
    cm = torch.compile(m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cm(x)
    assert out.requires_grad
    entry = next(iter(cm.forward._compiled.cache.values()))[0]
    assert sum(key[0] == "weight_last" for _slots, key, _fn in entry.derived) == 2 and entry.needs_autograd
    out.square().mean().backward()
    _close(m.fc.weight.grad, expected[0], rtol=1e-5, atol=1e-6)
    _close(m.fc.bias.grad, expected[1], rtol=1e-5, atol=1e-6)
    assert m.conv1.weight.grad is None


# ------------------------------------------------------------------------------------------ training steps
def _train(model_fn, opt_fn, sched_fn, compiled, steps=6, clip=1.0, batch=lambda: (torch.randn(8, 10),
                                                                                    torch.randn(8, 3))):
    torch.manual_seed(1)
    model = model_fn()
    opt = opt_fn(model.parameters())
    sched = sched_fn(opt) if sched_fn else None
    torch.manual_seed(2)
    data = [batch() for _ in range(steps)]

    def train_step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y) if y.dtype.is_floating_point else F.cross_entropy(model(x), y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    fn = torch.compile(train_step) if compiled else train_step
    torch.manual_seed(3)  # the dropout masks come from the default generator
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = [fn(x, y).item() for x, y in data]
    return model, opt, losses, fn


def _assert_same_run(a, b):
    (m1, o1, l1, _), (m2, o2, l2, _) = a, b
    np.testing.assert_allclose(l2, l1, rtol=1e-6)
    sd1, sd2 = m1.state_dict(), m2.state_dict()
    assert list(sd1) == list(sd2)
    for k in sd1:
        assert sd1[k].dtype == sd2[k].dtype
        _close(sd2[k], sd1[k])
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    assert s1["state"].keys() == s2["state"].keys()
    for i in s1["state"]:
        assert s1["state"][i].keys() == s2["state"][i].keys()
        for k, v in s1["state"][i].items():
            _close(s2["state"][i][k], v)
            assert s2["state"][i][k].dtype == v.dtype


def _assert_graph_used(fn, calls):
    """Every call of compiled `fn` ran a traced graph: no eager fallback, and fewer traces than calls (a guard
    on a host value that changes every step would retrace every call, Note [Host scalars])."""
    c = fn._compiled
    assert c.fallback_reason is None
    assert 1 <= c.compile_count <= 4 < calls


def _mlp_dropout():
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, 3))


@pytest.mark.parametrize("opt", ["adam", "adamw", "sgd"])
def test_training_step_equals_eager(opt):
    opt_fn = {"adam": lambda p: torch.optim.Adam(p, lr=1e-2),
              "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, amsgrad=True),
              "sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)}[opt]
    sched = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)  # noqa: E731
    eager = _train(_mlp_dropout, opt_fn, sched, compiled=False)
    comp = _train(_mlp_dropout, opt_fn, sched, compiled=True)
    _assert_same_run(eager, comp)
    base = 0.05 if opt == "sgd" else 1e-2
    assert comp[1].param_groups[0]["lr"] == eager[1].param_groups[0]["lr"] == base * 0.5 ** 3
    # traced twice (first step creates the optimizer state), then one graph serves every later step
    assert _count(comp[3]) == 2


_EVERY_OPTIMIZER = {
    "Adam": dict(lr=1e-2, weight_decay=1e-3), "AdamW": dict(lr=1e-2), "Adamax": dict(lr=1e-2),
    "NAdam": dict(lr=1e-2, momentum_decay=4e-3), "NAdam_decoupled": dict(lr=1e-2, decoupled_weight_decay=True,
                                                                          weight_decay=0.1),
    "RAdam": dict(lr=1e-2), "Adagrad": dict(lr=0.1, lr_decay=0.01), "Adadelta": dict(lr=1.0),
    "RMSprop": dict(lr=1e-2, centered=True, momentum=0.5), "Rprop": dict(lr=1e-2), "ASGD": dict(lr=1e-2, t0=3),
    "SGD": dict(lr=0.05, momentum=0.9, dampening=0.1)}


@pytest.mark.parametrize("name", sorted(_EVERY_OPTIMIZER))
def test_every_optimizer_compiled_equals_eager_and_torch(name):
    """Each optimizer's host scalars (step counts, bias corrections, NAdam's mu_product, ASGD's eta/mu, RAdam's
    rho_t > 5 branch: a guard that retraces once) as compiled inputs (Note [Host scalars]): compiled equals eager
    within 1e-6 over 8 steps, and torch within 1e-5."""
    cls = name.split("_")[0]
    kw = _EVERY_OPTIMIZER[name]
    opt_fn = lambda p: getattr(torch.optim, cls)(p, **kw)  # noqa: E731
    eager = _train(_mlp_dropout, opt_fn, None, compiled=False, steps=8, clip=0)
    comp = _train(_mlp_dropout, opt_fn, None, compiled=True, steps=8, clip=0)
    _assert_same_run(eager, comp)
    _assert_graph_used(comp[3], 8)
    # torch: the same model (no dropout in eval of the masks: p=0.25 masks differ across libraries, so a
    # dropout-free model), the same data and steps
    torch.manual_seed(4)
    m = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    tm = T.nn.Sequential(T.nn.Linear(6, 5), T.nn.Tanh(), T.nn.Linear(5, 2))
    with T.no_grad():
        for a, b in zip(tm.parameters(), m.parameters()):
            a.copy_(T.from_numpy(_np(b).copy()))
    xs = [np.random.default_rng(i).standard_normal((4, 6)).astype(np.float32) for i in range(8)]
    opt = getattr(torch.optim, cls)(m.parameters(), **kw)
    topt = getattr(T.optim, cls)(tm.parameters(), **kw)

    @torch.compile
    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in xs:
            step(torch.from_numpy(x))
            topt.zero_grad()
            tm(T.from_numpy(x)).pow(2).mean().backward()
            topt.step()
    _assert_graph_used(step, 8)
    for a, b in zip(tm.parameters(), m.parameters()):
        _close(b, a.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ["Adam", "NAdam", "ASGD"])
def test_two_optimizer_steps_in_one_call_read_each_others_scalar_state(cls):
    """A compiled function stepping the optimizer twice: the second step reads the step count (NAdam's
    mu_product, ASGD's eta) the first one wrote, as eager does (Note [Host scalars])."""
    def run(compiled):
        torch.manual_seed(0)
        m = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
        opt = getattr(torch.optim, cls)(m.parameters(), lr=1e-2, **({"t0": 2} if cls == "ASGD" else {}))

        def step(x):
            opt.zero_grad()
            loss = m(x).pow(2).mean()
            loss.backward()
            opt.step()
            opt.step()
            return loss

        fn = torch.compile(step) if compiled else step
        torch.manual_seed(1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [fn(torch.randn(4, 6)).item() for _ in range(5)]
        return m, opt, losses, fn

    eager, comp = run(False), run(True)
    _assert_same_run(eager, comp)
    _assert_graph_used(comp[3], 5)
    assert comp[1].state_dict()["state"][0]["step"].item() == 10


def test_deep_host_expression_is_exact():
    """A host scalar built by a long chain of arithmetic (deeper than one Python expression may nest) reaches the
    graph with the value eager computes (Note [Host scalars])."""
    def run(compiled):
        torch.manual_seed(0)
        w = nn.Parameter(torch.randn(3))
        opt = torch.optim.SGD([w], lr=0.1)

        def step():
            opt.zero_grad()
            (w * w).sum().backward()
            group = opt.param_groups[0]
            lr = group["lr"]
            scale = lr
            for i in range(200):  # 200 nested operations on the host scalar
                scale = scale * 1.01 - lr * 0.001 + (i % 3) * 1e-4
            group["lr"] = scale  # the step reads it as its lr: a graph input
            opt.step()
            group["lr"] = lr
            return w.sum()

        fn = torch.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return [fn().item() for _ in range(3)], _np(w)

    (l1, w1), (l2, w2) = run(False), run(True)
    np.testing.assert_allclose(l2, l1, rtol=1e-6)
    _close(w2, w1)


def test_training_step_cosine_schedule_does_not_retrace():
    sched = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5)  # noqa: E731
    opt_fn = lambda p: torch.optim.Adam(p, lr=1e-2)  # noqa: E731
    eager = _train(_mlp_dropout, opt_fn, sched, compiled=False, steps=8)
    comp = _train(_mlp_dropout, opt_fn, sched, compiled=True, steps=8)
    _assert_same_run(eager, comp)
    assert _count(comp[3]) == 2


_S = torch.optim.lr_scheduler
_EVERY_SCHEDULER = {
    "LambdaLR": lambda o: _S.LambdaLR(o, lambda e: 0.9 ** e),
    "MultiplicativeLR": lambda o: _S.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda o: _S.StepLR(o, 2), "MultiStepLR": lambda o: _S.MultiStepLR(o, [2, 4]),
    "ConstantLR": lambda o: _S.ConstantLR(o), "LinearLR": lambda o: _S.LinearLR(o),
    "ExponentialLR": lambda o: _S.ExponentialLR(o, 0.9), "PolynomialLR": lambda o: _S.PolynomialLR(o, total_iters=5),
    "CosineAnnealingLR": lambda o: _S.CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda o: _S.CosineAnnealingWarmRestarts(o, 3),
    "SequentialLR": lambda o: _S.SequentialLR(o, [_S.ConstantLR(o, total_iters=2), _S.ExponentialLR(o, 0.9)],
                                              milestones=[2]),
    "ChainedScheduler": lambda o: _S.ChainedScheduler([_S.ConstantLR(o, total_iters=2), _S.ExponentialLR(o, 0.9)]),
    "CyclicLR": lambda o: _S.CyclicLR(o, 0.001, 0.01, step_size_up=2),
    "OneCycleLR": lambda o: _S.OneCycleLR(o, 0.01, total_steps=20)}


# every scheduler with SGD (momentum); with Adam (betas) the momentum-cycling ones and one plain one
@pytest.mark.parametrize("name,opt", [(n, "SGD") for n in sorted(_EVERY_SCHEDULER)]
                         + [(n, "Adam") for n in ("CyclicLR", "OneCycleLR", "StepLR")])
def test_every_scheduler_compiled_equals_eager_without_retracing(name, opt):
    """Each LR scheduler stepped inside a compiled step (recorded while tracing, run on the host after each call,
    Note [Host scalars]): equal to eager, never a fallback, and one graph for every later step — also where
    CyclicLR/OneCycleLR change the groups' momentum or betas each step (host sources, not cache key)."""
    opt_fn = {"SGD": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
              "Adam": lambda p: torch.optim.Adam(p, lr=0.01)}[opt]
    eager = _train(_mlp_dropout, opt_fn, _EVERY_SCHEDULER[name], compiled=False, steps=8)
    comp = _train(_mlp_dropout, opt_fn, _EVERY_SCHEDULER[name], compiled=True, steps=8)
    _assert_same_run(eager, comp)
    assert comp[1].param_groups[0]["lr"] == eager[1].param_groups[0]["lr"]
    assert comp[1].param_groups[0].get("betas") == eager[1].param_groups[0].get("betas")
    assert comp[1].param_groups[0].get("momentum") == eager[1].param_groups[0].get("momentum")
    _assert_graph_used(comp[3], 8)
    assert _count(comp[3]) == 2


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_one_cycle_stepped_outside_the_compiled_step_does_not_retrace(opt):
    """OneCycleLR stepped by the training loop, outside the compiled function: lr and momentum/betas change
    before every call and are read as host values (Note [Host scalars]), so one graph serves every step."""
    opt_fn = {"SGD": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
              "Adam": lambda p: torch.optim.Adam(p, lr=0.01)}[opt]

    def run(compiled):
        model, o, losses, fn = _train(_mlp_dropout, opt_fn, None, compiled, steps=1)
        sched = torch.optim.lr_scheduler.OneCycleLR(o, 0.01, total_steps=20)
        torch.manual_seed(5)
        for _ in range(6):
            x, y = torch.randn(8, 10), torch.randn(8, 3)
            losses.append(fn(x, y).item())
            sched.step()
        return model, o, losses, fn

    eager, comp = run(False), run(True)
    _assert_same_run(eager, comp)
    assert comp[1].param_groups[0]["lr"] == eager[1].param_groups[0]["lr"]
    _assert_graph_used(comp[3], 7)
    assert _count(comp[3]) == 2


def test_training_step_batchnorm_cnn_equals_eager():
    batch = lambda: (torch.randn(4, 3, 16, 16), torch.randint(0, 10, (4,)))  # noqa: E731
    opt_fn = lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)  # noqa: E731
    eager = _train(_CNN, opt_fn, None, compiled=False, steps=5, batch=batch)
    comp = _train(_CNN, opt_fn, None, compiled=True, steps=5, batch=batch)
    _assert_same_run(eager, comp)  # includes bn.running_mean/var and num_batches_tracked
    assert comp[0].bn.num_batches_tracked.item() == 5


def test_rng_state_advances_like_eager():
    def draw():
        return torch.rand(4) + F.dropout(torch.ones(4), 0.5)

    torch.manual_seed(11)
    expected = [draw() for _ in range(3)] + [torch.rand(2)]
    torch.manual_seed(11)
    cd = torch.compile(draw)
    got = [cd() for _ in range(3)] + [torch.rand(2)]
    for e, g in zip(expected, got):
        _close(g, e)


def test_lr_changed_outside_is_used():
    torch.manual_seed(0)
    w = torch.randn(4, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)

    @torch.compile
    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    step()
    step()
    opt.param_groups[0]["lr"] = 0.5
    before = w.detach().clone()
    step()
    _close(w, before - 0.5 * 2 * before)


# ------------------------------------------------------------------------------------------ recompilation
def test_recompiles_on_shape_dtype_and_python_args():
    calls = []

    @torch.compile
    def f(x, scale):
        calls.append(1)  # Python side effects run only while tracing
        return x * scale

    a = torch.randn(3)
    _close(f(a, 2.0), _np(a) * 2)
    _close(f(a + 1, 2.0), (_np(a) + 1) * 2)
    assert _count(f) == 1 and len(calls) == 1
    _close(f(torch.randn(5), 2.0).shape and f(a, 3.0), _np(a) * 3)
    assert _count(f) == 3
    assert f(a.double(), 2.0).dtype == torch.float64 and _count(f) == 4
    f(a, 2.0)
    assert _count(f) == 4  # cached
    torch._dynamo.reset()
    f(a, 2.0)
    assert _count(f) == 5


def test_dynamic_true_still_correct_across_shapes():
    @torch.compile(dynamic=True)
    def f(x):
        return x.reshape(x.shape[0] * x.shape[1]).cumsum(0)

    for shape in ((2, 3), (4, 5), (3, 3), (4, 5)):
        x = torch.randn(*shape)
        _close(f(x), np.cumsum(_np(x).reshape(-1)), rtol=1e-5)
    assert not _shapeless_valid(f)  # baked reshape sizes: per-shape graphs (Note [Dynamic shapes])


def _shapeless_valid(fn):
    (sl,) = fn._compiled.shapeless.values()
    return sl.valid


def test_dynamic_true_size_free_model_traces_once_for_all_batch_sizes():
    # matmuls and pointwise ops never bake a size: one shapeless graph serves every batch size (plus the one
    # per-shape trace that checks it, at the second size seen); torch's dynamic=True avoids recompiling too.
    # (No biases: MLX 0.32's shapeless AddMM, a linear layer with bias, computes garbage at a new batch size;
    # the check catches that, test_dynamic_true_shape_dependent_graph_falls_back_to_per_shape.)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(12, 16, bias=False), nn.GELU(), nn.Linear(16, 4, bias=False), nn.Softmax(-1)).eval()
    tm = T.nn.Sequential(T.nn.Linear(12, 16, bias=False), T.nn.GELU(), T.nn.Linear(16, 4, bias=False),
                         T.nn.Softmax(-1)).eval()
    tm.load_state_dict({k: T.tensor(_np(v)) for k, v in m.state_dict().items()})
    cm = torch.compile(m, dynamic=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for b in (4, 7, 1, 33, 7, 4, 2):
            x = torch.randn(b, 12)
            out = cm(x)
            assert out.shape == (b, 4) and out.dtype == torch.float32
            _close(out, m(x), rtol=1e-5, atol=1e-6)
            _close(out, tm(T.tensor(_np(x))).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert _count(cm.forward) == 2 and _shapeless_valid(cm.forward) is True
    with torch.no_grad():
        cm(torch.randn(3, 5, 12))  # another rank: a new shapeless graph
    assert _count(cm.forward) == 3


def test_dynamic_true_layer_mlx_cannot_trace_shapeless_uses_per_shape_graphs():
    # LayerNorm's MLX kernel has no shapeless form: per-shape graphs, no warning, right results
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8)).eval()
    cm = torch.compile(m, dynamic=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for b in (2, 5, 2):
            x = torch.randn(b, 6)
            _close(cm(x), m(x), rtol=1e-5, atol=1e-6)
    assert _shapeless_valid(cm.forward) is False and _count(cm.forward) == 2


def test_dynamic_true_with_grad_backward_equals_eager():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 8, bias=False), nn.Tanh(), nn.Linear(8, 2, bias=False))
    cm = torch.compile(m, dynamic=True)
    for b in (3, 5, 9):
        x = torch.randn(b, 6, requires_grad=True)
        m.zero_grad()
        m(x).square().sum().backward()
        expected = [p.grad.clone() for p in m.parameters()] + [x.grad.clone()]
        m.zero_grad()
        x.grad = None
        cm(x).square().sum().backward()
        for e, g in zip(expected, [p.grad for p in m.parameters()] + [x.grad]):
            _close(g, e, rtol=1e-5, atol=1e-6)
    assert _count(cm.forward) == 2


@pytest.mark.parametrize("what", ["size_constant", "linear_bias", "mean_loss_step"])
def test_dynamic_true_shape_dependent_graph_falls_back_to_per_shape(what):
    # a size read in Python is baked into the traced graph: MLX's shapeless graph would silently keep the first
    # size's constant (x * 4 at every size, a mean's 1/N): the check catches it and every size gets its own graph
    if what == "size_constant":
        @torch.compile(dynamic=True)
        def f(x):
            return x * x.shape[0] + x.sum(0)

        for b in (4, 6, 3, 6, 4):
            x = torch.randn(b, 3)
            _close(f(x), _np(x) * b + _np(x).sum(0), rtol=1e-6)
        assert _shapeless_valid(f) is False and _count(f) == 3  # the shapeless trace (serving 4), then 6 and 3
        return
    if what == "linear_bias":
        torch.manual_seed(0)
        m = nn.Linear(6, 3).eval()
        cm = torch.compile(m, dynamic=True)
        with torch.no_grad():
            for b in (4, 9, 4, 2):
                x = torch.randn(b, 6)
                _close(cm(x), m(x), rtol=1e-6, atol=1e-6)
        assert _shapeless_valid(cm.forward) is False
        return
    runs = _dynamic_cross_entropy_runs(lambda: nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)),
                                       lambda ps: torch.optim.Adam(ps, lr=1e-2), 5, 3, (8, 5, 8, 11, 5))
    # the first step (creating Adam's state) is one key, traced once; every later step is shape-dependent (1/N)
    assert [sl.valid for sl in runs[1][3]._compiled.shapeless.values()] == [None, False]


def _dynamic_cross_entropy_runs(make_model, make_opt, features, classes, batches):
    """[eager run, torch.compile(dynamic=True) run] of a cross-entropy training step over the batch sizes, each
    (model, optimizer, losses, step function), checked equal; the same seeds on both sides."""
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = make_model()
        opt = make_opt(model.parameters())

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = torch.compile(step, dynamic=True) if compiled else step
        torch.manual_seed(1)
        losses = [fn(torch.randn(b, features), torch.randint(0, classes, (b,))).item() for b in batches]
        runs.append((model, opt, losses, fn))
    _assert_same_run(runs[0], runs[1])
    return runs


# ------------------------------------------------------------------------------------------ fallback
def test_item_falls_back_with_one_warning():
    def f(x):
        if x.sum().item() > 0:  # data-dependent control flow
            return x * 2
        return x - 1

    cf = torch.compile(f)
    xs = [torch.ones(3), -torch.ones(3), torch.randn(3)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        outs = [cf(x) for x in xs]
    msgs = [str(x.message) for x in w if "mlx_compat.compile" in str(x.message)]
    assert len(msgs) == 1 and "item" in msgs[0] and "eagerly" in msgs[0]
    for x, o in zip(xs, outs):
        _close(o, f(x))


def test_fallback_restores_training_state():
    torch.manual_seed(0)
    m = nn.Linear(3, 1)
    opt = torch.optim.Adam(m.parameters(), lr=0.1)
    log = []

    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        log.append(loss.item())  # reads a value: the whole step runs eagerly
        return loss

    torch.manual_seed(0)
    m2 = nn.Linear(3, 1)
    opt2 = torch.optim.Adam(m2.parameters(), lr=0.1)
    x = torch.randn(4, 3)
    cs = torch.compile(step)
    with pytest.warns(UserWarning, match="item"):
        cs(x)
    cs(x)
    for _ in range(2):
        opt2.zero_grad()
        m2(x).pow(2).mean().backward()
        opt2.step()
    _close(m.weight, m2.weight)
    assert opt.state[m.weight]["step"].item() == 2.0 and len(log) == 2


def test_print_falls_back():
    @torch.compile
    def f(x):
        print("side effect")
        return x + 1

    with pytest.warns(UserWarning, match="print"):
        out = f(torch.zeros(2))
    _close(out, np.ones(2))


@pytest.mark.parametrize("what", ["item", "bool", "nonzero", "print"])
def test_fullgraph_raises(what):
    def f(x):
        if what == "item":
            return x * x.sum().item()
        if what == "bool":
            return x if x.sum() > 0 else -x
        if what == "nonzero":
            return x[x > 0]
        print(x)
        return x

    cf = torch.compile(f, fullgraph=True)
    with pytest.raises(RuntimeError):
        cf(torch.randn(4))


def test_compiler_disable():
    @torch.compiler.disable
    def helper(x):
        return x + 1

    assert _np(helper(torch.zeros(1)))[0] == 1

    @torch.compile
    def f(x):
        return helper(x) * 2

    with pytest.warns(UserWarning, match="compiler.disable"):
        _close(f(torch.zeros(2)), np.full(2, 2.0))
    with pytest.raises(RuntimeError):
        torch.compile(lambda x: helper(x), fullgraph=True)(torch.zeros(2))


# ------------------------------------------------------------------------------------------ more state
def test_global_and_closure_tensors_are_state():
    total = torch.zeros(3)
    count = [torch.tensor(0)]

    @torch.compile
    def accumulate(x):
        total.add_(x)
        count[0] += 1
        return total * 2

    xs = [torch.randn(3) for _ in range(4)]
    for i, x in enumerate(xs):
        out = accumulate(x)
        _close(out, 2 * np.sum([_np(v) for v in xs[:i + 1]], axis=0), rtol=1e-6)
    _close(total, np.sum([_np(v) for v in xs], axis=0), rtol=1e-6)
    assert count[0].item() == 4
    assert _count(accumulate) == 1


def test_optimizer_load_state_dict_between_calls():
    torch.manual_seed(0)
    w = torch.randn(5, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.1)

    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    cs = torch.compile(step)
    for _ in range(3):
        cs()
    saved_w, saved = w.detach().clone(), opt.state_dict()

    def copy(sd):  # load_state_dict keeps the given tensors: each optimizer gets its own
        return {"state": {k: {n: v.clone() for n, v in s.items()} for k, s in sd["state"].items()},
                "param_groups": sd["param_groups"]}

    saved = copy(saved)
    cs()
    cs()
    # rewind: parameter and optimizer state (new 'step' tensors) back to the saved point, then two steps again
    with torch.no_grad():
        w.copy_(saved_w)
    opt.load_state_dict(copy(saved))
    cs()
    cs()
    w2 = saved_w.clone().requires_grad_(True)
    opt2 = torch.optim.Adam([w2], lr=0.1)
    opt2.load_state_dict(copy(saved))
    for _ in range(2):
        opt2.zero_grad()
        (w2 * w2).sum().backward()
        opt2.step()
    _close(w, w2)
    assert opt.state[w]["step"].item() == 5.0


def test_plateau_scheduler_with_loss_falls_back():
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)

    @torch.compile
    def step():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        opt.step()
        sched.step(loss)

    with pytest.warns(UserWarning, match="ReduceLROnPlateau"):
        step()
    step()
    assert sched.last_epoch == 2


def test_decoder_training_step_equals_eager():
    def run(compiled):
        torch.manual_seed(4)
        model = _Decoder()
        for b in model.blocks:  # attention and MLP dropout on: the RNG state is threaded through the graph
            b.dropout.p = b.dropout1.p = b.dropout2.p = 0.1
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))
        torch.manual_seed(5)
        data = [torch.randint(0, 32, (2, 8)) for _ in range(4)]

        def step(idx):
            logits = model(idx[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, 32), idx[:, 1:].reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            opt.zero_grad()
            sched.step()
            return loss

        fn = torch.compile(step, fullgraph=True) if compiled else step
        torch.manual_seed(6)
        losses = [fn(idx).item() for idx in data]
        return model, opt, losses, fn

    _assert_same_run(run(False), run(True))


def test_backward_into_argument_falls_back():
    def f(x):
        (x * x).sum().backward()
        return x.grad * 1

    x1 = torch.randn(3, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    expected = f(x1)
    with pytest.warns(UserWarning, match="argument"):
        out = torch.compile(f)(x2)
    _close(out, expected)
    _close(x2.grad, x1.grad)


def test_many_traces_of_batchnorm_stay_compiled(monkeypatch):
    # BatchNorm's periodic eager flush of lazy running-stat updates must not run inside a trace
    from mlx_compat.nn.modules import batchnorm

    monkeypatch.setattr(batchnorm, "_FLUSH_EVERY", 2)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    torch.manual_seed(0)
    m2 = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    cm = torch.compile(m2)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(2, 7):  # a new shape each call: 5 traces
            x = torch.randn(n, 4)
            _close(cm(x), m(x), rtol=1e-5, atol=1e-6)
    assert _count(cm.forward) == 5
    _close(m2[1].running_var, m[1].running_var, rtol=1e-5)
    assert m2[1].num_batches_tracked.item() == 5


def test_step_count_changed_in_place_between_calls_is_read():
    # the host keeps the step counts a compiled call wrote; a write from outside (here in place) must be seen
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = nn.Linear(4, 2)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)

        def step(x):
            opt.zero_grad()
            loss = model(x).square().mean()
            loss.backward()
            opt.step()
            return loss

        fn = torch.compile(step) if compiled else step
        torch.manual_seed(1)
        xs = [torch.randn(3, 4) for _ in range(5)]
        losses = []
        for i, x in enumerate(xs):
            if i == 3:
                for st in opt.state.values():
                    st["step"].fill_(0.0)
            losses.append(fn(x).item())
        runs.append((model, opt, losses, fn))
    _assert_same_run(runs[0], runs[1])
    assert runs[1][1].state_dict()["state"][0]["step"].item() == 2.0


def test_state_reached_through_keyword_only_defaults():
    """A step that reaches its model and optimizer only through keyword-only defaults updates the real
    parameters (they were left holding tracers before), equal to eager."""
    def run(compiled):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x, *, m=model, o=opt):
            o.zero_grad()
            loss = m(x).pow(2).mean()
            loss.backward()
            o.step()
            return loss
        f = torch.compile(step) if compiled else step
        x = torch.ones(3, 4)
        losses = [f(x).item() for _ in range(3)]
        return losses, model.weight.detach().numpy()
    (le, we), (lc, wc) = run(False), run(True)
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    np.testing.assert_allclose(wc, we, rtol=1e-6)


_rebound_model = None


def test_state_rebound_between_calls_is_seen():
    """Note [Reach reuse]: a global or closure variable rebound to another module between calls, or a list
    element replaced, is the state of the next call (the earlier walk is not reused)."""
    global _rebound_model
    torch.manual_seed(0)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    held = [a]
    x = torch.randn(4, 3)

    def global_step(x):
        return _rebound_model(x).sum()

    def list_step(x):
        return held[0](x).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, lst = torch.compile(global_step), torch.compile(list_step)
        with torch.no_grad():
            for m in (a, b, a):
                _rebound_model = m
                held[0] = m
                expected = m(x).sum().item()
                assert g(x).item() == expected
                assert lst(x).item() == expected


_DEVICE_SCRIPT = r'''
import json
import mlx_compat as mc

out = {}
x = mc.ones(3, device="cuda")
w = mc.nn.Parameter(mc.ones(3, device="cuda"))


def closure_only():  # no tensor argument: the outputs' device is the traced outputs', not the CPU's
    w.grad = None
    y = (w * x).sum()
    y.backward()
    return y, w.grad, x * 2


c = mc.compile(closure_only)
out["closure"] = [[str(t.device) for t in c()] for _ in range(3)]  # the trace, its replay, the call program
m = mc.compile(lambda a: (a * 2, a.cpu() + 1))  # outputs on two devices
out["mixed"] = [[str(t.device) for t in m(x)] for _ in range(3)]
p = mc.nn.Parameter(mc.ones(3, device="cuda"))
opt = mc.optim.Adam([p], lr=0.1)


def step():
    opt.zero_grad()
    (p * 2).sum().backward()
    opt.step()


s = mc.compile(step)
s()
s()
out["state"] = {k: str(v.device) for k, v in opt.state[p].items()}  # torch: step on the CPU, moments with p
print(json.dumps(out))
'''


def test_compiled_outputs_keep_their_devices():
    """The fake GPU (Note [Fake GPU]): a compiled function's outputs carry the devices the traced ones had, whether
    or not a tensor argument names a device, and optimizer scalar state made while tracing is on the CPU, as the
    eager step makes it."""
    from helpers import fake_gpu_json

    out = fake_gpu_json(_DEVICE_SCRIPT)
    assert out["closure"] == [["cuda:0"] * 3] * 3
    assert out["mixed"] == [["cuda:0", "cpu"]] * 3
    assert out["state"] == {"step": "cpu", "exp_avg": "cuda:0", "exp_avg_sq": "cuda:0"}


def test_compiled_function_returning_views_returns_their_shapes():
    """A returned view is returned as itself (its shape and values), not as its base: a reshape of a product viewed
    back, a linear layer's N-D output (a view of its 2-D product while recording) and nn.MultiheadAttention's."""
    r = np.random.default_rng(3)
    xa = r.standard_normal((2, 5, 3)).astype(np.float32)

    def viewed(lib, t):
        return (t.reshape(10, 3) * 2).view(2, 5, 3)[:, 1:]

    x = torch.from_numpy(xa)
    c = torch.compile(lambda t: viewed(torch, t))
    ref = viewed(T, T.from_numpy(xa)).numpy()
    for _ in range(3):  # the trace, its replay, the call program
        out = c(x)
        assert tuple(out.shape) == ref.shape and np.array_equal(out.numpy(), ref)

    torch.manual_seed(0)
    mha = nn.MultiheadAttention(12, 3, batch_first=True)
    q = torch.from_numpy(r.standard_normal((2, 7, 12)).astype(np.float32))
    eager = mha(q, q, q)[0]
    cm = torch.compile(lambda t: mha(t, t, t)[0])
    for _ in range(3):
        out = cm(q)
        assert tuple(out.shape) == (2, 7, 12) and np.array_equal(out.detach().numpy(), eager.detach().numpy())


def test_dynamic_true_cpu_cross_entropy_over_large_logits_uses_per_shape_graphs():
    """Note [CPU exponential] (_ops/cpu_math.py): cross entropy over enough logits on the CPU takes an exp built
    from exponent bits, a bit cast MLX cannot trace shapeless; the dynamic=True step then falls back to per-shape
    graphs from its first shapeless trace, with eager's results."""
    runs = _dynamic_cross_entropy_runs(lambda: nn.Linear(8, 5000), lambda ps: torch.optim.SGD(ps, lr=1e-2), 8,
                                       5000, (8, 9, 8))
    valid = [sl.valid for sl in runs[1][3]._compiled.shapeless.values()]
    assert valid and all(v is False for v in valid)  # the first call's key (no .grad yet) and the later one


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_dynamic_true_cpu_gelu_over_large_activations_uses_per_shape_graphs(approximate):
    """Note [CPU tanh gelu], Note [CPU exact gelu] (_ops/cpu_math.py): a large enough gelu on the CPU takes the
    arithmetic exp, which MLX cannot trace shapeless; the dynamic=True step falls back to per-shape graphs, with
    eager's results."""
    runs = _dynamic_cross_entropy_runs(
        lambda: nn.Sequential(nn.Linear(8, 4096), nn.GELU(approximate=approximate), nn.Linear(4096, 3)),
        lambda ps: torch.optim.SGD(ps, lr=1e-2), 8, 3, (8, 9, 8))
    valid = [sl.valid for sl in runs[1][3]._compiled.shapeless.values()]
    assert valid and all(v is False for v in valid)
