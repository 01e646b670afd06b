"""Column readers for labelled data: JSONL (.gz) by key or TSV by column number, and hold-out splits.

    texts, labels = read_columns("reviews.jsonl.gz", ["text", "label"])
    src, tgt = read_columns("spa.txt", ["2", "1"], limit=30_000)          # TSV columns, 1-based
    (texts, labels), (vt, vl) = split_holdout([texts, labels], 0.1, seed=0)
"""

from __future__ import annotations

import os
import random
from typing import Any

from lmlab.data.corpus import iter_jsonl, iter_lines
from lmlab.errors import DataError, check_range

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz")


def read_columns(path: str | os.PathLike[str], fields: list[str], *,
                 limit: int | None = None) -> list[list[Any]]:
    """Columns of a data file: JSONL (.gz) by key, or TSV by 1-based column number ("1", "2").

    Returns one list per field, aligned. Raises DataError naming the first bad line.
    """
    path = str(path)
    cols: list[list[Any]] = [[] for _ in fields]
    if path.endswith(JSONL_SUFFIXES):
        for n, rec in enumerate(iter_jsonl(path), 1):
            missing = [f for f in fields if f not in rec]
            if missing:
                raise DataError(f"record {n} has no field {missing[0]!r}", where=path,
                                fix=f"name the fields present: {', '.join(rec)}")
            for col, f in zip(cols, fields, strict=True):
                col.append(rec[f])
            if limit and n >= limit:
                break
        return cols
    index = []
    for f in fields:
        if not f.isdigit() or int(f) < 1:
            raise DataError(f"column {f!r} is not a 1-based column number", where=path,
                            fix="for TSV files give column numbers, e.g. 1 and 2")
        index.append(int(f) - 1)
    for n, line in enumerate(iter_lines(path), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if max(index) >= len(parts):
            raise DataError(f"line {n} has {len(parts)} tab-separated columns, column {max(index) + 1} needed",
                            where=path, fix="check the column numbers or the file's separator (TAB)")
        for col, i in zip(cols, index, strict=True):
            col.append(parts[i])
        if limit and len(cols[0]) >= limit:
            break
    return cols


def split_holdout(columns: list[list[Any]], fraction: float, seed: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """Shuffle rows with `seed` and cut off `fraction` of them as a validation set.

    Returns (train columns, valid columns); the validation set holds at least one row.
    """
    check_range("valid fraction", fraction, 0, 1, low_open=True, high_open=True)
    order = list(range(len(columns[0])))
    random.Random(seed).shuffle(order)
    cut = max(1, int(len(order) * fraction))
    valid, train = order[:cut], order[cut:]
    return [[c[i] for i in train] for c in columns], [[c[i] for i in valid] for c in columns]
