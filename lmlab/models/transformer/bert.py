"""BERT: a bidirectional Transformer encoder and its task heads (Devlin et al., 2019).

    [CLS] a_1 ... a_n [SEP] b_1 ... b_m [SEP]
    token + position + segment embeddings -> LayerNorm -> n_layers x post-norm Block -> (B, T, D)

The encoder matches Hugging Face's `BertModel` (tanh pooler over [CLS] included), so the presets
`bert-base` (109,482,240 parameters), `bert-large` (335,141,888) and `minilm-l6` (22,713,216, the
all-MiniLM-L6-v2 encoder) load published checkpoints through `lmlab.io.hf`. Heads are small modules
around an encoder, one per task:

- `BertForPreTraining`: masked-LM head (dense -> GELU -> LayerNorm -> decoder tied to the token
  embeddings) and next-sentence prediction over the pooled [CLS] (objectives in
  `lmlab.train.pretraining`).
- `BertClassifier`: one label per sequence or per sentence pair (segments 0/1) from the pooled [CLS].
- `BertTagger`: one label per token (named entities, BIO tags).
Mean-pooled sentence embeddings live in `sentence.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from lmlab.config import Config
from lmlab.errors import DataError
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.transformer.attention import MultiHeadAttention, padding_mask
from lmlab.models.transformer.layers import Block, check_sizes, make_feed_forward, make_norm
from lmlab.models.transformer.positions import LearnedPositions

_BERT = {"vocab_size": 30522, "max_seq_len": 512}


@dataclass
class BERTConfig(Config):
    """Encoder settings (course notation); `n_labels` is used by the classification heads only."""

    vocab_size: int = 30522
    max_seq_len: int = 512
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    d_ff: int = 3072
    dropout: float = 0.1
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    norm_eps: float = 1e-12
    activation: Literal["gelu", "gelu_tanh", "relu", "swiglu"] = "gelu"
    n_segments: int = 2
    pad_id: int = 0
    attention: Literal["math", "sdpa"] = "sdpa"
    n_labels: int = 2

    PRESETS: ClassVar[dict[str, dict]] = {
        "bert-base": {**_BERT},
        "bert-large": {**_BERT, "d_model": 1024, "n_layers": 24, "n_heads": 16, "d_ff": 4096},
        "minilm-l6": {**_BERT, "d_model": 384, "n_layers": 6, "n_heads": 12, "d_ff": 1536},
        "bert-tiny": {"vocab_size": 512, "max_seq_len": 128, "d_model": 64, "n_layers": 2,
                      "n_heads": 4, "d_ff": 256},
    }

    def __post_init__(self) -> None:
        check_sizes(self, ("vocab_size", "max_seq_len", "d_model", "n_layers", "n_heads", "d_ff",
                           "n_segments", "n_labels"))


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


class BERT(TorchSavableMixin, nn.Module):
    """The encoder (HF `BertModel`): `encode(ids, mask, segments) -> (B, T, D)`, `pool` for [CLS]."""

    config_type: ClassVar[str] = "bert"
    config_class: ClassVar[type] = BERTConfig

    def __init__(self, config: BERTConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config = c = config
        self.tokenizer = tokenizer
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = LearnedPositions(c.max_seq_len, c.d_model)
        self.seg_emb = nn.Embedding(c.n_segments, c.d_model)
        self.emb_norm = make_norm(c.norm, c.d_model, c.norm_eps)
        self.drop = nn.Dropout(c.dropout)

        def block() -> Block:
            attn = MultiHeadAttention(c.d_model, c.n_heads, dropout=c.dropout, backend=c.attention)
            norm = lambda: make_norm(c.norm, c.d_model, c.norm_eps)  # noqa: E731
            return Block(attn, make_feed_forward(c.activation, c.d_model, c.d_ff), norm(), norm(),
                         prenorm=False, dropout=c.dropout)

        self.blocks = nn.ModuleList(block() for _ in range(c.n_layers))
        self.pooler = nn.Linear(c.d_model, c.d_model)
        self.register_buffer("positions", torch.arange(c.max_seq_len), persistent=False)
        self.apply(_init)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
               segments: torch.Tensor | None = None, *, all_layers: bool = False):
        """Contextual vectors (B, T, D) of ids (B, T) int64.

        Args:
            mask: (B, T) bool, True = real token; None = all real.
            segments: (B, T) int64 sentence A/B ids (0/1); None = all 0.
            all_layers: also return [embeddings, block 1, ..., block L] (the last equals the output).
        """
        t = ids.shape[1]
        if t > self.config.max_seq_len:
            raise DataError(f"{t} tokens exceed max_seq_len={self.config.max_seq_len}",
                            fix="truncate the input (tokenizer.enable_truncation)")
        x = self.tok_emb(ids) + self.pos_emb(self.positions[:t])
        x = x + (self.seg_emb(segments) if segments is not None else self.seg_emb.weight[0])
        x = self.drop(self.emb_norm(x))  # (B, T, D)
        keep = padding_mask(mask) if mask is not None else None
        states = [x]
        for block in self.blocks:
            x = block(x, mask=keep)
            states.append(x)
        return (x, states) if all_layers else x

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
                segments: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode(ids, mask, segments)

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        """BERT's pooled output tanh(W h_[CLS] + b): (B, T, D) -> (B, D)."""
        return torch.tanh(self.pooler(hidden[:, 0]))

    def get_num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Average of the real tokens' vectors: (B, T, D), (B, T) bool -> (B, D)."""
    if mask is None:
        return hidden.mean(dim=1)
    w = mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    return (hidden * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9)


