"""mlx_compat.vision: torchvision's API over mlx_compat tensors (datasets, transforms, models, ops, tv_tensors, utils,
io) and the image-backend switch (PIL is the only backend)."""
from . import datasets, transforms  # noqa: F401
from . import io, models, ops, tv_tensors, utils  # noqa: F401

_image_backend = "PIL"


def set_image_backend(backend):
    """Selects the image loader backend: only "PIL" exists here (torchvision's "accimage" is not provided)."""
    global _image_backend
    if backend not in ("PIL", "accimage"):
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' and 'accimage'")
    if backend == "accimage":
        raise ValueError("The 'accimage' backend is not available in mlx_compat.vision; only 'PIL' is.")
    _image_backend = backend


def get_image_backend():
    """The name of the package used to load images ("PIL")."""
    return _image_backend
