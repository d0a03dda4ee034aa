"""Configuration for the autograd tests.

tests/conftest.py (loaded first) already puts tests/ on sys.path, so
`from helpers import ...` works here; this file repeats that in case the
folder is collected on its own with a different rootdir.

Self-test switch: MLX_COMPAT_AUTOGRAD_SELFTEST=1 runs these tests with torch
on *both* sides (helpers.mc is replaced by torch before the test modules
import it). Every test must then pass: it checks that the tests themselves
describe torch 2.13 correctly, independently of mlx_compat's state.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.dirname(_HERE), _HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

SELFTEST = os.environ.get("MLX_COMPAT_AUTOGRAD_SELFTEST") == "1"

# Under pytest-xdist several workers share few cores; torch's OpenMP threads then spin against each
# other (the MLP test went from 0.3 s to 46 s with -n 2 on 2 cores). One intra-op thread per worker.
if os.environ.get("PYTEST_XDIST_WORKER"):
    try:
        import torch as _t

        _t.set_num_threads(1)
    except Exception:  # noqa: BLE001
        pass

if SELFTEST:
    import torch as _torch

    import helpers as _helpers

    _helpers.mc = _torch
