"""nn.functional scaled_dot_product_attention, multi_head_attention_forward, embedding_bag.

scaled_dot_product_attention is one pure MLX function run through `mlx_op` (Note [MLX vjp fallback]);
multi_head_attention_forward composes the package's differentiable Tensor ops exactly in torch's order;
embedding_bag gathers each bag's rows into a padded (bags, longest bag, dim) block and reduces it.

Note [fully masked attention rows]
A query row whose keys are all masked out (-inf everywhere) has no softmax. torch (its math path uses a
"safe" softmax, its fused CPU kernel does the same) gives 0 for such a row, and a zero gradient. We
replace the row's scores by 0 before the softmax and its probabilities by 0 after: nothing NaN is ever
computed, so the vjp through the replaced row is exactly zero as well.

Note [attention arithmetic order]
torch's CPU result for float32 differs from the exact one by up to ~2e-5 on OpInfo-sized inputs (scores
of magnitude ~50), so matching it needs its order of operations. 4-D inputs without dropout (and without
a mask that needs a gradient) go to torch's fused CPU ("flash") kernel: scores = (q @ k^T) * scale,
e = exp(scores - rowmax), out = (e @ v) / rowsum(e); its backward recomputes p = exp(scores - logsumexp)
and uses rowsum(g * out) for the softmax term: gs = p * (g @ v^T - rowsum(g * out)), gq = gs @ k * scale,
gk = gs^T @ q * scale, gv = p^T @ g. We run both through an mx.custom_function (higher orders
differentiate that vjp). Other cases go to torch's math path: q and k each scaled by sqrt(scale) before
the product, softmax, then the product with v, and the chain rule through those.

A float32 4-D call without dropout that records a gradient (the training case) goes through `fused_op` (Note
[fused backward] in nn/_fused.py): its forward also returns the probabilities p, so the backward is the four
products of torch's formula instead of a re-run forward plus a recomputed p (ViT-B/16's 12x197x197 attention,
forward and backward, on the 2-core CPU VM: 3.2x `mx.fast.scaled_dot_product_attention`'s time before, 1.05-1.6x
after, 97 -> 44 graph nodes; a create_graph backward differentiates the custom-vjp core as before).

Note [half-type attention]
For float16/bfloat16 q, k, v (4-D, no dropout) we follow torch's fused CPU kernel, which computes in float32
but rounds twice on the way: the forward's exp(scores - rowmax) is rounded to the half type before its product
with v (the row sums use the float32 values), and the output is that float32 product times the reciprocal row
sum, rounded once; the backward recomputes p = exp(scale * q @ k^T - logsumexp) from the forward's float32
logsumexp, rounds p to the half type for gv = p^T @ g, forms gs = p * (g @ v^T - rowsum(g * out)) with the
float32 p and the half-type output, and rounds gs before gq = scale * gs @ k and gk = scale * gs^T @ q.
A product whose result torch keeps in float32 runs on float32 casts of its half-type operands (exact casts); one
whose result torch rounds at once (gv; gq and gk when the scale is a power of two, which scales the rounded
product exactly) runs in the half type, since MLX's half-type matmul is the float32 product rounded once.
On torch's own test inputs our half results are then torch's bits up to the order of float32 sums (a float32
computation rounded once, as before, was up to ~6 roundings from torch's). The training path keeps only the
(L, 1) float32 logsumexp for its backward, where the float32 path keeps the float32 probabilities (L, S): the
backward recomputes the scores, as torch's does, so a bfloat16 step holds no (L, S) float32 array between its
forward and backward (and no float32 copies of q, k, v, nor a float32 output).

Note [attention rows that cannot die]
Without attn_mask, a row of the fused path's scores is never all -inf: unmasked, every key counts, and torch's
causal triangle (top-left aligned, tril(ones(L, S))) keeps key 0 in every row. The dead-row handling of Note
[fully masked attention rows] (a comparison and two selects per call) is then skipped: with no dead row it
returns its input unchanged, so the numbers are the same.

Note [fused attention path]
On the GPU device (a tensor on 'cuda'/'mps') attention is MLX's `mx.fast.scaled_dot_product_attention`, forward and
backward: the forward is the fused kernel (cuDNN's flash attention on CUDA for half types) and the backward is its
vjp (MLX's fused backward), through `mlx_op`, so a half-type training step runs two attention kernels per layer
where the CPU path runs the float32 composition of Note [half-type attention]. float32 trains on the composed
fused_op path as before: MLX 0.32's CUDA backend has fused attention forward and backward for half types only
(float32 falls back to MLX's own composition, whose vjp re-runs the forward's products and softmax where ours takes
the forward's probabilities), so only float32 inference takes the kernel. On the CPU nothing changes (there
mx.fast is no faster and its arithmetic differs from torch's). The GPU path takes: 4-D inputs (batch, heads, L, E)
with one batch size, a key/value head count dividing the query's (MLX's grouped-query layout is torch's
repeat_interleave; with enable_gqa), no dropout, and either no mask, torch's causal triangle (MLX's "causal" aligns
bottom-right and torch's tril top-left: the same when L == S, else an explicit tril mask is passed) or an attn_mask
(bool, or additive in q's dtype) that records no gradient (MLX's vjp gives none for the mask). A row that the
mask leaves without any key (Note [fully masked attention rows]) is NaN in MLX's kernel: such rows are unmasked
before the kernel and their output set to 0 after it, so the value is torch's 0 and the cotangent reaching the
kernel there is 0 (their probabilities are finite), giving torch's zero gradient; the unmasked and causal cases
cannot have such rows (Note [attention rows that cannot die]) and skip this. Everything else takes the composed
path. The backward differentiates the kernel's forward again inside mx.vjp (MLX's backward needs the forward's
row statistics, which only a forward traced for differentiation outputs): one extra forward kernel per call.

Note [Attention forward traced for its backward]
MLX's fused attention outputs its row statistics (logsumexp) only when it is built inside a differentiation
(`detail::in_grad_tracing()`): a plain forward is a one-output primitive, the backward's re-run inside mx.vjp a
two-output one, and a compiled step cannot merge the two, so it ran two attention forwards per layer (a compiled
bfloat16 GPT-2 step on the H200: 24 attention forward kernels against native MLX's 12). While a compiled function
is traced (`_compile._TRACE`) and a gradient is recorded, the forward is therefore built inside a throwaway
mx.vjp (q as its cotangent: any array of the output's shape and dtype; the gradients it builds are never used,
so they drop out of the compiled graph): it is then the backward's primitive on the same inputs, and MLX's
compile merges the two (common subexpressions), leaving one forward whose statistics feed the backward. Eager
steps are left as they were: there each graph is evaluated as built, and nothing would merge.

Note [GPU arithmetic]
The CPU paths reproduce torch's CPU kernels' rounding (Note [attention arithmetic order], Note [half-type
attention], Note [layer norm arithmetic] in _normalization.py) because tests and OpInfo compare bits there. On the
GPU device MLX's fused kernels (attention, layer norm) accumulate in float32 in their own order, as torch's own
CUDA kernels do: results differ from the CPU's in the last bits (float32: ~1e-6 relative; bfloat16: one rounding
step of the output, since the kernels round once where torch's CPU kernel rounds twice), within the tolerances
that tests/nn/test_nn_gpu_fused.py checks against torch and bench/gpu_check.py against the CPU.

Note [packed in-projection]
torch projects self-attention's input once by the packed (3E, E) weight and separates q, k and v by an
unflatten / transpose / index chain ending in .contiguous() copies. The three are the product's column
blocks [0, E), [E, 2E), [2E, 3E): we take them as views, which lower to one MLX slice each (the chain
lowered to a reshape, a transpose, three squeezes and three gathers). The values are the same numbers and
nothing downstream depends on the blocks being contiguous. With a gradient to record the views come from one
`split` (one autograd node whose backward concatenates the blocks' gradients into the product's); without,
from plain `narrow`s (split's multi-output wrapper is pure overhead there).

Note [attention head layout]
torch splits heads as (L, N, E) -> (L, N*H, D) -> transpose -> (N*H, L, D), and before its fused
kernel views that as (N, H, L, D). For the fused path (need_weights=False) we go (L, N, E) -> (L, N, H, D)
-> permute(1, 2, 0, 3) in one reshape and one transpose: the same elements in the same places, without the
3-D round trip (a static_k / static_v given as (N*H, S, D) is viewed as (N, H, S, D)). The explicit
path (need_weights=True) keeps torch's 3-D layout, whose batched products it mirrors.

Note [batch-first attention]
nn.MultiheadAttention(batch_first=True) in torch transposes (N, L, E) inputs to (L, N, E), runs the
functional form and transposes the result back. `_mha_forward(batch_first=True)` instead keeps the batch
first throughout: the in-projection of a contiguous (N, L, E) input (no copy of a transposed view before the
product), heads as (N, L, E) -> (N, L, H, D) -> transpose(1, 2), and the output (N, H, L, D) ->
transpose(1, 2) -> (N*L, E) before the out-projection. Every element is the same product of the same rows,
only the order of rows in the matrix products differs. Masks and static_k / static_v are batch-major in both
layouts, so they are used unchanged; a bias_k / bias_v row is appended along the sequence dimension (1).

Note [embedding_bag bags]
Bag b holds positions offsets[b] .. offsets[b+1] (the last bag runs to the end unless
include_last_offset). Positions whose index equals padding_idx belong to no bag: they add nothing, do
not count towards the mean and cannot be the max. An empty bag gives zeros in every mode. In max mode
the gradient goes to the first maximal row (argmax), as torch's max_indices.

Note [embedding_bag scale_grad_by_freq]
torch's CPU backward (sum and mean modes) walks the distinct indices in sorted order and divides the
gradient of the g-th distinct index by counts[sorted_indices[g]] - the count of the g-th entry of the
sorted index list, not of the index itself (they agree when every index occurs once). We divide by the
same number, so gradients match torch's on the CPU.

Note [self-attention inference path]
torch's MultiheadAttention.forward takes its native fast path (`_native_multi_head_attention`) for batch-first
self-attention in eval mode when nothing records a gradient, the head count is even, both projections have
biases, there is no bias_k/bias_v, add_zero_attn, mask or causal flag, and the inputs are plain tensors; it
returns a fresh tensor (the general path returns a view). `_mha_self_inference` serves the same case when
need_weights=False: the in-projection, the head split and the out-projection are MLX calls on the values
(one addmm, one split, reshapes and transposes, one addmm), only q, k, v and the output are wrapped as
tensors, and the attention itself is `scaled_dot_product_attention` as on the general path — the same
operations in the same order, so the same numbers — without the general path's argument checks and view
bookkeeping (ViT-B/16's encoder layer builds its attention in about a third less host time). On the GPU device,
where that attention is MLX's fused kernel (Note [fused attention path]), the in-projection, the kernel and the
out-projection are one MLX function and only the output is wrapped (on this CPU's fake GPU the layer's attention
built in 23.5 -> 15.5 us, native MLX's 13). Every operand is checked first (shapes, one floating dtype, one
device); anything else takes the general path, which raises torch's errors.
"""
from __future__ import annotations

