"""torch.masked: reductions and normalizations that ignore masked-out elements."""
from __future__ import annotations

__all__ = []
