"""mlx_compat.vision.models: torchvision's classification models (ResNet family, MobileNet V2/V3, EfficientNet
B0-B7 and V2-S/M/L, ConvNeXt, ViT, Swin-T) with torchvision's builders, module names and state_dict keys, plus the
model registry."""
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models
from .resnet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .mobilenetv3 import *  # noqa: F401,F403
from .efficientnet import *  # noqa: F401,F403
from .convnext import *  # noqa: F401,F403
from .vision_transformer import *  # noqa: F401,F403
from .swin_transformer import *  # noqa: F401,F403
