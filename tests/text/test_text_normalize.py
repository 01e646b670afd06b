"""Normalisation: Unicode forms, case, accents (ñ kept), whitespace, social-media tokens."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError
from lmlab.text import normalize as nz


def test_unicode_forms():
    decomposed = "nin\u0303o"
    assert len(decomposed) == 5
    assert nz.unicode_normalize(decomposed) == "niño"
    assert nz.unicode_normalize("ﬁ ² Ａ", "NFKC") == "fi 2 A"
    assert nz.unicode_normalize("ﬁ", "NFC") == "ﬁ"
    with pytest.raises(ConfigError, match="form"):
        nz.unicode_normalize("x", "NFX")


def test_case():
    assert nz.casefold("ÁRBOL Straße") == "árbol strasse"
    assert nz.lowercase("ÑANDÚ") == "ñandú"


@pytest.mark.parametrize(("text", "expected"), [
    ("canción pingüino acción", "cancion pinguino accion"),
    ("año AÑO", "año AÑO"),
    ("nin\u0303o", "niño"),               # decomposed ñ is composed first, then kept
    ("Ça va, São Paulo", "Ca va, Sao Paulo"),
    ("plain ascii", "plain ascii"),
    ("", ""),
])
def test_strip_accents_keeps_enye(text, expected):
    assert nz.strip_accents(text) == expected


def test_strip_accents_keep_nothing():
    assert nz.strip_accents("año", keep="") == "ano"


def test_whitespace():
    assert nz.normalize_whitespace("\t hola \u00a0\u200b mundo \r\n ") == "hola mundo"
    assert nz.normalize_whitespace("") == ""


def test_social_tokens():
    text = "@ana_88 mira https://t.co/abc?x=1, escribe a ana@uni.es #NLP #2024 😀👍🏽!"
    assert nz.replace_social(text) == (
        "<user> mira <url>, escribe a <email> <hashtag> <hashtag> <emoji> <emoji>!")
    assert nz.replace_social(text, hashtags="word", emoji=False) == (
        "<user> mira <url>, escribe a <email> NLP 2024 😀👍🏽!")
    # e-mails are not mentions, anchors are not hashtags when the rule is off
    assert nz.replace_mentions("ana@uni.es") == "ana@uni.es"
    assert nz.replace_hashtags("#x", mode="keep") == "#x"
    with pytest.raises(ConfigError, match="hashtag mode"):
        nz.replace_hashtags("#x", mode="drop")


def test_emoji_sequences_count_once():
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert nz.find_emoji(f"hola {family} 🇪🇸 1️⃣ ❤️ adiós") == [family, "🇪🇸", "1️⃣", "❤️"]
    assert nz.replace_emoji("genial😀😀fin") == "genial <emoji> <emoji> fin"
    assert nz.replace_emoji("ok 😀", token="") == "ok "
    assert nz.find_emoji("¿Qué tal, señor? 3,5 €") == []


def test_normalize_chain():
    text = "  ¿QUÉ   tal?\n@ana  cañón "
    assert nz.normalize(text) == "¿QUÉ tal? @ana cañón"
    assert nz.normalize(text, lower=True, accents=False, social=True) == "¿que tal? <user> cañon"
    assert nz.normalize("nin\u0303o", form=None, whitespace=False) == "nin\u0303o"
