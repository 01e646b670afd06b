"""Parallel Spanish-English sentences with exact references (for translation).

Each pair renders one sampled `realize.Clause` in both languages, so the reference is exact and
the pair shows what a translation model must learn: noun-adjective reordering ("la sopa roja" /
"the red soup"), noun compounds ("la sopa de verduras" / "the vegetable soup"), gender and number
agreement in Spanish with none in English, and verb agreement in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.data.world.realize import Clause, sample_clause


@dataclass
class ParallelPair:
    """es/en texts (tokens joined by spaces) and the meaning both render."""

    es: str
    en: str
    clause: Clause


def parallel(rng: np.random.Generator, n: int) -> list[ParallelPair]:
    out = []
    for _ in range(n):
        c = sample_clause(rng)
        out.append(ParallelPair(" ".join(c.es()), " ".join(c.en()), c))
    return out
