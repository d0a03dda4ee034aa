"""MLX's Linux CPU speed on the wheel's reference BLAS vs OpenBLAS through mlx_compat's bridge (issue 8).

Prints two markdown tables, every number from this one run:
  1. a 512x512x512 float32 matmul through mlx.core: the bundled reference BLAS (a subprocess with
     MLX_COMPAT_BLAS=0), OpenBLAS from scipy-openblas32 through the bridge (this process), and for scale numpy's
     own OpenBLAS and torch's CPU matmul on the same arrays, plus any --candidate library loaded into the bridge
     in a subprocess of its own (e.g. MKL: --candidate mkl=/path/libmkl_rt.so.2);
  2. training steps of native MLX models (mlx.nn + mlx.optimizers; mlx_compat is not in the loop): an MLP
     784-128-10 (batch 64, Adam), a 2-conv CNN on 28x28 (batch 128, SGD), a 2-layer Transformer encoder d256 T64
     (batch 16, AdamW), with the bridge and without it.
Matmuls: median and best of 8x--repeats runs after warm-up; training steps: see timed(). The default run
takes about a minute on 2 idle cores, most of it the reference BLAS's training steps.
Usage: python bench/bench_blas.py [--repeats N] [--threads N] [--candidate NAME=LIB[:PREFIX] ...]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)   # this checkout's mlx_compat
N = 512


def timed(fn, repeats, warmup=2, budget_s=4.0):
    """(median ms, best ms) of up to `repeats` timed calls after `warmup` calls, stopping early once `budget_s`
    is spent (at least one timed call). A warm-up call slower than a second counts as a timed one: the
    reference BLAS's multi-second steps gain nothing from warming up."""
    times = []
    for _ in range(warmup):
        start = time.perf_counter()
        fn()
        ms = (time.perf_counter() - start) * 1e3
        if ms > 1000:
            times.append(ms)
    begin = time.perf_counter()
    while len(times) < repeats and not (times and time.perf_counter() - begin > budget_s):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def matmul_ms(repeats):
    import mlx.core as mx
    import numpy as np
    g = np.random.default_rng(0)
    a = mx.array(g.standard_normal((N, N), dtype=np.float32))
    b = mx.array(g.standard_normal((N, N), dtype=np.float32))
    mx.eval(a, b)
    return timed(lambda: mx.eval(a @ b), repeats * 8)


def training_ms(repeats):
    """ms per training step of the three native-MLX models on this process's BLAS."""
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim

    mx.random.seed(0)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = nn.Linear(784, 128), nn.Linear(128, 10)

        def __call__(self, x):
            return self.l2(nn.relu(self.l1(x)))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
            self.pool, self.fc = nn.MaxPool2d(2, 2), nn.Linear(32 * 7 * 7, 10)

        def __call__(self, x):
            x = self.pool(nn.relu(self.c1(x)))
            x = self.pool(nn.relu(self.c2(x)))
            return self.fc(x.reshape(x.shape[0], -1))

    class Transformer(nn.Module):
        def __init__(self, vocab=1000, dims=256):
            super().__init__()
            self.embed = nn.Embedding(vocab, dims)
            self.encoder = nn.TransformerEncoder(2, dims, 4, mlp_dims=4 * dims)
            self.out = nn.Linear(dims, vocab)

        def __call__(self, tokens):
            return self.out(self.encoder(self.embed(tokens), None))

    def step_fn(model, optimizer, x, y):
        def loss_fn(m):
            logits = m(x)
            return nn.losses.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="mean")
        value_and_grad = nn.value_and_grad(model, loss_fn)

        def step():
            loss, grads = value_and_grad(model)
            optimizer.update(model, grads)
            mx.eval(loss, model.parameters(), optimizer.state)
        return step

    cases = {
        "MLP 784-128-10, batch 64, Adam": (
            MLP(), optim.Adam(1e-3), mx.random.normal((64, 784)), mx.random.randint(0, 10, (64,)), 10),
        "CNN 2 conv + linear, 28x28, batch 128, SGD": (
            CNN(), optim.SGD(1e-2), mx.random.normal((128, 28, 28, 1)), mx.random.randint(0, 10, (128,)), 1),
        "Transformer 2 layers d256 T64, batch 16, AdamW": (
            Transformer(), optim.AdamW(1e-3), mx.random.randint(0, 1000, (16, 64)),
            mx.random.randint(0, 1000, (16, 64)), 1),
    }
    out = {}
    for name, (model, optimizer, x, y, scale) in cases.items():
        mx.eval(model.parameters(), x, y)
        out[name] = timed(step_fn(model, optimizer, x, y), repeats * scale, warmup=1)
    return out


