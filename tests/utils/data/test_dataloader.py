"""DataLoader against torch's: batches, lengths, argument checks; seeded shuffling reproducible; worker processes
(spawned: Note [DataLoader workers start by spawn]) giving the same batches as num_workers=0, worker info, seeds,
worker_init_fn, exceptions, timeouts, persistent workers and iterable-dataset sharding."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.utils import data as md
from torch.utils import data as td

import data_workers_helpers as H
import torch_workers_helpers as TH


def _plain(x):
    if isinstance(x, (torch.Tensor, mc.Tensor)):
        return (str(x.dtype).replace("torch.", ""), x.tolist())
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _batches(loader):
    return [_plain(b) for b in loader]


@pytest.mark.parametrize("kw", [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                dict(batch_size=None), dict(batch_size=4, collate_fn=lambda b: len(b)),
                                dict(batch_size=20)])
def test_batches_and_len_as_torch(kw):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    ref = td.DataLoader(td.TensorDataset(torch.tensor(x), torch.arange(10)), **kw)
    ours = md.DataLoader(md.TensorDataset(mc.tensor(x), mc.arange(10)), **kw)
    assert _batches(ours) == _batches(ref)
    assert len(ours) == len(ref)


def _tensor_dataset_pair(lib, subclass=False, grad=False):
    x = lib.arange(40.0).reshape(20, 2)
    if grad:
        x.requires_grad_()
    data = lib.utils.data
    if not subclass:
        return data.TensorDataset(x, lib.arange(20))

    class Doubled(data.TensorDataset):
        def __getitem__(self, i):
            a, b = super().__getitem__(i)
            return a * 2, b

    return Doubled(x, lib.arange(20))


@pytest.mark.parametrize("case", ["batch_size", "batch_sampler", "one tensor", "numpy ints", "repeats and negatives",
                                  "subclass", "collate_fn", "requires_grad"])
def test_tensor_dataset_batches_as_torch(monkeypatch, case):
    """Note [Batches of a TensorDataset]: under default_collate a TensorDataset's batch is each tensor indexed once
    by the batch's indices, without a __getitem__ per sample; a subclass, the user's collate_fn, a tensor requiring
    grad or indices that are not Python ints take the per-sample path. Either way the batches are torch's (values,
    dtypes, a list of tensors), and so is a gradient's graph."""
    kw = {"batch_size": dict(batch_size=6), "batch_sampler": dict(batch_sampler=[[3, 1], [19, 0, 7]]),
          "one tensor": dict(batch_size=8), "numpy ints": dict(batch_sampler=[[np.int64(3), np.int64(1)]]),
          "repeats and negatives": dict(batch_sampler=[[2, 2, -1]]), "subclass": dict(batch_size=6),
          "collate_fn": dict(batch_size=6, collate_fn=lambda b: [len(b), b[0][1]]),
          "requires_grad": dict(batch_size=6)}[case]
    sub, grad = case == "subclass", case == "requires_grad"
    ref_ds, ours_ds = _tensor_dataset_pair(torch, sub, grad), _tensor_dataset_pair(mc, sub, grad)
    if case == "one tensor":
        ref_ds, ours_ds = td.TensorDataset(ref_ds.tensors[0]), md.TensorDataset(ours_ds.tensors[0])
    calls = []
    real = md.TensorDataset.__getitem__
    monkeypatch.setattr(md.TensorDataset, "__getitem__", lambda self, i: calls.append(i) or real(self, i))
    ref, ours = list(td.DataLoader(ref_ds, **kw)), list(md.DataLoader(ours_ds, **kw))
    assert [type(b).__name__ for b in ours] == [type(b).__name__ for b in ref]
    if grad:
        assert [b[0].grad_fn.name() for b in ours] == [b[0].grad_fn.name() for b in ref]
        ref, ours = [[t.detach() for t in b] for b in ref], [[t.detach() for t in b] for b in ours]
    assert [_plain(b) for b in ours] == [_plain(b) for b in ref]
    assert (len(calls) == 0) == (case not in ("numpy ints", "subclass", "collate_fn", "requires_grad"))


