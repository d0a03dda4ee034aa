"""torch.distributions.Distribution: the base class (shapes, argument and sample validation, sampling through
rsample without grad, perplexity, repr)."""
import warnings

import mlx_compat as mc

from .. import _size
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


class Distribution:
    """A probability distribution: `batch_shape` is the shape its parameters are batched over, `event_shape` the
    shape of one sample. `validate_args` (default: the class default, on unless Python runs with -O) checks the
    parameters at construction and the values given to log_prob / cdf."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for every distribution built without an explicit validate_args."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=_size.Size(), event_shape=_size.Size(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()
        super().__init__()

    def _check_parameters(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set `arg_constraints = {{}}` "
                          "or initialize the distribution with `validate_args=False` to turn off validation.",
                          stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                continue  # not built yet: the other parametrisation was given
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                                 f"but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        """A new distribution whose parameters are expanded (not copied) to `batch_shape`; arguments are not checked
        again."""
        raise NotImplementedError

    @property
    def batch_shape(self):
        """The shape the parameters are batched over."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one sample, without batching."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """The constraint each tensor parameter must satisfy, by name."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint samples satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=_size.Size()):
        """A sample of shape sample_shape + batch_shape + event_shape, without gradient."""
        with mc.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=_size.Size()):
        """A reparameterised sample of shape sample_shape + batch_shape + event_shape (differentiable w.r.t. the
        parameters)."""
        raise NotImplementedError

    def log_prob(self, value):
        """The log of the density / mass function at value."""
        raise NotImplementedError

    def cdf(self, value):
        """The cumulative distribution function at value."""
        raise NotImplementedError

    def icdf(self, value):
        """The inverse of the cumulative distribution function at value."""
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """Every value of a discrete distribution's support along dim 0, of shape
        (cardinality,) + batch_shape + event_shape (batch dims of size 1 when not expand)."""
        raise NotImplementedError

    def entropy(self):
        """The entropy, of shape batch_shape."""
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy)."""
        return mc.exp(self.entropy())

    def _extended_shape(self, sample_shape=_size.Size()):
        """sample_shape + batch_shape + event_shape."""
        return _size.Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        """Raise ValueError unless value is a tensor whose right-most dims match event_shape, that broadcasts with
        batch_shape + event_shape and lies in the support."""
        if not isinstance(value, mc.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        actual = value.size()
        event_start = len(actual) - len(self._event_shape)
        if actual[event_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {actual} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {actual} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample validation. Please "
                          "initialize the distribution with `validate_args=False` to turn off validation.",
                          stacklevel=3)
            return
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                             f"to be within the support ({support!r}) of the distribution {self!r}, "
                             f"but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        """The instance expand() fills: _instance, or a bare one of self's type (a subclass with its own __init__
        must define its own expand)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def _expand_params(self, cls, batch_shape, names, _instance=None):
        """expand() of a family whose parameters `names` each take the batch shape: a new instance (of self's
        type) holding them expanded, validation as self's."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = _size.Size(batch_shape)
        for name in names:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        super(cls, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self):
        shown = [name for name in self.arg_constraints if name in self.__dict__]
        args = []
        for name in shown:
            value = self.__dict__[name]
            args.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(args)})"
