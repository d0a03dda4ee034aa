"""MLX's Linux CPU backend on an optimized BLAS/LAPACK, and torch's CPU thread controls.

MLX's Linux CPU wheel links the reference (netlib) BLAS and LAPACK. `install()` (run first thing by
`import mlx_compat`) loads the bridge (bridge.c, built next to this file) and points every BLAS/LAPACK import
of libmlx.so at OpenBLAS from the `scipy-openblas32` wheel, whatever the import order. It does nothing on other
platforms, on MLX's CUDA backend, or when the opt-out variable MLX_COMPAT_BLAS is set to 0/off/false/no/none;
when it cannot take effect it warns once, naming the cost. docs/architecture.md ("Linux CPU: BLAS and LAPACK")
says why this provider and how the rebinding works.

Also here: torch's `set_num_threads`/`get_num_threads` (OpenBLAS's thread count: the only intra-op pool MLX's
CPU backend has) and `set_num_interop_threads`/`get_num_interop_threads`.
"""
from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import operator
import os
import sys
import warnings

__all__ = ["install", "status", "set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads"]

OPT_OUT_VARIABLE = "MLX_COMPAT_BLAS"
_OPT_OUT_VALUES = ("0", "off", "false", "no", "none")
PROVIDER = "scipy_openblas32"      # the wheel's import name
_PROVIDER_PREFIX = "scipy_"        # its symbols: scipy_cblas_sgemm, scipy_sgetrf_, ...
_MLX_LIBRARY = "libmlx.so"
_COST = ("MLX's CPU backend keeps its wheel's reference BLAS/LAPACK, about 10-20x slower for matmul, conv and "
         "linalg (a 512x512 float32 matmul: ~60 ms instead of ~3 ms on 2 cores)")

_bridge = None          # the loaded bridge (ctypes.CDLL) once install() succeeded
_provider_path = None   # the OpenBLAS library the bridge forwards to
_reason = "install() has not run"   # why the bridge is not active (None once it is)
_num_threads = None     # set_num_threads's value while no bridge holds the thread count
_interop_threads = None
_warned = False     # the cost warning has been given


def skip_reason(platform: str, cuda_backend: bool, environ) -> str | None:
    """Why the bridge must not be installed for this platform / MLX backend / environment, or None.

    Pure, so tests can fake each input: only Linux's CPU backend uses the reference BLAS (macOS has
    Accelerate; the CUDA backend is left exactly as MLX ships it), and the opt-out variable always wins."""
    value = environ.get(OPT_OUT_VARIABLE, "").strip().lower()
    if value in _OPT_OUT_VALUES:
        return f"{OPT_OUT_VARIABLE}={environ[OPT_OUT_VARIABLE]} (opted out)"
    if not platform.startswith("linux"):
        return f"platform {platform!r} (only MLX's Linux CPU wheel ships the reference BLAS)"
    if cuda_backend:
        return "MLX's CUDA backend (left as MLX ships it)"
    return None


def _bridge_path() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(here, "_bridge" + suffix)
        if os.path.exists(path):
            return path
    return None


def _provider_library() -> str | None:
    """The path of scipy-openblas32's shared library, found without importing the package (whose import
    loads the library RTLD_GLOBAL into the whole process)."""
    spec = importlib.util.find_spec(PROVIDER)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        lib_dir = os.path.join(location, "lib")
        if os.path.isdir(lib_dir):
            for name in sorted(os.listdir(lib_dir)):
                if name.startswith("libscipy_openblas") and ".so" in name:
                    return os.path.join(lib_dir, name)
    return None


def _load_bridge(path: str):
    bridge = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
    bridge.mlxc_blas_error.restype = ctypes.c_char_p
    bridge.mlxc_blas_config.restype = ctypes.c_char_p
    bridge.mlxc_blas_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    bridge.mlxc_blas_rebind.argtypes = [ctypes.c_char_p]
    bridge.mlxc_blas_slot_owner.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    bridge.mlxc_blas_calls.argtypes = [ctypes.c_char_p]
    bridge.mlxc_blas_calls.restype = ctypes.c_long
    bridge.mlxc_blas_set_num_threads.argtypes = [ctypes.c_int]
    return bridge


def _warn(message: str) -> None:
    """Warns (once per process) that the fast path is off, and what that costs."""
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f"mlx_compat: {message}; {_COST}. Set {OPT_OUT_VARIABLE}=0 to silence this.", RuntimeWarning,
                  stacklevel=3)


