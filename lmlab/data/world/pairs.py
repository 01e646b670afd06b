"""Sentence pairs with graded similarity (0-5, as in STS; Cer et al. 2017) and next-sentence labels
(as in BERT's NSP; Devlin et al. 2019).

The similarity is computed from the meanings, never from the words: 1.5 points each for the same
subject (0.75 when only its gender differs), verb and object, and 0.5 for the same place. Pairs
are made by changing a random number of slots of a clause, so every grade occurs. Half of the
pairs are consecutive sentences of a topic document (`is_next=True`); the other half pair a
sentence with an edited one or one from another document (`is_next=False`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lmlab.data.world import lexicon as lx
from lmlab.data.world.realize import Clause, sample_clause

SLOTS = ("subject", "verb", "obj", "place")


@dataclass
class SentencePair:
    a: str
    b: str
    similarity: float
    is_next: bool
    a_clause: Clause
    b_clause: Clause


def similarity(a: Clause, b: Clause) -> float:
    """Graded similarity of two meanings in [0, 5]."""
    score = 0.0
    if a.subject == b.subject:
        score += 1.5 if a.gender == b.gender else 0.75
    score += 1.5 * (a.verb == b.verb) + 1.5 * (a.obj == b.obj) + 0.5 * (a.place == b.place)
    return score


def _edit(rng: np.random.Generator, c: Clause, slots: list[str]) -> Clause:
    other = sample_clause(rng)
    changes = {}
    for slot in slots:
        sizes = {"subject": len(lx.PERSONS), "verb": len(lx.VERBS), "obj": len(lx.OBJECTS),
                 "place": len(lx.PLACES)}
        value = getattr(c, slot)
        new = getattr(other, slot)
        while new == value:
            new = int(rng.integers(sizes[slot]))
        changes[slot] = new
    return replace(c, **changes)


def sentence_pairs(rng: np.random.Generator, n: int) -> list[SentencePair]:
    """`n` pairs: a quarter next-sentence positives, a quarter negatives, half graded edits."""
    out: list[SentencePair] = []
    for _ in range(n):
        u = rng.random()
        t = lx.TOPICS[int(rng.integers(len(lx.TOPICS)))]
        ca = sample_clause(rng, t)
        if u < 0.25:  # the story goes on: same topic, same person
            cb = replace(sample_clause(rng, t), subject=ca.subject, gender=ca.gender, number=ca.number)
            is_next = True
        elif u < 0.5:  # a sentence from a document about another topic
            t2 = lx.TOPICS[(lx.TOPICS.index(t) + 1 + int(rng.integers(len(lx.TOPICS) - 1))) % len(lx.TOPICS)]
            cb, is_next = sample_clause(rng, t2), False
        else:
            k = int(rng.integers(len(SLOTS) + 1))
            cb = _edit(rng, ca, [SLOTS[j] for j in rng.choice(len(SLOTS), size=k, replace=False)])
            if rng.random() < 0.3:  # a meaning-preserving change of determiner
                cb = replace(cb, definite=not cb.definite)
            is_next = False
        out.append(SentencePair(" ".join(ca.es()), " ".join(cb.es()), similarity(ca, cb), is_next, ca, cb))
    return out
