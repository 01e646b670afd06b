from __future__ import annotations

import json

import pytest

from lmlab.apps.rag import Document, chunk_documents, load_documents
from lmlab.errors import ConfigError, DataError


def test_folder_of_text_markdown_and_jsonl(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Hola mundo. Adiós.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# El título\n\nTexto en Markdown.", encoding="utf-8")
    rows = [{"id": "x1", "text": "Uno.", "title": "T", "lang": "es"}, {"id": 7, "text": "Dos."}]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    got = load_documents(tmp_path)
    by_id = {d.id: d for d in got.documents}
    assert sorted(by_id) == ["7", "a.txt", "sub/b.md", "x1"]
    assert by_id["sub/b.md"].title == "El título"
    assert by_id["x1"].metadata == {"lang": "es"} and by_id["x1"].source == "c.jsonl"
    assert got.skipped == []


def test_bad_files_are_skipped_and_reported(tmp_path):
    (tmp_path / "ok.txt").write_text("Bien.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("canción".encode("latin-1"))
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "text": "x"}\nnot json\n', encoding="utf-8")
    got = load_documents(tmp_path)
    assert [d.id for d in got.documents] == ["ok.txt"]
    skipped = dict(got.skipped)
    assert skipped[str(tmp_path / "latin1.txt")] == "not UTF-8"
    assert "line 2 is not JSON" in skipped[str(tmp_path / "bad.jsonl")]


def test_empty_folder_and_missing_path_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="no documents found") as err:
        load_documents(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="no such file"):
        load_documents(tmp_path / "nope")


def test_duplicate_ids_refused(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "d", "text": "x"}\n{"id": "d", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="occurs twice"):
        load_documents(tmp_path)


TEXT = "Hola mundo. Esto es una prueba larga de verdad. Otra frase aquí. Y la última."


@pytest.mark.parametrize("mode", ["sentences", "tokens"])
def test_chunks_keep_offsets_source_and_title(mode):
    doc = Document("d", TEXT, "Título", "f.txt", {"k": 1})
    chunks = chunk_documents([doc], mode=mode, max_tokens=8, overlap=3)
    assert len(chunks) > 1
    for c in chunks:
        assert TEXT[c.start:c.end] == c.text
        assert (c.doc_id, c.title, c.source, c.metadata) == ("d", "Título", "f.txt", {"k": 1})
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT)


def test_sentence_chunks_are_whole_sentences_and_overlap():
    chunks = chunk_documents([Document("d", TEXT)], max_tokens=12, overlap=5)
    assert [c.text for c in chunks] == ["Hola mundo. Esto es una prueba larga de verdad.",
                                        "Otra frase aquí. Y la última."]
    big = chunk_documents([Document("d", TEXT)], max_tokens=1000)
    assert [c.text for c in big] == [TEXT]


def test_token_windows_overlap_by_the_given_tokens():
    chunks = chunk_documents([Document("d", "a b c d e f g")], mode="tokens", max_tokens=3, overlap=1)
    assert [c.text for c in chunks] == ["a b c", "c d e", "e f g"]


def test_bad_chunk_settings():
    with pytest.raises(ConfigError, match="overlap"):
        chunk_documents([Document("d", TEXT)], max_tokens=4, overlap=4)
    with pytest.raises(ConfigError, match="chunk mode"):
        chunk_documents([Document("d", TEXT)], mode="pages")
    assert chunk_documents([Document("d", "   ")]) == []
