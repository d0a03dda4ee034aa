"""The autograd engine against PyTorch 2.13.

Pins: Tensor.backward (implicit scalar gradient, explicit gradient positional
and keyword, retain_graph, create_graph, inputs=), torch.autograd.backward
(several roots, grad_tensors), torch.autograd.grad (grad_outputs,
retain_graph, create_graph, allow_unused, materialize_grads, non-leaf
inputs, returns a tuple and leaves .grad alone); .grad accumulates over
backward calls and into an existing .grad; broadcasting reduces gradients
back to each input's shape; a gradient has its input's dtype; fan-out sums;
detach() cuts the graph; a second backward through a graph whose saved
tensors were freed raises RuntimeError (and one without saved tensors does
not, as in torch); the errors torch raises (non-scalar without gradient,
gradient shape mismatch, output/input not requiring grad, unused input) are
RuntimeError/ValueError as in torch; a 100,000-node chain backpropagates
and is freed without RecursionError.
"""
import sys
import warnings

import numpy as np
import pytest

from ag_util import FWD, GRAD, assert_grad, assert_tensor, const, leaf, leaves, randn
from helpers import assert_raises_same, assert_same, mc, torch


def _x(shape=(3, 4), seed=0):
    return leaf(randn(shape, seed))


# ---------------------------------------------------------------- backward

def test_backward_scalar_implicit_gradient():
    xt, xm = _x()
    for L, x in ((torch, xt), (mc, xm)):
        y = (x * x + 3 * x).sum()
        assert y.requires_grad and not y.is_leaf
        r = y.backward()
        assert r is None
    assert_grad(xm, xt)


def test_backward_explicit_gradient_keyword_and_positional():
    xt, xm = _x()
    gt, gm = const(randn((3, 4), 5))
    for x, g in ((xt, gt), (xm, gm)):
        (x * x - x / 2).backward(gradient=g)
    assert_grad(xm, xt)
    xt2, xm2 = _x(seed=1)
    for x, g in ((xt2, gt), (xm2, gm)):
        (x.exp() * 2).backward(g)
    assert_grad(xm2, xt2)


def test_backward_one_element_non_scalar_needs_no_gradient():
    # torch only requires numel() == 1 for the implicit gradient
    xt, xm = _x()
    for x in (xt, xm):
        y = (x * 2).sum(dim=(0, 1), keepdim=True)
        assert tuple(y.shape) == (1, 1)
        y.backward()
    assert_grad(xm, xt)


def test_backward_nonscalar_without_gradient_raises():
    xt, xm = _x()
    assert_raises_same(lambda: (xt * 2).backward(), lambda: (xm * 2).backward())


def test_backward_gradient_shape_mismatch_raises():
    xt, xm = _x()
    gt, gm = const(np.ones((4, 3), np.float32))
    assert_raises_same(lambda: (xt * 2).backward(gt), lambda: (xm * 2).backward(gm))


def test_backward_on_tensor_without_grad_raises():
    xt, xm = const(randn((3,)))
    assert_raises_same(lambda: xt.sum().backward(), lambda: xm.sum().backward())


def test_backward_twice_through_freed_graph_raises():
    xt, xm = _x()
    yt, ym = (xt * xt).sum(), (xm * xm).sum()  # MulBackward0 saves both operands
    yt.backward()
    ym.backward()
    assert_raises_same(lambda: yt.backward(), lambda: ym.backward())
    assert_grad(xm, xt)  # the failed call added nothing


def test_backward_twice_through_freed_graph_raises_for_function_that_saves_result():
    xt, xm = _x()
    yt, ym = xt.exp().sum(), xm.exp().sum()  # ExpBackward0 saves its result
    yt.backward()
    ym.backward()
    assert_raises_same(lambda: yt.backward(), lambda: ym.backward())


def test_backward_twice_without_saved_tensors_accumulates():
    # torch only complains when a *saved tensor* was freed; add/sum save none
    xt, xm = _x()
    for x in (xt, xm):
        y = (x + 1).sum()
        y.backward()
        y.backward()
    assert_grad(xm, xt)
    np.testing.assert_allclose(xt.grad.numpy(), 2 * np.ones((3, 4)))


