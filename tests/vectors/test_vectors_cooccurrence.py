"""Co-occurrence, PPMI and LSA: hand-computed tables and cosines, scikit-learn equivalence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.errors import ConfigError, NotFittedError
from lmlab.vectors.cooccurrence import LSA, PPMI, CooccurrenceVectorizer, to_word_vectors
from lmlab.vectors.similarity import cosine_similarity

SENTS = ["el perro come pan", "el gato come pescado"]


def cell(vec, X, a, b):
    return X[vec.vocabulary_[a], vec.vocabulary_[b]]


def test_window_one_table_and_cosines_by_hand():
    vec = CooccurrenceVectorizer(window=1)
    X = vec.fit_transform(SENTS)
    assert list(vec.get_feature_names_out()) == ["come", "el", "gato", "pan", "perro", "pescado"]
    # neighbours at distance 1:  perro: {el, come}  gato: {el, come}  come: {perro, pan, gato, pescado}
    dense = X.toarray()
    np.testing.assert_array_equal(dense, dense.T)  # "both" is symmetric
    assert cell(vec, X, "perro", "el") == 1 and cell(vec, X, "come", "pan") == 1
    assert cell(vec, X, "el", "come") == 0  # distance 2: outside the window
    assert cell(vec, X, "pan", "el") == 0   # never across sentences
    cos = cosine_similarity(X)
    i = vec.vocabulary_
    # perro = (come 1, el 1), gato = (come 1, el 1): cos = 2 / (sqrt 2 * sqrt 2) = 1
    assert cos[i["perro"], i["gato"]] == pytest.approx(1.0)
    # perro . come = 0 (come's contexts are perro, pan, gato, pescado): cos = 0
    assert cos[i["perro"], i["come"]] == 0
    # el = (perro 1, gato 1), come = (perro 1, gato 1, pan 1, pescado 1): 2 / (sqrt 2 * 2) = 0.7071
    assert cos[i["el"], i["come"]] == pytest.approx(2 / (math.sqrt(2) * 2))


def test_window_two_directional_and_harmonic():
    right = CooccurrenceVectorizer(window=2, direction="right", weighting="harmonic")
    R = right.fit_transform(SENTS)
    assert cell(right, R, "el", "come") == pytest.approx(2 * 0.5)  # twice, at distance 2: 1/2 each
    assert cell(right, R, "el", "perro") == 1 and cell(right, R, "perro", "el") == 0
    left = CooccurrenceVectorizer(window=2, direction="left", weighting="harmonic").fit_transform(SENTS)
    np.testing.assert_allclose(left.toarray(), R.toarray().T)
    both = CooccurrenceVectorizer(window=2, weighting="harmonic").fit_transform(SENTS)
    np.testing.assert_allclose(both.toarray(), R.toarray() + R.toarray().T)


def test_slp3_cosines_hand_computed():
    # SLP3 fig. 6.6/6.7 counts over contexts (pie, data, computer):
    cherry, digital, information = [442, 8, 2], [5, 1683, 1670], [5, 3982, 3325]
    cos = cosine_similarity(np.array([cherry, digital, information], dtype=float))
    # cherry.information = 442*5 + 8*3982 + 2*3325 = 2210 + 31856 + 6650 = 40716
    # |cherry| = sqrt(442^2 + 8^2 + 2^2) = 442.0769; |information| = sqrt(5^2 + 3982^2 + 3325^2) = 5187.6
    assert cos[0, 2] == pytest.approx(40716 / (442.0769 * 5187.6), rel=1e-4)
    assert round(cos[0, 2], 3) == 0.018
    # digital.information = 25 + 6701706 + 5552750 = 12254481; |digital| = 2370.9 -> .996
    assert round(cos[1, 2], 3) == 0.996


def test_ppmi_hand_computed():
    # counts (rows: words, columns: contexts); total 10
    X = np.array([[4.0, 0.0], [2.0, 4.0]])
    W = PPMI(alpha=1.0).fit_transform(X).toarray()
    # P(w0,c0) = .4, P(w0) = .4, P(c0) = .6 -> log2(.4 / (.4 * .6)) = log2(5/3)
    assert W[0, 0] == pytest.approx(math.log2(0.4 / (0.4 * 0.6)))
    # P(w1,c0) = .2, P(w1) = .6, P(c0) = .6 -> log2(.2/.36) < 0 -> 0
    assert W[1, 0] == 0 and W[0, 1] == 0
    assert W[1, 1] == pytest.approx(math.log2(0.4 / (0.6 * 0.4)))
    # alpha = .75 raises rare contexts' probability: P_a(c1) = 4^.75 / (6^.75 + 4^.75)
    Wa = PPMI().fit_transform(X).toarray()
    pc1 = 4**0.75 / (6**0.75 + 4**0.75)
    assert Wa[1, 1] == pytest.approx(math.log2(0.4 / (0.6 * pc1)))


def test_lsa_equals_sklearn_truncated_svd():
    from sklearn import decomposition
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(30, 12)).astype(float)
    ours = LSA(n_components=4)
    Z = ours.fit_transform(X)
    ref = decomposition.TruncatedSVD(4, algorithm="arpack").fit(X)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(Z), np.abs(ref.transform(X)), atol=1e-8)
    np.testing.assert_allclose(ours.transform(X), Z, atol=1e-8)
    with pytest.raises(ConfigError):
        LSA(n_components=12).fit(X)


def test_pipeline_to_word_vectors():
    sents = ["el perro come pan", "el gato come pescado", "un perro bebe agua", "un gato bebe leche",
             "el niño come pan", "la niña bebe leche"] * 3
    vec = CooccurrenceVectorizer(window=2)
    W = PPMI().fit_transform(vec.fit_transform(sents))
    words = to_word_vectors(vec.get_feature_names_out(), LSA(n_components=5).fit_transform(W))
    assert words.most_similar("perro", topn=1)[0][0] in {"gato", "niño"}
    with pytest.raises(NotFittedError):
        CooccurrenceVectorizer().transform(sents)
    with pytest.raises(ConfigError):
        CooccurrenceVectorizer(window=0).fit(sents)
