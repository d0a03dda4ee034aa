"""torch.autograd.anomaly_mode: detect_anomaly / set_detect_anomaly and torch's set_anomaly_enabled /
is_anomaly_enabled / is_anomaly_check_nan_enabled. With anomaly detection and its NaN check on, every node's
backward is checked as it runs (the engine calls `_check_nan`, csrc/engine.c) and the first gradient holding a NaN
raises torch's RuntimeError naming the node; each check reads a value, so, as torch says, this slows the backward
and is for debugging. While it is on, every recorded node keeps the traceback of the forward call that made it
(Note [Anomaly tracebacks] in csrc/autograd.c), and the failing check first warns with it, as torch does."""
import traceback
import warnings

from .. import _C

__all__ = ["detect_anomaly", "set_detect_anomaly"]

_state = {"enabled": False, "check_nan": True}


def _record_traceback(node):
    """The engine's hook for each node recorded in anomaly mode: torch's metadata["traceback_"], the forward's
    stack as traceback.format_stack's lines, without this hook's own frame."""
    node.metadata["traceback_"] = traceback.format_stack()[:-1]


def set_anomaly_enabled(enabled, check_nan=True):
    _state["enabled"], _state["check_nan"] = bool(enabled), bool(check_nan)
    _C._set_anomaly_hook(_record_traceback if enabled else None)


def _warn_forward_traceback(node):
    """torch's warning when a backward fails under anomaly mode: where the failing node's forward ran."""
    tb = node.metadata.get("traceback_")
    if tb:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                      + "".join(tb), stacklevel=2)
    else:
        warnings.warn(f"Error detected in {node.name()}. No forward pass information available. Enable detect "
                      "anomaly during forward pass for more information.", stacklevel=2)


def is_anomaly_enabled():
    return _state["enabled"]


def is_anomaly_check_nan_enabled():
    return _state["check_nan"]


def _check_nan(node, grad_inputs):
    """The engine's per-node check: torch's error for the first gradient with a NaN."""
    from .. import Tensor

    for i, g in enumerate(grad_inputs):
        if isinstance(g, Tensor) and (g.dtype.is_floating_point or g.dtype.is_complex) and g.isnan().any().item():
            _warn_forward_traceback(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def engine_check():
    """What the engine calls after each node (None: nothing)."""
    return _check_nan if _state["enabled"] and _state["check_nan"] else None


class detect_anomaly:
    """Context manager: anomaly detection on for the block (and the NaN check unless check_nan=False)."""

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Turns anomaly detection on or off, as a call or for a with-block (restored after it)."""

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
