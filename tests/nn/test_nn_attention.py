"""scaled_dot_product_attention, multi_head_attention_forward and embedding_bag: values, gradients and error
types against torch."""
import math

import numpy as np
import pytest

from helpers import assert_same, mc, torch


def _rand(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _grads_match(fn, arrays, extra=(), rtol=1e-5, gtol=1e-4, seed=7):
    """fn(L, *tensors, *extra_converted) on both libraries: outputs and gradients of sum(out * cot)."""
    res = []
    for L in (torch, mc):
        ts = [None if a is None else L.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f") for a in arrays]
        ex = [L.from_numpy(e.copy()) if isinstance(e, np.ndarray) else e for e in extra]
        out = fn(L, *ts, *ex)
        outs = out if isinstance(out, tuple) else (out,)
        outs = [o for o in outs if o is not None]
        cots = [L.from_numpy(_rand(tuple(o.shape), seed + i)) for i, o in enumerate(outs)]
        req = [t for t in ts if t is not None and t.requires_grad]
        grads = L.autograd.grad(outs, req, cots, allow_unused=True)
        res.append((outs, grads))
    (t_outs, t_grads), (m_outs, m_grads) = res
    assert len(m_outs) == len(t_outs)
    for m, t in zip(m_outs, t_outs):
        assert_same(m, t, rtol=rtol, atol=rtol)
    for m, t in zip(m_grads, t_grads):
        if t is None:
            assert m is None or not bool((m != 0).any())
        else:
            assert_same(m, t, rtol=gtol, atol=gtol)


# ---------------------------------------------------------------- scaled_dot_product_attention

SDPA = [((2, 3, 4), (2, 5, 4), (2, 5, 6)), ((2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)),
        ((2, 2, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8)), ((3, 4), (5, 4), (5, 2)), ((2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4))]


@pytest.mark.parametrize("shapes", SDPA)
@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa(shapes, is_causal, scale):
    arrays = [_rand(s, i) for i, s in enumerate(shapes)]
    _grads_match(lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=is_causal,
                                                                                 scale=scale), arrays)


@pytest.mark.parametrize("rank", [3, 4])
def test_sdpa_masks(rank):
    lead = (2,) * (rank - 2)
    q, k, v = _rand(lead + (3, 4)), _rand(lead + (5, 4), 1), _rand(lead + (5, 4), 2)
    bool_mask = np.random.default_rng(3).random((3, 5)) > 0.4
    bool_mask[1] = False  # a fully masked row: torch gives zeros
    float_mask = _rand((3, 5), 4)
    float_mask[2] = -np.inf
    _grads_match(lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
                 [q, k, v], extra=[bool_mask])
    _grads_match(lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
                 [q, k, v, float_mask])
    # an explicit mask together with is_causal: torch's fused 4-D path applies both, its math path refuses
    both = lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m,  # noqa: E731
                                                                               is_causal=True)
    if rank == 4:
        _grads_match(both, [q, k, v], extra=[bool_mask])
    else:
        for L in (torch, mc):
            with pytest.raises(RuntimeError):
                both(L, *(L.from_numpy(a.copy()) for a in (q, k, v, bool_mask)))


def test_sdpa_gqa():
    q, k, v = _rand((2, 4, 3, 8)), _rand((2, 2, 5, 8), 1), _rand((2, 2, 5, 8), 2)
    _grads_match(lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                 [q, k, v])
    for L in (torch, mc):
        with pytest.raises(RuntimeError):
            L.nn.functional.scaled_dot_product_attention(L.zeros(1, 4, 3, 8), L.zeros(1, 3, 3, 8),
                                                         L.zeros(1, 3, 3, 8), enable_gqa=True)


def test_sdpa_no_grad_matches():
    q, k, v = _rand((2, 2, 4, 8)), _rand((2, 2, 4, 8), 1), _rand((2, 2, 4, 8), 2)
    t = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), is_causal=True)
    with mc.no_grad():
        m = mc.nn.functional.scaled_dot_product_attention(*map(mc.from_numpy, (q, k, v)), is_causal=True)
    assert_same(m, t)


