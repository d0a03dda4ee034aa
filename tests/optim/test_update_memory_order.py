"""Convolution weights updated in their gradients' memory order on a GPU (Note [Parameters in their gradients' memory
order] in optim/optimizer.py): after an eager step a convolution's weight, its gradient and its optimizer state
hold O...I memory (MLX's convolution layout) behind torch's OI... shape, while every value stays torch's. There is
no GPU here: the GPU cases run in one subprocess under the package's fake GPU (Note [Fake GPU]: 'cuda' is MLX's
CPU with the GPU's bookkeeping), which reports values and memory orders (read from the arrays' buffer strides);
torch computes the same steps on its CPU. The CPU device keeps row-major weights, and a compiled step keeps the
row-major form of the update."""
import numpy as np
import pytest

from helpers import fake_gpu_json, mc, torch

# Built by both sides from one seed: the subprocess with mlx_compat on 'cuda', the test with torch.
_NETS = r"""
import numpy as np


def net(L, kind):
    nn = L.nn
    if kind == "2d":  # 3x3 convolutions (no bias before the batch norm, whose gradient would be rounding noise
        # that Adam's normalisation amplifies), a strided one, a dilated one (its gradient is no O...I view)
        return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                             nn.Conv2d(6, 4, 3, stride=2, padding=1),
                             nn.Conv2d(4, 4, 3, padding=2, dilation=2), nn.Flatten(), nn.Linear(64, 5))
    if kind == "1d":
        return nn.Sequential(nn.Conv1d(3, 5, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(40, 5))
    return nn.Sequential(nn.Conv3d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4 * 4, 5))


def data(kind):
    rng = np.random.default_rng(3)
    shape = {"2d": (4, 3, 8, 8), "1d": (4, 3, 8), "3d": (4, 2, 4, 4, 4)}[kind]
    return rng.standard_normal(shape).astype(np.float32), np.array([0, 1, 2, 4])


def weights(kind):
    rng = np.random.default_rng(11)
    import torch
    m = net(torch, kind)
    return {k: rng.standard_normal(tuple(v.shape)).astype(np.float32) * 0.3 if v.dtype == torch.float32
            else v.numpy() for k, v in m.state_dict().items()}


OPTIMIZERS = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2)),
    ("ASGD", dict(lr=1e-2)),
    ("Rprop", dict(lr=1e-2)),
]


def train(L, kind, opt_name, kw, dev, steps=3, accumulate=1, compiled=False):
    # `steps` steps of zero_grad, `accumulate` forward/backward passes, step; returns the model and optimizer
    m = net(L, kind)
    m.load_state_dict({k: L.from_numpy(v.copy()) for k, v in weights(kind).items()})
    m.to(dev)
    opt = getattr(L.optim, opt_name)(m.parameters(), **kw)
    x, y = data(kind)
    x, y = L.from_numpy(x).to(dev), L.from_numpy(y).to(dev)

    def step():
        opt.zero_grad()
        for _ in range(accumulate):
            L.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    fn = L.compile(step) if compiled else step
    for _ in range(steps):
        fn()
    return m, opt
"""

_SCRIPT = _NETS + r"""
import json
import mlx.core as mx
import mlx_compat as mc


def order(t):
    # the dims of t's MLX array from the outermost in memory to the innermost (its buffer's strides)
    a = t._mx
    mx.eval(a)
    st = memoryview(a).strides
    return sorted(range(len(st)), key=lambda i: -st[i])


def report(kind, opt_name, kw, **how):
    m, opt = train(mc, kind, opt_name, kw, "cuda", **how)
    params = dict(m.named_parameters())
    state = {name: {k: v.cpu().numpy().tolist() for k, v in opt.state[p].items() if isinstance(v, mc.Tensor)}
             for name, p in params.items()}
    orders = {name: {"param": order(p), "grad": order(p.grad),
                     **{k: order(v) for k, v in opt.state[p].items() if isinstance(v, mc.Tensor) and v.dim() > 0}}
              for name, p in params.items() if p.dim() > 2}
    return {"params": {k: v.detach().cpu().numpy().tolist() for k, v in m.state_dict().items()},
            "state": state, "orders": orders}


out = {"optimizers": [report("2d", n, kw) for n, kw in OPTIMIZERS],
       "ranks": {k: report(k, "SGD", dict(lr=0.1, momentum=0.9)) for k in ("1d", "3d")},
       "accumulated": report("2d", "SGD", dict(lr=0.1, momentum=0.9), accumulate=2),
       "compiled": report("2d", "SGD", dict(lr=0.1, momentum=0.9), compiled=True)}
print(json.dumps(out))
"""

