"""Templates, verbalisers and answer search on a bigram model whose probabilities are known."""

from __future__ import annotations

import math

import pytest

from lmlab.errors import ConfigError, DataError
from lmlab.prompting import PromptTemplate, Verbalizer, answer_search, classify
from lmlab.prompting.answers import logsumexp


# ---------------------------------------------------------------- templates
def test_fill_with_and_without_answer():
    t = PromptTemplate("[X] En general, la película me pareció [Z]")
    x = "Los actores eran excelentes."
    assert t.fill(x, "buena") == "Los actores eran excelentes. En general, la película me pareció buena"
    assert t.fill(x) + "buena" == t.fill(x, "buena")
    assert t.inputs == ("X",) and t.has_answer and t.answer_at_end


def test_named_slots_fill_from_sequence_or_mapping():
    t = PromptTemplate("Premisa: [X1] Hipótesis: [X2] ¿Es verdad? [Z]")
    assert t.inputs == ("X1", "X2")
    by_list = t.fill(["Llueve.", "El suelo está mojado."], "sí")
    assert by_list == t.fill({"X1": "Llueve.", "X2": "El suelo está mojado."}, "sí")
    assert by_list == "Premisa: Llueve. Hipótesis: El suelo está mojado. ¿Es verdad? sí"


def test_values_are_not_read_as_slots_and_other_brackets_are_text():
    t = PromptTemplate("[CLS] [X] [MASK] [Z]")
    assert t.fill("tiene [Z] y [X]", "z") == "[CLS] tiene [Z] y [X] [MASK] z"


def test_template_without_answer_slot_gets_the_delimiter():
    t = PromptTemplate("Pregunta: [X]\nRespuesta:")
    assert not t.has_answer
    assert t.with_answer(" ").fill("¿2+2?", "4") == "Pregunta: ¿2+2?\nRespuesta: 4"


@pytest.mark.parametrize("text, missing", [("En general fue [Z]", "[X]"), ("Sin ranuras", "[X]")])
def test_template_without_input_slot_is_a_one_line_error(text, missing, single_line):
    with pytest.raises(ConfigError) as info:
        PromptTemplate(text)
    assert missing in str(info.value) and repr(text) in str(info.value) and single_line(info.value)


def test_answer_search_needs_z_and_z_at_the_end_for_causal_lms(single_line):
    with pytest.raises(ConfigError, match=r"no answer slot \[Z\]") as info:
        PromptTemplate("[X] fue").require_answer()
    assert "'[X] fue'" in str(info.value) and single_line(info.value)
    cloze = PromptTemplate("[X] fue [Z] .")
    with pytest.raises(ConfigError, match="must end the template") as info:
        cloze.require_answer(causal=True)
    assert "causal" in str(info.value) and single_line(info.value)
    assert cloze.require_answer(causal=False) is cloze  # masked LMs: [Z] anywhere


def test_bad_slot_use_is_an_error():
    with pytest.raises(ConfigError, match="twice"):
        PromptTemplate("[X] y [X] [Z]")
    with pytest.raises(ConfigError, match="mixes"):
        PromptTemplate("[X] y [X1] [Z]")
    with pytest.raises(ConfigError, match="one text"):
        PromptTemplate("[X1] [X2] [Z]").fill("solo uno")
    with pytest.raises(ConfigError, match=r"\[X2\]"):
        PromptTemplate("[X1] [X2] [Z]").fill({"X1": "a"})


# ---------------------------------------------------------------- verbalisers
def test_verbalizer_maps_many_answers_to_one_label():
    v = Verbalizer({"+": ["buena", "bacán"], "-": ["mala", "horrible"]})
    assert v.answers == ("buena", "bacán", "mala", "horrible") and v.labels == ("+", "-")
    assert v.label_of("bacán") == "+" and v.label_of("horrible") == "-"
    scores = {"buena": -3.0, "bacán": -1.0, "mala": -2.0, "horrible": -2.5}
    assert v.label_scores(scores) == {"+": -1.0, "-": -2.0}
    assert v.predict(scores) == "+"
    assert v.predict([-3.0, -4.0, -2.0, -9.0]) == "-"  # aligned with .answers
    lse = Verbalizer(v.to_dict(), reduce="logsumexp").label_scores(scores)
    assert lse["+"] == pytest.approx(math.log(math.exp(-3) + math.exp(-1)))
    assert logsumexp([-math.inf, -math.inf]) == -math.inf


def test_verbalizer_errors(single_line):
    for bad, pattern in [({}, "empty"), ({"+": []}, "no answers"), ({"+": [""]}, "empty"),
                         ({"+": ["buena"], "-": ["buena"]}, "under the labels '\\+' and '-'"),
                         ({"+": ["buena", "buena"]}, "twice")]:
        with pytest.raises(ConfigError, match=pattern) as info:
            Verbalizer(bad)
        assert single_line(info.value)
    with pytest.raises(ConfigError, match="empty"):
        Verbalizer.from_answers([])
    with pytest.raises(DataError, match="not in the answer space"):
        Verbalizer({"+": ["a"]}).label_of("b")


# ---------------------------------------------------------------- answer search
def test_answer_search_picks_the_argmax_of_hand_computed_probabilities(bigram):
    t = PromptTemplate("[X] fue [Z]")
    answers = ["mala", "buena", "terrible", "muy buena", "horrible"]
    found = answer_search(bigram, t, "la película", answers)
    assert found.best == "buena"
    want = {"mala": math.log(1 / 6), "buena": math.log(1 / 3), "terrible": math.log(1 / 6),
            "muy buena": math.log(1 / 6) + math.log(1.0), "horrible": -math.inf}  # unseen word
    for a, lp in want.items():
        assert found.scores[a] == pytest.approx(lp, abs=1e-6)
    # per character, the longer answer wins: log(1/6)/9 > log(1/3)/5
    assert answer_search(bigram, t, "la película", answers, score="per_char").best == "muy buena"


def test_classify_maps_the_best_answer_to_its_label(bigram):
    v = Verbalizer({"positivo": ["buena", "bacán"], "negativo": ["mala", "terrible"]})
    (pred,) = classify(bigram, "[X] fue [Z]", v, ["la comida"])
    assert pred.label == "positivo"
    assert pred.scores["positivo"] == pytest.approx(math.log(1 / 3), abs=1e-6)
    assert pred.scores["negativo"] == pytest.approx(math.log(1 / 6), abs=1e-6)
    assert pred.probs["positivo"] == pytest.approx((1 / 3) / (1 / 3 + 1 / 6))
