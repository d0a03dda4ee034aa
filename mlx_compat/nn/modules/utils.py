"""Argument normalisers shared by the layer modules: `_single`/`_pair`/`_triple`/`_quadruple` (an int repeated, an
iterable turned into a tuple) and `_reverse_repeat_tuple` (a per-dimension padding turned into F.pad's last-dim-first
(left, right) pairs), as torch.nn.modules.utils names them."""
import collections.abc
from itertools import repeat

__all__ = []


def _ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """(a, b) with n=2 -> (b, b, a, a): per-dimension values in F.pad's order (last dimension first)."""
    return tuple(x for x in reversed(t) for _ in range(n))