def test_tensor_dataset_index_out_of_range_as_torch():
    kw = dict(batch_sampler=[[0, 25]])
    with pytest.raises(IndexError) as ours:
        list(md.DataLoader(_tensor_dataset_pair(mc), **kw))
    with pytest.raises(IndexError) as ref:
        list(td.DataLoader(_tensor_dataset_pair(torch), **kw))
    assert str(ours.value) == str(ref.value)


def test_numpy_dataset_and_sampler_arguments_as_torch():
    data = [{"a": np.full(2, i, dtype=np.float32), "b": i, "c": f"s{i}"} for i in range(7)]
    for kw in (dict(batch_size=2), dict(sampler=[6, 0, 3], batch_size=2), dict(batch_sampler=[[1, 2], [5], [0, 6, 4]])):
        assert _batches(md.DataLoader(data, **kw)) == _batches(td.DataLoader(data, **kw))
        assert len(md.DataLoader(data, **kw)) == len(td.DataLoader(data, **kw))


def test_iterable_dataset_main_process_as_torch():
    class R(td.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    class Ours(md.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        assert _batches(md.DataLoader(Ours(), **kw)) == _batches(td.DataLoader(R(), **kw))
        assert len(md.DataLoader(Ours(), **kw)) == len(td.DataLoader(R(), **kw))


@pytest.mark.parametrize("kw", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="spawn"), dict(num_workers=1, multiprocessing_context="nonsense"),
])
def test_argument_errors_as_torch(kw):
    with pytest.raises(ValueError) as ref:
        td.DataLoader(list(range(4)), **kw)
    with pytest.raises(ValueError) as ours:
        md.DataLoader(list(range(4)), **kw)
    assert str(ours.value).split("[")[0] == str(ref.value).split("[")[0]


def test_iterable_dataset_argument_errors_and_frozen_attributes():
    class It(md.IterableDataset):
        def __iter__(self):
            return iter(())

    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
            md.DataLoader(It(), **kw)
    dl = md.DataLoader(list(range(4)))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        dl.batch_size = 3


def test_shuffle_reproducible_and_a_permutation():
    ds = md.TensorDataset(mc.arange(50))

    def epoch(loader):
        return [i for (b,) in loader for i in b.tolist()]

    a = epoch(md.DataLoader(ds, batch_size=8, shuffle=True, generator=mc.Generator().manual_seed(3)))
    b = epoch(md.DataLoader(ds, batch_size=8, shuffle=True, generator=mc.Generator().manual_seed(3)))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    loader = md.DataLoader(ds, batch_size=8, shuffle=True, generator=mc.Generator().manual_seed(3))
    assert epoch(loader) != epoch(loader)  # the generator advances between epochs
    mc.manual_seed(11)
    c = epoch(md.DataLoader(ds, batch_size=8, shuffle=True))
    mc.manual_seed(11)
    assert epoch(md.DataLoader(ds, batch_size=8, shuffle=True)) == c


def test_workers_give_the_same_batches_as_the_main_process():
    ds = H.Squares(23)
    kw = dict(batch_size=4, shuffle=True)
    main = _batches(md.DataLoader(ds, generator=mc.Generator().manual_seed(0), **kw))
    two = md.DataLoader(ds, generator=mc.Generator().manual_seed(0), num_workers=2, prefetch_factor=3, **kw)
    assert len(two) == len(main) == 6
    assert _batches(two) == main


def test_worker_info_seeds_and_init_fn():
    loader = md.DataLoader(H.WhoMadeIt(), batch_size=2, num_workers=2, generator=mc.Generator().manual_seed(1))
    batches = list(loader)
    workers = [b["worker"].tolist() for b in batches]
    assert workers == [[0, 0], [1, 1], [0, 0], [1, 1]]  # round-robin dispatch, results in order
    seeds = {w[0]: b["seed"][0].item() for w, b in zip(workers, batches)}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker id, as torch
    draws = [d for b in batches for d in b["draw"].tolist()]
    assert len(set(draws)) == 8  # each worker's stream seeded apart
    again = list(md.DataLoader(H.WhoMadeIt(), batch_size=2, num_workers=2, generator=mc.Generator().manual_seed(1)))
    assert [d for b in again for d in b["draw"].tolist()] == draws  # reproducible from the loader's generator
    assert [d for b in again for d in b["np_draw"].tolist()] == [d for b in batches for d in b["np_draw"].tolist()]
    assert md.get_worker_info() is None
    marks = [m for b in md.DataLoader(H.InitMark(), batch_size=2, num_workers=2, worker_init_fn=H.record_init)
             for m in b]
    assert marks == ["init-0", "init-0", "init-1", "init-1"]


