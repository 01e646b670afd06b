"""Bidirectional RNN text classifier: the course's TextRNNClassifier, done right.

    ids (B, T), mask (B, T) -> Embedding -> dropout -> BiLSTM over the real tokens only (packed)
        -> [final forward state ; final backward state] (B, 2H) -> dropout -> Linear -> logits (B, C)

Graves & Schmidhuber 2005 (bidirectional LSTM); the final states are read from a packed sequence,
so padding never enters the recurrence and the backward direction starts at each text's last real
token, not at the padding (the classic bug of taking `output[:, -1]` over padded batches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from lmlab.config import Config
from lmlab.errors import ConfigError, check_range
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.rnn.common import Cell, apply_to_texts, check_rnn_sizes, final_states, make_rnn


@dataclass
class RNNClassifierConfig(Config):
    """Settings of the RNN classifier; `labels` names the classes in index order."""

    vocab_size: int = 1000
    labels: list[str] = field(default_factory=lambda: ["neg", "pos"])
    d_embed: int = 128
    d_hidden: int = 128
    n_layers: int = 1
    cell: Cell = "lstm"
    bidirectional: bool = True
    dropout: float = 0.0
    max_len: int = 256

    def __post_init__(self) -> None:
        check_range("vocab_size", self.vocab_size, 1)
        check_rnn_sizes(self.cell, self.d_embed, self.d_hidden, self.n_layers, self.dropout)
        check_range("max_len", self.max_len, 1)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"labels={self.labels!r} must name at least two distinct classes",
                              fix="pass e.g. labels=['neg', 'pos']")


class RNNClassifier(TorchSavableMixin, nn.Module):
    """Text classification with a (bi)directional RNN; `forward(ids, mask) -> logits (B, C)`."""

    config_type: ClassVar[str] = "rnn_classifier"
    config_class: ClassVar[type] = RNNClassifierConfig

    def __init__(self, config: RNNClassifierConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.embed = nn.Embedding(config.vocab_size, config.d_embed)
        self.drop = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.cell, config.d_embed, config.d_hidden, config.n_layers,
                            config.dropout, bidirectional=config.bidirectional)
        self.head = nn.Linear(config.d_hidden * (2 if config.bidirectional else 1), len(config.labels))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.drop(self.embed(ids))                                 # (B, T, E)
        return self.head(self.drop(final_states(self.rnn, x, mask)))   # (B, C)

    def predict_proba(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """Class probabilities (N, C) of raw texts, encoded with the model's tokenizer."""
        return apply_to_texts(self, texts, lambda ids, mask: torch.softmax(self(ids, mask).float(), -1),
                              max_len=self.config.max_len, batch_size=batch_size)

    def predict(self, texts: list[str], batch_size: int = 64) -> list[str]:
        """The most probable label of each text."""
        return [self.config.labels[i] for i in self.predict_proba(texts, batch_size).argmax(-1).tolist()]
