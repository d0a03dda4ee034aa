"""torch.optim.RMSprop: RMSprop with centering, momentum, weight decay and maximize (torch's single-tensor rule)."""
from __future__ import annotations

import mlx.core as mx

from . import _kernels as K
from ._common import check_lr, check_nonneg, with_grads
from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _closure_loss, _kernel, _low, _real,
                        _rounder, _scalar_tensor, _to_scalar, _use_grad_for_differentiable, _zeros_like)
from .optimizer import _scalar_value

__all__ = ["RMSprop"]


def _rmsprop_math(has_wd, centered, has_momentum, small_weight, low):
    """RMSprop's per-parameter update (torch's single-tensor order) for one static configuration."""

    r = _rounder(low)

    def update(x, g, sq, *rest):
        rest = list(rest)
        ga = rest.pop(0) if centered else None
        buf = rest.pop(0) if has_momentum else None
        wd, alpha, one_minus_alpha, eps, momentum, neg_lr = rest
        if has_wd:
            g = r(g + r(wd) * x)
        sq = r(r(sq * alpha) + (one_minus_alpha * g) * g)
        if centered:
            ga = r(K.lerp(ga, g, one_minus_alpha, small_weight))
            avg = r(mx.sqrt(r(sq + (-1 * ga) * ga)))
        else:
            avg = r(mx.sqrt(sq))
        avg = r(avg + eps)
        out = [sq] + ([ga] if centered else [])
        if has_momentum:
            buf = r(r(buf * momentum) + g / avg)
            return (r(x + r(neg_lr) * buf), *out, buf)
        return (r(x + (neg_lr * g) / avg), *out)

    return update


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
                up.scalar(state["step"], _scalar_value(state["step"]) + 1)
                low = _low(x)
                fn = _kernel(("RMSprop", wd != 0, centered, momentum > 0, abs(1 - alpha) < 0.5, low),
                             lambda: _rmsprop_math(wd != 0, centered, momentum > 0, abs(1 - alpha) < 0.5, low))
                names = ["square_avg"] + (["grad_avg"] if centered else [])
                names += ["momentum_buffer"] if momentum > 0 else []
                out = _call(p, fn, x, g, *[_real(state[n]._mx) for n in names],
                         *up.scalars(x.dtype, wd, alpha, 1 - alpha, eps, momentum, -lr))
                up.put(p, out[0])
                for n, a in zip(names, out[1:]):
                    up.put(state[n], a)
        up.commit()
        return loss
