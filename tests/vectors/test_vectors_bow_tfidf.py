"""Bag of words and TF-IDF: the course examples, hand-computed weights, scikit-learn equivalence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from lmlab.errors import ConfigError, DataError, NotFittedError
from lmlab.vectors.bow import BagOfWords, analyze
from lmlab.vectors.tfidf import TfidfTransformer, TfidfVectorizer

PERRO = "El perro se comió la tarea del niño."
NINO = "El niño se comió la tarea del perro."
DOCS = ["el perro come pan", "el gato come pescado", "el niño come pan y pan",
        "¿ quién se comió la tarea del niño ?"]


def test_course_example_identical_bags():
    bow = BagOfWords()
    X = bow.fit_transform([PERRO, NINO])
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64
    np.testing.assert_array_equal(X[0].toarray(), X[1].toarray())
    assert list(bow.get_feature_names_out()) == [".", "comió", "del", "el", "la", "niño", "perro",
                                                 "se", "tarea"]
    assert X[0].sum() == 9


def test_counts_binary_cutoffs_and_unknown_words():
    bow = BagOfWords(keep_punctuation=False).fit(DOCS)
    X = bow.transform(["pan pan pan ornitorrinco ¿", ["El", "gato"]])
    pan, gato, el = (bow.vocabulary_[w] for w in ("pan", "gato", "el"))
    assert X[0, pan] == 3 and X[0].sum() == 3 and X[1, gato] == 1 and X[1, el] == 1
    assert BagOfWords(binary=True).fit(DOCS).transform(["pan pan"]).sum() == 1
    small = BagOfWords(min_df=2).fit(DOCS)
    assert sorted(small.vocabulary_) == ["come", "el", "niño", "pan"]  # in >= 2 documents
    top = BagOfWords(max_features=2).fit(DOCS)
    assert sorted(top.vocabulary_) == ["come", "el"]  # come, el, pan: 3 each; ties alphabetical
    assert analyze("¡Hola, Mundo!", keep_punctuation=False) == ["hola", "mundo"]


def test_bow_equals_sklearn_count_vectorizer():
    from sklearn.feature_extraction import text
    ref = text.CountVectorizer(analyzer=analyze).fit([*DOCS, PERRO])
    ours = BagOfWords().fit([*DOCS, PERRO])
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    np.testing.assert_array_equal(ours.transform(DOCS).toarray(), ref.transform(DOCS).toarray())


def test_course_tfidf_hand_computed():
    X = TfidfVectorizer().fit_transform(DOCS)
    v = TfidfVectorizer().fit(DOCS)
    col = v.vocabulary_
    # "pan": df = 2 of N = 4 docs -> idf = log10(4/2); doc 3 has it twice -> tf = log10(1 + 2)
    assert X[2, col["pan"]] == pytest.approx(math.log10(3) * math.log10(2))
    # "come" in 3 of 4 docs: tf = log10(2), idf = log10(4/3)
    assert X[0, col["come"]] == pytest.approx(math.log10(2) * math.log10(4 / 3))
    # a word in every document gets weight 0: add "el"-like "x" to all docs
    Y = TfidfVectorizer().fit([d + " x" for d in DOCS])
    assert Y.transform(["x x"]).nnz == 0


@pytest.mark.parametrize("sublinear", [False, True])
@pytest.mark.parametrize("smooth", [True, False])
def test_sklearn_variant_equals_sklearn(smooth, sublinear):
    from sklearn.feature_extraction import text
    ref = text.TfidfVectorizer(analyzer=analyze, smooth_idf=smooth, sublinear_tf=sublinear)
    ours = TfidfVectorizer(tf="sublinear" if sublinear else "raw", idf="smooth" if smooth else "plain",
                           norm="l2")
    np.testing.assert_allclose(ours.fit_transform(DOCS).toarray(), ref.fit_transform(DOCS).toarray(),
                               atol=1e-12)
    np.testing.assert_allclose(ours.transform([PERRO]).toarray(), ref.transform([PERRO]).toarray(),
                               atol=1e-12)
    np.testing.assert_allclose(ours.idf_, ref.idf_)


def test_pipeline_and_clone():
    from sklearn import pipeline
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    docs = ["me encanta esta película", "qué película tan buena", "odio esta película",
            "qué película tan mala", "buena y divertida", "mala y aburrida"]
    y = [1, 1, 0, 0, 1, 0]
    model = pipeline.make_pipeline(TfidfVectorizer(norm="l2"), LogisticRegression(C=100))
    model.fit(docs, y)
    assert list(model.predict(["muy buena", "muy mala"])) == [1, 0]
    assert clone(TfidfVectorizer(tf="raw")).get_params()["tf"] == "raw"
    l1 = TfidfTransformer(tf="binary", idf="none", norm="l1").fit_transform(BagOfWords().fit_transform(docs))
    np.testing.assert_allclose(np.asarray(l1.sum(axis=1)).ravel(), 1.0)


def test_errors():
    with pytest.raises(NotFittedError):
        BagOfWords().transform(DOCS)
    with pytest.raises(NotFittedError):
        TfidfVectorizer().transform(DOCS)
    with pytest.raises(DataError, match="list of documents"):
        BagOfWords().fit("un solo texto")
    with pytest.raises(DataError, match="empty"):
        BagOfWords(min_df=5).fit(DOCS)
    with pytest.raises(ConfigError, match="tf="):
        TfidfVectorizer(tf="double").fit(DOCS)
