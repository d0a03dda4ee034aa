"""torch.optim.Rprop: resilient backpropagation with step-size bounds and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from ._common import check_lr, with_grads
from .optimizer import (Optimizer, _Update, _check_differentiable, _closure_loss, _full_like, _real, _scalar_tensor,
                        _to_scalar, _use_grad_for_differentiable, _zeros_like)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, state, g, x in with_grads(self, group, "Rprop"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["prev"] = _zeros_like(p)
                    lr = _to_scalar(group["lr"])
                    state["step_size"] = _full_like(p, complex(lr, lr) if p.dtype.is_complex else lr)
                up.scalar(state["step"], state["step"].item() + 1)
                sign = mx.sign(g * _real(state["prev"]._mx))
                sign = mx.where(sign > 0, etaplus, mx.where(sign < 0, etaminus, mx.where(sign == 0, 1, sign)))
                sign = sign.astype(g.dtype)
                step_size = mx.clip(_real(state["step_size"]._mx) * sign, step_size_min, step_size_max)
                g = mx.where(sign == etaminus, 0, g).astype(g.dtype)
                up.put(state["step_size"], step_size)
                up.put(p, x + (-1 * mx.sign(g)) * step_size)
                up.put(state["prev"], g)
        up.commit()
        return loss
