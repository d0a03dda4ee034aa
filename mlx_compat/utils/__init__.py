"""mlx_compat.utils: torch.utils's data loading (`utils.data`), safetensors files (`utils.safetensors`), hook
handles (`utils.hooks`) and nested containers (`utils._pytree`)."""
from . import data, hooks, safetensors  # noqa: F401
from . import checkpoint  # noqa: F401
