"""torch.optim.Adam: Adam with amsgrad, L2 or decoupled weight decay and maximize, using torch's single-tensor
update rule (bias corrections in Python floats from the float32 step count)."""
from __future__ import annotations

import mlx.core as mx

from .. import _compile
from . import _gpu_kernels
from . import _kernels as K
from ._common import check_betas as _check_betas
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _check_fused, _check_sparse, _closure_loss,
                        _kernel, _low, _real, _rounder, _scalar_tensor, _scalar_value, _to_scalar,
                        _use_grad_for_differentiable, _zeros_like)
from . import optimizer as _optimizer
from .._device_scope import _DEVICES
from .._tensor import Tensor

__all__ = ["Adam"]


# Note [Reduced-precision Adam]
# torch's CPU kernels for bfloat16/float16 compute each op in float32 and round its result to the tensor's dtype
# (Note [Reduced-precision parameters]); its addcmul (the second moment, v * beta2 + (1 - beta2) * g * g) is
# vectorised as a fused multiply-add: one rounding of v + (w * g) * g, not two (of 100,000 bfloat16 elements, 0
# differ from a float64 fma rounded once, 15 from two float32 roundings), and so is its lerp of the first moment
# (_kernels.lerp). On the CPU the update reproduces both by computing the sum in float64 (a product of two float32
# values is exact there) and rounding once to float32, then to the reduced dtype, inside the same compiled
# function. MLX's GPUs have no float64: there the CUDA backend runs the update as one kernel of its own with real
# fused multiply-adds (Note [Reduced-precision Adam on CUDA]), and elsewhere (Metal; fma=False) the sums are
# rounded twice, which can differ from torch in the last bit. Measured: bit-equal to torch CPU's single-tensor
# Adam/AdamW over 12 steps (tests/optim/test_update_kernels.py; of 150,000 elements over 8 steps, 0 differ with
# betas (0.9, 0.999) or (0.3, 0.99), where the lerp rounded twice differed in 2 and 56) except with Adam's L2
# decay, where torch's bfloat16 grad.add(param, alpha=wd) differs from the float32 sum rounded once in about 7
# of 100,000 elements (cause not yet found). MLX compiles the update into two fused kernels plus two standalone
# casts on the CPU (the goal is two).
# Note [Scalar division as a float64 product]
# torch's denominator divides the float32 sqrt(v) by the float32 scalar bias_correction2_sqrt: one correctly
# rounded division per element, on top of addcdiv's. MLX's CPU kernels are scalar loops, and divisions and square
# roots share one unit there, so the Adam update of a 784-128-10 MLP (101,770 elements) spent ~47 % more time than
# native MLX's update, which divides once. For float32 s and c (c normal, as a bias correction in (0, 1] is), the
# quotient rounded to float32 is exactly float32(float64(s) * r) with r = 1 / c rounded to float64 once: the
# product's relative error is below 2^-52, and s / c lies further than 2^-49 (relative) from every midpoint of two
# float32 neighbours (s - c*m is a non-zero multiple of ulp(c) * ulp(m) for a 25-bit midpoint m, so it can neither
# be one nor cross one); see also Figueroa's double-rounding bound. So on the CPU (which has float64) the update
# multiplies by that reciprocal (`recip`, a float64 0-d input made on the host: `_recip_f32`) and gets torch's
# bits with two square-root-or-division operations per element instead of three. MLX fuses the casts and the
# product into the update's kernel for plain Adam and AdamW (tests/optim/test_update_kernels.py); with L2 decay,
# amsgrad or a half type the three more nodes push the chain past MLX's fusion depth (a second kernel or standalone
# casts), so those keep the division, as GPUs do (Metal has no float64; on CUDA the update is memory-bound).
# Measured on this CPU, the 101,770-element update alone: 342 -> 258 us.
def _recip_f32(c):
    """1 / float32(c) rounded once to float64 (Note [Scalar division as a float64 product]); c a Python float or a
    host expression while a step is traced (Note [Host scalars] in _compile.py)."""
    if getattr(c, "_host_expr", False):
        return 1.0 / _compile.host_f32(c)
    return 1.0 / _compile._f32(c)


