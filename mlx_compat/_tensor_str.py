"""PyTorch-style tensor printing, driven by numpy data.

This module reproduces ``torch._tensor_str`` (torch 2.13) character for
character: ``repr`` of an ``mlx_compat`` tensor must read exactly like the
``repr`` of the equivalent ``torch`` tensor.  It only needs numpy; it imports
neither torch nor mlx.  The caller hands over the tensor's values as a numpy
array plus a few facts about the tensor (dtype name, autograd state, device).

Public API
----------
* :func:`set_printoptions`, :func:`get_printoptions`, :func:`printoptions`
  -- same options, defaults and profiles as torch.
* :func:`format_tensor` -- the full ``tensor(...)`` string from numpy values.
* :func:`tensor_repr` -- convenience wrapper reading an mlx_compat tensor.

Notes on fidelity
-----------------
torch formats every element through Python's own ``float``/``int``
formatting after ``Tensor.item()`` (float32/float16/bfloat16 values are
widened exactly to a Python float), so formatting numpy values converted by
``ndarray.tolist()`` gives the same digits.  The statistics deciding
scientific notation are computed in float64, except for MPS tensors, where
torch computes them in float32; both are reproduced.
"""

import contextlib
import dataclasses
import math
from typing import Any, Dict, List, Optional

import numpy as np

__all__ = [
    "PRINT_OPTS",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "format_tensor",
    "tensor_repr",
]


# ---------------------------------------------------------------------------
# Print options
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _PrinterOptions:
    """Global printing options (field names and defaults as in torch)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None


PRINT_OPTS = _PrinterOptions()

# Values each named profile resets; other options are left untouched.
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing tensors (same semantics as torch).

    ``profile`` ('default', 'short' or 'full'; unknown names are ignored, as
    in torch) is applied first, then any explicit option overrides it.
    ``sci_mode`` is always assigned, so omitting it resets it to ``None``
    (automatic choice), exactly as torch does.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    explicit = dict(
        precision=precision,
        threshold=threshold,
        edgeitems=edgeitems,
        linewidth=linewidth,
    )
    for name, value in explicit.items():
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> Dict[str, Any]:
    """Return the current options as a dict usable as ``set_printoptions(**d)``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (arguments as ``set_printoptions``)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# Element formatter
# ---------------------------------------------------------------------------


def _is_floating_name(dtype_name: str) -> bool:
    """True for torch floating dtypes ('float32', 'bfloat16', 'float8_...')."""
    return dtype_name.startswith(("float", "bfloat", "half", "double"))


def _is_complex_name(dtype_name: str) -> bool:
    """True for torch complex dtypes ('complex64', 'complex128', ...)."""
    return dtype_name.startswith(("complex", "cfloat", "cdouble"))


def _fmt_fixed(value: float) -> str:
    """Fixed-point text with the current precision, e.g. '1.2346'."""
    return "{:.{p}f}".format(value, p=PRINT_OPTS.precision)


def _fmt_sci(value: float, width: int = 0) -> str:
    """Scientific text with the current precision, right-aligned to width."""
    return "{:{w}.{p}e}".format(value, w=width, p=PRINT_OPTS.precision)


