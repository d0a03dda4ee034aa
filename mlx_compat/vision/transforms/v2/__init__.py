"""torchvision.transforms.v2: transforms over samples of any structure (images, videos, masks, bounding boxes, PIL
images and plain tensors together), with their functional forms in `functional`."""
from . import functional  # noqa: F401
from ..functional import InterpolationMode  # noqa: F401
from ._transforms import *  # noqa: F401,F403
from ._transforms import __all__ as _classes

__all__ = ["InterpolationMode", "functional"] + _classes
