"""The v2 transform classes: the Transform base (inputs of any nesting of tuples, lists and dicts; one set of random
parameters per call shared by every image, video, mask and box in it; torchvision's rule for plain tensors) and the
common transforms built on it."""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

import mlx_compat as torch

from mlx_compat.nn import Module
from .. import transforms as _v1
from ..functional import InterpolationMode, _parse_padding
from ... import tv_tensors
from . import functional as F

__all__ = ["CenterCrop", "ClampBoundingBoxes", "ColorJitter", "Compose", "ConvertBoundingBoxFormat",
           "ConvertImageDtype", "FiveCrop", "SanitizeBoundingBoxes", "TenCrop", "GaussianBlur", "Grayscale", "Identity",
           "Lambda", "Normalize", "PILToTensor", "Pad", "RandomApply", "RandomChoice", "RandomCrop",
           "RandomAffine", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop", "RandomRotation",
           "RandomVerticalFlip",
           "Resize", "ToDtype", "ToImage", "ToPILImage", "ToPureTensor", "Transform"]


def _tree_flatten(tree):
    """(leaves, spec) of nested lists, tuples and dicts, depth first (dicts in insertion order)."""
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        leaves, specs = [], []
        for item in tree:
            sub_leaves, sub_spec = _tree_flatten(item)
            leaves += sub_leaves
            specs.append((len(sub_leaves), sub_spec))
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for item in tree.values():
            sub_leaves, sub_spec = _tree_flatten(item)
            leaves += sub_leaves
            specs.append((len(sub_leaves), sub_spec))
        return leaves, (type(tree), list(tree.keys()), specs)
    return [tree], None


def _tree_unflatten(leaves, spec):
    if spec is None:
        return leaves[0]
    kind, keys, specs = spec
    items, pos = [], 0
    for count, sub_spec in specs:
        items.append(_tree_unflatten(leaves[pos:pos + count], sub_spec))
        pos += count
    if keys is not None:
        return kind(zip(keys, items))
    return kind(items)


def _is_pil(x):
    return F._is_pil(x)


def _is_pure_tensor(x):
    return isinstance(x, torch.Tensor) and not isinstance(x, tv_tensors.TVTensor)


def _images_only(transform):
    """Wraps `transform(self, inpt, params)` so Masks and BoundingBoxes pass through (color ops, normalize)."""
    def wrapped(self, inpt, params):
        if isinstance(inpt, (tv_tensors.Mask, tv_tensors.BoundingBoxes)):
            return inpt
        return transform(self, inpt, params)

    wrapped.__name__ = transform.__name__
    return wrapped


def _query_size(flat_inputs):
    """(H, W) shared by the image-like inputs (images, videos, masks, boxes' canvas, PIL images, plain tensors)."""
    sizes = {tuple(F.get_size(x)) for x in flat_inputs
             if isinstance(x, torch.Tensor) or _is_pil(x)}
    if not sizes:
        raise TypeError("No image, video, mask or bounding box was found in the sample")
    if len(sizes) > 1:
        raise ValueError(f"Found multiple HxW dimensions in the sample: {sorted(sizes)}")
    return sizes.pop()


