"""Shared by the operator tests: input builders, running one call under torch and mlx_compat (same result or same
exception type), and the gradient comparison (random cotangent per float output, compared .grad)."""
import warnings

import numpy as np

from helpers import assert_same, mc, same_exc_type, torch

GRAD = dict(rtol=1e-4, atol=1e-5)


def R(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def I(*values):
    return np.array(values, dtype=np.int64)


def B(*values):
    return np.array(values, dtype=bool)


def mk(lib, a):
    if isinstance(a, np.generic):
        a = np.asarray(a)
    if isinstance(a, np.ndarray):
        return lib.from_numpy(a.copy())
    return a


def flat(r):
    if isinstance(r, (tuple, list)):
        return [x for y in r for x in flat(y)]
    return [r]


def outcome(fn, arrays, compare):
    """fn(lib, *tensors) under torch and mlx_compat: both raise the same exception type, or compare(ours, torch's)."""
    results = []
    for lib in (torch, mc):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append((fn(lib, *[mk(lib, a) for a in arrays]), None))
        except Exception as e:  # noqa: BLE001
            results.append((None, e))
    (rt, et), (rm, em) = results
    if et is not None:
        assert em is not None, f"ours returned; torch raised {type(et).__name__}: {et}"
        assert same_exc_type(em, et), f"ours raised {type(em).__name__}: {em}; torch {type(et).__name__}: {et}"
        return
    if em is not None:
        raise AssertionError(f"ours raised {type(em).__name__}: {em}; torch returned") from em
    compare(rm, rt)


def check_grad(fn, *arrays):
    """Gradients of sum(fn(lib, *tensors) * random cotangent) for every float input; an input torch leaves without
    a gradient must get none from us, or zeros."""
    grads = {}
    for lib in (torch, mc):
        ins = [mk(lib, a) for a in arrays]
        for x, a in zip(ins, arrays):
            if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f":
                x.requires_grad_(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs = [o for o in flat(fn(lib, *ins)) if o.dtype.is_floating_point]
        total = None
        for k, o in enumerate(outs):
            term = (o * mk(lib, R(*o.shape, seed=100 + k))).sum()
            total = term if total is None else total + term
        total.backward()
        grads[lib] = [x.grad for x, a in zip(ins, arrays)
                      if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"]
    for gm, gt in zip(grads[mc], grads[torch]):
        if gt is None:
            assert gm is None or not gm.abs().sum().item()
        else:
            assert gm is not None, "torch has a grad, ours is None"
            assert_same(gm, gt, **GRAD)
