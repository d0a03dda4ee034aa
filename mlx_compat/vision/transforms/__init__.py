"""torchvision.transforms: the classic (v1) transforms over PIL images, HxWxC numpy arrays and tensors, their
functional forms (`functional`), and the v2 API (`v2`)."""
from . import functional  # noqa: F401
from .functional import InterpolationMode
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _classes
from .autoaugment import RandAugment, TrivialAugmentWide  # noqa: E402
from . import v2  # noqa: E402,F401

__all__ = ["InterpolationMode", "RandAugment", "TrivialAugmentWide", "functional"] + _classes
