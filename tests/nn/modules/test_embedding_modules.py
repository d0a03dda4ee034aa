"""nn.Embedding and nn.EmbeddingBag against torch: constructor arguments (padding_idx, max_norm, norm_type,
scale_grad_by_freq, sparse; EmbeddingBag's modes, offsets, include_last_offset, per_sample_weights), outputs and
weight gradients, the weight after max_norm renormalization, state_dict and repr; from_pretrained (freeze,
sharing the given tensor); init distribution with the padding row zeroed; constructor errors."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import assert_same_init, check_module, pair


def _idx(a, dtype=np.int64):
    a = np.asarray(a, dtype=dtype)
    return [torch.tensor(a)], [mc.tensor(a)]


IDX = [[1, 2, 4, 5, 4, 3, 2, 9], [[0, 2, 0, 5], [4, 3, 3, 9]], [[[1, 1], [2, 0]], [[9, 9], [3, 0]]], 7]

EMB = [((10, 3), {}), ((10, 3), {"padding_idx": 2}), ((10, 3), {"padding_idx": -1}), ((10, 3), {"padding_idx": 0}),
       ((10, 4), {"max_norm": 1.0}), ((10, 4), {"max_norm": 0.5, "norm_type": 1.0}),
       ((10, 3), {"scale_grad_by_freq": True}), ((10, 3), {"scale_grad_by_freq": True, "padding_idx": 4}),
       ((10, 3), {"norm_type": 3.0}), ((10, 5), {"max_norm": 2.0, "padding_idx": 3, "scale_grad_by_freq": True})]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("index", range(len(IDX)))
@pytest.mark.parametrize("args,kwargs", EMB, ids=[f"{a}{k or ''}" for a, k in EMB])
def test_embedding(args, kwargs, index, train):
    """Outputs and weight gradients (max_norm also renormalizes the looked-up rows of the weight in place)."""
    theirs, ours = pair("nn.Embedding", *args, **kwargs)
    t_in, m_in = _idx(IDX[index])
    check_module(theirs, ours, t_in, m_in, train=train)


def test_embedding_int32_indices():
    theirs, ours = pair("nn.Embedding", 10, 3)
    t_in, m_in = _idx(IDX[1], np.int32)
    check_module(theirs, ours, t_in, m_in)


def test_embedding_sparse_gradient_values():
    """sparse=True: torch gives a sparse gradient; its dense values match ours."""
    theirs, ours = pair("nn.Embedding", 10, 3, sparse=True)
    assert repr(ours) == repr(theirs)
    t_in, m_in = _idx(IDX[1])
    c = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    (theirs(*t_in) * torch.tensor(c)).sum().backward()
    (ours(*m_in) * mc.tensor(c)).sum().backward()
    assert_same(ours.weight.grad, theirs.weight.grad.to_dense())


@pytest.mark.parametrize("kwargs", [{}, {"freeze": False}, {"padding_idx": 1}, {"max_norm": 1.0},
                                    {"freeze": False, "scale_grad_by_freq": True, "padding_idx": -2}])
def test_embedding_from_pretrained(kwargs):
    w = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w), **kwargs)
    m = mc.nn.Embedding.from_pretrained(mc.tensor(w), **kwargs)
    assert repr(m) == repr(t)
    assert m.weight.requires_grad == t.weight.requires_grad
    assert isinstance(m.weight, mc.nn.Parameter)
    assert_same(m.weight, t.weight)  # from_pretrained keeps the padding row as given
    t_in, m_in = _idx([[0, 1, 5], [2, 2, 3]])
    check_module(t, m, t_in, m_in)


def test_embedding_from_pretrained_shares_tensor():
    """The weight wraps the given tensor, as torch's Parameter(_weight) does: later writes to it show through."""
    w = mc.zeros(3, 2)
    m = mc.nn.Embedding.from_pretrained(w)
    w.add_(1.0)
    assert float(m.weight.sum()) == 6.0
    wt = torch.zeros(3, 2)
    t = torch.nn.Embedding.from_pretrained(wt)
    wt.add_(1.0)
    assert float(t.weight.sum()) == 6.0


def test_embedding_from_pretrained_rank():
    assert_raises_same(lambda: torch.nn.Embedding.from_pretrained(torch.zeros(3)),
                       lambda: mc.nn.Embedding.from_pretrained(mc.zeros(3)))
    assert_raises_same(lambda: torch.nn.EmbeddingBag.from_pretrained(torch.zeros(3, 2, 1)),
                       lambda: mc.nn.EmbeddingBag.from_pretrained(mc.zeros(3, 2, 1)))


@pytest.mark.parametrize("path", ["nn.Embedding", "nn.EmbeddingBag"])
@pytest.mark.parametrize("padding_idx", [10, -11])
def test_padding_idx_out_of_range(path, padding_idx):
    tc = getattr(torch.nn, path[3:])
    mcc = getattr(mc.nn, path[3:])
    assert_raises_same(lambda: tc(10, 3, padding_idx=padding_idx), lambda: mcc(10, 3, padding_idx=padding_idx))


def test_weight_shape_mismatch():
    assert_raises_same(lambda: torch.nn.Embedding(4, 3, _weight=torch.zeros(3, 3)),
                       lambda: mc.nn.Embedding(4, 3, _weight=mc.zeros(3, 3)))
    assert_raises_same(lambda: torch.nn.EmbeddingBag(4, 3, _weight=torch.zeros(4, 2)),
                       lambda: mc.nn.EmbeddingBag(4, 3, _weight=mc.zeros(4, 2)))


