"""Back-off tables of an n-gram model read from an ARPA file (smoothing "backoff").

Per order k: sorted n-gram keys, listed probabilities p(w | h) and back-off weights b(h), set on an
`NGramLM` (`install_backoff`), saved in its model folder (`backoff_arrays`) and read back
(`restore_backoff`). `lmlab.models.ngram.arpa` reads and writes the ARPA text form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lmlab.io.folder import check_arrays
from lmlab.models.ngram.counts import CountTables
from lmlab.models.ngram.smoothing import Level, Levels

if TYPE_CHECKING:
    from lmlab.models.ngram.model import NGramLM

__all__ = ["backoff_arrays", "install_backoff", "restore_backoff"]


def install_backoff(model: NGramLM, keys: list[np.ndarray], probs: list[np.ndarray],
                    weights: list[np.ndarray]) -> None:
    """Set the back-off tables of `model` from keys, probabilities and weights per order."""
    V = len(model._vocab())
    shape = CountTables(V, keys, [np.zeros(len(k), dtype=np.int64) for k in keys])
    levels = []
    for k in range(1, len(keys) + 1):
        gamma = np.ones(1) if k == 1 else weights[k - 2]
        levels.append(Level(shape.context_ptr(k), shape.words(k), probs[k - 1], gamma))
    model._keys = keys
    model._weights = weights  # type: ignore[attr-defined]
    model._levels = Levels(levels, np.zeros(V), "backoff", 1.0, False)


def backoff_arrays(model: NGramLM) -> dict[str, Any]:
    """Arrays saving a back-off (ARPA) model in the folder format."""
    out = {}
    for k in range(1, model.order + 1):
        out[f"backoff.{k}.keys"] = model._keys[k - 1]
        out[f"backoff.{k}.prob"] = model._levels.levels[k - 1].term
        out[f"backoff.{k}.weight"] = model._weights[k - 1]
    return out


def restore_backoff(model: NGramLM, arrays: dict[str, Any], sizes: list[int], *, where: str) -> None:
    """Inverse of `backoff_arrays` (checks names and shapes)."""
    expected = {}
    for k, size in enumerate(sizes, start=1):
        for part in ("keys", "prob", "weight"):
            expected[f"backoff.{k}.{part}"] = (size,)
    check_arrays(expected, arrays, where=where)
    get = lambda k, part: np.asarray(arrays[f"backoff.{k}.{part}"])  # noqa: E731
    ks = range(1, model.order + 1)
    install_backoff(model, [get(k, "keys").astype(np.int64) for k in ks], [get(k, "prob") for k in ks],
                    [get(k, "weight") for k in ks])