class Transform(Module):
    """Base of the v2 transforms: `make_params(flat_inputs)` draws the random parameters once per call and
    `transform(inpt, params)` applies them to each input that needs it.  `_transformed_types` lists what a
    transform takes: classes, predicates, or "PIL" for PIL images (Pillow is optional, so not named by class)."""

    _transformed_types = (torch.Tensor, "PIL")

    def __init__(self):
        super().__init__()

    def check_inputs(self, flat_inputs):
        pass

    def make_params(self, flat_inputs):
        return dict()

    def transform(self, inpt, params):
        raise NotImplementedError

    def _accepts(self, inpt):
        for t in self._transformed_types:
            if t == "PIL":
                if _is_pil(inpt):
                    return True
            elif callable(t) and not isinstance(t, type):
                if t(inpt):
                    return True
            elif isinstance(inpt, t):
                return True
        return False

    def _needs_transform_list(self, flat_inputs):
        # A plain tensor counts as the image only when the sample holds no Image, Video or PIL image, and then
        # only the first one (depth first); later plain tensors pass through (torchvision's heuristic).
        transform_pure = not any(isinstance(x, (tv_tensors.Image, tv_tensors.Video)) or _is_pil(x)
                                 for x in flat_inputs)
        needs = []
        for inpt in flat_inputs:
            need = self._accepts(inpt)
            if need and _is_pure_tensor(inpt):
                if transform_pure:
                    transform_pure = False
                else:
                    need = False
            needs.append(need)
        return needs

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = _tree_flatten(inputs)
        self.check_inputs(flat_inputs)
        needs = self._needs_transform_list(flat_inputs)
        params = self.make_params([x for x, n in zip(flat_inputs, needs) if n])
        outputs = [self.transform(x, params) if n else x for x, n in zip(flat_inputs, needs)]
        return _tree_unflatten(outputs, spec)

    def extra_repr(self):
        # the public attributes of simple types, as torchvision's v2 transforms print them
        import enum
        extra = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if not isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                continue
            extra.append(f"{name}={value}")
        return ", ".join(extra)


class _RandomApplyTransform(Transform):
    def __init__(self, p=0.5):
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = _tree_flatten(inputs)
        self.check_inputs(flat_inputs)
        if torch.rand(1).item() >= self.p:
            return inputs
        needs = self._needs_transform_list(flat_inputs)
        params = self.make_params([x for x, n in zip(flat_inputs, needs) if n])
        outputs = [self.transform(x, params) if n else x for x, n in zip(flat_inputs, needs)]
        return _tree_unflatten(outputs, spec)


# ---------------------------------------------------------------- containers


class Compose(Transform):
    def __init__(self, transforms):
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = transforms

    def forward(self, *inputs):
        needs_unpacking = len(inputs) > 1
        for t in self.transforms:
            outputs = t(*inputs)
            inputs = outputs if needs_unpacking else (outputs,)
        return outputs

    def extra_repr(self):
        return "\n".join(f"    {t}" for t in self.transforms)


