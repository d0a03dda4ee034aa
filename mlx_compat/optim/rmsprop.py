"""torch.optim.RMSprop: RMSprop with centering, momentum, weight decay and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from ._common import check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _check_differentiable, _closure_loss, _real, _scalar_tensor, _to_scalar,
                        _use_grad_for_differentiable, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        check_nonneg(momentum, "momentum")
        check_nonneg(weight_decay, "weight_decay")
        check_nonneg(alpha, "alpha")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                         ("differentiable", False), ("capturable", False)):
                group.setdefault(k, v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p, state, g, x in with_grads(self, group, "RMSprop"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                up.scalar(state["step"], state["step"].item() + 1)
                if wd != 0:
                    g = K.add(g, x, wd)
                sq = K.addcmul(_real(state["square_avg"]._mx) * alpha, g, g, 1 - alpha)
                up.put(state["square_avg"], sq)
                if centered:
                    ga = K.lerp(_real(state["grad_avg"]._mx), g, 1 - alpha)
                    up.put(state["grad_avg"], ga)
                    avg = mx.sqrt(K.addcmul(sq, ga, ga, -1))
                else:
                    avg = mx.sqrt(sq)
                avg = avg + eps
                if momentum > 0:
                    buf = K.addcdiv(_real(state["momentum_buffer"]._mx) * momentum, g, avg)
                    up.put(state["momentum_buffer"], buf)
                    up.put(p, K.add(x, buf, -lr))
                else:
                    up.put(p, K.addcdiv(x, g, avg, -lr))
        up.commit()
        return loss
