"""torchvision.utils' image-grid helpers: make_grid (a batch tiled into one image with padding, optionally
normalized to [0, 1]) and save_image (a grid written through Pillow)."""
from __future__ import annotations

import math

import mlx_compat as torch

__all__ = ["make_grid", "save_image"]


@torch.no_grad()
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tiles a (B, C, H, W) batch (or a list of (C, H, W) images) into one (C, H', W') image, `nrow` per row;
    1-channel images become 3-channel; `normalize` rescales to [0, 1] by `value_range` or the min/max (per image
    with `scale_each`)."""
    if not isinstance(tensor, torch.Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, torch.Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def norm(img, low, high):
            return img.clamp(min=low, max=high).sub(low).div(max(high - low, 1e-5))

        def norm_range(t):
            if value_range is not None:
                return norm(t, value_range[0], value_range[1])
            return norm(t, float(t.min()), float(t.max()))

        tensor = torch.stack([norm_range(t) for t in tensor]) if scale_each is True else norm_range(tensor)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            top, left = y * height + padding, x * width + padding
            grid[:, top:top + height - padding, left:left + width - padding] = tensor[k]
            k += 1
    return grid


@torch.no_grad()
def save_image(tensor, fp, format=None, **kwargs):
    """make_grid(tensor, **kwargs) scaled from [0, 1] to uint8 (rounded) and saved with Pillow to a path or file."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs)
    ndarr = grid.mul(255).add(0.5).clamp(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    Image.fromarray(ndarr).save(fp, format=format)
