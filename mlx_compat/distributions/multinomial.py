"""torch.distributions.Multinomial: the counts of each of K classes in total_count independent categorical draws."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts over the last dim of probs / logits (normalised as Categorical's) for a Python int total_count (the
    same for the whole batch). sample() needs total_count; log_prob takes any counts, total_count unused."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = _size.Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=_size.Size()):
        """total_count categorical draws per event, counted per class."""
        sample_shape = _size.Size(sample_shape)
        draws = self._categorical.sample(_size.Size((self.total_count,)) + sample_shape)
        draws = draws.permute(*range(1, draws.dim()), 0)  # the draws last
        counts = mc.zeros(self._extended_shape(sample_shape), dtype=draws.dtype, device=draws.device)
        counts = counts.scatter_add(-1, draws, mc.ones_like(draws))
        return counts.type_as(self.probs)

    def entropy(self):
        """n H(categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        n = mc.tensor(self.total_count)
        term1 = n * self._categorical.entropy() - mc.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = mc.exp(self._binomial.log_prob(support))
        term2 = (binomial_probs * mc.lgamma(support + 1)).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = mc.lgamma(value.sum(-1) + 1)
        log_factorial_xs = mc.lgamma(value + 1).sum(-1)
        logits = mc.where((value == 0) & (logits == -math.inf), 0.0, logits)  # 0 * log 0 = 0
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
