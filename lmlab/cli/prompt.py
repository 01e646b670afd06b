"""`lmlab prompt eval|classify|tasks`: prompt-based prediction and the few-shot evaluation harness.

    lmlab prompt eval world_sentiment --model runs/gpt/model --shots 0 1 4 8 --plot shots.png
    lmlab prompt classify runs/gpt/model --template "[X] En general, fue [Z]" \\
        --answers etiquetas.json --input reseñas.txt

`eval` runs a task (a YAML file, or the name of a shipped task: `lmlab prompt tasks`) with each
number of shots and prints a table of its metrics per k (acc, acc_norm, macro-F1, or exact match);
`classify` labels one input per line with a template and a verbaliser (LABELS.json maps each label
to its answers, e.g. {"positivo": ["buena", "excelente"], "negativo": ["mala"]}). See
docs/prompting.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit

SCORE_CHOICES = ("logprob", "per_token", "per_char", "per_byte", "pmi")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "prompt", common, help="prompting: templates, answers, few-shot evaluation",
                    example="lmlab prompt eval world_sentiment --model runs/gpt/model --shots 0 1 4 8")

    p = add_command(sub, "eval", common, help="evaluate a YAML task with 0, 1, ... k demonstrations",
                    example="lmlab prompt eval date_format --model runs/gpt/model --shots 0 1 4 8 "
                            "--plot shots.png --json")
    p.add_argument("task", help="a task YAML file, or a shipped task's name (lmlab prompt tasks)")
    p.add_argument("--model", required=True, help="a model folder (lmlab or Hugging Face) or an ARPA file")
    p.add_argument("--shots", type=int, nargs="+", default=None, metavar="K",
                   help="numbers of demonstrations (default: the task's shots)")
    p.add_argument("--calibrate", action="store_true",
                   help="add contextually calibrated metrics (Zhao et al. 2021)")
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N test examples only")
    p.add_argument("--data", default=None, metavar="FILE", help="read the test examples from FILE instead")
    p.add_argument("--plot", default=None, metavar="FILE", help="write the main metric against k (PNG)")
    p.add_argument("--batch-size", type=int, default=32, help="sequences per forward pass (32)")
    p.add_argument("--predictions", action="store_true", help="with --json, include every prediction")
    p.set_defaults(func=run_eval)

    p = add_command(sub, "classify", common, help="label texts by prompting: template + answers per label",
                    example='lmlab prompt classify runs/gpt/model --template "[X] En general, fue [Z]" '
                            "--answers etiquetas.json --input reseñas.txt")
    p.add_argument("model", help="a model folder (causal or masked LM) or an ARPA file")
    p.add_argument("texts", nargs="*", help="inputs (or --input FILE, one per line; TAB separates the "
                                            "inputs of [X1], [X2] templates)")
    p.add_argument("--input", default=None, metavar="FILE", help="UTF-8 file with one input per line (- = stdin)")
    p.add_argument("--template", required=True, help='the prompt, e.g. "[X] En general, fue [Z]"')
    p.add_argument("--answers", required=True, metavar="LABELS.json",
                   help='JSON mapping each label to its answers, e.g. {"+": ["buena"], "-": ["mala"]}')
    p.add_argument("--score", choices=SCORE_CHOICES, default="logprob",
                   help="what ranks the answers (logprob = acc, per_char = acc_norm, pmi = acc_mutual_info)")
    p.add_argument("--reduce", choices=("max", "logsumexp"), default="max",
                   help="a label's score from its answers' (default max)")
    p.add_argument("--calibrate", action="store_true", help='contextual calibration with "N/A", "", "[MASK]"')
    p.add_argument("--delimiter", default=" ", help="before the answer when the template has no [Z] (' ')")
    p.add_argument("--batch-size", type=int, default=32, help="sequences per forward pass (32)")
    p.set_defaults(func=run_classify)

    p = add_command(sub, "tasks", common, help="list the shipped tasks",
                    example="lmlab prompt tasks --json")
    p.set_defaults(func=run_tasks)


def _load_model(path: str, args: argparse.Namespace) -> Any:
    from pathlib import Path

    from lmlab.errors import ModelFormatError

    if Path(path).is_file() and path.endswith(".arpa"):
        from lmlab.models.ngram.arpa import read_arpa

        return read_arpa(path)
    from lmlab.io.loading import load
    from lmlab.prompting.masked import is_masked_lm

    model = load(path)
    if not hasattr(model, "start") and not is_masked_lm(model):
        raise ModelFormatError(f"a {type(model).__name__} is not a language model", where=path,
                               fix="pass a causal LM (n-gram, RNN, GPT, Llama) or a BERT pre-training model")
    if hasattr(model, "to"):
        from lmlab.cli.common import torch_device

        model = model.to(torch_device(args))
    return model


def run_eval(args: argparse.Namespace) -> int:
    from lmlab.errors import check_range
    from lmlab.prompting.harness import evaluate_task
    from lmlab.prompting.task import load_task

    check_range("--batch-size", args.batch_size, 1)
    if args.limit is not None:
        check_range("--limit", args.limit, 1)
    task = load_task(args.task, data=args.data)
    model = _load_model(args.model, args)
    result = evaluate_task(model, task, shots=args.shots, calibrate=args.calibrate, limit=args.limit,
                           batch_size=args.batch_size, plot=args.plot)
    data = {"model": args.model, **result.to_dict(predictions=args.predictions)}
    if args.plot:
        data["plot"] = args.plot
    emit(args, data, result.table() + (f"\nplot: {args.plot}" if args.plot else ""))
    return 0


def _read_labels(path: str) -> Any:
    import json

    from lmlab.errors import DataError
    from lmlab.prompting.answers import Verbalizer

    try:
        with open(path, encoding="utf-8") as fh:
            mapping = json.load(fh)
    except OSError as exc:
        raise DataError("cannot read the answers file", where=path, fix="check the path") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not valid JSON: {str(exc).splitlines()[0]}", where=path,
                        fix='write {"label": ["answer", ...], ...}') from exc
    if isinstance(mapping, list):
        return Verbalizer.from_answers(mapping, where=path)
    if not isinstance(mapping, dict):
        raise DataError("the answers file must map labels to lists of answers", where=path,
                        fix='write {"positivo": ["buena"], "negativo": ["mala"]}')
    return mapping


def run_classify(args: argparse.Namespace) -> int:
    from lmlab.cli.common import read_texts
    from lmlab.errors import check_range
    from lmlab.prompting.answers import Verbalizer
    from lmlab.prompting.predict import classify
    from lmlab.prompting.templates import PromptTemplate

    check_range("--batch-size", args.batch_size, 1)
    template = PromptTemplate(args.template)
    labels = _read_labels(args.answers)
    verbalizer = labels if isinstance(labels, Verbalizer) else Verbalizer(labels, reduce=args.reduce,
                                                                          where=args.answers)
    texts = read_texts(args)
    xs = texts if len(template.inputs) == 1 else [t.split("\t") for t in texts]
    model = _load_model(args.model, args)
    preds = classify(model, template, verbalizer, xs, score=args.score, calibrate=args.calibrate,
                     delimiter=args.delimiter, batch_size=args.batch_size)
    rows = [{"input": t, **p.to_dict()} for t, p in zip(texts, preds, strict=True)]
    lines = ["\t".join([str(p.label), " ".join(f"{lab}={s:.4f}" for lab, s in p.scores.items()), t])
             for t, p in zip(texts, preds, strict=True)]
    emit(args, rows, "\n".join(lines))
    return 0


def run_tasks(args: argparse.Namespace) -> int:
    from lmlab.prompting.task import shipped_tasks, task_dir

    names = shipped_tasks()
    emit(args, {"folder": str(task_dir()), "tasks": names}, "\n".join(names))
    return 0
