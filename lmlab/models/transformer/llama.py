"""The second wave of decoder LMs: Llama, Mistral, Qwen2 and Mixtral as one family.

    ids (B, T) -> token embeddings -> n_layers x Block(RMSNorm -> grouped-query causal attention
        with rotary positions -> RMSNorm -> SwiGLU MLP or a mixture of SwiGLU experts)
        -> RMSNorm -> lm_head (tied or not) -> logits (B, T, V)

What changed from GPT-2 (Touvron et al. 2023a/b; Dubey et al. 2024; Jiang et al. 2023, 2024;
Yang et al. 2024): RMSNorm instead of LayerNorm and no biases (Qwen2 keeps biases on q, k, v);
rotary positions with a large base (Llama 3: 500,000; Qwen2: 1,000,000) and, from Llama 3.1,
rescaled low frequencies for long contexts; SwiGLU feed-forward; grouped-query attention, whose KV
cache holds only the key/value heads (Llama-3.2-1B: 8 for 32 query heads, a quarter of the
memory); Mistral's sliding window over the last 4,096 keys; and Mixtral's sparse mixture of eight
SwiGLU experts, two per token (`lmlab.models.transformer.moe`).

The network is lmlab's `GPT` (the same blocks, KV cache, decode plan and `start`/`step`), built from
a `LlamaConfig`, whose defaults are the family's; the presets carry the published shapes, and
their parameter counts equal the checkpoints' (tests count them on the meta device). Checkpoints
load through `lmlab.io.hf` (`model_type` "llama", "mistral", "qwen2", "mixtral").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from lmlab.models.transformer.gpt import GPT, GPTConfig, PositionKind

_LLAMA3_SCALING = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
_MISTRAL = {"vocab_size": 32000, "max_seq_len": 32768, "d_model": 4096, "n_layers": 32,
            "n_heads": 32, "n_kv_heads": 8, "d_ff": 14336}


@dataclass
class LlamaConfig(GPTConfig):
    """A `GPTConfig` with the Llama family's defaults (RMSNorm, rotary, SwiGLU, no biases, untied).

    `d_ff` is the SwiGLU hidden width (Llama's `intermediate_size`); 0 means 4 * d_model.
    """

    vocab_size: int = 32000
    max_seq_len: int = 2048
    d_model: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    norm_eps: float = 1e-5
    pos: PositionKind = "rotary"
    activation: Literal["gelu", "gelu_tanh", "relu", "swiglu"] = "swiglu"
    bias: bool = False
    tie_embeddings: bool = False

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # Published checkpoints (parameter counts in tests/models/test_llama.py).
        "smollm2-135m": {"vocab_size": 49152, "max_seq_len": 8192, "d_model": 576, "n_layers": 30,
                         "n_heads": 9, "n_kv_heads": 3, "d_ff": 1536, "rope_theta": 100000.0,
                         "tie_embeddings": True},
        "smollm2-360m": {"vocab_size": 49152, "max_seq_len": 8192, "d_model": 960, "n_layers": 32,
                         "n_heads": 15, "n_kv_heads": 5, "d_ff": 2560, "rope_theta": 100000.0,
                         "tie_embeddings": True},
        "qwen2.5-0.5b": {"vocab_size": 151936, "max_seq_len": 32768, "d_model": 896,
                         "n_layers": 24, "n_heads": 14, "n_kv_heads": 2, "d_ff": 4864,
                         "norm_eps": 1e-6, "rope_theta": 1000000.0, "qkv_bias": True,
                         "tie_embeddings": True},
        "tinyllama-1.1b": {"vocab_size": 32000, "max_seq_len": 2048, "d_model": 2048,
                           "n_layers": 22, "n_heads": 32, "n_kv_heads": 4, "d_ff": 5632},
        "llama-3.2-1b": {"vocab_size": 128256, "max_seq_len": 131072, "d_model": 2048,
                         "n_layers": 16, "n_heads": 32, "n_kv_heads": 8, "d_ff": 8192,
                         "rope_theta": 500000.0, "rope_scaling": _LLAMA3_SCALING,
                         "tie_embeddings": True},
        "llama-2-7b": {"vocab_size": 32000, "max_seq_len": 4096, "d_model": 4096, "n_layers": 32,
                       "n_heads": 32, "d_ff": 11008},
        "mistral-7b": {**_MISTRAL, "sliding_window": 4096},
        "mixtral-8x7b": {**_MISTRAL, "rope_theta": 1000000.0, "n_experts": 8,
                         "experts_per_token": 2, "router_aux_loss_coef": 0.02},
        # CPU-sized models of the same shape for the course and the tests.
        "llama-tiny": {"vocab_size": 512, "max_seq_len": 256, "d_model": 64, "n_layers": 2,
                       "n_heads": 4, "n_kv_heads": 2, "d_ff": 172},
        "llama-mini": {"vocab_size": 4096, "max_seq_len": 512, "d_model": 192, "n_layers": 6,
                       "n_heads": 6, "n_kv_heads": 2, "d_ff": 512},
        "mixtral-tiny": {"vocab_size": 512, "max_seq_len": 256, "d_model": 64, "n_layers": 2,
                         "n_heads": 4, "n_kv_heads": 2, "d_ff": 128, "n_experts": 4,
                         "experts_per_token": 2, "router_aux_loss_coef": 0.02},
    }


class Llama(GPT):
    """A decoder of the Llama family (see the module docstring); the network is `GPT`'s."""

    config_type: ClassVar[str] = "llama"
    config_class: ClassVar[type] = LlamaConfig
