"""Loops that build without reading stay bounded (Note [Bounded lazy graphs] in csrc/tensor.c): resident
memory stays flat and the first read stays fast over long `x += 1`, `x[:10] += 1`, `total += loss`, `x = x + 1`
and `total = total + loss` loops, with the values torch computes; neither bound splits a training step; and a
compiled function with a long loop inside still traces (no evaluation while MLX traces)."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

# Before the bound, 10^6 `x += 1` on 1000 floats held 1.5 GB (about 1.5 KB per pending write) and its first
# read took 10 s; 20,000 `x[:10] += 1` held 130 MB more and read in 4 s. The limits below are far under
# those growths and far over what the bound leaves (a few MB of allocator noise). Out-of-place chains are also
# checked structurally: no tensor left by the loop may carry a pending chain deeper than the bound (Note [Bounded
# lazy graphs]: at this depth the result is handed to mx.async_eval and its count restarts). The first read's
# time is printed, never asserted (speed is shown by benchmarks, not tests).
GROWTH_LIMIT_MB = 40
LAZY_DEPTH_BOUND = 4096

# Each loop runs in a fresh interpreter, once with torch and once with mlx_compat: resident memory freed by
# earlier tests would otherwise absorb the growth. It prints the growth after a warm-up, the first read's time
# and the value read.
_LOOP = """
import os, sys, time
import numpy as np
import {mod} as lib
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
{setup}
def step():
{step}
for _ in range({warmup}):
    step()
start = rss_mb()
for _ in range({n} - {warmup}):
    step()
grown = rss_mb() - start
depth = max([v._lazy_depth for v in list(globals().values()) if type(v).__name__ == "Tensor"
             and isinstance(getattr(v, "_lazy_depth", None), int)] or [0])
