"""Host instructions to build eager graphs (issue 15), counted by callgrind so that the count does not move with
the machine's load: one ViT-B/16 encoder layer (torchvision's EncoderBlock against the native MLX layer of
bench/suite_models.py), inference (eval, no_grad) and forward + backward, N calls each; random weights (the
graph's construction does not depend on them) and no torch import, so the run stays short under valgrind.
Each phase is bracketed by os.getppid() calls, at which callgrind dumps its counters:
    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.%p \\
        python bench/bench_eager_instr.py [N]
then `python bench/bench_eager_instr.py --report /tmp/cg.PID N` prints instructions per call of each phase."""
from __future__ import annotations

import os
import re
import sys

PHASES = ["ours inference", "native inference", "ours forward+backward", "native forward+backward"]


def run(n):
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [_here, os.path.dirname(_here)]
    import mlx.core as mx
    import mlx.nn as mnn
    import mlx_compat as mc
    from mlx_compat.vision.models.vision_transformer import EncoderBlock
    from suite_models import MViTLayer
    ob = EncoderBlock(12, 768, 3072, 0.0, 0.0)
    nb = MViTLayer(768, 12, 3072)
    mx.eval(nb.parameters())
    h = mc.randn(1, 197, 768)
    nh = mx.random.normal((1, 197, 768))
    hg = mc.randn(1, 197, 768, requires_grad=True)
    grad = mnn.value_and_grad(nb, lambda: nb(nh).sum())

    def ours_inf():
        with mc.no_grad():
            return ob(h)

    def ours_train():
        out = ob(hg)
        out.sum().backward()
        return out

    ob.eval(), nb.eval()
    calls = [ours_inf, lambda: nb(nh)]
    for f in calls:  # warm-up
        f(), f()
    os.getppid()
    for f in calls:
        for _ in range(n):
            f()
        os.getppid()
    ob.train(), nb.train()
    calls = [ours_train, grad]
    for f in calls:
        f(), f()
    os.getppid()
    for f in calls:
        for _ in range(n):
            f()
        os.getppid()


def report(prefix, n):
    from timing import callgrind_dump_totals
    # dumps 1..6: setup up to the first getppid, ours inference, native inference, the training warm-up,
    # ours forward+backward, native forward+backward (the rest of the run is the file without a number)
    body = callgrind_dump_totals(prefix)
    picks = {PHASES[0]: body[1], PHASES[1]: body[2], PHASES[2]: body[4], PHASES[3]: body[5]}
    for k, v in picks.items():
        print(f"{k:26s} {v / n / 1e3:10.1f} k instructions per call")
    print(f"ours / native: inference {picks[PHASES[0]] / picks[PHASES[1]]:.2f}x, "
          f"forward+backward {picks[PHASES[2]] / picks[PHASES[3]]:.2f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        report(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 20)
    else:
        run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
