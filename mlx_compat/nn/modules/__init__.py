"""torch.nn.modules: Module, the containers and LazyModuleMixin, then one line per layer family
(`from .<family> import *`; each family module defines __all__)."""
from .module import Module  # noqa: F401
from .container import Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
