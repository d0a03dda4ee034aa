"""torch.optim.ASGD: averaged SGD with weight decay and maximize (torch's single-tensor rule; 'eta' and 'mu' are
float32 scalar state as in torch)."""
from __future__ import annotations

from ._common import check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _f32, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["ASGD"]


def _asgd_math(has_wd, averaging, low):
    """ASGD's per-parameter update (torch's single-tensor order); `averaging` is torch's mu != 1 branch."""
    r = _rounder(low)

    def update(x, g, ax, wd, decay, neg_eta, mu):
        if has_wd:
            g = r(g + r(wd) * x)
        x = r(x * decay)
        x = r(x + r(neg_eta) * g)
        return x, r(ax + r(r(x - ax) * mu)) if averaging else x

    return update


class ASGD(Optimizer):
    _scalar_state_keys = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonneg(weight_decay, "weight_decay")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
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
            lambd, alpha, t0, wd = group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
            for p, state, g, x in with_grads(self, group, "ASGD"):
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    state["eta"] = _scalar_tensor(lr)
                    state["mu"] = _scalar_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                eta = _scalar_value(state["eta"])
                mu = _scalar_value(state["mu"])
                low = _low(x)
                fn = _kernel(("ASGD", wd != 0, mu != 1, low), lambda: _asgd_math(wd != 0, mu != 1, low))
                sc = up.scalars(x.dtype, wd, 1 - lambd * eta, -eta, mu)
                x_new, ax = _call(p, fn, x, g, _real(state["ax"]._mx), *sc)
                up.put(p, x_new)
                up.put(state["ax"], ax)
                up.scalar(state["eta"], _f32(lr / ((1 + lambd * lr * step) ** alpha)))
                up.scalar(state["mu"], _f32(1 / max(1, step - t0)))
        up.commit()
        return loss
