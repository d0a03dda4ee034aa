"""torch.testing.assert_close / assert_allclose on mlx_compat tensors, with torch's rules and messages.

The inputs are walked as torch walks them (nested sequences and mappings, then one "pair" per leaf: None, booleans,
Python / NumPy numbers, tensor-likes). Values are compared on the host in NumPy, emulating torch's CPU arithmetic
dtype by dtype (half types compute in float32 and round back, integers compare in the default float dtype, complex64
magnitudes are correctly rounded), so that the verdict and every number in a mismatch message equal torch's.
complex128 NumPy arrays, which MLX cannot hold, are compared as torch's complex128 tensors. Class names of the package
print under their torch alias (`<class 'torch.Tensor'>`), as dtypes and sizes already do.
"""
from __future__ import annotations

import cmath
import collections.abc
import contextlib
import warnings

import numpy as np

import mlx_compat as _mc

__all__ = ["assert_close", "assert_allclose"]


# ---------------------------------------------------------------------------------------------------- errors


class ErrorMeta(Exception):
    """A comparison failure, carried until the caller turns it into the user-facing exception with `to_error`."""

    def __init__(self, type, msg, *, id=()):
        super().__init__("internal comparison failure; raise ErrorMeta.to_error() instead")
        self.type = type
        self.msg = msg
        self.id = id

    def to_error(self, msg=None):
        if isinstance(msg, str):
            return self.type(msg)
        text = self.msg
        if self.id:
            text += "\n\nThe failure occurred for item " + "".join(str([item]) for item in self.id)
        return self.type(msg(text) if callable(msg) else text)


class UnsupportedInputs(Exception):
    """Raised while building a pair that cannot handle its inputs: the next pair type is tried."""


def _type_repr(cls):
    """repr of a class, with the package's own classes under their torch name (mlx_compat.X -> torch.X)."""
    module = getattr(cls, "__module__", "") or ""
    for ours, theirs in (("mlx_compat.vision", "torchvision"), ("mlx_compat", "torch")):
        if module == ours or module.startswith(ours + "."):
            return f"<class '{theirs}{module[len(ours):]}.{cls.__qualname__}'>"
    return repr(cls)


# ---------------------------------------------------------------------------------------------------- tolerances

