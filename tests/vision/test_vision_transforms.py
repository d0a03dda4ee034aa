"""vision.transforms against torchvision's rules computed with torch on the same inputs: ToTensor (numpy, PIL),
Normalize, Resize (torch's antialiased interpolate, as torchvision's tensor path), CenterCrop, RandomCrop,
RandomHorizontalFlip, Lambda, Compose, and their errors."""
import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.vision import transforms as T


def _img(c=3, h=6, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_numpy():
    for arr in (_img(), _img(1), _img()[:, :, 0]):
        ours = T.ToTensor()(arr)
        a3 = arr if arr.ndim == 3 else arr[:, :, None]
        ref = torch.from_numpy(a3).permute(2, 0, 1).float().div(255)
        assert ours.dtype is mc.float32 and tuple(ours.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    f = np.random.default_rng(1).random((4, 3, 2))  # float64 data keeps its dtype and values
    out = T.ToTensor()(f)
    assert out.dtype is mc.float64 and np.array_equal(out.numpy(), f.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(mc.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 1, 1, 1), dtype=np.uint8))


def test_to_tensor_pil():
    Image = pytest.importorskip("PIL.Image", reason="Pillow is optional; its path is tested where installed")
    arr = _img()
    for pic, ref in ((Image.fromarray(arr), arr), (Image.fromarray(arr[:, :, 0], mode="L"), arr[:, :, :1])):
        out = T.ToTensor()(pic)
        np.testing.assert_array_equal(out.numpy(), torch.from_numpy(ref).permute(2, 0, 1).float().div(255).numpy())


def test_normalize_and_errors():
    x = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    ref = (torch.from_numpy(x) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    t = mc.from_numpy(x)
    out = T.Normalize(mean, std)(t)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(t.numpy(), x)  # not in place by default
    T.Normalize(mean, std, inplace=True)(t)
    np.testing.assert_allclose(t.numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize(mean, std)(mc.zeros(3, 2, 2, dtype=mc.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(mean, [1.0, 0.0, 1.0])(mc.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image"):
        T.Normalize(mean, std)(mc.zeros(2, 2))
    with pytest.raises(TypeError):
        T.Normalize(mean, std)(x)


@pytest.mark.parametrize("size,expected_hw", [(3, (3, 4)), ((4, 7), (4, 7)), ([3], (3, 4))])
def test_resize_float_as_torch_interpolate(size, expected_hw):
    x = np.random.default_rng(0).random((2, 3, 12, 16)).astype(np.float32)  # h=12, w=16: smaller edge is h
    out = T.Resize(size)(mc.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=expected_hw, mode="bilinear",
                                          align_corners=False, antialias=True)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_resize_uint8_rounds_and_keeps_dtype():
    x = np.random.default_rng(0).integers(0, 256, (1, 9, 9), dtype=np.uint8)
    out = T.Resize((4, 4))(mc.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None].float(), size=(4, 4), mode="bilinear",
                                          align_corners=False, antialias=True).round().to(torch.uint8)[0]
    assert out.dtype is mc.uint8
    assert np.abs(out.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1  # rounding ties may differ by 1
    with pytest.raises(ValueError, match="max_size = 3 must be strictly greater"):
        T.Resize(4, max_size=3)(mc.from_numpy(x))


def test_center_crop_and_padding_when_larger():
    x = np.arange(2 * 7 * 6, dtype=np.float32).reshape(2, 7, 6)
    out = T.CenterCrop(4)(mc.from_numpy(x))
    top, left = int(round((7 - 4) / 2.0)), int(round((6 - 4) / 2.0))
    np.testing.assert_array_equal(out.numpy(), x[:, top:top + 4, left:left + 4])
    big = T.CenterCrop((9, 8))(mc.from_numpy(x)).numpy()
    assert big.shape == (2, 9, 8)
    np.testing.assert_array_equal(big[:, 1:8, 1:7], x)
    assert big[:, 0].sum() == 0 and big[:, :, 0].sum() == 0


def test_random_crop_windows_padding_and_seed():
    x = np.arange(5 * 6, dtype=np.float32).reshape(1, 5, 6) + 1
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    crop = T.RandomCrop((5, 6), padding=2)
    seen = set()
    mc.manual_seed(0)
    first = [crop(mc.from_numpy(x)).numpy() for _ in range(200)]
    for out in first:
        hits = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[:, i:i + 5, j:j + 6], out)]
        assert hits  # every output is one window of the zero-padded image
        seen.update(hits)
    assert len(seen) == 25  # all 5 x 5 offsets occur
    mc.manual_seed(0)
    assert all(np.array_equal(a, crop(mc.from_numpy(x)).numpy()) for a in first[:20])
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(10)(mc.from_numpy(x))
    assert tuple(T.RandomCrop(8, pad_if_needed=True)(mc.from_numpy(x)).shape) == (1, 8, 8)


def test_random_horizontal_flip():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    t = mc.from_numpy(x)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), torch.from_numpy(x).flip(-1).numpy())
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(t).numpy(), x)
    mc.manual_seed(1)
    flips = sum(not np.array_equal(T.RandomHorizontalFlip()(t).numpy(), x) for _ in range(400))
    assert 150 < flips < 250


def test_compose_lambda_and_pil_crops():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize([0.5], [0.5])])
    arr = _img(1)
    ref = (torch.from_numpy(arr).permute(2, 0, 1).float().div(255) * 2 - 0.5) / 0.5
    np.testing.assert_allclose(pipeline(arr).numpy(), ref.numpy(), rtol=1e-6)
    assert "Lambda()" in repr(pipeline) and repr(pipeline).startswith("Compose(")
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    Image = pytest.importorskip("PIL.Image", reason="Pillow is optional; its path is tested where installed")
    pic = Image.fromarray(_img(3, 8, 10))
    assert T.CenterCrop(4)(pic).size == (4, 4)
    assert T.RandomCrop(6, padding=1)(pic).size == (6, 6)
    assert T.Resize(4)(pic).size == (5, 4)
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(pic)), np.asarray(pic)[:, ::-1])
