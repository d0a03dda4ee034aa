"""Samplers against torch.utils.data's: deterministic orders, lengths and errors equal to torch's; random orders
reproducible from a seed (the streams differ from torch's by design) and statistically right."""
import math

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.utils import data as md
from torch.utils import data as td


def test_sequential_and_batch_sampler_as_torch():
    for n in (0, 1, 7, 10):
        for bs in (1, 3, 5):
            for drop in (False, True):
                ref = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop)
                ours = md.BatchSampler(md.SequentialSampler(range(n)), bs, drop)
                assert list(ours) == list(ref)
                assert len(ours) == len(ref)


@pytest.mark.parametrize("args", [(0, False), (-1, False), (True, False), (2, 1), (2, None), (2.0, False)])
def test_batch_sampler_errors_as_torch(args):
    with pytest.raises(ValueError) as ref:
        td.BatchSampler(range(3), *args)
    with pytest.raises(ValueError) as ours:
        md.BatchSampler(range(3), *args)
    assert str(ours.value) == str(ref.value)


def test_random_sampler_is_a_seeded_permutation():
    a = list(md.RandomSampler(range(100), generator=mc.Generator().manual_seed(1)))
    b = list(md.RandomSampler(range(100), generator=mc.Generator().manual_seed(1)))
    c = list(md.RandomSampler(range(100), generator=mc.Generator().manual_seed(2)))
    assert a == b != c and sorted(a) == list(range(100))
    mc.manual_seed(0)
    d = list(md.RandomSampler(range(30)))
    mc.manual_seed(0)
    assert list(md.RandomSampler(range(30))) == d
    # one generator, two epochs: two different orders (the generator advances)
    s = md.RandomSampler(range(30), generator=mc.Generator().manual_seed(1))
    assert list(s) != list(s)


def test_random_sampler_num_samples_and_replacement():
    s = md.RandomSampler(range(10), num_samples=25, generator=mc.Generator().manual_seed(0))
    out = list(s)
    assert len(out) == len(s) == 25
    assert sorted(out[:10]) == sorted(out[10:20]) == list(range(10)) and len(set(out[20:])) == 5
    r = list(md.RandomSampler(range(5), replacement=True, num_samples=50000, generator=mc.Generator().manual_seed(0)))
    counts = np.bincount(r, minlength=5)
    assert len(r) == 50000 and counts.min() > 9500 and counts.max() < 10500  # 5 sigma is ~450
    assert len(list(md.RandomSampler(range(5), replacement=True, num_samples=33))) == 33


@pytest.mark.parametrize("kw,exc", [({"replacement": 1}, TypeError), ({"num_samples": 0}, ValueError),
                                    ({"num_samples": 2.5}, ValueError)])
def test_random_sampler_errors_as_torch(kw, exc):
    with pytest.raises(exc) as ref:
        td.RandomSampler(range(3), **kw)
    with pytest.raises(exc) as ours:
        md.RandomSampler(range(3), **kw)
    assert str(ours.value) == str(ref.value)


def test_subset_random_sampler():
    idx = [3, 9, 27, 81]
    a = list(md.SubsetRandomSampler(idx, generator=mc.Generator().manual_seed(4)))
    assert sorted(a) == sorted(idx) and len(md.SubsetRandomSampler(idx)) == 4
    assert a == list(md.SubsetRandomSampler(idx, generator=mc.Generator().manual_seed(4)))


def test_weighted_random_sampler_statistics_and_errors():
    w = [0.1, 0.0, 0.6, 0.3]
    out = list(md.WeightedRandomSampler(w, 40000, generator=mc.Generator().manual_seed(0)))
    freq = np.bincount(out, minlength=4) / 40000
    assert freq[1] == 0 and np.allclose(freq, w, atol=0.015)
    no_rep = list(md.WeightedRandomSampler([1, 1, 1, 5], 4, replacement=False,
                                           generator=mc.Generator().manual_seed(0)))
    assert sorted(no_rep) == [0, 1, 2, 3]
    assert list(md.WeightedRandomSampler(w, 9, generator=mc.Generator().manual_seed(2))) == \
        list(md.WeightedRandomSampler(w, 9, generator=mc.Generator().manual_seed(2)))
    for args in (([[1.0, 2.0]], 2), ([1.0], 0), ([1.0], 1, 1)):
        with pytest.raises(ValueError) as ref:
            td.WeightedRandomSampler(*args)
        with pytest.raises(ValueError) as ours:
            md.WeightedRandomSampler(*args)
        assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("n,replicas,drop", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                             (11, 4, True)])
def test_distributed_sampler_unshuffled_as_torch(n, replicas, drop):
    for rank in range(replicas):
        ref = td.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        ours = md.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        assert list(ours) == list(ref) and len(ours) == len(ref)


def test_distributed_sampler_shuffled_partition_and_epochs():
    n, replicas = 23, 4
    shards = [md.DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=7) for r in range(replicas)]
    got = [list(s) for s in shards]
    assert all(len(g) == math.ceil(n / replicas) for g in got)
    flat = [i for g in got for i in g]
    assert set(flat) == set(range(n)) and len(flat) == 24  # every index, one repeated as padding
    again = [list(md.DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=7)) for r in range(replicas)]
    assert again == got
    for s in shards:
        s.set_epoch(1)
    assert [list(s) for s in shards] != got
    assert sorted(i for s in shards for i in s)[:23] != []  # still a cover after set_epoch
    assert set(i for s in shards for i in s) == set(range(n))


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        md.DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError):
        md.DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises((RuntimeError, ValueError)):  # no process group: torch raises ValueError/RuntimeError too
        md.DistributedSampler(range(5))
