"""WEAT, the Word Embedding Association Test (Caliskan, Bryson & Narayanan 2017, "Semantics derived
automatically from language corpora contain human-like biases", Science 356).

Two target sets X, Y (e.g. masculine and feminine words) and two attribute sets A, B (e.g. career
and family words). For a word w,

    s(w, A, B) = mean_{a∈A} cos(w, a) - mean_{b∈B} cos(w, b)

the test statistic is S = Σ_{x∈X} s(x) - Σ_{y∈Y} s(y), the effect size

    d = (mean_{x∈X} s(x) - mean_{y∈Y} s(y)) / std_{w∈X∪Y} s(w)      (sample std, ddof=1)

and the one-sided p-value is the share of equal-size re-partitions (X_i, Y_i) of X∪Y with
S(X_i, Y_i) > S(X, Y): all of them when there are at most `n_permutations`, else that many random
ones. d > 0 means X is closer to A (and Y to B) than the other way round.

A Spanish example (documented in docs/word2vec.md):

    weat(wv, ["él", "hombre", "padre", "hijo", "hermano", "tío"],
             ["ella", "mujer", "madre", "hija", "hermana", "tía"],
             ["trabajo", "oficina", "negocio", "dinero", "sueldo", "carrera"],
             ["casa", "familia", "hogar", "boda", "niños", "cocina"])
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lmlab.errors import DataError


@dataclasses.dataclass
class WeatResult:
    """Effect size d, one-sided permutation p-value, statistic S and what was left out."""

    effect_size: float
    p_value: float
    statistic: float
    n_permutations: int
    exact: bool
    unknown: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def association(unit_w: np.ndarray, unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    """s(w, A, B) for each row of `unit_w` (N, D), given unit attribute vectors: (N,)."""
    return (unit_w @ unit_a.T).mean(1) - (unit_w @ unit_b.T).mean(1)


def weat(wv, x: Sequence[str], y: Sequence[str], a: Sequence[str], b: Sequence[str], *,
         n_permutations: int = 10_000, seed: int = 0) -> WeatResult:
    """Run WEAT on a `WordVectors`; unknown words are dropped and listed in the result.

    Raises:
        DataError: a set has no known word, or X and Y end up of different sizes below 2.
    """
    unknown = [w for w in (*x, *y, *a, *b) if w not in wv]
    sets = []
    for name, words in (("X", x), ("Y", y), ("A", a), ("B", b)):
        known = [w for w in words if w in wv]
        if not known:
            raise DataError(f"no word of set {name} is in the vocabulary ({', '.join(words)})",
                            fix="choose words that occur in the training corpus")
        sets.append(wv.unit_vectors[[wv.index[w] for w in known]])
    ux, uy, ua, ub = sets
    n = min(len(ux), len(uy))
    if n < 2:
        raise DataError("X and Y need at least 2 known words each", fix="add target words")
    ux, uy = ux[:n], uy[:n]  # WEAT compares equal-size target sets
    s = association(np.concatenate([ux, uy]), ua, ub)           # (2n,)
    sx, sy = s[:n], s[n:]
    statistic = float(sx.sum() - sy.sum())
    effect = float((sx.mean() - sy.mean()) / s.std(ddof=1)) if s.std(ddof=1) > 0 else 0.0
    total = math.comb(2 * n, n)
    exact = total <= n_permutations
    if exact:
        parts = np.array(list(itertools.combinations(range(2 * n), n)))
    else:
        rng = np.random.default_rng(seed)
        parts = np.argsort(rng.random((n_permutations, 2 * n)), axis=1)[:, :n]
    # S(X_i, Y_i) = Σ_{X_i} s - Σ_{Y_i} s = 2 Σ_{X_i} s - Σ s
    stats = 2 * s[parts].sum(1) - s.sum()
    p = float((stats > statistic + 1e-12).mean())
    return WeatResult(effect_size=effect, p_value=p, statistic=statistic,
                      n_permutations=len(parts), exact=exact, unknown=unknown)
