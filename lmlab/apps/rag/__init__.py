"""Retrieval-augmented generation: ingest and chunk documents, BM25 / dense / hybrid retrieval over
a persisted index, grounded answers with citations, retrieval evaluation. See docs/rag.md.

    >>> from lmlab.apps.rag import RagIndex, chunk_documents, Document
    >>> index = RagIndex(analyzer="spanish")
    >>> index.add(chunk_documents([Document("d1", "París es la capital de Francia.")]))
    1
    >>> index.search("¿Cuál es la capital de Francia?", k=1, mode="bm25")[0].chunk.doc_id
    'd1'
"""

from lmlab.apps.rag.analyzer import ANALYZERS, analyze
from lmlab.apps.rag.answer import NO_ANSWER, Answer, ask, build_prompt
from lmlab.apps.rag.bm25 import BM25
from lmlab.apps.rag.evaluate import evaluate_answers, evaluate_index, read_qa
from lmlab.apps.rag.fusion import reciprocal_rank_fusion
from lmlab.apps.rag.index import MODES, Hit, RagIndex
from lmlab.apps.rag.ingest import Chunk, Document, Ingested, chunk_documents, load_documents

__all__ = ["ANALYZERS", "BM25", "MODES", "NO_ANSWER", "Answer", "Chunk", "Document", "Hit", "Ingested",
           "RagIndex", "analyze", "ask", "build_prompt", "chunk_documents", "evaluate_answers", "evaluate_index",
           "load_documents", "read_qa", "reciprocal_rank_fusion"]
