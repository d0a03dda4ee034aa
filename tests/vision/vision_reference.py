"""The reference side of tests/vision: torchvision 0.28 (a test-only dependency) imported beside the venv's torch."""
import importlib
import sys
import types


def import_torchvision():
    """torchvision 0.28 from PyPI, imported beside the venv's local torch 2.13.0 build.

    Its C extension (_C.so) does not load against this torch build, so torchvision's import-time registrations of
    fake/autograd kernels for its detection ops (torchvision::nms, roi_align, ...) fail with "operator
    torchvision::nms does not exist".  None of the models, transforms or datasets used here call those C ops,
    so when the plain import fails those two registration modules are replaced by empty ones; the pure-Python
    code is then torchvision's own, unchanged.  ImportError (torchvision not installed) propagates.
    """
    try:
        return importlib.import_module("torchvision")
    except RuntimeError:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
            sys.modules[name] = types.ModuleType(name)
        return importlib.import_module("torchvision")
