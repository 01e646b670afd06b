from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.apps.rag import BM25, analyze

CORPUS = [
    "Francia es un país de Europa. Su capital es París.",
    "Perú es un país de América; su capital es Lima y se habla español.",
    "Las canciones de cuna se cantan a los niños.",
    "El niño canta una canción en España, y otra canción en Perú.",
    "Lima, Lima, Lima: la capital del Perú.",
]
QUERIES = ["¿Cuál es la capital del Perú?", "canción de los niños", "país de Europa", "Lima Lima", "nada"]


def test_analyser_folds_accents_keeps_ene_drops_stop_words_and_stems():
    assert analyze("¿Dónde nacieron las canciones?") == ["nac", "cancion"]
    assert analyze("El AÑO del Niño, en España") == ["año", "niñ", "españ"]
    assert analyze("Canción cancion CANCIONES") == ["cancion"] * 3
    assert analyze("¿Dónde nacieron las canciones?", "plain") == ["dónde", "nacieron", "las", "canciones"]


def test_scores_match_the_formula_by_hand():
    docs = [["a", "b", "a"], ["b"], ["c", "c"]]
    bm = BM25(k1=1.2, b=0.75).fit(docs)
    n, avgdl = 3, 2.0
    idf_a = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))
    idf_b = math.log(1 + (n - 2 + 0.5) / (2 + 0.5))
    def tfc(tf, dl):
        return tf / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))
    expected = [idf_a * tfc(2, 3) + idf_b * tfc(1, 3), idf_b * tfc(1, 1), 0.0]
    np.testing.assert_allclose(bm.scores(["a", "b", "zzz"]), expected, rtol=1e-6)


@pytest.mark.parametrize("analyzer", ["spanish", "plain"])
@pytest.mark.parametrize(("k1", "b"), [(1.5, 0.75), (0.9, 0.4)])
def test_scores_equal_bm25s_lucene_on_the_same_tokens(analyzer, k1, b):
    bm25s = pytest.importorskip("bm25s")
    tokens = [analyze(t, analyzer) for t in CORPUS]
    ours = BM25(k1, b).fit(tokens)
    ref = bm25s.BM25(k1=k1, b=b, method="lucene")
    ref.index(tokens, show_progress=False)
    for q in QUERIES:
        qt = analyze(q, analyzer)
        known = [t for t in qt if t in ref.vocab_dict]
        expected = ref.get_scores(known) if known else np.zeros(len(CORPUS))
        np.testing.assert_allclose(ours.scores(qt), expected, rtol=1e-5, atol=1e-6)


def test_round_trip_through_arrays():
    bm = BM25().fit([analyze(t) for t in CORPUS])
    again = BM25.from_arrays(bm.arrays(), bm.terms(), bm.k1, bm.b)
    q = analyze(QUERIES[0])
    np.testing.assert_array_equal(bm.scores(q), again.scores(q))
