"""torch.optim.Adagrad: Adagrad with lr decay, weight decay, an initial accumulator value and maximize (torch's
single-tensor rule; state is created in the constructor, as torch does)."""
from __future__ import annotations

import mlx.core as mx

from ._common import check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _check_fused, _closure_loss, _full_like,
                        _kernel, _low, _real, _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable)
from .optimizer import _scalar_value

__all__ = ["Adagrad"]


def _adagrad_math(has_wd, low):
    """Adagrad's per-parameter update (torch's single-tensor order)."""
    r = _rounder(low)

    def update(x, g, s, wd, eps, neg_clr):
        if has_wd:
            g = r(g + r(wd) * x)
        s = r(s + g * g)
        return r(x + (neg_clr * g) / r(r(mx.sqrt(s)) + eps)), s

    return update


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonneg(lr_decay, "lr_decay")
        check_nonneg(weight_decay, "weight_decay")
        check_nonneg(initial_accumulator_value, "initial_accumulator_value")
        check_nonneg(eps, "epsilon")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _scalar_tensor(0.0)
        init = self.defaults["initial_accumulator_value"]
        state["sum"] = _full_like(p, init, complex_pair=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lr_decay, wd, eps = group["lr_decay"], group["weight_decay"], group["eps"]
            for p, state, g, x in with_grads(self, group, "Adagrad"):
                if len(state) == 0:
                    self._init_state(p)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                clr = lr / (1 + (step - 1) * lr_decay)
                low = _low(x)
                fn = _kernel(("Adagrad", wd != 0, low), lambda: _adagrad_math(wd != 0, low))
                x_new, s = _call(p, fn, x, g, _real(state["sum"]._mx), *up.scalars(x.dtype, wd, eps, -clr))
                up.put(state["sum"], s)
                up.put(p, x_new)
        up.commit()
        return loss
