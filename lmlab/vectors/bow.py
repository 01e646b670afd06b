"""Bag of words: documents -> sparse count (or presence) vectors over a learned vocabulary.

    >>> bow = BagOfWords().fit(["El perro se comió la tarea del niño."])
    >>> bow.transform(["El niño se comió la tarea del perro."]).toarray()   # same vector: order is lost

A scikit-learn estimator (`fit`, `transform`, `fit_transform`, `get_params`; works in Pipelines),
after `sklearn.feature_extraction.text.CountVectorizer` (Jurafsky & Martin, SLP3 ch. 4 and 6.3).
Notable choices:

- words come from `lmlab.text.words.tokenize` (¿ ¡ and punctuation are tokens of their own;
  `keep_punctuation=False` drops them), lower-cased by default; documents may also be token lists;
- the vocabulary is sorted alphabetically (as scikit-learn), after `min_df`/`max_features` cuts;
- the CSR matrix is built directly: one int64 key doc * V + word per token, `np.unique` with
  counts gives the sorted (row, column, count) triplets and `np.bincount` the indptr.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from lmlab.errors import ConfigError, DataError, NotFittedError

__all__ = ["BagOfWords", "TextEstimator", "analyze"]

Document = str | Sequence[str]


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PS" for ch in token)


def analyze(doc: Document, *, lowercase: bool = True, keep_punctuation: bool = True) -> list[str]:
    """One document -> its tokens (strings are tokenised with `lmlab.text.words.tokenize`)."""
    if isinstance(doc, str):
        from lmlab.text.words import tokenize

        tokens = tokenize(doc)
    elif isinstance(doc, Sequence):
        tokens = list(doc)
    else:
        raise DataError(f"a document must be a string or a list of tokens, got {type(doc).__name__}",
                        fix="pass texts or token lists")
    if lowercase:
        tokens = [t.lower() for t in tokens]
    if not keep_punctuation:
        tokens = [t for t in tokens if not _is_punct(t)]
    return tokens


def doc_term_csr(token_ids: list[np.ndarray], n_cols: int, *, binary: bool = False,
                 dtype=np.float64) -> sp.csr_matrix:
    """(n_docs, n_cols) CSR of term counts from per-document id arrays (negative ids dropped)."""
    lengths = np.array([len(a) for a in token_ids], dtype=np.int64)
    ids = np.concatenate(token_ids) if token_ids else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(token_ids), dtype=np.int64), lengths)
    keep = ids >= 0
    keys, counts = np.unique(rows[keep] * n_cols + ids[keep], return_counts=True)
    r, c = keys // n_cols, keys % n_cols
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=len(token_ids)))])
    data = np.ones_like(counts) if binary else counts
    return sp.csr_matrix((data.astype(dtype), c.astype(np.int32), indptr), shape=(len(token_ids), n_cols))


class TextEstimator(TransformerMixin, BaseEstimator):
    """Shared parts of the estimators that read documents: tokenising, and `fit` via `fit_transform`.

    Subclasses set `lowercase` and `keep_punctuation` and implement `fit_transform`.
    """

    lowercase: bool
    keep_punctuation: bool

    def _tokens(self, docs: Iterable[Document]) -> list[list[str]]:
        if isinstance(docs, str):
            raise DataError("fit/transform take a list of documents, got one string",
                            fix="wrap it in a list: [text]")
        return [analyze(d, lowercase=self.lowercase, keep_punctuation=self.keep_punctuation)
                for d in docs]

    def fit(self, docs: Iterable[Document], y=None):
        """Learn from documents (strings or token lists); returns self."""
        self.fit_transform(docs)
        return self


class BagOfWords(TextEstimator):
    """Count (or binary) document-term matrices.

    Args:
        binary: 1 for presence instead of counts.
        lowercase: lower-case tokens.
        keep_punctuation: keep punctuation tokens.
        min_df: keep words in at least this many documents.
        max_features: keep the most frequent words only (by total count, ties alphabetical).
        vocabulary: a fixed vocabulary (word list) instead of a learned one.
    Fitted attributes: `vocabulary_` (word -> column), `feature_names_` (column -> word),
    `document_frequency_` (documents containing each word).
    """

    def __init__(self, *, binary: bool = False, lowercase: bool = True, keep_punctuation: bool = True,
                 min_df: int = 1, max_features: int | None = None,
                 vocabulary: Sequence[str] | None = None) -> None:
        self.binary = binary
        self.lowercase = lowercase
        self.keep_punctuation = keep_punctuation
        self.min_df = min_df
        self.max_features = max_features
        self.vocabulary = vocabulary

    def fit_transform(self, docs: Iterable[Document], y=None) -> sp.csr_matrix:
        if self.min_df < 1:
            raise ConfigError(f"min_df={self.min_df} is out of range", fix="use min_df >= 1")
        tokenized = self._tokens(docs)
        if self.vocabulary is not None:
            words = list(dict.fromkeys(self.vocabulary))
        else:
            provisional: dict[str, int] = {}
            ids = [np.array([provisional.setdefault(t, len(provisional)) for t in doc], dtype=np.int64)
                   for doc in tokenized]
            counts = doc_term_csr(ids, len(provisional))
            df = np.diff(counts.tocsc().indptr)
            total = np.asarray(counts.sum(axis=0)).ravel()
            names = np.array(list(provisional), dtype=object)
            keep = np.flatnonzero(df >= self.min_df)
            if self.max_features is not None:
                order = sorted(keep.tolist(), key=lambda i: (-total[i], names[i]))
                keep = np.array(order[: self.max_features], dtype=np.int64)
            if len(keep) == 0:
                raise DataError("the vocabulary is empty (no word passes min_df / max_features)",
                                fix="pass more documents or lower min_df")
            words = sorted(names[keep].tolist())
        self.feature_names_ = np.array(words, dtype=object)
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        X = self._transform_tokens(tokenized)
        self.document_frequency_ = np.diff(X.tocsc().indptr)
        return X

    def _transform_tokens(self, tokenized: list[list[str]]) -> sp.csr_matrix:
        get = self.vocabulary_.get
        ids = [np.array([get(t, -1) for t in doc], dtype=np.int64) for doc in tokenized]
        return doc_term_csr(ids, len(self.vocabulary_), binary=self.binary)

    def transform(self, docs: Iterable[Document]) -> sp.csr_matrix:
        """Documents -> (n_docs, V) CSR counts; unknown words are ignored."""
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("BagOfWords is not fitted", fix="call .fit(documents) first")
        return self._transform_tokens(self._tokens(docs))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_
