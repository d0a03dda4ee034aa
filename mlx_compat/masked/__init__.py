"""torch.masked: reductions and normalizations that ignore masked-out elements (strided tensors with a bool mask;
see Note [masked ops by identity fill] in _ops.py)."""
from __future__ import annotations

from ._ops import (amax, amin, argmax, argmin, cumprod, cumsum, log_softmax, logaddexp, logsumexp, mean,  # noqa: F401
                   median, norm, normalize, prod, softmax, softmin, std, sum, var)

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean", "median", "logsumexp",
           "logaddexp", "norm", "var", "std", "softmax", "log_softmax", "softmin", "normalize"]
