"""torch's CPU kernel arithmetic for the in-place ops the update rules use (add with alpha, addcmul, addcdiv,
lerp), written on raw mx.arrays in the same operation order so float32 results agree with torch's; Python-float
scalars join as the array's dtype, as torch casts a Scalar to the kernel's scalar type."""
from __future__ import annotations



def add(a, b, alpha=1):
    """a.add(b, alpha=alpha): a + alpha * b."""
    if alpha == 1:
        return a + b
    return a + alpha * b


def addcmul(a, t1, t2, value=1):
    """a.addcmul(t1, t2, value=value): a + value * t1 * t2 (left to right)."""
    if value == 1:
        return a + t1 * t2
    return a + (value * t1) * t2


def addcdiv(a, t1, t2, value=1):
    """a.addcdiv(t1, t2, value=value): a + value * t1 / t2 (left to right)."""
    if value == 1:
        return a + t1 / t2
    return a + (value * t1) / t2


def lerp(start, end, weight):
    """start.lerp(end, weight) for a scalar weight: torch's two-sided formula (exact at both ends)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def lerp_t(start, end, weight, small):
    """lerp with the weight a 0-d array; `small` (|weight| < 0.5) picks torch's branch statically."""
    if small:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)
