"""Datasets and callables for the DataLoader worker tests: module-level so spawned workers can import them."""
import numpy as np

import mlx_compat as torch
from mlx_compat.utils.data import Dataset, IterableDataset, get_worker_info


class Squares(Dataset):
    """Sample i: (float tensor [i, i*i], int i); the sample also records which worker made it."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return torch.tensor([float(i), float(i * i)]), i


class WhoMadeIt(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id, "seed": -1 if info is None else info.seed,
                "draw": float(torch.rand(1).item()), "np_draw": float(np.random.rand())}


class Failing(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise ValueError("sample 4 is broken")
        return i


class Ranged(IterableDataset):
    """range(start, end), each worker yielding its contiguous share (torch's documented sharding recipe)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            lo, hi = self.start, self.end
        else:
            per = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))

    def __len__(self):
        return self.end - self.start


def record_init(worker_id):
    """worker_init_fn: leaves a mark that the dataset then reports."""
    import os
    os.environ["DATA_TEST_INIT"] = f"init-{worker_id}"


class InitMark(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        import os
        return os.environ.get("DATA_TEST_INIT", "none")


def collate_sum(batch):
    return sum(sample[1] for sample in batch)
