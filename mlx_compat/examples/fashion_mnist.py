"""Train a small CNN on Fashion-MNIST with mlx_compat as a PyTorch script would: vision.datasets.FashionMNIST,
utils.data.DataLoader, nn, optim, a OneCycleLR schedule, save/load.

    python -m mlx_compat.examples.fashion_mnist [--epochs N] [--data DIR] [--device cpu|gpu]

Per epoch it prints the mean training loss, the test accuracy, images/s and the elapsed time (a tqdm progress
bar where tqdm is installed). It saves the trained state_dict in PyTorch's format; where torch is installed it
also trains the same model in torch from the same initial weights on the same batches, loads the checkpoint into
a torch model and checks that it scores the test accuracy mlx_compat measured. Where matplotlib is installed
it draws the loss and accuracy curves (torch's beside ours). The data come from Debian's dataset-fashion-mnist
(`apt-get install dataset-fashion-mnist`) or from --data DIR holding the four IDX files.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import mlx_compat as torch
from mlx_compat import nn
from mlx_compat.utils.data import DataLoader, TensorDataset
from mlx_compat.vision import datasets

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's training-set pixel statistics


def build_model(nn_module):
    """The CNN, written once for either library's `nn` (torch.nn or mlx_compat.nn)."""
    return nn_module.Sequential(
        nn_module.Conv2d(1, 16, 3, padding=1), nn_module.ReLU(), nn_module.MaxPool2d(2),
        nn_module.Conv2d(16, 32, 3, padding=1), nn_module.ReLU(), nn_module.MaxPool2d(2),
        nn_module.Flatten(), nn_module.Linear(32 * 7 * 7, 128), nn_module.ReLU(), nn_module.Linear(128, 10))


def load_split(root, train, limit=None):
    """Images as normalized float (N, 1, 28, 28) and labels as int64 (N,)."""
    ds = datasets.FashionMNIST(root, train=train)
    x, y = ds.data, ds.targets
    if limit:
        x, y = x[:limit], y[:limit]
    x = ((x.to(torch.float32) / 255.0 - MEAN) / STD).unsqueeze(1)
    return x, y


def progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stdout)


def evaluate(lib, model, x, y, batch=1000):
    model.eval()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(y), batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item())
    model.train()
    return correct / len(y)


def make_optimizer(lib, model, lr, steps):
    opt = lib.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    return opt, sched


