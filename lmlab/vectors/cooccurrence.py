"""Co-occurrence matrices, PPMI and truncated SVD (LSA): count-based word vectors.

    X = CooccurrenceVectorizer(window=2).fit_transform(sentences)   # (V, V) word-word counts
    W = PPMI().fit_transform(X)                                     # positive PMI, CSR
    vecs = LSA(n_components=100).fit_transform(W)                   # (V, 100) dense
    words = to_word_vectors(vocabulary, vecs)                       # nearest neighbours, analogies

Jurafsky & Martin, SLP3 ch. 6.3 (term-document and word-word matrices), 6.6 (PPMI, with the
context-distribution smoothing alpha = 0.75 of Levy, Goldberg & Dagan 2015), and Deerwester et al.
(1990) for LSA. The document-word matrix is `BagOfWords` (its transpose is the term-document one).
Notable choices:

- windows never cross documents; `direction` "both" counts a context on either side (symmetric
  matrix), "right"/"left" only after/before the target word (directional);
- `weighting="harmonic"` weighs a context at distance d by 1/d (as GloVe); "none" counts 1;
- counting is vectorised: one int64 key row * V + column per (word, context) pair, `np.unique`
  and `np.bincount` with the weights give the CSR arrays directly;
- PPMI touches only the non-zero cells (a zero count has PMI -inf, so PPMI 0): it stays sparse;
- LSA signs are made deterministic (the largest loading of each component is positive).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from lmlab.errors import ConfigError, DataError, NotFittedError, check_choice, check_range
from lmlab.vectors.bow import Document, TextEstimator

__all__ = ["LSA", "PPMI", "CooccurrenceVectorizer", "to_word_vectors"]


def _csr_from_pairs(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n: int) -> sp.csr_matrix:
    keys, inverse = np.unique(rows * n + cols, return_inverse=True)
    data = np.bincount(inverse.ravel(), weights=weights, minlength=len(keys))
    r = keys // n
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))])
    return sp.csr_matrix((data, (keys % n).astype(np.int32), indptr), shape=(n, n))


class CooccurrenceVectorizer(TextEstimator):
    """Word-word co-occurrence counts within a window.

    Args:
        window: contexts up to this many tokens away (>= 1).
        direction: "both" (symmetric), "right" (contexts after the word), "left" (before).
        weighting: "none" (1 per co-occurrence) or "harmonic" (1/distance).
        lowercase, keep_punctuation: as `BagOfWords`.
        min_count: keep words seen at least this many times.
        max_features: keep the most frequent words only.
    Fitted: `vocabulary_` (word -> row/column), `feature_names_`, `word_counts_`.
    """

    def __init__(self, *, window: int = 2, direction: Literal["both", "right", "left"] = "both",
                 weighting: Literal["none", "harmonic"] = "none", lowercase: bool = True,
                 keep_punctuation: bool = True, min_count: int = 1,
                 max_features: int | None = None) -> None:
        self.window = window
        self.direction = direction
        self.weighting = weighting
        self.lowercase = lowercase
        self.keep_punctuation = keep_punctuation
        self.min_count = min_count
        self.max_features = max_features

    def fit_transform(self, docs: Iterable[Document], y=None) -> sp.csr_matrix:
        if not isinstance(self.window, int) or self.window < 1:
            raise ConfigError(f"window={self.window!r} is out of range", fix="use an integer >= 1")
        check_choice("direction", self.direction, ("both", "right", "left"))
        check_choice("weighting", self.weighting, ("none", "harmonic"))
        check_range("min_count", self.min_count, 1)
        tokenized = self._tokens(docs)
        words, counts = np.unique(np.array([t for d in tokenized for t in d], dtype=object),
                                  return_counts=True)
        keep = np.flatnonzero(counts >= self.min_count)
        if self.max_features is not None:
            keep = keep[np.argsort(-counts[keep], kind="stable")[: self.max_features]]
            keep.sort()
        if len(keep) == 0:
            raise DataError("the vocabulary is empty", fix="pass more text or lower min_count")
        self.feature_names_ = words[keep]
        self.word_counts_ = counts[keep]
        self.vocabulary_ = {w: i for i, w in enumerate(self.feature_names_.tolist())}
        return self._count(tokenized)

    def transform(self, docs: Iterable[Document]) -> sp.csr_matrix:
        """Co-occurrence counts of new documents over the fitted vocabulary, (V, V) CSR."""
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("CooccurrenceVectorizer is not fitted", fix="call .fit(documents) first")
        return self._count(self._tokens(docs))

    def _count(self, tokenized: list[list[str]]) -> sp.csr_matrix:
        get, n, w = self.vocabulary_.get, len(self.vocabulary_), self.window
        # documents joined with `window` separators (-1), so no window crosses a document;
        # out-of-vocabulary words keep their position (distances stay true) but never count
        parts = []
        for doc in tokenized:
            parts.append(np.array([get(t, -1) for t in doc], dtype=np.int64))
            parts.append(np.full(w, -1, dtype=np.int64))
        stream = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows, cols, weights = [], [], []
        for d in range(1, w + 1):
            a, b = stream[:-d], stream[d:]
            ok = (a >= 0) & (b >= 0)
            a, b = a[ok], b[ok]
            wt = np.full(len(a), 1.0 if self.weighting == "none" else 1.0 / d)
            if self.direction in ("both", "right"):
                rows.append(a), cols.append(b), weights.append(wt)
            if self.direction in ("both", "left"):
                rows.append(b), cols.append(a), weights.append(wt)
        return _csr_from_pairs(np.concatenate(rows), np.concatenate(cols), np.concatenate(weights), n)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_


class PPMI(TransformerMixin, BaseEstimator):
    """Positive pointwise mutual information of a (words, contexts) count matrix.

        PPMI(w, c) = max(0, log2( P(w, c) / (P(w) P_alpha(c)) )),
        P_alpha(c) = count(c)^alpha / sum_c' count(c')^alpha     (alpha = 1: plain PPMI)

    `fit` learns the marginals; `transform` applies them (CSR in, CSR out).
    """

    def __init__(self, *, alpha: float = 0.75) -> None:
        self.alpha = alpha

    def fit(self, X, y=None) -> PPMI:
        check_range("alpha", self.alpha, 0, 1, low_open=True)
        X = sp.csr_matrix(X, dtype=np.float64)
        self.total_ = float(X.sum())
        if self.total_ <= 0:
            raise DataError("the co-occurrence matrix is empty", fix="count more text")
        col = np.asarray(X.sum(axis=0)).ravel() ** self.alpha
        self.p_context_ = col / col.sum()
        self.p_word_ = np.asarray(X.sum(axis=1)).ravel() / self.total_
        return self

    def transform(self, X) -> sp.csr_matrix:
        if not hasattr(self, "total_"):
            raise NotFittedError("PPMI is not fitted", fix="call .fit(counts) first")
        X = sp.csr_matrix(X, dtype=np.float64, copy=True)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        with np.errstate(divide="ignore"):
            pmi = np.log2((X.data / self.total_) / (self.p_word_[rows] * self.p_context_[X.indices]))
        X.data = np.maximum(pmi, 0.0)
        X.eliminate_zeros()
        return X


class LSA(TransformerMixin, BaseEstimator):
    """Truncated SVD X ~ U S V^T (latent semantic analysis); rows -> U S, (n, n_components).

    Uses the exact sparse solver `scipy.sparse.linalg.svds` (ARPACK), so results equal
    scikit-learn's `TruncatedSVD(algorithm="arpack")` up to signs. Fitted: `components_` (k, d),
    `singular_values_` (k,), largest first.
    """

    def __init__(self, n_components: int = 100, *, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None) -> LSA:
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        from scipy.sparse.linalg import svds

        X = sp.csr_matrix(X, dtype=np.float64)
        k = self.n_components
        if not isinstance(k, int) or not 1 <= k < min(X.shape):
            raise ConfigError(f"n_components={k!r} is out of range for a {X.shape} matrix",
                              fix=f"use 1 <= n_components < {min(X.shape)}")
        v0 = np.random.default_rng(self.random_state).uniform(-1, 1, min(X.shape))
        u, s, vt = svds(X, k=k, v0=v0)
        order = np.argsort(-s)
        u, s, vt = u[:, order], s[order], vt[order]
        signs = np.sign(vt[np.arange(k), np.abs(vt).argmax(axis=1)])
        u, vt = u * signs, vt * signs[:, None]
        self.components_, self.singular_values_ = vt, s
        return u * s

    def transform(self, X) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise NotFittedError("LSA is not fitted", fix="call .fit(matrix) first")
        return np.asarray(sp.csr_matrix(X, dtype=np.float64) @ self.components_.T)


def to_word_vectors(words: Sequence[str], vectors, counts=None):
    """Rows of a word matrix as `lmlab.vectors.keyed.WordVectors` (most_similar, analogies ...)."""
    from lmlab.vectors.keyed import WordVectors

    dense = vectors.toarray() if sp.issparse(vectors) else np.asarray(vectors)
    return WordVectors(list(words), dense.astype(np.float32), counts)