def test_backward_retain_graph_twice_accumulates():
    xt, xm = _x()
    for x in (xt, xm):
        y = (x * x * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
    assert_grad(xm, xt)


def test_grad_accumulates_across_separate_graphs_and_into_existing_grad():
    xt, xm = _x()
    for x in (xt, xm):
        (x * x).sum().backward()
        (x.sin()).sum().backward()
    assert_grad(xm, xt)
    # zero_ in place, then accumulate again
    for x in (xt, xm):
        x.grad.zero_()
        (x * 3).sum().backward()
    assert_grad(xm, xt)
    # grad = None, then a fresh gradient
    for x in (xt, xm):
        x.grad = None
        (x * 5).sum().backward()
    assert_grad(xm, xt)


def test_grad_set_by_user_is_accumulated_into():
    xt, xm = _x()
    gt, gm = const(randn((3, 4), 9))
    xt.grad = gt.clone()
    xm.grad = gm.clone()
    for x in (xt, xm):
        (x * x).sum().backward()
    assert_grad(xm, xt)


def test_grad_of_leaf_does_not_require_grad_after_plain_backward():
    xt, xm = _x()
    for x in (xt, xm):
        (x * x).sum().backward()
    assert xm.grad.requires_grad == xt.grad.requires_grad == False  # noqa: E712
    assert xm.grad.grad_fn is None and xt.grad.grad_fn is None


def test_backward_create_graph_gives_differentiable_grad():
    xt, xm = _x()
    for x in (xt, xm):
        (x * x * x).sum().backward(create_graph=True)
    assert xm.grad.requires_grad == xt.grad.requires_grad
    assert (xm.grad.grad_fn is None) == (xt.grad.grad_fn is None)
    assert_grad(xm, xt)
    # second order through the grad that backward stored
    res = []
    for L, x in ((torch, xt), (mc, xm)):
        (g2,) = L.autograd.grad(x.grad.sum(), x)
        res.append(g2)
    assert_tensor(res[1], res[0], grad=True)


@pytest.mark.parametrize("a_shape,b_shape", [
    ((3, 1, 4), (5, 4)),
    ((1, 4), (3, 1)),
    ((), (2, 3)),
    ((1,), (2, 3)),
    ((2, 1, 3), (2, 4, 1)),
    ((4,), (2, 3, 4)),
], ids=str)
def test_broadcasting_reduces_grads_to_input_shapes(a_shape, b_shape):
    (at, am), (bt, bm) = leaves(randn(a_shape, 1), randn(b_shape, 2))
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    gt, gm = const(randn(out_shape, 3))
    for a, b, g in ((at, bt, gt), (am, bm, gm)):
        y = a * b + a - b / 2
        y.backward(g)
    assert tuple(am.grad.shape) == a_shape and tuple(bm.grad.shape) == b_shape
    assert_grad(am, at)
    assert_grad(bm, bt)


def test_broadcasting_with_python_scalar_and_zero_dim():
    (at, am), (st, sm) = leaves(randn((2, 3), 1), np.array(1.5, np.float32))
    for a, s in ((at, st), (am, sm)):
        ((a * s + 2.0) * s).sum().backward()
    assert tuple(sm.grad.shape) == ()
    assert_grad(am, at)
    assert_grad(sm, st)


def test_grad_dtype_follows_input_dtype():
    (at, am) = leaf(randn((3,), 1), dtype="float32")
    (bt, bm) = leaf(randn((3,), 2).astype(np.float64), dtype="float64")
    for a, b in ((at, bt), (am, bm)):
        y = a * b
        assert str(y.dtype).endswith("float64")
        y.sum().backward()
    assert_grad(am, at)  # float32 grad
    assert_grad(bm, bt)  # float64 grad


def test_fan_out_sums_gradients():
    xt, xm = _x()
    for x in (xt, xm):
        y = x * 2
        z = y * y + y.sin() * y + y  # y is used four times
        w = x + x  # and x twice more
        (z.sum() + w.sum()).backward()
    assert_grad(xm, xt)


def test_same_tensor_both_operands():
    xt, xm = _x()
    for x in (xt, xm):
        (x * x).sum().backward()
    assert_grad(xm, xt)


def test_detach_cuts_gradient():
    xt, xm = _x()
    for x in (xt, xm):
        (x * x.detach()).sum().backward()
    assert_grad(xm, xt)
    assert_same(xm.grad, xt.grad)
    np.testing.assert_allclose(xt.grad.numpy(), xt.detach().numpy())


def test_diamond_graph():
    (at, am), (bt, bm) = leaves(randn((4,), 1), randn((4,), 2))
    for a, b in ((at, bt), (am, bm)):
        c = a * b
        d = c.exp()
        e = c.sin()
        f = (d * e + c).sum()
        f.backward()
    assert_grad(am, at)
    assert_grad(bm, bt)


def test_backward_inputs_restricts_accumulation():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))
    for a, b in ((at, bt), (am, bm)):
        (a * b).sum().backward(inputs=[a])
    assert_grad(am, at)
    assert bt.grad is None and bm.grad is None
    # a single tensor is accepted too
    for a, b in ((at, bt), (am, bm)):
        (a * b * 2).sum().backward(inputs=b)
    assert_grad(am, at)
    assert_grad(bm, bt)