import builtins
import functools
import math

import mlx.core as mx
import numpy as np

from .._device_scope import scoped as _scoped, warn as _warn
from .. import _compile, _dtype
from .._ops import creation as _creation
from .._ops import cpu_math as _cpu_math, precise as _precise
from .._ops import random as _random
from .._C import is_grad_enabled
from ..autograd._derivatives import needs_grad
from ..autograd._mlx_vjp import mlx_op
from ._fused import fused_op
from ..autograd.grad_mode import no_grad
from .._tensor import Tensor, _mx_evaluated, _new
from .._ops.shape import cat as _cat
from .._ops.linalg import _mm

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "embedding_bag"]
# torch.embedding_bag exists at top level with another signature (weight first, a 4-tuple result): not exported
TORCH_EXPORTS = []

_KIND = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
         "int64": "long int", "int32": "int", "bool": "bool"}


def _kind(dt):
    return _KIND.get(dt.name, dt.name)


def _opmath(dt):
    return mx.float32 if dt in (mx.float16, mx.bfloat16) else dt


# ---------------------------------------------------------------- scaled_dot_product_attention


def _sdpa_checks(query, key, value, attn_mask, dropout_p, enable_gqa):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_kind(query.dtype)} key.dtype: {_kind(key.dtype)} and value.dtype: "
                           f"{_kind(value.dtype)} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"\"baddbmm_with_gemm\" not implemented for '{query.dtype.name}'")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"The size of query, key and value must be at least 2-D")
    if attn_mask is not None and not (attn_mask.dtype is _dtype.bool or attn_mask.dtype is query.dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_kind(attn_mask.dtype)} and  query.dtype: {_kind(query.dtype)} "
                           "instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    qs, ks, vs = query._mx.shape, key._mx.shape, value._mx.shape
    if qs[-1] != ks[-1]:
        raise RuntimeError(f"Expected query and key to have the same embedding size, but got query size "
                           f"{qs[-1]} and key size {ks[-1]}")
    if ks[-2] != vs[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, but got key length "
                           f"{ks[-2]} and value length {vs[-2]}")
    qb, kb, vb = qs[:-2], ks[:-2], vs[:-2]
    if enable_gqa and query.dim() >= 3:
        hq, hk, hv = qs[-3], ks[-3], vs[-3]
        if hk == 0 or hv == 0 or hq % hk or hq % hv:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in query")
        kb, vb = kb[:-1] + (hq,), vb[:-1] + (hq,)
    if qb == kb == vb:
        return
    try:
        np.broadcast_shapes(qb, kb, vb)
    except ValueError:
        raise RuntimeError(f"The size of the batch dimensions of query {list(qb)}, key {list(kb)} and value "
                           f"{list(vb)} must be broadcastable") from None


