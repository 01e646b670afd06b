"""The evaluation harness: a task (YAML, `lmlab.prompting.task`) under a model, per number of shots.

    >>> result = evaluate_task(model, "world_sentiment", shots=(0, 1, 4), limit=100)  # doctest: +SKIP
    >>> print(result.table())                                                          # doctest: +SKIP
    >>> result.save_plot("shots.png")                                                  # doctest: +SKIP

Multiple-choice tasks score every answer of the verbaliser after each prompt (k demonstrations,
then the test input's template) and report, as lm-evaluation-harness does, `acc` (total
log-probability), `acc_norm` (per character of the answer), `acc_bytes` (per UTF-8 byte),
`acc_mutual_info` (PMI against `mutual_info_context`), plus `macro_f1` (of the predictions by the
task's `score`); with `calibrate=True` also `acc_calibrated` and `macro_f1_calibrated` (contextual
calibration with the same demonstrations). Generation tasks decode greedily until a `stop` string
and report `exact_match` of the stripped text (after `extract`: the last number, or the "La
respuesta es X" rule of `lmlab.prompting.cot`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lmlab.errors import ConfigError, check_range
from lmlab.generate import generate
from lmlab.prompting.calibration import calibrate as calibrate_probs
from lmlab.prompting.calibration import probs_from_scores
from lmlab.prompting.cot import extract_answer, format_number, last_number
from lmlab.prompting.fewshot import FewShot, FewShotPrompt
from lmlab.prompting.predict import content_free_distributions, score_answers
from lmlab.prompting.scoring import METRIC_SCORE
from lmlab.prompting.task import Task, load_task

logger = logging.getLogger("lmlab")


def macro_f1(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """The mean over labels (those in `gold` or `predicted`) of each label's F1."""
    labels = list(dict.fromkeys([*gold, *predicted]))
    if not labels:
        return 0.0
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s))


def accuracy(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    return float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])) if gold else 0.0


@dataclass
class ShotResult:
    """The metrics with k demonstrations over n test examples; `n_dropped` counts the
    demonstrations dropped (all examples together) to fit the model's context."""

    k: int
    n: int
    metrics: dict[str, float]
    n_dropped: int = 0
    predictions: list[Any] = field(default_factory=list)

    def to_dict(self, predictions: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "n": self.n, **self.metrics, "n_dropped": self.n_dropped}
        if predictions:
            out["predictions"] = self.predictions
        return out


@dataclass
class TaskResult:
    """A task's metrics per number of shots; `metric` is the main one (plots, summaries)."""

    task: str
    metric: str
    results: list[ShotResult]
    calibrated: bool = False
    chance: float | None = None

    @property
    def metric_names(self) -> list[str]:
        return list(self.results[0].metrics) if self.results else []

    def curve(self, metric: str | None = None) -> dict[int, float]:
        """k -> the value of `metric` (default: the main metric)."""
        m = metric or self.metric
        return {r.k: r.metrics[m] for r in self.results}

    def table(self) -> str:
        """A text table: one row per k, one column per metric, and the dropped demonstrations."""
        names = self.metric_names
        n = self.results[0].n if self.results else 0
        head = ["k", *names, "dropped"]
        rows = [[str(r.k), *(f"{r.metrics[m]:.4f}" for m in names), str(r.n_dropped)] for r in self.results]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
        title = f"{self.task}: {n} examples, main metric {self.metric}" + (", calibrated" if self.calibrated else "")
        return "\n".join([title, line(head), *(line(r) for r in rows)])

    def to_dict(self, predictions: bool = False) -> dict[str, Any]:
        return {"task": self.task, "metric": self.metric, "calibrated": self.calibrated,
                "chance": self.chance, "shots": [r.to_dict(predictions) for r in self.results]}

    def figure(self, metric: str | None = None) -> Any:
        """`metric` against the number of shots (a matplotlib Figure, see `shots_figure`)."""
        return shots_figure([self], metric)

    def save_plot(self, path: str | os.PathLike[str], metric: str | None = None) -> None:
        """Write the figure as PNG."""
        self.figure(metric).savefig(path, dpi=120)


def shots_figure(results: Sequence[TaskResult], metric: str | None = None) -> Any:
    """Accuracy (or `metric`) against the number of demonstrations, one line per task, drawn with
    `lmlab.report.plots` (matplotlib, Agg)."""
    from lmlab.report.plots import accuracy_by_distance

    if not results:
        raise ConfigError("no results to plot", where="prompting", fix="evaluate a task first")
    m = metric or results[0].metric
    chance = results[0].chance if len({r.chance for r in results}) == 1 else None
    fig = accuracy_by_distance({r.task: r.curve(m) for r in results}, chance=chance,
                               title="Aprendizaje en contexto: métrica según el número de ejemplos")
    ax = fig.axes[0]
    ax.set_xlabel("demostraciones en el prompt (k)")
    ax.set_ylabel(m)
    ax.set_xticks(sorted({k for r in results for k in r.curve(m)}))
    return fig


