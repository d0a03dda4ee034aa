"""nn.functional losses."""
from __future__ import annotations

__all__ = []  # exported by nn.functional
TORCH_EXPORTS = []  # also exported as mlx_compat.<name> (torch has them at top level)
