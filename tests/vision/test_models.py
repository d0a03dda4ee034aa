"""mlx_compat.vision.models and .ops against torchvision (test-only dependency): a torchvision model with random
weights, its state_dict carried over through numpy, must give the same eval outputs, train-mode gradients and
BatchNorm running statistics, and the builders/weights enums/registry must look like torchvision's."""
import copy

import numpy as np
import pytest
import torch

import mlx_compat
import mlx_compat.vision.models as M
import mlx_compat.vision.ops as O
import vision_reference


try:
    torchvision = vision_reference.import_torchvision()
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

    Train-mode BatchNorm over few elements per channel (small batches at the last stages' 2x2 maps) makes deep
    networks' gradients ill-conditioned: torch's own float32 gradients can then differ from its float64 ones by
    1e-2.  So every gradient is compared with torch's float64 gradient, allowed max(tol, 10 x the largest distance
    of torch's float32 gradients from theirs in this model); well-conditioned models keep the plain tol.
    Gradients that are mathematically zero (a BatchNorm bias feeding straight into another train-mode
    BatchNorm) are measured against the model's largest gradient instead of their own rounding noise.
    """
    t64 = copy.deepcopy(tmodel).double().train()
    tmodel.train()
    mmodel.train()
    tout = tmodel(torch.from_numpy(x))
    mout = mmodel(mlx_compat.from_numpy(x))
    t64out = t64(torch.from_numpy(x).double())
    w = np.random.default_rng(2).standard_normal(tuple(tout.shape)).astype(np.float32)
    assert _rel(mout.detach().numpy(), t64out.detach().numpy()) <= max(tol, 10 * _rel(tout.detach().numpy(), t64out.detach().numpy()))
    (tout * torch.from_numpy(w)).sum().backward()
    (t64out * torch.from_numpy(w).double()).sum().backward()
    (mout * mlx_compat.from_numpy(w)).sum().backward()
    mparams = dict(mmodel.named_parameters())
    refs = {name: p.grad.numpy() for name, p in t64.named_parameters()}
    floor = 1e-6 * max(np.abs(r).max() for r in refs.values())

    def err(a, ref):
        return float(np.abs(np.asarray(a, np.float64) - ref).max() / max(np.abs(ref).max(), floor))

    cond = max(err(p.grad.numpy(), refs[name]) for name, p in tmodel.named_parameters())
    bound = max(tol, 10 * cond)
    for name, p in tmodel.named_parameters():
        assert mparams[name].grad is not None, name
        e = err(mparams[name].grad.numpy(), refs[name])
        assert e <= bound, (name, e, bound)
    # Running statistics: compared with torch's float64 step, allowed max(1e-5, 10 x torch float32's distance).
    mbufs = dict(mmodel.named_buffers())
    t64bufs = dict(t64.named_buffers())
    tbufs = dict(tmodel.named_buffers())
    floats = [n for n, b in tbufs.items() if b.dtype != torch.int64]
    bcond = max([_rel(tbufs[n].numpy(), t64bufs[n].numpy()) for n in floats], default=0.0)
    for name, b in tbufs.items():
        if b.dtype == torch.int64:
            assert np.array_equal(mbufs[name].numpy(), b.numpy()), name
        else:
            assert _rel(mbufs[name].numpy(), t64bufs[name].numpy()) <= max(1e-5, 10 * bcond), name


# ---------------------------------------------------------------- ResNet family

RESNETS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
           "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d"])
def test_resnet_eval_parity(name):
    tmodel, mmodel = _pair(name, num_classes=10)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


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


# ---------------------------------------------------------------- MobileNet, EfficientNet, ConvNeXt


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0"])
def test_mobile_eval_parity(name):
    tmodel, mmodel = _pair(name, num_classes=10)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


def _mobile_small(name, mod):
    """The architectures' own blocks in short stacks: the full models' train steps are too slow for this file."""
    if name == "mobilenet_v2":
        return mod.MobileNetV2(num_classes=5, width_mult=0.5, dropout=0.0,
                               inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]])
    if name == "mobilenet_v3":
        conf = mod.mobilenetv3.InvertedResidualConfig
        setting = [conf(16, 3, 16, 16, True, "RE", 2, 1, 1.0), conf(16, 3, 72, 24, False, "RE", 2, 1, 1.0),
                   conf(24, 5, 96, 24, True, "HS", 1, 1, 1.0), conf(24, 5, 96, 40, True, "HS", 1, 2, 1.0)]
        return mod.MobileNetV3(setting, 64, num_classes=5, dropout=0.0)
    conf = mod.efficientnet.MBConvConfig
    setting = [conf(1, 3, 1, 32, 16, 1, 0.5), conf(6, 3, 2, 16, 24, 2, 0.5), conf(6, 5, 2, 24, 40, 1, 0.5)]
    return mod.EfficientNet(setting, dropout=0.0, stochastic_depth_prob=0.0, num_classes=5)


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3", "efficientnet"])
def test_mobile_train_step(name):
    # dropout/stochastic depth off: their random masks cannot be shared between the two frameworks.
    torch.manual_seed(0)
    tmodel = _randomize(_mobile_small(name, tvm))
    mmodel = _carry(tmodel, _mobile_small(name, M))
    _check_keys(tmodel, mmodel)
    _check_train_step(tmodel, mmodel, _images((2, 3, 32, 32)))


@pytest.mark.parametrize("name", ["efficientnet_b4", "efficientnet_b5", "efficientnet_v2_s", "efficientnet_v2_m"])
def test_efficientnet_large_eval_parity(name):
    # b4 (default BatchNorm), b5 (B5-B7's eps=1e-3, momentum=0.01) and V2-S/M (Fused-MBConv stages, eps=1e-3) at
    # full width and depth; one 32x32 image keeps each to one cheap forward (b6/b7 differ from b5 only in width and
    # depth multipliers: their keys and shapes are checked in test_state_dict_keys).
    tmodel, mmodel = _pair(name, num_classes=10)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((1, 3, 32, 32)))


def _efficientnet_v2_small(mod, nn_mod):
    """EfficientNetV2-L's stage kinds and expansions (Fused-MBConv 1 and 4, then MBConv 4 and 6) one or two blocks
    deep, with V2's BatchNorm eps.  The full V2-L with random weights is too ill-conditioned to compare: its
    activations reach 1e7 and torch's own float32 output differs from its float64 output by ~10%."""
    from functools import partial

    fused, mb = mod.efficientnet.FusedMBConvConfig, mod.efficientnet.MBConvConfig
    setting = [fused(1, 3, 1, 16, 16, 2), fused(4, 3, 2, 16, 24, 1), mb(4, 3, 2, 24, 32, 2), mb(6, 3, 1, 32, 40, 1)]
    return mod.EfficientNet(setting, dropout=0.0, stochastic_depth_prob=0.0, num_classes=5, last_channel=64,
                            norm_layer=partial(nn_mod.BatchNorm2d, eps=1e-3))


def test_efficientnet_v2_blocks_eval_and_train_step():
    torch.manual_seed(0)
    tmodel = _randomize(_efficientnet_v2_small(tvm, torch.nn))
    mmodel = _carry(tmodel, _efficientnet_v2_small(M, mlx_compat.nn))
    _check_keys(tmodel, mmodel)
    assert isinstance(mmodel.features[1][0], M.efficientnet.FusedMBConv)
    x = _images((2, 3, 32, 32))
    _check_eval(tmodel, mmodel, x)
    _check_train_step(tmodel, mmodel, x)


def test_efficientnet_builder_errors():
    with pytest.raises(TypeError, match="multiple values for keyword argument 'norm_layer'"):
        M.efficientnet_v2_s(norm_layer=mlx_compat.nn.BatchNorm2d)
    with pytest.raises(TypeError, match="multiple values for keyword argument 'norm_layer'"):
        tvm.efficientnet_v2_s(norm_layer=torch.nn.BatchNorm2d)
    with pytest.raises(ValueError, match="Unsupported model type"):
        M.efficientnet._efficientnet_conf("efficientnet_v3")
    with pytest.raises(RuntimeError, match="efficientnet_v2_l-59c71312.pth"):
        M.efficientnet_v2_l(weights="DEFAULT")


def test_mobilenet_v3_options():
    tmodel, mmodel = _pair("mobilenet_v3_large", num_classes=7, width_mult=0.75, reduced_tail=True, dilated=True)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((1, 3, 32, 32)))


