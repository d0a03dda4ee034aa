"""nn.TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and Transformer
against torch: same constructor, torch's weights carried over; outputs, input and every parameter's gradient,
state_dict keys/order/shapes and repr in train (dropout 0) and eval (dropout on), over norm_first, activation
(relu/gelu by name, a function, a module), batch_first, bias, attention masks (float, bool, causal), key padding
masks, is_causal and unbatched inputs; the inference path that zeroes padded positions; init; errors."""
import warnings

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch
from modtest import assert_same_init, carry_state, check_module, inputs, lib_path, pair

D, H, FF = 8, 2, 16


def build(path, *args, activation=None, **kwargs):
    """pair() for constructors taking an activation that must come from each library."""
    if activation is None:
        return pair(path, *args, **kwargs)
    torch.manual_seed(0)
    theirs = lib_path(torch, path)(*args, activation=activation(torch), **kwargs)
    ours = lib_path(mc, path)(*args, activation=activation(mc), **kwargs)
    carry_state(theirs, ours)
    return theirs, ours


ACTIVATIONS = {
    "default": None,
    "relu": lambda lib: "relu",
    "gelu": lambda lib: "gelu",
    "F.gelu": lambda lib: lib.nn.functional.gelu,
    "GELU()": lambda lib: lib.nn.GELU(),
    "tanh-fn": lambda lib: lib.tanh,
}


def _causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def _kpm(n, s, lengths):
    m = np.zeros((n, s), bool)
    for i, length in enumerate(lengths):
        m[i, length:] = True
    return m


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "NLE"])
def test_encoder_layer(batch_first, norm_first, act, train):
    theirs, ours = build("nn.TransformerEncoderLayer", D, H, FF, 0.0 if train else 0.3,
                         activation=ACTIVATIONS[act], batch_first=batch_first, norm_first=norm_first)
    t_in, m_in = inputs((3, 5, D) if batch_first else (5, 3, D))
    check_module(theirs, ours, t_in, m_in, train=train)


MASKS = ["none", "float_causal", "bool_mask", "kpm", "both", "is_causal", "float_kpm"]


def _encoder_masks(kind, n, s):
    """(positional shapes/arrays for inputs(), kwargs builder)."""
    if kind == "none":
        return [], lambda xs: {}
    if kind == "float_causal":
        return [_causal(s)], lambda xs: {"src_mask": xs[0]}
    if kind == "bool_mask":
        m = np.zeros((s, s), bool)
        m[0, 2:] = m[3, 1] = True
        return [m], lambda xs: {"src_mask": xs[0]}
    if kind == "kpm":
        return [_kpm(n, s, [s, 2, 4])], lambda xs: {"src_key_padding_mask": xs[0]}
    if kind == "float_kpm":
        return [np.where(_kpm(n, s, [s, 3, 1]), -np.inf, 0).astype(np.float32)], \
            lambda xs: {"src_key_padding_mask": xs[0]}
    if kind == "both":
        return [np.triu(np.ones((s, s), bool), 1), _kpm(n, s, [s, 2, 4])], \
            lambda xs: {"src_mask": xs[0], "src_key_padding_mask": xs[1]}
    if kind == "is_causal":
        return [_causal(s)], lambda xs: {"src_mask": xs[0], "is_causal": True}
    raise AssertionError(kind)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "NLE"])
def test_encoder_layer_masks(batch_first, norm_first, mask):
    theirs, ours = pair("nn.TransformerEncoderLayer", D, H, FF, 0.0, batch_first=batch_first, norm_first=norm_first)
    n, s = 3, 5
    extra, kw = _encoder_masks(mask, n, s)
    t_in, m_in = inputs((n, s, D) if batch_first else (s, n, D), *extra)
    for train in (True, False):
        check_module(theirs, ours, t_in, m_in, train=train, call=lambda mod, xs: mod(xs[0], **kw(xs[1:])))


