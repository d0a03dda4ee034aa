"""(Operators issue) gamma-family and special functions: digamma, lgamma, polygamma, mvlgamma, igamma(c), Bessel functions, orthogonal polynomials; exported at top level and by torch.special."""
from __future__ import annotations

__all__ = []
