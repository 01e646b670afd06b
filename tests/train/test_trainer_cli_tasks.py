"""`lmlab classify`, `lmlab translate`, `lmlab similarity`: train tiny models, apply them, errors."""

from __future__ import annotations

import gzip
import json

import pytest

from lmlab.cli.main import main

TINY = ["--steps", "4", "--d-embed", "8", "--d-hidden", "8", "--batch-size", "4", "--threads", "1",
        "--device", "cpu", "--json"]


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_classify_train_and_predict(tmp_path, capsys):
    data = tmp_path / "reviews.jsonl.gz"
    rows = [{"text": f"una película {w}<br />de verdad", "label": y}
            for w, y in [("preciosa", "pos"), ("horrible", "neg"), ("genial", "pos"), ("aburrida", "neg")] * 5]
    with gzip.open(data, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    assert main(["classify", "train", "--data", str(data), "--min-frequency", "1", "-o",
                 str(tmp_path / "run"), *TINY]) == 0
    result = _json(capsys)
    assert result["n_train"] == 18 and result["n_valid"] == 2 and 0 <= result["valid_accuracy"] <= 1
    assert result["labels"] == ["neg", "pos"]
    assert main(["classify", "predict", "--model", str(tmp_path / "run" / "model"), "--json",
                 "una película preciosa", "¡horrible!"]) == 0
    preds = _json(capsys)
    assert [p["label"] in ("neg", "pos") for p in preds] == [True, True]
    assert sum(preds[0]["probs"].values()) == pytest.approx(1.0, abs=1e-3)


def test_classify_bad_field_is_a_one_line_error(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"review": "hola", "label": 1}\n', encoding="utf-8")
    assert main(["classify", "train", "--data", str(data), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "no field 'text'" in err and "review" in err


def test_translate_train_and_run(tmp_path, capsys):
    pairs = [("hola", "hello"), ("el gato", "the cat"), ("el perro", "the dog"), ("gracias", "thank you")] * 6
    data = tmp_path / "pairs.tsv"
    data.write_text("\n".join(f"{en}\t{es}" for es, en in pairs) + "\n", encoding="utf-8")
    assert main(["translate", "train", "--data", str(data), "--source-field", "2", "--target-field", "1",
                 "--valid-size", "4", "--attention", "bahdanau", "-o", str(tmp_path / "run"), *TINY]) == 0
    result = _json(capsys)
    assert result["n_valid"] == 4 and 0 <= result["chrf"] <= 100 and "bleu" in result
    assert main(["translate", "run", "--model", str(tmp_path / "run" / "model"), "--beam", "2", "--json",
                 "el gato"]) == 0
    assert _json(capsys)[0]["source"] == "el gato"


def test_similarity_train_and_score(tmp_path, capsys):
    rows = [("el gato duerme", "el felino duerme", 5), ("el gato duerme", "la bolsa sube", 0),
            ("llueve mucho", "cae mucha agua", 4), ("llueve mucho", "el perro come", 1)] * 5
    data = tmp_path / "pairs.tsv"
    data.write_text("\n".join("\t".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
    assert main(["similarity", "train", "--data", str(data), "--valid-fraction", "0.3", "-o",
                 str(tmp_path / "run"), *TINY]) == 0
    assert -1 <= _json(capsys)["valid_spearman"] <= 1
    assert main(["similarity", "score", "--model", str(tmp_path / "run" / "model"), "--json",
                 "el gato duerme", "el gato duerme"]) == 0
    assert _json(capsys)[0]["cosine"] == pytest.approx(1.0, abs=1e-4)


def test_similarity_score_needs_pairs(capsys):
    assert main(["similarity", "score", "solo uno"]) == 2
    assert "need pairs" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["classify", "train", "--limit", "40", "--min-frequency", "1"],
    ["translate", "train", "--limit", "40", "--valid-size", "4"],
    ["similarity", "train", "--limit", "40"],
])
def test_training_commands_default_to_the_world(tmp_path, capsys, command):
    import lmlab.data.world  # noqa: F401  (a hard dependency: an import error must fail)
    assert main([*command, "-o", str(tmp_path / "run"), *TINY]) == 0
    result = _json(capsys)
    assert result["n_train"] + result["n_valid"] == 40
