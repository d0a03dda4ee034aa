"""torchvision.transforms.v2.functional: the v2 functions, dispatched on the input's type.  Images (tv_tensors.Image,
Video, plain tensors) and PIL images use the v1 kernels and keep their type; Masks follow geometric ops
(nearest-neighbour resizing) and pass color ops through; BoundingBoxes (XYXY, XYWH, CXCYWH) have their coordinates
moved by flips, crops, pads and resizes and are clamped to the new canvas as torchvision clamps them."""
from __future__ import annotations

import numpy as np

import mlx_compat as torch

from .. import functional as F1
from ..functional import InterpolationMode
from ... import tv_tensors

__all__ = ["affine", "center_crop", "crop", "erase", "five_crop", "gaussian_blur", "get_dimensions", "get_size", "hflip",
           "horizontal_flip", "normalize", "pad", "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate",
           "ten_crop", "to_dtype", "to_image", "to_pil_image", "to_pure_tensor", "vertical_flip", "vflip",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma",
           "convert_bounding_box_format", "clamp_bounding_boxes"]

pil_to_tensor = F1.pil_to_tensor
to_pil_image = F1.to_pil_image


def _is_pil(x):
    return F1._is_pil(x)


def _plain(x):
    return x.as_subclass(torch.Tensor) if isinstance(x, tv_tensors.TVTensor) else x


def _rewrap(out, like):
    return tv_tensors.wrap(out, like=like) if isinstance(like, tv_tensors.TVTensor) else out


def _image_kernel(inpt, fn, *args, **kwargs):
    """`fn` (a v1 function) on an image-like input, the result re-wrapped as the input's TVTensor type."""
    if isinstance(inpt, tv_tensors.TVTensor):
        return _rewrap(fn(_plain(inpt), *args, **kwargs), inpt)
    if isinstance(inpt, torch.Tensor) or _is_pil(inpt):
        return fn(inpt, *args, **kwargs)
    raise TypeError(f"Input should be a Tensor, a PIL image or a TVTensor. Got {type(inpt)}")


def _is_image_like(x):
    return isinstance(x, (tv_tensors.Image, tv_tensors.Video)) or type(x) is torch.Tensor or _is_pil(x)


def get_dimensions(inpt):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        raise TypeError("get_dimensions() is not defined for BoundingBoxes")
    return F1.get_dimensions(_plain(inpt))


def get_size(inpt):
    """[height, width] of an image, video, mask, PIL image or the canvas of bounding boxes."""
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return list(inpt.canvas_size)
    if isinstance(inpt, torch.Tensor):
        return [inpt.shape[-2], inpt.shape[-1]]
    _, h, w = F1.get_dimensions(inpt)
    return [h, w]


# ---------------------------------------------------------------- bounding boxes


_BF = tv_tensors.BoundingBoxFormat