def test_convnext_tiny_eval_parity():
    tmodel, mmodel = _pair("convnext_tiny", num_classes=10)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


def test_convnext_train_step():
    # convnext_tiny's blocks and downsampling at reduced widths/depths (the full model's step is too slow here).
    def build(mod):
        setting = [mod.CNBlockConfig(8, 16, 1), mod.CNBlockConfig(16, 24, 2), mod.CNBlockConfig(24, None, 1)]
        return mod.ConvNeXt(setting, stochastic_depth_prob=0.0, layer_scale=0.5, num_classes=5)

    torch.manual_seed(0)
    tmodel = _randomize(build(tvm.convnext))
    mmodel = _carry(tmodel, build(M.convnext))
    _check_keys(tmodel, mmodel)
    x = _images((2, 3, 32, 32))
    _check_eval(tmodel, mmodel, x)
    _check_train_step(tmodel, mmodel, x)


# ---------------------------------------------------------------- Vision Transformer


def test_vit_b_16_parity():
    # vit_b_16's real widths, heads and depth (86M parameters); image_size=32 keeps the sequence at 5 tokens so
    # the file stays fast (the default 224 only lengthens encoder.pos_embedding to 197 positions).
    tmodel, mmodel = _pair("vit_b_16", image_size=32)
    _check_keys(tmodel, mmodel)
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"representation_size": 12},
        {"conv_stem_configs": "stem"},
    ],
)
def test_vision_transformer_train_step(kwargs):
    def build(mod, vt_module):
        kw = dict(kwargs)
        if kw.get("conv_stem_configs") == "stem":
            kw["conv_stem_configs"] = [vt_module.ConvStemConfig(8, 3, 2), vt_module.ConvStemConfig(8, 3, 4)]
        return mod(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5, **kw)

    torch.manual_seed(0)
    tmodel = _randomize(build(tvm.VisionTransformer, tvm.vision_transformer))
    mmodel = _carry(tmodel, build(M.VisionTransformer, M.vision_transformer))
    _check_keys(tmodel, mmodel)
    x = _images((3, 3, 32, 32))
    _check_eval(tmodel, mmodel, x)
    _check_train_step(tmodel, mmodel, x)


