"""One self-contained HTML page (inline CSS, PNG figures as base64) built from simple sections.

    page = HtmlReport("Escalera de modelos")
    page.paragraph("Entrenado en el mundo incrustado ...")
    page.table(["modelo", "ppl"], [["trigrama KN", 41.2], ["LSTM", 30.5]])
    page.figure(fig, caption="Perplejidad frente al límite")
    page.save("report.html")          # atomic write

No JavaScript and no external files, so the page opens anywhere and can be mailed as is.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.95em}
th,td{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}img{max-width:100%}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;white-space:pre-wrap}
.muted{color:#777;font-size:.9em}
"""


def format_cell(value: Any) -> str:
    """Numbers with sensible precision; everything else as escaped text."""
    if isinstance(value, bool) or value is None:
        return html.escape(str(value if value is not None else "—"))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return html.escape(str(value))


class HtmlReport:
    """Accumulates sections and writes one HTML file."""

    def __init__(self, title: str, lang: str = "es") -> None:
        self.title, self.lang = title, lang
        self._parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, *, muted: bool = False) -> None:
        cls = ' class="muted"' if muted else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{format_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
        self._parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, fig: Any, caption: str = "") -> None:
        """Embed a matplotlib figure as a base64 PNG (the figure is closed afterwards)."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{cap}</figure>')

    def render(self) -> str:
        body = "\n".join(self._parts)
        return (f'<!doctype html>\n<html lang="{self.lang}"><head><meta charset="utf-8">'
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
                f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page atomically (temporary file, then rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.render())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
