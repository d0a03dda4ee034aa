"""Where a compiled training step's wall time goes, mlx_compat against native MLX (issue 15): for each of the full
step and the step without its optimizer update (forward, loss and backward only), the time inside `mx.eval`
(MLX's evaluation: on a GPU the kernels' encoding and the wait for them), inside the compiled functions' calls
(MLX's replay of the traced graph, and for native MLX its state trees' flattening), and the rest (for mlx_compat
its call program outside those two, Note [Compiled call program] in csrc/compile.c, and the caller's `mc.eval` of
the returned loss; for native MLX its Python around the call). bench_suite.py's models, inputs and steps; all
variants interleaved in every repeat, each started after `mx.synchronize()`; medians.

`mx.eval` and `mx.compile` are wrapped with timers before mlx_compat is imported, so its cached `mx.eval` (the call
program's one evaluation) is timed too. The wrappers add the same small cost to both sides.

    python bench/compiled_step_split.py --kind mlp --dtype bfloat16 --device cuda [--size full] [--repeats 300]
        [--eager] [--profile N]
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

import mlx.core as mx  # noqa: E402

_EVAL, _COMPILE = mx.eval, mx.compile
_in_eval, _in_calls = [0.0], [0.0]


def _timed_eval(*a):
    t = time.perf_counter()
    try:
        return _EVAL(*a)
    finally:
        _in_eval[0] += time.perf_counter() - t


def _timed_compile(f, *a, **k):
    g = _COMPILE(f, *a, **k)

    def call(*x, **y):
        t = time.perf_counter()
        try:
            return g(*x, **y)
        finally:
            _in_calls[0] += time.perf_counter() - t
    return call


mx.eval, mx.compile = _timed_eval, _timed_compile  # before mlx_compat caches mx.eval

import mlx.nn as mnn  # noqa: E402

import bench_suite as S  # noqa: E402
import mlx_compat as mc  # noqa: E402
from suite_models import build, native_clone  # noqa: E402


def _losses(w, b, devname, dtype):
    """(our args, our loss fn, native args, native loss fn) of bench_suite's training row `w`."""
    F = mc.nn.functional
    if w.kind == "gpt2":
        def o_loss(m, ids):
            logits = m(ids)["logits"]
            return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))

        def n_loss(m, ids):
            logits = m(ids)[0]
            return mnn.losses.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                            reduction="mean")
        return (mc.from_numpy(b["ids"]).to(devname),), o_loss, (mx.array(b["ids"]),), n_loss

    def o_loss(m, x, y):
        return F.cross_entropy(m(x), y)

    def n_loss(m, x, y):
        return mnn.losses.cross_entropy(m(x), y, reduction="mean")
    x = b["x"] if b["x"].ndim == 2 else b["x"].transpose(0, 2, 3, 1)  # NHWC for native MLX
    return ((mc.from_numpy(b["x"]).to(devname, getattr(mc, dtype)), mc.from_numpy(b["y"]).to(devname)), o_loss,
            (mx.array(x).astype(getattr(mx, dtype)), mx.array(b["y"])), n_loss)


def variants(w, devname, eager=False):
    """[(label, run)]: one evaluated compiled step per run(), full and without the update, ours and native (with
    `eager`, the same steps uncompiled: their "calls" column is then 0)."""
    dev = S.Dev(devname)
    _, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    args, o_loss, nargs, n_loss = _losses(w, b, devname, w.dtype)
    out = []
    for label, with_update in (("full", True), ("no update", False)):
        m = copy.deepcopy(om)
        opt = S._torch_opt(mc, w.optimizer, m.parameters())

        def step(*a, m=m, opt=opt, with_update=with_update):
            opt.zero_grad()
            loss = o_loss(m, *a)
            loss.backward()
            if with_update:
                opt.step()
            return loss
        fn = step if eager else mc.compile(step, fullgraph=True)
        if eager and not with_update:  # the gradients too, as native's evaluation of value_and_grad's
            grads = [p for p in m.parameters() if p.requires_grad]
            out.append((f"mlx_compat {label}", lambda fn=fn, ps=grads: mc.eval(fn(*args), *[p.grad for p in ps])))
        else:
            out.append((f"mlx_compat {label}", lambda fn=fn: mc.eval(fn(*args))))

        nmod = native_clone(w, nm)
        nopt = S._native_opt(w.optimizer)
        gf = mnn.value_and_grad(nmod, n_loss)
        state = [nmod.state, nopt.state]
        if with_update:
            def nstep(*a, nmod=nmod, nopt=nopt, gf=gf):
                loss, g = gf(nmod, *a)
                nopt.update(nmod, g)
                return loss
            nfn = nstep if eager else mx.compile(nstep, inputs=state, outputs=state)
            out.append((f"native {label}", lambda nfn=nfn, state=state: mx.eval(nfn(*nargs), state)))
        else:
            nfn = lambda *a, nmod=nmod, gf=gf: gf(nmod, *a)  # noqa: E731
            if not eager:
                nfn = mx.compile(nfn, inputs=state, outputs=state)
            out.append((f"native {label}", lambda nfn=nfn: mx.eval(nfn(*nargs))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", default="mlp", choices=("mlp", "resnet18", "resnet50", "vit", "gpt2"))
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--size", default="quick", choices=("quick", "full", "smoke"))
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--eager", action="store_true", help="the steps uncompiled")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="then cProfile N more runs of mlx_compat's full step and print its top functions")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    w = [x for x in S.training_workloads(args.size) if x.kind == args.kind and x.dtype == args.dtype][0]
    vs = variants(w, args.device, args.eager)
    for _ in range(3):
        for _, run in vs:
            run()
    res = {label: [] for label, _ in vs}
    for _ in range(args.repeats):
        for label, run in vs:
            mx.synchronize()
            _in_eval[0] = _in_calls[0] = 0.0
            t = time.perf_counter()
            run()
            res[label].append((time.perf_counter() - t, _in_eval[0], _in_calls[0]))
    print(f"{w.name} ({w.dtype}, {args.device}, {'eager' if args.eager else 'compiled'}), median ms of "
          f"{args.repeats}:")
    print(f"  {'variant':22s}{'step':>9s}{'in eval':>9s}{'calls':>9s}{'rest':>9s}")
    for label, rows in res.items():
        med = [statistics.median(r[k] for r in rows) * 1e3 for k in range(3)]
        rest = statistics.median(r[0] - r[1] - r[2] for r in rows) * 1e3
        print(f"  {label:22s}{med[0]:9.3f}{med[1]:9.3f}{med[2]:9.3f}{rest:9.3f}")
    if args.profile:
        import cProfile
        import pstats
        run = dict(vs)["mlx_compat full"]
        with cProfile.Profile() as prof:
            for _ in range(args.profile):
                run()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
