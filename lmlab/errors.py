"""Exception types for user mistakes.

Every message says what is wrong, where, and how to fix it, in one line, so the command line can
print it as is (`lmlab.cli.main` turns an `LmlabError` into `error: ...` and exit code 2).
Programming errors stay ordinary Python exceptions with tracebacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class LmlabError(Exception):
    """A user-facing error: bad input, bad value, bad file. Subclasses say which kind."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what, self.where, self.fix = what, where, fix
        parts = [f"{where}: {what}" if where else what]
        if fix:
            parts.append(fix)
        super().__init__("; ".join(parts))


class ConfigError(LmlabError, ValueError):
    """A configuration value or parameter is invalid."""


class DataError(LmlabError, ValueError):
    """Input data is missing, empty, malformed or not decodable."""


class ModelFormatError(LmlabError, ValueError):
    """A saved model folder is incomplete, corrupted, or of another type."""


class NotFittedError(LmlabError, RuntimeError):
    """An estimator or model was used before `fit`/training."""


class MissingDependencyError(LmlabError, ImportError):
    """An optional dependency is needed for this feature."""


def _fmt(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return `value` if it is one of `choices`, else raise ConfigError listing them."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not valid", fix=f"use one of {_fmt(choices)}")
    return value


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return `value` if it lies in the interval, else raise ConfigError naming it.

    >>> check_range("top_p", 0.9, 0, 1, low_open=True)
    0.9
    """
    ok = True
    if low is not None:
        ok &= value > low if low_open else value >= low
    if high is not None:
        ok &= value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else f"{'(' if low_open else '['}{low}"
        hi = "inf" if high is None else f"{high}{')' if high_open else ']'}"
        raise ConfigError(f"{name}={value!r} is out of range", fix=f"use a value in {lo}, {hi}")
    return value


def require(module: str, feature: str, extra: str | None = None) -> Any:
    """Import an optional module or raise MissingDependencyError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        how = f'pip install "lmlab[{extra}]"' if extra else f"pip install {module}"
        raise MissingDependencyError(
            f"{feature} needs the package {module!r}, which is not installed", fix=how
        ) from exc
