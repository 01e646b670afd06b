"""Word tokenisation for Spanish and English: split off ¿ ¡ and punctuation, keep numbers,
abbreviations, e-mails, URLs, @mentions and #hashtags whole.

One regular expression, `WORD_PATTERN`, is the whole tokeniser (the approach of NLTK's
`RegexpTokenizer` and of the pre-tokenisers of Hugging Face `tokenizers`). It is written in the
subset of syntax shared by Python's `re` and Oniguruma, so the "word" tokenizer of
`lmlab.text.tokenizers` uses the very same pattern and both split a text identically.

Alternatives, tried in order at each position (the first that matches wins):

1. URLs (`https://...`, `www....`) without trailing punctuation;
2. e-mail addresses;
3. placeholders and special tokens: `<url>`, `<user>`, `<s>`, `<extra_id_0>`, `[MASK]` ...;
4. known abbreviations with their period (`Sr.`, `Dra.`, `EE.`, `UU.`, `etc.`, `pág.` ...) and
   dotted initialisms (`a.m.`, `e.g.`, `U.S.A.`);
5. @mentions and #hashtags;
6. numbers with inner separators (`3,5`, `1.000.000`, `12:30`, `12/10/2024`);
7. words, with inner apostrophes, hyphens, periods or commas (`don't`, `franco-alemán`);
8. an ellipsis (`...` or `…`);
9. any other single non-space character (¿ ¡ ? ! , ; « » emoji ...).

Text that is already tokenised (tokens joined by single spaces) comes back exactly as its tokens
as long as each token is itself one match (a word, a number or a single punctuation mark).

    >>> tokenize("¿Qué tal, Sr. Núñez? Cuesta 3,5 €... ana@uni.es")
    ['¿', 'Qué', 'tal', ',', 'Sr.', 'Núñez', '?', 'Cuesta', '3,5', '€', '...', 'ana@uni.es']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: Abbreviations that keep their final period (lower case; matching ignores case).
ABBREVIATIONS: tuple[str, ...] = (
    # Spanish
    "sr", "sra", "srta", "sres", "sras", "dr", "dra", "dres", "dras", "d", "dña", "ud", "uds", "vd",
    "vds", "lic", "ing", "arq", "prof", "profa", "sto", "sta", "gral", "cnel", "excmo", "excma",
    "ilmo", "ilma", "etc", "pág", "págs", "núm", "nro", "avda", "av", "ej", "aprox", "tel",
    "telf", "cap", "caps", "vol", "vols", "fig", "figs", "admón", "dpto", "depto", "cía", "ee",
    "uu", "aa", "vv", "a.c", "d.c", "a.m", "p.m", "p.ej", "ee.uu", "cf", "pl", "izq", "dcha",
    # English
    "mr", "mrs", "ms", "jr", "sr", "st", "vs", "inc", "ltd", "co", "corp", "dept", "approx",
    "e.g", "i.e", "u.s", "u.k",
)

URL_PATTERN = r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]}'»”]"
EMAIL_PATTERN = r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"
_PLACEHOLDER = r"<\w+>|\[(?:PAD|UNK|CLS|SEP|MASK)\]"
_ABBREV = (r"(?i:" + "|".join(re.escape(a) for a in sorted(set(ABBREVIATIONS), key=len, reverse=True))
           + r")\.(?!\w)")
_INITIALS = r"(?:[^\W\d_]\.){2,}(?!\w)"
_TAG = r"[#@]\w+"
_NUMBER = r"\d+(?:[.,:/]\d+)+"
_WORD = r"\w+(?:['’·.,\-]\w+)*"
_ELLIPSIS = r"\.\.\.|…"
_OTHER = r"[^\w\s]"

#: The tokeniser, valid both for Python `re` and for `tokenizers.Regex` (Oniguruma).
WORD_PATTERN = "|".join([URL_PATTERN, EMAIL_PATTERN, _PLACEHOLDER, _ABBREV, _INITIALS, _TAG, _NUMBER, _WORD, _ELLIPSIS, _OTHER])
_WORD_RE = re.compile(WORD_PATTERN)


def tokenize(text: str) -> list[str]:
    """Split a text into word and punctuation tokens (see the module docstring).

    >>> tokenize("¡Hola, mundo!")
    ['¡', 'Hola', ',', 'mundo', '!']
    """
    return _WORD_RE.findall(text)


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Tokens with their character offsets: (token, start, end), `text[start:end] == token`.

    >>> tokenize_with_offsets("¿Sí?")
    [('¿', 0, 1), ('Sí', 1, 3), ('?', 3, 4)]
    """
    return [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def iter_tokens(lines: Iterable[str]) -> Iterator[list[str]]:
    """Tokenise a stream of lines lazily, one token list per line."""
    for line in lines:
        yield tokenize(line)
