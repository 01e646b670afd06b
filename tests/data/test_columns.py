"""Column readers (`lmlab.data.columns`) and token sentences of a corpus (`lmlab.data.corpus`)."""

from __future__ import annotations

import gzip
import json

import pytest

from lmlab.data.columns import read_columns, split_holdout
from lmlab.data.corpus import sentences
from lmlab.errors import ConfigError, DataError


def test_read_jsonl_gz_by_key_with_limit(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(5):
            fh.write(json.dumps({"text": f"texto {i}", "label": i % 2, "extra": None}) + "\n")
    texts, labels = read_columns(path, ["text", "label"])
    assert texts == [f"texto {i}" for i in range(5)] and labels == [0, 1, 0, 1, 0]
    assert read_columns(path, ["label"], limit=2) == [[0, 1]]
    with pytest.raises(DataError, match=r"record 1 has no field 'score'.*text, label, extra"):
        read_columns(path, ["text", "score"])


def test_read_tsv_by_column_number(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("hello\thola\tCC-BY\n\nthe cat\tel gato\tCC-BY\n", encoding="utf-8")
    assert read_columns(path, ["2", "1"]) == [["hola", "el gato"], ["hello", "the cat"]]
    assert read_columns(path, ["1"], limit=1) == [["hello"]]
    with pytest.raises(DataError, match="not a 1-based column number"):
        read_columns(path, ["text"])
    with pytest.raises(DataError, match="line 1 has 3 tab-separated columns, column 4 needed"):
        read_columns(path, ["1", "4"])


def test_split_holdout_is_seeded_and_keeps_rows_aligned():
    cols = [list(range(10)), [f"t{i}" for i in range(10)]]
    train, valid = split_holdout(cols, 0.2, seed=3)
    assert len(train[0]) == 8 and len(valid[0]) == 2
    assert sorted(train[0] + valid[0]) == list(range(10))
    assert all(f"t{i}" == t for i, t in zip(train[0] + valid[0], train[1] + valid[1], strict=True))
    assert split_holdout(cols, 0.2, seed=3) == (train, valid)
    assert len(split_holdout([[1, 2, 3]], 0.01, seed=0)[1][0]) == 1   # at least one row held out
    with pytest.raises(ConfigError, match="valid fraction"):
        split_holdout(cols, 1.0, seed=0)


def test_sentences_tokenises_or_splits(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("El perro, come.\n\nHOLA  mundo\n", encoding="utf-8")
    assert list(sentences(path, pretokenized=True, lower=True)) == [["el", "perro,", "come."], ["hola", "mundo"]]
    tokens = list(sentences(path))
    assert tokens[0][:2] == ["El", "perro"] and "," in tokens[0] and len(tokens) == 2
