"""nn.functional losses: regression, classification (nll_loss / cross_entropy / linear_cross_entropy),
margin and embedding losses, likelihood losses and CTC.

Most losses are compositions of the package's differentiable Tensor ops, so the autograd tape gives
their gradients (of any order) with torch's values at the special points (abs'(0) = 0 via sign,
clamp_min passing the gradient at the bound, where() routing it to the selected branch). Two take
a hand-written derivative because torch's differs from the mathematical one:
binary_cross_entropy (Note [BCE gradient]) and ctc_loss (Note [CTC gradient]). The losses torch implements as
one operator (mse, smooth_l1, huber, binary_cross_entropy(_with_logits), soft_margin) are one node with torch's
name and backward formula (Notes [mse_loss as one node], [Pointwise losses as one node]).

Note [fused cross entropy]
cross_entropy of (N, C) float32/float16/bfloat16 logits with class indices, no class weights and no label
smoothing (a language model's loss) is one `fused_op` (Note [fused backward] in nn/_fused.py) instead of
log_softmax followed by nll_loss. It computes torch's numbers in the same arithmetic: the picked log-probability
w[t] - logsumexp(w) is the entry log_softmax would give (log_softmax is w - logsumexp(w) elementwise), and the
reduction is nll_loss's. What it saves is the full (N, C) log-probability matrix: the forward never forms it, and
the backward is torch's log_softmax backward written for a gradient that is nonzero only at the target,
r = d loss / d logp[t]: dx = -(p * r) everywhere, r - p[t] * r at the target, with p = exp(w - logsumexp(w))
from the forward's logsumexp, and the same bits (p * (-r) is -(p * r), and r + (-(p[t] * r)) is r - p[t] * r):
one compiled pass over the logits (Note [cross entropy gradient in one pass]) where the composition made seven.
Half types compute in float32 and round the log-probability once, as torch's log_softmax does; the backward
takes p from that rounded log-probability, as torch's log_softmax backward reads its half-type output.
With create_graph the op's forward is differentiated by MLX, as any fused op.

Note [fused cross entropy on the GPU]
On the GPU device the same case is MLX's `mx.fast.cross_entropy` (the per-row logsumexp(w) - w[t] in one kernel
that accumulates in float32) and its one-kernel vjp, as native MLX's `nn.losses.cross_entropy` takes them there:
the composition of Note [fused cross entropy] was a dozen kernels per step for the ignore mask, the gather, the
logsumexp and the reduction (a compiled MLP step on the H200: 30 kernels against native's 24), and its bfloat16
backward was slower than MLX's. Ignored rows (ignore_index) are given class 0 and their loss replaced by 0, which
also stops their gradient (a `select`, Note [Selecting vjp]); the reduction is nll_loss's in float32 (the mean over
no row is 0 / 0, torch's NaN), rounded to the logits' dtype once. When the host has read the targets (eagerly, Note
[Target bounds on the host]) and no row is ignored, the mask is left out: the kernel, a sum and a division, as
native MLX's loss. The row losses are the float32 ones, not rounded to a half type before the reduction as torch's
log_softmax output is: Note [GPU arithmetic] in nn/_attention.py. MLX's CPU fallback of the kernel reduces in the
logits' dtype, so under the fake GPU (Note [Fake GPU]), where 'cuda' is MLX's CPU, half-type logits are given to it
as float32. It is a fused op (Note [fused backward]): a create_graph backward differentiates Note [fused cross
entropy]'s composed formula instead of MLX's vjp.
"""
from __future__ import annotations

import builtins
import functools
import math
import warnings

import mlx.core as mx

from .._device_scope import scoped as _scoped, warn as _warn
from .. import _C, _compile, _device, _dtype
from ..autograd._mlx_vjp import compiled_when_repeated, mlx_op, select, vjp
from ._fused import fused_op
from .._tensor import Tensor, _mx_item
from .._ops._common import _sname
from .._ops import cpu_math as _cpu_math
from .._ops.indexing import checked_key, host_indices, remember_checked

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "margin_ranking_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "ctc_loss", "nll_loss", "cross_entropy", "linear_cross_entropy",
]  # exported by nn.functional
TORCH_EXPORTS = [
    "binary_cross_entropy_with_logits", "cosine_embedding_loss", "ctc_loss", "hinge_embedding_loss", "kl_div",
    "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss",
]  # also exported as mlx_compat.<name> (torch has them at top level)


def _mc():
    import mlx_compat

    return mlx_compat


# ---------------------------------------------------------------- reduction arguments


def _legacy_reduction(size_average, reduce, stacklevel=3):
    """torch's mapping of the deprecated size_average / reduce pair to a reduction string (with its warning,
    pointing at the loss's caller)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    _warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
          stacklevel=stacklevel)
    return ret


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce, stacklevel=4)
    return reduction


def _check_reduction(reduction):
    """torch's _Reduction.get_enum: the native losses accept none / mean / sum ('elementwise_mean' = mean)."""
    if reduction == "elementwise_mean":
        _warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
              stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size(input, target):
    if target._mx.shape != input._mx.shape:
        _warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
              "This will likely lead to incorrect results due to broadcasting. "
              "Please ensure they have the same size.", stacklevel=3)


