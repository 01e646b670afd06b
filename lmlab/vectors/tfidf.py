"""TF-IDF weighting, with the course formula as default and the usual variants as options.

Course (Jurafsky & Martin, SLP3 eq. 6.12-6.13), the defaults:

    tf(t, d) = log10(1 + count(t, d))        idf(t) = log10(N / df(t))        w = tf * idf

so a word that occurs in every document gets weight 0. Variants:

| option          | values                                                                     |
|-----------------|----------------------------------------------------------------------------|
| `tf`            | "log10" (course), "raw" (counts), "binary", "sublinear" (1 + ln c, c > 0)   |
| `idf`           | "log10" (course), "smooth" (ln((1+N)/(1+df)) + 1, scikit-learn's default), |
|                 | "plain" (ln(N/df) + 1, scikit-learn smooth_idf=False), "none"              |
| `norm`          | None (course), "l2", "l1"                                                  |

`TfidfVectorizer(tf="raw", idf="smooth", norm="l2")` equals scikit-learn's `TfidfVectorizer` on the
same tokens (tested). Both classes are scikit-learn estimators; outputs are CSR matrices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from lmlab.errors import NotFittedError, check_choice
from lmlab.vectors.bow import BagOfWords, Document, TextEstimator

__all__ = ["TfidfTransformer", "TfidfVectorizer"]

TF = Literal["log10", "raw", "binary", "sublinear"]
IDF = Literal["log10", "smooth", "plain", "none"]
NORM = Literal["l2", "l1"] | None


def idf_weights(df: np.ndarray, n_docs: int, kind: str) -> np.ndarray:
    """Inverse document frequency per column (df > 0 assumed; df = 0 gives 0)."""
    df = np.asarray(df, dtype=np.float64)
    safe = np.maximum(df, 1.0)
    if kind == "log10":
        return np.where(df > 0, np.log10(n_docs / safe), 0.0)
    if kind == "smooth":
        return np.log((1 + n_docs) / (1 + df)) + 1
    if kind == "plain":
        return np.where(df > 0, np.log(n_docs / safe) + 1, 0.0)
    return np.ones_like(df)


class TfidfTransformer(TransformerMixin, BaseEstimator):
    """Counts (n_docs, V) -> TF-IDF weights (CSR). `idf_` is learned by `fit`."""

    def __init__(self, *, tf: TF = "log10", idf: IDF = "log10", norm: NORM = None) -> None:
        self.tf = tf
        self.idf = idf
        self.norm = norm

    def fit(self, X, y=None) -> TfidfTransformer:
        check_choice("tf", self.tf, ("log10", "raw", "binary", "sublinear"))
        check_choice("idf", self.idf, ("log10", "smooth", "plain", "none"))
        check_choice("norm", self.norm, ("l2", "l1", None))
        X = sp.csr_matrix(X)
        df = np.diff(X.tocsc().indptr) if X.nnz else np.zeros(X.shape[1])
        self.n_docs_ = X.shape[0]
        self.idf_ = idf_weights(df, self.n_docs_, self.idf)
        return self

    def transform(self, X) -> sp.csr_matrix:
        if not hasattr(self, "idf_"):
            raise NotFittedError("TfidfTransformer is not fitted", fix="call .fit(counts) first")
        X = sp.csr_matrix(X, dtype=np.float64, copy=True)
        d = X.data
        if self.tf == "log10":
            X.data = np.log10(1 + d)
        elif self.tf == "binary":
            X.data = (d > 0).astype(np.float64)
        elif self.tf == "sublinear":
            X.data = 1 + np.log(d)
        X.data *= self.idf_[X.indices]
        if self.norm is not None:
            if self.norm == "l2":
                norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
            else:
                norms = np.asarray(abs(X).sum(axis=1)).ravel()
            X.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(X.indptr))
        X.eliminate_zeros()
        return X


class TfidfVectorizer(TextEstimator):
    """Documents -> TF-IDF (CSR): a `BagOfWords` followed by a `TfidfTransformer`.

    Args:
        tf, idf, norm: the weighting (module docstring; the defaults are the course's).
        lowercase, keep_punctuation, min_df, max_features, vocabulary: as `BagOfWords`.
    """

    def __init__(self, *, tf: TF = "log10", idf: IDF = "log10", norm: NORM = None,
                 lowercase: bool = True, keep_punctuation: bool = True, min_df: int = 1,
                 max_features: int | None = None, vocabulary: Sequence[str] | None = None) -> None:
        self.tf = tf
        self.idf = idf
        self.norm = norm
        self.lowercase = lowercase
        self.keep_punctuation = keep_punctuation
        self.min_df = min_df
        self.max_features = max_features
        self.vocabulary = vocabulary

    def fit_transform(self, docs: Iterable[Document], y=None) -> sp.csr_matrix:
        self.bow_ = BagOfWords(lowercase=self.lowercase, keep_punctuation=self.keep_punctuation,
                               min_df=self.min_df, max_features=self.max_features,
                               vocabulary=self.vocabulary)
        counts = self.bow_.fit_transform(docs)
        self.weighting_ = TfidfTransformer(tf=self.tf, idf=self.idf, norm=self.norm).fit(counts)
        self.vocabulary_ = self.bow_.vocabulary_
        self.idf_ = self.weighting_.idf_
        return self.weighting_.transform(counts)

    def transform(self, docs: Iterable[Document]) -> sp.csr_matrix:
        if not hasattr(self, "bow_"):
            raise NotFittedError("TfidfVectorizer is not fitted", fix="call .fit(documents) first")
        return self.weighting_.transform(self.bow_.transform(docs))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.bow_.feature_names_
