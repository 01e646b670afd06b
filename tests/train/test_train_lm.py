"""`lmlab.train_lm`: every family from texts to a model with its tokenizer, and its errors."""

from __future__ import annotations

import json

import pytest
import torch

import lmlab
from lmlab.data.world import World
from lmlab.errors import ConfigError, DataError
from lmlab.models.transformer.gpt import GPTConfig
from lmlab.text import special
from lmlab.train.lm import MaskedBatches, span_corruption_pairs
from lmlab.train.recipes import fit_tokenizer

FAST = dict(max_steps=3, log_every=1, tensorboard=False)


@pytest.fixture(scope="module")
def texts():
    splits = World(seed=0).lm_splits(300, 40, 10)
    return [s.text for s in splits.train], [s.text for s in splits.valid]


@pytest.mark.parametrize(("preset", "cls_name", "kind"), [
    ("gpt-tiny", "GPT", "BPE"), ("rnn-tiny", "RNNLanguageModel", "WordLevel"),
    ("bert-tiny", "BertForPreTraining", "WordPiece"), ("t5-tiny", "T5", "Unigram")])
def test_every_family_trains_with_its_tokenizer_attached(texts, tmp_path, preset, cls_name, kind):
    train, valid = texts
    model = lmlab.train_lm(preset, train, valid, seq_len=32, batch_size=4, **FAST)
    assert type(model).__name__ == cls_name and not model.training
    assert model.config.vocab_size == model.tokenizer.get_vocab_size()
    assert model.train_history.steps == 3
    evals = [r for r in model.train_history.records if r["split"] == "eval"]
    assert evals and evals[-1]["step"] == 3
    assert json.loads(model.tokenizer.to_str())["model"]["type"] == kind  # the family's kind
    vocab = model.tokenizer.get_vocab()
    again = lmlab.load(model.save(tmp_path / "m"))
    assert again.tokenizer.get_vocab() == vocab


def test_causal_eval_during_training_equals_lmlab_perplexity(texts):
    """Two code paths, one figure: the Trainer's padded evaluation of whole validation sentences
    and `lmlab.perplexity` over the same texts (equal-length batches, no padding)."""
    train, valid = texts
    for preset in ("gpt-tiny", "rnn-tiny"):
        model = lmlab.train_lm(preset, train, valid, tokenizer="word", seq_len=32, batch_size=4,
                               **FAST)
        last = [r for r in model.train_history.records if r["split"] == "eval"][-1]
        assert lmlab.perplexity(model, valid).ppl == pytest.approx(last["ppl"], rel=1e-4)


def test_a_text_file_and_a_given_tokenizer(texts, tmp_path):
    train, _ = texts
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(train) + "\n", encoding="utf-8")
    tok = fit_tokenizer(train, "word")
    config = GPTConfig.preset("gpt-tiny", max_seq_len=40, pos="rotary")
    model = lmlab.train_lm(config, path, tokenizer=tok, batch_size=4, **FAST)
    assert model.tokenizer is tok and model.config.max_seq_len == 40 and model.config.pos == "rotary"
    assert model.bos_id == tok.token_to_id(special.BOS)
    assert isinstance(lmlab.generate(model, "El perro", max_new_tokens=3).text, str)


def test_errors_name_the_fix(texts):
    train, _ = texts
    with pytest.raises(ConfigError, match=r"unknown model preset 'gpt-huge'.*gpt-tiny"):
        lmlab.train_lm("gpt-huge", train)
    with pytest.raises(ConfigError, match="seq_len=512 exceeds the model's max_seq_len=128"):
        lmlab.train_lm("gpt-tiny", train, seq_len=512, **FAST)
    with pytest.raises(ConfigError, match="cannot train a TrainConfig"):
        lmlab.train_lm(lmlab.TrainConfig(), train)
    with pytest.raises(DataError, match="no training text"):
        lmlab.train_lm("gpt-tiny", ["", "  "])


def test_masked_batches_follow_bert_and_repeat_per_index(texts):
    train, _ = texts
    tok = fit_tokenizer(train, "wordpiece", 200, specials=special.DEFAULT_SPECIALS)
    data = MaskedBatches(train, tok, max_len=32, batch_size=64, seed=3)
    batch = data[0]
    chosen = batch["labels"] != -100
    ids = batch["ids"]
    cls, sep = tok.token_to_id(special.CLS), tok.token_to_id(special.SEP)
    assert not chosen[~batch["mask"]].any()                      # never padding
    assert (ids[:, 0] == cls).all() and not chosen[:, 0].any()   # never [CLS]
    assert not chosen[(batch["labels"] == sep)].any()
    share = chosen[batch["mask"]].float().mean().item()
    assert 0.08 < share < 0.22                                     # about 15% of the tokens
    masked = (ids == tok.token_to_id(special.MASK)) & chosen
    assert 0.6 < masked.sum().item() / chosen.sum().item() < 0.95  # about 80% become [MASK]
    assert torch.equal(data[0]["ids"], ids) and not torch.equal(data[1]["ids"][:1], ids[:1])


def test_span_corruption_pairs_put_every_token_back(texts):
    train, _ = texts
    tok = fit_tokenizer(train, "word", specials=(*special.LM_SPECIALS, *special.sentinel_tokens(32)))
    pairs = span_corruption_pairs(train[:20], tok, max_len=64, seed=0, decoder_start_id=0)
    eos = tok.token_to_id(special.EOS)
    sentinel = {tok.token_to_id(t): k for k, t in enumerate(special.sentinel_tokens(32))}
    for text, src, tgt in zip(train[:20], pairs["src_ids"], pairs["tgt_ids"], strict=True):
        assert src[-1] == eos and tgt[0] == 0 and tgt[-1] == eos
        spans, current = {}, None  # target: <X> span <Y> span ... <Z>
        for i in tgt[1:-1]:
            if i in sentinel:
                current = sentinel[i]
                spans[current] = []
            else:
                spans[current].append(i)
        rebuilt = [t for i in src[:-1] for t in (spans[sentinel[i]] if i in sentinel else [i])]
        assert rebuilt == tok.encode(text, add_special_tokens=False).ids
