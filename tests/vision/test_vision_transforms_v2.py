"""vision.transforms.v2 and vision.tv_tensors against torchvision's on the same samples: the types results keep
(Image stays Image, plain tensors stay plain, PIL stays PIL), values with the random parameters fixed, bounding
boxes and masks moved with the image, the plain-tensor heuristic, dtype conversion and the printed pipelines."""
import numpy as np
import pytest
import torch

import mlx_compat as mc
import vision_reference
from mlx_compat.vision import tv_tensors
from mlx_compat.vision.transforms import v2

Image = pytest.importorskip("PIL.Image", reason="Pillow (a test dependency) is the PIL side of the transforms")
try:
    torchvision = vision_reference.import_torchvision()
except ImportError:  # pragma: no cover - the reason is shown by the skip
    pytest.skip("torchvision (a test-only dependency) is not installed", allow_module_level=True)
from torchvision import tv_tensors as tv_ref  # noqa: E402
from torchvision.transforms import v2 as v2_ref  # noqa: E402


def _arr(shape=(3, 20, 24), dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape, dtype=np.uint8) if dtype == np.uint8 else rng.random(shape).astype(dtype)


def _pair(arr, kind):
    """(ours, torchvision's) inputs of one kind built from the same array."""
    if kind == "image":
        return tv_tensors.Image(mc.from_numpy(arr)), tv_ref.Image(torch.from_numpy(arr))
    if kind == "mask":
        return tv_tensors.Mask(mc.from_numpy(arr)), tv_ref.Mask(torch.from_numpy(arr))
    if kind == "tensor":
        return mc.from_numpy(arr), torch.from_numpy(arr)
    pic = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    return pic, pic


def _check(ours, ref, atol=0.0):
    """Same type name, dtype, shape and values (and box metadata)."""
    if isinstance(ref, Image.Image):
        assert isinstance(ours, Image.Image) and ours.mode == ref.mode and ours.size == ref.size
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
        return
    assert type(ours).__name__ == type(ref).__name__, (type(ours), type(ref))
    if isinstance(ref, tv_ref.BoundingBoxes):
        assert ours.format.value == ref.format.value and tuple(ours.canvas_size) == tuple(ref.canvas_size)
    a, b = ours.numpy(), ref.numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    # floats: the project's 1e-5 relative bound; interpolated values differ from torch's by float32 noise whose
    # size depends on the CPU's vector code (3.7e-6 relative seen on an AMD EPYC); integers (rtol * 255 < 1) exact
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5, atol=atol)


def _fix_params(monkeypatch, ours_cls, ref_cls, params, ours_params=None):
    monkeypatch.setattr(ours_cls, "make_params", lambda self, flat: dict(ours_params or params))
    monkeypatch.setattr(ref_cls, "make_params", lambda self, flat: dict(params))


def test_tv_tensors_types_and_repr():
    img = tv_tensors.Image(mc.zeros(2, 2))
    ref = tv_ref.Image(torch.zeros(2, 2))
    assert tuple(img.shape) == tuple(ref.shape) == (1, 2, 2) and repr(img) == repr(ref)
    assert type(img + 1) is mc.Tensor and type(img.clone()) is tv_tensors.Image
    assert type(img.to(mc.float64)) is tv_tensors.Image and type(img.detach()) is tv_tensors.Image
    mask = tv_tensors.Mask(mc.zeros(2, 3))
    assert repr(mask) == repr(tv_ref.Mask(torch.zeros(2, 3)))
    boxes = tv_tensors.BoundingBoxes([[1, 2, 3, 4]], format="xyxy", canvas_size=(10, 12))
    rboxes = tv_ref.BoundingBoxes([[1, 2, 3, 4]], format="xyxy", canvas_size=(10, 12))
    assert repr(boxes) == repr(rboxes) and str(boxes) == str(rboxes)
    assert boxes.format is tv_tensors.BoundingBoxFormat.XYXY and boxes.clone().canvas_size == (10, 12)
    assert type(tv_tensors.wrap(mc.ones(1, 4), like=boxes)) is tv_tensors.BoundingBoxes
    pic = Image.fromarray(_arr()[0])
    _check(tv_tensors.Image(pic), tv_ref.Image(pic))
    for build in (lambda m, t: m.Image(t.zeros(3)), lambda m, t: m.BoundingBoxes(t.zeros(2, 2, 4), format="XYXY",
                                                                                 canvas_size=(2, 2)),
                  lambda m, t: m.BoundingBoxes([[1, 2, 3, 4, 5]], format="XYWHR", canvas_size=(5, 5)),
                  lambda m, t: m.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(5, 5), clamping_mode="x")):
        with pytest.raises(ValueError) as ref_err:
            build(tv_ref, torch)
        with pytest.raises(ValueError) as our_err:
            build(tv_tensors, mc)
        assert str(our_err.value) == str(ref_err.value)


