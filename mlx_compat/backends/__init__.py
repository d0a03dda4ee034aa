"""torch.backends: mps tells whether MLX runs on Apple's Metal GPU; cuda and cudnn hold the switches training
scripts set for NVIDIA GPUs (kept and read back; MLX chooses its own kernels)."""
from . import cuda, cudnn, mps  # noqa: F401
