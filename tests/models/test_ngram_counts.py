"""N-gram counting and vocabularies: exact counts against a brute-force Counter, cut-off, errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lmlab.errors import DataError
from lmlab.models.ngram.counts import count_ngrams, index_of, stream_indices
from lmlab.models.ngram.vocab import Vocabulary, sentences_to_stream
from lmlab.text.special import BOS, EOS, UNK

SENTS = ["el perro come", "el gato come pescado", "un perro ladra", "el perro ladra al gato",
         "¿ come el niño ?"]


def brute_force(sentences, order):
    out = Counter()
    for s in sentences:
        toks = [BOS, *s.split(), EOS]
        for k in range(1, order + 1):
            for i in range(len(toks) - k + 1):
                out[tuple(toks[i : i + k])] += 1
    return out


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
def test_counts_equal_brute_force(order):
    vocab, stream, n_sent = Vocabulary.build(SENTS)
    assert n_sent == len(SENTS)
    tables = count_ngrams(stream, order, len(vocab), vocab.eos_id)
    got = Counter()
    grams = [np.arange(len(vocab))[:, None]]
    for k in range(1, order + 1):
        if k > 1:
            keys = tables.keys[k - 1]
            grams.append(np.concatenate([grams[-1][keys // len(vocab)], (keys % len(vocab))[:, None]], 1))
        for g, c in zip(grams[k - 1].tolist(), tables.counts[k - 1].tolist(), strict=True):
            if c:
                got[tuple(vocab.decode(g))] = c
    assert got == brute_force(SENTS, order)
    # no n-gram crosses a sentence end
    assert not any(EOS in g[:-1] for g in got)


def test_index_lookup_and_stream_indices():
    vocab, stream, _ = Vocabulary.build(SENTS)
    tables = count_ngrams(stream, 3, len(vocab), vocab.eos_id)
    ids = np.array([vocab.encode(["el", "perro", "come"]), vocab.encode(["perro", "el", "gato"])])
    rows = index_of(tables.keys, len(vocab), ids)
    assert rows[0] >= 0 and rows[1] == -1
    assert tables.counts[2][rows[0]] == 1
    idx = stream_indices(tables.keys, len(vocab), stream, vocab.eos_id, 3)
    # every in-sentence window is found, every window across </s> is -1
    for i in range(len(stream) - 2):
        crosses = vocab.eos_id in stream[i : i + 2].tolist()
        assert (idx[2][i] < 0) == crosses


def test_vocabulary_cutoff_unk_and_order():
    corpus = [["a", "b", "a"], ["a", "c", "ñandú"], ["<unk>", "b"]]
    vocab, stream, _ = Vocabulary.build(corpus, min_count=2)
    assert vocab.words == ["[PAD]", UNK, BOS, EOS, "a", "b"]  # by frequency; c, ñandú cut
    assert vocab.decode(stream.tolist()) == [BOS, "a", "b", "a", EOS, BOS, "a", UNK, UNK, EOS,
                                             BOS, UNK, "b", EOS]
    assert vocab.encode(["zzz", "<unk>", "a"]) == [vocab.unk_id, vocab.unk_id, 4]
    small, _, _ = Vocabulary.build(corpus, max_size=5)
    assert small.words[-1] == "a"
    again = Vocabulary.from_tokenizer(vocab.to_tokenizer())
    assert again.words == vocab.words
    assert vocab.to_tokenizer().encode("a b zzz").ids == [4, 5, vocab.unk_id]
    assert sentences_to_stream(vocab, ["a zzz", ""]).tolist() == [2, 4, 1, 3]


def test_vocabulary_errors():
    with pytest.raises(DataError, match="no tokens"):
        Vocabulary.build(["", "  "])
    with pytest.raises(DataError, match="reserved"):
        Vocabulary.build(["hola </s> adiós"])
    with pytest.raises(DataError, match="must start"):
        Vocabulary(["a", "b"])
