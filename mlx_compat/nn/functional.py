"""torch.nn.functional: the autograd issue's tier-1 functions. Forwards are MLX; most derivatives come
from the mx.vjp fallback (Note [MLX vjp fallback] in _autograd_ops.py); relu is hand-written so that
relu'(0) = 0 as in torch."""
from __future__ import annotations

import builtins
import math

import mlx.core as mx

from .. import _C, _dtype, _precise, _random
from .._autograd_ops import mlx_op
from .._tensor import Tensor, _new, _wrap_dim

_SCALAR = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _float_only(input, kernel):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")


# ---------------------------------------------------------------- activations


def relu(input, inplace=False):
    r = input.relu()
    return input._commit(r) if inplace else r


def relu_(input):
    return relu(input, inplace=True)


def gelu(input, approximate="none"):
    _float_only(input, "GeluKernelImpl")
    if approximate == "none":
        f = lambda x: 0.5 * x * (1 + mx.erf(x * (1 / math.sqrt(2))))  # noqa: E731
    elif approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        f = lambda x: 0.5 * x * (1 + mx.tanh(c * (x + 0.044715 * x * x * x)))  # noqa: E731
    else:
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return mlx_op("GeluBackward0", lambda x: f(x).astype(x.dtype), [input])


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def silu(input, inplace=False):
    _float_only(input, "silu")
    r = mlx_op("SiluBackward0", lambda x: x * _precise.sigmoid(x), [input])
    return input._commit(r) if inplace else r


def _softmax_dim(dim, ndim, name):
    if dim is None and name.startswith("Tensor."):
        raise TypeError(f"{name[7:]}() missing required argument 'dim'")
    if dim is None:
        import warnings

        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, builtins.max(ndim, 1))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input.to(dtype) if dtype is not None else input
    _float_only(x, "softmax_lastdim_kernel_impl")
    d = _softmax_dim(dim, x.dim(), "softmax")
    scalar = x.dim() == 0
    return mlx_op("SoftmaxBackward0",
                  lambda v: _precise.softmax(v, d) if not scalar else mx.ones_like(v), [x])


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input.to(dtype) if dtype is not None else input
    _float_only(x, "log_softmax_lastdim_kernel_impl")
    d = _softmax_dim(dim, x.dim(), "log_softmax")
    scalar = x.dim() == 0
    return mlx_op("LogSoftmaxBackward0",
                  lambda v: v - _precise.logsumexp(v, d, keepdims=True) if not scalar else mx.zeros_like(v), [x])


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)


# ---------------------------------------------------------------- linear, embedding, dropout


def linear(input, weight, bias=None):
    if input.dim() == 2 and weight.dim() == 2 and bias is not None:
        from .._shape_ops import addmm

        return addmm(bias, input, weight.t())  # as torch: one AddmmBackward0 node
    out = input.matmul(weight.t()) if weight.dim() == 2 else input.matmul(weight)
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    out = mlx_op("BilinearBackward0", lambda a, b, w: mx.einsum("...i,oij,...j->...o", a, w, b), [input1, input2, weight])
    return out if bias is None else out + bias


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    if not isinstance(input, Tensor) or input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           "Long, Int")
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        if not 0 <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
    if input.numel():
        lo, hi = mx.min(input._mx).item(), mx.max(input._mx).item()
        if lo < 0 or hi >= n:
            raise IndexError("index out of range in self")
    if max_norm is not None and input.numel():
        from .._grad_mode import no_grad

        with no_grad():  # torch renormalises the looked-up rows in place
            import numpy as np

            rows = mx.array(np.unique(np.array(input._mx.astype(mx.int64))).astype(np.int32))
            w = weight._mx
            sel = w[rows]
            norms = mx.power(mx.sum(mx.power(mx.abs(sel), norm_type), axis=1, keepdims=True), 1.0 / norm_type)
            scale = mx.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            new = mx.array(w)
            new[rows] = sel * scale
            weight._set_data(new) if weight._base is None else weight._write(new)
    idx = input._mx

    def f(w):
        if padding_idx is not None:
            keep = (mx.arange(n) != padding_idx).reshape((n,) + (1,) * (w.ndim - 1))
            w = mx.where(keep, w, mx.stop_gradient(w))  # no gradient for the padding row
        return mx.take(w, idx, axis=0)

    return mlx_op("EmbeddingBackward0", f, [weight])


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    key = _random.key_for(None)
    if p == 1.0:
        keep = mx.zeros(tuple(input.shape), dtype=mx.bool_)
    else:
        keep = mx.random.bernoulli(1.0 - p, tuple(input.shape), key=key)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    r = mlx_op("MulBackward0", lambda x: mx.where(keep, x * scale, mx.zeros_like(x)).astype(x.dtype), [input])
    return input._commit(r) if inplace else r


