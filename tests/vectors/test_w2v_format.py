"""word2vec text/binary formats: exact round trips, and interchange with gensim both ways."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import DataError, ModelFormatError
from lmlab.io.word2vec_format import read_word2vec, write_word2vec
from lmlab.vectors.keyed import WordVectors

WORDS = ["el", "niño", "¿qué?", "año", "pingüino", "über"]


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return rng.normal(size=(len(WORDS), 7)).astype(np.float32)


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_is_exact(tmp_path, vectors, binary):
    path = write_word2vec(tmp_path / "v.txt", WORDS, vectors, binary=binary)
    for guess in (binary, None):  # explicit, and told from the content
        words, back = read_word2vec(path, binary=guess)
        assert words == WORDS
        np.testing.assert_array_equal(back, vectors)


def test_text_layout(tmp_path):
    path = write_word2vec(tmp_path / "v.txt", ["sí", "no"], np.array([[0.5, -1], [2, 0.25]]))
    assert path.read_text(encoding="utf-8") == "2 2\nsí 0.5 -1\nno 2 0.25\n"


def test_limit_and_headerless_glove(tmp_path, vectors):
    path = write_word2vec(tmp_path / "v.txt", WORDS, vectors)
    words, back = read_word2vec(path, limit=2)
    assert words == WORDS[:2] and back.shape == (2, 7)
    glove = tmp_path / "glove.txt"
    glove.write_text("casa 1 2 3\nperro 4 5 6\n", encoding="utf-8")
    words, back = read_word2vec(glove)
    assert words == ["casa", "perro"]
    np.testing.assert_array_equal(back, [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_ours_and_we_read_gensims(tmp_path, vectors, binary):
    gensim_models = pytest.importorskip("gensim.models")
    ours = WordVectors(WORDS, vectors)
    ours.save_word2vec_format(tmp_path / "ours", binary=binary)
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "ours"), binary=binary)
    assert kv.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, vectors)

    kv.save_word2vec_format(str(tmp_path / "theirs"), binary=binary)
    back = WordVectors.load_word2vec_format(tmp_path / "theirs")
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, vectors)


def test_bad_files_are_one_line_errors(tmp_path, vectors):
    with pytest.raises(DataError, match="not found"):
        read_word2vec(tmp_path / "missing.txt")
    path = write_word2vec(tmp_path / "v.bin", WORDS, vectors, binary=True)
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ModelFormatError, match="truncated"):
        read_word2vec(truncated, binary=True)
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\na 1 2 3\nb 1 x 3\n", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="line 3"):
        read_word2vec(bad, binary=False)
    short = tmp_path / "short.txt"
    short.write_text("3 2\na 1 2\n", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="announces 3 words"):
        read_word2vec(short)
    with pytest.raises(DataError, match="whitespace"):
        write_word2vec(tmp_path / "x.txt", ["dos palabras"], np.zeros((1, 2)))


@pytest.mark.parametrize("binary", [False, True])
def test_format_is_told_from_content_with_few_dimensions(tmp_path, binary):
    # a 2-d text line is shorter than 4 * dim bytes: the next line's word is no binary payload
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    path = write_word2vec(tmp_path / "v", ["rey", "reina", "casa"], vectors, binary=binary)
    words, back = read_word2vec(path)
    assert words == ["rey", "reina", "casa"]
    np.testing.assert_array_equal(back, vectors)
