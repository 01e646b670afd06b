"""Cosine similarity and top-k nearest neighbours for dense and sparse vectors.

    cos(u, v) = u·v / (‖u‖ ‖v‖)        (Jurafsky & Martin, SLP3 ch. 6.4)

One implementation serves every vector space of the course: bag-of-words and TF-IDF rows (scipy
CSR), co-occurrence/PPMI/SVD rows (numpy), word2vec and sentence embeddings (numpy or torch).
Notable choices:

- rows are L2-normalised once, then similarities are one matrix product (sparse @ sparse.T stays
  sparse until the (n_queries, n_items) result, which is returned dense);
- a zero vector has similarity 0 with everything (not NaN), as scikit-learn's `cosine_similarity`;
- top-k uses `argpartition` (O(n) per query) and sorts only the k winners; ties break by lower index;
- torch inputs give torch outputs on the same device; numpy and scipy inputs give numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from lmlab.errors import ConfigError, DataError

__all__ = ["cosine_similarity", "l2_normalize", "nearest_neighbors", "top_k"]


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _as_2d(x: Any, name: str) -> Any:
    if sp.issparse(x):
        return sp.csr_matrix(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
    if _is_torch(x):
        x = x.float() if not x.is_floating_point() else x
        return x.unsqueeze(0) if x.dim() == 1 else x
    arr = np.asarray(x)
    if arr.dtype.kind not in "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise DataError(f"{name} must be a vector or a matrix (n, d), got shape {arr.shape}",
                        fix="pass one row per item")
    return arr


def l2_normalize(x: Any) -> Any:
    """Rows scaled to unit L2 norm (zero rows stay zero). Accepts numpy, torch or scipy sparse."""
    x = _as_2d(x, "x")
    if sp.issparse(x):
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(inv) @ x)
    if _is_torch(x):
        import torch

        norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
        return x / torch.where(norms > 0, norms, torch.ones_like(norms))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def cosine_similarity(a: Any, b: Any | None = None) -> Any:
    """Cosine similarity between the rows of `a` (n, d) and the rows of `b` (m, d).

    Args:
        a: numpy array, torch tensor or scipy sparse matrix; a 1-D vector counts as one row.
        b: the same kinds; defaults to `a` (all pairs within `a`).
    Returns:
        (n, m) dense similarities in [-1, 1]: numpy for numpy/scipy input, torch for torch input.
    """
    a2 = _as_2d(a, "a")
    b2 = a2 if b is None else _as_2d(b, "b")
    if a2.shape[1] != b2.shape[1]:
        raise DataError(f"dimension mismatch: a has {a2.shape[1]} columns, b has {b2.shape[1]}",
                        fix="compare vectors from the same vector space")
    an, bn = l2_normalize(a2), (None if b is None else l2_normalize(b2))
    bn = an if bn is None else bn
    if _is_torch(an) or _is_torch(bn):
        import torch

        an_t = an if _is_torch(an) else torch.as_tensor(_dense(an))
        bn_t = bn if _is_torch(bn) else torch.as_tensor(_dense(bn), device=an_t.device)
        return an_t @ bn_t.to(an_t.dtype).T
    if sp.issparse(an) or sp.issparse(bn):
        out = an @ bn.T
        return out.toarray() if sp.issparse(out) else np.asarray(out)
    return an @ bn.T


def _dense(x: Any) -> np.ndarray:
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def top_k(scores: Any, k: int, *, exclude: Any | None = None) -> tuple[Any, Any]:
    """Indices and values of the k largest scores per row, best first.

    Args:
        scores: (n, m) or (m,) numpy array or torch tensor.
        k: how many to keep (clipped to m).
        exclude: optional (n,) column index per row to skip (e.g. the query itself), or None.
    Returns:
        (indices, values), each (n, k) (or (k,) for 1-D input), of the input's kind.
    """
    if k < 1:
        raise ConfigError(f"k={k} is out of range", fix="use k >= 1")
    if _is_torch(scores):
        import torch

        s = scores.unsqueeze(0) if scores.dim() == 1 else scores
        s = s.clone().float()
        if exclude is not None:
            rows = torch.arange(s.shape[0], device=s.device)
            s[rows, torch.as_tensor(exclude, device=s.device).long()] = -float("inf")
        vals, idx = torch.topk(s, min(k, s.shape[1]), dim=1)
        return (idx[0], vals[0]) if scores.dim() == 1 else (idx, vals)
    s = np.asarray(scores, dtype=np.float64)
    one = s.ndim == 1
    s = s[None, :] if one else s.copy()
    if exclude is not None:
        s[np.arange(s.shape[0]), np.asarray(exclude)] = -np.inf
    k = min(k, s.shape[1])
    part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.tile(
        np.arange(s.shape[1]), (s.shape[0], 1))
    part_vals = np.take_along_axis(s, part, axis=1)
    # Sort the k winners: by score descending, then by index ascending for a stable tie order.
    order = np.lexsort((part, -part_vals), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(part_vals, order, axis=1)
    return (idx[0], vals[0]) if one else (idx, vals)


def nearest_neighbors(queries: Any, items: Any, k: int = 10, *,
                      exclude_self: bool = False) -> tuple[Any, Any]:
    """The k items most cosine-similar to each query row.

    Args:
        queries: (n, d) (or (d,)) dense or sparse vectors.
        items: (m, d) dense or sparse vectors to search.
        k: neighbours per query.
        exclude_self: when queries are the items themselves, skip each row's own index.
    Returns:
        (indices, similarities), each (n, k), best first.
    """
    sims = cosine_similarity(queries, items)
    exclude = None
    if exclude_self:
        if sims.shape[0] != sims.shape[1]:
            raise ConfigError("exclude_self=True needs queries to be the items themselves",
                              fix="pass the same matrix twice, or exclude_self=False")
        exclude = np.arange(sims.shape[0])
    idx, vals = top_k(sims, k, exclude=exclude)
    one = (not sp.issparse(queries)) and getattr(queries, "ndim", 2) == 1
    return (idx[0], vals[0]) if one else (idx, vals)
