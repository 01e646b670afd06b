"""Scoring continuations under any causal LM: log p(continuation | context), and its normalisations.

    >>> scores = score_continuations(model, [("La película me pareció", " buena"),
    ...                                      ("La película me pareció", " mala")])   # doctest: +SKIP
    >>> [s.value("per_char") for s in scores]                                         # doctest: +SKIP

Encoding follows lm-evaluation-harness (`_encode_pair`), so that a tokenizer that merges across the
boundary (byte-level BPE: " buena" is one token, "buena" another) is read as it reads the whole
text: trailing whitespace of the context moves to the front of the continuation; the context and
context + continuation are encoded; the continuation's tokens are the tail of the second after as
many tokens as the first has. The context is read as the model reads text (`encode_text`): its
`bos_id` first; a model without one (GPT-2) conditions an empty context on its `eos_id`, as
lm-eval's `prefix_token_id`. Everything goes through `lmlab.models.base.token_log_probs`, batched
by equal length (no padding ever reaches a model).

Scores of one continuation (the `kind` of `ContinuationScore.value`), and the lm-eval metric each
one ranks answers for:

| kind        | value                                               | metric           |
|-------------|-----------------------------------------------------|------------------|
| "logprob"   | log p(answer tokens | context), natural log         | acc              |
| "per_token" | log p / number of answer tokens                     |                  |
| "per_char"  | log p / len(answer) in characters                   | acc_norm         |
| "per_byte"  | log p / len(answer.encode("utf-8"))                 | acc_bytes        |
| "pmi"       | log p(answer | context) - log p(answer | null ctx)  | acc_mutual_info  |

As in lm-eval, the lengths count the answer (the choice) without the target delimiter, and the
domain-conditional PMI of Holtzman et al. (2021) conditions the same continuation on a
content-free context ("" by default, as lm-eval; "Respuesta:" or the template with an empty
input are the usual alternatives).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from lmlab.errors import ConfigError, DataError, check_choice
from lmlab.models.base import encode_text, model_device, token_log_probs

SCORES = ("logprob", "per_token", "per_char", "per_byte", "pmi")
#: the lm-eval metric name -> the score that ranks the answers for it
METRIC_SCORE = {"acc": "logprob", "acc_norm": "per_char", "acc_bytes": "per_byte",
                "acc_mutual_info": "pmi"}


@dataclass(frozen=True)
class Request:
    """One answer to score in one context.

    Attributes:
        context: the text before the answer (demonstrations and the filled template up to [Z]).
        continuation: what follows it: the target delimiter + the answer.
        answer: the answer alone (what per_char / per_byte divide by); default: the
            continuation without its leading whitespace (the target delimiter).
        suffix: text after the answer (masked LMs only: the rest of a cloze template).
    """

    context: str
    continuation: str
    answer: str | None = None
    suffix: str = ""

    @property
    def answer_text(self) -> str:
        return self.continuation.lstrip() if self.answer is None else self.answer


@dataclass(frozen=True)
class ContinuationScore:
    """The scores of one request; `null_log_prob` is set when PMI was asked for."""

    request: Request
    log_prob: float
    n_tokens: int
    null_log_prob: float | None = None

    @property
    def answer(self) -> str:
        return self.request.answer_text

    @property
    def n_chars(self) -> int:
        return len(self.answer)

    @property
    def n_bytes(self) -> int:
        return len(self.answer.encode("utf-8"))

    def value(self, kind: str = "logprob") -> float:
        """The score of the given kind (see the module docstring)."""
        check_choice("score", kind, SCORES)
        if kind == "logprob":
            return self.log_prob
        if kind == "per_token":
            return self.log_prob / self.n_tokens
        if kind == "per_char":
            return self.log_prob / max(self.n_chars, 1)
        if kind == "per_byte":
            return self.log_prob / max(self.n_bytes, 1)
        if self.null_log_prob is None:
            raise ConfigError("this score has no content-free log-probability for PMI",
                              where="scoring", fix="score with null_context=... (e.g. \"\")")
        if self.log_prob == self.null_log_prob == -math.inf:
            return -math.inf
        return self.log_prob - self.null_log_prob

    def to_dict(self) -> dict[str, Any]:
        out = {"answer": self.answer, "log_prob": self.log_prob, "n_tokens": self.n_tokens,
               "n_chars": self.n_chars, "n_bytes": self.n_bytes}
        if self.null_log_prob is not None:
            out["null_log_prob"] = self.null_log_prob
        return out


# ---------------------------------------------------------------- encoding
def move_spaces(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's rule: trailing whitespace of the context goes to the front of the continuation."""
    n = len(context) - len(context.rstrip())
    if n:
        return context[:-n], context[-n:] + continuation
    return context, continuation


def encode_plain(model: Any, text: str) -> list[int]:
    """The tokenizer's ids of a text, without start or end ids."""
    return encode_text(model, [text], add_bos=False, where="prompting")[0] if text else []