def test_backward_inputs_empty_list_raises():
    (at, am) = _x()
    assert_raises_same(lambda: (at * 2).sum().backward(inputs=[]),
                       lambda: (am * 2).sum().backward(inputs=[]))


def test_autograd_backward_several_roots():
    (at, am), (bt, bm) = leaves(randn((2, 3), 1), randn((2, 3), 2))
    (g1t, g1m), (g2t, g2m) = const(randn((2, 3), 3)), const(randn((3,), 4))
    for L, a, b, g1, g2 in ((torch, at, bt, g1t, g2t), (mc, am, bm, g1m, g2m)):
        y1 = a * b
        y2 = (a - b * b).sum(0)
        r = L.autograd.backward([y1, y2], [g1, g2])
        assert r is None
    assert_grad(am, at)
    assert_grad(bm, bt)


def test_autograd_backward_scalar_and_keyword_grad_tensors():
    (at, am) = _x()
    for L, a in ((torch, at), (mc, am)):
        L.autograd.backward((a * a).sum())
        L.autograd.backward(a * 2, grad_tensors=L.ones(3, 4))
    assert_grad(am, at)


def test_autograd_backward_inputs_keyword():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))
    for L, a, b in ((torch, at, bt), (mc, am, bm)):
        L.autograd.backward((a * b).sum(), inputs=[b])
    assert at.grad is None and am.grad is None
    assert_grad(bm, bt)


# ---------------------------------------------------------------- autograd.grad

def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    (at, am), (bt, bm) = leaves(randn((3, 4), 1), randn((4,), 2))
    res = []
    for L, a, b in ((torch, at, bt), (mc, am, bm)):
        r = L.autograd.grad((a * b).sum(), [a, b])
        assert isinstance(r, tuple) and len(r) == 2
        r1 = L.autograd.grad((a * b * 3).sum(), a)
        assert isinstance(r1, tuple) and len(r1) == 1
        res.append(r + r1)
        assert a.grad is None and b.grad is None
    for m, t in zip(res[1], res[0]):
        assert_tensor(m, t, grad=True)
        assert m.requires_grad == t.requires_grad == False  # noqa: E712


def test_grad_with_grad_outputs():
    (at, am) = _x()
    (gt, gm) = const(randn((3, 4), 7))
    rt = torch.autograd.grad(at.tanh(), at, grad_outputs=gt)[0]
    rm = mc.autograd.grad(am.tanh(), am, grad_outputs=gm)[0]
    assert_tensor(rm, rt, grad=True)
    rt = torch.autograd.grad([at.tanh(), at * 2], [at], grad_outputs=[gt, gt])[0]
    rm = mc.autograd.grad([am.tanh(), am * 2], [am], grad_outputs=[gm, gm])[0]
    assert_tensor(rm, rt, grad=True)


def test_grad_nonscalar_without_grad_outputs_raises():
    (at, am) = _x()
    assert_raises_same(lambda: torch.autograd.grad(at * 2, at), lambda: mc.autograd.grad(am * 2, am))


def test_grad_wrt_intermediate():
    (at, am) = _x()
    res = []
    for L, a in ((torch, at), (mc, am)):
        y = a * 2
        z = (y * y).sum()
        gy, ga = L.autograd.grad(z, [y, a])
        res.append((gy, ga))
    assert_tensor(res[1][0], res[0][0], grad=True)
    assert_tensor(res[1][1], res[0][1], grad=True)


def test_grad_input_not_requiring_grad_raises():
    (at, am) = _x()
    ct, cm = const(randn((3, 4), 3))
    assert_raises_same(lambda: torch.autograd.grad((at * ct).sum(), [at, ct]),
                       lambda: mc.autograd.grad((am * cm).sum(), [am, cm]))


def test_grad_output_not_requiring_grad_raises():
    (at, am) = _x()
    ct, cm = const(randn((3, 4), 3))
    assert_raises_same(lambda: torch.autograd.grad(ct.sum(), at), lambda: mc.autograd.grad(cm.sum(), am))


