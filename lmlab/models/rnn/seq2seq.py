"""Encoder-decoder RNN with attention for translation (Sutskever et al. 2014; Bahdanau et al. 2015;
Luong et al. 2015).

    src (B, S) -> Embedding -> BiRNN -> memory m_j (B, S, 2H), keys k_j = W_k m_j (B, S, H)
    decoder state s_0 = tanh(W_b [final forward; final backward])          per layer
    Bahdanau (additive): e_tj = v^T tanh(W_q s_{t-1} + k_j); c_t = Σ_j softmax(e_t)_j m_j;
                         s_t = RNN([emb(y_{t-1}); c_t], s_{t-1})
    Luong (general):     s_t = RNN(emb(y_{t-1}), s_{t-1}); e_tj = s_t · k_j; c_t as above
    both:                o_t = tanh(W_c [s_t; c_t]);  logits_t = W_o o_t              (B, V)

Notable choices: one tokenizer (a joint vocabulary) serves both languages; padding in the source is
masked out of the attention; Luong attention is computed for all target positions at once (one
fused RNN call, fast teacher forcing), Bahdanau needs the loop because its RNN reads c_t.
`condition(src_ids, src_mask)` returns a `LanguageModel` over target ids (`start`/`step`), so greedy,
sampling and beam search of `lmlab.generate` translate unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from lmlab.config import Config
from lmlab.data.tokens import encode_ids
from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.models.rnn.common import Cell, check_rnn_sizes, make_rnn, reorder_hidden, top_hidden


@dataclass
class Seq2SeqConfig(Config):
    """Settings of the RNN encoder-decoder; ids of <s>, </s> and [PAD] come from the tokenizer."""

    vocab_size: int = 1000
    d_embed: int = 128
    d_hidden: int = 256
    n_layers: int = 1
    cell: Cell = "gru"
    attention: Literal["bahdanau", "luong"] = "luong"
    dropout: float = 0.0
    pad_id: int = 0
    bos_id: int = 2
    eos_id: int = 3
    max_len: int = 64

    def __post_init__(self) -> None:
        check_range("vocab_size", self.vocab_size, 1)
        check_rnn_sizes(self.cell, self.d_embed, self.d_hidden, self.n_layers, self.dropout)
        check_choice("attention", self.attention, ("bahdanau", "luong"))
        check_range("max_len", self.max_len, 1)


@dataclass
class Memory:
    """What the decoder attends to: values (B, S, 2H), keys (B, S, H), source mask (B, S)."""

    values: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor

    def reorder(self, rows: torch.Tensor) -> Memory:
        return Memory(self.values.index_select(0, rows), self.keys.index_select(0, rows),
                      self.mask.index_select(0, rows))


class Seq2Seq(TorchSavableMixin, nn.Module):
    """`forward(src_ids, src_mask, tgt_in) -> logits (B, T, V)`; `condition(...)` for decoding."""

    config_type: ClassVar[str] = "rnn_seq2seq"
    config_class: ClassVar[type] = Seq2SeqConfig

    def __init__(self, config: Seq2SeqConfig, tokenizer: Any = None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        E, H, L = config.d_embed, config.d_hidden, config.n_layers
        self.vocab_size = config.vocab_size
        self.src_embed = nn.Embedding(config.vocab_size, E, padding_idx=config.pad_id)
        self.tgt_embed = nn.Embedding(config.vocab_size, E, padding_idx=config.pad_id)
        self.drop = nn.Dropout(config.dropout)
        self.encoder = make_rnn(config.cell, E, H, L, config.dropout, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)                     # final encoder states -> s_0
        self.key = nn.Linear(2 * H, H, bias=False)            # W_k (Bahdanau) / W_a (Luong)
        if config.attention == "bahdanau":
            self.query = nn.Linear(H, H, bias=False)
            self.score_v = nn.Linear(H, 1, bias=False)
        d_in = E + 2 * H if config.attention == "bahdanau" else E
        self.decoder = make_rnn(config.cell, d_in, H, L, config.dropout)
        self.combine = nn.Linear(3 * H, H)                    # W_c [s_t; c_t]
        self.head = nn.Linear(H, config.vocab_size)

    # -- encoder ---------------------------------------------------------------------------------
    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None = None) -> tuple[Memory, Any]:
        """Run the encoder: (memory, initial decoder state (L, B, H) or (h, c))."""
        if src_mask is None:
            src_mask = src_ids != self.config.pad_id
        lengths = src_mask.sum(1).clamp(min=1)
        x = self.drop(self.src_embed(src_ids))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.encoder(packed)
        values, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src_ids.shape[1])

        def bridge(h: torch.Tensor) -> torch.Tensor:          # (L*2, B, H) -> (L, B, H)
            L, B = self.config.n_layers, h.shape[1]
            both = h.view(L, 2, B, -1).transpose(1, 2).reshape(L, B, -1)
            return torch.tanh(self.bridge(both))

        init = tuple(bridge(s) for s in state) if isinstance(state, tuple) else bridge(state)
        return Memory(values, self.key(values), src_mask), init

    # -- attention and decoder -------------------------------------------------------------------
    def _attend(self, scores: torch.Tensor, memory: Memory) -> torch.Tensor:
        """scores (B, T, S) -> context (B, T, 2H), padding masked out."""
        scores = scores.masked_fill(~memory.mask[:, None, :], float("-inf"))
        return torch.softmax(scores.float(), dim=-1).to(memory.values.dtype) @ memory.values

    def decode(self, tgt_in: torch.Tensor, state: Any, memory: Memory) -> tuple[torch.Tensor, Any]:
        """Decode target prefix ids (B, T) from `state`; return (logits (B, T, V), final state)."""
        emb = self.drop(self.tgt_embed(tgt_in))                                   # (B, T, E)
        if self.config.attention == "luong":
            s, state = self.decoder(emb, state)                                   # (B, T, H)
            context = self._attend(s @ memory.keys.transpose(1, 2), memory)       # (B, T, 2H)
        else:
            outs, contexts = [], []
            for t in range(tgt_in.shape[1]):
                q = self.query(top_hidden(state))[:, None, None, :]               # (B, 1, 1, H)
                e = self.score_v(torch.tanh(q + memory.keys[:, None])).squeeze(-1)  # (B, 1, S)
                c = self._attend(e, memory)                                       # (B, 1, 2H)
                s_t, state = self.decoder(torch.cat([emb[:, t : t + 1], c], dim=-1), state)
                outs.append(s_t)
                contexts.append(c)
            s, context = torch.cat(outs, dim=1), torch.cat(contexts, dim=1)
        o = torch.tanh(self.combine(torch.cat([s, context], dim=-1)))             # (B, T, H)
        return self.head(self.drop(o)), state

    def forward(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V) for every target position given the true prefix."""
        memory, state = self.encode(src_ids, src_mask)
        return self.decode(tgt_in, state, memory)[0]

    def condition(self, src_ids: torch.Tensor, src_mask: torch.Tensor | None = None) -> ConditionedDecoder:
        """A `LanguageModel` over target ids given these sources (prompts start with <s>)."""
        memory, state = self.encode(src_ids, src_mask)
        return ConditionedDecoder(self, memory, state)

    def source_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Sources as the model was trained on them: ids + </s>, at most `max_len` (never empty)."""
        cfg = self.config
        if self.tokenizer is None:
            raise ConfigError("a Seq2Seq without a tokenizer cannot read text", where="seq2seq",
                              fix="attach one (model.tokenizer = tok) or pass source ids")
        return [s or [cfg.eos_id] for s in encode_ids(list(texts), self.tokenizer,
                                                      eos_id=cfg.eos_id, max_len=cfg.max_len)]


class ConditionedDecoder:
    """The decoder of a `Seq2Seq` bound to encoded sources: `start`/`step` over target ids."""

    def __init__(self, model: Seq2Seq, memory: Memory, init_state: Any) -> None:
        self.model, self.memory, self.init_state = model, memory, init_state
        self.vocab_size = model.vocab_size
        self.tokenizer = model.tokenizer
        self.bos_id, self.eos_id = model.config.bos_id, model.config.eos_id
        self.max_seq_len = None  # a recurrent decoder reads any length
        self.device = memory.values.device

    def _for_batch(self, batch: int) -> tuple[Memory, Any]:
        """The sources for `batch` target rows: as given, or one source repeated for every row."""
        n_src = self.memory.values.shape[0]
        if batch == n_src:
            return self.memory, self.init_state
        if n_src != 1:
            raise DataError(f"target batch {batch} != source batch {n_src}",
                            fix="start one target prefix per source, or condition on one source")
        rows = torch.zeros(batch, dtype=torch.long, device=self.device)
        return self.memory.reorder(rows), reorder_hidden(self.init_state, rows)

    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[Any, torch.Tensor]:
        """Read target prefixes (B, T), one per source (or B of one source); return (state, logits (B, V))."""
        memory, init = self._for_batch(ids.shape[0])
        logits, state = self.model.decode(ids, init, memory)
        return (state, memory), logits[:, -1]

    def step(self, state: Any, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        rnn_state, memory = state
        logits, rnn_state = self.model.decode(ids[:, None], rnn_state, memory)
        return (rnn_state, memory), logits[:, -1]

    def teacher_forced_logits(self, ids: torch.Tensor) -> torch.Tensor:
        memory, init = self._for_batch(ids.shape[0])
        return self.model.decode(ids, init, memory)[0]

    def reorder_state(self, state: Any, rows: torch.Tensor) -> Any:
        rnn_state, memory = state
        return reorder_hidden(rnn_state, rows), memory.reorder(rows.to(memory.values.device))
