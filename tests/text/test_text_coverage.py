"""Vocabulary coverage: OOV rate and tokens per word, counted by hand on tiny cases."""

from __future__ import annotations

import pytest

from lmlab.errors import DataError
from lmlab.text.coverage import coverage_report
from lmlab.text.tokenizers import train_tokenizer


def test_word_level_oov_counts():
    tok = train_tokenizer("word", ["el perro ladra .", "el gato come ."])
    report = coverage_report(tok, ["el perro maúlla .", "el loro maúlla !"])
    # words: el perro maúlla . el loro maúlla ! -> 8 words, 4 unknown (maúlla x2, loro, !)
    assert (report.n_words, report.oov_words, report.unk_tokens) == (8, 4, 4)
    assert report.oov_rate == pytest.approx(4 / 8)
    assert report.tokens_per_word == 1.0 and report.split_words == 0
    assert report.top_oov == [("maúlla", 2), ("loro", 1), ("!", 1)]
    assert (report.word_types, report.oov_types) == (6, 3)
    assert report.to_dict()["oov_rate"] == pytest.approx(0.5)
    assert "OOV rate 50.00%" in report.summary()


def test_char_level_fertility_is_word_length():
    tok = train_tokenizer("char", ["abc de"])
    report = coverage_report(tok, ["abc de", "a"])
    # words abc, de, a -> 3 + 2 + 1 = 6 tokens in words; the space is a token outside words
    assert report.n_words == 3 and report.word_tokens == 6
    assert report.tokens_per_word == pytest.approx(2.0)
    assert report.n_tokens == 7 and report.oov_rate == 0
    assert report.split_words == 2


def test_byte_level_bpe_never_has_oov():
    tok = train_tokenizer("bpe", ["el perro ladra"] * 5, vocab_size=280)
    report = coverage_report(tok, ["日本語 😀 ñandú"])
    assert report.oov_rate == 0 and report.unk_tokens == 0
    assert report.tokens_per_word > 2  # unseen scripts fall back to bytes
    assert report.chars_per_token < 1


def test_empty_corpus_is_an_error():
    tok = train_tokenizer("word", ["a"])
    with pytest.raises(DataError, match="no words"):
        coverage_report(tok, ["", "  "])
