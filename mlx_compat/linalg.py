"""torch.linalg (operators issue)."""
from __future__ import annotations
