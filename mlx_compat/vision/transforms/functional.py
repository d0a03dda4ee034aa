"""torchvision.transforms.functional: the functions behind the transforms (conversions, geometry, color
adjustments, blur), for PIL images (where Pillow is installed) and for tensors shaped (..., C, H, W) (or
(..., H, W)), with torchvision's rules, errors and arithmetic (so results equal torchvision's on the same input).
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
        # (left, top, right, bottom) padding of the part inside the image, as torchvision computes it (a window
        # lying wholly outside pads an empty slice up to the requested size)
        padding = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0): bottom, max(left, 0): right], padding, fill=0)
    return img[..., top:bottom, left:right]


def _center_crop_size(output_size):
    if isinstance(output_size, numbers.Number):
        return int(output_size), int(output_size)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return output_size[0], output_size[0]
    return tuple(output_size)


def center_crop(img, output_size):
    _, h, w = get_dimensions(img)
    th, tw = _center_crop_size(output_size)
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


def _parse_fill(fill, img):
    """A PIL fill value for `img`: one number per band (a number repeats), integers unless the mode is "F"."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def _pil_from_array(arr, mode):
    """A PIL image of `mode` reading the array's bytes as that mode's pixels (what Image.fromarray(arr, mode) did
    before Pillow 11.3 deprecated `mode`; torchvision relies on it, e.g. int16 data as "I;16")."""
    from PIL import Image
    arr = np.ascontiguousarray(arr)
    return Image.frombuffer(mode, (arr.shape[1], arr.shape[0]), arr.tobytes(), "raw", mode, 0, 1)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by (left, top, right, bottom) (an int pads all sides, two values pad left/right and top/bottom)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    left, top, right, bottom = _parse_padding(padding)
    if _is_pil(img):
        from PIL import Image, ImageOps
        if padding_mode == "constant":
            out = ImageOps.expand(img, border=(left, top, right, bottom), fill=_parse_fill(fill, img))
            if img.mode == "P":
                out.putpalette(img.getpalette())
            return out
        # negative padding crops first, as torchvision's PIL path does
        crop_l, crop_t, crop_r, crop_b = (max(-v, 0) for v in (left, top, right, bottom))
        if crop_l or crop_t or crop_r or crop_b:
            img = img.crop((crop_l, crop_t, img.width - crop_r, img.height - crop_b))
        left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
        arr = np.asarray(img)
        widths = [(top, bottom), (left, right)] + ([(0, 0)] if arr.ndim == 3 else [])
        out = Image.fromarray(np.pad(arr, widths, mode=padding_mode))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
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


def _assert_image_tensor(img):
    if not (_is_tensor(img) and img.ndim >= 2):
        raise TypeError("Tensor is not a torch image.")


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def _max_value(dtype):
    """The largest value of an integer image dtype (1 for floating dtypes, whose images lie in [0, 1])."""
    torch = _torch()
    return {torch.uint8: 255, torch.int8: 127, torch.int16: 32767, torch.uint16: 65535, torch.int32: 2147483647,
            torch.int64: 9223372036854775807}.get(dtype, 1)


