"""T5-style model: published parameter counts, cache == recompute, conditioning, learning."""

from __future__ import annotations

import pytest
import torch

import lmlab
from lmlab.errors import ConfigError, DataError
from lmlab.models.base import LanguageModel
from lmlab.models.transformer.t5 import T5, T5Config, task_input


@pytest.mark.parametrize("name,count", [("t5-small", 60_506_624), ("t5-base", 222_903_552)])
def test_presets_have_the_published_parameter_counts(name, count):
    with torch.device("meta"):
        model = T5(T5Config.preset(name))
    assert model.get_num_params() == count


def _tiny():
    torch.manual_seed(0)
    return T5(T5Config.preset("t5-tiny", vocab_size=40, max_seq_len=32)).eval()


def _src():
    g = torch.Generator().manual_seed(0)
    src = torch.randint(2, 40, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 5:] = False
    return src, mask, torch.randint(2, 40, (2, 6), generator=g)


def test_conditioned_steps_equal_teacher_forcing():
    model = _tiny()
    src, mask, tgt = _src()
    full = model(src, mask, tgt)  # (B, T, V)
    lm = model.condition(src, mask)
    assert isinstance(lm, LanguageModel)
    torch.testing.assert_close(lm.teacher_forced_logits(tgt), full, atol=1e-5, rtol=1e-4)
    state, logits = lm.start(tgt[:, :2])
    torch.testing.assert_close(logits, full[:, 1], atol=1e-5, rtol=1e-4)
    for t in range(2, 6):
        state, logits = lm.step(state, tgt[:, t])
        torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-4)
    # beam search reorders rows: row 1 alone gives row 1's logits
    state, _ = lm.start(tgt[:, :3])
    state.reorder(torch.tensor([1, 1]))
    _, logits = lm.step(state, tgt[[1, 1], 3])
    torch.testing.assert_close(logits, full[[1, 1], 3], atol=1e-5, rtol=1e-4)


def test_source_padding_is_ignored_and_the_decoder_is_causal():
    model = _tiny()
    src, mask, tgt = _src()
    short = model(src[1:, :5], None, tgt[1:])
    torch.testing.assert_close(model(src, mask, tgt)[1:], short, atol=1e-5, rtol=1e-4)
    changed = tgt.clone()
    changed[:, 4:] = 3
    torch.testing.assert_close(model(src, mask, changed)[:, :4], model(src, mask, tgt)[:, :4])


@pytest.mark.slow
def test_memorises_a_tiny_translation_and_saves(tmp_path):
    torch.manual_seed(0)
    model = T5(T5Config.preset("t5-tiny", vocab_size=20, max_seq_len=16, d_model=32, d_ff=64,
                               n_heads=2))
    src = torch.tensor([[5, 6, 7, 1], [8, 9, 1, 0]])
    mask = src != 0
    tgt = torch.tensor([[0, 15, 16, 17, 1], [0, 18, 19, 1, 0]])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        logits = model(src, mask, tgt[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 20), tgt[:, 1:].reshape(-1),
                                                 ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    lm = model.condition(src, mask)
    state, logits = lm.start(torch.zeros(2, 1, dtype=torch.long))
    out = []
    for _ in range(3):
        nxt = logits.argmax(-1)
        out.append(nxt)
        state, logits = lm.step(state, nxt)
    assert torch.stack(out, 1).tolist() == [[15, 16, 17], [18, 19, 1]]
    model.save(tmp_path / "t5")
    again = lmlab.load(tmp_path / "t5")
    torch.testing.assert_close(again(src, mask, tgt), model(src, mask, tgt))


def test_errors_and_task_prefixes():
    model = _tiny()
    src, mask, tgt = _src()
    with pytest.raises(DataError, match="batch"):
        model.condition(src, mask).start(tgt[:1])
    with pytest.raises(ConfigError, match="divisible"):
        T5Config(d_model=10, n_heads=4)
    assert task_input("translate_es_en", "Hola.") == "translate Spanish to English: Hola."
    with pytest.raises(ConfigError, match="task"):
        task_input("poetry", "x")


def test_matches_transformers_t5_on_the_same_weights():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hc = transformers.T5Config(vocab_size=50, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                               dropout_rate=0.0, feed_forward_proj="relu", tie_word_embeddings=True)
    ref = transformers.T5ForConditionalGeneration(hc).eval()
    ours = T5(T5Config(vocab_size=50, max_seq_len=32, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                       dropout=0.0)).eval()
    sd = ref.state_dict()
    rel = "block.0.layer.0.SelfAttention.relative_attention_bias.weight"
    st = {"embed.weight": sd["shared.weight"], "enc_bias.embedding.weight": sd["encoder." + rel],
          "dec_bias.embedding.weight": sd["decoder." + rel],
          "enc_norm.weight": sd["encoder.final_layer_norm.weight"],
          "dec_norm.weight": sd["decoder.final_layer_norm.weight"]}
    for i in range(2):
        for stack, ff_layer in (("encoder", 1), ("decoder", 2)):
            h = f"{stack}.block.{i}.layer."
            st[f"{stack}.{i}.attn.qkv.weight"] = torch.cat([sd[h + f"0.SelfAttention.{n}.weight"] for n in "qkv"])
            st[f"{stack}.{i}.attn.out.weight"] = sd[h + "0.SelfAttention.o.weight"]
            st[f"{stack}.{i}.norm_attn.weight"] = sd[h + "0.layer_norm.weight"]
            st[f"{stack}.{i}.ff.up.weight"] = sd[h + f"{ff_layer}.DenseReluDense.wi.weight"]
            st[f"{stack}.{i}.ff.down.weight"] = sd[h + f"{ff_layer}.DenseReluDense.wo.weight"]
            st[f"{stack}.{i}.norm_ff.weight"] = sd[h + f"{ff_layer}.layer_norm.weight"]
        h = f"decoder.block.{i}.layer.1."
        st[f"decoder.{i}.cross.q.weight"] = sd[h + "EncDecAttention.q.weight"]
        st[f"decoder.{i}.cross.kv.weight"] = torch.cat([sd[h + f"EncDecAttention.{n}.weight"] for n in "kv"])
        st[f"decoder.{i}.cross.out.weight"] = sd[h + "EncDecAttention.o.weight"]
        st[f"decoder.{i}.norm_cross.weight"] = sd[h + "layer_norm.weight"]
    result = ours.load_state_dict(st, strict=False)
    assert result.missing_keys == ["lm_head.weight"] and not result.unexpected_keys  # tied
    src = torch.randint(2, 50, (2, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False
    tgt = torch.randint(2, 50, (2, 7), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs = ref(input_ids=src, attention_mask=mask.long(), decoder_input_ids=tgt)
        torch.testing.assert_close(ours.encode(src, mask), theirs.encoder_last_hidden_state,
                                   atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(ours(src, mask, tgt), theirs.logits, atol=1e-4, rtol=1e-4)
