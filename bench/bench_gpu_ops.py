"""Where a training step's time goes on the GPU: the dominant primitives of the suite's GPT-2-small (T256 b8) and
ResNet-18 (32px b128) training steps, each timed forward + backward in native MLX (`mx.value_and_grad`, then
`mx.eval`) and in torch CUDA (autograd, then `torch.cuda.synchronize()`), same shapes, float32 (TF32 allowed on both
sides, as in bench_suite.py). Each row also says how many times one training step runs that primitive, so
"count x ms" estimates its share of the step. mlx_compat is not involved: this measures MLX itself against torch,
to show which of MLX's kernels make the gap the suite reports and where a kernel of ours could help.

    python bench/bench_gpu_ops.py [--repeats 30] [--only gpt2|resnet18|optim]
"""
from __future__ import annotations

import argparse
import statistics
import time

import mlx.core as mx
import mlx.nn as mnn
import numpy as np


def _median_ms(fn, sync, repeats, warmup=3):
    for _ in range(warmup):
        sync(fn())
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sync(fn())
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def _mx_sync(r):
    mx.eval(r)


DEVICE = "cuda"  # --device cpu: a smoke run of this script on a machine without a GPU
SCALE = 1  # --scale: batch sizes divided by this


def _torch_sync(_):
    import torch
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _rand(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


class Case:
    """One primitive: `mlx(*arrays)` and `torch(*tensors)` compute the same scalar from the same inputs; fwd+bwd times
    the value and the gradients of every input."""

    def __init__(self, name, count, shapes, mlx_fn, torch_fn, int_inputs=()):
        self.name, self.count, self.shapes = name, count, shapes
        self.mlx_fn, self.torch_fn, self.int_inputs = mlx_fn, torch_fn, dict(int_inputs)

    def run(self, repeats):
        import torch
        dev = torch.device(DEVICE)
        ins = [_rand(s, i, 0.1) for i, s in enumerate(self.shapes)]
        extra = {k: v for k, v in self.int_inputs.items()}
        mi = [mx.array(a) for a in ins]
        me = {k: mx.array(v) for k, v in extra.items()}
        # a case may give torch its own layout (NCHW against MLX's NHWC): same sizes, so the same work
        tshapes = getattr(self, "torch_shapes", None)
        ti = [torch.tensor(_rand(s, i, 0.1) if tshapes else a, device=dev, requires_grad=True)
              for i, (s, a) in enumerate(zip(tshapes or self.shapes, ins))]
        te = {k: torch.tensor(v, device=dev) for k, v in extra.items()}
        argnums = list(range(len(mi)))
        vg = mx.value_and_grad(lambda *a: self.mlx_fn(*a, **me), argnums=argnums)
        fwd_m = _median_ms(lambda: self.mlx_fn(*mi, **me), _mx_sync, repeats)
        both_m = _median_ms(lambda: vg(*mi), _mx_sync, repeats)
        cvg = mx.compile(vg)
        both_mc = _median_ms(lambda: cvg(*mi), _mx_sync, repeats)

        def t_both():
            for t in ti:
                t.grad = None
            out = self.torch_fn(*ti, **te)
            out.backward()
            return out

        with torch.no_grad():
            fwd_t = _median_ms(lambda: self.torch_fn(*ti, **te), _torch_sync, repeats)
        both_t = _median_ms(t_both, _torch_sync, repeats)
        return fwd_m, both_m, both_mc, fwd_t, both_t


def gpt2_cases():
    import torch.nn.functional as F
    B, T, D, H, V = max(1, 8 // SCALE), 256, 768, 12, 50257
    N = B * T

    def lin(x, w):
        return (x @ w.T).sum()

    def tlin(x, w):
        return (x @ w.T).sum()

    def sdpa_m(q, k, v):
        return mx.fast.scaled_dot_product_attention(q, k, v, scale=(D // H) ** -0.5, mask="causal").sum()

    def sdpa_t(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True).sum()

    def ln_m(x, w, b):
        return mx.fast.layer_norm(x, w, b, 1e-5).sum()

    def ln_t(x, w, b):
        return F.layer_norm(x, (D,), w, b, 1e-5).sum()

    def gelu_m(x):
        return mnn.gelu_approx(x).sum()

    def gelu_t(x):
        return F.gelu(x, approximate="tanh").sum()

    def ce_m(x, w, y):
        return mnn.losses.cross_entropy(x @ w.T, y, reduction="mean")

    def ce_t(x, w, y):
        return F.cross_entropy(x @ w.T, y)

    y = np.random.default_rng(1).integers(0, V, size=(N,)).astype(np.int64)
    return [
        Case(f"linear qkv {N}x768 -> 2304", 12, [(N, D), (3 * D, D)], lin, tlin),
        Case(f"linear proj {N}x768 -> 768", 12, [(N, D), (D, D)], lin, tlin),
        Case(f"linear fc {N}x768 -> 3072", 12, [(N, D), (4 * D, D)], lin, tlin),
        Case(f"linear fc2 {N}x3072 -> 768", 12, [(N, 4 * D), (D, 4 * D)], lin, tlin),
        Case(f"causal SDPA ({B},12,256,64)", 12, [(B, H, T, D // H)] * 3, sdpa_m, sdpa_t),
        Case(f"layer_norm {N}x768", 25, [(N, D), (D,), (D,)], ln_m, ln_t),
        Case(f"gelu(tanh) {N}x3072", 12, [(N, 4 * D)], gelu_m, gelu_t),
        Case(f"lm head + cross_entropy {N}x768 @ 50257", 1, [(N, D), (V, D)], ce_m, ce_t, {"y": y}),
    ]


def resnet18_cases():
    import torch.nn.functional as F
    B = max(1, 128 // SCALE)

    def conv_m(stride):
        def f(x, w):  # NHWC / OHWI, MLX's layout
            return mx.conv2d(x, w, stride=stride, padding=1).sum()
        return f

    def conv_t(stride):
        def f(x, w):  # the same data read as NCHW / OIHW
            return F.conv2d(x, w, stride=stride, padding=1).sum()
        return f

    def bn_m(x, w, b):
        mean = x.mean(axis=(0, 1, 2))
        var = x.var(axis=(0, 1, 2))
        return (((x - mean) * mx.rsqrt(var + 1e-5)) * w + b).sum()

    def bn_t(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True).sum()

    cases = []
    for (c, hw, stride, n) in [(64, 32, 1, 4), (128, 16, 1, 3), (256, 8, 1, 3), (512, 4, 1, 3)]:
        cm, ct = conv_m(stride), conv_t(stride)
        name = f"conv3x3 {c}->{c} {hw}x{hw} b{B}"
        case = Case(name, n, [(B, hw, hw, c), (c, 3, 3, c)], cm, ct)
        # torch reads NCHW: give it the same numbers transposed (the values don't matter for time, the shapes do)
        case.torch_shapes = [(B, c, hw, hw), (c, c, 3, 3)]
        cases.append(case)
    bn = Case(f"batch_norm train {B}x64x32x32", 5, [(B, 32, 32, 64), (64,), (64,)], bn_m, bn_t)
    bn.torch_shapes = [(B, 64, 32, 32), (64,), (64,)]
    cases.append(bn)
    return cases


def optim_cases():
    """AdamW's update over GPT-2-small's parameter shapes (148 arrays, 124M values): MLX's optimizer vs torch's
    (foreach default), one step each, timed with its evaluation."""
    import torch
    import mlx.optimizers as mopt
    D, V, L = 768, 50257, 12
    shapes = [(V, D), (1024, D)]
    for _ in range(L):
        shapes += [(D,), (D,), (3 * D, D), (3 * D,), (D, D), (D,), (D,), (D,), (4 * D, D), (4 * D,), (D, 4 * D), (D,)]
    shapes += [(D,), (D,)]
    params = {str(i): mx.array(_rand(s, i, 0.02)) for i, s in enumerate(shapes)}
    grads = {k: mx.array(_rand(v.shape, 1000 + i, 0.01)) for i, (k, v) in enumerate(params.items())}
    opt = mopt.AdamW(learning_rate=1e-4, weight_decay=0.01)
    opt.init(params)
    state = {"p": params}

    def m_step():
        state["p"] = opt.apply_gradients(grads, state["p"])
        return state["p"], opt.state

    cstep_opt = mopt.AdamW(learning_rate=1e-4, weight_decay=0.01)
    cstep_opt.init(params)
    cstate = {"p": dict(params)}

    @mx.compile
    def _c(p, g, s):
        cstep_opt.state = s
        return cstep_opt.apply_gradients(g, p), cstep_opt.state

    def mc_step():
        cstate["p"], cstep_opt.state = _c(cstate["p"], grads, cstep_opt.state)
        return cstate["p"], cstep_opt.state

    tp = [torch.tensor(_rand(s, i, 0.02), device=DEVICE, requires_grad=True) for i, s in enumerate(shapes)]
    for i, p in enumerate(tp):
        p.grad = torch.tensor(_rand(tuple(p.shape), 1000 + i, 0.01), device=DEVICE)
    topt = torch.optim.AdamW(tp, lr=1e-4, weight_decay=0.01)
    t_ms = _median_ms(topt.step, _torch_sync, 30)
    tf = torch.optim.AdamW(tp, lr=1e-4, weight_decay=0.01, fused=True)
    tf_ms = _median_ms(tf.step, _torch_sync, 30)
    m_ms = _median_ms(m_step, _mx_sync, 30)
    try:
        mc_ms = _median_ms(mc_step, _mx_sync, 30)
    except Exception as e:  # noqa: BLE001 -- report, don't hide
        mc_ms = float("nan")
        print("compiled AdamW failed:", type(e).__name__, str(e)[:100])
    return m_ms, mc_ms, t_ms, tf_ms, len(shapes)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--only", nargs="+", default=["gpt2", "resnet18", "optim"])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--scale", type=int, default=1, help="divide batch sizes by this (smoke runs on a CPU)")
    args = p.parse_args()
    global DEVICE, SCALE
    DEVICE, SCALE = args.device, args.scale
    import torch
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    mx.set_default_device(mx.gpu if DEVICE == "cuda" else mx.cpu)
    name = torch.cuda.get_device_name() if DEVICE == "cuda" else "CPU"
    print(f"mlx {mx.__version__}, torch {torch.__version__}, {name}; median ms of "
          f"{args.repeats}; fwd+bwd = value and gradients of every input")
    print()
    print("| primitive | per step | MLX fwd | MLX fwd+bwd | MLX compiled fwd+bwd | torch fwd | torch fwd+bwd | "
          "MLX/torch fwd+bwd | est. ms per step MLX / torch |")
    print("|---|---|---|---|---|---|---|---|---|")
    groups = {"gpt2": gpt2_cases, "resnet18": resnet18_cases}
    for g in args.only:
        if g not in groups:
            continue
        for c in groups[g]():
            try:
                fm, bm, bmc, ft, bt = c.run(args.repeats)
            except Exception as e:  # noqa: BLE001 -- one failing row should not hide the others
                print(f"| {c.name} | {c.count} | failed: {type(e).__name__}: {str(e)[:80]} |")
                continue
            print(f"| {c.name} | {c.count} | {fm:.3f} | {bm:.3f} | {bmc:.3f} | {ft:.3f} | {bt:.3f} | "
                  f"{bm / bt:.2f}x | {c.count * bm:.2f} / {c.count * bt:.2f} |", flush=True)
    if "optim" in args.only:
        m_ms, mc_ms, t_ms, tf_ms, n = optim_cases()
        print()
        print(f"AdamW update of GPT-2-small's {n} parameters (124M values), ms: MLX optimizer {m_ms:.2f}, "
              f"MLX compiled {mc_ms:.2f}, torch foreach {t_ms:.2f}, torch fused {tf_ms:.2f}")


if __name__ == "__main__":
    main()
