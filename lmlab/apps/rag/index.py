"""A retrieval index over chunks: BM25 terms, dense vectors, or both, saved as a folder.

The folder (written atomically: a temporary sibling folder renamed into place):

    manifest.json      format, encoder name and dimension, analyser, BM25 k1/b, counts
    chunks.jsonl       one chunk per line (doc_id, text, start, end, title, source, metadata)
    bm25_terms.json    the BM25 vocabulary in postings order
    arrays.safetensors bm25.* postings and `vectors` (N, D) float32 unit embeddings

Opening it with another encoder than the manifest names is refused with a one-line error naming
both. Documents are added and deleted incrementally: only new chunks are embedded; BM25 statistics
(cheap) are recomputed from the stored chunk texts. Search modes: "bm25", "dense", and "hybrid"
(reciprocal rank fusion of both top lists). Hits carry the chunk, its rank score and, where
computed, its BM25 score and its cosine similarity to the query.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lmlab.apps.rag.analyzer import ANALYZERS, get_analyzer
from lmlab.apps.rag.bm25 import BM25
from lmlab.apps.rag.dense import KINDS, build_faiss, have_faiss
from lmlab.apps.rag.dense import search as dense_search
from lmlab.apps.rag.fusion import reciprocal_rank_fusion
from lmlab.apps.rag.ingest import Chunk
from lmlab.errors import ConfigError, DataError, ModelFormatError, check_choice, check_range
from lmlab.io.folder import atomic_folder

log = logging.getLogger("lmlab")

FORMAT = "lmlab-rag-index"
FORMAT_VERSION = 1
MODES = ("bm25", "dense", "hybrid")
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
TERMS = "bm25_terms.json"
ARRAYS = "arrays.safetensors"


@dataclass
class Hit:
    chunk: Chunk
    row: int
    score: float  # the mode's ranking score (BM25, cosine, or RRF)
    bm25: float | None = None
    cosine: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.chunk.to_json(), "row": self.row, "score": self.score, "bm25": self.bm25,
                "cosine": self.cosine}


def embed_texts(encoder: Any, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """(N, D) float32 unit vectors from `encoder.embed` (a tensor or an array)."""
    out = encoder.embed(texts, batch_size=batch_size)
    out = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
    return np.ascontiguousarray(out, np.float32)


class RagIndex:
    """Chunks with a BM25 index (always) and dense vectors (when built with an encoder).

    Args:
        encoder: an object with `embed(texts, batch_size) -> (N, D)` unit vectors, or None for BM25
            only; `encoder_name` is what the manifest records (e.g. "all-MiniLM-L6-v2").
        analyzer: a name in `lmlab.apps.rag.analyzer.ANALYZERS`.
    """

    def __init__(self, encoder: Any = None, encoder_name: str | None = None, *, analyzer: str = "spanish",
                 k1: float = 1.5, b: float = 0.75, backend: str = "auto", dense_index: str = "flat") -> None:
        check_choice("analyzer", analyzer, ANALYZERS)
        self.encoder, self.encoder_name = encoder, encoder_name
        if encoder is not None and not encoder_name:
            raise ConfigError("an encoder needs a name for the manifest", fix="pass encoder_name=...")
        self.analyzer_name = analyzer
        self.analyze: Callable[[str], list[str]] = get_analyzer(analyzer)
        check_choice("dense index kind", dense_index, KINDS)
        self.k1, self.b, self.backend, self.dense_index = k1, b, backend, dense_index
        self._faiss: Any = None  # built on first dense search, dropped on add/delete
        self.chunks: list[Chunk] = []
        self.vectors = np.zeros((0, 0), np.float32)
        self.bm25 = BM25(k1, b)

    # building ------------------------------------------------------------------------------
    def add(self, chunks: Iterable[Chunk], batch_size: int = 32) -> int:
        """Add chunks (their documents must not be in the index yet); returns how many."""
        new = list(chunks)
        present = self.doc_ids()
        clash = sorted({c.doc_id for c in new} & present)
        if clash:
            raise DataError(f"the document {clash[0]!r} is already in the index",
                            fix="delete it first (or rebuild the index)")
        if self.encoder_name is not None and self.encoder is None and new:
            raise ConfigError(f"the index needs its encoder {self.encoder_name!r} to add chunks",
                              fix="open it with that encoder")
        if self.encoder is not None and new:
            vecs = embed_texts(self.encoder, [c.text for c in new], batch_size)
            self.vectors = vecs if not len(self.vectors) else np.concatenate([self.vectors, vecs])
        self.chunks.extend(new)
        self._refit()
        return len(new)

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove every chunk of these documents; returns how many chunks went."""
        drop = set(doc_ids)
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in drop]
        removed = len(self.chunks) - len(keep)
        self.chunks = [self.chunks[i] for i in keep]
        if len(self.vectors):
            self.vectors = self.vectors[keep]
        self._refit()
        return removed

    def _refit(self) -> None:
        self._faiss = None
        self.bm25 = BM25(self.k1, self.b).fit([self.analyze(c.text) for c in self.chunks])

    def doc_ids(self) -> set[str]:
        return {c.doc_id for c in self.chunks}

    # searching -----------------------------------------------------------------------------
    def _check_query(self, query: str) -> None:
        if not isinstance(query, str) or not query.strip():
            raise DataError("the query is empty", fix="ask a question with words in it")
        if not self.chunks:
            raise DataError("the index holds no chunks", fix="add documents first")

    def _allowed(self, filters: Mapping[str, Any] | None) -> np.ndarray | None:
        if not filters:
            return None
        return np.array([all(c.metadata.get(k, c.title if k == "title" else None) == v for k, v in filters.items())
                         for c in self.chunks], bool)

    def _bm25_top(self, query: str, k: int, allowed: np.ndarray | None) -> tuple[list[int], np.ndarray]:
        scores = self.bm25.scores(self.analyze(query))
        masked = scores if allowed is None else np.where(allowed, scores, -np.inf)
        rows = np.argsort(-masked, kind="stable")[:k]
        return [int(r) for r in rows if masked[r] > 0], scores

    def query_vector(self, query: str) -> np.ndarray:
        """(1, D) unit vector of the query; a query past the encoder's window is truncated (logged)."""
        if self.encoder is None:
            raise ConfigError("this index has no dense vectors", fix="use --mode bm25 or rebuild with an encoder")
        limit = getattr(getattr(self.encoder, "config", None), "max_tokens", None)
        tok = getattr(self.encoder, "tokenizer", None)
        if limit and tok is not None and hasattr(tok, "encode"):
            tok.enable_truncation(limit)
            if getattr(tok.encode(query), "overflowing", None):
                log.warning("the query is longer than the encoder's window of %d tokens: truncated", limit)
        return embed_texts(self.encoder, [query])

    def _faiss_index(self) -> Any:
        """The cached FAISS index over all vectors (None for the numpy backend)."""
        use = self.backend == "faiss" or (self.backend == "auto" and have_faiss()) or self.dense_index != "flat"
        if self._faiss is None and use and len(self.vectors):
            self._faiss = build_faiss(self.vectors, self.dense_index)
        return self._faiss

    def _dense_top(self, query: str, k: int, allowed: np.ndarray | None,
                   q: np.ndarray | None = None) -> tuple[list[int], dict[int, float]]:
        q = self.query_vector(query) if q is None else q.reshape(1, -1).astype(np.float32)
        if allowed is None:
            sims, rows = dense_search(self.vectors, q, k, self.backend, self._faiss_index())
            return [int(r) for r in rows[0]], {int(r): float(s) for r, s in zip(rows[0], sims[0], strict=True)}
        sub = np.flatnonzero(allowed)
        if not len(sub):
            return [], {}
        sims, rows = dense_search(self.vectors[sub], q, k, self.backend)
        picked = [int(sub[r]) for r in rows[0]]
        return picked, {r: float(s) for r, s in zip(picked, sims[0], strict=True)}

    def search(self, query: str, k: int = 5, mode: str = "hybrid", *, filters: Mapping[str, Any] | None = None,
               depth: int | None = None, rrf_k: float = 60.0, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The best `k` chunks for `query`, best first.

        Args:
            mode: "bm25", "dense" or "hybrid" (RRF of the top `depth` of each, default max(50, 4k)).
            filters: metadata key -> required value (chunks without it are left out).
            query_vector: (D,) the query's embedding when already computed (batched evaluation).
        """
        check_choice("mode", mode, MODES)
        check_range("k", k, 1)
        self._check_query(query)
        if mode != "bm25" and self.encoder is None:
            if self.encoder_name:
                raise ConfigError(f"mode {mode!r} needs the encoder {self.encoder_name!r}, which is not loaded",
                                  fix="open the index with its encoder")
            raise ConfigError(f"mode {mode!r} needs dense vectors, and this index has none",
                              fix="use --mode bm25 or rebuild the index with an encoder")
        allowed = self._allowed(filters)
        if mode == "bm25":
            rows, scores = self._bm25_top(query, k, allowed)
            return [Hit(self.chunks[r], r, float(scores[r]), bm25=float(scores[r])) for r in rows]
        if mode == "dense":
            rows, sims = self._dense_top(query, k, allowed, query_vector)
            return [Hit(self.chunks[r], r, sims[r], cosine=sims[r]) for r in rows]
        depth = depth or max(50, 4 * k)
        b_rows, b_scores = self._bm25_top(query, depth, allowed)
        d_rows, sims = self._dense_top(query, depth, allowed, query_vector)
        fused = reciprocal_rank_fusion([b_rows, d_rows], rrf_k)[:k]
        q = (self.query_vector(query)[0] if query_vector is None else query_vector) if fused else None
        hits = []
        for r, s in fused:
            cos = sims.get(r, float(self.vectors[r] @ q))
            hits.append(Hit(self.chunks[r], r, float(s), bm25=float(b_scores[r]), cosine=cos))
        return hits

    def search_documents(self, query: str, k: int = 10, mode: str = "hybrid", **kw: Any) -> list[str]:
        """Document ids ranked by their best chunk (a deeper chunk search, deduplicated)."""
        hits = self.search(query, max(k * 5, 50), mode, **kw)
        return list(dict.fromkeys(h.chunk.doc_id for h in hits))[:k]

    # persistence ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "encoder": self.encoder_name,
                "dim": int(self.vectors.shape[1]) if len(self.vectors) else None,
                "analyzer": self.analyzer_name, "bm25": {"variant": "lucene", "k1": self.k1, "b": self.b},
                "n_chunks": len(self.chunks), "n_documents": len(self.doc_ids())}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index folder atomically (replacing an existing one); returns its path."""
        from safetensors.numpy import save_file

        with atomic_folder(path, "index") as tmp:
            (tmp / MANIFEST).write_text(json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            with open(tmp / CHUNKS, "w", encoding="utf-8") as fh:
                for c in self.chunks:
                    fh.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
            (tmp / TERMS).write_text(json.dumps(self.bm25.terms(), ensure_ascii=False), encoding="utf-8")
            arrays = dict(self.bm25.arrays())
            if len(self.vectors):
                arrays["vectors"] = self.vectors
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / ARRAYS))
        return Path(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str], encoder: Any = None, encoder_name: str | None = None,
             *, backend: str = "auto", dense_index: str = "flat") -> RagIndex:
        """Open a saved index (`dense_index` "hnsw" searches it approximately). With `encoder_name`, it must be the manifest's encoder (else an
        error naming both); `encoder` is the loaded model for dense search (None: BM25 only)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(path)
        where = str(folder)
        fix = "rebuild it with `lmlab rag index DOCS -o INDEX`"
        if not (folder / MANIFEST).is_file():
            raise ModelFormatError("not an lmlab RAG index (no manifest.json)", where=where, fix=fix)
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT:
                raise ModelFormatError(f"manifest format is {manifest.get('format')!r}, not {FORMAT!r}",
                                       where=where, fix=fix)
            if encoder_name is not None and manifest.get("encoder") and encoder_name != manifest["encoder"]:
                raise ConfigError(f"the index was built with the encoder {manifest['encoder']!r}, "
                                  f"not {encoder_name!r}", where=where,
                                  fix=f"use --encoder {manifest['encoder']} or rebuild the index")
            index = cls(encoder if manifest.get("encoder") else None, manifest.get("encoder") or None,
                        analyzer=manifest["analyzer"], k1=manifest["bm25"]["k1"], b=manifest["bm25"]["b"],
                        backend=backend, dense_index=dense_index)
            with open(folder / CHUNKS, encoding="utf-8") as fh:
                index.chunks = [Chunk.from_json(json.loads(line)) for line in fh if line.strip()]
            arrays = load_file(str(folder / ARRAYS))
            terms = json.loads((folder / TERMS).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, KeyError, TypeError, SafetensorError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"the index folder is corrupt ({type(exc).__name__}: {exc})".replace("\n", " "),
                                   where=where, fix=fix) from exc
        index.bm25 = BM25.from_arrays(arrays, terms, index.k1, index.b, where)
        index.vectors = arrays.get("vectors", np.zeros((0, 0), np.float32))
        if index.bm25.n_docs != len(index.chunks) or (manifest.get("encoder") and len(index.vectors) != len(index.chunks)):
            raise ModelFormatError("the index arrays do not match its chunks", where=where, fix=fix)
        return index
