"""`lmlab train gpt|bert|t5` save a usable OUT/model; `lmlab eval` scores it like Python does."""

from __future__ import annotations

import json

import pytest

import lmlab
from lmlab.cli.main import main
from lmlab.data.world import World

TINY = ["--steps", "3", "--batch-size", "4", "--seq-len", "24", "--device", "cpu", "--json"]


@pytest.fixture(scope="module")
def world_text(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    splits = World(seed=0).lm_splits(200, 30, 30)
    train, test = folder / "train.txt", folder / "test.txt"
    train.write_text("\n".join(s.text for s in splits.train) + "\n", encoding="utf-8")
    test.write_text("\n".join(s.text for s in splits.test) + "\n", encoding="utf-8")
    return train, test


@pytest.fixture(scope="module")
def gpt_run(world_text, tmp_path_factory):
    train, _ = world_text
    out = tmp_path_factory.mktemp("runs") / "gpt"
    code = main(["train", "gpt", str(train), "--preset", "gpt-tiny", "--tokenizer", "word",
                 "-o", str(out), *TINY])
    assert code == 0
    return out


def test_train_gpt_saves_a_model_that_generate_eval_and_load_open(gpt_run, world_text, capsys):
    _, test = world_text
    capsys.readouterr()
    model = lmlab.load(gpt_run / "model")
    assert type(model).__name__ == "GPT" and model.tokenizer is not None
    assert (gpt_run / "metrics.jsonl").exists() and (gpt_run / "checkpoints" / "last").exists()

    assert main(["eval", str(gpt_run / "model"), str(test), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    lines = test.read_text(encoding="utf-8").splitlines()
    expected = lmlab.perplexity(model, lines)
    assert report["ppl"] == pytest.approx(expected.ppl, rel=1e-6)
    assert report["n_tokens"] == sum(len(model.tokenizer.encode(t).ids) + 1 for t in lines)
    # world text: the exact floor of the same lines, and the model's figure in its unit
    floor = World.entropy_floor(World(0).score_lines(lines))
    assert report["entropy_floor"]["ppl"] == pytest.approx(floor.ppl)
    assert report["ppl_per_world_token"] > floor.ppl

    assert main(["generate", str(gpt_run / "model"), "El perro", "-n", "3", "--json"]) == 0
    gen = json.loads(capsys.readouterr().out)
    assert gen["prompt_ids"] == lmlab.generate(model, "El perro", max_new_tokens=3).prompt_ids


def test_train_gpt_resumes_its_run(gpt_run, world_text, capsys):
    train, _ = world_text
    capsys.readouterr()
    args = ["train", "gpt", str(train), "--preset", "gpt-tiny", "--tokenizer", "word",
            "-o", str(gpt_run), *TINY]
    args[args.index("--steps") + 1] = "5"
    assert main([*args, "--resume"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 5


@pytest.mark.parametrize(("family", "model_type"), [("bert", "BertForPreTraining"), ("t5", "T5")])
def test_train_bert_and_t5(family, model_type, world_text, tmp_path, capsys):
    train, _ = world_text
    assert main(["train", family, str(train), "-o", str(tmp_path / family), *TINY]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 3 and result["valid"]["loss"] > 0
    model = lmlab.load(tmp_path / family / "model")
    assert type(model).__name__ == model_type and model.tokenizer is not None


def test_user_errors_are_one_line(gpt_run, world_text, tmp_path, capsys):
    train, test = world_text
    assert main(["train", "gpt", str(train), "--preset", "bert-tiny", "-o", str(tmp_path / "x"),
                 *TINY]) == 2
    assert "--preset 'bert-tiny' is not a gpt preset" in capsys.readouterr().err
    assert main(["train", "bert", str(train), "-o", str(tmp_path / "b"), *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "b" / "model"), str(test)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a language model" in err and len(err.splitlines()) == 1
    assert main(["eval", str(gpt_run / "model"), str(tmp_path / "missing.txt")]) == 2