def _weighted_reduce(loss, weight, input, reduction):
    """mse_loss / l1_loss with an elementwise weight: 'mean' divides by the weights' sum, as torch."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _kernel_dtype_check(t, kernel):
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_sname(t.dtype)}'")


# ---------------------------------------------------------------- regression losses


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    # equal shapes (the common case) need no broadcast views
    x, y = (input, target) if input._mx.shape == target._mx.shape else _mc().broadcast_tensors(input, target)
    if weight is not None:
        d = x - y
        return _weighted_reduce(d * d, weight, input, reduction)
    reduction = _check_reduction(reduction)
    _kernel_dtype_check(x if x.dtype.is_floating_point else y, "mse_cpu")
    if x.dtype is y.dtype and x.dtype in _MSE_FUSED:  # Note [mse_loss as one node]
        return _mse_fused(x, y, reduction)
    d = x - y
    return _reduce(d * d, reduction)


# Note [Pointwise losses as one node]
# As Note [mse_loss as one node], the other losses torch implements as one operator (smooth_l1_loss, huber_loss,
# binary_cross_entropy, binary_cross_entropy_with_logits, soft_margin_loss) are one `fused_op` named after torch's
# node when input and target share a floating dtype and shape (and weights, where given, that dtype and a shape
# that broadcasts into the input's): the forward computes the elementwise values the compositions computed and
# reduces them, and the backward is torch's formula (torch/_decomp's *_backward, FunctionsManual's
# binary_cross_entropy_with_logits backward), scaled by 1/numel for a mean. Other operands keep the compositions.


def _loss_node(name, x, y, reduction, elem, grads):
    """One `name` node for the pointwise loss elem(xv, yv) -> (values, saved) of same-dtype floating x and y,
    reduced; grads(xv, yv, saved, g) -> [input's, target's] with g the cotangent already scaled for a mean."""
    n = x.numel()

    def fwd(xv, yv):
        v, res = elem(xv, yv)
        return _reduced(v, reduction), res

    def bwd(values, res, out, g):
        if reduction == "mean" and n:
            g = g / n
        return grads(values[0], values[1], res, g)

    # a create_graph backward differentiates f, whose vjp is the same formula (MLX's derivative of the forward
    # would round differently: the BCE's -y/x + (1-y)/(1-x) against torch's (x-y)/(x(1-x)))
    @mx.custom_function
    def f(xv, yv):
        return fwd(xv, yv)[0]

    @f.vjp
    def f_vjp(primals, cot, out):
        xv, yv = primals
        gs = bwd(primals, elem(xv, yv)[1], out, cot)
        return tuple(mx.zeros_like(v) if gi is None else gi for gi, v in zip(gs, primals))

    return fused_op(name, f, [x, y], fwd, bwd)


def _fusable(x, y, *weights):
    """Whether a loss of x and y (and the optional weights) can be one node (Note [Pointwise losses as one node])."""
    if not (x.dtype is y.dtype and x.dtype in _MSE_FUSED and tuple(x.shape) == tuple(y.shape)):
        return False
    for w in weights:
        if w is not None and (w.dtype is not x.dtype or w.requires_grad or
                              _mc().broadcast_shapes(tuple(w.shape), tuple(x.shape)) != tuple(x.shape)):
            return False
    return True


# Note [mse_loss as one node]
# torch's mse_loss is one operator, so its result prints grad_fn=<MseLossBackward0> whatever the reduction. Ours,
# composed of a subtraction, a square and a mean, printed <MeanBackward0> (or SumBackward0, MulBackward0). For
# inputs of one floating dtype it is one `fused_op`: the forward squares the difference and reduces it (a large
# float32 CPU sum in columns, Note [Whole sums on the CPU]), and the backward is torch's formula, (input - target)
# * (2 / numel for a mean, else 2) * grad, and its negation for the target; create_graph differentiates the forward.
_MSE_FUSED = (_dtype.float32, _dtype.float16, _dtype.bfloat16, _dtype.float64)


def _reduced(loss, reduction):
    """An elementwise loss's MLX values reduced as torch's losses reduce (a large float32 CPU sum in columns,
    Note [Whole sums on the CPU])."""
    if reduction == "none":
        return loss
    if _cpu_math.big_float32_on_cpu(loss):
        return _cpu_math.sum_all(loss, None, False, reduction == "mean")
    return mx.mean(loss) if reduction == "mean" else mx.sum(loss)


def _mse_fused(x, y, reduction):
    n = x.numel()

    def fwd(xv, yv):
        d = xv - yv
        return _reduced(d * d, reduction), (d,)

    def f(xv, yv):
        return fwd(xv, yv)[0]

    def bwd(values, res, out, g):
        gx = res[0] * (2.0 / n if reduction == "mean" and n else 2.0) * g
        return [gx, -gx]

    return fused_op("MseLossBackward0", f, [x, y], fwd, bwd)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    x, y = _mc().broadcast_tensors(input, target)
    if weight is not None:
        return _weighted_reduce((x - y).abs(), weight, input, reduction)
    reduction = _check_reduction(reduction)
    loss = (x - y).abs()
    if reduction == "mean" and not (loss.dtype.is_floating_point or loss.dtype.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_sname(loss.dtype)}")
    return _reduce(loss, reduction)


def _not_differentiable(fn, arg, t):
    """torch's native losses refuse (at the call) an argument they do not differentiate if it requires grad."""
    if t is not None and t.requires_grad and _mc().is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{arg}'. This input "
                           "cannot have requires_grad True.")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_size(input, target)
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, y = _mc().broadcast_tensors(input, target)
    if beta == 0.0:
        return _reduce((x - y).abs(), reduction)
    _kernel_dtype_check(x, "smooth_l1_cpu")
    if _fusable(x, y):  # Note [Pointwise losses as one node]
        def elem(xv, yv):
            d = xv - yv
            z = mx.abs(d)
            return mx.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), (d, z)

        def grads(xv, yv, res, g):
            d, z = res
            gx = mx.where(z < beta, g * d / beta, g * mx.sign(d))
            return [gx, -gx]

        return _loss_node("SmoothL1LossBackward0", x, y, reduction, elem, grads)
    z = (x - y).abs()
    # Note [loss branch at the threshold]: torch takes the linear branch at |x - y| == beta (gradient sign(x - y))
    loss = _mc().where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _warn_size(input, target)
    x, y = _mc().broadcast_tensors(input, target)

    def check():
        if delta <= 0:
            raise RuntimeError("huber_loss does not support non-positive values for delta.")
        _kernel_dtype_check(x, "huber_cpu")

    def unweighted():
        check()
        z = (x - y).abs()
        # the linear branch at |x - y| == delta, as torch (Note [loss branch at the threshold])
        return _mc().where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))

    if weight is None:
        reduction = _check_reduction(reduction)
        if _fusable(x, y):  # Note [Pointwise losses as one node]
            check()

            def elem(xv, yv):
                d = xv - yv
                z = mx.abs(d)
                return mx.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), (d,)

            def grads(xv, yv, res, g):
                d = res[0]
                gx = mx.where(d < -delta, -g * delta, mx.where(d > delta, g * delta, d * g))
                return [gx, -gx]

            return _loss_node("HuberLossBackward0", x, y, reduction, elem, grads)
        return _reduce(unweighted(), reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = unweighted() * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


# ---------------------------------------------------------------- binary cross entropy


def _bce_f(w):
    """Elementwise BCE as an MLX function of (input, target) with torch's derivative; w: the weight's values
    or None (torch does not differentiate with respect to the weight).

    Note [BCE gradient]: torch differentiates binary_cross_entropy with respect to the input as
    (x - y) / max(x (1 - x), 1e-12) * w, not through the log clamp at -100: the gradient stays finite
    at x = 0 or 1 where the clamped forward would give zero. The target's derivative is
    (log1p(-x) - log(x)) * w, unclamped (infinite at x = 0 or 1, as torch)."""

    def weighted(v, like):
        return (v * w if w is not None else v).astype(like.dtype)

    @mx.custom_function
    def f(x, y):
        return weighted(_bce_values(x, y), x)

    @f.vjp
    def f_vjp(primals, cot, out):
        x, y = primals
        gx, gy = _bce_grads(x, y, cot)
        return weighted(gx, x), weighted(gy, y)

    return f


def _bce_values(x, y):
    """The elementwise BCE of MLX arrays, its logs clamped at -100 as torch's."""
    return (y - 1) * mx.maximum(mx.log1p(-x), -100.0) - y * mx.maximum(mx.log(x), -100.0)


def _bce_grads(x, y, cot):
    """Note [BCE gradient]'s derivatives of the elementwise BCE for cotangent cot: (input's, target's), unweighted."""
    return cot * (x - y) / mx.maximum(x * (1 - x), 1e-12), cot * (mx.log1p(-x) - mx.log(x))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    mc = _mc()
    if weight is not None:
        weight = weight.expand(mc.broadcast_shapes(tuple(target.shape), tuple(weight.shape)))
        _not_differentiable("binary_cross_entropy", "weight", weight)
    _kernel_dtype_check(input, "binary_cross_entropy")
    if input.dtype is not target.dtype:
        raise RuntimeError(f"expected scalar type {_sname(input.dtype)} but found {_sname(target.dtype)}")
    if input.numel():
        xv = input._mx
        if not builtins.bool(_mx_item(mx.all((xv >= 0) & (xv <= 1)))):
            raise RuntimeError("all elements of input should be between 0 and 1")
        tv = target._mx
        if not builtins.bool(_mx_item(mx.all((tv >= 0) & (tv <= 1)))):
            raise RuntimeError("all elements of target should be between 0 and 1")
    if _fusable(input, target, weight):  # Note [Pointwise losses as one node]
        w = weight._mx if weight is not None else None

        def elem(xv, yv):
            v = _bce_values(xv, yv)
            return (v * w if w is not None else v), ()

        def grads(xv, yv, res, g):
            gx, gy = _bce_grads(xv, yv, g)
            return [gx * w, gy * w] if w is not None else [gx, gy]

        return _loss_node("BinaryCrossEntropyBackward0", input, target, reduction, elem, grads)
    f = _bce_f(weight._mx if weight is not None else None)
    loss = mlx_op("BinaryCrossEntropyBackward0", f, [input, target])
    return _reduce(loss, reduction)


def _logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|; the composition's gradient is
    sigmoid(-x) everywhere (at 0: minimum's tie gives 1/2, the log1p term 0)."""
    mc = _mc()
    return mc.minimum(x, mc.zeros_like(x)) - (-(x.abs())).exp().log1p()


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    for pos, (name, t) in enumerate((("input", input), ("target", target)), 1):
        if not isinstance(t, Tensor):  # a NumPy scalar has a shape and arithmetic, but torch's parser refuses it
            raise TypeError(f"binary_cross_entropy_with_logits(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(t).__name__}")
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    _not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    if _fusable(input, target, weight, pos_weight):  # Note [Pointwise losses as one node]
        w = weight._mx if weight is not None else None
        pw = pos_weight._mx if pos_weight is not None else None

        def logsig(v):  # _logsigmoid's arithmetic
            return mx.minimum(v, 0) - mx.log1p(mx.exp(-mx.abs(v)))

        def elem(xv, yv):
            ls = logsig(xv)
            v = (1 - yv) * xv - (((pw - 1) * yv + 1) * ls if pw is not None else ls)
            return (v * w if w is not None else v), ()

        def grads(xv, yv, res, g):
            if pw is not None:
                t = pw * yv
                gx = (t + 1 - yv) * mx.sigmoid(xv) - t
                gy = logsig(-xv) - logsig(xv) * pw
            else:
                gx, gy = mx.sigmoid(xv) - yv, -xv
            gx, gy = gx * g, gy * g
            return [gx * w, gy * w] if w is not None else [gx, gy]

        return _loss_node("BinaryCrossEntropyWithLogitsBackward0", input, target, reduction, elem, grads)
    ls = _logsigmoid(input)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - log_weight * ls
    else:
        loss = (1 - target) * input - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- KL divergence, likelihoods


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            _warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                  "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                  "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                  stacklevel=2)
        if reduction != "batchmean":
            reduction = _check_reduction(reduction)
    mc = _mc()
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = mc.xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    mc = _mc()
    if isinstance(var, (builtins.float, builtins.int)) and not isinstance(var, builtins.bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * mc.ones_like(input)
    elif builtins.bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)  # homoscedastic: one variance per row
        elif input.dim() == var.dim() and builtins.sum(
                b for a, b in zip(input.shape, var.shape) if a != b) == 1:
            pass  # one broadcast (size-1) dimension
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # Note [gaussian_nll_loss clamp]: torch clamps var in place under no_grad, so the clamp is invisible to
    # autograd: the gradient reaches var unchanged even where the clamp bites.
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- margin losses


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    mc = _mc()
    zero = mc.zeros((), dtype=input.dtype)
    margin_clamp = (margin - input).clamp_min(0)
    loss = mc.where(target != 1, margin_clamp, zero) + mc.where(target != -1, input, zero)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    _not_differentiable("soft_margin_loss", "target", target)
    if _fusable(input, target):  # Note [Pointwise losses as one node]
        def elem(xv, yv):
            return mx.log1p(mx.exp(-xv * yv)), ()

        def grads(xv, yv, res, g):
            return [yv * g * (mx.sigmoid(yv * xv) - 1), None]

        return _loss_node("SoftMarginLossBackward0", input, target, reduction, elem, grads)
    loss = (-input * target).exp().log1p()
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if td == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    mc = _mc()
    eps = 1e-12
    prod = (input1 * input2).sum(td)
    m1 = (input1 * input1).sum(td) + eps
    m2 = (input2 * input2).sum(td) + eps
    cos = prod / (m1 * m2).sqrt()
    zero = mc.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    loss = mc.where(target == 1, pos, zero) + mc.where(target == -1, neg, zero)
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    """torch.pairwise_distance: the p-norm of x1 - x2 + eps over the last dimension."""
    return _mc().linalg.vector_norm(x1 - x2 + eps, ord=p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative, lambda a, b: _pairwise_distance(a, b, p, eps), margin, swap,
                    reduction)


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _mc().minimum(d_neg, dist(positive, negative))
    loss = (margin + d_pos - d_neg).clamp_min(0)
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dist = distance_function if distance_function is not None else _pairwise_distance
    return _triplet(anchor, positive, negative, dist, margin, swap, reduction)


def _as_long_index(target):
    """Class-index targets as int64 (torch also takes uint8 for some losses)."""
    return target if target.dtype is _dtype.int64 else target.to(_dtype.int64)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.dim() >= 2 else input.reshape(1, -1)
    ndim_ok = input.dim() <= 2 and x.shape[1] != 0
    if not ndim_ok:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    nframe, dim = x.shape
    if not (target.dim() <= 1 and target.numel() == nframe):
        raise RuntimeError(f"inconsistent target size, expected {nframe} but got {list(target.shape)}")
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(weight.shape)}")
    _not_differentiable("multi_margin_loss", "weight", weight)
    if target.dtype.is_floating_point or target.dtype is _dtype.bool:
        raise RuntimeError(f"expected scalar type Long but found {_sname(target.dtype)}")
    t = _as_long_index(target).reshape(nframe, 1)
    if target.numel():
        tv = t._mx
        if not builtins.bool(_mx_item(mx.all((tv >= 0) & (tv < dim)))):
            raise RuntimeError("target out of range")
    mc = _mc()
    u = x.gather(1, t)
    z = (margin - u + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t]
    z = mc.where(mc.arange(dim, device=t.device) != t, z, mc.zeros((), dtype=z.dtype))
    per = z.sum(1) / dim
    if reduction == "mean" and nframe == 0:
        return per.sum()  # torch: 0 for an empty batch
    if reduction == "none":
        return per.reshape(tuple(target.shape)) if input.dim() < 2 else per
    return _reduce(per, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if input.dim() > 2 or (input.dim() >= 1 and input.shape[-1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if target.dim() > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    n, dim = x.shape
    tv = _as_long_index(target)._mx.reshape(n, dim)
    if tv.size and not builtins.bool(_mx_item(mx.all((tv >= -1) & (tv < dim)))):
        raise RuntimeError("argument #2 'target' is out of range")
    # the targets of a row are its entries before the first -1
    idx = mx.arange(dim)
    end = mx.min(mx.where(tv == -1, idx, dim), axis=-1, keepdims=True)
    valid = idx < end  # (n, dim): position j holds a target
    tidx = mx.where(valid, tv, 0)
    is_target = mx.any((idx.reshape(1, 1, dim) == mx.where(valid, tv, -1)[..., None]), axis=1)  # (n, dim)
    keep = valid[:, :, None] & ~is_target[:, None, :]  # (n, j, d): pairs (target j, non-target d)

    def f(xv):
        u = mx.take_along_axis(xv, tidx, axis=1)  # (n, j)
        z = mx.maximum(1 - u[:, :, None] + xv[:, None, :], 0)
        z = mx.where(keep, z, mx.zeros_like(z))
        return (mx.sum(z, axis=(1, 2)) / dim).astype(xv.dtype)

    per = mlx_op("MultilabelMarginLossBackward0", f, [x])
    if reduction == "none":
        return per if input.dim() == 2 else per.reshape(())
    if reduction == "mean" and n == 0:
        return per.sum()  # torch: 0 for an empty batch
    return _reduce(per, reduction)


# ---------------------------------------------------------------- nll_loss, cross_entropy


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    return _nll(input, target, weight, ignore_index, reduction)


def _check_class_target(input, target):
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1 and input.shape[0] != (target.shape[0] if target.dim() else 1):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 1}).")
    # torch checks the batch size (ValueError) before the target dtype (RuntimeError)
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_sname(target.dtype)}")
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    if input.dim() > 2 or target.dim() > 1:
        expect = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expect:
            raise RuntimeError(f"Expected target size {list(expect)}, got {list(target.shape)}")


