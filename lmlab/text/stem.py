"""Stemming with the Snowball algorithms (Porter 2001), through the maintained `snowballstemmer`.

A stem is the word with its inflectional and derivational suffixes cut off by rules, not a
dictionary form: "corriendo" -> "corr", "canciones" -> "cancion" (Snowball also removes the accent
the suffix change would leave). Stems are for matching and counting; `lmlab.text.lemma` gives real
dictionary forms.

    >>> stem(["niños", "niñas", "canciones", "corriendo"], "es")
    ['niñ', 'niñ', 'cancion', 'corr']
    >>> stem(["running", "studies"], "en")
    ['run', 'studi']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from lmlab.errors import ConfigError

#: ISO 639-1 codes -> Snowball algorithm names (`snowballstemmer.algorithms()` lists all).
LANGUAGES: dict[str, str] = {
    "es": "spanish", "en": "english", "ca": "catalan", "pt": "portuguese", "fr": "french",
    "it": "italian", "de": "german", "nl": "dutch", "eu": "basque", "ro": "romanian",
}


@functools.lru_cache(maxsize=16)
def stemmer(lang: str = "es"):
    """The Snowball stemmer object for a language code ("es") or an algorithm name ("spanish")."""
    import snowballstemmer

    name = LANGUAGES.get(lang, lang)
    if name not in snowballstemmer.algorithms():
        raise ConfigError(f"no Snowball stemmer for language {lang!r}",
                          fix=f"use one of {', '.join(sorted(LANGUAGES))} or an algorithm name")
    return snowballstemmer.stemmer(name)


def stem(tokens: Iterable[str], lang: str = "es", *, lower: bool = True) -> list[str]:
    """Stem a list of words (lower-cased first unless `lower=False`)."""
    words = [t.lower() for t in tokens] if lower else list(tokens)
    return stemmer(lang).stemWords(words)


def stem_word(word: str, lang: str = "es") -> str:
    """Stem one word.

    >>> stem_word("Bibliotecas")
    'bibliotec'
    """
    return stemmer(lang).stemWord(word.lower())
