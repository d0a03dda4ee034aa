"""torch's conjugate and negative bits against torch (Note [Conjugate views] in csrc/core.h): conj of a complex
tensor is a lazy view sharing storage, writes through it reach the base conjugated, views of it keep the bit,
real/imag of it, resolve_conj / resolve_neg / conj_physical, the refusals (numpy, view_as_real, view(dtype)),
autograd (ConjBackward0, NegViewBackward0, CopySlices through a conjugate view), printing and checkpoints."""
import io

import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch

Z = [[1 + 2j, 3 - 4j, -5 + 6j], [0.5 - 0.25j, -7j, 8 + 0j]]


def _z(L):
    return L.tensor(Z, dtype=L.complex64)


def _vals(t):
    """A tensor's values as numpy whatever its bits (both libraries), else the object itself."""
    if isinstance(t, (torch.Tensor, mc.Tensor)):
        return np.array(t.detach().resolve_conj().resolve_neg().numpy(), copy=True)
    return t


def _same(fn):
    """fn(L) returns a list of tensors / plain values; torch's and ours must agree (values, dtype, shape, bits)."""
    rt, rm = fn(torch), fn(mc)
    assert len(rt) == len(rm)
    for i, (a, b) in enumerate(zip(rt, rm)):
        if isinstance(a, torch.Tensor):
            assert isinstance(b, mc.Tensor), i
            assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape), i
            assert (a.is_conj(), a.is_neg()) == (b.is_conj(), b.is_neg()), (i, a.is_conj(), b.is_conj())
            np.testing.assert_allclose(_vals(b), _vals(a), rtol=1e-6, atol=1e-6, err_msg=str(i))
        else:
            assert a == b, (i, a, b)


def test_conj_is_a_view_sharing_storage():
    def f(L):
        x = _z(L)
        y = x.conj()
        return [y, y.is_conj(), L.is_conj(y), y._base is x, y.data_ptr() == x.data_ptr(), y.stride(),
                y.storage_offset(), y._version, y.is_contiguous(), x.is_conj()]
    _same(f)


def test_views_of_a_conj_view_keep_the_bit():
    def f(L):
        y = _z(L).conj()
        return [y.t(), y[1:], y[:, ::2], y.reshape(3, 2), y.view(6), y.unsqueeze(0), y.expand(2, 2, 3), y.select(1, 2),
                y.narrow(1, 1, 2), y.transpose(0, 1), y.detach(), y.flatten(), y.T, y.mT, y.diagonal(),
                y.as_strided((2, 2), (1, 3)), y.unfold(1, 2, 1), y.contiguous(), y.contiguous() is y]
    _same(f)


def test_conj_of_conj_clears_the_bit_and_stays_a_view():
    def f(L):
        x = _z(L)
        z = x.conj().conj()
        return [z, z._base is x, z.data_ptr() == x.data_ptr(), x.conj().t().conj()]
    _same(f)


def test_values_and_results_of_ops_have_no_bit():
    def f(L):
        y = _z(L).conj()
        return [y + 1, y * y, y.abs(), y.sum(), y.clone(), y.resolve_conj(), y.conj_physical(), L._conj_physical(y),
                y.to(L.complex64), y.exp(), y @ y.mT, y.real, y.imag, y.angle(), L.view_as_real(y.resolve_conj())]
    _same(f)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_real_dtypes_return_the_input(dtype):
    t = torch.tensor([1, 0, 3]).to(getattr(torch, dtype))
    m = to_mc(t)
    for fn in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
        assert (getattr(torch, fn)(t) is t) == (getattr(mc, fn)(m) is m), fn
        assert (getattr(t, fn)() is t) == (getattr(m, fn)() is m), fn
    assert not mc.conj(m).is_conj()
    assert mc._conj_physical(m) is not m
    assert_same(mc._conj_physical(m), torch._conj_physical(t))


def test_writes_through_a_conj_view_reach_the_base_conjugated():
    def f(L):
        x = _z(L)
        y = x.conj()
        out = []
        y[0, 0] = 1 + 2j
        out += [x.clone(), y.clone(), x._version, y._version]
        y.mul_(2)
        out += [x.clone(), y.clone()]
        y[1].fill_(3 - 1j)
        out += [x.clone()]
        y[:, 1:].copy_(L.tensor([[1j, 2j], [3j, 4j]]))
        out += [x.clone()]
        y.t()[2] += 1j
        out += [x.clone(), y.clone()]
        y.conj_physical_()
        out += [x.clone(), y.clone(), x._version]
        y.zero_()
        out += [x.clone()]
        return out
    _same(f)


