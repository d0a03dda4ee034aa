"""nn.functional conv_transpose1d/2d/3d.

Note [transposed convolution as a convolution]
conv_transpose(x, w) with stride s, padding p, dilation d and output_padding op is the plain stride-1
convolution of x with s-1 zeros inserted between neighbours, padded by d*(k-1)-p before and
d*(k-1)-p+op after (a negative amount crops instead), with the kernel flipped spatially and its
in/out channel roles swapped per group: torch's weight (C_in, C_out/groups, k...) becomes the
convolution weight (C_out, k..., C_in/groups) in MLX's channels-last layout. All of it is one pure MLX
function under `mlx_op`, so the backward w.r.t. input, weight and bias is mx.vjp of it (Note [MLX vjp
fallback]). float64 goes through nn.functional's `_conv_f64`, as the plain convolutions do; complex64 is
four real convolutions of the real and imaginary parts (mx.vjp's complex convention is torch's).

Note [Transposed convolution by phases]
MLX's CPU backend convolves an input with inserted zeros (its `input_dilation`, what MLX's own vjp of a strided
convolution asks for the input's gradient) in a direct loop of its own: the input gradient of a 3x3 stride-2
convolution, 8x64x32x32 -> 128 channels, took 245 ms on this repository's 2-core VM against 6 ms for torch's
whole forward and backward, and inserting the zeros explicitly (as above) multiplies the work by the stride's
product. Both are the transposed convolution out[u - p] = sum over s*o + i = u of x[o] * w[i] (per spatial axis,
dilation 1), and each output position u takes only the taps i congruent to u modulo s: split u = s*j + r, and
the outputs of phase r are the stride-1 "full" convolution of x with the sub-kernel w[r::s] flipped,
out_r[j] = sum_m x[j - m] * w[r + s*m]. `transposed_conv` computes the prod(s) phases that way (each one of
MLX's ordinary convolutions, which on the CPU are a product over unfolded windows), interleaves them by a stack
and a reshape, and crops the padding: the same products as torch's, no multiplication by an inserted zero.
The CPU uses it for the input gradient of every strided convolution (nn.functional's `_strided_conv`) and for
conv_transpose's forward with dilation 1; the sums are ordered differently from MLX's loop, not less exactly.
The GPUs keep MLX's own kernels (cuDNN takes the input dilation natively).
"""
from __future__ import annotations

import builtins
import itertools

import mlx.core as mx

from ..autograd._mlx_vjp import mlx_op

_PHASE_DTYPES = (mx.float32, mx.float16, mx.bfloat16)  # what MLX's convolution takes

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
TORCH_EXPORTS = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _tuple(v, n, name, fn):
    items = v if isinstance(v, (tuple, list)) else [v]
    for x in items:
        if isinstance(x, (bool, str, float)) or not hasattr(x, "__index__"):
            raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(x).__name__}")
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return (builtins.int(v[0]),) * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return tuple(builtins.int(x) for x in v)
    return (builtins.int(v),) * n


def _dilate(x, axis, s):
    """Insert s-1 zeros between neighbours along axis (channels-last array)."""
    if s == 1 or x.shape[axis] == 0:
        return x
    n = x.shape[axis]
    z = mx.zeros(x.shape[: axis + 1] + (s - 1,) + x.shape[axis + 1:], x.dtype)
    y = mx.concatenate([mx.expand_dims(x, axis + 1), z], axis=axis + 1)
    y = y.reshape(x.shape[:axis] + (n * s,) + x.shape[axis + 1:])
    key = [slice(None)] * y.ndim
    key[axis] = slice(0, (n - 1) * s + 1)
    return y[tuple(key)]


def _pad_or_crop(x, axis, lo, hi):
    if lo < 0 or hi < 0:
        key = [slice(None)] * x.ndim
        key[axis] = slice(builtins.max(-lo, 0), x.shape[axis] - builtins.max(-hi, 0))
        x = x[tuple(key)]
    if lo > 0 or hi > 0:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (builtins.max(lo, 0), builtins.max(hi, 0))
        x = mx.pad(x, widths)
    return x