def test_grad_unused_input():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))
    # allow_unused=False (default) raises
    assert_raises_same(lambda: torch.autograd.grad((at * 2).sum(), [at, bt]),
                       lambda: mc.autograd.grad((am * 2).sum(), [am, bm]))
    msgs = []
    for L, a, b in ((torch, at, bt), (mc, am, bm)):
        with pytest.raises(RuntimeError) as e:
            L.autograd.grad((a * 2).sum(), [a, b])
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]  # torch names the unused input's index
    # allow_unused=True gives None for the unused one
    rt = torch.autograd.grad((at * 2).sum(), [at, bt], allow_unused=True)
    rm = mc.autograd.grad((am * 2).sum(), [am, bm], allow_unused=True)
    assert rt[1] is None and rm[1] is None
    assert_tensor(rm[0], rt[0], grad=True)
    # materialize_grads=True gives zeros (allow_unused defaults to it)
    rt = torch.autograd.grad((at * 2).sum(), [at, bt], materialize_grads=True)
    rm = mc.autograd.grad((am * 2).sum(), [am, bm], materialize_grads=True)
    assert_tensor(rm[1], rt[1], grad=True)
    assert_tensor(rm[0], rt[0], grad=True)
    rt = torch.autograd.grad((at * 2).sum(), [at, bt], allow_unused=True, materialize_grads=True)
    rm = mc.autograd.grad((am * 2).sum(), [am, bm], allow_unused=True, materialize_grads=True)
    assert_tensor(rm[1], rt[1], grad=True)


def test_grad_materialize_with_allow_unused_false_raises():
    (at, am), (bt, bm) = leaves(randn((3,), 1), randn((3,), 2))
    assert_raises_same(
        lambda: torch.autograd.grad((at * 2).sum(), [at, bt], allow_unused=False, materialize_grads=True),
        lambda: mc.autograd.grad((am * 2).sum(), [am, bm], allow_unused=False, materialize_grads=True))


def test_grad_retain_graph():
    (at, am) = _x()
    yt, ym = (at * at).sum(), (am * am).sum()
    r1t = torch.autograd.grad(yt, at, retain_graph=True)[0]
    r1m = mc.autograd.grad(ym, am, retain_graph=True)[0]
    r2t = torch.autograd.grad(yt, at)[0]
    r2m = mc.autograd.grad(ym, am)[0]
    assert_tensor(r1m, r1t, grad=True)
    assert_tensor(r2m, r2t, grad=True)
    assert_raises_same(lambda: torch.autograd.grad(yt, at), lambda: mc.autograd.grad(ym, am))


def test_grad_create_graph_second_and_third_derivative():
    (at, am) = leaf(randn((5,), 1))
    res = []
    for L, a in ((torch, at), (mc, am)):
        y = (a ** 4).sum()
        (g1,) = L.autograd.grad(y, a, create_graph=True)
        assert g1.requires_grad and g1.grad_fn is not None
        (g2,) = L.autograd.grad(g1.sum(), a, create_graph=True)
        (g3,) = L.autograd.grad(g2.sum(), a)
        assert not g3.requires_grad
        res.append((g1, g2, g3))
    for m, t in zip(res[1], res[0]):
        assert_tensor(m, t, grad=True)


def test_grad_create_graph_false_result_is_constant():
    (at, am) = _x()
    for L, a in ((torch, at), (mc, am)):
        (g,) = L.autograd.grad((a * a).sum(), a)
        assert not g.requires_grad and g.grad_fn is None and g.is_leaf


def test_grad_on_tensor_used_in_two_outputs():
    (at, am) = leaf(randn((4,), 1))
    res = []
    for L, a in ((torch, at), (mc, am)):
        y1 = a.exp().sum()
        y2 = (a * a).sum()
        res.append(L.autograd.grad([y1, y2], a)[0])
    assert_tensor(res[1], res[0], grad=True)


# ---------------------------------------------------------------- deep graphs

N_CHAIN = 100_000


def test_long_chain_backward_no_recursion_error():
    res = []
    for L in (torch, mc):
        x = L.ones(3, requires_grad=True)
        y = x
        for _ in range(N_CHAIN):
            y = y + 0
        y = y * 2
        y.sum().backward()
        res.append(x.grad)
        del y  # freeing the (already released) chain must not recurse either
    assert_tensor(res[1], res[0], grad=True)


