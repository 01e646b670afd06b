"""Documents in, chunks out: text, Markdown and JSONL files and folders of them.

- `.txt`/`.md` files are one document each (id = the path relative to the root, title = the first
  Markdown heading or the file name); `.jsonl` files hold rows `{"id", "text"}` with optional
  "title" and any other keys kept as metadata.
- Unreadable files (not UTF-8, bad JSON, a row without "id"/"text") are skipped and reported by
  name in `Ingested.skipped`, never a crash.
- Chunks are runs of whole sentences (`lmlab.text.sentences.sentence_spans`) up to `max_tokens`
  word tokens, the last `overlap` tokens' sentences repeated in the next chunk; or fixed windows of
  `max_tokens` word tokens with `overlap`. Each chunk keeps its document id, title, source file and
  the character offsets of its text in the document: `doc.text[start:end] == chunk.text`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.text.sentences import sentence_spans
from lmlab.text.words import tokenize_with_offsets

SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")
ChunkMode = Literal["sentences", "tokens"]


@dataclass
class Document:
    id: str
    text: str
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    """A passage of document `doc_id`: `text == document.text[start:end]`."""

    doc_id: str
    text: str
    start: int
    end: int
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "text": self.text, "start": self.start, "end": self.end,
                "title": self.title, "source": self.source, "metadata": self.metadata}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Chunk:
        return cls(row["doc_id"], row["text"], int(row["start"]), int(row["end"]), row.get("title", ""),
                   row.get("source", ""), row.get("metadata", {}))


@dataclass
class Ingested:
    documents: list[Document]
    skipped: list[tuple[str, str]]  # (file, why)


def _title_of(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip() or fallback
        if line.strip():
            break
    return fallback


def _read_jsonl(path: Path, name: str) -> list[Document]:
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {n} is not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("text"), str):
            raise DataError(f"line {n} is not a row {{\"id\", \"text\"}}")
        meta = {k: v for k, v in row.items() if k not in ("id", "text", "title")}
        docs.append(Document(str(row["id"]), row["text"], str(row.get("title", "")), name, meta))
    return docs


def read_file(path: Path, root: Path | None = None) -> list[Document]:
    """The documents of one file. Raises DataError or UnicodeDecodeError/OSError when unreadable."""
    name = path.relative_to(root).as_posix() if root is not None and path != root else path.name
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(path, name)
    text = path.read_text(encoding="utf-8")
    return [Document(name, text, _title_of(text, path.stem), name)]


def load_documents(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> Ingested:
    """Read files and folders (recursively, files with `SUFFIXES`) into documents.

    Raises:
        DataError: a path does not exist, or nothing readable was found (empty folder).
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    docs: list[Document] = []
    skipped: list[tuple[str, str]] = []
    for item in items:
        p = Path(item)
        if not p.exists():
            raise DataError("no such file or folder", where=str(p), fix="check the path")
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES) if p.is_dir() else [p]
        for f in files:
            try:
                docs.extend(read_file(f, p if p.is_dir() else None))
            except UnicodeDecodeError:
                skipped.append((str(f), "not UTF-8"))
            except (OSError, DataError) as exc:
                skipped.append((str(f), str(exc)))
    if not docs:
        where = ", ".join(str(i) for i in items)
        why = f" ({len(skipped)} unreadable files skipped)" if skipped else ""
        raise DataError(f"no documents found{why}", where=where,
                        fix=f"pass files or folders with {', '.join(SUFFIXES)} files in UTF-8")
    seen: set[str] = set()
    for d in docs:
        if d.id in seen:
            raise DataError(f"the document id {d.id!r} occurs twice", where=d.source, fix="give every document its own id")
        seen.add(d.id)
    return Ingested(docs, skipped)


def _sentence_chunks(text: str, max_tokens: int, overlap: int) -> list[tuple[int, int]]:
    spans = sentence_spans(text)
    sizes = [max(1, len(tokenize_with_offsets(text[a:b]))) for a, b in spans]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j, total = i, 0
        while j < len(spans) and (j == i or total + sizes[j] <= max_tokens):
            total += sizes[j]
            j += 1
        out.append((spans[i][0], spans[j - 1][1]))
        if j >= len(spans):
            break
        back, kept = j, 0  # repeat the last sentences up to `overlap` tokens, always moving on
        while back - 1 > i and kept + sizes[back - 1] <= overlap:
            back -= 1
            kept += sizes[back]
        i = back
    return out


def _token_chunks(text: str, max_tokens: int, overlap: int) -> list[tuple[int, int]]:
    toks = tokenize_with_offsets(text)
    step = max_tokens - overlap
    out = []
    for s in range(0, len(toks), step):
        window = toks[s:s + max_tokens]
        out.append((window[0][1], window[-1][2]))
        if s + max_tokens >= len(toks):
            break
    return out


def chunk_documents(docs: Iterable[Document], *, mode: ChunkMode = "sentences", max_tokens: int = 200,
                    overlap: int = 0) -> list[Chunk]:
    """Split documents into chunks (see the module docstring); an empty document gives none."""
    check_choice("chunk mode", mode, ("sentences", "tokens"))
    check_range("max_tokens", max_tokens, 1)
    check_range("overlap", overlap, 0)
    if overlap >= max_tokens:
        raise ConfigError(f"overlap={overlap} is not below max_tokens={max_tokens}", fix="use a smaller overlap")
    split = _sentence_chunks if mode == "sentences" else _token_chunks
    chunks = []
    for d in docs:
        if not d.text.strip():
            continue
        for a, b in split(d.text, max_tokens, overlap):
            chunks.append(Chunk(d.id, d.text[a:b], a, b, d.title, d.source, dict(d.metadata)))
    return chunks
