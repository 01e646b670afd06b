"""`lmlab ngram ...`: train, next, eval, generate, export/import, one-line errors."""

from __future__ import annotations

import json

import pytest

from lmlab.cli.main import main

NEW_YORK = "\n".join(f"New York has amazing {w}" for w in ("food", "nightlife", "art", "culture"))


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "ny.txt"
    path.write_text(NEW_YORK + "\n", encoding="utf-8")
    return path


def test_train_next_eval_generate_export_import(tmp_path, corpus, capsys):
    model = tmp_path / "m"
    assert main(["ngram", "train", str(corpus), "-o", str(model), "--order", "3",
                 "--smoothing", "mle", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["ngrams"] == [10, 12, 11] and info["vocab_size"] == 12
    assert main(["ngram", "next", str(model), "New York has amazing", "--json"]) == 0
    nxt = json.loads(capsys.readouterr().out)
    assert sorted(d["word"] for d in nxt) == ["art", "culture", "food", "nightlife"]
    assert all(d["prob"] == pytest.approx(0.25) for d in nxt)
    # each sentence: 6 predicted tokens, only the 5th is uncertain (p = 1/4): 2 bits / 6 tokens
    assert main(["ngram", "eval", str(model), str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bits_per_token"] == pytest.approx(1 / 3)
    assert main(["ngram", "generate", str(model), "--prompt", "New", "-n", "2", "--json"]) == 0
    gens = json.loads(capsys.readouterr().out)
    assert len(gens) == 2 and all(g["text"].startswith("New York has amazing ") for g in gens)
    arpa = tmp_path / "m.arpa"
    assert main(["ngram", "export", str(model), str(arpa)]) == 0
    assert main(["ngram", "import", str(arpa), str(tmp_path / "back")]) == 0
    capsys.readouterr()
    assert main(["ngram", "eval", str(arpa), str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bits_per_token"] == pytest.approx(1 / 3, rel=1e-5)


def test_errors_are_one_line_exit_2(tmp_path, corpus, capsys):
    assert main(["ngram", "next", str(tmp_path / "missing"), "hola"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert main(["ngram", "train", str(corpus), "-o", str(tmp_path / "m"), "--order", "0"]) == 2