class RandomApply(Transform):
    """All of `transforms` with probability p."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        if not isinstance(transforms, (Sequence, Module)):
            raise TypeError("Argument transforms should be a sequence of callables or a `nn.ModuleList`")
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.transforms = transforms
        self.p = p

    def forward(self, *inputs):
        needs_unpacking = len(inputs) > 1
        if torch.rand(1).item() >= self.p:
            return inputs if needs_unpacking else inputs[0]
        for t in self.transforms:
            outputs = t(*inputs)
            inputs = outputs if needs_unpacking else (outputs,)
        return outputs

    def extra_repr(self):
        return "\n".join(f"    {t}" for t in self.transforms)


class RandomChoice(Transform):
    """One of `transforms`, picked with probabilities `p` (normalized) by our generator."""

    def __init__(self, transforms, p=None):
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        self.transforms = transforms
        total = sum(p)
        self.p = [prob / total for prob in p]

    def forward(self, *inputs):
        idx = int(torch.multinomial(torch.tensor(self.p), 1))
        return self.transforms[idx](*inputs)


class RandomOrder(Transform):
    """`transforms` in an order drawn by our generator (randperm)."""

    def __init__(self, transforms):
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        self.transforms = transforms

    def forward(self, *inputs):
        needs_unpacking = len(inputs) > 1
        for idx in torch.randperm(len(self.transforms)).tolist():
            outputs = self.transforms[idx](*inputs)
            inputs = outputs if needs_unpacking else (outputs,)
        return outputs


class Identity(Transform):
    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    """`lambd` applied to the inputs of `types` (all inputs by default)."""

    _transformed_types = (object,)

    def __init__(self, lambd, *types):
        super().__init__()
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd
        self.types = types or self._transformed_types

    def _accepts(self, inpt):
        return isinstance(inpt, self.types)

    def _needs_transform_list(self, flat_inputs):
        return [self._accepts(x) for x in flat_inputs]

    def transform(self, inpt, params):
        return self.lambd(inpt)

    def extra_repr(self):
        extras = []
        name = getattr(self.lambd, "__name__", None)
        if name:
            extras.append(name)
        extras.append(f"types={[type.__name__ for type in self.types]}")
        return ", ".join(extras)


# ---------------------------------------------------------------- conversions


class ToImage(Transform):
    """Plain tensors, PIL images and HxWxC numpy arrays -> tv_tensors.Image."""

    _transformed_types = (_is_pure_tensor, "PIL", np.ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class PILToTensor(Transform):
    _transformed_types = ("PIL",)

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToPILImage(Transform):
    _transformed_types = (_is_pure_tensor, tv_tensors.Image, np.ndarray)

    def __init__(self, mode=None):
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        return F.to_pil_image(inpt, mode=self.mode)


class ToPureTensor(Transform):
    """TVTensors -> plain Tensors."""

    _transformed_types = (tv_tensors.TVTensor,)

    def transform(self, inpt, params):
        return F.to_pure_tensor(inpt)


class ToDtype(Transform):
    """Converts images and videos (and the plain-tensor image) to `dtype`, scaling values between the dtypes'
    ranges when `scale`; a dict maps tv_tensor types (and "others") to dtypes."""

    _transformed_types = (torch.Tensor,)

    def __init__(self, dtype, scale=False):
        super().__init__()
        if not isinstance(dtype, (dict, torch.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        if isinstance(dtype, dict) and torch.Tensor in dtype and any(
                cls in dtype for cls in (tv_tensors.Image, tv_tensors.Video)):
            warnings.warn("Got `dtype` values for `torch.Tensor` and either `tv_tensors.Image` or "
                          "`tv_tensors.Video`. Note that a plain `torch.Tensor` will *not* be transformed by this "
                          "(or any other transformation) in case a `tv_tensors.Image` or `tv_tensors.Video` is "
                          "present in the input.")
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt, params):
        image_like = _is_pure_tensor(inpt) or isinstance(inpt, (tv_tensors.Image, tv_tensors.Video))
        if isinstance(self.dtype, torch.dtype):
            if not image_like:
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need to convert the dtype "
                             "of images or videos, you can just pass e.g. dtype=torch.float32. If you're passing a "
                             "dict as dtype, you can use \"others\" as a catch-all key e.g. dtype={tv_tensors.Mask: "
                             "torch.int64, \"others\": None} to pass-through the rest of the inputs.")
        if dtype is None:
            if self.scale and image_like:
                warnings.warn("scale was set to True but no dtype was specified for images or videos: no scaling "
                              "will be done.")
            return inpt
        return F.to_dtype(inpt, dtype=dtype, scale=self.scale and image_like)


class ConvertImageDtype(Transform):
    _transformed_types = (torch.Tensor,)

    def __init__(self, dtype=torch.float32):
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt, params):
        if not (_is_pure_tensor(inpt) or isinstance(inpt, (tv_tensors.Image, tv_tensors.Video))):
            return inpt
        return F.to_dtype(inpt, dtype=self.dtype, scale=True)


# ---------------------------------------------------------------- geometry and color


class Normalize(Transform):
    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    @_images_only
    def transform(self, inpt, params):
        return F.normalize(inpt, self.mean, self.std, self.inplace)


class Resize(Transform):
    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, Sequence) and len(size) in {1, 2}:
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        else:
            raise ValueError(f"size can be an integer, a sequence of one or two integers, or None, but got {size} "
                             "instead.")
        self.size = size
        self.interpolation = _interpolation_value(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def transform(self, inpt, params):
        return F.resize(inpt, self.size, self.interpolation, self.max_size, self.antialias)


def _interpolation_value(interpolation):
    """The mode's string ("bilinear"), which is what torchvision's v2 transforms keep in `.interpolation`."""
    if isinstance(interpolation, int):
        interpolation = _v1._PIL_INTERPOLATION[interpolation]
    if isinstance(interpolation, str):
        interpolation = InterpolationMode(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise ValueError(f"Interpolation {interpolation!r} is not a valid InterpolationMode")
    return interpolation.value


class CenterCrop(Transform):
    def __init__(self, size):
        super().__init__()
        self.size = _v1._setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def transform(self, inpt, params):
        return F.center_crop(inpt, self.size)


class Pad(Transform):
    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
            raise ValueError("`padding_mode` must be one of 'constant', 'edge', 'reflect' or 'symmetric'.")
        if isinstance(padding, Sequence) and len(padding) not in [1, 2, 4]:
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                             "tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def transform(self, inpt, params):
        fill = self.fill[type(inpt)] if isinstance(self.fill, dict) else self.fill
        return F.pad(inpt, self.padding, fill, self.padding_mode)


class RandomHorizontalFlip(_RandomApplyTransform):
    def transform(self, inpt, params):
        return F.horizontal_flip(inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    def transform(self, inpt, params):
        return F.vertical_flip(inpt)


class RandomCrop(Transform):
    """A random (h, w) window (after optional and pad_if_needed padding), the same for every input of the call."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = _v1._setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if pad_if_needed or padding is not None:
            if padding is not None and not isinstance(padding, (numbers.Number, tuple, list)):
                raise TypeError("Got inappropriate padding arg")
            if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
                raise ValueError("`padding_mode` must be one of 'constant', 'edge', 'reflect' or 'symmetric'.")
        self.padding = _parse_padding(padding) if padding is not None else None
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def make_params(self, flat_inputs):
        padded_height, padded_width = _query_size(flat_inputs)
        if self.padding is not None:
            pad_left, pad_top, pad_right, pad_bottom = self.padding
            padded_height += pad_top + pad_bottom
            padded_width += pad_left + pad_right
        else:
            pad_left = pad_right = pad_top = pad_bottom = 0
        cropped_height, cropped_width = self.size
        if self.pad_if_needed:
            if padded_height < cropped_height:
                diff = cropped_height - padded_height
                pad_top += diff
                pad_bottom += diff
                padded_height += 2 * diff
            if padded_width < cropped_width:
                diff = cropped_width - padded_width
                pad_left += diff
                pad_right += diff
                padded_width += 2 * diff
        if padded_height < cropped_height or padded_width < cropped_width:
            raise ValueError(f"Required crop size {(cropped_height, cropped_width)} is larger than "
                             f"{'padded ' if self.padding is not None else ''}input image size "
                             f"{(padded_height, padded_width)}.")
        padding = [pad_left, pad_top, pad_right, pad_bottom]
        needs_pad = any(padding)
        needs_vert_crop, top = ((True, int(torch.randint(0, padded_height - cropped_height + 1, size=(1,)).item()))
                                if padded_height > cropped_height else (False, 0))
        needs_horz_crop, left = ((True, int(torch.randint(0, padded_width - cropped_width + 1, size=(1,)).item()))
                                 if padded_width > cropped_width else (False, 0))
        return dict(needs_crop=needs_vert_crop or needs_horz_crop, top=top, left=left, height=cropped_height,
                    width=cropped_width, needs_pad=needs_pad, padding=padding)

    def transform(self, inpt, params):
        if params["needs_pad"]:
            fill = self.fill[type(inpt)] if isinstance(self.fill, dict) else self.fill
            inpt = F.pad(inpt, params["padding"], fill, self.padding_mode)
        if params["needs_crop"]:
            inpt = F.crop(inpt, params["top"], params["left"], params["height"], params["width"])
        return inpt


