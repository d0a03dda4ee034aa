"""torch.optim.Adam: Adam with amsgrad, L2 or decoupled weight decay and maximize, using torch's single-tensor
update rule (bias corrections in Python floats from the float32 step count)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from .optimizer import (Optimizer, _Update, _check_differentiable, _check_fused, _check_sparse, _closure_loss, _real,
                        _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .._tensor import Tensor

__all__ = ["Adam"]


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


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
                if maximize:
                    g = -g
                step_t = state["step"]
                step = step_t.item() + 1
                up.scalar(step_t, step)
                if wd != 0:
                    if decoupled:
                        x = x * (1 - lr * wd)
                    else:
                        g = K.add(g, x, wd)
                m = K.lerp(_real(state["exp_avg"]._mx), g, 1 - beta1)
                v = K.addcmul(_real(state["exp_avg_sq"]._mx) * beta2, g, g, 1 - beta2)
                up.put(state["exp_avg"], m)
                up.put(state["exp_avg_sq"], v)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                if amsgrad:
                    vmax = mx.maximum(_real(state["max_exp_avg_sq"]._mx), v)
                    up.put(state["max_exp_avg_sq"], vmax)
                    denom = mx.sqrt(vmax) / bias_correction2_sqrt + eps
                else:
                    denom = mx.sqrt(v) / bias_correction2_sqrt + eps
                up.put(p, K.addcdiv(x, m, denom, -step_size))
        up.commit()
        return loss
