"""Seq2seq with attention: start/step == teacher forcing, source padding masked, learns to reverse
a sequence, and greedy/beam decoding through lmlab.generate."""

from __future__ import annotations

import pytest
import torch

import lmlab
from lmlab.data.tokens import PaddedBatches, pad_sequences
from lmlab.models.base import LanguageModel
from lmlab.models.rnn.seq2seq import Seq2Seq, Seq2SeqConfig
from lmlab.train import TrainConfig, Trainer
from lmlab.train.objectives import seq2seq

BOS, EOS = 2, 3




def _model(**kw) -> Seq2Seq:
    torch.manual_seed(0)
    cfg = {"vocab_size": 12, "d_embed": 8, "d_hidden": 10, "bos_id": BOS, "eos_id": EOS, **kw}
    return Seq2Seq(Seq2SeqConfig(**cfg)).eval()


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_conditioned_decoder_start_step_equals_teacher_forcing(attention, cell):
    model = _model(attention=attention, cell=cell, n_layers=2)
    src_ids, src_mask = pad_sequences([[4, 5, 6, 7], [8, 9]])
    tgt = torch.tensor([[BOS, 4, 5, 6, 7], [BOS, 9, 8, 5, 5]])
    full = model(src_ids, src_mask, tgt)                         # (B, T, V)
    lm = model.condition(src_ids, src_mask)
    assert isinstance(lm, LanguageModel)
    state, logits = lm.start(tgt[:, :1])
    steps = [logits]
    for t in range(1, tgt.shape[1]):
        state, logits = lm.step(state, tgt[:, t])
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_source_padding_changes_nothing(attention):
    model = _model(attention=attention)
    tgt = torch.tensor([[BOS, 4, 5]])
    alone = model(torch.tensor([[8, 9]]), None, tgt)
    src_ids, src_mask = pad_sequences([[8, 9], [4, 5, 6, 7, 8]])
    batched = model(src_ids, src_mask, tgt.expand(2, -1))
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_learns_to_reverse_and_decodes_with_generate(tmp_path, attention):
    from lmlab import generate
    g = torch.Generator().manual_seed(0)
    src = [torch.randint(4, 12, (int(torch.randint(2, 5, (1,), generator=g)),), generator=g).tolist()
           for _ in range(256)]
    tgt = [[BOS, *reversed(s), EOS] for s in src]
    data = PaddedBatches({"src_ids": src, "tgt_ids": tgt}, batch_size=32)
    model = _model(attention=attention, d_hidden=32, d_embed=16).train()
    Trainer(model, seq2seq, data, config=TrainConfig(max_steps=150, lr=0.02, device="cpu",
                                                     tensorboard=False)).fit()
    model.eval()
    tests = [[4, 7, 9], [11, 5, 6, 8], [10, 4]]
    src_ids, src_mask = pad_sequences(tests)
    cfg = generate.GenerationConfig(max_new_tokens=6, stop_token_ids=(EOS,))
    out = generate.generate(model.condition(src_ids, src_mask), [[BOS]] * 3, cfg)
    assert [g.ids for g in out] == [[*reversed(s), EOS] for s in tests]
    beam = generate.generate(model.condition(src_ids, src_mask), [[BOS]] * 3,
                             cfg.replace(strategy="beam", num_beams=3))
    assert [g.ids for g in beam] == [g.ids for g in out]
    model.save(tmp_path / "s2s")
    back = lmlab.load(tmp_path / "s2s")
    torch.testing.assert_close(back(src_ids, src_mask, torch.tensor([[BOS]] * 3)),
                               model(src_ids, src_mask, torch.tensor([[BOS]] * 3)))
