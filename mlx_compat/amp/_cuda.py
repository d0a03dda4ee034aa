"""torch.cuda.amp and torch.cpu.amp: the deprecated spellings of torch.amp.GradScaler("cuda", ...) and
torch.amp.autocast("cuda" / "cpu", ...)."""
import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


class GradScaler(_GradScaler):
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


class autocast(_autocast):
    """torch.cuda.amp.autocast(enabled=True, dtype=torch.float16, cache_enabled=True)."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        from .. import float16

        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=float16 if dtype is None else dtype,
                         cache_enabled=cache_enabled)


class _CpuAmp:
    """torch.cpu.amp: autocast("cpu") under its deprecated name."""

    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            from .. import bfloat16

            warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cpu', "
                          "args...)` instead.", FutureWarning, stacklevel=2)
            super().__init__("cpu", enabled=enabled, dtype=bfloat16 if dtype is None else dtype,
                             cache_enabled=cache_enabled)


cpu_amp = _CpuAmp()
