"""ARPA export/import, KenLM interop, and the model folder format for n-gram models."""

from __future__ import annotations

import numpy as np
import pytest

import lmlab
from lmlab.errors import ConfigError, ModelFormatError
from lmlab.models.ngram import NGramLM
from lmlab.models.ngram.arpa import read_arpa, write_arpa

CORPUS = ["el perro come", "el gato come pescado", "un perro ladra al gato", "¿ come el niño ?",
          "la niña ladra", "el perro se comió la tarea del niño", "el niño se comió la tarea del perro",
          "la tarea del niño"] * 2 + ["año tras año"]
TEST = ["el perro come pan", "la niña se comió la tarea", "ornitorrinco", "año tras año ladra"]


def log10_probs(lm, sentences):
    with np.errstate(divide="ignore"):
        return np.log10(lm.stream_probs(lm.encode_sentences(sentences)))


@pytest.mark.parametrize("order", [1, 3, 5])
def test_arpa_round_trip_keeps_probabilities(tmp_path, order):
    lm = NGramLM(order=order).fit(CORPUS)
    path = write_arpa(lm, tmp_path / "lm.arpa")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\n\\data\\\n") and text.rstrip().endswith("\\end\\")
    assert "<unk>" in text and "[UNK]" not in text
    back = read_arpa(path)
    assert back.order == order and back.smoothing == "backoff"
    np.testing.assert_allclose(log10_probs(back, TEST), log10_probs(lm, TEST), atol=1e-6)
    hist = np.array([back.vocab.encode(["el", "perro", "come", "pan"])[-(order - 1):] if order > 1 else []])
    np.testing.assert_allclose(back.distribution(hist.reshape(1, order - 1)).sum(), 1.0, atol=1e-6)
    # an ARPA model writes itself back out unchanged (up to the printed precision)
    again = read_arpa(write_arpa(back, tmp_path / "again.arpa"))
    np.testing.assert_allclose(log10_probs(again, TEST), log10_probs(lm, TEST), atol=2e-6)


def test_kenlm_reads_lmlab_arpa_with_same_log10_probs(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    lm = NGramLM(order=4).fit(CORPUS)
    path = write_arpa(lm, tmp_path / "lm.arpa")
    model = kenlm.Model(str(path))
    assert model.order == 4
    ours = log10_probs(lm, TEST)
    theirs = [score for s in TEST for score, _, _ in model.full_scores(s, bos=True, eos=True)]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_mle_arpa_and_unsupported_smoothings(tmp_path):
    mle = NGramLM(order=2, smoothing="mle").fit(CORPUS)
    back = read_arpa(write_arpa(mle, tmp_path / "mle.arpa"))
    seen = ["el perro come"]
    np.testing.assert_allclose(log10_probs(back, seen), log10_probs(mle, seen), atol=1e-6)
    for smoothing in ("add_k", "stupid_backoff"):
        with pytest.raises(ConfigError, match="no exact ARPA form"):
            write_arpa(NGramLM(order=2, smoothing=smoothing).fit(CORPUS), tmp_path / "x.arpa")


def test_bad_arpa_files(tmp_path):
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\thola\n\\end\\\n", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="ngram 1=2"):
        read_arpa(bad)
    bad.write_text("\\data\\\nngram 1=1\nngram 2=1\n\n\\1-grams:\n-1.0\thola\n\n\\2-grams:\n"
                   "-0.5\tadiós hola\n\\end\\\n", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="missing from the 1-grams"):
        read_arpa(bad)
    bad.write_text("\\data\\\nngram 1=2\nngram 2=1\nngram 3=1\n\n\\1-grams:\n-1.0\thola\n-1.0\tadiós\n"
                   "\n\\2-grams:\n-0.5\tadiós hola\n\n\\3-grams:\n-0.5\thola adiós hola\n\\end\\\n",
                   encoding="utf-8")
    with pytest.raises(ModelFormatError, match="no listed prefix"):
        read_arpa(bad)
    bad.write_text("hola\n", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="sections"):
        read_arpa(bad)


@pytest.mark.parametrize("smoothing", ["kneser_ney", "mle", "add_k", "stupid_backoff"])
def test_save_load_folder(tmp_path, smoothing):
    lm = NGramLM(order=3, smoothing=smoothing, min_count=2).fit(CORPUS)
    lm.save(tmp_path / "m")
    back = lmlab.load(tmp_path / "m")
    assert isinstance(back, NGramLM) and back.smoothing == smoothing
    assert back.vocab.words == lm.vocab.words
    np.testing.assert_array_equal(back.stream_probs(back.encode_sentences(TEST)),
                                  lm.stream_probs(lm.encode_sentences(TEST)))


def test_save_load_arpa_model_and_corruption(tmp_path):
    lm = read_arpa(write_arpa(NGramLM(order=2).fit(CORPUS), tmp_path / "lm.arpa"))
    lm.save(tmp_path / "m")
    back = NGramLM.load(tmp_path / "m")
    np.testing.assert_array_equal(back.stream_probs(back.encode_sentences(TEST)),
                                  lm.stream_probs(lm.encode_sentences(TEST)))
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(tmp_path / "m" / "model.safetensors"))
    arrays.pop("backoff.2.prob")
    save_file(arrays, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ModelFormatError, match=r"missing backoff\.2\.prob"):
        lmlab.load(tmp_path / "m")
