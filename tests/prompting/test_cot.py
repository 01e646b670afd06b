"""Chain of thought: answer extraction on tricky strings, and seeded self-consistency."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError
from lmlab.prompting import TRIGGERS, cot_prompt, extract_answer, last_number, self_consistency
from lmlab.prompting.cot import format_number, majority_vote, numbers


@pytest.mark.parametrize("text, value", [
    ("Tenía 1.234,5 pesos y gastó 34. Le quedan 1.200,5 pesos.", 1200.5),   # Spanish marks
    ("The total is 1,234.5 dollars", 1234.5),                                # English marks
    ("Son 1.234.567 habitantes.", 1234567),                                  # repeated thousands mark
    ("Pagó 12,000 en total", 12000),
    ("La mitad es 3,5 kg", 3.5),
    ("about 0.125 of it", 0.125),
    ("La temperatura bajó a -3 grados.", -3),
    ("x = −7,5.", -7.5),                                                     # Unicode minus
    ("del 2-3 de mayo", 3),                                                  # a range, not -3
    ("Compra una casa de $80 000 y gana 70 000.", 70000),                    # spaces (MGSM)
    ("Respuesta: 42.", 42),
    ("sin números", None),
])
def test_last_number(text, value):
    got = last_number(text)
    assert got == value and type(got) is type(value)


def test_decimal_mark_can_be_forced_and_numbers_are_formatted():
    assert last_number("mide 1.234 m", decimal=".") == 1.234
    assert last_number("mide 1.234 m") == 1234
    assert last_number("1,5", decimal=".") == 15  # a thousands comma when the decimal is "."
    assert numbers("3 manzanas y 4,5 peras") == [3, 4.5]
    assert format_number(18.0) == "18" and format_number(-3) == "-3" and format_number(2.5) == "2.5"


@pytest.mark.parametrize("text, answer", [
    ("5 + 3 = 8, menos 2 son 6. La respuesta es 6.", "6"),
    ("Primero 10, luego 20. La respuesta es 1.234,5 euros. Comprobación: 3", "1234.5"),
    ("The answer is 1,234 apples. Then 7 more.", "1234"),
    ("la respuesta final es: -4", "-4"),
    ("Natalia vendió 48 clips en abril y 24 en mayo: 72 en total.", "72"),  # no phrase: last number
    ("#### 72", "72"),
    ("No lo sé.", None),
])
def test_extract_answer(text, answer):
    assert extract_answer(text) == answer


def test_extract_answer_as_text_and_the_prompt():
    assert extract_answer("Pensemos... La respuesta es París.", numeric=False) == "París"
    prompt = cot_prompt("¿Cuánto es 2 + 2?")
    assert prompt == "Pregunta: ¿Cuánto es 2 + 2?\nRespuesta: Pensemos paso a paso."
    assert TRIGGERS["en"] in cot_prompt("2 + 2?", lang="en")
    few = cot_prompt("¿3 + 1?", demonstrations=[("¿1 + 1?", "1 más 1 son 2. La respuesta es 2.")])
    assert few.startswith("Pregunta: ¿1 + 1?\nRespuesta: 1 más 1 son 2. La respuesta es 2.\n\nPregunta: ¿3 + 1?")
    with pytest.raises(ConfigError, match=r"\[X\]"):
        cot_prompt("q", template="sin ranura")


def test_majority_vote_ties_go_to_the_first_answer():
    assert majority_vote(["8", "7", "7", "8", None]) == ("8", {"8": 2, "7": 2})
    assert majority_vote(["3", None, "5", "5"]) == ("5", {"3": 1, "5": 2})
    assert majority_vote([None, None]) == (None, {})


WORDS = ["La", "respuesta", "es", "7", "8", "."]


def test_self_consistency_on_a_model_with_known_text(make_script_lm):
    fixed = make_script_lm([{"La": 1.0}, {"respuesta": 1.0}, {"es": 1.0}, {"7": 1.0}, {".": 1.0},
                            {"</s>": 1.0}], WORDS)
    result = self_consistency(fixed, cot_prompt("¿Cuánto es 3 + 4?"), k=5, seed=0)
    assert [c.strip() for c in result.chains] == ["La respuesta es 7 ."] * 5
    assert result.answer == "7" and result.votes == {"7": 5} and result.answers == ["7"] * 5


def test_self_consistency_is_reproducible_with_a_seed_and_votes_correctly(make_script_lm):
    mixed = make_script_lm([{"La": 1.0}, {"respuesta": 1.0}, {"es": 1.0}, {"7": 0.5, "8": 0.5}, {".": 1.0},
                            {"</s>": 1.0}], WORDS)
    prompt = cot_prompt("¿Cuánto es 3 + 4?")
    a = self_consistency(mixed, prompt, k=9, seed=3, temperature=1.0)
    b = self_consistency(mixed, prompt, k=9, seed=3, temperature=1.0)
    assert a.chains == b.chains and a.votes == b.votes and a.answer == b.answer
    assert sum(a.votes.values()) == 9 and set(a.votes) <= {"7", "8"}
    assert a.answers == [c.split()[3] for c in a.chains]
    assert a.answer == majority_vote(a.answers)[0] and a.votes[a.answer] >= 5
    runs = {tuple(self_consistency(mixed, prompt, k=9, seed=s, temperature=1.0).answers) for s in range(4)}
    assert len(runs) > 1  # other seeds sample other chains
