"""Token data for training: corpora tokenised once to memory-mapped arrays, and batches.

    tokens = encode_to_array(lines, tokenizer, "data/quijote.tokens", eos_id=eos)   # once
    tokens = load_token_array("data/quijote.tokens")                                # np.memmap
    train = RandomWindows(tokens, seq_len=128, batch_size=32, seed=0)   # train[i] -> {"ids": (32, 129)}
    clf = PaddedBatches({"ids": id_lists, "labels": labels}, batch_size=32)  # {"ids","mask","labels"}

A token array is a flat file of uint16 ids (uint32 when the vocabulary exceeds 65,536) plus a
small JSON sidecar, read through `np.memmap` so a corpus larger than memory costs nothing to open
(nanoGPT's `prepare.py`/`train.bin`). Encoding runs through `Tokenizer.encode_batch`, whose Rust
core spreads each chunk over all cores, so large inputs are tokenised in parallel.

Every batch source here is an indexable sequence (`len`, `[i]`) whose items depend only on `i` and
the seed: the Trainer's data position is then a number, resuming is exact, and data-parallel
processes split the indices between them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmlab.errors import ConfigError, DataError, check_range
from lmlab.progress import progress_bar

META_SUFFIX = ".json"


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits in 16 bits, else uint32."""
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


def encode_ids(texts: Sequence[str], tokenizer: Any, *, bos_id: int | None = None,
               eos_id: int | None = None, max_len: int | None = None) -> list[list[int]]:
    """Token ids of each text (encoded in parallel), with optional BOS/EOS and truncation."""
    head = [] if bos_id is None else [bos_id]
    tail = [] if eos_id is None else [eos_id]
    out = []
    for enc in tokenizer.encode_batch(list(texts), add_special_tokens=False):
        ids = enc.ids
        if max_len is not None:
            ids = ids[: max(0, max_len - len(head) - len(tail))]
        out.append(head + ids + tail)
    return out


