"""Word vectors in two dimensions: PCA, t-SNE, UMAP, a labelled plot, and the TensorBoard
Embedding Projector files.

References: Pearson 1901 / Jolliffe, "Principal Component Analysis"; van der Maaten & Hinton 2008,
"Visualizing Data using t-SNE" (scikit-learn's implementation); McInnes et al. 2018, "UMAP"
(the optional `umap-learn` package); https://projector.tensorflow.org for the TSV layout.

Notable choices: PCA is written out (centre, SVD, keep the two leading directions, signs fixed so
the largest loading of each direction is positive), so it is deterministic and equal to
scikit-learn's up to that sign; t-SNE's perplexity is lowered automatically for small sets
(it must be below the number of points) and its exact gradients are used up to 1,000 points;
plots use matplotlib's non-interactive Agg backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from lmlab.errors import DataError, MissingDependencyError, check_choice

Method = Literal["pca", "tsne", "umap"]
METHODS = ("pca", "tsne", "umap")


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project (N, D) vectors on their two principal directions: (N, 2).

    >>> pca_2d(np.array([[0.0, 0, 0], [2, 0, 0], [0, 1, 0]])).shape
    (3, 2)
    """
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    components = components * signs[:, None]
    out = x @ components.T
    if out.shape[1] < 2:  # a single dimension of variation: pad with zeros
        out = np.pad(out, ((0, 0), (0, 2 - out.shape[1])))
    return out


def project(vectors: np.ndarray, method: Method = "pca", *, seed: int = 0,
            perplexity: float | None = None) -> np.ndarray:
    """2-D coordinates (N, 2) of (N, D) vectors by PCA, t-SNE or UMAP."""
    check_choice("method", method, METHODS)
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise DataError(f"need at least 3 vectors to project, got {len(x)}",
                        fix="choose more words (e.g. --top 200)")
    if method == "pca":
        return pca_2d(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perp = perplexity if perplexity is not None else min(30.0, (len(x) - 1) / 3)
        # Exact gradients up to 1,000 points: O(n²) but plain numpy, while Barnes-Hut's OpenMP
        # threads took 50-70 s for 12-300 points on a busy 2-core machine (exact: 0.1-7 s).
        method = "exact" if len(x) <= 1000 else "barnes_hut"
        return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed,
                    metric="cosine", method=method).fit_transform(x)
    try:
        import umap
    except ImportError as exc:
        raise MissingDependencyError("UMAP projection needs the package 'umap-learn', which is not "
                                     "installed", fix="pip install umap-learn, or use --method pca/tsne") from exc
    return umap.UMAP(n_components=2, random_state=seed, metric="cosine",
                     n_neighbors=min(15, len(x) - 1)).fit_transform(x)


def plot_words(words: Sequence[str], coords: np.ndarray, path: str | os.PathLike[str], *,
               title: str | None = None) -> Path:
    """Save a scatter plot of 2-D `coords` (N, 2) with each point labelled by its word (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coords = np.asarray(coords)
    if coords.shape != (len(words), 2):
        raise DataError(f"{len(words)} words but coordinates of shape {coords.shape}",
                        fix="pass one (x, y) row per word")
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    ax.scatter(coords[:, 0], coords[:, 1], s=12, alpha=0.6)
    for w, (x, y) in zip(words, coords, strict=True):
        ax.annotate(w, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    ax.set_title(title or f"{len(words)} palabras")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def export_projector(words: Sequence[str], vectors: np.ndarray,
                     folder: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write `vectors.tsv` (one tab-separated row per word) and `metadata.tsv` (one word per line)
    for https://projector.tensorflow.org ("Load" both files)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(words):
        raise DataError(f"{len(words)} words but {vectors.shape[0]} vectors", fix="pass one row per word")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    vec_file, meta_file = out / "vectors.tsv", out / "metadata.tsv"
    with open(vec_file, "w", encoding="utf-8") as fh:
        for row in vectors.tolist():
            fh.write("\t".join(f"{x:.6g}" for x in row) + "\n")
    with open(meta_file, "w", encoding="utf-8") as fh:
        for w in words:
            fh.write(w.replace("\t", " ").replace("\n", " ") + "\n")
    return vec_file, meta_file
