"""mlx_compat.models: reference models with Hugging Face's module structure and parameter names, so checkpoints
saved by `transformers` (`model.safetensors` + `config.json`) load unchanged: gpt2 (GPT2Model, GPT2LMHeadModel
with a KV-cache `generate`) and bert (BertModel, BertForMaskedLM)."""
from . import bert, gpt2  # noqa: F401
