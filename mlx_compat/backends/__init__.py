"""torch.backends: mps tells whether MLX runs on Apple's Metal GPU."""
from . import mps  # noqa: F401
