"""Evaluation tasks as YAML files, read with `yaml.safe_load` and checked field by field.

    name: world_sentiment
    data: {generator: world.reviews, n: 240, seed: 0}   # or {file: test.jsonl} / {shared: ...}
    demonstrations: {split: 40}       # the first 40 records are the pool, the rest are the test
    input: text                       # a field; a list of fields fills [X1], [X2], ...
    label: sentiment                  # the gold label (or, without choices, the target text)
    template: "[X] En general, la experiencia fue [Z]"
    choices: {positivo: [buena, excelente], negativo: [mala, terrible]}
    metric: acc
    shots: [0, 1, 4, 8]

Every field, with its default (`FIELDS`): `description` (""), `data` (required, see
`lmlab.prompting.datasets`), `demonstrations` (a data source, or {split: N}; default: the test
data itself, the test example always left out), `input`, `label`, `template` (required; `[Z]`
optional: without it `target_delimiter` + the answer follows), `choices` (label -> answers, or a
list of answers; none: a generation task), `metric` (acc, acc_norm, acc_bytes,
acc_mutual_info, macro_f1 or exact_match), `metrics` (reported; default: the metric plus acc,
acc_norm and macro_f1 for multiple choice), `shots` ([0]), `selection` (random, balanced,
nearest), `demo_template` (the template), `fewshot_separator` ("\\n\\n"), `target_delimiter`
(" "; only for templates without `[Z]`), `instruction` (""), `seed` (0), `limit` (none),
`overflow` (drop or error), `score` (the score behind macro_f1 and calibration: logprob),
`reduce` (max or logsumexp over a label's answers), `mutual_info_context` ("", lm-eval's),
`max_input_chars` (none: cut longer inputs to this many characters, explicitly), `shuffle`
(false: reorder the records with `seed` before the split and `limit`), and for
generation `max_new_tokens` (32), `stop` (["\\n"]) and `extract` (none, last_number, answer).
A mistake is a one-line ConfigError naming the field and the file.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from lmlab.errors import ConfigError, DataError, MissingDependencyError
from lmlab.prompting.answers import REDUCTIONS, Verbalizer
from lmlab.prompting.datasets import load_source
from lmlab.prompting.fewshot import OVERFLOWS, SELECTIONS
from lmlab.prompting.scoring import SCORES
from lmlab.prompting.templates import Inputs, PromptTemplate

METRICS = ("acc", "acc_norm", "acc_bytes", "acc_mutual_info", "macro_f1", "exact_match")
EXTRACTS = ("none", "last_number", "answer")
FIELDS = ("name", "description", "data", "demonstrations", "input", "label", "template", "choices",
          "metric", "metrics", "shots", "selection", "demo_template", "fewshot_separator",
          "target_delimiter", "instruction", "seed", "limit", "overflow", "score", "reduce",
          "mutual_info_context", "max_input_chars", "max_new_tokens", "stop", "extract", "shuffle")


@dataclass
class Task:
    """A loaded, checked task: its examples, prompt and answers (see the module docstring)."""

    name: str
    template: PromptTemplate
    input_fields: tuple[str, ...]
    label_field: str
    examples: list[dict[str, Any]]
    pool: list[dict[str, Any]] | None = None
    verbalizer: Verbalizer | None = None
    metric: str = "acc"
    metrics: tuple[str, ...] = ("acc",)
    shots: tuple[int, ...] = (0,)
    selection: str = "random"
    demo_template: PromptTemplate | None = None
    separator: str = "\n\n"
    delimiter: str = " "
    instruction: str = ""
    seed: int = 0
    limit: int | None = None
    overflow: str = "drop"
    score: str = "logprob"
    mutual_info_context: str = ""
    max_input_chars: int | None = None
    max_new_tokens: int = 32
    stop: tuple[str, ...] = ("\n",)
    extract: str = "none"
    description: str = ""
    path: Path | None = None

    @property
    def multiple_choice(self) -> bool:
        return self.verbalizer is not None

    def x_of(self, record: Mapping[str, Any]) -> Inputs:
        """The template's input(s) of a record (cut to `max_input_chars` when set)."""
        cut = (lambda s: s[: self.max_input_chars]) if self.max_input_chars else (lambda s: s)
        values = [cut(str(record[f])) for f in self.input_fields]
        return values[0] if self.template.inputs == ("X",) else dict(zip(self.template.inputs, values,
                                                                          strict=True))

    def y_of(self, record: Mapping[str, Any]) -> Hashable:
        """The gold label (as a string) or target text of a record."""
        return str(record[self.label_field])


def task_dir() -> Path:
    """The folder of the shipped tasks (package data of lmlab.prompting)."""
    return Path(str(resources.files("lmlab.prompting") / "tasks"))


