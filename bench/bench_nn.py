"""nn.Module overhead: a 20-layer MLP forward at batch 1 through mlx_compat.nn against the same network in mlx.nn
(graph building plus one evaluation per call, and graph building alone), and parameters()/named_parameters()/
state_dict() over a ResNet-50-sized module tree against torch's. Medians of REPEATS runs, ours and theirs
interleaved so machine noise hits both; ratios from the same run.

Usage: python bench/bench_nn.py [--repeats N] [--number N]
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import mlx.core as mx
import mlx.nn as mnn

import mlx_compat as mc


def median_us(fn, number, repeats):
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e6


def mlp_cases(width=256, depth=20):
    layers = []
    for _ in range(depth):
        layers += [mc.nn.Linear(width, width), mc.nn.ReLU()]
    ours = mc.nn.Sequential(*layers)
    native = mnn.Sequential(*[m for _ in range(depth) for m in (mnn.Linear(width, width), mnn.ReLU())])
    mx.eval(native.parameters())
    x, rx = mc.ones(1, width), mx.ones((1, width))

    def ours_eval():
        mc.eval(ours(x))

    def native_eval():
        mx.eval(native(rx))

    return [("MLP 20x256 forward b1 (+eval)", ours_eval, native_eval),
            ("MLP 20x256 forward b1 (graph only)", lambda: ours(x), lambda: native(rx))]


def resnet50_like(lib):
    """A module tree with ResNet-50's parameter count and layout (53 convs, 53 BatchNorms, one Linear)."""
    nn = lib.nn

    class Bottleneck(nn.Module):
        def __init__(self, inp, planes, stride, down):
            super().__init__()
            self.conv1 = nn.Conv2d(inp, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = nn.Sequential(nn.Conv2d(inp, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4)) if down else None

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            inp, stages = 64, []
            for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                seq = [Bottleneck(inp, planes, stride, True)] + [Bottleneck(planes * 4, planes, 1, False)
                                                                 for _ in range(blocks - 1)]
                inp = planes * 4
                stages.append(nn.Sequential(*seq))
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.fc = nn.Linear(2048, 1000)

    return Net()


def tree_cases():
    import torch

    ours, theirs = resnet50_like(mc), resnet50_like(torch)
    return [("resnet50 parameters()", lambda: list(ours.parameters()), lambda: list(theirs.parameters())),
            ("resnet50 named_parameters()", lambda: list(ours.named_parameters()),
             lambda: list(theirs.named_parameters())),
            ("resnet50 state_dict()", lambda: ours.state_dict(), lambda: theirs.state_dict())]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--number", type=int, default=50)
    args = ap.parse_args()
    print(f"{'case':40s} {'ours us':>10s} {'other us':>10s} {'ratio':>7s}")
    print("-- vs native mlx.nn")
    for name, a, b in mlp_cases():
        a(), b()
        ta, tb = [], []
        for _ in range(args.repeats):
            ta.append(median_us(a, args.number, 1))
            tb.append(median_us(b, args.number, 1))
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"{name:40s} {ma:10.1f} {mb:10.1f} {ma / mb:6.2f}x")
    print("-- vs torch.nn")
    for name, a, b in tree_cases():
        a(), b()
        ta, tb = [], []
        for _ in range(args.repeats):
            ta.append(median_us(a, max(1, args.number // 10), 1))
            tb.append(median_us(b, max(1, args.number // 10), 1))
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"{name:40s} {ma:10.1f} {mb:10.1f} {ma / mb:6.2f}x")


if __name__ == "__main__":
    main()
