"""torchvision.io's image functions (read_file/write_file, decode_image/read_image, decode_png/decode_jpeg/
decode_gif/decode_webp, encode_png/encode_jpeg, write_png/write_jpeg, ImageReadMode) over Pillow: images come back as
uint8 (uint16 for 16-bit PNGs) CHW tensors.  Colour conversions for `mode=` are Pillow's.  Video reading/writing
is not provided (no video decoder is bundled): read_video/write_video raise NotImplementedError."""
from __future__ import annotations

import io as _io
from enum import Enum

import numpy as np

import mlx_compat as torch

__all__ = ["ImageReadMode", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "decode_webp", "encode_jpeg",
           "encode_png", "read_file", "read_image", "read_video", "write_file", "write_jpeg", "write_png",
           "write_video"]


class ImageReadMode(Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as e:  # pragma: no cover - Pillow is a dependency of the image functions
        raise RuntimeError("mlx_compat.vision.io's image functions need Pillow (pip install pillow)") from e
    return Image, ImageOps


def read_file(path):
    """The bytes of a file as a uint8 1-D tensor."""
    with open(str(path), "rb") as f:
        data = f.read()
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename, data):
    """Writes a uint8 1-D tensor's bytes to a file."""
    if not isinstance(data, torch.Tensor) or data.dtype != torch.uint8 or data.ndim != 1:
        raise RuntimeError("Input tensor dtype should be uint8 and one dimensional")
    with open(str(filename), "wb") as f:
        f.write(data.numpy().tobytes())


def _as_mode(mode):
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or its name, got {type(mode)}")
    return mode


def _decode(data, mode, apply_exif_orientation, formats=None):
    Image, ImageOps = _pil()
    mode = _as_mode(mode)
    if not isinstance(data, torch.Tensor):
        raise TypeError(f"Expected a tensor of bytes, got {type(data)}")
    if data.dtype != torch.uint8 or data.ndim != 1:
        raise RuntimeError("Expected a non empty 1-dimensional tensor of dtype uint8")
    if data.numel() == 0:
        raise RuntimeError("Expected a non empty 1-dimensional tensor")
    try:
        img = Image.open(_io.BytesIO(data.numpy().tobytes()), formats=formats)
        img.load()
    except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for undecodable data
        raise RuntimeError(f"Unsupported image file or corrupt data: {e}") from e
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I") and mode in (ImageReadMode.UNCHANGED, ImageReadMode.GRAY):
        arr = np.asarray(img).astype(np.uint16)[None]  # 16-bit PNGs decode to uint16
        return torch.from_numpy(np.ascontiguousarray(arr))
    if mode == ImageReadMode.UNCHANGED:
        if img.mode == "P":
            target = "RGBA" if "transparency" in img.info else "RGB"
        elif img.mode == "1":
            target = "L"
        elif img.mode in ("L", "LA", "RGB", "RGBA"):
            target = img.mode
        else:
            target = "RGBA" if "A" in img.getbands() else "RGB"
    else:
        target = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
                  ImageReadMode.RGB_ALPHA: "RGBA"}[mode]
    if img.mode != target:
        img = img.convert(target)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """A CHW uint8 tensor from the bytes of a PNG, JPEG, GIF, WEBP (or any Pillow-readable) image, or from a path."""
    if not isinstance(input, torch.Tensor):
        input = read_file(str(input))
    return _decode(input, mode, apply_exif_orientation)


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    return _decode(input, mode, apply_exif_orientation, formats=["PNG"])


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    """One JPEG's bytes (or a list of them) decoded on the CPU."""
    if isinstance(input, (list, tuple)):
        return [_decode(x, mode, apply_exif_orientation, formats=["JPEG"]) for x in input]
    return _decode(input, mode, apply_exif_orientation, formats=["JPEG"])


def decode_gif(input):
    """The first frame of a GIF as CHW (Pillow decodes frames one at a time)."""
    return _decode(input, ImageReadMode.UNCHANGED, False, formats=["GIF"])


def decode_webp(input, mode=ImageReadMode.UNCHANGED):
    return _decode(input, mode, False, formats=["WEBP"])


def _encode(input, fmt, **options):
    Image, _ = _pil()
    if not isinstance(input, torch.Tensor) or input.dtype != torch.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.ndim != 3 or input.shape[0] not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {input.shape[0] if input.ndim else 0}"
                           if input.ndim == 3 else f"Input data should be a 3-dimensional tensor, got {input.ndim}")
    arr = input.numpy().transpose(1, 2, 0)
    img = Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))
    buf = _io.BytesIO()
    img.save(buf, format=fmt, **options)
    return torch.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def encode_png(input, compression_level=6):
    if not 0 <= compression_level <= 9:
        raise ValueError(f"Compression level should be between 0 and 9, got {compression_level}")
    return _encode(input, "PNG", compress_level=compression_level)


def encode_jpeg(input, quality=75):
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, (list, tuple)):
        return [_encode(x, "JPEG", quality=quality) for x in input]
    return _encode(input, "JPEG", quality=quality)


def write_png(input, filename, compression_level=6):
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    write_file(filename, encode_jpeg(input, quality))


def read_video(*args, **kwargs):
    raise NotImplementedError("mlx_compat.vision.io.read_video: video decoding is not provided (no video decoder "
                              "is bundled); decode frames with PyAV or OpenCV and build tensors from them")


def write_video(*args, **kwargs):
    raise NotImplementedError("mlx_compat.vision.io.write_video: video encoding is not provided (no video encoder "
                              "is bundled)")
