"""`lmlab prompt eval|classify|tasks`: the table, --json, and one-line errors."""

from __future__ import annotations

import json

import pytest

from lmlab.cli.main import main

# a task in JSON syntax (YAML reads it as well)
TASK = json.dumps({"name": "tiny", "data": {"file": "data.jsonl"}, "input": "text", "label": "label",
                   "template": "[X] fue [Z]", "choices": {"pos": ["buena", "bacán"], "neg": ["mala", "terrible"]},
                   "shots": [0, 1]}, ensure_ascii=False)


@pytest.fixture
def files(tmp_path, trigram):
    rows = [("la película", "pos"), ("la comida", "neg"), ("la música", "pos"), ("la comida fue", "neg")]
    with open(tmp_path / "data.jsonl", "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    (tmp_path / "tiny.yaml").write_text(TASK, encoding="utf-8")
    trigram.save(tmp_path / "lm")
    return tmp_path


def test_eval_prints_a_table_per_k_and_json(files, capsys):
    assert main(["prompt", "eval", str(files / "tiny.yaml"), "--model", str(files / "lm"),
                 "--shots", "0", "1", "--plot", str(files / "k.png")]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("tiny: 4 examples, main metric acc")
    assert lines[1].split() == ["k", "acc", "acc_norm", "macro_f1", "dropped"]
    assert [line.split()[0] for line in lines[2:4]] == ["0", "1"]
    assert (files / "k.png").is_file()
    assert main(["prompt", "eval", str(files / "tiny.yaml"), "--model", str(files / "lm"), "--shots", "1",
                 "--calibrate", "--limit", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "tiny" and data["calibrated"] is True
    (row,) = data["shots"]
    assert row["k"] == 1 and row["n"] == 2 and {"acc", "acc_norm", "acc_calibrated"} <= set(row)


def test_classify_prints_one_line_per_input(files, capsys):
    (files / "labels.json").write_text(json.dumps({"pos": ["buena", "bacán"], "neg": ["mala", "terrible"]}),
                                       encoding="utf-8")
    (files / "inputs.txt").write_text("la película\nla comida\n", encoding="utf-8")
    args = ["prompt", "classify", str(files / "lm"), "--template", "[X] fue [Z]",
            "--answers", str(files / "labels.json"), "--input", str(files / "inputs.txt")]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[0] in {"pos", "neg"}
    assert lines[0].endswith("\tla película") and "pos=" in lines[0] and "neg=" in lines[0]
    assert main([*args, "--score", "per_char", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["input"] for r in rows] == ["la película", "la comida"] and set(rows[0]["scores"]) == {"pos", "neg"}


def test_errors_are_one_line_with_exit_2(files, capsys):
    (files / "labels.json").write_text(json.dumps({"pos": []}), encoding="utf-8")
    assert main(["prompt", "classify", str(files / "lm"), "la comida", "--template", "[X] fue [Z]",
                 "--answers", str(files / "labels.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no answers" in err and "\n" not in err
    assert main(["prompt", "classify", str(files / "lm"), "la comida", "--template", "fue [Z]",
                 "--answers", str(files / "labels.json")]) == 2
    assert "[X]" in capsys.readouterr().err
    assert main(["prompt", "eval", str(files / "tiny.yaml"), "--model", str(files / "lm"), "--shots", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the model's own log lines
    assert err.startswith("error: ") and "9 shots need 9 demonstrations" in err


def test_tasks_lists_the_shipped_tasks(capsys):
    assert main(["prompt", "tasks", "--json"]) == 0
    assert "world_sentiment" in json.loads(capsys.readouterr().out)["tasks"]
    with pytest.raises(SystemExit):
        main(["prompt", "--help"])
    assert "example" in capsys.readouterr().out
