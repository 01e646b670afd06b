"""Training logs: metrics as JSONL (one record per line, appended as training runs) and CSV, scalars
to TensorBoard when it is installed, and a loss-curve PNG (matplotlib, Agg) at the end.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("lmlab")


class MetricsLog:
    """Writes records {"step":..., "split": "train"|"eval", ...} under `out_dir` (or nowhere)."""

    def __init__(self, out_dir: str | Path | None, *, tensorboard: bool = True) -> None:
        self.out_dir = Path(out_dir) if out_dir else None
        self._jsonl = None
        self._tb = None
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                log.debug("tensorboard is not installed: no event files written")
            else:
                self._tb = SummaryWriter(str(self.out_dir / "tensorboard"))

    def write(self, record: dict[str, Any]) -> None:
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._jsonl.flush()
        if self._tb is not None:
            for key, value in record.items():
                if key not in ("step", "split") and isinstance(value, int | float):
                    self._tb.add_scalar(f"{record['split']}/{key}", value, record["step"])

    def close(self, history: Sequence[dict[str, Any]]) -> None:
        """Write metrics.csv and loss.png from the whole history (resumed runs included)."""
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self.out_dir is None or not history:
            return
        first = ["step", "split"]
        columns = first + sorted({k for r in history for k in r} - set(first))
        with open(self.out_dir / "metrics.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(history)
        save_loss_curve(history, self.out_dir / "loss.png")


def save_loss_curve(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Plot train and eval loss against the optimiser step into a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    for split, style in (("train", "-"), ("eval", "o-")):
        points = [(r["step"], r["loss"]) for r in history if r.get("split") == split and "loss" in r]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, style, label=split, markersize=3)
    ax.set_xlabel("paso del optimizador")
    ax.set_ylabel("pérdida (nats)")
    ax.set_title("Curva de pérdida")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    return Path(path)
