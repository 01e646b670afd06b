"""A clause as meaning (who does what to what, where) and its Spanish and English renderings.

The task generators (parallel text, sentence pairs, topic documents, instructions) sample a
`Clause` and render it in both languages, so the ground truth (the meaning) is exact and the two
renderings agree by construction: gender and number agreement in Spanish (article, noun,
adjective, verb), adjective-noun reordering ("la sopa roja" / "the red soup"), noun compounds
("la sopa de verduras" / "the vegetable soup") and English a/an.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.data.world import lexicon as lx
from lmlab.data.world.tables import capitalize

ES_DET = {(d, g, n): w for (d, g, n), w in {
    ("def", "m", "sg"): "el", ("def", "f", "sg"): "la", ("def", "m", "pl"): "los", ("def", "f", "pl"): "las",
    ("indef", "m", "sg"): "un", ("indef", "f", "sg"): "una", ("indef", "m", "pl"): "unos",
    ("indef", "f", "pl"): "unas"}.items()}
EN_IRREGULAR_PLURAL = {"man": "men", "woman": "women", "child": "children"}
EN_PLACE_PREP = {"escenario": "on", "playa": "on", "estación": "at", "aeropuerto": "at", "mercado": "at",
                 "universidad": "at"}


def en_plural(noun: str) -> str:
    """English plural of a (possibly compound) noun: 'waitress' -> 'waitresses', 'man' -> 'men'."""
    *head, last = noun.split(" ")
    if last in EN_IRREGULAR_PLURAL:
        last = EN_IRREGULAR_PLURAL[last]
    elif last.endswith(("s", "sh", "ch", "x")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*head, last])


def en_article(definite: bool, number: str, next_word: str) -> str:
    if definite:
        return "the"
    if number == "pl":
        return "some"
    return "an" if next_word[:1].lower() in "aeiou" else "a"


@dataclass(frozen=True)
class Clause:
    """The meaning of one sentence. Indices point into the tuples of `lexicon`.

    subject: index into PERSONS; gender "m"/"f"; number "sg"/"pl"; verb: VERBS; obj: OBJECTS;
    subject_adj / obj_adj: PERSON_ADJECTIVES / OBJECT_ADJECTIVES or None; place: PLACES or None.
    """

    subject: int
    gender: str
    number: str
    verb: int
    obj: int
    obj_number: str = "sg"
    definite: bool = True
    obj_definite: bool = True
    subject_adj: int | None = None
    obj_adj: int | None = None
    complement: bool = False
    place: int | None = None

    @property
    def topic(self) -> str:
        return lx.PERSONS[self.subject].topic

    def es(self) -> list[str]:
        """Spanish tokens: 'Las reinas altas preparan la sopa de verduras roja en la cocina .'"""
        p, v, o = lx.PERSONS[self.subject], lx.VERBS[self.verb], lx.OBJECTS[self.obj]
        g, n, on = self.gender, self.number, self.obj_number
        out = [ES_DET["def" if self.definite else "indef", g, n], getattr(p, f"{g}_{n}")]
        if self.subject_adj is not None:
            out.append(lx.PERSON_ADJECTIVES[self.subject_adj].form(g, n))
        out.append(v.sg if n == "sg" else v.pl)
        out += [ES_DET["def" if self.obj_definite else "indef", o.gender, on], o.sg if on == "sg" else o.pl]
        if self.complement:
            out += ["de", lx.COMPLEMENTS[o.sg][0]]
        if self.obj_adj is not None:
            out.append(lx.OBJECT_ADJECTIVES[self.obj_adj].form(o.gender, on))
        if self.place is not None:
            pl = lx.PLACES[self.place]
            out += ["en", ES_DET["def", pl.gender, "sg"], pl.sg]
        out.append(".")
        out[0] = capitalize(out[0])
        return out

    def en(self) -> list[str]:
        """English tokens: 'The tall queens prepare the red vegetable soup in the kitchen .'"""
        p, v, o = lx.PERSONS[self.subject], lx.VERBS[self.verb], lx.OBJECTS[self.obj]
        noun = p.en_m if self.gender == "m" else p.en_f
        noun = en_plural(noun) if self.number == "pl" else noun
        np_ = ([lx.PERSON_ADJECTIVES[self.subject_adj].en] if self.subject_adj is not None else []) + noun.split()
        out = [en_article(self.definite, self.number, np_[0]), *np_]
        out += (v.en if self.number == "sg" else v.en_pl).split()
        onp = ([lx.OBJECT_ADJECTIVES[self.obj_adj].en] if self.obj_adj is not None else [])
        onp += lx.COMPLEMENTS[o.sg][1].split() if self.complement else []
        onp += (o.en if self.obj_number == "sg" else o.en_pl).split()
        out += [en_article(self.obj_definite, self.obj_number, onp[0]), *onp]
        if self.place is not None:
            pl = lx.PLACES[self.place]
            out += [EN_PLACE_PREP.get(pl.sg, "in"), "the", *pl.en.split()]
        out.append(".")
        out[0] = capitalize(out[0])
        return out


def _choice(rng: np.random.Generator, items: list[int]) -> int:
    return items[int(rng.integers(len(items)))]


def sample_clause(rng: np.random.Generator, topic: str | None = None, *, p_plural: float = 0.4,
                  p_adj: float = 0.4, p_place: float = 0.4, p_complement: float = 0.2) -> Clause:
    """A random clause; with `topic`, the subject, verb, object and place mostly of that topic."""
    topics = lx.TOPICS if topic is None else (topic,)
    t = topics[int(rng.integers(len(topics)))]
    subject = _choice(rng, [i for i, p in enumerate(lx.PERSONS) if p.topic == t])
    verbs = [i for i, v in enumerate(lx.VERBS) if v.topic == t] if rng.random() < 0.85 else list(range(len(lx.VERBS)))
    verb = _choice(rng, verbs)
    vt = lx.VERBS[verb].topic
    objs = [i for i, o in enumerate(lx.OBJECTS) if o.topic == vt]
    rank = [i for i, v in enumerate(lx.VERBS) if v.topic == vt].index(verb)
    if rank < len(objs) and rng.random() < 0.6:  # the verb's own object: "prepara la sopa"
        objs = [objs[rank]]
    places = [i for i, pl in enumerate(lx.PLACES) if pl.topic == t]
    return Clause(
        subject=subject, gender="mf"[int(rng.integers(2))], number="pl" if rng.random() < p_plural else "sg",
        verb=verb, obj=_choice(rng, objs), obj_number="pl" if rng.random() < p_plural else "sg",
        definite=bool(rng.random() < 0.75), obj_definite=bool(rng.random() < 0.75),
        subject_adj=int(rng.integers(len(lx.PERSON_ADJECTIVES))) if rng.random() < p_adj else None,
        obj_adj=int(rng.integers(len(lx.OBJECT_ADJECTIVES))) if rng.random() < p_adj else None,
        complement=bool(rng.random() < p_complement),
        place=_choice(rng, places) if places and rng.random() < p_place else None)