@pytest.mark.parametrize("kind", ["image", "tensor", "pil", "mask"])
@pytest.mark.parametrize("name,kwargs", [("Resize", dict(size=12)), ("Resize", dict(size=[9, 13])),
                                         ("CenterCrop", dict(size=10)), ("CenterCrop", dict(size=[22, 30])),
                                         ("Pad", dict(padding=[1, 2, 3, 4])), ("Pad", dict(padding=2, padding_mode="reflect")),
                                         ("RandomHorizontalFlip", dict(p=1.0)), ("RandomVerticalFlip", dict(p=1.0)),
                                         ("Grayscale", dict(num_output_channels=3))])
def test_deterministic_transforms_match_torchvision(kind, name, kwargs):
    arr = _arr((1, 20, 24)) if kind == "mask" else _arr()
    ours_in, ref_in = _pair(arr, kind)
    ours, ref = getattr(v2, name)(**kwargs)(ours_in), getattr(v2_ref, name)(**kwargs)(ref_in)
    # torchvision resizes uint8 images with its own integer kernel; ours rounds the float result (<= 1 apart)
    _check(ours, ref, atol=1.0 if name == "Resize" and kind in ("image", "tensor") else 0.0)
    if name == "Resize" and kind in ("image", "tensor"):
        f = _arr(dtype=np.float32)
        _check(getattr(v2, name)(**kwargs)(_pair(f, kind)[0]), getattr(v2_ref, name)(**kwargs)(_pair(f, kind)[1]),
               atol=2e-6)


def test_color_and_dtype_transforms(monkeypatch):
    arr = _arr()
    for kind in ("image", "tensor", "pil"):
        o, r = _pair(arr, kind)
        params = dict(fn_idx=torch.tensor([3, 1, 0, 2]), brightness_factor=1.2, contrast_factor=0.8,
                      saturation_factor=1.3, hue_factor=0.1)
        _fix_params(monkeypatch, v2.ColorJitter, v2_ref.ColorJitter, params, dict(params, fn_idx=[3, 1, 0, 2]))
        _check(v2.ColorJitter(0.3, 0.3, 0.3, 0.2)(o), v2_ref.ColorJitter(0.3, 0.3, 0.3, 0.2)(r))
        _fix_params(monkeypatch, v2.GaussianBlur, v2_ref.GaussianBlur, dict(sigma=[0.8, 0.8]))
        _check(v2.GaussianBlur(5)(o), v2_ref.GaussianBlur(5)(r))
    img, ref = _pair(arr, "image")
    for dtype, scale in ((mc.float32, True), (mc.float64, False), (mc.int32, True), (mc.uint8, True)):
        rdtype = getattr(torch, str(dtype).split(".")[1])
        _check(v2.ToDtype(dtype, scale=scale)(img), v2_ref.ToDtype(rdtype, scale=scale)(ref), atol=1e-7)
    f_img = v2.ToDtype(mc.float32, scale=True)(img)
    f_ref = v2_ref.ToDtype(torch.float32, scale=True)(ref)
    _check(v2.ToDtype(mc.uint8, scale=True)(f_img), v2_ref.ToDtype(torch.uint8, scale=True)(f_ref))
    _check(v2.Normalize([0.4, 0.5, 0.6], [0.2, 0.3, 0.25])(f_img),
           v2_ref.Normalize([0.4, 0.5, 0.6], [0.2, 0.3, 0.25])(f_ref), atol=2e-6)
    with pytest.raises(TypeError):
        v2.Normalize([0.5], [0.5])(_pair(arr, "pil")[0])
    # a dict of dtypes per type; masks untouched by a plain dtype
    mask, rmask = _pair(arr[:1], "mask")
    out = v2.ToDtype({tv_tensors.Image: mc.float32, tv_tensors.Mask: mc.int64}, scale=True)((img, mask))
    rout = v2_ref.ToDtype({tv_ref.Image: torch.float32, tv_ref.Mask: torch.int64}, scale=True)((ref, rmask))
    for a, b in zip(out, rout):
        _check(a, b, atol=1e-7)
    out = v2.ToDtype(mc.float32)((img, mask))
    rout = v2_ref.ToDtype(torch.float32)((ref, rmask))
    for a, b in zip(out, rout):
        _check(a, b)
    with pytest.raises(ValueError, match="No dtype was specified for type"):
        v2.ToDtype({tv_tensors.Image: mc.float32})((img, mask))


