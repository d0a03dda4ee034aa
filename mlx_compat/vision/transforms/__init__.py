"""torchvision.transforms: the classic transforms over PIL images, HxWxC numpy arrays and tensors."""
from . import functional  # noqa: F401
from .functional import InterpolationMode
from .transforms import (CenterCrop, Compose, Lambda, Normalize, RandomCrop, RandomHorizontalFlip, Resize,
                         ToTensor)

__all__ = ["CenterCrop", "Compose", "InterpolationMode", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "Resize", "ToTensor", "functional"]
