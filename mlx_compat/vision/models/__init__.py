"""mlx_compat.vision.models: torchvision's classification models (ResNet family, MobileNet V2/V3, EfficientNet
B0-B3, ConvNeXt, ViT) with torchvision's builders, module names and state_dict keys, plus the model registry."""
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models
from .resnet import *  # noqa: F401,F403
