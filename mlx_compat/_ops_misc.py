"""(Operators issue) torch.* functions outside the other families: *_copy variants, *_scatter, splits, diff/gradient, cov/corrcoef, gcd/lcm, frexp/ldexp, isin, histograms, trapezoid, ...."""
from __future__ import annotations

__all__ = []
