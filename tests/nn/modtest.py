"""Shared by the nn module tests: build a torch module and ours from the same constructor call, carry torch's
state_dict over, and compare what a user sees (outputs, input and parameter gradients, buffers after a forward,
state_dict keys/order/shapes, repr) in train and eval mode."""
import numpy as np

from helpers import assert_same, mc, to_mc, torch


def lib_path(lib, dotted):
    """`lib_path(torch, "nn.Linear")` -> torch.nn.Linear; the same path under mlx_compat for `mc`."""
    obj = lib
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def carry_state(theirs, ours):
    """Load torch module `theirs`' state_dict into our module (values through numpy; strict)."""
    sd = {k: to_mc(v) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys, result
    return ours


def assert_same_state(ours, theirs, **tol):
    """state_dict keys, order, shapes and values identical."""
    so, st = ours.state_dict(), theirs.state_dict()
    assert list(so.keys()) == list(st.keys()), f"keys {list(so.keys())} != {list(st.keys())}"
    for k in st:
        assert_same(so[k], st[k], **tol)


def pair(cls_path, *args, seed=0, **kwargs):
    """(torch module, our module) built with the same arguments, ours carrying torch's weights."""
    torch.manual_seed(seed)
    theirs = lib_path(torch, cls_path)(*args, **kwargs)
    ours = lib_path(mc, cls_path)(*args, **kwargs)
    carry_state(theirs, ours)
    return theirs, ours


def inputs(*shapes, seed=0, dtype=np.float32, requires_grad=True):
    """Matching (torch, ours) lists of random inputs; shapes given as tuples, or numpy arrays used as they are."""
    r = np.random.default_rng(seed)
    ts, ms = [], []
    for s in shapes:
        a = s if isinstance(s, np.ndarray) else r.standard_normal(s).astype(dtype)
        g = requires_grad and a.dtype.kind == "f"
        ts.append(torch.tensor(a.copy(), requires_grad=g))
        ms.append(mc.tensor(a.copy(), requires_grad=g))
    return ts, ms


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [x for y in r for x in _flat(y)]
    return [r] if r is not None else []


def check_module(theirs, ours, t_in, m_in, *, train=True, rtol=1e-5, atol=1e-5, grad_rtol=1e-4, grad_atol=1e-5,
                 check_repr=True, seed=1, call=None):
    """Forward both modules on matching inputs; compare outputs, then backward a random cotangent and compare the
    inputs' and every parameter's gradients, and the buffers (e.g. running stats) after the forward."""
    theirs.train(train)
    ours.train(train)
    call = call or (lambda mod, xs: mod(*xs))
    to, mo = _flat(call(theirs, t_in)), _flat(call(ours, m_in))
    assert len(to) == len(mo)
    for m, t in zip(mo, to):
        assert_same(m, t, rtol=rtol, atol=atol)
    if check_repr:
        assert repr(ours) == repr(theirs)
    assert_same_state(ours, theirs, rtol=rtol, atol=atol)
    r = np.random.default_rng(seed)
    tl, ml = 0, 0
    for m, t in zip(mo, to):
        if t.requires_grad and t.dtype.is_floating_point:
            c = r.standard_normal(tuple(t.shape)).astype(np.float32)
            tl = tl + (t * torch.tensor(c)).sum()
            ml = ml + (m * mc.tensor(c)).sum()
    if isinstance(tl, int):
        return
    tl.backward()
    ml.backward()
    for m, t in zip(m_in, t_in):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert (m.grad is None) == (t.grad is None)
            if t.grad is not None:
                assert_same(m.grad, t.grad, rtol=grad_rtol, atol=grad_atol)
    mp, tp = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(mp) == list(tp)
    for k in tp:
        assert (mp[k].grad is None) == (tp[k].grad is None), k
        if tp[k].grad is not None:
            assert_same(mp[k].grad, tp[k].grad, rtol=grad_rtol, atol=grad_atol)


def init_draws(lib, make, draws, seed=0):
    """{parameter name: all its values over `draws` fresh modules from make(lib)}, seeding lib's generator once."""
    lib.manual_seed(seed)
    out = {}
    for _ in range(draws):
        for k, p in make(lib).named_parameters():
            out.setdefault(k, []).append(np.asarray(p.detach().double().numpy()).ravel())
    return {k: np.concatenate(v) for k, v in out.items()}


def ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def assert_same_init(make, *, draws=40, bounds=None, seed=0):
    """Initial parameters have torch's distribution: over `draws` modules built by make(torch) and make(mc), each
    parameter's pooled values agree in mean and standard deviation and pass a two-sample Kolmogorov-Smirnov test
    (alpha = 0.001); `bounds` ({name: b}) also requires every value of both in [-b, b]."""
    theirs, ours = init_draws(torch, make, draws, seed), init_draws(mc, make, draws, seed + 1)
    assert list(ours) == list(theirs)
    for k, t in theirs.items():
        o = ours[k]
        assert o.shape == t.shape, k
        n = t.size
        sd = t.std()
        assert abs(o.mean() - t.mean()) < 5 * sd * np.sqrt(2.0 / n) + 1e-12, (k, o.mean(), t.mean())
        # the sample sd's relative spread is at most ~1/sqrt(2n) (normal; smaller for uniform): 5 sigma, two samples
        assert abs(o.std() - sd) <= 5 * sd / np.sqrt(n) + 1e-12, (k, o.std(), sd)
        if sd > 0:
            crit = 1.95 * np.sqrt(2.0 / n)
            assert ks_statistic(o, t) < crit, (k, ks_statistic(o, t), crit)
        else:
            np.testing.assert_array_equal(o, t)
        if bounds and k in bounds:
            b = bounds[k] * (1 + 1e-6)
            assert np.abs(t).max() <= b, f"test bug: torch's {k} exceeds {bounds[k]}"
            assert np.abs(o).max() <= b, (k, np.abs(o).max(), bounds[k])
