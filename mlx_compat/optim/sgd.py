"""torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and
maximize, using torch's single-tensor update rule."""
from __future__ import annotations

from . import _kernels as K
from .optimizer import Optimizer, _Update, _check_differentiable, _check_fused, _check_sparse, _closure_loss, _real, _to_scalar, _use_grad_for_differentiable
from .._tensor import Tensor

__all__ = ["SGD"]


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
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                _check_sparse(grad, "SGD")
                g = _real(grad._mx)
                x = _real(p._mx)
                if maximize:
                    g = -g
                if wd != 0:
                    g = K.add(g, x, wd)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        b = g
                        state["momentum_buffer"] = up.new(b, p)
                    else:
                        b = K.add(_real(buf._mx) * momentum, g, 1 - dampening)
                        up.put(buf, b)
                    g = K.add(g, b, momentum) if nesterov else b
                up.put(p, K.add(x, g, -lr))
        up.commit()
        return loss
