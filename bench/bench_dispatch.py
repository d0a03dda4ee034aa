"""Per-call cost of mlx_compat against raw mlx.core for the calls issue 9 lists (graph building only, no eval).

The in-place row is the exception: a storage written over and over is evaluated every 1024 writes (Note [Bounded
lazy graphs], csrc/tensor.c), so its row times a run of writes and then one evaluation of the written value on both
sides, raw MLX rebinding its array as the write does (without that, raw MLX's chain grows without bound and ours
looks 1x or 4x slower depending on whether a run happens to contain the bound's evaluation).

For each call: the median over REPEATS runs of NUMBER calls, ours and raw MLX interleaved run by run so machine
noise hits both alike; the ratio is ours / raw from the same run; the last line is the geometric mean of ratios.
Usage: python bench/bench_dispatch.py [--repeats N] [--number N] [--device cpu|cuda] [--markdown]
(--device cuda without a GPU: set MLX_COMPAT_FAKE_GPU=1, and MLX_COMPAT_DEVICE_SCOPE=1 for the device-scope path)
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import mlx.core as mx

import mlx_compat as torch


def _mlx_has_gpu():
    try:
        mx.default_stream(mx.gpu)
        return True
    except (ValueError, RuntimeError):
        return False


def cases(device):
    # device 'cuda' under MLX_COMPAT_FAKE_GPU=1 on a machine without a GPU runs on MLX's CPU (Note [Fake GPU] in
    # csrc/module.c): raw MLX then runs there too
    dev = mx.cpu if device == "cpu" or not _mlx_has_gpu() else mx.gpu
    a = torch.ones(4, 4, device=device)
    b = torch.ones(4, 4, device=device)
    c = torch.ones(4, 4, device=device)
    w = torch.ones(4, 4, device=device, requires_grad=True)
    mask = a > 0
    F = torch.nn.functional
    with mx.stream(dev):
        ra, rb, rc = mx.ones((4, 4)), mx.ones((4, 4)), mx.ones((4, 4))
        rmask = ra > 0
    mx.eval(ra, rb, rc, rmask)
    # raw MLX gets the stream argument our C core passes: only for a device that is not MLX's default
    s = None if mx.default_device() == mx.Device(dev) else dev
    held = [rc]

    def raw_add_():
        held[0] = mx.add(held[0], rb, stream=s)

    return [
        ("a + b", lambda: a + b, lambda: mx.add(ra, rb, stream=s)),
        ("torch.add(a, b)", lambda: torch.add(a, b), lambda: mx.add(ra, rb, stream=s)),
        ("a * 2", lambda: a * 2, lambda: mx.multiply(ra, 2, stream=s)),
        ("torch.exp(a)", lambda: torch.exp(a), lambda: mx.exp(ra, stream=s)),
        ("torch.relu(a)", lambda: torch.relu(a), lambda: mx.maximum(ra, 0, stream=s)),
        ("torch.sigmoid(a)", lambda: torch.sigmoid(a), lambda: mx.sigmoid(ra, stream=s)),
        ("torch.tanh(a)", lambda: torch.tanh(a), lambda: mx.tanh(ra, stream=s)),
        ("softmax(a, -1)", lambda: F.softmax(a, -1), lambda: mx.softmax(ra, -1, stream=s)),
        ("torch.where(m, a, b)", lambda: torch.where(mask, a, b), lambda: mx.where(rmask, ra, rb, stream=s)),
        ("torch.cat([a, b])", lambda: torch.cat([a, b]), lambda: mx.concatenate([ra, rb], stream=s)),
        ("a.max(dim=1)", lambda: a.max(dim=1),
         lambda: (mx.max(ra, 1, stream=s), mx.argmax(ra, 1, stream=s))),
        ("a @ b", lambda: a @ b, lambda: mx.matmul(ra, rb, stream=s)),
        ("a.sum()", lambda: a.sum(), lambda: mx.sum(ra, stream=s)),
        ("a[0]", lambda: a[0], lambda: ra[0]),
        ("a.view(16)", lambda: a.view(16), lambda: mx.reshape(ra, (16,), stream=s)),
        ("a.shape", lambda: a.shape, lambda: ra.shape),
        ("c.add_(b) + eval", lambda: c.add_(b), raw_add_, lambda: mx.eval(c._mx), lambda: mx.eval(held[0])),
        ("w * b (records)", lambda: w * b, lambda: mx.multiply(ra, rb, stream=s)),
    ]


def per_call_us(fn, number, after=None):
    """µs per call of `number` calls of fn, then `after()` (inside the timing) when given."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    if after is not None:
        after()
    return (time.perf_counter() - t0) / number * 1e6


def run(device, repeats, number):
    rows = []
    for name, ours, raw, *after in cases(device):
        oa, ra = after if after else (None, None)
        for _ in range(max(1, number // 10)):  # warm-up
            ours(), raw()
        o, r, ratios = [], [], []
        for _ in range(repeats):
            to, tr = per_call_us(ours, number, oa), per_call_us(raw, number, ra)
            o.append(to)
            r.append(tr)
            ratios.append(to / tr)
        rows.append((name, statistics.median(o), statistics.median(r), statistics.median(ratios)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser()
    # short runs (about a millisecond), many of them: on a shared machine a run then fits in one time slice
    p.add_argument("--repeats", type=int, default=151)
    p.add_argument("--number", type=int, default=200)
    p.add_argument("--device", default="cpu")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    rows = run(args.device, args.repeats, args.number)
    geo = math.exp(sum(math.log(x[3]) for x in rows) / len(rows))
    print(f"mlx {mx.__version__}, mlx_compat device {args.device}, python {sys.version.split()[0]}; "
          f"median of {args.repeats} x {args.number} calls, us per call")
    if args.markdown:
        print("| call | mlx_compat µs | raw mlx µs | ratio |\n|---|---|---|---|")
        for name, o, r, q in rows:
            print(f"| `{name}` | {o:.2f} | {r:.2f} | {q:.2f}× |")
        print(f"| geometric mean | | | {geo:.2f}× |")
    else:
        print(f"{'call':<22}{'mlx_compat':>12}{'raw mlx':>10}{'ratio':>8}")
        for name, o, r, q in rows:
            print(f"{name:<22}{o:>12.2f}{r:>10.2f}{q:>7.2f}x")
        print(f"{'geometric mean':<44}{geo:>7.2f}x")


if __name__ == "__main__":
    main()
