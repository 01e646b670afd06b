"""Smoothing: turn count tables into per-order probability tables (`Levels`).

Every model is evaluated by one recursion over orders k = 1..n (`model.py`):

    p_0(w)       = base(w)                        uniform over the predictable vocabulary, or 0
    p_k(w | h)   = gamma_k(h) * p_{k-1}(w | h')  + term_k(h w)      mode "interpolate"
    p_k(w | h)   = term_k(h w) if (h w) was seen else gamma_k(h) * p_{k-1}(w | h')   mode "backoff"

where h' drops the first word of h. What differs between smoothings is `term`, `gamma`, the base:

- MLE:            term = c(hw)/c(h), gamma = 0 (a context never seen backs off to a shorter one)
- add-k:          term = c(hw)/(c(h)+k|V|), gamma = k|V|/(c(h)+k|V|) over the uniform base,
                  longest context only (Laplace for k = 1)
- modified Kneser-Ney, interpolated (Chen & Goodman 1998, sec. 3.5; as KenLM's lmplz):
                  term = (a(hw) - D(a))/sum_x a(hx), gamma = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.))/sum_x a(hx)
                  with adjusted counts a = raw counts at the highest order and for n-grams that
                  start with <s>, else the number of distinct left extensions; discounts per order
                  from counts of counts: Y = n1/(n1+2 n2), D1 = 1-2Y n2/n1, D2 = 2-3Y n3/n2,
                  D3+ = 3-4Y n4/n3; unigrams interpolate with the uniform distribution.
                  When counts of counts cannot give discounts in KenLM's range (0 <= D_j <= j), the
                  order uses FALLBACK_DISCOUNTS, as lmplz --discount_fallback (see `kn_discounts`)
- stupid backoff: term = c(hw)/c(h), gamma = alpha (Brants et al. 2007): scores, NOT probabilities

The predictable vocabulary excludes `[PAD]` and `<s>` (as KenLM: uniform over |V| incl. <unk>
but not <s>).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lmlab.models.ngram.counts import CountTables

logger = logging.getLogger("lmlab")

Smoothing = Literal["mle", "add_k", "kneser_ney", "stupid_backoff", "backoff"]
SMOOTHINGS: tuple[str, ...] = ("mle", "add_k", "kneser_ney", "stupid_backoff")
#: what KenLM's --discount_fallback uses when counts of counts cannot estimate discounts.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


@dataclass
class Level:
    """Probability table of one order k: CSR over the contexts (rows of order k-1)."""

    ptr: np.ndarray    # (n_{k-1}+1,) int64
    words: np.ndarray  # (n_k,) int64, predicted word of each entry
    term: np.ndarray   # (n_k,) float64
    gamma: np.ndarray  # (n_{k-1},) float64, per context


@dataclass
class Levels:
    """All orders plus how to combine them (see the module docstring)."""

    levels: list[Level]
    base: np.ndarray            # (V,) float64, p_0
    mode: Literal["interpolate", "backoff"]
    gamma_unseen: float         # gamma for a context absent from the tables
    longest_only: bool          # add-k: use only the longest available context
    discounts: list[tuple[float, float, float]] | None = None


def predictable_mask(vocab_size: int, excluded: tuple[int, ...]) -> np.ndarray:
    mask = np.ones(vocab_size, dtype=bool)
    mask[list(excluded)] = False
    return mask


def _per_context(ctx: np.ndarray, values: np.ndarray, n_ctx: int) -> np.ndarray:
    return np.bincount(ctx, weights=values, minlength=n_ctx)


def adjusted_counts(tables: CountTables, bos: int, excluded: tuple[int, ...]) -> list[np.ndarray]:
    """Kneser-Ney adjusted counts a(.) per order (float64), as KenLM's adjust_counts."""
    n = tables.order
    out: list[np.ndarray] = [np.zeros(0)] * n
    out[n - 1] = tables.counts[n - 1].astype(np.float64)
    for k in range(n - 1, 0, -1):
        n_k = len(tables.keys[k - 1])
        cont = np.bincount(tables.suffixes(k + 1), minlength=n_k).astype(np.float64)
        starts_bos = tables.first_words(k) == bos
        out[k - 1] = np.where(starts_bos, tables.counts[k - 1], cont)
    out[0][list(excluded)] = 0.0
    return out


