"""`lmlab hf import|export` and `lmlab inspect` on Hugging Face folders."""

from __future__ import annotations

import json

import pytest
import torch

import lmlab
from lmlab.chat import TEMPLATES
from lmlab.cli.main import main

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_qwen2(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.Qwen2Config(vocab_size=64, hidden_size=16, intermediate_size=24,
                                      num_hidden_layers=1, num_attention_heads=4,
                                      num_key_value_heads=2, tie_word_embeddings=True)
    model = transformers.Qwen2ForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("qwen2")
    model.save_pretrained(folder)
    return model, folder


def test_import_export_round_trip(hf_qwen2, tmp_path, capsys):
    theirs, folder = hf_qwen2
    out = tmp_path / "ours"
    assert main(["hf", "import", str(folder), "-o", str(out), "--chat-template", "chatml",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["type"] == "llama" and report["chat_template"] is True
    model = lmlab.load(out)
    assert model.chat_template == TEMPLATES["chatml"]
    assert main(["hf", "export", str(out), "-o", str(tmp_path / "back"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_type"] == "qwen2"
    back = transformers.Qwen2ForCausalLM.from_pretrained(tmp_path / "back").eval()
    ids = torch.randint(0, 64, (1, 7))
    with torch.no_grad():
        assert torch.allclose(back(ids).logits, theirs(ids).logits, atol=1e-5)


def test_import_keeps_bfloat16_when_asked(hf_qwen2, tmp_path, capsys):
    _, folder = hf_qwen2
    assert main(["hf", "import", str(folder), "-o", str(tmp_path / "b"), "--dtype", "bfloat16",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "bfloat16"
    assert main(["inspect", str(tmp_path / "b"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {t["dtype"] for t in info["tensors"].values()} == {"bfloat16"}


def test_inspect_reads_hugging_face_headers_only(hf_qwen2, capsys):
    theirs, folder = hf_qwen2
    assert main(["inspect", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["config"]["model_type"] == "qwen2"
    assert info["tensors"]["model.layers.0.self_attn.k_proj.weight"]["shape"] == [8, 16]
    assert info["n_parameters"] == sum(p.numel() for p in theirs.parameters())  # tied: once


def test_bad_inputs_are_one_line_errors(hf_qwen2, tmp_path, capsys):
    _, folder = hf_qwen2
    bad = tmp_path / "bad"
    bad.mkdir()
    config = json.loads((folder / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "model_type": "gemma"}))
    (bad / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    assert main(["hf", "import", str(bad), "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "'gemma' has no key map" in err and len(err.splitlines()) == 1
    assert main(["hf", "import", str(folder), "-o", str(tmp_path / "y"), "--chat-template",
                 "nonexistent"]) == 2
    assert "nonexistent" in capsys.readouterr().err
