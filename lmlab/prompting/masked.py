"""Cloze prompts for masked LMs (BERT-style, PET): score an answer by filling `[Z]` with [MASK]s.

    [CLS] La película me pareció [MASK] [MASK] . [SEP]      # an answer of two tokens

For each answer as many [MASK] tokens as the answer has stand at `[Z]`, and its score is the sum of
the log-probabilities of the answer's tokens at those positions, all predicted in one pass
(Schick & Schütze 2021, PET; the answer's tokens are found as for causal LMs: the tail of
context + answer after the context's tokens). The masked LM is lmlab's `BertForPreTraining`
(`forward(ids) -> (mlm_logits (B, T, V), nsp_logits)`), or any model declaring
`is_masked_lm = True` with the same forward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from lmlab.errors import ConfigError
from lmlab.models.transformer.bert import BertForPreTraining
from lmlab.prompting.scoring import (
    ContinuationScore,
    Request,
    encode_pair,
    encode_plain,
    equal_length_batches,
)
from lmlab.text import special


def is_masked_lm(model: Any) -> bool:
    """Whether answers are scored PET-style ([MASK] filling) rather than as continuations."""
    return isinstance(model, BertForPreTraining) or bool(getattr(model, "is_masked_lm", False))


def _special_id(model: Any, token: str, required: bool) -> int | None:
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        raise ConfigError(f"a {type(model).__name__} without a tokenizer cannot read text",
                          where="prompting", fix="attach the tokenizer it was trained with")
    i = tok.token_to_id(token)
    if i is None and required:
        raise ConfigError(f"the tokenizer has no {token} token", where="prompting",
                          fix="use the masked LM's own WordPiece tokenizer (with [MASK])")
    return i


def masked_ids(model: Any, request: Request) -> tuple[list[int], list[int], list[int]]:
    """(input ids with [MASK]s at [Z], the positions of the masks, the answer's ids)."""
    mask = _special_id(model, special.MASK, True)
    cls, sep = _special_id(model, special.CLS, False), _special_id(model, special.SEP, False)
    ctx, answer = encode_pair(model, request.context, request.continuation)
    right = encode_plain(model, request.suffix)
    head = ([] if cls is None else [cls]) + ctx
    ids = head + [mask] * len(answer) + right + ([] if sep is None else [sep])
    return ids, list(range(len(head), len(head) + len(answer))), answer


@torch.no_grad()
def score_masked(model: Any, requests: Sequence[Request], *, null_context: str | None = None,
                 batch_size: int = 32) -> list[ContinuationScore]:
    """Sum of log p(answer token i at mask i | the rest) for each request under a masked LM.

    Args:
        model: a masked LM (see `is_masked_lm`).
        requests: context (text before [Z]), continuation (delimiter + answer) and suffix (the
            text after [Z]).
        null_context: also score each answer with this content-free text before it and nothing
            after (for "pmi"); None = not needed.
        batch_size: sequences per forward pass.
    Returns:
        one `ContinuationScore` per request.
    """
    reqs = list(requests)
    out = [ContinuationScore(r, lp, n) for r, (lp, n) in zip(reqs, _score(model, reqs, batch_size),
                                                              strict=True)]
    if null_context is None:
        return out
    nulls = [Request(null_context, r.continuation, r.answer) for r in reqs]
    unique = list(dict.fromkeys(nulls))
    scored = dict(zip(unique, (lp for lp, _ in _score(model, unique, batch_size)), strict=True))
    return [replace(s, null_log_prob=scored[n]) for s, n in zip(out, nulls, strict=True)]


def _score(model: Any, reqs: Sequence[Request], batch_size: int) -> list[tuple[float, int]]:
    encoded = [masked_ids(model, r) for r in reqs]
    out: list[tuple[float, int]] = [(-math.inf, 0)] * len(reqs)
    for chunk, ids in equal_length_batches(model, [e[0] for e in encoded], batch_size, positions=0):
        logp = torch.log_softmax(model(ids)[0].float(), dim=-1).double().cpu()  # (B, T, V)
        for row, i in enumerate(chunk):
            _, where, answer = encoded[i]
            total = sum(float(logp[row, p, a]) for p, a in zip(where, answer, strict=True))
            out[i] = (total, len(answer))
    return out
