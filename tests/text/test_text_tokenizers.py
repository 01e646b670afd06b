"""Training and loading every tokenizer kind: vocabularies, special ids, round trips, errors."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError, DataError, ModelFormatError
from lmlab.text import special
from lmlab.text.tokenizers import KINDS, load_tokenizer, save_tokenizer, train_tokenizer
from lmlab.text.words import tokenize

CORPUS = [
    "¿Qué tal, Sr. Núñez? ¡Muy bien, gracias!",
    "El niño come 3,5 manzanas en la cocina.",
    "La niña lee un libro de 1.000 páginas... ¿Y tú?",
    "Escríbeme a ana.lopez@uni.es o mira https://es.wikipedia.org/wiki/Año",
    "El perro ladra y el gato duerme en el sofá.",
] * 20


@pytest.mark.parametrize("kind", KINDS)
def test_special_tokens_take_the_first_ids_in_order(kind):
    specials = [special.PAD, special.UNK, special.BOS, special.EOS, *special.sentinel_tokens(2)]
    tok = train_tokenizer(kind, CORPUS, vocab_size=400, special_tokens=specials)
    assert [tok.id_to_token(i) for i in range(len(specials))] == specials
    # special tokens are never split
    ids = tok.encode("<extra_id_1> hola", add_special_tokens=False).ids
    assert ids[0] == 5


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_give_the_same_ids(kind, tmp_path):
    tok = train_tokenizer(kind, CORPUS, vocab_size=300)
    text = "¿Qué come el niño? ¡Un libro!"
    file = save_tokenizer(tok, tmp_path / "model")
    assert file == tmp_path / "model" / "tokenizer.json"
    for path in (tmp_path / "model", file):
        assert load_tokenizer(path).encode(text).ids == tok.encode(text).ids


@pytest.mark.parametrize("kind", KINDS)
def test_unk_is_added_when_needed(kind):
    tok = train_tokenizer(kind, CORPUS, vocab_size=300, special_tokens=[special.PAD])
    assert tok.id_to_token(0) == special.PAD
    assert (tok.token_to_id(special.UNK) is not None) == (kind != "bpe")


def test_word_kind_gives_back_pretokenised_tokens_exactly():
    sentences = [["¿", "Qué", "come", "el", "niño", "?"], ["el", "perro", "ladra", "."],
                 ["¡", "Hola", ",", "María", "!"], ["3,5", "kg", "de", "pan", "..."]]
    texts = [" ".join(s) for s in sentences]
    tok = train_tokenizer("word", texts, vocab_size=None, special_tokens=special.LM_SPECIALS)
    assert tok.get_vocab_size() == len(special.LM_SPECIALS) + len({t for s in sentences for t in s})
    for s, text in zip(sentences, texts, strict=True):
        enc = tok.encode(text)
        assert enc.tokens == s
        assert tok.decode(enc.ids) == text


def test_word_kind_splits_raw_spanish_like_words_tokenize():
    tok = train_tokenizer("word", CORPUS, vocab_size=None)
    for line in CORPUS[:5]:
        assert tok.encode(line).tokens == tokenize(line)
    assert tok.encode("¿Qué tal?").tokens == ["¿", "Qué", "tal", "?"]
    assert tok.encode("ana.lopez@uni.es").tokens == ["ana.lopez@uni.es"]
    # an unseen word is [UNK]
    assert tok.encode("zanahoria").tokens == [special.UNK]


def test_word_vocab_size_and_min_frequency():
    texts = ["a a a b b c"]
    tok = train_tokenizer("word", texts, vocab_size=len(special.LM_SPECIALS) + 2)
    assert set(tok.get_vocab()) == {*special.LM_SPECIALS, "a", "b"}
    tok = train_tokenizer("word", texts, min_frequency=2)
    assert set(tok.get_vocab()) == {*special.LM_SPECIALS, "a", "b"}
    tok = train_tokenizer("word", texts, min_frequency=3)
    assert set(tok.get_vocab()) == {*special.LM_SPECIALS, "a"}


def test_char_kind_keeps_spaces_and_round_trips():
    tok = train_tokenizer("char", ["año niño", "¿sí?"])
    enc = tok.encode("¿niño sí?")
    assert enc.tokens == list("¿niño sí?")
    assert tok.decode(enc.ids) == "¿niño sí?"
    assert enc.offsets[1] == (1, 2)
    assert tok.get_vocab_size() == len(special.LM_SPECIALS) + len(set("año niño¿sí?"))


def test_bpe_learns_merges_and_respects_vocab_size():
    assert train_tokenizer("bpe", CORPUS, vocab_size=300).get_vocab_size() == 300
    tok = train_tokenizer("bpe", CORPUS, vocab_size=400)
    assert tok.get_vocab_size() <= 400  # the tiny corpus runs out of pairs to merge
    # frequent words become single tokens: Ġ stands for the space byte and "Ã±" for the two
    # UTF-8 bytes of ñ (GPT-2's byte-to-symbol table)
    assert tok.encode(" niño el perro").tokens == ["ĠniÃ±o", "Ġel", "Ġperro"]
    # fewer tokens than bytes on the training text
    assert len(tok.encode(CORPUS[0]).ids) < len(CORPUS[0].encode()) / 2


def test_wordpiece_uses_the_bert_template():
    tok = train_tokenizer("wordpiece", CORPUS, vocab_size=200)
    enc = tok.encode("el niño", "la niña")
    assert enc.tokens[0] == special.CLS and enc.tokens.count(special.SEP) == 2
    assert enc.type_ids[-1] == 1 and enc.type_ids[0] == 0
    assert any(t.startswith("##") for t in tok.get_vocab())


def test_bos_eos_template():
    tok = train_tokenizer("word", CORPUS, template="bos_eos")
    assert tok.encode("el perro").tokens == [special.BOS, "el", "perro", special.EOS]


def test_normalization_and_lowercase():
    tok = train_tokenizer("word", ["Niño NIÑO nin\u0303o"], normalization="NFC", lowercase=True)
    assert set(tok.get_vocab()) - set(special.LM_SPECIALS) == {"niño"}


def test_train_from_files_and_folders(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("el perro ladra\n", encoding="utf-8")
    (folder / "b.txt").write_text("el gato maúlla\n", encoding="utf-8")
    expected = {*special.LM_SPECIALS, "el", "perro", "ladra", "gato", "maúlla"}
    assert set(train_tokenizer("word", folder).get_vocab()) == expected
    assert set(train_tokenizer("word", str(folder / "a.txt")).get_vocab()) == expected - {"gato", "maúlla"}
    mixed = train_tokenizer("word", [folder / "a.txt", "hola mundo"])
    assert {"ladra", "hola", "mundo"} <= set(mixed.get_vocab())


def test_non_utf8_file_names_file_and_offset(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("el niño\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.txt.*byte offset 5"):
        train_tokenizer("word", bad)
    tok = train_tokenizer("word", bad, errors="replace")
    assert tok.encode("ni\ufffdo").tokens == ["ni", "\ufffd", "o"]


@pytest.mark.parametrize("texts", [[], [""], ["   ", "\t"]])
def test_empty_input_is_an_error(texts):
    with pytest.raises(DataError, match="empty"):
        train_tokenizer("bpe", texts, vocab_size=300)


def test_empty_file_is_an_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        train_tokenizer("word", empty)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="kind"):
        train_tokenizer("sentencepiece", CORPUS)
    with pytest.raises(ConfigError, match="vocab_size"):
        train_tokenizer("word", CORPUS, vocab_size=3)
    with pytest.raises(ConfigError, match="duplicates"):
        train_tokenizer("word", CORPUS, special_tokens=[special.PAD, special.PAD])
    with pytest.raises(ConfigError, match="template"):
        train_tokenizer("word", CORPUS, special_tokens=[special.PAD], template="cls_sep")
    with pytest.raises(DataError, match="neither a file nor a folder"):
        train_tokenizer("word", "el perro ladra")


def test_load_errors(tmp_path):
    with pytest.raises(ModelFormatError, match="not found"):
        load_tokenizer(tmp_path / "nope.json")
    with pytest.raises(ModelFormatError, match=r"no tokenizer\.json"):
        load_tokenizer(tmp_path)
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFormatError, match=r"not a valid tokenizer\.json"):
        load_tokenizer(bad)


def test_word_kind_on_world_sentences_gives_back_their_tokens():
    from lmlab.data import world
    sentences = world.World(0).lm_sentences(300)
    texts = [" ".join(s.tokens) for s in sentences]
    tok = train_tokenizer("word", texts)
    assert [tok.encode(t).tokens for t in texts] == [list(s.tokens) for s in sentences]


@pytest.mark.parametrize("kind", ["word", "wordpiece", "unigram"])
def test_offsets_point_at_the_token_text(kind):
    tok = train_tokenizer(kind, CORPUS, vocab_size=300)
    text = "¿Qué come el niño? ¡Un libro de 1.000 páginas!"
    enc = tok.encode(text, add_special_tokens=False)
    for token, (start, end) in zip(enc.tokens, enc.offsets, strict=True):
        if token != special.UNK:  # unigram's ▁ stands for the space before the word
            assert text[start:end].lstrip() == token.removeprefix("##").lstrip("▁"), token
