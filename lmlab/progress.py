"""Progress bars for long work (rich), off unless asked for: library code takes `progress=False`.

    with progress_bar(total=n_tokens, description="contando", unit="tok", enabled=True) as bar:
        for chunk in chunks:
            ...
            bar.advance(len(chunk))

Bars go to stderr and show the rate and the ETA; with `enabled=False` the same code runs silently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _NullBar:
    def advance(self, n: float = 1) -> None:
        pass

    def update(self, **fields: object) -> None:
        pass


class _RichBar:
    def __init__(self, progress, task) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: float = 1) -> None:
        self._progress.advance(self._task, n)

    def update(self, **fields: object) -> None:
        """Set extra fields shown after the bar, e.g. loss=2.31."""
        text = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
        self._progress.update(self._task, info=text)


@contextlib.contextmanager
def progress_bar(total: float | None, description: str, *, unit: str = "it",
                 enabled: bool = True) -> Iterator[_RichBar | _NullBar]:
    """A progress bar with rate and ETA on stderr, or a silent stand-in when not enabled."""
    if not enabled:
        yield _NullBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class _Rate(TextColumn):
        def render(self, task):  # type: ignore[override]
            speed = task.finished_speed or task.speed
            from rich.text import Text

            return Text(f"{speed:,.0f} {unit}/s" if speed else f"? {unit}/s", style="cyan")

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
               MofNCompleteColumn(), _Rate(""), TimeElapsedColumn(), TextColumn("eta"),
               TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total, info="")
        yield _RichBar(progress, task)


def track(items: Iterable[T], *, total: int | None = None, description: str = "",
          unit: str = "it", enabled: bool = True) -> Iterator[T]:
    """Iterate with a progress bar (when enabled)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(total, description, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.advance(1)
