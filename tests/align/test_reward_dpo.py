"""Reward models, sequence log-probs, DPO and `lmlab align` on tiny GPT/Llama models (seconds)."""

from __future__ import annotations

import gzip
import json

import pytest
import torch

from lmlab.align import ChatFormat, SFTBatches, completion_loss
from lmlab.align.dpo import (
    DPOObjective,
    batch_logps,
    dpo,
    frozen_copy,
    pair_logps,
    precompute_reference_logps,
    sequence_logps,
)
from lmlab.align.preferences import (
    PreferenceBatches,
    PreferencePair,
    encode_pair,
    encode_pairs,
    read_preferences,
    split_pairs,
    world_preferences,
    write_preferences,
)
from lmlab.align.reward import RewardModel, reward_accuracy, train_reward
from lmlab.cli.main import main
from lmlab.errors import DataError
from lmlab.io.loading import load
from tests.align.conftest import tiny_gpt, tiny_llama
from tests.conftest import shared_path

TEMPLATE = "zephyr"
QUESTIONS = ["capital de Italia", "plural de casa", "idioma de Francia", "tema del texto",
             "capital de Suecia", "femenino de médico", "sentimiento", "dato de Ana"]


def toy_pairs(n: int = 16) -> list[PreferencePair]:
    """Trivially separable: the chosen reply is always "sí, claro", the rejected one "no"."""
    return [PreferencePair([{"role": "user", "content": f"{QUESTIONS[i % 8]} {i}?"}], "sí, claro", "no")
            for i in range(n)]


def _margin(policy, reference, batch):
    with torch.no_grad():
        pc, pr, _, _ = pair_logps(policy, batch)
        rc, rr, _, _ = pair_logps(reference, batch)
    return float(((pc - rc) - (pr - rr)).mean())


# ---- data ---------------------------------------------------------------------------------------
def test_bad_rows_are_reported_by_line_and_strict_names_the_line(tmp_path):
    hh = {"chosen": "\n\nHuman: hola\n\nAssistant: buenos días", "rejected": "\n\nHuman: hola\n\nAssistant: no"}
    rows = [json.dumps({"prompt": "¿capital de Italia?", "chosen": "Roma", "rejected": "Oslo"}),
            json.dumps({"prompt": "p", "chosen": "igual", "rejected": "igual"}),       # line 2
            json.dumps({"prompt": "p", "chosen": "Roma"}),                             # line 3
            "{not json",                                                               # line 4
            json.dumps({"prompt": [{"role": "user", "content": "hola"}],
                        "chosen": [{"role": "assistant", "content": "buenas"}], "rejected": "no"}),
            json.dumps({"instruction": "Di hola", "input": "", "chosen": "hola", "rejected": " "}),  # 6
            json.dumps(hh),
            json.dumps({"prompt": [{"role": "assistant", "content": "x"}], "chosen": "a", "rejected": "b"})]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = read_preferences(path)
    assert [n for n, _ in data.report.bad] == [2, 3, 4, 6, 8]
    assert "chosen equals rejected" in dict(data.report.bad)[2]
    assert [p.line for p in data.pairs] == [1, 5, 7]
    assert data.pairs[1].chosen == "buenas" and data.pairs[2].prompt == [{"role": "user", "content": "hola"}]
    with pytest.raises(DataError, match="line 2: chosen equals rejected") as err:
        read_preferences(path, errors="strict")
    assert "\n" not in str(err.value)
    gz = tmp_path / "pairs.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert len(read_preferences(gz).pairs) == 3


@pytest.mark.needs_shared
def test_shared_preference_data_reads_with_its_bad_rows_named():
    rasbt = read_preferences(shared_path("instruction_preference/rasbt_instruction-data-with-preference.json"))
    assert rasbt.report.kept == 1094 and len(rasbt.report.bad) == 6
    assert all("chosen equals rejected" in why for _, why in rasbt.report.bad)
    hh = read_preferences(shared_path("instruction_preference/hh-rlhf_harmless-base_test.jsonl.gz"))
    assert hh.report.kept > 2000 and all(p.prompt[-1]["role"] == "user" for p in hh.pairs)
    train, held = split_pairs(hh.pairs, 0.2, seed=0)
    assert len(held) == round(len(hh.pairs) * 0.2) and not {id(p) for p in held} & {id(p) for p in train}


def test_world_pairs_have_flaws_and_round_trip_through_jsonl(tmp_path):
    pairs = world_preferences(8)
    assert all(p.flaw and p.chosen != p.rejected for p in pairs)
    assert world_preferences(2, offset=6)[0] == pairs[6]
    back = read_preferences(write_preferences(pairs, tmp_path / "w.jsonl")).pairs
    assert [(p.prompt, p.chosen, p.rejected, p.flaw) for p in back] == \
        [(p.prompt, p.chosen, p.rejected, p.flaw) for p in pairs]


