"""torch.nn.parallel: DataParallel. MLX drives one accelerator per process, so there is at most one device to
spread a batch over: without one DataParallel passes calls straight to its module (as torch does with no GPU);
with one it keeps the module there and moves the inputs to it (torch with a single device id)."""
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _to_device(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(o, device) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    return obj


def _available_device():
    from ... import cuda

    return "cuda" if cuda.is_available() else None


class DataParallel(Module):
    """Wraps `module` (registered as `module`, so state_dict keys gain the "module." prefix, as in torch)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        device_type = _available_device()
        if device_type is None:
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = [0]
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [d if isinstance(d, int) else (d.index or 0) for d in device_ids]
        if any(d != 0 for d in self.device_ids):
            raise RuntimeError("Invalid device id: MLX exposes one accelerator per process (index 0)")
        self.output_device = output_device if isinstance(output_device, int) else (output_device.index or 0)
        self.src_device_obj = device_type
        self.module.to(device_type)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device.type != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj}:0 "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")
        return self.module(*_to_device(inputs, self.src_device_obj), **_to_device(kwargs, self.src_device_obj))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Evaluate module(input) with DataParallel's device handling (functional form)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return DataParallel(module, device_ids, output_device, dim)(*inputs, **(module_kwargs or {}))
from .distributed import DistributedDataParallel  # noqa: E402,F401
__all__ += ["DistributedDataParallel"]  # noqa: E402
