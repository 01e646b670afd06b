"""Noisy-channel spelling correction with an n-gram language model.

    ŵ = argmax_w  P(x | w) · P_LM(w | context)        (Kernighan, Church & Gale 1990;
                                                        Jurafsky & Martin, SLP3 appendix B)

- candidates: known words within Damerau-Levenshtein (optimal string alignment) distance 1, or 2
  when none is at 1, found through a symmetric-delete index (Garbe's SymSpell): every word and
  typo is reduced to its deletions, so no alphabet-sized edit sets are generated;
- channel model `EditChannel`: P(x | w) = P(no typo) when x == w, else the product over the edits
  of the alignment of per-operation probabilities (insertion, deletion, substitution,
  transposition, and accent/case changes such as a -> á, which Spanish typists make most);
  `fit` estimates them from (typo, correct) pairs by counting the edits of their alignments;
- language model: any `NGramLM`; all candidate sentences of a sentence are scored in one
  vectorised call, and words are decided left to right on the corrected history.

Known words are candidates too (with P(no typo)), so real-word errors can be fixed when the
context is strong, and a correct word changes only when the evidence outweighs the prior.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lmlab.errors import ConfigError, check_range

__all__ = ["EditChannel", "SpellingCorrector", "edit_operations", "osa_distance"]

OPS = ("insert", "delete", "substitute", "transpose", "accent")


def _base(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0].lower()


def osa_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Damerau-Levenshtein without repeated edits).

    >>> osa_distance("perro", "pero"), osa_distance("caballo", "cabalol")
    (1, 1)
    """
    return len(edit_operations(a, b))


def edit_operations(typed: str, word: str) -> list[str]:
    """The edits turning `word` into `typed` along one optimal alignment (names from OPS).

    >>> edit_operations("caza", "casa"), edit_operations("cancion", "canción")
    (['substitute'], ['accent'])
    """
    n, m = len(word), len(typed)
    d = [[0] * (m + 1) for _ in range(n + 1)]  # Python lists: ~20x faster than numpy scalars here
    for i in range(n + 1):
        d[i][0] = i
    d[0] = list(range(m + 1))
    for i in range(1, n + 1):
        row, prev, wi = d[i], d[i - 1], word[i - 1]
        for j in range(1, m + 1):
            best = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (wi != typed[j - 1]))
            if i > 1 and j > 1 and wi == typed[j - 2] and word[i - 2] == typed[j - 1]:
                best = min(best, d[i - 2][j - 2] + 1)
            row[j] = best
    ops, i, j = [], n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and word[i - 1] == typed[j - 1] and d[i][j] == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + 1:
            same = _base(word[i - 1]) == _base(typed[j - 1])
            ops.append("accent" if same else "substitute")
            i, j = i - 1, j - 1
        elif (i > 1 and j > 1 and word[i - 1] == typed[j - 2] and word[i - 2] == typed[j - 1]
              and d[i][j] == d[i - 2][j - 2] + 1):
            ops.append("transpose")
            i, j = i - 2, j - 2
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            ops.append("delete")
            i -= 1
        else:
            ops.append("insert")
            j -= 1
    return ops[::-1]


@dataclass
class EditChannel:
    """P(typed | intended) from per-edit probabilities (see the module docstring).

    Attributes:
        p_correct: probability that a word is typed without error.
        op_probs: probability of each edit operation, per edit.
    """

    p_correct: float = 0.99
    op_probs: dict[str, float] = field(default_factory=lambda: {
        "insert": 0.01, "delete": 0.01, "substitute": 0.01, "transpose": 0.01, "accent": 0.03})

    def log_prob(self, typed: str, word: str) -> float:
        """Natural-log P(typed | word)."""
        if typed == word:
            return math.log(self.p_correct)
        ops = edit_operations(typed, word)
        return math.log(1 - self.p_correct) + sum(math.log(self.op_probs[o]) for o in ops)

    def fit(self, pairs: Iterable[tuple[str, str]], *, smoothing: float = 1.0) -> EditChannel:
        """Estimate `op_probs` (relative frequencies over operation slots) from (typo, correct) pairs.

        Each pair contributes its edits; the number of chances for an edit is the length of the
        correct word, so p(op) = (count(op) + smoothing) / (letters + smoothing * |OPS|).
        """
        counts: Counter[str] = Counter()
        letters = 0
        for typed, word in pairs:
            if typed != word:
                counts.update(edit_operations(typed, word))
                letters += len(word)
        if letters == 0:
            raise ConfigError("no (typo, correct) pair differs", fix="pass pairs with real typos")
        denom = letters + smoothing * len(OPS)
        self.op_probs = {o: (counts[o] + smoothing) / denom for o in OPS}
        return self


