"""`lmlab vectors bow|tfidf|cooc|similar`."""

from __future__ import annotations

import json
import math

import pytest

from lmlab.cli.main import main

DOCS = ["el perro come pan", "el gato come pescado", "un perro bebe agua", "un gato bebe leche",
        "el niño come pan", "la niña bebe leche"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(DOCS) + "\n", encoding="utf-8")
    return path


def test_bow_and_tfidf(tmp_path, corpus, capsys):
    assert main(["vectors", "bow", str(corpus), "--json", "--output", str(tmp_path / "X.npz")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == 6 and info["vocabulary"] == 13 and info["nnz"] == 24
    assert (tmp_path / "X.npz").exists() and (tmp_path / "X.npz.vocab.txt").exists()
    assert main(["vectors", "tfidf", str(corpus), "--top", "1", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["docs"][1]["top"][0]
    # doc 1's best word is "pescado": tf = log10(2), idf = log10(6/1)
    assert top[0] == "pescado" and top[1] == pytest.approx(math.log10(2) * math.log10(6))


def test_cooc_then_similar(tmp_path, corpus, capsys):
    out = tmp_path / "vecs"
    assert main(["vectors", "cooc", str(corpus), "-o", str(out), "--dim", "4", "--min-count", "1"]) == 0
    capsys.readouterr()
    assert main(["vectors", "similar", str(out), "perro", "-k", "3", "--json"]) == 0
    nb = json.loads(capsys.readouterr().out)["perro"]
    assert len(nb) == 3 and "perro" not in [d["word"] for d in nb]
    assert main(["vectors", "similar", str(out), "ornitorrinco"]) == 2
