"""Unmodified timm / transformers models under the torch import alias against the same models on real torch.

Each case runs tests/alias/_parity_side.py twice in subprocesses (the alias and real torch cannot share one
interpreter): on real torch it builds the model and saves weights, inputs and results; under
`python -m mlx_compat.run` it loads those weights and inputs into the same unmodified model. Compared: eval
outputs (logits, last hidden state), the training loss, every parameter's gradient, every parameter after one
SGD-with-momentum step, and the floating buffers (BatchNorm running statistics), each <= 1e-4 relative.

"Relative" is to the larger of the tensor's own largest reference magnitude and a tenth of the largest among all
tensors of its kind (all gradients, all stepped parameters, all buffers): a tensor whose exact value is zero (the
gradient of a bias followed by a train-mode BatchNorm, a running mean of a zero-mean activation) holds only
float32 cancellation noise (~1e-6 next to gradients of ~50), which is compared at the scale of its kind.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

SIDE = os.path.join(os.path.dirname(__file__), "_parity_side.py")
TOL = 1e-4


def _run(args, cwd):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


def _parity(family, name, tmp_path):
    base = str(tmp_path / name)
    _run([SIDE, "ref", family, name, base], tmp_path)
    _run(["-m", "mlx_compat.run", SIDE, "alias", family, name, base], tmp_path)
    ref = np.load(base + ".ref.npz")
    got = np.load(base + ".alias.npz")
    ref_keys = sorted(k for k in ref.files if k.startswith("out."))
    assert ref_keys == sorted(got.files)
    assert any(k.startswith("out.grad.") for k in ref_keys) and any(k.startswith("out.step.") for k in ref_keys)
    kind_max = {}
    for k in ref_keys:
        kind = k.split(".")[1]
        kind_max[kind] = max(kind_max.get(kind, 0.0), float(np.abs(ref[k]).max()))
    failures = []
    for k in ref_keys:
        a, b = got[k], ref[k]
        assert a.shape == b.shape, k
        scale = max(float(np.abs(b).max()), 0.1 * kind_max[k.split(".")[1]], 1e-12)
        err = float(np.abs(a.astype(np.float64) - b).max() / scale)
        if err > TOL:
            failures.append((k, err))
    assert not failures, failures[:20]


TIMM_MODELS = ["resnet18", "resnet50", "efficientnet_b0", "vit_tiny_patch16_224", "convnext_tiny"]


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed (test extra)")
@pytest.mark.parametrize("name", TIMM_MODELS)
def test_timm(name, tmp_path):
    _parity("timm", name, tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                    reason="transformers is not installed (test extra)")
@pytest.mark.parametrize("name", ["gpt2", "bert", "llama"])
def test_transformers(name, tmp_path):
    _parity("transformers", name, tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                    reason="transformers is not installed (test extra)")
def test_transformers_gpt2_greedy_generate(tmp_path):
    """GPT2LMHeadModel.generate (greedy, KV cache) gives real torch's tokens, token for token."""
    base = str(tmp_path / "gen")
    _run([SIDE, "ref", "generate", "gpt2", base], tmp_path)
    _run(["-m", "mlx_compat.run", SIDE, "alias", "generate", "gpt2", base], tmp_path)
    ref = np.load(base + ".ref.npz")["out.tokens"]
    got = np.load(base + ".alias.npz")["out.tokens"]
    assert ref.shape == (1, 28) and len(set(ref[0, 4:].tolist())) > 3  # decoding is not stuck on one token
    np.testing.assert_array_equal(got, ref)


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                    reason="transformers is not installed (test extra)")
@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_transformers_under_autocast(name, tmp_path):
    """An unmodified model's training forward under torch.autocast("cpu", bfloat16): bfloat16 logits, a float32
    loss and float32 gradients as real torch's, values within bfloat16 rounding (Note [Autocast as a function
    mode])."""
    base = str(tmp_path / name)
    _run([SIDE, "ref", "autocast", name, base], tmp_path)
    _run(["-m", "mlx_compat.run", SIDE, "alias", "autocast", name, base], tmp_path)
    ref, got = np.load(base + ".ref.npz"), np.load(base + ".alias.npz")
    assert list(got["out.dtypes"]) == list(ref["out.dtypes"]) == ["torch.bfloat16", "torch.float32", "torch.float32"]
    assert sorted(k for k in ref.files if k.startswith("out.")) == sorted(got.files)
    for k in got.files:
        if k == "out.dtypes":
            continue
        scale = max(float(np.abs(ref[k]).max()), 1e-6)
        assert float(np.abs(got[k].astype(np.float64) - ref[k]).max()) / scale < 2e-2, k