class RandomResizedCrop(Transform):
    """v1's RandomResizedCrop draws, one crop per call shared by every input."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = _v1._setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError("Scale should be a sequence of two floats.")
        if not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise TypeError("Ratio should be a sequence of two floats.")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.scale = scale
        self.ratio = ratio
        self.interpolation = _interpolation_value(interpolation)
        self.antialias = antialias
        self._log_ratio = [math.log(r) for r in ratio]

    def make_params(self, flat_inputs):
        height, width = _query_size(flat_inputs)
        probe = torch.empty(1, height, width)
        top, left, h, w = _v1.RandomResizedCrop.get_params(probe, self.scale, self.ratio)
        return dict(top=top, left=left, height=h, width=w)

    def transform(self, inpt, params):
        return F.resized_crop(inpt, **params, size=self.size, interpolation=self.interpolation,
                              antialias=self.antialias)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue factors and order, drawn once per call."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None):
        super().__init__()
        check = _v1.ColorJitter._check_input
        self.brightness = check(self, brightness, "brightness") if brightness is not None else None
        self.contrast = check(self, contrast, "contrast") if contrast is not None else None
        self.saturation = check(self, saturation, "saturation") if saturation is not None else None
        self.hue = check(self, hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False) \
            if hue is not None else None

    def make_params(self, flat_inputs):
        fn_idx, b, c, s, h = _v1.ColorJitter.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        return dict(fn_idx=fn_idx.tolist(), brightness_factor=b, contrast_factor=c, saturation_factor=s,
                    hue_factor=h)

    @_images_only
    def transform(self, inpt, params):
        output = inpt
        for fn_id in params["fn_idx"]:
            if fn_id == 0 and params["brightness_factor"] is not None:
                output = F.adjust_brightness(output, brightness_factor=params["brightness_factor"])
            elif fn_id == 1 and params["contrast_factor"] is not None:
                output = F.adjust_contrast(output, contrast_factor=params["contrast_factor"])
            elif fn_id == 2 and params["saturation_factor"] is not None:
                output = F.adjust_saturation(output, saturation_factor=params["saturation_factor"])
            elif fn_id == 3 and params["hue_factor"] is not None:
                output = F.adjust_hue(output, hue_factor=params["hue_factor"])
        return output


class Grayscale(Transform):
    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    @_images_only
    def transform(self, inpt, params):
        return F.rgb_to_grayscale(inpt, num_output_channels=self.num_output_channels)


class RandomGrayscale(_RandomApplyTransform):
    def __init__(self, p=0.1):
        super().__init__(p=p)

    def make_params(self, flat_inputs):
        images = [x for x in flat_inputs if not isinstance(x, (tv_tensors.Mask, tv_tensors.BoundingBoxes))]
        return dict(num_input_channels=F.get_dimensions(images[0])[0] if images else 1)

    @_images_only
    def transform(self, inpt, params):
        return F.rgb_to_grayscale(inpt, num_output_channels=params["num_input_channels"])


class GaussianBlur(Transform):
    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        blur = _v1.GaussianBlur(kernel_size, sigma)
        self.kernel_size = blur.kernel_size
        self.sigma = [float(s) for s in blur.sigma]

    def make_params(self, flat_inputs):
        sigma = torch.empty(1).uniform_(self.sigma[0], self.sigma[1]).item()
        return dict(sigma=[sigma, sigma])

    @_images_only
    def transform(self, inpt, params):
        return F.gaussian_blur(inpt, self.kernel_size, **params)


class RandomRotation(Transform):
    """Rotation by one angle per call, drawn uniformly from `degrees` ((-d, d) for a number d); boxes become the
    axis-aligned boxes of their rotated corners, masks are rotated with nearest-neighbour sampling."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        super().__init__()
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = [-degrees, degrees]
        elif not isinstance(degrees, Sequence) or len(degrees) != 2:
            raise ValueError("degrees should be a sequence of length 2.")
        self.degrees = [float(d) for d in degrees]
        self.interpolation = _interpolation_value(interpolation)
        self.expand = expand
        self.fill = fill
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("center should be a sequence of length 2.")
        self.center = center

    def make_params(self, flat_inputs):
        return dict(angle=torch.empty(1).uniform_(self.degrees[0], self.degrees[1]).item())

    def transform(self, inpt, params):
        fill = self.fill.get(type(inpt), self.fill.get("others", 0)) if isinstance(self.fill, dict) else self.fill
        return F.rotate(inpt, params["angle"], interpolation=self.interpolation, expand=self.expand,
                        center=self.center, fill=fill)