def _nll(input, target, weight, ignore_index, reduction):
    """nll_loss on log-probabilities of shape (C,), (N, C) or (N, C, d1, ...) with class-index targets."""
    _check_class_target(input, target)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{_sname(input.dtype)}'")
    mc = _mc()
    cdim = 0 if input.dim() == 1 else 1
    c = input.shape[cdim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_sname(input.dtype)} but found {_sname(weight.dtype)}")
    _not_differentiable("nll_loss_forward" if input.dim() <= 2 else "nll_loss2d_forward", "weight", weight)
    tv = _checked_target(target, ignore_index, c)
    wv = None if weight is None else weight._mx
    one_d = input.dim() == 1

    def f(x):
        # Note [nll_loss total weight]: with every target ignored (total weight 0) torch returns NaN but a zero
        # gradient; dividing by a placeholder 1 and adding a constant NaN keeps the zero gradient.
        keep = tv != ignore_index
        safe = mx.where(keep, tv, 0)
        if one_d:
            picked = mx.take(x, safe.reshape(1)).reshape(safe.shape)
        else:
            picked = mx.squeeze(mx.take_along_axis(x, mx.expand_dims(safe, 1), axis=1), 1)
        w = mx.where(keep, mx.take(wv, safe) if wv is not None else mx.array(1, x.dtype), mx.array(0, x.dtype))
        loss = mx.where(keep, -picked * w, mx.array(0, x.dtype))
        if reduction == "none":
            return loss
        if reduction == "sum":
            return mx.sum(loss)
        tw = mx.sum(w)
        empty = tw == 0
        return mx.sum(loss) / mx.where(empty, mx.array(1, x.dtype), tw) + \
            mx.where(empty, mx.array(float("nan"), x.dtype), mx.array(0, x.dtype))

    return mlx_op("NllLossBackward0" if input.dim() <= 2 else "NllLoss2DBackward0", f, [input])


