"""torch.nn.utils: gradient clipping, parameter/vector conversion, weight and spectral norm, parametrizations,
conv/linear + batch-norm fusion, functional_call, and the packed-sequence helpers of nn.utils.rnn."""
from . import rnn  # noqa: F401,E402