def _deletes(word: str, depth: int) -> set[str]:
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class SpellingCorrector:
    """Noisy-channel corrector over the vocabulary of an n-gram model.

    Args:
        lm: a fitted `NGramLM` (its vocabulary is the dictionary; words seen >= min_count times).
        channel: the error model (default `EditChannel()`).
        max_distance: 1 or 2 edits.
        min_count: dictionary words need this count in the LM's training data.
        lm_weight: exponent of the LM probability (1 = the plain noisy channel).
        unknown_penalty: natural-log penalty of keeping an unknown word (scored by the LM as
            `[UNK]`, a whole class of words): larger values correct more eagerly.
    """

    def __init__(self, lm, channel: EditChannel | None = None, *, max_distance: int = 2,
                 min_count: int = 1, lm_weight: float = 1.0, unknown_penalty: float = 7.6) -> None:
        if max_distance not in (1, 2):
            raise ConfigError(f"max_distance={max_distance!r} is not valid", fix="use 1 or 2")
        check_range("lm_weight", lm_weight, 0)
        self.lm = lm
        self.channel = channel or EditChannel()
        self.max_distance = max_distance
        self.lm_weight = lm_weight
        self.unknown_penalty = unknown_penalty
        vocab = lm.vocab
        counts = lm.tables.counts[0] if lm.tables is not None else np.ones(len(vocab), dtype=np.int64)
        self.words = {w for i, w in enumerate(vocab.words[4:], start=4) if counts[i] >= min_count
                      and any(ch.isalpha() for ch in w)}
        self._index: dict[str, list[str]] = defaultdict(list)
        for w in self.words:
            for d in _deletes(w.lower(), max_distance):
                self._index[d].append(w)

    def candidates(self, typed: str) -> list[str]:
        """`typed` and the known words within 1 edit of it (2 when none is at 1 and `typed` is unknown)."""
        if not any(ch.isalpha() for ch in typed):
            return [typed]
        found: dict[int, set[str]] = defaultdict(set)
        for d in _deletes(typed.lower(), self.max_distance):
            for w in self._index.get(d, ()):
                dist = osa_distance(typed, w)
                if dist <= self.max_distance:
                    found[dist].add(w)
        if typed in self.words:  # real-word errors: one edit away only (two changes too much)
            return sorted(found[0] | found[1] | {typed})
        # an unknown word stays a candidate: rare names and words are not typos (the LM scores
        # it as [UNK]); it loses when a known word explains it better
        return sorted(found[0] | (found[1] or found[2]) | {typed})

    def correct_tokens(self, tokens: Sequence[str]) -> list[str]:
        """Correct one tokenised sentence; returns the corrected tokens."""
        out = list(tokens)
        for i, typed in enumerate(tokens):
            cands = self.candidates(typed)
            if len(cands) == 1 and cands[0] == typed:
                continue
            sentences = [[*out[:i], c, *out[i + 1 :]] for c in cands]
            stream = self.lm.encode_sentences(sentences)
            with np.errstate(divide="ignore"):
                logp = np.log(self.lm.stream_probs(stream))
            per = len(tokens) + 1  # tokens and </s> of each candidate sentence
            lm_scores = logp.reshape(len(cands), per).sum(axis=1)
            scores = [self.lm_weight * s + self.channel.log_prob(typed, c)
                      - (self.unknown_penalty if c not in self.words else 0.0)
                      for s, c in zip(lm_scores.tolist(), cands, strict=True)]
            out[i] = cands[int(np.argmax(scores))]
        return out

    def correct(self, text: str) -> str:
        """Correct a sentence of space-separated tokens."""
        return " ".join(self.correct_tokens(text.split()))


SPANISH_LETTERS = "abcdefghijklmnñopqrstuvwxyzáéíóúü"
_ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "á": "a", "é": "e", "í": "i",
            "ó": "o", "ú": "u", "n": "ñ", "ñ": "n"}


def make_typo(word: str, rng: np.random.Generator) -> str:
    """One random edit of a word (insert, delete, substitute, transpose, or an accent change)."""
    i = int(rng.integers(len(word)))
    op = OPS[int(rng.integers(len(OPS)))]
    letter = SPANISH_LETTERS[int(rng.integers(len(SPANISH_LETTERS)))]
    if op == "insert":
        return word[:i] + letter + word[i:]
    if op == "delete" and len(word) > 1:
        return word[:i] + word[i + 1 :]
    if op == "transpose" and len(word) > 1:
        i = min(i, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "accent":
        spots = [j for j, ch in enumerate(word) if ch.lower() in _ACCENTS]
        if spots:
            j = spots[int(rng.integers(len(spots)))]
            return word[:j] + _ACCENTS[word[j].lower()] + word[j + 1 :]
    return word[:i] + letter + word[i + 1 :]


@dataclass
class SpellingReport:
    """Counts of an evaluation with injected typos."""

    corrupted: int = 0
    fixed: int = 0
    clean: int = 0
    changed: int = 0

    @property
    def fixed_rate(self) -> float:
        return self.fixed / max(self.corrupted, 1)

    @property
    def false_change_rate(self) -> float:
        return self.changed / max(self.clean, 1)

    def to_dict(self) -> dict[str, float]:
        return {"corrupted": self.corrupted, "fixed": self.fixed, "fixed_rate": self.fixed_rate,
                "clean": self.clean, "changed": self.changed,
                "false_change_rate": self.false_change_rate}


def evaluate(corrector: SpellingCorrector, sentences: Iterable[Sequence[str]], *, rate: float = 0.1,
             seed: int = 0, min_length: int = 3) -> SpellingReport:
    """Inject one-edit typos into `rate` of the alphabetic words (>= min_length letters) that the
    corrector knows, producing non-words, then count corrupted words fixed and clean words changed."""
    rng = np.random.default_rng(seed)
    rep = SpellingReport()
    for tokens in sentences:
        noisy, hit = list(tokens), []
        for i, t in enumerate(tokens):
            if len(t) >= min_length and t.isalpha() and t in corrector.words and rng.random() < rate:
                for _ in range(10):  # a typo that happens to be a word is not a non-word error
                    typo = make_typo(t, rng)
                    if typo not in corrector.words and typo != t:
                        noisy[i] = typo
                        hit.append(i)
                        break
        fixed = corrector.correct_tokens(noisy)
        hits = set(hit)
        for i, (orig, out) in enumerate(zip(tokens, fixed, strict=True)):
            if i in hits:
                rep.corrupted += 1
                rep.fixed += out == orig
            else:
                rep.clean += 1
                rep.changed += out != orig
    return rep
