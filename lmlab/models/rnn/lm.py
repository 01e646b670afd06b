"""Recurrent language model: embedding -> Elman/LSTM/GRU layers -> linear -> next-token logits.

    ids (B, T) -> Embedding (B, T, E) -> dropout -> RNN x n_layers (B, T, H) -> dropout
        -> [proj H->E when tied and H != E] -> Linear -> logits (B, T, V)

Bengio et al. 2003 (neural LM), Mikolov et al. 2010 (RNN LM), Zaremba et al. 2014 (dropout on
non-recurrent connections of LSTMs), Press & Wolf 2017 / Inan et al. 2017 (tying input and output
embeddings). It implements `lmlab.models.base.LanguageModel`: `start`/`step` carry the hidden
state, `teacher_forced_logits` scores every prefix in one fused pass (a test keeps them equal), so
perplexity and every decoding strategy of `lmlab.generate` work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from lmlab.config import Config
from lmlab.errors import check_range
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.base import TokenizedLM, check_tokenizer
from lmlab.models.rnn.common import Cell, check_rnn_sizes, make_rnn, reorder_hidden


@dataclass
class RNNLMConfig(Config):
    """RNN language model settings; `vocab_size` comes from the tokenizer."""

    vocab_size: int = 1000
    d_embed: int = 128
    d_hidden: int = 256
    n_layers: int = 1
    cell: Cell = "lstm"
    dropout: float = 0.0
    tie_weights: bool = False

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "rnn-tiny": {"d_embed": 32, "d_hidden": 64, "n_layers": 1},
        "rnn-small": {"d_embed": 128, "d_hidden": 256, "n_layers": 2, "dropout": 0.2},
        "rnn-medium": {"d_embed": 400, "d_hidden": 650, "n_layers": 2, "dropout": 0.5},  # Zaremba's medium
    }

    def __post_init__(self) -> None:
        check_range("vocab_size", self.vocab_size, 1)
        check_rnn_sizes(self.cell, self.d_embed, self.d_hidden, self.n_layers, self.dropout)


class RNNLanguageModel(TokenizedLM, TorchSavableMixin, nn.Module):
    """Next-token prediction with a recurrent network (see the module docstring)."""

    config_type: ClassVar[str] = "rnn_lm"
    config_class: ClassVar[type] = RNNLMConfig

    def __init__(self, config: RNNLMConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = check_tokenizer(tokenizer, config.vocab_size, "RNN language model")
        self.vocab_size = config.vocab_size
        self.embed = nn.Embedding(config.vocab_size, config.d_embed)
        self.drop = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.cell, config.d_embed, config.d_hidden, config.n_layers, config.dropout)
        d_out = config.d_hidden
        self.proj = None
        if config.tie_weights and config.d_hidden != config.d_embed:
            self.proj = nn.Linear(config.d_hidden, config.d_embed)
            d_out = config.d_embed
        self.head = nn.Linear(d_out, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embed.weight

    def _run(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        x = self.drop(self.embed(ids))                    # (B, T, E)
        out, state = self.rnn(x, state)                   # (B, T, H)
        out = self.drop(out)
        if self.proj is not None:
            out = self.proj(out)
        return self.head(out), state                      # (B, T, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits after every prefix: ids (B, T) -> (B, T, V)."""
        return self._run(ids)[0]

    teacher_forced_logits = forward

    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[Any, torch.Tensor]:
        """Read the prompt (B, T); return (hidden state, logits (B, V) for the next token).

        `capacity` is accepted for the protocol and ignored: the hidden state has a fixed size."""
        logits, state = self._run(ids)
        return state, logits[:, -1]

    def step(self, state: Any, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """Feed one token per row (B,); return (new state, logits (B, V))."""
        logits, state = self._run(ids[:, None], state)
        return state, logits[:, -1]

    def reorder_state(self, state: Any, rows: torch.Tensor) -> Any:
        """Beam search: keep hidden-state rows `rows` (the batch is dimension 1 of (L, B, H))."""
        return reorder_hidden(state, rows)
