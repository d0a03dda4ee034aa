"""torch.cuda: true only when the installed MLX runs on an NVIDIA GPU (its CUDA backend).

Device facts and memory figures come from MLX (mlx_compat._gpu_memory: its allocator's active, cached and peak
bytes); the RNG is the one global generator MLX has for both devices; an `Event` with timing synchronizes the GPU
when recorded and reads the host clock, so `elapsed_time` between two records covers the work queued between them.
Without the CUDA backend (a CPU machine, or Metal) the calls behave as in a torch built without CUDA: queries of
a device raise AssertionError("Torch not compiled with CUDA enabled"), memory figures are 0, seeding is a no-op.
`amp` holds GradScaler and autocast (deprecated spellings).
"""
import collections
import time

from . import _device, _gpu_memory
from ._ops import random as _random


def is_available() -> bool:
    return _device.GPU_AVAILABLE and not _device.IS_METAL


def is_initialized() -> bool:
    return is_available()


def device_count() -> int:
    return 1 if is_available() else 0


def _need():
    if not is_available():
        raise AssertionError("Torch not compiled with CUDA enabled")


def current_device() -> int:
    _need()
    return 0


def set_device(device) -> None:
    _need()
    index = device if isinstance(device, int) else getattr(_device.device(device), "index", None) or 0
    if index != 0:
        raise RuntimeError("CUDA error: invalid device ordinal")


class device:
    """torch.cuda.device(idx): a context manager selecting a device; there is one (index 0)."""

    def __init__(self, device):
        self.idx = device if isinstance(device, int) or device is None else (_device.device(device).index or 0)

    def __enter__(self):
        if self.idx not in (None, -1):
            set_device(self.idx)

    def __exit__(self, *exc):
        return False


def synchronize(device=None) -> None:
    _need()
    _gpu_memory.synchronize()


def get_device_name(device=None) -> str:
    _need()
    return str(_gpu_memory.info().get("device_name", "NVIDIA GPU"))


_DeviceProperties = collections.namedtuple("_CudaDeviceProperties", ["name", "total_memory", "major", "minor",
                                                                     "multi_processor_count"])


def get_device_properties(device=None):
    """name, total_memory (bytes), major/minor (compute capability where MLX reports it, else 0) and
    multi_processor_count (where reported, else 0)."""
    _need()
    facts = _gpu_memory.info()
    major, minor = get_device_capability(device)
    return _DeviceProperties(str(facts.get("device_name", "NVIDIA GPU")), _gpu_memory.total_memory(), major, minor,
                             int(facts.get("multi_processor_count", facts.get("num_sms", 0))))


def get_device_capability(device=None):
    _need()
    facts = _gpu_memory.info()
    cc = facts.get("compute_capability")
    if isinstance(cc, str) and "." in cc:
        return tuple(int(x) for x in cc.split(".")[:2])
    if isinstance(cc, int):
        return cc // 10, cc % 10
    return int(facts.get("compute_capability_major", 0)), int(facts.get("compute_capability_minor", 0))


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return is_available()


def is_tf32_supported() -> bool:
    return is_available()


def mem_get_info(device=None):
    """(free, total) bytes: the device's size less what MLX's allocator holds."""
    _need()
    return _gpu_memory.free_and_total()


def memory_allocated(device=None) -> int:
    return _gpu_memory.allocated() if is_available() else 0


def max_memory_allocated(device=None) -> int:
    return _gpu_memory.max_allocated() if is_available() else 0


def memory_reserved(device=None) -> int:
    return _gpu_memory.reserved() if is_available() else 0


def max_memory_reserved(device=None) -> int:
    return _gpu_memory.max_reserved() if is_available() else 0


def reset_peak_memory_stats(device=None) -> None:
    if is_available():
        _gpu_memory.reset_peak()


reset_max_memory_allocated = reset_peak_memory_stats


def empty_cache() -> None:
    if is_available():
        _gpu_memory.empty_cache()


def set_per_process_memory_fraction(fraction, device=None) -> None:
    _need()
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    import mlx.core as mx

    mx.set_memory_limit(int(fraction * _gpu_memory.total_memory()))


def manual_seed(seed) -> None:
    if is_available():
        _random.manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    if is_available():
        _random.seed()


seed_all = seed


def initial_seed() -> int:
    _need()
    return _random.initial_seed()


def get_rng_state(device="cuda"):
    _need()
    return _random.get_rng_state()


def set_rng_state(new_state, device="cuda") -> None:
    _need()
    _random.set_rng_state(new_state)


def get_rng_state_all():
    return [_random.get_rng_state()] if is_available() else []


def set_rng_state_all(new_states) -> None:
    for state in new_states:
        set_rng_state(state)


class Event:
    """torch.cuda.Event. `record()` waits for the GPU's queued work and notes the host clock, so
    `start.elapsed_time(end)` is the milliseconds between the two records; `synchronize`/`wait`/`query` see a
    recorded event as complete."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        _need()
        self.enable_timing = enable_timing
        self._time = None

    def record(self, stream=None) -> None:
        _gpu_memory.synchronize()
        self._time = time.perf_counter()

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        _gpu_memory.synchronize()

    def wait(self, stream=None) -> None:
        _gpu_memory.synchronize()

    def elapsed_time(self, end_event) -> float:
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self._time is None or end_event._time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return (end_event._time - self._time) * 1e3


from .amp import _cuda as amp  # noqa: E402,F401  (torch.cuda.amp: the deprecated GradScaler spelling)
