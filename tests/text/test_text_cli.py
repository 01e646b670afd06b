"""`lmlab text ...` and `lmlab tokenize ...`: outputs, stdin, --json, one-line errors."""

from __future__ import annotations

import io
import json
import sys

import pytest

from lmlab.cli.main import main
from lmlab.text.tokenizers import load_tokenizer

TEXT = "¿Qué tal, Sr. Núñez? Hola.\n\n  ¡QUÉ   bien! @ana 😀\n"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def feed_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_normalize(corpus, capsys):
    code, out, _ = run(capsys, "text", "normalize", str(corpus), "--lower", "--strip-accents", "--social")
    assert code == 0
    assert out.splitlines() == ["¿que tal, sr. nuñez? hola.", "", "¡que bien! <user> <emoji>"]


def test_sentences_from_stdin(monkeypatch, capsys):
    feed_stdin(monkeypatch, TEXT.encode())
    code, out, _ = run(capsys, "text", "sentences")
    assert code == 0
    assert out.splitlines() == ["¿Qué tal, Sr. Núñez?", "Hola.", "¡QUÉ bien! @ana 😀"]


def test_words_pipeline_json_and_output_file(corpus, tmp_path, capsys):
    code, out, _ = run(capsys, "--json", "text", "words", str(corpus))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0] == ["¿", "Qué", "tal", ",", "Sr.", "Núñez", "?", "Hola", "."]
    assert rows[1] == []
    target = tmp_path / "out.txt"
    assert main(["text", "words", str(corpus), "--pipeline", "lower words alnum stopwords",
                 "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").splitlines()[0] == "sr. núñez hola"


def test_stem_and_stopwords(monkeypatch, capsys):
    feed_stdin(monkeypatch, "Los niños cantaban canciones".encode())
    assert run(capsys, "text", "stem")[1] == "los niñ cant cancion\n"
    feed_stdin(monkeypatch, b"El perro no come en la cocina")
    assert run(capsys, "text", "stopwords", "--keep", "no")[1] == "perro no come cocina\n"
    code, out, _ = run(capsys, "--json", "text", "stopwords", "--list", "--lang", "en")
    assert code == 0 and "the" in json.loads(out)


def test_input_errors_are_one_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("el niño\n".encode("latin-1"))
    code, out, err = run(capsys, "text", "words", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "latin1.txt" in err and "byte offset 5" in err
    code, out, _ = run(capsys, "text", "words", str(bad), "--errors", "replace")
    assert code == 0 and out == "el ni \ufffd o\n"
    feed_stdin(monkeypatch, b"")
    code, _, err = run(capsys, "text", "sentences")
    assert code == 2 and "empty" in err and "<stdin>" in err
    code, _, err = run(capsys, "text", "stem", "--lang", "xx", str(bad))
    assert code == 2 and "Snowball" in err


def test_long_line_streams(tmp_path, capsys):
    path = tmp_path / "long.txt"
    path.write_text("El perro ladra. " * 50_000 + "\n", encoding="utf-8")  # one 800 KB line
    code, out, _ = run(capsys, "text", "sentences", str(path))
    assert code == 0 and out.count("\n") == 50_000


@pytest.mark.parametrize("kind", ["word", "bpe", "wordpiece"])
def test_tokenize_train_encode_decode(kind, corpus, tmp_path, capsys):
    tok_path = tmp_path / "tok.json"
    code, _, _ = run(capsys, "tokenize", "train", kind, str(corpus), "-o", str(tok_path),
                     "--vocab-size", "300", "--sentinels", "2")
    assert code == 0
    tok = load_tokenizer(tok_path)
    assert tok.token_to_id("<extra_id_1>") is not None
    code, out, _ = run(capsys, "tokenize", "encode", str(tok_path), str(corpus))
    lines = out.splitlines()
    assert [int(i) for i in lines[0].split()] == tok.encode(TEXT.splitlines()[0]).ids
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(out, encoding="utf-8")
    code, out, _ = run(capsys, "tokenize", "decode", str(tok_path), str(ids_file))
    assert code == 0
    if kind == "bpe":
        assert out == TEXT  # byte-level BPE round-trips exactly, blank line included


def test_tokenize_encode_json_tokens_and_coverage(corpus, tmp_path, capsys):
    tok_path = tmp_path / "model"
    assert main(["tokenize", "train", "word", str(corpus), "-o", str(tok_path)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "--json", "tokenize", "encode", str(tok_path), str(corpus), "--no-special")
    first = json.loads(out.splitlines()[0])
    assert first["tokens"][:3] == ["¿", "Qué", "tal"] and len(first["offsets"]) == len(first["ids"])
    other = tmp_path / "other.txt"
    other.write_text("¿Qué tal, señora?\n", encoding="utf-8")
    code, out, _ = run(capsys, "--json", "tokenize", "coverage", str(tok_path), str(other))
    report = json.loads(out)
    assert code == 0 and report["n_words"] == 6 and report["oov_words"] == 1
    assert report["top_oov"] == [["señora", 1]]


def test_tokenize_errors(corpus, tmp_path, capsys):
    code, _, err = run(capsys, "tokenize", "train", "bpe", str(corpus))
    assert code == 2 and "-o" in err
    code, _, err = run(capsys, "tokenize", "encode", str(tmp_path / "missing.json"), str(corpus))
    assert code == 2 and "tokenizer not found" in err
    tok_path = tmp_path / "tok.json"
    main(["tokenize", "train", "word", str(corpus), "-o", str(tok_path)])
    bad = tmp_path / "ids.txt"
    bad.write_text("1 2 x\n", encoding="utf-8")
    code, _, err = run(capsys, "tokenize", "decode", str(tok_path), str(bad))
    assert code == 2 and "line 1" in err
    bad.write_text("1 99999\n", encoding="utf-8")
    code, _, err = run(capsys, "tokenize", "decode", str(tok_path), str(bad))
    assert code == 2 and "outside the vocabulary" in err
