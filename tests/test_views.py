"""View semantics: every view op must alias its base exactly like PyTorch.

Pins: shape / stride() / storage_offset() / is_contiguous() of each view;
write-through in both directions (view -> base, base -> view, view -> sibling
view) for add_/mul_/fill_/zero_/copy_/setitem; chains of views; shared
storage pointers; reshape copying exactly when torch copies; view() raising on
non-viewable layouts; contiguous() identity; the shared _version counter; and a
seeded randomized fuzz of view chains with in-place ops from random ends.
"""
import numpy as np
import pytest

from helpers import assert_layout, assert_raises_same, assert_same, assert_same_outcome, mc, to_mc, torch, src_id


def _lib(t):
    return torch if isinstance(t, torch.Tensor) else mc


def base_pair(shape=(4, 5, 6), dtype="float32"):
    n = int(np.prod(shape))
    # clone(): a fresh base tensor with no _base of its own
    xt = torch.arange(n, dtype=getattr(torch, dtype)).reshape(shape).clone()
    return xt, to_mc(xt)


# (id, base shape, fn(x) -> view). fn must only use torch-API spellings so it
# works for both libraries; `_lib(x)` picks the module for free functions.
VIEW_CASES = [
    ("view", (4, 6), lambda x: x.view(2, 12)),
    ("view_m1", (4, 6), lambda x: x.view(3, -1)),
    ("view_as", (4, 6), lambda x: x.view_as(_lib(x).zeros(6, 4))),
    ("reshape_contig", (4, 6), lambda x: x.reshape(8, 3)),
    ("flatten", (2, 3, 4), lambda x: x.flatten()),
    ("flatten_range", (2, 3, 4, 5), lambda x: x.flatten(1, 2)),
    ("unflatten", (4, 6), lambda x: x.unflatten(1, (2, 3))),
    ("transpose", (3, 4, 5), lambda x: x.transpose(0, 2)),
    ("transpose_neg", (3, 4, 5), lambda x: x.transpose(-1, -2)),
    ("t", (3, 4), lambda x: x.t()),
    ("T", (3, 4), lambda x: x.T),
    ("mT", (2, 3, 4), lambda x: x.mT),
    ("swapaxes", (3, 4, 5), lambda x: x.swapaxes(0, 1)),
    ("permute", (2, 3, 4), lambda x: x.permute(2, 0, 1)),
    ("permute_tuple", (2, 3, 4), lambda x: x.permute((1, 2, 0))),
    ("movedim", (2, 3, 4), lambda x: x.movedim(0, -1)),
    ("movedim_fn", (2, 3, 4, 5), lambda x: _lib(x).movedim(x, (0, 1), (3, 2))),
    ("squeeze_all", (1, 3, 1, 4), lambda x: x.squeeze()),
    ("squeeze_dim", (1, 3, 1, 4), lambda x: x.squeeze(2)),
    ("squeeze_neg", (1, 3, 1, 4), lambda x: x.squeeze(-2)),
    ("squeeze_tuple", (1, 3, 1, 4), lambda x: x.squeeze((0, 2))),
    ("squeeze_noop", (2, 3), lambda x: x.squeeze(0)),
    ("unsqueeze0", (3, 4), lambda x: x.unsqueeze(0)),
    ("unsqueeze_end", (3, 4), lambda x: x.unsqueeze(2)),
    ("unsqueeze_neg", (3, 4), lambda x: x.unsqueeze(-1)),
    ("expand", (3, 1), lambda x: x.expand(2, 3, 4)),
    ("expand_m1", (1, 4), lambda x: x.expand(3, -1)),
    ("expand_as", (3, 1), lambda x: x.expand_as(_lib(x).zeros(3, 5))),
    ("narrow", (5, 6), lambda x: x.narrow(1, 2, 3)),
    ("narrow_neg", (5, 6), lambda x: x.narrow(-2, 1, 2)),
    ("select", (4, 5, 6), lambda x: x.select(1, 2)),
    ("select_neg", (4, 5, 6), lambda x: x.select(-1, -1)),
    ("slice_step", (10, 8), lambda x: x[1:9:3, ::2]),
    ("slice_mid", (10, 8), lambda x: x[:, 3:7]),
    ("slice_int", (4, 5, 6), lambda x: x[2, 1:4]),
    ("slice_empty", (4, 5), lambda x: x[3:1]),
    ("unbind1", (3, 4), lambda x: x.unbind(1)[2]),
    ("unbind0", (3, 4), lambda x: x.unbind()[1]),
    ("split", (7, 4), lambda x: x.split(3)[2]),
    ("split_sizes", (7, 4), lambda x: x.split([1, 2, 1], dim=1)[1]),
    ("chunk", (7, 4), lambda x: x.chunk(3)[1]),
    ("chunk_dim1", (3, 8), lambda x: x.chunk(3, dim=1)[2]),
    ("diagonal", (4, 4), lambda x: x.diagonal()),
    ("diagonal_off", (4, 5), lambda x: x.diagonal(1)),
    ("diagonal_negoff", (4, 5), lambda x: x.diagonal(-2)),
    ("diagonal_dims", (3, 4, 5), lambda x: x.diagonal(0, 0, 2)),
    ("diagonal_offdims", (3, 4, 5), lambda x: x.diagonal(offset=1, dim1=2, dim2=1)),
    ("unfold", (10,), lambda x: x.unfold(0, 3, 3)),
    ("unfold_overlap", (10,), lambda x: x.unfold(0, 3, 2)),
    ("unfold_2d", (4, 6), lambda x: x.unfold(1, 2, 2)),
    ("as_strided", (12,), lambda x: x.as_strided((3, 2), (1, 3), 2)),
    ("as_strided_2d", (4, 6), lambda x: x.as_strided((2, 3), (6, 2))),
    ("getitem_ellipsis", (2, 3, 4), lambda x: x[..., 1]),
    ("getitem_none", (2, 3), lambda x: x[None, :, None, 1:]),
]
CASE_IDS = [c[0] for c in VIEW_CASES]
OVERLAPPING = {"expand", "expand_m1", "expand_as"}
# overlapping windows: torch doesn't raise but read-modify-write results
# depend on its loop order, so only order-independent writes are compared
ORDER_DEPENDENT = {"unfold_overlap"}


