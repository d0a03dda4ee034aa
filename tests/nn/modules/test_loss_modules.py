"""nn loss modules against torch: every torch.nn loss over its reductions and constructor arguments (class
weights and pos_weight as buffers in the state_dict, ignore_index, label_smoothing, margins, p, eps, swap, full,
log_input / log_target, blank / zero_infinity, LinearCrossEntropyLoss's projection); loss values and input (and
Linear parameter) gradients; repr; the legacy size_average / reduce arguments with torch's warning; constructor
errors."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch
from modtest import check_module

R = np.random.default_rng(0)
N, C = 4, 5


def _f(*shape, lo=None, hi=None, seed=0):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape).astype(np.float32)
    if lo is not None:
        a = (lo + (hi - lo) * r.random(shape)).astype(np.float32)
    return a


def _log_softmax(a, axis=1):
    a = a - a.max(axis=axis, keepdims=True)
    return (a - np.log(np.exp(a).sum(axis=axis, keepdims=True))).astype(np.float32)


def _long(a):
    return np.asarray(a, dtype=np.int64)


def _sign(*shape, seed=1):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


# name -> (data: list of (array, requires_grad)); constructor kwargs are given per case below
DATA = {
    "reg": lambda: [(_f(N, C), True), (_f(N, C, seed=1), False)],
    "reg_tgt_grad": lambda: [(_f(N, C), True), (_f(N, C, seed=1), True)],
    "nll": lambda: [(_log_softmax(_f(N, C)), True), (_long([0, 4, 2, 2]), False)],
    "nll_ignore": lambda: [(_log_softmax(_f(N, C)), True), (_long([0, 1, 2, 1]), False)],
    "nll_2d": lambda: [(_log_softmax(_f(2, C, 3, 2)), True), (_long(R.integers(0, C, (2, 3, 2))), False)],
    "nll_1d_unbatched": lambda: [(_log_softmax(_f(C), axis=0), True), (_long(3), False)],
    "ce": lambda: [(_f(N, C), True), (_long([0, 4, 1, 1]), False)],
    "ce_probs": lambda: [(_f(N, C), True), (np.exp(_log_softmax(_f(N, C, seed=2))), False)],
    "ce_3d": lambda: [(_f(2, C, 3), True), (_long(R.integers(0, C, (2, 3))), False)],
    "poisson_log": lambda: [(_f(N, C), True), (np.abs(_f(N, C, seed=1)) * 3, False)],
    "poisson": lambda: [(_f(N, C, lo=0.1, hi=3.0), True), (np.round(np.abs(_f(N, C, seed=1)) * 3), False)],
    "gauss": lambda: [(_f(N, C), True), (_f(N, C, seed=1), False), (_f(N, C, lo=0.1, hi=2.0, seed=2), True)],
    "gauss_bcast": lambda: [(_f(N, C), True), (_f(N, C, seed=1), False), (_f(N, 1, lo=0.1, hi=2.0, seed=2), True)],
    "kl": lambda: [(_log_softmax(_f(N, C)), True), (np.exp(_log_softmax(_f(N, C, seed=1))), False)],
    "kl_log": lambda: [(_log_softmax(_f(N, C)), True), (_log_softmax(_f(N, C, seed=1)), False)],
    "bce": lambda: [(_f(N, C, lo=0.05, hi=0.95), True), (_f(N, C, lo=0.0, hi=1.0, seed=1), False)],
    "logits": lambda: [(_f(N, C), True), (_f(N, C, lo=0.0, hi=1.0, seed=1), False)],
    "hinge": lambda: [(_f(N, C), True), (_sign(N, C), False)],
    "mlm": lambda: [(_f(N, C), True), (_long([[3, 0, -1, 1, 0], [1, 2, 3, 4, 0], [0, -1, 2, 3, 4], [4, 4, -1, 0, 0]]),
                                       False)],
    "soft_margin": lambda: [(_f(N, C), True), (_sign(N, C), False)],
    "mlsm": lambda: [(_f(N, C), True), ((R.random((N, C)) < 0.5).astype(np.float32), False)],
    "cos": lambda: [(_f(N, C), True), (_f(N, C, seed=1), True), (_sign(N), False)],
    "rank": lambda: [(_f(N), True), (_f(N, seed=1), True), (_sign(N), False)],
    "mm": lambda: [(_f(N, C), True), (_long([0, 4, 2, 2]), False)],
    "triplet": lambda: [(_f(N, C), True), (_f(N, C, seed=1), True), (_f(N, C, seed=2), True)],
}


def _weight(lib, n=C, seed=7, lo=0.2, hi=2.0):
    return lib.tensor(_f(n, lo=lo, hi=hi, seed=seed))


CASES = [
    ("L1Loss", {}, "reg"), ("L1Loss", {"reduction": "sum"}, "reg_tgt_grad"), ("L1Loss", {"reduction": "none"}, "reg"),
    ("MSELoss", {}, "reg_tgt_grad"), ("MSELoss", {"reduction": "sum"}, "reg"), ("MSELoss", {"reduction": "none"}, "reg"),
    ("SmoothL1Loss", {}, "reg"), ("SmoothL1Loss", {"beta": 0.5, "reduction": "none"}, "reg"),
    ("SmoothL1Loss", {"beta": 0.0}, "reg"),
    ("HuberLoss", {}, "reg"), ("HuberLoss", {"delta": 0.3, "reduction": "sum"}, "reg_tgt_grad"),
    ("NLLLoss", {}, "nll"), ("NLLLoss", {"weight": _weight}, "nll"), ("NLLLoss", {"reduction": "none"}, "nll"),
    ("NLLLoss", {"ignore_index": 1, "weight": _weight}, "nll_ignore"), ("NLLLoss", {"reduction": "sum"}, "nll_2d"),
    ("NLLLoss", {"weight": _weight, "reduction": "mean"}, "nll_2d"), ("NLLLoss", {}, "nll_1d_unbatched"),
    ("CrossEntropyLoss", {}, "ce"), ("CrossEntropyLoss", {"weight": _weight}, "ce"),
    ("CrossEntropyLoss", {"label_smoothing": 0.2}, "ce"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "weight": _weight, "ignore_index": 1}, "ce"),
    ("CrossEntropyLoss", {"reduction": "none"}, "ce_3d"), ("CrossEntropyLoss", {}, "ce_probs"),
    ("CrossEntropyLoss", {"weight": _weight, "label_smoothing": 0.3}, "ce_probs"),
    ("CrossEntropyLoss", {"reduction": "sum", "weight": _weight}, "ce_3d"),
    ("PoissonNLLLoss", {}, "poisson_log"), ("PoissonNLLLoss", {"full": True}, "poisson_log"),
    ("PoissonNLLLoss", {"log_input": False, "eps": 1e-4}, "poisson"),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "reduction": "none"}, "poisson"),
    ("GaussianNLLLoss", {}, "gauss"), ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, "gauss"),
    ("GaussianNLLLoss", {"reduction": "none"}, "gauss_bcast"), ("GaussianNLLLoss", {"reduction": "sum"}, "gauss"),
    ("KLDivLoss", {}, "kl"), ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"}, "kl_log"), ("KLDivLoss", {"reduction": "none"}, "kl"),
    ("BCELoss", {}, "bce"), ("BCELoss", {"weight": _weight}, "bce"), ("BCELoss", {"reduction": "none"}, "bce"),
    ("BCEWithLogitsLoss", {}, "logits"), ("BCEWithLogitsLoss", {"weight": _weight}, "logits"),
    ("BCEWithLogitsLoss", {"pos_weight": _weight}, "logits"),
    ("BCEWithLogitsLoss", {"weight": _weight, "pos_weight": lambda lib: _weight(lib, seed=3), "reduction": "sum"},
     "logits"),
    ("HingeEmbeddingLoss", {}, "hinge"), ("HingeEmbeddingLoss", {"margin": 0.5, "reduction": "none"}, "hinge"),
    ("MultiLabelMarginLoss", {}, "mlm"), ("MultiLabelMarginLoss", {"reduction": "none"}, "mlm"),
    ("SoftMarginLoss", {}, "soft_margin"), ("SoftMarginLoss", {"reduction": "sum"}, "soft_margin"),
    ("MultiLabelSoftMarginLoss", {}, "mlsm"), ("MultiLabelSoftMarginLoss", {"weight": _weight}, "mlsm"),
    ("MultiLabelSoftMarginLoss", {"reduction": "none"}, "mlsm"),
    ("CosineEmbeddingLoss", {}, "cos"), ("CosineEmbeddingLoss", {"margin": 0.2, "reduction": "none"}, "cos"),
    ("MarginRankingLoss", {}, "rank"), ("MarginRankingLoss", {"margin": 0.5, "reduction": "sum"}, "rank"),
    ("MultiMarginLoss", {}, "mm"), ("MultiMarginLoss", {"p": 2, "margin": 0.5}, "mm"),
    ("MultiMarginLoss", {"weight": _weight, "reduction": "none"}, "mm"),
    ("TripletMarginLoss", {}, "triplet"), ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, "triplet"),
    ("TripletMarginLoss", {"eps": 1e-3, "reduction": "none"}, "triplet"),
    ("TripletMarginWithDistanceLoss", {}, "triplet"),
    ("TripletMarginWithDistanceLoss", {"margin": 0.5, "swap": True, "reduction": "sum"}, "triplet"),
    ("TripletMarginWithDistanceLoss",
     {"distance_function": lambda lib: (lambda a, b: 1.0 - lib.nn.functional.cosine_similarity(a, b))}, "triplet"),
]


def _build(name, kwargs):
    """(torch module, our module): constructor arguments given as callables are built per library."""
    def make(lib):
        kw = {k: (v(lib) if callable(v) and k != "distance_function" else v) for k, v in kwargs.items()}
        if "distance_function" in kw:
            kw["distance_function"] = kwargs["distance_function"](lib)
        return getattr(lib.nn, name)(**kw)

    return make(torch), make(mc)


def _data(kind):
    ts, ms = [], []
    for a, g in DATA[kind]():
        a = np.asarray(a)
        g = g and a.dtype.kind == "f"
        ts.append(torch.tensor(a.copy(), requires_grad=g))
        ms.append(mc.tensor(a.copy(), requires_grad=g))
    return ts, ms


@pytest.mark.parametrize("name,kwargs,kind", CASES,
                         ids=[f"{n}-{','.join(sorted(k))}-{k.get('reduction', '')}-{d}" for n, k, d in CASES])
def test_matches_torch(name, kwargs, kind):
    theirs, ours = _build(name, kwargs)
    t_in, m_in = _data(kind)
    check_module(theirs, ours, t_in, m_in, train=True, check_repr=name != "TripletMarginWithDistanceLoss"
                 or "distance_function" not in kwargs)
    assert ours.reduction == theirs.reduction
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert list(ours._buffers) == list(theirs._buffers)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", [{}, {"zero_infinity": True}, {"blank": 2}])
def test_ctc_loss(kwargs, reduction):
    T, Nb, Cc, S = 12, 3, 6, 4
    lp = _log_softmax(_f(T, Nb, Cc), axis=2)
    blank = kwargs.get("blank", 0)
    tg = np.random.default_rng(4).integers(0, Cc - 1, (Nb, S))
    tg = np.where(tg >= blank, tg + 1, tg)
    il, tl = _long([12, 10, 3]), _long([4, 3, 4])  # the last is infeasible (zero_infinity matters)
    theirs = torch.nn.CTCLoss(reduction=reduction, **kwargs)
    ours = mc.nn.CTCLoss(reduction=reduction, **kwargs)
    t_in = [torch.tensor(lp, requires_grad=True), torch.tensor(tg), torch.tensor(il), torch.tensor(tl)]
    m_in = [mc.tensor(lp, requires_grad=True), mc.tensor(tg), mc.tensor(il), mc.tensor(tl)]
    if not kwargs.get("zero_infinity") and reduction != "none":
        # torch's infinite loss has NaN/inf gradients: compare values only
        with torch.no_grad():
            out_t = theirs(*[x.detach() for x in t_in])
        assert_same(ours(*[x.detach() for x in m_in]), out_t)
        return
    check_module(theirs, ours, t_in, m_in, train=True)


LCE = [({}, "ce"), ({"bias": True}, "ce"), ({"out_features": (3,)}, "k"), ({"label_smoothing": 0.1}, "ce"),
       ({"reduction": "none", "ignore_index": 2}, "ce"), ({"weight": _weight, "reduction": "sum"}, "ce"),
       ({"options": "default"}, "ce")]


@pytest.mark.parametrize("kwargs,kind", LCE, ids=[str(sorted(k)) for k, _ in LCE])
def test_linear_cross_entropy_loss(kwargs, kind):
    """The projection is a child Linear (carried over from torch); loss, input and Linear parameter gradients."""
    in_f = 6

    def make(lib):
        kw = dict(kwargs)
        if "weight" in kw:
            kw["weight"] = kw["weight"](lib)
        if kw.get("options") == "default":
            kw["options"] = lib.nn.LinearCrossEntropyOptions()
        lib.manual_seed(0)
        return lib.nn.LinearCrossEntropyLoss(in_f, C, **kw)

    theirs, ours = make(torch), make(mc)
    ours.load_state_dict({k: mc.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = _f(N, in_f)
    tg = _long([0, 4, 2, 1]) if kind == "ce" else _long(R.integers(0, C, (N, 3)))
    t_in = [torch.tensor(x, requires_grad=True), torch.tensor(tg)]
    m_in = [mc.tensor(x, requires_grad=True), mc.tensor(tg)]
    check_module(theirs, ours, t_in, m_in)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]


def test_linear_cross_entropy_options_validation():
    assert repr(mc.nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
    o_t = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method=None, acc_policy="balanced",
                                             acc_dtype=torch.float32)
    o_m = mc.nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method=None, acc_policy="balanced",
                                          acc_dtype=mc.float32)
    assert repr(o_m) == repr(o_t)
    for kw in ({"acc_policy": "fast"}, {"chunking_method": "rows"}, {"chunking_method": "aspect_ratio:0"},
               {"batch_chunk_size": 0}):
        assert_raises_same(lambda: torch.nn.LinearCrossEntropyOptions(**kw),
                           lambda: mc.nn.LinearCrossEntropyOptions(**kw))
    assert_raises_same(lambda: torch.nn.LinearCrossEntropyOptions(acc_dtype=torch.int32),
                       lambda: mc.nn.LinearCrossEntropyOptions(acc_dtype=mc.int32))


LEGACY = ["L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
          "PoissonNLLLoss", "HingeEmbeddingLoss", "SmoothL1Loss", "SoftMarginLoss", "MultiLabelMarginLoss",
          "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
          "TripletMarginLoss"]


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (False, False), (True, True),
                                                 (True, None), (None, True), (False, True)])
@pytest.mark.parametrize("name", LEGACY)
def test_legacy_size_average_reduce(name, size_average, reduce):
    """The deprecated pair maps to torch's reduction, with torch's warning (and overrides `reduction`)."""
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        t = getattr(torch.nn, name)(size_average=size_average, reduce=reduce, reduction="sum")
    with warnings.catch_warnings(record=True) as wm:
        warnings.simplefilter("always")
        m = getattr(mc.nn, name)(size_average=size_average, reduce=reduce, reduction="sum")
    assert m.reduction == t.reduction
    assert [(w.category, str(w.message)) for w in wm] == [(w.category, str(w.message)) for w in wt]


ALL = ["L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss", "BCELoss",
       "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
       "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
       "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss"]


@pytest.mark.parametrize("name", ALL)
def test_defaults_repr_and_attributes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        t, m = getattr(torch.nn, name)(), getattr(mc.nn, name)()
    assert repr(m) == repr(t)
    for k, v in vars(t).items():
        if not k.startswith("_"):
            assert getattr(m, k) == v, k
    assert list(m._buffers) == list(t._buffers)
    assert list(m.state_dict()) == list(t.state_dict())
    assert isinstance(m, mc.nn.Module)


def test_every_torch_loss_exists():
    names = [n for n in dir(torch.nn.modules.loss) if n.endswith("Loss") and not n.startswith("_")]
    missing = [n for n in names if not hasattr(mc.nn, n)]
    assert not missing


def test_nllloss2d_deprecated():
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        torch.nn.NLLLoss2d()
    with warnings.catch_warnings(record=True) as wm:
        warnings.simplefilter("always")
        m = mc.nn.NLLLoss2d()
    assert [(w.category, str(w.message)) for w in wm] == [(w.category, str(w.message)) for w in wt]
    assert isinstance(m, mc.nn.NLLLoss)


def test_constructor_errors():
    pairs = [
        (lambda: torch.nn.MultiMarginLoss(p=3), lambda: mc.nn.MultiMarginLoss(p=3)),
        (lambda: torch.nn.MultiMarginLoss(weight=torch.ones(2, 2)), lambda: mc.nn.MultiMarginLoss(weight=mc.ones(2, 2))),
        (lambda: torch.nn.TripletMarginLoss(margin=0.0), lambda: mc.nn.TripletMarginLoss(margin=0.0)),
        (lambda: torch.nn.TripletMarginWithDistanceLoss(margin=-1.0),
         lambda: mc.nn.TripletMarginWithDistanceLoss(margin=-1.0)),
        (lambda: torch.nn.HuberLoss(delta="1"), lambda: mc.nn.HuberLoss(delta="1")),
        (lambda: torch.nn.LinearCrossEntropyLoss(3, 4, weight=torch.ones(3)),
         lambda: mc.nn.LinearCrossEntropyLoss(3, 4, weight=mc.ones(3))),
        (lambda: torch.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5),
         lambda: mc.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5)),
    ]
    for ft, fm in pairs:
        assert_raises_same(ft, fm)


def test_bad_reduction_raises_at_call():
    t, m = torch.nn.MSELoss(reduction="avg"), mc.nn.MSELoss(reduction="avg")
    assert_raises_same(lambda: t(torch.zeros(2), torch.zeros(2)), lambda: m(mc.zeros(2), mc.zeros(2)))


def test_weight_buffer_moves_with_module():
    """A class-weight buffer follows .double() like any buffer, and state_dict round-trips it."""
    m = mc.nn.CrossEntropyLoss(weight=mc.ones(3))
    m.double()
    assert str(m.weight.dtype) == "torch.float64"
    m2 = mc.nn.CrossEntropyLoss(weight=mc.zeros(3, dtype=mc.float64))
    m2.load_state_dict(m.state_dict())
    assert float(m2.weight.sum()) == 3.0


@pytest.mark.parametrize("name", ["NLLLoss", "CrossEntropyLoss"])
def test_class_target_errors_match_torch(name):
    """torch's checks and their order: batch size (ValueError) before target dtype (RuntimeError); a class weight
    of another dtype than the input is a RuntimeError; messages as torch's."""
    cases = [
        ({}, (np.zeros((4, 3), np.float32), np.zeros(5, np.float32))),
        ({}, (np.zeros((4, 3), np.float32), np.zeros(4, np.float32))),
        ({"weight": np.ones(3, np.float64)}, (np.zeros((2, 3), np.float32), np.zeros(2, np.int64))),
        ({"weight": np.ones(3, np.float16)}, (np.zeros((2, 3, 2), np.float32), np.zeros((2, 2), np.int64))),
    ]
    for kw, (x, y) in cases:
        t = getattr(torch.nn, name)(**{k: torch.tensor(v) for k, v in kw.items()})
        m = getattr(mc.nn, name)(**{k: mc.tensor(v) for k, v in kw.items()})
        with pytest.raises(Exception) as et:
            t(torch.tensor(x), torch.tensor(y))
        with pytest.raises(Exception) as em:
            m(mc.tensor(x), mc.tensor(y))
        assert type(em.value) is type(et.value)
        assert str(em.value) == str(et.value)