def _adam_math(maximize, has_wd, decoupled, amsgrad, small_weight, low, fma=False, recip=False):
    """Adam's per-parameter update (torch's single-tensor order) for one static configuration; fma: the second
    moment's addcmul as one fused multiply-add (Note [Reduced-precision Adam]); recip: `bc2_sqrt` is the float64
    reciprocal of the bias correction (Note [Scalar division as a float64 product])."""
    r = _rounder(low)

    def over_bc2(s, bc2_sqrt):
        if recip:
            return (s.astype(mx.float64) * bc2_sqrt).astype(mx.float32)
        return s / bc2_sqrt

    def update(x, g, m, v, *rest):
        if amsgrad:
            vmax, wd, w1, b2, w2, bc2_sqrt, eps, neg_step_size = rest
        else:
            wd, w1, b2, w2, bc2_sqrt, eps, neg_step_size = rest
        if maximize:
            g = -g
        if has_wd:
            if decoupled:
                x = r(x * wd)
            else:
                # add's alpha is cast to the tensor's dtype (a product of two bfloat16 values is exact in float32,
                # so a fused multiply-add would round the same)
                g = r(g + r(wd) * x)
        m = r(K.lerp(m, g, w1, small_weight, fma))
        if fma:
            t = (w2 * g).astype(mx.float64)
            v = r((r(v * b2).astype(mx.float64) + t * g.astype(mx.float64)).astype(mx.float32))
        else:
            v = r(r(v * b2) + (w2 * g) * g)
        if amsgrad:
            vmax = mx.maximum(vmax, v)
            denom = r(r(over_bc2(r(mx.sqrt(vmax)), bc2_sqrt)) + eps)
        else:
            denom = r(r(over_bc2(r(mx.sqrt(v)), bc2_sqrt)) + eps)
        x = r(x + (neg_step_size * m) / denom)
        return (x, m, v, vmax) if amsgrad else (x, m, v)

    return update


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if b.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            lr = _to_scalar(group["lr"])
            wd, eps = group["weight_decay"], group["eps"]
            amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
            small = abs(1 - beta1) < 0.5
            consts = {}  # Note [Step constants per group]: (step, dtype) -> (update function, scalar arrays)
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                _check_sparse(grad, "Adam")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                g = _real(grad._mx)
                x = _real(p._mx)
                step_t = state["step"]
                step = _scalar_value(step_t) + 1
                up.scalar(step_t, step)
                key = None if _optimizer._tracing else (step, x.dtype)
                c = consts.get(key) if key is not None else None
                if c is None:
                    bias_correction1 = 1 - beta1**step
                    bias_correction2 = 1 - beta2**step
                    step_size = lr / bias_correction1
                    bias_correction2_sqrt = bias_correction2**0.5
                    low = _low(x)
                    on_cpu = _DEVICES[p._device_code] == mx.cpu
                    fma = low is not None and on_cpu  # Note [Reduced-precision Adam]
                    # Note [Scalar division as a float64 product]: float32 arithmetic that fuses
                    recip = on_cpu and low is None and x.dtype != mx.float64 and not amsgrad and (wd == 0 or decoupled)
                    if low is not None and not amsgrad and _gpu_kernels.available(_DEVICES[p._device_code]):
                        # Note [Reduced-precision Adam on CUDA]
                        fn = _gpu_kernels.adam(maximize, wd != 0, decoupled, small)
                        recip = False
                    else:
                        fn = _kernel(("Adam", maximize, wd != 0, decoupled, amsgrad, small, low, fma, recip),
                                     lambda: _adam_math(maximize, wd != 0, decoupled, amsgrad, small, low, fma, recip))
                    wd_scalar = (1 - lr * wd) if decoupled else wd
                    sc = up.scalars(x.dtype, wd_scalar, 1 - beta1, beta2, 1 - beta2, eps, -step_size)
                    sc.insert(4, up.scalars(mx.float64, _recip_f32(bias_correction2_sqrt))[0] if recip
                              else up.scalars(x.dtype, bias_correction2_sqrt)[0])
                    c = (fn, sc)
                    if key is not None:
                        consts[key] = c
                fn, sc = c
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]
                    out = _call(p, fn, x, g, _real(exp_avg._mx), _real(exp_avg_sq._mx), _real(vmax._mx), *sc)
                    up.put(vmax, out[3])
                else:
                    out = _call(p, fn, x, g, _real(exp_avg._mx), _real(exp_avg_sq._mx), *sc)
                up.put(p, out[0])
                up.put(exp_avg, out[1])
                up.put(exp_avg_sq, out[2])
        up.commit()
        return loss
