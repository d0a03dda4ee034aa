"""The in-place samplers beyond uniform_/normal_ (exponential_, geometric_, log_normal_,
cauchy_, random_, bernoulli_) and torch.poisson, seeded by manual_seed / Generator like every draw here.

Each sampler transforms MLX uniform or normal draws (inverse CDFs), then writes through `_write` so views
see the new values. Draws are made in float32 (or float64 for float64 tensors) and cast to the tensor's dtype.

Note [Poisson by inversion in rounds]
MLX has no Poisson sampler. torch.poisson draws one count per rate; here every element runs the inverse-CDF
walk (start at P(0) = exp(-rate), add terms until the cumulative probability passes a uniform draw) in
vectorised rounds, so the result has exactly the Poisson distribution. Rates above 64 would need many rounds
and exp(-rate) underflows in float32, so they split into `k` equal parts (the sum of k independent
Poisson(rate/k) draws is Poisson(rate)); each part's walk then ends within ~64 + 10*sqrt(64) rounds.
"""
from __future__ import annotations

import builtins
import math

import mlx.core as mx
import numpy as np

from .. import _dtype
from . import precise as _precise, random as _random
from .._methods import declare_methods
from .._tensor import Tensor, _new, _mx_item
from ._common import _sname
from .creation import _uniform01

__all__ = ["poisson", "binomial", "_standard_gamma", "_sample_dirichlet", "_standard_gamma_grad", "_dirichlet_grad"]



def _work_dtype(t):
    return mx.float64 if t.dtype is _dtype.float64 else mx.float32


def _uniform(t, generator):
    """Uniform draws in [0, 1) of t's shape (float32, or 53-bit float64 for float64 tensors: MLX's uniform has no
    float64, creation._uniform01)."""
    return _uniform01(tuple(t.shape), _dtype.float64 if t.dtype is _dtype.float64 else _dtype.float32,
                      _random.key_for(generator))


def _continuous(t, name):
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_sname(t.dtype)}")


def _write(t, arr):
    return t._write(arr.astype(t.dtype._mx))


def exponential_(self, lambd=1.0, *, generator=None):
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    _continuous(self, "Exponential")
    u = _uniform(self, generator)
    return _write(self, -mx.log1p(-u) / lambd)


def geometric_(self, p, *, generator=None):
    """Number of Bernoulli(p) trials up to and including the first success (values >= 1), any real dtype."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _uniform(self, generator)
    k = mx.ceil(mx.log1p(-u) / math.log1p(-p))
    return _write(self, mx.maximum(k, 1))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{_sname(self.dtype)}'")
    z = mx.random.normal(shape=tuple(self.shape), dtype=_work_dtype(self), key=_random.key_for(generator))
    return _write(self, _precise.exp(z * std + mean))  # float64-accurate (Note [MLX float64 precision])


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _continuous(self, "Cauchy")
    u = _uniform(self, generator)
    return _write(self, median + sigma * mx.tan(math.pi * (u - 0.5)))


def _int_range(d):
    """Inclusive [lo, hi] a dtype can hold, for random_'s bounds checks."""
    if d is _dtype.bool:
        return 0, 1
    if d.is_floating_point:
        digits = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}[d.name]
        return -(2 ** digits), 2 ** digits
    info = _dtype.iinfo(d)
    return info.min, info.max


def random_(self, from_=0, to=None, *, generator=None):
    """Integers uniform on [from, to - 1]; random_(to) means [0, to - 1]; with no bounds, [0, 2^mantissa]
    for floating dtypes and [0, max] for integer ones, as torch."""
    if self.dtype.is_complex:
        raise NotImplementedError(f"\"random_\" not implemented for '{_sname(_dtype.complex64)}'")
    name = _sname(self.dtype)
    ctype = {"Long": "long", "Int": "int", "Short": "short", "Char": "signed char", "Byte": "unsigned char",
             "Bool": "bool", "Float": "float", "Double": "double", "Half": "c10::Half",
             "BFloat16": "c10::BFloat16"}[name]
    lo_ok, hi_ok = _int_range(self.dtype)
    if to is None:
        lo, hi = 0, hi_ok  # inclusive upper bound
        if from_ != 0:  # random_(to): the one positional argument is `to`
            lo, hi = 0, from_ - 1
            if from_ <= 0:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from=0 >= to={from_}")
            if hi > hi_ok:
                raise RuntimeError(f"to - 1 is out of bounds for {ctype}")
    else:
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        if from_ < lo_ok or from_ > hi_ok:
            raise RuntimeError(f"from is out of bounds for {ctype}")
        if to - 1 > hi_ok or to - 1 < lo_ok:
            raise RuntimeError(f"to - 1 is out of bounds for {ctype}")
        lo, hi = from_, to - 1
    shape = tuple(self.shape)
    key = _random.key_for(generator)
    span = hi - lo + 1
    if span <= 2 ** 31 - 1:
        r = mx.random.randint(0, span, shape=shape, dtype=mx.int32, key=key).astype(mx.int64) + lo
    else:  # wider spans: 64 random bits from three draws (31 + 31 + 2), reduced modulo the span
        k1, k2, k3 = mx.random.split(key, 3)
        a, b = (mx.random.randint(0, 2 ** 31, shape=shape, dtype=mx.int32, key=k).astype(mx.uint64) for k in (k1, k2))
        c = mx.random.randint(0, 4, shape=shape, dtype=mx.int32, key=k3).astype(mx.uint64)
        bits = (a << mx.array(33, mx.uint64)) | (b << mx.array(2, mx.uint64)) | c
        r = (bits % mx.array(np.uint64(span))).astype(mx.int64) + lo
    return _write(self, r)