def _sdpa_fast_ok(query, key, value, attn_mask, is_causal, dropout_p, enable_gqa, grad):
    """Note [fused attention path]: whether MLX's fused kernel serves this call."""
    if dropout_p > 0.0 or query._device_code == 0 or (grad and query.dtype is _dtype.float32):
        return False
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        return False
    if query.dtype not in (_dtype.float32, _dtype.float16, _dtype.bfloat16):
        return False
    (b, hq, L, e), (bk, hk, S, ek), (bv, hv, Sv, ev) = query._mx.shape, key._mx.shape, value._mx.shape
    if not (b == bk == bv) or hk != hv or hk == 0 or hq % hk or S != Sv or L == 0 or S == 0 or e != ev:
        return False
    if hq != hk and not enable_gqa:
        return False
    if attn_mask is None:
        return True
    if is_causal or (is_grad_enabled() and needs_grad(attn_mask)):
        return False
    ms = attn_mask._mx.shape
    try:  # the mask must not widen the output's batch (torch's output would take its shape)
        return np.broadcast_shapes(ms, (b, hq, L, S)) == (b, hq, L, S)
    except ValueError:
        return False


def _traced_for_backward(fast):
    """fast(q, k, v) built inside a differentiation, as the backward's vjp builds it (Note [Attention forward
    traced for its backward]); None outside a compiled function's trace."""
    if _compile._TRACE is None:
        return None

    def forward(q, k, v):
        return mx.vjp(fast, [q, k, v], [q])[0][0]

    return forward


def _sdpa_fast(query, key, value, attn_mask, is_causal, sc):
    """Note [fused attention path]: MLX's fused attention, differentiable through its vjp."""
    L, S = query._mx.shape[-2], key._mx.shape[-2]
    if attn_mask is None:
        if is_causal and L != S:  # torch's top-left triangle: key 0 stays visible in every row
            tri = mx.tril(mx.ones((L, S), dtype=mx.bool_))

            def fast(q, k, v):
                return mx.fast.scaled_dot_product_attention(q, k, v, scale=sc, mask=tri)
        else:
            mode = "causal" if is_causal else None

            def fast(q, k, v):
                return mx.fast.scaled_dot_product_attention(q, k, v, scale=sc, mask=mode)

        return mlx_op("ScaledDotProductAttention", fast, [query, key, value], forward=_traced_for_backward(fast))
    m = attn_mask._mx
    if m.dtype == mx.bool_:
        dead = mx.logical_not(mx.any(m, axis=-1, keepdims=True))  # Note [fully masked attention rows]
        m = mx.logical_or(m, dead)
    else:
        dead = mx.all(m == -math.inf, axis=-1, keepdims=True)
        m = mx.where(dead, mx.array(0, m.dtype), m)

    def fast(q, k, v):
        out = mx.fast.scaled_dot_product_attention(q, k, v, scale=sc, mask=m)
        return mx.where(dead, mx.array(0, out.dtype), out)

    return mlx_op("ScaledDotProductAttention", fast, [query, key, value], forward=_traced_for_backward(fast))


