"""The benchmark suite's workloads, each built three ways from one set of weights: torch (torchvision, transformers,
torch.nn), mlx_compat (mlx_compat.vision.models, mlx_compat.models.gpt2, mlx_compat.nn) and native MLX (mlx.nn
definitions below with the same architecture, shapes and FLOPs: ResNet-18/50, a GPT-2 decoder with a key/value
cache, ViT-B/16, the MLP). `Workload` holds one workload's sizes; `build` returns the three models with the torch
model's weights carried over to the other two, plus one batch of inputs (the same numbers on every side).
Native MLX convolutions are NHWC (MLX's layout), the others NCHW: the same tensors, transposed once at the input.
"""
from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass, field

import mlx.core as mx
import mlx.nn as mnn
import numpy as np


# ---------------------------------------------------------------- workload sizes
@dataclass
class Workload:
    """One model at one size. kind: mlp | resnet18 | resnet50 | gpt2 | vit; cfg: the architecture's knobs."""
    name: str
    kind: str
    batch: int
    optimizer: str = "sgd"  # sgd (momentum 0.9) | adam | adamw
    image: int = 224  # resnet/vit input side
    cfg: dict = field(default_factory=dict)  # gpt2: n_layer, n_embd, n_head, seq, vocab; vit: num_layers
    dtype: str = "float32"  # parameters and float inputs: float32 | bfloat16

    def shapes(self):
        """The exact input shapes and dtypes, as printed in the report."""
        return self._shapes().replace("float32", self.dtype)

    def _shapes(self):
        if self.kind == "mlp":
            return f"x float32 ({self.batch}, 784), y int64 ({self.batch},)"
        if self.kind == "gpt2":
            c = self.cfg
            return (f"ids int64 ({self.batch}, {c['seq']}); {c['n_layer']}L d{c['n_embd']} {c['n_head']}h "
                    f"vocab {c['vocab']}, float32")
        extra = f"; {self.cfg['num_layers']} encoder layers" if self.kind == "vit" else ""
        return f"x float32 ({self.batch}, 3, {self.image}, {self.image}), y int64 ({self.batch},){extra}"

    def items(self):
        """Images or tokens processed per step, and their unit."""
        if self.kind == "gpt2":
            return self.batch * self.cfg["seq"], "tokens"
        return self.batch, "images" if self.kind != "mlp" else "samples"


GPT2_SMALL = dict(n_layer=12, n_embd=768, n_head=12, seq=256, vocab=50257)


# ---------------------------------------------------------------- native MLX: ResNet (torchvision's layout)
class MBasicBlock(mnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=False):
        super().__init__()
        self.conv1 = mnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = mnn.BatchNorm(planes)
        self.conv2 = mnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = mnn.BatchNorm(planes)
        if downsample:
            self.downsample = [mnn.Conv2d(inplanes, planes, 1, stride, bias=False), mnn.BatchNorm(planes)]

    def __call__(self, x):
        out = mnn.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idt = self.downsample[1](self.downsample[0](x)) if "downsample" in self else x
        return mnn.relu(out + idt)


class MBottleneck(mnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=False):
        super().__init__()
        self.conv1 = mnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = mnn.BatchNorm(planes)
        self.conv2 = mnn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # stride on the 3x3 (ResNet v1.5)
        self.bn2 = mnn.BatchNorm(planes)
        self.conv3 = mnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = mnn.BatchNorm(planes * 4)
        if downsample:
            self.downsample = [mnn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), mnn.BatchNorm(planes * 4)]

    def __call__(self, x):
        out = mnn.relu(self.bn1(self.conv1(x)))
        out = mnn.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        idt = self.downsample[1](self.downsample[0](x)) if "downsample" in self else x
        return mnn.relu(out + idt)


