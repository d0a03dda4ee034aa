"""The op families behind torch.* and the Python-level Tensor methods, one module per domain.

Each module defines its functions (exported at top level by mlx_compat/__init__.py) and attaches its Tensor
methods. mlx_compat.ops (torch.ops's aten namespace) is a different thing and lives in mlx_compat/ops.py.

  family                                                         module
  binary operators over the C operator path (add, mul, div,      operators.py
    comparisons, bitwise, clamp, where, sum/mean/matmul wrappers)
  declared unary/ternary pointwise math (exp, log, sqrt,         pointwise.py
    sigmoid, round, lerp, addcmul, ...)
  elementwise ops composed from primitives (inverse trig, erf    elementwise.py
    family, fmax, isclose, gcd/lcm, frexp/ldexp, rsub, ...)
  float64-accurate MLX kernels (Note [MLX float64 precision])    precise.py
  reductions, scans and statistics (max/min/var/std, prod,       reduction.py
    norm, cumsum, median, quantile, cov, histograms, ...)
  sorting and set membership (sort, topk, kthvalue, unique,      sorting.py
    searchsorted, bucketize, isin)
  shape: joining, splitting, repeating, flipping, broadcasting,  shape.py
    padding (cat, stack, tile, roll, meshgrid, ...)
  ops defined through views (*_copy, *_scatter, split variants)  views.py
  indexing: advanced indexing, gather/scatter, index_*, take,    indexing.py
    masked_*, put, nonzero, unravel_index
  finite differences and integration (diff, gradient,            calculus.py
    trapezoid)
  linear algebra products and decompositions (mm, bmm, addmm,    linalg.py
    einsum, svd, qr, ...)
  LU/Cholesky solvers, matrix_exp, Householder products          linalg_solvers.py
  gamma family, Bessel functions, orthogonal polynomials         special.py
  stft/istft and the window functions                            spectral.py
  complex helpers and conjugate transposes (adjoint, H, mH)      complex.py
  tensor creation, fills and the random factories                creation.py
  RNG state and torch.Generator                                  random.py
  in-place samplers (exponential_, geometric_, ...) and poisson  samplers.py
  helpers the families share (out= writing, argument checks)     _common.py
"""
