"""Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): score(d) = sum over rankings of
1 / (k + rank(d)), rank 1-based; documents absent from a ranking add nothing.

    >>> reciprocal_rank_fusion([[3, 1, 2], [1, 2]], k=60)[0][0]
    1
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from lmlab.errors import check_range


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], k: float = 60.0) -> list[tuple[Hashable, float]]:
    """Fused (id, score) pairs, best first; ties keep the order of first appearance."""
    check_range("k", k, 0)
    fused: dict[Hashable, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: -kv[1])
