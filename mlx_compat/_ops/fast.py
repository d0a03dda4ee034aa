"""The Python side of the operators' C fast paths (csrc/fastpath.c, shape.c, pointwise.c, reduce.c):
`fast_path(name, reference)` registers an operator's Python implementation as the reference its C fast
path falls back to (Note [Fast paths fall back]) and returns the C function (or Tensor method descriptor) that
becomes the public one."""
from __future__ import annotations

from .. import _C, _device_scope


def fast_path(name, reference):
    """The C fast path `name` — `_C.<name>` for a function, the Tensor type's own method descriptor for
    "Tensor.<method>" — with `reference` registered as its fallback. Where device scope is active (Note [Device
    scope]) the reference runs on its tensors' device, as a public Python function would; the fast path itself
    passes `stream=` to MLX as every C op does."""
    from .._tensor import Tensor

    if _device_scope.ACTIVE:
        reference = _device_scope.follow_tensors(reference)
    _C._register_fallback(name, reference)
    owner, _, attr = name.rpartition(".")
    return vars(Tensor)[attr] if owner == "Tensor" else getattr(_C, attr)
