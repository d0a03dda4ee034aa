"""torch.special (operators issue)."""
from __future__ import annotations
