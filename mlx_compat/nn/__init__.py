"""torch.nn: every module of nn.modules (Module, containers, layer families), Parameter and Buffer with
their uninitialized forms, and the functional, init, parameter and utils namespaces."""
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from . import functional, init, parameter  # noqa: F401,E402
# `from . import utils` would find the name the star import above bound to nn.modules.utils; bind the package
utils = __import__(__name__ + ".utils", fromlist=["rnn"])
from . import modules  # noqa: F401,E402


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
