"""Word analogies of the world with known answers (Mikolov et al. 2013, "Efficient Estimation of
Word Representations in Vector Space": the questions-words test `a b c d`, read "a is to b as c
is to d").

Relations, all read from the lexicon the grammar uses (so every word occurs in the LM text):
país-idioma (Francia francés Italia italiano), país-capital (Francia París Italia Roma),
masculino-femenino (hombre mujer rey reina), adulto-cría (vaca ternero perro cachorro),
singular-plural (gato gatos flor flores) and verbo-singular-plural (juega juegan canta cantan).
Every ordered pair of distinct entries of a relation gives one question.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from lmlab.data.world.grammar import Grammar

RELATIONS = ("país-idioma", "país-capital", "masculino-femenino", "adulto-cría", "singular-plural",
             "verbo-singular-plural")
# Harder, left out of the default file: objects and animals mark their number only on the
# determiner and the adjective (people also on the verb, the pronoun and "está/están"), so
# word2vec gets about a third of these right (see docs/world.md).
HARD_RELATIONS = ("singular-plural-objetos",)


@dataclass(frozen=True)
class Analogy:
    """a : b :: c : d, with the relation's name."""

    a: str
    b: str
    c: str
    d: str
    relation: str


def relation_pairs(grammar: Grammar) -> dict[str, list[tuple[str, str]]]:
    """The (x, y) word pairs of each relation, from the lexicon the grammar was built with."""
    return {
        "país-idioma": [(k.name, k.language) for k in grammar.countries],
        "país-capital": [(k.name, k.capital) for k in grammar.countries],
        "masculino-femenino": [(p.m_sg, p.f_sg) for p in grammar.persons],
        "adulto-cría": [(a.adult.sg, a.young.sg) for a in grammar.animals],
        "singular-plural": [(p.m_sg, p.m_pl) for p in grammar.persons],
        "singular-plural-objetos": [(o.sg, o.pl) for o in grammar.objects]
        + [(a.adult.sg, a.adult.pl) for a in grammar.animals],
        "verbo-singular-plural": [(v.sg, v.pl) for v in grammar.verbs],
    }


def analogies(grammar: Grammar, relations: tuple[str, ...] = RELATIONS,
              max_per_relation: int | None = None) -> list[Analogy]:
    """Every ordered pair of distinct pairs of each relation (at most `max_per_relation` each)."""
    pairs = relation_pairs(grammar)
    out: list[Analogy] = []
    for rel in relations:
        items = [Analogy(a, b, c, d, rel) for (a, b), (c, d) in permutations(pairs[rel], 2)]
        out += items[:max_per_relation] if max_per_relation else items
    return out
