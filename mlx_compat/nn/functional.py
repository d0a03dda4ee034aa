"""torch.nn.functional. This file holds the first functions (relu, gelu, linear, bilinear, embedding, conv1d-3d,
pad); the families live in their own modules (activations, losses, pooling, sampling, conv_transpose,
normalization, attention), whose names are re-exported at the end, superseding any of the same name here.
Forwards are MLX; most derivatives come from the mx.vjp fallback (Note [MLX vjp fallback] in autograd/_mlx_vjp.py);
relu is hand-written so that relu'(0) = 0 as in torch."""
from __future__ import annotations

import builtins
import functools
import math

import mlx.core as mx

from .. import _C, _compile, _dtype
from ..autograd._derivatives import needs_grad, record
from ..autograd._mlx_vjp import compiled_when_repeated, mlx_op
from .._device_scope import _DEVICES as _STREAMS, scoped as _scoped
from .._ops import indexing as _indexing
from .._ops.linalg import _addmm, _linear_addmm, _mm, _mm_layout, _product, _record_addmm
from .._ops.fast import fast_path
from .._tensor import _TORCH_NAME, Tensor, _mx_evaluated, _new
from . import _layout

_SCALAR = _TORCH_NAME  # torch's scalar type names in kernel messages ('Long')


def _float_only(input, kernel):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")


# ---------------------------------------------------------------- activations


def relu(input, inplace=False):
    r = input.relu()
    return input._commit(r) if inplace else r


def relu_(input):
    return relu(input, inplace=True)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


# ---------------------------------------------------------------- linear, embedding, dropout


def linear(input, weight, bias=None):
    """torch's linear: addmm(bias, input, weight.t()) for a 2-D input; for a contiguous N-D input torch's
    _flatten_nd_linear (a view to 2-D, one addmm, a view back); otherwise matmul, then the bias added.
    Note [linear fast path]: when the common case's operands are already known to agree (a 2-D weight, a bias of
    its output size, one floating dtype and device, matching inner sizes), the node(s) are built straight from
    the MLX values: no graph is recorded -> one mx.addmm wrapped (the N-D output still a view of the 2-D product,
    as torch's); a graph is recorded -> the same views and AddmmBackward0 node addmm records, without addmm's
    argument checks (they cannot fail here). Anything else takes the checked path, which raises torch's errors."""
    if bias is not None:
        w = weight._mx
        if w.ndim == 2:
            a, c = input._mx, bias._mx
            nd = a.ndim
            dt = input.dtype
            dev = input._device_code
            if (nd >= 2 and c.shape == (w.shape[0],) and a.shape[-1] == w.shape[1] and w.shape[1]
                    and dt.is_floating_point and weight.dtype is dt and bias.dtype is dt
                    and weight._device_code == dev and bias._device_code == dev
                    and (nd == 2 or input.is_contiguous())):
                if not (_C.is_grad_enabled() and (input.requires_grad or weight.requires_grad or bias.requires_grad)):
                    if nd == 2:
                        return _new(_product(mx.addmm, dev, c, a, w.T), dev, dt)  # Note [Half-type products on the CPU]
                    out = _new(_product(mx.addmm, dev, c, a.reshape(-1, w.shape[1]), w.T), dev, dt)
                    return out.view(a.shape[:-1] + (w.shape[0],))
                x2 = input if nd == 2 else input.view(-1, w.shape[1])
                wt = weight.t()
                out = _new(_product(mx.addmm, dev, c, x2._mx, wt._mx), dev, dt)
                _record_addmm(bias, x2, wt, out, 1, 1, weight)
                return out if nd == 2 else out.view(a.shape[:-1] + (w.shape[0],))
        if weight.dim() == 2:
            nd = input.dim()
            if nd == 2:
                return _linear_addmm(bias, input, weight)  # as torch: addmm(bias, input, weight.t()), one node
            if nd and bias.dim() == 1 and input.is_contiguous():
                # torch's _flatten_nd_linear: a view to 2-D, one addmm, a view back (ViewBackward0 over AddmmBackward0)
                shape = input._mx.shape
                out = _addmm(bias, input.view(-1, shape[-1]), weight.t(), weight=weight)
                return out.view(shape[:-1] + (out._mx.shape[1],))
    elif weight.dim() == 2 and input.dim() >= 2 and (input.dim() == 2 or input.is_contiguous()):
        return _linear_nobias(input, weight)
    out = input.matmul(weight.t()) if weight.dim() == 2 else input.matmul(weight)
    return out if bias is None else out + bias


# Note [linear in C] (csrc/ops.c): calls that record no gradient are the C fast path; the function above is its
# reference for every other call
_linear_reference = linear
linear = fast_path("linear", _linear_reference)


def _linear_nobias(input, weight):
    """linear without a bias, in torch's graph shape: input @ weight.t() as one mm (MmBackward0 over TBackward0,
    whose weight gradient is row-major: Note [Gradient layout of a product] in _ops/linalg.py); an N-D
    contiguous input is folded to 2-D first and the product unfolded after, as torch's matmul does
    (ViewBackward0 in, UnsafeViewBackward0 out)."""
    shape = input._mx.shape
    if len(shape) == 2:
        return _mm_layout(input, weight.t(), weight)
    k = shape[-1]
    rows = math.prod(shape[:-1])  # explicit: a zero-size -1 is ambiguous
    out2 = _mm_layout(input.view(rows, k), weight.t(), weight)
    res = _new(out2._mx.reshape(shape[:-1] + out2._mx.shape[1:]), out2._device_code, out2.dtype)
    record("UnsafeViewBackward0", _unfold_backward, [out2], [res], extra=out2._mx.shape)
    return res


def _unfold_backward(ctx, grads):
    return (grads[0].reshape(ctx[-1]),)


_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _bilinear_checks(input1, input2, weight, bias):
    """torch's bilinear checks, in its order: one dtype, equal ranks and batch sizes, feature sizes against the
    weight's, the bias against the weight's output size."""
    named = [("input1", input1), ("input2", input2), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    if builtins.any(t.dtype is not input1.dtype for _, t in named):
        raise RuntimeError("All tensors must have the same dtype, got " +
                           ", ".join(f"{n}: {_CTYPE.get(t.dtype.name, t.dtype.name)}" for n, t in named))
    s1, s2 = input1._mx.shape, input2._mx.shape
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and {len(s2)}")
    for i in builtins.range(len(s1) - 1):
        if s1[i] != s2[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {s1[i]} and {s2[i]}")
    if s1[-1] != weight.size(1):
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {s1[-1]} but expected "
                           f"{weight.size(1)}")
    if s2[-1] != weight.size(2):
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {s2[-1]} but expected "
                           f"{weight.size(2)}")
    if bias is not None and bias.size(0) != weight.size(0):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.size(0)} but expected "
                           f"{weight.size(0)}")
    if weight.dim() != 3:
        raise RuntimeError("number of dimensions must match")


