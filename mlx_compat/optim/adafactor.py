"""torch.optim.Adafactor: factored second moments (a row and a column mean of the squared gradient for matrices and
stacks of them, a full one for vectors), a relative step min(lr, 1/sqrt(step)) scaled by the parameter's RMS, update
clipping by RMS with threshold d, weight decay and maximize (torch's single-tensor rule). The parameter's and the
update's norms, which torch reads on the host, stay arrays inside the fused update here (Note [Fused update
kernels])."""
from __future__ import annotations

import math

import mlx.core as mx

from . import _kernels as K
from ._common import with_grads
from .optimizer import (Optimizer, _Update, _call, _closure_loss, _kernel, _low, _rounder, _scalar_tensor,
                        _scalar_value, _to_scalar, _use_grad_for_differentiable)
from .. import _dtype
from .._tensor import Tensor

__all__ = ["Adafactor"]


def _adafactor_math(factored, has_wd, small_weight, low):
    """Adafactor's per-parameter update: (new parameter, new row/col variances or variance)."""
    r = _rounder(low)

    def rms(a):
        return mx.sqrt(mx.sum(a * a)) / math.sqrt(a.size)

    def update(x, g, s1, s2, decay, w, rho, eps1, eps2, d):
        alpha = mx.maximum(eps2, rms(x)) * rho  # from the parameter before its weight decay, as torch's
        if has_wd:
            x = r(x * decay)
        if factored:
            row = K.lerp(s1, r(mx.sum(g * g, axis=-1, keepdims=True) / g.shape[-1]), w, small_weight)
            col = K.lerp(s2, r(mx.sum(g * g, axis=-2, keepdims=True) / g.shape[-2]), w, small_weight)
            var = r(r(row @ col) / mx.maximum(mx.mean(row, axis=-2, keepdims=True), eps1))
            s1, s2 = r(row), r(col)
        else:
            s1 = r(K.lerp(s1, r(g * g), w, small_weight))
            var = s1
        u = r(mx.rsqrt(mx.maximum(var, eps1 * eps1)) * g)
        denom = mx.maximum(1.0, rms(u) / d)
        return r(x - (alpha / denom) * u), s1, s2

    return update


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        up = _Update()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            wd, d = group["weight_decay"], group["d"]
            for p, state, g, x in with_grads(self, group, "Adafactor"):
                if p.dtype.is_complex:
                    raise RuntimeError("Adafactor does not support complex parameters")
                factored = g.ndim > 1
                if len(state) == 0:
                    state["step"] = _scalar_tensor(0.0)
                    if factored:
                        state["row_var"] = Tensor._new_on(mx.zeros(g.shape[:-1] + (1,), g.dtype), p._device_code)
                        state["col_var"] = Tensor._new_on(
                            mx.zeros(g.shape[:-2] + (1,) + g.shape[-1:], g.dtype), p._device_code)
                    else:
                        state["variance"] = Tensor._new_on(mx.zeros(g.shape, g.dtype), p._device_code)
                step = _scalar_value(state["step"]) + 1
                up.scalar(state["step"], step)
                w = step ** group["beta2_decay"]
                rho = min(lr, 1 / step ** 0.5)
                e1 = _dtype.finfo(p.dtype).eps if eps1 is None else eps1
                low = _low(x)
                fn = _kernel(("Adafactor", factored, wd != 0, abs(w) < 0.5, low),
                             lambda: _adafactor_math(factored, wd != 0, abs(w) < 0.5, low))
                s1 = state["row_var"] if factored else state["variance"]
                s2 = state["col_var"]._mx if factored else s1._mx
                x_new, n1, n2 = _call(p, fn, x, g, s1._mx, s2,
                                      *up.scalars(x.dtype, 1 - lr * wd, w, rho, e1, eps2, d))
                up.put(s1, n1)
                if factored:
                    up.put(state["col_var"], n2)
                up.put(p, x_new)
        up.commit()
        return loss