# ---- sequence log-probs ---------------------------------------------------------------------------
def test_pair_encoding_is_sft_encoding_and_logps_equal_sft_loss(gpt):
    fmt = ChatFormat.for_model(gpt, TEMPLATE)
    pair = world_preferences(3)[1]
    enc = encode_pair(pair, fmt)
    sft = fmt.encode(pair.messages("chosen"))
    assert enc.chosen.ids == sft.ids and enc.chosen.labels == sft.labels  # single turn: same labels
    assert enc.chosen.ids[:enc.prompt_len] == fmt.encode_prompt(pair.prompt)
    with torch.no_grad():
        logp, n = batch_logps(gpt, torch.tensor([sft.ids]), torch.tensor([sft.labels]))
        loss, m = completion_loss(gpt, SFTBatches([sft], 1)[0], reduction="sum")
    assert int(n) == m and float(logp) == pytest.approx(-float(loss), rel=1e-5)


def test_sequence_logps_pads_without_changing_any_row(llama):
    prompts, responses = [[1, 5, 6, 7], [1, 8]], [[9, 10], [11, 12, 13, 14, 15, 2]]
    with torch.no_grad():
        together = sequence_logps(llama, prompts, responses, pad_id=0)
        alone = [float(sequence_logps(llama, [p], [r])[0]) for p, r in zip(prompts, responses, strict=True)]
        logits = torch.log_softmax(llama(torch.tensor([prompts[0] + responses[0]])), -1)[0]
    assert together.tolist() == pytest.approx(alone, rel=1e-5)
    by_hand = float(logits[3, 9] + logits[4, 10])  # tokens 9, 10 after positions 3, 4
    assert float(together[0]) == pytest.approx(by_hand, rel=1e-5)


# ---- reward model ---------------------------------------------------------------------------------
def test_reward_model_prefers_chosen_after_a_few_steps_and_round_trips(gpt, tmp_path):
    rm = RewardModel.from_lm(gpt, template=TEMPLATE)
    pairs = toy_pairs()
    before = reward_accuracy(rm, pairs)
    rm, history = train_reward(rm, pairs, max_steps=15, lr=3e-3, batch_size=8, device="cpu",
                               progress=False, log_every=5)
    after = reward_accuracy(rm, pairs)
    assert after["accuracy"] == 1.0 and after["gap"] > before["gap"] + 0.5
    assert history.losses()[-1] < history.losses()[0]
    assert rm.score(pairs[0].prompt, "sí, claro") > rm.score(pairs[0].prompt, "no")
    path = rm.save(tmp_path / "rm")
    assert json.loads((path / "config.json").read_text())["type"] == "reward"
    back = load(path)
    assert isinstance(back, RewardModel) and back.chat_template == rm.chat_template
    prompts, replies = [p.prompt for p in pairs[:4]], ["sí, claro", "no", "tal vez", "sí"]
    assert back.score_many(prompts, replies) == pytest.approx(rm.score_many(prompts, replies), abs=1e-6)


def test_reward_reads_the_last_real_token_of_padded_rows_and_llama_backbones(tokenizer, tmp_path):
    rm = RewardModel.from_lm(tiny_llama(tokenizer), template=TEMPLATE)
    short, long = [1, 5, 6], [1, 5, 6, 7, 8, 9]
    ids = torch.tensor([[*short, 0, 0, 0], long])
    mask = torch.tensor([[True] * 3 + [False] * 3, [True] * 6])
    with torch.no_grad():
        padded = rm(ids, mask)
        alone = [float(rm(torch.tensor([short]))), float(rm(torch.tensor([long])))]
    assert padded.tolist() == pytest.approx(alone, rel=1e-5)
    back = load(rm.save(tmp_path / "rm"))
    assert back.config.backbone_type == "llama"
    with torch.no_grad():
        assert back(ids, mask).tolist() == pytest.approx(padded.tolist(), rel=1e-6)


