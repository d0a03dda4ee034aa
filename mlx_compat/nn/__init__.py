"""torch.nn (the functional namespace; modules arrive with the nn issue)."""
from . import functional  # noqa: F401
