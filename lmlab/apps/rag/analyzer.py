"""Analysers: text -> index terms for keyword retrieval, built from `lmlab.text`.

- "spanish": word tokens (`lmlab.text.words`), lower case, Spanish stop words dropped
  (`lmlab.text.stopwords`), Snowball Spanish stems (`lmlab.text.stem`), accents folded except ñ
  (`lmlab.text.normalize.strip_accents`): "¿Dónde nacieron las canciones?" -> ['nac', 'cancion'].
- "plain": word tokens in lower case, nothing else (the baseline).

Punctuation-only tokens are dropped by both. An analyser is named by a string that the index
manifest records, so a saved index is always queried with the analyser it was built with.

    >>> analyze("¿Dónde nacieron las canciones?")
    ['nac', 'cancion']
    >>> analyze("¿Dónde nacieron las canciones?", "plain")
    ['dónde', 'nacieron', 'las', 'canciones']
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from lmlab.errors import check_choice
from lmlab.text.normalize import strip_accents
from lmlab.text.stem import stemmer
from lmlab.text.stopwords import stopwords
from lmlab.text.words import tokenize

ANALYZERS = ("spanish", "plain")


def _words(text: str) -> list[str]:
    return [t.lower() for t in tokenize(text) if any(c.isalnum() for c in t)]


@functools.lru_cache(maxsize=1)
def _spanish_stops() -> frozenset[str]:
    stops = stopwords("es")
    return stops | frozenset(strip_accents(w) for w in stops)


@functools.lru_cache(maxsize=200_000)
def _spanish_term(word: str) -> str:
    return strip_accents(stemmer("es").stemWord(word))


def spanish(text: str) -> list[str]:
    """The "spanish" analyser (see the module docstring)."""
    stops = _spanish_stops()
    return [_spanish_term(w) for w in _words(text) if w not in stops and strip_accents(w) not in stops]


def plain(text: str) -> list[str]:
    """The "plain" analyser: lower-cased word tokens."""
    return _words(text)


def get_analyzer(name: str) -> Callable[[str], list[str]]:
    """The analyser function of a name in `ANALYZERS`."""
    check_choice("analyzer", name, ANALYZERS)
    return spanish if name == "spanish" else plain


def analyze(text: str, name: str = "spanish") -> list[str]:
    """The terms of `text` under the analyser `name`."""
    return get_analyzer(name)(text)
