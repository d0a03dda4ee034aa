"""torch.backends.mps: true only when the installed MLX has a Metal GPU."""
from .. import _device


def is_available() -> bool:
    return _device.GPU_AVAILABLE and _device.IS_METAL


def is_built() -> bool:
    return _device.IS_METAL
