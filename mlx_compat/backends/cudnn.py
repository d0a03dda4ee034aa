"""torch.backends.cudnn: the flags training scripts set (`benchmark`, `deterministic`, `enabled`, `allow_tf32`) and
whether cuDNN is there. MLX's CUDA backend calls cuDNN for its convolutions and picks their algorithms itself, so
the flags are kept for reading back and change no computation here; `is_available()` is true only on MLX's CUDA
backend (never on Metal or the CPU), and `version()` is None, as MLX does not report the cuDNN it loaded."""
import contextlib

from .. import _device

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return _device.GPU_AVAILABLE and not _device.IS_METAL and not _device.FAKE_GPU


benchmark_limit = 10 if is_available() else None  # torch's default where cuDNN is loaded, else None


def version():
    return None


def is_acceptable(tensor) -> bool:
    """torch's test of whether cuDNN would take this tensor: a float tensor on the CUDA device."""
    return bool(enabled and is_available() and tensor.is_cuda and tensor.dtype.is_floating_point)


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the flags for the block, and restore them after it (torch's `cudnn.flags`)."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: g[n] for n in names}
    g.update(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    try:
        yield
    finally:
        g.update(saved)
