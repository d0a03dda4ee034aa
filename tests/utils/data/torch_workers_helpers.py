"""The torch side of the DataLoader worker tests: datasets for torch's own loader, module-level so that its workers,
started by spawn like ours, can import them (this module imports torch alone)."""
from torch.utils import data as td


class TorchRanged(td.IterableDataset):
    """range(0, 10), each worker yielding its contiguous share, as data_workers_helpers.Ranged(0, 10) does."""

    def __iter__(self):
        info = td.get_worker_info()
        per = -(-10 // info.num_workers)
        lo = info.id * per
        return iter(range(lo, min(lo + per, 10)))
