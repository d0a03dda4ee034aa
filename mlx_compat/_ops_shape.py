"""(Operators issue) — see the module's functions. Exports are listed in __all__ and re-exported by
mlx_compat/__init__.py; Tensor methods are attached here."""
from __future__ import annotations

__all__: list = []