def bilinear(input1, input2, weight, bias=None):
    _bilinear_checks(input1, input2, weight, bias)
    out = mlx_op("BilinearBackward0", lambda a, b, w: mx.einsum("...i,oij,...j->...o", a, w, b), [input1, input2, weight])
    return out if bias is None else out + bias


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    if not isinstance(input, Tensor) or input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           "Long, Int")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    n = weight._mx.shape[0]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        if not 0 <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
    iv = input._mx
    # torch's eager bounds check, a host read of the indices as for cross entropy's targets (Note [Target bounds on
    # the host]), once per index array; skipped while MLX traces (Note [No evaluation while tracing])
    _indexing.check_indices_in_range(iv, ("embedding", n), 0, n)
    if max_norm is not None and input.numel():
        from ..autograd.grad_mode import no_grad

        with no_grad():  # torch renormalises the looked-up rows in place
            import numpy as np

            rows = mx.array(np.unique(np.array(_mx_evaluated(input._mx.astype(mx.int64)))).astype(np.int32))
            w = weight._mx
            sel = w[rows]
            norms = mx.power(mx.sum(mx.power(mx.abs(sel), norm_type), axis=1, keepdims=True), 1.0 / norm_type)
            scale = mx.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            new = mx.array(w)
            new[rows] = sel * scale
            weight._set_data(new) if weight._storage_base is None else weight._write(new)

    def f(w, idx):
        if padding_idx is not None:
            keep = (mx.arange(n) != padding_idx).reshape((n,) + (1,) * (w.ndim - 1))
            w = mx.where(keep, w, mx.stop_gradient(w))  # no gradient for the padding row
        if scale_grad_by_freq:
            # each row's gradient divided by how often the row is looked up (values unchanged)
            counts = mx.zeros((n,), dtype=w.dtype).at[idx.reshape(-1)].add(1)
            inv = mx.where(counts > 0, 1 / mx.maximum(counts, 1), 1).astype(w.dtype).reshape((n,) + (1,) * (w.ndim - 1))
            w = mx.stop_gradient(w) + (w - mx.stop_gradient(w)) * inv
        return mx.take(w, idx, axis=0)

    # the indices are an input of f (no edge of the graph, as torch's), so f's graph is fixed by the key and the
    # shapes: its vjp is compiled once they repeat (Note [Compiled when repeated] in autograd/_mlx_vjp.py)
    return mlx_op("EmbeddingBackward0", f, [weight], aux=(input._mx,),
                  key=("embedding", n, padding_idx, builtins.bool(scale_grad_by_freq)))


# ---------------------------------------------------------------- convolution


def _ntuple(v, n, name="argument"):
    if type(v) is builtins.int:
        return (v,) * n
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return tuple(builtins.int(x) for x in v)
    return (builtins.int(v),) * n


# Note [Convolution plans]
# A convolution's geometry (padding amounts, tuples of stride and dilation, the product form, the permutations
# between torch's and MLX's layouts) and its shape checks depend only on the input and weight shapes, the
# stride/padding/dilation/groups arguments and the dtype, which a network repeats at every call: `_conv_plan`
# computes them once per such key (hashable arguments only; a list argument is planned at every call) and the
# call then does only what depends on the tensors themselves (dtypes of weight and bias, the device, whether a
# gradient is recorded, the input's channels-last source). An eager ResNet-18 forward spent about a third of its
# graph-building time in these Python checks and tuples.
#
# Note [Inference convolution path]
# Where nothing is recorded, a batched one-group float32/float16/bfloat16 convolution (every convolution of an
# inference ResNet but the 1x1 products) is `_conv_inference`: the MLX convolution of the input's N...C source
# (or its transpose) by the cached O...I weight, the bias added channels-last, and the NC... view returned and
# marked, which is what `_conv`'s general function computes for it, without its closures, its device loop in
# mlx_op and its dtype dispatch: 9.6 -> ~4 us per call against native MLX's 2.9 us on this CPU. The plan's tuples
# go to MLX as they are (it takes any sequence for its int lists) and the weight cache is read directly outside a
# trace: a 64-channel 3x3 module call 6.1 -> 5.1 us.
_CONV_PLANS = {}
_CONV_PLANS_MAX = 4096


