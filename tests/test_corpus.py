"""Corpus readers: streaming lines, byte offsets of bad UTF-8, empty corpora."""

from __future__ import annotations

import pytest

from lmlab.data.corpus import iter_jsonl, iter_lines, read_corpus_lines
from lmlab.errors import DataError


def test_lines_strip_bom_and_crlf(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes("\ufeff¿Qué tal?\r\nAñoranza\r\n\r\núltima".encode())
    assert list(iter_lines(f)) == ["¿Qué tal?", "Añoranza", "", "última"]


def test_bad_utf8_names_file_and_offset(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("hola\nniño".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.txt: not valid UTF-8 at byte offset 7"):
        list(iter_lines(f))
    assert list(iter_lines(f, errors="replace")) == ["hola", "ni\ufffdo"]


def test_multibyte_character_split_across_chunks(tmp_path, monkeypatch):
    import lmlab.data.corpus as corpus

    monkeypatch.setattr(corpus, "_CHUNK", 3)
    f = tmp_path / "a.txt"
    f.write_text("ññññ\nçé", encoding="utf-8")
    assert list(iter_lines(f)) == ["ññññ", "çé"]


def test_empty_corpus_and_folder(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n  \n")
    with pytest.raises(DataError, match="the corpus is empty"):
        read_corpus_lines(tmp_path / "empty.txt")
    (tmp_path / "sub").mkdir()
    with pytest.raises(DataError, match="no text files"):
        read_corpus_lines(tmp_path / "sub")
    with pytest.raises(DataError, match="corpus not found"):
        read_corpus_lines(tmp_path / "missing")


def test_jsonl_names_bad_line(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"text": "uno"}\n[1]\n')
    with pytest.raises(DataError, match="line 2 is not a JSON object"):
        list(iter_jsonl(f))
