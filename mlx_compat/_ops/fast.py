"""The Python side of the operators' C fast paths (csrc/fastpath.c, shape.c, pointwise.c, reduce.c):
`fast_path(name, reference)` registers an operator's Python implementation as the reference its C fast
path falls back to (Note [Fast paths fall back]) and returns the C function that becomes the public one."""
from __future__ import annotations

from .. import _C, _device_scope


def fast_path(name, reference, c_name=None):
    """The C fast path `_C.<c_name or name>`, with `reference` registered as its fallback under `name`. Where device scope is
    active (Note [Device scope]) the reference runs on its tensors' device, as a public Python function would;
    the fast path itself passes `stream=` to MLX as every C op does."""
    if _device_scope.ACTIVE:
        reference = _device_scope.follow_tensors(reference)
    _C._register_fallback(name, reference)
    return getattr(_C, c_name or name)
