"""The ladder's outputs: a terminal table, a JSON file with every figure, one HTML report."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from lmlab.apps.ladder import LadderResult


def summary_rows(result: LadderResult) -> list[list[Any]]:
    """One row per model: name, family, test ppl, ratio to the floor, bits/token, params, time, tok/s."""
    floor = result.floor["ppl"] if result.floor else None
    return [[r.name, r.family, r.ppl, (r.ppl / floor) if floor else None, r.bits_per_token,
             r.n_params, r.train_seconds, r.tokens_per_s] for r in result.rungs]


HEADER = ["modelo", "familia", "ppl test", "× límite", "bits/token", "parámetros", "segundos", "tokens/s"]


def terminal_table(result: LadderResult) -> Any:
    """A rich Table of the summary (render with rich.console.Console().print)."""
    from rich.table import Table

    from lmlab.report.html import format_cell

    title = f"Escalera de modelos · {result.source}"
    if result.floor:
        title += f" · límite exacto ppl {result.floor['ppl']:.2f}"
    table = Table(title=title)
    for i, h in enumerate(HEADER):
        table.add_column(h, justify="left" if i < 2 else "right")
    for row in summary_rows(result):
        table.add_row(*(format_cell(c) for c in row))
    return table


def write_json(result: LadderResult, path: str | os.PathLike[str]) -> Path:
    """Every figure as JSON (atomic write)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result.to_dict(), fh, ensure_ascii=False, indent=2)
    os.replace(tmp, target)
    return target


def write_html(result: LadderResult, wv: Any, path: str | os.PathLike[str]) -> Path:
    """The self-contained HTML report with the plots."""
    from lmlab.report.html import HtmlReport
    from lmlab.report.plots import accuracy_by_distance, loss_curves, perplexity_bars, scatter_2d

    page = HtmlReport("Escalera de modelos de lenguaje")
    n = result.n_tokens
    page.paragraph(f"Corpus: {result.source}. Tokens de entrenamiento/validación/prueba: "
                   f"{n['train']:,}/{n['valid']:,}/{n['test']:,}; vocabulario: {result.vocab_size:,} "
                   f"palabras. Tiempo total: {result.seconds:.0f} s.")
    if result.floor:
        page.paragraph(
            f"El texto de prueba sale de una gramática probabilística conocida: su entropía cruzada exacta "
            f"es {result.floor['bits_per_token']:.3f} bits/token (perplejidad {result.floor['ppl']:.2f}). "
            "Ningún modelo puede bajar de ese límite en promedio; la columna «× límite» dice a qué "
            "distancia queda cada uno.")
    page.heading("Perplejidad")
    page.table(HEADER, summary_rows(result))
    page.figure(perplexity_bars({r.name: r.ppl for r in result.rungs},
                                result.floor["ppl"] if result.floor else None),
                caption="Perplejidad en prueba (fin de oración incluido) frente al límite exacto")
    curves = {r.name: r.curve for r in result.rungs if r.curve}
    if curves:
        page.figure(loss_curves(curves), caption="Pérdida de entrenamiento (nats/token)")
    probes = {r.name: r.probe_accuracy for r in result.rungs if r.probe_accuracy}
    if probes:
        page.heading("Dependencias de largo alcance")
        page.paragraph("Exactitud en las sondas de completar (la respuesta correcta debe superar a "
                       "cada distractor) según la distancia en tokens entre la pista y la respuesta.")
        page.figure(accuracy_by_distance(probes), caption="Exactitud frente a distancia")
        distances = sorted({d for acc in probes.values() for d in acc})
        page.table(["modelo", *[f"d={d}" for d in distances]],
                   [[name, *[acc.get(d) for d in distances]] for name, acc in probes.items()])
    page.heading("Muestras")
    for r in result.rungs:
        lines = [f"[{label}] {text}" for label, texts in r.samples.items() for text in texts]
        page.paragraph(r.name)
        page.preformatted("\n".join(lines))
    _word2vec_section(page, result, wv, scatter_2d)
    return page.save(path)


def _word2vec_section(page: Any, result: LadderResult, wv: Any, scatter_2d: Any) -> None:
    w2v = result.word2vec
    page.heading("word2vec")
    page.paragraph(f"Skip-gram, {w2v['vector_size']} dimensiones, {w2v['vocab_size']:,} palabras, "
                   f"{w2v['train_seconds']:.1f} s.")
    page.table(["palabra", "vecinas más cercanas (coseno)"],
               [[q, ", ".join(f"{w} ({s:.2f})" for w, s in ns)] for q, ns in w2v["neighbours"].items()])
    if w2v.get("analogy_accuracy") is not None:
        page.paragraph(f"Analogías del mundo: exactitud {w2v['analogy_accuracy']:.1%} "
                       f"({w2v['analogies_covered']} cubiertas, 3CosAdd).")
        page.preformatted("\n".join(w2v["analogy_examples"]))
    group_of: dict[str, str] = {}
    for query, neighbours in w2v["neighbours"].items():
        for word in [query, *(w for w, _ in neighbours)]:
            group_of.setdefault(word, query)
    words = list(group_of)
    if len(words) >= 3:
        centred = np.stack([wv[w] for w in words])
        centred = centred - centred.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)  # PCA: the top-2 right singular vectors
        page.figure(scatter_2d(centred @ vt[:2].T, words, groups=[group_of[w] for w in words]),
                    caption="Proyección PCA 2-D de las palabras consultadas y sus vecinas")


def write_outputs(result: LadderResult, wv: Any, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """ladder.json and report.html under `out_dir`."""
    out = Path(out_dir)
    return {"json": write_json(result, out / "ladder.json"),
            "html": write_html(result, wv, out / "report.html")}