t0 = time.perf_counter()
value = {read}
dt = time.perf_counter() - t0
print("RESULT", grown, dt, depth, repr(value))
"""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_loop(mod, setup, step, read, n, warmup=3000):
    """(MB grown after the warm-up, seconds of the first read, the deepest pending chain of a tensor the loop left
    in its globals (0 for torch), the value read) of the loop in a fresh process."""
    code = _LOOP.format(mod=mod, setup=textwrap.dedent(setup), step=textwrap.indent(textwrap.dedent(step), "    "),
                        read=read, n=n, warmup=warmup)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")][-1].split(" ", 4)
    return float(line[1]), float(line[2]), int(line[3]), eval(line[4])  # noqa: S307 - our own repr of floats/lists


def check_flat(setup, step, read, n, warmup=3000, rtol=0.0):
    grown, dt, depth, value = run_loop("mlx_compat", setup, step, read, n, warmup)
    _, _, _, want = run_loop("torch", setup, step, read, n, warmup)
    np.testing.assert_allclose(value, want, rtol=rtol)
    assert grown < GROWTH_LIMIT_MB, f"{grown:.0f} MB more after {n} iterations"
    assert depth <= LAZY_DEPTH_BOUND, f"a pending chain {depth} deep (first read: {dt:.2f}s)"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="resident memory is read from /proc (Linux)")
class TestFlatMemory:
    def test_x_plus_equals_one(self):
        check_flat("x = lib.zeros(1000)", "global x\nx += 1", "x.sum().item()", n=200_000)

    def test_slice_plus_equals_one(self):
        check_flat("x = lib.zeros(1000)", "x[:10] += 1", "x.tolist()", n=20_000)

    def test_kept_view_written_in_a_loop(self):
        """A view kept across the loop grows a chain of its own (its cached value): both are bounded."""
        check_flat("x = lib.zeros(100)\nv = x[10:20]", "v.mul_(1.0)\nv.add_(1)", "v.tolist() + x.tolist()",
                   n=15_000, warmup=1500)

    _MODEL = """
        lib.manual_seed(0)
        m = lib.nn.Linear(16, 1)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32)[None]))
            m.bias.fill_(0.25)
        x = lib.tensor(np.cos(np.arange(128, dtype=np.float32)).reshape(8, 16))
        y = lib.tensor(np.sin(np.arange(8, dtype=np.float32)).reshape(8, 1))
        total = lib.zeros(())
        """

    def test_total_plus_equals_loss_without_grad(self):
        """An evaluation-style loop accumulating the loss."""
        step = """
            global total
            with lib.no_grad():
                loss = ((m(x) - y) ** 2).mean()
            total += loss
            """
        check_flat(self._MODEL, step, "total.item()", n=12_000, warmup=1500, rtol=1e-4)

    def test_total_plus_equals_loss_with_grad(self):
        """A training-style loop: backward every step (gradients accumulate in .grad, in place) and the
        detached loss accumulated."""
        step = """
            global total
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            total += loss.detach()
            """
        check_flat(self._MODEL, step, "[total.item()] + m.weight.grad.tolist()[0]", n=5_000, warmup=1000, rtol=1e-4)

    # Out-of-place chains: a result 4096 links (LAZY_DEPTH_BOUND) past its last evaluation is evaluated, so after
    # the warm-up the pending chain never exceeds 4096 links whatever the iteration count: 40,000 iterations
    # show what 10^6 would (measured: 3 MB grown, a 0.04 s read). Unbounded, 40,000 `x = x + 1` hold ~55 MB
    # (1.5 KB per link), over the limit.
    def test_x_equals_x_plus_one(self):
        check_flat("x = lib.zeros(1000)", "global x\nx = x + 1", "x.sum().item()", n=40_000)

    def test_mixed_out_of_place_chain(self):
        """Unary and binary registry ops, reflected operators, views and Python-level ops (clamp) all count."""
        check_flat("x = lib.zeros(1000)",
                   "global x\nx = lib.clamp((2 * lib.sin(x) + 1).view(-1) - x.abs() * 0.5, max=1e6)",
                   "x.sum().item()", n=15_000, warmup=2500, rtol=1e-4)

    def test_total_equals_total_plus_loss_without_grad(self):
        step = """
            global total
            with lib.no_grad():
                loss = ((m(x) - y) ** 2).mean()
            total = total + loss
            """
        check_flat(self._MODEL, step, "total.item()", n=12_000, warmup=2500, rtol=1e-4)

    def test_total_equals_total_plus_loss_with_grad(self):
        """With grad, `total` keeps every step's autograd graph alive, in torch too (its memory grows as torch's
        does), but MLX's pending chain stays bounded: the first read waits for at most 4096 steps' forwards
        (measured: ~1 s on the CPU backend), not for all 20,000 (unbounded: ~3.6 s)."""
        step = """
            global total
            loss = ((m(x) - y) ** 2).mean()
            total = total + loss
            """
        _, dt, depth, value = run_loop("mlx_compat", self._MODEL, step, "total.item()", n=20_000, warmup=1000)
        _, _, _, want = run_loop("torch", self._MODEL, step, "total.item()", n=20_000, warmup=1000)
        np.testing.assert_allclose(value, want, rtol=1e-4)
        assert depth <= LAZY_DEPTH_BOUND, f"total's pending chain is {depth} deep (first read: {dt:.2f}s)"


def test_values_across_the_bound_match_torch():
    """Reads before, at and after the async evaluation point see every write, through base and views."""
    x, ref = mc.arange(6.0), torch.arange(6.0)
    v, rv = x[2:4], ref[2:4]
    for i in range(3000):
        for a, b in ((x, v), (ref, rv)):
            a.mul_(1.0001)
            b.add_(0.5)
            a[0] = i
        if i in (1022, 1023, 1024, 2047, 2999):
            np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-5)
            np.testing.assert_allclose(v.numpy(), rv.numpy(), rtol=1e-5)
    assert x._version == ref._version


def test_out_of_place_values_across_the_depth_bound_match_torch():
    """Chains of operators, registry ops and views read right before, at and after the depth bound, and the
    counted depth never passes it."""
    bound = mc._C.LAZY_DEPTH_BOUND
    x, ref = mc.arange(6.0), torch.arange(6.0)
    for i in range(2 * bound + 10):
        x = (x * 1.0001).exp().log()[1:].view(-1, 1).view(-1) + 0.5 if i % 3 == 0 else -(-x - 0.25)
        ref = (ref * 1.0001).exp().log()[1:].view(-1, 1).view(-1) + 0.5 if i % 3 == 0 else -(-ref - 0.25)
        if i % 3 == 0:
            x, ref = mc.cat([x[:1], x]), torch.cat([ref[:1], ref])
        assert x._lazy_depth < bound
        if i in (bound - 2, bound - 1, bound, bound + 1, 2 * bound + 9):
            np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-4)


@pytest.mark.parametrize("name", ["fmod", "atan2", "hypot", "copysign", "fmax"])
def test_registry_binary_forward_chains_are_bounded(name):
    """Registry ops with their own MLX forward (dispatch.c's binary_forward) count depth like the operators."""
    bound = mc._C.LAZY_DEPTH_BOUND
    f, g = getattr(mc, name), getattr(torch, name)
    x, ref = mc.linspace(0.5, 2.0, 5), torch.linspace(0.5, 2.0, 5)
    c, rc = mc.tensor(1.5), torch.tensor(1.5)
    for _ in range(bound + 10):
        x, ref = f(x, c) + 0.001, g(ref, rc) + 0.001
        assert x._lazy_depth < bound
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-4, atol=1e-6)


