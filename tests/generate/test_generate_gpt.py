"""Generation on lmlab's GPT (KV cache) and through the `lmlab generate` command."""

from __future__ import annotations

import json

import pytest
import torch

from lmlab.cli.main import main
from lmlab.generate import generate
from lmlab.models.transformer import gpt


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = gpt.GPT(gpt.GPTConfig.preset("gpt-tiny", vocab_size=97, max_seq_len=48)).eval()
    with torch.no_grad():
        m.tok_emb.weight.mul_(20.0)  # peaked, tied logits: clear greedy winners
    return m


@torch.no_grad()
def test_gpt_greedy_with_cache_equals_full_recompute(model):
    prompt = [5, 17, 3, 88, 40]
    gen = generate(model, prompt, max_new_tokens=16)
    ids = torch.tensor([prompt])
    for tok, lp in zip(gen.ids, gen.log_probs, strict=True):
        logits = model(ids)[0, -1]  # the whole forward pass again, no cache
        assert int(logits.argmax()) == tok
        assert float(logits.log_softmax(-1)[tok]) == pytest.approx(lp, abs=1e-4)
        ids = torch.cat([ids, torch.tensor([[tok]])], 1)


def test_gpt_beam_one_equals_greedy_and_batches_equal_singles(model):
    prompts = [[1, 2, 3], [9, 8], [4, 4, 4], [60]]
    greedy = generate(model, prompts, max_new_tokens=10)
    beam1 = generate(model, prompts, strategy="beam", num_beams=1, max_new_tokens=10)
    assert [g.ids for g in beam1] == [g.ids for g in greedy]
    beams = generate(model, prompts, strategy="beam", num_beams=3, max_new_tokens=6)
    for p, g, b in zip(prompts, greedy, beams, strict=True):
        assert generate(model, p, max_new_tokens=10).ids == g.ids
        assert generate(model, p, strategy="beam", num_beams=3, max_new_tokens=6).ids == b.ids


def test_gpt_context_limit_comes_from_its_config(model):
    from lmlab.errors import DataError

    with pytest.raises(DataError, match="context of 48"):
        generate(model, list(range(40)), max_new_tokens=10)


# ---- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from lmlab.text.tokenizers import train_tokenizer

    tok = train_tokenizer("word", ["el niño come una manzana .", "la niña bebe agua ."])
    torch.manual_seed(1)
    m = gpt.GPT(gpt.GPTConfig.preset("gpt-tiny", vocab_size=tok.get_vocab_size(), max_seq_len=32))
    m.tokenizer = tok
    path = tmp_path_factory.mktemp("gen") / "gpt"
    m.save(path)
    return path


def test_cli_generate_json_matches_the_library(folder, capsys):
    import lmlab

    assert main(["generate", str(folder), "el niño", "-n", "5", "--json", "--top-logprobs", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    m = lmlab.load(folder)
    tok = m.tokenizer
    prompt = [tok.token_to_id("<s>"), *tok.encode("el niño", add_special_tokens=False).ids]
    ref = generate(m, prompt, max_new_tokens=5, stop_token_ids=[tok.token_to_id("</s>")],
                   tokenizer=tok)
    assert data["ids"] == ref.ids and data["text"] == ref.text and data["prompt"] == "el niño"
    assert data["tokens"] == [tok.id_to_token(i) for i in ref.ids]
    assert all(len(alts) == 2 for alts in data["top"])


def test_cli_stream_and_strategies(folder, capsys):
    assert main(["generate", str(folder), "la niña", "-n", "4", "--strategy", "sample",
                 "--top-p", "0.9", "--seed", "3", "--stream", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert 1 <= len(lines) <= 4 and lines[-1]["finish_reason"] in ("length", "stop_token")
    assert main(["generate", str(folder), "la niña", "-n", "4", "--strategy", "beam",
                 "--num-beams", "3", "--n-best", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. [") and "\n2. [" in out


def test_cli_human_output_starts_with_the_prompt(folder, capsys):
    assert main(["generate", str(folder), "la niña", "-n", "3", "--stream"]) == 0
    streamed = capsys.readouterr().out
    assert main(["generate", str(folder), "la niña", "-n", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == streamed.rstrip("\n")
    assert streamed.startswith("la niña ")
    assert main(["generate", str(folder), "", "-n", "3", "--stream"]) == 0
    empty = capsys.readouterr().out
    assert empty.strip() and not empty[0].isspace()


def test_cli_user_errors_exit_2(folder, tmp_path, capsys):
    assert main(["generate", str(folder), "el", "--strategy", "sample", "--top-p", "1.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: top_p=1.5 is out of range") and err.count("\n") == 1
    assert main(["generate", str(tmp_path / "nada"), "el"]) == 2
    assert "model folder not found" in capsys.readouterr().err
    assert main(["generate", str(folder), "el", "-n", "40"]) == 2
    assert "lower max_new_tokens below 32" in capsys.readouterr().err
