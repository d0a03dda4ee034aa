"""torch.compiler: disable, reset and is_compiling for compile() (mlx_compat._compile)."""
from .._compile import disable, is_compiling, reset

__all__ = ["disable", "reset", "is_compiling"]