class RandomErasing(_RandomApplyTransform):
    """With probability p, erases one random window (drawn once per call) of the images; masks and boxes pass
    through with torchvision's warning."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, inplace=False):
        super().__init__(p=p)
        _v1._check_erasing_args(value, scale, ratio)
        self.scale = scale
        self.ratio = ratio
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace

    def make_params(self, flat_inputs):
        images = [x for x in flat_inputs if not isinstance(x, (tv_tensors.Mask, tv_tensors.BoundingBoxes))]
        img_c = F.get_dimensions(images[0])[0] if images else 1
        img_h, img_w = _query_size(flat_inputs)
        if self.value is not None and len(self.value) not in (1, img_c):
            raise ValueError(f"If value is a sequence, it should have either a single value or {img_c} (number of "
                             "inpt channels)")
        probe = torch.empty(img_c, img_h, img_w)
        i, j, h, w, v = _v1.RandomErasing.get_params(probe, self.scale, self.ratio, self.value)
        return dict(i=i, j=j, h=h, w=w, v=None if v is probe else v)

    def transform(self, inpt, params):
        if isinstance(inpt, (tv_tensors.Mask, tv_tensors.BoundingBoxes)):
            warnings.warn(f"{type(self).__name__}() is currently passing through inputs of type "
                          f"tv_tensors.{type(inpt).__name__}. This will likely change in the future.")
            return inpt
        if params["v"] is None:
            return inpt
        return F.erase(inpt, **params, inplace=self.inplace)


class FiveCrop(Transform):
    """The four corner crops and the center crop of each image (a 5-tuple per input)."""

    def __init__(self, size):
        super().__init__()
        self.size = _v1._setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def transform(self, inpt, params):
        return F.five_crop(inpt, self.size)


class TenCrop(Transform):
    """FiveCrop of each image and of its horizontal (or vertical) flip."""

    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = _v1._setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.vertical_flip = vertical_flip

    def transform(self, inpt, params):
        return F.ten_crop(inpt, self.size, vertical_flip=self.vertical_flip)


class ConvertBoundingBoxFormat(Transform):
    _transformed_types = (tv_tensors.BoundingBoxes,)

    def __init__(self, format):
        super().__init__()
        self.format = tv_tensors.BoundingBoxFormat[format.upper()] if isinstance(format, str) else format

    def transform(self, inpt, params):
        return F.convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    _transformed_types = (tv_tensors.BoundingBoxes,)

    def __init__(self, clamping_mode="auto"):
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        mode = inpt.clamping_mode if self.clamping_mode == "auto" else self.clamping_mode
        out = F._clamp_boxes(F._plain(inpt), inpt.format, inpt.canvas_size, mode)
        return tv_tensors.wrap(out, like=inpt)


def _find_labels(inputs):
    """torchvision's default labels_getter: the second item of a 2-tuple/list if a tensor, else the "labels" (or
    first "...label..." key) of the dict found there or given."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if _is_pure_tensor(inputs):
        return inputs
    if not isinstance(inputs, dict):
        raise ValueError("When using the default labels_getter, the input passed to forward must be a dictionary or "
                         "a two-tuple whose second item is a dictionary or a tensor, but got "
                         f"{inputs} instead.")
    key = next((k for k in inputs if k.lower() == "labels"), None)
    if key is None:
        key = next((k for k in inputs if "label" in k.lower()), None)
    if key is None:
        raise ValueError("Could not infer where the labels are in the sample. Try passing a callable as the "
                         "labels_getter parameter?If there are no labels in the sample by design, pass "
                         "labels_getter=None.")
    return inputs[key]