def test_sdpa_float64():
    q, k, v = (np.random.default_rng(i).standard_normal((2, 3, 4)) for i in range(3))
    t = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)))
    m = mc.nn.functional.scaled_dot_product_attention(*map(mc.from_numpy, (q, k, v)))
    assert_same(m, t, rtol=1e-12, atol=1e-12)


def test_sdpa_dropout():
    q = _rand((2, 3, 4, 8))
    for L in (torch, mc):
        x = L.from_numpy(q.copy())
        out = L.nn.functional.scaled_dot_product_attention(x, x, x, dropout_p=0.5)
        assert tuple(out.shape) == (2, 3, 4, 8) and out.dtype == getattr(L, "float32")
        zero = L.nn.functional.scaled_dot_product_attention(x, x, x, dropout_p=1.0)
        assert float(zero.abs().sum()) == 0.0


def test_sdpa_errors():
    for L in (torch, mc):
        q = L.zeros(1, 2, 3, 4)
        with pytest.raises(RuntimeError):
            L.nn.functional.scaled_dot_product_attention(q, q.double(), q)
        with pytest.raises(RuntimeError):
            L.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=L.ones(3, 3, dtype=L.int64))


# ---------------------------------------------------------------- multi_head_attention_forward


def _mha_arrays(E, L_, S, bsz, separate, seed=0):
    r = np.random.default_rng(seed)
    f = lambda *s: r.standard_normal(s).astype(np.float32)  # noqa: E731
    q = f(L_, bsz, E) if bsz else f(L_, E)
    k = f(S, bsz, E) if bsz else f(S, E)
    v = f(S, bsz, E) if bsz else f(S, E)
    in_w = None if separate else f(3 * E, E)
    sep = [f(E, E), f(E, E), f(E, E)] if separate else [None, None, None]
    return [q, k, v, in_w, f(3 * E), f(E), f(E), f(E, E), f(E)] + sep


@pytest.mark.parametrize("bsz", [0, 2])
@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", [None, "2d-float", "3d-bool"])
def test_mha(bsz, separate, need_weights, average, mask):
    E, H, L_, S = 4, 2, 3, 5
    arrays = _mha_arrays(E, L_, S, bsz, separate)
    extra = []
    if mask == "2d-float":
        arrays.append(_rand((L_, S), 9))
    elif mask == "3d-bool":
        m = np.random.default_rng(5).random((max(bsz, 1) * H, L_, S)) > 0.7
        extra.append(m)

    def fn(L, q, k, v, in_w, in_b, bias_k, bias_v, out_w, out_b, qw, kw, vw, *m):
        return L.nn.functional.multi_head_attention_forward(
            q, k, v, E, H, in_w, in_b, bias_k, bias_v, False, 0.0, out_w, out_b, training=False,
            need_weights=need_weights, attn_mask=m[0] if m else None, use_separate_proj_weight=separate,
            q_proj_weight=qw, k_proj_weight=kw, v_proj_weight=vw, average_attn_weights=average)

    _grads_match(fn, arrays, extra=extra)


