"""MLX's fused attention and layer-norm kernels on the GPU device (Note [fused attention path], Note [fused
layer_norm], Note [GPU arithmetic]) against torch's CPU results: values and gradients, float32 and bfloat16,
GPT-2's shapes (768 wide, 12 heads of 64). There is no GPU here: the cases run in one subprocess under the
package's fake GPU (Note [Fake GPU]: 'cuda' is MLX's CPU with the GPU's bookkeeping), where mx.fast's kernels
run their CPU fallbacks; the subprocess counts the calls into mx.fast, so each case also checks which path ran.
The real GPU runs the same comparisons in bench/gpu_check.py."""
import pytest

from helpers import fake_gpu_json

# both subprocess scripts count the calls into MLX's fused kernels, to check which path ran
_SPY = r'''
import mlx.core as mx

CALLS = {"sdpa": 0, "layer_norm": 0, "cross_entropy": 0}
_sdpa, _ln, _ce = mx.fast.scaled_dot_product_attention, mx.fast.layer_norm, mx.fast.cross_entropy


def sdpa(*a, **k):
    CALLS["sdpa"] += 1
    return _sdpa(*a, **k)


def layer_norm(*a, **k):
    CALLS["layer_norm"] += 1
    return _ln(*a, **k)


def cross_entropy(*a, **k):
    CALLS["cross_entropy"] += 1
    return _ce(*a, **k)


mx.fast.scaled_dot_product_attention, mx.fast.layer_norm, mx.fast.cross_entropy = sdpa, layer_norm, cross_entropy
'''