def test_worker_exception_is_reraised_in_the_main_process():
    loader = md.DataLoader(H.Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process 0\..*sample 4 is broken"):
        list(loader)


def test_persistent_workers_serve_several_epochs():
    loader = md.DataLoader(H.Squares(9), batch_size=2, num_workers=2, persistent_workers=True,
                           collate_fn=H.collate_sum, shuffle=True, generator=mc.Generator().manual_seed(0))
    # torch's persistent iterator draws its base seed from the generator once, then only the sampler's orders
    g = mc.Generator().manual_seed(0)
    mc.empty((), dtype=mc.int64).random_(generator=g)
    sampler = md.BatchSampler(md.RandomSampler(range(9), generator=g), 2, False)
    for _ in range(3):
        assert _batches(loader) == [sum(b) for b in sampler]
    pids = [w.pid for w in loader._iterator._workers]
    list(loader)
    assert [w.pid for w in loader._iterator._workers] == pids and all(w.is_alive() for w in loader._iterator._workers)
    loader._iterator._shutdown_workers()


def test_iterable_dataset_sharded_by_worker_info_as_torch():
    # torch's workers are spawned too: a child forked from this process, which runs MLX's and BLAS's threads, can
    # wait forever on a lock some parent thread held at the fork (the suspect in a CI run that hung once here)
    ref = _batches(td.DataLoader(TH.TorchRanged(), batch_size=2, num_workers=2, multiprocessing_context="spawn"))
    ours = _batches(md.DataLoader(H.Ranged(0, 10), batch_size=2, num_workers=2))
    assert ours == ref
    assert ours[:2] == [("int64", [0, 1]), ("int64", [5, 6])]


def test_timeout_raises():
    loader = md.DataLoader(H.Squares(4), num_workers=1, timeout=0.001)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.001 seconds"):
        next(iter(loader))


def test_fork_context_warns():
    with pytest.warns(RuntimeWarning, match="fork"):
        md.DataLoader(H.Squares(4), num_workers=1, multiprocessing_context="fork")


def test_fork_after_mlx_eval_hangs():
    """Why workers are spawned: a child forked after MLX evaluated in the parent never finishes an evaluation."""
    script = textwrap.dedent("""
        import os, time, mlx.core as mx
        mx.eval(mx.arange(10) * 2)
        pid = os.fork()
        if pid == 0:
            mx.eval(mx.arange(10) * 3)
            os._exit(0)
        for _ in range(50):
            if os.waitpid(pid, os.WNOHANG)[0]:
                print("finished")
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            print("hung")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "hung", out.stdout + out.stderr


def test_unpicklable_worker_arguments_say_why():
    loader = md.DataLoader(H.Squares(4), num_workers=1, collate_fn=lambda b: b)
    with pytest.raises((AttributeError, pickle.PicklingError), match="must be picklable"):
        next(iter(loader))


@pytest.mark.parametrize("make", [
    lambda: dict(dataset=H.Squares(7), batch_size=None),                                     # no auto-batching
    lambda: dict(dataset=md.ConcatDataset([H.Squares(3), H.Squares(4)]), batch_size=3, drop_last=True),
    lambda: dict(dataset=H.Ranged(0, 11), batch_size=3, drop_last=True),                    # uneven shards
])
def test_worker_variants_match_the_main_process(make):
    main = _batches(md.DataLoader(**make()))
    kw = make()
    if isinstance(kw["dataset"], md.IterableDataset):
        # each of 3 workers yields its own share; the main process yields the whole range: compare as torch does,
        # batch by batch in round-robin order, against the shares computed by hand from worker info's recipe
        shares = [list(range(i * 4, min(i * 4 + 4, 11))) for i in range(3)]
        per_worker = [[s[j:j + 3] for j in range(0, len(s), 3) if len(s[j:j + 3]) == 3] for s in shares]
        expected = [("int64", b) for rnd in range(2) for w in per_worker if rnd < len(w) for b in [w[rnd]]]
        assert _batches(md.DataLoader(num_workers=3, **kw)) == expected
    else:
        assert _batches(md.DataLoader(num_workers=2, **kw)) == main
