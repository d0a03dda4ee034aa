"""Pieces the single-file algorithms share: argument checks worded as torch's, and the loop over the parameters
that have gradients with their raw (real-viewed) arrays."""
from __future__ import annotations

from .optimizer import _check_sparse, _real
from .._tensor import Tensor


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonneg(value, what):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what} value: {value}")


def check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def with_grads(opt, group, name):
    """Yield (param, its state dict, grad array, param array) for the group's parameters that have a gradient,
    the gradient negated when the group maximizes."""
    maximize = group.get("maximize", False)
    for p in group["params"]:
        grad = p.grad
        if grad is None:
            continue
        _check_sparse(grad, name)
        g = _real(grad._mx)
        yield p, opt.state[p], (-g if maximize else g), _real(p._mx)
