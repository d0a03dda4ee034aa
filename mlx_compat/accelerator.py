"""torch.accelerator: the device-agnostic view of MLX's GPU ('cuda' on NVIDIA, 'mps' on Metal): availability,
the current accelerator and its memory (MLX's allocator's figures). Without a GPU the device calls raise torch's
RuntimeError."""
from . import _device, _gpu_memory

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count", "empty_cache",
           "get_memory_info", "is_available", "max_memory_allocated", "max_memory_reserved", "memory_allocated",
           "memory_reserved", "reset_peak_memory_stats", "set_device_idx", "set_device_index", "synchronize"]


def is_available() -> bool:
    return _device.GPU_AVAILABLE


def device_count() -> int:
    return 1 if is_available() else 0


def current_accelerator(check_available: bool = False):
    if not is_available():
        return None
    return _device.device(_device.GPU_TYPE)


def _need():
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index() -> int:
    _need()
    return 0


current_device_idx = current_device_index


def set_device_index(device) -> None:
    _need()
    index = device if isinstance(device, int) else (_device.device(device).index or 0)
    if index != 0:
        raise RuntimeError(f"Invalid device index {index}: there is one accelerator")


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    _need()
    _gpu_memory.synchronize()


def empty_cache() -> None:
    _need()
    _gpu_memory.empty_cache()


def memory_allocated(device_index=None) -> int:
    _need()
    return _gpu_memory.allocated()


def max_memory_allocated(device_index=None) -> int:
    _need()
    return _gpu_memory.max_allocated()


def memory_reserved(device_index=None) -> int:
    _need()
    return _gpu_memory.reserved()


def max_memory_reserved(device_index=None) -> int:
    _need()
    return _gpu_memory.max_reserved()


def reset_peak_memory_stats(device_index=None) -> None:
    _need()
    _gpu_memory.reset_peak()


def get_memory_info(device_index=None):
    """(free, total) bytes of the accelerator."""
    _need()
    return _gpu_memory.free_and_total()