def _checked_target(target, ignore_index, c, ignored=None):
    """The targets as an int64 MLX array, after torch's eager bounds check (Note [Target bounds on the host]);
    skipped while MLX traces (Note [No evaluation while tracing]). ignored: a list that receives whether any row
    may be ignore_index (True unless the host values, read now or remembered, show none is; while a compiled
    function is traced, what its argument's values show, Note [Argument facts] in _compile.py)."""
    tv = target._mx
    key = _target_key(tv, ignore_index, c, raise_out_of_bounds=True)
    if ignored is not None:
        if key is None:  # being traced: a fact about the call's argument, when the targets are one
            none_ignored = _compile.argument_fact(tv, ("no ignored targets", ignore_index, c),
                                                  functools.partial(_no_ignored_targets, ignore_index, c))
            ignored.append(none_ignored is not True)
        else:
            ignored.append(key[2])
    if tv.dtype != mx.int64:
        tv = tv.astype(mx.int64)
    return tv


def _target_key(tv, ignore_index, c, raise_out_of_bounds):
    """(c, ignore_index, whether any target is ignore_index) for class-index array tv, from the memo or a host
    read (Note [Target bounds on the host]); None while MLX traces tv, and for targets out of bounds unless
    raise_out_of_bounds (torch's IndexError)."""
    key = checked_key(tv)
    if key is not None and key[:2] == (c, ignore_index):
        return key
    host = host_indices(tv)
    if host is None:
        return None
    if host.min() < 0 or host.max() >= c:
        bad = (host != ignore_index) & ((host < 0) | (host >= c))
        if bad.any():
            if not raise_out_of_bounds:
                return None
            raise IndexError(f"Target {int(host.reshape(-1)[bad.reshape(-1).argmax()])} is out of bounds.")
    key = (c, ignore_index, bool((host == ignore_index).any()))
    remember_checked(tv, key)
    return key


def _no_ignored_targets(ignore_index, c, tv):
    """True when class-index array tv (a compiled call's argument) is in bounds and holds no ignore_index; False
    or None (unknown: out of bounds) otherwise. Note [Argument facts] in _compile.py."""
    key = _target_key(tv, ignore_index, c, raise_out_of_bounds=False)
    return None if key is None else not key[2]


# Note [Target bounds on the host]
# torch checks class-index targets eagerly (IndexError "Target t is out of bounds."). The targets nearly always
# come from the host (a DataLoader batch, torch.tensor, from_numpy): their array is already materialised, and
# reading it through numpy is a host read of the buffer, not an evaluation on the device stream (the former check
# built `any(bad)` as MLX ops and evaluated it: a stream synchronisation inside the loss, the second evaluation
# of a training step). Targets computed on the device (a language model's shifted ids) are evaluated here, as
# before, and only they. While MLX traces (compile) the values cannot be read and the check is skipped, as every
# value check is (Note [No evaluation while tracing]). An array found in bounds is not read again (`_checked`
# in _ops/indexing.py): on the H200 the eager MLP step's first kernels after that host read took 106, 89 and 54 µs, where the
# compiled step's (no read) take a few. The memo's key also says whether any row is ignore_index, which the GPU
# path uses to skip the ignore mask (Note [fused cross entropy on the GPU]).
# A target array found in bounds for (classes, ignore_index) is not read again while it lives (MLX arrays are
# immutable; a tensor written in place holds a new array): on MLX's CUDA backend a host read of an array in device
# memory is a copy with a device synchronisation, at every step of a loop that reuses one batch. Keyed by the
# array's id, holding only a weak reference to it, so an entry leaves with its array and a reused id is never
# taken for it (the referent is compared). The read and the memo are `host_indices`, `checked_key` and
# `remember_checked` (_ops/indexing.py), which F.embedding and index_select share (`check_indices_in_range`, keyed
# by the dim's size): they built `any(out of range)` and evaluated it, a stream synchronisation per call.


