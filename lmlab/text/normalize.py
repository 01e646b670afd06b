"""Text normalisation: Unicode forms, case folding, accents, whitespace and social-media tokens.

Each function does one thing and maps `str -> str`, so `lmlab.text.pipeline.Pipeline` can chain any
of them. References: Unicode Standard Annex #15 (normal forms NFC/NFKC), the Unicode case folding of
`str.casefold`, and the replacement tokens used for tweets by e.g. Baziotis et al. 2017
(ekphrasis: `<url>`, `<user>`, `<hashtag>`).

Notable choices:
- `strip_accents` removes diacritics (á -> a, ü -> u) but keeps ñ/Ñ by default: in Spanish
  "año" and "ano" are different words, while "canción"/"cancion" are spelling variants.
- Replacement tokens are written `<url>`, `<user>`, `<hashtag>`, `<emoji>`; `lmlab.text.words`
  keeps such `<name>` tokens whole, and they are padded with a space only where they touch a letter or digit.
- Emoji are matched by code-point ranges (pictographs, dingbats, flags, keycaps) together with
  their skin-tone modifiers, variation selectors and zero-width-joiner sequences, so a family
  emoji or a flag is one `<emoji>`.

    >>> strip_accents("¿Qué año tan difícil, pingüino!")
    '¿Que año tan dificil, pinguino!'
    >>> replace_social("@ana mira https://t.co/x #NLP 😀")
    '<user> mira <url> <hashtag> <emoji>'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

from lmlab.errors import check_choice
from lmlab.text.words import EMAIL_PATTERN, URL_PATTERN

Form = Literal["NFC", "NFKC", "NFD", "NFKD"]
FORMS: tuple[str, ...] = ("NFC", "NFKC", "NFD", "NFKD")

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"
HASHTAG_TOKEN = "<hashtag>"
EMOJI_TOKEN = "<emoji>"
EMAIL_TOKEN = "<email>"

_URL_RE = re.compile(URL_PATTERN)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_MENTION_RE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w+)")
_PICTO = ("\U0001F300-\U0001F5FF\U0001F600-\U0001F64F\U0001F680-\U0001F6FF\U0001F700-\U0001F77F"
          "\U0001F780-\U0001F7FF\U0001F800-\U0001F8FF\U0001F900-\U0001F9FF\U0001FA00-\U0001FAFF"
          "\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\U0001F000-\U0001F02F\U0001F0A0-\U0001F0FF")
_MOD = "(?:[\U0001F3FB-\U0001F3FF]|\uFE0F|\u20E3)*"
_EMOJI_RE = re.compile(
    "(?:[\U0001F1E6-\U0001F1FF]{2}"                         # flags: two regional indicators
    "|[#*0-9]\uFE0F?\u20E3"                                   # keycaps
    f"|[{_PICTO}]{_MOD}(?:\u200D[{_PICTO}]{_MOD})*)")         # pictographs and ZWJ sequences
_SPACES_RE = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))  # zero-width space, joiner, BOM, soft hyphen


def unicode_normalize(text: str, form: Form = "NFC") -> str:
    """Put text in a Unicode normal form: NFC composes (n + ◌̃ -> ñ), NFKC also folds
    compatibility characters (ﬁ -> fi, ² -> 2, full-width letters -> ASCII).

    >>> unicode_normalize("nin\\u0303o") == "niño"
    True
    >>> unicode_normalize("ﬁn²", "NFKC")
    'fin2'
    """
    check_choice("form", form, FORMS)
    return unicodedata.normalize(form, text)


def casefold(text: str) -> str:
    """Unicode case folding, a stronger `lower()` for matching (ß -> ss, ﬀ -> ff).

    >>> casefold("ÁRBOL Straße")
    'árbol strasse'
    """
    return text.casefold()


def lowercase(text: str) -> str:
    """Plain lower case (keeps ß), as most tokenizers' `lowercase` options do.

    >>> lowercase("ÁRBOL Straße")
    'árbol straße'
    """
    return text.lower()


@functools.lru_cache(maxsize=4096)
def _strip_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_accents(text: str, keep: str = "ñÑ") -> str:
    """Remove diacritics (á -> a, ü -> u, ç -> c) except on the characters in `keep`.

    Args:
        text: any text; it is composed (NFC) first so that decomposed input behaves the same.
        keep: characters left untouched (default ñ and Ñ).

    >>> strip_accents("Ñandú, cigüeña, acción")
    'Ñandu, cigueña, accion'
    >>> strip_accents("Ñandú", keep="")
    'Nandu'
    """
    composed = unicodedata.normalize("NFC", text)
    if composed.isascii():
        return composed
    return "".join(ch if ch.isascii() or ch in keep else _strip_char(ch) for ch in composed)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace (tabs, newlines, no-break spaces) to one space, drop invisible
    characters (zero-width space, BOM, soft hyphen) and trim both ends.

    >>> normalize_whitespace("  hola\\t\\u00a0 mundo\\n")
    'hola mundo'
    """
    return _SPACES_RE.sub(" ", text.translate(_INVISIBLE)).strip()


