"""A whole training step (zero_grad, forward, loss, backward, optimizer step) four ways on the CPU: mlx_compat eager,
mlx_compat under mlx_compat.compile, native MLX eager (mlx.nn + nn.value_and_grad + mlx.optimizers) and native MLX
under mx.compile (model and optimizer state as the compiled function's inputs/outputs, MLX's documented pattern).
Models: an MLP 784-128-10 at batch 64 with Adam, and a small CNN (conv 1->8, pool, conv 8->16, pool, linear) on
28x28 at batch 32 with SGD momentum. Each step is timed with its evaluation; medians of REPEATS steps, the variants
interleaved within every repeat so load drift on a shared machine hits them alike.
Usage: python bench/bench_compile.py [--repeats N]
"""
from __future__ import annotations

import argparse
import warnings
from functools import partial

import mlx.core as mx
import mlx.nn as mnn
import mlx.optimizers as mxopt

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F
from timing import timeit_interleaved  # noqa: E402


# ---------------------------------------------------------------- mlx_compat
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def ours(kind, compiled):
    torch.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y = torch.randn(64, 784), torch.randint(0, 10, (64,))
    else:
        model = CNN()
        opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step) if compiled else step

    def run():
        loss = fn(x, y)
        mx.eval(loss._mx)  # eager: the step's own commit evaluated params/state; the loss too

    return run


# ---------------------------------------------------------------- native MLX
class MCNN(mnn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = mnn.Conv2d(1, 8, 3, padding=1)
        self.c2 = mnn.Conv2d(8, 16, 3, padding=1)
        self.fc = mnn.Linear(16 * 7 * 7, 10)
        self.pool = mnn.MaxPool2d(2)

    def __call__(self, x):
        x = self.pool(mnn.relu(self.c1(x)))
        x = self.pool(mnn.relu(self.c2(x)))
        return self.fc(x.reshape(x.shape[0], -1))


def native(kind, compiled):
    mx.random.seed(0)
    if kind == "mlp":
        model = mnn.Sequential(mnn.Linear(784, 128), mnn.ReLU(), mnn.Linear(128, 10))
        opt = mxopt.Adam(learning_rate=1e-3, bias_correction=True)
        x, y = mx.random.normal((64, 784)), mx.random.randint(0, 10, (64,))
    else:
        model = MCNN()
        opt = mxopt.SGD(learning_rate=1e-2, momentum=0.9)
        x, y = mx.random.normal((32, 28, 28, 1)), mx.random.randint(0, 10, (32,))
    mx.eval(model.parameters())

    def loss_fn(model, x, y):
        return mnn.losses.cross_entropy(model(x), y, reduction="mean")

    grad_fn = mnn.value_and_grad(model, loss_fn)
    state = [model.state, opt.state]

    def step(x, y):
        loss, grads = grad_fn(model, x, y)
        opt.update(model, grads)
        return loss

    fn = partial(mx.compile, inputs=state, outputs=state)(step) if compiled else step

    def run():
        loss = fn(x, y)
        mx.eval(loss, state)

    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    print(f"mlx {mx.__version__}; median ms per training step (eval included), {args.repeats} repeats")
    print(f"{'step':24s} {'ours eager':>11s} {'ours comp':>10s} {'MLX eager':>10s} {'MLX comp':>9s} "
          f"{'eager/comp':>11s} {'comp/MLXcomp':>13s}")
    for kind, label in (("mlp", "MLP 784-128-10 b64 Adam"), ("cnn", "CNN 28x28 b32 SGD-mom")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback to eager would make the compiled numbers meaningless
            fns = [ours(kind, False), ours(kind, True), native(kind, False), native(kind, True)]
            oe, oc, ne, nc = timeit_interleaved(fns, args.repeats, warmup=3)
        print(f"{label:24s} {oe:11.3f} {oc:10.3f} {ne:10.3f} {nc:9.3f} {oe / oc:11.2f} {oc / nc:13.2f}")


if __name__ == "__main__":
    main()
