"""Project Gutenberg e-books: keep the book, drop the licence header and footer.

Gutenberg files open with a header that ends at a line `*** START OF THE PROJECT GUTENBERG EBOOK
... ***` and close with a footer from `*** END OF THE PROJECT GUTENBERG EBOOK ... ***` (older files
write "THIS PROJECT GUTENBERG EBOOK"). Counting models, tokenizers and benchmarks trained on the
raw file would learn the English licence text along with the book.

    >>> list(strip_gutenberg(["licence", "*** START OF THE PROJECT GUTENBERG EBOOK X ***",
    ...                       "En un lugar", "*** END OF THE PROJECT GUTENBERG EBOOK X ***", "more"]))
    ['En un lugar']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lmlab.errors import DataError

_START = re.compile(r"^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_END = re.compile(r"^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)


def strip_gutenberg(lines: Iterable[str], *, where: str | None = None) -> Iterator[str]:
    """The lines strictly between the START and END markers, streaming.

    Raises:
        DataError: no START marker at all (not a Gutenberg file, or the header was removed).
    """
    started = False
    for line in lines:
        if not started:
            started = bool(_START.match(line))
            continue
        if _END.match(line):
            return
        yield line
    if not started:
        raise DataError("no '*** START OF THE PROJECT GUTENBERG EBOOK' line", where=where,
                        fix="pass a Project Gutenberg text, or read the file without stripping")
