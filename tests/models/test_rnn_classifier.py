"""Bidirectional RNN classifier and siamese encoder: final states, padding, training, save/load."""

from __future__ import annotations

import pytest
import torch

import lmlab
from lmlab.data.tokens import PaddedBatches, pad_sequences
from lmlab.errors import ConfigError
from lmlab.models.rnn.classifier import RNNClassifier, RNNClassifierConfig
from lmlab.models.rnn.siamese import SiameseConfig, SiameseEncoder
from lmlab.train import TrainConfig, Trainer
from lmlab.train.objectives import classification, pair_similarity


def _clf(**kw) -> RNNClassifier:
    torch.manual_seed(0)
    return RNNClassifier(RNNClassifierConfig(vocab_size=20, d_embed=6, d_hidden=5, **kw)).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_final_states_are_forward_last_and_backward_first_of_real_tokens(cell):
    model = _clf(cell=cell, n_layers=2)
    seqs = [[3, 4, 5, 6, 7], [8, 9]]
    ids, mask = pad_sequences(seqs)
    batched = model(ids, mask)
    for row, seq in enumerate(seqs):
        x = model.embed(torch.tensor([seq]))
        _, state = model.rnn(x)                                  # unpadded, alone
        h = state[0] if isinstance(state, tuple) else state
        want = model.head(torch.cat([h[-2], h[-1]], dim=-1))[0]
        torch.testing.assert_close(batched[row], want, atol=1e-5, rtol=1e-5)


def test_classifier_learns_presence_of_a_token_and_round_trips(tmp_path):
    g = torch.Generator().manual_seed(0)
    seqs, labels = [], []
    for i in range(96):
        seq = torch.randint(2, 20, (int(torch.randint(3, 9, (1,), generator=g)),), generator=g).tolist()
        seq = [t if t != 1 else 2 for t in seq]
        if i % 2:
            seq[int(torch.randint(0, len(seq), (1,), generator=g))] = 1   # the "positive" word
        seqs.append(seq)
        labels.append(i % 2)
    data = PaddedBatches({"ids": seqs[:80], "labels": labels[:80]}, batch_size=16)
    valid = PaddedBatches({"ids": seqs[80:], "labels": labels[80:]}, batch_size=16)
    model = _clf().train()
    history = Trainer(model, classification, data, valid, TrainConfig(
        max_steps=60, lr=0.03, device="cpu", tensorboard=False)).fit()
    assert history.records[-1]["split"] == "eval" and history.records[-1]["accuracy"] >= 0.9
    model.save(tmp_path / "clf")
    back = lmlab.load(tmp_path / "clf")
    b = valid[0]
    torch.testing.assert_close(back(b["ids"], b["mask"]), model.eval()(b["ids"], b["mask"]))


def test_classifier_config_errors():
    with pytest.raises(ConfigError, match="labels"):
        RNNClassifierConfig(labels=["pos"])
    with pytest.raises(ConfigError, match="no tokenizer"):
        _clf().predict(["hola"])


def _siamese(**kw) -> SiameseEncoder:
    torch.manual_seed(0)
    return SiameseEncoder(SiameseConfig(vocab_size=20, d_embed=6, d_hidden=5, **kw)).eval()


@pytest.mark.parametrize("pooling", ["mean", "final"])
def test_siamese_encoding_ignores_padding(pooling):
    model = _siamese(pooling=pooling)
    ids, mask = pad_sequences([[3, 4, 5, 6], [7, 8]])
    batched = model.encode(ids, mask)
    alone = model.encode(torch.tensor([[7, 8]]))
    torch.testing.assert_close(batched[1], alone[0], atol=1e-6, rtol=1e-5)
    assert batched.shape == (2, 10)


def test_siamese_embed_is_unit_norm_in_input_order_and_trains():
    import tokenizers
    words = ["[PAD]", "[UNK]", "el", "la", "niño", "niña", "come", "lee", "pan", "libro"]
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    model = _siamese()
    model.tokenizer = tok
    texts = ["el niño come pan", "la niña lee", "el niño come pan"]
    vecs = model.embed(texts, batch_size=2)
    torch.testing.assert_close(vecs.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(vecs[0], vecs[2])
    assert model.similarity(["la niña lee"], ["la niña lee"]).item() == pytest.approx(1.0, abs=1e-6)

    # Pairs about eating score 1 with each other, -1 with reading: training pushes them apart.
    a = ["el niño come pan", "la niña come pan", "el niño lee libro", "la niña lee libro"]
    pairs = [(i, j, 1.0 if (i < 2) == (j < 2) else -1.0) for i in range(4) for j in range(4) if i != j]
    ids = [tok.encode(t).ids for t in a]
    data = PaddedBatches({"a_ids": [ids[i] for i, _, _ in pairs], "b_ids": [ids[j] for _, j, _ in pairs],
                          "score": [s for _, _, s in pairs]}, batch_size=12)
    before = model.similarity([a[0]], [a[2]]).item()
    Trainer(model.train(), pair_similarity, data, config=TrainConfig(
        max_steps=40, lr=0.05, device="cpu", tensorboard=False)).fit()
    after_diff, after_same = model.similarity([a[0]], [a[2]]).item(), model.similarity([a[0]], [a[1]]).item()
    assert after_diff < before and after_diff < 0 < after_same
