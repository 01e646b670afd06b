"""Logits processors: small functions that reshape next-token scores before a token is chosen.

Each processor maps `(logits (B, V) float32, history (B, T) int64) -> logits (B, V)`, where
`history` is the prompt followed by the tokens generated so far. They compose left to right, in the
order of `build_processors` (the order of transformers' `generate`): penalties on the history first,
then the reshaping of the distribution.

- `RepetitionPenalty` (Keskar et al., 2019, CTRL, section 4.1): a token already in the history has
  its logit divided by the penalty when positive and multiplied when negative.
- `NoRepeatNGram` (Paulus et al., 2018): a token that would repeat an n-gram already present in the
  row's history gets -inf.
- `Temperature`: logits / T (T < 1 sharpens, T > 1 flattens; T -> 0 tends to greedy).
- `TopK` (Fan et al., 2018): only the k highest logits stay.
- `TopP`, nucleus sampling (Holtzman et al., 2020): only the smallest set of most likely tokens
  whose probability reaches p stays (at least one token always stays).

Removed tokens get -inf, so softmax gives them probability exactly 0. Processors that would change
nothing (temperature 1, top-k 0, top-p 1 ...) are never built, so they cost nothing per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from lmlab.errors import check_range

Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

NEG_INF = float("-inf")


@dataclass(frozen=True)
class Temperature:
    """Divide logits by `value` > 0."""

    value: float

    def __post_init__(self) -> None:
        check_range("temperature", self.value, 0, low_open=True)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        return logits / self.value


@dataclass(frozen=True)
class TopK:
    """Keep the `k` highest logits of each row (ties at the k-th value stay too)."""

    k: int

    def __post_init__(self) -> None:
        check_range("top_k", self.k, 1)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        if self.k >= logits.shape[-1]:
            return logits
        kth = logits.topk(self.k, dim=-1).values[:, -1:]  # (B, 1)
        return logits.masked_fill(logits < kth, NEG_INF)


@dataclass(frozen=True)
class TopP:
    """Keep the smallest set of most likely tokens whose total probability reaches `p`.

    With probabilities sorted in decreasing order, token i stays when the mass before it is still
    below p, so the token that crosses p is kept and every later one is removed.
    """

    p: float

    def __post_init__(self) -> None:
        check_range("top_p", self.p, 0, 1, low_open=True)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # (B, V) mass of the better tokens
        remove_sorted = mass_before >= self.p
        remove_sorted[:, 0] = False
        remove = remove_sorted.scatter(-1, order, remove_sorted)  # back to vocabulary order
        return logits.masked_fill(remove, NEG_INF)


@dataclass(frozen=True)
class RepetitionPenalty:
    """CTRL's penalty `theta` > 0 on every token of the history (theta > 1 discourages repeats)."""

    theta: float

    def __post_init__(self) -> None:
        check_range("repetition_penalty", self.theta, 0, low_open=True)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        seen = logits.gather(-1, history)  # (B, T)
        penalised = torch.where(seen > 0, seen / self.theta, seen * self.theta)
        return logits.scatter(-1, history, penalised)


@dataclass(frozen=True)
class NoRepeatNGram:
    """Forbid any token that would complete an n-gram (n = `size`) already in the row's history.

    A row where that would forbid every token is left as it is (a tiny vocabulary runs out).
    """

    size: int

    def __post_init__(self) -> None:
        check_range("no_repeat_ngram_size", self.size, 1)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        n, t = self.size, history.shape[1]
        if t + 1 < n:
            return logits
        banned_rows: list[int] = []
        banned_ids: list[int] = []
        for row, seq in enumerate(history.tolist()):
            context = tuple(seq[t - n + 1:]) if n > 1 else ()
            for i in range(t - n + 1):
                if tuple(seq[i : i + n - 1]) == context:
                    banned_rows.append(row)
                    banned_ids.append(seq[i + n - 1])
        if not banned_rows:
            return logits
        out = logits.clone()
        out[banned_rows, banned_ids] = NEG_INF
        stuck = torch.isneginf(out).all(dim=-1)  # every token banned (tiny vocabularies)
        return torch.where(stuck[:, None], logits, out) if bool(stuck.any()) else out


def build_processors(*, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                     repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                     sampling: bool = True) -> list[Processor]:
    """The active processors for these settings, in application order (inactive ones omitted).

    Temperature, top-k and top-p only shape a distribution to sample from, so they are built only
    when `sampling`; the penalties apply to every strategy.
    """
    out: list[Processor] = []
    if repetition_penalty != 1.0:
        out.append(RepetitionPenalty(repetition_penalty))
    if no_repeat_ngram_size > 0:
        out.append(NoRepeatNGram(no_repeat_ngram_size))
    if sampling:
        if temperature != 1.0:
            out.append(Temperature(temperature))
        if top_k > 0:
            out.append(TopK(top_k))
        if top_p < 1.0:
            out.append(TopP(top_p))
    return out


def apply_processors(processors: Sequence[Processor], logits: torch.Tensor,
                     history: torch.Tensor) -> torch.Tensor:
    """Run `processors` left to right over logits (B, V) with history (B, T)."""
    for proc in processors:
        logits = proc(logits, history)
    return logits
