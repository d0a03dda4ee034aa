"""torch.optim.Adamax: Adam's infinity-norm variant with weight decay and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from ._common import check_betas, check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["Adamax"]


def _adamax_math(has_wd, small_weight, low):
    """Adamax's per-parameter update (torch's single-tensor order)."""
    r = _rounder(low)

    def update(x, g, m, u, wd, w1, beta2, eps, neg_clr):
        if has_wd:
            g = r(g + r(wd) * x)
        m = r(K.lerp(m, g, w1, small_weight))
        u = mx.maximum(r(u * beta2), r(mx.abs(g) + eps))
        return r(x + (neg_clr * m) / u), m, u

    return update


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False)):
                group.setdefault(k, v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p, state, g, x in with_grads(self, group, "Adamax"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                clr = lr / (1 - beta1**step)
                low = _low(x)
                fn = _kernel(("Adamax", wd != 0, abs(1 - beta1) < 0.5, low),
                             lambda: _adamax_math(wd != 0, abs(1 - beta1) < 0.5, low))
                x_new, m, u = _call(p, fn, x, g, _real(state["exp_avg"]._mx), _real(state["exp_inf"]._mx),
                                 *up.scalars(x.dtype, wd, 1 - beta1, beta2, eps, -clr))
                up.put(state["exp_avg"], m)
                up.put(state["exp_inf"], u)
                up.put(p, x_new)
        up.commit()
        return loss