@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_unbatched_and_options(bias):
    theirs, ours = pair("nn.TransformerEncoderLayer", D, H, dim_feedforward=12, dropout=0.0, layer_norm_eps=1e-3,
                        bias=bias)
    t_in, m_in = inputs((5, D), _causal(5))
    check_module(theirs, ours, t_in, m_in, call=lambda mod, xs: mod(xs[0], src_mask=xs[1]))


DEC_MASKS = ["none", "tgt_causal", "all", "tgt_is_causal"]


def _decoder_call(kind, t, s, n):
    """(extra input arrays, kwargs from those inputs)."""
    if kind == "none":
        return [], lambda xs: {}
    if kind == "tgt_causal":
        return [_causal(t)], lambda xs: {"tgt_mask": xs[0]}
    if kind == "tgt_is_causal":
        return [_causal(t)], lambda xs: {"tgt_mask": xs[0], "tgt_is_causal": True}
    if kind == "all":
        mm = np.zeros((t, s), bool)
        mm[1, :2] = True
        return [np.triu(np.ones((t, t), bool), 1), mm, _kpm(n, t, [t, 2, 3]), _kpm(n, s, [s, s, 3])], \
            lambda xs: {"tgt_mask": xs[0], "memory_mask": xs[1], "tgt_key_padding_mask": xs[2],
                        "memory_key_padding_mask": xs[3]}
    raise AssertionError(kind)


@pytest.mark.parametrize("mask", DEC_MASKS)
@pytest.mark.parametrize("act", ["default", "gelu", "GELU()"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "NLE"])
def test_decoder_layer(batch_first, norm_first, act, mask):
    theirs, ours = build("nn.TransformerDecoderLayer", D, H, FF, 0.0, activation=ACTIVATIONS[act],
                         batch_first=batch_first, norm_first=norm_first)
    n, t, s = 3, 4, 6
    extra, kw = _decoder_call(mask, t, s, n)
    shp = (lambda L: (n, L, D)) if batch_first else (lambda L: (L, n, D))
    t_in, m_in = inputs(shp(t), shp(s), *extra)
    for train in (True, False):
        check_module(theirs, ours, t_in, m_in, train=train, call=lambda mod, xs: mod(xs[0], xs[1], **kw(xs[2:])))


def test_decoder_layer_eval_dropout():
    theirs, ours = pair("nn.TransformerDecoderLayer", D, H, FF, 0.5)
    t_in, m_in = inputs((4, 2, D), (5, 2, D))
    check_module(theirs, ours, t_in, m_in, train=False)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "NLE"])
