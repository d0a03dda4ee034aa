"""nn.utils.parametrize and nn.utils.parametrizations against torch: names and order of parameters and
state_dict keys, the class swap, forward values and gradients, assignment through right_inverse, caching,
removal, and the errors torch raises; orthogonal maps give orthogonal matrices."""
import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch
from modtest import pair


def P(lib):
    return lib.nn.utils.parametrize


def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    return Symmetric


def scaler(lib):
    class Scale(lib.nn.Module):
        def __init__(self, s):
            super().__init__()
            self.s = s

        def forward(self, X):
            return X * self.s

        def right_inverse(self, X):
            return X / self.s

    return Scale


def x_pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(a, requires_grad=True), mc.tensor(a, requires_grad=True)


def state_matches(m, t, **tol):
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert_same(m.state_dict()[k], v, **tol)


def test_register_and_use():
    t, m = pair("nn.Linear", 3, 3)
    P(torch).register_parametrization(t, "weight", symmetric(torch)())
    P(mc).register_parametrization(m, "weight", symmetric(mc)())
    assert type(m).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert P(mc).type_before_parametrizations(m) is mc.nn.Linear
    assert P(mc).is_parametrized(m) and P(mc).is_parametrized(m, "weight") and not P(mc).is_parametrized(m, "bias")
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    state_matches(m, t)
    assert repr(m) == repr(t)
    assert_same(m.weight, t.weight)
    xt, xm = x_pair(2, 3)
    yt, ym = t(xt), m(xm)
    assert_same(ym, yt)
    yt.sum().backward()
    ym.sum().backward()
    assert_same(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad)
    assert_same(xm.grad, xt.grad)


def test_chained_assignment_and_caching():
    t, m = pair("nn.Linear", 3, 3)
    for lib, mod in ((torch, t), (mc, m)):
        P(lib).register_parametrization(mod, "weight", symmetric(lib)())
        P(lib).register_parametrization(mod, "weight", scaler(lib)(2.0))
    state_matches(m, t)
    assert_same(m.weight, t.weight)
    a = np.arange(9, dtype=np.float32).reshape(3, 3)
    a = a + a.T
    with torch.no_grad():
        t.weight = torch.tensor(a)
    with mc.no_grad():
        m.weight = mc.tensor(a)
    assert_same(m.weight, t.weight)
    assert_same(m.parametrizations.weight.original, t.parametrizations.weight.original)
    with P(mc).cached():
        w1, w2 = m.weight, m.weight
        assert w1 is w2
    assert m.weight is not m.weight


def test_remove_parametrizations():
    for leave in (True, False):
        t, m = pair("nn.Linear", 3, 3)
        for lib, mod in ((torch, t), (mc, m)):
            P(lib).register_parametrization(mod, "weight", scaler(lib)(3.0))
            orig = mod.parametrizations.weight.original
            P(lib).remove_parametrizations(mod, "weight", leave_parametrized=leave)
            assert mod.weight is orig
        assert type(m) is mc.nn.Linear and not hasattr(m, "parametrizations")
        state_matches(m, t)
        assert isinstance(m.weight, mc.nn.Parameter)


def test_buffer_parametrization_and_multi_tensor_right_inverse():
    def run(lib):
        class Split(lib.nn.Module):
            def forward(self, a, b):
                return a + b

            def right_inverse(self, x):
                return x * 0.25, x * 0.75

        m = lib.nn.Module()
        m.register_buffer("buf", lib.arange(4.0))
        m.w = lib.nn.Parameter(lib.arange(3.0))
        P(lib).register_parametrization(m, "buf", scaler(lib)(2.0))
        P(lib).register_parametrization(m, "w", Split())
        out = [list(m.state_dict()), [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()],
               m.buf.tolist(), m.w.tolist(), m.parametrizations.w.original0.tolist()]
        P(lib).remove_parametrizations(m, "w")
        out.append((type(m.w).__name__, m.w.tolist()))
        return out

    assert run(mc) == run(torch)


@pytest.mark.parametrize("case", ["missing", "shape", "dtype", "leave_false_multi", "not_parametrized",
                                  "no_right_inverse_assign"])
def test_errors_match_torch(case):
    def run(lib):
        nn = lib.nn
        m = nn.Linear(2, 2)

        class Bad(nn.Module):
            def forward(self, X):
                return X[0] if case == "shape" else X.double()

        class Split(nn.Module):
            def forward(self, a, b):
                return a + b

            def right_inverse(self, x):
                return x, x * 0

        class NoInv(nn.Module):
            def forward(self, X):
                return X

        if case == "missing":
            P(lib).register_parametrization(m, "nope", NoInv())
        elif case in ("shape", "dtype"):
            P(lib).register_parametrization(m, "weight", Bad())
        elif case == "leave_false_multi":
            P(lib).register_parametrization(m, "weight", Split())
            P(lib).remove_parametrizations(m, "weight", leave_parametrized=False)
        elif case == "not_parametrized":
            P(lib).remove_parametrizations(m, "weight")
        elif case == "no_right_inverse_assign":
            P(lib).register_parametrization(m, "weight", NoInv())
            m.weight = lib.ones(2, 2)

    with pytest.raises(Exception) as et:
        run(torch)
    with pytest.raises(Exception) as em:
        run(mc)
    assert type(em.value).__name__ == type(et.value).__name__
    assert str(em.value).replace("mlx_compat", "torch") == str(et.value)


def test_parametrized_deepcopy_and_pickle_error():
    import copy
    import pickle

    m = mc.nn.Linear(3, 3)
    P(mc).register_parametrization(m, "weight", symmetric(mc)())
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    assert_same(c.weight, m.weight)
    with pytest.raises(RuntimeError):
        pickle.dumps(m)


