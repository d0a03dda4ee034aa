"""vision.io's image functions.  torchvision's own io cannot be the reference here (its decoders live in the C
extension that does not load against this torch build), so decoded pixels are compared with the arrays the test
encoded (lossless PNG) and with Pillow's decoding of the same bytes (JPEG, GIF, WEBP), dtypes and shapes with
torchvision's documented CHW uint8/uint16 results."""
import io

import numpy as np
import pytest

import mlx_compat as mc
from mlx_compat.vision import io as vio

Image = pytest.importorskip("PIL.Image", reason="Pillow (a test dependency) writes the image files")


def _bytes(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _tensor(data):
    return mc.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (6, 7, 4), dtype=np.uint8)


@pytest.mark.parametrize("mode,arr", [("L", RGB[:, :, 0]), ("LA", RGBA[:, :, :2]), ("RGB", RGB), ("RGBA", RGBA)])
def test_png_round_trip_and_modes(tmp_path, mode, arr):
    pic = Image.fromarray(arr, mode=mode)
    data = _bytes(pic, "PNG")
    out = vio.decode_png(_tensor(data))
    expected = arr if arr.ndim == 3 else arr[:, :, None]
    assert out.dtype is mc.uint8 and tuple(out.shape) == (expected.shape[2], 6, 7)
    np.testing.assert_array_equal(out.numpy(), expected.transpose(2, 0, 1))
    path = tmp_path / "x.png"
    path.write_bytes(data)
    np.testing.assert_array_equal(vio.read_image(str(path)).numpy(), out.numpy())
    np.testing.assert_array_equal(vio.decode_image(path).numpy(), out.numpy())
    for read_mode, pil_mode in ((vio.ImageReadMode.GRAY, "L"), (vio.ImageReadMode.RGB, "RGB"), ("RGB_ALPHA", "RGBA"),
                                ("gray_alpha", "LA")):
        ref = np.asarray(pic.convert(pil_mode))
        ref = ref if ref.ndim == 3 else ref[:, :, None]
        np.testing.assert_array_equal(vio.decode_image(_tensor(data), mode=read_mode).numpy(), ref.transpose(2, 0, 1))


def test_palette_sixteen_bit_jpeg_gif_webp():
    pal = Image.fromarray(RGB).convert("P", palette=Image.ADAPTIVE, colors=8)
    out = vio.decode_image(_tensor(_bytes(pal, "PNG")))
    np.testing.assert_array_equal(out.numpy(), np.asarray(pal.convert("RGB")).transpose(2, 0, 1))
    deep = (RNG.integers(0, 65536, (5, 4))).astype(np.uint16)
    out16 = vio.decode_png(_tensor(_bytes(Image.fromarray(deep), "PNG")))
    assert out16.dtype is mc.uint16 and tuple(out16.shape) == (1, 5, 4)
    np.testing.assert_array_equal(out16.numpy()[0], deep)
    jpeg = _bytes(Image.fromarray(RGB), "JPEG", quality=90)
    ref = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).transpose(2, 0, 1)
    np.testing.assert_array_equal(vio.decode_jpeg(_tensor(jpeg)).numpy(), ref)
    assert [tuple(t.shape) for t in vio.decode_jpeg([_tensor(jpeg), _tensor(jpeg)])] == [(3, 6, 7)] * 2
    gif = _bytes(pal, "GIF")
    assert tuple(vio.decode_gif(_tensor(gif)).shape) == (3, 6, 7)
    webp = _bytes(Image.fromarray(RGB), "WEBP", lossless=True)
    np.testing.assert_array_equal(vio.decode_webp(_tensor(webp)).numpy(), RGB.transpose(2, 0, 1))


def test_encode_write_and_files(tmp_path):
    img = mc.from_numpy(np.ascontiguousarray(RGB.transpose(2, 0, 1)))
    png = vio.encode_png(img, compression_level=9)
    assert png.dtype is mc.uint8 and png.ndim == 1
    np.testing.assert_array_equal(vio.decode_png(png).numpy(), img.numpy())
    vio.write_png(img, str(tmp_path / "a.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), RGB)
    vio.write_jpeg(img, str(tmp_path / "a.jpg"), quality=95)
    jpg = (tmp_path / "a.jpg").read_bytes()
    assert jpg[:2] == b"\xff\xd8" and Image.open(tmp_path / "a.jpg").size == (7, 6)  # a JPEG of the image's size
    np.testing.assert_array_equal(vio.read_image(str(tmp_path / "a.jpg")).numpy(),
                                  np.asarray(Image.open(tmp_path / "a.jpg")).transpose(2, 0, 1))
    smooth = mc.from_numpy(np.broadcast_to(np.linspace(0, 255, 7).astype(np.uint8), (3, 6, 7)).copy())
    decoded = vio.decode_jpeg(vio.encode_jpeg(smooth, quality=95)).numpy().astype(int)
    assert np.abs(decoded - smooth.numpy()).max() <= 8  # lossy, but close on a smooth ramp
    gray = img[:1]
    np.testing.assert_array_equal(vio.decode_image(vio.encode_png(gray)).numpy(), gray.numpy())
    raw = vio.read_file(str(tmp_path / "a.png"))
    vio.write_file(str(tmp_path / "b.png"), raw)
    assert (tmp_path / "b.png").read_bytes() == (tmp_path / "a.png").read_bytes()


def test_errors():
    with pytest.raises(RuntimeError, match="Unsupported image file or corrupt data"):
        vio.decode_image(_tensor(b"not an image at all"))
    with pytest.raises(RuntimeError):
        vio.decode_png(_tensor(_bytes(Image.fromarray(RGB), "JPEG")))
    with pytest.raises(RuntimeError, match="uint8"):
        vio.decode_image(mc.zeros(4))
    with pytest.raises(RuntimeError, match="uint8"):
        vio.encode_png(mc.zeros(3, 2, 2))
    with pytest.raises(RuntimeError, match="number of channels"):
        vio.encode_jpeg(mc.zeros(2, 2, 2, dtype=mc.uint8))
    with pytest.raises(ValueError):
        vio.encode_jpeg(mc.zeros(3, 2, 2, dtype=mc.uint8), quality=0)
    with pytest.raises(KeyError):
        vio.decode_image(_tensor(_bytes(Image.fromarray(RGB), "PNG")), mode="CMYK")
    with pytest.raises(NotImplementedError, match="video decoding is not provided"):
        vio.read_video("x.mp4")
    assert vio.ImageReadMode.RGBA is vio.ImageReadMode.RGB_ALPHA
