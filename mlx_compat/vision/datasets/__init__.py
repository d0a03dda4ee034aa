"""torchvision.datasets: MNIST/FashionMNIST/KMNIST (IDX files), CIFAR10/CIFAR100 (python-pickle batches),
DatasetFolder/ImageFolder (one folder per class) and their VisionDataset base, all read from local files."""
from .cifar import CIFAR10, CIFAR100  # noqa: F401
from .folder import DatasetFolder, ImageFolder  # noqa: F401
from .mnist import KMNIST, MNIST, FashionMNIST, read_idx  # noqa: F401
from .vision import StandardTransform, VisionDataset  # noqa: F401

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FashionMNIST", "ImageFolder", "KMNIST", "MNIST",
           "StandardTransform", "VisionDataset", "read_idx"]
