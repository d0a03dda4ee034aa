"""The C part of a call program's host scalar work (Note [Host scalars in C] in csrc/compile.c): for the common
optimizers the sources, guards, scalar arrays and host writes run without the Python callbacks, the results
equal eager's step by step, any doubt (a tensor lr, a changed lr, a scheduler) takes the Python callbacks with
the same answers, and nothing leaks."""
import gc
import sys

import numpy as np
import pytest

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F
from mlx_compat import _C
from mlx_compat import _compile

P_PRE, P_POST, P_HOST = 20, 28, 33


@pytest.fixture(autouse=True)
def _fresh():
    torch._dynamo.reset()
    yield


def _make(opt_fn, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = opt_fn(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


def _no_python(prog):
    """`prog` with its Python host callbacks replaced by ones that fail the test."""
    def boom(*a):
        raise AssertionError("the Python host scalar callback ran")
    p = list(prog)
    p[P_PRE] = boom
    if p[P_POST] is not None:
        p[P_POST] = boom
    return tuple(p)


OPTS = {
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, betas=(0.8, 0.95)),
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-2),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=1e-2),
}


@pytest.mark.parametrize("name", sorted(OPTS))
def test_equal_to_eager_without_python_callbacks(name):
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    m1, o1, s1 = _make(OPTS[name])
    m2, o2, s2 = _make(OPTS[name])
    c = torch.compile(s2)
    for i in range(6):
        if i >= 3 and c._compiled._prog is not None and c._compiled._prog[P_HOST] is not None:
            c._compiled._prog = _no_python(c._compiled._prog)
        l1, l2 = s1(x, y), c(x, y)
        np.testing.assert_allclose(l1.item(), l2.item(), rtol=1e-6, atol=1e-7)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-6, atol=1e-7)
    for (a, sa), (b, sb) in zip(o1.state.items(), o2.state.items()):
        for k in sa:
            np.testing.assert_allclose(np.asarray(sa[k].detach().numpy()), np.asarray(sb[k].detach().numpy()),
                                       rtol=1e-6, atol=1e-7)
            assert sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape


def _warm_adam(calls):
    """An Adam step compiled and called `calls` times on one batch: (optimizer, compiled step, x, y)."""
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    _, opt, s = _make(OPTS["adam"])
    c = torch.compile(s)
    for _ in range(calls):
        c(x, y)
    return opt, c, x, y


def test_adam_takes_the_c_part():
    _, c, x, y = _warm_adam(3)
    prog = c._compiled._prog
    assert prog is not None and prog[P_HOST] is not None
    assert isinstance(_C._compile_call(_no_python(prog), (x, y)), torch.Tensor)  # raises if a callback ran


def test_lr_changes_between_calls():
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    m1, o1, s1 = _make(OPTS["adam"])
    m2, o2, s2 = _make(OPTS["adam"])
    c = torch.compile(s2)
    for i in range(8):
        for o in (o1, o2):
            o.param_groups[0]["lr"] = 1e-2 / (1 + i // 2)
            if i == 5:
                o.param_groups[0]["betas"] = (0.7, 0.99)
        np.testing.assert_allclose(s1(x, y).item(), c(x, y).item(), rtol=1e-6, atol=1e-7)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_tensor_lr_and_int_lr():
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    for lr in (torch.tensor(0.01), 1):
        m1, o1, s1 = _make(lambda p: torch.optim.SGD(p, lr=lr, momentum=0.5))
        m2, o2, s2 = _make(lambda p: torch.optim.SGD(p, lr=lr, momentum=0.5))
        c = torch.compile(s2)
        for _ in range(4):
            np.testing.assert_allclose(s1(x, y).item(), c(x, y).item(), rtol=1e-5, atol=1e-6)


def test_step_written_outside_takes_python_path():
    """A step count rewritten eagerly between calls: the host copy is stale, the C part steps aside."""
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    m1, o1, s1 = _make(OPTS["adam"])
    m2, o2, s2 = _make(OPTS["adam"])
    c = torch.compile(s2)
    for i in range(5):
        if i == 3:
            for o in (o1, o2):
                for st in o.state.values():
                    st["step"].fill_(10.0)
        np.testing.assert_allclose(s1(x, y).item(), c(x, y).item(), rtol=1e-6, atol=1e-7)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-6, atol=1e-7)
    for st in o2.state.values():
        assert st["step"].item() == 12.0


def test_malformed_host_program_raises():
    _, c, x, y = _warm_adam(3)
    prog = c._compiled._prog
    for bad in (1, (), ("x",) * 3):
        p = list(prog)
        p[P_HOST] = bad
        with pytest.raises(TypeError):
            _C._compile_call(tuple(p), (x, y))
    hp = list(prog[P_HOST])
    for i in range(len(hp)):
        for junk in (None, 1, "s", (1, 2), [None]):
            h = list(hp)
            h[i] = junk
            p = list(prog)
            p[P_HOST] = tuple(h)
            try:
                _C._compile_call(tuple(p), (x, y))
            except (TypeError, ValueError, RuntimeError, AttributeError, IndexError):
                pass


