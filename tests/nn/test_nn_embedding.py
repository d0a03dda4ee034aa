"""nn.functional.embedding: lookup, padding_idx's zero gradient, max_norm's in-place renormalisation, errors."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch


@pytest.mark.parametrize("padding_idx,max_norm,norm_type", [(None, None, 2.0), (1, None, 2.0), (-1, None, 2.0),
                                                            (None, 1.0, 2.0), (0, 0.5, 1.0), (None, 2.0, 3.0)])
def test_embedding(padding_idx, max_norm, norm_type):
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32) * 2
    idx = np.array([[0, 2, 2], [4, 1, 0]])
    res = []
    for L in (torch, mc):
        wt = L.from_numpy(w.copy()).requires_grad_()
        out = L.nn.functional.embedding(L.from_numpy(idx.copy()), wt, padding_idx=padding_idx, max_norm=max_norm,
                                        norm_type=norm_type)
        g = L.autograd.grad((out * L.arange(out.numel(), dtype=L.float32).reshape(out.shape)).sum(), wt)[0]
        res.append((out, g, wt.detach()))
    for o, t in zip(res[1], res[0]):
        assert_same(o, t, rtol=1e-5, atol=1e-6)


def test_embedding_empty_indices_with_max_norm():
    for L in (torch, mc):
        out = L.nn.functional.embedding(L.zeros(0, dtype=L.int64), L.ones(3, 2), max_norm=1.0)
        assert tuple(out.shape) == (0, 2)


@pytest.mark.parametrize("call", [lambda L: L.nn.functional.embedding(L.tensor([5]), L.ones(3, 2)),
                                  lambda L: L.nn.functional.embedding(L.tensor([0.0]), L.ones(3, 2)),
                                  lambda L: L.nn.functional.embedding(L.tensor([0]), L.ones(3, 2), padding_idx=3)])
def test_embedding_errors(call):
    assert_raises_same(lambda: call(torch), lambda: call(mc))


def test_embedding_and_nll_loss_compile():
    """Their eager index checks are skipped while MLX traces (Note [No evaluation while tracing]): both run under
    mx.compile with torch's values, and still raise torch's errors eagerly."""
    import mlx.core as mx

    w = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[0, 4, 2], [1, 1, 3]])
    logits = np.random.default_rng(2).standard_normal((4, 5)).astype(np.float32)
    tgt = np.array([0, 4, -100, 2])

    def ours(w_, idx_, x_, t_):
        wrap = mc._C._wrap
        e = mc.nn.functional.embedding(wrap(idx_), wrap(w_))
        return e._mx, mc.nn.functional.nll_loss(wrap(x_), wrap(t_))._mx

    got = mx.compile(ours)(*[mx.array(a) for a in (w, idx, logits, tgt)])
    expect = (torch.nn.functional.embedding(torch.from_numpy(idx), torch.from_numpy(w)),
              torch.nn.functional.nll_loss(torch.from_numpy(logits), torch.from_numpy(tgt)))
    for g, e in zip(got, expect):
        np.testing.assert_allclose(np.array(g), e.numpy(), rtol=1e-6)
    with pytest.raises(IndexError):
        mc.nn.functional.embedding(mc.tensor([5]), mc.from_numpy(w))
    with pytest.raises(IndexError):
        mc.nn.functional.nll_loss(mc.from_numpy(logits), mc.tensor([0, 5, 1, 2]))


def test_embedding_indices_checked_per_table_size_and_when_computed():
    """The bounds check is a host read remembered per index array and table size (Note [Target bounds on the
    host]): indices found in bounds for a 5-row table still raise torch's IndexError against a 3-row one, a
    negative index raises, and indices computed lazily on the device are checked too."""
    idx = np.array([[0, 4], [2, 1]])
    for L in (torch, mc):
        ids = L.from_numpy(idx.copy())
        L.nn.functional.embedding(ids, L.ones(5, 2))
        L.nn.functional.embedding(ids, L.ones(5, 2))  # the remembered check
        with pytest.raises(IndexError, match="index out of range in self"):
            L.nn.functional.embedding(ids, L.ones(3, 2))
        with pytest.raises(IndexError, match="index out of range in self"):
            L.nn.functional.embedding(ids - 1, L.ones(5, 2))
        lazy = ids * 2  # 8 is out of a 5-row table
        with pytest.raises(IndexError, match="index out of range in self"):
            L.nn.functional.embedding(lazy, L.ones(5, 2))
        out = L.nn.functional.embedding(ids // 2, L.arange(10.0).reshape(5, 2))
        assert out.tolist() == [[[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0], [0.0, 1.0]]]


@pytest.mark.parametrize("padding_idx,scale_grad_by_freq", [(None, False), (1, True)])
def test_embedding_backward_replays_a_compiled_vjp(monkeypatch, padding_idx, scale_grad_by_freq):
    """From a shape's second backward on, the embedding's vjp is a compiled function (Note [Compiled when repeated]):
    mx.vjp is not called again, and every step's gradient is torch's, for other indices of the same shape too."""
    import mlx.core as mx

    calls = []
    real = mx.vjp
    monkeypatch.setattr(mx, "vjp", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(3)
    w = rng.standard_normal((7, 4)).astype(np.float32)
    counts = []
    for step in range(4):
        idx = rng.integers(0, 7, (3, 5))
        grads = []
        for L in (torch, mc):
            wt = L.from_numpy(w.copy()).requires_grad_()
            out = L.nn.functional.embedding(L.from_numpy(idx), wt, padding_idx=padding_idx,
                                            scale_grad_by_freq=scale_grad_by_freq)
            cot = L.from_numpy(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))
            (out * cot).sum().backward()
            grads.append((wt.grad, [type(f).__name__ for f, _ in out.grad_fn.next_functions]))
        assert_same(grads[1][0], grads[0][0], rtol=1e-6, atol=1e-6)
        assert grads[1][1] == grads[0][1] == ["AccumulateGrad"]  # the indices are no edge of the graph
        counts.append(len(calls))
    assert counts[-1] == counts[-2] == counts[-3], counts  # the third and fourth steps traced nothing
