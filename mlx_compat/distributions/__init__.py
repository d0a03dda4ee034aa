"""torch.distributions: probability distributions with sampling, reparameterised sampling (rsample), log_prob,
entropy, moments and cdf / icdf, argument and sample validation (constraints.py), and kl_divergence with
register_kl (kl.py). Built from mlx_compat's public tensor ops, so log_prob, entropy, rsample and KL are
differentiable w.r.t. the parameters. Random draws come from mlx_compat's generator, not torch's."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Exponential", "ExponentialFamily", "Independent", "Laplace",
    "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Uniform", "constraints",
    "kl_divergence", "register_kl",
]
