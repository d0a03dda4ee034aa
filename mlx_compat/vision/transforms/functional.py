"""torchvision.transforms.functional: the functions behind the transforms, for PIL images (where Pillow is
installed) and for tensors shaped (..., C, H, W) (or (..., H, W)), with torchvision's rules and errors.
Pillow is optional: without it, numpy arrays and tensors work and PIL inputs cannot occur."""
from __future__ import annotations

import enum
import math
import numbers

import numpy as np


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _torch():
    import mlx_compat
    return mlx_compat


def _is_pil(img):
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _is_tensor(img):
    return isinstance(img, _torch().Tensor)


def get_dimensions(img):
    """[channels, height, width]."""
    if _is_tensor(img):
        if img.dim() < 2:
            raise TypeError(f"Tensor is not a torch image (expected at least 2 dimensions, got {img.dim()})")
        c = 1 if img.dim() == 2 else img.shape[-3]
        return [c, img.shape[-2], img.shape[-1]]
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def to_tensor(pic):
    """A PIL image or HxW(xC) numpy array as a CxHxW tensor; uint8 data becomes the default float dtype in [0, 1]."""
    torch = _torch()
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = torch.from_numpy(np.ascontiguousarray(pic.transpose((2, 0, 1))))
        if img.dtype is torch.uint8:
            return img.to(dtype=torch.get_default_dtype()).div(255)
        return img
    mode_to_np = {"I": np.int32, "I;16": np.int16 if pic.mode == "I;16" else np.int16, "F": np.float32}
    arr = np.array(pic, mode_to_np.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        arr = 255 * arr
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    img = torch.from_numpy(np.ascontiguousarray(arr.transpose((2, 0, 1))))
    if img.dtype is torch.uint8:
        return img.to(dtype=torch.get_default_dtype()).div(255)
    return img


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a (..., C, H, W) float tensor."""
    torch = _torch()
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = torch.as_tensor(mean, dtype=dtype, device=tensor.device)
    std = torch.as_tensor(std, dtype=dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def hflip(img):
    if _is_pil(img):
        from PIL import Image
        return img.transpose(Image.FLIP_LEFT_RIGHT)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    return img.flip(-1)


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); parts outside the image are zeros (as torchvision pads)."""
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pads = [max(-left, 0), max(right - w, 0), max(-top, 0), max(bottom - h, 0)]
        window = img[..., max(top, 0): bottom, max(left, 0): right]
        return pad(window, [pads[0], pads[2], pads[1], pads[3]], fill=0)
    return img[..., top:bottom, left:right]


def center_crop(img, output_size):
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    th, tw = output_size
    if tw > w or th > h:
        padding = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                   (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if tw == w and th == h:
            return img
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def _parse_padding(padding):
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = list(padding)
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by (left, top, right, bottom) (an int pads all sides, two values pad left/right and top/bottom)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    if _is_pil(img):
        from PIL import Image, ImageOps
        if padding_mode == "constant":
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=fill)
        arr = np.asarray(img)
        widths = [(top, bottom), (left, right)] + ([(0, 0)] if arr.ndim == 3 else [])
        return Image.fromarray(np.pad(arr, widths, mode={"edge": "edge", "reflect": "reflect",
                                                          "symmetric": "symmetric"}[padding_mode]))
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    from ...nn import functional as F
    if padding_mode == "symmetric":
        arr = img.numpy()
        widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
        return torch.from_numpy(np.pad(arr, widths, mode="symmetric"))
    mode = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}[padding_mode]
    if mode == "constant":
        return F.pad(img, [left, right, top, bottom], mode="constant", value=fill)
    squeeze = img.dim() == 2
    x = img.unsqueeze(0) if squeeze else img
    out_dtype = x.dtype
    if not x.is_floating_point():
        x = x.to(torch.float32)
    out = F.pad(x, [left, right, top, bottom], mode=mode).to(out_dtype)
    return out.squeeze(0) if squeeze else out


def _resized_size(h, w, size, max_size):
    if isinstance(size, int) or len(size) == 1:
        requested = size if isinstance(size, int) else size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. "
                         "size should be an int or a sequence of length 1 in torchscript mode.")
    return int(size[0]), int(size[1])


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to (h, w), or the smaller edge to `size` keeping the aspect ratio."""
    if isinstance(interpolation, int):
        interpolation = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                         1: InterpolationMode.LANCZOS, 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}[
            interpolation]
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    _, h, w = get_dimensions(img)
    new_h, new_w = _resized_size(h, w, size, max_size)
    if (new_h, new_w) == (h, w):
        return img
    if _is_pil(img):
        from PIL import Image
        pil_mode = {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.BILINEAR: Image.BILINEAR,
                    InterpolationMode.BICUBIC: Image.BICUBIC, InterpolationMode.LANCZOS: Image.LANCZOS,
                    InterpolationMode.BOX: Image.BOX, InterpolationMode.HAMMING: Image.HAMMING}
        if interpolation not in pil_mode:
            raise ValueError(f"{interpolation} is not supported for PIL images")
        return img.resize((new_w, new_h), pil_mode[interpolation])
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    from ...nn import functional as F
    modes = {InterpolationMode.NEAREST: "nearest", InterpolationMode.NEAREST_EXACT: "nearest-exact",
             InterpolationMode.BILINEAR: "bilinear", InterpolationMode.BICUBIC: "bicubic"}
    if interpolation not in modes:
        raise ValueError(f"Tensor resize does not support {interpolation}")
    mode = modes[interpolation]
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]) if img.dim() >= 3 else img.reshape(1, 1, *shape)
    out_dtype = x.dtype
    if not x.is_floating_point():
        x = x.to(torch.float32)
    kw = {"align_corners": False, "antialias": antialias} if mode in ("bilinear", "bicubic") else {}
    out = F.interpolate(x, size=[new_h, new_w], mode=mode, **kw)
    if mode == "bicubic" and out_dtype is torch.uint8:
        out = out.clamp(0, 255)
    if not out_dtype.is_floating_point:
        out = out.round().to(out_dtype)
    return out.reshape(*shape[:-2], new_h, new_w)
