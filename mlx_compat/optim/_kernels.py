"""Arithmetic of torch's CPU kernels that the update functions reproduce beyond plain operator order: lerp (and
its fused multiply-add form).
(add with alpha, addcmul and addcdiv are written inline in torch's order: a + alpha * b, a + (value * t1) * t2,
a + (value * t1) / t2.)"""
from __future__ import annotations

import mlx.core as mx


def lerp(start, end, weight, small, fma=False):
    """start.lerp(end, weight) for a 0-d weight array: torch's two-sided formula (exact at both ends), the branch
    (`small`: |weight| < 0.5, decided on the Python value) fixed per compiled configuration. fma: as torch's
    vectorised CPU kernel computes it for float32 values (Note [Reduced-precision Adam]), one fused multiply-add
    (the float32 difference times the float32 weight or weight - 1, plus start or end, rounded once), made of a
    float64 product (exact) and sum."""
    if fma:
        f64 = mx.float64
        diff = (end - start).astype(f64)
        if small:
            return (start.astype(f64) + weight.astype(f64) * diff).astype(mx.float32)
        return (end.astype(f64) + (weight - 1).astype(f64) * diff).astype(mx.float32)
    if small:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)
