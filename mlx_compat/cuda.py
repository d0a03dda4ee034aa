"""torch.cuda: true only when the installed MLX runs on an NVIDIA GPU (its CUDA backend)."""
from . import _device


def is_available() -> bool:
    return _device.GPU_AVAILABLE and not _device.IS_METAL


def device_count() -> int:
    return 1 if is_available() else 0


def current_device() -> int:
    if not is_available():
        raise RuntimeError("Torch not compiled with CUDA enabled")
    return 0


def synchronize(device=None):
    import mlx.core as mx

    mx.synchronize()


def manual_seed(seed):
    from ._ops.random import manual_seed as ms

    ms(seed)


manual_seed_all = manual_seed
