"""mlx_compat.models.bert against Hugging Face transformers' BERT (real torch) from the same saved checkpoint:
BertForMaskedLM logits and every hidden state <= 1e-5 relative (with a padding attention mask and token types),
its masked-LM loss, and BertModel (with pooler) loading the same kind of checkpoint."""
import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                reason="transformers is not installed (test extra)")

import mlx_compat  # noqa: E402
from mlx_compat.models.bert import BertForMaskedLM, BertModel  # noqa: E402


def arr(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t, np.float64)


def rel(a, b):
    a, b = arr(a), arr(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def _cfg():
    import transformers as tf
    return tf.BertConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                         vocab_size=97, max_position_embeddings=40, initializer_range=0.2)


def _inputs():
    rs = np.random.RandomState(0)
    ids = rs.randint(0, 97, size=(2, 11))
    mask = np.ones((2, 11), dtype=np.int64)
    mask[1, 7:] = 0
    types = np.zeros((2, 11), dtype=np.int64)
    types[:, 5:] = 1
    return ids, mask, types


def test_masked_lm(tmp_path):
    import torch
    import transformers as tf
    torch.manual_seed(0)
    ref_model = tf.BertForMaskedLM(_cfg()).eval()
    ref_model.save_pretrained(str(tmp_path), safe_serialization=True)
    ids, mask, types = _inputs()
    labels = np.where(np.arange(11)[None] % 3 == 0, ids, -100)
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                        token_type_ids=torch.from_numpy(types), labels=torch.from_numpy(labels),
                        output_hidden_states=True)
    ours = BertForMaskedLM.from_pretrained(str(tmp_path))
    assert ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight
    out = ours(mlx_compat.from_numpy(ids), mlx_compat.from_numpy(mask), mlx_compat.from_numpy(types),
               labels=mlx_compat.from_numpy(labels), output_hidden_states=True)
    assert sorted(out) == sorted(ref.keys())
    valid = mask.astype(bool)  # padded positions' outputs are not defined the same way by both masks' fill
    assert rel(arr(out["logits"])[valid], ref.logits.numpy()[valid]) <= 1e-5
    for a, b in zip(out["hidden_states"], ref.hidden_states, strict=True):
        assert rel(arr(a)[valid], b.numpy()[valid]) <= 1e-5
    assert abs(out["loss"].item() - ref.loss.item()) <= 1e-5 * abs(ref.loss.item())


def test_bert_model_with_pooler(tmp_path):
    import torch
    import transformers as tf
    torch.manual_seed(1)
    ref_model = tf.BertModel(_cfg()).eval()
    ref_model.save_pretrained(str(tmp_path), safe_serialization=True)
    ids, mask, types = _inputs()
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                        token_type_ids=torch.from_numpy(types))
    ours = BertModel.from_pretrained(str(tmp_path))
    out = ours(mlx_compat.from_numpy(ids), mlx_compat.from_numpy(mask), mlx_compat.from_numpy(types))
    assert sorted(out) == sorted(ref.keys())  # no hidden states unless asked, as transformers
    valid = mask.astype(bool)
    assert rel(arr(out["last_hidden_state"])[valid], ref.last_hidden_state.numpy()[valid]) <= 1e-5
    assert rel(out["pooler_output"], ref.pooler_output) <= 1e-5
