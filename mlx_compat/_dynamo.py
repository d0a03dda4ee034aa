"""torch._dynamo's public corner: reset(), disable, the tracing hints and OptimizedModule for compile()
(mlx_compat._compile)."""
import types

from ._compile import (allow_in_graph, assume_constant_result, disable, is_compiling, is_dynamo_compiling,
                       mark_dynamic, mark_static_address, reset)

__path__ = []  # a package for torch._dynamo's submodules that the torch import alias provides (mlx_compat/_alias.py)
config = types.SimpleNamespace(cache_size_limit=8)  # read by libraries that size torch's recompile cache


def __getattr__(name):
    if name == "OptimizedModule":
        from ._compile import _optimized_module_class

        return _optimized_module_class()
    raise AttributeError(name)


__all__ = ["reset", "disable", "is_compiling", "is_dynamo_compiling", "allow_in_graph", "assume_constant_result",
           "mark_static_address", "mark_dynamic", "config", "OptimizedModule"]