def worker(args):
    """Measures this process's MLX (after setting up the BLAS asked for) and prints JSON."""
    label = "reference"
    if args.use:
        # a candidate library loaded into the bridge by hand (the package's own install() is opted out)
        path, _, prefix = args.use.partition(":")
        import mlx.core  # noqa: F401  (libmlx must be loaded to be rebound)
        from mlx_compat import _blas
        bridge = _blas._load_bridge(_blas._bridge_path())
        if bridge.mlxc_blas_open(os.fsencode(path), prefix.encode()) != 0:
            raise SystemExit(bridge.mlxc_blas_error().decode())
        if bridge.mlxc_blas_rebind(b"libmlx.so") <= 0:
            raise SystemExit(bridge.mlxc_blas_error().decode())
        label = path
    else:
        import mlx_compat
        if mlx_compat._blas.status()["active"]:
            label = "bridge"
    result = {"label": label, "matmul_ms": matmul_ms(args.repeats)}
    if not args.matmul_only:
        result["train_ms"] = training_ms(args.repeats)
    print(json.dumps(result))


def in_subprocess(args, *extra, **env):
    environ = dict(os.environ, **env)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--repeats", str(args.repeats), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=environ, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gflops(ms):
    return 2 * N**3 / (ms * 1e-3) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--candidate", action="append", default=[],
                        help="NAME=LIB[:PREFIX]: also time MLX with the bridge forwarding to LIB")
    parser.add_argument("--threads", type=int, help="threads for every BLAS (sets OMP/OPENBLAS/MKL_NUM_THREADS "
                        "and re-runs); default: each library's own default (the cores)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--use", help=argparse.SUPPRESS)
    parser.add_argument("--matmul-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.threads and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        os.execv(sys.executable, [sys.executable, *sys.argv])

    import mlx_compat
    import numpy as np
    info = mlx_compat._blas.status()
    if not info["active"]:
        raise SystemExit(f"the bridge is not active here: {info['reason']}")
    reference = in_subprocess(args, MLX_COMPAT_BLAS="0")
    fast = {"matmul_ms": matmul_ms(args.repeats), "train_ms": training_ms(args.repeats)}
    rows = [("MLX on the bundled reference BLAS (MLX_COMPAT_BLAS=0)", reference["matmul_ms"]),
            (f"MLX on OpenBLAS {info['config'].split()[1]} (scipy-openblas32) through the bridge", fast["matmul_ms"])]
    for spec in args.candidate:
        name, _, lib = spec.partition("=")
        result = in_subprocess(args, "--use", lib, "--matmul-only", MLX_COMPAT_BLAS="0")
        rows.append((f"MLX on {name} through the bridge", result["matmul_ms"]))
    g = np.random.default_rng(0)
    a, b = g.standard_normal((N, N), dtype=np.float32), g.standard_normal((N, N), dtype=np.float32)
    rows.append(("numpy's own OpenBLAS, no MLX (for scale)", timed(lambda: a @ b, args.repeats * 8)))
    has_torch = True
    try:
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        rows.append((f"torch {torch.__version__.split('+')[0]} CPU (for scale)",
                     timed(lambda: torch.mm(ta, tb), args.repeats * 8)))
    except ImportError:
        has_torch = False

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"threads: {info['num_threads']} (OpenBLAS; torch: {torch.get_num_threads() if has_torch else '-'}), "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; matmul: {args.repeats * 8} runs\n")
    print(f"| {N}x{N}x{N} float32 matmul | median ms | best ms | GFLOP/s (best) |")
    print("| --- | --- | --- | --- |")
    for name, (med, best) in rows:
        print(f"| {name} | {med:.2f} | {best:.2f} | {gflops(best):.0f} |")
    print(f"\nnative MLX training step: median (best) of up to {args.repeats} timed steps (MLP: {args.repeats * 10})\n")
    print("| model | reference BLAS ms | OpenBLAS bridge ms | speed-up (median) |")
    print("| --- | --- | --- | --- |")
    for name, (ref_med, ref_best) in reference["train_ms"].items():
        med, best = fast["train_ms"][name]
        print(f"| {name} | {ref_med:.1f} ({ref_best:.1f}) | {med:.1f} ({best:.1f}) | {ref_med / med:.1f}x |")


if __name__ == "__main__":
    main()
