"""Grad-mode switches (no_grad, enable_grad, set_grad_enabled, inference_mode), over the C core's flag."""
from __future__ import annotations

import functools

from .. import _C

is_grad_enabled = _C.is_grad_enabled


class _GradMode:
    """Context manager and decorator setting grad mode to `self._target` for its extent."""

    _target = False

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._target)
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable gradient recording (a context manager, or a decorator with or without parentheses)."""

    _target = False

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class enable_grad(_GradMode):
    _target = True

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class set_grad_enabled(_GradMode):
    def __init__(self, mode):
        self._prev = _C.is_grad_enabled()
        self._target = bool(mode)
        _C._set_grad_enabled(self._target)  # takes effect immediately, as in torch

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        _C._set_grad_enabled(self._prev)
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return fn(*args, **kwargs)

        return wrapper


is_inference_mode_enabled = _C.is_inference_mode_enabled


class inference_mode(_GradMode):
    """no_grad, and tensors created inside report is_inference() (a decorator with or without parentheses)."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._target = not mode
        self._mode = bool(mode)

    def __enter__(self):
        self._prev_inf = _C.is_inference_mode_enabled()
        _C._set_inference_mode(self._mode)
        return super().__enter__()

    def __exit__(self, *exc):
        _C._set_inference_mode(self._prev_inf)
        return super().__exit__(*exc)

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper
