"""GPU smoke check (run on a machine with MLX's GPU backend): each case runs on the CPU and on the GPU through
mlx_compat, and the GPU's outputs and input gradients must match the CPU's (float32, rtol = atol = 1e-4, or
TF32_TOL for cases whose GPU path goes through MLX's float32 matmul/conv: on MLX 0.32's CUDA backend those run at
TF32-like precision, 3e-4 relative on a 64x64 matmul where torch's default CUDA matmul keeps float32).
Prints one line per failure and a summary; exits 1 if any case fails. Not part of `make test` (CI has no GPU).

A second set, TORCH_CASES, runs on the GPU only and compares with torch on its CUDA device (torch's CPU where torch
has no CUDA, as under the fake GPU): MLX's fused kernels that the GPU device takes (Note [fused attention path],
Note [fused layer_norm]) at GPT-2's widths, float32 and bfloat16, forward and gradients, error in units of each
tensor's scale. Last, a probe (printed, never failing) of mx.fast.layer_norm's own vjp against the composition
at several row widths, to place Note [fused layer_norm]'s width threshold.

    python bench/gpu_check.py [--no-cpu-cases]   (the second: only the cases against torch and the optimizers)
"""
from __future__ import annotations

import sys
import traceback

import numpy as np

import mlx_compat as mc

F = mc.nn.functional
R = np.random.default_rng(0)


def _repeated(step, inputs):
    """step()'s result after two backwards through it, so that the one the check runs is the third."""
    for _ in range(2):
        mc.autograd.grad(step().sum(), inputs)
    return step()


def a(*shape, lo=None):
    x = R.standard_normal(shape).astype(np.float32)
    return np.abs(x) + lo if lo is not None else x


def i(hi, *shape):
    return R.integers(0, hi, size=shape).astype(np.int64)


TF32_TOL = 5e-3
TF32_CASES = {"linalg.solvers", "conv", "conv block", "conv 1x1 rows", "compiled backwards",
              "conv_transpose", "scatter/misc"}

