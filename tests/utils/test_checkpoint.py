"""mlx_compat.utils.checkpoint against torch.utils.checkpoint: both variants (use_reentrant True / False) give torch's
outputs and gradients (inputs, parameters, autograd.grad, double backward), dropout draws the same mask when
recomputed, non-tensor arguments and outputs pass through, checkpoint_sequential, and torch's warnings and errors."""
import warnings
import weakref

import numpy as np
import pytest
import torch.utils.checkpoint as tc

from helpers import assert_same, mc, raised, rng, torch

import mlx_compat.utils.checkpoint as mcc

REENTRANT = [True, False]


def _mlp(lib, seed=0):
    """Linear-GELU-Linear, the same weights in torch and mlx_compat."""
    g = rng(seed)
    m = lib.nn.Sequential(lib.nn.Linear(6, 12), lib.nn.GELU(), lib.nn.Linear(12, 4))
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.from_numpy(g.standard_normal(tuple(p.shape)).astype(np.float32) * 0.4))
    return m


def _input(lib, shape=(5, 6), seed=1):
    return lib.from_numpy(rng(seed).standard_normal(shape).astype(np.float32)).requires_grad_()


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [(x.category, str(x.message)) for x in w]


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_mlp_block_outputs_and_grads_like_torch(use_reentrant):
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        x = x0 * 2  # an input with history: the gradient must go on past it
        y = ck.checkpoint(m, x, use_reentrant=use_reentrant)
        (y.tanh() * y).sum().backward()
        results.append((y, x0.grad, [p.grad for p in m.parameters()]))
    (ty, tgx, tgp), (my, mgx, mgp) = results
    assert_same(my, ty)
    assert_same(mgx, tgx)
    for a, b in zip(mgp, tgp):
        assert_same(a, b)


def test_non_reentrant_autograd_grad_on_parameters_and_inputs():
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        y = ck.checkpoint(m, x0 * 1, use_reentrant=False)
        results.append(lib.autograd.grad(y.pow(2).sum(), [*m.parameters(), x0]))
        assert all(p.grad is None for p in m.parameters())  # grad() writes no .grad
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


def test_non_reentrant_double_backward_like_torch():
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        y = ck.checkpoint(m, x0 * 1, use_reentrant=False)
        gx, = lib.autograd.grad(y.sum(), x0, create_graph=True)
        results.append((gx, *lib.autograd.grad(gx.pow(2).sum(), [x0, m[0].weight])))
    for a, b in zip(*reversed(results)):
        assert_same(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")  # the inner call, in both
@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_nested_checkpoints(use_reentrant):
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)

        def outer(a):
            return ck.checkpoint(m, a.sin(), use_reentrant=use_reentrant).exp()

        y = ck.checkpoint(outer, x0 * 1, use_reentrant=use_reentrant)
        y.sum().backward()
        results.append((y, x0.grad, *[p.grad for p in m.parameters()]))
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


def test_non_reentrant_backward_inputs_and_retain_graph():
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        y = ck.checkpoint(m, x0 * 1, use_reentrant=False)
        y.sum().backward(inputs=[m[2].weight], retain_graph=True)
        assert x0.grad is None and m[0].weight.grad is None
        y.sum().backward()  # the node recomputes again
        results.append((m[2].weight.grad, x0.grad))
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


