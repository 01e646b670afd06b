"""Siamese RNN sentence encoder: one BiRNN encodes both sentences, cosine compares them.

    texts -> ids, mask -> Embedding -> BiLSTM (packed) -> mean of the outputs over real tokens
        (or the final [forward; backward] states) -> sentence vector (B, D)

Mueller & Thyagarajan 2016 ("Siamese Recurrent Architectures for Learning Sentence Similarity");
trained with `lmlab.train.objectives.pair_similarity`, the squared error between the cosine and the
gold score (the objective of Sentence-BERT's regression setting, Reimers & Gurevych 2019).
`embed(texts)` returns unit vectors, the same contract as the Transformer sentence encoders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.config import Config
from lmlab.errors import check_choice, check_range
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.rnn.common import Cell, apply_to_texts, check_rnn_sizes, final_states, make_rnn


@dataclass
class SiameseConfig(Config):
    """Settings of the siamese sentence encoder."""

    vocab_size: int = 1000
    d_embed: int = 128
    d_hidden: int = 128
    n_layers: int = 1
    cell: Cell = "lstm"
    bidirectional: bool = True
    dropout: float = 0.0
    pooling: Literal["mean", "final"] = "mean"
    max_len: int = 128

    def __post_init__(self) -> None:
        check_range("vocab_size", self.vocab_size, 1)
        check_rnn_sizes(self.cell, self.d_embed, self.d_hidden, self.n_layers, self.dropout)
        check_choice("pooling", self.pooling, ("mean", "final"))
        check_range("max_len", self.max_len, 1)


class SiameseEncoder(TorchSavableMixin, nn.Module):
    """Sentence vectors from a shared (bi)RNN; `encode(ids, mask) -> (B, D)`, `embed(texts)`."""

    config_type: ClassVar[str] = "rnn_siamese"
    config_class: ClassVar[type] = SiameseConfig

    def __init__(self, config: SiameseConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_embed)
        self.drop = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.cell, config.d_embed, config.d_hidden, config.n_layers,
                            config.dropout, bidirectional=config.bidirectional)
        self.dim = config.d_hidden * (2 if config.bidirectional else 1)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sentence vectors (B, D), not normalised; ids (B, T), mask (B, T) bool."""
        x = self.drop(self.embed_tokens(ids))
        if self.config.pooling == "final":
            return final_states(self.rnn, x, mask)
        if mask is None:
            mask = torch.ones_like(ids, dtype=torch.bool)
        lengths = mask.sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        keep = mask.unsqueeze(-1).to(out.dtype)                 # (B, T, 1)
        return (out * keep).sum(1) / lengths.unsqueeze(-1).to(out.dtype)

    forward = encode

    def embed(self, texts: list[str], batch_size: int = 32) -> torch.Tensor:
        """Unit-normalised sentence vectors (N, D) of raw texts, in input order."""
        if not texts:
            return torch.empty(0, self.dim)
        vectors = apply_to_texts(self, texts, self.encode, max_len=self.config.max_len, batch_size=batch_size)
        return F.normalize(vectors, dim=-1)

    def similarity(self, a: list[str], b: list[str]) -> torch.Tensor:
        """Cosine similarity (N,) of aligned text pairs."""
        return (self.embed(a) * self.embed(b)).sum(-1)