@pytest.mark.parametrize("name,shape,fn", VIEW_CASES, ids=CASE_IDS)
def test_view_layout(name, shape, fn):
    xt, xm = base_pair(shape)
    vt, vm = fn(xt), fn(xm)
    assert_same(vm, vt, check_stride=True)
    # same storage as the base
    assert vm.untyped_storage().data_ptr() == xm.untyped_storage().data_ptr()
    if vt.numel() == 0:
        return
    # data_ptr relation to the base mirrors torch's
    it = vt.element_size()
    assert vt.data_ptr() - xt.data_ptr() == vt.storage_offset() * it
    assert vm.data_ptr() - xm.data_ptr() == vm.storage_offset() * vm.element_size()


MUTATIONS = [
    ("add_", lambda v: v.add_(1.5)),
    ("mul_", lambda v: v.mul_(-2)),
    ("fill_", lambda v: v.fill_(7)),
    ("zero_", lambda v: v.zero_()),
    ("copy_", lambda v: v.copy_(_lib(v).arange(v.numel(), dtype=v.dtype).reshape(v.shape) * 10)),
    ("setitem_all", lambda v: v.__setitem__(Ellipsis, -3.0)),
    ("setitem_first", lambda v: v.__setitem__(0, 100.0) if v.dim() > 0 and v.shape[0] > 0 else v.fill_(100.0)),
]


@pytest.mark.parametrize("mname,mut", MUTATIONS, ids=[m[0] for m in MUTATIONS])
@pytest.mark.parametrize("name,shape,fn", VIEW_CASES, ids=CASE_IDS)
def test_mutate_view_writes_through(name, shape, fn, mname, mut):
    if name in ORDER_DEPENDENT and mname in ("add_", "mul_", "copy_"):
        pytest.skip("order-dependent result in torch for overlapping views")
    xt, xm = base_pair(shape)
    vt, vm = fn(xt), fn(xm)
    if name in OVERLAPPING:
        # writing to an expanded (stride-0) view: torch raises for most ops
        # (add_/mul_/copy_) but allows fill_/zero_; match whichever it does
        assert_same_outcome(lambda: mut(vt), lambda: mut(vm))
    else:
        mut(vt)
        mut(vm)
    assert_same(vm, vt, check_stride=True)
    assert_same(xm, xt, check_stride=True)


