"""The benchmark workloads of the training/inference comparison, each defined twice with the same shapes, dtypes
(float32) and work: once in mlx_compat (torch's API, NCHW) and once in native MLX (mlx.nn + mlx.optimizers, NHWC),
plus the step functions that run one training step (or one inference batch) four ways: mlx_compat eager,
mlx_compat under mlx_compat.compile, native MLX eager and native MLX under mx.compile.

    w = workloads.get("resnet18", size="cpu")        # a Workload: description, model/optimizer/batch factories
    run = workloads.ours_step(w, compiled=True)      # zero-argument callables: one step, evaluated
    run = workloads.native_step(w, compiled=True)

Sizes: "full" is issue 15's (MLP 784-128-10 b64 Adam; ResNet-18 32px b128 SGD-momentum; GPT-2-small 12L d768
h12 T256 b8 vocab 50257 AdamW; ResNet-18 224px b32 inference); "cpu" shrinks what a 2-core CPU cannot finish in
seconds (batch, layers, width, vocabulary), and every Workload says exactly what it runs in `description`.
Only mlx_compat and MLX are imported (no torch).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Optional

import mlx.core as mx
import mlx.nn as mnn
import mlx.optimizers as mxopt

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F

__all__ = ["Workload", "NAMES", "get", "ours_step", "native_step"]

NAMES = ("mlp", "resnet18", "gpt2", "resnet18_infer")


@dataclass
class Workload:
    """One benchmark workload: factories for both sides, with identical shapes and work.

    ours_model() -> mlx_compat nn.Module;  native_model() -> mlx.nn.Module
    ours_batch() -> (x, y) mlx_compat tensors (y None for inference);  native_batch() -> (x, y) mx.arrays
    ours_loss(out, y) / native_loss(out, y) -> scalar loss (None for inference)
    ours_optimizer(params) -> torch.optim optimizer;  native_optimizer() -> mlx.optimizers optimizer
    """

    name: str
    description: str
    train: bool
    ours_model: Callable
    native_model: Callable
    ours_batch: Callable
    native_batch: Callable
    ours_loss: Optional[Callable] = None
    native_loss: Optional[Callable] = None
    ours_optimizer: Optional[Callable] = None
    native_optimizer: Optional[Callable] = None
    sizes: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ MLP
def _mlp(size):
    b = 64
    d = dict(batch=b, dims=(784, 128, 10))
    return Workload(
        "mlp", f"MLP 784-128-10, batch {b}, Adam (lr 1e-3), cross-entropy", True,
        ours_model=lambda: nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
        native_model=lambda: mnn.Sequential(mnn.Linear(784, 128), mnn.ReLU(), mnn.Linear(128, 10)),
        ours_batch=lambda: (torch.randn(b, 784), torch.randint(0, 10, (b,))),
        native_batch=lambda: (mx.random.normal((b, 784)), mx.random.randint(0, 10, (b,))),
        ours_loss=F.cross_entropy,
        native_loss=partial(mnn.losses.cross_entropy, reduction="mean"),
        ours_optimizer=lambda p: torch.optim.Adam(p, lr=1e-3),
        native_optimizer=lambda: mxopt.Adam(learning_rate=1e-3, bias_correction=True),
        sizes=d)


# ------------------------------------------------------------------------------------------ ResNet-18
def _ours_resnet18(classes):
    from mlx_compat.vision.models import resnet18

    return resnet18(num_classes=classes)


class _MBasicBlock(mnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = mnn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = mnn.BatchNorm(cout)
        self.conv2 = mnn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = mnn.BatchNorm(cout)
        if stride != 1 or cin != cout:
            self.down_conv = mnn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.down_bn = mnn.BatchNorm(cout)
        else:
            self.down_conv = None

    def __call__(self, x):
        idt = x if self.down_conv is None else self.down_bn(self.down_conv(x))
        out = mnn.relu(self.bn1(self.conv1(x)))
        return mnn.relu(self.bn2(self.conv2(out)) + idt)


class NativeResNet18(mnn.Module):
    """torchvision's resnet18 layout in mlx.nn (NHWC): 7x7/2 stem, 3x3/2 max-pool, [2, 2, 2, 2] basic blocks,
    global average pool, linear."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = mnn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = mnn.BatchNorm(64)
        self.pool = mnn.MaxPool2d(3, stride=2, padding=1)
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [_MBasicBlock(cin, cout, stride), _MBasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = blocks
        self.fc = mnn.Linear(512, classes)

    def __call__(self, x):
        x = self.pool(mnn.relu(self.bn1(self.conv1(x))))
        for b in self.blocks:
            x = b(x)
        return self.fc(mx.mean(x, axis=(1, 2)))


def _resnet18(size):
    b = 128 if size == "full" else 16
    return Workload(
        "resnet18", f"ResNet-18 (torchvision layout, BatchNorm in train mode) 32x32, batch {b}, 10 classes, "
                    "SGD (lr 0.1, momentum 0.9, weight decay 5e-4), cross-entropy", True,
        ours_model=lambda: _ours_resnet18(10),
        native_model=lambda: NativeResNet18(10),
        ours_batch=lambda: (torch.randn(b, 3, 32, 32), torch.randint(0, 10, (b,))),
        native_batch=lambda: (mx.random.normal((b, 32, 32, 3)), mx.random.randint(0, 10, (b,))),
        ours_loss=F.cross_entropy,
        native_loss=partial(mnn.losses.cross_entropy, reduction="mean"),
        ours_optimizer=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4),
        native_optimizer=lambda: mxopt.SGD(learning_rate=0.1, momentum=0.9, weight_decay=5e-4),
        sizes=dict(batch=b, image=32))