# (name, fn(*tensors), arrays, indices of the arrays that require grad)
CASES = [
    ("elementwise", lambda x, y: (x.sin() * y.exp()).atan2(y.abs() + 1), [a(4, 5), a(4, 5)], (0, 1)),
    ("special.gamma", lambda x: mc.lgamma(x) + mc.digamma(x) + mc.polygamma(1, x), [a(6, lo=0.5)], (0,)),
    ("special.bessel", lambda x: mc.special.bessel_j0(x) + mc.special.modified_bessel_k1(x), [a(6, lo=0.5)], ()),
    ("special.poly", lambda x: mc.special.chebyshev_polynomial_t(x, 3), [a(6)], ()),
    ("reductions", lambda x: (x.logsumexp(1), x.amax(0), x.median(1).values, x.cumsum(1)), [a(4, 5)], (0,)),
    ("sort/topk", lambda x: (x.sort(1).values, x.topk(2, 1).values), [a(4, 5)], (0,)),
    ("linalg", lambda x: (mc.linalg.inv(x @ x.mT + 3 * mc.eye(4, device=x.device)), mc.linalg.det(x)),
     [a(4, 4)], (0,)),
    ("linalg.solvers", lambda x, b: mc.linalg.lu_solve(*mc.linalg.lu_factor(x), b),
     [a(4, 4) + 4 * np.eye(4, dtype=np.float32), a(4, 2)], (0, 1)),
    ("matrix_exp", lambda x: mc.matrix_exp(x * 0.3), [a(3, 3)], (0,)),
    ("fft", lambda x: (mc.fft.rfft(x).abs(), mc.fft.irfft(mc.fft.fft(x).real.to(mc.complex64))), [a(2, 8)], (0,)),
    ("view_as_real", lambda x: mc.view_as_real(mc.fft.fft(x)) * 2, [a(2, 8)], (0,)),
    ("activations", lambda x: F.elu(x) + F.mish(x) + F.hardswish(x) + F.softplus(x) + F.glu(x, -1).sum(),
     [a(4, 6)], (0,)),
    ("softmax", lambda x: (F.softmax(x, -1), F.log_softmax(x, 0)), [a(4, 6)], (0,)),
    ("losses", lambda x, t, y: (F.cross_entropy(x, t, label_smoothing=0.1), F.mse_loss(x, y), F.huber_loss(x, y),
                                F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction="batchmean")),
     [a(4, 5), i(5, 4), a(4, 5)], (0, 2)),
    ("ctc_loss", lambda lp, t: F.ctc_loss(F.log_softmax(lp, 2), t, [6, 6], [3, 2]),
     [a(6, 2, 4), np.array([[1, 2, 3], [2, 3, 0]])], (0,)),
    ("conv", lambda x, w: F.conv2d(x, w, padding=1), [a(1, 2, 5, 5), a(3, 2, 3, 3)], (0, 1)),
    # conv -> batch norm (training) -> relu twice, and a residual add: Note [Channels-last gradients]'s N...C path
    ("conv block", lambda x, w1, w2, g, b: F.relu(x + F.batch_norm(F.conv2d(F.relu(F.batch_norm(
        F.conv2d(x, w1, padding=1), None, None, g, b, training=True)), w2, padding=1), None, None, g, b,
        training=True)), [a(2, 4, 6, 6), a(4, 4, 3, 3), a(4, 4, 3, 3), a(4), a(4)], (0, 1, 2, 3, 4)),
    # a strided 1x1 convolution of a convolution's output: the rows product with its own backward on a GPU
    ("conv 1x1 rows", lambda x, w0, wd: F.conv2d(F.conv2d(x, w0, padding=1), wd, stride=2),
     [a(2, 4, 7, 6), a(4, 4, 3, 3), a(5, 4, 1, 1)], (0, 1, 2)),
    # the third backward of a conv -> max pool: the compiled convolution vjp and max-pool backward (Note [Compiled
    # when repeated] in autograd/_mlx_vjp.py), the pool channels-last (8 channels)
    ("compiled backwards",
     lambda x, w: _repeated(lambda: F.max_pool2d(F.conv2d(x, w, padding=1), 3, 2, 1), [x, w]),
     [a(2, 8, 8, 8), a(8, 8, 3, 3)], (0, 1)),
    # an in-place write to a view: the base's CopySlices backward (its mask lives on the base's device)
    ("in-place view write", lambda x: (lambda y: (y[:, 1:].mul_(2).relu_(), y)[1])(x * 1), [a(3, 4)], (0,)),
    ("conv_transpose", lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1), [a(1, 2, 4, 4), a(2, 3, 3, 3)],
     (0, 1)),
    ("pools", lambda x: (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 1, 1), F.adaptive_max_pool2d(x, 3),
                         F.lp_pool2d(x, 2, 2)), [a(1, 2, 6, 6)], (0,)),
    ("unfold/fold", lambda x: F.fold(F.unfold(x, 2), (6, 6), 2), [a(1, 2, 6, 6)], (0,)),
    ("interpolate", lambda x: (F.interpolate(x, scale_factor=2, mode="bilinear"),
                               F.interpolate(x, size=(3, 5), mode="bicubic", align_corners=True),
                               F.interpolate(x, size=(3, 3), mode="area")), [a(1, 2, 6, 6)], (0,)),
    ("grid_sample", lambda x, g: F.grid_sample(x, g.tanh(), align_corners=False), [a(1, 2, 5, 5), a(1, 3, 4, 2)],
     (0, 1)),
    ("norms", lambda x, w: (F.layer_norm(x, (6,), w), F.group_norm(x.reshape(2, 4, 3), 2), F.rms_norm(x, (6,))),
     [a(4, 6), a(6)], (0, 1)),
    ("layer_norm inference", lambda x, w: F.layer_norm(x, (6,), w), [a(4, 6), a(6)], ()),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), [a(4, 3, 5)], (0,)),
    ("sdpa", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     [a(1, 2, 4, 8), a(1, 2, 4, 8), a(1, 2, 4, 8)], (0, 1, 2)),
    ("embedding_bag", lambda w, idx: F.embedding_bag(idx, w, mc.tensor([0, 2], device=w.device), mode="mean"),
     [a(6, 3), np.array([1, 2, 4, 5, 0])], (0,)),
    ("pad", lambda x: (F.pad(x, (1, 2, 2, 1), mode="reflect"), F.pad(x, (-1, 2, 0, 1), mode="circular")),
     [a(1, 2, 4, 4)], (0,)),
    ("indexing", lambda x, idx: (x[idx], x.index_select(0, idx), x.gather(1, idx[:, None].expand(-1, 2) % 5)),
     [a(5, 5), np.array([4, 0, 2])], (0,)),
    ("scatter/misc", lambda x, y: (mc.diff(x, dim=1), mc.cov(x), mc.diagonal_scatter(x, y[0]), mc.trapezoid(x)),
     [a(5, 5), a(5, 5)], (0, 1)),
    ("masked", lambda x, m: (mc.masked.sum(x, 1, mask=m), mc.masked.softmax(x, 1, mask=m)),
     [a(3, 4), R.random((3, 4)) > 0.3], (0,)),
    ("view(dtype)", lambda x: x.view(mc.int32).float(), [a(3, 4)], ()),
    ("view(dtype) write", lambda x: (x.clone().view(mc.int32).fill_(1065353216), x), [a(3, 4)], ()),
    ("gcd/lcm", lambda p, q: (mc.gcd(p, q).float(), mc.lcm(p, q).float()), [i(1000, 50) - 500, i(1000, 50) - 500],
     ()),
    ("frexp", lambda x: (mc.frexp(x * 1e5).mantissa, mc.frexp(x).exponent.float()), [a(40)], (0,)),
    ("bessel J/Y", lambda x: (mc.special.bessel_j0(x * 10), mc.special.bessel_y1(x * 10 + 0.1)), [a(50, lo=0.01)], ()),
]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run_case(fn, arrays, grad_idx, device):
    ts = []
    for k, arr in enumerate(arrays):
        t = mc.from_numpy(np.array(arr)).to(device)
        if k in grad_idx:
            t.requires_grad_()
        ts.append(t)
    outs = _flat(fn(*ts))
    vals = [o.detach().to("cpu").numpy().astype(np.float64) if o.dtype is not mc.complex64 else
            o.detach().to("cpu").numpy() for o in outs]
    grads = []
    if grad_idx:
        loss = sum((o.float() if o.dtype is not mc.complex64 else o.abs()).sum() for o in outs
                   if o.requires_grad)
        if isinstance(loss, mc.Tensor):
            gs = mc.autograd.grad(loss, [ts[k] for k in grad_idx], allow_unused=True, materialize_grads=True)
            grads = [g.to("cpu").numpy() for g in gs]
    return vals, grads