# Note [Taps that read only padding]
# On a small feature map a kernel tap can read nothing but padding at every output position: a 3x3 convolution
# with padding 1 of a 1x1 map (ResNet's last stage on 32-pixel images) reads its input through the centre tap
# alone, the other eight multiply zeros. MLX's CPU convolution still unfolds all nine taps, multiplies the whole
# weight and, backward, writes the whole weight's gradient through the same unfolded products: a recorded
# 8x512x1x1 -> 512 3x3 convolution took 13 ms with its gradients on this repository's 2-core VM, torch 6.6. The
# recorded path convolves with the weight sliced to the taps some output position reads inside the input (the
# padding reduced by the taps dropped before, the stride 1 along an axis of one output position: the same
# output size), so the dropped taps' gradient is the exact zero of the slice's backward, as torch's sum of
# products with zeros is. Only on the CPU: the GPUs' convolutions are unmeasured with it and keep the plan's
# full geometry. The sums keep every nonzero product; only their grouping can differ.
def _trimmed_geometry(sp, ks, stride, lo, hi, dilation):
    """((first, end) of the taps kept per axis, stride, lo, hi) of a convolution with its taps that read only
    padding dropped (Note [Taps that read only padding]), or None when every tap reads the input somewhere (or
    the padding would turn negative)."""
    taps, strides, los, his = [], [], [], []
    trimmed = False
    for n, k, s, l, h, d in zip(sp, ks, stride, lo, hi, dilation):
        out = (n + l + h - d * (k - 1) - 1) // s + 1
        # tap i reads positions s*o + d*i - l, o in [0, out): some inside [0, n) iff the range meets it
        first = builtins.max(0, -((s * (out - 1) - l) // d))
        last = builtins.min(k - 1, (n - 1 + l) // d)
        s2 = 1 if out == 1 else s
        l2 = l - d * first
        h2 = s2 * (out - 1) + d * (last - first) + 1 - n - l2
        if first > last or l2 < 0 or h2 < 0:
            return None
        trimmed = trimmed or first > 0 or last < k - 1 or s2 != s
        taps.append((first, last + 1))
        strides.append(s2)
        los.append(l2)
        his.append(h2)
    if not trimmed:
        return None
    return tuple(taps), tuple(strides), tuple(los), tuple(his)  # hashable: the plan is a cache key


def _conv_plan(xs, ws, stride, padding, dilation, groups, nd, dtype):
    """(stride, dilation, lo, hi, gemm kind, perm_in, perm_out, recorded plan or None) of a convolution of an input
    of shape xs (batched) by a weight of shape ws, raising torch's errors for shapes that cannot be convolved (Note
    [Convolution plans]); the recorded plan is `_conv_recorded`'s (Note [Recorded convolution path])."""
    try:
        key = (xs, ws, stride, padding, dilation, groups, nd, dtype)
        plan = _CONV_PLANS.get(key)
    except TypeError:  # a list argument: unhashable
        key = plan = None
    if plan is None:
        plan = _make_conv_plan(xs, ws, stride, padding, dilation, groups, nd, dtype)
        if key is not None and len(_CONV_PLANS) < _CONV_PLANS_MAX:
            _CONV_PLANS[key] = plan
    return plan


def _make_conv_plan(xs, ws, stride, padding, dilation, groups, nd, dtype):
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(ws)} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(ws)}] instead")
    if xs[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected input"
                           f"{list(xs)} to have {ws[1] * groups} channels, but got "
                           f"{xs[1]} channels instead")
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    ks = ws[2:]
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
    padded = [n + l + h for n, l, h in zip(xs[2:], lo, hi)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, ks)]
    if builtins.any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    gemm = _conv_gemm_kind(dtype, ks, stride, lo, hi, dilation, groups)
    perm_in = (0,) + tuple(builtins.range(2, nd + 2)) + (1,)
    perm_out = (0, nd + 1) + tuple(builtins.range(1, nd + 1))
    # Note [Recorded convolution path]: the function and arguments `_conv_recorded` takes, made once per plan
    rec = None
    if len(xs) == nd + 2 and dtype in _CONV_WEIGHT_CACHED and xs[0] and xs[1]:  # Note [Empty convolutions]
        if gemm is None and groups == 1:
            # a strided convolution's input gradient on the CPU: Note [Transposed convolution by phases]
            fn = _conv_strided_fn if _conv_transpose.by_phases(stride, dilation, groups, nd) else _conv_fn
            rec = (fn, stride, lo, hi, dilation, perm_in, perm_out)
            trim = _trimmed_geometry(xs[2:], ks, stride, lo, hi, dilation)
            if trim is not None:  # Note [Taps that read only padding]
                rec = (_conv_trimmed_fn,) + rec[1:] + (trim,)
        elif gemm == "1x1":
            # the last item: the arguments `_conv_inference` takes where a GPU convolves it unrecorded (Note
            # [convolutions as products])
            rec = (_conv_1x1_fn, stride, nd, (stride, lo, hi, dilation, perm_in, perm_out))
    return stride, dilation, lo, hi, gemm, perm_in, perm_out, rec


def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    # a batched one-group float convolution, recorded (Note [Recorded convolution path]) or not (Note [Inference
    # convolution path]), before the general checks
    xs = input._mx.shape
    if len(xs) == nd + 2:
        dtype = input.dtype
        rec = _conv_plan(xs, weight._mx.shape, stride, padding, dilation, groups, nd, dtype)[7]
        if rec is not None and weight.dtype is dtype and (bias is None or bias.dtype is dtype):
            if _C.is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                         or (bias is not None and bias.requires_grad)):
                if rec[0] in _PLANNED_CONV:
                    return _conv_recorded(input, weight, bias, rec)
                if input._device_code == 0:  # on a GPU a channels-last input takes the rows product below
                    return _conv_recorded(input, weight, bias, rec, mark=False)
            elif rec[0] in _PLANNED_CONV:  # the plan's full geometry (Note [Inference convolution path])
                return _conv_inference(input, weight, bias, *rec[1:7])
            elif input._device_code != 0:  # a GPU's unrecorded 1x1 convolution: Note [convolutions as products]
                return _conv_inference(input, weight, bias, *rec[3])
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to conv{nd}d, but got input "
                           f"of size: {list(input.shape)}")
    batched = input.dim() == nd + 2
    x_in = input if batched else input.unsqueeze(0)
    stride, dilation, lo, hi, gemm, perm_in, perm_out, rec = _conv_plan(
        x_in._mx.shape, weight._mx.shape, stride, padding, dilation, groups, nd, input.dtype)
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")
    if not (input.dtype.is_floating_point or input.dtype.is_complex) and input._device_code != 0:
        # integer convolution runs through float64, which MLX's GPU lacks (torch's CUDA has none either)
        raise RuntimeError(f"\"slow_conv2d_cuda\" not implemented for '{_SCALAR.get(input.dtype.name, input.dtype.name)}'")
    # where no gradient is recorded: Note [cached channels-last weights]; a batched one-group convolution of a
    # float dtype MLX convolves directly took the early path above, recorded or not
    inference = not (_C.is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                                or (bias is not None and bias.requires_grad)))
    ins = [x_in, weight] + ([bias] if bias is not None else [])

    def conv_mlx(xn, wn, g):
        if xn.dtype == mx.float64:
            return _conv_f64(xn, wn, stride, lo, hi, dilation, g)
        if not mx.issubdtype(xn.dtype, mx.inexact):  # integer convolution (torch has it on the CPU): exact sums
            return _conv_f64(xn.astype(mx.float64), wn.astype(mx.float64), stride, lo, hi, dilation, g)
        if _conv_transpose.by_phases(stride, dilation, g, nd) and mx.default_device() == mx.cpu:
            return _strided_conv(stride, lo, hi, g)(xn, wn)  # Note [Transposed convolution by phases]
        if g == 1 or nd < 3:
            return mx.conv_general(xn, wn, stride=list(stride), padding=(list(lo), list(hi)),
                                   kernel_dilation=list(dilation), groups=g)
        # MLX has no grouped 3-D convolution: one convolution per group
        ci, co = xn.shape[-1] // g, wn.shape[0] // g
        parts = [mx.conv_general(xn[..., i * ci:(i + 1) * ci], wn[i * co:(i + 1) * co], stride=list(stride),
                                 padding=(list(lo), list(hi)), kernel_dilation=list(dilation)) for i in builtins.range(g)]
        return mx.concatenate(parts, axis=-1)

    if x_in.shape[0] == 0 or x_in.shape[1] == 0:  # Note [Empty convolutions]
        out = _conv_empty(ins, stride, lo, hi, dilation)
        return out if batched else out.squeeze(0)
    # Note [cached channels-last weights]: where no gradient is recorded
    cache_w = gemm is None and input.dtype in _CONV_WEIGHT_CACHED and inference
    if (gemm == "1x1" and batched and (inference or input._device_code != 0)
            and _layout.is_channels_last_tensor(x_in)):
        # a channels-last input: the product of its rows (Note [convolutions as products]); recorded, on a GPU
        # only (Note [Channels-last gradients] in nn/_layout.py)
        gemm = "1x1last"
    # Note [Channels-last source] (csrc/layout.c): where no gradient is recorded, the input's N...C array stands for
    # its transpose, and the output's is recorded (`last`: the N...C result and its NC... view, as f made them)
    src = _layout.source(x_in) if inference and batched else None
    last = [] if inference and batched else None

    def f(x, w, *b):
        if gemm == "1x1last":
            y = _conv_gemm(x, w, stride, gemm, src, cache_w=inference)
            if b:
                y = y + b[0]
            return _from_last(y.astype(x.dtype), perm_out, last)
        if gemm == "1x1":  # Note [convolutions as products]
            y = _conv_gemm(x, w, stride, gemm)
            return (y + b[0].reshape((1, -1) + (1,) * nd) if b else y).astype(x.dtype)
        if gemm is not None:
            y = _conv_gemm(x, w, stride, gemm)
        else:
            # torch's NC... / OI... layouts to MLX's N...C / O...I
            wl = _layout.weight_last(w, perm_in) if cache_w else mx.transpose(w, perm_in)
            y = conv_mlx(mx.transpose(x, perm_in) if src is None else src, wl, groups)
        if b:  # on the channels-last result, so the output stays channels-last in memory
            y = y + b[0]
        # the NC... view of the N...C result (Note [channels-last activations])
        return _from_last(y.astype(x.dtype), perm_out, last)

    if gemm == "1x1" and batched and not inference and input.dtype in _CONV_WEIGHT_CACHED:
        return _conv_recorded(input, weight, bias, rec, mark=False)
    if gemm == "patch" and not inference:
        out = _patch_conv_recorded(f, ins)  # Note [Gradient layout of a product] (_ops/linalg.py)
    elif gemm == "1x1last" and not inference:
        out = _patch_conv_recorded(f, ins, stride)  # the rows product, its input's gradient channels-last
    else:
        # on a GPU the input's gradient is the NC... view of the N...C array MLX's convolution gives (Note
        # [Channels-last gradients] in nn/_layout.py)
        out = mlx_op("ConvolutionBackward0", f, ins,
                     grad_last=(0,) if gemm is None and batched and input._device_code != 0 else ())
    if not batched:
        return out.squeeze(0)
    if gemm != "1x1":
        _layout.mark_tensor(out, last[0] if last and out._mx is last[1] else None)
    return out


