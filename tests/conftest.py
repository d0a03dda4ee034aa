"""Test configuration: make tests/ importable (for helpers) and restore the
default dtype after every test so set_default_dtype tests can't leak."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _reset_default_dtype():
    yield
    try:
        import torch
        torch.set_default_dtype(torch.float32)
    except Exception:  # noqa: BLE001
        pass
    try:
        import mlx_compat as mc
        mc.set_default_dtype(mc.float32)
    except Exception:  # noqa: BLE001
        pass