def _flash_scores(q, k, sc, mask, keep, alive=False):
    """(scores, dead rows, row max) of torch's fused CPU attention, Note [attention arithmetic order]. A dead row
    (every score -inf, Note [fully masked attention rows]) gets row max 0, so exp(scores - max) is 0 along it
    without a pass over the score matrix. alive: no row can be dead (Note [attention rows that cannot die]); dead
    is then None and nothing is spent looking for dead rows."""
    s = mx.matmul(q, mx.swapaxes(k, -1, -2)) * sc
    if mask is not None:
        s = s + mask.astype(s.dtype)
    if keep is not None:
        s = mx.where(keep, s, -math.inf)
    top = mx.max(s, axis=-1, keepdims=True)
    if alive:
        return s, None, top
    dead = top == -math.inf
    return s, dead, mx.where(dead, 0.0, top)


def _row_total(e, dead):
    """The row sums of e, 1 along dead rows (Note [fully masked attention rows])."""
    total = mx.sum(e, axis=-1, keepdims=True)
    return total if dead is None else mx.where(dead, 1.0, total)


_cpu_exp = mx.compile(_cpu_math.exp)


def _scores_exp(x):
    """exp of float32 (..., L, S) attention scores. On MLX's CPU, from cpu_math.MIN_ELEMENTS elements on, Note [CPU
    exponential]'s (MLX's CPU exp is 12 ns an element and up to 64 units in the last place off; torch's fused kernel
    takes two exps of the score matrix forward and one backward), compiled per shape; a decoding step's single
    query row (L = 1), whose key length grows at every step, keeps MLX's exp, as does everything else."""
    if (x.dtype == mx.float32 and x.ndim >= 2 and x.shape[-2] > 1 and x.size >= _cpu_math.MIN_ELEMENTS and
            mx.default_device() == mx.cpu):
        return _cpu_exp(x)
    return _precise.exp(x)


def _flash_forward(q, k, v, sc, mask, keep, probs=False, alive=False):
    """torch's fused CPU forward: out, and with probs=True also the probabilities p = exp(scores - logsumexp) its
    backward recomputes (the same row sums and row max, so equal bit for bit to `_flash_probs`; 0 along dead rows)."""
    s, dead, top = _flash_scores(q, k, sc, mask, keep, alive)
    e = _scores_exp(s - top)
    total = _row_total(e, dead)
    out = mx.matmul(e, v) / total
    return (out, _scores_exp(s - (mx.log(total) + top))) if probs else out


def _flash_probs(q, k, sc, mask, keep, alive=False):
    """p = exp(scores - logsumexp), as torch's fused CPU backward recomputes it (0 along dead rows, with no
    inf or NaN on the way, so a further derivative through it stays finite: Note [double where])."""
    s, dead, top = _flash_scores(q, k, sc, mask, keep, alive)
    lse = mx.log(_row_total(_scores_exp(s - top), dead)) + top
    return _scores_exp(s - lse)


def _flash_grads(q, k, v, g, out, p, sc):
    """torch's fused CPU backward from the probabilities p: (gq, gk, gv)."""
    gv = mx.matmul(mx.swapaxes(p, -1, -2), g)
    gp = mx.matmul(g, mx.swapaxes(v, -1, -2))
    gs = p * (gp - mx.sum(g * out, axis=-1, keepdims=True))
    gq = mx.matmul(gs, k) * sc
    gk = mx.matmul(mx.swapaxes(gs, -1, -2), q) * sc
    return gq, gk, gv


def _flash_core(sc, mask, keep, alive=False):
    """torch's fused CPU attention, forward and backward, Note [attention arithmetic order]."""

    @mx.custom_function
    def core(q, k, v):
        return _flash_forward(q, k, v, sc, mask, keep, alive=alive)

    @core.vjp
    def core_vjp(primals, g, out):
        q, k, v = primals
        return _flash_grads(q, k, v, g, out, _flash_probs(q, k, sc, mask, keep, alive), sc)

    return core


@functools.lru_cache(maxsize=64)
def _flash_core_unmasked(sc):
    """The unmasked fused core for one scale, built once (an mx.custom_function per call costs microseconds)."""
    return _flash_core(sc, None, None, alive=True)


def _half_forward(q, k, v, sc, mask, keep, alive):
    """torch's fused CPU forward for half-type q, k, v (Note [half-type attention]): (output in q's dtype,
    float32 logsumexp)."""
    dt, f32 = q.dtype, mx.float32
    s, dead, top = _flash_scores(q.astype(f32), k.astype(f32), sc, mask, keep, alive)
    e = _scores_exp(s - top)
    total = _row_total(e, dead)
    out = mx.matmul(e.astype(dt).astype(f32), v.astype(f32)) * mx.reciprocal(total)
    return out.astype(dt), mx.log(total) + top


