"""Whole models written once against torch's API and run twice, with `torch` and with `mlx_compat` as the library
(only the import differs): a ResNet-18 (torchvision's layout), a small ViT and a GPT-2-style decoder. From the same
weights (torch's state_dict carried over) they give the same outputs, losses, input gradients and parameter
gradients, and the same BatchNorm buffers after a training step."""
import numpy as np
import pytest

from helpers import assert_same, mc, to_mc, torch


def define(L):
    """The three model classes written against library `L` (torch or mlx_compat)."""
    nn, F = L.nn, L.nn.functional

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(64, 2)
            self.layer2 = self._make_layer(128, 2, 2)
            self.layer3 = self._make_layer(256, 2, 2)
            self.layer4 = self._make_layer(512, 2, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def _make_layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                           nn.BatchNorm2d(planes))
            layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes
            layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(L.flatten(self.avgpool(x), 1))

    class ViT(nn.Module):
        def __init__(self, image=32, patch=8, dim=64, depth=2, heads=4, num_classes=10):
            super().__init__()
            self.patch = nn.Conv2d(3, dim, patch, patch)
            n = (image // patch) ** 2
            self.cls_token = nn.Parameter(L.zeros(1, 1, dim))
            self.pos_embedding = nn.Parameter(L.empty(1, n + 1, dim).normal_(std=0.02))
            layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, num_classes)

        def forward(self, x):
            x = self.patch(x).flatten(2).transpose(1, 2)
            x = L.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
            return self.head(self.ln(self.encoder(x))[:, 0])

    class Block(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads = heads
            self.ln_1 = nn.LayerNorm(dim)
            self.c_attn = nn.Linear(dim, 3 * dim)
            self.c_proj = nn.Linear(dim, dim)
            self.ln_2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"), nn.Linear(4 * dim, dim))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, vocab=97, ctx=32, dim=64, depth=2, heads=4):
            super().__init__()
            self.wte = nn.Embedding(vocab, dim)
            self.wpe = nn.Embedding(ctx, dim)
            self.h = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
            self.ln_f = nn.LayerNorm(dim)
            self.lm_head = nn.Linear(dim, vocab, bias=False)
            self.lm_head.weight = self.wte.weight  # tied, as GPT-2

        def forward(self, idx, targets):
            pos = L.arange(idx.shape[1])
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    return {"resnet18": ResNet18, "vit": ViT, "gpt": GPT}


def _inputs(name, r):
    if name == "gpt":
        idx = r.integers(0, 97, (2, 16)).astype(np.int64)
        return [idx, r.integers(0, 97, (2, 16)).astype(np.int64)]
    return [r.standard_normal((4, 3, 64, 64) if name == "resnet18" else (2, 3, 32, 32)).astype(np.float32)]


def _pair(name):
    torch.manual_seed(0)
    theirs = define(torch)[name]()
    ours = define(mc)[name]()
    result = ours.load_state_dict({k: to_mc(v) for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    return theirs, ours


@pytest.mark.parametrize("name", ["resnet18", "vit", "gpt"])
@pytest.mark.parametrize("training", [False, True])
def test_same_outputs_and_gradients(name, training):
    theirs, ours = _pair(name)
    theirs.train(training)
    ours.train(training)
    arrays = _inputs(name, np.random.default_rng(0))
    grad_input = name != "gpt"
    t_in = [torch.tensor(a, requires_grad=grad_input and a.dtype == np.float32) for a in arrays]
    m_in = [mc.tensor(a, requires_grad=grad_input and a.dtype == np.float32) for a in arrays]
    t_out, m_out = theirs(*t_in), ours(*m_in)
    if name == "gpt":
        (t_out, t_loss), (m_out, m_loss) = t_out, m_out
        assert_same(m_loss, t_loss, rtol=1e-5, atol=1e-5)
    assert_same(m_out, t_out, rtol=1e-4, atol=1e-4)
    c = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(np.float32)
    t_l, m_l = (t_out * torch.tensor(c)).sum(), (m_out * mc.tensor(c)).sum()
    if name == "gpt":
        t_l, m_l = t_l + t_loss, m_l + m_loss
    t_l.backward()
    m_l.backward()
    for t, m in zip(t_in, m_in):
        if t.requires_grad:
            assert_same(m.grad, t.grad, rtol=1e-3, atol=1e-4)
    mp = dict(ours.named_parameters())
    for k, p in theirs.named_parameters():
        assert_same(mp[k].grad, p.grad, rtol=1e-3, atol=1e-4)
    ms = ours.state_dict()
    for k, v in theirs.state_dict().items():  # BatchNorm running statistics after a training forward
        assert_same(ms[k], v, rtol=1e-4, atol=1e-5)
