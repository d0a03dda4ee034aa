"""nn.functional group/instance/rms/local_response/batch norm and torch.native_* norms."""
from __future__ import annotations

__all__ = []  # exported by nn.functional
TORCH_EXPORTS = []  # also exported as mlx_compat.<name> (torch has them at top level)
