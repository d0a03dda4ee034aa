"""GPT-2 as Hugging Face's `transformers` lays it out: GPT2Model (wte, wpe, h.N.{ln_1, attn.{c_attn, c_proj},
ln_2, mlp.{c_fc, c_proj}}, ln_f) and GPT2LMHeadModel (transformer + lm_head tied to wte), built from a config dict
(config.json's keys), loading `model.safetensors` / `pytorch_model.bin` as transformers saves them, with a
key/value cache and `generate` (greedy, temperature, top-k, top-p).

Note [position rows as a slice]
The positions of a forward are always past .. past + t - 1, so their embeddings are rows of wpe.weight taken as one
slice (a view: its backward writes the gradient into those rows) rather than a gather of an arange: the same
values and gradients, without the gather's eager bounds check (an evaluation per forward) or its scatter-add
backward. Past n_positions it raises the IndexError the gather would. A wpe with hooks, not a plain
nn.Embedding, or one whose lookup is more than a gather (max_norm, padding_idx, sparse gradients) is called as a
module, so hooks, overrides and those options still act.

Note [logits of the last position]
A decoding step needs the next-token distribution of the last position only, so `generate` asks the model for
that one row of logits (`logits_to_keep=1`, transformers' argument, which its own `generate` passes too): the
prompt pass then multiplies one hidden state, not all t, by the (vocab, n_embd) head, the largest matrix of
the model. The row is the same product of the same vectors, so the tokens are the same.

Note [generated ids need no check]
Tokens that `generate` produces come from an argmax or a multinomial draw over the vocabulary (or are the
in-range eos_token_id), so they index wte in range by construction. Their embeddings are looked up without
F.embedding's eager bounds check: that check evaluates the token, i.e. the whole previous step, before the next
step's graph can be built. Each step's token is instead handed to MLX with an asynchronous evaluation, so the
device computes step i while Python builds step i + 1 (MLX's own decoding idiom), and the tokens are
concatenated once at the end.
"""
from __future__ import annotations

import json
import math
import os

import mlx.core as mx

import mlx_compat as torch
from mlx_compat import _C, nn
from mlx_compat._device_scope import scoped
from mlx_compat._tensor import _new
from mlx_compat.nn import functional as F
from mlx_compat.nn.modules import module as _module

__all__ = ["GPT2Config", "Conv1D", "GPT2Attention", "GPT2MLP", "GPT2Block", "GPT2Model", "GPT2LMHeadModel"]


class GPT2Config:
    """GPT-2's hyper-parameters, with transformers' names and defaults; unknown keys are kept as attributes."""

    defaults = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, n_inner=None,
                    activation_function="gelu_new", resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1,
                    layer_norm_epsilon=1e-5, initializer_range=0.02, scale_attn_weights=True,
                    scale_attn_by_inverse_layer_idx=False, reorder_and_upcast_attn=False,
                    tie_word_embeddings=True, bos_token_id=50256, eos_token_id=50256, use_cache=True,
                    output_hidden_states=False)

    def __init__(self, **kwargs):
        for k, v in {**self.defaults, **kwargs}.items():
            setattr(self, k, v)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls(**json.load(f))


_ACTIVATIONS = {
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "tanh": torch.tanh,
}


class Conv1D(nn.Module):
    """transformers' Conv1D: a linear layer whose weight is stored (in_features, out_features): y = x @ W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], self.nf)


class GPT2Attention(nn.Module):
    """Causal multi-head self-attention; `layer_past` is this layer's (key, value), returned extended."""

    def __init__(self, config, layer_idx=None):
        super().__init__()
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = self.embed_dim // self.num_heads
        self.scale_attn_weights = config.scale_attn_weights
        self.scale_by_layer = config.scale_attn_by_inverse_layer_idx
        self.layer_idx = layer_idx
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def _heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, hidden_states, layer_past=None, attention_mask=None):
        q, k, v = self.c_attn(hidden_states).split(self.embed_dim, dim=2)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        if layer_past is not None:
            k = torch.cat([layer_past[0], k], dim=-2)
            v = torch.cat([layer_past[1], v], dim=-2)
        present = (k, v)
        scale = 1.0 / math.sqrt(self.head_dim) if self.scale_attn_weights else 1.0
        if self.scale_by_layer:
            scale /= float(self.layer_idx + 1)
        t_q, t_k = q.shape[-2], k.shape[-2]
        p = self.attn_dropout.p if self.training else 0.0
        # query i (absolute position t_k - t_q + i) sees keys 0 .. t_k - t_q + i. Without a padding mask the two
        # common cases need no mask tensor: a whole sequence is `is_causal`, and one new query (a decoding step)
        # sees every key. Both are the masked computation's arithmetic, and on the GPU they can take MLX's fused
        # attention kernel (Note [fused attention path] in nn/_attention.py).
        if attention_mask is None and t_q == t_k:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True, scale=scale)
        elif attention_mask is None and t_q == 1:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, scale=scale)
        else:
            causal = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(diagonal=t_k - t_q)
            mask = causal if attention_mask is None else causal & attention_mask
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, scale=scale)
        out = out.transpose(1, 2).reshape(*hidden_states.shape[:-1], self.embed_dim)
        return self.resid_dropout(self.c_proj(out)), present


