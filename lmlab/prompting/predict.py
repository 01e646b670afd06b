"""Prompt-based prediction in three steps (Liu et al. 2021): fill, search the answer, map it.

    >>> t = PromptTemplate("[X] En general, la película me pareció [Z]")
    >>> v = Verbalizer({"+": ["buena", "bacán"], "-": ["mala", "horrible"]})
    >>> answer_search(model, t, "Los actores eran excelentes.", v.answers).best   # doctest: +SKIP
    'buena'
    >>> classify(model, t, v, ["Los actores eran excelentes."])[0].label           # doctest: +SKIP
    '+'

1. prompt addition: x -> x' = template filled with x, `[Z]` left open;
2. answer search: z^ = argmax over the answer space of score(z | x') (any score of
   `lmlab.prompting.scoring`: "logprob", "per_token", "per_char", "per_byte", "pmi");
3. answer mapping: the label whose answers score highest (`Verbalizer`), optionally after
   contextual calibration (`lmlab.prompting.calibration`).

Causal LMs score `[Z]` as a continuation (it must end the template; a template without `[Z]` gets
`delimiter + [Z]` appended, lm-eval's target delimiter); masked LMs fill `[Z]` with [MASK]s
wherever it stands (`lmlab.prompting.masked`). `prefixes` put text (few-shot demonstrations)
before each filled template.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lmlab.errors import DataError, check_choice
from lmlab.prompting.answers import Verbalizer, argmax_key
from lmlab.prompting.calibration import CONTENT_FREE_INPUTS, content_free_probs, probs_from_scores
from lmlab.prompting.calibration import calibrate as calibrate_probs
from lmlab.prompting.masked import is_masked_lm, masked_ids, score_masked
from lmlab.prompting.scoring import (
    SCORES,
    ContinuationScore,
    Request,
    encode_plain,
    positions_needed,
    score_continuations,
    start_ids,
)
from lmlab.prompting.templates import Inputs, PromptTemplate, as_template


def score_requests(model: Any, requests: Sequence[Request], *, null_context: str | None = None,
                   batch_size: int = 32) -> list[ContinuationScore]:
    """Score requests under a causal LM (continuations) or a masked LM ([MASK] filling)."""
    if is_masked_lm(model):
        return score_masked(model, requests, null_context=null_context, batch_size=batch_size)
    return score_continuations(model, requests, null_context=null_context, batch_size=batch_size)


def answer_template(model: Any, template: str | PromptTemplate, delimiter: str = " ") -> PromptTemplate:
    """The template with its `[Z]` (appended after `delimiter` when missing), checked for the model:
    `[Z]` must end it for a causal LM."""
    return as_template(template).with_answer(delimiter).require_answer(causal=not is_masked_lm(model))


def prompt_positions(model: Any, template: PromptTemplate, x: Inputs, *, prefix: str = "",
                     answers: Sequence[str] = (), max_new_tokens: int = 0) -> int:
    """Positions of the model's context that `prefix` + the filled template needs.

    With `answers` (multiple choice): the most any answer's scoring reads; without (generation):
    the prompt (read as `generate` reads text: bos + ids, the context's trailing space stripped)
    plus `max_new_tokens`.
    """
    if answers:
        reqs = build_requests(template, [x], list(answers), prefixes=[prefix])[0]
        if is_masked_lm(model):
            return max(len(masked_ids(model, r)[0]) for r in reqs)
        return max(positions_needed(model, r.context, r.continuation) for r in reqs)
    ids = encode_plain(model, (prefix + template.fill(x)).rstrip())
    return len(start_ids(model, ids)) + len(ids) + max_new_tokens


def build_requests(template: PromptTemplate, xs: Sequence[Inputs], answers: Sequence[str], *,
                   prefixes: Sequence[str] | None = None) -> list[list[Request]]:
    """For each input, one `Request` per answer: context = prefix + template before [Z]."""
    if prefixes is not None and len(prefixes) != len(xs):
        raise DataError(f"got {len(prefixes)} prefixes for {len(xs)} inputs", where="prompting",
                        fix="give one prefix (demonstrations) per input")
    out = []
    for i, x in enumerate(xs):
        left, right = template.split(x)
        head = (prefixes[i] if prefixes is not None else "") + left
        out.append([Request(head, a, a, right) for a in answers])
    return out


def score_answers(model: Any, template: str | PromptTemplate, xs: Sequence[Inputs],
                  answers: Sequence[str], *, delimiter: str = " ", prefixes: Sequence[str] | None = None,
                  null_context: str | None = None, batch_size: int = 32) -> list[list[ContinuationScore]]:
    """Every answer scored for every input: result[i][j] is answer j after input i's prompt.

    Args:
        model: a causal LM or a masked LM.
        template: with `[X]` and `[Z]` (or without `[Z]`: `delimiter` + `[Z]` is appended).
        xs: the inputs.
        answers: the answer space.
        delimiter: lm-eval's target delimiter, used only when the template has no `[Z]`.
        prefixes: text before each input's prompt (few-shot demonstrations), or None.
        null_context: the content-free context of "pmi" scores (None: not computed).
        batch_size: sequences per forward pass.
    """
    answers = list(answers)
    if not answers:
        raise DataError("the answer space is empty", where="prompting", fix="give at least one answer")
    t = answer_template(model, template, delimiter)
    grid = build_requests(t, xs, answers, prefixes=prefixes)
    flat = score_requests(model, [r for row in grid for r in row], null_context=null_context,
                          batch_size=batch_size)
    n = len(answers)
    return [flat[i * n : (i + 1) * n] for i in range(len(xs))]


@dataclass
class AnswerSearch:
    """The best answer and every answer's score (of kind `score`)."""

    best: str
    scores: dict[str, float]
    score: str = "logprob"


def answer_search(model: Any, template: str | PromptTemplate, x: Inputs, answers: Sequence[str], *,
                  score: str = "logprob", delimiter: str = " ", null_context: str = "",
                  batch_size: int = 32) -> AnswerSearch:
    """z^ = argmax_z score(z | template filled with x) over the answer space (ties: first answer)."""
    check_choice("score", score, SCORES)
    row = score_answers(model, template, [x], answers, delimiter=delimiter, batch_size=batch_size,
                        null_context=null_context if score == "pmi" else None)[0]
    scores = {s.answer: s.value(score) for s in row}
    return AnswerSearch(str(argmax_key(scores)), scores, score)


@dataclass
class Prediction:
    """One input's label: scores per label and per answer (kind `score`), label probabilities
    (softmax of the label scores, after contextual calibration when asked)."""

    label: Hashable
    scores: dict[Hashable, float]
    answer_scores: dict[str, float]
    probs: dict[Hashable, float] = field(default_factory=dict)
    calibrated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "scores": self.scores, "answer_scores": self.answer_scores,
                "probs": self.probs, "calibrated": self.calibrated}