class SanitizeBoundingBoxes(Transform):
    """Drops boxes smaller than min_size/min_area or outside the canvas, with the matching masks and labels."""

    def __init__(self, min_size=1.0, min_area=1.0, labels_getter="default"):
        super().__init__()
        if min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {min_size}.")
        if min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {min_area}.")
        self.min_size = min_size
        self.min_area = min_area
        self.labels_getter = labels_getter
        if labels_getter == "default":
            self._labels_getter = _find_labels
        elif callable(labels_getter):
            self._labels_getter = labels_getter
        elif labels_getter is None:
            self._labels_getter = lambda _: None
        else:
            raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got "
                             f"{labels_getter}.")

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        labels = self._labels_getter(inputs)
        if labels is not None:
            msg = "The labels in the input to forward() must be a tensor or None, got {type} instead."
            if isinstance(labels, torch.Tensor):
                labels = (labels,)
            elif isinstance(labels, (tuple, list)):
                for entry in labels:
                    if not isinstance(entry, torch.Tensor):
                        raise ValueError(msg.format(type=type(entry)))
            else:
                raise ValueError(msg.format(type=type(labels)))
        flat_inputs, spec = _tree_flatten(inputs)
        boxes = [x for x in flat_inputs if isinstance(x, tv_tensors.BoundingBoxes)]
        if not boxes:
            raise ValueError("No bounding boxes were found in the sample")
        boxes = boxes[0]
        if labels is not None:
            for label in labels:
                if boxes.shape[0] != label.shape[0]:
                    raise ValueError(f"Number of boxes (shape={boxes.shape}) and must match the number of labels."
                                     f"Found labels with shape={label.shape}).")
        F._check_box_format(boxes.format)
        xyxy = F.convert_bounding_box_format(F._plain(boxes), boxes.format, tv_tensors.BoundingBoxFormat.XYXY)
        h, w = boxes.canvas_size
        ws, hs = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
        valid = (ws >= self.min_size) & (hs >= self.min_size) & (xyxy >= 0).all(dim=-1) & (ws * hs >= self.min_area)
        valid = valid & (xyxy[:, 0] <= w) & (xyxy[:, 2] <= w) & (xyxy[:, 1] <= h) & (xyxy[:, 3] <= h)
        keep = torch.nonzero(valid).flatten()
        outputs = []
        for inpt in flat_inputs:
            is_label = labels is not None and any(inpt is label for label in labels)
            if not (is_label or isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask))):
                outputs.append(inpt)
                continue
            try:
                out = F._plain(inpt)[keep]
            except IndexError:
                outputs.append(inpt)
                continue
            outputs.append(out if is_label else tv_tensors.wrap(out, like=inpt))
        return _tree_unflatten(outputs, spec)


class RandomAffine(Transform):
    """One random rotation, translation, scale and shear per call (v1's draws), applied to images, masks (nearest)
    and boxes (the bounds of their mapped corners)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        super().__init__()
        ref = _v1.RandomAffine(degrees, translate, scale, shear, fill=fill, center=center)
        self.degrees = ref.degrees
        self.translate = ref.translate
        self.scale = ref.scale
        self.shear = ref.shear
        self.interpolation = _interpolation_value(interpolation)
        self.fill = fill
        self.center = center

    def make_params(self, flat_inputs):
        height, width = _query_size(flat_inputs)
        angle, translate, scale, shear = _v1.RandomAffine.get_params(self.degrees, self.translate, self.scale,
                                                                     self.shear, [width, height])
        return dict(angle=angle, translate=translate, scale=scale, shear=shear)

    def transform(self, inpt, params):
        fill = self.fill.get(type(inpt), self.fill.get("others", 0)) if isinstance(self.fill, dict) else self.fill
        return F.affine(inpt, **params, interpolation=self.interpolation, fill=fill, center=self.center)
