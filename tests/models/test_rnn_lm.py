"""RNN language model: start/step == teacher forcing, tying, save/load, pretrained embeddings,
generation and perplexity through the shared interface, and learning through the Trainer."""

from __future__ import annotations

import math

import pytest
import torch

import lmlab
from lmlab.errors import ConfigError
from lmlab.models.base import LanguageModel, perplexity, token_log_probs
from lmlab.models.rnn.common import load_pretrained_embeddings
from lmlab.models.rnn.lm import RNNLanguageModel, RNNLMConfig


def _model(**kw) -> RNNLanguageModel:
    torch.manual_seed(0)
    return RNNLanguageModel(RNNLMConfig(vocab_size=17, d_embed=8, d_hidden=12, **kw)).eval()


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_start_step_equals_teacher_forcing(cell):
    model = _model(cell=cell, n_layers=2)
    assert isinstance(model, LanguageModel)
    ids = torch.randint(0, 17, (3, 7))
    full = model.teacher_forced_logits(ids)                      # (B, T, V)
    state, logits = model.start(ids[:, :2])
    steps = [logits]
    for t in range(2, 7):
        state, logits = model.step(state, ids[:, t])
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full[:, 1:], atol=1e-5, rtol=1e-5)


def test_reorder_state_follows_rows():
    model = _model(cell="lstm", n_layers=2)
    ids = torch.randint(0, 17, (3, 4))
    state, _ = model.start(ids)
    rows = torch.tensor([2, 2, 0])
    picked = model.reorder_state(state, rows)
    _, want = model.step(model.start(ids[rows])[0], ids[rows, -1])
    _, got = model.step(picked, ids[rows, -1])
    torch.testing.assert_close(got, want)


def test_weight_tying_shares_the_matrix_with_and_without_projection(tmp_path):
    same = RNNLanguageModel(RNNLMConfig(vocab_size=17, d_embed=12, d_hidden=12, tie_weights=True))
    assert same.head.weight is same.embed.weight and same.proj is None
    proj = _model(tie_weights=True)
    assert proj.head.weight is proj.embed.weight and proj.proj is not None
    proj.save(tmp_path / "m")
    back = lmlab.load(tmp_path / "m")
    assert back.head.weight is back.embed.weight
    ids = torch.randint(0, 17, (2, 5))
    torch.testing.assert_close(back(ids), proj(ids))


def test_bad_config_is_a_user_error():
    with pytest.raises(ConfigError, match="cell"):
        RNNLMConfig(cell="transformer")
    with pytest.raises(ConfigError, match="dropout"):
        RNNLMConfig(dropout=1.0)


def test_pretrained_embeddings_fill_known_tokens():
    import tokenizers
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"[UNK]": 0, "niño": 1, "niña": 2}, unk_token="[UNK]"))
    emb = torch.nn.Embedding(3, 2)
    found = load_pretrained_embeddings(emb, tok, {"niño": [1.0, 2.0], "casa": [0.0, 0.0]}, freeze=True)
    assert found == 1 and emb.weight[1].tolist() == [1.0, 2.0] and not emb.weight.requires_grad
    with pytest.raises(ConfigError, match="d_embed=3"):
        load_pretrained_embeddings(emb, tok, {"niña": [1.0, 2.0, 3.0]})


def test_perplexity_and_generation_work_through_the_interface():
    model = _model(cell="gru")
    seqs = [[1, 2, 3, 4], [1, 5, 6]]
    result = perplexity(model, seqs)
    lp = torch.cat([token_log_probs(model, torch.tensor([s])).flatten() for s in seqs])
    assert result.ppl == pytest.approx(math.exp(-float(lp.sum()) / 5), rel=1e-5)
    from lmlab import generate
    greedy = generate.generate(model, [1, 2], generate.GenerationConfig(max_new_tokens=4))
    beam = generate.generate(model, [1, 2], generate.GenerationConfig(strategy="beam", num_beams=1,
                                                                    max_new_tokens=4))
    assert greedy.ids == beam.ids and len(greedy.ids) == 4


def test_lstm_learns_a_deterministic_sequence_through_the_trainer():
    import numpy as np

    from lmlab.data.tokens import RandomWindows
    from lmlab.train import TrainConfig, Trainer
    from lmlab.train.objectives import causal_lm

    tokens = np.tile(np.array([1, 4, 2, 4, 3, 4, 5], dtype=np.uint16), 60)  # "4" then what came 2 back
    model = _model(cell="lstm")
    train = RandomWindows(tokens, seq_len=14, batch_size=8, seed=0, n_batches=40)
    history = Trainer(model, causal_lm, train, config=TrainConfig(
        max_steps=80, lr=0.05, device="cpu", tensorboard=False)).fit()
    # The sequence is periodic (entropy 0) but the first token of each window is unpredictable.
    assert history.losses()[-1] < 0.2 < 2.0 < history.losses()[0]


def test_pretrained_embeddings_from_gensim_keyed_vectors():
    import tokenizers
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(vector_size=2)
    kv.add_vectors(["señora", "pan"], [[0.5, -1.0], [2.0, 3.0]])
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"[UNK]": 0, "pan": 1, "señora": 2}, unk_token="[UNK]"))
    model = RNNLanguageModel(RNNLMConfig(vocab_size=3, d_embed=2, d_hidden=4))
    assert load_pretrained_embeddings(model.embed, tok, kv) == 2
    assert model.embed.weight[2].tolist() == [0.5, -1.0] and model.embed.weight.requires_grad
