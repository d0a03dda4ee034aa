"""Small shared helpers for the autograd tests (built on tests/helpers.py)."""
import os

import numpy as np

from helpers import assert_same, both, mc, to_mc, torch  # noqa: F401

SELFTEST = os.environ.get("MLX_COMPAT_AUTOGRAD_SELFTEST") == "1"

FWD = dict(rtol=1e-5, atol=1e-5)
GRAD = dict(rtol=1e-4, atol=1e-5)


def randn(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def uniform(shape, low, high, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def leaves(*arrays, dtype=None):
    """For each numpy array: (torch leaf, mc leaf) requiring grad, same values."""
    out = []
    for a in arrays:
        t, m = both(np.asarray(a), dtype)
        t.requires_grad_(True)
        m.requires_grad_(True)
        out.append((t, m))
    return out


def leaf(a, dtype=None):
    return leaves(a, dtype=dtype)[0]


def const(a, dtype=None):
    """(torch, mc) tensors not requiring grad."""
    return both(np.asarray(a), dtype)


def assert_grad(m, t, **tol):
    """m.grad matches t.grad (both None, or same dtype/shape/values)."""
    kw = dict(GRAD)
    kw.update(tol)
    if t.grad is None:
        assert m.grad is None, f"torch grad is None, ours is {m.grad!r}"
        return
    assert m.grad is not None, "torch has a grad, ours is None"
    assert_same(m.grad, t.grad, **kw)


def assert_tensor(m, t, grad=False, **tol):
    """Tensor value check with FWD (or GRAD if grad=True) tolerances."""
    kw = dict(GRAD if grad else FWD)
    kw.update(tol)
    assert m is not None and t is not None, f"ours {m!r}, torch {t!r}"
    assert_same(m, t, **kw)


def grad_fn_name(x):
    g = x.grad_fn
    return None if g is None else type(g).__name__


def mc_active_memory():
    import mlx.core as mx
    f = getattr(mx, "get_active_memory", None) or getattr(getattr(mx, "metal", None), "get_active_memory", None)
    return f() if f else 0