def kn_discounts(a: np.ndarray, order: int | None = None, *,
                 continuation_unigrams: bool = False) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the counts of counts of adjusted counts `a` (of the
    n-grams of `order`, named in the log message when the fallback is used).

    Like KenLM's lmplz, the estimate fails when n1, n2 or n3 is 0 or a discount falls outside
    0 <= D_j <= j, and then FALLBACK_DISCOUNTS are used (lmplz stops with an error unless given
    --discount_fallback, and then complains on stderr for every such order). Here that is a
    WARNING, except with `continuation_unigrams` (the lowest order of a Kneser-Ney model of order
    2 or more), where it is logged at INFO as expected: those adjusted counts are continuation
    counts, how many distinct words precede each word, i.e. at most |V| numbers fixed by which
    words can follow which rather than a long tail of rare events. With a small closed vocabulary
    every possible left neighbour is soon seen, and counts of counts need not fall off as the
    Good-Turing estimate assumes (lmplz's help names class-based models, which lack singleton
    unigrams, as the legitimate use of the fallback). The embedded world (766 words from a
    grammar) is such a case from about 40,000 training tokens on: 120-160 words have exactly 4
    left neighbours (nouns after their determiners, "El/el/Un/Este perro"; countries after
    "a/de/en/En"), so n4 > n3 and D3+ = 3 - 4Y n4/n3 < 0. On natural text (Don Quijote, 5,000
    to 450,000 tokens) every order estimates its discounts. The unigram discounts only set how
    much of the unigram mass goes to the uniform distribution: on the world (150,000 tokens),
    test perplexities of the ladder's KN models with unigram discounts from (0.3, 0.6, 0.9) to
    (0.9, 1.8, 2.7) differ from the fallback's by under 0.05%. Raw counts that fail (the highest
    order; e.g. duplicated text, without singletons) and higher continuation orders that fail
    (e.g. very little text) still warn.
    """
    n1, n2, n3, n4 = (int(np.count_nonzero(a == i)) for i in (1, 2, 3, 4))
    d: tuple[float, float, float] = (-1.0, -1.0, -1.0)
    if min(n1, n2, n3) > 0:  # n4 may be 0 (then D3+ = 3), as in KenLM
        y = n1 / (n1 + 2 * n2)
        d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    if not all(0 <= di <= i + 1 for i, di in enumerate(d)):  # KenLM's range check
        if continuation_unigrams:
            logger.info("order 1: counts of counts n1..n4=%s of the continuation counts cannot "
                        "estimate Kneser-Ney discounts (usual with a small closed vocabulary); "
                        "using %s (as KenLM's --discount_fallback)", (n1, n2, n3, n4),
                        FALLBACK_DISCOUNTS)
        else:
            logger.warning("%scounts of counts n1..n4=%s cannot estimate Kneser-Ney discounts; "
                           "using %s (as KenLM's --discount_fallback)",
                           f"order {order}: " if order else "", (n1, n2, n3, n4), FALLBACK_DISCOUNTS)
        return FALLBACK_DISCOUNTS
    return d


def build_levels(tables: CountTables, smoothing: str, *, bos: int, excluded: tuple[int, ...],
                 k: float = 1.0, alpha: float = 0.4,
                 discounts: list[tuple[float, float, float]] | None = None) -> Levels:
    """Probability tables of a smoothing (see the module docstring) from raw counts."""
    V = tables.vocab_size
    mask = predictable_mask(V, excluded)
    uniform = mask / mask.sum()
    levels: list[Level] = []
    if smoothing == "kneser_ney":
        adjusted = adjusted_counts(tables, bos, excluded)
        if discounts is None:
            # The lowest order holds continuation counts when there is a higher one (KN's key idea).
            discounts = [kn_discounts(a, order, continuation_unigrams=order == 1 and tables.order > 1)
                         for order, a in enumerate(adjusted, 1)]
        for order in range(1, tables.order + 1):
            a = adjusted[order - 1]
            d1, d2, d3 = discounts[order - 1]
            ctx = tables.contexts(order)
            n_ctx = 1 if order == 1 else len(tables.keys[order - 2])
            disc = np.select([a >= 3, a == 2, a == 1], [d3, d2, d1], 0.0)
            total = _per_context(ctx, a, n_ctx)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            term = (a - disc) / safe[ctx]
            gamma = np.where(seen, _per_context(ctx, disc, n_ctx) / safe, 1.0)
            levels.append(Level(tables.context_ptr(order), tables.words(order), term, gamma))
        return Levels(levels, uniform, "interpolate", 1.0, False, discounts)
    n_pred = float(mask.sum())
    for order in range(1, tables.order + 1):
        c = tables.counts[order - 1].astype(np.float64)
        if order == 1:
            c = c.copy()
            c[list(excluded)] = 0.0
        ctx = tables.contexts(order)
        n_ctx = 1 if order == 1 else len(tables.keys[order - 2])
        total = _per_context(ctx, c, n_ctx)
        seen = total > 0
        if smoothing == "add_k":
            denom = total + k * n_pred
            term, gamma = c / denom[ctx], k * n_pred / denom
        else:
            safe = np.where(seen, total, 1.0)
            term = c / safe[ctx]
            if smoothing == "mle":
                gamma = np.where(seen, 0.0, 1.0)
            elif smoothing == "stupid_backoff":
                gamma = np.full(n_ctx, alpha)
            else:
                raise ValueError(f"unknown smoothing {smoothing!r}")
        levels.append(Level(tables.context_ptr(order), tables.words(order), term, gamma))
    if smoothing == "add_k":
        return Levels(levels, uniform, "interpolate", 1.0, True)
    if smoothing == "mle":
        return Levels(levels, np.zeros(V), "interpolate", 1.0, False)
    return Levels(levels, np.zeros(V), "backoff", alpha, False)