def test_encoder_stack(batch_first, mask):
    """TransformerEncoder: deep-copied layers (layers.0..N-1), final norm, masks handed to every layer."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mk = lambda lib: lib.nn.TransformerEncoder(  # noqa: E731
            lib.nn.TransformerEncoderLayer(D, H, FF, 0.0, batch_first=batch_first), 2, lib.nn.LayerNorm(D))
        theirs = mk(torch)
        ours = mk(mc)
    carry_state(theirs, ours)
    n, s = 3, 5
    extra, kw = _encoder_masks(mask, n, s)
    kw2 = (lambda xs: {("mask" if k == "src_mask" else k): v for k, v in kw(xs).items()})
    t_in, m_in = inputs((n, s, D) if batch_first else (s, n, D), *extra)
    for train in (True, False):
        check_module(theirs, ours, t_in, m_in, train=train, call=lambda mod, xs: mod(xs[0], **kw2(xs[1:])))


def test_encoder_nested_inference_zeroes_padding():
    """In eval under no_grad with a left-aligned key padding mask, torch's encoder runs on nested tensors and its
    outputs at padded positions are zeros before the final norm; ours gives the same values."""
    torch.manual_seed(0)
    mk = lambda lib: lib.nn.TransformerEncoder(  # noqa: E731
        lib.nn.TransformerEncoderLayer(D, H, FF, 0.1, batch_first=True), 2, lib.nn.LayerNorm(D))
    theirs, ours = mk(torch), mk(mc)
    carry_state(theirs, ours)
    theirs.eval()
    ours.eval()
    kpm = _kpm(3, 5, [5, 2, 4])
    x = np.random.default_rng(0).standard_normal((3, 5, D)).astype(np.float32)
    with torch.no_grad():
        t = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    with mc.no_grad():
        m = ours(mc.tensor(x), src_key_padding_mask=mc.tensor(kpm))
    assert_same(m, t)
    # the padded rows are the final norm of zeros (its bias) in both
    assert_same(m[1, 3], to_mc(theirs.norm.bias.detach()))
    # with gradients wanted, torch takes the general path: the padded rows are the layers' values, not zeros
    t2 = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    m2 = ours(mc.tensor(x), src_key_padding_mask=mc.tensor(kpm))
    assert_same(m2, t2)
    assert not np.allclose(t2[1, 3].detach().numpy(), theirs.norm.bias.detach().numpy())


def test_encoder_nested_tensor_flags_and_warning():
    cases = [dict(batch_first=True), dict(batch_first=False), dict(batch_first=True, norm_first=True),
             dict(batch_first=True, activation="tanh"), dict(batch_first=True, bias=False)]
    for kw in cases:
        for enable in (True, False):
            msgs = []
            for lib in (torch, mc):
                act = kw.get("activation")
                kw2 = dict(kw, activation=lib.tanh) if act == "tanh" else kw
                layer = lib.nn.TransformerEncoderLayer(D, 4, FF, **kw2)
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    enc = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=enable, mask_check=False)
                msgs.append(([str(x.message) for x in w], enc.use_nested_tensor, enc.enable_nested_tensor,
                             enc.mask_check, enc.num_layers))
            assert msgs[0] == msgs[1], (kw, enable)


@pytest.mark.parametrize("mask", DEC_MASKS)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_decoder_stack(norm_first, mask):
    torch.manual_seed(0)
    mk = lambda lib: lib.nn.TransformerDecoder(  # noqa: E731
        lib.nn.TransformerDecoderLayer(D, H, FF, 0.0, norm_first=norm_first), 2, lib.nn.LayerNorm(D))
    theirs, ours = mk(torch), mk(mc)
    carry_state(theirs, ours)
    n, t, s = 3, 4, 6
    extra, kw = _decoder_call(mask, t, s, n)
    t_in, m_in = inputs((t, n, D), (s, n, D), *extra)
    check_module(theirs, ours, t_in, m_in, call=lambda mod, xs: mod(xs[0], xs[1], **kw(xs[2:])))


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "NLE"])
def test_transformer(batch_first, norm_first, train):
    theirs, ours = pair("nn.Transformer", D, H, 2, 2, FF, 0.0 if train else 0.2, batch_first=batch_first,
                        norm_first=norm_first)
    n, s, t = 2, 5, 4
    shp = (lambda L: (n, L, D)) if batch_first else (lambda L: (L, n, D))
    t_in, m_in = inputs(shp(s), shp(t), _causal(t), _kpm(n, s, [s, 3]), _kpm(n, t, [t, 2]))

    def call(mod, xs):
        return mod(xs[0], xs[1], tgt_mask=xs[2], src_key_padding_mask=xs[3], tgt_key_padding_mask=xs[4],
                   memory_key_padding_mask=xs[3])

    check_module(theirs, ours, t_in, m_in, train=train, call=call)


def test_transformer_plain_and_unbatched():
    theirs, ours = pair("nn.Transformer", D, H, 1, 1, FF, 0.0, activation="gelu", bias=False)
    t_in, m_in = inputs((5, D), (3, D))
    check_module(theirs, ours, t_in, m_in)
    t_in, m_in = inputs((5, 2, D), (3, 2, D), seed=2)
    check_module(theirs, ours, t_in, m_in)


def test_transformer_custom_encoder_decoder():
    torch.manual_seed(0)

    def mk(lib):
        enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, H, FF, 0.0), 1, enable_nested_tensor=False)
        dec = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, H, FF, 0.0), 1)
        return lib.nn.Transformer(D, H, custom_encoder=enc, custom_decoder=dec)

    theirs, ours = mk(torch), mk(mc)
    carry_state(theirs, ours)
    t_in, m_in = inputs((5, 2, D), (3, 2, D))
    check_module(theirs, ours, t_in, m_in)


@pytest.mark.parametrize("sz", [1, 4])
def test_generate_square_subsequent_mask(sz):
    assert_same(mc.nn.Transformer.generate_square_subsequent_mask(sz),
                torch.nn.Transformer.generate_square_subsequent_mask(sz))
    assert_same(mc.nn.Transformer.generate_square_subsequent_mask(sz, dtype=mc.float64),
                torch.nn.Transformer.generate_square_subsequent_mask(sz, dtype=torch.float64))


def test_structure_and_repr():
    for path, args, kw in [
        ("nn.TransformerEncoderLayer", (D, H), {}),
        ("nn.TransformerEncoderLayer", (D, H, FF, 0.2, "gelu", 1e-6, True, True, False), {}),
        ("nn.TransformerDecoderLayer", (D, H), {"bias": False}),
        ("nn.Transformer", (D, H, 2, 1, FF), {}),
        ("nn.Transformer", (), {}),
    ]:
        theirs, ours = pair(path, *args, **kw)
        assert repr(ours) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        for attr in ("norm_first", "activation_relu_or_gelu", "d_model", "nhead", "batch_first"):
            if hasattr(theirs, attr):
                assert getattr(ours, attr) == getattr(theirs, attr), (path, attr)
    theirs, ours = build("nn.TransformerEncoderLayer", D, H, activation=lambda lib: lib.nn.GELU())
    assert repr(ours) == repr(theirs) and ours.activation_relu_or_gelu == 2
    assert isinstance(ours.activation, mc.nn.GELU)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF),
    lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, bias=False),
    lambda lib: lib.nn.Transformer(D, H, 1, 1, FF),
], ids=["encoder_layer", "decoder_layer", "transformer"])
def test_init_distribution(make):
    assert_same_init(make, draws=20)


def test_errors():
    t, m = pair("nn.Transformer", D, H, 1, 1, FF)
    assert_raises_same(lambda: t(torch.randn(5, 2, D), torch.randn(3, 3, D)),
                       lambda: m(mc.randn(5, 2, D), mc.randn(3, 3, D)))
    assert_raises_same(lambda: t(torch.randn(5, 2, D), torch.randn(3, 2, D + 1)),
                       lambda: m(mc.randn(5, 2, D), mc.randn(3, 2, D + 1)))
    assert_raises_same(lambda: torch.nn.TransformerEncoderLayer(D, H, activation="swish"),
                       lambda: mc.nn.TransformerEncoderLayer(D, H, activation="swish"))
    assert_raises_same(lambda: torch.nn.TransformerDecoderLayer(D, H, activation="swish"),
                       lambda: mc.nn.TransformerDecoderLayer(D, H, activation="swish"))
    t, m = pair("nn.TransformerEncoderLayer", D, H, FF)
    # integer masks are rejected
    assert_raises_same(lambda: t(torch.randn(5, 2, D), src_mask=torch.zeros(5, 5, dtype=torch.int64)),
                       lambda: m(mc.randn(5, 2, D), src_mask=mc.zeros(5, 5, dtype=mc.int64)))
    # is_causal without a mask
    assert_raises_same(lambda: t(torch.randn(5, 2, D), is_causal=True),
                       lambda: m(mc.randn(5, 2, D), is_causal=True))


def test_mismatched_mask_types_warn():
    for lib in (torch, mc):
        layer = lib.nn.TransformerEncoderLayer(D, H, FF, 0.0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            layer(lib.randn(5, 2, D), src_mask=lib.zeros(5, 5), src_key_padding_mask=lib.zeros(2, 5, dtype=lib.bool))
        assert any("Support for mismatched src_key_padding_mask and src_mask is deprecated" in str(x.message)
                   for x in w), lib
