"""mlx_compat.vision: torchvision's API over mlx_compat tensors (datasets and transforms so far)."""
from . import datasets, transforms  # noqa: F401
from . import models, ops  # noqa: F401