@pytest.mark.parametrize("name,shape,fn", VIEW_CASES, ids=CASE_IDS)
def test_mutate_base_visible_in_view(name, shape, fn):
    xt, xm = base_pair(shape)
    vt, vm = fn(xt), fn(xm)
    xt.mul_(3).add_(1)
    xm.mul_(3).add_(1)
    assert_same(vm, vt, check_stride=True)
    xt[...] = torch.from_numpy(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    xm[...] = to_mc(xt)
    assert_same(vm, vt, check_stride=True)


SIBLINGS = [
    ("unbind", (3, 4), lambda x: x.unbind(1)),
    ("split", (7, 4), lambda x: x.split(3)),
    ("split_dim1", (3, 7), lambda x: x.split(2, dim=1)),
    ("chunk", (6, 4), lambda x: x.chunk(4, dim=1)),
    ("two_transposes", (3, 4), lambda x: (x.t(), x.view(2, 6), x[1])),
    ("overlap_slices", (8,), lambda x: (x[1:6], x[3:], x[::2])),
    ("real_like", (4, 4), lambda x: (x.diagonal(), x[1], x[:, 2])),
]


@pytest.mark.parametrize("name,shape,fn", SIBLINGS, ids=[s[0] for s in SIBLINGS])
def test_sibling_views(name, shape, fn):
    xt, xm = base_pair(shape)
    pt, pm = fn(xt), fn(xm)
    assert len(pt) == len(pm)
    for i in range(len(pt)):
        pt[i].add_(10 ** i)
        pm[i].add_(10 ** i)
        for a, b in zip(pm, pt):
            assert_same(a, b, check_stride=True)
        assert_same(xm, xt)


def _chain(x):
    return x.t()[1:].unsqueeze(0).select(1, 0)


def _chain2(x):
    return x.permute(2, 0, 1)[:, ::2].transpose(0, 1).narrow(2, 1, 2).unsqueeze(-1)


@pytest.mark.parametrize("chain,shape", [(_chain, (4, 5)), (_chain2, (3, 4, 5))], ids=["t_slice_unsq_sel", "perm_step_tr_narrow"])
def test_view_chain_both_ends(chain, shape):
    xt, xm = base_pair(shape)
    vt, vm = chain(xt), chain(xm)
    assert_same(vm, vt, check_stride=True)
    vt.mul_(-1)
    vm.mul_(-1)
    assert_same(xm, xt)
    assert_same(vm, vt, check_stride=True)
    xt.add_(0.5)
    xm.add_(0.5)
    assert_same(vm, vt)
    # mutate a middle link
    mt = xt.transpose(0, -1)[1:]
    mm = xm.transpose(0, -1)[1:]
    mt.fill_(2)
    mm.fill_(2)
    assert_same(xm, xt)
    assert_same(vm, vt)


@pytest.mark.parametrize("shape,fn", [
    ((3, 4), lambda x: x.t().reshape(12)),
    ((3, 4), lambda x: x.t().reshape(-1, 2)),
    ((3, 4), lambda x: x.reshape(4, 3)),
    ((3, 4), lambda x: x[:, ::2].reshape(-1)),
    ((3, 4), lambda x: x[:, 1:].reshape(3, 3)),
    ((3, 4), lambda x: x[1:].reshape(8)),
    ((2, 3, 4), lambda x: x.transpose(1, 2).reshape(2, 12)),
    ((2, 3, 4), lambda x: x.transpose(0, 1).reshape(3, 8)),
    ((4, 1, 3), lambda x: x.squeeze(1).t().reshape(3, 2, 2)),
    ((3, 1), lambda x: x.expand(3, 4).reshape(12)),
    ((3, 4), lambda x: x.flatten()),
    ((3, 4), lambda x: x.t().flatten()),
], ids=src_id)
def test_reshape_views_iff_torch_does(shape, fn):
    xt, xm = base_pair(shape)
    vt, vm = fn(xt), fn(xm)
    assert_same(vm, vt, check_stride=True)
    shares_t = vt.untyped_storage().data_ptr() == xt.untyped_storage().data_ptr()
    shares_m = vm.untyped_storage().data_ptr() == xm.untyped_storage().data_ptr()
    assert shares_m == shares_t
    vt.fill_(-1)
    vm.fill_(-1)
    assert_same(xm, xt)


@pytest.mark.parametrize("fn", [
    lambda x: x.t().view(-1),
    lambda x: x.t().view(12),
    lambda x: x[:, :3].view(9),
    lambda x: x[::2].t().view(8),
    lambda x: x.transpose(0, 1).view(2, 6),
    lambda x: x.view(5, 3),
    lambda x: x.view(-1, -1),
], ids=src_id)
def test_view_invalid_raises(fn):
    xt, xm = base_pair((3, 4))
    assert_raises_same(lambda: fn(xt), lambda: fn(xm))


def test_view_on_noncontig_compatible_ok():
    # torch allows view when the requested shape is stride-compatible
    xt, xm = base_pair((4, 6))
    for f in (lambda x: x[:, :4].view(4, 2, 2), lambda x: x.t().view(6, 2, 2).transpose(1, 2),
              lambda x: x.t().unsqueeze(0).view(1, 6, 4)):
        assert_same(f(xm), f(xt), check_stride=True)


def test_contiguous_identity_and_copy():
    xt, xm = base_pair((3, 4))
    assert xt.contiguous() is xt
    assert xm.contiguous() is xm
    yt, ym = xt.t().contiguous(), xm.t().contiguous()
    assert ym is not xm
    assert_same(ym, yt, check_stride=True)
    ym.fill_(0)
    yt.fill_(0)
    assert_same(xm, xt)
    assert ym.untyped_storage().data_ptr() != xm.untyped_storage().data_ptr()


def test_clone_does_not_alias():
    xt, xm = base_pair((3, 4))
    ct, cm = xt.t().clone(), xm.t().clone()
    assert_same(cm, ct, check_stride=True)  # clone preserves strides (preserve_format)
    cm.add_(1)
    ct.add_(1)
    assert_same(xm, xt)


@pytest.mark.parametrize("op", [
    lambda v: v.add_(1), lambda v: v.mul_(2), lambda v: v.fill_(3), lambda v: v.zero_(),
    lambda v: v.copy_(_lib(v).ones(v.shape)), lambda v: v.sub_(1), lambda v: v.div_(2),
    lambda v: v.clamp_(0, 5),
], ids=src_id)
def test_version_counter_shared(op):
    xt, xm = base_pair((3, 4))
    vt, vm = xt[1:], xm[1:]
    assert xm._version == xt._version
    op(vt)
    op(vm)
    assert vm._version == vt._version
    assert xm._version == xt._version
    op(xt)
    op(xm)
    assert vm._version == vt._version
    assert xm._version == xt._version
    wt, wm = xt.t(), xm.t()  # a view created later shares the counter too
    assert wm._version == wt._version


def test_version_counter_setitem_increases():
    xt, xm = base_pair((3, 4))
    v0 = xm._version
    xm[0] = 5.0
    assert xm._version > v0
    v1 = xm._version
    xm[1, 1] += 1
    assert xm._version > v1
    # out-of-place ops don't bump
    v2 = xm._version
    _ = xm + 1
    _ = xm.t()
    assert xm._version == v2


def test_complex_real_imag_views():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)
    zt = torch.from_numpy(a.copy())
    zm = to_mc(zt)
    for f in (lambda z: z.real, lambda z: z.imag, lambda z: z.t().real, lambda z: z[1:, ::2].imag):
        assert_same(f(zm), f(zt), check_stride=True)
    zt.real.mul_(2)
    zm.real.mul_(2)
    zt.imag.fill_(-1)
    zm.imag.fill_(-1)
    assert_same(zm, zt)
    zt.real[0] = 9
    zm.real[0] = 9
    assert_same(zm, zt)
    rt, rm = zt.imag, zm.imag
    zt.mul_(1j)
    zm.mul_(1j)
    assert_same(rm, rt, check_stride=True)


