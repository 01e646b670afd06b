"""Stripping the Project Gutenberg header and footer."""

from __future__ import annotations

import pytest

from lmlab.data.corpus import iter_lines
from lmlab.errors import DataError
from lmlab.text.gutenberg import strip_gutenberg


def test_strip_between_markers():
    lines = ["The Project Gutenberg eBook", "*** START OF THIS PROJECT GUTENBERG EBOOK X ***", "",
             "Capítulo I", "*** END OF THIS PROJECT GUTENBERG EBOOK X ***", "licence"]
    assert list(strip_gutenberg(lines)) == ["", "Capítulo I"]


def test_missing_start_is_an_error():
    with pytest.raises(DataError, match="START"):
        list(strip_gutenberg(["just text"], where="x.txt"))


@pytest.mark.needs_shared
def test_quijote(shared_data):
    path = shared_data("spanish_literature/quijote/pg2000.txt")
    lines = list(strip_gutenberg(iter_lines(path)))
    text = "\n".join(lines)
    assert "En un lugar de la Mancha" in text
    assert "Gutenberg" not in text and "GUTENBERG" not in text
