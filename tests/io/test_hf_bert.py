"""BERT weights through the Hugging Face layout: equal to transformers' BertModel."""

from __future__ import annotations

import json

import pytest
import torch

from lmlab.errors import ModelFormatError
from lmlab.io.hf import export_hf, import_hf
from lmlab.models.transformer.bert import BERT

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_bert(tmp_path_factory):
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=101, hidden_size=32, num_hidden_layers=3,
                                  num_attention_heads=4, intermediate_size=64,
                                  max_position_embeddings=40, type_vocab_size=2)
    model = transformers.BertModel(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(0.1 * torch.randn_like(p))
    folder = tmp_path_factory.mktemp("hf") / "bert"
    model.save_pretrained(folder)
    return model, folder


def _batch():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 101, (2, 9), generator=g)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False  # the second sentence is padded
    ids[1, 6:] = 0
    segments = torch.zeros(2, 9, dtype=torch.long)
    segments[:, 4:] = 1
    return ids, mask, segments


def test_import_matches_transformers(hf_bert):
    ref, folder = hf_bert
    ours = import_hf(folder)
    assert isinstance(ours, BERT)
    ids, mask, segments = _batch()
    with torch.no_grad():
        out = ref(ids, attention_mask=mask.long(), token_type_ids=segments, output_hidden_states=True)
        h, states = ours.encode(ids, mask, segments, all_layers=True)
        pooled = ours.pool(h)
    torch.testing.assert_close(h, out.last_hidden_state, atol=1e-4, rtol=1e-4)
    for mine, theirs in zip(states, out.hidden_states, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(pooled, out.pooler_output, atol=1e-4, rtol=1e-4)


def test_export_round_trip_and_legacy_names(tmp_path, hf_bert):
    from safetensors.torch import load_file, save_file

    ref, folder = hf_bert
    ours = import_hf(folder)
    export_hf(ours, tmp_path / "out")
    again = transformers.BertModel.from_pretrained(tmp_path / "out").eval()
    ids, mask, segments = _batch()
    with torch.no_grad():
        a = again(ids, attention_mask=mask.long(), token_type_ids=segments).last_hidden_state
        b = ref(ids, attention_mask=mask.long(), token_type_ids=segments).last_hidden_state
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # Original Google checkpoints: a "bert." prefix, LayerNorm gamma/beta, pretraining heads.
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "config.json").write_text((folder / "config.json").read_text())
    w = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
         for k, v in load_file(str(folder / "model.safetensors")).items()}
    w["cls.seq_relationship.bias"] = torch.zeros(2)
    save_file(w, str(legacy / "model.safetensors"))
    with torch.no_grad():
        torch.testing.assert_close(import_hf(legacy).encode(ids, mask, segments), b, atol=1e-4, rtol=1e-4)


def test_bad_bert_variants_are_refused(tmp_path, hf_bert):
    _, folder = hf_bert
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    config = json.loads((folder / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "position_embedding_type": "relative_key"}))
    with pytest.raises(ModelFormatError, match="relative_key"):
        import_hf(bad)
    (bad / "config.json").write_text(json.dumps({**config, "intermediate_size": 48}))
    with pytest.raises(ModelFormatError, match=r"intermediate\.dense"):
        import_hf(bad)