def test_view_as_real_complex():
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
    zt = torch.from_numpy(a.copy())
    zm = to_mc(zt)
    rt, rm = torch.view_as_real(zt), mc.view_as_real(zm)
    assert_same(rm, rt, check_stride=True)
    rt[..., 1] = 0
    rm[..., 1] = 0
    assert_same(zm, zt)
    ct, cm = torch.view_as_complex(rt), mc.view_as_complex(rm)
    assert_same(cm, ct, check_stride=True)


def test_unfold_overlapping_fill():
    # overlapping windows: only order-independent writes are compared
    xt, xm = base_pair((8,))
    ut, um = xt.unfold(0, 3, 1), xm.unfold(0, 3, 1)
    assert_same(um, ut, check_stride=True)
    ut[2].fill_(-5)
    um[2].fill_(-5)
    assert_same(xm, xt)
    assert_same(um, ut)


def test_is_view_relationship():
    xt, xm = base_pair((3, 4))
    assert (xm.t()._base is xm) == (xt.t()._base is xt)
    assert (xm[1:].t()._base is xm) == (xt[1:].t()._base is xt)
    assert (xm._base is None) == (xt._base is None)
    assert (xm.t().reshape(-1)._base is None) == (xt.t().reshape(-1)._base is None)


class _Sub(mc.Tensor):
    pass


class _SubT(torch.Tensor):
    pass


