"""Rule-based sentence splitting for Spanish and English.

A sentence ends at `.`, `?`, `!`, `...` or `…` (with any closing quotes or brackets after it) when
whitespace and the start of a new sentence follow: an upper-case letter, a digit, ¿ or ¡, or an
opening quote, bracket or dash before one of those. A blank line always ends a sentence. This is
the classic heuristic of rule-based splitters (Grefenstette & Tapanainen 1994; the
abbreviation-aware idea of Punkt, Kiss & Strunk 2006, with a hand-written list instead of a
learnt one). What it gets right, on purpose:

- abbreviations: titles and words that precede a name or number (`Sr.`, `Dra.`, `pág.`, `núm.`)
  never end a sentence; others (`etc.`, `EE. UU.`, `p.m.`) end one only when an upper-case word
  that is not itself an abbreviation follows;
- initials (`J. R. R. Tolkien`) and decimals (`3.5`, no space after the point) never split;
- ellipses split only before a sentence start ("Pues... no sé" stays whole);
- `¿Vienes?, preguntó` and `—¿Vienes? —preguntó ella.` stay whole (lower case after the mark);
- closing quotes stay with their sentence: `«Ven aquí.» Y se fue.` -> `«Ven aquí.»`, `Y se fue.`

    >>> split_sentences("El Sr. García llegó a las 3.30 h. ¿Vienes? ¡Claro! Pues... no sé.")
    ['El Sr. García llegó a las 3.30 h.', '¿Vienes?', '¡Claro!', 'Pues... no sé.']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lmlab.text.words import ABBREVIATIONS

#: Abbreviations that introduce a name or a number and so never end a sentence.
NEVER_FINAL: frozenset[str] = frozenset({
    "sr", "sra", "srta", "sres", "sras", "dr", "dra", "dres", "dras", "d", "dña", "ud", "uds", "vd",
    "vds", "lic", "ing", "arq", "prof", "profa", "sto", "sta", "gral", "cnel", "excmo", "excma",
    "ilmo", "ilma", "pág", "págs", "núm", "nro", "avda", "av", "cap", "caps", "vol", "vols", "fig",
    "figs", "tel", "telf", "art", "p.ej", "ej", "cf", "vs", "mr", "mrs", "ms", "st", "dpto", "depto",
})
#: Every abbreviation the splitter knows (lower case, without the final period).
KNOWN_ABBREVIATIONS: frozenset[str] = frozenset(ABBREVIATIONS) | NEVER_FINAL

_BOUNDARY = re.compile(r"(?:\.{3}|…|[.?!]+)[\"'»”’)\]]*(?=\s|$)")
_OPENERS = "\"'«“‘([—–-"
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SPACES = re.compile(r"\s+")
_STREAM_CHARS = 1 << 16


def _previous_word(text: str, end: int) -> str:
    """The whitespace-delimited word ending at `end`, without leading openers (¿¡«(\")."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip("¿¡" + _OPENERS)


def _starts_sentence(text: str, pos: int, end: int) -> bool:
    """Whether a sentence can start at `pos` (after skipping spaces and opening punctuation)."""
    while pos < end and text[pos].isspace():
        pos += 1
    while pos < end and text[pos] in _OPENERS:
        pos += 1
    if pos >= end:
        return False
    ch = text[pos]
    return ch.isupper() or ch.isdigit() or ch in "¿¡" or (ch.isalpha() and not ch.islower())


def _next_is_abbreviation(text: str, pos: int) -> bool:
    match = re.match(r"\s*(\S+?)\.(?:\s|$)", text[pos:pos + 40])
    return bool(match) and match.group(1).lower() in KNOWN_ABBREVIATIONS


def _is_boundary(text: str, mark: re.Match[str], end: int) -> bool:
    """Whether the end mark `mark` ends a sentence of the paragraph that finishes at `end`."""
    after = mark.end()
    if after >= end or text[after:end].isspace():
        return True
    if not _starts_sentence(text, after, end):
        return False
    if not mark.group().startswith(".") or mark.group().startswith(".."):
        return True  # ? ! and ellipses before a sentence start
    word = _previous_word(text, mark.start())
    if word.lower() in NEVER_FINAL:
        return False
    if len(word) == 1 and word.isupper():  # an initial: "J. R. R. Tolkien"
        return False
    word = word.lower()
    if word in KNOWN_ABBREVIATIONS or re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word):
        return not _next_is_abbreviation(text, after)
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`, surrounding spaces excluded.

    >>> sentence_spans("Hola. ¿Qué tal?")
    [(0, 5), (6, 15)]
    """
    spans: list[tuple[int, int]] = []
    breaks = list(_PARAGRAPH.finditer(text))
    paragraph_starts = [0, *(m.end() for m in breaks)]
    paragraph_ends = [*(m.start() for m in breaks), len(text)]
    for p_start, p_end in zip(paragraph_starts, paragraph_ends, strict=True):
        start = p_start
        for mark in _BOUNDARY.finditer(text, p_start, p_end):
            if _is_boundary(text, mark, p_end):
                spans.append((start, mark.end()))
                start = mark.end()
        spans.append((start, p_end))
    return [_trim(text, a, b) for a, b in spans if text[a:b].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while text[start].isspace():
        start += 1
    while text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, *, collapse_spaces: bool = True) -> list[str]:
    """The sentences of `text`; with `collapse_spaces` each one has its inner whitespace (line
    breaks of hard-wrapped text included) collapsed to single spaces.

    >>> split_sentences("«Ven aquí.» Y se fue.\\n\\nFin")
    ['«Ven aquí.»', 'Y se fue.', 'Fin']
    """
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    return [_SPACES.sub(" ", s) for s in sentences] if collapse_spaces else sentences


def iter_sentences(lines: Iterable[str], *, collapse_spaces: bool = True) -> Iterator[str]:
    """Sentences of a stream of lines (a file read lazily); a blank line ends a paragraph.

    Memory stays bounded by the longest sentence: once a paragraph buffer passes 64 K characters,
    every sentence but the last (which may continue) is emitted.
    """
    buffer: list[str] = []
    size = 0
    for line in lines:
        if not line.strip():
            if buffer:
                yield from split_sentences("\n".join(buffer), collapse_spaces=collapse_spaces)
            buffer, size = [], 0
            continue
        buffer.append(line)
        size += len(line) + 1
        if size > _STREAM_CHARS:
            text = "\n".join(buffer)
            spans = sentence_spans(text)
            for a, b in spans[:-1]:
                sentence = text[a:b]
                yield _SPACES.sub(" ", sentence) if collapse_spaces else sentence
            rest = text[spans[-1][0]:] if spans else ""
            buffer, size = ([rest], len(rest)) if rest else ([], 0)
    if buffer:
        yield from split_sentences("\n".join(buffer), collapse_spaces=collapse_spaces)
