"""Primitives and estimated GPU kernels of one compiled GPT-2 training step (AdamW): mlx_compat.compile of the
whole step against native MLX's mx.compile of the same step (bench_suite.py's GPT-2 rows, models from
suite_models.build), counted from the compiled graph without evaluating it and without a GPU.

It runs under the package's fake GPU (Note [Fake GPU]: our side on 'cuda', with the GPU device's code paths). There
mx.fast's kernels would run their CPU fallbacks, which are compositions of many primitives, so by default both
sides see stand-ins for mx.fast.scaled_dot_product_attention and mx.fast.layer_norm instead: one node per forward
and per backward (an mx.custom_function returning its inputs; never evaluated), as a GPU runs one flash-attention
kernel forward and one backward, one layer-norm kernel forward and one backward plus two row reductions for the
weight and bias gradients. The backward stand-in of attention takes the forward's output as an input, as MLX's
does. One difference is not modelled: mlx_compat's backward re-traces the attention forward inside mx.vjp (Note
[fused attention path]); the stand-in's re-traced forward is the same primitive on the same inputs, so compile
merges it with the first, while MLX's CUDA forward traced for differentiation also outputs its row statistics and
is then a second kernel: on the GPU ours likely runs one more attention forward per layer than counted here.
Also: MLX 0.32's CUDA attention kernels (forward and backward) serve half types; a float32 step's native attention
is MLX's fallback composition on the GPU too, so in float32 the stand-ins undercount native's kernels (and ours
trains float32 attention on its own composition, Note [fused attention path]). --no-stand-ins counts the fallbacks
instead.

Kernel estimate: every node of the compiled graph (fused elementwise runs are one `Compiled` node, as on the GPU)
except those MLX runs without a kernel (views and shape changes: Reshape, Broadcast, Slice, Transpose, ...).
It is an estimate: the GPU backend adds copies for non-contiguous inputs and splits some reductions, which the
graph does not show; both sides are counted the same way, so their ratio is what to read. Before -> after a change:
run it with PYTHONPATH at each tree.

Our side's CPU-only routes (model_gpu_paths) are switched off, as a GPU never takes them. Still not modelled: the
bfloat16 AdamW update is one CUDA kernel per parameter on the GPU (Note [Reduced-precision Adam on CUDA]) but the
composed update here; --no-update counts the forward, loss and backward alone (the gradients as outputs).

Usage: python bench/gpt2_graph_counts.py [--dtype float32|bfloat16] [--layers 12] [--no-stand-ins] [--no-update] [--top 15]
"""
from __future__ import annotations

import argparse
import collections
import copy
import os
import re
import sys
import tempfile

os.environ.setdefault("MLX_COMPAT_FAKE_GPU", "1")
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE]

import mlx.core as mx  # noqa: E402
import mlx.nn as mnn  # noqa: E402

# primitives that MLX's GPU backends run without a kernel (views, shape bookkeeping, graph plumbing)
NO_KERNEL = {"Reshape", "ExpandDims", "Squeeze", "Broadcast", "BroadcastAxes", "Transpose", "Slice", "AsStrided",
             "StopGradient", "Depends", "Flatten", "Unflatten", "Split", "View", "NumberOfElements",
             "CustomTransforms"}
# the stand-ins' marker primitives (scans a GPT-2 step never runs otherwise) -> (what they stand for, nodes per kernel)
STAND_INS = {"CumMax": ("attention forward", 1), "CumMin": ("attention backward", 3),
             "CumProd": ("layer norm forward", 1), "CumLogAddExp": ("layer norm backward", 1)}


def install_stand_ins():
    """Replace mx.fast's attention and layer norm by marker forwards and backwards (see the module docstring): the
    attention backward is three marker nodes (dq from the forward's output, dk, dv from the cotangent; distinct, so
    compile's common-subexpression pass keeps all three) standing for one kernel; the layer-norm backward is a
    marker for dx plus the two row sums MLX's own vjp runs for the weight and bias gradients."""

    @mx.custom_function
    def attn(q, k, v):
        return mx.cummax(q, axis=-1)

    @attn.vjp
    def _attn_vjp(primals, cot, out):
        return mx.cummin(out, axis=-1), mx.cummin(cot, axis=-1), mx.cummin(cot, axis=-1, reverse=True)

    def sdpa(q, k, v, scale=None, mask=None, sinks=None, stream=None):
        assert q.shape == k.shape == v.shape, "the stand-in serves self-attention of one width"
        return attn(q, k, v)

    @mx.custom_function
    def ln(x, w, b):
        return mx.cumprod(x, axis=-1)

    @ln.vjp
    def _ln_vjp(primals, cot, out):
        x, w, b = primals
        lead = tuple(range(x.ndim - 1))
        return mx.logcumsumexp(cot, axis=-1), mx.sum(cot * x, axis=lead), mx.sum(cot, axis=lead)

    def layer_norm(x, weight, bias, eps, stream=None):
        d = x.shape[-1]
        w = weight if weight is not None else mx.ones((d,), x.dtype)
        b = bias if bias is not None else mx.zeros((d,), x.dtype)
        return ln(x, w, b)

    mx.fast.scaled_dot_product_attention, mx.fast.layer_norm = sdpa, layer_norm


def model_gpu_paths():
    """The fake GPU computes on MLX's CPU, where some of our formulas take CPU-only routes that a GPU never takes:
    half-type products in float32 (Note [Half-type products on the CPU]) and the arithmetic exp, gelus, silu and
    attention exps of _ops/cpu_math.py. Switch those off so that our side's graph is the one a GPU traces."""
    from mlx_compat._ops import cpu_math, linalg
    cpu_math.takes = lambda t: False
    cpu_math.MIN_ELEMENTS = 1 << 62
    linalg._HALF = ()