def _check_box_format(fmt):
    if tv_tensors.is_rotated_bounding_format(fmt):
        raise NotImplementedError(f"mlx_compat.vision.transforms.v2 transforms axis-aligned boxes (XYXY, XYWH, "
                                  f"CXCYWH); {fmt} boxes are not supported")


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace=False):
    """Boxes converted between XYXY, XYWH and CXCYWH (old_format is taken from BoundingBoxes inputs)."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be passed.")
        old_format = inpt.format
    if isinstance(old_format, str):
        old_format = _BF[old_format.upper()]
    if isinstance(new_format, str):
        new_format = _BF[new_format.upper()]
    _check_box_format(old_format)
    _check_box_format(new_format)
    boxes = _plain(inpt)
    out = boxes
    if old_format != new_format:
        x = boxes if boxes.is_floating_point() else boxes.float()
        a, b, c, d = x.unbind(-1)
        if old_format == _BF.XYWH:
            a, b, c, d = a, b, a + c, b + d
        elif old_format == _BF.CXCYWH:
            a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
        if new_format == _BF.XYWH:
            a, b, c, d = a, b, c - a, d - b
        elif new_format == _BF.CXCYWH:
            a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
        out = torch.stack((a, b, c, d), dim=-1)
        if not boxes.is_floating_point():
            out = out.round().to(boxes.dtype)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return tv_tensors.wrap(out, like=inpt, format=new_format)
    return out


def _clamp_boxes(boxes, fmt, canvas_size, clamping_mode):
    if clamping_mode is None:
        return boxes.clone()
    in_dtype = boxes.dtype
    xyxy = convert_bounding_box_format(boxes.float() if not boxes.is_floating_point() else boxes, fmt, _BF.XYXY)
    x1, y1, x2, y2 = xyxy.unbind(-1)
    h, w = canvas_size
    xyxy = torch.stack((x1.clamp(0, w), y1.clamp(0, h), x2.clamp(0, w), y2.clamp(0, h)), dim=-1)
    return convert_bounding_box_format(xyxy, _BF.XYXY, fmt).to(in_dtype)


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode="soft"):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        out = _clamp_boxes(_plain(inpt), inpt.format, inpt.canvas_size, inpt.clamping_mode)
        return tv_tensors.wrap(out, like=inpt)
    if format is None or canvas_size is None:
        raise ValueError("For pure tensor inputs, `format` and `canvas_size` have to be passed.")
    fmt = _BF[format.upper()] if isinstance(format, str) else format
    return _clamp_boxes(inpt, fmt, canvas_size, clamping_mode)


def _box_shift(boxes, fmt, dx, dy):
    shift = [dx, dy, dx, dy] if fmt == _BF.XYXY else [dx, dy, 0, 0]
    return boxes + torch.tensor(shift, dtype=boxes.dtype)


def _boxes_op(inpt, op, *args):
    """Applies a box geometry op to BoundingBoxes, returning BoundingBoxes with the new canvas size."""
    _check_box_format(inpt.format)
    boxes, fmt, (h, w) = _plain(inpt), inpt.format, inpt.canvas_size
    if op == "hflip":
        x = boxes.clone()
        a, b, c, d = x.unbind(-1)
        if fmt == _BF.XYXY:
            a, c = w - c, w - a
        elif fmt == _BF.XYWH:
            a = w - (a + c)
        else:
            a = w - a
        out, canvas = torch.stack((a, b, c, d), dim=-1).to(boxes.dtype), (h, w)
    elif op == "vflip":
        a, b, c, d = boxes.unbind(-1)
        if fmt == _BF.XYXY:
            b, d = h - d, h - b
        elif fmt == _BF.XYWH:
            b = h - (b + d)
        else:
            b = h - b
        out, canvas = torch.stack((a, b, c, d), dim=-1).to(boxes.dtype), (h, w)
    elif op == "crop":
        top, left, height, width = args
        canvas = (height, width)
        out = _clamp_boxes(_box_shift(boxes, fmt, -left, -top), fmt, canvas, inpt.clamping_mode)
    elif op == "pad":
        left, top, right, bottom = args
        canvas = (h + top + bottom, w + left + right)
        out = _clamp_boxes(_box_shift(boxes, fmt, left, top), fmt, canvas, inpt.clamping_mode)
    elif op == "resize":
        new_h, new_w = args
        canvas = (new_h, new_w)
        if canvas == (h, w):
            out = boxes
        else:
            ratios = torch.tensor([new_w / w, new_h / h, new_w / w, new_h / h])
            out = boxes.mul(ratios).to(boxes.dtype)
    else:  # pragma: no cover - internal
        raise ValueError(op)
    return tv_tensors.wrap(out, like=inpt, canvas_size=canvas)


# ---------------------------------------------------------------- geometry


def horizontal_flip(inpt):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return _boxes_op(inpt, "hflip")
    return _image_kernel(inpt, F1.hflip)


def vertical_flip(inpt):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return _boxes_op(inpt, "vflip")
    return _image_kernel(inpt, F1.vflip)


hflip = horizontal_flip
vflip = vertical_flip


def crop(inpt, top, left, height, width):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return _boxes_op(inpt, "crop", top, left, height, width)
    return _image_kernel(inpt, F1.crop, top, left, height, width)


def _mask_call(inpt, fn, *args, **kwargs):
    """Masks shaped (..., H, W): the v1 function applied as to a 1-channel image."""
    x = _plain(inpt)
    squeeze = x.ndim < 3
    if squeeze:
        x = x.unsqueeze(0)
    out = fn(x, *args, **kwargs)
    if isinstance(out, tuple):
        return tuple(_rewrap(o.squeeze(0) if squeeze else o, inpt) for o in out)
    return _rewrap(out.squeeze(0) if squeeze else out, inpt)


def _mode(interpolation):
    return InterpolationMode(interpolation) if isinstance(interpolation, str) else interpolation


def _max_size_only(h, w, max_size):
    """(h, w) with the longer edge resized to max_size (v2's size=None), the shorter edge truncated."""
    if not isinstance(max_size, int):
        raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
    short, long = (w, h) if w <= h else (h, w)
    new_short = int(max_size * short / long)
    return (max_size, new_short) if w <= h else (new_short, max_size)


def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """v1's resize per input type; size=None resizes the longer edge to max_size."""
    interpolation = _mode(interpolation)
    if size is None:
        h, w = get_size(inpt)
        size, max_size = list(_max_size_only(h, w, max_size)), None
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        h, w = inpt.canvas_size
        new_h, new_w = F1._resized_size(h, w, size, max_size)
        return _boxes_op(inpt, "resize", new_h, new_w)
    if isinstance(inpt, tv_tensors.Mask):
        if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
            interpolation = InterpolationMode.NEAREST
        return _mask_call(inpt, F1.resize, size, interpolation, max_size, False)
    return _image_kernel(inpt, F1.resize, size, interpolation, max_size, antialias)


def center_crop(inpt, output_size):
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        th, tw = F1._center_crop_size(output_size)
        h, w = inpt.canvas_size
        return _boxes_op(inpt, "crop", int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)
    if isinstance(inpt, tv_tensors.Mask):
        return _mask_call(inpt, F1.center_crop, output_size)
    return _image_kernel(inpt, F1.center_crop, output_size)


def resized_crop(inpt, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(inpt, top, left, height, width), size, interpolation, antialias=antialias)


def pad(inpt, padding, fill=None, padding_mode="constant"):
    fill = 0 if fill is None else fill
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        return _boxes_op(inpt, "pad", *F1._parse_padding(padding))
    if isinstance(inpt, tv_tensors.Mask):
        return _mask_call(inpt, F1.pad, padding, fill, padding_mode)
    return _image_kernel(inpt, F1.pad, padding, fill, padding_mode)


def five_crop(inpt, size):
    out = F1.five_crop(_plain(inpt), size)
    return tuple(_rewrap(o, inpt) for o in out)


def ten_crop(inpt, size, vertical_flip=False):
    out = F1.ten_crop(_plain(inpt), size, vertical_flip)
    return tuple(_rewrap(o, inpt) for o in out)


# ---------------------------------------------------------------- color and misc (images only; masks and boxes pass)


def _refuse_non_images(name, inpt):
    """The functionals take images, videos, plain tensors and PIL images only (the transform classes pass other
    TVTensors through instead of calling them)."""
    if isinstance(inpt, tv_tensors.TVTensor) and not isinstance(inpt, (tv_tensors.Image, tv_tensors.Video)):
        raise TypeError(f"Functional F.{name} supports inputs of type Image, Video, Tensor and PIL Image, but got "
                        f"{type(inpt)} instead.")


def _color(fn):
    def op(inpt, *args, **kwargs):
        _refuse_non_images(fn.__name__, inpt)
        return _image_kernel(inpt, fn, *args, **kwargs)

    op.__name__ = fn.__name__
    op.__doc__ = fn.__doc__
    return op


adjust_brightness = _color(F1.adjust_brightness)


def _axpy(x, alpha, y):
    """y + alpha * x rounded once to float32, as torch's CPU `y.add_(x, alpha=alpha)` computes it (a fused
    multiply-add; the float64 sum of the exact product is rounded to float32) (Note [v2 fused adds])."""
    alpha32 = float(np.float32(alpha))
    return (y.to(torch.float64) + x.to(torch.float64) * alpha32).to(torch.float32)


# Note [v2 fused adds]: torchvision's v2 color kernels build the luma and the blends with `add_(other, alpha=)`,
# which torch's CPU kernels evaluate as fused multiply-adds; v1 uses separate multiplies and adds.  For integer
# images the two roundings differ where the result lands within an ulp of an integer, which truncation turns
# into off-by-one pixels, so the v2 kernels below reproduce the single rounding.


def _gray_v2(img, preserve_dtype):
    r, g, b = img.unbind(dim=-3)
    if img.dtype == torch.float64:
        gray = r * 0.2989 + g * 0.587 + b * 0.114
    else:
        gray = _axpy(b, 0.114, _axpy(g, 0.587, r * 0.2989))
    gray = gray.unsqueeze(dim=-3)
    return gray.to(img.dtype) if preserve_dtype else gray


def _blend_v2(img1, img2, ratio):
    ratio = float(ratio)
    if img1.dtype == torch.float64:
        out = img1 * ratio + img2 * (1.0 - ratio)
    else:
        out = _axpy(img2, 1.0 - ratio, img1 * ratio)
    out = out.clamp(0, F1._max_value(img1.dtype))
    return out if img1.is_floating_point() else out.to(img1.dtype)


def _rgb_to_grayscale_v2(img, num_output_channels=1):
    if not F1._is_tensor(img):
        return F1.rgb_to_grayscale(img, num_output_channels)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels must be 1 or 3")
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    F1._assert_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img.clone() if num_output_channels == 1 else img.expand(*img.shape[:-3], 3, *img.shape[-2:]).clone()
    gray = _gray_v2(img, preserve_dtype=True)
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def _adjust_saturation_v2(img, saturation_factor):
    if not F1._is_tensor(img):
        return F1.adjust_saturation(img, saturation_factor)
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    F1._assert_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img
    gray = _gray_v2(img, preserve_dtype=False)
    if not img.is_floating_point():
        gray = gray.floor()
    return _blend_v2(img, gray, saturation_factor)


def _adjust_contrast_v2(img, contrast_factor):
    if not F1._is_tensor(img):
        return F1.adjust_contrast(img, contrast_factor)
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    F1._assert_channels(img, [1, 3])
    if img.shape[-3] == 3:
        gray = _gray_v2(img, preserve_dtype=False)
        if not img.is_floating_point():
            gray = gray.floor()
    else:
        gray = img if img.is_floating_point() else img.to(torch.float32)
    return _blend_v2(img, torch.mean(gray, dim=(-3, -2, -1), keepdim=True), contrast_factor)


_adjust_saturation_v2.__name__, _adjust_contrast_v2.__name__ = "adjust_saturation", "adjust_contrast"
_rgb_to_grayscale_v2.__name__ = "rgb_to_grayscale"
adjust_contrast = _color(_adjust_contrast_v2)
adjust_saturation = _color(_adjust_saturation_v2)


def _adjust_hue_v2(img, hue_factor):
    """v1's hue rotation, with v2's scaling to float (multiplying by 1/max, not dividing by max)."""
    if not F1._is_tensor(img):
        return F1.adjust_hue(img, hue_factor)
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    F1._assert_channels(img, [1, 3])
    if img.shape[-3] == 1 or img.numel() == 0:
        return img
    h, s, v = F1._rgb2hsv(to_dtype_image(img, torch.float32, scale=True)).unbind(dim=-3)
    h = (h + hue_factor).remainder(1.0)
    return to_dtype_image(F1._hsv2rgb(torch.stack((h, s, v), dim=-3)), img.dtype, scale=True)


def _adjust_gamma_v2(img, gamma, gain=1.0):
    """gain * img ** gamma on the [0, 1] scale; v2 clamps only when gain != 1."""
    if not F1._is_tensor(img):
        return F1.adjust_gamma(img, gamma, gain)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    out = to_dtype_image(img, torch.float32, scale=True).pow(gamma) if not img.is_floating_point() \
        else img.pow(gamma)
    if gain != 1.0:
        out = out.mul(gain).clamp(0.0, 1.0)
    return to_dtype_image(out, img.dtype, scale=True)


_adjust_hue_v2.__name__, _adjust_gamma_v2.__name__ = "adjust_hue", "adjust_gamma"
adjust_hue = _color(_adjust_hue_v2)
adjust_gamma = _color(_adjust_gamma_v2)
rgb_to_grayscale = _color(_rgb_to_grayscale_v2)
gaussian_blur = _color(F1.gaussian_blur)


def normalize(inpt, mean, std, inplace=False):
    """Images, videos and plain tensors only (PIL images are a TypeError, as in torchvision)."""
    _refuse_non_images("normalize", inpt)
    if _is_pil(inpt):
        raise TypeError(f"F.normalize() does not support PIL images (got {type(inpt)}); convert them with "
                        "ToImage() and ToDtype(torch.float32, scale=True) first")
    return _image_kernel(inpt, F1.normalize, mean, std, inplace)


def _num_value_bits(dtype):
    return {torch.uint8: 8, torch.int8: 7, torch.int16: 15, torch.uint16: 16, torch.int32: 31,
            torch.int64: 63}[dtype]


def to_dtype_image(image, dtype=None, scale=False):
    """`image` as `dtype`; with scale=True its values move between the dtypes' value ranges (v2's arithmetic:
    integers to floats multiply by 1/max, integers to integers shift bits)."""
    dtype = torch.float32 if dtype is None else dtype
    if image.dtype == dtype:
        return image
    if not scale:
        return image.to(dtype)
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == torch.float32 and dtype in (torch.int32, torch.int64)) or (
                image.dtype == torch.float64 and dtype == torch.int64):
            raise RuntimeError(f"The conversion from {image.dtype} to {dtype} cannot be performed safely.")
        return image.mul(float(F1._max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    if dtype.is_floating_point:
        return image.to(dtype).mul_(1.0 / F1._max_value(image.dtype))
    bits_in, bits_out = _num_value_bits(image.dtype), _num_value_bits(dtype)
    if bits_in > bits_out:
        return torch.bitwise_right_shift(image, bits_in - bits_out).to(dtype)
    return torch.bitwise_left_shift(image.to(dtype), bits_out - bits_in)


def to_dtype(inpt, dtype=None, scale=False):
    if isinstance(inpt, (tv_tensors.Mask, tv_tensors.BoundingBoxes)):
        return _rewrap(_plain(inpt).to(dtype), inpt)
    if not isinstance(inpt, torch.Tensor):
        raise TypeError(f"to_dtype() supports tensors and TVTensors, got {type(inpt)}")
    return _rewrap(to_dtype_image(_plain(inpt), dtype, scale), inpt)


def to_image(inpt):
    """A tv_tensors.Image from a tensor, a PIL image or an HxWxC numpy array."""
    import numpy as np
    if isinstance(inpt, np.ndarray):
        out = torch.from_numpy(np.atleast_3d(inpt)).permute((2, 0, 1)).contiguous()
    elif _is_pil(inpt):
        out = F1.pil_to_tensor(inpt)
    elif isinstance(inpt, torch.Tensor):
        out = inpt
    else:
        raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} "
                        "instead.")
    return tv_tensors.Image(out)


