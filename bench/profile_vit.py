"""Where an eager ViT training step's work goes, mlx_compat against native MLX (bench/suite_models.py builds both
from one state_dict): the MLX primitives of the whole step's graph (forward, backward and the AdamW update,
counted from mx.export_to_dot, so a copy or transpose ours adds shows up by name), then phase times (graph
building, forward evaluation, forward+backward evaluation, the full step), medians of interleaved repeats.

Usage: OMP_NUM_THREADS=1 python bench/profile_vit.py [--layers 1] [--batch 1] [--image 224] [--repeats 7]
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import statistics
import sys
import tempfile
import time

import mlx.core as mx
import mlx.nn as mnn
import mlx.optimizers as mxopt

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
from suite_models import Workload, build  # noqa: E402


def _count(arrays):
    """Primitive name -> count over the unevaluated graph of arrays."""
    with tempfile.NamedTemporaryFile("r", suffix=".dot") as f:
        mx.export_to_dot(f.name, *arrays)
        return collections.Counter(re.findall(r'label ="([^"]+)"', open(f.name).read()))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--image", type=int, default=224)
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args(argv)
    import mlx_compat as mc
    w = Workload(f"ViT-B/16 {a.image}px ({a.layers} layers)", "vit", a.batch, "adamw", image=a.image,
                 cfg=dict(num_layers=a.layers))
    _, om, nm, b = build(w, "cpu")
    F = mc.nn.functional
    x, y = mc.from_numpy(b["x"]), mc.from_numpy(b["y"])
    nx, ny = mx.array(b["x"].transpose(0, 2, 3, 1)), mx.array(b["y"])
    oopt = mc.optim.AdamW(om.parameters(), lr=1e-4, weight_decay=0.01)
    nopt = mxopt.AdamW(learning_rate=1e-4, weight_decay=0.01)
    grad_fn = mnn.value_and_grad(nm, lambda m, x, y: mnn.losses.cross_entropy(m(x), y, reduction="mean"))
    params = [q for q in om.parameters()]

    def o_graph():
        oopt.zero_grad()
        loss = F.cross_entropy(om(x), y)
        loss.backward()
        return loss

    def o_step():
        o_graph()
        oopt.step()

    def n_step():
        loss, g = grad_fn(nm, nx, ny)
        nopt.update(nm, g)
        mx.eval(loss, nm.state, nopt.state)

    for _ in range(2):
        o_step(), n_step()
    # graphs: forward+backward (gradients and loss) of each side
    loss = o_graph()
    ours = _count([loss._mx] + [q.grad._mx for q in params])
    mx.eval(loss._mx, *[q.grad._mx for q in params])
    nloss, g = grad_fn(nm, nx, ny)
    native = _count([nloss] + [v for _, v in mnn.utils.tree_flatten(g)])
    mx.eval(nloss, g)
    print(f"## {w.name}, batch {a.batch}: MLX primitives of forward+backward (ours / native)")
    for k in sorted(set(ours) | set(native), key=lambda k: -(ours[k] + native[k])):
        mark = "" if ours[k] == native[k] else "   <-"
        print(f"  {k:28s} {ours[k]:5d} {native[k]:5d}{mark}")
    print(f"  {'total':28s} {sum(ours.values()):5d} {sum(native.values()):5d}")
    mx.eval(nm.state)

    t = collections.defaultdict(list)

    def timed(key, fn):
        t0 = time.perf_counter()
        r = fn()
        t[key].append((time.perf_counter() - t0) * 1e3)
        return r

    def o_fwd():
        out = om(x)
        mx.eval(out._mx)

    def n_fwd():
        mx.eval(nm(nx))

    def o_fb():
        loss = o_graph()
        mx.eval(loss._mx, *[q.grad._mx for q in params])

    def n_fb():
        mx.eval(grad_fn(nm, nx, ny))

    for i in range(a.repeats + 1):
        for key, fn in (("forward eval", o_fwd), ("forward+backward eval", o_fb), ("full step", o_step)):
            timed("ours " + key, fn)
        for key, fn in (("forward eval", n_fwd), ("forward+backward eval", n_fb), ("full step", n_step)):
            timed("native " + key, fn)
        timed("ours graph only", lambda: (o_graph(), None)[1])
        mx.eval(*[q.grad._mx for q in params])
        if i == 0:
            t.clear()
    print(f"\n## phase times, ms (median of {a.repeats}, interleaved)")
    for key in ("forward eval", "forward+backward eval", "full step"):
        o, n = statistics.median(t["ours " + key]), statistics.median(t["native " + key])
        print(f"  {key:24s} ours {o:8.1f}  native {n:8.1f}  ratio {o / n:5.2f}")
    print(f"  {'graph build (ours)':24s} ours {statistics.median(t['ours graph only']):8.1f}")


if __name__ == "__main__":
    main()
