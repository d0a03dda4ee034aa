"""torch.distributions.ContinuousBernoulli: the continuous Bernoulli on [0, 1] (density proportional to
p^x (1 - p)^(1 - x)), with Taylor expansions of its normaliser and moments near p = 1/2, where the closed forms
cancel; rsample by the inverse cdf."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from .exp_family import ExponentialFamily
from .utils import (BinaryProbsOrLogits, _is_number, broadcast_all, clamp_probs, expand_probs_or_logits, lazy_property,
                    logits_to_probs)

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(BinaryProbsOrLogits, ExponentialFamily):
    """The continuous Bernoulli by probs (clamped away from 0 and 1) or logits. Where probs lies in
    (lims[0], lims[1]] the normaliser, mean and variance are Taylor expansions around 1/2."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = _is_number(probs)
            (self.probs,) = broadcast_all(probs)
            # checked before clamping (torch does so only when validate_args is given explicitly)
            if validate_args is not None and not self.arg_constraints["probs"].check(self.probs).all():
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
            self._param = self.probs
        else:
            is_scalar = _is_number(logits)
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        batch_shape = _size.Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = _size.Size(batch_shape)
        expand_probs_or_logits(self, new, batch_shape)
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        """probs, replaced by lims[0] inside the unstable region (so the closed forms stay finite there)."""
        return mc.where(self._outside_unstable_region(), self.probs, self._lims[0] * mc.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """The log of the normalising constant, log(|log1p(-p) - log p| / |1 - 2p|)."""
        cut_probs = self._cut_probs()
        below_half = cut_probs <= 0.5
        cut_probs_below_half = mc.where(below_half, cut_probs, mc.zeros_like(cut_probs))
        cut_probs_above_half = mc.where(cut_probs >= 0.5, cut_probs, mc.ones_like(cut_probs))
        log_norm = (mc.log(mc.abs(mc.log1p(-cut_probs) - mc.log(cut_probs)))
                    - mc.where(below_half, mc.log1p(-2.0 * cut_probs_below_half),
                               mc.log(2.0 * cut_probs_above_half - 1.0)))
        x = mc.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return mc.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (mc.log1p(-cut_probs) - mc.log(cut_probs))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * mc.pow(x, 2)) * x
        return mc.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return mc.sqrt(self.variance)

    @property
    def variance(self):
        cut_probs = self._cut_probs()
        variances = (cut_probs * (cut_probs - 1.0) / mc.pow(1.0 - 2.0 * cut_probs, 2)
                     + 1.0 / mc.pow(mc.log1p(-cut_probs) - mc.log(cut_probs), 2))
        x = mc.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return mc.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def probs(self):  # clamped, as torch's
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def sample(self, sample_shape=_size.Size()):
        u = mc.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype, device=self.probs.device)
        with mc.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=_size.Size()):
        u = mc.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = mc.nn.functional.binary_cross_entropy_with_logits(logits, value, reduction="none")
        return -bce + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = ((mc.pow(cut_probs, value) * mc.pow(1.0 - cut_probs, 1.0 - value) + cut_probs - 1.0)
                / (2.0 * cut_probs - 1.0))
        unbounded_cdfs = mc.where(self._outside_unstable_region(), cdfs, value)
        return mc.where(value <= 0.0, mc.zeros_like(value),
                        mc.where(value >= 1.0, mc.ones_like(value), unbounded_cdfs))

    def icdf(self, value):
        cut_probs = self._cut_probs()
        inverse = ((mc.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0)) - mc.log1p(-cut_probs))
                   / (mc.log(cut_probs) - mc.log1p(-cut_probs)))
        return mc.where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_probs0 = mc.log1p(-self.probs)
        log_probs1 = mc.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log((exp(x) - 1) / x) of the natural parameter x, by its Taylor expansion near 0."""
        out_unst_reg = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut_nat_params = mc.where(out_unst_reg, x, (self._lims[0] - 0.5) * mc.ones_like(x))
        log_norm = mc.log(mc.abs(mc.special.expm1(cut_nat_params))) - mc.log(mc.abs(cut_nat_params))
        taylor = 0.5 * x + mc.pow(x, 2) / 24.0 - mc.pow(x, 4) / 2880.0
        return mc.where(out_unst_reg, log_norm, taylor)