def test_swin_t_keys():
    with torch.device("meta"):
        tmodel = tvm.swin_t()
    _check_keys(tmodel, M.swin_t())


def test_vit_b_16_default_image_size():
    with torch.device("meta"):
        tmodel = tvm.vit_b_16()
    _check_keys(tmodel, M.vit_b_16())  # encoder.pos_embedding: (1, 197, 768) in both


@pytest.mark.parametrize("size", [(40, 44), (24, 24)])
def test_swin_transformer_parity(size):
    # swin_t's blocks (shifted windows with padding, the shift mask, patch merging) at a reduced size;
    # 40x44 pads the 10x11 and 5x6 maps to the 3x3 window, 24x24 turns the shift off in the last stage.
    def build(mod):
        return mod.SwinTransformer([4, 4], 8, [2, 2], [2, 4], [3, 3], stochastic_depth_prob=0.0, num_classes=5)

    torch.manual_seed(0)
    tmodel = _randomize(build(tvm))
    mmodel = _carry(tmodel, build(M))
    _check_keys(tmodel, mmodel)
    x = _images((2, 3) + size)
    _check_eval(tmodel, mmodel, x)
    _check_train_step(tmodel, mmodel, x)


def test_vision_transformer_loads_version_1_mlp_keys():
    # torchvision renames MLPBlock's old "linear_1"/"linear_2" keys when the checkpoint's metadata says version 1.
    from collections import OrderedDict

    torch.manual_seed(0)
    tmodel = _randomize(tvm.VisionTransformer(32, 8, 1, 2, 16, 32, num_classes=3))
    sd = tmodel.state_dict()
    old = OrderedDict()
    for k, v in sd.items():
        k = k.replace("mlp.0.", "mlp.linear_1.").replace("mlp.3.", "mlp.linear_2.")
        old[k] = _to_mx(v)
    old._metadata = OrderedDict((k, dict(v)) for k, v in sd._metadata.items())
    old._metadata["encoder.layers.encoder_layer_0.mlp"]["version"] = 1
    mmodel = M.VisionTransformer(32, 8, 1, 2, 16, 32, num_classes=3)
    result = mmodel.load_state_dict(old)
    assert not result.missing_keys and not result.unexpected_keys
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


