"""Instruction data (instruction, input, output) and preference pairs (prompt, chosen, rejected)
whose preferred answer is decidable from the world (for SFT, reward models and DPO; cf. the
Alpaca format, Taori et al. 2023, and Rafailov et al. 2023 for DPO).

Every example is built with its correct answer and one characteristic wrong answer: a
translation of another meaning, a plural with broken agreement ("Los médicos estudia"), a
feminine subject with a masculine article ("El médica"), a wrong capital or language, the
opposite sentiment, another topic, or a fact about someone else. `flaw` names the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lmlab.data.world import lexicon as lx
from lmlab.data.world.qa import QUESTIONS, knowledge_base
from lmlab.data.world.realize import Clause, sample_clause
from lmlab.data.world.reviews import reviews
from lmlab.data.world.topics import topic_documents

TASKS = ("traducción", "plural", "femenino", "capital", "idioma", "sentimiento", "tema", "pregunta")


@dataclass
class Instruction:
    instruction: str
    input: str
    output: str
    task: str


@dataclass
class Preference:
    prompt: str
    chosen: str
    rejected: str
    task: str
    flaw: str


@dataclass
class _Example:
    instruction: str
    input: str
    output: str
    rejected: str
    flaw: str
    task: str


def _other(rng: np.random.Generator, items: list[str], not_this: str) -> str:
    rest = [x for x in items if x != not_this]
    return rest[int(rng.integers(len(rest)))]


def _text(tokens: list[str]) -> str:
    return " ".join(tokens)


def _swap_word(tokens: list[str], old: str, new: str) -> list[str]:
    i = tokens.index(old)
    return [*tokens[:i], new, *tokens[i + 1:]]


def _example(rng: np.random.Generator, task: str) -> _Example:
    if task == "traducción":
        c = sample_clause(rng)
        wrong = replace(c, obj=_other_index(rng, len(lx.OBJECTS), c.obj))
        return _Example("Traduce la frase al inglés.", _text(c.es()), _text(c.en()), _text(wrong.en()),
                        "otro significado", task)
    if task in ("plural", "femenino"):
        c: Clause = replace(sample_clause(rng), number="sg", obj_number="sg", gender="m", definite=True)
        if task == "plural":
            good = replace(c, number="pl", obj_number="pl").es()
            v = lx.VERBS[c.verb]
            bad = _swap_word(good, v.pl, v.sg)
            return _Example("Pon la frase en plural.", _text(c.es()), _text(good), _text(bad),
                            "concordancia verbal", task)
        p = lx.PERSONS[c.subject]
        good = replace(c, gender="f").es()
        bad = _swap_word(c.es(), p.m_sg, p.f_sg)
        return _Example("Cambia el sujeto a femenino.", _text(c.es()), _text(good), _text(bad),
                        "concordancia de género", task)
    if task in ("capital", "idioma"):
        k = lx.COUNTRIES[int(rng.integers(len(lx.COUNTRIES)))]
        if task == "capital":
            return _Example("Responde con una palabra.", f"¿ Cuál es la capital de {k.name} ?", k.capital,
                            _other(rng, [c.capital for c in lx.COUNTRIES], k.capital), "dato falso", task)
        return _Example("Responde con una palabra.", f"¿ Qué idioma se habla en {k.name} ?", k.language,
                        _other(rng, [c.language for c in lx.COUNTRIES], k.language), "dato falso", task)
    if task == "sentimiento":
        r = reviews(rng, 1)[0]
        good = "positiva" if r.label == 1 else "negativa"
        return _Example("¿La reseña es positiva o negativa? Responde con una palabra.", r.text, good,
                        "negativa" if r.label == 1 else "positiva", "sentimiento opuesto", task)
    if task == "tema":
        d = topic_documents(rng, 1, p_single=1.0)[0]
        return _Example("¿De qué tema trata el texto? Responde con una palabra.", d.text, d.topic,
                        _other(rng, list(lx.TOPICS), d.topic), "otro tema", task)
    docs, facts = knowledge_base(rng, 2)
    person = [f for f in facts if f.doc_id == docs[-1].id]
    other = [f for f in facts if f.doc_id == docs[-2].id]
    f = person[int(rng.integers(len(person)))]
    wrong = next(x.object for x in other if x.relation == f.relation)
    if wrong == f.object:
        wrong = _other(rng, sorted({x.object for x in facts if x.relation == f.relation} | {"nadie"}), f.object)
    question = QUESTIONS[f.relation].format(f.subject)
    return _Example("Responde a la pregunta con el documento.", f"{docs[-1].text}\n{question}", f.object,
                    wrong, "dato de otra persona", "pregunta")


def _other_index(rng: np.random.Generator, n: int, not_this: int) -> int:
    return (not_this + 1 + int(rng.integers(n - 1))) % n


def instructions(rng: np.random.Generator, n: int, tasks: tuple[str, ...] = TASKS) -> list[Instruction]:
    """`n` examples, tasks in turn (so every task occurs)."""
    out = []
    for i in range(n):
        e = _example(rng, tasks[i % len(tasks)])
        out.append(Instruction(e.instruction, e.input, e.output, e.task))
    return out


def preferences(rng: np.random.Generator, n: int, tasks: tuple[str, ...] = TASKS) -> list[Preference]:
    """`n` pairs: the prompt is the instruction, a blank line and the input."""
    out = []
    for i in range(n):
        e = _example(rng, tasks[i % len(tasks)])
        out.append(Preference(f"{e.instruction}\n\n{e.input}", e.output, e.rejected, e.task, e.flaw))
    return out