_CONV_WEIGHT_CACHED = (_dtype.float32, _dtype.float16, _dtype.bfloat16)  # Note [cached channels-last weights]


# Note [Empty convolutions]
# A convolution of an input with no samples or no channels sums nothing: torch returns zeros, (N, O, *out) for
# an empty batch and, its own rule, (N, 0, *out) for zero input channels, and zero gradients for every operand
# that wants one. MLX's convolution gives the shape, but its vjp of such a convolution fails to reshape, or
# returns uninitialised memory for the bias's sum. So an empty input takes `_conv_empty`, after torch's shape
# checks: zeros of that shape from a function of no operand, recorded as ConvolutionBackward0 through mlx_op, as
# the other empty results are (amax, grid_sample, interpolate), so its gradients are zeros.


def _conv_out_sizes(sizes, ks, stride, lo, hi, dilation):
    """The output's spatial sizes of a convolution of an input of spatial `sizes` by a kernel of sizes `ks`."""
    return tuple((n + a + e - d * (k - 1) - 1) // s + 1
                 for n, k, s, a, e, d in zip(sizes, ks, stride, lo, hi, dilation))


def _conv_empty(ins, stride, lo, hi, dilation):
    """The convolution of ins[0] (batched, with no samples or no channels) by ins[1] (+ ins[2]): zeros of torch's
    shape, recorded, its gradients zeros (Note [Empty convolutions])."""
    x, w = ins[0], ins[1]
    n, c = x.shape[:2]
    shape = (n, w.shape[0] if c else 0) + _conv_out_sizes(x.shape[2:], w.shape[2:], stride, lo, hi, dilation)
    return mlx_op("ConvolutionBackward0", lambda xv, *rest: mx.zeros(shape, xv.dtype), ins)


def _conv_inference(input, weight, bias, stride, lo, hi, dilation, perm_in, perm_out):
    """_conv where nothing is recorded, for a batched one-group convolution of a dtype MLX convolves directly
    (Note [Inference convolution path]): the NC... view of the N...C result, marked with its source."""
    dev = builtins.max(input._device_code, weight._device_code, 0 if bias is None else bias._device_code)
    src = _C._channels_last_source(input)  # Note [Channels-last source] (csrc/layout.c)
    y, v = _scoped(dev, _conv_last, input._mx if src is None else src, src is None, weight._mx,
                   None if bias is None else bias._mx, stride, lo, hi, dilation, perm_in, perm_out)
    return _C._set_channels_last(_new(v, dev, input.dtype), True, y)  # _layout.mark_tensor


def _conv_last(x, transpose, w, b, stride, lo, hi, dilation, perm_in, perm_out):
    """(y, its NC... view): y the N...C result of convolving x (NC..., or already N...C when not `transpose`) by
    the torch-layout weight w, its row-major O...I copy made once per weight array (Note [cached channels-last
    weights]), plus the bias on the channels-last result. MLX takes the plan's tuples as its int lists."""
    wl = _layout.weight_last(w, perm_in) if _compile._TRACE is not None else _layout._weight_last(w, perm_in)
    y = mx.conv_general(mx.transpose(x, perm_in) if transpose else x, wl, stride=stride, padding=(lo, hi),
                        kernel_dilation=dilation)
    if b is not None:
        y = y + b
    return y, mx.transpose(y, perm_out)


