"""`lmlab eval MODEL CORPUS`: perplexity of any saved language model on a text file.

    lmlab eval ladder-out/models/gpt test.txt --json

Every line of CORPUS is one text, read as `lmlab.perplexity` reads text in Python: the model's
start token, the tokenizer's ids, the end token; every token and every end are scored, the start
is conditioned on. On text of the embedded world (`lmlab world generate lm`) the exact entropy
floor of the same lines is printed beside it: per token of the world's words (with ends), the unit
in which the model's figure is also given when its tokens are not words (BPE, characters).
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, emit

EXAMPLE = "lmlab world generate lm -o test.txt --split test && lmlab eval runs/gpt/model test.txt"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "eval", common, help="perplexity of a saved language model on a text",
                    description=__doc__.split("\n\n")[0].strip("`"), example=EXAMPLE)
    p.add_argument("model", help="an lmlab model folder (n-gram, RNN, GPT) or a Hugging Face GPT-2 folder")
    p.add_argument("corpus", help="UTF-8 text file or folder of .txt files, one text per line")
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (32)")
    p.add_argument("--errors", choices=("strict", "replace"), default="strict",
                   help="bytes that are not UTF-8: fail (strict) or replace them with U+FFFD")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lmlab.apps.evaluate import describe, evaluate_lm
    from lmlab.cli.common import torch_device
    from lmlab.data.corpus import read_corpus_lines
    from lmlab.errors import ModelFormatError, check_range
    from lmlab.io.loading import load

    check_range("--batch-size", args.batch_size, 1)
    model = load(args.model)
    if not hasattr(model, "start"):
        raise ModelFormatError(f"a {type(model).__name__} is not a language model", where=args.model,
                               fix="pass a folder holding an n-gram, RNN or GPT model")
    if hasattr(model, "to"):
        model = model.to(torch_device(args))
    lines = read_corpus_lines(args.corpus, min_lines=1, errors=args.errors)
    report = evaluate_lm(model, lines, seed=args.seed, batch_size=args.batch_size)
    emit(args, {"model": args.model, "corpus": args.corpus, **report},
         f"{args.model} on {args.corpus}: {describe(report)}")
    return 0
