"""torch.stft and torch.istft, composed from the package's differentiable ops and torch.fft.

Framing is advanced indexing (frame t is input[t * hop : t * hop + n_fft]), the transform is
mlx_compat.fft.rfft / fft over the last dim, so gradients reach the input and the window through the
tape. Like the FFTs, they compute in complex64 (Note [FFT dtypes] in fft.py): float64 raises TypeError.

Note [Overlap-add without scatter]
istft sums frame t into the output at offset t * hop (torch's unfold_backward). With the frame length
padded to K * hop, chunk k of frame t lands in output block t + k, so the sum is K shifted copies of the
frames' chunk k (each padded along the frame axis by k before and K - 1 - k after), added and
flattened: K = ceil(n_fft / hop) pads and adds, differentiable and complex-safe.

Note [align_to_window]
stft(center=False, align_to_window=True) places frames so that the window (win_length samples centred
in the n_fft frame) starts at t * hop: the same as zero-padding the input by the window's left and right
margins inside the frame, and framing that.
"""
from __future__ import annotations

import builtins
import math

from .. import _C, _dtype
from .._methods import declare_methods
from .._tensor import Tensor

__all__ = ["stft", "istft", "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _int(fname, name, v, default):
    if v is None:
        return default
    if isinstance(v, builtins.bool) or not isinstance(v, builtins.int):
        raise TypeError(f"{fname}(): argument '{name}' must be int, not {type(v).__name__}")
    return v


def _window_full(window, win_length, n_fft, like, fname, device=None):
    """The window centred in n_fft samples (ones when None), or None for an all-ones full-length window."""
    from ..nn import functional as F
    from .creation import ones

    if window is not None:
        if not isinstance(window, Tensor):
            raise TypeError(f"{fname}(): argument 'window' must be Tensor, not {type(window).__name__}")
        if window.dim() != 1 or window.shape[0] != win_length:
            if fname == "stft":
                raise RuntimeError(f"stft: expected a 1D window tensor of size equal to win_length={win_length}, "
                                   f"but got window with size {list(window.shape)}")
            raise RuntimeError("Invalid window shape. window has to be 1D and length of `win_length`")
    if win_length == n_fft:
        return window
    if window is None:
        window = ones(win_length, dtype=like, device=device)
    left = (n_fft - win_length) // 2
    return F.pad(window, [left, n_fft - win_length - left])


def _frames(x, n_fft, hop, n_frames):
    """x (B, L) -> (B, n_frames, n_fft), frame t = x[:, t * hop : t * hop + n_fft]."""
    from .creation import arange

    idx = arange(n_frames).unsqueeze(1) * hop + arange(n_fft).unsqueeze(0)
    return x[:, idx]


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """Short-time Fourier transform: (B?, N, T) complex (or (B?, N, T, 2) real for return_complex=False)."""
    from .. import fft as _fft
    from .shape import stack
    from ..nn import functional as F

    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    n_fft = _int("stft", "n_fft", n_fft, None)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    complex_in = input.dtype.is_complex or (isinstance(window, Tensor) and window.dtype.is_complex)
    if return_complex is None:
        if not complex_in:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will "
                               "further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if center:
        sd = input.dim()
        pad = n_fft // 2
        x = F.pad(input.reshape([1] * (3 - sd) + list(input.shape)), [pad, pad], pad_mode)
        input = x.reshape(tuple(x.shape[-sd:]))
    x = input.unsqueeze(0) if input.dim() == 1 else input
    length = x.shape[1]
    hop = _int("stft", "hop_length", hop_length, n_fft // 4)
    win = _int("stft", "win_length", win_length, n_fft)
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win}")
    w = _window_full(window, win, n_fft, x.dtype if not x.dtype.is_complex else _C._get_default_dtype(), "stft",
                     x.device)
    if align_to_window and win != n_fft:  # Note [align_to_window]
        left = (n_fft - win) // 2
        x = F.pad(x, [left, n_fft - win - left])
        length = x.shape[1]
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    n_frames = 1 + (length - n_fft) // hop
    frames = _frames(x, n_fft, hop, n_frames)
    if w is not None:
        frames = frames * w
    norm = "ortho" if normalized else "backward"
    spec = _fft.rfft(frames, dim=-1, norm=norm) if onesided else _fft.fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(1, 2)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    if not return_complex:
        spec = stack([spec.real, spec.imag], -1)
    return spec


def _overlap_add(frames, hop, out_len):
    """frames (C, T, n) summed at offsets t * hop into (C, out_len) (Note [Overlap-add without scatter])."""
    c, t, n = frames.shape
    k_count = -(-n // hop)
    if k_count * hop != n:
        frames = _pad_last(frames, k_count * hop - n)
    chunks = frames.reshape(c, t, k_count, hop)
    total = None
    for k in builtins.range(k_count):
        part = chunks[:, :, k, :]  # (C, T, hop)
        part = _pad_dim1(part, k, k_count - 1 - k)
        total = part if total is None else total + part
    flat = total.reshape(c, (t + k_count - 1) * hop)
    return flat[:, :out_len]


def _pad_last(x, amount):
    from .creation import zeros
    from .shape import cat

    z = zeros(tuple(x.shape[:-1]) + (amount,), dtype=x.dtype, device=x.device)
    return cat([x, z], -1)


def _pad_dim1(x, before, after):
    from .creation import zeros
    from .shape import cat

    parts = []
    if before:
        parts.append(zeros((x.shape[0], before, x.shape[2]), dtype=x.dtype, device=x.device))
    parts.append(x)
    if after:
        parts.append(zeros((x.shape[0], after, x.shape[2]), dtype=x.dtype, device=x.device))
    return cat(parts, 1) if len(parts) > 1 else x


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """Inverse of stft: overlap-add of the frames' inverse FFTs divided by the window envelope."""
    from .. import fft as _fft
    from .creation import ones

    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    n_fft = _int("istft", "n_fft", n_fft, None)
    hop = _int("istft", "hop_length", hop_length, n_fft // 4)
    win = _int("istft", "win_length", win_length, n_fft)
    length = _int("istft", "length", length, None)
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if input.numel() == 0:
        raise RuntimeError("istft input tensor cannot be empty")
    if not (0 < hop <= win):
        raise RuntimeError("istft(...) expected 0 < hop_length <= win_length")
    if not (0 < win <= n_fft):
        raise RuntimeError("istft(...) expected 0 < win_length <= n_fft")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft(...) expected a 2D or 3D complex tensor, but got {input.dim()}D")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    n_frames, fft_size = x.shape[-1], x.shape[-2]
    out_len = n_fft + hop * (n_frames - 1)
    x = x.transpose(1, 2)  # (C, T, fft_size)
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(f"istft(...) expected the frequency dimension (3rd to the last) of the input tensor "
                               f"to match n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    elif n_fft != fft_size:
        raise RuntimeError(f"istft(...) expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft when onesided=False, but got {fft_size}")
    w = _window_full(window, win, n_fft, _C._get_default_dtype(), "istft", input.device)
    if w is None:
        w = ones(n_fft, dtype=_C._get_default_dtype(), device=input.device)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = _fft.ifft(x, n=n_fft, dim=-1, norm=norm)
    else:
        if window is not None and window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            x = x[..., : n_fft // 2 + 1]
        frames = _fft.irfft(x, n=n_fft, dim=-1, norm=norm)
    y = _overlap_add(frames * w, hop, out_len)
    env = _overlap_add((w * w).reshape(1, 1, n_fft).expand(1, n_frames, n_fft), hop, out_len)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = out_len - n_fft // 2
    else:
        end = out_len
    stop = builtins.min(end, out_len)
    y = y[:, start:stop]
    env = env[:, start:stop]
    if env.numel() and builtins.bool((env.abs() < 1e-11).any()):
        raise RuntimeError("istft(...) window overlap add min: 1")
    y = y / env
    if end > out_len:
        from ..nn import functional as F

        extra = end - out_len
        y = _pad_last(y, extra) if y.dtype.is_complex else F.pad(y, [0, extra])
    if not batched:
        y = y.squeeze(0)
    return y


# ---------------------------------------------------------------- torch.*_window (the stft companions)
#
# Note [Periodic window functions]
# torch's top-level windows compute a symmetric window of length N + 1 and drop the last sample when
# periodic=True (the default), in the window's dtype, step by step as torch's kernels do:
# arange(N) * (2 pi / (N - 1)) -> cos -> * -beta + alpha for hamming/hann, and so on.


def _window_begin(fname, window_length, periodic, dtype):
    if isinstance(window_length, builtins.bool) or not isinstance(window_length, builtins.int):
        raise TypeError(f"{fname}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if not isinstance(periodic, builtins.bool):
        raise TypeError(f"{fname}(): argument 'periodic' (position 2) must be bool, not {type(periodic).__name__}")
    if dtype is None:
        dtype = _C._get_default_dtype()
    if dtype.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for 'ComplexFloat'")
    if not dtype.is_floating_point:
        raise RuntimeError(f"{fname} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(f"{fname} requires non-negative window_length, got window_length={window_length}")
    return dtype


def _window_end(w, periodic, requires_grad):
    if periodic:
        w = w[:-1]
    w = w.detach().contiguous() if w.requires_grad else w.contiguous()
    return w.requires_grad_(True) if requires_grad else w


def _trivial_window(window_length, dtype, device, requires_grad):
    from .creation import empty, ones

    if window_length == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if window_length == 1:
        return ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi n / (N - 1)) (Note [Periodic window functions])."""
    from .creation import arange

    dtype = _window_begin("hamming_window", window_length, periodic, dtype)
    t = _trivial_window(window_length, dtype, device, requires_grad)
    if t is not None:
        return t
    n = window_length + 1 if periodic else window_length
    w = arange(n, dtype=dtype, device=device) * (math.pi * 2.0 / (n - 1))
    return _window_end(w.cos() * -beta + alpha, periodic, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""
    _window_begin("hann_window", window_length, periodic, dtype)
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    from .creation import arange

    dtype = _window_begin("blackman_window", window_length, periodic, dtype)
    t = _trivial_window(window_length, dtype, device, requires_grad)
    if t is not None:
        return t
    n = window_length + 1 if periodic else window_length
    w = arange(n, dtype=dtype, device=device) * (math.pi / (n - 1))
    w = (w * 4).cos() * 0.08 - (w * 2).cos() * 0.5 + 0.42
    return _window_end(w, periodic, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The triangle 2n / (N - 1) rising, 2 - 2n / (N - 1) falling."""
    from .creation import arange
    from .shape import cat

    dtype = _window_begin("bartlett_window", window_length, periodic, dtype)
    t = _trivial_window(window_length, dtype, device, requires_grad)
    if t is not None:
        return t
    n = window_length + 1 if periodic else window_length
    w = arange(n, dtype=dtype, device=device) * (2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    w = cat([w[:half], -w[half:] + 2])
    return _window_end(w, periodic, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2."""
    from .creation import arange, tensor
    from .. import i0

    dtype = _window_begin("kaiser_window", window_length, periodic, dtype)
    t = _trivial_window(window_length, dtype, device, requires_grad)
    if t is not None:
        return t
    n = window_length + 1 if periodic else window_length
    # torch's kernel computes in the dtype's opmath type (float32 for half types)
    work = dtype if dtype.name not in ("float16", "bfloat16") else _dtype.float32
    a = (n - 1) / 2.0
    r = (arange(n, dtype=work, device=device) - a) / a
    w = i0((1 - r * r).sqrt() * beta) / i0(tensor(beta, dtype=work, device=device))
    return _window_end(w.to(dtype), periodic, requires_grad)


declare_methods({"stft": stft, "istft": istft})
