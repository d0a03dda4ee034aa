"""Reference-side setup for tests/models: transformers imports torchvision when it is installed, and a torchvision
wheel built for another torch variant cannot load its compiled ops (_C.so), failing at its fake-kernel
registrations. The reference models use none of those ops, so the registrations are skipped when the ops cannot
load (the same guard as tests/alias/_parity_side.py)."""
import ctypes
import importlib.util
import os
import sys
import types

_spec = importlib.util.find_spec("torchvision")
if _spec is not None and "torchvision" not in sys.modules:
    try:
        import torch  # noqa: F401  (its libraries first, as torchvision loads them)
        ctypes.CDLL(os.path.join(os.path.dirname(_spec.origin), "_C.so"))
    except OSError:
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
