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