def test_a_training_step_stays_far_under_the_depth_bound():
    """The premise of LAZY_DEPTH_BOUND: the depths counted over a 12-layer GPT-2 training step (every module's
    output, the loss and every gradient) stay far under the bound (measured over every result: 402; 1554 for 48
    layers), so a step is never cut."""
    from mlx_compat.models.gpt2 import GPT2LMHeadModel
    mc.manual_seed(0)
    m = GPT2LMHeadModel(dict(vocab_size=50, n_embd=16, n_layer=12, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0,
                             attn_pdrop=0.0))
    seen = []

    def hook(mod, inp, out):
        outs = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else (out,)
        seen.extend(o._lazy_depth for o in outs if isinstance(o, mc.Tensor))

    for mod in m.modules():
        mod.register_forward_hook(hook)
    opt = mc.optim.AdamW(m.parameters())
    ids = mc.randint(0, 50, (2, 8))
    for _ in range(2):
        logits = m(ids)["logits"]
        loss = mc.nn.functional.cross_entropy(logits.reshape(-1, 50), ids.reshape(-1))
        loss.backward()
        seen += [loss._lazy_depth] + [p.grad._lazy_depth for p in m.parameters() if p.grad is not None]
        opt.step()
        opt.zero_grad()
    assert len(seen) > 100
    assert 100 < max(seen) < mc._C.LAZY_DEPTH_BOUND // 4


def test_compiled_function_with_a_long_out_of_place_loop_still_traces():
    """Inside mx.compile the depth bound's async evaluation is refused and skipped: the loop traces whole."""
    n = 9000  # crosses the depth bound (4096) twice while tracing

    def f(x):
        for _ in range(n):
            x = x + 1
        return x * 2

    g = mc.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eager fallback warns
        out = g(mc.arange(4.0))
    assert g._compiled.fallback_reason is None
    np.testing.assert_allclose(out.numpy(), f(torch.arange(4.0)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_a_training_step_writes_each_storage_far_fewer_times_than_the_bound(opt_name):
    """The premise of the bound (1024 writes between evaluations of one storage): a training step with
    BatchNorm writes each parameter, buffer and optimizer state a handful of times (measured: once), so
    the bound never falls inside ordinary steps' graphs more than once per ~1000 steps."""
    nn = mc.nn
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10))
    kwargs = {"momentum": 0.9} if opt_name in ("SGD", "RMSprop") else {}
    opt = getattr(mc.optim, opt_name)(m.parameters(), lr=1e-3, **kwargs)
    x, y = mc.randn(4, 3, 8, 8), mc.randint(0, 10, (4,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()

    step()
    tensors = list(m.parameters()) + list(m.buffers())
    tensors += [v for s in opt.state.values() for v in s.values() if isinstance(v, mc.Tensor)]
    before = [t._version for t in tensors]
    step()
    writes = max(t._version - b for t, b in zip(tensors, before))
    assert 1 <= writes <= 4


def test_compiled_function_with_a_long_in_place_loop_still_traces():
    """Inside mx.compile MLX refuses evaluation; the bound's async evaluation is skipped there, so the whole
    loop is traced into one graph (not the eager fallback) and gives torch's values."""
    n = 3000  # crosses the bound (1024 writes) twice while tracing

    def f(x):
        y = x.clone()
        for _ in range(n):
            y += 1
            y[:2] *= 1.0
        return y * 2

    g = mc.compile(f)
    x = mc.arange(4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eager fallback warns
        out = g(x)
        out2 = g(x + 1)
    assert g._compiled.fallback_reason is None
    assert g._compiled.compile_count >= 1
    np.testing.assert_allclose(out.numpy(), f(torch.arange(4.0)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(out2.numpy(), f(torch.arange(4.0) + 1).numpy(), rtol=1e-6)


def test_mlx_transformations_see_no_evaluation():
    """Under mx.vjp / mx.vmap (graph transformations) MLX refuses async_eval too: the write loop stays a
    pure graph and the transformation's result is the math's."""
    import mlx.core as mx
    from mlx_compat._tensor import _new

    def fn(a):
        t = _new(a)  # a tensor over MLX's tracer
        for _ in range(1100):
            t += 0.5
        return t._mx

    (out,), (grad,) = mx.vjp(lambda a: (fn(a),), [mx.ones(3)], [mx.ones(3)])
    assert out.tolist() == [551.0] * 3
    assert grad.tolist() == [1.0] * 3
    assert mx.vmap(fn)(mx.ones((2, 3))).tolist() == [[551.0] * 3] * 2
