"""Helpers shared by the command modules: output (human or --json), devices, examples in help."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

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
    from lmlab.errors import DataError

    texts = list(args.texts)
    if args.input == "-":
        texts += [line.rstrip("\n") for line in sys.stdin if line.strip()]
    elif args.input:
        texts += [line for line in iter_lines(args.input) if line.strip()]
    if not texts:
        raise DataError("no texts given", fix="pass texts as arguments or --input FILE")
    return texts