# Note [Recorded convolution path]
# A recorded batched one-group float32/float16/bfloat16 convolution (every convolution of a training conv net but
# the product forms) is `_conv_recorded`: the MLX convolution of the input's transpose by the weight's transpose,
# the bias added channels-last, and the marked NC... view of the N...C result, as `_conv`'s general function
# computes it, recorded as ConvolutionBackward0 with the module-level `_conv_backward`, whose ctx extra holds the
# plan. Its backward is MLX's vjp of the same function over the operands that want a gradient (the first layer's
# image wants none). Without create_graph that vjp is mx.compile'd once per plan, operand set and device, and used
# once an input and weight shape pair repeats (Note [Compiled when repeated] in autograd/_mlx_vjp.py): 10.4 -> 5.5
# us for a 64-channel 3x3 vjp on this CPU (a first shape would cost ~3 ms to trace). The tape holds only transposes,
# flips, convolutions and the bias's sum, none of which MLX fuses, so no kernel is generated (nothing is compiled
# for the CPU at run time) and the values are bitwise those of the uncompiled vjp; the compiled function is keyed by
# the device because a traced tape keeps its streams. With create_graph it is traced through mlx_op, a
# differentiable backward. `_conv`'s general path made two closures and went through mlx_op both ways. On a GPU the
# input's gradient is the NC... view of the N...C array MLX's convolution gives, and is marked so (Note
# [Channels-last gradients] in nn/_layout.py). This CPU, 2x64x8x8 by 64x64x3x3: ~9.2 -> ~5.5 us per recorded forward
# (raw MLX 2.4 us). A recorded 1x1 convolution taken as the product on the CPU (Note [convolutions as products])
# goes the same way with `_conv_1x1_fn` (its vjp's tape: slices, reshapes, transposes, products, the bias's sum).
# The plan (the function and the arguments it takes after x, w and b) is made once per `_conv_plan` key and passed
# whole, and `_conv` tries this path before its general checks (the dtypes must then agree, and the input be
# batched): a recorded F.conv2d 5.2 -> 4.7 us.
def _conv_fn(x, w, b, plan):
    """The NC... view of the N...C convolution of x (NC...) by the torch-layout weight w (+ bias b or None);
    plan: (_conv_fn, stride, lo, hi, dilation, perm_in, perm_out)."""
    _, stride, lo, hi, dilation, perm_in, perm_out = plan
    y = mx.conv_general(mx.transpose(x, perm_in), mx.transpose(w, perm_in), stride=stride, padding=(lo, hi),
                        kernel_dilation=dilation)
    if b is not None:
        y = y + b
    return mx.transpose(y, perm_out)


def _conv_cpu(x, w, b, stride, lo, hi, dilation, perm_in, perm_out):
    """_conv_fn's computation on the CPU, a strided convolution's input gradient by phases (Note [Transposed
    convolution by phases] in nn/_conv_transpose.py)."""
    xl, wl = mx.transpose(x, perm_in), mx.transpose(w, perm_in)
    if _conv_transpose.by_phases(stride, dilation, 1, 0):
        y = _strided_conv(stride, lo, hi, 1)(xl, wl)
    else:
        y = mx.conv_general(xl, wl, stride=stride, padding=(lo, hi), kernel_dilation=dilation)
    if b is not None:
        y = y + b
    return mx.transpose(y, perm_out)


def _conv_strided_fn(x, w, b, plan):
    """_conv_fn for a strided convolution of dilation 1: on the CPU, its input gradient by phases (Note
    [Transposed convolution by phases] in nn/_conv_transpose.py); elsewhere _conv_fn."""
    if mx.default_device() != mx.cpu:
        return _conv_fn(x, w, b, plan)
    return _conv_cpu(x, w, b, *plan[1:])


def _conv_trimmed_fn(x, w, b, plan):
    """_conv_fn with the taps that read only padding dropped on the CPU (Note [Taps that read only padding]);
    plan: _conv_fn's plus (taps kept, stride, lo, hi) of the trimmed geometry. Elsewhere _conv_fn."""
    if mx.default_device() != mx.cpu:
        return _conv_fn(x, w, b, plan[:7])
    _, _, _, _, dilation, perm_in, perm_out, (taps, stride, lo, hi) = plan
    w = w[(slice(None), slice(None)) + tuple(slice(a, e) for a, e in taps)]
    return _conv_cpu(x, w, b, stride, lo, hi, dilation, perm_in, perm_out)


@functools.lru_cache(maxsize=256)
def _strided_conv(stride, lo, hi, groups):
    """MLX's convolution (x (N, *S, C), w (O, *K, C/groups), dilation 1) whose input gradient is the transposed
    convolution by phases instead of MLX's input-dilated convolution (Note [Transposed convolution by phases]);
    the weight's gradient is MLX's own. Made once per geometry (an mx.custom_function costs microseconds to make)."""
    def conv(x, w):
        return mx.conv_general(x, w, stride=stride, padding=(lo, hi), groups=groups)

    @mx.custom_function
    def strided(x, w):
        return conv(x, w)

    @strided.vjp
    def strided_vjp(primals, cotangent, output):
        x, w = primals
        gw = mx.vjp(lambda w_: conv(x, w_), [w], [cotangent])[1][0]
        gx = _conv_transpose.transposed_conv(cotangent, w, stride, lo, x.shape[1:-1], groups)
        return gx.astype(x.dtype), gw

    return strided


_PLANNED_CONV = (_conv_fn, _conv_strided_fn, _conv_trimmed_fn)  # plans of `_conv_fn`'s form (Note [Recorded convolution path])


# Note [Convolution rows kept for the weight]
# MLX's CPU convolution is an unfold and one product: the input's windows copied out as rows (N·positions, K·C), K
# the kernel's taps, times the O...I weight's transpose. Its vjp for the weight convolves the input again by the
# cotangent, which unfolds the same windows a second time (the copy is as long as the product: for the example's
# second convolution, 128x16x14x14 by 32x16x3x3, 1.7 of 4 ms). A recorded float32 convolution on the CPU whose
# weight wants a gradient therefore unfolds its input itself (`_conv_rows`: pad, the windows' strided view, one
# copy), multiplies as MLX does (the same rows, the same sgemm call: bitwise MLX's result), and keeps the rows for
# the backward, where the weight's gradient is one product, (cotangent rows)ᵀ @ rows, in the O...I order MLX's vjp
# gives it. The input's and the bias's gradients stay MLX's vjp (a strided convolution's by phases). Kept rows are
# K times the input's size and live until the backward, so only rows of at most _ROWS_KEPT_MAX bytes are kept (the
# example's are 14.4 and 3.6 MB; a 224 px ResNet's first convolutions keep MLX's path); create_graph differentiates
# MLX's convolution as before. Trimmed plans (Note [Taps that read only padding]) keep MLX's path.
_ROWS_CONV = (_conv_fn, _conv_strided_fn)
_ROWS_KEPT_MAX = 32 << 20