class _Formatter:
    """Chooses one common layout for all elements of a (real) tensor.

    Mirrors ``torch._tensor_str._Formatter``: integers (and bools) are
    printed with ``str``; floats are printed either in *int mode* (all
    finite values integral: '1.'), fixed point ('1.2346') or scientific
    ('1.2346e+08'), and every element is right-aligned to ``max_width``.
    """

    def __init__(self, values: np.ndarray, floating: bool, float32_stats: bool = False):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            self._measure_plain(flat)
        else:
            self._analyse_floats(flat, float32_stats)

    def _measure_plain(self, flat: np.ndarray) -> None:
        """Width of integer/bool elements as printed by ``str``."""
        for value in flat.tolist():
            self.max_width = max(self.max_width, len(str(value)))

    def _analyse_floats(self, flat: np.ndarray, float32_stats: bool) -> None:
        """Pick int/sci mode and the width from the finite non-zero values."""
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            # Only zeros / nan / inf: keep int mode, never sci mode.
            return
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = self._wants_sci(finite, float32_stats)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        self._measure_floats(finite.tolist())

    @staticmethod
    def _wants_sci(finite: np.ndarray, float32_stats: bool) -> bool:
        """torch's automatic rule: wide dynamic range, huge or tiny values.

        torch computes these statistics in float64 (float32 on MPS).
        """
        stat_type = np.float32 if float32_stats else np.float64
        magnitudes = np.abs(finite).astype(stat_type)
        lo, hi = magnitudes.min(), magnitudes.max()
        with np.errstate(over="ignore"):  # float32 ratio may overflow to inf
            ratio = hi / lo
        return bool(
            ratio > stat_type(1000.0)
            or hi > stat_type(1.0e8)
            or lo < stat_type(1.0e-4)
        )

    def _measure_floats(self, finite: List[float]) -> None:
        """Widest element text for the chosen float mode."""
        if self.sci_mode:
            widths = (len(_fmt_sci(v)) for v in finite)
        elif self.int_mode:
            # '.' is appended to integral floats, hence the + 1.
            widths = (len("{:.0f}".format(v)) + 1 for v in finite)
        else:
            widths = (len(_fmt_fixed(v)) for v in finite)
        self.max_width = max(self.max_width, max(widths))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        """Text of one element, right-aligned to the common width."""
        if not self.floating_dtype:
            text = str(value)
        elif self.sci_mode:
            text = _fmt_sci(value, self.max_width)
        elif self.int_mode:
            text = "{:.0f}".format(value)
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = _fmt_fixed(value)
        return (self.max_width - len(text)) * " " + text


def _join_complex(real_str: str, imag_str: str) -> str:
    """'a' + 'b' -> 'a+bj', keeping an explicit sign of the imaginary part."""
    imag_str = (imag_str + "j").lstrip()
    if imag_str[0] in "+-":
        return real_str + imag_str
    return real_str + "+" + imag_str


class _ElementPrinter:
    """Formats single elements with one formatter (real) or two (complex)."""

    def __init__(self, real: _Formatter, imag: Optional[_Formatter] = None):
        self.real = real
        self.imag = imag

    def element_length(self) -> int:
        """Columns per element, including the ', ' separator (and the 'j')."""
        length = self.real.width() + 2
        if self.imag is not None:
            length += self.imag.width() + 1
        return length

    def __call__(self, value) -> str:
        if self.imag is None:
            return self.real.format(value)
        return _join_complex(self.real.format(value.real), self.imag.format(value.imag))


# ---------------------------------------------------------------------------
# Summarisation ('...' above the threshold)
# ---------------------------------------------------------------------------


def _summarized_data(values: np.ndarray) -> np.ndarray:
    """The elements that are actually shown once summarised.

    Like ``torch._tensor_str.get_summarized_data``: along every axis longer
    than ``2 * edgeitems`` keep only the first/last ``edgeitems`` entries.
    Quirks kept: with ``edgeitems == 0`` a 1-d tensor keeps everything
    (``t[-0:]`` is the whole tensor) while higher dims keep nothing.
    Only the set of values matters (it feeds the formatter).
    """
    edge = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim >= 2 and not edge:
        return values[tuple(slice(0, 0) for _ in range(values.ndim))]
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * edge:
            head = np.take(values, np.arange(values.shape[axis])[:edge], axis=axis)
            tail = np.take(values, np.arange(values.shape[axis])[-edge:], axis=axis)
            values = np.concatenate((head, tail), axis=axis)
    return values


# ---------------------------------------------------------------------------
# Layout of nested brackets
# ---------------------------------------------------------------------------


def _scalar_str(values: np.ndarray, printer: _ElementPrinter) -> str:
    """A 0-d tensor: just the formatted element."""
    return printer(values.item())