_ns = {}
exec(compile(_NETS, "<nets>", "exec"), _ns)


@pytest.fixture(scope="module")
def gpu():
    return fake_gpu_json(_SCRIPT, timeout=600)


def _close(ours, theirs, msg):
    # float32 steps: 1e-5 relative, or 1e-6 of the array's scale (a state that cancels to near zero, RMSprop's)
    theirs = theirs.double().numpy()
    scale = max(1.0, float(np.abs(theirs).max())) if theirs.size else 1.0
    np.testing.assert_allclose(np.array(ours, dtype=np.float64), theirs, rtol=1e-5, atol=1e-6 * scale, err_msg=msg)


def _check(ours, kind, opt_name, kw, **how):
    m, opt = _ns["train"](torch, kind, opt_name, kw, "cpu", **how)
    for k, v in m.state_dict().items():
        _close(ours["params"][k], v, f"{opt_name} {k}")
    for name, p in m.named_parameters():
        for k, v in opt.state[p].items():
            if torch.is_tensor(v) and k in ours["state"][name]:
                _close(ours["state"][name][k], v, f"{opt_name} {name} {k}")


def _last(nd):
    return [0] + list(range(2, nd)) + [1]


@pytest.mark.parametrize("i", range(len(_ns["OPTIMIZERS"])))
def test_values_are_torchs(gpu, i):
    opt_name, kw = _ns["OPTIMIZERS"][i]
    _check(gpu["optimizers"][i], "2d", opt_name, kw)


@pytest.mark.parametrize("i", range(len(_ns["OPTIMIZERS"])))
def test_convolution_weights_and_state_hold_their_gradients_memory_order(gpu, i):
    orders = gpu["optimizers"][i]["orders"]
    for name in ("0.weight", "3.weight"):  # 3x3 convolutions: the gradient, parameter and state O...I
        assert all(o == _last(4) for o in orders[name].values()), (name, orders[name])
    # a dilated convolution's weight gradient is not an O...I view (MLX's vjp transposes another convolution's
    # result): the update keeps the parameter and its state row-major
    dilated = orders["4.weight"]
    assert dilated["grad"] != _last(4), dilated
    assert all(o == [0, 1, 2, 3] for k, o in dilated.items() if k != "grad"), dilated


@pytest.mark.parametrize("kind", ["1d", "3d"])
def test_other_ranks(gpu, kind):
    ours = gpu["ranks"][kind]
    _check(ours, kind, "SGD", dict(lr=0.1, momentum=0.9))
    nd = 3 if kind == "1d" else 5
    assert all(o == _last(nd) for o in ours["orders"]["0.weight"].values()), ours["orders"]


def test_accumulated_gradients(gpu):
    # two backward passes into .grad before each step: the sum keeps the memory order and torch's values
    ours = gpu["accumulated"]
    _check(ours, "2d", "SGD", dict(lr=0.1, momentum=0.9), accumulate=2)
    assert all(o == _last(4) for o in ours["orders"]["0.weight"].values())


def test_compiled_step_keeps_row_major_updates(gpu):
    ours = gpu["compiled"]
    _check(ours, "2d", "SGD", dict(lr=0.1, momentum=0.9))
    for name in ("0.weight", "3.weight"):
        assert ours["orders"][name]["param"] == [0, 1, 2, 3]
        assert ours["orders"][name]["momentum_buffer"] == [0, 1, 2, 3]


def test_cpu_weights_stay_row_major():
    import mlx.core as mx
    m, opt = _ns["train"](mc, "2d", "SGD", dict(lr=0.1, momentum=0.9), "cpu")
    for name in ("0.weight", "3.weight"):
        p = dict(m.named_parameters())[name]
        for t in (p, opt.state[p]["momentum_buffer"]):
            mx.eval(t._mx)
            st = memoryview(t._mx).strides
            assert list(st) == sorted(st, reverse=True), (name, st)
