"""torch.autocast (mlx_compat/amp/autocast_mode.py, Note [Autocast as a function mode]) against torch's CPU
autocast on the same inputs: the result dtype of each op family (lower precision, float32, promoted, untouched),
values, gradients reaching float32 parameters, nesting, the decorator, the state functions, custom_fwd/bwd, the
deprecated spellings and the warnings for unavailable devices and dtypes."""
import threading
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, torch

_rng = np.random.default_rng(0)
A = _rng.standard_normal((4, 4)).astype(np.float32)
B = _rng.standard_normal((4, 4)).astype(np.float32)
X4 = _rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
W4 = _rng.standard_normal((3, 2, 3, 3)).astype(np.float32)

CASES = {
    "@": lambda L, a, b: a @ b,
    "matmul": lambda L, a, b: L.matmul(a, b),
    "Tensor.mm": lambda L, a, b: a.mm(b),
    "bmm": lambda L, a, b: L.bmm(a[None], b[None]),
    "addmm": lambda L, a, b: L.addmm(a, a, b),
    "baddbmm": lambda L, a, b: L.baddbmm(a[None], a[None], b[None]),
    "linear": lambda L, a, b: L.nn.functional.linear(a, b),
    "conv2d": lambda L, a, b: L.nn.functional.conv2d(L.tensor(X4), L.tensor(W4)),
    "conv_transpose2d": lambda L, a, b: L.nn.functional.conv_transpose2d(L.tensor(X4), L.tensor(W4).transpose(0, 1)),
    "sdpa": lambda L, a, b: L.nn.functional.scaled_dot_product_attention(a[None], b[None], a[None]),
    "prelu": lambda L, a, b: L.nn.functional.prelu(a, L.tensor([0.25])),
    "einsum": lambda L, a, b: L.einsum("ij,jk->ik", a, b),
    "tensordot": lambda L, a, b: L.tensordot(a, b, 1),
    "inner": lambda L, a, b: L.inner(a, b),
    "multi_dot": lambda L, a, b: L.linalg.multi_dot([a, b, a]),
    "chain_matmul": lambda L, a, b: L.chain_matmul(a, b, a),
    "exp": lambda L, a, b: L.exp(a),
    "softmax bf16": lambda L, a, b: L.softmax(a.bfloat16(), -1),
    "sum bf16": lambda L, a, b: a.bfloat16().sum(),
    "layer_norm bf16": lambda L, a, b: L.nn.functional.layer_norm(a.bfloat16(), (4,)),
    "cross_entropy bf16": lambda L, a, b: L.nn.functional.cross_entropy(a.bfloat16(), L.tensor([0, 1, 2, 3])),
    "mse bf16": lambda L, a, b: L.nn.functional.mse_loss(a.bfloat16(), b),
    "nll bf16": lambda L, a, b: L.nn.functional.nll_loss(a.bfloat16(), L.tensor([0, 1, 2, 3])),
    "bce bf16": lambda L, a, b: L.nn.functional.binary_cross_entropy(a.sigmoid().bfloat16(), b.sigmoid()),
    "bce logits bf16": lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a.bfloat16(), b.sigmoid()),
    "cat mixed": lambda L, a, b: L.cat([a, b.bfloat16()]),
    "stack mixed": lambda L, a, b: L.stack([a.bfloat16(), b]),
    "index_copy mixed": lambda L, a, b: a.bfloat16().index_copy(0, L.tensor([0]), b[:1]),
    "add mixed": lambda L, a, b: a.bfloat16() + b,
    "gelu bf16": lambda L, a, b: L.nn.functional.gelu(a.bfloat16()),
    "batch_norm bf16": lambda L, a, b: L.nn.functional.batch_norm(a.bfloat16(), L.zeros(4), L.ones(4)),
    "embedding": lambda L, a, b: L.nn.functional.embedding(L.tensor([0, 2]), a),
    "cdist bf16": lambda L, a, b: L.cdist(a.bfloat16(), b.bfloat16()),
    "inverse bf16": lambda L, a, b: L.inverse(a.bfloat16() + 4 * L.eye(4)),
    "rfft bf16": lambda L, a, b: L.fft.rfft(a.bfloat16()),
    "pad reflect bf16": lambda L, a, b: L.nn.functional.pad(a.bfloat16()[None], (1, 1), mode="reflect"),
    "pad constant bf16": lambda L, a, b: L.nn.functional.pad(a.bfloat16()[None], (1, 1)),
    "float64 matmul": lambda L, a, b: a.double() @ b.double(),
    "int matmul": lambda L, a, b: L.ones(2, 2, dtype=L.int64) @ L.ones(2, 2, dtype=L.int64),
    "addcmul mixed": lambda L, a, b: L.addcmul(a.bfloat16(), a, b),
    "dot": lambda L, a, b: L.dot(a[0], b[0]),
    "pow bf16": lambda L, a, b: a.bfloat16() ** 2,
    "logsumexp bf16": lambda L, a, b: L.logsumexp(a.bfloat16(), 0),
    "prod bf16": lambda L, a, b: a.bfloat16().prod(),
    "quantile": lambda L, a, b: L.quantile(a, 0.5),
    "trace bf16": lambda L, a, b: a.bfloat16().trace(),
    "Linear": lambda L, a, b: _module(L, lambda: L.nn.Linear(4, 3))(a),
    "MultiheadAttention": lambda L, a, b: _module(L, lambda: L.nn.MultiheadAttention(4, 2))(
        a[:, None], a[:, None], a[:, None])[0],
    "LSTM": lambda L, a, b: _module(L, lambda: L.nn.LSTM(4, 3))(a[:, None])[0],
    "TransformerEncoderLayer": lambda L, a, b: _module(
        L, lambda: L.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0))(a[None]),
}