def _half_grads(q, k, v, g, out, lse, sc, mask, keep):
    """torch's fused CPU backward for half types from the forward's logsumexp (Note [half-type attention]):
    (gq, gk, gv) in q's dtype."""
    dt, f32 = q.dtype, mx.float32
    qf, kf, gf = q.astype(f32), k.astype(f32), g.astype(f32)
    s = mx.matmul(qf, mx.swapaxes(kf, -1, -2)) * sc
    if mask is not None:
        s = s + mask.astype(f32)
    if keep is not None:
        s = mx.where(keep, s, -math.inf)
    p = _scores_exp(s - lse)  # lse is finite, 0 along dead rows: 0 wherever the scores are -inf
    dsum = mx.sum(gf * out.astype(f32), axis=-1, keepdims=True)
    # a half-type product is the float32 product rounded once, torch's rounding (_mm: Note [Half-type products on
    # the CPU])
    gv = _mm(mx.swapaxes(p.astype(dt), -1, -2), g)
    gs = (p * (mx.matmul(gf, mx.swapaxes(v.astype(f32), -1, -2)) - dsum)).astype(dt)
    if math.frexp(sc)[0] == 0.5:  # a power of two scales the rounded product exactly
        return _mm(gs, k) * sc, _mm(mx.swapaxes(gs, -1, -2), q) * sc, gv
    gs = gs.astype(f32)
    gq = mx.matmul(gs, kf) * sc
    gk = mx.matmul(mx.swapaxes(gs, -1, -2), qf) * sc
    return gq.astype(dt), gk.astype(dt), gv


def _half_core(sc, mask, keep, alive=False):
    """_flash_core for half types: Note [half-type attention]'s forward and backward, differentiable again (the
    vjp recomputes the logsumexp, which the custom function does not output)."""

    @mx.custom_function
    def core(q, k, v):
        return _half_forward(q, k, v, sc, mask, keep, alive)[0]

    @core.vjp
    def core_vjp(primals, g, out):
        q, k, v = primals
        lse = _half_forward(q, k, v, sc, mask, keep, alive)[1]
        return _half_grads(q, k, v, g, out, lse, sc, mask, keep)

    return core


