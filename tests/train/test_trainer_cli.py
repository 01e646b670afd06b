"""`lmlab train rnn`: trains, saves a loadable model, resumes, and reports user errors in one line."""

from __future__ import annotations

import json

import pytest

import lmlab
from lmlab.cli.main import main

SENTENCES = ["el niño come pan .", "la niña lee un libro .", "¿ dónde está la señora ?",
             "el perro come carne .", "la señora lee el periódico ."] * 8


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    return path


def test_train_rnn_on_a_corpus_saves_a_model_and_reports_perplexity(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    code = main(["train", "rnn", "--corpus", str(corpus), "--steps", "6", "--d-embed", "8",
                 "--d-hidden", "8", "--seq-len", "8", "--batch-size", "4", "--threads", "1",
                 "-o", str(out), "--json", "--device", "cpu"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 6 and result["valid"]["ppl"] > 1
    model = lmlab.load(out / "model")
    assert model.config.cell == "lstm" and model.tokenizer is not None
    assert (out / "metrics.jsonl").exists() and (out / "loss.png").exists()

    code = main(["train", "rnn", "--corpus", str(corpus), "--steps", "8", "--d-embed", "8",
                 "--d-hidden", "8", "--seq-len", "8", "--batch-size", "4", "--threads", "1",
                 "-o", str(out), "--resume", "--json", "--device", "cpu"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 8
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 6, 6, 8, 8]          # train+eval records: continued at 7, not restarted


def test_missing_corpus_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["train", "rnn", "--corpus", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope.txt" in err and "\n" not in err
