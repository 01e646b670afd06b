"""The ladder: one split for every model, comparable perplexities, outputs, and bad corpora."""

from __future__ import annotations

import json

import pytest

from lmlab.apps.ladder import LadderConfig, corpus_data, run_ladder
from lmlab.apps.ladder_report import write_outputs
from lmlab.cli.main import main
from lmlab.errors import DataError

TINY = dict(train_tokens=12_000, valid_tokens=800, test_tokens=1_500, rnn_steps=4, gpt_steps=4,
            rnn_hidden=16, gpt_d_model=16, gpt_layers=1, gpt_heads=2, batch_size=4, seq_len=16,
            w2v_epochs=1, probe_distances=(0, 4), probes_per_distance=4, max_new_tokens=4)


@pytest.fixture(scope="module")
def tiny_world_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("ladder")
    result, wv = run_ladder(LadderConfig(**TINY), models_dir=out / "models")
    paths = write_outputs(result, wv, out)
    return result, paths


def test_every_rung_is_scored_on_the_same_tokens(tiny_world_result):
    result, _ = tiny_world_result
    names = [r.name for r in result.rungs]
    assert names == ["unigrama", "bigrama KN", "trigrama KN", "5-grama KN", "RNN de Elman", "LSTM",
                     "GRU", "GPT"]
    by_name = {r.name: r for r in result.rungs}
    # Every test word and every end of sentence is scored, by every rung, never the start.
    n_test = result.n_tokens["test"] + result.n_sentences["test"]
    assert [r.n_tokens for r in result.rungs] == [n_test] * len(result.rungs)
    # More context never hurts a Kneser-Ney model much on grammar text: bigram << unigram.
    assert by_name["bigrama KN"].ppl < by_name["unigrama"].ppl / 3
    for r in result.rungs:
        assert r.ppl > result.floor["ppl"]  # no model beats the exact floor of the test text
        assert set(r.probe_accuracy) == {0, 4}
        assert all(0.0 <= a <= 1.0 for a in r.probe_accuracy.values())
        assert set(r.samples) == {"voraz", "haz (4)", "temperatura 0.8", "top-k 10", "top-p 0.9"}
    assert result.word2vec["vocab_size"] > 50


def test_outputs_hold_every_figure(tiny_world_result):
    result, paths = tiny_world_result
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [r["name"] for r in data["rungs"]] == [r.name for r in result.rungs]
    assert data["floor"]["ppl"] == pytest.approx(result.floor["ppl"])
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 4  # ppl, loss curves, probes, projection
    assert "límite exacto" in html


def test_saved_rungs_reload_with_the_same_perplexity(tiny_world_result):
    import lmlab
    from lmlab.data.world import World

    result, _ = tiny_world_result
    splits = World(seed=0).lm_splits(TINY["train_tokens"], TINY["valid_tokens"],
                                     TINY["test_tokens"], unit="tokens")
    test = [s.text for s in splits.test]
    for rung in result.rungs:
        model = lmlab.load(rung.path)
        assert rung.path.endswith(f"models/{rung.slug}")
        assert lmlab.perplexity(model, test).ppl == pytest.approx(rung.ppl, rel=1e-5)
    assert lmlab.load(result.word2vec["path"]).vector_size == 50


def test_same_seed_same_figures():
    config = LadderConfig(**{**TINY, "train_tokens": 6_000})
    a, _ = run_ladder(config)
    b, _ = run_ladder(config)
    assert [r.ppl for r in a.rungs] == [r.ppl for r in b.rungs]


def test_too_small_corpus_is_a_one_line_error(tmp_path, capsys):
    small = tmp_path / "poco.txt"
    small.write_text("Hola mundo.\n¿Qué tal?\n", encoding="utf-8")
    with pytest.raises(DataError, match="the ladder needs at least 100 sentences"):
        corpus_data(small, LadderConfig())
    assert main(["ladder", str(small), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "poco.txt" in err[0]


def test_binary_corpus_is_rejected(tmp_path, capsys):
    binary = tmp_path / "imagen.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    assert main(["ladder", str(binary), "--out", str(tmp_path / "out")]) == 2
    assert "not valid UTF-8 at byte offset 128" in capsys.readouterr().err


def test_batched_probe_scoring_equals_one_by_one():
    import numpy as np
    import torch

    from lmlab.apps.ladder import _ids, probe_accuracy
    from lmlab.data.world import World
    from lmlab.models.base import token_log_probs
    from lmlab.models.ngram import NGramLM

    world = World(0)
    train = world.lm_splits(20_000, 10, 10, unit="tokens").train
    model = NGramLM(order=3).fit([s.tokens for s in train])
    tokenizer = model.vocab.to_tokenizer()
    probes = world.long_range_probes(distances=[0, 4], n_per_distance=10)
    bos = tokenizer.token_to_id("<s>")
    expected: dict[int, list[bool]] = {}
    for probe in probes:
        prompt = [bos, *_ids(tokenizer, probe.prompt)]
        scores = [float(token_log_probs(model, torch.tensor([prompt + _ids(tokenizer, [c])]))[0, -1])
                  for c in probe.choices]
        expected.setdefault(probe.distance, []).append(
            int(np.argmax(scores)) == probe.choices.index(probe.answer))
    assert probe_accuracy(model, probes, tokenizer, batch_size=3) == {
        d: float(np.mean(v)) for d, v in expected.items()}