def _g(*shape, scale=1.0, shift=0.0):
    return (R.standard_normal(shape) * scale + shift).astype(np.float32)


# (name, fn(L, *tensors) in library L, arrays, extra(L, device, dtype) -> extra non-differentiable arguments)
_MASK = R.random((64, 64)) > 0.3
_TARGETS = R.integers(0, 8192, 512)
TORCH_CASES = [
    ("layer_norm 768", lambda L, x, w, b: L.nn.functional.layer_norm(x, (768,), w, b),
     [_g(8, 64, 768, scale=2.0, shift=0.5), _g(768), _g(768)], None),
    ("layer_norm 768 no affine", lambda L, x: L.nn.functional.layer_norm(x, (768,)), [_g(8, 64, 768, scale=2.0)],
     None),
    ("sdpa causal (GPT-2 heads)", lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True), [_g(2, 12, 256, 64) for _ in range(3)], None),
    ("sdpa no mask", lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v),
     [_g(2, 12, 64, 64) for _ in range(3)], None),
    ("sdpa causal L<S", lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
     [_g(2, 12, 16, 64), _g(2, 12, 64, 64), _g(2, 12, 64, 64)], None),
    ("sdpa bool mask", lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
     [_g(2, 12, 64, 64) for _ in range(3)], lambda L, dev, dt: [L.from_numpy(_MASK).to(dev)]),
    # Note [fused cross entropy on the GPU]: every row counted, and a fifth of the rows ignored
    ("cross_entropy (512 x 8192)", lambda L, x, t: L.nn.functional.cross_entropy(x, t), [_g(512, 8192, scale=2.0)],
     lambda L, dev, dt: [L.from_numpy(_TARGETS).to(dev)]),
    ("cross_entropy ignored rows", lambda L, x, t: L.nn.functional.cross_entropy(x, t), [_g(512, 8192, scale=2.0)],
     lambda L, dev, dt: [L.from_numpy(np.where(np.arange(512) % 5 == 0, -100, _TARGETS)).to(dev)]),
    ("cross_entropy sum", lambda L, x, t: L.nn.functional.cross_entropy(x, t, reduction="sum") / 512,
     [_g(512, 8192, scale=2.0)], lambda L, dev, dt: [L.from_numpy(_TARGETS).to(dev)]),
    # Note [tanh gelu backward on CUDA]: the backward is our kernel there (1,001 elements: a short vector)
    ("gelu tanh (GPT-2 MLP)", lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [_g(4, 64, 3072, scale=2.0)],
     None),
    ("gelu tanh 1001", lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [_g(7, 11, 13, scale=3.0)], None),
]
# bfloat16: torch's own CPU layer_norm gradients (the reference under the fake GPU) move by 4.5e-2 between 1 and 2
# threads (their reduction order) and lie 3.4e-2 (2 threads) to 6.5e-2 (1 thread) from float32's, in this scaled error
TORCH_TOL = {"float32": TF32_TOL, "bfloat16": 2 ** -4}


