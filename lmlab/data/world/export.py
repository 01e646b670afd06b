"""Writing the world's data to files: text for the LM, questions-words for analogies, JSONL for
the rest. `export(world, kind, path, ...)` is what `lmlab world generate KIND -o FILE` runs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from lmlab.data.world.world import World
from lmlab.errors import ConfigError


def write_lm(world: World, path: Path, n: int | None, n_tokens: int | None, split: str) -> dict[str, Any]:
    """One sentence per line, tokens separated by single spaces."""
    if n is None and n_tokens is None:
        n_tokens = 100_000
    if n is not None and n_tokens is not None:
        raise ConfigError("give --n-sentences or --n-tokens, not both", fix="drop one of them")
    sentences = world.lm_sentences(n, n_tokens=n_tokens, stream=split)
    types: Counter[str] = Counter()
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(s.text)
            f.write("\n")
            types.update(s.tokens)
    floor = world.entropy_floor(sentences)
    return {"kind": "lm", "path": str(path), "split": split, "n_sentences": floor.n_sentences,
            "n_tokens": floor.n_tokens, "n_types": len(types), "floor": floor.to_dict()}


def write_jsonl(path: Path, items: Iterable[Any]) -> int:
    """Write dataclasses or dicts as JSON lines (UTF-8, accents kept); returns the count."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(asdict(item) if is_dataclass(item) else item, ensure_ascii=False))
            f.write("\n")
            n += 1
    return n


def write_analogies(world: World, path: Path, relations: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The questions-words format of word2vec: `: section` lines, then `a b c d` lines."""
    items = world.analogies(relations)
    sections: Counter[str] = Counter()
    with open(path, "w", encoding="utf-8") as f:
        current = None
        for a in items:
            if a.relation != current:
                f.write(f": {a.relation}\n")
                current = a.relation
            f.write(f"{a.a} {a.b} {a.c} {a.d}\n")
            sections[a.relation] += 1
    return {"kind": "analogies", "path": str(path), "n_items": len(items), "sections": dict(sections)}


def _images(world: World, n: int, path: Path) -> list[dict]:
    from lmlab.data.world.images import write_image_captions

    return write_image_captions(world.images(n), path)


# kind -> (items of a world for a size and the output path, default size)
STRUCTURED: dict[str, tuple[Callable[[World, int, Path], Iterable[Any]], int]] = {
    "probes": (lambda w, n, _: w.long_range_probes(n_per_distance=n), 50),
    "parallel": (lambda w, n, _: w.parallel(n), 1000),
    "topics": (lambda w, n, _: w.topic_documents(n), 1000),
    "pairs": (lambda w, n, _: w.sentence_pairs(n), 1000),
    "reviews": (lambda w, n, _: w.reviews(n), 1000),
    "ner": (lambda w, n, _: w.ner_sentences(n), 1000),
    "qa": (lambda w, n, _: w.qa(n), 1000),
    "documents": (lambda w, n, _: w.documents(n), 100),
    "instructions": (lambda w, n, _: w.instructions(n), 1000),
    "preferences": (lambda w, n, _: w.preferences(n), 1000),
    "images": (_images, 200),
}


def kinds() -> list[str]:
    return ["lm", "analogies", *STRUCTURED]


def export(world: World, kind: str, path: str | Path, *, n: int | None = None,
           n_tokens: int | None = None, split: str = "train") -> dict[str, Any]:
    """Generate `kind` into `path`; returns a summary (counts, and the floor for "lm")."""
    path = Path(path)
    if kind not in kinds():
        raise ConfigError(f"unknown kind {kind!r}", fix=f"use one of {', '.join(kinds())}")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "lm":
        return write_lm(world, path, n, n_tokens, split)
    if n_tokens is not None:
        raise ConfigError(f"--n-tokens applies to kind 'lm' only, not {kind!r}", fix="use --n (items)")
    if kind == "analogies":
        return write_analogies(world, path)
    items, default_n = STRUCTURED[kind]
    count = write_jsonl(path, items(world, default_n if n is None else n, path))
    return {"kind": kind, "path": str(path), "n_items": count}
