"""torchvision.tv_tensors: Tensor subclasses that tell the v2 transforms what a tensor holds (Image, Video, Mask,
BoundingBoxes with its format and canvas size), and `wrap` to give a plain tensor the type (and metadata) of one.

As in torchvision, operations on a TVTensor return plain Tensors (Note [tv_tensor results]) except clone, to,
detach and requires_grad_, which keep the subclass; the v2 transforms re-wrap their results."""
from __future__ import annotations

from enum import Enum

import mlx_compat as torch

__all__ = ["BoundingBoxFormat", "BoundingBoxes", "Image", "Mask", "TVTensor", "Video", "wrap"]

# Note [tv_tensor results]: torchvision unwraps the results of operations on TVTensors to plain tensors (metadata
# such as a box format cannot follow arbitrary ops), keeping the subclass only for the methods below.
_KEEP_SUBCLASS = {torch.Tensor.clone, torch.Tensor.to, torch.Tensor.detach, torch.Tensor.requires_grad_}


class TVTensor(torch.Tensor):
    """Base of the tv_tensors."""

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None):
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, torch.Tensor) else False
        return torch.as_tensor(data, dtype=dtype, device=device).requires_grad_(requires_grad)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        if isinstance(output, torch.Tensor) and not isinstance(output, cls):
            output = output.as_subclass(cls)
        if isinstance(output, (tuple, list)):
            output = type(output)(cls._wrap_output(part, args, kwargs) for part in output)
        return output

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        return tensor.as_subclass(cls)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Note [tv_tensor results]
        if not all(issubclass(cls, t) for t in types):
            return NotImplemented
        with torch._C.DisableTorchFunctionSubclass():
            output = func(*args, **(kwargs or {}))
        if func in _KEEP_SUBCLASS and args and isinstance(args[0], cls):
            return cls._wrap_output(output, args, kwargs)
        if isinstance(output, cls):
            return output.as_subclass(torch.Tensor)
        return output

    def _named_repr(self):
        """The tensor's repr under the subclass's name ("Image(...)"), as torch prints subclasses."""
        with torch._C.DisableTorchFunctionSubclass():
            base = torch.Tensor.__repr__(self.as_subclass(torch.Tensor))
        name = type(self).__name__
        if not base.startswith("tensor("):
            return base
        lines = base[len("tensor("):].split("\n")
        pad = " " * (len(name) + 1)
        return "\n".join([name + "(" + lines[0]] + [pad + line[len("tensor("):] for line in lines[1:]])

    def _make_repr(self, **kwargs):
        extra = ", ".join(f"{key}={value}" for key, value in kwargs.items())
        return f"{self._named_repr()[:-1]}, {extra})"

    def __repr__(self, *, tensor_contents=None):
        return self._named_repr()

    def __str__(self):
        return self.__repr__()

    def __deepcopy__(self, memo):
        return self.detach().clone().requires_grad_(self.requires_grad)


def _pil_to_tensor_if_pil(data):
    try:
        from PIL import Image as PILImage
    except ImportError:
        return data
    if isinstance(data, PILImage.Image):
        from ..transforms.functional import pil_to_tensor
        return pil_to_tensor(data)
    return data


class Image(TVTensor):
    """Images shaped [..., C, H, W] (a 2-D input gains a channel dimension); built from tensor-like data or a PIL
    image."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_pil_to_tensor_if_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 2:
            raise ValueError(f"Tensor must be 2D or higher, got {tensor.ndim}D tensor.")
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return tensor.as_subclass(cls)

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr()


class Video(TVTensor):
    """Videos shaped [..., T, C, H, W]."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 4:
            raise ValueError(f"Tensor must be 4D or higher, got {tensor.ndim}D tensor.")
        return tensor.as_subclass(cls)

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr()


class Mask(TVTensor):
    """Segmentation or detection masks shaped [..., H, W]."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_pil_to_tensor_if_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        return tensor.as_subclass(cls)


class BoundingBoxFormat(Enum):
    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"
    XYWHR = "XYWHR"
    CXCYWHR = "CXCYWHR"
    XYXYXYXY = "XYXYXYXY"


def is_rotated_bounding_format(format):
    if isinstance(format, BoundingBoxFormat):
        return format in (BoundingBoxFormat.XYWHR, BoundingBoxFormat.CXCYWHR, BoundingBoxFormat.XYXYXYXY)
    if isinstance(format, str):
        return format in ("XYWHR", "CXCYWHR", "XYXYXYXY")
    raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")


class BoundingBoxes(TVTensor):
    """N boxes shaped [N, K] (K = 4, or 5/8 for rotated formats) with their `format`, the `canvas_size` (H, W)
    of the image they lie on and a `clamping_mode` ("soft", "hard" or None)."""

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft", check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.ndim != 2:
                raise ValueError(f"Expected a 1D or 2D tensor, got {tensor.ndim}D")
        if clamping_mode is not None and clamping_mode not in ("hard", "soft"):
            raise ValueError(f"clamping_mode must be None, hard or soft, got {clamping_mode}.")
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        boxes = tensor.as_subclass(cls)
        boxes.format = format
        boxes.canvas_size = canvas_size
        boxes.clamping_mode = clamping_mode
        return boxes

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        return cls._wrap(tensor, format=kwargs.get("format", like.format),
                         canvas_size=kwargs.get("canvas_size", like.canvas_size),
                         clamping_mode=kwargs.get("clamping_mode", like.clamping_mode))

    def __new__(cls, data, *, format, canvas_size, clamping_mode="soft", dtype=None, device=None,
                requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if not tensor.is_floating_point() and is_rotated_bounding_format(format):
            raise ValueError(f"Rotated bounding boxes should be floating point tensors, got {tensor.dtype}.")
        return cls._wrap(tensor, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        # metadata comes from the first BoundingBoxes among the arguments
        like = next((a for a in list(args) + list((kwargs or {}).values()) if isinstance(a, BoundingBoxes)), None)
        if isinstance(output, torch.Tensor) and not isinstance(output, BoundingBoxes):
            output = cls._wrap(output, format=like.format, canvas_size=like.canvas_size,
                               clamping_mode=like.clamping_mode, check_dims=False)
        elif isinstance(output, (tuple, list)):
            output = type(output)(cls._wrap_output(part, args, kwargs) for part in output)
        return output

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr(format=self.format, canvas_size=self.canvas_size, clamping_mode=self.clamping_mode)


def wrap(wrappee, *, like, **kwargs):
    """`wrappee` as the TVTensor type of `like` (with its metadata, overridden by `kwargs`)."""
    method = getattr(type(like), "wrap", None)
    if method is not None:
        return method(wrappee, like, **kwargs)
    return wrappee.as_subclass(type(like))