def test_transfer_parametrizations():
    def run(lib):
        a, b = lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)
        P(lib).register_parametrization(a, "weight", symmetric(lib)())
        P(lib).transfer_parametrizations_and_params(a, b)
        return list(b.state_dict()), b.parametrizations.weight.original is a.parametrizations.weight.original

    assert run(mc) == run(torch)


# ---------------------------------------------------------------- parametrizations


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(dim):
    t, m = pair("nn.Linear", 4, 3)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    mc.nn.utils.parametrizations.weight_norm(m, dim=dim)
    state_matches(m, t, rtol=1e-6, atol=1e-6)
    assert repr(m) == repr(t)
    xt, xm = x_pair(2, 4)
    yt, ym = t(xt), m(xm)
    assert_same(ym, yt)
    yt.pow(2).sum().backward()
    ym.pow(2).sum().backward()
    for (k, a), (k2, b) in zip(m.named_parameters(), t.named_parameters()):
        assert k == k2
        assert_same(a.grad, b.grad, rtol=1e-4, atol=1e-5)


def test_weight_norm_parametrization_loads_old_checkpoints():
    old = torch.nn.Linear(4, 3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(old)
    sd = {k: to_mc(v) for k, v in old.state_dict().items()}
    assert sorted(sd) == ["bias", "weight_g", "weight_v"]
    m = mc.nn.utils.parametrizations.weight_norm(mc.nn.Linear(4, 3))
    m.load_state_dict(sd)
    xt, xm = x_pair(2, 4)
    assert_same(m(xm), old(xt))


@pytest.mark.parametrize("cls,args,shape", [("nn.Linear", (5, 4), (3, 5)), ("nn.Conv2d", (2, 3, 3), (1, 2, 5, 5))])
def test_spectral_norm_parametrization(cls, args, shape):
    t, m = pair(cls, *args)
    torch.nn.utils.parametrizations.spectral_norm(t)
    mc.nn.utils.parametrizations.spectral_norm(m)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})  # torch's random u, v
    for train in (True, False):
        t.train(train)
        m.train(train)
        xt, xm = x_pair(*shape)
        yt, ym = t(xt), m(xm)
        assert_same(ym, yt, rtol=1e-4, atol=1e-5)
        yt.sum().backward()
        ym.sum().backward()
        assert_same(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
                     rtol=1e-4, atol=1e-5)
        state_matches(m, t, rtol=1e-4, atol=1e-5)


def test_spectral_norm_parametrization_converges_to_sigma():
    m = mc.nn.Linear(6, 4)
    mc.nn.utils.parametrizations.spectral_norm(m)
    for _ in range(30):
        m(mc.ones(1, 6))
    s = np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)
    assert abs(s[0] - 1.0) < 1e-3


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 4)])
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
def test_orthogonal(shape, omap):
    m = mc.nn.Module()
    m.weight = mc.nn.Parameter(mc.randn(*shape))
    mc.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap)
    t = torch.nn.Module()
    t.weight = torch.nn.Parameter(torch.randn(*shape))
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=omap)
    assert list(m.state_dict()) == list(t.state_dict())
    w = m.weight.detach().numpy().astype(np.float64)
    n, k = shape[-2:]
    g = np.swapaxes(w, -1, -2) @ w if n >= k else w @ np.swapaxes(w, -1, -2)
    np.testing.assert_allclose(g, np.broadcast_to(np.eye(min(n, k)), g.shape), atol=1e-4)
    m.weight.sum().backward()
    assert m.parametrizations.weight.original.grad is not None


def test_orthogonal_forward_matches_torch_from_same_state():
    t = torch.nn.Linear(4, 4)
    torch.nn.utils.parametrizations.orthogonal(t)
    m = mc.nn.Linear(4, 4)
    mc.nn.utils.parametrizations.orthogonal(m)
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})
    assert_same(m.weight, t.weight, rtol=1e-4, atol=1e-5)
    xt, xm = x_pair(3, 4)
    yt, ym = t(xt), m(xm)
    assert_same(ym, yt, rtol=1e-4, atol=1e-5)
    yt.sum().backward()
    ym.sum().backward()
    assert_same(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad, rtol=1e-3,
                atol=1e-4)


def test_orthogonal_errors():
    for kw, shape in ((dict(orthogonal_map="qr"), (3, 3)), ({}, (3,))):
        with pytest.raises(ValueError) as et:
            t = torch.nn.Module()
            t.weight = torch.nn.Parameter(torch.randn(*shape))
            torch.nn.utils.parametrizations.orthogonal(t, **kw)
        with pytest.raises(ValueError) as em:
            m = mc.nn.Module()
            m.weight = mc.nn.Parameter(mc.randn(*shape))
            mc.nn.utils.parametrizations.orthogonal(m, **kw)
        assert str(em.value) == str(et.value)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_householder_without_trivialization_matches_torch(shape):
    w0 = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    t = torch.nn.Linear(shape[1], shape[0])
    m = mc.nn.Linear(shape[1], shape[0])
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w0))
    with mc.no_grad():
        m.weight.copy_(mc.tensor(w0))
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map="householder", use_trivialization=False)
    mc.nn.utils.parametrizations.orthogonal(m, orthogonal_map="householder", use_trivialization=False)
    assert list(m.state_dict()) == list(t.state_dict())  # no "base" buffer without the trivialization
    assert_same(m.parametrizations.weight.original, t.parametrizations.weight.original, rtol=1e-5, atol=1e-5)
    assert_same(m.weight, t.weight, rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError):
        mm = mc.nn.Linear(3, 3)
        mc.nn.utils.parametrizations.orthogonal(mm, orthogonal_map="cayley", use_trivialization=False)
        mm.weight = mc.eye(3)
