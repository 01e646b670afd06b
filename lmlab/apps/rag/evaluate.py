"""Retrieval evaluation of an index on QA rows `{"question", "doc_ids"}` (optional "answers"),
scored per document (chunk hits deduplicated to documents) with `lmlab.metrics.retrieval`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmlab.apps.rag.index import RagIndex, embed_texts
from lmlab.errors import DataError
from lmlab.metrics.retrieval import exact_match, retrieval_scores, token_f1


def read_qa(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """QA rows from a JSONL file; each needs "question" and a non-empty "doc_ids" list."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the QA file ({type(exc).__name__})", where=str(p),
                        fix="pass a UTF-8 JSONL file of {\"question\", \"doc_ids\"} rows") from exc
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {n} is not JSON", where=str(p), fix="one JSON object per line") from exc
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row.get("doc_ids"):
            raise DataError(f"line {n} lacks \"question\" or \"doc_ids\"", where=str(p),
                            fix='write rows {"question": ..., "doc_ids": [...]}')
        row["doc_ids"] = [str(d) for d in row["doc_ids"]]
        rows.append(row)
    if not rows:
        raise DataError("the QA file has no questions", where=str(p), fix="add rows")
    return rows


def evaluate_index(index: RagIndex, qa: Sequence[dict[str, Any]], modes: Sequence[str] = ("bm25", "dense", "hybrid"),
                   depth: int = 10) -> dict[str, dict[str, float]]:
    """Mode -> {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "n"} (modes the index
    supports: dense ones need vectors)."""
    out = {}
    query_vectors: list = [None] * len(qa)
    if index.encoder is not None and any(m != "bm25" for m in modes):
        query_vectors = list(embed_texts(index.encoder, [r["question"] for r in qa]))  # one batched pass
    for mode in modes:
        if mode != "bm25" and index.encoder is None:
            continue
        vecs = query_vectors if mode != "bm25" else [None] * len(qa)
        rankings = [index.search_documents(r["question"], depth, mode, query_vector=v) for r, v in zip(qa, vecs, strict=True)]
        out[mode] = retrieval_scores(rankings, [r["doc_ids"] for r in qa])
    return out


def evaluate_answers(index: RagIndex, qa: Sequence[dict[str, Any]], model: Any, *, mode: str = "hybrid",
                     k: int = 5, **generation: Any) -> dict[str, float]:
    """Answer exact match and token F1 (`lmlab.metrics.retrieval`) of `ask` on the rows that carry
    "answers"; the generated text is cut at its first line and its citation markers dropped."""
    import re

    from lmlab.apps.rag.answer import ask

    rows = [r for r in qa if r.get("answers")]
    if not rows:
        raise DataError("no question has \"answers\"", fix='add "answers": [...] to the QA rows')
    em = f1 = 0.0
    for r in rows:
        text = ask(index, r["question"], model, k=k, mode=mode, **generation).text
        text = re.sub(r"\[\d+\]", "", text.strip().split("\n")[0])
        em += exact_match(text, r["answers"])
        f1 += token_f1(text, r["answers"])
    return {"exact_match": em / len(rows), "token_f1": f1 / len(rows), "n": len(rows)}
