"""BERT as Hugging Face's `transformers` lays it out: BertModel (embeddings, encoder.layer.N.{attention.{self,
output}, intermediate, output}, pooler) and BertForMaskedLM (bert without pooler + cls.predictions, decoder tied to
the word embeddings and its bias to cls.predictions.bias), built from a config dict, loading `model.safetensors` /
`pytorch_model.bin` as transformers saves them."""
from __future__ import annotations

import json
import math
import os

import mlx_compat as torch
from mlx_compat import nn
from mlx_compat.nn import functional as F

__all__ = ["BertConfig", "BertModel", "BertForMaskedLM"]


class BertConfig:
    """BERT's hyper-parameters, with transformers' names and defaults; unknown keys are kept as attributes."""

    defaults = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
                    attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2,
                    initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0, tie_word_embeddings=True,
                    output_hidden_states=False)

    def __init__(self, **kwargs):
        for k, v in {**self.defaults, **kwargs}.items():
            setattr(self, k, v)

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls(**json.load(f))


_ACTIVATIONS = {"gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "relu": F.relu,
                "silu": F.silu, "tanh": torch.tanh}


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None):
        t = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(torch.arange(t, device=input_ids.device).unsqueeze(0)))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, x, mask=None):
        b, t, _ = x.shape

        def heads(y):
            return y.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)),
                                             attn_mask=mask, dropout_p=self.dropout.p if self.training else 0.0,
                                             scale=1.0 / math.sqrt(self.head_dim))
        return out.transpose(1, 2).reshape(b, t, -1)


class BertSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, x, mask=None):
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _ACTIVATIONS[config.hidden_act]

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x, mask=None):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])


class BertPooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, h):
        return self.activation(self.dense(h[:, 0]))


def _load(model, path, cls_config):
    st = os.path.join(path, "model.safetensors")
    if os.path.exists(st):
        from mlx_compat.utils.safetensors import load_file
        return load_file(st)
    return torch.load(os.path.join(path, "pytorch_model.bin"), weights_only=True)


class BertModel(nn.Module):
    """Returns dict(last_hidden_state, pooler_output (None without the pooler)[, hidden_states]): hidden_states
    where output_hidden_states (default: the config's, False as in transformers), the embeddings output, then each
    layer's."""

    def __init__(self, config, add_pooling_layer=True):
        super().__init__()
        if isinstance(config, dict):
            config = BertConfig(**config)
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_hidden_states=None):
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        x = self.embeddings(input_ids, token_type_ids)
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]
        hidden = [x]
        for layer in self.encoder.layer:
            x = layer(x, mask)
            hidden.append(x)
        out = {"last_hidden_state": x, "pooler_output": self.pooler(x) if self.pooler is not None else None}
        if output_hidden_states:
            out["hidden_states"] = tuple(hidden)
        return out

    @classmethod
    def from_pretrained(cls, path):
        """From transformers' config.json and model.safetensors (or pytorch_model.bin); keys with the `bert.`
        prefix (a task model's checkpoint) are accepted."""
        model = cls(BertConfig.from_json_file(os.path.join(path, "config.json")))
        state = {k[5:] if k.startswith("bert.") else k: v for k, v in _load(model, path, BertConfig).items()
                 if not k.startswith("cls.")}
        model.load_state_dict(state, strict=model.pooler is not None and "pooler.dense.weight" in state)
        return model.eval()


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = _ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=True)
        self.bias = self.decoder.bias  # one Parameter under both names, as transformers ties them

    def forward(self, x):
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, x):
        return self.predictions(x)


class BertForMaskedLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        if isinstance(config, dict):
            config = BertConfig(**config)
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        if config.tie_word_embeddings:
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None, output_hidden_states=None):
        """Returns dict(logits[, hidden_states][, loss]): hidden_states as BertModel's; loss: cross-entropy over
        positions whose label is not -100, as transformers'."""
        out = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        logits = self.cls(out["last_hidden_state"])
        res = {"logits": logits}
        if "hidden_states" in out:
            res["hidden_states"] = out["hidden_states"]
        if labels is not None:
            res["loss"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                          ignore_index=-100)
        return res

    @classmethod
    def from_pretrained(cls, path):
        """From transformers' config.json and model.safetensors (or pytorch_model.bin): the tied decoder weight
        and bias may be absent (save_pretrained drops them); a pooler in the checkpoint is ignored."""
        model = cls(BertConfig.from_json_file(os.path.join(path, "config.json")))
        state = {k: v for k, v in _load(model, path, BertConfig).items() if not k.startswith("bert.pooler.")}
        state.setdefault("cls.predictions.decoder.bias", state.get("cls.predictions.bias"))
        state.setdefault("cls.predictions.bias", state["cls.predictions.decoder.bias"])
        if model.config.tie_word_embeddings:
            state.setdefault("cls.predictions.decoder.weight", state["bert.embeddings.word_embeddings.weight"])
        model.load_state_dict(state, strict=True)
        return model.eval()
