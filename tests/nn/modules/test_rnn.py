"""nn.RNN, LSTM, GRU and RNNCell, LSTMCell, GRUCell against torch: same constructor, torch's weights carried over;
outputs (incl. h_n/c_n and packed outputs), input, h0/c0 and every parameter's gradient, state_dict keys/order/shapes
and repr, in train (dropout 0 or 1) and eval, over num_layers/bidirectional/batch_first/bias/proj_size/packed/
unbatched variants; initial weights' distribution; constructor and forward errors; _flat_weights bookkeeping."""
import copy
import math
import pickle
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import assert_same_init, check_module, inputs, pair


def _is_torch(mod):
    return isinstance(mod, torch.nn.Module)


def _utils(mod):
    return torch.nn.utils.rnn if _is_torch(mod) else mc.nn.utils.rnn


# (class, args, kwargs); input size 4, hidden 5 unless args say otherwise
RNN_CASES = [
    ("nn.RNN", (4, 5), {}),
    ("nn.RNN", (4, 5), {"nonlinearity": "relu"}),
    ("nn.RNN", (4, 5, 2, "relu"), {"bias": False}),
    ("nn.RNN", (4, 5), {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("nn.LSTM", (4, 5), {}),
    ("nn.LSTM", (4, 5), {"num_layers": 2}),
    ("nn.LSTM", (4, 5), {"bidirectional": True, "bias": False}),
    ("nn.LSTM", (4, 5), {"proj_size": 3}),
    ("nn.LSTM", (4, 5), {"proj_size": 2, "num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("nn.LSTM", (4, 5, 3, False, True), {}),
    ("nn.GRU", (4, 5), {}),
    ("nn.GRU", (4, 5), {"num_layers": 3, "bias": False}),
    ("nn.GRU", (4, 5), {"num_layers": 2, "bidirectional": True, "batch_first": True}),
]
IDS = [f"{c[0][3:]}{c[1]}{c[2] or ''}" for c in RNN_CASES]


def _dirs(kw):
    return 2 if kw.get("bidirectional") else 1


def _layers(args, kw):
    return args[2] if len(args) > 2 else kw.get("num_layers", 1)


def _batch_first(path, args, kw):
    if path == "nn.RNN":
        return args[5] if len(args) > 5 else kw.get("batch_first", False)
    return args[4] if len(args) > 4 else kw.get("batch_first", False)


def _h_size(path, kw):
    return kw.get("proj_size") or 5


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_batched_without_hx(path, args, kwargs, train):
    theirs, ours = pair(path, *args, **kwargs)
    shape = (3, 6, 4) if _batch_first(path, args, kwargs) else (6, 3, 4)
    t_in, m_in = inputs(shape)
    check_module(theirs, ours, t_in, m_in, train=train)


@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_batched_with_hx(path, args, kwargs):
    """h0 (and c0) given: their gradients match too."""
    theirs, ours = pair(path, *args, **kwargs)
    bf = _batch_first(path, args, kwargs)
    nd = _layers(args, kwargs) * _dirs(kwargs)
    shapes = [(2, 5, 4) if bf else (5, 2, 4), (nd, 2, _h_size(path, kwargs))]
    if path == "nn.LSTM":
        shapes.append((nd, 2, 5))
        call = lambda mod, xs: mod(xs[0], (xs[1], xs[2]))  # noqa: E731
    else:
        call = lambda mod, xs: mod(xs[0], xs[1])  # noqa: E731
    t_in, m_in = inputs(*shapes, seed=3)
    check_module(theirs, ours, t_in, m_in, call=call)


@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_unbatched(path, args, kwargs, with_hx):
    theirs, ours = pair(path, *args, **kwargs)
    nd = _layers(args, kwargs) * _dirs(kwargs)
    shapes = [(6, 4)]
    if with_hx:
        shapes.append((nd, _h_size(path, kwargs)))
        if path == "nn.LSTM":
            shapes.append((nd, 5))
    t_in, m_in = inputs(*shapes, seed=4)

    def call(mod, xs):
        if not with_hx:
            return mod(xs[0])
        return mod(xs[0], (xs[1], xs[2]) if path == "nn.LSTM" else xs[1])

    check_module(theirs, ours, t_in, m_in, call=call)


@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_packed(path, args, kwargs, with_hx, enforce_sorted):
    """PackedSequence in, PackedSequence out (data, batch_sizes, sorted/unsorted indices), h_n per sequence in the
    caller's order; gradients through the packing reach the padded input and h0."""
    theirs, ours = pair(path, *args, **kwargs)
    bf = _batch_first(path, args, kwargs)
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    nd = _layers(args, kwargs) * _dirs(kwargs)
    shapes = [(4, 6, 4) if bf else (6, 4, 4)]
    if with_hx:
        shapes.append((nd, 4, _h_size(path, kwargs)))
        if path == "nn.LSTM":
            shapes.append((nd, 4, 5))
    t_in, m_in = inputs(*shapes, seed=5)

    def call(mod, xs):
        packed = _utils(mod).pack_padded_sequence(xs[0], lengths, batch_first=bf, enforce_sorted=enforce_sorted)
        if not with_hx:
            return mod(packed)
        return mod(packed, (xs[1], xs[2]) if path == "nn.LSTM" else xs[1])

    check_module(theirs, ours, t_in, m_in, call=call)
    out = call(ours, m_in)[0]
    assert type(out) is mc.nn.utils.rnn.PackedSequence


@pytest.mark.parametrize("path", ["nn.RNN", "nn.LSTM", "nn.GRU"])
def test_packed_then_padded(path):
    """pack -> module -> pad_packed_sequence: the user's usual pipeline, padded outputs compared."""
    theirs, ours = pair(path, 4, 5, num_layers=2, bidirectional=True)
    t_in, m_in = inputs((7, 3, 4), seed=6)
    lengths = [2, 7, 5]

    def call(mod, xs):
        u = _utils(mod)
        out, h = mod(u.pack_padded_sequence(xs[0], lengths, enforce_sorted=False))
        return u.pad_packed_sequence(out, padding_value=-2.0, total_length=8), h

    check_module(theirs, ours, t_in, m_in, call=call)


@pytest.mark.parametrize("path", ["nn.RNN", "nn.LSTM", "nn.GRU"])
def test_dropout_between_layers(path):
    """dropout=1 in training zeroes every layer's output but the last (deterministic, so comparable); in eval the
    dropout is off."""
    theirs, ours = pair(path, 4, 5, num_layers=3, dropout=1.0)
    for train in (True, False):
        t_in, m_in = inputs((5, 2, 4), seed=7)
        check_module(theirs, ours, t_in, m_in, train=train)
    theirs, ours = pair(path, 4, 5, num_layers=2, dropout=0.4)
    t_in, m_in = inputs((5, 2, 4), seed=8)
    check_module(theirs, ours, t_in, m_in, train=False)


def test_dropout_train_is_random_and_scaled():
    """dropout=0.5 in training: layer 2 sees a Bernoulli-masked, 1/(1-p)-scaled layer-1 output; the final output
    differs between two calls and from eval's."""
    _, ours = pair("nn.RNN", 4, 5, num_layers=2, dropout=0.5)
    x = mc.tensor(np.random.default_rng(0).standard_normal((4, 3, 4)).astype(np.float32))
    ours.train()
    a, b = ours(x)[0], ours(x)[0]
    ours.eval()
    c = ours(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_float64(path, args, kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, path[3:])(*args, **kwargs).double()
    ours = getattr(mc.nn, path[3:])(*args, **kwargs).double()
    ours.load_state_dict({k: to_mc(v) for k, v in theirs.state_dict().items()})
    shape = (2, 3, 4) if _batch_first(path, args, kwargs) else (3, 2, 4)
    t_in, m_in = inputs(shape, dtype=np.float64)
    check_module(theirs, ours, t_in, m_in, rtol=1e-12, atol=1e-12, grad_rtol=1e-10, grad_atol=1e-12)
    assert ours(m_in[0])[0].dtype == mc.float64


@pytest.mark.parametrize("path,kwargs", [
    ("nn.RNN", {}), ("nn.RNN", {"nonlinearity": "relu", "num_layers": 2}), ("nn.LSTM", {"bidirectional": True}),
    ("nn.LSTM", {"proj_size": 2, "num_layers": 2}), ("nn.GRU", {"num_layers": 2, "bias": False}),
])
def test_init_distribution(path, kwargs):
    """Every parameter uniform(-1/sqrt(hidden), 1/sqrt(hidden)), as torch."""
    cls = path[3:]
    b = 1 / math.sqrt(5)
    ref = dict(getattr(torch.nn, cls)(4, 5, **kwargs).named_parameters())
    assert_same_init(lambda lib: getattr(lib.nn, cls)(4, 5, **kwargs), draws=20, bounds={k: b for k in ref})


@pytest.mark.parametrize("path,args,kwargs", RNN_CASES, ids=IDS)
def test_structure(path, args, kwargs):
    """state_dict keys, order and shapes; repr; _flat_weights / all_weights hold the module's parameters; the
    constructor's attributes."""
    theirs, ours = pair(path, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [n for n, _ in ours.named_parameters()] == ours._flat_weights_names
    assert all(w is getattr(ours, n) for w, n in zip(ours._flat_weights, ours._flat_weights_names))
    assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]
    for attr in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert type(ours.dropout) is float
    if path == "nn.RNN":
        assert ours.nonlinearity == theirs.nonlinearity
    assert ours.flatten_parameters() is None


def test_reassigned_weight_is_used():
    """Assigning a new Parameter to weight_hh_l0 updates _flat_weights, so the forward uses it (as torch)."""
    theirs, ours = pair("nn.GRU", 4, 5)
    w = np.random.default_rng(1).standard_normal((15, 5)).astype(np.float32)
    theirs.weight_hh_l0 = torch.nn.Parameter(torch.tensor(w))
    ours.weight_hh_l0 = mc.nn.Parameter(mc.tensor(w))
    assert ours._flat_weights[1] is ours.weight_hh_l0
    t_in, m_in = inputs((3, 2, 4))
    check_module(theirs, ours, t_in, m_in)


def test_in_place_weight_update_is_seen():
    """An optimizer-style in-place update of a weight shows in the next forward."""
    theirs, ours = pair("nn.LSTM", 4, 5)
    with torch.no_grad():
        theirs.weight_ih_l0.mul_(2)
    with mc.no_grad():
        ours.weight_ih_l0.mul_(2)
    t_in, m_in = inputs((3, 2, 4))
    check_module(theirs, ours, t_in, m_in)


def test_load_state_dict_assign_and_dtype_move():
    """load_state_dict(assign=True) swaps in new Parameters and .double() replaces them: the forward follows both."""
    theirs, ours = pair("nn.LSTM", 4, 5, num_layers=2, bidirectional=True)
    torch.manual_seed(5)
    other = torch.nn.LSTM(4, 5, num_layers=2, bidirectional=True)
    theirs.load_state_dict(other.state_dict(), assign=True)
    ours.load_state_dict({k: to_mc(v) for k, v in other.state_dict().items()}, assign=True)
    t_in, m_in = inputs((3, 2, 4))
    check_module(theirs, ours, t_in, m_in)
    theirs.zero_grad()
    ours.zero_grad()
    theirs.double()
    ours.double()
    assert all(w.dtype == mc.float64 for w in ours._flat_weights)
    t_in, m_in = inputs((3, 2, 4), dtype=np.float64)
    check_module(theirs, ours, t_in, m_in, rtol=1e-12, atol=1e-12, grad_rtol=1e-10, grad_atol=1e-12)


def test_rnnbase_direct():
    """RNNBase(mode, ...) builds the same parameters as the subclass of that mode."""
    for mode in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        t, m = pair("nn.RNNBase", mode, 4, 5, 2)
        assert repr(m) == repr(t) and list(m.state_dict()) == list(t.state_dict())
    assert_raises_same(lambda: torch.nn.RNNBase("XYZ", 4, 5), lambda: mc.nn.RNNBase("XYZ", 4, 5))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_and_pickle(how):
    theirs, ours = pair("nn.LSTM", 4, 5, num_layers=2, proj_size=2)
    other = copy.deepcopy(ours) if how == "deepcopy" else pickle.loads(pickle.dumps(ours))
    assert all(w is getattr(other, n) for w, n in zip(other._flat_weights, other._flat_weights_names))
    t_in, m_in = inputs((3, 2, 4))
    check_module(theirs, other, t_in, m_in)


def test_setstate_of_old_pickle():
    """A state from an old torch pickle (all_weights holding the Parameters, no proj_size, no _flat_weights_names)
    is upgraded to the names, as torch's __setstate__ does."""
    theirs, ours = pair("nn.GRU", 4, 5, num_layers=2, bidirectional=True)
    state = dict(ours.__dict__)
    state["_all_weights"] = ours.all_weights
    for k in ("proj_size", "_flat_weights_names", "_flat_weights"):
        state.pop(k)
    old = mc.nn.GRU.__new__(mc.nn.GRU)
    old.__setstate__(state)
    assert old._flat_weights_names == theirs._flat_weights_names and old.proj_size == 0
    assert old._all_weights == theirs._all_weights
    t_in, m_in = inputs((3, 2, 4))
    check_module(theirs, old, t_in, m_in)


def test_double_backward():
    """create_graph through the recurrence: the gradient of a gradient norm matches torch."""
    theirs, ours = pair("nn.GRU", 3, 4, num_layers=2)
    t_in, m_in = inputs((4, 2, 3), seed=9)
    grads = []
    for mod, x in ((theirs, t_in[0]), (ours, m_in[0])):
        lib = torch if _is_torch(mod) else mc
        out, h = mod(x)
        (g,) = lib.autograd.grad((out * out).sum() + h.sum(), x, create_graph=True)
        (g * g).sum().backward()
        grads.append(mod.weight_hh_l1.grad)
    assert_same(grads[1], grads[0], rtol=1e-4, atol=1e-5)


def test_constructor_and_forward_errors():
    for args, kw in [((4, 5), {"proj_size": 2}), ((4, 5), {"nonlinearity": "gelu"}), ((4, 5), {"dropout": 2}),
                     ((4, 5), {"dropout": True}), ((4, 0), {}), ((0, 5), {}), ((4, 5), {"num_layers": 0}),
                     ((4.0, 5), {}), ((4, 5), {"bias": 1}), ((4, 5), {"batch_first": 1})]:
        assert_raises_same(lambda: torch.nn.RNN(*args, **kw), lambda: mc.nn.RNN(*args, **kw))
    for kw in [{"proj_size": 5}, {"proj_size": -1}]:
        assert_raises_same(lambda: torch.nn.LSTM(4, 5, **kw), lambda: mc.nn.LSTM(4, 5, **kw))
    assert_raises_same(lambda: torch.nn.GRU(4, 5, proj_size=1), lambda: mc.nn.GRU(4, 5, proj_size=1))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        mc.nn.LSTM(4, 5, dropout=0.3)
    assert any("num_layers greater than 1" in str(x.message) for x in w)

    for cls in ("RNN", "LSTM", "GRU"):
        t, m = pair("nn." + cls, 4, 5)
        (tx,), (mx,) = inputs((3, 2, 4))
        for bad in [lambda lib: lib.randn(2, 3, 4, 1), lambda lib: lib.randn(3, 2, 5),
                    lambda lib: lib.randn(3, 2, 4, dtype=lib.float64)]:
            assert_raises_same(lambda: t(bad(torch)), lambda: m(bad(mc)))
        if cls == "LSTM":
            hxs = [lambda lib: (lib.zeros(1, 3, 5), lib.zeros(1, 2, 5)),
                   lambda lib: (lib.zeros(1, 2, 5), lib.zeros(1, 2, 6)),
                   lambda lib: (lib.zeros(2, 5), lib.zeros(2, 5))]
        else:
            hxs = [lambda lib: lib.zeros(1, 3, 5), lambda lib: lib.zeros(2, 2, 5), lambda lib: lib.zeros(2, 5)]
        for hx in hxs:
            assert_raises_same(lambda: t(tx, hx(torch)), lambda: m(mx, hx(mc)))
        # an empty sequence
        assert_raises_same(lambda: t(torch.randn(0, 2, 4)), lambda: m(mc.randn(0, 2, 4)))
        # unbatched input with a batched hidden state
        bad_hx = (lambda lib: (lib.zeros(1, 2, 5), lib.zeros(1, 2, 5))) if cls == "LSTM" else \
            (lambda lib: lib.zeros(1, 2, 5))
        assert_raises_same(lambda: t(tx[:, 0], bad_hx(torch)), lambda: m(mx[:, 0], bad_hx(mc)))


# ---------------------------------------------------------------- cells

CELL_CASES = [
    ("nn.RNNCell", (4, 5), {}),
    ("nn.RNNCell", (4, 5), {"nonlinearity": "relu"}),
    ("nn.RNNCell", (4, 5, False, "relu"), {}),
    ("nn.LSTMCell", (4, 5), {}),
    ("nn.LSTMCell", (4, 5), {"bias": False}),
    ("nn.GRUCell", (4, 5), {}),
    ("nn.GRUCell", (4, 5, False), {}),
]
CELL_IDS = [f"{c[0][3:]}{c[1]}{c[2] or ''}" for c in CELL_CASES]


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("path,args,kwargs", CELL_CASES, ids=CELL_IDS)
def test_cell(path, args, kwargs, with_hx, batched):
    theirs, ours = pair(path, *args, **kwargs)
    b = (3,) if batched else ()
    shapes = [b + (4,)]
    if with_hx:
        shapes += [b + (5,)] * (2 if path == "nn.LSTMCell" else 1)
    t_in, m_in = inputs(*shapes, seed=10)

    def call(mod, xs):
        if not with_hx:
            return mod(xs[0])
        return mod(xs[0], (xs[1], xs[2]) if path == "nn.LSTMCell" else xs[1])

    for train in (True, False):
        for x in m_in + t_in:
            x.grad = None
        for mod in (theirs, ours):
            mod.zero_grad()
        check_module(theirs, ours, t_in, m_in, call=call, train=train)


@pytest.mark.parametrize("path", ["nn.RNNCell", "nn.LSTMCell", "nn.GRUCell"])
def test_cell_unrolled_matches_torch(path):
    """A hand-written loop over a cell (the usual custom-RNN pattern): 6 steps, state carried."""
    theirs, ours = pair(path, 4, 5)
    t_in, m_in = inputs((6, 2, 4), seed=11)

    def call(mod, xs):
        state, outs = None, []
        for t in range(xs[0].shape[0]):
            state = mod(xs[0][t], state)
            outs.append(state[0] if isinstance(state, tuple) else state)
        return outs

    check_module(theirs, ours, t_in, m_in, call=call)


@pytest.mark.parametrize("path", ["nn.RNNCell", "nn.LSTMCell", "nn.GRUCell"])
def test_cell_structure_and_init(path):
    cls = path[3:]
    for kw in ({}, {"bias": False}):
        theirs, ours = pair(path, 4, 5, **kw)
        assert repr(ours) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        assert (ours.bias_ih is None) == (theirs.bias_ih is None)
    names = [k for k, _ in getattr(torch.nn, cls)(4, 5).named_parameters()]
    assert_same_init(lambda lib: getattr(lib.nn, cls)(4, 5), draws=20, bounds={k: 1 / math.sqrt(5) for k in names})


def test_cell_errors():
    for cls in ("RNNCell", "LSTMCell", "GRUCell"):
        t, m = pair("nn." + cls, 4, 5)
        lstm = cls == "LSTMCell"
        cases = [
            (lambda lib: lib.randn(3, 5), None),
            (lambda lib: lib.randn(3, 4, 1), None),
            (lambda lib: lib.randn(3, 4), lambda lib: (lib.zeros(2, 5), lib.zeros(2, 5)) if lstm else lib.zeros(2, 5)),
            (lambda lib: lib.randn(3, 4), lambda lib: (lib.zeros(3, 5), lib.zeros(3, 6)) if lstm else lib.zeros(3, 6)),
            (lambda lib: lib.randn(3, 4),
             lambda lib: (lib.zeros(1, 3, 5), lib.zeros(3, 5)) if lstm else lib.zeros(1, 3, 5)),
        ]
        for x, hx in cases:
            assert_raises_same(lambda: t(x(torch), None if hx is None else hx(torch)),
                               lambda: m(x(mc), None if hx is None else hx(mc)))
    t, m = pair("nn.RNNCell", 4, 5)
    t.nonlinearity = m.nonlinearity = "gelu"
    assert_raises_same(lambda: t(torch.randn(2, 4)), lambda: m(mc.randn(2, 4)))