def test_to_image_and_pure_tensor():
    arr = _arr()
    pic = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    for ours_in, ref_in in ((pic, pic), (arr.transpose(1, 2, 0), arr.transpose(1, 2, 0)),
                            (mc.from_numpy(arr), torch.from_numpy(arr))):
        _check(v2.ToImage()(ours_in), v2_ref.ToImage()(ref_in))
    img, ref = _pair(arr, "image")
    _check(v2.ToPureTensor()(img), v2_ref.ToPureTensor()(ref))
    _check(v2.PILToTensor()(pic), v2_ref.PILToTensor()(pic))
    _check(v2.ToPILImage()(img), v2_ref.ToPILImage()(ref))


def _sample(lib, arr, mask_arr, boxes, fmt):
    if lib == "ours":
        return {"image": tv_tensors.Image(mc.from_numpy(arr)), "mask": tv_tensors.Mask(mc.from_numpy(mask_arr)),
                "boxes": tv_tensors.BoundingBoxes(boxes, format=fmt, canvas_size=arr.shape[-2:]), "label": 7,
                "name": "x"}
    return {"image": tv_ref.Image(torch.from_numpy(arr)), "mask": tv_ref.Mask(torch.from_numpy(mask_arr)),
            "boxes": tv_ref.BoundingBoxes(boxes, format=fmt, canvas_size=arr.shape[-2:]), "label": 7, "name": "x"}


@pytest.mark.parametrize("fmt,boxes", [("XYXY", [[2.0, 3.0, 10.0, 12.0], [0.0, 0.0, 24.0, 20.0]]),
                                       ("XYWH", [[2.0, 3.0, 8.0, 9.0], [15.0, 1.0, 6.0, 4.0]]),
                                       ("CXCYWH", [[6.0, 7.5, 8.0, 9.0], [12.0, 10.0, 10.0, 6.0]])])