def _resnet18_infer(size):
    b, px = (32, 224) if size == "full" else (4, 112)
    return Workload(
        "resnet18_infer", f"ResNet-18 inference (eval mode, no grad) {px}x{px}, batch {b}, 1000 classes", False,
        ours_model=lambda: _ours_resnet18(1000).eval(),
        native_model=lambda: _eval(NativeResNet18(1000)),
        ours_batch=lambda: (torch.randn(b, 3, px, px), None),
        native_batch=lambda: (mx.random.normal((b, px, px, 3)), None),
        sizes=dict(batch=b, image=px))


def _eval(m):
    m.eval()
    return m


# ------------------------------------------------------------------------------------------ GPT-2-style decoder
class _Block(nn.Module):
    """Pre-LayerNorm decoder block as GPT-2 (nanoGPT's layout): causal self-attention through
    F.scaled_dot_product_attention(is_causal=True), tanh-GELU MLP of width 4d."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj2 = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.c_proj2(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    """GPT-2-style decoder: token + learned position embeddings, pre-LN blocks, final LayerNorm, the output
    projection tied to the token embedding."""

    def __init__(self, vocab, ctx, d, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        # mlx.nn.Embedding draws N(0, 1/d), torch's N(0, 1): with torch's, the tied head's logits have a standard
        # deviation of sqrt(d) (16 at d 256, a first loss of ~170 against native's ~9), the softmax saturates and
        # the wte rows' exp/Adam state underflow to subnormal floats, which x86 computes with microcode assists
        # (ours ran 1.3-2.5x native's time per step on the CPU, worsening step by step). Both sides draw alike.
        for emb in (self.wte, self.wpe):
            nn.init.normal_(emb.weight, std=d ** -0.5)
        self.h = nn.ModuleList(_Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for blk in self.h:
            x = blk(x)
        return F.linear(self.ln_f(x), self.wte.weight)


def _gelu_tanh(x):
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


class _MBlock(mnn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = mnn.LayerNorm(d)
        self.c_attn = mnn.Linear(d, 3 * d)
        self.c_proj = mnn.Linear(d, d)
        self.ln_2 = mnn.LayerNorm(d)
        self.c_fc = mnn.Linear(d, 4 * d)
        self.c_proj2 = mnn.Linear(4 * d, d)

    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = mx.split(self.c_attn(self.ln_1(x)), 3, axis=2)
        q, k, v = (z.reshape(b, t, self.heads, c // self.heads).transpose(0, 2, 1, 3) for z in (q, k, v))
        y = mx.fast.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(c // self.heads), mask="causal")
        x = x + self.c_proj(y.transpose(0, 2, 1, 3).reshape(b, t, c))
        return x + self.c_proj2(_gelu_tanh(self.c_fc(self.ln_2(x))))


class NativeGPT(mnn.Module):
    """The same decoder in mlx.nn."""

    def __init__(self, vocab, ctx, d, heads, layers):
        super().__init__()
        self.wte = mnn.Embedding(vocab, d)
        self.wpe = mnn.Embedding(ctx, d)
        self.h = [_MBlock(d, heads) for _ in range(layers)]
        self.ln_f = mnn.LayerNorm(d)

    def __call__(self, idx):
        x = self.wte(idx) + self.wpe(mx.arange(idx.shape[1]))
        for blk in self.h:
            x = blk(x)
        return self.wte.as_linear(self.ln_f(x))


def _gpt2(size):
    if size == "full":
        c = dict(vocab=50257, ctx=1024, d=768, heads=12, layers=12, batch=8, seq=256)
    else:
        c = dict(vocab=8192, ctx=256, d=256, heads=4, layers=2, batch=4, seq=64)
    b, t, v = c["batch"], c["seq"], c["vocab"]
    arch = dict(vocab=v, ctx=c["ctx"], d=c["d"], heads=c["heads"], layers=c["layers"])

    def ours_loss(logits, y):
        return F.cross_entropy(logits.reshape(-1, v), y.reshape(-1))

    def native_loss(logits, y):
        return mnn.losses.cross_entropy(logits.reshape(-1, v), y.reshape(-1), reduction="mean")

    return Workload(
        "gpt2", f"GPT-2-style decoder {c['layers']} layers, d {c['d']}, {c['heads']} heads, vocab {v}, "
                f"T {t}, batch {b}, tied embedding, AdamW (lr 3e-4, weight decay 0.1), next-token cross-entropy",
        True,
        ours_model=lambda: GPT(**arch),
        native_model=lambda: NativeGPT(**arch),
        ours_batch=lambda: (torch.randint(0, v, (b, t)), torch.randint(0, v, (b, t))),
        native_batch=lambda: (mx.random.randint(0, v, (b, t)), mx.random.randint(0, v, (b, t))),
        ours_loss=ours_loss, native_loss=native_loss,
        ours_optimizer=lambda p: torch.optim.AdamW(p, lr=3e-4, weight_decay=0.1),
        native_optimizer=lambda: mxopt.AdamW(learning_rate=3e-4, weight_decay=0.1, bias_correction=True),
        sizes=c)


_BUILDERS = {"mlp": _mlp, "resnet18": _resnet18, "gpt2": _gpt2, "resnet18_infer": _resnet18_infer}


def get(name, size="full"):
    """The Workload `name` (one of NAMES) at `size` ("full": issue 15's sizes, for a GPU; "cpu": smaller)."""
    if size not in ("full", "cpu"):
        raise ValueError(f"size must be 'full' or 'cpu', not {size!r}")
    return _BUILDERS[name](size)


# ------------------------------------------------------------------------------------------ steps
def ours_step(w, compiled, device=None, seed=0):
    """One mlx_compat step of workload `w` as a zero-argument callable that runs and evaluates it: training
    (zero_grad, forward, loss, backward, optimizer step; the Python function compiled whole with
    mlx_compat.compile when `compiled`), or a no-grad forward for inference (the module compiled)."""
    torch.manual_seed(seed)
    model = w.ours_model()
    x, y = w.ours_batch()
    if device is not None:
        model = model.to(device)
        x = x.to(device)
        y = None if y is None else y.to(device)
    if not w.train:
        fwd = torch.compile(model) if compiled else model

        def infer():
            with torch.no_grad():
                out = fwd(x)
            mx.eval(out._mx)

        return infer
    opt = w.ours_optimizer(model.parameters())
    loss_fn = w.ours_loss

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step) if compiled else step

    def train():
        loss = fn(x, y)
        mx.eval(loss._mx)  # eager: the optimizer's step evaluated parameters and state; the loss too

    return train


def native_step(w, compiled, seed=0):
    """The same step in native MLX as MLX documents it: nn.value_and_grad + optimizer.update, under
    mx.compile with the model's and optimizer's state as the compiled function's inputs and outputs when
    `compiled`; inference is the model's forward (mx.compile'd with its parameters as inputs)."""
    mx.random.seed(seed)
    model = w.native_model()
    mx.eval(model.parameters())
    x, y = w.native_batch()
    mx.eval(x) if y is None else mx.eval(x, y)
    if not w.train:
        fwd = mx.compile(model, inputs=model.state) if compiled else model

        def infer():
            mx.eval(fwd(x))

        return infer
    opt = w.native_optimizer()
    loss_fn = w.native_loss

    def loss_of(model, x, y):
        return loss_fn(model(x), y)

    grad_fn = mnn.value_and_grad(model, loss_of)
    state = [model.state, opt.state]

    def step(x, y):
        loss, grads = grad_fn(model, x, y)
        opt.update(model, grads)
        return loss

    fn = mx.compile(step, inputs=state, outputs=state) if compiled else step

    def train():
        loss = fn(x, y)
        mx.eval(loss, state)

    return train