def test_mha_self_attention_padding_mask_zero_attn():
    E, H, L_, bsz = 4, 2, 3, 2
    r = np.random.default_rng(1)
    x = r.standard_normal((L_, bsz, E)).astype(np.float32)
    in_w, in_b = _rand((3 * E, E), 2), _rand((3 * E,), 3)
    out_w, out_b = _rand((E, E), 4), _rand((E,), 5)
    kpm = np.array([[False, False, True], [False, True, False]])

    def fn(L, x, in_w, in_b, out_w, out_b, kpm):
        return L.nn.functional.multi_head_attention_forward(
            x, x, x, E, H, in_w, in_b, None, None, True, 0.0, out_w, out_b, training=True, key_padding_mask=kpm)

    _grads_match(fn, [x, in_w, in_b, out_w, out_b], extra=[kpm])


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("zero_attn", [False, True])
def test_mha_static_kv(need_weights, zero_attn):
    """static_k / static_v given as (N*H, S, D) replace the projected key and value (Note [attention head layout]:
    the fused path views them as (N, H, S, D)); add_zero_attn appends a zero key and value after them."""
    E, H, L_, S, bsz = 4, 2, 3, 5, 2
    arrays = [_rand((L_, bsz, E), 1), _rand((S, bsz, E), 2), _rand((3 * E, E), 3), _rand((3 * E,), 4),
              _rand((E, E), 5), _rand((E,), 6), _rand((bsz * H, S, E // H), 7), _rand((bsz * H, S, E // H), 8)]

    def fn(L, q, kv, in_w, in_b, out_w, out_b, sk, sv):
        return L.nn.functional.multi_head_attention_forward(
            q, kv, kv, E, H, in_w, in_b, None, None, zero_attn, 0.0, out_w, out_b, training=False,
            need_weights=need_weights, static_k=sk, static_v=sv)

    _grads_match(fn, arrays)


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bias_kv", [False, True])
def test_mha_packed_shared_inputs(need_weights, bias, bias_kv):
    """The packed in-projection when query, key and value are one tensor (one product, split in three) and when
    only key and value are (Note [packed in-projection]); gradients reach the shared tensors through each use."""
    E, H, L_, S, bsz = 4, 2, 3, 5, 2
    arrays = [_rand((L_, bsz, E), 1), _rand((S, bsz, E), 2), _rand((3 * E, E), 3),
              _rand((3 * E,), 4) if bias else None, _rand((E, E), 5), _rand((E,), 6),
              _rand((1, 1, E), 7) if bias_kv else None, _rand((1, 1, E), 8) if bias_kv else None]

    def fn(L, x, mem, in_w, in_b, out_w, out_b, bk, bv):
        F = L.nn.functional
        common = dict(training=False, need_weights=need_weights)
        self_attn = F.multi_head_attention_forward(x, x, x, E, H, in_w, in_b, bk, bv, False, 0.0, out_w, out_b,
                                                   **common)
        cross = F.multi_head_attention_forward(x, mem, mem, E, H, in_w, in_b, bk, bv, False, 0.0, out_w, out_b,
                                               **common)
        return self_attn + cross

    _grads_match(fn, arrays)


def test_mha_errors():
    for L in (torch, mc):
        x = L.zeros(3, 2, 4)
        w, b, ow = L.zeros(12, 4), L.zeros(12), L.zeros(4, 4)
        with pytest.raises(AssertionError):
            L.nn.functional.multi_head_attention_forward(x, x, x, 5, 2, w, b, None, None, False, 0.0, ow, None)
        with pytest.raises(AssertionError):
            L.nn.functional.multi_head_attention_forward(x, x, x, 4, 3, w, b, None, None, False, 0.0, ow, None)
        with pytest.raises(RuntimeError):
            L.nn.functional.multi_head_attention_forward(x, x, x, 4, 2, w, b, None, None, False, 0.0, ow, None,
                                                         attn_mask=L.zeros(2, 2))
        with pytest.raises(RuntimeError):
            L.nn.functional.multi_head_attention_forward(x, x, x, 4, 2, w, b, None, None, False, 0.0, ow, None,
                                                         is_causal=True)


# ---------------------------------------------------------------- embedding_bag

EB = [
    dict(idx=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 3, 3, 6], mode="sum"),
    dict(idx=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 3, 3, 6], mode="mean"),
    dict(idx=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 3, 3, 6], mode="max"),
    dict(idx=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 3, 5, 8], mode="mean", include_last_offset=True),
    dict(idx=[[1, 2, 4], [5, 4, 3]], mode="sum"),
    dict(idx=[[1, 2, 4], [5, 4, 3]], mode="max"),
    dict(idx=[1, 2, 2, 5, 2, 3], offsets=[0, 2], mode="mean", padding_idx=2),
    dict(idx=[[1, 2, 2], [2, 2, 2]], mode="max", padding_idx=2),
    dict(idx=[1, 2, 2, 5, 2, 3], offsets=[0, 2], mode="sum", per_sample_weights=True),
    dict(idx=[[1, 2, 2], [2, 0, 2]], mode="sum", per_sample_weights=True, padding_idx=-8),
    dict(idx=[1, 2, 2, 5, 2, 3], offsets=[0, 2], mode="sum", scale_grad_by_freq=True),
    dict(idx=[1, 2, 2, 5, 2, 3], offsets=[0, 2], mode="mean", scale_grad_by_freq=True),
]


