"""GPT: a decoder-only Transformer language model (Radford et al., 2018, 2019).

    ids (B, T) -> token + position embeddings -> n_layers x Block(causal self-attention, MLP)
        -> final norm -> lm_head (tied to the token embeddings) -> logits (B, T, V)

The story follows nanoGPT's `model.py`: a config dataclass with the GPT-2 presets (whose shapes
and parameter counts match the published checkpoints, so they load through `lmlab.io.hf`),
residual-scaled initialisation (output projections ~ N(0, 0.02 / sqrt(2 n_layers))), optimiser
groups that decay only 2-D weights, `get_num_params` and `estimate_mfu`. Differences: `forward`
returns logits only (objectives live in `lmlab.train`), and inference goes through the shared
`start`/`step` interface over a preallocated `KVCache`, computing logits for the last position only.
The same class covers modern variants through the config (RMSNorm, rotary positions with their
base and Llama-3 scaling, SwiGLU, grouped-query attention, Qwen2's q/k/v biases, Mistral's sliding
window, Mixtral's mixture of experts); `lmlab.models.transformer.llama` tells that family's story
with its presets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from lmlab.config import Config
from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.base import TokenizedLM, check_tokenizer
from lmlab.models.transformer.attention import MultiHeadAttention, padding_mask
from lmlab.models.transformer.decode import DecodePlan
from lmlab.models.transformer.kv_cache import KVCache
from lmlab.models.transformer.layers import Block, check_sizes, make_feed_forward, make_norm
from lmlab.models.transformer.positions import (
    LearnedPositions,
    RotaryEmbedding,
    SinusoidalPositions,
)

PositionKind = Literal["learned", "sinusoidal", "rotary", "none"]
POSITIONS = ("learned", "sinusoidal", "rotary", "none")

_GPT2 = {"vocab_size": 50257, "max_seq_len": 1024, "activation": "gelu_tanh", "norm_eps": 1e-5}


@dataclass
class GPTConfig(Config):
    """Decoder-only Transformer settings (course notation). d_ff = 0 means 4 * d_model.

    Modern decoders: `n_kv_heads` (0 = n_heads) for grouped-query attention; `rope_theta` and
    `rope_scaling` (e.g. {"rope_type": "llama3", ...}) for rotary positions; `qkv_bias` for biases
    on q, k, v only (None: as `bias`); `sliding_window` (None: full causal attention);
    `n_experts` > 0 with `experts_per_token` for a mixture-of-experts feed-forward, whose
    load-balancing loss is weighted by `router_aux_loss_coef` in training.

    `bos_id`/`eos_id` declare the start and end ids when the tokenizer's `<s>`/`</s>` do not
    (an imported checkpoint: GPT-2 has no start token and ends texts with `<|endoftext|>`);
    `tokenizer_specials=False` makes them the only source (None = no such token).
    """

    vocab_size: int = 50257
    max_seq_len: int = 1024
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    d_ff: int = 0
    dropout: float = 0.0
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    norm_eps: float = 1e-5
    pos: PositionKind = "learned"
    activation: Literal["gelu", "gelu_tanh", "relu", "swiglu"] = "gelu_tanh"
    bias: bool = True
    tie_embeddings: bool = True
    attention: Literal["math", "sdpa"] = "sdpa"
    n_kv_heads: int = 0
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None
    qkv_bias: bool | None = None
    sliding_window: int | None = None
    n_experts: int = 0
    experts_per_token: int = 2
    router_aux_loss_coef: float = 0.0
    bos_id: int | None = None
    eos_id: int | None = None
    tokenizer_specials: bool = True

    PRESETS: ClassVar[dict[str, dict]] = {
        "gpt2-small": {**_GPT2, "d_model": 768, "n_layers": 12, "n_heads": 12},
        "gpt2-medium": {**_GPT2, "d_model": 1024, "n_layers": 24, "n_heads": 16},
        "gpt2-large": {**_GPT2, "d_model": 1280, "n_layers": 36, "n_heads": 20},
        "gpt2-xl": {**_GPT2, "d_model": 1600, "n_layers": 48, "n_heads": 25},
        # CPU-sized models for the course and the tests; vocab_size comes from the tokenizer.
        "gpt-tiny": {"vocab_size": 512, "max_seq_len": 128, "d_model": 64, "n_layers": 2, "n_heads": 4},
        "gpt-mini": {"vocab_size": 4096, "max_seq_len": 256, "d_model": 128, "n_layers": 4, "n_heads": 4},
        "gpt-small-cpu": {"vocab_size": 8192, "max_seq_len": 256, "d_model": 256, "n_layers": 6,
                          "n_heads": 8},
    }

    def __post_init__(self) -> None:
        check_sizes(self, ("vocab_size", "max_seq_len", "d_model", "n_layers", "n_heads"))
        check_range("d_ff", self.d_ff, 0)
        check_choice("pos", self.pos, POSITIONS)
        check_range("n_kv_heads", self.n_kv_heads, 0, self.n_heads)
        if self.n_kv_heads and self.n_heads % self.n_kv_heads:
            raise ConfigError(f"n_heads={self.n_heads} is not a multiple of n_kv_heads="
                              f"{self.n_kv_heads}", fix="choose n_kv_heads dividing n_heads")
        check_range("rope_theta", self.rope_theta, 0, low_open=True)
        if self.sliding_window is not None:
            check_range("sliding_window", self.sliding_window, 1)
        check_range("n_experts", self.n_experts, 0)
        if self.n_experts:
            check_range("experts_per_token", self.experts_per_token, 1, self.n_experts)
        check_range("router_aux_loss_coef", self.router_aux_loss_coef, 0)
        for name in ("bos_id", "eos_id"):
            if getattr(self, name) is not None:
                check_range(name, getattr(self, name), 0, self.vocab_size, high_open=True)
        if self.d_ff == 0:
            self.d_ff = 4 * self.d_model

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        """Key/value heads: n_kv_heads, or n_heads when 0 (multi-head attention)."""
        return self.n_kv_heads or self.n_heads


def decoder_block(cfg, *, cross: bool = False, prenorm: bool = True) -> Block:
    """A pre-norm decoder layer built from `cfg` (GPT and T5 decoders share it)."""
    def attn(is_cross: bool) -> MultiHeadAttention:
        return MultiHeadAttention(cfg.d_model, cfg.n_heads, bias=cfg.bias, dropout=cfg.dropout,
                                  backend=cfg.attention, cross=is_cross,
                                  n_kv_heads=getattr(cfg, "n_kv_heads", 0) or None,
                                  qkv_bias=getattr(cfg, "qkv_bias", None),
                                  window=getattr(cfg, "sliding_window", None))
    norm = lambda: make_norm(cfg.norm, cfg.d_model, cfg.norm_eps)  # noqa: E731
    if getattr(cfg, "n_experts", 0):
        from lmlab.models.transformer.moe import MoEFeedForward

        ff = MoEFeedForward(cfg.d_model, cfg.d_ff, cfg.n_experts, cfg.experts_per_token)
    else:
        ff = make_feed_forward(cfg.activation, cfg.d_model, cfg.d_ff, bias=cfg.bias)
    return Block(attn(False), ff, norm(), norm(), prenorm=prenorm, dropout=cfg.dropout,
                 cross=attn(True) if cross else None, norm_cross=norm() if cross else None)


class GPT(TokenizedLM, TorchSavableMixin, nn.Module):
    """Causal Transformer LM; implements `lmlab.models.base.LanguageModel` with KV-cache steps."""

    config_type: ClassVar[str] = "gpt"
    config_class: ClassVar[type] = GPTConfig

    def __init__(self, config: GPTConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, check_tokenizer(tokenizer, config.vocab_size, "GPT")
        self.vocab_size = config.vocab_size
        self._decode_plan: DecodePlan | None = None  # set by `start`
        c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = (LearnedPositions(c.max_seq_len, c.d_model) if c.pos == "learned" else
                        SinusoidalPositions(c.max_seq_len, c.d_model) if c.pos == "sinusoidal" else None)
        self.rotary = (RotaryEmbedding(c.d_head, c.max_seq_len, c.rope_theta, c.rope_scaling)
                       if c.pos == "rotary" else None)
        self.drop = nn.Dropout(c.dropout) if c.dropout > 0 else nn.Identity()
        self.blocks = nn.ModuleList(decoder_block(c) for _ in range(c.n_layers))
        self.norm_f = make_norm(c.norm, c.d_model, c.norm_eps)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight
        self.register_buffer("positions", torch.arange(c.max_seq_len), persistent=False)
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * c.n_layers)
        for block in self.blocks:  # residual-scaled init of the projections into the stream
            nn.init.normal_(block.attn.out.weight, mean=0.0, std=residual_std)
            down = block.ff.down
            nn.init.normal_(down if isinstance(down, nn.Parameter) else down.weight, mean=0.0,
                            std=residual_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    # ---- the network ------------------------------------------------------------------------

    def hidden(self, ids: torch.Tensor, *, mask: torch.Tensor | None = None,
               cache: KVCache | None = None, all_layers: bool = False,
               positions: torch.Tensor | None = None):
        """Final-norm hidden states (B, T, D) of ids (B, T) int64 (after `cache.length` cached ones).

        Args:
            mask: (B, Tk) keep-mask over all key positions (padding), or (B, T, Tk) keep-mask per
                query (packed examples: block-diagonal; the causal triangle is still applied), or None.
            cache: a `KVCache` to append to (advanced by T), or None.
            all_layers: also return the list [embeddings, block 1, ..., block L] (pre final norm).
            positions: (B, T) int64 position of each token (packed examples restart at 0), or
                None for cache.length, ..., cache.length + T - 1.
        """
        _b, t = ids.shape
        start = cache.length if cache is not None else 0
        self._check_length(start + t)
        if positions is None:
            positions = rotary_positions = self.positions[start : start + t]  # (T,)
        else:
            self._check_length(int(positions.max()) + 1 if positions.numel() else 0)
            rotary_positions = positions[:, None, :]  # (B, 1, T): broadcast over heads
        x = self.tok_emb(ids)  # (B, T, D)
        if self.pos_emb is not None:
            x = x + self.pos_emb(positions)
        if self.training:
            x = self.drop(x)
        keep = None if mask is None else padding_mask(mask) if mask.dim() == 2 else mask.bool()[:, None]
        states = [x] if all_layers else None
        for i, block in enumerate(self.blocks):
            x = block(x, mask=keep, causal=True, rotary=self.rotary, positions=rotary_positions,
                      cache=cache, layer=i)
            if states is not None:
                states.append(x)
        if cache is not None:
            cache.advance(t)
        x = self.norm_f(x)
        return (x, states) if all_layers else x

    def _check_length(self, n_tokens: int) -> None:
        if n_tokens > self.config.max_seq_len:
            raise DataError(f"sequence of {n_tokens} tokens exceeds max_seq_len="
                            f"{self.config.max_seq_len}", fix="shorten the input or the generation")

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
                positions: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits (B, T, V) for ids (B, T): position t predicts token t + 1
        (`mask` and `positions` as in `hidden`)."""
        return self.lm_head(self.hidden(ids, mask=mask, positions=positions))

    def teacher_forced_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits after every prefix of ids (B, T) in one pass: (B, T, V)."""
        return self.forward(ids)

    # ---- LanguageModel: start / step over the KV cache -------------------------------------

    def new_cache(self, batch: int, capacity: int | None = None) -> KVCache:
        """An empty preallocated cache (capacity max_seq_len unless given)."""
        p = self.lm_head.weight
        c = self.config
        return KVCache(c.n_layers, batch, c.kv_heads, c.d_head, capacity or c.max_seq_len,
                       device=p.device, dtype=p.dtype)

    @torch.inference_mode()
    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[KVCache, torch.Tensor]:
        """Read the prompt ids (B, T); return (cache, logits (B, V) for the next token).

        Also lays out the parameters for the one-token steps that follow (`DecodePlan`), so a
        change to the model between generations (a swapped module, hooks, train mode) is seen.
        """
        self._decode_plan = DecodePlan.build(self, batch=ids.shape[0])
        cache = self.new_cache(ids.shape[0], capacity)
        cache.reserve(ids.shape[1])
        h = self.hidden(ids, cache=cache)
        return cache, self.lm_head(h[:, -1])

    @torch.inference_mode()
    def step(self, state: KVCache, ids: torch.Tensor) -> tuple[KVCache, torch.Tensor]:
        """Append ids (B,) to the cached context (in place); return (cache, logits (B, V))."""
        self._check_length(state.length + 1)
        state.reserve(1)
        plan = self._decode_plan
        if plan is not None and not self.training:
            return state, plan.step(state, ids)
        h = self.hidden(ids[:, None], cache=state)
        return state, self.lm_head(h[:, -1])

    # ---- training helpers (nanoGPT) --------------------------------------------------------

    def get_num_params(self, non_embedding: bool = True) -> int:
        """Parameters (tied ones once); without the position table when non_embedding."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding and isinstance(self.pos_emb, nn.Embedding):
            n -= self.pos_emb.weight.numel()
        return n

    def optimizer_groups(self, weight_decay: float) -> list[dict]:
        """AdamW groups: decay 2-D weights (matmuls, embeddings); not biases or norm gains."""
        params = [p for p in self.parameters() if p.requires_grad]
        return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]

    def configure_optimizer(self, *, lr: float = 6e-4, weight_decay: float = 0.1,
                            betas: tuple[float, float] = (0.9, 0.95)) -> torch.optim.AdamW:
        """AdamW over `optimizer_groups`, fused (one kernel for all tensors) on CPU and CUDA."""
        fused = self.lm_head.weight.device.type in ("cuda", "cpu")
        return torch.optim.AdamW(self.optimizer_groups(weight_decay), lr=lr, betas=betas, fused=fused)

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token: 6 N for the matmuls + 12 L D T for attention (PaLM, App. B)."""
        c = self.config
        t = seq_len or c.max_seq_len
        return 6 * self.get_num_params() + 12 * c.n_layers * c.d_model * t

    def estimate_mfu(self, tokens_per_iter: int, seconds_per_iter: float, *,
                     peak_flops: float = 312e12, seq_len: int | None = None) -> float:
        """Model FLOPs utilisation: achieved training FLOP/s over `peak_flops` (A100 bf16 default)."""
        return self.flops_per_token(seq_len) * tokens_per_iter / seconds_per_iter / peak_flops