# (name, fn(lib, x, sub)): a tensor made from x; the test compares which of x and the made tensors `_base` shows
_BASE_CASES = [
    ("detach", lambda lib, x, sub: [x.detach()]),
    (".data", lambda lib, x, sub: [x.data]),
    ("Parameter", lambda lib, x, sub: [lib.nn.Parameter(x)]),
    ("Parameter of a view", lambda lib, x, sub: [lib.nn.Parameter(x.view(12))]),
    ("detach of a view", lambda lib, x, sub: [x.view(12).detach()]),
    ("detach of detach", lambda lib, x, sub: [x.detach().detach()]),
    ("view of detach", lambda lib, x, sub: (lambda d: [d, d.view(12), d.view(12)[2:], d.t()])(x.detach())),
    ("view of a Parameter", lambda lib, x, sub: (lambda p: [p, p.t(), p[1]])(lib.nn.Parameter(x))),
    ("view of .data", lambda lib, x, sub: (lambda d: [d, d[1:], d.t().t()])(x.data)),
    ("as_subclass", lambda lib, x, sub: [x.as_subclass(sub)]),
    ("views", lambda lib, x, sub: [x.view(12), x.t(), x[1:], x.reshape(12), x.view_as(x), x.t().t()]),
]


@pytest.mark.parametrize("name,make", _BASE_CASES, ids=[c[0] for c in _BASE_CASES])
def test_base_shown_as_torch(name, make):
    # Note [Bases torch shows]: detach(), .data and nn.Parameter(t) share storage without being views (`_base`
    # None, `_is_view()` False), and views of them show them, not the storage's owner, as `_base`
    xt, xm = torch.randn(3, 4), mc.randn(3, 4)
    made_t, made_m = make(torch, xt, _SubT), make(mc, xm, _Sub)
    objs_t, objs_m = [xt] + made_t, [xm] + made_m
    for mt, mm in zip(made_t, made_m):
        shown_t = next((i for i, o in enumerate(objs_t) if mt._base is o), None if mt._base is None else -1)
        shown_m = next((i for i, o in enumerate(objs_m) if mm._base is o), None if mm._base is None else -1)
        assert shown_m == shown_t
        assert mm._is_view() == mt._is_view()


def test_bases_torch_hides_still_share_storage():
    # the storage stays shared however `_base` reads: writes through a Parameter, a detached alias and a view of
    # one reach the tensor they were made from, as in torch
    for lib in (torch, mc):
        x = lib.zeros(3, 4)
        p = lib.nn.Parameter(x)
        d = x.detach()
        with lib.no_grad():
            p[0, 0] = 1.0
        d.t()[1, 0] = 2.0
        assert x[0, 0].item() == 1.0 and x[0, 1].item() == 2.0
    xm = mc.zeros(3, 4)
    assert mc.nn.Parameter(xm)._storage_base is xm and xm.detach().t()._storage_base is xm


# ---------------------------------------------------------------------------
# randomized view chains
# ---------------------------------------------------------------------------

def _random_view_op(rng, shape):
    """Pick a view op applicable to `shape`; returns (desc, fn)."""
    nd = len(shape)
    cands = ["unsqueeze"]
    if nd >= 1:
        cands += ["slice", "narrow", "movedim", "flip_sign_index"]
        if any(s > 1 for s in shape):
            cands.append("unfold")
    if nd >= 2:
        cands += ["transpose", "permute", "select", "diagonal", "mT", "reshape", "flatten"]
    if 1 in shape:
        cands.append("squeeze")
    if nd >= 5:
        cands = [c for c in cands if c not in ("unsqueeze", "unfold")] or ["select"]
    op = cands[rng.integers(len(cands))]
    if op == "unsqueeze":
        d = int(rng.integers(-nd - 1, nd + 1))
        return (op, d), lambda x: x.unsqueeze(d)
    if op == "slice":
        d = int(rng.integers(nd))
        n = shape[d]
        start = int(rng.integers(0, n + 1))
        stop = int(rng.integers(start, n + 1))
        step = int(rng.integers(1, 4))
        idx = (slice(None),) * d + (slice(start, stop, step),)
        return (op, idx), lambda x: x[idx]
    if op == "narrow":
        d = int(rng.integers(nd))
        n = shape[d]
        start = int(rng.integers(0, n + 1))
        length = int(rng.integers(0, n - start + 1))
        return (op, d, start, length), lambda x: x.narrow(d, start, length)
    if op == "movedim":
        s, t = int(rng.integers(nd)), int(rng.integers(nd))
        return (op, s, t), lambda x: x.movedim(s, t)
    if op == "flip_sign_index":  # negative-dim transpose/identity through getitem with Ellipsis
        return (op,), lambda x: x[...]
    if op == "unfold":
        ds = [i for i, s in enumerate(shape) if s > 1]
        d = int(ds[rng.integers(len(ds))])
        size = int(rng.integers(1, shape[d] + 1))
        step = int(rng.integers(size, size + 3))  # step >= size: no overlap
        return (op, d, size, step), lambda x: x.unfold(d, size, step)
    if op == "transpose":
        a, b = int(rng.integers(-nd, nd)), int(rng.integers(-nd, nd))
        return (op, a, b), lambda x: x.transpose(a, b)
    if op == "permute":
        p = [int(v) for v in rng.permutation(nd)]
        return (op, p), lambda x: x.permute(*p)
    if op == "select":
        ds = [i for i, s in enumerate(shape) if s > 0]
        if not ds:
            return ("ident",), lambda x: x.view_as(x)
        d = int(ds[rng.integers(len(ds))])
        i = int(rng.integers(-shape[d], shape[d]))
        return (op, d, i), lambda x: x.select(d, i)
    if op == "diagonal":
        a, b = rng.choice(nd, size=2, replace=False)
        a, b = int(a), int(b)
        off = int(rng.integers(-2, 3))
        return (op, off, a, b), lambda x: x.diagonal(off, a, b)
    if op == "mT":
        return (op,), lambda x: x.mT
    if op == "reshape":
        n = int(np.prod(shape))
        return (op, n), lambda x: x.reshape(n)
    if op == "flatten":
        a = int(rng.integers(nd))
        b = int(rng.integers(a, nd))
        return (op, a, b), lambda x: x.flatten(a, b)
    if op == "squeeze":
        ds = [i for i, s in enumerate(shape) if s == 1]
        d = int(ds[rng.integers(len(ds))])
        return (op, d), lambda x: x.squeeze(d)
    raise AssertionError(op)


