"""torch._dynamo's public corner: reset(), disable and OptimizedModule for compile() (mlx_compat._compile)."""
from ._compile import disable, is_compiling, reset


def __getattr__(name):
    if name == "OptimizedModule":
        from ._compile import _optimized_module_class

        return _optimized_module_class()
    raise AttributeError(name)


__all__ = ["reset", "disable", "is_compiling", "OptimizedModule"]