def test_non_reentrant_returns_arguments_and_parameters_as_they_are():
    for lib, ck in ((torch, tc), (mc, mcc)):
        x, p = _input(lib), lib.nn.Parameter(lib.ones(2))
        a, b, c = ck.checkpoint(lambda t: (t, p, t * 2), x, use_reentrant=False)
        assert a is x and b is p and c.requires_grad


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_reentrant_backward_create_graph_gives_plain_grads_like_torch():
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        ck.checkpoint(m, x0 * 1, use_reentrant=True).sum().backward(create_graph=True)
        assert not x0.grad.requires_grad and not m[0].weight.grad.requires_grad


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_forward_keeps_no_intermediate_graph(use_reentrant):
    nodes = []

    def f(x):
        h = x.exp()
        if h.grad_fn is not None:
            nodes.append(weakref.ref(h.grad_fn))
        return h.sin()

    x = _input(mc)
    y = mcc.checkpoint(f, x * 1, use_reentrant=use_reentrant)
    assert y.requires_grad and all(r() is None for r in nodes)
    unchecked = f(x * 1)
    assert unchecked.requires_grad and nodes[-1]() is not None  # unchecked, the graph lives with the output


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_mask_recomputed_from_the_forward_rng_state(use_reentrant, preserve):
    m = _mlp(mc)
    drop = mc.nn.Dropout(0.5)

    def f(x):
        return m(drop(x)).tanh()

    def run(checkpointed):
        mc.manual_seed(123)
        x0 = _input(mc)
        y = mcc.checkpoint(f, x0, use_reentrant=use_reentrant, preserve_rng_state=preserve) if checkpointed else f(x0)
        y.pow(2).sum().backward()
        grads = [x0.grad] + [p.grad for p in m.parameters()]
        m.zero_grad()
        return y, grads, mc.rand(8)  # the next draw shows where the stream stands

    py, pgrads, pnext = run(False)
    cy, cgrads, cnext = run(True)
    assert_same(cy, py)
    if preserve:  # the recomputation drew the forward's mask and left the stream where it was
        for a, b in zip(cgrads, pgrads):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(cnext.numpy(), pnext.numpy())
    else:  # as torch's: the recomputation draws anew from the stream and advances it
        assert not np.array_equal(cnext.numpy(), pnext.numpy())


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_non_tensor_args_and_tuple_outputs(use_reentrant):
    def f(lib):
        def fn(x, scale, tag, y, none):
            assert tag == "t" and none is None
            return (x * scale + y).sin(), scale + 1, (x > 0).sum(), tag, None
        return fn

    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        x0, y0 = _input(lib), _input(lib, seed=2)
        out = ck.checkpoint(f(lib), x0 * 1, 3, "t", y0, None, use_reentrant=use_reentrant)
        out[0].sum().backward()
        results.append((out, x0.grad, y0.grad))
    (tout, tgx, tgy), (mout, mgx, mgy) = results
    assert_same(mout[0], tout[0])
    assert mout[1] == tout[1] == 4 and mout[3] == "t" and mout[4] is None
    assert_same(mout[2], tout[2])
    assert mout[2].requires_grad == tout[2].requires_grad
    assert_same(mgx, tgx)
    assert_same(mgy, tgy)


