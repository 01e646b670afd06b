"""Stop words (stopwords-iso), Snowball stems (vs NLTK's implementation) and spaCy lemmas."""

from __future__ import annotations

import sys

import pytest

from lmlab.errors import ConfigError, MissingDependencyError
from lmlab.text.lemma import Lemmatizer, lemmatize
from lmlab.text.stem import stem, stem_word
from lmlab.text.stopwords import is_stopword, remove_stopwords, stopwords

WORDS_ES = ["niños", "niñas", "canciones", "corriendo", "corrían", "bibliotecas", "rápidamente",
            "españoles", "cantábamos", "año", "años", "pingüino", "nacionalización"]
WORDS_EN = ["running", "studies", "happiness", "generously", "connected", "connection", "flies"]


def test_stopword_lists():
    es, en = stopwords("es"), stopwords("en")
    assert {"el", "la", "de", "que", "y", "además"} <= es
    assert {"the", "of", "and"} <= en
    assert "perro" not in es and "dog" not in en
    assert all(w == w.lower() for w in es)
    assert is_stopword("Los") and not is_stopword("perro")


def test_remove_stopwords_with_extra_and_keep():
    tokens = ["El", "perro", "no", "come", "en", "la", "cocina", "hoy"]
    assert remove_stopwords(tokens) == ["perro", "come", "cocina"]
    assert remove_stopwords(tokens, keep={"No", "hoy"}) == ["perro", "no", "come", "cocina", "hoy"]
    assert remove_stopwords(tokens, extra={"cocina"}) == ["perro", "come"]
    assert remove_stopwords(["The", "dog", "barks"], "en") == ["dog", "barks"]


def test_unknown_language():
    with pytest.raises(ConfigError, match="stop-word list"):
        stopwords("xx")
    with pytest.raises(ConfigError, match="Snowball"):
        stem(["a"], "xx")


def test_stems_exact():
    assert stem(["Niños", "niñas", "canciones", "corriendo"]) == ["niñ", "niñ", "cancion", "corr"]
    assert stem_word("running", "en") == "run"
    assert stem(["Niños"], lower=False) != stem(["Niños"])


@pytest.mark.parametrize(("lang", "words"), [("es", WORDS_ES), ("en", WORDS_EN)])
def test_stems_equal_nltk_snowball(lang, words):
    nltk_stem = pytest.importorskip("nltk.stem.snowball")
    reference = nltk_stem.SnowballStemmer({"es": "spanish", "en": "english"}[lang])
    assert stem(words, lang) == [reference.stem(w) for w in words]


def test_lemmatizer_without_spacy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # makes `import spacy` fail
    with pytest.raises(MissingDependencyError, match=r'pip install "lmlab\[spacy\]"'):
        Lemmatizer("es").lemmas("Los niños corrían")


def test_lemmas_with_spacy():
    pytest.importorskip("spacy")
    try:
        lem = Lemmatizer("es")
        lem.nlp  # noqa: B018 - loads the pipeline or raises
    except MissingDependencyError:
        pytest.skip("no Spanish spaCy pipeline nor lookup tables installed")
    lemmas = lemmatize(["Los", "niños", "cantaban", "canciones"], "es")
    assert lemmas[1:] == ["niño", "cantar", "canción"]
    assert next(iter(lem.pipe(["Las calles"])))[-1] == "calle"