@functools.lru_cache(maxsize=64)
def _half_core_unmasked(sc):
    """The unmasked half-type core for one scale, built once."""
    return _half_core(sc, None, None, alive=True)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    _sdpa_checks(query, key, value, attn_mask, dropout_p, enable_gqa)
    qs = query._mx.shape
    L, S, E = qs[-2], key._mx.shape[-2], qs[-1]
    sc = (1.0 / math.sqrt(E)) if scale is None else builtins.float(scale)
    float_mask = attn_mask is not None and attn_mask.dtype is not _dtype.bool
    ins = [query, key, value] + ([attn_mask] if float_mask else [])
    grad = is_grad_enabled() and builtins.any(t.requires_grad for t in ins)
    out_dt = query.dtype._mx
    if _sdpa_fast_ok(query, key, value, attn_mask, is_causal, dropout_p, enable_gqa, grad):
        return _sdpa_fast(query, key, value, attn_mask, is_causal, sc)

    # the keep mask (bool mask, causal triangle), fixed before f so the vjp sees constants
    keep = None
    if is_causal:
        keep = mx.tril(mx.ones((L, S), dtype=mx.bool_))
    if attn_mask is not None and not float_mask:
        keep = attn_mask._mx if keep is None else mx.logical_and(keep, attn_mask._mx)
    drop = None
    if dropout_p > 0.0:
        qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
        batch = np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
        if attn_mask is not None:
            batch = np.broadcast_shapes(batch, tuple(attn_mask.shape)[:-2])
        shape = tuple(batch) + (L, S)
        if dropout_p >= 1.0:
            drop = mx.zeros(shape, dtype=mx.bool_)
        else:
            drop = mx.random.bernoulli(1.0 - dropout_p, shape, key=_random.key_for(None))
    gqa = enable_gqa and query.dim() >= 3
    # Note [attention rows that cannot die]: only the causal triangle (or nothing) masks the scores
    alive = attn_mask is None
    # Note [attention arithmetic order]: which of torch's CPU kernels would run
    flash = (query.dim() == 4 and key.dim() == 4 and value.dim() == 4 and dropout_p == 0.0
             and not (float_mask and grad and needs_grad(attn_mask)))
    const_mask = None
    if flash and float_mask:  # a constant of the op, as in torch's fused kernel
        const_mask, ins = attn_mask._mx, ins[:3]
    if is_causal and attn_mask is not None and not flash:  # torch's math path refuses both; its fused one ANDs
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")

    if (flash and grad and not gqa and query.dtype in (_dtype.float32, _dtype.float16, _dtype.bfloat16)
            and key.dtype is query.dtype and value.dtype is query.dtype
            and query._mx.shape[:-2] == key._mx.shape[:-2] == value._mx.shape[:-2] and len(ins) == 3):
        # Note [fused backward]: the backward takes the probabilities from the forward instead of re-running it.
        # Half types compute in float32 and round once, as the composed path below does (Note [opmath]); the
        # residuals (probabilities, float32 output) are what the composed path's vjp would recompute.
        # the compute-dtype q, k, v ride along as residuals: for half types the backward would cast them again
        # (for float32 astype is the array itself, so they cost nothing)
        ct = _opmath(out_dt)
        if ct != out_dt:  # Note [half-type attention]: nothing of (L, S) size is kept for the backward
            hcore = _half_core_unmasked(sc) if const_mask is None and keep is None else \
                _half_core(sc, const_mask, keep, alive)

            def fwd(q, k, v):  # (output, the float32 logsumexp: the backward's only residual)
                return _half_forward(q, k, v, sc, const_mask, keep, alive)

            def bwd(values, lse, out, g):
                q, k, v = values
                return list(_half_grads(q, k, v, g, out, lse, sc, const_mask, keep))

            return fused_op("ScaledDotProductAttention", hcore, ins, fwd, bwd)
        core = _flash_core_unmasked(sc) if const_mask is None and keep is None else \
            _flash_core(sc, const_mask, keep, alive)

        def f(q, k, v):
            return core(q.astype(ct), k.astype(ct), v.astype(ct)).astype(out_dt)

        def fwd(q, k, v):
            q, k, v = q.astype(ct), k.astype(ct), v.astype(ct)
            o, p = _flash_forward(q, k, v, sc, const_mask, keep, probs=True, alive=alive)
            return o.astype(out_dt), (p, o, q, k, v)

        def bwd(values, res, out, g):
            p, o, q, k, v = res
            return [d.astype(out_dt) for d in _flash_grads(q, k, v, g.astype(ct), o, p, sc)]

        return fused_op("ScaledDotProductAttention", f, ins, fwd, bwd)

    def f(q, k, v, *m):
        ct = _opmath(q.dtype)
        half = ct != q.dtype
        if not (flash and half):
            q, k, v = q.astype(ct), k.astype(ct), v.astype(ct)
        if gqa:  # torch: repeat_interleave of key/value heads up to the query's head count
            if k.shape[-3] != q.shape[-3]:
                k = mx.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
            if v.shape[-3] != q.shape[-3]:
                v = mx.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
        if flash:
            qb, kb, vb = q.shape[:-2], k.shape[:-2], v.shape[:-2]
            if not qb == kb == vb:
                batch = tuple(np.broadcast_shapes(qb, kb, vb))
                q = mx.broadcast_to(q, batch + q.shape[-2:])
                k = mx.broadcast_to(k, batch + k.shape[-2:])
                v = mx.broadcast_to(v, batch + v.shape[-2:])
            if half:  # Note [half-type attention]
                core = _half_core_unmasked(sc) if const_mask is None and keep is None else \
                    _half_core(sc, const_mask, keep, alive)
                return core(q, k, v)
            core = _flash_core_unmasked(sc) if const_mask is None and keep is None else \
                _flash_core(sc, const_mask, keep, alive)
            return core(q, k, v).astype(out_dt)
        r = math.sqrt(sc)
        s = mx.matmul(q * r, mx.swapaxes(k * r, -1, -2))
        if m:
            s = s + m[0].astype(ct)
        if keep is not None:
            s = mx.where(keep, s, -math.inf)
        dead = mx.all(s == -math.inf, axis=-1, keepdims=True)  # Note [fully masked attention rows]
        s = mx.where(dead, 0.0, s)
        # softmax's own vjp, p * (g - sum(g * p)), is torch's softmax backward
        e = mx.where(dead, 0.0, _precise.softmax(s, -1))
        if drop is not None:
            e = mx.where(drop, e * (1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else e, 0.0)
        return mx.matmul(e, v).astype(out_dt)

    return mlx_op("ScaledDotProductAttention", f, ins)


# ---------------------------------------------------------------- multi_head_attention_forward


_FUNCTIONAL = []


def _functional():
    """nn.functional (which imports this module), imported at the first call and kept."""
    if not _FUNCTIONAL:
        from . import functional

        _FUNCTIONAL.append(functional)
    return _FUNCTIONAL[0]


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                                 f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _canonical_mask(mask, name, other_type, other_name, target_type, check_other=True):
    """bool masks become float masks (-inf where True), as torch's nn.functional._canonical_mask."""
    if mask is None:
        return None
    if mask.dtype is not _dtype.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:

        _warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
              "instead.", stacklevel=3)
    if mask.dtype is _dtype.bool:
        mask = _creation.zeros(tuple(mask.shape), dtype=target_type, device=mask.device).masked_fill(mask, -math.inf)
    return mask


def _blocks(t, n, E):
    """t's n column blocks of width E (Note [packed in-projection]): one multi-output split node when t records a
    gradient (its backward concatenates the blocks' gradients), else plain narrow views."""
    if t.requires_grad and is_grad_enabled():
        return t.split(E, -1)
    return tuple(t.narrow(-1, i * E, E) for i in range(n))