def install() -> bool:
    """Points MLX's BLAS/LAPACK at OpenBLAS (see the module docstring). Idempotent; True when active.

    Imports mlx.core itself: the rebinding needs libmlx.so loaded, and works the same whether or not it was
    loaded before (Note [Rebinding libmlx's GOT] in bridge.c)."""
    global _bridge, _provider_path, _reason
    if _bridge is not None:
        return True
    import mlx.core as mx
    cuda = getattr(mx, "cuda", None)
    _reason = skip_reason(sys.platform, bool(cuda is not None and cuda.is_available()), os.environ)
    if _reason is not None:
        return False
    bridge_path, provider_path = _bridge_path(), _provider_library()
    if bridge_path is None:
        _reason = "the BLAS bridge (mlx_compat/_blas/_bridge*.so) was not built"
        _warn(_reason)
        return False
    if provider_path is None:
        _reason = "scipy-openblas32 is not installed (pip install scipy-openblas32)"
        _warn(_reason)
        return False
    bridge = _load_bridge(bridge_path)
    if bridge.mlxc_blas_open(os.fsencode(provider_path), _PROVIDER_PREFIX.encode()) != 0:
        _reason = bridge.mlxc_blas_error().decode(errors="replace")
        _warn(_reason)
        return False
    patched = bridge.mlxc_blas_rebind(_MLX_LIBRARY.encode())
    if patched <= 0:
        _reason = (bridge.mlxc_blas_error().decode(errors="replace") if patched < 0
                   else f"{_MLX_LIBRARY} is not loaded in this process")
        _warn(f"could not point MLX at OpenBLAS ({_reason})")
        return False
    _bridge, _provider_path, _reason = bridge, provider_path, None
    if _num_threads is not None:
        bridge.mlxc_blas_set_num_threads(_num_threads)
    return True


def status() -> dict:
    """What MLX's CPU backend uses: {'active', 'provider', 'library', 'config', 'num_threads', 'reason'}."""
    active = _bridge is not None
    return {
        "active": active,
        "provider": PROVIDER if active else None,
        "library": _provider_path,
        "config": _bridge.mlxc_blas_config().decode(errors="replace") if active else None,
        "num_threads": get_num_threads(),
        "reason": _reason,
    }


def calls(symbol: str) -> int:
    """How many times libmlx called the bridge's forwarder for `symbol` (e.g. 'cblas_sgemm'); 0 if inactive."""
    if _bridge is None:
        return 0
    count = _bridge.mlxc_blas_calls(symbol.encode())
    if count < 0:
        raise ValueError(f"{symbol!r} is not a routine the bridge forwards")
    return count


def resolved_library(symbol: str) -> str | None:
    """The file of the code that libmlx.so's import slot for `symbol` points at now (None if inactive)."""
    if _bridge is None:
        return None
    buf = ctypes.create_string_buffer(4096)
    if _bridge.mlxc_blas_slot_owner(_MLX_LIBRARY.encode(), symbol.encode(), buf, len(buf)) != 0:
        return None
    return os.fsdecode(buf.value)


def _default_threads() -> int:
    """torch's default: OMP_NUM_THREADS when set to a positive integer, else the cores this process may use."""
    try:
        value = int(os.environ.get("OMP_NUM_THREADS", ""))
        if value > 0:
            return value
    except ValueError:
        pass
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_threads(name: str, n) -> int:
    if isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got bool")
    try:
        value = operator.index(n)
    except TypeError:
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}") from None
    if value > 2**31 - 1 or value < -(2**31):
        raise ValueError("Overflow when unpacking long")
    if value <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return value


def set_num_threads(n: int) -> None:
    """Sets the number of threads used for intra-op parallelism on the CPU: OpenBLAS's pool, which runs MLX's
    matmul, conv and linalg when the bridge is active."""
    global _num_threads
    _num_threads = _check_threads("set_num_threads", n)
    if _bridge is not None:
        _bridge.mlxc_blas_set_num_threads(_num_threads)


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism on the CPU (OpenBLAS's, which by itself honours
    OPENBLAS_NUM_THREADS, then OMP_NUM_THREADS, else uses every core)."""
    if _bridge is not None:
        count = _bridge.mlxc_blas_get_num_threads()
        if count > 0:
            return count
    return _num_threads if _num_threads is not None else _default_threads()


def set_num_interop_threads(n: int) -> None:
    """Sets the number of inter-op threads; as in torch, only once per process. MLX schedules CPU ops on its own
    stream thread, so the value is recorded and reported, not used."""
    global _interop_threads
    value = _check_threads("set_num_interop_threads", n)
    if _interop_threads is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _interop_threads = value


def get_num_interop_threads() -> int:
    """The number of inter-op threads (torch's default: the cores this process may use)."""
    if _interop_threads is not None:
        return _interop_threads
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
