"""torch.distributions.utils: broadcasting parameters to one shape, probs <-> logits, clamping probabilities,
lazily computed properties, and the small shape helpers the distributions share."""
from functools import update_wrapper

import mlx_compat as mc

__all__ = [
    "broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits", "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060


def _is_number(v):
    return isinstance(v, (int, float, bool))


def broadcast_all(*values):
    """The values broadcast to one shape. Numbers become tensors of the first tensor's dtype and device (the default
    dtype when all are numbers)."""
    if not all(mc.overrides.is_tensor_like(v) or _is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if all(mc.overrides.is_tensor_like(v) for v in values):
        return mc.broadcast_tensors(*values)
    first = next((v for v in values if isinstance(v, mc.Tensor)), None)
    options = {"dtype": mc.get_default_dtype()} if first is None else {"dtype": first.dtype, "device": first.device}
    return mc.broadcast_tensors(*[v if mc.overrides.is_tensor_like(v) else mc.tensor(v, **options) for v in values])


def _standard_normal(shape, dtype, device):
    return mc.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """value with its `dim` rightmost dims summed out."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from log-odds (is_binary) or from unnormalised log probabilities along the last dim."""
    return mc.sigmoid(logits) if is_binary else mc.nn.functional.softmax(logits, dim=-1)


def clamp_probs(probs):
    """probs clamped into [eps, 1 - eps], eps being the machine epsilon of probs' dtype."""
    eps = mc.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-odds (is_binary) or log probabilities of (clamped) probabilities."""
    clamped = clamp_probs(probs)
    return mc.log(clamped) - mc.log1p(-clamped) if is_binary else mc.log(clamped)


class lazy_property:
    """A non-data descriptor computing the wrapped method once (with grad enabled), then caching the value as an
    instance attribute of the same name."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with mc.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property reads as on the class: both a property (for documentation tools) and a lazy_property
    (so argument validation skips it)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def expand_probs_or_logits(dist, new, shape):
    """expand()'s step for a distribution given by probs or by logits: whichever of them `dist` holds, expanded to
    `shape` on `new` (and as new._param where `dist` keeps one)."""
    for name in ("probs", "logits"):
        if name in dist.__dict__:
            setattr(new, name, getattr(dist, name).expand(shape))
            if "_param" in dist.__dict__:
                new._param = getattr(new, name)


class BinaryProbsOrLogits:
    """The parametrisation the binary families share (Bernoulli, Binomial, NegativeBinomial, ContinuousBernoulli,
    LogitRelaxedBernoulli): exactly one of probs and logits is given and kept as `_param`, the other is derived
    once when read."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    def _set_count_and_param(self, total_count, probs, logits):
        """Binomial's and NegativeBinomial's parameters: total_count broadcast with the one given and in its
        dtype."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        count, param = broadcast_all(total_count, given)
        self.total_count = count.type_as(param)
        setattr(self, name, param)
        self._param = param


def _tril_mask(n, diag, device):
    arange = mc.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The entries of (a batch of) D x D matrices on and below diagonal `diag`, in row order, as vectors."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: (a batch of) D x D matrices zero above diagonal `diag`, filled in row order
    from the vectors."""
    k = 1 + 2 * diag
    n = (-k + (k ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > mc.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat
