"""`lmlab spell`: noisy-channel spelling correction with an n-gram model, and its evaluation."""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, emit, load_lm


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "spell", common,
                    help="correct spelling with an n-gram model (noisy channel), or measure it",
                    example='lmlab spell models/kn3 "el cabalero andante"   |   '
                            "lmlab spell models/kn3 --evaluate test.txt --rate 0.1")
    p.add_argument("model", help="n-gram model folder or ARPA file (its vocabulary is the dictionary)")
    p.add_argument("text", nargs="*", help="text to correct (default: read --file)")
    p.add_argument("--file", help="correct every line of this file")
    p.add_argument("--evaluate", metavar="CORPUS",
                   help="inject one-edit typos into CORPUS (one sentence per line) and report accuracy")
    p.add_argument("--rate", type=float, default=0.1, help="share of words given a typo (default 0.1)")
    p.add_argument("--max-sentences", type=int, default=300, help="sentences to evaluate (default 300)")
    p.add_argument("--pretokenized", action="store_true", help="tokens are separated by spaces")
    p.add_argument("--lower", action="store_true", help="lower-case the input (as the model's corpus)")
    p.add_argument("--unknown-penalty", type=float, default=7.6,
                   help="log-penalty of keeping an unknown word (default 7.6; higher corrects more)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lmlab.apps.spelling import SpellingCorrector, evaluate
    from lmlab.data.corpus import sentences
    from lmlab.errors import ConfigError
    from lmlab.text.words import tokenize

    corrector = SpellingCorrector(load_lm(args.model), unknown_penalty=args.unknown_penalty)
    if args.evaluate:
        sents = []
        for toks in sentences(args.evaluate, pretokenized=args.pretokenized, lower=args.lower):
            sents.append(toks)
            if len(sents) >= args.max_sentences:
                break
        rep = evaluate(corrector, sents, rate=args.rate, seed=args.seed)
        emit(args, rep.to_dict(), f"fixed {rep.fixed}/{rep.corrupted} corrupted words "
             f"({100 * rep.fixed_rate:.1f}%); changed {rep.changed}/{rep.clean} correct words "
             f"({100 * rep.false_change_rate:.2f}%)")
        return 0
    if args.text:
        lines = [" ".join(args.text)]
    elif args.file:
        from lmlab.data.corpus import iter_lines

        lines = list(iter_lines(args.file))
    else:
        raise ConfigError("nothing to correct", fix="pass text, --file FILE or --evaluate CORPUS")
    out = []
    for line in lines:
        line = line.lower() if args.lower else line
        toks = line.split() if args.pretokenized else tokenize(line)
        fixed = corrector.correct_tokens(toks)
        out.append({"input": line, "output": " ".join(fixed),
                    "changes": [[a, b] for a, b in zip(toks, fixed, strict=True) if a != b]})
    emit(args, out, "\n".join(o["output"] for o in out))
    return 0