def test_no_leaks_over_1000_calls():
    opt, c, x, y = _warm_adam(20)
    assert c._compiled._prog[P_HOST] is not None
    objs = [x, y, opt, opt.param_groups[0], *[v for st in opt.state.values() for v in st.values()],
            opt.param_groups[0]["lr"], *opt.param_groups[0]["betas"]]
    gc.collect()
    before, n0 = [sys.getrefcount(o) for o in objs], len(gc.get_objects())
    for _ in range(1000):
        c(x, y)
    gc.collect()
    assert [sys.getrefcount(o) for o in objs] == before
    assert len(gc.get_objects()) - n0 < 50


def test_equal_step_counts_share_one_host_float():
    """Note [Shared host scalars]: the C host writes give every parameter's equal step count one float, so the
    guards that the counts stay equal are answered by `is`; a count written apart is compared by value."""
    opt, c, x, y = _warm_adam(4)
    counts = [_compile._host_values[id(s["step"])][2] for s in opt.state.values()]
    assert counts == [4.0] * 4 and all(v is counts[0] for v in counts)
    first = next(iter(opt.state.values()))["step"]
    first.fill_(4.0)  # the same value written from outside: another object, read back from the tensor
    m2, o2, s2 = _make(OPTS["adam"])
    for _ in range(4):
        s2(x, y)
    l1, l2 = c(x, y), s2(x, y)
    np.testing.assert_allclose(l1.item(), l2.item(), rtol=1e-6, atol=1e-7)
    assert [s["step"].item() for s in opt.state.values()] == [5.0] * 4


def test_an_expression_given_twice_is_computed_once():
    calls = []

    def count():
        calls.append(1)
        return 2.0

    f = _compile._evaluator(("c[0]()", "(v[0] + (1))", "c[0]()"), [count], [])
    assert f([1.0]) == (2.0, 2.0, 2.0) and len(calls) == 1


H_GUARD_FN, H_SCALAR_FN, H_NEXT = 4, 6, 14


def _counting_evaluators(prog, calls):
    """`prog` with its host scalar evaluators wrapped to append their name to `calls` and its Python callbacks
    replaced by ones that fail the test; the host program's other parts (its caches, H_NEXT) are the original's."""
    h = list(prog[P_HOST])
    for i, name in ((H_GUARD_FN, "guard"), (H_SCALAR_FN, "scalars")):
        def counted(vals, f=h[i], name=name):
            calls.append(name)
            return f(vals)
        h[i] = counted
    p = list(_no_python(prog))
    p[P_HOST] = tuple(h)
    return tuple(p)


def test_host_scalars_ahead():
    """Note [Host scalars ahead]: while a call's evaluation runs, the next call's host scalars are computed from
    the sources as the call left them; a next call whose sources are unchanged takes them without evaluating
    again, and any other evaluates them itself (a changed lr or betas gives eager's answers)."""
    opt, c, x, y = _warm_adam(5)  # the third call builds the program, the fourth runs it first
    hp = c._compiled._prog[P_HOST]
    assert len(hp[H_NEXT]) == 1
    vals, arrays = hp[H_NEXT][0]
    assert vals == [5.0] * 4 + [1e-2, 0.9, 0.999]
    calls = []
    counted = _counting_evaluators(c._compiled._prog, calls)
    for i in range(3):  # one evaluation per call, ahead, while the sources are as the last call left them
        assert isinstance(_C._compile_call(counted, (x, y)), torch.Tensor)
        assert calls == ["guard", "scalars"] * (i + 1)
        assert hp[H_NEXT][0][0][:4] == [6.0 + i] * 4
    opt.param_groups[0]["lr"] = 5e-3  # a change: the prediction is not taken
    _C._compile_call(counted, (x, y))
    assert calls == ["guard", "scalars"] * 5
    m1, o1, s1 = _make(OPTS["adam"])
    for i in range(9):
        s1(x, y)
        if i == 7:
            o1.param_groups[0]["lr"] = 5e-3
    for o in (o1, opt):
        o.param_groups[0]["betas"] = (0.8, 0.99)
    np.testing.assert_allclose(s1(x, y).item(), c(x, y).item(), rtol=1e-6, atol=1e-7)
    for p1, p2 in zip(m1.parameters(), [p for g in opt.param_groups for p in g["params"]]):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-6, atol=1e-7)


_GPU_SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
import mlx_compat as torch
from test_compile_host_scalars import _make, OPTS, P_HOST, H_NEXT
x, y = torch.randn(8, 6, device="cuda"), torch.randint(0, 3, (8,), device="cuda")
m1, o1, s1 = _make(OPTS["adam"])
m2, o2, s2 = _make(OPTS["adam"])
m1.to("cuda"), m2.to("cuda")
c = torch.compile(s2)
diffs = [abs(s1(x, y).item() - c(x, y).item()) for _ in range(6)]
prog = c._compiled._prog
print(json.dumps({"c_part": prog is not None and prog[P_HOST] is not None,
                  "predicted": len(prog[P_HOST][H_NEXT]), "diff": max(diffs)}))
"""


def test_no_prediction_on_a_gpu():
    """Note [Host scalars ahead]: a GPU call program evaluates synchronously and predicts nothing (MLX's GPU
    backends encode the step on the calling thread); its answers are eager's. Under the fake GPU."""
    from helpers import fake_gpu_json
    r = fake_gpu_json(_GPU_SCRIPT)
    assert r["c_part"] and r["predicted"] == 0 and r["diff"] < 1e-6
