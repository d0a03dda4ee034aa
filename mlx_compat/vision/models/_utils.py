"""Helpers shared by the model definitions."""


def _make_divisible(v, divisor, min_value=None):
    """Rounds a channel count to the nearest multiple of ``divisor``, never more than 10% below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
