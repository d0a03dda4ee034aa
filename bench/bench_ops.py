"""Operators benchmark: 20 representative ops at three sizes, mlx_compat vs raw mlx.core vs torch (CPU).

Every call is evaluated (MLX results are forced with mx.eval; torch is eager), so the numbers are what a
user waits for. For each op and size the three contenders are timed in interleaved rounds (noise hits all
alike); each number is the median over the rounds of the per-call time. Ratios come from the same run.

    python bench/bench_ops.py [--rounds 7] [--budget 0.02] [--markdown] [--device gpu]

With --device gpu, ours and raw MLX run on MLX's GPU and torch on CUDA (synchronised after each call).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import mlx.core as mx
import numpy as np

import mlx_compat as mc

try:
    import torch
except ImportError:  # torch is a test dependency only; without it the torch column is empty
    torch = None

SIZES = {"tiny": (2, 2), "1e4": (100, 100), "1e6": (1000, 1000)}


def _gelu_mx(x):
    return 0.5 * x * (1 + mx.erf(x * (1 / math.sqrt(2))))


def _log_softmax_mx(x):
    return x - mx.logsumexp(x, axis=-1, keepdims=True)


def ops():
    """(name, ours(L, a, b, idx), raw(a, b, idx)); ours runs with L = mlx_compat or torch."""
    F = lambda L: L.nn.functional  # noqa: E731
    return [
        ("add", lambda L, a, b, i: a + b, lambda a, b, i: a + b),
        ("mul scalar", lambda L, a, b, i: a * 2.5, lambda a, b, i: a * 2.5),
        ("exp", lambda L, a, b, i: a.exp(), lambda a, b, i: mx.exp(a)),
        ("sigmoid", lambda L, a, b, i: a.sigmoid(), lambda a, b, i: mx.sigmoid(a)),
        ("tanh", lambda L, a, b, i: a.tanh(), lambda a, b, i: mx.tanh(a)),
        ("relu", lambda L, a, b, i: F(L).relu(a), lambda a, b, i: mx.maximum(a, 0)),
        ("gelu", lambda L, a, b, i: F(L).gelu(a), lambda a, b, i: _gelu_mx(a)),
        ("sum", lambda L, a, b, i: a.sum(), lambda a, b, i: mx.sum(a)),
        ("mean(dim=-1)", lambda L, a, b, i: a.mean(-1), lambda a, b, i: mx.mean(a, axis=-1)),
        ("amax(dim=-1)", lambda L, a, b, i: a.amax(-1), lambda a, b, i: mx.max(a, axis=-1)),
        ("softmax", lambda L, a, b, i: a.softmax(-1), lambda a, b, i: mx.softmax(a, axis=-1)),
        ("log_softmax", lambda L, a, b, i: F(L).log_softmax(a, -1), lambda a, b, i: _log_softmax_mx(a)),
        ("cumsum", lambda L, a, b, i: a.cumsum(-1), lambda a, b, i: mx.cumsum(a, axis=-1)),
        ("sort", lambda L, a, b, i: a.sort(-1)[0], lambda a, b, i: mx.sort(a, axis=-1)),
        ("matmul", lambda L, a, b, i: a @ b, lambda a, b, i: a @ b),
        ("where", lambda L, a, b, i: L.where(a > 0, a, b), lambda a, b, i: mx.where(a > 0, a, b)),
        ("clamp", lambda L, a, b, i: a.clamp(-0.5, 0.5), lambda a, b, i: mx.clip(a, -0.5, 0.5)),
        ("index_select", lambda L, a, b, i: a.index_select(0, i), lambda a, b, i: mx.take(a, i, axis=0)),
        ("cat", lambda L, a, b, i: L.cat([a, b], 0), lambda a, b, i: mx.concatenate([a, b], axis=0)),
        ("layer_norm", lambda L, a, b, i: F(L).layer_norm(a, (a.shape[-1],)),
         lambda a, b, i: mx.fast.layer_norm(a, None, None, 1e-5)),
    ]


def _per_call(fn, force, budget):
    """Seconds per call of fn (forced), with a call count that fills about `budget` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            force(fn())
        dt = time.perf_counter() - t0
        if dt >= budget or n >= 1 << 16:
            return dt / n
        n = max(n * 2, int(n * budget / max(dt, 1e-9)))


def _force_mc(r):
    mx.eval(r._mx)


def _force_mx(r):
    mx.eval(r)


def _force_torch(r):
    return r


def _force_torch_cuda(r):
    torch.cuda.synchronize()
    return r


def run(rounds, budget, device="cpu"):
    rows = []
    for size_name, shape in SIZES.items():
        rng = np.random.default_rng(0)
        a_np = rng.standard_normal(shape).astype(np.float32)
        b_np = rng.standard_normal(shape).astype(np.float32)
        i_np = rng.integers(0, shape[0], size=shape[0]).astype(np.int64)
        gpu = device != "cpu"
        ours = tuple(mc.from_numpy(x).to("cuda" if gpu else "cpu") for x in (a_np, b_np, i_np))
        raw = (mx.array(a_np), mx.array(b_np), mx.array(i_np))
        tt = (torch.from_numpy(a_np), torch.from_numpy(b_np), torch.from_numpy(i_np)) if torch else None
        if tt is not None and gpu:
            tt = tuple(x.cuda() for x in tt) if torch.cuda.is_available() else None
        force_t = _force_torch_cuda if gpu else _force_torch
        mx.eval(*raw, *(t._mx for t in ours))
        for name, f_ours, f_raw in ops():
            times = {"ours": [], "raw": [], "torch": []}
            for _ in range(rounds):
                times["ours"].append(_per_call(lambda: f_ours(mc, *ours), _force_mc, budget))
                times["raw"].append(_per_call(lambda: f_raw(*raw), _force_mx, budget))
                if tt is not None:
                    times["torch"].append(_per_call(lambda: f_ours(torch, *tt), force_t, budget))
            med = {k: statistics.median(v) * 1e6 if v else float("nan") for k, v in times.items()}
            rows.append((name, size_name, med["ours"], med["raw"], med["torch"]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.02, help="seconds per timing (sets the call count)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table (for BENCHMARKS.md)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    args = ap.parse_args(argv)
    if args.device == "gpu":
        mx.set_default_device(mx.gpu)
    print(f"mlx {mx.__version__}, device {mx.default_device()}, torch {torch.__version__ if torch else '-'}")
    rows = run(args.rounds, args.budget, args.device)
    if args.markdown:
        print("| op | size | mlx_compat µs | raw mlx µs | torch µs | ours / raw | ours / torch |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, size, o, r, t in rows:
            print(f"| {name} | {size} | {o:.1f} | {r:.1f} | {t:.1f} | {o / r:.2f} | {o / t:.2f} |")
    else:
        print(f"{'op':<14} {'size':<5} {'ours µs':>10} {'raw µs':>10} {'torch µs':>10} {'ours/raw':>9} {'ours/torch':>10}")
        for name, size, o, r, t in rows:
            print(f"{name:<14} {size:<5} {o:10.1f} {r:10.1f} {t:10.1f} {o / r:9.2f} {o / t:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