_SCRIPT = _SPY + r'''
import json, math, sys
import numpy as np

import torch
import mlx_compat as mc
from mlx_compat.autograd import _mlx_vjp
from mlx_compat.nn import _loss


def forget_compiled():
    _loss._gpu_ce_functions_cache.clear()
    _mlx_vjp._SEEN.clear()
    _mlx_vjp._COMPILED.clear()

TF, F = torch.nn.functional, mc.nn.functional
R = np.random.default_rng(0)
# in units of the tensor's scale (`worst`): float32, the kernels' own summation order (Note [GPU arithmetic]);
# bfloat16, about two rounding steps (bfloat16 keeps 8 bits)
TOL = {"float32": 1e-5, "bfloat16": 2 ** -6}
results = {}


def leaves(L, arrays, dt, device):
    return [L.from_numpy(a.copy()).to(device, getattr(L, dt)).requires_grad_() for a in arrays]


def worst(ours, ref):
    """max |ours - ref| / max(1, max |ref|): the error in units of the tensor's scale (a gradient summed over many
    rows can cancel to small elements, which an elementwise relative error would hold to the scale of the sum)."""
    a = ours.detach().to("cpu").float().numpy().astype(np.float64)
    b = ref.detach().float().numpy().astype(np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b)))) if a.size else 0.0


def case(name, dt, fn, arrays, extra=()):
    """fn(L, *tensors, *extra_L) -> one tensor in library L; records the worst error (`worst`) of value and
    gradients against torch's float32 computation on the same inputs rounded to dt (so a bfloat16 case measures our
    rounding, not torch's), and how many times each mx.fast kernel ran on our side."""
    rounded = [torch.from_numpy(x.copy()).to(getattr(torch, dt)).float().numpy() for x in arrays]
    t_in = leaves(torch, rounded, "float32", "cpu")
    t_out = fn(torch, *t_in, *[e(torch, "float32") for e in extra])
    cot = torch.from_numpy(R.standard_normal(tuple(t_out.shape)).astype(np.float32)).to(getattr(torch, dt)).float()
    t_g = torch.autograd.grad(t_out, t_in, cot)
    # no compiled function from an earlier case (Note [compiled GPU cross entropy], Note [Compiled when repeated]),
    # so that the spy sees which kernel each case takes: a compiled one replays without calling into mx.fast
    forget_compiled()
    before = dict(CALLS)
    m_in = leaves(mc, arrays, dt, "cuda")
    m_out = fn(mc, *m_in, *[e(mc, dt) for e in extra])
    m_g = mc.autograd.grad(m_out, m_in, mc.from_numpy(cot.numpy()).to("cuda", m_out.dtype))
    results[name] = dict(
        dtype=str(m_out.dtype), device=str(m_out.device), grad_devices=sorted({str(g.device) for g in m_g}),
        grad_dtypes=sorted({str(g.dtype) for g in m_g}),
        err=max([worst(m_out, t_out)] + [worst(a, b) for a, b in zip(m_g, t_g)]), tol=TOL[dt],
        calls={k: CALLS[k] - before[k] for k in CALLS})


def a(*shape, scale=1.0):
    return (R.standard_normal(shape) * scale).astype(np.float32)


def mask_of(L, S):
    m = R.random((L, S)) > 0.4
    m[1] = False  # a row with no key: torch's 0 and zero gradient (Note [fully masked attention rows])
    return m


for dt in ("float32", "bfloat16"):
    B, H, T, D = 2, 12, 32, 64
    qkv = [a(B, H, T, D) for _ in range(3)]
    case(f"sdpa none {dt}", dt, lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v), qkv)
    case(f"sdpa causal {dt}", dt,
         lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True), qkv)
    case(f"sdpa causal L<S {dt}", dt,
         lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
         [a(B, H, 8, D), a(B, H, T, D), a(B, H, T, D)])
    bm = mask_of(T, T)
    case(f"sdpa bool mask {dt}", dt,
         lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m), qkv,
         extra=[lambda L, d: L.from_numpy(bm).to("cuda" if L is mc else "cpu")])
    fm = np.where(mask_of(T, T), 0.0, -math.inf).astype(np.float32) + a(T, T) * 0.5
    case(f"sdpa float mask {dt}", dt,
         lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m), qkv,
         extra=[lambda L, d: L.from_numpy(fm).to("cuda" if L is mc else "cpu", getattr(L, d))])
    case(f"sdpa gqa {dt}", dt,
         lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
         [a(B, H, T, D), a(B, 4, T, D), a(B, 4, T, D)])
    # the composed path: dropout (the fused kernel has none) at p = 1 (every weight dropped: a known result)
    case(f"sdpa dropout {dt}", dt,
         lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=1.0) + q, qkv)
    x, w, b = a(4, 16, 768, scale=2.0) + 0.5, a(768), a(768)
    case(f"layer_norm 768 {dt}", dt, lambda L, x, w, b: L.nn.functional.layer_norm(x, (768,), w, b), [x, w, b])
    case(f"layer_norm 768 no affine {dt}", dt, lambda L, x: L.nn.functional.layer_norm(x, (768,)), [x])
    case(f"layer_norm (12, 64) {dt}", dt,
         lambda L, x, w, b: L.nn.functional.layer_norm(x, (12, 64), w, b),
         [x.reshape(4, 16, 12, 64), w.reshape(12, 64), b.reshape(12, 64)])
    # narrower rows with a gradient keep the composed path (Note [fused layer_norm])
    case(f"layer_norm 96 {dt}", dt, lambda L, x, w, b: L.nn.functional.layer_norm(x, (96,), w, b),
         [a(4, 5, 96), a(96), a(96)])
    # widths that are no multiple of 8, where MLX's CUDA vjp is wrong or faults, keep it too
    case(f"layer_norm 130 {dt}", dt, lambda L, x, w, b: L.nn.functional.layer_norm(x, (130,), w, b),
         [a(4, 5, 130), a(130), a(130)])

    # nn.MultiheadAttention (batch first, need_weights=False, causal) and the GPT-2 block's path, same weights
    def mha(L, x, wi, bi, wo, bo):
        return L.nn.functional.multi_head_attention_forward(
            x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), 768, 12, wi, bi, None, None, False, 0.0, wo, bo,
            training=True, need_weights=False, is_causal=True,
            attn_mask=(L.ones(T, T, dtype=L.bool, device=x.device).tril().logical_not()))[0]

    case(f"multi_head_attention {dt}", dt, mha,
         [a(B, T, 768), a(3 * 768, 768, scale=0.03), a(3 * 768), a(768, 768, scale=0.03), a(768)])

    # cross entropy of class indices (Note [fused cross entropy on the GPU]): rows ignored (-100) among them, and
    # every row ignored (a zero loss and gradient); the mean over every row ignored is NaN, checked apart
    tgt = R.integers(0, 50, 24)
    tgt[::5] = -100
    for red in ("mean", "sum", "none"):
        case(f"cross_entropy {red} {dt}", dt,
             lambda L, x, t, red=red: L.nn.functional.cross_entropy(x, t, reduction=red), [a(24, 50, scale=3.0)],
             extra=[lambda L, d: L.from_numpy(tgt).to("cuda" if L is mc else "cpu")])
    full = R.integers(0, 50, 24)  # no row ignored: the path without the mask
    for red in ("mean", "none"):
        case(f"cross_entropy {red} every row {dt}", dt,
             lambda L, x, t, red=red: L.nn.functional.cross_entropy(x, t, reduction=red), [a(24, 50, scale=3.0)],
             extra=[lambda L, d: L.from_numpy(full).to("cuda" if L is mc else "cpu")])
    case(f"cross_entropy sum ignored {dt}", dt,
         lambda L, x, t: L.nn.functional.cross_entropy(x, t, reduction="sum"), [a(24, 50)],
         extra=[lambda L, d: L.full((24,), -100, dtype=L.int64, device="cuda" if L is mc else "cpu")])
    # batch-first self-attention in eval mode without a gradient (Note [self-attention inference path]): on the GPU
    # the projections and the fused kernel are one MLX function
    tm = torch.nn.MultiheadAttention(768, 12, batch_first=True).eval()
    mm = mc.nn.MultiheadAttention(768, 12, batch_first=True)
    mm.load_state_dict({k: mc.from_numpy(v.detach().numpy()) for k, v in tm.state_dict().items()})
    mm = mm.to("cuda", getattr(mc, dt)).eval()
    xa = a(2, 40, 768)
    with torch.no_grad():
        ref = tm(*[torch.from_numpy(xa).to(getattr(torch, dt)).float()] * 3, need_weights=False)[0]
    before = dict(CALLS)
    with mc.no_grad():
        xm = mc.from_numpy(xa).to("cuda", getattr(mc, dt))
        out = mm(xm, xm, xm, need_weights=False)[0]
    results[f"self-attention inference {dt}"] = dict(
        dtype=str(out.dtype), device=str(out.device), err=worst(out, ref), tol=TOL[dt],
        calls={k: CALLS[k] - before[k] for k in CALLS}, grad_fn=out.grad_fn is None)
    # inference layer norm (nothing records a gradient): the kernel straight from the arguments, any width, the
    # normalized shape given as an int, a tuple or a list
    x, w, b = a(4, 16, 100, scale=2.0) + 0.5, a(100), a(100)
    ref = TF.layer_norm(*(torch.from_numpy(v).to(getattr(torch, dt)).float() for v in (x,)), (100,),
                        *(torch.from_numpy(v).to(getattr(torch, dt)).float() for v in (w, b)))
    for shape in (100, (100,), [100]):
        before = dict(CALLS)
        with mc.no_grad():
            out = F.layer_norm(mc.from_numpy(x).to("cuda", getattr(mc, dt)), shape,
                               *(mc.from_numpy(v).to("cuda", getattr(mc, dt)).requires_grad_() for v in (w, b)))
        results[f"layer_norm inference {shape} {dt}"] = dict(
            dtype=str(out.dtype), device=str(out.device), err=worst(out, ref), tol=TOL[dt],
            calls={k: CALLS[k] - before[k] for k in CALLS}, grad_fn=out.grad_fn is None)
    # a create_graph backward (a gradient penalty) differentiates the composed formula, at any order
    xd, td = a(6, 9), R.integers(0, 9, 6)
    dd = []
    for L, dev in ((torch, "cpu"), (mc, "cuda")) if dt == "float32" else ():
        xx = L.from_numpy(xd.copy()).to(dev).requires_grad_()
        g, = L.autograd.grad(L.nn.functional.cross_entropy(xx, L.from_numpy(td).to(dev)), xx, create_graph=True)
        (g ** 2).sum().backward()
        dd.append(xx.grad.to("cpu").numpy())
    if dd:
        results["cross_entropy double backward"] = float(np.abs(dd[0] - dd[1]).max())
    x = mc.from_numpy(a(24, 50)).to("cuda", getattr(mc, dt)).requires_grad_()
    loss = mc.nn.functional.cross_entropy(x, mc.full((24,), -100, dtype=mc.int64, device="cuda"))
    loss.backward()
    results[f"cross_entropy mean ignored {dt}"] = dict(loss=str(loss.item()), dtype=str(loss.dtype),
                                                       grad=float(x.grad.float().abs().max()))
    # repeated steps: the plain loss and backward, then compiled and traced once, then replayed (Note [compiled
    # GPU cross entropy]); another shape starts plain again
    xr = mc.from_numpy(np.random.default_rng(7).standard_normal((24, 50)).astype(np.float32))  # not R: the
    xr = xr.to("cuda", getattr(mc, dt)).requires_grad_()  # later cases keep their inputs
    forget_compiled()
    steps = []
    for _ in range(4):
        before = CALLS["cross_entropy"]
        mc.nn.functional.cross_entropy(xr, mc.from_numpy(full).to("cuda")).backward()
        steps.append(CALLS["cross_entropy"] - before)
    x9 = mc.from_numpy(np.ones((9, 50), np.float32)).to("cuda", getattr(mc, dt)).requires_grad_()
    before = CALLS["cross_entropy"]
    mc.nn.functional.cross_entropy(x9, mc.from_numpy(full[:9]).to("cuda")).backward()
    steps.append(CALLS["cross_entropy"] - before)
    results[f"cross_entropy repeated {dt}"] = steps

# a weight on another device than the input: torch's RuntimeError, with or without a gradient to record
errs = []
for grad in (False, True):
    w8 = mc.ones(8, requires_grad=grad)
    try:
        F.layer_norm(mc.ones(2, 8, device="cuda"), (8,), w8, mc.zeros(8))
        errs.append(None)
    except Exception as e:  # noqa: BLE001
        errs.append([type(e).__name__, str(e)])
results["layer_norm mixed devices"] = errs
try:  # and cross entropy's targets on the CPU for logits on the GPU
    F.cross_entropy(mc.ones(2, 8, device="cuda"), mc.tensor([1, 2]))
    results["cross_entropy mixed devices"] = None
except Exception as e:  # noqa: BLE001
    results["cross_entropy mixed devices"] = [type(e).__name__, str(e)]

results["_calls_total"] = dict(CALLS)
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def fake_gpu_results():
    return fake_gpu_json(_SCRIPT, timeout=600)


# (case stem, kernel it must take on our side: "sdpa" / "layer_norm", or None for the composed path)
_CASES = [
    ("sdpa none", "sdpa"), ("sdpa causal", "sdpa"), ("sdpa causal L<S", "sdpa"), ("sdpa bool mask", "sdpa"),
    ("sdpa float mask", "sdpa"), ("sdpa gqa", "sdpa"), ("sdpa dropout", None),
    ("layer_norm 768", "layer_norm"), ("layer_norm 768 no affine", "layer_norm"),
    ("layer_norm (12, 64)", "layer_norm"), ("layer_norm 96", None), ("layer_norm 130", None),
    ("multi_head_attention", "sdpa"), ("cross_entropy mean", "cross_entropy"),
    ("cross_entropy sum", "cross_entropy"), ("cross_entropy none", "cross_entropy"),
    ("cross_entropy sum ignored", "cross_entropy"), ("cross_entropy mean every row", "cross_entropy"),
    ("cross_entropy none every row", "cross_entropy"),
]


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
@pytest.mark.parametrize("stem,kernel", _CASES)
def test_fused_gpu_kernels_match_torch(fake_gpu_results, stem, kernel, dt):
    r = fake_gpu_results[f"{stem} {dt}"]
    if kernel == "sdpa" and dt == "float32":  # float32 attention trains on the composed path (Note [fused attention path])
        kernel = None
    assert r["dtype"] == f"torch.{dt}" and r["grad_dtypes"] == [f"torch.{dt}"]
    assert r["device"] == "cuda:0" and r["grad_devices"] == ["cuda:0"]
    assert r["err"] <= r["tol"], r
    for name, n in r["calls"].items():
        # each kernel once in the forward and once more in the backward's vjp (which re-traces the forward)
        assert (n >= 1) if name == kernel else n == 0, (name, r["calls"])


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", ["100", "(100,)", "[100]"])
def test_gpu_inference_layer_norm_takes_the_kernel(fake_gpu_results, shape, dt):
    """Under no_grad (weights that require grad included) layer_norm is the fused kernel at any width."""
    r = fake_gpu_results[f"layer_norm inference {shape} {dt}"]
    assert r["dtype"] == f"torch.{dt}" and r["device"] == "cuda:0" and r["grad_fn"]
    assert r["err"] <= r["tol"], r
    assert r["calls"] == {"sdpa": 0, "layer_norm": 1, "cross_entropy": 0}, r


def test_gpu_cross_entropy_double_backward(fake_gpu_results):
    assert fake_gpu_results["cross_entropy double backward"] < 1e-6


def test_weights_and_targets_on_another_device_raise(fake_gpu_results):
    msg = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    assert fake_gpu_results["layer_norm mixed devices"] == [["RuntimeError", msg]] * 2
    assert fake_gpu_results["cross_entropy mixed devices"] == ["RuntimeError", msg]


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
def test_gpu_self_attention_inference_takes_the_kernel(fake_gpu_results, dt):
    """nn.MultiheadAttention (batch first, eval, no gradient) on the GPU: torch's values through the fused kernel."""
    r = fake_gpu_results[f"self-attention inference {dt}"]
    assert r["dtype"] == f"torch.{dt}" and r["device"] == "cuda:0" and r["grad_fn"]
    assert r["err"] <= r["tol"], r
    assert r["calls"] == {"sdpa": 1, "layer_norm": 0, "cross_entropy": 0}, r


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
def test_gpu_cross_entropy_mean_of_ignored_rows_is_nan(fake_gpu_results, dt):
    """torch: the mean over rows that are all ignore_index is NaN, with a zero gradient (Note [fused cross entropy on
    the GPU])."""
    import torch

    x = torch.randn(24, 50, dtype=getattr(torch, dt), requires_grad=True)
    ref = torch.nn.functional.cross_entropy(x, torch.full((24,), -100))
    ref.backward()
    r = fake_gpu_results[f"cross_entropy mean ignored {dt}"]
    assert r["loss"] == str(ref.item()) == "nan" and r["dtype"] == str(ref.dtype)
    assert r["grad"] == float(x.grad.float().abs().max()) == 0.0


_GPT2_SCRIPT = _SPY + r'''
import copy, json, sys
import numpy as np

