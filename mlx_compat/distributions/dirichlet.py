"""torch.distributions.Dirichlet: the Dirichlet distribution on the simplex by its concentration vector; rsample
normalises gamma draws and is reparameterised by torch's implicit gradient (`_Dirichlet_backward`)."""
import mlx_compat as mc

from .. import _size
from . import constraints
from ._standard_gamma import dirichlet_grad, sample_standard_gamma
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


def _Dirichlet_backward(x, concentration, grad_output):  # noqa: N802 - torch's name (its tests use it)
    """The gradient w.r.t. concentration of sum(grad_output * x), x a Dirichlet draw held at its quantiles."""
    total = concentration.sum(-1, True).expand_as(concentration)
    grad = dirichlet_grad(x, concentration, total)
    return grad * (grad_output - (x * grad_output).sum(-1, True))


def _sample_dirichlet(concentration):
    """Dirichlet draws: gamma draws (at least the dtype's tiny) over their sum along the last dim."""
    gammas = sample_standard_gamma(concentration).clamp(min=mc.finfo(concentration.dtype).tiny)
    return gammas / gammas.sum(-1, True)


class _Dirichlet(mc.autograd.Function):
    @staticmethod
    def forward(ctx, concentration):
        x = _sample_dirichlet(concentration)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        return _Dirichlet_backward(x, concentration, grad_output)


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution with density prod x_i^(a_i - 1) / B(a) on the simplex, a = concentration (its last
    dim is the event)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = _size.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        return _Dirichlet.apply(self.concentration.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (mc.xlogy(self.concentration - 1.0, value).sum(-1) + mc.lgamma(self.concentration.sum(-1))
                - mc.lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """The mode; where every concentration is < 1 (density unbounded at the corners), the corner of the
        largest (clamped) component, as torch."""
        shifted = (self.concentration - 1).clamp(min=0.0)
        mode = shifted / shifted.sum(-1, True)
        corner = mc.nn.functional.one_hot(mode.argmax(dim=-1), shifted.shape[-1]).to(mode)
        return mc.where((self.concentration < 1).all(dim=-1, keepdim=True), corner, mode)

    @property
    def variance(self):
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (mc.lgamma(self.concentration).sum(-1) - mc.lgamma(a0) - (k - a0) * mc.digamma(a0)
                - ((self.concentration - 1.0) * mc.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - mc.lgamma(x.sum(-1))
