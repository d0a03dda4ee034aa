"""mlx_compat.utils.data's datasets and random_split against torch.utils.data on the same inputs."""
import collections

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.utils import data as md
from torch.utils import data as td


def _both(fn):
    """The outcome (value or exception type) of fn(torch-side module, torch) and fn(our module, mc)."""
    out = []
    for mod, lib in ((td, torch), (md, mc)):
        try:
            out.append(("ok", fn(mod, lib)))
        except Exception as e:  # noqa: BLE001
            out.append(("err", type(e)))
    return out


def _plain(x):
    if hasattr(x, "tolist") and not isinstance(x, (list, tuple)):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def test_tensor_dataset_rows_and_length():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    b = np.arange(4)
    ours = md.TensorDataset(mc.tensor(a), mc.tensor(b))
    ref = td.TensorDataset(torch.tensor(a), torch.tensor(b))
    assert len(ours) == len(ref) == 4
    for i in (0, 3, -1, slice(1, 3)):
        assert _plain(ours[i]) == _plain(ref[i])
        assert ours[i][0].dtype == mc.float32 and ours[i][1].dtype == mc.int64


def test_tensor_dataset_size_mismatch():
    r = _both(lambda m, lib: m.TensorDataset(lib.zeros(3), lib.zeros(4)))
    assert r[0] == r[1] == ("err", AssertionError)


def test_concat_dataset_indexing_and_errors():
    def run(m, lib):
        d = m.ConcatDataset([m.TensorDataset(lib.arange(3)), m.TensorDataset(lib.arange(10, 15))])
        return [len(d), d.cumulative_sizes] + [_plain(d[i]) for i in (0, 2, 3, 7, -1, -8)]
    r = _both(run)
    assert r[0] == r[1] and r[0][0] == "ok"
    assert _both(lambda m, lib: m.ConcatDataset([m.TensorDataset(lib.arange(3))])[-4]) == [("err", ValueError)] * 2
    assert _both(lambda m, lib: m.ConcatDataset([])) == [("err", AssertionError)] * 2


def test_dataset_add_and_chain():
    class It(md.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chained = It(2) + It(3)
    assert isinstance(chained, md.ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    both = md.TensorDataset(mc.arange(2)) + md.TensorDataset(mc.arange(3))
    assert isinstance(both, md.ConcatDataset) and len(both) == 5
    with pytest.raises(AssertionError):
        md.ConcatDataset([It(2)])
    with pytest.raises(AssertionError):
        list(md.ChainDataset([md.TensorDataset(mc.arange(2))]))
    with pytest.raises(NotImplementedError):
        md.Dataset()[0]


def test_subset_and_stack_dataset():
    def run(m, lib):
        base = m.TensorDataset(lib.arange(10) * 2)
        s = m.Subset(base, [7, 1, 4])
        st = m.StackDataset(lib.arange(3), lib.arange(3) + 10)
        sk = m.StackDataset(a=lib.arange(3), b=[5, 6, 7])
        return (len(s), _plain(s[0]), _plain(s[2]), _plain(s.__getitems__([0, 1])), len(st), _plain(st[1]),
                _plain(sk[2]), _plain(sk.__getitems__([0, 2])))
    r = _both(run)
    assert r[0] == r[1] and r[0][0] == "ok"
    assert _both(lambda m, lib: m.StackDataset(lib.arange(3), lib.arange(4))) == [("err", ValueError)] * 2
    assert _both(lambda m, lib: m.StackDataset()) == [("err", ValueError)] * 2


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.33, 0.33, 0.34], [1, 1, 8]])
def test_random_split_lengths_as_torch(lengths):
    ref = td.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    ours = md.random_split(range(10), lengths, generator=mc.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref]
    flat = sorted(i for s in ours for i in s)
    assert flat == list(range(10))  # a partition


def test_random_split_fraction_remainder_and_errors():
    ref = td.random_split(range(7), [0.5, 0.5], generator=torch.Generator().manual_seed(0))
    ours = md.random_split(range(7), [0.5, 0.5], generator=mc.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref] == [4, 3]
    assert _both(lambda m, lib: m.random_split(range(10), [3, 3])) == [("err", ValueError)] * 2
    assert _both(lambda m, lib: m.random_split(range(10), [1.5, -0.5])) == [("err", ValueError)] * 2
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        md.random_split(range(2), [1.0, 0.0])


def test_random_split_reproducible_from_seed():
    a = md.random_split(range(50), [20, 30], generator=mc.Generator().manual_seed(5))
    b = md.random_split(range(50), [20, 30], generator=mc.Generator().manual_seed(5))
    c = md.random_split(range(50), [20, 30], generator=mc.Generator().manual_seed(6))
    assert [list(s) for s in a] == [list(s) for s in b]
    assert [list(s) for s in a] != [list(s) for s in c]
    mc.manual_seed(3)
    d = md.random_split(range(50), [20, 30])
    mc.manual_seed(3)
    e = md.random_split(range(50), [20, 30])
    assert [list(s) for s in d] == [list(s) for s in e]


def test_namedtuple_sample_kept():
    P = collections.namedtuple("P", "x y")
    d = md.Subset([P(1, 2), P(3, 4)], [1])
    assert d[0] == P(3, 4)
