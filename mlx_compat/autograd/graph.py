"""torch.autograd.graph: the Node type of recorded ops."""
from .._C import Node  # noqa: F401