def _torch_side():
    """(torch, device name) for the reference: CUDA if torch has it, else its CPU."""
    import torch
    return torch, ("cuda" if torch.cuda.is_available() else "cpu")


def _scaled_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b))))) if a.size else 0.0


def run_torch_case(name, fn, arrays, extra, dt):
    """Max scaled error of our GPU output and input gradients against torch's on the same dt-rounded inputs."""
    torch, tdev = _torch_side()
    out, cot = {}, None  # the cotangent is drawn from torch's output shape, torch's side running first
    for L, dev in ((torch, tdev), (mc, "cuda")):
        ts = [L.from_numpy(np.array(x)).to(dev, getattr(L, dt)).requires_grad_() for x in arrays]
        y = fn(L, *ts, *(extra(L, dev, dt) if extra else []))
        if L is torch:
            cot = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
        gs = L.autograd.grad(y, ts, L.from_numpy(cot).to(dev, getattr(L, dt)))
        out[L is mc] = [t.detach().to("cpu").float().numpy() for t in [y, *gs]]
    return max(_scaled_err(a, b) for a, b in zip(out[True], out[False]))


def probe_fast_layer_norm_vjp():
    """mx.fast.layer_norm's vjp against the composition's, by row width (the GPU device's default stream)."""
    import mlx.core as mx

    def comp(x, w, b):
        mean = mx.mean(x, axis=-1, keepdims=True)
        var = mx.var(x, axis=-1, keepdims=True)
        return (x - mean) * mx.rsqrt(var + 1e-5) * w + b

    rows = []
    # widths 257, 770 and 1030 are left out: there the vjp's kernel makes an illegal memory access, which ends the
    # process (H200, MLX 0.32.4; Note [fused layer_norm])
    for width in (6, 8, 32, 64, 127, 128, 130, 136, 256, 768, 1024):
        x, w, b, g = (mx.array(_g(*s)) for s in ((64, width), (width,), (width,), (64, width)))
        _, fast = mx.vjp(lambda *p: [mx.fast.layer_norm(*p, 1e-5)], [x, w, b], [g])
        _, ref = mx.vjp(lambda *p: [comp(*p)], [x, w, b], [g])
        rows.append(f"{width}: " + "/".join(f"{_scaled_err(np.array(f), np.array(r)):.1e}"
                                            for f, r in zip(fast, ref)))
    print("probe: mx.fast.layer_norm vjp vs composition (dx/dw/db scaled error) by width: " + ", ".join(rows))


# Reduced-precision Adam/AdamW (Note [Reduced-precision Adam on CUDA]): 8 steps on the GPU against torch's CPU
# single-tensor update, which rounds the same way (bit-equal but for Adam's L2 decay, Note [Reduced-precision
# Adam]); and, where the CUDA kernel serves, against the composed update on the same GPU (bit-equal).
OPTIM_CASES = [("AdamW", dict(lr=1e-3, weight_decay=0.01)), ("Adam", dict(lr=1e-3, weight_decay=0.01)),
               ("Adam", dict(lr=1e-2, maximize=True)), ("Adam", dict(lr=1e-3, betas=(0.3, 0.99)))]
