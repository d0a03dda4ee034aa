"""nn.functional interpolate/upsample, grid_sample, affine_grid.

Every resampling here is a gather of input values followed by a weighted sum, written as one pure MLX
function run through `mlx_op` (Note [MLX vjp fallback]): the backward is mx.vjp of the same gathers and
products, i.e. torch's scatter-add of weighted cotangents, and the gradient w.r.t. a grid flows through
the weights exactly as in torch's kernels.

Note [resampling index arithmetic]
Which input element a destination index reads is decided by floor/round of a float coordinate, and a
coordinate one ulp either side of an integer picks a different element. torch's CPU kernels compute
the scale and the source coordinates in the input's "opmath" type (float32 for float32/float16/
bfloat16, float64 for float64), and nearest modes always in float32; we do the same arithmetic in
numpy with the same float type, so the chosen indices (and the weights) are bit-for-bit torch's.

Note [uint8 resize]
torch resizes uint8 images (bilinear, bicubic, lanczos; 2-D) in fixed point: weights computed in double, scaled to
int16 by 2**precision (the largest precision that keeps the biggest weight under 2**15), int32 sums plus
half an ulp, shifted back and clamped, one axis at a time (width, then height), rounding to uint8 in
between. We reproduce that bit for bit for bilinear and the antialiased modes; torch's plain bicubic uint8
kernel builds its weights another way that we do not reproduce, so it raises rather than differ.
"""
from __future__ import annotations

import builtins
import math
import numbers

import mlx.core as mx
import numpy as np

from .._device_scope import warn as _warn
from ..autograd._mlx_vjp import mlx_op
from .._tensor import _TORCH_NAME, Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid"]
# also exported as mlx_compat.<name> (torch has them at top level)
TORCH_EXPORTS = ["grid_sampler", "grid_sampler_2d", "grid_sampler_3d", "affine_grid_generator"]

_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')


def _opmath(dtype):
    return np.float64 if dtype.name == "float64" else np.float32


def _compute_dtype(x):
    """MLX dtype the weighted sums run in: float32 for the half types (torch's opmath), else x's own."""
    return mx.float32 if x.dtype in (mx.float16, mx.bfloat16) else x.dtype


# ---------------------------------------------------------------- per-axis taps


def _scale(in_size, out_size, align_corners, scale, ft):
    """torch's area_pixel_compute_scale in float type ft."""
    if align_corners:
        return ft(in_size - 1) / ft(out_size - 1) if out_size > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(in_size) / ft(out_size)


def _source_index(scale, dst, align_corners, cubic, ft):
    if align_corners:
        return scale * dst
    src = scale * (dst + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _taps_nearest(in_size, out_size, scale, exact):
    """(out, 1) indices of torch's nearest_idx / nearest_neighbor_exact_compute_source_index."""
    o = np.arange(out_size)
    if not exact and out_size == in_size:
        idx = o
    elif not exact and out_size == 2 * in_size:
        idx = o >> 1
    else:
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
        of = o.astype(np.float32)
        src = (of + np.float32(0.5)) * s if exact else of * s
        idx = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    return idx.reshape(-1, 1), None, None


def _taps_linear(in_size, out_size, scale, align_corners, ft):
    s = _scale(in_size, out_size, align_corners, scale, ft)
    src = _source_index(s, np.arange(out_size).astype(ft), align_corners, False, ft)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(ft), ft(0), ft(1)).astype(ft)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1], 1), np.stack([ft(1) - lam, lam], 1), None


def _cubic_coeffs(t, ft):
    a = ft(-0.75)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = ft(1)
    return [far(t + one), near(t), near(one - t), far(ft(2) - t)]


def _taps_cubic(in_size, out_size, scale, align_corners, ft):
    s = _scale(in_size, out_size, align_corners, scale, ft)
    src = _source_index(s, np.arange(out_size).astype(ft), align_corners, True, ft)
    fl = np.floor(src)
    t = (src - fl).astype(ft)
    base = fl.astype(np.int64)
    idx = np.stack([np.clip(base + k, 0, in_size - 1) for k in (-1, 0, 1, 2)], 1)
    return idx, np.stack(_cubic_coeffs(t, ft), 1).astype(ft), None