def to_pure_tensor(inpt):
    return _plain(inpt)


# ---------------------------------------------------------------- rotation


def _affine_boxes(inpt, angle, translate, scale, shear, center, expand):
    """Axis-aligned boxes after an affine map of the canvas: the bounds of each box's mapped corners (translated
    onto the expanded canvas when `expand`), clamped, in the input's format."""
    _check_box_format(inpt.format)
    boxes, fmt, (h, w) = _plain(inpt), inpt.format, inpt.canvas_size
    if boxes.numel() == 0:
        return inpt
    xyxy = convert_bounding_box_format(boxes.float() if not boxes.is_floating_point() else boxes, fmt, _BF.XYXY)
    center_f = [w * 0.5, h * 0.5] if center is None else [float(c) for c in center]
    forward = F1._get_inverse_affine_matrix(center_f, angle, translate, scale, shear, inverted=False)
    mat = torch.tensor(forward, dtype=xyxy.dtype).reshape(2, 3).T
    flat = xyxy.reshape(-1, 4)
    corners = flat[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
    points = torch.cat([corners, torch.ones(corners.shape[0], 1, dtype=xyxy.dtype)], dim=-1)
    moved = torch.matmul(points, mat).reshape(-1, 4, 2)
    out = torch.cat([moved.amin(dim=1), moved.amax(dim=1)], dim=1)
    canvas = (h, w)
    if expand:
        frame = torch.tensor([[0.0, 0.0, 1.0], [0.0, float(h), 1.0], [float(w), float(h), 1.0], [float(w), 0.0, 1.0]],
                             dtype=xyxy.dtype)
        shift = torch.matmul(frame, mat).amin(dim=0, keepdim=True)
        out = out - shift.repeat(1, 2)
        inverse = F1._get_inverse_affine_matrix(center_f, angle, translate, scale, shear)
        new_w, new_h = F1._affine_output_size(inverse, w, h)
        canvas = (new_h, new_w)
    out = _clamp_boxes(out, _BF.XYXY, canvas, inpt.clamping_mode)
    out = convert_bounding_box_format(out, _BF.XYXY, fmt).reshape(boxes.shape)
    if not boxes.is_floating_point():
        out = out.to(boxes.dtype)
    return tv_tensors.wrap(out, like=inpt, canvas_size=canvas)


def _rotate_boxes(inpt, angle, expand, center):
    return _affine_boxes(inpt, -angle, [0.0, 0.0], 1.0, [0.0, 0.0], center, expand)


def affine(inpt, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    interpolation = _mode(interpolation)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        shear_list = [shear, 0.0] if isinstance(shear, (int, float)) else list(shear)
        if len(shear_list) == 1:
            shear_list = shear_list * 2
        return _affine_boxes(inpt, float(angle), [float(t) for t in translate], scale, shear_list, center, False)
    if isinstance(inpt, tv_tensors.Mask):
        return _mask_call(inpt, F1.affine, angle, translate, scale, shear, InterpolationMode.NEAREST, fill, center)
    return _image_kernel(inpt, F1.affine, angle, translate, scale, shear, interpolation, fill, center)


def _rotate_image_v2(img, angle, interpolation, expand, center, fill):
    """v2's rotation: quarter turns about the center are exact rot90s, anything else v1's resampling."""
    if F1._is_tensor(img):
        turn = angle % 360
        if center is None:
            if turn == 0:
                return img.clone()
            if turn == 180:
                return torch.rot90(img, k=2, dims=(-2, -1))
            if (expand or img.shape[-1] == img.shape[-2]) and turn in (90, 270):
                return torch.rot90(img, k=1 if turn == 90 else 3, dims=(-2, -1))
    return F1.rotate(img, angle, interpolation, expand, center, fill)


def rotate(inpt, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    interpolation = _mode(interpolation)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return _rotate_boxes(inpt, angle, expand, center)
    if isinstance(inpt, tv_tensors.Mask):
        return _mask_call(inpt, _rotate_image_v2, angle, InterpolationMode.NEAREST, expand, center, fill)
    return _image_kernel(inpt, _rotate_image_v2, angle, interpolation, expand, center, fill)


def erase(inpt, i, j, h, w, v, inplace=False):
    """The (h, w) window at (i, j) set to `v` on images, videos, plain tensors and PIL images."""
    _refuse_non_images("erase", inpt)
    if _is_pil(inpt):
        return F1.to_pil_image(F1.erase(F1.pil_to_tensor(inpt), i, j, h, w, v, inplace), mode=inpt.mode)
    return _image_kernel(inpt, F1.erase, i, j, h, w, v, inplace)
