"""Sentence splitting: abbreviations, decimals, initials, ellipses, ¿? ¡!, quotes, streaming."""

from __future__ import annotations

import pytest

from lmlab.text.sentences import iter_sentences, sentence_spans, split_sentences


@pytest.mark.parametrize(("text", "sentences"), [
    ("Hola. Adiós.", ["Hola.", "Adiós."]),
    ("El Sr. García y la Dra. Pérez llegaron. Luego cenamos.",
     ["El Sr. García y la Dra. Pérez llegaron.", "Luego cenamos."]),
    ("Los EE. UU. son grandes. Viajé a EE. UU. Luego fui a Canadá.",
     ["Los EE. UU. son grandes.", "Viajé a EE. UU.", "Luego fui a Canadá."]),
    ("Compré pan, leche, etc. Luego volví.", ["Compré pan, leche, etc.", "Luego volví."]),
    ("Cuesta 3.5 euros o 3,5 €. Mira la pág. 5. Fin", ["Cuesta 3.5 euros o 3,5 €.", "Mira la pág. 5.", "Fin"]),
    ("J. R. R. Tolkien escribió. Yo leí.", ["J. R. R. Tolkien escribió.", "Yo leí."]),
    ("Llegó a las 5 p.m. y se fue.", ["Llegó a las 5 p.m. y se fue."]),
    ("Era de noche... Todo estaba oscuro... y frío.", ["Era de noche...", "Todo estaba oscuro... y frío."]),
    ("Pues… no sé. Vale.", ["Pues… no sé.", "Vale."]),
    ("¿Vienes? ¡Claro! ¡¿En serio?! Sí.", ["¿Vienes?", "¡Claro!", "¡¿En serio?!", "Sí."]),
    ("—¿Vienes? —preguntó ella. ¿Vienes?, dijo.", ["—¿Vienes? —preguntó ella.", "¿Vienes?, dijo."]),
    ("Dijo: «Ven aquí.» Y se fue.", ["Dijo: «Ven aquí.»", "Y se fue."]),
    ('He said "Stop." Then he left. Dr. Smith agreed!', ['He said "Stop."', "Then he left.", "Dr. Smith agreed!"]),
    ("En 2020. 2021 fue mejor.", ["En 2020.", "2021 fue mejor."]),
    ("sin punto final", ["sin punto final"]),
    ("", []),
    ("   \n\n  ", []),
])
def test_split(text, sentences):
    assert split_sentences(text) == sentences


def test_blank_lines_end_sentences_and_wrapped_lines_join():
    text = "En un lugar de la Mancha,\nde cuyo nombre no quiero\nacordarme\n\nNo ha mucho tiempo."
    assert split_sentences(text) == [
        "En un lugar de la Mancha, de cuyo nombre no quiero acordarme", "No ha mucho tiempo."]
    raw = split_sentences(text, collapse_spaces=False)
    assert raw[0] == "En un lugar de la Mancha,\nde cuyo nombre no quiero\nacordarme"


def test_spans_point_into_the_text():
    text = "  Hola, Sr. Núñez.  ¿Qué tal?\n\n¡Bien! "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Hola, Sr. Núñez.", "¿Qué tal?", "¡Bien!"]


def test_iter_sentences_matches_split_and_streams_long_paragraphs():
    sentence = "El perro del Sr. Pérez ladra a las 3.30 h. ¿Por qué? "
    lines = [sentence * 50] * 60  # one paragraph of ~160 K characters, no blank line
    text = "\n".join(lines)
    assert list(iter_sentences(lines)) == split_sentences(text)
    assert list(iter_sentences(["Hola.", "", "Adiós. ¿Y tú?"])) == ["Hola.", "Adiós.", "¿Y tú?"]