def test_vision_transformer_rejects_wrong_sizes():
    with pytest.raises(AssertionError):
        M.VisionTransformer(30, 8, 1, 2, 16, 32)
    model = M.VisionTransformer(32, 8, 1, 2, 16, 32)
    with pytest.raises(AssertionError):
        model(mlx_compat.zeros(1, 3, 24, 32))


# ---------------------------------------------------------------- structure of the remaining builders

ALL = RESNETS + ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
                 "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "efficientnet_b6",
                 "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l", "convnext_tiny", "convnext_small", "convnext_base",
                 "convnext_large", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14", "swin_t"]


@pytest.mark.parametrize("name", ["resnet34", "resnet101", "resnet152", "resnext101_64x4d", "wide_resnet50_2", "efficientnet_b1",
                                  "efficientnet_b2", "efficientnet_b3", "efficientnet_b6", "efficientnet_b7",
                                  "efficientnet_v2_l", "vit_b_32"])
def test_state_dict_keys(name):
    with torch.device("meta"):
        tmodel = getattr(tvm, name)()
    _check_keys(tmodel, getattr(M, name)())


@pytest.mark.parametrize("name", ALL)
def test_builder_signature_and_weights_enum(name):
    import inspect

    tb, mb = getattr(tvm, name), getattr(M, name)
    tsig, msig = inspect.signature(tb), inspect.signature(mb)
    assert [(p.name, p.kind, p.default) for p in tsig.parameters.values()] == [
        (p.name, p.kind, p.default) for p in msig.parameters.values()
    ]
    tenum, menum = tvision_models_weights(name), M.get_model_weights(name)
    assert menum.__name__ == tenum.__name__
    assert list(menum.__members__) == list(tenum.__members__)
    for member, tmember in zip(menum.__members__.values(), tenum.__members__.values()):
        assert member.name == tmember.name
        assert member.url == tmember.url
        assert member.meta["num_params"] == tmember.meta["num_params"]
        assert member.meta["categories"] == tmember.meta["categories"]
        assert member.transforms.keywords.keys() == tmember.transforms.keywords.keys()
    assert menum.verify("DEFAULT") is menum.DEFAULT
    assert menum.verify(f"{menum.__name__}.DEFAULT") is menum.DEFAULT
    assert menum.verify(None) is None


def tvision_models_weights(name):
    return tvm.get_model_weights(name)


def test_weights_are_never_downloaded():
    for kwargs in ({"weights": "DEFAULT"}, {"weights": M.ResNet18_Weights.IMAGENET1K_V1}, {"pretrained": True}):
        with pytest.raises(RuntimeError, match="does not download") as info:
            M.resnet18(**kwargs)
        assert "load_state_dict" in str(info.value) and "resnet18-f37072fd.pth" in str(info.value)
    with pytest.raises(RuntimeError, match="does not download"):
        M.ViT_B_16_Weights.DEFAULT.get_state_dict(progress=False)
    with pytest.raises(TypeError):
        M.resnet18(weights=M.ResNet50_Weights.DEFAULT)
    with pytest.raises(KeyError):
        M.resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(ValueError):
        M.resnet50(num_classes=10, weights="DEFAULT")
    assert isinstance(M.resnet18(pretrained=False, num_classes=3), M.ResNet)


