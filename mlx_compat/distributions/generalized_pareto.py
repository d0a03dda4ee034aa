"""torch.distributions.GeneralizedPareto: the generalised Pareto distribution by loc, scale and concentration (the
shape xi; xi = 0 is the shifted exponential), reparameterised by the inverse cdf."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival function (1 + xi z)^(-1 / xi), z = (x - loc) / scale (exp(-z) at xi = 0, taken where xi is close to
    0 as torch.isclose says); the support is [loc, loc - scale / xi] for xi < 0, else [loc, inf)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = _is_number(loc) and _is_number(scale) and _is_number(concentration)
        super().__init__(_size.Size() if scalar else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(GeneralizedPareto, batch_shape, ("loc", "scale", "concentration"), _instance)

    def _zero_and_safe_concentration(self):
        """Where the concentration counts as 0, and the concentration with those entries replaced by 1."""
        eq_zero = mc.isclose(self.concentration, mc.tensor(0.0))
        return eq_zero, mc.where(eq_zero, mc.ones_like(self.concentration), self.concentration)

    def rsample(self, sample_shape=_size.Size()):
        u = mc.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._zero_and_safe_concentration()
        y = 1 / safe_conc + mc.ones_like(z)
        where_nonzero = mc.where(y == 0, y, y * mc.log1p(safe_conc * z))
        return -self.scale.log() - mc.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._zero_and_safe_concentration()
        return mc.where(eq_zero, -z, -mc.log1p(safe_conc * z) / safe_conc)

    def log_cdf(self, value):
        return mc.log1p(-mc.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return mc.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._zero_and_safe_concentration()
        logu = mc.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * mc.expm1(-safe_conc * logu)
        return mc.where(eq_zero, self.loc - self.scale * logu, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = mc.where(valid, self.concentration, 0.5)
        return mc.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = mc.where(valid, self.concentration, 0.25)
        return mc.where(valid, self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc)), math.nan)

    def entropy(self):
        return mc.broadcast_to(mc.log(self.scale) + self.concentration + 1, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = mc.where(self.concentration < 0, lower - self.scale / self.concentration, math.inf)
        return constraints.interval(lower, upper)
