"""Stop words for Spanish, English and the other languages of the stopwords-iso collection.

The lists come from stopwords-iso (https://github.com/stopwords-iso, packaged as `stopwordsiso`),
a maintained union of the usual sources (NLTK, Snowball, Lucene, spaCy ...): 732 Spanish and
1,298 English words, lower case, with and without accents where both spellings occur
("además", "ademas"). They are long on purpose; pass `extra`/`keep` to adapt them to a task (for
sentiment, "no" carries meaning and should stay).

    >>> remove_stopwords(["El", "perro", "no", "come", "en", "la", "cocina"], "es")
    ['perro', 'come', 'cocina']
    >>> remove_stopwords(["El", "perro", "no", "come"], "es", keep={"no"})
    ['perro', 'no', 'come']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from lmlab.errors import ConfigError


@functools.lru_cache(maxsize=16)
def stopwords(lang: str = "es") -> frozenset[str]:
    """The stop words of a language (ISO 639-1 code: "es", "en", "ca", "pt" ...), lower case.

    Raises:
        ConfigError: no list for that language.
    """
    import stopwordsiso

    if not isinstance(lang, str) or not stopwordsiso.has_lang(lang):
        known = sorted(stopwordsiso.langs())
        raise ConfigError(f"no stop-word list for language {lang!r}",
                          fix=f"use an ISO 639-1 code such as {', '.join(known[:12])} ...")
    return frozenset(w.lower() for w in stopwordsiso.stopwords(lang))


def is_stopword(token: str, lang: str = "es") -> bool:
    """Whether `token` (any case) is a stop word.

    >>> is_stopword("Los"), is_stopword("perro")
    (True, False)
    """
    return token.lower() in stopwords(lang)


def remove_stopwords(tokens: Iterable[str], lang: str = "es", *, extra: Iterable[str] = (),
                     keep: Iterable[str] = ()) -> list[str]:
    """The tokens that are not stop words (compared in lower case).

    Args:
        tokens: words, e.g. from `lmlab.text.words.tokenize`.
        lang: language of the list.
        extra: more words to remove.
        keep: words of the list to keep anyway (e.g. negations).
    """
    drop = (stopwords(lang) | {w.lower() for w in extra}) - {w.lower() for w in keep}
    return [t for t in tokens if t.lower() not in drop]
