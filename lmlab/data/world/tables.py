"""Categorical tables and the three ways of running a grammar program: sample, read, enumerate.

A grammar program (see `grammar.py`) is ordinary Python that builds a sentence by calling
`src.pick(table)` (choose one token from a table of distinct tokens) and `src.emit(word)` (a token
forced by the history, probability 1). Every call produces exactly one token and the tokens of a
table are distinct, so the token sequence determines every choice: the grammar is unambiguous by
construction, and the probability of each token given its history is exactly the probability of
the option that produced it. One program then serves three sources:

- `Sampler`: draws options with precomputed cumulative tables and `bisect` (fast generation);
- `Reader`: follows given tokens and records their probabilities (exact scoring of any text, the
  entropy floor of a file), raising `DataError` on text the grammar cannot produce;
- `Enumerator`: follows a forced list of option indices (exhaustive enumeration in the tests).

Sentence-initial words (and those after "¿" or "¡") are capitalised by the source, as Spanish
orthography wants, from a capitalised copy of the table.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from lmlab.errors import DataError

OPENERS = frozenset({"¿", "¡"})


def capitalize(token: str) -> str:
    """'crecí' -> 'Crecí'; punctuation and already capitalised words are unchanged."""
    return token[:1].upper() + token[1:]


class Table:
    """A categorical distribution over distinct tokens, each with a payload.

    Args:
        rows: (token, weight, payload) triples; weights need not sum to 1, zero weights are dropped.
        name: used in error messages.
    """

    __slots__ = ("_cap", "cdf", "index", "log_probs", "name", "payloads", "probs", "tokens")

    def __init__(self, rows: Iterable[tuple[str, float, Any]], name: str = "table") -> None:
        rows = [r for r in rows if r[1] > 0]
        if not rows:
            raise ValueError(f"grammar table {name!r} is empty")
        total = math.fsum(r[1] for r in rows)
        self.name = name
        self.tokens: list[str] = [r[0] for r in rows]
        self.probs: list[float] = [r[1] / total for r in rows]
        self.log_probs: list[float] = [math.log(p) for p in self.probs]
        self.payloads: list[Any] = [r[2] for r in rows]
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            dup = sorted({t for t in self.tokens if self.tokens.count(t) > 1})
            raise ValueError(f"grammar table {name!r} repeats tokens {dup}: the grammar would be ambiguous")
        acc, cdf = 0.0, []
        for p in self.probs:
            acc += p
            cdf.append(acc)
        cdf[-1] = 1.0
        self.cdf = cdf
        self._cap: Table | None = None

    @classmethod
    def union(cls, parts: Sequence[tuple[float, Table, Hashable]], name: str = "union") -> Table:
        """Mixture of tables with disjoint tokens: P(token) = w_part * P(token | part).

        Payloads become (tag, payload), so the program knows which branch the token revealed.
        """
        total = math.fsum(w for w, _, _ in parts if w > 0)
        rows = [(tok, (w / total) * p, (tag, pay))
                for w, table, tag in parts if w > 0
                for tok, p, pay in zip(table.tokens, table.probs, table.payloads, strict=True)]
        return cls(rows, name)

    @classmethod
    def fixed(cls, token: str) -> Table:
        return cls([(token, 1.0, token)], token)

    def capitalized(self) -> Table:
        if self._cap is None:
            self._cap = Table(((capitalize(t), p, pay) for t, p, pay in
                               zip(self.tokens, self.probs, self.payloads, strict=True)), self.name)
        return self._cap

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {len(self)} tokens)"


class Source:
    """Base of the three sources: keeps the tokens and their log-probabilities (natural log)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, capitalize_first: bool = True) -> None:
        self.tokens: list[str] = []
        self.log_probs: list[float] = []
        self._cap = capitalize_first

    def pick(self, table: Table) -> Any:
        """Choose one option of `table`, record its token and log-probability, return its payload."""
        if self._cap:
            table = table.capitalized()
        i = self._choose(table)
        token = table.tokens[i]
        self.tokens.append(token)
        self.log_probs.append(table.log_probs[i])
        self._cap = token in OPENERS
        return table.payloads[i]

    def emit(self, *words: str) -> None:
        """Tokens forced by the history (probability 1)."""
        for word in words:
            token = capitalize(word) if self._cap else word
            self._forced(token)
            self.tokens.append(token)
            self.log_probs.append(0.0)
            self._cap = token in OPENERS

    def _choose(self, table: Table) -> int:
        raise NotImplementedError

    def _forced(self, token: str) -> None:
        pass

    def finish(self) -> None:
        pass