def count(arrays):
    """Counter of primitive names in the graph that produces `arrays` (not evaluated)."""
    with tempfile.NamedTemporaryFile("r", suffix=".dot") as f:
        mx.export_to_dot(f.name, *arrays)
        text = f.read()
    return collections.Counter(re.findall(r'\[label ="([^"]+)", shape=rectangle\]', text))


def summary(c):
    """(primitives, estimated kernels, kernels standing for mx.fast's attention and layer norm)."""
    prims = sum(c.values())
    fast = sum(c.get(name, 0) // per for name, (_, per) in STAND_INS.items())
    kernels = sum(n for name, n in c.items() if name not in NO_KERNEL and name not in STAND_INS) + fast
    return prims, kernels, fast


def _kind(name):
    if name in STAND_INS:
        return "mx.fast " + STAND_INS[name][0] + " (stand-in)"
    return "Compiled (fused elementwise)" if name.startswith("Compiled") else name


def ours_graph(w, om, ids, update=True):
    import mlx_compat as mc
    F = mc.nn.functional
    m = copy.deepcopy(om).to("cuda")
    if hasattr(m, "lm_head"):  # the device move makes one Parameter per attribute: tie the head again, as on the CPU
        m.lm_head.weight = m.transformer.wte.weight
    opt = mc.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
    params = list(m.parameters())

    def step(x):
        opt.zero_grad()
        logits = m(x)["logits"]
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        loss.backward()
        if not update:
            return loss, [p.grad for p in params]
        opt.step()
        return loss

    fn = mc.compile(step, fullgraph=True)
    x = mc.from_numpy(ids).to("cuda")
    mc.eval(fn(x))  # the first calls trace and run (a trace reads the targets: Note [Target bounds on the host])
    mc.eval(fn(x))
    # the next call runs the compiled graph; its one evaluation of every output (state and results) is caught
    # before it happens, so the graph is still there to count
    evals, real = [], mc._C._eval
    mc._C._eval = lambda arrays: evals.append(list(arrays))
    try:
        fn(x)
    finally:
        mc._C._eval = real
    return count(max(evals, key=len))


def native_graph(w, nm, ids, update=True):
    import mlx.optimizers as mxopt
    from suite_models import native_clone
    m = native_clone(w, nm)
    opt = mxopt.AdamW(learning_rate=1e-4, weight_decay=0.01, bias_correction=True)

    def n_loss(model, x):
        logits = model(x)[0]
        return mnn.losses.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                        reduction="mean")

    grad_fn = mnn.value_and_grad(m, n_loss)
    state = [m.state, opt.state]

    def nstep(x):
        loss, grads = grad_fn(m, x)
        if not update:
            return loss, grads
        opt.update(m, grads)
        return loss

    fn = mx.compile(nstep, inputs=state, outputs=state)
    x = mx.array(ids)
    mx.eval(fn(x), state)
    out = fn(x)
    return count([out, state] if update else list(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--seq", type=int, default=16, help="tokens per row (the graph does not depend on it)")
    ap.add_argument("--vocab", type=int, default=1024, help="vocabulary (the graph does not depend on it)")
    ap.add_argument("--no-stand-ins", action="store_true")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--no-update", action="store_true",
                    help="the step without the optimizer update: forward, loss and backward, the gradients as outputs")
    args = ap.parse_args()
    if not args.no_stand_ins:
        install_stand_ins()
    import mlx_compat as mc
    model_gpu_paths()
    from suite_models import GPT2_SMALL, Workload, build
    cfg = dict(GPT2_SMALL, n_layer=args.layers, seq=args.seq, vocab=args.vocab)
    w = Workload("GPT-2", "gpt2", 2, "adamw", cfg=cfg, dtype=args.dtype)
    _, om, nm, batch = build(w, "cpu")
    ids = batch["ids"]
    upd = not args.no_update
    rows = [("mlx_compat compiled", ours_graph(w, om, ids, upd)), ("native MLX mx.compile", native_graph(w, nm, ids, upd))]
    print(f"GPT-2 compiled {'AdamW step' if upd else 'step without its update'}, {args.layers}L d768 12h, {args.dtype}, our side on 'cuda' under the fake GPU "
          f"(mlx_compat at {os.path.dirname(mc.__file__)}; mx.fast "
          f"{'fallbacks counted' if args.no_stand_ins else 'attention/layer norm as one-kernel stand-ins'})")
    print("| side | primitives | est. GPU kernels | of which mx.fast attention/layer norm |")
    print("| --- | --- | --- | --- |")
    for label, c in rows:
        print("| {} | {} | {} | {} |".format(label, *summary(c)))
    kinds = [collections.Counter() for _ in rows]
    for k, (_, c) in zip(kinds, rows):
        for name, n in c.items():
            if name not in NO_KERNEL:
                k[_kind(name)] += n // STAND_INS[name][1] if name in STAND_INS else n
    names = sorted(set(kinds[0]) | set(kinds[1]), key=lambda n: -(kinds[0][n] + kinds[1][n]))
    print(f"\nkernel-running primitives, most frequent first (top {args.top}):")
    print("| primitive | ours | native |")
    print("| --- | --- | --- |")
    for n in names[:args.top]:
        print(f"| {n} | {kinds[0][n]} | {kinds[1][n]} |")


if __name__ == "__main__":
    main()
