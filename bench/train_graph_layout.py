"""How one eager training step's MLX graph reads memory: mlx_compat against native MLX, for a convolutional network.

The graph of one eager step (forward, loss, backward: the loss and every parameter's gradient, before the optimizer
evaluates them) is exported with mx.export_to_dot and read as primitives and the arrays between them. For each
side: the primitives that run a kernel (not views: Transpose, Reshape, Broadcast, ...), how many of them read an
input through an odd number of Transposes (a permuted, strided view: a kernel that reads it walks memory out of
order, which on a GPU means uncoalesced loads, or a copy first), and the count of each primitive type. That count
overstates: an elementwise kernel over one dense operand (relu, a cast, a comparison with a scalar) writes its
result in that operand's memory order, as MLX's contiguous loops do, so a Transpose of its result is row-contiguous
again. The "strided" count follows memory order through those kernels (by primitive name and operand count: the
dot export has no shapes) and counts only kernels that read permuted memory out of order, a Reshape's copy
included. Native MLX keeps every activation NHWC and contiguous; mlx_compat's convolutions return the NCHW view of
an NHWC result (Note [channels-last activations]), and on a GPU a training step keeps them so (Note
[Channels-last gradients]).

Usage: python bench/train_graph_layout.py [--model resnet18] [--shape 2x3x32x32] [--device cpu|cuda] [--top 25]
--device cuda traces our side's GPU code paths under the package's fake GPU (Note [Fake GPU] in csrc/module.c).
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__))]

import mlx.core as mx  # noqa: E402

# primitives that run no kernel (views and shape bookkeeping)
VIEWS = {"Reshape", "ExpandDims", "Squeeze", "Broadcast", "BroadcastAxes", "Transpose", "Slice", "AsStrided",
         "StopGradient", "Depends", "Flatten", "Unflatten", "Split", "View", "NumberOfElements"}


def graph(arrays):
    """(labels {prim id: name}, inputs {prim id: [array ids]}, producer {array id: prim id}) of the graph
    producing `arrays`, unevaluated."""
    with tempfile.NamedTemporaryFile("r", suffix=".dot") as f:
        mx.export_to_dot(f.name, *arrays)
        text = f.read()
    labels = {k: ("Compiled" if v.startswith("Compiled") else v)
              for k, v in re.findall(r'(\d+) \[label ="([^"]+)", shape=rectangle\]', text)}
    inputs, producer = collections.defaultdict(list), {}
    for a, b in re.findall(r'^"?(\w+)"? -> "?(\w+)"?$', text, re.M):
        if b in labels:
            inputs[b].append(a)
        elif a in labels:
            producer[b] = a
    return labels, inputs, producer


# elementwise kernels that MLX runs as a contiguous loop over their one dense operand (the others broadcast
# scalars), writing the result in that operand's memory order; Copy shares its input's buffer and strides
LAYOUT_KEEPING = {"Copy", "AsType", "Abs", "Negative", "Exp", "Log", "Sqrt", "Rsqrt", "Square", "Sigmoid", "Tanh",
                  "Maximum", "Minimum", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual",
                  "Multiply", "Divide", "Add", "Subtract", "Select", "Power", "LogicalNot", "StopGradient"}


def summary(arrays):
    """Counter of primitive names, kernel-running count, and two counts of kernels reading a permuted view: by view
    chain (an input reached from an odd number of Transposes through views only), and by memory order (`strided`:
    the parity also followed through the elementwise kernels that keep their one dense operand's memory order, and
    those kernels not counted; a Reshape of a permuted array counted, as MLX copies it)."""
    labels, inputs, producer = graph(arrays)

    def transposes(arr, depth=0):
        """Transposes on the chain of views that makes arr (0 when a kernel made it)."""
        p = producer.get(arr)
        if p is None or depth > 8 or labels[p] not in VIEWS or not inputs[p]:
            return 0
        return (labels[p] == "Transpose") + transposes(inputs[p][0], depth + 1)

    def permuted(arr):
        # the network's transposes are pairs of inverse layout permutations (N...C <-> NC...), so an odd count
        # leaves a permuted array and an even one the original order
        return transposes(arr) % 2 == 1

    def dense(p):
        """The inputs of kernel p that are not broadcasts (of scalars or per-channel operands)."""
        return [a for a in inputs[p] if producer.get(a) is None or labels[producer[a]] not in ("Broadcast",
                                                                                                 "BroadcastAxes")]

    memo = {}

    def order(arr):
        """1 when arr's memory is in the permuted order, 0 in its own (approximately: by the rules above)."""
        if arr in memo:
            return memo[arr]
        p = producer.get(arr)
        r = 0
        if p is not None and inputs[p]:
            name = labels[p]
            if name in VIEWS:
                r = (name == "Transpose") ^ order(inputs[p][0])
                if name == "Reshape" and r:
                    r = 0  # MLX copies a non-row-contiguous array to reshape it
            elif name in LAYOUT_KEEPING and len(dense(p)) == 1:
                r = order(dense(p)[0])
        memo[arr] = r
        return r

    kernels = [p for p, name in labels.items() if name not in VIEWS]
    by_chain = collections.Counter(labels[p] for p in kernels if any(permuted(a) for a in inputs[p]))
    strided = collections.Counter(
        labels[p] for p in labels
        if not (labels[p] in LAYOUT_KEEPING and len(dense(p)) == 1)
        and (labels[p] not in VIEWS or labels[p] == "Reshape") and any(order(a) for a in inputs[p]))
    return collections.Counter(labels.values()), len(kernels), by_chain, strided


