"""torch.fft (complex64)."""
from __future__ import annotations

__all__ = []
