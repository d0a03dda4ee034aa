"""skip_init: a module built without running its parameter initialization."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Instantiate `module_cls` (which must accept `device=`) on `device`. torch builds it on the meta device and
    allocates uninitialized memory; with no meta device here, the module is built directly on its device, so its
    values are its constructor's (uninitialized memory may hold anything, these included)."""
    from ..modules.module import Module

    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)