def classify(model: Any, template: str | PromptTemplate, verbalizer: Verbalizer, xs: Sequence[Inputs], *,
             score: str = "logprob", calibrate: bool = False,
             content_free: Sequence[str] = CONTENT_FREE_INPUTS, delimiter: str = " ",
             prefixes: Sequence[str] | None = None, null_context: str = "",
             batch_size: int = 32) -> list[Prediction]:
    """Labels of inputs by prompting: fill, score every answer, map answers to labels.

    Args:
        model: a causal or masked LM.
        template: the prompt, with `[X]` (or `[X1]`, ...) and `[Z]`.
        verbalizer: label -> answers.
        xs: the inputs.
        score: which score ranks answers (see `lmlab.prompting.scoring`).
        calibrate: contextual calibration: the label probabilities of the `content_free` inputs,
            with the same prefix (demonstrations), correct each prediction (Zhao et al. 2021 with
            score="logprob"; the label score of another kind is used as its log-probability).
        content_free: the content-free inputs that fill every input slot for calibration.
        delimiter: appended before `[Z]` when the template has none (lm-eval's target delimiter).
        prefixes: text before each input's prompt (few-shot demonstrations).
        null_context: the content-free context of "pmi".
        batch_size: sequences per forward pass.
    Returns:
        one `Prediction` per input.
    """
    check_choice("score", score, SCORES)
    t = answer_template(model, template, delimiter)
    if not xs:
        return []
    answers = verbalizer.answers
    null = null_context if score == "pmi" else None
    rows = score_answers(model, t, xs, answers, prefixes=prefixes, null_context=null,
                         batch_size=batch_size)
    label_scores = [verbalizer.label_scores([s.value(score) for s in row]) for row in rows]
    labels = verbalizer.labels
    matrix = np.array([[ls[lab] for lab in labels] for ls in label_scores])  # (N, L)
    has_mass = bool(np.all(matrix.max(axis=1) > -np.inf))
    probs = probs_from_scores(matrix) if has_mass or calibrate else None  # DataError without mass
    if calibrate:
        cf = content_free_distributions(model, t, verbalizer, prefixes, len(xs), content_free=content_free,
                                        score=score, null_context=null, batch_size=batch_size)
        probs = np.stack([calibrate_probs(probs[i], cf[i]) for i in range(len(xs))])
    out = []
    for i, (row, ls) in enumerate(zip(rows, label_scores, strict=True)):
        p = {} if probs is None else {lab: float(v) for lab, v in zip(labels, probs[i], strict=True)}
        label = labels[int(np.argmax(probs[i]))] if calibrate else argmax_key(ls)
        out.append(Prediction(label, ls, {s.answer: s.value(score) for s in row}, p, calibrate))
    return out


def content_free_distributions(model: Any, template: PromptTemplate, verbalizer: Verbalizer,
                               prefixes: Sequence[str] | None, n: int, *,
                               content_free: Sequence[str] = CONTENT_FREE_INPUTS,
                               score: str = "logprob", null_context: str | None = None,
                               batch_size: int = 32) -> list[np.ndarray]:
    """p_cf (L,) for each of n inputs: the label distribution of the content-free inputs after the
    same prefix (computed once per distinct prefix)."""
    null = null_context
    inputs = list(content_free)
    if not inputs:
        raise DataError("no content-free inputs for calibration", where="calibration",
                        fix='use e.g. ("N/A", "", "[MASK]")')
    keys = list(prefixes) if prefixes is not None else [""] * n
    p_cf: dict[str, np.ndarray] = {}
    for prefix in dict.fromkeys(keys):
        xs = [{s: v for s in template.inputs} for v in inputs]
        rows = score_answers(model, template, xs, verbalizer.answers, prefixes=[prefix] * len(xs),
                             null_context=null, batch_size=batch_size)
        m = np.array([list(verbalizer.label_scores([s.value(score) for s in row]).values())
                      for row in rows])  # (N_cf, L) log-scores
        if not np.isfinite(m.max()):
            raise DataError("the content-free inputs give every label probability 0", where="calibration",
                            fix="use a smoothed model or other content-free inputs")
        # as Zhao et al.'s code: average the unnormalised probabilities, then renormalise (one
        # common factor exp(-max) keeps them representable and cancels out)
        p_cf[prefix] = content_free_probs(np.exp(m - m.max()))
    return [p_cf[k] for k in keys]

