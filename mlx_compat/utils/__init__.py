"""mlx_compat.utils: torch.utils's data loading (`utils.data`) and safetensors files (`utils.safetensors`)."""
from . import data, safetensors  # noqa: F401