def _taps_area(in_size, out_size):
    """adaptive average pooling: window [floor(i*in/out), ceil((i+1)*in/out)), padded to a common width."""
    o = np.arange(out_size)
    start = (o * in_size) // out_size
    end = -((-(o + 1) * in_size) // out_size)
    width = builtins.int((end - start).max())
    k = np.arange(width)
    idx = start[:, None] + k[None, :]
    valid = idx < end[:, None]
    idx = np.where(valid, idx, start[:, None])
    w = np.where(valid, 1.0 / (end - start)[:, None], 0.0)
    return idx, w, valid


def _aa_filter(mode, x):
    x = np.abs(x)
    if mode == "bilinear":
        return np.where(x < 1.0, 1.0 - x, 0.0)
    if mode == "lanczos":  # Lanczos-3: sinc(x) sinc(x / 3) on |x| < 3
        return np.where(x < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)
    a = -0.5  # torch's antialiased bicubic uses A = -0.5 (as PIL)
    return np.where(x <= 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _taps_aa(mode, in_size, out_size, scale, align_corners, ft):
    """torch's separable antialiased kernel (_compute_index_ranges_weights): a filter widened by the
    downscale factor, normalised per output element."""
    s = _scale(in_size, out_size, align_corners, scale, ft)
    interp = {"bilinear": 2, "bicubic": 4, "lanczos": 6}[mode]
    support = (interp / 2) * s if s >= 1.0 else interp * 0.5
    support = ft(support)
    width = builtins.int(math.ceil(support)) * 2 + 1
    invscale = ft(1.0) / s if s >= 1.0 else ft(1.0)
    idx = np.zeros((out_size, width), np.int64)
    w = np.zeros((out_size, width), ft)
    valid = np.zeros((out_size, width), bool)
    for i in builtins.range(out_size):
        center = s * (ft(i) + ft(0.5))  # align_corners changes only the scale
        xmin = builtins.max(builtins.int(center - support + ft(0.5)), 0)
        xsize = builtins.min(builtins.int(center + support + ft(0.5)), in_size) - xmin
        j = np.arange(xsize)
        ws = _aa_filter(mode, (j + xmin - center + ft(0.5)) * invscale).astype(ft)
        total = ws.sum()
        if total != 0:
            ws = ws / total
        idx[i, :xsize] = xmin + j
        idx[i, xsize:] = xmin
        w[i, :xsize] = ws
        valid[i, :xsize] = True
    return idx, w, valid


def _resample(x, taps, out_dtype):
    """Apply per-axis taps [(axis, idx (out, T), w (out, T) | None, valid | None)] to the MLX array x."""
    y = x.astype(_compute_dtype(x)) if out_dtype is not None else x
    for axis, idx, w, valid in taps:
        out_n, ntap = idx.shape
        bshape = [1] * y.ndim
        bshape[axis] = out_n
        acc = None
        for t in builtins.range(ntap):
            v = mx.take(y, mx.array(idx[:, t].astype(np.int32)), axis=axis)
            if w is not None:
                v = v * mx.array(w[:, t], dtype=y.dtype).reshape(bshape)  # (MLX reads float64 numpy as float32)
            if valid is not None:
                v = mx.where(mx.array(valid[:, t]).reshape(bshape), v, mx.zeros((), y.dtype))
            acc = v if acc is None else acc + v
        y = acc
    return y.astype(x.dtype) if out_dtype is not None else y


def _resample_uint8(x, taps):
    """torch's uint8 separable resize (Note [uint8 resize]): per axis, width first, int16 fixed-point weights
    with the precision the largest weight allows, int32 sums rounded, shifted and clamped to [0, 255]."""
    y = x
    for axis, idx, w, valid in taps:
        if valid is not None:
            w = np.where(valid, w, 0.0)
        p = 22 - builtins.int(((0.5 + w.max() * 2.0 ** (np.arange(22) + 1)) >= 2 ** 15).sum())
        wi = np.trunc(w * 2.0 ** p + np.sign(w) * 0.5).astype(np.int32)
        bshape = [1] * y.ndim
        bshape[axis] = idx.shape[0]
        acc = mx.array(1 << (p - 1), dtype=mx.int32)
        for t in builtins.range(idx.shape[1]):
            v = mx.take(y, mx.array(idx[:, t].astype(np.int32)), axis=axis).astype(mx.int32)
            acc = acc + v * mx.array(wi[:, t]).reshape(bshape)
        y = mx.clip(mx.right_shift(acc, p), 0, 255).astype(mx.uint8)
    return y


# ---------------------------------------------------------------- interpolate


def _is_integer(v):
    return isinstance(v, numbers.Integral) or (isinstance(v, Tensor) and not v.dtype.is_floating_point
                                               and v.dim() == 0)


_LINEAR_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {list(input.shape[2:])} and output size of {size}. Please provide input tensor "
                    "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not builtins.all(_is_integer(s) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            output_size = [builtins.int(s) for s in size]
        else:
            output_size = [builtins.int(size)] * builtins.max(dim, 0)
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {list(input.shape[2:])} and scale_factor of shape {scale_factor}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                    "(s1, s2, ...,sK) format.")
            scale_factors = [builtins.float(s) for s in scale_factor]
        else:
            scale_factors = [builtins.float(scale_factor)] * builtins.max(dim, 0)
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [builtins.int(math.floor(input.shape[i + 2] * scale_factors[i])) for i in builtins.range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    valid_rank = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3)}
    if mode == "lanczos" and dim == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        valid_rank["lanczos"] = (2,)
    ranks = valid_rank.get(mode, (_LINEAR_RANK[mode],) if mode in _LINEAR_RANK else ())
    if dim not in ranks:
        if mode in _LINEAR_RANK and dim in (1, 2, 3):
            need = {"linear": "3D", "bilinear": "4D", "bicubic": "4D", "trilinear": "5D"}[mode]
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need} input")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | "
            f"linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")
    in_sizes = list(input.shape[2:])
    if output_size is None:  # torch's upsample output size: floor(in * scale) in double
        output_size = [builtins.int(math.floor(s * f)) for s, f in zip(in_sizes, scale_factors)]
    scales = scale_factors if scale_factors is not None else [None] * dim
    return _upsample(input, mode, output_size, scales, align_corners, antialias)


