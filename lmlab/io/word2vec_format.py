"""The word2vec vector file formats (Mikolov et al.'s `word2vec.c`), text and binary.

    text:    "V D\\n" then one line per word: "word v_1 v_2 ... v_D\\n"
    binary:  "V D\\n" then per word: UTF-8 word, one space, D little-endian float32 (4·D bytes),
             optionally a newline (word2vec.c writes one, gensim does not; both are read)

Files without the "V D" header (the GloVe text format) are read too. Floats are written with
9 significant digits, enough to read back every float32 exactly. gensim's
`KeyedVectors.load_word2vec_format` reads what `write_word2vec` writes and vice versa.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lmlab.errors import DataError, ModelFormatError

_TEXT_BYTES = frozenset(b"0123456789.-+eEinfaINFA \t\r\n")


def write_word2vec(path: str | os.PathLike[str], words: Sequence[str], vectors: np.ndarray, *,
                   binary: bool = False) -> Path:
    """Write words and their (V, D) vectors in the word2vec text or binary format."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise DataError(f"{len(words)} words but vectors of shape {vectors.shape}",
                        fix="pass one row per word")
    for w in words:
        if not w or any(ch.isspace() for ch in w):
            raise DataError(f"the word {w!r} is empty or contains whitespace, which the word2vec "
                            "format cannot store", fix="remove or rename it before saving")
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        little = vectors.astype("<f4")
        for w, vec in zip(words, little, strict=True):
            if binary:
                fh.write(w.encode("utf-8") + b" " + vec.tobytes() + b"\n")
            else:
                fh.write((w + " " + " ".join(f"{x:.9g}" for x in vec.tolist()) + "\n").encode("utf-8"))
    os.replace(tmp, file)
    return file


def read_word2vec(path: str | os.PathLike[str], *, binary: bool | None = None,
                  limit: int | None = None, errors: str = "strict") -> tuple[list[str], np.ndarray]:
    """Read a word2vec text or binary file.

    Args:
        path: the file.
        binary: True/False, or None to tell from the content.
        limit: read only the first `limit` words.
        errors: how to treat undecodable words ("strict" raises, "replace" substitutes).
    Returns:
        (words, vectors (V, D) float32).
    """
    file = Path(path)
    if not file.is_file():
        raise DataError("vector file not found", where=str(file), fix="check the path")
    with open(file, "rb") as fh:
        first = fh.readline()
        header = _parse_header(first)
        if binary is None:
            binary = header is not None and _looks_binary(fh.read(4096), header[1])
        fh.seek(len(first) if header is not None else 0)
        if binary:
            if header is None:
                raise ModelFormatError("a binary word2vec file must start with a 'V D' header",
                                       where=str(file), fix="is it a text file? pass binary=False")
            return _read_binary(fh, header, limit, errors, str(file))
        return _read_text(fh, header, limit, errors, str(file))


def _parse_header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _looks_binary(sample: bytes, dim: int) -> bool:
    """Binary unless the first entry after its word is a text line of `dim` numbers.

    Only the first entry's own bytes are looked at: with few dimensions a text line is shorter
    than 4 * dim bytes, and the next line's word must not count as binary payload.
    """
    space = sample.find(b" ")
    if space < 0:
        return False
    end = sample.find(b"\n", space)
    line = sample[space + 1:] if end < 0 else sample[space + 1:end]
    if any(b not in _TEXT_BYTES for b in line[:max(4 * dim, 64)]):
        return True
    return end >= 0 and len(line.split()) != dim


def _read_binary(fh, header: tuple[int, int], limit: int | None, errors: str,
                 where: str) -> tuple[list[str], np.ndarray]:
    n, dim = header
    n = n if limit is None else min(n, limit)
    words: list[str] = []
    vectors = np.empty((n, dim), dtype=np.float32)
    size = 4 * dim
    for i in range(n):
        chars = bytearray()
        while True:
            ch = fh.read(1)
            if not ch:
                raise ModelFormatError(f"file ends inside word {i + 1} of {n}", where=where,
                                       fix="the file is truncated: write it again")
            if ch == b" ":
                break
            if ch != b"\n" or chars:
                chars += ch
        words.append(_decode(bytes(chars), errors, where, i + 1))
        data = fh.read(size)
        if len(data) != size:
            raise ModelFormatError(f"file ends inside the vector of word {i + 1} of {n}",
                                   where=where, fix="the file is truncated: write it again")
        vectors[i] = np.frombuffer(data, dtype="<f4")
    return words, vectors


def _read_text(fh, header: tuple[int, int] | None, limit: int | None, errors: str,
               where: str) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = header[1] if header else None
    start = 2 if header else 1
    for number, raw in enumerate(fh, start):
        if limit is not None and len(words) >= limit:
            break
        line = _decode(raw, errors, where, number).rstrip("\r\n")
        if not line.strip():
            continue
        parts = line.rstrip().split(" ")
        if dim is None:
            dim = len(parts) - 1
        if len(parts) < dim + 1:
            raise ModelFormatError(f"line {number} has {len(parts) - 1} numbers, {dim} expected",
                                   where=where, fix="the file is truncated or not word2vec text")
        try:
            rows.append(np.array(parts[-dim:], dtype=np.float32))
        except ValueError as exc:
            raise ModelFormatError(f"line {number} holds a value that is not a number ({exc})",
                                   where=where, fix="is it a binary file? pass binary=True") from exc
        words.append(" ".join(parts[:-dim]))
    if header and limit is None and len(words) != header[0]:
        raise ModelFormatError(f"the header announces {header[0]} words but {len(words)} were read",
                               where=where, fix="the file is truncated: write it again")
    vectors = np.stack(rows) if rows else np.zeros((0, dim or 0), dtype=np.float32)
    return words, vectors


def _decode(raw: bytes, errors: str, where: str, number: int) -> str:
    try:
        return raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        raise DataError(f"entry {number} is not valid UTF-8", where=where,
                        fix="pass errors='replace' or convert the file to UTF-8") from exc
