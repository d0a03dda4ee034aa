"""Random number state: manual_seed/initial_seed and torch.Generator over MLX's counter-based RNG.

The streams differ from torch's (MLX uses threefry keys, torch a Mersenne twister / Philox), so
seeded results are reproducible within mlx_compat, not equal to torch's numbers.
"""
from __future__ import annotations

import time

import mlx.core as mx


class Generator:
    """torch.Generator: an explicit RNG state (an MLX key that is split at every draw)."""

    def __init__(self, device="cpu"):
        from .._device import device as _dev

        self.device = _dev(device)
        self._seed = int(time.time_ns()) & ((1 << 63) - 1)
        self._key = mx.random.key(self._seed & 0xFFFFFFFF)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._key = mx.random.key(seed & 0xFFFFFFFFFFFFFFFF)
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

        return from_numpy(np.asarray(self._key).astype(np.uint32).view(np.uint8).copy())

    def set_state(self, state):
        import numpy as np

        self._key = mx.array(np.asarray(state.numpy()).astype(np.uint8).view(np.uint32))
        return self

    def _next_key(self):
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
