"""`GrammarConfig`: the sizes and probabilities of the world's grammar (see grammar.py and
docs/world.md for how each one moves the entropy floor and the dependencies)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from lmlab.data.world import lexicon as lx
from lmlab.errors import ConfigError, check_range


@dataclass(frozen=True)
class GrammarConfig:
    """Sizes and probabilities of the grammar; see docs/world.md for how each moves the floor.

    Lexicon sizes cap how many entries of each class `lexicon.py` provides (None = all).
    `topic_affinity` multiplies the weight of verbs/objects/places of the subject's topic
    (1 = no topic dependence; larger = stronger medium-range dependency, lower floor).
    """

    topics: tuple[str, ...] | None = None  # topics whose objects, verbs and places are used
    n_countries: int | None = None
    n_persons: int | None = None
    n_animals: int | None = None
    n_per_topic: int | None = None      # objects, verbs and places kept per topic
    n_adjectives: int | None = None     # per adjective class
    n_cities: int | None = None
    n_names: int | None = None
    n_fields: int | None = None         # study fields and infinitives in the filler
    zipf: float = 0.5                   # weight of the i-th entry of a class: (i + 1) ** -zipf
    topic_affinity: float = 8.0
    favourite: float = 10.0             # weight of each word's own collocates (identity for word vectors)
    w_declarative: float = 0.6
    w_long: float = 0.15
    w_fact: float = 0.1
    w_question: float = 0.08
    w_exclamation: float = 0.07
    p_animal: float = 0.25
    p_young: float = 0.35              # of animal subjects, the young ones
    p_care: float = 0.3                # an adult "cuida a su <cría>"
    p_with: float = 0.3                # "La vaca y su ternero viven ..." (else the species' verb)
    p_plural: float = 0.45
    p_indefinite: float = 0.2
    p_demonstrative: float = 0.1
    p_count: float = 0.35               # plural phrases with dos/tres/muchos/varios
    p_adjective: float = 0.35
    p_relative: float = 0.2
    p_object_adjective: float = 0.25
    p_complement: float = 0.35         # "la sopa de verduras"
    p_place: float = 0.45
    p_because: float = 0.25
    p_city: float = 0.3
    p_habitat: float = 0.6
    p_filler: float = 0.6
    max_filler: int = 16

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("p_"):
                check_range(f.name, v, 0, 1)
            elif f.name.startswith("w_") or f.name in ("zipf",):
                check_range(f.name, v, 0)
            elif f.name in ("topic_affinity", "favourite") or (f.name.startswith("n_") and v is not None):
                check_range(f.name, v, 1)
        check_range("max_filler", self.max_filler, 0)
        for t in self.topics or ():
            if t not in lx.TOPICS:
                raise ConfigError(f"topic {t!r} is not valid", fix=f"use some of {', '.join(lx.TOPICS)}")
        if self.p_indefinite + self.p_demonstrative > 1:
            raise ConfigError("p_indefinite + p_demonstrative must be <= 1", fix="lower one of them")
        if self.p_object_adjective + self.p_complement > 1:
            raise ConfigError("p_object_adjective + p_complement must be <= 1", fix="lower one of them")
        if self.p_care + self.p_with > 1:
            raise ConfigError("p_care + p_with must be <= 1", fix="lower one of them")
        if self.p_adjective + self.p_relative > 1 or self.p_place + self.p_because > 1:
            raise ConfigError("p_adjective + p_relative and p_place + p_because must each be <= 1",
                              fix="lower one of them")

    @classmethod
    def tiny(cls) -> GrammarConfig:
        """A configuration small enough to enumerate every sentence (used by the tests)."""
        return cls(topics=("familia",), p_demonstrative=0.0, p_count=0.0, n_countries=2, n_persons=1, n_animals=1, n_per_topic=1, n_adjectives=1,
                   n_cities=1, n_names=1, n_fields=1, max_filler=1)
