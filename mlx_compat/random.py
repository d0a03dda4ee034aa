"""torch.random: the global RNG's functions and `fork_rng`. MLX has one random state for both devices, so the
default generator is the CPU's and the GPU's at once, and forking it saves and restores that one state."""
import contextlib

from ._ops.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,  # noqa: F401
                          seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Run the block on a copy of the RNG state: the state is as before it afterwards (`enabled=False`: no-op)."""
    if not enabled or device_type == "meta":
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