class Sampler(Source):
    """Draws options with a numpy PCG64 stream (identical on every platform for a seed)."""

    def __init__(self, rng: np.random.Generator, block: int = 1 << 15) -> None:
        super().__init__()
        self._rng, self._block = rng, block
        self._u: list[float] = []
        self._k = 0

    def _choose(self, table: Table) -> int:
        if self._k >= len(self._u):
            self._u = self._rng.random(self._block).tolist()
            self._k = 0
        u = self._u[self._k]
        self._k += 1
        i = bisect_right(table.cdf, u)
        return i if i < len(table.cdf) else len(table.cdf) - 1


class Reader(Source):
    """Follows given tokens through the program, recording their probabilities."""

    def __init__(self, tokens: Sequence[str], where: str = "text") -> None:
        super().__init__()
        self._input = list(tokens)
        self._where = where

    def _next(self, expected: str) -> str:
        pos = len(self.tokens)
        if pos >= len(self._input):
            raise DataError(f"sentence ends early; the grammar expects {expected}",
                            where=self._where, fix="score only text generated by `lmlab world generate lm`")
        return self._input[pos]

    def _choose(self, table: Table) -> int:
        token = self._next(f"one of the {len(table)} words of {table.name!r}")
        i = table.index.get(token)
        if i is None:
            raise DataError(f"token {len(self.tokens) + 1} {token!r} cannot follow "
                            f"{' '.join(self.tokens[-3:])!r} in the world grammar ({table.name})",
                            where=self._where, fix="score only text generated by `lmlab world generate lm`")
        return i

    def _forced(self, token: str) -> None:
        got = self._next(repr(token))
        if got != token:
            raise DataError(f"token {len(self.tokens) + 1} is {got!r} but the grammar forces {token!r}",
                            where=self._where, fix="score only text generated by `lmlab world generate lm`")

    def finish(self) -> None:
        if len(self.tokens) != len(self._input):
            extra = " ".join(self._input[len(self.tokens):][:3])
            raise DataError(f"the sentence should end after token {len(self.tokens)} but goes on with {extra!r}",
                            where=self._where, fix="score only text generated by `lmlab world generate lm`")


class Branch(Exception):
    """Raised by `Enumerator` at the first choice past its forced prefix."""

    def __init__(self, n_options: int) -> None:
        super().__init__(n_options)
        self.n_options = n_options


class Enumerator(Source):
    """Follows a forced list of option indices; raises `Branch` when it runs out."""

    def __init__(self, choices: Sequence[int]) -> None:
        super().__init__()
        self._choices = list(choices)
        self._k = 0

    def _choose(self, table: Table) -> int:
        if self._k >= len(self._choices):
            raise Branch(len(table))
        self._k += 1
        return self._choices[self._k - 1]


def enumerate_derivations(program, max_count: int = 1_000_000) -> list[tuple[tuple[str, ...], float, tuple[int, ...]]]:
    """Every derivation of `program(src)`, by depth-first search over option indices.

    Returns (tokens, log_prob, choices) for each; raises ValueError past `max_count` (the grammar
    must be finite, e.g. `GrammarConfig.tiny()`).
    """
    out = []
    stack: list[tuple[int, ...]] = [()]
    while stack:
        prefix = stack.pop()
        src = Enumerator(prefix)
        try:
            program(src)
        except Branch as b:
            stack.extend((*prefix, i) for i in reversed(range(b.n_options)))
            continue
        out.append((tuple(src.tokens), math.fsum(src.log_probs), prefix))
        if len(out) > max_count:
            raise ValueError(f"more than {max_count} derivations: use a smaller configuration")
    return out