class MResNet(mnn.Module):
    """torchvision's ResNet in mlx.nn (NHWC input), parameter names equal to torchvision's."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.conv1 = mnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = mnn.BatchNorm(64)
        self.maxpool = mnn.MaxPool2d(3, 2, padding=1)
        inplanes = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            blocks = []
            for j in range(n):
                ds = j == 0 and (stride != 1 or inplanes != planes * block.expansion)
                blocks.append(block(inplanes, planes, stride if j == 0 else 1, ds))
                inplanes = planes * block.expansion
            setattr(self, f"layer{i + 1}", blocks)
        self.fc = mnn.Linear(512 * block.expansion, num_classes)

    def __call__(self, x):
        x = self.maxpool(mnn.relu(self.bn1(self.conv1(x))))
        for name in ("layer1", "layer2", "layer3", "layer4"):
            for blk in getattr(self, name):
                x = blk(x)
        return self.fc(mx.mean(x, axis=(1, 2)))


# ---------------------------------------------------------------- native MLX: GPT-2 (Hugging Face's layout)
def gelu_tanh(x):
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


class MGPT2Attention(mnn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = mnn.Linear(d, 3 * d)
        self.c_proj = mnn.Linear(d, d)

    def __call__(self, x, cache=None):
        b, t, d = x.shape
        q, k, v = mx.split(self.c_attn(x), 3, axis=-1)
        q, k, v = (a.reshape(b, t, self.n_head, -1).transpose(0, 2, 1, 3) for a in (q, k, v))
        if cache is not None:
            k = mx.concatenate([cache[0], k], axis=2)
            v = mx.concatenate([cache[1], v], axis=2)
        out = mx.fast.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(d // self.n_head),
                                                   mask="causal" if t > 1 else None)
        return self.c_proj(out.transpose(0, 2, 1, 3).reshape(b, t, d)), (k, v)


class MGPT2Block(mnn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.ln_1 = mnn.LayerNorm(d, eps=1e-5)
        self.attn = MGPT2Attention(d, n_head)
        self.ln_2 = mnn.LayerNorm(d, eps=1e-5)
        self.mlp = MGPT2MLP(d)

    def __call__(self, x, cache=None):
        a, kv = self.attn(self.ln_1(x), cache)
        x = x + a
        return x + self.mlp(self.ln_2(x)), kv


class MGPT2MLP(mnn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = mnn.Linear(d, 4 * d)
        self.c_proj = mnn.Linear(4 * d, d)

    def __call__(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class MGPT2(mnn.Module):
    """GPT2LMHeadModel in mlx.nn: wte/wpe/h.N/ln_f with the lm head tied to wte; returns (logits, caches)."""

    def __init__(self, n_layer, n_embd, n_head, vocab, n_positions=1024):
        super().__init__()
        self.wte = mnn.Embedding(vocab, n_embd)
        self.wpe = mnn.Embedding(n_positions, n_embd)
        self.h = [MGPT2Block(n_embd, n_head) for _ in range(n_layer)]
        self.ln_f = mnn.LayerNorm(n_embd, eps=1e-5)

    def __call__(self, ids, caches=None, last_only=False):
        past = 0 if caches is None else caches[0][0].shape[2]
        x = self.wte(ids) + self.wpe(mx.arange(past, past + ids.shape[1]))
        new = []
        for i, blk in enumerate(self.h):
            x, kv = blk(x, None if caches is None else caches[i])
            new.append(kv)
        if last_only:  # generation needs the last position's logits alone, as transformers' logits_to_keep
            x = x[:, -1:, :]
        return self.wte.as_linear(self.ln_f(x)), new

    def generate(self, ids, max_new_tokens):
        """Greedy decoding with the key/value cache, one evaluation per token (as a streaming decoder does)."""
        logits, caches = self(ids, last_only=True)  # the same work as transformers' and mlx_compat's generate
        out = [ids]
        tok = mx.argmax(logits[:, -1, :], axis=-1)[:, None]
        for i in range(max_new_tokens):
            out.append(tok)
            if i == max_new_tokens - 1:
                break
            logits, caches = self(tok, caches)
            tok = mx.argmax(logits[:, -1, :], axis=-1)[:, None]
            mx.eval(tok)
        return mx.concatenate(out, axis=1)


# ---------------------------------------------------------------- native MLX: ViT (torchvision's layout)
class MViTLayer(mnn.Module):
    def __init__(self, d, n_head, mlp_dim):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = mnn.LayerNorm(d, eps=1e-6)
        self.in_proj = mnn.Linear(d, 3 * d)
        self.out_proj = mnn.Linear(d, d)
        self.ln_2 = mnn.LayerNorm(d, eps=1e-6)
        self.mlp_0 = mnn.Linear(d, mlp_dim)
        self.mlp_3 = mnn.Linear(mlp_dim, d)

    def __call__(self, x):
        b, t, d = x.shape
        q, k, v = mx.split(self.in_proj(self.ln_1(x)), 3, axis=-1)
        q, k, v = (a.reshape(b, t, self.n_head, -1).transpose(0, 2, 1, 3) for a in (q, k, v))
        a = mx.fast.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(d // self.n_head))
        x = x + self.out_proj(a.transpose(0, 2, 1, 3).reshape(b, t, d))
        return x + self.mlp_3(mnn.gelu(self.mlp_0(self.ln_2(x))))


class MViT(mnn.Module):
    """torchvision's VisionTransformer (no dropout, exact GELU, LayerNorm eps 1e-6) in mlx.nn, NHWC input."""

    def __init__(self, image_size=224, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072,
                 num_classes=1000):
        super().__init__()
        self.conv_proj = mnn.Conv2d(3, hidden_dim, patch_size, patch_size)
        self.class_token = mx.zeros((1, 1, hidden_dim))
        self.pos_embedding = mx.zeros((1, (image_size // patch_size) ** 2 + 1, hidden_dim))
        self.layers = [MViTLayer(hidden_dim, num_heads, mlp_dim) for _ in range(num_layers)]
        self.ln = mnn.LayerNorm(hidden_dim, eps=1e-6)
        self.head = mnn.Linear(hidden_dim, num_classes)

    def __call__(self, x):
        x = self.conv_proj(x)
        b = x.shape[0]
        x = x.reshape(b, -1, x.shape[-1])
        x = mx.concatenate([mx.broadcast_to(self.class_token, (b, 1, x.shape[-1])), x], axis=1)
        x = x + self.pos_embedding
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x)[:, 0])


def _vit_native_name(key):
    """torchvision ViT key -> MViT key."""
    key = key.replace("encoder.layers.encoder_layer_", "layers.").replace("encoder.pos_embedding", "pos_embedding")
    key = key.replace("encoder.ln.", "ln.").replace("heads.head.", "head.")
    key = key.replace("self_attention.in_proj_weight", "in_proj.weight")
    key = key.replace("self_attention.in_proj_bias", "in_proj.bias")
    key = key.replace("self_attention.out_proj.", "out_proj.").replace("mlp.0.", "mlp_0.").replace("mlp.3.", "mlp_3.")
    return key


# ---------------------------------------------------------------- the three sides from one set of weights
def import_torchvision():
    """torchvision from PyPI beside the venv's torch build (tests/vision/test_models.py's `_import_torchvision`):
    where its C extension does not load, its two operator-registration modules are replaced by empty ones; the
    classification models are pure Python and unchanged."""
    import importlib
    try:
        return importlib.import_module("torchvision")
    except RuntimeError:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
            sys.modules[name] = types.ModuleType(name)
        return importlib.import_module("torchvision")


def _torch_model(w):
    import torch
    if w.kind == "mlp":
        return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    if w.kind in ("resnet18", "resnet50"):
        return getattr(import_torchvision().models, w.kind)(num_classes=10 if w.image <= 64 else 1000)
    if w.kind == "vit":
        VisionTransformer = import_torchvision().models.vision_transformer.VisionTransformer
        return VisionTransformer(w.image, 16, w.cfg["num_layers"], 12, 768, 3072)
    try:
        import_torchvision()  # transformers imports torchvision itself; it must come through the work-around first
    except ImportError:
        pass
    import transformers
    c = w.cfg
    conf = transformers.GPT2Config(vocab_size=c["vocab"], n_embd=c["n_embd"], n_layer=c["n_layer"],
                                   n_head=c["n_head"], resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    return transformers.GPT2LMHeadModel(conf)


def _ours_model(w):
    import mlx_compat as mc
    import mlx_compat.vision.models  # noqa: F401
    if w.kind == "mlp":
        return mc.nn.Sequential(mc.nn.Linear(784, 128), mc.nn.ReLU(), mc.nn.Linear(128, 10))
    if w.kind in ("resnet18", "resnet50"):
        return getattr(mc.vision.models, w.kind)(num_classes=10 if w.image <= 64 else 1000)
    if w.kind == "vit":
        from mlx_compat.vision.models.vision_transformer import VisionTransformer
        return VisionTransformer(w.image, 16, w.cfg["num_layers"], 12, 768, 3072)
    from mlx_compat.models.gpt2 import GPT2LMHeadModel
    c = w.cfg
    return GPT2LMHeadModel(dict(vocab_size=c["vocab"], n_embd=c["n_embd"], n_layer=c["n_layer"], n_head=c["n_head"],
                                resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))


def _native_model(w):
    if w.kind == "mlp":
        return mnn.Sequential(mnn.Linear(784, 128), mnn.ReLU(), mnn.Linear(128, 10))
    if w.kind == "resnet18":
        return MResNet(MBasicBlock, [2, 2, 2, 2], 10 if w.image <= 64 else 1000)
    if w.kind == "resnet50":
        return MResNet(MBottleneck, [3, 4, 6, 3], 10 if w.image <= 64 else 1000)
    if w.kind == "vit":
        return MViT(w.image, 16, w.cfg["num_layers"])
    c = w.cfg
    return MGPT2(c["n_layer"], c["n_embd"], c["n_head"], c["vocab"])


def _native_weights(w, sd):
    """torch state_dict (numpy) -> list of (MLX key, mx.array) for the native model."""
    out = []
    for k, v in sd.items():
        if k.endswith("num_batches_tracked") or k.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        if w.kind == "mlp":
            k = k.replace("0.", "layers.0.", 1) if k.startswith("0.") else k.replace("2.", "layers.2.", 1)
        elif w.kind == "gpt2":
            if k == "lm_head.weight":
                continue  # tied to wte
            k = k.removeprefix("transformer.")
            if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
                v = v.T  # transformers' Conv1D stores (in, out); mlx.nn.Linear (out, in)
        elif w.kind == "vit":
            k = _vit_native_name(k)
        if v.ndim == 4:
            v = v.transpose(0, 2, 3, 1)  # OIHW -> OHWI
        out.append((k, mx.array(np.ascontiguousarray(v))))
    return out


def build(w, device="cpu", seed=0, torch_device=None):
    """Returns (torch_model, ours_model, native_model, batch) with one set of weights, the models in train mode on
    `device` (torch's on `torch_device` if given); batch: dict of numpy inputs (x/y or ids)."""
    import torch
    import mlx_compat as mc
    torch.manual_seed(seed)
    tm = _torch_model(w)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # off the trivial initial values (zero heads, unit norms), so outputs can be compared
        for p in tm.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.02)
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    om = _ours_model(w)
    osd = {k: mc.from_numpy(v) for k, v in sd.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))}
    if w.kind == "gpt2":
        om.load_hf_state_dict(osd)
    else:
        om.load_state_dict(osd)
    nm = _native_model(w)
    nm.load_weights(_native_weights(w, sd), strict=True)
    mx.eval(nm.parameters())
    tm.to(device if torch_device is None else torch_device)
    om.to(device)
    if w.dtype != "float32":  # every parameter and buffer in that dtype on all three sides
        tm.to(getattr(torch, w.dtype))
        om.to(getattr(mc, w.dtype))
        nm.set_dtype(getattr(mx, w.dtype))
    tm.train(), om.train(), nm.train()
    rng = np.random.default_rng(seed)
    if w.kind == "gpt2":
        batch = dict(ids=rng.integers(0, w.cfg["vocab"], (w.batch, w.cfg["seq"])).astype(np.int64))
    elif w.kind == "mlp":
        batch = dict(x=rng.standard_normal((w.batch, 784), dtype=np.float32),
                     y=rng.integers(0, 10, (w.batch,)).astype(np.int64))
    else:
        classes = 10 if w.image <= 64 and w.kind != "vit" else 1000
        batch = dict(x=rng.standard_normal((w.batch, 3, w.image, w.image), dtype=np.float32),
                     y=rng.integers(0, classes, (w.batch,)).astype(np.int64))
    return tm, om, nm, batch


def native_clone(w, nm):
    """A second native model holding the same arrays (mlx.nn modules do not deepcopy; MLX arrays are immutable,
    so sharing them until the first update is safe)."""
    m = _native_model(w)
    m.update(nm.parameters())
    m.train(nm.training)
    return m