def _cross_entropy_grad(x, lse, r, safe, cols, cpu=False):
    """Note [fused cross entropy]'s gradient of (N, C) logits x: dx = -(p * r) off the target, r - p[t] * r at it
    (as r + (p * -r), the same bits), p = exp(logp); for half types logp is log_softmax's half-type output, as
    torch's log_softmax backward reads it (Note [cross entropy gradient in one pass]). cpu: exp by Note [CPU
    exponential] (_ops/cpu_math.py; logp is float32 here in every dtype)."""
    half = x.dtype in (mx.float16, mx.bfloat16)
    logp = x.astype(mx.float32) - lse if half else x - lse
    if half:
        logp = logp.astype(x.dtype).astype(mx.float32)
    q = (_cpu_math.exp(logp) if cpu else mx.exp(logp)) * -r
    return mx.where(cols == safe, r + q, q).astype(x.dtype)


# Note [cross entropy gradient in one pass]
# The gradient above is elementwise over (N, C) once the target's column is a comparison with a column index
# (instead of a scatter into the product): compiled, it is one pass that reads the logits in their dtype and
# writes the gradient in it, with no (N, C) float32 array in between (a bfloat16 language model's largest
# arrays: GPT-2's 2048 x 50257 logits are 206 MB in bfloat16, 412 MB per float32 copy).


# Note [compiled cross entropy]
# The fused op's forward (logsumexp, the picked log-probabilities, nll_loss's reduction) and its backward (the
# reduction's vjp and the one-pass gradient) are each one function of arrays compiled with mx.compile, traced per
# shape and built once per (dtype, ignore_index, reduction): per step the op adds two compiled calls to the
# graph instead of a dozen MLX nodes built one by one in Python, and MLX fuses the elementwise parts. Traced per
# shape rather than shapeless, so that the column count and the 0-d constants are static (no split at
# broadcasts, as in Note [Fused update kernels]); a run sees few distinct (N, C). The arithmetic is the eager
# formula's, op for op, so the values are unchanged.
_ce_functions_cache = {}


def _ce_parts(dt, ignore_index, reduction):
    """(stats, reduce) of Note [fused cross entropy] for logits of MLX dtype dt."""
    from .._ops import precise as _precise

    half = dt in (mx.float16, mx.bfloat16)

    def stats(x, tv, cpu=False):
        """(compute-dtype logits, logsumexp, picked log-probabilities in x's dtype, keep, safe targets); cpu: the
        float32 logsumexp by Note [CPU exponential] (_ops/cpu_math.py), for the compiled forward only (MLX does not
        differentiate its bit cast)."""
        w = x.astype(mx.float32) if half else x
        if cpu:  # w is float32 in every dtype the fused path takes
            lse = _cpu_math.logsumexp(w, 1)
        else:
            lse = _precise.logsumexp(w, 1, keepdims=True)  # MLX's for all but 64-bit types; empty-safe
        keep = tv != ignore_index
        safe = mx.where(keep, tv, 0)[:, None]
        picked = (mx.take_along_axis(w, safe, axis=1) - lse)[:, 0]
        return w, lse, picked.astype(dt) if half else picked, keep, safe

    def reduce(picked, keep):
        """nll_loss's arithmetic (_nll's f with unit weights); returns (loss, divisor or None)."""
        one, zero = mx.array(1, dt), mx.array(0, dt)
        w = mx.where(keep, one, zero)
        loss = mx.where(keep, -picked * w, zero)
        if reduction == "none":
            return loss, None
        if reduction == "sum":
            return mx.sum(loss), None
        tw = mx.sum(w)
        empty = tw == 0
        den = mx.where(empty, one, tw)
        return mx.sum(loss) / den + mx.where(empty, mx.array(float("nan"), dt), zero), den

    return stats, reduce


def _ce_functions(dt, ignore_index, reduction, cpu=False):
    """The compiled (forward, backward) of Note [compiled cross entropy] for one static configuration, and the
    uncompiled (stats, reduce) they are made of: forward(x, tv) -> [loss, lse, keep, safe(, den)];
    backward(x, lse, keep, safe(, den), g) -> dx. cpu: for MLX's CPU, whose float32 exp the compiled pair
    replaces (Note [CPU exponential] in _ops/cpu_math.py)."""
    key = (dt, ignore_index, reduction, cpu)
    fns = _ce_functions_cache.get(key)
    if fns is not None:
        return fns
    stats, reduce = _ce_parts(dt, ignore_index, reduction)
    mean = reduction == "mean"

    def forward(x, tv):
        _, lse, picked, keep, safe = stats(x, tv, cpu)
        loss, den = reduce(picked, keep)
        return [loss, lse, keep, safe, den] if mean else [loss, lse, keep, safe]

    def backward(x, lse, keep, safe, *rest):
        if mean:
            den, g = rest
            g = g / den
        else:
            (g,) = rest
        # r = d loss / d logp[t], as the vjp of nll_loss's arithmetic gives it (0 for ignored rows)
        r = mx.where(keep, -g, mx.array(0, dt)).astype(lse.dtype)[:, None]
        cols = mx.arange(x.shape[1], dtype=safe.dtype)
        return _cross_entropy_grad(x, lse, r, safe, cols, cpu)

    fns = _ce_functions_cache[key] = (mx.compile(forward), mx.compile(backward), stats, reduce)
    return fns


_HAS_FAST_CE = hasattr(mx.fast, "cross_entropy")  # MLX releases before it keep the composed path on the GPU too


def _cross_entropy_gpu(input, tv, ignore_index, reduction, ignored, composed):
    """Note [fused cross entropy on the GPU]: MLX's fused kernel and its vjp; `ignored`: whether any row may be
    ignore_index (False when the host has seen the targets and none is: no mask, and the mean divides by the row
    count); `composed`: the CPU path's formula, for a create_graph backward."""
    dt = input.dtype._mx
    as_f32 = _device.FAKE_GPU and dt != mx.float32  # the CPU fallback reduces in the logits' dtype
    forward, backward = _gpu_ce_functions(dt, reduction, ignored, as_f32, input._device_code, input._mx.shape)

    def targets():  # the class indices as the kernel takes them, and the rows kept (with ignore_index among them)
        if not ignored:
            return (tv.astype(mx.int32),)
        keep = tv != ignore_index
        return mx.where(keep, tv, 0).astype(mx.int32), keep

    aux = _scoped(input._device_code, targets)

    def fwd(x):
        return forward(x, *aux), ()

    def bwd(values, res, out, g):
        return [backward(values[0], *aux, g)]

    return fused_op("NllLossBackward0", composed, [input], fwd, bwd)