# ---- DPO -------------------------------------------------------------------------------------------
def test_dpo_raises_the_margin_and_keeps_the_reference_frozen(gpt):
    reference = frozen_copy(gpt)
    saved = {k: v.clone() for k, v in reference.state_dict().items()}
    pairs = toy_pairs()
    fmt = ChatFormat.for_model(gpt, TEMPLATE)
    batch = PreferenceBatches(encode_pairs(pairs, fmt, max_len=None)[0], len(pairs), shuffle=False)[0]
    assert _margin(gpt, reference, batch) == 0.0
    policy, history = dpo(gpt, pairs, reference=reference, template=TEMPLATE, beta=0.1, max_steps=12,
                          lr=3e-3, batch_size=8, device="cpu", progress=False, log_every=4)
    assert _margin(policy, reference, batch) > 1.0
    assert history.losses()[-1] < history.losses()[0]
    assert all(not p.requires_grad for p in reference.parameters())
    assert all(torch.equal(v, saved[k]) for k, v in reference.state_dict().items())
    assert policy.chat_template and policy.dpo_report.kept == len(pairs)


def test_precomputed_reference_logps_give_the_same_loss_and_ipo_trains(gpt):
    pairs = toy_pairs(6)
    fmt = ChatFormat.for_model(gpt, TEMPLATE)
    reference = frozen_copy(tiny_gpt(gpt.tokenizer, n_layers=1))
    encoded = encode_pairs(pairs, fmt, max_len=None)[0]
    live = PreferenceBatches(encoded, 6, shuffle=False)[0]
    precompute_reference_logps(reference, encoded)
    stored = PreferenceBatches(encoded, 6, shuffle=False)[0]
    assert "ref_chosen" in stored and "ref_chosen" not in live
    with torch.no_grad():
        a, _ = DPOObjective(reference, beta=0.2)(gpt, live)
        b, _ = DPOObjective(None, beta=0.2)(gpt, stored)
    assert float(a) == pytest.approx(float(b), rel=1e-5)
    _, history = dpo(gpt, pairs, precompute_reference=True, loss_type="ipo", beta=0.5,
                     template=TEMPLATE, max_steps=4, lr=3e-3, batch_size=6, device="cpu",
                     progress=False, log_every=1)
    assert history.losses()[-1] < history.losses()[0]


def test_pairs_longer_than_the_context_are_dropped_and_counted(tokenizer):
    small = tiny_gpt(tokenizer, max_seq_len=80)
    fmt = ChatFormat.for_model(small, TEMPLATE)
    pairs = [*toy_pairs(2), PreferencePair([{"role": "user", "content": "x" * 120}], "sí", "no")]
    encoded, report = encode_pairs(pairs, fmt, max_len=81)
    assert len(encoded) == 2 and report.too_long == [2]
    with pytest.raises(DataError, match=r"pair 2 has \d+ tokens, more than the context"):
        encode_pairs(pairs, fmt, max_len=81, truncation="error")
    with pytest.raises(DataError, match="no pair left"):
        encode_pairs(pairs[2:], fmt, max_len=81)


# ---- CLI -------------------------------------------------------------------------------------------
def test_cli_reward_score_and_dpo_end_to_end(gpt, tmp_path, capsys):
    gpt.chat_template = ChatFormat(gpt.tokenizer, TEMPLATE).template
    base = str(gpt.save(tmp_path / "base"))
    data = write_preferences(toy_pairs(), tmp_path / "pairs.jsonl")
    common = ["--device", "cpu", "--json", "--batch-size", "8", "--lr", "3e-3"]
    assert main(["align", "reward", "--model", base, "--data", str(data), "-o", str(tmp_path / "rm"),
                 "--steps", "12", "--eval-fraction", "0.25", *common]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 12 and result["pairs"] == 12 and result["eval_pairs"] == 4
    assert result["train_accuracy"] == 1.0
    rows = tmp_path / "score.jsonl"
    rows.write_text(json.dumps({"prompt": "capital de Italia 3?", "response": "sí, claro"}) + "\n"
                    + json.dumps({"prompt": "plural 4?", "chosen": "sí, claro", "rejected": "no"}) + "\n")
    assert main(["align", "score", str(tmp_path / "rm"), "--input", str(rows), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["pairs"] == 1 and scored["accuracy"] == 1.0 and "reward" in scored["rows"][0]
    assert main(["align", "dpo", base, "--data", str(data), "-o", str(tmp_path / "dpo"), "--steps", "4",
                 "--beta", "0.2", "--loss", "sigmoid", "--label-smoothing", "0.1", "--precompute-ref",
                 *common]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 4 and result["pairs"] == 16
    assert load(result["model"]).chat_template == gpt.chat_template
    # a bad option and an RM that is not one are one-line errors (exit 2)
    assert main(["align", "dpo", base, "--data", str(data), "-o", str(tmp_path / "x"),
                 "--loss", "ipo", "--label-smoothing", "0.1", "--device", "cpu"]) == 2
    assert main(["align", "score", base, "--input", str(rows)]) == 2
    err = capsys.readouterr().err
    assert "label smoothing is for the sigmoid loss" in err and "not a reward model" in err
