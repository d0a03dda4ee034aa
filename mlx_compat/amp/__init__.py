"""torch.amp: autocast (mixed precision by op, Note [Autocast as a function mode]) and GradScaler (loss scaling
for float16 training)."""
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
