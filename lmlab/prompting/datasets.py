"""Where a task's examples come from: files (relative to the task's YAML), ../shared/data, or a
generator of the embedded world.

A data source is a mapping with one of:

- `file: PATH`: JSONL (.jsonl, .jsonl.gz), a JSON list of objects (.json), or TSV (fields are
  1-based column numbers, "1", "2"); a relative path is read from the YAML's folder;
- `shared: PATH`: a file under the course's shared data folder: `$LMLAB_SHARED_DATA` when set,
  else `../shared/data` of the working directory (the layout of the course machines);
- `generator: NAME` with `n` (how many) and `seed`: examples made on the fly (`GENERATORS`):
  "world.reviews" (text, label 0/1, sentiment positivo/negativo, kind), "world.topics" (text,
  topic), "dates" (input "2014-06-01", target "!06!01!2014!": the course's in-context
  learning example).

    >>> dates(2, seed=0)[0]["target"].count("!")
    4
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from lmlab.data.columns import read_columns
from lmlab.errors import ConfigError, DataError

SHARED_ENV = "LMLAB_SHARED_DATA"


def dates(n: int, seed: int = 0) -> list[dict[str, str]]:
    """The date-format task: "YYYY-MM-DD" -> "!MM!DD!YYYY!", dates between 1950 and 2049."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        y, m, d = int(rng.integers(1950, 2050)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
        out.append({"input": f"{y:04d}-{m:02d}-{d:02d}", "target": f"!{m:02d}!{d:02d}!{y:04d}!"})
    return out


def _world(seed: int):
    from lmlab.data.world import World

    return World(seed)


def world_reviews(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Reviews of the embedded world with their sentiment (see lmlab.data.world.reviews)."""
    return [asdict(r) for r in _world(seed).reviews(n)]


def world_topics(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Documents of the embedded world with their dominant topic (see lmlab.data.world.topics)."""
    return [{"id": d.id, "text": d.text, "topic": d.topic} for d in _world(seed).topic_documents(n)]


GENERATORS: dict[str, Callable[[int, int], list[dict[str, Any]]]] = {
    "world.reviews": world_reviews,
    "world.topics": world_topics,
    "dates": dates,
}


def shared_data_dir() -> Path:
    """The course's shared data folder: $LMLAB_SHARED_DATA, else ../shared/data."""
    env = os.environ.get(SHARED_ENV)
    return Path(env) if env else Path("..") / "shared" / "data"


def resolve_path(value: str, base: Path, *, shared: bool, where: str) -> Path:
    """A data path: under the shared folder (`shared`), else relative to `base` unless absolute."""
    if shared:
        path = shared_data_dir() / value
        if not path.exists():
            raise DataError(f"shared data file {value!r} not found at {path}", where=where,
                            fix=f"set {SHARED_ENV} to the folder holding it, or pass the file (--data)")
        return path
    path = Path(os.path.expanduser(value))
    path = path if path.is_absolute() else base / path
    if not path.exists():
        raise DataError(f"data file not found: {path}", where=where,
                        fix="give a path relative to the task's YAML file, or an absolute one")
    return path


def read_records(path: Path, fields: list[str], *, where: str) -> list[dict[str, Any]]:
    """The records of a data file, with at least `fields` (JSONL, JSON list, or TSV columns)."""
    name = str(path)
    if name.endswith(".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read JSON: {exc}".splitlines()[0], where=name,
                            fix="write a JSON list of objects (or use JSONL)") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DataError("a .json data file must hold a list of objects", where=name,
                            fix='write [{"text": ..., "label": ...}, ...] or use JSONL')
        for n, rec in enumerate(data, 1):
            missing = [f for f in fields if f not in rec]
            if missing:
                raise DataError(f"record {n} has no field {missing[0]!r}", where=name,
                                fix=f"name the fields present: {', '.join(rec)}")
        return data
    cols = read_columns(path, fields)  # JSONL by key; any other file is TSV, fields "1", "2", ...
    return [dict(zip(fields, row, strict=True)) for row in zip(*cols, strict=True)]


def load_source(source: Any, base: Path, fields: list[str], *, where: str) -> list[dict[str, Any]]:
    """The records of one data source (see the module docstring)."""
    if isinstance(source, str):
        source = {"file": source}
    if not isinstance(source, Mapping):
        raise ConfigError(f"a data source is a mapping (file, shared or generator), got {source!r}",
                          where=where, fix="write e.g. data: {file: reviews.jsonl}")
    kinds = [k for k in ("file", "shared", "generator") if k in source]
    if len(kinds) != 1:
        raise ConfigError("a data source names exactly one of file, shared, generator", where=where,
                          fix="write e.g. data: {generator: world.reviews, n: 200, seed: 0}")
    extra = set(source) - {"file", "shared", "generator", "n", "seed"}
    if extra:
        raise ConfigError(f"unknown data field {sorted(extra)[0]!r}", where=where,
                          fix="use file, shared, or generator with n and seed")
    kind = kinds[0]
    if kind == "generator":
        name = source["generator"]
        if name not in GENERATORS:
            raise ConfigError(f"unknown generator {name!r}", where=where,
                              fix=f"use one of {', '.join(GENERATORS)}")
        n, seed = source.get("n", 200), source.get("seed", 0)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"data n={n!r} is not a positive integer", where=where, fix="e.g. n: 200")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"data seed={seed!r} is not an integer", where=where, fix="e.g. seed: 0")
        records = GENERATORS[name](n, seed)
        missing = [f for f in fields if f not in records[0]]
        if missing:
            raise ConfigError(f"the generator {name!r} has no field {missing[0]!r}", where=where,
                              fix=f"use its fields: {', '.join(records[0])}")
        return records
    if set(source) - {kind}:
        raise ConfigError(f"{kind}: takes no n or seed", where=where, fix="drop them, or use a generator")
    value = source[kind]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"data {kind} must be a path, got {value!r}", where=where,
                          fix="write e.g. file: reviews.jsonl")
    path = resolve_path(value, base, shared=kind == "shared", where=where)
    return read_records(path, fields, where=str(path))