def test_frozen_batch_norm_2d():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(4)
    _randomize(bn)
    ref = torchvision.ops.FrozenBatchNorm2d(4, eps=1e-3)
    ours = O.FrozenBatchNorm2d(4, eps=1e-3)
    sd = bn.state_dict()
    assert "num_batches_tracked" in sd
    ref.load_state_dict(sd)
    result = ours.load_state_dict({k: _to_mx(v) for k, v in sd.items()})  # the counter is dropped, not unexpected
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(ref.state_dict()) and not list(ours.parameters())
    x = _images((2, 4, 5, 5))
    np.testing.assert_allclose(ours(mlx_compat.from_numpy(x)).numpy(), ref(torch.from_numpy(x)).numpy(),
                               rtol=1e-6, atol=1e-6)
    assert repr(ours) == repr(ref) == "FrozenBatchNorm2d(4, eps=0.001)"


def test_registry():
    names = M.list_models()
    assert names == sorted(names) and set(ALL) <= set(names)
    assert set(names) <= set(tvm.list_models())
    assert M.list_models(include="resnet1*") == [n for n in tvm.list_models(include="resnet1*")]
    assert "resnet18" not in M.list_models(exclude=["resnet*"])
    assert M.list_models(module=M) == names  # torchvision: a package's builders, not a file's
    assert M.list_models(module=M.resnet) == tvm.list_models(module=tvm.resnet) == []
    model = M.get_model("mobilenet_v3_small", num_classes=4)
    assert isinstance(model, M.MobileNetV3) and model.classifier[-1].out_features == 4
    assert M.get_model_weights("resnet50") is M.ResNet50_Weights
    assert M.get_model_weights(M.resnet50) is M.ResNet50_Weights
    assert M.get_weight("ResNet50_Weights.IMAGENET1K_V2") is M.ResNet50_Weights.DEFAULT
    with pytest.raises(ValueError):
        M.get_model("no_such_model")


# ---------------------------------------------------------------- vision.ops


def test_ops_blocks_parity():
    tops = torchvision.ops
    cases = [
        (lambda ops: ops.Conv2dNormActivation(4, 6, kernel_size=3, stride=2, groups=2), (2, 4, 9, 9)),
        (lambda ops: ops.Conv2dNormActivation(4, 6, kernel_size=(3, 5), dilation=(1, 2), activation_layer=None), (2, 4, 9, 9)),
        (lambda ops: ops.SqueezeExcitation(6, 3), (2, 6, 5, 5)),
        (lambda ops: ops.MLP(6, [8, 4], norm_layer=None, activation_layer=tmod(ops).GELU, dropout=0.0), (3, 6)),
        (lambda ops: ops.Permute([0, 2, 3, 1]), (2, 3, 4, 5)),
    ]
    for build, shape in cases:
        torch.manual_seed(0)
        tmodel = _randomize(build(tops))
        mmodel = _carry(tmodel, build(O))
        assert [n for n, _ in tmodel.named_modules()] == [n for n, _ in mmodel.named_modules()]
        x = _images(shape)
        _check_eval(tmodel, mmodel, x)
        if any(True for _ in tmodel.parameters()):
            _check_train_step(tmodel, mmodel, x)


def tmod(ops):
    return torch.nn if ops is torchvision.ops else mlx_compat.nn


