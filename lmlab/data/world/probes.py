"""Long-range cloze probes: "Crecí en Francia , <k filler tokens> , por eso hablo ___".

The answer (the language of the country named at the start) is fixed by the grammar whatever
the filler, so the accuracy of a model against k measures how far back it can carry
information (cf. Khandelwal et al. 2018, "Sharp Nearby, Fuzzy Far Away: How Neural Language
Models Use Context"; Linzen et al. 2016 for agreement probes). The filler is made of the
grammar's own clauses ("luego viajé a Italia ,"), sampled until they fill exactly k tokens, so
every prompt is in-distribution text; clauses that name another country make "the last country
mentioned" a wrong heuristic, and its language is offered among the distractors.

Distances: k = 0 or 3 <= k <= 4 * max_filler (a filler clause has 3, 4 or 5 tokens, so 1 and 2
cannot be filled, and the grammar allows at most `max_filler` clauses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lmlab.data.world.grammar import LONG_OPENERS, Grammar
from lmlab.data.world.tables import Sampler, Table
from lmlab.errors import ConfigError


@dataclass
class ClozeProbe:
    """One cloze item: the model should continue `prompt` with `answer` rather than the others.

    Attributes:
        prompt: tokens up to and including "hablo".
        answer: the correct next token (the language of `cue`).
        choices: the answer and the distractors, shuffled.
        distance: filler tokens between "<cue> ," and "por eso hablo".
        gap: tokens strictly between the cue and the answer (distance + 4).
        cue: the country that decides the answer.
    """

    prompt: list[str]
    answer: str
    choices: list[str]
    distance: int
    gap: int
    cue: str


def _reachable(k: int) -> bool:
    return k == 0 or k >= 3


def long_range_probes(grammar: Grammar, rng: np.random.Generator, distances: Sequence[int] = (0, 4, 8, 16, 32),
                      n_per_distance: int = 50, n_choices: int = 4) -> list[ClozeProbe]:
    """`n_per_distance` probes for each filler length in `distances` (see the module docstring)."""
    n_languages = len({c.language for c in grammar.countries})
    if not 2 <= n_choices <= n_languages:
        raise ConfigError(f"n_choices={n_choices} is not valid", fix=f"use 2..{n_languages}")
    max_distance = 4 * grammar.config.max_filler  # filler clauses average about 4.4 tokens
    for k in distances:
        if not (_reachable(k) and k <= max_distance):
            raise ConfigError(f"distance {k} cannot be filled with at most {grammar.config.max_filler} "
                              "whole clauses", fix=f"use 0 or a value in 3..{max_distance} "
                              "(or a GrammarConfig with a larger max_filler)")
    if n_per_distance < 0:
        raise ConfigError("n_per_distance must be >= 0", fix="use a count >= 0")
    openers = Table(((w, 1.0, w) for w in LONG_OPENERS), "apertura")
    main, clause = Sampler(rng), Sampler(rng)
    out = []
    for k in distances:
        for _ in range(n_per_distance):
            main.reset()
            main.pick(openers)
            main.emit("en")
            country = grammar.countries[main.pick(grammar.t_country)]
            main.emit(",")
            filler: list[str] = []
            n_clauses = 0
            while len(filler) < k:
                if n_clauses == grammar.config.max_filler:  # the grammar allows no more: start again
                    filler, n_clauses = [], 0
                left = k - len(filler)
                clause.reset(capitalize_first=False)
                clause.pick(grammar.t_starter)
                grammar.filler_clause(clause)
                if _reachable(left - len(clause.tokens)):
                    filler += clause.tokens
                    n_clauses += 1
            prompt = [*main.tokens, *filler, "por", "eso", "hablo"]
            answer = country.language
            mentioned = [c.language for c in grammar.countries if c.name in filler and c.language != answer]
            others = [c.language for c in grammar.countries if c.language not in mentioned and c.language != answer]
            rng.shuffle(others)
            choices = [answer, *dict.fromkeys(mentioned + others)][:n_choices]
            rng.shuffle(choices)
            out.append(ClozeProbe(prompt, answer, choices, k, k + 4, country.name))
    return out
