"""torch.distributions.VonMises: the circular normal distribution on angles, with torch's polynomial approximations
of log I0 / log I1 (Abramowitz & Stegun 9.8.1-9.8.4) and Best & Fisher's rejection sampler run vectorised: every
element draws a fixed number of candidates at once and keeps the first accepted (no data-dependent loop)."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from ._standard_gamma import _work_dtype
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]

# Coefficients in y = (x / 3.75)^2 for x < 3.75 and in y = 3.75 / x above, lowest power first.
_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813]
_I0_COEF_LARGE = [0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537, -0.01647633,
                  0.00392377]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411]
_I1_COEF_LARGE = [0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967, -0.02895312, 0.01787654,
                  -0.00420059]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]

# Best & Fisher's proposal is accepted with probability above 0.65 for every concentration, so an element rejects
# all of these candidates with probability < 0.35 ** 36 ~ 4e-17; it then gets loc (the mode and median).
_CANDIDATES = 36


def _eval_poly(y, coef):
    """coef[0] + coef[1] y + coef[2] y^2 + ..., by Horner's rule."""
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_modified_bessel_fn(x, order=0):
    """log I_order(x) for x > 0 and order 0 or 1, by the polynomial approximations torch uses."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75) * (x / 3.75)
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return mc.where(x < 3.75, small, large)


def _rejection_sample(loc, concentration, proposal_r, shape):
    """Von Mises draws of `shape` (parameters broadcast to it): each element proposes _CANDIDATES wrapped-Cauchy
    angles and keeps the first one accepted, then the angle is shifted by loc and wrapped into [-pi, pi)."""
    loc, concentration, proposal_r = (t.expand(shape) for t in (loc, concentration, proposal_r))
    u = mc.rand((3, _CANDIDATES) + tuple(shape), dtype=loc.dtype, device=loc.device)
    u1, u2, u3 = u.unbind()
    z = mc.cos(math.pi * u1)
    f = (1 + proposal_r * z) / (proposal_r + z)
    c = concentration * (proposal_r - f)
    accept = (c * (2 - c) - u2 > 0) | ((c / u2).log() + 1 - c >= 0)
    first = accept & (accept.int().cumsum(0) == 1)
    angle = (u3 - 0.5).sign() * f.acos()
    x = mc.where(first, angle, mc.zeros_like(angle)).sum(0)  # 0 (loc) where every candidate was rejected
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution with density exp(concentration cos(x - loc)) / (2 pi I0(concentration)). Samples
    lie in [-pi, pi); log_prob takes any real angle. No rsample (as torch)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, _size.Size(), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * mc.cos(value - self.loc)
        return log_prob - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _loc(self):
        return self.loc.to(_work_dtype(self.loc))

    @lazy_property
    def _concentration(self):
        return self.concentration.to(_work_dtype(self.concentration))

    @lazy_property
    def _proposal_r(self):
        """The wrapped-Cauchy proposal's parameter r = (1 + rho^2) / (2 rho) (1 / kappa + kappa for tiny kappa)."""
        kappa = self._concentration
        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        return mc.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    def sample(self, sample_shape=_size.Size()):
        """Best & Fisher's algorithm (1979), in float64 where MLX has it (as torch samples in double)."""
        with mc.no_grad():
            shape = self._extended_shape(sample_shape)
            x = _rejection_sample(self._loc.detach(), self._concentration.detach(), self._proposal_r.detach(), shape)
            return x.to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(self.loc.expand(batch_shape), self.concentration.expand(batch_shape),
                          validate_args=validate_args)

    @property
    def mean(self):
        """The circular mean, loc."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance, 1 - I1(kappa) / I0(kappa)."""
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1)
                    - _log_modified_bessel_fn(self.concentration, order=0)).exp()
