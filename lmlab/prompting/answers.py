"""Answer spaces and verbalisers: the answers z the LM may put in `[Z]`, and the label each means.

    >>> v = Verbalizer({"+": ["buena", "bacán"], "-": ["mala", "horrible"]})
    >>> v.answers
    ('buena', 'bacán', 'mala', 'horrible')
    >>> v.predict({"buena": -2.0, "bacán": -1.5, "mala": -3.0, "horrible": -0.5})
    '-'

Answers may be one token or several ("muy buena"): scoring (`lmlab.prompting.scoring`) gives each
answer one number, and a label's score is the best of its answers' (`reduce="max"`, the answer
search of Schick & Schütze's PET) or their log-sum-exp (`reduce="logsumexp"`: the probability mass
of all the label's answers, as Zhao et al. 2021 add the probabilities of a label's words).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from lmlab.errors import ConfigError, DataError, check_choice

REDUCTIONS = ("max", "logsumexp")


def logsumexp(values: Sequence[float]) -> float:
    """log(sum(exp(v))) computed stably; -inf for an empty sequence or all -inf."""
    top = max(values, default=-math.inf)
    if top == -math.inf:
        return -math.inf
    if top == math.inf:
        return math.inf
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


class Verbalizer:
    """Labels -> the answers that express them (many answers to one label).

    Args:
        mapping: label -> list of answers (a single string is one answer). Labels are kept as
            given (strings or integers, e.g. 0/1 of a data file).
        reduce: a label's score from its answers' scores: "max" (default) or "logsumexp".
        where: how errors name the source of the mapping (a file, a field).
    Raises:
        ConfigError: an empty answer space, a label without answers, an empty answer, or one
            answer listed twice (under two labels, or twice under one).
    """

    def __init__(self, mapping: Mapping[Hashable, Sequence[str] | str], *, reduce: str = "max",
                 where: str | None = None) -> None:
        self.reduce = check_choice("reduce", reduce, REDUCTIONS)
        self.where = where or "verbalizer"
        if not isinstance(mapping, Mapping) or not mapping:
            raise ConfigError("the answer space is empty", where=self.where,
                              fix='map each label to its answers, e.g. {"+": ["buena"], "-": ["mala"]}')
        self._answers: dict[Hashable, tuple[str, ...]] = {}
        self._label_of: dict[str, Hashable] = {}
        for label, answers in mapping.items():
            group = (answers,) if isinstance(answers, str) else tuple(answers)
            if not group:
                raise ConfigError(f"the label {label!r} has no answers", where=self.where,
                                  fix="give every label at least one answer word")
            for a in group:
                if not isinstance(a, str) or not a.strip():
                    raise ConfigError(f"the label {label!r} has an empty or non-text answer {a!r}",
                                      where=self.where, fix="answers are non-empty strings")
                if a in self._label_of:
                    other = self._label_of[a]
                    what = "twice" if other == label else f"under the labels {other!r} and {label!r}"
                    raise ConfigError(f"the answer {a!r} is listed {what}", where=self.where,
                                      fix="an answer must mean one label: list it once")
                self._label_of[a] = label
            self._answers[label] = group

    @classmethod
    def from_answers(cls, answers: Sequence[str], *, where: str | None = None) -> Verbalizer:
        """An answer space without mapping: each answer is its own label."""
        if isinstance(answers, str):
            answers = [answers]
        seen = list(answers)
        if not seen:
            raise ConfigError("the answer space is empty", where=where or "answers",
                              fix='give at least two answers, e.g. ["buena", "mala"]')
        return cls({a: [a] for a in seen} if len(set(seen)) == len(seen) else
                   _duplicate(seen, where), where=where)

    # ------------------------------------------------------------------ structure
    @property
    def labels(self) -> tuple[Hashable, ...]:
        """The labels, in the order given."""
        return tuple(self._answers)

    @property
    def answers(self) -> tuple[str, ...]:
        """Every answer, label by label, in the order given."""
        return tuple(a for group in self._answers.values() for a in group)

    def answers_of(self, label: Hashable) -> tuple[str, ...]:
        """The answers of one label."""
        if label not in self._answers:
            raise DataError(f"unknown label {label!r}", where=self.where,
                            fix=f"use one of {', '.join(map(repr, self._answers))}")
        return self._answers[label]

    def label_of(self, answer: str) -> Hashable:
        """The label an answer means."""
        if answer not in self._label_of:
            raise DataError(f"{answer!r} is not in the answer space", where=self.where,
                            fix=f"use one of {', '.join(map(repr, self._label_of))}")
        return self._label_of[answer]

    def to_dict(self) -> dict[Any, list[str]]:
        return {label: list(group) for label, group in self._answers.items()}

    def __len__(self) -> int:
        return len(self._answers)

    def __repr__(self) -> str:
        return f"Verbalizer({self.to_dict()!r}, reduce={self.reduce!r})"

    # ------------------------------------------------------------------ scores -> labels
    def label_scores(self, answer_scores: Mapping[str, float] | Sequence[float]) -> dict[Hashable, float]:
        """Each label's score from its answers' scores.

        Args:
            answer_scores: answer -> score, or scores aligned with `answers`.
        Returns:
            label -> the max (or log-sum-exp) of its answers' scores, labels in order.
        """
        scores = self._by_answer(answer_scores)
        combine = max if self.reduce == "max" else logsumexp
        return {label: float(combine([scores[a] for a in group]))
                for label, group in self._answers.items()}

    def predict(self, answer_scores: Mapping[str, float] | Sequence[float]) -> Hashable:
        """The label with the highest score (ties: the first label in order)."""
        return argmax_key(self.label_scores(answer_scores))

    def _by_answer(self, answer_scores: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
        if isinstance(answer_scores, Mapping):
            missing = [a for a in self.answers if a not in answer_scores]
            if missing:
                raise DataError(f"no score for the answer {missing[0]!r}", where=self.where,
                                fix="score every answer of the verbaliser")
            return {a: float(answer_scores[a]) for a in self.answers}
        values = list(answer_scores)
        if len(values) != len(self.answers):
            raise DataError(f"got {len(values)} scores for {len(self.answers)} answers",
                            where=self.where, fix="give one score per answer, in the order of .answers")
        return {a: float(v) for a, v in zip(self.answers, values, strict=True)}


def argmax_key(scores: Mapping[Hashable, float]) -> Hashable:
    """The key of the highest value; ties go to the first key, NaN never wins."""
    best, best_value = None, -math.inf
    for key, value in scores.items():
        if best is None or value > best_value:
            best, best_value = key, value
    if best is None:
        raise DataError("nothing to choose from", fix="give at least one answer")
    return best


def best_answer(answer_scores: Mapping[str, float]) -> str:
    """Answer search: the answer z with the highest score."""
    return str(argmax_key(answer_scores))


def _duplicate(answers: Sequence[str], where: str | None) -> dict:
    twice = next(a for a in answers if answers.count(a) > 1)
    raise ConfigError(f"the answer {twice!r} is listed twice", where=where or "answers",
                      fix="list each answer once")