def _conv_mlx(x, w, dilation, groups):
    """Stride-1, unpadded channels-last convolution; x (N, *S, C), w (O, *K, C/groups)."""
    nd = x.ndim - 2
    if x.dtype == mx.float64:
        from .functional import _conv_f64
        return _conv_f64(x, w, (1,) * nd, (0,) * nd, (0,) * nd, dilation, groups)
    if groups == 1 or nd < 3:
        return mx.conv_general(x, w, kernel_dilation=list(dilation), groups=groups)
    # MLX has no grouped 3-D convolution: one convolution per group
    ci, co = x.shape[-1] // groups, w.shape[0] // groups
    parts = [mx.conv_general(x[..., i * ci:(i + 1) * ci], w[i * co:(i + 1) * co], kernel_dilation=list(dilation))
             for i in builtins.range(groups)]
    return mx.concatenate(parts, axis=-1)


def by_phases(stride, dilation, groups, nd):
    """Whether a transposed convolution (a strided convolution's input gradient, conv_transpose's forward) is
    computed by phases on the CPU (Note [Transposed convolution by phases]): strided, dilation 1, groups MLX
    convolves (not 3-D)."""
    return (builtins.any(s > 1 for s in stride) and builtins.all(d == 1 for d in dilation)
            and (groups == 1 or nd < 3))