def test_advanced_and_masked_writes_through_a_conj_view():
    def f(L):
        x = _z(L)
        y = x.conj()
        y[[0, 1], [2, 0]] = L.tensor([1j, 2 + 2j])
        out = [x.clone()]
        y.masked_fill_(y.real > 2, 7 - 7j)
        out += [x.clone()]
        y.index_add_(1, L.tensor([0]), L.ones(2, 1, dtype=L.complex64) * 1j)
        out += [x.clone()]
        p = L.nn.Parameter(y, requires_grad=False)
        with L.no_grad():
            p[0, 0] = 3j
        out += [p, x.clone(), p.is_conj()]
        return out
    _same(f)


def test_base_writes_are_seen_through_the_conj_view():
    def f(L):
        x = _z(L)
        y = x.conj()
        yt = y.t()
        x[0] = 9 - 9j
        x[1, 2] += 1j
        return [y, yt, y[0, 1], y.sum()]
    _same(f)


def test_copy_into_a_conj_view_and_from_it():
    def f(L):
        z = L.zeros(2, 3, dtype=L.complex64)
        z.conj().copy_(_z(L))
        w = L.empty(2, 3, dtype=L.complex64).copy_(_z(L).conj())
        return [z, w]
    _same(f)


def test_real_and_imag_of_a_conj_view():
    def f(L):
        x = _z(L)
        y = x.conj()
        re, im = y.real, y.imag
        out = [re, im, re._base is x, im._base is x, re.stride(), im.storage_offset()]
        im.fill_(5)
        out += [x.clone()]
        re[0, 0] = -1
        out += [x.clone(), y.clone()]
        return out
    _same(f)


def test_neg_view():
    def f(L):
        x = _z(L)
        n = L._neg_view(x)
        out = [n, n.is_neg(), L.is_neg(n), n._base is x, n.neg(), n.clone(), n.resolve_neg(), n.real, n.imag,
               n.conj(), n.conj().imag, L._neg_view(L.tensor([1.0, -2.0]))]
        n[0, 0] = 1 + 1j
        out += [x.clone()]
        return out
    _same(f)


def test_refusals_match_torch():
    for fn in (lambda L: _z(L).conj().numpy(), lambda L: L.view_as_real(_z(L).conj()),
               lambda L: _z(L).conj().view(L.float32), lambda L: _z(L).conj().view(L.complex64),
               lambda L: L._neg_view(_z(L)).numpy(), lambda L: L._conj(L.ones(2)), lambda L: L.conj(3),
               lambda L: L.is_conj([1]), lambda L: _z(L).conj().__dlpack__()):
        errs = []
        for L in (torch, mc):
            try:
                fn(L)
                errs.append(None)
            except Exception as e:  # noqa: BLE001 - compared by type and message below
                errs.append(e)
        assert errs[0] is not None and type(errs[1]) is type(errs[0]), (errs, fn)
        if isinstance(errs[0], RuntimeError) and "INTERNAL ASSERT" not in str(errs[0]):
            assert str(errs[1]) == str(errs[0])


def test_numpy_force_and_tolist_resolve():
    x = to_mc(torch.tensor(Z, dtype=torch.complex64))
    yt = torch.tensor(Z, dtype=torch.complex64).conj()
    np.testing.assert_array_equal(x.conj().numpy(force=True), yt.numpy(force=True))
    assert x.conj().tolist() == yt.tolist()
    assert x.conj()[1, 0].item() == yt[1, 0].item()


def test_printing():
    t = torch.tensor(Z, dtype=torch.complex64)
    m = to_mc(t)
    assert repr(m.conj()) == repr(t.conj())
    assert str(m.conj().imag) == str(t.conj().imag)
    assert repr(mc._neg_view(m)) == repr(torch._neg_view(t))


# ---------------------------------------------------------------- autograd


def _grads(fn, n_inputs=1, seed=0):
    """Run fn(L, *leaves) in both libraries with a random complex cotangent; compare outputs, grad_fn names and
    the leaves' gradients."""
    g = torch.Generator().manual_seed(seed)
    leaves_t = [torch.randn(2, 3, dtype=torch.complex64, generator=g).requires_grad_() for _ in range(n_inputs)]
    leaves_m = [to_mc(a).requires_grad_() for a in leaves_t]
    yt, ym = fn(torch, *leaves_t), fn(mc, *leaves_m)
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(_vals(ym), _vals(yt), rtol=1e-5, atol=1e-6)
    cot = torch.randn(yt.shape, dtype=yt.dtype, generator=g)
    gt = torch.autograd.grad(yt, leaves_t, cot)
    gm = mc.autograd.grad(ym, leaves_m, to_mc(cot))
    for a, b in zip(gm, gt):
        np.testing.assert_allclose(_vals(a), _vals(b), rtol=1e-5, atol=1e-5)


