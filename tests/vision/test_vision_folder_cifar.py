"""vision.datasets.CIFAR10/CIFAR100 and DatasetFolder/ImageFolder against torchvision's own classes on the same
local files: a tiny synthetic CIFAR written in the python-pickle batch format, and a temp folder of PNGs."""
import os
import pickle

import numpy as np
import pytest

import mlx_compat as mc
import vision_reference
from mlx_compat.vision import datasets, transforms

Image = pytest.importorskip("PIL.Image", reason="Pillow (a test dependency) builds the PNG files and PIL samples")
try:
    torchvision = vision_reference.import_torchvision()
except ImportError:  # pragma: no cover - the reason is shown by the skip
    pytest.skip("torchvision (a test-only dependency) is not installed", allow_module_level=True)


def _cifar_batch(path, n, seed, label_key, classes, protocol=2):
    rng = np.random.default_rng(seed)
    entry = {"batch_label": "synthetic", "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             label_key: [int(v) for v in rng.integers(0, classes, n)], "filenames": [f"img{i}.png" for i in range(n)]}
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=protocol)
    return entry


def _write_cifar(root, kind):
    """kind 10: five train batches, one test batch and batches.meta; 100: train, test and meta (fine labels)."""
    if kind == 10:
        folder = os.path.join(root, "cifar-10-batches-py")
        os.makedirs(folder)
        for i in range(5):
            _cifar_batch(os.path.join(folder, f"data_batch_{i + 1}"), 3 + i, i, "labels", 10)
        _cifar_batch(os.path.join(folder, "test_batch"), 4, 9, "labels", 10)
        meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                "truck"], "num_cases_per_batch": 10000, "num_vis": 3072}
        with open(os.path.join(folder, "batches.meta"), "wb") as f:
            pickle.dump(meta, f)
    else:
        folder = os.path.join(root, "cifar-100-python")
        os.makedirs(folder)
        for name, n, seed in (("train", 6, 0), ("test", 5, 1)):
            entry = _cifar_batch(os.path.join(folder, name), n, seed, "fine_labels", 100)
            entry["coarse_labels"] = [v // 5 for v in entry["fine_labels"]]
        with open(os.path.join(folder, "meta"), "wb") as f:
            pickle.dump({"fine_label_names": [f"fine{i}" for i in range(100)],
                         "coarse_label_names": [f"coarse{i}" for i in range(20)]}, f)


@pytest.fixture
def _tv_cifar_without_md5(monkeypatch):
    # torchvision checks the published archives' md5 sums; the synthetic batches have other sums by construction.
    import torchvision.datasets.cifar as tv_cifar
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: True)
    return tv_cifar


@pytest.mark.parametrize("kind", [10, 100])
@pytest.mark.parametrize("train", [True, False])
def test_cifar_matches_torchvision(tmp_path, _tv_cifar_without_md5, kind, train):
    _write_cifar(str(tmp_path), kind)
    name = f"CIFAR{kind}"
    ours = getattr(datasets, name)(str(tmp_path), train=train)
    ref = getattr(_tv_cifar_without_md5, name)(str(tmp_path), train=train)
    assert len(ours) == len(ref)
    assert ours.data.dtype == ref.data.dtype == np.uint8 and ours.data.shape == ref.data.shape
    np.testing.assert_array_equal(ours.data, ref.data)
    assert ours.targets == ref.targets and all(type(t) is int for t in ours.targets)
    assert ours.classes == ref.classes and ours.class_to_idx == ref.class_to_idx
    for i in (0, len(ref) - 1):
        (img, target), (rimg, rtarget) = ours[i], ref[i]
        assert isinstance(img, Image.Image) and img.mode == rimg.mode == "RGB" and img.size == rimg.size
        np.testing.assert_array_equal(np.asarray(img), np.asarray(rimg))
        assert target == rtarget
    assert repr(ours) == repr(ref)


def test_cifar_transforms_and_dataloader(tmp_path, _tv_cifar_without_md5):
    _write_cifar(str(tmp_path), 10)
    tv_t = torchvision.transforms
    ours = datasets.CIFAR10(tmp_path, transform=transforms.ToTensor(), target_transform=lambda t: t * 2)
    ref = _tv_cifar_without_md5.CIFAR10(tmp_path, transform=tv_t.ToTensor(), target_transform=lambda t: t * 2)
    img, target = ours[5]
    rimg, rtarget = ref[5]
    assert img.dtype is mc.float32 and tuple(img.shape) == (3, 32, 32) and target == rtarget
    np.testing.assert_array_equal(img.numpy(), rimg.numpy())
    batches = list(mc.utils.data.DataLoader(ours, batch_size=8))
    assert [tuple(b[0].shape) for b in batches] == [(8, 3, 32, 32), (8, 3, 32, 32), (8, 3, 32, 32), (1, 3, 32, 32)]
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == [2 * t for t in ref.targets]
    assert repr(ours).splitlines()[:3] == repr(ref).splitlines()[:3]
    assert "StandardTransform" in repr(ours) and "Transform: ToTensor()" in repr(ours)