def bernoulli_(self, p=0.5, *, generator=None):
    probs = p._mx if isinstance(p, Tensor) else p
    if not isinstance(p, Tensor) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    r = mx.random.bernoulli(probs, shape=tuple(self.shape), key=_random.key_for(generator))
    return _write(self, r)


def poisson(input, generator=None):
    """torch.poisson: one Poisson(rate) count per element (Note [Poisson by inversion in rounds])."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_sname(input.dtype)}'")
    rate = input._mx.astype(_work_dtype(input))
    if input.numel() == 0:
        return _new(mx.zeros(tuple(input.shape), input.dtype._mx), input._device_code, input.dtype)
    if builtins.bool(_mx_item(mx.any(rate < 0))) or builtins.bool(_mx_item(mx.any(mx.isnan(rate)))):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    key = _random.key_for(generator)
    top = _mx_item(mx.max(rate))
    parts = builtins.max(1, math.ceil(top / 64))
    part_rate = rate / parts
    total = mx.zeros(rate.shape, rate.dtype)
    for _ in builtins.range(parts):
        key, k = mx.random.split(key)
        u = _uniform01(tuple(rate.shape), _dtype.from_mx(rate.dtype), k)
        term = mx.exp(-part_rate)
        cdf = term
        count = mx.zeros(rate.shape, rate.dtype)
        for i in builtins.range(1, 64 + 10 * 8 + 10):
            more = u > cdf
            if i % 16 == 0 and not builtins.bool(_mx_item(mx.any(more))):
                break
            count = count + more
            term = term * part_rate / i
            cdf = cdf + term
        total = total + count
    out = _new(total.astype(input.dtype._mx), input._device_code, input.dtype)
    if input.requires_grad:
        from ..autograd._derivatives import record

        record("PoissonBackward0", lambda ctx, grads: (grads[0] * 0,), [input], [out])
    return out


declare_methods({_name: globals()[_name] for _name in (
    "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "bernoulli_")})


# torch's gamma-family samplers and their reparameterisation gradients. The kernels (MLX has no gamma sampler)
# live with the distributions that use them (distributions/_standard_gamma.py), imported at the call.
def _float_input(name, t, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{what}' (position 1) must be Tensor, not {type(t).__name__}")
    if not t.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name.strip('_').replace('standard_', '')}_cpu\" not implemented for "
                                  f"'{_sname(t.dtype)}'")


def binomial(count, prob, generator=None):
    """torch.binomial: one Binomial(count, prob) draw per element, in the inputs' (floating) dtype."""
    from ..distributions._standard_gamma import sample_binomial

    for t in (count, prob):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial(): argument 'count' (position 1) must be Tensor, not {type(t).__name__}")
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {_sname(count.dtype)}")
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {_sname(prob.dtype)} but expected {_sname(count.dtype)}")
    return sample_binomial(count, prob, generator)


def _standard_gamma(input, generator=None):
    """torch._standard_gamma: Gamma(input, 1) draws, differentiable w.r.t. input (StandardGammaBackward0, the
    implicit reparameterisation gradient)."""
    from ..distributions._standard_gamma import sample_standard_gamma
    from ..autograd._derivatives import record

    _float_input("_standard_gamma", input, "input")
    x = sample_standard_gamma(input, generator)
    if input.requires_grad:
        record("StandardGammaBackward0", lambda ctx, grads: (grads[0] * _standard_gamma_grad(input, x),),
               [input], [x])
    return x


def _sample_dirichlet(input, generator=None):
    """torch._sample_dirichlet: Dirichlet(input) draws along the last dim (not differentiable, as torch's)."""
    from ..distributions._standard_gamma import sample_standard_gamma

    _float_input("_sample_dirichlet", input, "input")
    gammas = sample_standard_gamma(input, generator).clamp(min=_dtype.finfo(input.dtype).tiny)
    return gammas / gammas.sum(-1, True)


def _standard_gamma_grad(input, output):
    """torch._standard_gamma_grad: d output / d input of Gamma(input, 1) draws `output`."""
    from ..distributions._standard_gamma import standard_gamma_grad

    return standard_gamma_grad(input, output)


def _dirichlet_grad(x, alpha, total):
    """torch._dirichlet_grad: the Dirichlet reparameterisation gradient of its Beta marginals."""
    from ..distributions._standard_gamma import dirichlet_grad

    return dirichlet_grad(x, alpha, total)

