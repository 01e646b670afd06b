"""Sentences with named entities (PER, LOC, ORG, MISC) and BIO tags aligned to tokens
(the CoNLL-2002 Spanish NER scheme; Tjong Kim Sang 2002).

Entities come from the lexicon: people (first name and, often, surname), places (countries,
capitals, cities), organisations ("Universidad de Salamanca") and other names ("Tour de
Francia"). Nested names are tagged by the outer entity only, as in CoNLL: "Salamanca" inside
"Universidad de Salamanca" is part of the ORG, and "Francia" inside "Tour de Francia" of the MISC,
so a tagger must use context, not a gazetteer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.data.world import lexicon as lx

LABELS = ("PER", "LOC", "ORG", "MISC")
# Gender of each organisation's head noun, for its article ("la Universidad", "el Museo").
ORG_GENDER = {"Universidad": "f", "Museo": "m", "Orquesta": "f", "Hospital": "m", "Banco": "m",
              "Real": "f", "Club": "m", "Agencia": "f", "Teatro": "m", "Editorial": "f"}
# Templates: words, slots written as the entity type, and DET: the article of the next ORG.
TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("PER", "trabaja", "en", "DET", "ORG", "."),
    ("PER", "vive", "en", "LOC", "desde", "hace", "años", "."),
    ("PER", "viajó", "a", "LOC", "para", "ver", "MISC", "."),
    ("DET", "ORG", "abrió", "una", "sede", "en", "LOC", "."),
    ("PER", "y", "PER", "hablaron", "de", "MISC", "en", "LOC", "."),
    ("Ayer", ",", "PER", "visitó", "LOC", "con", "un", "amigo", "de", "DET", "ORG", "."),
    ("¿", "Conoces", "a", "PER", "?"),
    ("Según", "PER", ",", "DET", "ORG", "de", "LOC", "es", "conocida", "."),
)


@dataclass
class NerSentence:
    """`entities` are (start, end, label) token spans, end exclusive, matching `tags`."""

    tokens: list[str]
    tags: list[str]
    entities: list[tuple[int, int, str]]


def _entity(rng: np.random.Generator, label: str) -> tuple[str, ...]:
    if label == "PER":
        first = lx.FIRST_NAMES[int(rng.integers(len(lx.FIRST_NAMES)))][0]
        if rng.random() < 0.6:
            return first, lx.SURNAMES[int(rng.integers(len(lx.SURNAMES)))]
        return (first,)
    if label == "LOC":
        places = [c.name for c in lx.COUNTRIES] + [c.capital for c in lx.COUNTRIES] + list(lx.CITIES)
        return (places[int(rng.integers(len(places)))],)
    table = lx.ORGANIZATIONS if label == "ORG" else lx.MISC_ENTITIES
    return table[int(rng.integers(len(table)))]


def ner_sentences(rng: np.random.Generator, n: int) -> list[NerSentence]:
    out = []
    for _ in range(n):
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        tokens: list[str] = []
        tags: list[str] = []
        entities = []
        org = _entity(rng, "ORG")  # at most one ORG per template; DET agrees with it
        for slot in template:
            if slot == "DET":
                art = "la" if ORG_GENDER[org[0]] == "f" else "el"
                if tokens and tokens[-1] == "de" and art == "el":
                    tokens[-1] = "del"  # de + el = del
                    continue
                tokens.append(art.capitalize() if not tokens else art)
                tags.append("O")
            elif slot in LABELS:
                words = org if slot == "ORG" else _entity(rng, slot)
                entities.append((len(tokens), len(tokens) + len(words), slot))
                tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(words) - 1)
                tokens += words
            else:
                tokens.append(slot)
                tags.append("O")
        out.append(NerSentence(tokens, tags, entities))
    return out


def spans_from_bio(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, label) spans of a BIO sequence; an I- without its B- starts a span (CoNLL)."""
    spans: list[tuple[int, int, str]] = []
    start, label = None, None
    for i, tag in enumerate([*tags, "O"]):
        if start is not None and (tag == "O" or tag.startswith("B-") or tag[2:] != label):
            spans.append((start, i, label))
            start, label = None, None
        if tag != "O" and start is None:
            start, label = i, tag[2:]
    return spans
