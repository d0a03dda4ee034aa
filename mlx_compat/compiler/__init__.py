"""torch.compiler: disable, reset, is_compiling and the tracing hints, for compile() (mlx_compat._compile)."""
from .._compile import (allow_in_graph, assume_constant_result, disable, is_compiling, is_dynamo_compiling,
                        is_exporting, reset)

__all__ = ["disable", "reset", "is_compiling", "is_dynamo_compiling", "is_exporting", "allow_in_graph",
           "assume_constant_result"]