class GPT2MLP(nn.Module):
    def __init__(self, inner_dim, config):
        super().__init__()
        self.c_fc = Conv1D(inner_dim, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner_dim)
        self.act = _ACTIVATIONS[config.activation_function]
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, config, layer_idx=None):
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, config)

    def forward(self, x, layer_past=None, attention_mask=None):
        a, present = self.attn(self.ln_1(x), layer_past, attention_mask)
        x = x + a
        return x + self.mlp(self.ln_2(x)), present


class GPT2Model(nn.Module):
    """Returns (last_hidden_state, presents, hidden_states): presents (each block's key and value) where use_cache,
    hidden_states where output_hidden_states (the embeddings, each block's output, and the final one after ln_f),
    else None; both default to the config's, as in transformers (use_cache True, output_hidden_states False)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(config, i) for i in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)

    def forward(self, input_ids=None, past_key_values=None, attention_mask=None, inputs_embeds=None, use_cache=None,
                output_hidden_states=None):
        """inputs_embeds (batch, t, n_embd) replaces wte(input_ids), as in transformers."""
        use_cache = self.config.use_cache if use_cache is None else use_cache
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You cannot specify both input_ids and inputs_embeds at the same time" if input_ids
                             is not None else "You have to specify either input_ids or inputs_embeds")
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[-2]
        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)
        x = self.drop(inputs_embeds + self._position_embeds(past_len, inputs_embeds.shape[-2], inputs_embeds.device))
        mask = None
        if attention_mask is not None:  # (batch, past + t) of 1/0 -> (batch, 1, 1, past + t) booleans
            mask = attention_mask.bool()[:, None, None, :]
        hidden_states, presents = [x], []
        for i, block in enumerate(self.h):
            x, present = block(x, None if past_key_values is None else past_key_values[i], mask)
            presents.append(present)
            hidden_states.append(x)
        x = self.ln_f(x)
        hidden_states[-1] = x
        return x, tuple(presents) if use_cache else None, tuple(hidden_states) if output_hidden_states else None

    def _position_embeds(self, past_len, t, device):
        """wpe of positions past_len .. past_len + t - 1, shape (1, t, n_embd): Note [position rows as a slice]."""
        wpe = self.wpe
        if (type(wpe) is nn.Embedding and not (wpe._forward_hooks or wpe._forward_pre_hooks)
                and not _module._has_any_global_hook() and wpe.max_norm is None and wpe.padding_idx is None
                and not wpe.sparse):
            if past_len + t > wpe.num_embeddings:
                raise IndexError("index out of range in self")
            return wpe.weight[past_len:past_len + t].unsqueeze(0)
        return wpe(torch.arange(past_len, past_len + t, device=device).unsqueeze(0))


class GPT2LMHeadModel(nn.Module):
    """GPT2Model plus lm_head (weights tied to transformer.wte, as transformers ties them)."""

    def __init__(self, config):
        super().__init__()
        if isinstance(config, dict):
            config = GPT2Config(**config)
        self.config = config
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids=None, past_key_values=None, attention_mask=None, labels=None, inputs_embeds=None,
                logits_to_keep=0, use_cache=None, output_hidden_states=None):
        """Returns dict(logits[, past_key_values][, hidden_states][, loss]), holding transformers' outputs that
        are not None: past_key_values where use_cache, hidden_states where output_hidden_states (GPT2Model). The
        outputs not asked for are not kept: a compiled forward evaluates every output it returns. loss as
        transformers' (next-token cross-entropy, labels shifted inside). logits_to_keep as transformers': a
        positive int computes the logits of only that many last positions (what decoding needs: Note [logits of
        the last position]), 0 all of them."""
        h, presents, hidden = self.transformer(input_ids, past_key_values, attention_mask, inputs_embeds=inputs_embeds,
                                               use_cache=use_cache, output_hidden_states=output_hidden_states)
        if logits_to_keep:
            h = h[:, -logits_to_keep:, :]
        logits = self.lm_head(h)
        out = {"logits": logits}
        if presents is not None:
            out["past_key_values"] = presents
        if hidden is not None:
            out["hidden_states"] = hidden
        if labels is not None:
            out["loss"] = F.cross_entropy(logits[..., :-1, :].reshape(-1, logits.shape[-1]),
                                          labels[..., 1:].reshape(-1), ignore_index=-100)
        return out

    @classmethod
    def from_pretrained(cls, path):
        """Build from a directory holding transformers' config.json and model.safetensors (or
        pytorch_model.bin, read with weights_only=True)."""
        config = GPT2Config.from_json_file(os.path.join(path, "config.json"))
        model = cls(config)
        st = os.path.join(path, "model.safetensors")
        if os.path.exists(st):
            from mlx_compat.utils.safetensors import load_file
            state = load_file(st)
        else:
            state = torch.load(os.path.join(path, "pytorch_model.bin"), weights_only=True)
        model.load_hf_state_dict(state)
        return model.eval()

    def load_hf_state_dict(self, state):
        """Load transformers' GPT-2 keys: with or without the `transformer.` prefix (GPT2Model checkpoints lack
        it), the tied lm_head.weight optional, the legacy attention-mask buffers (attn.bias, attn.masked_bias)
        ignored."""
        fixed = {}
        for k, v in state.items():
            if k.endswith((".attn.bias", ".attn.masked_bias")):
                continue
            if not k.startswith(("transformer.", "lm_head.")):
                k = "transformer." + k
            fixed[k] = v
        if "lm_head.weight" not in fixed and self.config.tie_word_embeddings:
            fixed["lm_head.weight"] = fixed["transformer.wte.weight"]
        self.load_state_dict(fixed, strict=True)

    @torch.no_grad()
    def generate(self, input_ids, max_new_tokens=20, do_sample=False, temperature=1.0, top_k=None, top_p=None,
                 eos_token_id=None, generator=None):
        """Autoregressive decoding with the key/value cache: the prompt once, then one token per step.
        Greedy (argmax) unless do_sample; sampling applies temperature, then top-k, then top-p (nucleus: the
        smallest set of most likely tokens whose probability reaches top_p) as transformers' warpers do."""
        tokens = [input_ids]
        out = self(input_ids, logits_to_keep=1, use_cache=True)  # Note [logits of the last position]
        past = out["past_key_values"]
        logits = out["logits"][:, -1, :]
        finished = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        wte = self.transformer.wte
        # Note [generated ids need no check]: an eos_token_id out of range goes through wte's own check
        trusted = (type(wte) is nn.Embedding and not (wte._forward_hooks or wte._forward_pre_hooks)
                   and not _module._has_any_global_hook() and wte.max_norm is None
                   and (eos_token_id is None or 0 <= eos_token_id < wte.num_embeddings))
        for _ in range(max_new_tokens):
            if do_sample:
                scores = logits / temperature
                if top_k is not None and top_k > 0:
                    kth = scores.topk(min(top_k, scores.shape[-1]), dim=-1).values[..., -1:]
                    scores = scores.masked_fill(scores < kth, float("-inf"))
                if top_p is not None and top_p < 1.0:
                    sorted_scores, order = scores.sort(dim=-1, descending=False)
                    cum = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
                    drop_sorted = cum <= (1 - top_p)
                    drop_sorted[..., -1] = False  # keep at least the most likely token
                    drop = drop_sorted.scatter(-1, order, drop_sorted)
                    scores = scores.masked_fill(drop, float("-inf"))
                next_tok = torch.multinomial(scores.softmax(dim=-1), 1, generator=generator).squeeze(-1)
            else:
                next_tok = logits.argmax(dim=-1)
            if eos_token_id is not None:
                next_tok = torch.where(finished, torch.full_like(next_tok, eos_token_id), next_tok)
                finished = finished | (next_tok == eos_token_id)
            tokens.append(next_tok[:, None])
            _async_eval(next_tok)
            if eos_token_id is not None and bool(finished.all()):
                break
            logits, past = self._decode_step(next_tok[:, None], past, trusted)
        return torch.cat(tokens, dim=1)

    def _decode_step(self, tok, past, trusted):
        """One decoding step of `generate`: the (batch, 1) tokens `tok` after the cache `past`; returns the
        (batch, vocab) logits and the extended cache. trusted: tok indexes wte in range, looked up without the
        bounds check (Note [generated ids need no check])."""
        if trusted:
            out = self(inputs_embeds=_rows(self.transformer.wte.weight, tok), past_key_values=past, use_cache=True)
        else:
            out = self(tok, past_key_values=past, use_cache=True)
        return out["logits"][:, -1, :], out["past_key_values"]


def _rows(weight, ids):
    """weight[ids] for ids known to be in range, without autograd (Note [generated ids need no check])."""
    return _new(scoped(weight._device_code, mx.take, weight._mx, ids._mx, 0), weight._device_code, weight.dtype)


def _async_eval(t):
    """Start evaluating t's graph while Python goes on building (Note [generated ids need no check])."""
    _C._eval_lock_acquire()  # Note [Threads]: every evaluation the package starts holds the lock
    try:
        mx.async_eval(t._mx)
    finally:
        _C._eval_lock_release()
