"""The MLP 784-128-10 b64 Adam training step of bench_suite.py (issue 15), mlx_compat against native MLX, eager
and compiled, without importing torch (so it stays short under valgrind). Random weights and data: the step's
host work and kernels do not depend on them.

Timing (interleaved medians, OMP_NUM_THREADS=1 recommended):
    python bench/profile_mlp_step.py --time [REPEATS]
Evaluations per step (mx.eval / async_eval / item calls the eager step makes):
    python bench/profile_mlp_step.py --count
Host instructions by callgrind (each phase bracketed by os.getppid() calls, at which callgrind dumps counters):
    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.%p \\
        python bench/profile_mlp_step.py [N]
    python bench/profile_mlp_step.py --report /tmp/cg.PID [N]
"""
from __future__ import annotations

import os
import sys

PHASES = ["ours eager", "native eager", "ours compiled", "native compiled"]


def variants(dtype="float32"):
    """[(name, run)] for the four phases; run() does one evaluated step (the loss read back, as the suite does)."""
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [_here, os.path.dirname(_here)]
    import mlx.core as mx
    import mlx.nn as mnn
    import mlx.optimizers as mxopt
    import numpy as np
    import mlx_compat as mc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    F = mc.nn.functional
    dt = getattr(mc, dtype)
    ox, oy = mc.from_numpy(x).to(dt), mc.from_numpy(y)
    nx, ny = mx.array(x).astype(getattr(mx, dtype)), mx.array(y)
    out = []
    for compiled in (False, True):
        m = mc.nn.Sequential(mc.nn.Linear(784, 128), mc.nn.ReLU(), mc.nn.Linear(128, 10)).to(dt)
        opt = mc.optim.Adam(m.parameters(), lr=1e-3)

        def step(x, y, m=m, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = mc.compile(step, fullgraph=True) if compiled else step

        def run(fn=fn):
            mc.eval(fn(ox, oy))

        out.append((f"ours {'compiled' if compiled else 'eager'}", run))
    for compiled in (False, True):
        m = mnn.Sequential(mnn.Linear(784, 128), mnn.ReLU(), mnn.Linear(128, 10))
        m.set_dtype(getattr(mx, dtype))
        mx.eval(m.parameters())
        opt = mxopt.Adam(learning_rate=1e-3, bias_correction=True)
        grad_fn = mnn.value_and_grad(m, lambda m, x, y: mnn.losses.cross_entropy(m(x), y, reduction="mean"))
        state = [m.state, opt.state]

        def nstep(x, y, m=m, opt=opt, grad_fn=grad_fn):
            loss, grads = grad_fn(m, x, y)
            opt.update(m, grads)
            return loss

        fn = mx.compile(nstep, inputs=state, outputs=state) if compiled else nstep

        def run(fn=fn, state=state):
            mx.eval(fn(nx, ny), state)

        out.append((f"native {'compiled' if compiled else 'eager'}", run))
    return [dict(out)[p] for p in PHASES]


def run_callgrind(n):
    runs = variants()
    for f in runs:  # warm-up (compiles)
        f(), f(), f()
    os.getppid()
    for f in runs:
        for _ in range(n):
            f()
        os.getppid()


def report(prefix, n):
    from timing import callgrind_dump_totals
    totals = callgrind_dump_totals(prefix)
    # dumps: setup up to the first getppid, then one per phase
    picks = dict(zip(PHASES, totals[1:5]))
    for k, v in picks.items():
        print(f"{k:18s} {v / n / 1e3:10.1f} k instructions per step")
    print(f"ours / native: eager {picks[PHASES[0]] / picks[PHASES[1]]:.3f}x, "
          f"compiled {picks[PHASES[2]] / picks[PHASES[3]]:.3f}x")


def run_time(repeats, dtype):
    from timing import timeit_interleaved

    runs = variants(dtype)
    ms = timeit_interleaved(runs, repeats, warmup=5)
    for k, t in zip(PHASES, ms):
        print(f"{k:18s} {t:8.3f} ms")
    print(f"ours / native: eager {ms[0] / ms[1]:.3f}x, compiled {ms[2] / ms[3]:.3f}x")


def run_count():
    """How many evaluations one eager step of ours starts (mx.eval, mx.async_eval, array.item through the C core)."""
    import mlx.core as mx
    runs = variants()
    ours = runs[0]
    for _ in range(3):
        ours()
    counts = {}
    real = {name: getattr(mx, name) for name in ("eval", "async_eval")}

    def wrap(name):
        def f(*a, **k):
            counts[name] = counts.get(name, 0) + 1
            return real[name](*a, **k)
        return f

    for name in real:
        setattr(mx, name, wrap(name))
    try:
        ours()
    finally:
        for name, f in real.items():
            setattr(mx, name, f)
    print("Python-level evaluations in one eager step:", counts or "none",
          "(C-level evaluations, e.g. _C._item_or_none, are not counted here)")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["--report"]:
        report(a[1], int(a[2]) if len(a) > 2 else 20)
    elif a[:1] == ["--time"]:
        run_time(int(a[1]) if len(a) > 1 else 200, a[2] if len(a) > 2 else "float32")
    elif a[:1] == ["--count"]:
        run_count()
    else:
        run_callgrind(int(a[0]) if a else 20)