def _random_mutation(rng, shape, dtype):
    k = int(rng.integers(6))
    if k == 0:
        c = float(rng.integers(-5, 6))
        return ("add_", c), lambda v: v.add_(c)
    if k == 1:
        c = float(rng.integers(-3, 4))
        return ("mul_", c), lambda v: v.mul_(c)
    if k == 2:
        c = float(rng.integers(-9, 10))
        return ("fill_", c), lambda v: v.fill_(c)
    if k == 3:
        return ("zero_",), lambda v: v.zero_()
    vals = rng.integers(-50, 50, size=shape).astype(np.float32)
    if k == 4:
        return ("copy_",), lambda v: v.copy_(torch.from_numpy(vals.copy()) if isinstance(v, torch.Tensor)
                                               else mc.from_numpy(vals.copy()))
    return ("setitem",), lambda v: v.__setitem__(Ellipsis, torch.from_numpy(vals.copy())
                                                 if isinstance(v, torch.Tensor) else mc.from_numpy(vals.copy()))


@pytest.mark.parametrize("seed", range(40))
def test_random_view_chains(seed):
    rng = np.random.default_rng(1000 + seed)
    nd = int(rng.integers(1, 4))
    shape = tuple(int(s) for s in rng.integers(1, 6, size=nd))
    xt, xm = base_pair(shape)
    chain_t, chain_m, descs = [xt], [xm], []
    for _ in range(int(rng.integers(3, 6))):
        desc, fn = _random_view_op(rng, tuple(chain_t[-1].shape))
        descs.append(desc)
        chain_t.append(fn(chain_t[-1]))
        chain_m.append(fn(chain_m[-1]))
        assert_same(chain_m[-1], chain_t[-1], check_stride=True)
    for _ in range(4):
        k = int(rng.integers(len(chain_t)))
        mdesc, mut = _random_mutation(rng, tuple(chain_t[k].shape), "float32")
        mut(chain_t[k])
        mut(chain_m[k])
        for a, b in zip(chain_m, chain_t):
            assert_same(a, b, check_stride=True)
        assert xm._version == xt._version, (descs, mdesc)