def _upsample(input, mode, output_size, scales, align_corners, antialias):
    name = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact", "area": "AdaptiveAvgPool",
            "linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D", "bicubic": "UpsampleBicubic2D",
            "trilinear": "UpsampleTrilinear3D", "lanczos": "UpsampleLanczos2D"}[mode]
    dim = len(output_size)
    if mode in ("nearest", "nearest-exact") or (mode == "area" and dim > 1):
        name += f"{dim}D"  # torch's node names: UpsampleNearest2DBackward0, AdaptiveAvgPool3DBackward0, ...
    in_sizes = list(input.shape[2:])
    if mode != "area":
        if builtins.any(o <= 0 for o in output_size) or builtins.any(i <= 0 for i in in_sizes):
            raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                               f"({', '.join(f'{k[0]}: {k[1]}' for k in zip('DHW'[-dim:], in_sizes))}) output "
                               f"({', '.join(f'{k[0]}: {k[1]}' for k in zip('DHW'[-dim:], output_size))})")
        if input.shape[1] == 0:
            raise RuntimeError(f"Non-empty {dim + 2}D data tensor expected but got a tensor with sizes "
                               f"{list(input.shape)}")
    if mode in ("nearest", "nearest-exact") and not input.dtype.is_floating_point and input.dtype.name != "uint8":
        kernel = "_upsample_nearest_exact" if mode == "nearest-exact" else "upsample_nearest"
        raise NotImplementedError(
            f"\"{kernel}{dim}d_out_frame\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")
    uint8_2d = input.dtype.name == "uint8" and mode in ("bilinear", "bicubic", "lanczos")
    if uint8_2d and mode == "bicubic" and not antialias:
        raise NotImplementedError("interpolate: uint8 bicubic without antialias is not supported by mlx_compat "
                                  "(torch's fixed-point kernel for it is not reproduced); convert to float first")
    if mode not in ("nearest", "nearest-exact") and not input.dtype.is_floating_point and not uint8_2d:
        kernel = {"area": "adaptive_avg_pool", "linear": "upsample_linear1d", "bilinear": "upsample_bilinear2d",
                  "bicubic": "upsample_bicubic2d", "trilinear": "upsample_trilinear3d",
                  "lanczos": "_upsample_lanczos2d_aa"}[mode]
        raise NotImplementedError(
            f"\"{kernel}_out_frame\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")
    ft = np.float64 if uint8_2d else _opmath(input.dtype)  # torch computes uint8 weights in double
    taps = []
    for d in builtins.range(dim):
        i, o, s = in_sizes[d], output_size[d], scales[d]
        if mode in ("nearest", "nearest-exact"):
            t = _taps_nearest(i, o, s, mode == "nearest-exact")
        elif mode == "area":
            if o < 0:
                raise RuntimeError(f"adaptive_avg_pool{dim}d: elements of output_size must be greater than or "
                                   f"equal to 0 but received {o}")
            t = _taps_area(i, o) if o > 0 else (np.zeros((0, 1), np.int64), None, None)
        elif antialias:
            t = _taps_aa(mode, i, o, s, align_corners, ft)
        elif mode == "bicubic":
            t = _taps_cubic(i, o, s, align_corners, ft)
        else:
            t = _taps_linear(i, o, s, align_corners, ft)
        taps.append((2 + d,) + t)
    if input.numel() == 0 or builtins.any(o == 0 for o in output_size):
        # nothing to sample (an empty batch, channel or output): zeros, recorded as torch records them, so that a
        # gradient flows back (zeros) as torch's does
        shape = tuple(input.shape[:2]) + tuple(output_size)
        return mlx_op(name + "Backward0", lambda x: mx.zeros(shape, x.dtype), [input])
    if uint8_2d:
        return mlx_op(name + "Backward0", lambda x: _resample_uint8(x, taps[::-1]), [input])
    nearest = mode in ("nearest", "nearest-exact")
    return mlx_op(name + "Backward0", lambda x: _resample(x, taps, None if nearest else x.dtype), [input])


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    _warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
          stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
          stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- grid_sample


