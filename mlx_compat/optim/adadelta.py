"""torch.optim.Adadelta: Adadelta with weight decay and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from ._common import check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["Adadelta"]


def _adadelta_math(has_wd, low):
    """Adadelta's per-parameter update (torch's single-tensor order)."""
    r = _rounder(low)

    def update(x, g, sq, acc, wd, rho, one_minus_rho, eps, neg_lr):
        if has_wd:
            g = r(g + r(wd) * x)
        sq = r(r(sq * rho) + (one_minus_rho * g) * g)
        std = r(mx.sqrt(r(sq + eps)))
        delta = r(r(r(mx.sqrt(r(acc + eps))) / std) * g)
        acc = r(r(acc * rho) + (one_minus_rho * delta) * delta)
        return r(x + r(neg_lr) * delta), sq, acc

    return update


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonneg(eps, "epsilon")
        check_nonneg(weight_decay, "weight_decay")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
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
            rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
            for p, state, g, x in with_grads(self, group, "Adadelta"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                up.scalar(state["step"], _scalar_value(state["step"]) + 1)
                low = _low(x)
                fn = _kernel(("Adadelta", wd != 0, low), lambda: _adadelta_math(wd != 0, low))
                x_new, sq, acc = _call(p, fn, x, g, _real(state["square_avg"]._mx), _real(state["acc_delta"]._mx),
                                    *up.scalars(x.dtype, wd, rho, 1 - rho, eps, -lr))
                up.put(state["square_avg"], sq)
                up.put(state["acc_delta"], acc)
                up.put(p, x_new)
        up.commit()
        return loss
