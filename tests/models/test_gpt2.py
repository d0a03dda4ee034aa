"""mlx_compat.models.gpt2 against Hugging Face transformers' GPT-2 (real torch) from the same saved checkpoint:
logits and every hidden state <= 1e-5 relative, the KV-cache path equal to the full forward, greedy generate
token for token, the training loss, and both checkpoint formats (model.safetensors, pytorch_model.bin)."""
import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                reason="transformers is not installed (test extra)")

import mlx_compat  # noqa: E402
from mlx_compat.models.gpt2 import GPT2LMHeadModel  # noqa: E402


def arr(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t, np.float64)


def rel(a, b):
    a, b = arr(a), arr(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    import torch
    import transformers as tf
    torch.manual_seed(0)
    cfg = tf.GPT2Config(n_layer=3, n_embd=64, n_head=4, vocab_size=151, n_positions=64, initializer_range=0.5)
    model = tf.GPT2LMHeadModel(cfg).eval()
    path = tmp_path_factory.mktemp("gpt2")
    model.save_pretrained(str(path), safe_serialization=True)
    return model, path


def test_logits_and_hidden_states(hf):
    import torch
    model, path = hf
    ids = np.random.RandomState(0).randint(0, 151, size=(2, 17))
    with torch.no_grad():
        ref = model(torch.from_numpy(ids), output_hidden_states=True)
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    out = ours(mlx_compat.from_numpy(ids), output_hidden_states=True)
    assert rel(out["logits"], ref.logits) <= 1e-5
    assert len(out["hidden_states"]) == len(ref.hidden_states) == 4
    for a, b in zip(out["hidden_states"], ref.hidden_states):
        assert rel(a, b) <= 1e-5
    assert ours.lm_head.weight is ours.transformer.wte.weight


def test_kv_cache_equals_full_forward(hf):
    _, path = hf
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    ids = mlx_compat.from_numpy(np.random.RandomState(1).randint(0, 151, size=(1, 10)))
    full = ours(ids)["logits"]
    first = ours(ids[:, :6])
    step = ours(ids[:, 6:], past_key_values=first["past_key_values"])
    assert rel(step["logits"], full[:, 6:]) <= 1e-5


def test_greedy_generate_matches_transformers(hf):
    import torch
    model, path = hf
    prompt = np.array([[5, 17, 3, 99]])
    with torch.no_grad():
        ref = model.generate(torch.from_numpy(prompt), max_new_tokens=30, do_sample=False, pad_token_id=0).numpy()
    ours = GPT2LMHeadModel.from_pretrained(str(path)).generate(mlx_compat.from_numpy(prompt), max_new_tokens=30)
    assert len(set(ref[0, 4:].tolist())) > 3
    np.testing.assert_array_equal(ours.numpy(), ref)


def test_sampling_respects_top_k_and_top_p(hf):
    _, path = hf
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    prompt = mlx_compat.tensor([[5, 17, 3, 99]])
    logits = ours(prompt)["logits"][0, -1].detach()
    top2 = set(logits.topk(2).indices.tolist())
    g = mlx_compat.Generator().manual_seed(0)
    for _ in range(5):
        tok = ours.generate(prompt, max_new_tokens=1, do_sample=True, top_k=2, generator=g)[0, -1].item()
        assert tok in top2
    probs = logits.softmax(-1)
    best = int(probs.argmax())
    p_best = float(probs[best])
    tok = ours.generate(prompt, max_new_tokens=1, do_sample=True, top_p=p_best * 0.5, generator=g)[0, -1].item()
    assert tok == best  # the nucleus is the single most likely token
    toks = ours.generate(prompt, max_new_tokens=8, do_sample=True, temperature=0.7, generator=g)
    assert toks.shape == (1, 12) and toks.dtype == mlx_compat.int64


def test_training_loss_and_pytorch_model_bin(hf, tmp_path):
    import torch
    model, path = hf
    ids = np.random.RandomState(2).randint(0, 151, size=(2, 9))
    ref = model(torch.from_numpy(ids), labels=torch.from_numpy(ids)).loss.item()
    torch.save(model.state_dict(), str(tmp_path / "pytorch_model.bin"))
    (tmp_path / "config.json").write_text((path / "config.json").read_text())
    ours = GPT2LMHeadModel.from_pretrained(str(tmp_path))
    x = mlx_compat.from_numpy(ids)  # both in eval mode (dropout off): the same loss
    loss = ours(x, labels=x)["loss"]
    assert abs(loss.item() - ref) <= 1e-5 * abs(ref)
    loss.backward()
    assert ours.transformer.wte.weight.grad is not None


def test_inputs_embeds_equal_input_ids(hf):
    """transformers' inputs_embeds: wte's rows given directly give the logits of the ids; both or neither raise
    its ValueError."""
    import torch
    model, path = hf
    ids = np.random.RandomState(3).randint(0, 151, size=(2, 7))
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    emb = ours.transformer.wte.weight.detach()[mlx_compat.from_numpy(ids)]
    with torch.no_grad():
        ref = model(inputs_embeds=model.transformer.wte.weight[torch.from_numpy(ids)]).logits
    assert rel(ours(inputs_embeds=emb)["logits"], ref) <= 1e-5
    assert rel(ours(inputs_embeds=emb)["logits"], ours(mlx_compat.from_numpy(ids))["logits"]) == 0.0
    for kwargs in (dict(input_ids=mlx_compat.from_numpy(ids), inputs_embeds=emb), {}):
        with pytest.raises(ValueError):
            model(**{k: torch.from_numpy(v.numpy().copy()) for k, v in kwargs.items()})
        with pytest.raises(ValueError):
            ours(**kwargs)


def test_positions_past_n_positions_raise_index_error(hf):
    """Note [position rows as a slice]: a sequence longer than n_positions (64 here) raises torch's IndexError,
    with and without a key/value cache."""
    import torch
    model, path = hf
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    ids = np.zeros((1, 65), dtype=np.int64)
    with pytest.raises(IndexError), torch.no_grad():
        model(torch.from_numpy(ids))
    with pytest.raises(IndexError):
        ours(mlx_compat.from_numpy(ids))
    past = ours(mlx_compat.from_numpy(ids[:, :60]))["past_key_values"]
    ours(mlx_compat.from_numpy(ids[:, :4]), past_key_values=past)  # positions 60 .. 63: the last ones there are
    with pytest.raises(IndexError):
        ours(mlx_compat.from_numpy(ids[:, :5]), past_key_values=past)


def test_training_gradients_match_transformers(hf):
    """Every parameter's gradient of the training loss against transformers' (wpe's rows come from a slice, Note
    [position rows as a slice]; wte's from the gather and the tied lm head), with and without a cache offset."""
    import torch
    model, path = hf
    ids = np.random.RandomState(4).randint(0, 151, size=(2, 11))
    model.zero_grad()
    model(torch.from_numpy(ids), labels=torch.from_numpy(ids)).loss.backward()
    ref = {k: p.grad for k, p in model.named_parameters()}
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    x = mlx_compat.from_numpy(ids)
    ours(x, labels=x)["loss"].backward()
    got = dict(ours.named_parameters())
    assert set(ref) <= set(got)
    for k, g in ref.items():
        assert rel(got[k].grad, g) <= 1e-4, k
    assert np.abs(arr(got["transformer.wpe.weight"].grad)[11:]).max() == 0.0  # rows no position reached


def test_hooks_on_wpe_still_run(hf):
    """Note [position rows as a slice]: a wpe with a forward hook is called as a module, as transformers calls it."""
    import torch
    model, path = hf
    ids = np.random.RandomState(5).randint(0, 151, size=(1, 6))
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    seen = []
    handles = [m.transformer.wpe.register_forward_hook(
        lambda mod, args, out: (seen.append(tuple(args[0].shape)), out * 2)[1]) for m in (model, ours)]
    try:
        with torch.no_grad():
            ref = model(torch.from_numpy(ids)).logits
        assert rel(ours(mlx_compat.from_numpy(ids))["logits"], ref) <= 1e-5
        assert seen == [(1, 6), (1, 6)]
    finally:
        for h in handles:  # the transformers model is the module's shared fixture
            h.remove()


def test_greedy_generate_with_eos_matches_transformers(hf):
    """Note [generated ids need no check]: with an eos_token_id (in range, and out of range) the tokens are
    transformers' own, stopping where it stops."""
    import torch
    model, path = hf
    prompt = np.array([[5, 17, 3, 99]])
    with torch.no_grad():
        free = model.generate(torch.from_numpy(prompt), max_new_tokens=12, do_sample=False, pad_token_id=0).numpy()
        eos = int(next(t for t in free[0, 7:] if t not in free[0, :7]))  # a token first made after step 3
        ref = model.generate(torch.from_numpy(prompt), attention_mask=torch.ones(prompt.shape, dtype=torch.long),
                             max_new_tokens=12, do_sample=False, eos_token_id=eos, pad_token_id=eos).numpy()
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    got = ours.generate(mlx_compat.from_numpy(prompt), max_new_tokens=12, eos_token_id=eos).numpy()
    assert ref.shape[1] < free.shape[1]
    np.testing.assert_array_equal(got, ref)
    far = ours.generate(mlx_compat.from_numpy(prompt), max_new_tokens=12, eos_token_id=10_000).numpy()
    np.testing.assert_array_equal(far, free)


def test_logits_to_keep_matches_transformers(hf):
    import torch
    model, path = hf
    ids = np.random.RandomState(5).randint(0, 151, size=(2, 9))
    ours = GPT2LMHeadModel.from_pretrained(str(path))
    for keep in (1, 3):
        with torch.no_grad():
            ref = model(torch.from_numpy(ids), logits_to_keep=keep).logits
        out = ours(mlx_compat.from_numpy(ids), logits_to_keep=keep)["logits"]
        assert tuple(out.shape) == tuple(ref.shape) == (2, keep, 151)
        assert rel(out, ref) <= 1e-5
    assert tuple(ours(mlx_compat.from_numpy(ids), logits_to_keep=0)["logits"].shape) == (2, 9, 151)


@pytest.mark.parametrize("kwargs", [{}, {"use_cache": False}, {"output_hidden_states": True},
                                    {"use_cache": False, "output_hidden_states": True}])
def test_outputs_present_as_transformers(hf, kwargs):
    """The outputs transformers leaves None (hidden states unless asked, the cache when use_cache=False) are not
    in our dict, as they are not among a ModelOutput's keys; those present have transformers' lengths."""
    import torch
    model, path = hf
    ids = np.random.RandomState(3).randint(0, 151, size=(2, 5))
    with torch.no_grad():
        ref = model(torch.from_numpy(ids), **kwargs)
    out = GPT2LMHeadModel.from_pretrained(str(path))(mlx_compat.from_numpy(ids), **kwargs)
    # transformers 5 calls the key/value cache `cache` (the deprecated `past_key_values` until 5.40); ours keeps
    # the older name, which transformers' own `past_key_values` argument still takes
    theirs = {"past_key_values" if k == "cache" else k: ref[k] for k in ref.keys()}
    assert sorted(out) == sorted(theirs)
    for k in out:
        if k != "logits":
            assert len(out[k]) == len(theirs[k]) == (3 if k == "past_key_values" else 4)
    assert rel(out["logits"], ref.logits) <= 1e-5
