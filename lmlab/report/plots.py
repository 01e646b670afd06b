"""The plots people would rather look at than read: matplotlib figures, rendered off-screen (Agg).

Each function returns a `matplotlib.figure.Figure`; `HtmlReport.figure` embeds it, or call
`fig.savefig(path)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _new_figure(width: float = 7.0, height: float = 4.0):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot(1, 1, 1)


def perplexity_bars(ppl: Mapping[str, float], floor: float | None = None, *,
                    title: str = "Perplejidad en test") -> object:
    """Bars of test perplexity per model, with the exact floor as a dashed line (log scale)."""
    fig, ax = _new_figure()
    names = list(ppl)
    values = [ppl[n] for n in names]
    bars = ax.bar(names, values, color="#4c78a8")
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(f"{value:.1f}", (bar.get_x() + bar.get_width() / 2, value), ha="center",
                    va="bottom", fontsize=8)
    if floor is not None:
        ax.axhline(floor, color="#e45756", linestyle="--", label=f"límite exacto ({floor:.2f})")
        ax.legend()
    ax.set_yscale("log")
    ax.set_ylabel("perplejidad (escala log)")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def loss_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *,
                ylabel: str = "pérdida (nats/token)", title: str = "Curvas de entrenamiento") -> object:
    """One line per model: curves[name] = (x values such as tokens seen, loss values)."""
    fig, ax = _new_figure()
    for name, (x, y) in curves.items():
        ax.plot(x, y, label=name)
    ax.set_xlabel("tokens vistos")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def accuracy_by_distance(results: Mapping[str, Mapping[int, float]], *, chance: float | None = None,
                         title: str = "Sondas de largo alcance") -> object:
    """Accuracy against dependency distance (tokens), one line per model."""
    fig, ax = _new_figure()
    for name, by_distance in results.items():
        d = sorted(by_distance)
        ax.plot(d, [by_distance[k] for k in d], marker="o", label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", label="azar")
    ax.set_xlabel("distancia (tokens)")
    ax.set_ylabel("exactitud")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left", ncol=2)  # the upper band holds the best models' lines
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def scatter_2d(points: np.ndarray, labels: Sequence[str], *, groups: Sequence[str] | None = None,
               title: str = "Proyección 2-D de los vectores") -> object:
    """Labelled 2-D scatter (e.g. PCA of word vectors); `groups` colours the points."""
    fig, ax = _new_figure(7, 6)
    points = np.asarray(points)
    if groups is None:
        ax.scatter(points[:, 0], points[:, 1], s=12)
    else:
        for g in dict.fromkeys(groups):
            idx = [i for i, gi in enumerate(groups) if gi == g]
            ax.scatter(points[idx, 0], points[idx, 1], s=14, label=g)
        ax.legend(fontsize=8)
    for (x, y), label in zip(points, labels, strict=True):
        ax.annotate(label, (x, y), fontsize=7, alpha=0.8)
    ax.set_title(title)
    fig.tight_layout()
    return fig
