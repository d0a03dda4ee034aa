"""torchvision.datasets: the MNIST family read from IDX files."""
from .mnist import MNIST, FashionMNIST, read_idx  # noqa: F401

__all__ = ["MNIST", "FashionMNIST", "read_idx"]