# Note [compiled GPU cross entropy]
# The GPU path's loss (the kernel, the ignore mask, nll_loss's reduction) and its backward (MLX's vjp of it) are
# each a function of the logits, the targets as the kernel takes them and the mask, made once per (dtype,
# reduction, masked, float32 input, device: a traced tape keeps its streams) and mx.compile'd once a logits shape
# repeats (Note [Compiled when repeated] in autograd/_mlx_vjp.py: a language model's batches of varying length
# trace nothing new): the backward called mx.vjp at every step, which traced the loss again (25 us of an eager
# MLP step's host time on this CPU under the fake GPU). The mean's row count is the targets' size read while
# tracing (a constant of the shape) or, with the mask, the mask's sum; compiled or not, the values are the same.
_gpu_ce_functions_cache = {}


def _gpu_ce_functions(dt, reduction, masked, as_f32, device, shape):
    """(forward, backward) of Note [compiled GPU cross entropy] for logits of `shape`, compiled when the shape
    repeats: forward(x, safe[, keep]) -> the loss; backward(x, safe[, keep], g) -> dx."""
    key = (dt, reduction, masked, as_f32, device)
    fns = _gpu_ce_functions_cache.get(key)
    if fns is None:
        fns = _gpu_ce_functions_cache[key] = _gpu_ce_plain(dt, reduction, masked, as_f32)
    return (compiled_when_repeated(("gpu cross entropy",) + key, shape, lambda: fns[0]),
            compiled_when_repeated(("gpu cross entropy backward",) + key, shape, lambda: fns[1]))


def _gpu_ce_plain(dt, reduction, masked, as_f32):
    """The uncompiled (forward, backward) of Note [compiled GPU cross entropy]."""
    zero = mx.array(0.0, mx.float32)

    def loss(x, safe, keep=None):
        rows = mx.fast.cross_entropy(x.astype(mx.float32) if as_f32 else x, safe)
        if masked:
            # select: the gradient of an ignored row is 0 even where the cotangent is not finite (every row
            # ignored: the mean is 0 / 0, torch's NaN, and its cotangent 1 / 0), Note [Selecting vjp]
            rows = select(keep, rows, zero)
        if reduction == "none":
            return rows.astype(dt)
        total = mx.sum(rows)
        if reduction == "sum":
            return total.astype(dt)
        return (total / (mx.sum(keep.astype(mx.float32)) if masked else float(safe.size))).astype(dt)

    def backward(x, *rest):
        aux, g = rest[:-1], rest[-1]
        return vjp(lambda x_: loss(x_, *aux), [x], [g])[1][0]

    return loss, backward


def _cross_entropy_fused(input, target, ignore_index, reduction):
    """Note [fused cross entropy]: (N, C) logits, (N,) class indices, no weight, no label smoothing."""
    _device.check_same_device(input, target)
    gpu = input._device_code and _HAS_FAST_CE and input.shape[0]  # mx.fast.cross_entropy refuses an empty batch
    ignored = [] if gpu else None  # only the GPU path drops the ignore mask (Note [fused cross entropy on the GPU])
    tv = _checked_target(target, ignore_index, input.shape[1], ignored)
    dt = input.dtype._mx
    # Note [CPU exponential]: on MLX's CPU (the fake GPU's stream too), for logits large enough that the exp's
    # time outweighs its extra kernels (on MLX's own exp, a (64, 10) batch's step is ~2 % faster)
    cpu = _cpu_math.takes(input)
    cforward, cbackward, stats, reduce = _ce_functions(dt, ignore_index, reduction, cpu)

    def f(x):
        _, _, picked, keep, _ = stats(x, tv)
        return reduce(picked, keep)[0]

    if gpu:
        return _cross_entropy_gpu(input, tv, ignore_index, reduction, ignored[0], f)

    def fwd(x):
        out = cforward(x, tv)
        # the backward reads the logits themselves (Note [cross entropy gradient in one pass])
        return out[0], out[1:]

    def bwd(values, res, out, g):
        return [cbackward(values[0], *res, g)]

    return fused_op("NllLossBackward0", f, [input], fwd, bwd)


def _safe_mean(total_loss, total_weight):
    """total_loss / total_weight, NaN with a zero gradient when the total weight is 0 (every target ignored),
    as torch (Note [nll_loss total weight])."""
    mc = _mc()
    tw = total_weight.detach()
    empty = tw == 0
    return total_loss / mc.where(empty, mc.ones_like(tw), tw) + mc.where(
        empty, mc.full((), float("nan"), dtype=tw.dtype), mc.zeros_like(tw))