def _module(L, make):
    """A module with the same parameters on both sides (made outside the region, as a model is)."""
    with L.autocast("cpu", enabled=False):
        m = make()
        for i, p in enumerate(m.parameters()):
            p.data = L.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape)).astype(np.float32) * 0.3)
    return m


def _run(L, f):
    a, b = L.tensor(A), L.tensor(B)
    with L.autocast("cpu"):
        return f(L, a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_op_under_cpu_autocast_as_torch(name):
    theirs, ours = _run(torch, CASES[name]), _run(mc, CASES[name])
    assert str(ours.dtype) == str(theirs.dtype)
    tol = 1e-5 if theirs.dtype in (torch.float32, torch.float64, torch.int64) else 3e-2
    ours_np = ours.detach().to(mc.complex64 if ours.dtype.is_complex else mc.float64).numpy()
    theirs_np = theirs.detach().to(torch.complex64 if theirs.dtype.is_complex else torch.float64).numpy()
    np.testing.assert_allclose(ours_np, theirs_np, rtol=tol, atol=tol * 4)


def test_training_step_under_autocast():
    """bfloat16 products inside, float32 loss and float32 gradients on the float32 parameters, as torch's."""
    results = []
    for L in (torch, mc):
        model = _module(L, lambda: L.nn.Sequential(L.nn.Linear(4, 8), L.nn.GELU(), L.nn.Linear(8, 3)))
        x, y = L.tensor(A), L.tensor([0, 1, 2, 0])
        with L.autocast("cpu", dtype=L.bfloat16):
            logits = model(x)
            loss = L.nn.functional.cross_entropy(logits, y)
        loss.backward()
        assert logits.dtype == L.bfloat16 and loss.dtype == L.float32
        results.append((loss.detach(), [p.grad for p in model.parameters()]))
    (tl, tg), (ml, mg) = results
    assert_same(ml, tl, rtol=2e-2, atol=2e-2)
    for a, b in zip(mg, tg):
        assert a.dtype == mc.float32
        assert_same(a, b, rtol=5e-2, atol=2e-2)


def test_nesting_decorator_state_and_threads():
    for L in (torch, mc):
        assert not L.is_autocast_enabled("cpu") and L.get_autocast_dtype("cpu") == L.bfloat16
        assert L.get_autocast_dtype("cuda") == L.float16
        a = L.tensor(A)
        with L.autocast("cpu"):
            assert L.is_autocast_enabled("cpu") and not L.is_autocast_enabled()
            with L.autocast("cpu", enabled=False):
                assert not L.is_autocast_enabled("cpu")
                assert (a @ a).dtype == L.float32
            with L.autocast("cpu", dtype=L.float16):
                assert (a @ a).dtype == L.float16
            assert (a @ a).dtype == L.bfloat16
            seen = []
            t = threading.Thread(target=lambda: seen.append((a @ a).dtype))
            t.start()
            t.join()
            assert seen == [L.float32]  # the region is the thread's own, as torch's
        assert not L.is_autocast_enabled("cpu")

        @L.autocast("cpu")
        def f(x):
            return x @ x
        assert f(a).dtype == L.bfloat16 and (a @ a).dtype == L.float32


def _outcome(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = f()
            res = ("ok", r.fast_dtype is not None, r._enabled)
        except Exception as e:  # noqa: BLE001
            res = (type(e).__name__, str(e))
    return res, sorted((x.category.__name__, str(x.message)) for x in w)


@pytest.mark.parametrize("call", [
    lambda L: L.autocast("cpu", dtype=L.float32),
    lambda L: L.autocast("cpu", dtype=L.float64),
    lambda L: L.autocast(1),
    lambda L: L.autocast("cpu"),
    lambda L: L.autocast("cpu", enabled=False),
    lambda L: L.autocast("cuda") if not mc.cuda.is_available() else L.autocast("cpu"),
    lambda L: L.cpu.amp.autocast(),
    lambda L: L.cuda.amp.autocast() if not mc.cuda.is_available() else L.autocast("cpu"),
])
def test_construction_as_torch(call):
    assert _outcome(lambda: call(mc)) == _outcome(lambda: call(torch))


def test_custom_fwd_bwd():
    """cast_inputs: the forward sees its inputs in that dtype with autocast off; the backward runs in the forward's
    autocast state."""
    seen = {}
    for L in (torch, mc):
        class Mul(L.autograd.Function):
            @staticmethod
            @L.amp.custom_fwd(device_type="cpu", cast_inputs=L.float32)
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                seen[L.__name__, "fwd"] = ((x @ w).dtype, L.is_autocast_enabled("cpu"))
                return x @ w

            @staticmethod
            @L.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                seen[L.__name__, "bwd"] = L.is_autocast_enabled("cpu")
                return g @ w.t(), x.t() @ g

        x = L.tensor(A, requires_grad=True)
        with L.autocast("cpu"):
            y = Mul.apply(x.bfloat16(), L.tensor(B))
        y.sum().backward()
        seen[L.__name__, "out"] = (y.dtype, x.grad.dtype)
    assert str(seen["mlx_compat", "fwd"]) == str(seen["torch", "fwd"])
    assert seen["mlx_compat", "bwd"] == seen["torch", "bwd"]
    assert str(seen["mlx_compat", "out"]) == str(seen["torch", "out"])


def test_gpu_table_under_the_fake_gpu():
    """autocast('cuda') on 'cuda' tensors (the fake GPU: MLX's CPU with the GPU's bookkeeping) follows torch's CUDA
    lists: float16 products, float32 for softmax of half inputs, layer_norm, exp and the losses, gradients in the
    parameters' float32, CPU tensors untouched, binary_cross_entropy refused."""
    from helpers import fake_gpu_json

    got = fake_gpu_json("""
import json, mlx_compat as t
m = t.nn.Linear(4, 3).cuda()
x = t.randn(2, 4, device='cuda')
with t.autocast('cuda'):
    y = m(x)
    out = {'linear': y, 'softmax': t.softmax(y, -1), 'layer_norm': t.nn.functional.layer_norm(y, (3,)),
           'exp': t.exp(y), 'cross_entropy': t.nn.functional.cross_entropy(y, t.tensor([0, 1], device='cuda')),
           'relu': t.relu(y), 'cpu_matmul': x.cpu() @ x.cpu().t()}
    try:
        t.nn.functional.binary_cross_entropy(t.sigmoid(y), t.ones(2, 3, device='cuda'))
        refused = False
    except RuntimeError:
        refused = True
out['cross_entropy'].backward()
res = {k: str(v.dtype) for k, v in out.items()}
res.update(grad=str(m.weight.grad.dtype), refused=refused, enabled=t.is_autocast_enabled('cuda'))
print(json.dumps(res))
""")
    assert got == {"linear": "torch.float16", "softmax": "torch.float32", "layer_norm": "torch.float32",
                   "exp": "torch.float32", "cross_entropy": "torch.float32", "relu": "torch.float16",
                   "cpu_matmul": "torch.float32", "grad": "torch.float32", "refused": True, "enabled": False}


def _mlp(L):
    return _module(L, lambda: L.nn.Sequential(L.nn.Linear(4, 8), L.nn.GELU(), L.nn.LayerNorm(8), L.nn.Linear(8, 3)))


def test_compiled_model_under_autocast_as_torchs_eager():
    """Note [Compiled under autocast]: a compiled model called inside an autocast region is traced with the region
    active (its casts are in the graph) and keyed by the region's state, so inside and outside calls, alternated,
    each give torch's eager dtypes and values, and gradients reach the float32 parameters as torch's do."""
    theirs, ours = _mlp(torch), _mlp(mc)
    compiled = mc.compile(ours)
    for step in range(3):
        for L, m in ((torch, theirs), (mc, compiled)):
            x = L.tensor(A)
            with L.autocast("cpu"):
                inside = m(x)
                loss = inside.float().square().mean()
            loss.backward()
            outside = m(x)
            if L is torch:
                ref = (inside, outside, loss, [p.grad.clone() for p in theirs.parameters()])
            else:
                got = (inside, outside, loss, [p.grad.clone() for p in ours.parameters()])
        # values that went through bfloat16 products differ from torch's where its kernels round differently
        assert_same(got[0], ref[0])
        assert_same(got[1], ref[1])
        assert_same(got[2], ref[2], rtol=1e-2)
        for a, b in zip(got[3], ref[3]):
            assert_same(a, b, rtol=2e-2, atol=2e-2)
        theirs.zero_grad(), ours.zero_grad()
    # traced once inside the region and once outside, reused at every later step
    assert compiled._compiled_forward._compiled.compile_count == 2


def test_compiled_function_autocast_states():
    """Each region state (device type and dtype, a disabled region inside one) gets its own trace, and the result
    dtypes are torch's eager ones."""
    def f(L, a, b):
        return (a @ b).relu() + a.exp()

    cf = mc.compile(lambda a, b: f(mc, a, b))
    for _ in range(2):
        for dtype in (torch.bfloat16, torch.float16):
            got, ref = [], []
            for L, fn, out in ((mc, cf, got), (torch, lambda a, b: f(torch, a, b), ref)):
                a, b = L.tensor(A), L.tensor(B)
                with L.autocast("cpu", dtype=getattr(L, str(dtype).split(".")[1])):
                    out.append(fn(a, b))
                    with L.autocast("cpu", enabled=False):
                        out.append(fn(a, b))
                out.append(fn(a, b))
            for a, b in zip(got, ref):
                assert_same(a, b)


def test_compiled_function_under_another_mode_runs_eagerly():
    """A TorchFunctionMode other than autocast sees every op of a compiled function: it runs eagerly there."""
    seen = []

    class Spy(mc.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", None))
            return func(*args, **(kwargs or {}))

    cf = mc.compile(lambda a: a.exp() + 1)
    x = mc.tensor(A)
    cf(x), cf(x)
    with Spy():
        r = cf(x)
    assert "exp" in seen
    assert_same(r, torch.tensor(A).exp() + 1)
