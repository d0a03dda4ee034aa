"""The Fashion-MNIST example runs end to end on a small slice: it trains, saves a checkpoint that torch.load reads
into a torch model scoring the same accuracy (the script checks that and exits 1 otherwise), and PyTorch trained
from the same weights on the same batches follows the same loss curve."""
import gzip
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


def _write(folder, prefix, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    # learnable images: a bright bar whose row is the label, plus noise
    images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
    for i, c in enumerate(labels):
        images[i, 2 + 2 * c: 4 + 2 * c] = 250
    for name, arr in ((f"{prefix}-images-idx3-ubyte.gz", images), (f"{prefix}-labels-idx1-ubyte.gz", labels)):
        head = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}i", *arr.shape)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(gzip.compress(head + arr.tobytes()))


# 'gpu' runs under the fake GPU (Note [Fake GPU]: the GPU device's code paths on MLX's CPU): its checkpoint's
# storages are 'cuda' ones, which the script's CPU-side PyTorch must map to its CPU to read
@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_example_trains_saves_and_matches_torch(tmp_path, device):
    data = tmp_path / "data"
    data.mkdir()
    _write(data, "train", 512, 0)
    _write(data, "t10k", 256, 1)
    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1" if device == "gpu" else "0")
    out = subprocess.run([sys.executable, "-m", "mlx_compat.examples.fashion_mnist", "--epochs", "2", "--data",
                          str(data), "--device", device, "--out", str(tmp_path / "out"), "--no-progress",
                          "--batch-size", "64"], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    accs = [float(a) for a in re.findall(r"^epoch \d+: .*test accuracy ([\d.]+)%", text, re.M)]
    assert len(accs) == 2 and accs[-1] > 90  # the bars are easy: it learns
    assert "the same as mlx_compat's" in text
    worst = float(re.search(r"step losses: ([\d.e+-]+)", text).group(1))
    assert worst < 1e-3  # the same computation as PyTorch's, step by step
    assert (tmp_path / "out" / "fashion_mnist_cnn.pt").exists()