def _wrap_index(arr, like):
    from .._tensor import _new

    return _new(arr, like._device_code, _dtype.from_mx(arr.dtype))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = _check_reduction(_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input.dim() == 1 else 1
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if (weight is None and label_smoothing <= 0 and isinstance(input, Tensor) and isinstance(target, Tensor)
            and input.dim() == 2 and target.dim() == 1 and target.shape[0] == input.shape[0] and input.shape[1]
            and target.dtype in (_dtype.int64, _dtype.uint8)
            and input.dtype in (_dtype.float32, _dtype.bfloat16, _dtype.float16)):
        return _cross_entropy_fused(input, target, ignore_index, reduction)  # Note [fused cross entropy]
    from .functional import log_softmax

    lsm = log_softmax(input, cdim)
    c = input.shape[cdim]
    mc = _mc()
    wshape = (c,) + (1,) * (input.dim() - cdim - 1)
    if tuple(input.shape) == tuple(target.shape):
        # class probabilities
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_sname(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        x = lsm * weight.reshape(wshape) if weight is not None else lsm
        loss = -(x * target).sum(cdim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // c) if input.numel() else loss.sum() * float("nan")
        return _reduce(loss, reduction)
    nll = _nll(lsm, target, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return nll
    # Note [label smoothing]: the smoothing term is the (weighted) sum of -log p over the classes, ignored
    # positions zeroed; 'mean' divides it by the same total weight nll_loss uses.
    smooth = -(lsm * weight.reshape(wshape)).sum(cdim) if weight is not None else -lsm.sum(cdim)
    keep = target != ignore_index
    smooth = mc.where(keep, smooth, mc.zeros((), dtype=smooth.dtype))
    if reduction == "mean":
        if weight is not None:
            t = _as_long_index(target)
            denom = mc.where(keep, weight[mc.where(keep, t, mc.zeros((), dtype=t.dtype))],
                             mc.zeros((), dtype=weight.dtype)).sum()
        else:
            denom = keep.sum()
        ret = _safe_mean(smooth.sum(), denom.to(smooth.dtype))
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...) for a weight of shape
    (C, in_features) or (C, d1, ..., dK, in_features) (K-dimensional loss, batched input only).

    Note [linear_cross_entropy options]: torch's `options` select a chunked evaluation that saves memory
    on the batch dimension; the result is the reference value, so here every call takes the reference
    path (torch warns where it would itself fall back)."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batches = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires"
                           f" batched input, (N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or reduction not in ("mean", "sum", "none") or label_smoothing != 0.0
                                or target.dtype is not _dtype.int64):
        _warn("linear_cross_entropy: ``options`` ignored; chunked path needs "
              "reduction in {'mean','sum','none'}, label_smoothing == 0, target.dtype"
              " == int64, out_features == (). Got "
              f"reduction={reduction!r}, label_smoothing={label_smoothing}, "
              f"target.dtype={target.dtype}, out_features={out_features}"
              f", tracing=False"
              f", linear_bias.shape="
              f"{tuple(linear_bias.shape) if linear_bias is not None else None}.", stacklevel=2)
    from .functional import linear

    w, b = linear_weight, linear_bias
    if out_features:
        w = w.reshape(math.prod(out_features, start=num_classes), in_features)
        if b is not None:
            b = b.reshape(math.prod(out_features, start=num_classes))
    logits = linear(input, w, b).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


# ---------------------------------------------------------------- CTC


def _lse(*xs):
    """log(sum(exp(x))) over same-shaped MLX arrays, -inf where all are -inf (no NaN)."""
    m = xs[0]
    for x in xs[1:]:
        m = mx.maximum(m, x)
    ms = mx.where(mx.isinf(m), mx.zeros_like(m), m)
    s = mx.zeros_like(m)
    for x in xs:
        s = s + mx.exp(x - ms)
    return ms + mx.log(s)


def _shift(a, k, fill):
    """a[..., s - k] along the last axis (k > 0 shifts right), filled with `fill`."""
    if k == 0:
        return a
    if builtins.abs(k) >= a.shape[-1]:
        return mx.full(a.shape, fill, dtype=a.dtype)
    pad = mx.full(a.shape[:-1] + (builtins.abs(k),), fill, dtype=a.dtype)
    if k > 0:
        return mx.concatenate([pad, a[..., :-k]], axis=-1)
    return mx.concatenate([a[..., -k:], pad], axis=-1)


def _ctc_tables(lp, ext, skip, in_len, tg_len):
    """Forward (alpha) and backward (beta) variables of the CTC lattice in log space.

    lp: (T, N, C); ext: (N, L) extended labels (blank, l1, blank, l2, ..., blank); skip: (N, L) whether
    s may be reached from s - 2. Returns alpha, beta: (T, N, L) and the negative log likelihood (N,)."""
    T, N, _ = lp.shape
    L = ext.shape[1]
    neg = -float("inf")
    lpe = mx.take_along_axis(lp, mx.broadcast_to(ext[None], (T, N, L)), axis=2)  # (T, N, L)
    s_idx = mx.arange(L)[None, :]
    ninf = mx.full((N, L), neg, dtype=lp.dtype)
    a = mx.where((s_idx == 0) | ((s_idx == 1) & (tg_len[:, None] > 0)), lpe[0], ninf)
    alphas = [a]
    for t in builtins.range(1, T):
        prev = mx.where(skip, _shift(a, 2, neg), ninf)
        nxt = lpe[t] + _lse(a, _shift(a, 1, neg), prev)
        a = mx.where((t < in_len)[:, None], nxt, a)
        alphas.append(a)
    alpha = mx.stack(alphas)
    last = 2 * tg_len  # index of the final blank
    a_end = mx.take_along_axis(alpha, mx.broadcast_to(mx.maximum(in_len - 1, 0)[None, :, None], (1, N, L)),
                               axis=0)[0]
    a_last = mx.take_along_axis(a_end, last[:, None], axis=1)[:, 0]
    a_prev = mx.take_along_axis(a_end, mx.maximum(last - 1, 0)[:, None], axis=1)[:, 0]
    ll = mx.where(tg_len > 0, _lse(a_last, a_prev), a_last)
    ll = mx.where(in_len > 0, ll, mx.where(tg_len == 0, mx.zeros_like(ll), mx.full(ll.shape, neg, dtype=ll.dtype)))
    # beta: beta[t, s] = lp[t, s] + lse(beta[t+1, s], beta[t+1, s+1], beta[t+1, s+2] if s+2 may skip to s)
    skip_next = _shift(skip, -2, False)
    end_mask = (s_idx == last[:, None]) | ((s_idx == (last - 1)[:, None]) & (tg_len[:, None] > 0))
    b = ninf
    betas = [None] * T
    for t in builtins.range(T - 1, -1, -1):
        init = mx.where(end_mask, lpe[t], ninf)
        rec = lpe[t] + _lse(b, _shift(b, -1, neg), mx.where(skip_next, _shift(b, -2, neg), ninf))
        is_last = (t == in_len - 1)[:, None]
        inside = (t < in_len - 1)[:, None]
        b = mx.where(is_last, init, mx.where(inside, rec, ninf))
        betas[t] = b
    beta = mx.stack(betas)
    return lpe, alpha, beta, -ll


def _ctc_occupancy(alpha, beta, ext, C):
    """log sum over s with ext[s] == c of alpha[t, s] + beta[t, s]: (T, N, C), accumulated over s from the
    last position down, one log-add at a time, as torch's CPU kernel does (Note [CTC precision])."""
    T, N, L = alpha.shape
    neg = -float("inf")
    lcab = mx.full((T, N, C), neg, dtype=alpha.dtype)
    cls = mx.arange(C)[None, None, :]
    for s in builtins.range(L - 1, -1, -1):
        lab = alpha[:, :, s] + beta[:, :, s]  # (T, N)
        c = ext[:, s]  # (N,)
        cur = mx.take_along_axis(lcab, mx.broadcast_to(c[None, :, None], (T, N, 1)), axis=2)[..., 0]
        m = mx.maximum(cur, lab)
        new = mx.where(cur == neg, lab, mx.log(mx.exp(cur - m) + mx.exp(lab - m)) + m)
        lcab = mx.where(cls == c[None, :, None], new[..., None], lcab)
    return lcab


def _ctc_f(ext, skip, in_len, tg_len, C, zero_infinity):
    """Per-sample CTC negative log likelihood of log_probs (T, N, C) as an MLX function with torch's gradient.

    Note [CTC gradient]: torch's ctc_loss backward returns exp(lp) - exp(log(alpha beta) + nll - lp) for
    t < input_length (zero after), the derivative with respect to the logits of a log_softmax rather than
    with respect to log_probs itself (which lacks the exp(lp) term); zero_infinity zeroes both the
    infinite losses and their gradients.

    Note [CTC precision]: the lattice sums reach magnitudes of hundreds in log space, where one rounding
    of the input dtype is ~1e-5; torch's float32 results carry that error, so to agree with them the
    recursion runs in the input dtype with torch's order of operations (max-shifted log-sum-exp of
    (same, previous, skip) states, log(sum) + max + lp, the same accumulation of alpha beta)."""

    def tables(lp):
        return _ctc_tables(lp, ext, skip, in_len, tg_len)

    @mx.custom_function
    def f(lp):
        nll = tables(lp)[3]
        if zero_infinity:
            nll = mx.where(mx.isinf(nll), mx.zeros_like(nll), nll)
        return nll.astype(lp.dtype)

    @f.vjp
    def f_vjp(primals, cot, out):
        lp = primals[0] if isinstance(primals, (tuple, list)) else primals  # a lone primal comes unwrapped
        T, N, _ = lp.shape
        _, alpha, beta, nll = tables(lp)
        lcab = _ctc_occupancy(alpha, beta, ext, C)
        g = (mx.exp(lp) - mx.exp((lcab + nll[None, :, None]) - lp)) * cot[None, :, None]
        g = mx.where((mx.arange(T)[:, None] < in_len[None, :])[..., None], g, mx.zeros_like(g))
        if zero_infinity:
            g = mx.where(mx.isinf(nll)[None, :, None], mx.zeros_like(g), g)
        return (g.astype(lp.dtype),)

    return f


def _lengths(v):
    """ctc_loss lengths: a tensor (any shape, () when unbatched) or a list/tuple of ints, as torch."""
    if isinstance(v, Tensor):
        return [builtins.int(x) for x in v.reshape(-1).tolist()]
    if isinstance(v, (list, tuple)):
        return [builtins.int(x) for x in v]
    raise TypeError(f"ctc_loss(): argument 'input_lengths' must be tuple of ints or Tensor, not {type(v).__name__}")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    reduction = _check_reduction(reduction)
    mc = _mc()
    if not log_probs.dtype.is_floating_point:
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_sname(log_probs.dtype)}'")
    batched = log_probs.dim() == 3
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim() + 1}-dimensional tensor for "
                           "argument #1 'log_probs' (while checking arguments for ctc_loss_allocate_outputs)")
    lp = log_probs if batched else log_probs.unsqueeze(1)
    T, N, C = lp.shape
    in_l, tg_l = _lengths(input_lengths), _lengths(target_lengths)
    if len(in_l) != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tg_l) != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    for n in builtins.range(N):
        if in_l[n] < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {in_l[n]} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        if in_l[n] > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {in_l[n]} (while "
                               f"checking arguments for ctc_loss_cpu)")
        if tg_l[n] < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {tg_l[n]} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
    tv = targets._mx.astype(mx.int64)  # torch converts any targets to int64
    smax = builtins.max(tg_l) if tg_l else 0
    if not batched:
        tv = tv.reshape(1, -1)
    if tv.ndim == 1:  # concatenated targets
        if tv.shape[0] < builtins.sum(tg_l):
            raise RuntimeError(f"Expected tensor to have size at least {builtins.sum(tg_l)} at dimension 0, but got "
                               f"size {tv.shape[0]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_cpu)")
        off = [0]
        for l in tg_l:
            off.append(off[-1] + l)
        pos = mx.array([[off[n] + builtins.min(j, builtins.max(tg_l[n] - 1, 0)) for j in builtins.range(smax)]
                        for n in builtins.range(N)], dtype=mx.int32).reshape(N, smax)
        padded = tv[pos] if smax and tv.size else mx.zeros((N, smax), dtype=mx.int64)
    else:
        if tv.shape[0] != N:
            raise RuntimeError(f"Expected tensor to have size {N} at dimension 0, but got size {tv.shape[0]} for "
                               "argument #2 'targets' (while checking arguments for ctc_loss_cpu)")
        for n in builtins.range(N):
            if tg_l[n] > tv.shape[1]:
                raise RuntimeError(f"Expected tensor to have size at least {tg_l[n]} at dimension 1, but got size "
                                   f"{tv.shape[1]} for argument #2 'targets' (while checking arguments for "
                                   "ctc_loss_cpu)")
        padded = tv[:, :smax]
    L = 2 * smax + 1
    lens = mx.array(tg_l, dtype=mx.int64)
    j = mx.arange(smax)[None, :]
    padded = mx.where(j < lens[:, None], padded, blank)  # positions past a target's end are never reached
    ext = mx.full((N, L), blank, dtype=mx.int64)
    if smax:
        pairs = mx.stack([mx.full((N, smax), blank, dtype=mx.int64), padded], axis=-1)  # (blank, label) pairs
        ext = mx.concatenate([pairs.reshape(N, 2 * smax), mx.full((N, 1), blank, dtype=mx.int64)], axis=1)
    s = mx.arange(L)[None, :]
    skip = (s % 2 == 1) & (s >= 2) & (ext != _shift(ext, 2, blank))
    in_len = mx.array(in_l, dtype=mx.int64)
    f = _ctc_f(ext, skip, in_len, lens, C, zero_infinity)
    nll = mlx_op("CtcLossBackward0", f, [lp])
    if not batched:
        nll = nll.reshape(())
    if reduction == "mean":
        tl = mc.tensor(tg_l, dtype=nll.dtype, device=nll.device).clamp_min(1)
        if not batched:
            tl = tl.reshape(())
        return (nll / tl).mean()
    return _reduce(nll, reduction)


