"""A fact base, the documents that state it, and questions whose answers carry the document id
(ground truth for retrieval, reading comprehension and RAG; cf. SQuAD, Rajpurkar et al. 2016,
and Lewis et al. 2020 for retrieval-augmented generation).

Documents: one per country ("Francia es un país de Europa . Su capital es París . En Francia se
habla francés .") and one per person, with a unique full name, a profession, a city, a country of
birth (and so a language) and a workplace. Questions ask for one fact ("¿Dónde vive Lucía
García?" -> "Sevilla", in `persona-0003`) or two ("¿Cuál es la capital del país donde nació
Lucía García?" -> needs the person's and the country's documents: `doc_ids`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.data.world import lexicon as lx
from lmlab.errors import ConfigError


@dataclass
class Document:
    id: str
    title: str
    text: str


@dataclass
class Fact:
    """subject relation object, stated in document `doc_id`."""

    subject: str
    relation: str
    object: str
    doc_id: str


@dataclass
class QAItem:
    """`doc_id` holds the answer; `doc_ids` every document needed (two for multi-hop questions)."""

    question: str
    answer: str
    doc_id: str
    doc_ids: list[str]
    relation: str


def _country_doc_id(i: int) -> str:
    return f"país-{i:04d}"


def knowledge_base(rng: np.random.Generator, n_people: int = 100) -> tuple[list[Document], list[Fact]]:
    """Country and person documents and the facts they state."""
    names = [(f, g, s) for f, g in lx.FIRST_NAMES for s in lx.SURNAMES]
    if not 0 <= n_people <= len(names):
        raise ConfigError(f"n_people={n_people} is not valid", fix=f"use 0..{len(names)} (unique full names)")
    docs, facts = [], []
    for i, c in enumerate(lx.COUNTRIES):
        doc = _country_doc_id(i)
        docs.append(Document(doc, c.name, f"{c.name} es un país . Su capital es {c.capital} . "
                                          f"En {c.name} se habla {c.language} ."))
        facts += [Fact(c.name, "capital", c.capital, doc), Fact(c.name, "idioma", c.language, doc)]
    cities = list(lx.CITIES) + [c.capital for c in lx.COUNTRIES]
    professions = [p for p in lx.PERSONS if p.topic != "familia"]
    for k, j in enumerate(rng.choice(len(names), size=n_people, replace=False)):
        first, g, surname = names[int(j)]
        name = f"{first} {surname}"
        doc = f"persona-{k:04d}"
        pair = professions[int(rng.integers(len(professions)))]
        job = pair.m_sg if g == "m" else pair.f_sg
        city = cities[int(rng.integers(len(cities)))]
        ci = int(rng.integers(len(lx.COUNTRIES)))
        country = lx.COUNTRIES[ci]
        org = " ".join(lx.ORGANIZATIONS[int(rng.integers(len(lx.ORGANIZATIONS)))])
        text = (f"{name} es {'un' if g == 'm' else 'una'} {job} . Vive en {city} . "
                f"Nació en {country.name} , por eso habla {country.language} . Trabaja en {org} .")
        docs.append(Document(doc, name, text))
        facts += [Fact(name, "profesión", job, doc), Fact(name, "ciudad", city, doc),
                  Fact(name, "país", country.name, doc), Fact(name, "idioma", country.language, doc),
                  Fact(name, "trabajo", org, doc)]
    return docs, facts


QUESTIONS = {
    "profesión": "¿ Cuál es la profesión de {} ?",
    "ciudad": "¿ Dónde vive {} ?",
    "país": "¿ En qué país nació {} ?",
    "idioma": "¿ Qué idioma habla {} ?",
    "trabajo": "¿ Dónde trabaja {} ?",
    "capital": "¿ Cuál es la capital de {} ?",
}


def qa_items(rng: np.random.Generator, docs: list[Document], facts: list[Fact], n: int,
             p_multi_hop: float = 0.15) -> list[QAItem]:
    """`n` questions drawn from the facts; a share are two-hop (person -> country -> capital)."""
    if not facts:
        raise ConfigError("the fact base is empty", fix="use n_people >= 0 and the default countries")
    country_doc = {f.subject: f.doc_id for f in facts if f.relation == "capital"}
    capital = {f.subject: f.object for f in facts if f.relation == "capital"}
    births = [f for f in facts if f.relation == "país"]
    out = []
    for _ in range(n):
        if births and rng.random() < p_multi_hop:
            f = births[int(rng.integers(len(births)))]
            out.append(QAItem(f"¿ Cuál es la capital del país donde nació {f.subject} ?", capital[f.object],
                              country_doc[f.object], [f.doc_id, country_doc[f.object]], "capital-de-nacimiento"))
            continue
        f = facts[int(rng.integers(len(facts)))]
        question = ("¿ Qué idioma se habla en {} ?" if f.relation == "idioma" and f.doc_id.startswith("país")
                    else QUESTIONS[f.relation]).format(f.subject)
        out.append(QAItem(question, f.object, f.doc_id, [f.doc_id], f.relation))
    return out