class MLMHead(nn.Module):
    """dense -> GELU -> LayerNorm -> vocabulary logits with the decoder tied to the embeddings."""

    def __init__(self, config: BERTConfig, embeddings: nn.Embedding) -> None:
        super().__init__()
        self.dense = nn.Linear(config.d_model, config.d_model)
        self.norm = make_norm(config.norm, config.d_model, config.norm_eps)
        self.decoder = nn.Linear(config.d_model, config.vocab_size)
        self.decoder.weight = embeddings.weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(nn.functional.gelu(self.dense(hidden))))  # (B, T, V)


class BertForPreTraining(TorchSavableMixin, nn.Module):
    """Encoder + masked-LM head + next-sentence head: forward -> (mlm (B, T, V), nsp (B, 2))."""

    config_type: ClassVar[str] = "bert-pretraining"
    config_class: ClassVar[type] = BERTConfig

    def __init__(self, config: BERTConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.bert = BERT(config)
        self.mlm = MLMHead(config, self.bert.tok_emb)
        self.nsp = nn.Linear(config.d_model, 2)
        _init(self.mlm.dense)
        _init(self.nsp)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
                segments: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.bert.encode(ids, mask, segments)
        return self.mlm(h), self.nsp(self.bert.pool(h))


class _BertWithHead(TorchSavableMixin, nn.Module):
    """An encoder plus dropout and a linear head of `n_labels` outputs."""

    config_class: ClassVar[type] = BERTConfig

    def __init__(self, config: BERTConfig, tokenizer: Any = None, *,
                 encoder: BERT | None = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.bert = encoder if encoder is not None else BERT(config)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.d_model, config.n_labels)
        _init(self.head)


class BertClassifier(_BertWithHead):
    """Sequence or sentence-pair classification from the pooled [CLS]: -> logits (B, n_labels)."""

    config_type: ClassVar[str] = "bert-classifier"

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
                segments: torch.Tensor | None = None) -> torch.Tensor:
        h = self.bert.encode(ids, mask, segments)
        return self.head(self.drop(self.bert.pool(h)))


class BertTagger(_BertWithHead):
    """Token classification (NER): -> logits (B, T, n_labels), one label per (sub)token."""

    config_type: ClassVar[str] = "bert-tagger"

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None,
                segments: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.drop(self.bert.encode(ids, mask, segments)))
