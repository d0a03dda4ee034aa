"""In-place operations against PyTorch.

Pins: values/dtype after add_/sub_/mul_/div_ (incl. rounding_mode)/pow_/
zero_/fill_ (scalar, 0-d tensor)/copy_ (broadcast, dtype conversion)/clamp_/
masked_fill_/setitem/augmented setitem; each in-place method returns self
(`r is x`); _version bumps exactly like torch; errors (leaf requiring grad,
fill_ with a 1-d value, copy_ shape mismatch) raise torch's exception type;
in-place through a view alias updates the base (and the base updates views).
"""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, assert_same_outcome, mc, to_mc, torch, src_id


def pair(shape=(3, 4), dtype="float32", seed=0, low=-5, high=5):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        a = rng.random(shape) < 0.5
    elif dtype.startswith(("int", "uint")):
        a = rng.integers(0 if dtype.startswith("uint") else low, high, size=shape)
    else:
        a = rng.uniform(low, high, size=shape)
    t = torch.from_numpy(a).to(getattr(torch, dtype))
    return t, to_mc(t)


def other(shape, dtype="float32", seed=1, nonzero=False):
    t, m = pair(shape, dtype, seed, 1 if nonzero else -5, 5)
    return t, m


def _L(x):
    return torch if isinstance(x, torch.Tensor) else mc


def _o(x, shape, dtype="float32", nonzero=False):
    t, m = other(shape, dtype, nonzero=nonzero)
    return t if isinstance(x, torch.Tensor) else m


