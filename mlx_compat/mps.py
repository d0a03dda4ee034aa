"""torch.mps: Apple's Metal GPU when MLX runs on it. Memory figures are MLX's allocator's (mlx_compat._gpu_memory);
the RNG is the one global generator MLX has for both devices. Without Metal every call but `is_available`,
`device_count` and `manual_seed` raises torch's RuntimeError, as torch does on a machine without MPS."""
from . import _device, _gpu_memory
from ._ops import random as _random

__all__ = ["current_allocated_memory", "device_count", "driver_allocated_memory", "empty_cache", "get_rng_state",
           "is_available", "manual_seed", "recommended_max_memory", "seed", "set_per_process_memory_fraction",
           "set_rng_state", "synchronize"]


def is_available() -> bool:
    return _device.GPU_AVAILABLE and _device.IS_METAL


def device_count() -> int:
    return 1 if is_available() else 0


def _need(what):
    if not is_available():
        raise RuntimeError(f"Cannot execute {what}() without MPS backend.")


def synchronize() -> None:
    _need("deviceSynchronize")
    _gpu_memory.synchronize()


def empty_cache() -> None:
    _need("emptyCache")
    _gpu_memory.empty_cache()


def current_allocated_memory() -> int:
    _need("getCurrentAllocatedMemory")
    return _gpu_memory.allocated()


def driver_allocated_memory() -> int:
    _need("getDriverAllocatedMemory")
    return _gpu_memory.reserved()


def recommended_max_memory() -> int:
    _need("getRecommendedMaxMemory")
    facts = _gpu_memory.info()
    return int(facts.get("max_recommended_working_set_size", _gpu_memory.total_memory()))


def set_per_process_memory_fraction(fraction) -> None:
    _need("setMemoryFraction")
    if not 0 <= fraction <= 2:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~2")
    import mlx.core as mx

    mx.set_memory_limit(int(fraction * recommended_max_memory()))


def manual_seed(seed) -> None:
    if is_available():
        _random.manual_seed(seed)


def seed() -> None:
    _need("getDefaultGenerator")
    _random.seed()


def get_rng_state(device="mps"):
    _need("getDefaultGenerator")
    return _random.get_rng_state()


def set_rng_state(new_state, device="mps") -> None:
    _need("getDefaultGenerator")
    _random.set_rng_state(new_state)
