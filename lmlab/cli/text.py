"""`lmlab text ...`: normalise, split sentences, tokenise words, stem, remove stop words.

Every action reads UTF-8 files, folders or standard input (no file, or `-`) line by line and
writes one output line per input line (`sentences` writes one sentence per line), so the output
stays aligned with the input. `--errors replace` turns undecodable bytes into U+FFFD instead of
the one-line error naming the file and byte offset; input with no text at all is an error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from lmlab.cli.common import (
    add_command,
    add_group,
    add_input_options,
    emit,
    input_lines,
    nonempty,
    write_lines,
)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "text", common,
                    help="normalise, split sentences, tokenise, stem, remove stop words",
                    example="lmlab text words quijote.txt --pipeline 'nfc lower words'")

    p = add_command(sub, "normalize", common, help="normalise text line by line",
                    example="echo '  ¿QUÉ   tal? @ana 😀' | lmlab text normalize --lower "
                            "--strip-accents --social")
    add_input_options(p)
    p.add_argument("--form", choices=("NFC", "NFKC", "none"), default="NFC",
                   help="Unicode normal form (default NFC)")
    p.add_argument("--lower", action="store_true", help="case-fold")
    p.add_argument("--strip-accents", action="store_true", help="remove accents, keeping ñ")
    p.add_argument("--social", action="store_true",
                   help="replace URLs, e-mails, @mentions, #hashtags and emoji by <url> <email> "
                        "<user> <hashtag> <emoji>")
    p.add_argument("--keep-whitespace", action="store_true",
                   help="do not collapse runs of spaces and trim lines")
    p.set_defaults(func=run_normalize)

    p = add_command(sub, "sentences", common, help="split text into sentences, one per line",
                    example="lmlab text sentences quijote.txt -o sentences.txt")
    add_input_options(p)
    p.set_defaults(func=run_sentences)

    p = add_command(sub, "words", common,
                    help="tokenise into words (¿ ¡ apart; numbers, e-mails, URLs whole)",
                    example="echo '¿Qué tal, Sr. Núñez?' | lmlab text words")
    add_input_options(p)
    p.add_argument("--pipeline", default="words",
                   help="pipeline spec, e.g. 'nfc lower social words alnum stopwords stem' "
                        "(see lmlab.text.pipeline; default 'words')")
    p.add_argument("--lang", default="es", help="language of stop words, stems, lemmas (default es)")
    p.set_defaults(func=run_words)

    p = add_command(sub, "stem", common, help="Snowball stems of the words of each line",
                    example="echo 'Los niños cantaban canciones' | lmlab text stem --lang es")
    add_input_options(p)
    p.add_argument("--lang", default="es", help="language (default es)")
    p.set_defaults(func=run_stem)

    p = add_command(sub, "stopwords", common,
                    help="remove stop words from each line, or --list them",
                    example="echo 'El perro no come en la cocina' | lmlab text stopwords --keep no")
    add_input_options(p)
    p.add_argument("--lang", default="es", help="language (default es)")
    p.add_argument("--keep", nargs="*", default=[], help="stop words to keep (e.g. no)")
    p.add_argument("--list", action="store_true", help="print the stop-word list and exit")
    p.set_defaults(func=run_stopwords)


def run_normalize(args: argparse.Namespace) -> int:
    from lmlab.text.normalize import normalize

    form = None if args.form == "none" else args.form
    lines = nonempty(input_lines(args.inputs, args.errors), args.inputs)
    out = (normalize(line, form=form, lower=args.lower, accents=not args.strip_accents,
                     whitespace=not args.keep_whitespace, social=args.social) for line in lines)
    write_lines(args, out, str)
    return 0


def run_sentences(args: argparse.Namespace) -> int:
    from lmlab.text.sentences import iter_sentences

    lines = nonempty(input_lines(args.inputs, args.errors), args.inputs)
    write_lines(args, iter_sentences(lines), str)
    return 0


def _write_tokens(args: argparse.Namespace, process: Callable[[str], list[str]]) -> int:
    lines = nonempty(input_lines(args.inputs, args.errors), args.inputs)
    write_lines(args, (process(line) for line in lines), " ".join)
    return 0


def run_words(args: argparse.Namespace) -> int:
    from lmlab.text.pipeline import Pipeline

    return _write_tokens(args, Pipeline.from_spec(args.pipeline, lang=args.lang))


def run_stem(args: argparse.Namespace) -> int:
    from lmlab.text.stem import stem, stemmer
    from lmlab.text.words import tokenize

    stemmer(args.lang)  # a bad language fails before reading the input
    return _write_tokens(args, lambda line: stem(tokenize(line), args.lang))


def run_stopwords(args: argparse.Namespace) -> int:
    from lmlab.text.stopwords import remove_stopwords, stopwords
    from lmlab.text.words import tokenize

    words = stopwords(args.lang)
    if args.list:
        emit(args, sorted(words), "\n".join(sorted(words)))
        return 0
    return _write_tokens(args, lambda line: remove_stopwords(tokenize(line), args.lang, keep=args.keep))