def test_cifar_download_missing_and_unsafe_files(tmp_path):
    for kw in (dict(download=True), dict()):
        with pytest.raises(RuntimeError) as e:
            datasets.CIFAR10(tmp_path, **kw)
        assert "cifar-10-python.tar.gz" in str(e.value) and str(tmp_path) in str(e.value)
    with pytest.raises(RuntimeError, match="cifar-100-python.tar.gz"):
        datasets.CIFAR100(tmp_path, train=False)
    _write_cifar(str(tmp_path), 10)
    os.remove(tmp_path / "cifar-10-batches-py" / "test_batch")
    assert len(datasets.CIFAR10(tmp_path, train=True)) == 3 + 4 + 5 + 6 + 7  # the train split needs only its files
    with pytest.raises(RuntimeError, match="test_batch missing"):
        datasets.CIFAR10(tmp_path, train=False)

    class Payload:  # a pickle naming any other global must not be resolved (or run)
        def __reduce__(self):
            return (os.system, ("true",))

    with open(tmp_path / "cifar-10-batches-py" / "data_batch_2", "wb") as f:
        pickle.dump({"data": Payload(), "labels": []}, f)
    with pytest.raises(RuntimeError, match="refusing to load the global"):
        datasets.CIFAR10(tmp_path)
    _cifar_batch(tmp_path / "cifar-10-batches-py" / "data_batch_2", 3, 0, "labels", 10)
    entry = {"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_3", "wb") as f:
        pickle.dump(entry, f)
    with pytest.raises(RuntimeError, match="3072"):
        datasets.CIFAR10(tmp_path)


def _png_tree(root):
    """root/cat/{a,b}.png, root/cat/sub/c.PNG, root/dog/d.png, root/dog/notes.txt, root/empty_not/ (a file)."""
    rng = np.random.default_rng(0)
    files = {"cat/b.png": "RGB", "cat/a.png": "L", "cat/sub/c.PNG": "RGBA", "dog/d.png": "RGB"}
    for rel, mode in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        arr = rng.integers(0, 256, (5, 7, channels), dtype=np.uint8)
        Image.fromarray(arr[:, :, 0] if mode == "L" else arr, mode=mode).save(path)
    with open(os.path.join(root, "dog", "notes.txt"), "w") as f:
        f.write("not an image")
    with open(os.path.join(root, "readme.md"), "w") as f:
        f.write("a file at the root is not a class")


def test_image_folder_matches_torchvision(tmp_path):
    _png_tree(str(tmp_path))
    tvd = torchvision.datasets
    ours, ref = datasets.ImageFolder(str(tmp_path)), tvd.ImageFolder(str(tmp_path))
    assert ours.classes == ref.classes == ["cat", "dog"] and ours.class_to_idx == ref.class_to_idx
    assert ours.samples == ref.samples and ours.imgs == ref.imgs and ours.targets == ref.targets
    assert len(ours) == len(ref) == 4
    for i in range(len(ref)):
        (img, t), (rimg, rt) = ours[i], ref[i]
        assert t == rt and img.mode == rimg.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(img), np.asarray(rimg))
    assert repr(ours) == repr(ref)
    # a transform, and the folder through our ToTensor compared with torchvision's
    ours_t = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    ref_t = tvd.ImageFolder(tmp_path, transform=torchvision.transforms.ToTensor())
    np.testing.assert_array_equal(ours_t[2][0].numpy(), ref_t[2][0].numpy())


def test_dataset_folder_options_match_torchvision(tmp_path):
    _png_tree(str(tmp_path))
    tvd = torchvision.datasets

    def loader(path):
        return os.path.getsize(path)

    def valid(path):
        return not path.endswith("a.png")

    for kwargs in (dict(extensions=(".txt",), allow_empty=True), dict(extensions=".png"),
                   dict(is_valid_file=valid), dict(extensions=("PNG", ".txt"), allow_empty=True)):
        ours = datasets.DatasetFolder(tmp_path, loader, **kwargs)
        ref = tvd.DatasetFolder(tmp_path, loader, **kwargs)
        assert ours.samples == ref.samples and ours.targets == ref.targets, kwargs
        assert [ours[i] for i in range(len(ours))] == [ref[i] for i in range(len(ref))]
    assert datasets.folder.find_classes(tmp_path) == tvd.folder.find_classes(tmp_path)
    assert datasets.folder.is_image_file("x.JPEG") and not datasets.folder.is_image_file("x.gif")
    assert datasets.folder.IMG_EXTENSIONS == tvd.folder.IMG_EXTENSIONS
    # the errors torchvision raises, with its messages
    cases = [
        (lambda m: m.DatasetFolder(tmp_path, loader, extensions=(".txt",)), FileNotFoundError),  # cat has none
        (lambda m: m.DatasetFolder(tmp_path, loader), ValueError),
        (lambda m: m.DatasetFolder(tmp_path, loader, extensions=".png", is_valid_file=valid), ValueError),
        (lambda m: m.ImageFolder(tmp_path / "dog" / "notes.txt"), NotADirectoryError),
        (lambda m: m.ImageFolder(tmp_path / "cat" / "sub"), FileNotFoundError),  # no class folder
        (lambda m: m.folder.make_dataset(str(tmp_path), {}, extensions=".png"), ValueError),
    ]
    for build, exc in cases:
        with pytest.raises(exc) as ref_err:
            build(tvd)
        with pytest.raises(exc) as our_err:
            build(datasets)
        assert str(our_err.value) == str(ref_err.value)
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        datasets.VisionDataset(tmp_path, transforms=lambda a, b: (a, b), transform=lambda a: a)


def test_loaders_and_image_backend(tmp_path):
    import mlx_compat.vision as vision
    _png_tree(str(tmp_path))
    path = str(tmp_path / "cat" / "sub" / "c.PNG")
    ours, ref = datasets.folder.pil_loader(path), torchvision.datasets.folder.pil_loader(path)
    assert ours.mode == "RGB" and np.array_equal(np.asarray(ours), np.asarray(ref))
    assert vision.get_image_backend() == torchvision.get_image_backend() == "PIL"
    with pytest.raises(ValueError, match="Invalid backend"):
        vision.set_image_backend("cv2")
