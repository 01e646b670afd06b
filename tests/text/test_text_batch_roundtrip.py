"""Batch encoding (padding, truncation, masks) and decode(encode(x)) == x for byte-level BPE."""

from __future__ import annotations

import random

import numpy as np
import pytest

from lmlab.errors import ConfigError
from lmlab.text import special
from lmlab.text.batch import decode_batch, encode_batch
from lmlab.text.tokenizers import train_tokenizer

CORPUS = ["el perro ladra", "el gato duerme en el sofá", "¿Qué come el niño?"] * 10


@pytest.fixture(scope="module")
def bpe():
    return train_tokenizer("bpe", CORPUS, vocab_size=300)


@pytest.fixture(scope="module")
def word():
    return train_tokenizer("word", CORPUS, template="bos_eos")


ROUND_TRIP = [
    "", " ", "  dos  espacios ", "\n\t\r\n", "¿Qué tal? ¡Bien! ñandú Ñoño",
    "😀👍🏽 👨\u200d👩\u200d👧 🇪🇸", "日本語のテキスト", "مرحبا بالعالم", "Ελληνικά и русский",
    "nin\u0303o (decomposed)", "\u200b\ufeffinvisible\u00ad", "\x00\x01 control", "a" * 1000,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℌ 𓀀", "<s> [PAD] no special in text", "\U0010FFFF\uE000 private use",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_byte_level_bpe_round_trips(bpe, text):
    ids = bpe.encode(text).ids
    # special tokens written in the text are matched as such, so keep them when decoding
    assert bpe.decode(ids, skip_special_tokens=False) == text
    assert all(i < bpe.get_vocab_size() for i in ids)


def test_byte_level_bpe_round_trips_random_unicode(bpe):
    rng = random.Random(0)
    planes = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x6FF), (0x3040, 0x9FFF), (0x1F300, 0x1FAFF)]
    for _ in range(200):
        chars = []
        for _ in range(rng.randint(0, 30)):
            lo, hi = rng.choice(planes)
            chars.append(chr(rng.randint(lo, hi)))
        text = "".join(chars)
        assert bpe.decode(bpe.encode(text).ids) == text


def test_padding_masks_and_lengths(word):
    batch = encode_batch(word, ["el perro ladra", "el gato"])
    pad = word.token_to_id(special.PAD)
    assert batch.ids.shape == (2, 5) and batch.ids.dtype == np.int64
    assert batch.lengths.tolist() == [5, 4]
    assert batch.mask.tolist() == [[True] * 5, [True] * 4 + [False]]
    assert batch.ids[1, 4] == pad
    assert batch.ids[0, 0] == word.token_to_id(special.BOS)
    assert decode_batch(word, batch.ids, batch.mask) == ["el perro ladra", "el gato"]


def test_left_padding_max_length_and_multiple(word):
    batch = encode_batch(word, ["el perro ladra", "el gato"], padding_side="left")
    assert batch.mask[1].tolist() == [False, True, True, True, True]
    assert encode_batch(word, ["el gato"], max_length=7, padding="max_length").ids.shape == (1, 7)
    assert encode_batch(word, ["el gato"], pad_to_multiple_of=8).ids.shape == (1, 8)


def test_truncation_keeps_template_tokens(word):
    batch = encode_batch(word, ["el gato duerme en el sofá"], max_length=4)
    tokens = [word.id_to_token(i) for i in batch.ids[0]]
    assert tokens == [special.BOS, "el", "gato", special.EOS]
    with pytest.raises(ConfigError, match="more than max_length"):
        encode_batch(word, ["el gato duerme en el sofá"], max_length=4, truncation=False)
    assert word.truncation is None  # the tokenizer is left as it was


def test_batch_errors(word):
    with pytest.raises(ConfigError, match="needs max_length"):
        encode_batch(word, ["a"], padding="max_length")
    no_pad = train_tokenizer("word", CORPUS, special_tokens=[special.UNK])
    with pytest.raises(ConfigError, match="no padding token"):
        encode_batch(no_pad, ["el perro ladra", "el"])
    assert encode_batch(no_pad, ["el", "el"]).ids.shape == (2, 1)  # nothing to pad: fine
    empty = encode_batch(word, [])
    assert empty.ids.shape == (0, 0)


def test_to_torch(word):
    import torch
    tensors = encode_batch(word, ["el perro", "el"]).to_torch()
    assert tensors["ids"].dtype == torch.int64 and tensors["mask"].dtype == torch.bool
    assert decode_batch(word, tensors["ids"], tensors["mask"]) == ["el perro", "el"]
