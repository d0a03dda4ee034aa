"""torch.distributions.LKJCholesky: the LKJ distribution over lower Cholesky factors of correlation matrices, sampled
by the onion method (Ghosh & Henderson 2003; Lewandowski, Kurowicka & Joe 2009)."""
import math

import mlx_compat as mc

from .. import _size
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ(concentration) over dim x dim correlation matrices, on their Cholesky factors L: the density of L is
    proportional to prod_{i >= 2} L_ii^(dim - i + 2 (concentration - 1)). No rsample (as torch)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # the squared norms of the rows' off-diagonal parts are Beta(i / 2, concentration + (dim - 2 - i) / 2)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = mc.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = mc.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), _size.Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = _size.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=_size.Size()):
        """Row i (i >= 1): sqrt(y_i) times a uniform direction over its first i entries, the diagonal entry making
        the row a unit vector; row 0 is e_0."""
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u_normal = mc.randn(self._extended_shape(sample_shape), dtype=y.dtype, device=y.device).tril(-1)
        norm = u_normal.norm(dim=-1, keepdim=True)
        first_row = mc.arange(self.dim, device=y.device).unsqueeze(-1) == 0
        u_hypersphere = mc.where(first_row, mc.zeros_like(u_normal), u_normal / mc.where(first_row, 1.0, norm))
        w = mc.sqrt(y) * u_hypersphere
        eps = mc.finfo(w.dtype).tiny
        diag_elems = mc.clamp(1 - mc.sum(w ** 2, dim=-1), min=eps).sqrt()
        return w + mc.diag_embed(diag_elems)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = mc.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = mc.sum(order * diag_elems.log(), dim=-1)
        # the normaliser, from the LKJ paper's formula for the density of the correlation matrix
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = mc.lgamma(alpha) * dm1
        numerator = mc.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
