"""torch.backends.cuda: `is_built()`, the cuBLAS precision switches under `matmul` and the scaled-dot-product
attention backend switches. MLX picks its own CUDA kernels (its float32 products already run at TF32-like
precision, README's known differences), so the switches are settings kept for reading back;
`matmul.allow_tf32` and `torch.set_float32_matmul_precision` are one setting, as in torch."""
import contextlib

from .. import _device, _switches


def is_built() -> bool:
    """Whether the installed MLX has its CUDA backend."""
    return _device.GPU_AVAILABLE and not _device.IS_METAL and not _device.FAKE_GPU


class cuBLASModule:
    """torch.backends.cuda.matmul: allow_tf32 (float32 products may round through TF32) and the reduced-precision
    reduction switches for float16/bfloat16 products."""

    def __init__(self):
        object.__setattr__(self, "_reduced", {"allow_fp16_reduced_precision_reduction": True,
                                              "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _switches.get_float32_matmul_precision() != "highest"
        if name in self._reduced:
            return self._reduced[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _switches.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._reduced:
            self._reduced[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _SDP["flash"]


def enable_flash_sdp(enabled: bool):
    _SDP["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _SDP["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool):
    _SDP["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _SDP["math"]


def enable_math_sdp(enabled: bool):
    _SDP["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _SDP["cudnn"]


def enable_cudnn_sdp(enabled: bool):
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """torch's deprecated context manager that sets the four attention backend switches for a block."""
    saved = dict(_SDP)
    _SDP.update(flash=bool(enable_flash), math=bool(enable_math), mem_efficient=bool(enable_mem_efficient),
                cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _SDP.update(saved)
