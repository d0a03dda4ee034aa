"""torch.distributions: probability distributions with sampling, reparameterised sampling (rsample), log_prob,
entropy, moments and cdf / icdf, argument and sample validation (constraints.py), kl_divergence with register_kl
(kl.py), invertible transforms (transforms.py), TransformedDistribution and the biject_to / transform_to
registries (constraint_registry.py). Built from mlx_compat's public tensor ops, so log_prob, entropy, rsample and KL
are differentiable w.r.t. the parameters. Random draws come from mlx_compat's generator, not torch's."""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F403 - torch.distributions re-exports every transform
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution", "Exponential",
    "ExponentialFamily", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "Laplace",
    "LogNormal", "LogisticNormal", "MultivariateNormal", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "StudentT", "TransformedDistribution", "Uniform",
    "biject_to", "constraints", "kl_divergence", "register_kl", "transform_to",
]
__all__.extend(transforms.__all__)
