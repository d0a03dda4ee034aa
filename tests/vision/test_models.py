"""mlx_compat.vision.models and .ops against torchvision (test-only dependency): a torchvision model with random
weights, its state_dict carried over through numpy, must give the same eval outputs, train-mode gradients and
BatchNorm running statistics, and the builders/weights enums/registry must look like torchvision's."""
import copy
import importlib
import sys
import types

import numpy as np
import pytest
import torch

import mlx_compat
import mlx_compat.vision.models as M
import mlx_compat.vision.ops as O


def _import_torchvision():
    """torchvision 0.28 from PyPI, imported beside the venv's local torch 2.13.0 build.

    Its C extension (_C.so) does not load against this torch build, so torchvision's import-time registrations of
    fake/autograd kernels for its detection ops (torchvision::nms, roi_align, ...) fail with "operator
    torchvision::nms does not exist".  None of the classification models or the ops used here call those C ops,
    so when the plain import fails those two registration modules are replaced by empty ones; the pure-Python
    model definitions are then torchvision's own, unchanged.
    """
    try:
        return importlib.import_module("torchvision")
    except ImportError:
        raise
    except RuntimeError:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
            sys.modules[name] = types.ModuleType(name)
        return importlib.import_module("torchvision")


try:
    torchvision = _import_torchvision()
except ImportError:  # pragma: no cover - the reason is shown by the skip
    pytest.skip("torchvision (a test-only dependency) is not installed", allow_module_level=True)
tvm = torchvision.models


def _to_mx(t):
    return mlx_compat.from_numpy(t.detach().numpy().copy())


def _randomize(model, seed=0):
    """Moves every float parameter and BatchNorm statistic off its (often trivial) initial value."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)
    return model


def _carry(tmodel, mmodel):
    sd = {k: _to_mx(v) for k, v in tmodel.state_dict().items()}
    result = mmodel.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    return mmodel


def _rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.abs(b).max()
    return float(np.abs(a - b).max() / (scale if scale > 0 else 1.0))


def _pair(name, **kwargs):
    torch.manual_seed(0)
    tmodel = _randomize(getattr(tvm, name)(**kwargs))
    mmodel = getattr(M, name)(**kwargs)
    return tmodel, _carry(tmodel, mmodel)


def _images(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _check_keys(tmodel, mmodel):
    tsd, msd = tmodel.state_dict(), mmodel.state_dict()
    assert list(tsd.keys()) == list(msd.keys())
    for k in tsd:
        assert tuple(tsd[k].shape) == tuple(msd[k].shape), k
        assert str(tsd[k].dtype) == str(msd[k].dtype), k
    assert [n for n, _ in tmodel.named_modules()] == [n for n, _ in mmodel.named_modules()]


def _check_eval(tmodel, mmodel, x, tol=1e-5):
    tmodel.eval()
    mmodel.eval()
    with torch.no_grad():
        ref = tmodel(torch.from_numpy(x)).numpy()
    with mlx_compat.no_grad():
        out = mmodel(mlx_compat.from_numpy(x)).numpy()
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert _rel(out, ref) <= tol, _rel(out, ref)


def _check_train_step(tmodel, mmodel, x, tol=1e-4):
    """One train-mode forward+backward: gradients of every parameter, then the BatchNorm buffers it updated.

    Train-mode BatchNorm over few elements (batch 2 at the last stages' 2x2 maps) is ill-conditioned: torch's own
    float32 gradients then differ from its float64 ones by more than 1e-4.  So each gradient is compared with
    torch's float64 gradient, allowed max(tol, 10 x torch float32's own distance from it).
    """
    t64 = copy.deepcopy(tmodel).double().train()
    tmodel.train()
    mmodel.train()
    tout = tmodel(torch.from_numpy(x))
    mout = mmodel(mlx_compat.from_numpy(x))
    t64out = t64(torch.from_numpy(x).double())
    w = np.random.default_rng(2).standard_normal(tuple(tout.shape)).astype(np.float32)
    assert _rel(mout.detach().numpy(), tout.detach().numpy()) <= tol
    (tout * torch.from_numpy(w)).sum().backward()
    (t64out * torch.from_numpy(w).double()).sum().backward()
    (mout * mlx_compat.from_numpy(w)).sum().backward()
    mparams = dict(mmodel.named_parameters())
    t64params = dict(t64.named_parameters())
    for name, p in tmodel.named_parameters():
        assert mparams[name].grad is not None, name
        ref = t64params[name].grad.numpy()
        bound = max(tol, 10 * _rel(p.grad.numpy(), ref))
        assert _rel(mparams[name].grad.numpy(), ref) <= bound, (name, _rel(mparams[name].grad.numpy(), ref), bound)
    mbufs = dict(mmodel.named_buffers())
    for name, b in tmodel.named_buffers():
        if b.dtype == torch.int64:
            assert mbufs[name].item() == b.item(), name
        else:
            np.testing.assert_allclose(mbufs[name].numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


# ---------------------------------------------------------------- ResNet family

RESNETS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
           "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2"])
def test_resnet_eval_parity(name):
    tmodel, mmodel = _pair(name, num_classes=10)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((2, 3, 64, 64)))


@pytest.mark.parametrize(
    "block,kwargs",
    [("BasicBlock", {}), ("Bottleneck", {}), ("Bottleneck", {"groups": 4, "width_per_group": 8})],
)
def test_resnet_train_step(block, kwargs):
    # Full-depth stacks of train-mode BatchNorm over a 2x3x64x64 batch are too ill-conditioned to compare
    # gradients (torch's own float32 and float64 gradients differ by ~10%), so one block per stage.
    torch.manual_seed(0)
    tmodel = _randomize(tvm.ResNet(getattr(tvm.resnet, block), [1, 1, 1, 1], num_classes=10, **kwargs))
    mmodel = _carry(tmodel, M.ResNet(getattr(M.resnet, block), [1, 1, 1, 1], num_classes=10, **kwargs))
    _check_train_step(tmodel, mmodel, _images((2, 3, 64, 64)))


def test_resnet_options():
    # zero_init_residual, replace_stride_with_dilation and a non-default norm_layer follow torchvision's wiring.
    kwargs = dict(num_classes=5, zero_init_residual=True, replace_stride_with_dilation=[False, True, True])
    torch.manual_seed(0)
    tmodel = tvm.resnet50(**kwargs)
    mmodel = M.resnet50(**kwargs)
    assert all(float(m.bn3.weight.abs().sum()) == 0 for m in mmodel.modules() if isinstance(m, M.Bottleneck))
    _carry(_randomize(tmodel), mmodel)
    _check_eval(tmodel, mmodel, _images((1, 3, 48, 48)))
    with pytest.raises(NotImplementedError):
        M.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError):
        M.ResNet(M.BasicBlock, [2, 2, 2, 2], groups=2)
    with pytest.raises(ValueError):
        M.resnet18(replace_stride_with_dilation=[False, True])