@pytest.mark.parametrize("path", ["nn.Embedding", "nn.EmbeddingBag"])
def test_init_distribution(path):
    """weight ~ N(0, 1); the padding row is zero and reset_parameters restores that."""
    assert_same_init(lambda lib: lib_cls(lib, path)(30, 8))
    m = lib_cls(mc, path)(30, 8, padding_idx=4)
    w = m.weight.detach().numpy()
    assert np.all(w[4] == 0) and np.all(w[np.arange(30) != 4] != 0)
    with mc.no_grad():
        m.weight.fill_(1.0)
    m.reset_parameters()
    assert np.all(m.weight.detach().numpy()[4] == 0)
    t = lib_cls(torch, path)(30, 8, padding_idx=4)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in t.named_parameters()] == ["weight"]


def lib_cls(lib, path):
    return getattr(lib.nn, path[3:])


def _bag_inputs(kind, per_sample=False):
    r = np.random.default_rng(3)
    if kind == "2d":
        idx = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 7, 7]])
        arrays = [idx, None]
    elif kind == "offsets":
        idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 8])
        arrays = [idx, np.array([0, 3, 3, 7])]  # includes an empty bag
    else:  # offsets with include_last_offset
        idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 8])
        arrays = [idx, np.array([0, 2, 5, 9])]
    if per_sample:
        arrays.append(r.standard_normal(idx.shape).astype(np.float32))
    ts, ms = [], []
    for i, a in enumerate(arrays):
        if a is None:
            ts.append(None)
            ms.append(None)
        elif a.dtype.kind == "f":
            ts.append(torch.tensor(a, requires_grad=True))
            ms.append(mc.tensor(a, requires_grad=True))
        else:
            ts.append(torch.tensor(a))
            ms.append(mc.tensor(a))
    return ts, ms


BAG = [({"mode": "mean"}, "2d"), ({"mode": "sum"}, "2d"), ({"mode": "max"}, "2d"), ({}, "offsets"),
       ({"mode": "sum"}, "offsets"), ({"mode": "max"}, "offsets"), ({"mode": "sum"}, "2d+psw"),
       ({"mode": "sum"}, "offsets+psw"), ({"include_last_offset": True}, "last"),
       ({"include_last_offset": True, "mode": "sum"}, "last+psw"), ({"padding_idx": 2}, "offsets"),
       ({"padding_idx": 4, "mode": "sum"}, "2d"), ({"padding_idx": 4, "mode": "max"}, "2d"),
       ({"max_norm": 1.0}, "2d"), ({"max_norm": 1.0, "norm_type": 1.5, "mode": "sum"}, "offsets"),
       ({"scale_grad_by_freq": True, "mode": "sum"}, "2d"), ({"scale_grad_by_freq": True}, "offsets")]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kwargs,kind", BAG, ids=[f"{k}-{i}" for k, i in BAG])
def test_embedding_bag(kwargs, kind, train):
    theirs, ours = pair("nn.EmbeddingBag", 10, 3, **kwargs)
    t_in, m_in = _bag_inputs(kind.split("+")[0], per_sample=kind.endswith("psw"))
    check_module(theirs, ours, t_in, m_in, train=train)


def test_embedding_bag_repr_variants():
    for kw in ({}, {"mode": "sum"}, {"max_norm": 2.0, "norm_type": 1.0}, {"scale_grad_by_freq": True},
               {"padding_idx": -1}, {"sparse": True, "include_last_offset": True}):
        assert repr(mc.nn.EmbeddingBag(7, 2, **kw)) == repr(torch.nn.EmbeddingBag(7, 2, **kw))


def test_embedding_bag_per_sample_weights_needs_sum():
    theirs, ours = pair("nn.EmbeddingBag", 10, 3, mode="mean")
    t_in, m_in = _bag_inputs("2d", per_sample=True)
    assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))


@pytest.mark.parametrize("kwargs", [{}, {"freeze": False, "mode": "sum"}, {"mode": "max", "padding_idx": 0},
                                    {"include_last_offset": True}])
def test_embedding_bag_from_pretrained(kwargs):
    w = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), **kwargs)
    m = mc.nn.EmbeddingBag.from_pretrained(mc.tensor(w), **kwargs)
    assert repr(m) == repr(t)
    assert m.weight.requires_grad == t.weight.requires_grad
    kind = "last" if kwargs.get("include_last_offset") else "offsets"
    t_in, m_in = _bag_inputs(kind)
    check_module(t, m, t_in, m_in)


def test_embedding_float64_weight():
    t = torch.nn.Embedding(5, 2, dtype=torch.float64)
    m = mc.nn.Embedding(5, 2, dtype=mc.float64)
    m.load_state_dict({k: to_mc(v) for k, v in t.state_dict().items()})
    t_in, m_in = _idx([0, 4, 4])
    check_module(t, m, t_in, m_in)


def test_deepcopy_and_pickle():
    import copy
    import pickle

    m = mc.nn.Embedding(6, 3, padding_idx=1, max_norm=2.0)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(clone) == repr(m) and clone.weight is not m.weight
        np.testing.assert_array_equal(clone.weight.detach().numpy(), m.weight.detach().numpy())
