"""The one language-model interface, and everything written once over it.

Every language model (count-based, recurrent, Transformer) answers one question: the distribution
of the next token given the context (DESIGN.md).

    state, logits = model.start(ids)        # ids (B, T) int64 -> logits (B, V) for position T
    state, logits = model.step(state, nxt)  # nxt (B,) int64    -> logits (B, V) for the next one

`logits` are unnormalised natural-log scores: log-softmax turns them into log-probabilities
(count models may return log-probabilities directly; log-softmax leaves those unchanged). The state
is whatever the model needs: the last n-1 ids (n-gram), hidden states (RNN), a KV cache (GPT).

Models may also offer `teacher_forced_logits(ids) -> (B, T, V)`, the logits after every prefix in
one pass; sequence scoring uses it when present and the start/step loop otherwise, and a test keeps
the two equal for every model. Scoring, perplexity and generation are written against this
protocol only, never per family (after nltk's `lm/api.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from lmlab.errors import DataError


@runtime_checkable
class LanguageModel(Protocol):
    """Next-token distributions through `start`/`step` (see the module docstring)."""

    vocab_size: int

    def start(self, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """Read a prompt `ids` (B, T); return (state, logits (B, V) for the next token)."""
        ...

    def step(self, state: Any, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """Append `ids` (B,) to the context; return (state, logits (B, V) for the next token)."""
        ...


@runtime_checkable
class Encoder(Protocol):
    """Encoders (BERT-style) map ids (B, T) and a keep-mask to hidden states (B, T, D)."""

    def encode(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor: ...


def next_token_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-softmax in float32 over the vocabulary: (B, V) logits -> (B, V) natural-log probs."""
    return torch.log_softmax(logits.float(), dim=-1)


@torch.no_grad()
def token_log_probs(model: LanguageModel, ids: torch.Tensor) -> torch.Tensor:
    """Natural-log probability of each token given its prefix.

    Args:
        model: any `LanguageModel`.
        ids: (B, T) int64, T >= 2; ids[:, 0] is the conditioning start (e.g. <s>/BOS).
    Returns:
        (B, T-1) float32: log p(ids[:, t] | ids[:, :t]) for t = 1..T-1.
    """
    if ids.dim() != 2 or ids.shape[1] < 2:
        raise DataError(f"need ids of shape (B, T) with T >= 2, got {tuple(ids.shape)}",
                        fix="prepend a start token and give at least one token to score")
    targets = ids[:, 1:]
    if hasattr(model, "teacher_forced_logits"):
        logits = model.teacher_forced_logits(ids[:, :-1])  # (B, T-1, V)
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    state, logits = model.start(ids[:, :1])
    out = []
    for t in range(1, ids.shape[1]):
        logp = next_token_log_probs(logits)
        out.append(logp.gather(-1, ids[:, t : t + 1]).squeeze(-1))
        if t < ids.shape[1] - 1:
            state, logits = model.step(state, ids[:, t])
    return torch.stack(out, dim=1)


@dataclass(frozen=True)
class PerplexityResult:
    """Corpus-level scores. `log_prob` is the natural-log total over `n_tokens` predicted tokens."""

    log_prob: float
    n_tokens: int

    @property
    def nats_per_token(self) -> float:
        return -self.log_prob / self.n_tokens

    @property
    def bits_per_token(self) -> float:
        return self.nats_per_token / math.log(2)

    @property
    def ppl(self) -> float:
        return math.exp(self.nats_per_token)

    def to_dict(self) -> dict[str, float]:
        return {"ppl": self.ppl, "bits_per_token": self.bits_per_token,
                "log_prob": self.log_prob, "n_tokens": self.n_tokens}


@torch.no_grad()
def perplexity(model: LanguageModel, sequences: Iterable[Sequence[int]], *, batch_size: int = 32,
               device: torch.device | str | None = None) -> PerplexityResult:
    """Perplexity over sequences of ids; each sequence's first id is conditioned on, not scored.

    Sequences are batched by equal length, so no padding ever enters a model.
    """
    by_len: dict[int, list[Sequence[int]]] = {}
    for seq in sequences:
        if len(seq) >= 2:
            by_len.setdefault(len(seq), []).append(seq)
    if not by_len:
        raise DataError("no sequence has a token to score (each needs >= 2 ids, start included)",
                        fix="pass a non-empty evaluation corpus")
    total, count = 0.0, 0
    for length in sorted(by_len):
        group = by_len[length]
        for i in range(0, len(group), batch_size):
            ids = torch.tensor(group[i : i + batch_size], dtype=torch.long, device=device)
            lp = token_log_probs(model, ids)
            total += float(lp.double().sum())
            count += lp.numel()
    return PerplexityResult(log_prob=total, n_tokens=count)