import mlx_compat as mc
from mlx_compat.models.gpt2 import GPT2LMHeadModel

mc.manual_seed(0)
cpu = GPT2LMHeadModel(dict(vocab_size=96, n_embd=768, n_layer=2, n_head=12, n_positions=32, resid_pdrop=0.0,
                           embd_pdrop=0.0, attn_pdrop=0.0))
with mc.no_grad():  # GPT-2's initial scale (N(0, 0.02)) for the embeddings: logits of order one, a tame loss
    for emb in (cpu.transformer.wte, cpu.transformer.wpe):
        emb.weight.mul_(0.02)
dt = getattr(mc, sys.argv[1])
cpu.to(dt)
gpu = copy.deepcopy(cpu).to("cuda")
# Module.to between devices makes one new Parameter per module attribute (Note [Module device moves]), so the tie
# of lm_head to wte does not survive the move (torch keeps it); tied again here, as the CPU model is
gpu.lm_head.weight = gpu.transformer.wte.weight
ids = np.random.default_rng(0).integers(0, 96, (2, 16))
out = {}


def step(m, device):
    x = mc.from_numpy(ids).to(device)
    loss = m(x, labels=x)["loss"]
    m.zero_grad()
    loss.backward()
    return loss, {n: p.grad for n, p in m.named_parameters()}


