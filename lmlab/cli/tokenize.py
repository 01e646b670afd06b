"""`lmlab tokenize ...`: train a tokenizer, encode and decode text, measure vocabulary coverage.

Tokenizers are `tokenizer.json` files (or model folders holding one, or Hugging Face folders with
vocab.json + merges.txt / vocab.txt); see `lmlab.text.tokenizers`.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
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
from lmlab.errors import DataError

_BATCH = 1000


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    from lmlab.text.tokenizers import KINDS, TEMPLATES

    sub = add_group(subparsers, "tokenize", common,
                    help="train tokenizers (word, char, BPE, WordPiece, Unigram), encode, decode",
                    example="lmlab tokenize train bpe quijote.txt -o tok.json --vocab-size 8000")

    p = add_command(sub, "train", common, help="train a tokenizer and save it as tokenizer.json",
                    example="lmlab tokenize train bpe corpus/ -o bpe.json --vocab-size 8000")
    p.add_argument("kind", choices=KINDS, help="tokenizer kind")
    add_input_options(p)
    p.add_argument("--vocab-size", type=int, default=None,
                   help="vocabulary size incl. special tokens (default: all for word/char, 30000)")
    p.add_argument("--min-frequency", type=int, default=1, help="least count to keep (default 1)")
    p.add_argument("--special", nargs="*", default=None,
                   help="special tokens in id order (default [PAD] [UNK] <s> </s>; WordPiece: "
                        "[PAD] [UNK] [CLS] [SEP] [MASK])")
    p.add_argument("--sentinels", type=int, default=0,
                   help="add N span-corruption sentinels <extra_id_0> ... (T5)")
    p.add_argument("--template", choices=TEMPLATES, default=None,
                   help="tokens added around each text (default cls_sep for wordpiece, else none)")
    p.add_argument("--normalization", choices=("NFC", "NFKC"), default=None,
                   help="Unicode normal form applied first (default none)")
    p.add_argument("--lower", action="store_true", help="lower-case before splitting")
    p.set_defaults(func=run_train)

    p = _with_tokenizer(sub, "encode", common, help="encode text line by line into ids or tokens",
                        example="echo '¿Qué tal?' | lmlab tokenize encode tok.json --tokens")
    p.add_argument("--tokens", action="store_true", help="write tokens instead of ids")
    p.add_argument("--no-special", action="store_true", help="do not add template tokens")
    p.set_defaults(func=run_encode)

    p = _with_tokenizer(sub, "decode", common, help="decode lines of space-separated ids into text",
                        example="lmlab tokenize encode tok.json in.txt | lmlab tokenize decode tok.json")
    p.add_argument("--keep-special", action="store_true", help="keep special tokens in the text")
    p.set_defaults(func=run_decode)

    p = _with_tokenizer(sub, "coverage", common,
                        help="OOV rate and tokens per word of a tokenizer on a corpus",
                        example="lmlab tokenize coverage tok.json test.txt --json")
    p.add_argument("--top", type=int, default=10, help="how many frequent OOV words to list")
    p.set_defaults(func=run_coverage)


def _with_tokenizer(sub: Any, name: str, common: argparse.ArgumentParser, *, help: str,
                    example: str) -> argparse.ArgumentParser:
    """A subcommand taking a tokenizer path then the usual inputs."""
    p = add_command(sub, name, common, help=help, example=example)
    p.add_argument("tokenizer", help="tokenizer.json or a folder holding one")
    add_input_options(p)
    return p


def _load(path: str):
    from lmlab.text.tokenizers import load_tokenizer

    return load_tokenizer(path)


def _batches(args: argparse.Namespace) -> Iterator[list[str]]:
    lines = nonempty(input_lines(args.inputs, args.errors), args.inputs)
    while batch := list(itertools.islice(lines, _BATCH)):
        yield batch


def run_train(args: argparse.Namespace) -> int:
    from lmlab.text import special
    from lmlab.text.tokenizers import save_tokenizer, train_tokenizer

    if args.output is None:
        raise DataError("no output path", fix="pass -o tokenizer.json (or -o a-folder/)")
    specials = args.special
    if args.sentinels:
        base = specials if specials is not None else (
            special.BERT_SPECIALS if args.kind == "wordpiece" else special.LM_SPECIALS)
        specials = [*base, *special.sentinel_tokens(args.sentinels)]
    counted = _CountingLines(input_lines(args.inputs, args.errors, skip_blank=True))
    start = time.perf_counter()
    tok = train_tokenizer(args.kind, counted, vocab_size=args.vocab_size, special_tokens=specials,
                          min_frequency=args.min_frequency, template=args.template,
                          normalization=args.normalization, lowercase=args.lower)
    seconds = time.perf_counter() - start
    path = save_tokenizer(tok, args.output)
    info = {"path": str(path), "kind": args.kind, "vocab_size": tok.get_vocab_size(),
            "lines": counted.lines, "megabytes": counted.bytes / 1e6, "seconds": seconds,
            "mb_per_s": counted.bytes / 1e6 / seconds if seconds else None}
    emit(args, info, f"wrote {path}: {args.kind}, {info['vocab_size']:,} tokens, trained on "
                     f"{counted.lines:,} lines ({info['megabytes']:.2f} MB) in {seconds:.2f} s")
    return 0


class _CountingLines:
    """An iterable of lines that counts lines and UTF-8 bytes as the trainer reads them."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self.lines, self.bytes = lines, 0, 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.lines += 1
            self.bytes += len(line.encode("utf-8")) + 1
            yield line


def run_encode(args: argparse.Namespace) -> int:
    tok = _load(args.tokenizer)

    def encodings() -> Iterator[Any]:
        for batch in _batches(args):
            for enc in tok.encode_batch(batch, add_special_tokens=not args.no_special):
                if args.json:
                    yield {"ids": enc.ids, "tokens": enc.tokens, "offsets": enc.offsets}
                else:
                    yield enc.tokens if args.tokens else enc.ids
    write_lines(args, encodings(), lambda row: " ".join(map(str, row)))
    return 0


def run_decode(args: argparse.Namespace) -> int:
    tok = _load(args.tokenizer)
    size = tok.get_vocab_size()
    where = ", ".join(args.inputs) or "<stdin>"

    def texts() -> Iterator[str]:
        number = 0
        for batch in _batches(args):
            rows = []
            for line in batch:
                number += 1
                try:
                    ids = [int(x) for x in line.split()]
                except ValueError as exc:
                    raise DataError(f"line {number} is not a list of integer ids ({exc})",
                                    where=where, fix="pass the output of `lmlab tokenize encode`") from exc
                bad = [i for i in ids if not 0 <= i < size]
                if bad:
                    raise DataError(f"line {number} has id {bad[0]} outside the vocabulary (0..{size - 1})",
                                    where=where, fix="decode with the tokenizer that encoded the text")
                rows.append(ids)
            yield from tok.decode_batch(rows, skip_special_tokens=not args.keep_special)
    write_lines(args, texts(), str)
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    from lmlab.text.coverage import coverage_report

    tok = _load(args.tokenizer)
    lines = nonempty(input_lines(args.inputs, args.errors, skip_blank=True), args.inputs)
    report = coverage_report(tok, lines, top=args.top)
    name = Path(args.tokenizer).name
    emit(args, {"tokenizer": args.tokenizer, **report.to_dict()}, f"{name}\n{report.summary()}")
    return 0