def test_stochastic_depth():
    x = mlx_compat.ones(64, 3, 4)
    assert O.stochastic_depth(x, 0.5, "row", training=False) is x
    assert O.stochastic_depth(x, 0.0, "batch") is x
    assert float(O.stochastic_depth(x, 1.0, "row").abs().sum()) == 0.0
    mlx_compat.manual_seed(0)
    y = O.stochastic_depth(x, 0.5, "row").numpy()
    per_row = y.reshape(64, -1)
    assert set(np.unique(per_row)) <= {0.0, 2.0}
    assert (per_row == per_row[:, :1]).all()  # one draw per row
    assert 0 < (per_row[:, 0] == 0).sum() < 64
    b = O.stochastic_depth(x, 0.5, "batch").numpy()
    assert len(np.unique(b)) == 1
    with pytest.raises(ValueError):
        O.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError):
        O.stochastic_depth(x, 0.5, "col")
    m = O.StochasticDepth(0.3, "row")
    assert repr(m) == repr(torchvision.ops.StochasticDepth(0.3, "row"))
    m.eval()
    assert m(x) is x


# ---------------------------------------------------------------- checkpoints saved by torchvision


def test_load_checkpoint_file_saved_by_torch(tmp_path):
    # A torchvision model's state_dict written by torch.save loads unchanged through mlx_compat.load.
    torch.manual_seed(0)
    tmodel = _randomize(tvm.mobilenet_v3_small(num_classes=10))
    path = tmp_path / "mobilenet_v3_small.pth"
    torch.save(tmodel.state_dict(), path)
    mmodel = M.mobilenet_v3_small(num_classes=10)
    result = mmodel.load_state_dict(mlx_compat.load(str(path), weights_only=True))
    assert not result.missing_keys and not result.unexpected_keys
    _check_eval(tmodel, mmodel, _images((2, 3, 32, 32)))


@pytest.mark.parametrize(
    "weights,dtype",
    [
        ("ResNet50_Weights.IMAGENET1K_V2", np.uint8),
        ("MobileNet_V3_Small_Weights.IMAGENET1K_V1", np.uint8),
        # Bicubic on float input: on uint8 input vision.transforms' resize rounds a few pixels
        # one level away from torchvision's (6 of 552960 at 40x50 -> 384), which is not this module's code.
        ("ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1", np.float32),
        ("EfficientNet_B1_Weights.IMAGENET1K_V2", np.float32),
    ],
)
def test_weights_transforms_preset(weights, dtype):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (3, 40, 50)).astype(dtype) if dtype == np.uint8 else rng.random((3, 40, 50), dtype=dtype)
    tt, mt = tvm.get_weight(weights).transforms(), M.get_weight(weights).transforms()
    assert repr(mt) == repr(tt)
    ref = tt(torch.from_numpy(img)).numpy()
    out = mt(mlx_compat.from_numpy(img)).numpy()
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert _rel(out, ref) <= 1e-5


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny", "swin_t"])
def test_printed_model_matches_torchvision(name):
    with torch.device("meta"):
        tmodel = getattr(tvm, name)()
    assert str(getattr(M, name)()) == str(tmodel)


@pytest.mark.parametrize("how", ["ln_1-identity", "mlp-replaced", "attention-replaced"])
def test_vit_encoder_block_sees_replaced_submodules(how):
    """EncoderBlock.forward reads its submodules from _modules (Note [parameter reads in forward]): a submodule
    replaced after construction is the one used, as in torchvision."""
    from mlx_compat.vision.models.vision_transformer import EncoderBlock
    mc = mlx_compat
    theirs = tvm.vision_transformer.EncoderBlock(2, 8, 16, 0.0, 0.0)
    ours = EncoderBlock(2, 8, 16, 0.0, 0.0)
    ours.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    for L, m in ((torch, theirs), (mc, ours)):
        L.manual_seed(0)
        if how == "ln_1-identity":
            m.ln_1 = L.nn.Identity()
        elif how == "mlp-replaced":
            m.mlp = L.nn.Sequential(L.nn.Linear(8, 8), L.nn.Tanh())
        else:
            m.self_attention = L.nn.MultiheadAttention(8, 4, batch_first=True)
    if how != "ln_1-identity":  # the new layers' weights: torch's, carried over
        ours.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    theirs.eval(), ours.eval()
    with torch.no_grad():
        t = theirs(torch.from_numpy(x))
    with mc.no_grad():
        o = ours(mc.from_numpy(x))
    np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)
