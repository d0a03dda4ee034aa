"""nn.functional pooling (avg/max/adaptive/lp/fractional), max_unpool, unfold/fold.

Every pool here is one gather: a static integer table `idx` of shape (P, O, K) says, for each output
position o (flattened over the spatial dims) and each window element k (flattened in torch's loop order:
the first spatial dim outermost), which element of a plane's flattened input it reads, -1 for padding.
P is 1 (all planes share the windows) or the number of planes (fractional pooling draws windows per plane).
The tables are built in numpy from the sizes alone; the data only flows through MLX gathers and reductions.

Note [max-pool argmax]
torch's CPU kernels scan a window in loop order and take an element when `val > maxval || isnan(val)`,
starting from maxval = -inf and the window's first in-bounds element. So the index is the first maximum, the
last NaN when there is one, and the first in-bounds element when everything is -inf; padding never wins.
We compute that index (`_argmax_flat`) without gradients, then the output is a gather of the input at those
flat indices, so its derivative sends each gradient to exactly that element (torch's max-pool backward).

Note [ceil_mode windows]
With ceil_mode the output size rounds up, but a window must start inside the input or its left padding:
when the last one would start in the right padding it is dropped (`_out_size`). Windows may still run past
the right padding; avg_pool's count_include_pad divisor counts only the part inside input + padding.
"""
from __future__ import annotations

import builtins
import itertools
import math
import numbers

import mlx.core as mx
import numpy as np

from .. import _C, _compile, _dtype
from ..autograd._derivatives import record as _record
from ..autograd._mlx_vjp import compiled_when_repeated, mlx_op
from .._device_scope import scoped as _scoped
from .._tensor import _TORCH_NAME, Tensor, _new, _mx_item, _mx_evaluated
from . import _layout

__all__ = [
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d",
    "fractional_max_pool2d", "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices",
    "unfold", "fold",
]  # exported by nn.functional
TORCH_EXPORTS = ["avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                 "adaptive_avg_pool1d"]  # also exported as mlx_compat.<name> (torch has them at top level)
# top-level names whose torch signature differs from nn.functional's: torch.adaptive_max_pool1d always
# returns (values, indices) (filled in below, once the functions exist)
TORCH_VARIANTS = {}

_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')


# ---------------------------------------------------------------- argument parsing


def _tuple(v, n, fn, name):
    """int or sequence of 1 or n ints -> n-tuple (torch's _single/_pair/_triple plus the C++ length check)."""
    if type(v) is builtins.int:
        return (v,) * n
    if isinstance(v, Tensor):
        v = v.tolist()
    seq = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    for x in seq:
        if not isinstance(x, numbers.Integral) or isinstance(x, builtins.bool):
            raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                            f"{type(x).__name__}")
    if len(seq) == 1:
        seq = seq * n
    if len(seq) != n:
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {n} ints")
    return tuple(builtins.int(x) for x in seq)


def _stride(stride, kernel, n, fn):
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return _tuple(stride, n, fn, "stride")


def _split_input(input, nd, fn):
    """(lead dims, spatial dims) of a batched (N, C, *spatial) or unbatched (C, *spatial) input, with torch's
    check that only the batch dim may be empty."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    shape = tuple(input._mx.shape)
    ok = len(shape) in (nd + 1, nd + 2) and builtins.all(s != 0 for s in shape[len(shape) - nd - 1:])
    if not ok:
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got: {list(shape)}")
    return shape[:-nd], shape[-nd:]


def _out_size(size, k, p, s, d, ceil_mode):
    """torch's pooling_output_shape: see Note [ceil_mode windows]."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_window(k, s, p, d, fn):
    for kk in k:
        if kk <= 0:
            raise RuntimeError(f"{fn}: kernel size should be greater than zero, but got {list(k)}")
    for ss in s:
        if ss <= 0:
            raise RuntimeError("stride should not be zero" if ss == 0 else
                               f"{fn}: stride should be greater than zero, but got {list(s)}")
    for dd in d:
        if dd <= 0:
            raise RuntimeError(f"{fn}: dilation should be greater than zero, but got {list(d)}")
    for kk, pp, dd in zip(k, p, d):
        if pp < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pp}")
        if pp > ((kk - 1) * dd + 1) // 2 or pp > kk // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")


def _sliding_sizes(spatial, k, s, p, d, ceil_mode, lead):
    osz = tuple(_out_size(n, kk, pp, ss, dd, ceil_mode) for n, kk, pp, ss, dd in zip(spatial, k, p, s, d))
    if builtins.any(o < 1 for o in osz):
        c = lead[-1]
        raise RuntimeError(f"Given input size: ({'x'.join(str(v) for v in (c,) + tuple(spatial))}). Calculated "
                           f"output size: ({'x'.join(str(v) for v in (c,) + osz)}). Output size is too small")
    return osz


# ---------------------------------------------------------------- window tables


def _sliding_positions(n, o, k, s, p, d):
    """(o, k) input positions along one dim of sliding windows, -1 outside the input."""
    pos = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
    return np.where((pos >= 0) & (pos < n), pos, -1)


def _adaptive_positions(n, o):
    """(o, kmax) positions of torch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o)), -1 past each window."""
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    kmax = builtins.max(builtins.int((end - start).max()), 1) if o else 1
    pos = start[:, None] + np.arange(kmax)[None, :]
    return np.where(pos < end[:, None], pos, -1)


def _table(per_dim, spatial):
    """Combine per-dim position tables, each (P, O_d, K_d) or (O_d, K_d), into a flat (P, O, K) table."""
    nd = len(per_dim)
    per_dim = [t if t.ndim == 3 else t[None] for t in per_dim]
    planes = builtins.max(t.shape[0] for t in per_dim)
    idx = np.zeros((1,) * (2 * nd + 1), np.int64)
    valid = np.ones((1,) * (2 * nd + 1), bool)
    for dim, t in enumerate(per_dim):
        shape = [t.shape[0]] + [1] * (2 * nd)
        shape[1 + dim], shape[1 + nd + dim] = t.shape[1], t.shape[2]
        t = t.reshape(shape)
        idx = idx + t * builtins.int(np.prod(spatial[dim + 1:], dtype=np.int64))
        valid = valid & (t >= 0)
    idx = np.where(valid, idx, -1)
    o = builtins.int(np.prod([t.shape[1] for t in per_dim], dtype=np.int64))
    k = builtins.int(np.prod([t.shape[2] for t in per_dim], dtype=np.int64))
    return np.broadcast_to(idx, (planes,) + idx.shape[1:]).reshape(planes, o, k)


# Note [pooling tables]
# A window table depends only on the pooling geometry (spatial sizes, output sizes, kernel, stride, padding,
# dilation), never on values, so it is built once per geometry and kept, read-only, in _TABLES; the MLX arrays
# derived from a cached table (gather indices, validity masks) are kept beside it in _DERIVED, keyed by the
# table's id (the cache holds the table, so the id cannot be reused while the entry lives). Tables built per call
# (fractional pooling, whose windows come from the samples) are simply not registered and derive afresh.
_TABLES = {}
_DERIVED = {}
_MAX_TABLES = 512


def _cached_table(key, build):
    """build() -> (idx, *extras), once per key (Note [pooling tables])."""
    hit = _TABLES.get(key)
    if hit is None:
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
            _DERIVED.clear()
        hit = build()
        for a in hit:
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
        _TABLES[key] = hit
        _DERIVED[id(hit[0])] = (hit[0], {})
    return hit


def _derived(idx, name, build):
    """build(idx), memoised beside a cached table; computed afresh for an unregistered one."""
    entry = _DERIVED.get(id(idx))
    if entry is None or entry[0] is not idx:
        return build(idx)
    memo = entry[1]
    if name not in memo:
        memo[name] = build(idx)
    return memo[name]


def _gather_index(idx, length):
    return _derived(idx, ("j", length), lambda t: mx.array(np.where(t < 0, length, t).astype(np.int32)))


def _windows(xm, idx, fill):
    """(B, O, K) window values of the (B, L) planes xm; padding (-1 in idx) reads `fill`."""
    b, length = xm.shape
    planes, o, k = idx.shape
    j = _gather_index(idx, length)
    if _derived(idx, "padded", lambda t: builtins.bool((t < 0).any())):
        xs = mx.concatenate([xm, mx.full((b, 1), fill, dtype=xm.dtype)], axis=1)
    else:  # no window reaches the padding: gather from the planes themselves
        xs = xm
    if planes == 1:
        return mx.take(xs, j.reshape(-1), axis=1).reshape(b, o, k)
    return mx.take_along_axis(xs, j.reshape(b, o * k), axis=1).reshape(b, o, k)


def _is_float(dt):
    return dt.is_floating_point or dt.is_complex


def _acc(x):
    """Half-precision values summed in float32, as torch's kernels accumulate (its acc_type)."""
    return x.astype(mx.float32) if x.dtype in (mx.float16, mx.bfloat16) else x


def _require(input, ok, kernel):
    """torch's dtype dispatch: NotImplementedError naming the kernel and the scalar type."""
    if not ok:
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_SCALAR.get(input.dtype.name, input.dtype.name)}'")


def _lowest(dt):
    """The max-pool padding value: -inf, or the integer type's minimum (bool is rejected before)."""
    if _is_float(dt):
        return -float("inf")
    return builtins.int(np.iinfo(np.dtype(dt.name)).min)


