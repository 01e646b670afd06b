"""Lemmatisation through spaCy (Honnibal et al., https://spacy.io), an optional extra.

A lemma is the dictionary form of a word: "corrían" -> "correr", "canciones" -> "canción". spaCy
gives it in two ways, and `Lemmatizer` takes the best one installed:

1. a trained pipeline (`es_core_news_sm`, `en_core_web_sm`, or any name or path you pass): its
   lemmatiser uses the part of speech, so "sobre" (preposition) and "sobre" (noun) differ;
2. otherwise a blank pipeline with spaCy's lookup tables (`spacy-lookups-data`): a word -> lemma
   dictionary, no context.

Install with `pip install "lmlab[spacy]"` (spaCy and the lookup tables); trained pipelines with
`python -m spacy download es_core_news_sm`. Without spaCy every call raises
`MissingDependencyError` with that one-line instruction.

    lem = Lemmatizer("es")
    lem.lemmas("Los niños corrían por las calles")   # ['el', 'niño', 'correr', 'por', 'el', 'calle']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from lmlab.errors import ConfigError, MissingDependencyError, require

logger = logging.getLogger("lmlab")

#: Trained pipelines tried first for each language, smallest first.
PIPELINES: dict[str, tuple[str, ...]] = {
    "es": ("es_core_news_sm", "es_core_news_md", "es_core_news_lg"),
    "en": ("en_core_web_sm", "en_core_web_md", "en_core_web_lg"),
}
_INSTALL = 'pip install "lmlab[spacy]" (and for context-aware lemmas: python -m spacy download {model})'


class Lemmatizer:
    """Lemmas of texts or of pre-split tokens with a spaCy pipeline.

    Args:
        lang: language code ("es", "en", or any language spaCy has lookup tables for).
        model: a spaCy pipeline name or path; None picks the first installed of `PIPELINES[lang]`,
            then the lookup tables.
    """

    def __init__(self, lang: str = "es", model: str | None = None) -> None:
        self.lang = lang
        self.model = model
        self._nlp: Any = None

    @property
    def nlp(self) -> Any:
        """The spaCy `Language` object, loaded on first use."""
        if self._nlp is None:
            self._nlp = self._load()
        return self._nlp

    def _load(self) -> Any:
        suggested = PIPELINES.get(self.lang, ("<pipeline>",))[0]
        spacy = require("spacy", "lemmatisation", extra="spacy")
        if self.model is not None:
            try:
                return spacy.load(self.model, exclude=["ner", "parser"])
            except OSError as exc:
                raise ConfigError(f"spaCy pipeline {self.model!r} is not installed",
                                  fix=f"python -m spacy download {self.model}") from exc
        for name in PIPELINES.get(self.lang, ()):
            try:
                nlp = spacy.load(name, exclude=["ner", "parser"])
            except OSError:
                continue
            logger.info("lemmas from the spaCy pipeline %s", name)
            return nlp
        try:
            nlp = spacy.blank(self.lang)
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
        except (ImportError, ValueError, OSError) as exc:
            raise MissingDependencyError(
                f"lemmatisation in {self.lang!r} needs a spaCy pipeline or spaCy's lookup tables",
                fix=_INSTALL.format(model=suggested)) from exc
        logger.info("lemmas from spaCy's lookup tables for %s (no part of speech)", self.lang)
        return nlp

    def lemmas(self, text: str) -> list[str]:
        """Tokenise `text` with spaCy and return the lemma of every token."""
        return [token.lemma_ for token in self.nlp(text)]

    def lemmatize_tokens(self, tokens: Iterable[str]) -> list[str]:
        """Lemmas of tokens already split (e.g. by `lmlab.text.words.tokenize`), one per token."""
        from spacy.tokens import Doc

        words = list(tokens)
        if not words:
            return []
        doc = Doc(self.nlp.vocab, words=words)
        for _, component in self.nlp.pipeline:
            doc = component(doc)
        return [token.lemma_ or token.text for token in doc]

    def pipe(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[list[str]]:
        """Lemmas of many texts, batched through `nlp.pipe` (fast path for corpora)."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            yield [token.lemma_ for token in doc]


def lemmatize(tokens: Iterable[str], lang: str = "es") -> list[str]:
    """Lemmas of pre-split tokens with the default pipeline of `lang` (cached per language)."""
    return _default(lang).lemmatize_tokens(tokens)


_DEFAULTS: dict[str, Lemmatizer] = {}


def _default(lang: str) -> Lemmatizer:
    if lang not in _DEFAULTS:
        _DEFAULTS[lang] = Lemmatizer(lang)
    return _DEFAULTS[lang]
