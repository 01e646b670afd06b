"""Helpers shared by the command modules: output (human or --json), devices, examples in help, and
the training options every command that trains a neural model shares (`add_training_options`,
`train_config_from_args`, `add_rnn_options`).

Command modules never import each other: what two of them share lives here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from lmlab.errors import DataError

HELP_FORMATTER = argparse.RawDescriptionHelpFormatter


def add_command(subparsers: Any, name: str, common: argparse.ArgumentParser, *, help: str,
                example: str, description: str | None = None) -> argparse.ArgumentParser:
    """Add a subcommand whose --help ends with a worked example."""
    return subparsers.add_parser(
        name, help=help, description=description or help, parents=[common],
        epilog=f"example:\n  {example.strip()}", formatter_class=HELP_FORMATTER)


def add_group(subparsers: Any, name: str, common: argparse.ArgumentParser, *, help: str,
              example: str, description: str | None = None, title: str = "actions",
              metavar: str = "ACTION") -> Any:
    """Add a command group (`lmlab NAME ACTION ...`) that prints its own help when no action is
    given; returns the subparsers to add its actions to."""
    group = add_command(subparsers, name, common, help=help, example=example,
                        description=description)
    group.set_defaults(group_parser=group)
    return group.add_subparsers(title=title, metavar=metavar)


def emit(args: argparse.Namespace, data: Any, text: str | None = None) -> None:
    """Print a result: JSON on stdout with --json (human text then goes to stderr), else the text."""
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_json_default)
        sys.stdout.write("\n")
        if text:
            print(text, file=sys.stderr)
    elif text is not None:
        print(text)
    else:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_json_default)
        sys.stdout.write("\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars when stderr is a terminal (or -v), never under --json piping to a non-tty."""
    return sys.stderr.isatty() or getattr(args, "verbose", 0) > 0


def torch_device(args: argparse.Namespace):
    """Seed torch and resolve --device for commands that use torch."""
    from lmlab.device import resolve_device, seed_everything

    seed_everything(args.seed)
    return resolve_device(args.device)


def read_texts(args: argparse.Namespace) -> list[str]:
    """Texts from the positional `texts` and from `--input` (a UTF-8 file, or - for stdin).

    Files go through `lmlab.data.corpus.iter_lines`, so bad bytes are a one-line error naming the
    file and byte offset.
    """
    from lmlab.data.corpus import iter_lines

    texts = list(args.texts)
    if args.input == "-":
        texts += [line.rstrip("\n") for line in sys.stdin if line.strip()]
    elif args.input:
        texts += [line for line in iter_lines(args.input) if line.strip()]
    if not texts:
        raise DataError("no texts given", fix="pass texts as arguments or --input FILE")
    return texts


# ---------------------------------------------------------------- line-oriented input and output
STDIN = "-"


def add_input_options(p: argparse.ArgumentParser, *, nargs: str = "*") -> None:
    """Input files/folders (stdin when none) and --errors; -o for the output."""
    p.add_argument("inputs", nargs=nargs, metavar="INPUT",
                   help="UTF-8 text files or folders of .txt files; none or '-' reads stdin")
    p.add_argument("--errors", choices=("strict", "replace"), default="strict",
                   help="non-UTF-8 bytes: stop with an error naming file and offset (strict, "
                        "default) or replace them with U+FFFD")
    p.add_argument("-o", "--output", default=None, help="file to write (default stdout)")


def input_lines(inputs: list[str], errors: str, *, skip_blank: bool = False) -> Iterator[str]:
    """Lines of the inputs in order, streaming; standard input when the list is empty or '-'.

    Standard input is spooled to a temporary file first so that it goes through the same reader
    (`lmlab.data.corpus`) and its errors name a byte offset too.
    """
    from lmlab.data.corpus import iter_corpus_lines

    for path in inputs or [STDIN]:
        if path == STDIN:
            with tempfile.NamedTemporaryFile(prefix="lmlab-stdin-", suffix=".txt") as spool:
                shutil.copyfileobj(sys.stdin.buffer, spool)
                spool.flush()
                try:
                    yield from iter_corpus_lines(spool.name, errors=errors, skip_blank=skip_blank)
                except DataError as exc:
                    raise DataError(exc.what, where="<stdin>", fix=exc.fix) from exc
        else:
            yield from iter_corpus_lines(path, errors=errors, skip_blank=skip_blank)


def nonempty(lines: Iterable[str], inputs: list[str]) -> Iterator[str]:
    """Pass lines through; DataError at the end when none of them had any text."""
    seen = False
    for line in lines:
        seen = seen or bool(line.strip())
        yield line
    if not seen:
        raise DataError("the input is empty", where=", ".join(inputs) or "<stdin>",
                        fix="pass a file or pipe some UTF-8 text in")


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """The output file (UTF-8, '\\n' line endings) or stdout."""
    if path is None or path == STDIN:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


