"""torch.device, the mapping from torch's device names to MLX's two devices, and the CPU-only build's buffer cache.

'cpu' is MLX's CPU; 'cuda', 'mps' and 'gpu' all name MLX's GPU (Metal on Apple Silicon, CUDA on
NVIDIA). A GPU tensor reports the backend's torch name: 'mps' on Metal, 'cuda' otherwise.
"""
from __future__ import annotations

import os
import threading

import mlx.core as mx

from . import _C
from ._blas import _OPT_OUT_VALUES  # the same spellings as MLX_COMPAT_BLAS's opt-out

CPU, GPU = 0, 1
_GPU_NAMES = ("cuda", "mps", "gpu")


def _metal_available() -> bool:
    try:
        return bool(mx.metal.is_available())
    except AttributeError:
        return False


GPU_AVAILABLE = bool(_C.GPU_AVAILABLE)
FAKE_GPU = bool(_C.FAKE_GPU)  # Note [Fake GPU] (csrc/module.c): 'cuda' runs on MLX's CPU, for tests
MX_DEVICES = (mx.cpu, mx.cpu if FAKE_GPU else mx.gpu)  # MLX device of each device code
IS_METAL = _metal_available()
GPU_TYPE = "mps" if IS_METAL else "cuda"


# Note [CPU buffer cache]
# MLX's CPU-only build (Linux without CUDA: its CommonAllocator) keeps freed buffers for reuse only up to 32 MiB
# in all; every larger or further buffer goes back to malloc, and glibc returns large ones to the system
# (munmap, or a trimmed arena), so the next step faults their pages in again. A training step whose working
# set passes 32 MiB pays that at every step: the Fashion-MNIST example's SGD step at batch 128 took 77-102 ms
# (a third of the demo's time was kernel time) against 51-53 ms with a 1 GiB cache (BENCHMARKS.md). torch's
# CPU allocator is malloc, whose heap keeps most freed memory. So at import, where MLX has no GPU backend (its
# GPU allocators size their caches themselves) and its cache limit is still the CPU default, the limit becomes
# CPU_CACHE_LIMIT_MB (1 GiB: a training process keeps up to that much freed memory for reuse, as a caching
# allocator does; mx.clear_cache() releases it, mx.set_cache_limit sets another limit at any time).
# MLX_COMPAT_CPU_CACHE_MB=N sets N MiB instead; 0 (or off) leaves MLX's default. A limit set before the import
# is kept.
CPU_CACHE_VARIABLE = "MLX_COMPAT_CPU_CACHE_MB"
CPU_CACHE_LIMIT_MB = 1024
_MLX_CPU_CACHE_DEFAULT = 32 << 20


def _set_cpu_cache_limit():
    """Note [CPU buffer cache]: MLX's CPU-only buffer cache limit raised at import; returns the limit set (bytes),
    or None where it is left as it was."""
    if GPU_AVAILABLE and not FAKE_GPU:
        return None
    value = os.environ.get(CPU_CACHE_VARIABLE, "").strip().lower()
    if value in _OPT_OUT_VALUES:
        return None
    try:
        mb = int(value) if value else CPU_CACHE_LIMIT_MB
    except ValueError:
        mb = -1
    if mb < 0:
        raise ValueError(f"{CPU_CACHE_VARIABLE} must be a whole number of MiB (or 0/off), not {value!r}")
    limit = mb << 20
    before = mx.set_cache_limit(limit)
    if before != _MLX_CPU_CACHE_DEFAULT:  # a limit of the user's own: keep it
        mx.set_cache_limit(before)
        return None
    return limit


CPU_CACHE_LIMIT = _set_cpu_cache_limit()


_CUDA_KERNELS = None  # whether MLX's CUDA backend runs mx.fast.cuda_kernel here; found on first use


def cuda_kernels(code: int) -> bool:
    """Whether custom CUDA kernels (mx.fast.cuda_kernel: the optimizers' and activations' own) serve tensors of
    device code `code`: the GPU on MLX's CUDA backend (not Metal, not the fake GPU, never the CPU)."""
    global _CUDA_KERNELS
    if code != GPU or MX_DEVICES[GPU] != mx.gpu:
        return False
    if _CUDA_KERNELS is None:
        cuda = getattr(mx, "cuda", None)
        _CUDA_KERNELS = bool(cuda is not None and cuda.is_available() and hasattr(mx.fast, "cuda_kernel"))
    return _CUDA_KERNELS