OPTIM_TOL = 1e-3  # fraction allowed to differ from torch's CPU (the composed update, without the CUDA kernel's fused
# multiply-adds, differs in ~4e-4 of elements with betas (0.3, 0.99); the kernel in none on the H200)


# parameter shapes of the optimizer cases: 1-D, 2-D and 4-D parameters (the CUDA update kernel reads their shape,
# Note [Reduced-precision Adam on CUDA]), a 0-d one and a 5-D one (viewed as 1-D for it), and 1,073 elements (its
# last thread's elements are fewer than a vector)
_OPTIM_SHAPES = [(50000,), (200, 250), (10, 5, 10, 100), (), (2, 5, 5, 10, 100), (37, 29)]


def _optim_steps(lib, cls, kw, dtype, device, x0, grads):
    ps = [lib.nn.Parameter(lib.tensor(x0[:int(np.prod(s))].reshape(s), device=device).to(dtype))
          for s in _OPTIM_SHAPES]
    opt = getattr(lib.optim, cls)(ps, **kw)
    for g in grads:
        for p, s in zip(ps, _OPTIM_SHAPES):
            p.grad = lib.tensor(g[:int(np.prod(s))].reshape(s), device=device).to(dtype)
        opt.step()
    return [t.detach().float().cpu().numpy().reshape(-1) for p in ps
            for t in (p, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])]


def _without_cuda_kernels(fn):
    """fn() with our custom CUDA kernels switched off (the composed MLX paths run instead)."""
    mc._device._CUDA_KERNELS = False
    try:
        return fn()
    finally:
        mc._device._CUDA_KERNELS = None


def run_gelu_kernel_case(dt):
    """Our CUDA kernel's tanh gelu input gradient (Note [tanh gelu backward on CUDA]) against the composed
    backward's, on the same GPU and inputs: (elements more than one unit in the last place apart, the largest
    difference in units, the largest difference scaled by the largest magnitude); None where no kernel serves."""
    if not mc._device.cuda_kernels(mc._device.GPU):
        return None
    x = mc.from_numpy(_g(8, 256, 3072, scale=2.0)).to("cuda", getattr(mc, dt)).requires_grad_()
    g = mc.from_numpy(_g(8, 256, 3072)).to("cuda", getattr(mc, dt))

    def grad():
        return mc.autograd.grad(F.gelu(x, approximate="tanh"), [x], g)[0].float().cpu().numpy()
    ours, composed = grad(), _without_cuda_kernels(grad)
    ulp = np.spacing(np.abs(composed).astype(getattr(np, "float16" if dt == "float16" else "float32")))
    if dt == "bfloat16":
        ulp = ulp * 2 ** 16  # bfloat16 keeps float32's exponent and 7 of its 23 fraction bits
    units = np.abs(ours - composed) / np.maximum(ulp, np.finfo(np.float32).tiny)
    return int((units > 1).sum()), float(units.max()), float(np.abs(ours - composed).max() / np.abs(composed).max())


def run_optim_case(cls, kw, dt):
    """(fraction of elements differing from torch's CPU, whether the CUDA kernel equals the composed update, or
    None where no kernel serves)."""
    import torch
    from mlx_compat.optim import _gpu_kernels as GK
    x0 = R.standard_normal(50000).astype(np.float32)
    grads = [R.standard_normal(50000).astype(np.float32) * 0.1 for _ in range(8)]
    ours = _optim_steps(mc, cls, kw, getattr(mc, dt), "cuda", x0, grads)
    ref = _optim_steps(torch, cls, kw, getattr(torch, dt), "cpu", x0, grads)
    differ = sum(int((~((u == v) | (np.isnan(u) & np.isnan(v)))).sum()) for u, v in zip(ours, ref))
    same = None
    if GK.available(mc._device_scope._DEVICES[1]):
        composed = _without_cuda_kernels(lambda: _optim_steps(mc, cls, kw, getattr(mc, dt), "cuda", x0, grads))
        same = all(np.array_equal(u, v, equal_nan=True) for u, v in zip(ours, composed))
    return differ / sum(u.size for u in ours), same


