"""torch.optim.NAdam: Adam with Nesterov momentum (momentum_decay schedule), L2 or decoupled weight decay and
maximize (torch's single-tensor rule; 'mu_product' is float32 scalar state as in torch)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from ._common import check_betas, check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _f32, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["NAdam"]


def _nadam_math(has_wd, decoupled, small_weight, low):
    """NAdam's per-parameter update (torch's single-tensor order); the momentum schedule's coefficients come in
    as scalars."""

    r = _rounder(low)

    def update(x, g, m, v, wd, w1, beta2, one_minus_beta2, bias_correction2, eps, c_grad, c_avg):
        if has_wd:
            if decoupled:
                x = r(x * wd)
            else:
                g = r(g + r(wd) * x)
        m = r(K.lerp(m, g, w1, small_weight))
        v = r(r(v * beta2) + (one_minus_beta2 * g) * g)
        denom = r(r(mx.sqrt(r(v / bias_correction2))) + eps)
        x = r(x + (c_grad * g) / denom)
        x = r(x + (c_avg * m) / denom)
        return x, m, v

    return update


class NAdam(Optimizer):
    _scalar_state_keys = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay")
        check_nonneg(momentum_decay, "momentum_decay")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("maximize", False), ("foreach", None), ("capturable", False), ("differentiable", False),
                         ("decoupled_weight_decay", False)):
                group.setdefault(k, v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, momentum_decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, state, g, x in with_grads(self, group, "NAdam"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["mu_product"] = _scalar_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product *= mu: a float32 scalar tensor times a Python float, in float32 (the product of two
                # float32 values is exact in a double, so rounding it once is float32's multiplication)
                mu_product = _f32(_scalar_value(state["mu_product"]) * _f32(mu))
                up.scalar(state["mu_product"], mu_product)
                mu_product_next = mu_product * mu_next
                low = _low(x)
                fn = _kernel(("NAdam", wd != 0, decoupled, abs(1 - beta1) < 0.5, low),
                             lambda: _nadam_math(wd != 0, decoupled, abs(1 - beta1) < 0.5, low))
                sc = up.scalars(x.dtype, (1 - lr * wd) if decoupled else wd, 1 - beta1, beta2, 1 - beta2,
                                bias_correction2, eps, -lr * (1.0 - mu) / (1.0 - mu_product),
                                (-lr * mu_next) / (1.0 - mu_product_next))
                x_new, m, v = _call(p, fn, x, g, _real(state["exp_avg"]._mx), _real(state["exp_avg_sq"]._mx), *sc)
                up.put(state["exp_avg"], m)
                up.put(state["exp_avg_sq"], v)
                up.put(p, x_new)
        up.commit()
        return loss
