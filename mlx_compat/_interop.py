"""Optional interop with an installed PyTorch (imported lazily; never needed at run time)."""
from __future__ import annotations

import numpy as np


def to_torch(t):
    """A torch.Tensor with the same values, dtype and shape (a copy)."""
    import torch

    from ._dtype import bfloat16

    if t.dtype is bfloat16:
        return torch.from_numpy(np.array(t.detach().float())).to(torch.bfloat16)
    return torch.from_numpy(np.array(t.detach().cpu()))


def from_torch(t):
    """An mlx_compat tensor with the same values, dtype and shape as a torch.Tensor (a copy)."""
    import torch

    from ._ops.creation import from_numpy
    from ._dtype import bfloat16

    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return from_numpy(t.float().numpy()).to(bfloat16)
    r = from_numpy(t.resolve_conj().resolve_neg().numpy())
    return r
