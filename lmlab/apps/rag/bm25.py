"""Okapi BM25 by hand, the Lucene variant (the default of `bm25s`, Kamphuis et al. 2020):

    score(q, d) = sum over query terms t (repeats counted) of
                  idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

N documents, |d| the document's term count, avgdl the mean. Terms missing from the index add 0.
The postings are kept as CSR arrays (term -> documents, term frequencies), so the index saves
as plain arrays and a query costs the postings of its terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from lmlab.errors import ModelFormatError, check_range


class BM25:
    """BM25 over pre-analysed documents (lists of terms).

    Attributes:
        vocab: term -> row of the postings.
        indptr: (V + 1,) int64; postings of term t are `doc_ids[indptr[t]:indptr[t+1]]`.
        doc_ids: (P,) int32 document rows; tfs: (P,) float32 term frequencies.
        doc_len: (N,) float32 terms per document.
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = check_range("k1", k1, 0)
        self.b = check_range("b", b, 0, 1)
        self.vocab: dict[str, int] = {}
        self.indptr = np.zeros(1, np.int64)
        self.doc_ids = np.zeros(0, np.int32)
        self.tfs = np.zeros(0, np.float32)
        self.doc_len = np.zeros(0, np.float32)

    @property
    def n_docs(self) -> int:
        return len(self.doc_len)

    def fit(self, corpus: Sequence[Sequence[str]]) -> BM25:
        """Index documents given as term lists; returns self."""
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, terms in enumerate(corpus):
            for t, c in Counter(terms).items():
                postings.setdefault(t, []).append((i, c))
        terms_sorted = sorted(postings)
        self.vocab = {t: i for i, t in enumerate(terms_sorted)}
        lengths = [len(postings[t]) for t in terms_sorted]
        self.indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
        flat = [p for t in terms_sorted for p in postings[t]]
        self.doc_ids = np.array([p[0] for p in flat], np.int32)
        self.tfs = np.array([p[1] for p in flat], np.float32)
        self.doc_len = np.array([len(terms) for terms in corpus], np.float32)
        return self

    def idf(self, df: np.ndarray | float) -> np.ndarray:
        n = self.n_docs
        return np.log1p((n - np.asarray(df, np.float64) + 0.5) / (np.asarray(df, np.float64) + 0.5))

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """(N,) float32 BM25 score of every document for the query terms."""
        out = np.zeros(self.n_docs, np.float64)
        if not self.n_docs:
            return out.astype(np.float32)
        avgdl = float(self.doc_len.mean()) or 1.0
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / avgdl)
        for t in query:
            row = self.vocab.get(t)
            if row is None:
                continue
            a, z = self.indptr[row], self.indptr[row + 1]
            docs, tf = self.doc_ids[a:z], self.tfs[a:z].astype(np.float64)
            out[docs] += self.idf(z - a) * tf / (tf + norm[docs])
        return out.astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as arrays (the vocabulary goes separately, as a term list in row order)."""
        return {"bm25.indptr": self.indptr, "bm25.doc_ids": self.doc_ids, "bm25.tfs": self.tfs,
                "bm25.doc_len": self.doc_len}

    def terms(self) -> list[str]:
        return sorted(self.vocab, key=self.vocab.__getitem__)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], terms: list[str], k1: float, b: float,
                    where: str = "") -> BM25:
        bm = cls(k1, b)
        try:
            bm.indptr, bm.doc_ids = arrays["bm25.indptr"], arrays["bm25.doc_ids"]
            bm.tfs, bm.doc_len = arrays["bm25.tfs"], arrays["bm25.doc_len"]
        except KeyError as exc:
            raise ModelFormatError(f"the BM25 array {exc.args[0]} is missing", where=where,
                                   fix="rebuild the index with `lmlab rag index`") from exc
        if len(bm.indptr) != len(terms) + 1:
            raise ModelFormatError("the BM25 vocabulary does not match its postings", where=where,
                                   fix="rebuild the index with `lmlab rag index`")
        bm.vocab = {t: i for i, t in enumerate(terms)}
        return bm
