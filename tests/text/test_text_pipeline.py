"""The composable preprocessing pipeline."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError
from lmlab.text.normalize import casefold
from lmlab.text.pipeline import Pipeline
from lmlab.text.stem import stem
from lmlab.text.stopwords import remove_stopwords
from lmlab.text.words import tokenize

TEXT = "¿Qué hacían los niños en la biblioteca? @ana https://x.es 😀"


def test_named_steps_equal_the_functions_composed_by_hand():
    p = Pipeline.from_spec("nfc lower social words alnum stopwords:es stem:es")
    by_hand = stem(remove_stopwords([t for t in tokenize(casefold(TEXT).replace("@ana", "<user>")
                                                         .replace("https://x.es", "<url>")
                                                         .replace("😀", "<emoji>"))
                                     if any(c.isalnum() for c in t)], "es"), "es")
    assert p(TEXT) == by_hand
    assert p(TEXT)[:3] == ["hac", "niñ", "bibliotec"]


def test_default_splitter_and_spec_round_trip():
    p = Pipeline.from_spec(["nfkc", "lower"])
    assert p.spec == "nfkc lower words"
    assert Pipeline.from_spec(p.spec)(TEXT) == p(TEXT)
    assert p("ﬁn, ¿SÍ?") == ["fin", ",", "¿", "sí", "?"]
    assert Pipeline.from_spec("split")("a  b,c") == ["a", "b,c"]


def test_language_default_and_override():
    assert Pipeline.from_spec("stopwords", lang="en")(["The dog"][0]) == ["dog"]
    assert Pipeline.from_spec("stopwords:en")("the dog") == ["dog"]


def test_hand_built_pipeline_and_map():
    p = Pipeline(text_steps=[str.upper], token_steps=[lambda ts: ts[::-1]])
    assert p("hola mundo") == ["MUNDO", "HOLA"]
    assert p.normalize("hola") == "HOLA"
    assert list(p.map(["a b", "c"])) == [["B", "A"], ["C"]]
    assert p.spec == ""


@pytest.mark.parametrize(("spec", "message"), [
    ("nfc stemming", "unknown pipeline step"),
    ("words lower", "comes after the word splitter"),
    ("words split", "not the only one"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ConfigError, match=message):
        Pipeline.from_spec(spec)
