"""Reviews, entities, question answering, instructions, preferences and images: labels agree
with the text (or the pixels), computed here independently of the generators."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lmlab.data.world import World
from lmlab.data.world import lexicon as lx
from lmlab.data.world.images import COLOURS, SHAPES
from lmlab.data.world.instruct import TASKS
from lmlab.data.world.ner import spans_from_bio
from lmlab.data.world.reviews import POLARITY
from lmlab.errors import ConfigError


@pytest.fixture(scope="module")
def world():
    return World(11)


def _sentiment(text: str) -> int:
    """The clause after the last "pero" decides; "no" flips the adjective's polarity."""
    tokens = text.lower().split()
    clause = tokens[len(tokens) - tokens[::-1].index("pero"):] if "pero" in tokens else tokens
    polarity = next(POLARITY[t] for t in clause if t in POLARITY)
    return int((-polarity if "no" in clause else polarity) > 0)


def test_review_labels_follow_negation_and_order(world):
    items = world.reviews(400)
    assert all(r.label == _sentiment(r.text) for r in items)
    assert {r.kind for r in items} == {"simple", "negation", "contrast"}
    pairs: dict[int, list] = {}
    for r in items:
        if r.pair_id is not None:
            pairs.setdefault(r.pair_id, []).append(r)
    complete = [p for p in pairs.values() if len(p) == 2]
    assert len(complete) > 50
    for a, b in complete:  # same bag of words, opposite labels: bag-of-words is at chance
        assert Counter(a.text.lower().split()) == Counter(b.text.lower().split())
        assert a.label != b.label
    assert 0.35 < sum(r.label for r in items) / len(items) < 0.65


def test_ner_bio_tags_line_up_with_entities(world):
    people = {n for n, _ in lx.FIRST_NAMES} | set(lx.SURNAMES)
    places = {c.name for c in lx.COUNTRIES} | {c.capital for c in lx.COUNTRIES} | set(lx.CITIES)
    orgs, misc = {tuple(o) for o in lx.ORGANIZATIONS}, {tuple(m) for m in lx.MISC_ENTITIES}
    seen = Counter()
    for s in world.ner_sentences(300):
        assert len(s.tokens) == len(s.tags)
        assert spans_from_bio(s.tags) == s.entities
        for start, end, label in s.entities:
            words = tuple(s.tokens[start:end])
            seen[label] += 1
            if label == "PER":
                assert set(words) <= people and 1 <= len(words) <= 2
            elif label == "LOC":
                assert len(words) == 1 and words[0] in places
            else:
                assert words in (orgs if label == "ORG" else misc)
        assert "de el" not in " ".join(s.tokens)
    assert set(seen) == {"PER", "LOC", "ORG", "MISC"}


def test_spans_from_bio_follows_conll():
    assert spans_from_bio(["B-PER", "I-PER", "O", "I-LOC", "B-ORG", "B-ORG"]) == [
        (0, 2, "PER"), (3, 4, "LOC"), (4, 5, "ORG"), (5, 6, "ORG")]


def test_qa_answers_are_in_the_tagged_documents(world):
    docs = {d.id: d for d in world.documents(40)}
    assert len(docs) == 40 + len(lx.COUNTRIES)
    titles = [d.title for d in docs.values() if d.id.startswith("persona")]
    assert len(set(titles)) == len(titles) == 40
    items = world.qa(300, n_people=40)
    for q in items:
        assert q.doc_id in q.doc_ids and q.answer in docs[q.doc_id].text.split(" . ")[0] + docs[q.doc_id].text
        for doc_id in q.doc_ids:
            assert doc_id in docs
        if q.relation == "capital-de-nacimiento":
            person = next(t for t in titles if t in q.question)
            assert person in docs[q.doc_ids[0]].text and q.answer in docs[q.doc_ids[1]].text
        elif q.doc_id.startswith("persona"):
            # the person named in the question is described by that document and no other
            assert docs[q.doc_id].title in q.question
            assert sum(docs[q.doc_id].title in d.text for d in docs.values()) == 1
    assert Counter(q.relation for q in items)["capital-de-nacimiento"] > 10
    facts = world.facts(40)
    assert all(f.object in docs[f.doc_id].text for f in facts)
    with pytest.raises(ConfigError):
        world.documents(10_000)


def test_instructions_and_preferences_are_decidable(world):
    inst = world.instructions(80)
    assert {i.task for i in inst} == set(TASKS)
    capitals = {c.name: c.capital for c in lx.COUNTRIES}
    for i in inst:
        if i.task == "capital":
            assert i.output == capitals[i.input.split()[-2]]
        if i.task == "plural":
            assert i.output.split()[0] in ("Los", "Las") and i.input.split()[0] in ("El", "La")
    plural_verbs = {v.pl for v in lx.VERBS}
    for p in world.preferences(80):
        assert p.chosen != p.rejected and p.prompt.count("\n\n") == 1
        if p.task == "plural":
            words = p.rejected.split()
            assert not any(w in plural_verbs for w in words)  # the flaw: the verb stays singular
            assert any(w in plural_verbs for w in p.chosen.split())
        if p.task == "femenino":
            assert p.chosen.split()[0] == "La" and p.rejected.split()[0] == "El"
        if p.task == "sentimiento":
            label = _sentiment(p.prompt.split("\n\n")[1])
            assert p.chosen == ("positiva" if label else "negativa")


def test_images_match_their_captions(world):
    from scipy import ndimage
    colour_of = {rgb: name for name, (rgb, *_) in COLOURS.items()}
    for item in world.images(40):
        img = item.image
        assert img.shape == (48, 48, 3) and img.dtype == np.uint8
        for name, (rgb, *_) in COLOURS.items():
            mask = np.all(img == rgb, axis=-1)
            _, n_objects = ndimage.label(mask)
            assert n_objects == sum(g.count for g in item.groups if g.colour == name), item.caption_es
        for g in item.groups:
            mask = np.all(img == COLOURS[g.colour][0], axis=-1)
            ys, xs = np.nonzero(mask)
            if g.position == "izquierda":
                assert xs.max() < 24
            elif g.position == "derecha":
                assert xs.min() >= 24
            elif g.position == "arriba":
                assert ys.max() < 24
            elif g.position == "abajo":
                assert ys.min() >= 24
            es_noun = SHAPES[g.shape][1 if g.count == 1 else 2]
            assert es_noun in item.caption_es.split()
        assert set(map(tuple, img.reshape(-1, 3))) <= set(colour_of) | {(0, 0, 0)}
    with pytest.raises(ConfigError):
        world.images(1, size=8)