@pytest.mark.parametrize("case", EB, ids=[str(i) for i in range(len(EB))])
def test_embedding_bag(case):
    case = dict(case)
    idx = np.array(case.pop("idx"), dtype=np.int64)
    offsets = case.pop("offsets", None)
    psw = case.pop("per_sample_weights", None)
    weight = _rand((10, 3))
    arrays = [weight] + ([_rand(idx.shape, 1)] if psw else [])
    extra = [idx] + ([np.array(offsets, dtype=np.int64)] if offsets is not None else [])

    def fn(L, w, *rest):
        p = rest[0] if psw else None
        rest = rest[1:] if psw else rest
        off = rest[1] if len(rest) > 1 else None
        return L.nn.functional.embedding_bag(rest[0], w, off, per_sample_weights=p, **case)

    _grads_match(fn, arrays, extra=extra)


def test_embedding_bag_max_norm():
    w = _rand((6, 3), scale=3.0)
    idx = np.array([0, 2, 2, 5], dtype=np.int64)
    outs = []
    for L in (torch, mc):
        wt = L.from_numpy(w.copy())
        out = L.nn.functional.embedding_bag(L.from_numpy(idx.copy()), wt, L.tensor([0, 1]), max_norm=1.0)
        outs.append((out, wt))
    assert_same(outs[1][0], outs[0][0])
    assert_same(outs[1][1], outs[0][1])  # rows renormalised in place


def test_embedding_bag_errors():
    for L in (torch, mc):
        w = L.zeros(5, 3)
        with pytest.raises(ValueError):
            L.nn.functional.embedding_bag(L.tensor([1, 2]), w)
        with pytest.raises(ValueError):
            L.nn.functional.embedding_bag(L.tensor([[1, 2]]), w, L.tensor([0]))
        with pytest.raises(ValueError):
            L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]), mode="prod")
        with pytest.raises(NotImplementedError):
            L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]), mode="mean",
                                          per_sample_weights=L.ones(2))
        with pytest.raises(RuntimeError):
            L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([1]))
        with pytest.raises(RuntimeError):
            L.nn.functional.embedding_bag(L.tensor([1, 7]), w, L.tensor([0]))
        with pytest.raises(ValueError):
            L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]), mode="max", scale_grad_by_freq=True)


def test_embedding_bag_not_exported_top_level():
    # torch.embedding_bag has another signature (weight first, four outputs): not the functional one
    assert not hasattr(mc, "embedding_bag") or mc.embedding_bag is not mc.nn.functional.embedding_bag


