"""`read_sft_data`: Alpaca JSON lists, messages/ShareGPT JSONL, bad rows named by line number."""

from __future__ import annotations

import json

import pytest

from lmlab.align import read_sft_data, world_examples
from lmlab.errors import DataError


def test_alpaca_json_list_and_line_numbers(tmp_path):
    rows = [{"instruction": "Traduce.", "input": "el perro", "output": "the dog", "task": "t"},
            {"instruction": "Responde.", "input": ""},                       # no output
            {"instruction": "Responde.", "input": "", "output": "   "},      # empty output
            {"instruction": "Di hola.", "output": "hola"}]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    data = read_sft_data(path)
    assert data.format == "alpaca" and len(data.examples) == 2
    first = data.examples[0]
    assert first.messages == [{"role": "user", "content": "Traduce.\n\nel perro"},
                              {"role": "assistant", "content": "the dog"}]
    assert first.task == "t" and first.answer == "the dog" and first.line == 2
    lines = json.dumps(rows, indent=2).splitlines()
    (n2, why2), (_, why3) = data.report.bad
    assert lines[n2 - 1].strip() == "{" and "no 'output'" in why2 and "empty" in why3
    assert "2 examples kept, 2 skipped" in data.report.summary()


def test_messages_and_sharegpt_jsonl_with_bad_rows(tmp_path):
    good = {"messages": [{"role": "system", "content": "Sé breve."},
                         {"role": "user", "content": "Hola"},
                         {"role": "assistant", "content": "Buenas"}]}
    share = {"conversations": [{"from": "human", "value": "Hola"}, {"from": "gpt", "value": "Hey"}]}
    lines = [json.dumps(good), json.dumps({"messages": []}),
             json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
             "{not json", json.dumps({"messages": [{"role": "user", "content": "solo"}]}),
             json.dumps(share)]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_sft_data(path)
    assert [e.line for e in data.examples] == [1, 6]
    assert data.examples[1].messages[1] == {"role": "assistant", "content": "Hey"}
    reasons = dict(data.report.bad)
    assert set(reasons) == {2, 3, 4, 5}
    assert "empty" in reasons[2] and "unknown role 'robot'" in reasons[3]
    assert "invalid JSON" in reasons[4] and "no assistant turn" in reasons[5]
    with pytest.raises(DataError, match=r"line 2: .*empty") as exc:
        read_sft_data(path, errors="strict")
    assert "\n" not in str(exc.value)


def test_no_good_rows_and_missing_file(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"instruction": "a"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="no usable example"):
        read_sft_data(path)
    with pytest.raises(DataError, match="no such file"):
        read_sft_data(tmp_path / "nope.json")


def test_world_examples_are_disjoint_ranges_of_the_worlds_items():
    train, test = world_examples(16), world_examples(8, offset=16)
    assert {e.task for e in train} == {e.task for e in test} and len(test) == 8
    assert world_examples(24)[16:][0].messages == test[0].messages


def test_shared_instruction_data_reads_cleanly(shared_data):
    data = read_sft_data(shared_data("instruction_preference/rasbt_instruction-data.json"))
    assert len(data.examples) >= 1000 and data.format == "alpaca"
