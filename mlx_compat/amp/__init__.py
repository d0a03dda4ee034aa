"""torch.amp: GradScaler (loss scaling for float16 training). autocast is not provided: ops keep their inputs'
dtypes, so a model meant for autocast has to be cast (`model.half()`/`.bfloat16()`) by the program."""
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["GradScaler"]
