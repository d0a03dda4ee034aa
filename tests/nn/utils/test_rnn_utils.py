"""nn.utils.rnn against torch: PackedSequence (namedtuple fields, constructor forms, conversions),
pack_padded_sequence (sorted/unsorted, batch_first, list or tensor lengths), pad_packed_sequence (total_length,
padding_value, batch_first, original order), pad_sequence (batch_first, padding_value, padding_side, dtypes),
pack_sequence, unpad_sequence, unpack_sequence, invert_permutation: values, dtypes, shapes, strides, the gradients
through packing and padding, and the errors torch raises."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, to_mc, torch

TU = torch.nn.utils.rnn


def MU():
    return mc.nn.utils.rnn


def _pair(shape, seed=0, dtype=np.float32):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return torch.tensor(a, requires_grad=True), mc.tensor(a, requires_grad=True)


def _assert_packed(m, t):
    assert type(m).__name__ == "PackedSequence"
    assert m._fields == t._fields
    assert_same(m.data, t.data)
    assert_same(m.batch_sizes, t.batch_sizes)
    for a, b in ((m.sorted_indices, t.sorted_indices), (m.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (b is None)
        if b is not None:
            assert_same(a, b)


def _backward_both(mo, to, tx, mx, seed=1):
    c = np.random.default_rng(seed).standard_normal(tuple(to.shape)).astype(np.float32)
    (to * torch.tensor(c)).sum().backward()
    (mo * mc.tensor(c)).sum().backward()
    assert_same(mx.grad, tx.grad)


def test_importable_as_torch_path():
    import mlx_compat.nn.utils.rnn as r

    assert r is mc.nn.utils.rnn
    for name in TU.__all__:
        assert hasattr(r, name), name


@pytest.mark.parametrize("lengths_kind", ["list", "tensor", "int32"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 3])])
def test_pack_padded_sequence(enforce_sorted, lengths, batch_first, lengths_kind):
    tx, mx = _pair((4, 5, 3) if batch_first else (5, 4, 3))

    def lens(lib):
        if lengths_kind == "list":
            return lengths
        return lib.tensor(lengths, dtype=lib.int32 if lengths_kind == "int32" else lib.int64)

    tp = TU.pack_padded_sequence(tx, lens(torch), batch_first=batch_first, enforce_sorted=enforce_sorted)
    mp = MU().pack_padded_sequence(mx, lens(mc), batch_first=batch_first, enforce_sorted=enforce_sorted)
    _assert_packed(mp, tp)
    _backward_both(mp.data, tp.data, tx, mx)


@pytest.mark.parametrize("total_length", [None, 7])
@pytest.mark.parametrize("padding_value", [0.0, -3.5])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 3])])
def test_pad_packed_sequence(enforce_sorted, lengths, batch_first, padding_value, total_length):
    tx, mx = _pair((4, 5, 2, 3) if batch_first else (5, 4, 2, 3), seed=2)
    tp = TU.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    mp = MU().pack_padded_sequence(mx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    to, tl = TU.pad_packed_sequence(tp, batch_first, padding_value, total_length)
    mo, ml = MU().pad_packed_sequence(mp, batch_first, padding_value, total_length)
    assert_same(mo, to, check_stride=enforce_sorted)
    assert_same(ml, tl)
    _backward_both(mo, to, tx, mx)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_value", [0.0, 2.5])
def test_pad_sequence(batch_first, padding_side, padding_value):
    pairs = [_pair((n, 2, 3), seed=n) for n in (3, 5, 1, 5)]
    to = TU.pad_sequence([p[0] for p in pairs], batch_first, padding_value, padding_side)
    mo = MU().pad_sequence([p[1] for p in pairs], batch_first, padding_value, padding_side)
    assert_same(mo, to, check_stride=True)
    c = np.random.default_rng(0).standard_normal(tuple(to.shape)).astype(np.float32)
    (to * torch.tensor(c)).sum().backward()
    (mo * mc.tensor(c)).sum().backward()
    for t, m in pairs:
        assert_same(m.grad, t.grad)


def test_pad_sequence_dtypes_and_tensor_input():
    # integer sequences keep their dtype; a float padding value is cast to it like torch does
    ts = [torch.tensor([1, 2, 3]), torch.tensor([4])]
    assert_same(MU().pad_sequence([to_mc(t) for t in ts], padding_value=7), TU.pad_sequence(ts, padding_value=7))
    # mixed dtypes: the first sequence's dtype wins
    ts = [torch.ones(2, 3), torch.ones(3, 3, dtype=torch.float64)]
    assert_same(MU().pad_sequence([to_mc(t) for t in ts]), TU.pad_sequence(ts))
    # a tensor is iterated along its first dimension
    t = torch.randn(3, 4, 2)
    assert_same(MU().pad_sequence(to_mc(t), batch_first=True), TU.pad_sequence(t, batch_first=True))
    # a generator works too
    assert_same(MU().pad_sequence(to_mc(x) for x in t), TU.pad_sequence(x for x in t))


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack(enforce_sorted):
    ns = (4, 3, 1) if enforce_sorted else (2, 4, 1, 3)
    pairs = [_pair((n, 3), seed=n + 10) for n in ns]
    tp = TU.pack_sequence([p[0] for p in pairs], enforce_sorted=enforce_sorted)
    mp = MU().pack_sequence([p[1] for p in pairs], enforce_sorted=enforce_sorted)
    _assert_packed(mp, tp)
    tu, mu = TU.unpack_sequence(tp), MU().unpack_sequence(mp)
    assert len(tu) == len(mu)
    for m, t in zip(mu, tu):
        assert_same(m, t)
    c = np.random.default_rng(3).standard_normal(tuple(tp.data.shape)).astype(np.float32)
    (tp.data * torch.tensor(c)).sum().backward()
    (mp.data * mc.tensor(c)).sum().backward()
    for t, m in pairs:
        assert_same(m.grad, t.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first):
    t = torch.randn(4, 3, 2) if not batch_first else torch.randn(3, 4, 2)
    m = to_mc(t)
    lengths = torch.tensor([4, 1, 3])
    tu = TU.unpad_sequence(t, lengths, batch_first=batch_first)
    mu = MU().unpad_sequence(m, to_mc(lengths), batch_first=batch_first)
    for a, b in zip(mu, tu):
        assert_same(a, b)
    # torch transposes a time-major input in place; so do we
    assert_same(m, t, check_stride=True)


def test_packed_sequence_class():
    t = TU.pack_sequence([torch.randn(3, 2), torch.randn(1, 2), torch.randn(2, 2)], enforce_sorted=False)
    m = MU().pack_sequence([to_mc(x) for x in TU.unpack_sequence(t)], enforce_sorted=False)
    cls = MU().PackedSequence
    assert isinstance(m, tuple) and m._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    data, batch_sizes, sorted_indices, unsorted_indices = m
    assert m[0] is data and m.batch_sizes is batch_sizes
    # built from (data, batch_sizes) as a pair; unsorted_indices derived from sorted_indices
    built = cls((m.data, m.batch_sizes), sorted_indices=m.sorted_indices)
    _assert_packed(built, TU.PackedSequence((t.data, t.batch_sizes), sorted_indices=t.sorted_indices))
    built = cls(m.data, m.batch_sizes)
    assert built.sorted_indices is None and built.unsorted_indices is None
    # conversions
    d = m.double()
    assert type(d) is cls and d.data.dtype == mc.float64 and d.batch_sizes is m.batch_sizes
    assert m.float() is m and m.to(mc.float32) is m and m.to("cpu") is m
    assert m.cpu().data.dtype == mc.float32
    assert m.long().data.dtype == mc.int64 and m.half().data.dtype == mc.float16
    assert m.is_cuda is False
    assert_raises_same(lambda: TU.PackedSequence(t.data), lambda: cls(m.data))
    assert_same(MU().invert_permutation(mc.tensor([2, 0, 3, 1])), TU.invert_permutation(torch.tensor([2, 0, 3, 1])))
    assert MU().invert_permutation(None) is None


def test_errors():
    x = torch.randn(4, 3, 2)
    m = to_mc(x)
    for lengths in ([2, 3, 1], [3, 0, 0], [3, 2], torch.tensor([[3, 2, 1]])):
        ml = to_mc(lengths) if isinstance(lengths, torch.Tensor) else lengths
        assert_raises_same(lambda: TU.pack_padded_sequence(x, lengths), lambda: MU().pack_padded_sequence(m, ml))
    p_t, p_m = TU.pack_padded_sequence(x, [3, 2, 1]), MU().pack_padded_sequence(m, [3, 2, 1])
    assert_raises_same(lambda: TU.pad_packed_sequence(p_t, total_length=2),
                       lambda: MU().pad_packed_sequence(p_m, total_length=2))
    assert_raises_same(lambda: TU.pad_sequence([]), lambda: MU().pad_sequence([]))
    assert_raises_same(lambda: TU.pad_sequence([torch.ones(2, 3), torch.ones(3, 2)]),
                       lambda: MU().pad_sequence([mc.ones(2, 3), mc.ones(3, 2)]))
    assert_raises_same(lambda: TU.pad_sequence([torch.ones(2, 3)], padding_side="mid"),
                       lambda: MU().pad_sequence([mc.ones(2, 3)], padding_side="mid"))
    assert_raises_same(lambda: TU.pad_sequence(3), lambda: MU().pad_sequence(3))