def test_non_reentrant_keyword_and_nested_tensor_arguments():
    def fn(x, pair, *, bias):
        return x * pair[0] + pair[1].exp() + bias

    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        x0, a0, b0, c0 = (_input(lib, seed=s) for s in range(4))
        out = ck.checkpoint(fn, x0 * 1, [a0 * 1, b0], bias=c0 * 2, use_reentrant=False)
        results.append((out, *lib.autograd.grad(out.pow(2).sum(), [x0, a0, b0, c0])))
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@pytest.mark.parametrize("residual", [False, True])
def test_closed_over_tensors_with_history(use_reentrant, residual):
    """A function closing over a tensor made from parameters before the call and keeping an intermediate, and
    (non-reentrant only: torch's reentrant pass frees that graph twice) over its own argument: torch's gradients."""
    if use_reentrant and residual:
        pytest.skip("torch raises: its nested backward frees the graph below the argument")
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        w0 = _input(lib, shape=(4,), seed=5)
        scale = w0 * 0.5  # history made outside the function
        x = x0 * 0.5
        kept = []

        def fn(a):
            h = m(a)
            kept.append(h)
            return h * scale + (x[:, :4] if residual else 0)  # `x` is also the argument `a`

        out = ck.checkpoint(fn, x, use_reentrant=use_reentrant)
        out.sin().sum().backward()
        results.append((out, x0.grad, w0.grad, *[p.grad for p in m.parameters()]))
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_checkpoint_sequential_like_torch(use_reentrant):
    results = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        g = rng(3)
        layers = [lib.nn.Linear(6, 6) if i % 2 == 0 else lib.nn.Tanh() for i in range(7)]
        model = lib.nn.Sequential(*layers)
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.from_numpy(g.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
        x0 = _input(lib)
        y = ck.checkpoint_sequential(model, 3, x0, use_reentrant=use_reentrant)
        y.pow(2).sum().backward()
        results.append((y, x0.grad, *[p.grad for p in model.parameters()]))
    for a, b in zip(*reversed(results)):
        assert_same(a, b)


def test_use_reentrant_omitted_warns_and_means_reentrant():
    seen = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        x0 = _input(lib)
        y, w = _warnings_of(lambda: ck.checkpoint(lambda x: x.exp(), x0))
        assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
        _, w2 = _warnings_of(lambda: ck.checkpoint_sequential([lambda x: x.exp()] * 2, 2, x0))
        seen.append((w, w2))
    assert seen[0] == seen[1] and len(seen[0][0]) == len(seen[0][1]) == 1


def test_reentrant_warns_when_no_input_requires_grad():
    for lib, ck in ((torch, tc), (mc, mcc)):
        lin = lib.nn.Linear(3, 3)
        y, w = _warnings_of(lambda: ck.checkpoint(lin, lib.ones(2, 3), use_reentrant=True))
        assert w == [(UserWarning, "None of the inputs have requires_grad=True. Gradients will be None")]
        assert not y.requires_grad
        # the non-reentrant variant reaches the parameters anyway, silently
        y, w = _warnings_of(lambda: ck.checkpoint(lin, lib.ones(2, 3), use_reentrant=False))
        assert w == [] and y.requires_grad
        y.sum().backward()
        assert lin.weight.grad is not None


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_under_no_grad(use_reentrant):
    for lib, ck in ((torch, tc), (mc, mcc)):
        x0 = _input(lib)
        with lib.no_grad():
            y, w = _warnings_of(lambda: ck.checkpoint(lambda x: x.exp(), x0, use_reentrant=use_reentrant))
        assert w == [] and not y.requires_grad


def _errors(lib, ck):
    x = lib.ones(3, requires_grad=True)
    ident = lambda a: a  # noqa: E731

    def backward_twice(use_reentrant):
        y = ck.checkpoint(lambda a: a.exp() * 2, x * 1, use_reentrant=use_reentrant)
        y.sum().backward()
        y.sum().backward()

    def nondeterministic():
        calls = []

        def f(a):
            calls.append(1)
            return a[: len(calls)].exp()

        ck.checkpoint(f, x * 1, use_reentrant=False).sum().backward()

    def output_without_grad():
        ck.checkpoint(lambda a: a.detach() * 2, x, use_reentrant=True).sum().backward()

    def debug_everywhere():
        with ck.set_checkpoint_debug_enabled(True):
            ck.checkpoint(ident, x, use_reentrant=False, context_fn=ck.noop_context_fn)  # default context: fine
            ck.checkpoint(ident, x, use_reentrant=False, context_fn=lambda: ck.noop_context_fn())

    return {
        "kwargs_reentrant": lambda: ck.checkpoint(lambda a, b=1: a * b, x, b=2, use_reentrant=True),
        "context_fn_reentrant": lambda: ck.checkpoint(ident, x, use_reentrant=True, context_fn=lambda: None),
        "debug_reentrant": lambda: ck.checkpoint(ident, x, use_reentrant=True, debug=True),
        "determinism_check": lambda: ck.checkpoint(ident, x, use_reentrant=False, determinism_check="all"),
        "debug_with_context_fn": lambda: ck.checkpoint(ident, x, use_reentrant=False, debug=True,
                                                       context_fn=lambda: ck.noop_context_fn()),
        "global_debug_with_context_fn": debug_everywhere,
        "sequential_kwargs": lambda: ck.checkpoint_sequential([ident], 1, x, use_reentrant=False, foo=1),
        "output_without_grad": output_without_grad,
        "backward_twice_reentrant": lambda: backward_twice(True),
        "backward_twice": lambda: backward_twice(False),
        "nondeterministic_recomputation": nondeterministic,
        "detach_variable_list": lambda: ck.detach_variable([x]),
    }


@pytest.mark.parametrize("case", list(_errors(torch, tc)))
def test_errors_like_torch(case):
    theirs = raised(_errors(torch, tc)[case])
    ours = raised(_errors(mc, mcc)[case])
    assert type(ours).__name__ == type(theirs).__name__
    assert isinstance(ours, RuntimeError) == isinstance(theirs, RuntimeError)
    assert str(ours).split("\n")[0] == str(theirs).split("\n")[0]


def test_checkpoint_error_is_a_runtime_error():
    assert issubclass(mcc.CheckpointError, RuntimeError)


def test_context_fn_enters_forward_and_recomputation_contexts():
    counts = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        log = []

        class Ctx:
            def __init__(self, name):
                self.name = name

            def __enter__(self):
                log.append(self.name)

            def __exit__(self, *exc):
                return False

        x0 = _input(lib)
        y = ck.checkpoint(lambda a: a.exp(), x0 * 1, use_reentrant=False,
                          context_fn=lambda: (Ctx("forward"), Ctx("recompute")))
        log.append("backward")
        y.sum().backward()
        counts.append(log)
    assert counts[0] == counts[1] == ["forward", "backward", "recompute"]


def test_helpers_like_torch():
    assert mcc.noop_context_fn.__name__ == "noop_context_fn"
    f, r = mcc.noop_context_fn()
    with f, r:
        pass
    assert mcc.DefaultDeviceType.get_device_type() in ("cpu", "cuda", "mps")
    prev = mcc.DefaultDeviceType.get_device_type()
    try:
        mcc.DefaultDeviceType.set_device_type("cuda")
        assert mcc.DefaultDeviceType.get_device_type() == "cuda"
    finally:
        mcc.DefaultDeviceType.set_device_type(prev)
    with mcc.set_checkpoint_debug_enabled(True):
        with mcc.set_checkpoint_debug_enabled(None):
            assert mcc._checkpoint_debug_enabled is None
        assert mcc._checkpoint_debug_enabled is True
    assert mcc._checkpoint_debug_enabled is None
    x = mc.ones(2, requires_grad=True)
    d = mcc.detach_variable((x, 3, mc.ones(1)))
    assert d[0].requires_grad and d[0].grad_fn is None and d[1] == 3 and not d[2].requires_grad
    assert mc.utils.checkpoint is mcc


def test_reentrant_refuses_grad_and_backward_inputs():
    """torch's reentrant checkpoint raises inside autograd.grad and backward(inputs=...) (its nested backward would
    write .grad); a plain backward and the non-reentrant variant are fine."""
    outcomes = []
    for lib, ck in ((torch, tc), (mc, mcc)):
        m, x0 = _mlp(lib), _input(lib)
        msgs = []
        for call in (lambda y: lib.autograd.grad(y.sum(), x0), lambda y: y.sum().backward(inputs=[x0])):
            y = ck.checkpoint(m, x0 * 1, use_reentrant=True)
            try:
                call(y)
                msgs.append(None)
            except RuntimeError as e:
                msgs.append(str(e))
        y = ck.checkpoint(m, x0 * 1, use_reentrant=False)
        g, = lib.autograd.grad(y.sum(), x0)
        ck.checkpoint(m, x0 * 1, use_reentrant=True).sum().backward()
        outcomes.append((msgs, tuple(g.shape), x0.grad is not None))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0][0] is not None and "use_reentrant=True" in outcomes[0][0][0]
