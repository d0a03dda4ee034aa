"""torch.distributions.Gamma: the gamma distribution by shape (concentration) and rate; rsample is reparameterised
through the implicit gradient of the standard gamma draw w.r.t. the concentration."""
import mlx_compat as mc

from .. import _size
from . import constraints
from ._standard_gamma import sample_standard_gamma, standard_gamma_grad
from .exp_family import ExponentialFamily
from .utils import _is_number, broadcast_all

__all__ = ["Gamma"]


class _StandardGamma(mc.autograd.Function):
    """x ~ Gamma(concentration, 1), with d x / d concentration the implicit reparameterisation gradient (torch's
    `_standard_gamma` derivative)."""

    @staticmethod
    def forward(ctx, concentration):
        x = sample_standard_gamma(concentration)
        ctx.save_for_backward(concentration, x)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        concentration, x = ctx.saved_tensors
        return grad_output * standard_gamma_grad(concentration, x)


def _standard_gamma(concentration):
    """Gamma(concentration, 1) draws of concentration's shape, differentiable w.r.t. concentration."""
    return _StandardGamma.apply(concentration)


class Gamma(ExponentialFamily):
    """The gamma distribution with density rate^a x^(a - 1) exp(-rate x) / Gamma(a) on x >= 0, a = concentration."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = _is_number(concentration) and _is_number(rate)
        super().__init__(_size.Size() if scalar else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=_size.Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=mc.finfo(value.dtype).tiny)  # outside autograd, as torch's
        return value

    def log_prob(self, value):
        value = mc.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (mc.xlogy(self.concentration, self.rate) + mc.xlogy(self.concentration - 1, value)
                - self.rate * value - mc.lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - mc.log(self.rate) + mc.lgamma(self.concentration)
                + (1.0 - self.concentration) * mc.digamma(self.concentration))

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return mc.lgamma(x + 1) + (x + 1) * mc.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return mc.special.gammainc(self.concentration, self.rate * value)
