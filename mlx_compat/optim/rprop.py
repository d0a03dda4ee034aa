"""torch.optim.Rprop: resilient backpropagation with step-size bounds and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from ._common import check_lr, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _full_like, _kernel, _low,
                        _real, _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["Rprop"]


def _rprop_math(low):
    """Rprop's per-parameter update (torch's single-tensor order); the eta factors are stored into the sign
    tensor (rounded to a reduced dtype there) and compared with etaminus in that dtype, as torch does."""
    r = _rounder(low)

    def update(x, g, prev, step_size, etaminus, etaplus, lo, hi):
        sign = mx.sign(r(g * prev))
        one = mx.ones_like(sign)
        sign = r(mx.where(sign > 0, etaplus, mx.where(sign < 0, etaminus, mx.where(sign == 0, one, sign))))
        step_size = r(mx.clip(r(step_size * sign), lo, hi))
        g = mx.where(sign == r(etaminus), mx.zeros_like(g), g)
        return r(x + (-1 * mx.sign(g)) * step_size), step_size, g

    return update


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
                    state["step_size"] = _full_like(p, lr, complex_pair=True)
                up.scalar(state["step"], _scalar_value(state["step"]) + 1)
                low = _low(x)
                fn = _kernel(("Rprop", low), lambda: _rprop_math(low))
                x_new, step_size, prev = _call(p, fn, x, g, _real(state["prev"]._mx), _real(state["step_size"]._mx),
                                            *up.scalars(x.dtype, etaminus, etaplus, step_size_min, step_size_max))
                up.put(state["step_size"], step_size)
                up.put(p, x_new)
                up.put(state["prev"], prev)
        up.commit()
        return loss
