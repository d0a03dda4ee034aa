"""Arithmetic of torch's CPU kernels that the update functions reproduce beyond plain operator order: lerp.
(add with alpha, addcmul and addcdiv are written inline in torch's order: a + alpha * b, a + (value * t1) * t2,
a + (value * t1) / t2.)"""
from __future__ import annotations


def lerp(start, end, weight, small):
    """start.lerp(end, weight) for a 0-d weight array: torch's two-sided formula (exact at both ends), the branch
    (`small`: |weight| < 0.5, decided on the Python value) fixed per compiled configuration."""
    if small:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)