def transposed_conv(x, w, stride, pad, out_sp, groups):
    """The transposed convolution of channels-last x (N, *L, O) as the adjoint of the stride-`stride` convolution
    by w (O, *K, C/groups) padded `pad` before: (N, *out_sp, C), by phases (Note [Transposed convolution by
    phases]); dilation 1, and groups only where MLX convolves them (not 3-D)."""
    nd = x.ndim - 2
    n, o, ks, cg = x.shape[0], w.shape[0], w.shape[1:-1], w.shape[-1]
    # the adjoint's weight: (O, *K, C/g) -> (g, O/g, *K, C/g) -> (g, C/g, *K, O/g) -> (C, *K, O/g)
    wt = w.reshape((groups, o // groups) + ks + (cg,))
    wt = mx.transpose(wt, (0, nd + 2) + tuple(builtins.range(2, nd + 2)) + (1,))
    wt = wt.reshape((groups * cg,) + ks + (o // groups,))
    sp = x.shape[1:-1]
    # each phase's outputs j in [0, J): the padded positions u = s*j + r cover [0, pad + out)
    js = tuple(-(-(p + m) // s) for p, m, s in zip(pad, out_sp, stride))
    phases = {}
    for r in itertools.product(*(builtins.range(s) for s in stride)):
        taps = [len(builtins.range(q, k, s)) for q, k, s in zip(r, ks, stride)]
        if 0 in taps:  # a kernel narrower than the stride: these positions take no tap
            phases[r] = mx.zeros((n,) + js + (groups * cg,), x.dtype)
            continue
        sub = wt[(slice(None),) + tuple(slice(q, None, s) for q, s in zip(r, stride))]
        # padding m-1 before and J-L after: outputs j = 0 .. J-1 of the full convolution (zeros past x's end)
        after = [j - l for j, l in zip(js, sp)]
        y = mx.conv_general(x, sub, padding=([t - 1 for t in taps], [builtins.max(a, 0) for a in after]),
                            groups=groups, flip=True)
        if builtins.any(a < 0 for a in after):
            y = y[(slice(None),) + tuple(slice(0, j) for j in js)]
        phases[r] = y

    def interleave(prefix, axis):
        # (N, J0, s0, ..., J_{nd-1}, s_{nd-1}, C): each axis's phases stacked just after its J
        if axis == nd:
            return phases[prefix]
        return mx.stack([interleave(prefix + (q,), axis + 1) for q in builtins.range(stride[axis])], axis=2 + axis)

    y = interleave((), 0).reshape((n,) + tuple(j * s for j, s in zip(js, stride)) + (groups * cg,))
    return y[(slice(None),) + tuple(slice(p, p + m) for p, m in zip(pad, out_sp))]


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    name = f"conv_transpose{nd}d"
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions: expected {nd + 2}-dimensional weight for "
                           f"{nd + 2}-dimensional input, but got weight of size {list(weight.shape)}")
    groups = builtins.int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    batched = input.dim() == nd + 2
    x_in = input if batched else input.unsqueeze(0)
    stride = _tuple(stride, nd, "stride", name)
    padding = _tuple(padding, nd, "padding", name)
    output_padding = _tuple(output_padding, nd, "output_padding", name)
    dilation = _tuple(dilation, nd, "dilation", name)
    if builtins.any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if builtins.any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got " + ", ".join(
            f"dilation_{a}: {d}" for a, d in zip(("depth", "height", "width")[3 - nd:], dilation)))
    if builtins.any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if builtins.any(o < 0 for o in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if weight.shape[0] < groups:  # torch's checks of the weight's first dimension come first
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(weight.shape)} instead")
    if weight.shape[0] % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(weight.shape)}] instead")
    c_in = x_in.shape[1]
    if weight.shape[0] != c_in:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                           f"{list(x_in.shape)} to have {weight.shape[0]} channels, but got {c_in} channels instead")
    if builtins.any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got output_padding="
                           f"{list(output_padding)}, stride={list(stride)}, dilation={list(dilation)}")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    if bias is not None:
        if bias.dtype is not input.dtype:
            raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")
        if bias.dim() != 1 or bias.shape[0] != weight.shape[1] * groups:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                               f"1-dimensional with {weight.shape[1] * groups} elements, but got bias of size "
                               f"{list(bias.shape)} instead")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"\"slow_conv_transpose{nd}d_out_cpu\" not implemented for '{input.dtype}'")
    ks = tuple(weight.shape[2:])
    in_sp = tuple(x_in.shape[2:])
    out_sp = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                   for i, s, p, d, k, o in zip(in_sp, stride, padding, dilation, ks, output_padding))
    if builtins.any(o <= 0 for o in out_sp):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, in_sp))}). Calculated output size "
                           f"per channel: ({' x '.join(map(str, out_sp))}). Output size is too small")
    cout_g = weight.shape[1]
    cin_g = c_in // groups
    n = x_in.shape[0]
    out_shape = (n, cout_g * groups) + out_sp

    def real_conv(xc, w):
        """xc: the zero-dilated, padded input (N, *S, C); w: torch's weight layout."""
        # (C_in, C_out/g, *K) -> (g, C_out/g, *K, C_in/g) -> (C_out, *K, C_in/g), kernel flipped
        wc = w.reshape((groups, cin_g, cout_g) + ks)
        wc = mx.transpose(wc, (0, 2) + tuple(builtins.range(3, nd + 3)) + (1,))
        wc = wc.reshape((groups * cout_g,) + ks + (cin_g,))
        wc = wc[(slice(None),) + (slice(None, None, -1),) * nd]
        return _conv_mlx(xc, wc, dilation, groups)

    phases = by_phases(stride, dilation, groups, nd)

    def f(x, w, *b):
        if x.size == 0 or w.size == 0:
            y = mx.zeros(out_shape, x.dtype)
        elif phases and x.dtype in _PHASE_DTYPES and mx.default_device() == mx.cpu:
            # Note [Transposed convolution by phases]: torch's weight (C_in, C_out/g, *K) is the weight of the
            # convolution this one is the adjoint of, (C_in, *K, C_out/g) channels-last
            perm = (0,) + tuple(builtins.range(2, nd + 2)) + (1,)
            y = transposed_conv(mx.transpose(x, perm), mx.transpose(w, perm), stride, padding, out_sp, groups)
            y = mx.transpose(y, (0, nd + 1) + tuple(builtins.range(1, nd + 1)))
        else:
            xc = mx.transpose(x, (0,) + tuple(builtins.range(2, nd + 2)) + (1,))  # (N, *S, C)
            for i in builtins.range(nd):
                xc = _dilate(xc, 1 + i, stride[i])
                lo = dilation[i] * (ks[i] - 1) - padding[i]
                xc = _pad_or_crop(xc, 1 + i, lo, lo + output_padding[i])
            if x.dtype == mx.complex64:  # MLX convolves real arrays only: four real convolutions
                xr, xi, wr, wi = mx.real(xc), mx.imag(xc), mx.real(w), mx.imag(w)
                y = (real_conv(xr, wr) - real_conv(xi, wi)) + 1j * (real_conv(xr, wi) + real_conv(xi, wr))
            else:
                y = real_conv(xc, w)
            y = mx.transpose(y, (0, nd + 1) + tuple(builtins.range(1, nd + 1)))
        if b:
            y = y + b[0].reshape((1, -1) + (1,) * nd)
        return y.astype(x.dtype)

    ins = [x_in, weight] + ([bias] if bias is not None else [])
    out = mlx_op("ConvolutionBackward0", f, ins)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