def test_view_as_real_complex_alias_chains_and_gradients():
    """Writes through view_as_real / view_as_complex / .real / slices of them reach every other view; the
    views' gradients are torch's (ViewAsRealBackward0 / ViewAsComplexBackward0)."""
    rng = np.random.default_rng(5)
    a = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)
    res = []
    for L, z in ((torch, torch.from_numpy(a.copy())), (mc, to_mc(torch.from_numpy(a.copy())))):
        r = L.view_as_real(z[:, 1:])
        im = z.imag
        r[1, :, 0] = 5.0
        im[2, 2] = -3.0
        c = L.view_as_complex(r[:, ::2])
        c.mul_(2)
        res.append([z.clone(), r.clone(), r.stride(), r.storage_offset(), c.stride(), c.storage_offset()])
        x = (L.ones(8) * 1).reshape(2, 2, 2)
        res[-1].append(L.view_as_complex(x).stride())
        w = L.tensor([[1 + 2j, 3 - 1j]], requires_grad=True)
        g1 = L.autograd.grad((L.view_as_real(w * 1) * L.arange(4.0).reshape(1, 2, 2)).sum(), w)[0]
        f = L.tensor([[1.0, 2.0], [3.0, -4.0]], requires_grad=True)
        g2 = L.autograd.grad((L.view_as_complex(f * 1) * L.tensor([1 + 1j, 2 - 3j])).abs().sum(), f)[0]
        res[-1] += [g1, g2]
    for o, t in zip(res[1], res[0]):
        if isinstance(t, torch.Tensor):
            assert_same(o, t)
        else:
            assert tuple(o) == tuple(t) if isinstance(t, tuple) else o == t


@pytest.mark.parametrize("src,dst,key", [("float32", "int32", None), ("float32", "int16", slice(2, None)),
                                         ("float32", "uint8", None), ("int64", "float32", None),
                                         ("int16", "float32", slice(2, 6)), ("float32", "complex64", None)])
def test_view_dtype_aliases(src, dst, key):
    """t.view(dtype) reinterprets the same storage (no copy): writes go both ways, metadata as torch."""
    out = []
    for L in (torch, mc):
        base = L.arange(8).to(getattr(L, src))
        v = (base if key is None else base[key]).view(getattr(L, dst))
        meta = (tuple(v.shape), v.stride(), v.storage_offset())
        v[0] = 1
        out.append((meta, base.clone(), v.clone()))
    assert out[1][0] == out[0][0]
    assert_same(out[1][1], out[0][1])
    assert_same(out[1][2], out[0][2])


@pytest.mark.parametrize("call", [lambda L: L.view_as_real(L.ones(3)), lambda L: L.view_as_complex(L.ones(3)),
                                  lambda L: L.view_as_complex(L.ones(2, 3)[:, :2]),
                                  lambda L: L.view_as_complex(L.ones(6)[1:5].view(2, 2)),
                                  lambda L: L.view_as_complex(L.ones(2, 2).t()),
                                  lambda L: L.view_as_complex(L.tensor(1.0)), lambda L: L.ones(3).view(L.int64),
                                  lambda L: L.ones(2, 3).t().view(L.int16), lambda L: L.tensor(1.0).view(L.int16),
                                  lambda L: L.ones(2, 3)[:, :2].view(L.int64)])
def test_view_dtype_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


# ---------------------------------------------------------------------------
# conjugate views in random chains (Note [Conjugate views] in csrc/core.h)
# ---------------------------------------------------------------------------

def _random_complex_mutation(rng, shape):
    k = int(rng.integers(5))
    c = complex(int(rng.integers(-5, 6)), int(rng.integers(-5, 6)))
    if k == 0:
        return ("add_", c), lambda v: v.add_(c)
    if k == 1:
        return ("mul_", c), lambda v: v.mul_(c)
    if k == 2:
        return ("fill_", c), lambda v: v.fill_(c)
    vals = (rng.integers(-50, 50, size=shape) + 1j * rng.integers(-50, 50, size=shape)).astype(np.complex64)
    src = lambda v: torch.from_numpy(vals.copy()) if isinstance(v, torch.Tensor) else mc.from_numpy(vals.copy())
    if k == 3:
        return ("copy_",), lambda v: v.copy_(src(v))
    return ("setitem",), lambda v: v.__setitem__(Ellipsis, src(v))


@pytest.mark.parametrize("seed", range(30))
def test_random_view_chains_with_conj(seed):
    """Chains of view ops with conj() inserted at random places, written from random ends: values, layouts,
    conjugate bits and the shared version counter stay torch's."""
    rng = np.random.default_rng(5000 + seed)
    nd = int(rng.integers(1, 4))
    shape = tuple(int(s) for s in rng.integers(1, 6, size=nd))
    n = int(np.prod(shape))
    xt = (torch.arange(n, dtype=torch.float32) + 1j * torch.arange(n, 0, -1, dtype=torch.float32)).reshape(shape)
    xt = xt.clone()
    xm = to_mc(xt)
    chain_t, chain_m, descs = [xt], [xm], []
    for _ in range(int(rng.integers(3, 7))):
        if rng.integers(3) == 0:
            desc, fn = ("conj",), lambda x: x.conj()
        else:
            desc, fn = _random_view_op(rng, tuple(chain_t[-1].shape))
        descs.append(desc)
        chain_t.append(fn(chain_t[-1]))
        chain_m.append(fn(chain_m[-1]))
        assert chain_m[-1].is_conj() == chain_t[-1].is_conj(), descs
        assert_same(chain_m[-1], chain_t[-1].resolve_conj())
        assert_layout(chain_m[-1], chain_t[-1])
    for _ in range(4):
        k = int(rng.integers(len(chain_t)))
        if chain_t[k].is_contiguous() is False and chain_t[k].numel() > 1 and 0 in chain_t[k].stride():
            continue  # an expanded view: torch refuses writes there
        mdesc, mut = _random_complex_mutation(rng, tuple(chain_t[k].shape))
        mut(chain_t[k])
        mut(chain_m[k])
        for a, b in zip(chain_m, chain_t):
            assert_same(a, b.resolve_conj())
            assert_layout(a, b)
        assert xm._version == xt._version, (descs, mdesc)


