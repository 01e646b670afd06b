"""`lmlab sft`, `lmlab sft eval` and `lmlab chat` end to end on a tiny GPT (seconds)."""

from __future__ import annotations

import importlib
import io
import json

import pytest
import torch

from lmlab.align import world_examples, write_jsonl
from lmlab.cli.main import main
from lmlab.io.loading import load
from tests.align.conftest import tiny_gpt

SHORT = ("capital", "idioma", "sentimiento")
sft_module = importlib.import_module("lmlab.align.sft")  # lmlab.align.sft is also the function


@pytest.fixture
def setup(tokenizer, tmp_path):
    base = tiny_gpt(tokenizer).save(tmp_path / "base")
    data = write_jsonl(world_examples(24, tasks=SHORT), tmp_path / "train.jsonl")
    return tmp_path, str(base), str(data)


def _sft(args, tmp, name, *extra):
    base, data = args
    return main(["sft", base, "--data", data, "--chat-template", "zephyr", "-o", str(tmp / name),
                 "--batch-size", "4", "--lr", "3e-3", "--device", "cpu", "--json", *extra])


def test_sft_trains_saves_and_resumes_exactly(setup, monkeypatch, capsys):
    tmp, base, data = setup
    assert _sft((base, data), tmp, "full", "--steps", "6") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 6 and result["examples"] == 24
    whole = load(result["model"])
    assert whole.chat_template and "<|assistant|>" in whole.chat_template

    calls = {"n": 0}
    real = sft_module.completion_lm

    def interrupted(model, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(model, batch)

    monkeypatch.setattr(sft_module, "completion_lm", interrupted)
    assert _sft((base, data), tmp, "cut", "--steps", "6") == 130  # Ctrl-C at step 4
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.setattr(sft_module, "completion_lm", real)
    assert (tmp / "cut" / "checkpoints" / "last").exists()
    assert _sft((base, data), tmp, "cut", "--steps", "6", "--resume") == 0
    resumed = load(json.loads(capsys.readouterr().out)["model"])
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_sft_lora_prints_trainable_count_and_writes_adapters(setup, capsys):
    tmp, base, data = setup
    assert _sft((base, data), tmp, "lora", "--steps", "2", "--lora-rank", "2",
                "--lora-targets", "qkv,down") == 0
    captured = capsys.readouterr()
    assert "trainable parameters of" in captured.err
    result = json.loads(captured.out)
    assert (tmp / "lora" / "adapter" / "adapter_config.json").is_file()
    assert (tmp / "lora" / "adapter" / "adapter_model.safetensors").is_file()
    merged = load(result["model"])  # a plain model: adapters merged
    assert not any("lora" in k for k in merged.state_dict())


def test_sft_eval_reports_exact_match_per_task(setup, capsys):
    tmp, base, data = setup
    assert _sft((base, data), tmp, "run", "--steps", "1") == 0
    model_dir = json.loads(capsys.readouterr().out)["model"]
    assert main(["sft", "eval", model_dir, "--data", data, "--max-new-tokens", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["per_task"]) == set(SHORT) and 0.0 <= report["overall"] <= 1.0
    assert sum(report["counts"].values()) == 24


def test_bad_rows_are_counted_by_line_and_strict_stops(setup, capsys):
    tmp, base, _ = setup
    bad = tmp / "bad.jsonl"
    bad.write_text("\n".join([
        json.dumps({"instruction": "Responde.", "input": "", "output": "París"}),
        json.dumps({"instruction": "Responde.", "input": ""}),
        json.dumps({"instruction": "Responde.", "output": "Roma"}),
    ]) + "\n", encoding="utf-8")
    assert _sft((base, str(bad)), tmp, "bad", "--steps", "1") == 0
    assert json.loads(capsys.readouterr().out)["examples"] == 2
    code = _sft((base, str(bad)), tmp, "bad2", "--steps", "1", "--strict")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "line 2" in err[-1] and "'output'" in err[-1]


def test_chat_streams_keeps_history_and_obeys_commands(tokenizer, tmp_path, monkeypatch, capsys):
    folder = tiny_gpt(tokenizer, max_seq_len=160).save(tmp_path / "m")  # room for ~2 exchanges
    monkeypatch.setattr("sys.stdin", io.StringIO(
        "Hola\n/system Responde con una palabra.\n¿ Cuál es la capital de Francia ?\n"
        "¿ Qué idioma se habla en Italia ?\n/reset\nHola\n/exit\nnunca leído\n"))
    code = main(["chat", str(folder), "--chat-template", "zephyr", "-n", "40"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "[system message set]" in err and "[conversation reset]" in err
    assert out.strip()
    assert "dropped the" in err  # 3 exchanges of ~40 tokens + 40 new ones exceed 160


def test_chat_session_drops_oldest_exchanges_and_keeps_the_system_message(tokenizer):
    from lmlab.align.session import ChatSession
    from lmlab.errors import DataError
    from lmlab.generate import GenerationConfig

    drops = []
    session = ChatSession(tiny_gpt(tokenizer, max_seq_len=160), template="zephyr",
                          system="Responde.", on_drop=drops.append,
                          generation=GenerationConfig(max_new_tokens=30))
    for text in ["¿ Cuál es la capital de Francia ?"] * 4:
        "".join(session.send(text))
    assert drops and session.dropped == sum(drops)
    assert session.messages()[0] == {"role": "system", "content": "Responde."}
    assert len(session.fmt.encode_prompt(session.messages())) <= 160
    assert [m["role"] for m in session.history][-2:] == ["user", "assistant"]
    session.reset()
    assert session.history == [] and session.system == "Responde."
    with pytest.raises(DataError, match=r"more than the .* context leaves"):
        "".join(session.send("palabra " * 60))
