"""Invariants of the world's task generators: labels agree with the text."""

from __future__ import annotations

from collections import Counter

import pytest

from lmlab.data.world import World
from lmlab.data.world import lexicon as lx
from lmlab.data.world.pairs import similarity
from lmlab.data.world.realize import en_article, en_plural
from lmlab.errors import ConfigError


@pytest.fixture(scope="module")
def world():
    return World(7)


def test_english_plurals_and_articles():
    assert [en_plural(w) for w in ("woman", "waitress", "puppy", "day", "pastry chef", "box")] == [
        "women", "waitresses", "puppies", "days", "pastry chefs", "boxes"]
    assert en_article(False, "sg", "old") == "an" and en_article(False, "sg", "red") == "a"
    assert en_article(False, "pl", "old") == "some" and en_article(True, "pl", "old") == "the"


def test_parallel_pairs_agree_and_reorder(world):
    for pair in world.parallel(300):
        c, es, en = pair.clause, pair.es.split(), pair.en.split()
        p, o = lx.PERSONS[c.subject], lx.OBJECTS[c.obj]
        noun_es = getattr(p, f"{c.gender}_{c.number}")
        assert es[1] == noun_es
        # Spanish verb agrees in number; English verb too
        verb = lx.VERBS[c.verb]
        assert (verb.sg if c.number == "sg" else verb.pl) in es
        assert " ".join((verb.en if c.number == "sg" else verb.en_pl).split()) in pair.en
        # adjectives: after the noun in Spanish, in agreement; before the noun in English
        if c.obj_adj is not None:
            adj = lx.OBJECT_ADJECTIVES[c.obj_adj]
            form = adj.form(o.gender, c.obj_number)
            obj_es = o.sg if c.obj_number == "sg" else o.pl
            assert es.index(form, es.index(obj_es)) > es.index(obj_es)
            obj_en = (o.en if c.obj_number == "sg" else o.en_pl).split()[-1]
            assert en.index(adj.en) < en.index(obj_en, en.index(adj.en))
        if c.complement:
            assert f"de {lx.COMPLEMENTS[o.sg][0]}" in pair.es and lx.COMPLEMENTS[o.sg][1] in pair.en
        assert es[0][0].isupper() and en[0][0].isupper() and es[-1] == en[-1] == "."
    # both numbers and genders occur
    assert {(q.clause.gender, q.clause.number) for q in world.parallel(200)} == {
        ("m", "sg"), ("m", "pl"), ("f", "sg"), ("f", "pl")}


def test_topic_documents_labels_agree_with_text(world):
    docs = world.topic_documents(60)
    subject_topic = {}
    for p in lx.PERSONS:
        for form in (p.m_sg, p.m_pl, p.f_sg, p.f_pl):
            subject_topic[form] = p.topic
    for d in docs:
        assert abs(sum(d.mixture.values()) - 1) < 1e-5 and d.topic == max(d.mixture, key=d.mixture.get)
        assert len(d.sentences) == len(d.sentence_topics) and d.text == " ".join(d.sentences)
        for sentence, topic in zip(d.sentences, d.sentence_topics, strict=True):
            assert topic in d.mixture
            assert subject_topic[sentence.split()[1]] == topic
    assert len({d.id for d in docs}) == len(docs)
    kinds = Counter(len(d.mixture) for d in docs)
    assert kinds[1] > 0 and kinds[2] > 0


def test_sentence_pairs_grades_follow_meaning(world):
    pairs = world.sentence_pairs(400)
    grades = Counter(p.similarity for p in pairs)
    assert grades[5.0] > 0 and grades[0.0] > 0 and len(grades) >= 6
    for p in pairs:
        assert p.similarity == similarity(p.a_clause, p.b_clause)
        assert p.a == " ".join(p.a_clause.es()) and p.b == " ".join(p.b_clause.es())
        if p.is_next:
            assert p.a_clause.topic == p.b_clause.topic and p.a_clause.subject == p.b_clause.subject
    assert 0.15 < sum(p.is_next for p in pairs) / len(pairs) < 0.35


def test_task_generators_are_deterministic_and_check_sizes():
    assert [p.es for p in World(1).parallel(20)] == [p.es for p in World(1).parallel(20)]
    assert [p.es for p in World(1).parallel(20)] != [p.es for p in World(2).parallel(20)]
    with pytest.raises(ConfigError):
        World(0).parallel(-1)
