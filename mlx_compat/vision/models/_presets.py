"""Inference preprocessing presets named by the weights enums (torchvision.transforms._presets)."""
import mlx_compat as torch
from mlx_compat import nn

from ..transforms import functional as F
from ..transforms.functional import InterpolationMode


class ImageClassification(nn.Module):
    """Resize, center-crop, scale to [0, 1] floats and normalize, as the classification weights expect."""

    def __init__(
        self,
        *,
        crop_size,
        resize_size=256,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        interpolation=InterpolationMode.BILINEAR,
        antialias=True,
    ):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, torch.Tensor):
            img = F.to_tensor(img)
        elif not img.is_floating_point():
            img = img.to(torch.float32) / 255.0
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
            f"    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)"
        )
