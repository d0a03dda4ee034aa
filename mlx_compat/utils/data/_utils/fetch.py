"""Fetchers: the samples of one batch (or one sample without auto-batching), from a map-style dataset by index
or from an iterable dataset's iterator, passed through the collate function."""
from __future__ import annotations

from ...._tensor import Tensor
from ..dataset import TensorDataset
from .collate import default_collate


class _BaseDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Takes the next `len(index)` samples of the dataset's iterator; StopIteration once it yields none (or, with
    drop_last, fewer than a full batch)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


# Note [Batches of a TensorDataset]
# With the default collate_fn, a TensorDataset's batch is each tensor's rows at the batch's indices, stacked. The
# per-sample path indexes every tensor once per sample and collate gathers the views again: 1,143-1,246 us per
# evaluated batch of 64 Fashion-MNIST-sized rows on this CPU, against torch's 358-431 (bench/bench_data.py). The
# same batch is one indexing per tensor, `t[indices]` (274-298 us): the same values, dtype and shape, a new tensor
# each as torch.stack gives, in a list as default_collate returns for tuple samples. It is taken only where nothing
# can tell the two apart: the dataset is exactly TensorDataset and the collate_fn exactly default_collate (a
# subclass or a collate_fn of the user's sees its samples), the indices are Python ints (an index out of range
# raises the same IndexError either way), and no tensor requires grad (its graph would record an index where torch
# records a stack).
def _tensor_dataset_batch(dataset, collate_fn, indices):
    """[t[indices] for each of the dataset's tensors], or None where Note [Batches of a TensorDataset] does not
    apply."""
    if (type(dataset) is not TensorDataset or collate_fn is not default_collate or type(indices) is not list
            or not indices or not all(type(i) is int for i in indices)):
        return None
    tensors = dataset.tensors
    if not all(type(t) is Tensor and not t.requires_grad for t in tensors):
        return None
    return [t[indices] for t in tensors]


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """dataset[i] for each index (or the dataset's `__getitems__(indices)` where it has one); a TensorDataset's
    batch under default_collate as one indexing per tensor (Note [Batches of a TensorDataset])."""

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            batch = _tensor_dataset_batch(self.dataset, self.collate_fn, possibly_batched_index)
            if batch is not None:
                return batch
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems is not None and callable(getitems):
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


def create_fetcher(kind_is_iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableDatasetFetcher if kind_is_iterable else _MapDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