def _argmax_flat(input, idx, lead, spatial):
    """Flat per-plane input index of each window's maximum, (B, O) int32: Note [max-pool argmax]."""
    b = math.prod(lead)
    length = math.prod(spatial)
    w = _windows(input._mx.reshape(b, length), idx, _lowest(input.dtype))
    valid = _derived(idx, "valid", lambda t: mx.array(t >= 0))
    if _is_float(input.dtype):
        # one argmax over ranks: a NaN ranks K+1+j (the last NaN wins), a valid maximum K-j (the first wins),
        # anything else 0 (Note [max-pool argmax])
        nan_rank, max_rank = _derived(idx, "ranks", _argmax_ranks)
        nan = mx.isnan(w)
        m = mx.max(mx.where(nan, -float("inf"), w), axis=-1, keepdims=True)
        pos = mx.argmax(mx.where(nan, nan_rank, mx.where((w == m) & valid, max_rank, 0)), axis=-1)
    else:
        m = mx.max(w, axis=-1, keepdims=True)
        pos = mx.argmax((w == m) & valid, axis=-1)
    table = _derived(idx, "table", lambda t: mx.array(t.astype(np.int32)))
    if idx.shape[0] == 1:
        table = mx.broadcast_to(table, (b,) + idx.shape[1:])
    # integer indices carry no gradient; stop_gradient lets mx.vjp of a traced graph pass the gathers (compile)
    return mx.stop_gradient(mx.take_along_axis(table, pos.astype(mx.int32)[..., None], axis=-1)[..., 0])


def _empty_windows(idx):
    """(O,) mask of the windows holding no input element (a shared table only), or None when there are none."""
    if idx.shape[0] != 1:
        return None
    empty = ~(idx[0] >= 0).any(axis=1)
    return empty if empty.any() else None


def _argmax_ranks(idx):
    k = idx.shape[2]
    j = np.arange(k, dtype=np.int32)
    return mx.array(k + 1 + j), mx.array(k - j)


def _gather_max(input, flat, lead, out_spatial, name, empty=None):
    """Values of input's planes at the flat indices: differentiable, gradients reach the argmax only.
    `empty` (an (O,) bool mask or None) marks windows with no element inside the input: they read the
    dtype's lowest value and pass no gradient (Note [windows entirely in the padding])."""
    b = flat.shape[0]
    out_shape = tuple(lead) + tuple(out_spatial)
    low = _lowest(input.dtype)
    mask = None if empty is None else mx.array(empty)

    def f(x):
        v = mx.take_along_axis(x.reshape(b, -1), mx.maximum(flat, 0) if mask is not None else flat, axis=1)
        if mask is not None:
            v = mx.where(mask, mx.array(low, dtype=x.dtype), v)
        return v.reshape(out_shape)

    return mlx_op(name, f, [input])


def _empty_result(input, out_shape, name):
    """Zero-size output (an empty batch): no gathers over empty arrays."""
    return mlx_op(name, lambda x: mx.zeros(out_shape, dtype=x.dtype), [input])


def _indices_tensor(flat, input, out_shape):
    return _new(flat.astype(mx.int64).reshape(out_shape), input._device_code, _dtype.int64)


def _max_from_table(input, idx, lead, spatial, out_spatial, name, return_indices, fallback=None):
    """Max over the table's windows. fallback: (O,) flat indices torch reports for windows that hold no input
    element (sliding windows only; None where every window reaches the input)."""
    out_shape = tuple(lead) + tuple(out_spatial)
    if builtins.any(s == 0 for s in out_shape):
        out = _empty_result(input, out_shape, name)
        ind = _new(mx.zeros(out_shape, dtype=mx.int64), input._device_code, _dtype.int64)
        return (out, ind) if return_indices else out
    flat = _argmax_flat(input, idx, lead, spatial)
    empty = _derived(idx, "empty", _empty_windows)
    out = _gather_max(input, flat, lead, out_spatial, name, empty)
    if return_indices:
        if empty is not None:
            flat = mx.where(mx.array(empty), mx.array(fallback.astype(np.int32)), flat)
        return out, _indices_tensor(flat, input, out_shape)
    return out


