"""torch.ops: the `aten` operators that torch exposes only there (no public Python name), for code that calls
`torch.ops.aten.<op>.<overload>(...)` directly: the decomposition-style helpers (_softmax_backward_data,
native_dropout_backward, _safe_softmax, slice.Tensor, ...) and the private kernels the nn families define.

As in torch, `ops.aten.<op>` is a packet (callable: its default overload) whose attributes are the overloads
listed by `.overloads()`; an unknown name raises AttributeError. Only the operators below exist: the rest of
ATen is reached through the public namespaces.
"""
from __future__ import annotations

import builtins

__all__ = ["aten"]


class OpOverload:
    def __init__(self, packet, overload, fn):
        self._packet, self._overloadname, self._fn = packet, overload, fn
        self.__name__ = f"{packet}.{overload}"

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __repr__(self):
        return f"aten.{self.__name__}"


class OpOverloadPacket:
    def __init__(self, name, overloads, call=None):
        self.__name__ = name
        self._overloads = {k: OpOverload(name, k, f) for k, f in overloads.items()}
        self._call = call  # the packet's own call when it picks among overloads by the arguments

    def overloads(self):
        return list(self._overloads)

    def __getattr__(self, name):
        try:
            return self.__dict__["_overloads"][name]
        except KeyError:
            raise AttributeError(f"The underlying op of 'aten.{self.__name__}' has no overload name '{name}'") from None

    def __call__(self, *args, **kwargs):
        if self.__dict__["_call"] is not None:
            return self._call(*args, **kwargs)
        ov = self._overloads.get("default") or next(iter(self._overloads.values()))
        return ov(*args, **kwargs)

    def __repr__(self):
        return f"<OpOverloadPacket(op='aten.{self.__name__}')>"


def _softmax_backward_data(grad_output, output, dim, input_dtype):
    """dL/dx of y = softmax(x) given y: y * (g - sum(g * y, dim)), in input_dtype."""
    g = grad_output * output
    return (g - output * g.sum(dim, keepdim=True)).to(input_dtype)


def _safe_softmax(self, dim, dtype=None):
    """softmax whose rows of only -inf give 0 instead of nan (scaled_dot_product_attention's masking)."""
    from . import where
    from .nn.functional import softmax

    dead = (self == float("-inf")).all(dim, keepdim=True)
    # dead rows are softmaxed as zeros (finite, so no nan reaches the gradient) and then replaced by 0
    out = softmax(where(dead, self.new_zeros(()), self), dim, dtype=dtype)
    return where(dead, out.new_zeros(()), out)


def _slice(self, dim=0, start=None, end=None, step=1):
    """aten::slice.Tensor: the view self[..., start:end:step, ...] along dim."""
    from ._tensor import _wrap_dim

    d = _wrap_dim(dim, builtins.max(self.dim(), 1))
    key = (slice(None),) * d + (slice(start, end, step),)
    return self[key]


def _native_dropout_backward(grad_output, mask, scale):
    return grad_output * mask.to(grad_output.dtype) * scale


def _batch_norm_with_update(input, weight, bias, running_mean, running_var, momentum, eps):
    """Training-mode batch norm updating the running stats: (out, save_mean, save_rstd, reserve)."""
    from ._ops.creation import empty
    from ._dtype import uint8
    from .nn._normalization import native_batch_norm

    out, mean, rstd = native_batch_norm(input, weight, bias, running_mean, running_var, True, momentum, eps)
    return out, mean, rstd, empty((0,), dtype=uint8, device=input.device)


def _table():
    from .nn import _pooling, _sampling

    def aa(fn):  # (overloads, packet call): the packet takes either overload's arguments, as torch's does
        return {"default": lambda input, output_size, align_corners, scales_h=None, scales_w=None: fn(
                    input, output_size, align_corners, scales_h=scales_h, scales_w=scales_w),
                "vec": lambda input, output_size, align_corners, scale_factors: fn(
                    input, output_size, align_corners, scale_factors)}, fn

    return {
        "_softmax_backward_data": {"default": _softmax_backward_data},
        "_safe_softmax": {"default": _safe_softmax},
        "slice": {"Tensor": _slice},
        "native_dropout_backward": {"default": _native_dropout_backward},
        "_batch_norm_with_update": {"default": _batch_norm_with_update},
        "max_pool2d_with_indices_backward": {"default": _pooling.max_pool2d_with_indices_backward},
        "_upsample_bilinear2d_aa": aa(_sampling._upsample_bilinear2d_aa),
        "_upsample_bicubic2d_aa": aa(_sampling._upsample_bicubic2d_aa),
        "_upsample_lanczos2d_aa": aa(_sampling._upsample_lanczos2d_aa),
        # (the others have one overload; their packet calls it)
    }


class _OpNamespace:
    def __init__(self, name):
        self.name = name
        self._packets = None

    def __getattr__(self, op):
        if op.startswith("__"):
            raise AttributeError(op)
        if self._packets is None:
            self._packets = {k: OpOverloadPacket(k, *(v if isinstance(v, tuple) else (v,)))
                             for k, v in _table().items()}
        try:
            return self._packets[op]
        except KeyError:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op}'") from None


aten = _OpNamespace("aten")