_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
                  "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
                  "details.")


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """torch's reflect_coordinates: fold coord into [low, high]; its derivative is +-1 as torch's."""
    if twice_low == twice_high:
        return mx.zeros_like(coord)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = mx.abs(coord - lo)
    extra = mx.remainder(c, span)
    flips = mx.stop_gradient(mx.floor(c / span))
    even = mx.remainder(flips, 2) == 0
    return mx.where(even, extra + lo, span + lo - extra)


def _clip(coord, size, nan_to):
    return mx.where(mx.isnan(coord), mx.array(nan_to, coord.dtype), mx.clip(coord, 0, size - 1))


def _pad_coord(coord, size, padding_mode, align_corners, nan_to):
    """torch's compute_coordinates: border clamps, reflection folds then clamps, zeros leaves as is.

    Note [grid_sample NaN coordinates]
    torch's clamp sends a NaN coordinate to 0 in the 2-D kernel (SIMD max/min) and to size-1 in the 3-D one
    (std::min/std::max operand order); `nan_to` says which. Out-of-bounds taps (zeros padding) differ too:
    the 2-D kernel multiplies a masked-out value 0 by the tap's weight, so a NaN weight gives NaN, while the
    3-D kernel skips such taps."""
    if padding_mode == 1:
        return _clip(coord, size, nan_to)
    if padding_mode == 2:
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size, nan_to)
    return coord


