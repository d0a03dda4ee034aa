"""torch.distributions.ExponentialFamily: the base of the distributions with density exp(<t(x), theta> - F(theta)
+ k(x)); its entropy (and the generic KL in kl.py) come from the Bregman divergence of the log normalizer F,
differentiated with autograd."""
import mlx_compat as mc

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of an exponential family: subclasses give `_natural_params` (theta), `_log_normalizer(*theta)`
    (F) and `_mean_carrier_measure` (E[k(x)])."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """F(theta) - <theta, grad F(theta)> - E[k(x)]."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_norm = self._log_normalizer(*params)
        grads = mc.autograd.grad(log_norm.sum(), params, create_graph=True)
        result = log_norm - self._mean_carrier_measure
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
