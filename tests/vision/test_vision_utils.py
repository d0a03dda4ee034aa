"""vision.utils.make_grid and save_image against torchvision.utils on the same batches."""
import io

import numpy as np
import pytest
import torch

import mlx_compat as mc
import vision_reference
from mlx_compat.vision import utils

Image = pytest.importorskip("PIL.Image", reason="Pillow (a test dependency) reads the saved images back")
try:
    torchvision = vision_reference.import_torchvision()
except ImportError:  # pragma: no cover - the reason is shown by the skip
    pytest.skip("torchvision (a test-only dependency) is not installed", allow_module_level=True)


@pytest.mark.parametrize("shape", [(5, 3, 4, 6), (3, 1, 5, 5), (1, 3, 4, 4), (3, 4, 5), (1, 4, 5), (6, 7)])
@pytest.mark.parametrize("kwargs", [{}, dict(nrow=2, padding=1, pad_value=0.5), dict(normalize=True),
                                    dict(normalize=True, value_range=(0.2, 0.8), padding=0),
                                    dict(normalize=True, scale_each=True, nrow=3)])
def test_make_grid_matches_torchvision(shape, kwargs):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours = utils.make_grid(mc.from_numpy(x), **kwargs)
    ref = torchvision.utils.make_grid(torch.from_numpy(x), **kwargs)
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_make_grid_list_errors_and_save_image(tmp_path):
    imgs = [np.random.default_rng(i).random((3, 4, 5)).astype(np.float32) for i in range(3)]
    ours = utils.make_grid([mc.from_numpy(a) for a in imgs], nrow=2)
    ref = torchvision.utils.make_grid([torch.from_numpy(a) for a in imgs], nrow=2)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid([np.zeros((3, 2, 2))])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(mc.zeros(2, 3, 2, 2), normalize=True, value_range=[0, 1])
    batch = np.random.default_rng(5).random((4, 3, 6, 7)).astype(np.float32)
    utils.save_image(mc.from_numpy(batch), str(tmp_path / "ours.png"), nrow=3)
    buf = io.BytesIO()
    torchvision.utils.save_image(torch.from_numpy(batch), buf, format="png", nrow=3)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "ours.png")), np.asarray(Image.open(buf)))