def _vector_str(values: np.ndarray, indent: int, summarize: bool, printer: _ElementPrinter) -> str:
    """A 1-d tensor: '[a, b, c]', wrapped to fit ``linewidth``."""
    edge = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / printer.element_length()))

    if summarize and not edge:
        items = ["..."]
    elif summarize and values.shape[0] > 2 * edge:
        items = (
            [printer(v) for v in values[:edge].tolist()]
            + [" ..."]
            + [printer(v) for v in values[-edge:].tolist()]
        )
    else:
        items = [printer(v) for v in values.tolist()]

    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values: np.ndarray, indent: int, summarize: bool, printer: _ElementPrinter) -> str:
    """Any tensor: recurse over the first axis, one blank line per extra dim."""
    if values.ndim == 0:
        return _scalar_str(values, printer)
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, printer)

    edge = PRINT_OPTS.edgeitems
    rows = values.shape[0]

    def sub(i):
        return _nested_str(values[i], indent + 1, summarize, printer)

    if summarize and rows > 2 * edge:
        parts = [sub(i) for i in range(edge)] + ["..."] + [sub(i) for i in range(rows - edge, rows)]
    else:
        parts = [sub(i) for i in range(rows)]

    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _make_printer(values: np.ndarray, dtype_name: str, summarize: bool, float32_stats: bool) -> _ElementPrinter:
    """Build the element printer from the (possibly summarised) values."""
    shown = _summarized_data(values) if summarize else values
    if _is_complex_name(dtype_name) or np.iscomplexobj(values):
        real = _Formatter(np.ascontiguousarray(shown.real), True, float32_stats)
        imag = _Formatter(np.ascontiguousarray(shown.imag), True, float32_stats)
        return _ElementPrinter(real, imag)
    floating = _is_floating_name(dtype_name)
    return _ElementPrinter(_Formatter(shown, floating, float32_stats))


def _tensor_str(values: np.ndarray, indent: int, dtype_name: str, float32_stats: bool = False) -> str:
    """The bracketed body of the repr (without 'tensor(' and suffixes)."""
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTS.threshold
    printer = _make_printer(values, dtype_name, summarize, float32_stats)
    return _nested_str(values, indent, summarize, printer)


# ---------------------------------------------------------------------------
# Suffixes: device=..., dtype=..., size=..., grad_fn=..., requires_grad=...
# ---------------------------------------------------------------------------


def _add_suffixes(tensor_str: str, suffixes: List[str], indent: int) -> str:
    """Append ', suffix' items, breaking the line when it would overflow.

    ``last_line_len`` is computed exactly as torch does (including its
    off-by-two when the text has no newline).
    """
    pieces = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def _has_default_dtype(dtype_name: str, default_float_name: str) -> bool:
    """torch omits 'dtype=' for the default float/complex dtype, int64 and bool."""
    default_complex = "complex128" if default_float_name == "float64" else "complex64"
    return dtype_name in (default_float_name, default_complex, "int64", "bool")


def _device_suffix(device: Optional[str]) -> List[str]:
    """The ``device='cuda:0'`` suffix, for any non-CPU device."""
    if device is None or str(device) == "cpu" or str(device).startswith("cpu:"):
        return []
    return ["device='" + str(device) + "'"]


def _autograd_suffix(requires_grad: bool, grad_fn_name: Optional[str]) -> List[str]:
    """'grad_fn=<Name>' for non-leaves, else 'requires_grad=True' if set."""
    if grad_fn_name is not None:
        return ["grad_fn=<" + grad_fn_name + ">"]
    if requires_grad:
        return ["requires_grad=True"]
    return []


