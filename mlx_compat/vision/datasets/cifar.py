"""CIFAR10 and CIFAR100 with torchvision's signature and attributes, read from the python-pickle batches of the
extracted archives (`root/cifar-10-batches-py/data_batch_1..5, test_batch, batches.meta`;
`root/cifar-100-python/train, test, meta`).

Nothing is downloaded (no network at run time): `download=True` or missing files raise a RuntimeError saying which
archive to fetch and where to extract it.  The batches are unpickled by a restricted unpickler that only builds
numpy arrays and plain containers (Note [restricted cifar unpickling]); torchvision's md5 checks are replaced by
structural checks (3072 bytes per image, one label per image), so re-packed or subset batches in the same format
also load.
"""
from __future__ import annotations

import os
import pickle

import numpy as np

from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]

# Note [restricted cifar unpickling]: the batches are pickles of dicts holding a numpy uint8 array and lists, as
# written by Python 2's cPickle.  An arbitrary pickle can run code on load, so only the globals a numpy array's
# reduction names are resolved; any other global makes the load fail with an UnpicklingError.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"),
    ("__builtin__", "object"),
    ("builtins", "object"),
    ("_codecs", "encode"),  # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(str, 'latin1')
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"CIFAR batch files only hold numpy arrays and lists; refusing to load the "
                                         f"global {module}.{name}")
        return super().find_class(module, name)


def _load_batch(path):
    """The dict pickled in one batch file (latin1 strings, as torchvision reads Python 2's pickles)."""
    with open(path, "rb") as f:
        try:
            entry = _ArrayUnpickler(f, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
            raise RuntimeError(f"{path}: not a CIFAR python batch file ({e})") from e
    if not isinstance(entry, dict):
        raise RuntimeError(f"{path}: not a CIFAR python batch file (it holds a {type(entry).__name__}, not a dict)")
    return entry


class CIFAR10(VisionDataset):
    """torchvision.datasets.CIFAR10: samples are (image, target); the image is an RGB PIL image where Pillow is
    installed, else the 32x32x3 uint8 numpy array; `data` is a uint8 numpy array (N, 32, 32, 3), `targets` a list of
    ints, `classes`/`class_to_idx` come from the meta file."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            raise RuntimeError("download=True is not supported: mlx_compat never downloads (no network at run "
                               "time). " + self._where())
        files = self.train_list if train else self.test_list
        missing = [name for name, _ in files + [[self.meta["filename"], None]]
                   if not os.path.isfile(os.path.join(self._folder, name))]
        if missing:
            raise RuntimeError(f"Dataset not found: {', '.join(missing)} missing in {self._folder}. " + self._where())
        data, targets = [], []
        for name, _ in files:
            path = os.path.join(self._folder, name)
            entry = _load_batch(path)
            labels = entry.get("labels", entry.get("fine_labels"))
            images = entry.get("data")
            if labels is None or images is None:
                raise RuntimeError(f"{path}: a CIFAR batch holds 'data' and 'labels' (or 'fine_labels')")
            images = np.asarray(images)
            if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3 * 32 * 32 \
                    or images.shape[0] != len(labels):
                raise RuntimeError(f"{path}: expected N rows of 3072 uint8 values and N labels, got an array "
                                   f"{images.dtype}{list(images.shape)} and {len(labels)} labels")
            data.append(images)
            targets.extend(int(t) for t in labels)
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self.targets = targets
        self._load_meta()

    @property
    def _folder(self):
        return os.path.join(self.root, self.base_folder)

    def _where(self):
        return (f"Fetch {self.url} yourself and extract it in {self.root} (the batches then lie in "
                f"{self._folder}).")

    def _load_meta(self):
        path = os.path.join(self._folder, self.meta["filename"])
        entry = _load_batch(path)
        if self.meta["key"] not in entry:
            raise RuntimeError(f"{path}: the metadata file holds no '{self.meta['key']}'")
        self.classes = list(entry[self.meta["key"]])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _check_integrity(self):
        return all(os.path.isfile(os.path.join(self._folder, name)) for name, _ in self.train_list + self.test_list)

    def download(self):
        raise RuntimeError("mlx_compat never downloads (no network at run time). " + self._where())

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        try:
            from PIL import Image
        except ImportError:
            img = np.array(img)
        else:
            img = Image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """torchvision.datasets.CIFAR100: CIFAR10's interface over the 100 fine labels."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