# Note [Default device]: torch.set_default_device / `with torch.device(...)`: the device factories (zeros, ones,
# empty, full, rand, randn, randint, randperm, arange, linspace, logspace, eye, tensor, as_tensor, asarray, ...)
# create on when not given one, per thread as torch's. They all resolve `device=None` through to_code(None), so the
# default is one thread-local read there, where torch's is a function mode that costs every call. from_numpy and
# the *_like factories keep their source's device, as torch's. Without a GPU, a GPU default is kept as code None
# (and its kind), which to_code(None) refuses with torch's error at each factory call, as torch's CPU build does.
_default = threading.local()


def set_default_device(d) -> None:
    """torch.set_default_device: None or 'cpu' restores the CPU. A GPU where none exists is accepted here and
    refused by each factory call (and get_default_device), as torch's CPU build does."""
    if d is not None and not GPU_AVAILABLE:
        dev = d if isinstance(d, device) else device(d)
        if dev.type in _GPU_NAMES:
            _default.code, _default.kind = None, dev.type
            return
    _default.code = CPU if d is None else to_code(d)


def get_default_device():
    """torch.get_default_device: the device factories create on (the GPU with its index, as torch reports it)."""
    code = to_code(None)
    return device("cpu") if code == CPU else device(GPU_TYPE, 0)


class device:
    """torch.device(type, index=None) or torch.device('cuda:0'); as a context manager, the default device for the
    block (Note [Default device])."""

    __slots__ = ("type", "index", "_prev")

    def __init__(self, type, index=None):  # noqa: A002 - torch's keyword
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            self.type, self.index = GPU_TYPE, type
            return
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type.__class__.__name__})")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {index.__class__.__name__}")
        name, sep, idx = type.partition(":")
        if name not in ("cpu",) + _GPU_NAMES + ("meta",):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
                f"vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was passed explicitly: " + type)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative")
        self.type, self.index = name, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):  # a device never equals a string, as torch's (`x.device == 'cpu'` is False)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        prev = getattr(_default, "code", CPU), getattr(_default, "kind", None)
        set_default_device(self)
        stack = self._prev if hasattr(self, "_prev") else []
        stack.append(prev)
        self._prev = stack
        return self

    def __exit__(self, *exc):
        _default.code, _default.kind = self._prev.pop()
        return False


CPU_DEVICE = device("cpu")
GPU_DEVICE = device(GPU_TYPE, 0)


def _no_gpu(kind):
    """torch's error for a GPU device where its build has none: a CPU build asserts for 'cuda' (its lazy CUDA
    initialisation), and has no MPS backend to link; 'gpu' is this package's name for MLX's GPU."""
    if kind == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if kind == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    raise RuntimeError(f"the installed MLX has no GPU backend (asked for '{kind}')")


def to_code(d) -> int:
    """MLX device code (CPU/GPU) for anything torch accepts as a device; raises when no GPU exists."""
    if d is None:
        code = getattr(_default, "code", CPU)  # Note [Default device]
        if code is None:  # a GPU default set where none exists: torch raises at the factory call
            _no_gpu(_default.kind)
        return code
    if not isinstance(d, device):
        if isinstance(d, int) and not isinstance(d, bool) and not GPU_AVAILABLE:  # an accelerator's index
            raise RuntimeError("Device index must not be negative" if d < 0 else
                               "Cannot access accelerator device when none is available.")
        d = device(d)
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        raise NotImplementedError("meta tensors are not supported by mlx_compat")
    if not GPU_AVAILABLE:
        _no_gpu(d.type)
    if d.index not in (None, 0):
        raise RuntimeError(f"CUDA error: invalid device ordinal (MLX exposes one GPU, asked for '{d}')")
    return GPU


def of_code(code: int) -> device:
    return GPU_DEVICE if code == GPU else CPU_DEVICE


def check_same_device(ref, *others):
    """torch's RuntimeError when a tensor among `others` (None skipped) is on another device than tensor `ref`:
    for ops that, as torch's, take no 0-d CPU tensor beside GPU ones (cat, layer_norm's weights, a loss's targets)."""
    for t in others:
        if t is not None and t._device_code != ref._device_code:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{ref.device} and {t.device}!")