INPLACE_OPS = [
    ("add_scalar", "float32", lambda x: x.add_(2.5)),
    ("add_alpha", "float32", lambda x: x.add_(_o(x, (3, 4)), alpha=-2)),
    ("add_bcast", "float32", lambda x: x.add_(_o(x, (4,)))),
    ("add_int", "int64", lambda x: x.add_(3)),
    ("add_int_tensor_int32", "int64", lambda x: x.add_(_o(x, (1, 4), "int32"))),
    ("sub_scalar", "float32", lambda x: x.sub_(1)),
    ("sub_alpha", "float64", lambda x: x.sub_(_o(x, (3, 1), "float64"), alpha=0.5)),
    ("mul_scalar", "float32", lambda x: x.mul_(-3)),
    ("mul_tensor", "int32", lambda x: x.mul_(_o(x, (3, 4), "int32"))),
    ("mul_bool", "float32", lambda x: x.mul_(_o(x, (3, 4), "bool"))),
    ("div_scalar", "float32", lambda x: x.div_(4)),
    ("div_tensor", "float64", lambda x: x.div_(_o(x, (4,), "float64", nonzero=True))),
    ("div_floor", "float32", lambda x: x.div_(_o(x, (3, 4), nonzero=True), rounding_mode="floor")),
    ("div_trunc", "float32", lambda x: x.div_(-1.5, rounding_mode="trunc")),
    ("div_floor_int", "int64", lambda x: x.div_(3, rounding_mode="floor")),
    ("div_trunc_int", "int64", lambda x: x.div_(-3, rounding_mode="trunc")),
    ("div_int_true_raises", "int64", lambda x: x.div_(2)),
    ("pow_scalar", "float32", lambda x: x.abs_().pow_(1.5)),
    ("pow_int", "int64", lambda x: x.pow_(2)),
    ("pow_tensor", "float32", lambda x: x.pow_(_L(x).tensor([1.0, 2.0, 0.0, 3.0]))),
    ("zero_", "float32", lambda x: x.zero_()),
    ("zero_int", "int16", lambda x: x.zero_()),
    ("fill_scalar", "float32", lambda x: x.fill_(1.25)),
    ("fill_int_with_float", "int32", lambda x: x.fill_(2.9)),
    ("fill_bool", "bool", lambda x: x.fill_(1)),
    ("fill_0d", "float32", lambda x: x.fill_(_L(x).tensor(3))),
    ("fill_0d_double", "float16", lambda x: x.fill_(_L(x).tensor(0.1, dtype=_L(x).float64))),
    ("fill_1d_raises", "float32", lambda x: x.fill_(_L(x).tensor([1.0, 2.0]))),
    ("copy_same", "float32", lambda x: x.copy_(_o(x, (3, 4)))),
    ("copy_bcast", "float32", lambda x: x.copy_(_o(x, (4,)))),
    ("copy_bcast_col", "float32", lambda x: x.copy_(_o(x, (3, 1)))),
    ("copy_f64_to_f32", "float32", lambda x: x.copy_(_o(x, (3, 4), "float64"))),
    ("copy_float_to_int", "int32", lambda x: x.copy_(_o(x, (3, 4), "float32"))),
    ("copy_int_to_bool", "bool", lambda x: x.copy_(_o(x, (3, 4), "int64"))),
    ("copy_complex_to_float", "float32", lambda x: x.copy_(_o(x, (3, 4)).to(_L(x).complex64))),
    ("copy_shape_mismatch", "float32", lambda x: x.copy_(_o(x, (2, 4)))),
    ("copy_from_transposed", "float32", lambda x: x.copy_(_o(x, (4, 3)).t())),
    ("clamp_", "float32", lambda x: x.clamp_(-1, 2)),
    ("clamp_min", "float32", lambda x: x.clamp_(min=0)),
    ("clamp_max", "int64", lambda x: x.clamp_(max=1)),
    ("clamp_tensor", "float32", lambda x: x.clamp_(min=_o(x, (4,)))),
    ("clamp_int_float_raises", "int64", lambda x: x.clamp_(0.5, 2.5)),
    ("clamp_min_", "float32", lambda x: x.clamp_min_(0.5)),
    ("clamp_max_", "float32", lambda x: x.clamp_max_(0.5)),
    ("masked_fill_", "float32", lambda x: x.masked_fill_(x > 0, -7)),
    ("masked_fill_bcast", "float32", lambda x: x.masked_fill_(_L(x).tensor([True, False, True, False]), 9.5)),
    ("masked_fill_0d", "int64", lambda x: x.masked_fill_(x < 0, _L(x).tensor(100))),
    ("masked_fill_nonbool_raises", "float32", lambda x: x.masked_fill_(_L(x).ones(3, 4), 1.0)),
    ("neg_", "float32", lambda x: x.neg_()),
    ("abs_", "int64", lambda x: x.abs_()),
    ("exp_", "float32", lambda x: x.exp_()),
    ("sqrt_", "float32", lambda x: x.abs_().sqrt_()),
    ("floor_", "float32", lambda x: x.floor_()),
    ("round_", "float32", lambda x: x.round_()),
    ("sigmoid_", "float32", lambda x: x.sigmoid_()),
    ("relu_", "float32", lambda x: x.relu_()),
    ("remainder_", "int64", lambda x: x.remainder_(3)),
    ("fmod_", "float32", lambda x: x.fmod_(2.0)),
    ("lerp_", "float32", lambda x: x.lerp_(_o(x, (3, 4)), 0.25)),
    ("addcmul_", "float32", lambda x: x.addcmul_(_o(x, (3, 4)), _o(x, (4,)), value=0.5)),
    ("bitwise_and_", "int32", lambda x: x.bitwise_and_(6)),
    ("logical_not_", "bool", lambda x: x.logical_not_()),
    ("t_", "float32", lambda x: x.t_()),
    ("unsqueeze_", "float32", lambda x: x.unsqueeze_(1)),
    ("squeeze_", "float32", lambda x: x.unsqueeze_(0).squeeze_()),
    ("transpose_", "float32", lambda x: x.transpose_(0, 1)),
    ("resize_as_same", "float32", lambda x: x.resize_(3, 4)),
]


@pytest.mark.parametrize("name,dtype,op", INPLACE_OPS, ids=[c[0] for c in INPLACE_OPS])
def test_inplace_op(name, dtype, op):
    xt, xm = pair(dtype=dtype)
    vt0 = xt._version
    vm0 = xm._version
    (rt, rm) = assert_same_outcome(lambda: op(xt), lambda: op(xm))
    if rt is None:  # both raised: self unchanged like torch
        assert_same(xm, xt)
        return
    assert rt is xt, "test bug"
    assert rm is xm, "in-place op must return self"
    assert_same(xm, xt, check_stride=True)
    assert xm._version - vm0 == xt._version - vt0, "version counter bump differs from torch"