@pytest.mark.parametrize("case", ["hflip", "vflip", "resize", "center_crop", "pad", "random_crop", "rrc"])
def test_sample_with_boxes_and_mask(monkeypatch, fmt, boxes, case):
    arr = _arr(dtype=np.float32)
    mask_arr = (_arr((1, 20, 24), seed=1) > 128).astype(np.uint8)
    if case == "hflip":
        build = lambda m: m.RandomHorizontalFlip(p=1.0)
    elif case == "vflip":
        build = lambda m: m.RandomVerticalFlip(p=1.0)
    elif case == "resize":
        build = lambda m: m.Resize((15, 30))
    elif case == "center_crop":
        build = lambda m: m.CenterCrop((12, 14))
    elif case == "pad":
        build = lambda m: m.Pad([3, 1, 2, 4])
    elif case == "random_crop":
        params = dict(needs_crop=True, top=4, left=6, height=10, width=12, needs_pad=True, padding=[2, 2, 2, 2])
        _fix_params(monkeypatch, v2.RandomCrop, v2_ref.RandomCrop, params)
        build = lambda m: m.RandomCrop((10, 12), padding=2)
    else:
        _fix_params(monkeypatch, v2.RandomResizedCrop, v2_ref.RandomResizedCrop,
                    dict(top=5, left=4, height=11, width=15))
        build = lambda m: m.RandomResizedCrop((8, 9))
    ours = build(v2)(_sample("ours", arr, mask_arr, boxes, fmt))
    ref = build(v2_ref)(_sample("ref", arr, mask_arr, boxes, fmt))
    assert ours.keys() == ref.keys() and ours["label"] == 7 and ours["name"] == "x"
    _check(ours["image"], ref["image"], atol=2e-6)
    _check(ours["mask"], ref["mask"])
    _check(ours["boxes"], ref["boxes"], atol=1e-5)


def test_one_draw_per_call_and_the_plain_tensor_rule():
    arr = _arr((1, 6, 7))
    x = mc.from_numpy(arr)
    mc.manual_seed(0)
    flips = 0
    for _ in range(300):
        a, b = v2.RandomHorizontalFlip()(x, x)  # two plain tensors: only the first is treated as the image
        assert np.array_equal(b.numpy(), arr)
        flips += not np.array_equal(a.numpy(), arr)
    assert 110 < flips < 190
    img, mask = tv_tensors.Image(x), tv_tensors.Mask(x[0])
    for _ in range(50):  # image and mask always flipped together
        o_img, o_mask, o_plain = v2.RandomHorizontalFlip()(img, mask, x)
        assert np.array_equal(o_img.numpy()[0], o_mask.numpy()) and np.array_equal(o_plain.numpy(), arr)
    out = v2.Resize(3)([x, {"a": x, "b": (x, 5)}])
    assert isinstance(out, list) and tuple(out[0].shape) == (1, 3, 3) and out[1]["b"][1] == 5
    assert tuple(out[1]["a"].shape) == (1, 6, 7)  # a later plain tensor passes through
    ref = v2_ref.Resize(3)([torch.from_numpy(arr), {"a": torch.from_numpy(arr), "b": (torch.from_numpy(arr), 5)}])
    assert tuple(ref[1]["a"].shape) == (1, 6, 7)


def test_random_resized_crop_and_crop_draws():
    img = tv_tensors.Image(mc.zeros(3, 40, 50))
    rrc = v2.RandomResizedCrop(8, scale=(0.3, 0.6))
    mc.manual_seed(1)
    params = [rrc.make_params([img]) for _ in range(300)]
    areas = [p["height"] * p["width"] / 2000 for p in params]
    assert all(0 <= p["top"] <= 40 - p["height"] and 0 <= p["left"] <= 50 - p["width"] for p in params)
    assert 0.25 < np.mean(areas) < 0.5 and len({p["top"] for p in params}) > 5
    crop = v2.RandomCrop(30, padding=3)
    tops = {crop.make_params([img])["top"] for _ in range(200)}
    assert tops == set(range(0, 40 + 6 - 30 + 1))
    with pytest.raises(ValueError, match="Required crop size"):
        v2.RandomCrop(60)(img)
    with pytest.raises(ValueError, match="Found multiple HxW dimensions"):
        v2.RandomCrop(5)(img, tv_tensors.Mask(mc.zeros(4, 4)))


