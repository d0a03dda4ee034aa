"""Per-batch cost of iterating a DataLoader over a TensorDataset (Fashion-MNIST-sized rows: 784 float32 and an
int64 label), mlx_compat against torch in one run: batch 64, sequential and shuffled, main process, the default
collate_fn (Note [Batches of a TensorDataset] in utils/data/_utils/fetch.py), each of our batches evaluated (MLX
builds it lazily); best of the repeats, µs per batch.

    python bench/bench_data.py [--rows 6400] [--batch 64] [--repeats 7]
"""
import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(_HERE)]

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mlx_compat  # noqa: E402


def per_batch_us(lib, x, y, batch, shuffle, repeats):
    ds = lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))
    loader = lib.utils.data.DataLoader(ds, batch_size=batch, shuffle=shuffle)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = 0
        for xb, yb in loader:
            if lib is mlx_compat:  # MLX builds the batch lazily: evaluated here, as a step would, to count its work
                mlx_compat.eval(xb, yb)
            n += 1
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=6400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.rows)
    print(f"TensorDataset of {args.rows} rows (784 float32, int64 label), batch {args.batch}: us per batch")
    for shuffle in (False, True):
        ours = per_batch_us(mlx_compat, x, y, args.batch, shuffle, args.repeats)
        ref = per_batch_us(torch, x, y, args.batch, shuffle, args.repeats)
        print(f"  shuffle={shuffle!s:5}  mlx_compat {ours:7.1f}  torch {ref:7.1f}  ratio {ours / ref:.2f}x")


if __name__ == "__main__":
    main()
