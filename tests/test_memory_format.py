"""Memory formats (Note [Memory formats] in mlx_compat/_tensor.py) and the conversions swept beside them, against
torch: channels_last(_3d) strides from contiguous/clone/to/Module.to, is_contiguous(memory_format=) by torch's
rule, the gradient through a layout copy, and the refusals; Tensor.type(torch.LongTensor), requires_grad_'s
message, device == str, from_numpy's message; the legacy Tensor.new, pin_memory/is_pinned, share_memory_,
dim_order, apply_."""
import numpy as np
import pytest


from helpers import assert_same, mc, torch


def _raised(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return None


def _outcome(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    if hasattr(r, "stride"):
        return tuple(r.shape), r.stride(), r.detach().numpy().tolist()
    return repr(r).replace("mlx_compat", "torch")


@pytest.mark.parametrize("call", [
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last),
    lambda L: L.arange(36.).reshape(2, 2, 3, 3).contiguous(memory_format=L.channels_last).contiguous(),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.contiguous_format),
    lambda L: L.arange(6.).reshape(2, 3).contiguous(memory_format=L.preserve_format),
    lambda L: L.arange(6.).reshape(2, 3).contiguous(memory_format=L.channels_last),
    lambda L: L.ones(2, 3, 4).contiguous(memory_format=L.channels_last_3d),
    lambda L: L.ones(2, 3).contiguous(memory_format="channels_last"),
    lambda L: L.arange(36.).reshape(1, 2, 3, 3, 2).contiguous(memory_format=L.channels_last_3d),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).clone(memory_format=L.channels_last),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last).clone(),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last).clone(
        memory_format=L.contiguous_format),
    lambda L: L.arange(6.).reshape(2, 3).t().clone(memory_format=L.preserve_format),
    lambda L: L.ones(2, 3, 4).clone(memory_format=L.channels_last),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).to(memory_format=L.channels_last),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).to(L.float64, memory_format=L.channels_last),
    lambda L: L.ones(2, 3).to(memory_format=L.channels_last),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last).sum((0, 2)),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last).permute(0, 2, 3, 1),
    lambda L: L.arange(18.).reshape(1, 2, 3, 3).contiguous(memory_format=L.channels_last).view(-1),
    lambda L: [L.ones(*s).is_contiguous(memory_format=f) for s in ((1, 2, 3, 3), (2, 1, 3, 3), (2, 3), (1, 1, 1, 1))
               for f in (L.channels_last, L.contiguous_format, L.preserve_format)],
    lambda L: [L.ones(1, 2, 3, 3).contiguous(memory_format=L.channels_last).is_contiguous(memory_format=f)
               for f in (L.channels_last, L.contiguous_format, L.channels_last_3d)],
    lambda L: L.ones(1, 2, 3, 3).contiguous(memory_format=L.channels_last).is_contiguous(),
    lambda L: L.ones(2, 2, 3, 3, 2).contiguous(memory_format=L.channels_last_3d).is_contiguous(
        memory_format=L.channels_last_3d),
    lambda L: L.ones(2).is_contiguous(memory_format=1),
    lambda L: L.nn.Conv2d(2, 2, 3).to(memory_format=L.channels_last).weight.stride(),
    lambda L: L.nn.Conv2d(2, 2, 3).to(L.float64, memory_format=L.channels_last).weight.stride(),
    lambda L: L.nn.Linear(2, 2).to(memory_format=L.channels_last).weight.stride(),
    lambda L: L.ones(2).type(L.LongTensor),
    lambda L: L.ones(2).type(L.IntTensor).dtype,
    lambda L: L.ones(2, dtype=L.int64).requires_grad_(),
    lambda L: L.ones(2, dtype=L.int64).requires_grad_(False),
    lambda L: L.ones(2, dtype=L.int64, requires_grad=True),
    lambda L: (L.device("cpu") == "cpu", L.device("cpu") != "cpu", L.ones(1).device == L.device("cpu")),
    lambda L: L.ones(2, dtype=L.int32).new(),
    lambda L: L.ones(2, dtype=L.int32).new(2, 3).shape,
    lambda L: L.ones(2).new(L.Size([2, 3])).shape,
    lambda L: L.ones(2).new(L.Size([])).shape,
    lambda L: L.ones(2).new(()).shape,
    lambda L: L.ones(2).new([]).shape,
    lambda L: L.ones(2, dtype=L.int32).new([1.7, 2]),
    lambda L: L.ones(2).new(np.array([1, 2])),
    lambda L: _raised(lambda: L.ones(2).new(L.zeros(3, dtype=L.int64))),  # torch's words are its C++ options
    lambda L: L.ones(2).is_pinned(),
    lambda L: L.ones(2, 3, 4).permute(2, 0, 1).dim_order(),
    lambda L: L.ones(1, 2, 3, 3).contiguous(memory_format=L.channels_last).dim_order(),
    lambda L: L.arange(4.).apply_(lambda v: v * 2 + 1),
    lambda L: L.arange(4).apply_(lambda v: v * 3),
    lambda L: L.nn.Linear(2, 2).share_memory().weight.shape,
])
def test_as_torch(call):
    assert _outcome(lambda: call(mc)) == _outcome(lambda: call(torch))


def test_layout_copy_gradient_and_module_step():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    grads = []
    for L in (torch, mc):
        t = L.tensor(x, requires_grad=True)
        y = t.contiguous(memory_format=L.channels_last)
        (y * L.tensor(w)).sum().backward()
        grads.append(t.grad)
        assert y.grad_fn.name() == "CloneBackward0"
    assert_same(grads[1], grads[0])
    outs = []
    for L in (torch, mc):
        L.manual_seed(0)
        conv = L.nn.Conv2d(3, 2, 3)
        conv.weight.data = L.tensor(w[:2, :, :3, :3].copy())
        conv.bias.data = L.tensor([0.5, -0.25])
        conv.to(memory_format=L.channels_last)
        opt = L.optim.SGD(conv.parameters(), lr=0.1)
        out = conv(L.tensor(x).to(memory_format=L.channels_last))
        out.square().sum().backward()
        opt.step()
        assert conv.weight.stride() == (27, 1, 9, 3)
        outs.append((out.detach(), conv.weight.detach()))
    assert_same(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-5)
    assert_same(outs[1][1], outs[0][1], rtol=1e-5, atol=1e-5)
