"""Random number state: manual_seed/initial_seed and torch.Generator over MLX's counter-based RNG.

The streams differ from torch's (MLX uses threefry keys, torch a Mersenne twister / Philox), so
seeded results are reproducible within mlx_compat, not equal to torch's numbers.

Threads (Note [Threads] in csrc/threads.c): as torch's, a generator (the default one included) is one
state shared by every thread; each draw splits its key under the generator's lock, so concurrent draws
each get a distinct subkey (the same subkeys, in some order, as the same draws made one after another),
and the key arrays live on the process-wide stream, so a draw in one thread never breaks another's.
"""
from __future__ import annotations

import threading
import time

import mlx.core as mx

from .. import _C


class Generator:
    """torch.Generator: an explicit RNG state (an MLX key that is split at every draw)."""

    def __init__(self, device="cpu"):
        from .._device import device as _dev

        self.device = _dev(device)
        self._lock = threading.Lock()
        _C._pin_thread()  # the key array must live on the shared stream (Note [Threads])
        self._seed = int(time.time_ns()) & ((1 << 63) - 1)
        self._key = mx.random.key(self._seed & 0xFFFFFFFF)

    def manual_seed(self, seed):
        seed = int(seed)
        _C._pin_thread()
        key = mx.random.key(seed & 0xFFFFFFFFFFFFFFFF)
        with self._lock:
            self._seed = seed
            self._key = key
        return self

    def seed(self):
        self.manual_seed(int(time.time_ns()) & ((1 << 63) - 1))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The key as a uint8 tensor (its bytes), as torch's states are ByteTensors."""
        import numpy as np

        from .creation import from_numpy

        with self._lock:
            key = self._key
        _C._eval(key)
        return from_numpy(np.asarray(key).astype(np.uint32).view(np.uint8).copy())

    def set_state(self, state):
        import numpy as np

        _C._pin_thread()
        key = mx.array(np.asarray(state.numpy()).astype(np.uint8).view(np.uint32))
        with self._lock:
            self._key = key
        return self

    def __getstate__(self):  # copy/pickle: the state without its lock
        d = self.__dict__.copy()
        del d["_lock"]
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._lock = threading.Lock()

    def _next_key(self):
        with self._lock:  # one split per draw, whichever threads draw at once
            self._key, sub = mx.random.split(self._key)
        return sub


default_generator = Generator()
default_generator.manual_seed(default_generator.initial_seed())


def manual_seed(seed):
    """Seed the global RNG; returns the default generator, as torch does."""
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}") from None
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise RuntimeError(f"Overflow when unpacking long")
    return default_generator.manual_seed(seed & 0xFFFFFFFFFFFFFFFF)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def key_for(generator):
    """The MLX key argument for a draw: None (global state) or a fresh subkey of `generator`."""
    if generator is None:
        generator = default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a torch.Generator, not {type(generator).__name__}")
    return generator._next_key()



def get_rng_state():
    """The global RNG state: the default generator's key, as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)