l_c, g_c = step(cpu, "cpu")
before = dict(CALLS)
l_g, g_g = step(gpu, "cuda")
out["calls"] = {k: CALLS[k] - before[k] for k in CALLS}
out["loss"] = abs(l_c.item() - l_g.item())
out["grad"] = max(float((g_c[n] - g_g[n].cpu()).float().abs().max()) / max(1.0, float(g_c[n].float().abs().max()))
                  for n in g_c)
out["grad_devices"] = sorted({str(g.device) for g in g_g.values()})

# the compiled AdamW step takes the same kernels and leaves the same parameters as the eager one
models = [copy.deepcopy(gpu), copy.deepcopy(gpu)]
opts = [mc.optim.AdamW(m.parameters(), lr=1e-3) for m in models]


def make(m, opt):
    def train_step(x):
        opt.zero_grad()
        loss = m(x, labels=x)["loss"]
        loss.backward()
        opt.step()
        return loss
    return train_step


x = mc.from_numpy(ids).to("cuda")
eager, compiled = make(models[0], opts[0]), mc.compile(make(models[1], opts[1]), fullgraph=True)
before = dict(CALLS)
for _ in range(2):
    le, lc = eager(x), compiled(x)
out["compiled_calls"] = {k: CALLS[k] - before[k] for k in CALLS}
out["compiled_loss"] = abs(le.item() - lc.item())
out["compiled_params"] = max(float((a - b).float().abs().max())
                             for a, b in zip(models[0].parameters(), models[1].parameters()))
