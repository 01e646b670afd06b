"""Tiny language models for the generation tests, each implementing start/step.

- `BigramLM`: a fixed table of next-token logits; the state is the last id (B,).
- `TinyCausalLM`: a one-layer causal self-attention LM with a concatenating KV cache (state: a
  tuple of (B, T, D) tensors, batch first) and a full-recompute `forward` as the oracle.
- `CopySeq2Seq`: an encoder-decoder whose `condition(src)` LM puts all its mass on copying the
  source, then on EOS (state: a dict with the source and the position).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn


class BigramLM:
    """Next-token logits from a (V, V) table indexed by the last token."""

    def __init__(self, table: torch.Tensor) -> None:
        self.table = table.float()
        self.vocab_size = table.shape[0]

    def start(self, ids):
        return ids[:, -1], self.table[ids[:, -1]]

    def step(self, state, ids):
        return ids, self.table[ids]


class TinyCausalLM(nn.Module):
    """Embedding + learned positions + one causal attention layer + MLP + head."""

    def __init__(self, vocab: int = 11, d: int = 16, max_seq_len: int = 64, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.vocab_size = vocab
        self.max_seq_len = max_seq_len
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_seq_len, d)
        self.qkv = nn.Linear(d, 3 * d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.head = nn.Linear(d, vocab)
        with torch.no_grad():
            self.head.weight.mul_(8.0)  # peaked distributions: greedy paths have clear winners
        self.eval()

    def _layer(self, x, past):
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # (B, T, D) each
        if past is not None:
            k, v = torch.cat([past[0], k], 1), torch.cat([past[1], v], 1)
        tq, tk = q.shape[1], k.shape[1]
        att = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])  # (B, Tq, Tk)
        keep = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
        att = att.masked_fill(~keep, float("-inf")).softmax(-1)
        h = x + att @ v
        return h + self.mlp(h), (k, v)

    def forward(self, ids):
        """Logits (B, T, V) recomputed from scratch (the oracle)."""
        x = self.emb(ids) + self.pos(torch.arange(ids.shape[1]))
        h, _ = self._layer(x, None)
        return self.head(h)

    @torch.no_grad()
    def start(self, ids):
        x = self.emb(ids) + self.pos(torch.arange(ids.shape[1]))
        h, kv = self._layer(x, None)
        return kv, self.head(h[:, -1])

    @torch.no_grad()
    def step(self, state, ids):
        t = state[0].shape[1]
        x = self.emb(ids[:, None]) + self.pos(torch.tensor([t]))
        h, kv = self._layer(x, state)
        return kv, self.head(h[:, -1])


class _CopyLM:
    EOS = 1

    def __init__(self, src: torch.Tensor, vocab: int) -> None:
        self.src, self.vocab_size = src, vocab

    def _logits(self, state):
        src, pos = state["src"], state["pos"]
        logits = torch.full((src.shape[0], self.vocab_size), -5.0)
        nxt = torch.where(pos < src.shape[1], src.gather(1, pos.clamp(max=src.shape[1] - 1)[:, None])[:, 0],
                          torch.full_like(pos, self.EOS))
        logits[torch.arange(src.shape[0]), nxt] = 5.0
        return logits

    def start(self, ids):
        state = {"src": self.src, "pos": torch.full((ids.shape[0],), ids.shape[1] - 1)}
        return state, self._logits(state)

    def step(self, state, ids):
        state = {"src": state["src"], "pos": state["pos"] + 1}
        return state, self._logits(state)


class CopySeq2Seq:
    """`condition(src_ids)` -> an LM over target ids that copies src then emits EOS (id 1)."""

    vocab_size = 12
    BOS, EOS = 0, 1

    def condition(self, src_ids, src_mask=None):
        return _CopyLM(src_ids, self.vocab_size)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: thread start-up costs more than it saves, and a busy machine makes it worse."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def bigram():
    # V = 5: 0 = <s>, 4 = </s>. Row i: next-token logits after token i.
    table = torch.log(torch.tensor([
        [0.00, 0.50, 0.30, 0.15, 0.05],
        [0.00, 0.05, 0.70, 0.15, 0.10],
        [0.00, 0.60, 0.05, 0.05, 0.30],
        [0.00, 0.30, 0.30, 0.10, 0.30],
        [0.25, 0.25, 0.25, 0.20, 0.05],
    ]).clamp_min(1e-12))
    return BigramLM(table)


@pytest.fixture
def make_bigram():
    """Build a `BigramLM` from a (V, V) table of probabilities."""
    return lambda probs: BigramLM(torch.log(torch.tensor(probs)))


@pytest.fixture
def tiny_lm():
    return TinyCausalLM()


@pytest.fixture
def copy_seq2seq():
    return CopySeq2Seq()
