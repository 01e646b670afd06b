"""T5-style encoder-decoder Transformer (Raffel et al., 2020, "Exploring the Limits of Transfer
Learning with a Unified Text-to-Text Transformer").

    src (B, S) -> encoder: n_layers x pre-norm Block(self-attn + relative bias, ReLU MLP) -> memory
    tgt (B, T) -> decoder: n_layers x Block(causal self-attn + bias, cross-attn to memory, MLP)
               -> RMSNorm -> (x d_model^-1/2 when tied) -> lm_head -> logits (B, T, V)

T5's choices, kept: RMSNorm without bias, no biases in any projection, unscaled dot-product
attention (the 1/sqrt(d) is folded into the initialisation), a learned relative position bias per
head computed once per stack and shared by its layers, one embedding shared by encoder, decoder and
(tied) output layer. The presets `t5-small` (60,506,624 parameters) and `t5-base` (222,903,552)
match the published shapes. Every task is text to text with a task prefix
("translate Spanish to English: ..."); pre-training is span corruption (`lmlab.train.pretraining`).

`condition(src_ids, src_mask)` encodes once and returns a `LanguageModel` over target ids whose
state is a preallocated self-attention cache plus the cross-attention keys/values of the memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from lmlab.config import Config
from lmlab.data.tokens import encode_ids
from lmlab.errors import ConfigError, DataError
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.base import token_id
from lmlab.models.transformer.attention import MultiHeadAttention, padding_mask
from lmlab.models.transformer.kv_cache import KVCache
from lmlab.models.transformer.layers import Block, check_sizes, make_feed_forward, make_norm
from lmlab.models.transformer.positions import RelativePositionBias
from lmlab.text import special

TASK_PREFIXES = {"translate_es_en": "translate Spanish to English: ",
                 "translate_en_es": "translate English to Spanish: ",
                 "sentiment": "sentiment: ", "summarize": "summarize: "}


@dataclass
class T5Config(Config):
    """Encoder-decoder settings; n_layers is the depth of each stack."""

    vocab_size: int = 32128
    max_seq_len: int = 512
    d_model: int = 512
    n_layers: int = 6
    n_heads: int = 8
    d_ff: int = 2048
    dropout: float = 0.1
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    norm_eps: float = 1e-6
    activation: Literal["gelu", "gelu_tanh", "relu", "swiglu"] = "relu"
    rel_buckets: int = 32
    rel_max_distance: int = 128
    pad_id: int = 0
    decoder_start_id: int = 0
    tie_embeddings: bool = True
    attention: Literal["math", "sdpa"] = "sdpa"

    PRESETS: ClassVar[dict[str, dict]] = {
        "t5-small": {},
        "t5-base": {"d_model": 768, "n_layers": 12, "n_heads": 12, "d_ff": 3072},
        "t5-tiny": {"vocab_size": 512, "max_seq_len": 128, "d_model": 64, "n_layers": 2,
                    "n_heads": 4, "d_ff": 256, "dropout": 0.0},
    }

    def __post_init__(self) -> None:
        check_sizes(self, ("vocab_size", "max_seq_len", "d_model", "n_layers", "n_heads", "d_ff",
                           "rel_buckets", "rel_max_distance"))


def _t5_block(c: T5Config, *, cross: bool) -> Block:
    def attn(is_cross: bool) -> MultiHeadAttention:
        return MultiHeadAttention(c.d_model, c.n_heads, bias=False, dropout=c.dropout, cross=is_cross,
                                  backend=c.attention, scale=1.0)
    norm = lambda: make_norm(c.norm, c.d_model, c.norm_eps)  # noqa: E731
    return Block(attn(False), make_feed_forward(c.activation, c.d_model, c.d_ff, bias=False),
                 norm(), norm(), prenorm=True, dropout=c.dropout,
                 cross=attn(True) if cross else None, norm_cross=norm() if cross else None)


class T5State:
    """Decoder state: self-attention `KVCache`, per-layer memory keys/values, source keep-mask."""

    def __init__(self, cache: KVCache, memory_kv: list[tuple[torch.Tensor, torch.Tensor]],
                 src_keep: torch.Tensor | None) -> None:
        self.cache, self.memory_kv, self.src_keep = cache, memory_kv, src_keep

    def reorder(self, rows: torch.Tensor) -> T5State:
        """Keep batch rows `rows` (beam search); returns self."""
        self.cache.reorder(rows)
        self.memory_kv = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in self.memory_kv]
        if self.src_keep is not None:
            self.src_keep = self.src_keep.index_select(0, rows)
        return self


class T5(TorchSavableMixin, nn.Module):
    """Encoder-decoder: `forward(src_ids, src_mask, tgt_in) -> logits (B, T, V)`, `condition(...)`."""

    config_type: ClassVar[str] = "t5"
    config_class: ClassVar[type] = T5Config

    def __init__(self, config: T5Config, tokenizer: Any = None) -> None:
        super().__init__()
        self.config = c = config
        self.tokenizer = tokenizer
        self.vocab_size = c.vocab_size
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.enc_bias = RelativePositionBias(c.n_heads, bidirectional=True, n_buckets=c.rel_buckets,
                                             max_distance=c.rel_max_distance)
        self.dec_bias = RelativePositionBias(c.n_heads, bidirectional=False, n_buckets=c.rel_buckets,
                                             max_distance=c.rel_max_distance)
        self.encoder = nn.ModuleList(_t5_block(c, cross=False) for _ in range(c.n_layers))
        self.decoder = nn.ModuleList(_t5_block(c, cross=True) for _ in range(c.n_layers))
        self.enc_norm = make_norm(c.norm, c.d_model, c.norm_eps)
        self.dec_norm = make_norm(c.norm, c.d_model, c.norm_eps)
        self.drop = nn.Dropout(c.dropout)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_embeddings:
            self.lm_head.weight = self.embed.weight
        self.register_buffer("positions", torch.arange(c.max_seq_len), persistent=False)
        self._init_weights()

    def _init_weights(self) -> None:
        # T5's scheme (Mesh TensorFlow): unscaled attention, so queries start 1/sqrt(d_head) smaller.
        c = self.config
        nn.init.normal_(self.embed.weight, std=1.0)
        for m in self.modules():
            if isinstance(m, MultiHeadAttention):
                d, dh = c.d_model, c.d_model // c.n_heads
                proj = m.q.weight if m.cross else m.qkv.weight[:d]
                with torch.no_grad():
                    proj.normal_(std=(d * dh) ** -0.5)
                    rest = m.kv.weight if m.cross else m.qkv.weight[d:]
                    rest.normal_(std=d ** -0.5)
                nn.init.normal_(m.out.weight, std=(c.n_heads * dh) ** -0.5)
            elif isinstance(m, nn.Linear) and m is not self.lm_head:
                nn.init.normal_(m.weight, std=m.in_features ** -0.5)
        if not c.tie_embeddings:
            nn.init.normal_(self.lm_head.weight, std=c.d_model ** -0.5)

    def _check(self, t: int) -> None:
        if t > self.config.max_seq_len:
            raise DataError(f"{t} tokens exceed max_seq_len={self.config.max_seq_len}",
                            fix="truncate the input or raise max_seq_len")

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Encoder memory (B, S, D) of src_ids (B, S) with keep-mask (B, S)."""
        s = src_ids.shape[1]
        self._check(s)
        pos = self.positions[:s]
        bias = self.enc_bias(pos, pos)  # (1, H, S, S), shared by every layer
        keep = padding_mask(src_mask) if src_mask is not None else None
        x = self.drop(self.embed(src_ids))
        for block in self.encoder:
            x = block(x, mask=keep, bias=bias)
        return self.drop(self.enc_norm(x))

    def memory_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention keys/values of every decoder layer, computed once per source."""
        return [block.cross.project_kv(memory) for block in self.decoder]

    def decode(self, tgt_ids: torch.Tensor, memory_kv: list[tuple[torch.Tensor, torch.Tensor]],
               src_keep: torch.Tensor | None, cache: KVCache | None = None) -> torch.Tensor:
        """Decoder hidden states (B, T, D) of tgt_ids (B, T) (after `cache.length` cached ones)."""
        start, t = (cache.length if cache is not None else 0), tgt_ids.shape[1]
        self._check(start + t)
        bias = self.dec_bias(self.positions[start : start + t], self.positions[: start + t])
        y = self.drop(self.embed(tgt_ids))
        for i, block in enumerate(self.decoder):
            y = block(y, memory_kv=memory_kv[i], cross_kwargs={"mask": src_keep},
                      causal=True, bias=bias, cache=cache, layer=i)
        if cache is not None:
            cache.advance(t)
        y = self.drop(self.dec_norm(y))
        return y * self.config.d_model ** -0.5 if self.config.tie_embeddings else y

    def forward(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None,
                tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T, V): position t predicts tgt token t + 1."""
        memory = self.encode(src_ids, src_mask)
        keep = padding_mask(src_mask) if src_mask is not None else None
        return self.lm_head(self.decode(tgt_in, self.memory_kv(memory), keep))

    @torch.inference_mode()
    def condition(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None = None) -> T5Conditioned:
        """A `LanguageModel` over target ids given these sources (encoded once)."""
        return T5Conditioned(self, src_ids, src_mask)

    def get_num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def eos_id(self) -> int | None:
        """The tokenizer's `</s>`: it ends every source and every target."""
        return token_id(self.tokenizer, special.EOS)

    def source_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Sources as T5 reads them: ids + </s>, at most `max_seq_len` tokens."""
        if self.tokenizer is None or self.eos_id is None:
            raise ConfigError("a T5 without a tokenizer with </s> cannot read text", where="T5",
                              fix="train the model with lmlab (its tokenizer has </s>) or pass ids")
        return encode_ids(list(texts), self.tokenizer, eos_id=self.eos_id,
                          max_len=self.config.max_seq_len)


class T5Conditioned:
    """p(target | source) through start/step; start with ids [[decoder_start_id]] * B."""

    def __init__(self, model: T5, src_ids: torch.Tensor, src_mask: torch.Tensor | None) -> None:
        self.model = model
        self.vocab_size = model.config.vocab_size
        self.tokenizer = model.tokenizer
        self.bos_id = model.config.decoder_start_id
        self.eos_id = model.eos_id
        self.max_seq_len = model.config.max_seq_len
        self.device = src_ids.device
        self.batch = src_ids.shape[0]
        memory = model.encode(src_ids, src_mask)
        self.memory_kv = model.memory_kv(memory)
        self.src_keep = padding_mask(src_mask) if src_mask is not None else None

    def _logits(self, ids: torch.Tensor, state: T5State) -> torch.Tensor:
        h = self.model.decode(ids, state.memory_kv, state.src_keep, state.cache)
        return self.model.lm_head(h[:, -1])

    @torch.inference_mode()
    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[T5State, torch.Tensor]:
        """Read the target prefix ids (B, T); return (state, logits (B, V)).

        `capacity`: target positions the cache holds (default `max_seq_len`)."""
        batch = ids.shape[0]
        memory_kv, src_keep = self._for_batch(batch)
        c = self.model.config
        cache = KVCache(c.n_layers, batch, c.n_heads, c.d_model // c.n_heads,
                        capacity or c.max_seq_len,
                        device=ids.device, dtype=self.model.embed.weight.dtype)
        state = T5State(cache, memory_kv, src_keep)
        return state, self._logits(ids, state)

    def _for_batch(self, batch: int) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], Any]:
        """Encoder keys/values and source mask for `batch` target rows: one per source, or the
        one source repeated for every row."""
        if batch == self.batch:
            return list(self.memory_kv), self.src_keep
        if self.batch != 1:
            raise DataError(f"target batch {batch} != source batch {self.batch}",
                            fix="start one target prefix per source, or condition on one source")
        grow = [(k.expand(batch, *k.shape[1:]), v.expand(batch, *v.shape[1:]))
                for k, v in self.memory_kv]
        keep = None if self.src_keep is None else self.src_keep.expand(batch, *self.src_keep.shape[1:])
        return grow, keep

    @torch.inference_mode()
    def step(self, state: T5State, ids: torch.Tensor) -> tuple[T5State, torch.Tensor]:
        """Append ids (B,); return (state, logits (B, V))."""
        return state, self._logits(ids[:, None], state)

    @torch.inference_mode()
    def teacher_forced_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits after every target prefix (B, T, V)."""
        memory_kv, src_keep = self._for_batch(ids.shape[0])
        h = self.model.decode(ids, memory_kv, src_keep)
        return self.model.lm_head(h)


def task_input(task: str, text: str) -> str:
    """Prefix a text with its task, T5's text-to-text framing ("translate Spanish to English: ...")."""
    if task not in TASK_PREFIXES:
        raise ConfigError(f"unknown task {task!r}", fix=f"use one of {', '.join(TASK_PREFIXES)} "
                          "or write the prefix yourself")
    return TASK_PREFIXES[task] + text

