"""MLX primitives of one compiled ResNet-18 inference call (eval mode, no_grad, torch.compile of the module) against
native MLX's mx.compile of the same network (bench/workloads.py's NativeResNet18, eval mode), by primitive type,
counted from the compiled graph: the outputs of the mx.compile'd function's second call (which replays the traced,
simplified and fused tape; `Compiled` nodes are fused elementwise runs) are exported with mx.export_to_dot before
anything evaluates them. Each primitive costs host time in the compiled call (about 2.5-2.8 us on this CPU) and
those that run kernels cost a launch on a GPU; views (Transpose, Reshape, Slice, Broadcast) run none there.

Usage: python bench/r18_graph_counts.py [--sizes 1x3x8x8,2x3x32x32] [--top 30] [--device cuda]
--device cuda counts our side's graph on 'cuda' under the package's fake GPU (Note [Fake GPU]: the GPU device's
code paths, run on the CPU), as a GPU would trace it; native MLX's graph is the same on every device.
Before -> after a change: run it with PYTHONPATH at each tree."""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE]

import mlx.core as mx  # noqa: E402

# primitives that run no kernel (views, shape bookkeeping; Contiguous of a row-contiguous array, which is what
# batch norm's CPU fusion barrier gives it, shares the buffer); a Reshape of a strided view copies, though
NO_KERNEL = {"Reshape", "ExpandDims", "Squeeze", "Broadcast", "BroadcastAxes", "Transpose", "Slice", "AsStrided",
             "StopGradient", "Depends", "Flatten", "Unflatten", "Split", "View", "NumberOfElements", "Contiguous"}


def count(arrays):
    """Counter of primitive names in the (unevaluated) graph producing `arrays`; fused runs as 'Compiled'."""
    with tempfile.NamedTemporaryFile("r", suffix=".dot") as f:
        mx.export_to_dot(f.name, *arrays)
        text = f.read()
    names = re.findall(r'\[label ="([^"]+)", shape=rectangle\]', text)
    return collections.Counter("Compiled" if n.startswith("Compiled") else n for n in names)


class _Recorder:
    """Wraps mx.compile so that each call of a compiled function counts its outputs' graph (before anything
    evaluates them); `last` holds the latest count."""

    def __init__(self):
        self.last = None
        self.real = mx.compile

    def __enter__(self):
        def compile_(fn, *a, **kw):
            cf = self.real(fn, *a, **kw)

            def wrapped(*args, **kwargs):
                out = cf(*args, **kwargs)
                flat = [o for o in (out if isinstance(out, (list, tuple)) else [out]) if isinstance(o, mx.array)]
                self.last = count(flat)
                return out
            return wrapped
        mx.compile = compile_
        return self

    def __exit__(self, *exc):
        mx.compile = self.real


def ours(shape, device="cpu"):
    import mlx_compat as torch
    import workloads as W
    torch.manual_seed(0)
    with _Recorder() as rec:
        fn = torch.compile(W._ours_resnet18(1000).eval().to(device))
        x = torch.randn(*shape).to(device)
        with torch.no_grad():
            for _ in range(3):  # trace (and retrace with derived inputs), then the replayed graph
                mx.eval(fn(x)._mx)
    return rec.last


def native(shape):
    import workloads as W
    mx.random.seed(0)
    with _Recorder() as rec:
        m = W._eval(W.NativeResNet18(1000))
        mx.eval(m.parameters())
        fn = mx.compile(m, inputs=m.state)
        n, c, h, w = shape
        x = mx.random.normal((n, h, w, c))
        for _ in range(3):
            mx.eval(fn(x))
    return rec.last


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1x3x8x8,2x3x32x32")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args()
    if args.device == "cuda":
        os.environ.setdefault("MLX_COMPAT_FAKE_GPU", "1")
    import mlx_compat
    print(f"ResNet-18 compiled inference graph, our side on {args.device!r} (mlx_compat at "
          f"{os.path.dirname(mlx_compat.__file__)})")
    for s in args.sizes.split(","):
        shape = tuple(int(v) for v in s.split("x"))
        o, n = ours(shape, args.device), native(shape)
        ko = sum(v for k, v in o.items() if k not in NO_KERNEL)
        kn = sum(v for k, v in n.items() if k not in NO_KERNEL)
        print(f"\n## input {s}: primitives ours {sum(o.values())} / native {sum(n.values())}; "
              f"kernel-running (not views) ours {ko} / native {kn}")
        print("| primitive | ours | native |")
        print("| --- | --- | --- |")
        for k in sorted(set(o) | set(n), key=lambda k: (-(o[k] + n[k]), k))[:args.top]:
            print(f"| {k} | {o[k]} | {n[k]} |")


if __name__ == "__main__":
    main()
