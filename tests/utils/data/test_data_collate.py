"""default_collate / default_convert against torch.utils.data's on the same samples: values, dtypes, container
types and the errors."""
import collections

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.utils import data as md
from torch.utils import data as td

Point = collections.namedtuple("Point", "x y")


def _norm(x):
    """A comparable form: tensors as (dtype name, shape, values); containers keep their type name."""
    if isinstance(x, (torch.Tensor, mc.Tensor)):
        return ("T", str(x.dtype).replace("torch.", ""), tuple(x.shape), x.tolist())
    if isinstance(x, np.ndarray):
        return ("N", x.dtype.str, x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _norm(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_norm(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_norm(v) for v in x])
    return (type(x).__name__, x)


def _samples(lib):
    return [
        [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
        [lib.tensor(3, dtype=lib.int16), lib.tensor(4, dtype=lib.int16)],
        [np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)],
        [np.float32(1.5), np.float32(2.5)],
        [np.int64(3), np.int64(4)],
        [np.bool_(True), np.bool_(False)],
        [1.5, 2.5],
        [1, 2],
        [True, False],
        ["a", "b"],
        [b"a", b"b"],
        [np.str_("u"), np.str_("v")],
        [{"x": 1, "y": "s"}, {"x": 2, "y": "t"}],
        [collections.OrderedDict(a=lib.ones(2)), collections.OrderedDict(a=lib.zeros(2))],
        [Point(1, 2.0), Point(3, 4.0)],
        [(1, "a", np.zeros(2)), (2, "b", np.ones(2))],
        [[1, 2], [3, 4]],
        [{"img": lib.ones(2, 2), "label": 3, "meta": (0.5, "m")}] * 3,
    ]


@pytest.mark.parametrize("i", range(18))
def test_default_collate_as_torch(i):
    ref = td.default_collate(_samples(torch)[i])
    ours = md.default_collate(_samples(mc)[i])
    assert _norm(ours) == _norm(ref)


@pytest.mark.parametrize("i", range(18))
def test_default_convert_as_torch(i):
    for sample in _samples(torch)[i][:1]:
        ref = td.default_convert(sample)
    for sample in _samples(mc)[i][:1]:
        ours = md.default_convert(sample)
    assert _norm(ours) == _norm(ref)


def test_default_convert_numpy_and_strings():
    for data in (np.arange(4.0), np.array(["a", "b"]), np.array([object(), 1], dtype=object)[:1], 3, "s"):
        ref, ours = td.default_convert(data), md.default_convert(data)
        if isinstance(ref, torch.Tensor):
            assert _norm(ours) == _norm(ref)
        else:
            assert type(ours) is type(ref)


@pytest.mark.parametrize("batch", [
    [np.array(["a"]), np.array(["b"])],   # numpy strings
    [object(), object()],                 # unknown type
    [[1, 2], [3]],                        # ragged sequences
    [None, None],
])
def test_default_collate_errors_as_torch(batch):
    with pytest.raises(Exception) as ref:
        td.default_collate(batch)
    with pytest.raises(type(ref.value)) as ours:
        md.default_collate(batch)
    msg = str(ref.value).replace("torch.", "")
    assert str(ours.value).replace("mlx_compat.", "") == msg or "found" not in msg


def test_default_collate_tensor_size_mismatch():
    with pytest.raises(RuntimeError) as ref:
        td.default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError) as ours:
        md.default_collate([mc.zeros(2), mc.zeros(3)])
    assert str(ours.value) == str(ref.value)


def test_rows_of_one_tensor_collate_as_stack():
    """Note [Collating rows of one tensor]: the one-gather path gives torch.stack's values for every layout."""
    base_np = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)
    ours = mc.tensor(base_np)
    ref = torch.tensor(base_np)
    for pick in ([4, 0, 2], [1, 1], [3]):
        cases = [
            ([ours[i] for i in pick], [ref[i] for i in pick]),                      # rows of an owner
            ([ours[1:][i - 1] for i in pick if i], [ref[1:][i - 1] for i in pick if i]),  # rows of a view
            ([ours.transpose(1, 2)[i] for i in pick], [ref.transpose(1, 2)[i] for i in pick]),  # non-contiguous
            ([ours[i, 1] for i in pick], [ref[i, 1] for i in pick]),
        ]
        for o, r in cases:
            if not o:
                continue
            got, want = md.default_collate(o), td.default_collate(r)
            assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    ours[2] += 100  # later writes to the base are seen by later batches (the gather reads the current storage)
    np.testing.assert_array_equal(md.default_collate([ours[2]]).numpy()[0], base_np[2] + 100)
    mixed = md.default_collate([ours[0], mc.tensor(base_np)[1]])  # two storages: stacked as usual
    np.testing.assert_array_equal(mixed.numpy(), base_np[:2] + np.array([0, 0])[:, None, None])


def test_rows_needing_grad_keep_the_graph():
    w = mc.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    rows = w * 2
    batch = md.default_collate([rows[0], rows[2]])
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2], [0, 0], [2, 2]])