def _first_in_bounds(spatial, osz, s, p, d):
    """(O,) flat index torch's kernel starts each sliding window from: per dim, the window's first position
    at or after 0 (stepping by the dilation), even when that lies past the input."""
    flat = np.zeros((1,) * len(spatial), np.int64)
    for dim, (o, ss, pp, dd) in enumerate(zip(osz, s, p, d)):
        start = np.arange(o) * ss - pp
        first = np.where(start < 0, start + (-start + dd - 1) // dd * dd, start)
        shape = [1] * len(spatial)
        shape[dim] = o
        flat = flat + first.reshape(shape) * builtins.int(np.prod(spatial[dim + 1:], dtype=np.int64))
    return flat.reshape(-1)


# ---------------------------------------------------------------- max_pool


def _block_slices(x, k, lead, osz, tail=0):
    """The K arrays (*lead, *osz, *tail dims) of non-overlapping blocks' offsets in the scan's loop order (stride ==
    kernel, no padding or dilation; the last `tail` dims, a channels-last array's C, are carried along): strided
    views of the cropped input, reshaped to (*lead, o_1, k_1, ..., o_nd, k_nd, *tail), no index table and no copy
    (Note [max-pool blocks])."""
    nl = len(lead)
    trail = (slice(None),) * tail
    tail_shape = tuple(x.shape[x.ndim - tail:]) if tail else ()
    if builtins.any(o * kk != n for o, kk, n in zip(osz, k, x.shape[nl:x.ndim - tail])):
        x = x[(slice(None),) * nl + tuple(slice(0, o * kk) for o, kk in zip(osz, k)) + trail]
    a = x.reshape(tuple(lead) + tuple(v for o, kk in zip(osz, k) for v in (o, kk)) + tail_shape)
    return [a[(slice(None),) * nl + tuple(v for i in off for v in (slice(None), i)) + trail]
            for off in itertools.product(*[builtins.range(kk) for kk in k])]


def _running_maximum(slices):
    """The elementwise maximum of `slices`, in order (MLX's maximum propagates NaN, as torch's kernel does)."""
    y = slices[0]
    for v in slices[1:]:
        y = mx.maximum(y, v)
    return y


# Note [max-pool blocks]
# Non-overlapping windows (the usual CNN pooling: stride == kernel_size, no padding, dilation 1) are a reshape of
# the input, so they need no index table and no gather over the whole plane: the forward is a running maximum
# over the K offsets' strided slices of that reshape (MLX's maximum propagates NaN, as torch's kernel), ~30x
# cheaper on MLX's CPU than the table path (the numbers at the end were taken with the one max reduction over
# the windows' transposed view that the running maximum replaced: that copied the input first; 128x16x28x28,
# forward 2.29 -> 1.00 ms, forward and backward 12.3 -> 10.2 ms; 128x32x14x14 6.5 -> 5.4 ms). The backward
# routes each gradient to the element torch's kernel picks (Note [max-pool scan backward]: the last NaN, else the
# first maximum), found from the saved input and maxima only when a backward runs (Note [max-pool picks from the
# maximum]); each block offset is its own phase, so the gradient is one selection over the input's shape, no sums
# (it was K selections stacked and transposed back until the note's numbers below were taken). It is linear in the
# gradient (recorded through mlx_op), so double backward works, and without create_graph one compiled function
# per geometry once a shape repeats (Note [Compiled max-pool backward]). On this CPU (one thread, forward and
# backward, 2x2 pools): 64x16x28x28 and 64x32x14x14 (the Fashion-MNIST example's CNN) 12.5 -> 4.5 and 6.45 ->
# 2.3 ms, 8x64x56x56 24.5 -> 8.4 ms, against the argmax of ranks over the stacked block it replaced; that
# example's whole SGD step at batch 64: 38.0-38.3 -> 27.9-28.8 ms.
# A batched input carrying the channels-last hint (a convolution's or relu's output: Note [channels-last
# activations]) is pooled in N...C space instead (_max_pool_blocks_last): its N...C array reshaped to (N, o_1,
# k_1, ..., C) is free where the NC... view's reshape copied it, and the forward is a running maximum over the K
# offsets' strided slices, fused, where a max over the stacked offsets reduced a strided axis; the result is the
# NC... view of the N...C maxima, hinted, and the backward picks and selects in that space and returns a hinted
# gradient, on the CPU too (Note [Channels-last gradients] in nn/_layout.py). This CPU, the forward
# of a 2x2 pool on such inputs: 64x16x28x28 1.23 -> 0.28 ms, 8x64x56x56 2.67 -> 0.36 ms; the Fashion-MNIST
# example's SGD step at batch 64: 28.8-29.4 -> 24.5-24.9 ms.
# Note [max-pool gradient pairs]
# The row-major block path's gradient (Note [max-pool blocks]) is one selection over (*lead, o_1, k_1, ..., o_nd,
# k_nd), whose innermost axis is the kernel's last size: MLX's CPU runs a fused kernel as scalar loops over the
# collapsed axes, so for the usual k_nd = 2 the innermost loop ran two iterations per window (7.1 ms of a
# 128x16x28x28 pool's backward). Where k_nd is 2, a float32 (float16, bfloat16) gradient is instead written as
# one uint64 (uint32) per window row: the gradient's bits placed in the low or the high half where that element
# is the pick, the result viewed as floats (little-endian: the low half is the first element, as on every
# machine MLX runs on). The innermost loop then runs along o_nd; the bits are the selection's bits (a -0.0
# gradient still arrives as +0.0). On this CPU that selection took 3.5 against 7.1 ms; the pool's forward and
# backward, alternated twice: 128x16x28x28 10.2-10.3 -> 8.1-8.4 ms, 128x32x14x14 5.5 -> 4.3-4.6 ms, 8x64x56x56
# 9.8 -> 7.7-8.1 ms. Only the CPU's plain backward takes it: bit operations have no derivative (create_graph
# keeps the selection), and a GPU's kernel has no such loop.
_PAIR_TYPES = {mx.float32: (mx.uint32, mx.uint64, 32), mx.float16: (mx.uint16, mx.uint32, 16),
               mx.bfloat16: (mx.uint16, mx.uint32, 16)}


def _max_pool_blocks(input, k, lead, spatial, osz, name):
    if len(lead) == 2 and _layout.is_channels_last_tensor(input):  # Note [max-pool blocks]
        return _max_pool_blocks_last(input, k, lead, spatial, osz, name)
    x = input._mx
    input_shape = x.shape
    blocks = _block_slices(x, k, lead, osz)
    y = _running_maximum(blocks)
    out = _new(y, input._device_code, input.dtype)
    if not (_C.is_grad_enabled() and input.requires_grad):
        return out
    nl, nd, kk = len(lead), len(k), math.prod(k)
    pad = [(0, 0)] * nl + [(0, n - o * kq) for n, o, kq in zip(spatial, osz, k)]
    # (1, ..., 1, k_1, ..., 1, k_nd): each block offset's number in the scan's loop order
    tap_shape = (1,) * nl + tuple(v for kq in k for v in (1, kq))
    spread = tuple(lead) + tuple(v for o in osz for v in (o, 1))  # an (*lead, *osz) array over the blocks' axes

    def unblock(g):
        """(*lead, *spatial) from the blocks' (*lead, o_1, k_1, ..., o_nd, k_nd), zeros where no block reaches."""
        g = g.reshape(tuple(lead) + tuple(o * kq for o, kq in zip(osz, k)))
        return mx.pad(g, pad) if builtins.any(p[1] for p in pad) else g

    def scatter(idx, g):
        zero = mx.zeros((), dtype=g.dtype)
        g = g + zero  # torch adds into zeros: a -0.0 gradient arrives as +0.0
        taps = mx.arange(kk, dtype=mx.int32).reshape(tap_shape)
        return unblock(mx.where(idx.reshape(spread) == taps, g.reshape(spread), zero))

    pairs = _PAIR_TYPES.get(input.dtype._mx) if k[-1] == 2 and input._device_code == 0 else None

    def scatter_pairs(idx, g):
        """scatter's result, each block row's two elements written as one integer twice their width (Note
        [max-pool gradient pairs]); not differentiable, so for the plain backward only."""
        half, whole, shift = pairs
        zero = mx.zeros((), dtype=g.dtype)
        spread2 = tuple(lead) + tuple(v for o in osz[:-1] for v in (o, 1)) + (osz[-1],)
        firsts = mx.arange(0, kk, 2, dtype=mx.int32).reshape((1,) * nl + tuple(v for kq in k[:-1] for v in (1, kq))
                                                              + (1,))
        bits = mx.view(g + zero, half).astype(whole).reshape(spread2)  # +0.0 for -0.0, as scatter
        i = idx.reshape(spread2)
        none = mx.zeros((), dtype=whole)
        w = mx.where(i == firsts, bits, none) | mx.left_shift(mx.where(i == firsts + 1, bits, none),
                                                              mx.array(shift, dtype=whole))
        return unblock(mx.view(w, g.dtype))

    def grad(x, y, g):  # Note [max-pool picks from the maximum]
        return (scatter_pairs if pairs else scatter)(_picks_of_maximum(_block_slices(x, k, lead, osz), y), g)

    def backward(ctx, grads):
        g = grads[0]
        if _C.is_grad_enabled():  # create_graph: the scatter recorded through mlx_op (linear in the gradient)
            idx = _picks_of_maximum(blocks, y)
            return (mlx_op(name + "Backward", lambda g: scatter(idx, g), [g]),)
        dev = g._device_code  # Note [Compiled max-pool backward]
        fn = compiled_when_repeated(("blocks", k, tuple(lead), tuple(spatial), dev, input.dtype), input_shape,
                                    lambda: grad)
        arr = _scoped(dev, fn, x, y, g._mx)
        return (_new(arr, dev, _dtype.from_mx(arr.dtype)),)

    _record(name, backward, [input], [out])
    return out


def _max_pool_blocks_last(input, k, lead, spatial, osz, name):
    """_max_pool_blocks of a batched channels-last (hinted) input, in N...C space (Note [max-pool blocks])."""
    nd, kk = len(k), math.prod(k)
    x = input._mx
    input_shape = x.shape
    to_last, from_last = _layout.to_last(nd), _layout.from_last(nd)
    n, c = lead
    cropped = builtins.any(o * kq != m for o, kq, m in zip(osz, k, spatial))

    def blocks(xl):
        """The block offsets' (N, *osz, C) slices of the N...C array xl."""
        return _block_slices(xl, k, (n,), osz, tail=1)

    def maximum(xl):
        return _running_maximum(blocks(xl))

    recording = _C.is_grad_enabled() and input.requires_grad
    src = None if recording else _layout.source(input)  # Note [Channels-last source] (csrc/layout.c)
    yl = maximum(mx.transpose(x, to_last) if src is None else src)
    out = _layout.mark_tensor(_new(mx.transpose(yl, from_last), input._device_code, input.dtype),
                              None if recording else yl)
    if not recording:
        return out
    pad = [(0, 0)] + [(0, m - o * kq) for m, o, kq in zip(spatial, osz, k)] + [(0, 0)]
    # (N, 1, k_1, ..., 1, k_nd, 1): each block offset's number in the scan's loop order
    tap_shape = (1,) + tuple(v for kq in k for v in (1, kq)) + (1,)
    spread = (n,) + tuple(v for o in osz for v in (o, 1)) + (c,)  # an (N, *osz, C) array over the blocks' axes

    def picks(xl, y):  # Note [max-pool picks from the maximum]
        return _picks_of_maximum(blocks(xl), y)

    def scatter(idx, g):
        zero = mx.zeros((), dtype=g.dtype)
        gl = mx.transpose(g, to_last) + zero  # torch adds into zeros: a -0.0 gradient arrives as +0.0
        taps = mx.arange(kk, dtype=mx.int32).reshape(tap_shape)
        gl = mx.where(idx.reshape(spread) == taps, gl.reshape(spread), zero)  # (N, o_1, k_1, ..., C)
        gl = gl.reshape((n,) + tuple(o * kq for o, kq in zip(osz, k)) + (c,))
        gl = mx.pad(gl, pad) if cropped else gl
        return mx.transpose(gl, from_last)

    def grad(x, y, g):
        return scatter(picks(mx.transpose(x, to_last), y), g)

    def backward(ctx, grads):
        g = grads[0]
        if _C.is_grad_enabled():  # create_graph: the scatter recorded through mlx_op (linear in the gradient)
            idx = picks(mx.transpose(x, to_last), yl)
            gx = mlx_op(name + "Backward", lambda g: scatter(idx, g), [g])
        else:
            dev = g._device_code  # Note [Compiled max-pool backward]
            fn = compiled_when_repeated(("blocks-last", k, tuple(lead), tuple(spatial), dev), input_shape,
                                        lambda: grad)
            arr = _scoped(dev, fn, x, yl, g._mx)
            gx = _new(arr, dev, _dtype.from_mx(arr.dtype))
        # the NC... view of an N...C array, on the CPU too (Note [Channels-last gradients])
        return (_layout.mark_tensor(gx),)

    _record(name, backward, [input], [out])
    return out


# Note [max-pool strided windows]
# Sliding windows that overlap or reach the padding (ResNet's 3x3 stride-2 pad-1 stem pool) are, per kernel
# offset, one strided slice of the input padded with -inf, so they need no index table and no gather over the
# plane. The forward is a running maximum over the K slices (2.5x faster on MLX's CPU than stacking them, 4x
# faster than a max over an as_strided view of NCHW data). The backward runs torch's scan over the same slices
# to find the element its kernel picks per window and sends the gradient back by stride phase (Note [max-pool
# scan backward]), recorded through mlx_op so double backward works. With return_indices the same scan gives the
# values and, through the sliding table, the indices (_max_pool_scan_indices). The table path stays for integer
# inputs, empty batches and very large kernels.
# A batch of planes with many channels (N, C, *S), C >= 8, is pooled channels-last: the slices are then strided
# over the spatial axes only, each reading whole channel vectors, which on MLX's CPU took a third of the NC...
# slices' time for ResNet's stem pool (2x64x112x112: 6.7 ms against 19.8 ms on the convolution's channels-last
# output, 7.3 against 11.1 ms on row-major input, mlx.nn's MaxPool2d 6.3 ms), and the result is the NC... view
# of channels-last memory that the next convolution reads as it is (Note [channels-last activations]).
# Inside a compiled call where no gradient is recorded, the channels-last forward is instead one maximum over an
# (N, *out, *K, C) as_strided window view of the padded N...C array, as mlx.nn's MaxPool2d computes it: the same
# maxima (MLX's max propagates NaN, as the running maximum does) in 3 graph nodes instead of one slice per kernel
# offset (10 for the stem pool), each of which costs host time at every compiled call (Note [Channels-last
# source] in csrc/layout.c). On this CPU a compiled ResNet-18 4x3x112x112 inference call took 3.8 ms less process
# time that way (76.3 against 80.1 ms), while the eager forward took 3.7 ms more (63.1 against 59.4 ms):
# eagerly, the running maximum stays.
_POOL_LAST_MIN_CHANNELS = 8


def _strided_windows(k, s, p, d, nl, spatial, osz, fill, last=False):
    """A function x -> (*lead, *osz, K) windows of x (nl leading dims), padding reading `fill`. last: x is
    (N, C, *S) and the windows are taken channels-last, (N, *osz, C, K). Made once per geometry: the functions
    are pure, and their pads and per-offset index tuples are computed when made (a 3x3 pool built them per call:
    ~9 us of a 47 us recorded forward here)."""
    try:
        key = (k, s, p, d, nl, spatial, osz, type(fill), fill, last)
        windows = _STRIDED_WINDOWS.get(key)
    except TypeError:  # a list argument: unhashable
        key = windows = None
    if windows is None:
        windows = _make_strided_windows(k, s, p, d, nl, spatial, osz, fill, last)
        if key is not None and len(_STRIDED_WINDOWS) < _STRIDED_WINDOWS_MAX:
            _STRIDED_WINDOWS[key] = windows
    return windows


_STRIDED_WINDOWS = {}
_STRIDED_WINDOWS_MAX = 4096


def _make_strided_windows(k, s, p, d, nl, spatial, osz, fill, last):
    need = [(o - 1) * ss + (kk - 1) * dd + 1 for o, kk, ss, dd in zip(osz, k, s, d)]
    sp_pads = [(pp, builtins.max(0, q - pp - n)) for pp, q, n in zip(p, need, spatial)]
    pads = [(0, 0)] + sp_pads + [(0, 0)] if last else [(0, 0)] * nl + sp_pads
    padded = builtins.any(a or b for a, b in pads)
    offsets = list(itertools.product(*[range(kk) for kk in k]))
    lead, trail = ((slice(None),), (slice(None),)) if last else ((slice(None),) * nl, ())
    nd = len(k)
    to_last, from_last = _layout.to_last(nd), _layout.from_last(nd)

    index = [lead + tuple(slice(i * dd, i * dd + (o - 1) * ss + 1, ss) for i, dd, o, ss in zip(off, d, osz, s))
             + trail for off in offsets]

    def prepared(x, src=None):
        """x padded, channels-last first when `last` (src: x's N...C array, read instead of transposing x)."""
        if last:
            x = mx.transpose(x, to_last) if src is None else src
        return mx.pad(x, pads, constant_values=fill) if padded else x

    def slices(x, src=None):
        xp = prepared(x, src)
        for ix in index:
            yield xp[ix]

    def windows(x):
        return mx.stack(list(slices(x)), axis=-1)

    def maximum(x, src=None):
        """The windows' maxima, (*lead, *osz) (last: (N, *osz, C)): a running maximum over the K strided slices
        (forward only). MLX's maximum propagates NaN, as torch's kernel does. src: as strided_maximum's."""
        xp = prepared(x, src)
        out = xp[index[0]]
        for ix in index[1:]:
            out = mx.maximum(out, xp[ix])
        return out

    def strided_maximum(x, src=None):
        """maximum's result, (N, *osz, C), as one max over an as_strided window view (channels-last only; src:
        x's N...C array, read instead of transposing x, Note [Channels-last source] in csrc/layout.c)."""
        xp = prepared(x, src)
        st = [1] * xp.ndim
        for i in builtins.range(xp.ndim - 2, -1, -1):
            st[i] = st[i + 1] * xp.shape[i + 1]
        sp_st = st[1:-1]
        view = mx.as_strided(xp, (xp.shape[0],) + tuple(osz) + tuple(k) + (xp.shape[-1],),
                             [st[0]] + [ss * t for ss, t in zip(s, sp_st)] + [dd * t for dd, t in zip(d, sp_st)] + [1])
        return mx.max(view, axis=tuple(builtins.range(1 + len(k), 1 + 2 * len(k))))

    def picks(x, first, values=False):
        """(*lead, *osz) int32 (last: (N, *osz, C)): per window, the offset torch's kernel picks, scanning the K
        slices in its loop order (Note [max-pool scan backward]); first: the first in-bounds offset per window
        (-1: none), broadcastable. values: (the offsets, the picked values)."""
        xp = prepared(x)
        idx, cur = _scan((xp[ix] for ix in index), first)
        return (idx, cur) if values else idx

    def picks_of_maximum(x, y, first):
        """picks' offsets from the windows' maxima y (maximum's result) by equality (Note [max-pool picks from the
        maximum]): where y is the fill (every element in bounds is -inf, or none is), the scan keeps `first`."""
        xp = prepared(x)
        return mx.where(y == fill, first, _picks_of_maximum([xp[ix] for ix in index], y))

    def scatter(idx, g):
        """x's gradient (NC..., as x) from g: each window's value sent to its picked offset, per offset shifted into
        its stride phase's block and summed in torch's order, the blocks interleaved and the padding cut (Note
        [max-pool scan backward])."""
        if last:
            g = mx.transpose(g, to_last)
        sp = 1 if last else nl  # the first spatial axis
        lead_shape, tail = g.shape[:sp], g.shape[sp + nd:]
        plen = [n + a + b for n, (a, b) in zip(spatial, sp_pads)]
        blen = [builtins.max(-(-q // ss), o + (kk - 1) * dd // ss) for q, ss, o, kk, dd in zip(plen, s, osz, k, d)]
        zero = mx.zeros((), dtype=g.dtype)
        g = g + zero  # torch adds into zeros: a -0.0 gradient arrives as +0.0
        blocks = {}
        for t in builtins.range(len(offsets) - 1, -1, -1):  # larger offsets first: torch's order of the sums
            off = offsets[t]
            phase = tuple(o * dd % ss for o, dd, ss in zip(off, d, s))
            widths = [(o * dd // ss, b - w - o * dd // ss) for o, dd, ss, b, w in zip(off, d, s, blen, osz)]
            c = mx.pad(mx.where(idx == t, g, zero), [(0, 0)] * sp + widths + [(0, 0)] * len(tail))
            blocks[phase] = c if phase not in blocks else blocks[phase] + c
        block_shape = lead_shape + tuple(blen) + tail
        phases = itertools.product(*[builtins.range(ss) for ss in s])
        full = mx.stack([blocks[q] if q in blocks else mx.zeros(block_shape, dtype=g.dtype) for q in phases])
        # (*s, *lead, *blocks, *tail) -> (*lead, block_1, s_1, ..., block_nd, s_nd, *tail)
        full = full.reshape(tuple(s) + block_shape)
        nlead = len(lead_shape)
        perm = ([nd + i for i in builtins.range(nlead)]
                + [a for i in builtins.range(nd) for a in (nd + nlead + i, i)]
                + [2 * nd + nlead + i for i in builtins.range(len(tail))])
        full = mx.transpose(full, perm).reshape(lead_shape + tuple(b * ss for b, ss in zip(blen, s)) + tail)
        full = full[(slice(None),) * sp + tuple(slice(a, a + n) for (a, _), n in zip(sp_pads, spatial))]
        return mx.transpose(full, from_last) if last else full

    windows.maximum = maximum
    windows.strided_maximum = strided_maximum
    windows.picks = picks
    windows.picks_of_maximum = picks_of_maximum
    windows.scatter = scatter
    return windows


def _max_pool_strided(input, k, s, p, d, lead, spatial, osz, name):
    nl, kk, nd = len(lead), math.prod(k), len(k)
    last = nl == 2 and lead[1] >= _POOL_LAST_MIN_CHANNELS
    recording = _C.is_grad_enabled() and input.requires_grad
    src = _layout.source(input) if last and not recording else None  # Note [Channels-last source] (csrc/layout.c)
    windows = _strided_windows(k, s, p, d, nl, spatial, osz, _lowest(input.dtype), last)
    x = input._mx
    strided = last and not recording and _compile._TRACE is not None
    if recording:  # Note [Compiled max-pool backward]: the forward's running maximum likewise
        fwd = compiled_when_repeated((windows, "forward", input._device_code), x.shape, lambda: windows.maximum)
        y = yl = fwd(x)
    else:
        y = yl = windows.strided_maximum(x, src) if strided else windows.maximum(x, src)
    if last:
        y = mx.transpose(y, _layout.from_last(nd))
    out = _new(y, input._device_code, input.dtype)
    if last:
        _layout.mark_tensor(out, None if recording else yl)
    if not recording:
        return out
    first = _first_taps_array(spatial, osz, k, s, p, d)
    first = first.reshape((1,) + tuple(osz) + (1,) if last else (1,) * nl + tuple(osz))

    def backward(ctx, grads):
        g = grads[0]
        if _C.is_grad_enabled():  # create_graph: the scatter recorded through mlx_op (linear in the gradient)
            idx = windows.picks_of_maximum(x, yl, first)
            gx = mlx_op(name + "Backward", lambda g: windows.scatter(idx, g), [g])
        else:  # Note [Compiled max-pool backward]
            dev = g._device_code
            grad = compiled_when_repeated((windows, "backward", dev), x.shape,  # Note [Compiled when repeated]
                                          lambda: _max_pool_grad_fn(windows))
            arr = _scoped(dev, grad, x, yl, g._mx, first)
            gx = _new(arr, dev, _dtype.from_mx(arr.dtype))
        if last:  # the NC... view of an N...C array, on the CPU too (Note [Channels-last gradients])
            _layout.mark_tensor(gx)
        return (gx,)

    _record(name, backward, [input], [out])
    return out


def _max_pool_scan_indices(input, k, s, p, d, lead, spatial, osz, name):
    """(values, indices) of a float max pool with return_indices, from torch's scan over the strided slices (Note
    [max-pool scan backward]): the picked offset per window gives the value, and the sliding table's flat input
    index of that offset the index (a window entirely in the padding: torch's index of its first tap at or after
    0, Note [windows entirely in the padding]); the gradient goes back by stride phase."""
    nl = len(lead)
    windows = _strided_windows(k, s, p, d, nl, spatial, osz, _lowest(input.dtype), False)
    first = _first_taps_array(spatial, osz, k, s, p, d)
    table, fallback = _sliding_table(spatial, osz, k, s, p, d)
    flat_table = _derived(table, "table", lambda t: mx.array(t.astype(np.int32)))[0]  # (O, K)
    missing = builtins.bool((table < 0).all(axis=-1).any())  # a window with no element in the input
    x = input._mx
    out_shape = tuple(lead) + tuple(osz)
    b, o = math.prod(lead), math.prod(osz)

    def forward(x):
        pick, val = windows.picks(x, first.reshape((1,) * nl + tuple(osz)), values=True)
        pk = pick.reshape(b, o)
        flat = mx.take_along_axis(mx.broadcast_to(flat_table, (b,) + flat_table.shape),
                                  mx.maximum(pk, 0)[..., None], axis=-1)[..., 0]
        if missing:  # Note [windows entirely in the padding]
            flat = mx.where(pk < 0, mx.array(fallback.astype(np.int32)), flat)
        return pick, val, flat.astype(mx.int64).reshape(out_shape)

    dev = input._device_code
    pick, val, flat = _scoped(dev, forward, x)
    out = _new(val, dev, input.dtype)
    indices = _new(flat, dev, _dtype.int64)
    if _C.is_grad_enabled() and input.requires_grad:
        def backward(ctx, grads):
            g = grads[0]
            if _C.is_grad_enabled():  # create_graph: the scatter recorded through mlx_op (linear in the gradient)
                return (mlx_op(name + "Backward", lambda g: windows.scatter(pick, g), [g]),)
            arr = _scoped(g._device_code, windows.scatter, pick, g._mx)
            return (_new(arr, g._device_code, _dtype.from_mx(arr.dtype)),)

        _record(name, backward, [input], [out])
    return out, indices


def _picks_of_maximum(slices, y):
    """int32 offsets, shaped as y: per window the element torch's scan picks (Note [max-pool scan backward]),
    found from the window's maximum y (the forward's result, NaN where the window holds one) by equality (Note
    [max-pool picks from the maximum]). slices: one array per window offset in its loop order, no padding."""
    slices = list(slices)
    last = len(slices) - 1
    taps = [mx.array(t, dtype=mx.int32) for t in builtins.range(last + 1)]
    first_max, last_nan = taps[last], taps[0]
    for t in builtins.range(last - 1, -1, -1):
        first_max = mx.where(slices[t] == y, taps[t], first_max)
    for t in builtins.range(1, last + 1):
        last_nan = mx.where(slices[t] != slices[t], taps[t], last_nan)
    return mx.where(y != y, last_nan, first_max)


# Note [max-pool picks from the maximum]
# A float max pool's backward finds the element torch's scan picks from the forward's maximum y instead of by
# running the scan again: the first offset whose value equals y, or, where y is NaN (MLX's maximum propagates it,
# as torch's kernel does), the last NaN. That is the scan's pick: it takes an offset only when strictly greater or
# NaN, so among equal maxima the first stays (-0.0 and +0.0 compare equal, and a block of -inf keeps its first
# element), and after a NaN only a later NaN is taken. Windows that reach the padding (Note [max-pool strided
# windows]) read -inf there, which never equals a finite or NaN y; where y is -inf itself (every element in
# bounds is -inf, or none is) the scan keeps the window's first in-bounds offset (or none), so that is the pick.
# `return_indices` still runs the scan, which gives its values too. MLX's CPU compiles these fused kernels as
# scalar loops, so their cost is their operation count: the scan is five operations per offset, this two, and
# the comparisons read y that the forward made anyway (saved
# as the array, so an in-place change of the pool's output does not reach it). The gradient is then one
# selection over the input's shape, the gradient and the picks broadcast over each block's offsets against a
# constant of the offsets (Note [max-pool blocks]), where K selections were stacked and transposed back. On this
# CPU (2 threads, the backward's compiled kernels, medians of 30 interleaved), 2x2 blocks of a channels-last
# 128x16x28x28: picks 5.5 -> 3.0 ms, the gradient's scatter 3.3 -> 1.75 ms; the pool's forward and backward of
# that input 14.7 -> 6.9 ms and of 128x32x14x14 7.7 -> 4.4 ms (row-major inputs: unchanged, 13.5 -> 13.1 and
# 7.1 -> 7.2 ms); the Fashion-MNIST example's SGD step at batch 128, alternated: 35.9-39.4 -> 33.8-35.6 ms.
# ResNet's stem pool (3x3, stride 2, padding 1), forward and backward, alternated twice: 8x64x56x56 17.9 ->
# 13.5-13.8 ms (channels-last windows, hinted or not), 8x64x16x16 2.0 -> 1.7-1.8 ms hinted, 1.6 -> 1.3 ms not.


def _scan(slices, first):
    """(offsets, values): torch's max-pool scan (Note [max-pool scan backward]) over `slices`, one array per window
    offset in its loop order, starting from -inf at the offsets `first` (int32, broadcastable; -1: none)."""
    idx = first
    for t, v in enumerate(slices):
        if t == 0:
            cur = mx.array(-float("inf"), dtype=v.dtype)
        take = (v > cur) | mx.isnan(v)
        cur, idx = mx.where(take, v, cur), mx.where(take, t, idx)
    return idx, cur


def _sliding_table(spatial, osz, k, s, p, d):
    """(table, fallback) of sliding windows (Note [pooling tables]): per output position and window offset the flat
    input index (-1: padding), and torch's index for a window entirely in the padding (_first_in_bounds)."""
    return _cached_table(("sliding", spatial, osz, k, s, p, d), lambda: (
        _table([_sliding_positions(n, o, kk, ss, pp, dd) for n, o, kk, ss, pp, dd in zip(spatial, osz, k, s, p, d)],
               spatial),
        _first_in_bounds(spatial, osz, s, p, d)))


def _first_taps_array(spatial, osz, k, s, p, d):
    """_first_taps as an mx.array of shape osz, made once per geometry."""
    return _cached_table(("strided-first", spatial, osz, k, s, p, d), lambda: (
        mx.array(_first_taps(spatial, osz, k, s, p, d)),))[0]


def _first_taps(spatial, osz, k, s, p, d):
    """(*osz) int32: per sliding window, the flat offset (torch's loop order) of its first in-bounds element, where
    torch's kernel starts its scan, or -1 for a window entirely in the padding (Note [windows entirely in the
    padding]: no gradient)."""
    flat = np.zeros((), np.int64)
    none = np.zeros((), bool)
    for n, o, kk, ss, pp, dd in zip(spatial, osz, k, s, p, d):
        pos = np.arange(o)[:, None] * ss - pp + np.arange(kk)[None, :] * dd  # (o, kk) input positions
        inside = (pos >= 0) & (pos < n)
        f = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
        flat = flat[..., None] * kk + np.maximum(f, 0)
        none = none[..., None] | (f < 0)
    return np.where(none, -1, flat).astype(np.int32)


# Note [max-pool scan backward]
# A strided max pool's backward (Note [max-pool strided windows]) finds per window the element torch's kernel
# picks by running its scan: over the K strided slices of the padded input in loop order, starting from -inf at
# the window's first in-bounds offset, an offset is taken when its value is greater than the running one or NaN
# (so the first maximum wins, and the last NaN; padding reads -inf and is never taken; a window of -inf keeps its
# first in-bounds element). That is K comparisons and selections over the output's size, which mx.compile fuses,
# where stacking the K slices into (*out, K) windows and taking an argmax of per-offset ranks read and wrote K
# times the output in memory and ran MLX's general arg-reduce (on an H100, 4.1 ms of a compiled ResNet-50 224 b32
# step's kernel time, with 1.9 ms for the max beside it). The gradient is then sent back by stride phase, not
# through the vjp of the K slicings (each a zero array of the padded input's size, a strided write and an add:
# 5.2 ms of copies there): along each spatial dim offset t lands at padded position s*(o + t*d // s) + t*d % s,
# so each phase's block is a sum of the per-offset gradients shifted by t*d // s (pads of the output's size), and
# the blocks interleaved by one stack, transpose and reshape are the padded gradient, whose padding is cut.
# Per input element the sums run over its windows in torch's order (output positions ascending, so larger
# offsets first), giving torch's bits. On this CPU (one thread, the forward included, medians), ResNet's stem
# pool (3x3, stride 2, padding 1) of 8x64x56x56: 99-101 -> 31-32 ms; of 2x64x16x16: 0.90 -> 0.35 ms. A compiled
# ResNet-18 training graph under the fake GPU (Note [Fake GPU]): 1,173 -> 1,156 nodes, its pool's backward now
# fused selections and 9 pads of the output's size where it was an arg-reduce, a max and 9 writes into zero
# arrays of the padded input's size. With return_indices (the values and indices from the scan, where a gather
# of the sliding table's windows and an argmax of ranks were): 8x64x56x56 forward and backward, 2x2 34.2 -> 19.0
# ms, 3x3/2/1 72.2 -> 46.3-48.7 ms. The quick suite's ResNet-18 32px b8 SGD step (bench_suite's variants, two
# alternations of the two trees): eager 66.4-66.6 -> 60.9-61.7 ms, compiled 63.7-65.2 -> 58.8-59.1 ms. Not yet
# timed on a GPU.


# Note [Compiled max-pool backward]
# Without create_graph, a strided max pool's backward (Note [max-pool scan backward]: the scan over the slices, the
# phase blocks; some fifty MLX calls) is one function per geometry and device, mx.compile'd once an input shape
# repeats (Note [Compiled when repeated] in autograd/_mlx_vjp.py). Every operation in it is a selection, a
# comparison or the scatter's sums, which the fused kernels MLX generates take in the eager graph's order, so they
# give the eager calls' bits. (The numbers below are of the earlier backward, the argmax of stacked windows.)
# On the CPU those kernels are C++ that MLX compiles once per machine (about 2 s for this
# backward's four, then cached in MLX's temp directory), as for the optimizers' fused updates (Note [Fused update
# kernels] in optim/optimizer.py). On this CPU, the ResNet stem pool's backward of 2x64x16x16: ~275 -> ~80 us of
# host time, and 1.68 -> 1.20 ms with its evaluation; 8x64x56x56: 57.0 -> 53.7 ms. The recorded forward's running
# maximum (its pad, K slices and K - 1 maxima; one fused kernel) is compiled the same way: 29 -> 14.5 us.
def _max_pool_grad_fn(windows):
    def grad(x, y, g, first):
        return windows.scatter(windows.picks_of_maximum(x, y, first), g)
    return grad


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    fn = f"max_pool{nd}d"
    k = _tuple(kernel_size, nd, fn, "kernel_size")
    s = _stride(stride, k, nd, fn)
    p = _tuple(padding, nd, fn, "padding")
    d = _tuple(dilation, nd, fn, "dilation")
    _check_window(k, s, p, d, fn)
    lead, spatial = _split_input(input, nd, fn)
    _require(input, input.dtype is not _dtype.bool and not input.dtype.is_complex, fn)
    if nd == 1 and not return_indices:  # torch's max_pool1d_impl (no indices) is floating-point only
        _require(input, input.dtype.is_floating_point, "max_pool1d_impl")
    osz = _sliding_sizes(spatial, k, s, p, d, ceil_mode, lead)
    if (not return_indices and tuple(s) == tuple(k) and not builtins.any(p) and builtins.all(dd == 1 for dd in d)
            and builtins.all(o * kk <= n for o, kk, n in zip(osz, k, spatial)) and builtins.all(osz)
            and input.dtype.is_floating_point):
        return _max_pool_blocks(input, k, lead, spatial, osz, f"MaxPool{nd}DWithIndicesBackward0")
    if not return_indices and input.dtype.is_floating_point and builtins.all(osz) and math.prod(k) <= 64:
        return _max_pool_strided(input, k, s, p, d, lead, spatial, osz, f"MaxPool{nd}DWithIndicesBackward0")
    if return_indices and input.dtype.is_floating_point and builtins.all(osz) and builtins.all(lead) and \
            math.prod(k) <= 64:
        return _max_pool_scan_indices(input, k, s, p, d, lead, spatial, osz, f"MaxPool{nd}DWithIndicesBackward0")
    # Note [windows entirely in the padding]: with dilation a window can miss the input altogether (its taps
    # straddle it). torch then returns -inf and an index computed from the window's first tap at or after 0,
    # which may lie outside the plane; its backward would write there, so no gradient is the faithful choice.
    idx, fallback = _sliding_table(spatial, osz, k, s, p, d)
    return _max_from_table(input, idx, lead, spatial, osz, f"MaxPool{nd}DWithIndicesBackward0", return_indices,
                           fallback)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- avg_pool


def _avg_divisor(spatial, osz, k, s, p, count_include_pad):
    """(O,) divisor per output position: the window's extent clipped to input + padding (count_include_pad)
    or to the input alone, multiplied over the dims."""
    div = np.ones((1,) * len(spatial), np.int64)
    for dim, (n, o, kk, ss, pp) in enumerate(zip(spatial, osz, k, s, p)):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, n + pp)
        size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * len(spatial)
        shape[dim] = o
        div = div * size.reshape(shape)
    return div.reshape(-1)


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    fn = f"avg_pool{nd}d"
    k = _tuple(kernel_size, nd, fn, "kernel_size")
    s = _stride(stride, k, nd, fn)
    p = _tuple(padding, nd, fn, "padding")
    d = (1,) * nd
    _check_window(k, s, p, d, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    lead, spatial = _split_input(input, nd, fn)
    _require(input, input.dtype.is_floating_point or input.dtype is _dtype.int64, fn)
    if nd == 3 and builtins.any(n < kk for n, kk in zip(spatial, k)):  # avg_pool3d's extra check, even with padding
        raise RuntimeError(f"input image (T: {spatial[0]} H: {spatial[1]} W: {spatial[2]}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    osz = _sliding_sizes(spatial, k, s, p, d, ceil_mode, lead)
    out_shape = tuple(lead) + osz
    name = f"AvgPool{nd}DBackward0"
    if builtins.any(v == 0 for v in out_shape):
        return _empty_result(input, out_shape, name)
    idx, div = _cached_table(("avg", spatial, osz, k, s, p, count_include_pad, divisor_override), lambda: (
        _table([_sliding_positions(n, o, kk, ss, pp, 1) for n, o, kk, ss, pp in zip(spatial, osz, k, s, p)],
               spatial),
        np.full(builtins.int(np.prod(osz)), builtins.int(divisor_override)) if divisor_override is not None
        else _avg_divisor(spatial, osz, k, s, p, count_include_pad)))
    div64 = _derived(idx, "div", lambda t: mx.array(div.astype(np.float64)))
    b = math.prod(lead)
    floating = _is_float(input.dtype)

    def f(x):
        total = mx.sum(_windows(_acc(x).reshape(b, -1), idx, 0), axis=-1)
        if floating:
            r = total / div64.astype(total.dtype)
        else:  # integer inputs: C++ integer division, truncating toward zero
            dv = mx.array(div).astype(x.dtype)
            q = mx.abs(total) // dv
            r = mx.where(total < 0, -q, q)
        return r.astype(x.dtype).reshape(out_shape)

    return mlx_op(name, f, [input])


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# ---------------------------------------------------------------- adaptive pools


def _adaptive_sizes(output_size, spatial, nd, fn):
    for o in (output_size if isinstance(output_size, (tuple, list)) else (output_size,)):
        if o is not None and (not isinstance(o, numbers.Integral) or isinstance(o, builtins.bool)):
            raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, but found element of type "
                            f"{type(o).__name__}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) == 1 and nd > 1:
            output_size = tuple(output_size) * nd
        if len(output_size) != nd:
            raise RuntimeError(f"{fn}: output_size must be {nd}")
        return tuple(n if o is None else builtins.int(o) for o, n in zip(output_size, spatial))
    if output_size is None:
        return tuple(spatial)
    return (builtins.int(output_size),) * nd


def _adaptive_prepare(input, nd, output_size, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if nd > 1 and isinstance(output_size, (tuple, list)) and input.dim() <= len(output_size):
        # torch's Python wrapper (_list_with_default) checks this before the kernel does
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    shape = tuple(input.shape)
    for i in builtins.range(1 if input.dim() == nd + 2 else 0, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(shape)} with dimension {i} being empty")
    lead, spatial = shape[:-nd], shape[-nd:]
    osz = _adaptive_sizes(output_size, spatial, nd, fn)
    if builtins.any(o < 0 for o in osz):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(osz)}")
    return lead, spatial, osz


def _adaptive_avg_pool(input, nd, output_size):
    fn = f"adaptive_avg_pool{nd}d"
    lead, spatial, osz = _adaptive_prepare(input, nd, output_size, fn)
    _require(input, input.dtype.is_floating_point, fn)
    out_shape = tuple(lead) + osz
    name = f"AdaptiveAvgPool{nd}DBackward0"
    if builtins.any(v == 0 for v in out_shape):
        return _empty_result(input, out_shape, name)
    if builtins.all(o == 1 for o in osz):  # one window over the whole plane: a mean over the spatial axes
        axes = tuple(builtins.range(-nd, 0))
        # Note [Channels-last source] (csrc/layout.c): where no gradient is recorded, the mean over the N...C
        # array's spatial axes, (N, C), is the (N, C, 1...) result's memory as it is
        src = None if _C.is_grad_enabled() and input.requires_grad else _layout.source(input)

        def f(x):
            if src is not None:
                return mx.mean(_acc(src), axis=tuple(builtins.range(1, nd + 1))).astype(x.dtype).reshape(out_shape)
            return mx.mean(_acc(x), axis=axes, keepdims=True).astype(x.dtype)

        # on a GPU a channels-last input's gradient, the broadcast mean's, is marked so that the relu backward
        # before it multiplies in N...C space (Note [Channels-last gradients] in nn/_layout.py)
        return mlx_op(name, f, [input],
                      grad_last=(0,) if input._device_code != 0 and _C._is_channels_last(input) else (),
                      key=None if src is not None else ("global avg pool", nd))  # Note [Compiled when repeated]
    idx, = _cached_table(("adaptive", spatial, osz), lambda: (
        _table([_adaptive_positions(n, o) for n, o in zip(spatial, osz)], spatial),))
    count64 = _derived(idx, "count", lambda t: mx.array((t[0] >= 0).sum(axis=1).astype(np.float64)))
    b = math.prod(lead)

    def f(x):
        total = mx.sum(_windows(_acc(x).reshape(b, -1), idx, 0), axis=-1)
        return (total / count64.astype(total.dtype)).astype(x.dtype).reshape(out_shape)

    return mlx_op(name, f, [input])


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, 1, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, 2, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(input, 3, output_size)


def _adaptive_max_pool(input, nd, output_size, return_indices):
    fn = f"adaptive_max_pool{nd}d"
    lead, spatial, osz = _adaptive_prepare(input, nd, output_size, fn)
    _require(input, input.dtype.is_floating_point, fn)
    idx, = _cached_table(("adaptive", spatial, osz), lambda: (
        _table([_adaptive_positions(n, o) for n, o in zip(spatial, osz)], spatial),))
    return _max_from_table(input, idx, lead, spatial, osz, f"AdaptiveMaxPool{nd}DBackward0", return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, output_size, True)


# ---------------------------------------------------------------- lp_pool


def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode):
    if isinstance(norm_type, (builtins.int, builtins.float)) and math.isinf(norm_type):
        if norm_type > 0:
            return _max_pool(input.abs(), nd, kernel_size, stride, 0, 1, ceil_mode, False)
        return -_max_pool(-input.abs(), nd, kernel_size, stride, 0, 1, ceil_mode, False)
    k = _tuple(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    out = _avg_pool(input.pow(norm_type), nd, kernel_size, stride, 0, ceil_mode, True, None)
    return _mask_zero(out).mul(builtins.int(np.prod(k))).pow(1.0 / norm_type)


def _mask_zero(out):
    """Note [lp_pool at a zero power-sum]: torch writes sign(out) * relu(|out|), which equals out, but whose
    backward turns the infinite derivative of pow(., 1/p) at out == 0 into a zero gradient (relu's backward
    selects, it does not multiply, so inf * 0 never happens). Here: the identity, with a derivative that
    selects zero where out == 0 (a custom vjp: MLX's own where/multiply derivatives would give NaN)."""

    @mx.custom_function
    def f(v):
        return mx.where(v == 0, mx.zeros_like(v), v)

    @f.vjp
    def _f_vjp(primals, cotangent, output):
        return (mx.where(primals[0] == 0, mx.zeros_like(cotangent), cotangent),)

    return mlx_op("MulBackward0", f, [out])


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)


# ---------------------------------------------------------------- max_unpool


def _unpool_output_size(in_spatial, k, s, p, output_size):
    """torch's _unpool_output_size: the default size, or output_size checked to lie within a stride of it."""
    nd = len(k)
    default = [(n - 1) * ss + kk - 2 * pp for n, kk, ss, pp in zip(in_spatial, k, s, p)]
    if output_size is None:
        return default
    output_size = list(output_size.tolist() if isinstance(output_size, Tensor) else output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(output_size)}'")
    for dim in builtins.range(nd):
        lo, hi = default[dim] - s[dim], default[dim] + s[dim]
        if not lo < output_size[dim] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {dim} must be between {lo} and {hi})')
    return [builtins.int(v) for v in output_size]


def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{nd}d"
    k = _tuple(kernel_size, nd, fn, "kernel_size")
    s = _stride(stride, k, nd, fn)
    p = _tuple(padding, nd, fn, "padding")
    if not isinstance(indices, Tensor):
        raise TypeError(f"{fn}(): argument 'indices' (position 2) must be Tensor, not {type(indices).__name__}")
    if input.dim() < nd:  # torch's wrapper reads input.size()[-nd:] first
        raise IndexError("tuple index out of range")
    osz = _unpool_output_size(tuple(input.shape)[-nd:], k, s, p, output_size)
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{_SCALAR.get(indices.dtype.name, indices.dtype.name)}")
    # torch runs max_unpool1d as max_unpool2d on (..., L, 1): its checks are 2-d ones there
    ndc = builtins.max(nd, 2)
    dimc = input.dim() + (1 if nd == 1 else 0)
    if dimc not in (ndc + 1, ndc + 2):
        raise RuntimeError(f"Input to max_unpooling{ndc}d should be a {ndc + 1}d or {ndc + 2}d Tensor, but got a "
                           f"tensor with {dimc} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    shape = tuple(input.shape)
    lead_n = input.dim() - nd
    for i in builtins.range(1 if input.dim() == nd + 2 else 0, input.dim()):
        if shape[i] == 0:
            raise RuntimeError(f"max_unpooling{ndc}d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {list(shape)} with dimension {i} being empty.")
    lead = shape[:lead_n]
    out_shape = tuple(lead) + tuple(osz)
    length = builtins.int(np.prod(osz, dtype=np.int64))
    b = math.prod(lead)
    name = f"MaxUnpool{ndc}DBackward0"
    if input.numel() == 0:  # an empty batch
        return _empty_result(input, out_shape, name)
    im = indices._mx.reshape(b, -1)
    lo, hi = _mx_item(mx.min(im)), _mx_item(mx.max(im))
    if lo < 0 or hi >= length:
        bad = lo if lo < 0 else hi
        if nd == 3:
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(str(v) for v in osz)}")
        sizes = "x".join(str(v) for v in (list(osz) + [1] if nd == 1 else osz))
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {sizes}")
    j = im.astype(mx.int32)

    # Note [max_unpool backward]: the forward writes each input element at its index (the last write wins on
    # a repeated index, as torch's loop); the derivative reads the gradient back at every index, as torch's
    # MaxUnpoolBackward does, so even an overwritten element gets a gradient.
    @mx.custom_function
    def scatter(v):
        z = mx.zeros((b, length), dtype=v.dtype)
        return mx.put_along_axis(z, j, v, axis=1)

    @scatter.vjp
    def _scatter_vjp(primals, cotangent, output):
        return (mx.take_along_axis(cotangent, j, axis=1),)

    return mlx_op(name, lambda x: scatter(x.reshape(b, -1)).reshape(out_shape), [input])


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------- fractional_max_pool


def _fractional_intervals(samples, n, o, k, np_dt):
    """torch's generate_intervals for a vector of samples: (P, o) window starts, computed in the input's
    floating type as the kernel does."""
    starts = np.empty((samples.shape[0], o), np.int64)
    if o > 1:
        alpha = np_dt(n - k) / np_dt(o - 1)
        i = np.arange(o - 1, dtype=np_dt)[None, :]
        u = samples.astype(np_dt)[:, None]
        starts[:, :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    if o > 0:
        starts[:, -1] = n - k
    return starts


def _check_random_samples(samples, input, lead, nd, fn):
    """torch's checks of fractional_max_pool's _random_samples, in its order: a Tensor of the input's dtype,
    3-D, at least one row per batch element (any number for an unbatched input, which uses row 0), one column
    per plane and `nd` values each."""
    if not isinstance(samples, Tensor):
        raise TypeError(f"{fn}(): argument 'random_samples' (position 4) must be Tensor, not {type(samples).__name__}")
    if samples.dtype is not input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    rows, planes, k = samples._mx.shape
    if rows < (lead[0] if len(lead) == 2 else 1):
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if planes != lead[-1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if k != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {k}.")


def _fractional(input, nd, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    fn = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        # as torch's wrapper: len() of a bare number is a TypeError, a short sequence an IndexError
        if len(output_ratio) > nd:
            raise ValueError(f"{fn} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = tuple(output_ratio)
        if len(ratio) < nd:
            raise IndexError("tuple index out of range")
        output_size = [builtins.int(input.size(-nd + i) * ratio[i]) for i in builtins.range(nd)]
    if _random_samples is None:
        from .._ops.creation import rand

        n_batch = 1 if input.dim() == nd + 1 else input.size(0)
        _random_samples = rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype,
                                       device=input.device)
    k = _tuple(kernel_size, nd, fn, "kernel_size")
    osz = _tuple(output_size, nd, fn, "output_size")
    if input.dim() not in (nd + 1, nd + 2) or builtins.any(sz == 0 for sz in tuple(input.shape)[-nd - 1:]):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    lead, spatial = tuple(input.shape)[:-nd], tuple(input.shape)[-nd:]
    names = ("time", "height", "width")[3 - nd:]
    for name, n, o, kk in zip(names, spatial, osz, k):
        # torch's 3-d kernel checks strictly (out + pool - 1 < in), the 2-d one not
        if o + kk - 1 > n or (nd == 3 and o + kk - 1 == n):
            raise RuntimeError(f"{fn}{'_out' if nd == 3 else ''}(): pool {name} {kk} too large relative to input "
                               f"{name} {n}")
    _check_random_samples(_random_samples, input, lead, nd, fn)
    _require(input, input.dtype.is_floating_point, fn + "_out_frame")
    b = math.prod(lead)
    np_dt = np.float64 if input.dtype is _dtype.float64 else np.float32
    # torch reads sample row i for batch element i (row 0 for an unbatched input); extra rows are unused
    n_rows = lead[0] if len(lead) == 2 else 1
    u = np.array(_mx_evaluated(_random_samples._mx[:n_rows].astype(mx.float32 if np_dt is np.float32 else mx.float64)))
    u = u.reshape(b, nd)
    # the kernel's sample order: 2-d uses (w, h); 3-d uses (t, h, w)
    col = (1, 0) if nd == 2 else (0, 1, 2)
    per_dim = []
    for dim, (n, o, kk) in enumerate(zip(spatial, osz, k)):
        starts = _fractional_intervals(u[:, col[dim]], n, o, kk, np_dt)
        per_dim.append(starts[:, :, None] + np.arange(kk)[None, None, :])
    idx = _table(per_dim, spatial) if b else np.zeros((1, builtins.int(np.prod(osz)), 1), np.int64)
    return _max_from_table(input, idx, lead, spatial, osz, f"FractionalMaxPool{nd}DBackward0", return_indices)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional(input, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional(input, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, 2, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, 3, kernel_size, output_size, output_ratio, True, _random_samples)


# ---------------------------------------------------------------- unfold (im2col) / fold (col2im)


def _im2col_args(kernel_size, dilation, padding, stride, fn):
    # im2col/col2im take an int (torch's _pair) or exactly two values, unlike the pools' 1-element lists
    for name, v in (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)):
        if isinstance(v, (tuple, list)) and len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
    k = _tuple(kernel_size, 2, fn, "kernel_size")
    d = _tuple(dilation, 2, fn, "dilation")
    p = _tuple(padding, 2, fn, "padding")
    s = _tuple(stride, 2, fn, "stride")
    if builtins.any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} "
                           f"kernel_width: {k[1]}")
    if builtins.any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    if builtins.any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} "
                           f"dilation_width: {d[1]}")
    if builtins.any(v < 0 for v in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return k, d, p, s


def _blocks(spatial, k, d, p, s):
    return tuple((n + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1 for n, kk, dd, pp, ss in zip(spatial, k, d, p, s))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kH * kW, L), channel-major, then kernel rows, then kernel columns."""
    k, d, p, s = _im2col_args(kernel_size, dilation, padding, stride, "im2col")
    if input.dim() < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{builtins.max(input.dim(), 1)}, "
                         f"{builtins.max(input.dim(), 1) - 1}], but got 2)")
    shape = tuple(input.shape)
    if input.dim() not in (3, 4) or builtins.any(v == 0 for v in shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(shape)}")
    _require(input, _is_float(input.dtype), "im2col_out_cpu")
    lead, spatial = shape[:-2], shape[-2:]
    osz = _blocks(spatial, k, d, p, s)
    if builtins.any(o < 1 for o in osz):
        raise RuntimeError(f"Given input with spatial size ({spatial[0]}, {spatial[1]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the "
                           f"array of sliding blocks as ({osz[0]}, {osz[1]}), but its components must be at least "
                           f"one.")
    kk, length = k[0] * k[1], osz[0] * osz[1]
    out_shape = tuple(lead[:-1]) + (lead[-1] * kk, length)
    if input.numel() == 0:
        return _empty_result(input, out_shape, "Im2ColBackward0")
    idx = _table([_sliding_positions(n, o, kd, ss, pp, dd) for n, o, kd, ss, pp, dd in zip(spatial, osz, k, s, p, d)],
                 spatial)
    b = math.prod(lead)

    def f(x):
        w = _windows(x.reshape(b, -1), idx, 0)  # (B, L, K)
        return mx.swapaxes(w, 1, 2).reshape(out_shape)

    return mlx_op("Im2ColBackward0", f, [input])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: sums the (N, C * kH * kW, L) blocks back into (N, C, H, W); overlapping positions add up."""
    osz = _tuple(output_size, 2, "col2im", "output_size")
    k, d, p, s = _im2col_args(kernel_size, dilation, padding, stride, "col2im")
    if builtins.any(v <= 0 for v in osz):
        raise RuntimeError(f"Expected output spatial size to be positive, but got: output_size=({osz[0]}, "
                           f"{osz[1]}).")
    shape = tuple(input.shape)
    if input.dim() not in (2, 3) or builtins.any(v == 0 for v in shape[-2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(shape)}")
    _require(input, _is_float(input.dtype), "col2im_out_cpu")
    kk = k[0] * k[1]
    if shape[-2] % kk:
        raise RuntimeError(f"Expected size of input's dimension {input.dim() - 2} to be divisible by the product of "
                           f"kernel_size, but got input.size({input.dim() - 2})={shape[-2]} and "
                           f"kernel_size=({k[0]}, {k[1]}).")
    blocks = _blocks(osz, k, d, p, s)
    length = blocks[0] * blocks[1]
    if blocks[0] < 1 or blocks[1] < 1 or shape[-1] != length:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, "
                           f"{d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected size of input's "
                           f"dimension {input.dim() - 1} to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {length}, but got input.size({input.dim() - 1})="
                           f"{shape[-1]}.")
    c = shape[-2] // kk
    lead = shape[:-2] + (c,)
    out_shape = lead + osz
    if input.numel() == 0:
        return _empty_result(input, out_shape, "Col2ImBackward0")
    idx = _table([_sliding_positions(n, o, kd, ss, pp, dd) for n, o, kd, ss, pp, dd in zip(osz, blocks, k, s, p, d)],
                 osz)
    hw = osz[0] * osz[1]
    b = math.prod(lead)
    j = mx.array(np.where(idx[0] < 0, hw, idx[0]).reshape(-1).astype(np.int32))  # (L * K,), padding -> hw

    def f(x):
        v = mx.swapaxes(x.reshape(b, kk, length), 1, 2).reshape(b, length * kk)  # (B, L * K)
        z = mx.zeros((hw + 1, b), dtype=x.dtype).at[j].add(v.T)
        return z[:hw].T.reshape(out_shape)

    return mlx_op("Col2ImBackward0", f, [input])


# ---------------------------------------------------------------- aten's max-pool backward


def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding, dilation, ceil_mode, indices):
    """aten::max_pool2d_with_indices_backward: grad_output added into a zero tensor shaped like input at the
    flat per-plane indices max_pool2d returned. Not in torch's Python namespaces (torch exposes it as
    torch.ops.aten.max_pool2d_with_indices_backward); kept here, next to the forward, for an aten namespace."""
    if tuple(grad_output.shape) != tuple(indices.shape):
        raise RuntimeError(f"Expected grad_output and indices of the same shape, but got {list(grad_output.shape)} "
                           f"and {list(indices.shape)}")
    shape = tuple(input.shape)
    lead, spatial = shape[:-2], shape[-2:]
    b = math.prod(lead)
    length = spatial[0] * spatial[1]
    if input.numel() == 0 or grad_output.numel() == 0:
        return mlx_op("MaxPool2DWithIndicesBackwardBackward0", lambda g: mx.zeros(shape, dtype=g.dtype), [grad_output])
    rows = mx.broadcast_to(mx.arange(b).reshape(b, 1), (b, grad_output.numel() // b))
    cols = indices._mx.reshape(b, -1).astype(mx.int32)

    def f(g):
        z = mx.zeros((b, length), dtype=g.dtype)
        return z.at[rows, cols].add(g.reshape(b, -1)).reshape(shape)

    return mlx_op("MaxPool2DWithIndicesBackwardBackward0", f, [grad_output])


def _torch_adaptive_max_pool1d(input, output_size):
    """torch.adaptive_max_pool1d: (values, indices), always."""
    return adaptive_max_pool1d_with_indices(input, output_size)


TORCH_VARIANTS["adaptive_max_pool1d"] = _torch_adaptive_max_pool1d


def _native_max_pool(name, fn, with_indices):
    """torch.max_pool1d/2d/3d and torch.max_pool1d_with_indices: the native signatures, with no return_indices
    parameter (the _with_indices form always returns (values, indices))."""
    def op(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(input, kernel_size, stride, padding, dilation, ceil_mode, with_indices)

    op.__name__ = op.__qualname__ = name
    return op


for _n, _with in (("max_pool1d", False), ("max_pool2d", False), ("max_pool3d", False),
                  ("max_pool1d_with_indices", True)):
    TORCH_VARIANTS[_n] = _native_max_pool(_n, globals()[_n], _with)
del _n, _with
