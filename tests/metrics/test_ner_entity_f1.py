"""Entity-level NER scores: conlleval's reading of BIO, golden numbers."""

from __future__ import annotations

import pytest

from lmlab.errors import DataError
from lmlab.metrics.ner import bio_entities, entity_f1


def test_bio_entities_follow_conlleval():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "B-ORG", "I-PER"]
    assert bio_entities(tags) == [("PER", 0, 2), ("LOC", 3, 5), ("LOC", 5, 6), ("ORG", 6, 7),
                                  ("PER", 7, 8)]
    assert bio_entities(["O", "O"]) == []


def test_entity_f1_golden_numbers():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O"]]
    r = entity_f1(gold, pred)
    # gold: PER, LOC, ORG(0-3); predicted: PER, ORG(3), ORG(0-2) -> 1 correct of 3 and 3.
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == pytest.approx(1 / 3)
    assert r["f1"] == pytest.approx(1 / 3)
    assert r["per_type"]["PER"]["f1"] == 1.0 and r["per_type"]["LOC"]["recall"] == 0.0
    assert entity_f1([["O"]], [["O"]])["f1"] == 0.0


def test_mismatched_lengths_are_data_errors():
    with pytest.raises(DataError, match="sentence 0"):
        entity_f1([["O", "O"]], [["O"]])
    with pytest.raises(DataError, match="gold sentences"):
        entity_f1([["O"]], [])
