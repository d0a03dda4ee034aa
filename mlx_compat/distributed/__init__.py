"""torch.distributed on MLX's distributed layer: the default process group, collectives, point-to-point and the
Work handle (distributed_c10d), the ring backend's bootstrap from torch's environment (_rendezvous), and the
torchrun-style launcher (`python -m mlx_compat.distributed.run`)."""
from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__  # noqa: F401
