"""torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and
maximize, using torch's single-tensor update rule."""
from __future__ import annotations

from .optimizer import (Optimizer, _Update, _call, _check_differentiable, _check_fused, _check_sparse, _closure_loss,
                        _kernel, _low, _real, _rounder, _to_scalar, _use_grad_for_differentiable)
from .._tensor import Tensor

__all__ = ["SGD"]


def _sgd_math(maximize, has_wd, has_momentum, first, nesterov, low):
    """SGD's per-parameter update (torch's single-tensor order) for one static configuration; the momentum buffer
    starts as the (decayed) gradient itself."""

    r = _rounder(low)

    def update(x, g, *rest):
        if has_momentum and not first:
            buf, wd, neg_lr, momentum, one_minus_dampening = rest
        elif has_momentum:
            wd, neg_lr, momentum, one_minus_dampening = rest
        else:
            wd, neg_lr = rest
        if maximize:
            g = -g
        # an `alpha` is cast to the tensor's dtype (torch's add kernel), a mul_'s scalar stays float32
        if has_wd:
            g = r(g + r(wd) * x)
        if not has_momentum:
            return (r(x + r(neg_lr) * g),)
        buf = g if first else r(r(buf * momentum) + r(one_minus_dampening) * g)
        g = r(g + r(momentum) * buf) if nesterov else buf
        return r(x + r(neg_lr) * g), buf

    return update


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_differentiable(differentiable)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            wd = _to_scalar(group["weight_decay"])
            momentum, dampening, nesterov = group["momentum"], group["dampening"], group["nesterov"]
            maximize = group["maximize"]
            consts = {}  # Note [Step constants per group]: (dtype, first) -> (update function, scalar arrays)
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                _check_sparse(grad, "SGD")
                g = _real(grad._mx)
                x = _real(p._mx)
                if momentum == 0:
                    c = consts.get(x.dtype)
                    if c is None:
                        low = _low(x)
                        fn = _kernel(("SGD", maximize, wd != 0, 0, False, False, low),
                                     lambda: _sgd_math(maximize, wd != 0, False, False, False, low))
                        c = consts[x.dtype] = (fn, up.scalars(x.dtype, wd, -lr))
                    up.put(p, _call(p, c[0], x, g, *c[1])[0])
                    continue
                state = self.state[p]
                buf = state.get("momentum_buffer")
                first = buf is None
                c = consts.get((x.dtype, first))
                if c is None:
                    low = _low(x)
                    fn = _kernel(("SGD", maximize, wd != 0, 1, first, nesterov, low),
                                 lambda: _sgd_math(maximize, wd != 0, True, first, nesterov, low))
                    c = consts[(x.dtype, first)] = (fn, up.scalars(x.dtype, wd, -lr, momentum, 1 - dampening))
                fn, sc = c
                if first:
                    x_new, b = _call(p, fn, x, g, *sc)
                    state["momentum_buffer"] = up.new(b, p)
                else:
                    x_new, b = _call(p, fn, x, g, _real(buf._mx), *sc)
                    up.put(buf, b)
                up.put(p, x_new)
        up.commit()
        return loss