@functools.lru_cache(maxsize=256)
def _rows_geometry(plan, xs, ws, bound):
    """(pad widths or None, the windows' view shape and element strides, the output's spatial shape) of the rows of
    an input of shape xs (NC...) for a weight of shape ws (O, C, *K), or None where the rows would exceed `bound`
    bytes (Note [Convolution rows kept for the weight]); plan: `_conv_fn`'s. Made once per geometry."""
    _, stride, lo, hi, dilation, _, _ = plan
    ks, c = ws[2:], xs[1]
    sp = [n + a + e for n, a, e in zip(xs[2:], lo, hi)]
    out = _conv_out_sizes(xs[2:], ks, stride, lo, hi, dilation)
    if xs[0] * math.prod(out) * c * math.prod(ks) * 4 > bound:
        return None
    pads = [(0, 0)] + list(zip(lo, hi)) + [(0, 0)] if builtins.any(lo) or builtins.any(hi) else None
    st = [c]  # element strides of the padded row-major N...C array
    for p in reversed(sp[1:]):
        st.insert(0, st[0] * p)
    shape = (xs[0],) + out + tuple(ks) + (c,)
    strides = ((math.prod(sp) * c,) + tuple(a * s for a, s in zip(st, stride))
               + tuple(a * d for a, d in zip(st, dilation)) + (1,))
    return pads, shape, strides, out


def _conv_rows(x, ws, plan):
    """(rows, positions): the rows (N·positions, K·C) of the NC... input x's windows for a weight of shape ws
    (O, C, *K), in the O...I weight's (taps, channel) order, and the output's spatial shape; None where the rows
    would exceed _ROWS_KEPT_MAX bytes (Note [Convolution rows kept for the weight]); plan: `_conv_fn`'s."""
    geo = _rows_geometry(plan, x.shape, ws, _ROWS_KEPT_MAX)
    if geo is None:
        return None
    pads, shape, strides, out = geo
    xl = mx.transpose(x, plan[5])
    if pads is not None:
        xl = mx.pad(xl, pads)
    return mx.as_strided(xl, shape, strides).reshape(-1, math.prod(shape[1 + len(out):])), out


def _conv_by_rows(x, w, b, plan):
    """(_conv_fn's result, the input's rows) from the rows (`_conv_rows`): their product by the O...I weight's
    transpose, the bias on the channels-last result, its NC... view; None where the rows are not kept."""
    got = _conv_rows(x, w.shape, plan)
    if got is None:
        return None
    rows, positions = got
    perm_in, perm_out = plan[5], plan[6]
    o = w.shape[0]
    y = rows @ mx.transpose(mx.transpose(w, perm_in).reshape(o, -1))
    if b is not None:
        y = y + b
    return mx.transpose(y.reshape((x.shape[0],) + positions + (o,)), perm_out), rows


def _conv_rows_weight_grad(rows, g, ws, plan):
    """The weight's gradient (O, C, *K) of a convolution from its input's rows and the output's gradient g (NC...):
    (g's rows)ᵀ @ rows, the OI... view of an O...I array, as MLX's vjp gives it."""
    o, perm_in, perm_out = ws[0], plan[5], plan[6]
    gl = mx.transpose(g, perm_in).reshape(-1, o)
    gw = mx.transpose(gl) @ rows
    return mx.transpose(gw.reshape((o,) + tuple(ws[2:]) + (ws[1],)), perm_out)


def _conv_1x1_fn(x, w, b, plan):
    """The 1x1 convolution of x (NC...) by w (+ bias b or None) as the product (Note [convolutions as products]),
    row-major NC...; plan: (_conv_1x1_fn, stride, nd, the arguments of the GPU's inference convolution)."""
    stride, nd = plan[1], plan[2]
    y = _conv_gemm(x, w, stride, "1x1")
    return (y + b.reshape((1, -1) + (1,) * nd) if b is not None else y).astype(x.dtype)


def _conv_recorded(input, weight, bias, plan, mark=True):
    """A batched one-group convolution that records a gradient (Note [Recorded convolution path]); plan: (the
    function, which takes x, w, b and the plan; the plan's other items): (_conv_fn, stride, lo, hi, dilation,
    perm_in, perm_out) or (_conv_1x1_fn, stride, nd, ...), made once per `_conv_plan`. mark: the result is the NC...
    view of an N...C array (not for the 1x1 product)."""
    dev = builtins.max(input._device_code, weight._device_code)
    snap = _C._snapshot
    b = None
    if bias is None:
        tensors = (input, weight)
        wanted = (input.requires_grad, weight.requires_grad)
    else:
        tensors = (input, weight, bias)
        dev = builtins.max(dev, bias._device_code)
        b = bias._mx
        wanted = (input.requires_grad, weight.requires_grad, bias.requires_grad)
    got = None
    if dev == 0 and wanted[1] and plan[0] in _ROWS_CONV and input.dtype is _dtype.float32:
        got = _scoped(0, _conv_by_rows, input._mx, weight._mx, b, plan)  # Note [Convolution rows kept for the weight]
    if got is None:
        y, rows = _scoped(dev, plan[0], input._mx, weight._mx, b, plan), None
    else:
        y, rows = got
    ctx = tuple(snap(t) for t in tensors) + ((plan, dev, wanted, rows),)
    out = _new(y, dev, input.dtype)
    if mark:
        _C._set_channels_last(out, True, None)  # _layout.mark_tensor
    _C._record("ConvolutionBackward0", _conv_backward, ctx, tensors, (out,))
    return out


def _conv_vjp_fn(plan, want, n):
    """The function (x, w[, b], cotangent) -> the gradients of the operands in `want` (indices) of the convolution
    `plan` describes (`_conv_recorded`'s): MLX's vjp."""
    def vjp(*args):
        full = [*args[:n]] + [None] * (3 - n)

        def f(*dp):
            for k, i in enumerate(want):
                full[i] = dp[k]
            return [plan[0](*full, plan)]

        return list(mx.vjp(f, [args[i] for i in want], [args[n]])[1])
    return vjp


