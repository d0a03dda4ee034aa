"""torch.Size: a tuple of ints that prints as torch.Size([2, 3])."""
import math

from . import _C


class Size(_C.SizeBase):  # SizeBase: tuple with indexing in C (slices are Sizes)
    __slots__ = ()

    def __new__(cls, sizes=()):
        items = tuple(sizes)
        for i, s in enumerate(items):
            if not isinstance(s, int) and not hasattr(s, "__index__"):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')")
        return tuple.__new__(cls, (s if isinstance(s, int) else s.__index__() for s in items))

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self):
        return math.prod(self)

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))