def shipped_tasks() -> list[str]:
    """Names of the tasks shipped with lmlab (`lmlab/prompting/tasks/*.yaml`)."""
    return sorted(p.stem for p in task_dir().glob("*.yaml"))


def task_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A task file: an existing path, or the name of a shipped task."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = task_dir() / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise ConfigError(f"no task file or shipped task {str(name_or_path)!r}", where="task",
                      fix=f"pass a YAML file or one of: {', '.join(shipped_tasks())}")


def load_task(name_or_path: str | os.PathLike[str], *, data: str | None = None) -> Task:
    """Read and check a task YAML (a path or a shipped task's name); `data` replaces its data file."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML is installed with lmlab
        raise MissingDependencyError("task files need PyYAML", fix="pip install pyyaml") from exc
    path = task_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the task file: {exc}", where=str(path), fix="check the path") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"invalid YAML{at}", where=str(path), fix="check the indentation and quotes") from exc
    if not isinstance(raw, dict):
        raise ConfigError("a task file holds a mapping of fields", where=str(path),
                          fix="write name:, data:, template:, ... one per line")
    if data is not None:
        raw = {**raw, "data": {"file": str(Path(data).resolve())}}
    return task_from_dict(raw, base=path.parent, where=str(path), name=path.stem, path=path)


def task_from_dict(raw: Mapping[str, Any], *, base: Path = Path("."), where: str = "task",
                   name: str = "task", path: Path | None = None) -> Task:
    """A `Task` from the fields of a YAML file (paths relative to `base`)."""
    c = _Checker(raw, where)
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r}", where=where, fix=f"valid fields: {', '.join(FIELDS)}")
    template_text = c.text("template", required=True)
    try:
        template = PromptTemplate(template_text, name=f"{where}: template")
    except ConfigError as exc:
        raise ConfigError(f"field 'template': {exc.what}", where=where, fix=exc.fix) from exc
    inputs = raw.get("input", "text")
    input_fields = (inputs,) if isinstance(inputs, str) else tuple(inputs) if isinstance(inputs, list) else ()
    if not input_fields or not all(isinstance(f, str) and f for f in input_fields):
        raise ConfigError(f"field 'input' must be a field name or a list of them, got {inputs!r}",
                          where=where, fix="e.g. input: text, or input: [premise, hypothesis]")
    if len(input_fields) != len(template.inputs):
        raise ConfigError(f"field 'input' names {len(input_fields)} field(s) but the template has the "
                          f"slot(s) {', '.join(f'[{s}]' for s in template.inputs)}", where=where,
                          fix="one input field per slot: [X] for one, [X1], [X2], ... for several")
    label_field = c.text("label", default="label")
    if template.has_answer and "target_delimiter" in raw:
        raise ConfigError("field 'target_delimiter' is for templates without [Z]", where=where,
                          fix="drop it (the template's text before [Z] says what precedes the answer)")
    verbalizer = _verbalizer(raw.get("choices"), c.choice("reduce", REDUCTIONS, "max"), where)
    metric = c.choice("metric", METRICS, "acc" if verbalizer else "exact_match")
    if (metric == "exact_match") == (verbalizer is not None):
        raise ConfigError(f"field 'metric': {metric} needs " + ("no choices (a generation task)"
                          if verbalizer else "choices (a multiple-choice task)"), where=where,
                          fix="exact_match is for target texts; the others rank answer choices")
    default_metrics = [metric, "acc", "acc_norm", "macro_f1"] if verbalizer else [metric]
    metrics = tuple(dict.fromkeys([metric, *c.list_of("metrics", str, default_metrics)]))
    for m in metrics:
        if m not in METRICS or (m == "exact_match") == (verbalizer is not None):
            raise ConfigError(f"field 'metrics': {m!r} is not a metric of this task", where=where,
                              fix="multiple choice: acc, acc_norm, acc_bytes, acc_mutual_info, macro_f1; "
                                  "generation: exact_match")
    shots = tuple(c.list_of("shots", int, [0]))
    if not shots or any(k < 0 for k in shots):
        raise ConfigError(f"field 'shots' must list numbers >= 0, got {raw.get('shots')!r}",
                          where=where, fix="e.g. shots: [0, 1, 4, 8]")
    demo_text = c.text("demo_template", default=None)
    fields = [*input_fields, label_field]
    examples = load_source(c.required("data"), base, fields, where=f"{where}: data")
    shuffle = raw.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise ConfigError(f"field 'shuffle' must be true or false, got {shuffle!r}", where=where,
                          fix="shuffle: true reorders the records with the task's seed")
    if shuffle:
        order = np.random.default_rng(c.integer("seed", 0)).permutation(len(examples))
        examples = [examples[int(i)] for i in order]
    pool = None
    demos = raw.get("demonstrations")
    if isinstance(demos, Mapping) and "split" in demos:
        n = demos["split"]
        if set(demos) != {"split"} or not isinstance(n, int) or isinstance(n, bool) \
                or not 0 < n < len(examples):
            raise ConfigError(f"field 'demonstrations': split must be a number of records in "
                              f"[1, {len(examples) - 1}], got {demos!r}", where=where,
                              fix="e.g. demonstrations: {split: 40} (the first 40 records)")
        pool, examples = examples[:n], examples[n:]
    elif demos is not None:
        pool = load_source(demos, base, fields, where=f"{where}: demonstrations")
    task = Task(
        name=c.text("name", default=name), template=template, input_fields=input_fields,
        label_field=label_field, examples=examples, pool=pool, verbalizer=verbalizer, metric=metric,
        metrics=metrics, shots=shots, selection=c.choice("selection", SELECTIONS, "random"),
        demo_template=PromptTemplate(demo_text, name=f"{where}: demo_template") if demo_text else None,
        separator=c.text("fewshot_separator", default="\n\n"),
        delimiter=c.text("target_delimiter", default=" "), instruction=c.text("instruction", default=""),
        seed=c.integer("seed", 0), limit=c.integer("limit", None, low=1),
        overflow=c.choice("overflow", OVERFLOWS, "drop"), score=c.choice("score", SCORES, "logprob"),
        mutual_info_context=c.text("mutual_info_context", default=""),
        max_input_chars=c.integer("max_input_chars", None, low=1),
        max_new_tokens=c.integer("max_new_tokens", 32, low=1),
        stop=tuple(c.list_of("stop", str, ["\n"])), extract=c.choice("extract", EXTRACTS, "none"),
        description=c.text("description", default=""), path=path)
    _check_labels(task, where)
    return task


def _verbalizer(choices: Any, reduce: str, where: str) -> Verbalizer | None:
    if choices is None:
        return None
    w = f"{where}: choices"
    if isinstance(choices, list):
        return Verbalizer.from_answers([_answer(a, where) for a in choices], where=w)
    if isinstance(choices, Mapping):
        return Verbalizer({str(k): [_answer(a, where) for a in (v if isinstance(v, list) else [v])]
                           for k, v in choices.items()}, reduce=reduce, where=w)
    raise ConfigError(f"field 'choices' must map labels to answers, got {choices!r}", where=where,
                      fix="e.g. choices: {positivo: [buena, excelente], negativo: [mala]}")


def _answer(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"field 'choices': {value!r} is not an answer text", where=where,
                          fix="answers are words or phrases, e.g. [buena, excelente]")
    return str(value)


def _check_labels(task: Task, where: str) -> None:
    if not task.examples:
        raise DataError("the task has no test examples", where=where, fix="check the data source")
    if task.verbalizer is None:
        return
    labels = set(task.verbalizer.labels)
    for what, records in (("data", task.examples), ("demonstrations", task.pool or [])):
        for n, rec in enumerate(records, 1):
            if task.y_of(rec) not in labels:
                raise DataError(f"{what} record {n} has the label {task.y_of(rec)!r}, not one of the "
                                f"choices", where=where, fix=f"choices are: {', '.join(map(str, labels))}")


class _Checker:
    """Typed reads of a task's fields, raising ConfigError naming the field and the file."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw, self.where = raw, where

    def _bad(self, key: str, what: str, fix: str) -> ConfigError:
        return ConfigError(f"field {key!r} must be {what}, got {self.raw.get(key)!r}", where=self.where, fix=fix)

    def required(self, key: str) -> Any:
        if self.raw.get(key) is None:
            raise ConfigError(f"missing field {key!r}", where=self.where,
                              fix="see docs/prompting.md for the fields of a task")
        return self.raw[key]

    def text(self, key: str, *, default: Any = None, required: bool = False) -> Any:
        value = self.required(key) if required else self.raw.get(key, default)
        if value is not default and not isinstance(value, str):
            raise self._bad(key, "a string", 'quote it, e.g. "..."')
        return value

    def integer(self, key: str, default: Any, *, low: int | None = None) -> Any:
        value = self.raw.get(key, default)
        if value is default:
            return value
        if not isinstance(value, int) or isinstance(value, bool) or (low is not None and value < low):
            raise self._bad(key, f"an integer >= {low}" if low is not None else "an integer", "e.g. 8")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw.get(key, default)
        if value not in choices:
            raise self._bad(key, f"one of {', '.join(choices)}", f"e.g. {key}: {choices[0]}")
        return value

    def list_of(self, key: str, kind: type, default: list) -> list:
        value = self.raw.get(key, default)
        if isinstance(value, kind) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, kind) and not isinstance(v, bool)
                                                  for v in value):
            raise self._bad(key, f"a list of {kind.__name__}", f"e.g. {key}: [{'0, 1, 4' if kind is int else 'acc'}]")
        return value
