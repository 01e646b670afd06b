"""Corpus readers: text files, folders of .txt files and JSONL, validated at the boundary.

Lines stream one at a time (a 10 GB file never sits in memory). Decoding errors name the file and
the byte offset of the first bad byte; `errors="replace"` substitutes U+FFFD instead.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from lmlab.errors import DataError

Errors = Literal["strict", "replace"]
TEXT_SUFFIXES = (".txt", ".text", ".md", "")
_CHUNK = 1 << 20


def iter_lines(path: str | os.PathLike[str], *, errors: Errors = "strict",
               strip_bom: bool = True) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file without their line endings (CRLF handled).

    Raises:
        DataError: missing file, or undecodable bytes (with the byte offset) when errors="strict".
    """
    file = Path(path)
    if not file.is_file():
        raise DataError("file not found" if not file.exists() else "not a regular file",
                        where=str(file), fix="check the path")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict" if errors == "strict" else "replace")
    offset = 0
    pending = ""
    first = True
    with open(file, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"not valid UTF-8 at byte offset {offset + exc.start} ({chunk[exc.start:exc.start + 4]!r})",
                    where=str(file),
                    fix="convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) or pass --errors replace",
                ) from exc
            offset += len(chunk)
            if first and strip_bom and text.startswith("\ufeff"):
                text = text[1:]
            first = first and not text
            pending += text
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line.removesuffix("\r")
            if final:
                break
    if pending:
        yield pending.removesuffix("\r")


def corpus_files(path: str | os.PathLike[str]) -> list[Path]:
    """The text files of a corpus: the file itself, or the sorted .txt files under a folder."""
    root = Path(path)
    if root.is_file():
        return [root]
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                       and not p.name.startswith("."))
        if not files:
            raise DataError("the folder holds no text files (.txt)", where=str(root),
                            fix="put UTF-8 .txt files in it or pass a file")
        return files
    raise DataError("corpus not found", where=str(root), fix="check the path")


def iter_corpus_lines(path: str | os.PathLike[str], *, errors: Errors = "strict",
                      skip_blank: bool = True) -> Iterator[str]:
    """Lines of every file of a corpus (file or folder), optionally skipping blank lines."""
    for file in corpus_files(path):
        for line in iter_lines(file, errors=errors):
            if not skip_blank or line.strip():
                yield line


def sentences(path: str | os.PathLike[str], *, pretokenized: bool = False, lower: bool = False,
              errors: Errors = "strict") -> Iterator[list[str]]:
    """Token lists of a corpus (file or folder), one per non-blank line, streamed.

    Lines are split on spaces when `pretokenized`, else by `lmlab.text.words.tokenize`.
    """
    from lmlab.text.words import tokenize

    for line in iter_corpus_lines(path, errors=errors):
        line = line.lower() if lower else line
        yield line.split() if pretokenized else tokenize(line)


def read_corpus_lines(path: str | os.PathLike[str], *, errors: Errors = "strict",
                      min_lines: int = 1) -> list[str]:
    """All non-blank lines of a corpus; DataError if fewer than `min_lines`."""
    lines = list(iter_corpus_lines(path, errors=errors))
    if len(lines) < min_lines:
        raise DataError(
            "the corpus is empty" if not lines else f"the corpus has {len(lines)} lines, {min_lines} needed",
            where=str(path), fix="pass a file or folder with more UTF-8 text")
    return lines


def iter_jsonl(path: str | os.PathLike[str], *, errors: Errors = "strict") -> Iterator[dict]:
    """Yield the JSON objects of a JSONL file (.gz allowed), naming the line of any bad record."""
    file = Path(path)
    if file.suffix == ".gz":
        import gzip

        if not file.is_file():
            raise DataError("file not found", where=str(file), fix="check the path")
        with gzip.open(file, "rt", encoding="utf-8", errors=errors) as fh:
            lines: Iterator[str] = (line.rstrip("\n") for line in fh)
            yield from _parse_jsonl(lines, file)
        return
    yield from _parse_jsonl(iter_lines(file, errors=errors), file)


def _parse_jsonl(lines: Iterator[str], file: Path) -> Iterator[dict]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number} is not valid JSON ({exc.msg})", where=str(file),
                            fix="fix or remove that line") from exc
        if not isinstance(record, dict):
            raise DataError(f"line {number} is not a JSON object", where=str(file),
                            fix='each line must be an object like {"text": "..."}')
        yield record
