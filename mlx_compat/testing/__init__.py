"""torch.testing for mlx_compat: `assert_close` (and the deprecated `assert_allclose`) to compare tensors, numbers
and nested containers of them with torch's tolerances and failure messages, and `make_tensor` to build random test
tensors with torch's value ranges.
"""
from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor"]
