"""Vectorised n-gram counting: integer keys, `np.unique`, CSR by context; no object per n-gram.

Sentences are concatenated into one id stream `<s> w1 ... wm </s> <s> ...` (one `<s>` per sentence,
as ARPA/KenLM models do). An n-gram of order k is stored as one int64 key

    key = index_of(prefix of order k-1) * V + last_word

so the table of order k, sorted by key, is grouped by context: `keys // V` is the row of the
context in the table of order k-1 and `keys % V` the predicted word (a CSR matrix whose indptr
comes from `np.searchsorted`). The unigram table is the whole vocabulary: index == id. Each order
is one `np.unique` over the valid window positions of the stream, whose inverse gives the index of
every window, which keys the next order (Pauls & Klein 2011 use the same context-index encoding).

Counting 10M tokens to order 5 takes seconds and memory linear in the number of tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CountTables", "count_ngrams", "index_of", "lookup", "stream_indices"]


@dataclass
class CountTables:
    """Counts of orders 1..n. `keys[k-1]` (sorted int64) and `counts[k-1]` (int64) for order k."""

    vocab_size: int
    keys: list[np.ndarray]
    counts: list[np.ndarray]

    @property
    def order(self) -> int:
        return len(self.keys)

    def sizes(self) -> list[int]:
        """Number of distinct n-grams per order (order 1: those with a non-zero count)."""
        return [int(np.count_nonzero(self.counts[0]))] + [len(k) for k in self.keys[1:]]

    def context_ptr(self, k: int) -> np.ndarray:
        """CSR indptr of order k over the rows of order k-1: entries of context c are ptr[c]:ptr[c+1]."""
        if k == 1:
            return np.array([0, self.vocab_size], dtype=np.int64)
        n_ctx = len(self.keys[k - 2])
        ctx = self.keys[k - 1] // self.vocab_size
        return np.searchsorted(ctx, np.arange(n_ctx + 1, dtype=np.int64)).astype(np.int64)

    def words(self, k: int) -> np.ndarray:
        """Predicted word of every entry of order k, (n_k,) int64."""
        return self.keys[k - 1] % self.vocab_size

    def contexts(self, k: int) -> np.ndarray:
        """Row of each entry's context in order k-1 (all zeros for k == 1)."""
        if k == 1:
            return np.zeros(self.vocab_size, dtype=np.int64)
        return self.keys[k - 1] // self.vocab_size

    def suffixes(self, k: int) -> np.ndarray:
        """Row in order k-1 of each order-k entry's suffix (its n-gram without the first word)."""
        if k < 2:
            raise ValueError("suffixes exist from order 2")
        if k == 2:
            return self.words(2)
        ctx_suffix = self.suffixes(k - 1)[self.contexts(k)]
        found = lookup(self.keys[k - 2], ctx_suffix * self.vocab_size + self.words(k))
        if np.any(found < 0):  # every sub-window of a counted window was counted
            raise RuntimeError(f"corrupt count tables: a suffix of order {k} is missing")
        return found

    def first_words(self, k: int) -> np.ndarray:
        """First word of each entry of order k."""
        first = np.arange(self.vocab_size, dtype=np.int64)
        for j in range(2, k + 1):
            first = first[self.contexts(j)]
        return first


def lookup(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Row of each query key in `sorted_keys`, or -1 when absent. Negative queries give -1."""
    queries = np.asarray(queries, dtype=np.int64)
    if len(sorted_keys) == 0:
        return np.full(queries.shape, -1, dtype=np.int64)
    pos = np.searchsorted(sorted_keys, queries)
    pos_c = np.minimum(pos, len(sorted_keys) - 1)
    ok = (sorted_keys[pos_c] == queries) & (queries >= 0)
    return np.where(ok, pos_c, -1)


def index_of(keys: list[np.ndarray], vocab_size: int, grams: np.ndarray) -> np.ndarray:
    """Row of each n-gram in its order's table, -1 when absent.

    Args:
        keys: `CountTables.keys` (or any tables of the same layout).
        grams: (R, m) int64 ids, m >= 1; rows containing a negative id give -1.
    Returns:
        (R,) int64 rows in the table of order m.
    """
    grams = np.asarray(grams, dtype=np.int64)
    idx = np.where((grams[:, 0] >= 0) & (grams[:, 0] < vocab_size), grams[:, 0], -1)
    for j in range(1, grams.shape[1]):
        w = grams[:, j]
        q = np.where((idx >= 0) & (w >= 0), idx * vocab_size + w, -1)
        idx = lookup(keys[j], q)
    return idx


def valid_starts(stream: np.ndarray, k: int, eos: int) -> np.ndarray:
    """Mask of positions i where stream[i:i+k] stays within one sentence ((L-k+1,) bool)."""
    not_eos = stream != eos
    ok = np.ones(len(stream) - k + 1, dtype=bool)
    for j in range(k - 1):
        ok &= not_eos[j : j + len(ok)]
    return ok


def stream_indices(keys: list[np.ndarray], vocab_size: int, stream: np.ndarray, eos: int,
                   max_order: int) -> list[np.ndarray]:
    """Row of the n-gram starting at each stream position, for orders 1..max_order.

    Returns a list whose item k-1 has shape (L-k+1,): the row in the order-k table of
    stream[i:i+k], or -1 when that window crosses a sentence end or was never counted.
    """
    out = [stream.astype(np.int64)]
    for k in range(2, max_order + 1):
        prev = out[-1][: len(stream) - k + 1]
        ok = valid_starts(stream, k, eos) & (prev >= 0)
        q = np.where(ok, prev * vocab_size + stream[k - 1 :], -1)
        out.append(lookup(keys[k - 1], q))
    return out


def count_ngrams(stream: np.ndarray, order: int, vocab_size: int, eos: int) -> CountTables:
    """Count every n-gram of orders 1..order in an id stream whose sentences end with `eos`.

    Args:
        stream: (L,) int ids, `<s> w1 ... wm </s>` per sentence, concatenated.
        order: highest order n >= 1.
        vocab_size: V; ids must lie in [0, V).
        eos: id of `</s>`: no n-gram continues past it.
    Returns:
        CountTables with order-1 counts over the whole vocabulary.
    """
    stream = np.ascontiguousarray(stream, dtype=np.int64)
    keys = [np.arange(vocab_size, dtype=np.int64)]
    counts = [np.bincount(stream, minlength=vocab_size).astype(np.int64)]
    prev_index = stream  # row of the (k-1)-gram starting at each position
    for k in range(2, order + 1):
        n_pos = len(stream) - k + 1
        if n_pos <= 0:
            keys.append(np.zeros(0, dtype=np.int64))
            counts.append(np.zeros(0, dtype=np.int64))
            prev_index = np.zeros(0, dtype=np.int64)
            continue
        pos = np.flatnonzero(valid_starts(stream, k, eos))
        window = prev_index[pos] * vocab_size + stream[pos + k - 1]
        uniq, inverse, cnt = np.unique(window, return_inverse=True, return_counts=True)
        keys.append(uniq)
        counts.append(cnt.astype(np.int64))
        if k < order:
            prev_index = np.full(n_pos, -1, dtype=np.int64)
            prev_index[pos] = inverse.ravel()
        del window, inverse
    return CountTables(vocab_size=vocab_size, keys=keys, counts=counts)