def test_long_chain_freed_without_backward_no_recursion_error():
    limit = sys.getrecursionlimit()
    for L in (torch, mc):
        x = L.ones(2, requires_grad=True)
        y = x
        for _ in range(N_CHAIN):
            y = y * 1.0
        assert y.requires_grad
        del y  # tearing down a 100k-deep graph must not overflow the stack
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_implicit_seed_of_one_element_outputs(dtype, shape):
    """backward() without a gradient seeds ones of the output's dtype and shape (torch's ones_like): the leaf
    gradients equal torch's in dtype, shape and value, through a full sum's expand and a mean's division."""
    got = []
    for L in (torch, mc):
        x = L.from_numpy(np.arange(1.0, 7.0).reshape(2, 3)).to(getattr(L, dtype)).requires_grad_()
        y = ((x * x).sum() + x.mean()).reshape(shape)
        y.backward()
        got.append(x.grad)
    assert_same(got[1], got[0], rtol=1e-2 if dtype in ("float16", "bfloat16") else 1e-6)


def test_post_accumulate_grad_hooks():
    """hook(leaf) after .grad holds the backward's sum, in registration order, removable; an optimizer step in
    the hook (torch's fused-step idiom); torch's refusals."""
    results = []
    for L in (torch, mc):
        w = L.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = w.register_post_accumulate_grad_hook(lambda t: seen.append(("a", t.grad.tolist())))
        w.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.tolist())))
        (w * 3).sum().backward()
        h.remove()
        (w * w).sum().backward()
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([p], lr=0.5)

        def step(t):
            opt.step()
            opt.zero_grad()
        p.register_post_accumulate_grad_hook(step)
        (p * 4).sum().backward()
        errors = []
        for call in (lambda: L.ones(2).register_post_accumulate_grad_hook(lambda t: None),
                     lambda: (w * 2).register_post_accumulate_grad_hook(lambda t: None)):
            with pytest.raises(RuntimeError) as e:
                call()
            errors.append(str(e.value))
        v = L.tensor([1.0], requires_grad=True)
        v.register_post_accumulate_grad_hook(lambda t: 1)
        with pytest.raises(TypeError) as e:
            (v * 1).sum().backward()
        results.append((seen, p.tolist(), p.grad, errors, str(e.value)))
    assert results[1] == results[0]


def test_detect_anomaly_nan_check():
    """Anomaly detection's NaN check names the node whose backward made a NaN, as torch's; check_nan=False and
    the default (off) let it through; the state functions and the warning as torch's."""
    outcomes = []
    for L in (torch, mc):
        got = []
        x = L.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with L.autograd.detect_anomaly():
                with pytest.raises(RuntimeError) as e:
                    (x.sqrt() * 0).sum().backward()
                got.append(str(e.value))
                g, = L.autograd.grad((x * 2).sum(), x)
                got.append(g.tolist())
        got.append(any(str(m.message).startswith("Anomaly Detection has been enabled.") for m in w))
        got.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
        with L.autograd.set_detect_anomaly(True, check_nan=False):
            got.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
            (L.tensor([0.0], requires_grad=True).sqrt() * 0).sum().backward()
        (L.tensor([0.0], requires_grad=True).sqrt() * 0).sum().backward()  # off: no check
        outcomes.append(got)
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] == "Function 'SqrtBackward0' returned nan values in its 0th output."


def test_detect_anomaly_forward_traceback():
    """Note [Anomaly tracebacks]: in anomaly mode each node keeps the forward's traceback (metadata["traceback_"])
    and the failing check warns with it before raising, naming the user's forward line, as torch's; a node made
    before the mode was on warns that no forward information is available; outside the mode nodes keep none."""
    import inspect
    outcomes = []
    for L in (torch, mc):
        got = []
        x = L.tensor([0.0, 1.0], requires_grad=True)
        early = x.sqrt()  # recorded before anomaly mode
        plain = (x * 2).grad_fn
        got.append("traceback_" in plain.metadata)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with L.autograd.detect_anomaly():
                line = inspect.currentframe().f_lineno + 1
                y = x.sqrt()
                got.append(sorted(y.grad_fn.metadata))
                tb = y.grad_fn.metadata["traceback_"]
                got.append(type(tb) is list and f"line {line}," in tb[-1])
                for out in (y, early):
                    with pytest.raises(RuntimeError):
                        (out * 0).sum().backward()
        msgs = [str(m.message) for m in w if str(m.message).startswith("Error detected")]
        got.append(len(msgs))
        got.append(msgs[0].startswith("Error detected in SqrtBackward0. Traceback of forward call that caused the "
                                      "error:\n") and f"line {line}," in msgs[0])
        got.append(msgs[1].split(" (Triggered internally")[0])
        outcomes.append(got)
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][1] == ["traceback_"] and outcomes[0][2] and outcomes[0][4]
