"""Word tokenisation: ¿¡ and punctuation apart; numbers, abbreviations, e-mails, URLs whole."""

from __future__ import annotations

import pytest

from lmlab.text.words import WORD_PATTERN, iter_tokens, tokenize, tokenize_with_offsets


@pytest.mark.parametrize(("text", "tokens"), [
    ("¿Qué tal?", ["¿", "Qué", "tal", "?"]),
    ("¡Hola, mundo!", ["¡", "Hola", ",", "mundo", "!"]),
    ("Cuesta 3,5 € o 1.000.000 de pesos.", ["Cuesta", "3,5", "€", "o", "1.000.000", "de", "pesos", "."]),
    ("A las 12:30 del 12/10/2024", ["A", "las", "12:30", "del", "12/10/2024"]),
    ("Los EE. UU. y la Dra. Pérez, etc.", ["Los", "EE.", "UU.", "y", "la", "Dra.", "Pérez", ",", "etc."]),
    ("Son las 5 p.m. en EE.UU.", ["Son", "las", "5", "p.m.", "en", "EE.UU."]),
    ("Escribe a ana.lopez@uni.es.", ["Escribe", "a", "ana.lopez@uni.es", "."]),
    ("Mira https://es.wikipedia.org/wiki/Año_nuevo.", ["Mira", "https://es.wikipedia.org/wiki/Año_nuevo", "."]),
    ("(ver www.rae.es)", ["(", "ver", "www.rae.es", ")"]),
    ("Pues... no sé…", ["Pues", "...", "no", "sé", "…"]),
    ("«Ven», dijo —ya.", ["«", "Ven", "»", ",", "dijo", "—", "ya", "."]),
    ("don't franco-alemán l'home", ["don't", "franco-alemán", "l'home"]),
    ("#NLP con @ana 😀", ["#NLP", "con", "@ana", "😀"]),
    ("<user> dijo <url> [MASK] <extra_id_0>", ["<user>", "dijo", "<url>", "[MASK]", "<extra_id_0>"]),
    ("dijo que no. Mister.", ["dijo", "que", "no", ".", "Mister", "."]),
    ("日本語 مرحبا", ["日本語", "مرحبا"]),
    ("", []),
])
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_pretokenised_text_gives_back_its_tokens():
    tokens = ["¿", "Dónde", "vive", "la", "niña", "?", "En", "3,5", "km", "...", "¡", "sí", "!"]
    assert tokenize(" ".join(tokens)) == tokens


def test_offsets_point_into_the_text():
    text = "¿Sí, Sr. Núñez?"
    spans = tokenize_with_offsets(text)
    assert [t for t, _, _ in spans] == tokenize(text)
    assert all(text[a:b] == t for t, a, b in spans)


def test_iter_tokens_is_lazy():
    lines = iter(["a b", "c"])
    it = iter_tokens(lines)
    assert next(it) == ["a", "b"]
    assert next(lines) == "c"  # the second line was not read yet


def test_pattern_matches_tokenizers_regex():
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                     pre_tokenizers.Split(Regex(WORD_PATTERN), "isolated")])
    text = "¿Qué tal, Sr. Núñez? Los EE. UU. 3,5 € ana@uni.es https://x.es/a. #hola 😀 <url> p.m."
    assert [t for t, _ in split.pre_tokenize_str(text)] == tokenize(text)
