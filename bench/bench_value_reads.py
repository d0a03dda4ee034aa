"""What reading a value costs right after a training step: `loss.item()`, `mlx_compat.eval(loss)`, `float(loss)`,
`bool(loss > 0)`, `loss.detach().cpu().item()`, `tolist()`, `numpy()` and `to("cpu")` against the array's reads,
each read made once after a compiled 784-128-10 MLP Adam step (workloads.py, sizes 'cpu'), so its code runs as a
training loop runs it: after an evaluation whose work has evicted it from the caches. The step has already
evaluated the loss (Note [Loss evaluated with the step]), so every read here finds the value ready (but for the
comparison's new node); what it costs is the layer's code around MLX's. Main-thread CPU time (`time.thread_time`)
of the read alone, median over the repeats, the read kinds taking turns step by step; "nothing" is the timer.

    OMP_NUM_THREADS=1 python bench/bench_value_reads.py [--repeats 2600]
"""
import argparse
import os
import statistics
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402

import mlx_compat as torch  # noqa: E402
import workloads as W  # noqa: E402

READS = {
    "nothing (the timer)": lambda loss: None,
    "raw: loss._mx.item()": lambda loss: loss._mx.item(),
    "raw: mx.eval(loss._mx)": lambda loss: mx.eval(loss._mx),
    "loss.item()": lambda loss: loss.item(),
    "mlx_compat.eval(loss)": lambda loss: torch.eval(loss),
    "raw: float(loss._mx)": lambda loss: float(loss._mx),
    "float(loss)": lambda loss: float(loss),
    "raw: (loss._mx > 0).item()": lambda loss: (loss._mx > 0).item(),
    "bool(loss > 0)": lambda loss: bool(loss > 0),
    "loss.detach().cpu().item()": lambda loss: loss.detach().cpu().item(),
    "loss.to(\"cpu\") (already there)": lambda loss: loss.to("cpu"),
    "raw: loss._mx.tolist()": lambda loss: loss._mx.tolist(),
    "loss.tolist()": lambda loss: loss.tolist(),
    "raw: np.asarray(loss._mx)": lambda loss: np.asarray(loss._mx),
    "loss.numpy()": lambda loss: loss.numpy(),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2600)
    args = ap.parse_args()
    w = W.get("mlp", "cpu")
    torch.manual_seed(0)
    model = w.ours_model()
    x, y = w.ours_batch()
    opt = w.ours_optimizer(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = w.ours_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step)
    for _ in range(20):
        fn(x, y)
    names = list(READS)
    ts = {k: [] for k in names}
    for r in range(args.repeats):
        k = names[r % len(names)]
        loss = fn(x, y)
        t0 = time.thread_time()
        READS[k](loss)
        ts[k].append(time.thread_time() - t0)
    print(f"{w.name}, compiled step; main-thread CPU us per read right after the step "
          f"(median of {args.repeats // len(names)})")
    for k in names:
        print(f"  {k:32s} {statistics.median(ts[k]) * 1e6:6.1f}")


if __name__ == "__main__":
    main()
