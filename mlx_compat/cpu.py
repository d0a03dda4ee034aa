"""torch.cpu: the CPU device module (one device, always there; `synchronize` computes the live CPU tensors and waits
for MLX's queued work)."""
import mlx.core as mx

from . import _C

from .amp._cuda import cpu_amp as amp  # noqa: F401  (torch.cpu.amp.autocast, deprecated)

__all__ = ["current_device", "device_count", "is_available", "is_initialized", "set_device", "synchronize"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """torch's no-op: there is one CPU device."""


def synchronize(device=None) -> None:
    """Compute every live CPU tensor's value (Note [Live tensors], csrc/tensor.c) and wait for MLX's CPU stream."""
    _C._eval_live(0)
    mx.synchronize(mx.default_stream(mx.cpu))
