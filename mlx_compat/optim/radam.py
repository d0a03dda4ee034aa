"""torch.optim.RAdam: rectified Adam with L2 or decoupled weight decay and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from ._common import check_betas, check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["RAdam"]


def _radam_math(has_wd, decoupled, small_weight, rectified, low):
    """RAdam's per-parameter update (torch's single-tensor order); `rectified` is torch's rho_t > 5 branch."""

    r = _rounder(low)

    def update(x, g, m, v, wd, w1, beta2, one_minus_beta2, bias_correction1, lr, bc2_sqrt, eps, rect):
        if has_wd:
            if decoupled:
                x = r(x * wd)
            else:
                g = r(g + r(wd) * x)
        m = r(K.lerp(m, g, w1, small_weight))
        v = r(r(v * beta2) + (one_minus_beta2 * g) * g)
        corrected = r(m / bias_correction1)
        if rectified:
            adaptive_lr = r(bc2_sqrt / r(r(mx.sqrt(v)) + eps))
            return r(x - r(r(r(corrected * lr) * adaptive_lr) * rect)), m, v
        return r(x - r(corrected * lr)), m, v

    return update


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False),
                         ("decoupled_weight_decay", False)):
                group.setdefault(k, v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, decoupled = group["eps"], group["weight_decay"], group["decoupled_weight_decay"]
            for p, state, g, x in with_grads(self, group, "RAdam"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                low = _low(x)
                fn = _kernel(("RAdam", wd != 0, decoupled, abs(1 - beta1) < 0.5, rect is not None, low),
                             lambda: _radam_math(wd != 0, decoupled, abs(1 - beta1) < 0.5, rect is not None, low))
                sc = up.scalars(x.dtype, (1 - lr * wd) if decoupled else wd, 1 - beta1, beta2, 1 - beta2,
                                bias_correction1, lr, bias_correction2**0.5, eps, 0.0 if rect is None else rect)
                x_new, m, v = _call(p, fn, x, g, _real(state["exp_avg"]._mx), _real(state["exp_avg_sq"]._mx), *sc)
                up.put(state["exp_avg"], m)
                up.put(state["exp_avg_sq"], v)
                up.put(p, x_new)
        up.commit()
        return loss
