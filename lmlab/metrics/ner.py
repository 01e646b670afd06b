"""Entity-level precision, recall and F1 for BIO tags, as the CoNLL shared tasks score NER
(Tjong Kim Sang, 2002; the `conlleval` script).

An entity is a maximal span B-X I-X ... I-X; an I-X that does not continue an X entity starts a new
one (conlleval's reading). A predicted entity counts only when its type and both boundaries equal a
gold one; scores are micro-averaged over all entities, and per type.

    >>> entity_f1([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])["f1"]
    0.5
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from lmlab.errors import DataError


def bio_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities (type, start, end) with end exclusive, from one sentence's BIO tags."""
    out: list[tuple[str, int, int]] = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if kind is not None and not continues:
            out.append((kind, start, i))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues):
            kind, start = label, i
    return out


def entity_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Micro precision/recall/F1 over entities, plus the same per type under "per_type"."""
    if len(gold) != len(predicted):
        raise DataError(f"{len(gold)} gold sentences but {len(predicted)} predicted",
                        fix="predict one tag sequence per gold sentence")
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise DataError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted",
                            fix="predict one tag per token")
        ge, pe = set(bio_entities(g)), set(bio_entities(p))
        for kind, *_ in ge:
            n_gold[kind] += 1
        for kind, *_ in pe:
            n_pred[kind] += 1
        for kind, *_ in ge & pe:
            tp[kind] += 1

    def prf(t: int, ng: int, np_: int) -> dict[str, float]:
        precision = t / np_ if np_ else 0.0
        recall = t / ng if ng else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": ng}

    result = prf(sum(tp.values()), sum(n_gold.values()), sum(n_pred.values()))
    result["per_type"] = {k: prf(tp[k], n_gold[k], n_pred[k]) for k in sorted(n_gold | n_pred)}
    return result