# Note [Views that are their base] (tensor.c): a view selecting its whole base in order takes the base's array as
# its value; it stays a view in every respect torch shows.
WHOLE_BASE_CASES = [
    ("t_t", (4, 5), lambda x: x.t().t()),
    ("permute_undone", (2, 3, 4), lambda x: x.permute(2, 0, 1).permute(1, 2, 0)),
    ("view_back", (4, 6), lambda x: x.view(24).view(4, 6)),
    ("transpose_twice", (3, 4), lambda x: x.transpose(0, 1).transpose(1, 0)),
    ("unsqueeze_view", (3, 4), lambda x: x.unsqueeze(0).view(3, 4)),
]


@pytest.mark.parametrize("name,shape,fn", WHOLE_BASE_CASES, ids=[c[0] for c in WHOLE_BASE_CASES])
def test_view_of_whole_base_aliases_as_torch(name, shape, fn):
    xt, xm = base_pair(shape)
    vt, vm = fn(xt), fn(xm)
    assert_layout(vm, vt)
    assert vm._base is xm and vt._base is xt
    assert vm._mx is xm._mx  # the base's own array, no MLX transpose or reshape of the source
    vt.mul_(2), vm.mul_(2)
    assert_same(xm, xt)
    xt.add_(1), xm.add_(1)
    assert_same(vm, vt)
    assert vm._version == vt._version


@pytest.mark.parametrize("fn", [lambda x: x.mT, lambda x: x.mT.mT, lambda x: x.view(5, 5), lambda x: x.view(25),
                                lambda x: x.t().contiguous(), lambda x: x.permute(1, 0).permute(1, 0)])
def test_views_of_a_column_major_base(fn):
    """A base whose strides are not row-major (a clone of a transposed tensor keeps torch's column-major strides):
    only a view with the base's own strides has the base's value (Note [Views that are their base]); a square
    one's transpose has row-major strides and the base's shape, and must not take the base's array."""
    xt = torch.arange(25, dtype=torch.float32).reshape(5, 5).mT.clone()
    assert xt._base is None and xt.stride() == (1, 5)
    xm = to_mc(xt)
    assert xm.stride() == xt.stride()
    assert_same_outcome(lambda: fn(xt), lambda: fn(xm), check_stride=True)


def test_bit_views_of_whole_base_keep_their_values():
    """conj()/neg views carry metadata equal to their base's; their values are still the conjugate / negation."""
    zt = torch.tensor([1 + 2j, -3 - 0.5j], dtype=torch.complex64)
    zm = to_mc(zt)
    assert_same(zm.conj() * 1, zt.conj() * 1)  # arithmetic reads the view's value (numpy() refuses the bit)
    assert_same(zm.conj().conj(), zt.conj().conj())
    assert_same(zm.conj().imag * 1, zt.conj().imag * 1)
    assert_same(mc._neg_view(zm.real) * 1, torch._neg_view(zt.real) * 1)
    assert_same(zm.view(mc.float32).view(mc.complex64), zt.view(torch.float32).view(torch.complex64))


def test_detach_inplace_of_an_alias_and_of_its_view():
    # torch refuses detach_() on views only: a Parameter (an alias here, Note [Bases torch shows]) detaches in
    # place and keeps sharing its source's storage; a view of it raises torch's RuntimeError
    for lib in (torch, mc):
        t = lib.randn(3)
        p = lib.nn.Parameter(t)
        assert p.detach_() is p and not p.requires_grad and p.grad_fn is None
        p.add_(1.0)
        assert lib.equal(p, t)
    assert_raises_same(lambda: torch.nn.Parameter(torch.zeros(3)).view(3).detach_(),
                       lambda: mc.nn.Parameter(mc.zeros(3)).view(3).detach_())
