"""Vocabulary coverage of a tokenizer on a corpus: OOV rate and tokens per word ("fertility").

The course's question of how a tokenizer treats a new language (Rust et al. 2021, "How good is
your tokenizer?"): a word-level vocabulary trained on English meets many unknown Spanish words
(high OOV rate); a subword vocabulary never fails but splits Spanish words into more pieces (high
fertility). Words are `lmlab.text.words.tokenize` words; each token of the real encoding of a line
is assigned to the word its character offsets fall in, so the counts are those of actual use.

    >>> from lmlab.text.tokenizers import train_tokenizer
    >>> tok = train_tokenizer("word", ["el perro ladra"])
    >>> r = coverage_report(tok, ["el gato ladra"])
    >>> r.n_words, r.oov_words, round(r.oov_rate, 3), r.tokens_per_word
    (3, 1, 0.333, 1.0)
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lmlab.errors import DataError
from lmlab.text import special
from lmlab.text.words import tokenize_with_offsets

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_BATCH = 1000


@dataclass
class CoverageReport:
    """Counts over a corpus (words are `words.tokenize` words, tokens the tokenizer's).

    Attributes:
        n_lines, n_words, n_tokens, n_chars: totals (tokens without template specials).
        oov_words: words with at least one [UNK] token.
        unk_tokens: [UNK] tokens.
        split_words: words that took more than one token.
        word_tokens: tokens that fell inside words (spaces and template tokens excluded).
        word_types, oov_types: distinct words, and distinct words that were OOV.
        top_oov: the most frequent OOV words with their counts.
    """

    n_lines: int = 0
    n_words: int = 0
    n_tokens: int = 0
    n_chars: int = 0
    oov_words: int = 0
    unk_tokens: int = 0
    split_words: int = 0
    word_tokens: int = 0
    word_types: int = 0
    oov_types: int = 0
    top_oov: list[tuple[str, int]] = field(default_factory=list)

    @property
    def oov_rate(self) -> float:
        """Fraction of running words with an [UNK] token."""
        return self.oov_words / self.n_words if self.n_words else 0.0

    @property
    def tokens_per_word(self) -> float:
        """Average tokens per word (fertility); 1.0 for a word-level vocabulary."""
        return self.word_tokens / self.n_words if self.n_words else 0.0

    @property
    def split_rate(self) -> float:
        """Fraction of words split into two or more tokens."""
        return self.split_words / self.n_words if self.n_words else 0.0

    @property
    def chars_per_token(self) -> float:
        """Characters of text per token (compression)."""
        return self.n_chars / self.n_tokens if self.n_tokens else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates as a JSON-ready dict."""
        rates = {"oov_rate": self.oov_rate, "tokens_per_word": self.tokens_per_word,
                 "split_rate": self.split_rate, "chars_per_token": self.chars_per_token}
        return {**asdict(self), **rates}

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [
            f"lines {self.n_lines:,}  words {self.n_words:,} ({self.word_types:,} distinct)  "
            f"tokens {self.n_tokens:,}",
            f"OOV rate {self.oov_rate:.2%} ({self.oov_words:,} words, {self.oov_types:,} distinct)",
            f"tokens per word {self.tokens_per_word:.3f}  words split {self.split_rate:.2%}  "
            f"chars per token {self.chars_per_token:.2f}",
        ]
        if self.top_oov:
            lines.append("most frequent OOV: " + ", ".join(f"{w} ({n})" for w, n in self.top_oov))
        return "\n".join(lines)


def coverage_report(tokenizer: Tokenizer, lines: Iterable[str], *, unk_token: str = special.UNK,
                    top: int = 10) -> CoverageReport:
    """Measure how a tokenizer covers a corpus.

    Args:
        tokenizer: any `tokenizers.Tokenizer`.
        lines: texts (e.g. `lmlab.data.corpus.iter_corpus_lines(path)`); they stream in batches.
        unk_token: the unknown token (byte-level BPE has none: its OOV rate is 0).
        top: how many of the most frequent OOV words to list.

    Raises:
        DataError: the corpus has no words.
    """
    unk_id = tokenizer.token_to_id(unk_token)
    report = CoverageReport()
    types: Counter[str] = Counter()
    oov: Counter[str] = Counter()
    iterator = iter(lines)
    while batch := list(itertools.islice(iterator, _BATCH)):
        encodings = tokenizer.encode_batch(batch, add_special_tokens=False)
        for text, enc in zip(batch, encodings, strict=True):
            report.n_lines += 1
            report.n_chars += len(text)
            report.n_tokens += len(enc.ids)
            report.unk_tokens += sum(i == unk_id for i in enc.ids) if unk_id is not None else 0
            _count_words(text, enc.ids, enc.offsets, unk_id, report, types, oov)
    if report.n_words == 0:
        raise DataError("the corpus has no words to measure", fix="pass a non-empty text corpus")
    report.word_types, report.oov_types = len(types), len(oov)
    report.top_oov = oov.most_common(top)
    return report


def _count_words(text: str, ids: list[int], offsets: list[tuple[int, int]], unk_id: int | None,
                 report: CoverageReport, types: Counter[str], oov: Counter[str]) -> None:
    """Assign each token to the word its start offset falls in (both lists are in text order)."""
    words = tokenize_with_offsets(text)
    t = 0
    for word, start, end in words:
        n, unknown = 0, False
        while t < len(ids) and offsets[t][1] <= start:  # tokens before this word (spaces ...)
            t += 1
        while t < len(ids) and offsets[t][0] < end:
            n += 1
            unknown |= ids[t] == unk_id
            t += 1
        n = max(n, 1)  # a token spanning several words counts for each of them
        report.n_words += 1
        report.word_tokens += n
        report.split_words += n > 1
        types[word] += 1
        if unknown:
            report.oov_words += 1
            oov[word] += 1