# ---------------------------------------------------------------- normalization


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, builtins.int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != tuple(normalized_shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    axes = tuple(builtins.range(input.dim() - k, input.dim()))
    ins = [input] + ([weight] if weight is not None else []) + ([bias] if bias is not None else [])

    def f(x, *wb):
        mean = mx.mean(x, axis=axes, keepdims=True)
        var = mx.var(x, axis=axes, keepdims=True)
        y = (x - mean) * mx.rsqrt(var + eps)
        it = iter(wb)
        if weight is not None:
            y = y * next(it)
        if bias is not None:
            y = y + next(it)
        return y.astype(x.dtype)

    return mlx_op("NativeLayerNormBackward0", f, ins)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.dim() < 2:
        raise ValueError(f"Expected 2D or higher input (got {input.dim()}D input)")
    c = input.shape[1]
    axes = tuple(d for d in builtins.range(input.dim()) if d != 1)
    bshape = (1, c) + (1,) * (input.dim() - 2)
    count = input.numel() // c
    if training and count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
    ins = [input] + ([weight] if weight is not None else []) + ([bias] if bias is not None else [])
    use_batch = training or running_mean is None

    if not use_batch:
        rm, rv = running_mean._mx.reshape(bshape), running_var._mx.reshape(bshape)

    def f(x, *wb):
        if use_batch:
            mean = mx.mean(x, axis=axes, keepdims=True)
            var = mx.var(x, axis=axes, keepdims=True)
        else:
            mean, var = rm.astype(x.dtype), rv.astype(x.dtype)
        y = (x - mean) * mx.rsqrt(var + eps)
        it = iter(wb)
        if weight is not None:
            y = y * next(it).reshape(bshape)
        if bias is not None:
            y = y + next(it).reshape(bshape)
        return y.astype(x.dtype)

    out = mlx_op("NativeBatchNormBackward0", f, ins)
    if training and running_mean is not None:
        from .._grad_mode import no_grad

        x = input._mx
        mean = mx.mean(x, axis=axes)
        unbiased = mx.var(x, axis=axes) * (count / builtins.max(count - 1, 1))
        m = 0.1 if momentum is None else momentum
        with no_grad():
            running_mean._write((running_mean._mx * (1 - m) + mean.astype(running_mean.dtype._mx) * m))
            if running_var is not None:
                running_var._write((running_var._mx * (1 - m) + unbiased.astype(running_var.dtype._mx) * m))
    return out


# ---------------------------------------------------------------- convolution


def _ntuple(v, n, name="argument"):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return tuple(builtins.int(x) for x in v)
    return (builtins.int(v),) * n


def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to conv{nd}d, but got input "
                           f"of size: {list(input.shape)}")
    batched = input.dim() == nd + 2
    x_in = input if batched else input.unsqueeze(0)
    if x_in.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x_in.shape)} to have {weight.shape[1] * groups} channels, but got "
                           f"{x_in.shape[1]} channels instead")
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    ks = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if builtins.any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, ks)]
            lo = tuple(t // 2 for t in total)
            hi = tuple(t - t // 2 for t in total)
        else:
            raise ValueError(f"Invalid padding string '{padding}'")
    else:
        lo = hi = _ntuple(padding, nd, "padding")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    ins = [x_in, weight] + ([bias] if bias is not None else [])
    perm_in = (0,) + tuple(builtins.range(2, nd + 2)) + (1,)
    perm_out = (0, nd + 1) + tuple(builtins.range(1, nd + 1))

    def conv_mlx(xn, wn, g):
        if xn.dtype == mx.float64:
            return _conv_f64(xn, wn, stride, lo, hi, dilation, g)
        if g == 1 or nd < 3:
            return mx.conv_general(xn, wn, stride=list(stride), padding=(list(lo), list(hi)),
                                   kernel_dilation=list(dilation), groups=g)
        # MLX has no grouped 3-D convolution: one convolution per group
        ci, co = xn.shape[-1] // g, wn.shape[0] // g
        parts = [mx.conv_general(xn[..., i * ci:(i + 1) * ci], wn[i * co:(i + 1) * co], stride=list(stride),
                                 padding=(list(lo), list(hi)), kernel_dilation=list(dilation)) for i in builtins.range(g)]
        return mx.concatenate(parts, axis=-1)

    def f(x, w, *b):
        # torch's NC... / OI... layouts to MLX's N...C / O...I, and back
        y = conv_mlx(mx.transpose(x, perm_in), mx.transpose(w, perm_in), groups)
        y = mx.transpose(y, perm_out)
        if b:
            y = y + b[0].reshape((1, -1) + (1,) * nd)
        return y.astype(x.dtype)

    out = mlx_op("ConvolutionBackward0", f, ins)
    return out if batched else out.squeeze(0)


def _conv_f64(x, w, stride, lo, hi, dilation, groups):
    """Channels-last convolution in float64 (MLX's conv kernels have none): gather windows, then a
    contraction per group. x: (N, *S, C), w: (O, *K, C/groups)."""
    nd = x.ndim - 2
    pads = [(0, 0)] + [(l, h) for l, h in zip(lo, hi)] + [(0, 0)]
    xp = mx.pad(x, pads)
    ks = w.shape[1:-1]
    out_sizes = [(xp.shape[1 + i] - dilation[i] * (ks[i] - 1) - 1) // stride[i] + 1 for i in builtins.range(nd)]
    cols = xp
    for i in builtins.range(nd):  # gather each spatial axis into (out, k)
        idx = (mx.arange(out_sizes[i]) * stride[i]).reshape(-1, 1) + (mx.arange(ks[i]) * dilation[i]).reshape(1, -1)
        cols = mx.take(cols, idx.reshape(-1), axis=1 + 2 * i)
        shape = list(cols.shape)
        cols = cols.reshape(shape[: 1 + 2 * i] + [out_sizes[i], ks[i]] + shape[2 + 2 * i:])
    # cols: (N, o1, k1, o2, k2, ..., C) -> (N, o..., k..., C)
    order = [0] + [1 + 2 * i for i in builtins.range(nd)] + [2 + 2 * i for i in builtins.range(nd)] + [1 + 2 * nd]
    cols = mx.transpose(cols, order)
    ci, co = x.shape[-1] // groups, w.shape[0] // groups
    outs = []
    for g in builtins.range(groups):
        cg = cols[..., g * ci:(g + 1) * ci]
        wg = w[g * co:(g + 1) * co]
        flat = cg.reshape(cg.shape[: 1 + nd] + (-1,))
        outs.append(flat @ mx.transpose(wg.reshape(co, -1)))
    return mx.concatenate(outs, axis=-1) if groups > 1 else outs[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


# ---------------------------------------------------------------- pooling


def _pool_out(size, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k = _ntuple(kernel_size, 2, "kernel_size")
    s = _ntuple(stride if stride not in (None, ()) else k, 2, "stride")
    p = _ntuple(padding, 2, "padding")
    d = _ntuple(dilation, 2, "dilation")
    if builtins.any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
                           f"kernel_size={k[0]} and dilation={d[0]}")
    batched = input.dim() == 4
    x_in = input if batched else input.unsqueeze(0)
    n, c, h, w = x_in.shape
    oh = _pool_out(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size "
                           "is too small")
    # rows/cols each window element reads, in padded coordinates
    ri = (mx.arange(oh) * s[0]).reshape(oh, 1) + (mx.arange(k[0]) * d[0]).reshape(1, k[0])
    ci = (mx.arange(ow) * s[1]).reshape(ow, 1) + (mx.arange(k[1]) * d[1]).reshape(1, k[1])
    ph = builtins.max(h + 2 * p[0], int(mx.max(ri).item()) + 1)
    pw = builtins.max(w + 2 * p[1], int(mx.max(ci).item()) + 1)
    neg = -float("inf") if input.dtype.is_floating_point else (mx.iinfo(input.dtype._mx).min)

    def windows(x):
        xp = mx.full((n, c, ph, pw), neg, dtype=x.dtype)
        xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
        win = xp[:, :, ri.reshape(-1)][:, :, :, ci.reshape(-1)]  # (n, c, oh*kh, ow*kw)
        win = win.reshape(n, c, oh, k[0], ow, k[1]).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, k[0] * k[1])
        return win

    def f(x):
        return mx.max(windows(x), axis=-1)

    out = mlx_op("MaxPool2DWithIndicesBackward0", f, [x_in])
    if not batched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    arg = mx.argmax(windows(x_in._mx), axis=-1)  # position inside the window
    kr, kc = arg // k[1], arg % k[1]
    rows = (mx.arange(oh) * s[0]).reshape(1, 1, oh, 1) + kr * d[0] - p[0]
    cols = (mx.arange(ow) * s[1]).reshape(1, 1, 1, ow) + kc * d[1] - p[1]
    idx = _new((rows * w + cols).astype(mx.int64), input._device_code, _dtype.int64)
    return out, (idx if batched else idx.squeeze(0))


def adaptive_avg_pool2d(input, output_size):
    batched = input.dim() == 4
    x_in = input if batched else input.unsqueeze(0)
    n, c, h, w = x_in.shape
    osz = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    oh = h if osz[0] is None else builtins.int(osz[0])
    ow = w if osz[1] is None else builtins.int(osz[1])

    def bounds(i, o, size):
        return (i * size) // o, -(-((i + 1) * size) // o)

    def f(x):
        if h % oh == 0 and w % ow == 0:
            return mx.mean(x.reshape(n, c, oh, h // oh, ow, w // ow), axis=(3, 5))
        rows = []
        for i in builtins.range(oh):
            r0, r1 = bounds(i, oh, h)
            cols = []
            for j in builtins.range(ow):
                c0, c1 = bounds(j, ow, w)
                cols.append(mx.mean(x[:, :, r0:r1, c0:c1], axis=(2, 3)))
            rows.append(mx.stack(cols, axis=-1))
        return mx.stack(rows, axis=-2)

    out = mlx_op("AdaptiveAvgPool2DBackward0", lambda x: f(x).astype(x.dtype), [x_in])
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------- losses used by the tier-1 tests


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    from .._shape_ops import gather

    picked = -gather(input, 1, target.unsqueeze(1)).squeeze(1)
    if reduction == "none":
        return picked
    if reduction == "sum":
        return picked.sum()
    return picked.mean()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    return nll_loss(log_softmax(input, 1), target, weight, reduction=reduction)


def _method_softmax(self, dim, dtype=None):
    if dim is None or isinstance(dim, builtins.bool):
        raise TypeError("softmax(): argument 'dim' must be int")
    return softmax(self, dim, dtype=dtype)


def _method_log_softmax(self, dim, dtype=None):
    if dim is None or isinstance(dim, builtins.bool):
        raise TypeError("log_softmax(): argument 'dim' must be int")
    return log_softmax(self, dim, dtype=dtype)


Tensor.softmax = _method_softmax
Tensor.log_softmax = _method_log_softmax
Tensor.relu_ = relu_


# ---------------------------------------------------------------- padding


def _pad_indices(n, lo, hi, mode):
    """Source positions for a padded axis of size n: reflect, replicate or circular. For reflect and circular,
    negative amounts crop first and the positive ones then pad from the cropped span; replicate clamps positions
    of the uncropped axis (so a crop to nothing still replicates the edge), as torch does."""
    import numpy as np

    if mode == "replicate":
        return mx.array(np.clip(np.arange(-lo, n + hi), 0, n - 1).astype(np.int32))
    start, stop = builtins.max(-lo, 0), n - builtins.max(-hi, 0)
    m = builtins.max(stop - start, 0)
    i = np.arange(-builtins.max(lo, 0), m + builtins.max(hi, 0))
    if mode == "reflect":
        period = 2 * (m - 1)
        i = np.abs(i) % period if period > 0 else np.zeros_like(i)
        i = np.where(i >= m, period - i, i)
    else:  # circular
        i = i % m if m else i
    return mx.array((i + start).astype(np.int32))


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (left, right) pairs from the last dim backwards; negative
    amounts crop. Non-constant modes gather source positions, so gradients flow back to them."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    pairs = [(builtins.int(pad[2 * i]), builtins.int(pad[2 * i + 1])) for i in builtins.range(len(pad) // 2)]
    nd = input.dim()
    if len(pairs) > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant":
        if value not in (None, 0, 0.0):
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        if nd not in (len(pairs) + 1, len(pairs) + 2) or len(pairs) > 3:
            # torch: k padded dims need a (batch,) channel, k-spatial input
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    axes = [nd - 1 - i for i in builtins.range(len(pairs))]
    for (lo, hi), ax in zip(pairs, axes):
        n = input.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {ax} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    fill = 0 if value is None else value
    names = {"constant": "ConstantPadNdBackward0", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
             "circular": "CircularPad"}
    if input.numel() == 0:  # nothing to gather: MLX's take/scatter on zero-size arrays can trap (SIGFPE)
        shape = list(input.shape)
        for (lo, hi), ax in zip(pairs, axes):
            shape[ax] = builtins.max(shape[ax] + lo + hi, 0)
        return mlx_op(names[mode], lambda x: mx.full(shape, fill, x.dtype), [input])

    def f(x):
        for (lo, hi), ax in zip(pairs, axes):
            n = x.shape[ax]
            if mode == "constant":
                # crop negative amounts, then pad positive ones
                start, stop = builtins.max(-lo, 0), n - builtins.max(-hi, 0)
                key = [slice(None)] * x.ndim
                key[ax] = slice(start, builtins.max(stop, start))
                x = x[tuple(key)]
                widths = [(0, 0)] * x.ndim
                widths[ax] = (builtins.max(lo, 0), builtins.max(hi, 0))
                x = mx.pad(x, widths, constant_values=fill)
            else:
                x = mx.take(x, _pad_indices(n, lo, hi, mode), axis=ax)
        return x

    return mlx_op(names[mode], f, [input])


# the operators issue's nn.functional families, one module each; a name defined there supersedes one above
from . import _activation, _loss, _pooling, _sampling, _conv_transpose, _normalization, _attention  # noqa: E402

MODULES = (_activation, _loss, _pooling, _sampling, _conv_transpose, _normalization, _attention)
for _m in MODULES:
    for _n in _m.__all__:
        if hasattr(_m, _n):  # INTEGRATION: strict again once the helpers are done
            globals()[_n] = getattr(_m, _n)
del _m
