"""The HTML report: self-contained, escaped, atomic."""

from __future__ import annotations

import numpy as np

from lmlab.report.html import HtmlReport, format_cell
from lmlab.report.plots import accuracy_by_distance, perplexity_bars, scatter_2d


def test_page_is_self_contained_and_escaped(tmp_path):
    page = HtmlReport("Escalera <de> modelos")
    page.paragraph("¿Qué tal? a < b & c")
    page.table(["modelo", "ppl"], [["trigrama", 41.234], ["LSTM", 1234567.0]])
    page.figure(perplexity_bars({"unigrama": 300.0, "LSTM": 30.0}, floor=12.5), caption="ppl")
    page.figure(accuracy_by_distance({"LSTM": {2: 0.9, 8: 0.6}}, chance=0.25))
    page.figure(scatter_2d(np.array([[0.0, 1.0], [1.0, 0.0]]), ["rey", "reina"], groups=["m", "f"]))
    out = page.save(tmp_path / "r" / "report.html")
    text = out.read_text(encoding="utf-8")
    assert "Escalera &lt;de&gt; modelos" in text and "a &lt; b &amp; c" in text
    assert text.count("data:image/png;base64,") == 3
    assert "<script" not in text and "http" not in text.replace('lang="es"', "")
    assert "1,234,567" in text and "41.23" in text
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["report.html"]


def test_format_cell():
    assert format_cell(0.123456) == "0.1235"
    assert format_cell(12.345) == "12.35"
    assert format_cell(None) == "—"
    assert format_cell(float("nan")) == "—"
    assert format_cell("<b>") == "&lt;b&gt;"
