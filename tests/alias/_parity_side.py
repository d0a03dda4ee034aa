"""One side of an alias parity run, written against torch's API only: run under real torch (`python
_parity_side.py ref ...`) it builds the model, saves weights, inputs and results to an .npz; run under the alias
(`python -m mlx_compat.run _parity_side.py alias ...`) it loads those weights and inputs and saves its own
results. The test (test_parity.py) compares the two files."""
import sys

import types

import numpy as np

mode, family, name, path = sys.argv[1:5]
if mode == "ref":
    # torchvision's fake-kernel registrations need its compiled ops (_C.so); a torchvision wheel built for
    # another torch variant cannot load them, and timm imports torchvision. timm's models use none of those ops,
    # so the reference side skips the registrations when the ops cannot load.
    import ctypes
    import importlib.util
    spec = importlib.util.find_spec("torchvision")
    if spec is not None:
        import os
        try:
            import torch  # noqa: F401  (its libraries first, as torchvision loads them)
            ctypes.CDLL(os.path.join(os.path.dirname(spec.origin), "_C.so"))
        except OSError:
            sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch  # noqa: E402
SEED = 0


def build():
    if family == "generate":  # GPT-2 whose wide initialisation makes greedy decoding pick varied tokens
        import transformers as tf
        return tf.GPT2LMHeadModel(tf.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=64,
                                                initializer_range=0.5))
    if family == "timm":
        import timm
        return timm.create_model(name, pretrained=False, num_classes=10)
    import transformers as tf
    if name == "gpt2":
        cfg = tf.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=64,
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
        return tf.GPT2LMHeadModel(cfg)
    if name == "bert":
        cfg = tf.BertConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                            vocab_size=128, max_position_embeddings=64, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0)
        return tf.BertForMaskedLM(cfg)
    if name == "llama":
        cfg = tf.LlamaConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                             intermediate_size=128, vocab_size=128, max_position_embeddings=64)
        return tf.LlamaForCausalLM(cfg)
    raise SystemExit(f"unknown model {name}")


def to_np(t):
    return np.array(t.detach().cpu().float().numpy(), copy=True)  # a copy: torch shares memory with numpy


torch.manual_seed(SEED)
model = build()
if mode == "ref":
    ref = {}
    sd = {k: to_np(v) for k, v in model.state_dict().items() if v.is_floating_point()}
    if family == "timm":
        size = 64 if "vit" not in name else 224
        x = np.random.RandomState(0).randn(2, 3, size, size).astype(np.float32)
        y = np.array([1, 7], dtype=np.int64)
    else:
        x = np.random.RandomState(0).randint(0, 128, size=(2, 12)).astype(np.int64)
        y = x.copy()
    inputs = {"x": x, "y": y}
else:
    ref = dict(np.load(path + ".ref.npz"))
    sd = {k[3:]: v for k, v in ref.items() if k.startswith("sd.")}
    inputs = {"x": ref["in.x"], "y": ref["in.y"]}
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert not unexpected, unexpected
    assert all(not model.state_dict()[k].is_floating_point() for k in missing), missing

if family == "generate":  # transformers' generate(): greedy, with its KV cache (DynamicCache)
    model.eval()
    prompt = torch.from_numpy(inputs["x"][:1, :4])
    with torch.no_grad():
        tokens = model.generate(prompt, max_new_tokens=24, do_sample=False, pad_token_id=0)
    save = {"out.tokens": tokens.numpy().copy()}
    if mode == "ref":
        save.update({"sd." + k: v for k, v in sd.items()})
        save.update({"in." + k: v for k, v in inputs.items()})
    np.savez(path + "." + mode + ".npz", **save)
    print("ok", mode, name, tokens.tolist())
    raise SystemExit(0)

x = torch.from_numpy(inputs["x"])
y = torch.from_numpy(inputs["y"])
if family == "autocast":  # a training forward under CPU autocast (bfloat16), backward outside it
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        o = model(x, labels=y)
    o.loss.backward()
    save = {"out.logits": to_np(o.logits), "out.loss": np.array(o.loss.item()),
            "out.dtypes": np.array([str(o.logits.dtype), str(o.loss.dtype)] +
                                   sorted({str(p.grad.dtype) for p in model.parameters() if p.grad is not None}))}
    save.update({"out.grad." + n: to_np(p.grad) for n, p in model.named_parameters() if p.grad is not None})
    if mode == "ref":
        save.update({"sd." + k: v for k, v in sd.items()})
        save.update({"in." + k: v for k, v in inputs.items()})
    np.savez(path + "." + mode + ".npz", **save)
    print("ok", mode, name, float(o.loss))
    raise SystemExit(0)
out = {}
model.eval()
with torch.no_grad():
    if family == "timm":
        out["eval"] = to_np(model(x))
    else:
        o = model(x, output_hidden_states=True)
        out["eval"] = to_np(o.logits)
        out["hidden_last"] = to_np(o.hidden_states[-1])

model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
if family == "timm":
    loss = torch.nn.functional.cross_entropy(model(x), y)
else:
    loss = model(x, labels=y).loss
loss.backward()
out["loss"] = np.array(loss.item())
names = [n for n, p in model.named_parameters() if p.requires_grad]
for n, p in model.named_parameters():
    if p.grad is not None:
        out["grad." + n] = to_np(p.grad)
opt.step()
for n, p in model.named_parameters():
    out["step." + n] = to_np(p)
for n, b in model.named_buffers():
    if b.is_floating_point():
        out["buf." + n] = to_np(b)

save = {"out." + k: v for k, v in out.items()}
if mode == "ref":
    save.update({"sd." + k: v for k, v in sd.items()})
    save.update({"in." + k: v for k, v in inputs.items()})
np.savez(path + "." + mode + ".npz", **save)
print("ok", mode, name, float(out["loss"]))
