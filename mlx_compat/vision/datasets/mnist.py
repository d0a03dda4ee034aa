"""MNIST, FashionMNIST and KMNIST with torchvision's signature, read from the IDX files (raw or gzip-compressed).

Nothing is downloaded (no network at run time): `download=True` or missing files raise a RuntimeError saying
where the files come from. Fashion-MNIST is packaged by Debian as `dataset-fashion-mnist` (`apt-get install
dataset-fashion-mnist` puts train-/t10k-{images-idx3,labels-idx1}-ubyte.gz in /usr/share/datasets/fashion-mnist;
`dpkg -L dataset-fashion-mnist` lists them). The files are looked for in `root/<Class>/raw` (torchvision's
layout), `root/<Class>` and `root` itself, so `root="/usr/share/datasets/fashion-mnist"` works as it is.
"""
from __future__ import annotations

import gzip
import os

import numpy as np

from ...utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "read_idx"]

# IDX type codes -> numpy big-endian dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file (gzip-compressed when its name ends in .gz or its bytes say so)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise RuntimeError(f"{path}: corrupt gzip data ({e})") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise RuntimeError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise RuntimeError(f"{path}: unknown IDX element type 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise RuntimeError(f"{path}: truncated IDX header")
    shape = tuple(int(x) for x in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    dt = np.dtype(_IDX_TYPES[code])
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != count * dt.itemsize:
        raise RuntimeError(f"{path}: IDX data holds {len(data) - header} bytes, its header says shape {shape} "
                           f"of {dt.itemsize}-byte elements (truncated or corrupt file)")
    return np.frombuffer(data, dtype=dt, count=count, offset=header).astype(dt.newbyteorder("=")).reshape(shape)


def _pil_image(array):
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image.fromarray(array, mode="L")


class MNIST(Dataset):
    """torchvision.datasets.MNIST: samples are (image, target); the image is a PIL image (mode 'L') where Pillow
    is installed, else the HxW uint8 numpy array (ToTensor takes either); `data` is a uint8 tensor (N, 28, 28)
    and `targets` an int64 tensor (N,)."""

    resources = [("train-images-idx3-ubyte", None), ("train-labels-idx1-ubyte", None),
                 ("t10k-images-idx3-ubyte", None), ("t10k-labels-idx1-ubyte", None)]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    _source = ("The MNIST files are not downloaded by mlx_compat (no network at run time): place "
               "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
               "(each optionally .gz) in {folder}.")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = None if transform is None and target_transform is None else (transform, target_transform)
        self.train = train
        if download:
            raise RuntimeError("download=True is not supported: mlx_compat never downloads. " +
                               self._source.format(folder=self.raw_folder))
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def train_labels(self):
        return self.targets

    @property
    def test_labels(self):
        return self.targets

    @property
    def train_data(self):
        return self.data

    @property
    def test_data(self):
        return self.data

    def _find(self, stem):
        folders = [self.raw_folder, os.path.join(self.root, self.__class__.__name__), self.root]
        for folder in folders:
            for name in (stem, stem + ".gz"):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
        return None

    def _check_exists(self):
        prefix = "train" if self.train else "t10k"
        return all(self._find(f"{prefix}-{kind}") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))

    def _load_data(self):
        import mlx_compat as torch

        prefix = "train" if self.train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte")
        labels = self._find(f"{prefix}-labels-idx1-ubyte")
        if images is None or labels is None:
            missing = [n for n, p in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels))
                       if p is None]
            raise RuntimeError(f"Dataset not found: no {' or '.join(m + '[.gz]' for m in missing)} in "
                               f"{self.raw_folder}, {os.path.join(self.root, self.__class__.__name__)} or "
                               f"{self.root}. " + self._source.format(folder=self.raw_folder))
        x = read_idx(images)
        y = read_idx(labels)
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise RuntimeError(f"{images} / {labels}: expected N images of HxW and N labels, got shapes "
                               f"{x.shape} and {y.shape}")
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8)), \
            torch.from_numpy(y.astype(np.int64))

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        array = img.numpy()
        pil = _pil_image(array)
        img = pil if pil is not None else np.array(array)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"

    def __repr__(self):
        head = "Dataset " + self.__class__.__name__
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transform is not None:
            body += [f"StandardTransform\nTransform: {self.transform!r}"]
        if self.target_transform is not None:
            body += [f"Target transform: {self.target_transform!r}"]
        return "\n".join([head] + [" " * 4 + line for line in body])


class FashionMNIST(MNIST):
    """torchvision.datasets.FashionMNIST (Zalando's clothing images, MNIST's format and sizes)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    _source = ("mlx_compat never downloads (no network at run time). The Fashion-MNIST files come from Debian's "
               "package dataset-fashion-mnist: run `apt-get install dataset-fashion-mnist` and pass "
               "root='/usr/share/datasets/fashion-mnist' (`dpkg -L dataset-fashion-mnist` lists the files), or "
               "place train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
               "t10k-labels-idx1-ubyte (each optionally .gz) in {folder}.")


class KMNIST(MNIST):
    """torchvision.datasets.KMNIST (Kuzushiji-MNIST: ten classes of cursive Japanese characters, MNIST's format)."""

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _source = ("The KMNIST files are not downloaded by mlx_compat (no network at run time): fetch "
               "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
               "t10k-labels-idx1-ubyte.gz from http://codh.rois.ac.jp/kmnist/dataset/kmnist/ yourself and place "
               "them in {folder}.")
