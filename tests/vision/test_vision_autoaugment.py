"""vision.transforms' RandAugment and TrivialAugmentWide: every operation at given magnitudes equals torchvision's
_apply_op on the same image (tensors and PIL); the policies' draws cover the operation space and repeat under
manual_seed; reprs match torchvision's."""
import numpy as np
import pytest
import torch

import mlx_compat as mc
import vision_reference
from mlx_compat.vision import transforms as T
from mlx_compat.vision.transforms import autoaugment as ours_aa

Image = pytest.importorskip("PIL.Image", reason="Pillow (a test dependency) is the PIL side of the transforms")
try:
    torchvision = vision_reference.import_torchvision()
except ImportError:  # pragma: no cover - the reason is shown by the skip
    pytest.skip("torchvision (a test-only dependency) is not installed", allow_module_level=True)
from torchvision.transforms import autoaugment as ref_aa  # noqa: E402

OPS = [("Identity", 0.0), ("ShearX", 0.3), ("ShearX", -0.6), ("ShearY", 0.45), ("TranslateX", 7.6),
       ("TranslateY", -5.0), ("Rotate", 31.5), ("Brightness", 0.4), ("Color", -0.5), ("Contrast", 0.7),
       ("Sharpness", -0.3), ("Posterize", 4), ("Solarize", 140.0), ("AutoContrast", 0.0), ("Equalize", 0.0),
       ("Invert", 0.0)]


@pytest.mark.parametrize("op_name,magnitude", OPS)
@pytest.mark.parametrize("interp", ["NEAREST", "BILINEAR"])
def test_apply_op_matches_torchvision(op_name, magnitude, interp):
    arr = np.random.default_rng(0).integers(0, 256, (3, 15, 17), dtype=np.uint8)
    mode = getattr(T.InterpolationMode, interp)
    ref_mode = getattr(torchvision.transforms.InterpolationMode, interp)
    # bilinear resampling of uint8 rounds its float result: a value within float32 noise of .5 (our grid_sample
    # and torch's agree to ~1e-6) may round the other way, so those ops are allowed one level on a few pixels
    resampled = interp == "BILINEAR" and op_name in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
    nearest_resampled = interp == "NEAREST" and op_name in ("ShearX", "ShearY", "Rotate")
    for fill in (None, [10.0, 20.0, 30.0]):
        out = ours_aa._apply_op(mc.from_numpy(arr), op_name, magnitude, mode, fill)
        ref = ref_aa._apply_op(torch.from_numpy(arr), op_name, magnitude, ref_mode, fill)
        assert out.dtype is mc.uint8 and tuple(out.shape) == tuple(ref.shape)
        diff = np.abs(out.numpy().astype(int) - ref.numpy().astype(int))
        if resampled:
            assert diff.max() <= 1 and (diff > 0).mean() < 0.02
        elif nearest_resampled:
            # nearest: a source coordinate within float32 noise of a pixel boundary may pick the neighbour
            # (seen on an AMD EPYC for ShearX -0.6), so a few pixels may differ by any amount
            assert (diff > 0).mean() < 0.02
        else:
            assert diff.max() == 0
    pic = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    out = ours_aa._apply_op(pic, op_name, magnitude, mode, None)
    ref = ref_aa._apply_op(pic, op_name, magnitude, ref_mode, None)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))
    with pytest.raises(ValueError, match="is not recognized"):
        ours_aa._apply_op(pic, "Warp", 1.0, mode, None)


@pytest.mark.parametrize("cls", ["RandAugment", "TrivialAugmentWide"])
def test_policies_draw_and_repeat(cls):
    aug = getattr(T, cls)()
    assert repr(aug) == repr(getattr(torchvision.transforms, cls)())
    x = mc.from_numpy(np.random.default_rng(1).integers(0, 256, (3, 12, 12), dtype=np.uint8))
    mc.manual_seed(0)
    outs = [aug(x).numpy() for _ in range(60)]
    assert all(o.dtype == np.uint8 and o.shape == (3, 12, 12) for o in outs)
    assert len({o.tobytes() for o in outs}) > 20  # many different operations and magnitudes were drawn
    mc.manual_seed(0)
    assert all(np.array_equal(aug(x).numpy(), o) for o in outs[:15])
    ref_space = getattr(torchvision.transforms, cls)()._augmentation_space(31, (12, 12)) if cls == "RandAugment" \
        else torchvision.transforms.TrivialAugmentWide()._augmentation_space(31)
    our_space = aug._augmentation_space(31, (12, 12)) if cls == "RandAugment" else aug._augmentation_space(31)
    assert list(our_space) == list(ref_space)
    for name in ref_space:
        np.testing.assert_allclose(our_space[name][0].numpy(), ref_space[name][0].numpy(), rtol=1e-6, atol=1e-6)
        assert our_space[name][1] == ref_space[name][1]
