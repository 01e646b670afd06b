"""Retrieval on the embedded world's documents (exact document ids, two-hop questions) and, when
../shared is present, on XQuAD Spanish (BM25 only, to stay fast)."""

from __future__ import annotations

import json

import pytest

from lmlab.apps.rag import Document, RagIndex, chunk_documents, evaluate_index
from lmlab.data.world.world import World
from tests.conftest import shared_path


def test_world_documents_and_questions():
    world = World(0)
    docs = [Document(d.id, d.text, d.title) for d in world.documents(n_people=40)]
    index = RagIndex()
    index.add(chunk_documents(docs))
    qa = [{"question": q.question, "doc_ids": q.doc_ids} for q in world.qa(60, n_people=40)]
    scores = evaluate_index(index, qa, ("bm25",))["bm25"]
    assert scores["n"] == 60
    assert scores["recall@10"] > 0.8 and scores["mrr"] > 0.6


@pytest.mark.needs_shared
def test_xquad_spanish_bm25():
    data = json.loads(shared_path("spanish_qa_rag/xquad/xquad.es.json").read_text(encoding="utf-8"))
    docs, qa = [], []
    for article in data["data"]:
        for j, para in enumerate(article["paragraphs"]):
            pid = f"{article['title']}#{j}"
            docs.append(Document(pid, para["context"], article["title"]))
            qa += [{"question": q["question"], "doc_ids": [pid]} for q in para["qas"]]
    assert (len(docs), len(qa)) == (240, 1190)
    spanish, plain = RagIndex(analyzer="spanish"), RagIndex(analyzer="plain")
    for idx in (spanish, plain):
        idx.add(chunk_documents(docs, max_tokens=10_000))
    s, p = (evaluate_index(i, qa[::5], ("bm25",))["bm25"] for i in (spanish, plain))
    assert s["recall@10"] > 0.8
    assert s["mrr"] >= p["mrr"] - 0.02  # stems and stop words do not hurt