def _conv_backward(ctx, grads):
    """ConvolutionBackward0 of `_conv_recorded`: MLX's vjp of its function over the operands that want a gradient;
    the weight's from the forward's kept rows where it kept them (Note [Convolution rows kept for the weight])."""
    plan, dev, wanted, rows = ctx[-1]
    snaps = ctx[:-1]
    g = grads[0]
    if g is None:
        return (None,) * len(snaps)
    want = tuple(i for i, w in enumerate(wanted) if w)
    n = len(snaps)
    if _C.is_grad_enabled():  # create_graph: a differentiable backward, the vjp traced again as MLX differentiates
        vjp = _conv_vjp_fn(plan, want, n)
        gs = mlx_op("ConvolutionBackward0Backward", vjp, list(snaps) + [g], dev)
        gs = gs if isinstance(gs, tuple) else (gs,)
    else:
        vals = [s._mx for s in snaps]
        by_vjp = want if rows is None else tuple(i for i in want if i != 1)
        gs = []
        if by_vjp:
            # Note [Compiled when repeated] (autograd/_mlx_vjp.py)
            vjp = compiled_when_repeated((plan, by_vjp, n, dev), (vals[0].shape, vals[1].shape),
                                         lambda: _conv_vjp_fn(plan, by_vjp, n))
            gs = [_new(gi, dev, _dtype.from_mx(gi.dtype)) for gi in _scoped(dev, vjp, *vals, g._mx)]
        if rows is not None:
            gw = _scoped(dev, _conv_rows_weight_grad, rows, g._mx, vals[1].shape, plan)
            gs.insert(by_vjp.index(2) if 2 in by_vjp else len(gs), _new(gw, dev, _dtype.from_mx(gw.dtype)))
    result = [None] * n
    for k, i in enumerate(want):
        gi = gs[k]
        result[i] = gi if gi.dtype is snaps[i].dtype else gi.to(snaps[i].dtype)
    if dev != 0:
        if want and want[0] == 0:  # Note [Channels-last gradients] (nn/_layout.py)
            _C._set_channels_last(result[0], True, None)
        if result[1] is not None and plan[0] in _PLANNED_CONV and builtins.all(d == 1 for d in plan[4]):
            # the weight's gradient is the OI... view of MLX's O...I one (Note [Parameters in their gradients'
            # memory order] in optim/optimizer.py)
            _C._set_channels_last(result[1], True, None)
    return tuple(result)


def _from_last(y, perm_out, last):
    """mx.transpose(y, perm_out), the NC... view of the N...C array y; appends (y, view) to the list `last` when
    given (Note [Channels-last source] in csrc/layout.c)."""
    v = mx.transpose(y, perm_out)
    if last is not None:
        last[:] = (y, v)
    return v


# Note [convolutions as products]
# Two kinds of convolution are a single matrix product and run as one: a 1x1 kernel (ResNet's bottleneck and
# downsampling convolutions: sample every stride-th position, then (O, C) @ (C, N * positions), the batch folded
# into the product's columns so the weight's gradient is one accumulation over N * positions, as torch's is, and
# the result row-major: the channels-last form (N * positions, C) @ (C, O), free of copies on a channels-last
# input, made the ResNet-50 32 px training step 11 % slower eager and 21 % compiled, interleaved in one process;
# a batched (O, C) @ (N, C, positions) summed its per-sample products afterwards and drifted past 1e-4 from
# torch on timm's efficientnet_b0 gradients, tests/alias) and a "patchify" kernel whose
# stride equals its size, without padding (ViT's and Swin's patch embedding, ConvNeXt's stem: cut the input into
# K x K patches, then (N * patches, C * K * K) @ (C * K * K, O)). MLX 0.32's CPU convolution runs both far slower
# than the product, the backward most of all (a ViT-B/16 patch embedding, 1x3x224x224 -> 768, forward and
# backward: 816 ms against 98 ms as a product, on this 2-core VM), and mx.vjp of the product is again products.
# Both sum C * K * K terms per output, as torch's CPU convolution (an im2col product) does; the patch form
# returns the channels-last result that MLX's convolution returns too (Note [channels-last activations]).
# float64 and integer inputs keep their exact float64 path; groups, dilation of a larger kernel and padding keep
# MLX's convolution. Where no gradient is recorded and the input is channels-last in memory (Note [channels-last
# activations]), the 1x1 product takes the rows form after all ("1x1last"): its result is channels-last too, so a
# ResNet's downsampling branch and bottleneck 1x1 convolutions keep the whole inference network in N...C memory
# and the residual adds combine two channels-last operands (Note [Channels-last hint] in csrc/layout.c). On a GPU
# a recorded 1x1 convolution of a channels-last input takes it too (Note [Channels-last gradients] in
# nn/_layout.py): the slowdown above was this CPU's, and there strided reads cost uncoalesced loads. An unrecorded
# one on a GPU is MLX's convolution (cuDNN), as every other inference convolution there (Note [Inference
# convolution path]): on an H100, ResNet-50 224 px b32 inference took 11.70 against 12.38 ms eager and 6.18
# against 6.24 ms compiled, ResNet-18 3.70 against 3.84 and 2.33 against 2.38 ms (the sampled rows' copy and the
# product's reshapes are nodes and kernels the convolution does not need).


def _conv_gemm_kind(dtype, ks, stride, lo, hi, dilation, groups):
    """'1x1', 'patch' or None: which product form a convolution of `dtype` takes, Note [convolutions as products]."""
    if groups != 1 or dtype not in (_dtype.float32, _dtype.float16, _dtype.bfloat16):
        return None
    if builtins.any(lo) or builtins.any(hi):
        return None
    if builtins.all(k == 1 for k in ks):
        return "1x1"
    if len(ks) == 2 and tuple(stride) == tuple(ks) and builtins.all(d == 1 for d in dilation):
        return "patch"
    return None


def _conv_gemm(x, w, stride, kind, xl=None, cache_w=True):
    """The convolution of x (N, C, *S) by w (O, C, *K) as a product, Note [convolutions as products]: 1x1
    row-major (N, O, *S'); 1x1last (x channels-last in memory; xl: x's N...C array when known; cache_w: the
    weight's (C, O) form kept per weight array, where no gradient is recorded) and patch channels-last
    (N, *S', O)."""
    n, c = x.shape[:2]
    o = w.shape[0]
    if kind == "1x1last":  # x's memory is N...C: its rows (N * positions, C) @ (C, O), channels-last (N, *S', O)
        xl = _sampled_last(x, stride, xl)
        sp = xl.shape[1:-1]
        # the (C, O) weight made once per weight array, outside a compiled graph (Note [cached channels-last
        # weights]), where no gradient is recorded
        wt = _layout.cached_form((w,), ("conv1x1_rows", o, c), _rows_weight) if cache_w else _rows_weight(w)
        y = _mm(xl.reshape(-1, c), wt)
        return y.reshape((n,) + tuple(sp) + (o,))
    if kind == "1x1":
        if builtins.any(s != 1 for s in stride):
            x = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
        sp = x.shape[2:]
        cols = mx.transpose(x.reshape(n, c, -1), (1, 0, 2)).reshape(c, -1)  # (C, N * positions)
        y = _mm(w.reshape(o, c), cols).reshape((o, n, -1))
        return mx.transpose(y, (1, 0, 2)).reshape((n, o) + tuple(sp))
    kh, kw = w.shape[2:]
    ho, wo = x.shape[2] // kh, x.shape[3] // kw
    x = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
    cols = mx.transpose(x, (0, 2, 4, 1, 3, 5)).reshape(n * ho * wo, c * kh * kw)
    y = _mm(cols, mx.transpose(w.reshape(o, c * kh * kw)))
    return y.reshape(n, ho, wo, o)