def _in_projection_packed(q, k, v, w, b):
    """(q, k, v) projected by the packed (3E, E') weight: one product when query, key and value are one tensor,
    two when only key and value are (Note [packed in-projection])."""
    linear = _functional().linear
    E = q.shape[-1]
    if k is v:
        if q is k:
            return _blocks(linear(q, w, b), 3, E)
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        k, v = _blocks(linear(k, w_kv, b_kv), 2, E)
        return linear(q, w_q, b_q), k, v
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    linear = _functional().linear
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, w, shape in (("query", w_q, (Eq, Eq)), ("key", w_k, (Eq, Ek)), ("value", w_v, (Eq, Ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got {tuple(w.shape)}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {name} bias shape of {(Eq,)}, but got {tuple(b.shape)}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _mha_self_inference(x, embed_dim, num_heads, in_w, in_b, out_w, out_b):
    """The attention output (N, L, E) of batch-first self-attention on x, or None when the case is not the one
    Note [self-attention inference path] serves (the caller then takes the general path). A query whose width
    is not embed_dim raises the RuntimeError torch's native path raises there."""
    if type(x) is not Tensor:
        return None
    a = x._mx
    if a.ndim != 3:
        return None
    if is_grad_enabled() and (x.requires_grad or in_w.requires_grad or in_b.requires_grad or out_w.requires_grad
                              or out_b.requires_grad):
        return None
    N, L, E = a.shape
    if E != embed_dim:
        raise RuntimeError(f"passed-in embed_dim {embed_dim} didn't match last dim of query {E}")
    H = num_heads
    D = E // H if H else 0
    dt = x.dtype
    dev = x._device_code
    wi, bi, wo, bo = in_w._mx, in_b._mx, out_w._mx, out_b._mx
    if (not D or D * H != E or wi.shape != (3 * E, E) or bi.shape != (3 * E,) or wo.shape != (E, E)
            or bo.shape != (E,) or not dt.is_floating_point or not N * L):
        return None
    for t in (in_w, in_b, out_w, out_b):
        if t.dtype is not dt or t._device_code != dev:
            return None

    def project(a, wi, bi):
        qkv = mx.addmm(bi, a.reshape(N * L, E), wi.T)
        return [t.reshape(N, L, H, D).transpose(0, 2, 1, 3) for t in mx.split(qkv, 3, axis=-1)]

    def out_project(o, wo, bo):
        return mx.addmm(bo, o.transpose(0, 2, 1, 3).reshape(N * L, E), wo.T).reshape(N, L, E)

    if dev and dt in (_dtype.float32, _dtype.float16, _dtype.bfloat16):
        # the GPU: scaled_dot_product_attention would take MLX's fused kernel here (Note [fused attention path]:
        # 4-D, no mask, no dropout, nothing recording a gradient), so the whole layer is one MLX function
        sc = 1.0 / math.sqrt(D)

        def attention(a, wi, bi, wo, bo):
            q, k, v = project(a, wi, bi)
            return out_project(mx.fast.scaled_dot_product_attention(q, k, v, scale=sc), wo, bo)

        return _new(_scoped(dev, attention, a, wi, bi, wo, bo), dev, dt)
    q, k, v = (_new(t, dev, dt) for t in _scoped(dev, project, a, wi, bi))
    o = scaled_dot_product_attention(q, k, v)
    return _new(_scoped(dev, out_project, o._mx, wo, bo), dev, dt)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    return _mha_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
                        need_weights, attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
                        v_proj_weight, static_k, static_v, average_attn_weights, is_causal)


def _mha_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                 add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
                 need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None,
                 k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                 is_causal=False, batch_first=False):
    """multi_head_attention_forward; batch_first=True takes batched (N, L, E) inputs and returns (N, L, E)
    (Note [batch-first attention])."""
    F = _functional()
    cat, dropout, linear, pad, softmax = _cat, F.dropout, F.linear, F.pad, F.softmax
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False
    if batch_first:
        bsz, tgt_len, embed_dim = query.shape
    else:
        tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[1 if batch_first else 0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # torch: sdpa's is_causal replaces the mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if tuple(key.shape[:2] if use_separate_proj_weight else key.shape) != tuple(
            value.shape[:2] if use_separate_proj_weight else value.shape):
        # torch's messages show the (S, N, E) shapes its batch-first module would have transposed to
        ks, vs = (t.transpose(0, 1).shape if batch_first else t.shape for t in (key, value))
        if use_separate_proj_weight:
            raise AssertionError(f"key's sequence and batch dims {ks[:2]} do not match value's {vs[:2]}")
        raise AssertionError(f"key shape {ks} does not match value shape {vs}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        if batch_first:
            k, v = cat([k, bias_k.repeat(bsz, 1, 1)], 1), cat([v, bias_v.repeat(bsz, 1, 1)], 1)
        else:
            k, v = cat([k, bias_k.repeat(1, bsz, 1)]), cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # Note [attention head layout]: (N*H, L, D) for the explicit path, (N, H, L, D) for the fused one
    fused = not need_weights

    def heads(t, static):
        if static is not None:
            return static.reshape(bsz, num_heads, static.shape[1], head_dim) if fused else static
        if batch_first:
            t = t.reshape(bsz, t.shape[1], num_heads, head_dim).transpose(1, 2)
            return t if fused else t.reshape(bsz * num_heads, t.shape[2], head_dim)
        if fused:
            return t.reshape(t.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        return t.reshape(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)

    for name, static in (("k", static_k), ("v", static_v)):
        if static is not None:
            if static.shape[0] != bsz * num_heads:
                raise AssertionError(f"expecting static_{name}.size(0) of {bsz * num_heads}, but got "
                                     f"{static.shape[0]}")
            if static.shape[2] != head_dim:
                raise AssertionError(f"expecting static_{name}.size(2) of {head_dim}, but got {static.shape[2]}")
    q, k, v = heads(q, None), heads(k, static_k), heads(v, static_v)

    if add_zero_attn:
        zshape = tuple(k.shape[:-2]) + (1, head_dim)
        k = cat([k, _creation.zeros(zshape, dtype=k.dtype, device=k.device)], -2)
        v = cat([v, _creation.zeros(zshape, dtype=v.dtype, device=v.device)], -2)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[-2]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        E = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / builtins.float(E))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        scores = q_scaled.bmm(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores  # torch.baddbmm(attn_mask, q_scaled, k^T)
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.bmm(v)
        if batch_first:
            out = out.reshape(bsz, num_heads, tgt_len, head_dim).transpose(1, 2).reshape(bsz * tgt_len, embed_dim)
        else:
            out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.reshape(*((bsz, tgt_len) if batch_first else (tgt_len, bsz)), out.shape[1])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    if batch_first:
        out = out.transpose(1, 2).reshape(bsz * tgt_len, embed_dim)
    else:
        out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape(*((bsz, tgt_len) if batch_first else (tgt_len, bsz)), out.shape[1])
    if not is_batched:
        out = out.squeeze(1)
    return out, None


# ---------------------------------------------------------------- embedding_bag


def _renorm_rows(weight, idx, max_norm, norm_type):
    """torch's embedding_renorm_: rows looked up whose norm exceeds max_norm are scaled down, in place."""
    rows = np.unique(idx)
    if rows.size == 0:
        return
    with no_grad():
        w = weight._mx
        r = mx.array(rows.astype(np.int64))
        sel = w[r].astype(_opmath(w.dtype))
        norms = mx.power(mx.sum(mx.power(mx.abs(sel), norm_type), axis=1, keepdims=True), 1.0 / norm_type)
        scale = mx.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        new = mx.array(w)
        new[r] = (sel * scale).astype(w.dtype)
        weight._write(new)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if weight.dtype is _dtype.int64 and input.dtype.is_floating_point:

        _warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
              "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
              stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        n_bags, width = input.shape
        off = np.arange(0, n_bags * width, builtins.max(width, 1), dtype=np.int64)[:n_bags]
        include_last_offset = False
        psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = np.asarray(_mx_evaluated(offsets._mx.astype(mx.int64))).reshape(-1)
        psw = per_sample_weights
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           "Long, Int")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse gradients are not supported by mlx_compat")

    idx = np.asarray(_mx_evaluated(input._mx.astype(mx.int64))).reshape(-1)
    n = idx.size
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise RuntimeError("Expected i < index_size to be true, but got false.  (Could this error message be "
                           "improved?  If so, please report an enhancement request to PyTorch.)")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if off.size and off[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {off[0]}")
    if off.size and off[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                           f"{off[-1]}")
    if include_last_offset:
        if off.size < 1:
            raise RuntimeError("include_last_offset: number of offsets should be at least 1")
        starts, ends = off[:-1], off[1:]
    else:
        starts, ends = off, np.append(off[1:], n).astype(np.int64)
    if np.any(ends < starts):
        raise RuntimeError("offsets has to be a monotonically increasing sequence")
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        if not 0 <= padding_idx < num:
            raise AssertionError("padding_idx must be within num_embeddings")

    # Note [embedding_bag bags]: a padded (bags, longest, ) index block, `valid` marks real members
    B = starts.size
    lengths = ends - starts
    longest = builtins.int(lengths.max()) if B else 0
    pos = starts[:, None] + np.arange(builtins.max(longest, 1))[None, :]
    valid = np.arange(builtins.max(longest, 1))[None, :] < lengths[:, None]
    pos = np.where(valid, pos, 0) if n else np.zeros_like(pos)
    rows_idx = idx[pos] if n else np.zeros(pos.shape, dtype=np.int64)
    if padding_idx is not None:
        valid = valid & (rows_idx != padding_idx)
    count = valid.sum(axis=1)
    D = weight.shape[1]
    ridx, vmask, pos_mx = mx.array(rows_idx), mx.array(valid), mx.array(pos)
    freq = None
    if scale_grad_by_freq and n:  # Note [embedding_bag scale_grad_by_freq]
        counts = np.bincount(idx, minlength=num)
        sorted_idx = np.sort(idx)
        uniq = np.unique(idx)
        divisor = np.zeros(num, dtype=np.int64)
        divisor[uniq] = counts[sorted_idx[np.arange(uniq.size)]]
        freq = mx.array(divisor[rows_idx].astype(np.float32))
    ins = [weight] + ([psw] if psw is not None else [])
    has_psw = psw is not None

    def f(w, *p):
        ct = _opmath(w.dtype)
        if B == 0 or n == 0:
            return mx.zeros((B, D), dtype=w.dtype)
        g = mx.take(w, ridx.reshape(-1), axis=0).reshape(B, -1, D).astype(ct)
        if freq is not None:  # gradient / frequency of the index in the batch; the value is unchanged
            sg = mx.stop_gradient(g)
            g = sg + (g - sg) / freq[..., None].astype(ct)
        if has_psw:
            g = g * mx.take(p[0].astype(ct), pos_mx.reshape(-1)).reshape(B, -1, 1)
        m = vmask[..., None]
        if mode == "max":
            filled = mx.where(m, g, -math.inf)
            am = mx.argmax(filled, axis=1, keepdims=True)
            best = mx.take_along_axis(g, mx.stop_gradient(am), axis=1)[:, 0]
            return mx.where(mx.array(count > 0)[:, None], best, 0.0).astype(w.dtype)
        s = mx.sum(mx.where(m, g, 0.0), axis=1)
        if mode == "mean":
            s = s / mx.array(np.maximum(count, 1).astype(np.float32)).astype(ct)[:, None]
        return s.astype(w.dtype)

    return mlx_op("EmbeddingBagBackward0", f, ins)