def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def pil_to_tensor(pic):
    """A PIL image as a CxHxW tensor of its own dtype (uint8 for 8-bit modes), values unscaled, data copied."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return _torch().from_numpy(np.ascontiguousarray(arr.transpose((2, 0, 1))))


def convert_image_dtype(image, dtype=None):
    """Converts a tensor image to `dtype`, rescaling values between the dtypes' ranges ([0, 1] for floats, [0, max]
    for integers) with torchvision's rules (floats to integers multiply by max + 1 - 1e-3 and truncate)."""
    torch = _torch()
    if dtype is None:
        dtype = torch.float
    if not isinstance(image, torch.Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == torch.float32 and dtype in (torch.int32, torch.int64)) or (
                image.dtype == torch.float64 and dtype == torch.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        return image.mul(float(_max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return torch.div(image, factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


def to_pil_image(pic, mode=None):
    """A CxHxW tensor or HxWxC numpy array as a PIL image; floats (unless mode 'F') are scaled by 255 to uint8,
    the mode follows from the channel count and dtype when not given (torchvision's table and errors)."""
    import sys

    torch = _torch()
    if isinstance(pic, torch.Tensor):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.detach().numpy()
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = np.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int32): "I", np.dtype(np.float32): "F",
                    np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {np.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 4: ["RGBA", "CMYK", "RGBX"], 3: ["RGB", "YCbCr", "HSV"]}[npimg.shape[2]]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {npimg.shape[2]}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    return _pil_from_array(npimg, mode)


def vflip(img):
    if _is_pil(img):
        from PIL import Image
        return img.transpose(Image.FLIP_TOP_BOTTOM)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    return img.flip(-2)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop then resize to `size`."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def five_crop(img, size):
    """The four corner crops and the center crop, in that order (tl, tr, bl, br, center)."""
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height, crop_width)
    center = center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def ten_crop(img, size, vertical_flip=False):
    """five_crop of the image, then five_crop of its horizontal (or vertical) flip."""
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    first = five_crop(img, size)
    return first + five_crop(vflip(img) if vertical_flip else hflip(img), size)


# ---------------------------------------------------------------- color


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma (0.2989 R + 0.587 G + 0.114 B, in the input's dtype) as 1 or 3 channels; PIL images use PIL's "L"."""
    if not _is_tensor(img):
        return to_grayscale(img, num_output_channels)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        gray = img.clone()
    if num_output_channels == 3:
        return gray.expand(img.shape)
    return gray


def to_grayscale(img, num_output_channels=1):
    """A PIL image in mode "L", or "RGB" with the luma in all three channels."""
    if not _is_pil(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = np.array(img.convert("L"), dtype=np.uint8)
        return _pil_from_array(np.dstack([gray, gray, gray]), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def _pil_enhance(img, enhancer, factor):
    from PIL import ImageEnhance
    return getattr(ImageEnhance, enhancer)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    """Blends with black: 0 gives black, 1 the image, 2 twice the brightness (clamped)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if _is_pil(img):
        return _pil_enhance(img, "Brightness", brightness_factor)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    return _blend(img, _torch().zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blends with the mean gray level of the image."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if _is_pil(img):
        return _pil_enhance(img, "Contrast", contrast_factor)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else torch.float32
    gray = rgb_to_grayscale(img) if get_dimensions(img)[0] == 3 else img
    mean = torch.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blends with the grayscale image: 0 gives gray, 1 the image, 2 doubles the saturation."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _is_pil(img):
        return _pil_enhance(img, "Color", saturation_factor)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img):
    """(h, s, v) stacked on dim -3 from RGB in [0, 1], Pillow's formulas (hue and saturation 0 on grays)."""
    torch = _torch()
    r, g, b = img.unbind(dim=-3)
    maxc = torch.amax(img, dim=-3)
    minc = torch.amin(img, dim=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return torch.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img):
    torch = _torch()
    h, s, v = img.unbind(dim=-3)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(dtype=torch.int32) % 6
    p = torch.clamp(v * (1.0 - s), 0.0, 1.0)
    q = torch.clamp(v * (1.0 - s * f), 0.0, 1.0)
    t = torch.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # sector i of the hue circle picks (r, g, b) among (v, q, p, t)
    table = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))
    channels = []
    for c in range(3):
        out = table[5][c]
        for k in range(4, -1, -1):
            out = torch.where(i == k, table[k][c], out)
        channels.append(out)
    return torch.stack(channels, dim=-3)


def adjust_hue(img, hue_factor):
    """Rotates the hue by `hue_factor` turns (in [-0.5, 0.5]) in HSV space; 1-channel images are returned as is."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        from PIL import Image
        if img.mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h += np.int32(hue_factor * 255).astype(np.uint8)  # wraps around, as the hue circle does
        return Image.merge("HSV", (_pil_from_array(np_h, "L"), s, v)).convert(img.mode)
    if not _is_tensor(img):
        raise TypeError("Input img should be Tensor image")
    torch = _torch()
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    orig_dtype = img.dtype
    hsv = _rgb2hsv(convert_image_dtype(img, torch.float32))
    h, s, v = hsv.unbind(dim=-3)
    h = (h + hue_factor) % 1.0
    return convert_image_dtype(_hsv2rgb(torch.stack((h, s, v), dim=-3)), orig_dtype)


def adjust_gamma(img, gamma, gain=1):
    """gain * img ** gamma on the [0, 1] scale, clamped."""
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    if _is_pil(img):
        mode = img.mode
        table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
        return img.convert("RGB").point(table).convert(mode)
    if not _is_tensor(img):
        raise TypeError("Input img should be a Tensor.")
    torch = _torch()
    _assert_channels(img, [1, 3])
    dtype = img.dtype
    result = img if img.is_floating_point() else convert_image_dtype(img, torch.float32)
    return convert_image_dtype((gain * result.pow(gamma)).clamp(0, 1), dtype)


# ---------------------------------------------------------------- blur


def _gaussian_kernel1d(kernel_size, sigma, dtype):
    torch = _torch()
    half = (kernel_size - 1) * 0.5
    x = torch.linspace(-half, half, steps=kernel_size, dtype=dtype)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def _gaussian_blur_tensor(img, kernel_size, sigma):
    torch = _torch()
    from ...nn import functional as NF
    _assert_image_tensor(img)
    dtype = img.dtype if img.is_floating_point() else torch.float32
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    kernel = torch.mm(ky[:, None], kx[None, :])
    channels = img.shape[-3]
    kernel = kernel.expand(channels, 1, kernel.shape[0], kernel.shape[1])
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]) if img.ndim != 4 else img
    out_dtype = x.dtype
    if x.dtype != dtype:
        x = x.to(dtype)
    padding = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2]
    x = NF.pad(x, padding, mode="reflect")
    x = NF.conv2d(x, kernel, groups=channels)
    if out_dtype != dtype:
        if not out_dtype.is_floating_point:
            x = torch.round(x)
        x = x.to(out_dtype)
    return x.reshape(*shape[:-2], x.shape[-2], x.shape[-1])


def gaussian_blur(img, kernel_size, sigma=None):
    """Blurs with a (kx, ky) Gaussian kernel (odd sizes), reflect-padded; PIL images go through the tensor path."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for v in sigma:
        if v <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if _is_tensor(img):
        return _gaussian_blur_tensor(img, kernel_size, sigma)
    if not _is_pil(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    return to_pil_image(_gaussian_blur_tensor(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)


# ---------------------------------------------------------------- rotation


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """The 2x3 matrix (row-major, 6 floats) of the affine map about `center` (rotation by `angle` degrees, shear,
    scale, translation), or of its inverse (what sampling needs), as torchvision composes it."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [x / scale for x in [d, -b, 0.0, -c, a, 0.0]]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [x * scale for x in [a, b, 0.0, c, d, 0.0]]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy)
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def _affine_output_size(matrix, w, h):
    """(w, h) of the canvas holding the whole transformed image (expand=True)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    new_pts = pts @ np.array(matrix, dtype=np.float32).reshape(2, 3).T
    min_vals = new_pts.min(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    max_vals = new_pts.max(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(max_vals / tol) * tol)
    cmin = np.floor(np.trunc(min_vals / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def _affine_grid(theta, w, h, ow, oh):
    """Sampling grid (1, oh, ow, 2) in grid_sample's [-1, 1] coordinates for output pixel centers."""
    torch = _torch()
    d = 0.5
    xs = torch.linspace(-ow * 0.5 + d, ow * 0.5 + d - 1, steps=ow, dtype=theta.dtype)
    ys = torch.linspace(-oh * 0.5 + d, oh * 0.5 + d - 1, steps=oh, dtype=theta.dtype)
    base = torch.stack((xs.expand(oh, ow), ys.unsqueeze(-1).expand(oh, ow), torch.ones(oh, ow, dtype=theta.dtype)),
                       dim=-1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base.reshape(1, oh * ow, 3).bmm(rescaled).reshape(1, oh, ow, 2)


def _grid_transform(img, grid, mode, fill):
    """grid_sample of `img` (zeros outside) with fill values blended in where the grid leaves the image."""
    torch = _torch()
    from ...nn import functional as NF
    squeeze = img.ndim < 4
    x = img.unsqueeze(0) if squeeze else img
    out_dtype = x.dtype
    if x.dtype != grid.dtype:
        x = x.to(grid.dtype)
    if x.shape[0] > 1:
        grid = grid.expand(x.shape[0], grid.shape[1], grid.shape[2], grid.shape[3])
    if fill is not None:
        x = torch.cat((x, torch.ones((x.shape[0], 1, x.shape[2], x.shape[3]), dtype=x.dtype)), dim=1)
    x = NF.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask = x[:, -1:, :, :]
        x = x[:, :-1, :, :]
        mask = mask.expand_as(x)
        values = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = torch.tensor(values, dtype=x.dtype).view(1, len(values), 1, 1).expand_as(x)
        if mode == "nearest":
            x = torch.where(mask < 0.5, fill_img, x)
        else:
            x = x * mask + (1.0 - mask) * fill_img
    if squeeze:
        x = x.squeeze(0)
    if x.dtype != out_dtype:
        if not out_dtype.is_floating_point:
            x = torch.round(x)
        x = x.to(out_dtype)
    return x


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotates by `angle` degrees counter-clockwise about `center` (default the image center), on a canvas of the
    same size or (expand=True) one holding the whole rotated image; uncovered pixels get `fill` (0 by default)."""
    if isinstance(interpolation, int):
        interpolation = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                         1: InterpolationMode.LANCZOS, 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}[
            interpolation]
    elif not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if _is_pil(img):
        from PIL import Image
        pil_mode = {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.BILINEAR: Image.BILINEAR,
                    InterpolationMode.BICUBIC: Image.BICUBIC}[interpolation]
        return img.rotate(angle, pil_mode, expand, center, fillcolor=_parse_fill(fill, img))
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    _assert_image_tensor(img)
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    channels = get_dimensions(img)[0]
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f"image ({len(fill)} != {channels})")
    center_f = [0.0, 0.0]
    if center is not None:
        _, height, width = get_dimensions(img)
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _affine_output_size(matrix, w, h) if expand else (w, h)
    dtype = img.dtype if img.is_floating_point() else torch.float32
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]) if img.ndim > 4 else img
    out = _grid_transform(x, _affine_grid(theta, w, h, ow, oh), interpolation.value, fill)
    return out.reshape(*shape[:-2], oh, ow) if img.ndim > 4 else out


def erase(img, i, j, h, w, v, inplace=False):
    """The (h, w) window at (i, j) of a tensor image set to `v` (broadcast over it), in place when asked."""
    if not _is_tensor(img):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotation by `angle` degrees, translation by `translate` pixels, scaling and shear (degrees, x or (x, y))
    about `center` (default the image center), keeping the image size; uncovered pixels get `fill`."""
    if isinstance(interpolation, int):
        interpolation = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                         1: InterpolationMode.LANCZOS, 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}[
            interpolation]
    elif not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    angle = float(angle)
    translate = list(translate)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, height, width = get_dimensions(img)
    if _is_pil(img):
        from PIL import Image
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        pil_mode = {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.BILINEAR: Image.BILINEAR,
                    InterpolationMode.BICUBIC: Image.BICUBIC}[interpolation]
        return img.transform(img.size, Image.AFFINE, matrix, pil_mode, fillcolor=_parse_fill(fill, img))
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    dtype = img.dtype if img.is_floating_point() else torch.float32
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]) if img.ndim > 4 else img
    out = _grid_transform(x, _affine_grid(theta, width, height, width, height), interpolation.value, fill)
    return out.reshape(shape) if img.ndim > 4 else out


# ---------------------------------------------------------------- the augmentation ops (AutoAugment's vocabulary)


def _check_color_image(img, name):
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])


def invert(img):
    """max - img (255 - img for uint8, 1 - img for floats)."""
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.invert(img)
    _check_color_image(img, "invert")
    return _max_value(img.dtype) - img


def posterize(img, bits):
    """Keeps the `bits` high bits of each uint8 channel value."""
    if not (0 <= bits <= 8):
        raise ValueError(f"The number if posterize bits should be between 0-8. Got {bits}")
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.posterize(img, bits)
    _check_color_image(img, "posterize")
    if img.dtype != _torch().uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    return img & -int(2 ** (8 - bits))


def solarize(img, threshold):
    """Inverts the values at or above `threshold`."""
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.solarize(img, threshold)
    _check_color_image(img, "solarize")
    if threshold > _max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return _torch().where(img >= threshold, invert(img), img)


def adjust_sharpness(img, sharpness_factor):
    """Blends with the image smoothed by PIL's 3x3 kernel (center 5, border 1; edges kept): 0 blurs, 1 keeps,
    2 sharpens."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    if _is_pil(img):
        return _pil_enhance(img, "Sharpness", sharpness_factor)
    if not _is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    torch = _torch()
    from ...nn import functional as NF
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if img.size(-1) <= 2 or img.size(-2) <= 2:
        return img
    dtype = img.dtype if img.is_floating_point() else torch.float32
    kernel = torch.ones((3, 3), dtype=dtype)
    kernel[1, 1] = 5.0
    kernel = kernel / kernel.sum()
    channels = img.shape[-3]
    kernel = kernel.expand(channels, 1, 3, 3)
    shape = img.shape
    x = img.reshape(-1, *shape[-3:]).to(dtype)
    blurred = NF.conv2d(x, kernel, groups=channels)
    if not img.is_floating_point():
        blurred = torch.round(blurred).to(img.dtype)
    degenerate = img.reshape(-1, *shape[-3:]).clone()
    degenerate[..., 1:-1, 1:-1] = blurred
    return _blend(img, degenerate.reshape(shape), sharpness_factor)


def autocontrast(img):
    """Stretches each channel's values to the full range (channels with one value are kept)."""
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.autocontrast(img)
    _check_color_image(img, "autocontrast")
    torch = _torch()
    bound = _max_value(img.dtype)
    dtype = img.dtype if img.is_floating_point() else torch.float32
    minimum = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    maximum = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    # torchvision writes bound / (max - min), which torch evaluates as reciprocal(max - min) * bound (the
    # rounding differs from a true division; uint8 results depend on it)
    scale = torch.reciprocal(maximum - minimum) * bound
    degenerate = torch.isfinite(scale).logical_not()
    minimum = torch.where(degenerate, torch.zeros_like(minimum), minimum)
    scale = torch.where(degenerate, torch.ones_like(scale), scale)
    return ((img - minimum) * scale).clamp(0, bound).to(img.dtype)


def _equalize_channel(chan):
    """PIL's histogram equalization of one uint8 channel (numpy, integer arithmetic)."""
    hist = np.bincount(chan.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return chan
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255).astype(np.uint8)
    return lut[chan.astype(np.int64)]


def equalize(img):
    """Histogram equalization per channel of uint8 images."""
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.equalize(img)
    _check_color_image(img, "equalize")
    if not 3 <= img.ndim <= 4:
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {img.ndim}")
    if img.dtype != _torch().uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    arr = img.numpy()
    flat = arr.reshape(-1, *arr.shape[-2:])
    out = np.stack([_equalize_channel(c) for c in flat]).reshape(arr.shape)
    return _torch().from_numpy(np.ascontiguousarray(out))