def test_containers_and_lambda():
    x = tv_tensors.Image(mc.from_numpy(_arr(dtype=np.float32)))
    pipeline = v2.Compose([v2.RandomApply([v2.Grayscale(3)], p=1.0), v2.Lambda(lambda t: t * 2),
                           v2.RandomChoice([v2.Identity()]), v2.RandomOrder([v2.Identity(), v2.Identity()])])
    out = pipeline(x)
    ref = v2_ref.Compose([v2_ref.Grayscale(3), v2_ref.Lambda(lambda t: t * 2)])(tv_ref.Image(torch.from_numpy(_arr(dtype=np.float32))))
    _check(out, ref, atol=1e-6)
    assert type(v2.RandomApply([v2.Grayscale()], p=0.0)(x)) is tv_tensors.Image
    mask = tv_tensors.Mask(mc.ones(20, 24, dtype=mc.uint8))
    for t in (v2.ColorJitter(0.5, 0.5, 0.5, 0.2), v2.GaussianBlur(3), v2.Grayscale(), v2.Normalize([0.5] * 3, [0.2] * 3)):
        o_img, o_mask = t(x, mask)  # color transforms leave masks as they are
        assert type(o_img) is tv_tensors.Image and o_mask is mask
    mc.manual_seed(0)
    picks = [v2.RandomChoice([v2.Lambda(lambda t: 1), v2.Lambda(lambda t: 2)], p=[1, 3])(x) for _ in range(400)]
    assert 70 < picks.count(1) < 130
    with pytest.raises(ValueError, match="Length of p"):
        v2.RandomChoice([v2.Identity()], p=[0.5, 0.5])
    with pytest.raises(ValueError, match="Pass at least one transform"):
        v2.Compose([])


def test_reprs_match_torchvision():
    def build(m, t):
        return m.Compose([m.RandomResizedCrop(16), m.RandomHorizontalFlip(), m.ToDtype(t.float32, scale=True),
                          m.Normalize([0.5] * 3, [0.5] * 3), m.ColorJitter(0.2, hue=0.1), m.RandomCrop(5, padding=2),
                          m.Resize(7), m.GaussianBlur(3), m.ToImage(), m.RandomApply([m.Grayscale()]),
                          m.RandomGrayscale(), m.CenterCrop(3), m.Pad(2), m.ToPureTensor(), m.Identity()])

    assert repr(build(v2, mc)) == repr(build(v2_ref, torch))
    assert v2.Resize(7).interpolation == v2_ref.Resize(7).interpolation == "bilinear"


@pytest.mark.parametrize("name,args", [("adjust_brightness", (1.3,)), ("adjust_contrast", (0.7,)),
                                       ("adjust_contrast", (1.9,)), ("adjust_saturation", (0.4,)),
                                       ("adjust_saturation", (1.6,)), ("adjust_hue", (-0.3,)), ("adjust_gamma", (0.6,)),
                                       ("adjust_gamma", (1.5, 0.9)), ("rgb_to_grayscale", (1,)),
                                       ("rgb_to_grayscale", (3,)), ("gaussian_blur", ([3, 5], [0.7, 1.1]))])
def test_v2_color_functional_matches_torchvision(name, args):
    # v2's kernels differ from v1's in rounding (fused adds, scaling by 1/255): integer images must still match
    from mlx_compat.vision.transforms.v2 import functional as OF
    from torchvision.transforms.v2 import functional as RF

    for arr in (_arr((2, 3, 32, 40), seed=3), _arr((3, 17, 19), dtype=np.float32, seed=4), _arr((1, 9, 8), seed=5)):
        for kind in ("image", "tensor"):
            o, r = _pair(arr, kind)
            _check(getattr(OF, name)(o, *args), getattr(RF, name)(r, *args),
                   atol=1e-6 if arr.dtype == np.float32 else 0.0)
    pic = _pair(_arr(), "pil")[0]
    _check(getattr(OF, name)(pic, *args), getattr(RF, name)(pic, *args))
    mask, rmask = _pair(_arr((1, 5, 5)), "mask")  # the functionals refuse masks; the transforms pass them
    with pytest.raises(TypeError):
        getattr(RF, name)(rmask, *args)
    with pytest.raises(TypeError, match=f"F.{name} supports inputs of type"):
        getattr(OF, name)(mask, *args)


