"""torch.distributions.StudentT: Student's t distribution by degrees of freedom (df), loc and scale; rsample is a
normal draw over the square root of a Chi2(df) / df draw, so it is reparameterised in all three parameters."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with `df` degrees of freedom, shifted by loc and scaled by scale."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = _size.Size(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        super(StudentT, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """loc, NaN where df <= 1 (no mean)."""
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) where df > 2, inf where 1 < df <= 2, NaN where df <= 1."""
        finite = self.df > 2
        df = mc.where(finite, self.df, mc.full_like(self.df, 3.0))  # keeps the masked branch's gradient finite
        value = self.scale.pow(2) * df / (df - 2)
        undefined = mc.where(self.df > 1, math.inf, math.nan).to(value.dtype)
        return mc.where(finite, value, undefined)

    def rsample(self, sample_shape=_size.Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * mc.rsqrt(z / self.df))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + mc.lgamma(0.5 * self.df)
             - mc.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * mc.log1p(y ** 2.0 / self.df) - z

    def entropy(self):
        lbeta = mc.lgamma(0.5 * self.df) + math.lgamma(0.5) - mc.lgamma(0.5 * (self.df + 1))
        return (self.scale.log() + 0.5 * (self.df + 1) * (mc.digamma(0.5 * (self.df + 1)) - mc.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
