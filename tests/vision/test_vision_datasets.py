"""vision.datasets.MNIST / FashionMNIST read IDX files the test writes (raw and gzip, torchvision's layout and a
flat folder), with torchvision's attributes and dtypes, clear errors for download/missing/corrupt files, and the
real Debian dataset-fashion-mnist files where installed."""
import gzip
import os
import struct

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.vision import datasets, transforms

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


def _idx_bytes(array):
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    code = codes[array.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_split(folder, prefix, images, labels, compress):
    os.makedirs(folder, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(arr)
        path = os.path.join(folder, name + (".gz" if compress else ""))
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if compress else data)


def _fake(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("layout", ["torchvision", "flat"])
def test_reads_idx_files(tmp_path, compress, layout):
    train_x, train_y = _fake(7, 0)
    test_x, test_y = _fake(3, 1)
    folder = tmp_path / "FashionMNIST" / "raw" if layout == "torchvision" else tmp_path
    _write_split(folder, "train", train_x, train_y, compress)
    _write_split(folder, "t10k", test_x, test_y, compress)
    for train, (x, y) in ((True, (train_x, train_y)), (False, (test_x, test_y))):
        ds = datasets.FashionMNIST(str(tmp_path), train=train)
        assert len(ds) == len(y)
        assert ds.data.dtype is mc.uint8 and tuple(ds.data.shape) == x.shape
        assert ds.targets.dtype is mc.int64
        np.testing.assert_array_equal(ds.data.numpy(), x)
        np.testing.assert_array_equal(ds.targets.numpy(), y.astype(np.int64))
        img, target = ds[1]
        assert target == int(y[1]) and isinstance(target, int)
        np.testing.assert_array_equal(np.asarray(img), x[1])


def test_transforms_apply_and_mnist_classes(tmp_path):
    x, y = _fake(4, 2)
    _write_split(tmp_path / "MNIST" / "raw", "train", x, y, True)
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda t: t + 100)
    img, target = ds[2]
    ref = torch.from_numpy(x[2]).unsqueeze(0).float().div(255)  # torchvision's ToTensor of an 'L' image
    assert tuple(img.shape) == (1, 28, 28) and img.dtype is mc.float32
    np.testing.assert_array_equal(img.numpy(), ref.numpy())
    assert target == int(y[2]) + 100
    assert ds.classes == ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
                          "7 - seven", "8 - eight", "9 - nine"]
    assert datasets.FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                             "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert ds.class_to_idx["3 - three"] == 3
    assert "Number of datapoints: 4" in repr(ds) and "Split: Train" in repr(ds)


def test_works_with_the_dataloader(tmp_path):
    x, y = _fake(10, 3)
    _write_split(tmp_path, "train", x, y, False)
    ds = datasets.FashionMNIST(tmp_path, transform=transforms.ToTensor())
    batches = list(mc.utils.data.DataLoader(ds, batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 1, 28, 28), (4, 1, 28, 28), (2, 1, 28, 28)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y.astype(np.int64))


def test_download_and_missing_files_say_where_the_files_come_from(tmp_path):
    for kw in (dict(download=True), dict()):
        with pytest.raises(RuntimeError) as e:
            datasets.FashionMNIST(tmp_path, **kw)
        msg = str(e.value)
        assert "dataset-fashion-mnist" in msg and "apt-get install dataset-fashion-mnist" in msg
        assert "dpkg -L dataset-fashion-mnist" in msg and str(tmp_path) in msg
    with pytest.raises(RuntimeError, match="t10k-images-idx3-ubyte"):
        datasets.MNIST(tmp_path, train=False)


def test_corrupt_idx_files(tmp_path):
    x, y = _fake(5, 4)
    _write_split(tmp_path, "train", x, y, False)
    path = tmp_path / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(RuntimeError, match="truncated"):
        datasets.MNIST(tmp_path)
    path.write_bytes(b"\x01\x02" + data[2:])
    with pytest.raises(RuntimeError, match="magic"):
        datasets.MNIST(tmp_path)
    _write_split(tmp_path, "train", x, y[:4], False)  # 5 images, 4 labels
    with pytest.raises(RuntimeError, match="expected N images"):
        datasets.MNIST(tmp_path)


def test_read_idx_dtypes():
    import tempfile
    for dt in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dt)
        with tempfile.NamedTemporaryFile(suffix=".idx", delete=False) as f:
            f.write(_idx_bytes(a))
        try:
            out = datasets.read_idx(f.name)
        finally:
            os.unlink(f.name)
        assert out.dtype == a.dtype and out.shape == a.shape and np.array_equal(out, a)


@pytest.mark.skipif(not os.path.isdir(DEBIAN_DIR), reason="Debian's dataset-fashion-mnist is not installed here")
def test_real_fashion_mnist_files():
    train = datasets.FashionMNIST(DEBIAN_DIR, train=True)
    test = datasets.FashionMNIST(DEBIAN_DIR, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert tuple(train.data.shape) == (60000, 28, 28)
    # Fashion-MNIST is balanced: 6000 train / 1000 test images per class
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    with gzip.open(os.path.join(DEBIAN_DIR, "t10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    first = np.frombuffer(raw, dtype=np.uint8, count=784, offset=16).reshape(28, 28)
    np.testing.assert_array_equal(test.data[0].numpy(), first)


def test_kmnist(tmp_path):
    x, y = _fake(3, 5)
    _write_split(tmp_path / "KMNIST" / "raw", "t10k", x, y, True)
    ds = datasets.KMNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data.numpy(), x)
    assert ds.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    with pytest.raises(RuntimeError, match="codh.rois.ac.jp/kmnist"):
        datasets.KMNIST(tmp_path, download=True)
