"""Inner-product search over unit vectors: FAISS when installed, else numpy (exact only).

- "flat": exact search, FAISS `IndexFlatIP` or the same in numpy (identical results up to float
  rounding; ties break by row);
- "hnsw": approximate search for large indexes, FAISS `IndexHNSWFlat` with the inner-product
  metric (M=32 links per node, efSearch=max(64, 2k)).

    vectors (N, D) float32, queries (Q, D) float32 -> scores (Q, k) float32, rows (Q, k) int64
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lmlab.errors import MissingDependencyError, check_choice, check_range

KINDS = ("flat", "hnsw")


def have_faiss() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def numpy_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product: (scores (Q, k), rows (Q, k)), best first."""
    check_range("k", k, 1)
    k = min(k, len(vectors))
    sims = np.asarray(queries, np.float32) @ np.asarray(vectors, np.float32).T
    rows = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, rows, 1), rows.astype(np.int64)


def build_faiss(vectors: np.ndarray, kind: str = "flat") -> Any:
    """A FAISS index over the rows of `vectors`: exact `IndexFlatIP` or approximate HNSW."""
    check_choice("dense index kind", kind, KINDS)
    try:
        import faiss
    except ImportError as exc:
        raise MissingDependencyError(f"the dense index {kind!r} needs faiss, which is not installed",
                                     fix="pip install faiss-cpu (or use the numpy backend with kind 'flat')") from exc
    d = vectors.shape[1]
    index = faiss.IndexFlatIP(d) if kind == "flat" else faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    index.add(np.ascontiguousarray(vectors, np.float32))
    return index


def faiss_search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a FAISS index (from `build_faiss`)."""
    check_range("k", k, 1)
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = max(64, 2 * k)
    scores, rows = index.search(np.ascontiguousarray(queries, np.float32), min(k, index.ntotal))
    return scores, rows.astype(np.int64)


def search(vectors: np.ndarray, queries: np.ndarray, k: int, backend: str = "auto",
           index: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search; `backend` "auto" (FAISS if installed), "faiss" or "numpy";
    a prebuilt FAISS `index` over `vectors` is used as is."""
    check_choice("backend", backend, ("auto", "faiss", "numpy"))
    if len(vectors) == 0:
        q = len(queries)
        return np.zeros((q, 0), np.float32), np.zeros((q, 0), np.int64)
    if index is not None:
        return faiss_search(index, queries, k)
    if backend == "faiss" or (backend == "auto" and have_faiss()):
        return faiss_search(build_faiss(vectors), queries, k)
    return numpy_search(vectors, queries, k)
