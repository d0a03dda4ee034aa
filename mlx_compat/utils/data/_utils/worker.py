"""The DataLoader's worker processes: the loop each runs (fetch the batch for each index it is sent, send it
back), the per-worker seeding and `get_worker_info()`.

Note [DataLoader workers start by spawn]: MLX evaluates on stream threads of the process that first used it; a
child forked after the parent evaluated anything finds those threads gone and hangs at its first evaluation
(tests/utils/data/test_dataloader.py::test_fork_after_mlx_eval_hangs shows it). So workers are started with the
'spawn' context by default (torch's default on macOS, MLX's home platform): a fresh interpreter per worker that
imports mlx_compat and receives the dataset, collate_fn and worker_init_fn by pickling. Batches travel back by
pickle, which turns tensors into numpy arrays (Tensor.__reduce_ex__); the parent's unpickling wraps them again.

Note [Batches pickle in the worker's main thread]: MLX streams belong to the thread that made them, and
multiprocessing.Queue pickles in a feeder thread, where evaluating a tensor fails ("There is no Stream(cpu, 0) in
current thread"). So a worker pickles each batch itself (`_Pickled`) before queueing the bytes; the parent
unpickles them in the thread that iterates the DataLoader."""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from multiprocessing.reduction import ForkingPickler

from . import MP_STATUS_CHECK_INTERVAL
from .fetch import create_fetcher

_worker_info = None


class WorkerInfo:
    """What a worker knows about itself: `id`, `num_workers`, `seed` and its copy of `dataset`."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info():
    """In a DataLoader worker process, its WorkerInfo; in the main process, None."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process as its type and formatted traceback."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            raise KeyError(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class _Pickled:
    """A batch pickled in the worker's main thread (Note [Batches pickle in the worker's main thread])."""

    __slots__ = ("payload",)

    def __init__(self, data):
        self.payload = bytes(ForkingPickler.dumps(data))

    def load(self):
        return pickle.loads(self.payload)


class _IterableDatasetStopIteration:
    """A worker's reply once its copy of an iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of each new epoch: restart an iterable dataset's iterator."""


def _seed_worker(seed):
    import mlx_compat
    random.seed(seed)
    mlx_compat.manual_seed(seed)
    try:
        import numpy as np
        np.random.seed(seed % (2 ** 32))
    except ImportError:
        pass


def _worker_loop(kind_is_iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, parent_pid):
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(kind_is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        while True:
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died: nothing to serve any more
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                if init_exception is None:
                    try:
                        fetcher = create_fetcher(kind_is_iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and kind_is_iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            if not isinstance(data, (ExceptionWrapper, _IterableDatasetStopIteration)):
                try:
                    data = _Pickled(data)
                except Exception:  # the batch would not pickle: report that instead
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
