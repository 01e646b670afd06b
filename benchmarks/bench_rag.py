"""Retrieval on XQuAD Spanish (../shared/data/spanish_qa_rag/xquad: 240 paragraphs, 1,190 questions),
side by side: lmlab BM25 (plain and Spanish analyser), bm25s on the same tokens, dense
(all-MiniLM-L6-v2) through lmlab's index and through raw FAISS on the same embeddings, and hybrid
(RRF). One paragraph = one document = one chunk; recall@1/5/10 and MRR per document, build and
query times.

    python benchmarks/bench_rag.py [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lmlab.apps.rag import Document, RagIndex, analyze, chunk_documents
from lmlab.metrics.retrieval import retrieval_scores

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "spanish_qa_rag" / "xquad" / "xquad.es.json"


def load_xquad(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    docs, qa = [], []
    for article in data["data"]:
        for j, para in enumerate(article["paragraphs"]):
            pid = f"{article['title']}#{j}"
            docs.append(Document(pid, para["context"], article["title"]))
            qa += [(q["question"], pid) for q in para["qas"]]
    return docs, qa


def score(rankings, qa):
    s = retrieval_scores(rankings, [{pid} for _, pid in qa], ks=(1, 5, 10))
    return {k: round(v, 4) for k, v in s.items() if k != "ndcg@10"}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="first N questions only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not XQUAD.is_file():
        raise SystemExit(f"{XQUAD} is not available")
    docs, qa = load_xquad(XQUAD)
    qa = qa[: args.limit] if args.limit else qa
    chunks = chunk_documents(docs, max_tokens=100_000)
    ids = [c.doc_id for c in chunks]
    rows: dict[str, dict] = {}

    for analyzer in ("plain", "spanish"):
        idx, build = timed(lambda a=analyzer: _bm25_index(chunks, a))
        ranks, q_t = timed(lambda i=idx: [i.search_documents(q, 10, "bm25") for q, _ in qa])
        rows[f"lmlab bm25 ({analyzer})"] = {**score(ranks, qa), "build_s": round(build, 3),
                                            "query_ms": round(1000 * q_t / len(qa), 3)}
        try:
            import bm25s
        except ImportError:
            continue
        tokens = [analyze(c.text, analyzer) for c in chunks]
        ref, build = timed(lambda t=tokens: _bm25s_index(bm25s, t))

        def query_bm25s(ref=ref, analyzer=analyzer):
            out = []
            for q, _ in qa:
                qt = [t for t in analyze(q, analyzer) if t in ref.vocab_dict]
                s = ref.get_scores(qt) if qt else np.zeros(len(ids))
                out.append([ids[r] for r in np.argsort(-s, kind="stable")[:10]])
            return out
        ranks, q_t = timed(query_bm25s)
        rows[f"bm25s lucene ({analyzer})"] = {**score(ranks, qa), "build_s": round(build, 3),
                                              "query_ms": round(1000 * q_t / len(qa), 3)}

    from lmlab.io.packaged import load_sentence_encoder

    enc = load_sentence_encoder("all-MiniLM-L6-v2")
    dense, build = timed(lambda: _dense_index(enc, chunks))
    qv, enc_t = timed(lambda: enc.embed([q for q, _ in qa]).numpy())  # queries embedded in one batch
    for mode in ("dense", "hybrid"):
        ranks, q_t = timed(lambda m=mode: [dense.search_documents(q, 10, m, query_vector=v)
                                           for (q, _), v in zip(qa, qv, strict=True)])
        q_t += enc_t
        rows[f"lmlab {mode}"] = {**score(ranks, qa), "build_s": round(build, 3),
                                 "query_ms": round(1000 * q_t / len(qa), 3)}
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:
        flat, build = timed(lambda: _faiss_flat(faiss, dense.vectors))
        (_, found), q_t = timed(lambda: flat.search(qv, 10))
        rows["raw faiss IndexFlatIP"] = {**score([[ids[r] for r in row] for row in found], qa),
                                         "build_s": round(build, 4),
                                         "query_ms": round(1000 * (q_t + enc_t) / len(qa), 3)}
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"XQuAD es: {len(chunks)} paragraphs, {len(qa)} questions (recall per paragraph)")
    print(f"{'system':28s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR':>6s} {'build s':>8s} {'ms/query':>9s}")
    for name, r in rows.items():
        print(f"{name:28s} {r['recall@1']:6.3f} {r['recall@5']:6.3f} {r['recall@10']:6.3f} {r['mrr']:6.3f} "
              f"{r['build_s']:8.3f} {r['query_ms']:9.3f}")


def _bm25_index(chunks, analyzer):
    idx = RagIndex(analyzer=analyzer)
    idx.add(chunks)
    return idx


def _bm25s_index(bm25s, tokens):
    ref = bm25s.BM25(method="lucene")
    ref.index(tokens, show_progress=False)
    return ref


def _dense_index(enc, chunks):
    idx = RagIndex(enc, "all-MiniLM-L6-v2")
    idx.add(chunks)
    return idx


def _faiss_flat(faiss, vectors):
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


if __name__ == "__main__":
    main()