def ours(model, shape, device):
    import mlx_compat as torch
    import workloads as W
    torch.manual_seed(0)
    if model == "resnet18":
        m = W._ours_resnet18(10).to(device)
    else:
        from mlx_compat.vision.models import resnet50
        m = resnet50(num_classes=10).to(device)
    x = torch.randn(*shape).to(device)
    y = torch.randint(0, 10, (shape[0],)).to(device)
    for _ in range(2):  # a warm step first (weight caches, plans), then the counted one
        m.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        arrays = [loss._mx] + [p.grad._mx for p in m.parameters() if p.grad is not None]
        if _ == 0:
            mx.eval(arrays)
    return summary(arrays)


def native(model, shape):
    import mlx.nn as mnn
    import workloads as W
    mx.random.seed(0)
    if model == "resnet18":
        m = W.NativeResNet18(10)
    else:
        import suite_models as S
        m = S.MResNet(S.MBottleneck, [3, 4, 6, 3], num_classes=10)
    mx.eval(m.parameters())
    n, c, h, w = shape
    x, y = mx.random.normal((n, h, w, c)), mx.random.randint(0, 10, (n,))
    loss, grads = mnn.value_and_grad(m, lambda m, x, y: mnn.losses.cross_entropy(m(x), y, reduction="mean"))(m, x, y)
    from mlx.utils import tree_flatten
    return summary([loss] + [g for _, g in tree_flatten(grads)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("resnet18", "resnet50"), default="resnet18")
    ap.add_argument("--shape", default="2x3x32x32")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    sys.setrecursionlimit(100000)  # summary's memory-order walk follows whole backward chains
    if args.device == "cuda":
        os.environ.setdefault("MLX_COMPAT_FAKE_GPU", "1")
    shape = tuple(int(v) for v in args.shape.split("x"))
    (co, ko, so, to), (cn, kn, sn, tn) = ours(args.model, shape, args.device), native(args.model, shape)
    print(f"{args.model} eager training step {args.shape}, our side on {args.device!r}: graph of the loss and "
          f"the parameters' gradients")
    print(f"primitives ours {sum(co.values())} / native {sum(cn.values())}; kernel-running ours {ko} / native {kn}; "
          f"kernels reading a permuted view ours {sum(so.values())} / native {sum(sn.values())}; reading "
          f"permuted memory strided ours {sum(to.values())} / native {sum(tn.values())}")
    print("\n| primitive | ours | native | ours, reading a permuted view | native, reading a permuted view "
          "| ours, strided | native, strided |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k in sorted(set(co) | set(cn), key=lambda k: (-(co[k] + cn[k]), k))[:args.top]:
        print(f"| {k} | {co[k]} | {cn[k]} | {so[k]} | {sn[k]} | {to[k]} | {tn[k]} |")


if __name__ == "__main__":
    main()