@pytest.mark.parametrize("angle,expand,center", [(30.0, False, None), (-62.5, True, None), (90, True, None),
                                                 (90, False, None), (180, False, None), (15.0, True, [5, 7])])
@pytest.mark.parametrize("fmt,boxes", [("XYXY", [[2.0, 3.0, 10.0, 12.0], [1.0, 1.0, 23.0, 19.0]]),
                                       ("CXCYWH", [[6.0, 7.5, 8.0, 9.0]])])
def test_random_rotation_sample(monkeypatch, angle, expand, center, fmt, boxes):
    _fix_params(monkeypatch, v2.RandomRotation, v2_ref.RandomRotation, dict(angle=angle))
    arr = _arr(dtype=np.float32)
    mask_arr = (_arr((1, 20, 24), seed=1) > 128).astype(np.uint8)
    build = lambda m: m.RandomRotation(45, interpolation="bilinear", expand=expand, center=center, fill=0.25)
    ours = build(v2)(_sample("ours", arr, mask_arr, boxes, fmt))
    ref = build(v2_ref)(_sample("ref", arr, mask_arr, boxes, fmt))
    _check(ours["image"], ref["image"], atol=2e-6)
    _check(ours["mask"], ref["mask"])
    _check(ours["boxes"], ref["boxes"], atol=1e-4)
    assert repr(build(v2)) == repr(build(v2_ref))


def test_random_rotation_draws():
    mc.manual_seed(0)
    rot = v2.RandomRotation((-10, 30))
    angles = [rot.make_params([])["angle"] for _ in range(200)]
    assert all(-10 <= a <= 30 for a in angles) and abs(np.mean(angles) - 10) < 2.5
    with pytest.raises(ValueError, match="must be positive"):
        v2.RandomRotation(-3)


def test_random_erasing_v2(monkeypatch):
    arr = _arr(dtype=np.float32)
    params = dict(i=3, j=4, h=5, w=6, v=torch.tensor([0.5, 0.25, 0.75])[:, None, None])
    ours_params = dict(params, v=mc.tensor([0.5, 0.25, 0.75])[:, None, None])
    _fix_params(monkeypatch, v2.RandomErasing, v2_ref.RandomErasing, params, ours_params)
    for kind in ("image", "tensor", "pil"):
        src = _arr() if kind == "pil" else arr
        o, r = _pair(src, kind)
        _check(v2.RandomErasing(p=1.0)(o), v2_ref.RandomErasing(p=1.0)(r))
    mask = tv_tensors.Mask(mc.ones(20, 24))
    with pytest.warns(UserWarning, match="passing through inputs of type"):
        out_img, out_mask = v2.RandomErasing(p=1.0)(_pair(arr, "image")[0], mask)
    assert out_mask is mask and type(out_img) is tv_tensors.Image
    monkeypatch.undo()
    mc.manual_seed(0)
    erased = v2.RandomErasing(p=1.0, value="random")(tv_tensors.Image(mc.zeros(3, 40, 50)))
    assert type(erased) is tv_tensors.Image and 0.01 < float((erased != 0).float().mean()) < 0.4
    assert repr(v2.RandomErasing()) == repr(v2_ref.RandomErasing())


