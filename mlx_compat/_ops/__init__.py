"""The op families behind torch.* and the Python-level Tensor methods, one module per domain.

Each module defines its functions (exported at top level by mlx_compat/__init__.py) and attaches its Tensor
methods. mlx_compat.ops (torch.ops's aten namespace) is a different thing and lives in mlx_compat/ops.py.

  family                                          module
  binary operators over the C operator path       operators.py   (add, mul, div, comparisons, bitwise, where, ...)
  declared unary/ternary pointwise math           pointwise.py   (exp, log, sqrt, sigmoid, lerp, addcmul, ...)
  elementwise ops composed from primitives        elementwise.py (inverse trig, erf family, fmax, isclose, ...)
  float64-accurate MLX kernels                    precise.py     (Note [MLX float64 precision])
  max/min/var/std reductions                      reduction.py
  reductions, scans, sorting and selection        reduce.py
  joining, repeating, gathering; mm/bmm/addmm     shape_ops.py
  shape and indexing ops                          shape.py
  advanced indexing (Tensor.__getitem__/__setitem__ with tensors)  indexing.py
  the remaining torch.* functions                 misc.py
  linear algebra products and decompositions      linalg.py
  LU/Cholesky solvers, matrix_exp, Householder    linalg_solvers.py
  gamma family, Bessel, orthogonal polynomials    special.py
  stft/istft and window functions                 spectral.py
  complex helpers                                 complex.py
  tensor creation and random factories            creation.py
  RNG state and torch.Generator                   random.py
  in-place samplers and poisson                   samplers.py
"""