@pytest.mark.parametrize("name,dtype,op", [c for c in INPLACE_OPS if "raises" not in c[0] and "mismatch" not in c[0]
                                           and c[0] not in ("t_", "unsqueeze_", "squeeze_", "transpose_", "resize_as_same")],
                         ids=[c[0] for c in INPLACE_OPS if "raises" not in c[0] and "mismatch" not in c[0]
                              and c[0] not in ("t_", "unsqueeze_", "squeeze_", "transpose_", "resize_as_same")])
def test_inplace_on_view_alias(name, dtype, op):
    """Apply the op to a transposed, sliced view of a bigger base: base must follow."""
    bt, bm = pair((6, 4), dtype=dtype, seed=5)
    # view of shape (3, 4): rows 0,2,4 of the base
    vt, vm = bt[::2], bm[::2]
    assert_same_outcome(lambda: op(vt), lambda: op(vm))
    assert_same(bm, bt)
    assert_same(vm, vt, check_stride=True)
    assert bm._version == bt._version
    assert vm._version == vt._version


def test_setitem_and_augmented_return_and_version():
    xt, xm = pair()
    xt[0] = 1.0
    xm[0] = 1.0
    xt[:, 1] += 2
    xm[:, 1] += 2
    xt[xt > 0] *= -1
    xm[xm > 0] *= -1
    assert_same(xm, xt)
    assert xm._version > 0


@pytest.mark.parametrize("op", [
    lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(1.0),
    lambda x: x.copy_(_L(x).zeros(3)), lambda x: x.__setitem__(0, 1.0), lambda x: x.clamp_(0, 1),
    lambda x: x.masked_fill_(x > 0, 0.0), lambda x: x.div_(2), lambda x: x.__iadd__(1),
    lambda x: x[1:].mul_(2), lambda x: x.t_(),
], ids=src_id)
def test_inplace_on_leaf_requiring_grad_raises(op):
    xt = torch.ones(3, requires_grad=True)
    xm = mc.ones(3, requires_grad=True)
    assert_same_outcome(lambda: op(xt), lambda: op(xm))


def test_inplace_on_leaf_requires_grad_is_runtime_error():
    xt = torch.ones(3, requires_grad=True)
    xm = mc.ones(3, requires_grad=True)
    assert_raises_same(lambda: xt.add_(1), lambda: xm.add_(1))
    with pytest.raises(RuntimeError):
        xm.add_(1)
    with torch.no_grad():
        xt.add_(1)
    with mc.no_grad():
        xm.add_(1)
    assert_same(xm.detach(), xt.detach())
    assert xm.requires_grad


def test_inplace_base_updates_every_view():
    bt, bm = pair((4, 6), seed=9)
    views_t = [bt.t(), bt[1:3], bt[:, ::2], bt.view(2, 12), bt.diagonal(), bt[2]]
    views_m = [bm.t(), bm[1:3], bm[:, ::2], bm.view(2, 12), bm.diagonal(), bm[2]]
    for f in (lambda x: x.add_(1), lambda x: x.mul_(-2), lambda x: x.clamp_(-3, 3),
              lambda x: x.copy_(_o(x, (6,))), lambda x: x.masked_fill_(x > 1, 0.5), lambda x: x.zero_()):
        f(bt)
        f(bm)
        for a, b in zip(views_m, views_t):
            assert_same(a, b, check_stride=True)


def test_inplace_returns_self_chain():
    xt, xm = pair()
    rt = xt.add_(1).mul_(2).sub_(0.5).clamp_(-4, 4).abs_()
    rm = xm.add_(1).mul_(2).sub_(0.5).clamp_(-4, 4).abs_()
    assert rm is xm and rt is xt
    assert_same(xm, xt)
    assert xm._version == xt._version


def test_copy_between_views_overlap_free():
    bt, bm = pair((4, 4), seed=3)
    bt[0].copy_(bt[:, 1])
    bm[0].copy_(bm[:, 1])
    assert_same(bm, bt)
    bt[2:].copy_(bt[:2].flip(0))
    bm[2:].copy_(bm[:2].flip(0))
    assert_same(bm, bt)