print(json.dumps(out))
'''


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
def test_gpt2_step_on_the_gpu_takes_the_fused_kernels(dt):
    """A GPT-2 block stack (768 wide, 12 heads) on the fake GPU: loss and every gradient as on the CPU (whose path
    is torch's arithmetic), every layer norm (and in bfloat16 every attention) through mx.fast, eager and compiled."""
    out = fake_gpu_json(_GPT2_SCRIPT, dt, timeout=600)
    # 2 blocks: 5 layer norms and 2 attentions forward, each differentiated again by the backward's vjp; float32
    # attention trains on the composed path (Note [fused attention path]). The layer norms' vjp is compiled from
    # a shape's second backward on (Note [Compiled when repeated]): its third to fifth replay without a call
    calls = dict(out["calls"])
    assert 5 < calls.pop("layer_norm") < 10, out
    assert calls == {"sdpa": 4 if dt == "bfloat16" else 0, "cross_entropy": 2}, out
    assert out["compiled_calls"]["layer_norm"] >= 10, out
    assert (out["compiled_calls"]["sdpa"] >= 4) if dt == "bfloat16" else out["compiled_calls"]["sdpa"] == 0, out
    assert out["grad_devices"] == ["cuda:0"], out
    tol = 1e-5 if dt == "float32" else 2 ** -5  # bfloat16: the fused kernels round once where the CPU rounds twice
    assert out["loss"] < tol * 5 and out["grad"] < tol, out
    assert out["compiled_loss"] < tol * 5 and out["compiled_params"] < tol, out


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
def test_gpu_cross_entropy_repeated_steps_replay(fake_gpu_results, dt):
    """Identical steps: the first runs the plain functions (the kernel called forward and in the backward's vjp),
    the second compiles and traces them, later ones replay without calling the kernel from Python (each backward
    traced the loss again through mx.vjp before); a new shape takes the plain functions again."""
    steps = fake_gpu_results[f"cross_entropy repeated {dt}"]
    assert steps[0] >= 2 and steps[1] >= 1 and steps[2:4] == [0, 0] and steps[4] >= 2, steps