def _sub_padded(regex: re.Pattern[str], token: str, text: str) -> str:
    """Replace the matches of `regex` with `token`, adding a space where the token would touch a
    letter, a digit or the next match (never before punctuation: "<url>." stays as it is)."""
    def replace(match: re.Match[str]) -> str:
        s, start, end = match.string, match.start(), match.end()
        left = " " if start > 0 and s[start - 1].isalnum() else ""
        right = " " if end < len(s) and (s[end].isalnum() or regex.match(s, end)) else ""
        return f"{left}{token}{right}"
    return regex.sub(replace, text)


def replace_urls(text: str, token: str = URL_TOKEN) -> str:
    """Replace URLs (http(s)://... and www....) with `token`, leaving trailing punctuation.

    >>> replace_urls("Ver https://es.wikipedia.org/wiki/Año.")
    'Ver <url>.'
    """
    return _sub_padded(_URL_RE, token, text)


def replace_emails(text: str, token: str = EMAIL_TOKEN) -> str:
    """Replace e-mail addresses with `token`.

    >>> replace_emails("Escribe a ana@uni.es hoy")
    'Escribe a <email> hoy'
    """
    return _sub_padded(_EMAIL_RE, token, text)


def replace_mentions(text: str, token: str = USER_TOKEN) -> str:
    """Replace @mentions (not e-mail addresses) with `token`.

    >>> replace_mentions("@ana y @luis_88 vienen")
    '<user> y <user> vienen'
    """
    return _sub_padded(_MENTION_RE, token, text)


def replace_hashtags(text: str, mode: Literal["token", "word", "keep"] = "token",
                     token: str = HASHTAG_TOKEN) -> str:
    """Handle #hashtags: "token" replaces them with `token`, "word" drops the # and keeps the
    word, "keep" leaves them.

    >>> replace_hashtags("Me encanta #Madrid"), replace_hashtags("Me encanta #Madrid", "word")
    ('Me encanta <hashtag>', 'Me encanta Madrid')
    """
    check_choice("hashtag mode", mode, ("token", "word", "keep"))
    if mode == "keep":
        return text
    if mode == "word":
        return _HASHTAG_RE.sub(r"\1", text)
    return _sub_padded(_HASHTAG_RE, token, text)


def find_emoji(text: str) -> list[str]:
    """The emoji of a text, one item per emoji (a ZWJ family or a flag counts once).

    >>> find_emoji("¡Hola! 👋🏽 🇪🇸 👨‍👩‍👧")
    ['👋🏽', '🇪🇸', '👨\\u200d👩\\u200d👧']
    """
    return _EMOJI_RE.findall(text)


def replace_emoji(text: str, token: str = EMOJI_TOKEN) -> str:
    """Replace every emoji with `token` (an empty token deletes them).

    >>> replace_emoji("genial😀👍")
    'genial <emoji> <emoji>'
    """
    if not token:
        return _EMOJI_RE.sub("", text)
    return _sub_padded(_EMOJI_RE, token, text)


def replace_social(text: str, *, urls: bool = True, emails: bool = True, mentions: bool = True,
                   hashtags: Literal["token", "word", "keep"] = "token", emoji: bool = True) -> str:
    """All the social-media replacements of this module, URLs and e-mails first (they contain
    `@` and `#` that would otherwise look like mentions or hashtags).

    >>> replace_social("@ana: mira www.x.es #fin 😀", hashtags="word")
    '<user>: mira <url> fin <emoji>'
    """
    if urls:
        text = replace_urls(text)
    if emails:
        text = replace_emails(text)
    if mentions:
        text = replace_mentions(text)
    text = replace_hashtags(text, hashtags)
    if emoji:
        text = replace_emoji(text)
    return text


def normalize(text: str, *, form: Form | None = "NFC", lower: bool = False,
              accents: bool = True, whitespace: bool = True, social: bool = False) -> str:
    """The usual chain in one call: Unicode form, social tokens, case, accents, whitespace.

    Args:
        form: Unicode normal form, or None to leave the text as it is.
        lower: case-fold the text.
        accents: keep accents (True) or strip them except ñ (False).
        whitespace: collapse whitespace and trim.
        social: replace URLs, e-mails, @mentions, #hashtags and emoji by tokens.

    >>> normalize("  ¿QUÉ   tal?  @ana ", lower=True, accents=False, social=True)
    '¿que tal? <user>'
    """
    if form:
        text = unicode_normalize(text, form)
    if social:
        text = replace_social(text)
    if lower:
        text = casefold(text)
    if not accents:
        text = strip_accents(text)
    if whitespace:
        text = normalize_whitespace(text)
    return text