def _sampled_last(x, stride, xl=None):
    """The N...C array of x (N, C, *S) (xl, when known) at every stride-th position: what a 1x1 rows product
    reads (Note [convolutions as products])."""
    if xl is None:
        xl = mx.transpose(x, _layout.to_last(x.ndim - 2))
    if builtins.any(s != 1 for s in stride):
        xl = xl[(slice(None),) + tuple(slice(None, None, s) for s in stride)]
    return xl


def _rows_weight(w):
    """The (C, O) matrix of a 1x1 convolution's (O, C, 1...) weight: its rows product's right operand."""
    return mx.transpose(w.reshape(w.shape[0], w.shape[1]))


def _patch_conv_recorded(f, ins, rows_stride=None):
    """The patch product (Note [convolutions as products]) with a hand-written ConvolutionBackward0: the weight's
    gradient is (grad rows)ᵀ @ patches, row-major in the weight's own (O, C, K, K) layout (Note [Gradient layout of
    a product] in _ops/linalg.py), where mx.vjp of the forward's patches @ weightᵀ leaves a transposed array that
    the optimizer's update reads strided. The backward is itself an mlx_op (Note [MLX vjp fallback]), so
    higher-order gradients work; only the input and weight are saved, the patches are cut again when needed.
    rows_stride: the 1x1 rows product of a channels-last input with that stride instead ("1x1last"), whose
    input gradient is the NC... view of an N...C array, marked so on a GPU (Note [Channels-last gradients])."""
    dev = ins[0]._device_code
    for t in ins:
        if t._device_code > dev:
            dev = t._device_code
    out = _new(_scoped(dev, f, *[t._mx for t in ins]), dev, ins[0].dtype)
    bias = len(ins) == 3
    if rows_stride is None:
        def grads_of(g, x, w):
            return _patch_grads(g, x, w, bias)
    else:
        def grads_of(g, x, w):
            return _rows_grads(g, x, w, rows_stride, bias)

    def backward(ctx, grads):
        gs = mlx_op("ConvolutionBackwardBackward0", grads_of, [grads[0], ctx[0], ctx[1]])
        if rows_stride is not None and dev != 0 and gs[0] is not None:
            _layout.mark_tensor(gs[0])
        return gs

    record("ConvolutionBackward0", backward, ins, [out], saved=ins[:2])
    return out


def _rows_grads(g, x, w, stride, bias):
    """Gradients (input, weight[, bias]) of the 1x1 rows product ("1x1last", Note [convolutions as products]) of x
    (N, C, *S) by w (O, C, 1...), given the output's gradient g (N, O, *S'): the weight's row-major (O, C), and the
    input's the NC... view of an N...C array, zero where the stride skipped positions."""
    n, c = x.shape[:2]
    o, nd = w.shape[0], x.ndim - 2
    to_last, from_last = _layout.to_last(nd), _layout.from_last(nd)
    gl = mx.transpose(g, to_last)  # (N, *S', O): free on a channels-last gradient
    sp = gl.shape[1:-1]
    grows = gl.reshape(-1, o)
    xl = _sampled_last(x, stride)
    gw = _mm(mx.transpose(grows), xl.reshape(-1, c)).reshape(w.shape)  # row-major (O, C)
    gx = _mm(grows, w.reshape(o, c)).reshape((n,) + tuple(sp) + (c,))
    if builtins.any(s != 1 for s in stride):  # each kept position back in place, zeros between
        inter = (n,) + builtins.sum(((d, 1) for d in sp), ()) + (c,)
        gx = mx.pad(gx.reshape(inter), [(0, 0)] + builtins.sum(([(0, 0), (0, s - 1)] for s in stride), []) + [(0, 0)])
        gx = gx.reshape((n,) + tuple(d * s for d, s in zip(sp, stride)) + (c,))
        gx = gx[(slice(None),) + tuple(slice(0, d) for d in x.shape[2:])]
    gx = mx.transpose(gx, from_last)
    return (gx, gw, mx.sum(grows, axis=0)) if bias else (gx, gw)


def _patch_grads(g, x, w, bias):
    """Gradients (input, weight[, bias]) of the patch product of x (N, C, H, W) by w (O, C, KH, KW), given the
    output's gradient g (N, O, H', W'). Each is computed lazily, so only those asked for cost anything."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = g.shape[2], g.shape[3]
    gl = mx.transpose(g, (0, 2, 3, 1)).reshape(-1, o)  # (N * patches, O): free on the channels-last output
    xc = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
    cols = mx.transpose(xc, (0, 2, 4, 1, 3, 5)).reshape(n * ho * wo, c * kh * kw)
    gw = _mm(mx.transpose(gl), cols).reshape(w.shape)  # row-major (O, C * KH * KW)
    gx = _mm(gl, w.reshape(o, c * kh * kw)).reshape(n, ho, wo, c, kh, kw)
    gx = mx.transpose(gx, (0, 3, 1, 4, 2, 5)).reshape(n, c, ho * kh, wo * kw)
    if ho * kh != h or wo * kw != wd:  # the rows and columns no patch covers get zeros
        gx = mx.pad(gx, [(0, 0), (0, 0), (0, h - ho * kh), (0, wd - wo * kw)])
    return (gx, gw, mx.sum(gl, axis=0)) if bias else (gx, gw)


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
    # torch's node names (its circular pad is a copy into slices, shown as torch::autograd::CopySlices)
    k = len(pairs)
    names = {"constant": "ConstantPadNdBackward0", "reflect": f"ReflectionPad{k}DBackward0",
             "replicate": f"ReplicationPad{k}DBackward0", "circular": "CopySlices"}
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
        globals()[_n] = getattr(_m, _n)
del _m
