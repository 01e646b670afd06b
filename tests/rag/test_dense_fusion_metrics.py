from __future__ import annotations

import numpy as np
import pytest

from lmlab.apps.rag import reciprocal_rank_fusion
from lmlab.apps.rag.dense import numpy_search, search
from lmlab.errors import DataError
from lmlab.metrics.retrieval import (
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    retrieval_scores,
    unique_in_order,
)


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_faiss_and_numpy_exact_search_agree():
    import faiss  # noqa: F401  (a dependency: an import error must fail)
    rng = np.random.default_rng(0)
    vectors, queries = _unit(rng.normal(size=(300, 32))), _unit(rng.normal(size=(7, 32)))
    s1, r1 = search(vectors, queries, 10, backend="faiss")
    s2, r2 = numpy_search(vectors, queries, 10)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-6)


def test_numpy_search_is_exact():
    rng = np.random.default_rng(1)
    vectors, q = _unit(rng.normal(size=(50, 8))), _unit(rng.normal(size=(1, 8)))
    scores, rows = numpy_search(vectors, q, 3)
    full = (vectors @ q[0])
    assert list(rows[0]) == list(np.argsort(-full)[:3])
    np.testing.assert_allclose(scores[0], np.sort(full)[::-1][:3], rtol=1e-6)
    assert numpy_search(vectors, q, 500)[1].shape == (1, 50)


def test_reciprocal_rank_fusion():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]], k=60)
    scores = dict(fused)
    assert [d for d, _ in fused] == ["b", "c", "a", "d"]
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["d"] == pytest.approx(1 / 63)


def test_retrieval_metrics():
    ranking = ["d3", "d1", "d2"]
    assert recall_at_k(ranking, {"d1", "d2"}, 2) == 0.5
    assert recall_at_k(ranking, {"d1", "d2"}, 10) == 1.0
    assert reciprocal_rank(ranking, {"d2"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranking, {"x"}) == 0.0
    assert ndcg_at_k(["d1"], {"d1"}, 10) == 1.0
    assert ndcg_at_k(["x", "d1"], {"d1"}, 10) == pytest.approx(1 / np.log2(3))
    assert unique_in_order(["a", "a", "b"]) == ["a", "b"]
    s = retrieval_scores([["a", "b"], ["c", "a"]], [{"a"}, {"a"}])
    assert s["recall@1"] == 0.5 and s["mrr"] == 0.75 and s["n"] == 2
    with pytest.raises(DataError, match="no relevant"):
        recall_at_k(ranking, set(), 1)


def test_hnsw_recall_against_exact():
    import faiss  # noqa: F401  (a dependency: an import error must fail)

    from lmlab.apps.rag.dense import build_faiss, faiss_search

    rng = np.random.default_rng(2)
    vectors, queries = _unit(rng.normal(size=(2000, 16))), _unit(rng.normal(size=(50, 16)))
    _, exact = numpy_search(vectors, queries, 10)
    _, approx = faiss_search(build_faiss(vectors, "hnsw"), queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9


def test_answer_metrics():
    from lmlab.metrics.retrieval import exact_match, normalize_answer, token_f1

    assert normalize_answer("¡La Ciudad de París!") == ["ciudad", "de", "parís"]
    assert exact_match("la ciudad de París.", ["Ciudad de París", "x"]) == 1.0
    assert exact_match("París", ["Lima"]) == 0.0
    assert token_f1("en París, Francia", ["París"]) == pytest.approx(0.5)
    assert token_f1("París", ["Lima", "París"]) == 1.0 and token_f1("", ["x"]) == 0.0