def main():
    if not mc.cuda.is_available() and not mc.backends.mps.is_available():
        print("no MLX GPU here")
        return 2
    try:
        import torch  # noqa: F401
        torch_cases = [(n, f, a, e, dt) for n, f, a, e in TORCH_CASES for dt in ("float32", "bfloat16")]
    except ImportError:
        print("torch is not installed: the fused-kernel cases against torch are skipped")
        torch_cases = []
    fails = 0

    def check(label, case):
        """Run case() (a mismatch message or None); a mismatch or an exception counts as a failure."""
        nonlocal fails
        try:
            msg = case()
        except Exception as e:  # noqa: BLE001
            fails += 1
            print(f"ERROR {label}: {type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc(limit=3)
            return
        if msg:
            fails += 1
            print(f"MISMATCH {label}: {msg}")

    def torch_case(name, fn, arrays, extra, dt):
        err = run_torch_case(name, fn, arrays, extra, dt)
        return None if err <= TORCH_TOL[dt] else f"scaled error {err:.2e} > {TORCH_TOL[dt]:.1e}"

    def optim_case(cls, kw, dt):
        frac, same = run_optim_case(cls, kw, dt)
        return None if frac <= OPTIM_TOL and same is not False else (
            f"{frac:.1e} of elements differ from torch's CPU; CUDA kernel equal to the composed update: {same}")

    def gelu_case(dt):
        r = run_gelu_kernel_case(dt)
        print(f"gelu tanh kernel {dt}: (elements beyond one unit, largest units, scaled difference) against the "
              f"composed backward: {r}")
        if r is None:
            return None
        if dt != "float32":  # one rounding to the half type of the same float32 formula
            return None if r[0] == 0 else f"{r[0]} elements differ by more than one unit (largest {r[1]:.1f})"
        # float32 is not rounded after the formula, and where left_d + right_d cancels (x near -0.75) the last bits
        # that the two paths' different contractions into fused multiply-adds move are a large relative change
        # of a small element: the measure is the difference against the gradient's scale, as for the torch cases
        return None if r[2] <= 1e-6 else f"scaled difference {r[2]:.2e} > 1e-6"

    def cpu_case(name, fn, arrays, grad_idx):
        cv, cg = run_case(fn, arrays, grad_idx, "cpu")
        gv, gg = run_case(fn, arrays, grad_idx, "cuda")
        tol = TF32_TOL if name in TF32_CASES else 1e-4
        bad = [(k, c.shape, g.shape, float(np.nanmax(np.abs(c - g))) if c.shape == g.shape else None)
               for k, (c, g) in enumerate(zip(cv + cg, gv + gg))
               if c.shape != g.shape or not np.allclose(c, g, rtol=tol, atol=tol, equal_nan=True)]
        if bad or len(cv + cg) != len(gv + gg):
            return f"({len(cv)} outputs, then grads): (index, cpu shape, gpu shape, max diff) {bad}"
        return None

    for name, fn, arrays, extra, dt in torch_cases:
        check(f"vs torch {name} {dt}", lambda: torch_case(name, fn, arrays, extra, dt))
    optim_cases = [(c, kw, dt) for c, kw in OPTIM_CASES for dt in ("bfloat16", "float16")] if torch_cases else []
    for cls, kw, dt in optim_cases:
        check(f"optim {cls} {kw} {dt}", lambda: optim_case(cls, kw, dt))
    gelu_cases = ["bfloat16", "float16", "float32"]
    for dt in gelu_cases:
        check(f"gelu tanh kernel {dt}", lambda: gelu_case(dt))
    try:
        probe_fast_layer_norm_vjp()
    except Exception as e:  # noqa: BLE001
        print(f"probe failed: {type(e).__name__}: {str(e)[:300]}")
    cases = [] if "--no-cpu-cases" in sys.argv else CASES
    for name, fn, arrays, grad_idx in cases:
        check(name, lambda: cpu_case(name, fn, arrays, grad_idx))
    n = len(cases) + len(torch_cases) + len(optim_cases) + len(gelu_cases)
    print(f"{n - fails} of {n} GPU cases match ({len(cases)} against the CPU, {len(torch_cases)} against torch, "
          f"{len(optim_cases)} optimizer updates, {len(gelu_cases)} kernels against their composed paths)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