def evaluate_task(model: Any, task: Task | str | os.PathLike[str], shots: Sequence[int] | None = None,
                  calibrate: bool = False, limit: int | None = None, *, batch_size: int = 32,
                  plot: str | os.PathLike[str] | None = None) -> TaskResult:
    """Evaluate a task with each number of shots.

    Args:
        model: a causal LM (or a masked LM for multiple choice).
        task: a `Task`, a YAML path or a shipped task's name.
        shots: numbers of demonstrations (default: the task's `shots`).
        calibrate: add contextually calibrated metrics (multiple choice).
        limit: evaluate the first `limit` test examples only (default: the task's `limit`).
        batch_size: sequences per forward pass.
        plot: write the main metric against the shots to this PNG file.
    Returns:
        a `TaskResult` (one `ShotResult` per k, in the order given).
    """
    task = task if isinstance(task, Task) else load_task(task)
    shots = tuple(task.shots if shots is None else shots)
    if not shots:
        raise ConfigError("no numbers of shots given", where="prompting", fix="e.g. shots=(0, 1, 4, 8)")
    for k in shots:
        check_range("shots", k, 0)
    if calibrate and not task.multiple_choice:
        raise ConfigError(f"calibration needs answer choices; {task.name} is a generation task",
                          where="prompting", fix="drop --calibrate, or give the task choices")
    limit = limit if limit is not None else task.limit
    records = task.examples[:limit] if limit else task.examples
    xs, gold = [task.x_of(r) for r in records], [task.y_of(r) for r in records]
    pool_records = task.pool if task.pool is not None else task.examples
    builder = FewShot([(task.x_of(r), task.y_of(r)) for r in pool_records], task.template,
                      answer=task.verbalizer, demo_template=task.demo_template, separator=task.separator,
                      delimiter=task.delimiter, instruction=task.instruction, selection=task.selection,
                      seed=task.seed)
    out = []
    for k in shots:
        prompts = [builder.build(x, k, exclude=i if task.pool is None else None, key=i, model=model,
                                 answers=task.verbalizer.answers if task.verbalizer else (),
                                 max_new_tokens=0 if task.verbalizer else task.max_new_tokens,
                                 overflow=task.overflow, warn=False) for i, x in enumerate(xs)]
        dropped = sum(p.n_dropped for p in prompts)
        if dropped:
            logger.warning("%s, %d shots: dropped %d demonstrations in all to fit the model's context",
                           task.name, k, dropped)
        if task.multiple_choice:
            metrics, preds = _multiple_choice(model, task, builder, xs, gold, prompts, calibrate, batch_size)
        else:
            metrics, preds = _generation(model, task, gold, prompts)
        logger.info("%s, %d shots: %s", task.name, k, metrics)
        out.append(ShotResult(k, len(xs), metrics, dropped, preds))
    chance = 1 / len(task.verbalizer) if task.verbalizer else None
    result = TaskResult(task.name, task.metric, out, calibrate, chance)
    if plot is not None:
        result.save_plot(plot)
    return result


def _multiple_choice(model: Any, task: Task, builder: FewShot, xs: list, gold: list,
                     prompts: list[FewShotPrompt], calibrate: bool, batch_size: int
                     ) -> tuple[dict[str, float], list[Any]]:
    verbalizer = task.verbalizer
    assert verbalizer is not None
    prefixes = [p.prefix for p in prompts]
    pmi = "acc_mutual_info" in task.metrics or task.score == "pmi"
    rows = score_answers(model, builder.template, xs, verbalizer.answers, prefixes=prefixes,
                         null_context=task.mutual_info_context if pmi else None, batch_size=batch_size)

    def predict(kind: str) -> list[Hashable]:
        return [verbalizer.predict([s.value(kind) for s in row]) for row in rows]

    metrics: dict[str, float] = {}
    main = predict(task.score)
    for m in task.metrics:
        metrics[m] = macro_f1(gold, main) if m == "macro_f1" else accuracy(gold, predict(METRIC_SCORE[m]))
    if calibrate:
        labels = verbalizer.labels
        scores = np.array([[verbalizer.label_scores([s.value(task.score) for s in row])[lab]
                            for lab in labels] for row in rows])
        p_cf = content_free_distributions(model, builder.template, verbalizer, prefixes, len(xs),
                                          score=task.score, null_context=task.mutual_info_context
                                          if task.score == "pmi" else None, batch_size=batch_size)
        q = np.stack([calibrate_probs(p, c) for p, c in zip(probs_from_scores(scores), p_cf, strict=True)])
        calibrated = [labels[int(i)] for i in q.argmax(axis=1)]
        metrics["acc_calibrated"] = accuracy(gold, calibrated)
        metrics["macro_f1_calibrated"] = macro_f1(gold, calibrated)
    return metrics, main


def _normalise(text: str, extract: str) -> str | None:
    text = text.strip()
    if extract == "last_number":
        value = last_number(text)
        return None if value is None else format_number(value)
    if extract == "answer":
        return extract_answer(text)
    return text


def _generation(model: Any, task: Task, gold: list, prompts: list[FewShotPrompt]
                ) -> tuple[dict[str, float], list[Any]]:
    gens = generate(model, [p.text.rstrip() for p in prompts], strategy="greedy",
                    max_new_tokens=task.max_new_tokens, stop_strings=task.stop)
    texts = [(g.text or "").strip() for g in gens]
    preds = [_normalise(t, task.extract) for t in texts]
    targets = [_normalise(str(y), "last_number" if task.extract != "none" else "none") for y in gold]
    em = float(np.mean([p is not None and p == t for p, t in zip(preds, targets, strict=True)]))
    return {"exact_match": em}, texts