def _as_printable(values, dtype_name: str) -> np.ndarray:
    """Make ``values`` an ndarray numpy can compute on (bf16 etc. -> float32)."""
    values = np.asarray(values)
    if _is_floating_name(dtype_name) and values.dtype.kind not in "fc":
        values = values.astype(np.float32)
    return values


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def format_tensor(
    values,
    *,
    dtype_name: str,
    default_float_name: str = "float32",
    requires_grad: bool = False,
    grad_fn_name: Optional[str] = None,
    device: Optional[str] = None,
    prefix: str = "tensor(",
    tensor_contents: Optional[str] = None,
) -> str:
    """The full torch-style repr, e.g. ``tensor([1., 2.], requires_grad=True)``.

    Args:
        values: numpy array of the tensor's values (float16/bfloat16 tensors
            may be passed widened to float32).
        dtype_name: torch dtype name without 'torch.' ('float32', 'int8', ...).
        default_float_name: name of the current default float dtype.
        requires_grad: the tensor's ``requires_grad`` flag.
        grad_fn_name: name of the tensor's grad_fn (None for leaves).
        device: None for CPU, else the device string, e.g. 'cuda:0'.
        prefix: text before the body; its length sets the indentation.
        tensor_contents: replaces the computed body when given.
    """
    values = _as_printable(values, dtype_name)
    indent = len(prefix)
    device_str = None if device is None else str(device)
    suffixes = _device_suffix(device_str)

    if values.size == 0:
        # Empty: always say the shape unless (0,), and the dtype unless it is
        # the default float dtype (int64/bool included: nothing to infer from).
        if values.ndim != 1:
            suffixes.append("size=" + str(tuple(values.shape)))
        if dtype_name != default_float_name:
            suffixes.append("dtype=torch." + dtype_name)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(values.shape)))
        if not _has_default_dtype(dtype_name, default_float_name):
            suffixes.append("dtype=torch." + dtype_name)
        if tensor_contents is None:
            float32_stats = device_str is not None and device_str.startswith("mps")
            body = _tensor_str(values, indent, dtype_name, float32_stats)
    if tensor_contents is not None:
        body = tensor_contents

    suffixes += _autograd_suffix(requires_grad, grad_fn_name)
    return _add_suffixes(prefix + body, suffixes, indent)


def _dtype_name(dtype) -> str:
    """'torch.float32' (or a dtype object printing like it) -> 'float32'."""
    return str(dtype).split(".")[-1]


def _grad_fn_name(grad_fn) -> Optional[str]:
    """Display name of a grad_fn: its ``name()`` if it has one, else its type."""
    if grad_fn is None:
        return None
    name_method = getattr(grad_fn, "name", None)
    if callable(name_method):
        return str(name_method()).rsplit("::", 1)[-1]
    return type(grad_fn).__name__


def _device_string(device) -> Optional[str]:
    """None for CPU devices, else ``str(device)`` (e.g. 'cuda:0')."""
    if device is None:
        return None
    device_type = getattr(device, "type", str(device).split(":")[0])
    return None if device_type == "cpu" else str(device)


def tensor_repr(t, default_float_name="float32") -> str:
    """torch-style repr of an mlx_compat tensor ``t``.

    ``default_float_name`` is the default dtype's name ('float32'), or a
    callable returning it (or returning a dtype such as ``torch.float32``).
    The 'Parameter containing:' header is left to the caller.
    """
    if callable(default_float_name):
        default_float_name = default_float_name()
    default_float_name = _dtype_name(default_float_name)

    dtype_name = _dtype_name(t.dtype)
    data = t.detach().cpu()
    if dtype_name in ("bfloat16", "float16"):
        data = data.float()
    if hasattr(data, "is_conj") and (data.is_conj() or data.is_neg()):  # Note [Conjugate views]: print the values
        data = data.resolve_conj().resolve_neg()
    grad_fn_name = _grad_fn_name(getattr(t, "grad_fn", None))
    return format_tensor(
        data.numpy(),
        dtype_name=dtype_name,
        default_float_name=default_float_name,
        requires_grad=bool(getattr(t, "requires_grad", False)),
        grad_fn_name=grad_fn_name,
        device=_device_string(getattr(t, "device", None)),
    )