def encode_to_array(texts: Iterable[str], tokenizer: Any, path: str | os.PathLike[str], *,
                    bos_id: int | None = None, eos_id: int | None = None, chunk_lines: int = 20_000,
                    progress: bool = False) -> np.ndarray:
    """Tokenise `texts` once into a flat memory-mapped id array at `path` (+ `path.json`).

    Each text becomes [bos] ids [eos]; chunks of `chunk_lines` texts are encoded in parallel and
    appended, so memory stays bounded. The file appears atomically when complete.

    Returns:
        the array, opened read-only with `load_token_array`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    vocab_size = tokenizer.get_vocab_size()
    dtype = token_dtype(vocab_size)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    n_tokens = n_texts = 0
    try:
        with open(tmp, "wb") as fh, progress_bar(None, "tokenising", unit="line", enabled=progress) as bar:
            chunk: list[str] = []
            for text in [*texts, None]:
                if text is not None:
                    chunk.append(text)
                if chunk and (text is None or len(chunk) >= chunk_lines):
                    ids = encode_ids(chunk, tokenizer, bos_id=bos_id, eos_id=eos_id)
                    flat = np.fromiter((i for seq in ids for i in seq), dtype=dtype)
                    fh.write(flat.tobytes())
                    n_tokens, n_texts = n_tokens + flat.size, n_texts + len(chunk)
                    bar.advance(len(chunk))
                    chunk = []
        if n_tokens == 0:
            raise DataError("the corpus produced no tokens", where=str(target),
                            fix="pass non-empty texts (and a tokenizer trained on similar text)")
        meta = {"dtype": dtype.name, "n_tokens": n_tokens, "n_texts": n_texts, "vocab_size": vocab_size,
                "bos_id": bos_id, "eos_id": eos_id}
        Path(str(target) + META_SUFFIX).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return load_token_array(target)


def load_token_array(path: str | os.PathLike[str]) -> np.ndarray:
    """Open a token array written by `encode_to_array` as a read-only `np.memmap`."""
    target = Path(path)
    meta_file = Path(str(target) + META_SUFFIX)
    if not target.exists() or not meta_file.exists():
        raise DataError("token array or its .json sidecar not found", where=str(target),
                        fix="create it with lmlab.data.tokens.encode_to_array")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    dtype = np.dtype(meta["dtype"])
    if target.stat().st_size != meta["n_tokens"] * dtype.itemsize:
        raise DataError(f"token array size does not match its sidecar ({meta['n_tokens']} tokens)",
                        where=str(target), fix="delete both files and tokenise again")
    return np.memmap(target, dtype=dtype, mode="r", shape=(meta["n_tokens"],))


class RandomWindows:
    """Random contiguous windows of a token array for language modelling.

    `windows[i]` is {"ids": (batch_size, seq_len + 1) int64}: batch_size windows starting at
    positions drawn from a generator seeded by (seed, i), so batch i is the same in every run.
    One "epoch" (`len`) is about one pass over the tokens.
    """

    def __init__(self, tokens: np.ndarray, seq_len: int, batch_size: int, *, seed: int = 0,
                 n_batches: int | None = None) -> None:
        check_range("seq_len", seq_len, 1)
        check_range("batch_size", batch_size, 1)
        if len(tokens) < seq_len + 1:
            raise DataError(f"the token array has {len(tokens)} tokens, fewer than seq_len + 1 = {seq_len + 1}",
                            fix="use a shorter --seq-len or a larger corpus")
        self.tokens, self.seq_len, self.batch_size, self.seed = tokens, seq_len, batch_size, seed
        self.n_batches = n_batches or max(1, (len(tokens) - 1) // (seq_len * batch_size))
        self._offsets = np.arange(seq_len + 1)

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if not 0 <= i < self.n_batches:
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, i])
        starts = rng.integers(0, len(self.tokens) - self.seq_len, size=self.batch_size)
        ids = np.asarray(self.tokens[starts[:, None] + self._offsets], dtype=np.int64)
        return {"ids": torch.from_numpy(ids)}


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int = 0,
                  max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into (ids (B, T) int64, mask (B, T) bool, True = real token).

    >>> ids, mask = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    >>> ids.tolist(), mask.sum(1).tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    if not seqs:
        raise DataError("cannot pad an empty list of sequences", fix="pass at least one sequence")
    lengths = [min(len(s), max_len) if max_len else len(s) for s in seqs]
    width = max(1, max(lengths))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    for row, (seq, n) in enumerate(zip(seqs, lengths, strict=True)):
        if n:
            ids[row, :n] = torch.as_tensor(list(seq[:n]), dtype=torch.long)
    mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    return ids, mask


def _is_sequence_column(values: Sequence[Any]) -> bool:
    first = values[0]
    return isinstance(first, list | tuple | np.ndarray | torch.Tensor) and not np.isscalar(first)


class PaddedBatches:
    """Padded, length-bucketed batches of several aligned columns.

    Columns whose name ends in "ids" hold id lists and are padded, each with its mask ("ids" ->
    "mask", "src_ids" -> "src_mask", "a_ids" -> "a_mask"); other columns (labels, scores) become
    int64/float32 tensors. Examples are sorted by the length of `sort_by` (default: the first ids
    column) and cut into batches, so each batch holds similar lengths and little padding; the
    Trainer shuffles the order of the batches.
    """

    def __init__(self, columns: Mapping[str, Sequence[Any]], batch_size: int, *, pad_id: int = 0,
                 sort_by: str | None = None, max_len: int | None = None, bucket: bool = True) -> None:
        check_range("batch_size", batch_size, 1)
        sizes = {name: len(values) for name, values in columns.items()}
        if not sizes or len(set(sizes.values())) != 1 or not next(iter(sizes.values())):
            raise DataError(f"columns must be non-empty and of equal length, got {sizes}",
                            fix="pass aligned lists (one entry per example in every column)")
        self.columns = dict(columns)
        self.id_columns = [n for n in columns if n.endswith("ids")]
        for name in self.id_columns:
            if not _is_sequence_column(columns[name]):
                raise DataError(f"column {name!r} must hold lists of token ids",
                                fix="encode the texts first (lmlab.data.tokens.encode_ids)")
        if not self.id_columns:
            raise ConfigError("no column named like 'ids' to pad", fix='name the id column "ids"')
        key = sort_by or self.id_columns[0]
        if key not in columns:
            raise ConfigError(f"sort_by={key!r} is not a column", fix=f"use one of {list(columns)}")
        n = next(iter(sizes.values()))
        order = sorted(range(n), key=lambda i: len(columns[key][i])) if bucket else list(range(n))
        self.batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
        self.pad_id, self.max_len = pad_id, max_len

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rows = self.batches[i]
        out: dict[str, torch.Tensor] = {}
        for name, values in self.columns.items():
            picked = [values[r] for r in rows]
            if name in self.id_columns:
                ids, mask = pad_sequences(picked, self.pad_id, self.max_len)
                out[name], out[name[:-3] + "mask"] = ids, mask
            else:
                arr = np.asarray(picked)
                dtype = torch.long if np.issubdtype(arr.dtype, np.integer) else torch.float32
                out[name] = torch.as_tensor(arr, dtype=dtype)
        return out