def encode_pair(model: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) the way lm-eval splits context + continuation.

    Raises:
        DataError: the continuation has no tokens of its own.
    """
    context, continuation = move_spaces(context, continuation)
    ctx = encode_plain(model, context)
    whole = encode_plain(model, context + continuation)
    cont = whole[len(ctx):]
    if not cont:
        raise DataError(f"the continuation {continuation!r} encodes to no tokens after the context",
                        where="prompting", fix="give a non-empty answer the tokenizer can read")
    return ctx, cont


def start_ids(model: Any, context_ids: Sequence[int]) -> list[int]:
    """What the model reads before the context: [bos], or [eos] for an empty context of a model
    without a start id (lm-eval's prefix token), else nothing."""
    bos = getattr(model, "bos_id", None)
    if bos is not None:
        return [bos]
    if context_ids:
        return []
    eos = getattr(model, "eos_id", None)
    if eos is None:
        raise ConfigError(f"a {type(model).__name__} without start or end id cannot score a text "
                          "with an empty context", where="prompting",
                          fix="give a non-empty context (e.g. null_context=\"Respuesta:\")")
    return [eos]


def sequence_ids(model: Any, context: str, continuation: str) -> tuple[list[int], int]:
    """(the ids the model reads: start + context + continuation, number of continuation ids)."""
    ctx, cont = encode_pair(model, context, continuation)
    return start_ids(model, ctx) + ctx + cont, len(cont)


def positions_needed(model: Any, context: str, continuation: str) -> int:
    """How many positions scoring this continuation reads (the last id is only predicted)."""
    ids, _ = sequence_ids(model, context, continuation)
    return len(ids) - 1


def context_length(model: Any) -> int | None:
    """The most positions the model reads: its `max_seq_len` (or its config's), None = unbounded."""
    limit = getattr(model, "max_seq_len", None)
    return limit if limit is not None else getattr(getattr(model, "config", None), "max_seq_len", None)


def check_fits(model: Any, n_positions: int, where: str = "prompting") -> None:
    """DataError when a model with a `max_seq_len` cannot read `n_positions` positions."""
    limit = context_length(model)
    if limit is not None and n_positions > limit:
        raise DataError(f"the prompt needs {n_positions} positions, more than the model's context "
                        f"of {limit}", where=where,
                        fix="use fewer shots (overflow='drop'), shorter inputs or a longer-context model")


# ---------------------------------------------------------------- scoring
@torch.no_grad()
def score_continuations(model: Any, requests: Sequence[Request | tuple[str, str]], *,
                        null_context: str | None = None, batch_size: int = 32
                        ) -> list[ContinuationScore]:
    """log p(continuation | context) of each request under a causal LM.

    Args:
        model: any `LanguageModel` with a tokenizer.
        requests: `Request`s, or (context, continuation) pairs.
        null_context: also score each continuation after this content-free context (for "pmi");
            None = not needed.
        batch_size: sequences per forward pass.
    Returns:
        one `ContinuationScore` per request, in order.
    """
    reqs = [r if isinstance(r, Request) else Request(*r) for r in requests]
    for r in reqs:
        if r.suffix:
            raise ConfigError(f"a causal LM cannot score text after the answer ({r.suffix!r})",
                              where="prompting", fix="end the template with [Z] or use a masked LM")
    encoded = [sequence_ids(model, r.context, r.continuation) for r in reqs]
    totals = _score_ids(model, encoded, batch_size)
    out = [ContinuationScore(r, lp, n) for r, lp, (_, n) in zip(reqs, totals, encoded, strict=True)]
    if null_context is None:
        return out
    moved = [move_spaces(r.context, r.continuation)[1] for r in reqs]
    unique = list(dict.fromkeys(moved))
    null = dict(zip(unique, _score_ids(model, [sequence_ids(model, null_context, c) for c in unique],
                                       batch_size), strict=True))
    return [replace(s, null_log_prob=null[c]) for s, c in zip(out, moved, strict=True)]


def equal_length_batches(model: Any, sequences: Sequence[Sequence[int]], batch_size: int, *,
                         positions: int = -1) -> Iterator[tuple[list[int], torch.Tensor]]:
    """(row indices, ids (B, T) on the model's device) for sequences grouped by equal length, the
    model in eval mode meanwhile (restored after). Each sequence must fit the model's context:
    len + `positions` positions (-1: the last id is only predicted)."""
    by_len: dict[int, list[int]] = {}
    for i, ids in enumerate(sequences):
        check_fits(model, len(ids) + positions, where=f"prompting (request {i})")
        by_len.setdefault(len(ids), []).append(i)
    device = model_device(model)
    was_training = bool(getattr(model, "training", False))
    if was_training:
        model.eval()
    try:
        for _, rows in sorted(by_len.items()):
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                yield chunk, torch.tensor([sequences[i] for i in chunk], dtype=torch.long, device=device)
    finally:
        if was_training:
            model.train()


def _score_ids(model: Any, encoded: Sequence[tuple[list[int], int]], batch_size: int) -> list[float]:
    """Total log-probability of the last n ids of each sequence, batched by equal length."""
    totals = [0.0] * len(encoded)
    for chunk, ids in equal_length_batches(model, [e[0] for e in encoded], batch_size):
        lp = token_log_probs(model, ids).double().cpu()  # (B, T - 1)
        for row, i in enumerate(chunk):
            totals[i] = float(lp[row, lp.shape[1] - encoded[i][1] :].sum())
    return totals