def _grid_taps(coord, size, mode, padding_mode, align_corners, nan_to):
    """Per-axis taps [(integer-valued float index, weight or None)] for one grid coordinate array."""
    if mode == 2:  # bicubic: taps around the unpadded coordinate, each tap's position then padded
        ix = _unnormalize(coord, size, align_corners)
        base = mx.stop_gradient(mx.floor(ix))
        t = ix - base
        coeffs = _cubic_coeffs(t, lambda v: v)
        return [(_pad_coord(base + (k - 1), size, padding_mode, align_corners, nan_to), coeffs[k])
                for k in builtins.range(4)]
    ix = _pad_coord(_unnormalize(coord, size, align_corners), size, padding_mode, align_corners, nan_to)
    if mode == 1:
        return [(mx.stop_gradient(mx.round(ix)), None)]
    base = mx.stop_gradient(mx.floor(ix))
    return [(base, base + 1 - ix), (base + 1, ix - base)]


def _grid_sample_mlx(x, grid, mode, padding_mode, align_corners):
    nd = x.ndim - 2
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    out_sp = grid.shape[1:-1]
    cdt = x.dtype  # torch's CPU grid sampler computes in the input's own type, float16/bfloat16 included
    xf = x.reshape(n, c, -1)
    g = grid.reshape(n, -1, nd)
    p = g.shape[1]
    # grid's last axis is (x, y[, z]) = (W, H[, D]): reversed spatial order
    per_axis = [_grid_taps(g[..., nd - 1 - d], sizes[d], mode, padding_mode, align_corners,
                           0 if nd == 2 else sizes[d] - 1) for d in builtins.range(nd)]
    strides = [builtins.int(np.prod(sizes[d + 1:])) for d in builtins.range(nd)]
    acc = None
    for combo in np.ndindex(*[len(t) for t in per_axis]):
        flat = None
        ok = None
        w = None
        for d, k in enumerate(combo):
            pos, wk = per_axis[d][k]
            inside = (pos >= 0) & (pos < sizes[d]) & (pos == pos)
            pos_i = mx.where(inside, pos, 0).astype(mx.int32)
            flat = pos_i * strides[d] if flat is None else flat + pos_i * strides[d]
            ok = inside if ok is None else ok & inside
            if wk is not None:
                w = wk if w is None else w * wk
        flat = mx.stop_gradient(mx.where(ok, flat, 0))
        v = mx.take_along_axis(xf, mx.broadcast_to(flat[:, None, :], (n, c, p)), axis=2)
        # torch's 2-D kernel multiplies a masked value by the weight (a NaN weight stays NaN); its 3-D kernel
        # skips out-of-bounds taps (Note [grid_sample NaN coordinates])
        zero = mx.zeros((), cdt)
        if w is not None and nd == 2:
            v = mx.where(ok[:, None, :], v, zero) * w[:, None, :]
        else:
            v = mx.where(ok[:, None, :], v if w is None else v * w[:, None, :], zero)
        acc = v if acc is None else acc + v
    return acc.reshape((n, c) + tuple(out_sp))


