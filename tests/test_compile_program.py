"""The C call program of a reused compiled call (_C._compile_call, Note [Compiled call program] in
csrc/compile.c): reused calls run without the Python path and leave the program exactly as the eager step would,
every change the plan checks sends the call back to the Python path, malformed programs raise instead of
crashing, no reference leaks over 1,000 calls, and a failed trace restores every tensor it touched."""
import gc
import sys
import warnings

import numpy as np
import pytest

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F
from mlx_compat import _C
from mlx_compat import _compile


@pytest.fixture(autouse=True)
def _fresh():
    torch._dynamo.reset()
    yield


def _close(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.fixture
def python_calls(monkeypatch):
    """How many calls entered the Python path (_Compiled.__call__)."""
    n = [0]
    orig = _compile._Compiled.__call__

    def counting(self, *a, **k):
        n[0] += 1
        return orig(self, *a, **k)

    monkeypatch.setattr(_compile._Compiled, "__call__", counting)
    return n


def _setup(seed=0, sched=True):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    s = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if sched else None

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if s is not None:
            s.step()
        return loss

    return model, opt, step


def _batch(n=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def _assert_same(m1, o1, m2, o2):
    for p, q in zip(m1.parameters(), m2.parameters()):
        _close(p, q)
        _close(p.grad, q.grad)
        for k, v in o1.state[p].items():
            _close(v, o2.state[q][k])
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"]


def _run(compiled, steps, mutate=None, at=4, sched=True):
    """`steps` training steps (compiled or eager) from the same seeds, `mutate` applied before step `at`: the
    model, optimizer, losses and the compiled function (None when eager)."""
    m, o, step = _setup(sched=sched)
    fn = torch.compile(step) if compiled else step
    x, y = _batch()
    torch.manual_seed(5)
    losses = []
    for i in range(steps):
        if i == at and mutate is not None:
            assert not compiled or fn._compiled._prog is not None
            x, y = mutate(m, o, x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses.append(fn(x, y))
    return m, o, losses, fn if compiled else None


def test_reused_calls_run_the_program_and_equal_eager(python_calls):
    m1, o1, l1, _ = _run(False, 10)
    m2, o2, l2, cs = _run(True, 10)
    for a, b in zip(l1, l2):
        _close(a, b)
        assert type(b) is torch.Tensor and b.dtype == a.dtype and b.shape == a.shape
    _assert_same(m1, o1, m2, o2)
    assert cs._compiled._prog is not None
    assert python_calls[0] <= 4  # the traces and the first reuse; the other calls ran the program


def test_program_updates_state_in_place_of_the_old_buffers(python_calls):
    """Note [Inputs released before evaluation]: the program drops its input lists before evaluating, so an
    update of a 4 MiB parameter reuses the old buffer (MLX donates it) instead of holding both at the peak."""
    import mlx.core as mx

    torch.manual_seed(0)
    w = torch.randn(1024, 1024)

    @torch.compile
    def scale():
        w.mul_(1.5)

    expected = w.clone()
    for _ in range(4):  # traces, then reuses through the program
        scale()
        expected.mul_(1.5)
    assert python_calls[0] <= 3
    mx.synchronize()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    scale()
    mx.synchronize()
    assert mx.get_peak_memory() - base < 2 ** 20  # without donation: a second 4 MiB buffer
    expected.mul_(1.5)
    np.testing.assert_array_equal(w.numpy(), expected.numpy())


def _mutations():
    """Changes between calls that the program must notice (each applied to both runs alike)."""
    def lr(m, o, x, y):
        o.param_groups[0]["lr"] = 0.003
        return x, y

    def shape(m, o, x, y):
        return x[:5], y[:5]

    def grad_none(m, o, x, y):
        m[0].weight.grad = None
        return x, y

    def frozen(m, o, x, y):
        m[0].bias.requires_grad_(False)
        return x, y

    def swap(m, o, x, y):
        m[1] = nn.Tanh()
        return x, y

    def eval_mode(m, o, x, y):
        m.eval()
        return x, y

    def load(m, o, x, y):
        o.load_state_dict(o.state_dict())
        return x, y

    def hook(m, o, x, y):
        m[0].register_forward_hook(lambda mod, inp, out: out * 2)
        return x, y

    def write(m, o, x, y):
        with torch.no_grad():
            m[3].weight.mul_(0.5)
        return x, y

    def new_data(m, o, x, y):
        with torch.no_grad():
            m[3].bias.data = torch.zeros(3)
        return x, y

    return [lr, shape, grad_none, frozen, swap, eval_mode, load, hook, write, new_data]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_changes_between_calls_are_seen(mutate):
    m1, o1, l1, _ = _run(False, 8, mutate, sched=False)
    m2, o2, l2, _ = _run(True, 8, mutate, sched=False)
    for a, b in zip(l1, l2):
        _close(a, b)
    _assert_same(m1, o1, m2, o2)


def _warm(step, calls):
    """The compiled step after `calls` calls on one batch (its call program built), with that batch."""
    cs = torch.compile(step)
    x, y = _batch()
    for _ in range(calls):
        cs(x, y)
    return cs, x, y


def test_arguments_that_do_not_fit_take_the_python_path():
    m, o, step = _setup(sched=False)
    cs, x, y = _warm(step, 3)
    prog = cs._compiled._prog
    assert prog is not None
    assert _C._compile_call(prog, (x,)) is NotImplemented
    assert _C._compile_call(prog, (x, 3)) is NotImplemented
    assert _C._compile_call(prog, (x.double(), y)) is NotImplemented
    assert _C._compile_call(prog, (x[:4], y[:4])) is NotImplemented
    assert _C._compile_call(prog, (m[0].weight, y)) is NotImplemented  # a state tensor as an argument
    with torch.no_grad():
        assert _C._compile_call(prog, (x, y)) is NotImplemented  # another grad mode
    assert o.state[m[0].weight]["step"].item() == 3.0  # none of them ran


@pytest.mark.parametrize("bad", [(), (None,), (None, ()), ((), ()), (tuple([None] * 33), ()),
                                 (tuple([None] * 34), ()), ("x", ())])
def test_malformed_programs_raise(bad):
    with pytest.raises(TypeError):
        _C._compile_call(*bad)


def test_malformed_program_items_raise_or_decline():
    m, o, step = _setup(sched=False)
    cs, x, y = _warm(step, 3)
    prog = cs._compiled._prog
    n = len(prog)
    for i in range(n):
        for junk in (None, 7, "s", (), (1, 2)):
            bad = prog[:i] + (junk,) + prog[i + 1:]
            try:
                r = _C._compile_call(bad, (x, y))
            except (TypeError, ValueError, RuntimeError, AttributeError, IndexError):
                continue
            assert r is NotImplemented or isinstance(r, torch.Tensor)


def test_no_reference_leaks_over_a_thousand_calls():
    m, o, step = _setup(sched=True)
    cs, x, y = _warm(step, 5)
    assert cs._compiled._prog is not None
    objs = [x, y, m, o, cs, *m.parameters(), *[p.grad for p in m.parameters()],
            *[v for st in o.state.values() for v in st.values()], o.param_groups[0]]
    gc.collect()  # (the earlier programs' cycles: each holds a closure over the compiled function)
    before = [sys.getrefcount(t) for t in objs]
    n_objects = len(gc.get_objects())
    for _ in range(1000):
        cs(x, y)
    after = [sys.getrefcount(t) for t in objs]
    assert before == after
    gc.collect()
    assert len(gc.get_objects()) - n_objects < 50  # no Python objects pile up per call
    assert o.state[m[0].weight]["step"].item() == 1005.0


def _trace_failing(where, seed=0):
    """A step over a parameter passed as an argument that reads a value (a graph break) at `where`."""
    torch.manual_seed(seed)
    model = nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)

    def step(x, w):
        opt.zero_grad()
        loss = (model(x) * w.sum()).pow(2).mean()
        if where == "forward":
            loss.item()
        loss.backward()
        if where == "backward":
            model.weight.grad.sum().item()
        opt.step()
        if where == "step":
            model.bias.sum().item()
        return loss

    return model, opt, step


@pytest.mark.parametrize("where", ["forward", "backward", "step"])
@pytest.mark.parametrize("grads", [False, True])
def test_failed_trace_restores_every_tensor(where, grads):
    x = torch.randn(3, 4)
    m1, o1, eager = _trace_failing(where)
    m2, o2, step = _trace_failing(where)
    if grads:  # state and .grads exist before the failing trace
        eager(x, m1.weight)
        _compile.compile(step, backend="eager")(x, m2.weight)
    before = [(p._mx, None if p.grad is None else p.grad._mx, p._version) for p in m2.parameters()]
    cs = torch.compile(step)
    with pytest.warns(UserWarning, match="eagerly"):
        l2 = cs(x, m2.weight)
    l1 = eager(x, m1.weight)
    _close(l1, l2)
    for p, q, (a, g, v) in zip(m1.parameters(), m2.parameters(), before):
        _close(p, q)
        _close(p.grad, q.grad)
        assert q._mx is not _compile._PLACEHOLDER and q.grad._mx is not _compile._PLACEHOLDER
        q.detach().numpy(), q.grad.numpy()  # real arrays, not tracers
    for p, q in zip(m1.parameters(), m2.parameters()):
        for k, v in o1.state[p].items():
            _close(v, o2.state[q][k])
            o2.state[q][k].numpy()


def test_shared_host_scalars_one_input_set_for_all_parameters():
    """Note [Shared host scalars]: Adam's per-parameter step counts are equal, so the graph reads one set of
    host scalars for all four parameters."""
    m, o, l, cs = _run(True, 4, sched=False)
    plan = cs._compiled._plan
    (entry,) = plan._entries
    assert sum(n for _, n in entry.scalar_layout) == 5  # lr / bias corrections, betas, eps: not 4 x 5


def _diverge(m, o, x, y):
    with torch.no_grad():
        o.state[m[0].weight]["step"].fill_(10.0)  # one parameter's step count now differs from the others'
    return x, y


def test_shared_host_scalars_diverging_values_retrace_and_equal_eager():
    m1, o1, l1, _ = _run(False, 8, _diverge, sched=False)
    m2, o2, l2, cs = _run(True, 8, _diverge, sched=False)
    for a, b in zip(l1, l2):
        _close(a, b)
    _assert_same(m1, o1, m2, o2)
    assert o2.state[m2[0].weight]["step"].item() == 14.0 and o2.state[m2[0].bias]["step"].item() == 8.0
    assert cs._compiled.fallback_reason is None


def test_keyword_calls_run_the_program(python_calls):
    """Note [Keyword calls in C]: a call with keyword tensors and constants runs the program once reused; other
    names, order, constant values or types, or a keyword call after a positional one, take the Python path and
    give eager's (and torch's) values."""
    import torch as real

    def net(L):
        class Net(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = L.nn.Linear(4, 3)

            def forward(self, x, mask=None, scale=1.0, act="relu", bias_off=False):
                y = self.fc(x) * scale
                if mask is not None:
                    y = y * mask
                y = y.relu() if act == "relu" else y.tanh()
                return y - self.fc.bias if bias_off else y
        return Net().eval()

    torch.manual_seed(0)
    ours, theirs = net(torch), net(real)
    theirs.load_state_dict({k: real.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    cm = torch.compile(ours)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((3, 5, 4)).astype(np.float32)
    mask = (rng.random((5, 3)) > 0.3).astype(np.float32)
    calls = [
        ((), dict(mask=mask, scale=2.0)),
        ((), dict(mask=mask, scale=2.0)),
        ((), dict(mask=mask, scale=2.0)),
        ((), dict(scale=2.0, mask=mask)),  # another order
        ((), dict(mask=mask, scale=3.0)),  # another constant
        ((), dict(mask=mask, scale=2)),  # another type of an equal constant
        ((), dict(mask=mask, scale=2.0, act="tanh", bias_off=True)),
        ((), dict(mask=mask, scale=2.0, act="tanh", bias_off=True)),
        ((), {}),
        ((), {}),
        ((), dict(mask=mask, scale=2.0)),
    ]
    with torch.no_grad():
        for i, (_, kw) in enumerate(calls):
            x = xs[i % 3]
            before = python_calls[0]
            got = cm(torch.from_numpy(x), **{k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                                            for k, v in kw.items()})
            ref = theirs(real.from_numpy(x), **{k: real.from_numpy(v) if isinstance(v, np.ndarray) else v
                                               for k, v in kw.items()})
            np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
            python = python_calls[0] > before
            if i in (2, 7, 9):  # the second repeat of a call: the program runs it
                assert not python, i
            if i in (3, 4, 5, 8, 10):  # a call unlike the one before it
                assert python, i