def write_lines(args: argparse.Namespace, items: Iterable[Any], render: Callable[[Any], str]) -> int:
    """Write one line per item: `render(item)`, or the item as JSON with --json. Returns count."""
    as_json = getattr(args, "json", False)
    n = 0
    with output_stream(args.output) as out:
        for item in items:
            out.write((json.dumps(item, ensure_ascii=False) if as_json else render(item)) + "\n")
            n += 1
    return n



# ---------------------------------------------------------------- models and training
def load_lm(path: str):
    """An n-gram model from a folder or an ARPA file."""
    from lmlab.errors import ConfigError
    from lmlab.models.ngram import NGramLM

    if Path(path).is_file():
        from lmlab.models.ngram.arpa import read_arpa

        return read_arpa(path)
    from lmlab.io.folder import load_model

    model = load_model(path)
    if not isinstance(model, NGramLM):
        raise ConfigError(f"{path} holds a {type(model).__name__}, not an n-gram model",
                          fix="pass a folder written by `lmlab ngram train` or an ARPA file")
    return model


def add_training_options(p: argparse.ArgumentParser, *, steps: int | None = None, lr: float = 3e-3,
                         batch_size: int = 32) -> None:
    """The Trainer's options, in one argument group."""
    g = p.add_argument_group("training")
    g.add_argument("-o", "--out", required=True, help="run folder: model/, checkpoints/, metrics, loss.png")
    g.add_argument("--steps", type=int, default=steps, help="optimiser steps (default: --epochs passes)")
    g.add_argument("--epochs", type=float, default=1.0, help="passes over the data when --steps is not given")
    g.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default {lr:g})")
    g.add_argument("--warmup", type=int, default=0, help="linear warm-up steps (default 0)")
    g.add_argument("--schedule", choices=("cosine", "linear", "constant"), default="cosine")
    g.add_argument("--batch-size", type=int, default=batch_size, help=f"examples per batch ({batch_size})")
    g.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimiser step (1)")
    g.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm, 0 = off (1.0)")
    g.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay on matrices")
    g.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (0 = at the end)")
    g.add_argument("--early-stopping", type=int, default=0,
                   help="stop after N evaluations without improvement (0 = never)")
    g.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                   help="continue a run (default: OUT/checkpoints/last)")
    g.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: small models are latency-bound, and extra "
                        "intra-op threads spin and slow every step when another process holds a core)")


def train_config_from_args(args: argparse.Namespace, device: Any) -> Any:
    """A TrainConfig from the parsed training options; sets torch's CPU thread count (--threads)."""
    import torch

    from lmlab.errors import check_range
    from lmlab.train import TrainConfig

    check_range("--threads", args.threads, 1, None)
    torch.set_num_threads(args.threads)
    return TrainConfig(max_steps=args.steps, epochs=args.epochs, lr=args.lr, warmup_steps=args.warmup,
                       schedule=args.schedule, grad_accum=args.grad_accum, grad_clip=args.grad_clip,
                       weight_decay=args.weight_decay, eval_every=args.eval_every,
                       early_stopping=args.early_stopping, seed=args.seed, device=str(device),
                       out_dir=args.out, resume_from=args.resume, progress=show_progress(args),
                       log_every=10)


def add_rnn_options(p: argparse.ArgumentParser, *, cell: str = "lstm", d_embed: int = 128,
                    d_hidden: int = 256) -> None:
    """The RNN model options (cell, sizes, layers, dropout, tokenizer), in one argument group."""
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("elman", "lstm", "gru"), default=cell, help=f"recurrent cell ({cell})")
    g.add_argument("--d-embed", type=int, default=d_embed, help=f"embedding size ({d_embed})")
    g.add_argument("--d-hidden", type=int, default=d_hidden, help=f"hidden size ({d_hidden})")
    g.add_argument("--layers", type=int, default=1, help="stacked recurrent layers (1)")
    g.add_argument("--dropout", type=float, default=0.0, help="dropout (0.0)")
    g.add_argument("--tokenizer", choices=("word", "char", "bpe", "wordpiece", "unigram"), default="word")
    g.add_argument("--vocab-size", type=int, default=None, help="tokenizer vocabulary (default: all words)")


def load_model_of(path: str, cls: type, train_command: str, device: Any) -> Any:
    """Open a model folder, check it holds a `cls`, move it to `device`."""
    from lmlab.errors import ModelFormatError
    from lmlab.io.loading import load

    model = load(path)
    if not isinstance(model, cls):
        raise ModelFormatError(f"the folder holds a {type(model).__name__}, not a {cls.__name__}",
                               where=path, fix=f"train one with {train_command}")
    return model.to(device)


def only_main_process() -> bool:
    """After training under torchrun: leave the process group; True in the process that reports."""
    from lmlab.train import distributed

    distributed.teardown()  # evaluation and saving below are local to the main process
    return distributed.is_main_process()


def load_word_vectors(path: str | None) -> Any:
    """Word vectors for input embeddings (None without a path): an lmlab vectors folder, or a
    word2vec text/binary file read by lmlab itself (`lmlab.io.word2vec_format`)."""
    if not path:
        return None
    from lmlab.vectors.keyed import load_word_vectors as open_word_vectors

    return open_word_vectors(path)
