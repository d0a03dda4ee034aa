"""nn.functional losses against torch: values, dtypes, shapes, gradients (incl. torch's special points),
reductions and legacy size_average/reduce, keyword options and error types."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch

R = np.random.default_rng(0)


def f32(*shape, low=-2.0, high=2.0, dtype=np.float32):
    return R.uniform(low, high, shape).astype(dtype)


def ints(high, *shape, low=0):
    return R.integers(low, high, shape).astype(np.int64)


class NoGrad:
    """An input that must not require grad (torch does not differentiate the loss with respect to it)."""

    def __init__(self, a):
        self.a = a


def _make(L, v, grad):
    if isinstance(v, NoGrad):
        return L.from_numpy(v.a.copy())
    if isinstance(v, np.ndarray):
        t = L.from_numpy(v.copy())
        if grad and v.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(v, list):
        return [_make(L, x, grad) for x in v]
    return v


def compare(name, args, kwargs=None, grad=True, rtol=1e-5, atol=1e-5, grtol=1e-4, gatol=1e-5, ns="nn.functional"):
    """Run `ns.name(*args, **kwargs)` in torch and mlx_compat on the same numpy inputs; compare the results
    and the vector-Jacobian products with respect to every floating-point input."""
    kwargs = kwargs or {}
    outs, grads = [], []
    cot = None
    for L in (torch, mc):
        a = [_make(L, v, grad) for v in args]
        kw = {k: _make(L, v, grad) for k, v in kwargs.items()}
        fn = L.nn.functional if ns == "nn.functional" else L
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(fn, name)(*a, **kw)
        outs.append(out)
        leaves = [t for t in list(a) + list(kw.values()) if isinstance(t, L.Tensor) and t.requires_grad]
        if grad and leaves:
            if cot is None:
                cot = R.standard_normal(tuple(out.shape)).astype(np.float64)
            c = L.from_numpy(cot.astype(np.float32 if str(out.dtype).endswith("float32") else np.float64))
            g = L.autograd.grad([out], leaves, [c], allow_unused=True)
            grads.append(g)
    assert_same(outs[1], outs[0], rtol=rtol, atol=atol)
    if grads:
        for gm, gt in zip(grads[1], grads[0]):
            if gt is None:
                assert gm is None or not bool((gm != 0).any())
                continue
            assert_same(gm, gt, rtol=grtol, atol=gatol)
    return outs


REDUCTIONS = ["none", "mean", "sum"]


# ---------------------------------------------------------------- regression losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_mse_l1(name, reduction):
    compare(name, [f32(3, 4), f32(3, 4)], {"reduction": reduction})
    compare(name, [f32(3, 4), f32(3, 4)], {"reduction": reduction, "weight": f32(3, 4, low=0.1)})


def test_l1_gradient_at_zero():
    x = np.array([0.0, 1.0, -1.0, 2.0], np.float32)
    compare("l1_loss", [x, x.copy()], {"reduction": "sum"})
    compare("l1_loss", [x, np.zeros(4, np.float32)], {"reduction": "sum"})


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_legacy_reduction_args(name):
    for sa, rd in [(True, None), (False, None), (None, False), (False, True), (True, False)]:
        compare(name, [f32(2, 3), f32(2, 3)], {"size_average": sa, "reduce": rd})


def test_broadcast_target_warns():
    for L in (torch, mc):
        with pytest.warns(UserWarning, match="different to the input size"):
            L.nn.functional.mse_loss(L.ones(2, 3), L.ones(3))
    compare("mse_loss", [f32(2, 3), f32(3)])


def test_mixed_dtypes():
    compare("mse_loss", [f32(3), f32(3, dtype=np.float64)])
    compare("l1_loss", [f32(3, dtype=np.float64), f32(3, dtype=np.float64)])


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1(beta, reduction):
    compare("smooth_l1_loss", [f32(4, 5), f32(4, 5)], {"reduction": reduction, "beta": beta})


@pytest.mark.parametrize("delta", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber(delta, reduction):
    compare("huber_loss", [f32(4, 5), f32(4, 5)], {"reduction": reduction, "delta": delta})
    compare("huber_loss", [f32(4, 5), f32(4, 5)], {"reduction": reduction, "delta": delta,
                                                    "weight": f32(4, 5, low=0.1)})


def test_threshold_gradients():
    # |x - y| exactly at beta / delta: torch takes the linear branch
    x = np.array([1.0, -1.0, 0.5, -0.5, 0.0, 2.0], np.float32)
    y = np.zeros(6, np.float32)
    compare("smooth_l1_loss", [x, y], {"reduction": "sum", "beta": 1.0})
    compare("smooth_l1_loss", [x, y], {"reduction": "sum", "beta": 0.5})
    compare("huber_loss", [x, y], {"reduction": "sum", "delta": 1.0})
    compare("huber_loss", [x, y], {"reduction": "sum", "delta": 0.5})


def test_regression_errors():
    cases = [
        lambda L: L.nn.functional.smooth_l1_loss(L.ones(3), L.ones(3), beta=-1.0),
        lambda L: L.nn.functional.huber_loss(L.ones(3), L.ones(3), delta=0.0),
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(3), reduction="bad"),
        lambda L: L.nn.functional.l1_loss(L.ones(3), L.ones(3), reduction="bad"),
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(2)),
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(3), weight=L.ones(2)),
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(3), weight=L.ones(3), reduction="bad"),
        lambda L: L.nn.functional.mse_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
        lambda L: L.nn.functional.l1_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
    ]
    for c in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_raises_same(lambda: c(torch), lambda: c(mc))


# ---------------------------------------------------------------- binary cross entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    x, y = f32(3, 4, low=0.02, high=0.98), f32(3, 4, low=0, high=1)
    compare("binary_cross_entropy", [x, y], {"reduction": reduction})
    compare("binary_cross_entropy", [x, y], {"reduction": reduction, "weight": NoGrad(f32(4, low=0.1))})
    compare("binary_cross_entropy", [x, y], {"reduction": reduction, "weight": NoGrad(f32(3, 4, low=0.1))})


def test_binary_cross_entropy_edges():
    # log clamped at -100 in the forward; the gradient uses max(x (1 - x), 1e-12) (finite at 0 and 1)
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.25], np.float32)
    compare("binary_cross_entropy", [x, y], {"reduction": "none"}, grtol=1e-4, gatol=1e-3)


def test_binary_cross_entropy_errors():
    cases = [
        lambda L: L.nn.functional.binary_cross_entropy(L.full((2,), 1.5), L.ones(2)),
        lambda L: L.nn.functional.binary_cross_entropy(L.full((2,), 0.5), L.full((2,), 1.5)),
        lambda L: L.nn.functional.binary_cross_entropy(L.full((2,), 0.5), L.ones(3)),
        lambda L: L.nn.functional.binary_cross_entropy(L.full((2,), 0.5), L.ones(2), reduction="x"),
        lambda L: L.nn.functional.binary_cross_entropy(L.full((2,), 0.5), L.ones(2),
                                                       weight=L.ones(2).requires_grad_()),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))

@pytest.mark.parametrize("case", [
    # a class weight of another dtype than the input
    lambda L: L.nn.functional.nll_loss(L.zeros(4, 3), L.tensor([0, 1, 2, 0]), weight=L.ones(3).half()),
    lambda L: L.nn.NLLLoss(weight=L.ones(3).half())(L.zeros(4, 3), L.tensor([0, 1, 2, 0])),
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 3), L.tensor([0, 1, 2, 0]), weight=L.ones(3).double()),
    # the batch sizes are checked before the target's dtype
    lambda L: L.nn.functional.nll_loss(L.zeros(4, 3), L.tensor([0.0, 1, 2, 0, 1])),
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 3), L.tensor([0.0, 1, 2, 0, 1])),
    lambda L: L.nn.CrossEntropyLoss()(L.zeros(4, 3), L.tensor([0, 1, 2, 0, 1], dtype=L.int32)),
], ids=["nll-half-weight", "NLLLoss-half-weight", "ce-double-weight", "nll-batch-first", "ce-batch-first",
        "CrossEntropyLoss-batch-first"])
def test_nll_family_error_order_and_messages(case):
    errs = []
    for L in (torch, mc):
        with pytest.raises(Exception) as e:
            case(L)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0]), errs


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x, y = f32(4, 5, low=-30, high=30), f32(4, 5, low=0, high=1)
    compare("binary_cross_entropy_with_logits", [x, y], {"reduction": reduction})
    compare("binary_cross_entropy_with_logits", [x, y], {"reduction": reduction,
                                                         "weight": NoGrad(f32(5))})
    compare("binary_cross_entropy_with_logits", [x, y], {"reduction": reduction,
                                                         "pos_weight": NoGrad(f32(5, low=0))})
    compare("binary_cross_entropy_with_logits", [x, y], {"reduction": reduction, "weight": NoGrad(f32(4, 5)),
                                                         "pos_weight": NoGrad(f32(5, low=0))})


def test_bce_with_logits_at_zero_and_errors():
    x = np.zeros(3, np.float32)
    compare("binary_cross_entropy_with_logits", [x, np.array([0.0, 0.5, 1.0], np.float32)])
    assert_raises_same(lambda: torch.nn.functional.binary_cross_entropy_with_logits(torch.ones(2), torch.ones(3)),
                       lambda: mc.nn.functional.binary_cross_entropy_with_logits(mc.ones(2), mc.ones(3)))


# ---------------------------------------------------------------- KL divergence, likelihoods


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(f32(3, 4, low=0.05, high=1))
    t = np.log(f32(3, 4, low=0.05, high=1)) if log_target else f32(3, 4, low=0.05, high=1)
    compare("kl_div", [x, t], {"reduction": reduction, "log_target": log_target})
    # a zero-probability target entry contributes 0 (xlogy(0, 0) = 0 / exp(-inf) = 0)
    t0 = t.copy()
    t0[0, 0] = -np.inf if log_target else 0.0
    compare("kl_div", [x, NoGrad(t0)], {"reduction": reduction, "log_target": log_target})


def test_kl_div_legacy_and_errors():
    compare("kl_div", [f32(2, 3), f32(2, 3, low=0.1, high=1)], {"size_average": False})
    compare("kl_div", [f32(), f32(low=0.1, high=1)], {"reduction": "batchmean"})
    assert_raises_same(lambda: torch.nn.functional.kl_div(torch.ones(2), torch.ones(2), reduction="x"),
                       lambda: mc.nn.functional.kl_div(mc.ones(2), mc.ones(2), reduction="x"))


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll(log_input, full, reduction):
    x = f32(3, 4) if log_input else f32(3, 4, low=0.1, high=3)
    t = f32(3, 4, low=0, high=4)
    compare("poisson_nll_loss", [x, t], {"log_input": log_input, "full": full, "reduction": reduction},
            grad=True)


def test_poisson_nll_errors_and_eps():
    compare("poisson_nll_loss", [f32(5, low=0, high=1), f32(5, low=0, high=3)], {"log_input": False, "eps": 0.1})
    assert_raises_same(lambda: torch.nn.functional.poisson_nll_loss(torch.ones(2), torch.ones(2), reduction="x"),
                       lambda: mc.nn.functional.poisson_nll_loss(mc.ones(2), mc.ones(2), reduction="x"))


@pytest.mark.parametrize("var_shape", [(3, 4), (3, 1), (3,), (1, 4)])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll(var_shape, full, reduction):
    compare("gaussian_nll_loss", [f32(3, 4), f32(3, 4), f32(*var_shape, low=0.1, high=2)],
            {"full": full, "reduction": reduction})


def test_gaussian_nll_clamp_and_float_var():
    # var below eps: torch clamps without telling autograd, so var still gets the unclamped gradient
    v = np.array([1e-9, 0.5, 1e-3], np.float32)
    compare("gaussian_nll_loss", [f32(3), f32(3), v], {"eps": 1e-2})
    compare("gaussian_nll_loss", [f32(3), f32(3), 0.5])


def test_gaussian_nll_errors():
    cases = [
        lambda L: L.nn.functional.gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3), L.ones(2, 2)),
        lambda L: L.nn.functional.gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3), -L.ones(2, 3)),
        lambda L: L.nn.functional.gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3), -1.0),
        lambda L: L.nn.functional.gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), reduction="x"),
        lambda L: L.nn.functional.gaussian_nll_loss(L.ones(2, 3), L.ones(2, 2), L.ones(2, 3)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


# ---------------------------------------------------------------- margin and embedding losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking(reduction, margin):
    t = np.where(R.random(6) > 0.5, 1.0, -1.0).astype(np.float32)
    compare("margin_ranking_loss", [f32(6), f32(6), t], {"margin": margin, "reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_hinge_embedding(reduction, margin):
    t = np.where(R.random((3, 4)) > 0.5, 1.0, -1.0).astype(np.float32)
    compare("hinge_embedding_loss", [f32(3, 4), t], {"margin": margin, "reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin(reduction):
    t = np.where(R.random((3, 4)) > 0.5, 1.0, -1.0).astype(np.float32)
    compare("soft_margin_loss", [f32(3, 4), NoGrad(t)], {"reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin(reduction):
    t = (R.random((3, 5)) > 0.5).astype(np.float32)
    compare("multilabel_soft_margin_loss", [f32(3, 5), t], {"reduction": reduction})
    compare("multilabel_soft_margin_loss", [f32(3, 5), t], {"reduction": reduction, "weight": f32(5, low=0.1)})
    compare("multilabel_soft_margin_loss", [f32(5), t[0]], {"reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.3])
def test_cosine_embedding(reduction, margin):
    t = np.where(R.random(4) > 0.5, 1.0, -1.0).astype(np.float32)
    compare("cosine_embedding_loss", [f32(4, 5), f32(4, 5), t], {"margin": margin, "reduction": reduction})
    compare("cosine_embedding_loss", [f32(5), f32(5), np.array(-1.0, np.float32)],
            {"margin": margin, "reduction": reduction})


def test_cosine_embedding_errors():
    cases = [
        lambda L: L.nn.functional.cosine_embedding_loss(L.ones(3, 2), L.ones(3, 2), L.ones(3, 1)),
        lambda L: L.nn.functional.cosine_embedding_loss(L.ones(3, 2), L.ones(3, 2), L.ones(())),
        lambda L: L.nn.functional.cosine_embedding_loss(L.ones(2), L.ones(2), L.ones(2)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin(p, swap, reduction):
    compare("triplet_margin_loss", [f32(4, 6), f32(4, 6), f32(4, 6)],
            {"p": p, "swap": swap, "reduction": reduction, "margin": 0.7})
    compare("triplet_margin_loss", [f32(6), f32(6), f32(6)], {"p": p, "swap": swap, "eps": 1e-3})


def test_triplet_margin_with_distance():
    compare("triplet_margin_with_distance_loss", [f32(4, 6), f32(4, 6), f32(4, 6)], {"swap": True})
    compare("triplet_margin_with_distance_loss", [f32(4, 6), f32(4, 6), f32(4, 6)], {"reduction": "none"})
    # a user distance function (an L1 distance) is called with the library's own tensors
    a, p, n = f32(4, 6), f32(4, 6), f32(4, 6)
    out = []
    for L in (torch, mc):
        ts = [L.from_numpy(v.copy()).requires_grad_() for v in (a, p, n)]
        loss = L.nn.functional.triplet_margin_with_distance_loss(
            *ts, distance_function=lambda x, y: (x - y).abs().sum(-1), margin=2.0, swap=True, reduction="sum")
        out.append((loss, L.autograd.grad([loss], ts)))
    assert_same(out[1][0], out[0][0])
    for gm, gt in zip(out[1][1], out[0][1]):
        assert_same(gm, gt, rtol=1e-4)


def test_triplet_errors():
    cases = [
        lambda L: L.nn.functional.triplet_margin_loss(L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), margin=-1.0),
        lambda L: L.nn.functional.triplet_margin_loss(L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), reduction="x"),
        lambda L: L.nn.functional.triplet_margin_loss(L.ones(3, 4), L.ones(4), L.ones(3, 4)),
        lambda L: L.nn.functional.triplet_margin_loss(L.ones(3, 5), L.ones(3, 4), L.ones(3, 4)),
        lambda L: L.nn.functional.triplet_margin_with_distance_loss(L.ones(3, 4), L.ones(3, 4), L.ones(3, 4),
                                                                    margin=0.0),
        lambda L: L.nn.functional.triplet_margin_with_distance_loss(L.ones(3, 4), L.ones(3, 4), L.ones(3, 4),
                                                                    reduction="x"),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin(p, reduction):
    compare("multi_margin_loss", [f32(4, 5), ints(5, 4)], {"p": p, "reduction": reduction})
    compare("multi_margin_loss", [f32(4, 5), ints(5, 4)], {"p": p, "reduction": reduction, "margin": 0.5,
                                                          "weight": NoGrad(f32(5, low=0.1))})
    compare("multi_margin_loss", [f32(5), np.array(2, np.int64)], {"p": p, "reduction": reduction})
    compare("multi_margin_loss", [f32(5), np.array([2], np.int64)], {"p": p, "reduction": reduction})


def test_multi_margin_errors():
    cases = [
        lambda L: L.nn.functional.multi_margin_loss(L.ones(2, 3), L.tensor([1, 1]), p=3),
        lambda L: L.nn.functional.multi_margin_loss(L.ones(2, 3), L.tensor([1, 3])),
        lambda L: L.nn.functional.multi_margin_loss(L.ones(2, 3), L.tensor([1, 1, 1])),
        lambda L: L.nn.functional.multi_margin_loss(L.ones(2, 3), L.tensor([1, 1]), weight=L.ones(4)),
        lambda L: L.nn.functional.multi_margin_loss(L.ones(2, 3), L.tensor([1, 1]), weight=L.ones(1, 3)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(reduction):
    t = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 2, 2], [-1, 0, 0, 0]], np.int64)
    compare("multilabel_margin_loss", [f32(4, 4), t], {"reduction": reduction})
    compare("multilabel_margin_loss", [f32(4), t[0]], {"reduction": reduction})
    compare("multilabel_margin_loss", [f32(4), t[2]], {"reduction": reduction})


def test_multilabel_margin_errors():
    cases = [
        lambda L: L.nn.functional.multilabel_margin_loss(L.ones(2, 3), L.tensor([[1, 4, -1], [0, 0, 0]])),
        lambda L: L.nn.functional.multilabel_margin_loss(L.ones(2, 3), L.tensor([[1, 0, -1]])),
        lambda L: L.nn.functional.multilabel_margin_loss(L.ones(2, 3, 1), L.zeros(2, 3, 1, dtype=L.int64)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


# ---------------------------------------------------------------- nll_loss, cross_entropy


SHAPES = [(5,), (3, 5), (3, 5, 4), (2, 5, 3, 2)]


def _target(shape, c, ignore=None):
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = ints(c, *tshape)
    if ignore is not None and t.size:
        t.reshape(-1)[0] = ignore
    return t


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(shape, reduction):
    c = 5
    x = np.log(f32(*shape, low=0.05, high=1))
    compare("nll_loss", [x, _target(shape, c)], {"reduction": reduction})
    compare("nll_loss", [x, _target(shape, c)], {"reduction": reduction, "weight": NoGrad(f32(c, low=0.1))})
    compare("nll_loss", [x, _target(shape, c, ignore=2)], {"reduction": reduction, "ignore_index": 2,
                                                          "weight": NoGrad(f32(c, low=0.1))})
    compare("nll_loss", [x, _target(shape, c, ignore=-1)], {"reduction": reduction, "ignore_index": -1})


def test_nll_loss_all_ignored_and_uint8_target():
    x = np.log(f32(3, 4, low=0.05, high=1))
    for r in REDUCTIONS:
        compare("nll_loss", [x, np.zeros(3, np.int64)], {"reduction": r, "ignore_index": 0})
    compare("nll_loss", [x, ints(4, 3).astype(np.uint8)])
    compare("cross_entropy", [x, ints(4, 3).astype(np.uint8)])


def test_nll_loss_legacy():
    x = np.log(f32(3, 4, low=0.05, high=1))
    for sa, rd in [(False, None), (None, False), (True, True)]:
        compare("nll_loss", [x, ints(4, 3)], {"size_average": sa, "reduce": rd})


def test_not_differentiable_arguments():
    w = lambda L: L.ones(3).requires_grad_()  # noqa: E731
    cases = [
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 1]), weight=w(L)),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3, 4), L.zeros(2, 4, dtype=L.int64), weight=w(L)),
        lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3), L.tensor([0, 1]), weight=w(L)),
        lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1]), weight=w(L)),
        lambda L: L.nn.functional.soft_margin_loss(L.zeros(3), w(L)),
        lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.zeros(3), L.ones(3), weight=w(L)),
        lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.zeros(3), L.ones(3), pos_weight=w(L)),
        lambda L: L.nn.functional.binary_cross_entropy(L.full((3,), 0.5), L.ones(3), weight=w(L)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))
    # with gradients off the same calls are fine
    with torch.no_grad():
        t = torch.nn.functional.nll_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=w(torch))
    with mc.no_grad():
        m = mc.nn.functional.nll_loss(mc.zeros(2, 3), mc.tensor([0, 1]), weight=w(mc))
    assert_same(m, t)


def test_nll_loss_errors():
    cases = [
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 1], dtype=L.int32)),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 5])),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, -5])),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 1, 2])),
        lambda L: L.nn.functional.nll_loss(L.zeros(()), L.tensor(0)),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3, 4), L.zeros(2, 5, dtype=L.int64)),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 1]), weight=L.ones(4)),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 1]), reduction="x"),
        lambda L: L.nn.functional.nll_loss(L.zeros(2, 3, dtype=L.int64), L.tensor([0, 1])),
        lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3), L.rand(2, 3), ignore_index=1),
        lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3), L.tensor([0, 1]), label_smoothing=1.5),
        lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3), L.tensor([0.0, 1.0])),
        lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3), L.zeros(2, 3, dtype=L.int64)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_indices(shape, reduction, smoothing):
    c = 5
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    compare("cross_entropy", [f32(*shape), _target(shape, c)], kw)
    compare("cross_entropy", [f32(*shape), _target(shape, c)], dict(kw, weight=NoGrad(f32(c, low=0.1))))
    compare("cross_entropy", [f32(*shape), _target(shape, c, ignore=1)], dict(kw, ignore_index=1))
    compare("cross_entropy", [f32(*shape), _target(shape, c, ignore=1)],
            dict(kw, ignore_index=1, weight=NoGrad(f32(c, low=0.1))))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities(shape, reduction, smoothing):
    t = f32(*shape, low=0, high=1)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    compare("cross_entropy", [f32(*shape), t], kw)
    compare("cross_entropy", [f32(*shape), t], dict(kw, weight=f32(shape[0 if len(shape) == 1 else 1], low=0.1)))


def test_cross_entropy_float64():
    compare("cross_entropy", [f32(3, 4, dtype=np.float64), ints(4, 3)], {"label_smoothing": 0.1})


# ---------------------------------------------------------------- linear_cross_entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_linear_cross_entropy(reduction):
    x, w, b = f32(4, 3), f32(5, 3), f32(5)
    compare("linear_cross_entropy", [x, w, ints(5, 4)], {"reduction": reduction})
    compare("linear_cross_entropy", [x, w, ints(5, 4)], {"reduction": reduction, "linear_bias": b,
                                                         "weight": NoGrad(f32(5, low=0.5))})
    compare("linear_cross_entropy", [x, w, ints(5, 4)], {"reduction": reduction, "ignore_index": 1,
                                                         "label_smoothing": 0.1})
    compare("linear_cross_entropy", [x, w, f32(4, 5, low=0, high=1)], {"reduction": reduction})
    compare("linear_cross_entropy", [f32(3), w, np.array(2, np.int64)], {"reduction": reduction})
    # K-dimensional: weight (C, d1, in_features)
    compare("linear_cross_entropy", [x, f32(5, 2, 3), ints(5, 4, 2)], {"reduction": reduction,
                                                                       "linear_bias": f32(5, 2)})


def test_linear_cross_entropy_errors():
    cases = [
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3, 3), L.ones(2, 3), L.ones(3, 2)),
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(2), L.ones(2, 2)),
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(2, 4), L.ones(2, 2)),
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(2, 3), L.ones(2, 2), ignore_index=0),
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(3), L.ones(2, 4, 3), L.ones(2, 4)),
        lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(2, 3), L.ones(2),
                                                       linear_bias=L.ones(3)),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


# ---------------------------------------------------------------- CTC


def _ctc_inputs(T, N, C, S, concat=False, seed=0):
    r = np.random.default_rng(seed)
    z = r.uniform(-3, 3, (T, N, C)).astype(np.float32)
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    tl = r.integers(1, S + 1, N).astype(np.int64)
    il = r.integers(max(2 * S + 1, 1), T + 1, N).astype(np.int64)
    tg = r.integers(1, C, (N, S)).astype(np.int64)
    if concat:
        tg = np.concatenate([tg[n, :tl[n]] for n in range(N)])
    return lp.astype(np.float32), tg, il, tl


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concat", [False, True])
@pytest.mark.parametrize("lengths_as", ["tensor", "list"])
def test_ctc_loss(reduction, concat, lengths_as):
    lp, tg, il, tl = _ctc_inputs(12, 3, 6, 4, concat)
    if lengths_as == "list":
        il, tl = il.tolist(), tl.tolist()
    compare("ctc_loss", [lp, tg, il, tl], {"reduction": reduction})


def test_ctc_loss_blank_repeats_and_zero_infinity():
    lp, tg, il, tl = _ctc_inputs(10, 3, 5, 3, seed=1)
    tg[0] = [2, 2, 2]  # repeats need separating blanks
    compare("ctc_loss", [lp, tg, il, tl], {"reduction": "none", "blank": 0})
    tg2 = np.where(tg == 4, 1, tg)
    compare("ctc_loss", [lp, tg2, il, tl], {"reduction": "sum", "blank": 4})
    # too-short input: infinite loss, zeroed with its gradient under zero_infinity
    il_short = il.copy()
    il_short[1] = 1
    compare("ctc_loss", [lp, tg, il_short, tl], {"reduction": "none", "zero_infinity": True})
    compare("ctc_loss", [lp, tg, il_short, tl], {"reduction": "mean", "zero_infinity": True})
    compare("ctc_loss", [lp, tg, il_short, tl], {"reduction": "none", "zero_infinity": False}, grad=False)


def test_ctc_loss_float_targets():
    lp, tg, il, tl = _ctc_inputs(10, 2, 5, 3)
    compare("ctc_loss", [lp, tg.astype(np.float32), il, tl], {"reduction": "sum"})
    compare("ctc_loss", [lp, tg.astype(np.int32), il, tl], {"reduction": "none"})


def test_ctc_loss_unbatched_and_empty_target():
    lp, tg, il, tl = _ctc_inputs(8, 1, 5, 3)
    compare("ctc_loss", [lp[:, 0], tg[0], np.array(il[0]), np.array(tl[0])], {"reduction": "mean"})
    compare("ctc_loss", [lp, tg, il, np.zeros(1, np.int64)], {"reduction": "none"})


def test_ctc_loss_errors():
    cases = [
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [6, 5], [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5], [3, 3],
                                           blank=4),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5], [3, 3],
                                           reduction="x"),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5, 5], [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5], [3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, -1], [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5], [3, -1]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.int64), [5, 5], [4, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(5, dtype=L.int64), [5, 5], [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4, dtype=L.int64), L.ones(2, 3, dtype=L.int64), [5, 5],
                                           [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5), L.ones(2, 3, dtype=L.int64), [5, 5], [3, 3]),
        lambda L: L.nn.functional.ctc_loss(L.zeros(5, 4), L.ones(3, dtype=L.int64), 5, 3),
    ]
    for c in cases:
        assert_raises_same(lambda: c(torch), lambda: c(mc))


# ---------------------------------------------------------------- exports


def test_exports():
    import mlx_compat.nn._loss as mod

    for name in mod.__all__:
        assert hasattr(torch.nn.functional, name)
        assert getattr(mc.nn.functional, name) is getattr(mod, name)
    for name in mod.TORCH_EXPORTS:
        assert hasattr(torch, name)
        # torch's top-level versions have their own (ATen) signatures: TORCH_VARIANTS wins over nn.functional's
        assert getattr(mc, name) is mod.TORCH_VARIANTS.get(name, getattr(mod, name))


def _top(name):
    return getattr(mc, name)  # the top-level export (TORCH_VARIANTS)


TOP_CASES = [
    ("binary_cross_entropy_with_logits", lambda L, a: (a["x"], a["p"]), {}),
    ("binary_cross_entropy_with_logits", lambda L, a: (a["x"], a["p"], None, None, 2), {}),
    ("cosine_embedding_loss", lambda L, a: (a["x"], a["y"], a["s1"], 0.2, 1), {}),
    ("cosine_embedding_loss", lambda L, a: (a["x"], a["y"], a["s1"]), {}),
    ("hinge_embedding_loss", lambda L, a: (a["x"], a["s"]), {}),
    ("hinge_embedding_loss", lambda L, a: (a["x"], a["s"], 0.5, 2), {}),
    ("kl_div", lambda L, a: (a["x"], a["p"]), {}),
    ("kl_div", lambda L, a: (a["x"], a["p"], 1), {"log_target": True}),
    ("kl_div", lambda L, a: (a["x"], a["p"], 7), {}),
    ("margin_ranking_loss", lambda L, a: (a["x"], a["y"], a["s"]), {}),
    ("margin_ranking_loss", lambda L, a: (a["x"], a["y"], a["s"], 0.3, 2), {}),
    ("poisson_nll_loss", lambda L, a: (a["x"], a["p"], True, False, 1e-8, 1), {}),
    ("poisson_nll_loss", lambda L, a: (a["p"], a["p"], False, True, 1e-3, 0), {}),
    ("triplet_margin_loss", lambda L, a: (a["x"], a["y"], a["p"]), {}),
    ("triplet_margin_loss", lambda L, a: (a["x"], a["y"], a["p"], 0.5, 1, 1e-6, True, 2), {}),
]


@pytest.mark.parametrize("name,args,kw", TOP_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(TOP_CASES)])
def test_toplevel_signatures(name, args, kw):
    vals = {"x": f32(3, 4), "y": f32(3, 4), "p": f32(3, 4, low=0.05, high=1),
            "s": np.where(R.random((3, 4)) > 0.5, 1.0, -1.0).astype(np.float32),
            "s1": np.where(R.random(3) > 0.5, 1.0, -1.0).astype(np.float32)}
    t = getattr(torch, name)(*args(torch, {k: torch.from_numpy(v.copy()) for k, v in vals.items()}), **kw)
    m = _top(name)(*args(mc, {k: mc.from_numpy(v.copy()) for k, v in vals.items()}), **kw)
    assert_same(m, t)


def test_toplevel_ctc_and_errors():
    lp, tg, il, tl = _ctc_inputs(12, 3, 6, 4)
    for red in (0, 1, 2):
        t = torch.ctc_loss(torch.from_numpy(lp), torch.from_numpy(tg), il.tolist(), tl.tolist(), 0, red)
        m = _top("ctc_loss")(mc.from_numpy(lp), mc.from_numpy(tg), il.tolist(), tl.tolist(), 0, red)
        assert_same(m, t)
    assert_raises_same(lambda: torch.kl_div(torch.ones(2), torch.ones(2), "mean"),
                       lambda: _top("kl_div")(mc.ones(2), mc.ones(2), "mean"))
    assert _top("kl_div").__name__ == "kl_div"


@pytest.mark.parametrize("name,make", [
    ("mse_loss", lambda: [f32(3, 4), f32(3, 4)]),
    ("smooth_l1_loss", lambda: [f32(3, 4), f32(3, 4)]),
    ("binary_cross_entropy", lambda: [f32(3, 4, low=0.05, high=0.95), f32(3, 4, low=0, high=1)]),
    ("binary_cross_entropy_with_logits", lambda: [f32(3, 4), f32(3, 4, low=0, high=1)]),
    ("cross_entropy", lambda: [f32(3, 4), ints(4, 3)]),
    ("cross_entropy", lambda: [f32(3, 4), f32(3, 4, low=0, high=1)]),
    ("poisson_nll_loss", lambda: [f32(3, 4), f32(3, 4, low=0, high=3)]),
    ("cosine_embedding_loss", lambda: [f32(3, 4), f32(3, 4), np.array([1.0, -1.0, 1.0], np.float32)]),
    ("triplet_margin_loss", lambda: [f32(3, 4), f32(3, 4), f32(3, 4)]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_double_backward(name, make):
    """Gradients of the input gradient (create_graph=True) match torch."""
    args = make()
    res = []
    for L in (torch, mc):
        a = [_make(L, v, True) for v in args]
        x = a[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = getattr(L.nn.functional, name)(*a, reduction="sum")
        (g,) = L.autograd.grad([loss], [x], create_graph=True)
        (gg,) = L.autograd.grad([(g * g).sum()], [x])
        res.append((g, gg))
    assert_same(res[1][0], res[0][0], rtol=1e-4)
    assert_same(res[1][1], res[0][1], rtol=1e-4, atol=1e-4)


def test_legacy_warning_points_at_caller():
    with pytest.warns(UserWarning, match="reduction='sum'") as rec:
        mc.nn.functional.mse_loss(mc.ones(2), mc.zeros(2), size_average=False)
    assert rec[0].filename == __file__


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float64"])
def test_cross_entropy_of_an_empty_batch(reduction, dtype):
    """torch's nan (mean), 0 (sum) or empty loss and an empty gradient; MLX's logsumexp refuses empty arrays."""
    res = []
    for L in (torch, mc):
        x = L.ones(0, 8, dtype=getattr(L, dtype), requires_grad=True)
        y = L.nn.functional.cross_entropy(x, L.zeros(0, dtype=L.int64), reduction=reduction)
        (g,) = L.autograd.grad(y.sum(), x)
        res.append((y, g, y.grad_fn.name()))
    assert res[1][2] == res[0][2]
    assert_same(res[1][0], res[0][0])
    assert_same(res[1][1], res[0][1])


# Note [mse_loss as one node]
@pytest.mark.parametrize("shape", [(4, 6), (300, 1000), (0, 3), ()])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_one_node(shape, dtype, reduction):
    """mse_loss prints torch's grad_fn=<MseLossBackward0> for every reduction, with torch's values, gradients of
    input and target, and a second derivative (create_graph)."""
    rng = np.random.default_rng(len(shape) * 7 + len(dtype))
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        x, y = (L.from_numpy(np.array(v)).to(dt).requires_grad_() for v in (a, b))
        out = L.nn.functional.mse_loss(x, y, reduction=reduction)
        gx, gy = L.autograd.grad(out, [x, y], L.ones_like(out) * 0.7, create_graph=True)
        (h,) = L.autograd.grad((gx * gx).sum(), x)
        res.append((out.grad_fn.name(), out, gx, gy, h))
    assert res[1][0] == res[0][0] == "MseLossBackward0"
    for m, t in zip(res[1][1:], res[0][1:]):
        assert_same(m, t, rtol=1e-5 if dtype != "bfloat16" else 1e-2, atol=1e-5 if dtype != "bfloat16" else 1e-2)


# Note [Pointwise losses as one node]
def _pointwise_losses():
    """name -> (torch's node, call(F, x, y, extras, reduction), input maker, target maker, extras maker or None,
    whether the target is differentiable)."""
    prob = lambda r, s: r.uniform(0.02, 0.98, s)  # noqa: E731
    norm = lambda r, s: r.standard_normal(s)  # noqa: E731
    sgn = lambda r, s: np.sign(r.standard_normal(s)) + (r.standard_normal(s) == 0)  # noqa: E731
    return {
        "smooth_l1": ("SmoothL1LossBackward0", lambda F, x, y, e, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.5),
                      norm, norm, None, True),
        "huber": ("HuberLossBackward0", lambda F, x, y, e, r: F.huber_loss(x, y, reduction=r, delta=0.7),
                  norm, norm, None, True),
        "bce": ("BinaryCrossEntropyBackward0", lambda F, x, y, e, r: F.binary_cross_entropy(x, y, reduction=r),
                prob, prob, None, True),
        "bce_weight": ("BinaryCrossEntropyBackward0",
                       lambda F, x, y, e, r: F.binary_cross_entropy(x, y, weight=e[0], reduction=r),
                       prob, prob, lambda r, s: [r.uniform(0.5, 2, s[-1:])], True),
        "bce_logits": ("BinaryCrossEntropyWithLogitsBackward0",
                       lambda F, x, y, e, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                       norm, prob, None, True),
        "bce_logits_weights": ("BinaryCrossEntropyWithLogitsBackward0",
                               lambda F, x, y, e, r: F.binary_cross_entropy_with_logits(
                                   x, y, weight=e[0], pos_weight=e[1], reduction=r),
                               norm, prob, lambda r, s: [r.uniform(0.5, 2, s), r.uniform(0.5, 3, s[-1:])], True),
        "soft_margin": ("SoftMarginLossBackward0", lambda F, x, y, e, r: F.soft_margin_loss(x, y, reduction=r),
                        norm, sgn, None, False),
    }


@pytest.mark.parametrize("name", list(_pointwise_losses()))
@pytest.mark.parametrize("shape", [(4, 6), (300, 1000), (0, 3)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_loss_one_node(name, shape, dtype, reduction):
    """torch's node name for every reduction, with torch's values, the gradients of input and (where torch
    differentiates it) target, and a second derivative through create_graph."""
    node, call, mk_x, mk_y, mk_e, target_grad = _pointwise_losses()[name]
    rng = np.random.default_rng(len(shape) * 11 + len(name))
    a, b = mk_x(rng, shape), mk_y(rng, shape)
    extras = mk_e(rng, shape) if mk_e else []
    cot = rng.uniform(0.5, 1.5, shape if reduction == "none" else ())
    res = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        x = L.from_numpy(np.array(a)).to(dt).requires_grad_()
        y = L.from_numpy(np.array(b)).to(dt).requires_grad_(target_grad)
        e = [L.from_numpy(np.array(v)).to(dt) for v in extras]
        out = call(L.nn.functional, x, y, e, reduction)
        ins = [x, y] if target_grad else [x]
        gs = L.autograd.grad(out, ins, L.from_numpy(np.array(cot)).to(dt), create_graph=True)
        (h,) = L.autograd.grad((gs[0] * gs[0]).sum() + (gs[0] * x).sum(), x) if x.numel() else (gs[0],)
        res.append((out.grad_fn.name(), out, *gs, h))
    assert res[1][0] == res[0][0] == node
    for m, t in zip(res[1][1:], res[0][1:]):
        assert_same(m, t, rtol=1e-5, atol=1e-5)