def test_conj_backward():
    _grads(lambda L, a: (a * 2).conj())
    _grads(lambda L, a: a.conj())
    _grads(lambda L, a: (a.conj() * a).conj().t())
    _grads(lambda L, a: L._conj(a * 1) + a.conj().conj())
    _grads(lambda L, a: L._neg_view(a * 1))
    _grads(lambda L, a: a.conj().imag * 1)
    _grads(lambda L, a: a.conj().resolve_conj())


def test_inplace_through_a_conj_view_is_copyslices():
    def f(L, a, b):
        c = a * 1
        v = c.conj()
        v[0] = b[1] * 2
        v[1].mul_(b[0])
        return c

    _grads(f, 2)

    def g(L, a, b):
        c = a * 1
        v = c.conj()
        v.mul_(b)
        return v * 1  # the conj view's own history after a write through it

    _grads(g, 2)

    a = torch.randn(2, 3, dtype=torch.complex64, requires_grad=True)
    am = to_mc(a).requires_grad_()
    for L, x in ((torch, a), (mc, am)):
        c = x * 1
        v = c.conj()
        v[0] = 5
        assert type(c.grad_fn).__name__ == "CopySlices"


def test_conj_double_backward():
    def f(L, a):
        y = (a.conj() * a * a).sum().abs()
        (g,) = L.autograd.grad(y, a, create_graph=True)
        return g.conj()

    _grads(f)


# ---------------------------------------------------------------- checkpoints


def test_checkpoints_keep_the_bit_both_ways():
    t = torch.tensor(Z, dtype=torch.complex64)
    m = to_mc(t)
    buf = io.BytesIO()
    torch.save({"y": t.conj(), "x": t, "n": torch._neg_view(t)}, buf)
    buf.seek(0)
    d = mc.load(buf)
    assert d["y"].is_conj() and not d["x"].is_conj() and d["n"].is_neg()
    assert_same(d["y"].resolve_conj(), t.conj().resolve_conj())
    assert_same(d["n"].resolve_neg(), t.neg())

    buf = io.BytesIO()
    mc.save({"y": m.conj(), "x": m, "n": mc._neg_view(m)}, buf)
    buf.seek(0)
    d = torch.load(buf)
    assert d["y"].is_conj() and not d["x"].is_conj() and d["n"].is_neg()
    np.testing.assert_array_equal(d["y"].resolve_conj().numpy(), t.conj().resolve_conj().numpy())
    np.testing.assert_array_equal(d["n"].resolve_neg().numpy(), (-t).numpy())
    buf.seek(0)
    d = mc.load(buf)
    assert d["y"].is_conj()
    assert_same(d["y"].resolve_conj(), t.conj().resolve_conj())


def test_deepcopy_and_pickle_keep_the_values():
    import copy
    import pickle

    t = torch.tensor(Z, dtype=torch.complex64)
    m = to_mc(t)
    for yt, ym in ((t.conj(), m.conj()), (torch._neg_view(t), mc._neg_view(m)), (t.conj()[1:], m.conj()[1:])):
        dt, dm = copy.deepcopy(yt), copy.deepcopy(ym)
        assert (dt.is_conj(), dt.is_neg()) == (dm.is_conj(), dm.is_neg())
        assert_same(dm, dt.resolve_conj().resolve_neg())
        assert_same(pickle.loads(pickle.dumps(ym)), yt.resolve_conj().resolve_neg())


def test_from_torch_resolves_the_bits():
    t = torch.tensor(Z, dtype=torch.complex64)
    assert_same(mc.from_torch(t.conj()), t.conj().resolve_conj())
    assert_same(mc.from_torch(torch._neg_view(t)), -t)


def test_default_collate_of_conj_rows():
    from mlx_compat.utils.data import default_collate as collate_m
    from torch.utils.data import default_collate as collate_t

    t = torch.tensor(Z, dtype=torch.complex64)
    m = to_mc(t)
    assert_same(collate_m([m.conj()[0], m.conj()[1]]), collate_t([t.conj()[0], t.conj()[1]]).resolve_conj())
