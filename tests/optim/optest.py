"""Helpers for the optimizer tests: the same parameters in torch and in mlx_compat, an identical deterministic
gradient sequence fed to both, and comparisons of parameters and optimizer state (converted through numpy)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

SHAPES = [(3, 4), (5,), (), (2, 3, 2)]
RTOL = 1e-6


def initial(shapes=SHAPES, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def gradient(step, i, shape, dtype=np.float32):
    """A fixed function of (step, parameter index): smooth, sign-changing, different per element."""
    n = int(np.prod(shape)) if shape else 1
    k = np.arange(n, dtype=np.float64).reshape(shape)
    g = np.sin(0.37 * step + 1.3 * i + 0.71 * k) * (1.0 + 0.5 * np.cos(0.11 * step + k)) + 0.05 * i
    return g.astype(dtype)


def pair(arrays):
    """(torch params, our params): leaf tensors from the same numpy arrays."""
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    mp = [mc.tensor(a, requires_grad=True) for a in arrays]
    return tp, mp


def set_grads(tp, mp, step):
    for i, (t, m) in enumerate(zip(tp, mp)):
        g = gradient(step, i, tuple(t.shape), t.detach().numpy().dtype)
        t.grad = torch.tensor(g)
        m.grad = mc.tensor(g)


def to_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, mc.Tensor):
        return np.array(x.detach().numpy())
    return np.asarray(x)


def assert_close(ours, theirs, rtol=RTOL, what="", floor=0.0):
    """Values equal up to rtol relative to the tensor's magnitude (max-norm; at least `floor`, the magnitude the
    value had along its trajectory, so a parameter passing near zero is not judged by its cancellation), shapes
    and dtypes equal."""
    a, b = to_np(ours), to_np(theirs)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert a.dtype == b.dtype, (what, a.dtype, b.dtype)
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, floor, 1e-30)
    wide = np.complex128 if np.iscomplexobj(b) else np.float64
    err = float(np.max(np.abs(a.astype(wide) - b.astype(wide)))) if b.size else 0.0
    assert err <= rtol * scale, f"{what}: max abs error {err:.3g} > {rtol} * {scale:.3g}"


def assert_state_close(mopt, topt, mp, tp, rtol=RTOL):
    """Every parameter's state entry by entry (keys, tensors, numbers) agrees."""
    for i, (m, t) in enumerate(zip(mp, tp)):
        ms, ts = mopt.state.get(m, {}), topt.state.get(t, {})
        assert sorted(ms) == sorted(ts), (i, sorted(ms), sorted(ts))
        for k in ts:
            if isinstance(ts[k], torch.Tensor):
                assert isinstance(ms[k], mc.Tensor), (i, k)
                assert_close(ms[k], ts[k], rtol, f"state[{i}][{k!r}]")
            else:
                assert ms[k] == ts[k], (i, k)


def assert_params_close(mp, tp, rtol=RTOL, shapes=SHAPES, what="param"):
    """Every parameter agrees, relative to its magnitude now or at the start."""
    for i, (m, t, a) in enumerate(zip(mp, tp, initial(shapes))):
        assert_close(m, t, rtol, f"{what} {i}", floor=float(np.max(np.abs(a))))


def run_both(name, kwargs, steps=100, shapes=SHAPES, groups=None, dtype=np.float32, check_every=None):
    """Run torch.optim.<name> and mlx_compat.optim.<name> side by side; returns (topt, mopt, tp, mp)."""
    init = initial(shapes, dtype=dtype)
    tp, mp = pair(init)
    if groups is None:
        topt = getattr(torch.optim, name)(tp, **kwargs)
        mopt = getattr(mc.optim, name)(mp, **kwargs)
    else:  # groups: list of (indices, options)
        topt = getattr(torch.optim, name)([dict(params=[tp[i] for i in idx], **o) for idx, o in groups], **kwargs)
        mopt = getattr(mc.optim, name)([dict(params=[mp[i] for i in idx], **o) for idx, o in groups], **kwargs)
    for s in range(steps):
        set_grads(tp, mp, s)
        topt.step()
        mopt.step()
        if check_every and (s + 1) % check_every == 0:
            for i, (m, t) in enumerate(zip(mp, tp)):
                assert_close(m, t, what=f"param {i} after step {s + 1}", floor=float(np.max(np.abs(init[i]))))
    return topt, mopt, tp, mp


def convert_state_dict(sd, to):
    """A state_dict with every tensor converted to the other library through numpy (to: 'torch' or 'mc')."""
    def conv(v):
        if isinstance(v, (torch.Tensor, mc.Tensor)):
            a = to_np(v).copy()
            return torch.tensor(a) if to == "torch" else mc.tensor(a)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v
    return conv(sd)