# {dtype name: (rtol, atol)}; names absent here (integers, bool) compare exactly
_DTYPE_PRECISIONS = {
    "float16": (0.001, 1e-5),
    "bfloat16": (0.016, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex32": (0.001, 1e-5),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def _dtype_name(d):
    return d if isinstance(d, str) else d.name


def default_tolerances(*inputs, dtype_precisions=None):
    """The loosest (rtol, atol) of the dtypes of `inputs` (tensors, dtypes or dtype names)."""
    names = []
    for x in inputs:
        if isinstance(x, (_mc.Tensor, _HostTensor)):
            names.append(x.dtype.name)
        elif isinstance(x, (_mc.dtype, _HostDtype, str)):
            names.append(_dtype_name(x))
        else:
            raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got {type(x)} instead.")
    table = dtype_precisions or _DTYPE_PRECISIONS
    table = {_dtype_name(k): v for k, v in table.items()}
    pairs = [table.get(n, (0.0, 0.0)) for n in names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def get_tolerances(*inputs, rtol, atol, id=()):
    """(rtol, atol) as given, or the dtype defaults when both are omitted; only one of them is a ValueError."""
    if (rtol is None) != (atol is None):
        raise ErrorMeta(
            ValueError,
            "Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}.",
            id=id,
        )
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


# ---------------------------------------------------------------------------------------------------- messages


def _mismatch_msg(*, default_identifier, identifier=None, extra=None, abs_diff, abs_diff_idx=None, atol, rel_diff,
                  rel_diff_idx=None, rtol):
    exact = rtol == 0 and atol == 0
    if identifier is None:
        identifier = default_identifier
    elif callable(identifier):
        identifier = identifier(default_identifier)

    def line(kind, diff, idx, tol):
        if idx is None:
            text = f"{kind.title()} difference: {diff}"
        else:
            text = f"Greatest {kind} difference: {diff} at index {idx}"
        return text + ("" if exact else f" (up to {tol} allowed)") + "\n"

    out = f"{identifier} are not {'equal' if exact else 'close'}!\n\n"
    if extra:
        out += extra.strip() + "\n"
    out += line("absolute", abs_diff, abs_diff_idx, atol)
    out += line("relative", rel_diff, rel_diff_idx, rtol)
    return out.strip()


def make_scalar_mismatch_msg(actual, expected, *, rtol, atol, identifier=None):
    """The mismatch message of two Python numbers (also used for 0-d tensors)."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg(default_identifier="Scalars", identifier=identifier,
                         extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff, atol=atol,
                         rel_diff=rel_diff, rtol=rtol)


# ---------------------------------------------------------------------------------------------------- host arithmetic
# Values live in NumPy arrays tagged with the torch dtype name they hold ("kind"); bfloat16 values are held in
# float32 arrays. The half types compute in float32 and round back after every operation, as torch's CPU kernels do.

_FLOAT_KINDS = ("float16", "bfloat16", "float32", "float64")
_COMPLEX_KINDS = ("complex64", "complex128")
_NP_OF_KIND = {
    "bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "float16": np.float16, "bfloat16": np.float32,
    "float32": np.float32, "float64": np.float64, "complex64": np.complex64, "complex128": np.complex128,
}


def _to_bfloat16(x):
    """float32 array -> the nearest bfloat16 values (ties to even), still held as float32."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = bits.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out)


def _opmath(kind):
    """The NumPy type torch's CPU kernels compute `kind` in."""
    return {"float16": np.float32, "bfloat16": np.float32}.get(kind, _NP_OF_KIND[kind])


def _round(x, kind):
    """Values computed in _opmath(kind) -> values of `kind`."""
    if kind == "bfloat16":
        return _to_bfloat16(x)
    return np.asarray(x).astype(_NP_OF_KIND[kind], copy=False)


def _binary(op, a, b, kind):
    m = _opmath(kind)
    return _round(op(np.asarray(a).astype(m, copy=False), np.asarray(b).astype(m, copy=False)), kind)


def _with_scalar(op, scalar, a, kind):
    m = _opmath(kind)
    return _round(op(m(scalar), np.asarray(a).astype(m, copy=False)), kind)


def _real_kind(kind):
    return {"complex64": "float32", "complex128": "float64"}.get(kind, kind)


def _cast(a, src, dst):
    """Values of kind `src` converted to kind `dst`."""
    if src == dst:
        return a
    if dst == "bfloat16":
        if src in _COMPLEX_KINDS:
            a = a.real
        return _to_bfloat16(np.asarray(a).astype(np.float32))
    if dst not in _COMPLEX_KINDS and src in _COMPLEX_KINDS:
        a = a.real
    return np.asarray(a).astype(_NP_OF_KIND[dst])


def _abs(x, kind):
    """torch.abs: a complex64 magnitude is the float32 rounding of the exact one."""
    if kind == "complex64":
        return np.hypot(x.real.astype(np.float64), x.imag.astype(np.float64)).astype(np.float32)
    return np.abs(x)


def _default_float_kind():
    return _mc.get_default_dtype().name


def _fmt_num(x):
    """A double as C++'s default ostream prints it."""
    return f"{x:g}"


def _isclose(a, b, kind, *, rtol, atol, equal_nan):
    """torch.isclose(a, b) for two arrays of one kind."""
    if not rtol >= 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {_fmt_num(rtol)}")
    if not atol >= 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {_fmt_num(atol)}")
    close = np.asarray(a == b)
    floating = kind in _FLOAT_KINDS or kind in _COMPLEX_KINDS
    if equal_nan and floating:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if kind not in _FLOAT_KINDS and kind not in _COMPLEX_KINDS:  # bool and integers compare in the default dtype
        d = _default_float_kind()
        a, b, kind = _cast(a, kind, d), _cast(b, kind, d), d
    real = _real_kind(kind)
    allowed = _with_scalar(np.add, atol, _abs(_with_scalar(np.multiply, rtol, b, kind), kind), real)
    error = _abs(_binary(np.subtract, a, b, kind), kind)
    return close | (np.isfinite(error) & (error <= allowed))


def _tensor_mismatch_msg(a, b, kind, matches, *, rtol, atol, identifier=None):
    """The mismatch message of two arrays of one kind (at least one dimension) and their isclose mask."""
    total = matches.size
    bad = total - int(np.count_nonzero(matches))
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    a, b, hits = a.reshape(-1), b.reshape(-1), matches.reshape(-1)
    if kind not in _FLOAT_KINDS and kind not in _COMPLEX_KINDS:
        a, b, kind = a.astype(np.int64), b.astype(np.int64), "int64"
    abs_diff = np.array(_abs(_binary(np.subtract, a, b, kind), kind))
    abs_diff[hits] = 0
    abs_idx = int(np.argmax(abs_diff))
    if kind == "int64":  # integer true division gives the default float dtype
        d = _default_float_kind()
        rel_diff = _binary(np.divide, _cast(abs_diff, kind, d), _cast(np.abs(b), kind, d), d)
        abs_value = int(abs_diff[abs_idx])
    else:
        real = _real_kind(kind)
        rel_diff = _binary(np.divide, abs_diff, _abs(b, kind), real)
        abs_value = float(abs_diff[abs_idx])
    rel_diff = np.array(rel_diff)
    rel_diff[hits] = 0
    rel_idx = int(np.argmax(rel_diff))

    def index(flat):
        return tuple(int(i) for i in np.unravel_index(flat, matches.shape))

    return _mismatch_msg(default_identifier="Tensor-likes", identifier=identifier, extra=extra, abs_diff=abs_value,
                         abs_diff_idx=index(abs_idx), atol=atol, rel_diff=float(rel_diff[rel_idx]),
                         rel_diff_idx=index(rel_idx), rtol=rtol)


def _host_values(t):
    """(NumPy array, kind) of a tensor's values; bfloat16 comes back as float32 holding the same values."""
    if isinstance(t, _HostTensor):
        return t.array, t.dtype.name
    t = t.detach()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    if t.device.type != "cpu":
        t = t.cpu()
    kind = t.dtype.name
    if kind == "bfloat16":
        t = t.float()
    return np.asarray(t.numpy()), kind


def _promoted_kind(k1, k2):
    """torch.promote_types of two dtype names (unsigned 16-64 bit integers taken as int64, as torch's comparison
    does); complex128, which MLX lacks, is named where torch would give it."""
    k1, k2 = ("int64" if k in ("uint16", "uint32", "uint64") else k for k in (k1, k2))
    if k1 == k2:
        return k1
    if "complex128" in (k1, k2):
        return "complex128"
    try:
        return _mc.promote_types(getattr(_mc, k1), getattr(_mc, k2)).name
    except (TypeError, RuntimeError):
        return "complex128"


class _HostDtype:
    """A dtype MLX lacks (complex128), named and printed as torch's."""

    def __init__(self, name, is_complex):
        self.name = name
        self.is_complex = is_complex
        self.is_floating_point = not is_complex

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, _HostDtype) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class _HostTensor:
    """A complex128 NumPy array seen as the CPU tensor torch.as_tensor would make of it (MLX has no complex128):
    shape, dtype, device, layout and stride for the attribute checks, the array itself for the values."""

    is_quantized = False

    def __init__(self, array):
        self.array = array
        self.dtype = _HostDtype(array.dtype.name, array.dtype.kind == "c")
        self.shape = _mc.Size(array.shape)
        self.layout = _mc.strided
        self.device = _mc.device("cpu")

    def stride(self):
        return tuple(s // self.array.itemsize for s in self.array.strides)

    def __str__(self):
        return f"tensor({self.array.tolist()}, dtype={self.dtype})"


# ---------------------------------------------------------------------------------------------------- pairs


class Pair:
    """One leaf comparison. Constructors raise UnsupportedInputs for inputs of another kind and ErrorMeta for
    invalid options; `compare` raises ErrorMeta on a mismatch."""

    _options = ()

    def __init__(self, actual, expected, *, id=(), **unused):
        self.actual = actual
        self.expected = expected
        self.id = id

    @staticmethod
    def _unsupported():
        raise UnsupportedInputs

    @classmethod
    def _require(cls, *inputs, types):
        if not all(isinstance(x, types) for x in inputs):
            cls._unsupported()

    def _fail(self, type, msg):
        raise ErrorMeta(type, msg, id=self.id)

    def compare(self):
        raise NotImplementedError

    def __repr__(self):
        fields = [("id", self.id), ("actual", self.actual), ("expected", self.expected)]
        fields += [(name, getattr(self, name)) for name in self._options]
        return "\n".join([f"{type(self).__name__}(", *(f"    {k}={v!s}," for k, v in fields), ")"])


class NonePair(Pair):
    """Pair for `None` on either side."""

    def __init__(self, actual, expected, **options):
        if actual is not None and expected is not None:
            self._unsupported()
        super().__init__(actual, expected, **options)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(Pair):
    """Pair for `bool` / `numpy.bool_` on both sides."""

    def __init__(self, actual, expected, *, id=(), **options):
        self._require(actual, expected, types=(bool, np.bool_))
        super().__init__(bool(actual), bool(expected), id=id, **options)

    def compare(self):
        if self.actual is not self.expected:
            self._fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(Pair):
    """Pair for Python numbers (`int`, `float`, `complex`) and `numpy.number` on both sides; their tolerances are
    those of int64, float64 and complex128."""

    _KIND_OF_TYPE = {int: "int64", float: "float64", complex: "complex128"}
    _options = ("rtol", "atol", "equal_nan", "check_dtype")

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False, check_dtype=False,
                 **options):
        self._require(actual, expected, types=(int, float, complex, np.number))
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        super().__init__(actual, expected, id=id, **options)
        # a bool against a number has no entry here: an unexpected error, reported as torch reports it
        kinds = [self._KIND_OF_TYPE[type(x)] for x in (actual, expected)]
        self.rtol, self.atol = get_tolerances(*kinds, rtol=rtol, atol=atol, id=id)
        self.equal_nan = equal_nan
        self.check_dtype = check_dtype

    def compare(self):
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            self._fail(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.")
        if a == e:
            return
        if self.equal_nan and cmath.isnan(a) and cmath.isnan(e):
            return
        diff = abs(a - e)
        if cmath.isfinite(diff) and diff <= self.atol + self.rtol * abs(e):
            return
        self._fail(AssertionError, make_scalar_mismatch_msg(a, e, rtol=self.rtol, atol=self.atol))


class TensorLikePair(Pair):
    """Pair for tensors, or two directly related inputs `torch.as_tensor` accepts (NumPy arrays, ...)."""

    _options = ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout", "check_stride")

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, **options):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            self._unsupported()
        if not allow_subclasses and type(actual) is not type(expected):
            self._unsupported()
        actual, expected = self._as_tensor(actual), self._as_tensor(expected)
        for t in (actual, expected):
            if t.layout != _mc.strided:
                raise ErrorMeta(ValueError, f"Unsupported tensor layout {t.layout}", id=id)
        super().__init__(actual, expected, id=id, **options)
        self.rtol, self.atol = get_tolerances(actual, expected, rtol=rtol, atol=atol, id=id)
        self.equal_nan = equal_nan
        self.check_device = check_device
        self.check_dtype = check_dtype
        self.check_layout = check_layout
        self.check_stride = check_stride

    def _as_tensor(self, x):
        if isinstance(x, _mc.Tensor):
            return x
        if isinstance(x, np.ndarray) and x.dtype == np.complex128:
            return _HostTensor(np.asarray(x))
        try:
            return _mc.as_tensor(x)
        except Exception:  # noqa: BLE001 - anything as_tensor refuses is another pair's business
            self._unsupported()

    def _mismatch(self, attribute, actual_value, expected_value):
        self._fail(AssertionError,
                   f"The values for attribute '{attribute}' do not match: {actual_value} != {expected_value}.")

    def compare(self):
        a, e = self.actual, self.expected
        if a.shape != e.shape:
            self._mismatch("shape", a.shape, e.shape)
        qa, qe = getattr(a, "is_quantized", False), getattr(e, "is_quantized", False)
        if qa != qe:
            self._mismatch("is_quantized", qa, qe)
        if a.layout != e.layout:
            if self.check_layout:
                self._mismatch("layout", a.layout, e.layout)
        elif a.layout == _mc.strided and self.check_stride and a.stride() != e.stride():
            self._mismatch("stride()", a.stride(), e.stride())
        if self.check_device and a.device != e.device:
            self._mismatch("device", a.device, e.device)
        if self.check_dtype and a.dtype != e.dtype:
            self._mismatch("dtype", a.dtype, e.dtype)
        if "meta" in (a.device.type, e.device.type):
            return
        self._compare_values(a, e)

    def _compare_values(self, a, e):
        (av, ak), (ev, ek) = _host_values(a), _host_values(e)
        if ak != ek:
            kind = _promoted_kind(ak, ek)
            av, ev = _cast(av, ak, kind), _cast(ev, ek, kind)
        else:
            kind = ak
        with np.errstate(all="ignore"):
            matches = _isclose(av, ev, kind, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
            if matches.all():
                return
            if av.ndim == 0:
                msg = make_scalar_mismatch_msg(av.item(), ev.item(), rtol=self.rtol, atol=self.atol)
            else:
                msg = _tensor_mismatch_msg(av, ev, kind, matches, rtol=self.rtol, atol=self.atol)
        self._fail(AssertionError, msg)


# ---------------------------------------------------------------------------------------------------- walking


def _item_path(id):
    return "".join(str([item]) for item in id)


def originate_pairs(actual, expected, *, pair_types, sequence_types=(collections.abc.Sequence,),
                    mapping_types=(collections.abc.Mapping,), id=(), **options):
    """The leaf pairs of two (possibly nested) inputs; structural mismatches raise ErrorMeta."""
    if (isinstance(actual, sequence_types) and not isinstance(actual, str)
            and isinstance(expected, sequence_types) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise ErrorMeta(AssertionError,
                            f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id=id)
        pairs = []
        for i in range(len(actual)):
            pairs += originate_pairs(actual[i], expected[i], pair_types=pair_types, sequence_types=sequence_types,
                                     mapping_types=mapping_types, id=(*id, i), **options)
        return pairs

    if isinstance(actual, mapping_types) and isinstance(expected, mapping_types):
        keys_a, keys_e = set(actual.keys()), set(expected.keys())
        if keys_a != keys_e:
            raise ErrorMeta(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(keys_e - keys_a)}\n"
                f"Additional keys in the actual mapping: {sorted(keys_a - keys_e)}",
                id=id,
            )
        keys = keys_a
        with contextlib.suppress(Exception):  # a deterministic order where the keys sort
            keys = sorted(keys)
        pairs = []
        for k in keys:
            pairs += originate_pairs(actual[k], expected[k], pair_types=pair_types, sequence_types=sequence_types,
                                     mapping_types=mapping_types, id=(*id, k), **options)
        return pairs

    for pair_type in pair_types:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except UnsupportedInputs:
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_item_path(id)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n{type(expected).__name__}(): {expected}\n\n"
                "resulted in the unexpected exception above."
            ) from error
    raise ErrorMeta(
        TypeError,
        f"No comparison pair was able to handle inputs of type {_type_repr(type(actual))} "
        f"and {_type_repr(type(expected))}.",
        id=id,
    )


def not_close_error_metas(actual, expected, *, pair_types=(NonePair, BooleanPair, NumberPair, TensorLikePair),
                          sequence_types=(collections.abc.Sequence,), mapping_types=(collections.abc.Mapping,),
                          **options):
    """ErrorMeta of every leaf pair that does not match (structural failures raise at once)."""
    __tracebackhide__ = True
    try:
        pairs = originate_pairs(actual, expected, pair_types=pair_types, sequence_types=sequence_types,
                                mapping_types=mapping_types, **options)
    except ErrorMeta as meta:
        raise meta.to_error() from None

    metas = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as meta:
            metas.append(meta)
        except Exception as error:
            raise RuntimeError(f"Comparing\n\n{pair}\n\nresulted in the unexpected exception above.") from error
    return metas


# ---------------------------------------------------------------------------------------------------- public API


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False, check_device=True,
                 check_dtype=True, check_layout=True, check_stride=False, msg=None):
    r"""Assert that `actual` and `expected` are close, as `torch.testing.assert_close`.

    Tensors (and tensor-likes of directly related types, such as two NumPy arrays) are close when they have the same
    shape, device (`check_device`), dtype (`check_dtype`), layout (`check_layout`) and, if `check_stride`, stride,
    and every element satisfies ``|actual - expected| <= atol + rtol * |expected|``. Infinities must be equal; NaNs
    match only with `equal_nan`. With `check_dtype=False` both sides are promoted to a common dtype first.

    Python numbers (`int`, `float`, `complex`, NumPy scalars) compare under the same rule with the tolerances of
    int64 / float64 / complex128; booleans and `None` compare for identity. Sequences and mappings are compared
    item by item (same length / same keys).

    `rtol` and `atol` are given together or not at all; omitted, each input's dtype picks them from:
    float16 1e-3 / 1e-5, bfloat16 1.6e-2 / 1e-5, float32 and complex64 1.3e-6 / 1e-5, float64 1e-7 / 1e-7, any other
    dtype 0 / 0 (the looser of the two inputs' values is used).

    `msg` replaces the failure message (a string) or maps the generated message to the raised one (a callable).

    Raises:
        AssertionError: the inputs are not close (or differ in an attribute that is checked, or in structure).
        TypeError: no comparison handles the two inputs (e.g. a tensor against a NumPy array).
        ValueError: only one of `rtol` / `atol` is given.
    """
    __tracebackhide__ = True
    metas = not_close_error_metas(
        actual, expected,
        pair_types=(NonePair, BooleanPair, NumberPair, TensorLikePair),
        allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
        check_dtype=check_dtype, check_layout=check_layout, check_stride=check_stride, msg=msg,
    )
    if metas:
        raise metas[0].to_error(msg)


_ALLCLOSE_DEPRECATION = (
    "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
    "Please use `torch.testing.assert_close()` instead. "
    "You can find detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844."
)

# assert_allclose's own defaults: {dtype name: (rtol, atol)}
_ALLCLOSE_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated form of `assert_close` (a FutureWarning says so): non-tensors become tensors (`expected` in
    `actual`'s dtype), dtypes may differ, NaNs match by default, and the default tolerances are float16 1e-3 / 1e-3,
    float32 1e-4 / 1e-5, float64 1e-5 / 1e-8 (0 / 0 otherwise)."""
    __tracebackhide__ = True
    warnings.warn(_ALLCLOSE_DEPRECATION, FutureWarning, stacklevel=2)
    if not isinstance(actual, _mc.Tensor):
        actual = _mc.tensor(actual)
    if not isinstance(expected, _mc.Tensor):
        expected = _mc.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions=_ALLCLOSE_PRECISIONS)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)
