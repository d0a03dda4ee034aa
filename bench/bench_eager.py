"""Host time to build eager graphs (issue 15): all Python and MLX graph construction of a forward, or of a forward
and backward, with nothing evaluated, mlx_compat against native MLX on the same weights (bench/suite_models.py).
Rows: ViT-B/16 (one encoder layer alone, the patch embedding alone, the whole model with --vit-layers layers),
ResNet-18 inference, one GPT-2 block. Times are thread CPU µs (`time.thread_time`; perf_counter with --wall),
medians of many repeats with ours and native interleaved call by call. Run with OMP_NUM_THREADS=1.
Usage: python bench/bench_eager.py [--repeats N] [--only vit,resnet,gpt2] [--profile ROW]"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import mlx.core as mx
import mlx.nn as mnn
import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
from suite_models import Workload, build  # noqa: E402


def interleaved(pairs, repeats, clock):
    """pairs: {name: (ours_fn, native_fn)} -> {name: (ours µs, native µs)}, every function run in turn per repeat."""
    ts = {k: ([], []) for k in pairs}
    for i in range(repeats + 3):
        for k, fns in pairs.items():
            for side, fn in enumerate(fns):
                if fn is None:
                    continue
                t0 = clock()
                r = fn()
                dt = clock() - t0
                del r
                if i >= 3:
                    ts[k][side].append(dt * 1e6)
    return {k: tuple(statistics.median(v) if v else float("nan") for v in s) for k, s in ts.items()}


def vit_rows(layers):
    import mlx_compat as mc
    w = Workload("vit", "vit", 1, "adamw", image=224, cfg=dict(num_layers=layers))
    _, om, nm, b = build(w)
    F = mc.nn.functional
    x = mc.from_numpy(b["x"])
    nx = mx.array(b["x"].transpose(0, 2, 3, 1))
    y, ny = mc.from_numpy(b["y"]), mx.array(b["y"])
    blk, nblk = om.encoder.layers[0], nm.layers[0]
    h = mc.randn(1, 197, 768)
    nh = mx.array(h.numpy())
    hg = mc.randn(1, 197, 768, requires_grad=True)

    def o_embed():
        t = om._process_input(x)
        t = mc.cat([om.class_token.expand(t.shape[0], -1, -1), t], dim=1)
        return t + om.encoder.pos_embedding

    def n_embed():
        t = nm.conv_proj(nx)
        t = t.reshape(1, -1, t.shape[-1])
        t = mx.concatenate([mx.broadcast_to(nm.class_token, (1, 1, t.shape[-1])), t], axis=1)
        return t + nm.pos_embedding

    def o_train(f):
        def run():
            out = f()
            out.sum().backward()
            return out
        return run

    def n_train(module, f):
        g = mnn.value_and_grad(module, lambda *a: f().sum())
        return lambda: g()

    def o_full_train():
        loss = F.cross_entropy(om(x), y)
        loss.backward()
        return loss

    n_full = mnn.value_and_grad(nm, lambda: mnn.losses.cross_entropy(nm(nx), ny, reduction="mean"))

    def o_blk_train():
        out = blk(hg)
        out.sum().backward()
        return out

    n_blk = mnn.value_and_grad(nblk, lambda: nblk(nh).sum())
    n_emb = mnn.value_and_grad(nm, lambda: n_embed().sum())

    om.eval(), nm.eval()

    def nograd(f):
        def run():
            with mc.no_grad():
                return f()
        return run

    rows = {
        "ViT encoder layer, inference (no_grad, eval)": (nograd(lambda: blk(h)), lambda: nblk(nh)),
        "ViT patch embedding + class token + pos, inference": (nograd(o_embed), n_embed),
        f"ViT-B/16 {layers} layers, whole inference forward": (nograd(lambda: om(x)), lambda: nm(nx)),
    }
    train_rows = {
        "ViT encoder layer, forward + backward": (o_blk_train, n_blk),
        "ViT patch embedding, forward + backward": (o_train(o_embed), n_emb),
        f"ViT-B/16 {layers} layers, forward + loss + backward": (o_full_train, n_full),
    }
    return rows, train_rows, (om, nm)


def resnet_rows():
    import mlx_compat as mc
    w = Workload("r18", "resnet18", 1, "sgd", image=224)
    _, om, nm, b = build(w)
    om.eval(), nm.eval()
    x = mc.from_numpy(b["x"])
    nx = mx.array(b["x"].transpose(0, 2, 3, 1))

    def o():
        with mc.no_grad():
            return om(x)

    # training: the suite's ResNet-18 32px step shape at batch 2 (the H200 eager step is host-bound: its GPU is busy
    # 5 of 26 ms), forward + loss + backward, each repeat's gradients dropped first so no graph grows across repeats
    wt = Workload("r18t", "resnet18", 2, "sgd", image=32)
    _, tm, tn, tb = build(wt)
    F = mc.nn.functional
    tx, ty = mc.from_numpy(tb["x"]), mc.from_numpy(tb["y"])
    ntx, nty = mx.array(tb["x"].transpose(0, 2, 3, 1)), mx.array(tb["y"])
    params = list(tm.parameters())

    def o_train():
        for p in params:
            p.grad = None
        loss = F.cross_entropy(tm(tx), ty)
        loss.backward()
        return loss

    def o_fwd():  # the training row's forward alone (recording): its backward is the difference
        return F.cross_entropy(tm(tx), ty)

    def n_loss():
        return mnn.losses.cross_entropy(tn(ntx), nty, reduction="mean")

    n_train = mnn.value_and_grad(tn, n_loss)
    return {"ResNet-18 224px b1, inference forward": (o, lambda: nm(nx)),
            "ResNet-18 32px b2, forward + loss (training mode)": (o_fwd, n_loss),
            "ResNet-18 32px b2, forward + loss + backward": (o_train, n_train)}, (om, nm)


def gpt2_rows():
    import mlx_compat as mc
    w = Workload("g", "gpt2", 1, "adamw", cfg=dict(n_layer=1, n_embd=768, n_head=12, seq=64, vocab=512))
    _, om, nm, b = build(w)
    blk, nblk = om.transformer.h[0], nm.h[0]
    h = mc.randn(1, 64, 768, requires_grad=True)
    nh = mx.array(h.detach().numpy())

    def o_train():
        out = blk(h)[0]
        out.sum().backward()
        return out
    n_train = mnn.value_and_grad(nblk, lambda: nblk(nh)[0].sum())

    def o_inf():
        with mc.no_grad():
            return blk(h)[0]
    blk.eval(), nblk.eval()
    return {"GPT-2 block d768 T64, inference": (o_inf, lambda: nblk(nh)[0]),
            "GPT-2 block d768 T64, forward + backward": (o_train, n_train)}, (om, nm)


def per_module(rows, repeats, clock):
    """Inclusive graph-building µs per call of each leaf module type (ours: every leaf module class's forward
    wrapped; native: mlx.nn's layer classes and mx.fast's attention wrapped), summed over one forward of
    each row, medians over repeats. The wrappers add their own cost to both sides alike."""
    import collections
    import mlx_compat as mc
    acc = collections.defaultdict(lambda: collections.defaultdict(list))
    cur = collections.defaultdict(float)

    def wrap(store, name, fn):
        def inner(*a, **k):
            t0 = clock()
            r = fn(*a, **k)
            cur[(store, name)] += clock() - t0
            return r
        return inner

    leaf_types = [mc.nn.Linear, mc.nn.LayerNorm, mc.nn.MultiheadAttention, mc.nn.GELU, mc.nn.Dropout,
                  mc.nn.Conv2d, mc.nn.BatchNorm2d, mc.nn.ReLU, mc.nn.MaxPool2d, mc.nn.AdaptiveAvgPool2d]
    saved = {c: c.forward for c in leaf_types}
    nat = {c: c.__call__ for c in (mnn.Linear, mnn.LayerNorm, mnn.Conv2d, mnn.BatchNorm, mnn.MaxPool2d)}
    fns = {"gelu": (mnn, "gelu"), "relu": (mnn, "relu"), "sdpa": (mx.fast, "scaled_dot_product_attention")}
    saved_fns = {k: getattr(m, a) for k, (m, a) in fns.items()}
    try:
        for c in leaf_types:
            c.forward = wrap("ours", c.__name__, saved[c])
        for c, f in nat.items():
            c.__call__ = wrap("native", c.__name__, f)
        for k, (m, a) in fns.items():
            setattr(m, a, wrap("native", k, saved_fns[k]))
        for name, (o, n) in rows.items():
            for i in range(repeats + 2):
                for side, fn in (("ours", o), ("native", n)):
                    cur.clear()
                    fn()
                    if i >= 2:
                        for (st, nm), v in cur.items():
                            if st == side:
                                acc[name][(side, nm)].append(v * 1e6)
    finally:
        for c, f in saved.items():
            c.forward = f
        for c, f in nat.items():
            c.__call__ = f
        for k, (m, a) in fns.items():
            setattr(m, a, saved_fns[k])
    for name, d in acc.items():
        print(f"\n{name}")
        for (side, nm), v in sorted(d.items(), key=lambda kv: (kv[0][0], -statistics.median(kv[1]))):
            print(f"  {side:6s} {nm:22s} {statistics.median(v):8.0f} µs per forward")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=41)
    p.add_argument("--vit-layers", type=int, default=2)
    p.add_argument("--only", default="vit,resnet,gpt2")
    p.add_argument("--wall", action="store_true")
    p.add_argument("--profile", help="cProfile the ours side of every row whose name contains this text")
    p.add_argument("--per-module", help="inclusive µs per leaf module type for rows whose name contains this")
    args = p.parse_args(argv)
    clock = time.perf_counter if args.wall else time.thread_time
    only = args.only.split(",")
    rows, keep = {}, []
    if "vit" in only:
        r, tr, k = vit_rows(args.vit_layers)
        keep.append(k)
        rows.update(r)
        rows.update(tr)
    if "resnet" in only:
        r, k = resnet_rows()
        rows.update(r)
        keep.append(k)
    if "gpt2" in only:
        r, k = gpt2_rows()
        rows.update(r)
        keep.append(k)
    if args.profile:
        import cProfile
        import pstats
        for name, (o, _) in rows.items():
            if args.profile in name:
                for _ in range(3):
                    o()
                pr = cProfile.Profile()
                pr.enable()
                for _ in range(50):
                    o()
                pr.disable()
                print("==", name)
                pstats.Stats(pr).sort_stats("tottime").print_stats(30)
        return
    if args.per_module:
        sel = {k: v for k, v in rows.items() if args.per_module in k and "backward" not in k}
        per_module(sel, args.repeats, clock)
        return
    # train rows need training mode: the ViT pairs are split by name
    res = {}
    infer = {k: v for k, v in rows.items() if "backward" not in k}
    train = {k: v for k, v in rows.items() if "backward" in k}
    res.update(interleaved(infer, args.repeats, clock))
    for om, nm in keep:
        om.train(), nm.train()
    res.update(interleaved(train, args.repeats, clock))
    print(f"| graph building, {'wall' if args.wall else 'thread CPU'} µs (median of {args.repeats}) "
          "| mlx_compat | native MLX | ratio |")
    print("| --- | --- | --- | --- |")
    for k, (o, n) in res.items():
        print(f"| {k} | {o:.0f} | {n:.0f} | {o / n:.2f}× |")


if __name__ == "__main__":
    main()