def test_sdpa_batch_mismatch_error():
    for L in (torch, mc):
        with pytest.raises(RuntimeError):
            L.nn.functional.scaled_dot_product_attention(L.zeros(1, 4, 3, 8), L.zeros(1, 2, 3, 8), L.zeros(1, 2, 3, 8))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_half_and_double_dtypes(dtype):
    q, k, v = _rand((2, 2, 3, 8)), _rand((2, 2, 5, 8), 1), _rand((2, 2, 5, 8), 2)
    w = _rand((10, 4), 3)
    idx = np.array([1, 2, 4, 5, 4, 3], dtype=np.int64)
    tol = 1e-2 if dtype != "float64" else 1e-7
    outs = []
    for L in (torch, mc):
        dt = getattr(L, dtype)
        a = L.nn.functional.scaled_dot_product_attention(*(L.from_numpy(x.copy()).to(dt) for x in (q, k, v)))
        b = L.nn.functional.embedding_bag(L.from_numpy(idx.copy()), L.from_numpy(w.copy()).to(dt),
                                          L.tensor([0, 2]), mode="mean")
        outs.append((a, b))
    for m, t in zip(outs[1], outs[0]):
        assert str(m.dtype) == str(t.dtype)
        assert_same(m.float(), t.float(), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", ["plain", "causal", "masked", "bfloat16", "create_graph"])
def test_large_cpu_attention_takes_the_arithmetic_exp(case, monkeypatch):
    """_scores_exp (Note [CPU exponential]): from cpu_math.MIN_ELEMENTS scores on, the fused CPU attention's exps
    are the arithmetic one; values and gradients stay torch's."""
    from mlx_compat.nn import _attention as A

    calls = []
    real = A._cpu_exp
    monkeypatch.setattr(A, "_cpu_exp", lambda x: calls.append(x.shape) or real(x))
    q, k, v = (_rand((1, 4, 96, 32), s, 2.0) for s in (1, 2, 3))  # 4 x 96 x 96 scores
    mask = _rand((96, 96), 4) > -1.0
    dtype = "bfloat16" if case == "bfloat16" else "float32"

    def fn(L, q, k, v):
        q, k, v = (t.to(getattr(L, dtype)) for t in (q, k, v))
        if case == "causal":
            return L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).float()
        m = L.from_numpy(mask) if case == "masked" else None
        return L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m).float()

    if case == "create_graph":
        xs = [mc.from_numpy(a).requires_grad_() for a in (q, k, v)]
        gs = mc.autograd.grad(fn(mc, *xs).sum(), xs, create_graph=True)
        h = mc.autograd.grad(sum((g * g).sum() for g in gs), xs)
        ts = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
        tgs = torch.autograd.grad(fn(torch, *ts).sum(), ts, create_graph=True)
        for g, tg in zip(gs, tgs):
            assert_same(g, tg, rtol=1e-4, atol=1e-5)
        # torch's fused CPU kernel has no double backward to compare with: finite second derivatives
        assert all(np.isfinite(x.numpy()).all() for x in h)
    elif case == "bfloat16":
        _grads_match(fn, [q, k, v], rtol=2e-2, gtol=5e-2)
    else:
        _grads_match(fn, [q, k, v])
    assert calls and all(s[-2:] == (96, 96) for s in calls)


def test_decoding_step_attention_keeps_mlx_exp(monkeypatch):
    """A single query row (a decoding step, whose key length grows every step) keeps MLX's exp: per-shape graphs
    would be traced anew at every step."""
    from mlx_compat.nn import _attention as A

    calls = []
    monkeypatch.setattr(A, "_cpu_exp", lambda x: calls.append(x.shape) or x)
    q, k, v = _rand((16, 8, 1, 32), 1), _rand((16, 8, 300, 32), 2), _rand((16, 8, 300, 32), 3)  # 38,400 scores
    xs = [mc.from_numpy(a).requires_grad_() for a in (q, k, v)]
    mc.autograd.grad(mc.nn.functional.scaled_dot_product_attention(*xs).sum(), xs)
    assert not calls


def test_sdpa_kernel_sets_and_restores_the_backend_switches():
    """torch.nn.attention.sdpa_kernel: only the chosen backends enabled inside, all restored after; torch's
    refusal of a non-backend; the enum's values."""
    for L in (torch, mc):
        A = L.nn.attention
        names = ("ERROR", "MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE")
        assert [int(getattr(A.SDPBackend, n)) for n in names] == [-1, 0, 1, 2, 3, 4]
        with A.sdpa_kernel(A.SDPBackend.MATH):
            assert L.backends.cuda.math_sdp_enabled() and not L.backends.cuda.flash_sdp_enabled()
        with A.sdpa_kernel([A.SDPBackend.FLASH_ATTENTION, A.SDPBackend.EFFICIENT_ATTENTION]):
            assert not L.backends.cuda.math_sdp_enabled() and L.backends.cuda.mem_efficient_sdp_enabled()
        assert L.backends.cuda.math_sdp_enabled() and L.backends.cuda.flash_sdp_enabled()
        with pytest.raises(AssertionError):
            with A.sdpa_kernel("math"):
                pass
