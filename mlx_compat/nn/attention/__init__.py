"""torch.nn.attention: SDPBackend and sdpa_kernel, which selects the attention backends for a block by setting
torch.backends.cuda's switches (and restores them after). MLX picks its attention kernel itself (Note [GPU
arithmetic] in docs/architecture.md), so the switches are settings read back, as torch.backends.cuda's are."""
import contextlib
import enum

from ...backends import cuda as _cuda

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_SWITCHES = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
             SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Only `backends` (an SDPBackend or a list of them) enabled for the block, as torch's."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    chosen = set([backends] if isinstance(backends, SDPBackend) else backends)
    saved = dict(_cuda._SDP)
    try:
        for backend, name in _SWITCHES.items():
            _cuda._SDP[name] = backend in chosen
        yield {}
    finally:
        _cuda._SDP.update(saved)
