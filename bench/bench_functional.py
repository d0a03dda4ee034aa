"""nn.functional per-call overhead: mlx_compat.nn.functional against the same computation in raw MLX.

What a training loop pays per call of the functions it uses (linear, activations, softmax, losses, dropout,
normalizations, convolutions, pooling, embedding, attention) at small sizes, where the per-call cost of the
Python layer dominates. By default a call is NOT evaluated: MLX is lazy, so the time is that of building the
graph, which is exactly the layer's overhead (with --eval each result is forced with mx.eval, and the fixed cost
of an evaluation is added to both sides). The raw side is what an MLX user writes (mlx.core / mlx.nn, channels-last
for convolutions and pooling). With --grad the weights (and inputs) require grad, so ours also records the
autograd node, as in a training forward; raw MLX records nothing (its gradients come from mx.grad later).

Ours and raw are timed in interleaved rounds (noise hits both alike); each number is the median over the rounds
of the per-call time. Ratios come from the same run.

    python bench/bench_functional.py [--rounds 9] [--budget 0.01] [--grad] [--eval] [--markdown] [--only linear,relu]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import mlx.core as mx
import mlx.nn as mnn
import numpy as np

import mlx_compat as mc
import mlx_compat.nn.functional as F


def cases(grad):
    """(name, ours(), raw()) closures over fixed inputs."""
    rng = np.random.default_rng(0)

    def both(*shape, dtype=np.float32, req=False):
        a = rng.standard_normal(shape).astype(dtype)
        t = mc.from_numpy(a.copy())
        if req and grad:
            t.requires_grad_(True)
        m = mx.array(a)
        mx.eval(t._mx, m)
        return t, m

    x, xm = both(1, 64, req=True)
    w, wm = both(64, 64, req=True)
    b, bm = both(64, req=True)
    a, am = both(16, 64, req=True)
    y, ym = both(16, 64)
    logits, lm = both(16, 10, req=True)
    tgt_np = rng.integers(0, 10, size=16)
    tgt, tm = mc.from_numpy(tgt_np.astype(np.int64)), mx.array(tgt_np.astype(np.int32))
    logp = F.log_softmax(logits.detach(), -1)
    if grad:
        logp.requires_grad_(True)
    logpm = lm - mx.logsumexp(lm, axis=-1, keepdims=True)
    ln_w, ln_wm = both(64, req=True)
    ln_b, ln_bm = both(64, req=True)
    img, imgm_nchw = both(2, 8, 8, 8, req=True)
    imgm = mx.transpose(imgm_nchw, (0, 2, 3, 1))
    bn_w, bn_wm = both(8, req=True)
    bn_b, bn_bm = both(8, req=True)
    rm, rv = mc.zeros(8), mc.ones(8)
    rmm, rvm = mx.zeros(8), mx.ones(8)
    cw2, cw2m = both(16, 8, 3, 3, req=True)
    cw2m = mx.transpose(cw2m, (0, 2, 3, 1))
    cb, cbm = both(16, req=True)
    seq, seqm = both(2, 8, 32, req=True)
    seqm = mx.transpose(seqm, (0, 2, 1))
    cw1, cw1m = both(16, 8, 3, req=True)
    cw1m = mx.transpose(cw1m, (0, 2, 1))
    emb_w, emb_wm = both(100, 32, req=True)
    idx_np = rng.integers(0, 100, size=(4, 16))
    idx, idxm = mc.from_numpy(idx_np.astype(np.int64)), mx.array(idx_np.astype(np.int32))
    q, qm = both(2, 4, 16, 32, req=True)
    k, km = both(2, 4, 16, 32, req=True)
    v, vm = both(2, 4, 16, 32, req=True)
    maxpool, avgpool = mnn.MaxPool2d(2, 2), mnn.AvgPool2d(2, 2)

    def bn_train_raw():
        mean = mx.mean(imgm, axis=(0, 1, 2))
        var = mx.var(imgm, axis=(0, 1, 2))
        n = imgm.size / imgm.shape[-1]
        out = (imgm - mean) * mx.rsqrt(var + 1e-5) * bn_wm + bn_bm
        new_m = 0.9 * rmm + 0.1 * mean
        new_v = 0.9 * rvm + 0.1 * var * (n / (n - 1))
        return out, new_m, new_v

    def dropout_raw():
        keep = mx.random.bernoulli(0.5, am.shape)
        return mx.where(keep, am * 2.0, 0)

    def ce_raw():
        return mnn.losses.cross_entropy(lm, tm, reduction="mean")

    def nll_raw():
        return -mx.mean(mx.take_along_axis(logpm, tm[:, None], axis=1))

    return [
        ("linear (1x64, 64x64, bias)", lambda: F.linear(x, w, b), lambda: mx.addmm(bm, xm, wm.T)),
        ("linear (16x64, no bias)", lambda: F.linear(a, w), lambda: am @ wm.T),
        ("relu", lambda: F.relu(a), lambda: mnn.relu(am)),
        ("gelu", lambda: F.gelu(a), lambda: mnn.gelu(am)),
        ("silu", lambda: F.silu(a), lambda: mnn.silu(am)),
        ("tanh", lambda: F.tanh(a), lambda: mx.tanh(am)),
        ("sigmoid", lambda: F.sigmoid(a), lambda: mx.sigmoid(am)),
        ("x.exp()", lambda: a.exp(), lambda: mx.exp(am)),
        ("softmax", lambda: F.softmax(a, -1), lambda: mx.softmax(am, axis=-1)),
        ("log_softmax", lambda: F.log_softmax(a, -1), lambda: am - mx.logsumexp(am, axis=-1, keepdims=True)),
        ("cross_entropy", lambda: F.cross_entropy(logits, tgt), ce_raw),
        ("nll_loss", lambda: F.nll_loss(logp, tgt), nll_raw),
        ("mse_loss", lambda: F.mse_loss(a, y), lambda: mnn.losses.mse_loss(am, ym)),
        ("dropout (train)", lambda: F.dropout(a, 0.5, True), dropout_raw),
        ("layer_norm", lambda: F.layer_norm(a, (64,), ln_w, ln_b), lambda: mx.fast.layer_norm(am, ln_wm, ln_bm, 1e-5)),
        ("batch_norm (train)", lambda: F.batch_norm(img, rm, rv, bn_w, bn_b, training=True), bn_train_raw),
        ("batch_norm (eval)", lambda: F.batch_norm(img, rm, rv, bn_w, bn_b, training=False),
         lambda: (imgm - rmm) * mx.rsqrt(rvm + 1e-5) * bn_wm + bn_bm),
        ("conv1d", lambda: F.conv1d(seq, cw1, cb, padding=1), lambda: mx.conv1d(seqm, cw1m, padding=1) + cbm),
        ("conv2d", lambda: F.conv2d(img, cw2, cb, padding=1), lambda: mx.conv2d(imgm, cw2m, padding=1) + cbm),
        ("max_pool2d", lambda: F.max_pool2d(img, 2), lambda: maxpool(imgm)),
        ("avg_pool2d", lambda: F.avg_pool2d(img, 2), lambda: avgpool(imgm)),
        ("adaptive_avg_pool2d(1)", lambda: F.adaptive_avg_pool2d(img, 1),
         lambda: mx.mean(imgm, axis=(1, 2), keepdims=True)),
        ("embedding", lambda: F.embedding(idx, emb_w), lambda: emb_wm[idxm]),
        ("scaled_dot_product_attention", lambda: F.scaled_dot_product_attention(q, k, v),
         lambda: mx.fast.scaled_dot_product_attention(qm, km, vm, scale=1 / math.sqrt(32))),
    ]


def _force(r):
    if isinstance(r, (tuple, list)):
        for x in r:
            _force(x)
    elif isinstance(r, mc.Tensor):
        mx.eval(r._mx)
    elif isinstance(r, mx.array):
        mx.eval(r)


def _per_call(fn, force, budget):
    n = 1
    while True:
        t0 = time.perf_counter()
        if force:
            for _ in range(n):
                _force(fn())
        else:
            for _ in range(n):
                fn()
        dt = time.perf_counter() - t0
        if dt >= budget or n >= 1 << 16:
            return dt / n
        n = max(n * 2, int(n * budget / max(dt, 1e-9)))


def run(rounds, budget, grad, force, only):
    rows = []
    for name, ours, raw in cases(grad):
        if only and not any(o in name for o in only):
            continue
        _force(ours()), _force(raw())  # warm caches and compile paths on both sides
        t_o, t_r = [], []
        for _ in range(rounds):
            t_o.append(_per_call(ours, force, budget))
            t_r.append(_per_call(raw, force, budget))
        rows.append((name, statistics.median(t_o) * 1e6, statistics.median(t_r) * 1e6))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--budget", type=float, default=0.01, help="seconds per timing (sets the call count)")
    ap.add_argument("--grad", action="store_true", help="weights and inputs require grad (ours records nodes)")
    ap.add_argument("--eval", action="store_true", help="evaluate every result")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated substrings of case names")
    args = ap.parse_args(argv)
    only = [s for s in args.only.split(",") if s]
    print(f"mlx {mx.__version__}, device {mx.default_device()}, grad={args.grad}, eval={args.eval}")
    rows = run(args.rounds, args.budget, args.grad, args.eval, only)
    if args.markdown:
        print("| function | mlx_compat µs | raw mlx µs | ours / raw |")
        print("|---|---:|---:|---:|")
        for name, o, r in rows:
            print(f"| {name} | {o:.1f} | {r:.1f} | {o / r:.2f} |")
    else:
        print(f"{'function':<30} {'ours µs':>9} {'raw µs':>9} {'ours/raw':>9}")
        for name, o, r in rows:
            print(f"{name:<30} {o:9.1f} {r:9.1f} {o / r:9.2f}")
    ratios = [o / r for _, o, r in rows]
    if ratios:
        print(f"geometric mean ours/raw: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