# ---------------------------------------------------------------- torch.<loss>: the ATen-level signatures

# Note [top-level loss signatures]: torch.kl_div, torch.ctc_loss, ... are the native operators, not the
# nn.functional wrappers: no size_average / reduce, `reduction` an int (1 = mean, 2 = sum; anything
# else, including the default, gives no reduction), positional orders of their own (pos_weight before
# reduction, ...). TORCH_VARIANTS maps those names to these versions, for mlx_compat/__init__.py to export
# in place of the nn.functional ones.


def _int_reduction(fn, reduction, position):
    if isinstance(reduction, builtins.bool) or not isinstance(reduction, builtins.int):
        raise TypeError(f"{fn}(): argument 'reduction' (position {position}) must be int, not "
                        f"{type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def _top_binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight, reduction=_int_reduction(
        "binary_cross_entropy_with_logits", reduction, 5))


def _top_cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return cosine_embedding_loss(input1, input2, target, margin,
                                 reduction=_int_reduction("cosine_embedding_loss", reduction, 5))


def _top_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                    _int_reduction("ctc_loss", reduction, 6), zero_infinity)


def _top_hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return hinge_embedding_loss(input, target, margin, reduction=_int_reduction("hinge_embedding_loss", reduction, 4))


def _top_kl_div(input, target, reduction=0, *, log_target=False):
    r = _int_reduction("kl_div", reduction, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the nn.functional 'mean' warning is not the operator's
        return kl_div(input, target, reduction=r, log_target=log_target)


def _top_margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return margin_ranking_loss(input1, input2, target, margin,
                               reduction=_int_reduction("margin_ranking_loss", reduction, 5))


def _top_poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return poisson_nll_loss(input, target, log_input, full, eps=eps,
                            reduction=_int_reduction("poisson_nll_loss", reduction, 6))


def _top_triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction=0):
    return triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                               reduction=_int_reduction("triplet_margin_loss", reduction, 8))


TORCH_VARIANTS = {name: globals()["_top_" + name] for name in TORCH_EXPORTS}
for _name, _fn in TORCH_VARIANTS.items():
    _fn.__name__ = _fn.__qualname__ = _name
del _name, _fn
