from __future__ import annotations

import pytest

from lmlab.apps.rag import NO_ANSWER, RagIndex, ask, build_prompt, chunk_documents
from lmlab.apps.rag.answer import cited_passages, render_prompt
from lmlab.models.ngram import NGramLM

SENTENCES = ["la capital de Francia es París [1] .", "Lucía vive en Sevilla [1] .",
             "Respuesta : París [1] ."] * 3


@pytest.fixture
def index(encoder, docs):
    idx = RagIndex(encoder, "hash-64")
    idx.add(chunk_documents(docs))
    return idx


@pytest.fixture
def lm():
    return NGramLM(order=2, smoothing="mle").fit(SENTENCES)


def test_prompt_numbers_the_passages(index):
    hits = index.search("capital de Francia", 2, "bm25")
    prompt = build_prompt("¿Cuál es la capital de Francia?", hits)
    assert "[1] (Francia) Francia es un país de Europa." in prompt
    assert prompt.rstrip().endswith("Pregunta: ¿Cuál es la capital de Francia?\nRespuesta:")
    assert NO_ANSWER in prompt


def test_ask_generates_streams_and_cites(index, lm):
    pieces = []
    answer = ask(index, "¿Cuál es la capital de Francia?", lm, k=3, mode="bm25", on_text=pieces.append,
                 max_new_tokens=12, strategy="greedy")
    assert answer.grounded and answer.text == "".join(pieces).strip()
    assert answer.cited == cited_passages(answer.text, 3)
    assert [h.chunk.doc_id for h in answer.sources()] == [answer.passages[i - 1].chunk.doc_id for i in answer.cited]


def test_low_scores_refuse_without_generating(index):
    class Boom:
        def __getattr__(self, name):
            raise AssertionError("the model must not be called")

    answer = ask(index, "¿Cuál es la capital de Francia?", Boom(), mode="dense", min_score=1.01)
    assert answer.text == NO_ANSWER and not answer.grounded and answer.cited == []
    answer = ask(index, "xilófono", Boom(), mode="bm25", min_score=0.1)
    assert answer.text == NO_ANSWER


def test_chat_template_is_used_when_the_model_has_one(lm):
    assert render_prompt(lm, "hola") == "hola"
    lm.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    assert render_prompt(lm, "hola") == "<user>hola<assistant>"


def test_cited_passages_keeps_valid_numbers_in_order():
    assert cited_passages("a [3] b [1] c [3] d [0] e [4]", 3) == [3, 1]
