"""The training run of the profile-guided build of the C core (Note [Profile-guided build] in setup.py): what
PyTorch code typically asks of mlx_compat, on small tensors so that the C paths, not MLX's kernels, take the
time. Run by tools/pgo_build.py against the instrumented `_C`, once on the CPU device and once on 'cuda' under
the fake GPU (Note [Fake GPU] in csrc/module.c) so the GPU device's paths are profiled too. A few seconds each;
it checks nothing (the test suite does) and prints one line."""
from __future__ import annotations

import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mlx.core as mx  # noqa: E402

import mlx_compat as torch  # noqa: E402

nn, F = torch.nn, torch.nn.functional
DEV = "cuda" if os.environ.get("MLX_COMPAT_FAKE_GPU") == "1" else "cpu"


def tensor_ops(n):
    """The per-call operator paths: arithmetic with tensors and scalars, unary functions, reductions, views,
    indexing, shape reads, in-place updates, comparisons, concatenation, products and type changes."""
    a, b = torch.randn(4, 4, device=DEV), torch.randn(4, 4, device=DEV)
    m = a > 0
    i = torch.tensor([0, 2], device=DEV)
    for _ in range(n):
        c = a + b
        c = torch.add(c, b, alpha=2) - a * 2
        c = c / (b.abs() + 1) + 1.5
        d = torch.exp(a) + torch.sigmoid(b) + torch.tanh(a) + torch.relu(b) + a.sqrt().nan_to_num()
        e = F.softmax(d, -1) + F.log_softmax(d, 0) + F.gelu(d)
        e = torch.where(m, e, c)
        f = torch.cat([e, a]).reshape(2, 16).transpose(0, 1).contiguous()
        g = a @ b + torch.matmul(a, b.t()) + torch.mm(a, b)
        s = g.sum() + g.mean(0).sum() + g.max(dim=1).values.sum() + g.amax(-1).sum() + g.std()
        v = a.view(16)[3:9] + a[0].sum() + a[:, 1].sum() + a[1:3, ::2].sum() + a[i].sum() + a[m].sum()
        _ = (a.shape, a.size(0), a.dim(), a.dtype, a.device, a.numel(), a.is_contiguous(), a.stride())
        c.add_(b)
        c.mul_(0.5).clamp_(-1, 1)
        c[0] = 1.0
        c[:, 1] += b[:, 1]
        h = a.to(torch.float16).float() + a.bfloat16().float() + a.long().float()
        k = torch.stack([a, b]).permute(1, 0, 2).flatten(1).unsqueeze(0).squeeze(0).chunk(2, 1)[0]
        _ = (s, v, f, h, k, a.eq(b).any(), torch.argmax(a), a.clone().fill_(0), torch.zeros_like(a) + torch.ones(4, device=DEV))
    mx.eval((c + s)._mx)


def autograd_ops(n):
    """Recording, backward, hooks, retained and accumulated gradients, no_grad and inference mode."""
    w = torch.randn(4, 4, device=DEV, requires_grad=True)
    b = torch.randn(4, device=DEV, requires_grad=True)
    x = torch.randn(8, 4, device=DEV)
    for k in range(n):
        y = torch.tanh(x @ w + b) * 2
        y.retain_grad()
        z = (y.exp() * w.sum() + y.relu()).mean() + (w * b).sum() + F.mse_loss(y, x)
        z.backward()
        if k % 10 == 0:
            (g,) = torch.autograd.grad((w * w).sum(), w, create_graph=True)
            g.sum().backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            w.grad = None
            b.grad.zero_()
        with torch.inference_mode():
            _ = x @ w + 1
    mx.eval(w._mx)


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32, 10)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = self.pool(x + F.relu(self.bn2(self.conv2(x))))
        x = self.down(x)
        return self.fc(self.drop(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))


class _Block(nn.Module):
    """A transformer block: layer norm, attention, MLP, residuals."""

    def __init__(self, d=32, h=4):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        y = self.ln1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def training(n):
    """Eager training steps (MLP with Adam, a small residual CNN with SGD momentum, a transformer block with
    AdamW), evaluation-mode inference, and the same steps compiled."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10)).to(DEV)
    cnn, blk = _CNN().to(DEV), _Block().to(DEV)
    opts = [torch.optim.Adam(mlp.parameters(), 1e-3), torch.optim.SGD(cnn.parameters(), 0.01, momentum=0.9),
            torch.optim.AdamW(blk.parameters(), 1e-3)]
    data = [(torch.randn(16, 20, device=DEV), torch.randint(0, 10, (16,), device=DEV)),
            (torch.randn(4, 3, 8, 8, device=DEV), torch.randint(0, 10, (4,), device=DEV)),
            (torch.randn(2, 6, 32, device=DEV), None)]
    sched = torch.optim.lr_scheduler.StepLR(opts[1], 5)

    def step(model, opt, x, y):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) if y is not None else out.pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    compiled = [torch.compile(lambda x, y, m=m, o=o: step(m, o, x, y)) for m, o in zip((mlp, cnn, blk), opts)]
    for k in range(n):
        for (model, opt, (x, y)), c in zip(zip((mlp, cnn, blk), opts, data), compiled):
            model.train()
            step(model, opt, x, y).item()
            c(x, y)
            model.eval()
            with torch.no_grad():
                mx.eval(model(x)._mx)
        sched.step()
    sd = cnn.state_dict()
    cnn.load_state_dict(sd)


def main():
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tensor_ops(300)
        autograd_ops(200)
        training(30)
    print(f"pgo workload ({DEV}): {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
