"""The GPU's memory and device facts from MLX, shared by torch.cuda, torch.mps and torch.accelerator: MLX's
allocator counts the memory its arrays hold (active), the freed buffers it keeps for reuse (cache) and the peak
of active memory since the last reset."""
import mlx.core as mx

from . import _C


def allocated() -> int:
    return mx.get_active_memory()


def max_allocated() -> int:
    return mx.get_peak_memory()


def reserved() -> int:
    """Held by the allocator: the arrays' memory plus the cached free buffers (torch's memory_reserved)."""
    return mx.get_active_memory() + mx.get_cache_memory()


def max_reserved() -> int:
    """MLX keeps no peak of reserved memory: the peak of allocated memory plus what is cached now."""
    return mx.get_peak_memory() + mx.get_cache_memory()


def free_and_total():
    """(free, total) bytes of the GPU: its size less what MLX's allocator holds."""
    total = total_memory()
    return total - reserved(), total


def reset_peak() -> None:
    mx.reset_peak_memory()


def empty_cache() -> None:
    mx.clear_cache()


def synchronize() -> None:
    """Compute every live GPU tensor's value, then wait for the GPU's queued work: torch's ops have run by the
    time its synchronize returns (Note [Live tensors], csrc/tensor.c)."""
    _C._eval_live(1)
    mx.synchronize(mx.default_stream(mx.gpu))


def info() -> dict:
    """MLX's facts about the GPU: `device_name`, `architecture`, `total_memory` or `memory_size`, ... (the keys
    vary by backend)."""
    return dict(mx.device_info(mx.gpu))


def total_memory() -> int:
    facts = info()
    return int(facts.get("total_memory", facts.get("memory_size", 0)))