def test_box_utilities_and_sanitize():
    boxes = [[2.0, 3.0, 10.0, 12.0], [5.0, 5.0, 5.5, 9.0], [-3.0, 2.0, 8.0, 30.0], [1.0, 1.0, 23.0, 19.0]]
    for fmt in ("XYWH", "CXCYWH"):
        o = v2.ConvertBoundingBoxFormat(fmt)(tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24)))
        r = v2_ref.ConvertBoundingBoxFormat(fmt)(tv_ref.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24)))
        _check(o, r, atol=1e-6)
        back = v2.ConvertBoundingBoxFormat("XYXY")(o)
        np.testing.assert_allclose(back.numpy(), np.array(boxes, np.float32), atol=1e-5)
    _check(v2.ClampBoundingBoxes()(tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24))),
           v2_ref.ClampBoundingBoxes()(tv_ref.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24))))
    labels = np.arange(4)
    mask_arr = (_arr((4, 20, 24), seed=2) > 128).astype(np.uint8)
    ours = v2.SanitizeBoundingBoxes()({"boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24)),
                                       "labels": mc.from_numpy(labels), "masks": tv_tensors.Mask(mc.from_numpy(mask_arr)),
                                       "image": tv_tensors.Image(mc.zeros(3, 20, 24))})
    ref = v2_ref.SanitizeBoundingBoxes()({"boxes": tv_ref.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24)),
                                          "labels": torch.from_numpy(labels), "masks": tv_ref.Mask(torch.from_numpy(mask_arr)),
                                          "image": tv_ref.Image(torch.zeros(3, 20, 24))})
    for key in ("boxes", "labels", "masks", "image"):
        _check(ours[key], ref[key])
    assert ours["labels"].numpy().tolist() == [0, 3]
    with pytest.raises(ValueError, match="Could not infer where the labels are"):
        v2.SanitizeBoundingBoxes()({"boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(20, 24))})
    with pytest.raises(ValueError, match="min_size must be >= 1"):
        v2.SanitizeBoundingBoxes(min_size=0.5)


def test_five_and_ten_crop_v2():
    arr = _arr()
    for kind in ("image", "tensor", "pil"):
        o, r = _pair(arr, kind)
        for build in (lambda m: m.FiveCrop(7), lambda m: m.TenCrop((6, 9), vertical_flip=True)):
            ours, ref = build(v2)(o), build(v2_ref)(r)
            assert len(ours) == len(ref)
            for a, b in zip(ours, ref):
                _check(a, b)


@pytest.mark.parametrize("params", [dict(angle=20.0, translate=(2, -3), scale=1.2, shear=(10.0, 0.0)),
                                    dict(angle=-35.0, translate=(0, 0), scale=0.8, shear=(5.0, -7.0)),
                                    dict(angle=0.0, translate=(4, 1), scale=1.0, shear=(0.0, 0.0))])
@pytest.mark.parametrize("center", [None, [6, 8]])
def test_random_affine_sample(monkeypatch, params, center):
    _fix_params(monkeypatch, v2.RandomAffine, v2_ref.RandomAffine, params)
    arr = _arr(dtype=np.float32)
    mask_arr = (_arr((1, 20, 24), seed=1) > 128).astype(np.uint8)
    boxes = [[2.0, 3.0, 10.0, 12.0], [1.0, 1.0, 23.0, 19.0]]
    build = lambda m: m.RandomAffine(30, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10, interpolation="bilinear",
                                     fill=0.5, center=center)
    ours = build(v2)(_sample("ours", arr, mask_arr, boxes, "XYXY"))
    ref = build(v2_ref)(_sample("ref", arr, mask_arr, boxes, "XYXY"))
    _check(ours["image"], ref["image"], atol=2e-6)
    _check(ours["mask"], ref["mask"])
    _check(ours["boxes"], ref["boxes"], atol=1e-4)
    assert repr(build(v2)) == repr(build(v2_ref))


@pytest.mark.parametrize("shape", [(3, 20, 24), (3, 31, 7)])
def test_resize_max_size_only(shape):
    arr = _arr(shape, dtype=np.float32)
    for kind in ("image", "pil"):
        src = (arr * 255).astype(np.uint8) if kind == "pil" else arr
        o, r = _pair(src, kind)
        _check(v2.Resize(size=None, max_size=13)(o), v2_ref.Resize(size=None, max_size=13)(r), atol=2e-6)
    boxes = [[2.0, 3.0, 6.0, 7.0]]
    ours = v2.Resize(None, max_size=13)(tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=shape[1:]))
    ref = v2_ref.Resize(None, max_size=13)(tv_ref.BoundingBoxes(boxes, format="XYXY", canvas_size=shape[1:]))
    _check(ours, ref, atol=1e-6)
    with pytest.raises(ValueError, match="max_size must be an integer"):
        v2.Resize(None)
