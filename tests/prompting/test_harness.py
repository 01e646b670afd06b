"""The YAML task harness end to end (0 and 1 shots), field validation, and the shipped tasks."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import f1_score

from lmlab.errors import ConfigError, DataError, LmlabError
from lmlab.prompting import FewShot, classify, evaluate_task, load_task, shipped_tasks
from lmlab.prompting.datasets import SHARED_ENV, dates
from lmlab.prompting.harness import macro_f1

RECORDS = [
    {"text": "la película", "label": "pos"},
    {"text": "la comida", "label": "neg"},
    {"text": "la música", "label": "pos"},
    {"text": "la película fue mala y la comida", "label": "neg"},
    {"text": "la comida fue muy buena y la película", "label": "pos"},
    {"text": "la música fue terrible y la comida", "label": "neg"},
]

TASK = """\
name: tiny
data: {file: data.jsonl}
input: text
label: label
template: "[X] fue [Z]"
choices:
  pos: [buena, bacán]
  neg: [mala, terrible]
metric: acc
metrics: [acc, acc_norm, acc_mutual_info, macro_f1]
shots: [0, 1]
fewshot_separator: " "
"""


@pytest.fixture
def tiny_task(tmp_path):
    with open(tmp_path / "data.jsonl", "w", encoding="utf-8") as f:
        for r in RECORDS:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (tmp_path / "tiny.yaml").write_text(TASK, encoding="utf-8")
    return tmp_path / "tiny.yaml"


def test_a_tiny_task_runs_end_to_end_with_0_and_1_shots(trigram, tiny_task, tmp_path):
    result = evaluate_task(trigram, tiny_task, plot=tmp_path / "shots.png")
    assert [r.k for r in result.results] == [0, 1] and all(r.n == 6 for r in result.results)
    assert result.metric_names == ["acc", "acc_norm", "acc_mutual_info", "macro_f1"]
    task = load_task(tiny_task)
    xs, gold = [r["text"] for r in RECORDS], [r["label"] for r in RECORDS]
    shots = FewShot(list(zip(xs, gold, strict=True)), task.template, answer=task.verbalizer, separator=" ")
    for r in result.results:
        built = [shots.build(x, r.k, exclude=i, key=i) for i, x in enumerate(xs)]
        assert all(b.k == r.k and i not in b.indices for i, b in enumerate(built))
        prefixes = [b.prefix for b in built]
        preds = [p.label for p in classify(trigram, task.template, task.verbalizer, xs, prefixes=prefixes)]
        assert r.predictions == preds
        assert r.metrics["acc"] == pytest.approx(sum(p == g for p, g in zip(preds, gold, strict=True)) / 6)
        assert r.metrics["macro_f1"] == pytest.approx(f1_score(gold, preds, average="macro"))
        assert all(0.0 <= v <= 1.0 for v in r.metrics.values())
    assert (tmp_path / "shots.png").read_bytes()[:4] == b"\x89PNG"
    table = result.table()
    assert "acc_norm" in table and table.count("\n") == 3
    again = evaluate_task(trigram, task, shots=[1], calibrate=True, limit=3)
    assert again.results[0].n == 3 and "acc_calibrated" in again.results[0].metrics


def test_macro_f1_matches_scikit_learn():
    gold, pred = ["a", "b", "b", "c", "a"], ["a", "b", "a", "a", "c"]
    assert macro_f1(gold, pred) == pytest.approx(f1_score(gold, pred, average="macro"))


def test_a_generation_task_with_exact_match_and_answer_extraction(tmp_path, make_script_lm):
    data = [{"q": "tres más cuatro", "a": "7"}, {"q": "dos más cinco", "a": "7"}, {"q": "cuatro más cuatro", "a": "8"}]
    (tmp_path / "sumas.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    common = "data: {file: sumas.json}\ninput: q\nlabel: a\nshots: [0, 1]\n"
    (tmp_path / "plain.yaml").write_text(common + 'template: "[X] ="\n', encoding="utf-8")
    (tmp_path / "cot.yaml").write_text(common + 'template: "[X] ="\nextract: answer\n', encoding="utf-8")
    seven = make_script_lm([{"7": 1.0}, {"</s>": 1.0}], ["7", "8", "La", "respuesta", "es", "."])
    result = evaluate_task(seven, tmp_path / "plain.yaml")
    assert [r.metrics["exact_match"] for r in result.results] == pytest.approx([2 / 3, 2 / 3])
    assert result.metric == "exact_match" and result.results[0].predictions == ["7", "7", "7"]
    chain = make_script_lm([{"La": 1.0}, {"respuesta": 1.0}, {"es": 1.0}, {"8": 1.0}, {".": 1.0}, {"</s>": 1.0}],
                           ["7", "8", "La", "respuesta", "es", "."])
    assert evaluate_task(chain, tmp_path / "cot.yaml", shots=[0]).results[0].metrics["exact_match"] \
        == pytest.approx(1 / 3)
    with pytest.raises(ConfigError, match="calibration needs answer choices"):
        evaluate_task(seven, tmp_path / "plain.yaml", calibrate=True)


@pytest.mark.parametrize("change, field", [
    ({"colour": "red"}, "colour"),
    ({"template": "fue [Z]"}, "template"),
    ({"metric": "exact_match"}, "metric"),
    ({"metric": "bleu"}, "metric"),
    ({"shots": [0, -1]}, "shots"),
    ({"shots": "four"}, "shots"),
    ({"selection": "closest"}, "selection"),
    ({"choices": {}}, "choices"),
    ({"choices": {"pos": ["buena"], "neg": ["buena"]}}, "choices"),
    ({"input": ["text", "label"]}, "input"),
    ({"target_delimiter": "\n"}, "target_delimiter"),
    ({"data": {"file": "missing.jsonl"}}, "data"),
    ({"data": {"generator": "world.poems"}}, "data"),
    ({"seed": "zero"}, "seed"),
    ({"demonstrations": {"split": 99}}, "demonstrations"),
])
def test_every_bad_field_is_a_one_line_error_naming_field_and_file(tiny_task, change, field, single_line):
    import yaml

    raw = yaml.safe_load(tiny_task.read_text(encoding="utf-8"))
    bad = tiny_task.with_name("bad.yaml")
    bad.write_text(yaml.safe_dump({**raw, **change}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LmlabError) as info:
        load_task(bad)
    message = str(info.value)
    assert single_line(info.value) and field in message and str(bad) in message


def test_labels_outside_the_choices_and_broken_yaml_are_errors(tiny_task, single_line):
    with open(tiny_task.with_name("data.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "la sopa", "label": "neutral"}) + "\n")
    with pytest.raises(DataError, match="'neutral', not one of the choices") as info:
        load_task(tiny_task)
    assert single_line(info.value)
    broken = tiny_task.with_name("broken.yaml")
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML at line"):
        load_task(broken)
    with pytest.raises(ConfigError, match="no task file or shipped task"):
        load_task("no_such_task")


def test_shipped_world_tasks_load_and_run(trigram):
    assert {"world_sentiment", "world_topic", "date_format", "sfu_sentiment", "mgsm_es"} <= set(shipped_tasks())
    senti = load_task("world_sentiment")
    assert len(senti.pool) == 40 and len(senti.examples) == 200
    assert {senti.y_of(r) for r in senti.examples} == {"positivo", "negativo"}
    result = evaluate_task(trigram, senti, shots=[0, 2], limit=4)
    assert [r.k for r in result.results] == [0, 2] and result.chance == 0.5
    fmt = load_task("date_format")
    assert fmt.metric == "exact_match" and fmt.y_of(fmt.examples[0]).startswith("!")
    first = dates(1, seed=0)[0]
    y, m, d = first["input"].split("-")
    assert first["target"] == f"!{m}!{d}!{y}!"
    assert load_task("world_topic").verbalizer.labels == ("deportes", "cocina", "viajes", "música",
                                                           "ciencia", "familia")


@pytest.mark.needs_shared
def test_sfu_spanish_reviews_task(trigram, shared_data, monkeypatch):
    path = shared_data("spanish_sentiment/sfu_spanish_reviews/reviews.jsonl")
    monkeypatch.setenv(SHARED_ENV, str(path.parents[2]))
    task = load_task("sfu_sentiment")
    assert len(task.examples) == 400 and task.pool is None
    assert {task.y_of(r) for r in task.examples[:20]} == {"0", "1"}  # shuffled: both labels early
    assert max(len(task.x_of(r)) for r in task.examples) == 1500
    result = evaluate_task(trigram, task, shots=[0, 1], limit=3)
    assert [r.n for r in result.results] == [3, 3]


def test_shared_tasks_without_the_data_say_how_to_fix_it(monkeypatch, tmp_path, single_line):
    monkeypatch.setenv(SHARED_ENV, str(tmp_path))
    with pytest.raises(DataError, match=SHARED_ENV) as info:
        load_task("sfu_sentiment")
    assert single_line(info.value)


def test_tsv_data_with_numbered_columns(tmp_path, make_script_lm):
    (tmp_path / "sumas.tsv").write_text("tres más cuatro\t7\ncuatro más cuatro\t8\n", encoding="utf-8")
    (tmp_path / "t.yaml").write_text('data: {file: sumas.tsv}\ninput: "1"\nlabel: "2"\ntemplate: "[X] ="\n'
                                     "extract: last_number\n", encoding="utf-8")
    task = load_task(tmp_path / "t.yaml")
    assert [task.x_of(r) for r in task.examples] == ["tres más cuatro", "cuatro más cuatro"]
    seven = make_script_lm([{"7": 1.0}, {"</s>": 1.0}], ["7", "8"])
    assert evaluate_task(seven, task).results[0].metrics == {"exact_match": 0.5}
