"""torch.nn: every module of nn.modules (Module, containers, layer families), Parameter and Buffer with
their uninitialized forms, DataParallel, and the attention, functional, init, parameter, parallel and utils
namespaces."""
import types as _types

from . import modules  # noqa: F401
from .modules import Module  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

# everything nn.modules exports (each family's __all__), without the family submodules' own names
for _name in dir(modules):
    if not _name.startswith("_") and not isinstance(getattr(modules, _name), _types.ModuleType):
        globals()[_name] = getattr(modules, _name)
del _name, _types

from . import attention, functional, init, parallel, parameter, utils  # noqa: F401,E402
from .parallel import DataParallel  # noqa: F401,E402


def factory_kwargs(kwargs):
    """{'device', 'dtype', 'memory_format'} picked from kwargs, or from kwargs['factory_kwargs'] (torch.nn.factory_kwargs)."""
    if kwargs is None:
        return {}
    simple_keys = {"device", "dtype", "memory_format"}
    expected_keys = simple_keys | {"factory_kwargs"}
    if not kwargs.keys() <= expected_keys:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected_keys}")
    r = dict(kwargs.get("factory_kwargs", {}))
    for k in simple_keys:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
