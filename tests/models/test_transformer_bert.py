"""BERT: published parameter counts, heads, padding invariance, save/load."""

from __future__ import annotations

import pytest
import torch

import lmlab
from lmlab.errors import ConfigError, DataError
from lmlab.models.transformer.bert import (
    BERT,
    BertClassifier,
    BERTConfig,
    BertForPreTraining,
    BertTagger,
    mean_pool,
)


@pytest.mark.parametrize("name,count", [
    ("bert-base", 109_482_240), ("bert-large", 335_141_888), ("minilm-l6", 22_713_216)])
def test_presets_have_the_published_parameter_counts(name, count):
    with torch.device("meta"):
        model = BERT(BERTConfig.preset(name))
    assert model.get_num_params() == count


def _cfg(**kw):
    return BERTConfig.preset("bert-tiny", vocab_size=60, max_seq_len=24, dropout=0.0, **kw)


def test_heads_shapes_and_tied_mlm_decoder():
    torch.manual_seed(0)
    ids = torch.randint(0, 60, (2, 7))
    pre = BertForPreTraining(_cfg()).eval()
    mlm, nsp = pre(ids)
    assert mlm.shape == (2, 7, 60) and nsp.shape == (2, 2)
    assert pre.mlm.decoder.weight.data_ptr() == pre.bert.tok_emb.weight.data_ptr()
    assert BertClassifier(_cfg(n_labels=3), encoder=pre.bert)(ids).shape == (2, 3)
    assert BertTagger(_cfg(n_labels=5))(ids).shape == (2, 7, 5)


def test_padding_does_not_change_real_positions_and_mean_pool_ignores_it():
    torch.manual_seed(0)
    model = BERT(_cfg()).eval()
    ids = torch.randint(1, 60, (1, 5))
    padded = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1)
    mask = torch.tensor([[True] * 5 + [False] * 3])
    h_short, h_pad = model.encode(ids), model.encode(padded, mask)
    torch.testing.assert_close(h_pad[:, :5], h_short, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mean_pool(h_pad, mask), h_short.mean(1), atol=1e-5, rtol=1e-4)
    assert mean_pool(torch.tensor([[[1.0], [3.0], [100.0]]]), torch.tensor([[1, 1, 0]])).item() == 2.0


def test_errors_and_round_trip(tmp_path):
    with pytest.raises(ConfigError, match="divisible"):
        BERTConfig(d_model=10, n_heads=4)
    model = BertTagger(_cfg(n_labels=4)).eval()
    with pytest.raises(DataError, match="max_seq_len"):
        model(torch.zeros(1, 25, dtype=torch.long))
    model.save(tmp_path / "tagger")
    again = lmlab.load(tmp_path / "tagger")
    ids = torch.randint(0, 60, (2, 6))
    torch.testing.assert_close(again(ids), model(ids))