def train_torch(model_state, batches_per_epoch, x, y, xt, yt, lr, steps):
    """The same training in PyTorch (same initial weights, same batches): its per-epoch loss and accuracy."""
    import torch as real

    real.manual_seed(0)
    model = build_model(real.nn)
    model.load_state_dict(model_state)
    opt, sched = make_optimizer(real, model, lr, steps)
    tx, ty = real.from_numpy(x.numpy().copy()), real.from_numpy(y.numpy().copy())
    txt, tyt = real.from_numpy(xt.numpy().copy()), real.from_numpy(yt.numpy().copy())
    losses, accs, step_losses = [], [], []
    for batches in batches_per_epoch:
        total = 0.0
        for idx in batches:
            idx = real.tensor(idx)
            opt.zero_grad()
            loss = real.nn.functional.cross_entropy(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
            sched.step()
            step_losses.append(loss.item())
            total += step_losses[-1]
        losses.append(total / len(batches))
        accs.append(evaluate(real, model, txt, tyt))
    return losses, accs, step_losses


def plot(path, ours, theirs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(ours["step_losses"], label="mlx_compat", lw=0.8)
    if theirs:
        ax1.plot(theirs["step_losses"], label="PyTorch", lw=0.8, alpha=0.7)
    ax1.set_xlabel("step")
    ax1.set_ylabel("training loss")
    ax1.legend()
    epochs = range(1, len(ours["accs"]) + 1)
    ax2.plot(epochs, [100 * a for a in ours["accs"]], "o-", label="mlx_compat")
    if theirs:
        ax2.plot(epochs, [100 * a for a in theirs["accs"]], "s--", label="PyTorch")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("test accuracy (%)")
    ax2.legend()
    fig.suptitle("Fashion-MNIST CNN")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mlx_compat.examples.fashion_mnist",
                                description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--data", default=None, help=f"folder with the IDX files (default: {DEBIAN_DIR})")
    p.add_argument("--device", choices=["cpu", "gpu"], default=None,
                   help="default: the GPU where MLX has one, else the CPU")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training/test images")
    p.add_argument("--out", default="fashion_mnist_out", help="folder for the checkpoint and the plot")
    p.add_argument("--no-torch", action="store_true", help="skip the comparison with PyTorch")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)

    root = args.data or DEBIAN_DIR
    if args.data is None and not os.path.isdir(DEBIAN_DIR):
        print(f"{DEBIAN_DIR} does not exist: install Debian's dataset-fashion-mnist "
              "(`apt-get install dataset-fashion-mnist`) or pass --data DIR", file=sys.stderr)
        return 2
    gpu = torch.cuda.is_available() or torch.backends.mps.is_available()
    device = torch.device("cuda" if (args.device == "gpu" or (args.device is None and gpu)) else "cpu")
    if args.device == "gpu" and not gpu:
        print("no GPU is available to MLX here; use --device cpu", file=sys.stderr)
        return 2

    torch.manual_seed(0)
    try:
        x, y = load_split(root, True, args.limit)
        xt, yt = load_split(root, False, args.limit)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 2
    x, y, xt, yt = x.to(device), y.to(device), xt.to(device), yt.to(device)
    model = build_model(nn).to(device)
    initial_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    # the batches of every epoch, drawn up front from one seeded generator so PyTorch can see the same ones
    g = torch.Generator().manual_seed(0)
    batch_sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(range(len(y)), generator=g),
                                                  args.batch_size, drop_last=False)
    batches_per_epoch = [list(batch_sampler) for _ in range(args.epochs)]
    steps = sum(len(b) for b in batches_per_epoch)
    opt, sched = make_optimizer(torch, model, args.lr, steps)
    dataset = TensorDataset(x, y)

    print(f"mlx_compat {torch.__version__} on {device}: {len(y)} training images, {len(yt)} test images, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    ours = {"losses": [], "accs": [], "step_losses": []}
    start = time.time()
    for epoch, batches in enumerate(batches_per_epoch, 1):
        t0 = time.time()
        loader = DataLoader(dataset, batch_sampler=batches)
        total = 0.0
        bar = progress(loader, len(batches), f"epoch {epoch}", not args.no_progress)
        for xb, yb in bar:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            ours["step_losses"].append(loss.item())
            total += ours["step_losses"][-1]
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{ours['step_losses'][-1]:.3f}")
        train_time = time.time() - t0
        ours["losses"].append(total / len(batches))
        ours["accs"].append(evaluate(torch, model, xt, yt))
        print(f"epoch {epoch}: train loss {ours['losses'][-1]:.4f}  test accuracy {100 * ours['accs'][-1]:.2f}%  "
              f"{len(y) / train_time:.0f} images/s  elapsed {time.time() - start:.1f}s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "fashion_mnist_cnn.pt")
    torch.save(model.state_dict(), ckpt)
    print(f"saved {ckpt}")

    theirs = None
    try:
        import torch as real  # noqa: F401
        have_torch = not args.no_torch
    except ImportError:
        have_torch = False
    status = 0
    if have_torch:
        import torch as real
        state = real.load(ckpt, map_location="cpu")  # PyTorch reads our checkpoint (evaluated on its CPU)
        check = build_model(real.nn)
        check.load_state_dict(state)
        txt, tyt = real.from_numpy(xt.cpu().numpy().copy()), real.from_numpy(yt.cpu().numpy().copy())
        acc = evaluate(real, check, txt, tyt)
        same = abs(acc - ours["accs"][-1]) <= 1e-3
        print(f"PyTorch loaded {ckpt}: test accuracy {100 * acc:.2f}% "
              f"({'the same as' if same else 'DIFFERENT from'} mlx_compat's {100 * ours['accs'][-1]:.2f}%)")
        status = 0 if same else 1
        buf = {k: real.from_numpy(v.cpu().numpy().copy()) for k, v in initial_state.items()}
        t0 = time.time()
        losses, accs, step_losses = train_torch(buf, batches_per_epoch, x.cpu(), y.cpu(), xt.cpu(), yt.cpu(),
                                                args.lr, steps)
        theirs = {"losses": losses, "accs": accs, "step_losses": step_losses}
        for e, (lo, ac) in enumerate(zip(losses, accs), 1):
            print(f"PyTorch epoch {e}: train loss {lo:.4f}  test accuracy {100 * ac:.2f}%")
        print(f"PyTorch trained the same model on the same batches in {time.time() - t0:.1f}s")
        worst = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours["step_losses"], step_losses))
        print(f"largest relative difference between the two runs' step losses: {worst:.2e}")
    picture = os.path.join(args.out, "fashion_mnist_curves.png")
    if plot(picture, ours, theirs):
        print(f"wrote {picture}")
    return status


if __name__ == "__main__":
    sys.exit(main())
