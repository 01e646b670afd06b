"""Retrieval metrics over ranked lists of ids: recall@k, reciprocal rank, nDCG@k.

A ranking is a sequence of ids, best first; `relevant` is the set of ids that answer the query.
Chunked indexes return chunk hits; `unique_in_order` turns them into a ranking of documents (each
document at the rank of its best chunk), so the metrics are per document whatever the chunking.
Binary relevance throughout (Manning et al. 2008, ch. 8; Järvelin & Kekäläinen 2002 for nDCG).

    >>> recall_at_k(["d2", "d1", "d3"], {"d1"}, 1), recall_at_k(["d2", "d1", "d3"], {"d1"}, 2)
    (0.0, 1.0)
    >>> reciprocal_rank(["d2", "d1"], {"d1"})
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

from lmlab.errors import DataError, check_range


def unique_in_order(ids: Iterable[Hashable]) -> list[Hashable]:
    """The ids without repeats, each at its first position (chunk hits -> document ranking).

    >>> unique_in_order(["a", "b", "a", "c", "b"])
    ['a', 'b', 'c']
    """
    return list(dict.fromkeys(ids))


def _check(relevant: Iterable[Hashable]) -> set[Hashable]:
    rel = set(relevant)
    if not rel:
        raise DataError("a query has no relevant ids", fix="give each query at least one relevant document id")
    return rel


def recall_at_k(ranking: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    """Share of the relevant ids found in the first `k` of `ranking` (in [0, 1])."""
    check_range("k", k, 1)
    rel = _check(relevant)
    return len(rel.intersection(ranking[:k])) / len(rel)


def reciprocal_rank(ranking: Sequence[Hashable], relevant: Iterable[Hashable]) -> float:
    """1 / rank of the first relevant id (1-based), 0 when none is ranked."""
    rel = _check(relevant)
    for i, doc in enumerate(ranking, 1):
        if doc in rel:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranking: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain at `k`, binary gains: DCG = sum 1/log2(rank + 1)."""
    check_range("k", k, 1)
    rel = _check(relevant)
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranking[:k]) if doc in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal


def retrieval_scores(rankings: Sequence[Sequence[Hashable]], relevant: Sequence[Iterable[Hashable]],
                     ks: Sequence[int] = (1, 5, 10), ndcg_k: int = 10) -> dict[str, float]:
    """Mean recall@k for each k, MRR and nDCG@`ndcg_k` over queries (aligned lists).

    Returns:
        {"recall@1": ..., "recall@5": ..., "recall@10": ..., "mrr": ..., "ndcg@10": ..., "n": N}
    """
    if len(rankings) != len(relevant):
        raise DataError(f"{len(rankings)} rankings for {len(relevant)} queries",
                        fix="pass one ranking per query")
    if not rankings:
        raise DataError("no queries to score", fix="pass at least one query")
    n = len(rankings)
    out: dict[str, float] = {}
    for k in ks:
        out[f"recall@{k}"] = sum(recall_at_k(r, s, k) for r, s in zip(rankings, relevant, strict=True)) / n
    out["mrr"] = sum(reciprocal_rank(r, s) for r, s in zip(rankings, relevant, strict=True)) / n
    out[f"ndcg@{ndcg_k}"] = sum(ndcg_at_k(r, s, ndcg_k) for r, s in zip(rankings, relevant, strict=True)) / n
    out["n"] = n
    return out


def format_scores(scores: Mapping[str, float]) -> str:
    """One line: `recall@1 0.500  recall@5 0.800 ... (n=10)`."""
    body = "  ".join(f"{k} {v:.3f}" for k, v in scores.items() if k != "n")
    return f"{body}  (n={int(scores.get('n', 0))})"


# -- answers of retrieval QA (SQuAD's exact match and token F1, Rajpurkar et al. 2016) --------------
_ARTICLES = frozenset(["el", "la", "los", "las", "lo", "un", "una", "unos", "unas", "a", "an", "the"])


def normalize_answer(text: str) -> list[str]:
    """Lower case, punctuation dropped, articles (Spanish and English) removed, split on spaces.

    >>> normalize_answer("¡La Ciudad de París!")
    ['ciudad', 'de', 'parís']
    """
    kept = "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower())
    return [w for w in kept.split() if w not in _ARTICLES]


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals a normalised answer, else 0.0."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """The best token-overlap F1 of the prediction against any answer.

    >>> round(token_f1("en París, Francia", ["París"]), 3)
    0.5
    """
    from collections import Counter

    pred = normalize_answer(prediction)
    best = 0.0
    for a in answers:
        gold = normalize_answer(a)
        common = sum((Counter(pred) & Counter(gold)).values())
        if not pred or not gold:
            best = max(best, float(pred == gold))
        elif common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best
