"""nn.functional scaled_dot_product_attention, multi_head_attention_forward, embedding_bag."""
from __future__ import annotations

__all__ = []  # exported by nn.functional
TORCH_EXPORTS = []  # also exported as mlx_compat.<name> (torch has them at top level)