def _check_grid_sampler(input, grid, interpolation_mode, padding_mode):
    if interpolation_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): expected interpolation_mode to be 0, 1 or 2, but got: "
                           f"{interpolation_mode}")
    if padding_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): expected padding_mode to be 0, 1 or 2, but got: {padding_mode}")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if input.dim() not in (4, 5) or input.dim() != grid.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    nd = input.dim() - 2
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    for i in builtins.range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {i} being empty")
    if interpolation_mode == 2 and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"grid_sampler_{nd}d_cpu\" not implemented for "
                           f"'{_SCALAR.get(input.dtype.name, input.dtype.name)}'")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    _check_grid_sampler(input, grid, interpolation_mode, padding_mode)
    nd = input.dim() - 2
    out_shape = (input.shape[0], input.shape[1]) + tuple(grid.shape[1:-1])
    if builtins.any(s == 0 for s in out_shape):  # nothing sampled: an empty result, recorded as torch records it
        return mlx_op(f"GridSampler{nd}DBackward0", lambda x, g: mx.zeros(out_shape, x.dtype), [input, grid])
    return mlx_op(f"GridSampler{nd}DBackward0",
                  lambda x, g: _grid_sample_mlx(x, g, interpolation_mode, padding_mode, bool(align_corners)),
                  [input, grid])


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    if input.dim() != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    if input.dim() != 5:
        raise RuntimeError(f"grid_sampler(): expected 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, _MODES[mode], _PADDINGS[padding_mode], align_corners)


# ---------------------------------------------------------------- affine_grid


def _base_coords(n, align_corners, dt):
    """torch's linspace_from_neg_one, rounded as torch's linspace kernel (Note [resampling index arithmetic]):
    the first half stepped up from -1, the second half stepped down from 1."""
    if n <= 1:
        return mx.zeros((builtins.max(n, 1),), dt)
    ft = np.float64 if dt == mx.float64 else np.float32
    step = (ft(1) - ft(-1)) / ft(n - 1)
    i = np.arange(n)
    # start + step * i with a single rounding (torch's vectorised kernel fuses the multiply-add)
    st = np.float64(step)
    v = np.where(i < n // 2, -1.0 + st * i, 1.0 - st * (n - 1 - i)).astype(ft)
    if not align_corners:
        v = (v * ft(n - 1) / ft(n)).astype(ft)  # two roundings, as torch
    return mx.array(v, dtype=dt)


def affine_grid_generator(theta, size, align_corners):
    size = [builtins.int(s) for s in size]
    if len(size) not in (4, 5):
        raise RuntimeError("AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.")
    nd = len(size) - 2
    n = size[0]
    sp = size[2:]

    def f(th):
        dt = th.dtype
        axes = [_base_coords(s, align_corners, dt) for s in sp]  # (D,) H, W
        mesh = mx.meshgrid(*axes, indexing="ij")
        # coordinates (x, y[, z], 1) with x along W; each output component summed in that order, left to
        # right, which rounds exactly as torch's small bmm does
        coords = [m.reshape(1, -1) for m in reversed(mesh)]
        comps = []
        for k in builtins.range(nd):
            acc = coords[0] * th[:, k, 0:1]
            for j in builtins.range(1, nd):
                acc = acc + coords[j] * th[:, k, j:j + 1]
            comps.append(acc + th[:, k, nd:nd + 1])
        return mx.stack(comps, axis=-1).reshape([n] + sp + [nd])

    return mlx_op("AffineGridGeneratorBackward0", f, [theta])


def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        _warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and builtins.min(spatial) == 1:
        _warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
              "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
              "affine_grid for details.", stacklevel=2)
    elif builtins.min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"The size of tensor a ({theta.shape[0]}) must match the size of tensor b ({size[0]}) at "
                           "non-singleton dimension 0")
    return affine_grid_generator(theta, size, align_corners)


# ---------------------------------------------------------------- aten-level antialiased resize


def _aa_entry(mode, input, output_size, align_corners, scale_factors, scales_h, scales_w):
    """aten::_upsample_{mode}2d_aa in both overloads: .vec (output_size or scale_factors) and the default one
    (output_size with optional scales_h/scales_w, which then drive the coordinate mapping)."""
    if input.dim() != 4:
        raise RuntimeError(f"Expected 4D input tensor, but got input of size: {list(input.shape)}")
    if scale_factors is not None:
        if output_size is not None:
            raise RuntimeError("Must specify exactly one of output_size and scale_factors")
        scales = [builtins.float(s) for s in scale_factors]
        output_size = [builtins.int(math.floor(i * s)) for i, s in zip(input.shape[2:], scales)]
    else:
        if output_size is None:
            raise RuntimeError("Must specify exactly one of output_size and scale_factors")
        scales = [scales_h, scales_w]
    return _upsample(input, mode, [builtins.int(o) for o in output_size], scales, bool(align_corners), True)


def _upsample_bilinear2d_aa(input, output_size, align_corners, scale_factors=None, scales_h=None, scales_w=None):
    return _aa_entry("bilinear", input, output_size, align_corners, scale_factors, scales_h, scales_w)


def _upsample_bicubic2d_aa(input, output_size, align_corners, scale_factors=None, scales_h=None, scales_w=None):
    return _aa_entry("bicubic", input, output_size, align_corners, scale_factors, scales_h, scales_w)


def _upsample_lanczos2d_aa(input, output_size, align_corners, scale_factors=None, scales_h=None, scales_w=None):
    return _aa_entry("lanczos", input, output_size, align_corners, scale_factors, scales_h, scales_w)
