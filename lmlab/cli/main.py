"""`lmlab`: the command-line entry point.

Parses the shared options, finds the command groups (every module of `lmlab.cli` with a
`register` function), runs the chosen one, and turns user errors into one line on stderr and exit
code 2 (the traceback only with --debug). Exit codes: 0 ok, 1 internal error, 2 user error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import version

from lmlab.cli.common import HELP_FORMATTER
from lmlab.device import DEVICE_CHOICES
from lmlab.errors import LmlabError

_NOT_COMMANDS = {"main", "common"}

EXAMPLES = """\
examples:
  lmlab ladder --quick                   # train and compare the ladder of models on the world
  lmlab world generate lm -o world.txt   # a synthetic Spanish corpus with exact probabilities
  lmlab info --json                      # versions and devices, machine-readable

Every command has --help with a worked example."""


def _add_shared_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Shared options; on subcommands they default to SUPPRESS so the top-level value wins."""
    def default(value):
        return argparse.SUPPRESS if suppress else value

    g = parser.add_argument_group("shared options")
    g.add_argument("--seed", type=int, default=default(0), help="random seed (default 0)")
    g.add_argument("--device", choices=DEVICE_CHOICES, default=default("auto"),
                   help="where torch models run (default auto: cuda, then mps, then cpu)")
    g.add_argument("--json", action="store_true", default=default(False),
                   help="machine-readable results on stdout; human text goes to stderr")
    g.add_argument("-v", "--verbose", action="count", default=default(0),
                   help="more log output (-vv for debug logs)")
    g.add_argument("--debug", action="store_true", default=default(False),
                   help="show full tracebacks on errors")


def command_modules() -> list[str]:
    """Names of the modules in lmlab.cli that define command groups, sorted."""
    import lmlab.cli as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name not in _NOT_COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmlab", description="Build, train, evaluate and serve language models end to end.",
        epilog=EXAMPLES, formatter_class=HELP_FORMATTER)
    parser.add_argument("--version", action="version", version=f"lmlab {version('lmlab')}")
    _add_shared_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _add_shared_options(common, suppress=True)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for name in command_modules():
        module = importlib.import_module(f"lmlab.cli.{name}")
        if hasattr(module, "register"):
            module.register(subparsers, common)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False)
    logger = logging.getLogger("lmlab")
    logger.handlers[:] = [handler]
    logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        # A group without its action (e.g. `lmlab world`) prints that group's help.
        (getattr(args, "group_parser", None) or parser).print_help(sys.stderr)
        return 2
    _configure_logging(args.verbose)
    try:
        result = args.func(args)
        return int(result or 0)
    except LmlabError as exc:
        return _fail(args, str(exc))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        return _fail(args, f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr)
    return 2


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
