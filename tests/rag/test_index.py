from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from lmlab.apps.rag import RagIndex, chunk_documents
from lmlab.errors import ConfigError, DataError, ModelFormatError


@pytest.fixture
def index(encoder, docs):
    idx = RagIndex(encoder, "hash-64")
    idx.add(chunk_documents(docs, max_tokens=8))
    return idx


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_finds_the_document(index, mode):
    hits = index.search("¿Cuál es la capital de Francia?", k=3, mode=mode)
    assert hits[0].chunk.doc_id == "francia"
    assert index.search_documents("canción para niños", 2, mode)[0] == "cancion"


def test_hits_carry_scores_and_offsets(index, docs):
    text = {d.id: d.text for d in docs}
    for h in index.search("Lima capital Perú", k=4, mode="hybrid"):
        assert text[h.chunk.doc_id][h.chunk.start:h.chunk.end] == h.chunk.text
        assert h.bm25 is not None and -1.0 <= h.cosine <= 1.0001
    dense = index.search("Lima", k=2, mode="dense")
    assert dense[0].score == dense[0].cosine >= dense[1].score


def test_metadata_filters(index):
    hits = index.search("Perú", k=10, mode="hybrid", filters={"tipo": "persona"})
    assert hits and {h.chunk.doc_id for h in hits} == {"lucia"}


def test_save_open_round_trip(index, encoder, tmp_path):
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["encoder"] == "hash-64" and manifest["analyzer"] == "spanish"
    assert manifest["bm25"] == {"variant": "lucene", "k1": 1.5, "b": 0.75}
    again = RagIndex.open(tmp_path / "idx", encoder, "hash-64")
    for mode in ("bm25", "dense", "hybrid"):
        a = [(h.row, round(h.score, 6)) for h in index.search("capital de Perú", 5, mode)]
        b = [(h.row, round(h.score, 6)) for h in again.search("capital de Perú", 5, mode)]
        assert a == b
    np.testing.assert_array_equal(index.vectors, again.vectors)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left
    index.save(tmp_path / "idx")  # replacing works too


def test_another_encoder_is_refused_naming_both(index, tmp_path):
    index.save(tmp_path / "idx")
    with pytest.raises(ConfigError) as err:
        RagIndex.open(tmp_path / "idx", encoder_name="all-MiniLM-L6-v2")
    msg = str(err.value)
    assert "'hash-64'" in msg and "'all-MiniLM-L6-v2'" in msg and "\n" not in msg


def test_corrupt_or_missing_index_is_a_one_line_error(index, tmp_path):
    with pytest.raises(ModelFormatError, match="no manifest"):
        RagIndex.open(tmp_path)
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFormatError, match="corrupt") as err:
        RagIndex.open(tmp_path / "idx")
    assert "\n" not in str(err.value)
    index.save(tmp_path / "idx2")
    (tmp_path / "idx2" / "chunks.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="do not match"):
        RagIndex.open(tmp_path / "idx2")


def test_incremental_add_and_delete_equal_a_fresh_build(encoder, docs):
    grown = RagIndex(encoder, "hash-64")
    grown.add(chunk_documents(docs[:2], max_tokens=8))
    grown.add(chunk_documents(docs[2:], max_tokens=8))
    assert grown.delete(["peru"]) > 0
    fresh = RagIndex(encoder, "hash-64")
    fresh.add(chunk_documents([d for d in docs if d.id != "peru"], max_tokens=8))
    assert [c.text for c in grown.chunks] == [c.text for c in fresh.chunks]
    np.testing.assert_allclose(grown.vectors, fresh.vectors)
    for mode in ("bm25", "hybrid"):
        assert [h.row for h in grown.search("capital Lima", 3, mode)] == \
               [h.row for h in fresh.search("capital Lima", 3, mode)]
    with pytest.raises(DataError, match="already in the index"):
        grown.add(chunk_documents(docs[:1]))


def test_bad_queries(index):
    with pytest.raises(DataError, match="empty"):
        index.search("   ")
    with pytest.raises(ConfigError, match="mode"):
        index.search("hola", mode="sparse")
    bm25_only = RagIndex()
    bm25_only.add(index.chunks)
    with pytest.raises(ConfigError, match="dense vectors"):
        bm25_only.search("hola", mode="dense")
    with pytest.raises(DataError, match="no chunks"):
        RagIndex().search("hola", mode="bm25")


def test_real_encoder_long_query_is_truncated_with_a_notice(docs, caplog):
    from lmlab.io.packaged import load_sentence_encoder

    enc = load_sentence_encoder("all-MiniLM-L6-v2")
    idx = RagIndex(enc, "all-MiniLM-L6-v2")
    idx.add(chunk_documents(docs))
    assert idx.search("¿Cuál es la capital de Francia?", 1, "dense")[0].chunk.doc_id == "francia"
    with caplog.at_level(logging.WARNING, logger="lmlab"):
        idx.search("capital " * 400, 1, "dense")
    assert "truncated" in caplog.text


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_backends_agree_and_the_cache_follows_additions(encoder, docs, backend):
    from lmlab.apps.rag import Document

    idx = RagIndex(encoder, "hash-64", backend=backend)
    idx.add(chunk_documents(docs))
    ref = RagIndex(encoder, "hash-64", backend="numpy")
    ref.add(chunk_documents(docs))
    got, want = idx.search("capital Lima", 4, "dense"), ref.search("capital Lima", 4, "dense")
    assert got[0].row == want[0].row  # the rest may tie
    np.testing.assert_allclose([h.score for h in got], [h.score for h in want], rtol=1e-5)
    idx.add(chunk_documents([Document("nuevo", "El xilófono suena en el teatro.")]))
    assert idx.search("xilófono teatro", 1, "dense")[0].chunk.doc_id == "nuevo"
